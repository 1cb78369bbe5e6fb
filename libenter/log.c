/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Warnings and debug messages go to the caller's callback, never to stderr.
 * In the forked child they travel to the parent as report records. */
#include <stdarg.h>

#include "internal.h"

void log_msg(struct enter_ctx *ctx, enum enter_log_level level, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;
	int n;

	if (level > ctx->log_level || (ctx->report_fd < 0 && !ctx->log_fn))
		return;
	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0) {
		msg = NULL; /* undefined after a failing vasprintf() */
		return;
	}
	strip_controls(msg);
	if (ctx->report_fd >= 0)
		(void)report_send_log(ctx->report_fd, level, msg);
	else
		ctx->log_fn(ctx->log_userdata, level, msg);
}
