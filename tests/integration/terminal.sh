#!/usr/bin/env bash
# terminal.sh: with a terminal, the command gets a pseudo-terminal of its own,
# relayed by enter (SECURITY.md): TIOCSTI from inside cannot push input into
# the rescue shell, the command's terminal is the namespace's own, and the
# caller's terminal modes are restored afterwards.
# shellcheck source=tests/integration/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

[[ -x ${TIOCSTI:-} ]] || skip "TIOCSTI helper not built (set TIOCSTI)"
need_cmds script

R=$T/root
make_root "$R"

# script(1) reads its stdin from a fifo kept open and empty: no input, and
# no end of file that it would type as ^D on the terminal.
mkfifo "$T/keys"
exec 7<>"$T/keys"

# on_terminal SCRIPT: run bash SCRIPT on a fresh terminal made by script(1);
# the output, with carriage returns removed, goes to OUT, whatever SCRIPT's
# exit status.
on_terminal() {
	OUT=$(SHELL=/bin/bash timeout 30 script -qec "bash -c $(printf '%q' "$1")" /dev/null \
		<"$T/keys" 2>&1 | tr -d '\r') || true
}

# The check can fail: without enter, the injection reaches the shell that
# reads the terminal next.
on_terminal "$TIOCSTI 'echo INJECTED'\$'\\n'; read -r -t 2 line; echo \"outer read: [\$line]\""
expect_contains "control: TIOCSTI on the caller's terminal is read by the caller" \
	"$OUT" "outer read: [echo INJECTED]"

# Through enter: the injection lands in the command's own terminal and dies with it.
on_terminal "$(printf '%q ' "$ENTER" "$R" --no-activate --ro-bind "$TIOCSTI" /tiocsti \
	-- /tiocsti 'echo INJECTED'$'\n'); read -r -t 2 line; echo \"outer read: [\$line]\""
expect_contains "inside: the helper's TIOCSTI itself works" "$OUT" "tiocsti: pushed"
expect_contains "inside: nothing reaches the rescue shell's terminal" "$OUT" "outer read: []"

# The command's terminal belongs to the namespace's devpts instance.
on_terminal "$(printf '%q ' "$ENTER" "$R" --no-activate -- /bin/busybox tty)"
expect_match "the command's terminal is /dev/pts/N inside" "$OUT" '^/dev/pts/[0-9]+$'

# Terminal modes: the caller's are restored after a run (raw while relaying).
on_terminal "stty -g; $(printf '%q ' "$ENTER" "$R" --no-activate -- /bin/busybox true); stty -g"
before=$(sed -n 1p <<<"$OUT")
after=$(sed -n '$p' <<<"$OUT")
expect_eq "terminal modes restored after the run" "$before" "$after"

# Window size follows the caller's terminal.
on_terminal "stty rows 33 cols 77; $(printf '%q ' "$ENTER" "$R" --no-activate -- /bin/busybox stty size)"
expect_contains "the command sees the caller's window size" "$OUT" "33 77"

# Output and status go through the relay unchanged.
on_terminal "$(printf '%q ' "$ENTER" "$R" --no-activate -- /bin/sh -c 'echo relayed; exit 9'); echo \"status \$?\""
expect_contains "output relayed" "$OUT" "relayed"
expect_contains "status kept" "$OUT" "status 9"

# --- output for a human: progress lines and colour on a terminal only

on_terminal "$(printf '%q ' "$ENTER" "$R" -- /bin/busybox true)"
expect_contains "on a terminal: a progress line for activation" "$OUT" \
	"enter: activating /nix/var/nix/profiles/system"
run_cmd "$ENTER" "$R" -- /bin/busybox true
expect_not_contains "not on a terminal: no progress line" "$ERR" "enter: activating"
on_terminal "$(printf '%q ' "$ENTER" --silent "$R" -- /bin/busybox true)"
expect_not_contains "on a terminal, --silent: no progress line" "$OUT" "enter: activating"
expect_not_contains "on a terminal, --silent: nothing of activation" "$OUT" "activating the configuration"

esc=$'\033['
on_terminal "$(printf '%q ' env TERM=xterm "$ENTER" "$T/nonexistent")"
expect_contains "on a terminal: the error in colour" "$OUT" "${esc}1;31menter: open $T/nonexistent"
expect_contains "on a terminal: ... and the colour reset after it" "$OUT" \
	"enter: open $T/nonexistent: no such file or directory${esc}0m"
on_terminal "$(printf '%q ' env TERM=xterm NO_COLOR=1 "$ENTER" "$T/nonexistent")"
expect_contains "NO_COLOR: the error ..." "$OUT" "enter: open $T/nonexistent"
expect_not_contains "NO_COLOR: ... without colour" "$OUT" "$esc"
on_terminal "$(printf '%q ' env TERM=dumb "$ENTER" "$T/nonexistent")"
expect_not_contains "TERM=dumb: no colour" "$OUT" "$esc"
run_cmd env TERM=xterm "$ENTER" "$T/nonexistent"
expect_eq "not on a terminal: no colour, one line" "enter: open $T/nonexistent: no such file or directory" "$ERR"

# --- a terminal that stops reading (Ctrl-S, a hung terminal emulator) holds
# up the command's output, not enter: a SIGTERM still reaches the command.
# On a pty nobody reads, the command writes until the pty's buffer is full;
# the command's "ready" goes to a file, then enter gets SIGTERM.
stalled() {
	python3 - "$@" <<'PY'
import os, pty, signal, sys, time
ready, argv = sys.argv[1], sys.argv[2:]
pid, master = pty.fork()
if pid == 0:
    os.execv(argv[0], argv)
deadline = time.monotonic() + 20
while not os.path.exists(ready) and time.monotonic() < deadline:
    time.sleep(0.01)
time.sleep(0.2)  # a stalled terminal: its buffer fills, nobody reads the master
os.kill(pid, signal.SIGTERM)
deadline = time.monotonic() + 10
while time.monotonic() < deadline:
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        print("exit", os.waitstatus_to_exitcode(status))
        sys.exit(0)
    time.sleep(0.02)
os.kill(pid, signal.SIGKILL)
os.waitpid(pid, 0)
print("enter did not stop within 10 s of SIGTERM")
PY
}
need_cmds python3
OUT=$(stalled "$T/ready" "$ENTER" "$R" --no-activate --bind "$T" /t -- /bin/sh -c \
	'touch /t/ready; while :; do echo 0123456789012345678901234567890123456789; done')
expect_eq "a stalled terminal: SIGTERM reaches the command, enter exits 143" "exit 143" "$OUT"
