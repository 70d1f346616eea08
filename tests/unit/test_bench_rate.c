// SPDX-License-Identifier: MIT
/*
 * test_bench_rate.c - the open-loop schedule (client/bench/rate.c): intended send times of
 * one stream and of many sharing a rate, fractional rates, and no drift however far in.
 */
#include <stdlib.h>

#include "bench.h"
#include "unit.h"

#define SEC 1000000000ull

static void test_single_stream(void)
{
	struct bench_rate r;

	bench_rate_init(&r, 5000, 1000.0, 0, 1);
	for (uint64_t k = 0; k < 10000; k++)
		CU_ASSERT_EQUAL_FATAL(bench_rate_take(&r), 5000 + k * 1000000);
	CU_ASSERT_EQUAL(r.k, 10000);
	CU_ASSERT_EQUAL(bench_rate_peek(&r), 5000 + 10000 * 1000000ull);
	CU_ASSERT_EQUAL(bench_rate_peek(&r), bench_rate_take(&r)); /* peek does not advance */
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* 7 streams share 700 ops/s: together they are the schedule of one stream at 700 ops/s. */
static void test_streams_interleave(void)
{
	enum { STREAMS = 7, PER = 1000 };
	struct bench_rate r[STREAMS], one;
	uint64_t *all = malloc(STREAMS * PER * sizeof(*all));
	size_t n = 0;

	bench_rate_init(&one, 0, 700.0, 0, 1);
	for (int s = 0; s < STREAMS; s++) {
		uint64_t prev = 0;

		bench_rate_init(&r[s], 0, 700.0, (unsigned int)s, STREAMS);
		for (int k = 0; k < PER; k++) {
			uint64_t t = bench_rate_take(&r[s]);

			CU_ASSERT(k == 0 ||
				  t - prev == bench_rate_at(&r[s], 1) - bench_rate_at(&r[s], 0) ||
				  t - prev ==
					  bench_rate_at(&r[s], 1) - bench_rate_at(&r[s], 0) + 1);
			prev = t;
			all[n++] = t;
		}
	}
	qsort(all, n, sizeof(*all), cmp_u64);
	for (size_t j = 0; j < n; j++)
		CU_ASSERT_EQUAL_FATAL(all[j], bench_rate_take(&one));
	CU_ASSERT_EQUAL(all[1] - all[0], SEC / 700);
	free(all);
}

static void test_fractional(void)
{
	struct bench_rate r;

	bench_rate_init(&r, 0, 3.0, 0, 1); /* 333333333.33 ns apart, rounded down */
	CU_ASSERT_EQUAL(bench_rate_at(&r, 1), 333333333);
	CU_ASSERT_EQUAL(bench_rate_at(&r, 2), 666666666);
	CU_ASSERT_EQUAL(bench_rate_at(&r, 3), SEC);
	bench_rate_init(&r, 0, 0.5, 0, 1);
	CU_ASSERT_EQUAL(bench_rate_at(&r, 1), 2 * SEC);
	bench_rate_init(&r, 0, 2500.25, 0, 1);
	CU_ASSERT_EQUAL(bench_rate_at(&r, 250025), 100 * SEC);
}

/* Times come from the index: a billion requests in, still exact. */
static void test_no_drift(void)
{
	struct bench_rate r;

	bench_rate_init(&r, 7, 3.0, 0, 1);
	CU_ASSERT_EQUAL(bench_rate_at(&r, 3000000000ull), 7 + 1000000000ull * SEC);
	bench_rate_init(&r, 0, 1e6, 2, 4);
	CU_ASSERT_EQUAL(bench_rate_at(&r, 0), 2000);
	CU_ASSERT_EQUAL(bench_rate_at(&r, 1000000000ull), (2 + 4000000000ull) * 1000);
}

static CU_TestInfo tests[] = {
	{"single_stream", test_single_stream},
	{"streams_interleave", test_streams_interleave},
	{"fractional", test_fractional},
	{"no_drift", test_no_drift},
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("bench_rate", NULL, NULL, tests);
