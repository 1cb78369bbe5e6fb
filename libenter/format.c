/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The plan as text (a line per step, for --dry-run) and as JSON.  One
 * switch over the step kinds, without a default, like the executor's in
 * setup.c: -Wswitch-enum stops the build when a kind is missing in either.
 */
#include <inttypes.h>
#include <sys/mount.h>

#include "internal.h"

const char *step_kind_name(enum step_kind kind)
{
	switch (kind) {
	case STEP_NAMESPACES:
		return "namespaces";
	case STEP_PROPAGATION:
		return "propagation";
	case STEP_ROOT:
		return "root";
	case STEP_MKDIR:
		return "mkdir";
	case STEP_MKFILE:
		return "mkfile";
	case STEP_PROC:
		return "proc";
	case STEP_TMPFS:
		return "tmpfs";
	case STEP_DEVPTS:
		return "devpts";
	case STEP_BIND:
		return "bind";
	case STEP_FSTAB:
		return "mount";
	case STEP_BOOT_SPACE:
		return "boot-space";
	case STEP_HOSTNAME:
		return "hostname";
	case STEP_PIVOT:
		return "pivot_root";
	case STEP_TERMINAL:
		return "terminal";
	case STEP_HARDEN:
		return "harden";
	case STEP_ACTIVATE:
		return "activate";
	case STEP_TMPFILES:
		return "tmpfiles";
	case STEP_RESOLV:
		return "resolv.conf";
	case STEP_LUKS_OPEN:
		return "luks-open";
	case STEP_LUKS_CLOSE:
		return "luks-close";
	}
	return "?";
}

static void attr_words(struct buf *b, uint64_t attr, bool json)
{
	static const struct {
		uint64_t bit;
		const char *word;
	} words[] = {
		{MOUNT_ATTR_RDONLY, "ro"},
		{MOUNT_ATTR_NOSUID, "nosuid"},
		{MOUNT_ATTR_NODEV, "nodev"},
		{MOUNT_ATTR_NOEXEC, "noexec"},
		{MOUNT_ATTR_NOATIME, "noatime"},
		{MOUNT_ATTR_STRICTATIME, "strictatime"},
		{MOUNT_ATTR_NODIRATIME, "nodiratime"},
	};
	bool first = true;

	for (size_t i = 0; i < ELEMENTSOF(words); i++) {
		if (!(attr & words[i].bit))
			continue;
		if (json)
			buf_printf(b, "%s\"%s\"", first ? "" : ",", words[i].word);
		else
			buf_printf(b, "%s%s", first ? "" : ",", words[i].word);
		first = false;
	}
}

static void format_step_text(struct buf *b, const struct step *s, const struct enter_plan *plan)
{
	size_t start = b->len;

	switch (s->kind) {
	case STEP_NAMESPACES:
		buf_printf(b, "unshare   %s (pid: pid 1 forked into a new one)", s->fs_options);
		break;
	case STEP_PROPAGATION:
		buf_printf(b, "mount     --make-%s %s (nothing propagates back to the host)",
			   s->fs_options, s->target);
		break;
	case STEP_ROOT:
		if (s->fstype)
			buf_printf(b, "mount     %s on / (%s%s%s, ROOT in the namespace only)",
				   s->source, s->fstype, s->fs_options ? "," : "",
				   s->fs_options ? s->fs_options : "");
		else
			buf_printf(b, "bind      %s -> / (recursive, a mount point for pivot_root)",
				   s->source);
		break;
	case STEP_MKDIR:
		buf_printf(b, "mkdir     %s (mode %04o)", s->target, s->mode);
		break;
	case STEP_MKFILE:
		buf_printf(b, "mkfile    %s (empty, mode %04o)", s->target, s->mode);
		break;
	case STEP_PROC:
	case STEP_TMPFS:
	case STEP_DEVPTS:
		buf_printf(b, "mount     %s on %s", s->fstype, s->target);
		if (s->fs_options)
			buf_printf(b, " (%s)", s->fs_options);
		break;
	case STEP_BIND:
		buf_printf(b, "bind      %s -> %s (recursive)", s->source, s->target);
		break;
	case STEP_FSTAB:
		buf_printf(b, "mount     %s on %s (%s%s%s)", s->source, s->target, s->fstype,
			   s->fs_options ? "," : "", s->fs_options ? s->fs_options : "");
		break;
	case STEP_BOOT_SPACE:
		buf_printf(b, "check     free space on %s (warn below %" PRIu64 " MiB)", s->target,
			   plan->boot_min_free >> 20);
		break;
	case STEP_HOSTNAME:
		buf_printf(b, "hostname  %s", s->source);
		break;
	case STEP_PIVOT:
		buf_printf(b, "pivot     into %s", s->source);
		break;
	case STEP_TERMINAL:
		buf_printf(b,
			   "terminal  a pseudo-terminal of its own for the command (%s inside), "
			   "relayed by enter",
			   s->target);
		break;
	case STEP_HARDEN:
		buf_printf(b, "harden    seccomp filter and capability drop for every program "
			      "started inside");
		break;
	case STEP_ACTIVATE:
		buf_printf(b, "activate  %s", s->source);
		if (plan->flags & ENTER_STRICT)
			buf_printf(b, " (failure is an error)");
		break;
	case STEP_TMPFILES:
		buf_printf(b, "tmpfiles  %s --create --remove -E", s->source);
		break;
	case STEP_RESOLV:
		buf_printf(b, "bind      host %s -> %s", s->source, s->target);
		break;
	case STEP_LUKS_OPEN:
		if (s->fs_options)
			buf_printf(b, "use       %s (on %s, open already: left open)", s->target,
				   s->source);
		else
			buf_printf(b, "open      luks %s as %s (before the namespaces)", s->source,
				   s->target);
		break;
	case STEP_LUKS_CLOSE:
		buf_printf(b, "close     %s (after the run, the namespaces gone)", s->target);
		break;
	}
	if (s->attr) {
		buf_printf(b, " [");
		attr_words(b, s->attr, false);
		buf_printf(b, "]");
	}
	buf_printf(b, "  # %s", s->origin ? s->origin : "default");
	buf_end_line(b, start);
}

/* One line of text: "WORD      VALUE", the value escaped. */
static void format_line(struct buf *b, const char *word, const char *value)
{
	size_t start = b->len;

	buf_printf(b, "%-9s %s", word, value);
	buf_end_line(b, start);
}

static void format_text(struct buf *b, const struct enter_plan *plan)
{
	size_t start;

	for (size_t i = 0; i < plan->n_steps; i++)
		format_step_text(b, &plan->steps[i], plan);
	if (plan->failure) {
		format_line(b, "failed", plan->failure);
		return;
	}
	if (plan->pending) {
		format_line(b, "then", plan->pending);
		return;
	}
	start = b->len;
	buf_printf(b, "exec     ");
	for (char **a = plan->argv; *a; a++)
		buf_printf(b, " %s", *a);
	buf_end_line(b, start);
	if (!streq(plan->workdir, "/"))
		format_line(b, "cwd", plan->workdir);
	for (char **e = plan->envp; *e; e++)
		format_line(b, "env", *e);
	if (plan->preserve_fds)
		buf_printf(b, "fds       0-%d\n", 2 + plan->preserve_fds);
}

static void format_json(struct buf *b, const struct enter_plan *plan)
{
	buf_json_member(b, "{\n  ", "root", plan->root);
	buf_json_member(b, ",\n  ", "system", plan->system);
	buf_json_member(b, ",\n  ", "hostname", plan->hostname);
	buf_json_member(b, ",\n  ", "hostname_origin", plan->hostname_origin);
	buf_printf(b, ",\n  \"steps\": [");
	for (size_t i = 0; i < plan->n_steps; i++) {
		const struct step *s = &plan->steps[i];

		buf_printf(b, "%s\n    {\"kind\": \"%s\", \"source\": ", i ? "," : "",
			   step_kind_name(s->kind));
		buf_json_string(b, s->source);
		buf_json_member(b, ", ", "target", s->target);
		buf_json_member(b, ", ", "fstype", s->fstype);
		buf_json_member(b, ", ", "options", s->fs_options);
		buf_printf(b, ", \"flags\": [");
		attr_words(b, s->attr, true);
		buf_printf(b, "]");
		if (s->kind == STEP_MKDIR || s->kind == STEP_MKFILE)
			buf_printf(b, ", \"mode\": \"%04o\"", s->mode);
		buf_json_member(b, ", ", "origin", s->origin ? s->origin : "default");
		buf_printf(b, "}");
	}
	buf_printf(b, "\n  ],\n  \"error\": ");
	buf_json_string(b, plan->failure);
	if (plan->pending)
		buf_json_member(b, ",\n  ", "pending", plan->pending);
	if (plan->failure || plan->pending) {
		buf_printf(b, "\n}\n");
		return;
	}
	buf_printf(b, ",\n  \"command\": ");
	buf_json_strv(b, plan->argv);
	buf_json_member(b, ",\n  ", "workdir", plan->workdir);
	buf_printf(b, ",\n  \"environment\": ");
	buf_json_strv(b, plan->envp);
	buf_printf(b, ",\n  \"preserve_fds\": %d\n}\n", plan->preserve_fds);
}

_public_ int enter_plan_format(const struct enter_plan *plan, enum enter_format fmt, char **ret)
{
	struct buf b = {};

	if (!plan || !ret)
		return -EINVAL;
	switch (fmt) {
	case ENTER_FORMAT_TEXT:
		format_text(&b, plan);
		break;
	case ENTER_FORMAT_JSON:
		format_json(&b, plan);
		break;
	default:
		return -EINVAL;
	}
	if (b.oom) {
		free(b.data);
		return -ENOMEM;
	}
	*ret = b.data;
	return 0;
}
