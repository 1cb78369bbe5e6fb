# shellcheck shell=bash
# lib.sh: sourced by every integration test.
#
#   ENTER=build/tools/enter MKROOT=tests/fixtures/mkroot.sh bash tests/integration/NAME.sh
#
# Exit status: 0 all checks passed, 1 a check failed, 77 skipped (not root, no
# mount namespaces). Output is TAP: one `ok - ...` / `not ok - ...` line per
# check, details as `#` lines, the plan last.
#
# Each test runs in a mount namespace of its own whose mounts are all shared,
# as on a systemd host: a mount that enter leaks into its caller's namespace,
# or lets propagate back out of its own, shows up in the mount-table
# comparison at exit, and never reaches the real host's mount table.
# Superblocks are not per namespace: a remount of the host's /dev/pts or
# /dev/shm is reported, then undone.
set -euo pipefail

skip() {
	echo "1..0 # SKIP $*"
	exit 77
}

if [[ -z ${ENTER:-} || -z ${MKROOT:-} ]]; then
	echo "lib.sh: set ENTER (the enter binary) and MKROOT (tests/fixtures/mkroot.sh)" >&2
	exit 1
fi
if [[ ! -x $ENTER ]]; then
	echo "lib.sh: ENTER=$ENTER: not an executable file" >&2
	exit 1
fi
if [[ ! -r $MKROOT ]]; then
	echo "lib.sh: MKROOT=$MKROOT: not readable" >&2
	exit 1
fi
ENTER=$(realpath -- "$ENTER")
MKROOT=$(realpath -- "$MKROOT")
((EUID == 0)) || skip "needs root"
unshare -m true 2>/dev/null || skip "cannot create a mount namespace (unshare -m true failed)"

if [[ -z ${_ENTER_TEST_NS:-} ]]; then
	# private first: cut every peer link with the real host; shared after:
	# new peer groups, local to this namespace and the ones made from it.
	bash_opts=()
	[[ $- == *x* ]] && bash_opts=(-x) # bash -x NAME.sh stays -x
	exec unshare --mount --propagation private -- \
		env _ENTER_TEST_NS=1 "$BASH" "${bash_opts[@]}" "$0" "$@"
fi
unset _ENTER_TEST_NS
mount --make-rshared /

# ENTER_TEST_HOST=nixos: the rescue system is a NixOS installer. Its own
# /dev/pts and /dev/shm carry the options NixOS gives them (tty is group 3),
# the very options activation inside gives enter's instances, so a check
# that tells the two apart by their options cannot work there. Stacked on
# whatever this host has, in this namespace only.
if [[ ${ENTER_TEST_HOST:-} == nixos ]]; then
	mount -t devpts -o newinstance,gid=3,mode=620,ptmxmode=666 devpts /dev/pts
	mount -t tmpfs -o nosuid,nodev,mode=1777,size=50% tmpfs /dev/shm
elif [[ -n ${ENTER_TEST_HOST:-} ]]; then
	echo "lib.sh: ENTER_TEST_HOST=$ENTER_TEST_HOST: only 'nixos' is known" >&2
	exit 1
fi

# No terminal unless a test makes one: enter relays a pty only on a terminal.
exec </dev/null

TIMEOUT=${ENTER_TEST_TIMEOUT:-60}
# A duration unique to this run for long-running commands: any `sleep
# $LONG_SLEEP` still there at exit (enter failed to kill it) is killed.
LONG_SLEEP=$((1000000 + $$))
TESTS_RUN=0
TESTS_FAILED=0
BG_PIDS=()
STATUS=0
OUT=
ERR=

# ---------------------------------------------------------------- reporting

pass() {
	TESTS_RUN=$((TESTS_RUN + 1))
	echo "ok - $1"
}

# fail DESC [DETAIL...]: each DETAIL may span lines; printed as TAP comments.
fail() {
	local desc=$1 detail
	shift
	TESTS_RUN=$((TESTS_RUN + 1))
	TESTS_FAILED=$((TESTS_FAILED + 1))
	echo "not ok - $desc"
	for detail in "$@"; do
		printf '%s\n' "$detail" | sed 's/^/#   /'
	done
}

# describe ARG...: a command line for messages, $ENTER shown as `enter`, $T as `$T`.
describe() {
	local a s='' special='[^A-Za-z0-9_./:=,+%@$-]'
	for a in "$@"; do
		[[ $a == "$ENTER" ]] && a=enter
		a=${a//"$T"/\$T}
		if [[ -z $a || $a =~ $special ]]; then
			a="'${a//\'/\'\\\'\'}'"
		fi
		s+=" $a"
	done
	printf '%s' "${s# }"
}

# last_run: what the last run_cmd saw, for failure details.
last_run() {
	printf 'command: %s\nstatus:  %s\nstdout:  %s\nstderr:  %s' \
		"$LAST_CMD" "$STATUS" "${OUT//$'\n'/$'\n'         }" "${ERR//$'\n'/$'\n'         }"
}

# ---------------------------------------------------------------- running

# run_cmd CMD...: run with a deadline; sets STATUS, OUT, ERR (trailing newlines
# stripped) and leaves the raw output in $T/stdout and $T/stderr.
run_cmd() {
	LAST_CMD=$(describe "$@")
	STATUS=0
	timeout -k 5 "$TIMEOUT" "$@" >"$T/stdout" 2>"$T/stderr" || STATUS=$?
	OUT=$(<"$T/stdout")
	ERR=$(<"$T/stderr")
	if ((STATUS == 124)); then
		ERR+=$'\n'"(lib.sh: killed after ${TIMEOUT}s)"
	fi
}

# start_bg CMD...: start CMD in the background, output to $T/bg.out and
# $T/bg.err; its pid in BG_PID. Killed at exit if still running.
start_bg() {
	LAST_CMD=$(describe "$@")
	"$@" >"$T/bg.out" 2>"$T/bg.err" &
	BG_PID=$!
	BG_PIDS+=("$BG_PID")
}

# running PID: the process exists and is not a zombie.
running() {
	local stat
	# read, not $(<...): bash exits on $(<missing) even under ||.
	{ read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
	stat=${stat##*) }
	[[ ${stat:0:1} != Z ]]
}

now_ms() {
	local t=${EPOCHREALTIME/[.,]/}
	echo $((t / 1000))
}

# poll_until SECONDS CMD...: run CMD every 10 ms until it succeeds; status
# 1 if it still fails after SECONDS.
poll_until() {
	local deadline=$(($(now_ms) + $1 * 1000))
	shift
	until "$@"; do
		(($(now_ms) > deadline)) && return 1
		sleep 0.01
	done
	return 0
}

# wait_for FILE SECONDS: poll until FILE exists; on timeout a failed check.
wait_for() {
	local file=$1 deadline=$(($(now_ms) + $2 * 1000))
	until [[ -e $file ]]; do
		if (($(now_ms) > deadline)); then
			fail "wait_for ${file//"$T"/\$T}: did not appear within $2 s" \
				"while running: $LAST_CMD" "$(cat "$T/bg.err" 2>/dev/null)"
			return 1
		fi
		sleep 0.02
	done
}

# wait_exit PID SECONDS [DESC]: wait for a background process with a
# deadline; its status in STATUS. On timeout it is killed and the check DESC
# fails.
wait_exit() {
	local pid=$1 deadline=$(($(now_ms) + $2 * 1000)) desc=${3:-"process $1 exits"}
	# bash reports a job killed by a signal ("Killed") on stderr: expected here.
	while running "$pid"; do
		if (($(now_ms) > deadline)); then
			{ kill -KILL "$pid" && wait "$pid"; } 2>/dev/null || true
			fail "$desc" "still running after $2 s; killed it" "command: $LAST_CMD" \
				"stderr: $(cat "$T/bg.err" 2>/dev/null)"
			STATUS=timeout
			return 1
		fi
		sleep 0.02
	done 2>/dev/null
	STATUS=0
	wait "$pid" 2>/dev/null || STATUS=$?
}

# pids_matching STRING: pids whose command line (NULs read as spaces)
# contains STRING; this shell and its subshells are not counted.
pids_matching() {
	local f pid args
	for f in /proc/[0-9]*/cmdline; do
		pid=${f#/proc/}
		pid=${pid%/cmdline}
		[[ $pid == "$$" || $pid == "$BASHPID" ]] && continue
		args=()
		mapfile -d '' args 2>/dev/null <"$f" || continue
		((${#args[@]})) || continue
		[[ " ${args[*]} " == *"$1"* ]] && echo "$pid"
	done
	return 0
}

# ---------------------------------------------------------------- host state

# No awk in the host-side helpers: on Debian it is reached through
# /etc/alternatives, and a mount leaked over /etc must not break the test
# that reports it.

# host_mounts: this namespace's mount table without mount and parent IDs, sorted.
host_mounts() {
	cut -d' ' -f3- /proc/self/mountinfo | LC_ALL=C sort
}

# mountinfo_top TEXT MOUNTPOINT: the line of a mountinfo text (e.g. read
# inside enter) for the topmost mount at MOUNTPOINT, the one a path lookup
# reaches: of the mounts stacked there, the one no other is mounted on. Not
# the last line: mountinfo's order is the order mounts were made or copied
# in, which says nothing about the stack on a host set up by someone else.
# Prints nothing if nothing is mounted there.
mountinfo_top() {
	local line id parent mp under=' ' i
	local -a ids=() lines=()
	while IFS= read -r line; do
		read -r id parent _ _ mp _ <<<"$line"
		[[ $mp == "$2" ]] || continue
		ids+=("$id")
		lines+=("$line")
		under+="$parent "
	done <<<"$1"
	for ((i = ${#ids[@]} - 1; i >= 0; i--)); do
		[[ $under == *" ${ids[i]} "* ]] && continue # another is mounted on it
		printf '%s\n' "${lines[i]}"
		return 0
	done
}

# mountinfo_field TEXT MOUNTPOINT WHAT: of the topmost mount at MOUNTPOINT,
# WHAT: dev, fstype, source or superopts. An empty line if nothing is
# mounted there.
mountinfo_field() {
	local line dev fstype source superopts
	line=$(mountinfo_top "$1" "$2")
	if [[ -z $line ]]; then
		echo
		return 0
	fi
	read -r _ _ dev _ <<<"$line"
	read -r fstype source superopts _ <<<"${line#* - }"
	case $3 in
	dev) echo "$dev" ;;
	fstype) echo "$fstype" ;;
	source) echo "$source" ;;
	superopts) echo "$superopts" ;;
	esac
}

# host_superopts PATH: superblock options of the topmost mount at PATH.
host_superopts() {
	mountinfo_field "$(</proc/self/mountinfo)" "$1" superopts
}

# host_mount_dev PATH: major:minor of the topmost mount at PATH.
host_mount_dev() {
	mountinfo_field "$(</proc/self/mountinfo)" "$1" dev
}

# host_fstype PATH: filesystem type of the topmost mount at PATH.
host_fstype() {
	mountinfo_field "$(</proc/self/mountinfo)" "$1" fstype
}

# check_host_unchanged LABEL: the mount table and the superblock options of
# /dev/pts and /dev/shm are what they were when the test started.
check_host_unchanged() {
	local now
	now=$(host_mounts)
	if [[ $now == "$HOST_MOUNTS_BEFORE" ]]; then
		pass "$1: host mount table unchanged"
	else
		fail "$1: host mount table unchanged" \
			"$(diff <(echo "$HOST_MOUNTS_BEFORE") <(echo "$now") || true)"
		_detach_new_mounts "$now"
	fi
	check_superopts "$1" /dev/pts "$HOST_PTS_OPTS"
	check_superopts "$1" /dev/shm "$HOST_SHM_OPTS"
}

check_superopts() {
	local label=$1 mp=$2 before=$3 now
	now=$(host_superopts "$mp")
	if [[ $now == "$before" ]]; then
		pass "$label: host $mp superblock options unchanged ($now)"
		return
	fi
	fail "$label: host $mp superblock options unchanged" "before: $before" "after:  $now"
	# Put the host back, or the next test starts from a damaged baseline.
	# A devpts remount keeps a gid= it is not given: give the default.
	local opts=$before
	[[ $mp == /dev/pts && $opts != *gid=* ]] && opts+=,gid=0
	if mount -o "remount,$opts" "$mp" 2>/dev/null; then
		echo "# restored host $mp options to: $(host_superopts "$mp")"
	else
		echo "# could not restore host $mp options to: $before"
	fi
}

# fstab_reads CMD...: run CMD (see run_cmd) under strace; FSTAB_READS is how
# often enter opened a target's /etc/fstab (with openat2, in-root: the
# target's own programs do not use it). LeakSanitizer cannot run under
# ptrace: off for this run.
# shellcheck disable=SC2034 # a result for the tests
fstab_reads() {
	run_cmd env "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		strace -f -qq -e trace=openat2 -o "$T/openat2.log" "$@"
	FSTAB_READS=$(grep -cE 'openat2\([^,]*, "/?etc/fstab"' "$T/openat2.log" || true)
}

# ---------------------------------------------------------------- assertions

# expect_status N CMD...: run CMD (see run_cmd), check its exit status is N.
expect_status() {
	local want=$1
	shift
	run_cmd "$@"
	if [[ $STATUS == "$want" ]]; then
		pass "exit $want: $LAST_CMD"
	else
		fail "exit $want: $LAST_CMD" "expected status $want, got $STATUS" "$(last_run)"
	fi
}

# check DESC CMD...: CMD (a shell function or program, not enter) succeeds.
check() {
	local desc=$1
	shift
	if "$@"; then
		pass "$desc"
	else
		fail "$desc" "failed: $(describe "$@")"
	fi
}

expect_eq() {
	if [[ $3 == "$2" ]]; then
		pass "$1"
	else
		fail "$1" "expected: $2" "got:      $3"
	fi
}

expect_ne() {
	if [[ $3 != "$2" ]]; then
		pass "$1"
	else
		fail "$1" "expected anything but: $2"
	fi
}

# expect_contains DESC TEXT STRING: STRING occurs in TEXT (fixed string).
expect_contains() {
	if [[ $2 == *"$3"* ]]; then
		pass "$1"
	else
		fail "$1" "expected to contain: $3" "got: $2"
	fi
}

expect_not_contains() {
	if [[ $2 != *"$3"* ]]; then
		pass "$1"
	else
		fail "$1" "expected not to contain: $3" "got: $2"
	fi
}

# expect_match DESC TEXT ERE: some line of TEXT matches the extended regex.
expect_match() {
	if grep -qE -- "$3" <<<"$2"; then
		pass "$1"
	else
		fail "$1" "expected a line matching: $3" "got: $2"
	fi
}

expect_no_match() {
	if ! grep -qE -- "$3" <<<"$2"; then
		pass "$1"
	else
		fail "$1" "expected no line matching: $3" "got: $2"
	fi
}

# expect_ok DESC: the last run_cmd exited 0.
expect_ok() {
	if [[ $STATUS == 0 ]]; then
		pass "$1"
	else
		fail "$1" "$(last_run)"
	fi
}

# expect_one_line_error DESC WORD: stderr of the last run is exactly one line,
# starting `$PROG: ` (default `enter: `), mentioning WORD.
expect_one_line_error() {
	local lines prog=${PROG:-enter}
	lines=$(wc -l <"$T/stderr")
	if [[ $lines == 1 && $ERR == "$prog: "* && $ERR == *"$2"* ]]; then
		pass "$1"
	else
		fail "$1" "expected one line '$prog: ...' mentioning $2, got $lines line(s)" "$(last_run)"
	fi
}

# names_path TEXT PATH: some line names PATH as a path of its own (a longer
# path such as PATH/x or /x/PATH does not count), with $R/ prefixes removed.
names_path() {
	local text=${1//"${R:-}"/}
	grep -qE -- "(^|[^[:alnum:]_./-])${2}([^[:alnum:]_./-]|\$)" <<<"$text"
}

# ---------------------------------------------------------------- fixtures

make_root() {
	bash "$MKROOT" "$1" >/dev/null
}

# snapshot DIR: a listing of DIR (recursively: names, types, modes, sizes,
# link targets) to compare before and after; mount points are not crossed.
snapshot() {
	(cd "$1" && find . -xdev -printf '%p %y %m %s %l\n' | sort)
}

# ---------------------------------------------------------------- teardown

# _detach_new_mounts NOW: detach the mounts (device, root, mount point)
# that were not there at the start, so that a leak reported once does not
# break the rest of the test. Remounts are left to check_superopts; a mount
# stacked on / cannot be undone (and this shell does not see it anyway).
_detach_new_mounts() {
	local mps
	mps=$(LC_ALL=C comm -13 <(cut -d' ' -f1-3 <<<"$HOST_MOUNTS_BEFORE" | LC_ALL=C sort) \
		<(cut -d' ' -f1-3 <<<"$1" | LC_ALL=C sort) | cut -d' ' -f3 | grep -vx / || true)
	_detach "$mps"
}

# _detach MOUNTPOINTS: detach mounts (one per line). A leaked bind of a
# shared mount is a peer of the original: made private first, or its
# unmount would propagate and unmount the original (this namespace's /dev/pts).
_detach() {
	local mp
	[[ -n $1 ]] || return 0
	while read -r mp; do
		mount --make-rprivate "$mp" 2>/dev/null || true
	done < <(sort -u <<<"$1")
	while read -r mp; do
		if umount -l "$mp" 2>/dev/null; then
			echo "# detached leaked mount $mp"
		else
			echo "# could not detach leaked mount $mp"
		fi
	done < <(sort -ru <<<"$1")
}

# Detach whatever a test leaked under $T, so that the rm below cannot reach
# into a bound host directory.
_unmount_leaks() {
	local mp mps=''
	while read -r mp; do
		[[ $mp == "$T" || $mp == "$T"/* ]] && mps+=$mp$'\n'
	done < <(cut -d' ' -f5 /proc/self/mountinfo)
	_detach "${mps%$'\n'}"
}

_finish() {
	local rc=$? pid
	set +e
	trap - EXIT
	for pid in "${BG_PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	done
	for pid in $(pids_matching "sleep $LONG_SLEEP"); do
		echo "# killing leftover $pid: sleep $LONG_SLEEP"
		kill -KILL "$pid" 2>/dev/null
	done
	if ((rc != 77)); then
		if ((rc != 0)); then
			fail "test script ran to its end" "it stopped with status $rc (set -e or an error above)"
		fi
		check_host_unchanged "at exit"
	fi
	_unmount_leaks
	rm -rf --one-file-system -- "$T"
	((rc == 77)) && exit 77
	echo "1..$TESTS_RUN"
	if ((TESTS_FAILED > 0)); then
		echo "# $TESTS_FAILED of $TESTS_RUN checks failed"
		exit 1
	fi
	exit 0
}

T=$(mktemp -d "${TMPDIR:-/tmp}/enter-test.XXXXXX")
HOST_MOUNTS_BEFORE=$(host_mounts)
HOST_PTS_OPTS=$(host_superopts /dev/pts)
HOST_SHM_OPTS=$(host_superopts /dev/shm)
trap _finish EXIT

# ---------------------------------------------------------------- loop images
#
# Filesystem images are sparse files under $T, attached to loop devices with
# attach_image. Every device attached that way is detached at exit, also when
# a check failed or the script stopped early: a mount of one left in this
# namespace is reported, unmounted, then the device is detached, then
# lib.sh's own teardown runs.

LOOP_DEVS=()
LOOP=

# need_cmds CMD...: skip the test unless every CMD is on PATH.
need_cmds() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null || skip "needs $c"
	done
}

# need_fs TYPE: skip unless the kernel knows filesystem TYPE (loading its
# module if need be).
need_fs() {
	grep -qw -- "$1" /proc/filesystems || modprobe -q -- "$1" 2>/dev/null || true
	grep -qw -- "$1" /proc/filesystems || skip "the kernel has no $1 filesystem"
}

# new_uuid: a random UUID, so that tests run in parallel never share one.
new_uuid() {
	cat /proc/sys/kernel/random/uuid
}

# new_label PREFIX: a filesystem label unique enough for this run (ext4
# labels have at most 16 bytes: PREFIX is cut to 8).
new_label() {
	printf '%s%04x%04x\n' "${1:0:8}" "$RANDOM" "$RANDOM"
}

# make_ext4 FILE SIZE UUID LABEL [DIR]: a sparse ext4 image, with the
# contents of DIR if given, and no blocks reserved for root (so that free
# and available space are the same number).
make_ext4() {
	local populate=()
	[[ -n ${5:-} ]] && populate=(-d "$5")
	rm -f -- "$1"
	truncate -s "$2" -- "$1"
	mkfs.ext4 -q -F -m 0 -U "$3" -L "$4" "${populate[@]}" -- "$1"
}

# make_esp FILE SIZE UUID LABEL MARKER: an ext4 image standing in for an
# ESP: loader/entries/marker.conf holds MARKER, and an empty efi/ is there
# to mount /boot/efi on.
make_esp() {
	local src
	src=$(mktemp -d "$T/esp-src.XXXXXX")
	mkdir -p -- "$src/loader/entries" "$src/efi"
	printf '%s\n' "$5" >"$src/loader/entries/marker.conf"
	make_ext4 "$1" "$2" "$3" "$4" "$src"
	rm -rf -- "$src"
}

# attach_image FILE: attach FILE to a free loop device, whose name is left
# in LOOP (call it directly, not in $(...), or the device is not registered
# for detaching).
attach_image() {
	((${#LOOP_DEVS[@]})) || trap _loop_finish EXIT
	LOOP=$(losetup --find --show -- "$1")
	LOOP_DEVS+=("$LOOP")
}

# image_mountpoints MOUNTINFO: the mount points in a mountinfo file (e.g.
# /proc/self/mountinfo) whose source is a device from attach_image.
image_mountpoints() {
	local line mp source dev
	while IFS= read -r line; do
		read -r _ _ _ _ mp _ <<<"$line"
		read -r _ source _ <<<"${line#* - }"
		for dev in "${LOOP_DEVS[@]}"; do
			[[ $source == "$dev" ]] && printf '%s\n' "$mp"
		done
	done <"$1"
	return 0
}

# loop_mounts: the lines of host_mounts whose source is any loop device.
loop_mounts() {
	host_mounts | grep -E ' - [^ ]+ /dev/loop[0-9]+ ' || true
}

# check_no_new_loop_mounts LABEL [BEFORE]: no loop device is mounted in this
# namespace that was not in BEFORE (default: at the start of the test).
check_no_new_loop_mounts() {
	local before now new
	if (($# > 1)); then
		before=$2
	else
		before=$(grep -E ' - [^ ]+ /dev/loop[0-9]+ ' <<<"$HOST_MOUNTS_BEFORE" || true)
	fi
	now=$(loop_mounts)
	new=$(LC_ALL=C comm -13 <(printf '%s\n' "$before" | LC_ALL=C sort) \
		<(printf '%s\n' "$now" | LC_ALL=C sort) | grep -v '^$' || true)
	if [[ -z $new ]]; then
		pass "$1: no new loop device mounted in the host namespace"
	else
		fail "$1: no new loop device mounted in the host namespace" "$new"
	fi
}

# wait_detached FILE SECONDS: poll until no loop device is backed by FILE
# (a device enter attached with autoclear goes when its last mount does);
# on timeout a failed check.
wait_detached() {
	local deadline=$(($(now_ms) + $2 * 1000)) left
	while left=$(losetup -j "$1" 2>/dev/null) && [[ -n $left ]]; do
		if (($(now_ms) > deadline)); then
			fail "no loop device left on ${1//"$T"/\$T} after $2 s" "$left"
			return 1
		fi
		sleep 0.02
	done
	pass "no loop device left on ${1//"$T"/\$T}"
}

# mount_count MOUNTINFO_TEXT MOUNTPOINT: how many mounts are at MOUNTPOINT.
mount_count() {
	local line mp n=0
	while IFS= read -r line; do
		read -r _ _ _ _ mp _ <<<"$line"
		[[ $mp == "$2" ]] && n=$((n + 1))
	done <<<"$1"
	echo "$n"
}

# mountinfo_mntopts MOUNTINFO_TEXT MOUNTPOINT: the per-mount options (ro or
# rw first) of the topmost mount at MOUNTPOINT; empty if none.
mountinfo_mntopts() {
	local opts
	read -r _ _ _ _ _ opts _ <<<"$(mountinfo_top "$1" "$2")"
	printf '%s\n' "$opts"
}

# avail_bytes DIR: the space available to an unprivileged writer on the
# filesystem of DIR, as statvfs(3) gives it (f_bavail * f_frsize).
avail_bytes() {
	local a s
	read -r a s < <(stat -f -c '%a %S' -- "$1")
	echo $((a * s))
}

# _loop_finish: the EXIT trap once an image is attached; runs lib.sh's
# _finish with the script's status.
_loop_finish() {
	local rc=$? mps dev
	set +e
	mps=$(image_mountpoints /proc/self/mountinfo)
	if [[ -n $mps ]]; then
		if ((rc == 0)); then
			fail "at exit: no test image is mounted in this namespace" "$mps"
		else
			printf '%s\n' "$mps" | sed 's/^/# still mounted at exit: /'
		fi
		_detach "$mps"
	fi
	for dev in "${LOOP_DEVS[@]}"; do
		losetup -d "$dev" 2>/dev/null || echo "# could not detach $dev"
	done
	(exit "$rc")
	_finish
}

# ---------------------------------------------------------------- enter-rebuild, enter-deploy
#
# rebuild.sh and deploy.sh run REBUILD and DEPLOY (the programs under test)
# on fixture roots to which tests/fixtures/standins.sh (STANDINS, default:
# next to MKROOT) adds stand-ins for nixos-rebuild, colmena and
# switch-to-configuration. The helpers below work on R (the current root),
# PROG (the program's name, as it starts its messages), and ESP_DEV and
# ESP_UUID (the ESP image of setup_esp).

# need_tool VAR: VAR (REBUILD or DEPLOY) names the program under test: skip
# when it is unset, stop when it is not executable; made absolute.
need_tool() {
	local path=${!1:-}
	[[ -n $path ]] || skip "set $1 (the program under test)"
	if [[ ! -x $path ]]; then
		echo "lib.sh: $1=$path: not an executable file" >&2
		exit 1
	fi
	printf -v "$1" '%s' "$(realpath -- "$path")"
	STANDINS=$(realpath -- "${STANDINS:-$(dirname -- "$MKROOT")/standins.sh}")
	if [[ ! -r $STANDINS ]]; then
		echo "lib.sh: STANDINS=$STANDINS: not readable" >&2
		exit 1
	fi
}

# Lines the stand-ins print (on stderr), as opposed to the program's own.
STANDIN_LINES='^(nixos-rebuild: |colmena: |\[(INFO |WARN |ERROR)\] |[^ ]+ \| |building the system|built /nix/|set the system profile|running /nix/store/|wrote /boot/|Copied systemd-boot|installing the boot loader|activating the configuration|error: )'

# setup_esp: an ext4 image standing in for the ESP (see make_esp), attached;
# sets ESP_UUID and ESP_DEV.
setup_esp() {
	ESP_UUID=$(new_uuid)
	make_esp "$T/esp.img" 128M "$ESP_UUID" "$(new_label esp)" esp-main
	attach_image "$T/esp.img"
	ESP_DEV=$LOOP
	expect_eq "fixture: blkid finds the ESP by UUID" "$ESP_DEV" "$(blkid -U "$ESP_UUID" || true)"
}

# new_target NAME [HOSTNAME]: a fresh fixture root $T/NAME, in R, with the
# stand-ins, an empty /boot directory, the ESP as /boot in its fstab (and
# nowhere else), HOSTNAME in etc/hostname if given (mkroot.sh's is
# fixturehost); the ESP is emptied of what earlier cases wrote.
new_target() {
	R=$T/$1
	make_root "$R"
	bash "$STANDINS" "$R"
	mkdir "$R/boot"
	[[ -z ${2:-} ]] || echo "$2" >"$R/etc/hostname"
	printf '# test fstab\nUUID=%s /boot ext4 defaults 0 2\n' "$ESP_UUID" >"$R/etc/fstab"
	image_run "$ESP_DEV" sh -c 'rm -rf EFI loader/entries/nixos-*'
}

# without_tool TOOL CMD...: R's system loses sw/bin/TOOL, then CMD runs:
# exit 127 and PROG's own line saying so, not the inner shell's "line 0".
without_tool() {
	local d="a target without $1"
	rm -- "$R$(readlink "$R/nix/var/nix/profiles/system-1-link")/sw/bin/$1"
	run_cmd "${@:2}"
	expect_eq "$d: exit 127" 127 "$STATUS"
	expect_contains "$d: says so" "$ERR" "$PROG: $1: command not found in the target"
	expect_not_contains "$d: not the shell's 'line 0'" "$ERR" "line 0"
	no_generation "$d"
	after_run "$d"
}

# fstab_without_boot: R's fstab names no /boot.
fstab_without_boot() {
	printf '# test fstab: no /boot\ntmpfs /tmp tmpfs mode=1777 0 0\n' >"$R/etc/fstab"
}

# generation ROOT: N of the system profile link (system -> system-N-link).
generation() {
	local l
	l=$(readlink -- "$1/nix/var/nix/profiles/system") || {
		echo none
		return 0
	}
	l=${l#system-}
	echo "${l%-link}"
}

# generation_links ROOT: the system-N-link names of ROOT's profile, sorted.
generation_links() {
	local l
	for l in "$1"/nix/var/nix/profiles/system-*-link; do
		[[ -L $l ]] && printf '%s\n' "${l##*/}"
	done | LC_ALL=C sort
}

# generation_path ROOT N: the store path of generation N (in-root path).
generation_path() {
	readlink -- "$1/nix/var/nix/profiles/system-$2-link" 2>/dev/null || true
}

# generation_build ROOT N WHAT: a line of fixture-build of generation N
# (tool, action, name, flake, hostname, cwd), as the stand-in wrote it.
generation_build() {
	local p
	p=$(generation_path "$1" "$2")
	[[ -n $p ]] || return 0
	sed -n "s/^$3=//p" -- "$1$p/fixture-build" 2>/dev/null || true
}

# new_generation DESC NAME: R's system profile went from generation 1 to 2,
# a build of configuration (or node) NAME, made with R's hostname inside.
new_generation() {
	local path
	expect_eq "$1: system -> system-2-link" 2 "$(generation "$R")"
	expect_eq "$1: profile links 1 and 2" $'system-1-link\nsystem-2-link' "$(generation_links "$R")"
	path=$(generation_path "$R" 2)
	expect_match "$1: generation 2 is a build of $2" "$path" "^/nix/store/[0-9a-z]{32}-nixos-system-$2-gen2\$"
	check "$1: the store path of generation 2 is in ROOT" test -d "$R$path"
	expect_eq "$1: built with the target's hostname inside" "$(<"$R/etc/hostname")" \
		"$(generation_build "$R" 2 hostname)"
}

# no_generation DESC: R's system profile is still generation 1 alone.
no_generation() {
	expect_eq "$1: system still -> system-1-link" 1 "$(generation "$R")"
	expect_eq "$1: no new profile link" system-1-link "$(generation_links "$R")"
}

# all_output: stdout and stderr of the last run (the stand-ins' messages
# are checked wherever they land).
all_output() {
	printf '%s\n%s\n' "$OUT" "$ERR"
}

# image_run DEV CMD...: mount DEV on $T/image, run CMD there (cwd),
# unmount; CMD's status.
image_run() {
	local dev=$1 rc=0
	shift
	mkdir -p -- "$T/image"
	mount -- "$dev" "$T/image" || return 1
	(cd -- "$T/image" && "$@") || rc=$?
	umount -- "$T/image"
	return "$rc"
}

# esp_entries: the names under loader/entries on the ESP, on one line.
esp_entries() {
	image_run "$ESP_DEV" sh -c 'cd loader/entries && echo *'
}

# summary DESC BEFORE AFTER: stderr has `PROG: generation BEFORE -> AFTER`,
# after the last line a stand-in printed.
summary() {
	local want="$PROG: generation $2 -> $3" at last
	at=$(grep -nF -- "$want" "$T/stderr" | tail -n1 | cut -d: -f1)
	last=$(grep -nE -- "$STANDIN_LINES" "$T/stderr" | tail -n1 | cut -d: -f1)
	if [[ -n $at ]] && ((at > ${last:-0})); then
		pass "$1: summary '$want' at the end of stderr"
	else
		fail "$1: summary '$want' at the end of stderr" "$(last_run)"
	fi
}

# entry_on_esp DESC: generation 2's boot entry is on the ESP image, not in
# ROOT/boot on disk, and the summary says 1 -> 2 and names the entry.
entry_on_esp() {
	local entry=loader/entries/nixos-generation-2.conf got
	got=$(image_run "$ESP_DEV" cat "$entry" 2>&1 || true)
	expect_contains "$1: $entry is on the ESP image" "$got" "version Generation 2"
	check "$1: nothing written to ROOT/boot on disk" test -z "$(ls -A "$R/boot")"
	summary "$1" 1 2
	expect_contains "$1: the summary names the boot entry" "$ERR" "boot entry /boot/$entry"
}

# refused_boot DESC [ALSO_RE]: exit 125 with one line `PROG: ...` naming
# /boot, and nothing ran. Lines matching the extended regex ALSO_RE (a
# warning of the program's own) may come besides the error.
refused_boot() {
	local lines err
	if [[ $STATUS == 125 ]]; then
		pass "$1: exit 125"
	else
		fail "$1: exit 125" "$(last_run)"
	fi
	err=$(<"$T/stderr")
	[[ -z ${2:-} ]] || err=$(grep -viE -- "$2" "$T/stderr" || true)
	lines=$(grep -c '' <<<"$err" || true)
	if [[ $lines == 1 && $err == "$PROG: "* && $err == *"/boot"* ]]; then
		pass "$1: one-line error naming /boot"
	else
		fail "$1: one-line error naming /boot" \
			"expected one line '$PROG: ...' mentioning /boot, got $lines line(s)" "$(last_run)"
	fi
	expect_eq "$1: nothing on stdout" "" "$OUT"
	if grep -qE -- "$STANDIN_LINES" "$T/stderr"; then
		fail "$1: nothing ran inside" "$(last_run)"
	else
		pass "$1: nothing ran inside"
	fi
	no_generation "$1"
	expect_eq "$1: nothing written to the ESP" marker.conf "$(esp_entries)"
}

# stderr_kept DESC: what the stand-in wrote to its stderr (its `args:`
# line first of all) is on the program's stderr, not on its stdout.
stderr_kept() {
	if grep -qE '^(nixos-rebuild|colmena): args: ' "$T/stdout"; then
		fail "$1: the command's stderr stays on stderr (not on stdout)" "$(last_run)"
	elif grep -qE '^(nixos-rebuild|colmena): args: ' "$T/stderr"; then
		pass "$1: the command's stderr stays on stderr (not on stdout)"
	else
		fail "$1: the command's stderr stays on stderr (not on stdout)" \
			"the command's first line is on neither" "$(last_run)"
	fi
}

# expect_jq DESC FILTER: jq FILTER holds on the last stdout.
expect_jq() {
	if jq -e "$2" "$T/stdout" >/dev/null 2>&1; then
		pass "$1"
	else
		fail "$1" "jq -e '$2' is not true" "$(last_run)"
	fi
}

# expect_line DESC TEXT LINE: some line of TEXT is LINE, leading and
# trailing blanks aside.
expect_line() {
	if grep -qxF -- "$3" < <(sed 's/^[[:space:]]*//; s/[[:space:]]*$//' <<<"$2"); then
		pass "$1"
	else
		fail "$1" "expected a line: $3" "got: $2"
	fi
}

# detach_image DEV: detach a device of attach_image before the end of the
# test (wait_detached then tells whether anything still holds it).
detach_image() {
	local i
	losetup -d "$1"
	for i in "${!LOOP_DEVS[@]}"; do
		[[ ${LOOP_DEVS[i]} == "$1" ]] && unset 'LOOP_DEVS[i]'
	done
	LOOP_DEVS=("${LOOP_DEVS[@]}")
}

# ---------------------------------------------------------------- hardening suites
#
# hostile-matrix.sh, faults.sh and killstorm.sh run enter hundreds of times
# each: the helpers below compare state quietly, so that one run is one TAP
# line, with the differences as details when it fails.

# The directories enter creates in ROOT when they are missing, and the mode
# it gives them (enter(1) DESCRIPTION).
API_DIRS=(dev proc sys run tmp)
declare -A API_DIR_MODE=([dev]=755 [proc]=755 [sys]=755 [run]=755 [tmp]=1777)
MISSING=()

# note_missing ROOT: MISSING, the API_DIRS not in ROOT (not even as a
# dangling symlink): a run may create them.
note_missing() {
	local d
	MISSING=()
	for d in "${API_DIRS[@]}"; do
		[[ -e $1/$d || -L $1/$d ]] || MISSING+=("$d")
	done
}

# state_of ROOT [OUTSIDE...]: one listing, by one find, of the host's /
# itself (mode, owner), of each OUTSIDE tree (a canary: every entry with
# type, mode, owner, size, mtime, ctime, link target) and of ROOT (its
# directories by mode and owner, as a run may create mount points in them,
# its other entries also by size, mtime and link target). The MISSING API
# directories are listed, not descended into. Each line starts with the
# tree it belongs to. No sort: a tree that did not change lists in the same
# order.
state_of() {
	local root=$1 name special=(-path / -printf '/ %m %U:%G\n')
	shift
	for name in "${MISSING[@]}"; do
		special+=(-o -path "$root/$name" -printf '%H %P %y %m %U:%G\n')
	done
	find / "$@" "$root" -xdev \( "${special[@]}" \) -prune -o \
		\( -path "$root" -o -path "$root/*" \) \( -type d -printf '%H %P d %m %U:%G\n' -o \
		-printf '%H %P %y %m %U:%G %s %T@ %l\n' \) -o \
		-printf '%H %P %y %m %U:%G %s %T@ %C@ %l\n'
}

# outside_state OUTSIDE...: the part of state_of that is not ROOT (while a
# race changes ROOT all the time).
outside_state() {
	find / "$@" -xdev \( -path / -printf '/ %m %U:%G\n' -prune \) -o \
		-printf '%H %P %y %m %U:%G %s %T@ %C@ %l\n'
}

# compare_states BEFORE AFTER ROOT: two state_of listings; sets
# OUTSIDE_CHANGES (what changed outside ROOT: an escape) and ROOT_CHANGES
# (in ROOT), each a diff or empty. An API directory of MISSING that a run
# created as enter(1) says (a directory, its mode) is no change; one left
# otherwise (mode 0700: a mkdir whose chmod never came) is.
# shellcheck disable=SC2034 # results for the tests
compare_states() {
	local line name created bo='' br='' ao='' ar=''
	while IFS= read -r line; do
		if [[ $line == "$3 "* ]]; then br+=$line$'\n'; else bo+=$line$'\n'; fi
	done <<<"$1"
	while IFS= read -r line; do
		if [[ $line != "$3 "* ]]; then
			ao+=$line$'\n'
			continue
		fi
		created=false
		for name in "${MISSING[@]}"; do
			[[ $line == "$3 $name d ${API_DIR_MODE[$name]} "* ]] && created=true
		done
		[[ $created == true ]] || ar+=$line$'\n'
	done <<<"$2"
	OUTSIDE_CHANGES='' ROOT_CHANGES=''
	[[ $bo == "$ao" ]] || OUTSIDE_CHANGES=$(diff <(printf '%s' "$bo") <(printf '%s' "$ao") || true)
	[[ $br == "$ar" ]] || ROOT_CHANGES=$(diff <(printf '%s' "$br") <(printf '%s' "$ar") || true)
	ROOT_CHANGES=${ROOT_CHANGES//"$3 "/ROOT/}
}

# read_mounts VAR: this namespace's /proc/self/mountinfo into VAR, without
# a fork (mount IDs included: a mount detached and made again differs).
read_mounts() {
	IFS= read -rd '' "$1" </proc/self/mountinfo || true
}

# check_mounts BEFORE: sets MOUNTS_CHANGES to nothing if the mount table is
# BEFORE (a read_mounts text; its lines hold superblock options too), else
# to the difference, and repairs the host (check_host_unchanged, quietly) so
# that the next run starts from the test's baseline.
# shellcheck disable=SC2034 # results for the tests
check_mounts() {
	local now
	read_mounts now
	MOUNTS_CHANGES=''
	[[ $now != "$1" ]] || return 0
	MOUNTS_CHANGES=$(diff <(printf '%s' "$1") <(printf '%s' "$now") || true)
	(check_host_unchanged repairing) >/dev/null # a subshell: no TAP line counted
}

# run_pids CWD ROOT: pids (this shell aside) whose working directory is CWD
# or whose root or working directory is ROOT. A run started with CWD as its
# working directory (and nothing else there) is: enter and its pid 1 before
# pivot_root (CWD), everything after it (ROOT). Other tests running enter
# at the same time have neither.
run_pids() {
	local d pid
	for d in /proc/[0-9]*; do
		pid=${d#/proc/}
		[[ $pid == "$$" || $pid == "$BASHPID" ]] && continue
		if [[ $d/cwd -ef $1 || $d/root -ef $2 || $d/cwd -ef $2 ]]; then
			echo "$pid"
		fi
	done 2>/dev/null
	return 0
}

# wait_run_gone CWD ROOT SECONDS: poll until run_pids is empty; status 1 on
# timeout, with the survivors in LEFT_PIDS.
wait_run_gone() {
	poll_until "$3" _run_gone "$1" "$2"
}
_run_gone() {
	mapfile -t LEFT_PIDS < <(run_pids "$1" "$2")
	((${#LEFT_PIDS[@]} == 0))
}

# describe_pids PID...: one line per process: pid, state, command line.
describe_pids() {
	local pid stat
	for pid in "$@"; do
		stat=$(cat "/proc/$pid/stat" 2>/dev/null) || stat='? ? gone'
		stat=${stat##*) }
		printf '%s [%s]: %s\n' "$pid" "${stat:0:1}" "$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)"
	done
}

# kill_pids PID...: SIGKILL leftovers of this test, by pid.
kill_pids() {
	local pid
	for pid in "$@"; do
		kill -KILL "$pid" 2>/dev/null || true
	done
}

# random_below N: a random integer in 0..N-1 (N up to 2^30).
random_below() {
	echo $(((RANDOM * 32768 + RANDOM) % $1))
}

# make_socket PATH: a unix socket file at PATH (left there after its
# process is gone), made by python3 from PATH's directory, so that long paths
# stay below the 108 bytes of sun_path.
make_socket() {
	python3 -c 'import os, socket, sys
d, n = os.path.split(sys.argv[1])
os.chdir(d or ".")
s = socket.socket(socket.AF_UNIX)
s.bind(n)
s.close()' "$1"
}

# error_lines: the lines of the last run's stderr (0 for an empty one).
error_lines() {
	grep -c '' "$T/stderr" || true
}
