/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The signals a run forwards to the command, the ones that stop it, and the
 * exit status a wait status becomes: one list and one rule, for the caller
 * of enter_run_plan() and for pid 1 alike.
 */
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "internal.h"

const int forwarded_signals[] = {SIGTERM, SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};
const size_t n_forwarded_signals = ELEMENTSOF(forwarded_signals);

bool is_stop_signal(int sig)
{
	return sig == SIGTERM || sig == SIGHUP || sig == SIGINT || sig == SIGQUIT;
}

int exit_status_of(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return 125;
}

void signal_set_forwarded(sigset_t *set)
{
	sigemptyset(set);
	for (size_t i = 0; i < n_forwarded_signals; i++)
		sigaddset(set, forwarded_signals[i]);
}

int signal_reset_all(void)
{
	struct sigaction sa = {.sa_handler = SIG_DFL};
	/* SIG_DFL, no flags, an empty mask: all zero in every architecture's
	 * struct kernel_sigaction. */
	static const unsigned long kernel_dfl[8];
	sigset_t none;

	for (int sig = 1; sig < NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		/* glibc refuses its own 32 and 33 (EINVAL), and one the caller
		 * ignored would stay ignored across exec. */
		if (sigaction(sig, &sa, NULL) < 0)
			(void)syscall(SYS_rt_sigaction, sig, kernel_dfl, NULL, sizeof(uint64_t));
	}
	sigemptyset(&none);
	return sigprocmask(SIG_SETMASK, &none, NULL) < 0 ? -errno : 0;
}
