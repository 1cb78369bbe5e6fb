/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "output.h"

const char *program_name = "enter";

/* Colour for a human on a terminal; never with NO_COLOR (no-color.org) set
 * to anything, or a terminal that cannot show it. */
static bool use_color(int fd)
{
	const char *term = getenv("TERM");
	const char *no_color = getenv("NO_COLOR");

	return isatty(fd) && !(no_color && *no_color) && term && strcmp(term, "dumb") != 0;
}

/* @seq, an escape sequence, if colour is used on stderr; else "". */
static const char *color(const char *seq)
{
	static int on = -1;

	if (on < 0)
		on = use_color(2);
	return on ? seq : "";
}

#define RED    "\033[1;31m"
#define YELLOW "\033[1;33m"
#define RESET  "\033[0m"

int report_error(struct enter_error *err)
{
	int code = enter_error_exit_code(err);

	fprintf(stderr, "%s%s: %s%s\n", color(RED), program_name, enter_error_message(err),
		color(RESET));
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
		fprintf(stderr, "%s: %serror:%s %s\n", program_name, color(RED), color(RESET), msg);
		break;
	case ENTER_LOG_WARNING:
		fprintf(stderr, "%s: %swarning:%s %s\n", program_name, color(YELLOW), color(RESET),
			msg);
		break;
	case ENTER_LOG_INFO:
	case ENTER_LOG_DEBUG:
		fprintf(stderr, "%s: %s\n", program_name, msg);
		break;
	}
}

/* A line typed on @fd without echo, the terminal's own line editing off
 * as well as its signals: Ctrl-C ends the question (-EINTR) with the
 * terminal put back, instead of killing us with echo off. */
static int read_secret_line(int fd, char *buf, size_t size)
{
	size_t len = 0;

	for (;;) {
		unsigned char c;
		ssize_t n = read(fd, &c, 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EINTR;
		if (c == '\n' || c == '\r')
			return (int)len;
		if (c == 3 || (c == 4 && len == 0)) /* Ctrl-C; Ctrl-D on an empty line */
			return -EINTR;
		if (c == 0x7f || c == '\b')
			len -= len > 0;
		else if (c == 0x15) /* Ctrl-U */
			len = 0;
		else if (len + 1 < size)
			buf[len++] = (char)c;
	}
}

int ask_passphrase(void *userdata, const char *prompt, char *buf, size_t size)
{
	struct termios saved, quiet;
	int fd, r;

	(void)userdata;
	fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -ENOTTY;
	if (tcgetattr(fd, &saved) < 0) {
		close(fd);
		return -ENOTTY;
	}
	quiet = saved;
	quiet.c_lflag &= ~(ECHO | ICANON | ISIG);
	quiet.c_cc[VMIN] = 1;
	quiet.c_cc[VTIME] = 0;
	(void)!write(fd, prompt, strlen(prompt));
	if (tcsetattr(fd, TCSAFLUSH, &quiet) < 0) {
		close(fd);
		return -ENOTTY;
	}
	r = read_secret_line(fd, buf, size);
	(void)tcsetattr(fd, TCSAFLUSH, &saved);
	(void)!write(fd, "\n", 1);
	close(fd);
	return r;
}

int print_plan(const struct enter_plan *plan, bool json)
{
	char *text = NULL;

	if (enter_plan_format(plan, json ? ENTER_FORMAT_JSON : ENTER_FORMAT_TEXT, &text) < 0) {
		fprintf(stderr, "%s: out of memory\n", program_name);
		return EXIT_ENTER_FAILED;
	}
	fputs(text, stdout);
	free(text);
	return fflush(stdout) == 0 ? 0 : EXIT_ENTER_FAILED;
}

struct enter_plan *plan_or_report(struct enter_ctx *ctx, bool dry_run, bool json,
				  char *const argv[], int *ret_code)
{
	struct enter_error *err = NULL;
	struct enter_plan *plan = NULL;

	if (enter_plan(ctx, argv, &plan, &err) == 0)
		return plan;
	/* How far a run would get, then why it would stop there. */
	if (plan && dry_run)
		(void)print_plan(plan, json);
	enter_plan_free(plan);
	*ret_code = report_error(err);
	return NULL;
}

int print_check_error(const char *root, struct enter_error *err, bool json)
{
	char *text = NULL;

	/* No ROOT at all is a usage error, not something found in a target. */
	if (!root || !*root ||
	    enter_check_error(root, err, json ? ENTER_FORMAT_JSON : ENTER_FORMAT_TEXT, &text) < 0)
		return report_error(err);
	enter_error_free(err);
	fputs(text, stdout);
	free(text);
	return fflush(stdout) == 0 ? 1 : EXIT_ENTER_FAILED;
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
