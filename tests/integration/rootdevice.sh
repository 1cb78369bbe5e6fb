#!/usr/bin/env bash
# rootdevice.sh: --root-device DEVICE|IMAGE (enter(1) ASSEMBLING) mounts the
# target's root inside the run only: ROOT (default /mnt) stays an empty
# directory on the host, the fstab is implied, --root-options reaches the
# filesystem (btrfs subvol=@), --dry-run mounts nothing and --check looks
# read-only; bad devices and options are one-line errors.
# shellcheck source=tests/integration/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

export BLKID_FILE=$T/blkid.tab
need_cmds mkfs.ext4 mkfs.btrfs btrfs losetup sha256sum
need_fs ext4
need_fs btrfs

# The target: a NixOS root on an ext4 image, its /boot on another by UUID.
SRC=$T/src
make_root "$SRC"
mkdir -p "$SRC/boot" "$SRC/home"
BOOT_UUID=$(new_uuid)
make_esp "$T/boot.img" 64M "$BOOT_UUID" "$(new_label boot)" esp-root-device
printf 'UUID=%s /boot ext4 defaults 0 2\n' "$BOOT_UUID" >"$SRC/etc/fstab"
echo rootdevhost >"$SRC/etc/hostname"
make_ext4 "$T/root.img" 64M "$(new_uuid)" "$(new_label root)" "$SRC"
attach_image "$T/boot.img"

R=$T/mnt
mkdir "$R"

# after DESC: ROOT is still an empty directory, nothing is mounted on the
# host, no loop device is left attached to the root image.
after() {
	check_no_new_loop_mounts "$1"
	check_host_unchanged "$1"
	expect_eq "$1: ROOT still empty on the host" "" "$(ls -A "$R")"
	wait_detached "$T/root.img" 5 || true
}

# --- an image file

run_cmd "$ENTER" --root-device "$T/root.img" "$R" -- /bin/sh -c \
	'cat /etc/hostname; hostname; cat /boot/loader/entries/marker.conf; cat /proc/self/mountinfo'
expect_ok "image: runs"
expect_eq "image: the target's files" "rootdevhost" "$(sed -n 1p <<<"$OUT")"
expect_eq "image: the target's hostname" "rootdevhost" "$(sed -n 2p <<<"$OUT")"
expect_eq "image: /boot from the target's fstab (implied)" "esp-root-device" "$(sed -n 3p <<<"$OUT")"
MI=$(sed -n '4,$p' <<<"$OUT")
expect_eq "image: / is the ext4 of the image" ext4 "$(mountinfo_field "$MI" / fstype)"
expect_match "image: / from a loop device" "$(mountinfo_field "$MI" / source)" '^/dev/loop[0-9]+$'
after "image"

# --- a block device, with options

attach_image "$T/root.img"
ROOT_DEV=$LOOP
run_cmd "$ENTER" --root-device "$ROOT_DEV" --root-options ro "$R" -- /bin/sh -c \
	'cat /proc/self/mountinfo; echo x >/written'
expect_ne "device, ro: writing to / fails" 0 "$STATUS"
expect_eq "device: / is that device" "$ROOT_DEV" "$(mountinfo_field "$OUT" / source)"
expect_match "device, ro: / is read-only" "$(mountinfo_mntopts "$OUT" /)" '^ro(,|$)'
check_no_new_loop_mounts "device"
check_host_unchanged "device"
detach_image "$ROOT_DEV"

# --- btrfs, the root in a subvolume

truncate -s 256M "$T/btrfs.img"
mkfs.btrfs -q -f "$T/btrfs.img" >/dev/null
attach_image "$T/btrfs.img"
BTRFS_DEV=$LOOP
mkdir "$T/look"
mount "$BTRFS_DEV" "$T/look"
btrfs subvolume create "$T/look/@" >/dev/null
cp -a "$SRC/." "$T/look/@/"
echo '# no /boot here' >"$T/look/@/etc/fstab"
echo top-level >"$T/look/which"
umount "$T/look"

run_cmd "$ENTER" --root-device "$BTRFS_DEV" --root-options subvol=@ "$R" -- /bin/sh -c \
	'cat /etc/hostname; test -e /which && echo top || echo subvolume'
expect_ok "btrfs subvol=@: runs"
expect_eq "btrfs subvol=@: the subvolume is /" $'rootdevhost\nsubvolume' "$OUT"
check_host_unchanged "btrfs"

expect_status 125 "$ENTER" --root-device "$BTRFS_DEV" --root-options subvol=nosuch "$R" -- true
expect_one_line_error "btrfs, a subvolume that is not there" "mount $R"
check_host_unchanged "btrfs, bad subvolume"

# --- ROOT defaults to /mnt

run_cmd "$ENTER" --root-device "$T/root.img" --dry-run --json
expect_ok "default ROOT: --dry-run runs"
expect_jq "default ROOT: /mnt" '.root' '"/mnt"'

# --- --dry-run opens nothing, --check looks read-only

sum=$(sha256sum <"$T/root.img")
run_cmd "$ENTER" --root-device "$T/root.img" --dry-run "$R"
expect_ok "--dry-run: exit 0"
expect_contains "--dry-run: the root step" "$OUT" "mount     $T/root.img on / (ext4"
expect_contains "--dry-run: what comes once assembled" "$OUT" "then      the target's own"
after "--dry-run"
run_cmd "$ENTER" --root-device "$T/root.img" --check "$R"
expect_ok "--check: exit 0"
expect_contains "--check: the target's hostname" "$OUT" "rootdevhost"
expect_contains "--check: its /boot" "$OUT" "UUID=$BOOT_UUID"
after "--check"
expect_eq "--check, --dry-run: the image is unchanged" "$sum" "$(sha256sum <"$T/root.img")"

# --- bad devices

expect_status 125 "$ENTER" --root-device "$T/nosuch.img" "$R" -- true
expect_one_line_error "missing device" "$T/nosuch.img"
expect_status 125 "$ENTER" --root-device /dev/null "$R" -- true
expect_one_line_error "a character device" "not a block device or an image file"
truncate -s 16M "$T/empty.img"
expect_status 125 "$ENTER" --root-device "$T/empty.img" "$R" -- true
expect_one_line_error "no filesystem on it" "cannot tell the filesystem type"
expect_status 125 "$ENTER" --root-options subvol=@ "$R" -- true
after "bad devices"

# A generic Linux root on the device: not NixOS, 126 as for a directory.
rm "$SRC/etc/NIXOS"
make_ext4 "$T/generic.img" 64M "$(new_uuid)" "$(new_label generic)" "$SRC"
expect_status 126 "$ENTER" --root-device "$T/generic.img" "$R" -- true
run_cmd "$ENTER" --generic --root-device "$T/generic.img" "$R" -- /bin/busybox cat /etc/hostname
expect_eq "--generic: entered" rootdevhost "$OUT"
after "generic"

