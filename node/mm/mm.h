/* SPDX-License-Identifier: MIT */
/*
 * mm.h - the public interface of the allocator model (node/mm): boot a simulated x86-32
 * machine, allocate and free pages on behalf of simulated CPUs, tune it with the kernel's
 * vm sysctls, and read its counters. No sockets, no logging, no protobuf.
 *
 * Mirrors:    the boot sequence of arch/x86/mm/init_32.c + mm/page_alloc.c (Linux 6.1.y)
 * Simplified: see mmzone.h
 * Differs:    what the kernel keeps in globals lives in struct machine
 *
 * Threads: every function taking a cpu may be called from any thread; calls naming the same
 * cpu are serialised by that CPU's pcp locks. machine_sysctl_*() takes machine->sysctl_lock.
 */
#ifndef NUMASIM_MM_MM_H
#define NUMASIM_MM_MM_H

#include <stddef.h>
#include <stdint.h>

#include "mmzone.h"

enum mm_arch {
	ARCH_686,     /* HIGHMEM4G: up to 4 GiB, pageblock order 10 */
	ARCH_686_PAE, /* HIGHMEM64G: up to 64 GiB, pageblock order 9 */
};

enum thp_mode { THP_ALWAYS, THP_MADVISE, THP_NEVER };

#define E820_MAX_ENTRIES 128
enum e820_type { E820_USABLE = 1, E820_RESERVED = 2 };

struct e820_entry {
	uint64_t addr;	     /* first byte */
	uint64_t size;	     /* bytes */
	enum e820_type type; /* usable or reserved */
};

struct e820_table {
	int nr_entries;				     /* entries used */
	struct e820_entry entries[E820_MAX_ENTRIES]; /* in the order given */
};

#define MM_UNSET (-1l)
#define MM_ALL_NODES (-1) /* machine_config.local_node: this process holds every node */
#define MM_NO_NODES (-2)  /* ... holds none (the coordinator: layout and zonelists only) */

/* What a machine is made of; every field has a default from machine_config_init(). */
struct machine_config {
	enum mm_arch arch;		 /* 686 or 686-pae */
	uint64_t mem_bytes;		 /* RAM for the default memory map */
	struct e820_table e820;		 /* explicit map (nr_entries 0 = QEMU PC map) */
	int ncpus;			 /* simulated CPUs */
	int nr_nodes;			 /* NUMA nodes */
	uint64_t node_mem[MAX_NUMNODES]; /* RAM per node (0 = split evenly) */
	uint8_t distance[MAX_NUMNODES][MAX_NUMNODES]; /* SLIT (0 = 10 local / 20 remote) */
	int64_t vmalloc_bytes;			      /* vmalloc= (MM_UNSET = default 128 MiB) */
	int64_t mem_limit;			      /* mem= (MM_UNSET = none) */
	int64_t highmem_bytes;			      /* highmem= (MM_UNSET = none) */
	int64_t kernelcore_bytes;		      /* kernelcore=SIZE */
	int kernelcore_percent;			      /* kernelcore=N% (MM_UNSET = none) */
	int64_t movablecore_bytes;		      /* movablecore=SIZE */
	int movablecore_percent;		      /* movablecore=N% */
	enum thp_mode thp;			      /* transparent_hugepage (Debian: always) */
	long reserve[MAX_NR_ZONES];    /* --reserve per zone of node 0 (MM_UNSET = model) */
	long late_free[MAX_NR_ZONES];  /* --late-free per zone of node 0 */
	int local_node;		       /* node whose pages this process holds (-1 = all) */
	unsigned int cache_line;       /* cache_line_size(): 64 (qemu64), 32 (qemu32) */
	bool slab_nomerge;	       /* slab_nomerge */
	unsigned int slub_min_objects; /* slub_min_objects= (0 = from the CPU count) */
	unsigned int slub_min_order;   /* slub_min_order= */
	unsigned int slub_max_order;   /* slub_max_order= (default 3) */
};

/* Where each zone of each node is (computed by machine_layout()). */
struct zone_layout {
	unsigned long start_pfn; /* first pfn spanned */
	unsigned long end_pfn;	 /* one past the last pfn spanned */
	unsigned long present;	 /* RAM pages in the span */
	unsigned long reserved;	 /* pages never given to the buddy allocator at boot */
	unsigned long late_free; /* reserved pages given back after the watermarks */
};

struct node_layout {
	unsigned long start_pfn;		/* node span start */
	unsigned long end_pfn;			/* node span end */
	unsigned long movable_pfn;		/* ZONE_MOVABLE start (0 = none) */
	struct zone_layout zones[MAX_NR_ZONES]; /* per zone */
	int ncpus;				/* CPUs on the node */
};

struct machine_layout {
	unsigned long max_pfn;		/* one past the highest RAM pfn */
	unsigned long max_low_pfn;	/* end of lowmem */
	unsigned long maxmem_pfn;	/* MAXMEM_PFN of the arch and vmalloc= */
	unsigned long vmalloc_total_kb; /* VmallocTotal */
	unsigned long memmap_pages;	/* struct page array, in pages */
	unsigned long reserved_kb;	/* the boot "Memory:" reserved figure */
	int movable_zone;		/* zone ZONE_MOVABLE is carved from */
	int nr_ram;			/* usable RAM ranges */
	struct {
		unsigned long start, end; /* [start, end) in pfns */
	} ram[E820_MAX_ENTRIES];
	struct node_layout nodes[MAX_NUMNODES]; /* per node */
};

struct slab_state;

struct machine {
	struct machine_config cfg;	    /* what it was booted with */
	struct machine_layout layout;	    /* where everything is */
	int pageblock_order;		    /* 9 (PAE) or 10 */
	unsigned long pageblock_nr_pages;   /* 1 << pageblock_order */
	int ncpus;			    /* simulated CPUs */
	int nr_nodes;			    /* nodes */
	int cpu_to_node[NR_CPUS_MAX];	    /* CPU -> node */
	pg_data_t *node_data[MAX_NUMNODES]; /* NULL for nodes held elsewhere */
	unsigned long remote_managed[MAX_NUMNODES][MAX_NR_ZONES]; /* managed of remote nodes */

	pthread_mutex_t sysctl_lock;		    /* sysctl writers and reads with side effects */
	int min_free_kbytes;			    /* vm.min_free_kbytes */
	int user_min_free_kbytes;		    /* -1 until written */
	int watermark_scale_factor;		    /* vm.watermark_scale_factor */
	int watermark_boost_factor;		    /* vm.watermark_boost_factor */
	int lowmem_reserve_ratio[MAX_NR_ZONES];	    /* vm.lowmem_reserve_ratio */
	int percpu_pagelist_high_fraction;	    /* vm.percpu_pagelist_high_fraction */
	int zone_reclaim_mode;			    /* vm.zone_reclaim_mode (recorded) */
	unsigned long totalreserve_pages;	    /* for MemAvailable */
	bool page_group_by_mobility_disabled;	    /* grouping off on tiny machines */
	bool thp_enabled;			    /* khugepaged started (raise applied) */
	unsigned long vm_events[NR_VM_EVENT_ITEMS]; /* atomic adds */
	struct slab_state *slab;		    /* the slab layer (slab.h) */
};

/* Error buffer size for messages meant for a person (one line, no trailing newline). */
#define MM_ERRLEN 256

extern const char *const zone_names[MAX_NR_ZONES];

void machine_config_init(struct machine_config *cfg);

/* e820_table_for - the memory map @cfg describes (its own, or the QEMU PC map for its RAM). */
void e820_table_for(const struct machine_config *cfg, struct e820_table *t);

/* memparse - "512M", "2G", "0x1000", "64KiB" into bytes. 0 or -EINVAL. */
int memparse(const char *s, uint64_t *bytes);

/*
 * machine_cmdline_apply - apply kernel boot parameters ("vmalloc=192M mem=1G ...") to @cfg.
 * Returns 0, or -EINVAL with @err naming the bad parameter.
 */
int machine_cmdline_apply(struct machine_config *cfg, const char *cmdline, char *err);

/*
 * machine_layout_compute - the memory map, lowmem limit, nodes, zones and reservations
 * that @cfg gives, without allocating any struct page. 0 or -EINVAL (@err says why).
 */
int machine_layout_compute(struct machine_layout *out, const struct machine_config *cfg, char *err);

/*
 * machine_new - boot a machine: lay it out, build the memory map of the local node(s),
 * free memory to the buddy allocator, compute watermarks, reserves and pagesets exactly
 * as 6.1 does at boot, then apply the late frees. *@out is NULL on failure.
 */
int machine_new(struct machine **out, const struct machine_config *cfg, char *err);
void machine_free(struct machine *m);

/* How an allocation went; filled by __alloc_pages() when the caller passes one. */
enum zone_refusal {
	REFUSE_NONE,
	REFUSE_WATERMARK,      /* free pages at or below the watermark */
	REFUSE_LOWMEM_RESERVE, /* above the watermark, but not above watermark + protection */
	REFUSE_FRAGMENTED,     /* enough pages, but no free block of the order */
	REFUSE_EMPTY,	       /* nothing on the lists after passing the check */
	REFUSE_POLICY,	       /* excluded by nodemask / __GFP_THISNODE */
	REFUSE_NODE_DOWN,      /* node held elsewhere and not reachable */
};

#define ALLOC_TRACE_MAX (MAX_NUMNODES * MAX_NR_ZONES)
struct alloc_trace {
	int nr; /* zones examined (last pass) */
	struct {
		int nid;	       /* node */
		int zone_idx;	       /* zone */
		enum zone_refusal why; /* why it said no */
		long free;	       /* free pages seen */
		long mark;	       /* watermark applied (after reductions) */
		long reserve;	       /* lowmem_reserve[hz] */
	} z[ALLOC_TRACE_MAX];
	bool slowpath;	     /* entered the slow path */
	bool kswapd_woken;   /* woke kswapd */
	bool direct_reclaim; /* entered direct reclaim */
	char reason[200];    /* why it failed, for a person */
};

typedef uint64_t nodemask_t;

/*
 * __alloc_pages - allocate 2^@order pages for @gfp on behalf of @cpu, preferring
 * @preferred_nid (-1: the CPU's node), restricted to @nodemask (0 = all). The block belongs
 * to @owner. Returns 0 with the first pfn in *@pfn, or -ENOMEM (@trace says why), or
 * -EINVAL for a bad order, cpu or gfp mask.
 */
int __alloc_pages(struct machine *m, unsigned long *pfn, gfp_t gfp, unsigned int order, int cpu,
		  int preferred_nid, nodemask_t nodemask, uint32_t owner,
		  struct alloc_trace *trace);

#define OWNER_ANY UINT32_MAX /* administrator: may free anyone's pages */

/* Errors of free_pages() besides -EINVAL (bad cpu): */
#define EBADPAGE_NOTPRESENT (-1001) /* pfn outside RAM or not held by this process */
#define EBADPAGE_NOTALLOC (-1002)   /* not the head of an allocated block: double free */
#define EBADPAGE_ORDER (-1003)	    /* allocated with another order */
#define EBADPAGE_OWNER (-1004)	    /* belongs to another owner (EPERM) */
#define EBADPAGE_SLAB (-1005)	    /* belongs to the slab layer: free it with kfree */

/* free_pages - give back a block from __alloc_pages(). 0 or an EBADPAGE_* code. */
int free_pages(struct machine *m, unsigned long pfn, unsigned int order, int cpu, uint32_t owner);

/* One zone's part of an allocation (what get_page_from_freelist() does per zone). */
struct zone_request {
	unsigned int order;	  /* block order */
	gfp_t gfp;		  /* the request's mask (informational) */
	unsigned int alloc_flags; /* ALLOC_WMARK_* and reserve rights */
	int highest_zoneidx;	  /* gfp_zone(): selects lowmem_reserve[] */
	int migratetype;	  /* gfp_migratetype() */
	int cpu;		  /* requesting CPU (pcp list, numa_local/other) */
	int preferred_nid;	  /* node of the preferred zone (numa_hit/miss) */
	uint32_t owner;		  /* identity the block will belong to */
};

struct zone_refusal_info {
	enum zone_refusal why; /* why the zone said no */
	long free;	       /* its free pages */
	long mark;	       /* the watermark applied, after reductions */
	long reserve;	       /* lowmem_reserve[highest_zoneidx] */
};

/*
 * zone_try_alloc - the watermark check (with lowmem_reserve) and the allocation from one zone
 * of a node this process holds. 0 with *@pfn, or -ENOMEM with @info filled. The caller
 * counts numa_foreign on the preferred zone when the zone is on another node.
 */
int zone_try_alloc(struct zone *zone, unsigned long *pfn, const struct zone_request *rq,
		   struct zone_refusal_info *info);

/* wakeup_kswapd - wake the simulated kswapd of @zone's node (it clears watermark boosts). */
void wakeup_kswapd(struct zone *zone, gfp_t gfp, unsigned int order, int highest_zoneidx);

/* unreserve_highatomic_pageblock - one high-atomic pageblock of @zone back to @mt. */
bool unreserve_highatomic_pageblock(struct zone *zone, int mt, bool force);

/* count_numa_foreign - one numa_foreign event on @zone (the preferred zone of a miss). */
void count_numa_foreign(struct zone *zone);

/* zone_watermark_ok - the kernel's __zone_watermark_ok() on the zone's current free count. */
bool zone_watermark_ok(const struct zone *z, unsigned int order, unsigned long mark, int hz,
		       unsigned int alloc_flags);

/*
 * claim_free_block - allocate exactly [@pfn, @pfn + 2^@order) if it is free in the buddy
 * lists (drain the pcp lists first): restoring a node's allocations after a restart.
 * 0, -EBUSY (not free), -EINVAL (not RAM here, misaligned).
 */
int claim_free_block(struct machine *m, unsigned long pfn, unsigned int order, int mt,
		     uint32_t owner);

/*
 * page_blocks_collect - the blocks allocated by alloc_pages() on node @nid (not slab pages,
 * not kmalloc_large() blocks), each zone read under its lock: their first pfns and orders
 * in new arrays *@pfns and *@orders (freed by the caller). Returns how many.
 */
size_t page_blocks_collect(struct machine *m, int nid, unsigned long **pfns, unsigned int **orders);

/* drain_all_pages - empty every pcp list of every zone into the buddy lists. */
void drain_all_pages(struct machine *m);

/* pfn_zone - the zone holding @pfn (local nodes only), or NULL. */
struct zone *pfn_zone(struct machine *m, unsigned long pfn);

/*
 * Sysctls under vm.*: machine_sysctl_set() writes as the kernel's handler does (same
 * validation, same recomputation); machine_sysctl_get() formats the value as /proc/sys
 * prints it (arrays tab-separated) and has the kernel's read side effects.
 * Return 0, -ENOENT (unknown name), -EINVAL (bad value).
 */
int machine_sysctl_set(struct machine *m, const char *name, const char *value);
int machine_sysctl_get(struct machine *m, const char *name, char *buf, size_t len);
/* machine_sysctl_name - the @i-th sysctl name, NULL past the end. */
const char *machine_sysctl_name(int i);

/* Counters. */
static inline unsigned long zone_page_state(const struct zone *zone, enum zone_stat_item item)
{
	long v = READ_ONCE(zone->vm_stat[item]);

	return v < 0 ? 0 : (unsigned long)v;
}

unsigned long zone_pcp_count(struct zone *zone);
unsigned long zone_event_sum(struct zone *zone, enum zone_event_item item);
unsigned long zone_numa_sum(struct zone *zone, enum numa_stat_item item);
unsigned long zone_allocated_pages(struct zone *zone);
void node_stat_add(pg_data_t *pgdat, enum node_stat_item item, long delta);
void count_vm_event(struct machine *m, enum vm_event_item item);

static inline bool populated_zone(const struct zone *zone)
{
	return zone->present_pages != 0;
}

static inline bool managed_zone(const struct zone *zone)
{
	return READ_ONCE(zone->managed_pages) != 0;
}

/* Watermark accessors (with boost), as the kernel's min_wmark_pages() etc. */
static inline unsigned long wmark_pages(const struct zone *z, enum zone_watermarks w)
{
	return READ_ONCE(z->_watermark[w]) + READ_ONCE(z->watermark_boost);
}

#endif
