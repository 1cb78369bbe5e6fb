/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The target's filesystems: one walk of ROOT/etc/fstab (and --boot SRC)
 * that decides, for each entry, what a run does with it.  plan.c makes
 * steps of the decisions, check.c reports them; neither walks the fstab
 * itself, so what --check says is what a run does.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

#include <libmount.h>

#include "internal.h"

static inline void mnt_unref_cachep(struct libmnt_cache **c)
{
	mnt_unref_cache(*c);
}

void targetfs_clear(struct mount_decisions *d)
{
	for (size_t i = 0; i < d->n; i++) {
		struct mount_decision *m = &d->v[i];

		free(m->target);
		free(m->spec);
		free(m->device);
		free(m->fstype);
		free(m->fs_options);
		free(m->origin);
		enter_error_free(m->error);
	}
	free(d->v);
	strv_free(d->warnings);
	free(d->boot_skipped);
	*d = (struct mount_decisions){};
}

/* A new decision for @e, with what every verdict has. */
static struct mount_decision *decision_add(struct mount_decisions *d, const struct fstab_entry *e,
					   const char *origin, enum mount_verdict verdict,
					   const char *state)
{
	struct mount_decision *v, *m;

	v = realloc(d->v, (d->n + 1) * sizeof(*v));
	if (!v)
		return NULL;
	d->v = v;
	m = &v[d->n];
	*m = (struct mount_decision){
		.verdict = verdict,
		.state = state,
		.line = e->line,
		.nofail = e->nofail,
		.target = strdup(e->target),
		.spec = strdup_or_null(e->spec),
		.fstype = strdup_or_null(e->fstype),
		.origin = strdup_or_null(origin),
	};
	if (!m->target || (e->spec && !m->spec) || (e->fstype && !m->fstype) ||
	    (origin && !m->origin)) {
		free(m->target);
		free(m->spec);
		free(m->fstype);
		free(m->origin);
		return NULL;
	}
	d->n++;
	return m;
}

/* A run would stop at @e: @error (taken) says why. */
static int decide_fails(struct mount_decisions *d, const struct fstab_entry *e, const char *origin,
			const char *state, const char *device, struct enter_error *error)
{
	struct mount_decision *m = decision_add(d, e, origin, MOUNT_FAILS, state);

	if (!m || !error || (device && !(m->device = strdup(device)))) {
		enter_error_free(error);
		return -ENOMEM;
	}
	m->error = error;
	return 0;
}

/* A filesystem to mount: its source found, its type known, its mount point
 * one a mount may land on. */
static int decide_filesystem(struct enter_ctx *ctx, struct mount_decisions *d,
			     struct libmnt_cache *cache, const struct fstab_entry *e,
			     const char *origin)
{
	_cleanup_free_ char *device = NULL, *probed = NULL, *fs_options = NULL;
	_cleanup_close_ int fd = -1;
	struct enter_error *error = NULL;
	struct mount_decision *m;
	const char *fstype = e->fstype;
	uint64_t attr = 0;
	int r;

	r = fstab_resolve_source(e->spec, cache, &device);
	if (r == -ENOMEM)
		return r;
	if (r < 0 && e->nofail) {
		/* As at boot: the system comes up without it. */
		if (!decision_add(d, e, origin, MOUNT_ABSENT, "missing (nofail: not mounted)"))
			return -ENOMEM;
		return strv_pushf(&d->warnings,
				  "mount %s (%s): source not found; nofail, so entering "
				  "without it",
				  e->target, origin);
	}
	if (r < 0) {
		error_set(&error, -r, "mount", e->target, origin, NULL);
		return decide_fails(d, e, origin, "missing", NULL, error);
	}
	if (!fstype || !*fstype || streq(fstype, "auto")) {
		int ambivalent = 0;

		probed = mnt_get_fstype(device, &ambivalent, NULL);
		if (!probed || ambivalent) {
			error_set(&error, ENOMEDIUM, "mount", e->target, origin,
				  "cannot tell the filesystem type of %s", device);
			return decide_fails(d, e, origin, "unknown filesystem", device, error);
		}
		fstype = probed;
	}
	/* A mount point must be a real directory: a symlink, even one that
	 * stays inside ROOT, could put the ESP over /etc.  A missing one is
	 * made by the plan. */
	r = resolve_at(ctx->root_fd, e->target, O_PATH | O_DIRECTORY, RESOLVE_API, &fd);
	if (r < 0 && r != -ENOENT) {
		error_set(&error, -r, "resolve", e->target, origin, "%s", resolve_strerror(r));
		return decide_fails(d, e, origin, "refused: an unsafe mount point", device, error);
	}
	r = fstab_options(e, &attr, &fs_options);
	if (r < 0)
		return r;
	m = decision_add(d, e, origin, MOUNT_DO, "to mount");
	if (!m)
		return -ENOMEM;
	m->device = TAKE_PTR(device);
	m->attr = attr;
	if (*fs_options)
		m->fs_options = TAKE_PTR(fs_options);
	if (probed) {
		free(m->fstype);
		m->fstype = TAKE_PTR(probed);
	}
	return 0;
}

/* --boot SRC: a directory is bound, a device or an image is mounted. */
static int decide_boot_source(struct enter_ctx *ctx, struct mount_decisions *d)
{
	struct fstab_entry e = {.spec = ctx->boot_src,
				.target = "/boot",
				.fstype = "auto",
				.vfs_options = "",
				.fs_options = "",
				.user_options = ""};
	struct enter_error *error = NULL;
	struct mount_decision *m;
	struct stat st;

	if (mounted_in_root(ctx->root_fd, "/boot")) {
		if (!decision_add(d, &e, "--boot", MOUNT_PRESENT, "already mounted"))
			return -ENOMEM;
		return strv_pushf(&d->warnings,
				  "--boot %s: not used, something is mounted on %s/boot already",
				  ctx->boot_src, ctx->root);
	}
	if (stat(ctx->boot_src, &st) < 0) {
		error_set(&error, errno, "mount", "/boot", "--boot", "%s: %s", ctx->boot_src,
			  errtext(errno));
		return decide_fails(d, &e, "--boot", "missing", NULL, error);
	}
	if (!S_ISDIR(st.st_mode))
		return decide_filesystem(ctx, d, NULL, &e, "--boot");
	e.fstype = "bind";
	m = decision_add(d, &e, "--boot", MOUNT_BIND, "to bind");
	if (!m || !(m->device = strdup(ctx->boot_src)))
		return -ENOMEM;
	return 0;
}

/* Reads and parses ROOT/etc/fstab: a missing one has no entries. */
static int read_fstab(struct enter_ctx *ctx, struct mount_decisions *d, struct fstab_entry **ret,
		      size_t *ret_n, struct enter_error **err)
{
	_cleanup_free_ char *text = NULL;
	unsigned bad_line;
	int r;

	r = resolve_file_read(ctx->root_fd, "/etc/fstab", 1 << 20, &text);
	if (r == -ENOENT)
		text = strdup("");
	else if (r < 0)
		return error_set(err, -r, "fstab", "/etc/fstab", NULL,
				 "%s; --boot none enters without reading it",
				 resolve_strerror_how(r, 0));
	if (!text)
		return error_set(err, ENOMEM, "fstab", "/etc/fstab", NULL, NULL);
	r = fstab_parse_text(text, ret, ret_n, &bad_line);
	if (r < 0)
		return error_set(err, -r, "fstab", "/etc/fstab", NULL, NULL);
	if (bad_line && strv_pushf(&d->warnings, "%s/etc/fstab line %u: cannot parse, ignored",
				   ctx->root, bad_line) < 0)
		return error_set(err, ENOMEM, "fstab", "/etc/fstab", NULL, NULL);
	return 0;
}

/* The fstab's /boot lines: the first mounted one, a second stacked over it,
 * or one enter does not mount, which a boot-loader install then lacks. */
static int decide_boot_line(struct enter_ctx *ctx, struct mount_decisions *d,
			    const struct fstab_entry *e, const char *why, unsigned *boot_line)
{
	if (!streq(e->target, "/boot"))
		return 0;
	d->boot_listed = true;
	if (!why && *boot_line)
		return strv_pushf(&d->warnings,
				  "%s/etc/fstab lines %u and %u both mount /boot: the second "
				  "is mounted over the first",
				  ctx->root, *boot_line, e->line);
	if (!why) {
		*boot_line = e->line;
		return 0;
	}
	if (ctx->boot != ENTER_BOOT_AUTO || d->boot_skipped ||
	    mounted_in_root(ctx->root_fd, "/boot"))
		return 0;
	return xasprintf(&d->boot_skipped,
			 "%s/etc/fstab line %u is a %s, which enter does not mount", ctx->root,
			 e->line, why);
}

int targetfs_decide(struct enter_ctx *ctx, struct mount_decisions *d, struct enter_error **err)
{
	_cleanup_(mnt_unref_cachep) struct libmnt_cache *cache = NULL;
	struct fstab_entry *entries = NULL;
	bool all = ctx->flags & ENTER_FSTAB;
	unsigned boot_line = 0; /* the first /boot entry mounted */
	size_t n = 0;
	int r = 0;

	*d = (struct mount_decisions){};
	if (ctx->boot == ENTER_BOOT_SRC)
		r = decide_boot_source(ctx, d);
	if (r < 0)
		goto oom;
	if (ctx->boot != ENTER_BOOT_AUTO && !all)
		return 0;
	r = read_fstab(ctx, d, &entries, &n, err);
	if (r < 0) {
		targetfs_clear(d);
		return r;
	}
	cache = mnt_new_cache();
	if (!cache)
		r = -ENOMEM;

	for (size_t i = 0; i < n && r >= 0; i++) {
		const struct fstab_entry *e = &entries[i];
		const char *why = fstab_skip_reason(e, ctx->boot, all);
		_cleanup_free_ char *origin = NULL;

		r = decide_boot_line(ctx, d, e, why, &boot_line);
		if (r >= 0)
			r = xasprintf(&origin, "%s from %s/etc/fstab line %u", e->spec, ctx->root,
				      e->line);
		if (r < 0)
			break;
		if (why)
			r = decision_add(d, e, origin, MOUNT_SKIPPED, why) ? 0 : -ENOMEM;
		else if (mounted_in_root(ctx->root_fd, e->target))
			r = decision_add(d, e, origin, MOUNT_PRESENT, "already mounted") ? 0
											 : -ENOMEM;
		else
			r = decide_filesystem(ctx, d, cache, e, origin);
	}
	fstab_free(entries, n);
	if (r >= 0)
		return 0;
oom:
	targetfs_clear(d);
	return error_set(err, -r, "fstab", "/etc/fstab", NULL, NULL);
}
