/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Records from the forked child (pid 1 of the new namespaces, or the command
 * before its exec) to the caller of enter_run(), through a close-on-exec pipe.
 * Each record is written with one write() of at most PIPE_BUF bytes, so it is
 * atomic; the reader reads with a buffer as large as the pipe, so it only ever
 * sees whole records.  EOF without an error record means the exec succeeded.
 *
 * Record: u16 length of the rest, u8 type ('E' or 'L'), then
 *   'E': i32 errnum, i32 exit code, 4 fields (step, path, detail, reason)
 *   'L': i32 level, 1 field (message)
 * where a field is u8 present, then the string and its NUL when present.
 */
#include <limits.h>
#include <string.h>

#include "internal.h"

#define FIELD_MAX 900

struct record {
	unsigned char data[PIPE_BUF];
	size_t len;
};

static void put(struct record *r, const void *p, size_t n)
{
	memcpy(r->data + r->len, p, n);
	r->len += n;
}

static void put_field(struct record *r, const char *s)
{
	unsigned char present = s != NULL;
	size_t n = s ? strnlen(s, FIELD_MAX) : 0;

	put(r, &present, 1);
	if (!s)
		return;
	put(r, s, n);
	put(r, "", 1);
}

static int send_record(int fd, struct record *r)
{
	uint16_t len = r->len - 2;
	ssize_t n;

	memcpy(r->data, &len, 2);
	do
		n = write(fd, r->data, r->len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == (ssize_t)r->len ? 0 : -EIO;
}

int report_send_error(int fd, const struct enter_error *e)
{
	struct record r = {.len = 2};
	int32_t i;

	put(&r, "E", 1);
	i = e->errnum;
	put(&r, &i, 4);
	i = e->exit_code;
	put(&r, &i, 4);
	put_field(&r, e->step);
	put_field(&r, e->path);
	put_field(&r, e->detail);
	put_field(&r, e->reason);
	return send_record(fd, &r);
}

int report_send_log(int fd, enum enter_log_level level, const char *msg)
{
	struct record r = {.len = 2};
	int32_t i = level;

	put(&r, "L", 1);
	put(&r, &i, 4);
	put_field(&r, msg);
	return send_record(fd, &r);
}

void report_log_to_fd(void *fd, enum enter_log_level level, const char *msg)
{
	(void)report_send_log(*(const int *)fd, level, msg);
}

struct cursor {
	const unsigned char *p, *end;
	bool bad;
};

static void take(struct cursor *c, void *out, size_t n)
{
	if ((size_t)(c->end - c->p) < n) {
		c->bad = true;
		memset(out, 0, n);
		return;
	}
	memcpy(out, c->p, n);
	c->p += n;
}

static const char *take_field(struct cursor *c)
{
	unsigned char present = 0;
	const char *s;
	size_t n;

	take(c, &present, 1);
	if (!present || c->bad)
		return NULL;
	s = (const char *)c->p;
	n = strnlen(s, c->end - c->p);
	if (n == (size_t)(c->end - c->p)) {
		c->bad = true;
		return NULL;
	}
	c->p += n + 1;
	return s;
}

static int decode(const unsigned char *p, size_t len, struct enter_ctx *ctx,
		  struct enter_error **err)
{
	struct cursor c = {p + 1, p + len, false};
	int32_t a = 0, b = 0;
	const char *f[4];

	if (len < 1)
		return -EBADMSG;
	switch (p[0]) {
	case 'E':
		take(&c, &a, 4);
		take(&c, &b, 4);
		for (size_t i = 0; i < ELEMENTSOF(f); i++)
			f[i] = take_field(&c);
		if (c.bad)
			return -EBADMSG;
		if (!*err) {
			error_set(err, a, f[0], f[1], f[2], f[3] ? "%s" : NULL, f[3]);
			error_set_exit_code(*err, b);
		}
		return 0;
	case 'L':
		take(&c, &a, 4);
		f[0] = take_field(&c);
		if (c.bad || !f[0])
			return -EBADMSG;
		log_msg(ctx, a, "%s", f[0]);
		return 0;
	default:
		return -EBADMSG;
	}
}

int report_receive(int fd, struct enter_ctx *ctx, struct enter_error **err)
{
	static const size_t size = 1 << 16; /* the default pipe capacity */
	_cleanup_free_ unsigned char *data = malloc(size);
	ssize_t n;

	if (!data)
		return -ENOMEM;
	do
		n = read(fd, data, size);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN ? 1 : -errno;
	if (n == 0)
		return 0;

	size_t off = 0;

	while (off + 2 <= (size_t)n) {
		uint16_t len;
		int r;

		memcpy(&len, data + off, 2);
		if (off + 2 + len > (size_t)n)
			return -EBADMSG;
		r = decode(data + off + 2, len, ctx, err);
		if (r < 0)
			return r;
		off += 2 + len;
	}
	/* Records are written whole: anything left over is a broken stream. */
	return off == (size_t)n ? 1 : -EBADMSG;
}
