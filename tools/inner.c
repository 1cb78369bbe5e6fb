/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inner.h"
#include "output.h"

unsigned action_flags(const char *action)
{
	return strcmp(action, "boot") == 0 || strcmp(action, "switch") == 0 ? ENTER_REQUIRE_BOOT
									    : 0;
}

char *name_or_hostname(const char *given, const struct enter_plan *plan)
{
	const char *name = given ? given : enter_plan_hostname(plan);

	return name ? strdup(name) : NULL;
}

static int print_json_result(const char *display, int status, long before, long after)
{
	char *command = NULL;

	if (enter_format_json_string(display, &command) < 0)
		return -1;
	printf("{\"command\": %s, \"status\": %d, \"generation_before\": ", command, status);
	printf(before >= 0 ? "%ld" : "null", before);
	printf(", \"generation_after\": ");
	printf(after >= 0 ? "%ld" : "null", after);
	printf("}\n");
	free(command);
	return 0;
}

int run_inner(struct enter_ctx *ctx, const struct settings *s, struct enter_plan *plan,
	      char *const argv[], const char *display)
{
	struct enter_error *err = NULL;
	long before, after;
	int status = 0, r;

	r = enter_plan_set_command(plan, argv);
	if (r < 0)
		return report_usage("plan %s: the command: %s", s->root, enter_strerror(r));
	if (s->dry_run) {
		r = print_plan(plan, s->json);
		if (r == 0 && !s->json)
			printf("command: %s\n", display);
		return r;
	}
	fprintf(stderr, "%s: running %s\n", program_name, display);
	before = enter_system_generation(ctx);
	if (enter_run_plan(ctx, plan, &status, &err) < 0)
		return report_error(err);
	after = enter_system_generation(ctx);
	if (before >= 0 && after >= 0 && after != before)
		fprintf(stderr, "%s: generation %ld -> %ld\n", program_name, before, after);
	else if (after >= 0)
		fprintf(stderr, "%s: generation %ld (unchanged)\n", program_name, after);
	if (status != 0)
		fprintf(stderr, "%s: %s failed with status %d\n", program_name, display, status);
	if (s->json && print_json_result(display, status, before, after) < 0)
		return report_usage("out of memory");
	return status;
}

char *join_words(char *const words[])
{
	size_t len = 1;
	char *out, *p;

	for (size_t i = 0; words[i]; i++)
		len += strlen(words[i]) + 1;
	out = malloc(len);
	if (!out)
		return NULL;
	p = out;
	for (size_t i = 0; words[i]; i++)
		p += sprintf(p, "%s%s", i ? " " : "", words[i]);
	*p = '\0';
	return out;
}

/* Around the tool inside: the loader entries that were not there before are
 * the ones this run wrote, where the administrator will look at boot. */
static const char boot_entries_before[] =
	"b=\" $(echo $(ls /boot/loader/entries 2>/dev/null)) \"; ";
static const char boot_entries_after[] =
	"s=$?; if [ $s = 0 ]; then for e in $(ls /boot/loader/entries 2>/dev/null); do"
	" case \"$b\" in *\" $e \"*) ;;"
	" *) echo \"$0: boot entry /boot/loader/entries/$e\" >&2 ;; esac; done; fi; exit $s";

/* @tool looked up first, so that a target without it gets a line of ours
 * (the shell's own says "line 0: nixos-rebuild: not found"), then @body
 * between the boot entries' before and after. */
char *inner_script(const char *tool, const char *body)
{
	char *script;

	if (asprintf(&script,
		     "command -v %s >/dev/null || { echo \"$0: %s: command not found in the target"
		     " (PATH=$PATH)\" >&2; exit 127; }; %s%s; %s",
		     tool, tool, boot_entries_before, body, boot_entries_after) < 0)
		return NULL;
	return script;
}
