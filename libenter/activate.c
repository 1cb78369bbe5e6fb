/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Activation of the target system inside the environment, as nixos-enter
 * does it: $system/activate, then systemd-tmpfiles when the target has it.
 * Output goes to stderr (stdout belongs to the command), or nowhere with
 * ENTER_SILENT.  A failure is a warning, an error with ENTER_STRICT.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/wait.h>

#include "internal.h"

struct program {
	const struct enter_plan *plan;
	char *const *argv;
};

/* The child's side of spawn(): pid 1 sleeps until the exec.  Returns the
 * errno of what failed before it; what the program does after is its
 * exit status. */
static int program_main(void *data)
{
	const struct program *p = data;
	int out = 2, r;

	r = signal_reset_all();
	if (r < 0)
		return -r;
	if (p->plan->flags & ENTER_SILENT) {
		out = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (out < 0 || dup2(out, 2) < 0)
			return errno;
	}
	/* Activation gets 0, 1 and 2, none of the caller's other fds (closed
	 * at the exec: spawn() may have one of its own open until then). */
	if (dup2(out, 1) < 0 || chdir("/") < 0 || close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		return errno;
	if (p->plan->flags & ENTER_HARDENED) {
		r = hardened_apply(NULL);
		if (r < 0)
			return -r;
	}
	execve(p->argv[0], p->argv, p->plan->envp);
	return errno;
}

/* Runs @argv to its end: its wait status, or in *@ret_error why it could
 * not be started (then no status). */
static int run_and_wait(const struct enter_plan *plan, char *const argv[], int *ret_status,
			int *ret_error)
{
	struct program program = {plan, argv};
	pid_t pid, w;

	pid = spawn(program_main, &program, ret_error);
	if (pid < 0)
		return pid;
	do
		w = waitpid(pid, ret_status, 0);
	while (w < 0 && errno == EINTR);
	return w < 0 ? -errno : 0;
}

static char *describe(const char *path, int status, int error, char *buf, size_t size)
{
	if (interpreter_missing(path, error)) {
		_cleanup_free_ char *why = missing_interpreter_text(path);

		snprintf(buf, size, "could not be started: %s",
			 why ? why : "its interpreter was not found");
	} else if (error == ENOENT)
		snprintf(buf, size, "not found");
	else if (error)
		snprintf(buf, size, "could not be started: %s", errtext(error));
	else if (WIFEXITED(status))
		snprintf(buf, size, "exited with status %d", WEXITSTATUS(status));
	else
		snprintf(buf, size, "killed by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	return buf;
}

static int run_tmpfiles(struct enter_ctx *ctx, const struct enter_plan *plan, const struct step *s,
			struct enter_error **err)
{
	char *tmpfiles[] = {s->source, "--create", "--remove", "-E", NULL};
	char why[320];
	int status, error, r;

	r = run_and_wait(plan, tmpfiles, &status, &error);
	if (r < 0)
		return error_set(err, -r, "activate", s->source, NULL, NULL);
	/* Like nixos-enter: tmpfiles reports partial failures often; warn only. */
	if (status != 0 || error)
		log_msg(ctx, ENTER_LOG_WARNING, "%s %s", s->source,
			describe(s->source, status, error, why, sizeof(why)));
	return 0;
}

int activate_run(struct enter_ctx *ctx, const struct enter_plan *plan, const struct step *s,
		 struct enter_error **err)
{
	char *activate[] = {s->source, NULL};
	char why[320];
	int status, error, r;

	if (s->kind == STEP_TMPFILES)
		return run_tmpfiles(ctx, plan, s, err);
	r = run_and_wait(plan, activate, &status, &error);
	if (r < 0)
		return error_set(err, -r, "activate", s->source, NULL, NULL);
	if (status == 0 && !error)
		return 0;
	describe(s->source, status, error, why, sizeof(why));
	if (plan->flags & ENTER_STRICT)
		return error_set(err, error ? error : EIO, "activate", s->source, "--strict", "%s",
				 why);
	log_msg(ctx, ENTER_LOG_WARNING, "activation %s %s; going on (--strict stops here)",
		s->source, why);
	return 0;
}
