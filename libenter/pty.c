/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The terminal relay (SECURITY.md, TIOCSTI).  When the caller's stdin, stdout or stderr
 * is a terminal, nothing inside gets that terminal: a process holding it
 * could push keystrokes into the rescue shell with TIOCSTI (bubblewrap's
 * CVE-2017-5226), and root inside may use TIOCSTI on any terminal.  Instead,
 * pid 1 opens a pseudo-terminal of the namespace's own devpts instance and
 * sends its master to the caller, which relays bytes between its terminal
 * (in raw mode, restored on every exit) and the master, and follows window
 * size changes.  Ctrl-C then reaches the command through the inner line
 * discipline, exactly like on a terminal of its own.
 */
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>

#include "internal.h"

unsigned pty_terminal_fds(void)
{
	unsigned mask = 0;

	for (int fd = 0; fd <= 2; fd++)
		if (isatty(fd))
			mask |= 1u << fd;
	return mask;
}

/* In pid 1, after /dev/pts and /dev/ptmx are ours: the pair, and the slave on
 * every fd of pid 1 that was a terminal, so that nothing inherits the host's
 * terminal, and /proc/1/fd/0 does not lead to it either. */
int pty_open_inside(unsigned tty_fds, int *ret_master, struct enter_error **err)
{
	_cleanup_close_ int master = -1, slave = -1;

	master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		return error_set(err, errno, "pty", "/dev/ptmx", NULL, NULL);
	if (unlockpt(master) < 0)
		return error_set(err, errno, "pty", "/dev/ptmx", NULL, "unlockpt: %s",
				 errtext(errno));
	slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		return error_set(err, errno, "pty", "/dev/ptmx", NULL, "TIOCGPTPEER: %s",
				 errtext(errno));
	/* The caller's size and modes, before anything runs on the new terminal
	 * (the relay follows later changes). */
	for (int fd = 0; fd <= 2; fd++) {
		struct winsize ws;
		struct termios t;

		if (!(tty_fds & (1u << fd)))
			continue;
		if (ioctl(fd, TIOCGWINSZ, &ws) == 0)
			(void)ioctl(master, TIOCSWINSZ, &ws);
		if (tcgetattr(fd, &t) == 0)
			(void)tcsetattr(slave, TCSANOW, &t);
		break;
	}
	for (int fd = 0; fd <= 2; fd++)
		if ((tty_fds & (1u << fd)) && dup2(slave, fd) < 0)
			return error_set(err, errno, "pty", "/dev/ptmx", NULL, "dup2: %s",
					 errtext(errno));
	*ret_master = take_fd(&master);
	return 0;
}

/* In the command, before exec: its own session, the slave as controlling
 * terminal, so that job control and Ctrl-C work as on a console. */
int pty_make_controlling(unsigned tty_fds)
{
	int fd = tty_fds & 1 ? 0 : tty_fds & 2 ? 1 : 2;

	if (setsid() < 0)
		return -errno;
	if (ioctl(fd, TIOCSCTTY, 0) < 0)
		return -errno;
	return 0;
}

int pty_send_fd(int sock, int fd)
{
	char data = 'm';
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} control = {};
	struct iovec iov = {.iov_base = &data, .iov_len = 1};
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &msg, MSG_NOSIGNAL) == 1 ? 0 : -errno;
}

/* Returns the fd, or -errno; -EPIPE when the child closed without sending. */
int pty_receive_fd(int sock)
{
	char data;
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} control = {};
	struct iovec iov = {.iov_base = &data, .iov_len = 1};
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	struct cmsghdr *c;
	ssize_t n;
	int fd;

	n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	if (n < 0)
		return -errno;
	c = CMSG_FIRSTHDR(&msg);
	if (n == 0 || !c || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(sizeof(int)))
		return -EPIPE;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

void pty_relay_start(struct pty_relay *r, int master)
{
	struct winsize ws;
	struct termios raw;

	int out = r->tty_fds & 2 ? 1 : 2;
	char path[32];

	r->master = master;
	/* A file description of our own, non-blocking: the caller's fd 1 is
	 * shared with the rescue shell, whose flags are not ours to change. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", out);
	r->out_fd = open(path, O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (r->out_fd < 0)
		r->out_fd = fcntl(out, F_DUPFD_CLOEXEC, 3);
	r->stdin_open = r->tty_fds & 1;
	if (ioctl(r->out_fd, TIOCGWINSZ, &ws) == 0 || ioctl(0, TIOCGWINSZ, &ws) == 0)
		(void)ioctl(master, TIOCSWINSZ, &ws);
	if ((r->tty_fds & 1) && tcgetattr(0, &r->saved) == 0) {
		raw = r->saved;
		cfmakeraw(&raw);
		r->raw = tcsetattr(0, TCSADRAIN, &raw) == 0;
	}
	(void)fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
}

void pty_relay_resize(struct pty_relay *r)
{
	struct winsize ws;

	if (r->master >= 0 && ioctl(r->out_fd, TIOCGWINSZ, &ws) == 0)
		(void)ioctl(r->master, TIOCSWINSZ, &ws);
}

/* Writes what @q holds to @fd, as much as it takes without waiting. */
static bool queue_flush(int fd, struct pty_queue *q)
{
	while (q->len > 0) {
		ssize_t w = write(fd, q->data, q->len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			return true;
		if (w <= 0)
			return false;
		memmove(q->data, q->data + w, q->len - w);
		q->len -= w;
	}
	return true;
}

/* Reads what @fd has into @q's free space: 1, 0 when nothing is there
 * yet, -1 at its end or on an error. */
static int queue_fill(int fd, struct pty_queue *q)
{
	ssize_t n;

	do
		n = read(fd, q->data + q->len, sizeof(q->data) - q->len);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return 0;
	if (n <= 0)
		return -1;
	q->len += n;
	return 1;
}

void pty_relay_poll_fds(const struct pty_relay *r, struct pollfd p[PTY_POLL_FDS])
{
	bool on = r->master >= 0;
	short master = (r->to_out.len ? 0 : POLLIN) | (r->to_master.len ? POLLOUT : 0);

	/* Not polled at all while it waits for nothing: its POLLHUP, which
	 * poll() reports whatever is asked, would wake the loop for ever
	 * while a stalled terminal keeps the output queue full. */
	p[0] = (struct pollfd){.fd = on && master ? r->master : -1, .events = master};
	p[1] = (struct pollfd){.fd = on && r->stdin_open && !r->to_master.len ? 0 : -1,
			       .events = POLLIN};
	p[2] = (struct pollfd){.fd = on && r->to_out.len ? r->out_fd : -1, .events = POLLOUT};
}

bool pty_relay_events(struct pty_relay *r, const struct pollfd p[PTY_POLL_FDS])
{
	/* Caller's terminal -> master; at the end of stdin, it is not read more. */
	if (p[1].revents && queue_fill(0, &r->to_master) < 0)
		r->stdin_open = false;
	if ((p[1].revents || (p[0].revents & POLLOUT)) && !queue_flush(r->master, &r->to_master))
		r->to_master.len = 0; /* the inside side is going: dropped */
	/* Master -> caller's terminal; EIO once the inside side is gone. */
	if (p[2].revents && !queue_flush(r->out_fd, &r->to_out))
		r->to_out.len = 0; /* the caller's terminal is gone */
	if ((p[0].revents & ~POLLOUT) && !r->to_out.len) {
		if (queue_fill(r->master, &r->to_out) < 0)
			return false;
		if (!queue_flush(r->out_fd, &r->to_out))
			r->to_out.len = 0;
	}
	return true;
}

/* What the command wrote last, for at most a second more of a stalled
 * terminal: enter returns, whatever the terminal does. */
static void drain_output(struct pty_relay *r)
{
	for (int rounds = 0; rounds < 10; rounds++) {
		struct pollfd p = {.fd = r->out_fd, .events = POLLOUT};

		if (!r->to_out.len && queue_fill(r->master, &r->to_out) <= 0)
			return;
		if (poll(&p, 1, 100) <= 0 || !queue_flush(r->out_fd, &r->to_out))
			return;
	}
}

void pty_relay_stop(struct pty_relay *r)
{
	if (r->master >= 0) {
		drain_output(r);
		closep(&r->master);
	}
	closep(&r->out_fd);
	if (r->raw) {
		(void)tcsetattr(0, TCSADRAIN, &r->saved);
		r->raw = false;
	}
}
