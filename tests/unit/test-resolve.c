/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * resolve.c: in-root resolution against a hostile root, after the kernel's
 * tools/testing/selftests/openat2/resolve_test.c: one table of cases, one loop,
 * each case named.  A success must land on a given object inside the root,
 * compared by st_dev/st_ino; nothing outside the root may be reached or created.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "internal.h"

#define CHAIN_LEN 40 /* the kernel's MAXSYMLINKS */

static char tmp[64];	   /* removed in fini */
static char root[96];	   /* tmp/root: the hostile root */
static char outside[96];   /* tmp/outside: must never be reached */
static const char *unique; /* basename of tmp, for names that must not appear on the host */
static int root_fd = -1;

static void make_file(const char *path, const char *content)
{
	_cleanup_close_ int fd =
		openat(root_fd, path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	size_t len = strlen(content);

	cr_assert_geq(fd, 0, "create %s: %s", path, strerror(errno));
	cr_assert_eq(write(fd, content, len), (ssize_t)len);
}

static void make_link(const char *target, const char *path)
{
	cr_assert_eq(symlinkat(target, root_fd, path), 0, "symlink %s: %s", path, strerror(errno));
}

static void make_dir(const char *path)
{
	cr_assert_eq(mkdirat(root_fd, path, 0755), 0, "mkdir %s: %s", path, strerror(errno));
}

/* The root:
 *   d/ d/sub/ etc/hostname f fifo
 *   dev -> /                      absolute symlink out
 *   a -> ../../..                 relative escape (tmp/root/../../.. is the host's /)
 *   abs -> /d                     absolute symlink that stays inside
 *   up -> ../outside              relative escape to a directory that exists outside
 *   d/up -> ../../..              the same from one level down
 *   d/secret -> ../../outside/secret
 *   hn -> /etc/hostname
 *   l1 -> l2, l2 -> l1            loop
 *   c00 -> c01 -> ... -> c39 -> d 40 links, the most the kernel follows
 *   c_over -> c00                 41 links
 *   dangling -> /UNIQUE-missing   absolute, dangling: must not be created on the host
 */
static void setup(void)
{
	struct stat st_root, st_host;

	snprintf(tmp, sizeof(tmp), "/tmp/libenter-test-resolve-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	unique = strrchr(tmp, '/') + 1;
	snprintf(root, sizeof(root), "%s/root", tmp);
	snprintf(outside, sizeof(outside), "%s/outside", tmp);
	cr_assert_eq(mkdir(root, 0755), 0);
	cr_assert_eq(mkdir(outside, 0755), 0);
	root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(root_fd, 0);

	/* A success landing on "." must not be the host's / by accident. */
	cr_assert_eq(fstat(root_fd, &st_root), 0);
	cr_assert_eq(stat("/", &st_host), 0);
	cr_assert(st_root.st_ino != st_host.st_ino || st_root.st_dev != st_host.st_dev);

	{
		char path[PATH_MAX];
		_cleanup_close_ int fd = -1;

		snprintf(path, sizeof(path), "%s/secret", outside);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		cr_assert_geq(fd, 0);
		cr_assert_eq(write(fd, "outside\n", 8), 8);
	}

	make_dir("d");
	make_dir("d/sub");
	make_dir("etc");
	make_file("etc/hostname", "inside\n");
	make_file("f", "0123456789");
	cr_assert_eq(mkfifoat(root_fd, "fifo", 0644), 0);
	make_link("/", "dev");
	make_link("../../..", "a");
	make_link("/d", "abs");
	make_link("../outside", "up");
	make_link("../../..", "d/up");
	make_link("../../outside/secret", "d/secret");
	make_link("/etc/hostname", "hn");
	make_link("l2", "l1");
	make_link("l1", "l2");
	for (int i = 0; i < CHAIN_LEN; i++) {
		char name[8], target[8];

		snprintf(name, sizeof(name), "c%02d", i);
		if (i + 1 < CHAIN_LEN)
			snprintf(target, sizeof(target), "c%02d", i + 1);
		else
			snprintf(target, sizeof(target), "d");
		make_link(target, name);
	}
	make_link("c00", "c_over");
	{
		char target[PATH_MAX];

		snprintf(target, sizeof(target), "/%s-missing", unique);
		make_link(target, "dangling");
	}
}

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path);
}

/* Suffixes of the names the tests create through escaping symlinks: if the
 * library let one escape, the test failed, and the host is cleaned all the same. */
static const char *const escape_suffixes[] = {"creat",	 "mkdir", "rel", "dotdot",
					      "missing", "file",  "dir"};

static void teardown(void)
{
	char path[PATH_MAX];

	if (root_fd >= 0)
		(void)close(root_fd);
	if (!tmp[0])
		return;
	for (size_t i = 0; i < ELEMENTSOF(escape_suffixes); i++) {
		snprintf(path, sizeof(path), "/%s-%s", unique, escape_suffixes[i]);
		(void)nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
		snprintf(path, sizeof(path), "/tmp/%s-%s", unique, escape_suffixes[i]);
		(void)nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	}
	(void)nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(resolve, .init = setup, .fini = teardown);

/* Fails the test if the host has /NAME or tmp/NAME or /tmp/NAME: something was
 * created outside the root. */
static void expect_not_on_host(const char *name)
{
	const char *dirs[] = {"", tmp, "/tmp", outside};
	char path[PATH_MAX];

	for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
		snprintf(path, sizeof(path), "%s/%s", dirs[i], name);
		cr_expect_neq(faccessat(AT_FDCWD, path, F_OK, AT_SYMLINK_NOFOLLOW), 0,
			      "%s was created outside the root", path);
	}
}

/* Expects @fd to be the object at @lands, a symlink-free path inside the root. */
static void expect_lands_on(int fd, const char *lands, const char *name)
{
	struct stat got, want;

	cr_assert_eq(fstat(fd, &got), 0);
	cr_assert_eq(fstatat(root_fd, lands, &want, AT_SYMLINK_NOFOLLOW), 0, "%s: stat %s: %s",
		     name, lands, strerror(errno));
	cr_expect(got.st_dev == want.st_dev && got.st_ino == want.st_ino,
		  "%s: landed on inode %lu, not on ROOT/%s (inode %lu)", name,
		  (unsigned long)got.st_ino, lands, (unsigned long)want.st_ino);
}

struct resolve_case {
	const char *name;
	const char *path;
	int flags;
	unsigned how;
	int err;	   /* expected positive errno, or 0 */
	const char *lands; /* on success: where, as a symlink-free path inside the root */
};

#define DIR_PATH (O_PATH | O_DIRECTORY)

static const struct resolve_case cases[] = {
	/* The root itself. */
	{"root as /", "/", DIR_PATH, 0, 0, "."},
	{"root as empty path", "", DIR_PATH, 0, 0, "."},
	{"root as .", ".", DIR_PATH, 0, 0, "."},
	{"root as ///", "///", DIR_PATH, RESOLVE_API, 0, "."},

	/* ".." stops at the root. */
	{".. at the root", "..", DIR_PATH, 0, 0, "."},
	{"/.. at the root", "/..", DIR_PATH, 0, 0, "."},
	{"many ..", "../../../../../..", DIR_PATH, 0, 0, "."},
	{".. with RESOLVE_API", "../..", DIR_PATH, RESOLVE_API, 0, "."},
	{"d/../..", "d/../..", DIR_PATH, 0, 0, "."},
	{"../d", "../d", DIR_PATH, 0, 0, "d"},
	{"../outside is not tmp/outside", "../outside", DIR_PATH, 0, ENOENT, NULL},
	{"../root is not tmp/root", "../root", DIR_PATH, 0, ENOENT, NULL},

	/* Absolute symlinks are relative to the root. */
	{"dev -> / is the root", "dev", DIR_PATH, 0, 0, "."},
	{"dev -> / as /dev", "/dev", DIR_PATH, 0, 0, "."},
	{"dev/d", "dev/d", DIR_PATH, 0, 0, "d"},
	{"dev/dev/dev/f", "dev/dev/dev/f", O_RDONLY, 0, 0, "f"},
	{"abs -> /d", "abs", DIR_PATH, 0, 0, "d"},
	{"abs/sub", "abs/sub", DIR_PATH, 0, 0, "d/sub"},
	{"hn -> /etc/hostname", "hn", O_RDONLY, 0, 0, "etc/hostname"},
	{"dev/tmp is not the host's /tmp", "dev/tmp", DIR_PATH, 0, ENOENT, NULL},

	/* Relative escapes stop at the root. */
	{"a -> ../../.. is the root", "a", DIR_PATH, 0, 0, "."},
	{"a/d", "a/d", DIR_PATH, 0, 0, "d"},
	{"a/tmp is not the host's /tmp", "a/tmp", DIR_PATH, 0, ENOENT, NULL},
	{"d/up -> ../../.. is the root", "d/up", DIR_PATH, 0, 0, "."},
	{"d/up/f", "d/up/f", O_RDONLY, 0, 0, "f"},
	{"up -> ../outside stays inside", "up", DIR_PATH, 0, ENOENT, NULL},
	{"d/secret -> ../../outside/secret", "d/secret", O_RDONLY, 0, ENOENT, NULL},

	/* RESOLVE_API refuses any symlink, wherever it is in the path. */
	{"API: dev -> /", "dev", DIR_PATH, RESOLVE_API, ELOOP, NULL},
	{"API: /dev", "/dev", DIR_PATH, RESOLVE_API, ELOOP, NULL},
	{"API: a -> ../../..", "a", DIR_PATH, RESOLVE_API, ELOOP, NULL},
	{"API: abs -> /d", "abs", DIR_PATH, RESOLVE_API, ELOOP, NULL},
	{"API: symlink in the middle", "abs/sub", DIR_PATH, RESOLVE_API, ELOOP, NULL},
	{"API: symlink after ..", "d/../dev", DIR_PATH, RESOLVE_API, ELOOP, NULL},
	{"API: dangling", "dangling", DIR_PATH, RESOLVE_API, ELOOP, NULL},
	{"API: O_PATH without O_DIRECTORY", "dev", O_PATH, RESOLVE_API, ELOOP, NULL},
	{"API: plain directory", "d/sub", DIR_PATH, RESOLVE_API, 0, "d/sub"},
	{"API: plain file", "f", O_RDONLY, RESOLVE_API, 0, "f"},

	/* Loops and chains. */
	{"loop l1 -> l2 -> l1", "l1", O_PATH, 0, ELOOP, NULL},
	{"loop in the middle", "l1/x", O_PATH, 0, ELOOP, NULL},
	{"chain of 40 links", "c00", DIR_PATH, 0, 0, "d"},
	{"chain of 40 links, then more", "c00/sub", DIR_PATH, 0, 0, "d/sub"},
	{"chain of 41 links", "c_over", DIR_PATH, 0, ELOOP, NULL},
	{"chain with RESOLVE_API", "c39", DIR_PATH, RESOLVE_API, ELOOP, NULL},

	/* Missing things. */
	{"dangling -> /UNIQUE-missing", "dangling", O_PATH, 0, ENOENT, NULL},
	{"missing", "nothing", O_PATH, 0, ENOENT, NULL},
	{"missing under d", "d/nothing/more", O_PATH, 0, ENOENT, NULL},

	/* Types. */
	{"file with O_DIRECTORY", "f", DIR_PATH, 0, ENOTDIR, NULL},
	{"file read-only with O_DIRECTORY", "f", O_RDONLY | O_DIRECTORY, 0, ENOTDIR, NULL},
	{"file as a directory", "f/x", O_PATH, 0, ENOTDIR, NULL},
	{"file with trailing /", "f/", O_PATH, 0, ENOTDIR, NULL},
	{"fifo with O_DIRECTORY", "fifo", DIR_PATH, 0, ENOTDIR, NULL},
	{"fifo O_PATH", "fifo", O_PATH, 0, 0, "fifo"},
	{"fifo O_RDONLY | O_NONBLOCK", "fifo", O_RDONLY | O_NONBLOCK, 0, 0, "fifo"},
	{"file O_RDONLY", "f", O_RDONLY, 0, 0, "f"},
	{"dir O_RDONLY", "d", O_RDONLY | O_DIRECTORY, 0, 0, "d"},
};

Test(resolve, table)
{
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		const struct resolve_case *c = &cases[i];
		_cleanup_close_ int fd = -1;
		int r;

		r = resolve_at(root_fd, c->path, c->flags, c->how, &fd);
		if (c->err) {
			cr_expect_eq(r, -c->err, "%s: expected %s, got %d (%s)", c->name,
				     strerror(c->err), r, r < 0 ? strerror(-r) : "success");
			continue;
		}
		cr_expect_eq(r, 0, "%s: expected success, got %s", c->name, strerror(-r));
		if (r < 0)
			continue;
		cr_expect_geq(fd, 0, "%s", c->name);
		cr_expect_eq(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC, "%s: not O_CLOEXEC",
			     c->name);
		expect_lands_on(fd, c->lands, c->name);
	}
}

Test(resolve, failure_leaves_ret_fd_alone)
{
	int fd = -42;

	cr_assert_eq(resolve_at(root_fd, "dev", DIR_PATH, RESOLVE_API, &fd), -ELOOP);
	cr_expect_eq(fd, -42);
}

Test(resolve, o_creat_lands_inside)
{
	_cleanup_close_ int fd = -1;
	char path[PATH_MAX];
	struct stat st;

	umask(022);
	snprintf(path, sizeof(path), "dev/%s-creat", unique);
	cr_assert_eq(resolve_at(root_fd, path, O_WRONLY | O_CREAT | O_EXCL, 0, &fd), 0);
	snprintf(path, sizeof(path), "%s-creat", unique);
	expect_lands_on(fd, path, "O_CREAT through dev -> /");
	cr_assert_eq(fstat(fd, &st), 0);
	cr_expect(S_ISREG(st.st_mode));
	cr_expect_eq(st.st_mode & 07777, 0644);
	expect_not_on_host(path);
}

Test(resolve, strerror)
{
	cr_expect_str_eq(resolve_strerror(-ELOOP), "is a symlink, refusing to mount over it");
	cr_expect_str_eq(resolve_strerror(-ENOTDIR), "not a directory");
	cr_expect_str_eq(resolve_strerror(-EXDEV), "leads out of the target root");
	cr_expect_not_null(strstr(resolve_strerror(-EOPNOTSUPP), "openat2"));
	cr_expect_str_eq(resolve_strerror(-ENOENT), "no such file or directory");
	cr_expect_str_eq(errtext(EIO), "input/output error");
	/* Where symlinks are allowed, ELOOP is a loop, not "a symlink". */
	cr_expect_str_eq(resolve_strerror_how(-ELOOP, 0),
			 "a symlink loop, or more than 40 symlinks");
	cr_expect_str_eq(resolve_strerror_how(-ELOOP, RESOLVE_API), resolve_strerror(-ELOOP));
	cr_expect_str_eq(resolve_strerror(-ENOLINK), "a symlink leading nowhere");
	cr_expect_str_eq(resolve_strerror(-EBADFD), "not a regular file");
}

Test(resolve, file_read)
{
	static const struct {
		size_t max;
		const char *want;
	} limits[] = {
		{0, ""},	  {1, "0"},	      {4, "0123"},
		{9, "012345678"}, {10, "0123456789"}, {4096, "0123456789"},
	};

	for (size_t i = 0; i < ELEMENTSOF(limits); i++) {
		_cleanup_free_ char *data = NULL;

		cr_assert_eq(resolve_file_read(root_fd, "f", limits[i].max, &data), 0);
		cr_expect_str_eq(data, limits[i].want, "max %zu", limits[i].max);
	}
}

Test(resolve, file_read_size_limit_on_a_large_file)
{
	_cleanup_free_ char *big = malloc(1 << 20);
	_cleanup_free_ char *data = NULL;

	cr_assert_not_null(big);
	memset(big, 'x', (1 << 20) - 1);
	big[(1 << 20) - 1] = '\0';
	make_file("big", big);
	cr_assert_eq(resolve_file_read(root_fd, "/big", 4096, &data), 0);
	cr_expect_eq(strlen(data), 4096);
}

Test(resolve, file_read_stays_inside)
{
	_cleanup_free_ char *a = NULL, *b = NULL, *c = NULL;

	cr_assert_eq(resolve_file_read(root_fd, "hn", 256, &a), 0);
	cr_expect_str_eq(a, "inside\n", "hn -> /etc/hostname read the host's file");
	cr_assert_eq(resolve_file_read(root_fd, "dev/etc/hostname", 256, &b), 0);
	cr_expect_str_eq(b, "inside\n");
	cr_expect_eq(resolve_file_read(root_fd, "d/secret", 256, &c), -ENOENT);
	cr_expect_null(c);
}

Test(resolve, file_read_refuses_non_regular)
{
	char *data = NULL;

	cr_expect_lt(resolve_file_read(root_fd, "d", 256, &data), 0);
	cr_expect_null(data);
	cr_expect_eq(resolve_file_read(root_fd, "l1", 256, &data), -ELOOP);
	cr_expect_null(data);
}

/* Runs resolve_file_read(@path) in a child and waits for it at most @ms:
 * returns its result mapped to 0 (an error), 1 (data), or -1 (hung, killed). */
static int file_read_with_deadline(const char *path, int ms)
{
	_cleanup_close_ int pidfd = -1;
	struct pollfd p;
	int status;
	pid_t pid;

	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		char *data = NULL;

		_exit(resolve_file_read(root_fd, path, 256, &data) < 0 && !data ? 0 : 1);
	}
	pidfd = syscall(SYS_pidfd_open, pid, 0);
	cr_assert_geq(pidfd, 0, "pidfd_open: %s", strerror(errno));
	p = (struct pollfd){.fd = pidfd, .events = POLLIN};
	if (poll(&p, 1, ms) == 0) {
		(void)kill(pid, SIGKILL);
		(void)waitpid(pid, &status, 0);
		return -1;
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* A planted fifo must neither hang the open (no writer) nor the read (a writer
 * that never closes), and is not a file to read from. */
Test(resolve, file_read_fifo_returns_at_once)
{
	_cleanup_close_ int writer = -1;
	char path[PATH_MAX];

	cr_expect_eq(file_read_with_deadline("fifo", 2000), 0,
		     "fifo without a writer: hung (-1) or read (1)");

	snprintf(path, sizeof(path), "%s/fifo", root);
	writer = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	cr_assert_geq(writer, 0);
	cr_assert_eq(write(writer, "planted\n", 8), 8);
	cr_expect_eq(file_read_with_deadline("dev/fifo", 2000), 0,
		     "fifo with a writer: hung (-1) or read (1)");
}

static void expect_dir_mode(const char *path, mode_t mode)
{
	struct stat st;

	cr_assert_eq(fstatat(root_fd, path, &st, AT_SYMLINK_NOFOLLOW), 0, "%s: %s", path,
		     strerror(errno));
	cr_expect(S_ISDIR(st.st_mode), "%s is not a directory", path);
	cr_expect_eq(st.st_mode & 07777, mode, "%s: mode %04o, expected %04o", path,
		     st.st_mode & 07777, mode);
}

Test(resolve, mkdir_p_nested)
{
	_cleanup_close_ int fd = -1;

	umask(0);
	cr_assert_eq(resolve_mkdir_p(root_fd, "/x/y/z", 0750, NULL, &fd), 0);
	expect_lands_on(fd, "x/y/z", "mkdir_p /x/y/z");
	expect_dir_mode("x", 0750);
	expect_dir_mode("x/y", 0750);
	expect_dir_mode("x/y/z", 0750);
}

/* A guard that refuses creation in the directory "d" (by inode). */
static int refuse_in_d(int dir_fd, void *data)
{
	struct stat a, b;

	(*(int *)data)++;
	if (fstat(dir_fd, &a) < 0 || fstatat(root_fd, "d", &b, 0) < 0)
		return -errno;
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino ? -EPERM : 0;
}

Test(resolve, a_guard_is_asked_before_each_creation)
{
	_cleanup_close_ int fd = -1, fd2 = -1, fd3 = -1;
	int asked = 0;
	struct create_guard guard = {refuse_in_d, &asked};
	struct stat st;

	cr_expect_eq(resolve_mkdir_p(root_fd, "d/new/deeper", 0755, &guard, &fd), -EPERM);
	cr_expect_eq(fstatat(root_fd, "d/new", &st, AT_SYMLINK_NOFOLLOW), -1, "d/new was created");
	cr_expect_eq(resolve_create_file(root_fd, "d/file", &guard, &fd2), -EPERM);
	cr_expect_eq(fstatat(root_fd, "d/file", &st, AT_SYMLINK_NOFOLLOW), -1,
		     "d/file was created");
	asked = 0;
	cr_assert_eq(resolve_mkdir_p(root_fd, "/g1/g2", 0755, &guard, &fd3), 0);
	cr_expect_eq(asked, 2, "asked %d times for two directories", asked);
	cr_expect_eq(resolve_mkdir_p(root_fd, "d", 0755, &guard, &fd), 0,
		     "d exists: nothing to ask");
}

Test(resolve, mkdir_p_existing)
{
	_cleanup_close_ int fd = -1, fd2 = -1;

	umask(0);
	cr_assert_eq(resolve_mkdir_p(root_fd, "d/sub", 0700, NULL, &fd), 0);
	expect_lands_on(fd, "d/sub", "mkdir_p d/sub");
	expect_dir_mode("d/sub", 0755);
	cr_assert_eq(resolve_mkdir_p(root_fd, "d/sub/new", 0700, NULL, &fd2), 0);
	expect_lands_on(fd2, "d/sub/new", "mkdir_p d/sub/new");
	expect_dir_mode("d/sub/new", 0700);
}

Test(resolve, mkdir_p_through_absolute_symlink_stays_inside)
{
	_cleanup_close_ int fd = -1;
	char path[PATH_MAX], name[128];

	umask(022);
	snprintf(name, sizeof(name), "%s-mkdir", unique);
	snprintf(path, sizeof(path), "dev/%s/sub", name);
	cr_assert_eq(resolve_mkdir_p(root_fd, path, 0755, NULL, &fd), 0);
	expect_not_on_host(name);
	snprintf(path, sizeof(path), "%s/sub", name);
	expect_lands_on(fd, path, "mkdir_p dev/NAME/sub");
	expect_dir_mode(name, 0755);
}

Test(resolve, mkdir_p_through_relative_escape_stays_inside)
{
	_cleanup_close_ int fd = -1, fd2 = -1;
	char path[PATH_MAX], name[128];

	snprintf(name, sizeof(name), "%s-rel", unique);
	snprintf(path, sizeof(path), "a/%s/sub", name);
	cr_assert_eq(resolve_mkdir_p(root_fd, path, 0755, NULL, &fd), 0);
	expect_not_on_host(name);
	snprintf(path, sizeof(path), "%s/sub", name);
	expect_lands_on(fd, path, "mkdir_p a/NAME/sub");

	snprintf(name, sizeof(name), "%s-dotdot", unique);
	snprintf(path, sizeof(path), "../../%s", name);
	cr_assert_eq(resolve_mkdir_p(root_fd, path, 0755, NULL, &fd2), 0);
	expect_not_on_host(name);
	expect_lands_on(fd2, name, "mkdir_p ../../NAME");
}

Test(resolve, mkdir_p_through_dangling_symlink_creates_nothing_outside)
{
	_cleanup_close_ int fd = -1, fd2 = -1;
	char name[128];
	int r;

	snprintf(name, sizeof(name), "%s-missing", unique);
	r = resolve_mkdir_p(root_fd, "dangling/sub", 0755, NULL, &fd);
	if (r == 0)
		expect_lands_on(fd, name, "mkdir_p dangling/sub"); /* created inside, fine */
	expect_not_on_host(name);

	r = resolve_mkdir_p(root_fd, "up/sub", 0755, NULL, &fd2);
	if (r == 0)
		expect_lands_on(fd2, "outside/sub", "mkdir_p up/sub");
	snprintf(name, sizeof(name), "%s/sub", outside);
	cr_expect_neq(access(name, F_OK), 0, "%s was created", name);
}

/* A dangling symlink itself cannot be made a directory or a file: before,
 * the lookup after the creation said ENOENT, "No such file or directory", for
 * a /tmp that is there. */
Test(resolve, dangling_symlink_is_named)
{
	int fd = -1;

	cr_expect_eq(resolve_mkdir_p(root_fd, "dangling", 0755, NULL, &fd), -ENOLINK);
	cr_expect_eq(resolve_create_file(root_fd, "dangling", NULL, &fd), -ENOLINK);
	cr_expect_eq(fd, -1);
}

Test(resolve, mkdir_p_errors)
{
	int fd = -1;

	cr_expect_eq(resolve_mkdir_p(root_fd, "f/sub", 0755, NULL, &fd), -ENOTDIR);
	cr_expect_eq(resolve_mkdir_p(root_fd, "f", 0755, NULL, &fd), -ENOTDIR);
	cr_expect_eq(resolve_mkdir_p(root_fd, "l1/sub", 0755, NULL, &fd), -ELOOP);
	cr_expect_eq(fd, -1);
	cr_expect_neq(faccessat(root_fd, "f", F_OK, AT_SYMLINK_NOFOLLOW), -1);
}

Test(resolve, create_file)
{
	_cleanup_close_ int fd = -1;
	struct stat st;

	umask(0);
	cr_assert_eq(resolve_create_file(root_fd, "/etc/new/file.conf", NULL, &fd), 0);
	expect_lands_on(fd, "etc/new/file.conf", "create_file /etc/new/file.conf");
	cr_assert_eq(fstat(fd, &st), 0);
	cr_expect(S_ISREG(st.st_mode));
	cr_expect_eq(st.st_size, 0);
	cr_expect_eq(st.st_mode & 07777, 0644);
	expect_dir_mode("etc/new", 0755);
}

Test(resolve, create_file_existing_untouched)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *data = NULL;

	cr_assert_eq(resolve_create_file(root_fd, "f", NULL, &fd), 0);
	expect_lands_on(fd, "f", "create_file f");
	cr_assert_eq(resolve_file_read(root_fd, "f", 64, &data), 0);
	cr_expect_str_eq(data, "0123456789");
}

Test(resolve, create_file_stays_inside)
{
	_cleanup_close_ int fd = -1, fd2 = -1;
	char path[PATH_MAX], name[128];

	snprintf(name, sizeof(name), "%s-file", unique);
	snprintf(path, sizeof(path), "dev/%s", name);
	cr_assert_eq(resolve_create_file(root_fd, path, NULL, &fd), 0);
	expect_lands_on(fd, name, "create_file dev/NAME");
	expect_not_on_host(name);

	snprintf(name, sizeof(name), "%s-dir", unique);
	snprintf(path, sizeof(path), "a/%s/file", name);
	cr_assert_eq(resolve_create_file(root_fd, path, NULL, &fd2), 0);
	snprintf(path, sizeof(path), "%s/file", name);
	expect_lands_on(fd2, path, "create_file a/NAME/file");
	expect_not_on_host(name);
}

Test(resolve, create_file_through_dangling_symlink_creates_nothing_outside)
{
	_cleanup_close_ int fd = -1;
	char name[128];
	struct stat st;
	int r;

	snprintf(name, sizeof(name), "%s-missing", unique);
	r = resolve_create_file(root_fd, "dangling", NULL, &fd);
	if (r == 0)
		expect_lands_on(fd, name, "create_file dangling");
	expect_not_on_host(name);
	cr_assert_eq(fstatat(root_fd, "dangling", &st, AT_SYMLINK_NOFOLLOW), 0);
	cr_expect(S_ISLNK(st.st_mode), "the dangling symlink was replaced");
}

Test(resolve, create_file_errors)
{
	int fd = -1;

	cr_expect_eq(resolve_create_file(root_fd, "f/x", NULL, &fd), -ENOTDIR);
	cr_expect_eq(resolve_create_file(root_fd, "l1", NULL, &fd), -ELOOP);
	cr_expect_eq(resolve_create_file(root_fd, "nothing/", NULL, &fd), -EINVAL);
	cr_expect_eq(fd, -1);
}
