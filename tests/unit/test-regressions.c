/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Bugs found by review of the unit tests, each fixed with its test:
 * hostname(5) comments, invalid --hostname values reaching sethostname() and
 * the text plan, a report record cut short, device nodes opened while reading
 * the target's small files.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <ftw.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "internal.h"

static char tmp[64];  /* removed in fini */
static char root[96]; /* tmp/root */
static int root_fd = -1;
static struct enter_ctx *ctx;
static struct enter_plan *plan;
static struct enter_error *err;

static void make_file(const char *path, const char *content)
{
	_cleanup_close_ int fd = -1;
	size_t len = strlen(content);

	(void)unlinkat(root_fd, path, 0);
	fd = openat(root_fd, path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	cr_assert_geq(fd, 0, "create %s: %s", path, strerror(errno));
	cr_assert_eq(write(fd, content, len), (ssize_t)len);
}

/* A NIXOS-shaped root just big enough for plan_build(): etc/NIXOS, etc/hostname. */
static void setup(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/libenter-test-bugs-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	snprintf(root, sizeof(root), "%s/root", tmp);
	cr_assert_eq(mkdir(root, 0755), 0);
	root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(root_fd, 0);
	cr_assert_eq(mkdirat(root_fd, "etc", 0755), 0);
	make_file("etc/NIXOS", "");
	make_file("etc/hostname", "testhost\n");
	ctx = enter_new(root, &err);
	cr_assert_not_null(ctx);
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

TestSuite(regressions, .init = setup, .fini = teardown);

static void build(void)
{
	static char *host_env[] = {"TERM=xterm", NULL};
	int r = plan_build(ctx, NULL, host_env, false, &plan, &err);

	cr_assert_eq(r, 0, "plan_build: %d, %s", r, err ? enter_error_message(err) : "no error");
}

/* plan.c: hostname(5) says "Comments (lines starting with a "#") are
 * ignored."; plan_hostname() takes the first word of the file, "#", rejects it
 * as invalid, and the command runs as "localhost". */
Test(regressions, plan_hostname_file_comment_ignored)
{
	make_file("etc/hostname", "# written by the installer\ncommented\n");
	build();
	cr_expect_str_eq(plan->hostname, "commented");
}

/* ctx.c: enter_set_hostname() only refuses "", '/' and more than 64 bytes,
 * although plan.c refuses the same name in etc/hostname.  A newline reaches
 * the plan (and sethostname()) and adds a forged line to the text plan, which
 * is documented as one step a line. */
Test(regressions, set_hostname_rejects_a_newline)
{
	_cleanup_free_ char *text = NULL;
	size_t lines = 0;
	int r;

	cr_expect_eq(enter_set_hostname(ctx, "two words"), -EINVAL);
	cr_expect_eq(enter_set_hostname(ctx, "-flag"), -EINVAL);
	r = enter_set_hostname(ctx, "evil\nexec      rm -rf ~");
	cr_expect_eq(r, -EINVAL, "enter_set_hostname() accepted a name with a newline");
	if (r < 0)
		return;
	build();
	cr_assert_eq(enter_plan_format(plan, ENTER_FORMAT_TEXT, &text), 0);
	for (char *p = text; *p; p++)
		lines += *p == '\n';
	cr_expect_eq(lines, plan->n_steps + 1 + strv_length(plan->envp), "text plan:\n%s", text);
}

/* report.c: report_receive() stops decoding when fewer than two bytes are
 * left and returns 1 ("more may come"), dropping them; every other truncated
 * record is -EBADMSG.  Records are written whole, so a lone byte is a broken
 * stream too. */
Test(regressions, report_truncated_length_is_ebadmsg)
{
	struct enter_error *e = NULL;
	int p[2];

	cr_assert_eq(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	cr_assert_eq(write(p[1], "\x05", 1), 1);
	(void)close(p[1]);
	cr_expect_eq(report_receive(p[0], ctx, &e), -EBADMSG);
	cr_expect_null(e);
	enter_error_free(e);
	(void)close(p[0]);
}

/* resolve.c: resolve_file_read() opens the file O_RDONLY and checks S_ISREG
 * only afterwards, so a device node planted in the target (etc/hostname ->
 * char 10,130 is /dev/watchdog, which starts its timer on open) is opened by
 * the driver before being refused.  O_NONBLOCK covers fifos, not devices:
 * open O_PATH, fstat(), then reopen.  Here a /dev/null node and inotify show
 * the open. */
Test(regressions, resolve_file_read_does_not_open_device_nodes)
{
	_cleanup_close_ int in = -1;
	char events[4096];
	char *data = NULL;
	char path[160];

	if (geteuid() != 0)
		cr_skip_test("mknod needs root");
	(void)unlinkat(root_fd, "etc/hostname", 0);
	cr_assert_eq(mknodat(root_fd, "etc/hostname", S_IFCHR | 0644, makedev(1, 3)), 0, "%s",
		     strerror(errno));
	in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	cr_assert_geq(in, 0);
	snprintf(path, sizeof(path), "%s/etc/hostname", root);
	cr_assert_geq(inotify_add_watch(in, path, IN_OPEN), 0);

	cr_expect_lt(resolve_file_read(root_fd, "etc/hostname", 256, &data), 0);
	cr_expect_null(data);
	cr_expect_lt(read(in, events, sizeof(events)), 0, "the device node was opened");
}
