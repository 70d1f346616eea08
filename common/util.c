// SPDX-License-Identifier: MIT
/*
 * util.c - memory that cannot fail and the parsers for what users type: sizes, numbers,
 * node lists.
 */
#include <ctype.h>
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "mm.h"
#include "nsim.h"

void *xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (!p)
		abort();
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		abort();
	return p;
}

void *xrealloc(void *p, size_t size)
{
	p = realloc(p, size ? size : 1);
	if (!p)
		abort();
	return p;
}

void nsim_malloc_keep(void)
{
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
	mallopt(M_TOP_PAD, 16 << 20);
}

void nsim_pool_init(struct nsim_pool *p, size_t size, unsigned max)
{
	p->head = NULL;
	p->n = 0;
	p->max = NSIM_POOL_KEEPS ? max : 0;
	p->size = size < sizeof(void *) ? sizeof(void *) : size;
}

void *nsim_pool_get(struct nsim_pool *p)
{
	void *obj = p->head;

	if (!obj)
		return xmalloc(p->size);
	memcpy(&p->head, obj, sizeof(void *));
	p->n--;
	return obj;
}

void nsim_pool_put(struct nsim_pool *p, void *obj)
{
	if (!obj)
		return;
	if (p->n >= p->max) {
		free(obj);
		return;
	}
	memcpy(obj, &p->head, sizeof(void *));
	p->head = obj;
	p->n++;
}

void nsim_pool_release(struct nsim_pool *p)
{
	while (p->head)
		free(nsim_pool_get(p));
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		abort();
	return p;
}

int nsim_parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (!s || !*s || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 0);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int nsim_parse_size(const char *s, uint64_t *bytes)
{
	return memparse(s, bytes);
}

int nsim_parse_nodelist(const char *s, int nr_nodes, uint64_t *mask)
{
	*mask = 0;
	if (!s || !*s)
		return -EINVAL;
	if (!strcmp(s, "all")) {
		*mask = nr_nodes >= 64 ? ~0ull : (1ull << nr_nodes) - 1;
		return 0;
	}
	while (*s) {
		char *end;
		long a = strtol(s, &end, 10), b = a;

		if (end == s || a < 0)
			return -EINVAL;
		s = end;
		if (*s == '-') {
			b = strtol(s + 1, &end, 10);
			if (end == s + 1 || b < a)
				return -EINVAL;
			s = end;
		}
		if (b >= nr_nodes || b >= 64)
			return -EINVAL;
		for (long n = a; n <= b; n++)
			*mask |= 1ull << n;
		if (*s == ',')
			s++;
		else if (*s)
			return -EINVAL;
	}
	return 0;
}
