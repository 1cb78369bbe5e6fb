/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the three programs share: reporting, logging, the common options. */
#ifndef ENTER_TOOLS_COMMON_H
#define ENTER_TOOLS_COMMON_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>

#include "libenter.h"

#define EXIT_ENTER_FAILED 125

extern const char *program_name;
extern bool opt_verbose;

/* Long options of the three programs; the tools' own come first. */
enum {
	OPT_ROOT = 0x100,
	OPT_SYSTEM,
	OPT_SILENT,
	OPT_NO_ACTIVATE,
	OPT_STRICT,
	OPT_GENERIC,
	OPT_HOSTNAME,
	OPT_TMPFS_TMP,
	OPT_NO_RESOLV,
	OPT_BIND,
	OPT_RO_BIND,
	OPT_SETENV,
	OPT_KEEP_ENV,
	OPT_UNSETENV,
	OPT_PRESERVE_FDS,
	OPT_DRY_RUN,
	OPT_BOOT,
	OPT_FSTAB,
	OPT_BOOT_MIN_FREE,
	OPT_CHECK,
	OPT_JSON,
	OPT_VERSION,
	OPT_FLAKE,
	OPT_NODE,
	OPT_HIVE,
	OPT_HARDENED,
};

/* The options that shape the environment, shared by all three programs,
 * and their --help text. */
extern const struct option common_options[];
extern const char common_usage[];

/* An option as given; applied once the context exists. */
struct option_use {
	int c;
	char *arg, *arg2;
};

struct settings {
	const char *root;
	bool dry_run, json, check;
	char **args; /* positional arguments after ROOT */
	size_t n_args;
	char **command; /* after "--", or NULL */
	struct option_use *uses;
	size_t n_uses;
};

/* Parses argv with @tool_options followed by common_options; prints @usage
 * for --help.  Returns 0, or the exit code to leave with. */
int parse_args(int argc, char **argv, const struct option *tool_options, const char *usage,
	       struct settings *s);
/* Applies the options of @s that set up the environment to @ctx; *@flags
 * collects ENTER_* flags, for the caller to add its own and set. */
int apply_options(struct enter_ctx *ctx, const struct settings *s, unsigned *flags);
int setter_result(int r, const char *option, const char *value);
/* Creates the context for s->root with the log callback; NULL after printing. */
struct enter_ctx *context_for(const struct settings *s, int *ret_code);
void settings_free(struct settings *s);

/* "PROGRAM: STEP PATH (DETAIL): REASON" on stderr; returns the exit code. */
int report_error(struct enter_error *err);
/* strerror() in lower case, as the rest of a one-line message */
const char *strerror_lower(int errnum);
/* "PROGRAM: MESSAGE (see PROGRAM --help)" on stderr; returns 125. */
int report_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The log callback of the three programs. */
void log_to_stderr(void *userdata, enum enter_log_level level, const char *msg);
/* Prints @plan as text or JSON; returns the exit code. */
int print_plan(const struct enter_plan *plan, bool json);
/* The plan of @ctx for @argv, made once: what is printed and run.  NULL
 * after printing why not (and, with --dry-run, the plan up to the step that
 * would fail), the exit code in *@ret_code. */
struct enter_plan *plan_or_report(struct enter_ctx *ctx, const struct settings *s,
				  char *const argv[], int *ret_code);
/* Prints the report of enter_check(); returns 0, 1 on a problem, 125 on failure. */
int print_check(struct enter_ctx *ctx, bool json);

/* enter-rebuild and enter-deploy: @argv as the command of @plan, run (or,
 * with --dry-run, the plan printed with "command: @display"), then a
 * summary: the generation before and after, the status; with --json a
 * result object on stdout. */
int run_inner(struct enter_ctx *ctx, const struct settings *s, struct enter_plan *plan,
	      char *const argv[], const char *display);
/* "a b c", to free */
char *join_words(char *const words[]);
/* The `sh -c` script around the tool inside: says when the target has no
 * @tool, runs @body, names the boot entries the run wrote.  To free. */
char *inner_script(const char *tool, const char *body);

#endif
