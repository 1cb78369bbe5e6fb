# shellcheck shell=bash
# shellcheck disable=SC2034 # ENTER, MKROOT, OUT: for the scripts that source this
# lib.sh: sourced by the scripts vm.sh runs inside the VM.  TAP on stdout;
# ENTER and MKROOT from the arguments vm.sh passed on (tests/vm/meson.build).
set -euo pipefail
ENTER=$1
MKROOT=$2
T=$(mktemp -d)
n=0
failed=0

pass() {
	echo "ok $((++n)) - $1"
}

fail() {
	echo "not ok $((++n)) - $1"
	shift
	local line
	for line in "$@"; do
		sed 's/^/#   /' <<<"$line"
	done
	failed=1
}

# expect_eq DESC WANT GOT
expect_eq() {
	if [[ $2 == "$3" ]]; then pass "$1"; else fail "$1" "expected: $2" "got:      $3"; fi
}

# run_cmd CMD...: OUT, ERR and STATUS of CMD.
run_cmd() {
	STATUS=0
	"$@" >"$T/stdout" 2>"$T/stderr" || STATUS=$?
	OUT=$(cat "$T/stdout")
	ERR=$(cat "$T/stderr")
}

# expect_ok DESC: the last run_cmd succeeded.
expect_ok() {
	if [[ $STATUS == 0 ]]; then pass "$1"; else fail "$1" "status $STATUS" "stderr: $ERR"; fi
}

# start_udev: udevd for /dev/disk/by-* links, as a NixOS installer has
# (tests that check enter without udev do not call it).
start_udev() {
	/lib/systemd/systemd-udevd --daemon
	udevadm trigger --action=add
	udevadm settle
}

# What the VM has assembled: mappings, pools, mounts; to compare.
vm_state() {
	ls /dev/mapper 2>/dev/null || true
	zpool list -H -o name 2>/dev/null || true
	cut -d' ' -f1-3 /proc/mounts
}

finish() {
	echo "1..$n"
	exit "$failed"
}
