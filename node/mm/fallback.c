// SPDX-License-Identifier: MIT
/*
 * fallback.c - migratetype fallback and stealing, and the high-atomic reserve.
 *
 * Mirrors:    mm/page_alloc.c (Linux 6.1.y): fallbacks[], can_steal_fallback,
 *             find_suitable_fallback, __rmqueue_fallback, steal_suitable_fallback,
 *             move_freepages_block, reserve_highatomic_pageblock,
 *             unreserve_highatomic_pageblock
 * Simplified: "movable" in-use pages are the heads of blocks allocated with a movable gfp
 *             (there is no LRU); no ALLOC_NOFRAGMENT (never set on i386)
 * Differs:    nothing
 *
 * All functions here run under zone->lock except reserve/unreserve, which take it.
 */
#include "internal.h"

static const int fallbacks[MIGRATE_TYPES][MIGRATE_PCPTYPES] = {
	[MIGRATE_UNMOVABLE] = {MIGRATE_RECLAIMABLE, MIGRATE_MOVABLE, MIGRATE_TYPES},
	[MIGRATE_MOVABLE] = {MIGRATE_RECLAIMABLE, MIGRATE_UNMOVABLE, MIGRATE_TYPES},
	[MIGRATE_RECLAIMABLE] = {MIGRATE_UNMOVABLE, MIGRATE_MOVABLE, MIGRATE_TYPES},
};

static bool can_steal_fallback(const struct machine *m, unsigned int order, int start_mt)
{
	if (order >= (unsigned int)m->pageblock_order)
		return true;
	return order >= (unsigned int)m->pageblock_order / 2 || start_mt == MIGRATE_RECLAIMABLE ||
	       start_mt == MIGRATE_UNMOVABLE || m->page_group_by_mobility_disabled;
}

static int find_suitable_fallback(const struct zone *zone, unsigned int order, int mt,
				  bool *can_steal)
{
	const struct free_area *area = &zone->free_area[order];

	*can_steal = false;
	if (!area->nr_free)
		return -1;
	for (int i = 0; fallbacks[mt][i] != MIGRATE_TYPES; i++) {
		int fmt = fallbacks[mt][i];

		if (page_list_empty(&area->free_list[fmt]))
			continue;
		*can_steal = can_steal_fallback(zone->zone_pgdat->machine, order, mt);
		return fmt;
	}
	return -1;
}

/*
 * move_freepages_block(): every free block in @pfn's pageblock onto @mt's lists. Returns
 * the pages moved (0 when the pageblock crosses the zone boundary); *@movable counts
 * in-use movable heads when @movable is not NULL.
 */
static unsigned long move_freepages_block(struct zone *zone, unsigned long pfn, int mt,
					  unsigned long *movable)
{
	const struct machine *m = zone->zone_pgdat->machine;
	unsigned long start = pfn & ~(m->pageblock_nr_pages - 1);
	unsigned long end = start + m->pageblock_nr_pages, moved = 0;

	if (movable)
		*movable = 0;
	if (end > zone_end_pfn(zone))
		return 0; /* the block runs past the zone's end */
	if (start < zone->zone_start_pfn)
		start = pfn; /* a zone starting inside the block: from the page on */
	for (pfn = start; pfn < end;) {
		struct page *page = pfn_to_page(zone, pfn);
		uint32_t flags = page_flags(page);

		if (!(flags & PG_buddy)) {
			if (movable && (flags & PG_head) &&
			    READ_ONCE(page->index) == MIGRATE_MOVABLE)
				(*movable)++;
			pfn++;
			continue;
		}
		move_to_free_list(zone, pfn, page->private, mt);
		moved += 1ul << page->private;
		pfn += 1ul << page->private;
	}
	return moved;
}

static void steal_suitable_fallback(struct zone *zone, unsigned long pfn, unsigned int alloc_flags,
				    int start_type, bool whole_block)
{
	const struct machine *m = zone->zone_pgdat->machine;
	unsigned int order = pfn_to_page(zone, pfn)->private;
	int old_type = get_pageblock_migratetype(zone, pfn);
	unsigned long free_pages, movable_pages, alike;

	if (old_type == MIGRATE_HIGHATOMIC)
		goto single_page;
	if (order >= (unsigned int)m->pageblock_order) {
		for (unsigned long i = 0; i < 1ul << (order - m->pageblock_order); i++)
			set_pageblock_migratetype(zone, pfn + i * m->pageblock_nr_pages,
						  start_type);
		goto single_page;
	}
	if (boost_watermark(zone) && (alloc_flags & ALLOC_KSWAPD))
		WRITE_ONCE(zone->boosted, true);
	if (!whole_block)
		goto single_page;
	free_pages = move_freepages_block(zone, pfn, start_type, &movable_pages);
	if (!free_pages)
		goto single_page;
	if (start_type == MIGRATE_MOVABLE)
		alike = movable_pages;
	else if (old_type == MIGRATE_MOVABLE)
		alike = m->pageblock_nr_pages - (free_pages + movable_pages);
	else
		alike = 0;
	if (free_pages + alike >= (1ul << (m->pageblock_order - 1)) ||
	    m->page_group_by_mobility_disabled)
		set_pageblock_migratetype(zone, pfn, start_type);
	return;
single_page:
	move_to_free_list(zone, pfn, order, start_type);
}

bool __rmqueue_fallback(struct zone *zone, unsigned int order, int start_mt,
			unsigned int alloc_flags)
{
	int o, fmt = -1;
	bool can_steal = false;

	for (o = MAX_ORDER - 1; o >= (int)order; o--) {
		fmt = find_suitable_fallback(zone, (unsigned int)o, start_mt, &can_steal);
		if (fmt < 0)
			continue;
		if (!can_steal && start_mt == MIGRATE_MOVABLE && o > (int)order)
			goto find_smallest;
		goto do_steal;
	}
	return false;
find_smallest:
	for (o = (int)order; o < MAX_ORDER; o++) {
		fmt = find_suitable_fallback(zone, (unsigned int)o, start_mt, &can_steal);
		if (fmt >= 0)
			break;
	}
do_steal:
	steal_suitable_fallback(
		zone, zone->zone_pgdat->node_start_pfn + zone->free_area[o].free_list[fmt].first,
		alloc_flags, start_mt, can_steal);
	return true;
}

/* A high-order atomic allocation reserves its pageblock for later ones, up to ~1% of the zone. */
void reserve_highatomic_pageblock(struct zone *zone, unsigned long pfn)
{
	const struct machine *m = zone->zone_pgdat->machine;
	unsigned long max_managed = READ_ONCE(zone->managed_pages) / 100 + m->pageblock_nr_pages;
	int mt;

	if (READ_ONCE(zone->nr_reserved_highatomic) >= max_managed)
		return;
	pthread_mutex_lock(&zone->lock);
	if (zone->nr_reserved_highatomic >= max_managed)
		goto out_unlock;
	mt = get_pageblock_migratetype(zone, pfn);
	if (mt < MIGRATE_PCPTYPES) {
		WRITE_ONCE(zone->nr_reserved_highatomic,
			   zone->nr_reserved_highatomic + m->pageblock_nr_pages);
		set_pageblock_migratetype(zone, pfn, MIGRATE_HIGHATOMIC);
		move_freepages_block(zone, pfn, MIGRATE_HIGHATOMIC, NULL);
	}
out_unlock:
	pthread_mutex_unlock(&zone->lock);
}

/*
 * unreserve_highatomic_pageblock(): give one reserved pageblock of @zone back to @mt.
 * Without @force, the last reserved block is kept. Returns true when pages moved.
 */
bool unreserve_highatomic_pageblock(struct zone *zone, int mt, bool force)
{
	const struct machine *m = zone->zone_pgdat->machine;
	bool ret = false;

	if (!force && READ_ONCE(zone->nr_reserved_highatomic) <= m->pageblock_nr_pages)
		return false;
	pthread_mutex_lock(&zone->lock);
	for (int o = 0; o < MAX_ORDER && !ret; o++) {
		struct page_list *l = &zone->free_area[o].free_list[MIGRATE_HIGHATOMIC];
		unsigned long pfn;

		if (page_list_empty(l))
			continue;
		pfn = zone->zone_pgdat->node_start_pfn + l->first;
		if (get_pageblock_migratetype(zone, pfn) == MIGRATE_HIGHATOMIC) {
			unsigned long n = zone->nr_reserved_highatomic;

			WRITE_ONCE(zone->nr_reserved_highatomic,
				   n - (n < m->pageblock_nr_pages ? n : m->pageblock_nr_pages));
		}
		set_pageblock_migratetype(zone, pfn, mt);
		ret = move_freepages_block(zone, pfn, mt, NULL) != 0;
	}
	pthread_mutex_unlock(&zone->lock);
	return ret;
}
