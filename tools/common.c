/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "common.h"

const char *program_name = "enter";
bool opt_verbose;

int report_error(struct enter_error *err)
{
	int code = enter_error_exit_code(err);

	fprintf(stderr, "%s: %s\n", program_name, enter_error_message(err));
	enter_error_free(err);
	return code ? code : EXIT_ENTER_FAILED;
}

int report_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", program_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see %s --help)\n", program_name);
	return EXIT_ENTER_FAILED;
}

void log_to_stderr(void *userdata, enum enter_log_level level, const char *msg)
{
	(void)userdata;
	switch (level) {
	case ENTER_LOG_ERROR:
		fprintf(stderr, "%s: error: %s\n", program_name, msg);
		break;
	case ENTER_LOG_WARNING:
		fprintf(stderr, "%s: warning: %s\n", program_name, msg);
		break;
	case ENTER_LOG_INFO:
		fprintf(stderr, "%s: %s\n", program_name, msg);
		break;
	case ENTER_LOG_DEBUG:
		if (opt_verbose)
			fprintf(stderr, "%s: %s\n", program_name, msg);
		break;
	}
}

int print_plan(struct enter_ctx *ctx, char *const argv[], bool json)
{
	struct enter_error *err = NULL;
	struct enter_plan *plan = NULL;
	char *text = NULL;
	int r;

	r = enter_plan(ctx, argv, &plan, &err);
	if (r < 0)
		return report_error(err);
	r = enter_plan_format(plan, json ? ENTER_FORMAT_JSON : ENTER_FORMAT_TEXT, &text);
	enter_plan_free(plan);
	if (r < 0) {
		fprintf(stderr, "%s: out of memory\n", program_name);
		return EXIT_ENTER_FAILED;
	}
	fputs(text, stdout);
	free(text);
	return fflush(stdout) == 0 ? 0 : EXIT_ENTER_FAILED;
}

int print_check(struct enter_ctx *ctx, bool json)
{
	struct enter_error *err = NULL;
	char *text = NULL;
	int problems = 0;

	if (enter_check(ctx, json ? ENTER_FORMAT_JSON : ENTER_FORMAT_TEXT, &text, &problems, &err) <
	    0)
		return report_error(err);
	fputs(text, stdout);
	free(text);
	if (fflush(stdout) != 0)
		return EXIT_ENTER_FAILED;
	return problems ? 1 : 0;
}
