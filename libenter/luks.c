/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * LUKS containers (--luks DEVICE[:NAME]) opened and closed with
 * libcryptsetup.  It is loaded with dlopen() by the runs that open one,
 * as libcap and libseccomp are for --hardened: linked, its dependencies
 * (device-mapper, a crypto library, json-c, argon2) would cost every run
 * of enter the dynamic loader's time.  Its messages go to the log at
 * debug level; the last error of a call goes into ours.
 */
#include <dlfcn.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

#if HAVE_CRYPTSETUP
#include <libcryptsetup.h>

static struct {
	void *handle;
	__typeof__(crypt_init) *init;
	__typeof__(crypt_init_by_name) *init_by_name;
	__typeof__(crypt_load) *load;
	__typeof__(crypt_get_uuid) *get_uuid;
	__typeof__(crypt_get_device_name) *get_device_name;
	__typeof__(crypt_status) *status;
	__typeof__(crypt_activate_by_passphrase) *activate_by_passphrase;
	__typeof__(crypt_deactivate) *deactivate;
	__typeof__(crypt_free) *free;
	__typeof__(crypt_set_log_callback) *set_log_callback;
} cs;

/* What libcryptsetup said last, for the error of the call that failed. */
static char last_error[256];

static void log_line(int level, const char *msg, void *userdata)
{
	struct enter_ctx *ctx = userdata;
	size_t len = strcspn(msg, "\n");

	if (level == CRYPT_LOG_ERROR)
		snprintf(last_error, sizeof(last_error), "%.*s", (int)len, msg);
	if (level != CRYPT_LOG_DEBUG && level != CRYPT_LOG_DEBUG_JSON)
		log_msg(ctx, ENTER_LOG_DEBUG, "libcryptsetup: %.*s", (int)len, msg);
}

static int load_library(struct enter_ctx *ctx, struct enter_error **err)
{
	void *h;

	if (cs.handle)
		return 0;
	h = dlopen(LIBCRYPTSETUP_PATH, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return error_set(err, ENOPKG, "luks", NULL, NULL,
				 "cannot load %s (package libcryptsetup12): %s", LIBCRYPTSETUP_PATH,
				 dlerror());
#define SYM(field, name)                                                                           \
	if (!(cs.field = (__typeof__(cs.field))dlsym(h, #name))) {                                 \
		dlclose(h);                                                                        \
		return error_set(err, ENOPKG, "luks", NULL, NULL, "%s: no %s", LIBCRYPTSETUP_PATH, \
				 #name);                                                           \
	}
	SYM(init, crypt_init)
	SYM(init_by_name, crypt_init_by_name)
	SYM(load, crypt_load)
	SYM(get_uuid, crypt_get_uuid)
	SYM(get_device_name, crypt_get_device_name)
	SYM(status, crypt_status)
	SYM(activate_by_passphrase, crypt_activate_by_passphrase)
	SYM(deactivate, crypt_deactivate)
	SYM(free, crypt_free)
	SYM(set_log_callback, crypt_set_log_callback)
#undef SYM
	cs.set_log_callback(NULL, log_line, ctx);
	cs.handle = h;
	return 0;
}

static inline void crypt_freep(struct crypt_device **cd)
{
	if (*cd)
		cs.free(*cd);
}

/* The reason of a failed call: libcryptsetup's own words, or strerror. */
static int luks_error(struct enter_error **err, int r, const char *step, const char *path,
		      const char *what)
{
	if (last_error[0])
		return error_set(err, -r, step, path, NULL, "%s: %s", what, last_error);
	return error_set(err, -r, step, path, NULL, "%s: %s", what, errtext(-r));
}

static bool same_device(const char *a, const char *b)
{
	struct stat sa, sb;

	return a && b && stat(a, &sa) == 0 && stat(b, &sb) == 0 && S_ISBLK(sa.st_mode) &&
	       S_ISBLK(sb.st_mode) && sa.st_rdev == sb.st_rdev;
}

/* The mapping @name is open: on @device (used as it is), or on another. */
static int open_already(const char *name, const char *device, struct enter_error **err)
{
	_cleanup_(crypt_freep) struct crypt_device *cd = NULL;

	if (cs.init_by_name(&cd, name) < 0 || !same_device(cs.get_device_name(cd), device))
		return error_set(err, EEXIST, "luks", device, NULL,
				 "/dev/mapper/%s is open already, on another device", name);
	return 0;
}

int luks_open(struct enter_ctx *ctx, struct part *p, struct enter_error **err)
{
	_cleanup_(crypt_freep) struct crypt_device *cd = NULL;
	crypt_status_info status;
	int r;

	r = load_library(ctx, err);
	if (r < 0)
		return r;
	last_error[0] = '\0';
	r = cs.init(&cd, p->spec);
	if (r < 0)
		return luks_error(err, r, "luks", p->spec, "open the device");
	r = cs.load(cd, CRYPT_LUKS, NULL);
	if (r < 0)
		return error_set(err, -r, "luks", p->spec, NULL,
				 "not a LUKS container, or its header is damaged");
	if (!p->name && xasprintf(&p->name, "luks-%s", cs.get_uuid(cd)) < 0)
		return error_set(err, ENOMEM, "luks", p->spec, NULL, NULL);
	status = cs.status(NULL, p->name);
	if (status == CRYPT_ACTIVE || status == CRYPT_BUSY) {
		r = open_already(p->name, p->spec, err);
		if (r < 0)
			return r;
		p->found = true;
		log_msg(ctx, ENTER_LOG_INFO, "using /dev/mapper/%s, open already: left open",
			p->name);
		return 0;
	}
	for (unsigned attempt = 0;; attempt++) {
		struct secret *key = NULL;
		bool asked = false;

		r = key_get(ctx, p, attempt, &key, &asked, err);
		if (r < 0)
			return r;
		last_error[0] = '\0';
		r = cs.activate_by_passphrase(cd, p->name, CRYPT_ANY_SLOT, key->data, key->len,
					      (ctx->assemble_flags & ENTER_ASSEMBLE_READ_ONLY)
						      ? CRYPT_ACTIVATE_READONLY
						      : 0);
		secret_free(key);
		if (r >= 0)
			break;
		if (r != -EPERM)
			return luks_error(err, r, "luks", p->spec, "open");
		if (!asked || attempt + 1 >= KEY_TRIES)
			return error_set(err, EPERM, "luks", p->spec, NULL,
					 "no key slot opens with the %s given",
					 asked ? "passphrase" : "key file");
		log_msg(ctx, ENTER_LOG_WARNING, "%s: wrong passphrase, try again", p->spec);
	}
	p->done = true;
	log_msg(ctx, ENTER_LOG_INFO, "opened %s as /dev/mapper/%s", p->spec, p->name);
	return 0;
}

int luks_close(struct enter_ctx *ctx, const struct part *p, struct enter_error **err)
{
	_cleanup_(crypt_freep) struct crypt_device *cd = NULL;
	int r = load_library(ctx, err);

	if (r < 0)
		return r;
	last_error[0] = '\0';
	r = cs.init_by_name(&cd, p->name);
	if (r >= 0)
		r = cs.deactivate(cd, p->name);
	if (r == -EBUSY)
		return error_set(err, EBUSY, "close", p->name, NULL,
				 "/dev/mapper/%s is still in use (mounted, or a volume group "
				 "active on it); close it by hand: cryptsetup close %s",
				 p->name, p->name);
	if (r < 0)
		return luks_error(err, r, "close", p->name, "cryptsetup close");
	log_msg(ctx, ENTER_LOG_INFO, "closed /dev/mapper/%s", p->name);
	return 0;
}
#else
int luks_open(struct enter_ctx *ctx, struct part *p, struct enter_error **err)
{
	(void)ctx;
	return error_set(err, ENOTSUP, "luks", p->spec, NULL,
			 "this enter was built without libcryptsetup");
}

int luks_close(struct enter_ctx *ctx, const struct part *p, struct enter_error **err)
{
	(void)ctx;
	return error_set(err, ENOTSUP, "close", p->name, NULL,
			 "this enter was built without libcryptsetup");
}
#endif
