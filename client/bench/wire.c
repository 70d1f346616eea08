// SPDX-License-Identifier: MIT
/*
 * wire.c - a bench operation as a protobuf Request, and a Response as the operation's
 * result. No sockets: the loop and the replay pack what this builds.
 */
#include <errno.h>
#include <string.h>

#include "bench.h"

static void request_pages(struct bench_wire *w, const struct bench_op *op)
{
	Numasim__AllocPages *ap = &w->u.alloc_pages;
	Numasim__FreePages *fp = &w->u.free_pages;

	if (op->code == BENCH_OP_ALLOC_PAGES) {
		numasim__alloc_pages__init(ap);
		ap->gfp = op->gfp;
		ap->order = op->order;
		ap->cpu = op->cpu;
		ap->policy = op->policy.mode;
		ap->preferred = op->policy.preferred;
		ap->nodemask = op->policy.nodemask;
		w->req.body_case = NUMASIM__REQUEST__BODY_ALLOC_PAGES;
		w->req.alloc_pages = ap;
		return;
	}
	numasim__free_pages__init(fp);
	fp->pfn = op->handle;
	fp->order = op->order;
	fp->cpu = op->cpu;
	w->req.body_case = NUMASIM__REQUEST__BODY_FREE_PAGES;
	w->req.free_pages = fp;
}

static void request_kmalloc(struct bench_wire *w, const struct bench_op *op)
{
	Numasim__Kmalloc *km = &w->u.kmalloc;
	Numasim__Kfree *kf = &w->u.kfree;

	if (op->code == BENCH_OP_KMALLOC) {
		numasim__kmalloc__init(km);
		km->size = op->size;
		km->gfp = op->gfp;
		km->cpu = op->cpu;
		km->node = op->node;
		w->req.body_case = NUMASIM__REQUEST__BODY_KMALLOC;
		w->req.kmalloc = km;
		return;
	}
	numasim__kfree__init(kf);
	kf->addr = op->handle;
	kf->cpu = op->cpu;
	w->req.body_case = NUMASIM__REQUEST__BODY_KFREE;
	w->req.kfree = kf;
}

static void request_cache(struct bench_wire *w, const struct bench_op *op)
{
	switch (op->code) {
	case BENCH_OP_CACHE_CREATE:
		numasim__cache_create__init(&w->u.cache_create);
		w->u.cache_create.name = (char *)op->cache;
		w->u.cache_create.size = (uint32_t)op->size;
		w->u.cache_create.align = op->align;
		w->u.cache_create.flags = op->flags;
		w->req.body_case = NUMASIM__REQUEST__BODY_CACHE_CREATE;
		w->req.cache_create = &w->u.cache_create;
		break;
	case BENCH_OP_CACHE_ALLOC:
		numasim__cache_alloc__init(&w->u.cache_alloc);
		w->u.cache_alloc.name = (char *)op->cache;
		w->u.cache_alloc.gfp = op->gfp;
		w->u.cache_alloc.cpu = op->cpu;
		w->u.cache_alloc.node = op->node;
		w->req.body_case = NUMASIM__REQUEST__BODY_CACHE_ALLOC;
		w->req.cache_alloc = &w->u.cache_alloc;
		break;
	case BENCH_OP_CACHE_FREE:
		numasim__cache_free__init(&w->u.cache_free);
		w->u.cache_free.name = (char *)op->cache;
		w->u.cache_free.addr = op->handle;
		w->u.cache_free.cpu = op->cpu;
		w->req.body_case = NUMASIM__REQUEST__BODY_CACHE_FREE;
		w->req.cache_free = &w->u.cache_free;
		break;
	default: /* BENCH_OP_CACHE_DESTROY */
		numasim__cache_name__init(&w->u.cache_name);
		w->u.cache_name.name = (char *)op->cache;
		w->req.body_case = NUMASIM__REQUEST__BODY_CACHE_DESTROY;
		w->req.cache_destroy = &w->u.cache_name;
	}
}

void bench_wire_request(struct bench_wire *w, const struct bench_op *op)
{
	numasim__request__init(&w->req);
	switch (op->code) {
	case BENCH_OP_ALLOC_PAGES:
	case BENCH_OP_FREE_PAGES:
		request_pages(w, op);
		break;
	case BENCH_OP_KMALLOC:
	case BENCH_OP_KFREE:
		request_kmalloc(w, op);
		break;
	default:
		request_cache(w, op);
	}
}

int bench_wire_result(struct bench_op *op, const Numasim__Response *resp)
{
	op->status = (int)resp->status;
	op->result = 0;
	op->result_size = 0;
	if (resp->status != NUMASIM__STATUS__STATUS_OK || !bench_op_allocates(op->code))
		return 0;
	if (op->code == BENCH_OP_ALLOC_PAGES) {
		if (resp->body_case != NUMASIM__RESPONSE__BODY_ALLOC_PAGES)
			return -EPROTO;
		op->result = resp->alloc_pages->pfn;
		op->result_size = (uint64_t)BENCH_PAGE_SIZE << op->order;
		return 0;
	}
	if (resp->body_case != NUMASIM__RESPONSE__BODY_ADDR)
		return -EPROTO;
	op->result = resp->addr->addr;
	op->result_size = resp->addr->size;
	return 0;
}
