/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The header's promise: a failing call sets *err.  Each test makes the
 * N-th allocation after it starts fail (malloc, calloc and realloc are
 * this program's own, passed to glibc's allocator otherwise, and libmount
 * and libblkid allocate through them too), for N = 0, 1, 2, ... until a
 * call goes through without reaching the N-th, and checks that every
 * failure came with an error object and a message: once with only the
 * N-th failing, once with every one from the N-th on, as when memory is
 * really gone (then even the error object cannot be allocated).  Not built with
 * sanitizers, which bring their own malloc.
 *
 * libblkid's own allocations are left alone: its tag cache, which
 * blkid_evaluate_tag() fills, dereferences a failed strdup() (util-linux
 * 2.38: a strcmp() on NULL below blkid_verify() once a device carries the
 * tag asked for).  That is libblkid's bug to fix, not ours to test.
 */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libenter.h"

#define ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);

static bool armed, fail_after; /* fail_after: every one from fail_at on */
static unsigned long n_allocs, fail_at;

/* Whether libblkid is among the allocation's nearest callers (it also
 * allocates through strdup() and friends). */
static bool from_libblkid(void)
{
	void *pcs[6];
	int n = backtrace(pcs, ELEMENTS(pcs));
	Dl_info info;

	for (int i = 1; i < n; i++)
		if (dladdr(pcs[i], &info) != 0 && info.dli_fname &&
		    strstr(info.dli_fname, "/libblkid"))
			return true;
	return false;
}

static bool fail_now(void)
{
	if (!armed || from_libblkid())
		return false;
	n_allocs++;
	if (n_allocs - 1 != fail_at && !(fail_after && n_allocs - 1 > fail_at))
		return false;
	errno = ENOMEM;
	return true;
}

void *malloc(size_t n)
{
	return fail_now() ? NULL : __libc_malloc(n);
}

void *calloc(size_t n, size_t size)
{
	return fail_now() ? NULL : __libc_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
	return fail_now() ? NULL : __libc_realloc(p, n);
}

static char tmp[64];
static char root[96];

static void put(const char *path, const char *content)
{
	char full[256];
	FILE *f;

	snprintf(full, sizeof(full), "%s/%s", root, path);
	f = fopen(full, "w");
	cr_assert_not_null(f, "create %s: %s", full, strerror(errno));
	fputs(content, f);
	fclose(f);
}

static void make_root(const char *fstab)
{
	char dir[160];

	strcpy(tmp, "/tmp/libenter-alloc-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	snprintf(root, sizeof(root), "%s/root", tmp);
	cr_assert_eq(mkdir(root, 0755), 0);
	snprintf(dir, sizeof(dir), "%s/etc", root);
	cr_assert_eq(mkdir(dir, 0755), 0);
	snprintf(dir, sizeof(dir), "%s/run", root);
	cr_assert_eq(mkdir(dir, 0755), 0);
	put("etc/NIXOS", "");
	put("etc/hostname", "allochost\n");
	put("etc/fstab", fstab);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static void remove_root(void)
{
	nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* What one pass did: whether the N-th allocation was reached, and where
 * a failure came without an error object. */
struct pass {
	bool reached;
	const char *unexplained; /* the call that failed with *err NULL */
};

/* enter_new(), a --bind, enter_plan(), enter_plan_format(), enter_check(). */
static struct pass one_pass(unsigned long n)
{
	struct enter_error *err = NULL;
	struct enter_plan *plan = NULL;
	struct enter_ctx *ctx;
	struct pass p = {};
	char *text = NULL;
	int r, problems;

	n_allocs = 0;
	fail_at = n;
	armed = true;
	ctx = enter_new(root, &err);
	if (!ctx && !err)
		p.unexplained = "enter_new";
	if (ctx && enter_add_bind(ctx, tmp, "/mnt/tmp", 0) == 0) {
		r = enter_plan(ctx, NULL, &plan, &err);
		if (r < 0 && !err)
			p.unexplained = "enter_plan";
		if (plan && enter_plan_format(plan, ENTER_FORMAT_JSON, &text) == 0)
			free(text);
		enter_plan_free(plan);
		enter_error_free(err);
		err = NULL;
		r = enter_check(ctx, ENTER_FORMAT_TEXT, &text, &problems, &err);
		if (r < 0 && !err)
			p.unexplained = "enter_check";
		if (r == 0)
			free(text);
	}
	if (err && !enter_error_message(err))
		p.unexplained = "enter_error_message";
	armed = false;
	p.reached = n_allocs > n;
	enter_error_free(err);
	enter_free(ctx);
	return p;
}

static void every_allocation_fails(const char *fstab)
{
	unsigned long n;

	make_root(fstab);
	from_libblkid(); /* backtrace() loads libgcc_s on its first call */
	for (int after = 0; after < 2; after++) {
		fail_after = after;
		for (n = 0; n < 100000; n++) {
			struct pass p = one_pass(n);

			cr_expect_null(p.unexplained,
				       "allocation %lu%s failed: %s returned an error, *err NULL",
				       n, after ? " and every one after it" : "",
				       p.unexplained ? p.unexplained : "");
			if (!p.reached)
				break;
		}
		cr_log_info("%lu allocations, each failed %s", n,
			    after ? "with all after it" : "once");
	}
	remove_root();
	cr_assert_gt(n, 50, "only %lu allocations: the injection did not reach the library", n);
}

Test(alloc, plan_and_check_with_an_empty_fstab)
{
	every_allocation_fails("");
}

Test(alloc, plan_and_check_with_a_boot_that_is_not_there)
{
	every_allocation_fails("UUID=0000-DEAD /boot vfat defaults 0 2\n"
			       "LABEL=nosuch /home ext4 defaults,nofail 0 2\n");
}
