/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * floor ROOT CMD [ARGS...]: the least a program can do to run CMD in ROOT in
 * the environment enter builds, the baseline of bench/run.sh.  New mount,
 * uts, ipc and pid namespaces; a child that makes the mounts private, mounts
 * a fresh /proc, binds /dev and /sys, mounts a tmpfs on /run, chroots and
 * execs CMD as pid 1 with an empty environment; the parent waits and returns
 * the child's status.  No checks beyond the return values, no in-root
 * resolution, no init, no signal handling: what enter adds is what it costs.
 */
#include <err.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

static void mount_at(const char *root, const char *what, const char *where, const char *type,
		     unsigned long flags, const char *data)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s%s", root, where);
	if (mount(what, path, type, flags, data) < 0)
		err(125, "mount %s", path);
}

int main(int argc, char *argv[])
{
	static char *const envp[] = {"PATH=/bin", NULL};
	const char *root;
	int status;
	pid_t pid;

	if (argc < 3)
		errx(2, "usage: floor ROOT CMD [ARGS...]");
	root = argv[1];
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
		if (chroot(root) < 0 || chdir("/") < 0)
			err(125, "chroot %s", root);
		execve(argv[2], argv + 2, envp);
		err(127, "exec %s", argv[2]);
	}
	if (waitpid(pid, &status, 0) < 0)
		err(125, "waitpid");
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
