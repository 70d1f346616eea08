// SPDX-License-Identifier: MIT
/*
 * test_bench_workload.c - what a bench connection asks (client/bench/workload.c), against a
 * simulated server that answers in order: object lifetimes (--free now, after:N, --hold),
 * the teardown, the op mix, and the fragment phases (fill until ENOMEM, free the even
 * pfns, probe). Every test ends with the connection idle and the server holding nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "unit.h"

#define MAX_LIVE 100000

/* The simulated server: hands out increasing handles, refuses after `capacity` live. */
struct sim {
	uint64_t next;		 /* next handle */
	uint64_t live[MAX_LIVE]; /* handles allocated and not freed */
	size_t nr_live;		 /* entries of live */
	size_t capacity;	 /* allocations beyond this many live answer ENOMEM */
	uint64_t allocs, frees;	 /* answered OK */
	uint64_t bad_frees;	 /* frees of something not live */
};

static void sim_answer(struct sim *s, struct bench_op *op)
{
	op->status = NUMASIM__STATUS__STATUS_OK;
	if (bench_op_allocates(op->code)) {
		if (s->nr_live >= s->capacity || s->nr_live == MAX_LIVE) {
			op->status = NUMASIM__STATUS__STATUS_ENOMEM;
			return;
		}
		op->result = s->next++;
		op->result_size = op->code == BENCH_OP_ALLOC_PAGES ? 4096ull << op->order : 64;
		s->live[s->nr_live++] = op->result;
		s->allocs++;
		return;
	}
	for (size_t i = 0; i < s->nr_live; i++)
		if (s->live[i] == op->handle) {
			s->live[i] = s->live[--s->nr_live];
			s->frees++;
			return;
		}
	s->bad_frees++;
	op->status = NUMASIM__STATUS__STATUS_BAD_PAGE_STATE;
}

/* Send up to @depth ops, answer them all in order; the ops go to @log if not NULL. */
static int step(struct bench_wl *w, struct sim *s, unsigned int depth, bool teardown,
		struct bench_op *log, int *nlog)
{
	struct bench_op ops[64];
	int n = 0;

	while (n < (int)depth && bench_wl_next(w, teardown, &ops[n]))
		n++;
	for (int i = 0; i < n; i++) {
		sim_answer(s, &ops[i]);
		bench_wl_done(w, &ops[i]);
		if (log)
			log[(*nlog)++] = ops[i];
	}
	return n;
}

static void teardown_all(struct bench_wl *w, struct sim *s)
{
	for (int i = 0; i < 100000 && !bench_wl_idle(w); i++)
		step(w, s, 16, true, NULL, NULL);
	CU_ASSERT_TRUE(bench_wl_idle(w));
	CU_ASSERT_EQUAL(s->nr_live, 0);
	CU_ASSERT_EQUAL(s->bad_frees, 0);
	CU_ASSERT_EQUAL(w->held_bytes, 0);
}

static void pages_workload(struct bench_workload *wl, enum bench_life life, uint64_t n)
{
	memset(wl, 0, sizeof(*wl));
	wl->mix[BENCH_PAGES] = 1;
	CU_ASSERT_FATAL(!bench_dist_parse(&wl->orders, "0", 0, 10, 0, NULL));
	wl->gfp = 0xcc0;
	wl->life = life;
	wl->after = n;
	wl->hold_bytes = n;
	CU_ASSERT_FATAL(!bench_workload_finish(wl));
}

static void test_free_now(void)
{
	struct bench_workload wl;
	struct bench_wl w;
	struct sim *s = calloc(1, sizeof(*s));
	struct bench_op log[64];
	int n = 0;

	s->capacity = MAX_LIVE;
	pages_workload(&wl, BENCH_FREE_NOW, 0);
	bench_wl_init(&w, &wl, 3, 1, 42);
	for (int i = 0; i < 16; i++)
		step(&w, s, 1, false, log, &n);
	for (int i = 0; i < 16; i++) {
		CU_ASSERT_EQUAL(log[i].code, i % 2 ? BENCH_OP_FREE_PAGES : BENCH_OP_ALLOC_PAGES);
		CU_ASSERT_EQUAL(log[i].conn, 3);
		CU_ASSERT_EQUAL(log[i].cpu, 1);
		if (i % 2)
			CU_ASSERT_EQUAL(log[i].handle, log[i - 1].result);
	}
	CU_ASSERT_EQUAL(w.issued, 16);
	CU_ASSERT_EQUAL(w.inflight, 0);
	teardown_all(&w, s);
	bench_wl_release(&w);
	bench_workload_release(&wl);
	free(s);
}

/* after:N: each object is freed once N more ops were handed out, not before. */
static void test_free_after(void)
{
	struct bench_workload wl;
	struct bench_wl w;
	struct sim *s = calloc(1, sizeof(*s));
	static struct bench_op log[4096];
	int n = 0;

	s->capacity = MAX_LIVE;
	pages_workload(&wl, BENCH_FREE_AFTER, 10);
	bench_wl_init(&w, &wl, 0, 0, 1);
	for (int i = 0; i < 1000; i++)
		step(&w, s, 4, false, log, &n);
	for (int i = 0; i < n; i++) {
		if (log[i].code != BENCH_OP_FREE_PAGES)
			continue;
		for (int j = 0; j < i; j++)
			if (log[j].code == BENCH_OP_ALLOC_PAGES && log[j].result == log[i].handle)
				CU_ASSERT(i - j >= 10);
	}
	CU_ASSERT(s->nr_live <= 10 + 4);
	CU_ASSERT(s->frees > 1000);
	teardown_all(&w, s);
	bench_wl_release(&w);
	bench_workload_release(&wl);
	free(s);
}

/* --hold: the connection never holds more than its share plus what is in flight. */
static void test_hold(void)
{
	struct bench_workload wl;
	struct bench_wl w;
	struct sim *s = calloc(1, sizeof(*s));
	uint64_t peak = 0;

	s->capacity = MAX_LIVE;
	pages_workload(&wl, BENCH_HOLD, 100 * 4096);
	bench_wl_init(&w, &wl, 0, 0, 1);
	for (int i = 0; i < 2000; i++) {
		step(&w, s, 8, false, NULL, NULL);
		if (w.held_bytes > peak)
			peak = w.held_bytes;
		CU_ASSERT_FATAL(s->nr_live <= 100 + 8);
	}
	CU_ASSERT(peak >= 100 * 4096);
	CU_ASSERT(peak <= 108 * 4096);
	teardown_all(&w, s);
	bench_wl_release(&w);
	bench_workload_release(&wl);
	free(s);
}

/* The mix: kinds in proportion to their weights, caches by weight, teardown frees all. */
static void test_mix(void)
{
	struct bench_workload wl;
	struct bench_wl w;
	struct sim *s = calloc(1, sizeof(*s));
	static struct bench_op log[20000];
	int n = 0, kinds[NR_BENCH_OPS] = {0}, cache1 = 0;

	memset(&wl, 0, sizeof(wl));
	wl.mix[BENCH_PAGES] = 2;
	wl.mix[BENCH_KMALLOC] = 1;
	wl.mix[BENCH_SLAB] = 1;
	CU_ASSERT_FATAL(!bench_dist_parse(&wl.orders, "0:1,3:1", 0, 10, 0, NULL));
	CU_ASSERT_FATAL(!bench_dist_parse(&wl.sizes, "8-64", 1, 64, BENCH_DIST_SIZES, NULL));
	wl.nr_caches = 2;
	strcpy(wl.caches[0].name, "c0");
	wl.caches[0].size = 32;
	wl.caches[0].weight = 3;
	strcpy(wl.caches[1].name, "c1");
	wl.caches[1].size = 64;
	wl.caches[1].weight = 1;
	wl.life = BENCH_FREE_NOW;
	wl.policy.mode = NUMASIM__POLICY__POLICY_PREFERRED;
	wl.policy.preferred = 1;
	CU_ASSERT_FATAL(!bench_workload_finish(&wl));
	s->capacity = MAX_LIVE;
	bench_wl_init(&w, &wl, 0, 0, 9);
	for (int i = 0; i < 10000; i++)
		step(&w, s, 1, false, log, &n);
	for (int i = 0; i < n; i++) {
		kinds[log[i].code]++;
		if (log[i].code == BENCH_OP_CACHE_ALLOC) {
			cache1 += log[i].cache_idx == 1;
			CU_ASSERT_STRING_EQUAL(log[i].cache, wl.caches[log[i].cache_idx].name);
			CU_ASSERT_EQUAL(log[i].node, 1); /* preferred:1 -> *_node(1) */
		}
		if (log[i].code == BENCH_OP_KMALLOC)
			CU_ASSERT(log[i].size >= 8 && log[i].size <= 64);
	}
	CU_ASSERT_EQUAL(kinds[BENCH_OP_ALLOC_PAGES], kinds[BENCH_OP_FREE_PAGES]);
	CU_ASSERT_EQUAL(kinds[BENCH_OP_KMALLOC], kinds[BENCH_OP_KFREE]);
	CU_ASSERT_EQUAL(kinds[BENCH_OP_CACHE_ALLOC], kinds[BENCH_OP_CACHE_FREE]);
	CU_ASSERT(abs(kinds[BENCH_OP_ALLOC_PAGES] - 2500) < 200);
	CU_ASSERT(abs(kinds[BENCH_OP_KMALLOC] - 1250) < 150);
	CU_ASSERT(abs(cache1 * 4 - kinds[BENCH_OP_CACHE_ALLOC]) < 200);
	teardown_all(&w, s);
	bench_wl_release(&w);
	bench_workload_release(&wl);
	free(s);
}

/* Fragment: fill until ENOMEM, free exactly the even handles, then probe high orders. */
static void test_fragment(void)
{
	struct bench_workload wl;
	struct bench_wl w;
	struct sim *s = calloc(1, sizeof(*s));
	static struct bench_op log[20000];
	int n = 0, fills = 0, frees = 0, probes = 0;

	memset(&wl, 0, sizeof(wl));
	wl.fragment = true;
	CU_ASSERT_FATAL(!bench_dist_parse(&wl.orders, "3:1,9:1", 0, 10, 0, NULL));
	wl.gfp = 0x100cc9;
	CU_ASSERT_FATAL(!bench_workload_finish(&wl));
	s->capacity = 1000;
	bench_wl_init(&w, &wl, 0, 0, 1);
	for (int i = 0; i < 3000; i++)
		step(&w, s, 4, false, log, &n);
	for (int i = 0; i < n; i++) {
		const struct bench_op *op = &log[i];

		if (op->code == BENCH_OP_ALLOC_PAGES && op->order == 0 && !frees) {
			fills++;
			continue;
		}
		if (op->code == BENCH_OP_FREE_PAGES) {
			CU_ASSERT_EQUAL(op->handle % 2, 0);
			CU_ASSERT_EQUAL(probes, 0); /* every split free comes before the probes */
			frees++;
			continue;
		}
		CU_ASSERT_EQUAL(op->code, BENCH_OP_ALLOC_PAGES);
		CU_ASSERT(op->order == 3 || op->order == 9);
		probes++;
	}
	CU_ASSERT(fills >= 1000);
	CU_ASSERT_EQUAL(frees, 500); /* handles 0..999: the 500 even ones */
	CU_ASSERT(probes > 0);
	CU_ASSERT_EQUAL(w.phase, BENCH_PHASE_PROBE);
	CU_ASSERT_EQUAL(s->nr_live, 1000); /* 500 odd ones held, 500 probes got in */
	teardown_all(&w, s);
	bench_wl_release(&w);
	bench_workload_release(&wl);
	free(s);
}

/* Two connections share the fill: no split starts before both stopped filling. */
static void test_fragment_shared(void)
{
	struct bench_workload wl;
	struct bench_wl a, b;
	struct sim *s = calloc(1, sizeof(*s));
	static struct bench_op log[20000];
	int n = 0, first_free = -1, frees = 0, late_fills = 0;

	memset(&wl, 0, sizeof(wl));
	wl.fragment = true;
	CU_ASSERT_FATAL(!bench_dist_parse(&wl.orders, "3:1", 0, 10, 0, NULL));
	CU_ASSERT_FATAL(!bench_workload_finish(&wl));
	bench_workload_share_fill(&wl, 2);
	s->capacity = 1000;
	bench_wl_init(&a, &wl, 0, 0, 1);
	bench_wl_init(&b, &wl, 1, 0, 2);
	for (int i = 0; i < 1500; i++) {
		step(&a, s, 4, false, log, &n);
		if (i < 120 || i > 140) /* b lags as the fill ends: a must wait for it */
			step(&b, s, 4, false, log, &n);
	}
	for (int i = 0; i < n; i++) {
		if (log[i].code == BENCH_OP_FREE_PAGES) {
			CU_ASSERT_EQUAL(log[i].handle % 2, 0);
			frees++;
			if (first_free < 0)
				first_free = i;
		} else if (first_free >= 0 && log[i].order == 0) {
			late_fills++;
		}
	}
	CU_ASSERT(first_free > 0);
	CU_ASSERT_EQUAL(late_fills, 0); /* no fill after the first split free */
	CU_ASSERT_EQUAL(frees, 500);	/* the even half of the 1000 pages both filled */
	CU_ASSERT_EQUAL(a.phase, BENCH_PHASE_PROBE);
	CU_ASSERT_EQUAL(b.phase, BENCH_PHASE_PROBE);
	for (int i = 0; i < 100000 && !(bench_wl_idle(&a) && bench_wl_idle(&b)); i++) {
		step(&a, s, 16, true, NULL, NULL);
		step(&b, s, 16, true, NULL, NULL);
	}
	CU_ASSERT_EQUAL(s->nr_live, 0);
	CU_ASSERT_EQUAL(s->bad_frees, 0);
	bench_wl_release(&a);
	bench_wl_release(&b);
	bench_workload_release(&wl);
	free(s);
}

static void test_bad_workload(void)
{
	struct bench_workload wl;

	memset(&wl, 0, sizeof(wl));
	CU_ASSERT_EQUAL(bench_workload_finish(&wl), -EINVAL); /* empty mix */
	wl.mix[BENCH_KMALLOC] = 1;
	CU_ASSERT_EQUAL(bench_workload_finish(&wl), -EINVAL); /* kmalloc without sizes */
	bench_workload_release(&wl);
}

static CU_TestInfo tests[] = {
	{"free_now", test_free_now},
	{"free_after", test_free_after},
	{"hold", test_hold},
	{"mix", test_mix},
	{"fragment", test_fragment},
	{"fragment_shared", test_fragment_shared},
	{"bad_workload", test_bad_workload},
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("bench_workload", NULL, NULL, tests);
