/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Options -> plan: an ordered array of steps, plain data.  enter_plan()
 * prints it, enter_run() executes it; nothing is done that is not a step.
 * Building the plan reads the target (through in-root resolution) but
 * changes nothing.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "internal.h"

static const char *const api_dirs[] = {"dev", "proc", "sys", "run"};

const char *step_kind_name(enum step_kind kind)
{
	switch (kind) {
	case STEP_ROOT:
		return "root";
	case STEP_MKDIR:
		return "mkdir";
	case STEP_PROC:
		return "proc";
	case STEP_TMPFS:
		return "tmpfs";
	case STEP_DEVPTS:
		return "devpts";
	case STEP_BIND:
		return "bind";
	case STEP_HOSTNAME:
		return "hostname";
	case STEP_PIVOT:
		return "pivot_root";
	case STEP_ACTIVATE:
		return "activate";
	case STEP_RESOLV:
		return "resolv.conf";
	}
	return "?";
}

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
	free(plan->tmpfiles);
	strv_free(plan->argv);
	strv_free(plan->envp);
	free(plan);
	return NULL;
}

static inline void plan_freep(struct enter_plan **p)
{
	plan_free(*p);
}

static char *dup_or_null(const char *s, bool *oom)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
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
		.origin = dup_or_null(origin, &oom),
	};
	return oom ? -ENOMEM : 0;
}

static bool exists_in_root(int root_fd, const char *path)
{
	_cleanup_close_ int fd = -1;

	return resolve_at(root_fd, path, O_PATH, 0, &fd) == 0;
}

/* The target's name: its etc/hostname, else the one in the system profile. */
static int plan_hostname(struct enter_ctx *ctx, const char *system, struct enter_plan *plan)
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

		if (resolve_file_read(ctx->root_fd, candidates[i], 256, &data) < 0)
			continue;
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
		return error_set(err, -r, "resolve", "/tmp", NULL, "%s", resolve_strerror(r));
	}
	return 0;
}

/* The API filesystems of DESIGN §2, in the order they are mounted. */
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

static int plan_mounts(struct enter_ctx *ctx, struct enter_plan *plan)
{
	int r;

	for (size_t i = 0; i < ELEMENTSOF(api_mounts); i++) {
		r = plan_add(plan, api_mounts[i].kind, api_mounts[i].source, api_mounts[i].target,
			     api_mounts[i].fstype, api_mounts[i].options, api_mounts[i].attr,
			     "default");
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

		r = plan_add(plan, STEP_BIND, b->src, b->dst, NULL, NULL,
			     ro ? MOUNT_ATTR_RDONLY : 0, ro ? "--ro-bind" : "--bind");
		if (r < 0)
			return r;
	}
	return 0;
}

/* The target's shell: $system/sw/bin/bash (or /bin/bash for --generic), else /bin/sh. */
static int default_shell(struct enter_ctx *ctx, const char *system, char **ret)
{
	_cleanup_free_ char *bash = NULL;

	if (system ? xasprintf(&bash, "%s/sw/bin/bash", system) < 0 : !(bash = strdup("/bin/bash")))
		return -ENOMEM;
	if (exists_in_root(ctx->root_fd, bash)) {
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

int plan_build(struct enter_ctx *ctx, char *const argv[], char *const *host_env,
	       struct enter_plan **ret, struct enter_error **err)
{
	_cleanup_(plan_freep) struct enter_plan *plan = NULL;
	_cleanup_free_ char *locale = NULL, *shell = NULL;
	bool nixos = !(ctx->flags & ENTER_GENERIC);
	const char *system = nixos ? ctx->system : NULL;
	int r;

	if (nixos && !exists_in_root(ctx->root_fd, "/etc/NIXOS")) {
		r = error_set(err, ENOENT, "check", ctx->root, NULL,
			      "not a NixOS root (no /etc/NIXOS); --generic enters any Linux root");
		error_set_exit_code(*err, 126);
		return r;
	}

	plan = calloc(1, sizeof(*plan));
	if (!plan)
		return -ENOMEM;
	plan->flags = ctx->flags;
	plan->preserve_fds = ctx->preserve_fds;
	plan->root = strdup(ctx->root);
	if (!plan->root)
		return -ENOMEM;
	if (system) {
		plan->system = strdup(system);
		if (!plan->system)
			return -ENOMEM;
	}

	r = plan_add(plan, STEP_ROOT, ctx->root, "/", NULL, NULL, 0, "root");
	if (r < 0)
		return r;
	r = plan_api_dirs(ctx, plan, err);
	if (r < 0)
		return r;
	r = plan_mounts(ctx, plan);
	if (r < 0)
		return r;
	r = plan_hostname(ctx, system, plan);
	if (r < 0)
		return r;
	r = plan_add(plan, STEP_HOSTNAME, plan->hostname, NULL, NULL, NULL, 0,
		     plan->hostname_origin);
	if (r < 0)
		return r;
	r = plan_add(plan, STEP_PIVOT, ctx->root, "/", NULL, NULL, 0, "root");
	if (r < 0)
		return r;

	if (system && !(ctx->flags & ENTER_NO_ACTIVATE)) {
		_cleanup_free_ char *activate = NULL, *tmpfiles = NULL;

		if (xasprintf(&activate, "%s/activate", system) < 0 ||
		    xasprintf(&tmpfiles, "%s/sw/bin/systemd-tmpfiles", system) < 0)
			return -ENOMEM;
		r = plan_add(plan, STEP_ACTIVATE, activate, system, NULL, NULL, 0, "--system");
		if (r < 0)
			return r;
		if (exists_in_root(ctx->root_fd, tmpfiles))
			plan->tmpfiles = TAKE_PTR(tmpfiles);
	}
	if (!(ctx->flags & ENTER_NO_RESOLV)) {
		r = plan_add(plan, STEP_RESOLV, "/etc/resolv.conf", "/etc/resolv.conf", NULL, NULL,
			     MOUNT_ATTR_RDONLY, "default");
		if (r < 0)
			return r;
	}

	r = default_shell(ctx, system, &shell);
	if (r < 0)
		return r;
	r = plan_command(argv, shell, ctx->shell_command, plan);
	if (r < 0)
		return r;
	if (system) {
		if (xasprintf(&locale, "%s/sw/lib/locale/locale-archive", system) < 0)
			return -ENOMEM;
		if (!exists_in_root(ctx->root_fd, locale))
			locale = (free(locale), NULL);
	}
	struct env_opts opts = {
		.generic = !nixos,
		.shell = shell,
		.locale_archive = locale,
		.keep = ctx->env_keep,
		.set = ctx->env_set,
	};
	r = env_build(host_env, &opts, &plan->envp);
	if (r < 0)
		return r;

	*ret = TAKE_PTR(plan);
	return 0;
}

static void attr_words(struct buf *b, uint64_t attr, bool json)
{
	static const struct {
		uint64_t bit;
		const char *word;
	} words[] = {
		{MOUNT_ATTR_RDONLY, "ro"},
		{MOUNT_ATTR_NOSUID, "nosuid"},
		{MOUNT_ATTR_NODEV, "nodev"},
		{MOUNT_ATTR_NOEXEC, "noexec"},
	};
	bool first = true;

	for (size_t i = 0; i < ELEMENTSOF(words); i++) {
		if (!(attr & words[i].bit))
			continue;
		if (json)
			buf_printf(b, "%s\"%s\"", first ? "" : ",", words[i].word);
		else
			buf_printf(b, "%s%s", first ? "" : ",", words[i].word);
		first = false;
	}
}

static void format_step_text(struct buf *b, const struct step *s, const struct enter_plan *plan)
{
	switch (s->kind) {
	case STEP_ROOT:
		buf_printf(b, "bind      %s -> / (recursive, a mount point for pivot_root)",
			   s->source);
		break;
	case STEP_MKDIR:
		buf_printf(b, "mkdir     %s (mode %04o)", s->target, s->mode);
		break;
	case STEP_PROC:
	case STEP_TMPFS:
	case STEP_DEVPTS:
		buf_printf(b, "mount     %s on %s", s->fstype, s->target);
		if (s->fs_options)
			buf_printf(b, " (%s)", s->fs_options);
		break;
	case STEP_BIND:
		buf_printf(b, "bind      %s -> %s (recursive)", s->source, s->target);
		break;
	case STEP_HOSTNAME:
		buf_printf(b, "hostname  %s", s->source);
		break;
	case STEP_PIVOT:
		buf_printf(b, "pivot     into %s", s->source);
		break;
	case STEP_ACTIVATE:
		buf_printf(b, "activate  %s", s->source);
		if (plan->tmpfiles)
			buf_printf(b, ", then %s --create --remove -E", plan->tmpfiles);
		if (plan->flags & ENTER_STRICT)
			buf_printf(b, " (failure is an error)");
		break;
	case STEP_RESOLV:
		buf_printf(b, "bind      host %s -> %s (where it points inside the target)",
			   s->source, s->target);
		break;
	}
	if (s->attr) {
		buf_printf(b, " [");
		attr_words(b, s->attr, false);
		buf_printf(b, "]");
	}
	buf_printf(b, "  # %s\n", s->origin);
}

static void format_text(struct buf *b, const struct enter_plan *plan)
{
	for (size_t i = 0; i < plan->n_steps; i++)
		format_step_text(b, &plan->steps[i], plan);
	buf_printf(b, "exec     ");
	for (char **a = plan->argv; *a; a++)
		buf_printf(b, " %s", *a);
	buf_printf(b, "\n");
	for (char **e = plan->envp; *e; e++)
		buf_printf(b, "env       %s\n", *e);
	if (plan->preserve_fds)
		buf_printf(b, "fds       0-%d\n", 2 + plan->preserve_fds);
}

static void format_strv_json(struct buf *b, char *const *v)
{
	buf_printf(b, "[");
	for (size_t i = 0; v && v[i]; i++) {
		buf_printf(b, i ? ", " : "");
		buf_json_string(b, v[i]);
	}
	buf_printf(b, "]");
}

static void format_json(struct buf *b, const struct enter_plan *plan)
{
	buf_printf(b, "{\n  \"root\": ");
	buf_json_string(b, plan->root);
	buf_printf(b, ",\n  \"system\": ");
	buf_json_string(b, plan->system);
	buf_printf(b, ",\n  \"hostname\": ");
	buf_json_string(b, plan->hostname);
	buf_printf(b, ",\n  \"hostname_origin\": ");
	buf_json_string(b, plan->hostname_origin);
	buf_printf(b, ",\n  \"steps\": [");
	for (size_t i = 0; i < plan->n_steps; i++) {
		const struct step *s = &plan->steps[i];

		buf_printf(b, "%s\n    {\"kind\": \"%s\", \"source\": ", i ? "," : "",
			   step_kind_name(s->kind));
		buf_json_string(b, s->source);
		buf_printf(b, ", \"target\": ");
		buf_json_string(b, s->target);
		buf_printf(b, ", \"fstype\": ");
		buf_json_string(b, s->fstype);
		buf_printf(b, ", \"options\": ");
		buf_json_string(b, s->fs_options);
		buf_printf(b, ", \"flags\": [");
		attr_words(b, s->attr, true);
		buf_printf(b, "]");
		if (s->kind == STEP_MKDIR)
			buf_printf(b, ", \"mode\": \"%04o\"", s->mode);
		buf_printf(b, ", \"origin\": ");
		buf_json_string(b, s->origin);
		buf_printf(b, "}");
	}
	buf_printf(b, "\n  ],\n  \"command\": ");
	format_strv_json(b, plan->argv);
	buf_printf(b, ",\n  \"environment\": ");
	format_strv_json(b, plan->envp);
	buf_printf(b, ",\n  \"preserve_fds\": %d\n}\n", plan->preserve_fds);
}

_public_ int enter_plan_format(const struct enter_plan *plan, enum enter_format fmt, char **ret)
{
	struct buf b = {};

	if (!plan || !ret)
		return -EINVAL;
	switch (fmt) {
	case ENTER_FORMAT_TEXT:
		format_text(&b, plan);
		break;
	case ENTER_FORMAT_JSON:
		format_json(&b, plan);
		break;
	default:
		return -EINVAL;
	}
	if (b.oom) {
		free(b.data);
		return -ENOMEM;
	}
	*ret = b.data;
	return 0;
}

_public_ void enter_plan_free(struct enter_plan *plan)
{
	plan_free(plan);
}
