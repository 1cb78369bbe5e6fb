#!/usr/bin/env bash
# killstorm.sh: enter killed with SIGKILL at random moments, during the setup
# and during the command (enter(1) SIGNALS: "If enter itself is killed, even by
# SIGKILL, the command and its children die too"; §7: no half-done mounts
# left anywhere). After every kill, within GONE_SECONDS:
#
#   - no process of the run is left (run_pids: working directory or root in
#     the run's directories; and, after each part of the test, no `sleep
#     $LONG_SLEEP` anywhere),
#   - this namespace's mount table is what it was (superblock options of
#     /dev/pts and /dev/shm included: activation remounts them),
#   - no loop device is left on an image enter attached (--boot IMAGE),
#   - ROOT is as it was, apart from the marker the command wrote and the API
#     directories enter creates when they are missing (whole, with their
#     mode: see compare_states).
#
# KILL_ITERATIONS kills (default 300; bench/stress.sh runs 2,000 and more),
# round robin over four configurations, each with a root of its own:
#
#   activate  activation on: the fixture's activate script mounts and
#             remounts /proc, /dev/pts, /dev/shm, /run inside
#   plain     --no-activate
#   esp       activation on, /boot from the root's fstab (UUID= of an ext4
#             image this test attached): kills land during the ESP's mount
#   image     --no-activate --boot IMAGE: enter attaches a loop device
#             itself (autoclear), so kills land during the attach too
#
# How long the setup takes is measured first, per configuration (the
# command writes a marker; its mtime against the moment enter was started),
# then each kill comes after a uniform random delay in 0..1.5 x that time:
# about two thirds land during the setup, one third during the command (as
# long as the machine is as busy as it was then). A kill counts as "during
# the command" when the marker was written. Half of
# the runs start without ROOT's API directories, so that kills also land
# between the creation of a directory and its chmod.
#
# The commands (one at random each run) leave `sleep $LONG_SLEEP` processes
# that run until killed: a plain sleep; a shell with two children; a daemon
# (setsid, forked twice, reparented); a shell ignoring TERM, HUP, INT and
# QUIT; a shell that stops itself (SIGSTOP).
#
# Then: deterministic cases (every process of the run stopped when enter is
# killed; a command ignoring the signals enter forwards), the init of the
# new pid namespace killed instead of enter (INIT_ITERATIONS, default 30),
# and controls that show the checks can fail: programs without the
# guarantees enter gives (no pid namespace; PR_SET_PDEATHSIG alone; a pid
# namespace whose init outlives its parent; a loop device without
# autoclear; mounts that propagate back)
# go through the same checks, which must report what they leave behind.
#
# KILL_SEED (default: random, printed) seeds the choice of configurations,
# commands and delays; the timing of a run is never quite the same again.
# shellcheck source=tests/integration/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

need_cmds mkfs.ext4 losetup blkid unshare chroot setpriv stat mkfifo mknod strace
need_fs ext4
export BLKID_FILE=$T/blkid.tab

KILL_ITERATIONS=${KILL_ITERATIONS:-300}
INIT_ITERATIONS=${INIT_ITERATIONS:-30}
KILL_SEED=${KILL_SEED:-$(((($$ << 15) ^ 10#${EPOCHREALTIME#*[.,]}) % 1073741824))}
RANDOM=$KILL_SEED
echo "# killstorm: KILL_SEED=$KILL_SEED KILL_ITERATIONS=$KILL_ITERATIONS INIT_ITERATIONS=$INIT_ITERATIONS"

# How long a killed run may take to be gone entirely, and how many
# failures of each kind are shown in full.
GONE_SECONDS=5
MAX_DETAILS=5
MARKER=killstorm-marker

# ---------------------------------------------------------------- time

# The polls below run while enter sets up: on a small machine a fork each
# millisecond (as $(now_ms) is) takes enough CPU from enter to make its
# setup twice as long. These read the clock without one.

# us_from_now SECONDS: a deadline, in microseconds, in DEADLINE.
us_from_now() {
	DEADLINE=$((${EPOCHREALTIME/[.,]/} + $1 * 1000000))
}

# past DEADLINE: true once the clock is past DEADLINE.
past() {
	((${EPOCHREALTIME/[.,]/} > $1))
}

# The random delays: read -t on a fifo that nobody writes waits with
# microsecond resolution, without the fork and exec of a sleep(1) whose
# start-up would blur them. Not a synchronisation: the moment of a kill is
# the thing that is random here.
mkfifo "$T/pause.fifo"
exec {PAUSE_FD}<>"$T/pause.fifo"

# pause_us N: wait N microseconds (none if N <= 0).
pause_us() {
	local s
	(($1 > 0)) || return 0
	printf -v s '%d.%06d' $(($1 / 1000000)) $(($1 % 1000000))
	read -rt "$s" -u "$PAUSE_FD" _ || true
}

# took WHAT: a comment with the time since the last one (or the start):
# where the time of a slow run of this test went.
TOOK_US=${EPOCHREALTIME/[.,]/}
took() {
	local d=$((${EPOCHREALTIME/[.,]/} - TOOK_US))
	printf '# %s took %d.%d s\n' "$1" $((d / 1000000)) $((d / 100000 % 10))
	TOOK_US=${EPOCHREALTIME/[.,]/}
}

# ms N: N microseconds as milliseconds, for messages, in MS.
ms() {
	printf -v MS '%d.%03d' $(($1 / 1000)) $(($1 % 1000))
}

# ---------------------------------------------------------------- fixtures

# The ESP of the esp configuration, attached here and found by UUID=; the
# image of the image configuration, never attached here.
ESP_UUID=$(new_uuid)
make_esp "$T/esp.img" 128M "$ESP_UUID" "$(new_label esp)" esp-main
attach_image "$T/esp.img"
ESP_DEV=$LOOP
expect_eq "fixture: blkid finds the ESP by UUID" "$ESP_DEV" "$(blkid -U "$ESP_UUID" || true)"
IMAGE=$T/image.img
make_esp "$IMAGE" 64M "$(new_uuid)" "$(new_label image)" esp-image

CONFIGS=(activate plain esp image)

# root_of CONFIG: the root of a configuration, in R.
root_of() {
	R=$T/r-$1
}

# make_config_root CONFIG: a fresh fixture root for CONFIG (also to start
# again after a run changed it); forgets the states prepare_root took.
declare -A STATES=()
make_config_root() {
	root_of "$1"
	[[ ! -e $R ]] || rm -rf --one-file-system -- "$R"
	STATES["$R true"]='' STATES["$R false"]=''
	make_root "$R"
	case $1 in
	esp)
		mkdir "$R/boot"
		printf '# killstorm.sh\nUUID=%s /boot ext4 defaults 0 2\n' "$ESP_UUID" >"$R/etc/fstab"
		;;
	image) mkdir "$R/boot" ;;
	# The controls run the command by chroot, with no /dev but this:
	# busybox sh opens /dev/null for every background job.
	control)
		mkdir -m 0755 "$R/mnt" "$R/dev"
		mknod -m 0666 "$R/dev/null" c 1 3
		;;
	esac
}

# config_opts CONFIG: enter's options for CONFIG, in OPTS.
config_opts() {
	case $1 in
	activate | esp | control) OPTS=() ;;
	plain) OPTS=(--no-activate) ;;
	image) OPTS=(--no-activate --boot "$IMAGE") ;;
	esac
}

for config in "${CONFIGS[@]}" control; do
	make_config_root "$config"
done

# The run's working directory, empty and used by nothing else: enter and
# its init are found there until pivot_root, everything after it in ROOT.
RUN_CWD=$T/run-cwd
mkdir "$RUN_CWD"

took "the fixtures"

# ---------------------------------------------------------------- commands
#
# Every command writes /$MARKER ("run N") once it runs, and leaves
# `sleep $LONG_SLEEP` processes that run until they are killed. busybox by
# its path: without activation there is no PATH to find it with.

VARIANTS=(sleeper forker daemon stubborn stopped)

# command_of VARIANT N: the sh -c text of a command, in CMD.
command_of() {
	local bb=/bin/busybox mark="echo 'run $2' >/$MARKER"
	local sleep="$bb sleep $LONG_SLEEP"
	case $1 in
	sleeper) CMD="$mark; exec $sleep" ;;
	forker) CMD="$sleep & $sleep & $mark; wait" ;;
	# Reparented to the init, in sessions of their own: out of reach of
	# anything that kills by process group or session.
	daemon) CMD="($bb setsid $sleep &); ($sleep &); $mark; exec $sleep" ;;
	stubborn) CMD="trap '' TERM HUP INT QUIT; $sleep & $mark; wait" ;;
	# The shell stops itself; its child keeps running.
	stopped) CMD="$sleep & $mark; kill -STOP \$\$; wait" ;;
	# For a control of the ROOT check: a write besides the marker.
	stray) CMD="echo stray >/etc/killstorm-stray; $mark; exec $sleep" ;;
	esac
}

# sleeper_pids: the processes with $LONG_SLEEP as an argument of its own
# (the command's sleeps; not enter nor the shell, whose `sh -c` argument
# holds it with the rest of the command). The pattern has a bracket so
# that grep's own argument does not match it.
sleeper_pids() {
	local f
	while read -r f; do
		f=${f#/proc/}
		echo "${f%/cmdline}"
	done < <(grep -lsxzE -- "${LONG_SLEEP:0:1}[${LONG_SLEEP:1:1}]${LONG_SLEEP:2}" /proc/[0-9]*/cmdline)
}

# ---------------------------------------------------------------- one run

# prepare_root R FRESH: ROOT as every run starts: without its API
# directories (FRESH true) or with them as enter makes them; its state
# (in STATE_BEFORE) and the mount table for judge_run. Forks are what this
# test spends its time on: one rmdir or mkdir, and the state of ROOT taken
# once for each root and FRESH (ROOT is the same each time, or rebuilt).
prepare_root() {
	local r=$1 d there=() absent=()
	[[ ! -e $r/$MARKER ]] || rm -f -- "$r/$MARKER"
	for d in "${API_DIRS[@]}"; do
		if [[ -d $r/$d ]]; then there+=("$r/$d"); else absent+=("$d"); fi
	done
	if [[ $2 == true ]]; then
		((${#there[@]} == 0)) || rmdir -- "${there[@]}"
	else
		for d in "${absent[@]}"; do
			mkdir -m "${API_DIR_MODE[$d]}" -- "$r/$d"
		done
	fi
	note_missing "$r"
	[[ -n ${STATES["$r $2"]:-} ]] || STATES["$r $2"]=$(state_of "$r")
	STATE_BEFORE=${STATES["$r $2"]}
	read_mounts MOUNTS_BEFORE
}

# argv_of PROGRAM R: the command line of a run in ARGV: enter with OPTS, or
# a control (see the controls at the end), running CMD in R. A control
# without a parent process of its own to kill, as enter is the command's,
# gets a shell for one.
# shellcheck disable=SC2016 # expanded by the shells these start
argv_of() {
	local parent=(/bin/sh -c '"$@" & wait' parent)
	case $1 in
	enter) ARGV=("$ENTER" "${OPTS[@]}" "$2" -- /bin/sh -c "$CMD") ;;
	no-pidns) ARGV=("${parent[@]}" chroot "$2" /bin/sh -c "$CMD") ;;
	pdeathsig) ARGV=("${parent[@]}" setpriv --pdeathsig KILL chroot "$2" /bin/sh -c "$CMD") ;;
	unshare-kill-child) ARGV=(unshare --pid --kill-child chroot "$2" /bin/sh -c "$CMD") ;;
	unshare-no-kill) ARGV=(unshare --pid --fork chroot "$2" /bin/sh -c "$CMD") ;;
	# A loop device on the image, without autoclear (the processes die
	# as enter's do).
	loop-no-autoclear)
		ARGV=(unshare --pid --kill-child /bin/sh -c
			'losetup -f -- "$1" && exec chroot "$2" /bin/sh -c "$3"' sh "$IMAGE" "$2" "$CMD")
		;;
	# A mount namespace of its own, but its mounts propagate to ours.
	propagating)
		ARGV=(unshare --mount --propagation unchanged --pid --kill-child /bin/sh -c
			'mount -t tmpfs killstorm-control "$1/mnt" && exec chroot "$1" /bin/sh -c "$2"'
			sh "$2" "$CMD")
		;;
	esac
}

# setup_run NAME CONFIG VARIANT PROGRAM FRESH: everything before the start;
# RUN_DESC says what the run is, for failure details; RUN_IMAGE the image
# file that must have no loop device after the run, if any.
setup_run() {
	RUN_NO=$1 RUN_CONFIG=$2 RUN_IMAGE=
	[[ $2 != image && $4 != loop-no-autoclear ]] || RUN_IMAGE=$IMAGE
	root_of "$2"
	RUN_ROOT=$R
	config_opts "$2"
	command_of "$3" "$1"
	prepare_root "$RUN_ROOT" "$5"
	argv_of "$4" "$RUN_ROOT"
	RUN_DESC="run $1: $4, $2, $3 command, API directories present"
	[[ $5 != true ]] || RUN_DESC=${RUN_DESC/%present/missing}
}

# start_run: start ARGV in the background from RUN_CWD, without the pause
# fifo; RUN_PID, and RUN_T0 (microseconds) just before the fork.
start_run() {
	RUN_T0=${EPOCHREALTIME/[.,]/}
	(cd -- "$RUN_CWD" && exec "${ARGV[@]}" {PAUSE_FD}>&-) >"$T/run.out" 2>"$T/run.err" &
	RUN_PID=$!
}

# wait_marker SECONDS: until the command wrote RUN_ROOT/$MARKER; status 1
# on timeout or when the run ended first. Every 10 ms: a closer look would
# take the CPU from the setup it measures (the marker's mtime says when).
wait_marker() {
	us_from_now "$1"
	until [[ -s $RUN_ROOT/$MARKER ]]; do
		running "$RUN_PID" && ! past "$DEADLINE" || return 1
		pause_us 10000
	done
}

# init_of SECONDS: the first child of RUN_PID (enter's init), in INIT_PID,
# once there is one; status 1 if the run ended or none came in time.
init_of() {
	local kids
	us_from_now "$1"
	while :; do
		kids=
		{ read -r kids <"/proc/$RUN_PID/task/$RUN_PID/children"; } 2>/dev/null || true
		INIT_PID=${kids%% *}
		[[ -z $INIT_PID ]] || return 0
		running "$RUN_PID" && ! past "$DEADLINE" || return 1
		pause_us 200
	done
}

# reap_run SECONDS [SIGNAL...]: send each SIGNAL to the run (which may
# have ended by itself already: its status tells), wait for it to end, its
# status in RUN_STATUS ("timeout": still there after SECONDS, then
# killed). bash tells of a background job killed by a signal on its
# stderr, at some command after it reaped it: expected here, so the kill
# and the wait are one, and not shown.
reap_run() {
	local st=0 sig
	us_from_now "$1"
	shift
	for sig in "$@"; do
		kill -"$sig" "$RUN_PID" || true
	done
	RUN_STATUS=0
	while running "$RUN_PID"; do
		if past "$DEADLINE"; then
			kill -KILL "$RUN_PID" || true
			RUN_STATUS=timeout
			break
		fi
		pause_us 1000
	done
	wait "$RUN_PID" || st=$?
	[[ $RUN_STATUS == timeout ]] || RUN_STATUS=$st
} 2>/dev/null

# wait_no_loop FILE SECONDS: until no loop device is backed by FILE; status
# 1 on timeout, `losetup -j` in LOOPS_LEFT.
wait_no_loop() {
	us_from_now "$2"
	while LOOPS_LEFT=$(losetup -j "$1" 2>/dev/null) && [[ -n $LOOPS_LEFT ]]; do
		! past "$DEADLINE" || return 1
		pause_us 10000
	done
}

# Counts and the first failures, by "KEY WHAT" (KEY: a configuration, or a
# case): runs, setup, command (where the kills landed), image (runs with
# the image), processes (survivors), and the problems: status, survivors
# (runs), mounts, loops, root.
declare -A N=() DETAILS=()

count() {
	N["$1 $2"]=$((${N["$1 $2"]:-0} + ${3:-1}))
}

# problem KEY WHAT DETAIL...: count a problem; keep the details of the first
# MAX_DETAILS of each kind.
problem() {
	local key=$1 what=$2
	shift 2
	count "$key" "$what"
	((${N["$key $what"]} <= MAX_DETAILS)) || return 0
	DETAILS["$key $what"]+=$(printf '%s\n' "$RUN_DESC" "$@" | sed '2,$s/^/    /')$'\n'
}

# judge_run KEY WANT_STATUS [SIGNAL...]: send each SIGNAL to the run, then
# judge it: its status (WANT_STATUS: a number, or "init": 125 and a line saying pid 1 was killed), survivors,
# mounts, loop devices, ROOT. Counts under KEY; leaves RUN_ROOT as it was.
judge_run() {
	local key=$1 want=$2 r=$RUN_ROOT left=() marker after dev
	shift 2
	reap_run "$GONE_SECONDS" "$@"
	case $want:$RUN_STATUS in
	*:timeout) problem "$key" status "still running $GONE_SECONDS s after the kill" ;;
	# Its init killed: enter's own failure (125), said in one line.
	init:125)
		grep -q '^enter: init: pid 1 of the new namespaces killed by signal 9' "$T/run.err" ||
			problem "$key" status "exit 125, but stderr does not say pid 1 was killed" \
				"stderr: $(<"$T/run.err")"
		;;
	init:*) problem "$key" status "exit $RUN_STATUS, not 125 (its init was killed)" \
		"stderr: $(<"$T/run.err")" ;;
	"$want:$want") ;;
	*)
		problem "$key" status "exit $RUN_STATUS, not $want (ended by itself before the kill?)" \
			"stderr: $(<"$T/run.err")"
		;;
	esac

	# Processes: what is still in the run's directories (a sleep of ours
	# elsewhere would be an escape from ROOT: no_sleepers looks for those
	# after each part of the test, as reading every process's command
	# line after every run takes longer than the rest of the checks).
	wait_run_gone "$RUN_CWD" "$r" "$GONE_SECONDS" || true
	left=("${LEFT_PIDS[@]}")
	if ((${#left[@]})); then
		count "$key" processes "${#left[@]}"
		problem "$key" survivors "${#left[@]} process(es) still there after $GONE_SECONDS s:" \
			"$(describe_pids "${left[@]}")"
		kill_pids "${left[@]}"
		wait_run_gone "$RUN_CWD" "$r" "$GONE_SECONDS" || true
	fi

	# Where the kill landed: the marker is written once the command runs,
	# and nothing of the run is left to write one now.
	if [[ -e $r/$MARKER ]]; then
		count "$key" command
		marker=
		read -r marker <"$r/$MARKER" || true
		# Empty: killed between the open and the write.
		[[ -z $marker || $marker == "run $RUN_NO" ]] ||
			problem "$key" root "the marker holds \"$marker\", not \"run $RUN_NO\""
		rm -f -- "$r/$MARKER"
	else
		count "$key" setup
	fi

	check_mounts "$MOUNTS_BEFORE"
	[[ -z $MOUNTS_CHANGES ]] ||
		problem "$key" mounts "the mount table changed (repaired since):" "$MOUNTS_CHANGES"

	if [[ -n $RUN_IMAGE ]]; then
		count "$key" image
		if ! wait_no_loop "$RUN_IMAGE" "$GONE_SECONDS"; then
			problem "$key" loops "a loop device is still attached to the image:" "$LOOPS_LEFT"
			while IFS=: read -r dev _; do
				losetup -d "$dev" 2>/dev/null || true
			done <<<"$LOOPS_LEFT"
		fi
	fi

	# compare_states reads its input a byte at a time: only when the
	# state is neither the one before nor the one with every API
	# directory there as enter makes them (which a run may leave).
	after=$(state_of "$r")
	ROOT_CHANGES='' OUTSIDE_CHANGES=''
	if [[ $after != "$STATE_BEFORE" && $after != "${STATES["$r false"]:-}" ]]; then
		compare_states "$STATE_BEFORE" "$after" "$r"
	fi
	if [[ -n $ROOT_CHANGES || -n $OUTSIDE_CHANGES ]]; then
		problem "$key" root "ROOT (or the host's /) changed:" "$ROOT_CHANGES$OUTSIDE_CHANGES"
		# The next run starts from a clean root.
		[[ -z $ROOT_CHANGES ]] || make_config_root "$RUN_CONFIG"
	fi
	count "$key" runs
}

# no_sleepers LABEL: no `sleep $LONG_SLEEP` of this test is left anywhere
# (the runs are checked one by one in ROOT and their directory: one that
# escaped both would still be there). One TAP line; they are killed.
no_sleepers() {
	local left
	mapfile -t left < <(sleeper_pids)
	if ((${#left[@]} == 0)); then
		pass "$1: no sleep $LONG_SLEEP of the commands left anywhere"
	else
		fail "$1: no sleep $LONG_SLEEP of the commands left anywhere" \
			"$(describe_pids "${left[@]}")"
		kill_pids "${left[@]}"
	fi
}

# ---------------------------------------------------------------- setup time

# pick_run CONFIG: a random command in VARIANT, API directories missing or
# not in FRESH, a delay in DELAY (microseconds, uniform in 0..1.5 x the
# setup time of CONFIG). $RANDOM of this shell, not of a subshell (which
# reseeds it): KILL_SEED gives the same choices again.
pick_run() {
	VARIANT=${VARIANTS[RANDOM % ${#VARIANTS[@]}]}
	FRESH=false
	if ((RANDOM % 2)); then
		FRESH=true
	fi
	DELAY=$(((RANDOM * 32768 + RANDOM) % (SETUP_US[$1] * 3 / 2 + 1)))
}

# calibrate NAME CONFIG: one run of CONFIG that is killed only once the
# command runs (and judged, as any other), to measure how long from the
# start of enter to the command's first write. SETUP_US of CONFIG is the
# median of the last five. Every tenth run of a configuration is one: the
# setup takes twice as long when other tests share the machine, and the
# delays must follow, or the kills all land in one phase. If the command
# never runs, there is no storm to make: the test stops (NO_SETUP_TIME).
declare -A SETUP_US=() SAMPLES=()
NO_SETUP_TIME=
calibrate() {
	local config=$2 mtime samples
	setup_run "$1" "$config" sleeper enter true
	RUN_DESC+=", killed during the command (to measure the setup time)"
	start_run
	if ! wait_marker "$TIMEOUT"; then
		reap_run "$GONE_SECONDS" KILL
		fail "$config: the command runs (to measure the setup time)" \
			"status: $RUN_STATUS" "stderr: $(<"$T/run.err")"
		NO_SETUP_TIME=$config
		return 0
	fi
	mtime=$(stat -c %.6Y -- "$RUN_ROOT/$MARKER")
	judge_run "$config" 137 KILL
	read -ra samples <<<"${SAMPLES[$config]:-} $((${mtime/[.,]/} - RUN_T0))"
	((${#samples[@]} <= 5)) || samples=("${samples[@]: -5}")
	SAMPLES[$config]=${samples[*]}
	mapfile -t samples < <(printf '%s\n' "${samples[@]}" | sort -n)
	SETUP_US[$config]=${samples[${#samples[@]} / 2]}
}

for config in "${CONFIGS[@]}"; do
	for i in 1 2 3 4 5; do
		calibrate "cal$i" "$config"
		[[ -z $NO_SETUP_TIME ]] || exit 1
	done
	ms "${SETUP_US[$config]}"
	echo "# $config: setup takes $MS ms (runs: ${SAMPLES[$config]} us)"
done
took "measuring the setup times (${#CONFIGS[@]} x 5 runs)"

# ---------------------------------------------------------------- the storm

# launch_run NAME CONFIG WHAT: a run of CONFIG (pick_run chooses its
# command, variant and delay), started, and this shell back after its delay,
# when WHAT (the kill) is due.
launch_run() {
	pick_run "$2"
	setup_run "$1" "$2" "$VARIANT" enter "$FRESH"
	ms "$DELAY"
	RUN_DESC+=", $3 $MS ms after the start"
	start_run
	pause_us $((DELAY - (${EPOCHREALTIME/[.,]/} - RUN_T0)))
}

for ((i = 1; i <= KILL_ITERATIONS; i++)); do
	config=${CONFIGS[i % ${#CONFIGS[@]}]}
	if ((i % (10 * ${#CONFIGS[@]}) < ${#CONFIGS[@]})); then
		calibrate "cal$i" "$config"
		[[ -z $NO_SETUP_TIME ]] || exit 1
	fi
	launch_run "$i" "$config" killed
	judge_run "$config" 137 KILL
done
took "the storm ($KILL_ITERATIONS runs)"
for config in "${CONFIGS[@]}"; do
	ms "${SETUP_US[$config]}"
	echo "# $config: setup took $MS ms at the end (runs: ${SAMPLES[$config]} us)"
done

# report KEY LABEL: the TAP lines of a configuration or case.
report() {
	local key=$1 label=$2 runs=${N["$1 runs"]:-0} what desc
	local where="${N["$1 setup"]:-0} during setup, ${N["$1 command"]:-0} during the command"
	for what in status survivors mounts loops root; do
		case $what in
		status) desc="enter died of the SIGKILL every time" ;;
		survivors) desc="no process of a run outlived it" ;;
		mounts) desc="the mount table is as before after every run" ;;
		loops)
			[[ -n ${N["$key image"]:-} ]] || continue
			desc="no loop device left on the image enter attached"
			;;
		root) desc="ROOT unchanged apart from the command's marker" ;;
		esac
		[[ $key == init && $what == status ]] && desc="enter exits by itself, 125, saying why"
		if [[ -z ${N["$key $what"]:-} ]]; then
			pass "$label: $desc ($runs runs: $where)"
		else
			fail "$label: $desc (failed in ${N["$key $what"]} of $runs runs: $where)" \
				"${DETAILS["$key $what"]}"
		fi
	done
}

total=0 setup=0 cmd=0 survivors=0 mounts=0
for config in "${CONFIGS[@]}"; do
	report "$config" "killstorm $config"
	runs=${N["$config runs"]:-0}
	# Enough runs that a uniform delay misses neither phase (all in one
	# of them: about (2/3)^30, once in 190,000 test runs).
	if ((runs >= 30)); then
		if ((${N["$config setup"]:-0} && ${N["$config command"]:-0})); then
			pass "killstorm $config: kills landed both during setup and during the command"
		else
			fail "killstorm $config: kills landed both during setup and during the command" \
				"setup: ${N["$config setup"]:-0}, command: ${N["$config command"]:-0}" \
				"measured setup time: ${SETUP_US[$config]} us"
		fi
	fi
	total=$((total + runs))
	setup=$((setup + ${N["$config setup"]:-0}))
	cmd=$((cmd + ${N["$config command"]:-0}))
	survivors=$((survivors + ${N["$config processes"]:-0}))
	mounts=$((mounts + ${N["$config mounts"]:-0}))
done
no_sleepers "killstorm"
echo "# killstorm: $total kills ($setup during setup, $cmd during the command)," \
	"$survivors survivors, $mounts mounts left"

# ---------------------------------------------------------------- deterministic cases

# Every process of the run stopped, the init included, when enter is
# killed: the death signal and the end of the namespace reach them anyway.
setup_run stop1 activate forker enter false
RUN_DESC+=", every process of the run stopped, then enter killed"
start_run
if wait_marker "$TIMEOUT"; then
	stopped=()
	for pid in $(run_pids "$RUN_CWD" "$RUN_ROOT"); do
		[[ $pid == "$RUN_PID" ]] || stopped+=("$pid")
	done
	((${#stopped[@]} == 0)) || kill -STOP "${stopped[@]}"
	# A SIGSTOP takes effect when the process next runs: wait for that.
	us_from_now 5
	while states=$(describe_pids "${stopped[@]}") && grep -qv '^[0-9]* \[T\]' <<<"$states"; do
		! past "$DEADLINE" || break
		pause_us 1000
	done
	expect_no_match "stopped: the init, the command and its children (${#stopped[@]}) are stopped" \
		"${states:-nothing found}" '^[0-9]+ \[[^T]\]|^nothing found$'
	judge_run stopped 137 KILL
else
	fail "stopped: the command runs" "stderr: $(<"$T/run.err")"
fi
report stopped "SIGKILL with every process of the run stopped"

# A command that ignores what enter forwards: SIGTERM to enter first (it
# reaches the command, which ignores it), then SIGKILL.
setup_run term1 plain stubborn enter false
RUN_DESC+=", SIGTERM then SIGKILL to enter"
start_run
if wait_marker "$TIMEOUT"; then
	# The marker comes after the fork, maybe before the exec of sleep.
	us_from_now 5
	until mapfile -t sleepers < <(sleeper_pids) && ((${#sleepers[@]})) || past "$DEADLINE"; do
		pause_us 1000
	done
	ign=$(sed -n 's/^SigIgn:\t//p' "/proc/${sleepers[0]:-0}/status" 2>/dev/null || true)
	# SIGTERM is signal 15: bit 14 of the mask.
	if [[ -n $ign ]] && ((0x$ign & 1 << 14)); then
		pass "stubborn: the command's sleep ignores SIGTERM (SigIgn $ign)"
	else
		fail "stubborn: the command's sleep ignores SIGTERM" "SigIgn: $ign" \
			"$(describe_pids "${sleepers[@]}")"
	fi
	judge_run stubborn 137 TERM KILL
else
	fail "stubborn: the command runs" "stderr: $(<"$T/run.err")"
fi
report stubborn "SIGKILL with a command that ignores TERM"
no_sleepers "stopped and stubborn"
took "the stopped and stubborn cases"

# ---------------------------------------------------------------- at one moment

# The storm finds this one in a few of 300 kills: pid 1 killed between the
# mkdir of a missing API directory and its chmod. The directory must already
# have its mode (it used to stay 0700 for good: the next run finds it there
# and plans nothing). strace puts the kill exactly there.
# They are made in the order dev proc sys run tmp: the first fchmod is dev's,
# the fifth tmp's.
for at in "dev 1 755" "tmp 5 1777"; do
	read -r dir when mode <<<"$at"
	K=$T/kill-at-chmod-$dir
	make_root "$K"
	strace -f -qq -o /dev/null -e trace=fchmod -e "inject=fchmod:signal=SIGKILL:when=$when" \
		"$ENTER" "$K" --no-activate -- /bin/busybox true >/dev/null 2>&1 || true
	expect_eq "killed at the chmod of a created /$dir: it is $mode already" "$mode" \
		"$(stat -c %a "$K/$dir" 2>&1)"
done

# ---------------------------------------------------------------- the init killed

# Not enter but the init of its pid namespace killed (the OOM killer's
# choice, say), at random moments: enter must notice and end by itself, and
# nothing be left.
for ((i = 1; i <= INIT_ITERATIONS; i++)); do
	config=${CONFIGS[i % ${#CONFIGS[@]}]}
	launch_run "init$i" "$config" "its init killed"
	if init_of 5; then
		RUN_DESC+=" (pid $INIT_PID)"
		kill -KILL "$INIT_PID" 2>/dev/null || true
	else
		RUN_DESC+=" (enter had no child)"
	fi
	judge_run init init
done
report init "the init killed"
no_sleepers "the init killed"
took "the init killed ($INIT_ITERATIONS runs)"

# ---------------------------------------------------------------- controls
#
# The same start, kill and checks for programs that lack what enter does,
# killed once the command runs: each must be reported. If one was not,
# the checks above would prove nothing.

# control NAME PROGRAM VARIANT WANT: a run of PROGRAM with the VARIANT
# command in the control root, killed during the command; WANT is what
# the checks must report (survivors, mounts, root), or "nothing". What
# survives here survives for good: 2 s tell as much as GONE_SECONDS.
control() {
	local name=$1 program=$2 variant=$3 want=$4 key=control-$1 what found='' desc
	setup_run "$name" control "$variant" "$program" false
	start_run
	if ! wait_marker "$TIMEOUT"; then
		reap_run "$GONE_SECONDS" KILL
		fail "control $name: the command runs" "status: $RUN_STATUS" "stderr: $(<"$T/run.err")"
		return 0
	fi
	GONE_SECONDS=2 judge_run "$key" 137 KILL
	for what in status survivors mounts loops root; do
		[[ -z ${N["$key $what"]:-} ]] || found+=" $what"
	done
	found=${found# }
	desc=$(describe "${ARGV[@]}")
	desc=${desc/"$(describe "$CMD")"/CMD}
	if [[ ${found:-nothing} == "$want" ]]; then
		pass "control $name: the checks report $want ($desc)"
	else
		fail "control $name: the checks report $want" "command: $desc" "CMD: $CMD" \
			"reported: ${found:-nothing}" "${DETAILS["$key ${found%% *}"]:-}"
	fi
}

# No pid namespace: the command outlives its parent.
control no-pidns no-pidns forker survivors
# PR_SET_PDEATHSIG alone: the command dies with its parent, its daemons
# (setsid, forked twice) do not.
control pdeathsig pdeathsig daemon survivors
# A pid namespace, but nothing kills its init when the parent dies.
control unshare-no-kill unshare-no-kill forker survivors
# A pid namespace whose init dies with its parent (enter's way): the
# daemons go with it.
control unshare-kill-child unshare-kill-child daemon nothing
# A loop device attached without autoclear outlives its user.
control loop-no-autoclear loop-no-autoclear sleeper loops
# Mounts made in a namespace of their own that propagate back to ours.
control propagating propagating sleeper mounts
# enter itself, with a command that writes besides its marker.
control stray-write enter stray root
no_sleepers "at the end"
took "the controls"
