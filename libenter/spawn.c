/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Starting a program from pid 1 (activation, tmpfiles, the command), and
 * saying why one could not be started. */
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

/* Did exec of @path fail with @error because the file is there but the
 * interpreter of its #! line is not?  The kernel says ENOENT for both; a
 * script written for another system (#!/bin/bash on NixOS) is the usual
 * case, and "not found" would send the administrator looking for the file. */
bool interpreter_missing(const char *path, int error)
{
	return error == ENOENT && strchr(path, '/') && access(path, F_OK) == 0;
}

/* What the file at @path lacks, when interpreter_missing(): the interpreter
 * its #! line names, or for a program the dynamic loader (one built for
 * another system: /lib64/ld-linux-x86-64.so.2 is not on NixOS).  A reason
 * for a one-line error, to free. */
char *missing_interpreter_text(const char *path)
{
	static const char elf[] = {0x7f, 'E', 'L', 'F'};
	_cleanup_close_ int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	char head[256] = "";
	ssize_t n = fd >= 0 ? read(fd, head, sizeof(head) - 1) : -1;
	char *text = NULL;

	if (n > 2 && head[0] == '#' && head[1] == '!') {
		const char *p = head + 2 + strspn(head + 2, " \t");
		int len = (int)strcspn(p, " \t\r\n");

		if (len > 0 && xasprintf(&text, "its interpreter %.*s (the #! line) was not found",
					 len, p) >= 0)
			return text;
	}
	if (n >= 4 && memcmp(head, elf, sizeof(elf)) == 0)
		return strdup("its dynamic loader was not found (a program built for another "
			      "system?)");
	return strdup("its interpreter (the #! line) was not found");
}

/*
 * Starts @fn(@arg) in a child that shares the caller's memory until it
 * execs or exits, as posix_spawn() does (CLONE_VM | CLONE_VFORK): the
 * caller sleeps meanwhile, and neither pays for a copy of the page tables
 * or the copy-on-write faults a fork() costs both afterwards.  @fn runs on
 * a stack of its own (a page below it that faults, not pid 1's memory, if
 * it overflows), with its own fd table, cwd and signal handlers; it must
 * exec, _exit(), or return the errno of what failed before the exec, which
 * the caller gets in *@ret_error (0 when the child exec'd or exited), as
 * posix_spawn() tells an exec's failure from a program's own exit status.
 * It must change nothing in memory the caller relies on; environ, which
 * exec_command() sets, is put back here.
 *
 * Under AddressSanitizer, a plain fork(), and *@ret_error through a
 * close-on-exec pipe: ASan cannot follow a thread of its process onto a
 * stack it did not make (google/sanitizers#189) and says so on stderr,
 * where enter's one-line errors go.
 *
 * Returns: the child's pid, or a negative errno.
 */
#if defined(__SANITIZE_ADDRESS__)
#define SPAWN_FORKS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SPAWN_FORKS 1
#endif
#endif
#ifdef SPAWN_FORKS
pid_t spawn(int (*fn)(void *), void *arg, int *ret_error)
{
	_cleanup_close_ int rd = -1, wr = -1;
	int fds[2], error = 0;
	ssize_t n;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	rd = fds[0];
	wr = fds[1];
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		error = fn(arg);
		(void)!write(wr, &error, sizeof(error));
		_exit(127);
	}
	closep(&wr);
	do
		n = read(rd, &error, sizeof(error));
	while (n < 0 && errno == EINTR);
	if (ret_error)
		*ret_error = n == sizeof(error) ? error : 0;
	return pid;
}
#else
struct spawned {
	int (*fn)(void *);
	void *arg;
	int error;
};

static int spawned_main(void *data)
{
	struct spawned *s = data;

	/* The caller's memory: it reads this once the child is gone. */
	s->error = s->fn(s->arg);
	_exit(127);
}

pid_t spawn(int (*fn)(void *), void *arg, int *ret_error)
{
	extern char **environ;
	static const size_t size = 256 * 1024;
	size_t guard = (size_t)sysconf(_SC_PAGESIZE);
	struct spawned s = {fn, arg, 0};
	char **saved_environ = environ;
	int saved_errno;
	char *stack;
	pid_t pid;

	stack = mmap(NULL, guard + size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (stack == MAP_FAILED)
		return -errno;
	if (mprotect(stack + guard, size, PROT_READ | PROT_WRITE) < 0) {
		saved_errno = errno;
		(void)munmap(stack, guard + size);
		return -saved_errno;
	}
	pid = clone(spawned_main, stack + guard + size, CLONE_VM | CLONE_VFORK | SIGCHLD, &s);
	saved_errno = errno;
	environ = saved_environ;
	(void)munmap(stack, guard + size);
	if (pid < 0)
		return -saved_errno;
	if (ret_error)
		*ret_error = s.error;
	return pid;
}
#endif
