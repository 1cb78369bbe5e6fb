/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Small helpers: NULL-terminated string arrays and a growing string buffer. */
#include <ctype.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

void strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

size_t strv_length(char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

int strv_consume(char ***v, char *s)
{
	size_t n = strv_length(*v);
	char **nv;

	if (!s)
		return -ENOMEM;
	nv = realloc(*v, (n + 2) * sizeof(char *));
	if (!nv) {
		free(s);
		return -ENOMEM;
	}
	nv[n] = s;
	nv[n + 1] = NULL;
	*v = nv;
	return 0;
}

/* Slots a list of @n grown by strv_append() has: powers of two, so that n
 * appends cost O(n) in all. */
static size_t strv_slots(size_t n)
{
	size_t slots = 8;

	while (slots < n + 1)
		slots *= 2;
	return slots;
}

int strv_append(char ***v, size_t *n, char *s)
{
	if (!s)
		return -ENOMEM;
	if (!*v || strv_slots(*n + 1) != strv_slots(*n)) {
		char **nv = realloc(*v, strv_slots(*n + 1) * sizeof(char *));

		if (!nv) {
			free(s);
			return -ENOMEM;
		}
		*v = nv;
	}
	(*v)[(*n)++] = s;
	(*v)[*n] = NULL;
	return 0;
}

int strv_push(char ***v, const char *s)
{
	return strv_consume(v, strdup(s));
}

char *strv_find_prefix(char *const *v, const char *prefix)
{
	size_t len = strlen(prefix);

	for (; v && *v; v++)
		if (strncmp(*v, prefix, len) == 0)
			return *v;
	return NULL;
}

char **strv_copy(char *const *v)
{
	_cleanup_strv_ char **c = calloc(1, sizeof(char *));

	if (!c)
		return NULL;
	for (; v && *v; v++)
		if (strv_push(&c, *v) < 0)
			return NULL;
	return TAKE_PTR(c);
}

/* asprintf() that leaves NULL behind on failure, safe under _cleanup_free_. */
int xasprintf(char **ret, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(ret, fmt, ap);
	va_end(ap);
	if (n < 0)
		*ret = NULL;
	return n;
}

char *strdup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (;;) {
		size_t avail = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->data ? b->data + b->len : NULL, avail, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if ((size_t)n < avail) {
			b->len += n;
			return;
		}

		size_t cap = (b->cap + n + 1) * 2;
		char *d = realloc(b->data, cap);

		if (!d) {
			b->oom = true;
			return;
		}
		b->data = d;
		b->cap = cap;
	}
}

void buf_json_string(struct buf *b, const char *s)
{
	if (!s) {
		buf_printf(b, "null");
		return;
	}
	buf_printf(b, "\"");
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			buf_printf(b, "\\%c", *p);
		else if (*p == '\n')
			buf_printf(b, "\\n");
		else if (*p == '\t')
			buf_printf(b, "\\t");
		else if (*p < 0x20 || *p == 0x7f)
			buf_printf(b, "\\u%04x", *p);
		else
			buf_printf(b, "%c", *p);
	}
	buf_printf(b, "\"");
}

/* A name sethostname() and colmena accept: letters, digits, '-' and '.',
 * not starting with '-' or '.', at most 64 bytes. */
static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* Closes every fd from @from up but those in @keep (-1 entries ignored), a
 * close_range() per gap. */
void close_all_except(int from, int *keep, size_t n)
{
	qsort(keep, n, sizeof(*keep), cmp_int);
	for (size_t i = 0; i < n; i++) {
		if (keep[i] < from)
			continue;
		if (keep[i] > from)
			(void)close_range(from, keep[i] - 1, 0);
		from = keep[i] + 1;
	}
	(void)close_range(from, ~0U, 0);
}

/* Messages carry target data (fstab sources, paths, what activation says
 * through a report record): no byte of it may steer the administrator's
 * terminal.  Control characters become '?'. */
void strip_controls(char *s)
{
	for (; s && *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

bool same_inode(int a, int b)
{
	struct stat sa, sb;

	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

bool hostname_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > 64 || s[0] == '-' || s[0] == '.')
		return false;
	for (const char *p = s; *p; p++)
		if (!(*p == '-' || *p == '.' || (*p >= 'a' && *p <= 'z') ||
		      (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
			return false;
	return true;
}

/* The name in the text of an /etc/hostname (hostname(5)): the first line
 * that is not empty or a '#' comment, without surrounding blanks; cut in place. */
char *hostname_first_line(char *text)
{
	for (char *line = text; *line;) {
		size_t len = strcspn(line, "\n");
		char *next = line + len + (line[len] == '\n');

		line[len] = '\0';
		line += strspn(line, " \t\r");
		line[strcspn(line, " \t\r")] = '\0';
		if (*line && *line != '#')
			return line;
		line = next;
	}
	return text + strlen(text);
}

/* SEP"KEY": "VALUE" (or null), the one shape of every string member. */
void buf_json_member(struct buf *b, const char *sep, const char *key, const char *value)
{
	buf_printf(b, "%s\"%s\": ", sep, key);
	buf_json_string(b, value);
}

/* strerror() as the middle of a one-line error: "no such device", lower
 * case like the rest of the line.  From a ring of buffers, so that a few can
 * be in one call's arguments. */
const char *errtext(int errnum)
{
	static __thread char ring[4][96];
	static __thread unsigned next;
	char *buf = ring[next++ % ELEMENTSOF(ring)];

	snprintf(buf, sizeof(ring[0]), "%s", strerror(errnum));
	/* "No such file", not "NFS ...": only a capital before a small letter */
	if (isupper((unsigned char)buf[0]) && islower((unsigned char)buf[1]))
		buf[0] = (char)tolower((unsigned char)buf[0]);
	return buf;
}

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
