/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "options.h"
#include "output.h"

bool opt_verbose;

static const struct option common_options[] = {
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
	{"root-device", required_argument, NULL, OPT_ROOT_DEVICE},
	{"root-options", required_argument, NULL, OPT_ROOT_OPTIONS},
	{"luks", required_argument, NULL, OPT_LUKS},
	{"key-file", required_argument, NULL, OPT_KEY_FILE},
	{"keep", no_argument, NULL, OPT_KEEP},
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

static const char common_usage[] =
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
	"      --root-device DEV  mount DEV (a partition, a mapping, an image) as the root,\n"
	"                       inside the run only; ROOT defaults to /mnt, --fstab implied\n"
	"      --root-options OPTS  its mount options (subvol=@, ro)\n"
	"      --luks DEVICE[:NAME]  open a LUKS container before, close it after (repeatable)\n"
	"      --key-file [NAME=]FILE  the key of NAME, or of all (- is stdin); else asked\n"
	"      --keep           leave open at the end what was opened\n"
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

int parse_size(const char *arg, uint64_t *ret)
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
		return -EINVAL;
	*ret = (uint64_t)n << shift;
	return 0;
}

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* --luks DEVICE[:NAME]: a device path may hold a colon of its own
 * (/dev/disk/by-path/pci-0000:00:1f.2-...), so one that exists is whole. */
static int add_luks(struct enter_ctx *ctx, char *arg)
{
	char *colon = strrchr(arg, ':');
	int r;

	if (exists(arg) || !colon)
		return setter_result(enter_add_luks(ctx, arg, NULL), "--luks", arg);
	*colon = '\0';
	r = enter_add_luks(ctx, arg, colon + 1);
	*colon = ':';
	return setter_result(r, "--luks", arg);
}

/* --key-file [NAME=]FILE: a file that exists is whole, '=' and all. */
static int add_key_file(struct enter_ctx *ctx, char *arg)
{
	char *eq = strchr(arg, '=');
	int r;

	if (exists(arg) || strcmp(arg, "-") == 0 || !eq)
		return setter_result(enter_add_key_file(ctx, NULL, arg), "--key-file", arg);
	*eq = '\0';
	r = enter_add_key_file(ctx, arg, eq + 1);
	*eq = '=';
	return setter_result(r, "--key-file", arg);
}

static int apply_one(struct enter_ctx *ctx, const struct option_use *u, unsigned *flags)
{
	uint64_t size;
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
	case OPT_KEEP:
		*flags |= ENTER_KEEP;
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
		if (parse_size(u->arg, &size) < 0)
			return report_usage("--boot-min-free: invalid size '%s' (e.g. 64M, 1G)",
					    u->arg);
		return setter_result(enter_set_boot_min_free(ctx, size), "--boot-min-free", u->arg);
	case OPT_HOSTNAME:
		return setter_result(enter_set_hostname(ctx, u->arg), "--hostname", u->arg);
	case OPT_ROOT_DEVICE:
	case OPT_ROOT_OPTIONS:
		/* Both at once, by context_ready(). */
		return 0;
	case OPT_LUKS:
		return add_luks(ctx, u->arg);
	case OPT_KEY_FILE:
		return add_key_file(ctx, u->arg);
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

const char *option_arg(const struct settings *s, int c)
{
	const char *arg = NULL;

	for (size_t i = 0; i < s->n_uses; i++)
		if (s->uses[i].c == c)
			arg = s->uses[i].arg;
	return arg;
}

bool option_given(const struct settings *s, int c)
{
	for (size_t i = 0; i < s->n_uses; i++)
		if (s->uses[i].c == c)
			return true;
	return false;
}

/* The options that put the target together from its disks. */
static bool assembling(const struct settings *s)
{
	return option_given(s, OPT_ROOT_DEVICE) || option_given(s, OPT_LUKS);
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
	optind = 1;
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
	if (option_given(s, OPT_ROOT_OPTIONS) && !option_given(s, OPT_ROOT_DEVICE))
		return report_usage("--root-options goes with --root-device");
	/* Where a rescue system's administrator mounts a target by hand. */
	if (!s->root && assembling(s))
		s->root = "/mnt";
	if (!s->root)
		return report_usage("no ROOT given");
	if (s->command && !s->command[0])
		s->command = NULL;
	return 0;
}

void settings_free(struct settings *s)
{
	free(s->uses);
	free(s->args);
}

/* A line per slow step (a disk mounted, activation) for a human on a
 * terminal, unless --silent; a line per step with --verbose; else warnings
 * only, so that a script's stderr holds one line per failure. */
static enum enter_log_level log_level(const struct settings *s)
{
	if (opt_verbose)
		return ENTER_LOG_DEBUG;
	return isatty(2) && !option_given(s, OPT_SILENT) ? ENTER_LOG_INFO : ENTER_LOG_WARNING;
}

static int configure(struct enter_ctx *ctx, const struct settings *s, unsigned flags)
{
	int r = 0;

	for (size_t i = 0; i < s->n_uses && r == 0; i++)
		r = apply_one(ctx, &s->uses[i], &flags);
	if (r == 0 && option_given(s, OPT_ROOT_DEVICE))
		r = setter_result(enter_set_root_device(ctx, option_arg(s, OPT_ROOT_DEVICE),
							option_arg(s, OPT_ROOT_OPTIONS)),
				  "--root-device", option_arg(s, OPT_ROOT_DEVICE));
	/* A root without its /nix is not a system. */
	if (assembling(s))
		flags |= ENTER_FSTAB;
	if (r == 0)
		r = setter_result(enter_set_flags(ctx, flags), "flags", "");
	return r;
}

struct enter_ctx *context_ready(const struct settings *s, unsigned flags, bool check, int *ret_code)
{
	struct enter_error *err = NULL;
	struct enter_ctx *ctx = enter_new(s->root, &err);
	int r;

	if (!ctx) {
		*ret_code = check ? print_check_error(s->root, err, s->json) : report_error(err);
		return NULL;
	}
	enter_set_log(ctx, log_to_stderr, NULL);
	enter_set_log_level(ctx, log_level(s));
	enter_set_key_prompt(ctx, ask_passphrase, NULL);
	r = configure(ctx, s, flags);
	/* A --dry-run opens nothing; a --check looks without changing. */
	if (r == 0 && !s->dry_run &&
	    enter_assemble(ctx, check ? ENTER_ASSEMBLE_READ_ONLY : 0, &err) < 0)
		r = report_error(err);
	if (r) {
		enter_free(ctx);
		*ret_code = r;
		return NULL;
	}
	return ctx;
}

int context_done(struct enter_ctx *ctx, int code)
{
	struct enter_error *err = NULL;

	if (ctx && enter_teardown(ctx, &err) < 0) {
		int r = report_error(err);

		code = code == 0 ? r : code;
	}
	enter_free(ctx);
	return code;
}
