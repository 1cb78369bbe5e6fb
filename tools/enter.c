/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* enter: a shell or a command inside an installed system, from a rescue system. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

static const char usage[] =
	"Usage: enter [OPTIONS] ROOT [-- COMMAND [ARGS...]]\n"
	"       enter [OPTIONS] --root ROOT [-c STRING | -- COMMAND [ARGS...]]\n"
	"\n"
	"Run a login shell, or COMMAND, inside the installed system at ROOT, in private\n"
	"mount, pid, uts and ipc namespaces: nothing stays mounted or running afterwards.\n"
	"\n"
	"  --root ROOT          the target root (instead of the first argument)\n"
	"  --system PATH        system profile to activate, inside ROOT\n"
	"                       (default /nix/var/nix/profiles/system)\n"
	"  -c, --command STRING run STRING with the target's shell\n"
	"      --silent         hide the output of activation\n"
	"      --no-activate    do not run $system/activate\n"
	"      --strict         a failing activation is an error, not a warning\n"
	"      --generic        any Linux root: no etc/NIXOS needed, no activation\n"
	"      --hostname NAME  hostname inside (default: the target's etc/hostname)\n"
	"      --tmpfs-tmp      a fresh tmpfs on /tmp instead of ROOT's own /tmp\n"
	"      --no-resolv      do not bind the rescue system's /etc/resolv.conf\n"
	"      --boot auto|none|SRC  /boot from the target's fstab (auto, the default),\n"
	"                       not at all, or from SRC: a device, an image file, a directory\n"
	"      --fstab          mount every local filesystem of the target's fstab\n"
	"      --boot-min-free SIZE  warn when /boot has less free space (default 64M)\n"
	"      --check          report what a rebuild would find; exit 1 on a problem\n"
	"      --bind SRC DST   bind host path SRC on DST inside ROOT (repeatable)\n"
	"      --ro-bind SRC DST  the same, read-only\n"
	"      --setenv NAME=VALUE  set a variable for the command (repeatable)\n"
	"      --keep-env NAME  pass a variable of this environment through\n"
	"      --unsetenv NAME  remove a variable, even one passed by default\n"
	"      --preserve-fds N pass fds 3 .. N+2 to the command\n"
	"      --dry-run        print the plan, change nothing\n"
	"      --json           print the plan (--dry-run) or the report (--check) as JSON\n"
	"  -v, --verbose        say what is being done\n"
	"  -h, --help           this text\n"
	"      --version        the version\n"
	"\n"
	"Exit status: the command's, 128+N if it died of signal N; 125 enter failed;\n"
	"126 command not executable, or ROOT not a NixOS root; 127 command not found.\n";

enum {
	OPT_ROOT = 0x100,
	OPT_SYSTEM,
	OPT_SILENT,
	OPT_NO_ACTIVATE,
	OPT_STRICT,
	OPT_GENERIC,
	OPT_HOSTNAME,
	OPT_TMPFS_TMP,
	OPT_NO_RESOLV,
	OPT_BIND,
	OPT_RO_BIND,
	OPT_SETENV,
	OPT_KEEP_ENV,
	OPT_UNSETENV,
	OPT_PRESERVE_FDS,
	OPT_DRY_RUN,
	OPT_BOOT,
	OPT_FSTAB,
	OPT_BOOT_MIN_FREE,
	OPT_CHECK,
	OPT_JSON,
	OPT_VERSION,
};

static const struct option options[] = {
	{"root", required_argument, NULL, OPT_ROOT},
	{"system", required_argument, NULL, OPT_SYSTEM},
	{"command", required_argument, NULL, 'c'},
	{"silent", no_argument, NULL, OPT_SILENT},
	{"no-activate", no_argument, NULL, OPT_NO_ACTIVATE},
	{"strict", no_argument, NULL, OPT_STRICT},
	{"generic", no_argument, NULL, OPT_GENERIC},
	{"hostname", required_argument, NULL, OPT_HOSTNAME},
	{"tmpfs-tmp", no_argument, NULL, OPT_TMPFS_TMP},
	{"no-resolv", no_argument, NULL, OPT_NO_RESOLV},
	{"bind", required_argument, NULL, OPT_BIND},
	{"ro-bind", required_argument, NULL, OPT_RO_BIND},
	{"setenv", required_argument, NULL, OPT_SETENV},
	{"keep-env", required_argument, NULL, OPT_KEEP_ENV},
	{"unsetenv", required_argument, NULL, OPT_UNSETENV},
	{"preserve-fds", required_argument, NULL, OPT_PRESERVE_FDS},
	{"dry-run", no_argument, NULL, OPT_DRY_RUN},
	{"boot", required_argument, NULL, OPT_BOOT},
	{"fstab", no_argument, NULL, OPT_FSTAB},
	{"boot-min-free", required_argument, NULL, OPT_BOOT_MIN_FREE},
	{"check", no_argument, NULL, OPT_CHECK},
	{"json", no_argument, NULL, OPT_JSON},
	{"verbose", no_argument, NULL, 'v'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, OPT_VERSION},
	{},
};

/* Options are collected first and applied once the context exists. */
struct option_use {
	int c;
	char *arg, *arg2;
};

struct settings {
	const char *root;
	bool dry_run, json, check;
	char **command;
	struct option_use *uses;
	size_t n_uses;
};

static int setter_result(int r, const char *option, const char *value)
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

static int apply(struct enter_ctx *ctx, const struct option_use *u, unsigned *flags)
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

/* Everything before the first "--" is options and ROOT; everything after it
 * is the command, untouched. */
static int parse(int argc, char **argv, struct settings *s)
{
	int split = argc, c;

	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			split = i;
			s->command = argv + i + 1;
			break;
		}

	s->uses = calloc(split, sizeof(*s->uses));
	if (!s->uses)
		return report_usage("out of memory");
	while ((c = getopt_long(split, argv, "c:vh", options, NULL)) != -1) {
		switch (c) {
		case OPT_ROOT:
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
			exit(EXIT_SUCCESS);
		case OPT_VERSION:
			printf("%s (libenter) %s\n", program_name, ENTER_VERSION);
			exit(EXIT_SUCCESS);
		case '?':
			return EXIT_ENTER_FAILED; /* getopt said why */
		default:
			s->uses[s->n_uses] = (struct option_use){c, optarg, NULL};
			if (c == OPT_BIND || c == OPT_RO_BIND) {
				/* getopt permutes later non-options, not this one */
				if (optind >= split)
					return report_usage("%s needs SRC and DST",
							    c == OPT_BIND ? "--bind" : "--ro-bind");
				s->uses[s->n_uses].arg2 = argv[optind++];
			}
			s->n_uses++;
		}
	}

	for (; optind < split; optind++) {
		if (!s->root)
			s->root = argv[optind];
		else
			return report_usage("unexpected argument '%s' (a command goes after --)",
					    argv[optind]);
	}
	if (!s->root)
		return report_usage("no ROOT given");
	if (s->command && !s->command[0])
		s->command = NULL;
	return 0;
}

static int enter_with(const struct settings *s)
{
	struct enter_error *err = NULL;
	struct enter_ctx *ctx;
	unsigned flags = 0;
	int r = 0, status = 0;

	ctx = enter_new(s->root, &err);
	if (!ctx)
		return report_error(err);
	enter_set_log(ctx, log_to_stderr, NULL);
	for (size_t i = 0; i < s->n_uses && r == 0; i++)
		r = apply(ctx, &s->uses[i], &flags);
	if (r == 0)
		r = setter_result(enter_set_flags(ctx, flags), "flags", "");
	if (r == 0 && s->check)
		r = print_check(ctx, s->json);
	else if (r == 0 && s->dry_run)
		r = print_plan(ctx, s->command, s->json);
	else if (r == 0)
		r = enter_run(ctx, s->command, &status, &err) < 0 ? report_error(err) : status;
	enter_free(ctx);
	return r;
}

int main(int argc, char **argv)
{
	struct settings s = {};
	int r;

	r = parse(argc, argv, &s);
	if (r == 0)
		r = enter_with(&s);
	free(s.uses);
	return r;
}
