// SPDX-License-Identifier: MIT
/*
 * nodes.c - the coordinator's side of the node daemons: registration, the links, the
 * Requests sent on them and their answers, heartbeats and dead-node detection.
 *
 * Design: a node daemon connects like any client and registers with its first Request; it
 * is answered with the machine's configuration (MachineConfig, local_node = its id). From
 * then on the coordinator sends Requests on that link and the node answers Responses with
 * the same id; each link keeps a map id -> pending callback. A node is down when its
 * connection closes, when a frame from it does not decode, or when nothing arrived from it
 * for dead_after_ms (it is pinged every heartbeat_ms, checked every COORD_TICK_MS, so a
 * silent node is found within dead_after_ms + COORD_TICK_MS). Going down fails every
 * pending operation of the link (callback with NULL). A node that registers again is up
 * again with the same configuration, plus the sysctls written since the start.
 *
 * Invariants: nodes[n].link != NULL <=> node n up; nodes_up == links up; a pending entry
 * exists for every Request sent on a link and not yet answered or failed; callbacks never
 * run from inside coord_node_call().
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coord.h"
#include "nsim.h"

void coord_request_init(Numasim__Request *req)
{
	numasim__request__init(req);
	req->version = NSIM_PROTOCOL_VERSION;
}

bool coord_node_is_up(const struct coord *co, int nid)
{
	return nid >= 0 && nid < co->m->nr_nodes && co->nodes[nid].link &&
	       !co->nodes[nid].restoring;
}

bool coord_nodes_ready(const struct coord *co)
{
	return co->nodes_registered == co->m->nr_nodes;
}

/* ------------------------------------------------------------------ up and down */

/* Fail every operation waiting on @node; the map is detached first (callbacks may send). */
static void fail_pending(struct coord *co, struct coord_node *node)
{
	struct coord_map pending = node->pending;
	size_t iter = 0;
	uint64_t v;

	coord_map_init(&node->pending);
	while (coord_map_next(&pending, &iter, NULL, &v)) {
		struct coord_rpc *rpc = (struct coord_rpc *)(uintptr_t)v;

		rpc->fn(rpc->arg, NULL);
		nsim_pool_put(&co->small_pool, rpc);
	}
	coord_map_release(&pending);
}

static void node_down(struct coord *co, int nid, const char *why)
{
	struct coord_node *node = &co->nodes[nid];
	struct coord_peer *link = node->link;

	if (!link)
		return;
	node->link = NULL;
	co->nodes_up--;
	nsim_conn_close(link->conn);
	coord_log(co, "node %d down (%s)", nid, why);
	fail_pending(co, node);
}

void coord_node_link_closed(struct coord_peer *peer)
{
	if (peer->nid >= 0 && peer->co->nodes[peer->nid].link == peer)
		node_down(peer->co, peer->nid, "connection closed");
}

void coord_nodes_shutdown(struct coord *co)
{
	for (int nid = 0; nid < co->m->nr_nodes; nid++)
		node_down(co, nid, "coordinator stopping");
}

void coord_nodes_release(struct coord *co)
{
	for (int nid = 0; nid < MAX_NUMNODES; nid++)
		coord_map_release(&co->nodes[nid].pending);
}

/* ------------------------------------------------------------------ registration */

/* The configuration a node daemon boots from: the file's machine, the sysctls so far. */
static void send_config(struct coord *co, struct coord_peer *peer, uint64_t id, int nid)
{
	const struct coord_config *cfg = &co->cfg;
	Numasim__MachineConfig mc = NUMASIM__MACHINE_CONFIG__INIT;
	Numasim__RegisterReply rr = NUMASIM__REGISTER_REPLY__INIT;
	Numasim__Response resp = NUMASIM__RESPONSE__INIT;
	uint64_t node_mem[MAX_NUMNODES];
	uint32_t *distance = xcalloc((size_t)MAX_NUMNODES * MAX_NUMNODES, sizeof(*distance));
	Numasim__SysctlSet *sys = xcalloc((size_t)cfg->nr_sysctls + 1, sizeof(*sys));
	Numasim__SysctlSet **sysp = xcalloc((size_t)cfg->nr_sysctls + 1, sizeof(*sysp));
	int nodes = cfg->mc.nr_nodes;

	mc.arch = (char *)cfg->arch;
	mc.mem = cfg->mc.mem_bytes;
	mc.cpus = (uint32_t)cfg->mc.ncpus;
	mc.nodes = (uint32_t)nodes;
	for (int i = 0; i < cfg->nr_node_mem; i++)
		node_mem[i] = cfg->mc.node_mem[i];
	mc.n_node_mem = (size_t)cfg->nr_node_mem;
	mc.node_mem = node_mem;
	for (int i = 0; cfg->distance_rows && i < nodes * nodes; i++)
		distance[i] = cfg->mc.distance[i / nodes][i % nodes];
	mc.n_distance = cfg->distance_rows ? (size_t)(nodes * nodes) : 0;
	mc.distance = distance;
	mc.cmdline = cfg->cmdline;
	mc.thp = (char *)cfg->thp;
	for (int i = 0; i < cfg->nr_sysctls; i++) {
		numasim__sysctl_set__init(&sys[i]);
		sys[i].name = cfg->sysctls[i].name;
		sys[i].value = cfg->sysctls[i].value;
		sysp[i] = &sys[i];
	}
	mc.n_sysctls = (size_t)cfg->nr_sysctls;
	mc.sysctls = sysp;
	mc.local_node = nid;
	rr.config = &mc;
	resp.id = id;
	resp.body_case = NUMASIM__RESPONSE__BODY_REGISTER;
	resp.register_ = &rr;
	nsim_conn_send_msg(peer->conn, &resp.base);
	free(sysp);
	free(sys);
	free(distance);
}

static int refuse_register(struct coord_peer *peer, uint64_t id, int nid, int nr_nodes)
{
	Numasim__Response resp;
	char msg[COORD_MSGLEN];

	nsim_response_init(&resp, id, NUMASIM__STATUS__STATUS_EINVAL, msg, sizeof(msg),
			   "node %d does not exist (nodes 0-%d)", nid, nr_nodes - 1);
	nsim_conn_send_msg(peer->conn, &resp.base);
	coord_log(peer->co, "refused a node daemon from %s: node %d does not exist",
		  peer->conn->peer, nid);
	nsim_conn_close(peer->conn);
	return -EINVAL;
}

struct restore_ctx {
	struct coord *co; /* the server */
	int nid;	  /* the node being restored */
	bool reconcile;	  /* it kept its machine: unrecorded blocks are freed */
};

/* The restore is a barrier: the node serves nothing else until its blocks are back. */
static void restore_done(void *arg, Numasim__Response *resp)
{
	struct restore_ctx *rc = arg;
	struct coord *co = rc->co;
	const Numasim__CountReply *c =
		resp && resp->body_case == NUMASIM__RESPONSE__BODY_COUNT ? resp->count : NULL;
	const char *msg = c && c->message ? c->message : "";

	co->nodes[rc->nid].restoring = false;
	if (c && rc->reconcile && c->count)
		coord_log(co, "node %d: freed %llu block(s) allocated on the link given up%s%s",
			  rc->nid, (unsigned long long)c->count, *msg ? ": " : "", msg);
	else if (c && !rc->reconcile)
		coord_log(co, "node %d: restored %llu block(s)%s%s", rc->nid,
			  (unsigned long long)c->count, *msg ? ": " : "", msg);
	free(rc);
}

/* Forget @nid's slab objects: its process restarted and their slabs cannot be rebuilt. */
static void forget_objects(struct coord *co, int nid)
{
	struct coord_owner_rec *recs;
	uint64_t *keys;
	size_t n = coord_owner_collect(&co->owners, OWNED_OBJECTS, nid, &keys, &recs);

	for (size_t i = 0; i < n; i++)
		coord_owner_del(&co->owners, OWNED_OBJECTS, keys[i]);
	if (n)
		coord_log(co, "node %d restarted: %zu slab object(s) lost", nid, n);
	free(keys);
	free(recs);
}

/*
 * Send @nid the blocks recorded for it. A node runs a restore before anything sent after it.
 * A node that registers from a new process lost its memory and takes them back (they stay
 * owned); nothing is routed to it until it answers. One that kept its machine (@reconcile)
 * frees every block it holds that is not among them (an allocation it answered after the
 * coordinator had given the link up was never recorded); requests sent meanwhile wait for
 * it on the node.
 */
static void restore_node(struct coord *co, int nid, bool reconcile)
{
	Numasim__Request req = NUMASIM__REQUEST__INIT;
	Numasim__Restore restore = NUMASIM__RESTORE__INIT;
	struct coord_owner_rec *recs;
	uint64_t *keys;
	size_t n = coord_owner_collect(&co->owners, OWNED_PAGES, nid, &keys, &recs);
	Numasim__RestoreBlock *blocks, **ptrs;

	blocks = xcalloc(n ? n : 1, sizeof(*blocks));
	ptrs = xcalloc(n ? n : 1, sizeof(*ptrs));
	for (size_t i = 0; i < n; i++) {
		numasim__restore_block__init(&blocks[i]);
		blocks[i].pfn = keys[i];
		blocks[i].order = recs[i].order;
		blocks[i].owner = recs[i].owner;
		ptrs[i] = &blocks[i];
	}
	restore.n_blocks = n;
	restore.blocks = ptrs;
	restore.reconcile = reconcile;
	req.body_case = NUMASIM__REQUEST__BODY_RESTORE;
	req.restore = &restore;
	if (n || reconcile) {
		struct restore_ctx *rc = xmalloc(sizeof(*rc));

		*rc = (struct restore_ctx){co, nid, reconcile};
		if (coord_node_call(co, nid, &req, restore_done, rc))
			free(rc);
		else /* a reconcile needs no detour: the node serves what follows after it */
			co->nodes[nid].restoring = !reconcile;
	}
	free(ptrs);
	free(blocks);
	free(keys);
	free(recs);
}

int coord_node_register(struct coord_peer *peer, const Numasim__Request *req)
{
	struct coord *co = peer->co;
	int nid = req->register_->node;
	struct coord_node *node;
	bool restarted, rejoined;

	if (nid < 0 || nid >= co->m->nr_nodes)
		return refuse_register(peer, req->id, nid, co->m->nr_nodes);
	node = &co->nodes[nid];
	node_down(co, nid, "registered again");
	peer->role = PEER_NODE;
	peer->nid = nid;
	node->link = peer;
	restarted = node->registered && node->pid != req->register_->pid;
	rejoined = node->registered && !restarted;
	node->pid = req->register_->pid;
	node->last_rx_ms = uv_now(co->loop);
	node->next_ping_ms = node->last_rx_ms + (uint64_t)co->cfg.heartbeat_ms;
	node->next_id = 1;
	co->nodes_up++;
	send_config(co, peer, req->id, nid);
	if (restarted)
		forget_objects(co, nid);
	if (restarted || rejoined)
		restore_node(co, nid, rejoined);
	coord_log(co, "node %d up (pid %u, %s)", nid, node->pid, peer->conn->peer);
	if (!node->registered) {
		node->registered = true;
		if (++co->nodes_registered == co->m->nr_nodes)
			coord_log(co, "all %d nodes registered", co->m->nr_nodes);
	}
	return 0;
}

/* ------------------------------------------------------------------ requests and answers */

void coord_node_frame(struct coord_peer *peer, const uint8_t *payload, size_t len)
{
	struct coord *co = peer->co;
	struct coord_node *node = &co->nodes[peer->nid];
	Numasim__Response *resp;
	struct coord_rpc *rpc;
	uint64_t v;

	if (node->link != peer)
		return; /* a link already taken down: its frames are stale */
	node->last_rx_ms = uv_now(co->loop);
	resp = nsim_response_unpack(&co->answers.allocator, len, payload);
	if (!resp) {
		nsim_arena_reset(&co->answers);
		node_down(co, peer->nid, "a frame that does not decode");
		return;
	}
	if (coord_map_del(&node->pending, resp->id, &v)) {
		rpc = (struct coord_rpc *)(uintptr_t)v;
		rpc->fn(rpc->arg, resp);
		nsim_pool_put(&co->small_pool, rpc);
	}
	nsim_arena_free(&co->answers, &resp->base);
}

int coord_node_call(struct coord *co, int nid, Numasim__Request *req, coord_reply_fn fn, void *arg)
{
	struct coord_node *node;
	struct coord_rpc *rpc;

	if (!coord_node_is_up(co, nid))
		return -ENODEV;
	node = &co->nodes[nid];
	req->version = NSIM_PROTOCOL_VERSION;
	req->id = node->next_id++;
	if (nsim_conn_send_msg(node->link->conn, &req->base))
		return -ENODEV;
	_Static_assert(sizeof(*rpc) <= COORD_SMALL, "an rpc fits a small record");
	rpc = nsim_pool_get(&co->small_pool);
	rpc->fn = fn;
	rpc->arg = arg;
	coord_map_put(&node->pending, req->id, (uint64_t)(uintptr_t)rpc);
	return 0;
}

static void discard_answer(void *arg, Numasim__Response *resp)
{
	(void)arg;
	(void)resp;
}

void coord_node_post(struct coord *co, int nid, Numasim__Request *req)
{
	coord_node_call(co, nid, req, discard_answer, NULL);
}

/* ------------------------------------------------------------------ heartbeats */

static void ping(struct coord *co, int nid)
{
	Numasim__Request req;
	Numasim__Ping body = NUMASIM__PING__INIT;

	coord_request_init(&req);
	req.body_case = NUMASIM__REQUEST__BODY_PING;
	req.ping = &body;
	coord_node_post(co, nid, &req);
}

void coord_nodes_tick(struct coord *co)
{
	uint64_t now = uv_now(co->loop);
	char why[64];

	for (int nid = 0; nid < co->m->nr_nodes; nid++) {
		struct coord_node *node = &co->nodes[nid];

		if (!node->link)
			continue;
		if (now - node->last_rx_ms >= (uint64_t)co->cfg.dead_after_ms) {
			snprintf(why, sizeof(why), "silent for %llu ms",
				 (unsigned long long)(now - node->last_rx_ms));
			node_down(co, nid, why);
			continue;
		}
		if (now >= node->next_ping_ms) {
			node->next_ping_ms = now + (uint64_t)co->cfg.heartbeat_ms;
			ping(co, nid);
		}
	}
}

/* ------------------------------------------------------------------ fan-out */

void coord_fanout_init(struct coord_fanout *f, struct coord *co,
		       void (*done)(struct coord_fanout *f), void *arg)
{
	f->co = co;
	f->n = 0;
	f->pending = 0;
	f->armed = false;
	f->done = done;
	f->arg = arg;
}

static void fanout_check(struct coord_fanout *f)
{
	if (!f->armed || f->pending)
		return;
	f->armed = false;
	f->done(f); /* may free f */
}

static void fanout_answer(void *arg, Numasim__Response *resp)
{
	struct coord_fanout_entry *e = arg;

	e->resp = resp ? (Numasim__Response *)nsim_wire_copy(&resp->base) : NULL;
	e->f->pending--;
	fanout_check(e->f);
}

void coord_fanout_add(struct coord_fanout *f, int nid, Numasim__Request *req)
{
	struct coord_fanout_entry *e;

	if (f->n == COORD_FANOUT_MAX)
		abort(); /* callers add at most one request per zone and one per node */
	e = &f->e[f->n++];
	e->f = f;
	e->nid = nid;
	e->resp = NULL;
	e->sent = !coord_node_call(f->co, nid, req, fanout_answer, e);
	f->pending += e->sent;
}

void coord_fanout_arm(struct coord_fanout *f)
{
	f->armed = true;
	fanout_check(f);
}

void coord_fanout_release(struct coord_fanout *f)
{
	for (int i = 0; i < f->n; i++) {
		if (f->e[i].resp)
			nsim_response_free(f->e[i].resp, NULL);
		f->e[i].resp = NULL;
	}
	f->n = 0;
}

const struct coord_fanout_entry *coord_fanout_first_error(const struct coord_fanout *f)
{
	for (int i = 0; i < f->n; i++)
		if (!f->e[i].resp || f->e[i].resp->status != NUMASIM__STATUS__STATUS_OK)
			return &f->e[i];
	return NULL;
}
