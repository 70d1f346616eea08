/* SPDX-License-Identifier: MIT */
/*
 * internal.h - declarations shared by the files of node/mm, not part of its interface.
 *
 * Mirrors:    mm/internal.h (Linux 6.1.y)
 * Simplified: only what the model uses
 * Differs:    free-list links are node-relative page indexes (see mmzone.h)
 */
#ifndef NUMASIM_MM_INTERNAL_H
#define NUMASIM_MM_INTERNAL_H

#include "mm.h"

extern const char *const migratetype_names[MIGRATE_TYPES];

const char *mm_arch_name(enum mm_arch arch);
int mm_arch_pageblock_order(enum mm_arch arch);
int cpu_node_of(const struct machine_config *cfg, int cpu);

#define for_each_node(m, nid) for (int nid = 0; nid < (m)->nr_nodes; nid++)
#define for_each_zone_of(pgdat, z)                                        \
	for (__typeof__(&(pgdat)->node_zones[0]) z = (pgdat)->node_zones; \
	     z < (pgdat)->node_zones + MAX_NR_ZONES; z++)

static inline bool node_is_local(const pg_data_t *pgdat)
{
	return pgdat->node_mem_map != NULL;
}

/* get_order - the smallest order whose block holds @size bytes (size > 0). */
static inline unsigned int get_order(unsigned long size)
{
	unsigned int order = 0;

	for (size = (size - 1) >> PAGE_SHIFT; size; size >>= 1)
		order++;
	return order;
}

static inline unsigned long zone_end_pfn(const struct zone *zone)
{
	return zone->zone_start_pfn + zone->spanned_pages;
}

static inline struct page *idx_page(const pg_data_t *pgdat, uint32_t idx)
{
	return &pgdat->node_mem_map[idx];
}

static inline uint32_t pfn_idx(const pg_data_t *pgdat, unsigned long pfn)
{
	return (uint32_t)(pfn - pgdat->node_start_pfn);
}

static inline struct page *pfn_to_page(const struct zone *zone, unsigned long pfn)
{
	return idx_page(zone->zone_pgdat, pfn_idx(zone->zone_pgdat, pfn));
}

static inline unsigned long page_to_pfn(const struct zone *zone, const struct page *page)
{
	return zone->zone_pgdat->node_start_pfn +
	       (unsigned long)(page - zone->zone_pgdat->node_mem_map);
}

static inline uint32_t page_flags(const struct page *page)
{
	return READ_ONCE(page->flags);
}

static inline void set_page_flags(struct page *page, uint32_t flags)
{
	WRITE_ONCE(page->flags, flags);
}

/* Page lists (linked through struct page next/prev by node-relative index). */
static inline bool page_list_empty(const struct page_list *l)
{
	return l->first == PFN_NIL;
}

static inline void page_list_init(struct page_list *l)
{
	l->first = PFN_NIL;
	l->last = PFN_NIL;
}

static inline void page_list_add(const pg_data_t *pgdat, struct page_list *l, uint32_t idx,
				 bool tail)
{
	struct page *page = idx_page(pgdat, idx);

	if (page_list_empty(l)) {
		page->next = page->prev = PFN_NIL;
		WRITE_ONCE(l->first, idx);
		l->last = idx;
	} else if (tail) {
		page->next = PFN_NIL;
		page->prev = l->last;
		idx_page(pgdat, l->last)->next = idx;
		l->last = idx;
	} else {
		page->prev = PFN_NIL;
		page->next = l->first;
		idx_page(pgdat, l->first)->prev = idx;
		WRITE_ONCE(l->first, idx);
	}
}

static inline void page_list_del(const pg_data_t *pgdat, struct page_list *l, uint32_t idx)
{
	struct page *page = idx_page(pgdat, idx);

	if (page->prev == PFN_NIL)
		WRITE_ONCE(l->first, page->next);
	else
		idx_page(pgdat, page->prev)->next = page->next;
	if (page->next == PFN_NIL)
		l->last = page->prev;
	else
		idx_page(pgdat, page->next)->prev = page->prev;
	page->next = page->prev = PFN_NIL;
}

unsigned long page_list_len(const pg_data_t *pgdat, const struct page_list *l);

/* Pageblock migratetypes. */
int get_pageblock_migratetype(const struct zone *zone, unsigned long pfn);
void set_pageblock_migratetype(struct zone *zone, unsigned long pfn, int mt);
unsigned long zone_pageblock_base(const struct zone *zone);

/* Buddy allocator (page_alloc.c). */
void __free_one_page(struct zone *zone, unsigned long pfn, unsigned int order, int mt, bool tail);
void free_boot_range(struct zone *zone, unsigned long start, unsigned long end);
void zone_init_free_lists(struct zone *zone);
int pcp_lock_all_and_update(struct zone *zone, int high, int batch);

#define PCP_BATCH_SCALE_MAX 5 /* CONFIG_PCP_BATCH_SCALE_MAX of Debian's kernels */

bool pcp_allowed_order(const struct machine *m, unsigned int order);
bool __rmqueue_smallest(struct zone *zone, unsigned int order, int mt, unsigned long *pfn);
bool rmqueue(int preferred_nid, struct zone *zone, unsigned int order, unsigned int alloc_flags,
	     int mt, int cpu, unsigned long *pfn);
void __free_pages(struct zone *zone, unsigned long pfn, unsigned int order, int cpu);
void move_to_free_list(struct zone *zone, unsigned long pfn, unsigned int order, int mt);
/* Free-list primitives (zone->lock held). */
void add_to_free_list(struct zone *zone, unsigned long pfn, unsigned int order, int mt, bool tail);
void del_page_from_free_list(struct zone *zone, unsigned long pfn, unsigned int order);

/* NR_FREE_PAGES changes only under zone->lock; readers use READ_ONCE. */
static inline void mod_zone_free(struct zone *zone, long delta)
{
	WRITE_ONCE(zone->vm_stat[NR_FREE_PAGES], READ_ONCE(zone->vm_stat[NR_FREE_PAGES]) + delta);
}

void drain_zone_pages(struct zone *zone);

/* Fallback and the high-atomic reserve (fallback.c). */
bool __rmqueue_fallback(struct zone *zone, unsigned int order, int start_mt,
			unsigned int alloc_flags);
void reserve_highatomic_pageblock(struct zone *zone, unsigned long pfn);

/* pfn_zone_span - pfn_zone() without the RAM check: holes inside a zone's span count. */
struct zone *pfn_zone_span(struct machine *m, unsigned long pfn);

/* free_pages_kind - free a block whose head carries exactly the @kind flags (PG_kmalloc). */
int free_pages_kind(struct machine *m, unsigned long pfn, unsigned int order, int cpu,
		    uint32_t kind);

/* kswapd (alloc.c). */

/* Watermarks, reserves and pcp sizing (wmark.c). */
void calculate_min_free_kbytes(struct machine *m);
void setup_per_zone_wmarks(struct machine *m);
void setup_per_zone_lowmem_reserve(struct machine *m);
void calculate_totalreserve_pages(struct machine *m);
void refresh_zone_stat_thresholds(struct machine *m);
void set_recommended_min_free_kbytes(struct machine *m);
void zone_pcp_update(struct zone *zone);
int zone_batchsize(const struct zone *zone);
int zone_highsize(const struct zone *zone, int batch);
unsigned long nr_free_buffer_pages(const struct machine *m);
bool boost_watermark(struct zone *zone);

/* Zonelists (zonelist.c). */
void build_all_zonelists(struct machine *m);

#endif
