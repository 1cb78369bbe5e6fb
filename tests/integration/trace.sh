#!/usr/bin/env bash
# trace.sh: the plan is what runs (STYLE.md §2). For each argument set, every
# effect in a trace of enter must be a step of `enter ... --dry-run --json`
# with the same arguments, and every step an effect in the trace: mounts
# (fsopen, fsconfig, fsmount or open_tree, mount_setattr, then move_mount;
# mount(2), fspick, umount2), what is created in ROOT (mkdirat, openat
# O_CREAT), pivot_root (or chroot), sethostname, programs run (activation);
# the namespaces unshared if the plan has a "namespaces" (or "unshare") step,
# else a TAP comment. An effect is a line, the same for a step and its calls:
# `tmpfs on /run (mode=0755) [nodev,nosuid]`, `bind /sys on /sys`, `mkdir
# /data 0755`. A devpts step is two mounts (with its /dev/ptmx bind); the
# old root's detach is part of pivot_root; a boot-space step is no effect.
#
# `strace -f -b execve` follows enter, its pid 1 and their children, and
# lets each go at its execve: activation and the command (children of pid 1
# that exec) and what they start are not traced, pid 1 is, through and after
# activation (resolv.conf is bound after it). -y gives each fd's path: ROOT/x
# is the in-root /x; after pivot_root, paths inside are in-root already.
# shellcheck source=tests/integration/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

need_cmds strace jq mkfs.ext4 losetup blkid
need_fs ext4
export BLKID_FILE=$T/blkid.tab
# LeakSanitizer stops the world with ptrace, which fails under strace.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0

CALLS='unshare,clone,clone3,mount,umount2,fsopen,fsconfig,fsmount,fspick,open_tree,move_mount'
CALLS+=',mount_setattr,pivot_root,chroot,sethostname,?mkdir,mkdirat,openat,execve'
CMD=(/bin/busybox true)
ATTRS=(noatime nodev nodiratime noexec nosuid nosymfollow ro strictatime) # jq's sort order

HOST=$T/host
mkdir -p "$HOST/dir" && echo host-file >"$HOST/file"
TEMPLATE=$T/template
make_root "$TEMPLATE"
ESP_UUID=$(new_uuid)
make_esp "$T/esp.img" 64M "$ESP_UUID" "$(new_label esp)" esp-trace
attach_image "$T/esp.img"
ESP_DEV=$LOOP

# Root setups: nothing missing and resolv.conf a file; a /boot in the fstab.
complete_root() {
	mkdir -m 0755 "$1/dev" "$1/proc" "$1/sys" "$1/run" && mkdir -m 1777 "$1/tmp"
	rm "$1/etc/resolv.conf" && echo 'nameserver 192.0.2.1' >"$1/etc/resolv.conf"
}
boot_root() {
	mkdir "$1/boot" && echo "UUID=$ESP_UUID /boot ext4 defaults,noatime 0 2" >"$1/etc/fstab"
}

# plan_effects PLAN_JSON: one line per effect of each step, `EFFECT<TAB>step`;
# `NS<TAB>name` for each namespace a namespaces step names, `NSSTEP<TAB>`.
plan_effects() {
	jq -r --arg attrs "${ATTRS[*]}" '
	def attrs: [(.flags // [])[] | select(IN($attrs | splits(" ")))] | unique
		| if length > 0 then " [" + join(",") + "]" else "" end;
	def opts: if (.options // "") == "" then ""
		else " (" + (.options | split(",") | sort | join(",")) + ")" end;
	def words: [.source, .target, .options, (.flags // [])[]]
		| map(strings | splits("[ ,]+") | ascii_downcase | ltrimstr("clone_new"));
	def ns: ({mount: "mnt", ns: "mnt", newns: "mnt", network: "net"}[.] // .)
		| select(IN("mnt", "uts", "ipc", "pid", "net", "user", "cgroup", "time"));
	def prop: [words[] | select(test("^r?(private|shared|slave|unbindable)$"))];
	.root as $root | .steps[] | tojson as $step
	| if .kind | IN("namespaces", "unshare") then
		"NSSTEP\t", (words[] | ns | "NS\t\(.)"),
		(prop[] | "propagation \(.) on /\t\($step)")
	  else (if .kind == "mkdir" then "mkdir \(.target) \(.mode)"
		elif .kind | IN("create", "mkfile", "touch", "file") then "create \(.target)"
		elif .kind == "hostname" then "sethostname \(.source)"
		elif .kind == "pivot_root" then "pivot_root"
		elif .kind == "activate" then "exec \(.source)"
		elif .kind == "boot-space" then empty
		elif .kind | test("propagation|private") then
			"propagation \(prop[0] // "rprivate") on \(.target // "/")"
		elif .kind | IN("root", "bind", "resolv.conf") then
			"bind \(.source) on \(.target)\(attrs)"
		elif .fstype then
			"\(.fstype)\(if .source != .fstype then " from \(.source)" else "" end)"
			+ " on \(.target)\(opts)\(attrs)",
			(select(.kind == "devpts") | "bind \($root)\(.target)/ptmx on "
				+ (.target | sub("/[^/]*$"; "")) + "/ptmx")
		else "\(.kind) \(.target // .source)" end) + "\t\($step)"
	  end' "$1"
}

# Mount trees by pid:fd (what, fs options, attributes), and regexes for the
# arguments of the calls strace -y prints.
declare -A TDESC=() TOPTS=() TATTR=()
RE_LINE='^([0-9]+) +(.*)$'
RE_CALL='^([a-z0-9_]+)\((.*)\) += (.*)$'
RE_FD='^([A-Z_]+|[0-9]+)<([^>]*)>, "([^"]*)", (.*)$' # DIRFD<path>, "name", rest
RE_FSCONFIG='^([0-9]+)<[^>]*>, FSCONFIG_SET_(STRING|FLAG), "([^"]*)", ("([^"]*)"|NULL)'
RE_MOVE='^([0-9]+)<[^>]*>, "[^"]*", (.*)$'
RE_MOUNT='^("([^"]*)"|NULL), "([^"]*)", ("([^"]*)"|NULL), ([A-Z_|0-9]+)'

# in_root PATH: P, PATH as the traced process names it, in-root; before
# pivot_root (and always in enter's own process) a host path.
in_root() {
	if [[ $pid != "$main" && $pivoted == true ]]; then P=$1
	elif [[ $1 == "$root" ]]; then P=/
	elif [[ $1 == "$root"/* ]]; then P=${1#"$root"}
	else P="(outside ROOT) $1"; fi
}
# at DIR NAME: P, NAME looked up from DIR (an fd's path), as *at() calls do.
at() { if [[ $2 == /* ]]; then P=$2; elif [[ -z $2 ]]; then P=$1; else P=${1%/}/$2; fi; }
# add_attrs MOUNT_ATTR_X|...: their names added to the tree TATTR[$k].
add_attrs() {
	local a
	for a in ${1//|/ }; do a=${a#MOUNT_ATTR_} && a=${a/#RDONLY/ro} && TATTR[$k]+=" ${a,,}"; done
}
emit() { printf '%s\t%s\t%s\n' "$1" "$sc" "${rest//$'\t'/ }"; }

# trace_effects LOG ROOT: the effects in an `strace -f -y` log, one a line,
# `EFFECT<TAB>SYSCALL<TAB>the call`, and `NS<TAB>name` per namespace
# unshared. A mount is followed by fd, per process, from fsopen or
# open_tree to its move_mount.
trace_effects() {
	local root=$2 line pid rest main='' pivoted=false sc args res k P a path
	local -A pending=() fstype=() fsrc=() fopts=() detach=()
	TDESC=() TOPTS=() TATTR=()
	while IFS= read -r line; do
		[[ $line =~ $RE_LINE ]] || continue
		pid=${BASH_REMATCH[1]} rest=${BASH_REMATCH[2]}
		main=${main:-$pid}
		if [[ $rest =~ ^execve\(\"([^\"]*)\" ]]; then # enter itself, the command: no step
			sc=execve && [[ $pid == "$main" || ${BASH_REMATCH[1]} == "${CMD[0]}" ]] ||
				emit "exec ${BASH_REMATCH[1]}"
			continue
		fi
		[[ $rest != *' <unfinished ...>' ]] || { pending[$pid]=${rest% <unfinished ...>} && continue; }
		[[ ! $rest =~ ^\<\.\.\.\ [a-z0-9_]+\ resumed\>(.*)$ ]] ||
			rest=${pending[$pid]:-}${BASH_REMATCH[1]}
		[[ $rest =~ $RE_CALL ]] || continue
		sc=${BASH_REMATCH[1]} args=${BASH_REMATCH[2]} res=${BASH_REMATCH[3]}
		[[ $res != -1* && $res != \?* ]] || continue # a failed call changed nothing
		# pivot_root(".", "."), then the old root detached: one step
		[[ $sc != umount2 || -z ${detach[$pid]:-} ]] || { detach[$pid]='' && continue; }
		case $sc in
		unshare | clone | clone3)
			for a in ${args//[|,\{ =]/ }; do
				[[ $a == CLONE_NEW* ]] || continue
				a=${a#CLONE_NEW} && a=${a/#NS/MNT} && printf 'NS\t%s\n' "${a,,}"
			done ;;
		fsopen) [[ $args =~ ^\"([^\"]*)\" ]] && k=$pid:${res%%<*} &&
			fstype[$k]=${BASH_REMATCH[1]} fsrc[$k]='' fopts[$k]='' ;;
		fsconfig)
			[[ $args =~ $RE_FSCONFIG ]] || continue
			k=$pid:${BASH_REMATCH[1]}
			[[ ${BASH_REMATCH[3]} == source ]] && fsrc[$k]=${BASH_REMATCH[5]} && continue
			fopts[$k]+=${BASH_REMATCH[3]}${BASH_REMATCH[5]:+=${BASH_REMATCH[5]}}$'\n' ;;
		fsmount)
			a=$pid:${args%%<*} k=$pid:${res%%<*}
			TDESC[$k]=${fstype[$a]:-?}
			[[ -z ${fsrc[$a]:-} || ${fsrc[$a]} == "${fstype[$a]:-}" ]] || TDESC[$k]+=" from ${fsrc[$a]}"
			TOPTS[$k]=$(LC_ALL=C sort <<<"${fopts[$a]:-}" | paste -sd, | sed 's/^,*//') TATTR[$k]=''
			add_attrs "${args##*, }" ;;
		open_tree)
			[[ $args =~ $RE_FD ]] || continue
			at "${BASH_REMATCH[2]}" "${BASH_REMATCH[3]}"
			k=$pid:${res%%<*} TOPTS[$k]='' TATTR[$k]='' TDESC[$k]="bind $P"
			[[ ${BASH_REMATCH[4]} == *OPEN_TREE_CLONE* ]] || TDESC[$k]="move $P" ;;
		mount_setattr)
			[[ $args =~ ^([0-9]+)\<([^\>]*)\>.*attr_set=([^,]*) ]] || continue
			k=$pid:${BASH_REMATCH[1]} a=${BASH_REMATCH[3]}
			[[ -n ${TDESC[$k]:-} ]] && add_attrs "$a" && continue
			in_root "${BASH_REMATCH[2]}" # not a tree of ours: a mount in place
			emit "mount_setattr $a on $P" ;;
		move_mount)
			[[ $args =~ $RE_MOVE ]] || continue
			k=$pid:${BASH_REMATCH[1]}
			[[ ${BASH_REMATCH[2]} =~ $RE_FD ]] || continue
			at "${BASH_REMATCH[2]}" "${BASH_REMATCH[3]}" && in_root "$P" && a=''
			for path in "${ATTRS[@]}"; do
				[[ " ${TATTR[$k]:-} " != *" $path "* ]] || a+=${a:+,}$path
			done
			P="${TDESC[$k]:-a tree not from open_tree or fsmount} on $P"
			emit "$P${TOPTS[$k]:+ (${TOPTS[$k]})}${a:+ [$a]}" ;;
		mount)
			[[ $args =~ $RE_MOUNT ]] || continue
			a=${BASH_REMATCH[6]} path=${BASH_REMATCH[3]}
			in_root "$path"
			P="mount(2) $a ${BASH_REMATCH[5]:-} ${BASH_REMATCH[2]:-} on $P"
			# The namespace's propagation: its path is not an in-root one.
			[[ ! $a =~ MS_(PRIVATE|SHARED|SLAVE|UNBINDABLE) ]] ||
				P="propagation ${BASH_REMATCH[1],,} on $path"
			[[ $a != *MS_REC* || $P != propagation* ]] || P=${P/propagation /propagation r}
			emit "$P" ;;
		umount2) [[ $args =~ ^\"([^\"]*)\" ]] && in_root "${BASH_REMATCH[1]}" && emit "umount $P" ;;
		pivot_root | chroot) emit pivot_root && pivoted=true detach[$pid]=1 ;;
		sethostname) [[ $args =~ ^\"([^\"]*)\" ]] && emit "sethostname ${BASH_REMATCH[1]}" ;;
		fspick) [[ $args =~ $RE_FD ]] && at "${BASH_REMATCH[2]}" "${BASH_REMATCH[3]}" &&
			in_root "$P" && emit "reconfigure the superblock of $P" ;;
		mkdir | mkdirat)
			[[ $sc == mkdir ]] && args="AT_FDCWD</>, $args"
			[[ $args =~ $RE_FD ]] || continue
			at "${BASH_REMATCH[2]}" "${BASH_REMATCH[3]}" && in_root "$P"
			emit "mkdir $P $(printf '%04o' $((8#${BASH_REMATCH[4]})))" ;;
		openat)
			[[ $args == *O_CREAT* ]] || continue
			path=${res#*<} && in_root "${path%>}"
			# Out of ROOT: enter's /dev/null, libblkid's cache. /dev, /proc and
			# /sys inside are the host's own: O_CREAT there opens /dev/null.
			[[ $P == "(outside ROOT)"* || $P == /dev/* || $P == /proc/* || $P == /sys/* ]] ||
				emit "create $P" ;;
		esac
	done <"$1"
	return 0
}

# shown TEXT: TEXT for a message, the same from run to run.
shown() {
	local s=${1//"$T"/\$T}
	printf '%s' "${s//"$ESP_DEV"/\$ESP_DEV}"
}

# compare NAME: $T/plan.fx against $T/trace.fx; one failing check per
# mismatch, one passing check when there is none.
compare() {
	local name=$1 key x y more n=0 bad=0 keys=() has_ns=false plan_ns='' trace_ns=''
	local -A pc=() tc=() pd=() td=() tsc=()
	while IFS=$'\t' read -r key x; do
		[[ $key != NSSTEP ]] || { has_ns=true && continue; }
		[[ $key != NS ]] || { plan_ns+="$x"$'\n' && continue; }
		[[ -n ${pc[$key]:-} ]] || keys+=("$key")
		pc[$key]=$((${pc[$key]:-0} + 1)) pd[$key]=$x
	done <"$T/plan.fx"
	while IFS=$'\t' read -r key x y; do
		[[ $key != NS ]] || { trace_ns+="$x"$'\n' && continue; }
		[[ -n ${pc[$key]:-} || -n ${tc[$key]:-} ]] || keys+=("$key")
		tc[$key]=$((${tc[$key]:-0} + 1)) tsc[$key]=$x td[$key]=$y
	done <"$T/trace.fx"
	for key in "${keys[@]}"; do
		x=${pc[$key]:-0} y=${tc[$key]:-0}
		n=$((n + (x < y ? x : y)))
		((x != y)) || continue
		bad=$((bad + 1))
		more='' && ((x + y == 1)) || more=" ($y in the trace, $x in the plan)"
		if ((y > x)); then
			fail "$name: ${tsc[$key]} '$(shown "$key")' in the trace has no step$more" \
				"call: $(shown "${td[$key]}")"
		else
			fail "$name: step '$(shown "$key")' has no syscall in the trace$more" \
				"step: $(shown "${pd[$key]}")"
		fi
	done
	trace_ns=$(LC_ALL=C sort -u <<<"$trace_ns" | paste -sd' ' | sed 's/^ //')
	if [[ $has_ns == true ]]; then
		expect_eq "$name: the namespaces step names the namespaces unshared" "$trace_ns" \
			"$(LC_ALL=C sort -u <<<"$plan_ns" | paste -sd' ' | sed 's/^ //')"
	else
		echo "# $name: the plan has no namespaces step; the trace unshares: $trace_ns (not checked)"
	fi
	((bad > 0)) || pass "$name: the $n effects of the trace are the steps of the plan"
}

# trace_case NAME SETUP ENTER_OPTION...: ROOT a copy of the fixture root
# given to the function SETUP (or :); the plan of `enter OPTIONS ROOT
# --dry-run --json -- CMD` against the trace of `enter OPTIONS ROOT -- CMD`.
CASE_N=0
trace_case() {
	local name=$1 setup=$2 R
	shift 2
	CASE_N=$((CASE_N + 1)) R=$T/case$CASE_N/root
	mkdir "$T/case$CASE_N" && cp -a -- "$TEMPLATE" "$R" && "$setup" "$R"
	R=$(realpath -- "$R")
	run_cmd "$ENTER" "$@" "$R" --dry-run --json -- "${CMD[@]}"
	[[ $STATUS == 0 ]] && jq -e .steps "$T/stdout" >/dev/null 2>&1 ||
		{ fail "$name: --dry-run --json prints a plan" "$(last_run)"; return 0; }
	cp -- "$T/stdout" "$T/plan.json"
	run_cmd strace -f -qq -y -b execve -e signal=none -e trace="$CALLS" -o "$T/trace.log" \
		"$ENTER" "$@" "$R" -- "${CMD[@]}"
	[[ $STATUS == 0 ]] || { fail "$name: the traced run works" "$(last_run)"; return 0; }
	plan_effects "$T/plan.json" >"$T/plan.fx"
	trace_effects "$T/trace.log" "$R" >"$T/trace.fx"
	compare "$name"
}

t0=$(now_ms)
trace_case "plain" :
trace_case "--no-activate" : --no-activate
trace_case "--tmpfs-tmp" : --tmpfs-tmp
trace_case "--bind missing dst" : --bind "$HOST/dir" /data
trace_case "--ro-bind file, missing dst" : --ro-bind "$HOST/file" /srv/hostfile
trace_case "--no-resolv" : --no-resolv
trace_case "--hostname" : --hostname tracehost
trace_case "complete root" complete_root
trace_case "fstab /boot" boot_root --boot-min-free 1M
echo "# trace: $CASE_N argument sets in $(($(now_ms) - t0)) ms"
check_no_new_loop_mounts "after the runs"
