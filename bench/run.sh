#!/usr/bin/env bash
# bench/run.sh [--quick] [BUILDDIR]: how fast enter is, against the floor and
# its peers, on the test suite's NixOS-shaped fixture root (issue 7).
#
#   meson setup build && ninja -C build && bench/run.sh build
#
# Prints, from one run:
#  1. a table: median and p90 wall time of `true` run inside the fixture,
#     ratio to the floor (bench/floor.c: unshare, mounts, chroot, exec and
#     nothing else), peak RSS; for the floor, enter without and with
#     activation, nixos-enter's steps as a script (bench/nixos-enter-like.sh,
#     with activation), each peer that is installed (unshare -m chroot, bwrap,
#     arch-chroot, systemd-nspawn), and the floor with what enter adds, one
#     part at a time (libmount, an init, the other mounts). Runs alternate
#     between the commands, so that load on the machine falls on all alike.
#  2. the curve: setup time against the size of what enter is given (fstab
#     lines, --bind options, --setenv options), per item and as a ratio
#     between the largest and the half size (2.0 is linear).
#  3. 1,000 sequential runs (time of the first and last hundred, mounts and
#     processes before and after) and 16 concurrent runs on one root.
# --quick runs each part a few times only: for CI, which checks that the
# benchmark works, never how fast anything is. Runs as root, in a mount
# namespace of its own; leaves nothing behind.
set -euo pipefail

quick=false
if [[ ${1:-} == --quick ]]; then
	quick=true
	shift
fi
src=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
build=$(realpath -- "${1:-$src/build}")
enter=$build/enter floor=$build/bench/floor measure=$build/bench/measure
for f in "$enter" "$floor" "$floor-libmount" "$measure"; do
	if [[ ! -x $f ]]; then
		echo "bench/run.sh: $f: not built (meson setup $build && ninja -C $build)" >&2
		exit 1
	fi
done
if ((EUID != 0)); then
	echo "bench/run.sh: needs root (namespaces, mounts)" >&2
	exit 77
fi
if [[ -z ${_ENTER_BENCH_NS:-} ]]; then
	# Everything, also what a failing run leaves, stays in this namespace.
	exec unshare --mount --propagation private -- env _ENTER_BENCH_NS=1 "$BASH" "$0" \
		"$([[ $quick == true ]] && echo --quick)" "$build"
fi

# nixos-enter's way (bench/nixos-enter-like.sh) binds the host's /dev, where
# the fixture's activation remounts /dev/pts and /dev/shm as NixOS's does:
# the superblocks of this namespace's own instances, not the host's.
umount -l /dev/pts /dev/shm
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm

if [[ $quick == true ]]; then
	runs=5 sequential=20 scales=(0 10 20)
else
	runs=${BENCH_RUNS:-300} sequential=1000 scales=(0 50 100 200)
fi
dir=$(mktemp -d /tmp/enter-bench.XXXXXX)
trap 'rm -rf -- "$dir"' EXIT
root=$dir/root
"$src/tests/fixtures/mkroot.sh" "$root" >/dev/null
# The floor mounts on what exists; enter would create these on its first run.
mkdir -p "$root"/{dev,proc,sys,run,tmp}
chmod 1777 "$root/tmp"
true_cmd=(/bin/busybox true)

# ---------------------------------------------------------------- 1. the table

peers=()
peers+=(@unshare-chroot unshare -m chroot "$root" "${true_cmd[@]}")
if command -v bwrap >/dev/null; then
	peers+=(@bwrap bwrap --bind "$root" / --proc /proc --dev /dev --tmpfs /run
		--unshare-pid --unshare-uts --unshare-ipc "${true_cmd[@]}")
fi
if command -v arch-chroot >/dev/null; then
	peers+=(@arch-chroot arch-chroot "$root" "${true_cmd[@]}")
fi
if command -v systemd-nspawn >/dev/null; then
	peers+=(@systemd-nspawn systemd-nspawn --quiet --register=no --keep-unit -D "$root" "${true_cmd[@]}")
fi
echo "## $runs runs each, alternating; $(nproc) CPUs, $(uname -r)"
"$measure" -n "$runs" \
	@floor "$floor" "$root" "${true_cmd[@]}" \
	@enter "$enter" "$root" --no-activate -- "${true_cmd[@]}" \
	@enter-activate "$enter" "$root" -- "${true_cmd[@]}" \
	@nixos-enter-like "$src/bench/nixos-enter-like.sh" "$root" "${true_cmd[@]}" \
	"${peers[@]}" \
	@floor+libmount "$floor-libmount" "$root" "${true_cmd[@]}" \
	@floor+init "$floor" -i "$root" "${true_cmd[@]}" \
	@floor+mounts "$floor" -m "$root" "${true_cmd[@]}" \
	@floor+all-three "$floor-libmount" -i -m "$root" "${true_cmd[@]}"
echo "(nixos-enter-like: bench/nixos-enter-like.sh, nixos-enter's steps with the same programs,"
echo " activating as enter-activate does; nixos-enter itself needs nix, which Debian does not run)"
echo "(floor+X: the floor with one thing enter does: linked with libmount as enter is, an"
echo " init as pid 1 starting the command, enter's other mounts and pivot_root; all-three:"
echo " all of them; what lies between it and enter is enter's own work, bench/floor.c)"

# ---------------------------------------------------------------- 2. the curve

# median_ms ARGS...: the median of $runs runs of enter ARGS (one command to
# measure, so its own ratio column is 1).
median_ms() {
	"$measure" -n "$runs" -w 1 @x "$enter" "$@" | awk '$1 == "x" { print $2 }'
}

# curve NAME MAKE: for each scale, MAKE SCALE fills the array ARGS; prints
# the median time of enter "${ARGS[@]}" per scale.
curve() {
	local name=$1 make=$2 n t base='' half='' last='' line
	line="$name:"
	for n in "${scales[@]}"; do
		"$make" "$n"
		t=$(median_ms "${ARGS[@]}")
		[[ -n $base ]] || base=$t
		[[ $n != "${scales[-1]}" ]] || last=$t
		[[ $((n * 2)) != "${scales[-1]}" ]] || half=$t
		line+=$(printf ' %s:%.2fms' "$n" "$t")
	done
	awk -v line="$line" -v b="$base" -v h="$half" -v l="$last" -v n="${scales[-1]}" 'BEGIN {
		printf "%s; %.1f us per item", line, (l - b) * 1000 / n
		if (h != "" && h - b > 0.05) printf ", growth %.2f for twice the items", (l - b) / (h - b)
		printf "\n"
	}'
}

# An fstab of N lines enter reads and leaves alone (noauto, swap, nfs) with
# --fstab, so the cost is reading, resolving and deciding, not mounting.
fstab_lines() {
	local i
	{
		echo "# bench: $1 lines"
		for ((i = 0; i < $1; i++)); do
			case $((i % 3)) in
			0) echo "LABEL=bench$i /srv/d$i ext4 noauto 0 2" ;;
			1) echo "/dev/disk/by-label/swap$i none swap sw 0 0" ;;
			2) echo "server:/export$i /net/n$i nfs defaults 0 0" ;;
			esac
		done
	} >"$root/etc/fstab"
	ARGS=("$root" --no-activate --fstab -- "${true_cmd[@]}")
}
binds() {
	local i
	mkdir -p "$dir/bind-src"
	ARGS=("$root" --no-activate)
	for ((i = 0; i < $1 * 5; i++)); do
		ARGS+=(--bind "$dir/bind-src" "/mnt/b$i")
	done
	ARGS+=(-- "${true_cmd[@]}")
}
setenvs() {
	local i
	ARGS=("$root" --no-activate)
	for ((i = 0; i < $1 * 25; i++)); do
		ARGS+=(--setenv "BENCH_VARIABLE_$i=value number $i")
	done
	ARGS+=(-- "${true_cmd[@]}")
}
cp "$root/etc/fstab" "$dir/fstab.orig"
echo
echo "## the curve: median ms of enter by size (scale 1 = 1 fstab line, 5 --bind, 25 --setenv)"
curve "fstab lines" fstab_lines
cp "$dir/fstab.orig" "$root/etc/fstab"
curve "--bind x5" binds
curve "--setenv x25" setenvs

# ---------------------------------------------------------------- 3. scale

count_procs() {
	local p=(/proc/[0-9]*)
	echo "${#p[@]}"
}
echo
mounts_before=$(wc -l </proc/self/mountinfo)
procs_before=$(count_procs)
"$measure" -n "$sequential" -w 0 -r "$dir/seq.raw" @enter "$enter" "$root" --no-activate -- "${true_cmd[@]}" >/dev/null
first=$((sequential / 10))
median_of() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
early=$(awk -v k="$first" '$2 < k { print $3 / 1e6 }' "$dir/seq.raw" | median_of)
late=$(awk -v k="$first" -v n="$sequential" '$2 >= n - k { print $3 / 1e6 }' "$dir/seq.raw" | median_of)
printf '## %d sequential runs: median of the first %d %.2f ms, of the last %d %.2f ms\n' \
	"$sequential" "$first" "$early" "$first" "$late"
echo "   mounts before/after: $mounts_before/$(wc -l </proc/self/mountinfo)," \
	"processes before/after: $procs_before/$(count_procs) (other processes of the machine count too)"

ok=0 pids=()
for ((i = 0; i < 16; i++)); do
	"$enter" "$root" --no-activate -- /bin/busybox sh -c 'echo $$ >/dev/null' >/dev/null 2>&1 &
	pids+=($!)
done
for pid in "${pids[@]}"; do
	if wait "$pid"; then
		ok=$((ok + 1))
	fi
done
echo "## 16 concurrent runs on one root: $ok succeeded"
((ok == 16))
