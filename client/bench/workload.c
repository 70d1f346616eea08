// SPDX-License-Identifier: MIT
/*
 * workload.c - what one connection asks next.
 *
 * A connection owns the objects it allocated. Each answer to an allocation puts the object
 * somewhere according to the lifetime:
 *   --free now       straight into to_free
 *   --free after:N   into held, due when the connection has handed out N more ops
 *   --hold BYTES     into held; while held_bytes exceeds the connection's share, the oldest
 *                    moves to to_free
 * and bench_wl_next() always sends a due free before a new allocation, so frees never wait
 * behind the pipeline's allocations.
 *
 * The fragment pattern (--preset fragment) replaces the mix with phases:
 *   FILL       order-0 allocations with the run's gfp mask, held, until one answers ENOMEM
 *              (the zone is down to its watermark) or the connection holds its --hold share
 *   FILL_WAIT  wait for the fill's last answers
 *   SPLIT      free every held page whose pfn is even: the freed pages' buddies (odd pfns)
 *              stay allocated, so nothing merges and the zone's free memory is order-0 only
 *   PROBE      allocations by the --orders distribution; those that succeed are held (they
 *              use up the few larger blocks the fill left below the watermark), so soon
 *              every one above order 0 fails (ENOMEM) for fragmentation, not lack of memory
 *
 * Teardown (the run's end): everything held moves to to_free; no more allocations.
 * Invariant: held_bytes == sum of held[].bytes; inflight == ops handed out - ops done.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "nsim.h"

/* ------------------------------------------------------------------ the workload */

int bench_workload_finish(struct bench_workload *wl)
{
	bench_dist_release(&wl->kinds);
	bench_dist_release(&wl->cache_pick);
	for (int k = 0; k < NR_BENCH_KINDS; k++)
		if (wl->mix[k])
			bench_dist_add(&wl->kinds, (uint64_t)k, (uint64_t)k, wl->mix[k]);
	for (int i = 0; i < wl->nr_caches; i++)
		bench_dist_add(&wl->cache_pick, (uint64_t)i, (uint64_t)i, wl->caches[i].weight);
	if (!wl->fragment && !wl->kinds.total)
		return -EINVAL;
	if (wl->mix[BENCH_PAGES] && !wl->orders.total)
		return -EINVAL;
	if (wl->mix[BENCH_KMALLOC] && !wl->sizes.total)
		return -EINVAL;
	if (wl->mix[BENCH_SLAB] && !wl->cache_pick.total)
		return -EINVAL;
	if (wl->fragment && !wl->orders.total)
		return -EINVAL;
	return 0;
}

void bench_workload_share_fill(struct bench_workload *wl, unsigned int nconns)
{
	wl->fill = xcalloc(1, sizeof(*wl->fill));
	atomic_init(&wl->fill->stop, false);
	atomic_init(&wl->fill->filling, nconns);
}

void bench_workload_release(struct bench_workload *wl)
{
	free(wl->fill);
	wl->fill = NULL;
	bench_dist_release(&wl->kinds);
	bench_dist_release(&wl->orders);
	bench_dist_release(&wl->sizes);
	bench_dist_release(&wl->cache_pick);
}

/* ------------------------------------------------------------------ object queues */

static void objq_push(struct bench_objq *q, const struct bench_obj *o)
{
	if (q->len == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 64;
		struct bench_obj *v = xmalloc(cap * sizeof(*v));

		for (size_t i = 0; i < q->len; i++)
			v[i] = q->v[(q->head + i) & (q->cap - 1)];
		free(q->v);
		q->v = v;
		q->head = 0;
		q->cap = cap;
	}
	q->v[(q->head + q->len) & (q->cap - 1)] = *o;
	q->len++;
}

static const struct bench_obj *objq_peek(const struct bench_objq *q)
{
	return q->len ? &q->v[q->head] : NULL;
}

static struct bench_obj objq_pop(struct bench_objq *q)
{
	struct bench_obj o = q->v[q->head];

	q->head = (q->head + 1) & (q->cap - 1);
	q->len--;
	return o;
}

static void objq_release(struct bench_objq *q)
{
	free(q->v);
	memset(q, 0, sizeof(*q));
}

/* ------------------------------------------------------------------ connection state */

void bench_wl_init(struct bench_wl *w, const struct bench_workload *cfg, int conn, int cpu,
		   uint64_t seed)
{
	memset(w, 0, sizeof(*w));
	w->cfg = cfg;
	w->conn = conn;
	w->cpu = cpu;
	bench_rng_seed(&w->rng, seed);
	w->phase = cfg->fragment ? BENCH_PHASE_FILL : BENCH_PHASE_RUN;
}

void bench_wl_release(struct bench_wl *w)
{
	objq_release(&w->held);
	objq_release(&w->to_free);
}

/* Move the oldest held object to to_free. */
static void release_oldest(struct bench_wl *w)
{
	struct bench_obj o = objq_pop(&w->held);

	w->held_bytes -= o.bytes;
	objq_push(&w->to_free, &o);
}

/* Objects whose time has come: after:N due, or over the --hold share. */
static void expire(struct bench_wl *w)
{
	const struct bench_obj *o;

	if (w->phase != BENCH_PHASE_RUN)
		return;
	if (w->cfg->life == BENCH_FREE_AFTER)
		while ((o = objq_peek(&w->held)) && o->due <= w->issued)
			release_oldest(w);
	if (w->cfg->life == BENCH_HOLD)
		while (w->held.len && w->held_bytes > w->cfg->hold_bytes)
			release_oldest(w);
}

static void op_init(struct bench_wl *w, struct bench_op *op, enum bench_opcode code)
{
	memset(op, 0, sizeof(*op));
	op->conn = w->conn;
	op->code = code;
	op->cpu = w->cpu;
	op->node = -1;
	op->status = -1;
	op->cache_idx = -1;
}

/* The node asked of kmalloc and cache_alloc: the preferred node, else any. */
static int object_node(const struct bench_workload *cfg)
{
	return cfg->policy.mode == NUMASIM__POLICY__POLICY_PREFERRED ? cfg->policy.preferred : -1;
}

static void make_free(struct bench_wl *w, struct bench_op *op)
{
	struct bench_obj o = objq_pop(&w->to_free);
	static const enum bench_opcode codes[NR_BENCH_KINDS] = {
		[BENCH_PAGES] = BENCH_OP_FREE_PAGES,
		[BENCH_KMALLOC] = BENCH_OP_KFREE,
		[BENCH_SLAB] = BENCH_OP_CACHE_FREE,
	};

	op_init(w, op, codes[o.kind]);
	op->handle = o.handle;
	op->order = o.order;
	if (o.kind == BENCH_SLAB) {
		op->cache_idx = o.cache;
		snprintf(op->cache, sizeof(op->cache), "%s", w->cfg->caches[o.cache].name);
	}
}

static void make_alloc(struct bench_wl *w, struct bench_op *op, enum bench_kind kind,
		       unsigned int order)
{
	const struct bench_workload *cfg = w->cfg;
	static const enum bench_opcode codes[NR_BENCH_KINDS] = {
		[BENCH_PAGES] = BENCH_OP_ALLOC_PAGES,
		[BENCH_KMALLOC] = BENCH_OP_KMALLOC,
		[BENCH_SLAB] = BENCH_OP_CACHE_ALLOC,
	};
	int c;

	op_init(w, op, codes[kind]);
	op->gfp = cfg->gfp;
	switch (kind) {
	case BENCH_PAGES:
		op->order = order;
		op->policy = cfg->policy;
		break;
	case BENCH_KMALLOC:
		op->size = bench_dist_sample(&cfg->sizes, &w->rng);
		op->node = object_node(cfg);
		break;
	default:
		c = (int)bench_dist_sample(&cfg->cache_pick, &w->rng);
		op->cache_idx = c;
		snprintf(op->cache, sizeof(op->cache), "%s", cfg->caches[c].name);
		op->node = object_node(cfg);
	}
}

/* The mix: a kind by weight, then its order, size or cache. */
static void make_mixed(struct bench_wl *w, struct bench_op *op)
{
	enum bench_kind kind = (enum bench_kind)bench_dist_sample(&w->cfg->kinds, &w->rng);
	unsigned int order = 0;

	if (kind == BENCH_PAGES)
		order = (unsigned int)bench_dist_sample(&w->cfg->orders, &w->rng);
	make_alloc(w, op, kind, order);
}

/* FILL_WAIT -> SPLIT: the even pfns go to to_free, the odd ones stay held. */
static void split(struct bench_wl *w)
{
	size_t n = w->held.len;

	for (size_t i = 0; i < n; i++) {
		struct bench_obj o = objq_pop(&w->held);

		if (o.handle & 1) {
			objq_push(&w->held, &o);
			continue;
		}
		w->held_bytes -= o.bytes;
		objq_push(&w->to_free, &o);
	}
	w->phase = BENCH_PHASE_SPLIT;
}

/* The fragment phases; false when the connection must wait. */
static bool next_fragment(struct bench_wl *w, struct bench_op *op)
{
	struct bench_fill_sync *fill = w->cfg->fill;

	switch (w->phase) {
	case BENCH_PHASE_FILL:
		if (fill && w->fill_stop)
			atomic_store(&fill->stop, true);
		if (!w->fill_stop && !(fill && atomic_load(&fill->stop))) {
			make_alloc(w, op, BENCH_PAGES, 0);
			return true;
		}
		w->phase = BENCH_PHASE_FILL_WAIT;
		/* fall through */
	case BENCH_PHASE_FILL_WAIT:
		if (w->inflight)
			return false;
		if (fill && !w->fill_counted) {
			w->fill_counted = true;
			atomic_fetch_sub(&fill->filling, 1);
		}
		if (fill && atomic_load(&fill->filling))
			return false; /* polled again within IDLE_WAIT_MS */
		split(w);
		/* fall through */
	case BENCH_PHASE_SPLIT:
		if (w->to_free.len) {
			make_free(w, op);
			return true;
		}
		if (w->inflight)
			return false;
		w->phase = BENCH_PHASE_PROBE;
		/* fall through */
	default:
		make_alloc(w, op, BENCH_PAGES,
			   (unsigned int)bench_dist_sample(&w->cfg->orders, &w->rng));
		return true;
	}
}

bool bench_wl_next(struct bench_wl *w, bool teardown, struct bench_op *op)
{
	bool ok = true;

	if (teardown && !w->teardown) {
		w->teardown = true;
		while (w->held.len)
			release_oldest(w);
	}
	expire(w);
	if (w->to_free.len)
		make_free(w, op);
	else if (w->teardown)
		ok = false;
	else if (w->cfg->fragment)
		ok = next_fragment(w, op);
	else
		make_mixed(w, op);
	if (ok) {
		w->issued++;
		w->inflight++;
	}
	return ok;
}

/* Where a new object goes, by phase and lifetime. */
static void place(struct bench_wl *w, struct bench_obj *o)
{
	const struct bench_workload *cfg = w->cfg;

	if (w->teardown || (w->phase == BENCH_PHASE_RUN && cfg->life == BENCH_FREE_NOW)) {
		objq_push(&w->to_free, o);
		return;
	}
	o->due = w->issued + cfg->after;
	objq_push(&w->held, o);
	w->held_bytes += o->bytes;
	if (w->phase == BENCH_PHASE_FILL && cfg->hold_bytes && w->held_bytes >= cfg->hold_bytes)
		w->fill_stop = true;
}

void bench_wl_done(struct bench_wl *w, const struct bench_op *op)
{
	struct bench_obj o = {0};

	w->inflight--;
	if (!bench_op_allocates(op->code))
		return; /* a free: answered OK or not, the object is gone from our books */
	if (op->status != NUMASIM__STATUS__STATUS_OK) {
		if (w->phase == BENCH_PHASE_FILL && op->status == NUMASIM__STATUS__STATUS_ENOMEM)
			w->fill_stop = true;
		return;
	}
	o.handle = op->result;
	o.order = (uint8_t)op->order;
	if (op->code == BENCH_OP_ALLOC_PAGES) {
		o.kind = BENCH_PAGES;
		o.bytes = (uint64_t)BENCH_PAGE_SIZE << op->order;
	} else if (op->code == BENCH_OP_KMALLOC) {
		o.kind = BENCH_KMALLOC;
		o.bytes = op->result_size ? op->result_size : op->size;
	} else {
		o.kind = BENCH_SLAB;
		o.cache = (uint16_t)op->cache_idx;
		o.bytes = op->result_size ? op->result_size : w->cfg->caches[op->cache_idx].size;
	}
	place(w, &o);
}

bool bench_wl_idle(const struct bench_wl *w)
{
	return w->teardown && !w->held.len && !w->to_free.len && !w->inflight;
}
