/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* struct enter_error: what failed, where, and why. */
#include <ctype.h>
#include <stdarg.h>
#include <string.h>

#include "internal.h"

/* *err when the error object itself cannot be allocated, so that a caller
 * never finds it NULL after a failure: shared, never changed, never freed. */
static struct enter_error error_oom = {
	.errnum = ENOMEM,
	.exit_code = 125,
	.step = (char *)"allocate",
	.reason = (char *)"out of memory",
	.message = (char *)"allocate: out of memory",
};

int error_set(struct enter_error **err, int errnum, const char *step, const char *path,
	      const char *detail, const char *reason_fmt, ...)
{
	struct enter_error *e;
	va_list ap;

	if (errnum <= 0)
		errnum = EIO;
	if (!err || *err)
		return -errnum;

	e = calloc(1, sizeof(*e));
	if (!e) {
		*err = &error_oom;
		return -errnum;
	}
	e->errnum = errnum;
	e->exit_code = 125;
	e->step = strdup_or_null(step);
	e->path = strdup_or_null(path);
	e->detail = strdup_or_null(detail);
	if (reason_fmt) {
		va_start(ap, reason_fmt);
		if (vasprintf(&e->reason, reason_fmt, ap) < 0)
			e->reason = NULL;
		va_end(ap);
	}
	strip_controls(e->step);
	strip_controls(e->path);
	strip_controls(e->detail);
	strip_controls(e->reason);
	*err = e;
	return -errnum;
}

void error_set_exit_code(struct enter_error *err, int code)
{
	if (err && err != &error_oom)
		err->exit_code = code;
}

/* After a failing fsconfig(), the kernel queues its own explanation on the
 * fs context fd ("e devpts: Unknown parameter 'foo'"): keep it. */
int error_from_fs_context(struct enter_error **err, int errnum, int fs_fd, const char *step,
			  const char *path, const char *detail)
{
	char msg[512];
	ssize_t n = fs_fd >= 0 ? read(fs_fd, msg, sizeof(msg) - 1) : -1;

	if (n > 2) {
		msg[n] = '\0';
		msg[strcspn(msg, "\n")] = '\0';
		return error_set(err, errnum, step, path, detail, "%s: %s", errtext(errnum),
				 msg + 2);
	}
	return error_set(err, errnum, step, path, detail, NULL);
}

int error_copy(struct enter_error **err, const struct enter_error *from)
{
	struct enter_error *e;

	if (!err || *err)
		return -from->errnum;
	e = calloc(1, sizeof(*e));
	if (!e) {
		*err = &error_oom;
		return -from->errnum;
	}
	*e = (struct enter_error){
		.errnum = from->errnum,
		.exit_code = from->exit_code,
		.step = strdup_or_null(from->step),
		.path = strdup_or_null(from->path),
		.detail = strdup_or_null(from->detail),
		.reason = strdup_or_null(from->reason),
	};
	*err = e;
	return -from->errnum;
}

_public_ void enter_error_free(struct enter_error *e)
{
	if (!e || e == &error_oom)
		return;
	free(e->step);
	free(e->path);
	free(e->detail);
	free(e->reason);
	free(e->message);
	free(e);
}

_public_ int enter_error_errno(const struct enter_error *e)
{
	return e ? e->errnum : 0;
}

_public_ const char *enter_error_step(const struct enter_error *e)
{
	return e ? e->step : NULL;
}

_public_ const char *enter_error_path(const struct enter_error *e)
{
	return e ? e->path : NULL;
}

_public_ const char *enter_error_detail(const struct enter_error *e)
{
	return e ? e->detail : NULL;
}

_public_ int enter_error_exit_code(const struct enter_error *e)
{
	return e ? e->exit_code : 0;
}

_public_ const char *enter_error_message(const struct enter_error *e)
{
	struct enter_error *m = (struct enter_error *)e; /* the line is a cache */
	struct buf b = {};

	if (!e)
		return NULL;
	if (m->message)
		return m->message;
	buf_printf(&b, "%s", e->step ? e->step : "enter");
	if (e->path && *e->path)
		buf_printf(&b, " %s", e->path);
	if (e->detail)
		buf_printf(&b, " (%s)", e->detail);
	if (e->reason) {
		buf_printf(&b, ": %s", e->reason);
	} else {
		/* "no such device", as the rest of the line is lower case */
		buf_printf(&b, ": %s", errtext(e->errnum));
	}
	if (b.oom) {
		free(b.data);
		return e->reason ? e->reason : "out of memory";
	}
	m->message = b.data;
	return m->message;
}

_public_ const char *enter_strerror(int errnum)
{
	return errtext(errnum < 0 ? -errnum : errnum);
}
