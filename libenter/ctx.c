/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* struct enter_ctx: defaults, setters, enter_new(), enter_free(). */
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

#define DEFAULT_SYSTEM	 "/nix/var/nix/profiles/system"
#define PRESERVE_FDS_MAX 1024

static const unsigned all_flags = ENTER_GENERIC | ENTER_NO_ACTIVATE | ENTER_STRICT | ENTER_SILENT |
				  ENTER_TMPFS_TMP | ENTER_NO_RESOLV | ENTER_FSTAB |
				  ENTER_REQUIRE_BOOT | ENTER_HARDENED | ENTER_KEEP;

_public_ struct enter_ctx *enter_new(const char *root, struct enter_error **err)
{
	_cleanup_free_ char *canonical = NULL;
	struct enter_ctx *ctx;
	struct stat st;
	int fd;

	if (!root || !*root) {
		error_set(err, EINVAL, "open", NULL, NULL, "no root given (an empty path)");
		return NULL;
	}
	/* ROOT is the administrator's path on the rescue system: trusted, and
	 * made absolute so that plans and errors name it unambiguously. */
	canonical = realpath(root, NULL);
	if (!canonical) {
		error_set(err, errno, "open", root, NULL, NULL);
		return NULL;
	}
	fd = open(canonical, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		error_set(err, errno, "open", root, NULL, NULL);
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode)) {
		error_set(err, ENOTDIR, "open", root, NULL, NULL);
		(void)close(fd);
		return NULL;
	}

	ctx = calloc(1, sizeof(*ctx));
	if (!ctx || !(ctx->system = strdup(DEFAULT_SYSTEM))) {
		error_set(err, ENOMEM, "open", root, NULL, NULL);
		(void)close(fd);
		enter_free(ctx);
		return NULL;
	}
	ctx->root = TAKE_PTR(canonical);
	ctx->root_fd = fd;
	ctx->root_dir_fd = -1;
	ctx->log_level = ENTER_LOG_INFO;
	ctx->boot = ENTER_BOOT_AUTO;
	ctx->boot_min_free = 64ull << 20;
	return ctx;
}

_public_ void enter_free(struct enter_ctx *ctx)
{
	if (!ctx)
		return;
	assemble_release(ctx);
	if (ctx->root_fd >= 0)
		(void)close(ctx->root_fd);
	if (ctx->root_dir_fd >= 0)
		(void)close(ctx->root_dir_fd);
	for (size_t i = 0; i < ctx->n_binds; i++) {
		free(ctx->binds[i].src);
		free(ctx->binds[i].dst);
	}
	free(ctx->binds);
	free(ctx->root);
	free(ctx->root_device);
	free(ctx->root_options);
	for (size_t i = 0; i < ctx->n_parts; i++) {
		free(ctx->parts[i].spec);
		free(ctx->parts[i].name);
	}
	free(ctx->parts);
	key_files_forget(ctx);
	for (size_t i = 0; i < ctx->n_keys; i++) {
		free(ctx->keys[i].name);
		free(ctx->keys[i].path);
	}
	free(ctx->keys);
	free(ctx->system);
	free(ctx->hostname);
	free(ctx->shell_command);
	free(ctx->workdir);
	free(ctx->boot_src);
	strv_free(ctx->env_set);
	strv_free(ctx->env_keep);
	free(ctx);
}

static int replace_string(char **field, const char *value)
{
	char *copy = NULL;

	if (value && !(copy = strdup(value)))
		return -ENOMEM;
	free(*field);
	*field = copy;
	return 0;
}

_public_ int enter_set_system(struct enter_ctx *ctx, const char *path)
{
	if (!ctx || !path || path[0] != '/')
		return -EINVAL;
	return replace_string(&ctx->system, path);
}

_public_ int enter_set_flags(struct enter_ctx *ctx, unsigned flags)
{
	if (!ctx || (flags & ~all_flags))
		return -EINVAL;
	ctx->flags = flags;
	return 0;
}

_public_ int enter_set_hostname(struct enter_ctx *ctx, const char *name)
{
	if (!ctx || (name && !hostname_valid(name)))
		return -EINVAL;
	return replace_string(&ctx->hostname, name);
}

_public_ int enter_set_shell_command(struct enter_ctx *ctx, const char *string)
{
	if (!ctx)
		return -EINVAL;
	return replace_string(&ctx->shell_command, string);
}

_public_ int enter_set_workdir(struct enter_ctx *ctx, const char *path)
{
	if (!ctx || !path || path[0] != '/')
		return -EINVAL;
	return replace_string(&ctx->workdir, path);
}

_public_ int enter_stat_in_root(struct enter_ctx *ctx, const char *path, struct stat *ret)
{
	_cleanup_close_ int fd = -1;
	int r;

	if (!ctx || !path || path[0] != '/' || !ret)
		return -EINVAL;
	r = resolve_at(ctx->root_fd, path, O_PATH, 0, &fd);
	if (r < 0)
		return r;
	return fstat(fd, ret) < 0 ? -errno : 0;
}

_public_ long enter_system_generation(struct enter_ctx *ctx)
{
	_cleanup_close_ int fd = -1;
	unsigned long gen;
	char link[256];
	ssize_t n;
	int r;

	if (!ctx)
		return -EINVAL;
	r = resolve_at(ctx->root_fd, ctx->system, O_PATH | O_NOFOLLOW, 0, &fd);
	if (r < 0)
		return r;
	n = readlinkat(fd, "", link, sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = '\0';
	if (sscanf(link, "system-%lu-link", &gen) != 1 || gen > LONG_MAX)
		return -EINVAL;
	return (long)gen;
}

_public_ int enter_add_bind(struct enter_ctx *ctx, const char *src, const char *dst, unsigned flags)
{
	struct bind_spec *b;

	if (!ctx || !src || !*src || !dst || dst[0] != '/' || (flags & ~ENTER_BIND_RDONLY))
		return -EINVAL;
	b = realloc(ctx->binds, (ctx->n_binds + 1) * sizeof(*b));
	if (!b)
		return -ENOMEM;
	ctx->binds = b;
	b = &ctx->binds[ctx->n_binds];
	*b = (struct bind_spec){.src = strdup(src), .dst = strdup(dst), .flags = flags};
	if (!b->src || !b->dst) {
		free(b->src);
		free(b->dst);
		return -ENOMEM;
	}
	ctx->n_binds++;
	return 0;
}

_public_ int enter_set_boot(struct enter_ctx *ctx, enum enter_boot mode, const char *src)
{
	if (!ctx)
		return -EINVAL;
	switch (mode) {
	case ENTER_BOOT_AUTO:
	case ENTER_BOOT_NONE:
		if (src)
			return -EINVAL;
		break;
	case ENTER_BOOT_SRC:
		if (!src || !*src)
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	ctx->boot = mode;
	return replace_string(&ctx->boot_src, src);
}

_public_ int enter_set_boot_min_free(struct enter_ctx *ctx, uint64_t bytes)
{
	if (!ctx)
		return -EINVAL;
	ctx->boot_min_free = bytes;
	return 0;
}

_public_ int enter_set_env(struct enter_ctx *ctx, const char *name, const char *value)
{
	char *entry;

	if (!ctx || !env_name_valid(name))
		return -EINVAL;
	if (value ? xasprintf(&entry, "%s=%s", name, value) < 0 : !(entry = strdup(name)))
		return -ENOMEM;
	return strv_append(&ctx->env_set, &ctx->n_env_set, entry);
}

_public_ int enter_keep_env(struct enter_ctx *ctx, const char *name)
{
	if (!ctx || !env_name_valid(name))
		return -EINVAL;
	return strv_append(&ctx->env_keep, &ctx->n_env_keep, strdup(name));
}

_public_ int enter_set_preserve_fds(struct enter_ctx *ctx, int n)
{
	if (!ctx || n < 0 || n > PRESERVE_FDS_MAX)
		return -EINVAL;
	ctx->preserve_fds = n;
	return 0;
}

_public_ int enter_set_log(struct enter_ctx *ctx, enter_log_fn fn, void *userdata)
{
	if (!ctx)
		return -EINVAL;
	ctx->log_fn = fn;
	ctx->log_userdata = userdata;
	return 0;
}

_public_ int enter_set_log_level(struct enter_ctx *ctx, enum enter_log_level level)
{
	if (!ctx || level < ENTER_LOG_ERROR || level > ENTER_LOG_DEBUG)
		return -EINVAL;
	ctx->log_level = level;
	return 0;
}

_public_ int enter_plan(struct enter_ctx *ctx, char *const argv[], struct enter_plan **ret_plan,
			struct enter_error **err)
{
	extern char **environ;

	if (!ctx || !ret_plan)
		return error_set(err, EINVAL, "plan", NULL, NULL, NULL);
	return plan_build(ctx, argv, environ, NULL, ret_plan, err);
}
