/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The option grammar the three programs share (tools/options.c). */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "options.h"

enum {
	OPT_TOOL = OPT_COMMON_LAST,
};

static const struct option tool_options[] = {
	{"root", required_argument, NULL, OPT_ROOT},
	{"command", required_argument, NULL, 'c'},
	{"tool", required_argument, NULL, OPT_TOOL},
	{},
};

static struct settings s;

static void release(void)
{
	settings_free(&s);
	s = (struct settings){};
}

TestSuite(options, .fini = release);

/* parse_args() on a copy of @argv (getopt permutes it). */
static int parse(char **argv)
{
	static char *copy[32];
	int argc = 0;

	while (argv[argc]) {
		copy[argc] = argv[argc];
		argc++;
	}
	copy[argc] = NULL;
	return parse_args(argc, copy, tool_options, "usage\n", &s);
}

Test(options, root_options_and_command)
{
	char *argv[] = {"enter", "--system", "/x", "/mnt",     "boot", "--tool",
			"t",	 "--",	     "ls", "--system", NULL};

	cr_assert_eq(parse(argv), 0);
	cr_expect_str_eq(s.root, "/mnt");
	cr_assert_eq(s.n_args, 1);
	cr_expect_str_eq(s.args[0], "boot");
	cr_expect_str_eq(option_arg(&s, OPT_SYSTEM), "/x");
	cr_expect_str_eq(option_arg(&s, OPT_TOOL), "t");
	/* After --, the command is untouched: its own --system too. */
	cr_assert_not_null(s.command);
	cr_expect_str_eq(s.command[0], "ls");
	cr_expect_str_eq(s.command[1], "--system");
	cr_expect_null(s.command[2]);
}

Test(options, repeated_options_are_each_kept_the_last_is_the_value)
{
	char *argv[] = {"enter",  "--setenv", "A=1",  "--setenv", "B=2",
			"--bind", "/src",     "/dst", "/mnt",	  NULL};

	cr_assert_eq(parse(argv), 0);
	cr_assert_eq(s.n_uses, 3);
	cr_expect_str_eq(option_arg(&s, OPT_SETENV), "B=2");
	cr_expect_str_eq(s.uses[2].arg, "/src");
	cr_expect_str_eq(s.uses[2].arg2, "/dst");
	cr_expect(option_given(&s, OPT_BIND));
	cr_expect_not(option_given(&s, OPT_RO_BIND));
}

Test(options, usage_errors, .init = cr_redirect_stderr)
{
	char *unknown[] = {"enter", "--nosuch", "/mnt", NULL};
	char *no_value[] = {"enter", "/mnt", "--system", NULL};
	char *bind_one[] = {"enter", "/mnt", "--bind", "/src", NULL};
	char *no_root[] = {"enter", "--", "ls", NULL};
	char *root_twice[] = {"enter", "--root", "/a", "--root", "/b", NULL};
	char *options_alone[] = {"enter", "--root-options", "subvol=@", "/mnt", NULL};

	cr_expect_eq(parse(unknown), 125);
	release();
	cr_expect_eq(parse(no_value), 125);
	release();
	cr_expect_eq(parse(bind_one), 125);
	release();
	cr_expect_eq(parse(no_root), 125);
	release();
	cr_expect_eq(parse(root_twice), 125);
	release();
	cr_expect_eq(parse(options_alone), 125);
	fflush(stderr);
	cr_expect_stderr_eq_str(
		"enter: unknown option '--nosuch' (see enter --help)\n"
		"enter: option '--system' needs a value (see enter --help)\n"
		"enter: --bind needs SRC and DST (see enter --help)\n"
		"enter: no ROOT given (see enter --help)\n"
		"enter: --root given twice (see enter --help)\n"
		"enter: --root-options goes with --root-device (see enter --help)\n");
}

Test(options, root_defaults_to_mnt_when_assembling)
{
	char *argv[] = {"enter", "--root-device", "/dev/vda2", "--", "true", NULL};

	cr_assert_eq(parse(argv), 0);
	cr_expect_str_eq(s.root, "/mnt");
}

Test(options, an_empty_command_is_none)
{
	char *argv[] = {"enter", "/mnt", "--", NULL};

	cr_assert_eq(parse(argv), 0);
	cr_expect_null(s.command);
}

Test(options, sizes)
{
	static const struct {
		const char *text;
		uint64_t bytes;
	} good[] = {
		{"0", 0},
		{"1048576", 1048576},
		{"512K", 512ull << 10},
		{"64M", 64ull << 20},
		{"64MiB", 64ull << 20},
		{"64MB", 64ull << 20},
		{"1g", 1ull << 30},
		{"17179869183G", 17179869183ull << 30},
	};
	static const char *const bad[] = {
		"", "M", "-1", "1T", "64Mx", "1 M", "17179869184G", "99999999999999999999", "1iB",
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		uint64_t n = 7;

		cr_expect_eq(parse_size(good[i].text, &n), 0, "%s", good[i].text);
		cr_expect_eq(n, good[i].bytes, "%s: %llu", good[i].text, (unsigned long long)n);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t n = 7;

		cr_expect_eq(parse_size(bad[i], &n), -EINVAL, "'%s'", bad[i]);
		cr_expect_eq(n, 7, "'%s' changed the result", bad[i]);
	}
}
