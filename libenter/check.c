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
#include <stdarg.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <sys/stat.h>

#include <libmount.h>

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

static int detached_statvfs(const struct mount_decision *m, struct statvfs *sv)
{
	_cleanup_close_ int fs = -1, mnt = -1;
	bool ro = true;

	for (int attempt = 0; attempt < 2; attempt++, ro = false) {
		closep(&fs);
		fs = fsopen(m->fstype, FSOPEN_CLOEXEC);
		if (fs < 0)
			return -errno;
		if (fsconfig(fs, FSCONFIG_SET_STRING, "source", m->device, 0) < 0)
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

static struct boot_space boot_space_of(struct enter_ctx *ctx, const struct mount_decisions *d)
{
	struct boot_space b = {};
	struct statvfs sv;
	int r = -ENOENT;

	/* The last one decided for /boot is the one on top. */
	for (size_t i = 0; i < d->n; i++) {
		const struct mount_decision *m = &d->v[i];
		struct stat st;

		if (!streq(m->target, "/boot"))
			continue;
		if (m->verdict == MOUNT_BIND) /* --boot DIR */
			r = statvfs(m->device, &sv) < 0 ? -errno : 0;
		else if (m->verdict != MOUNT_DO)
			continue;
		else if (stat(m->device, &st) == 0 && S_ISBLK(st.st_mode))
			r = detached_statvfs(m, &sv);
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

/* What --check found, gathered for its two printers. */
struct report {
	const struct enter_plan *plan;	 /* hostname, system */
	const struct mount_decisions *d; /* the fstab and --boot */
	char *link;			 /* the profile's own link: "system-42-link" */
	char *system_path;		 /* where the profile leads, or NULL */
	unsigned long generation;
	struct boot_space space;
	char **warnings;
	char **problems; /* what would make entering or a boot-loader install fail */
};

static void report_clear(struct report *r)
{
	free(r->link);
	free(r->system_path);
	strv_free(r->warnings);
	strv_free(r->problems);
}

/* "WORD        VALUE", the value escaped. */
static void check_line(struct buf *b, const char *word, const char *value)
{
	size_t start = b->len;

	buf_printf(b, "%-11s %s", word, value);
	buf_end_line(b, start);
}

static void format_check_text(struct buf *b, const struct report *r)
{
	const struct enter_plan *plan = r->plan;
	size_t start;

	check_line(b, "root", plan->root);
	start = b->len;
	buf_printf(b, "hostname    %s (%s)", plan->hostname ? plan->hostname : "unknown",
		   plan->hostname_origin ? plan->hostname_origin : "not read");
	buf_end_line(b, start);
	if (plan->system) {
		start = b->len;
		buf_printf(b, "system      %s (%s -> %s, generation %lu)",
			   r->system_path ? r->system_path : "not found", plan->system,
			   r->link ? r->link : "?", r->generation);
		buf_end_line(b, start);
	}
	for (size_t i = 0; i < r->d->n; i++) {
		const struct mount_decision *m = &r->d->v[i];

		start = b->len;
		buf_printf(b, "mount       %-10s %s", m->target, m->spec ? m->spec : "-");
		if (m->device && !streq(m->device, m->spec))
			buf_printf(b, " = %s", m->device);
		if (m->fstype)
			buf_printf(b, " (%s)", m->fstype);
		if (m->line)
			buf_printf(b, " line %u", m->line);
		buf_printf(b, ": %s", m->state);
		buf_end_line(b, start);
	}
	if (r->space.known)
		buf_printf(b, "/boot free  %" PRIu64 " MiB of %" PRIu64 " MiB\n",
			   r->space.avail >> 20, r->space.total >> 20);
	else
		buf_printf(b, "/boot free  unknown\n");
	for (char **w = r->warnings; w && *w; w++)
		check_line(b, "warning", *w);
	for (char **p = r->problems; p && *p; p++)
		check_line(b, "problem", *p);
	buf_printf(b, "%s\n", strv_length(r->problems) ? not_ok : "ok");
}

static void format_check_json(struct buf *b, const struct report *r)
{
	const struct enter_plan *plan = r->plan;

	buf_json_member(b, "{\n  ", "root", plan->root);
	buf_json_member(b, ",\n  ", "hostname", plan->hostname);
	buf_json_member(b, ",\n  ", "hostname_origin", plan->hostname_origin);
	buf_json_member(b, ",\n  ", "system", r->system_path);
	buf_json_member(b, ",\n  ", "profile", plan->system);
	buf_json_member(b, ",\n  ", "system_link", r->link);
	buf_printf(b, ",\n  \"generation\": %lu,\n  \"mounts\": [", r->generation);
	for (size_t i = 0; i < r->d->n; i++) {
		const struct mount_decision *m = &r->d->v[i];

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
	if (r->space.known)
		buf_printf(b, "%" PRIu64 ",\n  \"boot_total_bytes\": %" PRIu64, r->space.avail,
			   r->space.total);
	else
		buf_printf(b, "null,\n  \"boot_total_bytes\": null");
	buf_printf(b, ",\n  \"warnings\": ");
	buf_json_strv(b, r->warnings);
	buf_printf(b, ",\n  \"problems\": ");
	buf_json_strv(b, r->problems);
	buf_printf(b, "\n}\n");
}

/* What can be told of a mount before trying it: the kernel knows no such
 * filesystem (vfat on a rescue kernel without it), or the device holds
 * another one than the fstab says. */
static int fstype_problem(struct report *r, const struct mount_decision *m)
{
	_cleanup_free_ char *found = NULL;
	int ambivalent = 0;

	if (!kernel_has_filesystem(m->fstype))
		return strv_pushf(&r->problems,
				  "%s: this kernel cannot mount %s: not in /proc/filesystems, no "
				  "module for it (%s)",
				  m->target, m->fstype, m->origin);
	found = mnt_get_fstype(m->device, &ambivalent, NULL);
	if (found && !ambivalent && !same_filesystem_family(found, m->fstype))
		return strv_pushf(&r->problems, "%s: the fstab says %s, %s holds %s (%s)",
				  m->target, m->fstype, m->device, found, m->origin);
	return 0;
}

/* The problems: where the plan stops, every mount that would fail (a run
 * stops at the first), and what is known to fail later. */
static int report_problems(struct enter_ctx *ctx, struct report *r)
{
	const struct mount_decisions *d = r->d;
	bool failure_listed = false;
	int n = 0;

	for (size_t i = 0; i < d->n && n >= 0; i++) {
		const struct mount_decision *m = &d->v[i];
		const char *msg = m->error ? enter_error_message(m->error) : NULL;

		if (msg && r->plan->failure && streq(msg, r->plan->failure))
			failure_listed = true;
		if (m->verdict == MOUNT_FAILS)
			n = strv_pushf(&r->problems, "%s", msg ? msg : m->state);
		else if (m->verdict == MOUNT_DO && !m->nofail)
			n = fstype_problem(r, m);
	}
	if (n >= 0 && r->plan->failure && !failure_listed)
		n = strv_pushf(&r->problems, "%s", r->plan->failure);
	if (n >= 0 && d->boot_skipped)
		n = strv_pushf(&r->problems, "/boot: %s; --boot SRC gives one", d->boot_skipped);
	if (n >= 0 && ctx->boot == ENTER_BOOT_AUTO && !d->boot_listed &&
	    !mounted_in_root(ctx->root_fd, "/boot"))
		n = strv_pushf(&r->problems, "/boot: not in %s/etc/fstab and not mounted",
			       ctx->root);
	/* No system: no activation, so no /run/current-system and none of
	 * its tools (nixos-rebuild) in PATH. */
	if (n >= 0 && r->plan->system && !r->system_path)
		n = strv_pushf(&r->problems, "%s: no system there (not found in the target)",
			       r->plan->system);
	return n < 0 ? n : 0;
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
		check_line(&b, "root", root);
		check_line(&b, "problem", problem);
		buf_printf(&b, "%s\n", not_ok);
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
	_cleanup_(targetfs_clear) struct mount_decisions d = {};
	_cleanup_(report_clear) struct report rep = {.d = &d};
	struct enter_plan *plan = NULL;
	struct enter_error *failure = NULL;
	struct buf b = {};
	int r;

	if (!ctx || !ret_text || !ret_problems)
		return error_set(err, EINVAL, "check", NULL, NULL, NULL);
	if (assemble_wanted(ctx) && !assemble_done(ctx))
		return error_set(err, EINVAL, "check", ctx->root, NULL,
				 "the target is not assembled (enter_assemble() first)");
	r = targetfs_decide(ctx, &d, &failure);
	if (r < 0 && r != -ENOMEM) {
		/* The fstab cannot be read: that is what --check reports. */
		r = enter_check_error(ctx->root, failure, fmt, ret_text);
		enter_error_free(failure);
		if (r < 0)
			return error_set(err, -r, "check", NULL, NULL, NULL);
		*ret_problems = 1;
		return 0;
	}
	enter_error_free(failure);
	failure = NULL;
	if (r >= 0)
		(void)plan_build(ctx, NULL, environ, &d, &plan, &failure);
	enter_error_free(failure);
	if (!plan)
		return error_set(err, ENOMEM, "check", NULL, NULL, NULL);
	rep.plan = plan;
	rep.generation = generation_of(ctx->root_fd, plan->system, &rep.link);
	rep.system_path = system_path_of(ctx->root_fd, plan->system);
	rep.space = boot_space_of(ctx, &d);
	r = 0;
	for (char **w = d.warnings; w && *w && r >= 0; w++)
		r = strv_push(&rep.warnings, *w);
	/* A warning, as when entering: a new generation may still fit. */
	if (r >= 0 && rep.space.known && ctx->boot_min_free && rep.space.avail < ctx->boot_min_free)
		r = strv_pushf(&rep.warnings,
			       "/boot: %" PRIu64 " MiB free, less than --boot-min-free %" PRIu64
			       " MiB: installing a new generation may fail",
			       rep.space.avail >> 20, ctx->boot_min_free >> 20);
	if (r >= 0)
		r = report_problems(ctx, &rep);
	if (r >= 0 && fmt == ENTER_FORMAT_JSON)
		format_check_json(&b, &rep);
	else if (r >= 0)
		format_check_text(&b, &rep);
	*ret_problems = (int)strv_length(rep.problems);
	plan_free(plan);
	if (r < 0 || b.oom) {
		free(b.data);
		return error_set(err, ENOMEM, "check", NULL, NULL, NULL);
	}
	*ret_text = b.data;
	return 0;
}
