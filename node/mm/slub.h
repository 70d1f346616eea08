/* SPDX-License-Identifier: MIT */
/*
 * slub.h - what slab_common.c needs from the SLUB core (slub.c); not part of the interface.
 *
 * Mirrors:    mm/slab.h (Linux 6.1.y), the SLUB side of it
 * Simplified: only the calls this model makes
 * Differs:    nothing
 */
#ifndef NUMASIM_MM_SLUB_H
#define NUMASIM_MM_SLUB_H

#include "slab.h"

/* Per-CPU and per-node state and the freelist order of a new cache. */
void slub_cache_init(struct kmem_cache *s);

/* Host memory of a cache (its slabs' pages are not given back: the machine is going). */
void slub_cache_release(struct kmem_cache *s);

/* __kmem_cache_shutdown(): flush, release empty slabs; -EBUSY if objects remain. */
int slub_shutdown(struct kmem_cache *s);

#endif
