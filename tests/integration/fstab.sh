#!/usr/bin/env bash
# fstab.sh: --fstab (enter(1) --fstab) mounts, inside only, every entry of the
# target's fstab except swap, noauto, network and pseudo filesystems, / itself
# and what is already mounted under ROOT; in fstab order, with the entry's
# options (btrfs subvol=, ro). Without --fstab only the /boot entries are.
# Sources are found by UUID= and LABEL= without udev; entries that are
# skipped are not even resolved (their UUIDs exist nowhere here).
#
# Images: ext4 for /boot, /boot/efi and /home, btrfs with a subvolume for /srv.
# shellcheck source=tests/integration/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

# libblkid's cache file is shared by every process on the machine, and
# trusts an entry probed less than 2 s ago: with loop devices reused between
# tests running side by side it can be wrong. Each test gets its own (the
# stale-cache case in boot.sh tests what enter does with a wrong one).
export BLKID_FILE=$T/blkid.tab

need_cmds mkfs.ext4 mkfs.btrfs btrfs losetup
need_fs ext4
need_fs btrfs

R=$T/root
make_root "$R"
mkdir -p "$R"/{boot,home,srv,net,mnt/noauto,mnt/cifs}

BOOT_UUID=$(new_uuid)
make_esp "$T/boot.img" 128M "$BOOT_UUID" "$(new_label boot)" esp-main
attach_image "$T/boot.img"
BOOT_DEV=$LOOP

EFI_UUID=$(new_uuid)
make_esp "$T/efi.img" 64M "$EFI_UUID" "$(new_label efi)" esp-efi
attach_image "$T/efi.img"
EFI_DEV=$LOOP

HOME_LABEL=$(new_label home)
mkdir "$T/home-src"
echo home-image >"$T/home-src/marker"
make_ext4 "$T/home.img" 64M "$(new_uuid)" "$HOME_LABEL" "$T/home-src"
attach_image "$T/home.img"
HOME_DEV=$LOOP

# btrfs: `which` says top at the top level, data in the subvolume data.
SRV_UUID=$(new_uuid)
truncate -s 256M "$T/srv.img"
mkfs.btrfs -q -f -U "$SRV_UUID" -L "$(new_label srv)" "$T/srv.img" >/dev/null
attach_image "$T/srv.img"
SRV_DEV=$LOOP
mkdir "$T/look"
mount "$SRV_DEV" "$T/look"
echo top >"$T/look/which"
btrfs subvolume create "$T/look/data" >/dev/null
echo data >"$T/look/data/which"
umount "$T/look"

# Skipped entries name devices that exist nowhere.
ROOT_MISSING=$(new_uuid)
SWAP_MISSING=$(new_uuid)
NOAUTO_MISSING=$(new_uuid)

write_fstab() {
	cat >"$R/etc/fstab" <<EOF
# /etc/fstab: written by fstab.sh
UUID=$ROOT_MISSING / ext4 defaults 0 1
UUID=$BOOT_UUID /boot ext4 defaults 0 2
UUID=$EFI_UUID /boot/efi ext4 defaults 0 2
LABEL=$HOME_LABEL /home ext4 defaults 0 2
UUID=$SRV_UUID /srv btrfs subvol=data,ro 0 0
UUID=$SWAP_MISSING none swap sw 0 0
/swapfile none swap defaults 0 0
UUID=$NOAUTO_MISSING /mnt/noauto ext4 noauto 0 0
server:/export /net nfs defaults 0 0
//server/share /mnt/cifs cifs guest 0 0
tmpfs /tmp tmpfs mode=1777 0 0
proc /proc proc defaults 0 0
EOF
}
write_fstab

# after_run DESC: nothing of the run is left in the host namespace.
after_run() {
	check_no_new_loop_mounts "$1"
	check_host_unchanged "$1"
}

devno() {
	stat -c '%Hr:%Lr' "$1"
}

swaps_before=$(cat /proc/swaps)

# --- --fstab

run_cmd "$ENTER" --fstab "$R" -- cat /proc/self/mountinfo
expect_ok "--fstab: runs (skipped entries are not resolved)"
MI=$OUT
after_run "--fstab"

expect_eq "--fstab: one mount on /boot" 1 "$(mount_count "$MI" /boot)"
expect_eq "--fstab: /boot is the boot image" "$(devno "$BOOT_DEV")" "$(mountinfo_field "$MI" /boot dev)"
expect_eq "--fstab: one mount on /boot/efi" 1 "$(mount_count "$MI" /boot/efi)"
expect_eq "--fstab: /boot/efi is the efi image" "$(devno "$EFI_DEV")" "$(mountinfo_field "$MI" /boot/efi dev)"
expect_eq "--fstab: one mount on /home (LABEL=)" 1 "$(mount_count "$MI" /home)"
expect_eq "--fstab: /home is the home image" ext4 "$(mountinfo_field "$MI" /home fstype)"
expect_eq "--fstab: /home is from the home image's device" "$HOME_DEV" "$(mountinfo_field "$MI" /home source)"
expect_eq "--fstab: one mount on /srv" 1 "$(mount_count "$MI" /srv)"
expect_eq "--fstab: /srv is btrfs" btrfs "$(mountinfo_field "$MI" /srv fstype)"
expect_match "--fstab: /srv has subvol=/data" "$(mountinfo_field "$MI" /srv superopts)" '(^|,)subvol=/data(,|$)'
expect_match "--fstab: /srv (ro in fstab) is read-only" "$(mountinfo_mntopts "$MI" /srv)" '^ro(,|$)'
expect_match "--fstab: /home (defaults) is read-write" "$(mountinfo_mntopts "$MI" /home)" '^rw(,|$)'
expect_eq "--fstab: noauto /mnt/noauto not mounted" 0 "$(mount_count "$MI" /mnt/noauto)"
expect_eq "--fstab: nfs /net not mounted" 0 "$(mount_count "$MI" /net)"
expect_eq "--fstab: cifs /mnt/cifs not mounted" 0 "$(mount_count "$MI" /mnt/cifs)"
expect_ne "--fstab: tmpfs /tmp not mounted" tmpfs "$(mountinfo_field "$MI" /tmp fstype)"
expect_eq "--fstab: proc on /proc not mounted twice" 1 "$(mount_count "$MI" /proc)"
expect_eq "--fstab: / not mounted over" 1 "$(mount_count "$MI" /)"
expect_eq "--fstab: no swap turned on" "$swaps_before" "$(cat /proc/swaps)"

run_cmd "$ENTER" --fstab "$R" -- cat /boot/loader/entries/marker.conf \
	/boot/efi/loader/entries/marker.conf /home/marker /srv/which
expect_eq "--fstab: the markers of /boot, /boot/efi (after /boot), /home, /srv (the subvolume)" \
	$'esp-main\nesp-efi\nhome-image\ndata' "$OUT"
after_run "--fstab, markers"

run_cmd "$ENTER" --fstab "$R" -- /bin/sh -c 'echo x >/srv/new'
expect_ne "--fstab: writing to /srv (ro) fails" 0 "$STATUS"
run_cmd "$ENTER" --fstab "$R" -- /bin/sh -c 'echo x >/home/new'
expect_ok "--fstab: writing to /home (rw) works"
after_run "--fstab, writes"
mount -o ro "$SRV_DEV" "$T/look"
check "--fstab: nothing was written to the btrfs subvolume" test ! -e "$T/look/data/new"
umount "$T/look"
mount -o ro "$HOME_DEV" "$T/look"
check "--fstab: the write to /home is on the home image" test -e "$T/look/new"
umount "$T/look"

# --- without --fstab: the /boot entries only

run_cmd "$ENTER" "$R" -- cat /proc/self/mountinfo
expect_ok "no --fstab: runs"
MI=$OUT
expect_eq "no --fstab: one mount on /boot" 1 "$(mount_count "$MI" /boot)"
expect_eq "no --fstab: one mount on /boot/efi" 1 "$(mount_count "$MI" /boot/efi)"
expect_eq "no --fstab: /home not mounted" 0 "$(mount_count "$MI" /home)"
expect_eq "no --fstab: /srv not mounted" 0 "$(mount_count "$MI" /srv)"
run_cmd "$ENTER" "$R" -- /bin/sh -c 'ls -A /home; ls -A /srv'
expect_eq "no --fstab: /home and /srv are ROOT's empty directories" "" "$OUT"
after_run "no --fstab"

# --- /home already mounted under ROOT: not mounted twice

mount "$HOME_DEV" "$R/home"
before=$(host_mounts)
before_loops=$(loop_mounts)
run_cmd "$ENTER" --fstab "$R" -- cat /proc/self/mountinfo
expect_ok "/home already mounted: --fstab runs"
expect_eq "/home already mounted: exactly one mount on /home" 1 "$(mount_count "$OUT" /home)"
expect_eq "/home already mounted: /srv still mounted" 1 "$(mount_count "$OUT" /srv)"
run_cmd "$ENTER" --fstab "$R" -- cat /home/marker
expect_eq "/home already mounted: the home image is seen" home-image "$OUT"
expect_eq "/home already mounted: host mount table unchanged" "$before" "$(host_mounts)"
check_no_new_loop_mounts "/home already mounted" "$before_loops"
umount "$R/home"

# --- --dry-run --fstab: the plan names each mount and its source, mounts nothing

# plan_names DESC TARGET SOURCE...: a line of the last stdout names TARGET as
# a path and one of the SOURCEs.
plan_names() {
	local desc=$1 target=$2 line src
	shift 2
	while IFS= read -r line; do
		names_path "$line" "$target" || continue
		for src in "$@"; do
			if [[ $line == *"$src"* ]]; then
				pass "$desc"
				return
			fi
		done
	done <<<"$OUT"
	fail "$desc" "expected a line naming $target and one of: $*" "stdout: $OUT"
}

before=$(snapshot "$R")
run_cmd "$ENTER" --dry-run --fstab "$R"
expect_ok "--dry-run --fstab: exits 0"
plan_names "--dry-run --fstab: /boot and its source" /boot "UUID=$BOOT_UUID" "$BOOT_DEV"
plan_names "--dry-run --fstab: /boot/efi and its source" /boot/efi "UUID=$EFI_UUID" "$EFI_DEV"
plan_names "--dry-run --fstab: /home and its source" /home "LABEL=$HOME_LABEL" "$HOME_DEV"
plan_names "--dry-run --fstab: /srv and its source" /srv "UUID=$SRV_UUID" "$SRV_DEV"
expect_eq "--dry-run --fstab: nothing changed in ROOT" "$before" "$(snapshot "$R")"
after_run "--dry-run --fstab"

run_cmd "$ENTER" --dry-run "$R"
expect_ok "--dry-run: exits 0"
plan_names "--dry-run: /boot and its source" /boot "UUID=$BOOT_UUID" "$BOOT_DEV"
after_run "--dry-run"

# --- errors: a missing source names the line; a symlink mount point is refused

HOME_MISSING=nohome$RANDOM
sed -i "s/^LABEL=$HOME_LABEL /LABEL=$HOME_MISSING /" "$R/etc/fstab"
run_cmd "$ENTER" --fstab "$R" -- /bin/sh -c 'echo ran'
expect_eq "--fstab, missing LABEL= for /home: exit 125" 125 "$STATUS"
expect_one_line_error "--fstab, missing LABEL= for /home: one-line error" /home
expect_contains "--fstab, missing LABEL= for /home: names the source" "$ERR" "LABEL=$HOME_MISSING"
expect_match "--fstab, missing LABEL= for /home: names line 5" "$ERR" 'etc/fstab line 5([^0-9]|$)'
expect_eq "--fstab, missing LABEL= for /home: the command did not run" "" "$OUT"
after_run "--fstab, missing LABEL="

run_cmd "$ENTER" "$R" -- /bin/sh -c 'echo ran'
expect_ok "no --fstab, missing LABEL= for /home: not looked at, runs"
write_fstab

# symlink_case NAME MOUNTPOINT LINK_TARGET: ROOT/MOUNTPOINT -> LINK_TARGET with
# --fstab is refused, naming MOUNTPOINT; nothing outside ROOT, nor ROOT/etc,
# changes. ROOT is $C/a/b/root so that ../../etc on the host is $C/a/etc.
symlink_case() {
	local name=$1 mp=$2 target=$3 C R before_out before_etc desc
	C=$T/hostile-$name
	R=$C/a/b/root
	desc="--fstab, $mp -> $target"
	mkdir -p "$C/canary" "$C/a/etc"
	echo canary >"$C/canary/file"
	echo host-etc >"$C/a/etc/file"
	make_root "$R"
	mkdir -p "$R"/{boot,home,srv}
	cp "$T/root/etc/fstab" "$R/etc/fstab"
	rmdir "$R$mp"
	ln -s "$target" "$R$mp"
	before_out=$(cd "$C" && find . -xdev -path ./a/b/root -prune -o -printf '%p %y %m %s %l\n' | sort)
	before_etc=$(snapshot "$R/etc")
	run_cmd "$ENTER" --fstab "$R" -- /bin/sh -c 'echo ran'
	expect_eq "$desc: exit 125" 125 "$STATUS"
	expect_one_line_error "$desc: one-line error" "$mp"
	if names_path "$ERR" "$mp"; then
		pass "$desc: the error names $mp as a path of its own"
	else
		fail "$desc: the error names $mp as a path of its own" "stderr: $ERR"
	fi
	expect_eq "$desc: the command did not run" "" "$OUT"
	expect_eq "$desc: nothing changed outside ROOT" "$before_out" \
		"$(cd "$C" && find . -xdev -path ./a/b/root -prune -o -printf '%p %y %m %s %l\n' | sort)"
	expect_eq "$desc: ROOT/etc unchanged" "$before_etc" "$(snapshot "$R/etc")"
	after_run "$desc"
}

symlink_case srv-up /srv ../../etc
symlink_case home-slash /home /

# --- nofail, as at boot: an entry that cannot be mounted is a warning and
# the system is entered without it; the same entry without nofail stops.

N=$T/nofail
make_root "$N"
mkdir -p "$N/data" "$N/wrongtype"
NOFAIL_MISSING=$(new_uuid)
cat >"$N/etc/fstab" <<EOF2
UUID=$NOFAIL_MISSING /data ext4 defaults,nofail 0 2
LABEL=$HOME_LABEL /wrongtype btrfs nofail 0 2
LABEL=$HOME_LABEL /home ext4 defaults 0 2
EOF2
run_cmd "$ENTER" --boot none --fstab "$N" -- /bin/sh -c 'cat /home/marker; ls -A /data'
expect_ok "nofail, source missing or wrong type: enter runs"
expect_eq "nofail: the other entries are mounted" home-image "$OUT"
expect_match "nofail, source missing: a warning naming the entry" "$ERR" \
	"enter: warning: mount /data \\(UUID=$NOFAIL_MISSING from .*line 1\\): source not found; nofail"
expect_match "nofail, cannot be mounted: a warning naming the entry" "$ERR" \
	"enter: warning: mount /wrongtype .*line 2.*; nofail, so entering without it"
run_cmd "$ENTER" --boot none --fstab "$N" --check
expect_ok "nofail: --check finds no problem"
expect_match "nofail: --check says it is not mounted" "$OUT" '^mount +/data .*missing \(nofail'
run_cmd "$ENTER" --boot none --fstab "$N" --check --json
expect_ok "nofail: --check --json finds no problem"
if jq -e '.warnings | any(contains("mount /data") and contains("nofail"))' "$T/stdout" >/dev/null; then
	pass "nofail: --check lists the warning a run gives"
else
	fail "nofail: --check lists the warning a run gives" "stdout: $OUT"
fi
sed -i 's/defaults,nofail/defaults/' "$N/etc/fstab"
run_cmd "$ENTER" --boot none --fstab "$N" -- /bin/true
expect_eq "without nofail, source missing: exit 125" 125 "$STATUS"
expect_one_line_error "without nofail: one line naming /data" /data
after_run "nofail"

# --- a mount point whose parents are missing too: each is a step of the
# plan, made where the run makes it

P=$T/parents
make_root "$P"
printf 'LABEL=%s /srv/deep/home ext4 defaults 0 2\n' "$HOME_LABEL" >"$P/etc/fstab"
run_cmd "$ENTER" --boot none --fstab --dry-run "$P"
expect_ok "missing parents: --dry-run exits 0"
expect_match "missing parents: a mkdir step for the parent" "$OUT" '^mkdir +/srv/deep \(mode 0755\)'
expect_match "missing parents: a mkdir step for the mount point" "$OUT" \
	'^mkdir +/srv/deep/home \(mode 0755\)'
run_cmd "$ENTER" --boot none --fstab "$P" -- /bin/sh -c 'cat /srv/deep/home/marker'
expect_ok "missing parents: enter runs"
expect_eq "missing parents: the filesystem is mounted there" home-image "$OUT"
after_run "missing parents"
