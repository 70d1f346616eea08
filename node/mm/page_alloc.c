// SPDX-License-Identifier: MIT
/*
 * page_alloc.c - the buddy allocator and the per-CPU page lists.
 *
 * Mirrors:    mm/page_alloc.c (Linux 6.1.y): __free_one_page, buddy_merge_likely, expand,
 *             __rmqueue_smallest, __rmqueue, rmqueue_bulk, __rmqueue_pcplist,
 *             rmqueue_pcplist, rmqueue_buddy, rmqueue, free_pcppages_bulk, nr_pcp_free,
 *             nr_pcp_high, free_unref_page, __free_pages_ok, drain_all_pages
 * Simplified: no page shuffling, no guard pages, no CMA, no isolation users (the Isolate type
 *             exists and is honoured where the kernel checks it); init_on_alloc is free
 * Differs:    the allocating CPU is a parameter instead of smp_processor_id(); a pcp lock is
 *             always taken (the kernel's trylock never fails here)
 *
 * A free block of order o is a head page with PG_buddy, private == o, index == the list's
 * migratetype, on zone->free_area[o].free_list[index]. Its other pages carry no state.
 * A page on a pcp list has PG_pcp, private == order, index == cached pageblock migratetype.
 * An allocated block's head has PG_head, private == order, _refcount == 1.
 *
 * Lock order: per_cpu_pages.lock -> zone->lock. NR_FREE_PAGES and nr_free change only under
 * zone->lock and are read without it (READ_ONCE), as the kernel's watermark checks do.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

const char *const zone_names[MAX_NR_ZONES] = {"DMA", "Normal", "HighMem", "Movable"};
const char *const migratetype_names[MIGRATE_TYPES] = {"Unmovable", "Movable", "Reclaimable",
						      "HighAtomic", "Isolate"};

unsigned long page_list_len(const pg_data_t *pgdat, const struct page_list *l)
{
	unsigned long n = 0;

	for (uint32_t i = l->first; i != PFN_NIL; i = idx_page(pgdat, i)->next)
		n++;
	return n;
}

unsigned long zone_pageblock_base(const struct zone *zone)
{
	return zone->zone_start_pfn & ~(zone->zone_pgdat->machine->pageblock_nr_pages - 1);
}

int get_pageblock_migratetype(const struct zone *zone, unsigned long pfn)
{
	unsigned long i =
		(pfn - zone_pageblock_base(zone)) >> zone->zone_pgdat->machine->pageblock_order;

	return READ_ONCE(zone->pageblock_flags[i]);
}

void set_pageblock_migratetype(struct zone *zone, unsigned long pfn, int mt)
{
	unsigned long i =
		(pfn - zone_pageblock_base(zone)) >> zone->zone_pgdat->machine->pageblock_order;

	WRITE_ONCE(zone->pageblock_flags[i], (uint8_t)mt);
}

static inline bool pfn_in_zone(const struct zone *zone, unsigned long pfn)
{
	return pfn >= zone->zone_start_pfn && pfn < zone_end_pfn(zone);
}

void add_to_free_list(struct zone *zone, unsigned long pfn, unsigned int order, int mt, bool tail)
{
	pg_data_t *pgdat = zone->zone_pgdat;
	uint32_t idx = pfn_idx(pgdat, pfn);
	struct page *page = idx_page(pgdat, idx);
	struct free_area *area = &zone->free_area[order];

	WRITE_ONCE(page->private, order);
	page->index = (uint32_t)mt;
	set_page_flags(page, PG_buddy);
	page_list_add(pgdat, &area->free_list[mt], idx, tail);
	WRITE_ONCE(area->nr_free, area->nr_free + 1);
}

void del_page_from_free_list(struct zone *zone, unsigned long pfn, unsigned int order)
{
	pg_data_t *pgdat = zone->zone_pgdat;
	uint32_t idx = pfn_idx(pgdat, pfn);
	struct page *page = idx_page(pgdat, idx);
	struct free_area *area = &zone->free_area[order];

	page_list_del(pgdat, &area->free_list[page->index], idx);
	set_page_flags(page, 0);
	WRITE_ONCE(page->private, 0u);
	WRITE_ONCE(area->nr_free, area->nr_free - 1);
}

/* move_to_free_list(): a free block changes migratetype list (to the tail, as 6.1). */
void move_to_free_list(struct zone *zone, unsigned long pfn, unsigned int order, int mt)
{
	pg_data_t *pgdat = zone->zone_pgdat;
	uint32_t idx = pfn_idx(pgdat, pfn);
	struct page *page = idx_page(pgdat, idx);

	page_list_del(pgdat, &zone->free_area[order].free_list[page->index], idx);
	page->index = (uint32_t)mt;
	page_list_add(pgdat, &zone->free_area[order].free_list[mt], idx, true);
}

static bool page_is_buddy(const struct zone *zone, unsigned long pfn, unsigned int order)
{
	const struct page *page;

	if (!pfn_in_zone(zone, pfn))
		return false;
	page = pfn_to_page(zone, pfn);
	return (page_flags(page) & PG_buddy) && page->private == order;
}

static bool migratetype_is_mergeable(int mt)
{
	return mt < MIGRATE_PCPTYPES;
}

/* buddy_merge_likely(): the enclosing block's buddy is free, so this block goes to the tail. */
static bool buddy_merge_likely(const struct zone *zone, unsigned long pfn, unsigned int order)
{
	unsigned long higher;

	if (order >= MAX_ORDER - 2)
		return false;
	higher = pfn & ~(1ul << order);
	return page_is_buddy(zone, higher ^ (1ul << (order + 1)), order + 1);
}

/* Caller holds zone->lock. */
void __free_one_page(struct zone *zone, unsigned long pfn, unsigned int order, int mt, bool tail)
{
	const struct machine *m = zone->zone_pgdat->machine;

	if (mt != MIGRATE_ISOLATE)
		mod_zone_free(zone, 1l << order);
	while (order < MAX_ORDER - 1) {
		unsigned long buddy_pfn = pfn ^ (1ul << order);

		if (!page_is_buddy(zone, buddy_pfn, order))
			break;
		if (order >= (unsigned int)m->pageblock_order) {
			int buddy_mt = get_pageblock_migratetype(zone, buddy_pfn);

			if (mt != buddy_mt &&
			    (!migratetype_is_mergeable(mt) || !migratetype_is_mergeable(buddy_mt)))
				break;
		}
		del_page_from_free_list(zone, buddy_pfn, order);
		pfn &= buddy_pfn;
		order++;
	}
	if (!tail)
		tail = buddy_merge_likely(zone, pfn, order);
	add_to_free_list(zone, pfn, order, mt, tail);
}

/* expand(): split a block of order @high down to @low, upper halves to the list heads. */
static void expand(struct zone *zone, unsigned long pfn, unsigned int low, unsigned int high,
		   int mt)
{
	while (high > low) {
		high--;
		add_to_free_list(zone, pfn + (1ul << high), high, mt, false);
	}
}

/* __rmqueue_smallest(): first block of the smallest order with a free @mt block; or 0. */
bool __rmqueue_smallest(struct zone *zone, unsigned int order, int mt, unsigned long *pfn)
{
	pg_data_t *pgdat = zone->zone_pgdat;

	for (unsigned int o = order; o < MAX_ORDER; o++) {
		struct page_list *l = &zone->free_area[o].free_list[mt];

		if (page_list_empty(l))
			continue;
		*pfn = pgdat->node_start_pfn + l->first;
		del_page_from_free_list(zone, *pfn, o);
		expand(zone, *pfn, order, o, mt);
		pfn_to_page(zone, *pfn)->index = (uint32_t)mt;
		return true;
	}
	return false;
}

/* __rmqueue(): smallest block of @mt, else steal from a fallback type and retry. */
static bool __rmqueue(struct zone *zone, unsigned int order, int mt, unsigned int alloc_flags,
		      unsigned long *pfn)
{
	while (!__rmqueue_smallest(zone, order, mt, pfn))
		if (!__rmqueue_fallback(zone, order, mt, alloc_flags))
			return false;
	return true;
}

static inline int order_to_pindex(const struct machine *m, int mt, unsigned int order)
{
	if (order > PAGE_ALLOC_COSTLY_ORDER)
		return NR_LOWORDER_PCP_LISTS + (mt == MIGRATE_MOVABLE);
	(void)m;
	return MIGRATE_PCPTYPES * (int)order + mt;
}

static inline unsigned int pindex_to_order(const struct machine *m, int pindex)
{
	if (pindex >= NR_LOWORDER_PCP_LISTS)
		return (unsigned int)m->pageblock_order;
	return (unsigned int)(pindex / MIGRATE_PCPTYPES);
}

bool pcp_allowed_order(const struct machine *m, unsigned int order)
{
	return order <= PAGE_ALLOC_COSTLY_ORDER || order == (unsigned int)m->pageblock_order;
}

/* rmqueue_bulk(): up to @count blocks onto a pcp list, in the order __rmqueue returns them. */
static int rmqueue_bulk(struct zone *zone, unsigned int order, int count, struct page_list *list,
			int mt, unsigned int alloc_flags)
{
	pg_data_t *pgdat = zone->zone_pgdat;
	int i;

	pthread_mutex_lock(&zone->lock);
	for (i = 0; i < count; i++) {
		unsigned long pfn;
		struct page *page;

		if (!__rmqueue(zone, order, mt, alloc_flags, &pfn))
			break;
		page = pfn_to_page(zone, pfn);
		WRITE_ONCE(page->private, order);
		set_page_flags(page, PG_pcp);
		page_list_add(pgdat, list, pfn_idx(pgdat, pfn), true);
	}
	mod_zone_free(zone, -((long)i << order));
	pthread_mutex_unlock(&zone->lock);
	return i;
}

/*
 * Count an allocation served by @zone for a request whose preferred zone is on node
 * @preferred_nid (zone_statistics; numa_foreign is counted by the caller, on that zone).
 */
static void count_alloc(unsigned long *events, unsigned long *numa, int preferred_nid,
			struct zone *zone, unsigned int order, int cpu)
{
	const struct machine *m = zone->zone_pgdat->machine;
	int nid = zone->zone_pgdat->node_id;

	events[PGALLOC] += 1ul << order;
	numa[nid == preferred_nid ? NUMA_HIT : NUMA_MISS]++;
	numa[nid == m->cpu_to_node[cpu] ? NUMA_LOCAL : NUMA_OTHER]++;
}

static bool rmqueue_pcplist(int preferred_nid, struct zone *zone, unsigned int order, int mt,
			    unsigned int alloc_flags, int cpu, unsigned long *pfn)
{
	struct per_cpu_pages *pcp = &zone->per_cpu_pageset[cpu];
	pg_data_t *pgdat = zone->zone_pgdat;
	struct page_list *list;
	bool ok = false;

	pthread_spin_lock(&pcp->lock);
	pcp->free_factor >>= 1;
	list = &pcp->lists[order_to_pindex(pgdat->machine, mt, order)];
	if (page_list_empty(list)) {
		int batch = pcp->batch;

		if (batch > 1)
			batch = (batch >> order) > 2 ? batch >> order : 2;
		pcp->count += rmqueue_bulk(zone, order, batch, list, mt, alloc_flags) << order;
	}
	if (!page_list_empty(list)) {
		uint32_t idx = list->first;

		page_list_del(pgdat, list, idx);
		pcp->count -= 1 << order;
		*pfn = pgdat->node_start_pfn + idx;
		set_page_flags(idx_page(pgdat, idx), 0);
		count_alloc(pcp->events, pcp->numa, preferred_nid, zone, order, cpu);
		ok = true;
	}
	pthread_spin_unlock(&pcp->lock);
	return ok;
}

static bool rmqueue_buddy(int preferred_nid, struct zone *zone, unsigned int order,
			  unsigned int alloc_flags, int mt, int cpu, unsigned long *pfn)
{
	unsigned long events[NR_ZONE_EVENT_ITEMS] = {0}, numa[NR_VM_NUMA_EVENT_ITEMS] = {0};
	bool ok = false;

	pthread_mutex_lock(&zone->lock);
	if (alloc_flags & ALLOC_HIGHATOMIC)
		ok = __rmqueue_smallest(zone, order, MIGRATE_HIGHATOMIC, pfn);
	if (!ok) {
		ok = __rmqueue(zone, order, mt, alloc_flags, pfn);
		if (!ok && (alloc_flags & (ALLOC_OOM | ALLOC_NON_BLOCK)))
			ok = __rmqueue_smallest(zone, order, MIGRATE_HIGHATOMIC, pfn);
	}
	if (ok) {
		int pmt = (int)pfn_to_page(zone, *pfn)->index;

		if (pmt != MIGRATE_ISOLATE)
			mod_zone_free(zone, -(1l << order));
	}
	pthread_mutex_unlock(&zone->lock);
	if (!ok)
		return false;
	count_alloc(events, numa, preferred_nid, zone, order, cpu);
	for (int i = 0; i < NR_ZONE_EVENT_ITEMS; i++)
		if (events[i])
			__atomic_fetch_add(&zone->buddy_events[i], events[i], __ATOMIC_RELAXED);
	for (int i = 0; i < NR_VM_NUMA_EVENT_ITEMS; i++)
		if (numa[i])
			__atomic_fetch_add(&zone->buddy_numa[i], numa[i], __ATOMIC_RELAXED);
	return true;
}

/* rmqueue(): one block from @zone, through the pcp when the order allows it. */
bool rmqueue(int preferred_nid, struct zone *zone, unsigned int order, unsigned int alloc_flags,
	     int mt, int cpu, unsigned long *pfn)
{
	bool ok = false;

	if (pcp_allowed_order(zone->zone_pgdat->machine, order))
		ok = rmqueue_pcplist(preferred_nid, zone, order, mt, alloc_flags, cpu, pfn);
	if (!ok)
		ok = rmqueue_buddy(preferred_nid, zone, order, alloc_flags, mt, cpu, pfn);
	if (READ_ONCE(zone->boosted)) {
		WRITE_ONCE(zone->boosted, false);
		wakeup_kswapd(zone, 0, 0, (int)zone->idx);
	}
	return ok;
}

/* free_pcppages_bulk(): @count pages back to the buddy lists, @pindex's list first. */
static void free_pcppages_bulk(struct zone *zone, int count, struct per_cpu_pages *pcp, int pindex)
{
	pg_data_t *pgdat = zone->zone_pgdat;
	int min_pindex = 0, max_pindex = NR_PCP_LISTS - 1;

	if (count > pcp->count)
		count = pcp->count;
	pindex--;
	pthread_mutex_lock(&zone->lock);
	while (count > 0) {
		struct page_list *list;
		unsigned int order;

		for (;;) {
			if (++pindex > max_pindex)
				pindex = min_pindex;
			list = &pcp->lists[pindex];
			if (!page_list_empty(list))
				break;
			if (pindex == max_pindex)
				max_pindex--;
			if (pindex == min_pindex)
				min_pindex++;
		}
		order = pindex_to_order(pgdat->machine, pindex);
		do {
			uint32_t idx = list->last;
			struct page *page = idx_page(pgdat, idx);

			page_list_del(pgdat, list, idx);
			count -= 1 << order;
			pcp->count -= 1 << order;
			set_page_flags(page, 0);
			__free_one_page(zone, pgdat->node_start_pfn + idx, order, (int)page->index,
					false);
		} while (count > 0 && !page_list_empty(list));
	}
	pthread_mutex_unlock(&zone->lock);
}

static int nr_pcp_free(struct per_cpu_pages *pcp, int high, int batch, bool free_high)
{
	int min_nr_free, max_nr_free;

	if (free_high)
		return pcp->count;
	if (high < batch)
		return 1;
	min_nr_free = batch;
	max_nr_free = high - batch;
	batch <<= pcp->free_factor;
	if (batch < max_nr_free && pcp->free_factor < PCP_BATCH_SCALE_MAX)
		pcp->free_factor++;
	if (batch < min_nr_free)
		batch = min_nr_free;
	if (batch > max_nr_free)
		batch = max_nr_free;
	return batch;
}

static int nr_pcp_high(const struct per_cpu_pages *pcp, bool free_high)
{
	if (!pcp->high || free_high)
		return 0;
	return pcp->high;
}

/* free_unref_page(): a block of a pcp order goes to this CPU's list, spilling over high. */
static void free_unref_page(struct zone *zone, unsigned long pfn, unsigned int order, int cpu)
{
	pg_data_t *pgdat = zone->zone_pgdat;
	struct per_cpu_pages *pcp = &zone->per_cpu_pageset[cpu];
	int mt = get_pageblock_migratetype(zone, pfn);
	struct page *page = pfn_to_page(zone, pfn);
	int pindex, high;
	bool free_high;

	if (mt == MIGRATE_ISOLATE) {
		pthread_mutex_lock(&zone->lock);
		__free_one_page(zone, pfn, order, mt, false);
		pthread_mutex_unlock(&zone->lock);
		__atomic_fetch_add(&zone->buddy_events[PGFREE], 1ul << order, __ATOMIC_RELAXED);
		return;
	}
	WRITE_ONCE(page->index, (uint32_t)mt);
	WRITE_ONCE(page->private, order);
	if (mt >= MIGRATE_PCPTYPES)
		mt = MIGRATE_MOVABLE;
	pthread_spin_lock(&pcp->lock);
	pcp->events[PGFREE] += 1ul << order;
	pindex = order_to_pindex(pgdat->machine, mt, order);
	set_page_flags(page, PG_pcp);
	page_list_add(pgdat, &pcp->lists[pindex], pfn_idx(pgdat, pfn), false);
	pcp->count += 1 << order;
	free_high = pcp->free_factor && order && order <= PAGE_ALLOC_COSTLY_ORDER;
	high = nr_pcp_high(pcp, free_high);
	if (pcp->count >= high)
		free_pcppages_bulk(zone, nr_pcp_free(pcp, high, pcp->batch, free_high), pcp,
				   pindex);
	pthread_spin_unlock(&pcp->lock);
}

/* __free_pages_ok(): orders the pcp does not hold go straight to the buddy lists. */
static void __free_pages_ok(struct zone *zone, unsigned long pfn, unsigned int order)
{
	pthread_mutex_lock(&zone->lock);
	__free_one_page(zone, pfn, order, get_pageblock_migratetype(zone, pfn), false);
	pthread_mutex_unlock(&zone->lock);
	__atomic_fetch_add(&zone->buddy_events[PGFREE], 1ul << order, __ATOMIC_RELAXED);
}

void __free_pages(struct zone *zone, unsigned long pfn, unsigned int order, int cpu)
{
	if (pcp_allowed_order(zone->zone_pgdat->machine, order))
		free_unref_page(zone, pfn, order, cpu);
	else
		__free_pages_ok(zone, pfn, order);
}

void drain_zone_pages(struct zone *zone)
{
	if (!zone->per_cpu_pageset)
		return;
	for (int cpu = 0; cpu < zone->zone_pgdat->machine->ncpus; cpu++) {
		struct per_cpu_pages *pcp = &zone->per_cpu_pageset[cpu];

		pthread_spin_lock(&pcp->lock);
		if (pcp->count)
			free_pcppages_bulk(zone, pcp->count, pcp, 0);
		pthread_spin_unlock(&pcp->lock);
	}
}

void drain_all_pages(struct machine *m)
{
	for_each_node(m, nid) for_each_zone_of(m->node_data[nid], zone) drain_zone_pages(zone);
}

int pcp_lock_all_and_update(struct zone *zone, int high, int batch)
{
	if (!zone->per_cpu_pageset)
		return 0;
	for (int cpu = 0; cpu < zone->zone_pgdat->machine->ncpus; cpu++) {
		struct per_cpu_pages *pcp = &zone->per_cpu_pageset[cpu];

		pthread_spin_lock(&pcp->lock);
		pcp->high = high;
		pcp->batch = batch;
		pthread_spin_unlock(&pcp->lock);
	}
	return 0;
}

/* memblock_free_all() for one range: ascending, largest aligned blocks, to the tail. */
void free_boot_range(struct zone *zone, unsigned long start, unsigned long end)
{
	zone->buddy_events[PGFREE] += end - start;
	while (start < end) {
		unsigned int order = MAX_ORDER - 1;

		while (order && ((start & ((1ul << order) - 1)) || start + (1ul << order) > end))
			order--;
		__free_one_page(zone, start, order, get_pageblock_migratetype(zone, start), true);
		start += 1ul << order;
	}
}

void zone_init_free_lists(struct zone *zone)
{
	for (int o = 0; o < NR_PAGE_ORDERS; o++) {
		for (int t = 0; t < MIGRATE_TYPES; t++)
			page_list_init(&zone->free_area[o].free_list[t]);
		zone->free_area[o].nr_free = 0;
	}
}
