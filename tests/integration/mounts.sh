#!/usr/bin/env bash
# mounts.sh: the filesystems inside (enter(1) DESCRIPTION), seen from inside through
# /proc/self/mountinfo and from outside through ROOT and the host's mount
# table; --tmpfs-tmp, --bind, --ro-bind.
# shellcheck source=tests/integration/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

R=$T/root
make_root "$R"

# --- lib.sh's reading of a stack of mounts: the top is the one nothing is
# mounted on, wherever mountinfo lists it (here first, as a mount moved
# beneath another would be).
stack='40 30 0:50 / /dev/pts rw - devpts devpts rw,gid=3,mode=620,ptmxmode=666
30 20 0:24 / /dev/pts rw - devpts devpts rw,mode=600,ptmxmode=000
20 1 0:5 / /dev rw - devtmpfs udev rw'
expect_eq "mountinfo_field: the top of a stack listed first" 0:50 "$(mountinfo_field "$stack" /dev/pts dev)"
expect_eq "mountinfo_field: a mount alone" devtmpfs "$(mountinfo_field "$stack" /dev fstype)"
expect_eq "mountinfo_field: nothing mounted" "" "$(mountinfo_field "$stack" /run fstype)"

# --- the mount table inside (after activation, which remounts)

run_cmd "$ENTER" "$R" -- cat /proc/self/mountinfo
expect_ok "enter R -- cat /proc/self/mountinfo runs"
MI=$OUT

fstype() { mountinfo_field "$MI" "$1" fstype; }
superopts() { mountinfo_field "$MI" "$1" superopts; }
dev() { mountinfo_field "$MI" "$1" dev; }

expect_ne "/ is a mount point inside" "" "$(fstype /)"
inside_points=$(cut -d' ' -f5 <<<"$MI")
expect_not_contains "no mount point inside names the host path of ROOT" "$inside_points" "$T"
# Host mounts outside the trees enter binds (/dev, /sys) must not be visible.
while read -r mp; do
	case $mp in / | /dev | /dev/* | /sys | /sys/* | /proc | /proc/* | /run | /run/* | /tmp | /tmp/*) continue ;; esac
	expect_no_match "host mount $mp is not visible inside" "$inside_points" "^$mp\$"
done < <(cut -d' ' -f5 /proc/self/mountinfo | sort -u)

expect_eq "/proc is a procfs" proc "$(fstype /proc)"
expect_ne "/proc is a fresh procfs, not the host's" "$(host_mount_dev /proc)" "$(dev /proc)"
expect_eq "/sys is sysfs" sysfs "$(fstype /sys)"
host_dev_type=$(host_fstype /dev)
expect_eq "/dev is the host's /dev ($host_dev_type)" "$host_dev_type" "$(fstype /dev)"
expect_eq "/dev/pts is devpts" devpts "$(fstype /dev/pts)"
expect_contains "/dev/pts has ptmxmode=666" "$(superopts /dev/pts)" ptmxmode=666
expect_ne "/dev/pts is a new instance (device differs from the host's)" \
	"$(host_mount_dev /dev/pts)" "$(dev /dev/pts)"
# Activation remounted /dev/pts and /dev/shm (the fixture's activate does,
# as NixOS's does): its options reached enter's instances and not the
# host's superblocks. Not "inside differs from the host": a NixOS host has
# activation's options itself.
expect_contains "/dev/pts inside has activation's gid=3 (its remount reached enter's instance)" \
	"$(superopts /dev/pts)" gid=3
expect_eq "the host's /dev/pts superblock options are what they were before the run" \
	"$HOST_PTS_OPTS" "$(host_superopts /dev/pts)"
expect_eq "the host's /dev/shm superblock options are what they were before the run" \
	"$HOST_SHM_OPTS" "$(host_superopts /dev/shm)"
if [[ ${ENTER_TEST_HOST:-} == nixos ]]; then
	expect_contains "NixOS host: the host's /dev/pts has NixOS's options" "$HOST_PTS_OPTS" gid=3,mode=620
fi
expect_eq "/dev/shm is tmpfs" tmpfs "$(fstype /dev/shm)"
expect_ne "/dev/shm is a new instance (device differs from the host's)" \
	"$(host_mount_dev /dev/shm)" "$(dev /dev/shm)"
expect_eq "/run is tmpfs" tmpfs "$(fstype /run)"
expect_ne "/run is not the host's /run" "$(host_mount_dev /run)" "$(dev /run)"

run_cmd "$ENTER" "$R" -- stat -c %d /dev/ptmx /dev/pts/ptmx
expect_ok "stat /dev/ptmx /dev/pts/ptmx runs"
{ read -r ptmx_dev; read -r pts_ptmx_dev; } <<<"$OUT"
expect_eq "/dev/ptmx is the new instance's ptmx" "$pts_ptmx_dev" "$ptmx_dev"

run_cmd "$ENTER" "$R" -- stat -c %a /tmp
expect_eq "/tmp inside is mode 1777" 1777 "$OUT"

# --- what the run left in ROOT

expect_eq "ROOT/tmp was created mode 1777" 1777 "$(stat -c %a "$R/tmp")"
for d in dev proc sys run; do
	if [[ -d $R/$d && ! -L $R/$d ]]; then
		pass "ROOT/$d was created"
	else
		fail "ROOT/$d was created" "$(ls -ld "$R/$d" 2>&1)"
	fi
	expect_eq "ROOT/$d is mode 755" 755 "$(stat -c %a "$R/$d")"
	expect_eq "ROOT/$d is empty on disk after the run" "" "$(ls -A "$R/$d")"
done

# The same under a strict umask: the modes are enter's, not the caller's.
U=$T/umask
make_root "$U"
(
	umask 077
	run_cmd "$ENTER" --no-activate "$U" -- /bin/busybox true
	[[ $STATUS == 0 ]]
) || fail "umask 077: enter runs" "$(cat "$T/stderr")"
expect_eq "umask 077: ROOT/tmp created mode 1777" 1777 "$(stat -c %a "$U/tmp")"
for d in dev proc sys run; do
	expect_eq "umask 077: ROOT/$d created mode 755" 755 "$(stat -c %a "$U/$d")"
done

# --- --tmpfs-tmp

run_cmd "$ENTER" --tmpfs-tmp "$R" -- cat /proc/self/mountinfo
expect_ok "--tmpfs-tmp runs"
expect_eq "--tmpfs-tmp: /tmp is tmpfs" tmpfs "$(mountinfo_field "$OUT" /tmp fstype)"
touch "$R/tmp/on-disk"
run_cmd "$ENTER" --tmpfs-tmp "$R" -- sh -c 'ls -A /tmp; stat -c %a /tmp; touch /tmp/in-tmpfs'
expect_eq "--tmpfs-tmp: the tmpfs is empty and mode 1777" 1777 "$OUT"
check "--tmpfs-tmp: a file written in /tmp does not reach ROOT/tmp" test ! -e "$R/tmp/in-tmpfs"
rm "$R/tmp/on-disk"

run_cmd "$ENTER" "$R" -- cat /proc/self/mountinfo
expect_ne "without --tmpfs-tmp, /tmp is not a tmpfs" tmpfs "$(mountinfo_field "$OUT" /tmp fstype)"

# --- --bind, --ro-bind

H=$T/hostdir
mkdir -p "$H" "$R/mnt/rw" "$R/mnt/ro"
echo from-host >"$H/file"
before=$(snapshot "$H")

run_cmd "$ENTER" "$R" --bind "$H" /mnt/rw -- cat /mnt/rw/file
expect_ok "--bind SRC DST runs"
expect_eq "--bind: the host dir is visible inside" from-host "$OUT"

run_cmd "$ENTER" "$R" --ro-bind "$H" /mnt/ro -- cat /mnt/ro/file
expect_ok "--ro-bind SRC DST runs"
expect_eq "--ro-bind: the host dir is visible inside" from-host "$OUT"

run_cmd "$ENTER" "$R" --ro-bind "$H" /mnt/ro -- sh -c 'echo x >/mnt/ro/new'
expect_ne "--ro-bind: creating a file fails" 0 "$STATUS"
run_cmd "$ENTER" "$R" --ro-bind "$H" /mnt/ro -- sh -c 'echo x >>/mnt/ro/file'
expect_ne "--ro-bind: appending to a file fails" 0 "$STATUS"
run_cmd "$ENTER" "$R" --ro-bind "$H" /mnt/ro -- rm /mnt/ro/file
expect_ne "--ro-bind: removing a file fails" 0 "$STATUS"
expect_eq "--ro-bind: the host dir is unchanged" "$before" "$(snapshot "$H")"
expect_eq "--ro-bind: the host file is unchanged" from-host "$(cat "$H/file")"
check "--ro-bind: the host dir is still writable on the host" touch "$H/host-write"
rm -f "$H/host-write"

run_cmd "$ENTER" "$R" --bind "$H" /mnt/rw -- sh -c 'echo x >/mnt/rw/new'
expect_ok "--bind: writing inside works"
check "--bind: the write is seen on the host" test -e "$H/new"

run_cmd "$ENTER" "$R" --bind "$H" /mnt/rw --ro-bind "$H" /mnt/ro -- cat /mnt/rw/file /mnt/ro/file
expect_eq "--bind and --ro-bind together" $'from-host\nfrom-host' "$OUT"
expect_eq "ROOT/mnt/rw is empty on disk after the runs" "" "$(ls -A "$R/mnt/rw")"

# --- a missing --bind destination is created in ROOT, never in /dev, /sys
# or /proc inside, which are the rescue system's (a directory or file made
# there would stay on it, a directory in /sys/fs/cgroup is a cgroup)

NAME=enter-test-$$
run_cmd "$ENTER" "$R" --bind "$H" "/mnt/new-$NAME" -- cat "/mnt/new-$NAME/file"
expect_eq "--bind to a missing DST in ROOT: created there, bound" from-host "$OUT"
check "--bind to a missing DST in ROOT: the directory stays in ROOT" test -d "$R/mnt/new-$NAME"

# not_created DESC HOSTPATH DST [ENTER_ARG...]: --bind $H (or a file) to DST
# is refused with one line naming DST, and HOSTPATH does not exist.
not_created() {
	local desc=$1 hostpath=$2 dst=$3
	shift 3
	run_cmd "$ENTER" "$R" "$@" "$dst" -- /bin/busybox true
	expect_eq "$desc: exit 125" 125 "$STATUS"
	expect_one_line_error "$desc: one line naming $dst" "$dst"
	expect_contains "$desc: says why" "$ERR" "not created"
	if [[ -e $hostpath ]]; then
		fail "$desc: nothing made at $hostpath on the host" "$(ls -ld "$hostpath")"
		rm -rf -- "$hostpath"
	else
		pass "$desc: nothing made at $hostpath on the host"
	fi
}
echo file >"$T/hostfile"
not_created "--bind DIR /dev/NEW" "/dev/$NAME" "/dev/$NAME" --bind "$H"
not_created "--bind FILE /dev/NEW" "/dev/$NAME" "/dev/$NAME" --bind "$T/hostfile"
not_created "--bind DIR /dev/NEW/SUB" "/dev/$NAME" "/dev/$NAME/sub" --bind "$H"
ln -s /dev "$R/devlink"
not_created "--bind DIR /devlink/NEW, devlink -> /dev in ROOT" "/dev/$NAME" "/devlink/$NAME" --bind "$H"
rm "$R/devlink"
# /sys/fs/cgroup: cgroup2 (a directory there is a cgroup) or, with cgroup v1,
# a tmpfs where a directory can be made.
if [[ -d /sys/fs/cgroup ]]; then
	not_created "--bind DIR /sys/fs/cgroup/NEW ($(stat -f -c %T /sys/fs/cgroup))" \
		"/sys/fs/cgroup/$NAME" "/sys/fs/cgroup/$NAME" --bind "$H"
else
	pass "--bind DIR /sys/fs/cgroup/NEW # SKIP no /sys/fs/cgroup"
fi
run_cmd "$ENTER" "$R" --bind "$T/hostfile" /dev/null -- /bin/busybox cat /dev/null
expect_eq "--bind FILE over an existing /dev/null: allowed, bound" file "$OUT"
