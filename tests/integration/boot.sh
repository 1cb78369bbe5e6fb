#!/usr/bin/env bash
# boot.sh: the target's /boot (enter(1) --boot). --boot auto (the default) mounts
# the /boot, /boot/efi and /efi entries of ROOT/etc/fstab, found by UUID=,
# LABEL= or /dev/disk/by-uuid/ although this machine has no udev; --boot none
# mounts none; --boot SRC mounts a block device or an image file, or binds a
# directory. What is already mounted at ROOT/boot is kept. A source that
# cannot be found, or a filesystem that cannot be mounted, is a one-line
# error naming the fstab line (exit 125); a /boot that is a symlink is
# refused; a /boot with less than --boot-min-free free is a warning and the
# command still runs.
#
# The "ESPs" are ext4 images on loop devices (the kernel here has no vfat);
# loader/entries/marker.conf on each says, from inside, which one /boot is.
# shellcheck source=tests/integration/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

# libblkid's cache file is shared by every process on the machine, and
# trusts an entry probed less than 2 s ago: with loop devices reused between
# tests running side by side it can be wrong. Each test gets its own (the
# stale-cache case in boot.sh tests what enter does with a wrong one).
export BLKID_FILE=$T/blkid.tab

need_cmds mkfs.ext4 losetup blkid
need_fs ext4

MARKER=/boot/loader/entries/marker.conf

R=$T/root
make_root "$R"
mkdir "$R/boot" "$R/efi"

# The main ESP: 128 MiB, well above the default --boot-min-free of 64 MiB.
ESP_UUID=$(new_uuid)
ESP_LABEL=$(new_label esp)
make_esp "$T/esp.img" 128M "$ESP_UUID" "$ESP_LABEL" esp-main
attach_image "$T/esp.img"
ESP_DEV=$LOOP

# A second one, for /boot/efi, /efi and --boot /dev/loopN.
EFI_UUID=$(new_uuid)
make_esp "$T/efi.img" 64M "$EFI_UUID" "$(new_label efi)" esp-efi
attach_image "$T/efi.img"
EFI_DEV=$LOOP

# A full one: 40 MiB, about 30 MiB free, below the default 64 MiB.
FULL_UUID=$(new_uuid)
make_esp "$T/full.img" 40M "$FULL_UUID" "$(new_label full)" esp-full
attach_image "$T/full.img"
FULL_DEV=$LOOP

# An image file enter attaches itself (--boot IMAGEFILE), never attached here.
make_esp "$T/file.img" 64M "$(new_uuid)" "$(new_label file)" esp-file

# A host directory for --boot DIR.
HOSTBOOT=$T/hostboot
mkdir -p "$HOSTBOOT/loader/entries"
echo esp-dir >"$HOSTBOOT/loader/entries/marker.conf"

# The fixture itself: libblkid finds the images without udev.
expect_eq "fixture: blkid finds the ESP by UUID" "$ESP_DEV" "$(blkid -U "$ESP_UUID" || true)"
expect_eq "fixture: blkid finds the ESP by LABEL" "$ESP_DEV" "$(blkid -L "$ESP_LABEL" || true)"
check "fixture: there is no /dev/disk/by-uuid (no udev)" test ! -e "/dev/disk/by-uuid/$ESP_UUID"

# fstab [ROOT]: ROOT/etc/fstab (default $R) from stdin.
fstab() {
	cat >"${1:-$R}/etc/fstab"
}

# after_run DESC: nothing of the run is left in the host namespace.
after_run() {
	check_no_new_loop_mounts "$1"
	check_host_unchanged "$1"
}

# sees_marker DESC WANT ENTER_ARG...: `enter ENTER_ARG... -- cat $MARKER`
# exits 0 and prints WANT: /boot inside is the filesystem marked WANT.
sees_marker() {
	local desc=$1 want=$2
	shift 2
	run_cmd "$ENTER" "$@" -- cat "$MARKER"
	if [[ $STATUS == 0 && $OUT == "$want" ]]; then
		pass "$desc: /boot inside is $want"
	else
		fail "$desc: /boot inside is $want" "$(last_run)"
	fi
	after_run "$desc"
}

# refused_125 DESC WORD...: the last run exited 125 with one line on stderr
# naming every WORD, and the command did not run.
refused_125() {
	local desc=$1 word
	shift
	if [[ $STATUS == 125 ]]; then
		pass "$desc: exit 125"
	else
		fail "$desc: exit 125" "$(last_run)"
	fi
	expect_one_line_error "$desc: one-line error" "$1"
	for word in "$@"; do
		expect_contains "$desc: the error names $word" "$ERR" "$word"
	done
	expect_eq "$desc: the command did not run" "" "$OUT"
}

# --- the /boot entry of the target's fstab, three ways of naming it

fstab <<EOF
# /etc/fstab: written by boot.sh
UUID=$ESP_UUID /boot ext4 defaults 0 2
EOF
sees_marker "fstab UUID=" esp-main "$R"
sees_marker "fstab UUID=, --boot auto" esp-main --boot auto "$R"

fstab <<EOF
LABEL=$ESP_LABEL /boot ext4 defaults 0 2
EOF
sees_marker "fstab LABEL=" esp-main "$R"

fstab <<EOF
/dev/disk/by-uuid/$ESP_UUID /boot ext4 defaults 0 2
EOF
sees_marker "fstab /dev/disk/by-uuid/ (no udev)" esp-main "$R"

fstab <<EOF
/dev/disk/by-label/$ESP_LABEL /boot ext4 defaults 0 2
EOF
sees_marker "fstab /dev/disk/by-label/ (no udev)" esp-main "$R"

# --- noauto: systemd mounts such a /boot at the first access
# (x-systemd.automount); --boot auto mounts it all the same, as installing
# the boot loader needs it.

fstab <<EOF
UUID=$ESP_UUID /boot ext4 x-systemd.automount,noauto,x-systemd.idle-timeout=1min 0 2
EOF
sees_marker "fstab /boot noauto,x-systemd.automount" esp-main "$R"

# --- a /boot that binds another directory: enter does not make it, and
# says so, in --check and when a command needs /boot

fstab <<EOF
/efi/EFI/nixos /boot none bind 0 0
EOF
run_cmd "$ENTER" "$R" --check
expect_eq "fstab /boot bind: --check exits 1" 1 "$STATUS"
expect_match "fstab /boot bind: --check names the line and why" "$OUT" \
	"^problem +/boot: .*etc/fstab line 1 is a bind mount, which enter does not mount"
expect_match "fstab /boot bind: --check: /boot free unknown, not ROOT's" "$OUT" "^/boot free +unknown\$"

# --- nothing mounted on /boot: its free space is unknown, not that of the
# filesystem holding ROOT

fstab <<EOF
UUID=$ESP_UUID /boot ext4 defaults 0 2
EOF
run_cmd "$ENTER" --boot none "$R" --check
expect_eq "--boot none, --check: exit 0" 0 "$STATUS"
expect_match "--boot none, --check: /boot free unknown" "$OUT" "^/boot free +unknown\$"
run_cmd "$ENTER" --boot none --boot-min-free 1000G "$R" -- /bin/busybox true
expect_ok "--boot none --boot-min-free 1000G: the command ran"
expect_not_contains "--boot none --boot-min-free 1000G: no warning about ROOT's free space" \
	"$ERR" "free"

# --- a stale libblkid cache file
#
# libblkid trusts an entry of its cache file probed less than 2 s ago without
# reading the device again, and loop devices (or USB disks) are reused faster
# than that: between two tests, a device can hold another image than the
# cache says. BLKID_FILE points enter's libblkid at a cache written here, as
# of now, that swaps the two images' UUIDs: the ESP's UUID must still find
# the ESP, neither the wrong image nor "no such device".

# plant_stale_cache: write $T/stale-blkid.tab, timestamped now.
plant_stale_cache() {
	local now=${EPOCHREALTIME%[.,]*} dev uuid
	: >"$T/stale-blkid.tab"
	for dev in "$ESP_DEV" "$EFI_DEV"; do
		uuid=$ESP_UUID
		[[ $dev == "$ESP_DEV" ]] && uuid=$EFI_UUID
		printf '<device DEVNO="0x%02x%02x" TIME="%s.0" UUID="%s" TYPE="ext4">%s</device>\n' \
			"0x$(stat -c %t "$dev")" "0x$(stat -c %T "$dev")" "$now" "$uuid" "$dev" >>"$T/stale-blkid.tab"
	done
}

fstab <<EOF
UUID=$ESP_UUID /boot ext4 defaults 0 2
EOF
plant_stale_cache
expect_eq "fixture: the planted cache fools libblkid (blkid -U gives the wrong device)" \
	"$EFI_DEV" "$(BLKID_FILE=$T/stale-blkid.tab blkid -U "$ESP_UUID" || true)"
plant_stale_cache
run_cmd env BLKID_FILE="$T/stale-blkid.tab" "$ENTER" "$R" -- cat "$MARKER"
if [[ $STATUS == 0 && $OUT == esp-main ]]; then
	pass "stale blkid cache: /boot inside is esp-main"
else
	fail "stale blkid cache: /boot inside is esp-main" "$(last_run)"
fi
expect_ne "stale blkid cache: never the wrong image" esp-efi "$OUT"
after_run "stale blkid cache"

# --- what --boot auto mounts, what it does not

fstab <<EOF
UUID=$ESP_UUID /boot ext4 defaults 0 2
EOF
run_cmd "$ENTER" "$R" -- cat /proc/self/mountinfo
expect_ok "fstab UUID=: enter R -- cat /proc/self/mountinfo runs"
expect_eq "fstab UUID=: one mount on /boot inside" 1 "$(mount_count "$OUT" /boot)"
expect_eq "fstab UUID=: /boot is ext4" ext4 "$(mountinfo_field "$OUT" /boot fstype)"
expect_eq "fstab UUID=: /boot is the ESP's device" \
	"$(stat -c '%Hr:%Lr' "$ESP_DEV")" "$(mountinfo_field "$OUT" /boot dev)"
expect_eq "fstab UUID=: nothing on /efi" 0 "$(mount_count "$OUT" /efi)"
after_run "fstab UUID=, mountinfo"

run_cmd "$ENTER" "$R" -- /bin/sh -c 'echo ran >&2'
expect_ok "fstab UUID=, 128M /boot: runs"
expect_no_match "fstab UUID=, 128M /boot: no free-space warning" "$ERR" '[Ff]ree'

# A file written to /boot inside lands on the image, not in ROOT/boot.
run_cmd "$ENTER" "$R" -- /bin/sh -c 'echo x >/boot/written'
expect_ok "write to /boot inside: runs"
after_run "write to /boot inside"
check "write to /boot inside: not in ROOT/boot on disk" test ! -e "$R/boot/written"
mkdir "$T/look"
mount -o ro "$ESP_DEV" "$T/look"
expect_eq "write to /boot inside: the file is on the image" x "$(cat "$T/look/written" 2>&1)"
umount "$T/look"

fstab <<EOF
UUID=$ESP_UUID /boot ext4 defaults 0 2
UUID=$EFI_UUID /boot/efi ext4 defaults 0 2
EOF
run_cmd "$ENTER" "$R" -- cat $MARKER /boot/efi/loader/entries/marker.conf
expect_eq "fstab /boot and /boot/efi: both mounted, in order" $'esp-main\nesp-efi' "$OUT"
after_run "fstab /boot and /boot/efi"

fstab <<EOF
UUID=$EFI_UUID /efi ext4 defaults 0 2
EOF
run_cmd "$ENTER" "$R" -- cat /efi/loader/entries/marker.conf
expect_eq "fstab /efi: mounted" esp-efi "$OUT"
after_run "fstab /efi"

# --- --boot none

fstab <<EOF
UUID=$ESP_UUID /boot ext4 defaults 0 2
UUID=$EFI_UUID /efi ext4 defaults 0 2
EOF
run_cmd "$ENTER" --boot none "$R" -- ls -A /boot
expect_ok "--boot none: runs"
expect_eq "--boot none: /boot is ROOT's empty directory" "" "$OUT"
run_cmd "$ENTER" --boot none "$R" -- cat /proc/self/mountinfo
expect_eq "--boot none: no mount on /boot" 0 "$(mount_count "$OUT" /boot)"
expect_eq "--boot none: no mount on /efi" 0 "$(mount_count "$OUT" /efi)"
after_run "--boot none"

# --- --boot SRC: it wins over the fstab entry

sees_marker "--boot /dev/loopN" esp-efi --boot "$EFI_DEV" "$R"
sees_marker "--boot IMAGEFILE" esp-file --boot "$T/file.img" "$R"
wait_detached "$T/file.img" 10
before=$(snapshot "$HOSTBOOT")
sees_marker "--boot DIR" esp-dir --boot "$HOSTBOOT" "$R"
expect_eq "--boot DIR: the host directory is unchanged" "$before" "$(snapshot "$HOSTBOOT")"

fstab <<EOF
# no /boot entry
EOF
sees_marker "--boot /dev/loopN, no fstab entry" esp-efi --boot "$EFI_DEV" "$R"

run_cmd "$ENTER" --boot "$T/no-such-esp" "$R" -- /bin/sh -c 'echo ran'
refused_125 "--boot MISSING" "$T/no-such-esp"
after_run "--boot MISSING"

# --- /boot already mounted under ROOT: kept, nothing stacked on it

fstab <<EOF
UUID=$ESP_UUID /boot ext4 defaults 0 2
EOF
mount "$ESP_DEV" "$R/boot"
before=$(host_mounts)
before_loops=$(loop_mounts)
run_cmd "$ENTER" "$R" -- cat /proc/self/mountinfo
expect_ok "/boot already mounted: runs"
expect_eq "/boot already mounted: exactly one mount on /boot inside" 1 "$(mount_count "$OUT" /boot)"
run_cmd "$ENTER" "$R" -- cat "$MARKER"
expect_eq "/boot already mounted: /boot inside is esp-main" esp-main "$OUT"
expect_eq "/boot already mounted: host mount table unchanged" "$before" "$(host_mounts)"
check_no_new_loop_mounts "/boot already mounted" "$before_loops"
umount "$R/boot"

# Whatever is mounted there is kept, even when it is not the fstab's device.
mount -t tmpfs -o size=1m tmpfs "$R/boot"
mkdir -p "$R/boot/loader/entries"
echo boot-tmpfs >"$R/boot/loader/entries/marker.conf"
before=$(host_mounts)
run_cmd "$ENTER" "$R" -- cat /proc/self/mountinfo
expect_eq "tmpfs already on /boot: exactly one mount on /boot inside" 1 "$(mount_count "$OUT" /boot)"
run_cmd "$ENTER" "$R" -- cat "$MARKER"
expect_eq "tmpfs already on /boot: /boot inside is that tmpfs" boot-tmpfs "$OUT"
expect_eq "tmpfs already on /boot: host mount table unchanged" "$before" "$(host_mounts)"
# --boot SRC is not used then: said, not silently dropped.
run_cmd "$ENTER" --boot "$ESP_DEV" "$R" -- cat "$MARKER"
expect_eq "tmpfs already on /boot, --boot DEV: /boot inside is still that tmpfs" boot-tmpfs "$OUT"
expect_contains "tmpfs already on /boot, --boot DEV: a warning says it is not used" "$ERR" \
	"enter: warning: --boot $ESP_DEV: not used, something is mounted on $R/boot already"
umount "$R/boot"

# Two /boot lines: the second is mounted over the first, which a warning says.
fstab <<EOF
LABEL=$ESP_LABEL /boot ext4 defaults 0 2
UUID=$ESP_UUID /boot ext4 defaults 0 2
EOF
run_cmd "$ENTER" "$R" -- cat "$MARKER"
expect_ok "two /boot lines: runs"
expect_contains "two /boot lines: a warning names both lines" "$ERR" \
	"enter: warning: $R/etc/fstab lines 1 and 2 both mount /boot: the second is mounted over the first"

# --- a source that cannot be found: one line naming mount point, source, line

MISSING_UUID=$(new_uuid)
fstab <<EOF
# /etc/fstab: static file system information.
#
# <file system> <mount point> <type> <options> <dump> <pass>

# the ESP, on a disk that is not there
tmpfs /tmp tmpfs mode=1777 0 0
UUID=$MISSING_UUID /boot ext4 defaults 0 2
EOF
run_cmd "$ENTER" "$R" -- /bin/sh -c 'echo ran'
refused_125 "missing UUID= on line 7" /boot "UUID=$MISSING_UUID" "etc/fstab line 7"
expect_match "missing UUID= on line 7: says 'line 7', not another line" "$ERR" 'line 7([^0-9]|$)'
after_run "missing UUID="

fstab <<EOF
# one comment
LABEL=nolabel$RANDOM /boot ext4 defaults 0 2
EOF
run_cmd "$ENTER" "$R" -- /bin/sh -c 'echo ran'
refused_125 "missing LABEL= on line 2" /boot LABEL=nolabel "etc/fstab line 2"
after_run "missing LABEL="

fstab <<EOF
/dev/disk/by-uuid/$MISSING_UUID /boot ext4 defaults 0 2
EOF
run_cmd "$ENTER" "$R" -- /bin/sh -c 'echo ran'
refused_125 "missing /dev/disk/by-uuid/ on line 1" /boot "/dev/disk/by-uuid/$MISSING_UUID" "etc/fstab line 1"
after_run "missing /dev/disk/by-uuid/"

# A filesystem that cannot be mounted (ext4 declared xfs): also before the command.
fstab <<EOF
#
#
UUID=$ESP_UUID /boot xfs defaults 0 2
EOF
run_cmd "$ENTER" "$R" -- /bin/sh -c 'echo ran'
refused_125 "unmountable /boot on line 3" /boot "etc/fstab line 3"
after_run "unmountable /boot"

# --- a /boot that is a symlink is refused, wherever it points
#
# As in hostile.sh, ROOT is $C/a/b/root, so that boot -> ../../etc followed
# on the host lands in $C/a/etc, next to the canary.

# hostile_case NAME LINK_TARGET [ENTER_ARG...]
hostile_case() {
	local name=$1 target=$2 C R before_out before_etc desc
	shift 2
	desc="boot -> $target${*:+ ($*)}"
	desc=${desc//"$T"/\$T}
	C=$T/hostile-$name
	R=$C/a/b/root
	mkdir -p "$C/canary" "$C/a/etc"
	echo canary >"$C/canary/file"
	echo host-etc >"$C/a/etc/file"
	make_root "$R"
	fstab "$R" <<-EOF
		UUID=$ESP_UUID /boot ext4 defaults 0 2
	EOF
	ln -s "$target" "$R/boot"
	before_out=$(cd "$C" && find . -xdev -path ./a/b/root -prune -o -printf '%p %y %m %s %l\n' | sort)
	before_etc=$(snapshot "$R/etc")
	run_cmd "$ENTER" "$@" "$R" -- /bin/sh -c 'echo ran'
	refused_125 "$desc" /boot
	if names_path "$ERR" /boot; then
		pass "$desc: the error names /boot as a path of its own"
	else
		fail "$desc: the error names /boot as a path of its own" "stderr: $ERR"
	fi
	expect_eq "$desc: nothing changed outside ROOT" "$before_out" \
		"$(cd "$C" && find . -xdev -path ./a/b/root -prune -o -printf '%p %y %m %s %l\n' | sort)"
	expect_eq "$desc: ROOT/etc unchanged" "$before_etc" "$(snapshot "$R/etc")"
	expect_eq "$desc: the symlink is still there" "$target" "$(readlink "$R/boot")"
	after_run "$desc"
}

hostile_case up ../../etc
hostile_case slash /
hostile_case slash-etc /etc
hostile_case up-dir ../../etc --boot "$HOSTBOOT"
hostile_case slash-dev / --boot "$EFI_DEV"

# --- free space on /boot

fstab <<EOF
UUID=$FULL_UUID /boot ext4 defaults 0 2
EOF
free=$(
	mkdir -p "$T/look"
	mount -o ro "$FULL_DEV" "$T/look"
	avail_bytes "$T/look"
	umount "$T/look"
)
if ((free < 64 * 1024 * 1024)); then
	pass "fixture: the 40M image has less than 64 MiB free ($free bytes)"
else
	fail "fixture: the 40M image has less than 64 MiB free" "free: $free bytes"
fi

# warned DESC: the last run exited 0, and a stderr line naming /boot and
# "free" came before the command's own stderr line "command-ran".
warned() {
	local warn_line ran_line
	expect_ok "$1: the command ran, exit 0"
	warn_line=$(awk '/\/boot/ && tolower($0) ~ /free/ { print NR; exit }' "$T/stderr")
	ran_line=$(awk '$0 == "command-ran" { print NR; exit }' "$T/stderr")
	if [[ -n $warn_line ]]; then
		pass "$1: a warning on stderr names /boot and free space"
	else
		fail "$1: a warning on stderr names /boot and free space" "$(last_run)"
	fi
	if [[ -n $warn_line && -n $ran_line ]] && ((warn_line < ran_line)); then
		pass "$1: the warning comes before the command runs"
	else
		fail "$1: the warning comes before the command runs" "$(last_run)"
	fi
}

# not_warned DESC: the last run exited 0 with no word of free space.
not_warned() {
	expect_ok "$1: the command ran, exit 0"
	expect_no_match "$1: no free-space warning" "$ERR" '[Ff]ree'
}

RAN=(/bin/sh -c 'echo command-ran >&2')

run_cmd "$ENTER" "$R" -- "${RAN[@]}"
warned "40M /boot, default --boot-min-free"
after_run "40M /boot"

run_cmd "$ENTER" "$R" -- /bin/sh -c 'exit 3'
expect_eq "40M /boot: the exit status is the command's" 3 "$STATUS"

run_cmd "$ENTER" --boot-min-free 10M "$R" -- "${RAN[@]}"
not_warned "40M /boot, --boot-min-free 10M"
run_cmd "$ENTER" --boot-min-free 20000K "$R" -- "${RAN[@]}"
not_warned "40M /boot, --boot-min-free 20000K"
run_cmd "$ENTER" --boot-min-free 1G "$R" -- "${RAN[@]}"
warned "40M /boot, --boot-min-free 1G"

fstab <<EOF
UUID=$ESP_UUID /boot ext4 defaults 0 2
EOF
run_cmd "$ENTER" --boot-min-free 1G "$R" -- "${RAN[@]}"
warned "128M /boot, --boot-min-free 1G"
run_cmd "$ENTER" --boot-min-free 100M "$R" -- "${RAN[@]}"
not_warned "128M /boot, --boot-min-free 100M"
after_run "free space"
