// SPDX-License-Identifier: MIT
/*
 * handlers_slab.c - the slab requests of the node daemon: kmalloc, kfree, ksize and the
 * kmem_cache_* calls, on the node that holds lowmem (the dispatcher answers ENOENT on a
 * node without a slab layer before any of these runs).
 *
 * Caches are named by the client; objects are kernel virtual addresses. Every refused free
 * (not an object, double free, wrong cache) is BAD_PAGE_STATE with a message that says
 * which, and node/mm has already counted it (SLAB_FREE_INVALID).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "node.h"

/* ------------------------------------------------------------------ helpers */

static const char *slab_error(int err)
{
	switch (err) {
	case ESLAB_NOTSLAB:
		return "is not a slab object or kmalloc block";
	case ESLAB_NOTOBJ:
		return "is inside a slab but not at an object boundary";
	case ESLAB_DOUBLE:
		return "is already free (double free)";
	case ESLAB_WRONGCACHE:
		return "belongs to another cache";
	}
	return "cannot be freed";
}

/* The answer to a refused kfree / kmem_cache_free. */
static void reply_free_error(struct node_job *job, uint64_t addr, int err)
{
	if (err == -EINVAL)
		node_reply_set(job, NUMASIM__STATUS__STATUS_EINVAL, "cannot free 0x%llx",
			       (unsigned long long)addr);
	else
		node_reply_set(job, NUMASIM__STATUS__STATUS_BAD_PAGE_STATE, "0x%llx %s",
			       (unsigned long long)addr, slab_error(err));
}

/* The node of the page under a lowmem address, -1 for none (ZERO_SIZE_PTR). */
static int addr_node(struct machine *m, unsigned long addr)
{
	unsigned long pfn = virt_to_pfn(m, addr);
	struct zone *zone = pfn == ~0ul ? NULL : pfn_zone(m, pfn);

	return zone ? zone->zone_pgdat->node_id : -1;
}

/* An AddrReply for @addr served by @cache (ksize() gives the usable size). */
static void reply_addr(struct node_job *job, unsigned long addr, const char *cache)
{
	struct node_reply *r = &job->reply;

	numasim__addr_reply__init(&r->addr);
	r->addr.addr = addr;
	r->addr.node = addr_node(job->m, addr);
	snprintf(r->name, sizeof(r->name), "%s", cache);
	r->addr.cache = r->name;
	r->addr.size = ksize(job->m, addr);
	r->resp.body_case = NUMASIM__RESPONSE__BODY_ADDR;
	r->resp.addr = &r->addr;
}

static bool check_node(struct node_job *job, int node)
{
	if (node >= -1 && node < job->m->nr_nodes)
		return true;
	node_reply_set(job, NUMASIM__STATUS__STATUS_EINVAL, "node %d does not exist", node);
	return false;
}

/* The cache called @name, or NULL with ENOENT answered. */
static struct kmem_cache *find_cache(struct node_job *job, const char *name)
{
	struct kmem_cache *s = kmem_cache_find(job->m, name ? name : "");

	if (!s)
		node_reply_set(job, NUMASIM__STATUS__STATUS_ENOENT, "no slab cache '%s'",
			       name ? name : "");
	return s;
}

/* ------------------------------------------------------------------ kmalloc */

static void handle_kmalloc(struct node_job *job)
{
	const Numasim__Kmalloc *k = job->req->kmalloc;
	struct kmem_cache *s;
	unsigned long addr;

	if (!check_node(job, k->node))
		return;
	addr = kmalloc_node(job->m, (size_t)k->size, k->gfp, k->node, k->cpu);
	if (!addr) {
		node_reply_set(job, NUMASIM__STATUS__STATUS_ENOMEM,
			       k->size > KMALLOC_MAX_SIZE
				       ? "kmalloc of %llu bytes: above KMALLOC_MAX_SIZE"
				       : "kmalloc of %llu bytes failed: the page allocator refused",
			       (unsigned long long)k->size);
		return;
	}
	s = kmalloc_slab(job->m, (size_t)k->size, k->gfp);
	reply_addr(job, addr, !k->size ? "" : s ? s->name : "kmalloc_large");
}

/* The answer went nowhere: free the object (the coordinator never recorded it). */
static void undo_kmalloc(struct node_job *job)
{
	kfree(job->m, (unsigned long)job->reply.addr.addr, job->req->kmalloc->cpu);
}

static void handle_kfree(struct node_job *job)
{
	const Numasim__Kfree *k = job->req->kfree;
	int ret = kfree(job->m, (unsigned long)k->addr, k->cpu);

	if (ret)
		reply_free_error(job, k->addr, ret);
}

static void handle_ksize(struct node_job *job)
{
	unsigned long addr = (unsigned long)job->req->ksize->addr;

	if (!ksize(job->m, addr)) {
		node_reply_set(job, NUMASIM__STATUS__STATUS_BAD_PAGE_STATE,
			       "0x%lx is not an allocated object", addr);
		return;
	}
	reply_addr(job, addr, "");
}

/* ------------------------------------------------------------------ kmem_cache_* */

static void reply_cache(struct node_job *job, const char *name, const struct kmem_cache *s)
{
	struct node_reply *r = &job->reply;

	numasim__cache_create_reply__init(&r->cache);
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->cache.name = r->name;
	if (strcmp(s->name, name)) {
		snprintf(r->name2, sizeof(r->name2), "%s", s->name);
		r->cache.merged_into = r->name2;
	}
	r->cache.objsize = s->size;
	r->cache.align = s->align;
	r->cache.objperslab = s->oo_objects;
	r->cache.pagesperslab = 1u << s->oo_order;
	r->resp.body_case = NUMASIM__RESPONSE__BODY_CACHE_CREATE;
	r->resp.cache_create = &r->cache;
}

static void handle_cache_create(struct node_job *job)
{
	const Numasim__CacheCreate *c = job->req->cache_create;
	const char *name = c->name ? c->name : "";
	struct kmem_cache *s;
	int ret = kmem_cache_create(job->m, &s, name, c->size, c->align, c->flags, c->ctor);

	if (ret == -EEXIST)
		node_reply_set(job, NUMASIM__STATUS__STATUS_EEXIST,
			       "slab cache '%s' already exists", name);
	else if (ret)
		node_reply_set(job, node_status_of_errno(ret),
			       "cannot create slab cache '%s': bad name, size, align or flags",
			       name);
	else
		reply_cache(job, name, s);
}

static void handle_cache_alloc(struct node_job *job)
{
	const Numasim__CacheAlloc *c = job->req->cache_alloc;
	struct kmem_cache *s = find_cache(job, c->name);
	unsigned long addr;

	if (!s || !check_node(job, c->node))
		return;
	addr = kmem_cache_alloc_node(s, c->gfp, c->node, c->cpu);
	if (!addr) {
		node_reply_set(job, NUMASIM__STATUS__STATUS_ENOMEM,
			       "kmem_cache_alloc from '%s' failed: the page allocator refused",
			       c->name);
		return;
	}
	reply_addr(job, addr, s->name);
}

static void undo_cache_alloc(struct node_job *job)
{
	const Numasim__CacheAlloc *c = job->req->cache_alloc;
	struct kmem_cache *s = kmem_cache_find(job->m, c->name);

	if (s)
		kmem_cache_free(s, (unsigned long)job->reply.addr.addr, c->cpu);
}

static void handle_cache_free(struct node_job *job)
{
	const Numasim__CacheFree *c = job->req->cache_free;
	struct kmem_cache *s = find_cache(job, c->name);
	int ret;

	if (!s)
		return;
	ret = kmem_cache_free(s, (unsigned long)c->addr, c->cpu);
	if (ret)
		reply_free_error(job, c->addr, ret);
}

static void handle_cache_destroy(struct node_job *job)
{
	const char *name = job->req->cache_destroy->name ? job->req->cache_destroy->name : "";
	int ret = kmem_cache_destroy(job->m, name);

	if (ret == -EBUSY)
		node_reply_set(job, NUMASIM__STATUS__STATUS_EBUSY,
			       "kmem_cache_destroy %s: Slab cache still has objects", name);
	else if (ret == -ENOENT)
		node_reply_set(job, NUMASIM__STATUS__STATUS_ENOENT, "no slab cache '%s'", name);
	else if (ret == -EPERM)
		node_reply_set(job, NUMASIM__STATUS__STATUS_EPERM,
			       "slab cache '%s' is a boot cache and is never destroyed", name);
	else if (ret)
		node_reply_set(job, node_status_of_errno(ret), "cannot destroy slab cache '%s'",
			       name);
	else
		node_reply_count(job, 0, NULL);
}

static void handle_cache_shrink(struct node_job *job)
{
	struct kmem_cache *s = find_cache(job, job->req->cache_shrink->name);

	if (s)
		node_reply_count(job, kmem_cache_shrink(s), NULL);
}

static void handle_cache_validate(struct node_job *job)
{
	struct kmem_cache *s = find_cache(job, job->req->cache_validate->name);
	char first[MM_ERRLEN] = "";

	if (s)
		node_reply_count(job, kmem_cache_validate(s, first, sizeof(first)), first);
}

/* ------------------------------------------------------------------ the op table */

const struct node_op node_slab_ops[] = {
	NODE_OP(KMALLOC, "kmalloc", NODE_OP_CPU | NODE_OP_SLAB, handle_kmalloc, undo_kmalloc),
	NODE_OP(KFREE, "kfree", NODE_OP_CPU | NODE_OP_SLAB, handle_kfree, NULL),
	NODE_OP(KSIZE, "ksize", NODE_OP_SLAB, handle_ksize, NULL),
	NODE_OP(CACHE_CREATE, "cache_create", NODE_OP_SLAB, handle_cache_create, NULL),
	NODE_OP(CACHE_ALLOC, "cache_alloc", NODE_OP_CPU | NODE_OP_SLAB, handle_cache_alloc,
		undo_cache_alloc),
	NODE_OP(CACHE_FREE, "cache_free", NODE_OP_CPU | NODE_OP_SLAB, handle_cache_free, NULL),
	NODE_OP(CACHE_DESTROY, "cache_destroy", NODE_OP_SLAB, handle_cache_destroy, NULL),
	NODE_OP(CACHE_SHRINK, "cache_shrink", NODE_OP_SLAB, handle_cache_shrink, NULL),
	NODE_OP(CACHE_VALIDATE, "cache_validate", NODE_OP_SLAB, handle_cache_validate, NULL),
	{0},
};
