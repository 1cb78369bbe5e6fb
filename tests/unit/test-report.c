/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * report.c: error and log records from the child to the parent through a
 * pipe; error.c: the error object and its one-line message.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <string.h>

#include "internal.h"

static int fds[2] = {-1, -1};
static struct enter_ctx *ctx;

struct log_record {
	int calls;
	enum enter_log_level level;
	char msg[4096];
};

static struct log_record log_seen;

static void record_log(void *userdata, enum enter_log_level level, const char *msg)
{
	struct log_record *l = userdata;

	l->calls++;
	l->level = level;
	snprintf(l->msg, sizeof(l->msg), "%s", msg);
}

/* As in pid 1: log lines go to the caller through the pipe. */
static void to_pipe(void)
{
	cr_assert_eq(enter_set_log(ctx, report_log_to_fd, &fds[1]), 0);
}

static void to_record(void)
{
	cr_assert_eq(enter_set_log(ctx, record_log, &log_seen), 0);
}

static void setup(void)
{
	struct enter_error *err = NULL;

	cr_assert_eq(pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
	ctx = enter_new("/", &err);
	cr_assert_not_null(ctx);
	cr_assert_eq(enter_set_log(ctx, record_log, &log_seen), 0);
	log_seen = (struct log_record){};
}

static void teardown(void)
{
	enter_free(ctx);
	for (size_t i = 0; i < ELEMENTSOF(fds); i++)
		if (fds[i] >= 0)
			(void)close(fds[i]);
}

TestSuite(report, .init = setup, .fini = teardown);
TestSuite(error);

static inline void enter_error_freep(struct enter_error **e)
{
	enter_error_free(*e);
}
#define _cleanup_error_ _cleanup_(enter_error_freep)

static void write_raw(const void *data, size_t len)
{
	cr_assert_eq(write(fds[1], data, len), (ssize_t)len);
}

static void close_writer(void)
{
	(void)close(fds[1]);
	fds[1] = -1;
}

Test(report, error_round_trip)
{
	const struct enter_error sent = {
		.errnum = ENODEV,
		.exit_code = 127,
		.step = "mount",
		.path = "/boot",
		.detail = "UUID=3A1F-22C4 from /mnt/etc/fstab line 7",
		.reason = "100% full, %s %n stays literal",
	};
	_cleanup_error_ struct enter_error *got = NULL;

	cr_assert_eq(report_send_error(fds[1], &sent), 0);
	cr_assert_eq(report_receive(fds[0], ctx, &got), 1);
	cr_assert_not_null(got);
	cr_expect_eq(enter_error_errno(got), ENODEV);
	cr_expect_eq(enter_error_exit_code(got), 127);
	cr_expect_str_eq(enter_error_step(got), "mount");
	cr_expect_str_eq(enter_error_path(got), "/boot");
	cr_expect_str_eq(enter_error_detail(got), "UUID=3A1F-22C4 from /mnt/etc/fstab line 7");
	cr_expect_str_eq(got->reason, "100% full, %s %n stays literal");
	cr_expect_str_eq(enter_error_message(got),
			 "mount /boot (UUID=3A1F-22C4 from /mnt/etc/fstab "
			 "line 7): 100% full, %s %n stays literal");
	cr_expect_eq(log_seen.calls, 0);

	close_writer();
	cr_expect_eq(report_receive(fds[0], ctx, &got), 0, "EOF");
}

Test(report, error_with_absent_fields)
{
	const struct enter_error sent = {.errnum = EACCES, .exit_code = 126, .step = "exec"};
	_cleanup_error_ struct enter_error *got = NULL;

	cr_assert_eq(report_send_error(fds[1], &sent), 0);
	cr_assert_eq(report_receive(fds[0], ctx, &got), 1);
	cr_assert_not_null(got);
	cr_expect_eq(enter_error_errno(got), EACCES);
	cr_expect_eq(enter_error_exit_code(got), 126);
	cr_expect_str_eq(enter_error_step(got), "exec");
	cr_expect_null(enter_error_path(got));
	cr_expect_null(enter_error_detail(got));
	cr_expect_null(got->reason);
	cr_expect_str_eq(enter_error_message(got), "exec: permission denied");
}

Test(report, error_with_empty_fields)
{
	const struct enter_error sent = {
		.errnum = EIO,
		.exit_code = 125,
		.step = "",
		.path = "",
		.detail = "",
		.reason = "",
	};
	_cleanup_error_ struct enter_error *got = NULL;

	cr_assert_eq(report_send_error(fds[1], &sent), 0);
	cr_assert_eq(report_receive(fds[0], ctx, &got), 1);
	cr_assert_not_null(got);
	cr_expect_str_eq(enter_error_step(got) ?: "(null)", "");
	cr_expect_str_eq(enter_error_path(got) ?: "(null)", "");
	cr_expect_str_eq(enter_error_detail(got) ?: "(null)", "");
	cr_expect_str_eq(got->reason ?: "(null)", "");
}

Test(report, log_round_trip)
{
	struct enter_error *err = NULL;

	cr_assert_eq(report_send_log(fds[1], ENTER_LOG_WARNING, "activation failed: exit 1"), 0);
	cr_assert_eq(report_receive(fds[0], ctx, &err), 1);
	cr_expect_null(err, "a log record is not an error");
	cr_expect_eq(log_seen.calls, 1);
	cr_expect_eq(log_seen.level, ENTER_LOG_WARNING);
	cr_expect_str_eq(log_seen.msg, "activation failed: exit 1");
}

Test(report, log_levels_and_percent)
{
	struct enter_error *err = NULL;

	cr_assert_eq(enter_set_log_level(ctx, ENTER_LOG_DEBUG), 0);
	cr_assert_eq(report_send_log(fds[1], ENTER_LOG_DEBUG, "50%s %d %n"), 0);
	cr_assert_eq(report_receive(fds[0], ctx, &err), 1);
	cr_expect_eq(log_seen.level, ENTER_LOG_DEBUG);
	cr_expect_str_eq(log_seen.msg, "50%s %d %n");
	cr_expect_null(err);
}

Test(report, log_without_callback_is_dropped)
{
	struct enter_error *err = NULL;

	cr_assert_eq(enter_set_log(ctx, NULL, NULL), 0);
	cr_assert_eq(report_send_log(fds[1], ENTER_LOG_WARNING, "nobody listens"), 0);
	cr_expect_eq(report_receive(fds[0], ctx, &err), 1);
	cr_expect_null(err);
	cr_expect_eq(log_seen.calls, 0);
}

Test(report, log_level_info_by_default)
{
	log_msg(ctx, ENTER_LOG_DEBUG, "step %d", 1);
	cr_expect_eq(log_seen.calls, 0, "debug messages are off by default");
	log_msg(ctx, ENTER_LOG_INFO, "mounting %s", "/boot");
	cr_expect_eq(log_seen.calls, 1);
	cr_expect_str_eq(log_seen.msg, "mounting /boot");

	cr_assert_eq(enter_set_log_level(ctx, ENTER_LOG_DEBUG), 0);
	log_msg(ctx, ENTER_LOG_DEBUG, "step %d", 2);
	cr_expect_eq(log_seen.calls, 2);
	cr_expect_str_eq(log_seen.msg, "step 2");

	cr_assert_eq(enter_set_log_level(ctx, ENTER_LOG_WARNING), 0);
	log_msg(ctx, ENTER_LOG_INFO, "quiet");
	cr_expect_eq(log_seen.calls, 2);

	cr_expect_eq(enter_set_log_level(ctx, (enum enter_log_level)(ENTER_LOG_DEBUG + 1)),
		     -EINVAL);
	cr_expect_eq(enter_set_log_level(ctx, (enum enter_log_level) - 1), -EINVAL);
	cr_expect_eq(enter_set_log_level(NULL, ENTER_LOG_DEBUG), -EINVAL);
}

/* In the child a message is a write to the parent: one not wanted is never
 * written (each used to wake the parent once per step). */
Test(report, unwanted_level_not_sent)
{
	struct enter_error *err = NULL;

	to_pipe();
	log_msg(ctx, ENTER_LOG_DEBUG, "bind /dev");
	to_record();
	cr_expect_eq(read(fds[0], (char[1]){0}, 1), -1, "nothing in the pipe");
	cr_expect_eq(errno, EAGAIN);

	cr_assert_eq(enter_set_log_level(ctx, ENTER_LOG_DEBUG), 0);
	to_pipe();
	log_msg(ctx, ENTER_LOG_DEBUG, "bind /dev");
	to_record();
	cr_expect_eq(report_receive(fds[0], ctx, &err), 1);
	cr_expect_str_eq(log_seen.msg, "bind /dev");
}

Test(report, several_records_in_one_read)
{
	const struct enter_error first = {
		.errnum = ENOENT, .exit_code = 127, .step = "exec", .path = "/bin/frobnicate"};
	const struct enter_error second = {.errnum = EPERM, .exit_code = 125, .step = "mount"};
	_cleanup_error_ struct enter_error *got = NULL;

	cr_assert_eq(report_send_log(fds[1], ENTER_LOG_INFO, "one"), 0);
	cr_assert_eq(report_send_log(fds[1], ENTER_LOG_WARNING, "two"), 0);
	cr_assert_eq(report_send_error(fds[1], &first), 0);
	cr_assert_eq(report_send_error(fds[1], &second), 0);
	cr_assert_eq(report_send_log(fds[1], ENTER_LOG_ERROR, "three"), 0);
	cr_assert_eq(report_receive(fds[0], ctx, &got), 1);
	cr_expect_eq(log_seen.calls, 3);
	cr_expect_eq(log_seen.level, ENTER_LOG_ERROR);
	cr_expect_str_eq(log_seen.msg, "three");
	cr_assert_not_null(got);
	cr_expect_eq(enter_error_errno(got), ENOENT, "the first error is the cause");
	cr_expect_eq(enter_error_exit_code(got), 127);
	cr_expect_str_eq(enter_error_path(got), "/bin/frobnicate");
}

Test(report, existing_error_is_kept)
{
	const struct enter_error sent = {.errnum = EPERM, .exit_code = 126, .step = "exec"};
	_cleanup_error_ struct enter_error *err = NULL;

	error_set(&err, ENOSPC, "mount", "/run", NULL, "first");
	cr_assert_eq(report_send_error(fds[1], &sent), 0);
	cr_assert_eq(report_receive(fds[0], ctx, &err), 1);
	cr_expect_eq(enter_error_errno(err), ENOSPC);
	cr_expect_eq(enter_error_exit_code(err), 125);
	cr_expect_str_eq(enter_error_message(err), "mount /run: first");
}

Test(report, nothing_to_read)
{
	struct enter_error *err = NULL;

	cr_expect_eq(report_receive(fds[0], ctx, &err), 1, "EAGAIN means more may come");
	cr_expect_null(err);
	close_writer();
	cr_expect_eq(report_receive(fds[0], ctx, &err), 0);
	cr_expect_null(err);
}

Test(report, bad_fd)
{
	struct enter_error *err = NULL;

	cr_expect_eq(report_receive(-1, ctx, &err), -EBADF);
	cr_expect_lt(report_send_log(-1, ENTER_LOG_INFO, "x"), 0);
}

/* A record: u16 length of the rest, u8 type, then the body. */
struct raw {
	unsigned char data[256];
	size_t len;
};

static void raw_put(struct raw *r, const void *p, size_t n)
{
	cr_assert_leq(r->len + n, sizeof(r->data));
	memcpy(r->data + r->len, p, n);
	r->len += n;
}

static void raw_header(struct raw *r, uint16_t len, char type)
{
	r->len = 0;
	raw_put(r, &len, 2);
	raw_put(r, &type, 1);
}

static void raw_i32(struct raw *r, int32_t v)
{
	raw_put(r, &v, 4);
}

Test(report, raw_record_matches_the_format)
{
	struct raw r;
	_cleanup_error_ struct enter_error *err = NULL;
	int32_t level = ENTER_LOG_INFO;
	unsigned char got[64];

	/* What report_send_log() writes is what the format comment describes. */
	cr_assert_eq(report_send_log(fds[1], ENTER_LOG_INFO, "hi"), 0);
	cr_assert_eq(read(fds[0], got, sizeof(got)), 2 + 1 + 4 + 1 + 3);
	raw_header(&r, 1 + 4 + 1 + 3, 'L');
	raw_put(&r, &level, 4);
	raw_put(&r, "\1hi", 4);
	cr_expect_eq(memcmp(got, r.data, r.len), 0);

	/* And a hand-made 'E' record decodes. */
	raw_header(&r, 1 + 4 + 4 + 4 * 1 + 2 + 3, 'E');
	raw_i32(&r, ENXIO);
	raw_i32(&r, 125);
	raw_put(&r, "\1x\0\1/y\0\0\0", 9);
	cr_assert_eq(r.len, 2 + 1 + 4 + 4 + 9);
	write_raw(r.data, r.len);
	cr_assert_eq(report_receive(fds[0], ctx, &err), 1);
	cr_assert_not_null(err);
	cr_expect_eq(enter_error_errno(err), ENXIO);
	cr_expect_str_eq(enter_error_message(err), "x /y: no such device or address");
}

struct bad_case {
	const char *name;
	unsigned char data[32];
	size_t len;
};

Test(report, garbage_is_ebadmsg)
{
	static const struct bad_case cases[] = {
		{"unknown type", {1, 0, 'X'}, 3},
		{"empty record", {0, 0}, 2},
		{"length past the data", {40, 0, 'L', 1, 0, 0, 0, 1, 'h', 'i', 0}, 11},
		{"log without level", {3, 0, 'L', 1, 0}, 5},
		{"log without message", {5, 0, 'L', 1, 0, 0, 0}, 7},
		{"log with absent message", {6, 0, 'L', 1, 0, 0, 0, 0}, 8},
		{"log message without NUL", {8, 0, 'L', 1, 0, 0, 0, 1, 'h', 'i'}, 10},
		{"error without fields", {9, 0, 'E', 2, 0, 0, 0, 125, 0, 0, 0}, 11},
		{"error with three fields", {12, 0, 'E', 2, 0, 0, 0, 125, 0, 0, 0, 0, 0, 0}, 14},
		{"error field without NUL",
		 {14, 0, 'E', 2, 0, 0, 0, 125, 0, 0, 0, 0, 0, 0, 1, 'x'},
		 16},
		{"good log then garbage", {8, 0, 'L', 1, 0, 0, 0, 1, 'o', 0, 1, 0, 'Z'}, 13},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_error_ struct enter_error *err = NULL;
		int p[2];
		int r;

		cr_assert_eq(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
		cr_assert_eq(write(p[1], cases[i].data, cases[i].len), (ssize_t)cases[i].len);
		r = report_receive(p[0], ctx, &err);
		cr_expect_eq(r, -EBADMSG, "%s: %d", cases[i].name, r);
		cr_expect_null(err, "%s: garbage made an error", cases[i].name);
		(void)close(p[0]);
		(void)close(p[1]);
	}
}

static char *long_string(char c, size_t n)
{
	char *s = malloc(n + 1);

	cr_assert_not_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

Test(report, long_fields_are_truncated)
{
	_cleanup_free_ char *a = long_string('a', 2000), *b = long_string('b', 2000);
	_cleanup_free_ char *c = long_string('c', 2000), *d = long_string('d', 2000);
	const struct enter_error sent = {
		.errnum = EIO,
		.exit_code = 125,
		.step = a,
		.path = b,
		.detail = c,
		.reason = d,
	};
	_cleanup_error_ struct enter_error *got = NULL;
	const char *fields[4];

	cr_assert_eq(report_send_error(fds[1], &sent), 0);
	cr_assert_eq(report_receive(fds[0], ctx, &got), 1);
	cr_assert_not_null(got);
	fields[0] = got->step;
	fields[1] = got->path;
	fields[2] = got->detail;
	fields[3] = got->reason;
	for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
		const char *want = (const char *[]){a, b, c, d}[i];

		cr_assert_not_null(fields[i]);
		cr_expect_gt(strlen(fields[i]), 100, "field %zu: %zu", i, strlen(fields[i]));
		cr_expect_lt(strlen(fields[i]), 2000, "field %zu not truncated", i);
		cr_expect_eq(strncmp(fields[i], want, strlen(fields[i])), 0, "field %zu", i);
	}
	cr_expect_eq(enter_error_exit_code(got), 125);
}

Test(report, long_log_is_truncated)
{
	_cleanup_free_ char *msg = long_string('m', 2000);
	struct enter_error *err = NULL;

	cr_assert_eq(report_send_log(fds[1], ENTER_LOG_WARNING, msg), 0);
	cr_assert_eq(report_receive(fds[0], ctx, &err), 1);
	cr_expect_eq(log_seen.calls, 1);
	cr_expect_gt(strlen(log_seen.msg), 100);
	cr_expect_lt(strlen(log_seen.msg), 2000);
	cr_expect_eq(strncmp(log_seen.msg, msg, strlen(log_seen.msg)), 0);
}

Test(report, log_msg_goes_to_the_report_fd)
{
	char buf[64];
	ssize_t n;

	to_pipe();
	log_msg(ctx, ENTER_LOG_INFO, "via %s %d", "pipe", 7);
	to_record();
	cr_expect_eq(log_seen.calls, 0, "in the child, log records go to the parent");
	n = read(fds[0], buf, sizeof(buf));
	cr_assert_gt(n, 7);
	cr_expect_eq(buf[2], 'L');
	cr_expect_str_eq(buf + 2 + 1 + 4 + 1, "via pipe 7");
}

/* error.c */

Test(error, set_fills_all_fields)
{
	_cleanup_error_ struct enter_error *err = NULL;

	cr_expect_eq(error_set(&err, ENODEV, "mount", "/boot", "fstab line 7", "%s %d", "code", 42),
		     -ENODEV);
	cr_assert_not_null(err);
	cr_expect_eq(err->errnum, ENODEV);
	cr_expect_eq(err->exit_code, 125);
	cr_expect_str_eq(err->step, "mount");
	cr_expect_str_eq(err->path, "/boot");
	cr_expect_str_eq(err->detail, "fstab line 7");
	cr_expect_str_eq(err->reason, "code 42");
}

Test(error, set_keeps_the_first_error)
{
	_cleanup_error_ struct enter_error *err = NULL;
	struct enter_error *first;

	cr_expect_eq(error_set(&err, ENOENT, "resolve", "/dev", NULL, "first"), -ENOENT);
	first = err;
	cr_expect_eq(error_set(&err, EPERM, "mount", "/proc", "x", "second"), -EPERM,
		     "the return value is still the caller's own");
	cr_expect_eq(err, first);
	cr_expect_eq(enter_error_errno(err), ENOENT);
	cr_expect_str_eq(enter_error_step(err), "resolve");
	cr_expect_str_eq(enter_error_path(err), "/dev");
	cr_expect_str_eq(enter_error_message(err), "resolve /dev: first");
}

Test(error, set_without_err)
{
	cr_expect_eq(error_set(NULL, EINVAL, "x", NULL, NULL, NULL), -EINVAL);
}

Test(error, set_nonpositive_errno_is_eio)
{
	_cleanup_error_ struct enter_error *a = NULL, *b = NULL;

	cr_expect_eq(error_set(&a, 0, "x", NULL, NULL, NULL), -EIO);
	cr_expect_eq(enter_error_errno(a), EIO);
	cr_expect_eq(error_set(&b, -EPERM, "x", NULL, NULL, NULL), -EIO);
	cr_expect_eq(enter_error_errno(b), EIO);
}

Test(error, exit_code)
{
	_cleanup_error_ struct enter_error *err = NULL;

	error_set(&err, ENOENT, "check", "/mnt", NULL, NULL);
	cr_expect_eq(enter_error_exit_code(err), 125);
	error_set_exit_code(err, 126);
	cr_expect_eq(enter_error_exit_code(err), 126);
	error_set_exit_code(NULL, 127);
}

Test(error, message_format)
{
	static const struct {
		const char *step, *path, *detail, *reason;
		int errnum;
		const char *want;
	} cases[] = {
		{"mount", "/boot", "UUID=3A1F-22C4 from /mnt/etc/fstab line 7", "no such device",
		 ENODEV, "mount /boot (UUID=3A1F-22C4 from /mnt/etc/fstab line 7): no such device"},
		{"resolve", "/dev", NULL, "is a symlink, refusing to mount over it", ELOOP,
		 "resolve /dev: is a symlink, refusing to mount over it"},
		{"activate", NULL, "--system", "exit status 1", EIO,
		 "activate (--system): exit status 1"},
		{"exec", NULL, NULL, NULL, ENOENT, "exec: no such file or directory"},
		{"mount", "/run", NULL, NULL, EPERM, "mount /run: operation not permitted"},
		{NULL, "/x", NULL, "odd", EIO, "enter /x: odd"},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_error_ struct enter_error *err = NULL;
		const char *m;

		if (cases[i].reason)
			error_set(&err, cases[i].errnum, cases[i].step, cases[i].path,
				  cases[i].detail, "%s", cases[i].reason);
		else
			error_set(&err, cases[i].errnum, cases[i].step, cases[i].path,
				  cases[i].detail, NULL);
		cr_assert_not_null(err);
		m = enter_error_message(err);
		cr_expect_str_eq(m, cases[i].want);
		cr_expect_eq(enter_error_message(err), m, "the message is built once");
	}
}

Test(error, accessors_accept_null)
{
	cr_expect_eq(enter_error_errno(NULL), 0);
	cr_expect_eq(enter_error_exit_code(NULL), 0);
	cr_expect_null(enter_error_step(NULL));
	cr_expect_null(enter_error_path(NULL));
	cr_expect_null(enter_error_detail(NULL));
	cr_expect_null(enter_error_message(NULL));
	enter_error_free(NULL);
}

Test(error, from_fs_context_keeps_the_kernel_text)
{
	_cleanup_error_ struct enter_error *err = NULL;
	static const char kernel[] = "e devpts: Unknown parameter 'foo'\n";
	int p[2];

	cr_assert_eq(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	cr_assert_eq(write(p[1], kernel, sizeof(kernel) - 1), (ssize_t)sizeof(kernel) - 1);
	cr_expect_eq(error_from_fs_context(&err, EINVAL, p[0], "mount", "/dev/pts", "default"),
		     -EINVAL);
	(void)close(p[0]);
	(void)close(p[1]);
	cr_assert_not_null(err);
	cr_expect_str_eq(
		enter_error_message(err),
		"mount /dev/pts (default): invalid argument: devpts: Unknown parameter 'foo'");
}

Test(error, from_fs_context_without_text)
{
	_cleanup_error_ struct enter_error *a = NULL, *b = NULL;
	int p[2];

	cr_assert_eq(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	cr_expect_eq(error_from_fs_context(&a, ENODEV, p[0], "mount", "/boot", NULL), -ENODEV);
	cr_expect_str_eq(enter_error_message(a), "mount /boot: no such device");
	cr_expect_eq(error_from_fs_context(&b, ENODEV, -1, "mount", "/boot", NULL), -ENODEV);
	cr_expect_str_eq(enter_error_message(b), "mount /boot: no such device");
	(void)close(p[0]);
	(void)close(p[1]);
}
