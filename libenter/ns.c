/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The namespaces of a run.  The caller's own never change: CLONE_NEWPID is
 * unshared only for the one fork of pid 1 (it applies to children, not to
 * the caller itself), and the thread's pid namespace for children is set
 * back right after.  Pid 1 unshares the mount, uts and ipc namespaces itself
 * (STEP_NAMESPACES) and makes every mount private (STEP_PROPAGATION).
 */
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>

#include "internal.h"

pid_t ns_fork_pid1(struct enter_error **err)
{
	_cleanup_close_ int saved = -1;
	pid_t pid;

	saved = open("/proc/thread-self/ns/pid_for_children", O_RDONLY | O_CLOEXEC);
	if (saved < 0)
		return error_set(err, errno, "unshare", "/proc/thread-self/ns/pid_for_children",
				 NULL, NULL);
	if (unshare(CLONE_NEWPID) < 0)
		return error_set(err, errno, "unshare", NULL, "pid namespace", NULL);
	pid = fork();
	if (pid == 0)
		return 0;
	if (setns(saved, CLONE_NEWPID) < 0 && pid > 0) {
		/* Cannot happen for the namespace we came from; if it did, the
		 * caller's later children would land in the new namespace. */
		(void)kill(pid, SIGKILL);
		(void)waitpid(pid, NULL, 0);
		return error_set(err, errno, "setns", NULL, "pid namespace", NULL);
	}
	if (pid < 0)
		return error_set(err, errno, "fork", NULL, NULL, NULL);
	return pid;
}

int ns_unshare(struct enter_error **err)
{
	if (unshare(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC) < 0)
		return error_set(err, errno, "unshare", NULL, "mount, uts, ipc namespaces", NULL);
	return 0;
}

int ns_make_private(struct enter_error **err)
{
	/* Nothing we mount may propagate back to the host. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return error_set(err, errno, "mount", "/", "making the namespace private", NULL);
	return 0;
}
