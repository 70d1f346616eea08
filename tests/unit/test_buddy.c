// SPDX-License-Identifier: MIT
/*
 * test_buddy.c - the buddy allocator through __alloc_pages() / free_pages(): orders 0..10
 * from each zone, merging back to the boot state, list placement (boot frees ascending at
 * the tails, expand() halves at the heads, ALLOCATOR-SPEC.md §6.3-6.4), and the frees and
 * requests the model must refuse without changing anything.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "mm_debug.h"
#include "slab.h"
#include "unit.h"

#define OWNER 1u

/* 686-pae, 1 GiB (DMA, Normal and a small HighMem), 2 CPUs; @late_free 0 drops late frees. */
static struct machine *boot_1g(bool late_frees)
{
	struct machine_config cfg;
	struct machine *m;

	machine_config_init(&cfg);
	cfg.mem_bytes = 1 * GiB;
	cfg.ncpus = 2;
	for (int z = 0; z < MAX_NR_ZONES && !late_frees; z++)
		cfg.late_free[z] = 0;
	m = unit_boot(&cfg);
	/* boot leaves the slab layer's refill on CPU 0's list: start with empty lists */
	drain_all_pages(m);
	return m;
}

static unsigned long first_pfn(const struct zone *zone, unsigned int order, int mt)
{
	uint32_t idx = zone->free_area[order].free_list[mt].first;

	return idx == PFN_NIL ? ~0ul : zone->zone_pgdat->node_start_pfn + idx;
}

/* Free counts of every zone: what a free that is refused must leave alone. */
struct free_state {
	unsigned long nr_free[MAX_NR_ZONES][NR_PAGE_ORDERS];
	unsigned long free_pages[MAX_NR_ZONES];
	unsigned long pcp[MAX_NR_ZONES];
};

static void free_state(struct machine *m, struct free_state *s)
{
	memset(s, 0, sizeof(*s));
	for (int z = 0; z < MAX_NR_ZONES; z++) {
		struct zone *zone = zone_of(m, z);

		for (int o = 0; o < NR_PAGE_ORDERS; o++)
			s->nr_free[z][o] = zone->free_area[o].nr_free;
		s->free_pages[z] = zone_page_state(zone, NR_FREE_PAGES);
		s->pcp[z] = zone_pcp_count(zone);
	}
}

static bool same_state(struct machine *m, const struct free_state *before)
{
	struct free_state now;

	free_state(m, &now);
	return !memcmp(&now, before, sizeof(now));
}

/* Boot frees ranges in ascending order to the list tails: every list is address-ascending. */
static void test_boot_lists_ascending(void)
{
	struct machine *m = boot_1g(false);

	for (int z = 0; z < MAX_NR_ZONES; z++) {
		const struct zone *zone = zone_of(m, z);

		for (int o = 0; o < NR_PAGE_ORDERS; o++)
			for (int t = 0; t < MIGRATE_TYPES; t++) {
				const struct page_list *l = &zone->free_area[o].free_list[t];
				uint32_t prev = 0;
				bool ascending = true;

				for (uint32_t i = l->first; i != PFN_NIL;
				     i = idx_page(zone->zone_pgdat, i)->next) {
					ascending = ascending && (i > prev || i == l->first);
					prev = i;
				}
				CU_ASSERT_TRUE(ascending);
			}
	}
	/* so the first allocation of a fresh zone takes its lowest block */
	{
		struct zone *high = zone_of(m, ZONE_HIGHMEM);
		unsigned long want = first_pfn(high, MAX_ORDER - 1, MIGRATE_MOVABLE), pfn;

		CU_ASSERT_EQUAL_FATAL(__alloc_pages(m, &pfn, GFP_HIGHUSER_MOVABLE, MAX_ORDER - 1, 0,
						    -1, 0, OWNER, NULL),
				      0);
		CU_ASSERT_EQUAL(pfn, want);
		CU_ASSERT_EQUAL(pfn, (high->zone_start_pfn + MAX_ORDER_NR_PAGES - 1) &
					     ~(MAX_ORDER_NR_PAGES - 1));
		CU_ASSERT_EQUAL(free_pages(m, pfn, MAX_ORDER - 1, 0, OWNER), 0);
	}
	ASSERT_VERIFIED(m);
	machine_free(m);
}

static const struct {
	gfp_t gfp;
	enum zone_type zone; /* where a fresh machine serves it */
} gfp_cases[] = {
	{GFP_KERNEL, ZONE_NORMAL},    {GFP_ATOMIC, ZONE_NORMAL},
	{GFP_HIGHUSER, ZONE_HIGHMEM}, {GFP_HIGHUSER_MOVABLE, ZONE_HIGHMEM},
	{GFP_DMA, ZONE_DMA},	      {GFP_KERNEL | __GFP_RECLAIMABLE, ZONE_NORMAL},
};

/*
 * Every order from every zone; freeing everything merges back to the boot free lists
 * (the few pages the slab layer took at boot stay allocated throughout).
 */
static void test_orders_merge_back(void)
{
	struct machine *m = boot_1g(true);
	unsigned long pfns[ARRAY_SIZE(gfp_cases)][NR_PAGE_ORDERS];
	struct free_state boot_state, end_state;

	free_state(m, &boot_state);
	for (size_t g = 0; g < ARRAY_SIZE(gfp_cases); g++)
		for (unsigned int o = 0; o < NR_PAGE_ORDERS; o++) {
			unsigned long *pfn = &pfns[g][o];
			const struct page *page;
			struct zone *zone;

			CU_ASSERT_EQUAL_FATAL(__alloc_pages(m, pfn, gfp_cases[g].gfp, o, (int)o % 2,
							    -1, 0, OWNER + (uint32_t)g, NULL),
					      0);
			zone = pfn_zone(m, *pfn);
			CU_ASSERT_PTR_EQUAL(zone, zone_of(m, gfp_cases[g].zone));
			CU_ASSERT_EQUAL(*pfn & ((1ul << o) - 1), 0);
			page = pfn_to_page(zone, *pfn);
			CU_ASSERT_EQUAL(page_flags(page), PG_head);
			CU_ASSERT_EQUAL(page->private, o);
			CU_ASSERT_EQUAL(page->owner, OWNER + (uint32_t)g);
			CU_ASSERT_EQUAL(page->_refcount, 1);
			ASSERT_VERIFIED(m);
		}
	for (size_t g = ARRAY_SIZE(gfp_cases); g-- > 0;)
		for (unsigned int o = 0; o < NR_PAGE_ORDERS; o++)
			CU_ASSERT_EQUAL(
				free_pages(m, pfns[g][o], o, (int)(o + g) % 2, OWNER + (uint32_t)g),
				0);
	ASSERT_VERIFIED(m);
	drain_all_pages(m);
	ASSERT_VERIFIED(m);
	free_state(m, &end_state);
	for (int z = 0; z < MAX_NR_ZONES; z++) {
		CU_ASSERT_EQUAL(end_state.pcp[z], 0);
		CU_ASSERT_EQUAL(end_state.free_pages[z], boot_state.free_pages[z]);
	}
	CU_ASSERT_EQUAL(memcmp(end_state.nr_free, boot_state.nr_free, sizeof(boot_state.nr_free)),
			0);
	machine_free(m);
}

/*
 * expand(): the smallest free block of order K >= o is split; its upper halves go to the
 * heads of the lists of orders K-1 .. o. Repeated order-4 requests end up splitting a
 * MAX_ORDER block, checking every level.
 */
static void test_expand_heads(void)
{
	struct machine *m = boot_1g(true);
	struct zone *high = zone_of(m, ZONE_HIGHMEM);
	const unsigned int o = 4;
	unsigned long pfns[128];
	int nr = 0;
	bool split_top = false;

	while (!split_top && nr < (int)ARRAY_SIZE(pfns)) {
		unsigned int k = o;
		unsigned long want;

		while (k < MAX_ORDER && first_pfn(high, k, MIGRATE_MOVABLE) == ~0ul)
			k++;
		CU_ASSERT_FATAL(k < MAX_ORDER);
		want = first_pfn(high, k, MIGRATE_MOVABLE);
		CU_ASSERT_EQUAL_FATAL(
			__alloc_pages(m, &pfns[nr], GFP_HIGHUSER_MOVABLE, o, 0, -1, 0, OWNER, NULL),
			0);
		CU_ASSERT_EQUAL(pfns[nr], want);
		for (unsigned int j = o; j < k; j++)
			CU_ASSERT_EQUAL(first_pfn(high, j, MIGRATE_MOVABLE), want + (1ul << j));
		split_top = k == MAX_ORDER - 1;
		nr++;
	}
	CU_ASSERT_TRUE(split_top);
	ASSERT_VERIFIED(m);
	while (nr-- > 0)
		CU_ASSERT_EQUAL(free_pages(m, pfns[nr], o, 0, OWNER), 0);
	ASSERT_VERIFIED(m);
	machine_free(m);
}

/* A second free of the same block is refused and changes nothing, whatever the order. */
static const unsigned int double_free_orders[] = {0, 2, 3, 5, 9, 10};

static void test_double_free(void)
{
	struct machine *m = boot_1g(true);

	for (size_t i = 0; i < ARRAY_SIZE(double_free_orders); i++) {
		unsigned int o = double_free_orders[i];
		unsigned long pfn, bad = m->vm_events[PGFREE_BAD];
		struct free_state before;

		CU_ASSERT_EQUAL_FATAL(__alloc_pages(m, &pfn, GFP_KERNEL, o, 0, -1, 0, OWNER, NULL),
				      0);
		CU_ASSERT_EQUAL(free_pages(m, pfn, o, 0, OWNER), 0);
		free_state(m, &before);
		CU_ASSERT_EQUAL(free_pages(m, pfn, o, 0, OWNER), EBADPAGE_NOTALLOC);
		CU_ASSERT_EQUAL(free_pages(m, pfn, o, 1, OWNER_ANY), EBADPAGE_NOTALLOC);
		CU_ASSERT_TRUE(same_state(m, &before));
		CU_ASSERT_EQUAL(m->vm_events[PGFREE_BAD], bad + 2);
		ASSERT_VERIFIED(m);
	}
	machine_free(m);
}

enum bad_free { WRONG_ORDER_LOW, WRONG_ORDER_HIGH, FOREIGN, TAIL_PAGE, BAD_CPU, BAD_ORDER };

static const struct {
	const char *what;
	enum bad_free how;
	int ret;
} bad_free_cases[] = {
	{"order one below", WRONG_ORDER_LOW, EBADPAGE_ORDER},
	{"order one above", WRONG_ORDER_HIGH, EBADPAGE_ORDER},
	{"another owner", FOREIGN, EBADPAGE_OWNER},
	{"a tail page", TAIL_PAGE, EBADPAGE_NOTALLOC},
	{"no such cpu", BAD_CPU, -EINVAL},
	{"order 11", BAD_ORDER, -EINVAL},
};

/* Refused frees of a live order-3 block leave it allocated; the right free then works. */
static void test_bad_frees(void)
{
	struct machine *m = boot_1g(true);
	const unsigned int o = 3;

	for (size_t i = 0; i < ARRAY_SIZE(bad_free_cases); i++) {
		unsigned long pfn, at;
		unsigned int order = o;
		uint32_t owner = OWNER;
		int cpu = 0;
		struct free_state before;

		CU_ASSERT_EQUAL_FATAL(__alloc_pages(m, &pfn, GFP_KERNEL, o, 0, -1, 0, OWNER, NULL),
				      0);
		at = pfn;
		switch (bad_free_cases[i].how) {
		case WRONG_ORDER_LOW:
			order = o - 1;
			break;
		case WRONG_ORDER_HIGH:
			order = o + 1;
			break;
		case FOREIGN:
			owner = OWNER + 1;
			break;
		case TAIL_PAGE:
			at = pfn + 1;
			break;
		case BAD_CPU:
			cpu = m->ncpus;
			break;
		case BAD_ORDER:
			order = MAX_ORDER;
			break;
		}
		free_state(m, &before);
		CU_ASSERT_EQUAL(free_pages(m, at, order, cpu, owner), bad_free_cases[i].ret);
		CU_ASSERT_TRUE(same_state(m, &before));
		CU_ASSERT_EQUAL(page_flags(pfn_to_page(pfn_zone(m, pfn), pfn)), PG_head);
		ASSERT_VERIFIED(m);
		/* an administrator may free anyone's block */
		CU_ASSERT_EQUAL(free_pages(m, pfn, o, 0,
					   bad_free_cases[i].how == FOREIGN ? OWNER_ANY : OWNER),
				0);
		ASSERT_VERIFIED(m);
	}
	machine_free(m);
}

/* Frames that are not RAM, or never were handed out: refused, nothing changes. */
static void test_free_not_ram(void)
{
	struct machine *m = boot_1g(true);
	const struct {
		unsigned long pfn;
		int ret;
	} cases[] = {
		{0, EBADPAGE_NOTPRESENT},		  /* below the first RAM page */
		{0xa0, EBADPAGE_NOTPRESENT},		  /* the 640 KiB - 1 MiB hole */
		{0xff, EBADPAGE_NOTPRESENT},		  /* last page of that hole */
		{m->layout.max_pfn, EBADPAGE_NOTPRESENT}, /* past the end of RAM */
		{1ul << 30, EBADPAGE_NOTPRESENT},
		{0x10, EBADPAGE_NOTALLOC},  /* RAM, reserved at boot */
		{0x400, EBADPAGE_NOTALLOC}, /* RAM, free */
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct free_state before;
		char msg[80];
		int ret;

		free_state(m, &before);
		ret = free_pages(m, cases[i].pfn, 0, 0, OWNER_ANY);
		snprintf(msg, sizeof(msg), "free_pages(pfn %#lx) = %d, expected %d", cases[i].pfn,
			 ret, cases[i].ret);
		CU_assertImplementation(ret == cases[i].ret, __LINE__, msg, __FILE__, "", CU_FALSE);
		CU_ASSERT_TRUE(same_state(m, &before));
	}
	ASSERT_VERIFIED(m);
	machine_free(m);
}

/* Requests __alloc_pages() must reject before touching any zone. */
static const struct {
	const char *what;
	gfp_t gfp;
	unsigned int order;
	int cpu, nid;
} bad_requests[] = {
	{"order 11", GFP_KERNEL, MAX_ORDER, 0, -1},
	{"order 31", GFP_KERNEL, 31, 0, -1},
	{"DMA and HIGHMEM", __GFP_DMA | __GFP_HIGHMEM, 0, 0, -1},
	{"DMA and DMA32", GFP_KERNEL | __GFP_DMA | __GFP_DMA32, 0, 0, -1},
	{"MOVABLE and RECLAIMABLE", GFP_KERNEL | __GFP_MOVABLE | __GFP_RECLAIMABLE, 0, 0, -1},
	{"unknown bit", GFP_KERNEL | (1u << 24), 0, 0, -1},
	{"no such cpu", GFP_KERNEL, 0, 2, -1},
	{"negative cpu", GFP_KERNEL, 0, -1, -1},
	{"no such node", GFP_KERNEL, 0, 0, 1},
};

static void test_bad_requests(void)
{
	struct machine *m = boot_1g(true);

	for (size_t i = 0; i < ARRAY_SIZE(bad_requests); i++) {
		struct alloc_trace trace;
		struct free_state before;
		unsigned long pfn = 12345;

		free_state(m, &before);
		CU_ASSERT_EQUAL(__alloc_pages(m, &pfn, bad_requests[i].gfp, bad_requests[i].order,
					      bad_requests[i].cpu, bad_requests[i].nid, 0, OWNER,
					      &trace),
				-EINVAL);
		CU_ASSERT_NOT_EQUAL(trace.reason[0], '\0');
		CU_ASSERT_EQUAL(pfn, 12345);
		CU_ASSERT_TRUE(same_state(m, &before));
	}
	ASSERT_VERIFIED(m);
	machine_free(m);
}

enum corruption {
	C_NR_FREE,
	C_FREE_PAGES,
	C_PCP_COUNT,
	C_NOT_BUDDY,
	C_UNMERGED,
	C_WMARK,
	C_OVERLAP,
	C_PREV_LINK
};

/* zone_verify() itself: each kind of damage is reported, with a message that says which. */
static const struct {
	enum corruption how;
	const char *expect; /* a word of the message */
} corruption_cases[] = {
	{C_NR_FREE, "nr_free"},	    {C_FREE_PAGES, "NR_FREE_PAGES"}, {C_PCP_COUNT, "pcp count"},
	{C_NOT_BUDDY, "not buddy"}, {C_UNMERGED, "not merged"},	     {C_WMARK, "watermarks"},
	{C_OVERLAP, "inside"},	    {C_PREV_LINK, "prev link"},
};

/* The first free block of @zone with an order in [lo, hi) on a list of at least @len. */
static bool find_free_block(struct zone *zone, unsigned int lo, unsigned int hi, unsigned long len,
			    unsigned int *order, int *mt)
{
	for (unsigned int o = lo; o < hi; o++)
		for (int t = 0; t < MIGRATE_TYPES; t++)
			if (page_list_len(zone->zone_pgdat, &zone->free_area[o].free_list[t]) >=
			    len) {
				*order = o;
				*mt = t;
				return true;
			}
	return false;
}

/* Replace the free block at @pfn (order @o, type @mt) by its two halves, unmerged. */
static void split_free_block(struct zone *zone, unsigned long pfn, unsigned int o, int mt)
{
	pg_data_t *pgdat = zone->zone_pgdat;

	page_list_del(pgdat, &zone->free_area[o].free_list[mt], pfn_idx(pgdat, pfn));
	zone->free_area[o].nr_free--;
	for (int half = 0; half < 2; half++) {
		unsigned long p = pfn + ((unsigned long)half << (o - 1));
		struct page *page = pfn_to_page(zone, p);

		page->private = o - 1;
		page->index = (uint32_t)mt;
		set_page_flags(page, PG_buddy);
		page_list_add(pgdat, &zone->free_area[o - 1].free_list[mt], pfn_idx(pgdat, p),
			      true);
		zone->free_area[o - 1].nr_free++;
	}
}

static void corrupt(struct machine *m, struct zone *zone, enum corruption how)
{
	bool split = how == C_UNMERGED || how == C_OVERLAP;
	unsigned int o = 0;
	int mt = 0;
	unsigned long pfn;

	CU_ASSERT_FATAL(
		find_free_block(zone, split ? 1 : 0,
				how == C_UNMERGED ? (unsigned int)m->pageblock_order : MAX_ORDER,
				how == C_PREV_LINK ? 2 : 1, &o, &mt));
	pfn = first_pfn(zone, o, mt);
	switch (how) {
	case C_NR_FREE:
		zone->free_area[o].nr_free++;
		break;
	case C_FREE_PAGES:
		zone->vm_stat[NR_FREE_PAGES]--;
		break;
	case C_PCP_COUNT:
		CU_ASSERT_EQUAL_FATAL(__alloc_pages(m, &pfn, GFP_KERNEL, 0, 0, -1, 0, OWNER, NULL),
				      0);
		CU_ASSERT_EQUAL_FATAL(free_pages(m, pfn, 0, 0, OWNER), 0);
		pfn_zone(m, pfn)->per_cpu_pageset[0].count++;
		break;
	case C_NOT_BUDDY:
		set_page_flags(pfn_to_page(zone, pfn), 0);
		break;
	case C_UNMERGED:
		split_free_block(zone, pfn, o, mt);
		break;
	case C_WMARK:
		zone->_watermark[WMARK_MIN] = zone->_watermark[WMARK_LOW] + 1;
		break;
	case C_OVERLAP:
		set_page_flags(pfn_to_page(zone, pfn + 1), PG_head);
		break;
	case C_PREV_LINK:
		idx_page(zone->zone_pgdat, pfn_to_page(zone, pfn)->next)->prev = PFN_NIL;
		break;
	}
}

static void test_verify_catches(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(corruption_cases); i++) {
		struct machine_config cfg;
		struct machine *m = NULL;
		char err[MM_ERRLEN] = "";

		machine_config_init(&cfg);
		cfg.mem_bytes = 64ull << 20;
		CU_ASSERT_EQUAL_FATAL(machine_new(&m, &cfg, err), 0);
		drain_all_pages(m);
		ASSERT_VERIFIED(m);
		corrupt(m, zone_of(m, ZONE_NORMAL), corruption_cases[i].how);
		CU_ASSERT_EQUAL(machine_verify(m, err), -EUCLEAN);
		CU_assertImplementation(strstr(err, corruption_cases[i].expect) != NULL, __LINE__,
					err, __FILE__, "", CU_FALSE);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, "zone Normal"));
		machine_free(m);
	}
}

/* zone_dump(): a line per migratetype with the block counts per order, then nr_free. */
static void test_zone_dump(void)
{
	struct machine *m = boot_1g(true);
	char *text = NULL, line[32];
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	zone_dump(zone_of(m, ZONE_DMA), out);
	fclose(out);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "zone      DMA"));
	/* DMA after boot: one block of order 8, one of order 9, three of order 10 */
	snprintf(line, sizeof(line), "%6d %6d %6d\n", 1, 1, 3);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, line));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "nr_free"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "cpu 1: count 0 high 118 batch 1"));
	free(text);
	ASSERT_VERIFIED(m);
	machine_free(m);
}

/* A restarted node gets its blocks back: claim_free_block() on a fresh machine. */
static void test_claim_free_block(void)
{
	static const struct {
		gfp_t gfp;
		unsigned int order;
	} reqs[] = {{GFP_KERNEL, 0}, {GFP_KERNEL, 3},	 {GFP_HIGHUSER_MOVABLE, 9},
		    {GFP_DMA, 2},    {GFP_HIGHUSER, 10}, {GFP_KERNEL, 1}};
	struct machine *a = boot_1g(true), *b = boot_1g(true);
	unsigned long pfn[ARRAY_SIZE(reqs)];

	for (size_t i = 0; i < ARRAY_SIZE(reqs); i++)
		CU_ASSERT_EQUAL_FATAL(__alloc_pages(a, &pfn[i], reqs[i].gfp, reqs[i].order, 0, -1,
						    0, OWNER, NULL),
				      0);
	drain_all_pages(b);
	for (size_t i = 0; i < ARRAY_SIZE(reqs); i++) {
		int mt = gfp_migratetype(reqs[i].gfp);

		CU_ASSERT_EQUAL(claim_free_block(b, pfn[i], reqs[i].order, mt, OWNER), 0);
		CU_ASSERT_EQUAL(claim_free_block(b, pfn[i], reqs[i].order, mt, OWNER), -EBUSY);
	}
	CU_ASSERT_EQUAL(claim_free_block(b, pfn[1] + 1, 3, 0, OWNER), -EINVAL); /* misaligned */
	CU_ASSERT_EQUAL(claim_free_block(b, 0xa0, 0, 0, OWNER), -EINVAL);	/* a hole */
	ASSERT_VERIFIED(b);
	for (size_t i = 0; i < ARRAY_SIZE(reqs); i++) {
		CU_ASSERT_EQUAL(free_pages(b, pfn[i], reqs[i].order, 0, OWNER), 0);
		CU_ASSERT_EQUAL(free_pages(a, pfn[i], reqs[i].order, 0, OWNER), 0);
	}
	ASSERT_VERIFIED(a);
	ASSERT_VERIFIED(b);
	machine_free(a);
	machine_free(b);
}

/* The blocks a node reconciles: alloc_pages() blocks only, never slab or kmalloc_large. */
static void test_page_blocks_collect(void)
{
	static const struct {
		gfp_t gfp;
		unsigned int order;
	} reqs[] = {{GFP_HIGHUSER, 10}, {GFP_KERNEL, 3}, {GFP_DMA, 2}, {GFP_KERNEL, 0}};
	struct machine *m = boot_1g(true);
	unsigned long pfn[ARRAY_SIZE(reqs)], *pfns;
	unsigned int *orders;
	unsigned long obj, big;
	size_t n;

	n = page_blocks_collect(m, 0, &pfns, &orders);
	CU_ASSERT_EQUAL(n, 0); /* the boot caches' slabs are not page blocks */
	free(pfns);
	free(orders);
	for (size_t i = 0; i < ARRAY_SIZE(reqs); i++)
		CU_ASSERT_EQUAL_FATAL(__alloc_pages(m, &pfn[i], reqs[i].gfp, reqs[i].order, 0, -1,
						    0, OWNER, NULL),
				      0);
	obj = kmalloc(m, 64, GFP_KERNEL, 1);
	big = kmalloc(m, 64 << 10, GFP_KERNEL, 1); /* kmalloc_large: its own pages */
	CU_ASSERT(obj && big);
	n = page_blocks_collect(m, 0, &pfns, &orders);
	CU_ASSERT_EQUAL_FATAL(n, ARRAY_SIZE(reqs));
	for (size_t i = 0; i < n; i++) { /* ascending pfns: zone by zone, then in the zone */
		size_t k = 0;

		while (k < ARRAY_SIZE(reqs) && pfn[k] != pfns[i])
			k++;
		CU_ASSERT_FATAL(k < ARRAY_SIZE(reqs));
		CU_ASSERT_EQUAL(orders[i], reqs[k].order);
		CU_ASSERT(i == 0 || pfns[i] > pfns[i - 1]);
	}
	free(pfns);
	free(orders);
	CU_ASSERT_EQUAL(free_pages(m, pfn[1], reqs[1].order, 0, OWNER), 0);
	n = page_blocks_collect(m, 0, &pfns, &orders);
	CU_ASSERT_EQUAL(n, ARRAY_SIZE(reqs) - 1);
	for (size_t i = 0; i < n; i++)
		CU_ASSERT_NOT_EQUAL(pfns[i], pfn[1]);
	free(pfns);
	free(orders);
	CU_ASSERT_EQUAL(kfree(m, obj, 1), 0);
	CU_ASSERT_EQUAL(kfree(m, big, 1), 0);
	for (size_t i = 0; i < ARRAY_SIZE(reqs); i++)
		if (i != 1)
			CU_ASSERT_EQUAL(free_pages(m, pfn[i], reqs[i].order, 0, OWNER), 0);
	ASSERT_VERIFIED(m);
	machine_free(m);
}

static CU_TestInfo tests[] = {
	{"claim_free_block restores blocks", test_claim_free_block},
	{"page_blocks_collect finds page blocks only", test_page_blocks_collect},
	{"boot free lists are address-ascending", test_boot_lists_ascending},
	{"orders 0..10 per zone merge back to boot", test_orders_merge_back},
	{"expand puts upper halves at the heads", test_expand_heads},
	{"double free", test_double_free},
	{"wrong order, foreign owner, tail page", test_bad_frees},
	{"frees of pfns that are not RAM", test_free_not_ram},
	{"invalid requests", test_bad_requests},
	{"zone_verify catches corruption", test_verify_catches},
	{"zone_dump", test_zone_dump},
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("buddy", NULL, NULL, tests);
