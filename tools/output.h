/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the three programs say: errors, log lines, plans, reports; and the
 * one thing they ask, a passphrase. */
#ifndef ENTER_TOOLS_OUTPUT_H
#define ENTER_TOOLS_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>

#include "libenter.h"

#define EXIT_ENTER_FAILED 125

extern const char *program_name;

/* "PROGRAM: STEP PATH (DETAIL): REASON" on stderr; frees @err, returns the
 * exit code. */
int report_error(struct enter_error *err);
/* "PROGRAM: MESSAGE (see PROGRAM --help)" on stderr; returns 125. */
int report_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The log callback of the three programs. */
void log_to_stderr(void *userdata, enum enter_log_level level, const char *msg);
/* The key callback: asks on the terminal, without echo. */
int ask_passphrase(void *userdata, const char *prompt, char *buf, size_t size);
/* Prints @plan as text or JSON; returns the exit code. */
int print_plan(const struct enter_plan *plan, bool json);
/* The plan of @ctx for @argv, made once: what is printed and run.  NULL
 * after printing why not (and, with @dry_run, the plan up to the step that
 * would fail), the exit code in *@ret_code. */
struct enter_plan *plan_or_report(struct enter_ctx *ctx, bool dry_run, bool json,
				  char *const argv[], int *ret_code);
/* Prints the report of enter_check(); returns 0, 1 on a problem, 125 on failure. */
int print_check(struct enter_ctx *ctx, bool json);
/* --check on a ROOT enter cannot open: a report with that one problem
 * (@err freed); returns 1, or 125. */
int print_check_error(const char *root, struct enter_error *err, bool json);

#endif
