#!/usr/bin/env bash
# damaged.sh: a target whose disk is damaged, which is why one boots a
# rescue system. A lookup in the target that fails for another reason than
# "nothing there" (a directory block whose checksum does not match, an I/O
# error) is never silently taken for absence: where enter can go on without
# the file (the default shell, systemd-tmpfiles, the locale archive) it says
# so in one warning naming the path and what it does instead; where it
# cannot (etc/NIXOS), it stops with one line naming the path, never with a
# wrong "not a NixOS root".
#
# The damage is real: the fixture root is copied into an ext4 image
# (metadata_csum, mke2fs's default), and the blocks of one directory are
# zeroed, so that the kernel's lookups there fail with EBADMSG.
# shellcheck source=tests/integration/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

export BLKID_FILE=$T/blkid.tab

need_cmds mkfs.ext4 debugfs dumpe2fs losetup
need_fs ext4

SYSTEM=/nix/store/0123456789abcdfghijklmnpqrsvwxyz-nixos-system-fixturehost-25.05
DAMAGED='the filesystem is damaged'

make_root "$T/src"
check "fixture: the default shell is $SYSTEM/sw/bin/bash" test -x "$T/src$SYSTEM/sw/bin/bash"

# damage IMAGE DIR: zero every block of directory DIR of the ext4 IMAGE.
damage() {
	local bs blocks b
	bs=$(dumpe2fs -h "$1" 2>/dev/null | awk -F: '$1 == "Block size" { print $2 + 0 }')
	blocks=$(debugfs -R "blocks $2" "$1" 2>/dev/null)
	[[ $bs =~ ^[0-9]+$ && -n $blocks ]] || {
		fail "fixture: $2 in $1 has blocks to damage" "block size '$bs', blocks '$blocks'"
		return 1
	}
	for b in $blocks; do
		dd if=/dev/zero of="$1" bs="$bs" seek="$b" count=1 conv=notrunc status=none
	done
}

# mount_image NAME [DIR]: the fixture in an ext4 image $T/NAME.img, with
# directory DIR damaged, mounted at $T/NAME; the mount point is left in R.
mount_image() {
	make_ext4 "$T/$1.img" 64M "$(new_uuid)" "$(new_label "$1")" "$T/src"
	[[ -z ${2:-} ]] || damage "$T/$1.img" "$2"
	attach_image "$T/$1.img"
	R=$T/$1
	mkdir -p "$R"
	mount "$LOOP" "$R"
}

unmount_image() {
	umount "$R"
	check_host_unchanged "$1"
}

# --- the same image undamaged: no warning, the default shell is the target's

mount_image intact
run_cmd "$ENTER" --no-activate "$R" -c 'echo "$0"'
expect_ok "intact: the command ran"
expect_eq "intact: nothing on stderr" "" "$ERR"
expect_ne "intact: the shell is not /bin/sh" /bin/sh "$OUT"
unmount_image intact

# --- sw/bin of the system damaged: bash and systemd-tmpfiles cannot be looked up

mount_image swbin "$SYSTEM/sw/bin"
check "fixture: a lookup in the damaged sw/bin fails with EBADMSG" \
	eval '! ls "$R$SYSTEM/sw/bin/bash" 2>"$T/ls.err" && grep -q "Bad message" "$T/ls.err"'

run_cmd "$ENTER" --no-activate "$R" -c 'echo "$0"'
expect_ok "damaged sw/bin: the command ran"
expect_eq "damaged sw/bin: the shell is /bin/sh" /bin/sh "$OUT"
expect_eq "damaged sw/bin: one line on stderr" 1 "$(grep -c . <<<"$ERR")"
expect_match "damaged sw/bin: a warning names the shell's path, the damage and /bin/sh" "$ERR" \
	"^enter: warning: /nix/var/nix/profiles/system/sw/bin/bash: $DAMAGED.*; the shell is /bin/sh\$"

run_cmd "$ENTER" "$R" -- /bin/busybox true
expect_ok "damaged sw/bin, with activation: the command ran"
expect_match "damaged sw/bin, with activation: a warning names systemd-tmpfiles and says it is not run" \
	"$ERR" "^enter: warning: [^ ]*/sw/bin/systemd-tmpfiles: $DAMAGED.*; systemd-tmpfiles is not run\$"
run_cmd "$ENTER" --no-activate "$R" -- /bin/busybox sh -c 'echo "$SHELL"'
expect_eq "damaged sw/bin, with a command: its SHELL is /bin/sh, as the warning says" /bin/sh "$OUT"

run_cmd "$ENTER" --dry-run "$R"
expect_ok "damaged sw/bin, --dry-run: exit 0"
expect_match "damaged sw/bin, --dry-run: the same warning" "$ERR" "sw/bin/bash: $DAMAGED"
unmount_image "damaged sw/bin"

# --- etc damaged: whether this is NixOS cannot be told

mount_image etc /etc
run_cmd "$ENTER" "$R" -- /bin/busybox true
expect_eq "damaged /etc: exit 125, not 126 (\"not a NixOS root\")" 125 "$STATUS"
expect_one_line_error "damaged /etc: one-line error" /etc/NIXOS
expect_contains "damaged /etc: the error says the filesystem is damaged" "$ERR" "$DAMAGED"
expect_not_contains "damaged /etc: not called \"not a NixOS root\"" "$ERR" "not a NixOS root"

run_cmd "$ENTER" --check --boot none --hostname rescued "$R"
expect_eq "damaged /etc, --check: exit 1, a problem" 1 "$STATUS"
expect_match "damaged /etc, --check: the problem names /etc/NIXOS and the damage" "$OUT" "/etc/NIXOS: $DAMAGED"
expect_not_contains "damaged /etc, --check: not called \"not a NixOS root\"" "$OUT" "not a NixOS root"

run_cmd "$ENTER" --generic --boot none --no-resolv --hostname rescued "$R" -- /bin/busybox hostname
expect_ok "damaged /etc, --generic --boot none --no-resolv --hostname: the command ran"
expect_eq "damaged /etc, --generic --boot none --no-resolv --hostname: inside, the name given" rescued "$OUT"
unmount_image "damaged /etc"
