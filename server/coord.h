/* SPDX-License-Identifier: MIT */
/*
 * coord.h - numasim-coordinator: the state of the server and the interfaces between its
 * layers.
 *
 * Layers, as in Redis: loop (main.c: libuv, listening socket, signals, the tick timer) ->
 * connection (struct coord_peer, one per accepted socket; its first Request decides whether
 * it is a client or a node daemon) -> frame (dispatch.c: decode, version check) ->
 * dispatch (dispatch.c: ONE command table with name, handler, flags and per-command
 * statistics; the generic checks are made there before any handler runs) -> handler
 * (control.c, route.c, objects.c, views.c).
 *
 * Handlers are asynchronous: each gets a struct coord_call and answers it exactly once with
 * coord_call_reply(), now or when the node daemons it asked have answered. Node daemons are
 * reached through nodes.c: coord_node_call() sends a Request on the node's link and calls
 * back with the Response of the same id (or NULL when the node went down first);
 * struct coord_fanout asks several nodes at once.
 *
 * Threads: one, the libuv loop's. Nothing here is locked.
 *
 * Ownership: the dispatcher owns each unpacked Request and frees it after the handler
 * returns, so handlers copy what they keep. A node's Response given to a coord_reply_fn is
 * decoded in the coordinator's answer arena and freed when the callback returns: a callback
 * that keeps it takes a copy.
 */
#ifndef NUMASIM_SERVER_COORD_H
#define NUMASIM_SERVER_COORD_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "config.h"
#include "map.h"
#include "net.h"
#include "nsim.h"
#include "owners.h"
#include "plan.h"
#include "seq_file.h"

#define COORD_PROGRAM "numasim-coordinator"
#define COORD_SERVER_ID "numasim-coordinator 0.1.0"
#define COORD_MSGLEN 512  /* one-line messages of responses */
#define COORD_TICK_MS 100 /* heartbeat timer resolution */

struct coord;
struct coord_call;
struct coord_batch;
struct coord_cmd;

enum coord_role {
	PEER_NEW,    /* no Request yet */
	PEER_CLIENT, /* a client: sends Requests */
	PEER_NODE,   /* a node daemon: registered, answers our Requests */
};

/* One accepted connection. */
struct coord_peer {
	struct coord *co;		/* the server */
	struct nsim_conn *conn;		/* its socket */
	enum coord_role role;		/* decided by the first Request */
	int nid;			/* PEER_NODE: the node it holds */
	uint32_t owner;			/* PEER_CLIENT: identity id (Hello.client) */
	bool admin;			/* PEER_CLIENT: may free anyone's allocations */
	struct coord_call *calls;	/* requests in flight, newest first */
	struct coord_peer *prev, *next; /* coord.peers */
};

/* A Response of a node, or NULL when the node went down before answering (see Ownership). */
typedef void (*coord_reply_fn)(void *arg, Numasim__Response *resp);

/* What the coordinator knows of one node daemon. */
struct coord_node {
	struct coord_peer *link;  /* its connection, NULL while down */
	bool registered;	  /* registered at least once */
	bool restoring;		  /* its blocks are being given back: route around it */
	uint32_t pid;		  /* Register.pid */
	uint64_t last_rx_ms;	  /* loop time of its last frame */
	uint64_t next_ping_ms;	  /* loop time of the next heartbeat */
	uint64_t next_id;	  /* id of the next Request on the link */
	struct coord_map pending; /* Request id -> struct coord_rpc * */
};

/* A request to a node awaiting its answer. */
struct coord_rpc {
	coord_reply_fn fn; /* who waits */
	void *arg;	   /* its argument */
};

struct coord {
	uv_loop_t *loop;		       /* the one loop */
	union nsim_sock server;		       /* listening socket */
	bool has_server;		       /* server is open */
	union nsim_sock local;		       /* --local: Unix socket listener */
	bool has_local;			       /* local is open */
	struct nsim_arena scratch;	       /* decodes one client request at a time */
	struct nsim_arena answers;	       /* decodes one node answer at a time */
	struct nsim_pool op_pool;	       /* route.c: allocations being routed */
	struct nsim_pool call_pool;	       /* struct coord_call */
	struct nsim_pool small_pool;	       /* records of COORD_SMALL bytes (rpcs, frees) */
	uint64_t now_ns;		       /* the clock, read once per socket read */
	uv_timer_t tick;		       /* heartbeats and dead-node detection */
	uv_signal_t sigterm, sigint;	       /* clean exit */
	struct coord_config cfg;	       /* the configuration file */
	struct machine *m;		       /* routing machine: layout, zonelists, sysctls */
	struct coord_node nodes[MAX_NUMNODES]; /* by node id */
	int nodes_up;			       /* links up */
	int nodes_registered;		       /* nodes that registered at least once */
	uint64_t start_ms;		       /* loop time at start */
	struct coord_owners owners;	       /* identities, who owns what */
	struct coord_peer *peers;	       /* every connection */
	bool quiet;			       /* no informational logs */
	bool stopping;			       /* a signal arrived */
};

/* A request being served. */
struct coord_call {
	struct coord *co;		/* the server */
	struct coord_peer *peer;	/* the client, NULL once gone (or inside a batch) */
	struct coord_call *prev, *next; /* peer->calls */
	struct coord_batch *batch;	/* the batch this is a part of, else NULL */
	struct coord_cmd *cmd;		/* its row of the command table */
	uint64_t id;			/* Request.id */
	uint64_t start_ns;		/* for the latency statistics */
	uint32_t owner;			/* identity that makes the request */
	bool admin;			/* it may free anyone's allocations */
};

/* Several nodes asked at once; done() runs when each has answered or gone down. */
#define COORD_POOL_MAX 1024				     /* objects of a kind kept for reuse */
#define COORD_SMALL 32					     /* bytes of a record from small_pool */
#define COORD_FANOUT_MAX (MAX_NUMNODES * (MAX_NR_ZONES + 1)) /* a zone op each, a node op each */
struct coord_fanout {
	struct coord *co;		      /* the server */
	int n;				      /* entries */
	int pending;			      /* answers awaited */
	bool armed;			      /* every request was added */
	void (*done)(struct coord_fanout *f); /* all answered */
	void *arg;			      /* for done() */
	struct coord_fanout_entry {
		struct coord_fanout *f;	 /* back pointer */
		int nid;		 /* node asked */
		bool sent;		 /* false: it was down */
		Numasim__Response *resp; /* its answer, NULL if none */
	} e[COORD_FANOUT_MAX];
};

/* logging: "numasim-coordinator: ..." on stderr (informational ones unless --quiet) */
void coord_log(const struct coord *co, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- dispatch.c: frames, the command table, calls */
void coord_peer_frame(struct coord_peer *peer, const uint8_t *payload, size_t len);
void coord_peer_oversize(struct coord_peer *peer, size_t announced);
void coord_peer_closed(struct coord_peer *peer);
/* coord_call_reply - answer @call (its id is set here) and free it. */
void coord_call_reply(struct coord_call *call, Numasim__Response *resp);
/* coord_call_fail - answer @call with @status and a one-line message. */
void coord_call_fail(struct coord_call *call, Numasim__Status status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* coord_call_peer - the client connection of @call (through its batch), NULL once gone. */
struct coord_peer *coord_call_peer(const struct coord_call *call);
/* coord_call_set_identity - Hello: the identity of the rest of the connection. */
void coord_call_set_identity(struct coord_call *call, uint32_t owner, bool admin);
/* coord_stats_show - the command table's statistics, text table or JSON. */
void coord_stats_show(struct seq_file *s, bool json);

/* ---- nodes.c: registration, links, heartbeats, node RPC */
/* coord_node_register - a node daemon's first Request. 0, or -EINVAL (refused, closed). */
int coord_node_register(struct coord_peer *peer, const Numasim__Request *req);
void coord_node_frame(struct coord_peer *peer, const uint8_t *payload, size_t len);
void coord_node_link_closed(struct coord_peer *peer);
void coord_nodes_tick(struct coord *co);
void coord_nodes_shutdown(struct coord *co);
void coord_nodes_release(struct coord *co);
bool coord_node_is_up(const struct coord *co, int nid);
/* coord_nodes_ready - every node registered at least once. */
bool coord_nodes_ready(const struct coord *co);
/*
 * coord_node_call - send @req (version and id set here) to node @nid; @fn gets the answer
 * later, never from inside this call. 0, or -ENODEV when the node is down (@fn not called).
 */
int coord_node_call(struct coord *co, int nid, Numasim__Request *req, coord_reply_fn fn, void *arg);
/* coord_node_post - send @req and ignore the answer (counters on the node). */
void coord_node_post(struct coord *co, int nid, Numasim__Request *req);

void coord_fanout_init(struct coord_fanout *f, struct coord *co,
		       void (*done)(struct coord_fanout *f), void *arg);
/* coord_fanout_add - send @req to @nid; a node that is down leaves an unsent entry. */
void coord_fanout_add(struct coord_fanout *f, int nid, Numasim__Request *req);
/* coord_fanout_arm - no more entries; done() runs when all answered (maybe right now). */
void coord_fanout_arm(struct coord_fanout *f);
/* coord_fanout_release - free the answers. */
void coord_fanout_release(struct coord_fanout *f);
/* coord_fanout_first_error - the first entry (in order) that failed, or NULL. */
const struct coord_fanout_entry *coord_fanout_first_error(const struct coord_fanout *f);
/* coord_call_fail_entry - answer @call with the failure of @e (ENODEV if it is down). */
void coord_call_fail_entry(struct coord_call *call, const struct coord_fanout_entry *e);

/* ---- handlers; each answers its call exactly once */
void coord_cmd_hello(struct coord_call *call, const Numasim__Request *req);
void coord_cmd_ping(struct coord_call *call, const Numasim__Request *req);
void coord_cmd_sysctl_get(struct coord_call *call, const Numasim__Request *req);
void coord_cmd_sysctl_set(struct coord_call *call, const Numasim__Request *req);
void coord_cmd_alloc_pages(struct coord_call *call, const Numasim__Request *req);
void coord_cmd_free_pages(struct coord_call *call, const Numasim__Request *req);
void coord_cmd_kmalloc(struct coord_call *call, const Numasim__Request *req);
void coord_cmd_addr_op(struct coord_call *call, const Numasim__Request *req);
void coord_cmd_cache_op(struct coord_call *call, const Numasim__Request *req);

/*
 * coord_clock - the coordinator's clock for its statistics, in ns: read once per socket read
 * (and per timer tick), not per request; a request's latency runs from the read that brought
 * it to the read that completed it.
 */
static inline uint64_t coord_clock(const struct coord *co)
{
	return co->now_ns;
}

/* coord_clock_tick - read the clock: at the start of every callback that may answer. */
static inline void coord_clock_tick(struct coord *co)
{
	co->now_ns = uv_hrtime();
}
void coord_cmd_view(struct coord_call *call, const Numasim__Request *req);
void coord_cmd_node_stats(struct coord_call *call, const Numasim__Request *req);

/* coord_forward_reply - answer @call with a node's Response as it is. */
void coord_forward_reply(struct coord_call *call, Numasim__Response *resp);

/* coord_request_init - a Request envelope for a node. */
void coord_request_init(Numasim__Request *req);

#endif
