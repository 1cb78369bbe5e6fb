/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The command's environment (DESIGN §4): built from nothing, so that no
 * variable of the rescue system leaks in; a pure function of its inputs.
 */
#include <string.h>

#include "internal.h"

static const char nixos_path[] = "/run/wrappers/bin:/root/.nix-profile/bin:"
				 "/nix/var/nix/profiles/default/bin:/run/current-system/sw/bin";
static const char generic_path[] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/* Passed through from the caller's environment when set. */
static const char *const passthrough[] = {
	"TERM", "COLORTERM", "LANG", "LANGUAGE", "TZ", "NO_COLOR", "NIXOS_INSTALL_BOOTLOADER",
};

bool env_name_valid(const char *name)
{
	if (!name || !*name || strlen(name) > 256 || (*name >= '0' && *name <= '9'))
		return false;
	for (const char *p = name; *p; p++)
		if (!(*p == '_' || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= '0' && *p <= '9')))
			return false;
	return true;
}

static bool passed_through(const char *entry, char *const *keep)
{
	size_t len = strcspn(entry, "=");

	if (!entry[len])
		return false;
	if (len > 3 && strncmp(entry, "LC_", 3) == 0)
		return true;
	for (size_t i = 0; i < ELEMENTSOF(passthrough); i++)
		if (strlen(passthrough[i]) == len && strncmp(entry, passthrough[i], len) == 0)
			return true;
	for (; keep && *keep; keep++)
		if (strlen(*keep) == len && strncmp(entry, *keep, len) == 0)
			return true;
	return false;
}

/* Removes NAME= from @env, if there. */
static void env_unset(char **env, const char *name, size_t len)
{
	size_t j = 0;

	for (size_t i = 0; env[i]; i++) {
		if (strncmp(env[i], name, len) == 0 && env[i][len] == '=')
			free(env[i]);
		else
			env[j++] = env[i];
	}
	env[j] = NULL;
}

static int env_put(char ***env, const char *name, size_t len, const char *value)
{
	char *entry;

	env_unset(*env, name, len);
	if (xasprintf(&entry, "%.*s=%s", (int)len, name, value) < 0)
		return -ENOMEM;
	return strv_consume(env, entry);
}

int env_build(char *const *host, const struct env_opts *opts, char ***ret)
{
	_cleanup_strv_ char **env = calloc(1, sizeof(char *));
	int r;

	if (!env)
		return -ENOMEM;

	r = env_put(&env, "PATH", 4, opts->generic ? generic_path : nixos_path);
	if (r >= 0)
		r = env_put(&env, "HOME", 4, "/root");
	if (r >= 0)
		r = env_put(&env, "USER", 4, "root");
	if (r >= 0)
		r = env_put(&env, "LOGNAME", 7, "root");
	if (r >= 0 && opts->shell)
		r = env_put(&env, "SHELL", 5, opts->shell);
	if (r >= 0 && opts->locale_archive)
		r = env_put(&env, "LOCALE_ARCHIVE", 14, opts->locale_archive);
	if (r >= 0)
		r = env_put(&env, "IN_NIXOS_ENTER", 14, "1");
	if (r < 0)
		return r;

	for (; host && *host; host++) {
		if (!passed_through(*host, opts->keep))
			continue;
		size_t len = strcspn(*host, "=");

		r = env_put(&env, *host, len, *host + len + 1);
		if (r < 0)
			return r;
	}

	for (char *const *s = opts->set; s && *s; s++) {
		size_t len = strcspn(*s, "=");

		if ((*s)[len])
			r = env_put(&env, *s, len, *s + len + 1);
		else
			env_unset(env, *s, len);
		if (r < 0)
			return r;
	}

	*ret = TAKE_PTR(env);
	return 0;
}
