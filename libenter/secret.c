/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Passphrases and keys: in memory of their own, locked (never swapped out),
 * left out of core dumps, and wiped before it is given back.  They reach
 * libcryptsetup as a buffer and zfs load-key through a pipe; never argv,
 * the environment, a log line or a plan.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"

/* The most a key may be: cryptsetup's own limit for a key file. */
#define SECRET_MAX (8u << 20)

int secret_new(size_t cap, struct secret **ret)
{
	struct secret *s;
	void *data;

	if (cap == 0 || cap > SECRET_MAX)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	data = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (data == MAP_FAILED) {
		free(s);
		return -ENOMEM;
	}
	/* Best effort, as cryptsetup's: RLIMIT_MEMLOCK may be small. */
	(void)mlock(data, cap);
	(void)madvise(data, cap, MADV_DONTDUMP);
	s->data = data;
	s->cap = cap;
	*ret = s;
	return 0;
}

struct secret *secret_free(struct secret *s)
{
	if (!s)
		return NULL;
	explicit_bzero(s->data, s->cap);
	(void)munlock(s->data, s->cap);
	(void)munmap(s->data, s->cap);
	free(s);
	return NULL;
}

int secret_read_fd(int fd, struct secret **ret)
{
	struct secret *s = NULL;
	int r = secret_new(SECRET_MAX, &s);

	if (r < 0)
		return r;
	for (;;) {
		ssize_t n = read(fd, s->data + s->len, s->cap - s->len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			secret_free(s);
			return r;
		}
		if (n == 0)
			break;
		s->len += (size_t)n;
		if (s->len == s->cap) {
			secret_free(s);
			return -EFBIG;
		}
	}
	*ret = s;
	return 0;
}

int secret_read_file(const char *path, struct secret **ret)
{
	_cleanup_close_ int fd = -1;

	if (streq(path, "-"))
		return secret_read_fd(STDIN_FILENO, ret);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	return secret_read_fd(fd, ret);
}

static int secret_copy(const struct secret *from, struct secret **ret)
{
	int r = secret_new(from->cap, ret);

	if (r < 0)
		return r;
	memcpy((*ret)->data, from->data, from->len);
	(*ret)->len = from->len;
	return 0;
}

/* The --key-file for @p: one naming it (its device as given, or its
 * mapping or pool name), else one naming nothing. */
static struct key_file *key_file_for(struct enter_ctx *ctx, const struct part *p)
{
	struct key_file *any = NULL;

	for (size_t i = 0; i < ctx->n_keys; i++) {
		struct key_file *k = &ctx->keys[i];

		if (!k->name && !any)
			any = k;
		else if (k->name && (streq(k->name, p->spec) || streq(k->name, p->name)))
			return k;
	}
	return any;
}

static int no_key(const struct part *p, struct enter_error **err)
{
	return error_set(err, ENOKEY, "key", p->spec, NULL,
			 "no key for %s: no terminal to ask on; give one with --key-file "
			 "[NAME=]FILE",
			 p->name ? p->name : p->spec);
}

int key_get(struct enter_ctx *ctx, const struct part *p, unsigned attempt, struct secret **ret,
	    bool *ret_asked, struct enter_error **err)
{
	struct key_file *k = key_file_for(ctx, p);
	_cleanup_free_ char *prompt = NULL;
	struct secret *s = NULL;
	int r, n;

	*ret_asked = false;
	if (k) {
		/* Read once: "-" is standard input, which has one key. */
		if (!k->cached) {
			r = secret_read_file(k->path, &k->cached);
			if (r < 0)
				return error_set(err, -r, "key", k->path, "--key-file", NULL);
		}
		r = secret_copy(k->cached, ret);
		return r < 0 ? error_set(err, -r, "key", k->path, "--key-file", NULL) : 0;
	}
	if (!ctx->key_fn)
		return no_key(p, err);
	if (xasprintf(&prompt, "Passphrase for %s%s%s%s: ", p->spec, p->name ? " (" : "",
		      p->name ? p->name : "", p->name ? ")" : "") < 0)
		return error_set(err, ENOMEM, "key", p->spec, NULL, NULL);
	r = secret_new(4096, &s);
	if (r < 0)
		return error_set(err, -r, "key", p->spec, NULL, NULL);
	(void)attempt;
	n = ctx->key_fn(ctx->key_userdata, prompt, s->data, s->cap - 1);
	if (n == -ENOTTY) {
		secret_free(s);
		return no_key(p, err);
	}
	if (n < 0) {
		secret_free(s);
		return error_set(err, -n, "key", p->spec, NULL, "%s",
				 n == -EINTR ? "interrupted" : errtext(-n));
	}
	s->len = (size_t)MIN((size_t)n, s->cap - 1);
	*ret = s;
	*ret_asked = true;
	return 0;
}

void key_files_forget(struct enter_ctx *ctx)
{
	for (size_t i = 0; i < ctx->n_keys; i++)
		ctx->keys[i].cached = secret_free(ctx->keys[i].cached);
}
