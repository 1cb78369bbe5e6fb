/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* enter-deploy: `colmena apply-local` inside the target, non-interactively. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "inner.h"
#include "options.h"
#include "output.h"

enum {
	OPT_NODE = OPT_COMMON_LAST,
	OPT_HIVE,
};

#define HIVE_DIR "/run/enter/hive"

static const char usage[] =
	"Usage: enter-deploy [OPTIONS] ROOT [GOAL] [--node NAME] [--hive DIR]\n"
	"\n"
	"Run `colmena apply-local --node NAME GOAL` inside ROOT (see enter(1)), with /boot\n"
	"mounted from the target's fstab, the target's hostname and DNS, in the hive\n"
	"directory bound at " HIVE_DIR ". GOAL: boot (the default), switch, test,\n"
	"dry-activate, build. /boot is required for boot and switch. Exit status:\n"
	"colmena's; 125 when enter-deploy itself failed, before anything ran.\n"
	"\n"
	"      --node NAME      the node to deploy (default: the target's hostname)\n"
	"      --hive DIR       the directory with hive.nix or flake.nix (default: .)\n";

static const struct option options[] = {
	{"node", required_argument, NULL, OPT_NODE},
	{"hive", required_argument, NULL, OPT_HIVE},
	{},
};

static const char *const goals[] = {"boot", "switch", "test", "dry-activate", "build"};

/* colmena's stderr goes through tee (and stays stderr) so that its refusal to
 * deploy locally can be explained with the fix; its stdout stays stdout; its
 * status is kept in a file of the fresh /run. */
static const char script[] =
	"{ { colmena \"$@\"; echo $? >/run/enter/status; } 2>&1 1>&3 3>&-"
	" | tee /run/enter/colmena.log >&2; } 3>&1;"
	" s=$(cat /run/enter/status);"
	" if [ \"$s\" != 0 ] && grep -q allowLocalDeployment /run/enter/colmena.log; then"
	" echo \"$0: colmena refuses to deploy locally: set deployment.allowLocalDeployment"
	" = true; in the options of node $3\" >&2; fi;"
	" (exit $s)";

/* Is colmena's hive (hive.nix or flake.nix) in @dir?  0, or an errno when
 * @dir cannot be looked in. */
static int find_hive(const char *dir, bool *ret_found)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return errno;
	*ret_found =
		faccessat(fd, "hive.nix", F_OK, 0) == 0 || faccessat(fd, "flake.nix", F_OK, 0) == 0;
	close(fd);
	return 0;
}

static int bind_hive(struct enter_ctx *ctx, const struct settings *s)
{
	const char *given = option_arg(s, OPT_HIVE), *dir = given ? given : ".";
	char *host_dir;
	bool found = false;
	int e, r;

	host_dir = realpath(dir, NULL);
	if (!host_dir)
		return report_usage("--hive %s: %s", dir, enter_strerror(errno));
	/* Only this directory is seen inside, not the parents where colmena
	 * would look next: without a hive it could only fail, after activation. */
	e = find_hive(host_dir, &found);
	if (e)
		r = report_usage("--hive %s: %s", dir, enter_strerror(e));
	else if (!found && given)
		r = report_usage("--hive %s: no hive.nix or flake.nix in it", given);
	else if (!found)
		r = report_usage("no hive.nix or flake.nix in the current directory %s; --hive DIR "
				 "names the hive",
				 host_dir);
	else
		r = setter_result(enter_add_bind(ctx, host_dir, HIVE_DIR, 0), "--hive", dir);
	free(host_dir);
	return r ? r : setter_result(enter_set_workdir(ctx, HIVE_DIR), "--hive", dir);
}

static int deploy(const struct settings *s)
{
	const char *goal = s->n_args ? s->args[0] : "boot";
	char *node = NULL, *full = NULL, *shown = NULL;
	struct enter_plan *plan = NULL;
	struct enter_ctx *ctx;
	bool known = false;
	int r = 0;

	for (size_t i = 0; i < sizeof(goals) / sizeof(goals[0]); i++)
		known = known || strcmp(goal, goals[i]) == 0;
	if (s->n_args > 1)
		return report_usage("unexpected argument '%s'", s->args[1]);
	if (!known)
		return report_usage("unknown goal '%s'", goal);
	if (s->command)
		return report_usage("no command is taken after --");
	for (size_t i = 0; i < s->n_uses; i++)
		if (s->uses[i].c == OPT_NODE && !s->uses[i].arg[0])
			return report_usage("--node: an empty name");

	ctx = context_ready(s, action_flags(goal), false, &r);
	if (!ctx)
		return r;
	r = bind_hive(ctx, s);
	if (r == 0)
		plan = plan_or_report(ctx, s->dry_run, s->json, NULL, &r);
	if (r == 0 && !(node = name_or_hostname(option_arg(s, OPT_NODE), plan)))
		r = report_usage("out of memory");
	if (r == 0 && (!(full = inner_script("colmena", script)) ||
		       asprintf(&shown, "colmena apply-local --node %s %s", node, goal) < 0))
		r = report_usage("out of memory");
	if (r == 0) {
		char *argv[] = {"/bin/sh",     "-c",	 full, (char *)program_name,
				"apply-local", "--node", node, (char *)goal,
				NULL};

		r = run_inner(ctx, s, plan, argv, shown);
	}
	free(full);
	free(shown);
	free(node);
	enter_plan_free(plan);
	return context_done(ctx, r);
}

int main(int argc, char **argv)
{
	struct settings s = {};
	int r;

	program_name = "enter-deploy";
	r = parse_args(argc, argv, options, usage, &s);
	if (r == 0)
		r = deploy(&s);
	settings_free(&s);
	return r;
}
