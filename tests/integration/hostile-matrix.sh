#!/usr/bin/env bash
# hostile-matrix.sh [matrix|race|all]: a target root is untrusted data
# (enter(1) DESCRIPTION, SECURITY.md). hostile.sh and boot.sh test a few planted
# roots by hand; this test generates them.
#
# matrix: every path enter resolves in ROOT (the API directories, /tmp,
# /boot from the fstab and from --boot DIR, an fstab mount point, --bind
# destinations, resolv.conf, the system profile and its activate script,
# etc/hostname, etc/fstab) crossed with every hostile kind of entry
# (absolute symlink out, symlink to /, ../ escape, a chain of 40 links, a
# loop, a dangling link, a regular file, a fifo, a socket, a device node).
# Each case expects "refuse" (exit 125, one line `enter: ...` naming the
# path, the command not run), "run" (the command ran and saw the environment
# enter(1) DESCRIPTION describes: a damaged resolv.conf, hostname or system profile
# costs DNS, the name or activation, with a warning, not the recovery), or
# "safe" (either of the two). In every
# case a canary tree outside ROOT and the host's mount table are compared
# before and after: any difference is an ESCAPE.
#
# race: a racing process exchanges a directory of ROOT with a symlink out
# of ROOT (renameat2 RENAME_EXCHANGE, in a tight loop) while enter runs,
# RACE_ITERATIONS times (default 200) per raced path. Each run must be a
# clean refusal or a safe run; no run may change the canary or the mount
# table. bench/stress.sh runs the races 10,000 times.
#
# Each case has its own tree, laid out so that relative symlinks followed on
# the host land in the canary:
#
#   $T/c/CASE/canary/       dir/{file,activate}, file: must stay as they are
#   $T/c/CASE/a/b/root/     ROOT
# shellcheck source=tests/integration/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

PARTS=${1:-all}
case $PARTS in
matrix | race | all) ;;
*)
	echo "usage: hostile-matrix.sh [matrix|race|all]" >&2
	exit 2
	;;
esac
RACE_ITERATIONS=${RACE_ITERATIONS:-200}

need_cmds python3 mkfs.ext4 losetup blkid mknod mkfifo
need_fs ext4
python3 -c 'import ctypes; ctypes.CDLL(None).renameat2' 2>/dev/null ||
	skip "python3 cannot call renameat2 (ctypes)"
export BLKID_FILE=$T/blkid.tab

# Runs are short: a fifo or a race must not hang enter, and a hang must not
# cost the whole test.
CASE_TIMEOUT=${ENTER_TEST_TIMEOUT:-20}

SYSTEM=/nix/store/0123456789abcdfghijklmnpqrsvwxyz-nixos-system-fixturehost-25.05
ESCAPES=()

# ---------------------------------------------------------------- fixtures

# The ESP for /boot in the fstab, the filesystem for /home with --fstab, a
# directory for --boot DIR, the sources of --bind and --ro-bind.
ESP_UUID=$(new_uuid)
make_esp "$T/esp.img" 64M "$ESP_UUID" "$(new_label esp)" esp-main
attach_image "$T/esp.img"
HOME_UUID=$(new_uuid)
mkdir -p "$T/home-src/alice"
echo home-fs >"$T/home-src/marker"
make_ext4 "$T/home.img" 16M "$HOME_UUID" "$(new_label home)" "$T/home-src"
attach_image "$T/home.img"
# Two ESPs for /boot and /boot/efi, the first one with a hostile efi entry
# (see the special cases).
EFI_UUID=$(new_uuid)
make_esp "$T/efi.img" 16M "$EFI_UUID" "$(new_label efi)" esp-efi
attach_image "$T/efi.img"
mkdir -p "$T/esp-link-src/loader/entries"
echo esp-link >"$T/esp-link-src/loader/entries/marker.conf"
ln -s /etc "$T/esp-link-src/efi"
ESPLINK_UUID=$(new_uuid)
make_ext4 "$T/esplink.img" 16M "$ESPLINK_UUID" "$(new_label esplink)" "$T/esp-link-src"
attach_image "$T/esplink.img"
mkdir -p "$T/esp-up-src/loader/entries"
echo esp-up >"$T/esp-up-src/loader/entries/marker.conf"
ln -s ../../../../canary/dir "$T/esp-up-src/efi"
ESPUP_UUID=$(new_uuid)
make_ext4 "$T/espup.img" 16M "$ESPUP_UUID" "$(new_label espup)" "$T/esp-up-src"
attach_image "$T/espup.img"

HOSTBOOT=$T/hostboot
mkdir -p "$HOSTBOOT/loader/entries"
echo esp-dir >"$HOSTBOOT/loader/entries/marker.conf"
BIND_SRC=$T/bindsrc
mkdir -p "$BIND_SRC"
echo bind-src >"$BIND_SRC/bind-marker"
BIND_FILE=$T/bindfile
echo bind-file >"$BIND_FILE"

# The command of every run: checks the environment from inside and prints
# `probe: ok`, or `probe: PROBLEM|PROBLEM...` and exits 3. Arguments
# PATH=CONTENT: PATH must hold CONTENT. Inline (sh -c), so that no file of
# the probe is in ROOT and the shell holds no fd for a script; the first
# thing it does is to list its own fds: 0 1 2 and the one of the glob's
# directory, nothing else (enter(1) --preserve-fds).
# shellcheck disable=SC2016 # expanded by the shell inside
PROBE='bb=/bin/busybox
set -- /proc/$$/fd/* -- "$@"
fds=
while [ "$1" != -- ]; do fds="$fds ${1##*/}"; shift; done
shift
bad=
[ "$fds" = " 0 1 2 3" ] || bad="$bad|fds of the command:$fds (want 0 1 2 and the glob'"'"'s 3)"
mi=$($bb cat /proc/self/mountinfo) || bad="$bad|cannot read /proc/self/mountinfo"
fstype() { printf "%s\n" "$mi" | $bb awk -v mp="$1" '"'"'$5 == mp { sub(/.* - /, ""); t = $1 } END { print t }'"'"'; }
if [ -z "$PROBE_LENIENT" ]; then
	for want in /proc=proc /sys=sysfs /dev/pts=devpts /dev/shm=tmpfs /run=tmpfs; do
		t=$(fstype "${want%%=*}")
		[ "$t" = "${want#*=}" ] || bad="$bad|${want%%=*} is ${t:-not a mount point}, not ${want#*=}"
	done
fi
for want in "$@"; do
	got=$($bb cat "${want%%=*}" 2>&1)
	[ "$got" = "${want#*=}" ] || bad="$bad|${want%%=*} holds \"$got\", not \"${want#*=}\""
done
[ -e /etc/NIXOS ] || bad="$bad|/etc/NIXOS is not there: /etc is not the target'"'"'s"
echo "mounts:$(printf "%s\n" "$mi" | $bb awk '"'"'{ printf " %s", $5 }'"'"')"
if [ -n "$bad" ]; then echo "probe: ${bad#|}"; exit 3; fi
echo "probe: ok"'
PROBE_DESC=$(describe "$PROBE")

# ---------------------------------------------------------------- one case

# Every case starts as a copy of one tree: ROOT (mkroot.sh) and its canary,
# which holds what enter could be fooled into using: a directory, a
# resolv.conf, an activate script that, run by its host path, leaves
# ACTIVATED in the canary.
TEMPLATE=$T/case-template
mkdir -p "$TEMPLATE/canary/dir" "$TEMPLATE/a/b"
echo canary >"$TEMPLATE/canary/file"
echo canary >"$TEMPLATE/canary/dir/file"
echo 'nameserver 192.0.2.53' >"$TEMPLATE/canary/dir/resolv.conf"
# shellcheck disable=SC2016 # for the script
printf '#!/bin/sh\necho escaped >"${0%%/*}/ACTIVATED"\n' >"$TEMPLATE/canary/dir/activate"
chmod 0755 "$TEMPLATE/canary/dir/activate"
make_root "$TEMPLATE/a/b/root"

# Parts to copy into a ROOT (cp -a copies a socket too): one fork a case
# instead of forty.
PARTS_DIR=$T/parts
mkdir -p "$PARTS_DIR/loop"
make_socket "$PARTS_DIR/socket"
ln -s b "$PARTS_DIR/loop/a"
ln -s a "$PARTS_DIR/loop/b"
# chain_part LEAF: .chain/l01 -> l02 -> ... -> l39 -> ../ escape to the
# canary's dir (or dir/LEAF).
chain_part() {
	local d=$PARTS_DIR/chain-${1:-none} i
	[[ -d $d ]] && return 0
	mkdir -p "$d"
	for ((i = 1; i < 39; i++)); do
		ln -s "$(printf 'l%02d' $((i + 1)))" "$d/$(printf 'l%02d' "$i")"
	done
	ln -s "../../../../canary/dir${1:+/$1}" "$d/l39"
}

# new_case NAME: a fresh tree; sets C (the case dir) and R (its ROOT).
new_case() {
	C=$T/c/$1
	R=$C/a/b/root
	mkdir -p "$T/c"
	cp -a "$TEMPLATE" "$C"
}

# ups REL: the ../ that lead from the directory of REL (a path inside ROOT)
# up to ROOT.
ups() {
	local dir=${1%/*} up=
	[[ $1 == */* ]] || return 0
	while [[ -n $dir ]]; do
		up+=../
		[[ $dir == */* ]] || break
		dir=${dir%/*}
	done
	printf '%s' "$up"
}

VARIANTS=(abs-dir abs-new slash rel-escape chain40 loop dangling file fifo socket devnode)

# plant VARIANT REL [LEAF]: replace ROOT/REL by a hostile entry. Symlinks
# out lead to the canary's dir (or dir/LEAF, for entries enter treats as
# files), the ../ escape from REL's own directory; a chain of 40 links is
# entry -> .chain/l01 -> ... -> .chain/l39 -> ../ escape (40 links: the most
# a lookup follows); a loop is entry -> .loop/a -> b -> a.
plant() {
	local variant=$1 rel=$2 leaf=${3:+/$3} entry=$R/$2
	if [[ -e $entry || -L $entry ]]; then
		rm -rf -- "$entry"
	fi
	[[ -d ${entry%/*} ]] || mkdir -p -- "${entry%/*}"
	case $variant in
	abs-dir) ln -s "$C/canary/dir$leaf" "$entry" ;;
	abs-new) ln -s "$C/canary/new" "$entry" ;;
	slash) ln -s / "$entry" ;;
	rel-escape) ln -s "$(ups "$rel")../../../canary/dir$leaf" "$entry" ;;
	chain40)
		chain_part "${3:-}"
		cp -a "$PARTS_DIR/chain-${3:-none}" "$R/.chain"
		ln -s "$(ups "$rel").chain/l01" "$entry"
		;;
	loop)
		cp -a "$PARTS_DIR/loop" "$R/.loop"
		ln -s "$(ups "$rel").loop/a" "$entry"
		;;
	dangling) ln -s /nonexistent-target "$entry" ;;
	file) echo planted >"$entry" ;;
	fifo) mkfifo "$entry" ;;
	socket) cp -a "$PARTS_DIR/socket" "$entry" ;;
	devnode) mknod "$entry" c 1 3 ;;
	*)
		echo "plant: unknown variant $variant" >&2
		return 1
		;;
	esac
}

# save_state: what judge compares after the run.
save_state() {
	note_missing "$R"
	STATE_BEFORE=$(state_of "$R" "$C/canary")
	read_mounts MOUNTS_BEFORE
}

# judge NAME EXPECT WHAT: classify the last run (run_cmd) against EXPECT
# (refuse, run or safe); WHAT is the path a refusal must name (a path as
# names_path sees it, or a word with a dot such as resolv.conf, looked for
# as it is). Compares the state saved by save_state. One TAP line.
judge() {
	local name=$1 expect=$2 what=$3 problems=() escape=() named=false outcome
	compare_states "$STATE_BEFORE" "$(state_of "$R" "$C/canary")" "$R"
	check_mounts "$MOUNTS_BEFORE"
	# Outside ROOT: anything here is an escape.
	[[ -z $OUTSIDE_CHANGES ]] || escape+=("changed outside ROOT (the canary, the host's /):" "$OUTSIDE_CHANGES")
	[[ -z $MOUNTS_CHANGES ]] || escape+=("the host's mount table changed:" "$MOUNTS_CHANGES")
	# ROOT: the planted entry and the rest untouched, created dirs whole.
	[[ -z $ROOT_CHANGES ]] || problems+=("ROOT changed:" "$ROOT_CHANGES")
	if [[ $STATUS == 125 ]]; then
		if [[ $what == *.* ]]; then
			[[ $ERR == *"$what"* ]] && named=true
		elif names_path "$ERR" "$what"; then
			named=true
		fi
	fi
	if [[ $STATUS == 125 && $named == true && $ERR == "enter: "* && $ERR != *$'\n'* && -z $OUT ]]; then
		outcome="refused: ${ERR//"$T"/\$T}"
	elif [[ $STATUS == 125 ]]; then
		outcome=refused
		problems+=("exit 125 but not one line 'enter: ...' naming $what, or the command ran" "$(last_run)")
	elif [[ $expect == refuse ]]; then
		outcome="not refused"
		problems+=("expected: exit 125, one line naming $what" "$(last_run)")
	elif [[ $STATUS == 0 && $OUT == *"probe: ok" ]]; then
		outcome=ran
	else
		outcome="ran badly"
		problems+=("expected: the probe passes (exit 0), or exit 125 naming $what" "$(last_run)")
	fi
	if [[ $expect == run && $outcome != ran ]]; then
		problems+=("expected: the command runs, as what is damaged here only costs a feature" "$(last_run)")
	fi
	if ((${#escape[@]})); then
		ESCAPES+=("$name")
		fail "$name: ESCAPE ($outcome)" "${escape[@]}" "${problems[@]}" "$(last_run)"
	elif ((${#problems[@]})); then
		fail "$name: $expect ($outcome)" "${problems[@]}"
	else
		pass "$name: $expect ($outcome)"
	fi
}

# ---------------------------------------------------------------- the targets
#
# One line per target: NAME REL EXPECT WHAT LEAF, then the setup function
# target_NAME, which writes the fstab or the options (OPTS) and the probe's
# PATH=CONTENT arguments (WANT). LEAF "-" is none.

TARGETS='
dev         dev                              refuse /dev                         -
proc        proc                             refuse /proc                        -
sys         sys                              refuse /sys                         -
run         run                              refuse /run                         -
tmp         tmp                              safe   /tmp                         -
tmpfs-tmp   tmp                              safe   /tmp                         -
boot-fstab  boot                             refuse /boot                        -
boot-dir    boot                             refuse /boot                        -
home-fstab  home                             refuse /home                        -
bind        mnt/bind                         safe   /mnt/bind                    -
ro-bind-file srv/bound                       safe   /srv/bound                   file
resolv      etc/resolv.conf                  run    resolv.conf                  resolv.conf
profile     nix/var/nix/profiles/system      run    /nix/var/nix/profiles/system -
activate    '"${SYSTEM#/}"'/activate run /nix/var/nix/profiles/system/activate activate
hostname    etc/hostname                     run    /etc/hostname                file
fstab       etc/fstab                        safe   /etc/fstab                   file
'

fstab_line() {
	printf '# hostile-matrix.sh\n%s\n' "$*" >"$R/etc/fstab"
}

target_dev() { OPTS=(--no-activate); }
target_proc() { OPTS=(--no-activate); }
target_sys() { OPTS=(--no-activate); }
target_run() { OPTS=(--no-activate); }
target_tmp() { OPTS=(--no-activate); }
target_tmpfs-tmp() { OPTS=(--no-activate --tmpfs-tmp); }
target_boot-fstab() {
	OPTS=(--no-activate)
	fstab_line "UUID=$ESP_UUID /boot ext4 defaults 0 2"
	WANT=(/boot/loader/entries/marker.conf=esp-main)
}
target_boot-dir() {
	OPTS=(--no-activate --boot "$HOSTBOOT")
	WANT=(/boot/loader/entries/marker.conf=esp-dir)
}
target_home-fstab() {
	OPTS=(--no-activate --fstab)
	fstab_line "UUID=$HOME_UUID /home ext4 defaults 0 2"
	WANT=(/home/marker=home-fs)
}
target_bind() {
	OPTS=(--no-activate --bind "$BIND_SRC" /mnt/bind)
	WANT=(/mnt/bind/bind-marker=bind-src)
}
target_ro-bind-file() {
	OPTS=(--no-activate --ro-bind "$BIND_FILE" /srv/bound)
	WANT=(/srv/bound=bind-file)
}
target_resolv() { OPTS=(--no-activate); }
# Activation runs: what it finds at the hostile path is the point.
target_profile() { OPTS=(); }
target_activate() { OPTS=(); }
target_hostname() { OPTS=(--no-activate); }
target_fstab() { OPTS=(--no-activate); }

# run_case NAME EXPECT WHAT: run enter with OPTS on R, the probe checking
# WANT; judge.
run_case() {
	save_state
	TIMEOUT=$CASE_TIMEOUT run_cmd "$ENTER" "${OPTS[@]}" "$R" -- /bin/busybox sh -c "$PROBE" probe "${WANT[@]}"
	LAST_CMD=${LAST_CMD/"$PROBE_DESC"/\"\$PROBE\"}
	judge "$@"
}

# esp_efi_case NAME UUID MARKER LINK: /boot from the ESP with UUID (whose
# marker.conf holds MARKER and whose efi entry is LINK), /boot/efi from the
# second ESP: refused at /boot/efi.
esp_efi_case() {
	new_case "$1"
	mkdir -p "$R/boot/efi"
	fstab_line "UUID=$2 /boot ext4 defaults 0 2
UUID=$EFI_UUID /boot/efi ext4 defaults 0 2"
	OPTS=(--no-activate)
	WANT=(/boot/loader/entries/marker.conf="$3" /boot/efi/loader/entries/marker.conf=esp-efi)
	run_case "/boot/efi as $4 on the mounted ESP" refuse /boot/efi
}

matrix() {
	local name rel expect what leaf variant cases=0
	while read -r name rel expect what leaf; do
		[[ -n $name ]] || continue
		[[ $leaf == - ]] && leaf=
		for variant in "${VARIANTS[@]}"; do
			new_case "$name-$variant"
			OPTS=()
			WANT=()
			"target_$name"
			plant "$variant" "$rel" "$leaf"
			# A fifo planted where enter reads must not hang it, nor
			# where activation is: a run that is killed fails below.
			run_case "$name: $rel as $variant" "$expect" "$what"
			cases=$((cases + 1))
		done
	done <<<"$TARGETS"

	# --- special cases: what is found only once something is mounted

	# The ESP mounted on /boot holds efi -> /etc: the /boot/efi entry must
	# not put the second ESP over the target's /etc (a mount point is a
	# real directory, checked where the mount happens, not only in ROOT
	# before /boot is mounted on it).
	esp_efi_case esp-efi-link "$ESPLINK_UUID" esp-link "efi -> /etc"
	esp_efi_case esp-efi-up "$ESPUP_UUID" esp-up "efi -> ../../../../canary/dir"
	cases=$((cases + 2))

	# --bind over a destination that leads to / inside ROOT: in-root,
	# so allowed, but the command must still find its own root.
	new_case bind-to-root
	ln -s / "$R/mnt-root"
	OPTS=(--no-activate --bind "$BIND_SRC" /mnt-root)
	WANT=(/mnt-root/bind-marker=bind-src)
	run_case "--bind destination mnt-root -> / (in ROOT)" safe /mnt-root
	cases=$((cases + 1))

	echo "# matrix: $cases layouts"
}

# ---------------------------------------------------------------- races

SWAPPER='import ctypes, os, signal, sys
libc = ctypes.CDLL(None, use_errno=True)
a, b, ready = (os.fsencode(p) for p in sys.argv[1:4])
stop = False
def on_term(*_):
    global stop
    stop = True
signal.signal(signal.SIGTERM, on_term)
n = failed = 0
renameat2 = libc.renameat2
while not stop:
    if renameat2(-100, a, -100, b, 2) == 0:  # AT_FDCWD, RENAME_EXCHANGE
        n += 1
    else:
        failed += 1
    if n == 1:
        open(ready, "w").close()
# An even number of exchanges: the directory where it was.
if n % 2 and renameat2(-100, a, -100, b, 2) == 0:
    n += 1
print(n, failed)'

# race NAME REL LINK WHAT OPTS...: ROOT/REL is a directory and ROOT/.swap a
# symlink to LINK (@CANARY@ stands for the case's canary directory, an
# absolute path out of ROOT); a swapper exchanges them while enter runs
# RACE_ITERATIONS times, the command printing its mount table. A run is:
# refused (exit 125, one line naming the raced path, or a path below it,
# or .swap), or ran (exit 0, and every mount point inside is one enter
# planned, or the swapped name, to which a mount moves with its directory:
# not /etc), or bad. After each run nothing outside ROOT and in the host's
# mount table may have changed: else it is an escape.
race() {
	local name=$1 rel=$2 link=$3 what=$4 i refused=0 ran=0 other=0 escaped=0 first=()
	local d swapper counts bad mp line t0 outside mounts
	shift 4
	OPTS=("$@")
	new_case "race-$name"
	link=${link//@CANARY@/$C/canary/dir}
	mkdir -p "$R/$rel" "$R/mnt/bind"
	[[ $rel != boot ]] || fstab_line "UUID=$ESP_UUID /boot ext4 defaults 0 2"
	ln -s "$link" "$R/.swap"
	# After a first run: the API directories exist, so that no run
	# creates one (the swapper may have just exchanged a created one away).
	TIMEOUT=$CASE_TIMEOUT run_cmd "$ENTER" "${OPTS[@]}" "$R" -- /bin/busybox true
	if [[ $STATUS != 0 ]]; then
		fail "race $name: a run without the swapper works" "$(last_run)"
		return 0
	fi
	outside=$(outside_state "$C/canary")
	read_mounts mounts
	rm -f "$T/swapper.ready"
	python3 -c "$SWAPPER" "$R/$rel" "$R/.swap" "$T/swapper.ready" >"$T/swapper.out" 2>&1 &
	swapper=$!
	BG_PIDS+=("$swapper")
	wait_for "$T/swapper.ready" 10 || return 0
	t0=$(now_ms)
	for ((i = 1; i <= RACE_ITERATIONS; i++)); do
		TIMEOUT=$CASE_TIMEOUT run_cmd "$ENTER" "${OPTS[@]}" "$R" -- /bin/busybox cat /proc/self/mountinfo
		check_mounts "$mounts"
		d=$(outside_state "$C/canary")
		if [[ $d != "$outside" || -n $MOUNTS_CHANGES ]]; then
			escaped=$((escaped + 1))
			((${#first[@]} > 12)) || first+=("run $i: ESCAPE" \
				"$(diff <(echo "$outside") <(echo "$d") || true)" "$MOUNTS_CHANGES" "$(last_run)")
			continue
		fi
		bad=
		if [[ $STATUS == 0 ]]; then
			while IFS= read -r line; do
				read -r _ _ _ _ mp _ <<<"$line"
				case $mp in
				/ | /proc | /sys | /sys/* | /dev | /dev/* | /run | /run/* | /tmp) ;;
				/boot | /boot/* | /mnt/bind | /mnt/bind/* | /.swap | /.swap/*) ;;
				*) bad+=$'\n'$line ;;
				esac
			done <<<"$OUT"
		fi
		if [[ $STATUS == 125 && $ERR == "enter: "* && $ERR != *$'\n'* && -z $OUT ]] &&
			names_path "$ERR" "($what|/\.swap)(/[^[:space:]]*)?"; then
			refused=$((refused + 1))
		elif [[ $STATUS == 0 && -z $bad ]]; then
			ran=$((ran + 1))
		else
			other=$((other + 1))
			if ((${#first[@]} < 12)); then
				[[ -z $bad ]] || OUT="(mountinfo, where enter plans no mount:)$bad"
				first+=("run $i" "$(last_run)")
			fi
		fi
	done
	kill -TERM "$swapper"
	wait "$swapper" || true
	counts=$(<"$T/swapper.out")
	echo "# race $name: $RACE_ITERATIONS runs in $((($(now_ms) - t0) / 1000)) s," \
		"$refused refused, $ran ran, $other bad, $escaped escaped; exchanges, failed: $counts"
	RACE_TOTALS[runs]=$((RACE_TOTALS[runs] + RACE_ITERATIONS))
	RACE_TOTALS[refused]=$((RACE_TOTALS[refused] + refused))
	RACE_TOTALS[ran]=$((RACE_TOTALS[ran] + ran))
	RACE_TOTALS[bad]=$((RACE_TOTALS[bad] + other))
	RACE_TOTALS[escaped]=$((RACE_TOTALS[escaped] + escaped))
	if ((escaped)); then
		ESCAPES+=("race $name")
		fail "race $name: ESCAPE in $escaped of $RACE_ITERATIONS runs" "${first[@]}"
	elif ((other)); then
		fail "race $name: each of $RACE_ITERATIONS runs refused cleanly or ran safely ($other did not)" "${first[@]}"
	else
		pass "race $name: each of $RACE_ITERATIONS runs refused cleanly or ran safely ($refused refused, $ran ran)"
	fi
	if [[ $counts =~ ^([0-9]+)\  ]] && ((BASH_REMATCH[1] > RACE_ITERATIONS)); then
		pass "race $name: the swapper raced ($counts)"
	else
		fail "race $name: the swapper raced" "exchanges, failures: $counts"
	fi
	# After all runs: nothing changed outside ROOT; the entry a directory.
	judge_race_end "race $name" "$rel" "$outside" "$mounts"
}

# judge_race_end LABEL REL OUTSIDE MOUNTS: after a race, outside ROOT and
# the host's mounts as they were (OUTSIDE, MOUNTS), ROOT/REL a directory
# again.
judge_race_end() {
	local d
	d=$(outside_state "$C/canary")
	if [[ $d == "$3" ]]; then
		pass "$1: nothing changed outside ROOT"
	else
		fail "$1: nothing changed outside ROOT" "$(diff <(echo "$3") <(echo "$d"))"
	fi
	check_mounts "$4"
	expect_eq "$1: the host's mounts are unchanged" "" "$MOUNTS_CHANGES"
	check "$1: ROOT/$2 is a directory again" test -d "$R/$2" -a ! -L "$R/$2"
}

declare -A RACE_TOTALS=([runs]=0 [refused]=0 [ran]=0 [bad]=0 [escaped]=0)

races() {
	local up=../../../canary/dir
	race run run @CANARY@ /run --no-activate
	race dev dev @CANARY@ /dev --no-activate
	race boot boot $up /boot --no-activate
	# In-root, but a symlink: the ESP must never land on /etc.
	race boot-etc boot /etc /boot --no-activate
	race bind mnt/bind ../$up /mnt/bind --no-activate --bind "$BIND_SRC" /mnt/bind
	echo "# races: ${RACE_TOTALS[runs]} runs: ${RACE_TOTALS[refused]} refused," \
		"${RACE_TOTALS[ran]} ran, ${RACE_TOTALS[bad]} bad, ${RACE_TOTALS[escaped]} escaped"
}

host_etc=$(snapshot /etc)
[[ $PARTS == race ]] || matrix
[[ $PARTS == matrix ]] || races
expect_eq "the host's /etc is unchanged" "$host_etc" "$(snapshot /etc)"
if ((${#ESCAPES[@]})); then
	printf '# ESCAPE: %s\n' "${ESCAPES[@]}"
	fail "no layout escaped ROOT" "${ESCAPES[@]}"
else
	pass "no layout escaped ROOT"
fi
