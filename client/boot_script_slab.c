// SPDX-License-Identifier: MIT
/*
 * boot_script_slab.c - the slab operations of `numasim boot --script`: kmem_cache_* on named
 * caches and the kmalloc family. Results (addresses, ENOMEM, refused frees) are printed;
 * a line that cannot be understood stops the script (see boot_script.c).
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "boot_script.h"
#include "nsim.h"
#include "slab.h"
#include "views.h"

static const char *slab_error(int ret)
{
	switch (ret) {
	case ESLAB_NOTSLAB:
		return "not a slab object or kmalloc block";
	case ESLAB_NOTOBJ:
		return "not at an object boundary";
	case ESLAB_DOUBLE:
		return "double free (the object is already free)";
	case ESLAB_WRONGCACHE:
		return "object belongs to another cache";
	case -EINVAL:
		return "invalid argument";
	}
	return "error";
}

static int need_slab(struct machine *m, const struct script_line *l)
{
	if (!m->slab)
		return script_error(l, "this process holds no slab layer (%s)", "node 0 elsewhere");
	return 0;
}

static int find_cache(struct machine *m, const struct script_line *l, struct kmem_cache **s)
{
	if (need_slab(m, l))
		return CLI_EXIT_FAIL;
	*s = kmem_cache_find(m, l->argv[1]);
	if (!*s)
		return script_error(l, "no cache named '%s'", l->argv[1]);
	return 0;
}

/* Optional trailing [GFP [CPU [NODE [COUNT]]]] starting at argument @i. */
struct alloc_args {
	unsigned int gfp; /* default GFP_KERNEL */
	long cpu;	  /* default 0 */
	long node;	  /* default -1 (any) */
	long count;	  /* default 1 */
};

static int parse_alloc_args(struct machine *m, const struct script_line *l, int i,
			    struct alloc_args *a)
{
	a->gfp = GFP_KERNEL;
	a->cpu = 0;
	a->node = -1;
	a->count = 1;
	if (l->argc > i && script_arg_gfp(l, i, &a->gfp))
		return CLI_EXIT_FAIL;
	if (l->argc > i + 1 && script_arg_long(l, i + 1, 0, m->ncpus - 1, &a->cpu))
		return CLI_EXIT_FAIL;
	if (l->argc > i + 2 && script_arg_long(l, i + 2, -1, m->nr_nodes - 1, &a->node))
		return CLI_EXIT_FAIL;
	if (l->argc > i + 3 && script_arg_long(l, i + 3, 1, 1l << 24, &a->count))
		return CLI_EXIT_FAIL;
	return 0;
}

typedef unsigned long (*alloc_fn)(struct machine *m, struct kmem_cache *s, size_t size,
				  const struct alloc_args *a);

static unsigned long do_cache_alloc(struct machine *m, struct kmem_cache *s, size_t size,
				    const struct alloc_args *a)
{
	(void)m;
	(void)size;
	return kmem_cache_alloc_node(s, a->gfp, (int)a->node, (int)a->cpu);
}

static unsigned long do_kmalloc(struct machine *m, struct kmem_cache *s, size_t size,
				const struct alloc_args *a)
{
	(void)s;
	return kmalloc_node(m, size, a->gfp, (int)a->node, (int)a->cpu);
}

/* Run @fn count times and print the outcome: the address, or a summary for COUNT > 1. */
static void run_allocs(struct machine *m, struct script_line *l, const char *what, alloc_fn fn,
		       struct kmem_cache *s, size_t size, const struct alloc_args *a)
{
	unsigned long addr = 0, first = 0;
	long ok = 0;

	for (long i = 0; i < a->count; i++) {
		addr = fn(m, s, size, a);
		if (!addr)
			break;
		if (!ok++)
			first = addr;
		l->state->last_addr = addr;
	}
	if (a->count == 1 && ok) {
		struct kmem_cache *k = size ? kmalloc_slab(m, size, a->gfp) : s;

		fprintf(l->out, "%s cpu %ld: %#lx (%s)\n", what, a->cpu, addr,
			k ? k->name : "kmalloc_large");
		return;
	}
	fprintf(l->out, "%s cpu %ld x%ld: %ld allocated", what, a->cpu, a->count, ok);
	if (ok)
		fprintf(l->out, " (first %#lx, last %#lx)", first, l->state->last_addr);
	fprintf(l->out, "%s\n", ok < a->count ? "; ENOMEM" : "");
}

static int op_kmalloc(struct machine *m, struct script_line *l)
{
	struct alloc_args a;
	char what[96];
	long size;

	if (need_slab(m, l) || script_arg_long(l, 1, 0, LONG_MAX, &size) ||
	    parse_alloc_args(m, l, 2, &a))
		return CLI_EXIT_FAIL;
	snprintf(what, sizeof(what), "kmalloc %ld", size);
	run_allocs(m, l, what, do_kmalloc, NULL, (size_t)size, &a);
	return 0;
}

static int op_kfree(struct machine *m, struct script_line *l)
{
	unsigned long addr;
	long cpu = 0;
	int ret;

	if (need_slab(m, l) || script_arg_addr(l, 1, &addr) ||
	    (l->argc > 2 && script_arg_long(l, 2, 0, m->ncpus - 1, &cpu)))
		return CLI_EXIT_FAIL;
	ret = kfree(m, addr, (int)cpu);
	if (ret)
		fprintf(l->out, "kfree %#lx: %s\n", addr, slab_error(ret));
	return 0;
}

static int op_ksize(struct machine *m, struct script_line *l)
{
	unsigned long addr;

	if (need_slab(m, l) || script_arg_addr(l, 1, &addr))
		return CLI_EXIT_FAIL;
	fprintf(l->out, "ksize %#lx: %zu\n", addr, ksize(m, addr));
	return 0;
}

static int op_krealloc(struct machine *m, struct script_line *l)
{
	unsigned long addr, new;
	struct alloc_args a;
	long size;

	if (need_slab(m, l) || script_arg_addr(l, 1, &addr) ||
	    script_arg_long(l, 2, 0, LONG_MAX, &size) || parse_alloc_args(m, l, 3, &a))
		return CLI_EXIT_FAIL;
	new = krealloc(m, addr, (size_t)size, a.gfp, (int)a.cpu);
	if (new)
		l->state->last_addr = new;
	fprintf(l->out, "krealloc %#lx %ld: %#lx%s\n", addr, size, new, new ? "" : " (NULL)");
	return 0;
}

static int op_cache_create(struct machine *m, struct script_line *l)
{
	struct kmem_cache *s;
	unsigned int flags = 0;
	long size, align = 0;
	const char *bad;
	bool ctor = l->argc > 5 && !strcmp(l->argv[5], "ctor");
	int ret;

	if (need_slab(m, l) || script_arg_long(l, 2, 1, INT_MAX, &size) ||
	    (l->argc > 3 && script_arg_long(l, 3, 0, INT_MAX, &align)))
		return CLI_EXIT_FAIL;
	if (l->argc > 4 && nsim_slab_flags_parse(l->argv[4], &flags, &bad))
		return script_error(l, "unknown slab flag in '%s'", bad);
	if (l->argc > 5 && !ctor)
		return script_error(l, "expected 'ctor', got '%s'", l->argv[5]);
	ret = kmem_cache_create(m, &s, l->argv[1], (unsigned int)size, (unsigned int)align, flags,
				ctor);
	if (ret == -EEXIST)
		return script_error(l, "a cache named '%s' exists", l->argv[1]);
	if (ret == -EINVAL)
		return script_error(l, "invalid size, align or flags for '%s'", l->argv[1]);
	if (ret) {
		fprintf(l->out, "kmem_cache_create %s: ENOMEM\n", l->argv[1]);
		return 0;
	}
	fprintf(l->out,
		"kmem_cache_create %s: objsize %u align %u objperslab %u pagesperslab %u%s%s\n",
		l->argv[1], s->size, s->align, s->oo_objects, 1u << s->oo_order,
		strcmp(s->name, l->argv[1]) ? " merged into " : "",
		strcmp(s->name, l->argv[1]) ? s->sysfs_id : "");
	return 0;
}

static int op_cache_alloc(struct machine *m, struct script_line *l)
{
	struct kmem_cache *s;
	struct alloc_args a;
	char what[96];

	if (find_cache(m, l, &s) || parse_alloc_args(m, l, 2, &a))
		return CLI_EXIT_FAIL;
	snprintf(what, sizeof(what), "kmem_cache_alloc %s", l->argv[1]);
	run_allocs(m, l, what, do_cache_alloc, s, 0, &a);
	return 0;
}

static int op_cache_free(struct machine *m, struct script_line *l)
{
	struct kmem_cache *s;
	unsigned long addr;
	long cpu = 0;
	int ret;

	if (find_cache(m, l, &s) || script_arg_addr(l, 2, &addr) ||
	    (l->argc > 3 && script_arg_long(l, 3, 0, m->ncpus - 1, &cpu)))
		return CLI_EXIT_FAIL;
	ret = kmem_cache_free(s, addr, (int)cpu);
	if (ret)
		fprintf(l->out, "kmem_cache_free %s %#lx: %s\n", l->argv[1], addr, slab_error(ret));
	return 0;
}

static int op_cache_destroy(struct machine *m, struct script_line *l)
{
	int ret;

	if (need_slab(m, l))
		return CLI_EXIT_FAIL;
	ret = kmem_cache_destroy(m, l->argv[1]);
	if (ret == -EBUSY)
		fprintf(l->out, "kmem_cache_destroy %s: Slab cache still has objects\n",
			l->argv[1]);
	else if (ret == -ENOENT)
		return script_error(l, "no cache named '%s'", l->argv[1]);
	else if (ret == -EPERM)
		fprintf(l->out, "kmem_cache_destroy %s: a boot cache cannot be destroyed\n",
			l->argv[1]);
	return 0;
}

static int op_cache_shrink(struct machine *m, struct script_line *l)
{
	struct kmem_cache *s;

	if (find_cache(m, l, &s))
		return CLI_EXIT_FAIL;
	fprintf(l->out, "kmem_cache_shrink %s: %lu pages released\n", l->argv[1],
		kmem_cache_shrink(s));
	return 0;
}

static int op_cache_validate(struct machine *m, struct script_line *l)
{
	char first[256];
	unsigned long errors = 0;
	int caches = 0;

	if (need_slab(m, l))
		return CLI_EXIT_FAIL;
	for (struct kmem_cache *s = m->slab->slab_caches; s; s = s->next) {
		char msg[256];
		unsigned long e;

		if (strcmp(l->argv[1], "all") && s != kmem_cache_find(m, l->argv[1]))
			continue;
		e = kmem_cache_validate(s, msg, sizeof(msg));
		if (e && !errors)
			snprintf(first, sizeof(first), "%s", msg);
		errors += e;
		caches++;
	}
	if (!caches)
		return script_error(l, "no cache named '%s'", l->argv[1]);
	fprintf(l->out, "validate %s: %d caches, %lu errors%s%s\n", l->argv[1], caches, errors,
		errors ? ": " : "", errors ? first : "");
	return 0;
}

static int op_slabtop(struct machine *m, struct script_line *l)
{
	struct seq_file s;
	int ret;

	seq_init(&s);
	ret = mm_slabtop_show(&s, m, l->argc > 1 ? l->argv[1][0] : 'o', -1, l->json);
	if (!ret)
		fprintf(l->out, "%s%s", s.buf, l->json ? "\n" : "");
	seq_release(&s);
	if (ret)
		return script_error(l, "unknown slabtop sort key '%s'", l->argv[1]);
	return 0;
}

const struct script_op slab_script_ops[] = {
	{"kmem_cache_create", 2, 5, op_cache_create,
	 "kmem_cache_create NAME SIZE [ALIGN [FLAGS [ctor]]]"},
	{"kmem_cache_alloc", 1, 5, op_cache_alloc,
	 "kmem_cache_alloc NAME [GFP [CPU [NODE [COUNT]]]]"},
	{"kmem_cache_free", 2, 3, op_cache_free, "kmem_cache_free NAME ADDR [CPU]"},
	{"kmem_cache_destroy", 1, 1, op_cache_destroy, "kmem_cache_destroy NAME"},
	{"kmem_cache_shrink", 1, 1, op_cache_shrink, "kmem_cache_shrink NAME"},
	{"kmem_cache_validate", 1, 1, op_cache_validate, "kmem_cache_validate NAME|all"},
	{"kmalloc", 1, 5, op_kmalloc, "kmalloc SIZE [GFP [CPU [NODE [COUNT]]]]"},
	{"kfree", 1, 2, op_kfree, "kfree ADDR [CPU]"},
	{"ksize", 1, 1, op_ksize, "ksize ADDR"},
	{"krealloc", 2, 4, op_krealloc, "krealloc ADDR SIZE [GFP [CPU]]"},
	{"slabtop", 0, 1, op_slabtop, "slabtop [SORT-KEY]"},
};

const int nr_slab_script_ops = (int)(sizeof(slab_script_ops) / sizeof(slab_script_ops[0]));
