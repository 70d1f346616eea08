// SPDX-License-Identifier: MIT
/*
 * plan.c - routing decisions of the coordinator (see plan.h): validation of an allocation,
 * its memory policy, the zones it may try in zonelist order, and where pfns and kernel
 * addresses live.
 *
 * Mirrors:    mm/page_alloc.c prepare_alloc_pages(), mm/mempolicy.c policy_node() and
 *             interleave_nodes() (Linux 6.1.y)
 * Simplified: see plan.h
 * Differs:    see plan.h
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "plan.h"
#include "slab.h"

static uint64_t all_nodes(const struct machine *m)
{
	return m->nr_nodes >= 64 ? ~0ull : (1ull << m->nr_nodes) - 1;
}

/* next_node_in(): the next node of @mask after @prev, wrapping around. */
static int next_node_in(int prev, uint64_t mask)
{
	for (int i = 1; i <= MAX_NUMNODES; i++) {
		int n = (prev + i) % MAX_NUMNODES;

		if (mask & (1ull << n))
			return n;
	}
	return -1;
}

static int check_mask(const struct coord_alloc_args *a, gfp_t gfp, char *err, size_t len)
{
	if (gfp & ~__GFP_BITS_MASK) {
		snprintf(err, len, "mode %#x has bits above __GFP_BITS_MASK (%#x)", gfp,
			 __GFP_BITS_MASK);
		return -EINVAL;
	}
	if (gfp_zone(gfp) < 0) {
		snprintf(err, len, "mode %#x: its zone modifiers name no zone", gfp);
		return -EINVAL;
	}
	if ((gfp & GFP_MOVABLE_MASK) == GFP_MOVABLE_MASK) {
		snprintf(err, len, "mode %#x: __GFP_MOVABLE and __GFP_RECLAIMABLE together", gfp);
		return -EINVAL;
	}
	if (a->order >= MAX_ORDER) {
		snprintf(err, len, "order %u is above the largest order (%d)", a->order,
			 MAX_ORDER - 1);
		return -EINVAL;
	}
	return 0;
}

static int check_policy(const struct machine *m, const struct coord_alloc_args *a, char *err,
			size_t len)
{
	if (a->cpu < 0 || a->cpu >= m->ncpus) {
		snprintf(err, len, "cpu %d does not exist (cpus 0-%d)", a->cpu, m->ncpus - 1);
		return -EINVAL;
	}
	switch (a->policy) {
	case COORD_POLICY_LOCAL:
		return 0;
	case COORD_POLICY_PREFERRED:
		if (a->preferred >= 0 && a->preferred < m->nr_nodes)
			return 0;
		snprintf(err, len, "preferred node %d does not exist (nodes 0-%d)", a->preferred,
			 m->nr_nodes - 1);
		return -EINVAL;
	case COORD_POLICY_BIND:
	case COORD_POLICY_INTERLEAVE:
		if (a->nodemask && !(a->nodemask & ~all_nodes(m)))
			return 0;
		snprintf(err, len, "nodemask %#llx must name nodes among 0-%d",
			 (unsigned long long)a->nodemask, m->nr_nodes - 1);
		return -EINVAL;
	default:
		snprintf(err, len, "unknown memory policy %d", a->policy);
		return -EINVAL;
	}
}

/* policy_zone: the highest zone type, Movable aside, that any node has memory in. */
static int policy_zone(const struct machine *m)
{
	int pz = ZONE_DMA;

	for (int nid = 0; nid < m->nr_nodes; nid++)
		for (int z = pz + 1; z < ZONE_MOVABLE; z++)
			if (m->node_data[nid]->node_zones[z].managed_pages)
				pz = z;
	return pz;
}

/*
 * policy_node(): the node whose zonelist the request walks, and the nodes it may use. As
 * 6.1's policy_nodemask()/apply_policy_zone(), a bind policy applies only to requests that
 * may use the policy zone (HighMem on these machines): GFP_KERNEL ignores it.
 */
static void apply_policy(struct coord_alloc_plan *p, const struct machine *m,
			 const struct coord_alloc_args *a, int *il_prev)
{
	p->zonelist_nid = m->cpu_to_node[a->cpu];
	p->nodemask = all_nodes(m);
	p->interleave_nid = -1;
	switch (a->policy) {
	case COORD_POLICY_PREFERRED:
		p->zonelist_nid = a->preferred;
		break;
	case COORD_POLICY_BIND:
		if (p->hz >= policy_zone(m))
			p->nodemask = a->nodemask;
		break;
	case COORD_POLICY_INTERLEAVE:
		/* alloc_page_interleave(): that node first, no nodemask */
		p->zonelist_nid = next_node_in(*il_prev, a->nodemask);
		p->interleave_nid = p->zonelist_nid;
		*il_prev = p->zonelist_nid;
		break;
	default:
		break;
	}
}

static void build_walk(struct coord_alloc_plan *p, const struct machine *m)
{
	const struct zoneref *zr = m->node_data[p->zonelist_nid]->node_zonelists[p->list]._zonerefs;

	p->nr = 0;
	p->preferred_nid = -1;
	p->preferred_zone = -1;
	for (; zr->nid >= 0 && p->nr < COORD_WALK_MAX; zr++) {
		struct coord_zoneref *z = &p->z[p->nr];

		if (zr->zone_idx > p->hz)
			continue;
		z->nid = zr->nid;
		z->zone_idx = zr->zone_idx;
		z->allowed = (p->nodemask >> zr->nid) & 1;
		if (z->allowed && p->preferred_nid < 0) {
			p->preferred_nid = z->nid;
			p->preferred_zone = z->zone_idx;
		}
		p->nr++;
	}
}

int coord_alloc_plan(struct coord_alloc_plan *p, const struct machine *m,
		     const struct coord_alloc_args *a, int *il_prev, char *err, size_t len)
{
	int ret = check_mask(a, a->gfp, err, len);

	if (!ret)
		ret = check_policy(m, a, err, len);
	if (ret)
		return ret;
	memset(p, 0, offsetof(struct coord_alloc_plan, z));
	p->hz = gfp_zone(a->gfp);
	p->migratetype = gfp_migratetype(a->gfp);
	p->list = a->gfp & __GFP_THISNODE ? ZONELIST_NOFALLBACK : ZONELIST_FALLBACK;
	p->fast_flags = ALLOC_WMARK_LOW | (a->gfp & __GFP_KSWAPD_RECLAIM ? ALLOC_KSWAPD : 0);
	p->slow_flags = gfp_to_alloc_flags(a->gfp, a->order);
	apply_policy(p, m, a, il_prev);
	build_walk(p, m);
	return 0;
}

int coord_plan_nodes(const struct coord_alloc_plan *p, int *nids)
{
	uint64_t seen = 0;
	int n = 0;

	for (int i = 0; i < p->nr; i++) {
		int nid = p->z[i].nid;

		if (!p->z[i].allowed || (seen >> nid) & 1)
			continue;
		seen |= 1ull << nid;
		nids[n++] = nid;
	}
	return n;
}

int coord_slab_nodes(const struct machine *m, int nid, int *nids)
{
	const struct zoneref *zr = m->node_data[nid]->node_zonelists[ZONELIST_FALLBACK]._zonerefs;
	uint64_t seen = 0;
	int n = 0;

	for (; zr->nid >= 0; zr++) {
		if ((seen >> zr->nid) & 1)
			continue;
		seen |= 1ull << zr->nid;
		if (node_has_normal_memory(m, zr->nid))
			nids[n++] = zr->nid;
	}
	return n;
}

int coord_pfn_node(const struct machine *m, uint64_t pfn)
{
	for (int nid = 0; nid < m->nr_nodes; nid++)
		if (pfn >= m->layout.nodes[nid].start_pfn && pfn < m->layout.nodes[nid].end_pfn)
			return nid;
	return -1;
}

int coord_addr_node(const struct machine *m, uint64_t addr)
{
	unsigned long pfn;

	if (addr > ~0ul)
		return -1;
	pfn = virt_to_pfn(m, (unsigned long)addr);
	return pfn == ~0ul ? -1 : coord_pfn_node(m, pfn);
}

int coord_node_distance(const struct machine *m, int a, int b)
{
	int d = m->cfg.distance[a][b];

	return d ? d : (a == b ? 10 : 20);
}

void coord_enomem_message(char *buf, size_t len, unsigned int order, gfp_t gfp,
			  const char *const *whys, int n)
{
	int total = 0, down = 0, low = 0, frag = 0;
	const char *why;

	for (int i = 0; i < n; i++) {
		if (!strcmp(whys[i], COORD_WHY_POLICY))
			continue;
		total++;
		down += !strcmp(whys[i], COORD_WHY_NODE_DOWN);
		low += !strcmp(whys[i], "watermark") || !strcmp(whys[i], "lowmem_reserve");
		frag += !strcmp(whys[i], "fragmented");
	}
	if (!n)
		why = "its zonelist has no zone this mode may use";
	else if (!total)
		why = "no zone is allowed by the memory policy";
	else if (down == total)
		why = "every node it may use is down";
	else if (low + down == total)
		why = down ? "every allowed zone is below its watermark or on a node that is down"
			   : "every allowed zone is below its watermark";
	else if (frag + down == total)
		why = "no allowed zone has a free block of that order";
	else if (low + frag + down == total)
		why = "every allowed zone is below its watermark or has no free block of that "
		      "order";
	else
		why = "no allowed zone could serve it";
	snprintf(buf, len, "order:%u mode:%#x: %s", order, gfp, why);
}
