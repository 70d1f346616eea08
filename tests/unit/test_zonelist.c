// SPDX-License-Identifier: MIT
/*
 * test_zonelist.c - which zones an allocation may use and in what order: the fallback
 * from HighMem to Normal to DMA, lowmem_reserve protection (ALLOCATOR-SPEC.md §5.4-5.5),
 * NUMA zonelists in node-distance order, __GFP_THISNODE, nodemasks and the numa_* counters.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "mm_debug.h"
#include "unit.h"

#define OWNER 1u

/* Blocks a test holds, to give back at the end; the free counts to come back to. */
struct held {
	unsigned long free0[MAX_NUMNODES][MAX_NR_ZONES];
	int nr, max;
	struct {
		unsigned long pfn;
		unsigned int order;
	} * b;
};

/* Start holding on a quiet machine: empty pcp lists, free counts recorded. */
static void held_init(struct machine *m, struct held *h)
{
	memset(h, 0, sizeof(*h));
	drain_all_pages(m);
	for_each_node(m, nid) for_each_zone_of(m->node_data[nid], zone) h->free0[nid][zone->idx] =
		zone_page_state(zone, NR_FREE_PAGES);
}

static void hold(struct held *h, unsigned long pfn, unsigned int order)
{
	if (h->nr == h->max) {
		h->max = h->max ? 2 * h->max : 1024;
		h->b = realloc(h->b, sizeof(*h->b) * (size_t)h->max);
		if (!h->b)
			abort();
	}
	h->b[h->nr].pfn = pfn;
	h->b[h->nr++].order = order;
}

static void release_all(struct machine *m, struct held *h)
{
	for (int i = 0; i < h->nr; i++)
		CU_ASSERT_EQUAL(free_pages(m, h->b[i].pfn, h->b[i].order, 0, OWNER), 0);
	free(h->b);
	h->b = NULL;
	h->nr = h->max = 0;
	drain_all_pages(m);
	for_each_node(m, nid) for_each_zone_of(m->node_data[nid], zone)
		CU_ASSERT_EQUAL(zone_page_state(zone, NR_FREE_PAGES), h->free0[nid][zone->idx]);
}

/* The nodes of a zonelist in order, one entry per node (zones of a node are adjacent). */
static int zonelist_nodes(const struct zoneref *zr, int *nodes, int max)
{
	int n = 0;

	for (; zr->nid >= 0; zr++)
		if ((!n || nodes[n - 1] != zr->nid) && n < max)
			nodes[n++] = zr->nid;
	return n;
}

/*
 * UMA: the fallback list is the populated zones, highest first; GFP_HIGHUSER walks
 * HighMem -> Normal -> DMA. For every allocation served by zone Z, the trace of the pass
 * that succeeded must list exactly the zones before Z as refused.
 */
static void test_fallback_order(void)
{
	static const int order[] = {ZONE_HIGHMEM, ZONE_NORMAL, ZONE_DMA};
	struct machine *m = unit_boot_1g();
	const struct zoneref *zr = m->node_data[0]->node_zonelists[ZONELIST_FALLBACK]._zonerefs;
	struct held h;
	struct alloc_trace trace;
	bool served[3] = {false, false, false};
	unsigned long pfn;

	held_init(m, &h);
	for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
		CU_ASSERT_EQUAL(zr[i].nid, 0);
		CU_ASSERT_EQUAL(zr[i].zone_idx, order[i]);
	}
	CU_ASSERT_EQUAL(zr[ARRAY_SIZE(order)].nid, -1);

	while (__alloc_pages(m, &pfn, GFP_HIGHUSER, MAX_ORDER - 1, 0, -1, 0, OWNER, &trace) == 0) {
		int z = (int)pfn_zone(m, pfn)->idx, pos = 0;

		while (order[pos] != z)
			pos++;
		served[pos] = true;
		CU_ASSERT_EQUAL(trace.nr, pos);
		for (int i = 0; i < pos && i < trace.nr; i++)
			CU_ASSERT_EQUAL(trace.z[i].zone_idx, order[i]);
		hold(&h, pfn, MAX_ORDER - 1);
	}
	CU_ASSERT_TRUE(served[0] && served[1] && served[2]);
	CU_ASSERT_NOT_EQUAL(trace.reason[0], '\0');
	ASSERT_VERIFIED(m);
	release_all(m, &h);
	ASSERT_VERIFIED(m);
	machine_free(m);
}

/*
 * lowmem_reserve: once GFP_HIGHUSER has used up HighMem and Normal, DMA still refuses it
 * while free <= min + lowmem_reserve[HIGHMEM]; GFP_DMA (highest zone DMA, reserve 0) is
 * served from the same zone.
 */
static void test_lowmem_reserve(void)
{
	struct machine *m = unit_boot_1g();
	struct zone *dma = &m->node_data[0]->node_zones[ZONE_DMA];
	struct held h;
	struct alloc_trace trace;
	unsigned long pfn;
	const int last_dma_entry = 2;

	held_init(m, &h);
	for (unsigned int o = MAX_ORDER; o-- > 0;)
		while (__alloc_pages(m, &pfn, GFP_HIGHUSER, o, 0, -1, 0, OWNER, &trace) == 0)
			hold(&h, pfn, o);
	/* the failing request's last pass saw DMA above its own watermark, refused by reserve */
	CU_ASSERT_EQUAL_FATAL(trace.nr, 3);
	CU_ASSERT_EQUAL(trace.z[last_dma_entry].zone_idx, ZONE_DMA);
	CU_ASSERT_EQUAL(trace.z[last_dma_entry].why, REFUSE_LOWMEM_RESERVE);
	CU_ASSERT_EQUAL(trace.z[last_dma_entry].reserve, dma->lowmem_reserve[ZONE_HIGHMEM]);
	CU_ASSERT(zone_page_state(dma, NR_FREE_PAGES) > dma->_watermark[WMARK_MIN]);
	CU_ASSERT(zone_page_state(dma, NR_FREE_PAGES) <=
		  dma->_watermark[WMARK_LOW] + (unsigned long)dma->lowmem_reserve[ZONE_HIGHMEM]);
	CU_ASSERT_FALSE(zone_watermark_ok(dma, 0, wmark_pages(dma, WMARK_MIN), ZONE_HIGHMEM, 0));
	CU_ASSERT_TRUE(zone_watermark_ok(dma, 0, wmark_pages(dma, WMARK_MIN), ZONE_DMA, 0));
	CU_ASSERT_EQUAL_FATAL(__alloc_pages(m, &pfn, GFP_DMA, 0, 0, -1, 0, OWNER, &trace), 0);
	CU_ASSERT_PTR_EQUAL(pfn_zone(m, pfn), dma);
	hold(&h, pfn, 0);
	ASSERT_VERIFIED(m);
	release_all(m, &h);
	ASSERT_VERIFIED(m);
	machine_free(m);
}

/*
 * Node order (find_next_best_node): local node first, then the unused node with the least
 * (distance + (n < local) + (n has CPUs)) * MAX_NUMNODES + node_load[n]; node_load[n] grows
 * by one when n opens a new distance group, and is shared by the builds of all nodes.
 *
 * Default SLIT (10 local, 20 remote), 4 nodes with one CPU each, built for node 0, 1, 2, 3:
 *   node 0: 1, 2, 3 all score 21*64; 1 wins the tie (lowest id) and opens the distance-20
 *           group: load[1] = 1. Then 2, then 3.                       -> 0 1 2 3
 *   node 1: 0 scores 22*64 (below us), 2 and 3 score 21*64: 2 (load[2] = 1), 3, 0 -> 1 2 3 0
 *   node 2: 3 scores 21*64, 0 22*64, 1 22*64+1: 3 (load[3] = 1), 0, 1         -> 2 3 0 1
 *   node 3: 0 scores 22*64, 1 and 2 22*64+1: 0 (load[0] = 1), then 1 wins the tie -> 3 0 1 2
 * A line of nodes with distances 10/20/30/40 (the SLIT of the amd64 capture
 * amd64_mem4096_smp4_numa4.txt, whose kernel printed these fallback orders):
 *   node 0: 0 1 2 3   node 1: 1 2 0 3   node 2: 2 3 1 0   node 3: 3 2 1 0
 */
static const struct {
	const char *slit;
	bool line;	 /* distance 10 * (|a - b| + 1) */
	int order[4][4]; /* node order of each node's fallback list */
} numa_cases[] = {
	{"default 10/20", false, {{0, 1, 2, 3}, {1, 2, 3, 0}, {2, 3, 0, 1}, {3, 0, 1, 2}}},
	{"line 10/20/30/40", true, {{0, 1, 2, 3}, {1, 2, 0, 3}, {2, 3, 1, 0}, {3, 2, 1, 0}}},
};

static struct machine *boot_numa4(bool line)
{
	struct machine_config cfg;

	machine_config_init(&cfg);
	cfg.mem_bytes = 4 * GiB;
	cfg.ncpus = 4;
	cfg.nr_nodes = 4;
	for (int a = 0; a < 4 && line; a++)
		for (int b = 0; b < 4; b++)
			cfg.distance[a][b] = (uint8_t)(10 * ((a > b ? a - b : b - a) + 1));
	return unit_boot(&cfg);
}

static void test_numa_zonelists(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(numa_cases); i++) {
		struct machine *m = boot_numa4(numa_cases[i].line);

		for (int nid = 0; nid < 4; nid++) {
			const pg_data_t *pgdat = m->node_data[nid];
			const struct zoneref *nofb =
				pgdat->node_zonelists[ZONELIST_NOFALLBACK]._zonerefs;
			int nodes[8], n;

			CU_ASSERT_EQUAL(m->cpu_to_node[nid], nid);
			n = zonelist_nodes(pgdat->node_zonelists[ZONELIST_FALLBACK]._zonerefs,
					   nodes, 8);
			CU_ASSERT_EQUAL(n, 4);
			for (int k = 0; k < 4 && k < n; k++)
				CU_ASSERT_EQUAL(nodes[k], numa_cases[i].order[nid][k]);
			/* __GFP_THISNODE's list: the node's own zones only */
			for (; nofb->nid >= 0; nofb++)
				CU_ASSERT_EQUAL(nofb->nid, nid);
		}
		/* lowmem is all on node 0: the others hold HighMem only */
		for (int nid = 1; nid < 4; nid++) {
			CU_ASSERT_EQUAL(m->node_data[nid]->node_zones[ZONE_NORMAL].present_pages,
					0);
			CU_ASSERT_NOT_EQUAL(
				m->node_data[nid]->node_zones[ZONE_HIGHMEM].present_pages, 0);
		}
		ASSERT_VERIFIED(m);
		machine_free(m);
	}
}

struct numa_counts {
	unsigned long v[NR_VM_NUMA_EVENT_ITEMS];
};

static void numa_counts(struct zone *zone, struct numa_counts *c)
{
	for (int i = 0; i < NR_VM_NUMA_EVENT_ITEMS; i++)
		c->v[i] = zone_numa_sum(zone, (enum numa_stat_item)i);
}

/* The counters that moved by one since @before; others must not have moved. */
static void check_numa_delta(struct zone *zone, const struct numa_counts *before, const int *items,
			     int nr)
{
	struct numa_counts now;

	numa_counts(zone, &now);
	for (int i = 0; i < NR_VM_NUMA_EVENT_ITEMS; i++) {
		unsigned long want = before->v[i];

		for (int k = 0; k < nr; k++)
			if (items[k] == i)
				want++;
		CU_ASSERT_EQUAL(now.v[i], want);
	}
}

/*
 * NUMA counters are relative to the preferred zone, the first zone of the requesting
 * node's zonelist the request may use (zone_statistics()):
 *  - GFP_HIGHUSER from CPU 2, served by node 2's HighMem: numa_hit + numa_local there.
 *  - GFP_KERNEL from CPU 2: node 2 has no Normal zone, so the preferred zone is node 0's
 *    Normal, which serves it: numa_hit (preferred node) + numa_other (not CPU 2's node).
 *  - GFP_HIGHUSER from CPU 2 once node 2 is below its low watermark: served by node 3,
 *    numa_miss + numa_other at node 3, numa_foreign at node 2's HighMem.
 */
static void test_numa_placement(void)
{
	struct machine *m = boot_numa4(false);
	struct zone *n0_normal = &m->node_data[0]->node_zones[ZONE_NORMAL];
	struct zone *n2_high = &m->node_data[2]->node_zones[ZONE_HIGHMEM];
	struct zone *n3_high = &m->node_data[3]->node_zones[ZONE_HIGHMEM];
	struct numa_counts c0, c2, c3;
	struct held h;
	struct alloc_trace trace;
	unsigned long pfn;
	const int cpu = 2;

	held_init(m, &h);
	numa_counts(n2_high, &c2);
	CU_ASSERT_EQUAL_FATAL(__alloc_pages(m, &pfn, GFP_HIGHUSER, 0, cpu, -1, 0, OWNER, NULL), 0);
	CU_ASSERT_PTR_EQUAL(pfn_zone(m, pfn), n2_high);
	check_numa_delta(n2_high, &c2, (const int[]){NUMA_HIT, NUMA_LOCAL}, 2);
	hold(&h, pfn, 0);

	numa_counts(n0_normal, &c0);
	CU_ASSERT_EQUAL_FATAL(__alloc_pages(m, &pfn, GFP_KERNEL, 0, cpu, -1, 0, OWNER, NULL), 0);
	CU_ASSERT_PTR_EQUAL(pfn_zone(m, pfn), n0_normal);
	check_numa_delta(n0_normal, &c0, (const int[]){NUMA_HIT, NUMA_OTHER}, 2);
	hold(&h, pfn, 0);

	/* __GFP_THISNODE: node 2 has no lowmem, so GFP_KERNEL cannot be served at all */
	CU_ASSERT_EQUAL(
		__alloc_pages(m, &pfn, GFP_KERNEL | __GFP_THISNODE, 0, cpu, -1, 0, OWNER, &trace),
		-ENOMEM);
	/* a nodemask without node 0 leaves GFP_KERNEL nothing either */
	CU_ASSERT_EQUAL(__alloc_pages(m, &pfn, GFP_KERNEL, 0, cpu, -1, 1ull << 1, OWNER, &trace),
			-ENOMEM);
	/* a nodemask picks the node */
	CU_ASSERT_EQUAL_FATAL(
		__alloc_pages(m, &pfn, GFP_HIGHUSER, 0, cpu, -1, 1ull << 1, OWNER, NULL), 0);
	CU_ASSERT_EQUAL(pfn_zone(m, pfn)->zone_pgdat->node_id, 1);
	hold(&h, pfn, 0);

	/* fill node 2 until the allocator moves on: the next node in its list is 3 */
	for (;;) {
		numa_counts(n2_high, &c2);
		numa_counts(n3_high, &c3);
		CU_ASSERT_EQUAL_FATAL(__alloc_pages(m, &pfn, GFP_HIGHUSER, MAX_ORDER - 1, cpu, -1,
						    0, OWNER, NULL),
				      0);
		hold(&h, pfn, MAX_ORDER - 1);
		if (pfn_zone(m, pfn) != n2_high)
			break;
	}
	CU_ASSERT_PTR_EQUAL(pfn_zone(m, pfn), n3_high);
	check_numa_delta(n3_high, &c3, (const int[]){NUMA_MISS, NUMA_OTHER}, 2);
	check_numa_delta(n2_high, &c2, (const int[]){NUMA_FOREIGN}, 1);

	/* __GFP_THISNODE stays on node 2 (down to its min watermark), then fails */
	while (__alloc_pages(m, &pfn, GFP_HIGHUSER | __GFP_THISNODE, MAX_ORDER - 1, cpu, -1, 0,
			     OWNER, &trace) == 0) {
		CU_ASSERT_PTR_EQUAL(pfn_zone(m, pfn), n2_high);
		hold(&h, pfn, MAX_ORDER - 1);
	}
	CU_ASSERT(trace.nr > 0);
	for (int i = 0; i < trace.nr; i++)
		CU_ASSERT_EQUAL(trace.z[i].nid, 2);
	/* so does a nodemask of node 2 alone */
	CU_ASSERT_EQUAL(__alloc_pages(m, &pfn, GFP_HIGHUSER, MAX_ORDER - 1, cpu, -1, 1ull << 2,
				      OWNER, &trace),
			-ENOMEM);
	/* while preferring another node works around it */
	CU_ASSERT_EQUAL_FATAL(
		__alloc_pages(m, &pfn, GFP_HIGHUSER, MAX_ORDER - 1, cpu, 3, 0, OWNER, NULL), 0);
	CU_ASSERT_PTR_EQUAL(pfn_zone(m, pfn), n3_high);
	hold(&h, pfn, MAX_ORDER - 1);
	ASSERT_VERIFIED(m);
	release_all(m, &h);
	ASSERT_VERIFIED(m);
	machine_free(m);
}

static CU_TestInfo tests[] = {
	{"HighMem -> Normal -> DMA fallback", test_fallback_order},
	{"lowmem_reserve protects DMA from GFP_HIGHUSER", test_lowmem_reserve},
	{"NUMA zonelists in distance order", test_numa_zonelists},
	{"NUMA placement, THISNODE, nodemask, counters", test_numa_placement},
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("zonelist", NULL, NULL, tests);
