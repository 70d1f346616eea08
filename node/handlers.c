// SPDX-License-Identifier: MIT
/*
 * handlers.c - the op table of the node daemon and the handlers of the page allocator, the
 * slow-path steps, the views, the sysctls and the node's statistics (the slab requests are
 * in handlers_slab.c).
 *
 * A handler runs on a worker (on the loop for NODE_OP_LOOP) with the dispatcher's checks
 * already made: the peer may ask, the version matched, the CPU exists, the machine is
 * booted and has a slab layer if the op needs one. It validates its own arguments (they
 * come from the network: never asserted), calls node/mm once, and fills job->reply; the
 * request stays the dispatcher's and no pointer into it outlives the handler.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"
#include "nsim.h"
#include "views.h"

/* ------------------------------------------------------------------ replies */

void node_reply_set(struct node_job *job, Numasim__Status status, const char *fmt, ...)
{
	struct node_reply *r = &job->reply;
	va_list ap;

	r->resp.status = status;
	r->resp.message = NULL;
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
		va_end(ap);
		r->resp.message = r->msg;
	}
}

void node_reply_count(struct node_job *job, uint64_t count, const char *message)
{
	struct node_reply *r = &job->reply;

	numasim__count_reply__init(&r->count);
	r->count.count = count;
	if (message && *message) {
		snprintf(r->value, sizeof(r->value), "%s", message);
		r->count.message = r->value;
	}
	r->resp.body_case = NUMASIM__RESPONSE__BODY_COUNT;
	r->resp.count = &r->count;
}

Numasim__Status node_status_of_errno(int err)
{
	switch (err) {
	case 0:
		return NUMASIM__STATUS__STATUS_OK;
	case -ENOMEM:
		return NUMASIM__STATUS__STATUS_ENOMEM;
	case -EPERM:
		return NUMASIM__STATUS__STATUS_EPERM;
	case -ENOENT:
		return NUMASIM__STATUS__STATUS_ENOENT;
	case -EBUSY:
		return NUMASIM__STATUS__STATUS_EBUSY;
	case -EEXIST:
		return NUMASIM__STATUS__STATUS_EEXIST;
	case -ENODEV:
		return NUMASIM__STATUS__STATUS_ENODEV;
	case -EAGAIN:
		return NUMASIM__STATUS__STATUS_EAGAIN;
	}
	return NUMASIM__STATUS__STATUS_EINVAL;
}

/* ------------------------------------------------------------------ argument checks */

/* The zone @idx of this node, or NULL with the answer set to EINVAL. */
static struct zone *job_zone(struct node_job *job, int idx)
{
	if (idx < 0 || idx >= MAX_NR_ZONES) {
		node_reply_set(job, NUMASIM__STATUS__STATUS_EINVAL, "zone %d does not exist (0-%d)",
			       idx, MAX_NR_ZONES - 1);
		return NULL;
	}
	return &job->m->node_data[job->nid]->node_zones[idx];
}

static bool check_order(struct node_job *job, unsigned int order)
{
	if (order < MAX_ORDER)
		return true;
	node_reply_set(job, NUMASIM__STATUS__STATUS_EINVAL, "order %u is above the largest, %d",
		       order, MAX_ORDER - 1);
	return false;
}

static bool check_zoneidx(struct node_job *job, int hz)
{
	if (hz >= 0 && hz < MAX_NR_ZONES)
		return true;
	node_reply_set(job, NUMASIM__STATUS__STATUS_EINVAL, "highest_zoneidx %d is not a zone", hz);
	return false;
}

/* The node a request names: -1 (this one) or this one; else ENOENT is answered. */
static bool check_own_node(struct node_job *job, int nid)
{
	if (nid == -1 || nid == job->nid)
		return true;
	node_reply_set(job, NUMASIM__STATUS__STATUS_ENOENT, "node %d is not held here (node %d)",
		       nid, job->nid);
	return false;
}

/* ------------------------------------------------------------------ loop ops */

static void handle_ping(struct node_job *job)
{
	struct node_daemon *d = job->peer->d;
	struct node_reply *r = &job->reply;

	numasim__pong__init(&r->pong);
	r->pong.uptime_ms = node_uptime_ms(d);
	r->pong.nodes_up = d->m ? 1 : 0;
	r->resp.body_case = NUMASIM__RESPONSE__BODY_PONG;
	r->resp.pong = &r->pong;
}

static void handle_hello(struct node_job *job)
{
	struct node_daemon *d = job->peer->d;
	struct node_reply *r = &job->reply;

	numasim__hello_reply__init(&r->hello);
	r->hello.version = NSIM_PROTOCOL_VERSION;
	r->hello.server = (char *)NODE_VERSION;
	r->hello.nodes = (uint32_t)d->nr_nodes;
	r->hello.cpus = (uint32_t)d->ncpus;
	r->resp.body_case = NUMASIM__RESPONSE__BODY_HELLO;
	r->resp.hello = &r->hello;
}

/* ------------------------------------------------------------------ page allocator */

static const char *const refusal_why[] = {
	[REFUSE_NONE] = "",
	[REFUSE_WATERMARK] = "watermark",
	[REFUSE_LOWMEM_RESERVE] = "lowmem_reserve",
	[REFUSE_FRAGMENTED] = "fragmented",
	[REFUSE_EMPTY] = "empty",
	[REFUSE_POLICY] = "policy",
	[REFUSE_NODE_DOWN] = "node down",
};

/*
 * The body of a ZoneAlloc answer: the pfn, or the zone tried. The coordinator knows which
 * node and zone it asked, so they are not repeated (a string less to encode and decode per
 * allocation).
 */
static Numasim__AllocPagesReply *reply_alloc(struct node_job *job)
{
	struct node_reply *r = &job->reply;

	numasim__alloc_pages_reply__init(&r->alloc);
	r->resp.body_case = NUMASIM__RESPONSE__BODY_ALLOC_PAGES;
	r->resp.alloc_pages = &r->alloc;
	return &r->alloc;
}

/* ENOMEM with the one zone tried and why it said no. */
static void reply_refused(struct node_job *job, const struct zone *zone, unsigned int order,
			  const struct zone_refusal_info *info)
{
	struct node_reply *r = &job->reply;
	const char *why = (unsigned int)info->why < sizeof(refusal_why) / sizeof(refusal_why[0])
				  ? refusal_why[info->why]
				  : "empty";

	numasim__zone_tried__init(&r->tried);
	r->tried.node = job->nid;
	r->tried.zone = (char *)zone->name;
	r->tried.why = (char *)why;
	r->tried.free = info->free;
	r->tried.mark = info->mark;
	r->tried.reserve = info->reserve;
	r->tried_v[0] = &r->tried;
	r->alloc.n_tried = 1;
	r->alloc.tried = r->tried_v;
	node_reply_set(job, NUMASIM__STATUS__STATUS_ENOMEM,
		       "zone %s of node %d refused order %u: %s (free %ld, mark %ld, reserve %ld)",
		       zone->name, job->nid, order, why, info->free, info->mark, info->reserve);
}

static void handle_zone_alloc(struct node_job *job)
{
	const Numasim__ZoneAlloc *a = job->req->zone_alloc;
	struct zone *zone = job_zone(job, a->zone);
	struct zone_refusal_info info = {0};
	struct zone_request rq;
	unsigned long pfn;

	if (!zone || !check_order(job, a->order) || !check_zoneidx(job, a->highest_zoneidx))
		return;
	if (a->preferred_node < 0 || a->preferred_node >= job->m->nr_nodes) {
		node_reply_set(job, NUMASIM__STATUS__STATUS_EINVAL,
			       "preferred_node %d does not exist", a->preferred_node);
		return;
	}
	rq = (struct zone_request){
		.order = a->order,
		.gfp = a->gfp,
		.alloc_flags = a->alloc_flags,
		.highest_zoneidx = a->highest_zoneidx,
		.migratetype = gfp_migratetype(a->gfp),
		.cpu = a->cpu,
		.preferred_nid = a->preferred_node,
		.owner = a->owner,
	};
	reply_alloc(job);
	if (zone_try_alloc(zone, &pfn, &rq, &info)) {
		/* this node is up: "node down" can only mean a zone with no managed pages */
		if (info.why == REFUSE_NODE_DOWN)
			info.why = REFUSE_EMPTY;
		reply_refused(job, zone, a->order, &info);
	} else
		job->reply.alloc.pfn = pfn;
}

/* The answer went nowhere: give the block back (the coordinator never recorded it). */
static void undo_zone_alloc(struct node_job *job)
{
	const Numasim__ZoneAlloc *a = job->req->zone_alloc;

	free_pages(job->m, (unsigned long)job->reply.alloc.pfn, a->order, a->cpu, OWNER_ANY);
}

static const char *bad_page_reason(int err)
{
	switch (err) {
	case EBADPAGE_NOTPRESENT:
		return "is not RAM of this node";
	case EBADPAGE_NOTALLOC:
		return "is not allocated (double free?)";
	case EBADPAGE_ORDER:
		return "was allocated with another order";
	case EBADPAGE_SLAB:
		return "belongs to the slab layer (free it with kfree)";
	}
	return "is in a bad state";
}

static void handle_free_pages(struct node_job *job)
{
	const Numasim__FreePages *f = job->req->free_pages;
	int ret;

	if (!check_order(job, f->order))
		return;
	ret = free_pages(job->m, (unsigned long)f->pfn, f->order, f->cpu, OWNER_ANY);
	if (ret == -EINVAL)
		node_reply_set(job, NUMASIM__STATUS__STATUS_EINVAL, "cannot free pfn %llu order %u",
			       (unsigned long long)f->pfn, f->order);
	else if (ret == EBADPAGE_OWNER)
		node_reply_set(job, NUMASIM__STATUS__STATUS_EPERM,
			       "pfn %llu belongs to another owner", (unsigned long long)f->pfn);
	else if (ret)
		node_reply_set(job, NUMASIM__STATUS__STATUS_BAD_PAGE_STATE, "pfn %llu order %u %s",
			       (unsigned long long)f->pfn, f->order, bad_page_reason(ret));
}

/* ------------------------------------------------------------------ slow-path steps */

static bool wake_kswapd(struct zone *zone, unsigned int order, int hz)
{
	unsigned long before = __atomic_load_n(&zone->kswapd_wakeups, __ATOMIC_RELAXED);

	wakeup_kswapd(zone, 0, order, hz);
	return __atomic_load_n(&zone->kswapd_wakeups, __ATOMIC_RELAXED) != before;
}

/* drain_all_pages(); true if this node's pcp lists held pages. */
static bool drain(struct machine *m, int nid)
{
	unsigned long pcp = 0;

	for (int z = 0; z < MAX_NR_ZONES; z++)
		pcp += zone_pcp_count(&m->node_data[nid]->node_zones[z]);
	drain_all_pages(m);
	return pcp != 0;
}

static bool zone_op_args_ok(struct node_job *job, const Numasim__ZoneOp *op)
{
	switch (op->kind) {
	case NUMASIM__ZONE_OP__KIND__WAKE_KSWAPD:
		return check_order(job, op->order) && check_zoneidx(job, op->highest_zoneidx);
	case NUMASIM__ZONE_OP__KIND__UNRESERVE_HIGHATOMIC:
	case NUMASIM__ZONE_OP__KIND__UNRESERVE_HIGHATOMIC_FORCE:
		if (op->migratetype >= 0 && op->migratetype < MIGRATE_PCPTYPES)
			return true;
		node_reply_set(job, NUMASIM__STATUS__STATUS_EINVAL,
			       "migratetype %d is not a pcp type (0-%d)", op->migratetype,
			       MIGRATE_PCPTYPES - 1);
		return false;
	case NUMASIM__ZONE_OP__KIND__DRAIN:
	case NUMASIM__ZONE_OP__KIND__COUNT_FOREIGN:
	case NUMASIM__ZONE_OP__KIND__COUNT_INTERLEAVE_HIT:
		return true;
	default:
		node_reply_set(job, NUMASIM__STATUS__STATUS_EINVAL, "unknown zone_op kind %d",
			       (int)op->kind);
		return false;
	}
}

static void handle_zone_op(struct node_job *job)
{
	const Numasim__ZoneOp *op = job->req->zone_op;
	struct zone *zone = job_zone(job, op->zone);
	bool done = true;

	if (!zone || !zone_op_args_ok(job, op))
		return;
	switch (op->kind) {
	case NUMASIM__ZONE_OP__KIND__WAKE_KSWAPD:
		done = wake_kswapd(zone, op->order, op->highest_zoneidx);
		break;
	case NUMASIM__ZONE_OP__KIND__DRAIN:
		done = drain(job->m, job->nid);
		break;
	case NUMASIM__ZONE_OP__KIND__UNRESERVE_HIGHATOMIC:
	case NUMASIM__ZONE_OP__KIND__UNRESERVE_HIGHATOMIC_FORCE:
		done = unreserve_highatomic_pageblock(
			zone, op->migratetype,
			op->kind == NUMASIM__ZONE_OP__KIND__UNRESERVE_HIGHATOMIC_FORCE);
		break;
	case NUMASIM__ZONE_OP__KIND__COUNT_FOREIGN:
		count_numa_foreign(zone);
		break;
	default: /* COUNT_INTERLEAVE_HIT (zone_op_args_ok() let nothing else through) */
		__atomic_fetch_add(&zone->buddy_numa[NUMA_INTERLEAVE_HIT], 1, __ATOMIC_RELAXED);
		break;
	}
	node_reply_count(job, done ? 1 : 0, NULL);
}

/* ------------------------------------------------------------------ restore after a restart */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/*
 * A node that kept its machine across a lost link: free every alloc_pages block here that
 * the coordinator does not record (an allocation answered on a link it had given up).
 */
static void reconcile(struct node_job *job, const Numasim__Restore *r)
{
	uint64_t *known = xcalloc(r->n_blocks + 1, sizeof(*known));
	unsigned long *pfns;
	unsigned int *orders;
	size_t n = page_blocks_collect(job->m, job->nid, &pfns, &orders);
	char first[128] = "";
	uint64_t freed = 0;

	for (size_t i = 0; i < r->n_blocks; i++)
		known[i] = r->blocks[i]->pfn;
	qsort(known, r->n_blocks, sizeof(*known), cmp_u64);
	for (size_t i = 0; i < n; i++) {
		uint64_t pfn = pfns[i];

		if (bsearch(&pfn, known, r->n_blocks, sizeof(*known), cmp_u64) ||
		    free_pages(job->m, pfns[i], orders[i], 0, OWNER_ANY))
			continue;
		if (!freed++)
			snprintf(first, sizeof(first), "first pfn %#llx order %u",
				 (unsigned long long)pfn, orders[i]);
	}
	free(pfns);
	free(orders);
	free(known);
	node_reply_count(job, freed, first[0] ? first : NULL);
}

/*
 * The coordinator gives a restarted node the blocks it had recorded for it: each is taken off
 * the free lists again, with its owner. Slab objects are not restored (their slabs are gone).
 * With reconcile (the node kept its machine) it frees what is not recorded instead.
 */
static void handle_restore(struct node_job *job)
{
	const Numasim__Restore *r = job->req->restore;
	char first[128] = "";
	uint64_t restored = 0;

	if (r->reconcile) {
		reconcile(job, r);
		return;
	}
	drain_all_pages(job->m);
	for (size_t i = 0; i < r->n_blocks; i++) {
		const Numasim__RestoreBlock *b = r->blocks[i];

		if (!claim_free_block(job->m, b->pfn, b->order, MIGRATE_MOVABLE, b->owner))
			restored++;
		else if (!first[0])
			snprintf(first, sizeof(first), "pfn %#llx order %u is not free here",
				 (unsigned long long)b->pfn, b->order);
	}
	node_reply_count(job, restored, first[0] ? first : NULL);
}

/* ------------------------------------------------------------------ node statistics */

/* The loop adds requests and errors (its counters) before sending. */
static void handle_node_stats(struct node_job *job)
{
	struct node_reply *r = &job->reply;
	pg_data_t *pgdat;

	if (!check_own_node(job, job->req->node_stats->node))
		return;
	pgdat = job->m->node_data[job->nid];
	numasim__node_stat__init(&r->stat);
	r->stat.node = job->nid;
	r->stat.up = true;
	for (int z = 0; z < MAX_NR_ZONES; z++) {
		struct zone *zone = &pgdat->node_zones[z];

		r->stat.managed += READ_ONCE(zone->managed_pages);
		r->stat.free += zone_page_state(zone, NR_FREE_PAGES);
		r->stat.pcp += zone_pcp_count(zone);
		r->stat.allocated += zone_allocated_pages(zone);
	}
	numasim__node_stats_reply__init(&r->stats);
	r->stat_v[0] = &r->stat;
	r->stats.n_nodes = 1;
	r->stats.nodes = r->stat_v;
	r->resp.body_case = NUMASIM__RESPONSE__BODY_NODE_STATS;
	r->resp.node_stats = &r->stats;
}

/* ------------------------------------------------------------------ views */

static int show_view(struct node_job *job, const Numasim__View *v, int view)
{
	struct seq_file *s = &job->reply.text;

	seq_init(s); /* released with the job, after the answer is sent */
	if (view == VIEW_SLABTOP) {
		char key = v->sort && *v->sort ? v->sort[0] : 'o';

		if (mm_slabtop_show(s, job->m, key, job->nid, v->json)) {
			node_reply_set(job, NUMASIM__STATUS__STATUS_EINVAL,
				       "unknown slabtop sort key '%s'", v->sort);
			return -EINVAL;
		}
		return 0;
	}
	if (mm_view_show(s, job->m, (enum mm_view)view, job->nid, v->json)) {
		node_reply_set(job, NUMASIM__STATUS__STATUS_EINVAL, "cannot show view '%s'",
			       v->name);
		return -EINVAL;
	}
	return 0;
}

static void handle_view(struct node_job *job)
{
	const Numasim__View *v = job->req->view;
	struct node_reply *r = &job->reply;
	int view = mm_view_lookup(v->name ? v->name : "");

	if (view < 0) {
		node_reply_set(job, NUMASIM__STATUS__STATUS_ENOENT, "no view '%s' on a node",
			       v->name ? v->name : "");
		return;
	}
	if (!check_own_node(job, v->node) || show_view(job, v, view))
		return;
	numasim__view_reply__init(&r->view);
	r->view.text = r->text.buf ? r->text.buf : (char *)"";
	r->resp.body_case = NUMASIM__RESPONSE__BODY_VIEW;
	r->resp.view = &r->view;
}

/* ------------------------------------------------------------------ sysctls */

static void reply_sysctl(struct node_job *job, const char *name)
{
	struct node_reply *r = &job->reply;

	snprintf(r->name, sizeof(r->name), "%s", name);
	numasim__sysctl_reply__init(&r->sysctl);
	r->sysctl.name = r->name;
	r->sysctl.value = r->value;
	r->resp.body_case = NUMASIM__RESPONSE__BODY_SYSCTL;
	r->resp.sysctl = &r->sysctl;
}

static void handle_sysctl_get(struct node_job *job)
{
	const char *name = job->req->sysctl_get->name ? job->req->sysctl_get->name : "";

	if (machine_sysctl_get(job->m, name, job->reply.value, sizeof(job->reply.value))) {
		node_reply_set(job, NUMASIM__STATUS__STATUS_ENOENT, "unknown sysctl '%s'", name);
		return;
	}
	reply_sysctl(job, name);
}

static void handle_sysctl_set(struct node_job *job)
{
	const Numasim__SysctlSet *set = job->req->sysctl_set;
	const char *name = set->name ? set->name : "";
	const char *value = set->value ? set->value : "";
	int ret = machine_sysctl_set(job->m, name, value);

	if (ret == -ENOENT) {
		node_reply_set(job, NUMASIM__STATUS__STATUS_ENOENT, "unknown sysctl '%s'", name);
		return;
	}
	if (ret) {
		node_reply_set(job, node_status_of_errno(ret), "%s: invalid value '%s'", name,
			       value);
		return;
	}
	/* Read back: the value as /proc/sys now prints it. */
	if (machine_sysctl_get(job->m, name, job->reply.value, sizeof(job->reply.value)))
		snprintf(job->reply.value, sizeof(job->reply.value), "%s", value);
	reply_sysctl(job, name);
}

/* ------------------------------------------------------------------ the op table */

static const struct node_op node_page_ops[] = {
	NODE_OP(PING, "ping", NODE_OP_LOOP | NODE_OP_READONLY, handle_ping, NULL),
	NODE_OP(HELLO, "hello", NODE_OP_LOOP | NODE_OP_READONLY, handle_hello, NULL),
	NODE_OP(ZONE_ALLOC, "zone_alloc", NODE_OP_CPU, handle_zone_alloc, undo_zone_alloc),
	NODE_OP(FREE_PAGES, "free_pages", NODE_OP_CPU, handle_free_pages, NULL),
	NODE_OP(ZONE_OP, "zone_op", 0, handle_zone_op, NULL),
	NODE_OP(NODE_STATS, "node_stats", NODE_OP_READONLY, handle_node_stats, NULL),
	NODE_OP(VIEW, "view", NODE_OP_READONLY, handle_view, NULL),
	NODE_OP(SYSCTL_GET, "sysctl_get", NODE_OP_READONLY, handle_sysctl_get, NULL),
	NODE_OP(SYSCTL_SET, "sysctl_set", 0, handle_sysctl_set, NULL),
	NODE_OP(RESTORE, "restore", 0, handle_restore, NULL),
	{0},
};

const struct node_op *node_op_find(Numasim__Request__BodyCase body)
{
	const struct node_op *tables[] = {node_page_ops, node_slab_ops};

	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
		for (const struct node_op *op = tables[t]; op->name; op++)
			if (op->body == body)
				return op;
	return NULL;
}

int node_request_cpu(const Numasim__Request *req)
{
	switch (req->body_case) {
	case NUMASIM__REQUEST__BODY_ZONE_ALLOC:
		return req->zone_alloc->cpu;
	case NUMASIM__REQUEST__BODY_FREE_PAGES:
		return req->free_pages->cpu;
	case NUMASIM__REQUEST__BODY_KMALLOC:
		return req->kmalloc->cpu;
	case NUMASIM__REQUEST__BODY_KFREE:
		return req->kfree->cpu;
	case NUMASIM__REQUEST__BODY_CACHE_ALLOC:
		return req->cache_alloc->cpu;
	case NUMASIM__REQUEST__BODY_CACHE_FREE:
		return req->cache_free->cpu;
	default:
		return -1;
	}
}

void node_job_run(struct node_job *job)
{
	if (job->kind == NODE_JOB_BOOT) {
		node_boot_run(job);
		return;
	}
	if (job->kind == NODE_JOB_SYSCTLS) {
		node_sysctls_run(job);
		return;
	}
	if (job->undo) {
		job->op->undo(job);
		return;
	}
	if ((job->op->flags & NODE_OP_SLAB) && !job->m->slab) {
		node_reply_set(job, NUMASIM__STATUS__STATUS_ENOENT,
			       "node %d has no slab layer (it holds no lowmem)", job->nid);
		return;
	}
	job->op->handler(job);
}
