/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The options the three programs share: their grammar, their --help text,
 * and the context they configure. */
#ifndef ENTER_TOOLS_OPTIONS_H
#define ENTER_TOOLS_OPTIONS_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "libenter.h"

extern bool opt_verbose;

/* Long options of the three programs; each program numbers its own from
 * OPT_COMMON_LAST on. */
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
	OPT_JSON,
	OPT_VERSION,
	OPT_HARDENED,
	OPT_ROOT_DEVICE,
	OPT_ROOT_OPTIONS,
	OPT_LUKS,
	OPT_KEY_FILE,
	OPT_KEEP,
	OPT_COMMON_LAST,
};

/* An option as given; applied once the context exists. */
struct option_use {
	int c;
	char *arg, *arg2;
};

struct settings {
	const char *root;
	bool dry_run, json;
	char **args; /* positional arguments after ROOT */
	size_t n_args;
	char **command; /* after "--", or NULL */
	struct option_use *uses;
	size_t n_uses;
};

/* Parses argv with @tool_options followed by the common ones; prints
 * @usage and the common options' text for --help.  Returns 0, or the exit
 * code to leave with. */
int parse_args(int argc, char **argv, const struct option *tool_options, const char *usage,
	       struct settings *s);
void settings_free(struct settings *s);
/* The argument of the last use of option @c, or NULL; whether it was given. */
const char *option_arg(const struct settings *s, int c);
bool option_given(const struct settings *s, int c);

/* "64M", "1G", "512K", "1048576": 0, or -EINVAL. */
int parse_size(const char *arg, uint64_t *ret);
/* The exit code for a setter's result: 0, or 125 after saying which
 * option and value it refused. */
int setter_result(int r, const char *option, const char *value);

/* The context for s->root, configured by the options of @s, with @flags
 * (the program's own ENTER_* flags) added, and assembled from its disks
 * (read-only with @check, not at all with --dry-run).  NULL after
 * printing why not (a report with @check), the exit code in *@ret_code. */
struct enter_ctx *context_ready(const struct settings *s, unsigned flags, bool check,
				int *ret_code);
/* enter_teardown() said, then enter_free(); returns @code, or 125 when
 * the teardown failed after a success. */
int context_done(struct enter_ctx *ctx, int code);

#endif
