// SPDX-License-Identifier: MIT
/*
 * test_bench_dist.c - the bench's random numbers and distributions (client/bench/dist.c):
 * seeded reproducibility, unbiased bounds, the --orders/--sizes syntax, and sample
 * frequencies within a tolerance of the weights (10+ standard deviations wide, so a correct
 * generator never fails; the seed is printed when one does).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "unit.h"

#define SAMPLES 1000000

static void test_rng_seeded(void)
{
	struct bench_rng a, b, c;
	int same = 0;

	bench_rng_seed(&a, 42);
	bench_rng_seed(&b, 42);
	bench_rng_seed(&c, 43);
	for (int i = 0; i < 1000; i++) {
		uint64_t x = bench_rng_next(&a);

		CU_ASSERT_EQUAL(x, bench_rng_next(&b));
		same += x == bench_rng_next(&c);
	}
	CU_ASSERT_EQUAL(same, 0);
	CU_ASSERT_NOT_EQUAL(bench_mix64(1, 0), bench_mix64(1, 1));
	CU_ASSERT_NOT_EQUAL(bench_mix64(1, 0), bench_mix64(2, 0));
}

static void test_rng_below(void)
{
	struct bench_rng r;
	uint64_t counts[7] = {0};

	bench_rng_seed(&r, 7);
	CU_ASSERT_EQUAL(bench_rng_below(&r, 0), 0);
	CU_ASSERT_EQUAL(bench_rng_below(&r, 1), 0);
	for (int i = 0; i < SAMPLES; i++) {
		uint64_t x = bench_rng_below(&r, 7);

		CU_ASSERT_FATAL(x < 7);
		counts[x]++;
	}
	for (int i = 0; i < 7; i++)
		CU_ASSERT(fabs((double)counts[i] / SAMPLES - 1.0 / 7) < 0.003);
	for (int i = 0; i < 1000; i++)
		CU_ASSERT(bench_rng_below(&r, UINT64_MAX - 5) < UINT64_MAX - 5);
}

static void test_parse(void)
{
	struct bench_dist d;
	const char *why;
	char buf[128];

	CU_ASSERT_EQUAL(bench_dist_parse(&d, "0:70,1:10,3:15,9:5", 0, 10, 0, &why), 0);
	CU_ASSERT_EQUAL(d.n, 4);
	CU_ASSERT_EQUAL(d.total, 100);
	CU_ASSERT_EQUAL(d.cum[3], 100);
	CU_ASSERT_EQUAL(bench_dist_max(&d), 9);
	bench_dist_format(&d, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "0:70,1:10,3:15,9:5");
	bench_dist_release(&d);

	CU_ASSERT_EQUAL(
		bench_dist_parse(&d, "64:50,1K-2K:30,8192", 1, 1 << 22, BENCH_DIST_SIZES, &why), 0);
	CU_ASSERT_EQUAL(d.n, 3);
	CU_ASSERT_EQUAL(d.e[1].lo, 1024);
	CU_ASSERT_EQUAL(d.e[1].hi, 2048);
	CU_ASSERT_EQUAL(d.e[2].weight, 1);
	bench_dist_release(&d);

	CU_ASSERT_EQUAL(bench_dist_parse(&d, "16-4096", 1, 1 << 22, BENCH_DIST_SIZES, &why), 0);
	CU_ASSERT_EQUAL(d.e[0].lo, 16);
	CU_ASSERT_EQUAL(d.e[0].hi, 4096);
	bench_dist_release(&d);
}

static void test_parse_errors(void)
{
	static const char *const bad[] = {"",	 ",",  "a:1", "1:",   "1:x", "5-3",
					  "0:0", "11", "-1",  "3-12", "1:-2"};
	struct bench_dist d;
	const char *why = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		CU_ASSERT_EQUAL(bench_dist_parse(&d, bad[i], 0, 10, 0, &why), -EINVAL);
		CU_ASSERT_PTR_NOT_NULL(why);
		CU_ASSERT_EQUAL(d.n, 0);
	}
	CU_ASSERT_EQUAL(bench_dist_parse(&d, "0", 1, 10, BENCH_DIST_SIZES, NULL), -EINVAL);
}

/* Frequencies of @spec's values against the weights, within @tol (absolute). */
static void check_frequencies(const char *spec, uint64_t seed, double tol)
{
	struct bench_dist d;
	struct bench_rng r;
	static uint64_t counts[64];
	bool ok = true;

	CU_ASSERT_FATAL(!bench_dist_parse(&d, spec, 0, 63, 0, NULL));
	memset(counts, 0, sizeof(counts));
	bench_rng_seed(&r, seed);
	for (int i = 0; i < SAMPLES; i++)
		counts[bench_dist_sample(&d, &r)]++;
	for (size_t i = 0; i < d.n; i++) {
		const struct bench_dist_entry *e = &d.e[i];
		double want = (double)e->weight / (double)d.total / (double)(e->hi - e->lo + 1);

		for (uint64_t v = e->lo; v <= e->hi; v++) {
			double got = (double)counts[v] / SAMPLES;

			if (fabs(got - want) > tol) {
				printf("\n%s seed %llu: value %llu at %.4f, expected %.4f\n", spec,
				       (unsigned long long)seed, (unsigned long long)v, got, want);
				ok = false;
			}
			counts[v] = 0;
		}
	}
	for (int v = 0; v < 64; v++)
		ok &= counts[v] == 0; /* nothing outside the entries */
	CU_ASSERT(ok);
	bench_dist_release(&d);
}

static void test_frequencies(void)
{
	check_frequencies("0:70,1:10,3:15,9:5", 42, 0.005);
	check_frequencies("0:1,1:1", 1, 0.005);
	check_frequencies("2-17", 3, 0.003);
	check_frequencies("0:90,10-19:10", 4, 0.003);
	check_frequencies("5:0,6:1", 5, 0.0); /* a weight of 0 is never drawn */
}

static void test_sample_reproducible(void)
{
	struct bench_dist d;
	struct bench_rng a, b;

	CU_ASSERT_FATAL(!bench_dist_parse(&d, "0:70,1:10,3:15,9:5", 0, 10, 0, NULL));
	bench_rng_seed(&a, 99);
	bench_rng_seed(&b, 99);
	for (int i = 0; i < 10000; i++)
		CU_ASSERT_EQUAL(bench_dist_sample(&d, &a), bench_dist_sample(&d, &b));
	bench_dist_release(&d);
}

static CU_TestInfo tests[] = {
	{"rng_seeded", test_rng_seeded},
	{"rng_below", test_rng_below},
	{"parse", test_parse},
	{"parse_errors", test_parse_errors},
	{"frequencies", test_frequencies},
	{"sample_reproducible", test_sample_reproducible},
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("bench_dist", NULL, NULL, tests);
