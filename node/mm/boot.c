// SPDX-License-Identifier: MIT
/*
 * boot.c - bring a laid-out machine to life: memory map, buddy lists, pagesets, watermarks.
 *
 * Mirrors:    init/main.c start_kernel order; mm/page_alloc.c (free_area_init_core,
 *             memmap_init, setup_per_cpu_pageset, init_per_zone_wmark_min,
 *             build_all_zonelists); mm/khugepaged.c (hugepage_init);
 *             mm/memblock.c (memblock_free_all); init/initramfs.c and free_initmem (late frees)
 * Simplified: see mm_init.c for the reservation model
 * Differs:    only nodes this process holds get a memory map; the others keep their zone
 *             sizes so machine-wide numbers (min_free_kbytes, watermarks) come out the same
 *             in every process of a cluster
 *
 * Physical placement of reserved pages: in DMA the first MiB; in Normal the kernel image at
 * 16 MiB, then memblock allocations top-down from the end of lowmem; elsewhere top-down.
 * Late frees give back the highest reserved pages (where the initrd sits).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "slab.h"

#define KERNEL_IMAGE_PAGES 3851ul /* 16 MiB .. end of bss on Debian 6.1 */

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (!p)
		abort();
	return p;
}

typedef void (*pfn_run_fn)(struct zone *zone, unsigned long start, unsigned long end);

/* Call @fn on the pfn runs that hold present pages number [@from, @to) of @zone. */
static void for_present_range(struct zone *zone, unsigned long from, unsigned long to,
			      pfn_run_fn fn)
{
	const struct machine_layout *l = &zone->zone_pgdat->machine->layout;
	unsigned long seen = 0;

	for (int i = 0; i < l->nr_ram && seen < to; i++) {
		unsigned long s = l->ram[i].start, e = l->ram[i].end, n;

		if (s < zone->zone_start_pfn)
			s = zone->zone_start_pfn;
		if (e > zone_end_pfn(zone))
			e = zone_end_pfn(zone);
		if (s >= e)
			continue;
		n = e - s;
		if (seen + n > from) {
			unsigned long a = from > seen ? s + (from - seen) : s;
			unsigned long b = to < seen + n ? s + (to - seen) : e;

			if (a < b)
				fn(zone, a, b);
		}
		seen += n;
	}
}

static void mark_reserved(struct zone *zone, unsigned long start, unsigned long end)
{
	for (unsigned long pfn = start; pfn < end; pfn++)
		set_page_flags(pfn_to_page(zone, pfn), PG_reserved);
}

static void free_late_range(struct zone *zone, unsigned long start, unsigned long end)
{
	pthread_mutex_lock(&zone->lock);
	for (unsigned long pfn = start; pfn < end; pfn++) {
		set_page_flags(pfn_to_page(zone, pfn), 0);
		__free_one_page(zone, pfn, 0, get_pageblock_migratetype(zone, pfn), false);
	}
	WRITE_ONCE(zone->managed_pages, zone->managed_pages + (end - start));
	pthread_mutex_unlock(&zone->lock);
}

/* Reserved pages at the bottom of the zone (first MiB in DMA, kernel image in Normal). */
static unsigned long reserved_low(const struct zone *zone)
{
	if (zone->idx == ZONE_DMA)
		return zone->reserved_pages;
	if (zone->idx == ZONE_NORMAL)
		return zone->reserved_pages < KERNEL_IMAGE_PAGES ? zone->reserved_pages
								 : KERNEL_IMAGE_PAGES;
	return 0;
}

/* memblock_free_all() for one zone: reserved pages marked, the rest to the buddy lists. */
static void zone_free_boot_memory(struct zone *zone)
{
	unsigned long low = reserved_low(zone), top = zone->reserved_pages - low;
	unsigned long present = zone->present_pages;

	for_present_range(zone, 0, low, mark_reserved);
	for_present_range(zone, present - top, present, mark_reserved);
	for_present_range(zone, low, present - top, free_boot_range);
}

/* free_initrd_mem() / free_initmem(): the highest reserved pages come back after init. */
static void zone_late_free(struct zone *zone)
{
	unsigned long low = reserved_low(zone), top = zone->reserved_pages - low;
	unsigned long present = zone->present_pages, late = zone->late_free_pages;
	unsigned long from_top = late < top ? late : top;

	if (!node_is_local(zone->zone_pgdat)) {
		WRITE_ONCE(zone->managed_pages, zone->managed_pages + late);
		return;
	}
	for_present_range(zone, present - from_top, present, free_late_range);
	if (late > from_top)
		for_present_range(zone, low - (late - from_top), low, free_late_range);
}

static void zone_init(struct machine *m, pg_data_t *pgdat, enum zone_type z)
{
	const struct zone_layout *zl = &m->layout.nodes[pgdat->node_id].zones[z];
	struct zone *zone = &pgdat->node_zones[z];

	zone->zone_pgdat = pgdat;
	zone->name = zone_names[z];
	zone->idx = z;
	zone->is_highmem =
		z == ZONE_HIGHMEM || (z == ZONE_MOVABLE && m->layout.movable_zone == ZONE_HIGHMEM);
	zone->zone_start_pfn = zl->start_pfn;
	zone->spanned_pages = zl->end_pfn - zl->start_pfn;
	zone->present_pages = zl->present;
	zone->reserved_pages = zl->reserved;
	zone->late_free_pages = zl->late_free;
	zone->managed_pages = zl->present - zl->reserved;
	zone->managed_at_init = zone->managed_pages;
	pthread_mutex_init(&zone->lock, NULL);
	zone_init_free_lists(zone);
	if (!node_is_local(pgdat) || !zone->spanned_pages)
		return;
	{
		unsigned long base = zone_pageblock_base(zone);
		unsigned long nr = (zone_end_pfn(zone) - base + m->pageblock_nr_pages - 1) >>
				   m->pageblock_order;

		zone->pageblock_flags = xcalloc(nr, 1);
		memset(zone->pageblock_flags, MIGRATE_MOVABLE, nr);
	}
	zone->per_cpu_pageset = aligned_alloc(64, sizeof(struct per_cpu_pages) * (size_t)m->ncpus);
	if (!zone->per_cpu_pageset)
		abort();
	memset(zone->per_cpu_pageset, 0, sizeof(struct per_cpu_pages) * (size_t)m->ncpus);
	for (int cpu = 0; cpu < m->ncpus; cpu++) {
		struct per_cpu_pages *pcp = &zone->per_cpu_pageset[cpu];

		pthread_spin_init(&pcp->lock, PTHREAD_PROCESS_PRIVATE);
		for (int i = 0; i < NR_PCP_LISTS; i++)
			page_list_init(&pcp->lists[i]);
		pcp->batch = 1;
	}
	zone_free_boot_memory(zone);
}

static pg_data_t *pgdat_new(struct machine *m, int nid)
{
	const struct node_layout *nl = &m->layout.nodes[nid];
	pg_data_t *pgdat = xcalloc(1, sizeof(*pgdat));
	bool local = m->cfg.local_node == MM_ALL_NODES || m->cfg.local_node == nid;

	pgdat->node_id = nid;
	pgdat->machine = m;
	pgdat->node_start_pfn = nl->start_pfn;
	pgdat->node_spanned_pages = nl->end_pfn - nl->start_pfn;
	for (int z = 0; z < MAX_NR_ZONES; z++)
		pgdat->node_present_pages += nl->zones[z].present;
	if (local)
		pgdat->node_mem_map = xcalloc(pgdat->node_spanned_pages, sizeof(struct page));
	for (int z = 0; z < MAX_NR_ZONES; z++) {
		zone_init(m, pgdat, (enum zone_type)z);
		if (nl->zones[z].present)
			pgdat->nr_zones = z + 1;
	}
	return pgdat;
}

static void machine_defaults(struct machine *m, const struct machine_config *cfg)
{
	static const int ratio[MAX_NR_ZONES] = {256, 32, 0, 0};

	m->cfg = *cfg;
	m->pageblock_order = mm_arch_pageblock_order(cfg->arch);
	m->pageblock_nr_pages = 1ul << m->pageblock_order;
	m->ncpus = cfg->ncpus;
	m->nr_nodes = cfg->nr_nodes;
	for (int cpu = 0; cpu < cfg->ncpus; cpu++)
		m->cpu_to_node[cpu] = cpu_node_of(cfg, cpu);
	m->user_min_free_kbytes = -1;
	m->watermark_scale_factor = 10;
	m->watermark_boost_factor = 15000;
	memcpy(m->lowmem_reserve_ratio, ratio, sizeof(ratio));
	pthread_mutex_init(&m->sysctl_lock, NULL);
}

/* The slab layer lives where lowmem is: a process holding a node with DMA or Normal pages. */
static bool holds_normal_memory(const struct machine *m)
{
	for (int nid = 0; nid < m->nr_nodes; nid++)
		if (node_is_local(m->node_data[nid]) && node_has_normal_memory(m, nid))
			return true;
	return false;
}

static unsigned long totalram_pages(const struct machine *m)
{
	unsigned long sum = 0;

	for_each_node(m, nid) for_each_zone_of(m->node_data[nid], zone) sum +=
		READ_ONCE(zone->managed_pages);
	return sum;
}

/* The boot-time computations in start_kernel's order, with managed pages as at init. */
static void boot_tunables(struct machine *m)
{
	m->page_group_by_mobility_disabled =
		totalram_pages(m) < m->pageblock_nr_pages * MIGRATE_TYPES;
	build_all_zonelists(m);
	for_each_node(m, nid) for_each_zone_of(m->node_data[nid], zone) zone_pcp_update(zone);
	calculate_min_free_kbytes(m);
	setup_per_zone_wmarks(m);
	refresh_zone_stat_thresholds(m);
	setup_per_zone_lowmem_reserve(m);
	if (m->cfg.thp != THP_NEVER && totalram_pages(m) >= (512ul << (20 - PAGE_SHIFT))) {
		m->thp_enabled = true;
		set_recommended_min_free_kbytes(m);
	}
}

int machine_new(struct machine **out, const struct machine_config *cfg, char *err)
{
	struct machine *m = xcalloc(1, sizeof(*m));
	int ret;

	*out = NULL;
	ret = machine_layout_compute(&m->layout, cfg, err);
	if (ret) {
		free(m);
		return ret;
	}
	machine_defaults(m, cfg);
	for (int nid = 0; nid < m->nr_nodes; nid++)
		m->node_data[nid] = pgdat_new(m, nid);
	boot_tunables(m);
	for_each_node(m, nid) for_each_zone_of(m->node_data[nid], zone) zone_late_free(zone);
	if (holds_normal_memory(m))
		slab_init(m);
	*out = m;
	return 0;
}

void machine_free(struct machine *m)
{
	if (!m)
		return;
	slab_release(m);
	for_each_node(m, nid)
	{
		pg_data_t *pgdat = m->node_data[nid];

		for_each_zone_of(pgdat, zone)
		{
			free(zone->pageblock_flags);
			if (zone->per_cpu_pageset)
				for (int cpu = 0; cpu < m->ncpus; cpu++)
					pthread_spin_destroy(&zone->per_cpu_pageset[cpu].lock);
			free(zone->per_cpu_pageset);
			pthread_mutex_destroy(&zone->lock);
		}
		free(pgdat->node_mem_map);
		free(pgdat);
	}
	pthread_mutex_destroy(&m->sysctl_lock);
	free(m);
}
