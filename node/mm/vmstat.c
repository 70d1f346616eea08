// SPDX-License-Identifier: MIT
/*
 * vmstat.c - the machine as the kernel shows it: /proc/zoneinfo, buddyinfo, pagetypeinfo,
 * meminfo, vmstat and numastat, as the kernel's text or as JSON.
 *
 * Mirrors:    mm/vmstat.c (zoneinfo_show_print, frag_show_print, pagetypeinfo_show*,
 *             vmstat_show), fs/proc/meminfo.c (meminfo_proc_show), mm/page-writeback.c
 *             (global_dirty_limits), drivers/base/node.c (nodeN/meminfo, nodeN/vmstat,
 *             nodeN/numastat) and numastat(8)'s compatibility table; Linux 6.1.y, i386
 * Simplified: counters the model has no source for print 0 (page cache, swap, vmalloc and
 *             percpu use, DirectMap, most events); vm.dirty_ratio and
 *             vm.dirty_background_ratio are their defaults (20 and 10); no seq iterator
 * Differs:    the numa_* lines appear whenever the machine has more than one node; every
 *             total covers only the nodes this process holds; with a node given, vmstat is
 *             that node's sysfs vmstat file; zoneinfo reads zone counters without zone->lock
 *             because pageset locks nest outside it
 *
 * Design: one show function per view, from a table indexed by enum mm_view (the table also
 * names the slab views of slabinfo.c). Each view is written once for both outputs through
 * the emitters of view_json.h (put_num, put_elem, put_stat, open_group, close_group): in
 * text mode they print the kernel's format, in JSON mode the key and value, so the two
 * outputs cannot disagree on what is shown. Totals used by meminfo and vmstat are gathered
 * first into struct mem_sums.
 *
 * JSON shapes (numbers are pages unless the key ends in _kB; no trailing newline):
 *   zoneinfo     {"nodes":[{"node":N,"node_stats":{name:v,...},"zones":[{"name":"DMA",
 *                "populated":b,"free","boost","min","low","high","spanned","present",
 *                "managed","cma","protection":[4], and when populated "stats":{name:v,...
 *                incl. numa_* on NUMA},"pagesets":[{"cpu","count","high","batch"}],
 *                "vm_stats_threshold","node_unreclaimable","start_pfn"}]}]}
 *   buddyinfo    {"zones":[{"node":N,"zone":"DMA","free":[11 block counts]}]}
 *   pagetypeinfo {"pageblock_order":9,"pages_per_block":512,"zones":[{"node":N,"zone":"DMA",
 *                "free":{"Unmovable":[11],...},"blocks":{"Unmovable":n,...}}]}
 *   meminfo      {"MemTotal_kB":v,...,"HugePages_Total":v,...} in the text's order; with a
 *                node: {"node":N,"MemTotal_kB":v,...} as nodeN/meminfo
 *   vmstat       {"nr_free_pages":v,...} in the text's order; with a node: {"node":N,...}
 *   numastat     {"nodes":[{"node":N,"numa_hit":v,"numa_miss":v,"numa_foreign":v,
 *                "interleave_hit":v,"local_node":v,"other_node":v}]}
 *
 * Lock order: a pageset's lock alone (pcp count, high, batch, events) or zone->lock alone
 * (free lists, pageblock types); the two are never held together here.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "view_json.h"
#include "views.h"

#define PAGETYPE_COUNT_CAP 100000ul /* free-list walks stop here (printed ">100000") */
#define VM_DIRTY_RATIO 20	    /* vm.dirty_ratio default */
#define DIRTY_BACKGROUND_RATIO 10   /* vm.dirty_background_ratio default */
#define OVERCOMMIT_RATIO 50	    /* vm.overcommit_ratio default */

static const char *const zone_stat_names[NR_VM_ZONE_STAT_ITEMS] = {
	[NR_FREE_PAGES] = "nr_free_pages",
	[NR_ZONE_INACTIVE_ANON] = "nr_zone_inactive_anon",
	[NR_ZONE_ACTIVE_ANON] = "nr_zone_active_anon",
	[NR_ZONE_INACTIVE_FILE] = "nr_zone_inactive_file",
	[NR_ZONE_ACTIVE_FILE] = "nr_zone_active_file",
	[NR_ZONE_UNEVICTABLE] = "nr_zone_unevictable",
	[NR_ZONE_WRITE_PENDING] = "nr_zone_write_pending",
	[NR_MLOCK] = "nr_mlock",
	[NR_BOUNCE] = "nr_bounce",
	[NR_ZSPAGES] = "nr_zspages",
	[NR_FREE_CMA_PAGES] = "nr_free_cma",
};

/* Names in zoneinfo and vmstat. */
static const char *const numa_stat_names[NR_VM_NUMA_EVENT_ITEMS] = {
	[NUMA_HIT] = "numa_hit",	 [NUMA_MISS] = "numa_miss",
	[NUMA_FOREIGN] = "numa_foreign", [NUMA_INTERLEAVE_HIT] = "numa_interleave",
	[NUMA_LOCAL] = "numa_local",	 [NUMA_OTHER] = "numa_other",
};

/* Names in nodeN/numastat and numastat(8). */
static const char *const numastat_names[NR_VM_NUMA_EVENT_ITEMS] = {
	[NUMA_HIT] = "numa_hit",	 [NUMA_MISS] = "numa_miss",
	[NUMA_FOREIGN] = "numa_foreign", [NUMA_INTERLEAVE_HIT] = "interleave_hit",
	[NUMA_LOCAL] = "local_node",	 [NUMA_OTHER] = "other_node",
};

static const char *const node_stat_names[NR_VM_NODE_STAT_ITEMS] = {
	[NR_INACTIVE_ANON] = "nr_inactive_anon",
	[NR_ACTIVE_ANON] = "nr_active_anon",
	[NR_INACTIVE_FILE] = "nr_inactive_file",
	[NR_ACTIVE_FILE] = "nr_active_file",
	[NR_UNEVICTABLE] = "nr_unevictable",
	[NR_SLAB_RECLAIMABLE_B] = "nr_slab_reclaimable",
	[NR_SLAB_UNRECLAIMABLE_B] = "nr_slab_unreclaimable",
	[NR_ISOLATED_ANON] = "nr_isolated_anon",
	[NR_ISOLATED_FILE] = "nr_isolated_file",
	[WORKINGSET_NODES] = "workingset_nodes",
	[WORKINGSET_REFAULT_ANON] = "workingset_refault_anon",
	[WORKINGSET_REFAULT_FILE] = "workingset_refault_file",
	[WORKINGSET_ACTIVATE_ANON] = "workingset_activate_anon",
	[WORKINGSET_ACTIVATE_FILE] = "workingset_activate_file",
	[WORKINGSET_RESTORE_ANON] = "workingset_restore_anon",
	[WORKINGSET_RESTORE_FILE] = "workingset_restore_file",
	[WORKINGSET_NODERECLAIM] = "workingset_nodereclaim",
	[NR_ANON_MAPPED] = "nr_anon_pages",
	[NR_FILE_MAPPED] = "nr_mapped",
	[NR_FILE_PAGES] = "nr_file_pages",
	[NR_FILE_DIRTY] = "nr_dirty",
	[NR_WRITEBACK] = "nr_writeback",
	[NR_WRITEBACK_TEMP] = "nr_writeback_temp",
	[NR_SHMEM] = "nr_shmem",
	[NR_SHMEM_THPS] = "nr_shmem_hugepages",
	[NR_SHMEM_PMDMAPPED] = "nr_shmem_pmdmapped",
	[NR_FILE_THPS] = "nr_file_hugepages",
	[NR_FILE_PMDMAPPED] = "nr_file_pmdmapped",
	[NR_ANON_THPS] = "nr_anon_transparent_hugepages",
	[NR_VMSCAN_WRITE] = "nr_vmscan_write",
	[NR_VMSCAN_IMMEDIATE] = "nr_vmscan_immediate_reclaim",
	[NR_DIRTIED] = "nr_dirtied",
	[NR_WRITTEN] = "nr_written",
	[NR_THROTTLED_WRITTEN] = "nr_throttled_written",
	[NR_KERNEL_MISC_RECLAIMABLE] = "nr_kernel_misc_reclaimable",
	[NR_FOLL_PIN_ACQUIRED] = "nr_foll_pin_acquired",
	[NR_FOLL_PIN_RELEASED] = "nr_foll_pin_released",
	[NR_KERNEL_STACK_KB] = "nr_kernel_stack",
	[NR_PAGETABLE] = "nr_page_table_pages",
	[NR_SECONDARY_PAGETABLE] = "nr_sec_page_table_pages",
	[NR_SWAPCACHE] = "nr_swapcached",
};

/* The event section of /proc/vmstat, in the order of 6.1's vmstat_text (Debian i386 config). */
/* clang-format off */
static const char *const vm_event_names[] = {
	"pgpgin", "pgpgout", "pswpin", "pswpout", "pgalloc_dma", "pgalloc_normal", "pgalloc_high",
	"pgalloc_movable", "allocstall_dma", "allocstall_normal", "allocstall_high",
	"allocstall_movable", "pgskip_dma", "pgskip_normal", "pgskip_high", "pgskip_movable",
	"pgfree", "pgactivate", "pgdeactivate", "pglazyfree", "pgfault", "pgmajfault",
	"pglazyfreed", "pgrefill", "pgreuse", "pgsteal_kswapd", "pgsteal_direct",
	"pgdemote_kswapd", "pgdemote_direct", "pgscan_kswapd", "pgscan_direct",
	"pgscan_direct_throttle", "pgscan_anon", "pgscan_file", "pgsteal_anon", "pgsteal_file",
	"pginodesteal", "slabs_scanned", "kswapd_inodesteal", "kswapd_low_wmark_hit_quickly",
	"kswapd_high_wmark_hit_quickly", "pageoutrun", "pgrotated", "drop_pagecache", "drop_slab",
	"oom_kill", "pgmigrate_success", "pgmigrate_fail", "thp_migration_success",
	"thp_migration_fail", "thp_migration_split", "compact_migrate_scanned",
	"compact_free_scanned", "compact_isolated", "compact_stall", "compact_fail",
	"compact_success", "compact_daemon_wake", "compact_daemon_migrate_scanned",
	"compact_daemon_free_scanned", "htlb_buddy_alloc_success", "htlb_buddy_alloc_fail",
	"unevictable_pgs_culled", "unevictable_pgs_scanned", "unevictable_pgs_rescued",
	"unevictable_pgs_mlocked", "unevictable_pgs_munlocked", "unevictable_pgs_cleared",
	"unevictable_pgs_stranded", "thp_fault_alloc", "thp_fault_fallback",
	"thp_fault_fallback_charge", "thp_collapse_alloc", "thp_collapse_alloc_failed",
	"thp_file_alloc", "thp_file_fallback", "thp_file_fallback_charge", "thp_file_mapped",
	"thp_split_page", "thp_split_page_failed", "thp_deferred_split_page", "thp_split_pmd",
	"thp_scan_exceed_none_pte", "thp_scan_exceed_swap_pte", "thp_scan_exceed_share_pte",
	"thp_zero_page_alloc", "thp_zero_page_alloc_failed", "thp_swpout", "thp_swpout_fallback",
	"balloon_inflate", "balloon_deflate", "balloon_migrate", "swap_ra", "swap_ra_hit",
	"ksm_swpin_copy", "cow_ksm", "zswpin", "zswpout", "direct_map_level2_splits",
	"direct_map_level3_splits", "nr_unstable",
};
/* clang-format on */

#define EV_ALL_ZONES MAX_NR_ZONES

/* The events the model counts; every other name of vm_event_names[] shows 0. */
static const struct {
	const char *name;   /* as /proc/vmstat prints it */
	bool per_zone;	    /* zone event (summed over CPUs and nodes) or machine event */
	unsigned char item; /* enum zone_event_item or enum vm_event_item */
	unsigned char zone; /* zone type, or EV_ALL_ZONES */
} counted_events[] = {
	{"pgalloc_dma", true, PGALLOC, ZONE_DMA},
	{"pgalloc_normal", true, PGALLOC, ZONE_NORMAL},
	{"pgalloc_high", true, PGALLOC, ZONE_HIGHMEM},
	{"pgalloc_movable", true, PGALLOC, ZONE_MOVABLE},
	{"allocstall_dma", true, ALLOCSTALL, ZONE_DMA},
	{"allocstall_normal", true, ALLOCSTALL, ZONE_NORMAL},
	{"allocstall_high", true, ALLOCSTALL, ZONE_HIGHMEM},
	{"allocstall_movable", true, ALLOCSTALL, ZONE_MOVABLE},
	{"pgfree", true, PGFREE, EV_ALL_ZONES},
	{"pageoutrun", false, PAGEOUTRUN, 0},
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------------------------------ */
/* The nodes a view shows. */

/* The node @nid if the view shows it: held by this process and asked for. */
static pg_data_t *view_node(const struct view *v, int nid)
{
	pg_data_t *pgdat = v->m->node_data[nid];

	if (!pgdat || !node_is_local(pgdat) || (v->nid >= 0 && v->nid != nid))
		return NULL;
	return pgdat;
}

static pg_data_t *next_view_node(const struct view *v, int nid)
{
	for (; nid < v->m->nr_nodes; nid++) {
		pg_data_t *pgdat = view_node(v, nid);

		if (pgdat)
			return pgdat;
	}
	return NULL;
}

#define for_each_view_node(v, pgdat)                         \
	for (pg_data_t *pgdat = next_view_node(v, 0); pgdat; \
	     pgdat = next_view_node(v, pgdat->node_id + 1))

/* ------------------------------------------------------------------------------------------ */
/* Counters as the views print them. */

static unsigned long min_ul(unsigned long a, unsigned long b)
{
	return a < b ? a : b;
}

/* HPAGE_PMD_NR: a PMD maps one pageblock on x86-32 (512 pages PAE, 1024 without). */
static unsigned long hpage_pmd_nr(const struct machine *m)
{
	return m->pageblock_nr_pages;
}

/* node_page_state_pages(): the slab items are kept in bytes and shown in pages. */
static unsigned long node_stat_pages(const pg_data_t *pgdat, enum node_stat_item item)
{
	long val = READ_ONCE(pgdat->vm_stat[item]);

	if (val < 0)
		return 0;
	if (item == NR_SLAB_RECLAIMABLE_B || item == NR_SLAB_UNRECLAIMABLE_B)
		return (unsigned long)val >> PAGE_SHIFT;
	return (unsigned long)val;
}

/* vmstat_item_print_in_thp(): THP items are counted in pages and shown in huge pages. */
static unsigned long node_stat_shown(const struct machine *m, enum node_stat_item item,
				     unsigned long pages)
{
	switch (item) {
	case NR_SHMEM_THPS:
	case NR_SHMEM_PMDMAPPED:
	case NR_FILE_THPS:
	case NR_FILE_PMDMAPPED:
	case NR_ANON_THPS:
		return pages / hpage_pmd_nr(m);
	default:
		return pages;
	}
}

/* Totals over the nodes a view shows (meminfo, vmstat). */
struct mem_sums {
	unsigned long managed;				/* totalram_pages */
	unsigned long high_managed;			/* totalhigh_pages */
	unsigned long high_free;			/* free pages in highmem zones */
	unsigned long high_dirtyable;			/* highmem_dirtyable_memory, uncapped */
	unsigned long wmark_low;			/* low watermarks of every zone */
	unsigned long zone_stat[NR_VM_ZONE_STAT_ITEMS]; /* zone items */
	unsigned long numa[NR_VM_NUMA_EVENT_ITEMS];	/* NUMA events */
	unsigned long node_stat[NR_VM_NODE_STAT_ITEMS]; /* node items, in pages */
	unsigned long events[MAX_NR_ZONES][NR_ZONE_EVENT_ITEMS]; /* by zone type */
};

/* Free highmem pages above the high watermark, plus its file LRU (page-writeback.c). */
static unsigned long zone_dirtyable(const struct zone *zone)
{
	unsigned long free = zone_page_state(zone, NR_FREE_PAGES);

	return free - min_ul(free, wmark_pages(zone, WMARK_HIGH)) +
	       zone_page_state(zone, NR_ZONE_INACTIVE_FILE) +
	       zone_page_state(zone, NR_ZONE_ACTIVE_FILE);
}

static void mem_sums_zone(struct mem_sums *ms, struct zone *zone)
{
	unsigned long managed = READ_ONCE(zone->managed_pages);

	ms->managed += managed;
	ms->wmark_low += wmark_pages(zone, WMARK_LOW);
	for (int i = 0; i < NR_VM_ZONE_STAT_ITEMS; i++)
		ms->zone_stat[i] += zone_page_state(zone, i);
	for (int i = 0; i < NR_VM_NUMA_EVENT_ITEMS; i++)
		ms->numa[i] += zone_numa_sum(zone, i);
	for (int i = 0; i < NR_ZONE_EVENT_ITEMS; i++)
		ms->events[zone->idx][i] += zone_event_sum(zone, i);
	if (!zone->is_highmem)
		return;
	ms->high_managed += managed;
	ms->high_free += zone_page_state(zone, NR_FREE_PAGES);
	if (populated_zone(zone))
		ms->high_dirtyable += zone_dirtyable(zone);
}

static void mem_sums_view(const struct view *v, struct mem_sums *ms)
{
	memset(ms, 0, sizeof(*ms));
	for_each_view_node(v, pgdat)
	{
		for_each_zone_of(pgdat, zone)
		{
			mem_sums_zone(ms, zone);
		}
		for (int i = 0; i < NR_VM_NODE_STAT_ITEMS; i++)
			ms->node_stat[i] += node_stat_pages(pgdat, i);
	}
}

/* ------------------------------------------------------------------------------------------ */
/* /proc/zoneinfo */

static struct zone *first_populated_zone(pg_data_t *pgdat)
{
	for_each_zone_of(pgdat, zone)
	{
		if (populated_zone(zone))
			return zone;
	}
	return NULL;
}

static void zoneinfo_node_stats(struct view *v, pg_data_t *pgdat)
{
	open_group(v, "node_stats", '{', "\n  per-node stats");
	for (int i = 0; i < NR_VM_NODE_STAT_ITEMS; i++)
		put_stat(v, node_stat_names[i],
			 node_stat_shown(v->m, i, node_stat_pages(pgdat, i)));
	close_group(v, '{', NULL);
}

static void zoneinfo_watermarks(struct view *v, struct zone *zone)
{
	put_num(v, "\n  pages free     %lld", "free", zone_page_state(zone, NR_FREE_PAGES));
	put_num(v, "\n        boost    %lld", "boost", READ_ONCE(zone->watermark_boost));
	put_num(v, "\n        min      %lld", "min", wmark_pages(zone, WMARK_MIN));
	put_num(v, "\n        low      %lld", "low", wmark_pages(zone, WMARK_LOW));
	put_num(v, "\n        high     %lld", "high", wmark_pages(zone, WMARK_HIGH));
	put_num(v, "\n        spanned  %lld", "spanned", zone->spanned_pages);
	put_num(v, "\n        present  %lld", "present", zone->present_pages);
	put_num(v, "\n        managed  %lld", "managed", READ_ONCE(zone->managed_pages));
	put_num(v, "\n        cma      %lld", "cma", 0);
	open_group(v, "protection", '[', "\n        protection: (");
	for (int i = 0; i < MAX_NR_ZONES; i++)
		put_elem(v, i ? ", %lld" : "%lld", READ_ONCE(zone->lowmem_reserve[i]));
	close_group(v, '[', ")");
}

static void zoneinfo_stats(struct view *v, struct zone *zone)
{
	open_group(v, "stats", '{', NULL);
	for (int i = 0; i < NR_VM_ZONE_STAT_ITEMS; i++)
		put_stat(v, zone_stat_names[i], zone_page_state(zone, i));
	if (v->m->nr_nodes > 1)
		for (int i = 0; i < NR_VM_NUMA_EVENT_ITEMS; i++)
			put_stat(v, numa_stat_names[i], zone_numa_sum(zone, i));
	close_group(v, '{', NULL);
}

static void zoneinfo_pageset(struct view *v, struct zone *zone, int cpu)
{
	struct per_cpu_pages *pcp = &zone->per_cpu_pageset[cpu];
	int count, high, batch;

	pthread_spin_lock(&pcp->lock);
	count = pcp->count;
	high = pcp->high;
	batch = pcp->batch;
	pthread_spin_unlock(&pcp->lock);
	open_group(v, NULL, '{', NULL);
	put_num(v, "\n    cpu: %lld", "cpu", cpu);
	put_num(v, "\n              count: %lld", "count", count);
	put_num(v, "\n              high:  %lld", "high", high);
	put_num(v, "\n              batch: %lld", "batch", batch);
	put_num(v, "\n  vm stats threshold: %lld", NULL, READ_ONCE(zone->stat_threshold));
	close_group(v, '{', NULL);
}

static void zoneinfo_pagesets(struct view *v, struct zone *zone)
{
	open_group(v, "pagesets", '[', "\n  pagesets");
	for (int cpu = 0; zone->per_cpu_pageset && cpu < v->m->ncpus; cpu++)
		zoneinfo_pageset(v, zone, cpu);
	close_group(v, '[', NULL);
	put_num(v, NULL, "vm_stats_threshold", READ_ONCE(zone->stat_threshold));
	put_num(v, "\n  node_unreclaimable:  %lld", "node_unreclaimable", 0);
	put_num(v, "\n  start_pfn:           %lld", "start_pfn", zone->zone_start_pfn);
}

static void zoneinfo_zone(struct view *v, pg_data_t *pgdat, struct zone *zone)
{
	if (v->json) {
		json_open(&v->jw, NULL, '{');
		json_str(&v->jw, "name", zone->name);
		json_bool(&v->jw, "populated", populated_zone(zone));
	} else {
		seq_printf(v->s, "Node %d, zone %8s", pgdat->node_id, zone->name);
		if (zone == first_populated_zone(pgdat))
			zoneinfo_node_stats(v, pgdat);
	}
	zoneinfo_watermarks(v, zone);
	if (populated_zone(zone)) {
		zoneinfo_stats(v, zone);
		zoneinfo_pagesets(v, zone);
	}
	close_group(v, '{', "\n");
}

static void zoneinfo_node(struct view *v, pg_data_t *pgdat)
{
	if (v->json) {
		json_open(&v->jw, NULL, '{');
		json_num(&v->jw, "node", pgdat->node_id);
		if (first_populated_zone(pgdat))
			zoneinfo_node_stats(v, pgdat);
		json_open(&v->jw, "zones", '[');
	}
	for_each_zone_of(pgdat, zone)
	{
		zoneinfo_zone(v, pgdat, zone);
	}
	close_group(v, '[', NULL);
	close_group(v, '{', NULL);
}

static void zoneinfo_show(struct view *v)
{
	v->stat_fmt = "\n      %-12s %lld";
	open_group(v, NULL, '{', NULL);
	open_group(v, "nodes", '[', NULL);
	for_each_view_node(v, pgdat)
	{
		zoneinfo_node(v, pgdat);
	}
	close_group(v, '[', NULL);
	close_group(v, '{', NULL);
}

/* ------------------------------------------------------------------------------------------ */
/* /proc/buddyinfo */

/* "node" and "zone" members in JSON; @fmt with the node id and zone name in text. */
static void put_zone_id(struct view *v, const char *fmt, const struct zone *zone)
{
	int nid = zone->zone_pgdat->node_id;

	if (v->json) {
		json_num(&v->jw, "node", nid);
		json_str(&v->jw, "zone", zone->name);
	} else {
		seq_printf(v->s, fmt, nid, zone->name);
	}
}

static void buddyinfo_zone(struct view *v, struct zone *zone)
{
	unsigned long nr_free[NR_PAGE_ORDERS];

	pthread_mutex_lock(&zone->lock);
	for (int order = 0; order < NR_PAGE_ORDERS; order++)
		nr_free[order] = zone->free_area[order].nr_free;
	pthread_mutex_unlock(&zone->lock);
	open_group(v, NULL, '{', NULL);
	put_zone_id(v, "Node %d, zone %8s ", zone);
	open_group(v, "free", '[', NULL);
	for (int order = 0; order < NR_PAGE_ORDERS; order++)
		put_elem(v, "%6lld ", nr_free[order]);
	close_group(v, '[', NULL);
	close_group(v, '{', "\n");
}

static void buddyinfo_show(struct view *v)
{
	open_group(v, NULL, '{', NULL);
	open_group(v, "zones", '[', NULL);
	for_each_view_node(v, pgdat)
	{
		for_each_zone_of(pgdat, zone)
		{
			if (populated_zone(zone))
				buddyinfo_zone(v, zone);
		}
	}
	close_group(v, '[', NULL);
	close_group(v, '{', NULL);
}

/* ------------------------------------------------------------------------------------------ */
/* /proc/pagetypeinfo */

/* Blocks on each free list, walked under zone->lock and capped as the kernel caps them. */
static void pagetype_free_counts(struct zone *zone,
				 unsigned long count[MIGRATE_TYPES][NR_PAGE_ORDERS])
{
	const pg_data_t *pgdat = zone->zone_pgdat;

	pthread_mutex_lock(&zone->lock);
	for (int mt = 0; mt < MIGRATE_TYPES; mt++)
		for (int order = 0; order < NR_PAGE_ORDERS; order++)
			count[mt][order] =
				min_ul(page_list_len(pgdat, &zone->free_area[order].free_list[mt]),
				       PAGETYPE_COUNT_CAP);
	pthread_mutex_unlock(&zone->lock);
}

static void pagetypeinfo_free(struct view *v, struct zone *zone)
{
	unsigned long count[MIGRATE_TYPES][NR_PAGE_ORDERS];

	pagetype_free_counts(zone, count);
	open_group(v, "free", '{', NULL);
	for (int mt = 0; mt < MIGRATE_TYPES; mt++) {
		if (!v->json)
			seq_printf(v->s, "Node %4d, zone %8s, type %12s ",
				   zone->zone_pgdat->node_id, zone->name, migratetype_names[mt]);
		open_group(v, migratetype_names[mt], '[', NULL);
		for (int order = 0; order < NR_PAGE_ORDERS; order++)
			put_elem(v, count[mt][order] >= PAGETYPE_COUNT_CAP ? ">%6lld " : "%6lld ",
				 count[mt][order]);
		close_group(v, '[', "\n");
	}
	close_group(v, '{', NULL);
}

/* Pageblocks by type: every pageblock step from zone_start_pfn, as the kernel walks them. */
static void pagetypeinfo_blocks(struct view *v, struct zone *zone)
{
	unsigned long count[MIGRATE_TYPES] = {0};
	unsigned long step = v->m->pageblock_nr_pages;

	pthread_mutex_lock(&zone->lock);
	for (unsigned long pfn = zone->zone_start_pfn; pfn < zone_end_pfn(zone); pfn += step) {
		int mt = get_pageblock_migratetype(zone, pfn);

		if (mt >= 0 && mt < MIGRATE_TYPES)
			count[mt]++;
	}
	pthread_mutex_unlock(&zone->lock);
	if (!v->json)
		seq_printf(v->s, "Node %d, zone %8s ", zone->zone_pgdat->node_id, zone->name);
	open_group(v, "blocks", '{', NULL);
	for (int mt = 0; mt < MIGRATE_TYPES; mt++)
		put_num(v, "%12lld ", migratetype_names[mt], count[mt]);
	close_group(v, '{', "\n");
}

static void pagetypeinfo_node_text(struct view *v, pg_data_t *pgdat)
{
	seq_printf(v->s, "Page block order: %d\n", v->m->pageblock_order);
	seq_printf(v->s, "Pages per block:  %lu\n\n", v->m->pageblock_nr_pages);
	seq_printf(v->s, "%-43s ", "Free pages count per migrate type at order");
	for (int order = 0; order < NR_PAGE_ORDERS; order++)
		seq_printf(v->s, "%6d ", order);
	seq_putc(v->s, '\n');
	for_each_zone_of(pgdat, zone)
	{
		if (populated_zone(zone))
			pagetypeinfo_free(v, zone);
	}
	seq_printf(v->s, "\n%-23s", "Number of blocks type ");
	for (int mt = 0; mt < MIGRATE_TYPES; mt++)
		seq_printf(v->s, "%12s ", migratetype_names[mt]);
	seq_putc(v->s, '\n');
	for_each_zone_of(pgdat, zone)
	{
		if (populated_zone(zone))
			pagetypeinfo_blocks(v, zone);
	}
}

static void pagetypeinfo_node_json(struct view *v, pg_data_t *pgdat)
{
	for_each_zone_of(pgdat, zone)
	{
		if (!populated_zone(zone))
			continue;
		json_open(&v->jw, NULL, '{');
		put_zone_id(v, NULL, zone);
		pagetypeinfo_free(v, zone);
		pagetypeinfo_blocks(v, zone);
		json_close(&v->jw, '{');
	}
}

static void pagetypeinfo_show(struct view *v)
{
	if (!v->json) {
		for_each_view_node(v, pgdat)
		{
			pagetypeinfo_node_text(v, pgdat);
		}
		return;
	}
	json_open(&v->jw, NULL, '{');
	json_num(&v->jw, "pageblock_order", v->m->pageblock_order);
	json_num(&v->jw, "pages_per_block", (long long)v->m->pageblock_nr_pages);
	json_open(&v->jw, "zones", '[');
	for_each_view_node(v, pgdat)
	{
		pagetypeinfo_node_json(v, pgdat);
	}
	json_close(&v->jw, '[');
	json_close(&v->jw, '{');
}

/* ------------------------------------------------------------------------------------------ */
/* /proc/meminfo and /sys/devices/system/node/nodeN/meminfo */

/*
 * One meminfo line: "Name:" padded to @pad columns, the value right-aligned in @width, then
 * " kB" for sizes; per-node lines start with "Node N ". JSON: "Name_kB" or "Name".
 */
static void mi_line(struct view *v, const char *name, int pad, int width, unsigned long val,
		    bool kb)
{
	char label[64];

	if (v->json) {
		snprintf(label, sizeof(label), kb ? "%s_kB" : "%s", name);
		json_num(&v->jw, label, (long long)val);
		return;
	}
	snprintf(label, sizeof(label), "%s:", name);
	if (v->nid >= 0)
		seq_printf(v->s, "Node %d ", v->nid);
	seq_printf(v->s, "%-*s%*lu%s\n", pad, label, width, val, kb ? " kB" : "");
}

/* The common line: @pages shown in kB, label 16 wide, value 8 wide. */
static void mi_kb(struct view *v, const char *name, unsigned long pages)
{
	mi_line(v, name, 16, 8, pages << (PAGE_SHIFT - 10), true);
}

static unsigned long ns(const struct mem_sums *ms, enum node_stat_item item)
{
	return ms->node_stat[item];
}

static void meminfo_lru(struct view *v, const struct mem_sums *ms)
{
	mi_kb(v, "Active", ns(ms, NR_ACTIVE_ANON) + ns(ms, NR_ACTIVE_FILE));
	mi_kb(v, "Inactive", ns(ms, NR_INACTIVE_ANON) + ns(ms, NR_INACTIVE_FILE));
	mi_kb(v, "Active(anon)", ns(ms, NR_ACTIVE_ANON));
	mi_kb(v, "Inactive(anon)", ns(ms, NR_INACTIVE_ANON));
	mi_kb(v, "Active(file)", ns(ms, NR_ACTIVE_FILE));
	mi_kb(v, "Inactive(file)", ns(ms, NR_INACTIVE_FILE));
	mi_kb(v, "Unevictable", ns(ms, NR_UNEVICTABLE));
	mi_kb(v, "Mlocked", ms->zone_stat[NR_MLOCK]);
	mi_kb(v, "HighTotal", ms->high_managed);
	mi_kb(v, "HighFree", ms->high_free);
	mi_kb(v, "LowTotal", ms->managed - ms->high_managed);
	mi_kb(v, "LowFree", ms->zone_stat[NR_FREE_PAGES] - ms->high_free);
}

static void meminfo_slab(struct view *v, const struct mem_sums *ms)
{
	unsigned long reclaimable = ns(ms, NR_SLAB_RECLAIMABLE_B);
	unsigned long unreclaimable = ns(ms, NR_SLAB_UNRECLAIMABLE_B);

	mi_kb(v, "KReclaimable", reclaimable + ns(ms, NR_KERNEL_MISC_RECLAIMABLE));
	mi_kb(v, "Slab", reclaimable + unreclaimable);
	mi_kb(v, "SReclaimable", reclaimable);
	mi_kb(v, "SUnreclaim", unreclaimable);
}

/* The THP lines; the node file pads two of its labels one column short of the rest. */
static void meminfo_thp(struct view *v, const struct mem_sums *ms)
{
	int file_pad = v->nid >= 0 ? 15 : 16;
	unsigned int kb_shift = PAGE_SHIFT - 10;

	mi_kb(v, "AnonHugePages", ns(ms, NR_ANON_THPS));
	mi_kb(v, "ShmemHugePages", ns(ms, NR_SHMEM_THPS));
	mi_kb(v, "ShmemPmdMapped", ns(ms, NR_SHMEM_PMDMAPPED));
	mi_line(v, "FileHugePages", file_pad, 8, ns(ms, NR_FILE_THPS) << kb_shift, true);
	mi_line(v, "FilePmdMapped", file_pad, 8, ns(ms, NR_FILE_PMDMAPPED) << kb_shift, true);
}

/* si_mem_available(): free above the reserves, plus the reclaimable half of caches and slab. */
static unsigned long mem_available(const struct view *v, const struct mem_sums *ms)
{
	long available =
		(long)ms->zone_stat[NR_FREE_PAGES] - (long)READ_ONCE(v->m->totalreserve_pages);
	unsigned long pagecache = ns(ms, NR_ACTIVE_FILE) + ns(ms, NR_INACTIVE_FILE);
	unsigned long reclaimable =
		ns(ms, NR_SLAB_RECLAIMABLE_B) + ns(ms, NR_KERNEL_MISC_RECLAIMABLE);

	available += (long)(pagecache - min_ul(pagecache / 2, ms->wmark_low));
	available += (long)(reclaimable - min_ul(reclaimable / 2, ms->wmark_low));
	return available < 0 ? 0 : (unsigned long)available;
}

static void meminfo_head(struct view *v, const struct mem_sums *ms)
{
	unsigned long file = ns(ms, NR_FILE_PAGES), swapcache = ns(ms, NR_SWAPCACHE);

	mi_kb(v, "MemTotal", ms->managed);
	mi_kb(v, "MemFree", ms->zone_stat[NR_FREE_PAGES]);
	mi_kb(v, "MemAvailable", mem_available(v, ms));
	mi_kb(v, "Buffers", 0);
	mi_kb(v, "Cached", file > swapcache ? file - swapcache : 0);
	mi_kb(v, "SwapCached", swapcache);
}

static void meminfo_usage(struct view *v, const struct mem_sums *ms)
{
	mi_kb(v, "SwapTotal", 0);
	mi_kb(v, "SwapFree", 0);
	mi_kb(v, "Zswap", 0);
	mi_kb(v, "Zswapped", 0);
	mi_kb(v, "Dirty", ns(ms, NR_FILE_DIRTY));
	mi_kb(v, "Writeback", ns(ms, NR_WRITEBACK));
	mi_kb(v, "AnonPages", ns(ms, NR_ANON_MAPPED));
	mi_kb(v, "Mapped", ns(ms, NR_FILE_MAPPED));
	mi_kb(v, "Shmem", ns(ms, NR_SHMEM));
	meminfo_slab(v, ms);
	mi_line(v, "KernelStack", 16, 8, ns(ms, NR_KERNEL_STACK_KB), true);
	mi_kb(v, "PageTables", ns(ms, NR_PAGETABLE));
	mi_kb(v, "SecPageTables", ns(ms, NR_SECONDARY_PAGETABLE));
	mi_kb(v, "NFS_Unstable", 0);
	mi_kb(v, "Bounce", ms->zone_stat[NR_BOUNCE]);
	mi_kb(v, "WritebackTmp", ns(ms, NR_WRITEBACK_TEMP));
}

static void meminfo_vm(struct view *v, const struct mem_sums *ms)
{
	mi_kb(v, "CommitLimit", ms->managed * OVERCOMMIT_RATIO / 100);
	mi_kb(v, "Committed_AS", 0);
	mi_line(v, "VmallocTotal", 16, 8, v->m->layout.vmalloc_total_kb, true);
	mi_kb(v, "VmallocUsed", 0);
	mi_kb(v, "VmallocChunk", 0);
	mi_kb(v, "Percpu", 0);
	mi_line(v, "HardwareCorrupted", 19, 5, 0, true);
	meminfo_thp(v, ms);
}

static void meminfo_huge(struct view *v)
{
	bool pae = v->m->cfg.arch == ARCH_686_PAE;

	mi_line(v, "HugePages_Total", 16, 8, 0, false);
	mi_line(v, "HugePages_Free", 16, 8, 0, false);
	mi_line(v, "HugePages_Rsvd", 16, 8, 0, false);
	mi_line(v, "HugePages_Surp", 16, 8, 0, false);
	mi_kb(v, "Hugepagesize", hpage_pmd_nr(v->m));
	mi_kb(v, "Hugetlb", 0);
	mi_kb(v, "DirectMap4k", 0);
	mi_kb(v, pae ? "DirectMap2M" : "DirectMap4M", 0);
}

/* nodeN/meminfo: the node's own figures, in that file's order. */
static void meminfo_node(struct view *v, const struct mem_sums *ms)
{
	unsigned long free = ms->zone_stat[NR_FREE_PAGES];

	mi_kb(v, "MemTotal", ms->managed);
	mi_kb(v, "MemFree", free);
	mi_kb(v, "MemUsed", ms->managed > free ? ms->managed - free : 0);
	mi_kb(v, "SwapCached", ns(ms, NR_SWAPCACHE));
	meminfo_lru(v, ms);
	mi_kb(v, "Dirty", ns(ms, NR_FILE_DIRTY));
	mi_kb(v, "Writeback", ns(ms, NR_WRITEBACK));
	mi_kb(v, "FilePages", ns(ms, NR_FILE_PAGES));
	mi_kb(v, "Mapped", ns(ms, NR_FILE_MAPPED));
	mi_kb(v, "AnonPages", ns(ms, NR_ANON_MAPPED));
	mi_kb(v, "Shmem", ns(ms, NR_SHMEM));
	mi_line(v, "KernelStack", 16, 8, ns(ms, NR_KERNEL_STACK_KB), true);
	mi_kb(v, "PageTables", ns(ms, NR_PAGETABLE));
	mi_kb(v, "SecPageTables", ns(ms, NR_SECONDARY_PAGETABLE));
	mi_kb(v, "NFS_Unstable", 0);
	mi_kb(v, "Bounce", ms->zone_stat[NR_BOUNCE]);
	mi_kb(v, "WritebackTmp", ns(ms, NR_WRITEBACK_TEMP));
	meminfo_slab(v, ms);
	meminfo_thp(v, ms);
	mi_line(v, "HugePages_Total", 17, 5, 0, false);
	mi_line(v, "HugePages_Free", 17, 5, 0, false);
	mi_line(v, "HugePages_Surp", 17, 5, 0, false);
}

static void meminfo_show(struct view *v)
{
	struct mem_sums ms;

	mem_sums_view(v, &ms);
	open_group(v, NULL, '{', NULL);
	if (v->nid >= 0) {
		put_num(v, NULL, "node", v->nid);
		meminfo_node(v, &ms);
	} else {
		meminfo_head(v, &ms);
		meminfo_lru(v, &ms);
		meminfo_usage(v, &ms);
		meminfo_vm(v, &ms);
		meminfo_huge(v);
	}
	close_group(v, '{', NULL);
}

/* ------------------------------------------------------------------------------------------ */
/* /proc/vmstat and /sys/devices/system/node/nodeN/vmstat */

/*
 * global_dirty_limits() with the default ratios and no page cache: free pages above the
 * reserves, minus dirtyable highmem (vm.highmem_is_dirtyable is 0), plus one.
 */
static void dirty_limits(const struct view *v, const struct mem_sums *ms, unsigned long *thresh,
			 unsigned long *bg_thresh)
{
	unsigned long free = ms->zone_stat[NR_FREE_PAGES];
	unsigned long x = free - min_ul(free, READ_ONCE(v->m->totalreserve_pages));
	unsigned long ratio = VM_DIRTY_RATIO * PAGE_SIZE / 100;
	unsigned long bg_ratio = DIRTY_BACKGROUND_RATIO * PAGE_SIZE / 100;

	x += ns(ms, NR_INACTIVE_FILE) + ns(ms, NR_ACTIVE_FILE);
	x = x - min_ul(ms->high_dirtyable, x) + 1;
	*thresh = ratio * x / PAGE_SIZE;
	*bg_thresh = bg_ratio * x / PAGE_SIZE;
	if (*bg_thresh >= *thresh)
		*bg_thresh = *thresh / 2;
}

static unsigned long zone_events(const struct mem_sums *ms, int item, int zone)
{
	unsigned long sum = 0;

	if (zone != EV_ALL_ZONES)
		return ms->events[zone][item];
	for (int z = 0; z < MAX_NR_ZONES; z++)
		sum += ms->events[z][item];
	return sum;
}

static unsigned long vm_event_value(const struct view *v, const struct mem_sums *ms,
				    const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(counted_events); i++) {
		if (strcmp(name, counted_events[i].name))
			continue;
		if (counted_events[i].per_zone)
			return zone_events(ms, counted_events[i].item, counted_events[i].zone);
		return __atomic_load_n(&v->m->vm_events[counted_events[i].item], __ATOMIC_RELAXED);
	}
	return 0;
}

static void vmstat_events(struct view *v, const struct mem_sums *ms)
{
	unsigned long thresh, bg_thresh;

	dirty_limits(v, ms, &thresh, &bg_thresh);
	put_stat(v, "nr_dirty_threshold", thresh);
	put_stat(v, "nr_dirty_background_threshold", bg_thresh);
	for (size_t i = 0; i < ARRAY_SIZE(vm_event_names); i++)
		put_stat(v, vm_event_names[i], vm_event_value(v, ms, vm_event_names[i]));
}

static void vmstat_show(struct view *v)
{
	struct mem_sums ms;

	mem_sums_view(v, &ms);
	v->stat_fmt = "%s %lld\n";
	open_group(v, NULL, '{', NULL);
	if (v->nid >= 0)
		put_num(v, NULL, "node", v->nid);
	for (int i = 0; i < NR_VM_ZONE_STAT_ITEMS; i++)
		put_stat(v, zone_stat_names[i], ms.zone_stat[i]);
	if (v->m->nr_nodes > 1)
		for (int i = 0; i < NR_VM_NUMA_EVENT_ITEMS; i++)
			put_stat(v, numa_stat_names[i], ms.numa[i]);
	for (int i = 0; i < NR_VM_NODE_STAT_ITEMS; i++)
		put_stat(v, node_stat_names[i], node_stat_shown(v->m, i, ms.node_stat[i]));
	if (v->nid < 0)
		vmstat_events(v, &ms);
	close_group(v, '{', NULL);
}

/* ------------------------------------------------------------------------------------------ */
/* numastat(8) and /sys/devices/system/node/nodeN/numastat */

static void node_numa_sums(pg_data_t *pgdat, unsigned long numa[NR_VM_NUMA_EVENT_ITEMS])
{
	memset(numa, 0, sizeof(unsigned long) * NR_VM_NUMA_EVENT_ITEMS);
	for_each_zone_of(pgdat, zone)
	{
		for (int i = 0; i < NR_VM_NUMA_EVENT_ITEMS; i++)
			numa[i] += zone_numa_sum(zone, i);
	}
}

/* numastat's compatibility table: labels left in 16 columns, one node per 16 columns. */
static void numastat_table(struct view *v)
{
	unsigned long numa[MAX_NUMNODES][NR_VM_NUMA_EVENT_ITEMS];
	char head[16];

	seq_printf(v->s, "%-16s", "");
	for_each_view_node(v, pgdat)
	{
		snprintf(head, sizeof(head), "node%d", pgdat->node_id);
		seq_printf(v->s, "%16s", head);
		node_numa_sums(pgdat, numa[pgdat->node_id]);
	}
	seq_putc(v->s, '\n');
	for (int i = 0; i < NR_VM_NUMA_EVENT_ITEMS; i++) {
		seq_printf(v->s, "%-16s", numastat_names[i]);
		for_each_view_node(v, pgdat)
		{
			seq_printf(v->s, "%16lu", numa[pgdat->node_id][i]);
		}
		seq_putc(v->s, '\n');
	}
}

/* One node's counters: its sysfs numastat file in text, a member of "nodes" in JSON. */
static void numastat_node(struct view *v, pg_data_t *pgdat)
{
	unsigned long numa[NR_VM_NUMA_EVENT_ITEMS];

	node_numa_sums(pgdat, numa);
	open_group(v, NULL, '{', NULL);
	put_num(v, NULL, "node", pgdat->node_id);
	for (int i = 0; i < NR_VM_NUMA_EVENT_ITEMS; i++)
		put_stat(v, numastat_names[i], numa[i]);
	close_group(v, '{', NULL);
}

static void numastat_show(struct view *v)
{
	v->stat_fmt = "%s %lld\n";
	if (!v->json && v->nid < 0) {
		numastat_table(v);
		return;
	}
	open_group(v, NULL, '{', NULL);
	open_group(v, "nodes", '[', NULL);
	for_each_view_node(v, pgdat)
	{
		numastat_node(v, pgdat);
	}
	close_group(v, '[', NULL);
	close_group(v, '{', NULL);
}

/* ------------------------------------------------------------------------------------------ */
/* The interface. */

static const struct {
	const char *name;	      /* as the file is called in /proc */
	void (*show)(struct view *v); /* writes the whole view */
} mm_views[NR_MM_VIEWS] = {
	[VIEW_ZONEINFO] = {"zoneinfo", zoneinfo_show},
	[VIEW_BUDDYINFO] = {"buddyinfo", buddyinfo_show},
	[VIEW_PAGETYPEINFO] = {"pagetypeinfo", pagetypeinfo_show},
	[VIEW_MEMINFO] = {"meminfo", meminfo_show},
	[VIEW_VMSTAT] = {"vmstat", vmstat_show},
	[VIEW_NUMASTAT] = {"numastat", numastat_show},
	[VIEW_SLABINFO] = {"slabinfo", slabinfo_show},
	[VIEW_SLABTOP] = {"slabtop", slabtop_show},
	[VIEW_SLABS] = {"slabs", slabs_show},
};

/* mm_view_name - NULL for a value that names no view. */
const char *mm_view_name(enum mm_view view)
{
	if ((unsigned int)view >= NR_MM_VIEWS)
		return NULL;
	return mm_views[view].name;
}

int mm_view_lookup(const char *name)
{
	for (int i = 0; i < NR_MM_VIEWS; i++)
		if (!strcmp(name, mm_views[i].name))
			return i;
	return -ENOENT;
}

int mm_view_show(struct seq_file *s, struct machine *m, enum mm_view view, int nid, bool json)
{
	struct view v;

	if ((unsigned int)view >= NR_MM_VIEWS || view_init(&v, s, m, nid, json))
		return -EINVAL;
	mm_views[view].show(&v);
	return 0;
}
