/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* enter-rebuild: the target's nixos-rebuild, from inside, non-interactively. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "inner.h"
#include "options.h"
#include "output.h"

enum {
	OPT_FLAKE = OPT_COMMON_LAST,
};

#define FLAKE_DIR "/run/enter/flake"

static const char usage[] =
	"Usage: enter-rebuild [OPTIONS] ROOT [ACTION] [--flake REF] [-- EXTRA...]\n"
	"\n"
	"Run the target's `nixos-rebuild ACTION` inside ROOT (see enter(1)), with\n"
	"/boot mounted from the target's fstab, the target's hostname and DNS.\n"
	"ACTION: boot (the default), switch, test, build, dry-build, dry-activate.\n"
	"/boot is required for boot and switch. Exit status: nixos-rebuild's; 125 when\n"
	"enter-rebuild itself failed, before anything ran.\n"
	"\n"
	"      --flake REF      REF is DIR, DIR#ATTR or any flake reference; a DIR on this\n"
	"                       system is bound at " FLAKE_DIR "; ATTR defaults to\n"
	"                       the target's hostname\n";

static const struct option options[] = {
	{"flake", required_argument, NULL, OPT_FLAKE},
	{},
};

static const char *const actions[] = {"boot",  "switch",    "test",
				      "build", "dry-build", "dry-activate"};

static bool known_action(const char *a)
{
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		if (strcmp(a, actions[i]) == 0)
			return true;
	return false;
}

/* A flake reference nix reads as a path: absolute, or starting with a dot. */
static bool is_path(const char *ref)
{
	return ref[0] == '/' || ref[0] == '.';
}

/* The DIR of "DIR#ATTR" as nixos-rebuild inside sees it: a DIR on this
 * system is bound in, at FLAKE_DIR.  NULL after printing why not. */
static char *flake_dir(struct enter_ctx *ctx, const char *ref, int *ret_code)
{
	const char *hash = strchr(ref, '#');
	char *dir, *host_dir;
	struct stat st;
	bool here;

	dir = hash ? strndup(ref, hash - ref) : strdup(ref);
	if (!dir) {
		*ret_code = report_usage("out of memory");
		return NULL;
	}
	here = stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
	/* A path that is no directory here would reach nixos-rebuild inside
	 * and fail there, after activation; say so now. An absolute one may
	 * name the target's own configuration (/etc/nixos). */
	if (!here && is_path(dir) &&
	    !(dir[0] == '/' && enter_stat_in_root(ctx, dir, &st) == 0 && S_ISDIR(st.st_mode))) {
		*ret_code = report_usage("--flake %s: no such directory, on this system%s", dir,
					 dir[0] == '/' ? " or in the target" : "");
		free(dir);
		return NULL;
	}
	if (!here)
		return dir;
	host_dir = realpath(dir, NULL);
	*ret_code = host_dir ? setter_result(enter_add_bind(ctx, host_dir, FLAKE_DIR, 0), "--flake",
					     ref)
			     : report_usage("--flake %s: cannot resolve", dir);
	free(host_dir);
	free(dir);
	return *ret_code ? NULL : strdup(FLAKE_DIR);
}

/* "DIR#ATTR", ATTR by default the hostname the plan gives the target. */
static char *flake_argument(const char *dir, const char *ref, const struct enter_plan *plan)
{
	const char *hash = strchr(ref, '#');
	char *attr = name_or_hostname(hash && hash[1] ? hash + 1 : NULL, plan), *result = NULL;

	if (attr && asprintf(&result, "%s#%s", dir, attr) < 0)
		result = NULL;
	free(attr);
	return result;
}

static int rebuild(const struct settings *s)
{
	const char *action = s->n_args ? s->args[0] : "boot";
	char *flake = NULL, *dir = NULL, *display = NULL, **argv = NULL;
	struct enter_plan *plan = NULL;
	const char *ref = NULL;
	struct enter_ctx *ctx;
	size_t n = 0, n_extra = 0;
	int r = 0;

	if (s->n_args > 1)
		return report_usage("unexpected argument '%s' (extra arguments go after --)",
				    s->args[1]);
	if (!known_action(action))
		return report_usage("unknown action '%s'", action);
	if (strcmp(action, "switch") == 0 || strcmp(action, "test") == 0)
		fprintf(stderr,
			"%s: warning: '%s' activates the new system in this rescue environment, "
			"which is rarely wanted; 'boot' makes it the default at the next boot\n",
			program_name, action);

	ctx = context_ready(s, action_flags(action), false, &r);
	if (!ctx)
		return r;
	for (size_t i = 0; r == 0 && i < s->n_uses; i++)
		if (s->uses[i].c == OPT_FLAKE) {
			ref = s->uses[i].arg;
			free(dir);
			if (!(dir = flake_dir(ctx, ref, &r)))
				r = r ? r : 125;
		}
	if (r == 0)
		plan = plan_or_report(ctx, s->dry_run, s->json, NULL, &r);
	if (r == 0 && dir && !(flake = flake_argument(dir, ref, plan)))
		r = report_usage("out of memory");

	while (s->command && s->command[n_extra])
		n_extra++;
	argv = calloc(n_extra + 10, sizeof(char *));
	if (r == 0 && !argv)
		r = report_usage("out of memory");
	if (r == 0) {
		char *script = inner_script("nixos-rebuild", "nixos-rebuild \"$@\"");

		argv[n++] = "/bin/sh";
		argv[n++] = "-c";
		argv[n++] = script;
		argv[n++] = (char *)program_name;
		argv[n++] = (char *)action;
		if (flake) {
			argv[n++] = "--flake";
			argv[n++] = flake;
		}
		for (size_t i = 0; i < n_extra; i++)
			argv[n++] = s->command[i];
		display = join_words(argv + 4);
		r = script && display ? 0 : report_usage("out of memory");
	}
	if (r == 0) {
		char *shown = NULL;

		if (asprintf(&shown, "nixos-rebuild %s", display) < 0)
			r = report_usage("out of memory");
		else
			r = run_inner(ctx, s, plan, argv, shown);
		free(shown);
	}
	if (argv)
		free(argv[2]);
	free(argv);
	free(display);
	free(flake);
	free(dir);
	enter_plan_free(plan);
	return context_done(ctx, r);
}

int main(int argc, char **argv)
{
	struct settings s = {};
	int r;

	program_name = "enter-rebuild";
	r = parse_args(argc, argv, options, usage, &s);
	if (r == 0)
		r = rebuild(&s);
	settings_free(&s);
	return r;
}
