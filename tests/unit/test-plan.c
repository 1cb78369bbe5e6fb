/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * plan.c: options -> plan.  Each test builds a NixOS-shaped root in a temp
 * directory (etc/NIXOS, etc/hostname, a system profile that is an absolute
 * symlink into nix/store, no dev, proc, sys, run or tmp) and checks the steps,
 * the hostname, the command and the printers.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <linux/mount.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "internal.h"

#define STORE	 "/nix/store/0123456789abcdfghijklmnpqrsvwxyz"
#define TOPLEVEL STORE "-nixos-system-testhost-25.05"
#define ETC	 STORE "-etc"
#define SYSTEM	 "/nix/var/nix/profiles/system"
#define BASH	 SYSTEM "/sw/bin/bash"

static char tmp[64];  /* removed in fini */
static char root[96]; /* tmp/root */
static int root_fd = -1;
static struct enter_ctx *ctx;
static struct enter_plan *plan;
static struct enter_error *err;

static char *host_env[] = {"TERM=xterm", "SUDO_USER=alice", "NIX_PATH=/host", "LANG=C.UTF-8", NULL};

/* Paths below are inside the root: a leading '/' would make *at() ignore root_fd. */
static const char *rel(const char *path)
{
	while (*path == '/')
		path++;
	cr_assert_neq(*path, '\0');
	return path;
}

static void make_file(const char *path, const char *content)
{
	_cleanup_close_ int fd = -1;
	size_t len = strlen(content);

	path = rel(path);
	(void)unlinkat(root_fd, path, 0);
	fd = openat(root_fd, path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	cr_assert_geq(fd, 0, "create %s: %s", path, strerror(errno));
	cr_assert_eq(write(fd, content, len), (ssize_t)len);
}

static void make_link(const char *target, const char *path)
{
	path = rel(path);
	(void)unlinkat(root_fd, path, 0);
	cr_assert_eq(symlinkat(target, root_fd, path), 0, "symlink %s: %s", path, strerror(errno));
}

static void make_dirs(const char *path)
{
	char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s", rel(path));
	for (char *p = buf + 1;; p++) {
		if (*p != '/' && *p)
			continue;
		char c = *p;

		*p = '\0';
		cr_assert(mkdirat(root_fd, buf, 0755) == 0 || errno == EEXIST, "mkdir %s: %s", buf,
			  strerror(errno));
		if (!c)
			break;
		*p = c;
	}
}

static void remove_path(const char *path)
{
	path = rel(path);
	cr_assert_eq(unlinkat(root_fd, path, 0), 0, "rm %s: %s", path, strerror(errno));
}

/* A directory of the host, for --bind sources: in tmp, outside the root. */
static const char *host_dir(const char *name)
{
	static char path[160];

	snprintf(path, sizeof(path), "%s/%s", tmp, name);
	cr_assert(mkdir(path, 0755) == 0 || errno == EEXIST, "mkdir %s: %s", path, strerror(errno));
	return path;
}

static void setup(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/libenter-test-plan-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	snprintf(root, sizeof(root), "%s/root", tmp);
	cr_assert_eq(mkdir(root, 0755), 0);
	root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(root_fd, 0);

	make_dirs("etc");
	make_file("etc/NIXOS", "");
	make_file("etc/hostname", "testhost\n");
	make_dirs(TOPLEVEL "/sw/bin");
	make_file(TOPLEVEL "/sw/bin/bash", "#!/bin/false\n");
	make_file(TOPLEVEL "/activate", "#!/bin/false\n");
	make_dirs(ETC "/etc");
	make_link(ETC "/etc", TOPLEVEL "/etc");
	make_dirs("nix/var/nix/profiles");
	make_link(TOPLEVEL, SYSTEM);

	ctx = enter_new(root, &err);
	cr_assert_not_null(ctx, "enter_new: %s", err ? enter_error_message(err) : "?");
	/* The fstab and /boot steps have their own tests (test-fstab.c). */
	cr_assert_eq(enter_set_boot(ctx, ENTER_BOOT_NONE, NULL), 0);
	cr_assert_eq(enter_set_boot_min_free(ctx, 0), 0);
}

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path);
}

static void teardown(void)
{
	plan = plan_free(plan);
	enter_error_free(err);
	enter_free(ctx);
	if (root_fd >= 0)
		(void)close(root_fd);
	if (tmp[0])
		(void)nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(plan, .init = setup, .fini = teardown);

static void build(char *const argv[])
{
	int r = plan_build(ctx, argv, host_env, false, &plan, &err);

	cr_assert_eq(r, 0, "plan_build: %d, %s", r, err ? enter_error_message(err) : "no error");
	cr_assert_not_null(plan);
}

static void build_fails(int errnum, int exit_code, const char *message)
{
	int r = plan_build(ctx, NULL, host_env, false, &plan, &err);

	cr_assert_eq(r, -errnum, "plan_build: %d, expected %d", r, -errnum);
	cr_assert_not_null(err);
	/* The plan up to the failing step, for --dry-run, with the error. */
	cr_assert_not_null(plan);
	cr_expect_str_eq(plan->failure, enter_error_message(err));
	cr_expect_eq(enter_error_errno(err), errnum);
	cr_expect_eq(enter_error_exit_code(err), exit_code);
	if (message)
		cr_expect_str_eq(enter_error_message(err), message);
}

static const struct step *find_step(enum step_kind kind, const char *target)
{
	for (size_t i = 0; i < plan->n_steps; i++)
		if (plan->steps[i].kind == kind &&
		    (!target || streq(plan->steps[i].target, target)))
			return &plan->steps[i];
	return NULL;
}

static size_t count_steps(enum step_kind kind)
{
	size_t n = 0;

	for (size_t i = 0; i < plan->n_steps; i++)
		n += plan->steps[i].kind == kind;
	return n;
}

static ssize_t step_index(enum step_kind kind, const char *target)
{
	const struct step *s = find_step(kind, target);

	return s ? s - plan->steps : -1;
}

static void expect_strv(char *const *got, const char *const *want)
{
	size_t n = 0;

	for (; want[n]; n++) {
		cr_assert_lt(n, strv_length(got), "missing \"%s\"", want[n]);
		cr_expect_str_eq(got[n], want[n]);
	}
	cr_expect_eq(strv_length(got), n);
}

struct want_step {
	enum step_kind kind;
	const char *source;
	const char *target;
	const char *fstype;
	const char *fs_options;
	uint64_t attr;
	unsigned mode;
	const char *origin; /* NULL: one of the steps enter always takes */
};

static void expect_steps(const struct want_step *want, size_t n)
{
	cr_expect_eq(plan->n_steps, n, "%zu steps, expected %zu", plan->n_steps, n);
	for (size_t i = 0; i < n && i < plan->n_steps; i++) {
		const struct step *s = &plan->steps[i];
		const struct want_step *w = &want[i];

		cr_expect_str_eq(step_kind_name(s->kind), step_kind_name(w->kind), "step %zu", i);
		cr_expect_str_eq(s->source ?: "(null)", w->source ?: "(null)", "step %zu (%s)", i,
				 step_kind_name(w->kind));
		cr_expect_str_eq(s->target ?: "(null)", w->target ?: "(null)", "step %zu (%s)", i,
				 step_kind_name(w->kind));
		cr_expect_str_eq(s->fstype ?: "(null)", w->fstype ?: "(null)", "step %zu", i);
		cr_expect_str_eq(s->fs_options ?: "(null)", w->fs_options ?: "(null)", "step %zu",
				 i);
		cr_expect_eq(s->attr, w->attr, "step %zu (%s): attr %#llx", i,
			     step_kind_name(w->kind), (unsigned long long)s->attr);
		cr_expect_eq(s->mode, w->mode, "step %zu (%s %s): mode %04o", i,
			     step_kind_name(w->kind), w->target, s->mode);
		cr_expect_eq(s->origin == NULL, w->origin == NULL, "step %zu (%s): origin %s", i,
			     step_kind_name(w->kind), s->origin ?: "(default)");
	}
}

#define NOSUID_NODEV (MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV)

Test(plan, steps_in_order)
{
	const struct want_step want[] = {
		{STEP_NAMESPACES, NULL, NULL, .fs_options = "mount,uts,ipc,pid"},
		{STEP_PROPAGATION, NULL, "/", .fs_options = "rprivate"},
		{STEP_ROOT, root, "/", .origin = "root"},
		{STEP_MKDIR, NULL, "/dev", .mode = 0755, .origin = "missing"},
		{STEP_MKDIR, NULL, "/proc", .mode = 0755, .origin = "missing"},
		{STEP_MKDIR, NULL, "/sys", .mode = 0755, .origin = "missing"},
		{STEP_MKDIR, NULL, "/run", .mode = 0755, .origin = "missing"},
		{STEP_MKDIR, NULL, "/tmp", .mode = 01777, .origin = "missing"},
		{STEP_PROC, "proc", "/proc", "proc", NULL, NOSUID_NODEV | MOUNT_ATTR_NOEXEC},
		{STEP_BIND, "/sys", "/sys"},
		{STEP_BIND, "/dev", "/dev"},
		{STEP_DEVPTS, "devpts", "/dev/pts", "devpts", "newinstance,ptmxmode=0666,mode=0620",
		 MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC},
		{STEP_TMPFS, "tmpfs", "/dev/shm", "tmpfs", "mode=1777", NOSUID_NODEV},
		{STEP_TMPFS, "tmpfs", "/run", "tmpfs", "mode=0755", NOSUID_NODEV},
		{STEP_HOSTNAME, "testhost", NULL, .origin = "/etc/hostname"},
		{STEP_PIVOT, root, "/", .origin = "root"},
		{STEP_ACTIVATE, SYSTEM "/activate", SYSTEM, .origin = "--system"},
		{STEP_RESOLV, "/etc/resolv.conf", "/etc/resolv.conf", .attr = MOUNT_ATTR_RDONLY},
	};

	build(NULL);
	expect_steps(want, ELEMENTSOF(want));
	cr_expect_str_eq(plan->root, root);
	cr_expect_str_eq(plan->system ?: "(null)", SYSTEM);
	cr_expect_str_eq(plan->hostname, "testhost");
	cr_expect_eq(plan->preserve_fds, 0);
}

Test(plan, no_mkdir_when_present)
{
	static const char *const dirs[] = {"dev", "proc", "sys", "run", "tmp"};

	for (size_t i = 0; i < ELEMENTSOF(dirs); i++)
		make_dirs(dirs[i]);
	build(NULL);
	cr_expect_eq(count_steps(STEP_MKDIR), 0);
	cr_expect_eq(plan->n_steps, 18 - 5);
	cr_expect_eq(plan->steps[0].kind, STEP_NAMESPACES);
	cr_expect_eq(plan->steps[1].kind, STEP_PROPAGATION);
	cr_expect_eq(plan->steps[2].kind, STEP_ROOT);
	cr_expect_eq(plan->steps[3].kind, STEP_PROC);
}

Test(plan, mkdir_only_what_is_missing)
{
	const struct step *s;

	make_dirs("dev");
	make_dirs("sys");
	make_dirs("tmp");
	build(NULL);
	cr_expect_eq(count_steps(STEP_MKDIR), 2);
	cr_expect_null(find_step(STEP_MKDIR, "/dev"));
	cr_expect_null(find_step(STEP_MKDIR, "/sys"));
	cr_expect_null(find_step(STEP_MKDIR, "/tmp"));
	cr_assert_not_null(s = find_step(STEP_MKDIR, "/proc"));
	cr_expect_eq(s->mode, 0755);
	cr_assert_not_null(s = find_step(STEP_MKDIR, "/run"));
	cr_expect_eq(s->mode, 0755);
}

Test(plan, tmp_symlink_is_followed_inside)
{
	make_dirs("var/tmp");
	make_link("/var/tmp", "tmp");
	build(NULL);
	cr_expect_null(find_step(STEP_MKDIR, "/tmp"), "an in-root /tmp symlink is a /tmp");
}

Test(plan, hostname_from_etc_hostname)
{
	build(NULL);
	cr_expect_str_eq(plan->hostname, "testhost");
	cr_expect_str_eq(plan->hostname_origin, "/etc/hostname");
	cr_expect_str_eq(find_step(STEP_HOSTNAME, NULL)->source, "testhost");
	cr_expect_str_eq(find_step(STEP_HOSTNAME, NULL)->origin, "/etc/hostname");
}

Test(plan, hostname_without_newline)
{
	make_file("etc/hostname", "bare");
	build(NULL);
	cr_expect_str_eq(plan->hostname, "bare");
}

Test(plan, hostname_option_wins)
{
	cr_assert_eq(enter_set_hostname(ctx, "override"), 0);
	build(NULL);
	cr_expect_str_eq(plan->hostname, "override");
	cr_expect_str_eq(plan->hostname_origin, "--hostname");
	cr_expect_str_eq(find_step(STEP_HOSTNAME, NULL)->source, "override");
}

Test(plan, hostname_option_reset)
{
	cr_assert_eq(enter_set_hostname(ctx, "override"), 0);
	cr_assert_eq(enter_set_hostname(ctx, NULL), 0);
	build(NULL);
	cr_expect_str_eq(plan->hostname, "testhost");
}

Test(plan, hostname_from_system_profile)
{
	remove_path("etc/hostname");
	make_file(ETC "/etc/hostname", "fromsystem\n");
	build(NULL);
	cr_expect_str_eq(plan->hostname, "fromsystem");
	cr_expect_str_eq(plan->hostname_origin, SYSTEM "/etc/hostname");
}

Test(plan, hostname_localhost_when_none)
{
	remove_path("etc/hostname");
	build(NULL);
	cr_expect_str_eq(plan->hostname, "localhost");
	cr_expect_str_eq(find_step(STEP_HOSTNAME, NULL)->source, "localhost");
}

struct log_record {
	int calls;
	enum enter_log_level level;
	char msg[512];
};

static void record_log(void *userdata, enum enter_log_level level, const char *msg)
{
	struct log_record *l = userdata;

	l->calls++;
	l->level = level;
	snprintf(l->msg, sizeof(l->msg), "%s", msg);
}

Test(plan, hostname_invalid_is_a_warning)
{
	struct log_record log = {};

	cr_assert_eq(enter_set_log(ctx, record_log, &log), 0);
	make_file("etc/hostname", "-bad!name\n");
	build(NULL);
	cr_expect_str_eq(plan->hostname, "localhost");
	cr_expect_eq(log.calls, 1);
	cr_expect_eq(log.level, ENTER_LOG_WARNING);
	cr_expect_str_eq(log.msg, "/etc/hostname: \"-bad!name\" is not a valid hostname, ignored");
}

Test(plan, hostname_escape_is_not_followed)
{
	char path[PATH_MAX];
	_cleanup_close_ int fd = -1;

	snprintf(path, sizeof(path), "%s/hostname", tmp);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "evilhost\n", 9), 9);
	make_link("../../hostname", "etc/hostname");
	build(NULL);
	cr_expect_str_eq(plan->hostname, "localhost");
}

/* A planted fifo as etc/hostname: plan_build() runs in a child, given 2 s. */
Test(plan, hostname_fifo_does_not_hang)
{
	_cleanup_close_ int pidfd = -1;
	struct pollfd p;
	int status;
	pid_t pid;

	remove_path("etc/hostname");
	cr_assert_eq(mkfifoat(root_fd, "etc/hostname", 0644), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		if (plan_build(ctx, NULL, host_env, false, &plan, &err) < 0)
			_exit(2);
		_exit(streq(plan->hostname, "localhost") ? 0 : 3);
	}
	pidfd = syscall(SYS_pidfd_open, pid, 0);
	cr_assert_geq(pidfd, 0, "pidfd_open: %s", strerror(errno));
	p = (struct pollfd){.fd = pidfd, .events = POLLIN};
	if (poll(&p, 1, 2000) == 0) {
		(void)kill(pid, SIGKILL);
		(void)waitpid(pid, &status, 0);
		cr_assert_fail("plan_build() hangs on a fifo as etc/hostname");
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "plan_build() failed (2) or did not fall back to localhost (3): status %#x",
		  status);
}

Test(plan, hostname_option_rejects)
{
	char long_name[66];

	memset(long_name, 'a', 65);
	long_name[65] = '\0';
	cr_expect_eq(enter_set_hostname(ctx, ""), -EINVAL);
	cr_expect_eq(enter_set_hostname(ctx, "a/b"), -EINVAL);
	cr_expect_eq(enter_set_hostname(ctx, long_name), -EINVAL);
	long_name[64] = '\0';
	cr_expect_eq(enter_set_hostname(ctx, long_name), 0, "64 characters is a hostname");
	build(NULL);
	cr_expect_str_eq(plan->hostname, long_name);
}

Test(plan, tmpfs_tmp)
{
	const struct step *s;

	cr_assert_eq(enter_set_flags(ctx, ENTER_TMPFS_TMP), 0);
	build(NULL);
	cr_assert_not_null(s = find_step(STEP_TMPFS, "/tmp"));
	cr_expect_str_eq(s->fstype, "tmpfs");
	cr_expect_str_eq(s->fs_options, "mode=1777");
	cr_expect_eq(s->attr, NOSUID_NODEV);
	cr_expect_str_eq(s->origin, "--tmpfs-tmp");
	cr_expect_gt(step_index(STEP_TMPFS, "/tmp"), step_index(STEP_MKDIR, "/tmp"));
	cr_expect_gt(step_index(STEP_TMPFS, "/tmp"), step_index(STEP_TMPFS, "/run"));
	cr_expect_lt(step_index(STEP_TMPFS, "/tmp"), step_index(STEP_PIVOT, NULL));
	cr_expect_eq(count_steps(STEP_TMPFS), 3);
}

Test(plan, no_tmpfs_tmp_by_default)
{
	build(NULL);
	cr_expect_null(find_step(STEP_TMPFS, "/tmp"));
}

Test(plan, binds)
{
	const struct step *rw, *ro;

	char data[160];

	snprintf(data, sizeof(data), "%s", host_dir("srv-data"));
	cr_assert_eq(enter_add_bind(ctx, data, "/mnt/data", 0), 0);
	cr_assert_eq(enter_add_bind(ctx, "/etc/ssl", "/etc/ssl", ENTER_BIND_RDONLY), 0);
	build(NULL);
	cr_assert_not_null(rw = find_step(STEP_BIND, "/mnt/data"));
	cr_expect_str_eq(rw->source, data);
	cr_expect_eq(rw->attr, 0);
	cr_expect_str_eq(rw->origin, "--bind");
	cr_assert_not_null(ro = find_step(STEP_BIND, "/etc/ssl"));
	cr_expect_str_eq(ro->source, "/etc/ssl");
	cr_expect_eq(ro->attr, MOUNT_ATTR_RDONLY);
	cr_expect_str_eq(ro->origin, "--ro-bind");

	/* In the order given, after the API filesystems, before pivot_root;
	 * a missing destination made just before its bind, component by
	 * component (the root has /etc, not /mnt). */
	cr_expect_eq(step_index(STEP_MKDIR, "/mnt"), step_index(STEP_BIND, "/mnt/data") - 2);
	cr_expect_eq(step_index(STEP_MKDIR, "/mnt/data"), step_index(STEP_BIND, "/mnt/data") - 1);
	cr_expect_eq(step_index(STEP_MKDIR, "/etc"), -1);
	cr_expect_eq(step_index(STEP_MKDIR, "/etc/ssl"), step_index(STEP_BIND, "/mnt/data") + 1);
	cr_expect_eq(step_index(STEP_BIND, "/mnt/data") + 2, step_index(STEP_BIND, "/etc/ssl"));
	cr_expect_gt(step_index(STEP_BIND, "/mnt/data"), step_index(STEP_TMPFS, "/run"));
	cr_expect_lt(step_index(STEP_BIND, "/etc/ssl"), step_index(STEP_PIVOT, NULL));
	cr_expect_eq(count_steps(STEP_BIND), 4);
}

Test(plan, add_bind_rejects_relative_destination)
{
	cr_expect_eq(enter_add_bind(ctx, "/srv", "mnt", 0), -EINVAL);
	cr_expect_eq(enter_add_bind(ctx, "", "/mnt", 0), -EINVAL);
	cr_expect_eq(enter_add_bind(ctx, "/srv", "/mnt", 1u << 7), -EINVAL);
	build(NULL);
	cr_expect_eq(count_steps(STEP_BIND), 2);
}

Test(plan, no_activate)
{
	cr_assert_eq(enter_set_flags(ctx, ENTER_NO_ACTIVATE), 0);
	build(NULL);
	cr_expect_eq(count_steps(STEP_ACTIVATE), 0);
	cr_expect_eq(count_steps(STEP_RESOLV), 1);
	cr_expect_eq(plan->n_steps, 17);
	cr_expect_str_eq(plan->system ?: "(null)", SYSTEM);
}

Test(plan, generic)
{
	remove_path("etc/NIXOS");
	cr_assert_eq(enter_set_flags(ctx, ENTER_GENERIC), 0);
	build(NULL);
	cr_expect_eq(count_steps(STEP_ACTIVATE), 0);
	cr_expect_eq(count_steps(STEP_RESOLV), 1);
	cr_expect_null(plan->system);
	cr_expect_str_eq(plan->hostname, "testhost");
	cr_expect_str_eq(strv_find_prefix(plan->envp, "PATH=") ?: "(unset)",
			 "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
}

Test(plan, generic_shell)
{
	static const char *const bash[] = {"/bin/bash", "--login", NULL};
	static const char *const sh[] = {"/bin/sh", "--login", NULL};

	cr_assert_eq(enter_set_flags(ctx, ENTER_GENERIC), 0);
	build(NULL);
	expect_strv(plan->argv, sh);
	plan = plan_free(plan);

	make_dirs("usr/bin");
	make_file("usr/bin/bash", "");
	make_link("usr/bin", "bin");
	build(NULL);
	expect_strv(plan->argv, bash);
	cr_expect_str_eq(strv_find_prefix(plan->envp, "SHELL=") ?: "(unset)", "SHELL=/bin/bash");
}

Test(plan, no_resolv)
{
	cr_assert_eq(enter_set_flags(ctx, ENTER_NO_RESOLV), 0);
	build(NULL);
	cr_expect_eq(count_steps(STEP_RESOLV), 0);
	cr_expect_eq(count_steps(STEP_ACTIVATE), 1);
	cr_expect_eq(plan->steps[plan->n_steps - 1].kind, STEP_ACTIVATE);
}

Test(plan, resolv_after_activate)
{
	build(NULL);
	cr_expect_gt(step_index(STEP_RESOLV, NULL), step_index(STEP_ACTIVATE, NULL));
	cr_expect_gt(step_index(STEP_ACTIVATE, NULL), step_index(STEP_PIVOT, NULL));
}

Test(plan, not_nixos)
{
	remove_path("etc/NIXOS");
	build_fails(ENOENT, 126, NULL);
	cr_expect_str_eq(enter_error_step(err), "check");
	cr_expect_not_null(strstr(enter_error_message(err), "not a NixOS root"), "%s",
			   enter_error_message(err));
}

Test(plan, not_nixos_even_through_an_escape)
{
	char path[PATH_MAX];
	_cleanup_close_ int fd = -1;

	/* tmp/etc/NIXOS exists, but ROOT/etc -> ../etc stays inside ROOT. */
	snprintf(path, sizeof(path), "%s/etc", tmp);
	cr_assert_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/etc/NIXOS", tmp);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	cr_assert_geq(fd, 0);
	remove_path("etc/NIXOS");
	remove_path("etc/hostname");
	cr_assert_eq(unlinkat(root_fd, "etc", AT_REMOVEDIR), 0);
	make_link("../etc", "etc");
	build_fails(ENOENT, 126, NULL);
}

Test(plan, not_nixos_but_generic)
{
	remove_path("etc/NIXOS");
	cr_assert_eq(enter_set_flags(ctx, ENTER_GENERIC), 0);
	build(NULL);
	cr_expect_null(err);
}

Test(plan, hostile_api_directories)
{
	static const struct {
		const char *name;
		const char *target; /* symlink target, or NULL for a regular file */
		const char *message;
		int errnum;
	} cases[] = {
		{"dev", "/", "resolve /dev: is a symlink, refusing to mount over it", ELOOP},
		{"proc", "/etc", "resolve /proc: is a symlink, refusing to mount over it", ELOOP},
		{"sys", "../../..", "resolve /sys: is a symlink, refusing to mount over it", ELOOP},
		{"run", "../../host", "resolve /run: is a symlink, refusing to mount over it",
		 ELOOP},
		{"dev", NULL, "resolve /dev: not a directory", ENOTDIR},
		{"run", NULL, "resolve /run: not a directory", ENOTDIR},
		{"tmp", NULL, "resolve /tmp: not a directory", ENOTDIR},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct enter_plan *p = NULL;
		struct enter_error *e = NULL;
		int r;

		if (cases[i].target)
			make_link(cases[i].target, cases[i].name);
		else
			make_file(cases[i].name, "");
		r = plan_build(ctx, NULL, host_env, false, &p, &e);
		cr_expect_eq(r, -cases[i].errnum, "%s: %d", cases[i].message, r);
		cr_expect(p && streq(p->failure, cases[i].message), "%s: the plan's failure: %s",
			  cases[i].message, p ? p->failure : "no plan");
		if (e) {
			cr_expect_str_eq(enter_error_message(e), cases[i].message);
			cr_expect_str_eq(enter_error_step(e), "resolve");
			cr_expect_eq(enter_error_exit_code(e), 125);
		} else {
			cr_expect_not_null(e, "%s: no error", cases[i].message);
		}
		plan_free(p);
		enter_error_free(e);
		remove_path(cases[i].name);
	}
}

Test(plan, dev_symlink_to_root)
{
	make_link("/", "dev");
	build_fails(ELOOP, 125, "resolve /dev: is a symlink, refusing to mount over it");
	cr_expect_str_eq(enter_error_path(err), "/dev");
	cr_expect_null(enter_error_detail(err));
}

Test(plan, login_shell)
{
	static const char *const want[] = {BASH, "--login", NULL};

	build(NULL);
	expect_strv(plan->argv, want);
	cr_expect_str_eq(strv_find_prefix(plan->envp, "SHELL=") ?: "(unset)", "SHELL=" BASH);
}

Test(plan, login_shell_empty_argv)
{
	static const char *const want[] = {BASH, "--login", NULL};
	char *argv[] = {NULL};

	build(argv);
	expect_strv(plan->argv, want);
}

Test(plan, sh_without_bash)
{
	static const char *const want[] = {"/bin/sh", "--login", NULL};

	remove_path(TOPLEVEL "/sw/bin/bash");
	build(NULL);
	expect_strv(plan->argv, want);
	cr_expect_str_eq(strv_find_prefix(plan->envp, "SHELL=") ?: "(unset)", "SHELL=/bin/sh");
}

Test(plan, shell_command)
{
	static const char *const want[] = {BASH, "-c", "echo 'hi'; exit 3", NULL};

	cr_assert_eq(enter_set_shell_command(ctx, "echo 'hi'; exit 3"), 0);
	build(NULL);
	expect_strv(plan->argv, want);
}

Test(plan, argv_as_given)
{
	static const char *const want[] = {"/bin/echo", "a b", "", "--login", NULL};
	char *argv[] = {"/bin/echo", "a b", "", "--login", NULL};

	cr_assert_eq(enter_set_shell_command(ctx, "ignored"), 0);
	build(argv);
	expect_strv(plan->argv, want);
}

Test(plan, system_option)
{
	cr_assert_eq(enter_set_system(ctx, TOPLEVEL), 0);
	build(NULL);
	cr_expect_str_eq(plan->system ?: "(null)", TOPLEVEL);
	cr_expect_str_eq(find_step(STEP_ACTIVATE, NULL)->source, TOPLEVEL "/activate");
	cr_expect_str_eq(plan->argv[0], TOPLEVEL "/sw/bin/bash");
}

Test(plan, tmpfiles_and_locale_when_present)
{
	build(NULL);
	cr_expect_eq(count_steps(STEP_TMPFILES), 0);
	cr_expect_null(strv_find_prefix(plan->envp, "LOCALE_ARCHIVE="));
	plan = plan_free(plan);

	make_file(TOPLEVEL "/sw/bin/systemd-tmpfiles", "");
	make_dirs(TOPLEVEL "/sw/lib/locale");
	make_file(TOPLEVEL "/sw/lib/locale/locale-archive", "");
	build(NULL);
	cr_assert_not_null(find_step(STEP_TMPFILES, NULL));
	cr_expect_str_eq(find_step(STEP_TMPFILES, NULL)->source, SYSTEM "/sw/bin/systemd-tmpfiles");
	cr_expect_eq(step_index(STEP_TMPFILES, NULL), step_index(STEP_ACTIVATE, NULL) + 1);
	cr_expect_str_eq(strv_find_prefix(plan->envp, "LOCALE_ARCHIVE=") ?: "(unset)",
			 "LOCALE_ARCHIVE=" SYSTEM "/sw/lib/locale/locale-archive");
}

Test(plan, environment)
{
	build(NULL);
	cr_expect_not_null(strv_find_prefix(plan->envp, "TERM=xterm"));
	cr_expect_not_null(strv_find_prefix(plan->envp, "LANG=C.UTF-8"));
	cr_expect_not_null(strv_find_prefix(plan->envp, "IN_NIXOS_ENTER=1"));
	cr_expect_null(strv_find_prefix(plan->envp, "SUDO_USER="));
	cr_expect_null(strv_find_prefix(plan->envp, "NIX_PATH="));
	cr_expect_eq(strv_length(plan->envp), 6 + 2);
}

Test(plan, environment_setters)
{
	cr_assert_eq(enter_set_env(ctx, "FOO", "bar"), 0);
	cr_assert_eq(enter_set_env(ctx, "TERM", NULL), 0);
	cr_assert_eq(enter_keep_env(ctx, "NIX_PATH"), 0);
	cr_expect_eq(enter_set_env(ctx, "BAD=NAME", "x"), -EINVAL);
	cr_expect_eq(enter_keep_env(ctx, "1BAD"), -EINVAL);
	build(NULL);
	cr_expect_not_null(strv_find_prefix(plan->envp, "FOO=bar"));
	cr_expect_null(strv_find_prefix(plan->envp, "TERM="));
	cr_expect_not_null(strv_find_prefix(plan->envp, "NIX_PATH=/host"));
}

Test(plan, preserve_fds)
{
	cr_assert_eq(enter_set_preserve_fds(ctx, 2), 0);
	build(NULL);
	cr_expect_eq(plan->preserve_fds, 2);
}

/* Checks that brackets and braces outside strings balance and that strings
 * are closed: not a parser, but what a truncated or unescaped printer breaks. */
static bool json_balanced(const char *s)
{
	char stack[64];
	size_t depth = 0;
	bool in_string = false;

	for (; *s; s++) {
		if (in_string) {
			if (*s == '\\' && s[1])
				s++;
			else if (*s == '"')
				in_string = false;
			else if ((unsigned char)*s < 0x20)
				return false;
			continue;
		}
		switch (*s) {
		case '"':
			in_string = true;
			break;
		case '{':
		case '[':
			if (depth == sizeof(stack))
				return false;
			stack[depth++] = *s;
			break;
		case '}':
		case ']':
			if (!depth || stack[--depth] != (*s == '}' ? '{' : '['))
				return false;
			break;
		default:
			break;
		}
	}
	return depth == 0 && !in_string;
}

static size_t count_substr(const char *s, const char *sub)
{
	size_t n = 0;

	for (const char *p = s; (p = strstr(p, sub)); p += strlen(sub))
		n++;
	return n;
}

Test(plan, format_json)
{
	_cleanup_free_ char *json = NULL;
	char *argv[] = {"/bin/echo", "quote\" backslash\\ newline\n tab\t", NULL};

	char src[160];

	snprintf(src, sizeof(src), "%s", host_dir("a \"b\""));
	cr_assert_eq(enter_add_bind(ctx, src, "/mnt/x", ENTER_BIND_RDONLY), 0);
	build(argv);
	cr_assert_eq(enter_plan_format(plan, ENTER_FORMAT_JSON, &json), 0);
	cr_assert_not_null(json);
	cr_expect_eq(json[0], '{');
	cr_expect_eq(json[strlen(json) - 1], '\n');
	cr_expect_not_null(strstr(json, "\"steps\""));
	cr_expect(json_balanced(json), "unbalanced JSON:\n%s", json);
	cr_expect_eq(count_substr(json, "\"kind\": "), plan->n_steps);
	cr_expect_not_null(strstr(json, "\"hostname\": \"testhost\""));
	cr_expect_not_null(strstr(json, "/a \\\"b\\\"\""), "%s", json);
	cr_expect_not_null(strstr(json, "\"quote\\\" backslash\\\\ newline\\n tab\\t\""), "%s",
			   json);
	cr_expect_not_null(strstr(json, "\"mode\": \"1777\""), "%s", json);
	cr_expect_not_null(strstr(json, "\"flags\": [\"ro\"]"), "%s", json);
}

Test(plan, format_text_one_line_per_step)
{
	static const char *const prefixes[] = {
		[STEP_NAMESPACES] = "unshare ", [STEP_TERMINAL] = "terminal ",
		[STEP_PROPAGATION] = "mount ",	[STEP_MKFILE] = "mkfile ",
		[STEP_HARDEN] = "harden ",	[STEP_TMPFILES] = "tmpfiles ",
		[STEP_ROOT] = "bind ",		[STEP_MKDIR] = "mkdir ",
		[STEP_PROC] = "mount ",		[STEP_TMPFS] = "mount ",
		[STEP_DEVPTS] = "mount ",	[STEP_BIND] = "bind ",
		[STEP_HOSTNAME] = "hostname ",	[STEP_PIVOT] = "pivot ",
		[STEP_ACTIVATE] = "activate ",	[STEP_RESOLV] = "bind ",
		[STEP_FSTAB] = "mount ",	[STEP_BOOT_SPACE] = "check ",
	};
	_cleanup_free_ char *text = NULL;
	char *line, *save = NULL;
	size_t n = 0;

	cr_assert_eq(enter_add_bind(ctx, host_dir("srv-data"), "/mnt/data", 0), 0);
	build(NULL);
	cr_assert_eq(enter_plan_format(plan, ENTER_FORMAT_TEXT, &text), 0);
	cr_assert_not_null(text);
	cr_expect_eq(text[strlen(text) - 1], '\n');
	cr_expect_eq(count_substr(text, "\n"), plan->n_steps + 1 + strv_length(plan->envp),
		     "text plan:\n%s", text);

	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save), n++) {
		if (n < plan->n_steps) {
			const struct step *s = &plan->steps[n];
			char origin[256];

			cr_expect_eq(strncmp(line, prefixes[s->kind], strlen(prefixes[s->kind])), 0,
				     "line %zu (%s): \"%s\"", n, step_kind_name(s->kind), line);
			snprintf(origin, sizeof(origin), "  # %s", s->origin ?: "default");
			cr_assert_gt(strlen(line), strlen(origin), "line %zu: \"%s\"", n, line);
			cr_expect_str_eq(line + strlen(line) - strlen(origin), origin, "line %zu",
					 n);
			if (s->target && s->kind != STEP_ROOT && s->kind != STEP_PIVOT)
				cr_expect_not_null(strstr(line, s->target), "line %zu: \"%s\"", n,
						   line);
		} else if (n == plan->n_steps) {
			cr_expect_str_eq(line, "exec      " BASH " --login");
		} else {
			cr_expect_eq(strncmp(line, "env       ", 10), 0, "\"%s\"", line);
		}
	}
	cr_expect_eq(n, plan->n_steps + 1 + strv_length(plan->envp));
}

Test(plan, format_rejects_bad_arguments)
{
	char *out = NULL;

	build(NULL);
	cr_expect_eq(enter_plan_format(NULL, ENTER_FORMAT_TEXT, &out), -EINVAL);
	cr_expect_eq(enter_plan_format(plan, (enum enter_format)42, &out), -EINVAL);
	cr_expect_null(out);
}

Test(plan, every_step_kind_has_a_name)
{
	for (int k = STEP_NAMESPACES; k <= STEP_LUKS_CLOSE; k++) {
		const char *name = step_kind_name(k);

		cr_assert_not_null(name);
		cr_expect_str_neq(name, "?", "step kind %d has no name", k);
		cr_expect_neq(name[0], '\0');
		for (int j = STEP_NAMESPACES; j < k; j++)
			cr_expect_str_neq(name, step_kind_name(j), "kinds %d and %d share \"%s\"",
					  k, j, name);
	}
	cr_expect_str_eq(step_kind_name((enum step_kind)(STEP_LUKS_CLOSE + 1)), "?");
}

Test(plan, plan_free_null)
{
	cr_expect_null(plan_free(NULL));
}

Test(plan, set_command_after_planning)
{
	char *argv[] = {"/bin/busybox", "echo", "testhost", NULL};
	_cleanup_free_ char *text = NULL;

	build(NULL);
	cr_assert_eq(enter_plan_set_command(plan, argv), 0);
	cr_expect_str_eq(plan->argv[0], "/bin/busybox");
	cr_expect_str_eq(plan->argv[2], "testhost");
	cr_expect_null(plan->argv[3]);
	cr_assert_eq(enter_plan_format(plan, ENTER_FORMAT_TEXT, &text), 0);
	cr_expect_not_null(strstr(text, "exec      /bin/busybox echo testhost\n"), "%s", text);
	/* NULL: the login shell again. */
	cr_assert_eq(enter_plan_set_command(plan, NULL), 0);
	cr_expect_str_eq(plan->argv[0], BASH);
	cr_expect_str_eq(plan->argv[1], "--login");
	cr_expect_eq(enter_plan_set_command(NULL, argv), -EINVAL);
}

Test(plan, failed_plan_is_printed_with_its_error_and_not_run)
{
	_cleanup_free_ char *text = NULL, *json = NULL;
	int status = -1;

	make_link("/", "dev");
	cr_assert_lt(plan_build(ctx, NULL, host_env, false, &plan, &err), 0);
	cr_assert_not_null(plan);
	cr_assert_eq(enter_plan_format(plan, ENTER_FORMAT_TEXT, &text), 0);
	cr_expect_not_null(
		strstr(text, "failed    resolve /dev: is a symlink, refusing to mount over it\n"),
		"%s", text);
	cr_expect_null(strstr(text, "exec "), "%s", text);
	cr_assert_eq(enter_plan_format(plan, ENTER_FORMAT_JSON, &json), 0);
	cr_expect_not_null(
		strstr(json,
		       "\"error\": \"resolve /dev: is a symlink, refusing to mount over it\""),
		"%s", json);
	enter_error_free(err);
	err = NULL;
	cr_expect_eq(enter_run_plan(ctx, plan, &status, &err), -ECANCELED);
	cr_expect_eq(status, -1);
	cr_expect_not_null(err);
	cr_expect_eq(enter_plan_set_command(plan, NULL), -EINVAL);
}

Test(plan, run_plan_of_another_context_is_refused)
{
	struct enter_ctx *other = enter_new(root, NULL);
	int status = -1;

	cr_assert_not_null(other);
	build(NULL);
	cr_expect_eq(enter_run_plan(other, plan, &status, &err), -EINVAL);
	cr_expect_not_null(err);
	cr_expect_eq(status, -1);
	enter_free(other);
}

Test(plan, bind_source_made_absolute)
{
	const struct step *s;
	char cwd[PATH_MAX];

	cr_assert_not_null(getcwd(cwd, sizeof(cwd)));
	cr_assert_eq(chdir(tmp), 0);
	host_dir("relative");
	cr_assert_eq(enter_add_bind(ctx, "relative", "/mnt/rel", 0), 0);
	build(NULL);
	cr_assert_eq(chdir(cwd), 0);
	cr_assert_not_null(s = find_step(STEP_BIND, "/mnt/rel"));
	cr_expect_eq(s->source[0], '/', "%s", s->source);
	cr_expect_eq(strncmp(s->source, tmp, strlen(tmp)), 0, "%s", s->source);
}

Test(plan, bind_source_missing_is_a_failure_known_in_advance)
{
	cr_assert_eq(enter_add_bind(ctx, "/no/such/source", "/mnt/none", 0), 0);
	cr_assert_eq(plan_build(ctx, NULL, host_env, false, &plan, &err), -ENOENT);
	cr_expect_str_eq(enter_error_message(err),
			 "bind /no/such/source (--bind): no such file or directory");
}

Test(plan, bind_of_a_file_to_a_missing_destination)
{
	char file[160];
	const struct step *s;

	snprintf(file, sizeof(file), "%s/hostfile", tmp);
	close(open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
	cr_assert_eq(enter_add_bind(ctx, file, "/srv/hostfile", ENTER_BIND_RDONLY), 0);
	build(NULL);
	cr_assert_not_null(s = find_step(STEP_MKDIR, "/srv"));
	cr_expect_eq(s->mode, 0755);
	cr_assert_not_null(s = find_step(STEP_MKFILE, "/srv/hostfile"));
	cr_expect_eq(s->mode, 0644);
	cr_expect_eq(step_index(STEP_MKFILE, "/srv/hostfile"),
		     step_index(STEP_BIND, "/srv/hostfile") - 1);
}
