/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * enter_check(): what a rebuild would find, before anything runs: the plan
 * of the fstab mounts, the hostname, the system profile and its generation,
 * free space on /boot, and the problems known in advance.  Nothing is
 * mounted anywhere: free space of a /boot that is not mounted yet is read
 * through a detached, read-only mount that is gone when its fd is closed.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <sys/stat.h>

#include "internal.h"

static const char not_ok[] = "not ok: entering or a boot-loader install would fail";

struct boot_space {
	bool known;
	uint64_t avail, total;
};

/* "system-42-link" -> 42, from the profile's own symlink; 0 if unknown. */
static unsigned long generation_of(int root_fd, const char *profile, char **ret_link)
{
	_cleanup_close_ int fd = -1;
	char link[256];
	unsigned long gen = 0;
	ssize_t n;

	if (!profile || resolve_at(root_fd, profile, O_PATH | O_NOFOLLOW, 0, &fd) < 0)
		return 0;
	n = readlinkat(fd, "", link, sizeof(link) - 1);
	if (n <= 0)
		return 0;
	link[n] = '\0';
	*ret_link = strdup(link);
	if (sscanf(link, "system-%lu-link", &gen) != 1)
		gen = 0;
	return gen;
}

/* Where the profile leads, or NULL when it leads nowhere. */
static char *system_path_of(int root_fd, const char *profile)
{
	_cleanup_free_ char *path = NULL;

	if (!profile || resolve_symlinks(root_fd, profile, &path, NULL) < 0)
		return NULL;
	return TAKE_PTR(path);
}

static int detached_statvfs(const struct step *s, struct statvfs *sv)
{
	_cleanup_close_ int fs = -1, mnt = -1;
	bool ro = true;

	for (int attempt = 0; attempt < 2; attempt++, ro = false) {
		closep(&fs);
		fs = fsopen(s->fstype, FSOPEN_CLOEXEC);
		if (fs < 0)
			return -errno;
		if (fsconfig(fs, FSCONFIG_SET_STRING, "source", s->source, 0) < 0)
			return -errno;
		/* Read-only superblock, so that looking replays no journal;
		 * refused when the device is mounted read-write elsewhere. */
		if (ro && fsconfig(fs, FSCONFIG_SET_FLAG, "ro", NULL, 0) < 0)
			continue;
		if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0)
			break;
		if (!ro)
			return -errno;
	}
	mnt = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY);
	if (mnt < 0)
		return -errno;
	return fstatvfs(mnt, sv) < 0 ? -errno : 0;
}

static struct boot_space boot_space_of(struct enter_ctx *ctx, const struct enter_plan *plan)
{
	struct boot_space b = {};
	struct statvfs sv;
	int r = -ENOENT;

	for (size_t i = 0; i < plan->n_steps; i++) {
		const struct step *s = &plan->steps[i];
		struct stat st;

		if (!streq(s->target, "/boot"))
			continue;
		if (s->kind == STEP_BIND) /* --boot DIR */
			r = statvfs(s->source, &sv) < 0 ? -errno : 0;
		else if (s->kind != STEP_FSTAB)
			continue;
		else if (stat(s->source, &st) == 0 && S_ISBLK(st.st_mode))
			r = detached_statvfs(s, &sv);
		else
			return b; /* an image file: it would need a loop device */
	}
	/* Mounted by the administrator; if nothing is mounted, ROOT/boot is a
	 * directory of ROOT's filesystem, whose free space says nothing. */
	if (r == -ENOENT && mounted_in_root(ctx->root_fd, "/boot")) {
		_cleanup_close_ int fd = -1;

		if (resolve_at(ctx->root_fd, "/boot", O_RDONLY | O_DIRECTORY, 0, &fd) == 0)
			r = fstatvfs(fd, &sv) < 0 ? -errno : 0;
	}
	if (r == 0) {
		b.known = true;
		b.avail = (uint64_t)sv.f_bavail * sv.f_frsize;
		b.total = (uint64_t)sv.f_blocks * sv.f_frsize;
	}
	return b;
}

static void format_check_text(struct buf *b, const struct enter_plan *plan, const char *link,
			      const char *system_path, unsigned long gen,
			      const struct boot_space *space, const char *warning)
{
	buf_printf(b, "root        %s\n", plan->root);
	buf_printf(b, "hostname    %s (%s)\n", plan->hostname, plan->hostname_origin);
	if (plan->system)
		buf_printf(b, "system      %s (%s -> %s, generation %lu)\n",
			   system_path ? system_path : "not found", plan->system, link ? link : "?",
			   gen);
	for (size_t i = 0; i < plan->n_mounts; i++) {
		const struct mount_report *m = &plan->mounts[i];

		buf_printf(b, "mount       %-10s %s", m->target, m->spec ? m->spec : "-");
		if (m->device && !streq(m->device, m->spec))
			buf_printf(b, " = %s", m->device);
		if (m->fstype)
			buf_printf(b, " (%s)", m->fstype);
		if (m->line)
			buf_printf(b, " line %u", m->line);
		buf_printf(b, ": %s\n", m->state);
	}
	if (space->known)
		buf_printf(b, "/boot free  %" PRIu64 " MiB of %" PRIu64 " MiB\n",
			   space->avail >> 20, space->total >> 20);
	else
		buf_printf(b, "/boot free  unknown\n");
	if (warning)
		buf_printf(b, "warning     %s\n", warning);
	for (char **p = plan->problems; p && *p; p++)
		buf_printf(b, "problem     %s\n", *p);
	buf_printf(b, "%s\n", strv_length(plan->problems) ? not_ok : "ok");
}

static void format_check_json(struct buf *b, const struct enter_plan *plan, const char *link,
			      const char *system_path, unsigned long gen,
			      const struct boot_space *space, const char *warning)
{
	buf_json_member(b, "{\n  ", "root", plan->root);
	buf_json_member(b, ",\n  ", "hostname", plan->hostname);
	buf_json_member(b, ",\n  ", "hostname_origin", plan->hostname_origin);
	buf_json_member(b, ",\n  ", "system", system_path);
	buf_json_member(b, ",\n  ", "profile", plan->system);
	buf_json_member(b, ",\n  ", "system_link", link);
	buf_printf(b, ",\n  \"generation\": %lu,\n  \"mounts\": [", gen);
	for (size_t i = 0; i < plan->n_mounts; i++) {
		const struct mount_report *m = &plan->mounts[i];

		buf_printf(b, "%s\n    {\"target\": ", i ? "," : "");
		buf_json_string(b, m->target);
		buf_json_member(b, ", ", "source", m->spec);
		buf_json_member(b, ", ", "device", m->device);
		buf_json_member(b, ", ", "fstype", m->fstype);
		buf_printf(b, ", \"line\": %u, \"state\": ", m->line);
		buf_json_string(b, m->state);
		buf_printf(b, "}");
	}
	buf_printf(b, "\n  ],\n  \"boot_free_bytes\": ");
	if (space->known)
		buf_printf(b, "%" PRIu64 ",\n  \"boot_total_bytes\": %" PRIu64, space->avail,
			   space->total);
	else
		buf_printf(b, "null,\n  \"boot_total_bytes\": null");
	buf_printf(b, ",\n  \"warnings\": [");
	if (warning)
		buf_json_string(b, warning);
	buf_printf(b, "],\n  \"problems\": [");
	for (size_t i = 0; plan->problems && plan->problems[i]; i++) {
		buf_printf(b, i ? ", " : "");
		buf_json_string(b, plan->problems[i]);
	}
	buf_printf(b, "]\n}\n");
}

_public_ int enter_check_error(const char *root, const struct enter_error *failure,
			       enum enter_format fmt, char **ret_text)
{
	const char *problem = failure ? enter_error_message(failure) : NULL;
	struct buf b = {};

	if (!root || !problem || !ret_text)
		return -EINVAL;
	if (fmt == ENTER_FORMAT_JSON) {
		buf_json_member(&b, "{\n  ", "root", root);
		buf_printf(&b, ",\n  \"warnings\": [],\n  \"problems\": [");
		buf_json_string(&b, problem);
		buf_printf(&b, "]\n}\n");
	} else {
		buf_printf(&b, "root        %s\n", root);
		buf_printf(&b, "problem     %s\n%s\n", problem, not_ok);
	}
	if (b.oom) {
		free(b.data);
		return -ENOMEM;
	}
	*ret_text = b.data;
	return 0;
}

_public_ int enter_check(struct enter_ctx *ctx, enum enter_format fmt, char **ret_text,
			 int *ret_problems, struct enter_error **err)
{
	extern char **environ;
	struct enter_plan *plan = NULL;
	struct enter_error *failure = NULL;
	_cleanup_free_ char *link = NULL, *system_path = NULL, *low_boot = NULL;
	struct boot_space space;
	struct buf b = {};
	unsigned long gen;
	int r;

	if (!ctx || !ret_text || !ret_problems)
		return error_set(err, EINVAL, "check", NULL, NULL, NULL);
	r = plan_build(ctx, NULL, environ, true, &plan, &failure);
	if (r == -ENOMEM)
		return error_set(err, ENOMEM, "check", NULL, NULL, NULL);
	if (r < 0) {
		/* Something in the target stops enter before it could look
		 * further (ROOT/dev a symlink): that is what --check reports. */
		r = enter_check_error(ctx->root, failure, fmt, ret_text);
		enter_error_free(failure);
		if (r < 0)
			return error_set(err, -r, "check", NULL, NULL, NULL);
		*ret_problems = 1;
		return 0;
	}
	gen = generation_of(ctx->root_fd, plan->system, &link);
	system_path = system_path_of(ctx->root_fd, plan->system);
	space = boot_space_of(ctx, plan);
	r = 0;
	/* A warning, as when entering: a new generation may still fit. */
	if (space.known && ctx->boot_min_free && space.avail < ctx->boot_min_free &&
	    xasprintf(&low_boot,
		      "/boot: %" PRIu64 " MiB free, less than --boot-min-free %" PRIu64
		      " MiB: installing a new generation may fail",
		      space.avail >> 20, ctx->boot_min_free >> 20) < 0)
		r = -ENOMEM;
	/* No system: no activation, so no /run/current-system and none of its
	 * tools (nixos-rebuild) in PATH. */
	if (r >= 0 && plan->system && !system_path)
		r = plan_add_problem(plan, "%s: no system there (not found in the target)",
				     plan->system);
	if (r < 0) {
		plan_free(plan);
		return error_set(err, ENOMEM, "check", NULL, NULL, NULL);
	}
	if (fmt == ENTER_FORMAT_JSON)
		format_check_json(&b, plan, link, system_path, gen, &space, low_boot);
	else
		format_check_text(&b, plan, link, system_path, gen, &space, low_boot);
	*ret_problems = (int)strv_length(plan->problems);
	plan_free(plan);
	if (b.oom) {
		free(b.data);
		return error_set(err, ENOMEM, "check", NULL, NULL, NULL);
	}
	*ret_text = b.data;
	return 0;
}
