/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ENTER_HARDENED: for running untrusted target code.  Capabilities are
 * dropped (libcap) to those a rebuild and a boot-loader install need, and a
 * seccomp filter (libseccomp) denies what a repair never needs.  Applied in
 * every process that runs target code (activation and the command), after
 * everything enter itself needs is done, just before exec.
 *
 * Kept capabilities, and why:
 *   CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID  files of any owner
 *   SETUID SETGID SETPCAP SETFCAP  nix build users, setuid wrappers, activation
 *   KILL  stopping services and builders
 *   SYS_ADMIN SYS_CHROOT  nix's build sandbox (mount namespaces, chroot),
 *                         EFI variables and mounts of boot-loader installers
 *   SYS_RESOURCE  limits of build users
 *   AUDIT_WRITE NET_BIND_SERVICE  what login tools and services expect
 * Everything else is dropped from the bounding, effective, permitted,
 * inheritable and ambient sets: module loading, raw I/O, reboot, time,
 * network administration, BPF, perf, ptrace, mknod, ...
 *
 * libcap and libseccomp are loaded with dlopen() by hardened_load(), in
 * the caller of enter_run() and only when ENTER_HARDENED asks for them:
 * linked, the two cost every run of enter 0.4 ms in the dynamic loader
 * (bench/run.sh).  Their paths are those the build found (LIBCAP_PATH,
 * LIBSECCOMP_PATH), so that a packager's library is the one loaded.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>

#include "internal.h"

#if HAVE_HARDENING
#include <seccomp.h>
#include <sys/capability.h>

static const cap_value_t kept[] = {
	CAP_CHOWN,     CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER,      CAP_FSETID,
	CAP_SETUID,    CAP_SETGID,	 CAP_SETPCAP,	      CAP_SETFCAP,     CAP_KILL,
	CAP_SYS_ADMIN, CAP_SYS_CHROOT,	 CAP_SYS_RESOURCE,    CAP_AUDIT_WRITE, CAP_NET_BIND_SERVICE,
};

/* Denied with EPERM: nothing a repair needs, much an attacker wants. */
static const char *const denied[] = {
	"kexec_load",
	"kexec_file_load",
	"init_module",
	"finit_module",
	"delete_module",
	"open_by_handle_at",
	"name_to_handle_at",
	"keyctl",
	"add_key",
	"request_key",
	"bpf",
	"perf_event_open",
	"userfaultfd",
	"iopl",
	"ioperm",
	"acct",
	"swapon",
	"swapoff",
	"reboot",
	"settimeofday",
	"clock_settime",
	"clock_adjtime",
	"adjtimex",
	"syslog",
	"ptrace",
	"process_vm_readv",
	"process_vm_writev",
	"lookup_dcookie",
	"quotactl",
	"vhangup",
	"pivot_root",
};

#define SYM(name) typeof(name) *name
static struct {
	SYM(cap_get_proc);
	SYM(cap_drop_bound);
	SYM(cap_set_flag);
	SYM(cap_set_proc);
	SYM(cap_free);
	SYM(seccomp_init);
	SYM(seccomp_syscall_resolve_name);
	SYM(seccomp_rule_add);
	SYM(seccomp_load);
	SYM(seccomp_release);
} sym;
#undef SYM

/* What the one attempt to load found, for every later hardened_load(). */
static struct {
	int errnum; /* 0: every symbol in sym */
	const char *path;
	char reason[256];
} load_result;

/* The path the build found; where that is not where the libraries are at
 * run time (a /lib and a /usr/lib not merged), the loader's own search. */
static void *open_library(const char *path)
{
	void *lib;
	char first[200];

	/* Never closed: loaded for the life of the process. */
	lib = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
	if (lib)
		return lib;
	snprintf(first, sizeof(first), "%s", dlerror());
	lib = dlopen(strrchr(path, '/') + 1, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
	if (!lib)
		snprintf(load_result.reason, sizeof(load_result.reason),
			 "cannot load the library: %s", first);
	return lib;
}

static void load_once(void)
{
#define SYMBOL(path, name)                                                                         \
	{                                                                                          \
		path, #name, (void **)&sym.name                                                    \
	}
	const struct {
		const char *path, *name;
		void **slot;
	} table[] = {
		SYMBOL(LIBCAP_PATH, cap_get_proc),
		SYMBOL(LIBCAP_PATH, cap_drop_bound),
		SYMBOL(LIBCAP_PATH, cap_set_flag),
		SYMBOL(LIBCAP_PATH, cap_set_proc),
		SYMBOL(LIBCAP_PATH, cap_free),
		SYMBOL(LIBSECCOMP_PATH, seccomp_init),
		SYMBOL(LIBSECCOMP_PATH, seccomp_syscall_resolve_name),
		SYMBOL(LIBSECCOMP_PATH, seccomp_rule_add),
		SYMBOL(LIBSECCOMP_PATH, seccomp_load),
		SYMBOL(LIBSECCOMP_PATH, seccomp_release),
	};
#undef SYMBOL
	const char *loaded = NULL;
	void *lib = NULL;

	for (size_t i = 0; i < ELEMENTSOF(table); i++) {
		load_result.path = table[i].path;
		if (!loaded || !streq(loaded, table[i].path)) {
			lib = open_library(table[i].path);
			if (!lib) {
				load_result.errnum = ELIBACC;
				return;
			}
			loaded = table[i].path;
		}
		*table[i].slot = dlsym(lib, table[i].name);
		if (!*table[i].slot) {
			snprintf(load_result.reason, sizeof(load_result.reason),
				 "no %s in the library: %s", table[i].name, dlerror());
			load_result.errnum = ELIBBAD;
			return;
		}
	}
}

/* Once per process, whichever thread comes first; a failure stays one. */
int hardened_load(struct enter_error **err)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	int r = pthread_once(&once, load_once);

	if (r != 0)
		return error_set(err, r, "hardened", NULL, NULL, "pthread_once: %s", errtext(r));
	if (load_result.errnum)
		return error_set(err, load_result.errnum, "hardened", load_result.path, NULL, "%s",
				 load_result.reason);
	return 0;
}

static bool is_kept(cap_value_t c)
{
	for (size_t i = 0; i < ELEMENTSOF(kept); i++)
		if (kept[i] == c)
			return true;
	return false;
}

static int drop_capabilities(void)
{
	cap_t caps = sym.cap_get_proc();
	int r = 0;

	if (!caps)
		return -errno;
	for (cap_value_t c = 0; c <= CAP_LAST_CAP && r == 0; c++) {
		if (is_kept(c))
			continue;
		/* EINVAL: a capability this kernel does not have.  Not
		 * CAP_IS_SUPPORTED(), whose read failing would keep it. */
		if (sym.cap_drop_bound(c) < 0 && errno != EINVAL)
			r = -errno;
		else if (sym.cap_set_flag(caps, CAP_EFFECTIVE, 1, &c, CAP_CLEAR) < 0 ||
			 sym.cap_set_flag(caps, CAP_PERMITTED, 1, &c, CAP_CLEAR) < 0 ||
			 sym.cap_set_flag(caps, CAP_INHERITABLE, 1, &c, CAP_CLEAR) < 0)
			r = -errno;
	}
	if (r == 0 && sym.cap_set_proc(caps) < 0)
		r = -errno;
	if (r == 0 && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 &&
	    errno != EINVAL)
		r = -errno;
	sym.cap_free(caps);
	return r;
}

static int load_filter(void)
{
	scmp_filter_ctx f = sym.seccomp_init(SCMP_ACT_ALLOW);
	int r = 0;

	if (!f)
		return -ENOMEM;
	for (size_t i = 0; i < ELEMENTSOF(denied) && r == 0; i++) {
		int nr = sym.seccomp_syscall_resolve_name(denied[i]);

		if (nr != __NR_SCMP_ERROR)
			r = sym.seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), nr, 0);
	}
	/* New user namespaces: a way around the dropped capabilities. clone3
	 * passes its flags in memory seccomp cannot read: ENOSYS makes libcs
	 * fall back to clone. */
	if (r == 0)
		r = sym.seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(unshare), 1,
					 SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER));
	if (r == 0)
		r = sym.seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
					 SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER));
	if (r == 0)
		r = sym.seccomp_rule_add(f, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	/* Keystroke injection into whatever terminal is reachable. */
	if (r == 0)
		r = sym.seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
					 SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCSTI));
	if (r == 0)
		r = sym.seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
					 SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCLINUX));
	if (r == 0)
		r = sym.seccomp_load(f);
	sym.seccomp_release(f);
	return r;
}

int hardened_apply(struct enter_error **err)
{
	int r;

	if (!sym.seccomp_release) /* hardened_load() not called, or failed */
		return error_set(err, ELIBACC, "hardened", NULL, NULL,
				 "libcap and libseccomp not loaded");
	r = drop_capabilities();
	if (r < 0)
		return error_set(err, -r, "hardened", NULL, NULL, "dropping capabilities: %s",
				 errtext(-r));
	r = load_filter();
	if (r < 0)
		return error_set(err, -r, "hardened", NULL, NULL, "seccomp filter: %s",
				 errtext(-r));
	return 0;
}

#else

int hardened_load(struct enter_error **err)
{
	return error_set(err, EOPNOTSUPP, "hardened", NULL, NULL,
			 "built without libcap and libseccomp");
}

int hardened_apply(struct enter_error **err)
{
	return error_set(err, EOPNOTSUPP, "hardened", NULL, NULL,
			 "built without libcap and libseccomp");
}

#endif
