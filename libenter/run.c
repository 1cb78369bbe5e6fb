/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * enter_run_plan(): fork pid 1 of a new pid namespace (ns.c), relay its
 * reports, the caller's signals and the terminal while it runs, and turn
 * its exit into a status.
 */
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>

#include "internal.h"

struct relay_state {
	bool report_open;
	bool report_lost;
	bool poll_failed; /* warned once */
	int pty_sock;	  /* until pid 1 sent the master, or -1 */
	struct pty_relay pty;
};

static void forward_signals(int sfd, int pidfd, struct relay_state *rs)
{
	struct signalfd_siginfo si;

	while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGWINCH)
			pty_relay_resize(&rs->pty);
		/* A terminal's signal reached the command itself. */
		if (si.ssi_code != SI_KERNEL)
			(void)pidfd_send_signal(pidfd, si.ssi_signo, NULL, 0);
	}
}

/* Relays reports, signals and the terminal until pid 1 exits; returns its
 * wait status. */
static int relay(struct enter_ctx *ctx, pid_t pid, int pidfd, int report_fd, int sfd,
		 struct relay_state *rs, struct enter_error **err)
{
	int wstatus = 0;
	pid_t w;

	for (;;) {
		struct pollfd p[4 + PTY_POLL_FDS] = {
			{.fd = pidfd, .events = POLLIN},
			{.fd = sfd, .events = POLLIN},
			{.fd = rs->report_open ? report_fd : -1, .events = POLLIN},
			{.fd = rs->pty_sock, .events = POLLIN},
		};

		pty_relay_poll_fds(&rs->pty, p + 4);

		if (poll(p, ELEMENTSOF(p), -1) < 0) {
			/* Leaving would stop the relay of signals and of the
			 * terminal while the command runs on: try again, after
			 * a pause (the kernel short of memory, say). */
			if (errno != EINTR) {
				if (!rs->poll_failed)
					log_msg(ctx, ENTER_LOG_WARNING, "poll: %s; trying again",
						errtext(errno));
				rs->poll_failed = true;
				(void)nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000},
						NULL);
			}
			continue;
		}
		if (p[2].revents) {
			int r = report_receive(report_fd, ctx, err);

			/* Records are lost, not the command: its status still
			 * comes from pid 1 (a 125 of its own is an error below). */
			if (r < 0) {
				log_msg(ctx, ENTER_LOG_WARNING,
					"unreadable report from the child: %s", errtext(-r));
				rs->report_lost = true;
			}
			if (r <= 0)
				rs->report_open = false;
		}
		if (p[3].revents) {
			int master = pty_receive_fd(rs->pty_sock);

			closep(&rs->pty_sock);
			if (master >= 0)
				pty_relay_start(&rs->pty, master);
		}
		if (!pty_relay_events(&rs->pty, p + 4))
			closep(&rs->pty.master);
		if (p[1].revents)
			forward_signals(sfd, pidfd, rs);
		if (p[0].revents)
			break;
	}

	while ((w = waitpid(pid, &wstatus, 0)) < 0 && errno == EINTR)
		;
	if (w < 0)
		error_set(err, errno, "wait", NULL, NULL, "pid 1 of the namespace: %s",
			  errtext(errno));
	pty_relay_stop(&rs->pty);
	/* Pid 1 is gone and with it every writer: read what is left. */
	while (rs->report_open && report_receive(report_fd, ctx, err) > 0)
		;
	return wstatus;
}

/* Forks pid 1 and relays until it exits; the forwarded signals are blocked
 * by the caller and read from @sfd. */
static int run_blocked(struct enter_ctx *ctx, const struct enter_plan *plan, int sfd, int *status,
		       struct enter_error **err)
{
	_cleanup_close_ int report_rd = -1, report_wr = -1, life_rd = -1, life_wr = -1;
	_cleanup_close_ int pidfd = -1, pty_parent = -1, pty_child = -1;
	struct relay_state rs = {
		.report_open = true, .pty_sock = -1, .pty.master = -1, .pty.out_fd = -1};
	int fds[2], wstatus;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return error_set(err, errno, "pipe", NULL, NULL, NULL);
	report_rd = fds[0];
	report_wr = fds[1];
	/* Only the parent holds the write end: the child sees POLLHUP if the
	 * parent died before the child's PR_SET_PDEATHSIG took effect. */
	if (pipe2(fds, O_CLOEXEC) < 0)
		return error_set(err, errno, "pipe", NULL, NULL, NULL);
	life_rd = fds[0];
	life_wr = fds[1];
	rs.pty.tty_fds = plan->tty_fds;
	if (rs.pty.tty_fds) {
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0)
			return error_set(err, errno, "pty", NULL, NULL, "socketpair: %s",
					 errtext(errno));
		pty_parent = fds[0];
		pty_child = fds[1];
	}

	pid = ns_fork_pid1(err);
	if (pid < 0)
		return pid;
	if (pid == 0) {
		struct run run = {
			.plan = plan,
			.report_fd = take_fd(&report_wr),
			.pty_sock = take_fd(&pty_child),
			.life_fd = take_fd(&life_rd),
		};

		closep(&report_rd);
		closep(&life_wr);
		closep(&pty_parent);
		init_main(ctx, &run);
	}
	closep(&report_wr);
	closep(&life_rd);
	closep(&pty_child);
	rs.pty_sock = take_fd(&pty_parent);

	pidfd = pidfd_open(pid, 0);
	if (pidfd < 0) {
		int r = error_set(err, errno, "pidfd_open", NULL, NULL, NULL);

		(void)kill(pid, SIGKILL);
		(void)waitpid(pid, NULL, 0);
		return r;
	}
	wstatus = relay(ctx, pid, pidfd, report_rd, sfd, &rs, err);
	closep(&rs.pty_sock);
	if (rs.report_lost && WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 125)
		error_set(err, EIO, "report", NULL, NULL,
			  "pid 1 failed, and its report of why was lost");
	if (err && *err)
		return -(*err)->errnum;
	/* Pid 1 hands the command's status on with _exit(): a signal is its
	 * own death (the OOM killer, a kill from outside), which took the
	 * setup or the command with it. */
	if (WIFSIGNALED(wstatus))
		return error_set(err, ECANCELED, "init", NULL, NULL,
				 "pid 1 of the new namespaces killed by signal %d (%s)",
				 WTERMSIG(wstatus), strsignal(WTERMSIG(wstatus)));
	*status = exit_status_of(wstatus);
	return 0;
}

/* enter_run_plan() once @err is an error object and @plan is one to run. */
static int run_plan(struct enter_ctx *ctx, const struct enter_plan *plan, int *status,
		    struct enter_error **err)
{
	struct signalfd_siginfo si;
	struct sigaction chld, chld_waitable;
	bool chld_changed = false;
	sigset_t mask, old;
	int sfd, r;

	if (plan->flags & ENTER_HARDENED) {
		r = hardened_load(err);
		if (r < 0)
			return r;
	}

	/* With SIGCHLD ignored (which survives exec: a parent that never
	 * waits) or SA_NOCLDWAIT (a library caller's), the kernel reaps pid 1
	 * itself and its status is lost: make it waitable for the run. */
	if (sigaction(SIGCHLD, NULL, &chld) == 0 &&
	    (chld.sa_handler == SIG_IGN || (chld.sa_flags & SA_NOCLDWAIT))) {
		chld_waitable = chld;
		if (chld_waitable.sa_handler == SIG_IGN)
			chld_waitable.sa_handler = SIG_DFL;
		chld_waitable.sa_flags &= ~SA_NOCLDWAIT;
		chld_changed = sigaction(SIGCHLD, &chld_waitable, NULL) == 0;
	}

	signal_set_forwarded(&mask);
	r = pthread_sigmask(SIG_BLOCK, &mask, &old);
	if (r != 0) {
		/* Unblocked, they would kill enter instead of reaching the command. */
		r = error_set(err, r, "sigprocmask", NULL, NULL, NULL);
		goto out;
	}
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		r = error_set(err, errno, "signalfd", NULL, NULL, NULL);
	else
		r = run_blocked(ctx, plan, sfd, status, err);

	/* Signals that came after the command ended are not the caller's. */
	while (sfd >= 0 && read(sfd, &si, sizeof(si)) == sizeof(si))
		;
	closep(&sfd);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
out:
	if (chld_changed)
		(void)sigaction(SIGCHLD, &chld, NULL);
	return r;
}

/* The namespaces are gone: what enter_assemble() put together is taken
 * apart.  A failure there fails a command that succeeded (the disks are
 * not safe to reboot from); after one that failed it is said, and the
 * command's own failure is the result. */
static int run_teardown(struct enter_ctx *ctx, int r, int *status, struct enter_error **err)
{
	struct enter_error *e = NULL;

	if (enter_teardown(ctx, &e) < 0) {
		if (r >= 0 && *status == 0)
			r = error_copy(err, e);
		else
			log_msg(ctx, ENTER_LOG_ERROR, "%s", enter_error_message(e));
	}
	enter_error_free(e);
	return r;
}

_public_ int enter_run_plan(struct enter_ctx *ctx, const struct enter_plan *plan, int *status,
			    struct enter_error **err)
{
	struct enter_error *ignored = NULL;
	int r;

	/* Without an error object a failure would look like an exit status. */
	if (!err)
		err = &ignored;
	if (!ctx || !plan || plan->ctx != ctx || !status)
		r = error_set(err, EINVAL, "run", NULL, NULL, NULL);
	else if (plan->pending)
		r = error_set(err, EINVAL, "run", ctx->root, NULL,
			      "the target is not assembled (enter_assemble() first)");
	else if (plan->failure)
		r = error_set(err, ECANCELED, "run", NULL, NULL, "the plan would fail: %s",
			      plan->failure);
	else
		r = run_plan(ctx, plan, status, err);
	if (ctx && plan && plan->ctx == ctx && !(ctx->flags & ENTER_KEEP))
		r = run_teardown(ctx, r, status, err);
	/* The header's promise, whatever a step below returned. */
	if (r < 0 && !*err)
		error_set(err, -r, "run", NULL, NULL, NULL);
	enter_error_free(ignored);
	return r;
}

_public_ int enter_run(struct enter_ctx *ctx, char *const argv[], int *status,
		       struct enter_error **err)
{
	extern char **environ;
	struct enter_plan *plan = NULL;
	struct enter_error *ignored = NULL;
	int r;

	if (!err)
		err = &ignored;
	if (!ctx || !status) {
		r = error_set(err, EINVAL, "run", NULL, NULL, NULL);
	} else {
		r = plan_build(ctx, argv, environ, NULL, &plan, err);
		if (r >= 0)
			r = enter_run_plan(ctx, plan, status, err);
	}
	plan_free(plan);
	enter_error_free(ignored);
	return r;
}
