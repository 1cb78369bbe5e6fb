/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check-json ROOT: print, as JSON on standard output, what a rebuild of the
 * installed system at ROOT would find (what /boot would be mounted from,
 * the hostname, the system profile, free space on /boot), without mounting
 * anything; exit 1 when a boot-loader install would fail for a reason known
 * in advance.  The report of `enter ROOT --check --json`, for a tool that
 * embeds libenter.
 */
#include <libenter.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char *argv[])
{
	struct enter_error *err = NULL;
	struct enter_ctx *ctx;
	char *json = NULL;
	int problems = 0, code;

	if (argc != 2) {
		fprintf(stderr, "usage: check-json ROOT\n");
		return 2;
	}
	ctx = enter_new(argv[1], &err);
	if (!ctx || enter_check(ctx, ENTER_FORMAT_JSON, &json, &problems, &err) < 0) {
		fprintf(stderr, "check-json: %s\n", enter_error_message(err));
		code = enter_error_exit_code(err) ?: 125;
		enter_error_free(err);
		enter_free(ctx);
		return code;
	}
	fputs(json, stdout);
	free(json);
	enter_free(ctx);
	return problems ? 1 : 0;
}
