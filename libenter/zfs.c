/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the rescue system's zpool(8) and zfs(8) say, parsed: the datasets of
 * an imported pool, which of them is the target's root and in which order
 * the others are mounted, the pools `zpool import` could import, and who
 * last used a pool.  Pure functions of the text, so that the unit tests
 * reach them without a pool; running the programs is assemble.c's.
 *
 * Their output is untrusted: a mountpoint is a property anyone with the
 * disk could have set to anything, newlines and tabs included.
 */
#include <string.h>

#include "internal.h"

void zfs_datasets_free(struct zfs_dataset *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].mountpoint);
		free(v[i].encryption_root);
		free(v[i].keylocation);
	}
	free(v);
}

static bool has_controls(const char *s)
{
	for (; s && *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* The mountpoint as the target sees it: zfs(8) prints it below the pool's
 * altroot ("/mnt/nix" for "/nix", "/mnt" for "/"). */
static int target_mountpoint(const char *value, const char *altroot, char **ret)
{
	size_t len = altroot ? strlen(altroot) : 0;

	if (len == 1 && altroot[0] == '/')
		len = 0;
	if (value[0] != '/' || strncmp(value, altroot ? altroot : "", len) != 0 ||
	    (value[len] != '/' && value[len] != '\0'))
		return -EINVAL;
	*ret = path_normalize(value[len] ? value + len : "/");
	return *ret ? 0 : -ENOMEM;
}

static int parse_canmount(const char *value, enum zfs_canmount *ret)
{
	if (streq(value, "on"))
		*ret = ZFS_CANMOUNT_ON;
	else if (streq(value, "noauto"))
		*ret = ZFS_CANMOUNT_NOAUTO;
	else if (streq(value, "off"))
		*ret = ZFS_CANMOUNT_OFF;
	else
		return -EINVAL;
	return 0;
}

/* One line of ZFS_LIST_COLUMNS, split at its tabs (in place). */
static int parse_dataset(char *line, const char *altroot, struct zfs_dataset *d,
			 const char **ret_why)
{
	char *field[ZFS_LIST_FIELDS], *p = line;
	size_t n = 0;

	for (char *tab; n < ZFS_LIST_FIELDS; n++) {
		field[n] = p;
		tab = strchr(p, '\t');
		if (!tab)
			break;
		*tab = '\0';
		p = tab + 1;
	}
	/* A newline or a tab in a value shows as a line with fields missing
	 * or too many; the name, which can hold neither, comes last. */
	if (n != ZFS_LIST_FIELDS - 1) {
		*ret_why = "not the fields asked for";
		return -EBADMSG;
	}
	if (!*field[5] || has_controls(field[5])) {
		*ret_why = "a dataset name that is empty or holds control characters";
		return -EBADMSG;
	}
	if (parse_canmount(field[1], &d->canmount) < 0) {
		*ret_why = "canmount is not on, noauto or off";
		return -EBADMSG;
	}
	d->name = strdup(field[5]);
	if (!d->name)
		return -ENOMEM;
	if (streq(field[0], "legacy")) {
		d->legacy = true;
	} else if (!streq(field[0], "none")) {
		int r = has_controls(field[0])
				? -EINVAL
				: target_mountpoint(field[0], altroot, &d->mountpoint);

		if (r == -ENOMEM)
			return r;
		/* Kept, and refused by name where it would be mounted. */
		d->bad_mountpoint = r < 0;
	}
	if (!streq(field[2], "-") && !(d->encryption_root = strdup(field[2])))
		return -ENOMEM;
	d->key_available = !d->encryption_root || streq(field[3], "available");
	if (!streq(field[4], "none") && !streq(field[4], "-") &&
	    !(d->keylocation = strdup(field[4])))
		return -ENOMEM;
	return 0;
}

int zfs_parse_datasets(const char *text, const char *pool, const char *altroot,
		       struct zfs_dataset **ret, size_t *ret_n, struct enter_error **err)
{
	_cleanup_free_ char *copy = strdup(text ? text : "");
	struct zfs_dataset *v = NULL;
	size_t n = 0;
	unsigned line = 0;
	char *p, *next;
	int r = 0;

	if (streq(altroot, "-"))
		altroot = NULL;
	if (!copy)
		return error_set(err, ENOMEM, "zfs list", pool, NULL, NULL);
	for (p = copy; *p; p = next) {
		const char *why = NULL;
		struct zfs_dataset *grown;

		next = strchr(p, '\n');
		next = next ? (*next = '\0', next + 1) : p + strlen(p);
		line++;
		grown = realloc(v, (n + 1) * sizeof(*v));
		if (!grown) {
			r = error_set(err, ENOMEM, "zfs list", pool, NULL, NULL);
			break;
		}
		v = grown;
		v[n] = (struct zfs_dataset){};
		r = parse_dataset(p, altroot, &v[n], &why);
		n++;
		if (r < 0) {
			if (why)
				error_set(err, -r, "zfs list", pool, NULL, "line %u: %s", line,
					  why);
			else
				error_set(err, -r, "zfs list", pool, NULL, NULL);
			break;
		}
	}
	if (r < 0) {
		zfs_datasets_free(v, n);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

/* "zroot/local/root, zroot/old" for an error. */
static char *list_names(const struct zfs_dataset *v, size_t n,
			bool (*pick)(const struct zfs_dataset *))
{
	struct buf b = {};

	for (size_t i = 0; i < n; i++)
		if (pick(&v[i]))
			buf_printf(&b, "%s%s", b.len ? ", " : "", v[i].name);
	if (b.oom) {
		free(b.data);
		return NULL;
	}
	return b.data ? b.data : strdup("");
}

static bool mounts_at_root(const struct zfs_dataset *d)
{
	return streq(d->mountpoint, "/") && d->canmount != ZFS_CANMOUNT_OFF;
}

static bool is_legacy(const struct zfs_dataset *d)
{
	return d->legacy && d->canmount != ZFS_CANMOUNT_OFF;
}

static ssize_t find_dataset(const struct zfs_dataset *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (streq(v[i].name, name))
			return (ssize_t)i;
	return -1;
}

int zfs_choose_root(const struct zfs_dataset *v, size_t n, char *const *bootfs, const char *wanted,
		    size_t *ret, struct enter_error **err)
{
	_cleanup_free_ char *names = NULL;
	ssize_t found = -1, i;
	size_t at_root = 0;

	if (wanted) {
		i = find_dataset(v, n, wanted);
		if (i < 0)
			return error_set(err, ENOENT, "root dataset", wanted, NULL,
					 "no such filesystem in the pools imported");
		*ret = (size_t)i;
		return 0;
	}
	for (size_t k = 0; k < n; k++)
		if (mounts_at_root(&v[k])) {
			at_root++;
			found = (ssize_t)k;
		}
	if (at_root == 1) {
		*ret = (size_t)found;
		return 0;
	}
	/* Several at "/", or none (a root with mountpoint=legacy): a pool's
	 * bootfs, if exactly one names a candidate. */
	found = -1;
	for (char *const *b = bootfs; b && *b; b++) {
		i = find_dataset(v, n, *b);
		if (i < 0 || (at_root ? !mounts_at_root(&v[i]) : !is_legacy(&v[i])))
			continue;
		if (found >= 0 && found != i)
			return error_set(err, ENOTUNIQ, "root dataset", NULL, NULL,
					 "the bootfs of several pools (%s, %s): choose one with "
					 "--root-dataset DATASET",
					 v[found].name, v[i].name);
		found = i;
	}
	if (found >= 0) {
		*ret = (size_t)found;
		return 0;
	}
	names = list_names(v, n, at_root ? mounts_at_root : is_legacy);
	if (!names)
		return error_set(err, ENOMEM, "root dataset", NULL, NULL, NULL);
	if (at_root)
		return error_set(err, ENOTUNIQ, "root dataset", NULL, NULL,
				 "several have mountpoint / (%s) and no bootfs says which: choose "
				 "one with --root-dataset DATASET",
				 names);
	if (*names)
		return error_set(err, ENOENT, "root dataset", NULL, NULL,
				 "none has mountpoint /, and no bootfs names one of the legacy "
				 "ones (%s): choose one with --root-dataset DATASET",
				 names);
	return error_set(err, ENOENT, "root dataset", NULL, NULL,
			 "no filesystem of the pools has mountpoint / or legacy: choose one "
			 "with --root-dataset DATASET");
}

static int by_mountpoint(const void *a, const void *b, void *data)
{
	const struct zfs_dataset *v = data;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	/* A bad mountpoint, which has none, sorts first, to be refused early. */
	int c = strcmp(v[i].mountpoint ? v[i].mountpoint : "",
		       v[j].mountpoint ? v[j].mountpoint : "");

	/* Equal mountpoints keep zfs list's order: a parent before its child. */
	return c ? c : i < j ? -1 : 1;
}

int zfs_mount_order(const struct zfs_dataset *v, size_t n, size_t root, size_t **ret, size_t *ret_n)
{
	size_t *order = calloc(n ? n : 1, sizeof(*order)), k = 0;

	if (!order)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct zfs_dataset *d = &v[i];

		/* As zfs mount -a: canmount=on, a mountpoint of its own (a bad one
		 * too, refused by name where it would be mounted), a key. */
		if (i == root || d->canmount != ZFS_CANMOUNT_ON || !d->key_available || d->legacy ||
		    (!d->mountpoint && !d->bad_mountpoint))
			continue;
		order[k++] = i;
	}
	/* A parent's mountpoint sorts before its children's: "/a" < "/a/b". */
	qsort_r(order, k, sizeof(*order), by_mountpoint, (void *)v);
	*ret = order;
	*ret_n = k;
	return 0;
}

void zpool_importables_free(struct zpool_importable *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].id);
		free(v[i].state);
		free(v[i].status);
	}
	free(v);
}

/* "   pool: zroot" to "zroot" when @line holds @key, else NULL. */
static const char *value_of(const char *line, const char *key)
{
	size_t len = strlen(key);

	line += strspn(line, " \t");
	if (strncmp(line, key, len) != 0 || line[len] != ':')
		return NULL;
	return line + len + 1 + strspn(line + len + 1, " \t");
}

static int set_field(char **field, const char *value)
{
	free(*field);
	*field = strdup(value);
	return *field ? 0 : -ENOMEM;
}

int zpool_parse_importable(const char *text, struct zpool_importable **ret, size_t *ret_n)
{
	_cleanup_free_ char *copy = strdup(text ? text : "");
	struct zpool_importable *v = NULL, *cur = NULL;
	size_t n = 0;
	char *p, *next;
	int r = 0;

	if (!copy)
		return -ENOMEM;
	for (p = copy; *p && r >= 0; p = next) {
		const char *value;

		next = strchr(p, '\n');
		next = next ? (*next = '\0', next + 1) : p + strlen(p);
		if ((value = value_of(p, "pool"))) {
			struct zpool_importable *grown = realloc(v, (n + 1) * sizeof(*v));

			if (!grown) {
				r = -ENOMEM;
				break;
			}
			v = grown;
			cur = &v[n++];
			*cur = (struct zpool_importable){};
			r = set_field(&cur->name, value);
		} else if (cur && (value = value_of(p, "id"))) {
			r = set_field(&cur->id, value);
		} else if (cur && (value = value_of(p, "state"))) {
			r = set_field(&cur->state, value);
		} else if (cur && !cur->status && (value = value_of(p, "status"))) {
			r = set_field(&cur->status, value);
		}
	}
	if (r < 0) {
		zpool_importables_free(v, n);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

int zpool_parse_last_host(const char *text, char **ret_host, char **ret_hostid)
{
	static const char by[] = "Last accessed by ", id[] = " (hostid=";
	const char *p = text ? strstr(text, by) : NULL, *end, *close;

	if (!p)
		return -ENOENT;
	p += strlen(by);
	end = strstr(p, id);
	if (!end || memchr(p, '\n', end - p))
		return -ENOENT;
	close = strchr(end + strlen(id), ')');
	if (!close || memchr(end, '\n', close - end))
		return -ENOENT;
	*ret_host = strndup(p, end - p);
	*ret_hostid = strndup(end + strlen(id), close - end - strlen(id));
	if (!*ret_host || !*ret_hostid) {
		free(*ret_host);
		free(*ret_hostid);
		return -ENOMEM;
	}
	strip_controls(*ret_host);
	strip_controls(*ret_hostid);
	return 0;
}
