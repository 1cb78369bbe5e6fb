/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Executes the mount steps of a plan, in the child, inside the new mount
 * namespace.  Every target is an fd from in-root resolution, and every mount
 * is made with the new mount API on fds (fsopen/fsmount, open_tree,
 * mount_setattr, move_mount): no path into ROOT is ever handed to the
 * kernel as a string.  Nothing here remounts an existing superblock: a
 * remount reaches the host's filesystem even through a private namespace.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <sys/statvfs.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "internal.h"

static int attach(int tree_fd, int target_fd)
{
	if (move_mount(tree_fd, "", target_fd, "",
		       MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return -errno;
	return 0;
}

static int step_error(struct enter_error **err, int r, const struct step *s, const char *what)
{
	return error_set(err, -r, "mount", s->target, s->origin, "%s: %s", what, errtext(-r));
}

/* Only the administrator's own --bind and --ro-bind destinations may follow
 * a symlink (s->resolve 0), and only inside ROOT.  API directories and the
 * target's own mount points (fstab, --boot) must be real directories where
 * the mount happens, not only when the plan was made: /boot/efi is looked
 * up again on the ESP just mounted at /boot, which is target data too. */
static int resolve_target(const struct step *s, struct exec_state *st, int *ret_fd,
			  struct enter_error **err)
{
	int r = resolve_at(st->root_fd, s->target, O_PATH | O_DIRECTORY, s->resolve, ret_fd);

	if (r < 0)
		return error_set(err, -r, "resolve", s->target, s->origin, "%s",
				 resolve_strerror_how(r, s->resolve));
	return 0;
}

/* "a=b,c" -> FSCONFIG_SET_STRING a=b, FSCONFIG_SET_FLAG c */
static int configure(int fs_fd, const char *options)
{
	_cleanup_free_ char *copy = NULL;
	char *save = NULL;

	if (!options)
		return 0;
	copy = strdup(options);
	if (!copy)
		return -ENOMEM;
	for (char *opt = strtok_r(copy, ",", &save); opt; opt = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(opt, '=');
		int r;

		if (eq) {
			*eq = '\0';
			r = fsconfig(fs_fd, FSCONFIG_SET_STRING, opt, eq + 1, 0);
		} else {
			r = fsconfig(fs_fd, FSCONFIG_SET_FLAG, opt, NULL, 0);
		}
		if (r < 0)
			return -errno;
	}
	return 0;
}

/* A new superblock (proc, tmpfs, devpts), attached on @dir_fd. */
static int mount_fresh(int dir_fd, const struct step *s, int *ret_mnt, struct enter_error **err)
{
	_cleanup_close_ int fs = -1, mnt = -1;
	int r;

	fs = fsopen(s->fstype, FSOPEN_CLOEXEC);
	if (fs < 0)
		return step_error(err, -errno, s, "fsopen");
	r = configure(fs, s->fs_options);
	if (r == 0 && fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		r = -errno;
	if (r < 0)
		return error_from_fs_context(err, -r, fs, "mount", s->target, s->origin);
	mnt = fsmount(fs, FSMOUNT_CLOEXEC, s->attr);
	if (mnt < 0)
		return step_error(err, -errno, s, "fsmount");
	r = attach(mnt, dir_fd);
	if (r < 0)
		return step_error(err, r, s, "move_mount");
	if (ret_mnt)
		*ret_mnt = take_fd(&mnt);
	return 0;
}

/* A fresh proc or tmpfs on its target. */
int mount_fresh_at(const struct step *s, struct exec_state *st, struct enter_error **err)
{
	_cleanup_close_ int dir = -1;
	int r;

	r = resolve_target(s, st, &dir, err);
	if (r < 0)
		return r;
	return mount_fresh(dir, s, NULL, err);
}

static int set_attr(int tree_fd, uint64_t attr)
{
	struct mount_attr a = {.attr_set = attr};

	if (!attr)
		return 0;
	if (mount_setattr(tree_fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof(a)) < 0)
		return -errno;
	return 0;
}

/* A fresh devpts instance, and /dev/ptmx bound to its ptmx, so that the
 * host's instance is neither used nor remounted by activation. */
int mount_devpts(const struct step *s, struct exec_state *st, struct enter_error **err)
{
	_cleanup_close_ int dir = -1, mnt = -1, ptmx = -1, ptmx_target = -1;
	int r;

	r = resolve_target(s, st, &dir, err);
	if (r < 0)
		return r;
	r = mount_fresh(dir, s, &mnt, err);
	if (r < 0)
		return r;
	ptmx = open_tree(mnt, "ptmx", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (ptmx < 0)
		return step_error(err, -errno, s, "open_tree ptmx");
	r = resolve_at(st->root_fd, "/dev/ptmx", O_PATH, RESOLVE_API, &ptmx_target);
	if (r < 0)
		return error_set(err, -r, "resolve", "/dev/ptmx", NULL, "%s", resolve_strerror(r));
	r = attach(ptmx, ptmx_target);
	if (r < 0)
		return error_set(err, -r, "mount", "/dev/ptmx", NULL, "move_mount: %s",
				 errtext(-r));
	return 0;
}

/*
 * /dev and /sys inside are the rescue system's own filesystems, bound in,
 * and /proc is the kernel's: a missing mount point is never created there,
 * where it would stay after enter (or make a cgroup).  Asked of the mount
 * that holds the directory, not of its path, which a symlink in the target
 * can disguise (ROOT/data -> /dev).
 */
struct api_guard {
	int root_fd;
	bool refused;
};

static int refuse_in_api_dirs(int dir_fd, void *data)
{
	static const char *const api[] = {"/dev", "/sys", "/proc"};
	struct api_guard *g = data;
	_cleanup_free_ char *root = NULL, *where = NULL;
	const char *inside;
	int r;

	r = mount_point_of(g->root_fd, &root);
	if (r >= 0)
		r = mount_point_of(dir_fd, &where);
	if (r < 0)
		return r;
	size_t len = streq(root, "/") ? 0 : strlen(root);

	if (strncmp(where, root, len) != 0 || (where[len] != '/' && where[len] != '\0'))
		return 0; /* not below ROOT: no mount of ours */
	inside = where[len] ? where + len : "/";
	for (size_t i = 0; i < ELEMENTSOF(api); i++) {
		size_t n = strlen(api[i]);

		if (strncmp(inside, api[i], n) == 0 && (inside[n] == '/' || inside[n] == '\0')) {
			g->refused = true;
			return -EPERM;
		}
	}
	return 0;
}

/* Opens @path, creating it when missing, never in /dev, /sys or /proc:
 * then -EPERM, and *@ret_refused. */
static int create_mount_point(struct exec_state *st, const char *path, bool dir, mode_t mode,
			      int *ret_fd, bool *ret_refused)
{
	struct api_guard g = {.root_fd = st->root_fd};
	struct create_guard guard = {refuse_in_api_dirs, &g};
	int r;

	r = dir ? resolve_mkdir_p(st->root_fd, path, mode, &guard, ret_fd)
		: resolve_create_file(st->root_fd, path, &guard, ret_fd);
	*ret_refused = r < 0 && g.refused;
	return r;
}

#define NOT_CREATED                                                                                \
	"missing, and not created: /dev, /sys and /proc inside are the rescue system's own"

/* Where a bind goes.  A --bind destination that was missing was made by a
 * step before this one (STEP_MKDIR, STEP_MKFILE); it may be a file. */
static int bind_target(const struct step *s, struct exec_state *st, int *ret_fd,
		       struct enter_error **err)
{
	int r;

	if (s->resolve == RESOLVE_API)
		return resolve_target(s, st, ret_fd, err);
	r = resolve_at(st->root_fd, s->target, O_PATH, s->resolve, ret_fd);
	if (r < 0)
		return error_set(err, -r, "resolve", s->target, s->origin, "%s",
				 resolve_strerror_how(r, s->resolve));
	if (same_inode(*ret_fd, st->root_fd))
		return error_set(err, EINVAL, "resolve", s->target, s->origin,
				 "leads to the target's / itself (a symlink inside the target)");
	return 0;
}

int mount_bind(const struct step *s, struct exec_state *st, struct enter_error **err)
{
	_cleanup_close_ int tree = -1, dir = -1;
	int r;

	tree = open_tree(AT_FDCWD, s->source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
	if (tree < 0)
		return error_set(err, errno, "bind", s->source, s->origin, NULL);
	r = set_attr(tree, s->attr);
	if (r < 0)
		return step_error(err, r, s, "mount_setattr");
	r = bind_target(s, st, &dir, err);
	if (r < 0)
		return r;
	r = attach(tree, dir);
	if (r < 0)
		return step_error(err, r, s, "move_mount");
	return 0;
}

/* ROOT bound onto itself, recursively (so that what the administrator
 * mounted below it comes along): pivot_root needs a mount point. */
int mount_root(struct enter_ctx *ctx, const struct step *s, struct exec_state *st,
	       struct enter_error **err)
{
	_cleanup_close_ int dir = -1, tree = -1;
	int r;

	/* The fd of enter_new() belongs to the host's namespace, where
	 * open_tree() cannot clone it: open the path again, and check that it
	 * is still the same directory. */
	dir = open(ctx->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return error_set(err, errno, "open", ctx->root, NULL, NULL);
	if (!same_inode(dir, ctx->root_dir_fd >= 0 ? ctx->root_dir_fd : ctx->root_fd))
		return error_set(err, ESTALE, "open", ctx->root, NULL,
				 "replaced by another directory while entering");
	/* The root enter_assemble() mounted, detached: it goes on ROOT in
	 * this namespace only, and its fd is the ROOT of the steps. */
	if (ctx->root_dir_fd >= 0) {
		/* ROOT as the host sees it: target code must not find it in
		 * /proc/1/fd. */
		closep(&ctx->root_dir_fd);
		r = attach(ctx->root_fd, dir);
		if (r < 0)
			return step_error(err, r, s, "move_mount");
		st->root_fd = fcntl(ctx->root_fd, F_DUPFD_CLOEXEC, 3);
		return st->root_fd < 0 ? step_error(err, -errno, s, "dup") : 0;
	}
	tree = open_tree(dir, "",
			 OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH);
	if (tree < 0)
		return step_error(err, -errno, s, "open_tree");
	r = attach(tree, dir);
	if (r < 0)
		return step_error(err, r, s, "move_mount");
	st->root_fd = take_fd(&tree);
	return 0;
}

/* A missing mount point: a directory (STEP_MKDIR), or an empty file for
 * the bind of a file (STEP_MKFILE).  Planned where the path was missing, or
 * below a mount the plan makes before (a fresh /run): there it may be
 * present after all, and is then left as it is. */
int mount_make_point(const struct step *s, struct exec_state *st, struct enter_error **err)
{
	bool dir = s->kind == STEP_MKDIR, refused = false;
	_cleanup_close_ int fd = -1;
	mode_t umask_saved;
	int r;

	if (resolve_at(st->root_fd, s->target, O_PATH | (dir ? O_DIRECTORY : 0), s->resolve, &fd) ==
	    0)
		return 0;
	/* Created with the plan's mode (umask 0: mkdir(2) keeps the sticky
	 * bit of 1777): a directory made 0700 and chmod'ed next would stay
	 * 0700 for good if we are killed in between, as the next run finds
	 * it there and plans nothing for it.  Then a look with the step's
	 * policy: an API directory must be a real directory. */
	umask_saved = umask(0);
	r = create_mount_point(st, s->target, dir, s->mode, &fd, &refused);
	(void)umask(umask_saved);
	if (r >= 0) {
		closep(&fd);
		r = resolve_at(st->root_fd, s->target, dir ? O_RDONLY | O_DIRECTORY : O_PATH,
			       s->resolve, &fd);
	}
	if (r < 0)
		return error_set(err, refused ? ENOENT : -r, "mkdir", s->target, s->origin, "%s",
				 refused ? NOT_CREATED : resolve_strerror_how(r, s->resolve));
	if (dir && fchmod(fd, s->mode) < 0)
		return error_set(err, errno, "mkdir", s->target, s->origin, NULL);
	return 0;
}

/* An image file as a block device: a loop device that goes away by itself
 * (LO_FLAGS_AUTOCLEAR) once its last user, our mount, is gone.  By hand:
 * libmount's loop device code is not part of its public API. */
static int loop_attach(const char *image, bool rdonly, char **ret_device, int *ret_fd)
{
	_cleanup_close_ int ctl = -1, file = -1, loop = -1;
	struct loop_config config = {
		.info.lo_flags = LO_FLAGS_AUTOCLEAR | (rdonly ? LO_FLAGS_READ_ONLY : 0),
	};

	file = open(image, (rdonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (file < 0)
		return -errno;
	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		return -errno;
	config.fd = file;
	for (int tries = 0; tries < 16; tries++) {
		int n = ioctl(ctl, LOOP_CTL_GET_FREE);

		if (n < 0)
			return -errno;
		if (xasprintf(ret_device, "/dev/loop%d", n) < 0)
			return -ENOMEM;
		loop = open(*ret_device, O_RDWR | O_CLOEXEC);
		if (loop >= 0 && ioctl(loop, LOOP_CONFIGURE, &config) == 0) {
			/* Closing the last fd before the mount holds the
			 * device would clear it already. */
			*ret_fd = take_fd(&loop);
			return 0;
		}
		if (loop >= 0 && errno != EBUSY)
			return -errno;
		closep(&loop);
		free(*ret_device);
		*ret_device = NULL;
	}
	return -EBUSY;
}

int mount_detached(const char *source, const char *fstype, const char *fs_options, uint64_t attr,
		   const char *target, const char *origin, int *ret_mnt, struct enter_error **err)
{
	_cleanup_close_ int fs = -1, loop_fd = -1;
	_cleanup_free_ char *loop = NULL;
	const char *device = source;
	struct stat sb;
	int mnt, r;

	if (stat(device, &sb) == 0 && S_ISREG(sb.st_mode)) {
		r = loop_attach(device, attr & MOUNT_ATTR_RDONLY, &loop, &loop_fd);
		if (r < 0)
			return error_set(err, -r, "mount", target, origin, "loop device for %s: %s",
					 device, errtext(-r));
		device = loop;
	}
	fs = fsopen(fstype, FSOPEN_CLOEXEC);
	if (fs < 0)
		return error_set(err, errno, "mount", target, origin, "filesystem %s: %s", fstype,
				 errtext(errno));
	r = fsconfig(fs, FSCONFIG_SET_STRING, "source", device, 0) < 0 ? -errno : 0;
	if (r == 0)
		r = configure(fs, fs_options);
	if (r == 0 && fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		r = -errno;
	if (r < 0)
		return error_from_fs_context(err, -r, fs, "mount", target, origin);
	mnt = fsmount(fs, FSMOUNT_CLOEXEC, attr);
	if (mnt < 0)
		return error_set(err, errno, "mount", target, origin, NULL);
	*ret_mnt = mnt;
	return 0;
}

/* A filesystem of the target (fstab entry, or --boot DEVICE|IMAGE). */
int mount_filesystem(const struct step *s, struct exec_state *st, struct enter_error **err)
{
	_cleanup_close_ int dir = -1, mnt = -1;
	int r;

	r = resolve_target(s, st, &dir, err);
	if (r < 0)
		return r;
	r = mount_detached(s->source, s->fstype, s->fs_options, s->attr, s->target, s->origin, &mnt,
			   err);
	if (r < 0)
		return r;
	r = attach(mnt, dir);
	if (r < 0)
		return error_set(err, -r, "mount", s->target, s->origin, NULL);
	return 0;
}

/* A full /boot is the second classic cause of failed rebuilds: say so
 * before the command runs. */
int mount_check_boot_space(struct enter_ctx *ctx, const struct step *s, struct exec_state *st)
{
	_cleanup_close_ int fd = -1;
	uint64_t total, avail;
	struct statvfs sv;

	/* Nothing mounted there (--boot none): the free space would be that
	 * of the filesystem holding ROOT, not of a /boot. */
	if (!mounted_in_root(st->root_fd, s->target) ||
	    resolve_at(st->root_fd, s->target, O_RDONLY | O_DIRECTORY, 0, &fd) < 0 ||
	    fstatvfs(fd, &sv) < 0)
		return 0;
	total = (uint64_t)sv.f_blocks * sv.f_frsize;
	avail = (uint64_t)sv.f_bavail * sv.f_frsize;
	if (avail < ctx->boot_min_free)
		log_msg(ctx, ENTER_LOG_WARNING,
			"%s has %" PRIu64 " MiB free of %" PRIu64
			" MiB, less than --boot-min-free %" PRIu64
			" MiB: installing a new generation may fail",
			s->target, avail >> 20, total >> 20, ctx->boot_min_free >> 20);
	return 0;
}

int mount_pivot(struct enter_ctx *ctx, struct exec_state *st, struct enter_error **err)
{
	if (fchdir(st->root_fd) < 0)
		return error_set(err, errno, "pivot_root", ctx->root, NULL, NULL);
	/* Stacks the old root on top of the new one, then detaches it: no
	 * directory for the old root is needed inside the target. */
	if (syscall(SYS_pivot_root, ".", ".") == 0) {
		if (umount2(".", MNT_DETACH) < 0)
			return error_set(err, errno, "pivot_root", ctx->root, NULL,
					 "detaching the old root: %s", errtext(errno));
	} else if (errno == EINVAL) {
		/* The rescue system runs from its initramfs (rootfs cannot
		 * be pivoted away from). */
		log_msg(ctx, ENTER_LOG_DEBUG, "pivot_root impossible here, using chroot");
		if (chroot(".") < 0)
			return error_set(err, errno, "chroot", ctx->root, NULL, NULL);
	} else {
		return error_set(err, errno, "pivot_root", ctx->root, NULL, NULL);
	}
	if (chdir("/") < 0)
		return error_set(err, errno, "pivot_root", ctx->root, NULL, NULL);
	st->pivoted = true;
	return 0;
}

/* The host's resolv.conf, cloned before pivot_root hides the host. */
int mount_prepare_resolv(const struct enter_plan *plan, struct exec_state *st,
			 struct enter_error **err)
{
	struct mount_attr a = {.attr_set = MOUNT_ATTR_RDONLY};
	_cleanup_close_ int tree = -1;

	st->resolv_fd = -1;
	if (plan->flags & ENTER_NO_RESOLV)
		return 0;
	tree = open_tree(AT_FDCWD, "/etc/resolv.conf", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (tree < 0)
		return errno == ENOENT ? 0
				       : error_set(err, errno, "bind", "/etc/resolv.conf",
						   "the rescue system's", NULL);
	if (mount_setattr(tree, "", AT_EMPTY_PATH, &a, sizeof(a)) < 0)
		return error_set(err, errno, "bind", "/etc/resolv.conf", "the rescue system's",
				 NULL);
	st->resolv_fd = take_fd(&tree);
	return 0;
}

/* Where the target's /etc/resolv.conf leads, so that a destination that
 * does not exist yet can be created, but only in the fresh /run. */
static int resolv_destination(int root_fd, char **ret_path, int *ret_fd)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	int r;

	r = resolve_symlinks(root_fd, "/etc/resolv.conf", ret_path, &fd);
	if (r < 0)
		return r;
	if (fstat(fd, &st) < 0)
		return -errno;
	*ret_fd = take_fd(&fd);
	return S_ISREG(st.st_mode) ? 0 : -EBADFD;
}

int mount_resolv(struct enter_ctx *ctx, const struct step *s, struct exec_state *st,
		 struct enter_error **err)
{
	_cleanup_free_ char *dest = NULL;
	_cleanup_close_ int fd = -1, run = -1;
	int r;

	if (st->resolv_fd < 0) {
		log_msg(ctx, ENTER_LOG_WARNING,
			"the rescue system has no /etc/resolv.conf: no DNS inside");
		return 0;
	}
	r = resolv_destination(st->root_fd, &dest, &fd);
	if (r == -ENOENT && dest && strncmp(dest, "/run/", 5) == 0) {
		/* In-root with /run as the root: cannot leave the tmpfs. */
		r = resolve_at(st->root_fd, "/run", O_PATH | O_DIRECTORY, RESOLVE_API, &run);
		if (r == 0)
			r = resolve_create_file(run, dest + 5, NULL, &fd);
	}
	/* A damaged resolv.conf costs DNS, not the recovery. */
	if (r == -ENOENT || r == -EBADFD || r == -ELOOP) {
		log_msg(ctx, ENTER_LOG_WARNING,
			"/etc/resolv.conf of the target leads to %s, %s: no DNS inside",
			dest ? dest : "nowhere",
			r == -ENOENT   ? "which does not exist and is not under /run"
			: r == -EBADFD ? "which is not a regular file"
				       : "through too many symlinks");
		return 0;
	}
	if (r < 0)
		return error_set(err, -r, "bind", dest ? dest : s->target, "resolv.conf", "%s",
				 resolve_strerror(r));
	r = attach(st->resolv_fd, fd);
	if (r < 0)
		return error_set(err, -r, "bind", dest, "resolv.conf", "move_mount: %s",
				 errtext(-r));
	return 0;
}
