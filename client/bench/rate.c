// SPDX-License-Identifier: MIT
/*
 * rate.c - the open-loop schedule (--rate): when each request is meant to leave.
 *
 * With a rate, a request has an intended send time fixed in advance, whatever happened to
 * the requests before it; its latency is measured from that time, so a stall of the server
 * (or of a full pipeline) shows as the latency of every request it delayed instead of being
 * hidden by sending fewer of them (coordinated omission).
 *
 * The N connections of a run share the rate R: request k of connection i is the request
 * j = i + k * N of the whole schedule, due at start + j / R. Times are computed from j in
 * 128-bit integers (R in requests per 1000 s), so none drifts however long the run.
 */
#include <math.h>

#include "bench.h"

void bench_rate_init(struct bench_rate *r, uint64_t start_ns, double ops_per_sec,
		     unsigned int stream, unsigned int nstreams)
{
	r->start_ns = start_ns;
	r->rate_milli = (uint64_t)llround(ops_per_sec * 1000.0);
	if (!r->rate_milli)
		r->rate_milli = 1;
	r->stream = stream;
	r->nstreams = nstreams ? nstreams : 1;
	r->k = 0;
}

uint64_t bench_rate_at(const struct bench_rate *r, uint64_t k)
{
	unsigned __int128 j = (unsigned __int128)r->stream + (unsigned __int128)k * r->nstreams;

	return r->start_ns + (uint64_t)(j * 1000000000000ull / r->rate_milli);
}

uint64_t bench_rate_peek(const struct bench_rate *r)
{
	return bench_rate_at(r, r->k);
}

uint64_t bench_rate_take(struct bench_rate *r)
{
	return bench_rate_at(r, r->k++);
}
