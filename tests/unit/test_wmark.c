// SPDX-License-Identifier: MIT
/*
 * test_wmark.c - numbers derived from managed pages at boot: min_free_kbytes, watermarks,
 * lowmem_reserve, totalreserve, pcp high/batch, stat thresholds (ALLOCATOR-SPEC.md §2-§4,
 * §10.5), and the watermark boost a fallback steal causes (§2.4).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "mm_debug.h"
#include "unit.h"

/* What a zone of a booted machine must show. */
struct zone_expect {
	unsigned long min, low, high; /* _watermark[] */
	long prot[MAX_NR_ZONES];      /* lowmem_reserve[] */
	int pcp_high, pcp_batch;      /* pageset high / batch */
	int threshold;		      /* vm stats threshold */
};

static void check_zone(struct machine *m, enum zone_type z, const struct zone_expect *e)
{
	struct zone *zone = zone_of(m, z);

	CU_ASSERT_EQUAL(zone->_watermark[WMARK_MIN], e->min);
	CU_ASSERT_EQUAL(zone->_watermark[WMARK_LOW], e->low);
	CU_ASSERT_EQUAL(zone->_watermark[WMARK_HIGH], e->high);
	for (int j = 0; j < MAX_NR_ZONES; j++)
		CU_ASSERT_EQUAL(zone->lowmem_reserve[j], e->prot[j]);
	for (int cpu = 0; cpu < m->ncpus; cpu++) {
		CU_ASSERT_EQUAL(zone->per_cpu_pageset[cpu].high, e->pcp_high);
		CU_ASSERT_EQUAL(zone->per_cpu_pageset[cpu].batch, e->pcp_batch);
	}
	CU_ASSERT_EQUAL(zone->stat_threshold, e->threshold);
}

/* A 2-CPU PAE machine whose managed-at-init counts are exactly @managed (no late frees). */
static struct machine *boot_managed(const unsigned long managed[MAX_NR_ZONES], enum thp_mode thp)
{
	struct machine_config cfg;
	struct machine_layout l;

	machine_config_init(&cfg);
	cfg.arch = ARCH_686_PAE;
	cfg.mem_bytes = 4 * GiB;
	cfg.ncpus = 2;
	cfg.thp = thp;
	if (machine_layout_compute(&l, &cfg, NULL))
		return NULL;
	for (int z = 0; z < MAX_NR_ZONES; z++) {
		cfg.reserve[z] = (long)(l.nodes[0].zones[z].present - managed[z]);
		cfg.late_free[z] = 0;
	}
	return unit_boot(&cfg);
}

/* §10.5: PAE, 2 CPUs, no THP, managed at init DMA 3840, Normal 212000, HighMem 786000. */
static const unsigned long hand_managed[MAX_NR_ZONES] = {3840, 212000, 786000, 0};

static const struct zone_expect hand_expect[] = {
	[ZONE_DMA] = {16, 20, 24, {0, 828, 3898, 3898}, 10, 1, 4},
	[ZONE_NORMAL] = {912, 1140, 1368, {0, 0, 24562, 24562}, 570, 63, 16},
	[ZONE_HIGHMEM] = {128, 973, 1818, {0, 0, 0, 0}, 486, 63, 24},
};

static void test_hand_example(void)
{
	struct machine *m = boot_managed(hand_managed, THP_NEVER);

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL(m->min_free_kbytes, 3716);
	for (int z = ZONE_DMA; z <= ZONE_HIGHMEM; z++) {
		CU_ASSERT_EQUAL(zone_of(m, z)->managed_pages, hand_managed[z]);
		check_zone(m, z, &hand_expect[z]);
	}
	/* empty Movable carved from nothing, but HighMem exists: highmem-class 32/32/32 */
	CU_ASSERT_EQUAL(zone_of(m, ZONE_MOVABLE)->_watermark[WMARK_MIN], 32);
	CU_ASSERT_EQUAL(zone_of(m, ZONE_MOVABLE)->_watermark[WMARK_LOW], 32);
	CU_ASSERT_EQUAL(zone_of(m, ZONE_MOVABLE)->_watermark[WMARK_HIGH], 32);
	/* min(3840, 3898+24) + (24562+1368) + (0+1818) + min(0, 32) */
	CU_ASSERT_EQUAL(m->totalreserve_pages, 31588);
	CU_ASSERT_FALSE(m->thp_enabled);
	ASSERT_VERIFIED(m);
	machine_free(m);

	/* with THP the recommendation (512 * 2 * 11 = 11264) is capped at 5% of lowmem */
	m = boot_managed(hand_managed, THP_ALWAYS);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_TRUE(m->thp_enabled);
	CU_ASSERT_EQUAL(m->min_free_kbytes, 42888);
	ASSERT_VERIFIED(m);
	machine_free(m);
}

/* Real Debian 6.1 kernels booted under QEMU (§10.5 [R] and /work/shared/reference/). */
static const struct {
	const char *capture;
	enum mm_arch arch;
	uint64_t mem;
	int ncpus;
	int min_free_kbytes;
	struct zone_expect z[3]; /* DMA, Normal, HighMem */
} real_cases[] = {
	{"pae_mem2048_smp2 (spec)",
	 ARCH_686_PAE,
	 2 * GiB,
	 2,
	 42824,
	 {{190, 237, 284, {0, 826, 1994, 1994}, 118, 1, 4},
	  {10515, 13143, 15771, {0, 0, 9343, 9343}, 6571, 63, 16},
	  {128, 3841, 7554, {0, 0, 0, 0}, 1920, 63, 20}}},
	{"pae_mem1024_smp2",
	 ARCH_686_PAE,
	 1 * GiB,
	 2,
	 43332,
	 {{190, 237, 284, {0, 836, 980, 980}, 118, 1, 4},
	  {10642, 13302, 15962, {0, 0, 1151, 1151}, 6651, 63, 16},
	  {35, 492, 949, {0, 0, 0, 0}, 246, 7, 8}}},
	{"pae_mem4096_smp2",
	 ARCH_686_PAE,
	 4 * GiB,
	 2,
	 38000,
	 {{190, 237, 284, {0, 732, 3948, 3948}, 118, 1, 4},
	  {9309, 11636, 13963, {0, 0, 25727, 25727}, 5818, 63, 16},
	  {128, 10347, 20566, {0, 0, 0, 0}, 5173, 63, 24}}},
	{"np686_mem2048_smp2",
	 ARCH_686,
	 2 * GiB,
	 2,
	 42628,
	 {{190, 237, 284, {0, 823, 1994, 1994}, 118, 1, 4},
	  {10466, 13082, 15698, {0, 0, 9375, 9375}, 6541, 63, 16},
	  {128, 3853, 7578, {0, 0, 0, 0}, 1926, 63, 20}}},
};

static void test_real_kernels(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(real_cases); i++) {
		struct machine_config cfg;
		struct machine *m;

		machine_config_init(&cfg);
		cfg.arch = real_cases[i].arch;
		cfg.mem_bytes = real_cases[i].mem;
		cfg.ncpus = real_cases[i].ncpus;
		m = unit_boot(&cfg);
		CU_ASSERT_EQUAL(m->min_free_kbytes, real_cases[i].min_free_kbytes);
		for (int z = ZONE_DMA; z <= ZONE_HIGHMEM; z++)
			check_zone(m, z, &real_cases[i].z[z]);
		CU_ASSERT_EQUAL(zone_of(m, ZONE_MOVABLE)->_watermark[WMARK_HIGH], 32);
		ASSERT_VERIFIED(m);
		machine_free(m);
	}
}

/* zone_batchsize() (§4.1): min(managed >> 10, 256) / 4, then rounddown_pow_of_two(b + b/2) - 1. */
static const struct {
	unsigned long managed;
	int batch;
} batch_cases[] = {
	{0, 0},	      {3840, 0},    {8192, 1},	     {16384, 3},   {28000, 7},
	{36834, 7},   {61000, 15},  {121895, 31},    {176127, 31}, {176128, 63},
	{214724, 63}, {823266, 63}, {1ul << 24, 63},
};

static void test_batchsize(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(batch_cases); i++) {
		struct zone zone;

		memset(&zone, 0, sizeof(zone));
		zone.managed_pages = batch_cases[i].managed;
		CU_ASSERT_EQUAL(zone_batchsize(&zone), batch_cases[i].batch);
	}
}

/*
 * Take the DMA zone's movable blocks of pageblock order and above, so that the next
 * unmovable request must steal a block smaller than a pageblock (§6.5), which boosts the
 * watermarks (§2.4). Returns the pfns taken in @pfns (@nr set), 0 or -ENOMEM.
 */
static int strip_dma_pageblocks(struct machine *m, unsigned long *pfns, unsigned int *orders,
				int *nr, int max)
{
	struct zone *dma = zone_of(m, ZONE_DMA);

	*nr = 0;
	for (int o = MAX_ORDER - 1; o >= m->pageblock_order; o--) {
		while (dma->free_area[o].free_list[MIGRATE_MOVABLE].first != PFN_NIL) {
			if (*nr == max || __alloc_pages(m, &pfns[*nr], GFP_DMA | __GFP_MOVABLE,
							(unsigned int)o, 0, -1, 0, 1, NULL))
				return -ENOMEM;
			orders[(*nr)++] = (unsigned int)o;
		}
	}
	return 0;
}

/* Boost stays until kswapd is woken: without __GFP_KSWAPD_RECLAIM it stays, with it not. */
static const struct {
	gfp_t gfp;
	bool boost_stays;
} boost_cases[] = {
	{GFP_DMA, true},
	{GFP_DMA | __GFP_KSWAPD_RECLAIM, false},
	{GFP_DMA | GFP_KERNEL, false},
};

static void test_boost(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(boost_cases); i++) {
		struct machine_config cfg;
		struct machine *m;
		struct zone *dma;
		unsigned long pfns[16], pfn, wakeups, max_boost;
		unsigned int orders[16];
		int nr;

		machine_config_init(&cfg);
		cfg.mem_bytes = 1 * GiB;
		m = unit_boot(&cfg);
		dma = zone_of(m, ZONE_DMA);
		CU_ASSERT_EQUAL_FATAL(strip_dma_pageblocks(m, pfns, orders, &nr, 16), 0);
		CU_ASSERT_EQUAL(dma->watermark_boost, 0);
		wakeups = dma->kswapd_wakeups;
		max_boost = dma->_watermark[WMARK_HIGH] * 15000 / 10000;
		if (max_boost < m->pageblock_nr_pages)
			max_boost = m->pageblock_nr_pages;

		CU_ASSERT_EQUAL_FATAL(
			__alloc_pages(m, &pfn, boost_cases[i].gfp, 0, 0, -1, 0, 1, NULL), 0);
		CU_ASSERT_EQUAL(pfn_zone(m, pfn), dma);
		if (boost_cases[i].boost_stays) {
			CU_ASSERT_EQUAL(dma->watermark_boost, m->pageblock_nr_pages < max_boost
								      ? m->pageblock_nr_pages
								      : max_boost);
			CU_ASSERT_EQUAL(wmark_pages(dma, WMARK_LOW),
					dma->_watermark[WMARK_LOW] + dma->watermark_boost);
			CU_ASSERT_EQUAL(dma->kswapd_wakeups, wakeups);
		} else {
			CU_ASSERT_EQUAL(dma->watermark_boost, 0);
			CU_ASSERT_EQUAL(dma->kswapd_wakeups, wakeups + 1);
			CU_ASSERT_FALSE(dma->boosted);
		}
		ASSERT_VERIFIED(m);
		CU_ASSERT_EQUAL(free_pages(m, pfn, 0, 0, 1), 0);
		for (int j = 0; j < nr; j++)
			CU_ASSERT_EQUAL(free_pages(m, pfns[j], orders[j], 0, 1), 0);
		drain_all_pages(m);
		ASSERT_VERIFIED(m);
		CU_ASSERT_EQUAL(zone_page_state(dma, NR_FREE_PAGES), dma->managed_pages);
		machine_free(m);
	}
}

/* vm.watermark_boost_factor = 0 turns boosting off. */
static void test_no_boost(void)
{
	struct machine_config cfg;
	struct machine *m;
	unsigned long pfns[16], pfn;
	unsigned int orders[16];
	int nr;

	machine_config_init(&cfg);
	cfg.mem_bytes = 1 * GiB;
	m = unit_boot(&cfg);
	CU_ASSERT_EQUAL(machine_sysctl_set(m, "vm.watermark_boost_factor", "0"), 0);
	CU_ASSERT_EQUAL_FATAL(strip_dma_pageblocks(m, pfns, orders, &nr, 16), 0);
	CU_ASSERT_EQUAL_FATAL(__alloc_pages(m, &pfn, GFP_DMA, 0, 0, -1, 0, 1, NULL), 0);
	CU_ASSERT_EQUAL(zone_of(m, ZONE_DMA)->watermark_boost, 0);
	ASSERT_VERIFIED(m);
	machine_free(m);
}

/*
 * The steal above takes the order-8 block at pfn 0x100, in pageblock [0, 0x200) whose first
 * page is not in the DMA zone (it starts at pfn 1). 6.1's move_freepages_block() then starts
 * at the stolen block itself instead of giving up: 256 free pages moved, the other 256
 * counted as alike (not free, not movable), 512 >= 256, so the whole pageblock becomes
 * unmovable.
 */
static void test_steal_at_zone_start(void)
{
	struct machine_config cfg;
	struct machine *m;
	struct zone *dma;
	unsigned long pfns[16], pfn;
	unsigned int orders[16];
	int nr;

	machine_config_init(&cfg);
	cfg.mem_bytes = 1 * GiB;
	m = unit_boot(&cfg);
	dma = zone_of(m, ZONE_DMA);
	CU_ASSERT_EQUAL_FATAL(strip_dma_pageblocks(m, pfns, orders, &nr, 16), 0);
	CU_ASSERT_EQUAL(get_pageblock_migratetype(dma, 0x100), MIGRATE_MOVABLE);
	CU_ASSERT_EQUAL_FATAL(__alloc_pages(m, &pfn, GFP_DMA, 0, 0, -1, 0, 1, NULL), 0);
	CU_ASSERT(pfn >= 0x100 && pfn < 0x200);
	CU_ASSERT_EQUAL(get_pageblock_migratetype(dma, 0x100), MIGRATE_UNMOVABLE);
	ASSERT_VERIFIED(m);
	CU_ASSERT_EQUAL(free_pages(m, pfn, 0, 0, 1), 0);
	for (int j = 0; j < nr; j++)
		CU_ASSERT_EQUAL(free_pages(m, pfns[j], orders[j], 0, 1), 0);
	drain_all_pages(m);
	ASSERT_VERIFIED(m);
	machine_free(m);
}

static CU_TestInfo tests[] = {
	{"spec 10.5 hand example", test_hand_example},
	{"real kernels: watermarks, protection, pcp, thresholds", test_real_kernels},
	{"zone_batchsize table", test_batchsize},
	{"watermark boost after a fallback steal", test_boost},
	{"no boost with boost factor 0", test_no_boost},
	{"steal at an unaligned zone start claims the pageblock", test_steal_at_zone_start},
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("wmark", NULL, NULL, tests);
