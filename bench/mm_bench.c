// SPDX-License-Identifier: MIT
/*
 * mm_bench.c - microbenchmarks of the allocator model (node/mm): what one simulated
 * allocation costs on the host, and what booting the largest machine costs.
 *
 * Each case boots its own machine, warms it up untimed, then runs batches of operations
 * until its time budget (--seconds) is spent, timing every batch with
 * clock_gettime(CLOCK_MONOTONIC). A case reports the median batch, the mean over all timed
 * operations and the best batch. Targets are judged on the median, which a few interrupted
 * batches do not move; the best batch is the code's own cost when the host has slow phases
 * (docs/PERFORMANCE.md). Threads are pinned: simulated CPU i on host CPU i % nproc.
 *
 * Cases:
 *   order0     order-0 GFP_KERNEL alloc+free pairs on simulated CPU 0 (per-CPU lists)
 *   order0-mt  the same on every simulated CPU at once, one thread each
 *   order3     order-3 pairs (a pcp order in 6.1)
 *   order4     order-4 pairs (buddy lists under zone->lock)
 *   mixed      seeded random orders 0..5 and gfp masks, a ring of --live blocks
 *   boot       machine_new()/machine_free() of a 64 GiB 686-pae machine, host memory
 *   kmalloc64  kmalloc(64, GFP_KERNEL) + kfree pairs on simulated CPU 0 (SLUB CPU freelist)
 *   kmalloc1k  the same with 1024 bytes
 *   cache      kmem_cache_alloc + kmem_cache_free pairs on a new 128-byte cache "bench"
 *   kmalloc64-mt, kmalloc1k-mt, cache-mt
 *              the same three on every simulated CPU at once, one thread each
 *   slab-mixed kmalloc/kfree of seeded random sizes 8..8192 (log-uniform) and, one draw in
 *              64, a kmalloc_large size, in a ring of --live objects
 *
 * Invariant checked after every page allocation case: the allocated pages of every zone are
 * what they were before the case (every block the benchmark took, it gave back). After every
 * slab case, with every cache shrunk before and after: each cache's active objects
 * (get_slabinfo) and the allocated pages are what they were, kmem_cache_validate() and
 * machine_verify() are clean, and the "bench" cache can be destroyed.
 *
 * This is a benchmark, not a test: missing a target is reported, never an error. The exit
 * status is non-zero only when the model misbehaves (an allocation or free fails where it
 * cannot, or pages leak) or the options are wrong.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "mm.h"
#include "mm_debug.h"
#include "nsim.h"
#include "slab.h"

#ifndef BENCH_BUILD_TYPE
#define BENCH_BUILD_TYPE "unknown"
#endif
#ifdef __clang__
#define BENCH_COMPILER "clang " __clang_version__
#else
#define BENCH_COMPILER "gcc " __VERSION__
#endif

#define BENCH_OWNER 7u			 /* owner id of every block the benchmark allocates */
#define BENCH_BATCH 4096ul		 /* operations between two clock reads */
#define BENCH_MIXED_TABLE (1u << 16)	 /* pregenerated draws of mixed and slab-mixed */
#define BENCH_MIXED_ORDERS 6		 /* orders 0..5 */
#define BENCH_BOOT_MAX 5		 /* boots of the boot case at most */
#define BENCH_METRICS 10		 /* metrics per result */
#define BENCH_SLAB_LARGE_ONE_IN 64	 /* slab-mixed: one draw in this many is kmalloc_large */
#define BENCH_SLAB_LARGE_MAX (32u << 10) /* slab-mixed: largest kmalloc_large size */
#define BENCH_SLAB_CACHE_SIZE 128u	 /* object size of the "bench" cache */

struct bench_opts {
	double seconds;	    /* measuring time per case */
	int ncpus;	    /* simulated CPUs, = threads of the -mt cases */
	long live;	    /* ring size of mixed and slab-mixed */
	uint64_t seed;	    /* seed of mixed and slab-mixed */
	bool json;	    /* JSON document instead of text lines */
	unsigned int cases; /* bit i set: run bench_cases[i] */
	int nproc;	    /* online host CPUs */
};

struct bench_metric {
	const char *key;   /* JSON key */
	const char *label; /* text before the value ("" = none) */
	const char *unit;  /* text after the value */
	int precision;	   /* decimals printed */
	double value;	   /* measured */
	double target;	   /* the upper bound, 0 = none */
};

struct bench_result {
	char what[256];			      /* what was measured, for a person */
	int nr;				      /* metrics used */
	struct bench_metric m[BENCH_METRICS]; /* in print order */
};

struct bench_job;

/* n operations of a case on job->cpu; 0 or the first error. */
typedef int (*bench_batch_fn)(struct bench_job *job, unsigned long n);

struct bench_case;

/* Run case @c with options @o into @r; 0, or non-zero when the model failed. */
typedef int (*bench_run_fn)(const struct bench_case *c, const struct bench_opts *o,
			    struct bench_result *r);

struct bench_case {
	const char *name;   /* --cases name */
	bench_run_fn run;   /* its driver */
	unsigned int order; /* page pair cases: block order */
	unsigned int size;  /* slab pair cases: kmalloc size, 0 = the "bench" cache */
	bool all_cpus;	    /* pair cases: one thread per simulated CPU */
	double target_ns;   /* pair cases: ns per pair the issue asks for (0 = none) */
};

/* One thread of a timed run. */
struct bench_job {
	struct machine *m;	  /* machine under test */
	int cpu;		  /* simulated CPU (and host CPU modulo nproc) */
	int nproc;		  /* online host CPUs */
	double seconds;		  /* measuring time */
	unsigned long warmup;	  /* untimed operations first (0 = one batch) */
	pthread_barrier_t *start; /* all threads start together */
	bench_batch_fn batch;	  /* the operation under test */
	void *arg;		  /* case state for @batch */
	unsigned long ops;	  /* out: operations timed */
	double elapsed_ns;	  /* out: time of the timed operations */
	double *batch_ns;	  /* out: ns per operation of each timed batch */
	unsigned long nr_batches; /* out: timed batches */
	double best_ns;		  /* out: fastest batch, ns per operation */
	double median_ns;	  /* out: median batch, ns per operation */
	int err;		  /* out: first error of @batch */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void add_metric(struct bench_result *r, const char *key, const char *label, const char *unit,
		       int precision, double value, double target)
{
	struct bench_metric *mt;

	if (r->nr >= BENCH_METRICS)
		abort();
	mt = &r->m[r->nr++];
	mt->key = key;
	mt->label = label;
	mt->unit = unit;
	mt->precision = precision;
	mt->value = value;
	mt->target = target;
}

static void pin_to_host_cpu(int cpu, int nproc)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu % nproc, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Best and median batch of a finished job. */
static void job_summarise(struct bench_job *job)
{
	if (!job->nr_batches)
		return;
	qsort(job->batch_ns, job->nr_batches, sizeof(*job->batch_ns), cmp_double);
	job->best_ns = job->batch_ns[0];
	job->median_ns = job->batch_ns[job->nr_batches / 2];
}

/* The timing loop of every case: an untimed warm-up, then batches until the time is spent. */
static void *bench_job_run(void *arg)
{
	struct bench_job *job = arg;
	unsigned long cap = 1024;
	uint64_t t0, b0, b1;

	pin_to_host_cpu(job->cpu, job->nproc);
	job->batch_ns = xmalloc(cap * sizeof(*job->batch_ns));
	job->err = job->batch(job, job->warmup ? job->warmup : BENCH_BATCH);
	pthread_barrier_wait(job->start);
	if (job->err)
		return NULL;
	t0 = b1 = now_ns();
	do {
		b0 = b1;
		job->err = job->batch(job, BENCH_BATCH);
		b1 = now_ns();
		if (job->err)
			break;
		if (job->nr_batches == cap) {
			cap *= 2;
			job->batch_ns = xrealloc(job->batch_ns, cap * sizeof(*job->batch_ns));
		}
		job->batch_ns[job->nr_batches++] = (double)(b1 - b0) / BENCH_BATCH;
		job->ops += BENCH_BATCH;
	} while ((double)(b1 - t0) < job->seconds * 1e9);
	job->elapsed_ns = (double)(b1 - t0);
	job_summarise(job);
	return NULL;
}

static unsigned long allocated_pages(struct machine *m)
{
	unsigned long sum = 0;

	for (int nid = 0; nid < m->nr_nodes; nid++)
		for (int z = 0; z < MAX_NR_ZONES; z++)
			sum += zone_allocated_pages(&m->node_data[nid]->node_zones[z]);
	return sum;
}

/* The machine of the allocation cases: 686-pae, 2 GiB (Debian's default guest), @ncpus. */
static struct machine *bench_machine_new(int ncpus)
{
	struct machine_config cfg;
	struct machine *m;
	char err[MM_ERRLEN];

	machine_config_init(&cfg);
	cfg.ncpus = ncpus;
	if (machine_new(&m, &cfg, err)) {
		fprintf(stderr, "mm_bench: cannot boot the bench machine: %s\n", err);
		return NULL;
	}
	return m;
}

/* Every block taken was given back: allocated pages as before the case. */
static int check_no_leak(struct machine *m, unsigned long before, const char *name)
{
	unsigned long after = allocated_pages(m);

	if (after == before)
		return 0;
	fprintf(stderr, "mm_bench: case '%s' leaked %ld pages\n", name, (long)after - (long)before);
	return -EIO;
}

/* Pair cases: n alloc+free pairs of job->arg's order, GFP_KERNEL, on the job's CPU. */
static int pair_batch(struct bench_job *job, unsigned long n)
{
	unsigned int order = *(const unsigned int *)job->arg;

	for (unsigned long i = 0; i < n; i++) {
		unsigned long pfn;
		int ret;

		ret = __alloc_pages(job->m, &pfn, GFP_KERNEL, order, job->cpu, -1, 0, BENCH_OWNER,
				    NULL);
		if (ret)
			return ret;
		ret = free_pages(job->m, pfn, order, job->cpu, BENCH_OWNER);
		if (ret)
			return ret;
	}
	return 0;
}

/* Run @nthreads jobs on CPUs 0.. at once; the wall time from the common start is *@wall_ns. */
static int run_jobs(struct bench_job *jobs, int nthreads, double *wall_ns)
{
	pthread_t *tids = xcalloc((size_t)nthreads, sizeof(*tids));
	pthread_barrier_t start;
	uint64_t t0;
	int ret = 0;

	pthread_barrier_init(&start, NULL, (unsigned int)nthreads + 1);
	for (int i = 0; i < nthreads; i++) {
		jobs[i].start = &start;
		if (pthread_create(&tids[i], NULL, bench_job_run, &jobs[i]))
			abort();
	}
	pthread_barrier_wait(&start);
	t0 = now_ns();
	for (int i = 0; i < nthreads; i++) {
		pthread_join(tids[i], NULL);
		free(jobs[i].batch_ns);
		jobs[i].batch_ns = NULL;
		if (jobs[i].err && !ret)
			ret = jobs[i].err;
	}
	*wall_ns = (double)(now_ns() - t0);
	pthread_barrier_destroy(&start);
	free(tids);
	return ret;
}

/* What one operation of a case is called in its metrics. */
struct op_units {
	const char *ns;	   /* "ns/pair" */
	const char *rate;  /* "Mpairs/s" */
	const char *count; /* "pairs" */
};

/*
 * The timing metrics every allocation case reports: median batch (what the target is judged
 * on: a batch the host interrupted does not move it), mean over all timed operations, best
 * batch, aggregate rate and operation count. With several threads the times are per thread
 * (median and mean averaged over threads) and the rate is their sum over the wall time.
 */
static void add_timing_metrics(struct bench_result *r, const struct bench_job *jobs, int nthreads,
			       double wall_ns, const struct op_units *u, double target_ns)
{
	double median = 0, mean = 0, best = 1e300;
	unsigned long ops = 0;

	for (int i = 0; i < nthreads; i++) {
		ops += jobs[i].ops;
		median += jobs[i].median_ns / nthreads;
		mean += jobs[i].elapsed_ns / (double)jobs[i].ops / nthreads;
		if (jobs[i].best_ns < best)
			best = jobs[i].best_ns;
	}
	add_metric(r, "median_ns", "median", u->ns, 1, median, target_ns);
	add_metric(r, "mean_ns", "mean", u->ns, 1, mean, 0);
	add_metric(r, "best_ns", "best batch", u->ns, 1, best, 0);
	add_metric(r, "mops_per_s", "aggregate", u->rate, 2, (double)ops / wall_ns * 1e3, 0);
	add_metric(r, "ops", "", u->count, 0, (double)ops, 0);
}

static const struct op_units pair_units = {"ns/pair", "Mpairs/s", "pairs"};

/* The threads of a pair case: @batch on @arg, one thread per simulated CPU 0..@nthreads-1. */
static struct bench_job *pair_jobs_new(struct machine *m, const struct bench_opts *o, int nthreads,
				       bench_batch_fn batch, void *arg)
{
	struct bench_job *jobs = xcalloc((size_t)nthreads, sizeof(*jobs));

	for (int i = 0; i < nthreads; i++) {
		jobs[i].m = m;
		jobs[i].cpu = i;
		jobs[i].nproc = o->nproc;
		jobs[i].seconds = o->seconds;
		jobs[i].batch = batch;
		jobs[i].arg = arg;
	}
	return jobs;
}

static int bench_pairs(const struct bench_case *c, const struct bench_opts *o,
		       struct bench_result *r)
{
	int nthreads = c->all_cpus ? o->ncpus : 1;
	struct machine *m = bench_machine_new(o->ncpus);
	struct bench_job *jobs;
	unsigned long before;
	double wall_ns;
	int ret;

	if (!m)
		return -ENOMEM;
	jobs = pair_jobs_new(m, o, nthreads, pair_batch, (void *)&c->order);
	before = allocated_pages(m);
	ret = run_jobs(jobs, nthreads, &wall_ns);
	if (ret) {
		fprintf(stderr, "mm_bench: case '%s': order-%u pair failed (%d)\n", c->name,
			c->order, ret);
		goto out_free;
	}
	ret = check_no_leak(m, before, c->name);
	if (ret)
		goto out_free;
	snprintf(r->what, sizeof(r->what),
		 "order-%u GFP_KERNEL alloc+free pairs, %s, %d thread%s (simulated CPU i on host "
		 "CPU i %% %d)",
		 c->order, c->order <= PAGE_ALLOC_COSTLY_ORDER ? "pcp lists" : "buddy lists",
		 nthreads, nthreads > 1 ? "s at once" : "", o->nproc);
	add_timing_metrics(r, jobs, nthreads, wall_ns, &pair_units, c->target_ns);
	add_metric(r, "threads", "threads", "", 0, nthreads, 0);
out_free:
	free(jobs);
	machine_free(m);
	return ret;
}

static const gfp_t mixed_gfps[] = {GFP_KERNEL, GFP_HIGHUSER_MOVABLE, GFP_ATOMIC};
#define NR_MIXED_GFPS (sizeof(mixed_gfps) / sizeof(mixed_gfps[0]))

struct mixed_op {
	uint8_t order; /* 0..5 */
	uint8_t gfp;   /* index in mixed_gfps[] */
};

/* State of the mixed case: the ring of live blocks and the draws it consumes. */
struct mixed_state {
	struct mixed_op ops[BENCH_MIXED_TABLE]; /* pregenerated so the RNG is not timed */
	unsigned long *pfn;			/* live block of each ring slot */
	int8_t *order;				/* its order, -1 = empty slot */
	unsigned long live;			/* ring size */
	unsigned long next;			/* next step */
	unsigned long failures;			/* allocations the model refused */
	unsigned long pages;			/* pages allocated, over all steps */
};

static uint64_t xorshift64(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Give back the block of ring slot @slot, if any. */
static int mixed_release(struct bench_job *job, struct mixed_state *st, unsigned long slot)
{
	int ret;

	if (st->order[slot] < 0)
		return 0;
	ret = free_pages(job->m, st->pfn[slot], (unsigned int)st->order[slot], job->cpu,
			 BENCH_OWNER);
	st->order[slot] = -1;
	return ret;
}

/* One step: free the oldest live block (its ring slot), allocate the next draw into it. */
static int mixed_batch(struct bench_job *job, unsigned long n)
{
	struct mixed_state *st = job->arg;

	for (unsigned long i = 0; i < n; i++, st->next++) {
		unsigned long slot = st->next % st->live;
		const struct mixed_op *op = &st->ops[st->next % BENCH_MIXED_TABLE];
		int ret = mixed_release(job, st, slot);

		if (ret)
			return ret;
		ret = __alloc_pages(job->m, &st->pfn[slot], mixed_gfps[op->gfp], op->order,
				    job->cpu, -1, 0, BENCH_OWNER, NULL);
		if (ret == -ENOMEM) {
			st->failures++;
			continue;
		}
		if (ret)
			return ret;
		st->order[slot] = (int8_t)op->order;
		st->pages += 1ul << op->order;
	}
	return 0;
}

static int bench_mixed(const struct bench_case *c, const struct bench_opts *o,
		       struct bench_result *r)
{
	struct machine *m = bench_machine_new(o->ncpus);
	struct mixed_state *st = xcalloc(1, sizeof(*st));
	struct bench_job job = {.m = m,
				.cpu = 0,
				.nproc = o->nproc,
				.seconds = o->seconds,
				.batch = mixed_batch,
				.arg = st};
	static const struct op_units units = {"ns/step", "Msteps/s", "steps"};
	uint64_t seed = o->seed;
	unsigned long before = 0;
	double wall_ns;
	int ret = -ENOMEM;

	if (!m)
		goto out_free_state;
	for (unsigned int i = 0; i < BENCH_MIXED_TABLE; i++) {
		uint64_t x = xorshift64(&seed);

		st->ops[i].order = (uint8_t)(x % BENCH_MIXED_ORDERS);
		st->ops[i].gfp = (uint8_t)((x >> 32) % NR_MIXED_GFPS);
	}
	st->live = (unsigned long)o->live;
	job.warmup = st->live > BENCH_BATCH ? st->live : BENCH_BATCH;
	st->pfn = xcalloc(st->live, sizeof(*st->pfn));
	st->order = xmalloc(st->live);
	memset(st->order, -1, st->live);
	before = allocated_pages(m);
	ret = run_jobs(&job, 1, &wall_ns);
	for (unsigned long slot = 0; slot < st->live; slot++)
		if (!ret)
			ret = mixed_release(&job, st, slot);
	if (ret) {
		fprintf(stderr, "mm_bench: case '%s': step failed (%d)\n", c->name, ret);
		goto out_free;
	}
	ret = check_no_leak(m, before, c->name);
	if (ret)
		goto out_free;
	snprintf(r->what, sizeof(r->what),
		 "orders 0-5 x GFP_KERNEL|GFP_HIGHUSER_MOVABLE|GFP_ATOMIC, uniform, seed %llu, "
		 "ring of %ld live blocks, step = free oldest + alloc, 1 thread",
		 (unsigned long long)o->seed, o->live);
	add_timing_metrics(r, &job, 1, wall_ns, &units, 0);
	add_metric(r, "failures", "", "failed allocations", 0, (double)st->failures, 0);
	add_metric(r, "mean_pages_per_alloc", "mean", "pages/alloc", 2,
		   (double)st->pages / (double)(st->next - st->failures), 0);
out_free:
	free(st->order);
	free(st->pfn);
	machine_free(m);
out_free_state:
	free(st);
	return ret;
}

/* ---------------------------------------------------------------- slab cases */

/* Fast- and slow-path counts of the CPU slabs (struct kmem_cache_cpu), summed. */
struct slab_paths {
	unsigned long alloc_fast; /* allocations from a CPU freelist */
	unsigned long alloc_slow; /* allocations through ___slab_alloc() */
	unsigned long free_fast;  /* frees to a CPU freelist */
	unsigned long free_slow;  /* frees through __slab_free() */
};

static void slab_paths_add(struct slab_paths *sum, const struct kmem_cache *s, int ncpus)
{
	for (int cpu = 0; cpu < ncpus; cpu++) {
		const struct kmem_cache_cpu *c = &s->cpu_slab[cpu];

		sum->alloc_fast += c->alloc_fast;
		sum->alloc_slow += c->alloc_slow;
		sum->free_fast += c->free_fast;
		sum->free_slow += c->free_slow;
	}
}

/* What the slab layer holds, taken with every cache shrunk: the leak check of slab cases. */
struct slab_snapshot {
	unsigned long pages;	 /* allocated pages of every zone */
	unsigned long *active;	 /* active objects of each cache, in slab_caches order */
	int nr;			 /* caches */
	struct slab_paths paths; /* CPU slab paths taken so far, all caches */
};

/*
 * Shrink every cache (CPU slabs and partial lists back to the nodes, empty slabs back to the
 * page allocator), then count. Only then are get_slabinfo()'s active objects the objects
 * allocated: it counts the free objects of CPU slabs as active. Call with no job running.
 */
static void slab_snapshot_take(struct machine *m, struct slab_snapshot *snap)
{
	struct slab_state *st = m->slab;
	struct kmem_cache *s;
	int i = 0;

	memset(snap, 0, sizeof(*snap));
	pthread_mutex_lock(&st->slab_mutex);
	for (s = st->slab_caches; s; s = s->next)
		snap->nr++;
	snap->active = xcalloc((size_t)snap->nr, sizeof(*snap->active));
	for (s = st->slab_caches; s; s = s->next) {
		struct slabinfo info;

		kmem_cache_shrink(s);
		get_slabinfo(s, -1, &info);
		snap->active[i++] = info.active_objs;
		slab_paths_add(&snap->paths, s, m->ncpus);
	}
	pthread_mutex_unlock(&st->slab_mutex);
	snap->pages = allocated_pages(m);
}

static void slab_snapshot_release(struct slab_snapshot *snap)
{
	free(snap->active);
	snap->active = NULL;
}

/*
 * After a slab case: *@after taken, every cache holds the objects it held @before, the zones
 * the pages, and kmem_cache_validate() and machine_verify() are clean. 0 or -EIO.
 */
static int check_slab_no_leak(struct machine *m, const struct slab_snapshot *before,
			      struct slab_snapshot *after, const char *name)
{
	char err[MM_ERRLEN];
	int i = 0, ret = 0;

	slab_snapshot_take(m, after);
	if (after->nr != before->nr) {
		fprintf(stderr, "mm_bench: case '%s': %d caches before, %d after\n", name,
			before->nr, after->nr);
		return -EIO;
	}
	pthread_mutex_lock(&m->slab->slab_mutex);
	for (struct kmem_cache *s = m->slab->slab_caches; s; s = s->next, i++) {
		if (after->active[i] != before->active[i]) {
			fprintf(stderr, "mm_bench: case '%s' leaked %ld objects of '%s'\n", name,
				(long)after->active[i] - (long)before->active[i], s->name);
			ret = -EIO;
		}
		if (kmem_cache_validate(s, err, sizeof(err))) {
			fprintf(stderr, "mm_bench: case '%s': cache '%s' is inconsistent: %s\n",
				name, s->name, err);
			ret = -EIO;
		}
	}
	pthread_mutex_unlock(&m->slab->slab_mutex);
	if (check_no_leak(m, before->pages, name))
		ret = -EIO;
	if (machine_verify(m, err)) {
		fprintf(stderr, "mm_bench: case '%s': machine_verify: %s\n", name, err);
		ret = -EIO;
	}
	return ret;
}

static double percent(unsigned long part, unsigned long whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0;
}

/* Share of allocations and frees the CPU freelists served between two snapshots. */
static void add_path_metrics(struct bench_result *r, const struct slab_snapshot *before,
			     const struct slab_snapshot *after)
{
	unsigned long af = after->paths.alloc_fast - before->paths.alloc_fast;
	unsigned long as = after->paths.alloc_slow - before->paths.alloc_slow;
	unsigned long ff = after->paths.free_fast - before->paths.free_fast;
	unsigned long fs = after->paths.free_slow - before->paths.free_slow;

	add_metric(r, "alloc_fast_pct", "fast path: allocs", "%", 2, percent(af, af + as), 0);
	add_metric(r, "free_fast_pct", "frees", "%", 2, percent(ff, ff + fs), 0);
}

/* What a slab pair case allocates: kmalloc(@size) if @size, else objects of @cache. */
struct slab_pair {
	struct kmem_cache *cache; /* the cache the pairs use (kmalloc: the one it picks) */
	size_t size;		  /* kmalloc size, 0 = kmem_cache_alloc() from @cache */
};

static int kmalloc_pair_batch(struct bench_job *job, unsigned long n)
{
	const struct slab_pair *sp = job->arg;

	for (unsigned long i = 0; i < n; i++) {
		unsigned long addr = kmalloc(job->m, sp->size, GFP_KERNEL, job->cpu);
		int ret;

		if (!addr)
			return -ENOMEM;
		ret = kfree(job->m, addr, job->cpu);
		if (ret)
			return ret;
	}
	return 0;
}

static int cache_pair_batch(struct bench_job *job, unsigned long n)
{
	const struct slab_pair *sp = job->arg;

	for (unsigned long i = 0; i < n; i++) {
		unsigned long addr = kmem_cache_alloc(sp->cache, GFP_KERNEL, job->cpu);
		int ret;

		if (!addr)
			return -ENOMEM;
		ret = kmem_cache_free(sp->cache, addr, job->cpu);
		if (ret)
			return ret;
	}
	return 0;
}

static void slab_pairs_describe(struct bench_result *r, const struct slab_pair *sp, int nthreads,
				int nproc)
{
	const char *threads = nthreads > 1 ? "s at once" : "";

	if (sp->size)
		snprintf(r->what, sizeof(r->what),
			 "kmalloc(%zu, GFP_KERNEL) + kfree pairs, %s, %d thread%s (simulated CPU "
			 "i on host CPU i %% %d)",
			 sp->size, sp->cache->name, nthreads, threads, nproc);
	else
		snprintf(r->what, sizeof(r->what),
			 "kmem_cache_alloc + kmem_cache_free pairs, new cache '%s' (%u B), %d "
			 "thread%s (simulated CPU i on host CPU i %% %d)",
			 sp->cache->name, sp->cache->object_size, nthreads, threads, nproc);
}

static int bench_slab_pairs(const struct bench_case *c, const struct bench_opts *o,
			    struct bench_result *r)
{
	int nthreads = c->all_cpus ? o->ncpus : 1;
	struct machine *m = bench_machine_new(o->ncpus);
	struct slab_pair sp = {.size = c->size};
	struct slab_snapshot before, after = {0};
	struct bench_job *jobs;
	double wall_ns;
	int ret;

	if (!m)
		return -ENOMEM;
	if (sp.size) {
		sp.cache = kmalloc_slab(m, sp.size, GFP_KERNEL);
	} else {
		ret = kmem_cache_create(m, &sp.cache, "bench", BENCH_SLAB_CACHE_SIZE, 0, 0, false);
		if (ret) {
			fprintf(stderr, "mm_bench: case '%s': cannot create cache 'bench' (%d)\n",
				c->name, ret);
			goto out_free_machine;
		}
	}
	slab_snapshot_take(m, &before);
	jobs = pair_jobs_new(m, o, nthreads, sp.size ? kmalloc_pair_batch : cache_pair_batch, &sp);
	ret = run_jobs(jobs, nthreads, &wall_ns);
	if (ret) {
		fprintf(stderr, "mm_bench: case '%s': allocation or free failed (%d)\n", c->name,
			ret);
		goto out_free;
	}
	ret = check_slab_no_leak(m, &before, &after, c->name);
	if (ret)
		goto out_free;
	slab_pairs_describe(r, &sp, nthreads, o->nproc);
	if (!sp.size) {
		ret = kmem_cache_destroy(m, "bench");
		if (ret) {
			fprintf(stderr, "mm_bench: case '%s': cannot destroy cache 'bench' (%d)\n",
				c->name, ret);
			goto out_free;
		}
	}
	add_timing_metrics(r, jobs, nthreads, wall_ns, &pair_units, c->target_ns);
	add_metric(r, "threads", "threads", "", 0, nthreads, 0);
	add_path_metrics(r, &before, &after);
out_free:
	slab_snapshot_release(&after);
	slab_snapshot_release(&before);
	free(jobs);
out_free_machine:
	machine_free(m);
	return ret;
}

/* State of the slab-mixed case: the ring of live objects and the sizes it draws. */
struct slab_mixed_state {
	uint32_t sizes[BENCH_MIXED_TABLE]; /* pregenerated so the RNG is not timed */
	unsigned long *addr;		   /* live object of each ring slot, 0 = empty */
	unsigned long live;		   /* ring size */
	unsigned long next;		   /* next step */
	unsigned long failures;		   /* allocations the model refused */
	unsigned long large;		   /* kmalloc_large() allocations among the others */
};

/*
 * One size drawn from @x: one time in BENCH_SLAB_LARGE_ONE_IN a kmalloc_large size
 * (8 KiB + 1 .. BENCH_SLAB_LARGE_MAX), else log-uniform over 8..8192: a power-of-two class
 * 8, 16, .., 8192 uniformly, then a size in that class uniformly, so that every kmalloc
 * cache (96 and 192 too) sees traffic.
 */
static uint32_t slab_mixed_size(uint64_t x)
{
	const uint32_t cache_max = (uint32_t)KMALLOC_MAX_CACHE_SIZE;
	unsigned int shift;
	uint32_t lo, hi;

	if (x % BENCH_SLAB_LARGE_ONE_IN == 0)
		return cache_max + 1 + (uint32_t)((x >> 32) % (BENCH_SLAB_LARGE_MAX - cache_max));
	shift = KMALLOC_SHIFT_LOW +
		(unsigned int)((x >> 8) % (KMALLOC_SHIFT_HIGH - KMALLOC_SHIFT_LOW + 1));
	hi = 1u << shift;
	lo = shift == KMALLOC_SHIFT_LOW ? hi : hi / 2 + 1;
	return lo + (uint32_t)((x >> 32) % (hi - lo + 1));
}

/* Give back the object of ring slot @slot, if any. */
static int slab_mixed_release(struct bench_job *job, struct slab_mixed_state *st,
			      unsigned long slot)
{
	int ret;

	if (!st->addr[slot])
		return 0;
	ret = kfree(job->m, st->addr[slot], job->cpu);
	st->addr[slot] = 0;
	return ret;
}

/* One step: kfree the oldest live object (its ring slot), kmalloc the next draw into it. */
static int slab_mixed_batch(struct bench_job *job, unsigned long n)
{
	struct slab_mixed_state *st = job->arg;

	for (unsigned long i = 0; i < n; i++, st->next++) {
		unsigned long slot = st->next % st->live;
		uint32_t size = st->sizes[st->next % BENCH_MIXED_TABLE];
		int ret = slab_mixed_release(job, st, slot);

		if (ret)
			return ret;
		st->addr[slot] = kmalloc(job->m, size, GFP_KERNEL, job->cpu);
		if (!st->addr[slot]) {
			st->failures++;
			continue;
		}
		st->large += size > KMALLOC_MAX_CACHE_SIZE;
	}
	return 0;
}

static int bench_slab_mixed(const struct bench_case *c, const struct bench_opts *o,
			    struct bench_result *r)
{
	struct machine *m = bench_machine_new(o->ncpus);
	struct slab_mixed_state *st = xcalloc(1, sizeof(*st));
	struct bench_job job = {.m = m,
				.cpu = 0,
				.nproc = o->nproc,
				.seconds = o->seconds,
				.batch = slab_mixed_batch,
				.arg = st};
	static const struct op_units units = {"ns/step", "Msteps/s", "steps"};
	struct slab_snapshot before = {0}, after = {0};
	uint64_t seed = o->seed;
	double wall_ns;
	int ret = -ENOMEM;

	if (!m)
		goto out_free_state;
	for (unsigned int i = 0; i < BENCH_MIXED_TABLE; i++)
		st->sizes[i] = slab_mixed_size(xorshift64(&seed));
	st->live = (unsigned long)o->live;
	job.warmup = st->live > BENCH_BATCH ? st->live : BENCH_BATCH;
	st->addr = xcalloc(st->live, sizeof(*st->addr));
	slab_snapshot_take(m, &before);
	ret = run_jobs(&job, 1, &wall_ns);
	for (unsigned long slot = 0; slot < st->live; slot++)
		if (!ret)
			ret = slab_mixed_release(&job, st, slot);
	if (ret) {
		fprintf(stderr, "mm_bench: case '%s': step failed (%d)\n", c->name, ret);
		goto out_free;
	}
	ret = check_slab_no_leak(m, &before, &after, c->name);
	if (ret)
		goto out_free;
	snprintf(r->what, sizeof(r->what),
		 "kmalloc GFP_KERNEL, sizes 8..8192 log-uniform, 1 in %d kmalloc_large "
		 "(8193..%u B), seed %llu, ring of %ld live objects, step = kfree oldest + "
		 "kmalloc, 1 thread",
		 BENCH_SLAB_LARGE_ONE_IN, BENCH_SLAB_LARGE_MAX, (unsigned long long)o->seed,
		 o->live);
	add_timing_metrics(r, &job, 1, wall_ns, &units, 0);
	add_metric(r, "failures", "", "failed allocations", 0, (double)st->failures, 0);
	add_metric(r, "large_pct", "kmalloc_large", "% of allocs", 2,
		   percent(st->large, st->next - st->failures), 0);
	add_path_metrics(r, &before, &after);
out_free:
	slab_snapshot_release(&after);
	slab_snapshot_release(&before);
	free(st->addr);
	machine_free(m);
out_free_state:
	free(st);
	return ret;
}

/* Size and resident set of this process, in bytes (/proc/self/statm). */
static int read_statm(uint64_t *vsz, uint64_t *rss)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long size, resident;
	int n;

	if (!f)
		return -errno;
	n = fscanf(f, "%lu %lu", &size, &resident);
	fclose(f);
	if (n != 2)
		return -EIO;
	*vsz = (uint64_t)size * (uint64_t)sysconf(_SC_PAGESIZE);
	*rss = (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
	return 0;
}

static unsigned long machine_spanned_pages(const struct machine *m)
{
	unsigned long sum = 0;

	for (int nid = 0; nid < m->nr_nodes; nid++)
		sum += m->node_data[nid]->node_spanned_pages;
	return sum;
}

/* One timed boot and free of @cfg, with the host memory the boot added per spanned page. */
static int boot_once(const struct machine_config *cfg, double *boot_ns, double *free_ns,
		     double *rss_pp, double *vsz_pp, unsigned long *pages)
{
	uint64_t vsz0, rss0, vsz1, rss1, t0, t1;
	struct machine *m;
	char err[MM_ERRLEN];
	int ret;

	ret = read_statm(&vsz0, &rss0);
	if (ret)
		return ret;
	t0 = now_ns();
	ret = machine_new(&m, cfg, err);
	t1 = now_ns();
	if (ret) {
		fprintf(stderr, "mm_bench: cannot boot 686-pae 64 GiB: %s\n", err);
		return ret;
	}
	*boot_ns = (double)(t1 - t0);
	ret = read_statm(&vsz1, &rss1);
	*pages = machine_spanned_pages(m);
	*rss_pp = ((double)rss1 - (double)rss0) / (double)*pages;
	*vsz_pp = ((double)vsz1 - (double)vsz0) / (double)*pages;
	t0 = now_ns();
	machine_free(m);
	*free_ns = (double)(now_ns() - t0);
	return ret;
}

static int bench_boot(const struct bench_case *c, const struct bench_opts *o,
		      struct bench_result *r)
{
	struct machine_config cfg;
	double boot_sum = 0, boot_max = 0, free_sum = 0, rss_pp = 0, vsz_pp = 0;
	unsigned long pages = 0;
	uint64_t t0 = now_ns();
	int n = 0;

	(void)c;
	machine_config_init(&cfg);
	cfg.arch = ARCH_686_PAE;
	cfg.mem_bytes = 64ull << 30;
	cfg.ncpus = o->ncpus;
	do {
		double boot_ns, free_ns, rss, vsz;
		int ret = boot_once(&cfg, &boot_ns, &free_ns, &rss, &vsz, &pages);

		if (ret)
			return ret;
		if (!n) {
			rss_pp = rss;
			vsz_pp = vsz;
		}
		n++;
		boot_sum += boot_ns;
		free_sum += free_ns;
		if (boot_ns > boot_max)
			boot_max = boot_ns;
	} while (n < BENCH_BOOT_MAX && (double)(now_ns() - t0) < o->seconds * 1e9);
	snprintf(r->what, sizeof(r->what),
		 "machine_new 686-pae 64 GiB, %d cpus, %lu spanned pages, %d boot%s", o->ncpus,
		 pages, n, n > 1 ? "s" : "");
	add_metric(r, "boot_mean_ms", "boot mean", "ms", 1, boot_sum / n / 1e6, 0);
	add_metric(r, "boot_max_ms", "max", "ms", 1, boot_max / 1e6, 1000);
	add_metric(r, "free_ms", "machine_free", "ms", 1, free_sum / n / 1e6, 0);
	add_metric(r, "rss_bytes_per_page", "RSS after boot", "B/page", 2, rss_pp, 32);
	add_metric(r, "vsz_bytes_per_page", "mapped", "B/page", 2, vsz_pp, 0);
	add_metric(r, "sizeof_struct_page", "sizeof(struct page)", "B", 0,
		   (double)sizeof(struct page), 32);
	return 0;
}

static const struct bench_case bench_cases[] = {
	{.name = "order0", .run = bench_pairs, .order = 0, .target_ns = 50},
	{.name = "order0-mt", .run = bench_pairs, .order = 0, .all_cpus = true},
	{.name = "order3", .run = bench_pairs, .order = 3, .target_ns = 300},
	{.name = "order4", .run = bench_pairs, .order = 4},
	{.name = "mixed", .run = bench_mixed},
	{.name = "boot", .run = bench_boot},
	{.name = "kmalloc64", .run = bench_slab_pairs, .size = 64, .target_ns = 40},
	{.name = "kmalloc1k", .run = bench_slab_pairs, .size = 1024, .target_ns = 40},
	{.name = "cache", .run = bench_slab_pairs, .size = 0, .target_ns = 40},
	{.name = "kmalloc64-mt", .run = bench_slab_pairs, .size = 64, .all_cpus = true},
	{.name = "kmalloc1k-mt", .run = bench_slab_pairs, .size = 1024, .all_cpus = true},
	{.name = "cache-mt", .run = bench_slab_pairs, .size = 0, .all_cpus = true},
	{.name = "slab-mixed", .run = bench_slab_mixed},
};
#define NR_BENCH_CASES ((int)(sizeof(bench_cases) / sizeof(bench_cases[0])))

static bool metric_met(const struct bench_metric *mt)
{
	return mt->value <= mt->target;
}

static void print_text(const struct bench_case *c, const struct bench_result *r)
{
	printf("%-10s %s\n%-10s", c->name, r->what, "");
	for (int i = 0; i < r->nr; i++) {
		const struct bench_metric *mt = &r->m[i];

		printf("%s%s%s%.*f%s%s", i ? ", " : " ", mt->label, *mt->label ? " " : "",
		       mt->precision, mt->value, *mt->unit ? " " : "", mt->unit);
		if (mt->target)
			printf(" (target <= %g: %s)", mt->target,
			       metric_met(mt) ? "met" : "MISSED");
	}
	printf("\n");
	fflush(stdout);
}

/* Print @s as a JSON string (the machine strings we print need only these escapes). */
static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			putchar('\\');
		if ((unsigned char)*s >= 0x20)
			putchar(*s);
	}
	putchar('"');
}

static void print_json_case(const struct bench_case *c, const struct bench_result *r, bool first)
{
	printf("%s\n    {\"name\": ", first ? "" : ",");
	json_string(c->name);
	printf(", \"description\": ");
	json_string(r->what);
	printf(", \"metrics\": {");
	for (int i = 0; i < r->nr; i++) {
		const struct bench_metric *mt = &r->m[i];

		printf("%s\n      \"%s\": {\"value\": %.*f, \"unit\": ", i ? "," : "", mt->key,
		       mt->precision, mt->value);
		json_string(mt->unit);
		if (mt->target)
			printf(", \"target_max\": %g, \"met\": %s", mt->target,
			       metric_met(mt) ? "true" : "false");
		printf("}");
	}
	printf("}}");
}

struct host_info {
	char cpu[128];	  /* model name from /proc/cpuinfo */
	char kernel[160]; /* uname -s -r */
};

static void host_info_read(struct host_info *h)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[512];
	struct utsname u;

	snprintf(h->cpu, sizeof(h->cpu), "unknown");
	snprintf(h->kernel, sizeof(h->kernel), "unknown");
	while (f && fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (strncmp(line, "model name", 10) || !colon)
			continue;
		colon += 1 + (colon[1] == ' ');
		colon[strcspn(colon, "\n")] = '\0';
		snprintf(h->cpu, sizeof(h->cpu), "%s", colon);
		break;
	}
	if (f)
		fclose(f);
	if (!uname(&u))
		snprintf(h->kernel, sizeof(h->kernel), "%s %s", u.sysname, u.release);
}

static void print_header(const struct bench_opts *o, const struct host_info *h)
{
	if (o->json) {
		printf("{\n  \"machine\": {\"cpu\": ");
		json_string(h->cpu);
		printf(", \"nproc\": %d, \"kernel\": ", o->nproc);
		json_string(h->kernel);
		printf(", \"compiler\": ");
		json_string(BENCH_COMPILER);
		printf(", \"build_type\": ");
		json_string(BENCH_BUILD_TYPE);
		printf("},\n  \"options\": {\"seconds\": %g, \"cpus\": %d, \"live\": %ld, "
		       "\"seed\": %llu},\n  \"cases\": [",
		       o->seconds, o->ncpus, o->live, (unsigned long long)o->seed);
		return;
	}
	printf("mm_bench: numasim allocator model (node/mm)\n");
	printf("host:      %s, nproc %d, %s\n", h->cpu, o->nproc, h->kernel);
	printf("build:     %s, %s%s\n", BENCH_COMPILER, BENCH_BUILD_TYPE,
#ifdef __OPTIMIZE__
	       ""
#else
	       " (bench not optimised: figures are meaningless)"
#endif
	);
	printf("options:   --seconds %g per case, --cpus %d, --live %ld, --seed %llu\n\n",
	       o->seconds, o->ncpus, o->live, (unsigned long long)o->seed);
	fflush(stdout);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: mm_bench [--cases LIST] [--seconds N] [--cpus N] [--live N] "
		   "[--seed N] [--json]\n"
		   "  --cases LIST  comma-separated, from:");
	for (int i = 0; i < NR_BENCH_CASES; i++)
		fprintf(f, " %s", bench_cases[i].name);
	fprintf(f, " (default: all)\n"
		   "  --seconds N   measuring time per case, may be fractional (default 0.5)\n"
		   "  --cpus N      simulated CPUs; threads of the -mt cases (default: nproc)\n"
		   "  --live N      live blocks or objects of mixed and slab-mixed (default 4096)\n"
		   "  --seed N      seed of mixed and slab-mixed (default 1)\n"
		   "  --json        one JSON document instead of text lines\n");
}

static int parse_cases(const char *list, unsigned int *mask)
{
	char *copy = xstrdup(list), *save = NULL;
	int ret = 0;

	*mask = 0;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int i;

		for (i = 0; i < NR_BENCH_CASES; i++)
			if (!strcmp(tok, bench_cases[i].name))
				break;
		if (i == NR_BENCH_CASES) {
			fprintf(stderr, "mm_bench: unknown case '%s'\n", tok);
			ret = -EINVAL;
			break;
		}
		*mask |= 1u << i;
	}
	free(copy);
	return ret || *mask ? ret : -EINVAL;
}

static int parse_args(int argc, char **argv, struct bench_opts *o)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		long n;

		if (!strcmp(a, "--json")) {
			o->json = true;
			continue;
		}
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			exit(0);
		}
		if (!v) {
			fprintf(stderr, "mm_bench: unknown option or missing value '%s'\n", a);
			return -EINVAL;
		}
		i++;
		if (!strcmp(a, "--cases")) {
			if (parse_cases(v, &o->cases))
				return -EINVAL;
		} else if (!strcmp(a, "--seconds")) {
			char *end;

			o->seconds = strtod(v, &end);
			if (*end || !(o->seconds > 0 && o->seconds <= 3600))
				goto bad_value;
		} else if (!strcmp(a, "--cpus")) {
			if (nsim_parse_long(v, 1, NR_CPUS_MAX, &n))
				goto bad_value;
			o->ncpus = (int)n;
		} else if (!strcmp(a, "--live")) {
			if (nsim_parse_long(v, 1, 1l << 20, &o->live))
				goto bad_value;
		} else if (!strcmp(a, "--seed")) {
			if (nsim_parse_long(v, 1, __LONG_MAX__, &n))
				goto bad_value;
			o->seed = (uint64_t)n;
		} else {
			fprintf(stderr, "mm_bench: unknown option '%s'\n", a);
			return -EINVAL;
		}
		continue;
bad_value:
		fprintf(stderr, "mm_bench: bad value '%s' for '%s'\n", v, a);
		return -EINVAL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct bench_opts o = {.seconds = 0.5, .live = 4096, .seed = 1};
	struct host_info host;
	bool first = true;
	int status = 0;

	o.nproc = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (o.nproc < 1)
		o.nproc = 1;
	o.ncpus = o.nproc < NR_CPUS_MAX ? o.nproc : NR_CPUS_MAX;
	o.cases = (1u << NR_BENCH_CASES) - 1;
	if (parse_args(argc, argv, &o)) {
		usage(stderr);
		return 2;
	}
	host_info_read(&host);
	print_header(&o, &host);
	for (int i = 0; i < NR_BENCH_CASES; i++) {
		const struct bench_case *c = &bench_cases[i];
		struct bench_result r = {0};

		if (!(o.cases & (1u << i)))
			continue;
		if (c->run(c, &o, &r)) {
			status = 1;
			continue;
		}
		if (o.json)
			print_json_case(c, &r, first);
		else
			print_text(c, &r);
		first = false;
	}
	if (o.json)
		printf("\n  ]\n}\n");
	return status;
}
