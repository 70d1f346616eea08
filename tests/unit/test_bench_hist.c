// SPDX-License-Identifier: MIT
/*
 * test_bench_hist.c - the bench's latency histogram (client/bench/hist.c): bucket geometry,
 * and percentiles against a sorted reference for several distributions, each within 1% of
 * the reference's value at the same nearest rank.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"
#include "unit.h"

#define N 200000

static const double pcts[] = {0, 0.1, 1, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.99, 100};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void test_geometry(void)
{
	uint64_t prev = 0;

	CU_ASSERT_EQUAL(bench_hist_bucket(0), 0);
	CU_ASSERT_EQUAL(bench_hist_bucket(255), 255);
	CU_ASSERT_EQUAL(bench_hist_bucket(256), 256);
	CU_ASSERT_EQUAL(bench_hist_bucket(UINT64_MAX), BENCH_HIST_BUCKETS - 1);
	for (unsigned int b = 0; b < BENCH_HIST_BUCKETS; b++) {
		uint64_t lo = bench_hist_bucket_low(b);

		CU_ASSERT_EQUAL_FATAL(bench_hist_bucket(lo), b);
		if (b) {
			CU_ASSERT_FATAL(lo > prev);
			CU_ASSERT_EQUAL_FATAL(bench_hist_bucket(lo - 1), b - 1);
			/* width over lower bound: never above 1/128 */
			CU_ASSERT_FATAL((lo - prev) * BENCH_HIST_SUB <= prev ||
					prev < BENCH_HIST_EXACT);
		}
		prev = lo;
	}
}

/* Percentiles of @v (n values) from the histogram against the sorted list. */
static void check_percentiles(const char *name, uint64_t *v, size_t n)
{
	struct bench_hist *h = malloc(sizeof(*h));
	double worst = 0;

	bench_hist_init(h);
	for (size_t i = 0; i < n; i++)
		bench_hist_record(h, v[i]);
	qsort(v, n, sizeof(*v), cmp_u64);
	CU_ASSERT_EQUAL(h->n, n);
	CU_ASSERT_EQUAL(h->min, v[0]);
	CU_ASSERT_EQUAL(h->max, v[n - 1]);
	for (size_t i = 0; i < ARRAY_SIZE(pcts); i++) {
		uint64_t ref = v[bench_hist_rank(pcts[i], n) - 1];
		uint64_t got = bench_hist_percentile(h, pcts[i]);
		double err = ref ? fabs((double)got - (double)ref) / (double)ref : (double)got;

		if (err > worst)
			worst = err;
		if (err > 0.01)
			printf("\n%s: p%g = %llu, reference %llu (%.3f%%)\n", name, pcts[i],
			       (unsigned long long)got, (unsigned long long)ref, err * 100);
		CU_ASSERT(err <= 0.01);
	}
	CU_ASSERT(worst <= 0.005); /* the midpoint is within 1/256 */
	free(h);
}

static void test_percentiles(void)
{
	uint64_t *v = malloc(N * sizeof(*v));
	struct bench_rng r;

	bench_rng_seed(&r, 2024);
	for (size_t i = 0; i < N; i++) /* uniform over 1 us .. 10 ms */
		v[i] = 1000 + bench_rng_below(&r, 10000000);
	check_percentiles("uniform", v, N);
	for (size_t i = 0; i < N; i++) { /* exponential, mean 300 us */
		double u = ((double)bench_rng_below(&r, 1u << 30) + 0.5) / (double)(1u << 30);

		v[i] = (uint64_t)(-log(u) * 300000.0);
	}
	check_percentiles("exponential", v, N);
	for (size_t i = 0; i < N; i++) { /* log-uniform over 100 ns .. 10 s: every exponent */
		double u = (double)bench_rng_below(&r, 1u << 30) / (double)(1u << 30);

		v[i] = (uint64_t)(100.0 * pow(1e8, u));
	}
	check_percentiles("log-uniform", v, N);
	for (size_t i = 0; i < N; i++) /* small exact values and a far tail */
		v[i] = i % 1000 ? bench_rng_below(&r, 300) : 5000000000ull + i;
	check_percentiles("bimodal", v, N);
	v[0] = 123456;
	check_percentiles("single", v, 1);
	free(v);
}

static void test_merge_and_mean(void)
{
	struct bench_hist *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b)),
			  *all = malloc(sizeof(*all));

	bench_hist_init(a);
	bench_hist_init(b);
	bench_hist_init(all);
	CU_ASSERT_EQUAL(bench_hist_percentile(a, 50), 0);
	CU_ASSERT_EQUAL(bench_hist_mean(a), 0.0);
	for (uint64_t i = 1; i <= 1000; i++) {
		bench_hist_record(i % 2 ? a : b, i * 1000);
		bench_hist_record(all, i * 1000);
	}
	bench_hist_merge(a, b);
	CU_ASSERT_EQUAL(a->n, all->n);
	CU_ASSERT_EQUAL(a->sum, all->sum);
	CU_ASSERT_EQUAL(a->min, 1000);
	CU_ASSERT_EQUAL(a->max, 1000000);
	CU_ASSERT_DOUBLE_EQUAL(bench_hist_mean(a), 500500.0, 1e-6);
	for (size_t i = 0; i < ARRAY_SIZE(pcts); i++)
		CU_ASSERT_EQUAL(bench_hist_percentile(a, pcts[i]),
				bench_hist_percentile(all, pcts[i]));
	free(a);
	free(b);
	free(all);
}

static void test_rank(void)
{
	CU_ASSERT_EQUAL(bench_hist_rank(0, 1000), 1);
	CU_ASSERT_EQUAL(bench_hist_rank(50, 1000), 500);
	CU_ASSERT_EQUAL(bench_hist_rank(99.9, 1000), 999);
	CU_ASSERT_EQUAL(bench_hist_rank(99.95, 1000), 1000);
	CU_ASSERT_EQUAL(bench_hist_rank(100, 1000), 1000);
	CU_ASSERT_EQUAL(bench_hist_rank(50, 1), 1);
}

static void test_write(void)
{
	struct bench_hist *h = malloc(sizeof(*h));
	char line[64];
	FILE *f = tmpfile();
	unsigned long long total = 0, count;
	double us, prev = -1;

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	bench_hist_init(h);
	for (uint64_t i = 0; i < 5000; i++)
		bench_hist_record(h, 1000 + i * i);
	bench_hist_write(h, f);
	rewind(f);
	while (fgets(line, sizeof(line), f)) {
		CU_ASSERT_EQUAL(sscanf(line, "%lf %llu", &us, &count), 2);
		CU_ASSERT(us > prev);
		prev = us;
		total += count;
	}
	CU_ASSERT_EQUAL(total, 5000);
	fclose(f);
	free(h);
}

static CU_TestInfo tests[] = {
	{"geometry", test_geometry},
	{"percentiles", test_percentiles},
	{"merge_and_mean", test_merge_and_mean},
	{"rank", test_rank},
	{"write", test_write},
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("bench_hist", NULL, NULL, tests);
