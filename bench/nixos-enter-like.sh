#!/usr/bin/env bash
# bench/nixos-enter-like.sh ROOT CMD [ARGS...]: what nixos-enter does, for
# bench/run.sh to compare with, on a machine without nix (Debian has no
# nixos-enter).  Written for the benchmark from nixos-enter's documented
# behaviour, not its code: re-run itself under unshare with new mount, uts
# and pid namespaces and a fresh /proc; make the mounts private; bind /dev and
# /sys recursively; bind the host's resolv.conf where the target's points;
# run $system/activate and systemd-tmpfiles with chroot; chroot into ROOT
# for CMD.  The same external programs in the same order (bash, unshare,
# mount, chroot), so its cost is that of nixos-enter's way of doing it.
set -e
if [[ -z ${_BENCH_NIXOS_ENTER:-} ]]; then
	export _BENCH_NIXOS_ENTER=1
	exec unshare --fork --mount --uts --mount-proc --pid -- "$0" "$@"
fi
mount --make-rprivate /
root=$1
shift
system=/nix/var/nix/profiles/system
[[ -e $root/etc/NIXOS ]] || exit 126
mkdir -p "$root/dev" "$root/sys"
mount --rbind /dev "$root/dev"
mount --rbind /sys "$root/sys"
resolv=$root/etc/resolv.conf
if [[ -L $resolv ]]; then
	target=$(readlink "$resolv")
	[[ $target == /* ]] && resolv=$root$target || resolv=$root/etc/$target
fi
[[ -f $resolv ]] || install -Dm644 /dev/null "$resolv"
mount --bind /etc/resolv.conf "$resolv"
(
	LOCALE_ARCHIVE=$system/sw/lib/locale/locale-archive IN_NIXOS_ENTER=1 \
		chroot "$root" "$system/activate" 1>&2 || true
	chroot "$root" "$system/sw/bin/systemd-tmpfiles" --create --remove -E 2>/dev/null || true
)
unset TMPDIR
exec chroot "$root" "$@"
