// SPDX-License-Identifier: MIT
/*
 * stats.c - the counters of a run. Each thread fills its own struct bench_stats without
 * locks; the main thread merges them once the threads have joined.
 *
 * Invariant: sum of by_status[] == sum of op[].requests == all.n; setup and cleanup ops are
 * counted apart (bench_stats_aside) and in none of those.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "nsim.h"

struct bench_stats *bench_stats_new(void)
{
	struct bench_stats *s = xcalloc(1, sizeof(*s));

	bench_hist_init(&s->all);
	for (int i = 0; i < NR_BENCH_OPS; i++)
		bench_hist_init(&s->op[i].hist);
	return s;
}

void bench_stats_free(struct bench_stats *s)
{
	free(s);
}

void bench_gfp_class(unsigned int gfp, char *buf, size_t len)
{
	nsim_gfp_format(gfp, buf, len);
}

static void count_enomem(struct bench_stats *s, unsigned int gfp, uint64_t n)
{
	for (int i = 0; i < s->nr_enomem; i++)
		if (s->enomem_gfp[i] == gfp) {
			s->enomem_count[i] += n;
			return;
		}
	if (s->nr_enomem == BENCH_ENOMEM_MASKS) {
		s->enomem_other += n;
		return;
	}
	s->enomem_gfp[s->nr_enomem] = gfp;
	s->enomem_count[s->nr_enomem++] = n;
}

void bench_stats_fail(struct bench_stats *s, const char *fmt, ...)
{
	va_list ap;

	if (!s->unexpected++) {
		va_start(ap, fmt);
		vsnprintf(s->reason, sizeof(s->reason), fmt, ap);
		va_end(ap);
	}
}

void bench_stats_add(struct bench_stats *s, const struct bench_op *op, uint64_t latency_ns,
		     bool expected, const char *message)
{
	struct bench_op_stats *o = &s->op[op->code];
	char line[BENCH_TRACE_LINE], *text;
	int status = op->status;

	o->requests++;
	bench_hist_record(&o->hist, latency_ns);
	bench_hist_record(&s->all, latency_ns);
	if (status >= 0 && status < BENCH_NR_STATUS)
		s->by_status[status]++;
	if (status == NUMASIM__STATUS__STATUS_OK) {
		o->ok++;
		return;
	}
	if (status == NUMASIM__STATUS__STATUS_ENOMEM)
		count_enomem(s, op->gfp, 1);
	if (expected)
		return;
	bench_trace_format(op, line, sizeof(line));
	text = line;
	for (int i = 0; i < 2 && strchr(text, ' '); i++) /* skip SEQ and CONN */
		text = strchr(text, ' ') + 1;
	bench_stats_fail(s, "%s%s%s", text, message && *message ? ": " : "",
			 message ? message : "");
}

void bench_stats_aside(struct bench_stats *s, const struct bench_op *op, const char *message)
{
	char line[BENCH_TRACE_LINE];
	bool setup = op->code == BENCH_OP_CACHE_CREATE;

	if (setup)
		s->setup++;
	else
		s->cleanup++;
	if (op->status == NUMASIM__STATUS__STATUS_OK)
		return;
	bench_trace_format(op, line, sizeof(line));
	bench_stats_fail(s, "%s: %s%s%s", setup ? "setup" : "cleanup", line,
			 message && *message ? ": " : "", message ? message : "");
}

void bench_stats_merge(struct bench_stats *dst, const struct bench_stats *src)
{
	for (int i = 0; i < NR_BENCH_OPS; i++) {
		dst->op[i].requests += src->op[i].requests;
		dst->op[i].ok += src->op[i].ok;
		bench_hist_merge(&dst->op[i].hist, &src->op[i].hist);
	}
	bench_hist_merge(&dst->all, &src->all);
	for (int i = 0; i < BENCH_NR_STATUS; i++)
		dst->by_status[i] += src->by_status[i];
	for (int i = 0; i < src->nr_enomem; i++)
		count_enomem(dst, src->enomem_gfp[i], src->enomem_count[i]);
	dst->enomem_other += src->enomem_other;
	if (!dst->unexpected && src->unexpected)
		snprintf(dst->reason, sizeof(dst->reason), "%s", src->reason);
	dst->unexpected += src->unexpected;
	dst->setup += src->setup;
	dst->cleanup += src->cleanup;
	dst->diverged += src->diverged;
}

uint64_t bench_stats_requests(const struct bench_stats *s)
{
	return s->all.n;
}

uint64_t bench_stats_errors(const struct bench_stats *s)
{
	return s->all.n - s->by_status[NUMASIM__STATUS__STATUS_OK];
}
