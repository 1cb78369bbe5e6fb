#!/usr/bin/env bash
# dryrun.sh: --dry-run prints the plan and changes nothing (enter(1) --dry-run);
# --json makes it machine-readable. Only "a line names the target path" is
# relied on, not the wording.
# shellcheck source=tests/integration/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

command -v jq >/dev/null || skip "needs jq"

R=$T/root
make_root "$R"
before=$(snapshot "$R")
TARGETS=(/proc /sys /dev /dev/pts /dev/shm /run /tmp)

# --- text plan

run_cmd "$ENTER" "$R" --dry-run
expect_ok "enter R --dry-run exits 0"
for path in "${TARGETS[@]}"; do
	if names_path "$OUT" "$path"; then
		pass "--dry-run: a line names $path"
	else
		fail "--dry-run: a line names $path" "stdout: $OUT"
	fi
done
expect_match "--dry-run: the default command (the system's bash) is named" "$OUT" 'bash'
expect_eq "--dry-run: nothing created or changed in ROOT" "$before" "$(snapshot "$R")"
for d in dev proc sys run tmp; do
	check "--dry-run: ROOT/$d still absent" test ! -e "$R/$d"
done
check_host_unchanged "--dry-run"

run_cmd "$ENTER" "$R" --dry-run -- /bin/busybox echo dry-run-marker
expect_ok "--dry-run with a command exits 0"
expect_contains "--dry-run: the command is named" "$OUT" /bin/busybox
expect_not_contains "--dry-run: the command did not run (no bare marker line)" \
	"$(grep -vF /bin/busybox <<<"$OUT" || true)" dry-run-marker

# The free-space check is about a /boot: none here (nothing in the fstab,
# nothing mounted), so none in the plan; a /boot mounted by the
# administrator gets it.
run_cmd "$ENTER" "$R" --dry-run
expect_not_contains "--dry-run: no free-space check without a /boot" "$OUT" "free space"
B=$T/boot-mounted
make_root "$B"
mkdir "$B/boot"
mount -t tmpfs -o size=1M tmpfs "$B/boot"
run_cmd "$ENTER" "$B" --dry-run
expect_contains "--dry-run: a free-space check with /boot mounted" "$OUT" "free space on /boot"
umount "$B/boot"

run_cmd "$ENTER" --tmpfs-tmp --dry-run "$R"
expect_ok "--dry-run --tmpfs-tmp exits 0"
expect_match "--dry-run --tmpfs-tmp: a line names tmpfs" "$OUT" tmpfs

# --- JSON plan

run_cmd "$ENTER" "$R" --dry-run --json
expect_ok "enter R --dry-run --json exits 0"
if jq -e . >/dev/null 2>&1 <<<"$OUT"; then
	pass "--dry-run --json: stdout is JSON"
else
	fail "--dry-run --json: stdout is JSON" "stdout: $OUT"
fi
# jq_true FILTER: the filter holds on the last stdout.
jq_true() {
	jq -e "$1" "$T/stdout" >/dev/null 2>&1
}
check "--dry-run --json: a non-empty steps array" \
	jq_true '.steps | type == "array" and length > 0'
check "--dry-run --json: every step has kind and target" \
	jq_true '.steps | all(has("kind") and has("target"))' 
json_targets=$(jq -r '.steps[].target | strings' "$T/stdout" 2>/dev/null || true)
for path in "${TARGETS[@]}"; do
	if names_path "$json_targets" "$path"; then
		pass "--dry-run --json: a step targets $path"
	else
		fail "--dry-run --json: a step targets $path" "targets: $json_targets"
	fi
done
expect_eq "--dry-run --json: nothing created or changed in ROOT" "$before" "$(snapshot "$R")"
check_host_unchanged "--dry-run --json"
