// SPDX-License-Identifier: MIT
/*
 * cmd_bench.c - `numasim bench`: the load generator (redis-benchmark / memtier_benchmark for
 * the simulated allocator). This file reads the options, applies the preset, says hello on
 * a control connection (bench-ctl) that creates and destroys the slab caches and takes the
 * views before and after, runs the load (bench/loop.c) or a trace (bench/replay.c), and
 * prints the summary (bench/report.c). See bench/bench.h for the modules, docs/BENCH.md for
 * the user's side.
 *
 * Exit statuses (cli.h): 0 every request answered as expected; 1 a request failed
 * unexpectedly (anything but ENOMEM under --allow-errors or the fragment preset), a replay
 * diverged, or a cache could not be made; 2 usage; 3 the server cannot be reached or
 * stopped answering. A failure prints one line "numasim bench: reason".
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench.h"
#include "cli.h"
#include "nsim.h"

#define CMD "bench"
#define MAX_PIPELINE 4096
#define MAX_CPUS 256

static const char bench_usage[] =
	"usage: numasim bench [-c CONNS] [-t THREADS] [-n REQUESTS | --test-time SECONDS]\n"
	"                     [--pipeline DEPTH] [--rate OPS] [--preset NAME] [WORKLOAD...]\n"
	"                     [--seed N] [--quiet] [--json | --csv] [--hist-file FILE]\n"
	"                     [--allow-errors] [--record FILE | --replay FILE]\n"
	"\n"
	"  -c N              connections per thread (default 50)\n"
	"  -t N              threads (default 1)\n"
	"  -n N              requests in all (default 100000)\n"
	"  --test-time S     run S seconds instead of -n\n"
	"  --pipeline D      requests in flight per connection (default 1)\n"
	"  --rate R          open loop: R requests/s in all, latency from the intended send time\n"
	"  --seed N          random seed (default: from the clock; printed in the summary)\n"
	"  --quiet           no progress line on stderr\n"
	"  --json, --csv     the summary as JSON or CSV instead of text\n"
	"  --hist-file F     every latency as 'value_us count' lines\n"
	"  --allow-errors    ENOMEM is expected, not a failure\n"
	"  --record F        write the operations as a trace\n"
	"  --replay F        run a trace in order (one connection per recorded connection)\n"
	"  --timeout MS      an answer must come within MS (default 10000)\n"
	"\n"
	"workload (a preset sets these; options given override it):\n"
	"  --preset P        pages | kmalloc | slab | mixed | fragment\n"
	"  --mix SPEC        pages:W,kmalloc:W,slab:W (default: what the options below name)\n"
	"  --orders SPEC     alloc_pages orders, e.g. 0:70,1:10,3:15,9:5\n"
	"  --gfp FLAGS       gfp mask of every allocation (default GFP_KERNEL)\n"
	"  --sizes SPEC      kmalloc sizes, e.g. 64:50,1024:30,8192:20 or 16-4096\n"
	"  --caches SPEC     slab caches NAME:SIZE[:WEIGHT],... (created at start, destroyed\n"
	"                    at the end)\n"
	"  --free WHEN       now | after:N (operations of the same connection)\n"
	"  --hold BYTES      keep objects until BYTES are held in all, then free the oldest\n"
	"  --cpus LIST       simulated CPUs, round-robin per connection (default: all)\n"
	"  --policy P        local | preferred:N | bind:NODES | interleave:NODES\n"
	"\n"
	"presets: pages (order-0 GFP_KERNEL alloc+free), kmalloc, slab, mixed (all three,\n"
	"--hold 64M), fragment (fill the DMA zone with order-0 movable pages, free every other\n"
	"one, then ask for high orders: ENOMEM expected)\n";

/* The options as given (NULL: not given), resolved once the machine is known. */
struct bench_opts {
	long conns, threads, pipeline, timeout_ms;
	uint64_t requests, seed;
	double test_time, rate;
	bool seed_given, quiet, allow_errors;
	enum bench_format format;
	const char *hist_file, *record, *replay, *preset;
	const char *mix, *orders, *gfp, *sizes, *caches, *free, *hold, *cpus, *policy;
};

struct preset {
	const char *name;
	const char *mix, *orders, *gfp, *sizes, *caches, *free, *hold, *cpus;
	bool fragment;
};

#define KMALLOC_SIZES "32:20,64:25,128:20,256:15,512:10,1024:5,4096:5"
#define SLAB_CACHES "bench-64:64,bench-192:192,bench-1000:1000"

static const struct preset presets[] = {
	{"pages", "pages:1", "0", "GFP_KERNEL", NULL, NULL, "now", NULL, NULL, false},
	{"kmalloc", "kmalloc:1", NULL, "GFP_KERNEL", KMALLOC_SIZES, NULL, "after:32", NULL, NULL,
	 false},
	{"slab", "slab:1", NULL, "GFP_KERNEL", NULL, SLAB_CACHES, "after:64", NULL, NULL, false},
	{"mixed", "pages:40,kmalloc:40,slab:20", "0:70,1:10,3:15,9:5", "GFP_KERNEL", KMALLOC_SIZES,
	 SLAB_CACHES, NULL, "64M", NULL, false},
	{"fragment", NULL, "1:20,2:20,3:20,5:20,9:20", "GFP_USER|__GFP_MOVABLE|__GFP_DMA", NULL,
	 NULL, NULL, NULL, "0", true},
};

enum {
	OPT_TEST_TIME = 256,
	OPT_PIPELINE,
	OPT_RATE,
	OPT_SEED,
	OPT_JSON,
	OPT_CSV,
	OPT_HIST,
	OPT_ALLOW,
	OPT_PRESET,
	OPT_RECORD,
	OPT_REPLAY,
	OPT_TIMEOUT,
	OPT_MIX,
	OPT_ORDERS,
	OPT_GFP,
	OPT_SIZES,
	OPT_CACHES,
	OPT_FREE,
	OPT_HOLD,
	OPT_CPUS,
	OPT_POLICY,
};

static const struct option options[] = {
	{"test-time", required_argument, NULL, OPT_TEST_TIME},
	{"pipeline", required_argument, NULL, OPT_PIPELINE},
	{"rate", required_argument, NULL, OPT_RATE},
	{"seed", required_argument, NULL, OPT_SEED},
	{"quiet", no_argument, NULL, 'q'},
	{"json", no_argument, NULL, OPT_JSON},
	{"csv", no_argument, NULL, OPT_CSV},
	{"hist-file", required_argument, NULL, OPT_HIST},
	{"allow-errors", no_argument, NULL, OPT_ALLOW},
	{"preset", required_argument, NULL, OPT_PRESET},
	{"record", required_argument, NULL, OPT_RECORD},
	{"replay", required_argument, NULL, OPT_REPLAY},
	{"timeout", required_argument, NULL, OPT_TIMEOUT},
	{"mix", required_argument, NULL, OPT_MIX},
	{"orders", required_argument, NULL, OPT_ORDERS},
	{"gfp", required_argument, NULL, OPT_GFP},
	{"sizes", required_argument, NULL, OPT_SIZES},
	{"caches", required_argument, NULL, OPT_CACHES},
	{"free", required_argument, NULL, OPT_FREE},
	{"hold", required_argument, NULL, OPT_HOLD},
	{"cpus", required_argument, NULL, OPT_CPUS},
	{"policy", required_argument, NULL, OPT_POLICY},
	{NULL, 0, NULL, 0},
};

/* ------------------------------------------------------------------ options */

static int parse_double(const char *what, const char *s, double min, double max, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	if (errno || end == s || *end || *out < min || *out > max)
		return cli_error(CLI_EXIT_USAGE, CMD, "bad %s '%s' (%g to %g)", what, s, min, max);
	return 0;
}

/* The string options: stored as given, checked once the preset is applied. */
static const char **string_option(struct bench_opts *o, int opt)
{
	switch (opt) {
	case OPT_HIST:
		return &o->hist_file;
	case OPT_PRESET:
		return &o->preset;
	case OPT_RECORD:
		return &o->record;
	case OPT_REPLAY:
		return &o->replay;
	case OPT_MIX:
		return &o->mix;
	case OPT_ORDERS:
		return &o->orders;
	case OPT_GFP:
		return &o->gfp;
	case OPT_SIZES:
		return &o->sizes;
	case OPT_CACHES:
		return &o->caches;
	case OPT_FREE:
		return &o->free;
	case OPT_HOLD:
		return &o->hold;
	case OPT_CPUS:
		return &o->cpus;
	case OPT_POLICY:
		return &o->policy;
	}
	return NULL;
}

static int number_option(struct bench_opts *o, int opt, const char *arg)
{
	switch (opt) {
	case 'c':
		return cli_parse_long(CMD, "connection count", arg, 1, 10000, &o->conns);
	case 't':
		return cli_parse_long(CMD, "thread count", arg, 1, 256, &o->threads);
	case 'n':
		if (cli_parse_u64(CMD, "request count", arg, &o->requests))
			return CLI_EXIT_USAGE;
		return o->requests ? 0 : cli_error(CLI_EXIT_USAGE, CMD, "-n must be above 0");
	case OPT_TEST_TIME:
		return parse_double("test time", arg, 0.001, 1e7, &o->test_time);
	case OPT_PIPELINE:
		return cli_parse_long(CMD, "pipeline depth", arg, 1, MAX_PIPELINE, &o->pipeline);
	case OPT_RATE:
		return parse_double("rate", arg, 0.001, 1e9, &o->rate);
	case OPT_SEED:
		o->seed_given = true;
		return cli_parse_u64(CMD, "seed", arg, &o->seed);
	case OPT_TIMEOUT:
		return cli_parse_long(CMD, "timeout", arg, 1, 3600000, &o->timeout_ms);
	}
	return -1;
}

static int one_option(struct bench_opts *o, int opt, const char *arg)
{
	const char **s = string_option(o, opt);
	int ret;

	if (s) {
		*s = arg;
		return 0;
	}
	ret = number_option(o, opt, arg);
	if (ret >= 0)
		return ret;
	switch (opt) {
	case 'q':
		o->quiet = true;
		return 0;
	case OPT_JSON:
	case OPT_CSV:
		if (o->format != BENCH_TEXT)
			return cli_error(CLI_EXIT_USAGE, CMD,
					 "--json and --csv exclude each other");
		o->format = opt == OPT_JSON ? BENCH_JSON : BENCH_CSV;
		return 0;
	case OPT_ALLOW:
		o->allow_errors = true;
		return 0;
	}
	return cli_error(CLI_EXIT_USAGE, CMD, "unknown option");
}

static int parse_args(struct bench_opts *o, int argc, char **argv)
{
	bool n_given = false;
	int opt, ret;

	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(bench_usage, stdout);
			return -1; /* done: exit 0 */
		}
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "c:t:n:q", options, NULL)) != -1) {
		if (opt == '?' || opt == ':')
			return cli_option_error(CMD, argv);
		n_given |= opt == 'n';
		ret = one_option(o, opt, optarg);
		if (ret)
			return ret;
	}
	if (optind < argc)
		return cli_error(CLI_EXIT_USAGE, CMD, "unexpected argument '%s'", argv[optind]);
	if (n_given && o->test_time > 0)
		return cli_error(CLI_EXIT_USAGE, CMD, "-n and --test-time exclude each other");
	if (o->record && o->replay)
		return cli_error(CLI_EXIT_USAGE, CMD, "--record and --replay exclude each other");
	if (o->free && o->hold)
		return cli_error(CLI_EXIT_USAGE, CMD, "--free and --hold exclude each other");
	if (o->test_time > 0)
		o->requests = 0;
	return 0;
}

/* ------------------------------------------------------------------ the workload */

static const struct preset *find_preset(const char *name)
{
	for (size_t i = 0; i < sizeof(presets) / sizeof(presets[0]); i++)
		if (!strcmp(presets[i].name, name))
			return &presets[i];
	return NULL;
}

/* Fill what the user left out from the preset (or, without one, from the options given). */
static int apply_preset(struct bench_opts *o, bool *fragment)
{
	const struct preset *p = NULL;

	*fragment = false;
	if (o->preset) {
		p = find_preset(o->preset);
		if (!p)
			return cli_error(CLI_EXIT_USAGE, CMD,
					 "unknown preset '%s' (pages, kmalloc, slab, mixed, "
					 "fragment)",
					 o->preset);
	} else if (!o->orders && !o->sizes && !o->caches && !o->mix) {
		p = find_preset("pages");
		o->preset = p->name;
	}
	if (p) {
		*fragment = p->fragment;
		o->mix = o->mix ? o->mix : p->mix;
		o->orders = o->orders ? o->orders : p->orders;
		o->gfp = o->gfp ? o->gfp : p->gfp;
		o->sizes = o->sizes ? o->sizes : p->sizes;
		o->caches = o->caches ? o->caches : p->caches;
		o->cpus = o->cpus ? o->cpus : p->cpus;
		if (!o->free && !o->hold) {
			o->free = p->free;
			o->hold = p->hold;
		}
	}
	if (!o->gfp)
		o->gfp = "GFP_KERNEL";
	return 0;
}

/* --mix pages:W,kmalloc:W,slab:W; without it, what --orders, --sizes and --caches name. */
static int parse_mix(const struct bench_opts *o, struct bench_workload *wl)
{
	static const char *const names[NR_BENCH_KINDS] = {"pages", "kmalloc", "slab"};
	char *copy, *tok, *save = NULL;
	int ret = 0;

	if (!o->mix) {
		wl->mix[BENCH_PAGES] = o->orders != NULL;
		wl->mix[BENCH_KMALLOC] = o->sizes != NULL;
		wl->mix[BENCH_SLAB] = o->caches != NULL;
		return 0;
	}
	copy = xstrdup(o->mix);
	for (tok = strtok_r(copy, ",", &save); tok && !ret; tok = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(tok, ':');
		long w = 1;
		int k;

		if (colon)
			*colon = '\0';
		for (k = 0; k < NR_BENCH_KINDS && strcmp(tok, names[k]); k++)
			;
		if (k == NR_BENCH_KINDS || (colon && nsim_parse_long(colon + 1, 0, 1000000, &w)))
			ret = cli_error(CLI_EXIT_USAGE, CMD,
					"bad --mix '%s' (pages:W,kmalloc:W,slab:W)", o->mix);
		else
			wl->mix[k] = (uint64_t)w;
	}
	free(copy);
	return ret;
}

/* --caches NAME:SIZE[:WEIGHT],... */
static int parse_caches(const char *spec, struct bench_workload *wl)
{
	char *copy = xstrdup(spec), *tok, *save = NULL;
	int ret = 0;

	for (tok = strtok_r(copy, ",", &save); tok && !ret; tok = strtok_r(NULL, ",", &save)) {
		struct bench_cache *c = &wl->caches[wl->nr_caches];
		char *size = strchr(tok, ':'), *weight = NULL;
		uint64_t bytes;
		long w = 1;

		if (size) {
			*size++ = '\0';
			weight = strchr(size, ':');
			if (weight)
				*weight++ = '\0';
		}
		if (wl->nr_caches == BENCH_MAX_CACHES || !size || !*tok ||
		    strlen(tok) >= sizeof(c->name) || strpbrk(tok, " \t=") ||
		    nsim_parse_size(size, &bytes) || !bytes || bytes > 1u << 20 ||
		    (weight && nsim_parse_long(weight, 0, 1000000, &w))) {
			ret = cli_error(CLI_EXIT_USAGE, CMD,
					"bad --caches '%s' (NAME:SIZE[:WEIGHT],..., at most %d)",
					spec, BENCH_MAX_CACHES);
			break;
		}
		snprintf(c->name, sizeof(c->name), "%s", tok);
		c->size = (uint32_t)bytes;
		c->weight = (uint64_t)w;
		wl->nr_caches++;
	}
	free(copy);
	return ret;
}

static int parse_dist(const char *opt, const char *spec, struct bench_dist *d, uint64_t max,
		      unsigned int flags)
{
	const char *why;

	if (!spec)
		return 0;
	if (bench_dist_parse(d, spec, flags ? 1 : 0, max, flags, &why))
		return cli_error(CLI_EXIT_USAGE, CMD, "bad %s '%s': %s", opt, spec, why);
	return 0;
}

static int parse_lifetime(const struct bench_opts *o, struct bench_workload *wl,
			  unsigned int nconns)
{
	uint64_t bytes;
	long n;

	wl->life = BENCH_FREE_NOW;
	if (o->hold) {
		if (nsim_parse_size(o->hold, &bytes) || !bytes)
			return cli_error(CLI_EXIT_USAGE, CMD, "bad --hold '%s' (64M, 1G, ...)",
					 o->hold);
		wl->hold_bytes = (bytes + nconns - 1) / nconns;
		if (!wl->fragment)
			wl->life = BENCH_HOLD;
		return 0;
	}
	if (!o->free || !strcmp(o->free, "now"))
		return 0;
	if (strncmp(o->free, "after:", 6) || nsim_parse_long(o->free + 6, 1, INT32_MAX, &n))
		return cli_error(CLI_EXIT_USAGE, CMD, "bad --free '%s' (now or after:N)", o->free);
	wl->life = BENCH_FREE_AFTER;
	wl->after = (uint64_t)n;
	return 0;
}

static int build_workload(const struct bench_opts *o, bool fragment, unsigned int nconns,
			  struct bench_workload *wl)
{
	int ret;

	memset(wl, 0, sizeof(*wl));
	wl->fragment = fragment;
	ret = cli_parse_gfp(CMD, o->gfp, &wl->gfp);
	if (!ret)
		ret = parse_mix(o, wl);
	if (!ret)
		ret = parse_dist("--orders", o->orders, &wl->orders, BENCH_NR_ORDERS - 1, 0);
	if (!ret)
		ret = parse_dist("--sizes", o->sizes, &wl->sizes, 4u << 20, BENCH_DIST_SIZES);
	if (!ret && o->caches)
		ret = parse_caches(o->caches, wl);
	if (!ret)
		ret = parse_lifetime(o, wl, nconns);
	if (!ret && fragment)
		bench_workload_share_fill(wl, nconns);
	if (!ret && bench_workload_finish(wl))
		ret = cli_error(CLI_EXIT_USAGE, CMD,
				"the mix needs what it names: --orders for pages, --sizes for "
				"kmalloc, --caches for slab");
	return ret;
}

/* --cpus "0-3,6" into a list, each below @ncpus (the machine's). */
static int parse_cpus(const char *spec, unsigned int ncpus, int *cpus, int *n)
{
	char *copy = xstrdup(spec), *tok, *save = NULL;
	int ret = 0;

	*n = 0;
	for (tok = strtok_r(copy, ",", &save); tok && !ret; tok = strtok_r(NULL, ",", &save)) {
		char *dash = strchr(tok, '-');
		long lo, hi;

		if (dash)
			*dash = '\0';
		if (nsim_parse_long(tok, 0, (long)ncpus - 1, &lo) ||
		    nsim_parse_long(dash ? dash + 1 : tok, lo, (long)ncpus - 1, &hi) ||
		    *n + (hi - lo + 1) > MAX_CPUS) {
			ret = cli_error(CLI_EXIT_USAGE, CMD,
					"bad --cpus '%s' (the machine has CPUs 0-%u)", spec,
					ncpus - 1);
			break;
		}
		for (long c = lo; c <= hi; c++)
			cpus[(*n)++] = (int)c;
	}
	free(copy);
	return ret;
}

/* --policy local | preferred:N | bind:NODES | interleave:NODES (numactl node lists). */
static int parse_policy(const char *spec, unsigned int nodes, struct bench_policy *p)
{
	const char *list = spec ? strchr(spec, ':') : NULL;
	long node;

	memset(p, 0, sizeof(*p));
	if (!spec || !strcmp(spec, "local"))
		return 0;
	if (!list)
		goto bad;
	if (!strncmp(spec, "preferred:", 10)) {
		if (nsim_parse_long(list + 1, 0, (long)nodes - 1, &node))
			goto bad;
		p->mode = NUMASIM__POLICY__POLICY_PREFERRED;
		p->preferred = (int)node;
		return 0;
	}
	if (!strncmp(spec, "bind:", 5))
		p->mode = NUMASIM__POLICY__POLICY_BIND;
	else if (!strncmp(spec, "interleave:", 11))
		p->mode = NUMASIM__POLICY__POLICY_INTERLEAVE;
	else
		goto bad;
	if (!nsim_parse_nodelist(list + 1, (int)nodes, &p->nodemask) && p->nodemask)
		return 0;
bad:
	return cli_error(CLI_EXIT_USAGE, CMD,
			 "bad --policy '%s' (local, preferred:N, bind:NODES, interleave:NODES; "
			 "the machine has nodes 0-%u)",
			 spec, nodes - 1);
}

/* The workload in one line for the summary: the mix, then what each kind of op uses. */
static void describe(const struct bench_opts *o, const struct bench_workload *wl, char *buf,
		     size_t len)
{
	static const char *const names[NR_BENCH_KINDS] = {"pages", "kmalloc", "slab"};
	char pol[64], gfp[128];
	size_t off = 0;

	bench_policy_format(&wl->policy, pol, sizeof(pol));
	nsim_gfp_format(wl->gfp, gfp, sizeof(gfp));
	if (wl->fragment) {
		snprintf(buf, len,
			 "fill with order-0 %s until ENOMEM%s, free the even pfns, probe orders "
			 "%s; policy %s; cpus %s",
			 gfp, wl->hold_bytes ? " or --hold" : "", o->orders, pol,
			 o->cpus ? o->cpus : "all");
		return;
	}
	buf[0] = '\0';
	for (int k = 0; k < NR_BENCH_KINDS && off < len; k++)
		if (wl->mix[k])
			off += (size_t)snprintf(buf + off, len - off, "%s %.0f%%, ", names[k],
						100.0 * (double)wl->mix[k] /
							(double)wl->kinds.total);
	if (wl->mix[BENCH_PAGES] && off < len)
		off += (size_t)snprintf(buf + off, len - off, "orders %s policy %s, ", o->orders,
					pol);
	if (wl->mix[BENCH_KMALLOC] && off < len)
		off += (size_t)snprintf(buf + off, len - off, "sizes %s, ", o->sizes);
	if (wl->mix[BENCH_SLAB] && off < len)
		off += (size_t)snprintf(buf + off, len - off, "caches %s, ", o->caches);
	if (off < len)
		snprintf(buf + off, len - off, "gfp %s, %s %s, cpus %s", gfp,
			 o->hold ? "hold" : "free",
			 o->hold   ? o->hold
			 : o->free ? o->free
				   : "now",
			 o->cpus ? o->cpus : "all");
}

/* ------------------------------------------------------------------ the control connection */

struct ctl {
	struct nsim_client cl;	    /* bench-ctl */
	struct bench_hello hello;   /* the machine */
	const char *addr;	    /* coordinator */
	int conn;		    /* its connection number in a trace */
	struct bench_recorder *rec; /* --record */
};

/* One RPC on the control connection; the response is the caller's. */
static int ctl_rpc(struct ctl *c, Numasim__Request *req, Numasim__Response__BodyCase body,
		   Numasim__Response **resp)
{
	int ret = nsim_client_call(&c->cl, req, resp);

	if (ret)
		return cli_error(CLI_EXIT_UNREACHABLE, CMD, "lost connection to %s: %s", c->addr,
				 cli_strerror(-ret));
	if ((*resp)->status != NUMASIM__STATUS__STATUS_OK || (*resp)->body_case != body) {
		ret = cli_error(CLI_EXIT_FAIL, CMD, "%s: %s", nsim_status_name((*resp)->status),
				(*resp)->message ? (*resp)->message : "unexpected answer");
		nsim_response_free(*resp, NULL);
		*resp = NULL;
	}
	return ret;
}

static int ctl_view(struct ctl *c, const char *name, struct bench_snapshot *s)
{
	Numasim__Request req = NUMASIM__REQUEST__INIT;
	Numasim__View v = NUMASIM__VIEW__INIT;
	Numasim__Response *resp;
	int ret;

	v.name = (char *)name;
	v.node = -1;
	v.json = true;
	req.body_case = NUMASIM__REQUEST__BODY_VIEW;
	req.view = &v;
	ret = ctl_rpc(c, &req, NUMASIM__RESPONSE__BODY_VIEW, &resp);
	if (ret)
		return ret;
	if (!strcmp(name, "buddyinfo"))
		ret = bench_snapshot_buddyinfo(s, resp->view->text);
	else
		ret = bench_snapshot_numastat(s, resp->view->text);
	nsim_response_free(resp, NULL);
	return ret ? cli_error(CLI_EXIT_FAIL, CMD, "%s --json does not parse", name) : 0;
}

static int ctl_node_stats(struct ctl *c, struct bench_snapshot *s)
{
	Numasim__Request req = NUMASIM__REQUEST__INIT;
	Numasim__NodeStats ns = NUMASIM__NODE_STATS__INIT;
	Numasim__Response *resp;
	int ret;

	ns.node = -1;
	req.body_case = NUMASIM__REQUEST__BODY_NODE_STATS;
	req.node_stats = &ns;
	ret = ctl_rpc(c, &req, NUMASIM__RESPONSE__BODY_NODE_STATS, &resp);
	if (ret)
		return ret;
	s->nr_stats = 0;
	for (size_t i = 0; i < resp->node_stats->n_nodes && i < BENCH_MAX_NODES; i++) {
		const Numasim__NodeStat *n = resp->node_stats->nodes[i];

		s->stats[s->nr_stats++] = (struct bench_node_stat){n->node, n->up,  n->managed,
								   n->free, n->pcp, n->allocated};
	}
	nsim_response_free(resp, NULL);
	return 0;
}

static int snapshot_take(struct ctl *c, struct bench_snapshot *s)
{
	int ret = ctl_view(c, "buddyinfo", s);

	if (!ret)
		ret = ctl_view(c, "numastat", s);
	if (!ret)
		ret = ctl_node_stats(c, s);
	s->valid = !ret;
	return ret;
}

/*
 * kmem_cache_create (or _destroy) of the first @n --caches entries, recorded with --record;
 * *@done counts those that succeeded. 0, or the exit status of the first failure (printed).
 */
static int ctl_caches(struct ctl *c, const struct bench_workload *wl, bool create, int n, int *done,
		      struct bench_stats *st)
{
	*done = 0;
	for (int i = 0; i < n; i++) {
		struct bench_op op = {.conn = c->conn, .node = -1, .status = -1, .cache_idx = i};
		char msg[256];
		int ret;

		op.code = create ? BENCH_OP_CACHE_CREATE : BENCH_OP_CACHE_DESTROY;
		op.size = create ? wl->caches[i].size : 0;
		snprintf(op.cache, sizeof(op.cache), "%s", wl->caches[i].name);
		ret = bench_call(&c->cl, &op, msg, sizeof(msg), NULL);
		if (ret)
			return cli_error(CLI_EXIT_UNREACHABLE, CMD, "lost connection to %s: %s",
					 c->addr, cli_strerror(-ret));
		bench_stats_aside(st, &op, msg);
		if (c->rec)
			bench_recorder_write(c->rec, &op);
		if (op.status != NUMASIM__STATUS__STATUS_OK)
			return cli_error(CLI_EXIT_FAIL, CMD, "%s '%s': %s%s%s",
					 create ? "kmem_cache_create" : "kmem_cache_destroy",
					 op.cache, bench_status_name(op.status), *msg ? ": " : "",
					 msg);
		(*done)++;
	}
	return 0;
}

/* ------------------------------------------------------------------ running */

struct run {
	struct bench_opts o;			     /* options */
	struct bench_workload wl;		     /* the workload */
	int cpus[MAX_CPUS];			     /* --cpus */
	int nr_cpus;				     /* entries of cpus */
	struct ctl ctl;				     /* control connection */
	struct bench_recorder rec;		     /* --record */
	struct bench_snapshot *before, *end, *after; /* views */
	struct bench_result res;		     /* counters */
	char workload[512];			     /* description for the summary */
};

/* bench_run's at_end: the memory as the workload left it, before the cleanup frees it. */
static void snapshot_end(void *arg)
{
	struct run *r = arg;

	if (snapshot_take(&r->ctl, r->end))
		r->end->valid = false;
}

/* The load, between the caches' creation and destruction. */
static int run_load(struct run *r)
{
	struct bench_config cfg = {
		.addr = r->ctl.addr,
		.threads = (unsigned int)r->o.threads,
		.conns = (unsigned int)r->o.conns,
		.pipeline = (unsigned int)r->o.pipeline,
		.requests = r->o.requests,
		.test_time = r->o.test_time,
		.rate = r->o.rate,
		.seed = r->o.seed,
		.quiet = r->o.quiet,
		.allow_enomem = r->o.allow_errors || r->wl.fragment,
		.wl = &r->wl,
		.cpus = r->cpus,
		.nr_cpus = r->nr_cpus,
		.rec = r->o.record ? &r->rec : NULL,
		.timeout_ms = (int)r->o.timeout_ms,
		.at_end = snapshot_end,
		.at_end_arg = r,
	};
	struct bench_stats *ctl_st = bench_stats_new();
	int created, destroyed, err;
	int ret = ctl_caches(&r->ctl, &r->wl, true, r->wl.nr_caches, &created, ctl_st);

	nsim_malloc_keep();
	if (!ret && bench_run(&cfg, &r->res))
		ret = cli_error(CLI_EXIT_UNREACHABLE, CMD, "%s", r->res.error);
	if (ret != CLI_EXIT_UNREACHABLE && created) { /* the caches go even after a failure */
		err = ctl_caches(&r->ctl, &r->wl, false, created, &destroyed, ctl_st);
		ret = ret ? ret : err;
	}
	if (r->res.st)
		bench_stats_merge(r->res.st, ctl_st);
	bench_stats_free(ctl_st);
	return ret;
}

/* The machine is known: resolve the CPUs and the policy. */
static int resolve(struct run *r)
{
	int ret;

	if (r->o.cpus)
		ret = parse_cpus(r->o.cpus, r->ctl.hello.cpus, r->cpus, &r->nr_cpus);
	else {
		r->nr_cpus = (int)(r->ctl.hello.cpus < MAX_CPUS ? r->ctl.hello.cpus : MAX_CPUS);
		for (int i = 0; i < r->nr_cpus; i++)
			r->cpus[i] = i;
		ret = r->nr_cpus ? 0 : cli_error(CLI_EXIT_FAIL, CMD, "the machine has no CPUs");
	}
	if (!ret)
		ret = parse_policy(r->o.policy, r->ctl.hello.nodes, &r->wl.policy);
	return ret;
}

static int write_hist(const char *path, const struct bench_hist *h)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return cli_error(CLI_EXIT_FAIL, CMD, "cannot write '%s': %s", path,
				 cli_strerror(errno));
	bench_hist_write(h, f);
	if (fclose(f))
		return cli_error(CLI_EXIT_FAIL, CMD, "cannot write '%s': %s", path,
				 cli_strerror(errno));
	return 0;
}

static void report(struct run *r)
{
	char server[160];
	struct bench_report rep = {
		.mode = r->o.replay ? "replay" : "bench",
		.preset = r->o.replay	? r->o.replay
			  : r->o.preset ? r->o.preset
					: "custom",
		.workload = r->workload,
		.server = server,
		.threads = (unsigned int)r->o.threads,
		.conns = (unsigned int)r->o.conns,
		.pipeline = (unsigned int)r->o.pipeline,
		.rate = r->o.rate,
		.seed = r->o.seed,
		.duration_s = r->res.duration_s,
		.allow_enomem = r->o.allow_errors || r->wl.fragment,
		.st = r->res.st,
		.before = r->before,
		.end = r->end->valid ? r->end : NULL,
		.after = r->after,
	};

	snprintf(server, sizeof(server), "%s (%s, %u nodes, %u cpus)", r->ctl.addr,
		 r->ctl.hello.server, r->ctl.hello.nodes, r->ctl.hello.cpus);
	if (r->o.replay) {
		rep.threads = 1;
		rep.conns = r->res.conns;
		rep.pipeline = 1;
		rep.rate = 0;
		rep.seed = 0;
	}
	bench_report_print(&rep, r->o.format, stdout);
	fflush(stdout);
}

/* The exit status the counters call for, with its one line. */
static int verdict(const struct run *r)
{
	const struct bench_stats *s = r->res.st;

	if (s->diverged)
		return cli_error(CLI_EXIT_FAIL, CMD,
				 "the replay diverged in %" PRIu64 " operations (first: %s)",
				 s->diverged, s->reason);
	if (s->unexpected)
		return cli_error(CLI_EXIT_FAIL, CMD,
				 "%" PRIu64 " requests failed unexpectedly (first: %s)",
				 s->unexpected, s->reason);
	return 0;
}

static int run_main(struct run *r)
{
	char err[256];
	int ret;

	r->ctl.addr = cli_server_address(NULL);
	r->ctl.conn = (int)(r->o.threads * r->o.conns);
	if (bench_connect(&r->ctl.cl, r->ctl.addr, "bench-ctl", (int)r->o.timeout_ms, &r->ctl.hello,
			  err, sizeof(err)))
		return cli_error(CLI_EXIT_UNREACHABLE, CMD, "%s", err);
	ret = resolve(r);
	if (!ret && r->o.record) {
		ret = bench_recorder_open(&r->rec, r->o.record);
		if (ret)
			ret = cli_error(CLI_EXIT_FAIL, CMD, "cannot write '%s': %s", r->o.record,
					cli_strerror(-ret));
		else
			r->ctl.rec = &r->rec;
	}
	if (!ret)
		ret = snapshot_take(&r->ctl, r->before);
	if (!ret && r->o.replay) {
		if (bench_replay(r->o.replay, r->ctl.addr, (int)r->o.timeout_ms, r->o.quiet,
				 &r->res)) {
			ret = cli_error(r->res.err == -EINVAL || r->res.err == -ENOENT
						? CLI_EXIT_FAIL
						: CLI_EXIT_UNREACHABLE,
					CMD, "%s", r->res.error);
			bench_stats_free(r->res.st); /* nothing worth a summary */
			r->res.st = NULL;
		}
	} else if (!ret) {
		ret = run_load(r);
	}
	if ((!ret || ret == CLI_EXIT_FAIL) && r->res.st && snapshot_take(&r->ctl, r->after))
		r->after->valid = false;
	if (r->o.record && r->ctl.rec && bench_recorder_close(&r->rec) && !ret)
		ret = cli_error(CLI_EXIT_FAIL, CMD, "cannot write '%s'", r->o.record);
	if (r->res.st && (!ret || ret == CLI_EXIT_FAIL)) {
		report(r);
		if (r->o.hist_file && !ret)
			ret = write_hist(r->o.hist_file, &r->res.st->all);
		if (!ret)
			ret = verdict(r);
	}
	nsim_client_close(&r->ctl.cl);
	return ret;
}

int cli_bench(int argc, char **argv)
{
	struct run *r = xcalloc(1, sizeof(*r));
	bool fragment;
	int ret;

	r->o = (struct bench_opts){.conns = 50,
				   .threads = 1,
				   .pipeline = 1,
				   .requests = 100000,
				   .timeout_ms = CLI_TIMEOUT_MS};
	ret = parse_args(&r->o, argc, argv);
	if (ret < 0) { /* --help */
		free(r);
		return 0;
	}
	if (!ret && !r->o.seed_given)
		r->o.seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	if (!ret && !r->o.replay)
		ret = apply_preset(&r->o, &fragment);
	if (!ret && !r->o.replay)
		ret = build_workload(&r->o, fragment, (unsigned int)(r->o.threads * r->o.conns),
				     &r->wl);
	if (!ret) {
		r->before = xcalloc(1, sizeof(*r->before));
		r->end = xcalloc(1, sizeof(*r->end));
		r->after = xcalloc(1, sizeof(*r->after));
		if (r->o.replay)
			snprintf(r->workload, sizeof(r->workload), "the trace %s", r->o.replay);
		else
			describe(&r->o, &r->wl, r->workload, sizeof(r->workload));
		ret = run_main(r);
	}
	bench_stats_free(r->res.st);
	bench_workload_release(&r->wl);
	free(r->before);
	free(r->end);
	free(r->after);
	free(r);
	return ret;
}
