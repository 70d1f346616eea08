// SPDX-License-Identifier: MIT
/*
 * zonelist.c - the order in which an allocation tries zones: node order by distance.
 *
 * Mirrors:    mm/page_alloc.c (Linux 6.1.y): find_next_best_node, build_zonelists,
 *             build_zonerefs_node, build_thisnode_zonelists, __build_all_zonelists
 * Simplified: no memory hotplug rebuilds
 * Differs:    nothing; node_load is shared by all nodes of one build, as in the kernel
 */
#include <limits.h>
#include <string.h>

#include "internal.h"

#define PENALTY_FOR_NODE_WITH_CPUS 1

static int node_distance(const struct machine *m, int a, int b)
{
	int d = m->cfg.distance[a][b];

	return d ? d : (a == b ? 10 : 20);
}

static int find_next_best_node(const struct machine *m, int node, bool *used, int *node_load)
{
	int best = -1, min_val = INT_MAX;

	if (!used[node]) {
		used[node] = true;
		return node;
	}
	for (int n = 0; n < m->nr_nodes; n++) {
		int val;

		if (used[n] || !m->node_data[n]->node_present_pages)
			continue;
		val = node_distance(m, node, n) + (n < node);
		if (m->layout.nodes[n].ncpus)
			val += PENALTY_FOR_NODE_WITH_CPUS;
		val = val * MAX_NUMNODES + node_load[n];
		if (val < min_val) {
			min_val = val;
			best = n;
		}
	}
	if (best >= 0)
		used[best] = true;
	return best;
}

/* Zones of @nid with managed pages, highest index first. */
static int build_zonerefs_node(const struct machine *m, int nid, struct zoneref *zrefs)
{
	int nr = 0;

	for (int z = MAX_NR_ZONES - 1; z >= 0; z--) {
		if (!m->node_data[nid]->node_zones[z].managed_pages)
			continue;
		zrefs[nr].nid = nid;
		zrefs[nr++].zone_idx = z;
	}
	return nr;
}

static void build_zonelists(struct machine *m, pg_data_t *pgdat, int *node_load)
{
	bool used[MAX_NUMNODES] = {false};
	struct zoneref *fb = pgdat->node_zonelists[ZONELIST_FALLBACK]._zonerefs;
	struct zoneref *tn = pgdat->node_zonelists[ZONELIST_NOFALLBACK]._zonerefs;
	int local = pgdat->node_id, prev = local, node, nr = 0;

	while ((node = find_next_best_node(m, local, used, node_load)) >= 0) {
		if (node_distance(m, local, node) != node_distance(m, local, prev))
			node_load[node]++;
		nr += build_zonerefs_node(m, node, fb + nr);
		prev = node;
	}
	fb[nr].nid = -1;
	nr = build_zonerefs_node(m, local, tn);
	tn[nr].nid = -1;
}

void build_all_zonelists(struct machine *m)
{
	int node_load[MAX_NUMNODES];

	memset(node_load, 0, sizeof(node_load));
	for_each_node(m, nid) build_zonelists(m, m->node_data[nid], node_load);
}
