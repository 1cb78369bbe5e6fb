/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Warnings and debug messages go to the caller's callback, never to stderr.
 * In pid 1 the callback is one that sends them to the caller (init.c). */
#include <stdarg.h>

#include "internal.h"

void log_msg(struct enter_ctx *ctx, enum enter_log_level level, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;
	int n;

	if (level > ctx->log_level || !ctx->log_fn)
		return;
	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0) {
		msg = NULL; /* undefined after a failing vasprintf() */
		return;
	}
	strip_controls(msg);
	ctx->log_fn(ctx->log_userdata, level, msg);
}
