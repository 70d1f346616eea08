// SPDX-License-Identifier: MIT
/*
 * slub.c - the SLUB allocator: CPU slabs and freelists, CPU partial lists, node partial
 * lists, slabs taken from and returned to the page allocator; kmalloc, kfree and friends.
 *
 * Mirrors:    mm/slub.c (Linux 6.1.y): slab_alloc_node, ___slab_alloc, get_partial_node,
 *             get_any_partial, acquire_slab, put_cpu_partial, __unfreeze_partials,
 *             deactivate_slab, do_slab_free, __slab_free, allocate_slab, shuffle_freelist,
 *             discard_slab, flush_all, __kmem_cache_shrink, __kmem_cache_shutdown,
 *             validate_slab_cache, get_slabinfo, kmalloc_large, free_large_kmalloc
 * Simplified: a per-CPU lock replaces this_cpu_cmpxchg; node lists are under list_lock;
 *             get_any_partial() always looks (remote_node_defrag_ratio is not random here);
 *             full slabs are kept on a list (the kernel keeps one only with debugging)
 * Differs:    object state is tracked, so every double free is caught; struct slab
 *             descriptors are reused, never freed, while the cache lives
 *
 * Object i of a slab is at PAGE_OFFSET + (pfn << PAGE_SHIFT) + i * size; slab pages live
 * in lowmem (slab gfp masks never allow HighMem), so every object has such an address.
 *
 * Lock order: kmem_cache_cpu.lock -> kmem_cache_node.list_lock -> page allocator. The
 * free path drops the CPU lock before it takes list_lock, and takes the CPU lock again
 * only with list_lock released.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "slab.h"
#include "slub.h"

#define GFP_RECLAIM_MASK                                                                         \
	(__GFP_RECLAIM | __GFP_HIGH | __GFP_IO | __GFP_FS | __GFP_NOWARN | __GFP_RETRY_MAYFAIL | \
	 __GFP_NOFAIL | __GFP_NORETRY | __GFP_MEMALLOC | __GFP_NOMEMALLOC | __GFP_ATOMIC)
#define GFP_CONSTRAINT_MASK (__GFP_HARDWALL | __GFP_THISNODE)
#define GFP_SLAB_BUG_MASK (__GFP_DMA32 | __GFP_HIGHMEM | ~__GFP_BITS_MASK)

static struct kmem_cache_node *get_node(const struct kmem_cache *s, int nid)
{
	return s->node[nid];
}

static unsigned long slab_base(const struct slab *slab)
{
	return PAGE_OFFSET + (slab->pfn << PAGE_SHIFT);
}

static unsigned long obj_addr(const struct slab *slab, unsigned int idx)
{
	return slab_base(slab) + (unsigned long)idx * slab->slab_cache->size;
}

unsigned long virt_to_pfn(const struct machine *m, unsigned long addr)
{
	unsigned long pfn;

	if (addr < PAGE_OFFSET)
		return ~0ul;
	pfn = (addr - PAGE_OFFSET) >> PAGE_SHIFT;
	return pfn < m->layout.max_low_pfn ? pfn : ~0ul;
}

static struct page *virt_to_page(struct machine *m, unsigned long addr)
{
	unsigned long pfn = virt_to_pfn(m, addr);
	struct zone *zone = pfn == ~0ul ? NULL : pfn_zone_span(m, pfn);

	/* holes have struct pages with no flags: the PG_slab / PG_kmalloc checks reject them */
	return zone ? pfn_to_page(zone, pfn) : NULL;
}

static struct slab *page_slab(const struct page *page)
{
	return (struct slab *)(uintptr_t)__atomic_load_n(&page->slab_ptr, __ATOMIC_ACQUIRE);
}

/* ---------------------------------------------------------------- lists (list_lock held) */

static void list_add(struct slab_list *l, struct slab *slab, bool tail)
{
	slab->prev = slab->next = NULL;
	if (!l->head) {
		l->head = l->tail = slab;
	} else if (tail) {
		slab->prev = l->tail;
		l->tail->next = slab;
		l->tail = slab;
	} else {
		slab->next = l->head;
		l->head->prev = slab;
		l->head = slab;
	}
}

static void list_del(struct slab_list *l, struct slab *slab)
{
	if (slab->prev)
		slab->prev->next = slab->next;
	else
		l->head = slab->next;
	if (slab->next)
		slab->next->prev = slab->prev;
	else
		l->tail = slab->prev;
	slab->next = slab->prev = NULL;
}

static void add_partial(struct kmem_cache_node *n, struct slab *slab, bool tail)
{
	list_add(&n->partial, slab, tail);
	slab->on_partial = true;
	WRITE_ONCE(n->nr_partial, n->nr_partial + 1);
}

static void add_full(struct kmem_cache_node *n, struct slab *slab)
{
	list_add(&n->full, slab, true);
	slab->on_partial = false;
}

/* Take an unfrozen slab off whichever list it is on. */
static void remove_from_lists(struct kmem_cache_node *n, struct slab *slab)
{
	if (slab->on_partial) {
		list_del(&n->partial, slab);
		WRITE_ONCE(n->nr_partial, n->nr_partial - 1);
		slab->on_partial = false;
	} else {
		list_del(&n->full, slab);
	}
}

/* ---------------------------------------------------------------- slab pages */

static struct slab *slab_desc_get(struct kmem_cache_node *n, unsigned int objects)
{
	struct slab *slab = n->spare;

	if (slab && slab->capacity >= objects) {
		n->spare = slab->next;
		return slab;
	}
	slab = calloc(1, sizeof(*slab) + objects * (sizeof(uint16_t) + 1));
	if (!slab)
		abort();
	slab->next_free = (uint16_t *)(slab + 1);
	slab->allocated = (uint8_t *)(slab->next_free + objects);
	slab->capacity = objects;
	return slab;
}

static uint32_t hash32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352du;
	x ^= x >> 15;
	x *= 0x846ca68bu;
	x ^= x >> 16;
	return x;
}

/* shuffle_freelist(): chain the objects in the cache's random order from a random start. */
static void init_freelist(struct kmem_cache *s, struct slab *slab)
{
	unsigned int count = s->oo_objects, pos, prev = SLAB_NIL;
	uint32_t start = __atomic_fetch_add(&s->random_state, 1, __ATOMIC_RELAXED);

	pos = hash32(start) % count;
	slab->freelist = SLAB_NIL;
	for (unsigned int i = 0; i < count; i++, pos = (pos + 1) % count) {
		unsigned int idx = s->random_seq[pos];

		if (idx >= slab->objects)
			continue;
		if (prev == SLAB_NIL)
			slab->freelist = idx;
		else
			slab->next_free[prev] = (uint16_t)idx;
		prev = idx;
	}
	slab->next_free[prev] = SLAB_NIL;
	memset(slab->allocated, 0, slab->objects);
}

static void mark_slab_pages(struct machine *m, struct slab *slab, bool on)
{
	struct zone *zone = pfn_zone(m, slab->pfn);

	for (unsigned long i = 0; i < 1ul << slab->order; i++) {
		struct page *page = pfn_to_page(zone, slab->pfn + i);
		uint32_t flags = page_flags(page);

		__atomic_store_n(&page->slab_ptr, on ? (uint64_t)(uintptr_t)slab : 0,
				 __ATOMIC_RELEASE);
		set_page_flags(page, on ? flags | PG_slab : flags & ~PG_slab);
	}
}

static void account_slab(struct machine *m, struct slab *slab, long sign)
{
	pg_data_t *pgdat = m->node_data[slab->nid];
	bool rcl = slab->slab_cache->flags & SLAB_RECLAIM_ACCOUNT;

	node_stat_add(pgdat, rcl ? NR_SLAB_RECLAIMABLE_B : NR_SLAB_UNRECLAIMABLE_B,
		      sign * (long)(PAGE_SIZE << slab->order));
}

/* allocate_slab(): pages at the preferred order without reclaim, else at the minimum. */
static struct slab *allocate_slab(struct kmem_cache *s, gfp_t gfp, int node, int cpu)
{
	struct machine *m = s->machine;
	gfp_t flags = (gfp & (GFP_RECLAIM_MASK | GFP_CONSTRAINT_MASK)) | s->allocflags;
	gfp_t alloc_gfp = (flags | __GFP_NOWARN | __GFP_NORETRY) & ~__GFP_NOFAIL;
	unsigned int order = s->oo_order;
	struct kmem_cache_node *n;
	struct slab *slab;
	unsigned long pfn;

	if ((alloc_gfp & __GFP_DIRECT_RECLAIM) && s->oo_order > s->min_order)
		alloc_gfp = (alloc_gfp | __GFP_NOMEMALLOC) & ~__GFP_RECLAIM;
	if (__alloc_pages(m, &pfn, alloc_gfp, order, cpu, node, 0, 0, NULL)) {
		order = s->min_order;
		if (__alloc_pages(m, &pfn, flags, order, cpu, node, 0, 0, NULL))
			return NULL;
	}
	node = pfn_zone(m, pfn)->zone_pgdat->node_id;
	n = get_node(s, node);
	pthread_mutex_lock(&n->list_lock);
	slab = slab_desc_get(n, s->oo_objects);
	slab->slab_cache = s;
	slab->pfn = pfn;
	slab->order = order;
	slab->objects = (unsigned int)((PAGE_SIZE << order) / s->size);
	slab->nid = node;
	slab->inuse = 0;
	slab->frozen = true; /* it becomes a CPU slab */
	slab->on_partial = false;
	init_freelist(s, slab);
	mark_slab_pages(m, slab, true);
	WRITE_ONCE(n->nr_slabs, n->nr_slabs + 1);
	WRITE_ONCE(n->total_objects, n->total_objects + slab->objects);
	pthread_mutex_unlock(&n->list_lock);
	account_slab(m, slab, 1);
	return slab;
}

/* Unaccount a slab under list_lock; the caller frees its pages after dropping the lock. */
static void unlink_slab(struct kmem_cache_node *n, struct slab *slab)
{
	mark_slab_pages(slab->slab_cache->machine, slab, false);
	WRITE_ONCE(n->nr_slabs, n->nr_slabs - 1);
	WRITE_ONCE(n->total_objects, n->total_objects - slab->objects);
}

/* discard_slab(): pages back to the page allocator, descriptor to the spare list. */
static void discard_slab(struct kmem_cache *s, unsigned long pfn, unsigned int order, int nid,
			 int cpu)
{
	struct machine *m = s->machine;
	bool rcl = s->flags & SLAB_RECLAIM_ACCOUNT;

	node_stat_add(m->node_data[nid], rcl ? NR_SLAB_RECLAIMABLE_B : NR_SLAB_UNRECLAIMABLE_B,
		      -(long)(PAGE_SIZE << order));
	free_pages(m, pfn, order, cpu, OWNER_ANY);
}

struct discard {
	unsigned long pfn;  /* first page */
	unsigned int order; /* its order */
	int nid;	    /* its node */
};

/* Under list_lock: unlink an empty slab, remember its pages, keep the descriptor. */
static struct discard retire_slab(struct kmem_cache_node *n, struct slab *slab)
{
	struct discard d = {slab->pfn, slab->order, slab->nid};

	unlink_slab(n, slab);
	slab->slab_cache = NULL;
	slab->next = n->spare;
	n->spare = slab;
	return d;
}

/* ---------------------------------------------------------------- CPU slabs */

bool node_has_normal_memory(const struct machine *m, int nid)
{
	const pg_data_t *pgdat = m->node_data[nid];

	return pgdat->node_zones[ZONE_DMA].managed_pages ||
	       pgdat->node_zones[ZONE_NORMAL].managed_pages;
}

static bool node_match(const struct slab *slab, int node)
{
	return node < 0 || slab->nid == node;
}

/* Count and find the tail of a free chain, at most @max long (-1 if longer: a cycle). */
static long chain_len(const struct slab *slab, uint32_t head, uint32_t *tail, unsigned int max)
{
	long len = 0;

	*tail = SLAB_NIL;
	for (uint32_t i = head; i != SLAB_NIL; i = slab->next_free[i]) {
		if (++len > (long)max || i >= slab->objects)
			return -1;
		*tail = i;
	}
	return len;
}

/*
 * deactivate_slab(): the CPU slab goes back to its node with its CPU freelist.
 * Caller holds c->lock. Returns true and fills @d if the slab is to be discarded.
 */
static bool deactivate_slab(struct kmem_cache *s, struct kmem_cache_cpu *c, struct discard *d)
{
	struct slab *slab = c->slab;
	struct kmem_cache_node *n = get_node(s, slab->nid);
	uint32_t freelist = c->freelist, tail;
	bool remote, discard = false;
	long len;

	c->slab = NULL;
	c->freelist = SLAB_NIL;
	pthread_mutex_lock(&n->list_lock);
	remote = slab->freelist != SLAB_NIL;
	len = chain_len(slab, freelist, &tail, slab->objects);
	if (len > 0) {
		slab->next_free[tail] = (uint16_t)slab->freelist;
		slab->freelist = freelist;
		slab->inuse -= (unsigned int)len;
	}
	slab->frozen = false;
	if (!slab->inuse && n->nr_partial >= s->min_partial) {
		*d = retire_slab(n, slab);
		discard = true;
	} else if (slab->freelist != SLAB_NIL) {
		add_partial(n, slab, remote);
	} else {
		add_full(n, slab);
	}
	pthread_mutex_unlock(&n->list_lock);
	return discard;
}

/* __unfreeze_partials(): a detached CPU partial list goes to the node partial lists. */
static unsigned long unfreeze_partials(struct kmem_cache *s, struct slab *list, int cpu)
{
	unsigned long pages = 0;

	while (list) {
		struct slab *slab = list;
		struct kmem_cache_node *n = get_node(s, slab->nid);
		struct discard d;
		bool discard = false;

		list = slab->next;
		pthread_mutex_lock(&n->list_lock);
		slab->frozen = false;
		if (!slab->inuse && n->nr_partial >= s->min_partial) {
			d = retire_slab(n, slab);
			discard = true;
		} else {
			add_partial(n, slab, true);
		}
		pthread_mutex_unlock(&n->list_lock);
		if (discard) {
			discard_slab(s, d.pfn, d.order, d.nid, cpu);
			pages += 1ul << d.order;
		}
	}
	return pages;
}

/*
 * put_cpu_partial(): push a frozen slab on the CPU partial list. With @drain, a full list
 * is detached first and returned for unfreeze_partials(). Caller holds c->lock.
 */
static struct slab *put_cpu_partial(struct kmem_cache *s, struct kmem_cache_cpu *c,
				    struct slab *slab, bool drain)
{
	struct slab *old = c->partial, *detached = NULL;
	unsigned int slabs = 0;

	if (old) {
		if (drain && old->slabs >= s->cpu_partial_slabs) {
			detached = old;
			old = NULL;
		} else {
			slabs = old->slabs;
		}
	}
	slab->slabs = slabs + 1;
	slab->next = old;
	c->partial = slab;
	return detached;
}

/* acquire_slab(): freeze a partial slab; the first one's freelist goes to the CPU. */
static void acquire_slab(struct kmem_cache_node *n, struct slab *slab)
{
	list_del(&n->partial, slab);
	WRITE_ONCE(n->nr_partial, n->nr_partial - 1);
	slab->on_partial = false;
	slab->frozen = true;
}

/* get_partial_node(): a CPU slab and some CPU partial slabs from one node. c->lock held. */
static bool get_partial_node(struct kmem_cache *s, struct kmem_cache_node *n,
			     struct kmem_cache_cpu *c)
{
	unsigned int partial_slabs = 0;
	struct slab *slab;

	if (!n || !READ_ONCE(n->nr_partial))
		return false;
	pthread_mutex_lock(&n->list_lock);
	while ((slab = n->partial.head)) {
		acquire_slab(n, slab);
		if (!c->slab) {
			c->slab = slab;
			c->freelist = slab->freelist;
			slab->freelist = SLAB_NIL;
			slab->inuse = slab->objects;
		} else {
			put_cpu_partial(s, c, slab, false);
			partial_slabs++;
		}
		if (!s->cpu_partial || partial_slabs > s->cpu_partial_slabs / 2)
			break;
	}
	pthread_mutex_unlock(&n->list_lock);
	return c->slab != NULL;
}

/* get_partial(): the wanted node (or the CPU's), then any node by distance. */
static bool get_partial(struct kmem_cache *s, int node, struct kmem_cache_cpu *c, int cpu)
{
	struct machine *m = s->machine;
	int searchnode = node < 0 ? m->cpu_to_node[cpu] : node;
	const struct zoneref *z;
	int last = -1;

	if (get_partial_node(s, get_node(s, searchnode), c) || node >= 0)
		return c->slab != NULL;
	z = m->node_data[searchnode]->node_zonelists[ZONELIST_FALLBACK]._zonerefs;
	for (; z->nid >= 0; z++) {
		struct kmem_cache_node *n = get_node(s, z->nid);

		if (z->nid == last || z->zone_idx > ZONE_NORMAL)
			continue;
		last = z->nid;
		if (READ_ONCE(n->nr_partial) > s->min_partial && get_partial_node(s, n, c))
			return true;
	}
	return false;
}

/* Take the remote frees of the CPU slab (get_freelist); unfreeze it if there are none. */
static bool refill_cpu_freelist(struct kmem_cache *s, struct kmem_cache_cpu *c)
{
	struct slab *slab = c->slab;
	struct kmem_cache_node *n = get_node(s, slab->nid);
	bool got;

	pthread_mutex_lock(&n->list_lock);
	got = slab->freelist != SLAB_NIL;
	if (got) {
		c->freelist = slab->freelist;
		slab->freelist = SLAB_NIL;
		slab->inuse = slab->objects;
	} else {
		slab->frozen = false;
		add_full(n, slab);
		c->slab = NULL;
	}
	pthread_mutex_unlock(&n->list_lock);
	return got;
}

/* The next CPU partial slab that suits @node becomes the CPU slab; others are unfrozen. */
static bool take_cpu_partial(struct kmem_cache *s, struct kmem_cache_cpu *c, int node, int cpu,
			     struct slab **unfreeze)
{
	while (c->partial) {
		struct slab *slab = c->partial;
		struct kmem_cache_node *n = get_node(s, slab->nid);

		c->partial = slab->next;
		if (!node_match(slab, node)) {
			slab->next = *unfreeze;
			*unfreeze = slab;
			continue;
		}
		pthread_mutex_lock(&n->list_lock);
		c->slab = slab;
		c->freelist = slab->freelist;
		slab->freelist = SLAB_NIL;
		slab->inuse = slab->objects;
		pthread_mutex_unlock(&n->list_lock);
		return true;
	}
	(void)cpu;
	return false;
}

static unsigned long pop_cpu_freelist(struct kmem_cache_cpu *c)
{
	struct slab *slab = c->slab;
	uint32_t idx = c->freelist;

	c->freelist = slab->next_free[idx];
	__atomic_store_n(&slab->allocated[idx], 1, __ATOMIC_RELAXED);
	return obj_addr(slab, idx);
}

/* ___slab_alloc(): the slow path with c->lock held. 0 when no page could be had. */
static unsigned long slab_alloc_slow(struct kmem_cache *s, gfp_t gfp, int node,
				     struct kmem_cache_cpu *c, int cpu, struct slab **unfreeze,
				     struct discard *d, bool *discard)
{
	struct slab *slab;

	c->alloc_slow++;
	if (c->slab && !node_match(c->slab, node))
		*discard = deactivate_slab(s, c, d);
	if (c->slab && refill_cpu_freelist(s, c))
		return pop_cpu_freelist(c);
	if (take_cpu_partial(s, c, node, cpu, unfreeze) || get_partial(s, node, c, cpu))
		return pop_cpu_freelist(c);
	slab = allocate_slab(s, gfp, node, cpu);
	if (!slab)
		return 0;
	c->slab = slab;
	c->freelist = slab->freelist;
	slab->freelist = SLAB_NIL;
	slab->inuse = slab->objects;
	return pop_cpu_freelist(c);
}

static bool valid_cpu(const struct kmem_cache *s, int cpu)
{
	return cpu >= 0 && cpu < s->machine->ncpus;
}

unsigned long kmem_cache_alloc_node(struct kmem_cache *s, gfp_t gfp, int node, int cpu)
{
	struct kmem_cache_cpu *c;
	struct slab *unfreeze = NULL;
	struct discard d;
	bool discard = false;
	unsigned long addr;

	if (!valid_cpu(s, cpu) || node >= s->machine->nr_nodes || node < -1)
		return 0;
	if (node >= 0 && !node_has_normal_memory(s->machine, node))
		node = -1; /* not in slab_nodes: the node constraint is ignored */
	c = &s->cpu_slab[cpu];
	pthread_spin_lock(&c->lock);
	if (c->slab && c->freelist != SLAB_NIL && node_match(c->slab, node)) {
		c->alloc_fast++;
		addr = pop_cpu_freelist(c);
	} else {
		addr = slab_alloc_slow(s, gfp, node, c, cpu, &unfreeze, &d, &discard);
	}
	pthread_spin_unlock(&c->lock);
	if (discard)
		discard_slab(s, d.pfn, d.order, d.nid, cpu);
	if (unfreeze)
		unfreeze_partials(s, unfreeze, cpu);
	if (!addr)
		__atomic_fetch_add(&s->machine->slab->events[SLAB_ALLOC_FAIL], 1, __ATOMIC_RELAXED);
	return addr;
}

unsigned long kmem_cache_alloc(struct kmem_cache *s, gfp_t gfp, int cpu)
{
	return kmem_cache_alloc_node(s, gfp, -1, cpu);
}

/* ---------------------------------------------------------------- freeing */

/* The slab and object index of @addr, checked; @s (if not NULL) must own it. */
/* The slab and object index of @addr on @page, checked; @s (if not NULL) must own it. */
static int object_on_page(const struct page *page, struct kmem_cache *s, unsigned long addr,
			  struct slab **slabp, unsigned int *idxp)
{
	struct slab *slab;
	unsigned int off, size;

	if (!page || !(page_flags(page) & PG_slab))
		return ESLAB_NOTSLAB;
	slab = page_slab(page);
	if (!slab || !slab->slab_cache)
		return ESLAB_NOTSLAB;
	if (s && slab->slab_cache != s)
		return ESLAB_WRONGCACHE;
	if (addr < slab_base(slab) || addr - slab_base(slab) >= PAGE_SIZE << slab->order)
		return ESLAB_NOTSLAB;
	off = (unsigned int)(addr - slab_base(slab)); /* below 4 MiB: 32-bit division */
	size = slab->slab_cache->size;
	if (off % size || off / size >= slab->objects)
		return ESLAB_NOTOBJ;
	*slabp = slab;
	*idxp = off / size;
	return 0;
}

static int object_of(struct machine *m, struct kmem_cache *s, unsigned long addr,
		     struct slab **slabp, unsigned int *idxp)
{
	return object_on_page(virt_to_page(m, addr), s, addr, slabp, idxp);
}

static bool claim_object(struct slab *slab, unsigned int idx)
{
	uint8_t one = 1;

	return __atomic_compare_exchange_n(&slab->allocated[idx], &one, 0, false, __ATOMIC_ACQ_REL,
					   __ATOMIC_RELAXED);
}

/* __slab_free(): a free to a slab that is not this CPU's slab. */
static int slab_free_slow(struct kmem_cache *s, struct slab *slab, unsigned int idx,
			  unsigned long addr, int cpu)
{
	struct kmem_cache_node *n = get_node(s, slab->nid);
	struct page *page = virt_to_page(s->machine, addr);
	struct slab *detached = NULL;
	struct discard d;
	bool was_full, discard = false, freeze = false;

	pthread_mutex_lock(&n->list_lock);
	if (page_slab(page) != slab || slab->slab_cache != s) {
		pthread_mutex_unlock(&n->list_lock);
		return ESLAB_NOTSLAB;
	}
	if (!claim_object(slab, idx)) {
		pthread_mutex_unlock(&n->list_lock);
		return ESLAB_DOUBLE;
	}
	was_full = slab->freelist == SLAB_NIL;
	slab->next_free[idx] = (uint16_t)slab->freelist;
	slab->freelist = idx;
	slab->inuse--;
	if (!slab->frozen) {
		if (was_full && s->cpu_partial) {
			remove_from_lists(n, slab);
			slab->frozen = freeze = true;
		} else if (!slab->inuse && n->nr_partial >= s->min_partial) {
			remove_from_lists(n, slab);
			d = retire_slab(n, slab);
			discard = true;
		} else if (was_full) {
			remove_from_lists(n, slab);
			add_partial(n, slab, true);
		}
	}
	pthread_mutex_unlock(&n->list_lock);
	if (freeze) {
		struct kmem_cache_cpu *c = &s->cpu_slab[cpu];

		pthread_spin_lock(&c->lock);
		detached = put_cpu_partial(s, c, slab, true);
		pthread_spin_unlock(&c->lock);
		unfreeze_partials(s, detached, cpu);
	}
	if (discard)
		discard_slab(s, d.pfn, d.order, d.nid, cpu);
	return 0;
}

/* do_slab_free(): to this CPU's freelist when the object is in its CPU slab. */
static int slab_free(const struct page *page, struct kmem_cache *s, unsigned long addr, int cpu)
{
	struct kmem_cache_cpu *c;
	struct slab *slab;
	unsigned int idx;
	int ret;

	ret = object_on_page(page, s, addr, &slab, &idx);
	if (ret)
		return ret;
	s = slab->slab_cache;
	c = &s->cpu_slab[cpu];
	pthread_spin_lock(&c->lock);
	if (c->slab == slab) {
		if (!claim_object(slab, idx)) {
			pthread_spin_unlock(&c->lock);
			return ESLAB_DOUBLE;
		}
		slab->next_free[idx] = (uint16_t)c->freelist;
		c->freelist = idx;
		c->free_fast++;
		pthread_spin_unlock(&c->lock);
		return 0;
	}
	c->free_slow++;
	pthread_spin_unlock(&c->lock);
	return slab_free_slow(s, slab, idx, addr, cpu);
}

static int count_invalid(struct machine *m, int ret)
{
	if (ret)
		__atomic_fetch_add(&m->slab->events[SLAB_FREE_INVALID], 1, __ATOMIC_RELAXED);
	return ret;
}

int kmem_cache_free(struct kmem_cache *s, unsigned long addr, int cpu)
{
	if (!valid_cpu(s, cpu))
		return -EINVAL;
	return count_invalid(s->machine, slab_free(virt_to_page(s->machine, addr), s, addr, cpu));
}

/* ---------------------------------------------------------------- kmalloc */

/* kmalloc_large_node(): page-allocator blocks for sizes above the largest cache. */
static unsigned long kmalloc_large_node(struct machine *m, size_t size, gfp_t gfp, int node,
					int cpu)
{
	unsigned int order = get_order(size);
	struct zone *zone;
	unsigned long pfn;

	if (size > KMALLOC_MAX_SIZE || order >= MAX_ORDER ||
	    __alloc_pages(m, &pfn, gfp | __GFP_COMP, order, cpu, node, 0, 0, NULL))
		return 0;
	zone = pfn_zone(m, pfn);
	set_page_flags(pfn_to_page(zone, pfn), PG_head | PG_kmalloc);
	node_stat_add(zone->zone_pgdat, NR_SLAB_UNRECLAIMABLE_B, (long)(PAGE_SIZE << order));
	return PAGE_OFFSET + (pfn << PAGE_SHIFT);
}

unsigned long kmalloc_node(struct machine *m, size_t size, gfp_t gfp, int node, int cpu)
{
	struct kmem_cache *s;
	unsigned long addr;

	if (cpu < 0 || cpu >= m->ncpus || node >= m->nr_nodes)
		return 0;
	gfp &= ~GFP_SLAB_BUG_MASK; /* kmalloc_fix_flags(): warned and dropped */
	if (!size)
		return ZERO_SIZE_PTR;
	if (size > KMALLOC_MAX_CACHE_SIZE) {
		addr = kmalloc_large_node(m, size, gfp, node, cpu);
		if (!addr)
			__atomic_fetch_add(&m->slab->events[SLAB_ALLOC_FAIL], 1, __ATOMIC_RELAXED);
		return addr;
	}
	s = kmalloc_slab(m, size, gfp);
	return kmem_cache_alloc_node(s, gfp, node, cpu);
}

unsigned long kmalloc(struct machine *m, size_t size, gfp_t gfp, int cpu)
{
	return kmalloc_node(m, size, gfp, -1, cpu);
}

unsigned long kzalloc(struct machine *m, size_t size, gfp_t gfp, int cpu)
{
	return kmalloc(m, size, gfp | __GFP_ZERO, cpu);
}

unsigned long kcalloc(struct machine *m, size_t n, size_t size, gfp_t gfp, int cpu)
{
	if (size && n > SIZE_MAX / size)
		return 0;
	return kmalloc(m, n * size, gfp | __GFP_ZERO, cpu);
}

/* free_large_kmalloc(): the head of a kmalloc_large() block goes back to the pages. */
static int free_large(struct machine *m, unsigned long addr, int cpu)
{
	unsigned long pfn = virt_to_pfn(m, addr);
	struct zone *zone = pfn == ~0ul ? NULL : pfn_zone(m, pfn);
	struct page *page;
	unsigned int order;

	if (!zone || (addr & (PAGE_SIZE - 1)))
		return ESLAB_NOTSLAB;
	page = pfn_to_page(zone, pfn);
	if ((page_flags(page) & (PG_head | PG_kmalloc)) != (PG_head | PG_kmalloc))
		return ESLAB_NOTSLAB;
	order = READ_ONCE(page->private);
	if (free_pages_kind(m, pfn, order, cpu, PG_kmalloc))
		return ESLAB_DOUBLE;
	node_stat_add(zone->zone_pgdat, NR_SLAB_UNRECLAIMABLE_B, -(long)(PAGE_SIZE << order));
	return 0;
}

int kfree(struct machine *m, unsigned long addr, int cpu)
{
	struct page *page;
	int ret;

	if (cpu < 0 || cpu >= m->ncpus)
		return -EINVAL;
	if (addr <= ZERO_SIZE_PTR)
		return 0;
	page = virt_to_page(m, addr);
	if (page && (page_flags(page) & PG_slab))
		ret = slab_free(page, NULL, addr, cpu);
	else
		ret = free_large(m, addr, cpu);
	return count_invalid(m, ret);
}

/* slab_ksize(): what an object may use (its size, or less with debugging metadata). */
static size_t slab_ksize(const struct kmem_cache *s)
{
	if (s->flags & (SLAB_RED_ZONE | SLAB_POISON))
		return s->object_size;
	if (s->flags & (SLAB_TYPESAFE_BY_RCU | SLAB_STORE_USER))
		return s->inuse;
	return s->size;
}

size_t ksize(struct machine *m, unsigned long addr)
{
	struct page *page = virt_to_page(m, addr);
	struct slab *slab;
	unsigned int idx;

	if (!page || addr <= ZERO_SIZE_PTR)
		return 0;
	if (!(page_flags(page) & PG_slab)) {
		uint32_t f = page_flags(page);

		if ((f & (PG_head | PG_kmalloc)) != (PG_head | PG_kmalloc) ||
		    (addr & (PAGE_SIZE - 1)))
			return 0;
		return PAGE_SIZE << READ_ONCE(page->private);
	}
	if (object_of(m, NULL, addr, &slab, &idx) ||
	    !__atomic_load_n(&slab->allocated[idx], __ATOMIC_RELAXED))
		return 0;
	return slab_ksize(slab->slab_cache);
}

unsigned long krealloc(struct machine *m, unsigned long p, size_t new_size, gfp_t gfp, int cpu)
{
	size_t ks;
	unsigned long ret;

	if (p <= ZERO_SIZE_PTR)
		return kmalloc(m, new_size, gfp, cpu);
	if (!new_size) {
		kfree(m, p, cpu);
		return ZERO_SIZE_PTR;
	}
	ks = ksize(m, p);
	if (!ks) {
		count_invalid(m, ESLAB_NOTSLAB);
		return 0;
	}
	if (ks >= new_size)
		return p;
	ret = kmalloc(m, new_size, gfp, cpu);
	if (ret)
		kfree(m, p, cpu);
	return ret;
}

/* ---------------------------------------------------------------- whole-cache operations */

/* flush_all(): every CPU's slab and partial list back to the nodes. */
static unsigned long flush_all(struct kmem_cache *s)
{
	unsigned long pages = 0;

	for (int cpu = 0; cpu < s->machine->ncpus; cpu++) {
		struct kmem_cache_cpu *c = &s->cpu_slab[cpu];
		struct slab *partial;
		struct discard d;
		bool discard = false;

		pthread_spin_lock(&c->lock);
		if (c->slab)
			discard = deactivate_slab(s, c, &d);
		partial = c->partial;
		c->partial = NULL;
		pthread_spin_unlock(&c->lock);
		if (discard) {
			discard_slab(s, d.pfn, d.order, d.nid, cpu);
			pages += 1ul << d.order;
		}
		pages += unfreeze_partials(s, partial, cpu);
	}
	return pages;
}

/* Release every empty slab on the node partial lists; returns the pages released. */
static unsigned long discard_empty(struct kmem_cache *s)
{
	unsigned long pages = 0;

	for (int nid = 0; nid < s->machine->nr_nodes; nid++) {
		struct kmem_cache_node *n = get_node(s, nid);
		struct discard d[64];
		int nr;

		do {
			struct slab *slab, *next;

			nr = 0;
			pthread_mutex_lock(&n->list_lock);
			for (slab = n->partial.head; slab && nr < 64; slab = next) {
				next = slab->next;
				if (slab->inuse)
					continue;
				remove_from_lists(n, slab);
				d[nr++] = retire_slab(n, slab);
			}
			pthread_mutex_unlock(&n->list_lock);
			for (int i = 0; i < nr; i++) {
				discard_slab(s, d[i].pfn, d[i].order, d[i].nid, 0);
				pages += 1ul << d[i].order;
			}
		} while (nr == 64);
	}
	return pages;
}

unsigned long kmem_cache_shrink(struct kmem_cache *s)
{
	unsigned long pages = flush_all(s);

	return pages + discard_empty(s);
}

int slub_shutdown(struct kmem_cache *s)
{
	kmem_cache_shrink(s);
	for (int nid = 0; nid < s->machine->nr_nodes; nid++)
		if (READ_ONCE(get_node(s, nid)->nr_slabs))
			return -EBUSY;
	return 0;
}

void get_slabinfo(struct kmem_cache *s, int nid, struct slabinfo *info)
{
	memset(info, 0, sizeof(*info));
	for (int i = 0; i < s->machine->nr_nodes; i++) {
		struct kmem_cache_node *n = get_node(s, i);
		unsigned long free = 0;

		if (nid >= 0 && i != nid)
			continue;
		pthread_mutex_lock(&n->list_lock);
		for (struct slab *slab = n->partial.head; slab; slab = slab->next)
			free += slab->objects - slab->inuse;
		info->num_slabs += n->nr_slabs;
		info->num_objs += n->total_objects;
		pthread_mutex_unlock(&n->list_lock);
		info->active_objs -= free;
	}
	info->active_objs += info->num_objs;
	info->active_slabs = info->num_slabs;
}

/* ---------------------------------------------------------------- validation */

struct validate_ctx {
	unsigned long errors; /* inconsistencies */
	char *first;	      /* first message */
	size_t len;	      /* its buffer */
};

static void report(struct validate_ctx *v, const struct kmem_cache *s, const struct slab *slab,
		   const char *what)
{
	if (!v->errors++ && v->first)
		snprintf(v->first, v->len, "%s: slab pfn %#lx: %s", s->name, slab->pfn, what);
}

static void validate_slab(struct validate_ctx *v, struct kmem_cache *s, struct slab *slab,
			  bool partial)
{
	struct page *page = virt_to_page(s->machine, slab_base(slab));
	unsigned int free = 0;
	uint32_t tail;
	long len = chain_len(slab, slab->freelist, &tail, slab->objects);

	if (len < 0) {
		report(v, s, slab, "freelist is corrupt (cycle or bad index)");
		return;
	}
	if (!page || page_slab(page) != slab)
		report(v, s, slab, "pages do not point at their slab");
	if (slab->frozen)
		report(v, s, slab, "frozen slab on a node list");
	if ((unsigned int)len + slab->inuse != slab->objects)
		report(v, s, slab, "inuse + free objects != objects");
	if (partial != (len > 0))
		report(v, s, slab,
		       partial ? "partial slab without free objects"
			       : "full slab with free objects");
	for (uint32_t i = slab->freelist; i != SLAB_NIL; i = slab->next_free[i])
		if (__atomic_load_n(&slab->allocated[i], __ATOMIC_RELAXED))
			report(v, s, slab, "object on the freelist is marked allocated");
	for (unsigned int i = 0; i < slab->objects; i++)
		free += !__atomic_load_n(&slab->allocated[i], __ATOMIC_RELAXED);
	if (free != (unsigned int)len)
		report(v, s, slab, "allocated marks disagree with the freelist");
}

static void validate_node(struct validate_ctx *v, struct kmem_cache *s, struct kmem_cache_node *n)
{
	unsigned long slabs = 0, objects = 0, partial = 0;

	pthread_mutex_lock(&n->list_lock);
	for (struct slab *slab = n->partial.head; slab; slab = slab->next, partial++) {
		validate_slab(v, s, slab, true);
		slabs++;
		objects += slab->objects;
	}
	for (struct slab *slab = n->full.head; slab; slab = slab->next) {
		validate_slab(v, s, slab, false);
		slabs++;
		objects += slab->objects;
	}
	if (partial != n->nr_partial && !v->errors++ && v->first)
		snprintf(v->first, v->len, "%s: nr_partial %lu but %lu partial slabs", s->name,
			 n->nr_partial, partial);
	if ((slabs != n->nr_slabs || objects != n->total_objects) && !v->errors++ && v->first)
		snprintf(v->first, v->len,
			 "%s: node counts %lu slabs %lu objects, lists hold %lu/%lu", s->name,
			 n->nr_slabs, n->total_objects, slabs, objects);
	pthread_mutex_unlock(&n->list_lock);
}

unsigned long kmem_cache_validate(struct kmem_cache *s, char *first_error, size_t len)
{
	struct validate_ctx v = {0, first_error, len};

	if (first_error && len)
		first_error[0] = '\0';
	flush_all(s);
	for (int nid = 0; nid < s->machine->nr_nodes; nid++)
		validate_node(&v, s, get_node(s, nid));
	return v.errors;
}

/* ---------------------------------------------------------------- cache setup */

/* init_cache_random_seq(): a fixed shuffle of object indexes per cache (deterministic). */
static void init_random_seq(struct kmem_cache *s)
{
	uint32_t seed = 2166136261u;

	for (const char *p = s->name; *p; p++)
		seed = (seed ^ (uint8_t)*p) * 16777619u;
	s->random_seq = malloc(sizeof(uint16_t) * s->oo_objects);
	if (!s->random_seq)
		abort();
	for (unsigned int i = 0; i < s->oo_objects; i++)
		s->random_seq[i] = (uint16_t)i;
	for (unsigned int i = s->oo_objects - 1; i > 0; i--) {
		unsigned int j = hash32(seed + i) % (i + 1);
		uint16_t t = s->random_seq[i];

		s->random_seq[i] = s->random_seq[j];
		s->random_seq[j] = t;
	}
}

void slub_cache_init(struct kmem_cache *s)
{
	struct machine *m = s->machine;

	s->cpu_slab = aligned_alloc(64, sizeof(*s->cpu_slab) * (size_t)m->ncpus);
	if (!s->cpu_slab)
		abort();
	memset(s->cpu_slab, 0, sizeof(*s->cpu_slab) * (size_t)m->ncpus);
	for (int cpu = 0; cpu < m->ncpus; cpu++) {
		pthread_spin_init(&s->cpu_slab[cpu].lock, PTHREAD_PROCESS_PRIVATE);
		s->cpu_slab[cpu].freelist = SLAB_NIL;
	}
	for (int nid = 0; nid < m->nr_nodes; nid++) {
		s->node[nid] = calloc(1, sizeof(struct kmem_cache_node));
		if (!s->node[nid])
			abort();
		pthread_mutex_init(&s->node[nid]->list_lock, NULL);
	}
	init_random_seq(s);
}

static void free_slab_list(struct slab *slab, bool by_next)
{
	while (slab) {
		struct slab *next = slab->next;

		(void)by_next;
		free(slab);
		slab = next;
	}
}

void slub_cache_release(struct kmem_cache *s)
{
	for (int cpu = 0; cpu < s->machine->ncpus; cpu++) {
		struct kmem_cache_cpu *c = &s->cpu_slab[cpu];

		free(c->slab);
		free_slab_list(c->partial, true);
		pthread_spin_destroy(&c->lock);
	}
	for (int nid = 0; nid < s->machine->nr_nodes; nid++) {
		struct kmem_cache_node *n = s->node[nid];

		free_slab_list(n->partial.head, true);
		free_slab_list(n->full.head, true);
		free_slab_list(n->spare, true);
		pthread_mutex_destroy(&n->list_lock);
		free(n);
	}
	free(s->cpu_slab);
	free(s->random_seq);
}
