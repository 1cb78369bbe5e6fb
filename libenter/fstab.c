/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The target's /etc/fstab (enter(1) --boot, --fstab): which entries to mount, from which
 * device, with which options.  Parsing is libmount's, line by line so that
 * every entry keeps its line number for the error messages; source
 * resolution is libmount's and libblkid's, which find UUID=, LABEL=, ...
 * by scanning devices when there is no udev and no /dev/disk/by-*.
 */
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include <blkid.h>
#include <libmount.h>

#include "internal.h"

static void fstab_entry_clear(struct fstab_entry *e)
{
	free(e->spec);
	free(e->target);
	free(e->fstype);
	free(e->vfs_options);
	free(e->fs_options);
	free(e->user_options);
}

void fstab_free(struct fstab_entry *entries, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fstab_entry_clear(&entries[i]);
	free(entries);
}

static inline void mnt_unref_tablep(struct libmnt_table **t)
{
	mnt_unref_table(*t);
}

static char *dup_opt(const char *s, bool *oom)
{
	char *d = strdup(s ? s : "");

	if (!d)
		*oom = true;
	return d;
}

/* One fstab line through libmount; 0 with *ret_ok false if it is not an entry. */
static int parse_line(const char *line, unsigned lineno, struct fstab_entry *ret, bool *ret_ok)
{
	_cleanup_(mnt_unref_tablep) struct libmnt_table *tb = mnt_new_table();
	_cleanup_fclose_ FILE *f = NULL;
	struct libmnt_fs *fs = NULL;
	bool oom = false;
	char *target;

	*ret_ok = false;
	if (!tb)
		return -ENOMEM;
	f = fmemopen((void *)line, strlen(line), "r");
	if (!f)
		return -errno;
	if (mnt_table_parse_stream(tb, f, "fstab") < 0 || mnt_table_first_fs(tb, &fs) != 0)
		return 0;

	target = mnt_fs_get_target(fs) ? (char *)mnt_fs_get_target(fs) : "";
	target = target[0] == '/' ? path_normalize(target) : strdup(target);
	if (!target)
		return -ENOMEM;
	*ret = (struct fstab_entry){
		.spec = dup_opt(mnt_fs_get_source(fs), &oom),
		.target = target,
		.fstype = dup_opt(mnt_fs_get_fstype(fs), &oom),
		.vfs_options = dup_opt(mnt_fs_get_vfs_options(fs), &oom),
		.fs_options = dup_opt(mnt_fs_get_fs_options(fs), &oom),
		.user_options = dup_opt(mnt_fs_get_user_options(fs), &oom),
		.line = lineno,
		.swap = mnt_fs_is_swaparea(fs),
		.netfs = mnt_fs_is_netfs(fs),
		.pseudofs = mnt_fs_is_pseudofs(fs),
		/* not mnt_fs_match_options(): there "noauto" means "no auto" */
		.noauto = mnt_optstr_get_option(mnt_fs_get_options(fs), "noauto", NULL, NULL) == 0,
		.nofail = mnt_optstr_get_option(mnt_fs_get_options(fs), "nofail", NULL, NULL) == 0,
	};
	if (oom) {
		fstab_entry_clear(ret);
		return -ENOMEM;
	}
	*ret_ok = true;
	return 0;
}

int fstab_parse_text(const char *text, struct fstab_entry **ret, size_t *ret_n,
		     unsigned *ret_bad_line)
{
	struct fstab_entry *entries = NULL;
	size_t n = 0;
	unsigned lineno = 0;

	*ret_bad_line = 0;
	for (const char *p = text; *p;) {
		size_t len = strcspn(p, "\n");
		_cleanup_free_ char *line = strndup(p, len);
		const char *q;
		bool ok;
		int r;

		lineno++;
		p += len + (p[len] == '\n');
		if (!line) {
			fstab_free(entries, n);
			return -ENOMEM;
		}
		q = line + strspn(line, " \t");
		if (!*q || *q == '#')
			continue;

		struct fstab_entry *grown = realloc(entries, (n + 1) * sizeof(*entries));
		if (!grown) {
			fstab_free(entries, n);
			return -ENOMEM;
		}
		entries = grown;
		r = parse_line(line, lineno, &entries[n], &ok);
		if (r < 0) {
			fstab_free(entries, n);
			return r;
		}
		if (ok)
			n++;
		else if (!*ret_bad_line)
			*ret_bad_line = lineno;
	}
	*ret = entries;
	*ret_n = n;
	return 0;
}

static bool is_boot_target(const char *target)
{
	return streq(target, "/boot") || streq(target, "/boot/efi") || streq(target, "/efi");
}

/* Why an entry is not mounted, or NULL when it is; a pure function of the
 * entry and the mode (already-mounted entries are found by the caller). */
const char *fstab_skip_reason(const struct fstab_entry *e, enum enter_boot boot, bool all)
{
	if (e->swap)
		return "swap";
	if (streq(e->target, "/"))
		return "the root itself";
	if (e->target[0] != '/')
		return "no mount point";
	if (e->netfs)
		return "network filesystem";
	if (mnt_optstr_get_option(e->vfs_options, "bind", NULL, NULL) == 0 ||
	    mnt_optstr_get_option(e->vfs_options, "rbind", NULL, NULL) == 0)
		return "bind mount";
	if (e->pseudofs)
		return "pseudo filesystem";
	/* Even when noauto (with x-systemd.automount, systemd mounts it at
	 * the first access): installing the boot loader needs it. */
	if (is_boot_target(e->target))
		return boot == ENTER_BOOT_AUTO ? NULL : "--boot none or --boot SRC";
	if (e->noauto)
		return "noauto";
	return all ? NULL : "not needed (--fstab mounts it)";
}

/* VFS options that belong to the mount (MOUNT_ATTR_*) rather than to the
 * superblock; "ro" is one of them, so that a filesystem mounted elsewhere
 * is never remounted. */
static const struct {
	const char *name;
	uint64_t attr;
} mount_attrs[] = {
	{"ro", MOUNT_ATTR_RDONLY},
	{"nosuid", MOUNT_ATTR_NOSUID},
	{"nodev", MOUNT_ATTR_NODEV},
	{"noexec", MOUNT_ATTR_NOEXEC},
	{"noatime", MOUNT_ATTR_NOATIME},
	{"nodiratime", MOUNT_ATTR_NODIRATIME},
	{"strictatime", MOUNT_ATTR_STRICTATIME},
};

/* Options with no meaning for a mount made here. */
static const char *const ignored_options[] = {
	"rw",	  "defaults", "auto",	  "noauto", "user", "users", "nouser", "owner",	   "group",
	"nofail", "_netdev",  "relatime", "exec",   "suid", "dev",   "atime",  "diratime",
};

int fstab_options(const struct fstab_entry *e, uint64_t *ret_attr, char **ret_fs_options)
{
	_cleanup_free_ char *fs = strdup(e->fs_options);
	char *opts = e->vfs_options, *name, *value;
	size_t namesz, valuesz;
	uint64_t attr = 0;

	if (!fs)
		return -ENOMEM;
	while (mnt_optstr_next_option(&opts, &name, &namesz, &value, &valuesz) == 0) {
		bool done = false;

		for (size_t i = 0; i < ELEMENTSOF(mount_attrs) && !done; i++)
			if (strlen(mount_attrs[i].name) == namesz &&
			    strncmp(name, mount_attrs[i].name, namesz) == 0) {
				attr |= mount_attrs[i].attr;
				done = true;
			}
		for (size_t i = 0; i < ELEMENTSOF(ignored_options) && !done; i++)
			if (strlen(ignored_options[i]) == namesz &&
			    strncmp(name, ignored_options[i], namesz) == 0)
				done = true;
		if (done)
			continue;
		/* sync, dirsync, lazytime, ...: superblock flags */
		if (mnt_optstr_append_option(&fs, strndupa(name, namesz),
					     value ? strndupa(value, valuesz) : NULL) < 0)
			return -ENOMEM;
	}
	*ret_attr = attr;
	*ret_fs_options = TAKE_PTR(fs);
	return 0;
}

int fstab_split_options(const char *optstr, uint64_t *ret_attr, char **ret_fs_options)
{
	_cleanup_free_ char *vfs = NULL, *fs = NULL;
	struct fstab_entry e = {};

	if (mnt_split_optstr(optstr ? optstr : "", NULL, &vfs, &fs, 0, 0) < 0)
		return -ENOMEM;
	e.vfs_options = vfs ? vfs : "";
	e.fs_options = fs ? fs : "";
	return fstab_options(&e, ret_attr, ret_fs_options);
}

/* udev escapes blanks and slashes in /dev/disk/by-label names as \xHH. */
static char *unescape_udev(const char *s)
{
	char *out = malloc(strlen(s) + 1), *o = out;

	if (!out)
		return NULL;
	while (*s) {
		unsigned v;

		if (s[0] == '\\' && s[1] == 'x' && sscanf(s + 2, "%2x", &v) == 1 && v) {
			*o++ = (char)v;
			s += 4;
		} else {
			*o++ = *s++;
		}
	}
	*o = '\0';
	return out;
}

static const struct {
	const char *dir, *tag;
} by_links[] = {
	{"/dev/disk/by-uuid/", "UUID"},
	{"/dev/disk/by-label/", "LABEL"},
	{"/dev/disk/by-partuuid/", "PARTUUID"},
	{"/dev/disk/by-partlabel/", "PARTLABEL"},
};

/* Does @device carry TAG=value now?  Asked of the device itself, never of a
 * cache: libblkid trusts a cache entry checked in the last seconds, and loop
 * devices are reused faster than that. */
static bool device_has_tag(const char *device, const char *tag, const char *value)
{
	blkid_probe pr = blkid_new_probe_from_filename(device);
	const char *found = NULL;
	bool match = false;

	if (!pr)
		return false;
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_LABEL | BLKID_SUBLKS_UUID);
	blkid_probe_enable_partitions(pr, 1);
	blkid_probe_set_partitions_flags(pr, BLKID_PARTS_ENTRY_DETAILS);
	if (blkid_do_safeprobe(pr) == 0) {
		const char *name = streq(tag, "PARTUUID")    ? "PART_ENTRY_UUID"
				   : streq(tag, "PARTLABEL") ? "PART_ENTRY_NAME"
							     : tag;

		match = blkid_probe_lookup_value(pr, name, &found, NULL) == 0 &&
			strcasecmp(found, value) == 0;
	}
	blkid_free_probe(pr);
	return match;
}

/* TAG=value to a device, scanning the devices with a private, empty cache
 * (blkid's shared cache file may be stale), then checking the answer. */
static int resolve_tag(const char *tag, const char *value, char **ret_device)
{
	blkid_cache cache = NULL;
	char *device;

	if (blkid_get_cache(&cache, "/dev/null") < 0)
		return -ENOMEM;
	device = blkid_evaluate_tag(tag, value, &cache);
	blkid_put_cache(cache);
	if (!device)
		return -ENODEV;
	if (!device_has_tag(device, tag, value)) {
		free(device);
		return -ENODEV;
	}
	*ret_device = device;
	return 0;
}

/* The device of an fstab source, as mount(8) finds it: TAG=value through
 * libblkid, a /dev/disk/by-* link even where udev made none, or a path. */
int fstab_resolve_source(const char *spec, struct libmnt_cache *cache, char **ret_device)
{
	_cleanup_free_ char *device = NULL, *tag = NULL, *value = NULL;
	const char *eq = strchr(spec ? spec : "", '=');
	struct stat st;
	int r;

	if (!spec || !*spec)
		return -EINVAL;
	for (size_t i = 0; i < ELEMENTSOF(by_links) && !tag; i++) {
		size_t len = strlen(by_links[i].dir);

		if (strncmp(spec, by_links[i].dir, len) != 0 || access(spec, F_OK) == 0)
			continue;
		value = unescape_udev(spec + len);
		tag = strdup(by_links[i].tag);
		if (!value || !tag)
			return -ENOMEM;
	}
	if (!tag && eq && spec[0] != '/') {
		tag = strndup(spec, eq - spec);
		value = strdup(eq + 1);
		if (!tag || !value)
			return -ENOMEM;
		/* mount(8) accepts UUID="..." too */
		if (value[0] == '"' && strlen(value) > 1 && value[strlen(value) - 1] == '"') {
			memmove(value, value + 1, strlen(value) - 2);
			value[strlen(value) - 2] = '\0';
		}
	}

	if (tag) {
		r = resolve_tag(tag, value, &device);
		if (r < 0)
			return r;
	} else {
		const char *found = mnt_resolve_spec(spec, cache);

		if (!found)
			return -ENODEV;
		/* what a cache returns stays the cache's */
		device = cache ? strdup(found) : (char *)found;
		if (!device)
			return -ENOMEM;
	}
	if (stat(device, &st) < 0)
		return errno == ENOENT ? -ENODEV : -errno;
	if (!S_ISBLK(st.st_mode) && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
		return -ENOTBLK;
	*ret_device = TAKE_PTR(device);
	return 0;
}

/* Where the mount that holds @fd is mounted, as this process sees it: its
 * mount ID (statx) looked up in /proc/self/mountinfo. */
int mount_point_of(int fd, char **ret_path)
{
	_cleanup_(mnt_unref_tablep) struct libmnt_table *tb = NULL;
	struct libmnt_fs *fs = NULL;
	struct libmnt_iter *it;
	struct statx sx;

	if (statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &sx) < 0)
		return -errno;
	if (!(sx.stx_mask & STATX_MNT_ID))
		return -EOPNOTSUPP; /* Linux < 5.8 */
	errno = 0;
	tb = mnt_new_table_from_file("/proc/self/mountinfo");
	if (!tb)
		return errno ? -errno : -ENOMEM;
	/* mnt_table_find_id() is libmount 2.40's; Debian 12 has 2.38 */
	it = mnt_new_iter(MNT_ITER_FORWARD);
	if (!it)
		return -ENOMEM;
	while (mnt_table_next_fs(tb, it, &fs) == 0) {
		if ((uint64_t)mnt_fs_get_id(fs) != sx.stx_mnt_id || !mnt_fs_get_target(fs))
			continue;
		mnt_free_iter(it);
		*ret_path = strdup(mnt_fs_get_target(fs));
		return *ret_path ? 0 : -ENOMEM;
	}
	mnt_free_iter(it);
	return -ENOENT;
}

/* Has the file at @path a line whose first two words are @first and @word,
 * or, with @first NULL, one of one or two words whose last is @word? */
static bool file_has_word_line(const char *path, const char *first, const char *word)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	char line[512];

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		char *save = NULL, *a = strtok_r(line, " \t\n", &save);
		char *b = a ? strtok_r(NULL, " \t\n", &save) : NULL;

		if (!a)
			continue;
		if (first ? b && streq(a, first) && streq(b, word) /* "alias fs-vfat vfat" */
			  : streq(b ? b : a, word))		   /* "nodev\tproc", "\text4" */
			return true;
	}
	return false;
}

/* Could this kernel mount a filesystem of @type: registered now
 * (/proc/filesystems), or a module that mount(2) would load (fs-TYPE in
 * modules.alias)? */
bool kernel_has_filesystem(const char *type)
{
	_cleanup_free_ char *alias = NULL, *aliases = NULL;
	struct utsname u;

	if (file_has_word_line("/proc/filesystems", NULL, type))
		return true;
	if (uname(&u) < 0 || asprintf(&aliases, "/lib/modules/%s/modules.alias", u.release) < 0 ||
	    asprintf(&alias, "fs-%s", type) < 0)
		return true; /* cannot tell: not a problem to report */
	return file_has_word_line(aliases, "alias", alias);
}

/* Would a filesystem that blkid calls @found mount as @type?  The ext4
 * driver mounts ext2 and ext3 as ext4 (not an ext4 as ext2: its features
 * refuse); vfat is also called msdos. */
bool same_filesystem_family(const char *found, const char *type)
{
	if (streq(found, type))
		return true;
	if (streq(type, "ext4"))
		return streq(found, "ext2") || streq(found, "ext3");
	return streq(found, "vfat") && streq(type, "msdos");
}
