/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Pid 1 of the new pid namespace: builds the environment (mounts, hostname,
 * pivot_root, activation), starts the command as its child, forwards the
 * signals the caller of enter_run() forwards to it, reaps orphans, and when
 * the command exits kills whatever it left behind before exiting with the
 * command's status.  When pid 1 of a pid namespace exits, the kernel kills
 * and reaps every other process in it; killing them first only makes sure
 * nothing runs a moment longer than the command.
 */
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "internal.h"

int exec_command(const struct enter_plan *plan, unsigned tty_fds, struct enter_error **err)
{
	extern char **environ;
	int r;

	if (tty_fds) {
		r = pty_make_controlling(tty_fds);
		if (r < 0)
			return error_set(err, -r, "exec", plan->argv[0], NULL,
					 "controlling terminal: %s", errtext(-r));
	}
	r = signal_reset_all();
	if (r < 0)
		return error_set(err, -r, "exec", plan->argv[0], NULL, "sigprocmask: %s",
				 errtext(-r));
	/* After pivot_root the path resolves inside ROOT only. */
	if (chdir(plan->workdir) < 0)
		return error_set(err, errno, "exec", plan->argv[0], NULL, "chdir %s: %s",
				 plan->workdir, errtext(errno));
	/* Our own fds are all close-on-exec; this catches the caller's. */
	if (close_range(3 + plan->preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		return error_set(err, errno, "exec", plan->argv[0], NULL, "close_range: %s",
				 errtext(errno));
	if (plan->flags & ENTER_HARDENED) {
		r = hardened_apply(err);
		if (r < 0)
			return r;
	}
	environ = plan->envp; /* execvp() searches the PATH of the new environment */
	execvp(plan->argv[0], plan->argv);

	int e = errno;
	bool found = e != ENOENT || interpreter_missing(plan->argv[0], e);

	if (!found && !strchr(plan->argv[0], '/') && (plan->flags & ENTER_NO_ACTIVATE) &&
	    plan->system)
		/* PATH leads into /run/current-system, which activation makes. */
		r = error_set(err, e, "exec", plan->argv[0], NULL,
			      "command not found (--no-activate: no /run/current-system, which "
			      "PATH leads to; %s/sw/bin/%s is the system's own)",
			      plan->system, plan->argv[0]);
	else if (!found)
		r = error_set(err, e, "exec", plan->argv[0], NULL, "command not found");
	else if (e == ENOENT) {
		_cleanup_free_ char *why = missing_interpreter_text(plan->argv[0]);

		r = error_set(err, e, "exec", plan->argv[0], NULL, "%s",
			      why ? why : "its interpreter was not found");
	} else
		r = error_set(err, e, "exec", plan->argv[0], NULL, NULL);
	error_set_exit_code(*err, found ? 126 : 127);
	return r;
}

static _Noreturn void fail(int report_fd, struct enter_error *e)
{
	int code = e ? e->exit_code : 125;

	if (e)
		(void)report_send_error(report_fd, e);
	_exit(code);
}

struct command {
	const struct enter_plan *plan;
	unsigned tty_fds;
	int report_fd;
};

/* The command's side of spawn(): pid 1 sleeps until the exec. */
static int command_main(void *data)
{
	const struct command *c = data;
	struct enter_error *err = NULL;

	exec_command(c->plan, c->tty_fds, &err);
	fail(c->report_fd, err);
}

/* Forwarded signals and SIGCHLD arrive on a signalfd; the command's exit
 * ends the loop. */
static int supervise(pid_t command, int sfd)
{
	for (;;) {
		struct signalfd_siginfo si;
		ssize_t n = read(sfd, &si, sizeof(si));

		if (n < 0 && errno == EINTR)
			continue;
		if (n != sizeof(si))
			return 125;
		if (si.ssi_signo != SIGCHLD) {
			/* From a terminal (SI_KERNEL) the command got it too. */
			if (si.ssi_code == SI_KERNEL)
				continue;
			(void)kill(command, si.ssi_signo);
			/* A stopped process keeps these pending until it goes
			 * on, and enter would wait for ever: wake it, as
			 * systemd and a shell's kill of a stopped job do. */
			if (is_stop_signal(si.ssi_signo))
				(void)kill(command, SIGCONT);
			continue;
		}
		for (;;) {
			int st;
			pid_t pid = waitpid(-1, &st, WNOHANG);

			if (pid <= 0)
				break;
			if (pid == command)
				return exit_status_of(st);
		}
	}
}

/* A TERM, HUP, INT or QUIT that came while the environment was built or
 * activated (forwarded by the caller, or Ctrl-C on the terminal) is still
 * pending here: the command is not started, and enter's status is that of
 * a command that died of it.  Forwarding it to a command already started
 * would race with the command's first steps. */
static void stop_if_asked(void)
{
	sigset_t pending;

	if (sigpending(&pending) < 0)
		return; /* then supervise() forwards them, as to a running command */
	for (int sig = 1; sig < NSIG; sig++)
		if (is_stop_signal(sig) && sigismember(&pending, sig) == 1)
			_exit(128 + sig);
}

static void ignore_signal(int sig)
{
	(void)sig;
}

_Noreturn void init_main(struct enter_ctx *ctx, struct run *run)
{
	const struct enter_plan *plan = run->plan;
	struct sigaction sa = {.sa_handler = ignore_signal};
	struct enter_error *err = NULL;
	struct pollfd pfd = {.fd = run->life_fd, .events = POLLIN};
	int report_fd = run->report_fd;
	sigset_t mask;
	pid_t pid;
	int sfd, code;

	/* If the caller dies, so do we, and with us the whole namespace. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) {
		error_set(&err, errno, "prctl", NULL, "PR_SET_PDEATHSIG", NULL);
		fail(report_fd, err);
	}
	code = poll(&pfd, 1, 0);
	if (code > 0)
		_exit(125); /* the caller is gone already: nobody to tell */
	if (code < 0) {
		error_set(&err, errno, "poll", NULL, "the caller's life pipe", NULL);
		fail(report_fd, err);
	}
	/* Log lines of pid 1 go to the caller's callback, through the pipe. */
	ctx->log_fn = report_log_to_fd;
	ctx->log_userdata = &run->report_fd;
	/* Target code (activation, the command) can read /proc/1/fd: pid 1
	 * keeps none of the caller's fds but those to preserve, which the
	 * command gets anyway. */
	int keep[] = {report_fd, ctx->root_fd, ctx->root_dir_fd, run->pty_sock};

	close_all_except(3 + ctx->preserve_fds, keep, ELEMENTSOF(keep));

	/* Pid 1 only receives signals it has a handler for; they stay blocked
	 * (since the caller's fork) and are read from the signalfd. */
	signal_set_forwarded(&mask);
	sigaddset(&mask, SIGCHLD);
	for (int sig = 1; sig < NSIG; sig++)
		if (sigismember(&mask, sig) == 1)
			(void)sigaction(sig, &sa, NULL);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0) {
		error_set(&err, errno, "sigprocmask", NULL, NULL, NULL);
		fail(report_fd, err);
	}
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0) {
		error_set(&err, errno, "signalfd", NULL, NULL, NULL);
		fail(report_fd, err);
	}

	if (setup_run_steps(ctx, run, &err) < 0)
		fail(report_fd, err);
	stop_if_asked();

	struct command command = {
		.plan = plan,
		/* Without a pty of its own (none was asked for, or it is
		 * relayed), the command gets pid 1's fds as they are. */
		.tty_fds = run->pty_sock < 0 ? plan->tty_fds : 0,
		.report_fd = report_fd,
	};

	pid = spawn(command_main, &command, NULL);
	if (pid < 0) {
		error_set(&err, -pid, "fork", NULL, NULL, NULL);
		fail(report_fd, err);
	}
	(void)close(report_fd);
	/* The command has its fds. Pid 1 keeps its signalfd alone: whatever
	 * else it holds (the fds to preserve) the command, root inside, would
	 * reach through /proc/1/fd. */
	close_all_except(3, &sfd, 1);

	code = supervise(pid, sfd);
	/* Everything the command left behind, so that the target's
	 * filesystems are not busy when enter returns. */
	(void)kill(-1, SIGKILL);
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
	_exit(code);
}
