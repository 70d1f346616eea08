// SPDX-License-Identifier: MIT
/*
 * report.c - the final summary of a run, in three shapes with the same content:
 *   text  for a person (stdout)
 *   JSON  one object: config, counts, latency, ops, errors, numastat, node_stats and the
 *         fragmentation of every zone before and after
 *   CSV   long format, one figure a row: section,subject,metric,value
 * Latencies are microseconds, fragmentation indexes decimals (the kernel's thousandths / 1000).
 */
#include <inttypes.h>
#include <string.h>

#include "bench.h"

static const double pcts[] = {50, 95, 99, 99.9};
static const char *const pct_names[] = {"p50", "p95", "p99", "p99_9"};
#define NR_PCTS (sizeof(pcts) / sizeof(pcts[0]))

static double us(uint64_t ns)
{
	return (double)ns / 1000.0;
}

static double throughput(const struct bench_report *r)
{
	return r->duration_s > 0 ? (double)bench_stats_requests(r->st) / r->duration_s : 0.0;
}

/* The zones of the after snapshot, else of the before one. */
static const struct bench_snapshot *zone_source(const struct bench_report *r)
{
	if (r->after && r->after->valid && r->after->nr_zones)
		return r->after;
	return r->before;
}

static const char *status_label(int status)
{
	return bench_status_name(status);
}

static bool status_expected(const struct bench_report *r, int status)
{
	return status == NUMASIM__STATUS__STATUS_ENOMEM && r->allow_enomem;
}

/* ------------------------------------------------------------------ text */

static void text_head(const struct bench_report *r, FILE *out)
{
	const struct bench_hist *h = &r->st->all;

	fprintf(out, "====== numasim %s: %s, %s ======\n", r->mode, r->preset, r->server);
	if (!strcmp(r->mode, "replay")) {
		fprintf(out,
			"  %u connection%s as recorded, one request at a time in trace order\n",
			r->conns, r->conns == 1 ? "" : "s");
	} else {
		fprintf(out, "  %u thread%s x %u connection%s, pipeline %u, ", r->threads,
			r->threads == 1 ? "" : "s", r->conns, r->conns == 1 ? "" : "s",
			r->pipeline);
		if (r->rate > 0)
			fprintf(out, "open loop at %.1f ops/s", r->rate);
		else
			fprintf(out, "closed loop");
		fprintf(out, ", seed %" PRIu64 "\n", r->seed);
	}
	fprintf(out, "  workload: %s\n\n", r->workload);
	fprintf(out,
		"requests      %" PRIu64 " (besides %" PRIu64 " setup and %" PRIu64 " cleanup)\n",
		bench_stats_requests(r->st), r->st->setup, r->st->cleanup);
	fprintf(out, "duration      %.3f s\n", r->duration_s);
	fprintf(out, "throughput    %.1f ops/s\n", throughput(r));
	fprintf(out, "latency (us)  avg %.1f  min %.1f", bench_hist_mean(h) / 1000.0,
		us(h->n ? h->min : 0));
	for (size_t i = 0; i < NR_PCTS; i++)
		fprintf(out, "  p%g %.1f", pcts[i], us(bench_hist_percentile(h, pcts[i])));
	fprintf(out, "  max %.1f\n\n", us(h->max));
}

static void text_ops(const struct bench_report *r, FILE *out)
{
	fprintf(out, "%-14s %10s %10s %8s %10s %10s %10s %10s\n", "op", "requests", "ok", "errors",
		"avg_us", "p50_us", "p99_us", "max_us");
	for (int i = 0; i < NR_BENCH_OPS; i++) {
		const struct bench_op_stats *o = &r->st->op[i];

		if (!o->requests)
			continue;
		fprintf(out,
			"%-14s %10" PRIu64 " %10" PRIu64 " %8" PRIu64
			" %10.1f %10.1f %10.1f %10.1f\n",
			bench_op_name((enum bench_opcode)i), o->requests, o->ok,
			o->requests - o->ok, bench_hist_mean(&o->hist) / 1000.0,
			us(bench_hist_percentile(&o->hist, 50)),
			us(bench_hist_percentile(&o->hist, 99)), us(o->hist.max));
	}
	fputc('\n', out);
}

static void text_errors(const struct bench_report *r, FILE *out)
{
	const struct bench_stats *s = r->st;
	char gfp[256];

	fprintf(out, "errors        %" PRIu64 "%s\n", bench_stats_errors(s),
		bench_stats_errors(s) ? ", by status:" : "");
	for (int st = 1; st < BENCH_NR_STATUS; st++) {
		if (!s->by_status[st])
			continue;
		fprintf(out, "  %-16s %10" PRIu64 "%s\n", status_label(st), s->by_status[st],
			status_expected(r, st) ? " (expected)" : "");
		if (st != NUMASIM__STATUS__STATUS_ENOMEM)
			continue;
		for (int i = 0; i < s->nr_enomem; i++) {
			bench_gfp_class(s->enomem_gfp[i], gfp, sizeof(gfp));
			fprintf(out, "    %-30s %10" PRIu64 "\n", gfp, s->enomem_count[i]);
		}
		if (s->enomem_other)
			fprintf(out, "    %-30s %10" PRIu64 "\n", "(other masks)", s->enomem_other);
	}
	if (s->diverged)
		fprintf(out, "diverged      %" PRIu64 " answers unlike the trace\n", s->diverged);
	if (s->unexpected)
		fprintf(out, "unexpected    %" PRIu64 " (first: %s)\n", s->unexpected, s->reason);
	fputc('\n', out);
}

static void text_numa(const struct bench_report *r, FILE *out)
{
	const struct bench_snapshot *b = r->before, *a = r->after;

	if (!b || !b->valid || !b->nr_numa)
		return;
	fprintf(out, "%-16s", "numastat");
	for (int i = 0; i < BENCH_NR_NUMA; i++)
		fprintf(out, " %14s", bench_numa_names[i]);
	fputc('\n', out);
	for (int n = 0; n < b->nr_numa; n++) {
		const struct bench_node_numa *nb = &b->numa[n];
		const struct bench_node_numa *na = bench_snapshot_numa(a, nb->node);

		fprintf(out, "  node%-3d before", nb->node);
		for (int i = 0; i < BENCH_NR_NUMA; i++)
			fprintf(out, " %14" PRIu64, nb->v[i]);
		if (na) {
			fprintf(out, "\n  node%-3d after ", nb->node);
			for (int i = 0; i < BENCH_NR_NUMA; i++)
				fprintf(out, " %14" PRIu64, na->v[i]);
		}
		fputc('\n', out);
	}
	fputc('\n', out);
}

static void text_stat_row(const struct bench_node_stat *s, const char *when, FILE *out)
{
	if (s)
		fprintf(out,
			"  node%-3d %-6s %12" PRIu64 " %12" PRIu64 " %12" PRIu64 " %12" PRIu64 "\n",
			s->node, when, s->managed, s->free, s->pcp, s->allocated);
}

static void text_nodes(const struct bench_report *r, FILE *out)
{
	const struct bench_snapshot *b = r->before, *a = r->after;

	if (!b || !b->valid || !b->nr_stats)
		return;
	fprintf(out, "%-16s %12s %12s %12s %12s\n", "node_stats", "managed", "free", "pcp",
		"allocated");
	for (int n = 0; n < b->nr_stats; n++) {
		const struct bench_node_stat *sb = &b->stats[n];
		const struct bench_node_stat *sa = bench_snapshot_stat(a, sb->node);

		text_stat_row(sb, "before", out);
		text_stat_row(bench_snapshot_stat(r->end, sb->node), "end", out);
		text_stat_row(sa, "after", out);
	}
	fputc('\n', out);
}

/* One row of 11 figures per order. */
static void text_frag_row(const char *label, const struct bench_zone_free *z, int what, FILE *out)
{
	char buf[16];

	fprintf(out, "  %-16s", label);
	for (unsigned int o = 0; o < BENCH_NR_ORDERS; o++) {
		if (what == 0) {
			fprintf(out, " %6" PRIu64, z->nr_free[o]);
			continue;
		}
		bench_index_format(what == 1 ? bench_unusable_index(z->nr_free, o)
					     : bench_extfrag_index(z->nr_free, o),
				   buf, sizeof(buf));
		fprintf(out, " %6s", buf);
	}
	fputc('\n', out);
}

static void text_frag(const struct bench_report *r, FILE *out)
{
	static const char *const what_names[3] = {"free", "unusable", "extfrag"};
	const struct bench_snapshot *src = zone_source(r);
	const struct bench_snapshot *snaps[3] = {r->before, r->end, r->after};
	static const char *const whens[3] = {"before", "end", "after"};
	char label[32];

	if (!src || !src->nr_zones)
		return;
	fprintf(out, "fragmentation: free blocks, unusable free space index, extfrag index\n"
		     "(end: as the workload left it; after: once the cleanup freed everything)\n");
	fprintf(out, "  %-16s", "order");
	for (unsigned int o = 0; o < BENCH_NR_ORDERS; o++)
		fprintf(out, " %6u", o);
	fputc('\n', out);
	for (int i = 0; i < src->nr_zones; i++) {
		fprintf(out, "Node %d, zone %8s\n", src->zones[i].node, src->zones[i].zone);
		for (int what = 0; what < 3; what++)
			for (int w = 0; w < 3; w++) {
				const struct bench_zone_free *z = bench_snapshot_zone(
					snaps[w], src->zones[i].node, src->zones[i].zone);

				if (!z)
					continue;
				snprintf(label, sizeof(label), "%s %s", what_names[what], whens[w]);
				text_frag_row(label, z, what, out);
			}
	}
}

static void report_text(const struct bench_report *r, FILE *out)
{
	text_head(r, out);
	text_ops(r, out);
	text_errors(r, out);
	text_numa(r, out);
	text_nodes(r, out);
	text_frag(r, out);
}

/* ------------------------------------------------------------------ JSON */

static void json_string(const char *s, FILE *out)
{
	fputc('"', out);
	for (; s && *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(out, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(out, "\\u%04x", (unsigned char)*s);
		else
			fputc(*s, out);
	}
	fputc('"', out);
}

static void json_latency(const struct bench_hist *h, FILE *out)
{
	fprintf(out, "{\"avg\":%.3f,\"min\":%.3f", bench_hist_mean(h) / 1000.0,
		us(h->n ? h->min : 0));
	for (size_t i = 0; i < NR_PCTS; i++)
		fprintf(out, ",\"%s\":%.3f", pct_names[i], us(bench_hist_percentile(h, pcts[i])));
	fprintf(out, ",\"max\":%.3f}", us(h->max));
}

static void json_config(const struct bench_report *r, FILE *out)
{
	fprintf(out, "\"mode\":");
	json_string(r->mode, out);
	fprintf(out, ",\"preset\":");
	json_string(r->preset, out);
	fprintf(out, ",\"server\":");
	json_string(r->server, out);
	fprintf(out, ",\"workload\":");
	json_string(r->workload, out);
	fprintf(out,
		",\"threads\":%u,\"connections\":%u,\"pipeline\":%u,\"rate\":%.3f,\"seed\":"
		"%" PRIu64,
		r->threads, r->conns, r->pipeline, r->rate, r->seed);
}

static void json_ops(const struct bench_report *r, FILE *out)
{
	bool first = true;

	fprintf(out, ",\"ops\":[");
	for (int i = 0; i < NR_BENCH_OPS; i++) {
		const struct bench_op_stats *o = &r->st->op[i];

		if (!o->requests)
			continue;
		fprintf(out,
			"%s{\"op\":\"%s\",\"requests\":%" PRIu64 ",\"ok\":%" PRIu64
			",\"errors\":%" PRIu64 ",\"latency_us\":",
			first ? "" : ",", bench_op_name((enum bench_opcode)i), o->requests, o->ok,
			o->requests - o->ok);
		json_latency(&o->hist, out);
		fputc('}', out);
		first = false;
	}
	fputc(']', out);
}

static void json_errors(const struct bench_report *r, FILE *out)
{
	const struct bench_stats *s = r->st;
	char gfp[256];
	bool first = true;

	fprintf(out,
		",\"errors\":{\"total\":%" PRIu64 ",\"unexpected\":%" PRIu64
		",\"diverged\":%" PRIu64 ",\"by_status\":{",
		bench_stats_errors(s), s->unexpected, s->diverged);
	for (int st = 1; st < BENCH_NR_STATUS; st++) {
		if (!s->by_status[st])
			continue;
		fprintf(out, "%s\"%s\":%" PRIu64, first ? "" : ",", status_label(st),
			s->by_status[st]);
		first = false;
	}
	fprintf(out, "},\"enomem_by_gfp\":{");
	for (int i = 0; i < s->nr_enomem; i++) {
		bench_gfp_class(s->enomem_gfp[i], gfp, sizeof(gfp));
		fprintf(out, "%s", i ? "," : "");
		json_string(gfp, out);
		fprintf(out, ":%" PRIu64, s->enomem_count[i]);
	}
	if (s->enomem_other)
		fprintf(out, "%s\"other\":%" PRIu64, s->nr_enomem ? "," : "", s->enomem_other);
	fprintf(out, "},\"first_unexpected\":");
	json_string(s->reason, out);
	fputc('}', out);
}

static void json_numa_list(const struct bench_snapshot *s, FILE *out)
{
	fputc('[', out);
	for (int n = 0; s && s->valid && n < s->nr_numa; n++) {
		fprintf(out, "%s{\"node\":%d", n ? "," : "", s->numa[n].node);
		for (int i = 0; i < BENCH_NR_NUMA; i++)
			fprintf(out, ",\"%s\":%" PRIu64, bench_numa_names[i], s->numa[n].v[i]);
		fputc('}', out);
	}
	fputc(']', out);
}

static void json_stats_list(const struct bench_snapshot *s, FILE *out)
{
	fputc('[', out);
	for (int n = 0; s && s->valid && n < s->nr_stats; n++) {
		const struct bench_node_stat *st = &s->stats[n];

		fprintf(out,
			"%s{\"node\":%d,\"up\":%s,\"managed\":%" PRIu64 ",\"free\":%" PRIu64
			",\"pcp\":%" PRIu64 ",\"allocated\":%" PRIu64 "}",
			n ? "," : "", st->node, st->up ? "true" : "false", st->managed, st->free,
			st->pcp, st->allocated);
	}
	fputc(']', out);
}

static void json_zone(const struct bench_zone_free *z, FILE *out)
{
	char buf[16];

	if (!z) {
		fprintf(out, "null");
		return;
	}
	fprintf(out, "{\"free\":[");
	for (unsigned int o = 0; o < BENCH_NR_ORDERS; o++)
		fprintf(out, "%s%" PRIu64, o ? "," : "", z->nr_free[o]);
	fprintf(out, "],\"unusable\":[");
	for (unsigned int o = 0; o < BENCH_NR_ORDERS; o++) {
		bench_index_format(bench_unusable_index(z->nr_free, o), buf, sizeof(buf));
		fprintf(out, "%s%s", o ? "," : "", buf);
	}
	fprintf(out, "],\"extfrag\":[");
	for (unsigned int o = 0; o < BENCH_NR_ORDERS; o++) {
		bench_index_format(bench_extfrag_index(z->nr_free, o), buf, sizeof(buf));
		fprintf(out, "%s%s", o ? "," : "", buf);
	}
	fprintf(out, "]}");
}

static void json_frag(const struct bench_report *r, FILE *out)
{
	const struct bench_snapshot *src = zone_source(r);

	fprintf(out, ",\"fragmentation\":[");
	for (int i = 0; src && i < src->nr_zones; i++) {
		const struct bench_zone_free *z = &src->zones[i];

		fprintf(out, "%s{\"node\":%d,\"zone\":", i ? "," : "", z->node);
		json_string(z->zone, out);
		fprintf(out, ",\"before\":");
		json_zone(bench_snapshot_zone(r->before, z->node, z->zone), out);
		fprintf(out, ",\"end\":");
		json_zone(bench_snapshot_zone(r->end, z->node, z->zone), out);
		fprintf(out, ",\"after\":");
		json_zone(bench_snapshot_zone(r->after, z->node, z->zone), out);
		fputc('}', out);
	}
	fputc(']', out);
}

static void report_json(const struct bench_report *r, FILE *out)
{
	fputc('{', out);
	json_config(r, out);
	fprintf(out,
		",\"requests\":%" PRIu64 ",\"setup\":%" PRIu64 ",\"cleanup\":%" PRIu64
		",\"duration_s\":%.6f,\"throughput\":%.3f,\"latency_us\":",
		bench_stats_requests(r->st), r->st->setup, r->st->cleanup, r->duration_s,
		throughput(r));
	json_latency(&r->st->all, out);
	json_ops(r, out);
	json_errors(r, out);
	fprintf(out, ",\"numastat\":{\"before\":");
	json_numa_list(r->before, out);
	fprintf(out, ",\"end\":");
	json_numa_list(r->end, out);
	fprintf(out, ",\"after\":");
	json_numa_list(r->after, out);
	fprintf(out, "},\"node_stats\":{\"before\":");
	json_stats_list(r->before, out);
	fprintf(out, ",\"end\":");
	json_stats_list(r->end, out);
	fprintf(out, ",\"after\":");
	json_stats_list(r->after, out);
	fputc('}', out);
	json_frag(r, out);
	fprintf(out, "}\n");
}

/* ------------------------------------------------------------------ CSV */

static void csv_latency(const char *subject, const struct bench_hist *h, FILE *out)
{
	fprintf(out, "latency_us,%s,avg,%.3f\n", subject, bench_hist_mean(h) / 1000.0);
	fprintf(out, "latency_us,%s,min,%.3f\n", subject, us(h->n ? h->min : 0));
	for (size_t i = 0; i < NR_PCTS; i++)
		fprintf(out, "latency_us,%s,%s,%.3f\n", subject, pct_names[i],
			us(bench_hist_percentile(h, pcts[i])));
	fprintf(out, "latency_us,%s,max,%.3f\n", subject, us(h->max));
}

static void csv_snapshot(const char *when, const struct bench_snapshot *s, FILE *out)
{
	char buf[16];

	for (int n = 0; s && s->valid && n < s->nr_numa; n++)
		for (int i = 0; i < BENCH_NR_NUMA; i++)
			fprintf(out, "numastat,node%d,%s.%s,%" PRIu64 "\n", s->numa[n].node,
				bench_numa_names[i], when, s->numa[n].v[i]);
	for (int n = 0; s && s->valid && n < s->nr_stats; n++)
		fprintf(out,
			"node_stats,node%d,free.%s,%" PRIu64 "\nnode_stats,node%d,pcp.%s,%" PRIu64
			"\nnode_stats,node%d,allocated.%s,%" PRIu64 "\n",
			s->stats[n].node, when, s->stats[n].free, s->stats[n].node, when,
			s->stats[n].pcp, s->stats[n].node, when, s->stats[n].allocated);
	for (int i = 0; s && s->valid && i < s->nr_zones; i++) {
		const struct bench_zone_free *z = &s->zones[i];

		for (unsigned int o = 0; o < BENCH_NR_ORDERS; o++) {
			fprintf(out, "fragmentation,node%d/%s,free.o%u.%s,%" PRIu64 "\n", z->node,
				z->zone, o, when, z->nr_free[o]);
			bench_index_format(bench_unusable_index(z->nr_free, o), buf, sizeof(buf));
			fprintf(out, "fragmentation,node%d/%s,unusable.o%u.%s,%s\n", z->node,
				z->zone, o, when, buf);
			bench_index_format(bench_extfrag_index(z->nr_free, o), buf, sizeof(buf));
			fprintf(out, "fragmentation,node%d/%s,extfrag.o%u.%s,%s\n", z->node,
				z->zone, o, when, buf);
		}
	}
}

static void report_csv(const struct bench_report *r, FILE *out)
{
	const struct bench_stats *s = r->st;
	char gfp[256];

	fprintf(out, "section,subject,metric,value\n");
	fprintf(out,
		"summary,,requests,%" PRIu64 "\nsummary,,setup,%" PRIu64
		"\nsummary,,cleanup,%" PRIu64 "\n",
		bench_stats_requests(s), s->setup, s->cleanup);
	fprintf(out, "summary,,duration_s,%.6f\nsummary,,throughput,%.3f\n", r->duration_s,
		throughput(r));
	fprintf(out, "summary,,errors,%" PRIu64 "\nsummary,,unexpected,%" PRIu64 "\n",
		bench_stats_errors(s), s->unexpected);
	csv_latency("all", &s->all, out);
	for (int i = 0; i < NR_BENCH_OPS; i++) {
		const struct bench_op_stats *o = &s->op[i];
		const char *name = bench_op_name((enum bench_opcode)i);

		if (!o->requests)
			continue;
		fprintf(out, "ops,%s,requests,%" PRIu64 "\nops,%s,ok,%" PRIu64 "\n", name,
			o->requests, name, o->ok);
		csv_latency(name, &o->hist, out);
	}
	for (int st = 1; st < BENCH_NR_STATUS; st++)
		if (s->by_status[st])
			fprintf(out, "errors,%s,count,%" PRIu64 "\n", status_label(st),
				s->by_status[st]);
	for (int i = 0; i < s->nr_enomem; i++) {
		bench_gfp_class(s->enomem_gfp[i], gfp, sizeof(gfp));
		fprintf(out, "enomem,%s,count,%" PRIu64 "\n", gfp, s->enomem_count[i]);
	}
	csv_snapshot("before", r->before, out);
	csv_snapshot("end", r->end, out);
	csv_snapshot("after", r->after, out);
}

void bench_report_print(const struct bench_report *r, enum bench_format fmt, FILE *out)
{
	if (fmt == BENCH_JSON)
		report_json(r, out);
	else if (fmt == BENCH_CSV)
		report_csv(r, out);
	else
		report_text(r, out);
}
