#!/usr/bin/env bash
# esp.sh ENTER MKROOT (inside the VM, /dev/vda blank): a GPT disk with a
# vfat ESP and an ext4 root, as a NixOS installer partitions one; enter
# --root-device mounts the root and /boot from the target's fstab by
# PARTLABEL, then by PARTUUID, without udev (no /dev/disk/by-* links).
# shellcheck source=tests/vm/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

sgdisk -n1:0:+64M -t1:ef00 -c1:disk-x-ESP -n2:0:+512M -t2:8300 -c2:disk-x-root /dev/vda >/dev/null
# No udev: the kernel rereads the table, as partprobe asks it, and
# devtmpfs makes the nodes.
blockdev --rereadpt /dev/vda
for _ in $(seq 100); do
	[[ -b /dev/vda1 && -b /dev/vda2 ]] && break
	sleep 0.05
done
if [[ -b /dev/vda1 && -b /dev/vda2 ]]; then
	pass "the kernel shows the partitions"
else
	fail "the kernel shows the partitions" "$(ls -l /dev/vd*; cat /proc/partitions)"
	finish
fi
mkfs.vfat -n ESP /dev/vda1 >/dev/null
mkdir -p "$T/esp" && mount /dev/vda1 "$T/esp" && mkdir -p "$T/esp/loader/entries"
echo on-the-esp >"$T/esp/loader/entries/marker.conf"
umount "$T/esp"
bash "$MKROOT" "$T/src" >/dev/null
mkdir -p "$T/src/boot"
echo 'PARTLABEL=disk-x-ESP /boot vfat umask=0077 0 2' >"$T/src/etc/fstab"
mkfs.ext4 -q -d "$T/src" /dev/vda2
check_without_udev() {
	[[ ! -e /dev/disk/by-partlabel ]] && pass "$1: no udev links" || fail "$1: no udev links"
}
before=$(vm_state)

check_without_udev "PARTLABEL"
run_cmd "$ENTER" --root-device /dev/vda2 /mnt -- /bin/sh -c \
	'cat /boot/loader/entries/marker.conf; grep " /boot " /proc/mounts'
expect_ok "PARTLABEL: entered"
expect_eq "PARTLABEL: the ESP's file" on-the-esp "$(sed -n 1p <<<"$OUT")"
expect_eq "PARTLABEL: /boot is the vfat of /dev/vda1" "/dev/vda1 /boot vfat" \
	"$(sed -n 2p <<<"$OUT" | cut -d' ' -f1-3)"
expect_eq "PARTLABEL: nothing left" "$before" "$(vm_state)"

partuuid=$(blkid -s PARTUUID -o value /dev/vda1)
mkdir -p "$T/r" && mount /dev/vda2 "$T/r"
echo "PARTUUID=$partuuid /boot vfat umask=0077 0 2" >"$T/r/etc/fstab"
umount "$T/r"
run_cmd "$ENTER" --root-device /dev/vda2 /mnt -- cat /boot/loader/entries/marker.conf
expect_ok "PARTUUID: entered"
expect_eq "PARTUUID: the ESP's file" on-the-esp "$OUT"
expect_eq "PARTUUID: nothing left" "$before" "$(vm_state)"
finish
