// SPDX-License-Identifier: MIT
/*
 * dispatch.c - frames to handlers: the first Request of a connection (version check, node
 * or client), the command table, the checks every request goes through, calls in flight,
 * batches, and the statistics of every command.
 *
 * Design (Redis's command table): one row per request body with its name, handler, flags
 * and counters. dispatch() finds the row, makes a struct coord_call, runs the generic
 * checks (allowed inside a batch, nodes registered) and then the handler. Every answer
 * goes through coord_call_reply(), which counts it by status with its latency, sends it
 * (or stores it in its batch) and frees the call. Latencies use coord_clock(), read once per
 * socket read: from the read that brought a request to the read that completed it (a
 * request answered within its own read counts 0 us). Two pseudo rows count what never reaches
 * a handler: "(unknown)" for bodies not served here, "(frame)" for frames that do not
 * decode, are too large or carry another protocol version.
 *
 * A batch runs its requests one after the other: the next starts when the previous has
 * answered. batch_step() is re-entered when an answer comes back synchronously; the
 * stepping flag turns that recursion into its loop.
 *
 * Invariants: every call is answered exactly once; a call is on its peer's list iff it is a
 * top-level call whose client is still connected; per row, calls == sum of status[].
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coord.h"
#include "nsim.h"

#define NR_STATUS (NUMASIM__STATUS__STATUS_EAGAIN + 1)

enum coord_cmd_flags {
	CMD_READY = 1u << 0,	    /* EAGAIN until every node registered once */
	CMD_NOT_IN_BATCH = 1u << 1, /* refused inside a batch */
};

typedef void (*coord_cmd_fn)(struct coord_call *call, const Numasim__Request *req);

struct coord_cmd {
	const char *name;	    /* as the stats view shows it */
	int body;		    /* Request body case, -1 for the frame row */
	coord_cmd_fn fn;	    /* NULL: a pseudo row */
	unsigned int flags;	    /* CMD_* */
	uint64_t calls;		    /* answers given */
	uint64_t status[NR_STATUS]; /* answers by status */
	uint64_t latency_us;	    /* sum of latencies */
	uint64_t latency_max_us;    /* the slowest */
};

struct coord_batch {
	struct coord_call *call;  /* the batch request itself */
	Numasim__Batch *reqs;	  /* owned copy of the inner requests */
	Numasim__Response **resp; /* owned copies of their answers */
	size_t next;		  /* next inner request to start */
	size_t done;		  /* inner requests answered */
	bool stepping;		  /* batch_step() is on the stack */
};

static void cmd_batch(struct coord_call *call, const Numasim__Request *req);
static void cmd_register(struct coord_call *call, const Numasim__Request *req);

#define ROW(name, body, fn, flags)                                           \
	{                                                                    \
		name, NUMASIM__REQUEST__BODY_##body, fn, flags, 0, {0}, 0, 0 \
	}

static struct coord_cmd cmd_table[] = {
	ROW("hello", HELLO, coord_cmd_hello, 0),
	ROW("alloc_pages", ALLOC_PAGES, coord_cmd_alloc_pages, CMD_READY),
	ROW("free_pages", FREE_PAGES, coord_cmd_free_pages, CMD_READY),
	ROW("kmalloc", KMALLOC, coord_cmd_kmalloc, CMD_READY),
	ROW("kfree", KFREE, coord_cmd_addr_op, CMD_READY),
	ROW("ksize", KSIZE, coord_cmd_addr_op, CMD_READY),
	ROW("kmem_cache_create", CACHE_CREATE, coord_cmd_cache_op, CMD_READY),
	ROW("kmem_cache_alloc", CACHE_ALLOC, coord_cmd_kmalloc, CMD_READY),
	ROW("kmem_cache_free", CACHE_FREE, coord_cmd_addr_op, CMD_READY),
	ROW("kmem_cache_destroy", CACHE_DESTROY, coord_cmd_cache_op, CMD_READY),
	ROW("kmem_cache_shrink", CACHE_SHRINK, coord_cmd_cache_op, CMD_READY),
	ROW("kmem_cache_validate", CACHE_VALIDATE, coord_cmd_cache_op, CMD_READY),
	ROW("sysctl_get", SYSCTL_GET, coord_cmd_sysctl_get, 0),
	ROW("sysctl_set", SYSCTL_SET, coord_cmd_sysctl_set, CMD_READY),
	ROW("view", VIEW, coord_cmd_view, 0),
	ROW("node_stats", NODE_STATS, coord_cmd_node_stats, 0),
	ROW("ping", PING, coord_cmd_ping, 0),
	ROW("batch", BATCH, cmd_batch, CMD_NOT_IN_BATCH),
	ROW("register", REGISTER, cmd_register, CMD_NOT_IN_BATCH),
	ROW("(unknown)", _NOT_SET, NULL, 0),
	{"(frame)", -1, NULL, 0, 0, {0}, 0, 0},
};

#define NR_CMDS (sizeof(cmd_table) / sizeof(cmd_table[0]))
#define CMD_UNKNOWN (&cmd_table[NR_CMDS - 2])
#define CMD_FRAME (&cmd_table[NR_CMDS - 1])

static struct coord_cmd *cmd_lookup(int body)
{
	for (size_t i = 0; i < NR_CMDS; i++)
		if (cmd_table[i].body == body && cmd_table[i].fn)
			return &cmd_table[i];
	return CMD_UNKNOWN;
}

static void cmd_count(const struct coord *co, struct coord_cmd *cmd, Numasim__Status status,
		      uint64_t start_ns)
{
	uint64_t now = coord_clock(co), us = now > start_ns ? (now - start_ns) / 1000 : 0;

	cmd->calls++;
	cmd->status[(unsigned int)status < NR_STATUS ? status : NUMASIM__STATUS__STATUS_EINVAL]++;
	cmd->latency_us += us;
	if (us > cmd->latency_max_us)
		cmd->latency_max_us = us;
}

/* ------------------------------------------------------------------ calls */

static struct coord_call *call_new(struct coord *co, struct coord_peer *peer,
				   struct coord_batch *batch, struct coord_cmd *cmd, uint64_t id)
{
	struct coord_call *call = nsim_pool_get(&co->call_pool);

	memset(call, 0, sizeof(*call));
	call->co = co;
	call->batch = batch;
	call->cmd = cmd;
	call->id = id;
	call->start_ns = coord_clock(co);
	if (batch) {
		call->owner = batch->call->owner;
		call->admin = batch->call->admin;
		return call;
	}
	call->peer = peer;
	call->owner = peer->owner;
	call->admin = peer->admin;
	call->next = peer->calls;
	if (peer->calls)
		peer->calls->prev = call;
	peer->calls = call;
	return call;
}

static void call_free(struct coord_call *call)
{
	struct coord_peer *peer = call->peer;

	if (peer) {
		if (call->prev)
			call->prev->next = call->next;
		else
			peer->calls = call->next;
		if (call->next)
			call->next->prev = call->prev;
	}
	nsim_pool_put(&call->co->call_pool, call);
}

struct coord_peer *coord_call_peer(const struct coord_call *call)
{
	return call->batch ? call->batch->call->peer : call->peer;
}

void coord_call_set_identity(struct coord_call *call, uint32_t owner, bool admin)
{
	struct coord_peer *peer = coord_call_peer(call);

	call->owner = owner;
	call->admin = admin;
	if (call->batch) {
		call->batch->call->owner = owner;
		call->batch->call->admin = admin;
	}
	if (peer) {
		peer->owner = owner;
		peer->admin = admin;
	}
}

static void batch_collect(struct coord_batch *b, const Numasim__Response *resp);
static void batch_step(struct coord_batch *b);

void coord_call_reply(struct coord_call *call, Numasim__Response *resp)
{
	struct coord_batch *batch = call->batch;

	resp->id = call->id;
	cmd_count(call->co, call->cmd, resp->status, call->start_ns);
	if (batch)
		batch_collect(batch, resp);
	else if (call->peer)
		nsim_conn_send_msg(call->peer->conn, &resp->base);
	call_free(call);
	if (batch)
		batch_step(batch);
}

void coord_call_fail(struct coord_call *call, Numasim__Status status, const char *fmt, ...)
{
	Numasim__Response resp;
	char msg[COORD_MSGLEN];
	va_list ap;

	va_start(ap, fmt);
	nsim_response_vinit(&resp, 0, status, msg, sizeof(msg), fmt, ap);
	va_end(ap);
	coord_call_reply(call, &resp);
}

void coord_forward_reply(struct coord_call *call, Numasim__Response *resp)
{
	coord_call_reply(call, resp);
}

void coord_call_fail_entry(struct coord_call *call, const struct coord_fanout_entry *e)
{
	if (!e->resp)
		coord_call_fail(call, NUMASIM__STATUS__STATUS_ENODEV, "node %d is down", e->nid);
	else
		coord_call_fail(call, e->resp->status, "%s", e->resp->message);
}

/* ------------------------------------------------------------------ dispatch */

static void dispatch(struct coord *co, struct coord_peer *peer, struct coord_batch *batch,
		     const Numasim__Request *req)
{
	struct coord_cmd *cmd = cmd_lookup(req->body_case);
	struct coord_call *call = call_new(co, peer, batch, cmd, req->id);

	if (!cmd->fn && req->body_case == NUMASIM__REQUEST__BODY__NOT_SET)
		coord_call_fail(call, NUMASIM__STATUS__STATUS_UNKNOWN_OP,
				"a request without a body this coordinator knows");
	else if (!cmd->fn)
		coord_call_fail(call, NUMASIM__STATUS__STATUS_UNKNOWN_OP,
				"request body %d is internal to the node daemons",
				(int)req->body_case);
	else if (batch && (cmd->flags & CMD_NOT_IN_BATCH))
		coord_call_fail(call, NUMASIM__STATUS__STATUS_EINVAL, "%s inside a batch",
				cmd->name);
	else if ((cmd->flags & CMD_READY) && !coord_nodes_ready(co))
		coord_call_fail(call, NUMASIM__STATUS__STATUS_EAGAIN,
				"waiting for nodes (%d of %d up)", co->nodes_up, co->m->nr_nodes);
	else
		cmd->fn(call, req);
}

static void cmd_register(struct coord_call *call, const Numasim__Request *req)
{
	(void)req;
	coord_call_fail(call, NUMASIM__STATUS__STATUS_EINVAL,
			"register must be the first request of a connection");
}

/* ------------------------------------------------------------------ batches */

static void cmd_batch(struct coord_call *call, const Numasim__Request *req)
{
	struct coord_batch *b = xcalloc(1, sizeof(*b));
	size_t len = numasim__batch__get_packed_size(req->batch);
	uint8_t *buf = xmalloc(len);

	/* the dispatcher frees @req when this returns: keep a copy of the inner requests */
	numasim__batch__pack(req->batch, buf);
	b->reqs = numasim__batch__unpack(NULL, len, buf);
	free(buf);
	if (!b->reqs)
		abort(); /* it was just packed: only a real out-of-memory fails here */
	b->call = call;
	b->resp = xcalloc(b->reqs->n_requests + 1, sizeof(*b->resp));
	batch_step(b);
}

/* Keep a copy of an inner answer: its parts may live on the answering function's stack. */
static void batch_collect(struct coord_batch *b, const Numasim__Response *resp)
{
	size_t len = numasim__response__get_packed_size(resp);
	uint8_t *buf = xmalloc(len);

	numasim__response__pack(resp, buf);
	b->resp[b->done] = numasim__response__unpack(NULL, len, buf);
	if (!b->resp[b->done])
		abort();
	b->done++;
	free(buf);
}

static void batch_finish(struct coord_batch *b)
{
	Numasim__Response resp = NUMASIM__RESPONSE__INIT;
	Numasim__BatchReply reply = NUMASIM__BATCH_REPLY__INIT;

	reply.n_responses = b->done;
	reply.responses = b->resp;
	resp.body_case = NUMASIM__RESPONSE__BODY_BATCH;
	resp.batch = &reply;
	coord_call_reply(b->call, &resp);
	for (size_t i = 0; i < b->done; i++)
		nsim_response_free(b->resp[i], NULL);
	free(b->resp);
	numasim__batch__free_unpacked(b->reqs, NULL);
	free(b);
}

static void batch_step(struct coord_batch *b)
{
	if (b->stepping)
		return;
	b->stepping = true;
	while (b->next == b->done && b->next < b->reqs->n_requests) {
		const Numasim__Request *inner = b->reqs->requests[b->next++];

		dispatch(b->call->co, NULL, b, inner);
	}
	b->stepping = false;
	if (b->done == b->reqs->n_requests)
		batch_finish(b);
}

/* ------------------------------------------------------------------ frames */

/* A frame the connection cannot go on after: answer (id 0 if unknown), count, close. */
static void frame_error(struct coord_peer *peer, uint64_t id, Numasim__Status status,
			const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void frame_error(struct coord_peer *peer, uint64_t id, Numasim__Status status,
			const char *fmt, ...)
{
	Numasim__Response resp;
	char msg[COORD_MSGLEN];
	va_list ap;

	va_start(ap, fmt);
	nsim_response_vinit(&resp, id, status, msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cmd_count(peer->co, CMD_FRAME, status, coord_clock(peer->co));
	nsim_conn_send_msg(peer->conn, &resp.base);
	nsim_conn_close(peer->conn);
}

/* The first Request decides: same version or out; register = a node daemon. */
static bool first_request(struct coord_peer *peer, const Numasim__Request *req)
{
	uint64_t start = coord_clock(peer->co);
	int ret;

	if (req->version != NSIM_PROTOCOL_VERSION) {
		frame_error(peer, req->id, NUMASIM__STATUS__STATUS_VERSION_MISMATCH,
			    "protocol version %u, this coordinator speaks version %u", req->version,
			    NSIM_PROTOCOL_VERSION);
		return false;
	}
	if (req->body_case != NUMASIM__REQUEST__BODY_REGISTER) {
		peer->role = PEER_CLIENT;
		return true;
	}
	ret = coord_node_register(peer, req);
	cmd_count(peer->co, cmd_lookup(NUMASIM__REQUEST__BODY_REGISTER),
		  ret ? NUMASIM__STATUS__STATUS_EINVAL : NUMASIM__STATUS__STATUS_OK, start);
	return false;
}

void coord_peer_frame(struct coord_peer *peer, const uint8_t *payload, size_t len)
{
	Numasim__Request *req;

	if (peer->role == PEER_NODE) {
		coord_node_frame(peer, payload, len);
		return;
	}
	if (peer->conn->closing)
		return;
	/* commands copy what they keep: the request is decoded into the scratch arena */
	req = nsim_request_unpack(&peer->co->scratch.allocator, len, payload);
	if (!req) {
		nsim_arena_reset(&peer->co->scratch);
		frame_error(peer, 0, NUMASIM__STATUS__STATUS_PROTOCOL_ERROR,
			    "a frame of %zu bytes that does not decode as a Request", len);
		return;
	}
	if (peer->role == PEER_CLIENT || first_request(peer, req))
		dispatch(peer->co, peer, NULL, req);
	nsim_arena_free(&peer->co->scratch, &req->base);
}

void coord_peer_oversize(struct coord_peer *peer, size_t announced)
{
	if (peer->role == PEER_NODE) {
		coord_log(peer->co, "node %d: a frame of %zu bytes is above the cap", peer->nid,
			  announced);
		return; /* the connection closes: the node goes down */
	}
	(void)announced; /* the wire layer passes what it buffered, not the length prefix */
	frame_error(peer, 0, NUMASIM__STATUS__STATUS_FRAME_TOO_LARGE,
		    "a frame above the cap of %u bytes", NSIM_FRAME_MAX_DEFAULT);
}

void coord_peer_closed(struct coord_peer *peer)
{
	struct coord_call *call = peer->calls;

	/* calls in flight go on (allocations belong to the identity); answers are dropped */
	while (call) {
		struct coord_call *next = call->next;

		call->peer = NULL;
		call->prev = call->next = NULL;
		call = next;
	}
	peer->calls = NULL;
}

/* ------------------------------------------------------------------ statistics */

static uint64_t cmd_errors(const struct coord_cmd *cmd)
{
	return cmd->calls - cmd->status[NUMASIM__STATUS__STATUS_OK];
}

static void stats_row_text(struct seq_file *s, const struct coord_cmd *cmd)
{
	seq_printf(s, "%-20s %10llu %8llu %9llu %9llu ", cmd->name, (unsigned long long)cmd->calls,
		   (unsigned long long)cmd_errors(cmd),
		   (unsigned long long)(cmd->calls ? cmd->latency_us / cmd->calls : 0),
		   (unsigned long long)cmd->latency_max_us);
	for (int st = 0; st < NR_STATUS; st++)
		if (cmd->status[st])
			seq_printf(s, " %s:%llu", nsim_status_name(st),
				   (unsigned long long)cmd->status[st]);
	seq_putc(s, '\n');
}

static void stats_row_json(struct seq_file *s, const struct coord_cmd *cmd, bool first)
{
	bool first_status = true;

	seq_printf(s,
		   "%s{\"name\":\"%s\",\"calls\":%llu,\"errors\":%llu,\"latency_us_sum\":%llu,"
		   "\"latency_us_max\":%llu,\"status\":{",
		   first ? "" : ",", cmd->name, (unsigned long long)cmd->calls,
		   (unsigned long long)cmd_errors(cmd), (unsigned long long)cmd->latency_us,
		   (unsigned long long)cmd->latency_max_us);
	for (int st = 0; st < NR_STATUS; st++) {
		if (!cmd->status[st])
			continue;
		seq_printf(s, "%s\"%s\":%llu", first_status ? "" : ",", nsim_status_name(st),
			   (unsigned long long)cmd->status[st]);
		first_status = false;
	}
	seq_puts(s, "}}");
}

void coord_stats_show(struct seq_file *s, bool json)
{
	if (json) {
		seq_puts(s, "{\"commands\":[");
		for (size_t i = 0; i < NR_CMDS; i++)
			stats_row_json(s, &cmd_table[i], i == 0);
		seq_puts(s, "]}");
		return;
	}
	seq_printf(s, "%-20s %10s %8s %9s %9s  %s\n", "command", "calls", "errors", "avg_us",
		   "max_us", "by status");
	for (size_t i = 0; i < NR_CMDS; i++)
		stats_row_text(s, &cmd_table[i]);
}
