// SPDX-License-Identifier: MIT
/*
 * test_threads.c - several simulated CPUs allocating and freeing at once, each on its own
 * thread, handing blocks to each other, while another thread writes sysctls, drains the
 * pcp lists and reads counters. Meant to run under ThreadSanitizer too
 * (-DNUMASIM_SANITIZE=thread).
 *
 * A shared bitmap of handed-out pfns, set and cleared with atomic operations, catches a
 * page given to two CPUs at once. A freeing thread clears its bits before free_pages(), so
 * a page reallocated right after never finds them set. When every thread has stopped, the
 * machine must verify, every zone must have its free pages of the start back and have
 * counted as many pages freed as allocated.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "mm_debug.h"
#include "unit.h"

#define NR_WORKERS 4
#define OPS_PER_WORKER 30000
#define LIVE_MAX 3000
#define EXCHANGE_MAX 256

static const gfp_t worker_gfps[] = {
	GFP_KERNEL, GFP_HIGHUSER, GFP_HIGHUSER_MOVABLE,		  GFP_ATOMIC,
	GFP_NOWAIT, GFP_DMA,	  GFP_KERNEL | __GFP_RECLAIMABLE,
};

struct block {
	unsigned long pfn;  /* first page */
	unsigned int order; /* as allocated */
	uint32_t owner;	    /* as allocated */
};

struct shared {
	struct machine *m;
	unsigned char *bitmap;		     /* handed-out pfns, atomic bit operations */
	pthread_mutex_t lock;		     /* protects exchange[], nr_exchange, msg */
	struct block exchange[EXCHANGE_MAX]; /* blocks passed between CPUs */
	int nr_exchange;
	atomic_int workers_left; /* the sysctl thread runs until this is 0 */
	atomic_int failed;	 /* set on the first failure */
	char msg[160];		 /* that failure */
};

struct worker {
	struct shared *sh;
	int cpu;		     /* the simulated CPU this thread is */
	uint64_t rng;		     /* xorshift64 state */
	struct block live[LIVE_MAX]; /* blocks this thread holds */
	int nr_live;
};

static uint64_t next_rand(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void fail(struct shared *sh, const char *what, unsigned long pfn, int ret)
{
	pthread_mutex_lock(&sh->lock);
	if (!atomic_load(&sh->failed))
		snprintf(sh->msg, sizeof(sh->msg), "%s (pfn %#lx, ret %d)", what, pfn, ret);
	atomic_store(&sh->failed, 1);
	pthread_mutex_unlock(&sh->lock);
}

/* Set (or clear) the bits of a block; false if one already was (or was not) set. */
static bool mark(struct shared *sh, const struct block *b, bool set)
{
	bool ok = true;

	for (unsigned long p = b->pfn; p < b->pfn + (1ul << b->order); p++) {
		unsigned char bit = (unsigned char)(1u << (p & 7)), old;

		if (set)
			old = __atomic_fetch_or(&sh->bitmap[p >> 3], bit, __ATOMIC_RELAXED);
		else
			old = __atomic_fetch_and(&sh->bitmap[p >> 3], (unsigned char)~bit,
						 __ATOMIC_RELAXED);
		ok = ok && (((old & bit) != 0) != set);
	}
	return ok;
}

static void give_back(struct worker *w, struct block b)
{
	int ret;

	if (!mark(w->sh, &b, false))
		fail(w->sh, "freeing pages that were not handed out", b.pfn, (int)b.order);
	ret = free_pages(w->sh->m, b.pfn, b.order, w->cpu, b.owner);
	if (ret)
		fail(w->sh, "free refused", b.pfn, ret);
}

static void worker_alloc(struct worker *w)
{
	gfp_t gfp = worker_gfps[next_rand(&w->rng) % ARRAY_SIZE(worker_gfps)];
	unsigned int r = (unsigned int)(next_rand(&w->rng) % 100);
	struct block b = {.order = r < 60   ? 0
				   : r < 90 ? 1 + r % 3
					    : 4 + r % 7,
			  .owner = (uint32_t)w->cpu + 1};
	int ret = __alloc_pages(w->sh->m, &b.pfn, gfp, b.order, w->cpu, -1, 0, b.owner, NULL);

	if (ret == -ENOMEM)
		return;
	if (ret) {
		fail(w->sh, "allocation refused", 0, ret);
		return;
	}
	if (!mark(w->sh, &b, true))
		fail(w->sh, "page handed out twice", b.pfn, (int)b.order);
	w->live[w->nr_live++] = b;
}

static void worker_free(struct worker *w)
{
	int i = (int)(next_rand(&w->rng) % (uint64_t)w->nr_live);
	struct block b = w->live[i];

	w->live[i] = w->live[--w->nr_live];
	give_back(w, b);
}

/* Pass a block to the exchange, or free one another CPU put there. */
static void worker_exchange(struct worker *w)
{
	struct shared *sh = w->sh;
	struct block b;
	bool take;

	pthread_mutex_lock(&sh->lock);
	take = sh->nr_exchange &&
	       (!w->nr_live || sh->nr_exchange == EXCHANGE_MAX || next_rand(&w->rng) % 2);
	if (take) {
		b = sh->exchange[--sh->nr_exchange];
	} else if (w->nr_live) {
		sh->exchange[sh->nr_exchange++] = w->live[--w->nr_live];
	}
	pthread_mutex_unlock(&sh->lock);
	if (take)
		give_back(w, b);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	for (int op = 0; op < OPS_PER_WORKER && !atomic_load(&w->sh->failed); op++) {
		unsigned int r = (unsigned int)(next_rand(&w->rng) % 100);

		if (r < 10)
			worker_exchange(w);
		else if (w->nr_live && (r < 45 || w->nr_live == LIVE_MAX))
			worker_free(w);
		else
			worker_alloc(w);
	}
	while (w->nr_live)
		worker_free(w);
	atomic_fetch_sub(&w->sh->workers_left, 1);
	return NULL;
}

/* Sysctl writes, lowmem_reserve_ratio reads, drains and counter reads, until the end. */
static void *tuner_main(void *arg)
{
	static const struct {
		const char *name, *value;
	} writes[] = {
		{"vm.min_free_kbytes", "16384"},	   {"vm.watermark_scale_factor", "100"},
		{"vm.percpu_pagelist_high_fraction", "8"}, {"vm.min_free_kbytes", "43332"},
		{"vm.lowmem_reserve_ratio", "128 16 8 0"}, {"vm.watermark_scale_factor", "10"},
		{"vm.percpu_pagelist_high_fraction", "0"}, {"vm.watermark_boost_factor", "0"},
		{"vm.lowmem_reserve_ratio", "256 32 0 0"}, {"vm.watermark_boost_factor", "15000"},
	};
	struct shared *sh = arg;
	unsigned long sink = 0;
	char buf[64];

	for (size_t i = 0; atomic_load(&sh->workers_left) > 0; i++) {
		int ret = machine_sysctl_set(sh->m, writes[i % ARRAY_SIZE(writes)].name,
					     writes[i % ARRAY_SIZE(writes)].value);

		if (ret)
			fail(sh, "sysctl write refused", 0, ret);
		if (machine_sysctl_get(sh->m, "vm.lowmem_reserve_ratio", buf, sizeof(buf)))
			fail(sh, "sysctl read refused", 0, -1);
		for_each_node(sh->m, nid) for_each_zone_of(sh->m->node_data[nid], zone)
		{
			sink += zone_page_state(zone, NR_FREE_PAGES) + zone_pcp_count(zone);
			sink += zone_event_sum(zone, PGALLOC) + zone_numa_sum(zone, NUMA_HIT);
			sink += zone_allocated_pages(zone) + wmark_pages(zone, WMARK_LOW);
		}
		if (i % 8 == 0)
			drain_all_pages(sh->m);
	}
	return (void *)(uintptr_t)(sink & 1);
}

static void test_threads(void)
{
	struct machine_config cfg;
	struct shared *sh = calloc(1, sizeof(*sh));
	struct worker *workers = calloc(NR_WORKERS, sizeof(*workers));
	pthread_t threads[NR_WORKERS], tuner;
	unsigned long free0[MAX_NUMNODES][MAX_NR_ZONES], events0[MAX_NUMNODES][MAX_NR_ZONES];
	char err[MM_ERRLEN] = "";
	int ret;

	CU_ASSERT_FATAL(sh && workers);
	machine_config_init(&cfg);
	cfg.mem_bytes = 1 * GiB;
	cfg.ncpus = NR_WORKERS;
	ret = machine_new(&sh->m, &cfg, err);
	ASSERT_BOOTED(ret, err);
	sh->bitmap = calloc(sh->m->layout.max_pfn / 8 + 1, 1);
	CU_ASSERT_FATAL(sh->bitmap != NULL);
	pthread_mutex_init(&sh->lock, NULL);
	atomic_init(&sh->workers_left, NR_WORKERS);
	drain_all_pages(sh->m);
	for_each_node(sh->m, nid) for_each_zone_of(sh->m->node_data[nid], zone)
	{
		free0[nid][zone->idx] = zone_page_state(zone, NR_FREE_PAGES);
		events0[nid][zone->idx] =
			zone_event_sum(zone, PGALLOC) - zone_event_sum(zone, PGFREE);
	}
	atomic_init(&sh->failed, 0);

	for (int i = 0; i < NR_WORKERS; i++) {
		workers[i].sh = sh;
		workers[i].cpu = i;
		workers[i].rng = 0x9e3779b97f4a7c15ull * (uint64_t)(i + 1);
		CU_ASSERT_EQUAL_FATAL(pthread_create(&threads[i], NULL, worker_main, &workers[i]),
				      0);
	}
	CU_ASSERT_EQUAL_FATAL(pthread_create(&tuner, NULL, tuner_main, sh), 0);
	for (int i = 0; i < NR_WORKERS; i++)
		pthread_join(threads[i], NULL);
	pthread_join(tuner, NULL);

	/* what is left on the exchange goes back from CPU 0 */
	workers[0].nr_live = 0;
	while (sh->nr_exchange)
		give_back(&workers[0], sh->exchange[--sh->nr_exchange]);
	CU_assertImplementation(!atomic_load(&sh->failed), __LINE__,
				sh->msg[0] ? sh->msg : "threads", __FILE__, "", CU_FALSE);
	drain_all_pages(sh->m);
	ret = machine_verify(sh->m, err);
	CU_assertImplementation(ret == 0, __LINE__, ret ? err : "machine_verify", __FILE__, "",
				CU_FALSE);
	for_each_node(sh->m, nid) for_each_zone_of(sh->m->node_data[nid], zone)
	{
		CU_ASSERT_EQUAL(zone_page_state(zone, NR_FREE_PAGES), free0[nid][zone->idx]);
		CU_ASSERT_EQUAL(zone_event_sum(zone, PGALLOC) - zone_event_sum(zone, PGFREE),
				events0[nid][zone->idx]);
	}
	for (unsigned long i = 0; i <= sh->m->layout.max_pfn / 8; i++)
		if (sh->bitmap[i]) {
			CU_FAIL("reference bitmap not empty at the end");
			break;
		}
	pthread_mutex_destroy(&sh->lock);
	free(sh->bitmap);
	machine_free(sh->m);
	free(sh);
	free(workers);
}

static CU_TestInfo tests[] = {
	{"CPUs on threads with a sysctl writer", test_threads},
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("threads", NULL, NULL, tests);
