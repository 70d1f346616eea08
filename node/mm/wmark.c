// SPDX-License-Identifier: MIT
/*
 * wmark.c - min_free_kbytes, watermarks, lowmem_reserve, totalreserve, pcp high/batch and
 * the vm stats threshold: every number the kernel derives from the managed page counts.
 *
 * Mirrors:    mm/page_alloc.c (calculate_min_free_kbytes, __setup_per_zone_wmarks,
 *             setup_per_zone_lowmem_reserve, calculate_totalreserve_pages, zone_batchsize,
 *             zone_highsize, boost_watermark), mm/khugepaged.c
 *             (set_recommended_min_free_kbytes), mm/vmstat.c (calculate_normal_threshold),
 *             Linux 6.1.y
 * Simplified: no CPU hotplug (every CPU is online from boot)
 * Differs:    globals of the kernel are fields of struct machine; the zones of nodes held by
 *             other processes take part with their managed counts (their pages are elsewhere)
 *
 * Callers hold machine->sysctl_lock (or run at boot, single-threaded). Watermark fields are
 * written with WRITE_ONCE because allocating CPUs read them without a lock.
 */
#include "internal.h"

#define MIN_FREE_KBYTES_MIN 128
#define MIN_FREE_KBYTES_MAX 262144

static unsigned long mult_frac(unsigned long x, unsigned long n, unsigned long d)
{
	return (x / d) * n + ((x % d) * n) / d;
}

static unsigned long int_sqrt(unsigned long long x)
{
	unsigned long long r = 0, bit = 1ull << 62;

	while (bit > x)
		bit >>= 2;
	while (bit) {
		if (x >= r + bit) {
			x -= r + bit;
			r = (r >> 1) + bit;
		} else {
			r >>= 1;
		}
		bit >>= 2;
	}
	return (unsigned long)r;
}

static int fls_ul(unsigned long x)
{
	return x ? (int)(sizeof(x) * 8) - __builtin_clzl(x) : 0;
}

/* Free pages above the high watermark in zones usable by GFP_USER (DMA and Normal). */
unsigned long nr_free_buffer_pages(const struct machine *m)
{
	unsigned long sum = 0;

	for_each_node(m, nid)
	{
		const pg_data_t *pgdat = m->node_data[nid];

		for (int z = ZONE_DMA; z <= ZONE_NORMAL; z++) {
			const struct zone *zone = &pgdat->node_zones[z];
			unsigned long managed = READ_ONCE(zone->managed_pages);
			unsigned long high = wmark_pages(zone, WMARK_HIGH);

			if (managed > high)
				sum += managed - high;
		}
	}
	return sum;
}

void calculate_min_free_kbytes(struct machine *m)
{
	unsigned long lowmem_kbytes = nr_free_buffer_pages(m) * (PAGE_SIZE >> 10);
	long new_min = (long)int_sqrt((unsigned long long)lowmem_kbytes * 16);

	if (new_min > m->user_min_free_kbytes) {
		if (new_min < MIN_FREE_KBYTES_MIN)
			new_min = MIN_FREE_KBYTES_MIN;
		if (new_min > MIN_FREE_KBYTES_MAX)
			new_min = MIN_FREE_KBYTES_MAX;
		m->min_free_kbytes = (int)new_min;
	}
}

static void set_zone_wmarks(struct machine *m, struct zone *zone, unsigned long pages_min,
			    unsigned long lowmem_pages)
{
	unsigned long managed = READ_ONCE(zone->managed_pages);
	unsigned long long tmp = (unsigned long long)pages_min * managed / lowmem_pages;
	unsigned long min, gap;

	if (zone->is_highmem) {
		min = managed / 1024;
		min = min < SWAP_CLUSTER_MAX ? SWAP_CLUSTER_MAX : min > 128 ? 128 : min;
	} else {
		min = (unsigned long)tmp;
	}
	gap = mult_frac(managed, (unsigned long)m->watermark_scale_factor, 10000);
	if ((unsigned long)(tmp >> 2) > gap)
		gap = (unsigned long)(tmp >> 2);
	pthread_mutex_lock(&zone->lock);
	WRITE_ONCE(zone->watermark_boost, 0ul);
	WRITE_ONCE(zone->_watermark[WMARK_MIN], min);
	WRITE_ONCE(zone->_watermark[WMARK_LOW], min + gap);
	WRITE_ONCE(zone->_watermark[WMARK_HIGH], min + 2 * gap);
	WRITE_ONCE(zone->_watermark[WMARK_PROMO], min + 3 * gap);
	pthread_mutex_unlock(&zone->lock);
}

/* __setup_per_zone_wmarks() + zone_pcp_update() of every zone (setup_per_zone_wmarks). */
void setup_per_zone_wmarks(struct machine *m)
{
	unsigned long pages_min = (unsigned long)m->min_free_kbytes >> (PAGE_SHIFT - 10);
	unsigned long lowmem_pages = 0;

	for_each_node(m, nid) for_each_zone_of(m->node_data[nid], zone) if (!zone->is_highmem)
		lowmem_pages += READ_ONCE(zone->managed_pages);
	if (!lowmem_pages)
		lowmem_pages = 1;
	for_each_node(m, nid) for_each_zone_of(m->node_data[nid], zone)
		set_zone_wmarks(m, zone, pages_min, lowmem_pages);
	calculate_totalreserve_pages(m);
	for_each_node(m, nid) for_each_zone_of(m->node_data[nid], zone) zone_pcp_update(zone);
}

void setup_per_zone_lowmem_reserve(struct machine *m)
{
	for_each_node(m, nid)
	{
		pg_data_t *pgdat = m->node_data[nid];

		for (int i = 0; i < MAX_NR_ZONES - 1; i++) {
			struct zone *zone = &pgdat->node_zones[i];
			int ratio = m->lowmem_reserve_ratio[i];
			bool clear = !ratio || !READ_ONCE(zone->managed_pages);
			unsigned long managed = 0;

			for (int j = i + 1; j < MAX_NR_ZONES; j++) {
				managed += READ_ONCE(pgdat->node_zones[j].managed_pages);
				WRITE_ONCE(zone->lowmem_reserve[j],
					   clear ? 0l : (long)(managed / (unsigned long)ratio));
			}
		}
	}
	calculate_totalreserve_pages(m);
}

void calculate_totalreserve_pages(struct machine *m)
{
	unsigned long total = 0;

	for_each_node(m, nid)
	{
		pg_data_t *pgdat = m->node_data[nid];

		for (int i = 0; i < MAX_NR_ZONES; i++) {
			struct zone *zone = &pgdat->node_zones[i];
			unsigned long managed = READ_ONCE(zone->managed_pages);
			long max = 0;

			for (int j = i; j < MAX_NR_ZONES; j++)
				if (zone->lowmem_reserve[j] > max)
					max = zone->lowmem_reserve[j];
			max += (long)wmark_pages(zone, WMARK_HIGH);
			if ((unsigned long)max > managed)
				max = (long)managed;
			total += (unsigned long)max;
		}
	}
	WRITE_ONCE(m->totalreserve_pages, total);
}

void refresh_zone_stat_thresholds(struct machine *m)
{
	for_each_node(m, nid) for_each_zone_of(m->node_data[nid], zone)
	{
		unsigned long mem = READ_ONCE(zone->managed_pages) >> (27 - PAGE_SHIFT);
		int threshold = 2 * fls_ul((unsigned long)m->ncpus) * (1 + fls_ul(mem));

		zone->stat_threshold = threshold > 125 ? 125 : threshold;
	}
}

int zone_batchsize(const struct zone *zone)
{
	unsigned long batch = READ_ONCE(zone->managed_pages) >> 10;

	if (batch > (1ul << 20) / PAGE_SIZE)
		batch = (1ul << 20) / PAGE_SIZE;
	batch /= 4;
	if (batch < 1)
		batch = 1;
	batch += batch / 2;
	return (int)((1ul << (fls_ul(batch) - 1)) - 1);
}

int zone_highsize(const struct zone *zone, int batch)
{
	const struct machine *m = zone->zone_pgdat->machine;
	unsigned long total;
	int nr_split = m->layout.nodes[zone->zone_pgdat->node_id].ncpus;
	long high;

	if (!m->percpu_pagelist_high_fraction)
		total = wmark_pages(zone, WMARK_LOW);
	else
		total = READ_ONCE(zone->managed_pages) /
			(unsigned long)m->percpu_pagelist_high_fraction;
	if (!nr_split)
		nr_split = m->ncpus;
	high = (long)(total / (unsigned long)nr_split);
	if (high < (long)batch << 2)
		high = (long)batch << 2;
	return (int)high;
}

/* zone_set_pageset_high_and_batch(): one high/batch for every CPU of the zone. */
void zone_pcp_update(struct zone *zone)
{
	int batch = zone_batchsize(zone);
	int high;

	if (batch < 1)
		batch = 1;
	high = zone_highsize(zone, batch);
	if (zone->pageset_high == high && zone->pageset_batch == batch)
		return;
	zone->pageset_high = high;
	zone->pageset_batch = batch;
	pcp_lock_all_and_update(zone, high, batch);
}

void set_recommended_min_free_kbytes(struct machine *m)
{
	unsigned long nr_zones = 0, rec, cap;

	for_each_node(m, nid)
		for_each_zone_of(m->node_data[nid], zone) if (populated_zone(zone) &&
							      zone->idx <= ZONE_NORMAL) nr_zones++;
	rec = m->pageblock_nr_pages * nr_zones * 2;
	rec += m->pageblock_nr_pages * nr_zones * MIGRATE_PCPTYPES * MIGRATE_PCPTYPES;
	cap = nr_free_buffer_pages(m) / 20;
	if (rec > cap)
		rec = cap;
	rec <<= (PAGE_SHIFT - 10);
	if ((long)rec > m->min_free_kbytes)
		m->min_free_kbytes = (int)rec;
	setup_per_zone_wmarks(m);
}

/* Called under zone->lock when a fallback steals less than a pageblock; true if boosted. */
bool boost_watermark(struct zone *zone)
{
	const struct machine *m = zone->zone_pgdat->machine;
	unsigned long factor = (unsigned long)READ_ONCE(m->watermark_boost_factor);
	unsigned long max_boost, boost;

	if (!factor)
		return false;
	if (m->pageblock_nr_pages * 4 > READ_ONCE(zone->managed_pages))
		return false;
	max_boost = mult_frac(READ_ONCE(zone->_watermark[WMARK_HIGH]), factor, 10000);
	if (!max_boost)
		return false;
	if (max_boost < m->pageblock_nr_pages)
		max_boost = m->pageblock_nr_pages;
	boost = READ_ONCE(zone->watermark_boost) + m->pageblock_nr_pages;
	WRITE_ONCE(zone->watermark_boost, boost < max_boost ? boost : max_boost);
	return true;
}
