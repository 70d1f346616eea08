/* SPDX-License-Identifier: MIT */
/*
 * views.h - the machine as the kernel shows it: /proc/zoneinfo, buddyinfo, pagetypeinfo,
 * meminfo, vmstat and numastat, in the kernel's exact text layout or as JSON.
 *
 * Mirrors:    mm/vmstat.c (zoneinfo, buddyinfo, pagetypeinfo, vmstat),
 *             fs/proc/meminfo.c, drivers/base/node.c (numastat), numastat(8)'s table
 * Simplified: counters the model has no source for (LRU, page cache, ...) print 0
 * Differs:    with more than one node, zoneinfo carries the numa_* lines of a NUMA kernel
 */
#ifndef NUMASIM_MM_VIEWS_H
#define NUMASIM_MM_VIEWS_H

#include <stdbool.h>

#include "mm.h"
#include "seq_file.h"

enum mm_view {
	VIEW_ZONEINFO,
	VIEW_BUDDYINFO,
	VIEW_PAGETYPEINFO,
	VIEW_MEMINFO,
	VIEW_VMSTAT,
	VIEW_NUMASTAT,
	VIEW_SLABINFO, /* /proc/slabinfo, version 2.1 */
	VIEW_SLABTOP,  /* slabtop --once, sorted by objects */
	VIEW_SLABS,    /* per-cache attributes as /sys/kernel/slab has them, with aliases */
	NR_MM_VIEWS
};

/* mm_view_name - "zoneinfo", "buddyinfo", ... */
const char *mm_view_name(enum mm_view view);

/* mm_view_lookup - the view called @name, or -ENOENT. */
int mm_view_lookup(const char *name);

/*
 * mm_view_show - append @view of @m to @s: nodes held by this process only; @nid >= 0
 * restricts it to one node (meminfo then shows that node's figures as
 * /sys/devices/system/node/nodeN/meminfo does). @json selects JSON instead of the
 * kernel's text. Returns 0 or -EINVAL (bad view or node).
 */
int mm_view_show(struct seq_file *s, struct machine *m, enum mm_view view, int nid, bool json);

/*
 * mm_slabtop_show - slabtop --once with slabtop's sort keys: a (active objects), b (objects
 * per slab), c (cache size), l (slabs), v (active slabs), n (name), o (objects, default),
 * p (pages per slab), s (object size), u (utilization). -EINVAL for another key.
 */
int mm_slabtop_show(struct seq_file *s, struct machine *m, char sort, int nid, bool json);

#endif
