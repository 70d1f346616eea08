// SPDX-License-Identifier: MIT
/*
 * objects.c - the slab layer across the node daemons: kmalloc and kmem_cache_alloc routed
 * to a node with lowmem, kfree / kmem_cache_free / ksize to the node holding the address,
 * and the cache-wide commands (create, destroy, shrink, validate) on every such node.
 *
 * Mirrors:    mm/slub.c slab_nodes (node_has_normal_memory), kmalloc_node(),
 *             virt_to_page() (Linux 6.1.y)
 * Simplified: a cache lives on each node with lowmem as its own kmem_cache; names stay
 *             consistent because every node gets every create and destroy
 * Differs:    kmalloc tries the next node with lowmem (zonelist order of the preferred
 *             node) when one answers ENOMEM, where SLUB would let the page allocator fall
 *             back; with __GFP_THISNODE only the preferred node is tried
 *
 * Objects are kernel virtual addresses (PAGE_OFFSET + physical), so the node holding one
 * is the node whose span holds virt_to_pfn(addr). Each object handed out is recorded for
 * the identity that asked, as page blocks are.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "coord.h"
#include "nsim.h"
#include "slab.h"

/* ------------------------------------------------------------------ kmalloc, cache_alloc */

struct kmalloc_op {
	struct coord_call *call; /* the client's request */
	Numasim__Kmalloc km;	 /* kmalloc: what was asked (node set per try) */
	Numasim__CacheAlloc ca;	 /* kmem_cache_alloc: the same */
	bool cache;		 /* kmem_cache_alloc rather than kmalloc */
	int nids[MAX_NUMNODES];	 /* nodes with lowmem, zonelist order */
	int n;			 /* entries of nids */
	int pos;		 /* next one to try */
	char last[COORD_MSGLEN]; /* the last node's ENOMEM message */
};

static void kmalloc_op_free(struct kmalloc_op *op)
{
	if (op->cache)
		free(op->ca.name); /* else protobuf-c's empty string */
	free(op);
}

static void kmalloc_try(struct kmalloc_op *op);

static void kmalloc_answer(void *arg, Numasim__Response *resp)
{
	struct kmalloc_op *op = arg;
	struct coord *co = op->call->co;
	int nid = op->nids[op->pos - 1];

	if (!resp || resp->status == NUMASIM__STATUS__STATUS_ENOMEM) {
		snprintf(op->last, sizeof(op->last), "node %d: %s", nid,
			 resp ? resp->message : "went down");
		kmalloc_try(op);
		return;
	}
	if (resp->status == NUMASIM__STATUS__STATUS_OK &&
	    resp->body_case == NUMASIM__RESPONSE__BODY_ADDR && resp->addr->addr > ZERO_SIZE_PTR) {
		struct coord_owner_rec rec = {op->call->owner, nid, 0};

		coord_owner_set(&co->owners, OWNED_OBJECTS, resp->addr->addr, &rec);
	}
	coord_forward_reply(op->call, resp);
	kmalloc_op_free(op);
}

static void kmalloc_try(struct kmalloc_op *op)
{
	struct coord *co = op->call->co;
	Numasim__Request req;

	coord_request_init(&req);
	if (op->cache) {
		req.body_case = NUMASIM__REQUEST__BODY_CACHE_ALLOC;
		req.cache_alloc = &op->ca;
	} else {
		req.body_case = NUMASIM__REQUEST__BODY_KMALLOC;
		req.kmalloc = &op->km;
	}
	while (op->pos < op->n) {
		int nid = op->nids[op->pos++];

		op->km.node = op->ca.node = nid;
		if (!coord_node_call(co, nid, &req, kmalloc_answer, op))
			return;
		snprintf(op->last, sizeof(op->last), "node %d is down", nid);
	}
	coord_call_fail(op->call, NUMASIM__STATUS__STATUS_ENOMEM,
			"%s mode:%#x: no node with lowmem could serve it (%s)",
			op->cache ? "kmem_cache_alloc" : "kmalloc", op->km.gfp, op->last);
	kmalloc_op_free(op);
}

/* Copy what the request asks into @op; 0 or -EINVAL with @err. */
static int kmalloc_args(struct kmalloc_op *op, const struct machine *m, const Numasim__Request *req,
			int *node, char *err, size_t len)
{
	numasim__kmalloc__init(&op->km);
	numasim__cache_alloc__init(&op->ca);
	op->cache = req->body_case == NUMASIM__REQUEST__BODY_CACHE_ALLOC;
	if (op->cache) {
		op->ca.name = xstrdup(req->cache_alloc->name);
		op->ca.gfp = op->km.gfp = req->cache_alloc->gfp;
		op->ca.cpu = op->km.cpu = req->cache_alloc->cpu;
		*node = req->cache_alloc->node;
	} else {
		op->km.size = req->kmalloc->size;
		op->km.gfp = req->kmalloc->gfp;
		op->km.cpu = req->kmalloc->cpu;
		*node = req->kmalloc->node;
	}
	if (op->km.cpu < 0 || op->km.cpu >= m->ncpus) {
		snprintf(err, len, "cpu %d does not exist (cpus 0-%d)", op->km.cpu, m->ncpus - 1);
		return -EINVAL;
	}
	if (*node < -1 || *node >= m->nr_nodes) {
		snprintf(err, len, "node %d does not exist (nodes 0-%d, or -1)", *node,
			 m->nr_nodes - 1);
		return -EINVAL;
	}
	if (*node < 0)
		*node = m->cpu_to_node[op->km.cpu];
	return 0;
}

void coord_cmd_kmalloc(struct coord_call *call, const Numasim__Request *req)
{
	struct coord *co = call->co;
	struct kmalloc_op *op = xcalloc(1, sizeof(*op));
	char err[COORD_MSGLEN];
	int node;

	op->call = call;
	if (kmalloc_args(op, co->m, req, &node, err, sizeof(err))) {
		coord_call_fail(call, NUMASIM__STATUS__STATUS_EINVAL, "%s", err);
		kmalloc_op_free(op);
		return;
	}
	op->n = coord_slab_nodes(co->m, node, op->nids);
	if ((op->km.gfp & __GFP_THISNODE) && op->n)
		op->n = op->nids[0] == node;
	if (!op->n)
		snprintf(op->last, sizeof(op->last), "node %d has no lowmem%s", node,
			 op->km.gfp & __GFP_THISNODE ? " and __GFP_THISNODE keeps it there" : "");
	kmalloc_try(op);
}

/* ------------------------------------------------------------------ kfree, kmem_cache_free, ksize */

struct addr_op {
	struct coord_call *call; /* the client's request */
	uint64_t addr;		 /* the object */
	bool frees;		 /* kfree or kmem_cache_free: drop the record on success */
};

static void addr_answer(void *arg, Numasim__Response *resp)
{
	struct addr_op *op = arg;

	if (!resp) {
		coord_call_fail(op->call, NUMASIM__STATUS__STATUS_ENODEV,
				"the node holding %#llx went down", (unsigned long long)op->addr);
	} else {
		if (op->frees && resp->status == NUMASIM__STATUS__STATUS_OK)
			coord_owner_del(&op->call->co->owners, OWNED_OBJECTS, op->addr);
		coord_forward_reply(op->call, resp);
	}
	free(op);
}

static uint64_t addr_of(const Numasim__Request *req)
{
	switch (req->body_case) {
	case NUMASIM__REQUEST__BODY_KFREE:
		return req->kfree->addr;
	case NUMASIM__REQUEST__BODY_KSIZE:
		return req->ksize->addr;
	default:
		return req->cache_free->addr;
	}
}

/* kfree(NULL), kfree(ZERO_SIZE_PTR) and their ksize: nothing to do, as in the kernel. */
static void reply_null(struct coord_call *call, const Numasim__Request *req, uint64_t addr)
{
	Numasim__Response resp = NUMASIM__RESPONSE__INIT;
	Numasim__AddrReply reply = NUMASIM__ADDR_REPLY__INIT;

	if (req->body_case == NUMASIM__REQUEST__BODY_KSIZE) {
		reply.addr = addr;
		reply.node = -1;
		resp.body_case = NUMASIM__RESPONSE__BODY_ADDR;
		resp.addr = &reply;
	}
	coord_call_reply(call, &resp);
}

void coord_cmd_addr_op(struct coord_call *call, const Numasim__Request *req)
{
	struct coord *co = call->co;
	uint64_t addr = addr_of(req);
	int nid = coord_addr_node(co->m, addr);
	Numasim__Request out = *req;
	struct addr_op *op;
	char err[COORD_MSGLEN];

	if (addr <= ZERO_SIZE_PTR) {
		reply_null(call, req, addr);
		return;
	}
	if (nid < 0) {
		coord_call_fail(call, NUMASIM__STATUS__STATUS_BAD_PAGE_STATE,
				"%#llx is not a lowmem kernel address", (unsigned long long)addr);
		return;
	}
	if (coord_owner_check(&co->owners, OWNED_OBJECTS, addr, call->owner, call->admin, err,
			      sizeof(err))) {
		coord_call_fail(call, NUMASIM__STATUS__STATUS_EPERM, "%s", err);
		return;
	}
	op = xmalloc(sizeof(*op));
	op->call = call;
	op->addr = addr;
	op->frees = req->body_case != NUMASIM__REQUEST__BODY_KSIZE;
	out.base.unknown_fields = NULL;
	out.base.n_unknown_fields = 0;
	if (coord_node_call(co, nid, &out, addr_answer, op)) {
		coord_call_fail(call, NUMASIM__STATUS__STATUS_ENODEV, "node %d is down", nid);
		free(op);
	}
}

/* ------------------------------------------------------------------ cache-wide commands */

struct cache_op {
	struct coord_call *call; /* the client's request */
	int body;		 /* which command */
	struct coord_fanout f;	 /* one request per node with lowmem */
};

static void reply_count(struct coord_call *call, const struct coord_fanout *f)
{
	Numasim__Response resp = NUMASIM__RESPONSE__INIT;
	Numasim__CountReply reply = NUMASIM__COUNT_REPLY__INIT;

	for (int i = 0; i < f->n; i++) {
		const Numasim__CountReply *c;

		if (f->e[i].resp->body_case != NUMASIM__RESPONSE__BODY_COUNT)
			continue;
		c = f->e[i].resp->count;
		reply.count += c->count;
		if (!*reply.message && c->message)
			reply.message = c->message;
	}
	resp.body_case = NUMASIM__RESPONSE__BODY_COUNT;
	resp.count = &reply;
	coord_call_reply(call, &resp);
}

/* The first node refusing with EBUSY (kmem_cache_destroy), or NULL. */
static const struct coord_fanout_entry *busy_entry(const struct coord_fanout *f)
{
	for (int i = 0; i < f->n; i++)
		if (f->e[i].resp && f->e[i].resp->status == NUMASIM__STATUS__STATUS_EBUSY)
			return &f->e[i];
	return NULL;
}

static void cache_op_done(struct coord_fanout *f)
{
	struct cache_op *op = f->arg;
	const struct coord_fanout_entry *e = coord_fanout_first_error(f);

	if (op->body == NUMASIM__REQUEST__BODY_CACHE_DESTROY && busy_entry(f))
		e = busy_entry(f);
	if (e)
		coord_call_fail_entry(op->call, e);
	else if (op->body == NUMASIM__REQUEST__BODY_CACHE_SHRINK ||
		 op->body == NUMASIM__REQUEST__BODY_CACHE_VALIDATE)
		reply_count(op->call, f);
	else
		coord_call_reply(op->call, f->e[0].resp); /* create: the first node's geometry */
	coord_fanout_release(f);
	free(op);
}

void coord_cmd_cache_op(struct coord_call *call, const Numasim__Request *req)
{
	struct coord *co = call->co;
	struct cache_op *op = xmalloc(sizeof(*op));
	Numasim__Request out = *req;

	op->call = call;
	op->body = req->body_case;
	coord_fanout_init(&op->f, co, cache_op_done, op);
	out.base.unknown_fields = NULL;
	out.base.n_unknown_fields = 0;
	for (int nid = 0; nid < co->m->nr_nodes; nid++)
		if (node_has_normal_memory(co->m, nid) && coord_node_is_up(co, nid))
			coord_fanout_add(&op->f, nid, &out);
	if (!op->f.n) {
		coord_call_fail(call, NUMASIM__STATUS__STATUS_ENODEV, "no node with lowmem is up");
		free(op);
		return;
	}
	coord_fanout_arm(&op->f);
}
