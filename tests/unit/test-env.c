/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* env.c: the command's environment (enter(1) ENVIRONMENT), a pure function of its inputs. */
#include <criterion/criterion.h>
#include <string.h>

#include "internal.h"

#define NIXOS_PATH                                                                                 \
	"PATH=/run/wrappers/bin:/root/.nix-profile/bin:/nix/var/nix/profiles/default/bin:"         \
	"/run/current-system/sw/bin"
#define GENERIC_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static const struct env_opts nixos = {.shell = "/run/current-system/sw/bin/bash"};

/* The entry for @name ("NAME=VALUE"), or NULL; fails the test if there are two. */
static const char *env_get(char *const *env, const char *name)
{
	size_t len = strlen(name);
	const char *found = NULL;

	for (; env && *env; env++) {
		if (strncmp(*env, name, len) != 0 || (*env)[len] != '=')
			continue;
		cr_expect_null(found, "%s set twice: \"%s\" and \"%s\"", name, found, *env);
		found = *env;
	}
	return found;
}

/* Expects exactly the entries of @want, in any order. */
static void expect_exactly(char *const *env, const char *const *want)
{
	size_t n = 0;

	for (; want[n]; n++)
		cr_expect_not_null(strv_find_prefix(env, want[n]), "missing \"%s\"", want[n]);
	for (char *const *e = env; e && *e; e++) {
		bool wanted = false;

		for (size_t i = 0; want[i]; i++)
			wanted = wanted || streq(*e, want[i]);
		cr_expect(wanted, "unexpected \"%s\"", *e);
	}
	cr_expect_eq(strv_length(env), n);
}

Test(env, drops_rescue_variables)
{
	char *host[] = {"SUDO_USER=alice",  "TERM=xterm", "NIX_PATH=/x",     "TMPDIR=/t",
			"SSH_AUTH_SOCK=/s", "DISPLAY=:0", "HOSTNAME=rescue", NULL};
	_cleanup_strv_ char **out = NULL;

	cr_assert_eq(env_build(host, &nixos, &out), 0);
	cr_expect_null(strv_find_prefix(out, "SUDO_"));
	cr_expect_null(strv_find_prefix(out, "NIX_PATH="));
	cr_expect_null(strv_find_prefix(out, "TMPDIR="));
	cr_expect_null(strv_find_prefix(out, "SSH_"));
	cr_expect_null(strv_find_prefix(out, "DISPLAY="));
	cr_expect_null(strv_find_prefix(out, "HOSTNAME="));
	cr_expect_not_null(strv_find_prefix(out, "TERM=xterm"));
}

Test(env, fixed_variables_nixos)
{
	static const char *const want[] = {
		NIXOS_PATH,
		"HOME=/root",
		"USER=root",
		"LOGNAME=root",
		"SHELL=/run/current-system/sw/bin/bash",
		"IN_NIXOS_ENTER=1",
		NULL,
	};
	char *host[] = {"PATH=/host/bin",
			"HOME=/home/alice",
			"USER=alice",
			"LOGNAME=alice",
			"SHELL=/bin/zsh",
			"IN_NIXOS_ENTER=0",
			"LOCALE_ARCHIVE=/host/archive",
			NULL};
	_cleanup_strv_ char **out = NULL;

	cr_assert_eq(env_build(host, &nixos, &out), 0);
	expect_exactly(out, want);
}

Test(env, fixed_variables_with_locale_archive)
{
	static const char *const want[] = {
		NIXOS_PATH,
		"HOME=/root",
		"USER=root",
		"LOGNAME=root",
		"SHELL=/nix/var/nix/profiles/system/sw/bin/bash",
		"LOCALE_ARCHIVE=/nix/var/nix/profiles/system/sw/lib/locale/locale-archive",
		"IN_NIXOS_ENTER=1",
		NULL,
	};
	const struct env_opts opts = {
		.shell = "/nix/var/nix/profiles/system/sw/bin/bash",
		.locale_archive = "/nix/var/nix/profiles/system/sw/lib/locale/locale-archive",
	};
	_cleanup_strv_ char **out = NULL;

	cr_assert_eq(env_build(NULL, &opts, &out), 0);
	expect_exactly(out, want);
}

Test(env, fixed_variables_generic)
{
	static const char *const want[] = {
		GENERIC_PATH,	 "HOME=/root",	     "USER=root", "LOGNAME=root",
		"SHELL=/bin/sh", "IN_NIXOS_ENTER=1", NULL,
	};
	const struct env_opts opts = {.generic = true, .shell = "/bin/sh"};
	char *host[] = {"PATH=/host/bin", NULL};
	_cleanup_strv_ char **out = NULL;

	cr_assert_eq(env_build(host, &opts, &out), 0);
	expect_exactly(out, want);
}

Test(env, no_shell_no_shell_variable)
{
	const struct env_opts opts = {.generic = true};
	_cleanup_strv_ char **out = NULL;

	cr_assert_eq(env_build(NULL, &opts, &out), 0);
	cr_expect_null(env_get(out, "SHELL"));
	cr_expect_null(env_get(out, "LOCALE_ARCHIVE"));
	cr_expect_eq(strv_length(out), 5);
}

Test(env, passes_through_terminal_and_locale)
{
	char *host[] = {"TERM=xterm-256color", "COLORTERM=truecolor",
			"LANG=de_DE.UTF-8",    "LANGUAGE=de:en",
			"LC_ALL=C.UTF-8",      "LC_CTYPE=en_US.UTF-8",
			"LC_MESSAGES=C",       "TZ=Europe/Berlin",
			"NO_COLOR=1",	       "NIXOS_INSTALL_BOOTLOADER=1",
			"EDITOR=vim",	       "PAGER=less",
			"MAIL=/var/mail/root", NULL};
	_cleanup_strv_ char **out = NULL;

	cr_assert_eq(env_build(host, &nixos, &out), 0);
	for (size_t i = 0; i < 10; i++) {
		size_t len = strcspn(host[i], "=");
		_cleanup_free_ char *name = strndup(host[i], len);

		cr_assert_not_null(name);
		cr_expect_str_eq(env_get(out, name) ?: "(unset)", host[i]);
	}
	cr_expect_null(env_get(out, "EDITOR"));
	cr_expect_null(env_get(out, "PAGER"));
	cr_expect_null(env_get(out, "MAIL"));
	cr_expect_eq(strv_length(out), 6 + 10);
}

Test(env, passes_empty_value)
{
	char *host[] = {"NO_COLOR=", NULL};
	_cleanup_strv_ char **out = NULL;

	cr_assert_eq(env_build(host, &nixos, &out), 0);
	cr_expect_str_eq(env_get(out, "NO_COLOR") ?: "(unset)", "NO_COLOR=");
}

Test(env, lc_without_suffix_not_passed)
{
	char *host[] = {"LC_=x", "LC=x", "LCALL=x", "XLC_ALL=x", "LC_X=y", NULL};
	_cleanup_strv_ char **out = NULL;

	cr_assert_eq(env_build(host, &nixos, &out), 0);
	cr_expect_null(env_get(out, "LC_"));
	cr_expect_null(env_get(out, "LC"));
	cr_expect_null(env_get(out, "LCALL"));
	cr_expect_null(env_get(out, "XLC_ALL"));
	cr_expect_str_eq(env_get(out, "LC_X") ?: "(unset)", "LC_X=y");
}

Test(env, host_entry_without_equals_ignored)
{
	char *host[] = {"TERM", "LC_ALL", "EDITOR", "TZ=UTC", NULL};
	char *keep[] = {"EDITOR", NULL};
	const struct env_opts opts = {.shell = "/bin/sh", .keep = keep};
	_cleanup_strv_ char **out = NULL;

	cr_assert_eq(env_build(host, &opts, &out), 0);
	for (char **e = out; *e; e++)
		cr_expect_not_null(strchr(*e, '='), "entry without '=': \"%s\"", *e);
	cr_expect_null(strv_find_prefix(out, "TERM"));
	cr_expect_null(strv_find_prefix(out, "LC_ALL"));
	cr_expect_null(strv_find_prefix(out, "EDITOR"));
	cr_expect_str_eq(env_get(out, "TZ") ?: "(unset)", "TZ=UTC");
	cr_expect_eq(strv_length(out), 6 + 1);
}

Test(env, last_host_entry_wins)
{
	char *host[] = {"TERM=vt100", "TERM=xterm", NULL};
	_cleanup_strv_ char **out = NULL;

	cr_assert_eq(env_build(host, &nixos, &out), 0);
	cr_expect_str_eq(env_get(out, "TERM") ?: "(unset)", "TERM=xterm");
}

Test(env, keep)
{
	char *host[] = {"EDITOR=vim", "PAGER=less", "SSH_AUTH_SOCK=/run/agent", "EDITORX=no", NULL};
	char *keep[] = {"EDITOR", "SSH_AUTH_SOCK", "VISUAL", NULL};
	const struct env_opts opts = {.shell = "/bin/sh", .keep = keep};
	_cleanup_strv_ char **out = NULL;

	cr_assert_eq(env_build(host, &opts, &out), 0);
	cr_expect_str_eq(env_get(out, "EDITOR") ?: "(unset)", "EDITOR=vim");
	cr_expect_str_eq(env_get(out, "SSH_AUTH_SOCK") ?: "(unset)", "SSH_AUTH_SOCK=/run/agent");
	cr_expect_null(env_get(out, "PAGER"));
	cr_expect_null(env_get(out, "EDITORX"));
	cr_expect_null(env_get(out, "VISUAL"), "kept but not set on the host: must stay unset");
	cr_expect_eq(strv_length(out), 6 + 2);
}

Test(env, keep_a_prefix_is_not_a_wildcard)
{
	char *host[] = {"EDITORX=no", "EDIT=no", NULL};
	char *keep[] = {"EDITOR", NULL};
	const struct env_opts opts = {.shell = "/bin/sh", .keep = keep};
	_cleanup_strv_ char **out = NULL;

	cr_assert_eq(env_build(host, &opts, &out), 0);
	cr_expect_null(strv_find_prefix(out, "EDIT"));
}

Test(env, set_adds_and_overrides)
{
	char *host[] = {"TERM=xterm", "LANG=C", NULL};
	char *set[] = {"FOO=bar", "TERM=dumb", "PATH=/custom/bin", "HOME=/home/admin", "EMPTY=",
		       "EQ=a=b",  NULL};
	const struct env_opts opts = {.shell = "/bin/sh", .set = set};
	_cleanup_strv_ char **out = NULL;

	cr_assert_eq(env_build(host, &opts, &out), 0);
	cr_expect_str_eq(env_get(out, "FOO") ?: "(unset)", "FOO=bar");
	cr_expect_str_eq(env_get(out, "TERM") ?: "(unset)", "TERM=dumb");
	cr_expect_str_eq(env_get(out, "PATH") ?: "(unset)", "PATH=/custom/bin");
	cr_expect_str_eq(env_get(out, "HOME") ?: "(unset)", "HOME=/home/admin");
	cr_expect_str_eq(env_get(out, "EMPTY") ?: "(unset)", "EMPTY=");
	cr_expect_str_eq(env_get(out, "EQ") ?: "(unset)", "EQ=a=b");
	cr_expect_str_eq(env_get(out, "LANG") ?: "(unset)", "LANG=C");
	cr_expect_eq(strv_length(out), 6 + 2 + 3); /* fixed, passed through, FOO EMPTY EQ */
}

Test(env, set_name_removes)
{
	char *host[] = {"TERM=xterm", "LC_ALL=C", "TERMINAL=kitty", "EDITOR=vim", NULL};
	char *keep[] = {"TERMINAL", "EDITOR", NULL};
	char *set[] = {"TERM", "LC_ALL", "HOME", "IN_NIXOS_ENTER", "EDITOR", "NEVER_SET", NULL};
	const struct env_opts opts = {.shell = "/bin/sh", .keep = keep, .set = set};
	_cleanup_strv_ char **out = NULL;

	cr_assert_eq(env_build(host, &opts, &out), 0);
	cr_expect_null(env_get(out, "TERM"), "a passed-through variable can be removed");
	cr_expect_null(env_get(out, "LC_ALL"));
	cr_expect_null(env_get(out, "HOME"), "a fixed variable can be removed");
	cr_expect_null(env_get(out, "IN_NIXOS_ENTER"));
	cr_expect_null(env_get(out, "EDITOR"), "a kept variable can be removed");
	cr_expect_null(strv_find_prefix(out, "NEVER_SET"));
	cr_expect_str_eq(env_get(out, "TERMINAL") ?: "(unset)", "TERMINAL=kitty",
			 "removing TERM must not remove TERMINAL");
	cr_expect_str_eq(env_get(out, "USER") ?: "(unset)", "USER=root");
	cr_expect_eq(strv_length(out), 5); /* USER LOGNAME SHELL PATH TERMINAL */
}

Test(env, set_applies_in_order)
{
	char *set[] = {"A=1", "A", "B", "B=2", "C=1", "C=3", NULL};
	const struct env_opts opts = {.shell = "/bin/sh", .set = set};
	_cleanup_strv_ char **out = NULL;

	cr_assert_eq(env_build(NULL, &opts, &out), 0);
	cr_expect_null(env_get(out, "A"));
	cr_expect_str_eq(env_get(out, "B") ?: "(unset)", "B=2");
	cr_expect_str_eq(env_get(out, "C") ?: "(unset)", "C=3");
}

/* The winners keep the order in which they were given: fixed variables
 * first, then what is passed through, then --setenv. */
Test(env, order_of_the_winners)
{
	char *host[] = {"TZ=UTC", "TERM=xterm", NULL};
	char *set[] = {"Z=1", "A=1", "TZ=CET", "M=1", "Z=2", NULL};
	static const char *const want[] = {
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=/root",
		"USER=root",
		"LOGNAME=root",
		"IN_NIXOS_ENTER=1",
		"TERM=xterm",
		"A=1",
		"TZ=CET",
		"M=1",
		"Z=2",
		NULL,
	};
	const struct env_opts opts = {.generic = true, .set = set};
	_cleanup_strv_ char **out = NULL;

	cr_assert_eq(env_build(host, &opts, &out), 0);
	for (size_t i = 0; want[i]; i++)
		cr_expect_str_eq(out[i] ?: "(end)", want[i]);
	cr_expect_eq(strv_length(out), ELEMENTSOF(want) - 1);
}

/* Thousands of assignments, most of them to a name set before (the
 * replacement path that once searched the whole list each time). */
Test(env, many_assignments)
{
	enum { N = 20000 };
	_cleanup_strv_ char **set = calloc(N + 1, sizeof(char *));
	_cleanup_strv_ char **keep = calloc(N / 2 + 1, sizeof(char *));
	_cleanup_strv_ char **host = calloc(N / 2 + 1, sizeof(char *));
	_cleanup_strv_ char **out = NULL;
	struct env_opts opts = {.shell = "/bin/sh"};

	cr_assert(set && keep && host);
	/* V0..V999 set, reset, and every third removed; K0.. kept from the host */
	for (size_t i = 0; i < N; i++)
		cr_assert_geq(i % 3 == 2 && i >= 1000 ? xasprintf(&set[i], "V%zu", i % 1000)
						      : xasprintf(&set[i], "V%zu=%zu", i % 1000, i),
			      0);
	for (size_t i = 0; i < N / 2; i++) {
		cr_assert_geq(xasprintf(&keep[i], "K%zu", N / 2 - 1 - i), 0);
		cr_assert_geq(xasprintf(&host[i], "K%zu=%s", i, i % 2 ? "odd" : "even"), 0);
	}
	opts.set = set;
	opts.keep = keep;
	cr_assert_eq(env_build(host, &opts, &out), 0);
	for (size_t v = 0; v < 1000; v += 7) {
		char name[16];
		size_t last = N - 1000 + v; /* the last assignment to V<v> */

		snprintf(name, sizeof(name), "V%zu", v);
		if (last % 3 == 2) {
			cr_expect_null(env_get(out, name));
		} else {
			char want[32];

			snprintf(want, sizeof(want), "V%zu=%zu", v, last);
			cr_expect_str_eq(env_get(out, name) ?: "(unset)", want);
		}
	}
	cr_expect_str_eq(env_get(out, "K4242") ?: "(unset)", "K4242=even");
	cr_expect_str_eq(env_get(out, "K9999") ?: "(unset)", "K9999=odd");
}

Test(env, name_valid)
{
	static const struct {
		const char *name;
		bool valid;
	} cases[] = {
		{"A", true},	 {"_", true},	  {"PATH", true},  {"LC_ALL", true},
		{"a1_B2", true}, {"_1", true},	  {"", false},	   {"1A", false},
		{"9", false},	 {"A-B", false},  {"A=B", false},  {"A B", false},
		{"A.B", false},	 {"A\tB", false}, {"A\nB", false}, {"\xc3\x84", false},
		{"A$", false},	 {"=", false},
	};
	char long_name[258];

	cr_expect_not(env_name_valid(NULL));
	for (size_t i = 0; i < ELEMENTSOF(cases); i++)
		cr_expect_eq(env_name_valid(cases[i].name), cases[i].valid, "\"%s\": expected %s",
			     cases[i].name, cases[i].valid ? "valid" : "invalid");

	memset(long_name, 'A', sizeof(long_name) - 1);
	long_name[256] = '\0';
	cr_expect(env_name_valid(long_name), "256 characters is valid");
	long_name[256] = 'A';
	long_name[257] = '\0';
	cr_expect_not(env_name_valid(long_name), "257 characters is too long");
}
