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

#include "cli.h"
#include "nsim.h"

#define MAX_ARGS 8
#define OWNER_SCRIPT 1u

struct script_line {
	const char *path;     /* script file, for messages */
	int lineno;	      /* 1-based */
	int argc;	      /* words */
	char *argv[MAX_ARGS]; /* words */
	const char *rest;     /* text after the first word (sysctl value, echo text) */
	FILE *out;	      /* where results go */
	bool json;	      /* views as JSON */
};

struct script_op {
	const char *name;				      /* first word */
	int min_args, max_args;				      /* words after the name */
	int (*run)(struct machine *m, struct script_line *l); /* 0 or CLI_EXIT_FAIL */
	const char *usage;				      /* for errors */
};

static int line_error(const struct script_line *l, const char *fmt, const char *arg)
{
	fprintf(stderr, "numasim boot: %s:%d: ", l->path, l->lineno);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	return CLI_EXIT_FAIL;
}

static int arg_long(const struct script_line *l, int i, long min, long max, long *v)
{
	if (nsim_parse_long(l->argv[i], min, max, v))
		return line_error(l, "bad number '%s'", l->argv[i]);
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
	const char *bad;
	int ret = 0;

	if (nsim_gfp_parse(l->argv[1], &gfp, &bad))
		return line_error(l, "unknown gfp flag in '%s'", bad);
	if (arg_long(l, 2, 0, MAX_ORDER - 1, &order) ||
	    (l->argc > 3 && arg_long(l, 3, 0, m->ncpus - 1, &cpu)) ||
	    (l->argc > 4 && arg_long(l, 4, 1, 1l << 24, &count)))
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
	if (ret == -EINVAL)
		return line_error(l, "invalid request: %s", trace.reason);
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

	if (arg_long(l, 1, 0, LONG_MAX, &pfn) || arg_long(l, 2, 0, MAX_ORDER - 1, &order) ||
	    (l->argc > 3 && arg_long(l, 3, 0, m->ncpus - 1, &cpu)))
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

static const struct script_op script_ops[] = {
	{"alloc_pages", 2, 4, op_alloc_pages, "alloc_pages GFP ORDER [CPU [COUNT]]"},
	{"free_pages", 2, 3, op_free_pages, "free_pages PFN ORDER [CPU]"},
	{"sysctl", 1, MAX_ARGS - 1, op_sysctl, "sysctl NAME [VALUE]"},
	{"drain", 0, 0, op_drain, "drain"},
	{"print", 1, 1, op_print, "print VIEW"},
	{"echo", 0, MAX_ARGS - 1, op_echo, "echo TEXT"},
};

#define NR_SCRIPT_OPS ((int)(sizeof(script_ops) / sizeof(script_ops[0])))

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
		if (l->argc == MAX_ARGS)
			return strcmp(l->argv[0], "echo") ? -E2BIG : 0;
		l->argv[l->argc++] = p;
		p += strcspn(p, " \t");
		if (*p)
			*p++ = '\0';
	}
	return 0;
}

static int run_line(struct machine *m, struct script_line *l)
{
	for (int i = 0; i < NR_SCRIPT_OPS; i++) {
		const struct script_op *op = &script_ops[i];

		if (strcmp(op->name, l->argv[0]))
			continue;
		if (l->argc - 1 < op->min_args || l->argc - 1 > op->max_args)
			return line_error(l, "usage: %s", op->usage);
		return op->run(m, l);
	}
	return line_error(l, "unknown operation '%s'", l->argv[0]);
}

int boot_script_run(struct machine *m, const char *path, FILE *out, bool json)
{
	struct script_line l = {.path = path, .out = out, .json = json};
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
			ret = line_error(&l, "too many words%s", "");
		else if (l.argc)
			ret = run_line(m, &l);
	}
	if (f != stdin)
		fclose(f);
	return ret;
}
