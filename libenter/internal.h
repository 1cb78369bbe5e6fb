/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Private declarations shared by the files of libenter; never installed. */
#ifndef LIBENTER_INTERNAL_H
#define LIBENTER_INTERNAL_H

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "libenter.h"

#define _public_       __attribute__((visibility("default")))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _cleanup_(f)   __attribute__((cleanup(f)))

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))
#ifndef MIN
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#endif
#ifndef MAX
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#endif

/* Closes and forgets: also safe to call by hand before the cleanup runs. */
static inline void closep(int *fd)
{
	if (*fd >= 0)
		(void)close(*fd);
	*fd = -1;
}
static inline void freep(void *p)
{
	free(*(void **)p);
}
static inline void fclosep(FILE **f)
{
	if (*f)
		(void)fclose(*f);
}

void strv_free(char **v);
void strv_freep(char ***v); /* for _cleanup_strv_ */

#define _cleanup_close_	 _cleanup_(closep)
#define _cleanup_free_	 _cleanup_(freep)
#define _cleanup_fclose_ _cleanup_(fclosep)
#define _cleanup_strv_	 _cleanup_(strv_freep)

/* Hand ownership to the caller: the cleanup then sees -1 / NULL. */
static inline int take_fd(int *fd)
{
	int r = *fd;
	*fd = -1;
	return r;
}
#define TAKE_PTR(p)                                                                                \
	({                                                                                         \
		__typeof__(p) _p = (p);                                                            \
		(p) = NULL;                                                                        \
		_p;                                                                                \
	})

static inline bool streq(const char *a, const char *b)
{
	return a && b && *a == *b && !__builtin_strcmp(a, b);
}

/* strv.c: NULL-terminated string arrays */
size_t strv_length(char *const *v);
int strv_push(char ***v, const char *s);			/* appends a copy */
int strv_consume(char ***v, char *s);				/* appends s, freed on failure */
int strv_pushf(char ***v, const char *fmt, ...) _printf_(2, 3); /* appends a formatted string */
/* Appends s to a list of *n that only strv_append() grew (or NULL), in
 * amortised constant time; s is freed on failure. */
int strv_append(char ***v, size_t *n, char *s);
char *strv_find_prefix(char *const *v, const char *prefix);

/* util.c */
int xasprintf(char **ret, const char *fmt, ...) _printf_(2, 3);
char *strdup_or_null(const char *s); /* NULL for NULL, or out of memory */
bool hostname_valid(const char *s);
char *hostname_first_line(char *text);
bool same_inode(int a, int b); /* both fds on one inode of one filesystem */
void close_all_except(int from, int *keep, size_t n);
const char *errtext(int errnum); /* strerror(), lower case */
void strip_controls(char *s);

/* spawn.c */
/* CLONE_VM | CLONE_VFORK, as posix_spawn() */
pid_t spawn(int (*fn)(void *), void *arg, int *ret_error);
bool interpreter_missing(const char *path, int error);
char *missing_interpreter_text(const char *path);

/* error.c */
struct enter_error {
	int errnum;    /* positive errno */
	int exit_code; /* 125, 126 or 127 */
	char *step;    /* "mount", "resolve", "check", "activate", "exec" */
	char *path;    /* path inside ROOT, as the user would write it */
	char *detail;  /* origin of the step, or NULL */
	char *reason;  /* explanation, or NULL for strerror(errnum) */
	char *message; /* the whole line, built on demand */
};

/* Fills *err unless it is already set (the first failure is the cause) and
 * returns -errnum, so that a caller can write `return error_set(...)`.
 * @reason_fmt may be NULL: the reason is then strerror(errnum). */
int error_set(struct enter_error **err, int errnum, const char *step, const char *path,
	      const char *detail, const char *reason_fmt, ...) _printf_(6, 7);
void error_set_exit_code(struct enter_error *err, int code);
/* Fills *err, unless already set, with a copy of @from; returns -errnum. */
int error_copy(struct enter_error **err, const struct enter_error *from);
int error_from_fs_context(struct enter_error **err, int errnum, int fs_fd, const char *step,
			  const char *path, const char *detail);

/* resolve.c: paths inside ROOT become fds, never strings handed to the kernel */
enum {
	RESOLVE_API = 1 << 0, /* refuse symlinks anywhere in the path */
};
int resolve_at(int root_fd, const char *path, int open_flags, unsigned how, int *ret_fd);
int resolve_file_read(int root_fd, const char *path, size_t max, char **ret);
/* Asked before anything is created in the directory @dir_fd: 0, or a
 * negative errno that refuses the creation. */
struct create_guard {
	int (*check)(int dir_fd, void *data);
	void *data;
};
int resolve_mkdir_p(int root_fd, const char *path, mode_t mode, const struct create_guard *guard,
		    int *ret_fd);
int resolve_create_file(int root_fd, const char *path, const struct create_guard *guard,
			int *ret_fd);
const char *resolve_strerror(int r);
const char *resolve_strerror_how(int r, unsigned how_flags);
char *path_normalize(const char *path);
/* Where @path leads inside ROOT: its symlinks followed one at a time, each
 * lookup in-root, so that the answer is a path (for the plan, a message, a
 * destination to create) as well as an fd of what is there (@ret_fd may be
 * NULL).  *@ret_path is set also when the path leads nowhere (-ENOENT: the
 * path that is missing). */
int resolve_symlinks(int root_fd, const char *path, char **ret_path, int *ret_fd);
bool mounted_in_root(int root_fd, const char *path);

/* env.c: the command's environment, a pure function of its inputs */
struct env_opts {
	bool generic;
	const char *shell;	    /* value of SHELL */
	const char *locale_archive; /* value of LOCALE_ARCHIVE, or NULL */
	char *const *keep;	    /* names passed through when set */
	char *const *set;	    /* "NAME=VALUE" to set, "NAME" to remove, in order */
};
int env_build(char *const *host, const struct env_opts *opts, char ***ret);
bool env_name_valid(const char *name);

/* fstab.c: the target's fstab, parsed by libmount line by line */
struct libmnt_cache;
struct fstab_entry {
	char *spec;   /* the source as written: "UUID=3A1F-22C4" */
	char *target; /* normalised mount point */
	char *fstype;
	char *vfs_options, *fs_options, *user_options;
	unsigned line;
	bool swap, netfs, pseudofs, noauto, nofail;
};
int fstab_parse_text(const char *text, struct fstab_entry **ret, size_t *ret_n,
		     unsigned *ret_bad_line);
void fstab_free(struct fstab_entry *entries, size_t n);
const char *fstab_skip_reason(const struct fstab_entry *e, enum enter_boot boot, bool all);
int fstab_options(const struct fstab_entry *e, uint64_t *ret_attr, char **ret_fs_options);
/* "subvol=@,ro" as fstab_options() splits an entry's */
int fstab_split_options(const char *optstr, uint64_t *ret_attr, char **ret_fs_options);
int fstab_resolve_source(const char *spec, struct libmnt_cache *cache, char **ret_device);
int mount_point_of(int fd, char **ret_path);
bool kernel_has_filesystem(const char *type);
bool same_filesystem_family(const char *found, const char *type);

/* targetfs.c: one walk of the target's fstab and --boot, a decision per
 * entry; plan.c makes steps of them, check.c reports them */
enum mount_verdict {
	MOUNT_DO,      /* mount @device at @target: a STEP_FSTAB */
	MOUNT_BIND,    /* --boot DIR: bind @device at /boot */
	MOUNT_SKIPPED, /* not enter's to mount: @state says why (swap, noauto, ...) */
	MOUNT_PRESENT, /* something is mounted there under ROOT already */
	MOUNT_ABSENT,  /* nofail, its source not there: entered without it */
	MOUNT_FAILS,   /* a run stops here: @error says why */
};

struct mount_decision {
	enum mount_verdict verdict;
	const char *state; /* for --check: "to mount", "missing", "swap", ... */
	char *target;	   /* the mount point inside ROOT */
	char *spec;	   /* the source as written: "UUID=3A1F-22C4" */
	char *device;	   /* the source found, or NULL */
	char *fstype;	   /* probed when the fstab says "auto" */
	char *fs_options;  /* MOUNT_DO: superblock options, or NULL */
	uint64_t attr;	   /* MOUNT_DO: MOUNT_ATTR_* */
	char *origin;	   /* "UUID=... from /mnt/etc/fstab line 7", "--boot" */
	unsigned line;	   /* in the fstab, 0 for --boot */
	bool nofail;
	struct enter_error *error; /* MOUNT_FAILS */
};

struct mount_decisions {
	struct mount_decision *v;
	size_t n;
	char **warnings;    /* logged by a run, listed by --check */
	char *boot_skipped; /* why the fstab's /boot line is not mounted, or NULL */
	bool boot_listed;   /* the fstab has a /boot line */
};
int targetfs_decide(struct enter_ctx *ctx, struct mount_decisions *ret, struct enter_error **err);
void targetfs_clear(struct mount_decisions *d);

/* zfs.c: what zpool(8) and zfs(8) print, parsed */
enum zfs_canmount {
	ZFS_CANMOUNT_ON,
	ZFS_CANMOUNT_NOAUTO,
	ZFS_CANMOUNT_OFF,
};

/* The columns of `zfs list -H -p -o` that zfs_parse_datasets() reads; the
 * name, which cannot hold a tab or a newline, last. */
#define ZFS_LIST_COLUMNS "mountpoint,canmount,encryptionroot,keystatus,keylocation,name"
#define ZFS_LIST_FIELDS	 6

struct zfs_dataset {
	char *name;
	char *mountpoint;    /* inside the target ("/", "/nix"), or NULL: none, legacy, bad */
	bool legacy;	     /* mountpoint=legacy: mounted by the fstab only */
	bool bad_mountpoint; /* control characters, or not below the altroot */
	enum zfs_canmount canmount;
	char *encryption_root; /* NULL when not encrypted */
	bool key_available;
	char *keylocation; /* "prompt", "file:///persist/key", or NULL */
};

struct zpool_importable {
	char *name, *id, *state;
	char *status; /* the first line of "status:", or NULL */
};

/* Lines of `zfs list -H -p -o ZFS_LIST_COLUMNS` of @pool imported with
 * @altroot (NULL or "-": none). */
int zfs_parse_datasets(const char *text, const char *pool, const char *altroot,
		       struct zfs_dataset **ret, size_t *ret_n, struct enter_error **err);
void zfs_datasets_free(struct zfs_dataset *v, size_t n);
/* The target's root among @v: @wanted, else the one with mountpoint /, else
 * the one of @bootfs (the pools' bootfs properties) that is a candidate. */
int zfs_choose_root(const struct zfs_dataset *v, size_t n, char *const *bootfs, const char *wanted,
		    size_t *ret, struct enter_error **err);
/* Indices of the datasets to mount after @root, in the order to mount them. */
int zfs_mount_order(const struct zfs_dataset *v, size_t n, size_t root, size_t **ret,
		    size_t *ret_n);
/* What `zpool import` (no pool named) lists. */
int zpool_parse_importable(const char *text, struct zpool_importable **ret, size_t *ret_n);
void zpool_importables_free(struct zpool_importable *v, size_t n);
/* "Last accessed by HOST (hostid=ID)" of a refused import: -ENOENT if absent. */
int zpool_parse_last_host(const char *text, char **ret_host, char **ret_hostid);

/* secret.c: keys and passphrases, locked in memory and wiped after use */
struct secret {
	char *data;
	size_t len, cap;
};
int secret_new(size_t cap, struct secret **ret);
struct secret *secret_free(struct secret *s); /* wipes; NULL */
int secret_read_fd(int fd, struct secret **ret);
int secret_read_file(const char *path, struct secret **ret); /* "-": standard input */

/* What enter_assemble() puts together, in order, and takes apart in
 * reverse. */
enum part_kind {
	PART_LUKS, /* --luks DEVICE[:NAME] */
};

struct part {
	enum part_kind kind;
	char *spec; /* as given: "/dev/vda2" */
	char *name; /* the mapping, once known: "luks-UUID" */
	bool found; /* there before enter: used as it is, left as it was */
	bool done;  /* put together by enter: taken apart at the end */
};

struct key_file {
	char *name; /* the device, mapping or pool it is for, or NULL: any */
	char *path; /* "-": standard input */
	struct secret *cached;
};

#define KEY_TRIES 3 /* passphrases asked on the terminal */
/* The key for @p: its --key-file, else asked with the key callback. */
int key_get(struct enter_ctx *ctx, const struct part *p, unsigned attempt, struct secret **ret,
	    bool *ret_asked, struct enter_error **err);
void key_files_forget(struct enter_ctx *ctx); /* wipes what was read */

/* luks.c */
int luks_open(struct enter_ctx *ctx, struct part *p, struct enter_error **err);
int luks_close(struct enter_ctx *ctx, const struct part *p, struct enter_error **err);

/* assemble.c */
bool assemble_wanted(const struct enter_ctx *ctx); /* --root-device, ... */
bool assemble_done(const struct enter_ctx *ctx);   /* enter_assemble() mounted the root */
void assemble_release(struct enter_ctx *ctx);	   /* enter_free(): what is left, taken apart */
/* The type and options --root-device is mounted with. */
int assemble_root_type(const struct enter_ctx *ctx, char **ret_fstype, uint64_t *ret_attr,
		       char **ret_fs_options, struct enter_error **err);

/* plan.c */
enum step_kind {
	STEP_NAMESPACES,  /* new mount, uts, ipc namespaces (pid: from the fork) */
	STEP_PROPAGATION, /* every mount made private: nothing propagates to the host */
	STEP_ROOT,	  /* ROOT bound onto itself, recursively: pivot_root needs a mount */
	STEP_MKDIR,	  /* create a missing mount point: an API directory, a --bind DST */
	STEP_MKFILE,	  /* create a missing --bind DST for a file: an empty file */
	STEP_PROC,	  /* fresh procfs for the new pid namespace */
	STEP_TMPFS,	  /* fresh tmpfs: /run, /dev/shm, --tmpfs-tmp */
	STEP_DEVPTS,	  /* fresh devpts instance, /dev/ptmx bound to it */
	STEP_BIND,	  /* recursive bind: /sys, /dev, --bind, --ro-bind, --boot DIR */
	STEP_FSTAB,	  /* a filesystem of the target: its fstab, or --boot DEVICE */
	STEP_BOOT_SPACE,  /* warn when /boot has less than --boot-min-free */
	STEP_HOSTNAME,	  /* sethostname() in the new uts namespace */
	STEP_PIVOT,	  /* pivot_root into ROOT, chroot where that is impossible */
	STEP_TERMINAL,	  /* a pseudo-terminal inside for the command, relayed by the caller */
	STEP_HARDEN,	  /* seccomp filter, capability drop: for every program started */
	STEP_ACTIVATE,	  /* $system/activate */
	STEP_TMPFILES,	  /* systemd-tmpfiles --create --remove -E, when the target has it */
	STEP_RESOLV,	  /* host resolv.conf, read-only, after activation, at its in-root
			   * destination */
	/* The caller's steps, before the fork and after the run: */
	STEP_LUKS_OPEN,	 /* a LUKS container opened (or used, if open already) */
	STEP_LUKS_CLOSE, /* and closed when the run is over */
};

struct step {
	enum step_kind kind;
	char *source;	  /* host path, or NULL */
	char *target;	  /* path inside ROOT, as the user would write it */
	char *fstype;	  /* "tmpfs", "proc", "devpts", or NULL */
	char *fs_options; /* "mode=0755", "newinstance,ptmxmode=0666" */
	uint64_t attr;	  /* MOUNT_ATTR_* */
	unsigned mode;	  /* STEP_MKDIR, STEP_MKFILE */
	bool nofail;	  /* STEP_FSTAB: a failure is a warning, as at boot */
	unsigned resolve; /* how the target is resolved: RESOLVE_API, or 0 to follow
			   * symlinks inside ROOT (--bind, --ro-bind destinations) */
	char *origin;	  /* "--bind", "--tmpfs-tmp", "/mnt/etc/fstab line 7", ...;
			   * NULL for what enter always does ("default") */
};

struct enter_plan {
	const struct enter_ctx *ctx; /* the context it was made from */
	char *failure;		     /* the error of the step that would fail, or NULL */
	char *pending; /* not assembled: what is known once it is (steps, command missing) */
	char *root;
	struct step *steps;
	size_t n_steps;
	char *hostname;
	char *hostname_origin;
	char *system;
	char *tmpfiles;	     /* in-root path of systemd-tmpfiles, or NULL */
	char **argv;	     /* the command */
	char *shell;	     /* the target's shell: the default command, SHELL */
	char *shell_command; /* -c STRING, or NULL */
	char *workdir;	     /* its working directory, inside ROOT */
	char **envp;	     /* its environment */
	int preserve_fds;
	unsigned tty_fds; /* which of 0, 1, 2 were terminals: the command gets a pty */
	unsigned flags;
	uint64_t boot_min_free;
};

struct bind_spec {
	char *src;
	char *dst;
	unsigned flags;
};

struct enter_ctx {
	char *root;
	int root_fd;	   /* the target's root: ROOT, or the root enter_assemble() mounted */
	int root_dir_fd;   /* ROOT on the host once enter_assemble() mounted a root, else -1 */
	char *root_device; /* --root-device, or NULL */
	char *root_options;
	struct part *parts;
	size_t n_parts;
	struct key_file *keys;
	size_t n_keys;
	enter_key_fn key_fn;
	void *key_userdata;
	bool assembled; /* by enter_assemble(), until enter_teardown() */
	unsigned assemble_flags;
	char *system;
	char *hostname;
	char *shell_command; /* -c STRING */
	char *workdir;
	unsigned flags;
	enum enter_boot boot;
	char *boot_src;
	uint64_t boot_min_free;
	struct bind_spec *binds;
	size_t n_binds;
	char **env_set; /* grown by strv_append() */
	size_t n_env_set;
	char **env_keep; /* grown by strv_append() */
	size_t n_env_keep;
	int preserve_fds;
	enter_log_fn log_fn;		/* in pid 1: one that sends the line to the caller */
	enum enter_log_level log_level; /* the least important produced */
	void *log_userdata;
};

/* The plan of a run, from @decisions when the caller has them (--check),
 * else from a walk of the fstab of its own.  A plan that would fail is
 * returned too, up to the failing step, with its error in ->failure. */
int plan_build(struct enter_ctx *ctx, char *const argv[], char *const *host_env,
	       const struct mount_decisions *decisions, struct enter_plan **ret,
	       struct enter_error **err);
struct enter_plan *plan_free(struct enter_plan *plan);
const char *step_kind_name(enum step_kind kind);

/* run.c: what a run has that the configuration has not, handed to pid 1 */
struct run {
	const struct enter_plan *plan;
	int report_fd; /* pid 1: records (errors, log lines) to the caller */
	int pty_sock;  /* pid 1: where the terminal's master goes, or -1 */
	int life_fd;   /* pid 1: POLLHUP when the caller is gone */
};

/* ns.c */
pid_t ns_fork_pid1(struct enter_error **err); /* 0 in pid 1 of a new pid namespace */
int ns_unshare(struct enter_error **err);
int ns_make_private(struct enter_error **err);

/* signals.c */
extern const int forwarded_signals[];
extern const size_t n_forwarded_signals;
void signal_set_forwarded(sigset_t *set);
bool is_stop_signal(int sig);	 /* TERM, HUP, INT, QUIT: the ones that end a run */
int exit_status_of(int wstatus); /* its code, 128+N for signal N */
int signal_reset_all(void);

/* setup.c: pid 1 executes the plan's steps, one switch over their kinds */
int setup_run_steps(struct enter_ctx *ctx, struct run *run, struct enter_error **err);

/* mount.c: mount steps on fds */
struct exec_state {
	int root_fd;   /* the ROOT bind mount once STEP_ROOT ran */
	int resolv_fd; /* detached clone of the host's resolv.conf, or -1 */
	bool pivoted;
};
int mount_root(struct enter_ctx *ctx, const struct step *s, struct exec_state *st,
	       struct enter_error **err);
int mount_make_point(const struct step *s, struct exec_state *st, struct enter_error **err);
int mount_fresh_at(const struct step *s, struct exec_state *st, struct enter_error **err);
int mount_devpts(const struct step *s, struct exec_state *st, struct enter_error **err);
int mount_bind(const struct step *s, struct exec_state *st, struct enter_error **err);
int mount_filesystem(const struct step *s, struct exec_state *st, struct enter_error **err);
/* @source (a device, or an image through a loop device) mounted nowhere
 * yet: *@ret_mnt is for move_mount(); @target and @origin name it in errors. */
int mount_detached(const char *source, const char *fstype, const char *fs_options, uint64_t attr,
		   const char *target, const char *origin, int *ret_mnt, struct enter_error **err);
int mount_check_boot_space(struct enter_ctx *ctx, const struct step *s, struct exec_state *st);
int mount_pivot(struct enter_ctx *ctx, struct exec_state *st, struct enter_error **err);
int mount_prepare_resolv(const struct enter_plan *plan, struct exec_state *st,
			 struct enter_error **err);
int mount_resolv(struct enter_ctx *ctx, const struct step *s, struct exec_state *st,
		 struct enter_error **err);

/* activate.c: STEP_ACTIVATE and STEP_TMPFILES */
int activate_run(struct enter_ctx *ctx, const struct enter_plan *plan, const struct step *s,
		 struct enter_error **err);

/* hardened.c */
int hardened_load(struct enter_error **err); /* dlopen() libcap, libseccomp */
int hardened_apply(struct enter_error **err);

/* init.c: pid 1 of the new pid namespace */
_Noreturn void init_main(struct enter_ctx *ctx, struct run *run);
int exec_command(const struct enter_plan *plan, unsigned tty_fds, struct enter_error **err);

/* pty.c: the terminal relay */
#include <poll.h>
#include <termios.h>
/* Bytes read from one side and not yet written to the other: the relay
 * stops reading a side while its queue holds anything, so that a stalled
 * terminal holds up the command's output, never enter's loop. */
struct pty_queue {
	char data[8192];
	size_t len;
};
struct pty_relay {
	unsigned tty_fds; /* which of 0, 1, 2 are terminals */
	int master;	  /* -1 until pid 1 sent it */
	int out_fd;	  /* the caller's terminal reopened non-blocking, or -1 */
	bool stdin_open, raw;
	struct termios saved;
	struct pty_queue to_out, to_master;
};
unsigned pty_terminal_fds(void);
int pty_open_inside(unsigned tty_fds, int *ret_master, struct enter_error **err);
int pty_make_controlling(unsigned tty_fds);
int pty_send_fd(int sock, int fd);
int pty_receive_fd(int sock);
void pty_relay_start(struct pty_relay *r, int master);
void pty_relay_resize(struct pty_relay *r);
/* The relay's three entries of the caller's poll(): the master, stdin and
 * the caller's terminal, each with the events it waits for now. */
#define PTY_POLL_FDS 3
void pty_relay_poll_fds(const struct pty_relay *r, struct pollfd p[PTY_POLL_FDS]);
/* Moves what poll() said is ready; false once the inside side is gone. */
bool pty_relay_events(struct pty_relay *r, const struct pollfd p[PTY_POLL_FDS]);
void pty_relay_stop(struct pty_relay *r);

/* report.c: records from the child to the parent through a pipe */
int report_send_error(int fd, const struct enter_error *e);
int report_send_log(int fd, enum enter_log_level level, const char *msg);
/* An enter_log_fn for pid 1: the line to the caller, @fd an int * */
void report_log_to_fd(void *fd, enum enter_log_level level, const char *msg);
/* Reads what is available; returns 0 at EOF, 1 if more may come, <0 on error. */
int report_receive(int fd, struct enter_ctx *ctx, struct enter_error **err);

/* log.c */
void log_msg(struct enter_ctx *ctx, enum enter_log_level level, const char *fmt, ...)
	_printf_(3, 4);

/* buf.c: a growing string buffer and JSON, for the printers */
struct buf {
	char *data;
	size_t len, cap;
	bool oom;
};
void buf_printf(struct buf *b, const char *fmt, ...) _printf_(2, 3);
void buf_json_string(struct buf *b, const char *s);
void buf_end_line(struct buf *b, size_t start);
void buf_json_strv(struct buf *b, char *const *v);
void buf_json_member(struct buf *b, const char *sep, const char *key, const char *value);

#endif
