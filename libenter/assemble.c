/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Putting the target together from its disks before a run (DESIGN §9):
 * for now its root device, mounted detached.  Nothing of it is attached to
 * a directory of the host: pid 1 moves the mount onto ROOT in its own
 * namespace, where it vanishes with the run.
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
	if (ctx->root_dir_fd >= 0)
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

bool assemble_wanted(const struct enter_ctx *ctx)
{
	return ctx->root_device;
}

bool assemble_done(const struct enter_ctx *ctx)
{
	return ctx->root_dir_fd >= 0;
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

_public_ int enter_assemble(struct enter_ctx *ctx, unsigned flags, struct enter_error **err)
{
	struct enter_error *ignored = NULL;
	int r = 0;

	if (!err)
		err = &ignored;
	if (!ctx || (flags & ~ENTER_ASSEMBLE_READ_ONLY))
		r = error_set(err, EINVAL, "assemble", NULL, NULL, NULL);
	else if (assemble_wanted(ctx) && !assemble_done(ctx))
		r = mount_root_device(ctx, flags, err);
	if (r < 0 && !*err)
		error_set(err, -r, "assemble", NULL, NULL, NULL);
	enter_error_free(ignored);
	return r;
}
