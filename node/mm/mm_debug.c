// SPDX-License-Identifier: MIT
/*
 * mm_debug.c - check a zone's buddy lists, pagesets and counters against each other and
 * against the memory map; print its free lists.
 *
 * Mirrors:    the CONFIG_DEBUG_VM assertions of mm/page_alloc.c (Linux 6.1.y) and the
 *             free-count table of /proc/pagetypeinfo (mm/vmstat.c)
 * Simplified: no page poisoning, no page owner
 * Differs:    the kernel checks pages one at a time on the hot paths; zone_verify() checks a
 *             whole zone in one pass, on demand, so tests can call it after every step
 *
 * What zone_verify() proves, for one zone (in this order; the first failure is reported):
 *   1. _watermark[MIN] <= _watermark[LOW] <= _watermark[HIGH]
 *   2. each free list is well linked (prev/next agree, last is the tail, no cycle), and each
 *      block on free_area[o].free_list[t] has PG_buddy, private == o, index == t, starts at
 *      a pfn aligned to 1 << o and lies inside the zone span
 *   3. nr_free[o] == sum over t of the length of free_list[o][t]
 *   4. merging is complete: no free block of order o < pageblock_order has its buddy
 *      (pfn ^ (1 << o)) free with the same order in the same zone. From pageblock_order up
 *      the pair may legally stay apart: __free_one_page() does not merge a HighAtomic (or
 *      Isolate) pageblock with a block of another type, and when such a pageblock is given
 *      back (unreserve_highatomic_pageblock()) its free block only changes lists, as in the
 *      kernel; after that nothing in the zone tells the two cases apart
 *   5. NR_FREE_PAGES == sum over o and t != MIGRATE_ISOLATE of len(free_list[o][t]) << o
 *   6. per CPU: each page on a pcp list has PG_pcp, private == the list's order, a cached
 *      migratetype the list may hold, is aligned and inside the zone; and
 *      pcp->count == sum over lists of len << order
 *   7. the memory map agrees: no block head lies inside another block; the PG_buddy heads
 *      are exactly the blocks on the free lists; the PG_pcp pages are exactly the pages on
 *      the pcp lists; PG_reserved pages + managed == present
 *   8. free (all types) + pcp + allocated == managed, where allocated counts 1 << private
 *      pages for every PG_head block head of the memory map (slab and kmalloc blocks
 *      included: their heads carry PG_head too; PG_slab / PG_kmalloc may only appear
 *      inside such blocks)
 *
 * Lock order: every per_cpu_pages.lock of the zone in CPU order, then zone->lock. Nothing
 * else in the model holds two pageset locks or takes a pageset lock under zone->lock, so
 * taking them all in ascending order cannot deadlock against an allocating CPU.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "mm_debug.h"

/* Flags that start a block (or a reserved page), and flags only allocated pages carry. */
#define PG_ANY_HEAD (PG_buddy | PG_pcp | PG_head | PG_reserved)
#define PG_ALLOC_ONLY (PG_slab | PG_kmalloc) /* only ever on allocated pages */

struct verify {
	struct zone *zone;	   /* the zone under check */
	const pg_data_t *pgdat;	   /* its node */
	const struct machine *m;   /* its machine */
	unsigned long start, end;  /* zone span [start, end) */
	char *err;		   /* message buffer (MM_ERRLEN) or NULL */
	unsigned long list_blocks; /* blocks on all free lists */
	unsigned long list_pages;  /* pages on all free lists, all types */
	unsigned long pcp_pages;   /* pages on all pcp lists */
};

static int verify_fail(struct verify *v, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int verify_fail(struct verify *v, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!v->err)
		return -EUCLEAN;
	n = snprintf(v->err, MM_ERRLEN, "node %d, zone %s: ", v->pgdat->node_id, v->zone->name);
	if (n < 0 || n >= MM_ERRLEN)
		return -EUCLEAN;
	va_start(ap, fmt);
	vsnprintf(v->err + n, MM_ERRLEN - (size_t)n, fmt, ap);
	va_end(ap);
	return -EUCLEAN;
}

static void zone_lock_all(struct zone *zone)
{
	if (zone->per_cpu_pageset)
		for (int cpu = 0; cpu < zone->zone_pgdat->machine->ncpus; cpu++)
			pthread_spin_lock(&zone->per_cpu_pageset[cpu].lock);
	pthread_mutex_lock(&zone->lock);
}

static void zone_unlock_all(struct zone *zone)
{
	pthread_mutex_unlock(&zone->lock);
	if (zone->per_cpu_pageset)
		for (int cpu = zone->zone_pgdat->machine->ncpus - 1; cpu >= 0; cpu--)
			pthread_spin_unlock(&zone->per_cpu_pageset[cpu].lock);
}

static bool block_inside(const struct verify *v, unsigned long pfn, unsigned int order)
{
	return pfn >= v->start && pfn + (1ul << order) <= v->end;
}

static int check_watermarks(struct verify *v)
{
	const unsigned long *w = v->zone->_watermark;

	if (w[WMARK_MIN] <= w[WMARK_LOW] && w[WMARK_LOW] <= w[WMARK_HIGH])
		return 0;
	return verify_fail(v, "watermarks out of order: min %lu low %lu high %lu", w[WMARK_MIN],
			   w[WMARK_LOW], w[WMARK_HIGH]);
}

/*
 * Walk @l checking the links; call @check on each entry. *@len receives the entry count.
 * The walk gives up after more entries than the zone spans (a cycle).
 */
static int walk_list(struct verify *v, const struct page_list *l, const char *what,
		     int (*check)(struct verify *v, unsigned long pfn, const void *arg),
		     const void *arg, unsigned long *len)
{
	uint32_t prev = PFN_NIL;

	*len = 0;
	for (uint32_t i = l->first; i != PFN_NIL; i = idx_page(v->pgdat, i)->next) {
		unsigned long pfn = v->pgdat->node_start_pfn + i;
		int ret;

		if (pfn < v->start || pfn >= v->end)
			return verify_fail(v, "%s links to pfn %lu outside the zone", what, pfn);
		if (idx_page(v->pgdat, i)->prev != prev)
			return verify_fail(v, "%s: pfn %lu has a wrong prev link", what, pfn);
		if (++*len > v->end - v->start)
			return verify_fail(v, "%s has a cycle", what);
		ret = check(v, pfn, arg);
		if (ret)
			return ret;
		prev = i;
	}
	if (l->last != prev)
		return verify_fail(v, "%s: last is not the tail", what);
	return 0;
}

struct list_id {
	unsigned int order; /* the list's order */
	int mt;		    /* free list: its migratetype; pcp list: its pindex */
};

static int check_free_block(struct verify *v, unsigned long pfn, const void *arg)
{
	const struct list_id *id = arg;
	const struct page *page = pfn_to_page(v->zone, pfn);
	uint32_t flags = page_flags(page);

	if ((flags & (PG_ANY_HEAD | PG_ALLOC_ONLY)) != PG_buddy)
		return verify_fail(v, "pfn %lu on free_list[%u][%s] has flags %#x, not buddy", pfn,
				   id->order, migratetype_names[id->mt], flags);
	if (page->private != id->order || page->index != (uint32_t)id->mt)
		return verify_fail(v, "pfn %lu on free_list[%u][%s] records order %u type %u", pfn,
				   id->order, migratetype_names[id->mt], page->private,
				   page->index);
	if (pfn & ((1ul << id->order) - 1))
		return verify_fail(v, "pfn %lu on free_list[%u] is not aligned to its order", pfn,
				   id->order);
	if (!block_inside(v, pfn, id->order))
		return verify_fail(v, "block at pfn %lu of order %u crosses the zone boundary", pfn,
				   id->order);
	return 0;
}

/* A free block of an order below pageblock_order with a free buddy of its order: a bug. */
static int check_merged(struct verify *v, unsigned long pfn, unsigned int order)
{
	unsigned long buddy = pfn ^ (1ul << order);
	const struct page *bp;

	if (order >= (unsigned int)v->m->pageblock_order || !block_inside(v, buddy, order))
		return 0;
	bp = pfn_to_page(v->zone, buddy);
	if (!(page_flags(bp) & PG_buddy) || bp->private != order)
		return 0;
	return verify_fail(v, "free buddies at pfn %lu and %lu (order %u) were not merged", pfn,
			   buddy, order);
}

static int check_free_lists(struct verify *v)
{
	unsigned long free_counted = 0;

	for (unsigned int o = 0; o < NR_PAGE_ORDERS; o++) {
		const struct free_area *area = &v->zone->free_area[o];
		unsigned long blocks = 0;

		for (int t = 0; t < MIGRATE_TYPES; t++) {
			struct list_id id = {o, t};
			char what[48];
			unsigned long len;
			int ret;

			snprintf(what, sizeof(what), "free_list[%u][%s]", o, migratetype_names[t]);
			ret = walk_list(v, &area->free_list[t], what, check_free_block, &id, &len);
			if (ret)
				return ret;
			blocks += len;
			if (t != MIGRATE_ISOLATE)
				free_counted += len << o;
		}
		if (area->nr_free != blocks)
			return verify_fail(v, "nr_free[%u] is %lu but the lists hold %lu blocks", o,
					   area->nr_free, blocks);
		v->list_blocks += blocks;
		v->list_pages += blocks << o;
	}
	for (unsigned int o = 0; o < NR_PAGE_ORDERS; o++)
		for (int t = 0; t < MIGRATE_TYPES; t++)
			for (uint32_t i = v->zone->free_area[o].free_list[t].first; i != PFN_NIL;
			     i = idx_page(v->pgdat, i)->next) {
				int ret = check_merged(v, v->pgdat->node_start_pfn + i, o);

				if (ret)
					return ret;
			}
	if ((unsigned long)v->zone->vm_stat[NR_FREE_PAGES] != free_counted)
		return verify_fail(v, "NR_FREE_PAGES is %ld but the free lists hold %lu pages",
				   v->zone->vm_stat[NR_FREE_PAGES], free_counted);
	return 0;
}

/* The pcp list a page with cached migratetype @mt and order @order is freed to. */
static int pcp_list_of(const struct verify *v, int mt, unsigned int order)
{
	if (mt >= MIGRATE_PCPTYPES)
		mt = MIGRATE_MOVABLE;
	if (order > PAGE_ALLOC_COSTLY_ORDER)
		return NR_LOWORDER_PCP_LISTS + (mt == MIGRATE_MOVABLE);
	(void)v;
	return MIGRATE_PCPTYPES * (int)order + mt;
}

static unsigned int pcp_list_order(const struct verify *v, int pindex)
{
	if (pindex >= NR_LOWORDER_PCP_LISTS)
		return (unsigned int)v->m->pageblock_order;
	return (unsigned int)(pindex / MIGRATE_PCPTYPES);
}

static int check_pcp_page(struct verify *v, unsigned long pfn, const void *arg)
{
	const struct list_id *id = arg;
	const struct page *page = pfn_to_page(v->zone, pfn);
	uint32_t flags = page_flags(page);

	if ((flags & (PG_ANY_HEAD | PG_ALLOC_ONLY)) != PG_pcp)
		return verify_fail(v, "pfn %lu on pcp list %d has flags %#x, not pcp", pfn, id->mt,
				   flags);
	if (page->private != id->order)
		return verify_fail(v, "pfn %lu on pcp list %d (order %u) records order %u", pfn,
				   id->mt, id->order, page->private);
	if (page->index >= MIGRATE_TYPES || page->index == MIGRATE_ISOLATE ||
	    pcp_list_of(v, (int)page->index, id->order) != id->mt)
		return verify_fail(v, "pfn %lu on pcp list %d caches migratetype %u", pfn, id->mt,
				   page->index);
	if ((pfn & ((1ul << id->order) - 1)) || !block_inside(v, pfn, id->order))
		return verify_fail(v, "pcp block at pfn %lu of order %u is misplaced", pfn,
				   id->order);
	return 0;
}

static int check_pcp(struct verify *v)
{
	if (!v->zone->per_cpu_pageset)
		return 0;
	for (int cpu = 0; cpu < v->m->ncpus; cpu++) {
		const struct per_cpu_pages *pcp = &v->zone->per_cpu_pageset[cpu];
		unsigned long pages = 0;

		for (int pindex = 0; pindex < NR_PCP_LISTS; pindex++) {
			struct list_id id = {pcp_list_order(v, pindex), pindex};
			char what[48];
			unsigned long len;
			int ret;

			snprintf(what, sizeof(what), "cpu %d pcp list %d", cpu, pindex);
			ret = walk_list(v, &pcp->lists[pindex], what, check_pcp_page, &id, &len);
			if (ret)
				return ret;
			pages += len << id.order;
		}
		if (pcp->count < 0 || (unsigned long)pcp->count != pages)
			return verify_fail(v, "cpu %d pcp count is %d but its lists hold %lu pages",
					   cpu, pcp->count, pages);
		v->pcp_pages += pages;
	}
	return 0;
}

struct memmap_tally {
	unsigned long buddy_heads; /* PG_buddy block heads */
	unsigned long pcp_pages;   /* pages in PG_pcp blocks */
	unsigned long allocated;   /* pages in PG_head blocks */
	unsigned long reserved;	   /* PG_reserved pages */
};

/*
 * One pass over the memory map of the zone. Heads (PG_buddy, PG_pcp, PG_head) stand for
 * 1 << private pages, PG_reserved for one; no head may lie inside another's block, and
 * the slab layer's marks (PG_slab on every page of a slab, PG_kmalloc on a head) may only
 * appear inside an allocated block.
 */
static int walk_memmap(struct verify *v, struct memmap_tally *t)
{
	unsigned long covered_until = v->start, owner = v->start;
	bool owner_allocated = false;

	memset(t, 0, sizeof(*t));
	for (unsigned long pfn = v->start; pfn < v->end; pfn++) {
		const struct page *page = pfn_to_page(v->zone, pfn);
		uint32_t flags = page_flags(page);
		unsigned long n;

		if (!(flags & PG_ANY_HEAD)) {
			if ((flags & PG_ALLOC_ONLY) && !(pfn < covered_until && owner_allocated))
				return verify_fail(
					v, "pfn %lu has flags %#x outside an allocated block", pfn,
					flags);
			continue;
		}
		if (pfn < covered_until)
			return verify_fail(v,
					   "pfn %lu (flags %#x) lies inside the block at pfn %lu",
					   pfn, flags, owner);
		n = (flags & PG_reserved) && !(flags & (PG_buddy | PG_pcp | PG_head)) ? 1
		    : page->private < MAX_ORDER ? 1ul << page->private
						: 0;
		if (!n || (pfn & (n - 1)) || pfn + n > v->end)
			return verify_fail(v, "block at pfn %lu (flags %#x, order %u) is misplaced",
					   pfn, flags, page->private);
		if ((flags & PG_ALLOC_ONLY) && !(flags & PG_head))
			return verify_fail(v, "pfn %lu has flags %#x outside an allocated block",
					   pfn, flags);
		if (flags & PG_buddy)
			t->buddy_heads++;
		else if (flags & PG_pcp)
			t->pcp_pages += n;
		else if (flags & PG_head)
			t->allocated += n;
		else
			t->reserved++;
		owner = pfn;
		owner_allocated = flags & PG_head;
		covered_until = pfn + n;
	}
	return 0;
}

static int check_memmap(struct verify *v)
{
	unsigned long managed = v->zone->managed_pages;
	struct memmap_tally t;
	int ret;

	ret = walk_memmap(v, &t);
	if (ret)
		return ret;
	if (t.buddy_heads != v->list_blocks)
		return verify_fail(v,
				   "%lu pages are marked buddy but the free lists hold %lu blocks",
				   t.buddy_heads, v->list_blocks);
	if (t.pcp_pages != v->pcp_pages)
		return verify_fail(v, "%lu pages are marked pcp but the pcp lists hold %lu",
				   t.pcp_pages, v->pcp_pages);
	if (t.reserved + managed != v->zone->present_pages)
		return verify_fail(v, "%lu reserved + %lu managed pages != %lu present", t.reserved,
				   managed, v->zone->present_pages);
	if (v->list_pages + v->pcp_pages + t.allocated != managed)
		return verify_fail(v, "free %lu + pcp %lu + allocated %lu != managed %lu",
				   v->list_pages, v->pcp_pages, t.allocated, managed);
	return 0;
}

int zone_verify(struct zone *zone, char *err)
{
	struct verify v = {
		.zone = zone,
		.pgdat = zone->zone_pgdat,
		.m = zone->zone_pgdat->machine,
		.start = zone->zone_start_pfn,
		.end = zone_end_pfn(zone),
		.err = err,
	};
	int ret;

	if (err)
		err[0] = '\0';
	zone_lock_all(zone);
	ret = check_watermarks(&v);
	if (!ret && node_is_local(zone->zone_pgdat)) {
		ret = check_free_lists(&v);
		if (!ret)
			ret = check_pcp(&v);
		if (!ret)
			ret = check_memmap(&v);
	}
	zone_unlock_all(zone);
	return ret;
}

int machine_verify(struct machine *m, char *err)
{
	for_each_node(m, nid)
	{
		pg_data_t *pgdat = m->node_data[nid];

		if (!pgdat || !node_is_local(pgdat))
			continue;
		for_each_zone_of(pgdat, zone)
		{
			int ret = zone_verify(zone, err);

			if (ret)
				return ret;
		}
	}
	if (err)
		err[0] = '\0';
	return 0;
}

void zone_dump(struct zone *zone, FILE *out)
{
	const pg_data_t *pgdat = zone->zone_pgdat;
	int ncpus = pgdat->machine->ncpus;

	zone_lock_all(zone);
	fprintf(out, "Node %d, zone %8s: managed %lu, NR_FREE_PAGES %ld, boost %lu\n",
		pgdat->node_id, zone->name, zone->managed_pages, zone->vm_stat[NR_FREE_PAGES],
		zone->watermark_boost);
	fprintf(out, "  watermarks: min %lu low %lu high %lu\n", zone->_watermark[WMARK_MIN],
		zone->_watermark[WMARK_LOW], zone->_watermark[WMARK_HIGH]);
	if (!node_is_local(pgdat)) {
		zone_unlock_all(zone);
		return;
	}
	fprintf(out, "  %-12s", "order");
	for (int o = 0; o < NR_PAGE_ORDERS; o++)
		fprintf(out, " %6d", o);
	fputc('\n', out);
	for (int t = 0; t < MIGRATE_TYPES; t++) {
		fprintf(out, "  %-12s", migratetype_names[t]);
		for (int o = 0; o < NR_PAGE_ORDERS; o++)
			fprintf(out, " %6lu",
				page_list_len(pgdat, &zone->free_area[o].free_list[t]));
		fputc('\n', out);
	}
	fprintf(out, "  %-12s", "nr_free");
	for (int o = 0; o < NR_PAGE_ORDERS; o++)
		fprintf(out, " %6lu", zone->free_area[o].nr_free);
	fputc('\n', out);
	for (int cpu = 0; zone->per_cpu_pageset && cpu < ncpus; cpu++) {
		const struct per_cpu_pages *pcp = &zone->per_cpu_pageset[cpu];

		fprintf(out, "  cpu %d: count %d high %d batch %d\n", cpu, pcp->count, pcp->high,
			pcp->batch);
	}
	zone_unlock_all(zone);
}
