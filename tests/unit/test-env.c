/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <criterion/criterion.h>

#include "internal.h"

static const struct env_opts nixos = {.shell = "/run/current-system/sw/bin/bash"};

Test(env, drops_rescue_variables)
{
	char *host[] = {"SUDO_USER=alice", "TERM=xterm", "NIX_PATH=/x", "TMPDIR=/t",
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
