/* SPDX-License-Identifier: MIT */
/*
 * bench.h - `numasim bench`, the load generator (like redis-benchmark and memtier_benchmark):
 * its modules, their data and how they fit together.
 *
 *   dist.c      seeded random numbers and weighted distributions (--orders, --sizes, the mix)
 *   hist.c      a log-linear latency histogram whose percentiles are within 1% of the truth
 *   rate.c      the open-loop schedule of intended send times (--rate)
 *   workload.c  what one connection asks next: the op mix, object lifetimes, the fragment
 *               pattern, the frees of the teardown
 *   trace.c     one operation as a line of text (--record, --replay)
 *   wire.c      an operation as a protobuf Request, a Response as its result
 *   json.c      a small JSON reader for the views' --json output
 *   frag.c      snapshots (buddyinfo, numastat, node_stats) and mm/vmstat.c's unusable free
 *               space index and fragmentation (extfrag) index
 *   stats.c     counters of a run: per op, per status, ENOMEM per gfp mask, histograms
 *   report.c    the final summary as text, JSON or CSV, and the histogram file
 *   loop.c      threads, connections, pipelining, the progress line (network)
 *   replay.c    --replay: a trace in order, one connection per recorded connection (network)
 *
 * Everything but loop.c and replay.c is free of sockets and forms libnumasim_bench, which the
 * unit tests link; the network modules and client/cmd_bench.c live in the numasim binary.
 *
 * Names: bench_ for what these files export; everything else is static.
 */
#ifndef NUMASIM_CLIENT_BENCH_H
#define NUMASIM_CLIENT_BENCH_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "numasim.pb-c.h"

#define BENCH_NR_ORDERS 11    /* buddy orders 0..10 (NR_PAGE_ORDERS of Linux 6.1) */
#define BENCH_PAGE_SIZE 4096u /* x86-32 */
#define BENCH_MAX_NODES 64    /* MAX_NUMNODES */
#define BENCH_MAX_ZONES 256   /* zones of a snapshot (nodes x zone types) */
#define BENCH_NR_STATUS 16    /* Numasim__Status values counted (0..15) */
#define BENCH_CACHE_NAME 48   /* bytes of a cache name, with its NUL */
#define BENCH_MAX_CACHES 16   /* --caches entries */
#define BENCH_TRACE_LINE 1024 /* longest trace line (every gfp flag by name fits) */

/* ------------------------------------------------------------------ dist.c */

/* xoshiro256** seeded through splitmix64: fast, 256 bits of state, reproducible by seed. */
struct bench_rng {
	uint64_t s[4]; /* state; never all zero */
};

void bench_rng_seed(struct bench_rng *r, uint64_t seed);
uint64_t bench_rng_next(struct bench_rng *r);

/* bench_rng_below - uniform in [0, @n) without modulo bias; 0 when @n is 0. */
uint64_t bench_rng_below(struct bench_rng *r, uint64_t n);

/* bench_mix64 - splitmix64's finaliser: a seed for stream @i of run seed @seed. */
uint64_t bench_mix64(uint64_t seed, uint64_t i);

struct bench_dist_entry {
	uint64_t lo;	 /* smallest value */
	uint64_t hi;	 /* largest value (== lo for a single value) */
	uint64_t weight; /* relative frequency of the entry */
};

/*
 * A weighted distribution: an entry is picked with probability weight / total, then a value
 * uniformly in [lo, hi]. Invariant: cum[i] == weight[0] + ... + weight[i], total == cum[n-1] > 0.
 */
struct bench_dist {
	struct bench_dist_entry *e; /* entries */
	uint64_t *cum;		    /* cumulative weights */
	size_t n;		    /* entries */
	uint64_t total;		    /* sum of the weights */
};

#define BENCH_DIST_SIZES 0x1 /* values take size suffixes: 64, 4K, 0x1000 */

/*
 * bench_dist_parse - "VALUE[:WEIGHT],..." where VALUE is N or LO-HI (default weight 1), every
 * value within [@min, @max]: "0:70,1:10,3:15,9:5", "16-4096", "64:50,1K-2K:50". 0, or -EINVAL
 * with *@why (may be NULL) saying what is wrong; @d is then empty.
 */
int bench_dist_parse(struct bench_dist *d, const char *spec, uint64_t min, uint64_t max,
		     unsigned int flags, const char **why);

/* bench_dist_add - append an entry (building a distribution in code). */
void bench_dist_add(struct bench_dist *d, uint64_t lo, uint64_t hi, uint64_t weight);

uint64_t bench_dist_sample(const struct bench_dist *d, struct bench_rng *r);
void bench_dist_release(struct bench_dist *d);

/* bench_dist_format - back to the "VALUE:WEIGHT,..." syntax. */
void bench_dist_format(const struct bench_dist *d, char *buf, size_t len);

/* bench_dist_max - the largest value the distribution can give (0 if empty). */
uint64_t bench_dist_max(const struct bench_dist *d);

/* ------------------------------------------------------------------ hist.c */

/*
 * Log-linear buckets over nanoseconds: values below 2 * BENCH_HIST_SUB are exact; above, each
 * power of two [2^e, 2^(e+1)) is cut into BENCH_HIST_SUB equal buckets, so a bucket's width is
 * at most 1/BENCH_HIST_SUB of its lower bound. Reporting a bucket's midpoint (clamped to the
 * exact min and max) is then within 1/(2 * BENCH_HIST_SUB) = 0.4% of any value in it.
 * Values at or above 2^BENCH_HIST_MAX_BITS ns (18 minutes) land in the last bucket.
 */
#define BENCH_HIST_SUB_BITS 7
#define BENCH_HIST_SUB (1u << BENCH_HIST_SUB_BITS)
#define BENCH_HIST_EXACT (2u * BENCH_HIST_SUB)
#define BENCH_HIST_MAX_BITS 40
#define BENCH_HIST_BUCKETS \
	(BENCH_HIST_EXACT + (BENCH_HIST_MAX_BITS - BENCH_HIST_SUB_BITS - 1) * BENCH_HIST_SUB)

struct bench_hist {
	uint64_t n;			     /* values recorded */
	uint64_t sum;			     /* their sum, ns */
	uint64_t min;			     /* smallest (UINT64_MAX when empty) */
	uint64_t max;			     /* largest */
	uint64_t counts[BENCH_HIST_BUCKETS]; /* values per bucket */
};

void bench_hist_init(struct bench_hist *h);
void bench_hist_record(struct bench_hist *h, uint64_t ns);
void bench_hist_merge(struct bench_hist *dst, const struct bench_hist *src);

/* bench_hist_rank - the nearest rank of percentile @p of @n values: ceil(p/100 * n), >= 1. */
uint64_t bench_hist_rank(double p, uint64_t n);

/* bench_hist_percentile - the value of nearest rank bench_hist_rank(@p) (0 when empty). */
uint64_t bench_hist_percentile(const struct bench_hist *h, double p);
double bench_hist_mean(const struct bench_hist *h);

/* Bucket geometry: index of a value, lowest value of a bucket, its reported value. */
unsigned int bench_hist_bucket(uint64_t ns);
uint64_t bench_hist_bucket_low(unsigned int b);
uint64_t bench_hist_bucket_value(const struct bench_hist *h, unsigned int b);

/* bench_hist_write - "value_us count" per non-empty bucket, ascending. */
void bench_hist_write(const struct bench_hist *h, FILE *out);

/* ------------------------------------------------------------------ rate.c */

/*
 * The open-loop schedule: @nstreams connections share @ops_per_sec; stream i sends request k
 * at start + (i + k * nstreams) / rate seconds, so together they are evenly spaced and no
 * stream's schedule drifts (every time is computed from its index, in integers).
 */
struct bench_rate {
	uint64_t start_ns;   /* time of request 0 of stream 0 */
	uint64_t rate_milli; /* requests per 1000 s of the whole schedule */
	uint64_t stream;     /* this stream's place in the interleave */
	uint64_t nstreams;   /* streams sharing the rate */
	uint64_t k;	     /* next request of this stream */
};

void bench_rate_init(struct bench_rate *r, uint64_t start_ns, double ops_per_sec,
		     unsigned int stream, unsigned int nstreams);
uint64_t bench_rate_at(const struct bench_rate *r, uint64_t k); /* intended time of request k */
uint64_t bench_rate_peek(const struct bench_rate *r);		/* of the next request */
uint64_t bench_rate_take(struct bench_rate *r);			/* the same, and advance */

/* ------------------------------------------------------------------ operations (trace.c) */

enum bench_opcode {
	BENCH_OP_ALLOC_PAGES,
	BENCH_OP_FREE_PAGES,
	BENCH_OP_KMALLOC,
	BENCH_OP_KFREE,
	BENCH_OP_CACHE_CREATE,
	BENCH_OP_CACHE_ALLOC,
	BENCH_OP_CACHE_FREE,
	BENCH_OP_CACHE_DESTROY,
	NR_BENCH_OPS
};

struct bench_policy {
	Numasim__Policy mode; /* local, preferred, bind, interleave */
	int preferred;	      /* POLICY_PREFERRED */
	uint64_t nodemask;    /* POLICY_BIND, POLICY_INTERLEAVE */
};

/* One request and, once answered, its result. Fields an opcode does not use stay 0. */
struct bench_op {
	uint64_t seq;		      /* place in the trace (0 until recorded) */
	int conn;		      /* connection number */
	enum bench_opcode code;	      /* what it is */
	unsigned int gfp;	      /* allocations */
	unsigned int order;	      /* alloc_pages, free_pages */
	int cpu;		      /* the simulated CPU asking */
	int node;		      /* kmalloc, cache_alloc: -1 any, else *_node() */
	uint64_t size;		      /* kmalloc, cache_create */
	uint32_t align;		      /* cache_create */
	uint32_t flags;		      /* cache_create: SLAB_* */
	struct bench_policy policy;   /* alloc_pages */
	char cache[BENCH_CACHE_NAME]; /* cache ops */
	int cache_idx;		      /* workload's cache number (not traced) */
	uint64_t handle;	      /* frees: the pfn or address given back */
	int status;		      /* Numasim__Status of the answer, -1 before it */
	uint64_t result;	      /* allocations: the pfn or address returned */
	uint64_t result_size;	      /* kmalloc/cache_alloc: ksize() (not traced) */
};

const char *bench_op_name(enum bench_opcode code);
bool bench_op_allocates(enum bench_opcode code); /* alloc_pages, kmalloc, cache_alloc */
bool bench_op_frees(enum bench_opcode code);	 /* free_pages, kfree, cache_free */

/* bench_status_name - "OK", "ENOMEM", ... for any int (out of range: "UNKNOWN_STATUS"). */
const char *bench_status_name(int status);

#define BENCH_TRACE_HEADER "# numasim bench trace 1"

/*
 * bench_trace_format - one line, without the newline:
 *   SEQ CONN OP KEY=VALUE... = STATUS [pfn=0x...|addr=0x...]
 * e.g. "12 0 alloc_pages order=3 gfp=GFP_KERNEL cpu=0 policy=local = OK pfn=0x1f208".
 * The length written (truncated output when @len is too small, as snprintf).
 */
int bench_trace_format(const struct bench_op *op, char *buf, size_t len);

/*
 * bench_trace_parse - a line back into @op. 0; 1 for a blank line or a comment (#...);
 * -EINVAL for anything else, with *@why (may be NULL) naming the problem.
 */
int bench_trace_parse(const char *line, struct bench_op *op, const char **why);

/* bench_policy_format / _parse - "local", "preferred:N", "bind:0xMASK", "interleave:0xMASK". */
void bench_policy_format(const struct bench_policy *p, char *buf, size_t len);
int bench_policy_parse(const char *s, struct bench_policy *p);

/* ------------------------------------------------------------------ wire.c */

/* The storage of one Request built from an op (caller's, alive until the Request is packed). */
struct bench_wire {
	Numasim__Request req;
	union {
		Numasim__AllocPages alloc_pages;
		Numasim__FreePages free_pages;
		Numasim__Kmalloc kmalloc;
		Numasim__Kfree kfree;
		Numasim__CacheCreate cache_create;
		Numasim__CacheAlloc cache_alloc;
		Numasim__CacheFree cache_free;
		Numasim__CacheName cache_name;
	} u;
};

/* bench_wire_request - @w->req asks for @op (version and id left to the sender). */
void bench_wire_request(struct bench_wire *w, const struct bench_op *op);

/*
 * bench_wire_result - the answer to @op: op->status, and for a successful allocation
 * op->result (pfn or address) and op->result_size. 0, or -EPROTO when an OK answer lacks the
 * body the op expects.
 */
int bench_wire_result(struct bench_op *op, const Numasim__Response *resp);

/* ------------------------------------------------------------------ workload.c */

enum bench_kind { BENCH_PAGES, BENCH_KMALLOC, BENCH_SLAB, NR_BENCH_KINDS };

enum bench_life {
	BENCH_FREE_NOW,	  /* free each object as soon as it is allocated */
	BENCH_FREE_AFTER, /* free it after N more operations of its connection */
	BENCH_HOLD,	  /* keep objects until the connection holds its share of --hold */
};

struct bench_cache {
	char name[BENCH_CACHE_NAME]; /* kmem_cache_create() name */
	uint32_t size;		     /* object size asked for */
	uint32_t objsize;	     /* what the server made of it (0 until created) */
	uint64_t weight;	     /* share of the slab ops */
};

/* The workload of a run: read-only once the connections start. */
/*
 * The fragment pattern's fill, shared by every connection of the run: one ENOMEM ends every
 * connection's fill, and no connection splits before all have stopped filling (or a page
 * one connection frees would be taken again by another's fill).
 */
struct bench_fill_sync {
	atomic_bool stop;    /* a connection's fill met ENOMEM (or its share) */
	atomic_uint filling; /* connections not yet through FILL_WAIT */
};

struct bench_workload {
	uint64_t mix[NR_BENCH_KINDS];		     /* weights of pages, kmalloc, slab */
	struct bench_dist kinds;		     /* built from mix by bench_workload_finish() */
	struct bench_dist orders;		     /* alloc_pages orders */
	struct bench_dist sizes;		     /* kmalloc sizes */
	struct bench_dist cache_pick;		     /* cache numbers by weight */
	struct bench_cache caches[BENCH_MAX_CACHES]; /* --caches */
	int nr_caches;				     /* entries of caches[] */
	unsigned int gfp;			     /* --gfp of every allocation */
	enum bench_life life;			     /* --free / --hold */
	uint64_t after;				     /* BENCH_FREE_AFTER: N */
	uint64_t hold_bytes;	      /* BENCH_HOLD (and fragment fill): per connection */
	struct bench_policy policy;   /* --policy */
	bool fragment;		      /* the fill/split/probe pattern */
	struct bench_fill_sync *fill; /* fragment: shared by the connections (NULL: each alone) */
};

/*
 * bench_workload_share_fill - make the fragment pattern's fill common to @nconns
 * connections (freed by bench_workload_release).
 */
void bench_workload_share_fill(struct bench_workload *wl, unsigned int nconns);

/* bench_workload_finish - derive the kinds and cache_pick distributions. 0 or -EINVAL. */
int bench_workload_finish(struct bench_workload *wl);
void bench_workload_release(struct bench_workload *wl);

/* An object a connection holds. */
struct bench_obj {
	uint64_t handle; /* pfn (pages) or address (objects) */
	uint64_t bytes;	 /* memory it holds */
	uint64_t due;	 /* BENCH_FREE_AFTER: the op count at which it is freed */
	uint16_t cache;	 /* slab: cache number */
	uint8_t kind;	 /* enum bench_kind */
	uint8_t order;	 /* pages: order */
};

/* A FIFO of objects (a ring that grows). */
struct bench_objq {
	struct bench_obj *v; /* storage */
	size_t head;	     /* index of the oldest */
	size_t len;	     /* objects queued */
	size_t cap;	     /* slots of v (a power of two) */
};

enum bench_phase {
	BENCH_PHASE_RUN,       /* the op mix */
	BENCH_PHASE_FILL,      /* fragment: order-0 allocations until ENOMEM or the target */
	BENCH_PHASE_FILL_WAIT, /* fragment: the fill's last answers */
	BENCH_PHASE_SPLIT,     /* fragment: free every held page whose pfn is even */
	BENCH_PHASE_PROBE,     /* fragment: high-order allocations, freed at once */
};

/*
 * One connection's workload. Invariants: held_bytes == sum of held[].bytes; an object is in
 * held, in to_free, or in flight, never two of them.
 */
struct bench_wl {
	const struct bench_workload *cfg; /* the run's workload */
	struct bench_rng rng;		  /* this connection's random numbers */
	int conn;			  /* connection number */
	int cpu;			  /* the simulated CPU it runs on */
	struct bench_objq held;		  /* objects held, oldest first */
	struct bench_objq to_free;	  /* objects due for freeing, in order */
	uint64_t issued;		  /* ops handed out */
	uint64_t held_bytes;		  /* bytes held */
	unsigned int inflight;		  /* ops handed out and not yet done */
	enum bench_phase phase;		  /* where it is */
	bool fill_stop;			  /* fragment: the fill is over */
	bool fill_counted;		  /* fragment: left cfg->fill->filling */
	bool teardown;			  /* freeing everything, allocating nothing */
};

void bench_wl_init(struct bench_wl *w, const struct bench_workload *cfg, int conn, int cpu,
		   uint64_t seed);
void bench_wl_release(struct bench_wl *w);

/*
 * bench_wl_next - the op to send now, if any: false when the connection must wait for
 * answers (or, in teardown, has nothing left to free). @teardown switches the connection to
 * freeing everything it holds and never allocating again.
 */
bool bench_wl_next(struct bench_wl *w, bool teardown, struct bench_op *op);

/* bench_wl_done - @op (from bench_wl_next) was answered: op->status, op->result. */
void bench_wl_done(struct bench_wl *w, const struct bench_op *op);

/* bench_wl_idle - in teardown, nothing held, nothing queued, nothing in flight. */
bool bench_wl_idle(const struct bench_wl *w);

/* ------------------------------------------------------------------ stats.c */

#define BENCH_ENOMEM_MASKS 16 /* distinct gfp masks counted separately */

struct bench_op_stats {
	uint64_t requests;	/* answered */
	uint64_t ok;		/* answered OK */
	struct bench_hist hist; /* latencies */
};

struct bench_stats {
	struct bench_op_stats op[NR_BENCH_OPS];	     /* per opcode */
	struct bench_hist all;			     /* every latency */
	uint64_t by_status[BENCH_NR_STATUS];	     /* answers by status (OK included) */
	unsigned int enomem_gfp[BENCH_ENOMEM_MASKS]; /* gfp masks of ENOMEM answers */
	uint64_t enomem_count[BENCH_ENOMEM_MASKS];   /* ENOMEM answers per mask */
	int nr_enomem;				     /* masks seen */
	uint64_t enomem_other;			     /* ENOMEM beyond the table */
	uint64_t unexpected;			     /* failures not allowed */
	uint64_t setup;	   /* cache creations before the run (not in op[]) */
	uint64_t cleanup;  /* teardown frees, cache destructions (not in op[]) */
	uint64_t diverged; /* replay: answers unlike the trace */
	char reason[256];  /* the first unexpected failure */
};

struct bench_stats *bench_stats_new(void);
void bench_stats_free(struct bench_stats *s);

/*
 * bench_stats_add - one answer. @expected: a failure that does not count as unexpected.
 * @message: the server's message (may be NULL), for the reason of the first failure.
 */
void bench_stats_add(struct bench_stats *s, const struct bench_op *op, uint64_t latency_ns,
		     bool expected, const char *message);

/*
 * bench_stats_aside - the answer to an op outside the measured run (a cache creation, a
 * teardown free, a cache destruction): counted as setup or cleanup, not in the latencies or
 * the per-op table; a failure is unexpected.
 */
void bench_stats_aside(struct bench_stats *s, const struct bench_op *op, const char *message);

/* bench_stats_fail - an unexpected failure that is not an answer (replay divergence...). */
void bench_stats_fail(struct bench_stats *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void bench_stats_merge(struct bench_stats *dst, const struct bench_stats *src);
uint64_t bench_stats_requests(const struct bench_stats *s);
uint64_t bench_stats_errors(const struct bench_stats *s); /* answers other than OK */

/* bench_gfp_class - how an ENOMEM's mask is reported: "GFP_KERNEL", "GFP_USER|__GFP_DMA". */
void bench_gfp_class(unsigned int gfp, char *buf, size_t len);

/* ------------------------------------------------------------------ json.c */

enum bench_json_type { BJ_NULL, BJ_BOOL, BJ_NUM, BJ_STR, BJ_ARR, BJ_OBJ };

struct bench_json {
	enum bench_json_type type; /* kind of value */
	bool b;			   /* BJ_BOOL */
	double num;		   /* BJ_NUM */
	int64_t inum;		   /* BJ_NUM, exact when the text is an integer */
	char *str;		   /* BJ_STR */
	struct bench_json **items; /* BJ_ARR, BJ_OBJ: values */
	char **keys;		   /* BJ_OBJ: keys */
	size_t n;		   /* BJ_ARR, BJ_OBJ: members */
};

/* bench_json_parse - the whole text as one value, or NULL if it is not JSON. */
struct bench_json *bench_json_parse(const char *text);
void bench_json_free(struct bench_json *j);
const struct bench_json *bench_json_get(const struct bench_json *obj, const char *key);
int64_t bench_json_int(const struct bench_json *j, int64_t dflt); /* a number, else @dflt */

/* ------------------------------------------------------------------ frag.c */

enum {
	BENCH_NUMA_HIT,
	BENCH_NUMA_MISS,
	BENCH_NUMA_FOREIGN,
	BENCH_INTERLEAVE_HIT,
	BENCH_LOCAL_NODE,
	BENCH_OTHER_NODE,
	BENCH_NR_NUMA
};

extern const char *const bench_numa_names[BENCH_NR_NUMA]; /* as numastat prints them */

struct bench_zone_free {
	int node;			   /* node id */
	char zone[16];			   /* "DMA", "Normal", "HighMem" */
	uint64_t nr_free[BENCH_NR_ORDERS]; /* free blocks per order (buddyinfo) */
};

struct bench_node_numa {
	int node;		   /* node id */
	uint64_t v[BENCH_NR_NUMA]; /* numastat counters */
};

struct bench_node_stat {
	int node;	    /* node id */
	bool up;	    /* answered */
	uint64_t managed;   /* pages */
	uint64_t free;	    /* pages on the buddy lists */
	uint64_t pcp;	    /* pages on the per-CPU lists */
	uint64_t allocated; /* pages handed out */
};

/* What the views said at one moment. */
struct bench_snapshot {
	struct bench_zone_free zones[BENCH_MAX_ZONES]; /* buddyinfo */
	int nr_zones;
	struct bench_node_numa numa[BENCH_MAX_NODES]; /* numastat */
	int nr_numa;
	struct bench_node_stat stats[BENCH_MAX_NODES]; /* node_stats */
	int nr_stats;
	bool valid; /* taken */
};

/*
 * The indexes of mm/vmstat.c (debugfs unusable_index and extfrag/extfrag_index), in
 * thousandths, from a zone's free blocks per order:
 *   unusable_free_index = (free_pages - (suitable_blocks << order)) / free_pages  (1 if none)
 *   fragmentation_index = 1 - (1 + free_pages / 2^order) / free_blocks_total      (0 if none)
 * the latter -1000 ("-1.000") when a block of the order is free, as the kernel's.
 */
int bench_unusable_index(const uint64_t nr_free[BENCH_NR_ORDERS], unsigned int order);
int bench_extfrag_index(const uint64_t nr_free[BENCH_NR_ORDERS], unsigned int order);

/* bench_index_format - thousandths as "0.123", "1.000", "-1.000". */
void bench_index_format(int index, char *buf, size_t len);

/* Parsers of the views' JSON into @s. 0 or -EINVAL. */
int bench_snapshot_buddyinfo(struct bench_snapshot *s, const char *json);
int bench_snapshot_numastat(struct bench_snapshot *s, const char *json);

const struct bench_zone_free *bench_snapshot_zone(const struct bench_snapshot *s, int node,
						  const char *zone);
const struct bench_node_numa *bench_snapshot_numa(const struct bench_snapshot *s, int node);
const struct bench_node_stat *bench_snapshot_stat(const struct bench_snapshot *s, int node);

/* ------------------------------------------------------------------ report.c */

enum bench_format { BENCH_TEXT, BENCH_JSON, BENCH_CSV };

/* What the summary describes besides the counters. */
struct bench_report {
	const char *mode;		     /* "bench" or "replay" */
	const char *preset;		     /* --preset or "custom" */
	const char *workload;		     /* one line describing the mix */
	const char *server;		     /* coordinator address */
	unsigned int threads;		     /* -t */
	unsigned int conns;		     /* -c (per thread) */
	unsigned int pipeline;		     /* --pipeline */
	double rate;			     /* --rate (0: closed loop) */
	uint64_t seed;			     /* --seed */
	double duration_s;		     /* from the first request to the last answer */
	bool allow_enomem;		     /* ENOMEM is expected */
	const struct bench_stats *st;	     /* merged counters */
	const struct bench_snapshot *before; /* views before the run */
	const struct bench_snapshot *end;    /* when the workload ended (may be NULL) */
	const struct bench_snapshot *after;  /* after the teardown */
};

void bench_report_print(const struct bench_report *r, enum bench_format fmt, FILE *out);

/* ------------------------------------------------------------------ loop.c (network) */

struct nsim_client;

/* --record: one line per answer, numbered in the order the answers were processed. */
struct bench_recorder {
	FILE *f;	      /* the trace file */
	pthread_mutex_t lock; /* one writer at a time; seq is taken under it */
	uint64_t seq;	      /* the last number given */
	int err;	      /* the first write error (errno), 0 */
};

int bench_recorder_open(struct bench_recorder *rec, const char *path);
/* bench_recorder_write - number @op (op->seq) and write its line. */
void bench_recorder_write(struct bench_recorder *rec, struct bench_op *op);
/* bench_recorder_close - 0, or the errno of the first failed write. */
int bench_recorder_close(struct bench_recorder *rec);

/* What a run is: read-only for the threads. */
struct bench_config {
	const char *addr;		 /* coordinator "HOST:PORT" */
	unsigned int threads;		 /* -t */
	unsigned int conns;		 /* -c, per thread */
	unsigned int pipeline;		 /* requests in flight per connection */
	uint64_t requests;		 /* -n (0 with --test-time) */
	double test_time;		 /* --test-time seconds (0 with -n) */
	double rate;			 /* --rate ops/s (0: closed loop) */
	uint64_t seed;			 /* --seed */
	bool quiet;			 /* no progress line */
	bool allow_enomem;		 /* ENOMEM of an allocation is expected */
	const struct bench_workload *wl; /* what to ask */
	const int *cpus;		 /* --cpus */
	int nr_cpus;			 /* entries of cpus */
	struct bench_recorder *rec;	 /* --record, or NULL */
	int timeout_ms;			 /* an answer must come within this */
	void (*at_end)(void *arg);	 /* called between the drain and the teardown */
	void *at_end_arg;		 /* its argument */
};

/* What a run gave. */
struct bench_result {
	struct bench_stats *st; /* merged counters (the caller frees) */
	double duration_s;	/* first request to last answer */
	unsigned int conns;	/* replay: connections of the trace */
	int err;		/* 0, or the negative errno that ended it early */
	char error[256];	/* the message for err */
};

/* The HelloReply of a connection. */
struct bench_hello {
	uint32_t nodes;	 /* nodes of the machine */
	uint32_t cpus;	 /* CPUs of the machine */
	char server[64]; /* "numasim-coordinator 0.1.0" */
};

/*
 * bench_connect - connect to @addr and say hello as @identity (TCP_NODELAY on). 0, or a
 * negative errno with @err (@errlen bytes) saying why; @cl is closed then.
 */
int bench_connect(struct nsim_client *cl, const char *addr, const char *identity, int timeout_ms,
		  struct bench_hello *hello, char *err, size_t errlen);

/*
 * bench_call - @op over a blocking connection: its answer in op->status/result, the server's
 * message in @msg, the round trip in *@latency_ns (may be NULL). 0, or the negative errno
 * of the transport.
 */
int bench_call(struct nsim_client *cl, struct bench_op *op, char *msg, size_t msglen,
	       uint64_t *latency_ns);

/* bench_strerror - strerror() in the house style (lowercase), per thread. */
const char *bench_strerror(int err);

/* bench_now_ns - CLOCK_MONOTONIC in nanoseconds. */
uint64_t bench_now_ns(void);

/*
 * bench_run - the run: threads x conns connections, each saying hello as bench-T-C, keeping
 * `pipeline` requests in flight until the budget (-n or --test-time) is spent or SIGINT,
 * then freeing what it holds. The progress line goes to stderr once a second unless quiet.
 * 0 when the run completed (failed answers included), else the negative errno that stopped
 * it (res->error says why). res->st is set either way.
 */
int bench_run(const struct bench_config *cfg, struct bench_result *res);

/* ------------------------------------------------------------------ replay.c (network) */

/*
 * bench_replay - the trace at @path in SEQ order, one connection per recorded connection,
 * one request at a time, mapping each recorded pfn/address to the one this run got. Answers
 * unlike the recorded ones count as diverged (unexpected). Objects a diverging replay got
 * and the trace never frees are freed at the end. 0, or a negative errno (res->error).
 */
int bench_replay(const char *path, const char *addr, int timeout_ms, bool quiet,
		 struct bench_result *res);

#endif
