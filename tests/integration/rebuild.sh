#!/usr/bin/env bash
# rebuild.sh: enter-rebuild (enter-rebuild(1)). It runs the target's
# `nixos-rebuild ACTION` inside ROOT, ACTION boot by default (switch and test
# run, with a warning); --flake DIR[#ATTR] binds DIR at /run/enter/flake and
# passes `--flake /run/enter/flake#ATTR`, ATTR defaulting to the *target's*
# hostname; a REF that is not a host directory is passed as it is. /boot
# comes from the target's fstab and is required for boot and switch: without
# it, exit 125 before anything runs. --dry-run prints the plan and the inner
# command line and changes nothing; --json prints a result object; the exit
# status is nixos-rebuild's; a summary `enter-rebuild: generation 1 -> 2`
# ends stderr.
#
# nixos-rebuild and switch-to-configuration are the stand-ins of
# tests/fixtures/standins.sh: a boot makes generation 2 and writes
# loader/entries/nixos-generation-2.conf on whatever is mounted at /boot
# inside, here an ext4 image on a loop device standing in for the ESP (the
# kernel here has no vfat), named by UUID= in the target's fstab only.
#
#   REBUILD=build/enter-rebuild ENTER=build/enter MKROOT=tests/fixtures/mkroot.sh \
#     bash tests/integration/rebuild.sh
#
# Every run has /dev/null as stdin (lib.sh): enter-rebuild must not need one.
# shellcheck source=tests/integration/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

# One libblkid cache per test (see boot.sh).
export BLKID_FILE=$T/blkid.tab

need_tool REBUILD
need_cmds mkfs.ext4 losetup blkid jq
need_fs ext4

PROG=enter-rebuild
ENTRY=loader/entries/nixos-generation-2.conf
IN_FLAKE=/run/enter/flake

setup_esp
# For --boot IMAGEFILE: enter-rebuild attaches it itself.
make_esp "$T/file.img" 64M "$(new_uuid)" "$(new_label file)" esp-file

# The rescue system's hostname: the flake has a configuration of that name
# too, so that a rebuild picking it instead of the target's builds the wrong
# system rather than failing for another reason.
RESCUE_HOST=$(</proc/sys/kernel/hostname)
FLAKE=$T/flake
mkdir "$FLAKE"
{
	echo '{'
	echo '  outputs = { self, nixpkgs }: {'
	for attr in fixturehost other target-b "$RESCUE_HOST"; do
		[[ $attr == fixturehost || $attr =~ ^[A-Za-z0-9_-]+$ ]] || continue
		echo "    nixosConfigurations.$attr = nixpkgs.lib.nixosSystem { modules = [ ./$attr.nix ]; };"
	done
	echo '  };'
	echo '}'
} >"$FLAKE/flake.nix"
FLAKE_BEFORE=$(snapshot "$FLAKE")
if [[ $RESCUE_HOST == fixturehost ]]; then
	echo "# the rescue system is called fixturehost too: hostname checks are weaker"
fi

# after_run DESC: nothing of the run is left in the host namespace.
after_run() {
	check_no_new_loop_mounts "$1"
	check_host_unchanged "$1"
}

# ran DESC ARGS: the last run exited 0 and nixos-rebuild got exactly ARGS.
ran() {
	if [[ $STATUS == 0 ]]; then
		pass "$1: exit 0"
	else
		fail "$1: exit 0" "$(last_run)"
	fi
	expect_line "$1: nixos-rebuild got: $2" "$(all_output)" "nixos-rebuild: args: $2"
}

# The warning about switching a system that is not running: a line of
# enter-rebuild's own; its words are not fixed.
WARNING_RE="^$PROG: .*(warn|not running|rarely)"

# warned DESC / not_warned DESC: whether the last run warned.
warned() {
	if grep -qiE -- "$WARNING_RE" "$T/stderr"; then
		pass "$1: $PROG warns that the system switched to is not running"
	else
		fail "$1: $PROG warns that the system switched to is not running" "$(last_run)"
	fi
}
not_warned() {
	if ! grep -qiE -- "$WARNING_RE" "$T/stderr"; then
		pass "$1: no warning about switching"
	else
		fail "$1: no warning about switching" "$(last_run)"
	fi
}

# --- the target's fstab is read once per run: the plan made once is what
# is printed, checked and run

new_target fstab-once
fstab_reads "$REBUILD" "$R" --flake "$FLAKE"
D="fstab read once"
ran "$D" "boot --flake $IN_FLAKE#fixturehost"
expect_eq "$D: boot --flake DIR: the target's fstab opened once" 1 "$FSTAB_READS"
new_target fstab-once-dry-run
fstab_reads "$REBUILD" "$R" --flake "$FLAKE" --dry-run
expect_eq "$D: --dry-run: the target's fstab opened once" 1 "$FSTAB_READS"

# --- the default: boot, attribute from the target's hostname

new_target default
run_cmd "$REBUILD" "$R" --flake "$FLAKE"
D="boot, --flake DIR, stdin /dev/null"
ran "$D" "boot --flake $IN_FLAKE#fixturehost"
new_generation "$D" fixturehost
expect_eq "$D: nixos-rebuild saw the flake at $IN_FLAKE" "$IN_FLAKE#fixturehost" \
	"$(generation_build "$R" 2 flake)"
entry_on_esp "$D"
stderr_kept "$D"
not_warned "$D"
expect_not_contains "$D: NIXOS_INSTALL_BOOTLOADER not set when not asked" "$(all_output)" \
	"installing the boot loader"
expect_eq "$D: the flake directory is unchanged" "$FLAKE_BEFORE" "$(snapshot "$FLAKE")"
check "$D: nothing created under ROOT/run on disk" test ! -e "$R/run/enter"
after_run "$D"

# --- --json: a result object on stdout

new_target json
run_cmd "$REBUILD" --json "$R" --flake "$FLAKE"
D="--json"
ran "$D" "boot --flake $IN_FLAKE#fixturehost"
expect_jq "$D: stdout is one JSON object" 'type == "object"'
expect_jq "$D: .status is 0" '.status == 0'
expect_jq "$D: .generation_before is 1" '.generation_before == 1'
expect_jq "$D: .generation_after is 2" '.generation_after == 2'
expect_jq "$D: .command is what ran" '.command == "nixos-rebuild boot --flake '"$IN_FLAKE"'#fixturehost"'
stderr_kept "$D"
new_generation "$D" fixturehost
after_run "$D"

# --- the attribute: explicit, relative DIR, the target's own hostname

new_target explicit
run_cmd "$REBUILD" "$R" --flake "$FLAKE#other"
D="--flake DIR#other"
ran "$D" "boot --flake $IN_FLAKE#other"
new_generation "$D" other
entry_on_esp "$D"
after_run "$D"

new_target dot
run_cmd env -C "$FLAKE" "$REBUILD" "$R" --flake '.#other'
D="--flake .#other from the flake directory"
ran "$D" "boot --flake $IN_FLAKE#other"
new_generation "$D" other
after_run "$D"

new_target dot-noattr
run_cmd env -C "$FLAKE" "$REBUILD" "$R" --flake .
D="--flake . from the flake directory"
ran "$D" "boot --flake $IN_FLAKE#fixturehost"
new_generation "$D" fixturehost
after_run "$D"

new_target hostname-b target-b
run_cmd "$REBUILD" "$R" --flake "$FLAKE"
D="--flake DIR, target hostname target-b"
ran "$D" "boot --flake $IN_FLAKE#target-b"
new_generation "$D" target-b
entry_on_esp "$D"
after_run "$D"

new_target unknown-attr
run_cmd "$REBUILD" --json "$R" --flake "$FLAKE#nosuch"
D="--flake DIR#nosuch"
expect_eq "$D: exit status 1, nixos-rebuild's" 1 "$STATUS"
expect_contains "$D: nixos-rebuild's error" "$(all_output)" \
	"error: flake '$IN_FLAKE' does not provide attribute 'nixosConfigurations.nosuch'"
no_generation "$D"
expect_eq "$D: nothing written to the ESP" marker.conf "$(esp_entries)"
expect_jq "$D: --json .status is 1" '.status == 1'
expect_jq "$D: --json .generation_after is 1" '.generation_after == 1'
expect_not_contains "$D: no boot entry claimed" "$ERR" "boot entry"
after_run "$D"

# A REF that is not a host directory goes to nixos-rebuild as it is (the
# stand-in cannot fetch it and fails, after saying what it got).
new_target github
run_cmd "$REBUILD" "$R" --flake 'github:x/y#a'
D="--flake github:x/y#a"
expect_line "$D: passed as it is" "$(all_output)" "nixos-rebuild: args: boot --flake github:x/y#a"
expect_eq "$D: exit status 1, nixos-rebuild's" 1 "$STATUS"
no_generation "$D"
after_run "$D"

# A path REF that is a directory neither here nor in the target: said
# before anything runs, not by nixos-rebuild inside after activation.
new_target missing-flake
for ref in "$T/no-such-flake" "$T/no-such-flake#a" ./no-such-flake; do
	run_cmd env -C "$T" "$REBUILD" "$R" --flake "$ref"
	D="--flake $ref, no such directory"
	expect_eq "$D: exit status 125" 125 "$STATUS"
	expect_match "$D: one line naming it" "$ERR" "^$PROG: --flake ${ref%%#*}: no such directory"
	expect_not_contains "$D: nothing ran inside" "$ERR$OUT" "activating"
	no_generation "$D"
done
# An absolute path of the target itself (its own configuration) goes to
# nixos-rebuild as it is.
new_target flake-in-target
mkdir -p "$R/etc/flake-only-in-target"
run_cmd "$REBUILD" "$R" --flake /etc/flake-only-in-target#a
D="--flake DIR of the target"
expect_line "$D: passed as it is" "$(all_output)" \
	"nixos-rebuild: args: boot --flake /etc/flake-only-in-target#a"
after_run "$D"

# --- without --flake: the target's /etc/nixos

new_target no-config
run_cmd "$REBUILD" "$R"
D="no --flake, no configuration.nix"
expect_line "$D: nixos-rebuild got: boot" "$(all_output)" "nixos-rebuild: args: boot"
expect_eq "$D: exit status 1, nixos-rebuild's" 1 "$STATUS"
expect_contains "$D: nixos-rebuild's error" "$(all_output)" "error: file 'nixos-config' was not found"
no_generation "$D"
after_run "$D"

new_target config
mkdir "$R/etc/nixos"
echo '{ ... }: { networking.hostName = "fixturehost"; }' >"$R/etc/nixos/configuration.nix"
run_cmd "$REBUILD" "$R"
D="no --flake, /etc/nixos/configuration.nix"
ran "$D" boot
new_generation "$D" fixturehost
entry_on_esp "$D"
after_run "$D"

# nixos-rebuild itself takes /etc/nixos/flake.nix and the hostname it sees.
new_target etc-flake target-b
mkdir "$R/etc/nixos"
cp "$FLAKE/flake.nix" "$R/etc/nixos/flake.nix"
run_cmd "$REBUILD" "$R"
D="no --flake, /etc/nixos/flake.nix, hostname target-b"
ran "$D" boot
new_generation "$D" target-b
expect_eq "$D: nixos-rebuild used /etc/nixos#target-b" "/etc/nixos#target-b" \
	"$(generation_build "$R" 2 flake)"
after_run "$D"

# --- EXTRA arguments and NIXOS_INSTALL_BOOTLOADER

new_target extra
run_cmd "$REBUILD" "$R" --flake "$FLAKE" -- --show-trace --option sandbox false
D="-- EXTRA"
ran "$D" "boot --flake $IN_FLAKE#fixturehost --show-trace --option sandbox false"
new_generation "$D" fixturehost
after_run "$D"

new_target install-bootloader
run_cmd env NIXOS_INSTALL_BOOTLOADER=1 "$REBUILD" "$R" --flake "$FLAKE"
D="NIXOS_INSTALL_BOOTLOADER=1"
ran "$D" "boot --flake $IN_FLAKE#fixturehost"
expect_contains "$D: reaches nixos-rebuild" "$(all_output)" \
	"installing the boot loader (NIXOS_INSTALL_BOOTLOADER=1)"
expect_contains "$D: the boot loader is on the ESP image" \
	"$(image_run "$ESP_DEV" cat EFI/systemd/systemd-bootx64.efi 2>&1 || true)" "fixture systemd-boot"
new_generation "$D" fixturehost
entry_on_esp "$D"
after_run "$D"

# --- switch and test: they run, with a warning

new_target switch
run_cmd "$REBUILD" "$R" switch --flake "$FLAKE"
D="switch"
ran "$D" "switch --flake $IN_FLAKE#fixturehost"
warned "$D"
new_generation "$D" fixturehost
entry_on_esp "$D"
after_run "$D"

new_target test-action
run_cmd "$REBUILD" "$R" test --flake "$FLAKE"
D="test"
ran "$D" "test --flake $IN_FLAKE#fixturehost"
warned "$D"
no_generation "$D"
expect_eq "$D: no boot entry on the ESP" marker.conf "$(esp_entries)"
after_run "$D"

# The summary names a boot entry only when this run wrote one.
run_cmd "$REBUILD" "$R" boot --flake "$FLAKE"
D="boot, then test on the same root"
ran "$D" "boot --flake $IN_FLAKE#fixturehost"
run_cmd "$REBUILD" "$R" test --flake "$FLAKE"
ran "$D" "test --flake $IN_FLAKE#fixturehost"
expect_eq "$D: test left generation 2" 2 "$(generation "$R")"
expect_not_contains "$D: test claims no boot entry (it wrote none)" "$ERR" "boot entry"
after_run "$D"

# --- /boot: required for boot and switch

new_target missing-source
MISSING_UUID=$(new_uuid)
printf 'UUID=%s /boot ext4 defaults 0 2\n' "$MISSING_UUID" >"$R/etc/fstab"
run_cmd "$REBUILD" "$R" --flake "$FLAKE"
refused_boot "fstab /boot source missing"
expect_contains "fstab /boot source missing: the error names the source" "$ERR" "UUID=$MISSING_UUID"
after_run "fstab /boot source missing"

new_target no-boot
fstab_without_boot
before=$(snapshot "$R")
run_cmd "$REBUILD" "$R" --flake "$FLAKE"
refused_boot "no /boot in fstab"
expect_eq "no /boot in fstab: ROOT unchanged" "$before" "$(snapshot "$R")"
after_run "no /boot in fstab"

run_cmd "$REBUILD" "$R" switch --flake "$FLAKE"
refused_boot "no /boot in fstab, switch" "$WARNING_RE"
after_run "no /boot in fstab, switch"

# --boot none with an action that installs the boot loader: said so, and
# before the line saying nixos-rebuild runs.
new_target boot-none
run_cmd "$REBUILD" "$R" --boot none --flake "$FLAKE"
refused_boot "--boot none"
expect_contains "--boot none: the error names --boot none" "$ERR" "--boot none"
expect_not_contains "--boot none: not 'not in fstab' (it is)" "$ERR" "not in"
after_run "--boot none"

# A target without nixos-rebuild: a line of enter-rebuild's, not the shell's.
new_target no-rebuild
without_tool nixos-rebuild "$REBUILD" "$R" --flake "$FLAKE"
new_target no-boot-build
fstab_without_boot

# build needs no /boot.
run_cmd "$REBUILD" "$R" build --flake "$FLAKE"
D="no /boot in fstab, build"
ran "$D" "build --flake $IN_FLAKE#fixturehost"
no_generation "$D"
after_run "$D"

# Whatever is mounted at ROOT/boot is the /boot.
new_target premounted
fstab_without_boot
mount "$ESP_DEV" "$R/boot"
before=$(host_mounts)
before_loops=$(loop_mounts)
run_cmd "$REBUILD" "$R" --flake "$FLAKE"
D="no /boot in fstab, the ESP mounted at ROOT/boot"
ran "$D" "boot --flake $IN_FLAKE#fixturehost"
new_generation "$D" fixturehost
expect_contains "$D: $ENTRY is on the ESP" "$(cat "$R/boot/$ENTRY" 2>&1)" "version Generation 2"
expect_eq "$D: host mount table unchanged" "$before" "$(host_mounts)"
check_no_new_loop_mounts "$D" "$before_loops"
umount "$R/boot"
after_run "$D, unmounted"

# --boot IMAGEFILE (an enter option): attached, mounted, and let go.
new_target bootfile
fstab_without_boot
run_cmd "$REBUILD" "$R" --boot "$T/file.img" --flake "$FLAKE"
D="--boot IMAGEFILE"
ran "$D" "boot --flake $IN_FLAKE#fixturehost"
new_generation "$D" fixturehost
after_run "$D"
wait_detached "$T/file.img" 10
attach_image "$T/file.img"
expect_contains "$D: $ENTRY is on the image file" \
	"$(image_run "$LOOP" cat "$ENTRY" 2>&1 || true)" "version Generation 2"
detach_image "$LOOP"

# --- --dry-run: the plan and the command, nothing changed

new_target dry-run
before=$(snapshot "$R")
run_cmd "$REBUILD" "$R" --dry-run --flake "$FLAKE"
D="--dry-run"
expect_ok "$D: exit 0"
expect_line "$D: the exact command line" "$OUT" \
	"command: nixos-rebuild boot --flake $IN_FLAKE#fixturehost"
plan=$(grep -v 'command:' <<<"$OUT" || true)
if names_path "$plan" "$IN_FLAKE"; then
	pass "$D: the plan names the bind at $IN_FLAKE"
else
	fail "$D: the plan names the bind at $IN_FLAKE" "stdout: $OUT"
fi
expect_contains "$D: the plan names the flake directory" "$OUT" "$FLAKE"
if names_path "$OUT" /boot; then
	pass "$D: the plan names /boot"
else
	fail "$D: the plan names /boot" "stdout: $OUT"
fi
expect_not_contains "$D: nixos-rebuild did not run" "$(all_output)" "nixos-rebuild: args:"
expect_eq "$D: ROOT unchanged" "$before" "$(snapshot "$R")"
no_generation "$D"
expect_eq "$D: nothing written to the ESP" marker.conf "$(esp_entries)"
after_run "$D"

run_cmd "$REBUILD" "$R" --dry-run --json --flake "$FLAKE"
D="--dry-run --json"
expect_ok "$D: exit 0"
expect_jq "$D: stdout is one JSON object" 'type == "object"'
expect_jq "$D: it holds the command line" "tostring | contains(\"$IN_FLAKE#fixturehost\")"
expect_eq "$D: ROOT unchanged" "$before" "$(snapshot "$R")"
after_run "$D"

run_cmd "$REBUILD" "$R" --dry-run
expect_ok "--dry-run, no --flake: exit 0"
expect_line "--dry-run, no --flake: the exact command line" "$OUT" "command: nixos-rebuild boot"

run_cmd "$REBUILD" "$R" switch --dry-run --flake "$FLAKE#other" -- --show-trace
expect_ok "--dry-run switch DIR#other -- EXTRA: exit 0"
expect_line "--dry-run switch DIR#other -- EXTRA: the exact command line" "$OUT" \
	"command: nixos-rebuild switch --flake $IN_FLAKE#other --show-trace"
expect_eq "--dry-run, all: ROOT unchanged" "$before" "$(snapshot "$R")"
after_run "--dry-run, all"

# --- the ESP is let go: nothing holds the loop device once detached

detach_image "$ESP_DEV"
wait_detached "$T/esp.img" 10

# --- --json: a failure is the one line on stderr, nothing on stdout

run_cmd "$REBUILD" --json "$T/nonexistent"
D="--json, ROOT missing"
expect_eq "$D: exit 125" 125 "$STATUS"
expect_eq "$D: nothing on stdout" "" "$OUT"
expect_eq "$D: one line on stderr" "enter-rebuild: open $T/nonexistent: no such file or directory" "$ERR"
