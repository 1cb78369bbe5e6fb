/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Putting the target together from its disks before a run, and taking it
 * apart after (enter(1) ASSEMBLING): LUKS containers opened in the order
 * given, then the root device mounted detached.  Nothing is attached to a
 * directory of the host: pid 1 moves the root onto ROOT in its own
 * namespace, where it vanishes with the run.  What was there before enter
 * (a mapping open already) is used as it is and left as it was.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <libmount.h>

#include "internal.h"

_public_ int enter_set_root_device(struct enter_ctx *ctx, const char *device, const char *options)
{
	_cleanup_free_ char *dev = NULL, *opts = NULL;

	if (!ctx || (device && !*device) || (options && !device))
		return -EINVAL;
	if (ctx->assembled)
		return -EBUSY;
	dev = strdup_or_null(device);
	opts = strdup_or_null(options);
	if ((device && !dev) || (options && !opts))
		return -ENOMEM;
	free(ctx->root_device);
	free(ctx->root_options);
	ctx->root_device = TAKE_PTR(dev);
	ctx->root_options = TAKE_PTR(opts);
	return 0;
}

_public_ int enter_add_luks(struct enter_ctx *ctx, const char *device, const char *name)
{
	struct part *v;

	if (!ctx || !device || !*device || (name && (!*name || strchr(name, '/'))))
		return -EINVAL;
	if (ctx->assembled)
		return -EBUSY;
	v = realloc(ctx->parts, (ctx->n_parts + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	ctx->parts = v;
	v[ctx->n_parts] = (struct part){
		.kind = PART_LUKS, .spec = strdup(device), .name = strdup_or_null(name)};
	if (!v[ctx->n_parts].spec || (name && !v[ctx->n_parts].name)) {
		free(v[ctx->n_parts].spec);
		free(v[ctx->n_parts].name);
		return -ENOMEM;
	}
	ctx->n_parts++;
	return 0;
}

_public_ int enter_add_key_file(struct enter_ctx *ctx, const char *name, const char *path)
{
	struct key_file *v;

	if (!ctx || !path || !*path || (name && !*name))
		return -EINVAL;
	v = realloc(ctx->keys, (ctx->n_keys + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	ctx->keys = v;
	v[ctx->n_keys] = (struct key_file){.name = strdup_or_null(name), .path = strdup(path)};
	if (!v[ctx->n_keys].path || (name && !v[ctx->n_keys].name)) {
		free(v[ctx->n_keys].name);
		free(v[ctx->n_keys].path);
		return -ENOMEM;
	}
	ctx->n_keys++;
	return 0;
}

_public_ int enter_set_key_prompt(struct enter_ctx *ctx, enter_key_fn fn, void *userdata)
{
	if (!ctx)
		return -EINVAL;
	ctx->key_fn = fn;
	ctx->key_userdata = userdata;
	return 0;
}

bool assemble_wanted(const struct enter_ctx *ctx)
{
	return ctx->root_device || ctx->n_parts;
}

bool assemble_done(const struct enter_ctx *ctx)
{
	return ctx->assembled;
}

int assemble_root_type(const struct enter_ctx *ctx, char **ret_fstype, uint64_t *ret_attr,
		       char **ret_fs_options, struct enter_error **err)
{
	_cleanup_free_ char *fstype = NULL;
	int ambivalent = 0, r;

	fstype = mnt_get_fstype(ctx->root_device, &ambivalent, NULL);
	if (!fstype || ambivalent)
		return error_set(err, ENOMEDIUM, "mount", ctx->root, "--root-device",
				 "cannot tell the filesystem type of %s", ctx->root_device);
	r = fstab_split_options(ctx->root_options, ret_attr, ret_fs_options);
	if (r < 0)
		return error_set(err, -r, "mount", ctx->root, "--root-options", NULL);
	*ret_fstype = TAKE_PTR(fstype);
	return 0;
}

static int mount_root_device(struct enter_ctx *ctx, unsigned flags, struct enter_error **err)
{
	_cleanup_free_ char *fstype = NULL, *fs_options = NULL;
	uint64_t attr = 0;
	struct stat st;
	int mnt, r;

	if (stat(ctx->root_device, &st) < 0)
		return error_set(err, errno, "mount", ctx->root, "--root-device", "%s: %s",
				 ctx->root_device, errtext(errno));
	if (!S_ISBLK(st.st_mode) && !S_ISREG(st.st_mode))
		return error_set(err, ENOTBLK, "mount", ctx->root, "--root-device",
				 "%s: not a block device or an image file", ctx->root_device);
	r = assemble_root_type(ctx, &fstype, &attr, &fs_options, err);
	if (r < 0)
		return r;
	/* A look changes nothing: the superblock read-only too, not only
	 * this mount of it. */
	if ((flags & ENTER_ASSEMBLE_READ_ONLY) &&
	    (mnt_optstr_append_option(&fs_options, "ro", NULL) < 0))
		return error_set(err, ENOMEM, "mount", ctx->root, "--root-device", NULL);
	if (flags & ENTER_ASSEMBLE_READ_ONLY)
		attr |= MOUNT_ATTR_RDONLY;
	r = mount_detached(ctx->root_device, fstype, *fs_options ? fs_options : NULL, attr,
			   ctx->root, "--root-device", &mnt, err);
	if (r < 0)
		return r;
	log_msg(ctx, ENTER_LOG_DEBUG, "mounted %s (%s) as the root, attached at %s in the run",
		ctx->root_device, fstype, ctx->root);
	ctx->root_dir_fd = ctx->root_fd;
	ctx->root_fd = mnt;
	return 0;
}

static int open_part(struct enter_ctx *ctx, struct part *p, struct enter_error **err)
{
	switch (p->kind) {
	case PART_LUKS:
		return luks_open(ctx, p, err);
	}
	return -EINVAL;
}

static int close_part(struct enter_ctx *ctx, struct part *p, struct enter_error **err)
{
	int r = 0;

	switch (p->kind) {
	case PART_LUKS:
		r = luks_close(ctx, p, err);
		break;
	}
	if (r >= 0)
		p->done = false;
	return r;
}

/* Everything this context put together, in reverse; what fails is the
 * first error, the rest is taken apart all the same. */
static int take_apart(struct enter_ctx *ctx, struct enter_error **err)
{
	int r = 0;

	/* The root's mount holds its device: it goes first. */
	if (ctx->root_dir_fd >= 0) {
		closep(&ctx->root_fd);
		ctx->root_fd = take_fd(&ctx->root_dir_fd);
	}
	for (size_t i = ctx->n_parts; i-- > 0;) {
		struct enter_error *e = NULL;

		if (!ctx->parts[i].done)
			continue;
		if (close_part(ctx, &ctx->parts[i], &e) < 0) {
			log_msg(ctx, ENTER_LOG_ERROR, "%s", enter_error_message(e));
			if (r == 0)
				r = error_copy(err, e);
		}
		enter_error_free(e);
	}
	ctx->assembled = false;
	return r;
}

static int assemble(struct enter_ctx *ctx, unsigned flags, struct enter_error **err)
{
	int r = 0;

	ctx->assemble_flags = flags;
	for (size_t i = 0; r >= 0 && i < ctx->n_parts; i++)
		r = open_part(ctx, &ctx->parts[i], err);
	key_files_forget(ctx);
	if (r >= 0 && ctx->root_device)
		r = mount_root_device(ctx, flags, err);
	else if (r >= 0)
		r = error_set(err, EINVAL, "assemble", ctx->root, NULL,
			      "which filesystem is the root? --root-device /dev/mapper/NAME says");
	ctx->assembled = true;
	if (r < 0)
		/* Nothing half-done is left: its own error is the one to tell. */
		(void)take_apart(ctx, NULL);
	return r;
}

_public_ int enter_assemble(struct enter_ctx *ctx, unsigned flags, struct enter_error **err)
{
	struct enter_error *ignored = NULL;
	int r = 0;

	if (!err)
		err = &ignored;
	if (!ctx || (flags & ~ENTER_ASSEMBLE_READ_ONLY))
		r = error_set(err, EINVAL, "assemble", NULL, NULL, NULL);
	else if (assemble_wanted(ctx) && !assemble_done(ctx))
		r = assemble(ctx, flags, err);
	if (r < 0 && !*err)
		error_set(err, -r, "assemble", NULL, NULL, NULL);
	enter_error_free(ignored);
	return r;
}

void assemble_release(struct enter_ctx *ctx)
{
	if (ctx->assembled && !(ctx->flags & ENTER_KEEP))
		(void)take_apart(ctx, NULL);
}

_public_ int enter_teardown(struct enter_ctx *ctx, struct enter_error **err)
{
	struct enter_error *ignored = NULL;
	int r;

	if (!err)
		err = &ignored;
	r = ctx ? take_apart(ctx, err) : error_set(err, EINVAL, "teardown", NULL, NULL, NULL);
	enter_error_free(ignored);
	return r;
}
