/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * floor [-i] [-m] ROOT CMD [ARGS...]: the least a program can do to run CMD
 * in ROOT in the environment enter builds, the baseline of bench/run.sh.
 * New mount, uts, ipc and pid namespaces; a child that makes the mounts
 * private, mounts a fresh /proc, binds /dev and /sys, mounts a tmpfs on
 * /run, chroots and execs CMD as pid 1 with an empty environment; the
 * parent waits and returns the child's status.  No checks beyond the
 * return values, no in-root resolution, no signal handling: what enter
 * adds is what it costs.
 *
 * The options add, one at a time, what enter does beyond that, so that
 * bench/run.sh can say what the difference between the two is made of:
 *   -i  an init: pid 1 starts CMD as its child (CLONE_VM | CLONE_VFORK,
 *       as enter's does), waits for it and exits with its status
 *   -m  the rest of enter's environment: a devpts instance with /dev/ptmx
 *       bound to it, a tmpfs on /dev/shm, the hostname, the host's
 *       resolv.conf bound under /run, pivot_root instead of chroot
 * Built a second time as floor-libmount, linked with libmount as enter is
 * (the dynamic loader's share).
 */
#include <err.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef WITH_LIBMOUNT
#include <libmount/libmount.h>
#endif

static char *const envp[] = {"PATH=/bin", NULL};

static void mount_at(const char *root, const char *what, const char *where, const char *type,
		     unsigned long flags, const char *data)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s%s", root, where);
	if (mount(what, path, type, flags, data) < 0)
		err(125, "mount %s", path);
}

static void more_mounts(const char *root)
{
	char path[4096];
	int fd;

	mount_at(root, "devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
		 "newinstance,ptmxmode=0666,mode=0620");
	snprintf(path, sizeof(path), "%s/dev/pts/ptmx", root);
	mount_at(root, path, "/dev/ptmx", NULL, MS_BIND, NULL);
	mount_at(root, "tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
	snprintf(path, sizeof(path), "%s/run/resolv.conf", root);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		err(125, "create %s", path);
	close(fd);
	mount_at(root, "/etc/resolv.conf", "/run/resolv.conf", NULL, MS_BIND, NULL);
	if (sethostname("floor", 5) < 0)
		err(125, "sethostname");
}

static void enter_root(const char *root, bool pivot)
{
	if (!pivot) {
		if (chroot(root) < 0 || chdir("/") < 0)
			err(125, "chroot %s", root);
		return;
	}
	mount_at(root, root, "", NULL, MS_BIND | MS_REC, NULL);
	if (chdir(root) < 0 || syscall(SYS_pivot_root, ".", ".") < 0 ||
	    umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		err(125, "pivot_root %s", root);
}

static int command_main(void *argv)
{
	execve(((char **)argv)[0], argv, envp);
	_exit(127);
}

/* Pid 1 as an init: the command as its child, its status as pid 1's. */
static _Noreturn void run_init(char **argv)
{
	static char stack[64 * 1024];
	int status;
	pid_t pid;

	pid = clone(command_main, stack + sizeof(stack), CLONE_VM | CLONE_VFORK | SIGCHLD, argv);
	if (pid < 0)
		err(125, "clone");
	if (waitpid(pid, &status, 0) < 0)
		err(125, "waitpid");
	_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

int main(int argc, char *argv[])
{
	bool init = false, more = false;
	const char *root;
	int status, opt;
	pid_t pid;

	while ((opt = getopt(argc, argv, "+im")) != -1) {
		if (opt == 'i')
			init = true;
		else if (opt == 'm')
			more = true;
		else
			return 2;
	}
	if (argc - optind < 2)
		errx(2, "usage: floor [-i] [-m] ROOT CMD [ARGS...]");
	root = argv[optind];
#ifdef WITH_LIBMOUNT
	mnt_unref_table(mnt_new_table()); /* linked, and used once */
#endif
	if (unshare(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID) < 0)
		err(125, "unshare");
	pid = fork();
	if (pid < 0)
		err(125, "fork");
	if (pid == 0) {
		if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
			err(125, "make / private");
		mount_at(root, "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
		mount_at(root, "/dev", "/dev", NULL, MS_BIND | MS_REC, NULL);
		mount_at(root, "/sys", "/sys", NULL, MS_BIND | MS_REC, NULL);
		mount_at(root, "tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
		if (more)
			more_mounts(root);
		enter_root(root, more);
		if (init)
			run_init(argv + optind + 1);
		execve(argv[optind + 1], argv + optind + 1, envp);
		err(127, "exec %s", argv[optind + 1]);
	}
	if (waitpid(pid, &status, 0) < 0)
		err(125, "waitpid");
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
