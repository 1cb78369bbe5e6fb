/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What enter-rebuild and enter-deploy share: a tool of the target run
 * inside, from `sh -c`, with a summary of what it did. */
#ifndef ENTER_TOOLS_INNER_H
#define ENTER_TOOLS_INNER_H

#include "libenter.h"
#include "options.h"

/* ENTER_REQUIRE_BOOT for the actions that install the boot loader (boot,
 * switch), else 0. */
unsigned action_flags(const char *action);
/* @given when not NULL, else the hostname the plan gives the target (a
 * flake attribute, a colmena node).  To free. */
char *name_or_hostname(const char *given, const struct enter_plan *plan);

/* @argv as the command of @plan, run (or, with --dry-run, the plan printed
 * with "command: @display"), then a summary: the generation before and
 * after, the status; with --json a result object on stdout.  Returns the
 * exit code. */
int run_inner(struct enter_ctx *ctx, const struct settings *s, struct enter_plan *plan,
	      char *const argv[], const char *display);
/* "a b c", to free */
char *join_words(char *const words[]);
/* The `sh -c` script around the tool inside: says when the target has no
 * @tool, runs @body, names the boot entries the run wrote.  To free. */
char *inner_script(const char *tool, const char *body);

#endif
