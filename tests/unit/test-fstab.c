/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <criterion/criterion.h>
#include <string.h>
#include <sys/mount.h>

#include "internal.h"

static const char fstab[] = "# /etc/fstab of a NixOS machine\n"
			    "\n"
			    "UUID=0b6a-1 / ext4 defaults 0 1\n"
			    "   # indented comment\n"
			    "UUID=3A1F-22C4 /boot vfat umask=0077,noatime 0 2\n"
			    "LABEL=home /home//./x/.. ext4 ro,nosuid,lazytime 0 2\n"
			    "/dev/sda3 none swap sw 0 0\n"
			    "LABEL=spare /spare ext4 noauto,nofail 0 0\n"
			    "server:/export /net nfs defaults 0 0\n"
			    "tmpfs /tmp tmpfs mode=1777 0 0\n"
			    "/data/x /srv/x none bind 0 0\n"
			    "/dev/sdb1 /efi vfat defaults 0 2\n"
			    "PARTLABEL=data /srv btrfs subvol=data,compress=zstd 0 0\n";

static struct fstab_entry *entries;
static size_t n;

static void parse(void)
{
	unsigned bad = 99;

	cr_assert_eq(fstab_parse_text(fstab, &entries, &n, &bad), 0);
	cr_assert_eq(bad, 0);
	cr_assert_eq(n, 10);
}

static void release(void)
{
	fstab_free(entries, n);
}

TestSuite(fstab, .init = parse, .fini = release);

Test(fstab, line_numbers_count_comments_and_blank_lines)
{
	static const unsigned lines[] = {3, 5, 6, 7, 8, 9, 10, 11, 12, 13};

	for (size_t i = 0; i < ELEMENTSOF(lines); i++)
		cr_expect_eq(entries[i].line, lines[i], "entry %zu: line %u", i, entries[i].line);
	cr_expect_str_eq(entries[1].spec, "UUID=3A1F-22C4");
	cr_expect_str_eq(entries[1].target, "/boot");
	cr_expect_str_eq(entries[1].fstype, "vfat");
}

Test(fstab, targets_are_normalised)
{
	cr_expect_str_eq(entries[2].target, "/home");
	cr_expect_str_eq(entries[3].target, "none");
}

Test(fstab, default_mode_mounts_only_boot_entries)
{
	static const bool mounted[] = {false, false, false, false, false,
				       false, false, false, false, false};

	bool want[ELEMENTSOF(mounted)];

	memcpy(want, mounted, sizeof(want));
	want[1] = want[8] = true; /* /boot and /efi */
	for (size_t i = 0; i < n; i++)
		cr_expect_eq(fstab_skip_reason(&entries[i], ENTER_BOOT_AUTO, false) == NULL,
			     want[i], "%s", entries[i].target);
	cr_expect_not_null(fstab_skip_reason(&entries[1], ENTER_BOOT_NONE, false));
	cr_expect_not_null(fstab_skip_reason(&entries[1], ENTER_BOOT_SRC, true));
}

Test(fstab, all_mode_skips_what_cannot_or_must_not_be_mounted)
{
	static const char *const reasons[] = {
		"the root itself",   NULL,	   NULL, "swap", "noauto", "network filesystem",
		"pseudo filesystem", "bind mount", NULL, NULL,
	};

	for (size_t i = 0; i < ELEMENTSOF(reasons); i++) {
		const char *why = fstab_skip_reason(&entries[i], ENTER_BOOT_AUTO, true);

		if (reasons[i])
			cr_expect(why && strcmp(why, reasons[i]) == 0, "%s: %s", entries[i].target,
				  why ? why : "(mounted)");
		else
			cr_expect_null(why, "%s: %s", entries[i].target, why);
	}
}

Test(fstab, options_split_into_mount_attributes_and_superblock_options)
{
	_cleanup_free_ char *boot = NULL, *home = NULL, *srv = NULL;
	uint64_t attr;

	cr_assert_eq(fstab_options(&entries[1], &attr, &boot), 0);
	cr_expect_eq(attr, MOUNT_ATTR_NOATIME);
	cr_expect_str_eq(boot, "umask=0077");

	cr_assert_eq(fstab_options(&entries[2], &attr, &home), 0);
	cr_expect_eq(attr, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID);
	cr_expect_str_eq(home, "lazytime");

	cr_assert_eq(fstab_options(&entries[9], &attr, &srv), 0);
	cr_expect_eq(attr, 0);
	cr_expect_str_eq(srv, "subvol=data,compress=zstd");
}

Test(fstab, unknown_tag_is_no_such_device)
{
	_cleanup_free_ char *device = NULL;

	cr_expect_eq(
		fstab_resolve_source("UUID=00000000-dead-beef-0000-000000000000", NULL, &device),
		-ENODEV);
	cr_expect_eq(fstab_resolve_source("/dev/disk/by-label/no\\x20such", NULL, &device),
		     -ENODEV);
	cr_expect_eq(fstab_resolve_source("/nonexistent/device", NULL, &device), -ENODEV);
	cr_expect_null(device);
}

Test(fstab, filesystem_families)
{
	cr_expect(same_filesystem_family("ext4", "ext4"));
	cr_expect(same_filesystem_family("ext2", "ext4"), "ext4 mounts ext2");
	cr_expect(same_filesystem_family("ext3", "ext4"), "ext4 mounts ext3");
	cr_expect_not(same_filesystem_family("ext4", "ext2"), "an ext4 does not mount as ext2");
	cr_expect(same_filesystem_family("vfat", "msdos"));
	cr_expect_not(same_filesystem_family("ext4", "vfat"));
	cr_expect_not(same_filesystem_family("btrfs", "ext4"));
}

Test(fstab, kernel_filesystems)
{
	cr_expect(kernel_has_filesystem("proc"), "proc is in /proc/filesystems (nodev)");
	cr_expect_not(kernel_has_filesystem("nosuchfs"));
}
