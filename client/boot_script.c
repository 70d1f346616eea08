// SPDX-License-Identifier: MIT
/*
 * boot_script.c - `numasim boot --script FILE`: one operation per line against the machine
 * booted in this process, deterministic, with an error naming the line for a bad one.
 *
 * Operations (a table, like a server's command table): alloc_pages GFP ORDER [CPU [COUNT]],
 * free_pages PFN ORDER [CPU], sysctl NAME [VALUE], drain, print VIEW, echo TEXT.
 * Simulated failures (ENOMEM, a refused free) are results, printed and not fatal; a line
 * that cannot be understood stops the script with exit status 1.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "boot_script.h"
#include "nsim.h"

int script_error(const struct script_line *l, const char *fmt, const char *arg)
{
	fprintf(stderr, "numasim boot: %s:%d: ", l->path, l->lineno);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	return CLI_EXIT_FAIL;
}

int script_arg_long(const struct script_line *l, int i, long min, long max, long *v)
{
	if (nsim_parse_long(l->argv[i], min, max, v))
		return script_error(l, "bad number '%s'", l->argv[i]);
	return 0;
}

int script_arg_gfp(const struct script_line *l, int i, unsigned int *gfp)
{
	const char *bad;

	if (nsim_gfp_parse(l->argv[i], gfp, &bad))
		return script_error(l, "unknown gfp flag in '%s'", bad);
	return 0;
}

int script_arg_addr(const struct script_line *l, int i, unsigned long *addr)
{
	long v;

	if (!strcmp(l->argv[i], "last")) {
		*addr = l->state->last_addr;
		return 0;
	}
	if (nsim_parse_long(l->argv[i], 0, LONG_MAX, &v) &&
	    (sizeof(long) > 4 || nsim_parse_long(l->argv[i], LONG_MIN, LONG_MAX, &v)))
		return script_error(l, "bad address '%s'", l->argv[i]);
	*addr = (unsigned long)v;
	return 0;
}

static const char *const refusal_names[] = {
	[REFUSE_NONE] = "ok",
	[REFUSE_WATERMARK] = "below watermark",
	[REFUSE_LOWMEM_RESERVE] = "lowmem_reserve (protection)",
	[REFUSE_FRAGMENTED] = "no free block of this order",
	[REFUSE_EMPTY] = "lists empty",
	[REFUSE_POLICY] = "excluded by policy",
	[REFUSE_NODE_DOWN] = "node not reachable",
};

static void print_trace(const struct alloc_trace *t, FILE *out)
{
	for (int i = 0; i < t->nr; i++)
		fprintf(out, "  node %d %-8s %s (free %ld, mark %ld, protection %ld)\n",
			t->z[i].nid, zone_names[t->z[i].zone_idx], refusal_names[t->z[i].why],
			t->z[i].free, t->z[i].mark, t->z[i].reserve);
}

static int op_alloc_pages(struct machine *m, struct script_line *l)
{
	unsigned int gfp;
	long order, cpu = 0, count = 1, ok = 0;
	unsigned long pfn, first = 0, last = 0;
	struct alloc_trace trace;
	char name[160];
	int ret = 0;

	if (script_arg_gfp(l, 1, &gfp))
		return CLI_EXIT_FAIL;
	if (script_arg_long(l, 2, 0, MAX_ORDER - 1, &order) ||
	    (l->argc > 3 && script_arg_long(l, 3, 0, m->ncpus - 1, &cpu)) ||
	    (l->argc > 4 && script_arg_long(l, 4, 1, 1l << 24, &count)))
		return CLI_EXIT_FAIL;
	nsim_gfp_format(gfp, name, sizeof(name));
	for (long i = 0; i < count; i++) {
		ret = __alloc_pages(m, &pfn, gfp, (unsigned int)order, (int)cpu, -1, 0,
				    OWNER_SCRIPT, &trace);
		if (ret)
			break;
		if (!ok++)
			first = pfn;
		last = pfn;
	}
	if (ok)
		l->state->last_pfn = last;
	if (ret == -EINVAL)
		return script_error(l, "invalid request: %s", trace.reason);
	if (count == 1 && !ret) {
		struct zone *z = pfn_zone(m, pfn);

		fprintf(l->out, "alloc_pages %s order %ld cpu %ld: pfn %#lx (node %d, %s)\n", name,
			order, cpu, pfn, z->zone_pgdat->node_id, z->name);
		return 0;
	}
	fprintf(l->out, "alloc_pages %s order %ld cpu %ld x%ld: %ld allocated", name, order, cpu,
		count, ok);
	if (ok)
		fprintf(l->out, " (first pfn %#lx, last pfn %#lx)", first, last);
	fputc('\n', l->out);
	if (ret) {
		fprintf(l->out, "  ENOMEM: %s\n", trace.reason);
		print_trace(&trace, l->out);
	}
	return 0;
}

static int op_free_pages(struct machine *m, struct script_line *l)
{
	static const char *const why[] = {"pfn not in RAM", "not allocated (double free?)",
					  "allocated with another order", "not the owner"};
	long pfn, order, cpu = 0;
	int ret;

	if (!strcmp(l->argv[1], "last"))
		pfn = (long)l->state->last_pfn;
	else if (script_arg_long(l, 1, 0, LONG_MAX, &pfn))
		return CLI_EXIT_FAIL;
	if (script_arg_long(l, 2, 0, MAX_ORDER - 1, &order) ||
	    (l->argc > 3 && script_arg_long(l, 3, 0, m->ncpus - 1, &cpu)))
		return CLI_EXIT_FAIL;
	ret = free_pages(m, (unsigned long)pfn, (unsigned int)order, (int)cpu, OWNER_ANY);
	if (ret)
		fprintf(l->out, "free_pages %#lx order %ld: bad page state: %s\n", pfn, order,
			ret <= EBADPAGE_NOTPRESENT && ret >= EBADPAGE_OWNER
				? why[EBADPAGE_NOTPRESENT - ret]
				: "invalid argument");
	return 0;
}

static int op_sysctl(struct machine *m, struct script_line *l)
{
	const char *value = l->argc > 2 ? l->rest + strcspn(l->rest, " \t") : NULL;

	if (value)
		value += strspn(value, " \t");
	return boot_sysctl(m, l->argv[1], value, l->out);
}

static int op_drain(struct machine *m, struct script_line *l)
{
	(void)l;
	drain_all_pages(m);
	return 0;
}

static int op_print(struct machine *m, struct script_line *l)
{
	return boot_print_view(m, l->argv[1], l->json, l->out);
}

static int op_echo(struct machine *m, struct script_line *l)
{
	(void)m;
	fprintf(l->out, "%s\n", l->rest);
	return 0;
}

static const struct script_op page_script_ops[] = {
	{"alloc_pages", 2, 4, op_alloc_pages, "alloc_pages GFP ORDER [CPU [COUNT]]"},
	{"free_pages", 2, 3, op_free_pages, "free_pages PFN ORDER [CPU]"},
	{"sysctl", 1, SCRIPT_MAX_ARGS - 1, op_sysctl, "sysctl NAME [VALUE]"},
	{"drain", 0, 0, op_drain, "drain"},
	{"print", 1, 1, op_print, "print VIEW"},
	{"echo", 0, SCRIPT_MAX_ARGS - 1, op_echo, "echo TEXT"},
};

#define NR_PAGE_SCRIPT_OPS ((int)(sizeof(page_script_ops) / sizeof(page_script_ops[0])))

/* Split @buf into words; rest = the text of @raw after the first word. 0, or -E2BIG. */
static int split_line(char *buf, const char *raw, struct script_line *l)
{
	char *p = buf;

	l->argc = 0;
	raw += strspn(raw, " \t");
	raw += strcspn(raw, " \t");
	l->rest = raw + strspn(raw, " \t");
	while (*p) {
		p += strspn(p, " \t");
		if (!*p || *p == '#')
			break;
		if (l->argc == SCRIPT_MAX_ARGS)
			return strcmp(l->argv[0], "echo") ? -E2BIG : 0;
		l->argv[l->argc++] = p;
		p += strcspn(p, " \t");
		if (*p)
			*p++ = '\0';
	}
	return 0;
}

static const struct script_op *find_op(const struct script_op *ops, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(ops[i].name, name))
			return &ops[i];
	return NULL;
}

static int run_line(struct machine *m, struct script_line *l)
{
	const struct script_op *op = find_op(page_script_ops, NR_PAGE_SCRIPT_OPS, l->argv[0]);

	if (!op)
		op = find_op(slab_script_ops, nr_slab_script_ops, l->argv[0]);
	if (!op)
		return script_error(l, "unknown operation '%s'", l->argv[0]);
	if (l->argc - 1 < op->min_args || l->argc - 1 > op->max_args)
		return script_error(l, "usage: %s", op->usage);
	return op->run(m, l);
}

int boot_script_run(struct machine *m, const char *path, FILE *out, bool json)
{
	struct script_state state = {0, 0};
	struct script_line l = {.path = path, .out = out, .json = json, .state = &state};
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	char buf[4096], raw[4096];
	int ret = 0;

	if (!f)
		return cli_error(CLI_EXIT_FAIL, "boot", "cannot open script '%s': %s", path,
				 strerror(errno));
	while (!ret && fgets(buf, sizeof(buf), f)) {
		l.lineno++;
		buf[strcspn(buf, "\r\n")] = '\0';
		strcpy(raw, buf);
		if (split_line(buf, raw, &l))
			ret = script_error(&l, "too many words%s", "");
		else if (l.argc)
			ret = run_line(m, &l);
	}
	if (f != stdin)
		fclose(f);
	return ret;
}
