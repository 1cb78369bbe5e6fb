#!/usr/bin/env bash
# faults.sh: enter under injected system-call faults (enter(1) EXIT STATUS). Each
# system call on the way to the command fails in turn with EIO, and enter
# must either stop cleanly (exit 125, one line `enter: STEP ...`, nothing on
# stdout, the command not run) or get over it (exit 0, the command ran and
# saw the environment it sees without the fault, nothing on stderr but
# `enter: warning: ...` lines). In every case nothing is left behind: no
# mount in the caller's namespace, no process, nothing changed in ROOT but
# the API directories enter may create (enter(1) DESCRIPTION) (one left at mode 0700
# by a mkdir whose chmod failed is a change), nothing written outside.
#
# The setup path is found, not listed here. For each variant of the run
# (VARIANTS below), one run under `strace -f` without a fault records the
# calls up to the command's execve: in enter (from the first call that names
# ROOT or one of its parents, or its first openat2: before that it is the
# dynamic loader and the libraries' constructors), in its pid 1, and in the
# children pid 1 forks (activation, the command) until they exec. Then each
# (call, occurrence N) runs again under
#
#   strace -f -b execve -e inject=CALL:error=EIO:when=N
#
# strace counts occurrences per process: when=N fails the N-th call of every
# process that gets that far, the TAP line names the processes the fault was
# meant for, and a failure shows where it landed (strace's own log). -b
# execve detaches each process at its execve: what the target runs is neither
# traced nor faulted. A call made the same way at the same place in two
# variants (same process, occurrence and arguments) runs in the first only.
#
# A fault on the command's own execve may end in 126 with one line
# `enter: exec CMD: ...` (enter(1) EXIT STATUS: found, but it could not be run), as
# env(1) and chroot(1) exit 126 for any exec error but ENOENT.
#
# Not faulted: calls the kernel never fails (getuid, umask, ...); brk, whose
# raw form reports failure by returning the old break: an injected -EIO is
# taken by the libc for a success, and malloc crashes in memory it never
# got; and close, which frees the fd even when it reports an error, while an
# injected fault skips the call: the fd stays open, which never happens (a
# write end of a pipe left open in enter makes it wait for an EOF); and futex,
# whose unexpected errors glibc treats as fatal by design (abort, 'The futex
# facility returned an unexpected error code'), as the kernel never gives
# them for a wake or a wait on valid memory. Under
# AddressSanitizer (-Db_sanitize=address) the memory calls (mmap, munmap,
# mprotect, madvise, mremap) are left out too: its allocator aborts on a
# failing mmap by design, which says nothing of enter.
#
# An occurrence N of a call that enter's loader makes N times or more before
# enter's main() hits the loader as well (per-process counts): those come
# last in the selection, and a run where the loader gave up is a SKIP.
#
# Environment:
#   FAULT_RUNS   how many faulted runs at most (default 300); 0 or `all`: every
#                (call, occurrence) found (bench/stress.sh). Each call gets one
#                run per round, its occurrences spread evenly (the first, the
#                last, the middle, ...), until the budget is spent.
#   FAULT_CASES  run only these cases, e.g. `plain:fchmod:1 esp:openat:12`
#                (the ids of the TAP lines), to reproduce a failure.
# shellcheck source=tests/integration/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

need_cmds strace mkfs.ext4 losetup blkid
need_fs ext4
strace -f -qq -o /dev/null -b execve -e inject=getpid:error=EIO:when=1 true 2>/dev/null ||
	skip "strace cannot inject faults (strace -e inject=... -b execve)"

FAULT_RUNS=${FAULT_RUNS:-300}
[[ $FAULT_RUNS == all ]] && FAULT_RUNS=0
if [[ ! $FAULT_RUNS =~ ^[0-9]+$ ]]; then
	echo "faults.sh: FAULT_RUNS=$FAULT_RUNS: not a number (0 or all: every case)" >&2
	exit 2
fi
FAULT_CASES=${FAULT_CASES:-}
# Runs are short: a hang is a failure, and must not cost the whole test.
CASE_TIMEOUT=${ENTER_TEST_TIMEOUT:-20}

# libblkid's shared cache may be stale for loop devices other tests reuse.
export BLKID_FILE=$T/blkid.tab
# LeakSanitizer stops the world with ptrace, which fails under strace.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
NOT_FAULTED=' brk close exit exit_group futex rt_sigreturn getpid getppid gettid getuid geteuid getgid getegid set_tid_address umask '
# Not `ldd | grep -q`: under pipefail, grep leaving at the first match can
# kill ldd with SIGPIPE and make the test false (1 in 20 runs under load).
if [[ $(ldd "$ENTER" 2>/dev/null) == *libasan* ]]; then
	NOT_FAULTED+='mmap munmap mprotect madvise mremap '
	echo "# AddressSanitizer build: mmap, munmap, mprotect, madvise, mremap are not faulted"
fi

# ---------------------------------------------------------------- fixtures

# Host files that runs bind in: nothing may write there.
HOST=$T/host
mkdir -p "$HOST/bindsrc"
echo bind-src >"$HOST/bindsrc/marker"
echo bind-file >"$HOST/bindfile"

# An ESP for /boot from the fstab (attached here), and an image file for
# --boot IMAGE, which enter attaches to a loop device itself.
ESP_UUID=$(new_uuid)
make_esp "$T/esp.img" 64M "$ESP_UUID" "$(new_label esp)" esp-main
attach_image "$T/esp.img"
make_esp "$T/file.img" 64M "$(new_uuid)" "$(new_label file)" esp-file

# One line per variant: NAME, then enter's options (word-split: no blanks in
# $T). Together they take every kind of step: API directories created, binds
# of a directory and of a file, --tmpfs-tmp, the fstab's /boot by UUID= and
# the space check, an image attached to a loop device, activation (and its
# fork, exec and wait), --hardened, hostname, pivot_root, resolv.conf under
# the fresh /run. The cheap ones first: a call they share with a later
# variant runs there.
VARIANTS="
plain    --no-activate --bind $HOST/bindsrc /mnt/bind --ro-bind $HOST/bindfile /srv/bound
activate --silent
hardened --no-activate --hardened
image    --no-activate --boot $T/file.img --boot-min-free 1M
esp      --no-activate --tmpfs-tmp --boot-min-free 1M
"

# template VARIANT: the fixture root every run of VARIANT starts from, a
# copy of mkroot.sh's (whose dev, proc, sys, run, tmp are missing: enter
# creates them) with what the variant mounts onto.
template() {
	local tpl=$T/tpl/$1
	make_root "$tpl"
	case $1 in
	plain)
		mkdir -p "$tpl/mnt/bind" "$tpl/srv"
		: >"$tpl/srv/bound"
		;;
	esp)
		mkdir "$tpl/boot"
		printf '# faults.sh\nUUID=%s /boot ext4 defaults 0 2\n' "$ESP_UUID" >"$tpl/etc/fstab"
		;;
	image) mkdir "$tpl/boot" ;;
	esac
}

# The command of every run: from inside, the mounts (mount point=type, in
# mountinfo's order), the hostname, the seccomp mode and the capability
# sets; a faulted run that goes on must print what the run without a fault
# printed. Plain sh, no fork: it is not traced, but it must be quick. Its
# last argument names the command's execve in strace's log.
# shellcheck disable=SC2016 # expanded by the shell inside
PROBE='seen=
while read -r _ _ _ _ mp rest; do
	fs=${rest#* - }
	seen="$seen $mp=${fs%% *}"
done </proc/self/mountinfo
read -r host </proc/sys/kernel/hostname
st=
while read -r k v; do
	case $k in Seccomp:|CapBnd:|CapEff:) st="$st $k$v" ;; esac
done </proc/self/status
echo "faults-ran host=$host$st mounts:$seen"'
PROBE_CMD=(/bin/busybox sh -c "$PROBE" faults-probe)
PROBE_DESC=$(describe "$PROBE")

R=$T/r/root
CWD=$T/cwd
mkdir -p "$T/r" "$CWD"
# Each run is started from CWD, where nothing else runs: what is left with
# CWD or ROOT as its directory is a leftover of the run (run_pids).
cd "$CWD" || exit 1

# ROOT is copied from the template only when needed: after a run that
# changed nothing but the API directories it created (removed again), it is
# the template still, and ROOT_STATE (taken after the copy) its state.
ROOT_OF=''
ROOT_STATE=''
declare -A VARIANT_OPTS=()
while read -r v opts; do
	[[ -z $v ]] || VARIANT_OPTS[$v]=$opts
done <<<"$VARIANTS"

# fresh_root VARIANT: R as the template of VARIANT, ROOT_STATE its state_of;
# OPTS the variant's options, MISSING the API directories a run may create.
fresh_root() {
	if [[ $ROOT_OF != "$1" ]]; then
		if [[ -e $R ]]; then
			rm -rf --one-file-system -- "$R"
		fi
		cp -a -- "$T/tpl/$1" "$R"
		note_missing "$R"
		ROOT_STATE=$(state_of "$R" "$HOST")
		ROOT_OF=$1
	fi
	read -ra OPTS <<<"${VARIANT_OPTS[$1]}"
}

# judge_root: compare ROOT and the host files with ROOT_STATE (sets
# ROOT_CHANGES, OUTSIDE_CHANGES); when only the API directories were
# created, remove them: ROOT is the template again. Else the next run
# starts from a fresh copy.
judge_root() {
	local name line after dirs=()
	ROOT_CHANGES='' OUTSIDE_CHANGES=''
	after=$(state_of "$R" "$HOST")$'\n'
	# compare_states, without its line-by-line loop when nothing changed
	# but the directories it allows.
	for name in "${MISSING[@]}"; do
		line="$R $name d ${API_DIR_MODE[$name]} 0:0"
		[[ $after == *$'\n'"$line"$'\n'* ]] || continue
		after=${after/$'\n'"$line"$'\n'/$'\n'}
		dirs+=("$R/$name")
	done
	if [[ ${after%$'\n'} != "$ROOT_STATE" ]]; then
		compare_states "$ROOT_STATE" "$(state_of "$R" "$HOST")" "$R"
		ROOT_OF=''
		return 0
	fi
	if ((${#dirs[@]})) && ! rmdir -- "${dirs[@]}" 2>/dev/null; then
		ROOT_OF=''
	fi
	return 0
}

# ---------------------------------------------------------------- discovery

# The parents of ROOT (not /), as strace quotes them: the first call in
# enter that names one is enter's own (realpath(ROOT)), not the loader's.
ROOT_NAMES=()
p=$R
while [[ $p == /*/* ]]; do
	ROOT_NAMES+=("\"$p\"")
	p=${p%/*}
done
ROOT_NAMES+=("\"$p\"")

# setup_calls: from the strace log $T/discover.log, the calls of the setup
# path: one line per call, `call SYSCALL N ROLE TEXT`, N its occurrence in
# its process (as strace counts for when=), ROLE enter, init (pid 1),
# command (its child, until exec) or child (activation, until exec), TEXT
# the call as strace wrote it (its arguments); then `premain SYSCALL COUNT`
# for each call enter makes before its own code runs.
setup_calls() {
	local line pid sc enter_pid='' init_pid='' started=false name key text
	local -A count=() premain=() role=()
	local -a calls=()
	while IFS= read -r line; do
		[[ $line =~ ^([0-9]+)\ +([a-z0-9_]+)\((.*) ]] || continue
		pid=${BASH_REMATCH[1]}
		sc=${BASH_REMATCH[2]}
		text=${BASH_REMATCH[3]}
		if [[ -z $enter_pid ]]; then
			# strace's own execve of enter is not counted for when=.
			enter_pid=$pid
			[[ $sc == execve ]] && continue
		fi
		if [[ -z $init_pid && $pid != "$enter_pid" ]]; then
			init_pid=$pid
		fi
		key=$pid:$sc
		count[$key]=$((${count[$key]:-0} + 1))
		if [[ $pid == "$enter_pid" && $started == false ]]; then
			[[ $sc == openat2 ]] && started=true
			for name in "${ROOT_NAMES[@]}"; do
				[[ $line == *"$name"* ]] && started=true
			done
			if [[ $started == false ]]; then
				premain[$sc]=${count[$key]}
				continue
			fi
		fi
		calls+=("$sc ${count[$key]} $pid $text")
		# The command's execve ends the setup path (it is the last call
		# of it: a fault there is a failed exec).
		if [[ $sc == execve && $line == *'"faults-probe"]'* ]]; then
			role[$pid]="command"
			break
		fi
	done <"$T/discover.log"
	role[$enter_pid]=enter
	[[ -z $init_pid ]] || role[$init_pid]=init
	for line in "${calls[@]}"; do
		read -r sc key pid text <<<"$line"
		echo "call $sc $key ${role[$pid]:-child} $text"
	done
	for sc in "${!premain[@]}"; do
		echo "premain $sc ${premain[$sc]}"
	done
}

# normalize TEXT: NORM, a call's arguments without what changes from run
# to run or variant to variant (addresses, the result, the test's paths).
shopt -s extglob
normalize() {
	NORM=${1%%)+( )= *}
	[[ $NORM != *" <unfinished ...>" ]] || NORM="${NORM%% <unfinished ...>}..."
	NORM=${NORM//"$T"/\$T}
	NORM=${NORM//0x+([0-9a-f])/0x}
}

# discover VARIANT: a run under strace without a fault, which must work; its
# output is what a faulted run that goes on must print (CONTROL_OUT). Adds
# the variant's (SYSCALL, N) pairs to OCC["VARIANT SYSCALL"] (the Ns), the
# roles and the call to ROLES and CALLS["VARIANT SYSCALL N"], and how many
# calls of SYSCALL enter makes before its main() to PREMAIN["VARIANT SYSCALL"].
declare -A OCC=() ROLES=() CALLS=() PREMAIN=() CONTROL_OUT=() SEEN_CALL=()
discover() {
	local v=$1 what sc n role text pairs=0 ncalls=0 shared=0 key want sig
	local -A here=()
	fresh_root "$v"
	TIMEOUT=$CASE_TIMEOUT run_cmd strace -f -qq -b execve -o "$T/discover.log" \
		"$ENTER" "${OPTS[@]}" "$R" -- "${PROBE_CMD[@]}"
	LAST_CMD=${LAST_CMD/"$PROBE_DESC"/\"\$PROBE\"}
	# Warnings aside (a rescue system without /etc/resolv.conf says so).
	if [[ $STATUS != 0 || $OUT != "faults-ran host=fixturehost "* ]] ||
		grep -qv '^enter: warning: ' "$T/stderr"; then
		fail "$v: a run under strace without a fault works" "$(last_run)"
		return 0
	fi
	for want in /proc=proc /sys=sysfs /dev/pts=devpts /dev/shm=tmpfs /run=tmpfs; do
		if [[ $OUT != *" $want "* && $OUT != *" $want" ]]; then
			fail "$v: a run under strace without a fault works" "no $want inside" "$(last_run)"
			return 0
		fi
	done
	CONTROL_OUT[$v]=$OUT
	judge_root
	while read -r what sc n role text; do
		if [[ $what == premain ]]; then
			PREMAIN[$v $sc]=$n
			continue
		fi
		ncalls=$((ncalls + 1))
		[[ $NOT_FAULTED != *" $sc "* ]] || continue
		key="$v $sc $n"
		# The same call at the same place as in an earlier variant.
		normalize "$text"
		sig="$role $sc $n $NORM"
		if [[ -n ${SEEN_CALL[$sig]:-} && ${SEEN_CALL[$sig]} != "$v" ]]; then
			shared=$((shared + 1))
			continue
		fi
		SEEN_CALL[$sig]=$v
		if [[ -z ${here[$key]:-} ]]; then
			here[$key]=1
			OCC[$v $sc]+=" $n"
			CALLS[$key]="$sc($NORM)"
			pairs=$((pairs + 1))
		fi
		[[ ${ROLES[$key]:-} == *"$role"* ]] || ROLES[$key]+=${ROLES[$key]:+,}$role
	done < <(setup_calls)
	if ((ncalls == 0)); then
		fail "$v: the setup path has system calls" "none found in the strace log"
		return 0
	fi
	pass "$v: a run under strace without a fault works; $ncalls calls on the setup path, $pairs (call, occurrence) pairs to fault ($shared done in an earlier variant)"
}

# ---------------------------------------------------------------- selection

# spread N: SPREAD, 0..N-1 with the ends first, then the middles of the
# gaps, breadth first, so that any first part samples the range evenly.
spread() {
	local n=$1 lo hi mid qi=0 queue=()
	SPREAD=()
	((n > 0)) || return 0
	SPREAD=(0)
	((n > 1)) && SPREAD+=($((n - 1)))
	queue=(0 $((n - 1)))
	while ((qi < ${#queue[@]})); do
		lo=${queue[qi]} hi=${queue[qi + 1]}
		qi=$((qi + 2))
		((hi - lo > 1)) || continue
		mid=$(((lo + hi) / 2))
		SPREAD+=("$mid")
		queue+=("$lo" "$mid" "$mid" "$hi")
	done
}

# select_cases: CASES, the cases to run (`VARIANT:SYSCALL:N`): round by
# round, one more occurrence of each (variant, call), in spread order, until
# FAULT_RUNS is reached. Occurrences whose fault would land in enter's
# loader too come last. Run by variant, in the order of VARIANTS (a fresh
# ROOT at each change), then by call and occurrence.
select_cases() {
	local key round=0 more=true n pre v i
	local -A order=() chosen=()
	local -a keys clean shadowed ns idx sorted
	mapfile -t keys < <(printf '%s\n' "${!OCC[@]}" | LC_ALL=C sort)
	for key in "${keys[@]}"; do
		pre=${PREMAIN[$key]:-0}
		sorted=()
		for n in ${OCC[$key]}; do
			sorted[n]=$n
		done
		clean=() shadowed=()
		for n in "${sorted[@]}"; do
			if ((n > pre)); then clean+=("$n"); else shadowed+=("$n"); fi
		done
		ns=()
		spread "${#clean[@]}"
		for i in "${SPREAD[@]}"; do ns+=("${clean[i]}"); done
		spread "${#shadowed[@]}"
		for i in "${SPREAD[@]}"; do ns+=("${shadowed[i]}"); done
		order[$key]="${ns[*]}"
	done
	local budget=$FAULT_RUNS
	((budget > 0)) || budget=-1
	while [[ $more == true && $budget != 0 ]]; do
		more=false
		for key in "${keys[@]}"; do
			read -ra idx <<<"${order[$key]}"
			((round < ${#idx[@]})) || continue
			more=true
			chosen[$key]+=" ${idx[round]}"
			budget=$((budget - 1))
			((budget != 0)) || break
		done
		round=$((round + 1))
	done
	CASES=()
	while read -r v _; do
		[[ -n $v ]] || continue
		for key in "${keys[@]}"; do
			[[ $key == "$v "* && -n ${chosen[$key]:-} ]] || continue
			sorted=()
			for n in ${chosen[$key]}; do
				sorted[n]=$n
			done
			for n in "${sorted[@]}"; do
				CASES+=("$v:${key#* }:$n")
			done
		done
	done <<<"$VARIANTS"
}

# ---------------------------------------------------------------- one run

declare -A TOTAL=([injected]=0 [refused]=0 [exec]=0 [ran]=0 [bad]=0 [unreached]=0 [shadowed]=0)
BAD=()

# loop_left: a loop device still backed by the image enter attaches (it
# goes with its last user, perhaps a moment after the run: polled).
loop_left() {
	local deadline=$(($(now_ms) + 2000)) left
	while left=$(losetup -j "$T/file.img" 2>/dev/null) && [[ -n $left ]]; do
		if (($(now_ms) > deadline)); then
			printf '%s\n' "$left"
			return 0
		fi
		sleep 0.02
	done
	return 0
}

# word_diff A B: the words of A not in B (-word), and of B not in A (+word).
word_diff() {
	local w out=''
	local -A a=() b=()
	for w in $1; do a[$w]=1; done
	for w in $2; do b[$w]=1; done
	for w in $1; do [[ -n ${b[$w]:-} ]] || out+=" -$w"; done
	for w in $2; do [[ -n ${a[$w]:-} ]] || out+=" +$w"; done
	printf '%s' "${out# }"
}

# run_case VARIANT:SYSCALL:N: one faulted run, judged; one TAP line.
run_case() {
	local id=$1 v sc n injected where problems=() errs outcome lines left desc line log exec_failed loader_only warnings also=
	IFS=: read -r v sc n <<<"$id"
	if [[ -z ${CONTROL_OUT[$v]:-} || -z $sc || ! $n =~ ^[0-9]+$ ]]; then
		fail "$id: a case VARIANT:SYSCALL:N of a variant that ran"
		return 0
	fi
	fresh_root "$v"
	read_mounts MOUNTS_BEFORE
	TIMEOUT=$CASE_TIMEOUT run_cmd strace -f -qq -b execve -o "$T/strace.log" \
		-e trace="$sc" -e inject="$sc:error=EIO:when=$n" \
		"$ENTER" "${OPTS[@]}" "$R" -- "${PROBE_CMD[@]}"
	LAST_CMD=${LAST_CMD/"$PROBE_DESC"/\"\$PROBE\"}

	# Where the fault was meant to land, and where it did (strace's log).
	injected='' exec_failed=false loader_only=true
	mapfile -t log <"$T/strace.log"
	for line in "${log[@]}"; do
		[[ $line == *"(INJECTED)"* ]] || continue
		injected+=${injected:+$'\n'}$line
		[[ $line != *" execve("*'"faults-probe"]'* ]] || exec_failed=true
		# enter is the first process in the log
		[[ ${line%% *} == "${log[0]%% *}" ]] || loader_only=false
	done
	where=${ROLES["$v $sc $n"]:-?}
	((n > ${PREMAIN["$v $sc"]:-0})) || where+=", enter's loader"

	# Nothing left behind, whatever the outcome.
	if ! wait_run_gone "$CWD" "$R" 5; then
		problems+=("processes of the run left:" "$(describe_pids "${LEFT_PIDS[@]}")")
		kill_pids "${LEFT_PIDS[@]}"
	fi
	check_mounts "$MOUNTS_BEFORE"
	[[ -z $MOUNTS_CHANGES ]] || problems+=("the caller's mount table changed:" "$MOUNTS_CHANGES")
	judge_root
	[[ -z $OUTSIDE_CHANGES ]] || problems+=("changed outside ROOT:" "$OUTSIDE_CHANGES")
	[[ -z $ROOT_CHANGES ]] || problems+=("ROOT changed:" "$ROOT_CHANGES")
	if [[ $v == image ]]; then
		left=$(loop_left)
		[[ -z $left ]] || problems+=("a loop device is left on the image:" "$left")
	fi

	# The outcome: enter's own lines on stderr, warnings aside.
	errs='' lines=0 warnings=()
	mapfile -t log <"$T/stderr"
	for line in "${log[@]}"; do
		if [[ $line == "enter: warning: "* ]]; then
			warnings+=("${line//"$T"/\$T}")
			continue
		fi
		errs+=${errs:+$'\n'}$line
		lines=$((lines + 1))
	done
	if [[ $STATUS == 125 && -z $OUT && $lines == 1 ]] &&
		[[ $errs =~ ^enter:\ [a-z][a-z0-9_.-]*[\ :] && $errs == *": "* && $errs != *"(null)"* ]]; then
		outcome=refused
	elif [[ $STATUS == 126 && -z $OUT && $lines == 1 && $errs == "enter: exec "* &&
		$exec_failed == true ]]; then
		outcome="exec"
	elif [[ $STATUS == 0 && $OUT == "${CONTROL_OUT[$v]}" && $lines == 0 ]]; then
		outcome=ran
	else
		outcome=bad
		if [[ $STATUS == 0 && $OUT == faults-ran* ]]; then
			problems+=("the command ran in another environment than without the fault" \
				"(- without, + with the fault): $(word_diff "${CONTROL_OUT[$v]}" "$OUT")")
		elif [[ $OUT == faults-ran* ]]; then
			problems+=("the command ran, yet enter exits $STATUS, or says more than warnings")
		else
			problems+=("expected: exit 125 and one line 'enter: STEP ...', or the command run (exit 0)")
		fi
	fi
	if [[ -n $injected ]]; then
		TOTAL[injected]=$((TOTAL[injected] + 1))
	elif [[ $outcome == ran ]]; then
		outcome=unreached
	fi
	((${#problems[@]} == 0)) || outcome=bad
	# The fault also hit the dynamic loader (or a sanitizer's start-up) of
	# enter, which gave up before main(): nothing of enter was tested.
	# glibc's loader says so, or, when its first mmap fails, dies of SIGSEGV
	# in silence; then the fault landed in enter's process alone.
	if [[ $outcome == bad && $where == *loader* ]] && ((${#problems[@]} == 1)) &&
		[[ $ERR == *"error while loading shared libraries"* || $ERR == *Sanitizer* ||
			($STATUS == 139 && -z $ERR && $loader_only == true) ]]; then
		outcome=shadowed
	fi
	TOTAL[$outcome]=$((TOTAL[$outcome] + 1))

	desc="$id ($where)"
	errs=${errs//"$T"/\$T}
	# The warnings a run gave, on its TAP line.
	if ((${#warnings[@]} == 1)); then
		also=" (after ${warnings[0]})"
	elif ((${#warnings[@]} > 1)); then
		also=" (after ${#warnings[@]} warnings, the first: ${warnings[0]})"
	fi
	case $outcome in
	refused) pass "$desc: refused: $errs$also" ;;
	exec) pass "$desc: exec failed (126): $errs$also" ;;
	ran) pass "$desc: tolerated, the command ran$also" ;;
	unreached) pass "$desc: not reached (the count differs from the traced run)" ;;
	shadowed) pass "$desc # SKIP the fault hit enter's loader too: ${errs%%$'\n'*}" ;;
	bad)
		BAD+=("$id")
		# The probe's output is long: in full only where it matters.
		if [[ $OUT == "${CONTROL_OUT[$v]}" ]]; then
			OUT="faults-ran ... (the probe's output without the fault)"
		elif [[ $OUT == faults-ran* ]]; then
			OUT="faults-ran ... (another output than without the fault, see above)"
		fi
		fail "$desc: a clean refusal, or a run as without the fault" "${problems[@]}" \
			"meant for: ${CALLS["$v $sc $n"]:-?}" "injected: ${injected:-nowhere}" \
			"$(last_run)"
		;;
	esac
}

# ---------------------------------------------------------------- the runs

host_etc=$(snapshot /etc)
t0=$(now_ms)
while read -r v _; do
	[[ -n $v ]] || continue
	template "$v"
	discover "$v"
done <<<"$VARIANTS"

if [[ -n $FAULT_CASES ]]; then
	read -ra CASES <<<"$FAULT_CASES"
else
	select_cases
fi
total_pairs=0
for key in "${!OCC[@]}"; do
	read -ra ns <<<"${OCC[$key]}"
	total_pairs=$((total_pairs + ${#ns[@]}))
done
echo "# faults: ${#CASES[@]} runs of $total_pairs (call, occurrence) pairs" \
	"(${FAULT_CASES:+FAULT_CASES, }FAULT_RUNS=${FAULT_RUNS/#0/all}); setup: $((($(now_ms) - t0) / 1000)) s"

t1=$(now_ms)
for id in "${CASES[@]}"; do
	run_case "$id"
done

echo "# faults: ${TOTAL[injected]} injected, ${TOTAL[refused]} clean exits (125)," \
	"${TOTAL[ran]} tolerated (ran), ${TOTAL[bad]} bad"
echo "# faults: and ${TOTAL[exec]} failed execs of the command (126), ${TOTAL[unreached]}" \
	"not reached, ${TOTAL[shadowed]} where the loader gave up; runs: $((($(now_ms) - t1) / 1000)) s"
((${#BAD[@]} == 0)) || printf '# BAD: %s\n' "${BAD[@]}"

# The suite itself: faults must have landed, or every run above passed
# without testing anything.
if ((${#CASES[@]} > 0 && TOTAL[injected] * 2 >= ${#CASES[@]})); then
	pass "faults were injected in ${TOTAL[injected]} of ${#CASES[@]} runs"
else
	fail "faults were injected in most runs" "${TOTAL[injected]} of ${#CASES[@]} runs"
fi
expect_eq "the host's /etc is unchanged" "$host_etc" "$(snapshot /etc)"
