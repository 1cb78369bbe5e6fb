#!/usr/bin/env bash
# exitsweep.sh: enter(1) EXIT STATUS swept rather than sampled. Every exit status
# 0..255 comes back as the command gave it; every signal 1..64 gives what §6
# says, whether the command sends it to itself or enter is sent it from
# outside; a signal the command survives (ignored by default, or a stop)
# never makes enter return; no fd but 0-2 (and what --preserve-fds keeps)
# reaches the command, and no host directory does, not even through
# /proc/1/fd. exitcodes.sh, signals.sh and fds.sh hold the single cases;
# this test adds the sweeps and what those leave out.
#
# The last line before the plan: `# exit codes: N/256 exact, signals: N/M exact`.
# shellcheck source=tests/integration/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

# In the sanitizer build, ASan catches SIGSEGV, SIGBUS and SIGFPE itself and
# exits 1: what is tested here is enter's default, dying of them.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}handle_segv=0:handle_sigbus=0:handle_sigfpe=0

# python3 stands in for a caller that ignores and blocks signals (bash can
# neither block a signal for its children nor un-ignore one); script(1)
# gives enter a terminal.
need_cmds python3 script
# The interpreter itself: a version manager's python3 shim costs half a second
# per run.
PYTHON=$(python3 -c 'import sys; print(sys.executable)')

# Core-dumping signals (QUIT, ILL, ABRT, SEGV...) kill the command or enter
# itself below: no core file in the caller's working directory or in ROOT.
ulimit -c 0

R=$T/root
make_root "$R"

EXIT_EXACT=0
SIG_EXACT=0
SIG_TOTAL=0

# $T/caller MODE CMD...: exec CMD from a caller hostile to signals; the
# dispositions that survive exec (ignored) and the mask are enter's start.
#   chld: SIGCHLD ignored, as a daemon that never waits for its children
#         leaves it.
#   all:  every other signal ignored, and every signal blocked, as nohup, a
#         `&` job or a service manager leave some of them. glibc refuses
#         its own 32 and 33, which a caller built otherwise (musl, Go) can
#         ignore: those by system call, where its number is known here.
cat >"$T/caller" <<EOF
#!$PYTHON
import ctypes, os, signal, sys

mode, argv = sys.argv[1], sys.argv[2:]
if mode == "chld":
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
else:
    for s in signal.valid_signals():
        if s not in (signal.SIGKILL, signal.SIGSTOP, signal.SIGCHLD):
            signal.signal(s, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
    # rt_sigaction, rt_sigprocmask; struct kernel_sigaction starts with the
    # handler (SIG_IGN: 1) on these, the rest zero.
    nr = {"x86_64": (13, 14), "aarch64": (134, 135), "riscv64": (134, 135)}
    if os.uname().machine in nr:
        act, procmask = nr[os.uname().machine]
        libc = ctypes.CDLL(None, use_errno=True)
        ign = (ctypes.c_ulong * 8)(1)
        every = ctypes.c_uint64(~0 & (2**64 - 1))
        for s in (32, 33):
            libc.syscall(act, s, ign, None, 8)
        libc.syscall(procmask, 0, ctypes.byref(every), None, 8)
os.execv(argv[0], argv)
EOF
chmod +x "$T/caller"

# ---------------------------------------------------------------- helpers

# sig_name N: SIGNAME for messages; bash has no name for 32 and 33, which
# glibc keeps for itself.
sig_name() {
	local name
	name=$(kill -l "$1" 2>/dev/null) || true
	if [[ -n $name ]]; then
		echo "SIG$name"
	else
		echo "signal $1"
	fi
}

# sig_check DESC WANT GOT [DETAIL...]: one signal case, counted for the
# summary line.
sig_check() {
	local desc=$1 want=$2 got=$3
	shift 3
	SIG_TOTAL=$((SIG_TOTAL + 1))
	if [[ $got == "$want" ]]; then
		SIG_EXACT=$((SIG_EXACT + 1))
		pass "$desc"
	else
		fail "$desc" "expected status $want, got $got" "$@"
	fi
}

# reaped: the background enter of this case is gone and waited for. lib.sh
# kills every pid of BG_PIDS at exit; with a hundred cases and pid_max as
# low as 32768, one of them could be some other process's by then.
reaped() {
	BG_PIDS=()
}

# first_child PID: PID's oldest living child, or nothing.
first_child() {
	local f=/proc/$1/task/$1/children c=() d stat ppid
	if [[ -e $f ]]; then
		# No newline at the end: read fails but fills c.
		{ read -ra c <"$f"; } 2>/dev/null || true
		[[ -z ${c[0]:-} ]] || echo "${c[0]}"
		return 0
	fi
	# Without CONFIG_PROC_CHILDREN: the ppid field of every stat.
	for d in /proc/[0-9]*; do
		{ read -r stat <"$d/stat"; } 2>/dev/null || continue
		read -r _ ppid _ <<<"${stat##*) }"
		if [[ $ppid == "$1" ]]; then
			echo "${d#/proc/}"
			return 0
		fi
	done
	return 0
}

# proc_state PID: R, S, T, Z... or nothing once PID is gone.
proc_state() {
	local stat
	{ read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 0
	stat=${stat##*) }
	echo "${stat:0:1}"
}

# find_command PID APPLET: the command of enter PID has exec'd
# `/bin/busybox APPLET ...` (before its exec it still carries enter's
# command line); sets INIT_PID (pid 1 of the namespace) and CMD_PID.
find_command() {
	local argv=()
	INIT_PID=$(first_child "$1")
	CMD_PID=''
	[[ -n $INIT_PID ]] || return 1
	CMD_PID=$(first_child "$INIT_PID")
	[[ -n $CMD_PID ]] || return 1
	mapfile -d '' argv 2>/dev/null <"/proc/$CMD_PID/cmdline" || true
	[[ ${argv[1]:-} == "$2" ]]
}

# wait_command PID APPLET SECONDS: until find_command PID APPLET; status 1
# if enter exited first or on timeout.
wait_command() {
	local deadline=$(($(now_ms) + $3 * 1000))
	while running "$1"; do
		find_command "$1" "$2" && return 0
		(($(now_ms) > deadline)) && return 1
		sleep 0.01
	done
	return 1
}

# settled PID: PID sleeps (in poll or a signalfd read where the kernel
# says) with no signal pending: whatever was sent to it has been handled.
settled() {
	local line state='' pending=0 wchan=''
	while IFS= read -r line; do
		case $line in
		State:*) state=${line#State:} ;;
		SigPnd:* | ShdPnd:*) [[ ${line#*:} =~ ^[[:space:]]*0+$ ]] || pending=1 ;;
		esac
	done 2>/dev/null <"/proc/$1/status" || return 1
	{ read -r wchan <"/proc/$1/wchan"; } 2>/dev/null || true
	[[ $state == *S* && $pending == 0 ]] || return 1
	# A kernel that hides wchan prints 0: state and pending must do.
	[[ -z $wchan || $wchan == 0 || $wchan == *poll* || $wchan == *signalfd* ]]
}

# wait_settled PID SECONDS: until settled PID; status 1 on timeout.
wait_settled() {
	poll_until "$2" settled "$1"
}

# wait_gone PID SECONDS: until PID no longer runs; status 1 on timeout.
wait_gone() {
	poll_until "$2" not_running "$1"
}
not_running() {
	! running "$1"
}

# stopped PID: the process is stopped (state T).
stopped() {
	[[ $(proc_state "$1") == T ]]
}

# exits_within PID SECONDS: like wait_exit, but a process still running at
# the deadline is left alone (status 1), for the caller to unblock.
exits_within() {
	wait_gone "$1" "$2" 2>/dev/null || return 1
	STATUS=0
	wait "$1" 2>/dev/null || STATUS=$?
}

# bg_wait SECONDS DESC: wait_exit for the background enter. bash reports a
# job killed by a signal ("PID Alarm clock  ...") on stderr at whatever
# command comes next, here this one: expected, and thrown away.
bg_wait() {
	wait_exit "$BG_PID" "$1" "$2" 2>/dev/null
}

# start_sleeper [WRAPPER...]: enter R running a plain `sleep` (no shell in
# between, so nothing changes its dispositions) in the background, through
# WRAPPER if given; returns once sleep runs. Status 1 (a failed check
# counted with the signals) if it never did.
start_sleeper() {
	start_bg "$@" "$ENTER" "$R" --no-activate -- /bin/busybox sleep "$LONG_SLEEP"
	wait_command "$BG_PID" sleep 20 && return 0
	sig_check "${DESC:-start} (the command never started)" started "no sleep" \
		"$(cat "$T/bg.err" 2>/dev/null)"
	{ kill -KILL "$BG_PID" && wait "$BG_PID"; } 2>/dev/null || true
	reaped
	return 1
}

# --------------------------------------------------------- exit 0..255
#
# --no-activate, and one deadline for the 256 runs rather than run_cmd's
# `timeout` and output files each, which cost a third of the time; a run
# that fails is run again with run_cmd for its details. exitcodes.sh has
# statuses with activation.

# shellcheck disable=SC2016 # expanded by the inner bash
timeout -k 5 "$((TIMEOUT * 4))" "$BASH" -c '
	for n in {0..255}; do
		"$1" "$2" --no-activate -- /bin/busybox sh -c "exit $n" >/dev/null 2>&1
		echo "$n $?"
	done' exitsweep "$ENTER" "$R" >"$T/exits" || true
declare -A exit_got=()
while read -r n got; do
	exit_got[$n]=$got
done <"$T/exits"
bad=()
for n in {0..255}; do
	if [[ ${exit_got[$n]:-} == "$n" ]]; then
		EXIT_EXACT=$((EXIT_EXACT + 1))
		continue
	fi
	run_cmd "$ENTER" "$R" --no-activate -- /bin/busybox sh -c "exit $n"
	if [[ -n ${exit_got[$n]:-} ]]; then
		bad+=("exit $n: got ${exit_got[$n]}; again: $STATUS${ERR:+, stderr: $ERR}")
	elif [[ $STATUS == "$n" ]]; then
		EXIT_EXACT=$((EXIT_EXACT + 1)) # not reached before the deadline: its own run decides
	else
		bad+=("exit $n: got $STATUS${ERR:+, stderr: $ERR}")
	fi
done
if ((${#bad[@]} == 0)); then
	pass "sh -c 'exit N' for N in 0..255: enter exits N"
else
	fail "sh -c 'exit N' for N in 0..255: enter exits N" "${bad[@]}"
fi

# ------------------------------------------- the command sends itself 1..64
#
# busybox sh ignores SIGQUIT, catches SIGINT and SIGCHLD, and `trap -` does
# not undo the QUIT; but it gives a program it execs the dispositions it
# started with. So the kill applet, exec'd in the shell's place (the same
# pid: the command), signals itself with exactly the dispositions and mask
# enter gave the command.

# self_cmd N: the command line of enter R whose command sends itself N.
self_cmd() {
	SELF=("$ENTER" "$R" --no-activate -- /bin/busybox sh -c "exec /bin/busybox kill -$1 \$\$")
}

# stopped_self N: the command stops itself with N (STOP, TSTP, TTIN, TTOU).
# A stopped command has not exited: enter waits, and once the command goes
# on (SIGCONT), returns its own status (the kill applet's 0). The kernel
# discards TSTP, TTIN and TTOU in an orphaned process group (whether enter's
# group is one depends on what started this test): then the command just
# goes on, and the status is 0 as well.
stopped_self() {
	local n=$1 desc state deadline
	desc="$(sig_name "$n") sent by the command to itself"
	self_cmd "$n"
	start_bg "${SELF[@]}"
	deadline=$(($(now_ms) + 20000))
	while :; do
		state=''
		if find_command "$BG_PID" kill; then
			state=$(proc_state "$CMD_PID")
			[[ $state == T ]] && break
		fi
		running "$BG_PID" || break
		if (($(now_ms) > deadline)); then
			bg_wait 0 "$desc: the command stops, or goes on" || true
			reaped
			return 0
		fi
		sleep 0.01
	done
	if [[ $state != T ]]; then
		bg_wait 5 "$desc" || true
		reaped
		sig_check "$desc: discarded (orphaned process group), the command goes on: exit 0" \
			0 "$STATUS" "stderr: $(cat "$T/bg.err")"
		return 0
	fi
	# Pid 1 has had the SIGCHLD of the stop and is back in its read.
	wait_settled "$INIT_PID" 5 || true
	if running "$BG_PID"; then
		pass "$desc: the command is stopped, enter waits"
	else
		fail "$desc: the command is stopped, enter waits" "enter returned"
	fi
	kill -CONT "$CMD_PID" 2>/dev/null || true
	bg_wait 10 "$desc: SIGCONT to the command, enter exits 0" || {
		reaped
		return 0
	}
	reaped
	sig_check "$desc: after SIGCONT to the command, its own status: exit 0" 0 "$STATUS" \
		"stderr: $(cat "$T/bg.err")"
}

for n in {1..64}; do
	name=$(sig_name "$n")
	case $name in
	SIGSTOP | SIGTSTP | SIGTTIN | SIGTTOU)
		stopped_self "$n"
		continue
		;;
	SIGCHLD | SIGCONT | SIGURG | SIGWINCH)
		want=0
		desc="$name sent by the command to itself: ignored by default, the command goes on: exit 0"
		;;
	SIGKILL)
		want=137
		desc="SIGKILL sent by the command to itself: exit 137"
		;;
	*)
		want=$((128 + n))
		desc="$name sent by the command to itself: exit $want"
		;;
	esac
	self_cmd "$n"
	run_cmd "${SELF[@]}"
	sig_check "$desc" "$want" "$STATUS" "$(last_run)"
done

# A stopped command and SIGTERM to enter. A stopped process keeps SIGTERM
# pending until SIGCONT, so forwarding it alone leaves enter waiting for
# ever, and `kill PID-of-enter` would not end a run. Decided here: a
# terminating signal sent to enter ends the run also when the command is
# stopped, as a shell's `kill` of a stopped job and systemd's stop do
# (both follow SIGTERM with SIGCONT).
desc="SIGTERM to enter while the command is stopped: exit 143"
self_cmd "$(kill -l STOP)"
start_bg "${SELF[@]}"
if wait_command "$BG_PID" kill 20; then
	poll_until 20 stopped "$CMD_PID" || true
	kill -TERM "$BG_PID"
	if exits_within "$BG_PID" 3 2>/dev/null; then
		sig_check "$desc" 143 "$STATUS" "stderr: $(cat "$T/bg.err")"
	else
		# Unblock it: the pending SIGTERM then ends the command.
		kill -CONT "$CMD_PID" 2>/dev/null || true
		bg_wait 10 "$desc: ends after SIGCONT to the command" || true
		sig_check "$desc" 143 "still running 3 s after SIGTERM" \
			"the command stayed stopped with SIGTERM pending; SIGCONT to it then gave $STATUS"
	fi
else
	bg_wait 5 "$desc: the command starts" || true
	sig_check "$desc" 143 "(the command never started: $STATUS)" "stderr: $(cat "$T/bg.err")"
fi
reaped

# ------------------------------------------- signals sent to enter: forwarded
#
# signals.sh sends each to an activating `sh -c '... exec sleep'`; here
# the command is sleep itself, and enter also starts from a caller that
# ignores and blocks every signal: a blocked signal is queued even when
# ignored, so enter's signalfd still sees it.

for caller in plain all; do
	wrapper=()
	how=''
	if [[ $caller == all ]]; then
		wrapper=("$T/caller" all)
		how=' (enter started with every signal ignored and blocked)'
	fi
	for sig in TERM HUP INT QUIT USR1 USR2; do
		want=$((128 + $(kill -l "$sig")))
		DESC="SIG$sig to enter$how: forwarded, sleep dies of it: exit $want"
		start_sleeper "${wrapper[@]}" || continue
		kill -"$sig" "$BG_PID"
		bg_wait 10 "$DESC" || {
			reaped
			continue
		}
		reaped
		sig_check "$DESC" "$want" "$STATUS" "stderr: $(cat "$T/bg.err")"
	done

	# WINCH goes enter -> pid 1 -> sleep, which ignores it by default: both
	# forwarders back in their wait with nothing pending means it arrived.
	DESC="SIGWINCH to enter$how: forwarded, sleep ignores it; SIGTERM then gives 143"
	start_sleeper "${wrapper[@]}" || continue
	kill -WINCH "$BG_PID"
	if wait_settled "$BG_PID" 5; then
		wait_settled "$INIT_PID" 5 || true
	fi
	if running "$CMD_PID" && running "$BG_PID"; then
		pass "SIGWINCH to enter$how: enter and the command go on"
	else
		fail "SIGWINCH to enter$how: enter and the command go on" \
			"enter: $(proc_state "$BG_PID"), command: $(proc_state "$CMD_PID")"
	fi
	kill -TERM "$BG_PID"
	bg_wait 10 "$DESC" || {
		reaped
		continue
	}
	reaped
	sig_check "$DESC" 143 "$STATUS" "stderr: $(cat "$T/bg.err")"
done

# ------------------------------------------- signals sent to enter: the rest
#
# §6 forwards TERM HUP INT QUIT USR1 USR2 WINCH. Any other signal that kills
# enter kills the run: pid 1 has PR_SET_PDEATHSIG, and the command dies
# with the namespace (processes.sh sends SIGKILL to an activating run).
# Stops stop enter alone; ignored ones change nothing.

for n in {1..64}; do
	name=$(sig_name "$n")
	case $name in
	SIGTERM | SIGHUP | SIGINT | SIGQUIT | SIGUSR1 | SIGUSR2 | SIGWINCH)
		continue # forwarded: above
		;;
	SIGCHLD | SIGCONT | SIGURG)
		DESC="$name to enter: ignored, enter and the command go on; SIGTERM then gives 143"
		start_sleeper || continue
		kill -"$n" "$BG_PID"
		# Ignored by default and not blocked by enter: discarded when sent.
		if ! running "$CMD_PID" || ! running "$BG_PID"; then
			fail "$name to enter: enter and the command go on" \
				"enter: $(proc_state "$BG_PID"), command: $(proc_state "$CMD_PID")"
		fi
		;;
	SIGSTOP | SIGTSTP | SIGTTIN | SIGTTOU)
		DESC="$name to enter: enter stops (or ignores it, in an orphaned process group),"
		DESC+=" the command goes on; after SIGCONT, SIGTERM gives 143"
		start_sleeper || continue
		kill -"$n" "$BG_PID"
		# Stopped, or back in poll with nothing pending: TSTP, TTIN and
		# TTOU are discarded in an orphaned process group.
		poll_until 5 eval 'stopped "$BG_PID" || settled "$BG_PID"' || true
		if [[ $(proc_state "$CMD_PID") == [RS] ]]; then
			pass "$name to enter: the command goes on"
		else
			fail "$name to enter: the command goes on" "command: $(proc_state "$CMD_PID")"
		fi
		kill -CONT "$BG_PID"
		;;
	*)
		want=$((128 + n))
		DESC="$name to enter: enter dies of it ($want), the command with it"
		start_sleeper || continue
		kill -"$n" "$BG_PID"
		bg_wait 10 "$DESC" || {
			reaped
			continue
		}
		reaped
		got=$STATUS
		wait_gone "$CMD_PID" 5 || got+=" (the command, pid $CMD_PID, still runs 5 s later)"
		sig_check "$DESC" "$want" "$got"
		continue
		;;
	esac
	kill -TERM "$BG_PID"
	bg_wait 10 "$DESC" || {
		reaped
		continue
	}
	reaped
	sig_check "$DESC" 143 "$STATUS" "stderr: $(cat "$T/bg.err")"
done

# ------------------------------------------- a signal before the command exists
#
# SIGTERM while activation runs: pid 1 keeps it until the command exists,
# which then dies of it before its exec (its body never runs).

A=$T/slowact
make_root "$A"
mkdir -m 1777 "$A/tmp"
cat >>"$A$(readlink "$A/nix/var/nix/profiles/system-1-link")/activate" <<'EOF'
touch /tmp/activating
while [ ! -e /tmp/go ]; do sleep 0.01; done
EOF
# The command is not started at all: also one that would ignore the signal
# (a forward to a started command would race with its first steps).
for cmd in 'touch /tmp/ran; exit 5' 'trap "" TERM; touch /tmp/ran; exit 5'; do
	desc="SIGTERM to enter during activation: the command ($cmd) never starts: exit 143"
	rm -f "$A/tmp/activating" "$A/tmp/go" "$A/tmp/ran"
	start_bg "$ENTER" "$A" -- /bin/busybox sh -c "$cmd"
	if wait_for "$A/tmp/activating" 20; then
		kill -TERM "$BG_PID"
		touch "$A/tmp/go"
		if bg_wait 10 "$desc"; then
			got=$STATUS
			[[ ! -e $A/tmp/ran ]] || got+=" (and the command ran)"
			sig_check "$desc" 143 "$got" "stderr: $(cat "$T/bg.err")"
		fi
	else
		touch "$A/tmp/go"
		bg_wait 10 "$desc" || true
	fi
	reaped
done

# ------------------------------------------- callers hostile to signals

# With SIGCHLD ignored, the kernel reaps enter's children itself and a
# waitpid() finds nothing: enter must still return the command's status.
for n in 0 42 255; do
	expect_status "$n" "$T/caller" chld "$ENTER" "$R" --no-activate -- \
		/bin/busybox sh -c "exit $n"
done
self_cmd "$(kill -l TERM)"
run_cmd "$T/caller" chld "${SELF[@]}"
sig_check "SIGTERM sent by the command to itself, enter started with SIGCHLD ignored: exit 143" \
	143 "$STATUS" "$(last_run)"

# The command starts with every disposition default and nothing blocked,
# whatever enter was started with.
zero_sigs=$'SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\nSigCgt:\t0000000000000000'
run_cmd "$ENTER" "$R" --no-activate -- /bin/busybox grep -E '^Sig(Blk|Ign|Cgt):' /proc/self/status
expect_eq "the command has no signal blocked, ignored or caught" "$zero_sigs" "$OUT"
run_cmd "$T/caller" all "$ENTER" "$R" --no-activate -- \
	/bin/busybox grep -E '^Sig(Blk|Ign|Cgt):' /proc/self/status
expect_eq "enter started with every signal ignored and blocked: the command has none of them" \
	"$zero_sigs" "$OUT"
run_cmd "$T/caller" all "$ENTER" "$R" -- \
	/bin/busybox grep -E '^Sig(Blk|Ign|Cgt):' /proc/self/status
expect_eq "activating, enter started with every signal ignored and blocked: the command has none" \
	"$zero_sigs" "$OUT"

# ------------------------------------------- fds
#
# fds.sh checks fds 7 and 8 and what --preserve-fds lets through. Here: low,
# scattered and high fds of every kind (a host directory among them), what
# each fd of the command is, and what pid 1 holds: the command is root in
# the namespace, so /proc/1/fd/N is as good as an fd of its own
# (/proc/1/fd/N/.. of a host directory leads out of ROOT).

# Inside: WHO FD KIND TARGET for every fd of the command (cmd) and of pid 1
# (pid1); KIND is dir or other. The glob's own directory fd is closed by
# the time the loop runs: [ -e ] skips it.
# shellcheck disable=SC2016 # expanded inside, by busybox sh
FD_LIST='for f in /proc/$$/fd/* /proc/1/fd/*; do
	[ -e "$f" ] || continue
	who=cmd
	case $f in /proc/1/*) who=pid1 ;; esac
	kind=other
	[ -d "$f" ] && kind=dir
	echo "$who ${f##*/} $kind $(/bin/busybox readlink "$f")"
done'

# fds_of WHO: the fd numbers of WHO in the last output, sorted, on one line.
fds_of() {
	sed -n "s/^$1 \([0-9]*\) .*/\1/p" <<<"$OUT" | sort -n | tr '\n' ' ' | sed 's/ $//'
}

# check_fd_listing LABEL WANT: the command's fds are WANT; none of them but
# a preserved one is a directory; pid 1 holds no directory and none of the
# caller's files beyond 0-2 (the command's own 0-2).
check_fd_listing() {
	local label=$1 want=$2
	expect_eq "$label: the command's fds are exactly $want" "$want" "$(fds_of cmd)"
	expect_no_match "$label: no fd 0-2 of the command is a directory" "$OUT" '^cmd [0-2] dir '
	expect_no_match "$label: pid 1 holds no directory (/proc/1/fd/N/.. would leave ROOT)" \
		"$OUT" '^pid1 [0-9]+ dir '
	expect_no_match "$label: pid 1 holds none of the caller's fds beyond 0-2" "$OUT" \
		'^pid1 [0-9]+ [a-z]+ .*/(hostdir|fd4|fd5|fd7|fifo9|fd1023)$'
}

mkdir "$T/hostdir"
for f in fd4 fd5 fd7 fd1023; do
	echo "$f" >"$T/$f"
done
mkfifo "$T/fifo9"
# Opened in this shell, so that every program started below inherits them.
exec 3<"$T/hostdir" 4<"$T/fd4" 5<"$T/fd5" 7<"$T/fd7" 9<>"$T/fifo9" 200</
high=''
nofile=$(ulimit -n)
if [[ $nofile == unlimited ]] || ((nofile > 1023)); then
	exec 1023<"$T/fd1023"
	high=' 1023'
else
	echo "# ulimit -n is $nofile: no fd 1023"
fi

run_cmd "$ENTER" "$R" --no-activate -- /bin/busybox sh -c "$FD_LIST"
expect_ok "caller fds 3 4 5 7 9 200$high open, --no-activate: the listing runs"
check_fd_listing "caller fds 3 4 5 7 9 200$high, --no-activate" "0 1 2"

run_cmd "$ENTER" "$R" -- /bin/busybox sh -c "$FD_LIST"
expect_ok "caller fds 3 4 5 7 9 200$high open, activating: the listing runs"
check_fd_listing "caller fds 3 4 5 7 9 200$high, activating" "0 1 2"

# --preserve-fds 2: 3 (a host directory, given on purpose) and 4, nothing
# above; pid 1 still keeps none of them once the command has them.
run_cmd "$ENTER" --preserve-fds 2 "$R" --no-activate -- /bin/busybox sh -c "$FD_LIST"
expect_ok "--preserve-fds 2 with fds 3 4 5 7 9 200$high open: the listing runs"
check_fd_listing "--preserve-fds 2" "0 1 2 3 4"

# On a terminal the command's 0-2 are the namespace's own pty; the master
# and the socket it came through stay with enter.
cmdline=$(printf '%q ' "$ENTER" "$R" --no-activate -- /bin/busybox sh -c "$FD_LIST")
run_cmd env SHELL="$BASH" script -qec "$cmdline" /dev/null
LAST_CMD="script -qec '$(describe "$ENTER" "$R") --no-activate -- sh -c \"\$FD_LIST\"' /dev/null"
expect_ok "on a terminal, caller fds 3 4 5 7 9 200$high open: the listing runs"
# A terminal ends lines with \r. script(1) writes ^D when its stdin
# (/dev/null) ends; the outer terminal, still canonical then, keeps it as a
# NUL that reads as data once enter sets raw mode, and the inner terminal
# echoes that as ^@ (^D had enter been quicker) before the first line.
OUT=$(tr -d '\r' <<<"$OUT" | sed '1s/^\^[@D]//')
check_fd_listing "on a terminal" "0 1 2"
not_pty=$(grep -E '^cmd [0-2] ' <<<"$OUT" | grep -vE '^cmd [0-2] other /dev/pts/[0-9]+$' || true)
if [[ -z $not_pty ]]; then
	pass "on a terminal: the command's 0-2 are a pty of its own"
else
	fail "on a terminal: the command's 0-2 are a pty of its own" "$not_pty"
fi

exec 3<&- 4<&- 5<&- 7<&- 9<&- 200<&-
[[ -z $high ]] || exec 1023<&-

echo "# exit codes: $EXIT_EXACT/256 exact, signals: $SIG_EXACT/$SIG_TOTAL exact"
