/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

const char *program_name = "enter";
bool opt_verbose;

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

/* A JSON string: quotes, backslashes and control characters escaped. */
static void json_string(FILE *f, const char *s)
{
	if (!s) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

int report_error(struct enter_error *err)
{
	int code = enter_error_exit_code(err);

	fprintf(stderr, "%s%s: %s%s\n", color(RED), program_name, enter_error_message(err),
		color(RESET));
	enter_error_free(err);
	return code ? code : EXIT_ENTER_FAILED;
}

const char *strerror_lower(int errnum)
{
	static char text[96];

	snprintf(text, sizeof(text), "%s", strerror(errnum));
	if (isupper((unsigned char)text[0]) && islower((unsigned char)text[1]))
		text[0] = (char)tolower((unsigned char)text[0]);
	return text;
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
		fprintf(stderr, "%s: %s\n", program_name, msg);
		break;
	case ENTER_LOG_DEBUG:
		fprintf(stderr, "%s: %s\n", program_name, msg);
		break;
	}
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

struct enter_plan *plan_or_report(struct enter_ctx *ctx, const struct settings *s,
				  char *const argv[], int *ret_code)
{
	struct enter_error *err = NULL;
	struct enter_plan *plan = NULL;

	if (enter_plan(ctx, argv, &plan, &err) == 0)
		return plan;
	/* How far a run would get, then why it would stop there. */
	if (plan && s->dry_run)
		(void)print_plan(plan, s->json);
	enter_plan_free(plan);
	*ret_code = report_error(err);
	return NULL;
}

/* --check on a ROOT enter cannot open: a report with that one problem. */
static int print_check_error(const char *root, struct enter_error *err, bool json)
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

const struct option common_options[] = {
	{"system", required_argument, NULL, OPT_SYSTEM},
	{"silent", no_argument, NULL, OPT_SILENT},
	{"no-activate", no_argument, NULL, OPT_NO_ACTIVATE},
	{"strict", no_argument, NULL, OPT_STRICT},
	{"hostname", required_argument, NULL, OPT_HOSTNAME},
	{"tmpfs-tmp", no_argument, NULL, OPT_TMPFS_TMP},
	{"no-resolv", no_argument, NULL, OPT_NO_RESOLV},
	{"boot", required_argument, NULL, OPT_BOOT},
	{"fstab", no_argument, NULL, OPT_FSTAB},
	{"boot-min-free", required_argument, NULL, OPT_BOOT_MIN_FREE},
	{"bind", required_argument, NULL, OPT_BIND},
	{"ro-bind", required_argument, NULL, OPT_RO_BIND},
	{"setenv", required_argument, NULL, OPT_SETENV},
	{"keep-env", required_argument, NULL, OPT_KEEP_ENV},
	{"unsetenv", required_argument, NULL, OPT_UNSETENV},
	{"preserve-fds", required_argument, NULL, OPT_PRESERVE_FDS},
	{"hardened", no_argument, NULL, OPT_HARDENED},
	{"dry-run", no_argument, NULL, OPT_DRY_RUN},
	{"json", no_argument, NULL, OPT_JSON},
	{"verbose", no_argument, NULL, 'v'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, OPT_VERSION},
	{},
};

const char common_usage[] =
	"      --system PATH    system profile inside ROOT (default /nix/var/nix/profiles/system)\n"
	"      --silent         hide the output of activation\n"
	"      --no-activate    do not run $system/activate\n"
	"      --strict         a failing activation is an error, not a warning\n"
	"      --hostname NAME  hostname inside (default: the target's etc/hostname)\n"
	"      --tmpfs-tmp      a fresh tmpfs on /tmp instead of ROOT's own /tmp\n"
	"      --no-resolv      do not bind the rescue system's /etc/resolv.conf\n"
	"      --boot auto|none|SRC  /boot from the target's fstab (auto, the default),\n"
	"                       not at all, or from SRC: a device, an image file, a directory\n"
	"      --fstab          mount every local filesystem of the target's fstab\n"
	"      --boot-min-free SIZE  warn when /boot has less free space (default 64M)\n"
	"      --bind SRC DST   bind host path SRC on DST inside ROOT (repeatable)\n"
	"      --ro-bind SRC DST  the same, read-only\n"
	"      --setenv NAME=VALUE  set a variable for the command (repeatable)\n"
	"      --keep-env NAME  pass a variable of this environment through\n"
	"      --unsetenv NAME  remove a variable, even one passed by default\n"
	"      --preserve-fds N pass fds 3 .. N+2 to the command\n"
	"      --hardened       for untrusted target code: fewer capabilities and a\n"
	"                       seccomp filter (no modules, kexec, bpf, TIOCSTI, ...)\n"
	"      --dry-run        print the plan, change nothing\n"
	"      --json           machine-readable output\n"
	"  -v, --verbose        say what is being done\n"
	"  -h, --help           this text\n"
	"      --version        the version\n";

int setter_result(int r, const char *option, const char *value)
{
	if (r == -ENOMEM)
		return report_usage("out of memory");
	if (r < 0)
		return report_usage("%s: invalid value '%s'", option, value);
	return 0;
}

/* "64M", "1G", "512K", "1048576" */
static int parse_size(struct enter_ctx *ctx, const char *arg)
{
	unsigned long long n;
	char *end;
	int shift = 0;

	errno = 0;
	n = strtoull(arg, &end, 10);
	if (!errno && end != arg) {
		switch (*end) {
		case 'K':
		case 'k':
			shift = 10;
			end++;
			break;
		case 'M':
		case 'm':
			shift = 20;
			end++;
			break;
		case 'G':
		case 'g':
			shift = 30;
			end++;
			break;
		default:
			break;
		}
		if ((*end == 'i' || *end == 'B') && shift)
			end += (*end == 'i' && end[1] == 'B') ? 2 : 1;
	}
	if (errno || end == arg || *end || arg[0] == '-' || n > (~0ULL >> shift))
		return report_usage("--boot-min-free: invalid size '%s' (e.g. 64M, 1G)", arg);
	return setter_result(enter_set_boot_min_free(ctx, n << shift), "--boot-min-free", arg);
}

static int apply_one(struct enter_ctx *ctx, const struct option_use *u, unsigned *flags)
{
	char *end;
	long n;

	switch (u->c) {
	case OPT_SYSTEM:
		return setter_result(enter_set_system(ctx, u->arg), "--system", u->arg);
	case 'c':
		return setter_result(enter_set_shell_command(ctx, u->arg), "--command", u->arg);
	case OPT_SILENT:
		*flags |= ENTER_SILENT;
		return 0;
	case OPT_NO_ACTIVATE:
		*flags |= ENTER_NO_ACTIVATE;
		return 0;
	case OPT_STRICT:
		*flags |= ENTER_STRICT;
		return 0;
	case OPT_GENERIC:
		*flags |= ENTER_GENERIC;
		return 0;
	case OPT_TMPFS_TMP:
		*flags |= ENTER_TMPFS_TMP;
		return 0;
	case OPT_NO_RESOLV:
		*flags |= ENTER_NO_RESOLV;
		return 0;
	case OPT_FSTAB:
		*flags |= ENTER_FSTAB;
		return 0;
	case OPT_HARDENED:
		*flags |= ENTER_HARDENED;
		return 0;
	case OPT_BOOT:
		if (strcmp(u->arg, "auto") == 0)
			return setter_result(enter_set_boot(ctx, ENTER_BOOT_AUTO, NULL), "--boot",
					     u->arg);
		if (strcmp(u->arg, "none") == 0)
			return setter_result(enter_set_boot(ctx, ENTER_BOOT_NONE, NULL), "--boot",
					     u->arg);
		return setter_result(enter_set_boot(ctx, ENTER_BOOT_SRC, u->arg), "--boot", u->arg);
	case OPT_BOOT_MIN_FREE:
		return parse_size(ctx, u->arg);
	case OPT_HOSTNAME:
		return setter_result(enter_set_hostname(ctx, u->arg), "--hostname", u->arg);
	case OPT_BIND:
	case OPT_RO_BIND:
		return setter_result(enter_add_bind(ctx, u->arg, u->arg2,
						    u->c == OPT_RO_BIND ? ENTER_BIND_RDONLY : 0),
				     u->c == OPT_RO_BIND ? "--ro-bind" : "--bind", u->arg2);
	case OPT_SETENV:
		end = strchr(u->arg, '=');
		if (!end)
			return report_usage("--setenv needs NAME=VALUE, got '%s'", u->arg);
		*end = '\0';
		return setter_result(enter_set_env(ctx, u->arg, end + 1), "--setenv", u->arg);
	case OPT_KEEP_ENV:
		return setter_result(enter_keep_env(ctx, u->arg), "--keep-env", u->arg);
	case OPT_UNSETENV:
		return setter_result(enter_set_env(ctx, u->arg, NULL), "--unsetenv", u->arg);
	case OPT_PRESERVE_FDS:
		errno = 0;
		n = strtol(u->arg, &end, 10);
		if (errno || *end || end == u->arg || n < 0)
			return report_usage("--preserve-fds: invalid number '%s'", u->arg);
		return setter_result(enter_set_preserve_fds(ctx, n > 1024 ? -1 : (int)n),
				     "--preserve-fds", u->arg);
	default:
		return 0;
	}
}

int apply_options(struct enter_ctx *ctx, const struct settings *s, unsigned *flags)
{
	int r = 0;

	for (size_t i = 0; i < s->n_uses && r == 0; i++)
		r = apply_one(ctx, &s->uses[i], flags);
	return r;
}

/* Everything before the first "--" is options and ROOT; everything after it
 * is the command, untouched. */
static struct option *merge_options(const struct option *a, const struct option *b)
{
	size_t na = 0, nb = 0;
	struct option *all;

	while (a[na].name)
		na++;
	while (b[nb].name)
		nb++;
	all = calloc(na + nb + 1, sizeof(*all));
	if (!all)
		return NULL;
	memcpy(all, a, na * sizeof(*all));
	memcpy(all + na, b, nb * sizeof(*all));
	return all;
}

int parse_args(int argc, char **argv, const struct option *tool_options, const char *usage,
	       struct settings *s)
{
	struct option *options = merge_options(tool_options, common_options);
	int split = argc, c, r = 0;

	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			split = i;
			s->command = argv + i + 1;
			break;
		}

	s->uses = calloc(split, sizeof(*s->uses));
	s->args = calloc(split, sizeof(*s->args));
	if (!options || !s->uses || !s->args) {
		free(options);
		return report_usage("out of memory");
	}
	opterr = 0; /* its messages start with argv[0], not the program's name */
	while (r == 0 && (c = getopt_long(split, argv, ":c:vh", options, NULL)) != -1) {
		switch (c) {
		case OPT_ROOT:
			if (s->root)
				r = report_usage("--root given twice");
			s->root = optarg;
			break;
		case OPT_DRY_RUN:
			s->dry_run = true;
			break;
		case OPT_JSON:
			s->json = true;
			break;
		case OPT_CHECK:
			s->check = true;
			break;
		case 'v':
			opt_verbose = true;
			break;
		case 'h':
			fputs(usage, stdout);
			fputs(common_usage, stdout);
			exit(EXIT_SUCCESS);
		case OPT_VERSION:
			printf("%s (libenter) %s\n", program_name, ENTER_VERSION);
			exit(EXIT_SUCCESS);
		case ':':
			r = report_usage("option '%s' needs a value", argv[optind - 1]);
			break;
		case '?':
			r = optopt && optopt < 256
				    ? report_usage("unknown option '-%c'", optopt)
				    : report_usage("unknown option '%s'", argv[optind - 1]);
			break;
		default:
			s->uses[s->n_uses] = (struct option_use){c, optarg, NULL};
			if (c == OPT_BIND || c == OPT_RO_BIND) {
				/* getopt permutes later non-options, not this one */
				if (optind >= split) {
					r = report_usage("%s needs SRC and DST",
							 c == OPT_BIND ? "--bind" : "--ro-bind");
					break;
				}
				s->uses[s->n_uses].arg2 = argv[optind++];
			}
			s->n_uses++;
		}
	}
	free(options);
	if (r)
		return r;

	for (; optind < split; optind++) {
		if (!s->root)
			s->root = argv[optind];
		else
			s->args[s->n_args++] = argv[optind];
	}
	if (!s->root)
		return report_usage("no ROOT given");
	if (s->command && !s->command[0])
		s->command = NULL;
	return 0;
}

struct enter_ctx *context_for(const struct settings *s, int *ret_code)
{
	struct enter_error *err = NULL;
	struct enter_ctx *ctx = enter_new(s->root, &err);

	if (!ctx) {
		*ret_code = s->check ? print_check_error(s->root, err, s->json) : report_error(err);
		return NULL;
	}
	enter_set_log(ctx, log_to_stderr, NULL);
	/* A line per slow step (a disk mounted, activation) for a human on a
	 * terminal, unless --silent; a line per step with --verbose; else
	 * warnings only, so that a script's stderr holds one line per failure. */
	bool silent = false;

	for (size_t i = 0; i < s->n_uses; i++)
		silent = silent || s->uses[i].c == OPT_SILENT;
	enter_set_log_level(ctx, opt_verbose		? ENTER_LOG_DEBUG
				 : isatty(2) && !silent ? ENTER_LOG_INFO
							: ENTER_LOG_WARNING);
	return ctx;
}

void settings_free(struct settings *s)
{
	free(s->uses);
	free(s->args);
}

static void print_json_result(const char *display, int status, long before, long after)
{
	printf("{\"command\": ");
	json_string(stdout, display);
	printf(", \"status\": %d, \"generation_before\": ", status);
	printf(before >= 0 ? "%ld" : "null", before);
	printf(", \"generation_after\": ");
	printf(after >= 0 ? "%ld" : "null", after);
	printf("}\n");
}

int run_inner(struct enter_ctx *ctx, const struct settings *s, struct enter_plan *plan,
	      char *const argv[], const char *display)
{
	struct enter_error *err = NULL;
	long before, after;
	int status = 0, r;

	r = enter_plan_set_command(plan, argv);
	if (r < 0)
		return report_usage("the command: %s", strerror_lower(-r));
	if (s->dry_run) {
		r = print_plan(plan, s->json);
		if (r == 0 && !s->json)
			printf("command: %s\n", display);
		return r;
	}
	fprintf(stderr, "%s: running %s\n", program_name, display);
	before = enter_system_generation(ctx);
	if (enter_run_plan(ctx, plan, &status, &err) < 0)
		return report_error(err);
	after = enter_system_generation(ctx);
	if (before >= 0 && after >= 0 && after != before)
		fprintf(stderr, "%s: generation %ld -> %ld\n", program_name, before, after);
	else if (after >= 0)
		fprintf(stderr, "%s: generation %ld (unchanged)\n", program_name, after);
	if (status != 0)
		fprintf(stderr, "%s: %s failed with status %d\n", program_name, display, status);
	if (s->json)
		print_json_result(display, status, before, after);
	return status;
}

char *join_words(char *const words[])
{
	size_t len = 1;
	char *out, *p;

	for (size_t i = 0; words[i]; i++)
		len += strlen(words[i]) + 1;
	out = malloc(len);
	if (!out)
		return NULL;
	p = out;
	for (size_t i = 0; words[i]; i++)
		p += sprintf(p, "%s%s", i ? " " : "", words[i]);
	*p = '\0';
	return out;
}

/* Around the tool inside: the loader entries that were not there before are
 * the ones this run wrote, where the administrator will look at boot. */
static const char boot_entries_before[] =
	"b=\" $(echo $(ls /boot/loader/entries 2>/dev/null)) \"; ";
static const char boot_entries_after[] =
	"s=$?; if [ $s = 0 ]; then for e in $(ls /boot/loader/entries 2>/dev/null); do"
	" case \"$b\" in *\" $e \"*) ;;"
	" *) echo \"$0: boot entry /boot/loader/entries/$e\" >&2 ;; esac; done; fi; exit $s";

/* The script sh -c runs inside for enter-rebuild and enter-deploy: @tool
 * looked up first, so that a target without it gets a line of ours (the
 * shell's own says "line 0: nixos-rebuild: not found"), then @body between
 * the boot entries' before and after. */
char *inner_script(const char *tool, const char *body)
{
	char *script;

	if (asprintf(&script,
		     "command -v %s >/dev/null || { echo \"$0: %s: command not found in the target"
		     " (PATH=$PATH)\" >&2; exit 127; }; %s%s; %s",
		     tool, tool, boot_entries_before, body, boot_entries_after) < 0)
		return NULL;
	return script;
}
