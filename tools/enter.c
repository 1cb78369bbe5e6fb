/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* enter: a shell or a command inside an installed system, from a rescue system. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"
#include "output.h"

enum {
	OPT_CHECK = OPT_COMMON_LAST,
};

static const char usage[] =
	"Usage: enter [OPTIONS] ROOT [-- COMMAND [ARGS...]]\n"
	"       enter [OPTIONS] --root ROOT [-c STRING | -- COMMAND [ARGS...]]\n"
	"\n"
	"Run a login shell, or COMMAND, inside the installed system at ROOT, in private\n"
	"mount, pid, uts and ipc namespaces: nothing stays mounted or running afterwards.\n"
	"\n"
	"Exit status: the command's, 128+N if it died of signal N; 125 enter failed;\n"
	"126 command not executable, or ROOT not a NixOS root; 127 command not found;\n"
	"with --check, 0 or 1.\n"
	"\n"
	"      --root ROOT      the target root (instead of the first argument)\n"
	"  -c, --command STRING run STRING with the target's shell\n"
	"      --generic        any Linux root: no etc/NIXOS needed, no activation\n"
	"      --check          report what a rebuild would find; exit 1 on a problem\n";

static const struct option options[] = {
	{"root", required_argument, NULL, OPT_ROOT},
	{"command", required_argument, NULL, 'c'},
	{"generic", no_argument, NULL, OPT_GENERIC},
	{"check", no_argument, NULL, OPT_CHECK},
	{},
};

static int enter_with(const struct settings *s)
{
	struct enter_error *err = NULL;
	struct enter_plan *plan = NULL;
	bool shell_command = option_given(s, 'c'), check = option_given(s, OPT_CHECK);
	struct enter_ctx *ctx;
	int r = 0, status = 0;

	if (s->n_args)
		return report_usage("unexpected argument '%s' (a command goes after --)",
				    s->args[0]);
	/* Options that cannot both be meant are refused, not one of them dropped. */
	if (shell_command && s->command)
		return report_usage("-c STRING and a command after --: give one of them");
	if (check && (shell_command || s->command))
		return report_usage("--check runs no command");
	if (check && s->dry_run)
		return report_usage("--check and --dry-run: give one of them");
	if (s->json && !check && !s->dry_run)
		return report_usage("--json goes with --check or --dry-run");
	ctx = context_ready(s, 0, check, &r);
	if (!ctx)
		return r;
	if (check)
		r = print_check(ctx, s->json);
	else if ((plan = plan_or_report(ctx, s->dry_run, s->json, s->command, &r)) && s->dry_run)
		r = print_plan(plan, s->json);
	else if (plan)
		r = enter_run_plan(ctx, plan, &status, &err) < 0 ? report_error(err) : status;
	enter_plan_free(plan);
	return context_done(ctx, r);
}

int main(int argc, char **argv)
{
	struct settings s = {};
	int r;

	r = parse_args(argc, argv, options, usage, &s);
	if (r == 0)
		r = enter_with(&s);
	settings_free(&s);
	return r;
}
