#!/bin/sh
# The VM's /init (vm.sh builds it into the initramfs): the modules of
# lib/modules/order, this machine's root read-only over 9p under a tmpfs
# overlay, then stage2.sh of the tree, in that root.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
while read -r m; do
	insmod "/lib/modules/$m" 2>/dev/null
done </lib/modules/order
fail() {
	echo "init: $*" >/dev/ttyS1
	echo "VM-EXIT: 125" >/dev/ttyS1
	poweroff -f
}
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose hostroot /lower ||
	fail "cannot mount the host's root over 9p"
mount -t tmpfs -o mode=0755 tmpfs /upper
mkdir -p /upper/data /upper/work
mount -t overlay -o lowerdir=/lower,upperdir=/upper/data,workdir=/upper/work overlay /newroot ||
	fail "cannot mount the overlay"
for arg in $(cat /proc/cmdline); do
	case $arg in
	enter.cmd=*) cmd=${arg#enter.cmd=} ;;
	enter.stage2=*) stage2=$(echo "${arg#enter.stage2=}" | base64 -d) ;;
	esac
done
[ -r "/newroot$stage2" ] || fail "no stage 2 at $stage2"
umount /proc /sys /dev
exec switch_root /newroot /bin/sh "$stage2" "$cmd"
