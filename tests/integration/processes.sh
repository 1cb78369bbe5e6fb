#!/usr/bin/env bash
# processes.sh: nothing the command started outlives enter (enter(1) SIGNALS, EXIT STATUS),
# whether the command exits or enter itself is killed with SIGKILL.
# The sleep durations are markers, looked for in /proc/*/cmdline.
# shellcheck source=tests/integration/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

R=$T/root
make_root "$R"

# ps_of PID...: what those processes are, for a failure message.
ps_of() {
	local pid
	for pid in "$@"; do
		printf '%s: %s\n' "$pid" "$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)"
	done
}

# expect_gone DESC MARKER: right now, no process has MARKER in its command line.
expect_gone() {
	local left
	mapfile -t left < <(pids_matching "$2")
	if ((${#left[@]} == 0)); then
		pass "$1"
	else
		fail "$1" "$(ps_of "${left[@]}")"
		kill_pids "${left[@]}"
	fi
}

# --- the command exits, leaving a background child: gone when enter returns

run_cmd "$ENTER" "$R" --no-activate -- /bin/sh -c '/bin/busybox sleep 31338 & exit 0'
expect_ok "enter R --no-activate -- sh -c 'sleep 31338 & exit 0' exits 0"
expect_gone "no 'sleep 31338' left right after enter returned" "sleep 31338"

# Also when activation ran first (the command is not the first child).
run_cmd "$ENTER" "$R" -- sh -c 'sleep 31337 & exit 0'
expect_ok "activating: sh -c 'sleep 31337 & exit 0' exits 0"
expect_gone "activating: no 'sleep 31337' left right after enter returned" "sleep 31337"

# A daemon: forked twice, reparented, in a session of its own.
run_cmd "$ENTER" "$R" -- sh -c '(/bin/busybox setsid sleep 31336 &); exit 0'
expect_ok "sh -c '(setsid sleep 31336 &); exit 0' exits 0"
expect_gone "no daemonised 'sleep 31336' left right after enter returned" "sleep 31336"

# --- enter killed with SIGKILL: the command and its children die too

rm -f "$R/tmp/ready"
start_bg "$ENTER" "$R" -- sh -c 'sleep 31339 & touch /tmp/ready; sleep 31339'
if wait_for "$R/tmp/ready" 20; then
	kill -KILL "$BG_PID"
	wait_exit "$BG_PID" 5 "SIGKILL of enter: enter dies" || true
	none_left() {
		mapfile -t left < <(pids_matching "sleep 31339")
		((${#left[@]} == 0))
	}
	poll_until 5 none_left || true
	if ((${#left[@]} == 0)); then
		pass "SIGKILL of enter: no 'sleep 31339' survives"
	else
		fail "SIGKILL of enter: no 'sleep 31339' survives" "after 5 s:" "$(ps_of "${left[@]}")"
		kill_pids "${left[@]}"
	fi
fi
