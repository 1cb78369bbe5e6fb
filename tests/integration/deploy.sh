#!/usr/bin/env bash
# deploy.sh: enter-deploy (enter-deploy(1)). It runs `colmena apply-local
# --node NAME GOAL` inside ROOT, GOAL boot by default, NAME the *target's*
# hostname by default, in the hive directory (--hive DIR, default the
# current directory) bound at /run/enter/hive as working directory. When
# colmena refuses because the node lacks deployment.allowLocalDeployment, a
# hint on stderr says how to set it. /boot comes from the target's fstab and
# is required for boot and switch: without it, exit 125 before anything
# runs. --dry-run prints the plan and the inner command line and changes
# nothing; --json prints a result object; the exit status is colmena's; a
# summary `enter-deploy: generation 1 -> 2` ends stderr.
#
# colmena and switch-to-configuration are the stand-ins of
# tests/fixtures/standins.sh, with colmena's own messages and status (2) for
# an unknown node or a node without allowLocalDeployment. A boot makes
# generation 2 and writes loader/entries/nixos-generation-2.conf on whatever
# is mounted at /boot inside, here an ext4 image on a loop device standing
# in for the ESP, named by UUID= in the target's fstab only.
#
#   DEPLOY=build/enter-deploy ENTER=build/enter MKROOT=tests/fixtures/mkroot.sh \
#     bash tests/integration/deploy.sh
#
# Every run has /dev/null as stdin (lib.sh): enter-deploy must not need one.
# shellcheck source=tests/integration/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

# One libblkid cache per test (see boot.sh).
export BLKID_FILE=$T/blkid.tab

need_tool DEPLOY
need_cmds mkfs.ext4 losetup blkid jq
need_fs ext4

PROG=enter-deploy
IN_HIVE=/run/enter/hive
# colmena's status for a node it will not deploy (not there, or not local).
COLMENA_REFUSED=2
HINT='deployment.allowLocalDeployment = true;'

setup_esp

# The hive: nodes that allow local deployment, one that does not. The
# rescue system's hostname is a node too, so that a deploy picking it
# instead of the target's deploys the wrong node rather than failing.
RESCUE_HOST=$(</proc/sys/kernel/hostname)
HIVE=$T/hive
mkdir "$HIVE"
{
	echo '{'
	echo '  meta = { nixpkgs = <nixpkgs>; };'
	echo '  defaults = { pkgs, ... }: { boot.loader.systemd-boot.enable = true; };'
	for node in fixturehost other target-b "$RESCUE_HOST"; do
		[[ $node == fixturehost || $node =~ ^[A-Za-z0-9_-]+$ ]] || continue
		echo "  $node = { name, nodes, ... }: {"
		echo '    deployment.allowLocalDeployment = true;'
		echo '    deployment.targetHost = null;'
		echo '  };'
	done
	echo '  nolocal = { name, nodes, ... }: {'
	echo '    deployment.targetHost = "nolocal.example";'
	echo '  };'
	echo '}'
} >"$HIVE/hive.nix"
HIVE_BEFORE=$(snapshot "$HIVE")
if [[ $RESCUE_HOST == fixturehost ]]; then
	echo "# the rescue system is called fixturehost too: hostname checks are weaker"
fi

# A hive whose node for the target lacks allowLocalDeployment.
HIVE_NOLOCAL=$T/hive-nolocal
mkdir "$HIVE_NOLOCAL"
cat >"$HIVE_NOLOCAL/hive.nix" <<'EOF'
{
  fixturehost = { name, nodes, ... }: {
    deployment.targetHost = "fixturehost.example";
  };
}
EOF
EMPTY_DIR=$T/no-hive
mkdir "$EMPTY_DIR"

# after_run DESC: nothing of the run is left in the host namespace.
after_run() {
	check_no_new_loop_mounts "$1"
	check_host_unchanged "$1"
}

# ran DESC ARGS: the last run exited 0 and colmena got exactly ARGS.
ran() {
	if [[ $STATUS == 0 ]]; then
		pass "$1: exit 0"
	else
		fail "$1: exit 0" "$(last_run)"
	fi
	expect_line "$1: colmena got: $2" "$(all_output)" "colmena: args: $2"
}

# deployed_from_hive DESC: generation 2 was built in the hive directory
# bound at /run/enter/hive, which is unchanged on the host.
deployed_from_hive() {
	expect_eq "$1: colmena ran in $IN_HIVE" "$IN_HIVE" "$(generation_build "$R" 2 cwd)"
	expect_eq "$1: by colmena" colmena "$(generation_build "$R" 2 tool)"
	expect_eq "$1: the hive directory is unchanged" "$HIVE_BEFORE" "$(snapshot "$HIVE")"
	check "$1: nothing created under ROOT/run on disk" test ! -e "$R/run/enter"
}

# refused_by_colmena DESC: colmena's status, nothing deployed.
refused_by_colmena() {
	expect_eq "$1: exit status $COLMENA_REFUSED, colmena's" "$COLMENA_REFUSED" "$STATUS"
	no_generation "$1"
	expect_eq "$1: nothing written to the ESP" marker.conf "$(esp_entries)"
	expect_not_contains "$1: no boot entry claimed" "$ERR" "boot entry"
}

# --- the default: boot, node from the target's hostname, hive in .

# The target's fstab is read once per run: the plan made once is what is
# printed, checked and run.
new_target fstab-once
fstab_reads "$DEPLOY" "$R" --hive "$HIVE"
D="fstab read once"
ran "$D" "apply-local --node fixturehost boot"
expect_eq "$D: the target's fstab opened once" 1 "$FSTAB_READS"

new_target default
run_cmd env -C "$HIVE" "$DEPLOY" "$R"
D="boot, node and hive by default, stdin /dev/null"
ran "$D" "apply-local --node fixturehost boot"
new_generation "$D" fixturehost
deployed_from_hive "$D"
entry_on_esp "$D"
stderr_kept "$D"
expect_not_contains "$D: no hint" "$ERR" "$HINT"
after_run "$D"

new_target hive-option
run_cmd env -C / "$DEPLOY" "$R" --hive "$HIVE"
D="--hive DIR from /"
ran "$D" "apply-local --node fixturehost boot"
new_generation "$D" fixturehost
deployed_from_hive "$D"
entry_on_esp "$D"
after_run "$D"

new_target json
run_cmd "$DEPLOY" --json "$R" --hive "$HIVE"
D="--json"
ran "$D" "apply-local --node fixturehost boot"
expect_jq "$D: stdout is one JSON object" 'type == "object"'
expect_jq "$D: .status is 0" '.status == 0'
expect_jq "$D: .generation_before is 1" '.generation_before == 1'
expect_jq "$D: .generation_after is 2" '.generation_after == 2'
expect_jq "$D: .command is what ran" '.command | startswith("colmena apply-local --node fixturehost boot")'
stderr_kept "$D"
new_generation "$D" fixturehost
after_run "$D"

# --- the node: explicit, the target's own hostname

new_target node-other
run_cmd "$DEPLOY" "$R" --node other --hive "$HIVE"
D="--node other"
ran "$D" "apply-local --node other boot"
new_generation "$D" other
deployed_from_hive "$D"
entry_on_esp "$D"
after_run "$D"

new_target hostname-b target-b
run_cmd "$DEPLOY" "$R" --hive "$HIVE"
D="target hostname target-b"
ran "$D" "apply-local --node target-b boot"
new_generation "$D" target-b
entry_on_esp "$D"
after_run "$D"

# --- colmena refuses: unknown node, no allowLocalDeployment

new_target unknown-node
run_cmd "$DEPLOY" --json "$R" --node nosuch --hive "$HIVE"
D="--node nosuch"
expect_line "$D: colmena got: apply-local --node nosuch boot" "$(all_output)" \
	"colmena: args: apply-local --node nosuch boot"
expect_contains "$D: colmena's message" "$(all_output)" \
	"[ERROR] Host nosuch is not present in the Hive configuration."
refused_by_colmena "$D"
expect_not_contains "$D: no allowLocalDeployment hint (it is not the reason)" "$ERR" "$HINT"
expect_jq "$D: --json .status is colmena's" ".status == $COLMENA_REFUSED"
expect_jq "$D: --json .generation_after is 1" '.generation_after == 1'
after_run "$D"

new_target nolocal
run_cmd "$DEPLOY" "$R" --node nolocal --hive "$HIVE"
D="--node nolocal (no allowLocalDeployment)"
expect_contains "$D: colmena's message" "$(all_output)" \
	"[ERROR] Local deployment is not enabled for host nolocal."
refused_by_colmena "$D"
expect_contains "$D: the hint" "$ERR" "$HINT"
stderr_kept "$D"
after_run "$D"

run_cmd "$DEPLOY" "$R" --hive "$HIVE_NOLOCAL"
D="target's node without allowLocalDeployment"
expect_line "$D: colmena got: apply-local --node fixturehost boot" "$(all_output)" \
	"colmena: args: apply-local --node fixturehost boot"
expect_contains "$D: colmena's message" "$(all_output)" \
	"[ERROR] Local deployment is not enabled for host fixturehost."
refused_by_colmena "$D"
expect_contains "$D: the hint" "$ERR" "$HINT"
after_run "$D"

# No hive where colmena would look (only that directory is bound in, not its
# parents): refused before anything runs inside.
# refused_hive DESC WORD: exit 125, one line naming WORD, nothing ran inside.
refused_hive() {
	expect_eq "$1: exit 125" 125 "$STATUS"
	expect_one_line_error "$1: one line naming $2" "$2"
	expect_not_contains "$1: nothing ran inside (no activation)" "$ERR" "activating"
	no_generation "$1"
	after_run "$1"
}
run_cmd "$DEPLOY" "$R" --hive "$EMPTY_DIR"
refused_hive "--hive DIR without hive.nix" hive.nix
run_cmd env -C "$EMPTY_DIR" "$DEPLOY" "$R"
refused_hive "no --hive, no hive.nix in the current directory" "current directory"
run_cmd "$DEPLOY" "$R" --hive "$HIVE/hive.nix"
refused_hive "--hive FILE" "$HIVE/hive.nix"
run_cmd "$DEPLOY" "$R" --node "" --hive "$HIVE"
refused_hive "--node ''" "--node"

# A target without colmena: a line of enter-deploy's, not the shell's.
new_target no-colmena
without_tool colmena "$DEPLOY" "$R" --hive "$HIVE"

# --- goals: switch; NIXOS_INSTALL_BOOTLOADER passes through (enter(1) ENVIRONMENT)

new_target switch
run_cmd "$DEPLOY" "$R" switch --hive "$HIVE"
D="switch"
ran "$D" "apply-local --node fixturehost switch"
new_generation "$D" fixturehost
entry_on_esp "$D"
after_run "$D"

new_target install-bootloader
run_cmd env NIXOS_INSTALL_BOOTLOADER=1 "$DEPLOY" "$R" --hive "$HIVE"
D="NIXOS_INSTALL_BOOTLOADER=1"
ran "$D" "apply-local --node fixturehost boot"
expect_contains "$D: reaches colmena" "$(all_output)" \
	"installing the boot loader (NIXOS_INSTALL_BOOTLOADER=1)"
expect_contains "$D: the boot loader is on the ESP image" \
	"$(image_run "$ESP_DEV" cat EFI/systemd/systemd-bootx64.efi 2>&1 || true)" "fixture systemd-boot"
new_generation "$D" fixturehost
after_run "$D"

# --- /boot: required for boot and switch

new_target missing-source
MISSING_UUID=$(new_uuid)
printf 'UUID=%s /boot ext4 defaults 0 2\n' "$MISSING_UUID" >"$R/etc/fstab"
run_cmd "$DEPLOY" "$R" --hive "$HIVE"
refused_boot "fstab /boot source missing"
expect_contains "fstab /boot source missing: the error names the source" "$ERR" "UUID=$MISSING_UUID"
after_run "fstab /boot source missing"

new_target no-boot
fstab_without_boot
before=$(snapshot "$R")
run_cmd "$DEPLOY" "$R" --hive "$HIVE"
refused_boot "no /boot in fstab"
expect_eq "no /boot in fstab: ROOT unchanged" "$before" "$(snapshot "$R")"
after_run "no /boot in fstab"

run_cmd "$DEPLOY" "$R" switch --hive "$HIVE"
refused_boot "no /boot in fstab, switch" "^$PROG: .*(warn|not running|rarely)"
after_run "no /boot in fstab, switch"

# Whatever is mounted at ROOT/boot is the /boot.
new_target premounted
fstab_without_boot
mount "$ESP_DEV" "$R/boot"
before=$(host_mounts)
before_loops=$(loop_mounts)
run_cmd "$DEPLOY" "$R" --hive "$HIVE"
D="no /boot in fstab, the ESP mounted at ROOT/boot"
ran "$D" "apply-local --node fixturehost boot"
new_generation "$D" fixturehost
expect_contains "$D: the boot entry is on the ESP" \
	"$(cat "$R/boot/loader/entries/nixos-generation-2.conf" 2>&1)" "version Generation 2"
expect_eq "$D: host mount table unchanged" "$before" "$(host_mounts)"
check_no_new_loop_mounts "$D" "$before_loops"
umount "$R/boot"
after_run "$D, unmounted"

# --- --dry-run: the plan and the command, nothing changed

new_target dry-run
before=$(snapshot "$R")
run_cmd env -C "$HIVE" "$DEPLOY" "$R" --dry-run
D="--dry-run"
expect_ok "$D: exit 0"
expect_line "$D: the exact command line" "$OUT" "command: colmena apply-local --node fixturehost boot"
if names_path "$OUT" "$IN_HIVE"; then
	pass "$D: the plan names the bind at $IN_HIVE"
else
	fail "$D: the plan names the bind at $IN_HIVE" "stdout: $OUT"
fi
expect_contains "$D: the plan names the hive directory" "$OUT" "$HIVE"
if names_path "$OUT" /boot; then
	pass "$D: the plan names /boot"
else
	fail "$D: the plan names /boot" "stdout: $OUT"
fi
expect_not_contains "$D: colmena did not run" "$(all_output)" "colmena: args:"
expect_eq "$D: ROOT unchanged" "$before" "$(snapshot "$R")"
no_generation "$D"
expect_eq "$D: nothing written to the ESP" marker.conf "$(esp_entries)"
after_run "$D"

run_cmd "$DEPLOY" "$R" --dry-run --json --hive "$HIVE"
D="--dry-run --json"
expect_ok "$D: exit 0"
expect_jq "$D: stdout is one JSON object" 'type == "object"'
expect_jq "$D: it holds the command" 'tostring | contains("apply-local")'
expect_eq "$D: ROOT unchanged" "$before" "$(snapshot "$R")"
after_run "$D"

run_cmd "$DEPLOY" "$R" switch --dry-run --node other --hive "$HIVE"
expect_ok "--dry-run switch --node other: exit 0"
expect_line "--dry-run switch --node other: the exact command line" "$OUT" \
	"command: colmena apply-local --node other switch"
expect_eq "--dry-run, all: ROOT unchanged" "$before" "$(snapshot "$R")"
after_run "--dry-run, all"

# --- the ESP is let go: nothing holds the loop device once detached

detach_image "$ESP_DEV"
wait_detached "$T/esp.img" 10
