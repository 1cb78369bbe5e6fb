#!/usr/bin/env bash
# examples.sh: the programs of examples/, which use only the public API as an
# embedder would, do what their comments say on fixture roots.
# shellcheck source=tests/integration/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

[[ -x ${EXAMPLES:-}/run-in-root && -x $EXAMPLES/check-json ]] || skip "examples not built (set EXAMPLES)"
need_cmds jq

R=$T/root
make_root "$R"

# run-in-root: the command's output and status, the target's hostname.
run_cmd "$EXAMPLES/run-in-root" "$R" /bin/busybox sh -c 'hostname; exit 7'
# (the first run created the API directories ROOT lacked: dev, proc, ...)
snapshot "$R" >"$T/before"
expect_eq "run-in-root: the command's status" 7 "$STATUS"
expect_eq "run-in-root: runs inside, with the target's hostname" fixturehost "$OUT"
run_cmd "$EXAMPLES/run-in-root" "$R" /bin/busybox sh -c 'kill -TERM $$'
expect_eq "run-in-root: 128+N for a command killed by signal N" 143 "$STATUS"

# run-in-root: a failure is one line naming step and path, with its exit code.
mkdir "$T/plain"
run_cmd "$EXAMPLES/run-in-root" "$T/plain" /bin/true
expect_eq "run-in-root: not a NixOS root exits 126" 126 "$STATUS"
expect_eq "run-in-root: one line" 1 "$(wc -l <"$T/stderr")"
expect_match "run-in-root: the line names the step and the path" "$ERR" \
	"^run-in-root: check $T/plain: not a NixOS root"
run_cmd "$EXAMPLES/run-in-root" "$R" /no/such/command
expect_eq "run-in-root: command not found exits 127" 127 "$STATUS"
expect_contains "run-in-root: ... and says so" "$ERR" "exec /no/such/command: command not found"
run_cmd "$EXAMPLES/run-in-root"
expect_eq "run-in-root: usage without ROOT" 2 "$STATUS"

# check-json: valid JSON with what enter --check --json reports.
run_cmd "$EXAMPLES/check-json" "$R"
expect_eq "check-json: a problem (no /boot) exits 1" 1 "$STATUS"
json_valid() { jq -e . "$1" >/dev/null; }
check "check-json: the output is JSON" json_valid "$T/stdout"
expect_eq "check-json: the target's hostname" fixturehost "$(jq -r .hostname "$T/stdout")"
expect_eq "check-json: the system's generation" 1 "$(jq -r .generation "$T/stdout")"
expect_eq "check-json: the same report as enter --check --json" \
	"$("$ENTER" "$R" --check --json 2>/dev/null)" "$OUT"
# A /boot the administrator mounted under ROOT (a tmpfs in the fstab would
# not do: enter mounts no pseudo filesystem on /boot, and says so).
mkdir -p "$R/boot"
mount -t tmpfs -o size=128m tmpfs "$R/boot"
run_cmd "$EXAMPLES/check-json" "$R"
umount "$R/boot"
expect_eq "check-json: /boot mounted under ROOT: no problem, exit 0" 0 "$STATUS"
expect_eq "check-json: ... and none listed" "[]" "$(jq -c .problems "$T/stdout")"
run_cmd "$EXAMPLES/check-json" "$T/plain"
expect_eq "check-json: not a NixOS root is a problem, exit 1" 1 "$STATUS"
expect_contains "check-json: ... listed" "$(jq -r '.problems[]' "$T/stdout")" "not a NixOS root"
run_cmd "$EXAMPLES/check-json" "$T/nonexistent"
expect_eq "check-json: a ROOT that does not exist exits 125" 125 "$STATUS"
expect_eq "check-json: ... with one line" 1 "$(wc -l <"$T/stderr")"

rmdir "$R/boot"
if [[ $(<"$T/before") == "$(snapshot "$R")" ]]; then
	pass "the examples changed nothing in ROOT after their first run"
else
	fail "the examples changed nothing in ROOT after their first run" \
		"$(diff "$T/before" <(snapshot "$R"))"
fi
