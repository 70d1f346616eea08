// SPDX-License-Identifier: MIT
/*
 * alloc.c - the allocation request: gfp mask to zones, the zonelist walk with watermark and
 * lowmem_reserve checks, the slow path, kswapd wakeups; and freeing a block with the
 * checks SLUB-debug-like tools make (double free, wrong order, not the owner).
 *
 * Mirrors:    mm/page_alloc.c (Linux 6.1.y): gfp_zone, gfp_to_alloc_flags,
 *             __zone_watermark_unusable_free, __zone_watermark_ok, zone_watermark_fast,
 *             get_page_from_freelist, prep_new_page, __alloc_pages_slowpath,
 *             should_reclaim_retry, __alloc_pages_may_oom, __alloc_pages;
 *             mm/vmscan.c (wakeup_kswapd, pgdat_balanced)
 * Simplified: reclaim has no source (no page cache, no anon LRU): kswapd only clears
 *             watermark boosts, direct reclaim makes no progress, compaction is not
 *             modelled and there is no task to OOM-kill, so an allocation that the
 *             freelists cannot serve after the min-watermark retry fails with a reason
 * Differs:    failures return -ENOMEM with a trace of the zones tried instead of a
 *             warn_alloc() report; __GFP_NOFAIL fails instead of looping forever
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define MAX_RECLAIM_RETRIES 16

/* GFP_ZONE_TABLE of i386: index = DMA | HIGHMEM << 1 | DMA32 << 2 | MOVABLE << 3. */
static const signed char gfp_zone_table[16] = {
	[0x0] = ZONE_NORMAL, [0x1] = ZONE_DMA, [0x2] = ZONE_HIGHMEM, [0x3] = -1,
	[0x4] = ZONE_NORMAL, [0x5] = -1,       [0x6] = -1,	     [0x7] = -1,
	[0x8] = ZONE_NORMAL, [0x9] = ZONE_DMA, [0xa] = ZONE_MOVABLE, [0xb] = -1,
	[0xc] = ZONE_NORMAL, [0xd] = -1,       [0xe] = -1,	     [0xf] = -1,
};

bool gfp_valid_zone_bits(gfp_t flags)
{
	return gfp_zone_table[flags & GFP_ZONEMASK] >= 0;
}

int gfp_zone(gfp_t flags)
{
	int z = gfp_zone_table[flags & GFP_ZONEMASK];

	return z >= 0 ? z : -EINVAL;
}

int gfp_migratetype(gfp_t flags)
{
	return (int)((flags & GFP_MOVABLE_MASK) >> 3);
}

unsigned int gfp_to_alloc_flags(gfp_t gfp, unsigned int order)
{
	unsigned int f = ALLOC_WMARK_MIN | ALLOC_CPUSET;

	if (gfp & __GFP_HIGH)
		f |= ALLOC_MIN_RESERVE;
	if (gfp & __GFP_KSWAPD_RECLAIM)
		f |= ALLOC_KSWAPD;
	if (!(gfp & __GFP_DIRECT_RECLAIM)) {
		if (!(gfp & __GFP_NOMEMALLOC)) {
			f |= ALLOC_NON_BLOCK;
			if (order > 0)
				f |= ALLOC_HIGHATOMIC;
		}
		if (f & ALLOC_MIN_RESERVE)
			f &= ~ALLOC_CPUSET;
	}
	return f;
}

struct alloc_context {
	struct machine *m;		/* the machine */
	const struct zoneref *zonerefs; /* zonelist of the preferred node */
	nodemask_t nodemask;		/* allowed nodes (0 = all) */
	struct zone *preferred_zone;	/* first usable zone of the zonelist */
	int highest_zoneidx;		/* gfp_zone() */
	int migratetype;		/* gfp_migratetype() */
	int cpu;			/* requesting CPU */
	uint32_t owner;			/* identity the block will belong to */
	struct alloc_trace *trace;	/* where to explain, may be NULL */
};

#define for_each_zoneref(ac, zr) for (const struct zoneref *zr = (ac)->zonerefs; zr->nid >= 0; zr++)

static struct zone *zoneref_zone(const struct machine *m, const struct zoneref *zr)
{
	return &m->node_data[zr->nid]->node_zones[zr->zone_idx];
}

static bool zoneref_allowed(const struct alloc_context *ac, const struct zoneref *zr)
{
	return zr->zone_idx <= ac->highest_zoneidx &&
	       (!ac->nodemask || (ac->nodemask & (1ull << zr->nid)));
}

static long zone_watermark_unusable_free(const struct zone *z, unsigned int order,
					 unsigned int alloc_flags)
{
	long unusable = (1l << order) - 1;

	if (!(alloc_flags & ALLOC_RESERVES))
		unusable += (long)READ_ONCE(z->nr_reserved_highatomic);
	return unusable;
}

/* The watermark after the reserve reductions @alloc_flags grant. */
static long reduced_mark(long min, unsigned int alloc_flags)
{
	if (alloc_flags & ALLOC_RESERVES) {
		if (alloc_flags & ALLOC_MIN_RESERVE) {
			min -= min / 2;
			if (alloc_flags & ALLOC_NON_BLOCK)
				min -= min / 4;
		}
		if (alloc_flags & ALLOC_OOM)
			min -= min / 2;
	}
	return min;
}

static bool free_block_of_order(const struct zone *z, unsigned int order, unsigned int alloc_flags)
{
	for (unsigned int o = order; o < MAX_ORDER; o++) {
		const struct free_area *area = &z->free_area[o];

		if (!READ_ONCE(area->nr_free))
			continue;
		for (int mt = 0; mt < MIGRATE_PCPTYPES; mt++)
			if (READ_ONCE(area->free_list[mt].first) != PFN_NIL)
				return true;
		if ((alloc_flags & (ALLOC_HIGHATOMIC | ALLOC_OOM)) &&
		    READ_ONCE(area->free_list[MIGRATE_HIGHATOMIC].first) != PFN_NIL)
			return true;
	}
	return false;
}

/* __zone_watermark_ok() with the reason for a refusal in *@why. */
static bool zone_watermark_check(const struct zone *z, unsigned int order, long mark, int hz,
				 unsigned int alloc_flags, long free, enum zone_refusal *why)
{
	long min = reduced_mark(mark, alloc_flags);

	free -= zone_watermark_unusable_free(z, order, alloc_flags);
	if (free <= min + READ_ONCE(z->lowmem_reserve[hz])) {
		*why = free <= min ? REFUSE_WATERMARK : REFUSE_LOWMEM_RESERVE;
		return false;
	}
	if (!order || free_block_of_order(z, order, alloc_flags))
		return true;
	*why = REFUSE_FRAGMENTED;
	return false;
}

bool zone_watermark_ok(const struct zone *z, unsigned int order, unsigned long mark, int hz,
		       unsigned int alloc_flags)
{
	enum zone_refusal why;

	return zone_watermark_check(z, order, (long)mark, hz, alloc_flags,
				    (long)zone_page_state(z, NR_FREE_PAGES), &why);
}

static bool zone_watermark_fast(const struct zone *z, unsigned int order, long mark, int hz,
				unsigned int alloc_flags, enum zone_refusal *why)
{
	long free = (long)zone_page_state(z, NR_FREE_PAGES);

	if (!order) {
		long usable = free, reserved = zone_watermark_unusable_free(z, 0, alloc_flags);

		usable -= usable < reserved ? usable : reserved;
		if (usable > mark + READ_ONCE(z->lowmem_reserve[hz]))
			return true;
	}
	if (zone_watermark_check(z, order, mark, hz, alloc_flags, free, why))
		return true;
	if (!order && (alloc_flags & ALLOC_MIN_RESERVE) && READ_ONCE(z->watermark_boost) &&
	    (alloc_flags & ALLOC_WMARK_MASK) == ALLOC_WMARK_MIN)
		return zone_watermark_check(z, order, (long)READ_ONCE(z->_watermark[WMARK_MIN]), hz,
					    alloc_flags, free, why);
	return false;
}

static void trace_zone(struct alloc_context *ac, const struct zone *z,
		       const struct zone_refusal_info *info)
{
	struct alloc_trace *t = ac->trace;

	if (!t || t->nr >= ALLOC_TRACE_MAX)
		return;
	t->z[t->nr].nid = z->zone_pgdat->node_id;
	t->z[t->nr].zone_idx = (int)z->idx;
	t->z[t->nr].why = info->why;
	t->z[t->nr].free = info->free;
	t->z[t->nr].mark = info->mark;
	t->z[t->nr].reserve = info->reserve;
	t->nr++;
}

static void refusal(struct zone_refusal_info *info, const struct zone *z, enum zone_refusal why,
		    long mark, int hz, unsigned int alloc_flags)
{
	info->why = why;
	info->free = (long)zone_page_state(z, NR_FREE_PAGES);
	info->mark = why == REFUSE_POLICY || why == REFUSE_NODE_DOWN
			     ? 0
			     : reduced_mark(mark, alloc_flags);
	info->reserve = READ_ONCE(z->lowmem_reserve[hz]);
}

static void prep_new_page(struct zone *zone, unsigned long pfn, unsigned int order, int mt,
			  uint32_t owner)
{
	struct page *page = pfn_to_page(zone, pfn);

	WRITE_ONCE(page->private, order);
	WRITE_ONCE(page->index, (uint32_t)mt);
	WRITE_ONCE(page->owner, owner);
	set_page_flags(page, PG_head);
	__atomic_store_n(&page->_refcount, 1, __ATOMIC_RELEASE); /* publishes the above */
}

/* The body of zone_try_alloc(), inlined into the in-process zonelist walk. */
static inline __attribute__((always_inline)) int __zone_try_alloc(struct zone *zone,
								  unsigned long *pfn,
								  const struct zone_request *rq,
								  struct zone_refusal_info *info)
{
	long mark = (long)wmark_pages(zone, rq->alloc_flags & ALLOC_WMARK_MASK);
	enum zone_refusal why = REFUSE_NONE;

	if (!node_is_local(zone->zone_pgdat) || !managed_zone(zone)) {
		refusal(info, zone, REFUSE_NODE_DOWN, 0, rq->highest_zoneidx, 0);
		return -ENOMEM;
	}
	if (!zone_watermark_fast(zone, rq->order, mark, rq->highest_zoneidx, rq->alloc_flags,
				 &why) &&
	    !(rq->alloc_flags & ALLOC_NO_WATERMARKS)) {
		refusal(info, zone, why, mark, rq->highest_zoneidx, rq->alloc_flags);
		return -ENOMEM;
	}
	if (!rmqueue(rq->preferred_nid, zone, rq->order, rq->alloc_flags, rq->migratetype, rq->cpu,
		     pfn)) {
		refusal(info, zone, REFUSE_EMPTY, mark, rq->highest_zoneidx, rq->alloc_flags);
		return -ENOMEM;
	}
	prep_new_page(zone, *pfn, rq->order, rq->migratetype, rq->owner);
	if (rq->alloc_flags & ALLOC_HIGHATOMIC)
		reserve_highatomic_pageblock(zone, *pfn);
	return 0;
}

int zone_try_alloc(struct zone *zone, unsigned long *pfn, const struct zone_request *rq,
		   struct zone_refusal_info *info)
{
	return __zone_try_alloc(zone, pfn, rq, info);
}

void count_numa_foreign(struct zone *zone)
{
	__atomic_fetch_add(&zone->buddy_numa[NUMA_FOREIGN], 1, __ATOMIC_RELAXED);
}

static bool get_page_from_freelist(struct alloc_context *ac, unsigned int order,
				   unsigned int alloc_flags, unsigned long *pfn)
{
	struct zone_request rq = {order,
				  0,
				  alloc_flags,
				  ac->highest_zoneidx,
				  ac->migratetype,
				  ac->cpu,
				  ac->preferred_zone->zone_pgdat->node_id,
				  ac->owner};

	if (ac->trace)
		ac->trace->nr = 0;
	for_each_zoneref(ac, zr)
	{
		struct zone *zone = zoneref_zone(ac->m, zr);
		struct zone_refusal_info info;

		if (zr->zone_idx > ac->highest_zoneidx)
			continue;
		if (!zoneref_allowed(ac, zr)) {
			refusal(&info, zone, REFUSE_POLICY, 0, ac->highest_zoneidx, 0);
			trace_zone(ac, zone, &info);
			continue;
		}
		if (__zone_try_alloc(zone, pfn, &rq, &info)) {
			trace_zone(ac, zone, &info);
			continue;
		}
		if (zone->zone_pgdat->node_id != rq.preferred_nid)
			count_numa_foreign(ac->preferred_zone);
		return true;
	}
	return false;
}

/* pgdat_balanced(): some eligible zone meets its high watermark for @order. */
static bool pgdat_balanced(const pg_data_t *pgdat, unsigned int order, int hz)
{
	bool any = false;

	for (int i = 0; i <= hz; i++) {
		const struct zone *zone = &pgdat->node_zones[i];

		if (!managed_zone(zone))
			continue;
		any = true;
		if (zone_watermark_ok(zone, order, wmark_pages(zone, WMARK_HIGH), hz, 0))
			return true;
	}
	return !any;
}

static bool pgdat_watermark_boosted(const pg_data_t *pgdat, int hz)
{
	for (int i = 0; i <= hz; i++)
		if (READ_ONCE(pgdat->node_zones[i].watermark_boost))
			return true;
	return false;
}

/* A kswapd pass with nothing to reclaim: it clears the boosts it was woken for. */
static void kswapd_run(pg_data_t *pgdat, int hz)
{
	struct machine *m = pgdat->machine;

	__atomic_fetch_add(&pgdat->kswapd_runs, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&m->vm_events[PAGEOUTRUN], 1, __ATOMIC_RELAXED);
	for (int i = 0; i <= hz; i++) {
		struct zone *zone = &pgdat->node_zones[i];

		if (!READ_ONCE(zone->watermark_boost))
			continue;
		pthread_mutex_lock(&zone->lock);
		WRITE_ONCE(zone->watermark_boost, 0ul);
		pthread_mutex_unlock(&zone->lock);
	}
	WRITE_ONCE(pgdat->kswapd_order, 0);
}

void wakeup_kswapd(struct zone *zone, gfp_t gfp, unsigned int order, int hz)
{
	pg_data_t *pgdat = zone->zone_pgdat;

	(void)gfp;
	if (!managed_zone(zone) || !node_is_local(pgdat))
		return;
	if (READ_ONCE(pgdat->kswapd_highest_zoneidx) < hz)
		WRITE_ONCE(pgdat->kswapd_highest_zoneidx, hz);
	if (READ_ONCE(pgdat->kswapd_order) < (int)order)
		WRITE_ONCE(pgdat->kswapd_order, (int)order);
	if (pgdat_balanced(pgdat, order, hz) && !pgdat_watermark_boosted(pgdat, hz))
		return;
	__atomic_fetch_add(&zone->kswapd_wakeups, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&pgdat->machine->vm_events[KSWAPD_WAKEUP], 1, __ATOMIC_RELAXED);
	kswapd_run(pgdat, hz);
}

static void wake_all_kswapds(struct alloc_context *ac, gfp_t gfp, unsigned int order)
{
	int last_nid = -1;

	for_each_zoneref(ac, zr)
	{
		if (!zoneref_allowed(ac, zr) || zr->nid == last_nid)
			continue;
		last_nid = zr->nid;
		wakeup_kswapd(zoneref_zone(ac->m, zr), gfp, order, ac->highest_zoneidx);
	}
	if (ac->trace)
		ac->trace->kswapd_woken = true;
}

/* should_reclaim_retry() with no reclaim progress: some zone would pass at min? */
static bool should_reclaim_retry(struct alloc_context *ac, unsigned int order,
				 unsigned int alloc_flags, int *no_progress_loops)
{
	if (++*no_progress_loops > MAX_RECLAIM_RETRIES)
		goto unreserve;
	for_each_zoneref(ac, zr)
	{
		struct zone *zone = zoneref_zone(ac->m, zr);

		if (!zoneref_allowed(ac, zr) || !node_is_local(zone->zone_pgdat))
			continue;
		if (zone_watermark_ok(zone, order, wmark_pages(zone, WMARK_MIN),
				      ac->highest_zoneidx, alloc_flags))
			return true;
	}
unreserve:
	for_each_zoneref(ac, zr)
	{
		struct zone *zone = zoneref_zone(ac->m, zr);

		if (zoneref_allowed(ac, zr) && node_is_local(zone->zone_pgdat) &&
		    unreserve_highatomic_pageblock(zone, ac->migratetype, true))
			return true;
	}
	return false;
}

static void unreserve_and_drain(struct alloc_context *ac)
{
	for_each_zoneref(ac, zr)
	{
		struct zone *zone = zoneref_zone(ac->m, zr);

		if (zoneref_allowed(ac, zr) && node_is_local(zone->zone_pgdat) &&
		    unreserve_highatomic_pageblock(zone, ac->migratetype, false))
			break; /* one pageblock, in the first zone that had one */
	}
	drain_all_pages(ac->m);
}

static void explain_failure(struct alloc_context *ac, gfp_t gfp, unsigned int order)
{
	struct alloc_trace *t = ac->trace;
	const char *what = "every allowed zone is at or below its watermark";

	if (!t)
		return;
	for (int i = 0; i < t->nr; i++)
		if (t->z[i].why == REFUSE_FRAGMENTED)
			what = "free memory is too fragmented for this order (no compaction)";
	snprintf(t->reason, sizeof(t->reason), "order:%u, mode:%#x: %s%s", order, gfp, what,
		 gfpflags_allow_blocking(gfp) ? "; reclaim has no source in the model"
					      : "; the request may not block, so no reclaim");
}

static bool __alloc_pages_slowpath(struct alloc_context *ac, gfp_t gfp, unsigned int order,
				   unsigned long *pfn)
{
	unsigned int alloc_flags = gfp_to_alloc_flags(gfp, order);
	bool costly = order > PAGE_ALLOC_COSTLY_ORDER, drained = false;
	int no_progress_loops = 0;

	if (ac->trace)
		ac->trace->slowpath = true;
	if (alloc_flags & ALLOC_KSWAPD)
		wake_all_kswapds(ac, gfp, order);
	if (get_page_from_freelist(ac, order, alloc_flags, pfn))
		return true;
retry:
	if (alloc_flags & ALLOC_KSWAPD)
		wake_all_kswapds(ac, gfp, order);
	if ((gfp & __GFP_MEMALLOC) && !(gfp & __GFP_NOMEMALLOC))
		alloc_flags = ALLOC_NO_WATERMARKS | (alloc_flags & ALLOC_KSWAPD);
	if (get_page_from_freelist(ac, order, alloc_flags, pfn))
		return true;
	if (!gfpflags_allow_blocking(gfp))
		goto nopage;
	/* direct reclaim: nothing reclaimable; then unreserve + drain and retry once */
	if (ac->trace)
		ac->trace->direct_reclaim = true;
	__atomic_fetch_add(&ac->preferred_zone->zone_pgdat->node_zones[ac->highest_zoneidx]
				    .buddy_events[ALLOCSTALL],
			   1, __ATOMIC_RELAXED);
	if (!drained) {
		drained = true;
		unreserve_and_drain(ac);
		if (get_page_from_freelist(ac, order, alloc_flags, pfn))
			return true;
	}
	if (gfp & __GFP_NORETRY)
		goto nopage;
	if (costly && !(gfp & __GFP_RETRY_MAYFAIL))
		goto nopage;
	if (should_reclaim_retry(ac, order, alloc_flags, &no_progress_loops))
		goto retry;
	/* __alloc_pages_may_oom(): last try at the high watermark; no task to kill */
	if (get_page_from_freelist(ac, order, ALLOC_WMARK_HIGH | ALLOC_CPUSET, pfn))
		return true;
	if ((gfp & __GFP_NOFAIL) &&
	    get_page_from_freelist(ac, order, ALLOC_MIN_RESERVE | ALLOC_WMARK_MIN, pfn))
		return true;
nopage:
	explain_failure(ac, gfp, order);
	return false;
}

static int check_request(const struct machine *m, gfp_t gfp, unsigned int order, int cpu, int nid,
			 struct alloc_trace *trace)
{
	const char *bad = NULL;

	if (order >= MAX_ORDER)
		bad = "order must be below MAX_ORDER (11)";
	else if (cpu < 0 || cpu >= m->ncpus)
		bad = "no such cpu";
	else if (nid < 0 || nid >= m->nr_nodes)
		bad = "no such node";
	else if (gfp & ~__GFP_BITS_MASK)
		bad = "unknown gfp bits";
	else if (!gfp_valid_zone_bits(gfp))
		bad = "the gfp zone modifiers name no zone";
	else if ((gfp & GFP_MOVABLE_MASK) == GFP_MOVABLE_MASK)
		bad = "__GFP_MOVABLE and __GFP_RECLAIMABLE together";
	if (!bad)
		return 0;
	if (trace)
		snprintf(trace->reason, sizeof(trace->reason), "%s", bad);
	return -EINVAL;
}

int __alloc_pages(struct machine *m, unsigned long *pfn, gfp_t gfp, unsigned int order, int cpu,
		  int preferred_nid, nodemask_t nodemask, uint32_t owner, struct alloc_trace *trace)
{
	struct alloc_context ac = {
		.m = m, .nodemask = nodemask, .cpu = cpu, .owner = owner, .trace = trace};
	int nid = preferred_nid < 0 && cpu >= 0 && cpu < m->ncpus ? m->cpu_to_node[cpu]
								  : preferred_nid;
	int ret;

	if (trace)
		memset(trace, 0, sizeof(*trace));
	ret = check_request(m, gfp, order, cpu, nid, trace);
	if (ret)
		return ret;
	ac.highest_zoneidx = gfp_zone(gfp);
	ac.migratetype =
		m->page_group_by_mobility_disabled ? MIGRATE_UNMOVABLE : gfp_migratetype(gfp);
	ac.zonerefs = m->node_data[nid]
			      ->node_zonelists[(gfp & __GFP_THISNODE) ? ZONELIST_NOFALLBACK
								      : ZONELIST_FALLBACK]
			      ._zonerefs;
	for_each_zoneref(&ac, zr) if (zoneref_allowed(&ac, zr))
	{
		ac.preferred_zone = zoneref_zone(m, zr);
		break;
	}
	if (!ac.preferred_zone) {
		if (trace)
			snprintf(trace->reason, sizeof(trace->reason),
				 "no zone the policy allows can serve %s from node %d",
				 zone_names[ac.highest_zoneidx], nid);
		goto fail;
	}
	if (get_page_from_freelist(
		    &ac, order, ALLOC_WMARK_LOW | ((gfp & __GFP_KSWAPD_RECLAIM) ? ALLOC_KSWAPD : 0),
		    pfn))
		return 0;
	if (__alloc_pages_slowpath(&ac, gfp, order, pfn))
		return 0;
fail:
	count_vm_event(m, PGALLOC_FAIL);
	return -ENOMEM;
}

/* pfn_valid() for the model: the pfn is RAM of the memory map (holes are not). */
static bool pfn_is_ram(const struct machine *m, unsigned long pfn)
{
	int lo = 0, hi = m->layout.nr_ram;

	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (pfn < m->layout.ram[mid].start)
			hi = mid;
		else if (pfn >= m->layout.ram[mid].end)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

/* The zone whose span holds @pfn on a local node (holes included), or NULL. */
struct zone *pfn_zone_span(struct machine *m, unsigned long pfn)
{
	for_each_node(m, nid)
	{
		pg_data_t *pgdat = m->node_data[nid];

		if (!node_is_local(pgdat) || pfn < pgdat->node_start_pfn ||
		    pfn >= pgdat->node_start_pfn + pgdat->node_spanned_pages)
			continue;
		for_each_zone_of(pgdat, zone) if (populated_zone(zone) &&
						  pfn >= zone->zone_start_pfn &&
						  pfn < zone_end_pfn(zone)) return zone;
	}
	return NULL;
}

struct zone *pfn_zone(struct machine *m, unsigned long pfn)
{
	return pfn_is_ram(m, pfn) ? pfn_zone_span(m, pfn) : NULL;
}

/* The checks a free must pass, against the block's head: 0 or an EBADPAGE_* code. */
static int check_block(const struct page *page, unsigned int order, uint32_t owner, uint32_t kind)
{
	uint32_t flags = page_flags(page);

	if (!(flags & PG_head))
		return EBADPAGE_NOTALLOC;
	if ((flags & (PG_slab | PG_kmalloc)) != kind)
		return kind ? EBADPAGE_NOTALLOC : EBADPAGE_SLAB;
	if (READ_ONCE(page->private) != order)
		return EBADPAGE_ORDER;
	if (owner != OWNER_ANY && READ_ONCE(page->owner) != owner)
		return EBADPAGE_OWNER;
	return 0;
}

/*
 * Check, claim (refcount 1 -> 0: of two racing frees exactly one proceeds), check again (the
 * block may have been freed and reallocated in between; then the claim is undone). A free
 * that fails the checks never touches the refcount, so it cannot make the owner's free fail.
 */
static int claim_block(struct machine *m, unsigned long pfn, unsigned int order, uint32_t owner,
		       uint32_t kind, struct zone **zonep)
{
	struct zone *zone = pfn_zone_span(m, pfn);
	struct page *page;
	int32_t one = 1;
	int ret;

	if (!zone)
		return EBADPAGE_NOTPRESENT;
	page = pfn_to_page(zone, pfn);
	if (__atomic_load_n(&page->_refcount, __ATOMIC_ACQUIRE) != 1)
		return pfn_is_ram(m, pfn) ? EBADPAGE_NOTALLOC : EBADPAGE_NOTPRESENT;
	ret = check_block(page, order, owner, kind);
	if (ret)
		return ret;
	if (!__atomic_compare_exchange_n(&page->_refcount, &one, 0, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_RELAXED))
		return EBADPAGE_NOTALLOC;
	ret = check_block(page, order, owner, kind);
	if (ret) {
		__atomic_store_n(&page->_refcount, 1, __ATOMIC_RELEASE);
		return ret;
	}
	set_page_flags(page, 0);
	WRITE_ONCE(page->owner, 0);
	*zonep = zone;
	return 0;
}

static int free_checked(struct machine *m, unsigned long pfn, unsigned int order, int cpu,
			uint32_t owner, uint32_t kind)
{
	struct zone *zone = NULL;
	int ret;

	if (cpu < 0 || cpu >= m->ncpus || order >= MAX_ORDER)
		return -EINVAL;
	ret = claim_block(m, pfn, order, owner, kind, &zone);
	if (ret) {
		count_vm_event(m, PGFREE_BAD);
		return ret;
	}
	__free_pages(zone, pfn, order, cpu);
	return 0;
}

/*
 * Take the free buddy block that contains [@pfn, @pfn + 2^@order) off the lists, giving the
 * rest back split around it (expand() in reverse). Caller holds zone->lock.
 */
static bool __claim_free_range(struct zone *zone, unsigned long pfn, unsigned int order)
{
	for (unsigned int o = order; o < MAX_ORDER; o++) {
		unsigned long head = pfn & ~((1ul << o) - 1);
		struct page *page;
		int mt;

		if (head < zone->zone_start_pfn)
			return false;
		page = pfn_to_page(zone, head);
		if (!(page_flags(page) & PG_buddy) || page->private != o)
			continue;
		mt = (int)page->index;
		del_page_from_free_list(zone, head, o);
		while (o > order) {
			o--;
			if (pfn & (1ul << o)) {
				add_to_free_list(zone, head, o, mt, false);
				head += 1ul << o;
			} else {
				add_to_free_list(zone, head + (1ul << o), o, mt, false);
			}
		}
		mod_zone_free(zone, -(1l << order));
		return true;
	}
	return false;
}

int claim_free_block(struct machine *m, unsigned long pfn, unsigned int order, int mt,
		     uint32_t owner)
{
	struct zone *zone = pfn_zone(m, pfn);
	bool ok;

	if (!zone || order >= MAX_ORDER || (pfn & ((1ul << order) - 1)))
		return -EINVAL;
	pthread_mutex_lock(&zone->lock);
	ok = __claim_free_range(zone, pfn, order);
	pthread_mutex_unlock(&zone->lock);
	if (!ok)
		return -EBUSY;
	prep_new_page(zone, pfn, order, mt, owner);
	return 0;
}

/* realloc, aborting when the host is out of memory (never a simulated condition). */
static void *xrealloc_array(void *p, size_t n, size_t size)
{
	p = realloc(p, n * size);
	if (!p)
		abort();
	return p;
}

/* Append the page blocks of @zone to the arrays (zone->lock held). */
static void __zone_blocks_collect(struct zone *zone, unsigned long **pfns, unsigned int **orders,
				  size_t *n, size_t *cap)
{
	unsigned long end = zone->zone_start_pfn + zone->spanned_pages;

	for (unsigned long pfn = zone->zone_start_pfn; pfn < end; pfn++) {
		const struct page *page = pfn_to_page(zone, pfn);
		unsigned int order;

		if ((page_flags(page) & (PG_head | PG_slab | PG_kmalloc)) != PG_head)
			continue;
		order = page->private;
		if (*n == *cap) {
			*cap = *cap ? *cap * 2 : 64;
			*pfns = xrealloc_array(*pfns, *cap, sizeof(**pfns));
			*orders = xrealloc_array(*orders, *cap, sizeof(**orders));
		}
		(*pfns)[*n] = pfn;
		(*orders)[(*n)++] = order;
		pfn += (1ul << order) - 1;
	}
}

size_t page_blocks_collect(struct machine *m, int nid, unsigned long **pfns, unsigned int **orders)
{
	pg_data_t *pgdat = m->node_data[nid];
	size_t n = 0, cap = 0;

	*pfns = NULL;
	*orders = NULL;
	for (int z = 0; pgdat && z < MAX_NR_ZONES; z++) {
		struct zone *zone = &pgdat->node_zones[z];

		if (!zone->spanned_pages)
			continue;
		pthread_mutex_lock(&zone->lock);
		__zone_blocks_collect(zone, pfns, orders, &n, &cap);
		pthread_mutex_unlock(&zone->lock);
	}
	return n;
}

int free_pages(struct machine *m, unsigned long pfn, unsigned int order, int cpu, uint32_t owner)
{
	return free_checked(m, pfn, order, cpu, owner, 0);
}

int free_pages_kind(struct machine *m, unsigned long pfn, unsigned int order, int cpu,
		    uint32_t kind)
{
	return free_checked(m, pfn, order, cpu, OWNER_ANY, kind);
}
