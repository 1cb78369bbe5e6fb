#!/usr/bin/env bash
# check.sh: `enter ROOT --check` (enter(1) --check) says what would be mounted
# from where, what is missing, the hostname, the system and its generation
# and the free space on /boot; it exits 1 when a boot-loader install would
# fail for a reason known in advance (no /boot source, no /boot at all, /boot
# below --boot-min-free, no etc/NIXOS). --check --json says the same as JSON.
# A check changes nothing. Only the content is relied on, not the wording.
# shellcheck source=tests/integration/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

# libblkid's cache file is shared by every process on the machine, and
# trusts an entry probed less than 2 s ago: with loop devices reused between
# tests running side by side it can be wrong. Each test gets its own (the
# stale-cache case in boot.sh tests what enter does with a wrong one).
export BLKID_FILE=$T/blkid.tab

need_cmds mkfs.ext4 losetup jq
need_fs ext4

SYSTEM=/nix/store/0123456789abcdfghijklmnpqrsvwxyz-nixos-system-fixturehost-25.05

R=$T/root
make_root "$R"
mkdir -p "$R"/{boot,home,net}
expect_eq "fixture: the system profile is generation 1 of $SYSTEM" "$SYSTEM" \
	"$(readlink "$R/nix/var/nix/profiles/$(readlink "$R/nix/var/nix/profiles/system")")"

BOOT_UUID=$(new_uuid)
make_esp "$T/boot.img" 128M "$BOOT_UUID" "$(new_label boot)" esp-main
attach_image "$T/boot.img"
BOOT_DEV=$LOOP

FULL_UUID=$(new_uuid)
make_esp "$T/full.img" 40M "$FULL_UUID" "$(new_label full)" esp-full
attach_image "$T/full.img"
FULL_DEV=$LOOP

HOME_LABEL=$(new_label home)
make_ext4 "$T/home.img" 64M "$(new_uuid)" "$HOME_LABEL"
attach_image "$T/home.img"
HOME_DEV=$LOOP

mkdir "$T/look"
# image_avail DEV: the available bytes on the filesystem of DEV.
image_avail() {
	mount -o ro "$1" "$T/look"
	avail_bytes "$T/look"
	umount "$T/look"
}
BOOT_AVAIL=$(image_avail "$BOOT_DEV")

# good_fstab: /boot on line 2, /home on line 3, an nfs entry on line 4.
good_fstab() {
	cat >"$R/etc/fstab" <<EOF
# /etc/fstab: written by check.sh
UUID=$BOOT_UUID /boot ext4 defaults 0 2
LABEL=$HOME_LABEL /home ext4 defaults 0 2
server:/export /net nfs defaults 0 0
EOF
}

# jq_true DESC FILTER: FILTER holds on the last stdout (jq -e).
jq_true() {
	if jq -e "$2" "$T/stdout" >/dev/null 2>&1; then
		pass "$1"
	else
		fail "$1" "jq filter: $2" "$(last_run)"
	fi
}

# changes_nothing DESC: ROOT and the host namespace are as before the check.
changes_nothing() {
	expect_eq "$1: nothing changed in ROOT" "$ROOT_BEFORE" "$(snapshot "$R")"
	check_no_new_loop_mounts "$1"
	check_host_unchanged "$1"
}

# array_names ARRAY DESC WORD: the JSON array ARRAY (problems, warnings) has
# a string naming WORD.
array_names() {
	jq_true "$2" "(.$1 | type == \"array\") and any(.$1[]; type == \"string\" and contains(\"$3\"))"
}
# problem_names DESC WORD: the JSON problems array has a string naming WORD.
problem_names() {
	array_names problems "$@"
}

# --- a good root, text

good_fstab
ROOT_BEFORE=$(snapshot "$R")
run_cmd "$ENTER" "$R" --check
expect_eq "good root: --check exits 0" 0 "$STATUS"
expect_contains "good root: --check names the hostname" "$OUT" fixturehost
if names_path "$OUT" /boot; then
	pass "good root: --check names /boot"
else
	fail "good root: --check names /boot" "stdout: $OUT"
fi
expect_contains "good root: --check names the /boot source as written" "$OUT" "UUID=$BOOT_UUID"
expect_contains "good root: --check names the device found for it" "$OUT" "$BOOT_DEV"
expect_contains "good root: --check names the /home source as written" "$OUT" "LABEL=$HOME_LABEL"
expect_match "good root: --check names the system profile or its store path" "$OUT" \
	"/nix/var/nix/profiles/system|$SYSTEM"
expect_match "good root: --check tells the free space" "$OUT" '[Ff]ree'
changes_nothing "good root, --check"

# --- a good root, JSON

run_cmd "$ENTER" "$R" --check --json
expect_eq "good root: --check --json exits 0" 0 "$STATUS"
if jq -e . "$T/stdout" >/dev/null 2>&1; then
	pass "good root: --check --json prints JSON"
else
	fail "good root: --check --json prints JSON" "$(last_run)"
fi
for key in hostname system generation mounts boot_free_bytes problems; do
	jq_true "good root: JSON has key $key" "has(\"$key\")"
done
jq_true "good root: JSON hostname is fixturehost" '.hostname == "fixturehost"'
jq_true "good root: JSON system is the system profile or its store path" \
	".system == \"/nix/var/nix/profiles/system\" or .system == \"$SYSTEM\""
jq_true "good root: JSON generation is 1" '(.generation | tostring) == "1"'
jq_true "good root: JSON problems is an empty array" '.problems == []'
jq_true "good root: JSON mounts is an array of objects with target, source, device, state, line" \
	'(.mounts | type == "array" and length > 0) and
	 (.mounts | all(type == "object" and has("target") and has("source") and has("device")
	  and has("state") and has("line")))'
jq_true "good root: JSON /boot: source, device and line 2" \
	"any(.mounts[]; .target == \"/boot\" and .source == \"UUID=$BOOT_UUID\"
	 and .device == \"$BOOT_DEV\" and .line == 2 and (.state | type == \"string\" and length > 0))"
jq_true "good root: JSON /home (not mounted without --fstab) is considered, line 3" \
	"any(.mounts[]; .target == \"/home\" and .source == \"LABEL=$HOME_LABEL\" and .line == 3)"
jq_true "good root: JSON /net (nfs, skipped) is considered too, line 4" \
	'any(.mounts[]; .target == "/net" and .source == "server:/export" and .line == 4)'
good_boot_state=$(jq -r '.mounts[] | select(.target == "/boot") | .state' "$T/stdout" 2>/dev/null || true)
free=$(jq -r '.boot_free_bytes' "$T/stdout" 2>/dev/null || true)
if [[ $free =~ ^[0-9]+$ ]] && ((free > BOOT_AVAIL - 1048576 && free < BOOT_AVAIL + 1048576)); then
	pass "good root: JSON boot_free_bytes is the image's free space ($BOOT_AVAIL, within 1 MiB)"
else
	fail "good root: JSON boot_free_bytes is the image's free space ($BOOT_AVAIL, within 1 MiB)" \
		"boot_free_bytes: $free"
fi
changes_nothing "good root, --check --json"

run_cmd "$ENTER" --fstab "$R" --check --json
expect_eq "good root: --fstab --check --json exits 0" 0 "$STATUS"
jq_true "good root, --fstab: JSON /home: source, device and line 3" \
	"any(.mounts[]; .target == \"/home\" and .source == \"LABEL=$HOME_LABEL\"
	 and .device == \"$HOME_DEV\" and .line == 3)"
jq_true "good root, --fstab: JSON problems is an empty array" '.problems == []'
changes_nothing "good root, --fstab --check --json"

# --- the /boot source is missing

MISSING_UUID=$(new_uuid)
sed -i "s/^UUID=$BOOT_UUID /UUID=$MISSING_UUID /" "$R/etc/fstab"
ROOT_BEFORE=$(snapshot "$R")
run_cmd "$ENTER" "$R" --check
expect_eq "missing /boot UUID: --check exits 1" 1 "$STATUS"
expect_contains "missing /boot UUID: --check names the missing source" "$OUT" "UUID=$MISSING_UUID"
run_cmd "$ENTER" "$R" --check --json
expect_eq "missing /boot UUID: --check --json exits 1" 1 "$STATUS"
problem_names "missing /boot UUID: a problem names /boot" /boot
jq_true "missing /boot UUID: JSON /boot entry, line 2, state not the good one ($good_boot_state)" \
	"any(.mounts[]; .target == \"/boot\" and .source == \"UUID=$MISSING_UUID\" and .line == 2
	 and .state != \"$good_boot_state\")"
changes_nothing "missing /boot UUID"

# --- --fstab, the source of another entry is missing: the run would stop there

good_fstab
MISSING_HOME=$(new_label gone)
sed -i "s/^LABEL=$HOME_LABEL /LABEL=$MISSING_HOME /" "$R/etc/fstab"
ROOT_BEFORE=$(snapshot "$R")
run_cmd "$ENTER" --fstab "$R" --check
expect_eq "--fstab, missing /home source: --check exits 1" 1 "$STATUS"
expect_eq "--fstab, missing /home source: nothing on stderr" "" "$ERR"
expect_contains "--fstab, missing /home source: --check names it" "$OUT" "LABEL=$MISSING_HOME"
run_cmd "$ENTER" --fstab "$R" --check --json
expect_eq "--fstab, missing /home source: --check --json exits 1" 1 "$STATUS"
problem_names "--fstab, missing /home source: a problem names /home" /home
jq_true "--fstab, missing /home source: JSON /home entry, line 3, missing" \
	"any(.mounts[]; .target == \"/home\" and .source == \"LABEL=$MISSING_HOME\" and .line == 3
	 and .state == \"missing\")"
run_cmd "$ENTER" "$R" --check
expect_eq "missing /home source, without --fstab: not looked at, --check exits 0" 0 "$STATUS"
run_cmd "$ENTER" --fstab "$R" -- /bin/busybox true
expect_eq "--fstab, missing /home source: the run itself exits 125" 125 "$STATUS"
changes_nothing "--fstab, missing /home source"

# --- what the kernel would refuse, known before trying: a filesystem type
# it has neither registered nor as a module (vfat on a rescue kernel
# without it), or another type than the device holds

for case in "nosuchfs:this kernel cannot mount nosuchfs" "btrfs:the fstab says btrfs, $BOOT_DEV holds ext4"; do
	type=${case%%:*} want=${case#*:}
	printf 'UUID=%s /boot %s defaults 0 2\n' "$BOOT_UUID" "$type" >"$R/etc/fstab"
	ROOT_BEFORE=$(snapshot "$R")
	run_cmd "$ENTER" "$R" --check
	expect_eq "fstab /boot $type on ext4: --check exits 1" 1 "$STATUS"
	expect_match "fstab /boot $type on ext4: the problem says why" "$OUT" "^problem +/boot: $want"
	changes_nothing "fstab /boot $type on ext4"
done
printf 'UUID=%s /boot ext4 defaults 0 2\n' "$BOOT_UUID" >"$R/etc/fstab"
run_cmd "$ENTER" "$R" --check
expect_eq "fstab /boot ext4 on ext4: --check exits 0" 0 "$STATUS"

# --- a system that is not there: no activation, no nixos-rebuild in PATH

run_cmd "$ENTER" --system /nix/var/nix/profiles/nosuch "$R" --check
expect_eq "--system that does not exist: --check exits 1" 1 "$STATUS"
expect_match "--system that does not exist: a problem names it" "$OUT" \
	"^problem +/nix/var/nix/profiles/nosuch: no system there"

# --- no /boot entry at all

cat >"$R/etc/fstab" <<EOF
LABEL=$HOME_LABEL /home ext4 defaults 0 2
EOF
ROOT_BEFORE=$(snapshot "$R")
run_cmd "$ENTER" "$R" --check --json
expect_eq "no /boot in fstab, none mounted: --check --json exits 1" 1 "$STATUS"
problem_names "no /boot in fstab, none mounted: a problem names /boot" /boot
changes_nothing "no /boot in fstab"

# ... but one mounted under ROOT by the administrator: fine.
mount "$BOOT_DEV" "$R/boot"
before=$(host_mounts)
run_cmd "$ENTER" "$R" --check --json
expect_eq "no /boot in fstab, mounted under ROOT: --check --json exits 0" 0 "$STATUS"
jq_true "no /boot in fstab, mounted under ROOT: no problems" '.problems == []'
jq_true "no /boot in fstab, mounted under ROOT: boot_free_bytes is a positive number" \
	'.boot_free_bytes | type == "number" and . > 0'
expect_eq "no /boot in fstab, mounted under ROOT: host mount table unchanged" "$before" "$(host_mounts)"
umount "$R/boot"

# ... or given with --boot DEV.
run_cmd "$ENTER" --boot "$BOOT_DEV" "$R" --check --json
expect_eq "no /boot in fstab, --boot DEV: --check --json exits 0" 0 "$STATUS"
jq_true "no /boot in fstab, --boot DEV: no problems" '.problems == []'
changes_nothing "no /boot in fstab, --boot DEV"

# --- /boot below --boot-min-free: a warning, as when entering (a new
# generation may still fit), not a problem

# warning_names DESC WORD: the JSON warnings array has a string naming WORD.
warning_names() {
	array_names warnings "$@"
}

good_fstab
ROOT_BEFORE=$(snapshot "$R")
run_cmd "$ENTER" --boot-min-free 1G "$R" --check --json
expect_eq "128M /boot, --boot-min-free 1G: --check --json exits 0" 0 "$STATUS"
warning_names "128M /boot, --boot-min-free 1G: a warning names /boot" /boot
jq_true "128M /boot, --boot-min-free 1G: no problem" '.problems == []'
run_cmd "$ENTER" --boot-min-free 1G "$R" --check
expect_eq "128M /boot, --boot-min-free 1G: --check exits 0" 0 "$STATUS"
expect_match "128M /boot, --boot-min-free 1G: a warning line names /boot" "$OUT" \
	'^warning +/boot: [0-9]+ MiB free, less than --boot-min-free 1024 MiB'
expect_eq "128M /boot, --boot-min-free 1G: the last line is ok" ok "$(tail -n1 <<<"$OUT")"
changes_nothing "--boot-min-free 1G"

sed -i "s/^UUID=$BOOT_UUID /UUID=$FULL_UUID /" "$R/etc/fstab"
ROOT_BEFORE=$(snapshot "$R")
run_cmd "$ENTER" "$R" --check --json
expect_eq "40M /boot, default --boot-min-free: --check --json exits 0" 0 "$STATUS"
warning_names "40M /boot, default --boot-min-free: a warning names /boot" /boot
jq_true "40M /boot: JSON /boot device is the full image" \
	"any(.mounts[]; .target == \"/boot\" and .device == \"$FULL_DEV\")"
changes_nothing "40M /boot"

# --- what stops enter before it could look further is a problem: a
# report, exit 1, in the JSON too (125 is for usage errors)

run_cmd "$ENTER" "$T/no-such-root" --check
expect_eq "ROOT missing: --check exits 1" 1 "$STATUS"
expect_eq "ROOT missing: the report names it" \
	"root        $T/no-such-root"$'\n'"problem     open $T/no-such-root: no such file or directory"$'\n'"not ok: entering or a boot-loader install would fail" \
	"$OUT"
run_cmd "$ENTER" "$T/no-such-root" --check --json
expect_eq "ROOT missing: --check --json exits 1" 1 "$STATUS"
problem_names "ROOT missing: a JSON problem names it" "open $T/no-such-root"
run_cmd "$ENTER" '' --check
expect_eq "ROOT empty: --check, a usage error, exits 125" 125 "$STATUS"
expect_eq "ROOT empty: --check prints no report" "" "$OUT"
H=$T/dev-link
make_root "$H"
ln -s / "$H/dev"
run_cmd "$ENTER" "$H" --check
expect_eq "ROOT/dev -> /: --check exits 1" 1 "$STATUS"
expect_contains "ROOT/dev -> /: a problem line names /dev" "$OUT" "problem     resolve /dev: is a symlink"
run_cmd "$ENTER" "$H" --check --json
expect_eq "ROOT/dev -> /: --check --json exits 1" 1 "$STATUS"
problem_names "ROOT/dev -> /: a JSON problem names /dev" "resolve /dev"
expect_eq "ROOT/dev -> /: nothing on stderr" "" "$ERR"

# --- not a NixOS root

good_fstab
rm "$R/etc/NIXOS"
ROOT_BEFORE=$(snapshot "$R")
run_cmd "$ENTER" "$R" --check
expect_ne "no etc/NIXOS: --check exits non-zero" 0 "$STATUS"
expect_contains "no etc/NIXOS: --check says so" "$OUT$ERR" NIXOS
run_cmd "$ENTER" "$R" --check --json
expect_ne "no etc/NIXOS: --check --json exits non-zero" 0 "$STATUS"
problem_names "no etc/NIXOS: a JSON problem names NIXOS" NIXOS
changes_nothing "no etc/NIXOS"
