// SPDX-License-Identifier: MIT
/*
 * slab_common.c - creating, merging and destroying caches; the kmalloc caches and sizes.
 *
 * Mirrors:    mm/slab_common.c (kmem_cache_create_usercopy, find_mergeable,
 *             slab_unmergeable, kmem_cache_destroy, create_kmalloc_caches, kmalloc_slab,
 *             size_index, kmalloc_info), mm/slub.c (calculate_sizes, calculate_order,
 *             slab_order, set_min_partial, set_cpu_partial, create_unique_id,
 *             __kmem_cache_alias, kmem_cache_init), Linux 6.1.y, i386
 * Simplified: no sysfs; the aliases of a cache are a list of names
 * Differs:    cache names are unique; destroying a cache that still has objects is refused
 *             and the cache stays usable (the kernel warns and leaves it half torn down)
 *
 * Locking: slab_mutex serialises creation, aliasing and destruction and the cache list.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "slab.h"
#include "slub.h"

#define ARCH_SLAB_MINALIGN 8u /* __alignof__(unsigned long long) on i386 */
#define SIZEOF_PTR 4u	      /* sizeof(void *) on i386 */
#define SIZEOF_TRACK 20u      /* struct track with a stack depot handle */
#define MAX_OBJS_PER_PAGE 32767u
#define MIN_PARTIAL 5u
#define MAX_PARTIAL 10u
#define KMEM_CACHE_SIZE 140u	 /* sizeof(struct kmem_cache), Debian 686/686-pae */
#define KMEM_CACHE_NODE_SIZE 32u /* sizeof(struct kmem_cache_node) */

static unsigned int align_up(unsigned int x, unsigned int a)
{
	return (x + a - 1) & ~(a - 1);
}

static int fls_u(unsigned int x)
{
	return x ? 32 - __builtin_clz(x) : 0;
}

static unsigned int calculate_alignment(const struct machine *m, slab_flags_t flags,
					unsigned int align, unsigned int size)
{
	if (flags & SLAB_HWCACHE_ALIGN) {
		unsigned int ralign = m->cfg.cache_line;

		while (size <= ralign / 2)
			ralign /= 2;
		align = align > ralign ? align : ralign;
	}
	if (align < ARCH_SLAB_MINALIGN)
		align = ARCH_SLAB_MINALIGN;
	return align_up(align, SIZEOF_PTR);
}

static unsigned int order_objects(unsigned int order, unsigned int size)
{
	return (unsigned int)((PAGE_SIZE << order) / size);
}

static unsigned int slab_order(const struct machine *m, unsigned int size, unsigned int min_objects,
			       unsigned int max_order, unsigned int fract_leftover)
{
	unsigned int min_order = m->cfg.slub_min_order, order;

	if (order_objects(min_order, size) > MAX_OBJS_PER_PAGE)
		return get_order((unsigned long)size * MAX_OBJS_PER_PAGE) - 1;
	order = get_order((unsigned long)min_objects * size);
	for (order = order > min_order ? order : min_order; order <= max_order; order++) {
		unsigned long slab_size = PAGE_SIZE << order;

		if (order_objects(order, size) > MAX_OBJS_PER_PAGE)
			return max_order + 1; /* a slab holds at most 32767 objects */
		if (slab_size % size <= slab_size / fract_leftover)
			break;
	}
	return order;
}

/* calculate_order(): the smallest order that wastes little and holds enough objects. */
static int calculate_order(const struct machine *m, unsigned int size)
{
	unsigned int max_order = m->cfg.slub_max_order, min_objects = m->cfg.slub_min_objects;
	unsigned int max_objects, order;

	if (!min_objects)
		min_objects = 4 * (unsigned int)(fls_u((unsigned int)m->ncpus) + 1);
	max_objects = order_objects(max_order, size);
	if (min_objects > max_objects)
		min_objects = max_objects;
	for (; min_objects > 1; min_objects--)
		for (unsigned int fraction = 16; fraction >= 4; fraction /= 2) {
			order = slab_order(m, size, min_objects, max_order, fraction);
			if (order <= max_order)
				return (int)order;
		}
	order = slab_order(m, size, 1, max_order, 1);
	if (order <= max_order)
		return (int)order;
	order = slab_order(m, size, 1, MAX_ORDER, 1);
	return order < MAX_ORDER ? (int)order : -ENOSYS;
}

/* calculate_sizes(): object layout (free pointer, debug metadata) and slab geometry. */
static int calculate_sizes(struct kmem_cache *s)
{
	const struct machine *m = s->machine;
	slab_flags_t flags = s->flags;
	unsigned int size = align_up(s->object_size, SIZEOF_PTR);
	int order;

	if ((flags & SLAB_RED_ZONE) && size == s->object_size)
		size += SIZEOF_PTR;
	s->inuse = size;
	if ((flags & (SLAB_TYPESAFE_BY_RCU | SLAB_POISON)) || s->has_ctor ||
	    ((flags & SLAB_RED_ZONE) && s->object_size < SIZEOF_PTR)) {
		s->offset = size;
		size += SIZEOF_PTR;
	} else {
		s->offset = (s->object_size / 2) & ~(SIZEOF_PTR - 1);
	}
	if (flags & SLAB_STORE_USER) {
		size += 2 * SIZEOF_TRACK;
		if (flags & SLAB_KMALLOC)
			size += sizeof(unsigned int);
	}
	if (flags & SLAB_RED_ZONE) {
		size += SIZEOF_PTR;
		s->red_left_pad = align_up(SIZEOF_PTR, s->align);
		size += s->red_left_pad;
	}
	s->size = align_up(size, s->align);
	order = calculate_order(m, s->size);
	if (order < 0)
		return -EINVAL;
	s->oo_order = (unsigned int)order;
	s->oo_objects = order_objects(s->oo_order, s->size);
	s->min_order = get_order(s->size);
	s->min_objects = order_objects(s->min_order, s->size);
	return 0;
}

static void set_partial_limits(struct kmem_cache *s)
{
	unsigned int min = (unsigned int)(fls_u(s->size) - 1) / 2;

	s->min_partial = min < MIN_PARTIAL ? MIN_PARTIAL : min > MAX_PARTIAL ? MAX_PARTIAL : min;
	if (s->flags & SLAB_DEBUG_FLAGS)
		s->cpu_partial = 0;
	else if (s->size >= PAGE_SIZE)
		s->cpu_partial = 6;
	else if (s->size >= 1024)
		s->cpu_partial = 24;
	else if (s->size >= 256)
		s->cpu_partial = 52;
	else
		s->cpu_partial = 120;
	s->cpu_partial_slabs = (s->cpu_partial * 2 + s->oo_objects - 1) / s->oo_objects;
}

static void set_allocflags(struct kmem_cache *s)
{
	s->allocflags = 0;
	if (s->oo_order)
		s->allocflags |= __GFP_COMP;
	if (s->flags & SLAB_CACHE_DMA)
		s->allocflags |= GFP_DMA;
	if (s->flags & SLAB_CACHE_DMA32)
		s->allocflags |= GFP_DMA32;
	if (s->flags & SLAB_RECLAIM_ACCOUNT)
		s->allocflags |= __GFP_RECLAIMABLE;
}

static bool slab_unmergeable(const struct kmem_cache *s)
{
	const struct slab_state *st = s->machine->slab;

	return st->slab_nomerge || (s->flags & SLAB_NEVER_MERGE) || s->has_ctor || s->usersize ||
	       s->refcount < 0;
}

/* create_unique_id(): ":" + flag letters + "-" + the 7-digit object size. */
static void create_unique_id(struct kmem_cache *s)
{
	char letters[8];
	int n = 0;

	if (s->flags & SLAB_CACHE_DMA)
		letters[n++] = 'd';
	if (s->flags & SLAB_CACHE_DMA32)
		letters[n++] = 'D';
	if (s->flags & SLAB_RECLAIM_ACCOUNT)
		letters[n++] = 'a';
	if (s->flags & SLAB_CONSISTENCY_CHECKS)
		letters[n++] = 'F';
	if (s->flags & SLAB_ACCOUNT)
		letters[n++] = 'A';
	letters[n] = '\0';
	snprintf(s->sysfs_id, sizeof(s->sysfs_id), ":%s%s%07u", letters, n ? "-" : "", s->size);
}

static void add_alias(struct kmem_cache *s, const char *name)
{
	s->aliases = realloc(s->aliases, sizeof(*s->aliases) * (size_t)(s->nr_aliases + 1));
	if (!s->aliases)
		abort();
	snprintf(s->aliases[s->nr_aliases++], KMEM_CACHE_NAME_LEN, "%s", name);
}

/* find_mergeable(): the oldest compatible cache, or NULL. */
static struct kmem_cache *find_mergeable(struct machine *m, unsigned int size, unsigned int align,
					 slab_flags_t flags, bool ctor)
{
	struct kmem_cache *found = NULL;

	if (m->slab->slab_nomerge || ctor || (flags & SLAB_NEVER_MERGE))
		return NULL;
	size = align_up(size, SIZEOF_PTR);
	align = calculate_alignment(m, flags, align, size);
	size = align_up(size, align);
	for (struct kmem_cache *s = m->slab->slab_caches; s; s = s->next) {
		if (slab_unmergeable(s) || size > s->size)
			continue;
		if ((flags & SLAB_MERGE_SAME) != (s->flags & SLAB_MERGE_SAME))
			continue;
		if ((s->size & ~(align - 1)) != s->size || s->size - size >= SIZEOF_PTR)
			continue;
		found = s; /* the list is newest first: keep the oldest match */
	}
	return found;
}

/* Caller holds slab_mutex. */
static struct kmem_cache *__kmem_cache_find(struct machine *m, const char *name)
{
	for (struct kmem_cache *s = m->slab->slab_caches; s; s = s->next) {
		bool mergeable = strcmp(s->sysfs_id, s->name) != 0;

		/* a mergeable cache answers to its id and its current aliases only */
		if (!strcmp(s->sysfs_id, name) || (!mergeable && !strcmp(s->name, name)))
			return s;
		for (int i = 0; i < s->nr_aliases; i++)
			if (!strcmp(s->aliases[i], name))
				return s;
	}
	return NULL;
}

struct kmem_cache *kmem_cache_find(struct machine *m, const char *name)
{
	struct kmem_cache *s;

	pthread_mutex_lock(&m->slab->slab_mutex);
	s = __kmem_cache_find(m, name);
	pthread_mutex_unlock(&m->slab->slab_mutex);
	return s;
}

/* The descriptor objects a cache costs: one kmem_cache, one kmem_cache_node per node. */
static int alloc_descriptors(struct kmem_cache *s)
{
	struct slab_state *st = s->machine->slab;

	s->own_obj = kmem_cache_alloc(st->kmem_cache, GFP_KERNEL, 0);
	if (!s->own_obj)
		return -ENOMEM;
	for (int nid = 0; nid < s->machine->nr_nodes; nid++) {
		if (!node_has_normal_memory(s->machine, nid))
			continue;
		s->node_obj[nid] = kmem_cache_alloc_node(st->kmem_cache_node, GFP_KERNEL, nid, 0);
		if (!s->node_obj[nid])
			return -ENOMEM;
	}
	return 0;
}

static void free_descriptors(struct kmem_cache *s)
{
	struct slab_state *st = s->machine->slab;

	for (int nid = 0; nid < s->machine->nr_nodes; nid++)
		if (s->node_obj[nid])
			kmem_cache_free(st->kmem_cache_node, s->node_obj[nid], 0);
	if (s->own_obj)
		kmem_cache_free(st->kmem_cache, s->own_obj, 0);
}

static struct kmem_cache *cache_new(struct machine *m, const char *name, unsigned int size,
				    unsigned int align, slab_flags_t flags, bool ctor,
				    unsigned int usersize, int refcount)
{
	struct kmem_cache *s = calloc(1, sizeof(*s));

	if (!s)
		abort();
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->machine = m;
	s->object_size = size;
	s->flags = flags;
	s->has_ctor = ctor;
	s->usersize = usersize;
	s->align = calculate_alignment(m, flags, align, size);
	if (calculate_sizes(s)) {
		free(s);
		return NULL;
	}
	set_partial_limits(s);
	set_allocflags(s);
	s->refcount = refcount;
	if (slab_unmergeable(s)) {
		snprintf(s->sysfs_id, sizeof(s->sysfs_id), "%s", name);
	} else {
		create_unique_id(s);
		add_alias(s, name);
	}
	slub_cache_init(s);
	s->next = m->slab->slab_caches;
	m->slab->slab_caches = s;
	return s;
}

static void cache_unlink_free(struct kmem_cache *s)
{
	struct kmem_cache **pp = &s->machine->slab->slab_caches;

	while (*pp && *pp != s)
		pp = &(*pp)->next;
	if (*pp)
		*pp = s->next;
	slub_cache_release(s);
	free(s->aliases);
	free(s);
}

static bool power_of_2(unsigned int x)
{
	return x && !(x & (x - 1));
}

static int check_create(struct machine *m, const char *name, unsigned int size, unsigned int align,
			slab_flags_t flags)
{
	if (!name || !*name || strlen(name) >= KMEM_CACHE_NAME_LEN || strchr(name, ' '))
		return -EINVAL;
	if (!size || size > KMALLOC_MAX_SIZE ||
	    (align && (!power_of_2(align) || align > PAGE_SIZE)))
		return -EINVAL;
	if (flags & ~SLAB_FLAGS_PERMITTED)
		return -EINVAL;
	return __kmem_cache_find(m, name) ? -EEXIST : 0;
}

int kmem_cache_create(struct machine *m, struct kmem_cache **out, const char *name,
		      unsigned int size, unsigned int align, slab_flags_t flags, bool ctor)
{
	struct slab_state *st = m->slab;
	struct kmem_cache *s;
	int ret;

	*out = NULL;
	pthread_mutex_lock(&st->slab_mutex);
	ret = check_create(m, name, size, align, flags);
	if (ret)
		goto out_unlock;
	s = find_mergeable(m, size, align, flags, ctor);
	if (s) {
		s->refcount++;
		if (s->object_size < size)
			s->object_size = size;
		if (s->inuse < align_up(size, SIZEOF_PTR))
			s->inuse = align_up(size, SIZEOF_PTR);
		add_alias(s, name);
		*out = s;
		goto out_unlock;
	}
	s = cache_new(m, name, size, align, flags, ctor, 0, 1);
	if (!s) {
		ret = -EINVAL;
		goto out_unlock;
	}
	ret = alloc_descriptors(s);
	if (ret) {
		free_descriptors(s);
		cache_unlink_free(s);
		goto out_unlock;
	}
	*out = s;
out_unlock:
	pthread_mutex_unlock(&st->slab_mutex);
	return ret;
}

static void drop_alias(struct kmem_cache *s, const char *name)
{
	for (int i = 0; i < s->nr_aliases; i++) {
		if (strcmp(s->aliases[i], name))
			continue;
		memmove(s->aliases[i], s->aliases[i + 1],
			sizeof(*s->aliases) * (size_t)(s->nr_aliases - i - 1));
		s->nr_aliases--;
		return;
	}
}

int kmem_cache_destroy(struct machine *m, const char *name)
{
	struct slab_state *st = m->slab;
	struct kmem_cache *s;
	int ret = 0;

	pthread_mutex_lock(&st->slab_mutex);
	s = __kmem_cache_find(m, name);
	if (!s) {
		ret = -ENOENT;
		goto out_unlock;
	}
	if (s->refcount < 0 || (s->flags & SLAB_KMALLOC)) {
		ret = -EPERM; /* boot caches are never destroyed */
		goto out_unlock;
	}
	if (!strcmp(name, s->sysfs_id) && strcmp(s->sysfs_id, s->name)) {
		ret = -ENOENT; /* an id is not a name: destroy the caches merged into it */
		goto out_unlock;
	}
	if (s->refcount > 1) {
		s->refcount--;
		drop_alias(s, name);
		goto out_unlock;
	}
	if (slub_shutdown(s)) {
		__atomic_fetch_add(&st->events[SLAB_DESTROY_BUSY], 1, __ATOMIC_RELAXED);
		ret = -EBUSY;
		goto out_unlock;
	}
	free_descriptors(s);
	cache_unlink_free(s);
out_unlock:
	pthread_mutex_unlock(&st->slab_mutex);
	return ret;
}

/* size_index[]: kmalloc caches for sizes up to 192, by (size - 1) / 8. */
static const uint8_t size_index[24] = {3, 4, 5, 5, 6, 6, 6, 6, 1, 1, 1, 1,
				       7, 7, 7, 7, 2, 2, 2, 2, 2, 2, 2, 2};

static unsigned int kmalloc_index(size_t size)
{
	if (size <= 192)
		return size_index[(size - 1) / 8];
	return (unsigned int)fls_u((unsigned int)size - 1);
}

static enum kmalloc_cache_type kmalloc_type(gfp_t gfp)
{
	if (!(gfp & (__GFP_RECLAIMABLE | __GFP_DMA | __GFP_ACCOUNT)))
		return KMALLOC_NORMAL;
	if (gfp & __GFP_DMA)
		return KMALLOC_DMA;
	if (gfp & __GFP_RECLAIMABLE)
		return KMALLOC_RECLAIM;
	return KMALLOC_CGROUP;
}

struct kmem_cache *kmalloc_slab(struct machine *m, size_t size, gfp_t gfp)
{
	if (!size || size > KMALLOC_MAX_CACHE_SIZE)
		return NULL;
	return m->slab->kmalloc_caches[kmalloc_type(gfp)][kmalloc_index(size)];
}

static void kmalloc_name(char *buf, size_t len, enum kmalloc_cache_type type, unsigned int size)
{
	static const char *const prefix[NR_KMALLOC_TYPES] = {"kmalloc-", "kmalloc-cg-",
							     "kmalloc-rcl-", "dma-kmalloc-"};

	if (size >= 1024)
		snprintf(buf, len, "%s%uk", prefix[type], size >> 10);
	else
		snprintf(buf, len, "%s%u", prefix[type], size);
}

static void new_kmalloc_cache(struct machine *m, unsigned int idx, enum kmalloc_cache_type type)
{
	static const slab_flags_t type_flags[NR_KMALLOC_TYPES] = {
		0, SLAB_ACCOUNT, SLAB_RECLAIM_ACCOUNT, SLAB_CACHE_DMA};
	unsigned int size = idx == 1 ? 96 : idx == 2 ? 192 : 1u << idx;
	unsigned int align = power_of_2(size) ? size : ARCH_SLAB_MINALIGN;
	char name[KMEM_CACHE_NAME_LEN];

	kmalloc_name(name, sizeof(name), type, size);
	m->slab->kmalloc_caches[type][idx] =
		cache_new(m, name, size, align, type_flags[type] | SLAB_KMALLOC, false, size, 1);
}

/* create_kmalloc_caches(): per type 8 .. 8k, 96 after 64 and 192 after 128. */
static void create_kmalloc_caches(struct machine *m)
{
	for (int type = KMALLOC_NORMAL; type < NR_KMALLOC_TYPES; type++)
		for (unsigned int i = KMALLOC_SHIFT_LOW; i <= KMALLOC_SHIFT_HIGH; i++) {
			new_kmalloc_cache(m, i, (enum kmalloc_cache_type)type);
			if (i == 6)
				new_kmalloc_cache(m, 1, (enum kmalloc_cache_type)type);
			if (i == 7)
				new_kmalloc_cache(m, 2, (enum kmalloc_cache_type)type);
		}
}

/* kmem_cache_init(): the two bootstrap caches, the kmalloc caches, then their descriptors. */
void slab_init(struct machine *m)
{
	struct slab_state *st = calloc(1, sizeof(*st));
	struct kmem_cache *order[64 + 2 * NR_KMALLOC_TYPES * 16];
	int n = 0;

	if (!st)
		abort();
	m->slab = st;
	pthread_mutex_init(&st->slab_mutex, NULL);
	st->cache_line = m->cfg.cache_line;
	st->slab_nomerge = m->cfg.slab_nomerge;
	st->kmem_cache = cache_new(m, "kmem_cache", KMEM_CACHE_SIZE, 0,
				   SLAB_HWCACHE_ALIGN | SLAB_PANIC, false, 0, -1);
	st->kmem_cache_node = cache_new(m, "kmem_cache_node", KMEM_CACHE_NODE_SIZE, 0,
					SLAB_HWCACHE_ALIGN | SLAB_PANIC, false, 0, -1);
	create_kmalloc_caches(m);
	for (struct kmem_cache *s = st->slab_caches; s; s = s->next)
		order[n++] = s;
	while (n--)
		alloc_descriptors(order[n]);
}

void slab_release(struct machine *m)
{
	struct slab_state *st = m->slab;

	if (!st)
		return;
	while (st->slab_caches) {
		struct kmem_cache *s = st->slab_caches;

		st->slab_caches = s->next;
		slub_cache_release(s);
		free(s->aliases);
		free(s);
	}
	pthread_mutex_destroy(&st->slab_mutex);
	free(st);
	m->slab = NULL;
}

unsigned long slab_event(const struct machine *m, enum slab_event_item item)
{
	return __atomic_load_n(&m->slab->events[item], __ATOMIC_RELAXED);
}
