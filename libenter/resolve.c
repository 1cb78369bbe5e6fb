/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * In-root resolution.  ROOT is a disk we are repairing, i.e. untrusted data:
 * a path inside it becomes a file descriptor by openat2() relative to the ROOT
 * fd, with RESOLVE_IN_ROOT (".." and absolute symlinks stop at ROOT) and
 * RESOLVE_NO_MAGICLINKS, and every later operation uses that fd.  There is no
 * fallback to string resolution on kernels without openat2: we refuse.
 */
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "internal.h"

int resolve_at(int root_fd, const char *path, int open_flags, unsigned how_flags, int *ret_fd)
{
	struct open_how how = {
		.flags = open_flags | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	int fd;

	if (how_flags & RESOLVE_API)
		how.resolve |= RESOLVE_NO_SYMLINKS;
	if (open_flags & O_CREAT)
		how.mode = 0644;
	while (*path == '/')
		path++;
	if (!*path)
		path = ".";
	/* EAGAIN: a mount or rename anywhere in the system raced with a ".."
	 * under RESOLVE_IN_ROOT, and the kernel asks us to try again. */
	for (int tries = 0;; tries++) {
		fd = syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
		if (fd >= 0 || !(errno == EINTR || (errno == EAGAIN && tries < 64)))
			break;
	}
	if (fd < 0)
		return errno == ENOSYS ? -EOPNOTSUPP : -errno;
	*ret_fd = fd;
	return 0;
}

/* What a failed resolution means to someone reading the error line.  ELOOP
 * is a symlink where none is allowed (RESOLVE_API), else a loop. */
const char *resolve_strerror_how(int r, unsigned how_flags)
{
	switch (-r) {
	case ELOOP:
		return how_flags & RESOLVE_API ? "is a symlink, refusing to mount over it"
					       : "a symlink loop, or more than 40 symlinks";
	case ENOTDIR:
		return "not a directory";
	case EBADFD:
		return "not a regular file";
	case ENOLINK:
		return "a symlink leading nowhere";
	case EXDEV:
		return "leads out of the target root";
	case EOPNOTSUPP:
		return "openat2() not supported by this kernel (5.6 or later needed)";
	case EBADMSG: /* ext4, f2fs: a checksum that does not match */
	case EUCLEAN: /* ext4, xfs, btrfs: a structure that makes no sense */
		return "the filesystem is damaged here (fsck may repair it)";
	default:
		return errtext(-r);
	}
}

const char *resolve_strerror(int r)
{
	return resolve_strerror_how(r, RESOLVE_API);
}

/* Reads a small regular file of the target: O_NONBLOCK so that a planted fifo
 * cannot hang us, at most @max bytes. */
int resolve_file_read(int root_fd, const char *path, size_t max, char **ret)
{
	_cleanup_close_ int pathfd = -1, fd = -1;
	_cleanup_free_ char *data = NULL;
	char proc[64];
	struct stat st;
	size_t len = 0;
	int r;

	/* Look before opening: opening a planted device node already talks to
	 * its driver (a watchdog starts counting), and a fifo would block. */
	r = resolve_at(root_fd, path, O_PATH, 0, &pathfd);
	if (r < 0)
		return r;
	if (fstat(pathfd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EBADFD;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pathfd);
	fd = open(proc, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	data = malloc(max + 1);
	if (!data)
		return -ENOMEM;
	while (len < max) {
		ssize_t n = read(fd, data + len, max - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += n;
	}
	data[len] = '\0';
	*ret = TAKE_PTR(data);
	return 0;
}

static int split_parent(const char *path, char **ret_parent, const char **ret_name)
{
	const char *slash;

	while (*path == '/')
		path++;
	slash = strrchr(path, '/');
	if (!slash) {
		*ret_parent = strdup("/");
		*ret_name = path;
	} else {
		*ret_parent = strndup(path, slash - path);
		*ret_name = slash + 1;
	}
	if (!*ret_parent)
		return -ENOMEM;
	if (!**ret_name || streq(*ret_name, ".") || streq(*ret_name, ".."))
		return -EINVAL;
	return 0;
}

static int guard_check(const struct create_guard *guard, int dir_fd)
{
	return guard ? guard->check(dir_fd, guard->data) : 0;
}

/* Opens directory @path inside ROOT, creating missing components with @mode,
 * each where @guard allows it (NULL: anywhere).  mkdirat() on a resolved
 * parent with a single component name never follows a symlink, so creation
 * cannot land outside ROOT either. */

int resolve_mkdir_p(int root_fd, const char *path, mode_t mode, const struct create_guard *guard,
		    int *ret_fd)
{
	_cleanup_free_ char *parent = NULL;
	_cleanup_close_ int parent_fd = -1;
	const char *name;
	int r;

	r = resolve_at(root_fd, path, O_PATH | O_DIRECTORY, 0, ret_fd);
	if (r != -ENOENT)
		return r;
	r = split_parent(path, &parent, &name);
	if (r < 0)
		return r;
	r = resolve_mkdir_p(root_fd, parent, mode, guard, &parent_fd);
	if (r < 0)
		return r;
	r = guard_check(guard, parent_fd);
	if (r < 0)
		return r;
	if (mkdirat(parent_fd, name, mode) < 0 && errno != EEXIST)
		return -errno;
	r = resolve_at(root_fd, path, O_PATH | O_DIRECTORY, 0, ret_fd);
	/* Missing, yet something is there: a symlink leading nowhere. */
	return r == -ENOENT ? -ENOLINK : r;
}

/* Opens @path inside ROOT as a mount point for a file, creating an empty file
 * (and its parents) when missing. */
int resolve_create_file(int root_fd, const char *path, const struct create_guard *guard,
			int *ret_fd)
{
	_cleanup_free_ char *parent = NULL;
	_cleanup_close_ int parent_fd = -1, fd = -1;
	const char *name;
	int r;

	r = resolve_at(root_fd, path, O_PATH, 0, ret_fd);
	if (r != -ENOENT)
		return r;
	r = split_parent(path, &parent, &name);
	if (r < 0)
		return r;
	r = resolve_mkdir_p(root_fd, parent, 0755, guard, &parent_fd);
	if (r < 0)
		return r;
	r = guard_check(guard, parent_fd);
	if (r < 0)
		return r;
	fd = openat(parent_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 && errno != EEXIST)
		return -errno;
	r = resolve_at(root_fd, path, O_PATH, 0, ret_fd);
	return r == -ENOENT ? -ENOLINK : r;
}

/* "/etc/../../run//x" -> "/run/x": lexically, ".." stopping at the root as
 * RESOLVE_IN_ROOT does.  For messages and for choosing where to create a
 * missing file; the creation itself still goes through in-root resolution. */
char *path_normalize(const char *path)
{
	size_t len = strlen(path);
	char *out = malloc(len + 2), *o = out;

	if (!out)
		return NULL;
	*o++ = '/';
	while (*path) {
		size_t n;

		while (*path == '/')
			path++;
		n = strcspn(path, "/");
		if (n == 0)
			break;
		if (n == 1 && path[0] == '.') {
			/* nothing */
		} else if (n == 2 && path[0] == '.' && path[1] == '.') {
			while (o > out + 1 && o[-1] != '/')
				o--;
			if (o > out + 1)
				o--; /* the slash before the removed component */
		} else {
			if (o > out + 1)
				*o++ = '/';
			memcpy(o, path, n);
			o += n;
		}
		path += n;
	}
	*o = '\0';
	return out;
}

/* Something is mounted on @path inside ROOT (a real directory, no symlink
 * on the way): by the administrator before enter, or by enter itself. */
bool mounted_in_root(int root_fd, const char *path)
{
	_cleanup_close_ int fd = -1;
	struct statx stx;

	if (resolve_at(root_fd, path, O_PATH | O_DIRECTORY, RESOLVE_API, &fd) < 0)
		return false;
	if (statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &stx) < 0)
		return false;
	return (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
	       (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

int resolve_symlinks(int root_fd, const char *path, char **ret_path, int *ret_fd)
{
	_cleanup_free_ char *at = strdup(path);

	if (!at)
		return -ENOMEM;
	for (int depth = 0; depth < 40; depth++) {
		_cleanup_close_ int fd = -1;
		_cleanup_free_ char *joined = NULL;
		char link[4096], *next;
		struct stat st;
		ssize_t n;
		int r;

		r = resolve_at(root_fd, at, O_PATH | O_NOFOLLOW, 0, &fd);
		if (r < 0) {
			*ret_path = TAKE_PTR(at);
			return r;
		}
		if (fstat(fd, &st) < 0)
			return -errno;
		if (!S_ISLNK(st.st_mode)) {
			*ret_path = TAKE_PTR(at);
			if (ret_fd)
				*ret_fd = take_fd(&fd);
			return 0;
		}
		n = readlinkat(fd, "", link, sizeof(link) - 1);
		if (n < 0)
			return -errno;
		link[n] = '\0';
		/* A relative link is relative to the directory holding it. */
		if (link[0] != '/' &&
		    xasprintf(&joined, "%.*s/%s", (int)(strrchr(at, '/') - at), at, link) < 0)
			return -ENOMEM;
		next = path_normalize(joined ? joined : link);
		if (!next)
			return -ENOMEM;
		free(at);
		at = next;
	}
	return -ELOOP;
}
