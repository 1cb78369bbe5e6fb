#!/usr/bin/env bash
# activation.sh: running the target's activate script (enter(1) DESCRIPTION, activation): where
# its output goes, --silent, --no-activate, a failing activation, --strict;
# its remounts must not reach the host's /dev/pts and /dev/shm; resolv.conf
# is bound after it, without writing to ROOT's /etc.
# shellcheck source=tests/integration/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

R=$T/root
make_root "$R"
etc_before=$(ls -A "$R/etc")
resolv_link=$(readlink "$R/etc/resolv.conf")
host_resolv=$(cat /etc/resolv.conf)
ACTIVATING="activating the configuration..."

# --- a default run activates

run_cmd "$ENTER" "$R" -- cat /run/activated
expect_ok "enter R -- cat /run/activated runs"
expect_eq "activation ran with IN_NIXOS_ENTER=1" 1 "$OUT"
expect_contains "activation output goes to stderr" "$ERR" "$ACTIVATING"
expect_not_contains "activation output does not go to stdout" "$OUT" "$ACTIVATING"
check_host_unchanged "after an activating run"

# bash: the one command in sw/bin that is not a busybox applet (busybox's sh
# runs its applets whatever PATH says).
run_cmd "$ENTER" "$R" -- sh -c 'command -v bash'
expect_eq "/run/current-system/sw/bin is in PATH" /run/current-system/sw/bin/bash "$OUT"

run_cmd "$ENTER" --silent "$R" -- cat /run/activated
expect_eq "--silent: activation still ran" 1 "$OUT"
expect_not_contains "--silent: no activation output" "$ERR$OUT" "$ACTIVATING"

run_cmd "$ENTER" --no-activate "$R" -- /bin/busybox test -e /run/activated
expect_eq "--no-activate: /run/activated absent" 1 "$STATUS"
expect_not_contains "--no-activate: no activation output" "$ERR$OUT" "$ACTIVATING"

run_cmd "$ENTER" --generic "$R" -- /bin/busybox test -e /run/activated
expect_eq "--generic: no activation" 1 "$STATUS"

# --- resolv.conf: the host's, bound at the symlink's destination under /run

run_cmd "$ENTER" "$R" -- cat /etc/resolv.conf
expect_ok "cat /etc/resolv.conf inside works after activation"
expect_eq "resolv.conf inside is the host's" "$host_resolv" "$OUT"
run_cmd "$ENTER" "$R" -- sh -c 'echo "nameserver 192.0.2.66" >/etc/resolv.conf'
expect_ne "resolv.conf inside is read-only" 0 "$STATUS"
expect_eq "the host's resolv.conf is unchanged" "$host_resolv" "$(cat /etc/resolv.conf)"
expect_eq "ROOT/etc/resolv.conf is still the same symlink" "$resolv_link" "$(readlink "$R/etc/resolv.conf")"
expect_eq "nothing new in ROOT/etc" "$etc_before" "$(ls -A "$R/etc")"
expect_eq "ROOT/run is empty on disk" "" "$(ls -A "$R/run")"

run_cmd "$ENTER" --no-resolv "$R" -- cat /etc/resolv.conf
expect_ne "--no-resolv: no resolv.conf inside" 0 "$STATUS"

# A plain file: bound over, read-only, the target's file untouched.
P=$T/plainresolv
make_root "$P"
rm "$P/etc/resolv.conf"
echo "nameserver 192.0.2.1 # target" >"$P/etc/resolv.conf"
run_cmd "$ENTER" "$P" -- cat /etc/resolv.conf
expect_eq "regular-file resolv.conf: the host's inside" "$host_resolv" "$OUT"
run_cmd "$ENTER" "$P" -- sh -c 'echo "nameserver 192.0.2.66" >/etc/resolv.conf'
expect_ne "regular-file resolv.conf: read-only inside" 0 "$STATUS"
expect_eq "regular-file resolv.conf: the target's file is unchanged" \
	"nameserver 192.0.2.1 # target" "$(cat "$P/etc/resolv.conf")"

# None at all: enter must not create one.
N=$T/noresolv
make_root "$N"
rm "$N/etc/resolv.conf"
run_cmd "$ENTER" "$N" -- true
expect_ok "no resolv.conf in the target: the command still runs"
check "no resolv.conf in the target: none was created" test ! -e "$N/etc/resolv.conf" -a ! -L "$N/etc/resolv.conf"

# --- a failing activation: a warning, or an error with --strict

F=$T/failing
make_root "$F"
touch "$F/etc/activate-fail"
run_cmd "$ENTER" "$F" -- /bin/sh -c 'exit 5'
expect_eq "failing activation: the command's status" 5 "$STATUS"
expect_match "failing activation: a warning on stderr mentions activation" \
	"$(grep -vF "$ACTIVATING" <<<"$ERR" || true)" '[Aa]ctivat'
expect_eq "failing activation: nothing on stdout" "" "$OUT"

run_cmd "$ENTER" --strict "$F" -- /bin/sh -c 'touch /tmp/ran'
expect_eq "--strict, failing activation: exit 125" 125 "$STATUS"
expect_match "--strict: the error mentions activation" \
	"$(grep -vF "$ACTIVATING" <<<"$ERR" || true)" '[Aa]ctivat'
check "--strict: the command did not run" test ! -e "$F/tmp/ran"

run_cmd "$ENTER" --strict "$R" -- true
expect_ok "--strict, activation succeeds: runs"

# --- an activation that cannot be started, told apart from one that failed

SYSTEM=$(readlink "$R/nix/var/nix/profiles/system-1-link")
A=$T/activate-kinds
make_root "$A"
ACTIVATE=$A$SYSTEM/activate

# activation_warns DESC WANT: a run with the activate script as it is now
# warns, in a line naming the script, WANT; the command still runs.
activation_warns() {
	run_cmd "$ENTER" "$A" -- /bin/busybox echo ran
	expect_eq "$1: the command ran" ran "$OUT"
	expect_match "$1: the warning names the script and says: $2" "$ERR" \
		"^enter: warning: activation /nix/var/nix/profiles/system/activate $2; going on"
}

printf '#!/bin/sh\nexit 127\n' >"$ACTIVATE"
activation_warns "activate exits 127 (a command of its own not found)" "exited with status 127"

chmod 0644 "$ACTIVATE"
activation_warns "activate not executable" "could not be started: permission denied"
run_cmd "$ENTER" --strict "$A" -- /bin/busybox echo ran
expect_eq "--strict, activate not executable: exit 125" 125 "$STATUS"
expect_one_line_error "--strict, activate not executable: one line naming it" \
	/nix/var/nix/profiles/system/activate
expect_contains "--strict, activate not executable: says why" "$ERR" "permission denied"

printf '#!/nonexistent/sh\n' >"$ACTIVATE"
chmod 0755 "$ACTIVATE"
activation_warns "activate's #! interpreter missing" \
	"could not be started: its interpreter /nonexistent/sh \\(the #! line\\) was not found"

rm "$ACTIVATE"
activation_warns "activate missing" "not found"

check_host_unchanged "after all activating runs"
