/* SPDX-License-Identifier: MIT */
/*
 * mmzone.h - the simulated machine: struct page, zones, nodes, per-CPU pagesets.
 *
 * Mirrors:    include/linux/mmzone.h, include/linux/mm_types.h (Linux 6.1.y, i386)
 * Simplified: FLATMEM per node; no LRU, no memcg, no page cache; reclaim has no source
 * Differs:    free lists link pages by 32-bit node-relative index instead of pointers, so
 *             a struct page is 32 bytes of host memory; one struct machine holds what the
 *             kernel keeps in globals (sysctls, totalreserve), so several machines can live
 *             in one process (tests)
 *
 * Invariants (checked by zone_verify()):
 *   free pages (NR_FREE_PAGES) == sum over orders of nr_free[o] << o == pages on buddy lists
 *   NR_FREE_PAGES + pages on pcp lists + allocated pages == managed pages
 *   _watermark[MIN] <= _watermark[LOW] <= _watermark[HIGH]
 *   no free buddy block has a free buddy of the same order (merging is complete)
 *
 * Lock order (outermost first):
 *   machine->sysctl_lock -> per_cpu_pages.lock (one CPU at a time) -> zone->lock
 */
#ifndef NUMASIM_MM_MMZONE_H
#define NUMASIM_MM_MMZONE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "gfp.h"

#define PAGE_SHIFT 12
#define PAGE_SIZE (1ul << PAGE_SHIFT)
#define PAGE_OFFSET 0xC0000000ul
#define MAX_ORDER 11		 /* orders 0 .. MAX_ORDER - 1 */
#define NR_PAGE_ORDERS MAX_ORDER /* array size for per-order data */
#define MAX_ORDER_NR_PAGES (1ul << (MAX_ORDER - 1))
#define MAX_NUMNODES 64
#define NR_CPUS_MAX 256	   /* simulated CPUs per machine */
#define NR_CPUS_KCONFIG 32 /* Debian i386 CONFIG_NR_CPUS: enters the fixmap size */
#define SWAP_CLUSTER_MAX 32
#define PFN_NIL UINT32_MAX

#define READ_ONCE(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define WRITE_ONCE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

enum migratetype {
	MIGRATE_UNMOVABLE,
	MIGRATE_MOVABLE,
	MIGRATE_RECLAIMABLE,
	MIGRATE_PCPTYPES, /* number of types on the pcp lists */
	MIGRATE_HIGHATOMIC = MIGRATE_PCPTYPES,
	MIGRATE_ISOLATE, /* CONFIG_MEMORY_ISOLATION=y, no CMA on Debian i386 */
	MIGRATE_TYPES
};

enum zone_type { ZONE_DMA, ZONE_NORMAL, ZONE_HIGHMEM, ZONE_MOVABLE, MAX_NR_ZONES };

enum zone_watermarks { WMARK_MIN, WMARK_LOW, WMARK_HIGH, WMARK_PROMO, NR_WMARK };

enum zone_stat_item {
	NR_FREE_PAGES,
	NR_ZONE_INACTIVE_ANON,
	NR_ZONE_ACTIVE_ANON,
	NR_ZONE_INACTIVE_FILE,
	NR_ZONE_ACTIVE_FILE,
	NR_ZONE_UNEVICTABLE,
	NR_ZONE_WRITE_PENDING,
	NR_MLOCK,
	NR_BOUNCE,
	NR_ZSPAGES,
	NR_FREE_CMA_PAGES,
	NR_VM_ZONE_STAT_ITEMS
};

enum node_stat_item {
	NR_INACTIVE_ANON,
	NR_ACTIVE_ANON,
	NR_INACTIVE_FILE,
	NR_ACTIVE_FILE,
	NR_UNEVICTABLE,
	NR_SLAB_RECLAIMABLE_B,
	NR_SLAB_UNRECLAIMABLE_B,
	NR_ISOLATED_ANON,
	NR_ISOLATED_FILE,
	WORKINGSET_NODES,
	WORKINGSET_REFAULT_ANON,
	WORKINGSET_REFAULT_FILE,
	WORKINGSET_ACTIVATE_ANON,
	WORKINGSET_ACTIVATE_FILE,
	WORKINGSET_RESTORE_ANON,
	WORKINGSET_RESTORE_FILE,
	WORKINGSET_NODERECLAIM,
	NR_ANON_MAPPED,
	NR_FILE_MAPPED,
	NR_FILE_PAGES,
	NR_FILE_DIRTY,
	NR_WRITEBACK,
	NR_WRITEBACK_TEMP,
	NR_SHMEM,
	NR_SHMEM_THPS,
	NR_SHMEM_PMDMAPPED,
	NR_FILE_THPS,
	NR_FILE_PMDMAPPED,
	NR_ANON_THPS,
	NR_VMSCAN_WRITE,
	NR_VMSCAN_IMMEDIATE,
	NR_DIRTIED,
	NR_WRITTEN,
	NR_THROTTLED_WRITTEN,
	NR_KERNEL_MISC_RECLAIMABLE,
	NR_FOLL_PIN_ACQUIRED,
	NR_FOLL_PIN_RELEASED,
	NR_KERNEL_STACK_KB,
	NR_PAGETABLE,
	NR_SECONDARY_PAGETABLE,
	NR_SWAPCACHE,
	NR_VM_NODE_STAT_ITEMS
};

enum numa_stat_item {
	NUMA_HIT,
	NUMA_MISS,
	NUMA_FOREIGN,
	NUMA_INTERLEAVE_HIT,
	NUMA_LOCAL,
	NUMA_OTHER,
	NR_VM_NUMA_EVENT_ITEMS
};

/* Events counted per zone and CPU (the kernel's per-CPU vm_event_states, split by zone). */
enum zone_event_item {
	PGALLOC,      /* pages handed out from this zone (pgalloc_<zone>) */
	PGFREE,	      /* pages freed to this zone */
	ALLOCSTALL,   /* direct reclaim entered with this zone as the highest allowed */
	PGSTEAL_NONE, /* placeholder kept so the array stays a power of two */
	NR_ZONE_EVENT_ITEMS
};

/* Machine-wide events (counted under machine->event_lock). */
enum vm_event_item {
	PGALLOC_FAIL,  /* allocations that ended in failure */
	KSWAPD_WAKEUP, /* wakeup_kswapd() calls that woke a node */
	PAGEOUTRUN,
	PGFREE_BAD, /* frees refused: bad page state (double free, wrong order, bad pfn) */
	NR_VM_EVENT_ITEMS
};

/* struct page flag bits (the subset the model needs). */
#define PG_buddy 0x01u	  /* head of a free block on a buddy list (page_type Buddy) */
#define PG_reserved 0x02u /* never given to the buddy allocator (or not yet, for late frees) */
#define PG_pcp 0x04u	  /* on a per-CPU list */
#define PG_head 0x08u	  /* head of an allocated block; order in private */
#define PG_tail 0x10u	  /* reserved for compound tails (unused in the page allocator) */
#define PG_slab 0x20u	  /* page of a slab (slab layer); slab_ptr names its slab */
#define PG_kmalloc 0x40u  /* head of a kmalloc_large() block */

/*
 * struct page - one simulated page frame, 32 bytes of host memory.
 */
struct page {
	uint32_t flags;	   /* PG_* bits */
	uint32_t next;	   /* buddy_list / pcp_list link: node-relative index or PFN_NIL */
	uint32_t prev;	   /* previous on the same list */
	uint32_t private;  /* order of a free buddy block or of an allocated block */
	int32_t _refcount; /* 1 while allocated, 0 while free */
	uint32_t index;	   /* migratetype cached while on a pcp list */
	union {
		struct {
			uint32_t owner;	  /* allocating identity (0 = kernel / boot) */
			uint32_t _unused; /* keeps slab_ptr 8 bytes wide */
		};
		uint64_t slab_ptr; /* PG_slab pages: their struct slab (atomic) */
	};
};

/* A list of pages linked through struct page next/prev (node-relative indexes). */
struct page_list {
	uint32_t first; /* first page index or PFN_NIL */
	uint32_t last;	/* last page index or PFN_NIL */
};

struct free_area {
	struct page_list free_list[MIGRATE_TYPES]; /* block heads by migratetype */
	unsigned long nr_free;			   /* blocks of this order, all types */
};

/* pcp lists: orders 0..3 for the three pcp types, then one THP list per mobility class. */
#define NR_LOWORDER_PCP_LISTS (MIGRATE_PCPTYPES * (PAGE_ALLOC_COSTLY_ORDER + 1))
#define NR_PCP_THP 2
#define NR_PCP_LISTS (NR_LOWORDER_PCP_LISTS + NR_PCP_THP)

struct per_cpu_pages {
	pthread_spinlock_t lock;		    /* protects everything below */
	int count;				    /* pages on the lists */
	int high;				    /* free to the buddy above this */
	int batch;				    /* refill / free chunk */
	short free_factor;			    /* batch scaling after consecutive frees */
	struct page_list lists[NR_PCP_LISTS];	    /* by pindex */
	unsigned long events[NR_ZONE_EVENT_ITEMS];  /* this CPU's events for the zone */
	unsigned long numa[NR_VM_NUMA_EVENT_ITEMS]; /* this CPU's NUMA events for the zone */
} __attribute__((aligned(64)));

struct pglist_data;

struct zone {
	/* read-mostly */
	unsigned long _watermark[NR_WMARK];    /* min, low, high, promo (pages) */
	unsigned long watermark_boost;	       /* added to every watermark */
	unsigned long nr_reserved_highatomic;  /* pages in HIGHATOMIC pageblocks */
	long lowmem_reserve[MAX_NR_ZONES];     /* protection against requests up to zone j */
	struct pglist_data *zone_pgdat;	       /* owning node */
	struct per_cpu_pages *per_cpu_pageset; /* one per CPU of the machine */
	int pageset_high;		       /* pcp high shared by all CPUs */
	int pageset_batch;		       /* pcp batch shared by all CPUs */
	int stat_threshold;		       /* "vm stats threshold" */
	unsigned long zone_start_pfn;	       /* first pfn spanned */
	unsigned long spanned_pages;	       /* end - start, holes included */
	unsigned long present_pages;	       /* RAM in the span */
	unsigned long managed_pages;	       /* pages given to the buddy allocator */
	unsigned long managed_at_init;	       /* managed when watermarks were first computed */
	unsigned long reserved_pages;	       /* present - managed at boot (never freed) */
	unsigned long late_free_pages;	       /* given back after the watermark computation */
	const char *name;		       /* "DMA", "Normal", "HighMem", "Movable" */
	enum zone_type idx;		       /* zone index in the node */
	bool is_highmem;	      /* highmem-class watermarks (HighMem, Movable on HighMem) */
	unsigned long kswapd_wakeups; /* wakeup_kswapd() for this zone */
	bool boosted;		      /* ZONE_BOOSTED_WATERMARK */

	/* write-intensive, under lock */
	pthread_mutex_t lock; /* zone->lock: buddy lists, pageblock types */
	struct free_area free_area[NR_PAGE_ORDERS];
	uint8_t *pageblock_flags;	     /* migratetype of each pageblock in the span */
	long vm_stat[NR_VM_ZONE_STAT_ITEMS]; /* READ_ONCE / updated under lock */
	unsigned long buddy_events[NR_ZONE_EVENT_ITEMS];  /* events counted under lock */
	unsigned long buddy_numa[NR_VM_NUMA_EVENT_ITEMS]; /* NUMA events counted under lock */
};

enum zonelist_type { ZONELIST_FALLBACK, ZONELIST_NOFALLBACK, MAX_ZONELISTS };

struct zoneref {
	int nid;      /* node of the zone */
	int zone_idx; /* zone index in that node */
};

struct zonelist {
	struct zoneref _zonerefs[MAX_NUMNODES * MAX_NR_ZONES + 1]; /* ends with nid -1 */
};

struct machine;

typedef struct pglist_data {
	struct zone node_zones[MAX_NR_ZONES];	       /* DMA, Normal, HighMem, Movable */
	struct zonelist node_zonelists[MAX_ZONELISTS]; /* fallback, __GFP_THISNODE */
	int nr_zones;				       /* highest populated zone + 1 */
	unsigned long node_start_pfn;		       /* first pfn of the node */
	unsigned long node_present_pages;	       /* RAM of the node */
	unsigned long node_spanned_pages;	       /* span of the node, holes included */
	int node_id;				       /* nid */
	struct page *node_mem_map;		       /* struct page of node_start_pfn onward */
	struct machine *machine;		       /* owning machine */
	long vm_stat[NR_VM_NODE_STAT_ITEMS];	       /* per-node stats (READ_ONCE) */
	int kswapd_order;			       /* order kswapd was last woken for */
	int kswapd_highest_zoneidx;		       /* highest zone it was woken for */
	unsigned long kswapd_runs;		       /* simulated kswapd passes */
} pg_data_t;

#endif
