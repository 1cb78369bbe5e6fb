#!/usr/bin/env bash
# vm.sh [--disk IMAGE]... [--blank N] SCRIPT [ARGS...]: run SCRIPT inside a VM on Debian's
# own kernel, for what this machine's kernel cannot do (ZFS, device-mapper,
# vfat, partition tables).
#
# The VM boots /boot/vmlinuz-KVER (the newest with its modules and zfs.ko)
# under qemu (TCG: no KVM here) with a small initramfs (busybox-static and
# the 9p, virtio and overlay modules) that mounts THIS machine's root
# read-only over 9p under a tmpfs overlay and switches to it: the VM runs the
# enter of this build, with the real zfs.ko, dm-crypt and vfat of Debian's
# kernel from /lib/modules.  Each IMAGE is a virtio disk (/dev/vda, vdb, ...,
# in order), then N blank sparse disks of 2 GiB.  SCRIPT runs as root in the VM, its stdout and stderr on the
# VM's second serial port, which is this script's stdout; the VM's console
# (kernel and init messages) goes to $VM_LOG, shown when the VM fails.
#
# Exit status: SCRIPT's; 77 when this machine has no kernel, qemu or zfs.ko
# for the VM (.ci/packages-vm installs them); 125 when the VM itself failed.
#
# Environment: VM_CACHE, where the initramfs is kept (default
# /tmp/enter-vm-cache); VM_LOG (default a temporary file); VM_MEMORY (MiB,
# default 2048); VM_TIMEOUT (seconds, default 600).
set -euo pipefail

prog=${0##*/}
cache=${VM_CACHE:-/tmp/enter-vm-cache}
disks=()
blank=0
while (($#)); do
	case $1 in
	--disk) disks+=("$(realpath -- "$2")") ;;
	--blank) blank=$2 ;;
	*) break ;;
	esac
	shift 2
done
if (($# < 1)); then
	echo "usage: $prog [--disk IMAGE]... [--blank N] SCRIPT [ARGS...]" >&2
	exit 2
fi
script=$(realpath -- "$1")
shift

skip() {
	echo "1..0 # SKIP $*"
	exit 77
}

command -v qemu-system-x86_64 >/dev/null || skip "no qemu-system-x86_64 (package qemu-system-x86)"
[[ -x /bin/busybox ]] || skip "no /bin/busybox (package busybox-static)"

# The newest kernel with its modules and a zfs.ko built for it.
kver=
for k in $(ls -1 /lib/modules | sort -V -r); do
	if [[ -r /boot/vmlinuz-$k ]] && modinfo -k "$k" zfs >/dev/null 2>&1; then
		kver=$k
		break
	fi
done
[[ -n $kver ]] || skip "no /boot/vmlinuz-KVER with zfs.ko in /lib/modules/KVER (packages linux-image-amd64, linux-headers-amd64, zfs-dkms)"

# The initramfs, once per kernel: busybox and what mounting the root needs.
initrd=$cache/initramfs-$kver.cpio.gz
if [[ ! -s $initrd || $initrd -ot $0 || $initrd -ot ${0%/*}/init.sh ]]; then
	mkdir -p -- "$cache"
	work=$(mktemp -d "$cache/build.XXXXXX")
	trap 'rm -rf -- "$work"' EXIT
	mkdir -p "$work"/{bin,dev,proc,sys,lower,upper,newroot,lib/modules}
	cp /bin/busybox "$work/bin/busybox"
	ln -s busybox "$work/bin/sh"
	cp -- "${0%/*}/init.sh" "$work/init"
	chmod 0755 "$work/init"
	# The modules, each after what it depends on, uncompressed (busybox
	# insmod reads plain .ko files only); built-in ones are skipped.
	: >"$work/lib/modules/order"
	for m in virtio_pci virtio_blk 9pnet_virtio 9p overlay; do
		modprobe -S "$kver" --show-depends "$m" 2>/dev/null | while read -r kind path _; do
			[[ $kind == insmod ]] || continue
			name=${path##*/}
			name=${name%.xz}
			name=${name%.zst}
			[[ -e $work/lib/modules/$name ]] && continue
			case $path in
			*.xz) xz -dc -- "$path" >"$work/lib/modules/$name" ;;
			*.zst) zstd -qdc -- "$path" >"$work/lib/modules/$name" ;;
			*) cp -- "$path" "$work/lib/modules/$name" ;;
			esac
			echo "$name" >>"$work/lib/modules/order"
		done
	done
	(cd "$work" && find . | cpio -o -H newc --quiet | gzip -1) >"$initrd.tmp"
	mv -- "$initrd.tmp" "$initrd"
	rm -rf -- "$work"
	trap - EXIT
fi

tmp=$(mktemp -d)
trap 'rm -rf -- "$tmp"' EXIT
# --blank N: N empty sparse disks of 2 GiB after the given ones.
for ((i = 0; i < blank; i++)); do
	truncate -s 2G "$tmp/blank$i.img"
	disks+=("$tmp/blank$i.img")
done
out=$tmp/out
log=${VM_LOG:-$tmp/console}
args=$(printf '%q ' "$@")
drives=()
for d in "${disks[@]}"; do
	drives+=(-drive "file=$d,if=virtio,format=raw,cache=unsafe")
done

# The script and its arguments reach the VM's init on the kernel command
# line, base64 so that no character of them is the kernel's to parse.
cmd=$(printf 'bash %s %s' "$(printf '%q' "$script")" "$args" | base64 -w0)
stage2=$(realpath -- "${0%/*}/stage2.sh" | base64 -w0)
status=0
timeout "${VM_TIMEOUT:-600}" qemu-system-x86_64 \
	-machine q35 -cpu max -smp 2 -m "${VM_MEMORY:-2048}" \
	-nographic -no-reboot -nodefaults \
	-kernel "/boot/vmlinuz-$kver" -initrd "$initrd" \
	-append "console=ttyS0 panic=-1 quiet loglevel=3 enter.stage2=$stage2 enter.cmd=$cmd" \
	-virtfs local,path=/,mount_tag=hostroot,security_model=passthrough,readonly=on,multidevs=remap \
	-serial "file:$log" -serial "file:$out" \
	"${drives[@]}" >/dev/null 2>>"$log" || status=$?

# The last line on the second port is init's "VM-EXIT: N" (a serial line
# ends in CR LF).
tr -d '\r' <"$out" >"$out.txt"
result=$(grep -a '^VM-EXIT: [0-9]*$' "$out.txt" | tail -n1 | cut -d' ' -f2 || true)
grep -av '^VM-EXIT: ' "$out.txt" || true
if [[ -z $result ]]; then
	echo "$prog: the VM ended without the script's status (qemu: $status); its console:" >&2
	tail -n 40 -- "$log" >&2
	exit 125
fi
exit "$result"
