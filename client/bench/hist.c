// SPDX-License-Identifier: MIT
/*
 * hist.c - the latency histogram: log-linear buckets over nanoseconds.
 *
 * Geometry (S = BENCH_HIST_SUB = 128):
 *   v < 2S                  bucket v (exact)
 *   2^e <= v < 2^(e+1), e>=8  bucket 2S + (e - 8) * S + (v >> (e - 7)) - S
 * so the buckets of one power of two have width w = 2^(e-7) and start at (S + sub) * w with
 * sub in [0, S): width / lower bound <= 1/S. A bucket reports its midpoint, clamped to the
 * exact min and max, which is within w/2 <= lower/(2S) of every value in it: 0.4%, inside
 * the 1% the summary promises.
 *
 * Percentiles use the nearest rank, ceil(p/100 * n): the value the sorted list holds at that
 * rank falls in the bucket where the cumulative count first reaches the rank.
 * Invariant: n == sum of counts[]; min <= every value <= max.
 */
#include <math.h>
#include <string.h>

#include "bench.h"

void bench_hist_init(struct bench_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

unsigned int bench_hist_bucket(uint64_t ns)
{
	unsigned int e;

	if (ns < BENCH_HIST_EXACT)
		return (unsigned int)ns;
	e = 63u - (unsigned int)__builtin_clzll(ns);
	if (e >= BENCH_HIST_MAX_BITS)
		return BENCH_HIST_BUCKETS - 1;
	return BENCH_HIST_EXACT + (e - BENCH_HIST_SUB_BITS - 1) * BENCH_HIST_SUB +
	       (unsigned int)(ns >> (e - BENCH_HIST_SUB_BITS)) - BENCH_HIST_SUB;
}

/* The exponent and sub-bucket of a bucket at or above BENCH_HIST_EXACT. */
static void bucket_split(unsigned int b, unsigned int *e, uint64_t *sub)
{
	unsigned int i = b - BENCH_HIST_EXACT;

	*e = BENCH_HIST_SUB_BITS + 1 + i / BENCH_HIST_SUB;
	*sub = i % BENCH_HIST_SUB;
}

uint64_t bench_hist_bucket_low(unsigned int b)
{
	unsigned int e;
	uint64_t sub;

	if (b < BENCH_HIST_EXACT)
		return b;
	bucket_split(b, &e, &sub);
	return (BENCH_HIST_SUB + sub) << (e - BENCH_HIST_SUB_BITS);
}

uint64_t bench_hist_bucket_value(const struct bench_hist *h, unsigned int b)
{
	uint64_t v = bench_hist_bucket_low(b);
	unsigned int e;
	uint64_t sub;

	if (b >= BENCH_HIST_EXACT) {
		bucket_split(b, &e, &sub);
		v += (1ull << (e - BENCH_HIST_SUB_BITS)) / 2;
	}
	if (h->n && v > h->max)
		v = h->max;
	if (h->n && v < h->min)
		v = h->min;
	return v;
}

void bench_hist_record(struct bench_hist *h, uint64_t ns)
{
	h->counts[bench_hist_bucket(ns)]++;
	h->n++;
	h->sum += ns;
	if (ns < h->min)
		h->min = ns;
	if (ns > h->max)
		h->max = ns;
}

void bench_hist_merge(struct bench_hist *dst, const struct bench_hist *src)
{
	if (!src->n)
		return;
	for (unsigned int b = 0; b < BENCH_HIST_BUCKETS; b++)
		dst->counts[b] += src->counts[b];
	dst->n += src->n;
	dst->sum += src->sum;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
}

uint64_t bench_hist_rank(double p, uint64_t n)
{
	double r;

	if (p <= 0)
		return 1;
	if (p >= 100)
		return n;
	r = ceil(p / 100.0 * (double)n - 1e-9); /* 99.9% of 1000 is rank 999, not 1000 */
	if (r < 1)
		return 1;
	return r > (double)n ? n : (uint64_t)r;
}

uint64_t bench_hist_percentile(const struct bench_hist *h, double p)
{
	uint64_t rank, cum = 0;

	if (!h->n)
		return 0;
	if (p >= 100)
		return h->max;
	rank = bench_hist_rank(p, h->n);
	if (rank <= 1)
		return h->min;
	for (unsigned int b = 0; b < BENCH_HIST_BUCKETS; b++) {
		cum += h->counts[b];
		if (cum >= rank)
			return bench_hist_bucket_value(h, b);
	}
	return h->max;
}

double bench_hist_mean(const struct bench_hist *h)
{
	return h->n ? (double)h->sum / (double)h->n : 0.0;
}

void bench_hist_write(const struct bench_hist *h, FILE *out)
{
	for (unsigned int b = 0; b < BENCH_HIST_BUCKETS; b++)
		if (h->counts[b])
			fprintf(out, "%.3f %llu\n", (double)bench_hist_bucket_value(h, b) / 1000.0,
				(unsigned long long)h->counts[b]);
}
