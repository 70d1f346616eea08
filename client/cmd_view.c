// SPDX-License-Identifier: MIT
/*
 * cmd_view.c - the /proc-like views of the cluster (zoneinfo, buddyinfo, pagetypeinfo,
 * slabinfo, slabtop, slabs, meminfo, vmstat, numastat) and its own statistics (stats), as the
 * coordinator renders them. One shape for all: --node N, --json, and vmstat's repeat mode
 * -d DELAY [COUNT] on one connection.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "nsim.h"

const char cli_view_usage[] =
	"usage: numasim VIEW [--node N] [--json] [-d DELAY [COUNT]]\n"
	"       numasim slabtop [--sort KEY] ...\n"
	"\n"
	"  VIEW          zoneinfo buddyinfo pagetypeinfo slabinfo slabtop slabs meminfo\n"
	"                vmstat numastat stats\n"
	"  --node N      only node N (default: every node)\n"
	"  --json        JSON instead of the kernel's text format\n"
	"  -d DELAY      print every DELAY seconds, COUNT times (default: until interrupted)\n"
	"  --sort KEY    slabtop's sort keys: a b c l v n o p s u\n";

struct view_args {
	const char *name; /* the view */
	long node;	  /* --node, -1: every node */
	bool json;	  /* --json */
	const char *sort; /* --sort (slabtop) */
	double delay;	  /* -d, 0: print once */
	long count;	  /* COUNT, -1: forever */
};

enum { OPT_NODE = 256, OPT_JSON, OPT_SORT };

static const struct option view_options[] = {
	{"node", required_argument, NULL, OPT_NODE},
	{"json", no_argument, NULL, OPT_JSON},
	{"sort", required_argument, NULL, OPT_SORT},
	{"delay", required_argument, NULL, 'd'},
	{NULL, 0, NULL, 0},
};

static int parse_delay(const char *cmd, const char *s, double *delay)
{
	char *end;

	errno = 0;
	*delay = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(*delay) || *delay <= 0 || *delay > 86400)
		return cli_error(CLI_EXIT_USAGE, cmd, "bad delay '%s' (seconds, above 0)", s);
	return 0;
}

static int view_option(struct view_args *v, int opt, const char *arg)
{
	switch (opt) {
	case OPT_NODE:
		return cli_parse_long(v->name, "node", arg, 0, MAX_NUMNODES - 1, &v->node);
	case OPT_JSON:
		v->json = true;
		return 0;
	case OPT_SORT:
		if (strcmp(v->name, "slabtop"))
			return cli_error(CLI_EXIT_USAGE, v->name, "--sort is slabtop's option");
		v->sort = arg;
		return 0;
	case 'd':
		return parse_delay(v->name, arg, &v->delay);
	}
	return cli_error(CLI_EXIT_USAGE, v->name, "unknown option");
}

static int view_parse(struct view_args *v, int argc, char **argv)
{
	int opt, ret = 0;

	optind = 1;
	opterr = 0;
	while (!ret && (opt = getopt_long(argc, argv, "d:", view_options, NULL)) != -1)
		ret = opt == '?' ? cli_option_error(v->name, argv) : view_option(v, opt, optarg);
	if (ret)
		return ret;
	if (optind < argc && v->delay > 0 && optind == argc - 1)
		return cli_parse_long(v->name, "count", argv[optind], 1, 1l << 30, &v->count);
	if (optind < argc)
		return cli_error(CLI_EXIT_USAGE, v->name, "unexpected argument '%s'", argv[optind]);
	return 0;
}

/* Print @text, ending with a newline. */
static void print_text(const char *text)
{
	size_t len = strlen(text);

	fputs(text, stdout);
	if (len && text[len - 1] != '\n')
		putchar('\n');
}

int cli_view_show(struct cli_remote *r, const char *name, int node, bool json, const char *sort)
{
	Numasim__Request req = NUMASIM__REQUEST__INIT;
	Numasim__View view = NUMASIM__VIEW__INIT;
	Numasim__Response *resp;
	int ret;

	view.name = (char *)name;
	view.node = node;
	view.json = json;
	if (sort)
		view.sort = (char *)sort;
	req.body_case = NUMASIM__REQUEST__BODY_VIEW;
	req.view = &view;
	ret = cli_remote_call(r, &req, NUMASIM__RESPONSE__BODY_VIEW, &resp);
	if (!ret)
		print_text(resp->view->text);
	cli_response_free(resp);
	return ret;
}

static void sleep_seconds(double s)
{
	struct timespec ts = {.tv_sec = (time_t)s,
			      .tv_nsec = (long)((s - (double)(time_t)s) * 1e9)};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

int cli_view(int argc, char **argv)
{
	struct view_args v = {.name = argv[0], .node = -1, .count = -1};
	struct cli_remote r;
	int ret = view_parse(&v, argc, argv);

	if (ret)
		return ret;
	if (v.delay <= 0)
		v.count = 1;
	ret = cli_remote_open(&r, v.name, NULL, 0);
	for (long i = 0; !ret && (v.count < 0 || i < v.count); i++) {
		if (i) {
			sleep_seconds(v.delay);
			if (!v.json)
				putchar('\n');
		}
		ret = cli_view_show(&r, v.name, (int)v.node, v.json, v.sort);
		fflush(stdout);
	}
	cli_remote_close(&r);
	return ret;
}
