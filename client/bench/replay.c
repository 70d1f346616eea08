// SPDX-License-Identifier: MIT
/*
 * replay.c - `numasim bench --replay FILE`: a recorded trace, again.
 *
 * The trace is read whole and sorted by SEQ. Each recorded connection gets a connection of
 * its own (hello as bench-replay-N), and the operations run strictly in SEQ order, one at a
 * time: the server sees exactly one serial order, so two replays of a trace on freshly
 * booted clusters end in the same state (buddyinfo, zoneinfo, slabinfo), and so does the
 * recording when it was made serially (-t 1 -c 1 --pipeline 1).
 *
 * Allocations return new pfns and addresses: a map takes each recorded result to this run's,
 * and a free is sent with the mapped value. An answer whose status differs from the
 * recorded one counts as diverged (an unexpected failure); a free whose allocation did not
 * succeed here is skipped (diverged too); an object this run got where the recording did
 * not is freed at the end, so a diverging replay leaves nothing behind.
 *
 * Map invariant: (connection, recorded handle) is in the map from its allocation's answer
 * until its free.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "net.h"
#include "nsim.h"

#define HANDLE_BITS 40				/* pfns and 32-bit addresses fit */
#define HANDLE_MASK ((1ull << HANDLE_BITS) - 1) /* the handle's part of a key */
#define PAGE_KEY (1ull << 63)			/* pfns and addresses share the map */

/* ------------------------------------------------------------------ the handle map */

struct map_slot {
	uint64_t key;	/* recorded handle | PAGE_KEY for pages; 0: empty */
	uint64_t value; /* this run's handle */
	bool dead;	/* a removed entry (the probe goes on past it) */
};

struct handle_map {
	struct map_slot *v; /* open addressing, linear probing */
	size_t cap;	    /* slots (a power of two) */
	size_t used;	    /* live + dead slots */
};

static size_t map_hash(uint64_t key, size_t cap)
{
	return (size_t)(bench_mix64(key, 0) & (cap - 1));
}

static void map_put(struct handle_map *m, uint64_t key, uint64_t value);

static void map_grow(struct handle_map *m)
{
	struct handle_map old = *m;

	m->cap = old.cap ? old.cap * 2 : 1024;
	m->v = xcalloc(m->cap, sizeof(*m->v));
	m->used = 0;
	for (size_t i = 0; i < old.cap; i++)
		if (old.v[i].key && !old.v[i].dead)
			map_put(m, old.v[i].key, old.v[i].value);
	free(old.v);
}

static void map_put(struct handle_map *m, uint64_t key, uint64_t value)
{
	size_t i;

	if ((m->used + 1) * 2 > m->cap)
		map_grow(m);
	for (i = map_hash(key, m->cap); m->v[i].key && !m->v[i].dead && m->v[i].key != key;
	     i = (i + 1) & (m->cap - 1))
		;
	if (!m->v[i].key)
		m->used++;
	m->v[i] = (struct map_slot){key, value, false};
}

/* Remove @key; its value in *@value. false if absent. */
static bool map_take(struct handle_map *m, uint64_t key, uint64_t *value)
{
	if (!m->cap)
		return false;
	for (size_t i = map_hash(key, m->cap); m->v[i].key; i = (i + 1) & (m->cap - 1))
		if (!m->v[i].dead && m->v[i].key == key) {
			*value = m->v[i].value;
			m->v[i].dead = true;
			return true;
		}
	return false;
}

/* ------------------------------------------------------------------ loading */

struct trace {
	struct bench_op *ops; /* in SEQ order */
	size_t n;	      /* operations */
	int nr_conns;	      /* highest connection number + 1 */
};

static int by_seq(const void *a, const void *b)
{
	const struct bench_op *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int trace_load(struct trace *tr, const char *path, char *err, size_t errlen)
{
	char line[BENCH_TRACE_LINE + 2];
	size_t cap = 0, lineno = 0;
	const char *why;
	FILE *f = fopen(path, "r");
	int ret = 0;

	memset(tr, 0, sizeof(*tr));
	if (!f) {
		snprintf(err, errlen, "cannot read '%s': %s", path, bench_strerror(errno));
		return -errno;
	}
	while (!ret && fgets(line, sizeof(line), f)) {
		struct bench_op op;
		int r;

		lineno++;
		r = bench_trace_parse(line, &op, &why);
		if (r == 1)
			continue;
		if (r < 0) {
			snprintf(err, errlen, "%s:%zu: %s", path, lineno, why);
			ret = -EINVAL;
			break;
		}
		if (tr->n == cap)
			tr->ops =
				xrealloc(tr->ops, (cap = cap ? cap * 2 : 1024) * sizeof(*tr->ops));
		tr->ops[tr->n++] = op;
		if (op.conn + 1 > tr->nr_conns)
			tr->nr_conns = op.conn + 1;
	}
	fclose(f);
	if (!ret && !tr->n) {
		snprintf(err, errlen, "%s: no operations", path);
		ret = -EINVAL;
	}
	if (!ret)
		qsort(tr->ops, tr->n, sizeof(*tr->ops), by_seq);
	return ret;
}

/* ------------------------------------------------------------------ replaying */

struct replay {
	struct nsim_client *cl; /* one per recorded connection (fd -1: not opened) */
	int nr_conns;		/* entries of cl */
	const char *addr;	/* coordinator */
	int timeout_ms;		/* per call */
	struct handle_map map;	/* recorded handle -> this run's */
	struct bench_op *extra; /* allocations the recording did not get */
	size_t nr_extra;	/* entries of extra */
	struct bench_stats *st; /* counters */
	char error[256];	/* transport failure */
};

/*
 * The map is per connection: a connection frees only what it allocated, and two connections
 * may have been answered the same address in an order the recording could not see (one
 * freed it, the server gave it to the other, and the client read the second answer first).
 */
static uint64_t map_key(const struct bench_op *op, uint64_t handle)
{
	bool page = op->code == BENCH_OP_ALLOC_PAGES || op->code == BENCH_OP_FREE_PAGES;

	return (handle & HANDLE_MASK) | ((uint64_t)(op->conn + 1) << HANDLE_BITS) |
	       (page ? PAGE_KEY : 0);
}

static int replay_conn(struct replay *rp, int conn, struct nsim_client **cl)
{
	char name[48];
	int ret;

	*cl = &rp->cl[conn];
	if ((*cl)->fd >= 0)
		return 0;
	snprintf(name, sizeof(name), "bench-replay-%d", conn);
	ret = bench_connect(*cl, rp->addr, name, rp->timeout_ms, NULL, rp->error,
			    sizeof(rp->error));
	if (ret)
		(*cl)->fd = -1;
	return ret;
}

/* Remember an object this run got and the recording did not (its answered allocation). */
static void keep_extra(struct replay *rp, const struct bench_op *op)
{
	rp->extra = xrealloc(rp->extra, (rp->nr_extra + 1) * sizeof(*rp->extra));
	rp->extra[rp->nr_extra++] = *op;
}

/* One recorded op: translate, send, compare, map. */
static int replay_one(struct replay *rp, const struct bench_op *rec)
{
	struct bench_op op = *rec;
	struct nsim_client *cl;
	char msg[256];
	uint64_t lat;
	int ret;

	if (bench_op_frees(op.code) && !map_take(&rp->map, map_key(&op, rec->handle), &op.handle)) {
		rp->st->diverged++;
		bench_stats_fail(rp->st,
				 "seq %" PRIu64 ": %s of %#" PRIx64
				 " whose allocation did not succeed in the replay",
				 rec->seq, bench_op_name(op.code), rec->handle);
		return 0;
	}
	ret = replay_conn(rp, op.conn, &cl);
	if (!ret)
		ret = bench_call(cl, &op, msg, sizeof(msg), &lat);
	if (ret) {
		if (!rp->error[0])
			snprintf(rp->error, sizeof(rp->error), "lost connection to %s: %s",
				 rp->addr, bench_strerror(-ret));
		return ret;
	}
	bench_stats_add(rp->st, &op, lat, op.status == rec->status, msg);
	if (op.status != rec->status) {
		rp->st->diverged++;
		if (op.status == NUMASIM__STATUS__STATUS_OK) /* bench_stats_add saw no failure */
			bench_stats_fail(rp->st, "seq %" PRIu64 ": %s answered OK, recorded %s",
					 rec->seq, bench_op_name(op.code),
					 bench_status_name(rec->status));
	}
	if (op.status != NUMASIM__STATUS__STATUS_OK || !bench_op_allocates(op.code))
		return 0;
	if (rec->status == NUMASIM__STATUS__STATUS_OK)
		map_put(&rp->map, map_key(&op, rec->result), op.result);
	else
		keep_extra(rp, &op);
	return 0;
}

/* Free what this run got beyond the recording (its trace never frees it). */
static void free_extra(struct replay *rp)
{
	for (size_t i = 0; i < rp->nr_extra; i++) {
		const struct bench_op *a = &rp->extra[i];
		struct bench_op op = *a;
		struct nsim_client *cl;

		op.code = a->code == BENCH_OP_ALLOC_PAGES ? BENCH_OP_FREE_PAGES
			  : a->code == BENCH_OP_KMALLOC	  ? BENCH_OP_KFREE
							  : BENCH_OP_CACHE_FREE;
		op.handle = a->result;
		op.status = -1;
		if (replay_conn(rp, op.conn, &cl) || bench_call(cl, &op, NULL, 0, NULL))
			return;
		bench_stats_aside(rp->st, &op, NULL);
	}
}

int bench_replay(const char *path, const char *addr, int timeout_ms, bool quiet,
		 struct bench_result *res)
{
	struct trace tr;
	struct replay rp = {.addr = addr, .timeout_ms = timeout_ms};
	uint64_t start, next;
	int ret;

	memset(res, 0, sizeof(*res));
	res->st = bench_stats_new();
	rp.st = res->st;
	ret = trace_load(&tr, path, res->error, sizeof(res->error));
	if (ret) {
		res->err = ret;
		return ret;
	}
	rp.nr_conns = tr.nr_conns;
	res->conns = (unsigned int)tr.nr_conns;
	rp.cl = xcalloc((size_t)tr.nr_conns, sizeof(*rp.cl));
	for (int i = 0; i < tr.nr_conns; i++)
		rp.cl[i].fd = -1;
	start = bench_now_ns();
	next = start + 1000000000ull;
	for (size_t i = 0; i < tr.n && !ret; i++) {
		ret = replay_one(&rp, &tr.ops[i]);
		if (!quiet && bench_now_ns() >= next) {
			fprintf(stderr, "replay: %zu of %zu operations\n", i + 1, tr.n);
			next += 1000000000ull;
		}
	}
	if (!ret)
		free_extra(&rp);
	res->duration_s = (double)(bench_now_ns() - start) / 1e9;
	if (ret) {
		res->err = ret;
		snprintf(res->error, sizeof(res->error), "%s", rp.error);
	}
	for (int i = 0; i < rp.nr_conns; i++)
		if (rp.cl[i].fd >= 0)
			nsim_client_close(&rp.cl[i]);
	free(rp.cl);
	free(rp.map.v);
	free(rp.extra);
	free(tr.ops);
	return ret;
}
