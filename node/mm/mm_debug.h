/* SPDX-License-Identifier: MIT */
/*
 * mm_debug.h - consistency checks and dumps of the allocator model, for tests and for a
 * person looking at a machine that misbehaves.
 *
 * Mirrors:    the kernel's CONFIG_DEBUG_VM checks (VM_BUG_ON_PAGE in __free_one_page,
 *             check_new_pages) and the free-count tables of /proc/pagetypeinfo
 * Simplified: one pass over the whole zone instead of checks spread over the hot paths
 * Differs:    the kernel checks a page at a time as it moves; these functions check a
 *             whole zone at once, on demand
 */
#ifndef NUMASIM_MM_MM_DEBUG_H
#define NUMASIM_MM_MM_DEBUG_H

#include <stdio.h>

#include "mm.h"

/*
 * zone_verify - check every invariant of @zone (see mm_debug.c for the list). Takes each
 * pageset lock of the zone, then zone->lock. The accounting equation
 * free + pcp + allocated == managed holds only while no __alloc_pages() or free_pages()
 * call is between its pcp/zone critical section and its struct page update, so call it
 * when the machine is quiet (tests call it between operations).
 * Returns 0, or -EUCLEAN with a one-line message in @err (MM_ERRLEN bytes; may be NULL).
 */
int zone_verify(struct zone *zone, char *err);

/* machine_verify - zone_verify() of every zone of every node this process holds. */
int machine_verify(struct machine *m, char *err);

/*
 * zone_dump - the free blocks of @zone per order and migratetype, the pcp counts per CPU,
 * the free page counter and the watermarks, as text on @out. Takes the same locks as
 * zone_verify().
 */
void zone_dump(struct zone *zone, FILE *out);

#endif
