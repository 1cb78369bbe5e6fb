/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Pid 1 executes the plan: one loop over its steps, one switch over their
 * kinds (no default: -Wswitch-enum stops the build when a new kind is
 * printed by plan.c and forgotten here).  What a step does is in the file of
 * its concern: mounts in mount.c, namespaces in ns.c, activation in
 * activate.c, the terminal in pty.c.
 */
#include <string.h>
#include <unistd.h>

#include "internal.h"

/* The pair of a new pseudo-terminal, the slave on pid 1's terminal fds and
 * the master to the caller, which relays it. */
static int hand_over_terminal(const struct enter_plan *plan, struct run *run,
			      struct enter_error **err)
{
	_cleanup_close_ int master = -1;
	int r;

	r = pty_open_inside(plan->tty_fds, &master, err);
	if (r < 0)
		return r;
	r = pty_send_fd(run->pty_sock, master);
	if (r < 0)
		return error_set(err, -r, "pty", "/dev/ptmx", NULL, "passing the terminal: %s",
				 errtext(-r));
	closep(&run->pty_sock);
	return 0;
}

/* A line for the steps that can take a while (a disk to mount, the
 * target's activation), for a human watching: ENTER_LOG_INFO; a line for
 * every other step with --verbose. */
static void progress(struct enter_ctx *ctx, const struct step *s)
{
	if (s->kind == STEP_FSTAB)
		log_msg(ctx, ENTER_LOG_INFO, "mounting %s: %s (%s)", s->target, s->source,
			s->origin);
	else if (s->kind == STEP_ACTIVATE)
		log_msg(ctx, ENTER_LOG_INFO, "activating %s", s->target);
	else
		log_msg(ctx, ENTER_LOG_DEBUG, "%s %s", step_kind_name(s->kind),
			s->target   ? s->target
			: s->source ? s->source
				    : "");
}

/* An entry of the target's fstab; one marked nofail that cannot be mounted
 * is a warning, as at boot, and the system is entered without it. */
static int mount_fstab_entry(struct enter_ctx *ctx, const struct step *s, struct exec_state *st,
			     struct enter_error **err)
{
	struct enter_error *failed = NULL;

	if (!s->nofail)
		return mount_filesystem(s, st, err);
	if (mount_filesystem(s, st, &failed) < 0)
		log_msg(ctx, ENTER_LOG_WARNING, "%s; nofail, so entering without it",
			enter_error_message(failed));
	enter_error_free(failed);
	return 0;
}

static int run_step(struct enter_ctx *ctx, struct run *run, const struct step *s,
		    struct exec_state *st, struct enter_error **err)
{
	int r;

	switch (s->kind) {
	case STEP_NAMESPACES:
		return ns_unshare(err);
	case STEP_PROPAGATION:
		return ns_make_private(err);
	case STEP_ROOT:
		/* The host's resolv.conf, cloned before pivot_root hides it. */
		r = mount_prepare_resolv(run->plan, st, err);
		return r < 0 ? r : mount_root(ctx, s, st, err);
	case STEP_MKDIR:
	case STEP_MKFILE:
		return mount_make_point(s, st, err);
	case STEP_PROC:
	case STEP_TMPFS:
		return mount_fresh_at(s, st, err);
	case STEP_DEVPTS:
		return mount_devpts(s, st, err);
	case STEP_BIND:
		return mount_bind(s, st, err);
	case STEP_FSTAB:
		return mount_fstab_entry(ctx, s, st, err);
	case STEP_BOOT_SPACE:
		return mount_check_boot_space(ctx, s, st);
	case STEP_HOSTNAME:
		if (sethostname(s->source, strlen(s->source)) < 0)
			return error_set(err, errno, "hostname", s->source, s->origin, NULL);
		return 0;
	case STEP_PIVOT:
		return mount_pivot(ctx, st, err);
	case STEP_TERMINAL:
		return hand_over_terminal(run->plan, run, err);
	case STEP_HARDEN:
		/* Applied by every program pid 1 starts, just before its exec
		 * (activation, tmpfiles, the command): pid 1 itself keeps the
		 * power to kill and reap them. */
		return 0;
	case STEP_ACTIVATE:
	case STEP_TMPFILES:
		return activate_run(ctx, run->plan, s, err);
	case STEP_RESOLV:
		return mount_resolv(ctx, s, st, err);
	case STEP_LUKS_OPEN:
	case STEP_LUKS_CLOSE:
		/* The caller's: enter_assemble() before the fork, enter_teardown()
		 * after the run. */
		return 0;
	}
	return error_set(err, EINVAL, "setup", NULL, NULL, "unknown step kind %d", s->kind);
}

int setup_run_steps(struct enter_ctx *ctx, struct run *run, struct enter_error **err)
{
	const struct enter_plan *plan = run->plan;
	struct exec_state st = {.root_fd = -1, .resolv_fd = -1};
	int r = 0;

	for (size_t i = 0; r >= 0 && i < plan->n_steps; i++) {
		const struct step *s = &plan->steps[i];

		progress(ctx, s);
		r = run_step(ctx, run, s, &st, err);
		/* ROOT as the host sees it: /proc/1/fd/N/.. would lead out. */
		if (r >= 0 && s->kind == STEP_PIVOT)
			closep(&ctx->root_fd);
	}
	closep(&st.root_fd);
	closep(&st.resolv_fd);
	return r;
}
