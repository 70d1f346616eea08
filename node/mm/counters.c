// SPDX-License-Identifier: MIT
/*
 * counters.c - reading the model's counters: zone and node stats, per-CPU events, NUMA events.
 *
 * Mirrors:    mm/vmstat.c (zone_page_state, node_page_state, sum_vm_events, zone numa events)
 * Simplified: NR_FREE_PAGES is exact (updated under zone->lock, no per-CPU deltas)
 * Differs:    events are kept per zone and CPU in the pageset (under its lock) and per zone
 *             for the buddy path (atomic adds), and summed when read
 *
 * Lock order: reading a CPU's events takes that pageset's lock; nothing else is held.
 */
#include <stddef.h>

#include "internal.h"

/* Sum one per-CPU field of every pageset of @zone under each pageset's lock. */
static unsigned long pcp_sum(struct zone *zone, size_t offset, int item)
{
	unsigned long sum = 0;

	if (!zone->per_cpu_pageset)
		return 0;
	for (int cpu = 0; cpu < zone->zone_pgdat->machine->ncpus; cpu++) {
		struct per_cpu_pages *pcp = &zone->per_cpu_pageset[cpu];

		pthread_spin_lock(&pcp->lock);
		if (item < 0)
			sum += (unsigned long)pcp->count;
		else
			sum += ((unsigned long *)((char *)pcp + offset))[item];
		pthread_spin_unlock(&pcp->lock);
	}
	return sum;
}

unsigned long zone_pcp_count(struct zone *zone)
{
	return pcp_sum(zone, 0, -1);
}

unsigned long zone_event_sum(struct zone *zone, enum zone_event_item item)
{
	return pcp_sum(zone, offsetof(struct per_cpu_pages, events), item) +
	       __atomic_load_n(&zone->buddy_events[item], __ATOMIC_RELAXED);
}

unsigned long zone_numa_sum(struct zone *zone, enum numa_stat_item item)
{
	return pcp_sum(zone, offsetof(struct per_cpu_pages, numa), item) +
	       __atomic_load_n(&zone->buddy_numa[item], __ATOMIC_RELAXED);
}

/* Pages in allocated blocks: managed - free - pcp (a consistent snapshot needs no allocs). */
unsigned long zone_allocated_pages(struct zone *zone)
{
	unsigned long managed = READ_ONCE(zone->managed_pages);
	unsigned long used = zone_page_state(zone, NR_FREE_PAGES) + zone_pcp_count(zone);

	return managed > used ? managed - used : 0;
}

void node_stat_add(pg_data_t *pgdat, enum node_stat_item item, long delta)
{
	__atomic_fetch_add(&pgdat->vm_stat[item], delta, __ATOMIC_RELAXED);
}

void count_vm_event(struct machine *m, enum vm_event_item item)
{
	__atomic_fetch_add(&m->vm_events[item], 1, __ATOMIC_RELAXED);
}
