// SPDX-License-Identifier: MIT
/*
 * views.c - the cluster's views: each node daemon shows its own node and the coordinator
 * puts the parts together in node order; the views only the coordinator can show
 * (hardware, like numactl --hardware, and stats, the command table's counters); node_stats.
 *
 * Mirrors:    numactl --hardware (numactl.c hardware()), numastat(8)'s compatibility table
 * Simplified: sizes come from the nodes' managed pages (MemTotal of nodeN/meminfo), as
 *             numa_node_size64() reads them
 * Differs:    a node that is down is shown as down instead of being left out
 *
 * Shapes: text views concatenate the nodes' texts ("node N: down" for a node that is
 * down); JSON views are {"nodes":[...]} with each node's JSON (a node's own
 * {"nodes":[...]} is spliced in) and {"node":N,"up":false} for a node that is down. The
 * numastat text is one table with a column per node, built from the nodes' JSON. The
 * slab views (slabinfo, slabtop, slabs) of every node come from the nodes with lowmem
 * only: the others have no slab layer.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "coord.h"
#include "nsim.h"
#include "slab.h"
#include "views.h"

enum view_kind {
	KIND_NODE_VIEW,	 /* the nodes' own views, concatenated */
	KIND_NUMASTAT,	 /* numastat text: one table from the nodes' JSON */
	KIND_HARDWARE,	 /* numactl --hardware, free memory from node_stats */
	KIND_NODE_STATS, /* node_stats */
};

struct view_op {
	struct coord_call *call; /* the client's request */
	enum view_kind kind;	 /* what to build */
	bool json;		 /* JSON rather than text */
	struct coord_fanout f;	 /* one request per node shown, in node order */
};

static const char *const numastat_rows[] = {
	"numa_hit", "numa_miss", "numa_foreign", "interleave_hit", "local_node", "other_node",
};
#define NR_NUMASTAT_ROWS (sizeof(numastat_rows) / sizeof(numastat_rows[0]))

static void reply_text(struct coord_call *call, const char *text)
{
	Numasim__Response resp = NUMASIM__RESPONSE__INIT;
	Numasim__ViewReply reply = NUMASIM__VIEW_REPLY__INIT;

	reply.text = (char *)text;
	resp.body_case = NUMASIM__RESPONSE__BODY_VIEW;
	resp.view = &reply;
	coord_call_reply(call, &resp);
}

/* The text of a node's ViewReply, NULL if it is down or answered something else. */
static const char *view_text(const struct coord_fanout_entry *e)
{
	if (!e->resp || e->resp->status != NUMASIM__STATUS__STATUS_OK ||
	    e->resp->body_case != NUMASIM__RESPONSE__BODY_VIEW)
		return NULL;
	return e->resp->view->text;
}

/* ------------------------------------------------------------------ node views */

/* A node's JSON as an element of "nodes": its own {"nodes":[...]} is unwrapped. */
static void json_part(struct seq_file *s, const char *json, bool *first)
{
	static const char head[] = "{\"nodes\":[";
	size_t len = strlen(json);

	while (len && (json[len - 1] == '\n' || json[len - 1] == ' '))
		len--;
	if (len > sizeof(head) && !strncmp(json, head, sizeof(head) - 1) && json[len - 1] == '}' &&
	    json[len - 2] == ']') {
		json += sizeof(head) - 1;
		len -= sizeof(head) - 1 + 2;
	}
	if (!len)
		return;
	seq_printf(s, "%s%.*s", *first ? "" : ",", (int)len, json);
	*first = false;
}

static void node_view_build(struct seq_file *s, const struct coord_fanout *f, bool json)
{
	bool first = true;

	if (json)
		seq_puts(s, "{\"nodes\":[");
	for (int i = 0; i < f->n; i++) {
		const char *text = view_text(&f->e[i]);

		if (json && text) {
			json_part(s, text, &first);
		} else if (json) {
			seq_printf(s, "%s{\"node\":%d,\"up\":false}", first ? "" : ",",
				   f->e[i].nid);
			first = false;
		} else if (text) {
			seq_puts(s, text);
		} else {
			seq_printf(s, "node %d: down\n", f->e[i].nid);
		}
	}
	if (json)
		seq_puts(s, "]}");
}

/* A number named @key in a node's JSON numastat, 0 if absent. */
static unsigned long long json_number(const char *json, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(json, pat);
	return p ? strtoull(p + strlen(pat), NULL, 10) : 0;
}

/* numastat(8): labels left in 16 columns, one node per 16 columns. */
static void numastat_build(struct seq_file *s, const struct coord_fanout *f)
{
	char head[16];

	seq_printf(s, "%-16s", "");
	for (int i = 0; i < f->n; i++) {
		snprintf(head, sizeof(head), "node%d", f->e[i].nid);
		seq_printf(s, "%16s", head);
	}
	seq_putc(s, '\n');
	for (size_t r = 0; r < NR_NUMASTAT_ROWS; r++) {
		seq_printf(s, "%-16s", numastat_rows[r]);
		for (int i = 0; i < f->n; i++) {
			const char *text = view_text(&f->e[i]);

			if (text)
				seq_printf(s, "%16llu", json_number(text, numastat_rows[r]));
			else
				seq_printf(s, "%16s", "down");
		}
		seq_putc(s, '\n');
	}
}

/* ------------------------------------------------------------------ hardware */

static const Numasim__NodeStat *node_stat(const struct coord_fanout_entry *e)
{
	if (!e->resp || e->resp->status != NUMASIM__STATUS__STATUS_OK ||
	    e->resp->body_case != NUMASIM__RESPONSE__BODY_NODE_STATS ||
	    !e->resp->node_stats->n_nodes)
		return NULL;
	return e->resp->node_stats->nodes[0];
}

/* MemTotal of a node in pages: its managed pages (the routing machine's when it is down). */
static uint64_t node_managed(const struct machine *m, int nid, const Numasim__NodeStat *st)
{
	uint64_t sum = 0;

	if (st)
		return st->managed;
	for (int z = 0; z < MAX_NR_ZONES; z++)
		sum += m->node_data[nid]->node_zones[z].managed_pages;
	return sum;
}

static void hardware_text(struct seq_file *s, const struct machine *m, const struct coord_fanout *f)
{
	seq_printf(s, "available: %d nodes (0", m->nr_nodes);
	if (m->nr_nodes > 1)
		seq_printf(s, "-%d", m->nr_nodes - 1);
	seq_puts(s, ")\n");
	for (int i = 0; i < f->n; i++) {
		int nid = f->e[i].nid;
		const Numasim__NodeStat *st = node_stat(&f->e[i]);

		seq_printf(s, "node %d cpus:", nid);
		for (int cpu = 0; cpu < m->ncpus; cpu++)
			if (m->cpu_to_node[cpu] == nid)
				seq_printf(s, " %d", cpu);
		seq_printf(s, "\nnode %d size: %" PRIu64 " MB\n", nid,
			   node_managed(m, nid, st) * PAGE_SIZE >> 20);
		if (st)
			seq_printf(s, "node %d free: %" PRIu64 " MB\n", nid,
				   st->free * PAGE_SIZE >> 20);
		else
			seq_printf(s, "node %d free: down\n", nid);
	}
	seq_puts(s, "node distances:\nnode ");
	for (int b = 0; b < m->nr_nodes; b++)
		seq_printf(s, "% 3d ", b);
	seq_putc(s, '\n');
	for (int a = 0; a < m->nr_nodes; a++) {
		seq_printf(s, "% 3d: ", a);
		for (int b = 0; b < m->nr_nodes; b++)
			seq_printf(s, "% 3d ", coord_node_distance(m, a, b));
		seq_putc(s, '\n');
	}
}

static void hardware_json(struct seq_file *s, const struct machine *m, const struct coord_fanout *f)
{
	seq_puts(s, "{\"nodes\":[");
	for (int i = 0; i < f->n; i++) {
		int nid = f->e[i].nid;
		const Numasim__NodeStat *st = node_stat(&f->e[i]);
		bool first = true;

		seq_printf(s, "%s{\"node\":%d,\"up\":%s,\"cpus\":[", i ? "," : "", nid,
			   st ? "true" : "false");
		for (int cpu = 0; cpu < m->ncpus; cpu++) {
			if (m->cpu_to_node[cpu] != nid)
				continue;
			seq_printf(s, "%s%d", first ? "" : ",", cpu);
			first = false;
		}
		seq_printf(s, "],\"size_mb\":%" PRIu64, node_managed(m, nid, st) * PAGE_SIZE >> 20);
		if (st)
			seq_printf(s, ",\"free_mb\":%" PRIu64, st->free * PAGE_SIZE >> 20);
		seq_putc(s, '}');
	}
	seq_puts(s, "],\"distances\":[");
	for (int a = 0; a < m->nr_nodes; a++) {
		seq_printf(s, "%s[", a ? "," : "");
		for (int b = 0; b < m->nr_nodes; b++)
			seq_printf(s, "%s%d", b ? "," : "", coord_node_distance(m, a, b));
		seq_putc(s, ']');
	}
	seq_puts(s, "]}");
}

/* ------------------------------------------------------------------ node_stats */

static void reply_node_stats(struct coord_call *call, const struct coord_fanout *f)
{
	Numasim__Response resp = NUMASIM__RESPONSE__INIT;
	Numasim__NodeStatsReply reply = NUMASIM__NODE_STATS_REPLY__INIT;
	Numasim__NodeStat down[MAX_NUMNODES];
	Numasim__NodeStat *stats[MAX_NUMNODES];

	for (int i = 0; i < f->n; i++) {
		Numasim__NodeStat *st = (Numasim__NodeStat *)node_stat(&f->e[i]);

		if (st) {
			st->up = true;
			stats[i] = st;
			continue;
		}
		numasim__node_stat__init(&down[i]);
		down[i].node = f->e[i].nid;
		down[i].up = false;
		stats[i] = &down[i];
	}
	reply.n_nodes = (size_t)f->n;
	reply.nodes = stats;
	resp.body_case = NUMASIM__RESPONSE__BODY_NODE_STATS;
	resp.node_stats = &reply;
	coord_call_reply(call, &resp);
}

/* ------------------------------------------------------------------ asking the nodes */

/* A node's refusal of the request itself (a bad sort key, ...), not its being down. */
static const struct coord_fanout_entry *refusal(const struct coord_fanout *f)
{
	for (int i = 0; i < f->n; i++)
		if (f->e[i].resp && f->e[i].resp->status != NUMASIM__STATUS__STATUS_OK)
			return &f->e[i];
	return NULL;
}

static void reply_built(struct view_op *op, const struct coord_fanout *f)
{
	const struct machine *m = op->call->co->m;
	struct seq_file s;

	seq_init(&s);
	if (op->kind == KIND_HARDWARE && op->json)
		hardware_json(&s, m, f);
	else if (op->kind == KIND_HARDWARE)
		hardware_text(&s, m, f);
	else if (op->kind == KIND_NUMASTAT)
		numastat_build(&s, f);
	else
		node_view_build(&s, f, op->json);
	reply_text(op->call, s.buf ? s.buf : "");
	seq_release(&s);
}

static void view_done(struct coord_fanout *f)
{
	struct view_op *op = f->arg;
	const struct coord_fanout_entry *e = refusal(f);

	if (e)
		coord_call_fail_entry(op->call, e);
	else if (op->kind == KIND_NODE_STATS)
		reply_node_stats(op->call, f);
	else
		reply_built(op, f);
	coord_fanout_release(f);
	free(op);
}

/* Every node, or only node @nid; slab views only on nodes with lowmem (the slab layer). */
static uint64_t nodes_shown(const struct machine *m, int nid, bool slab_view)
{
	uint64_t mask = 0;

	if (nid >= 0)
		return 1ull << nid;
	for (int n = 0; n < m->nr_nodes; n++)
		if (!slab_view || node_has_normal_memory(m, n))
			mask |= 1ull << n;
	return mask;
}

/* Ask the nodes of @mask with @req, made per node by setting @node_field. */
static void ask_nodes(struct coord_call *call, enum view_kind kind, bool json, uint64_t mask,
		      Numasim__Request *req, int32_t *node_field)
{
	struct coord *co = call->co;
	struct view_op *op = xmalloc(sizeof(*op));

	op->call = call;
	op->kind = kind;
	op->json = json;
	coord_fanout_init(&op->f, co, view_done, op);
	for (int n = 0; n < co->m->nr_nodes; n++) {
		if (!((mask >> n) & 1))
			continue;
		*node_field = n;
		coord_fanout_add(&op->f, n, req);
	}
	coord_fanout_arm(&op->f);
}

static void ask_node_stats(struct coord_call *call, enum view_kind kind, bool json, int nid)
{
	Numasim__Request req;
	Numasim__NodeStats body = NUMASIM__NODE_STATS__INIT;

	coord_request_init(&req);
	req.body_case = NUMASIM__REQUEST__BODY_NODE_STATS;
	req.node_stats = &body;
	ask_nodes(call, kind, json, nodes_shown(call->co->m, nid, false), &req, &body.node);
}

static bool node_ok(struct coord_call *call, int nid)
{
	if (nid >= -1 && nid < call->co->m->nr_nodes)
		return true;
	coord_call_fail(call, NUMASIM__STATUS__STATUS_ENOENT, "no node %d (nodes 0-%d)", nid,
			call->co->m->nr_nodes - 1);
	return false;
}

void coord_cmd_view(struct coord_call *call, const Numasim__Request *req)
{
	const Numasim__View *v = req->view;
	Numasim__View body = *v;
	Numasim__Request out;
	bool numastat_table = !strcmp(v->name, "numastat") && !v->json;
	int view = mm_view_lookup(v->name);
	bool slab_view = view == VIEW_SLABINFO || view == VIEW_SLABTOP || view == VIEW_SLABS;
	struct seq_file s;

	if (!strcmp(v->name, "stats")) {
		seq_init(&s);
		coord_stats_show(&s, v->json);
		reply_text(call, s.buf ? s.buf : "");
		seq_release(&s);
		return;
	}
	if (!strcmp(v->name, "hardware")) {
		ask_node_stats(call, KIND_HARDWARE, v->json, -1);
		return;
	}
	if (view < 0) {
		coord_call_fail(call, NUMASIM__STATUS__STATUS_ENOENT, "no view '%s'", v->name);
		return;
	}
	if (!node_ok(call, v->node))
		return;
	body.base.unknown_fields = NULL;
	body.base.n_unknown_fields = 0;
	body.json = v->json || numastat_table;
	coord_request_init(&out);
	out.body_case = NUMASIM__REQUEST__BODY_VIEW;
	out.view = &body;
	ask_nodes(call, numastat_table ? KIND_NUMASTAT : KIND_NODE_VIEW, v->json,
		  nodes_shown(call->co->m, v->node, slab_view), &out, &body.node);
}

void coord_cmd_node_stats(struct coord_call *call, const Numasim__Request *req)
{
	int nid = req->node_stats->node;

	if (node_ok(call, nid))
		ask_node_stats(call, KIND_NODE_STATS, false, nid);
}
