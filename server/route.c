// SPDX-License-Identifier: MIT
/*
 * route.c - alloc_pages and free_pages across the node daemons: the zonelist walk and the
 * slow path as an asynchronous state machine in the loop.
 *
 * Mirrors:    mm/page_alloc.c __alloc_pages(), get_page_from_freelist(),
 *             __alloc_pages_slowpath(), wake_all_kswapds(), zone_statistics() (Linux 6.1.y)
 * Simplified: no reclaim and no compaction (nothing to reclaim from); one retry after
 *             unreserving high-atomic blocks and draining the pagesets, then ENOMEM; no OOM
 * Differs:    each zone's watermark check and allocation is done by the node holding it
 *             (ZoneAlloc); the coordinator only orders the zones and counts numa_foreign
 *
 * States of an allocation (struct alloc_op):
 *   FAST   walk with ALLOC_WMARK_LOW (| ALLOC_KSWAPD); a zone that serves it ends the walk
 *          -> all refused: wake kswapd once per node of the walk (if the mask allows it)
 *   MIN    walk with gfp_to_alloc_flags()
 *          -> all refused: ENOMEM if the mask cannot block, else unreserve high-atomic
 *             blocks of every zone of the walk and drain every node's pagesets
 *   RETRY  walk once more -> all refused: ENOMEM with every zone of this walk and why
 * One zone is asked at a time; a node that is down is recorded as "node down" and skipped.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "coord.h"
#include "nsim.h"

#define WHY_LEN 24

enum alloc_stage { STAGE_FAST, STAGE_MIN, STAGE_RETRY };

struct tried_zone {
	int nid;	   /* node */
	int zone_idx;	   /* zone */
	char why[WHY_LEN]; /* as ZoneTried.why */
	int64_t free;	   /* free pages the node saw */
	int64_t mark;	   /* watermark applied */
	int64_t reserve;   /* lowmem_reserve[highest_zoneidx] */
};

struct alloc_op {
	struct coord_call *call;      /* the client's request */
	struct coord *co;	      /* the server */
	struct coord_alloc_args args; /* what was asked */
	struct coord_alloc_plan plan; /* the walk */
	enum alloc_stage stage;	      /* where it is */
	unsigned int alloc_flags;     /* of the current walk */
	int pos;		      /* next zone of the walk */
	int ntried;		      /* zones of the current walk so far */
	struct coord_fanout f;	      /* slow-path steps on the nodes */
	struct tried_zone tried[];    /* [walk_max()]: why they refused */
};

/* The longest walk on @co's machine: every zone of every node. */
static size_t walk_max(const struct coord *co)
{
	return (size_t)co->m->nr_nodes * MAX_NR_ZONES;
}

static void walk_next(struct alloc_op *op);

static void record(struct alloc_op *op, const struct coord_zoneref *z, const char *why,
		   const Numasim__ZoneTried *t)
{
	struct tried_zone *tz = &op->tried[op->ntried++];

	tz->nid = z->nid;
	tz->zone_idx = z->zone_idx;
	snprintf(tz->why, sizeof(tz->why), "%s", why);
	tz->free = t ? t->free : 0;
	tz->mark = t ? t->mark : 0;
	tz->reserve = t ? t->reserve : 0;
}

static void slow_step_done(struct coord_fanout *f);

/* An allocation for @call (its plan still to be made), from the cache if it has one. */
static struct alloc_op *op_new(struct coord_call *call)
{
	struct coord *co = call->co;
	struct alloc_op *op;

	if (!co->op_pool.size)
		nsim_pool_init(&co->op_pool, sizeof(*op) + walk_max(co) * sizeof(op->tried[0]),
			       COORD_POOL_MAX);
	op = nsim_pool_get(&co->op_pool);
	op->call = call;
	op->co = co;
	op->ntried = 0;
	coord_fanout_init(&op->f, co, slow_step_done, op);
	return op;
}

static void op_free(struct alloc_op *op)
{
	struct coord *co = op->co;

	coord_fanout_release(&op->f);
	nsim_pool_put(&co->op_pool, op);
}

/* ------------------------------------------------------------------ answers */

static void reply_enomem(struct alloc_op *op)
{
	Numasim__Response resp = NUMASIM__RESPONSE__INIT;
	Numasim__AllocPagesReply reply = NUMASIM__ALLOC_PAGES_REPLY__INIT;
	Numasim__ZoneTried *tried = xcalloc((size_t)op->ntried + 1, sizeof(*tried));
	Numasim__ZoneTried **ptrs = xcalloc((size_t)op->ntried + 1, sizeof(*ptrs));
	const char **whys = xcalloc((size_t)op->ntried + 1, sizeof(*whys));
	char msg[COORD_MSGLEN];

	for (int i = 0; i < op->ntried; i++) {
		const struct tried_zone *tz = &op->tried[i];

		numasim__zone_tried__init(&tried[i]);
		tried[i].node = tz->nid;
		tried[i].zone = (char *)zone_names[tz->zone_idx];
		tried[i].why = (char *)tz->why;
		tried[i].free = tz->free;
		tried[i].mark = tz->mark;
		tried[i].reserve = tz->reserve;
		ptrs[i] = &tried[i];
		whys[i] = tz->why;
	}
	coord_enomem_message(msg, sizeof(msg), op->args.order, op->args.gfp, whys, op->ntried);
	reply.n_tried = (size_t)op->ntried;
	reply.tried = ptrs;
	resp.status = NUMASIM__STATUS__STATUS_ENOMEM;
	resp.message = msg;
	resp.body_case = NUMASIM__RESPONSE__BODY_ALLOC_PAGES;
	resp.alloc_pages = &reply;
	coord_call_reply(op->call, &resp);
	free(whys);
	free(ptrs);
	free(tried);
	op_free(op);
}

/* A ZoneOp request of @kind on @zone for this allocation (@zop: its body, caller's). */
static void zone_op_init(const struct alloc_op *op, Numasim__Request *req, Numasim__ZoneOp *zop,
			 Numasim__ZoneOp__Kind kind, int zone)
{
	numasim__zone_op__init(zop);
	coord_request_init(req);
	req->body_case = NUMASIM__REQUEST__BODY_ZONE_OP;
	req->zone_op = zop;
	zop->kind = kind;
	zop->zone = zone;
	zop->order = op->args.order;
	zop->highest_zoneidx = op->plan.hz;
	zop->migratetype = op->plan.migratetype;
}

/* zone_statistics() on the preferred node and interleave hits: counters on the nodes. */
static void count_numa_events(struct alloc_op *op, const struct coord_zoneref *z)
{
	Numasim__Request req;
	Numasim__ZoneOp zop;

	if (z->nid != op->plan.preferred_nid) {
		zone_op_init(op, &req, &zop, NUMASIM__ZONE_OP__KIND__COUNT_FOREIGN,
			     op->plan.preferred_zone);
		coord_node_post(op->co, op->plan.preferred_nid, &req);
	}
	if (z->nid == op->plan.interleave_nid) {
		zone_op_init(op, &req, &zop, NUMASIM__ZONE_OP__KIND__COUNT_INTERLEAVE_HIT,
			     z->zone_idx);
		coord_node_post(op->co, z->nid, &req);
	}
}

static void succeed(struct alloc_op *op, const struct coord_zoneref *z, uint64_t pfn)
{
	Numasim__Response resp = NUMASIM__RESPONSE__INIT;
	Numasim__AllocPagesReply reply = NUMASIM__ALLOC_PAGES_REPLY__INIT;
	struct coord_owner_rec rec = {op->call->owner, z->nid, op->args.order};

	coord_owner_set(&op->co->owners, OWNED_PAGES, pfn, &rec);
	count_numa_events(op, z);
	reply.pfn = pfn;
	reply.node = z->nid;
	reply.zone = (char *)zone_names[z->zone_idx];
	resp.body_case = NUMASIM__RESPONSE__BODY_ALLOC_PAGES;
	resp.alloc_pages = &reply;
	coord_call_reply(op->call, &resp);
	op_free(op);
}

/* A node's answer to ZoneAlloc: OK with the pfn, ENOMEM with one ZoneTried, or an error. */
static void zone_answer(void *arg, Numasim__Response *resp)
{
	struct alloc_op *op = arg;
	const struct coord_zoneref *z = &op->plan.z[op->pos - 1];
	const Numasim__AllocPagesReply *r = resp ? resp->alloc_pages : NULL;
	bool has_body = resp && resp->body_case == NUMASIM__RESPONSE__BODY_ALLOC_PAGES;

	if (!resp) {
		record(op, z, COORD_WHY_NODE_DOWN, NULL);
		walk_next(op);
	} else if (resp->status == NUMASIM__STATUS__STATUS_OK && has_body) {
		succeed(op, z, r->pfn);
	} else if (resp->status == NUMASIM__STATUS__STATUS_OK) {
		coord_call_fail(op->call, NUMASIM__STATUS__STATUS_PROTOCOL_ERROR,
				"node %d answered zone_alloc without a pfn", z->nid);
		op_free(op);
	} else if (resp->status == NUMASIM__STATUS__STATUS_ENOMEM) {
		const Numasim__ZoneTried *t = has_body && r->n_tried ? r->tried[0] : NULL;

		record(op, z, t && t->why && *t->why ? t->why : "watermark", t);
		walk_next(op);
	} else {
		coord_forward_reply(op->call, resp); /* the node refused the request itself */
		op_free(op);
	}
}

/* ------------------------------------------------------------------ the walk */

static int ask_zone(struct alloc_op *op, const struct coord_zoneref *z)
{
	Numasim__Request req;
	Numasim__ZoneAlloc za = NUMASIM__ZONE_ALLOC__INIT;

	coord_request_init(&req);
	req.body_case = NUMASIM__REQUEST__BODY_ZONE_ALLOC;
	req.zone_alloc = &za;
	za.zone = z->zone_idx;
	za.order = op->args.order;
	za.gfp = op->args.gfp;
	za.alloc_flags = op->alloc_flags;
	za.highest_zoneidx = op->plan.hz;
	za.cpu = op->args.cpu;
	za.preferred_node = op->plan.preferred_nid;
	za.owner = op->call->owner;
	return coord_node_call(op->co, z->nid, &req, zone_answer, op);
}

static void walk_start(struct alloc_op *op, enum alloc_stage stage, unsigned int flags)
{
	op->stage = stage;
	op->alloc_flags = flags;
	op->pos = 0;
	op->ntried = 0;
	walk_next(op);
}

static void slow_path(struct alloc_op *op);

static void walk_next(struct alloc_op *op)
{
	while (op->pos < op->plan.nr) {
		const struct coord_zoneref *z = &op->plan.z[op->pos++];

		if (!z->allowed)
			record(op, z, COORD_WHY_POLICY, NULL);
		else if (!ask_zone(op, z))
			return; /* zone_answer() goes on */
		else
			record(op, z, COORD_WHY_NODE_DOWN, NULL);
	}
	slow_path(op);
}

/* ------------------------------------------------------------------ the slow path */

static void zone_op(struct alloc_op *op, int nid, int zone, Numasim__ZoneOp__Kind kind)
{
	Numasim__Request req;
	Numasim__ZoneOp zop;

	zone_op_init(op, &req, &zop, kind, zone);
	coord_fanout_add(&op->f, nid, &req);
}

/* wake_all_kswapds(): once per node, with the node's first zone of the walk. */
static void wake_kswapds(struct alloc_op *op)
{
	uint64_t seen = 0;

	for (int i = 0; i < op->plan.nr; i++) {
		const struct coord_zoneref *z = &op->plan.z[i];

		if (!z->allowed || (seen >> z->nid) & 1)
			continue;
		seen |= 1ull << z->nid;
		zone_op(op, z->nid, z->zone_idx, NUMASIM__ZONE_OP__KIND__WAKE_KSWAPD);
	}
}

/* unreserve_highatomic_pageblock() on each zone of the walk, then drain_all_pages(). */
static void unreserve_and_drain(struct alloc_op *op)
{
	for (int i = 0; i < op->plan.nr; i++) {
		const struct coord_zoneref *z = &op->plan.z[i];

		if (z->allowed)
			zone_op(op, z->nid, z->zone_idx,
				NUMASIM__ZONE_OP__KIND__UNRESERVE_HIGHATOMIC);
	}
	for (int nid = 0; nid < op->co->m->nr_nodes; nid++)
		if (coord_node_is_up(op->co, nid))
			zone_op(op, nid, ZONE_DMA, NUMASIM__ZONE_OP__KIND__DRAIN); /* zone unused */
}

static void slow_step_done(struct coord_fanout *f)
{
	struct alloc_op *op = f->arg;

	coord_fanout_release(f);
	walk_start(op, op->stage == STAGE_FAST ? STAGE_MIN : STAGE_RETRY, op->plan.slow_flags);
}

static void slow_path(struct alloc_op *op)
{
	gfp_t gfp = op->args.gfp;

	if (op->plan.preferred_nid < 0 || op->stage == STAGE_RETRY ||
	    (op->stage == STAGE_MIN && !gfpflags_allow_blocking(gfp))) {
		reply_enomem(op);
		return;
	}
	coord_fanout_init(&op->f, op->co, slow_step_done, op);
	if (op->stage == STAGE_FAST && (gfp & __GFP_KSWAPD_RECLAIM))
		wake_kswapds(op);
	else if (op->stage == STAGE_MIN)
		unreserve_and_drain(op);
	coord_fanout_arm(&op->f);
}

/* ------------------------------------------------------------------ commands */

void coord_cmd_alloc_pages(struct coord_call *call, const Numasim__Request *req)
{
	const Numasim__AllocPages *ap = req->alloc_pages;
	struct coord_peer *peer = coord_call_peer(call);
	int il_scratch = MAX_NUMNODES - 1;
	int *il_prev = peer ? coord_identity_il_prev(&call->co->owners, peer->owner) : NULL;
	struct alloc_op *op = op_new(call);
	char err[COORD_MSGLEN];

	op->args = (struct coord_alloc_args){
		.gfp = ap->gfp,
		.order = ap->order,
		.cpu = ap->cpu,
		.policy = (int)ap->policy,
		.preferred = ap->preferred,
		.nodemask = ap->nodemask,
	};
	if (coord_alloc_plan(&op->plan, call->co->m, &op->args, il_prev ? il_prev : &il_scratch,
			     err, sizeof(err))) {
		coord_call_fail(call, NUMASIM__STATUS__STATUS_EINVAL, "%s", err);
		op_free(op);
		return;
	}
	walk_start(op, STAGE_FAST, op->plan.fast_flags);
}

struct free_op {
	struct coord_call *call; /* the client's request */
	uint64_t pfn;		 /* the block */
};

static void free_answer(void *arg, Numasim__Response *resp)
{
	struct free_op *op = arg;
	struct coord *co = op->call->co; /* the call is gone once answered */

	if (!resp) {
		coord_call_fail(op->call, NUMASIM__STATUS__STATUS_ENODEV,
				"the node holding pfn %llu went down", (unsigned long long)op->pfn);
	} else {
		if (resp->status == NUMASIM__STATUS__STATUS_OK)
			coord_owner_del(&op->call->co->owners, OWNED_PAGES, op->pfn);
		coord_forward_reply(op->call, resp);
	}
	nsim_pool_put(&co->small_pool, op);
}

void coord_cmd_free_pages(struct coord_call *call, const Numasim__Request *req)
{
	struct coord *co = call->co;
	Numasim__FreePages *fp = req->free_pages;
	int nid = coord_pfn_node(co->m, fp->pfn);
	char err[COORD_MSGLEN];
	Numasim__Request out;
	struct free_op *op;

	if (fp->order >= MAX_ORDER || fp->cpu < 0 || fp->cpu >= co->m->ncpus) {
		coord_call_fail(call, NUMASIM__STATUS__STATUS_EINVAL,
				"order must be below %d and cpu among 0-%d", MAX_ORDER,
				co->m->ncpus - 1);
		return;
	}
	if (nid < 0) {
		coord_call_fail(call, NUMASIM__STATUS__STATUS_BAD_PAGE_STATE,
				"pfn %llu is outside every node", (unsigned long long)fp->pfn);
		return;
	}
	if (coord_owner_check(&co->owners, OWNED_PAGES, fp->pfn, call->owner, call->admin, err,
			      sizeof(err))) {
		coord_call_fail(call, NUMASIM__STATUS__STATUS_EPERM, "%s", err);
		return;
	}
	_Static_assert(sizeof(*op) <= COORD_SMALL, "a free fits a small record");
	op = nsim_pool_get(&co->small_pool);
	op->call = call;
	op->pfn = fp->pfn;
	coord_request_init(&out);
	out.body_case = NUMASIM__REQUEST__BODY_FREE_PAGES;
	out.free_pages = fp;
	if (coord_node_call(co, nid, &out, free_answer, op)) {
		coord_call_fail(call, NUMASIM__STATUS__STATUS_ENODEV, "node %d is down", nid);
		nsim_pool_put(&co->small_pool, op);
	}
}
