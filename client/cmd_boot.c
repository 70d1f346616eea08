// SPDX-License-Identifier: MIT
/*
 * cmd_boot.c - `numasim boot`: boot a simulated machine in this process, apply sysctls and a
 * script, print views. No server is involved; the same node/mm code runs in the daemons.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "nsim.h"
#include "views.h"

#define MAX_SYSCTLS 64
#define MAX_PRINTS 16

static const char boot_usage[] =
	"usage: numasim boot [--arch 686|686-pae] [--mem SIZE] [--e820 RANGES] [--cpus N]\n"
	"         [--nodes N | --node-mem SIZE,SIZE,...] [--distance ROW;ROW...]\n"
	"         [--cmdline \"PARAM=VALUE ...\"] [--thp always|madvise|never] [--cache-line N]\n"
	"         [--reserve ZONE=PAGES,...] [--late-free ZONE=PAGES,...]\n"
	"         [--sysctl NAME[=VALUE]]... [--script FILE] [--print VIEW,...] [--json]\n"
	"\n"
	"  --e820 RANGES   START-END:usable|reserved,... (END inclusive, as the boot log)\n"
	"  --distance      node distances, e.g. \"10,20;20,10\" (default 10 local, 20 remote)\n"
	"  --cache-line    the CPU's cache line for SLAB_HWCACHE_ALIGN (default 64)\n"
	"  --reserve       pages of a zone reserved at boot (managed = present - PAGES)\n"
	"  --late-free     pages given back after the watermarks (initrd, initmem)\n"
	"  --sysctl        NAME=VALUE writes, NAME reads (\"NAME = VALUE\"), in order\n"
	"  --script FILE   one operation per line (- = stdin), see README.md:\n"
	"                  alloc_pages free_pages sysctl drain print echo kmalloc kfree ksize\n"
	"                  krealloc kmem_cache_create kmem_cache_alloc kmem_cache_free\n"
	"                  kmem_cache_destroy kmem_cache_shrink kmem_cache_validate slabtop\n"
	"  views           zoneinfo buddyinfo pagetypeinfo meminfo vmstat numastat slabinfo\n"
	"                  slabtop slabs layout counters\n"
	"defaults: 686-pae, 2G, 1 CPU, 1 node, the QEMU PC memory map, THP always (Debian)\n";

struct boot_opts {
	struct machine_config cfg;	  /* the machine */
	bool mem_given;			  /* --mem was given */
	const char *sysctls[MAX_SYSCTLS]; /* --sysctl arguments in order */
	int nr_sysctls;			  /* how many */
	const char *script;		  /* --script FILE */
	char prints[MAX_PRINTS][32];	  /* --print views in order */
	int nr_prints;			  /* how many */
	bool json;			  /* --json */
};

static int zone_by_name(const char *name, size_t len)
{
	static const char *const names[MAX_NR_ZONES] = {"DMA", "Normal", "HighMem", "Movable"};

	for (int z = 0; z < MAX_NR_ZONES; z++)
		if (strlen(names[z]) == len && !strncasecmp(names[z], name, len))
			return z;
	return -1;
}

/* "DMA=158,Normal=6951" into @pages per zone. */
static int parse_zone_pages(const char *s, long *pages)
{
	while (*s) {
		size_t len = strcspn(s, "=");
		int z = zone_by_name(s, len);
		char buf[32];
		size_t vlen;
		long v;

		if (z < 0 || s[len] != '=')
			return -EINVAL;
		s += len + 1;
		vlen = strcspn(s, ",");
		if (!vlen || vlen >= sizeof(buf))
			return -EINVAL;
		memcpy(buf, s, vlen);
		buf[vlen] = '\0';
		if (nsim_parse_long(buf, 0, 1l << 30, &v))
			return -EINVAL;
		pages[z] = v;
		s += vlen;
		if (*s == ',')
			s++;
	}
	return 0;
}

/* One "START-END:TYPE" item of --e820. */
static int parse_e820_item(const char *item, struct e820_entry *e)
{
	char *end;
	unsigned long long a, b;

	errno = 0;
	a = strtoull(item, &end, 0);
	if (errno || end == item || *end != '-')
		return -EINVAL;
	item = end + 1;
	b = strtoull(item, &end, 0);
	if (errno || end == item || b < a || (*end && *end != ':'))
		return -EINVAL;
	e->addr = a;
	e->size = b - a + 1;
	e->type = E820_USABLE;
	if (*end == ':') {
		if (!strcasecmp(end + 1, "reserved"))
			e->type = E820_RESERVED;
		else if (strcasecmp(end + 1, "usable") && strcasecmp(end + 1, "ram"))
			return -EINVAL;
	}
	return 0;
}

static int parse_e820(const char *s, struct e820_table *t)
{
	char buf[4096], *save = NULL;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	t->nr_entries = 0;
	for (char *it = strtok_r(buf, ",", &save); it; it = strtok_r(NULL, ",", &save)) {
		if (t->nr_entries == E820_MAX_ENTRIES ||
		    parse_e820_item(it, &t->entries[t->nr_entries]))
			return -EINVAL;
		t->nr_entries++;
	}
	return t->nr_entries ? 0 : -EINVAL;
}

static int parse_node_mem(const char *s, struct machine_config *cfg)
{
	char buf[1024], *save = NULL;
	int n = 0;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	for (char *it = strtok_r(buf, ",", &save); it; it = strtok_r(NULL, ",", &save)) {
		if (n == MAX_NUMNODES || nsim_parse_size(it, &cfg->node_mem[n]) ||
		    !cfg->node_mem[n])
			return -EINVAL;
		n++;
	}
	if (!n)
		return -EINVAL;
	cfg->nr_nodes = n;
	return 0;
}

/* "10,20;20,10": one row per node, the SLIT as numactl --hardware prints it. */
static int parse_distance(const char *s, struct machine_config *cfg)
{
	int row = 0, col = 0;

	while (*s) {
		char *end;
		long v = strtol(s, &end, 10);

		if (end == s || v < 10 || v > 254 || row >= MAX_NUMNODES || col >= MAX_NUMNODES)
			return -EINVAL;
		cfg->distance[row][col++] = (uint8_t)v;
		s = end;
		if (*s == ';') {
			row++;
			col = 0;
			s++;
		} else if (*s == ',') {
			s++;
		} else if (*s) {
			return -EINVAL;
		}
	}
	return row ? 0 : -EINVAL;
}

static int parse_thp(const char *s, enum thp_mode *mode)
{
	static const char *const names[] = {"always", "madvise", "never"};

	for (int i = 0; i < 3; i++)
		if (!strcmp(s, names[i])) {
			*mode = (enum thp_mode)i;
			return 0;
		}
	return -EINVAL;
}

static int parse_prints(const char *s, struct boot_opts *o)
{
	while (*s) {
		size_t len = strcspn(s, ",");

		if (o->nr_prints == MAX_PRINTS || !len || len >= sizeof(o->prints[0]))
			return -EINVAL;
		memcpy(o->prints[o->nr_prints], s, len);
		o->prints[o->nr_prints][len] = '\0';
		if (mm_view_lookup(o->prints[o->nr_prints]) < 0 &&
		    strcmp(o->prints[o->nr_prints], "layout") &&
		    strcmp(o->prints[o->nr_prints], "counters"))
			return -EINVAL;
		o->nr_prints++;
		s += len;
		if (*s == ',')
			s++;
	}
	return 0;
}

enum {
	OPT_ARCH = 256,
	OPT_MEM,
	OPT_E820,
	OPT_CPUS,
	OPT_NODES,
	OPT_NODE_MEM,
	OPT_CMDLINE,
	OPT_THP,
	OPT_RESERVE,
	OPT_LATE_FREE,
	OPT_DISTANCE,
	OPT_CACHE_LINE,
	OPT_SYSCTL,
	OPT_SCRIPT,
	OPT_PRINT,
	OPT_JSON,
	OPT_HELP,
};

static const struct option boot_options[] = {
	{"arch", required_argument, NULL, OPT_ARCH},
	{"mem", required_argument, NULL, OPT_MEM},
	{"e820", required_argument, NULL, OPT_E820},
	{"cpus", required_argument, NULL, OPT_CPUS},
	{"nodes", required_argument, NULL, OPT_NODES},
	{"node-mem", required_argument, NULL, OPT_NODE_MEM},
	{"cmdline", required_argument, NULL, OPT_CMDLINE},
	{"thp", required_argument, NULL, OPT_THP},
	{"reserve", required_argument, NULL, OPT_RESERVE},
	{"late-free", required_argument, NULL, OPT_LATE_FREE},
	{"distance", required_argument, NULL, OPT_DISTANCE},
	{"cache-line", required_argument, NULL, OPT_CACHE_LINE},
	{"sysctl", required_argument, NULL, OPT_SYSCTL},
	{"script", required_argument, NULL, OPT_SCRIPT},
	{"print", required_argument, NULL, OPT_PRINT},
	{"json", no_argument, NULL, OPT_JSON},
	{"help", no_argument, NULL, OPT_HELP},
	{NULL, 0, NULL, 0},
};

/* Apply one option; returns 0 or a message naming what is wrong. */
static const char *apply_option(struct boot_opts *o, int opt, const char *arg, char *err)
{
	struct machine_config *c = &o->cfg;
	long v;

	switch (opt) {
	case OPT_ARCH:
		if (!strcmp(arg, "686"))
			c->arch = ARCH_686;
		else if (!strcmp(arg, "686-pae"))
			c->arch = ARCH_686_PAE;
		else
			return "--arch must be 686 or 686-pae";
		return NULL;
	case OPT_MEM:
		o->mem_given = true;
		return nsim_parse_size(arg, &c->mem_bytes) ? "bad --mem size" : NULL;
	case OPT_E820:
		return parse_e820(arg, &c->e820) ? "bad --e820 map (START-END:usable|reserved,...)"
						 : NULL;
	case OPT_CPUS:
		if (nsim_parse_long(arg, 0, 1 << 20, &v))
			return "bad --cpus count";
		c->ncpus = (int)v;
		return NULL;
	case OPT_NODES:
		if (nsim_parse_long(arg, 0, 1 << 20, &v))
			return "bad --nodes count";
		c->nr_nodes = (int)v;
		return NULL;
	case OPT_NODE_MEM:
		return parse_node_mem(arg, c) ? "bad --node-mem list (SIZE,SIZE,...)" : NULL;
	case OPT_CMDLINE:
		return machine_cmdline_apply(c, arg, err) ? err : NULL;
	case OPT_THP:
		return parse_thp(arg, &c->thp) ? "--thp must be always, madvise or never" : NULL;
	case OPT_RESERVE:
		return parse_zone_pages(arg, c->reserve) ? "bad --reserve (ZONE=PAGES,...)" : NULL;
	case OPT_LATE_FREE:
		return parse_zone_pages(arg, c->late_free) ? "bad --late-free (ZONE=PAGES,...)"
							   : NULL;
	case OPT_DISTANCE:
		return parse_distance(arg, c)
			       ? "bad --distance (rows of N values, ';' between rows)"
			       : NULL;
	case OPT_CACHE_LINE:
		if (nsim_parse_long(arg, 16, 256, &v) || (v & (v - 1)))
			return "--cache-line must be a power of two from 16 to 256";
		c->cache_line = (unsigned int)v;
		return NULL;
	case OPT_SYSCTL:
		if (o->nr_sysctls == MAX_SYSCTLS)
			return "too many --sysctl options";
		o->sysctls[o->nr_sysctls++] = arg;
		return NULL;
	case OPT_SCRIPT:
		o->script = arg;
		return NULL;
	case OPT_PRINT:
		return parse_prints(arg, o) ? "unknown view in --print (zoneinfo buddyinfo "
					      "pagetypeinfo meminfo vmstat numastat slabinfo "
					      "slabtop slabs layout counters)"
					    : NULL;
	case OPT_JSON:
		o->json = true;
		return NULL;
	}
	return "unknown option";
}

static int parse_args(struct boot_opts *o, int argc, char **argv)
{
	char err[MM_ERRLEN];
	int opt;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", boot_options, NULL)) != -1) {
		const char *msg;

		if (opt == OPT_HELP) {
			fputs(boot_usage, stdout);
			return 1;
		}
		if (opt == '?')
			return cli_error(CLI_EXIT_USAGE, "boot",
					 "unknown or incomplete option '%s'", argv[optind - 1]);
		msg = apply_option(o, opt, optarg, err);
		if (msg)
			return cli_error(CLI_EXIT_USAGE, "boot", "%s: '%s'", msg, optarg);
	}
	if (optind < argc)
		return cli_error(CLI_EXIT_USAGE, "boot", "unexpected argument '%s'", argv[optind]);
	return 0;
}

/* Node sizes given without --mem: the machine has exactly their sum. */
static void settle_mem(struct boot_opts *o)
{
	uint64_t sum = 0;

	for (int i = 0; i < o->cfg.nr_nodes && i < MAX_NUMNODES; i++)
		sum += o->cfg.node_mem[i];
	if (sum && !o->mem_given)
		o->cfg.mem_bytes = sum;
}

/* --sysctl NAME=VALUE writes, --sysctl NAME reads. */
int boot_sysctl(struct machine *m, const char *name, const char *value, FILE *out)
{
	char buf[256];
	int ret;

	if (value) {
		ret = machine_sysctl_set(m, name, value);
		if (ret == -ENOENT)
			return cli_error(CLI_EXIT_FAIL, "boot", "unknown sysctl '%s'", name);
		if (ret)
			return cli_error(CLI_EXIT_FAIL, "boot", "%s: invalid argument '%s'", name,
					 value);
		return 0;
	}
	ret = machine_sysctl_get(m, name, buf, sizeof(buf));
	if (ret)
		return cli_error(CLI_EXIT_FAIL, "boot", "unknown sysctl '%s'", name);
	fprintf(out, "%s%s = %s\n", strncmp(name, "vm.", 3) ? "vm." : "", name, buf);
	return 0;
}

static int apply_sysctls(struct machine *m, const struct boot_opts *o)
{
	for (int i = 0; i < o->nr_sysctls; i++) {
		char *dup = xstrdup(o->sysctls[i]), *eq = strchr(dup, '=');
		int ret;

		if (eq)
			*eq++ = '\0';
		ret = boot_sysctl(m, dup, eq, stdout);
		free(dup);
		if (ret)
			return ret;
	}
	return 0;
}

/* Print one view (text or JSON) of the machine. */
int boot_print_view(struct machine *m, const char *name, bool json, FILE *out)
{
	struct seq_file s;
	int view = mm_view_lookup(name);

	if (!strcmp(name, "layout")) {
		boot_layout_print(m, out);
		return 0;
	}
	if (!strcmp(name, "counters")) {
		boot_counters_print(m, json, out);
		return 0;
	}
	if (view < 0)
		return cli_error(CLI_EXIT_FAIL, "boot", "unknown view '%s'", name);
	seq_init(&s);
	if (mm_view_show(&s, m, (enum mm_view)view, -1, json)) {
		seq_release(&s);
		return cli_error(CLI_EXIT_FAIL, "boot", "cannot show view '%s'", name);
	}
	fputs(s.buf, out);
	if (json)
		fputc('\n', out);
	seq_release(&s);
	return 0;
}

int cli_boot(int argc, char **argv)
{
	struct boot_opts o = {0};
	struct machine *m;
	char err[MM_ERRLEN];
	int ret;

	machine_config_init(&o.cfg);
	ret = parse_args(&o, argc, argv);
	if (ret)
		return ret == 1 ? 0 : ret;
	settle_mem(&o);
	if (machine_new(&m, &o.cfg, err))
		return cli_error(CLI_EXIT_FAIL, "boot", "%s", err);
	ret = apply_sysctls(m, &o);
	if (!ret && o.script)
		ret = boot_script_run(m, o.script, stdout, o.json);
	for (int i = 0; !ret && i < o.nr_prints; i++)
		ret = boot_print_view(m, o.prints[i], o.json, stdout);
	machine_free(m);
	return ret;
}
