/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Small helpers: formatting, fds, hostnames, error texts. */
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

/* A name sethostname() and colmena accept: letters, digits, '-' and '.',
 * not starting with '-' or '.', at most 64 bytes. */
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
