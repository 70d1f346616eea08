// SPDX-License-Identifier: MIT
/*
 * dist.c - seeded random numbers and weighted distributions for the bench workload.
 *
 * The generator is xoshiro256** (Blackman and Vigna) whose state is filled by splitmix64
 * from the seed, so a --seed reproduces every choice of every connection: connection i draws
 * from bench_mix64(seed, i). bench_rng_below() rejects the few values that would bias a
 * modulo.
 *
 * A distribution is a list of entries (a value or a range, with a weight). Sampling draws
 * x in [0, total), finds the first entry whose cumulative weight exceeds x by binary search,
 * then a value uniformly within the entry's range. Invariant: cum[i] == sum of weight[0..i].
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "nsim.h"

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint64_t bench_mix64(uint64_t seed, uint64_t i)
{
	uint64_t x = seed ^ (i * 0xd1b54a32d192ed03ull);

	return splitmix64(&x);
}

void bench_rng_seed(struct bench_rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
	if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3]))
		r->s[0] = 1; /* the one state xoshiro cannot leave */
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t bench_rng_next(struct bench_rng *r)
{
	uint64_t *s = r->s;
	uint64_t out = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

uint64_t bench_rng_below(struct bench_rng *r, uint64_t n)
{
	uint64_t x, skip;

	if (!n)
		return 0;
	skip = (0 - n) % n; /* 2^64 mod n: the values below it would favour small results */
	do
		x = bench_rng_next(r);
	while (x < skip);
	return x % n;
}

/* ------------------------------------------------------------------ distributions */

void bench_dist_add(struct bench_dist *d, uint64_t lo, uint64_t hi, uint64_t weight)
{
	d->e = xrealloc(d->e, (d->n + 1) * sizeof(*d->e));
	d->cum = xrealloc(d->cum, (d->n + 1) * sizeof(*d->cum));
	d->e[d->n] = (struct bench_dist_entry){lo, hi, weight};
	d->total += weight;
	d->cum[d->n] = d->total;
	d->n++;
}

void bench_dist_release(struct bench_dist *d)
{
	free(d->e);
	free(d->cum);
	memset(d, 0, sizeof(*d));
}

static int parse_value(const char *s, unsigned int flags, uint64_t *v)
{
	long l;

	if (flags & BENCH_DIST_SIZES)
		return nsim_parse_size(s, v);
	if (nsim_parse_long(s, 0, INT32_MAX, &l))
		return -EINVAL;
	*v = (uint64_t)l;
	return 0;
}

/* One "VALUE[:WEIGHT]" entry (VALUE: N or LO-HI), NUL-terminated in @tok. */
static int parse_entry(struct bench_dist *d, char *tok, uint64_t min, uint64_t max,
		       unsigned int flags, const char **why)
{
	char *colon = strchr(tok, ':'), *dash;
	uint64_t lo, hi, weight = 1;
	long w;

	if (colon) {
		*colon = '\0';
		if (nsim_parse_long(colon + 1, 0, INT32_MAX, &w)) {
			*why = "bad weight";
			return -EINVAL;
		}
		weight = (uint64_t)w;
	}
	dash = strchr(tok + (*tok == '-'), '-');
	if (dash)
		*dash = '\0';
	if (!*tok || parse_value(tok, flags, &lo) || (dash && parse_value(dash + 1, flags, &hi))) {
		*why = "bad value";
		return -EINVAL;
	}
	if (!dash)
		hi = lo;
	if (lo > hi) {
		*why = "range runs backwards";
		return -EINVAL;
	}
	if (lo < min || hi > max) {
		*why = "value out of range";
		return -EINVAL;
	}
	bench_dist_add(d, lo, hi, weight);
	return 0;
}

int bench_dist_parse(struct bench_dist *d, const char *spec, uint64_t min, uint64_t max,
		     unsigned int flags, const char **why)
{
	const char *dummy;
	char *copy = xstrdup(spec), *save = NULL, *tok;
	int ret = 0;

	if (!why)
		why = &dummy;
	memset(d, 0, sizeof(*d));
	*why = "empty";
	for (tok = strtok_r(copy, ",", &save); tok && !ret; tok = strtok_r(NULL, ",", &save))
		ret = parse_entry(d, tok, min, max, flags, why);
	if (!ret && !d->n)
		ret = -EINVAL;
	if (!ret && !d->total) {
		*why = "every weight is 0";
		ret = -EINVAL;
	}
	if (ret)
		bench_dist_release(d);
	free(copy);
	return ret;
}

uint64_t bench_dist_sample(const struct bench_dist *d, struct bench_rng *r)
{
	uint64_t x = bench_rng_below(r, d->total);
	size_t lo = 0, hi = d->n - 1;
	const struct bench_dist_entry *e;

	while (lo < hi) { /* the first entry with cum > x */
		size_t mid = lo + (hi - lo) / 2;

		if (d->cum[mid] > x)
			hi = mid;
		else
			lo = mid + 1;
	}
	e = &d->e[lo];
	return e->lo + bench_rng_below(r, e->hi - e->lo + 1);
}

void bench_dist_format(const struct bench_dist *d, char *buf, size_t len)
{
	size_t off = 0;

	if (len)
		buf[0] = '\0';
	for (size_t i = 0; i < d->n && off < len; i++) {
		const struct bench_dist_entry *e = &d->e[i];
		int n;

		if (e->lo == e->hi)
			n = snprintf(buf + off, len - off, "%s%" PRIu64 ":%" PRIu64, i ? "," : "",
				     e->lo, e->weight);
		else
			n = snprintf(buf + off, len - off, "%s%" PRIu64 "-%" PRIu64 ":%" PRIu64,
				     i ? "," : "", e->lo, e->hi, e->weight);
		if (n < 0)
			break;
		off += (size_t)n;
	}
}

uint64_t bench_dist_max(const struct bench_dist *d)
{
	uint64_t max = 0;

	for (size_t i = 0; i < d->n; i++)
		if (d->e[i].weight && d->e[i].hi > max)
			max = d->e[i].hi;
	return max;
}
