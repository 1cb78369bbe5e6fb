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

# A path holding a newline stays on its line, escaped as in the JSON: the
# text plan is one step per line whatever a --bind or an fstab says.
NL_DST=$'/mnt/new\nline'
run_cmd "$ENTER" "$R" --boot none --dry-run --bind "$T" "$NL_DST"
expect_ok "--dry-run, a newline in --bind DST: exit 0"
expect_match "--dry-run, a newline in --bind DST: escaped on the bind line" "$OUT" \
	"^bind +$T -> /mnt/new\\\\nline "
expect_eq "--dry-run, a newline in --bind DST: no line starts with what followed it" "" \
	"$(grep '^line' <<<"$OUT" || true)"
run_cmd "$ENTER" "$R" --boot none --dry-run --json --bind "$T" "$NL_DST"
expect_eq "--dry-run --json, a newline in --bind DST: the same path" "$NL_DST" \
	"$(jq -r '.steps[] | select(.kind == "bind" and .origin == "--bind") | .target' "$T/stdout" 2>&1)"

# A plan that would fail is printed up to the failing step, with its
# error, and exits 125; the error is also enter's one line on stderr.
F=$T/boot-missing
make_root "$F"
echo 'UUID=0000-DEAD /boot vfat defaults 0 2' >"$F/etc/fstab"
run_cmd "$ENTER" "$F" --dry-run
expect_eq "--dry-run, /boot source missing: exit 125" 125 "$STATUS"
expect_match "--dry-run, /boot source missing: the steps before it are printed" "$OUT" \
	'^mkdir +/dev '
expect_match "--dry-run, /boot source missing: the last line names the failing step" \
	"$(tail -n1 <<<"$OUT")" '^failed +mount /boot \(UUID=0000-DEAD from .*/etc/fstab line 1\): '
expect_not_contains "--dry-run, /boot source missing: no exec line" "$OUT" "exec "
expect_match "--dry-run, /boot source missing: one line on stderr" "$ERR" '^enter: mount /boot \(UUID=0000-DEAD'
run_cmd "$ENTER" "$F" --dry-run --json
expect_eq "--dry-run --json, /boot source missing: exit 125" 125 "$STATUS"
expect_match "--dry-run --json, /boot source missing: .error names the step" \
	"$(jq -r .error "$T/stdout" 2>&1)" '^mount /boot \(UUID=0000-DEAD'
expect_eq "--dry-run --json, /boot source missing: .steps are there" true \
	"$(jq '.steps | length > 0' "$T/stdout" 2>&1)"

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
