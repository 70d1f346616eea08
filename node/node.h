/* SPDX-License-Identifier: MIT */
/*
 * node.h - the numasim-node daemon: one simulated NUMA node (a pg_data_t of node/mm) served
 * over the wire protocol to the coordinator, and read-only to direct clients.
 *
 * Layers (as Redis's loop -> connection -> frame -> dispatch -> handler):
 *   link.c        the connection to the coordinator: connect with backoff, register, boot
 *                 or keep the machine, reconnect when it drops
 *   dispatch.c    peers, frames in, version check, the op table lookup, the central checks,
 *                 jobs out to the workers, answers back in and out on the wire
 *   workers.c     one thread per simulated CPU plus one control thread, each with a locked
 *                 job queue; finished jobs go back to the loop through one uv_async_t
 *   config.c      MachineConfig -> struct machine_config (pure)
 *   boot.c        machine_new() and the sysctls on the control worker, the old machine freed
 *   handlers*.c   one function per request body; they call node/mm and fill the reply
 *
 * Threads: the loop thread owns every struct node_peer, the parked jobs, the counters and
 * the wire; it never calls into node/mm (ping is answered from its own clock). A job belongs
 * to the loop until it is pushed to a worker, to that worker until it is pushed to the
 * results queue, then to the loop again. Handlers run on workers and touch only their job
 * and the machine.
 *
 * Lock order (outermost first): node_worker.lock, node_results.lock (never both held);
 * node/mm's own locks are taken inside handlers with neither held.
 */
#ifndef NUMASIM_NODE_NODE_H
#define NUMASIM_NODE_NODE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "mm.h"
#include "net.h"
#include "nsim.h"
#include "seq_file.h"
#include "slab.h"

#define NODE_VERSION "numasim-node 0.1.0"
#define NODE_BACKOFF_MIN_MS 200	 /* first reconnection delay */
#define NODE_BACKOFF_MAX_MS 2000 /* cap of the doubling delay */
#define NODE_LINK_IDLE_MS 5000 /* a coordinator silent this long is gone (it pings every 500 ms) */

struct node_daemon;
struct node_job;
struct node_peer;

/* ------------------------------------------------------------------ ops (handlers*.c) */

#define NODE_OP_LOOP 0x1u     /* answered on the loop thread (no node/mm) */
#define NODE_OP_CPU 0x2u      /* runs on the worker of the CPU the request names */
#define NODE_OP_READONLY 0x4u /* also served on direct (--listen) connections */
#define NODE_OP_SLAB 0x8u     /* needs the slab layer (a node with lowmem) */

struct node_op {
	Numasim__Request__BodyCase body;       /* request body it serves */
	const char *name;		       /* for messages */
	unsigned int flags;		       /* NODE_OP_* */
	void (*handler)(struct node_job *job); /* fills job->reply */
	void (*undo)(struct node_job *job);    /* frees what it allocated (NULL: none) */
};

/* One entry of an op table (the tables end with an entry whose name is NULL). */
#define NODE_OP(body_, name_, flags_, handler_, undo_)                                  \
	{                                                                               \
		.body = NUMASIM__REQUEST__BODY_##body_, .name = name_, .flags = flags_, \
		.handler = handler_, .undo = undo_                                      \
	}

extern const struct node_op node_slab_ops[]; /* handlers_slab.c */

/* node_op_find - the op serving @body, NULL if this daemon does not serve it. */
const struct node_op *node_op_find(Numasim__Request__BodyCase body);

/* node_request_cpu - the CPU a NODE_OP_CPU request names. */
int node_request_cpu(const Numasim__Request *req);

/* node_status_of_errno - the wire status for a negative errno of node/mm. */
Numasim__Status node_status_of_errno(int err);

/* ------------------------------------------------------------------ jobs and replies */

/* The answer to one request, built by its handler, packed by the loop. */
struct node_reply {
	Numasim__Response resp; /* envelope: id, status, message, body */
	union {			/* resp body, by resp.body_case */
		Numasim__AllocPagesReply alloc;
		Numasim__AddrReply addr;
		Numasim__CacheCreateReply cache;
		Numasim__CountReply count;
		Numasim__SysctlReply sysctl;
		Numasim__ViewReply view;
		Numasim__NodeStatsReply stats;
		Numasim__Pong pong;
		Numasim__HelloReply hello;
	};
	Numasim__ZoneTried tried;	/* alloc.tried[0] */
	Numasim__ZoneTried *tried_v[1]; /* alloc.tried */
	Numasim__NodeStat stat;		/* stats.nodes[0] */
	Numasim__NodeStat *stat_v[1];	/* stats.nodes */
	struct seq_file text;		/* view text */
	/* strings, written before anything points at them: a new job leaves them as they are */
	char msg[MM_ERRLEN];		 /* resp.message */
	char name[128];			 /* cache or sysctl name */
	char name2[KMEM_CACHE_NAME_LEN]; /* merged_into */
	char value[MM_ERRLEN];		 /* sysctl value, validate message */
};

enum node_job_kind {
	NODE_JOB_REQUEST, /* a request of a peer */
	NODE_JOB_BOOT,	  /* tear down the old machine, boot the new one */
	NODE_JOB_SYSCTLS, /* apply a config's sysctls to the machine kept */
};

/* What a boot or sysctls job gets and gives back (owned by the job). */
struct node_boot {
	Numasim__Response *msg;	      /* the RegisterReply: msg->register_->config */
	struct machine *old_m;	      /* machine to free first (may be NULL) */
	struct node_pool *old_pool;   /* its CPU workers, stopped first (may be NULL) */
	struct node_results *results; /* where the new CPU workers send finished jobs */
	bool cpu_threads;	      /* start CPU workers (else CPU jobs run on the loop) */
	struct machine *m;	      /* out: the new machine */
	struct node_pool *pool;	      /* out: its CPU workers */
	int ret;		      /* out: 0 or a negative errno */
	char err[MM_ERRLEN];	      /* out: why it failed */
};

struct node_job {
	struct node_job *next;	  /* queue link */
	enum node_job_kind kind;  /* request, boot or sysctls */
	struct node_peer *peer;	  /* who asked (loop thread only; NULL for boot) */
	Numasim__Request *req;	  /* the request, freed by the loop after the answer */
	const struct node_op *op; /* its handler */
	struct machine *m;	  /* machine it runs on */
	int nid;		  /* node this daemon holds */
	bool undo;		  /* run op->undo: the answer could not be delivered */
	bool req_scratch;	  /* req lies in d->scratch: copied by job_keep() if kept */
	bool on_worker;		  /* out on a CPU worker (counted in cpu_inflight) */
	struct node_reply reply;  /* the answer (its strings last) */
	struct node_boot boot;	  /* NODE_JOB_BOOT and NODE_JOB_SYSCTLS only */
};

/*
 * node_reply_set - set the status of @job's answer and, with @fmt, its one-line message
 * (lowercase, no full stop). Keeps the body already set.
 */
void node_reply_set(struct node_job *job, Numasim__Status status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* node_reply_count - a CountReply body (@message copied, may be NULL). */
void node_reply_count(struct node_job *job, uint64_t count, const char *message);

/* node_job_run - run @job on the calling worker (handler, or boot). */
void node_job_run(struct node_job *job);

/* ------------------------------------------------------------------ workers (workers.c) */

/* A FIFO of jobs linked through job->next (locking is its owner's business). */
struct node_jobq {
	struct node_job *head, *tail; /* oldest, newest; both NULL when empty */
};

/* node_jobq_append - append the list @head..@tail (tail->next == NULL). */
void node_jobq_append(struct node_jobq *q, struct node_job *head, struct node_job *tail);
/* node_jobq_push - append one job. */
void node_jobq_push(struct node_jobq *q, struct node_job *job);
/* node_jobq_take - the whole list, oldest first (its newest in *@tail if not NULL). */
struct node_job *node_jobq_take(struct node_jobq *q, struct node_job **tail);

struct node_results {
	pthread_mutex_t lock; /* protects q */
	struct node_jobq q;   /* finished jobs */
	uv_async_t async;     /* wakes the loop (sends coalesce) */
};

struct node_worker {
	pthread_t thread;	      /* the worker */
	pthread_mutex_t lock;	      /* protects q and stop */
	pthread_cond_t wake;	      /* signalled on push and stop */
	struct node_jobq q;	      /* queued jobs */
	bool stop;		      /* exit after the current job */
	struct node_results *results; /* where finished jobs go */
	bool started;		      /* thread is running */
	struct node_jobq staged;      /* loop thread only: jobs for the next push */
};

/* One worker per simulated CPU of a booted machine. */
struct node_pool {
	int ncpus;		 /* workers */
	struct node_worker *cpu; /* [ncpus] */
};

int node_results_init(struct node_results *r, uv_loop_t *loop, uv_async_cb cb, void *data);
void node_results_push(struct node_results *r, struct node_job *job);
/* node_results_take - every finished job, oldest first (the queue is left empty). */
struct node_job *node_results_take(struct node_results *r);

int node_worker_start(struct node_worker *w, struct node_results *results);
void node_worker_push(struct node_worker *w, struct node_job *job);

/*
 * node_worker_stage - (loop thread) put @job on @w's staged list; node_worker_flush() hands
 * the whole list over in one push, so a burst of requests read at once costs each worker
 * one lock round and one wake-up.
 */
void node_worker_stage(struct node_worker *w, struct node_job *job);
void node_worker_flush(struct node_worker *w);
/*
 * node_worker_stop - stop and join; returns the jobs it never ran (queued or staged),
 * oldest first. On a stopped worker it returns what was staged since.
 */
struct node_job *node_worker_stop(struct node_worker *w);

/* node_pool_new - start @ncpus workers; NULL if a thread could not start. */
struct node_pool *node_pool_new(int ncpus, struct node_results *results);
/* node_pool_free - stop, join and free; returns the jobs never run. NULL is a no-op. */
struct node_job *node_pool_free(struct node_pool *pool);

/* ------------------------------------------------------------------ boot (config.c, boot.c) */

/*
 * node_config_build - the machine @mc describes, with @nid as the node this process holds.
 * 0, or -EINVAL with @err (MM_ERRLEN) saying which field is wrong.
 */
int node_config_build(struct machine_config *cfg, const Numasim__MachineConfig *mc, int nid,
		      char *err);

/* node_boot_run - a NODE_JOB_BOOT on the control worker. */
void node_boot_run(struct node_job *job);

/* node_sysctls_run - a NODE_JOB_SYSCTLS: the config's sysctls, in order, on job->m. */
void node_sysctls_run(struct node_job *job);

/* ------------------------------------------------------------------ the daemon */

struct node_peer {
	struct node_daemon *d;	       /* owner */
	struct nsim_conn *conn;	       /* NULL once closed */
	bool coordinator;	       /* the link to the coordinator, else a --listen client */
	bool registered;	       /* coordinator: RegisterReply seen, Requests follow */
	bool greeted;		       /* its first Request was checked */
	int refs;		       /* 1 while open, +1 per job in flight */
	struct node_peer *prev, *next; /* daemon's list of peers */
};

struct node_counters {
	uint64_t requests;	   /* Requests decoded */
	uint64_t bad_frames;	   /* frames that did not decode */
	uint64_t oversize;	   /* frames above the cap */
	uint64_t version_mismatch; /* peers with another protocol version */
	uint64_t unknown_ops;	   /* bodies this daemon does not serve */
	uint64_t undone;	   /* allocations freed: their answer had nowhere to go */
};

#define NODE_JOBS_KEPT 1024 /* request jobs kept for reuse */

struct node_daemon {
	uv_loop_t *loop;	 /* the loop */
	int nid;		 /* --id */
	const char *coord_addr;	 /* --coordinator */
	const char *listen_addr; /* --listen (NULL: none) */
	bool cpu_threads;	 /* --cpu-threads: a worker per simulated CPU */
	uint64_t start_ns;	 /* uv_hrtime() at start */

	uv_timer_t retry;		/* next connection attempt */
	uv_timer_t idle;		/* checks that the coordinator is still talking */
	uint64_t link_rx_ms;		/* loop time of the coordinator's last frame */
	unsigned int backoff_ms;	/* delay before the next attempt */
	bool retry_logged;		/* "not answering" said once per outage */
	struct node_peer *link;		/* the coordinator connection (NULL: none) */
	uint64_t register_id;		/* id of our Register request */
	uint64_t next_id;		/* request ids we send */
	uint8_t *cfg_packed;		/* shape booted (MachineConfig, no sysctls) */
	size_t cfg_len;			/* its length */
	Numasim__Response *pending_reg; /* the last config that came in while booting */

	union nsim_sock listener;    /* --listen */
	bool listening;		     /* listener open */
	uv_signal_t sigterm, sigint; /* shutdown */

	struct node_results results; /* finished jobs */
	struct node_worker ctl;	     /* control worker: views, sysctls, boot */
	struct node_pool *pool;	     /* CPU workers (NULL: CPU jobs run inline) */
	struct machine *m;	     /* booted machine (NULL while booting) */
	int nr_nodes, ncpus;	     /* of the booted machine (0 before) */
	bool booting;		     /* a boot job is out */
	struct node_jobq parked;     /* coordinator requests waiting (boot, drain) */
	int cpu_inflight;	     /* jobs out on CPU workers */
	bool draining;		     /* a restore waits for cpu_inflight == 0 */
	bool restoring;		     /* a restore is out on the control worker */

	struct nsim_arena scratch;  /* decodes the request of the frame being handled */
	struct nsim_pool job_pool;  /* request jobs */
	struct node_peer *peers;    /* open and closing peers */
	struct node_counters stats; /* loop thread only */
	bool stopping;		    /* shutdown started */
	int exit_code;		    /* process exit status */
};

/* Logging (main.c): "numasim-node[N]: ..." on stderr, once per event, loop thread or main. */
void node_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void node_log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* node.c: lifecycle. */
int node_daemon_init(struct node_daemon *d, uv_loop_t *loop);
/* node_daemon_stop - close everything; @code becomes the exit status. Idempotent. */
void node_daemon_stop(struct node_daemon *d, int code);
uint64_t node_uptime_ms(const struct node_daemon *d);

/* link.c: the coordinator connection. */
void node_link_start(struct node_daemon *d);
void node_link_lost(struct node_daemon *d);
void node_link_on_frame(struct node_peer *p, const uint8_t *payload, size_t len);
void node_link_booted(struct node_daemon *d, struct node_job *job);
void node_link_sysctls_done(struct node_job *job);
void node_link_release(struct node_daemon *d);

/* dispatch.c: peers, requests, answers. */
extern const struct nsim_conn_ops node_conn_ops;
struct node_peer *node_peer_new(struct node_daemon *d, struct nsim_conn *c, bool coordinator);
void node_dispatch_frame(struct node_peer *p, const uint8_t *payload, size_t len);
void node_dispatch_parked(struct node_daemon *d);
void node_results_cb(uv_async_t *async);
/*
 * node_jobs_flush - hand every staged job to its worker. Called at the end of each callback
 * that stages (a read, a results batch) and before anything that stops or replaces workers.
 */
void node_jobs_flush(struct node_daemon *d);
/* node_job_release - free a job and its request, drop its peer reference (loop thread). */
void node_job_release(struct node_job *job);
/* node_jobs_abandon - answer ENODEV to every job of @list (never run), release them. */
void node_jobs_abandon(struct node_job *list);
/* node_send_error - answer @id with @status and close the peer (bad input). */
void node_send_error(struct node_peer *p, uint64_t id, Numasim__Status status, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
