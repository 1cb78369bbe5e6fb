/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* enter: a shell or a command inside an installed system, from a rescue system. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

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
	struct enter_ctx *ctx;
	unsigned flags = 0;
	int r = 0, status = 0;

	bool shell_command = false;

	for (size_t i = 0; i < s->n_uses; i++)
		shell_command = shell_command || s->uses[i].c == 'c';
	if (s->n_args)
		return report_usage("unexpected argument '%s' (a command goes after --)",
				    s->args[0]);
	/* Options that cannot both be meant are refused, not one of them dropped. */
	if (shell_command && s->command)
		return report_usage("-c STRING and a command after --: give one of them");
	if (s->check && (shell_command || s->command))
		return report_usage("--check runs no command");
	if (s->check && s->dry_run)
		return report_usage("--check and --dry-run: give one of them");
	if (s->json && !s->check && !s->dry_run)
		return report_usage("--json goes with --check or --dry-run");
	ctx = context_for(s, &r);
	if (!ctx)
		return r;
	r = apply_options(ctx, s, &flags);
	if (r == 0)
		r = setter_result(enter_set_flags(ctx, flags), "flags", "");
	if (r == 0 && s->check)
		r = print_check(ctx, s->json);
	else if (r == 0 && (plan = plan_or_report(ctx, s, s->command, &r)) && s->dry_run)
		r = print_plan(plan, s->json);
	else if (plan)
		r = enter_run_plan(ctx, plan, &status, &err) < 0 ? report_error(err) : status;
	enter_plan_free(plan);
	enter_free(ctx);
	return r;
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
