/* SPDX-License-Identifier: MIT */
/*
 * nsim.h - shared helpers of the numasim programs: memory that cannot fail, sizes and
 * lists as users type them, gfp masks by name.
 *
 * Errors: parsers return 0 or -EINVAL and never print; callers report once, where the
 * decision is made.
 */
#ifndef NUMASIM_COMMON_NSIM_H
#define NUMASIM_COMMON_NSIM_H

#include <stddef.h>
#include <stdint.h>

/* xmalloc family: real out-of-memory in this process aborts (never simulated OOM). */
void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);

/*
 * nsim_malloc_keep - keep freed heap in the process (up to 64 MiB above what is in use) for
 * the servers and the load generator: a burst of requests allocates and frees megabytes,
 * and trimming them back to the system after each burst made the next one page-fault its
 * way up again (a third of the throughput under pipelined load).
 */
void nsim_malloc_keep(void);
char *xstrdup(const char *s);

/*
 * struct nsim_pool - freed objects of one size kept for reuse, on a stack of at most @max:
 * the servers make and drop a few small records per request, and malloc/free of those was
 * a tenth of the coordinator's time. Not thread-safe: a pool belongs to one thread.
 */
struct nsim_pool {
	void *head;   /* the last object put back (its first bytes link to the next) */
	unsigned n;   /* objects kept */
	unsigned max; /* most kept; more are freed */
	size_t size;  /* bytes of an object (>= sizeof(void *)) */
};

/* Under AddressSanitizer a pool keeps nothing, so that a use after a put is reported. */
#if defined(__SANITIZE_ADDRESS__)
#define NSIM_POOL_KEEPS 0
#else
#define NSIM_POOL_KEEPS 1
#endif

void nsim_pool_init(struct nsim_pool *p, size_t size, unsigned max);
/* nsim_pool_get - a kept object, else a new one (xmalloc); its contents are undefined. */
void *nsim_pool_get(struct nsim_pool *p);
/* nsim_pool_put - give @obj (from this pool) back; NULL is a no-op. */
void nsim_pool_put(struct nsim_pool *p, void *obj);
/* nsim_pool_release - free every object kept. */
void nsim_pool_release(struct nsim_pool *p);

/*
 * nsim_parse_size - "1024", "64K", "512M", "2G", "1T" or "0x1000" (the kernel's memparse
 * suffixes, case-insensitive, optional trailing "B"/"iB") into bytes.
 */
int nsim_parse_size(const char *s, uint64_t *bytes);

/* nsim_parse_long - a whole decimal or 0x-hex number in [min, max]. */
int nsim_parse_long(const char *s, long min, long max, long *out);

/*
 * nsim_parse_nodelist - numactl's node list syntax ("0-3,5", "all" = every node below
 * @nr_nodes) into a bit mask; nodes must be below @nr_nodes.
 */
int nsim_parse_nodelist(const char *s, int nr_nodes, uint64_t *mask);

/*
 * nsim_gfp_parse - "GFP_KERNEL|__GFP_ZERO", "GFP_HIGHUSER_MOVABLE", "0xcc0" or "3264"
 * (names as the kernel spells them, also without the GFP_ / __GFP_ prefix, any case) into
 * a mask. *@bad points at the first unknown name on -EINVAL.
 */
int nsim_gfp_parse(const char *s, unsigned int *gfp, const char **bad);

/* nsim_gfp_format - the mask as the kernel's %pGg prints it ("GFP_KERNEL|__GFP_ZERO"). */
void nsim_gfp_format(unsigned int gfp, char *buf, size_t len);

/*
 * nsim_slab_flags_parse - "SLAB_HWCACHE_ALIGN|SLAB_RECLAIM_ACCOUNT", "hwcache_align", "0x2000"
 * into SLAB_* bits; *@bad points at the first unknown name on -EINVAL.
 */
int nsim_slab_flags_parse(const char *s, unsigned int *flags, const char **bad);

/* nsim_slab_flags_format - the flags by name, "0" for none. */
void nsim_slab_flags_format(unsigned int flags, char *buf, size_t len);

#endif
