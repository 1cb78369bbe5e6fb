#!/usr/bin/env bash
# signals.sh: signals sent to enter reach the command, and its status tells
# (enter(1) SIGNALS, EXIT STATUS); Ctrl-C on a terminal.
#
# enter is started as a plain `&` job of this non-interactive bash, so it
# starts with SIGINT and SIGQUIT ignored, as under many wrappers; it must
# forward them anyway and give the command default dispositions.
# shellcheck source=tests/integration/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

R=$T/root
make_root "$R"
READY=$R/tmp/ready

# signal_case SIGNAL EXPECTED COMMAND: start enter running COMMAND (which
# touches /tmp/ready when set up), send SIGNAL to enter, expect its status.
signal_case() {
	local sig=$1 want=$2 cmd=$3 desc
	desc="SIG$sig to enter: exit $want (${3//$LONG_SLEEP/LONG})"
	rm -f "$READY"
	start_bg "$ENTER" "$R" -- sh -c "$cmd"
	wait_for "$READY" 20 || return 0
	# busybox sh ignores SIGQUIT: a signal between touch and exec would be
	# lost with the shell, so wait until sleep itself runs.
	wait_for_sleeper 10 || return 0
	kill -"$sig" "$BG_PID"
	wait_exit "$BG_PID" 10 "$desc" || return 0
	if [[ $STATUS == "$want" ]]; then
		pass "$desc"
	else
		fail "$desc" "got $STATUS" "stderr: $(cat "$T/bg.err")"
	fi
}

sleeper="touch /tmp/ready; exec sleep $LONG_SLEEP"

# wait_for_sleeper SECONDS: until a process runs `sleep $LONG_SLEEP`.
wait_for_sleeper() {
	local deadline=$((SECONDS + $1)) f
	while ((SECONDS < deadline)); do
		for f in /proc/[0-9]*/cmdline; do
			if [[ $(tr '\0' ' ' 2>/dev/null <"$f") == "sleep $LONG_SLEEP " ]]; then
				return 0
			fi
		done
	done
	fail "the command's sleep $LONG_SLEEP never started"
	return 1
}
signal_case TERM 143 "$sleeper"
signal_case INT 130 "$sleeper"
signal_case HUP 129 "$sleeper"
signal_case QUIT 131 "$sleeper"
signal_case USR1 138 "$sleeper"
signal_case USR2 140 "$sleeper"

# Caught: the command's own exit status, not the signal's.
signal_case TERM 3 "trap 'exit 3' TERM; touch /tmp/ready; sleep $LONG_SLEEP & wait"
signal_case INT 4 "trap 'exit 4' INT; touch /tmp/ready; sleep $LONG_SLEEP & wait"
signal_case WINCH 5 "trap 'exit 5' WINCH; touch /tmp/ready; sleep $LONG_SLEEP & wait"

# --- a failing poll() in enter's relay (ENOMEM, say) does not stop it
#
# strace (enter's own process only, not pid 1 and the command) makes enter's
# first poll() fail; enter must go on relaying, so that TERM still reaches
# the command, and say so once.
if command -v strace >/dev/null; then
	desc="poll() failing once in enter: SIGTERM still reaches the command, exit 143"
	rm -f "$READY"
	# LeakSanitizer stops the world with ptrace, which fails under strace
	# (exit 1 in the ASan build).
	start_bg env "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		strace -qq -o /dev/null -e trace=poll -e inject=poll:error=ENOMEM:when=1 \
		"$ENTER" "$R" -- sh -c "$sleeper"
	if wait_for "$READY" 20 && wait_for_sleeper 10; then
		kill -TERM "$(pgrep -P "$BG_PID" -x enter)"
		if wait_exit "$BG_PID" 10 "$desc"; then
			expect_eq "$desc" 143 "$STATUS"
			expect_match "poll() failing once in enter: a warning says so" \
				"$(cat "$T/bg.err")" "^enter: warning: poll: .*; trying again\$"
		fi
	fi
else
	pass "poll() failing in enter # SKIP strace not installed"
fi

# --- Ctrl-C typed on a terminal

# script(1) gives enter a terminal; its stdin is a fifo (a named pipe) written
# by this shell, so that ^C is typed only once the command is ready.
rm -f "$READY"
mkfifo "$T/keys"
cmdline=$(printf '%q ' "$ENTER" "$R" -- sh -c "$sleeper")
LAST_CMD="script -qec '$(describe "$ENTER" "$R") -- sh -c ...' /dev/null"
SHELL=/bin/sh script -qec "$cmdline" /dev/null <"$T/keys" >"$T/bg.out" 2>"$T/bg.err" &
BG_PID=$!
BG_PIDS+=("$BG_PID")
exec 3>"$T/keys"
if wait_for "$READY" 20; then
	printf '\003' >&3
	if wait_exit "$BG_PID" 10 "Ctrl-C on a terminal: exit 130"; then
		expect_eq "Ctrl-C on a terminal: exit 130" 130 "$STATUS"
	fi
fi
exec 3>&-
