/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A growing string buffer, and the JSON the printers write with it.  A
 * failed allocation is remembered (b->oom) and checked once at the end. */
#include <stdarg.h>
#include <string.h>

#include "internal.h"

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

/* One character as JSON writes it inside a string; @quote: '"' too. */
static void buf_escaped_char(struct buf *b, unsigned char c, bool quote)
{
	if ((c == '"' && quote) || c == '\\')
		buf_printf(b, "\\%c", c);
	else if (c == '\n')
		buf_printf(b, "\\n");
	else if (c == '\t')
		buf_printf(b, "\\t");
	else if (c < 0x20 || c == 0x7f)
		buf_printf(b, "\\u%04x", c);
	else
		buf_printf(b, "%c", c);
}

void buf_json_string(struct buf *b, const char *s)
{
	if (!s) {
		buf_printf(b, "null");
		return;
	}
	buf_printf(b, "\"");
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		buf_escaped_char(b, *p, true);
	buf_printf(b, "\"");
}

/* Ends the line of text written since @start: what it holds of control
 * characters and backslashes, which only its values (a path, a name from
 * the target) can bring, is escaped as in JSON, so that one line stays one
 * line whatever a target's fstab or --bind says. */
void buf_end_line(struct buf *b, size_t start)
{
	char *line;

	if (b->oom)
		return;
	line = strndup(b->data + start, b->len - start);
	if (!line) {
		b->oom = true;
		return;
	}
	b->len = start;
	for (const unsigned char *p = (const unsigned char *)line; *p; p++)
		buf_escaped_char(b, *p, false);
	free(line);
	buf_printf(b, "\n");
}

/* ["a", "b"], [] for NULL. */
void buf_json_strv(struct buf *b, char *const *v)
{
	buf_printf(b, "[");
	for (size_t i = 0; v && v[i]; i++) {
		buf_printf(b, i ? ", " : "");
		buf_json_string(b, v[i]);
	}
	buf_printf(b, "]");
}

/* SEP"KEY": "VALUE" (or null), the one shape of every string member. */
void buf_json_member(struct buf *b, const char *sep, const char *key, const char *value)
{
	buf_printf(b, "%s\"%s\": ", sep, key);
	buf_json_string(b, value);
}

_public_ int enter_format_json_string(const char *s, char **ret)
{
	struct buf b = {};

	if (!ret)
		return -EINVAL;
	buf_json_string(&b, s);
	if (b.oom) {
		free(b.data);
		return -ENOMEM;
	}
	*ret = b.data;
	return 0;
}
