#!/bin/sh
# Stage 2 of the VM's init (init.sh switches to it): in this machine's root,
# read-only under a tmpfs overlay, the API filesystems, then the test's
# command (base64 in $1) under bash, its output on the second serial port,
# its status as "VM-EXIT: N" after it; then the VM powers off.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /tmp
hostname enter-vm
ip link set lo up 2>/dev/null
cmd=$(echo "$1" | base64 -d)
cd /tmp || exit 1
bash -c "$cmd" </dev/null >/dev/ttyS1 2>&1
echo "VM-EXIT: $?" >/dev/ttyS1
sync
echo o >/proc/sysrq-trigger
sleep 10
