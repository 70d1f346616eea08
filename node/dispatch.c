// SPDX-License-Identifier: MIT
/*
 * dispatch.c - requests in, answers out, on the loop thread: one place for every generic
 * check before a handler runs (frame decodes, first version matches, body is served, the
 * peer may ask it, the CPU exists, the machine is booted), then the job runs and its answer
 * is packed and sent. A job that names a CPU runs here on the loop thread, at once and in
 * arrival order (by default), or on that CPU's worker (--cpu-threads); one that names no
 * CPU (views, sysctls, zone ops) goes to the control worker so a long view never holds up
 * the loop. Worker jobs come back through the results queue.
 *
 * Peers are reference counted on the loop thread: 1 while the connection is open, +1 per
 * job in flight, so an answer finishing after its connection closed finds the peer and is
 * dropped. Bad input is counted (node_counters) and logged once, here, where the decision
 * is made; the peer gets a status and, for a frame that cannot be trusted, is closed.
 *
 * Invariant: d->stats.requests == jobs created for decoded Requests.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"
#include "nsim.h"

/* ------------------------------------------------------------------ peers */

static void on_frame(struct nsim_conn *c, const uint8_t *payload, size_t len);
static void on_oversize(struct nsim_conn *c, size_t announced);
static void on_read_done(struct nsim_conn *c);
static void on_close(struct nsim_conn *c);

const struct nsim_conn_ops node_conn_ops = {
	.on_frame = on_frame,
	.on_oversize = on_oversize,
	.on_read_done = on_read_done,
	.on_close = on_close,
};

struct node_peer *node_peer_new(struct node_daemon *d, struct nsim_conn *c, bool coordinator)
{
	struct node_peer *p = xcalloc(1, sizeof(*p));

	p->d = d;
	p->conn = c;
	p->coordinator = coordinator;
	p->refs = 1;
	p->next = d->peers;
	if (d->peers)
		d->peers->prev = p;
	d->peers = p;
	c->data = p;
	return p;
}

static void peer_unref(struct node_peer *p)
{
	if (--p->refs)
		return;
	if (p->prev)
		p->prev->next = p->next;
	else
		p->d->peers = p->next;
	if (p->next)
		p->next->prev = p->prev;
	free(p);
}

/* The peer's connection can still carry an answer (it is not closed nor closing). */
static bool peer_open(const struct node_peer *p)
{
	return p->conn && !p->conn->closing;
}

static const char *peer_name(const struct node_peer *p)
{
	if (p->coordinator)
		return "coordinator";
	return p->conn ? p->conn->peer : "peer";
}

static void on_close(struct nsim_conn *c)
{
	struct node_peer *p = c->data;

	p->conn = NULL;
	if (p == p->d->link)
		node_link_lost(p->d);
	peer_unref(p);
}

void node_send_error(struct node_peer *p, uint64_t id, Numasim__Status status, const char *fmt, ...)
{
	Numasim__Response resp;
	char msg[MM_ERRLEN];
	va_list ap;

	if (!p->conn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	nsim_response_init(&resp, id, status, NULL, 0, NULL);
	resp.message = msg;
	nsim_conn_send_msg(p->conn, &resp.base);
	nsim_conn_close(p->conn);
}

static void on_oversize(struct nsim_conn *c, size_t announced)
{
	struct node_peer *p = c->data;

	(void)announced;
	p->d->stats.oversize++;
	node_log_error("%s: frame above the %u-byte cap; closing", peer_name(p),
		       c->framer.max_frame);
	node_send_error(p, 0, NUMASIM__STATUS__STATUS_FRAME_TOO_LARGE,
			"frame above the %u-byte cap", c->framer.max_frame);
}

static void on_frame(struct nsim_conn *c, const uint8_t *payload, size_t len)
{
	struct node_peer *p = c->data;

	if (p->coordinator)
		p->d->link_rx_ms = uv_now(p->d->loop);
	if (p->coordinator && !p->registered)
		node_link_on_frame(p, payload, len);
	else
		node_dispatch_frame(p, payload, len);
}

/* ------------------------------------------------------------------ jobs */

/*
 * A job for @req (decoded in d->scratch when @scratch, else with malloc and owned by the job);
 * from the pool, zeroed up to its reply's strings.
 */
static struct node_job *job_new(struct node_peer *p, Numasim__Request *req, bool scratch)
{
	struct node_job *job = nsim_pool_get(&p->d->job_pool);

	memset(job, 0, offsetof(struct node_job, reply.msg));
	job->kind = NODE_JOB_REQUEST;
	job->req_scratch = scratch;
	job->peer = p;
	p->refs++;
	job->req = req;
	job->nid = p->d->nid;
	nsim_response_init(&job->reply.resp, req->id, NUMASIM__STATUS__STATUS_OK, NULL, 0, NULL);
	return job;
}

void node_job_release(struct node_job *job)
{
	/* a request job has its peer; it goes back to its daemon's pool */
	struct nsim_pool *pool = job->kind == NODE_JOB_REQUEST ? &job->peer->d->job_pool : NULL;

	if (job->kind != NODE_JOB_REQUEST) {
		/* a boot only at shutdown: whatever the job holds is freed with it */
		node_jobs_abandon(node_pool_free(job->boot.old_pool));
		machine_free(job->boot.old_m);
		node_jobs_abandon(node_pool_free(job->boot.pool));
		machine_free(job->boot.m);
		if (job->boot.msg)
			nsim_response_free(job->boot.msg, NULL);
	}
	if (job->req && !job->req_scratch)
		nsim_request_free(job->req, NULL);
	seq_release(&job->reply.text);
	if (job->peer)
		peer_unref(job->peer);
	if (pool)
		nsim_pool_put(pool, job);
	else
		free(job);
}

/* @job outlives the frame it came in: its request leaves the scratch arena. */
static void job_keep(struct node_job *job)
{
	if (!job->req_scratch)
		return;
	job->req = (Numasim__Request *)nsim_wire_copy(&job->req->base);
	job->req_scratch = false;
}

void node_jobs_abandon(struct node_job *list)
{
	while (list) {
		struct node_job *job = list;

		list = job->next;
		node_job_release(job);
	}
}

static void job_finish(struct node_job *job);

static bool is_restore(const struct node_job *job)
{
	return job->req && job->req->body_case == NUMASIM__REQUEST__BODY_RESTORE;
}

/*
 * Run @job as simulated CPU @cpu: staged for that CPU's worker with --cpu-threads, else
 * here on the loop thread, at once. Either way node/mm takes the per-CPU locks 6.1 takes
 * (pcp->lock, the SLUB CPU lock), so the machine sees the same operations; inline, they
 * happen one at a time in arrival order, which makes a run repeatable and spares two thread
 * hand-offs per request.
 */
static void job_run_cpu(struct node_daemon *d, struct node_job *job, int cpu)
{
	if (d->pool) {
		job_keep(job);
		job->on_worker = true;
		d->cpu_inflight++;
		node_worker_stage(&d->pool->cpu[cpu], job);
		return;
	}
	node_job_run(job);
	job_finish(job);
}

/*
 * An allocation whose answer has nowhere to go (its connection closed or closing) was never recorded
 * by the coordinator: send the job back to its CPU to free it, unless the machine is going
 * away anyway. True if the job was sent.
 */
static bool job_undo(struct node_job *job)
{
	struct node_daemon *d = job->peer->d;

	if (job->undo || !job->op || !job->op->undo ||
	    job->reply.resp.status != NUMASIM__STATUS__STATUS_OK)
		return false;
	if (d->stopping || d->booting || d->m != job->m)
		return false;
	job->undo = true;
	job_run_cpu(d, job, node_request_cpu(job->req));
	return true;
}

/* Pack and send the answer (if the peer is still there), then free the job. */
static void job_finish(struct node_job *job)
{
	struct node_peer *p = job->peer;
	struct node_reply *r = &job->reply;

	if (job->on_worker) {
		job->on_worker = false;
		p->d->cpu_inflight--;
	}
	if (is_restore(job) && job->m) /* it ran: what waited for it may go */
		p->d->restoring = false;
	if (job->undo)
		p->d->stats.undone++;
	else if (p && !peer_open(p) && job_undo(job))
		return;
	if (p && peer_open(p)) {
		if (r->resp.body_case == NUMASIM__RESPONSE__BODY_NODE_STATS) {
			const struct node_counters *st = &p->d->stats;

			r->stat.requests = st->requests;
			r->stat.errors = st->bad_frames + st->oversize + st->version_mismatch +
					 st->unknown_ops;
		}
		nsim_conn_send_msg(p->conn, &r->resp.base);
	}
	node_job_release(job);
}

/* ------------------------------------------------------------------ dispatch */

/*
 * A coordinator's request waits (parked, in order) while the machine boots; from a restore
 * on until every job out on a CPU worker is back (a restore must not see an allocation whose
 * undo is still to come); and while a restore runs, so that it sees the node exactly as the
 * coordinator's record of it, taken when it sent the restore.
 */
static bool job_must_wait(const struct node_daemon *d, const struct node_job *job)
{
	return job->peer->coordinator && (d->booting || d->draining || d->restoring);
}

/* Run it (CPU jobs), hand it to the control worker, or park it. */
static void job_submit(struct node_job *job)
{
	struct node_daemon *d = job->peer->d;
	int cpu;

	if (job->peer->coordinator && is_restore(job) && d->cpu_inflight)
		d->draining = true;
	if (job_must_wait(d, job)) {
		job_keep(job);
		node_jobq_push(&d->parked, job);
		return;
	}
	if (!d->m) {
		node_reply_set(job, NUMASIM__STATUS__STATUS_EAGAIN, "node %d is not booted yet",
			       d->nid);
		job_finish(job);
		return;
	}
	job->m = d->m;
	if (!(job->op->flags & NODE_OP_CPU)) {
		d->restoring |= is_restore(job);
		job_keep(job);
		node_worker_stage(&d->ctl, job);
		return;
	}
	cpu = node_request_cpu(job->req);
	if (cpu < 0 || cpu >= d->ncpus) {
		node_reply_set(job, NUMASIM__STATUS__STATUS_EINVAL,
			       "cpu %d does not exist (the machine has %d)", cpu, d->ncpus);
		job_finish(job);
		return;
	}
	job_run_cpu(d, job, cpu);
}

void node_jobs_flush(struct node_daemon *d)
{
	node_worker_flush(&d->ctl);
	for (int cpu = 0; d->pool && cpu < d->pool->ncpus; cpu++)
		node_worker_flush(&d->pool->cpu[cpu]);
}

/* A direct client asked for more than reading: EPERM, whatever the body. */
static void refuse_read_only(struct node_job *job)
{
	char what[48];

	if (job->op)
		snprintf(what, sizeof(what), "'%s'", job->op->name);
	else
		snprintf(what, sizeof(what), "request body %d", (int)job->req->body_case);
	node_reply_set(job, NUMASIM__STATUS__STATUS_EPERM,
		       "%s on a read-only connection (it serves ping, hello, view, node_stats, "
		       "sysctl_get)",
		       what);
}

static void job_dispatch(struct node_job *job)
{
	struct node_peer *p = job->peer;

	job->op = node_op_find(job->req->body_case);
	if (!p->coordinator && !(job->op && (job->op->flags & NODE_OP_READONLY))) {
		refuse_read_only(job);
	} else if (!job->op) {
		p->d->stats.unknown_ops++;
		node_reply_set(job, NUMASIM__STATUS__STATUS_UNKNOWN_OP,
			       "request body %d is not served by a node", (int)job->req->body_case);
	} else if (job->op->flags & NODE_OP_LOOP) {
		job->op->handler(job);
	} else {
		job_submit(job);
		return;
	}
	job_finish(job);
}

/* The frame's request is done with: the arena reset, or a request of its own freed. */
static void frame_request_done(struct node_daemon *d, Numasim__Request *req, bool scratch)
{
	if (scratch)
		nsim_arena_free(&d->scratch, &req->base);
	else
		nsim_request_free(req, NULL);
}

/*
 * Inline, a request is answered before its frame's callback returns, so it is decoded in the
 * scratch arena; with CPU workers (--cpu-threads) most requests outlive their frame, so they
 * are decoded with malloc and handed on as they are, not copied.
 */
void node_dispatch_frame(struct node_peer *p, const uint8_t *payload, size_t len)
{
	struct node_daemon *d = p->d;
	bool scratch = !d->pool;
	Numasim__Request *req =
		nsim_request_unpack(scratch ? &d->scratch.allocator : NULL, len, payload);

	if (!req) {
		if (scratch)
			nsim_arena_reset(&d->scratch);
		d->stats.bad_frames++;
		node_log_error("%s: a %zu-byte frame does not decode as a Request; closing",
			       peer_name(p), len);
		node_send_error(p, 0, NUMASIM__STATUS__STATUS_PROTOCOL_ERROR,
				"a %zu-byte frame does not decode as a Request", len);
		return;
	}
	if (!p->greeted) {
		p->greeted = true;
		if (req->version != NSIM_PROTOCOL_VERSION) {
			d->stats.version_mismatch++;
			node_log_error("%s: protocol version %u (this node speaks %d); closing",
				       peer_name(p), req->version, NSIM_PROTOCOL_VERSION);
			node_send_error(p, req->id, NUMASIM__STATUS__STATUS_VERSION_MISMATCH,
					"protocol version %u, this node speaks %d", req->version,
					NSIM_PROTOCOL_VERSION);
			frame_request_done(d, req, scratch);
			return;
		}
	}
	d->stats.requests++;
	job_dispatch(job_new(p, req, scratch));
	if (scratch) /* the job is done, or kept a copy of req (job_keep) */
		nsim_arena_free(&d->scratch, &req->base);
}

static void on_read_done(struct nsim_conn *c)
{
	struct node_peer *p = c->data;

	node_jobs_flush(p->d);
}

void node_dispatch_parked(struct node_daemon *d)
{
	struct node_job *list = node_jobq_take(&d->parked, NULL);

	while (list) {
		struct node_job *job = list;

		list = job->next;
		if (job->peer->conn)
			job_submit(job);
		else
			node_job_release(job);
	}
	node_jobs_flush(d);
}

void node_results_cb(uv_async_t *async)
{
	struct node_daemon *d = async->data;
	struct node_job *list = node_results_take(&d->results);

	while (list) {
		struct node_job *job = list;

		list = job->next;
		if (job->kind == NODE_JOB_BOOT)
			node_link_booted(d, job);
		else if (job->kind == NODE_JOB_SYSCTLS)
			node_link_sysctls_done(job);
		else
			job_finish(job);
	}
	if (d->draining && !d->cpu_inflight)
		d->draining = false;
	if (d->parked.head && !d->booting && !d->draining && !d->restoring)
		node_dispatch_parked(d);
	node_jobs_flush(d);
}
