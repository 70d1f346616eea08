// SPDX-License-Identifier: MIT
/*
 * test_pcp.c - the per-CPU page lists (ALLOCATOR-SPEC.md §4.3-4.5): refills of batch pages,
 * physically ascending; frees to the list head; the spill above high through
 * free_pcppages_bulk() from the list tail; draining; which orders use the lists.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "mm_debug.h"
#include "unit.h"

#define OWNER 1u

static struct machine *boot(enum mm_arch arch, uint64_t mem, int ncpus)
{
	struct machine_config cfg;
	char err[MM_ERRLEN] = "";
	struct machine *m = NULL;
	int ret;

	machine_config_init(&cfg);
	cfg.arch = arch;
	cfg.mem_bytes = mem;
	cfg.ncpus = ncpus;
	ret = machine_new(&m, &cfg, err);
	ASSERT_BOOTED(ret, err);
	/* boot leaves the slab layer's refill on CPU 0's list: start with empty lists */
	drain_all_pages(m);
	return m;
}

static int pindex(int mt, unsigned int order)
{
	return MIGRATE_PCPTYPES * (int)order + mt;
}

/* The pfns on one pcp list, head first; returns how many (at most @max). */
static int pcp_list_pfns(const struct zone *zone, int cpu, int pidx, unsigned long *out, int max)
{
	const pg_data_t *pgdat = zone->zone_pgdat;
	int n = 0;

	for (uint32_t i = zone->per_cpu_pageset[cpu].lists[pidx].first; i != PFN_NIL && n < max;
	     i = idx_page(pgdat, i)->next)
		out[n++] = pgdat->node_start_pfn + i;
	return n;
}

/*
 * An order-0 refill takes batch pages from the buddy lists; from a fresh high-order block
 * they come physically ascending. Reclaimable: no block of that type exists before, so the
 * refill steals a whole MAX_ORDER block.
 */
static void test_refill_ascending(void)
{
	const gfp_t gfp = GFP_KERNEL | __GFP_RECLAIMABLE;
	const int cpu = 1;
	struct machine *m = boot(ARCH_686_PAE, 1 * GiB, 2);
	struct zone *normal = zone_of(m, ZONE_NORMAL);
	struct per_cpu_pages *pcp = &normal->per_cpu_pageset[cpu];
	unsigned long free_before = zone_page_state(normal, NR_FREE_PAGES);
	unsigned long first, pfn, listed[64];
	int batch = pcp->batch, n;

	CU_ASSERT_EQUAL_FATAL(batch, 63);
	CU_ASSERT_EQUAL(pcp->count, 0);
	CU_ASSERT_EQUAL_FATAL(__alloc_pages(m, &first, gfp, 0, cpu, -1, 0, OWNER, NULL), 0);
	CU_ASSERT_EQUAL(zone_page_state(normal, NR_FREE_PAGES), free_before - (unsigned long)batch);
	CU_ASSERT_EQUAL(pcp->count, batch - 1);
	n = pcp_list_pfns(normal, cpu, pindex(MIGRATE_RECLAIMABLE, 0), listed, 64);
	CU_ASSERT_EQUAL(n, batch - 1);
	for (int i = 0; i < n; i++)
		CU_ASSERT_EQUAL(listed[i], first + 1 + (unsigned long)i);
	/* the next allocations come off the head: first + 1, first + 2, ... */
	for (int i = 1; i < batch; i++) {
		CU_ASSERT_EQUAL_FATAL(__alloc_pages(m, &pfn, gfp, 0, cpu, -1, 0, OWNER, NULL), 0);
		CU_ASSERT_EQUAL(pfn, first + (unsigned long)i);
	}
	CU_ASSERT_EQUAL(pcp->count, 0);
	/* the other CPU's list was never touched */
	CU_ASSERT_EQUAL(normal->per_cpu_pageset[0].count, 0);
	ASSERT_VERIFIED(m);
	for (int i = 0; i < batch; i++)
		CU_ASSERT_EQUAL(free_pages(m, first + (unsigned long)i, 0, cpu, OWNER), 0);
	drain_all_pages(m);
	ASSERT_VERIFIED(m);
	machine_free(m);
}

/* Frees go to the head of the list (LIFO), with the pageblock's migratetype cached. */
static void test_free_to_head(void)
{
	struct machine *m = boot(ARCH_686_PAE, 1 * GiB, 2);
	struct zone *normal = zone_of(m, ZONE_NORMAL);
	unsigned long pfn[3], listed[8];
	int n, pidx;

	for (int i = 0; i < 3; i++)
		CU_ASSERT_EQUAL_FATAL(
			__alloc_pages(m, &pfn[i], GFP_KERNEL, 0, 1, -1, 0, OWNER, NULL), 0);
	drain_all_pages(m);
	for (int i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(free_pages(m, pfn[i], 0, 1, OWNER), 0);
	pidx = pindex(get_pageblock_migratetype(normal, pfn[0]), 0);
	n = pcp_list_pfns(normal, 1, pidx, listed, 8);
	CU_ASSERT_EQUAL_FATAL(n, 3);
	CU_ASSERT_EQUAL(listed[0], pfn[2]);
	CU_ASSERT_EQUAL(listed[1], pfn[1]);
	CU_ASSERT_EQUAL(listed[2], pfn[0]);
	CU_ASSERT_EQUAL(normal->per_cpu_pageset[1].count, 3);
	CU_ASSERT_EQUAL(pfn_to_page(normal, pfn[0])->index,
			(uint32_t)get_pageblock_migratetype(normal, pfn[0]));
	/* and the next allocation on that CPU takes the last page freed */
	{
		unsigned long again;

		CU_ASSERT_EQUAL_FATAL(
			__alloc_pages(m, &again, GFP_KERNEL, 0, 1, -1, 0, OWNER, NULL), 0);
		CU_ASSERT_EQUAL(again, pfn[2]);
		CU_ASSERT_EQUAL(free_pages(m, again, 0, 1, OWNER), 0);
	}
	ASSERT_VERIFIED(m);
	machine_free(m);
}

/*
 * When a free brings count to high, free_pcppages_bulk() gives back
 * clamp(batch << free_factor, batch, high - batch) pages, oldest (list tail) first.
 */
static void test_spill_above_high(void)
{
	struct machine *m = boot(ARCH_686_PAE, 1 * GiB, 2);
	struct zone *normal = zone_of(m, ZONE_NORMAL);
	struct per_cpu_pages *pcp = &normal->per_cpu_pageset[0];
	int high = pcp->high, batch = pcp->batch;
	unsigned long *pfns = calloc((size_t)high + 1, sizeof(*pfns)), free_before;

	CU_ASSERT_PTR_NOT_NULL_FATAL(pfns);
	CU_ASSERT_EQUAL_FATAL(high, 6651);
	for (int i = 0; i < high; i++)
		CU_ASSERT_EQUAL_FATAL(
			__alloc_pages(m, &pfns[i], GFP_KERNEL, 0, 0, -1, 0, OWNER, NULL), 0);
	drain_all_pages(m);
	CU_ASSERT_EQUAL(pcp->count, 0);
	CU_ASSERT_EQUAL(pcp->free_factor, 0);
	for (int i = 0; i < high - 1; i++)
		CU_ASSERT_EQUAL(free_pages(m, pfns[i], 0, 0, OWNER), 0);
	CU_ASSERT_EQUAL(pcp->count, high - 1);
	free_before = zone_page_state(normal, NR_FREE_PAGES);
	/* this free reaches high: batch pages (free_factor 0) leave from the tail */
	CU_ASSERT_EQUAL(free_pages(m, pfns[high - 1], 0, 0, OWNER), 0);
	CU_ASSERT_EQUAL(pcp->count, high - batch);
	CU_ASSERT_EQUAL(zone_page_state(normal, NR_FREE_PAGES), free_before + (unsigned long)batch);
	CU_ASSERT_EQUAL(pcp->free_factor, 1);
	for (int i = 0; i < batch; i++)
		CU_ASSERT_FALSE(page_flags(pfn_to_page(normal, pfns[i])) & PG_pcp);
	CU_ASSERT_TRUE(page_flags(pfn_to_page(normal, pfns[batch])) & PG_pcp);
	ASSERT_VERIFIED(m);
	/* consecutive spills double the chunk: next one frees batch << 1 */
	{
		unsigned long pfn;
		int before;

		/* allocate on the other CPU: this one's list and free_factor stay as they are */
		for (int i = 0; i < batch; i++)
			CU_ASSERT_EQUAL_FATAL(
				__alloc_pages(m, &pfns[i], GFP_KERNEL, 0, 1, -1, 0, OWNER, NULL),
				0);
		for (int i = 0; i < batch - 1; i++)
			CU_ASSERT_EQUAL(free_pages(m, pfns[i], 0, 0, OWNER), 0);
		before = pcp->count;
		CU_ASSERT_EQUAL(before, high - 1);
		pfn = pfns[batch - 1];
		CU_ASSERT_EQUAL(free_pages(m, pfn, 0, 0, OWNER), 0);
		CU_ASSERT_EQUAL(pcp->count, high - 2 * batch);
	}
	ASSERT_VERIFIED(m);
	free(pfns);
	machine_free(m);
}

/* drain_all_pages() empties every list of every CPU into the buddy lists. */
static void test_drain(void)
{
	struct machine *m = boot(ARCH_686_PAE, 1 * GiB, 4);
	static const gfp_t gfps[] = {GFP_KERNEL, GFP_HIGHUSER_MOVABLE, GFP_DMA, GFP_ATOMIC,
				     GFP_KERNEL | __GFP_RECLAIMABLE};
	unsigned long pfns[4][ARRAY_SIZE(gfps)][4], free0[MAX_NR_ZONES];

	for (int z = 0; z < MAX_NR_ZONES; z++)
		free0[z] = zone_page_state(zone_of(m, z), NR_FREE_PAGES);

	for (int cpu = 0; cpu < 4; cpu++)
		for (size_t g = 0; g < ARRAY_SIZE(gfps); g++)
			for (unsigned int o = 0; o <= PAGE_ALLOC_COSTLY_ORDER; o++)
				CU_ASSERT_EQUAL_FATAL(__alloc_pages(m, &pfns[cpu][g][o], gfps[g], o,
								    cpu, -1, 0, OWNER, NULL),
						      0);
	for (int cpu = 0; cpu < 4; cpu++)
		for (size_t g = 0; g < ARRAY_SIZE(gfps); g++)
			for (unsigned int o = 0; o <= PAGE_ALLOC_COSTLY_ORDER; o++)
				CU_ASSERT_EQUAL(free_pages(m, pfns[cpu][g][o], o, 3 - cpu, OWNER),
						0);
	CU_ASSERT(zone_pcp_count(zone_of(m, ZONE_NORMAL)) > 0);
	ASSERT_VERIFIED(m);
	drain_all_pages(m);
	for (int z = 0; z < MAX_NR_ZONES; z++) {
		struct zone *zone = zone_of(m, z);

		CU_ASSERT_EQUAL(zone_pcp_count(zone), 0);
		CU_ASSERT_EQUAL(zone_page_state(zone, NR_FREE_PAGES), free0[z]);
		for (int cpu = 0; zone->per_cpu_pageset && cpu < 4; cpu++)
			for (int l = 0; l < NR_PCP_LISTS; l++)
				CU_ASSERT_EQUAL(zone->per_cpu_pageset[cpu].lists[l].first, PFN_NIL);
	}
	ASSERT_VERIFIED(m);
	machine_free(m);
}

/* pcp_allowed_order(): orders 0..3 and pageblock_order (THP) only (§4.3). */
static const struct {
	enum mm_arch arch;
	gfp_t gfp;
	unsigned int order;
	bool pcp;
} order_cases[] = {
	{ARCH_686_PAE, GFP_KERNEL, 0, true},   {ARCH_686_PAE, GFP_KERNEL, 3, true},
	{ARCH_686_PAE, GFP_KERNEL, 4, false},  {ARCH_686_PAE, GFP_KERNEL, 8, false},
	{ARCH_686_PAE, GFP_KERNEL, 9, true},   {ARCH_686_PAE, GFP_USER | __GFP_MOVABLE, 9, true},
	{ARCH_686_PAE, GFP_KERNEL, 10, false}, {ARCH_686, GFP_KERNEL, 9, false},
	{ARCH_686, GFP_KERNEL, 10, true},      {ARCH_686, GFP_USER | __GFP_MOVABLE, 10, true},
};

static void test_pcp_orders(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(order_cases); i++) {
		struct machine *m = boot(order_cases[i].arch, 1 * GiB, 2);
		struct zone *normal = zone_of(m, ZONE_NORMAL);
		struct per_cpu_pages *pcp = &normal->per_cpu_pageset[0];
		unsigned int o = order_cases[i].order;
		int thp_list = NR_LOWORDER_PCP_LISTS +
			       (gfp_migratetype(order_cases[i].gfp) == MIGRATE_MOVABLE);
		unsigned long free_before = zone_page_state(normal, NR_FREE_PAGES), pfn;

		CU_ASSERT_EQUAL(pcp_allowed_order(m, o), order_cases[i].pcp);
		CU_ASSERT_EQUAL_FATAL(
			__alloc_pages(m, &pfn, order_cases[i].gfp, o, 0, -1, 0, OWNER, NULL), 0);
		if (order_cases[i].pcp) {
			/* a refill of max(batch >> order, 2) blocks, one handed out */
			int blocks = pcp->batch >> o > 2 ? pcp->batch >> o : 2;

			CU_ASSERT_EQUAL(pcp->count, (blocks - 1) << o);
			CU_ASSERT_EQUAL(zone_page_state(normal, NR_FREE_PAGES),
					free_before - ((unsigned long)blocks << o));
			if (o > PAGE_ALLOC_COSTLY_ORDER)
				CU_ASSERT_NOT_EQUAL(pcp->lists[thp_list].first, PFN_NIL);
		} else {
			CU_ASSERT_EQUAL(pcp->count, 0);
			CU_ASSERT_EQUAL(zone_page_state(normal, NR_FREE_PAGES),
					free_before - (1ul << o));
		}
		ASSERT_VERIFIED(m);
		CU_ASSERT_EQUAL(free_pages(m, pfn, o, 0, OWNER), 0);
		if (order_cases[i].pcp) {
			CU_ASSERT_NOT_EQUAL(pcp->count, 0);
		} else {
			CU_ASSERT_EQUAL(zone_page_state(normal, NR_FREE_PAGES), free_before);
		}
		drain_all_pages(m);
		CU_ASSERT_EQUAL(zone_page_state(normal, NR_FREE_PAGES), free_before);
		ASSERT_VERIFIED(m);
		machine_free(m);
	}
}

static CU_TestInfo tests[] = {
	{"order-0 refill is batch pages, ascending", test_refill_ascending},
	{"frees go to the list head", test_free_to_head},
	{"count >= high spills from the tail", test_spill_above_high},
	{"drain_all_pages empties every list", test_drain},
	{"which orders use the pcp lists", test_pcp_orders},
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("pcp", NULL, NULL, tests);
