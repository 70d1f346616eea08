// SPDX-License-Identifier: MIT
/*
 * test_slab_soak.c - the slab layer under random load, against a reference model.
 *
 * Single thread, four simulated CPUs on two nodes: bursts of kmalloc / kfree / krealloc of
 * random sizes (8 B .. 1 MiB) and gfp families, and kmem_cache_create / alloc / free /
 * shrink / destroy on a few caches that may merge with each other. The reference is the
 * list of live objects with their usable size: nothing handed out may overlap a live
 * object, every object must sit where its gfp mask and node allow, frees must succeed and
 * double frees must be refused. kmem_cache_validate() of every cache a step touched runs
 * after the step, machine_verify() now and then; at the end everything is freed and
 * destroyed, and the slab counters and free pages must be back where they started.
 *
 * Several threads, one per CPU: kmalloc / kmem_cache_alloc and frees, objects handed to
 * other threads through a locked queue and freed there (remote frees), one thread also
 * shrinking caches and another reading slabinfo. A bitmap of 8-byte granules, set and
 * cleared atomically, catches an address handed to two threads at once. Meant to run
 * clean under ThreadSanitizer (-DNUMASIM_SANITIZE=thread) and AddressSanitizer
 * (-DNUMASIM_SANITIZE=address).
 *
 * A third test looks cache names up on CPU threads while a control thread creates and
 * destroys caches, as the node daemon's workers do.
 *
 * The seed comes from $NUMASIM_SEED (decimal or 0x-hex), else from the clock; a failure
 * prints it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "mm_debug.h"
#include "slab.h"
#include "unit.h"

#define DMA_LIMIT (16ul << 20)

#define SOAK_STEPS 4000
#define SOAK_TARGET 1500 /* live objects the soak hovers around */
#define SOAK_LIVE_MAX 4096
#define SOAK_POOL 3 /* caches of its own the soak keeps */
#define SOAK_TOUCHED_MAX 16
#define VERIFY_EVERY 500

#define MT_THREADS 4
#define MT_OPS 12000
#define MT_LIVE_MAX 512
#define MT_QUEUE_MAX 256

/* The order of the smallest block of pages holding @size bytes. */
static unsigned int pages_order(size_t size)
{
	unsigned int order = 0;

	while ((PAGE_SIZE << order) < size)
		order++;
	return order;
}

/* What kmalloc(@size) may use: its class, or whole pages above 8 KiB (§8.1). */
static size_t kmalloc_usable(size_t size)
{
	if (size > KMALLOC_MAX_CACHE_SIZE)
		return PAGE_SIZE << pages_order(size);
	return unit_kmalloc_class(size);
}

static size_t kmalloc_align(size_t usable)
{
	return usable > KMALLOC_MAX_CACHE_SIZE ? PAGE_SIZE : (usable & (usable - 1)) ? 8 : usable;
}

static struct zone *addr_zone(struct machine *m, unsigned long addr)
{
	unsigned long pfn = virt_to_pfn(m, addr);

	return pfn == ~0ul ? NULL : pfn_zone(m, pfn);
}

static long slab_bytes(struct machine *m)
{
	long sum = 0;

	for_each_node(m, nid) sum +=
		__atomic_load_n(&m->node_data[nid]->vm_stat[NR_SLAB_RECLAIMABLE_B],
				__ATOMIC_RELAXED) +
		__atomic_load_n(&m->node_data[nid]->vm_stat[NR_SLAB_UNRECLAIMABLE_B],
				__ATOMIC_RELAXED);
	return sum;
}

/* Shrink every cache: afterwards only slabs holding objects remain. */
static void shrink_all(struct machine *m)
{
	for (struct kmem_cache *s = m->slab->slab_caches; s; s = s->next)
		kmem_cache_shrink(s);
}

/* ---------------------------------------------------------------- single-thread soak */

static const gfp_t soak_gfps[] = {
	GFP_KERNEL,
	GFP_ATOMIC,
	GFP_NOWAIT,
	GFP_KERNEL_ACCOUNT,
	GFP_ATOMIC | __GFP_ACCOUNT,
	GFP_KERNEL | __GFP_RECLAIMABLE,
	GFP_KERNEL | __GFP_RECLAIMABLE | __GFP_ACCOUNT,
	GFP_KERNEL | GFP_DMA,
};

struct obj {
	unsigned long addr;   /* as returned */
	size_t size;	      /* asked for */
	size_t usable;	      /* ksize() when handed out */
	struct kmem_cache *s; /* its cache, NULL for a kmalloc_large block */
	bool dma;	      /* must stay below 16 MiB */
};

struct pool_slot {
	char name[KMEM_CACHE_NAME_LEN]; /* the name it was created with */
	struct kmem_cache *s;		/* NULL: slot free */
	unsigned int size, align;	/* as created */
};

struct soak {
	struct machine *m;
	uint64_t seed, rng;		/* xorshift64* state */
	struct obj live[SOAK_LIVE_MAX]; /* the reference set */
	int nr_live;
	struct pool_slot pool[SOAK_POOL];	      /* caches of the soak's own */
	int next_name;				      /* for unique cache names */
	struct kmem_cache *touched[SOAK_TOUCHED_MAX]; /* caches to validate after the step */
	int nr_touched;
	unsigned long invalid; /* invalid frees the soak made on purpose */
	long step;
	char msg[MM_ERRLEN + 160]; /* first failure */
};

static unsigned int below(struct soak *x, unsigned int n)
{
	return (unsigned int)(unit_xorshift(&x->rng) % n);
}

__attribute__((format(printf, 2, 3))) static int soak_fail(struct soak *x, const char *fmt, ...)
{
	char what[MM_ERRLEN + 64];
	va_list ap;

	if (x->msg[0])
		return -1;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(x->msg, sizeof(x->msg), "seed %#llx step %ld: %s", (unsigned long long)x->seed,
		 x->step, what);
	return -1;
}

static void touch(struct soak *x, struct kmem_cache *s)
{
	for (int i = 0; i < x->nr_touched; i++)
		if (x->touched[i] == s)
			return;
	if (s && x->nr_touched < SOAK_TOUCHED_MAX)
		x->touched[x->nr_touched++] = s;
}

/* A destroyed cache is validated no more. */
static void untouch(struct soak *x, struct kmem_cache *s)
{
	for (int i = 0; i < x->nr_touched; i++)
		if (x->touched[i] == s)
			x->touched[i] = x->touched[--x->nr_touched];
}

static int cpu_of(struct soak *x)
{
	return (int)below(x, (unsigned int)x->m->ncpus);
}

/* A new object must be a lowmem address overlapping no live object. */
static int check_new(struct soak *x, const struct obj *o, const char *what)
{
	struct zone *zone = addr_zone(x->m, o->addr);

	if (!zone || zone->idx > ZONE_NORMAL)
		return soak_fail(x, "%s: %#lx is not a lowmem address", what, o->addr);
	if (o->dma && o->addr - PAGE_OFFSET + o->usable > DMA_LIMIT)
		return soak_fail(x, "%s: DMA object %#lx above 16 MiB", what, o->addr);
	if (o->usable < o->size)
		return soak_fail(x, "%s: %#lx usable %zu < %zu asked", what, o->addr, o->usable,
				 o->size);
	for (int i = 0; i < x->nr_live; i++) {
		const struct obj *l = &x->live[i];

		if (o->addr < l->addr + l->usable && l->addr < o->addr + o->usable)
			return soak_fail(x, "%s: %#lx+%zu overlaps live %#lx+%zu", what, o->addr,
					 o->usable, l->addr, l->usable);
	}
	return 0;
}

static int add_live(struct soak *x, const struct obj *o, const char *what)
{
	if (check_new(x, o, what))
		return -1;
	x->live[x->nr_live++] = *o;
	touch(x, o->s);
	return 0;
}

/* kmalloc of a random size from a random family on a random CPU (and node). */
static int op_kmalloc(struct soak *x)
{
	gfp_t gfp = soak_gfps[below(x, ARRAY_SIZE(soak_gfps))];
	unsigned int r = below(x, 100);
	size_t size = r < 60   ? 1 + below(x, 256)
		      : r < 88 ? 257 + below(x, 8192 - 256)
		      : r < 98 ? 8193 + below(x, 65536 - 8192)
			       : 65537 + below(x, (1u << 20) - 65536);
	bool dma = gfp & __GFP_DMA;
	int node = dma || below(x, 3) ? -1 : (int)below(x, (unsigned int)x->m->nr_nodes);
	struct obj o;

	if (dma && size > KMALLOC_MAX_CACHE_SIZE)
		size = 1 + size % KMALLOC_MAX_CACHE_SIZE;
	o = (struct obj){kmalloc_node(x->m, size, gfp, node, cpu_of(x)), size, 0,
			 kmalloc_slab(x->m, size, gfp), dma};
	if (!o.addr)
		return soak_fail(x, "kmalloc(%zu, %#x, node %d) failed", size, gfp, node);
	o.usable = ksize(x->m, o.addr);
	if (o.usable != kmalloc_usable(size) || o.addr % kmalloc_align(o.usable))
		return soak_fail(x, "kmalloc(%zu) = %#lx, ksize %zu", size, o.addr, o.usable);
	if (node >= 0 && addr_zone(x->m, o.addr)->zone_pgdat->node_id != node)
		return soak_fail(x, "kmalloc(%zu) for node %d got %#lx", size, node, o.addr);
	return add_live(x, &o, "kmalloc");
}

/* Free live object @i with kfree() or through its cache; now and then free it again. */
static int op_free(struct soak *x, int i)
{
	struct obj o = x->live[i];
	int cpu = cpu_of(x), ret;

	ret = o.s && below(x, 2) ? kmem_cache_free(o.s, o.addr, cpu) : kfree(x->m, o.addr, cpu);
	if (ret)
		return soak_fail(x, "free of %#lx (%zu bytes) returned %d", o.addr, o.size, ret);
	x->live[i] = x->live[--x->nr_live];
	touch(x, o.s);
	if (ksize(x->m, o.addr))
		return soak_fail(x, "freed %#lx still has ksize %zu", o.addr, ksize(x->m, o.addr));
	if (below(x, 40) == 0) {
		/* the slab may be gone already: then it is not a slab address any more */
		ret = kfree(x->m, o.addr, cpu_of(x));
		x->invalid++;
		if (ret != ESLAB_DOUBLE && ret != ESLAB_NOTSLAB)
			return soak_fail(x, "double free of %#lx returned %d", o.addr, ret);
	}
	return 0;
}

/* krealloc of a live kmalloc object: in place while it fits, else a move. */
static int op_krealloc(struct soak *x)
{
	int i = (int)below(x, (unsigned int)x->nr_live), cpu = cpu_of(x);
	struct obj o = x->live[i];
	gfp_t gfp = o.dma ? GFP_KERNEL | GFP_DMA : soak_gfps[below(x, ARRAY_SIZE(soak_gfps) - 1)];
	size_t size = below(x, 10) ? 1 + below(x, 3 * (unsigned int)o.usable) : 0;
	struct obj n;

	if (o.s && !(o.s->flags & SLAB_KMALLOC))
		return 0; /* an object of a cache of its own */
	if (o.dma && size > KMALLOC_MAX_CACHE_SIZE)
		size = KMALLOC_MAX_CACHE_SIZE;
	if (size > KMALLOC_MAX_SIZE)
		size = KMALLOC_MAX_SIZE;
	n = (struct obj){krealloc(x->m, o.addr, size, gfp, cpu), size, 0, NULL, o.dma};
	if (!size) {
		if (n.addr != ZERO_SIZE_PTR || ksize(x->m, o.addr))
			return soak_fail(x, "krealloc(%#lx, 0) = %#lx", o.addr, n.addr);
		x->live[i] = x->live[--x->nr_live];
		touch(x, o.s);
		return 0;
	}
	if (size <= o.usable) {
		if (n.addr != o.addr || ksize(x->m, o.addr) != o.usable)
			return soak_fail(x, "krealloc(%#lx, %zu) moved to %#lx", o.addr, size,
					 n.addr);
		x->live[i].size = size;
		return 0;
	}
	if (!n.addr || n.addr == o.addr || ksize(x->m, o.addr))
		return soak_fail(x, "krealloc(%#lx, %zu) = %#lx", o.addr, size, n.addr);
	n.usable = ksize(x->m, n.addr);
	n.s = kmalloc_slab(x->m, size, gfp);
	if (n.usable != kmalloc_usable(size))
		return soak_fail(x, "krealloc(%zu) ksize %zu", size, n.usable);
	x->live[i] = x->live[--x->nr_live];
	touch(x, o.s);
	return add_live(x, &n, "krealloc");
}

static int slot_refs(const struct soak *x, const struct kmem_cache *s)
{
	int n = 0;

	for (int k = 0; k < SOAK_POOL; k++)
		n += x->pool[k].s == s;
	return n;
}

/* Names and references agree: refcount == slots naming the cache, each name finds it. */
static int check_pool(struct soak *x)
{
	for (int k = 0; k < SOAK_POOL; k++) {
		struct pool_slot *p = &x->pool[k];

		if (!p->s)
			continue;
		if (kmem_cache_find(x->m, p->name) != p->s)
			return soak_fail(x, "%s does not find its cache", p->name);
		if (p->s->refcount != slot_refs(x, p->s))
			return soak_fail(x, "%s: refcount %d, %d names", p->name, p->s->refcount,
					 slot_refs(x, p->s));
	}
	return 0;
}

static int op_pool_create(struct soak *x, struct pool_slot *p)
{
	static const unsigned int aligns[] = {0, 0, 0, 8, 16, 32, 64, 128};
	slab_flags_t flags = 0;
	bool ctor = below(x, 4) == 0;
	int ret;

	flags |= below(x, 4) == 0 ? SLAB_HWCACHE_ALIGN : 0;
	flags |= below(x, 5) == 0 ? SLAB_RECLAIM_ACCOUNT : 0;
	flags |= below(x, 5) == 0 ? SLAB_ACCOUNT : 0;
	flags |= below(x, 10) == 0 ? SLAB_CACHE_DMA : 0;
	p->size = 8 + below(x, 4000);
	p->align = aligns[below(x, ARRAY_SIZE(aligns))];
	snprintf(p->name, sizeof(p->name), "soak_%d", x->next_name++);
	ret = kmem_cache_create(x->m, &p->s, p->name, p->size, p->align, flags, ctor);
	if (ret || !p->s)
		return soak_fail(x, "kmem_cache_create(%s, %u, %u, %#x) = %d", p->name, p->size,
				 p->align, flags, ret);
	touch(x, p->s);
	return check_pool(x);
}

static int op_pool_alloc(struct soak *x, struct pool_slot *p)
{
	bool dma = p->s->flags & SLAB_CACHE_DMA;
	int node = dma || below(x, 2) ? -1 : (int)below(x, (unsigned int)x->m->nr_nodes);
	struct obj o = {kmem_cache_alloc_node(p->s, GFP_KERNEL, node, cpu_of(x)), p->size, 0, p->s,
			dma};

	if (!o.addr)
		return soak_fail(x, "kmem_cache_alloc(%s) failed", p->name);
	o.usable = ksize(x->m, o.addr);
	if (o.addr % p->s->align || (p->align && o.addr % p->align))
		return soak_fail(x, "%s object %#lx not aligned to %u", p->name, o.addr,
				 p->s->align);
	if (node >= 0 && addr_zone(x->m, o.addr)->zone_pgdat->node_id != node)
		return soak_fail(x, "%s object for node %d at %#lx", p->name, node, o.addr);
	return add_live(x, &o, p->name);
}

static int op_pool_destroy(struct soak *x, struct pool_slot *p)
{
	struct kmem_cache *s = p->s;
	int refs = s->refcount, busy = 0, ret;

	for (int i = 0; i < x->nr_live; i++)
		busy += x->live[i].s == s;
	ret = kmem_cache_destroy(x->m, p->name);
	if (refs == 1 && busy) {
		if (ret != -EBUSY || kmem_cache_find(x->m, p->name) != s)
			return soak_fail(x, "destroy of busy %s returned %d", p->name, ret);
		touch(x, s);
		return 0;
	}
	if (ret || kmem_cache_find(x->m, p->name))
		return soak_fail(x, "destroy of %s (refcount %d, %d objects) returned %d", p->name,
				 refs, busy, ret);
	p->s = NULL;
	if (refs > 1)
		touch(x, s);
	else
		untouch(x, s);
	return check_pool(x);
}

/* Shrink: pages move from the slab counters to the page allocator; it says how many. */
static int op_shrink(struct soak *x, struct kmem_cache *s)
{
	long bytes = slab_bytes(x->m);
	unsigned long free = free_pages_now(x->m), pages = kmem_cache_shrink(s);
	unsigned long released = free_pages_now(x->m) - free;

	touch(x, s);
	if ((long)(released * PAGE_SIZE) != bytes - slab_bytes(x->m))
		return soak_fail(x, "shrink of %s: %lu pages freed, slab counters fell %ld bytes",
				 s->name, released, bytes - slab_bytes(x->m));
	if (pages != released)
		return soak_fail(x, "shrink of %s returned %lu, freed %lu pages", s->name, pages,
				 released);
	return 0;
}

static int step_kmalloc(struct soak *x)
{
	int n = 1 + (int)below(x, 8), ret = 0;

	for (int k = 0; k < n && !ret; k++) {
		unsigned int r = below(x, 100);

		if (x->nr_live && r < 15)
			ret = op_krealloc(x);
		else if (x->nr_live < SOAK_LIVE_MAX &&
			 (!x->nr_live || r < (x->nr_live < SOAK_TARGET ? 80u : 45u)))
			ret = op_kmalloc(x);
		else
			ret = op_free(x, (int)below(x, (unsigned int)x->nr_live));
	}
	return ret;
}

static int step_free(struct soak *x)
{
	int n = 1 + (int)below(x, 8), ret = 0;

	for (int k = 0; k < n && x->nr_live && !ret; k++)
		ret = op_free(x, (int)below(x, (unsigned int)x->nr_live));
	return ret;
}

static int step_pool(struct soak *x)
{
	struct pool_slot *p = &x->pool[below(x, SOAK_POOL)];
	int n = 1 + (int)below(x, 12), ret = 0;

	if (!p->s)
		return op_pool_create(x, p);
	for (int k = 0; k < n && !ret; k++) {
		int mine = -1;

		if (below(x, 2) == 0) {
			for (int i = (int)below(x, (unsigned int)x->nr_live + 1); i < x->nr_live;
			     i++)
				if (x->live[i].s == p->s) {
					mine = i;
					break;
				}
		}
		if (mine >= 0)
			ret = op_free(x, mine);
		else if (x->nr_live < SOAK_LIVE_MAX)
			ret = op_pool_alloc(x, p);
	}
	return ret;
}

static int step_shrink(struct soak *x)
{
	struct pool_slot *p = &x->pool[below(x, SOAK_POOL)];

	if (p->s && below(x, 2))
		return op_shrink(x, p->s);
	return op_shrink(x, kmalloc_slab(x->m, 1 + below(x, KMALLOC_MAX_CACHE_SIZE),
					 soak_gfps[below(x, ARRAY_SIZE(soak_gfps))]));
}

/* Destroy a cache of the soak's, half the time after freeing its objects. */
static int step_destroy(struct soak *x)
{
	struct pool_slot *p = &x->pool[below(x, SOAK_POOL)];
	bool drain = below(x, 2);
	int ret = 0;

	if (!p->s)
		return 0;
	for (int i = x->nr_live - 1; i >= 0 && !ret && drain; i--)
		if (x->live[i].s == p->s)
			ret = op_free(x, i);
	return ret ? ret : op_pool_destroy(x, p);
}

static int validate_touched(struct soak *x)
{
	char err[MM_ERRLEN];

	for (int i = 0; i < x->nr_touched; i++) {
		unsigned long n = kmem_cache_validate(x->touched[i], err, sizeof(err));

		if (n)
			return soak_fail(x, "kmem_cache_validate(%s): %lu errors: %s",
					 x->touched[i]->name, n, err);
	}
	return 0;
}

static int verify(struct soak *x)
{
	char err[MM_ERRLEN];

	return machine_verify(x->m, err) ? soak_fail(x, "machine_verify: %s", err) : 0;
}

static int soak_step(struct soak *x)
{
	unsigned int r = below(x, 100);
	int ret;

	x->nr_touched = 0;
	if (r < 65)
		ret = step_kmalloc(x);
	else if (r < 78)
		ret = step_free(x);
	else if (r < 94)
		ret = step_pool(x);
	else if (r < 97)
		ret = step_shrink(x);
	else
		ret = step_destroy(x);
	if (!ret)
		ret = validate_touched(x);
	if (!ret && x->step % VERIFY_EVERY == 0)
		ret = verify(x);
	return ret;
}

/* Free and destroy everything; the machine must be back at its starting counters. */
static void soak_finish(struct soak *x, long bytes0, unsigned long free0, unsigned long invalid0)
{
	x->step = -1;
	while (x->nr_live && !x->msg[0])
		op_free(x, x->nr_live - 1);
	for (int k = 0; k < SOAK_POOL && !x->msg[0]; k++)
		if (x->pool[k].s && kmem_cache_destroy(x->m, x->pool[k].name) == 0)
			x->pool[k].s = NULL;
	for (int k = 0; k < SOAK_POOL && !x->msg[0]; k++)
		if (x->pool[k].s)
			soak_fail(x, "%s could not be destroyed", x->pool[k].name);
	for (int n = 0; n < x->next_name && !x->msg[0]; n++) {
		char name[KMEM_CACHE_NAME_LEN];

		snprintf(name, sizeof(name), "soak_%d", n);
		if (kmem_cache_find(x->m, name))
			soak_fail(x, "%s still exists", name);
	}
	shrink_all(x->m);
	if (!x->msg[0] && (slab_bytes(x->m) != bytes0 || free_pages_now(x->m) != free0))
		soak_fail(x, "after freeing everything: slab bytes %+ld, free pages %+ld",
			  slab_bytes(x->m) - bytes0, (long)free_pages_now(x->m) - (long)free0);
	if (!x->msg[0] && slab_event(x->m, SLAB_FREE_INVALID) != invalid0 + x->invalid)
		soak_fail(x, "SLAB_FREE_INVALID %+ld, the soak made %lu invalid frees",
			  (long)(slab_event(x->m, SLAB_FREE_INVALID) - invalid0), x->invalid);
	for (struct kmem_cache *s = x->m->slab->slab_caches; s && !x->msg[0]; s = s->next) {
		x->nr_touched = 0;
		touch(x, s);
		validate_touched(x);
	}
	if (!x->msg[0])
		verify(x);
}

static void test_soak(void)
{
	struct machine_config cfg;
	struct soak *x = calloc(1, sizeof(*x));
	char err[MM_ERRLEN] = "";
	unsigned long free0, invalid0;
	long bytes0;
	int ret;

	CU_ASSERT_FATAL(x != NULL);
	x->seed = unit_seed();
	x->rng = x->seed ? x->seed : 1;
	machine_config_init(&cfg);
	cfg.mem_bytes = 1 * GiB;
	cfg.ncpus = 4;
	cfg.nr_nodes = 2; /* both with lowmem: node 1 spans 512 MiB .. 1 GiB */
	ret = machine_new(&x->m, &cfg, err);
	ASSERT_BOOTED(ret, err);
	shrink_all(x->m);
	bytes0 = slab_bytes(x->m);
	free0 = free_pages_now(x->m);
	invalid0 = slab_event(x->m, SLAB_FREE_INVALID);
	for (x->step = 1; x->step <= SOAK_STEPS && !x->msg[0]; x->step++)
		soak_step(x);
	soak_finish(x, bytes0, free0, invalid0);
	if (x->msg[0])
		fprintf(stderr, "\nslab soak: %s\n", x->msg);
	CU_assertImplementation(!x->msg[0], __LINE__, x->msg[0] ? x->msg : "soak", __FILE__, "",
				CU_FALSE);
	machine_free(x->m);
	free(x);
}

/* ---------------------------------------------------------------- threads */

struct mt_shared {
	struct machine *m;
	struct kmem_cache *cache; /* a cache of the test's own, shared */
	unsigned char *granules;  /* one bit per 8 bytes of lowmem: handed out */
	unsigned long nr_granules;
	pthread_mutex_t lock;		   /* queue, nr_queue, msg */
	unsigned long queue[MT_QUEUE_MAX]; /* objects passed between CPUs */
	int nr_queue;
	atomic_int failed;
	char msg[256];
	uint64_t seed;
};

struct mt_worker {
	struct mt_shared *sh;
	pthread_t thread;
	int cpu; /* the simulated CPU this thread is */
	uint64_t rng;
	unsigned long live[MT_LIVE_MAX]; /* objects this thread holds */
	int nr_live;
};

__attribute__((format(printf, 2, 3))) static void mt_fail(struct mt_shared *sh, const char *fmt,
							  ...)
{
	va_list ap;

	pthread_mutex_lock(&sh->lock);
	if (!atomic_load(&sh->failed)) {
		int n = snprintf(sh->msg, sizeof(sh->msg),
				 "seed %#llx: ", (unsigned long long)sh->seed);

		va_start(ap, fmt);
		vsnprintf(sh->msg + n, sizeof(sh->msg) - (size_t)n, fmt, ap);
		va_end(ap);
	}
	atomic_store(&sh->failed, 1);
	pthread_mutex_unlock(&sh->lock);
}

/* Set (or clear) the granule bit of @addr; false if it already was (or was not) set. */
static bool mt_mark(struct mt_shared *sh, unsigned long addr, bool set)
{
	unsigned long g = (addr - PAGE_OFFSET) >> 3;
	unsigned char bit = (unsigned char)(1u << (g & 7)), old;

	if (addr < PAGE_OFFSET || g >= sh->nr_granules)
		return false;
	if (set)
		old = __atomic_fetch_or(&sh->granules[g >> 3], bit, __ATOMIC_ACQ_REL);
	else
		old = __atomic_fetch_and(&sh->granules[g >> 3], (unsigned char)~bit,
					 __ATOMIC_ACQ_REL);
	return set ? !(old & bit) : !!(old & bit);
}

static const gfp_t mt_gfps[] = {
	GFP_KERNEL,	      GFP_ATOMIC, GFP_KERNEL_ACCOUNT, GFP_KERNEL | __GFP_RECLAIMABLE,
	GFP_KERNEL | GFP_DMA,
};

static void mt_alloc(struct mt_worker *w)
{
	struct mt_shared *sh = w->sh;
	unsigned int r = (unsigned int)(unit_xorshift(&w->rng) % 100);
	size_t size = r < 70   ? 1 + unit_xorshift(&w->rng) % 512
		      : r < 97 ? 1 + unit_xorshift(&w->rng) % KMALLOC_MAX_CACHE_SIZE
			       : KMALLOC_MAX_CACHE_SIZE + 1 + unit_xorshift(&w->rng) % 24576;
	gfp_t gfp = mt_gfps[unit_xorshift(&w->rng) % ARRAY_SIZE(mt_gfps)];
	unsigned long addr;

	if (r % 4 == 0)
		addr = kmem_cache_alloc(sh->cache, GFP_KERNEL, w->cpu);
	else
		addr = kmalloc(sh->m, size, gfp, w->cpu);
	if (!addr) {
		mt_fail(sh, "cpu %d: allocation of %zu failed", w->cpu, size);
		return;
	}
	if (!mt_mark(sh, addr, true)) {
		mt_fail(sh, "cpu %d: %#lx handed out while live", w->cpu, addr);
		return;
	}
	if (ksize(sh->m, addr) < (r % 4 == 0 ? sh->cache->object_size : size)) {
		mt_fail(sh, "cpu %d: %#lx has ksize %zu", w->cpu, addr, ksize(sh->m, addr));
		return;
	}
	w->live[w->nr_live++] = addr;
}

static void mt_free(struct mt_worker *w, unsigned long addr)
{
	int ret;

	if (!mt_mark(w->sh, addr, false)) {
		mt_fail(w->sh, "cpu %d: freeing %#lx, which is not handed out", w->cpu, addr);
		return;
	}
	ret = kfree(w->sh->m, addr, w->cpu);
	if (ret)
		mt_fail(w->sh, "cpu %d: kfree(%#lx) = %d", w->cpu, addr, ret);
}

/* Hand a live object to the queue (another CPU frees it), or free one from the queue. */
static void mt_exchange(struct mt_worker *w, bool give)
{
	struct mt_shared *sh = w->sh;
	unsigned long addr = 0;

	pthread_mutex_lock(&sh->lock);
	if (give && w->nr_live && sh->nr_queue < MT_QUEUE_MAX) {
		int i = (int)(unit_xorshift(&w->rng) % (unsigned int)w->nr_live);

		sh->queue[sh->nr_queue++] = w->live[i];
		w->live[i] = w->live[--w->nr_live];
	} else if (!give && sh->nr_queue) {
		int i = (int)(unit_xorshift(&w->rng) % (unsigned int)sh->nr_queue);

		addr = sh->queue[i];
		sh->queue[i] = sh->queue[--sh->nr_queue];
	}
	pthread_mutex_unlock(&sh->lock);
	if (addr)
		mt_free(w, addr);
}

static void *mt_worker(void *arg)
{
	struct mt_worker *w = arg;
	struct mt_shared *sh = w->sh;

	for (int op = 0; op < MT_OPS && !atomic_load(&sh->failed); op++) {
		unsigned int r = (unsigned int)(unit_xorshift(&w->rng) % 100);

		if (r < 45 && w->nr_live < MT_LIVE_MAX) {
			mt_alloc(w);
		} else if (r < 70 && w->nr_live) {
			int i = (int)(unit_xorshift(&w->rng) % (unsigned int)w->nr_live);
			unsigned long addr = w->live[i];

			w->live[i] = w->live[--w->nr_live];
			mt_free(w, addr);
		} else if (r < 85) {
			mt_exchange(w, true);
		} else {
			mt_exchange(w, false);
		}
		if (w->cpu == 1 && op % 64 == 0) {
			/* a /proc/slabinfo reader among the allocators */
			size_t size = 1 + unit_xorshift(&w->rng) % KMALLOC_MAX_CACHE_SIZE;
			struct slabinfo info;

			get_slabinfo(kmalloc_slab(sh->m, size, GFP_KERNEL), -1, &info);
			if (info.active_objs > info.num_objs || info.active_slabs != info.num_slabs)
				mt_fail(sh, "slabinfo %lu/%lu objects", info.active_objs,
					info.num_objs);
		}
		if (w->cpu == 0 && op % 1000 == 999) {
			size_t size = 1 + unit_xorshift(&w->rng) % KMALLOC_MAX_CACHE_SIZE;

			kmem_cache_shrink(op % 2000 == 1999
						  ? sh->cache
						  : kmalloc_slab(sh->m, size, GFP_KERNEL));
		}
	}
	return NULL;
}

/* 4 CPUs on two nodes, one thread each; frees cross CPUs (and nodes) through a queue. */
static void test_threads(void)
{
	struct machine_config cfg;
	struct mt_shared sh;
	struct mt_worker *w = calloc(MT_THREADS, sizeof(*w));
	char err[MM_ERRLEN] = "";
	unsigned long free0, invalid0;
	long bytes0;
	int ret;

	CU_ASSERT_FATAL(w != NULL);
	memset(&sh, 0, sizeof(sh));
	sh.seed = unit_seed();
	pthread_mutex_init(&sh.lock, NULL);
	machine_config_init(&cfg);
	cfg.mem_bytes = 512 * MiB; /* all lowmem */
	cfg.ncpus = MT_THREADS;
	cfg.nr_nodes = 2;
	ret = machine_new(&sh.m, &cfg, err);
	ASSERT_BOOTED(ret, err);
	ret = kmem_cache_create(sh.m, &sh.cache, "mt_cache", 200, 0, SLAB_HWCACHE_ALIGN, true);
	CU_ASSERT_FATAL(ret == 0);
	sh.nr_granules = sh.m->layout.max_low_pfn << (PAGE_SHIFT - 3);
	sh.granules = calloc(sh.nr_granules / 8 + 1, 1);
	CU_ASSERT_FATAL(sh.granules != NULL);
	shrink_all(sh.m);
	bytes0 = slab_bytes(sh.m);
	free0 = free_pages_now(sh.m);
	invalid0 = slab_event(sh.m, SLAB_FREE_INVALID);

	for (int i = 0; i < MT_THREADS; i++) {
		w[i] = (struct mt_worker){
			.sh = &sh, .cpu = i, .rng = sh.seed * 31 + (uint64_t)i + 1};
		CU_ASSERT_FATAL(pthread_create(&w[i].thread, NULL, mt_worker, &w[i]) == 0);
	}
	for (int i = 0; i < MT_THREADS; i++)
		pthread_join(w[i].thread, NULL);

	/* quiet again: free what is left, then everything must be as before */
	while (sh.nr_queue)
		mt_exchange(&w[sh.nr_queue % MT_THREADS], false);
	for (int i = 0; i < MT_THREADS; i++)
		while (w[i].nr_live)
			mt_free(&w[(i + 1) % MT_THREADS], w[i].live[--w[i].nr_live]);
	for (struct kmem_cache *s = sh.m->slab->slab_caches; s && !sh.failed; s = s->next) {
		unsigned long n = kmem_cache_validate(s, err, sizeof(err));

		if (n)
			mt_fail(&sh, "kmem_cache_validate(%s): %lu errors: %s", s->name, n, err);
	}
	if (!sh.failed && kmem_cache_destroy(sh.m, "mt_cache"))
		mt_fail(&sh, "mt_cache still busy");
	shrink_all(sh.m);
	if (!sh.failed && machine_verify(sh.m, err))
		mt_fail(&sh, "machine_verify: %s", err);
	/* the cache's descriptors are gone too, so the counters may only have fallen */
	if (!sh.failed && (slab_bytes(sh.m) > bytes0 || free_pages_now(sh.m) < free0))
		mt_fail(&sh, "pages not given back: slab bytes %+ld, free pages %+ld",
			slab_bytes(sh.m) - bytes0, (long)free_pages_now(sh.m) - (long)free0);
	if (!sh.failed && slab_event(sh.m, SLAB_FREE_INVALID) != invalid0)
		mt_fail(&sh, "%lu frees refused", slab_event(sh.m, SLAB_FREE_INVALID) - invalid0);
	for (unsigned long g = 0; g <= sh.nr_granules / 8 && !sh.failed; g++)
		if (sh.granules[g])
			mt_fail(&sh, "granule byte %lu still marked", g);
	if (sh.failed)
		fprintf(stderr, "\nslab threads: %s\n", sh.msg);
	CU_assertImplementation(!sh.failed, __LINE__, sh.failed ? sh.msg : "threads", __FILE__, "",
				CU_FALSE);
	machine_free(sh.m);
	free(sh.granules);
	free(w);
	pthread_mutex_destroy(&sh.lock);
}

/*
 * Names looked up by CPU threads while a control thread creates and destroys caches, as
 * the node daemon does (cache_alloc on CPU workers, cache_create / cache_destroy on the
 * control worker). The churned caches merge into the looked-up one now and then, so its
 * alias list changes under the lookups too.
 */
struct names_shared {
	struct machine *m;
	struct kmem_cache *keep; /* never destroyed: "names_keep" */
	atomic_int stop;	 /* the control thread is done */
	atomic_int failed;
	char msg[200]; /* first failure (written before failed is set) */
};

struct names_cpu {
	struct names_shared *sh;
	pthread_t thread;
	int cpu;
};

static void names_fail(struct names_shared *sh, const char *what, int ret)
{
	int expected = 0;

	if (atomic_compare_exchange_strong(&sh->failed, &expected, 1))
		snprintf(sh->msg, sizeof(sh->msg), "%s (%d)", what, ret);
}

static void *names_lookup(void *arg)
{
	struct names_cpu *c = arg;
	struct names_shared *sh = c->sh;

	while (!atomic_load(&sh->stop) && !atomic_load(&sh->failed)) {
		struct kmem_cache *s = kmem_cache_find(sh->m, "names_keep");
		unsigned long p;

		if (s != sh->keep) {
			names_fail(sh, "names_keep looked up wrong", 0);
			break;
		}
		p = kmem_cache_alloc(s, GFP_KERNEL, c->cpu);
		if (!p || kmem_cache_free(s, p, c->cpu))
			names_fail(sh, "names_keep alloc/free", (int)c->cpu);
		if (kmem_cache_find(sh->m, "kmalloc-64") == NULL)
			names_fail(sh, "kmalloc-64 not found", 0);
	}
	return NULL;
}

static void *names_control(void *arg)
{
	struct names_shared *sh = arg;
	char name[KMEM_CACHE_NAME_LEN];

	for (int i = 0; i < 1500 && !atomic_load(&sh->failed); i++) {
		struct kmem_cache *s;
		int ret;

		/* 96 bytes merge into names_keep; the others are caches of their own */
		snprintf(name, sizeof(name), "names_churn_%d", i);
		ret = kmem_cache_create(sh->m, &s, name, i % 3 ? 96 : 200 + (unsigned int)i % 64, 0,
					0, i % 5 == 0);
		if (ret)
			names_fail(sh, "kmem_cache_create", ret);
		else if ((ret = kmem_cache_destroy(sh->m, name)))
			names_fail(sh, "kmem_cache_destroy", ret);
	}
	atomic_store(&sh->stop, 1);
	return NULL;
}

static void test_names_under_churn(void)
{
	struct machine_config cfg;
	struct names_shared sh;
	struct names_cpu cpus[3];
	pthread_t control;
	char err[MM_ERRLEN] = "";
	int ret;

	memset(&sh, 0, sizeof(sh));
	machine_config_init(&cfg);
	cfg.mem_bytes = 512 * MiB;
	cfg.ncpus = (int)ARRAY_SIZE(cpus);
	ret = machine_new(&sh.m, &cfg, err);
	ASSERT_BOOTED(ret, err);
	ret = kmem_cache_create(sh.m, &sh.keep, "names_keep", 96, 0, 0, false);
	CU_ASSERT_FATAL(ret == 0);
	for (size_t i = 0; i < ARRAY_SIZE(cpus); i++) {
		cpus[i] = (struct names_cpu){&sh, 0, (int)i};
		CU_ASSERT_FATAL(pthread_create(&cpus[i].thread, NULL, names_lookup, &cpus[i]) == 0);
	}
	CU_ASSERT_FATAL(pthread_create(&control, NULL, names_control, &sh) == 0);
	pthread_join(control, NULL);
	for (size_t i = 0; i < ARRAY_SIZE(cpus); i++)
		pthread_join(cpus[i].thread, NULL);
	CU_assertImplementation(!atomic_load(&sh.failed), __LINE__,
				atomic_load(&sh.failed) ? sh.msg : "names", __FILE__, "", CU_FALSE);
	CU_ASSERT(sh.keep->refcount == 1 && sh.keep->nr_aliases == 1);
	for (struct kmem_cache *s = sh.m->slab->slab_caches; s; s = s->next)
		CU_ASSERT(kmem_cache_validate(s, err, sizeof(err)) == 0);
	CU_ASSERT(kmem_cache_destroy(sh.m, "names_keep") == 0);
	CU_ASSERT(machine_verify(sh.m, err) == 0);
	machine_free(sh.m);
}

static CU_TestInfo tests[] = {
	{"random kmalloc/cache soak against live objects", test_soak},
	{"threads as CPUs with remote frees", test_threads},
	{"cache names looked up during create/destroy", test_names_under_churn},
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("slab_soak", NULL, NULL, tests);
