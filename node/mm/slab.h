/* SPDX-License-Identifier: MIT */
/*
 * slab.h - the slab layer: SLUB caches, kmalloc and kfree on top of the page allocator.
 *
 * Mirrors:    include/linux/slab.h, mm/slab.h, include/linux/slub_def.h (Linux 6.1.y, i386)
 * Simplified: objects have no contents (constructors are recorded, never run; poisoning and
 *             red zones change the layout only); no memcg charging; per-CPU state is guarded
 *             by a per-CPU lock instead of this_cpu_cmpxchg
 * Differs:    every invalid free (not an object, double free, wrong cache) is caught and
 *             refused, with or without SLUB debugging, and counted; caches are named uniquely
 *             (names are how clients refer to them)
 *
 * Invariants (checked by kmem_cache_validate()):
 *   per slab:  objects == inuse + length(slab freelist), inuse counts objects on the CPU
 *              freelist while the slab is a CPU slab
 *   per node:  nr_slabs == slabs on partial + full lists + frozen (CPU) slabs
 *              total_objects == sum of objects of those slabs
 *
 * Lock order (outermost first):
 *   slab_mutex -> kmem_cache_cpu.lock -> kmem_cache_node.list_lock ->
 *   page allocator (per_cpu_pages.lock -> zone->lock)
 */
#ifndef NUMASIM_MM_SLAB_H
#define NUMASIM_MM_SLAB_H

#include <stdint.h>

#include "mm.h"

typedef unsigned int slab_flags_t;

#define SLAB_CONSISTENCY_CHECKS 0x00000100u
#define SLAB_RED_ZONE 0x00000400u
#define SLAB_POISON 0x00000800u
#define SLAB_HWCACHE_ALIGN 0x00002000u
#define SLAB_CACHE_DMA 0x00004000u
#define SLAB_CACHE_DMA32 0x00008000u
#define SLAB_STORE_USER 0x00010000u
#define SLAB_RECLAIM_ACCOUNT 0x00020000u
#define SLAB_PANIC 0x00040000u
#define SLAB_TYPESAFE_BY_RCU 0x00080000u
#define SLAB_MEM_SPREAD 0x00100000u
#define SLAB_TRACE 0x00200000u
#define SLAB_NOLEAKTRACE 0x00800000u
#define SLAB_FAILSLAB 0x02000000u
#define SLAB_ACCOUNT 0x04000000u
#define SLAB_KMALLOC 0x10000000u /* internal: a kmalloc cache */

#define SLAB_DEBUG_FLAGS \
	(SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER | SLAB_TRACE | SLAB_CONSISTENCY_CHECKS)
#define SLAB_NEVER_MERGE                                                                     \
	(SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER | SLAB_TRACE | SLAB_TYPESAFE_BY_RCU | \
	 SLAB_NOLEAKTRACE | SLAB_FAILSLAB)
#define SLAB_MERGE_SAME (SLAB_RECLAIM_ACCOUNT | SLAB_CACHE_DMA | SLAB_CACHE_DMA32 | SLAB_ACCOUNT)
#define SLAB_FLAGS_PERMITTED                                                          \
	(SLAB_DEBUG_FLAGS | SLAB_HWCACHE_ALIGN | SLAB_CACHE_DMA | SLAB_CACHE_DMA32 |  \
	 SLAB_RECLAIM_ACCOUNT | SLAB_PANIC | SLAB_TYPESAFE_BY_RCU | SLAB_MEM_SPREAD | \
	 SLAB_NOLEAKTRACE | SLAB_FAILSLAB | SLAB_ACCOUNT)

#define KMALLOC_SHIFT_LOW 3
#define KMALLOC_SHIFT_HIGH (PAGE_SHIFT + 1) /* kmalloc-8k is the largest cache */
#define KMALLOC_MAX_CACHE_SIZE (1ul << KMALLOC_SHIFT_HIGH)
#define KMALLOC_MAX_SIZE (1ul << (MAX_ORDER + PAGE_SHIFT - 1)) /* 4 MiB */
#define ZERO_SIZE_PTR 16ul

enum kmalloc_cache_type {
	KMALLOC_NORMAL,
	KMALLOC_CGROUP,
	KMALLOC_RECLAIM,
	KMALLOC_DMA,
	NR_KMALLOC_TYPES
};

#define KMEM_CACHE_NAME_LEN 48
#define SLAB_NIL 0xffffu

struct slab;

/* Per-CPU state of a cache (struct kmem_cache_cpu). */
struct kmem_cache_cpu {
	pthread_spinlock_t lock;  /* the kernel's local_lock */
	struct slab *slab;	  /* the CPU slab (frozen) */
	uint32_t freelist;	  /* next free object of ->slab, SLAB_NIL if none */
	struct slab *partial;	  /* CPU partial slabs (frozen), linked by ->next */
	unsigned long alloc_fast; /* allocations served from ->freelist */
	unsigned long alloc_slow; /* allocations that needed ___slab_alloc() */
	unsigned long free_fast;  /* frees to ->freelist */
	unsigned long free_slow;  /* frees through __slab_free() */
} __attribute__((aligned(64)));

struct slab_list {
	struct slab *head; /* first */
	struct slab *tail; /* last */
};

/* Per-node state of a cache (struct kmem_cache_node). */
struct kmem_cache_node {
	pthread_mutex_t list_lock;   /* partial and full lists, non-frozen slabs' freelists */
	unsigned long nr_partial;    /* slabs on ->partial */
	struct slab_list partial;    /* slabs with free objects, not frozen */
	struct slab_list full;	     /* slabs without free objects, not frozen */
	unsigned long nr_slabs;	     /* every slab of the node (READ_ONCE) */
	unsigned long total_objects; /* their objects (READ_ONCE) */
	struct slab *spare;	     /* discarded slab descriptors kept for reuse */
};

struct kmem_cache {
	char name[KMEM_CACHE_NAME_LEN];	      /* the name it was created with */
	char sysfs_id[24];		      /* ":A-0000064" for mergeable caches, else name */
	unsigned int object_size;	      /* size asked for */
	unsigned int size;		      /* object + metadata, aligned: slabinfo objsize */
	unsigned int align;		      /* alignment of each object */
	unsigned int inuse;		      /* offset to the metadata */
	unsigned int offset;		      /* free pointer offset */
	unsigned int red_left_pad;	      /* left red zone */
	unsigned int usersize;		      /* usercopy window (kmalloc: whole object) */
	slab_flags_t flags;		      /* SLAB_* */
	bool has_ctor;			      /* created with a constructor */
	unsigned int oo_order, oo_objects;    /* preferred slab order and its objects */
	unsigned int min_order, min_objects;  /* fallback slab order and its objects */
	unsigned int min_partial;	      /* keep this many empty slabs per node */
	unsigned int cpu_partial;	      /* objects on CPU partial lists */
	unsigned int cpu_partial_slabs;	      /* slabs on a CPU partial list */
	gfp_t allocflags;		      /* added to every slab page allocation */
	int refcount;			      /* users (aliases); -1 = never a merge target */
	int nr_aliases;			      /* names merged into it */
	char (*aliases)[KMEM_CACHE_NAME_LEN]; /* those names */
	uint16_t *random_seq;		      /* freelist order (CONFIG_SLAB_FREELIST_RANDOM) */
	unsigned int random_state;	      /* start positions of new slabs */
	struct machine *machine;	      /* owner */
	struct kmem_cache_cpu *cpu_slab;      /* one per CPU */
	struct kmem_cache_node *node[MAX_NUMNODES]; /* one per node */
	struct kmem_cache *next;		    /* slab_caches, newest first */
	unsigned long own_obj;			    /* its descriptor in kmem_cache (address) */
	unsigned long node_obj[MAX_NUMNODES];	    /* its kmem_cache_node descriptors */
};

/* Per-slab descriptor (the kernel overlays struct slab on struct page). */
struct slab {
	struct kmem_cache *slab_cache; /* owner */
	unsigned long pfn;	       /* first page */
	unsigned int order;	       /* pages = 1 << order */
	unsigned int objects;	       /* objects in this slab */
	unsigned int inuse;	       /* objects not on ->freelist (under list_lock) */
	uint32_t freelist;	       /* first free object, SLAB_NIL if none */
	int nid;		       /* node of its pages */
	bool frozen;		       /* a CPU slab or on a CPU partial list */
	bool on_partial;	       /* on the node's partial list (else full, when unfrozen) */
	unsigned int slabs;	       /* CPU partial list: slabs from here on */
	struct slab *next, *prev;      /* list links */
	uint16_t *next_free;	       /* free object chain, per object */
	uint8_t *allocated;	       /* 1 while the object is allocated (atomic) */
	unsigned int capacity;	       /* objects the arrays hold */
};

/* Errors of the free paths (besides -EINVAL). */
#define ESLAB_NOTSLAB (-2001)	 /* address is not in a slab or a kmalloc_large block */
#define ESLAB_NOTOBJ (-2002)	 /* inside a slab but not at an object boundary */
#define ESLAB_DOUBLE (-2003)	 /* the object is already free */
#define ESLAB_WRONGCACHE (-2004) /* the object belongs to another cache */

enum slab_event_item {
	SLAB_FREE_INVALID, /* kfree/kmem_cache_free refused */
	SLAB_ALLOC_FAIL,   /* allocations that returned NULL */
	SLAB_DESTROY_BUSY, /* kmem_cache_destroy refused: objects remain */
	NR_SLAB_EVENT_ITEMS
};

/* What the slab layer of a machine holds (the kernel's globals). */
struct slab_state {
	pthread_mutex_t slab_mutex;	    /* cache list and creation */
	struct kmem_cache *slab_caches;	    /* newest first */
	struct kmem_cache *kmem_cache;	    /* descriptors of caches */
	struct kmem_cache *kmem_cache_node; /* per-node descriptors */
	struct kmem_cache *kmalloc_caches[NR_KMALLOC_TYPES][KMALLOC_SHIFT_HIGH + 1];
	unsigned int cache_line;		   /* cache_line_size() */
	bool slab_nomerge;			   /* slab_nomerge boot option */
	unsigned long events[NR_SLAB_EVENT_ITEMS]; /* atomic adds */
};

/* slab_init - kmem_cache_init() and the kmalloc caches of a booted machine. */
void slab_init(struct machine *m);
void slab_release(struct machine *m);

/*
 * kmem_cache_create - a cache of @size-byte objects, or an alias of a compatible one.
 * Returns 0 with *@out set, -EEXIST (name taken), -EINVAL (bad size, align or flags).
 */
int kmem_cache_create(struct machine *m, struct kmem_cache **out, const char *name,
		      unsigned int size, unsigned int align, slab_flags_t flags, bool ctor);

/* kmem_cache_find - the cache (or the cache an alias names), NULL if none. */
struct kmem_cache *kmem_cache_find(struct machine *m, const char *name);

/* kmem_cache_destroy - drop @name; -EBUSY while objects remain, -ENOENT if unknown. */
int kmem_cache_destroy(struct machine *m, const char *name);

/* kmem_cache_shrink - release empty slabs; returns the pages given back. */
unsigned long kmem_cache_shrink(struct kmem_cache *s);

/*
 * kmem_cache_alloc_node - one object on behalf of @cpu, from @node (-1: any). Returns its
 * kernel virtual address, or 0 when the page allocator refused (ENOMEM).
 */
unsigned long kmem_cache_alloc_node(struct kmem_cache *s, gfp_t gfp, int node, int cpu);
unsigned long kmem_cache_alloc(struct kmem_cache *s, gfp_t gfp, int cpu);

/* kmem_cache_free - 0 or an ESLAB_* code (nothing changes on error). */
int kmem_cache_free(struct kmem_cache *s, unsigned long addr, int cpu);

/* kmalloc family: addresses as the kernel returns them; 0 = NULL. */
unsigned long kmalloc_node(struct machine *m, size_t size, gfp_t gfp, int node, int cpu);
unsigned long kmalloc(struct machine *m, size_t size, gfp_t gfp, int cpu);
unsigned long kzalloc(struct machine *m, size_t size, gfp_t gfp, int cpu);
unsigned long kcalloc(struct machine *m, size_t n, size_t size, gfp_t gfp, int cpu);
unsigned long krealloc(struct machine *m, unsigned long p, size_t new_size, gfp_t gfp, int cpu);
int kfree(struct machine *m, unsigned long addr, int cpu);
/* ksize - usable size of an allocated object or kmalloc_large block, 0 if not one. */
size_t ksize(struct machine *m, unsigned long addr);

/* kmalloc_slab - the cache kmalloc(@size, @gfp) uses, NULL for size 0 or > 8 KiB. */
struct kmem_cache *kmalloc_slab(struct machine *m, size_t size, gfp_t gfp);

/*
 * kmem_cache_validate - validate_slab_cache(): inconsistencies found (0 = clean). Exact on a
 * quiet cache: slabs that other CPUs take while it runs are on no list and count as errors.
 */
unsigned long kmem_cache_validate(struct kmem_cache *s, char *first_error, size_t len);

/* Counters of a cache, summed over nodes (as /proc/slabinfo reports them). */
struct slabinfo {
	unsigned long active_objs;  /* objects minus free objects on node partial lists */
	unsigned long num_objs;	    /* objects in all slabs */
	unsigned long active_slabs; /* = num_slabs for SLUB */
	unsigned long num_slabs;    /* slabs */
};
void get_slabinfo(struct kmem_cache *s, int nid, struct slabinfo *info);

/* slab_event - read one of the slab layer's own counters. */
unsigned long slab_event(const struct machine *m, enum slab_event_item item);

/* node_has_normal_memory - the node is in slab_nodes (it has DMA or Normal memory). */
bool node_has_normal_memory(const struct machine *m, int nid);

/* virt_to_pfn - the pfn of a lowmem kernel virtual address, or ~0ul if it is not one. */
unsigned long virt_to_pfn(const struct machine *m, unsigned long addr);

#endif
