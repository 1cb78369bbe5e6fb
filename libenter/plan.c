/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Options -> plan: an ordered array of steps, plain data.  format.c prints
 * it, setup.c executes it; nothing is done that is not a step.
 * Building the plan reads the target (through in-root resolution) but
 * changes nothing.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "internal.h"

static const char *const api_dirs[] = {"dev", "proc", "sys", "run"};

static void step_clear(struct step *s)
{
	free(s->source);
	free(s->target);
	free(s->fstype);
	free(s->fs_options);
	free(s->origin);
}

struct enter_plan *plan_free(struct enter_plan *plan)
{
	if (!plan)
		return NULL;
	for (size_t i = 0; i < plan->n_steps; i++)
		step_clear(&plan->steps[i]);
	free(plan->steps);
	free(plan->root);
	free(plan->hostname);
	free(plan->hostname_origin);
	free(plan->system);
	free(plan->workdir);
	free(plan->shell);
	free(plan->shell_command);
	free(plan->failure);
	free(plan->pending);
	strv_free(plan->argv);
	strv_free(plan->envp);
	free(plan);
	return NULL;
}

static inline void plan_freep(struct enter_plan **p)
{
	plan_free(*p);
}

/* strdup_or_null(), noting a failure in *@oom. */
static char *dup_or_null(const char *s, bool *oom)
{
	char *d = strdup_or_null(s);

	if (s && !d)
		*oom = true;
	return d;
}

static int plan_add(struct enter_plan *plan, enum step_kind kind, const char *source,
		    const char *target, const char *fstype, const char *fs_options, uint64_t attr,
		    const char *origin)
{
	struct step *steps, *s;
	bool oom = false;

	steps = realloc(plan->steps, (plan->n_steps + 1) * sizeof(*steps));
	if (!steps)
		return -ENOMEM;
	plan->steps = steps;
	s = &steps[plan->n_steps++];
	*s = (struct step){
		.kind = kind,
		.source = dup_or_null(source, &oom),
		.target = dup_or_null(target, &oom),
		.fstype = dup_or_null(fstype, &oom),
		.fs_options = dup_or_null(fs_options, &oom),
		.attr = attr,
		.resolve = RESOLVE_API,
		.origin = dup_or_null(origin, &oom),
	};
	return oom ? -ENOMEM : 0;
}

/* A resolution that failed because the path leads nowhere in the target
 * (missing, a file where a directory should be, a symlink loop), as
 * opposed to one that could not look (an I/O error, ...). */
static bool leads_nowhere(int r)
{
	return r == -ENOENT || r == -ENOTDIR || r == -ELOOP;
}

/* Is @path there in the target?  When the lookup could not tell (a damaged
 * directory, an I/O error), the answer is no as well, but not a silent one:
 * the administrator hears of the damaged disk, and what is done @instead. */
static bool present_in_root(struct enter_ctx *ctx, const char *path, const char *instead)
{
	_cleanup_close_ int fd = -1;
	int r = resolve_at(ctx->root_fd, path, O_PATH, 0, &fd);

	if (r < 0 && !leads_nowhere(r))
		log_msg(ctx, ENTER_LOG_WARNING, "%s: %s; %s", path, resolve_strerror(r), instead);
	return r == 0;
}

/* The target's name: its etc/hostname, else the one in the system profile. */
static int plan_hostname(struct enter_ctx *ctx, const char *system, struct enter_plan *plan,
			 struct enter_error **err)
{
	_cleanup_free_ char *from_system = NULL;
	const char *candidates[] = {"/etc/hostname", NULL};

	if (ctx->hostname) {
		plan->hostname = strdup(ctx->hostname);
		plan->hostname_origin = strdup("--hostname");
		return plan->hostname && plan->hostname_origin ? 0 : -ENOMEM;
	}
	if (system && xasprintf(&from_system, "%s/etc/hostname", system) < 0)
		return -ENOMEM;
	candidates[1] = from_system;

	for (size_t i = 0; i < ELEMENTSOF(candidates) && candidates[i]; i++) {
		_cleanup_free_ char *data = NULL;
		int r = resolve_file_read(ctx->root_fd, candidates[i], 256, &data);

		/* No file there, or none that holds a name: the next candidate.
		 * Any other error would silently make the target "localhost",
		 * and colmena would pick the wrong node. */
		if (leads_nowhere(r) || r == -EBADFD)
			continue;
		if (r < 0)
			return error_set(err, -r, "hostname", candidates[i], NULL,
					 "%s; --hostname NAME enters without reading it",
					 resolve_strerror(r));
		char *name = hostname_first_line(data);

		if (!hostname_valid(name)) {
			log_msg(ctx, ENTER_LOG_WARNING,
				"%s: \"%s\" is not a valid hostname, ignored", candidates[i], name);
			continue;
		}
		plan->hostname = strdup(name);
		plan->hostname_origin = strdup(candidates[i]);
		return plan->hostname && plan->hostname_origin ? 0 : -ENOMEM;
	}

	/* Never the rescue system's own name: colmena would pick the wrong node. */
	plan->hostname = strdup("localhost");
	plan->hostname_origin = strdup("no name in the target");
	return plan->hostname && plan->hostname_origin ? 0 : -ENOMEM;
}

static int plan_api_dirs(struct enter_ctx *ctx, struct enter_plan *plan, struct enter_error **err)
{
	_cleanup_close_ int tmp_fd = -1;
	int r;

	for (size_t i = 0; i < ELEMENTSOF(api_dirs); i++) {
		_cleanup_close_ int fd = -1;
		char path[16];

		snprintf(path, sizeof(path), "/%s", api_dirs[i]);
		r = resolve_at(ctx->root_fd, path, O_PATH | O_DIRECTORY, RESOLVE_API, &fd);
		if (r == -ENOENT) {
			r = plan_add(plan, STEP_MKDIR, NULL, path, NULL, NULL, 0,
				     "missing in the target");
			if (r < 0)
				return r;
			plan->steps[plan->n_steps - 1].mode = 0755;
		} else if (r < 0) {
			return error_set(err, -r, "resolve", path, NULL, "%s", resolve_strerror(r));
		}
	}

	r = resolve_at(ctx->root_fd, "/tmp", O_PATH | O_DIRECTORY, 0, &tmp_fd);
	if (r == -ENOENT) {
		r = plan_add(plan, STEP_MKDIR, NULL, "/tmp", NULL, NULL, 0,
			     "missing in the target");
		if (r < 0)
			return r;
		plan->steps[plan->n_steps - 1].mode = 01777;
	} else if (r < 0) {
		return error_set(err, -r, "resolve", "/tmp", NULL, "%s",
				 resolve_strerror_how(r, 0));
	}
	return 0;
}

/* The API filesystems (enter(1) DESCRIPTION), in the order they are mounted. */
static const struct {
	enum step_kind kind;
	const char *source, *target, *fstype, *options;
	uint64_t attr;
} api_mounts[] = {
	{STEP_PROC, "proc", "/proc", "proc", NULL,
	 MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC},
	{STEP_BIND, "/sys", "/sys", NULL, NULL, 0},
	{STEP_BIND, "/dev", "/dev", NULL, NULL, 0},
	{STEP_DEVPTS, "devpts", "/dev/pts", "devpts", "newinstance,ptmxmode=0666,mode=0620",
	 MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC},
	{STEP_TMPFS, "tmpfs", "/dev/shm", "tmpfs", "mode=1777",
	 MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV},
	{STEP_TMPFS, "tmpfs", "/run", "tmpfs", "mode=0755", MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV},
};

/* Does an earlier step mount something above @path?  Then what ROOT's
 * disk has there says nothing of what will be there. */
static bool below_planned_mount(const struct enter_plan *plan, const char *path)
{
	for (size_t i = 0; i < plan->n_steps; i++) {
		const struct step *s = &plan->steps[i];
		size_t n = s->target ? strlen(s->target) : 0;

		if (s->kind != STEP_PROC && s->kind != STEP_TMPFS && s->kind != STEP_DEVPTS &&
		    s->kind != STEP_BIND && s->kind != STEP_FSTAB)
			continue;
		if (n > 1 && strncmp(path, s->target, n) == 0 && path[n] == '/')
			return true;
	}
	return false;
}

/* Is @path made, or mounted on, by an earlier step? */
static bool planned_mount_point(const struct enter_plan *plan, const char *path)
{
	for (size_t i = 0; i < plan->n_steps; i++)
		if (plan->steps[i].kind != STEP_PROPAGATION && streq(plan->steps[i].target, path))
			return true;
	return false;
}

/* A mount point that is missing, or below a mount made before it, gets a
 * step for each component that may be missing, inside ROOT: directories,
 * and for the bind of a file an empty file last.  Resolved with @resolve;
 * @parent_origin says what a parent is made for. */
static int plan_mount_point_path(struct enter_ctx *ctx, struct enter_plan *plan, const char *path,
				 bool dir, unsigned resolve, const char *origin,
				 const char *parent_origin, struct enter_error **err)
{
	_cleanup_free_ char *prefix = strdup(path);
	bool missing = false;
	int r;

	if (!prefix)
		return -ENOMEM;
	for (char *p = prefix + 1;; p++) {
		bool last = *p == '\0';

		if (*p != '/' && !last)
			continue;
		*p = '\0';
		if (!missing && planned_mount_point(plan, prefix)) {
			/* there once the earlier step ran */
		} else if (!missing && !below_planned_mount(plan, prefix)) {
			_cleanup_close_ int fd = -1;

			r = resolve_at(ctx->root_fd, prefix, O_PATH, resolve, &fd);
			if (r < 0 && r != -ENOENT)
				return error_set(err, -r, "resolve", prefix, origin, "%s",
						 resolve_strerror_how(r, resolve));
			missing = r == -ENOENT;
		} else {
			missing = true;
		}
		if (missing) {
			bool file = last && !dir;

			r = plan_add(plan, file ? STEP_MKFILE : STEP_MKDIR, NULL, prefix, NULL,
				     NULL, 0, last ? origin : parent_origin);
			if (r < 0)
				return r;
			plan->steps[plan->n_steps - 1].mode = file ? 0644 : 0755;
			plan->steps[plan->n_steps - 1].resolve = resolve;
		}
		if (last)
			return 0;
		*p = '/';
	}
}

static int plan_mounts(struct enter_ctx *ctx, struct enter_plan *plan, struct enter_error **err)
{
	int r;

	for (size_t i = 0; i < ELEMENTSOF(api_mounts); i++) {
		r = plan_add(plan, api_mounts[i].kind, api_mounts[i].source, api_mounts[i].target,
			     api_mounts[i].fstype, api_mounts[i].options, api_mounts[i].attr, NULL);
		if (r < 0)
			return r;
	}
	if (ctx->flags & ENTER_TMPFS_TMP) {
		r = plan_add(plan, STEP_TMPFS, "tmpfs", "/tmp", "tmpfs", "mode=1777",
			     MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, "--tmpfs-tmp");
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < ctx->n_binds; i++) {
		const struct bind_spec *b = &ctx->binds[i];
		bool ro = b->flags & ENTER_BIND_RDONLY;
		const char *origin = ro ? "--ro-bind" : "--bind";
		_cleanup_free_ char *src = realpath(b->src, NULL);
		struct stat st;

		if (!src || stat(src, &st) < 0)
			return error_set(err, errno, "bind", b->src, origin, NULL);
		_cleanup_free_ char *for_dst = NULL;

		if (xasprintf(&for_dst, "%s %s", origin, b->dst) < 0)
			return -ENOMEM;
		r = plan_mount_point_path(ctx, plan, b->dst, S_ISDIR(st.st_mode), 0, origin,
					  for_dst, err);
		if (r < 0)
			return r;
		r = plan_add(plan, STEP_BIND, src, b->dst, NULL, NULL, ro ? MOUNT_ATTR_RDONLY : 0,
			     origin);
		if (r < 0)
			return r;
		/* The administrator's own destination may be a symlink,
		 * followed inside ROOT. */
		plan->steps[plan->n_steps - 1].resolve = 0;
	}
	return 0;
}

/* The target's shell: $system/sw/bin/bash (or /bin/bash for --generic), else /bin/sh. */
static int default_shell(struct enter_ctx *ctx, const char *system, char **ret)
{
	_cleanup_free_ char *bash = NULL;

	if (system ? xasprintf(&bash, "%s/sw/bin/bash", system) < 0 : !(bash = strdup("/bin/bash")))
		return -ENOMEM;
	if (present_in_root(ctx, bash, "the shell is /bin/sh")) {
		*ret = TAKE_PTR(bash);
		return 0;
	}
	*ret = strdup("/bin/sh");
	return *ret ? 0 : -ENOMEM;
}

static int plan_command(char *const argv[], const char *shell, const char *shell_command,
			struct enter_plan *plan)
{
	int r = 0;

	plan->argv = calloc(1, sizeof(char *));
	if (!plan->argv)
		return -ENOMEM;
	if (argv && argv[0]) {
		for (; *argv && r >= 0; argv++)
			r = strv_push(&plan->argv, *argv);
		return r;
	}
	r = strv_push(&plan->argv, shell);
	if (shell_command) {
		r = r ?: strv_push(&plan->argv, "-c");
		r = r ?: strv_push(&plan->argv, shell_command);
	} else {
		r = r ?: strv_push(&plan->argv, "--login");
	}
	return r;
}

/* The decisions on the target's filesystems, as steps: a mount point that
 * is missing is made first (on the filesystem mounted above it, if any, as
 * systemd does at boot). */
static int plan_filesystems(struct enter_ctx *ctx, struct enter_plan *plan,
			    const struct mount_decisions *d, struct enter_error **err)
{
	int r;

	for (char **w = d->warnings; w && *w; w++)
		log_msg(ctx, ENTER_LOG_WARNING, "%s", *w);
	for (size_t i = 0; i < d->n; i++) {
		const struct mount_decision *m = &d->v[i];
		enum step_kind kind = m->verdict == MOUNT_BIND ? STEP_BIND : STEP_FSTAB;

		switch (m->verdict) {
		case MOUNT_SKIPPED:
		case MOUNT_PRESENT:
		case MOUNT_ABSENT:
			continue;
		case MOUNT_FAILS:
			return error_copy(err, m->error);
		case MOUNT_DO:
		case MOUNT_BIND:
			break;
		}
		r = plan_mount_point_path(ctx, plan, m->target, true, RESOLVE_API,
					  "missing mount point", "missing mount point", err);
		if (r < 0)
			return r;
		r = plan_add(plan, kind, m->device, m->target,
			     kind == STEP_FSTAB ? m->fstype : NULL, m->fs_options, m->attr,
			     m->origin);
		if (r < 0)
			return r;
		plan->steps[plan->n_steps - 1].nofail = m->nofail;
	}
	return 0;
}

/* Something will be on /boot: a step of ours, or the administrator's mount. */
static bool boot_provided(struct enter_ctx *ctx, const struct enter_plan *plan)
{
	for (size_t i = 0; i < plan->n_steps; i++)
		if ((plan->steps[i].kind == STEP_FSTAB || plan->steps[i].kind == STEP_BIND) &&
		    streq(plan->steps[i].target, "/boot"))
			return true;
	return mounted_in_root(ctx->root_fd, "/boot");
}

/* ROOT/etc/NIXOS: only a missing file (or a path that leads nowhere) says
 * "not NixOS"; a read error says nothing about the target. */
static int plan_nixos(struct enter_ctx *ctx, struct enter_error **err)
{
	_cleanup_close_ int fd = -1;
	int r = resolve_at(ctx->root_fd, "/etc/NIXOS", O_PATH, 0, &fd);

	if (leads_nowhere(r)) {
		r = error_set(err, ENOENT, "check", ctx->root, NULL,
			      "not a NixOS root (no /etc/NIXOS); --generic enters any Linux root");
		error_set_exit_code(*err, 126);
		return r;
	}
	if (r < 0)
		return error_set(err, -r, "check", "/etc/NIXOS", NULL, "%s", resolve_strerror(r));
	return 0;
}

/* What enter_assemble() opens (@closing false), or what the end of the run
 * closes: the caller's steps, before the fork and after the run. */
static int plan_parts(struct enter_ctx *ctx, struct enter_plan *plan, bool closing)
{
	for (size_t i = 0; i < ctx->n_parts; i++) {
		const struct part *p = &ctx->parts[closing ? ctx->n_parts - 1 - i : i];
		_cleanup_free_ char *mapping = NULL;
		int r;

		if (closing && (p->found || (ctx->flags & ENTER_KEEP)))
			continue;
		if (xasprintf(&mapping, "/dev/mapper/%s", p->name ? p->name : "luks-UUID") < 0)
			return -ENOMEM;
		r = plan_add(plan, closing ? STEP_LUKS_CLOSE : STEP_LUKS_OPEN, p->spec, mapping,
			     NULL, p->found ? "open already" : NULL, 0, "--luks");
		if (r < 0)
			return r;
	}
	return 0;
}

/* ROOT itself, bound onto itself, or the root device mounted there. */
static int plan_root(struct enter_ctx *ctx, struct enter_plan *plan, struct enter_error **err)
{
	_cleanup_free_ char *fstype = NULL, *fs_options = NULL;
	uint64_t attr = 0;
	int r;

	if (!assemble_wanted(ctx))
		return plan_add(plan, STEP_ROOT, ctx->root, "/", NULL, NULL, 0, "root");
	r = assemble_root_type(ctx, &fstype, &attr, &fs_options, err);
	if (r < 0)
		return r;
	return plan_add(plan, STEP_ROOT, ctx->root_device, "/", fstype,
			*fs_options ? fs_options : NULL, attr, "--root-device");
}

/* A target not assembled yet (a --dry-run, which opens nothing): the steps
 * up to its root; the rest is read from the target once it is there. */
static int plan_unassembled(struct enter_ctx *ctx, struct enter_plan *plan,
			    struct enter_error **err)
{
	int r = plan_add(plan, STEP_NAMESPACES, NULL, NULL, NULL, "mount,uts,ipc,pid", 0, NULL);

	if (r >= 0)
		r = plan_add(plan, STEP_PROPAGATION, NULL, "/", NULL, "rprivate", 0, NULL);
	if (r >= 0)
		r = plan_root(ctx, plan, err);
	if (r >= 0)
		r = plan_parts(ctx, plan, true);
	if (r >= 0 && !(plan->pending = strdup("the target's own mounts, hostname and command, "
					       "read from it once assembled (--check looks, "
					       "read-only)")))
		r = -ENOMEM;
	return r;
}

static int plan_fill(struct enter_ctx *ctx, char *const argv[], char *const *host_env,
		     const struct mount_decisions *decisions, struct enter_plan *plan,
		     struct enter_error **err)
{
	_cleanup_(targetfs_clear) struct mount_decisions own = {};
	_cleanup_free_ char *locale = NULL;
	bool nixos = !(ctx->flags & ENTER_GENERIC);
	const char *system = nixos ? ctx->system : NULL;
	int r = 0;

	plan->flags = ctx->flags;
	plan->preserve_fds = ctx->preserve_fds;
	plan->boot_min_free = ctx->boot_min_free;
	plan->root = strdup(ctx->root);
	if (!plan->root)
		return -ENOMEM;
	if (system) {
		plan->system = strdup(system);
		if (!plan->system)
			return -ENOMEM;
	}
	r = plan_parts(ctx, plan, false);
	if (r < 0)
		return r;
	if (assemble_wanted(ctx) && !assemble_done(ctx))
		return plan_unassembled(ctx, plan, err);
	r = nixos ? plan_nixos(ctx, err) : 0;
	/* Even when that failed, so that a plan that fails still names the
	 * target; its own error comes second. */
	int hostname_r = plan_hostname(ctx, system, plan, r < 0 ? NULL : err);

	if (r < 0)
		return r;
	if (hostname_r < 0)
		return hostname_r;

	/* The pid namespace is pid 1's from its fork by the caller; pid 1
	 * unshares the others itself. */
	r = plan_add(plan, STEP_NAMESPACES, NULL, NULL, NULL, "mount,uts,ipc,pid", 0, NULL);
	if (r < 0)
		return r;
	r = plan_add(plan, STEP_PROPAGATION, NULL, "/", NULL, "rprivate", 0, NULL);
	if (r < 0)
		return r;
	r = plan_root(ctx, plan, err);
	if (r < 0)
		return r;
	r = plan_api_dirs(ctx, plan, err);
	if (r < 0)
		return r;
	if (!decisions) {
		r = targetfs_decide(ctx, &own, err);
		if (r < 0)
			return r;
		decisions = &own;
	}
	r = plan_filesystems(ctx, plan, decisions, err);
	if (r < 0)
		return r;
	if ((ctx->flags & ENTER_REQUIRE_BOOT) && !boot_provided(ctx, plan)) {
		if (ctx->boot == ENTER_BOOT_NONE)
			return error_set(err, ENOENT, "mount", "/boot", "--boot none",
					 "nothing mounted there; installing the boot loader "
					 "would fail");
		if (decisions->boot_skipped)
			return error_set(err, ENOENT, "mount", "/boot", NULL,
					 "no source: %s; --boot SRC gives one",
					 decisions->boot_skipped);
		return error_set(err, ENOENT, "mount", "/boot", NULL,
				 "no source: not in %s/etc/fstab, not mounted, no --boot; "
				 "installing the boot loader would fail",
				 ctx->root);
	}
	/* Nothing on /boot: its free space would be that of ROOT's own
	 * filesystem, which says nothing about a boot partition. */
	if (ctx->boot_min_free && nixos && boot_provided(ctx, plan)) {
		r = plan_add(plan, STEP_BOOT_SPACE, NULL, "/boot", NULL, NULL, 0,
			     "--boot-min-free");
		if (r < 0)
			return r;
	}
	r = plan_mounts(ctx, plan, err);
	if (r < 0)
		return r;
	r = plan_add(plan, STEP_HOSTNAME, plan->hostname, NULL, NULL, NULL, 0,
		     plan->hostname_origin);
	if (r < 0)
		return r;
	r = plan_add(plan, STEP_PIVOT, ctx->root, "/", NULL, NULL, 0, "root");
	if (r < 0)
		return r;
	/* Before activation: target code never gets the caller's terminal. */
	plan->tty_fds = pty_terminal_fds();
	if (plan->tty_fds) {
		r = plan_add(plan, STEP_TERMINAL, NULL, "/dev/ptmx", NULL, NULL, 0,
			     "a terminal on 0, 1 or 2");
		if (r < 0)
			return r;
	}
	if (ctx->flags & ENTER_HARDENED) {
		r = plan_add(plan, STEP_HARDEN, NULL, NULL, NULL, NULL, 0, "--hardened");
		if (r < 0)
			return r;
	}

	if (system && !(ctx->flags & ENTER_NO_ACTIVATE)) {
		_cleanup_free_ char *activate = NULL, *tmpfiles = NULL;

		if (xasprintf(&activate, "%s/activate", system) < 0 ||
		    xasprintf(&tmpfiles, "%s/sw/bin/systemd-tmpfiles", system) < 0)
			return -ENOMEM;
		r = plan_add(plan, STEP_ACTIVATE, activate, system, NULL, NULL, 0,
			     ctx->flags & ENTER_STRICT ? "--system, --strict" : "--system");
		if (r < 0)
			return r;
		if (present_in_root(ctx, tmpfiles, "systemd-tmpfiles is not run")) {
			r = plan_add(plan, STEP_TMPFILES, tmpfiles, NULL, NULL, NULL, 0,
				     "the target has it");
			if (r < 0)
				return r;
		}
	}
	if (!(ctx->flags & ENTER_NO_RESOLV)) {
		_cleanup_free_ char *dest = NULL;

		/* Bound where the target's own link leads (NixOS with resolved:
		 * under the fresh /run), not over the link. */
		r = resolve_symlinks(ctx->root_fd, "/etc/resolv.conf", &dest, NULL);
		if (r == -ENOMEM)
			return r;
		/* A destination in the fresh /run is made there (no symlink
		 * on the way: it must land in our tmpfs), after activation. */
		if (dest && strncmp(dest, "/run/", 5) == 0) {
			r = plan_mount_point_path(ctx, plan, dest, false, RESOLVE_API,
						  "where the target's /etc/resolv.conf leads",
						  "on the way to where /etc/resolv.conf leads",
						  err);
			if (r < 0)
				return r;
		}
		r = plan_add(plan, STEP_RESOLV, "/etc/resolv.conf",
			     dest ? dest : "/etc/resolv.conf", NULL, NULL, MOUNT_ATTR_RDONLY,
			     dest && !streq(dest, "/etc/resolv.conf")
				     ? "where the target's /etc/resolv.conf leads"
				     : NULL);
		if (r < 0)
			return r;
	}

	r = plan_parts(ctx, plan, true);
	if (r < 0)
		return r;
	r = default_shell(ctx, system, &plan->shell);
	if (r < 0)
		return r;
	if (ctx->shell_command && !(plan->shell_command = strdup(ctx->shell_command)))
		return -ENOMEM;
	r = plan_command(argv, plan->shell, plan->shell_command, plan);
	if (r < 0)
		return r;
	plan->workdir = strdup(ctx->workdir ? ctx->workdir : "/");
	if (!plan->workdir)
		return -ENOMEM;
	if (system) {
		if (xasprintf(&locale, "%s/sw/lib/locale/locale-archive", system) < 0)
			return -ENOMEM;
		if (!present_in_root(ctx, locale, "LOCALE_ARCHIVE is not set"))
			locale = (free(locale), NULL);
	}
	struct env_opts opts = {
		.generic = !nixos,
		.shell = plan->shell,
		.locale_archive = locale,
		.keep = ctx->env_keep,
		.set = ctx->env_set,
	};
	return env_build(host_env, &opts, &plan->envp);
}

int plan_build(struct enter_ctx *ctx, char *const argv[], char *const *host_env,
	       const struct mount_decisions *decisions, struct enter_plan **ret,
	       struct enter_error **err)
{
	_cleanup_(plan_freep) struct enter_plan *plan = NULL;
	struct enter_error *failure = NULL;
	int r;

	plan = calloc(1, sizeof(*plan));
	if (!plan)
		return error_set(err, ENOMEM, "plan", NULL, NULL, NULL);
	plan->ctx = ctx;
	r = plan_fill(ctx, argv, host_env, decisions, plan, &failure);
	if (r < 0 && !failure)
		r = error_set(&failure, -r, "plan", NULL, NULL, NULL);
	if (r < 0) {
		/* The plan up to the step that would fail, printed with the
		 * error by a --dry-run; never run. */
		plan->failure = strdup_or_null(enter_error_message(failure));
		if (err && !*err)
			*err = TAKE_PTR(failure);
		enter_error_free(failure);
		if (plan->failure)
			*ret = TAKE_PTR(plan);
		return r;
	}
	*ret = TAKE_PTR(plan);
	return 0;
}

_public_ int enter_plan_set_command(struct enter_plan *plan, char *const argv[])
{
	_cleanup_strv_ char **saved = NULL;
	int r;

	if (!plan || plan->failure || !plan->shell)
		return -EINVAL;
	saved = TAKE_PTR(plan->argv);
	r = plan_command(argv, plan->shell, plan->shell_command, plan);
	if (r < 0) {
		strv_free(plan->argv);
		plan->argv = TAKE_PTR(saved);
	}
	return r;
}

_public_ const char *enter_plan_hostname(const struct enter_plan *plan)
{
	return plan ? plan->hostname : NULL;
}

_public_ void enter_plan_free(struct enter_plan *plan)
{
	plan_free(plan);
}
