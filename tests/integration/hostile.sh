#!/usr/bin/env bash
# hostile.sh: a target root is untrusted data (enter(1) DESCRIPTION). An API
# directory that is a symlink or not a directory is refused (exit 125, one
# line naming it); nothing may be mounted, created or changed outside ROOT.
#
# Each case gets its own tree, laid out so that the relative symlinks, if
# followed on the host, land in it:
#
#   $T/CASE/canary/       files that must stay as they are
#   $T/CASE/a/host/       target of run -> ../../host
#   $T/CASE/a/b/root/     ROOT (sys -> ../../.. would reach $T/CASE)
# shellcheck source=tests/integration/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

host_root_mode=$(stat -c %a /)
host_etc=$(snapshot /etc)

# new_case NAME: a fresh tree; sets C (the case dir) and R (its ROOT).
new_case() {
	C=$T/$1
	R=$C/a/b/root
	mkdir -p "$C/canary" "$C/a/host"
	echo canary >"$C/canary/file"
	echo host >"$C/a/host/file"
	make_root "$R"
}

# outside: the case's tree without ROOT.
outside() {
	(cd "$C" && find . -xdev -path ./a/b/root -prune -o -printf '%p %y %m %s %l\n' | sort)
}

# refused CASE PATH: run enter on the planted root, expect a clean refusal
# naming PATH and nothing changed outside ROOT.
refused() {
	local name=$1 path=$2 before
	before=$(outside)
	run_cmd "$ENTER" "$R" -- /bin/sh -c 'echo ran'
	if [[ $STATUS == 125 ]]; then
		pass "$name: exit 125"
	else
		fail "$name: exit 125" "$(last_run)"
	fi
	expect_one_line_error "$name: one-line error" "$path"
	if names_path "$ERR" "$path"; then
		pass "$name: the error names $path"
	else
		fail "$name: the error names $path" "stderr: $ERR"
	fi
	expect_eq "$name: the command did not run" "" "$OUT"
	expect_eq "$name: nothing changed outside ROOT" "$before" "$(outside)"
	check_host_unchanged "$name"
}

new_case dev-to-slash
ln -s / "$R/dev"
refused "dev -> /" /dev

new_case proc-to-etc
ln -s /etc "$R/proc"
refused "proc -> /etc" /proc

new_case sys-up
ln -s ../../.. "$R/sys"
refused "sys -> ../../.." /sys

new_case run-to-host
ln -s ../../host "$R/run"
refused "run -> ../../host" /run

new_case dev-file
echo not-a-directory >"$R/dev"
refused "dev is a regular file" /dev

new_case run-fifo
mkfifo "$R/run"
refused "run is a fifo" /run

new_case proc-dangling
ln -s /nonexistent "$R/proc"
refused "proc -> /nonexistent (dangling)" /proc

expect_eq "the host's /etc is unchanged" "$host_etc" "$(snapshot /etc)"

# --- resolv.conf pointing out of ROOT: may run or refuse, must not escape

new_case resolv-escape
rm "$R/etc/resolv.conf"
ln -s ../../../../canary/resolv "$R/etc/resolv.conf"
before=$(outside)
run_cmd "$ENTER" "$R" -- /bin/busybox true
case $STATUS in
0) pass "resolv.conf -> ../../../../canary/resolv: ran" ;;
125) expect_one_line_error "resolv.conf -> ../../../../canary/resolv: refused cleanly" resolv.conf ;;
*) fail "resolv.conf -> ../../../../canary/resolv: runs or refuses cleanly" "$(last_run)" ;;
esac
check "resolv.conf escape: nothing created at the host-side target" test ! -e "$C/canary/resolv"
expect_eq "resolv.conf escape: nothing changed outside ROOT" "$before" "$(outside)"
check "resolv.conf escape: nothing created at the in-root target (not under /run)" test ! -e "$R/canary"
expect_eq "resolv.conf escape: the symlink is unchanged" ../../../../canary/resolv "$(readlink "$R/etc/resolv.conf")"
check_host_unchanged "resolv.conf escape"

# --- tmp -> /: ROOT's own /tmp is not missing, so nothing is chmod-ed

new_case tmp-to-slash
ln -s / "$R/tmp"
root_mode=$(stat -c %a "$R")
before=$(outside)
run_cmd "$ENTER" "$R" -- /bin/busybox true
case $STATUS in
0) pass "tmp -> /: ran" ;;
125) expect_one_line_error "tmp -> /: refused cleanly" /tmp ;;
*) fail "tmp -> /: runs or refuses cleanly" "$(last_run)" ;;
esac
expect_eq "tmp -> /: the host's / mode is unchanged" "$host_root_mode" "$(stat -c %a /)"
expect_eq "tmp -> /: ROOT's mode is unchanged" "$root_mode" "$(stat -c %a "$R")"
expect_eq "tmp -> /: nothing changed outside ROOT" "$before" "$(outside)"
check_host_unchanged "tmp -> /"

# --- a FIFO where enter reads a file must not hang it

new_case hostname-fifo
rm "$R/etc/hostname"
mkfifo "$R/etc/hostname"
TIMEOUT=15 run_cmd "$ENTER" "$R" --hostname fifo -- /bin/busybox true
expect_ne "etc/hostname is a fifo: enter does not hang on it" 124 "$STATUS"

# --- target text in messages cannot steer the administrator's terminal

# An fstab source with escape sequences (clear screen, set the title) ends up
# in the error line; so does what activation writes as a report record
# (target code that opens /proc/1/fd/N was able to reach the pipe before).
new_case escapes
printf 'LABEL=\033[2J\033]0;owned\007x /boot ext4 defaults 0 2\n' >"$R/etc/fstab"
expect_status 125 "$ENTER" "$R" --no-activate -- /bin/busybox true
expect_no_match "fstab source with escape sequences: no control character on stderr" \
	"$(tr -d '\n' <"$T/stderr" | tr '\000-\037\177' '#')" '#'
expect_contains "fstab source with escape sequences: the source is still named" "$ERR" 'LABEL=?[2J?]0;owned?x'
