/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libenter: run a command inside an installed Linux system (NixOS first)
 * from a rescue system, in private mount, pid, uts and ipc namespaces.
 *
 * One opaque context is configured with setters, then enter_plan() shows
 * what would be done and enter_run() does it.  The library never prints and
 * never exits; failures are returned as negative errno values together with
 * an error object that says which step failed, on which path, and why.
 */
#ifndef LIBENTER_H
#define LIBENTER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#ifdef __cplusplus
extern "C" {
#endif

struct enter_ctx;
struct enter_plan;
struct enter_error;

/* Flags for enter_set_flags(). */
enum {
	ENTER_GENERIC = 1u << 0,      /* any Linux root: no etc/NIXOS check, no activation */
	ENTER_NO_ACTIVATE = 1u << 1,  /* do not run $system/activate */
	ENTER_STRICT = 1u << 2,	      /* a failing activation is an error, not a warning */
	ENTER_SILENT = 1u << 3,	      /* activation output goes nowhere */
	ENTER_TMPFS_TMP = 1u << 4,    /* a fresh tmpfs on /tmp instead of ROOT's own */
	ENTER_NO_RESOLV = 1u << 5,    /* do not bind the host's resolv.conf */
	ENTER_FSTAB = 1u << 6,	      /* mount every local entry of the target's fstab */
	ENTER_REQUIRE_BOOT = 1u << 7, /* nothing to mount on /boot and nothing there is an error */
	ENTER_HARDENED = 1u << 8,     /* fewer capabilities, a seccomp filter (see enter(1)) */
	ENTER_KEEP = 1u << 9,	      /* leave what enter_assemble() opened open after a run */
};

/* Flags for enter_add_bind(). */
enum {
	ENTER_BIND_RDONLY = 1u << 0,
};

enum enter_boot {
	ENTER_BOOT_AUTO, /* mount /boot (/boot/efi, /efi) from the target's fstab */
	ENTER_BOOT_NONE, /* leave /boot as it is */
	ENTER_BOOT_SRC,	 /* mount a device or image, or bind a directory, on /boot */
};

enum enter_log_level {
	ENTER_LOG_ERROR,
	ENTER_LOG_WARNING,
	ENTER_LOG_INFO,
	ENTER_LOG_DEBUG,
};

enum enter_format {
	ENTER_FORMAT_TEXT,
	ENTER_FORMAT_JSON,
};

/**
 * enter_log_fn - receives warnings and, at ENTER_LOG_DEBUG, progress
 * @userdata: as passed to enter_set_log()
 * @level:    how important the message is
 * @msg:      one line, without a trailing newline
 */
typedef void (*enter_log_fn)(void *userdata, enum enter_log_level level, const char *msg);

/**
 * enter_new() - create a context for a target root
 * @root: path of the mounted target on the host, e.g. "/mnt"
 * @err:  on failure, set to an error object the caller frees with enter_error_free()
 *
 * Opens @root (a directory); nothing is mounted or changed.
 *
 * Returns: a context, or NULL with *@err set.
 * Since: 0.1
 */
struct enter_ctx *enter_new(const char *root, struct enter_error **err);

/**
 * enter_free() - release a context
 * @ctx: context, or NULL
 *
 * What enter_assemble() put together and no enter_teardown() took apart is
 * taken apart here (unless ENTER_KEEP), its failures unsaid: a caller that
 * wants to report them calls enter_teardown() first.
 * Since: 0.1
 */
void enter_free(struct enter_ctx *ctx);

/**
 * enter_set_system() - choose the system profile to activate
 * @ctx:  context
 * @path: absolute path inside ROOT; default "/nix/var/nix/profiles/system"
 *
 * Returns: 0, -EINVAL if @path is not absolute, -ENOMEM.
 * Since: 0.1
 */
int enter_set_system(struct enter_ctx *ctx, const char *path);

/**
 * enter_set_flags() - set ENTER_GENERIC, ENTER_NO_ACTIVATE, ... (replaces previous flags)
 * @ctx:   context
 * @flags: bitwise or of the ENTER_* flags above
 *
 * Returns: 0, -EINVAL for an unknown flag.
 * Since: 0.1
 */
int enter_set_flags(struct enter_ctx *ctx, unsigned flags);

/**
 * enter_set_hostname() - hostname inside, instead of the target's etc/hostname
 * @ctx:  context
 * @name: a valid hostname, or NULL to go back to the target's
 *
 * Returns: 0, -EINVAL for an invalid name, -ENOMEM.
 * Since: 0.1
 */
int enter_set_hostname(struct enter_ctx *ctx, const char *name);

/**
 * enter_set_shell_command() - run a string with the target's shell
 * @ctx:    context
 * @string: passed as `SHELL -c STRING` when enter_run() gets no argv
 *          (nixos-enter's -c); NULL for a login shell
 *
 * Returns: 0, -ENOMEM.
 * Since: 0.1
 */
int enter_set_shell_command(struct enter_ctx *ctx, const char *string);

/**
 * enter_set_workdir() - the command's working directory
 * @ctx:  context
 * @path: absolute path inside ROOT (default "/")
 *
 * Returns: 0, -EINVAL if @path is not absolute, -ENOMEM.
 * Since: 0.1
 */
int enter_set_workdir(struct enter_ctx *ctx, const char *path);

/**
 * enter_stat_in_root() - stat(2) a path of the target, resolved inside ROOT
 * @ctx:  context
 * @path: absolute path inside ROOT; symlinks are followed inside ROOT and
 *        cannot leave it
 * @ret:  filled on success
 *
 * For a caller that takes a path which may name a file of the target
 * (enter-rebuild's --flake DIR) and wants to say it is missing before
 * anything runs.
 *
 * Returns: 0, or a negative errno (-ENOENT: not there, -EINVAL: @path not
 * absolute).
 * Since: 0.1
 */
int enter_stat_in_root(struct enter_ctx *ctx, const char *path, struct stat *ret);

/**
 * enter_system_generation() - the generation the system profile points to
 * @ctx: context
 *
 * Reads the profile's link in the target ("system-42-link" is 42).
 *
 * Returns: the generation, or a negative errno (-ENOENT: no such profile,
 * -EINVAL: not a generation link).
 * Since: 0.1
 */
long enter_system_generation(struct enter_ctx *ctx);

/**
 * enter_add_bind() - bind a host path into the target
 * @ctx:   context from enter_new()
 * @src:   host path
 * @dst:   absolute path inside ROOT; resolved inside ROOT when the plan runs,
 *         created (as a directory, or an empty file when @src is not a
 *         directory) when missing
 * @flags: ENTER_BIND_RDONLY
 *
 * Adds a step to the plan; nothing is mounted until enter_run().
 *
 * Returns: 0, -EINVAL if @dst is not absolute, -ENOMEM.
 * Since: 0.1
 */
int enter_add_bind(struct enter_ctx *ctx, const char *src, const char *dst, unsigned flags);

/**
 * enter_set_boot() - how /boot is provided
 * @ctx:  context
 * @mode: ENTER_BOOT_AUTO, ENTER_BOOT_NONE or ENTER_BOOT_SRC
 * @src:  the source for ENTER_BOOT_SRC, else NULL
 *
 * Returns: 0, -EINVAL, -ENOMEM.
 * Since: 0.1
 */
int enter_set_boot(struct enter_ctx *ctx, enum enter_boot mode, const char *src);

/**
 * enter_set_boot_min_free() - warn when /boot has less free space than this
 * @ctx:   context
 * @bytes: threshold; default 64 MiB; 0 disables the check
 *
 * The warning goes to the log callback before the command runs.
 *
 * Returns: 0.
 * Since: 0.1
 */
int enter_set_boot_min_free(struct enter_ctx *ctx, uint64_t bytes);

/**
 * enter_set_env() - set or remove a variable of the command's environment
 * @ctx:   context
 * @name:  variable name, without '='
 * @value: its value, or NULL to remove it (even one passed through by default)
 *
 * The command's environment is built from scratch (enter(1) ENVIRONMENT); this adds to it.
 *
 * Returns: 0, -EINVAL for an invalid name, -ENOMEM.
 * Since: 0.1
 */
int enter_set_env(struct enter_ctx *ctx, const char *name, const char *value);

/**
 * enter_keep_env() - pass a variable of the caller's environment through
 * @ctx:  context
 * @name: variable name; passed when set in the environment enter_run() sees
 *
 * Returns: 0, -EINVAL for an invalid name, -ENOMEM.
 * Since: 0.1
 */
int enter_keep_env(struct enter_ctx *ctx, const char *name);

/**
 * enter_set_preserve_fds() - let fds 3 .. 3+@n-1 reach the command
 * @ctx: context
 * @n:   number of fds after stderr to keep open
 *
 * Returns: 0, -EINVAL if @n is negative or absurdly large.
 * Since: 0.1
 */
int enter_set_preserve_fds(struct enter_ctx *ctx, int n);

/**
 * enter_set_log() - receive warnings and debug messages
 * @ctx:      context
 * @fn:       callback, or NULL for none
 * @userdata: passed to @fn
 *
 * Returns: 0.
 * Since: 0.1
 */
int enter_set_log(struct enter_ctx *ctx, enter_log_fn fn, void *userdata);

/**
 * enter_set_log_level() - how detailed the messages are
 * @ctx:   context
 * @level: the least important level produced: ENTER_LOG_INFO by default,
 *         ENTER_LOG_DEBUG for a line per step (what a --verbose prints)
 *
 * Messages less important than @level are not produced at all, in the
 * caller or in the child, where each would cost a write to the caller.
 *
 * Returns: 0, or -EINVAL for an unknown level.
 * Since: 0.1
 */
int enter_set_log_level(struct enter_ctx *ctx, enum enter_log_level level);

/**
 * enter_set_root_device() - mount a device as the target's root
 * @ctx:     context
 * @device:  a block device (a partition, /dev/mapper/NAME, a logical
 *           volume) or an image file; NULL for none (ROOT as it is)
 * @options: mount options for it, such as "subvol=@" or "ro"; or NULL
 *
 * enter_assemble() mounts it, on no directory of the host; a run attaches
 * it at ROOT in its own mount namespace.
 *
 * Returns: 0, -EINVAL, -EBUSY once assembled, -ENOMEM.
 * Since: 0.2
 */
int enter_set_root_device(struct enter_ctx *ctx, const char *device, const char *options);

/**
 * enter_add_luks() - a LUKS container to open before the run, and close after
 * @ctx:    context
 * @device: the container: a partition, a disk, an image's loop device
 * @name:   the mapping, /dev/mapper/@name; NULL for "luks-UUID"
 *
 * Opened with libcryptsetup by enter_assemble(), in the order added, with
 * the key of enter_add_key_file() or the passphrase enter_set_key_prompt()
 * asks for; closed by enter_teardown().  A mapping of @name open already
 * on @device is used as it is and left open.
 *
 * Returns: 0, -EINVAL, -EBUSY once assembled, -ENOMEM.
 * Since: 0.2
 */
int enter_add_luks(struct enter_ctx *ctx, const char *device, const char *name);

/**
 * enter_add_key_file() - where the key of a container or pool is
 * @ctx:  context
 * @name: the device as given, the mapping or the pool it is for; NULL for
 *        every one that asks and has no key file of its own
 * @path: a file of the rescue system, or "-" for standard input (read once)
 *
 * Its whole content is the key or passphrase, as with cryptsetup
 * --key-file.  What is read is kept in locked memory and wiped once
 * enter_assemble() is done.
 *
 * Returns: 0, -EINVAL, -ENOMEM.
 * Since: 0.2
 */
int enter_add_key_file(struct enter_ctx *ctx, const char *name, const char *path);

/**
 * enter_key_fn - asks for a passphrase
 * @userdata: as passed to enter_set_key_prompt()
 * @prompt:   "Passphrase for /dev/vda2 (luks-...): "
 * @buf:      where the passphrase goes, without a newline; wiped by the library
 * @size:     its size
 *
 * Returns: the passphrase's length, or a negative errno (-EINTR when the
 * administrator gave up, -ENOTTY without a terminal).
 */
typedef int (*enter_key_fn)(void *userdata, const char *prompt, char *buf, size_t size);

/**
 * enter_set_key_prompt() - how a passphrase is asked for
 * @ctx:      context
 * @fn:       callback (a terminal prompt without echo), or NULL: a key
 *            without a key file is then an error naming what needs it
 * @userdata: passed to @fn
 *
 * A wrong passphrase is asked again, three times in all; a wrong key file
 * is an error at once.
 *
 * Returns: 0.
 * Since: 0.2
 */
int enter_set_key_prompt(struct enter_ctx *ctx, enter_key_fn fn, void *userdata);

/* Flags for enter_assemble(). */
enum {
	ENTER_ASSEMBLE_READ_ONLY = 1u << 0, /* to look (--check): change nothing on the disks */
};

/**
 * enter_assemble() - put the target together from its disks
 * @ctx:   context
 * @flags: ENTER_ASSEMBLE_READ_ONLY
 * @err:   set on failure
 *
 * Mounts the root of enter_set_root_device() detached, where only this
 * context sees it: enter_plan() and enter_check() then read the target from
 * it, and enter_run_plan() attaches it at ROOT inside the run's namespace,
 * so that it is mounted on the host at no time.  A context that needs no
 * assembly is left as it is.  Call it before enter_plan(); a plan made
 * without it stops after the steps that assemble the target.
 *
 * Opens the containers of enter_add_luks() first.  On failure, what it
 * opened is closed again.
 *
 * Returns: 0, or a negative errno with *@err set.
 * Since: 0.2
 */
int enter_assemble(struct enter_ctx *ctx, unsigned flags, struct enter_error **err);

/**
 * enter_teardown() - take apart what enter_assemble() put together
 * @ctx: context
 * @err: set on failure
 *
 * Unmounts the root, closes the containers enter_assemble() opened, in
 * reverse order, leaving what was open before as it was.  enter_run_plan()
 * calls it when the run is over (unless ENTER_KEEP); a caller that
 * assembled and did not run calls it itself.  Doing nothing when nothing
 * was assembled, it may be called more than once.  What cannot be taken
 * apart (a container still in use) is in *@err with the command that
 * finishes by hand; the rest is taken apart all the same.
 *
 * Returns: 0, or a negative errno with *@err set.
 * Since: 0.2
 */
int enter_teardown(struct enter_ctx *ctx, struct enter_error **err);

/**
 * enter_plan() - what enter_run() would do, without doing it
 * @ctx:      context
 * @argv:     the command, NULL-terminated, or NULL for the target's login shell
 * @ret_plan: the plan, to free with enter_plan_free()
 * @err:      set on failure
 *
 * Reads the target (etc/NIXOS, etc/hostname, etc/fstab, which API
 * directories exist, where etc/resolv.conf points) but changes nothing.
 * The plan is what enter_run_plan() executes, step by step: make it once,
 * print it, run it.
 *
 * On a failure known in advance (a /boot source that cannot be found, an
 * unsafe ROOT/dev), *@ret_plan may still be set: the plan up to the step
 * that would fail, which enter_plan_format() prints with the error, so
 * that a --dry-run shows how far a run would get.  Free it too.
 *
 * Returns: 0, or a negative errno with *@err set.
 * Since: 0.1
 */
int enter_plan(struct enter_ctx *ctx, char *const argv[], struct enter_plan **ret_plan,
	       struct enter_error **err);

/**
 * enter_plan_format() - the plan as text (one step a line) or JSON
 * @plan: from enter_plan()
 * @fmt:  ENTER_FORMAT_TEXT or ENTER_FORMAT_JSON
 * @ret:  a string ending in a newline, to free with free()
 *
 * Returns: 0, -ENOMEM.
 * Since: 0.1
 */
int enter_plan_format(const struct enter_plan *plan, enum enter_format fmt, char **ret);

/**
 * enter_plan_hostname() - the hostname the plan gives the target
 * @plan: from enter_plan()
 *
 * Returns: a string owned by @plan.
 * Since: 0.1
 */
const char *enter_plan_hostname(const struct enter_plan *plan);

/**
 * enter_plan_free() - release a plan
 * @plan: a plan, or NULL
 * Since: 0.1
 */
void enter_plan_free(struct enter_plan *plan);

/**
 * enter_plan_set_command() - the command of a plan, given after planning
 * @plan: a plan of enter_plan()
 * @argv: the command, NULL-terminated, or NULL for the target's login shell
 *
 * For a caller whose command depends on what the plan found, such as a
 * flake attribute named after the target's hostname (enter_plan_hostname()):
 * the plan is made once, and the command is part of what is printed and run.
 *
 * Returns: 0, -EINVAL, -ENOMEM (the plan keeps its command then).
 * Since: 0.1
 */
int enter_plan_set_command(struct enter_plan *plan, char *const argv[]);

/**
 * enter_check() - what a rebuild would find, without entering
 * @ctx:          context
 * @fmt:          ENTER_FORMAT_TEXT or ENTER_FORMAT_JSON
 * @ret_text:     the report, to free with free()
 * @ret_problems: how many problems would make entering or a boot-loader
 *                install fail (no /boot source, not a NixOS root, ROOT/dev
 *                a symlink); a /boot below the minimum free space is a
 *                warning, as when entering
 * @err:          set on failure
 *
 * Reports the fstab mounts that would be made and from where, what is
 * missing, the hostname, the system profile and its generation, and free
 * space on /boot.  Mounts nothing anywhere.
 *
 * Returns: 0, or a negative errno with *@err set.
 * Since: 0.1
 */
int enter_check(struct enter_ctx *ctx, enum enter_format fmt, char **ret_text, int *ret_problems,
		struct enter_error **err);

/**
 * enter_check_error() - the report of a check that could not look
 * @root:     ROOT as the user gave it
 * @failure:  why: the error of enter_new() (ROOT missing, not a directory)
 * @fmt:      ENTER_FORMAT_TEXT or ENTER_FORMAT_JSON
 * @ret_text: the report, to free with free()
 *
 * The same report as enter_check()'s, with @failure as its one problem, for
 * a caller whose enter_new() failed: an administrator asking "would this
 * work?" gets the answer "no, because ..." in the form she asked for.
 * enter_check() itself reports this way what stops it in the target
 * (ROOT/dev a symlink) and returns 0.
 *
 * Returns: 0, -EINVAL, -ENOMEM.
 * Since: 0.1
 */
int enter_check_error(const char *root, const struct enter_error *failure, enum enter_format fmt,
		      char **ret_text);

/**
 * enter_run() - run a command inside the target and wait for it
 * @ctx:    context
 * @argv:   the command, NULL-terminated, or NULL for the target's login shell
 * @status: the command's exit status: its code, or 128+N if it died of signal N
 * @err:    set on failure
 *
 * Forks; all mounts happen in new namespaces of the child, so nothing is
 * left on the host whatever happens.  While it waits, SIGTERM, SIGHUP,
 * SIGINT, SIGQUIT, SIGUSR1, SIGUSR2 and SIGWINCH are blocked in the calling
 * thread and forwarded to the command.  Every process the command left
 * behind is killed before enter_run() returns.
 *
 * Returns: 0 when the command ran (whatever its status), or a negative errno
 * with *@err set; enter_error_exit_code() then gives the exit code to use.
 * Since: 0.1
 */
int enter_run(struct enter_ctx *ctx, char *const argv[], int *status, struct enter_error **err);

/**
 * enter_run_plan() - execute a plan of enter_plan() and wait for the command
 * @ctx:    the context the plan was made from
 * @plan:   the plan, as enter_plan() (and enter_plan_set_command()) left it
 * @status: the command's exit status: its code, or 128+N if it died of signal N
 * @err:    set on failure
 *
 * enter_run() is enter_plan() followed by this.  What was printed is what
 * runs: the plan is not made again.  A plan that enter_plan() returned with
 * an error fails here with that error.  The plan stays the caller's.
 *
 * Returns: as enter_run(); -EINVAL if @plan is not one of @ctx.
 * Since: 0.1
 */
int enter_run_plan(struct enter_ctx *ctx, const struct enter_plan *plan, int *status,
		   struct enter_error **err);

/**
 * enter_error_free() - release an error object
 * @err: error, or NULL
 * Since: 0.1
 */
void enter_error_free(struct enter_error *err);

/* Accessors of an error: the positive errno, the failing step ("mount",
 * "resolve", "exec", ...), the path inside ROOT, an optional detail (the
 * origin of the step), and the kernel's or the library's explanation. */
int enter_error_errno(const struct enter_error *err);
const char *enter_error_step(const struct enter_error *err);
const char *enter_error_path(const struct enter_error *err);
const char *enter_error_detail(const struct enter_error *err);

/**
 * enter_error_message() - the whole error in one line
 * @err: error
 *
 * "STEP PATH (DETAIL): REASON", e.g.
 * "resolve /dev: is a symlink, refusing to mount over it".
 *
 * Returns: a string owned by @err.
 * Since: 0.1
 */
const char *enter_error_message(const struct enter_error *err);

/**
 * enter_error_exit_code() - the exit code a program should use for @err
 * @err: error
 *
 * Returns: 126 (not a NixOS root, command not executable), 127 (command not
 * found), else 125.
 * Since: 0.1
 */
int enter_error_exit_code(const struct enter_error *err);

/**
 * enter_strerror() - an errno's text as libenter's messages say it
 * @errnum: an errno, positive or negative
 *
 * strerror(), in lower case as the rest of a one-line message:
 * "no such file or directory".
 *
 * Returns: a string valid until the fourth next call in the same thread.
 * Since: 0.2
 */
const char *enter_strerror(int errnum);

/**
 * enter_format_json_string() - @s as a JSON string, as the library prints them
 * @s:   a string, or NULL (printed as null)
 * @ret: the quoted string, to free with free()
 *
 * For a caller that adds objects of its own next to the library's JSON
 * (enter-rebuild's result line): the same escaping, control characters
 * and backslashes included.
 *
 * Returns: 0, -EINVAL, -ENOMEM.
 * Since: 0.2
 */
int enter_format_json_string(const char *s, char **ret);

#ifdef __cplusplus
}
#endif

#endif
