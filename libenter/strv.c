/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* NULL-terminated string arrays. */
#include <stdarg.h>
#include <string.h>

#include "internal.h"

void strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

void strv_freep(char ***v)
{
	strv_free(*v);
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

int strv_pushf(char ***v, const char *fmt, ...)
{
	char *s;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	return strv_consume(v, n < 0 ? NULL : s);
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
