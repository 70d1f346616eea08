// SPDX-License-Identifier: MIT
/*
 * frag.c - what the views say before and after a run: free blocks per zone and order
 * (buddyinfo --json), the NUMA counters (numastat --json), node_stats; and the two
 * fragmentation figures the kernel computes from free blocks (mm/vmstat.c, Linux 6.1,
 * debugfs extfrag/unusable_index and extfrag/extfrag_index).
 *
 * For a zone and a requested order, with
 *   free_pages        = sum over o of nr_free[o] << o
 *   free_blocks_total = sum over o of nr_free[o]
 *   suitable          = sum over o >= order of nr_free[o] << (o - order)
 * the unusable free space index is (free_pages - (suitable << order)) / free_pages, 1 when
 * nothing is free: the share of free memory too fragmented for the order. The fragmentation
 * index is -1 when the order can be served (suitable > 0), 0 when nothing is free, else
 * 1 - (1 + free_pages / 2^order) / free_blocks_total: towards 0 a failure would be for lack
 * of memory, towards 1 for fragmentation. Both are integers in thousandths, with the
 * kernel's integer divisions, so they match its output digit for digit.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

const char *const bench_numa_names[BENCH_NR_NUMA] = {
	"numa_hit", "numa_miss", "numa_foreign", "interleave_hit", "local_node", "other_node",
};

struct contig_info {
	uint64_t free_pages;	       /* pages free in the zone */
	uint64_t free_blocks_total;    /* free blocks of any order */
	uint64_t free_blocks_suitable; /* blocks of the order the free blocks could give */
};

static void fill_contig_info(const uint64_t nr_free[BENCH_NR_ORDERS], unsigned int order,
			     struct contig_info *info)
{
	memset(info, 0, sizeof(*info));
	for (unsigned int o = 0; o < BENCH_NR_ORDERS; o++) {
		info->free_blocks_total += nr_free[o];
		info->free_pages += nr_free[o] << o;
		if (o >= order)
			info->free_blocks_suitable += nr_free[o] << (o - order);
	}
}

int bench_unusable_index(const uint64_t nr_free[BENCH_NR_ORDERS], unsigned int order)
{
	struct contig_info info;

	fill_contig_info(nr_free, order, &info);
	if (!info.free_pages)
		return 1000;
	return (int)((info.free_pages - (info.free_blocks_suitable << order)) * 1000 /
		     info.free_pages);
}

int bench_extfrag_index(const uint64_t nr_free[BENCH_NR_ORDERS], unsigned int order)
{
	struct contig_info info;
	uint64_t requested = 1ull << order;

	if (order >= BENCH_NR_ORDERS)
		return 0;
	fill_contig_info(nr_free, order, &info);
	if (!info.free_blocks_total)
		return 0;
	if (info.free_blocks_suitable)
		return -1000;
	return 1000 - (int)((1000 + info.free_pages * 1000 / requested) / info.free_blocks_total);
}

void bench_index_format(int index, char *buf, size_t len)
{
	int a = index < 0 ? -index : index;

	snprintf(buf, len, "%s%d.%03d", index < 0 ? "-" : "", a / 1000, a % 1000);
}

/* ------------------------------------------------------------------ parsing the views */

static void add_zone(struct bench_snapshot *s, const struct bench_json *z)
{
	const struct bench_json *name = bench_json_get(z, "zone");
	const struct bench_json *free_ = bench_json_get(z, "free");
	struct bench_zone_free *zf;

	if (!name || name->type != BJ_STR || !free_ || free_->type != BJ_ARR ||
	    s->nr_zones == BENCH_MAX_ZONES)
		return;
	zf = &s->zones[s->nr_zones++];
	memset(zf, 0, sizeof(*zf));
	zf->node = (int)bench_json_int(bench_json_get(z, "node"), -1);
	snprintf(zf->zone, sizeof(zf->zone), "%s", name->str);
	for (size_t o = 0; o < free_->n && o < BENCH_NR_ORDERS; o++)
		zf->nr_free[o] = (uint64_t)bench_json_int(free_->items[o], 0);
}

static void add_numa(struct bench_snapshot *s, const struct bench_json *n)
{
	struct bench_node_numa *nn;

	if (s->nr_numa == BENCH_MAX_NODES)
		return;
	nn = &s->numa[s->nr_numa++];
	nn->node = (int)bench_json_int(bench_json_get(n, "node"), -1);
	for (int i = 0; i < BENCH_NR_NUMA; i++)
		nn->v[i] = (uint64_t)bench_json_int(bench_json_get(n, bench_numa_names[i]), 0);
}

/* Every object in the tree that has @key1 and @key2 goes to @add. */
static void walk(struct bench_snapshot *s, const struct bench_json *j, const char *key1,
		 const char *key2, void (*add)(struct bench_snapshot *, const struct bench_json *))
{
	if (j->type == BJ_OBJ && bench_json_get(j, key1) && bench_json_get(j, key2)) {
		add(s, j);
		return;
	}
	if (j->type == BJ_OBJ || j->type == BJ_ARR)
		for (size_t i = 0; i < j->n; i++)
			walk(s, j->items[i], key1, key2, add);
}

int bench_snapshot_buddyinfo(struct bench_snapshot *s, const char *json)
{
	struct bench_json *j = bench_json_parse(json);

	if (!j)
		return -EINVAL;
	s->nr_zones = 0;
	walk(s, j, "zone", "free", add_zone);
	bench_json_free(j);
	return 0;
}

int bench_snapshot_numastat(struct bench_snapshot *s, const char *json)
{
	struct bench_json *j = bench_json_parse(json);

	if (!j)
		return -EINVAL;
	s->nr_numa = 0;
	walk(s, j, "node", "numa_hit", add_numa);
	bench_json_free(j);
	return 0;
}

const struct bench_zone_free *bench_snapshot_zone(const struct bench_snapshot *s, int node,
						  const char *zone)
{
	for (int i = 0; s && i < s->nr_zones; i++)
		if (s->zones[i].node == node && !strcmp(s->zones[i].zone, zone))
			return &s->zones[i];
	return NULL;
}

const struct bench_node_numa *bench_snapshot_numa(const struct bench_snapshot *s, int node)
{
	for (int i = 0; s && i < s->nr_numa; i++)
		if (s->numa[i].node == node)
			return &s->numa[i];
	return NULL;
}

const struct bench_node_stat *bench_snapshot_stat(const struct bench_snapshot *s, int node)
{
	for (int i = 0; s && i < s->nr_stats; i++)
		if (s->stats[i].node == node)
			return &s->stats[i];
	return NULL;
}
