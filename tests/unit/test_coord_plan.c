// SPDX-License-Identifier: MIT
/*
 * test_coord_plan.c - the coordinator's routing decisions (server/plan.c) on the 4-node
 * sample machine: validation, memory policies, the zones of a walk in zonelist order,
 * where pfns and kernel addresses live, and the ENOMEM message.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "plan.h"
#include "unit.h"

static struct machine *m;

static int setup(void)
{
	static const char text[] =
		"[machine]\narch = 686-pae\ncpus = 4\nnode_mem = 1G,1G,1G,1G\n"
		"distance = 10 20 30 40; 20 10 20 30; 30 20 10 20; 40 30 20 10\n";
	struct coord_config cfg;
	char err[COORD_ERRLEN];
	int ret = coord_config_parse(&cfg, text, "plan", err, sizeof(err));

	if (!ret)
		ret = coord_machine_new(&m, &cfg, err, sizeof(err));
	coord_config_release(&cfg);
	return ret ? -1 : 0;
}

static int teardown(void)
{
	machine_free(m);
	m = NULL;
	return 0;
}

static int plan(struct coord_alloc_plan *p, gfp_t gfp, unsigned int order, int cpu, int policy,
		int preferred, uint64_t mask, int *il_prev, char *err)
{
	struct coord_alloc_args a = {gfp, order, cpu, policy, preferred, mask};
	int scratch = MAX_NUMNODES - 1;

	return coord_alloc_plan(p, m, &a, il_prev ? il_prev : &scratch, err, COORD_ERRLEN);
}

/* GFP_KERNEL from node 2's CPU: lowmem lives on node 0 only, so a miss by construction. */
static void test_local_lowmem(void)
{
	static struct coord_alloc_plan p;
	char err[COORD_ERRLEN];

	CU_ASSERT_EQUAL_FATAL(plan(&p, GFP_KERNEL, 0, 2, COORD_POLICY_LOCAL, 0, 0, NULL, err), 0);
	CU_ASSERT_EQUAL(p.hz, ZONE_NORMAL);
	CU_ASSERT_EQUAL(p.zonelist_nid, 2);
	CU_ASSERT_EQUAL(p.list, ZONELIST_FALLBACK);
	CU_ASSERT_EQUAL_FATAL(p.nr, 2);
	CU_ASSERT(p.z[0].nid == 0 && p.z[0].zone_idx == ZONE_NORMAL && p.z[0].allowed);
	CU_ASSERT(p.z[1].nid == 0 && p.z[1].zone_idx == ZONE_DMA);
	CU_ASSERT_EQUAL(p.preferred_nid, 0);
	CU_ASSERT_EQUAL(p.preferred_zone, ZONE_NORMAL);
	CU_ASSERT_EQUAL(p.fast_flags, ALLOC_WMARK_LOW | ALLOC_KSWAPD);
	CU_ASSERT_EQUAL(p.slow_flags, gfp_to_alloc_flags(GFP_KERNEL, 0));
	CU_ASSERT_EQUAL(p.interleave_nid, -1);
}

/* GFP_HIGHUSER_MOVABLE: the local node's HighMem first, every zone of the zonelist after. */
static void test_local_highmem(void)
{
	static struct coord_alloc_plan p;
	const struct zoneref *zr = m->node_data[2]->node_zonelists[ZONELIST_FALLBACK]._zonerefs;
	char err[COORD_ERRLEN];
	int n = 0;

	CU_ASSERT_EQUAL_FATAL(
		plan(&p, GFP_HIGHUSER_MOVABLE, 3, 2, COORD_POLICY_LOCAL, 0, 0, NULL, err), 0);
	CU_ASSERT_EQUAL(p.hz, ZONE_MOVABLE);
	CU_ASSERT(p.z[0].nid == 2 && p.z[0].zone_idx == ZONE_HIGHMEM);
	CU_ASSERT_EQUAL(p.preferred_nid, 2);
	for (; zr->nid >= 0; zr++, n++)
		CU_ASSERT(n < p.nr && p.z[n].nid == zr->nid && p.z[n].zone_idx == zr->zone_idx);
	CU_ASSERT_EQUAL(p.nr, n);
	CU_ASSERT_EQUAL(p.migratetype, MIGRATE_MOVABLE);
}

static void test_thisnode(void)
{
	static struct coord_alloc_plan p;
	char err[COORD_ERRLEN];

	CU_ASSERT_EQUAL_FATAL(
		plan(&p, GFP_KERNEL | __GFP_THISNODE, 0, 1, COORD_POLICY_LOCAL, 0, 0, NULL, err),
		0);
	CU_ASSERT_EQUAL(p.list, ZONELIST_NOFALLBACK);
	CU_ASSERT_EQUAL(p.nr, 0); /* node 1 holds HighMem only */
	CU_ASSERT_EQUAL(p.preferred_nid, -1);
	CU_ASSERT_EQUAL_FATAL(
		plan(&p, GFP_HIGHUSER | __GFP_THISNODE, 0, 1, COORD_POLICY_LOCAL, 0, 0, NULL, err),
		0);
	CU_ASSERT_EQUAL(p.nr, 1);
	CU_ASSERT(p.z[0].nid == 1 && p.z[0].zone_idx == ZONE_HIGHMEM);
}

static void test_bind_and_preferred(void)
{
	static struct coord_alloc_plan p;
	char err[COORD_ERRLEN];
	int allowed = 0;

	/* 6.1 applies a bind policy only from the policy zone (HighMem) up: GFP_KERNEL ignores it */
	CU_ASSERT_EQUAL_FATAL(plan(&p, GFP_KERNEL, 0, 1, COORD_POLICY_BIND, 0, 1u << 3, NULL, err),
			      0);
	CU_ASSERT_EQUAL(p.preferred_nid, 0); /* node 0's Normal, as without a policy */
	for (int i = 0; i < p.nr; i++)
		allowed += p.z[i].allowed;
	CU_ASSERT_EQUAL(allowed, p.nr);
	CU_ASSERT_EQUAL_FATAL(
		plan(&p, GFP_HIGHUSER, 0, 1, COORD_POLICY_BIND, 0, 1u << 3, NULL, err), 0);
	CU_ASSERT_EQUAL(p.zonelist_nid, 1); /* the CPU's node's zonelist, filtered */
	CU_ASSERT_EQUAL(p.preferred_nid, 3);
	CU_ASSERT_EQUAL_FATAL(plan(&p, GFP_HIGHUSER, 0, 0, COORD_POLICY_PREFERRED, 3, 0, NULL, err),
			      0);
	CU_ASSERT_EQUAL(p.zonelist_nid, 3);
	CU_ASSERT(p.z[0].nid == 3 && p.z[0].allowed);
}

static void test_interleave(void)
{
	static struct coord_alloc_plan p;
	char err[COORD_ERRLEN];
	int il_prev = MAX_NUMNODES - 1;
	const int expect[] = {2, 3, 2, 3};

	for (int i = 0; i < 4; i++) {
		CU_ASSERT_EQUAL_FATAL(plan(&p, GFP_HIGHUSER_MOVABLE, 0, 0, COORD_POLICY_INTERLEAVE,
					   0, 0xc, &il_prev, err),
				      0);
		CU_ASSERT_EQUAL(p.interleave_nid, expect[i]);
		CU_ASSERT_EQUAL(p.preferred_nid, expect[i]);
		CU_ASSERT(p.z[p.nr - 1].allowed); /* no nodemask: node 0's zones stay allowed */
	}
}

static const struct {
	gfp_t gfp;	    /* mask */
	unsigned int order; /* order */
	int cpu;	    /* cpu */
	int policy;	    /* policy */
	int preferred;	    /* preferred node */
	uint64_t mask;	    /* nodemask */
	const char *error;  /* message */
} bad_requests[] = {
	{GFP_KERNEL, 11, 0, 0, 0, 0, "order 11 is above the largest order (10)"},
	{GFP_KERNEL, 0, 4, 0, 0, 0, "cpu 4 does not exist (cpus 0-3)"},
	{GFP_KERNEL, 0, -1, 0, 0, 0, "cpu -1 does not exist (cpus 0-3)"},
	{__GFP_DMA | __GFP_HIGHMEM, 0, 0, 0, 0, 0, "mode 0x3: its zone modifiers name no zone"},
	{GFP_KERNEL | __GFP_MOVABLE | __GFP_RECLAIMABLE, 0, 0, 0, 0, 0,
	 "mode 0xcd8: __GFP_MOVABLE and __GFP_RECLAIMABLE together"},
	{0x1000000, 0, 0, 0, 0, 0, "mode 0x1000000 has bits above __GFP_BITS_MASK (0xffffff)"},
	{GFP_KERNEL, 0, 0, COORD_POLICY_PREFERRED, 4, 0,
	 "preferred node 4 does not exist (nodes 0-3)"},
	{GFP_KERNEL, 0, 0, COORD_POLICY_BIND, 0, 0, "nodemask 0 must name nodes among 0-3"},
	{GFP_KERNEL, 0, 0, COORD_POLICY_INTERLEAVE, 0, 0x30,
	 "nodemask 0x30 must name nodes among 0-3"},
	{GFP_KERNEL, 0, 0, 9, 0, 0, "unknown memory policy 9"},
};

static void test_bad_requests(void)
{
	static struct coord_alloc_plan p;

	for (size_t i = 0; i < sizeof(bad_requests) / sizeof(bad_requests[0]); i++) {
		char err[COORD_ERRLEN] = "";

		CU_ASSERT_EQUAL(plan(&p, bad_requests[i].gfp, bad_requests[i].order,
				     bad_requests[i].cpu, bad_requests[i].policy,
				     bad_requests[i].preferred, bad_requests[i].mask, NULL, err),
				-EINVAL);
		CU_ASSERT_STRING_EQUAL(err, bad_requests[i].error);
	}
}

static void test_where(void)
{
	int nids[MAX_NUMNODES];
	unsigned long end = m->layout.nodes[3].end_pfn;

	CU_ASSERT_EQUAL(coord_slab_nodes(m, 2, nids), 1);
	CU_ASSERT_EQUAL(nids[0], 0);
	CU_ASSERT_EQUAL(coord_pfn_node(m, 0x1000), 0);
	CU_ASSERT_EQUAL(coord_pfn_node(m, m->layout.nodes[2].start_pfn), 2);
	CU_ASSERT_EQUAL(coord_pfn_node(m, end - 1), 3);
	CU_ASSERT_EQUAL(coord_pfn_node(m, end), -1);
	CU_ASSERT_EQUAL(coord_addr_node(m, PAGE_OFFSET + 0x123456), 0);
	CU_ASSERT_EQUAL(coord_addr_node(m, 0x1000), -1);
	CU_ASSERT_EQUAL(coord_addr_node(m, 0xffffe000), -1); /* above lowmem */
	CU_ASSERT_EQUAL(coord_node_distance(m, 0, 3), 40);
	CU_ASSERT_EQUAL(coord_node_distance(m, 2, 2), 10);
}

static void test_enomem_message(void)
{
	static const char *const low[] = {"watermark", "lowmem_reserve", COORD_WHY_POLICY};
	static const char *const down[] = {COORD_WHY_NODE_DOWN, COORD_WHY_POLICY};
	static const char *const frag[] = {"fragmented", COORD_WHY_NODE_DOWN};
	static const char *const mixed[] = {"watermark", "empty"};
	char buf[256];

	coord_enomem_message(buf, sizeof(buf), 3, GFP_KERNEL, low, 3);
	CU_ASSERT_STRING_EQUAL(buf,
			       "order:3 mode:0xcc0: every allowed zone is below its watermark");
	coord_enomem_message(buf, sizeof(buf), 0, GFP_KERNEL, down, 2);
	CU_ASSERT_STRING_EQUAL(buf, "order:0 mode:0xcc0: every node it may use is down");
	coord_enomem_message(buf, sizeof(buf), 10, GFP_DMA, frag, 2);
	CU_ASSERT_STRING_EQUAL(buf,
			       "order:10 mode:0x1: no allowed zone has a free block of that order");
	coord_enomem_message(buf, sizeof(buf), 0, GFP_KERNEL, mixed, 2);
	CU_ASSERT_STRING_EQUAL(buf, "order:0 mode:0xcc0: no allowed zone could serve it");
	coord_enomem_message(buf, sizeof(buf), 0, GFP_KERNEL, low + 2, 1);
	CU_ASSERT_STRING_EQUAL(buf, "order:0 mode:0xcc0: no zone is allowed by the memory policy");
	coord_enomem_message(buf, sizeof(buf), 0, GFP_KERNEL, NULL, 0);
	CU_ASSERT_STRING_EQUAL(buf,
			       "order:0 mode:0xcc0: its zonelist has no zone this mode may use");
}

static CU_TestInfo tests[] = {
	{"local lowmem request is a miss", test_local_lowmem},
	{"local highmem walk follows the zonelist", test_local_highmem},
	{"__GFP_THISNODE", test_thisnode},
	{"bind and preferred", test_bind_and_preferred},
	{"interleave round-robin", test_interleave},
	{"bad requests", test_bad_requests},
	{"pfns, addresses, slab nodes", test_where},
	{"ENOMEM message", test_enomem_message},
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("coord_plan", setup, teardown, tests);
