/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Parsing what zpool(8) and zfs(8) print, and choosing the root dataset:
 * the texts are what OpenZFS 2.1 prints for the pools of DESIGN §9. */
#include <criterion/criterion.h>
#include <string.h>

#include "internal.h"

/* `zfs list -H -p -r -t filesystem -o ZFS_LIST_COLUMNS zroot`, imported
 * with -R /mnt. */
static const char zroot[] = "none\toff\tzroot\tavailable\tprompt\tzroot\n"
			    "none\toff\tzroot\tavailable\tnone\tzroot/local\n"
			    "/mnt\tnoauto\tzroot\tavailable\tnone\tzroot/local/root\n"
			    "/mnt/nix\ton\tzroot\tavailable\tnone\tzroot/local/nix\n"
			    "none\toff\tzroot\tavailable\tnone\tzroot/safe\n"
			    "/mnt/home\ton\tzroot\tavailable\tnone\tzroot/safe/home\n"
			    "/mnt/home/alice\ton\tzroot\tavailable\tnone\tzroot/safe/home/alice\n"
			    "/mnt/home-old\ton\t-\t-\tnone\tzroot/home-old\n"
			    "legacy\ton\t-\t-\tnone\tzroot/var-log\n";

static struct zfs_dataset *v;
static size_t n;
static struct enter_error *err;

static void parse(const char *text, const char *altroot)
{
	int r = zfs_parse_datasets(text, "zroot", altroot, &v, &n, &err);

	cr_assert_eq(r, 0, "%s", err ? enter_error_message(err) : "");
}

static void release(void)
{
	zfs_datasets_free(v, n);
	v = NULL;
	n = 0;
	enter_error_free(err);
	err = NULL;
}

TestSuite(zfs, .fini = release);

Test(zfs, datasets_as_the_target_sees_them)
{
	parse(zroot, "/mnt");
	cr_assert_eq(n, 9);
	cr_expect_str_eq(v[2].name, "zroot/local/root");
	cr_expect_str_eq(v[2].mountpoint, "/");
	cr_expect_eq(v[2].canmount, ZFS_CANMOUNT_NOAUTO);
	cr_expect_str_eq(v[3].mountpoint, "/nix");
	cr_expect_str_eq(v[6].mountpoint, "/home/alice");
	cr_expect_null(v[0].mountpoint);
	cr_expect_eq(v[0].canmount, ZFS_CANMOUNT_OFF);
	cr_expect_str_eq(v[0].keylocation, "prompt");
	cr_expect_null(v[1].keylocation);
	cr_expect_str_eq(v[3].encryption_root, "zroot");
	cr_expect(v[3].key_available);
	cr_expect_null(v[7].encryption_root);
	cr_expect(v[7].key_available);
	cr_expect(v[8].legacy);
	cr_expect_null(v[8].mountpoint);
}

Test(zfs, without_an_altroot)
{
	parse("/\tnoauto\t-\t-\tnone\trpool/root\n/nix\ton\t-\t-\tnone\trpool/nix\n", "-");
	cr_expect_str_eq(v[0].mountpoint, "/");
	cr_expect_str_eq(v[1].mountpoint, "/nix");
}

Test(zfs, a_key_not_loaded)
{
	parse("/mnt\ton\tzroot\tunavailable\tfile:///persist/k\tdata\n", "/mnt");
	cr_expect_not(v[0].key_available);
	cr_expect_str_eq(v[0].keylocation, "file:///persist/k");
}

/* A mountpoint is anyone's to set: what zfs(8) prints of it is data. */
Test(zfs, a_newline_in_a_mountpoint_is_not_a_dataset_of_its_own)
{
	static const char forged[] =
		"/mnt/x\n/mnt/etc\ton\t-\t-\tnone\tzroot/evil\ton\t-\t-\tnone\t"
		"zroot/a\n";

	cr_assert_lt(zfs_parse_datasets(forged, "zroot", "/mnt", &v, &n, &err), 0);
	cr_assert_not_null(err);
	cr_expect_str_eq(enter_error_message(err),
			 "zfs list zroot: line 1: not the fields asked for");
}

Test(zfs, a_tab_in_a_keylocation_is_refused)
{
	cr_expect_lt(zfs_parse_datasets("/mnt\ton\tzroot\tavailable\tfile:///a\tb\tzroot\n",
					"zroot", "/mnt", &v, &n, &err),
		     0);
}

Test(zfs, a_mountpoint_outside_the_altroot_or_with_controls_is_bad_not_fatal)
{
	parse("/etc\ton\t-\t-\tnone\tzroot/a\n"
	      "/mnt/x\x1b[2J\ton\t-\t-\tnone\tzroot/b\n"
	      "/mntx\ton\t-\t-\tnone\tzroot/c\n"
	      "/mnt/../etc\ton\t-\t-\tnone\tzroot/d\n",
	      "/mnt");
	cr_assert_eq(n, 4);
	cr_expect(v[0].bad_mountpoint);
	cr_expect(v[1].bad_mountpoint);
	cr_expect(v[2].bad_mountpoint);
	cr_expect_null(v[0].mountpoint);
	/* Normalised: "/etc" inside ROOT, resolved there like any mount point. */
	cr_expect_not(v[3].bad_mountpoint);
	cr_expect_str_eq(v[3].mountpoint, "/etc");
}

Test(zfs, a_name_with_controls_is_refused)
{
	cr_expect_lt(zfs_parse_datasets("/mnt\ton\t-\t-\tnone\tzroot/\x1b]0;x\x07\n", "zroot",
					"/mnt", &v, &n, &err),
		     0);
	cr_expect_lt(zfs_parse_datasets("/mnt\tmaybe\t-\t-\tnone\tzroot/x\n", "zroot", "/mnt", &v,
					&n, &err),
		     0);
}

static size_t root_of(char *const *bootfs, const char *wanted)
{
	size_t root = 999;
	int r = zfs_choose_root(v, n, bootfs, wanted, &root, &err);

	cr_assert_eq(r, 0, "%s", err ? enter_error_message(err) : "");
	return root;
}

static const char *root_error(char *const *bootfs, const char *wanted)
{
	size_t root = 999;

	cr_assert_lt(zfs_choose_root(v, n, bootfs, wanted, &root, &err), 0);
	cr_assert_eq(root, 999);
	return enter_error_message(err);
}

Test(zfs, the_root_is_the_one_with_mountpoint_slash)
{
	parse(zroot, "/mnt");
	cr_expect_eq(root_of(NULL, NULL), 2);
	cr_expect_eq(root_of(NULL, "zroot/safe/home"), 5);
	cr_expect_str_eq(root_error(NULL, "zroot/nosuch"),
			 "root dataset zroot/nosuch: no such filesystem in the pools imported");
}

Test(zfs, several_at_slash_bootfs_decides)
{
	char *bootfs[] = {"zroot/ROOT/b", NULL}, *other[] = {"zroot/home", NULL};

	parse("/mnt\tnoauto\t-\t-\tnone\tzroot/ROOT/a\n"
	      "/mnt\tnoauto\t-\t-\tnone\tzroot/ROOT/b\n"
	      "/mnt\toff\t-\t-\tnone\tzroot/ROOT/c\n"
	      "/mnt/home\ton\t-\t-\tnone\tzroot/home\n",
	      "/mnt");
	cr_expect_eq(root_of(bootfs, NULL), 1);
	cr_expect_str_eq(root_error(other, NULL),
			 "root dataset: several have mountpoint / (zroot/ROOT/a, zroot/ROOT/b) and "
			 "no bootfs says which: choose one with --root-dataset DATASET");
}

Test(zfs, a_legacy_root_is_the_bootfs)
{
	char *bootfs[] = {"rpool/root", NULL};

	parse("legacy\ton\t-\t-\tnone\trpool/root\nlegacy\ton\t-\t-\tnone\trpool/nix\n", NULL);
	cr_expect_eq(root_of(bootfs, NULL), 0);
	cr_expect_str_eq(root_error(NULL, NULL),
			 "root dataset: none has mountpoint /, and no bootfs names one of the "
			 "legacy ones (rpool/root, rpool/nix): choose one with --root-dataset "
			 "DATASET");
}

Test(zfs, mounted_parents_first_as_zfs_mount_a)
{
	size_t *order = NULL, k = 0;

	parse("/mnt/home/alice\ton\t-\t-\tnone\tzroot/alice\n"
	      "/mnt\tnoauto\t-\t-\tnone\tzroot/root\n"
	      "/mnt/home\ton\t-\t-\tnone\tzroot/home\n"
	      "/mnt/home-old\ton\t-\t-\tnone\tzroot/home-old\n"
	      "/mnt/srv\tnoauto\t-\t-\tnone\tzroot/srv\n"
	      "/mnt/off\toff\t-\t-\tnone\tzroot/off\n"
	      "/mnt/locked\ton\tzroot/locked\tunavailable\tprompt\tzroot/locked\n"
	      "legacy\ton\t-\t-\tnone\tzroot/legacy\n"
	      "none\ton\t-\t-\tnone\tzroot/none\n"
	      "/elsewhere\ton\t-\t-\tnone\tzroot/bad\n"
	      "/mnt/nix\ton\t-\t-\tnone\tzroot/nix\n",
	      "/mnt");
	cr_assert_eq(zfs_mount_order(v, n, 1, &order, &k), 0);
	cr_assert_eq(k, 5);
	/* The bad one first, to be refused before anything is mounted. */
	cr_expect_str_eq(v[order[0]].name, "zroot/bad");
	cr_expect_str_eq(v[order[1]].name, "zroot/home");
	/* strcmp() order: "-" sorts before "/", and a parent still comes
	 * before its children. */
	cr_expect_str_eq(v[order[2]].name, "zroot/home-old");
	cr_expect_str_eq(v[order[3]].name, "zroot/alice");
	cr_expect_str_eq(v[order[4]].name, "zroot/nix");
	free(order);
}

Test(zfs, importable_pools)
{
	static const char text[] =
		"   pool: zroot\n"
		"     id: 15096237384738473\n"
		"  state: ONLINE\n"
		" status: The pool was last accessed by another system.\n"
		" action: The pool can be imported using its name or numeric identifier and\n"
		"\tthe '-f' flag.\n"
		"   see: https://openzfs.github.io/openzfs-docs/msg/ZFS-8000-EY\n"
		" config:\n"
		"\n"
		"\tzroot       ONLINE\n"
		"\t  vdb2      ONLINE\n"
		"\n"
		"   pool: data\n"
		"     id: 42\n"
		"  state: DEGRADED\n"
		" config:\n"
		"\n"
		"\tdata        DEGRADED\n";
	struct zpool_importable *pools = NULL;
	size_t k = 0;

	cr_assert_eq(zpool_parse_importable(text, &pools, &k), 0);
	cr_assert_eq(k, 2);
	cr_expect_str_eq(pools[0].name, "zroot");
	cr_expect_str_eq(pools[0].id, "15096237384738473");
	cr_expect_str_eq(pools[0].state, "ONLINE");
	cr_expect_str_eq(pools[0].status, "The pool was last accessed by another system.");
	cr_expect_str_eq(pools[1].name, "data");
	cr_expect_str_eq(pools[1].state, "DEGRADED");
	cr_expect_null(pools[1].status);
	zpool_importables_free(pools, k);

	cr_assert_eq(zpool_parse_importable("no pools available to import\n", &pools, &k), 0);
	cr_expect_eq(k, 0);
	zpool_importables_free(pools, k);
}

Test(zfs, the_host_that_last_used_a_pool)
{
	char *host = NULL, *hostid = NULL;

	cr_assert_eq(zpool_parse_last_host(
			     "cannot import 'zroot': pool was previously in use from another "
			     "system.\nLast accessed by nixos (hostid=8425e349) at Thu Dec  3 "
			     "10:00:00 2026\nThe pool can be imported, use 'zpool import -f' to "
			     "import the pool.\n",
			     &host, &hostid),
		     0);
	cr_expect_str_eq(host, "nixos");
	cr_expect_str_eq(hostid, "8425e349");
	free(host);
	free(hostid);
	cr_expect_eq(zpool_parse_last_host("cannot import 'x': no such pool available\n", &host,
					   &hostid),
		     -ENOENT);
	cr_expect_eq(zpool_parse_last_host("Last accessed by a\nb (hostid=1)", &host, &hostid),
		     -ENOENT);
}
