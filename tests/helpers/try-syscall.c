/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * try-syscall: calls each system call --hardened denies, with arguments bad
 * enough that an allowed call fails harmlessly (EBADF, EFAULT, EINVAL...);
 * a denied one fails with EPERM (ENOSYS for clone3).  Prints "NAME ERRNO".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define CALL(name, ...) report(#name, syscall(__VA_ARGS__))

static void report(const char *name, long r)
{
	printf("%s %s\n", name, r < 0 ? strerrorname_np(errno) : "OK");
}

int main(void)
{
	void *bad = (void *)1;

	CALL(kexec_load, SYS_kexec_load, 0, 0, NULL, 0xffffffffUL);
	CALL(kexec_file_load, SYS_kexec_file_load, -1, -1, 0, NULL, 0xffffffffUL);
	CALL(init_module, SYS_init_module, NULL, 0, NULL);
	CALL(finit_module, SYS_finit_module, -1, "", 0);
	CALL(delete_module, SYS_delete_module, bad, 0);
	CALL(open_by_handle_at, SYS_open_by_handle_at, -1, NULL, 0);
	CALL(keyctl, SYS_keyctl, 9999, 0, 0, 0, 0);
	CALL(add_key, SYS_add_key, bad, bad, NULL, 0, 0);
	CALL(request_key, SYS_request_key, bad, bad, NULL, 0);
	CALL(bpf, SYS_bpf, -1, NULL, 0);
	CALL(perf_event_open, SYS_perf_event_open, bad, 0, -1, -1, 0);
	CALL(userfaultfd, SYS_userfaultfd, -1);
	CALL(iopl, SYS_iopl, 99);
	CALL(ioperm, SYS_ioperm, 0x10000UL, 1, 1);
	CALL(acct, SYS_acct, bad);
	CALL(swapon, SYS_swapon, bad, 0);
	CALL(swapoff, SYS_swapoff, bad);
	CALL(reboot, SYS_reboot, 0, 0, 0, NULL);
	CALL(clock_settime, SYS_clock_settime, 999, NULL);
	CALL(adjtimex, SYS_adjtimex, bad);
	CALL(syslog, SYS_syslog, 9999, NULL, 0);
	CALL(ptrace, SYS_ptrace, 9999, 0, NULL, NULL);
	CALL(process_vm_readv, SYS_process_vm_readv, 0, NULL, 0, NULL, 0, 1);
	CALL(unshare_user, SYS_unshare, CLONE_NEWUSER | 0x1UL << 63);
	CALL(clone3, SYS_clone3, NULL, 0);
	CALL(tiocsti, SYS_ioctl, -1, TIOCSTI, NULL);
	CALL(tioclinux, SYS_ioctl, -1, TIOCLINUX, NULL);
	/* allowed, as the control of the filter itself */
	CALL(getppid, SYS_getppid);
	CALL(ioctl_other, SYS_ioctl, -1, TIOCGWINSZ, NULL);
	return 0;
}
