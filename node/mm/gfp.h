/* SPDX-License-Identifier: MIT */
/*
 * gfp.h - GFP flags, zone and migratetype selection, allocator flags.
 *
 * Mirrors:    include/linux/gfp_types.h, include/linux/gfp.h, mm/internal.h (Linux 6.1.y, i386)
 * Simplified: no KASAN tag bits, no memcg charge, no cpusets (ALLOC_CPUSET is carried, never enforced)
 * Differs:    nothing; values are 6.1's, so masks printed by a real kernel parse here unchanged
 */
#ifndef NUMASIM_MM_GFP_H
#define NUMASIM_MM_GFP_H

#include <stdbool.h>

typedef unsigned int gfp_t;

#define __GFP_DMA 0x01u
#define __GFP_HIGHMEM 0x02u
#define __GFP_DMA32 0x04u
#define __GFP_MOVABLE 0x08u
#define __GFP_RECLAIMABLE 0x10u
#define __GFP_HIGH 0x20u
#define __GFP_IO 0x40u
#define __GFP_FS 0x80u
#define __GFP_ZERO 0x100u
#define __GFP_ATOMIC 0x200u
#define __GFP_DIRECT_RECLAIM 0x400u
#define __GFP_KSWAPD_RECLAIM 0x800u
#define __GFP_WRITE 0x1000u
#define __GFP_NOWARN 0x2000u
#define __GFP_RETRY_MAYFAIL 0x4000u
#define __GFP_NOFAIL 0x8000u
#define __GFP_NORETRY 0x10000u
#define __GFP_MEMALLOC 0x20000u
#define __GFP_COMP 0x40000u
#define __GFP_NOMEMALLOC 0x80000u
#define __GFP_HARDWALL 0x100000u
#define __GFP_THISNODE 0x200000u
#define __GFP_ACCOUNT 0x400000u
#define __GFP_ZEROTAGS 0x800000u
#define __GFP_BITS_MASK 0xffffffu

#define GFP_ZONEMASK (__GFP_DMA | __GFP_HIGHMEM | __GFP_DMA32 | __GFP_MOVABLE)
#define GFP_MOVABLE_MASK (__GFP_RECLAIMABLE | __GFP_MOVABLE)
#define __GFP_RECLAIM (__GFP_DIRECT_RECLAIM | __GFP_KSWAPD_RECLAIM)

#define GFP_ATOMIC (__GFP_HIGH | __GFP_ATOMIC | __GFP_KSWAPD_RECLAIM)
#define GFP_KERNEL (__GFP_RECLAIM | __GFP_IO | __GFP_FS)
#define GFP_KERNEL_ACCOUNT (GFP_KERNEL | __GFP_ACCOUNT)
#define GFP_NOWAIT (__GFP_KSWAPD_RECLAIM)
#define GFP_NOIO (__GFP_RECLAIM)
#define GFP_NOFS (__GFP_RECLAIM | __GFP_IO)
#define GFP_USER (__GFP_RECLAIM | __GFP_IO | __GFP_FS | __GFP_HARDWALL)
#define GFP_DMA (__GFP_DMA)
#define GFP_DMA32 (__GFP_DMA32)
#define GFP_HIGHUSER (GFP_USER | __GFP_HIGHMEM)
#define GFP_HIGHUSER_MOVABLE (GFP_HIGHUSER | __GFP_MOVABLE)
#define GFP_TRANSHUGE_LIGHT \
	((GFP_HIGHUSER_MOVABLE | __GFP_COMP | __GFP_NOMEMALLOC | __GFP_NOWARN) & ~__GFP_RECLAIM)
#define GFP_TRANSHUGE (GFP_TRANSHUGE_LIGHT | __GFP_DIRECT_RECLAIM)

/* Allocator flags (mm/internal.h, late 6.1.y: the v6.3 backport Debian ships). */
#define ALLOC_WMARK_MIN 0x00u
#define ALLOC_WMARK_LOW 0x01u
#define ALLOC_WMARK_HIGH 0x02u
#define ALLOC_WMARK_MASK 0x03u
#define ALLOC_NO_WATERMARKS 0x04u
#define ALLOC_OOM 0x08u
#define ALLOC_NON_BLOCK 0x10u
#define ALLOC_MIN_RESERVE 0x20u
#define ALLOC_CPUSET 0x40u
#define ALLOC_CMA 0x80u
#define ALLOC_NOFRAGMENT 0x100u
#define ALLOC_HIGHATOMIC 0x200u
#define ALLOC_KSWAPD 0x800u
#define ALLOC_RESERVES (ALLOC_NON_BLOCK | ALLOC_MIN_RESERVE | ALLOC_HIGHATOMIC | ALLOC_OOM)

#define PAGE_ALLOC_COSTLY_ORDER 3

/*
 * gfp_valid_zone_bits - true when the zone modifiers of @flags name a zone (GFP_ZONE_BAD
 * combinations such as DMA|HIGHMEM are rejected, as the kernel's VM_BUG_ON would).
 */
bool gfp_valid_zone_bits(gfp_t flags);

/* gfp_zone - highest zone index usable by @flags (GFP_ZONE_TABLE on i386); -EINVAL if invalid. */
int gfp_zone(gfp_t flags);

/* gfp_migratetype - MIGRATE_UNMOVABLE/MOVABLE/RECLAIMABLE from the mobility bits. */
int gfp_migratetype(gfp_t flags);

/* gfpflags_allow_blocking - the caller may enter direct reclaim. */
static inline bool gfpflags_allow_blocking(gfp_t flags)
{
	return (flags & __GFP_DIRECT_RECLAIM) != 0;
}

/* gfp_to_alloc_flags - slow-path allocator flags for @gfp (6.1.y rules). */
unsigned int gfp_to_alloc_flags(gfp_t gfp, unsigned int order);

#endif
