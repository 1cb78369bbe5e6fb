/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * run-in-root ROOT [COMMAND [ARGS...]]: run COMMAND (default: the target's
 * login shell) inside the installed system at ROOT, with the target's /boot
 * mounted from its own fstab, and exit with its status, as a rescue tool
 * embedding libenter would.  Build it against an installed libenter:
 *
 *	cc run-in-root.c $(pkg-config --cflags --libs libenter) -o run-in-root
 */
#include <libenter.h>
#include <stdio.h>

static void print_warning(void *userdata, enum enter_log_level level, const char *msg)
{
	(void)userdata;
	if (level <= ENTER_LOG_WARNING)
		fprintf(stderr, "run-in-root: %s\n", msg);
}

int main(int argc, char *argv[])
{
	struct enter_error *err = NULL;
	struct enter_ctx *ctx;
	int status, code;

	if (argc < 2) {
		fprintf(stderr, "usage: run-in-root ROOT [COMMAND [ARGS...]]\n");
		return 2;
	}
	ctx = enter_new(argv[1], &err);
	if (!ctx)
		goto fail;
	enter_set_log(ctx, print_warning, NULL);
	/* /boot from the target's fstab: the default, said for the reader */
	enter_set_boot(ctx, ENTER_BOOT_AUTO, NULL);
	if (enter_run(ctx, argc > 2 ? argv + 2 : NULL, &status, &err) < 0)
		goto fail;
	enter_free(ctx);
	return status;

fail:
	/* One line naming the step and the path, and the exit code for it. */
	fprintf(stderr, "run-in-root: %s\n", enter_error_message(err));
	code = enter_error_exit_code(err) ?: 125;
	enter_error_free(err);
	enter_free(ctx);
	return code;
}
