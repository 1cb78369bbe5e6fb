/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spawn(): what the caller learns of its child (an exec that failed, told
 * apart from a program's own exit status), and what it keeps (environ).
 * The normal build runs the CLONE_VM path, the ASan build the fork path.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "internal.h"

extern char **environ;

static int wait_for(pid_t pid)
{
	int status;

	cr_assert_gt(pid, 0, "spawn: %s", strerror(-pid));
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	return status;
}

static int exec_true(void *arg)
{
	char *argv[] = {"true", NULL};

	(void)arg;
	execv("/bin/true", argv);
	return errno;
}

static int fail_before_exec(void *arg)
{
	(void)arg;
	return EACCES;
}

static int exit_3(void *arg)
{
	(void)arg;
	_exit(3);
}

static int exec_path(void *arg)
{
	char *argv[] = {arg, NULL};

	execv(arg, argv);
	return errno;
}

static int change_environ(void *arg)
{
	static char *other[] = {"CHILD=1", NULL};

	environ = other; /* as exec_command() does before execvp() */
	return exec_true(arg);
}

Test(spawn, an_exec_that_succeeds_reports_no_error)
{
	int error = -1, status = wait_for(spawn(exec_true, NULL, &error));

	cr_assert_eq(error, 0);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

Test(spawn, a_failure_before_the_exec_is_the_callers_errno)
{
	int error = 0, status = wait_for(spawn(fail_before_exec, NULL, &error));

	cr_assert_eq(error, EACCES, "error %d", error);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 127);
}

Test(spawn, the_childs_own_exit_status_is_no_error)
{
	int error = -1, status = wait_for(spawn(exit_3, NULL, &error));

	cr_assert_eq(error, 0);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 3);
}

Test(spawn, an_exec_that_fails_reports_its_errno)
{
	int error = 0;

	(void)wait_for(spawn(exec_path, "/nonexistent/program", &error));
	cr_assert_eq(error, ENOENT);
	(void)wait_for(spawn(exec_path, "/etc", &error));
	cr_assert_eq(error, EACCES);
}

Test(spawn, environ_is_the_callers_afterwards)
{
	char **before = environ;
	int error = -1;

	(void)wait_for(spawn(change_environ, NULL, &error));
	cr_assert_eq(error, 0);
	cr_assert_eq(environ, before);
}

Test(spawn, no_error_pointer_is_fine)
{
	int status = wait_for(spawn(fail_before_exec, NULL, NULL));

	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 127);
}

Test(spawn, a_missing_interpreter_is_told_from_a_missing_file)
{
	char dir[] = "/tmp/libenter-test-spawn-XXXXXX", script[64];
	int error = 0, fd;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(script, sizeof(script), "%s/fix.sh", dir);
	fd = open(script, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "#!/nonexistent/bash\n", 20), 20);
	close(fd);

	(void)wait_for(spawn(exec_path, script, &error));
	cr_assert_eq(error, ENOENT, "the kernel says ENOENT for both");
	cr_assert(interpreter_missing(script, error));
	cr_assert_not(interpreter_missing("/nonexistent/program", ENOENT));
	cr_assert_not(interpreter_missing(script, EACCES));
	cr_assert_not(interpreter_missing("fix.sh", ENOENT), "a bare name was searched in PATH");

	unlink(script);
	rmdir(dir);
}
