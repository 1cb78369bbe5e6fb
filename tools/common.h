/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the three programs share: reporting, logging, the common options. */
#ifndef ENTER_TOOLS_COMMON_H
#define ENTER_TOOLS_COMMON_H

#include <stdbool.h>

#include "libenter.h"

#define EXIT_ENTER_FAILED 125

extern const char *program_name;
extern bool opt_verbose;

/* "PROGRAM: STEP PATH (DETAIL): REASON" on stderr; returns the exit code. */
int report_error(struct enter_error *err);
/* "PROGRAM: MESSAGE" on stderr; returns 125. */
int report_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The log callback of the three programs. */
void log_to_stderr(void *userdata, enum enter_log_level level, const char *msg);
/* Prints the plan of @ctx for @argv as text or JSON; returns the exit code. */
int print_plan(struct enter_ctx *ctx, char *const argv[], bool json);

/* Prints the report of enter_check(); returns 0, 1 on a problem, 125 on failure. */
int print_check(struct enter_ctx *ctx, bool json);

#endif
