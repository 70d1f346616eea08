// SPDX-License-Identifier: MIT
/*
 * main.c - numasim-node: command line, logging, and the libuv loop.
 *
 *   numasim-node --coordinator HOST:PORT --id N [--listen ADDR:PORT] [--quiet]
 *
 * Exit status: 0 after SIGTERM/SIGINT, 1 when the coordinator refuses the registration or
 * the machine cannot boot, 2 for a bad command line.
 */
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "node.h"
#include "nsim.h"

static int log_id = -1; /* the N of "numasim-node[N]" */
static bool log_quiet;	/* --quiet: errors only */

static void log_line(const char *fmt, va_list ap)
{
	char line[512];

	vsnprintf(line, sizeof(line), fmt, ap);
	fprintf(stderr, "numasim-node[%d]: %s\n", log_id, line);
}

void node_log(const char *fmt, ...)
{
	va_list ap;

	if (log_quiet)
		return;
	va_start(ap, fmt);
	log_line(fmt, ap);
	va_end(ap);
}

void node_log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line(fmt, ap);
	va_end(ap);
}

static const char usage[] =
	"usage: numasim-node --coordinator HOST:PORT --id N [--listen ADDR:PORT] [--cpu-threads]\n"
	"                    [--quiet]\n"
	"\n"
	"Holds node N of the machine the coordinator describes: registers with it (retrying\n"
	"until it answers), boots the node's zones and serves the coordinator's requests.\n"
	"\n"
	"  --coordinator HOST:PORT  the coordinator's node port (or unix:PATH, its local socket)\n"
	"  --id N                   the node this process holds\n"
	"  --listen ADDR:PORT       also accept read-only clients (ping, view, node_stats,\n"
	"                           sysctl_get)\n"
	"  --cpu-threads            run each simulated CPU's requests on a thread of its own,\n"
	"                           concurrently (default: on the loop thread, one at a time,\n"
	"                           in the order they arrive)\n"
	"  --quiet                  log errors only\n";

enum { OPT_COORD = 256, OPT_ID, OPT_LISTEN, OPT_CPU_THREADS, OPT_QUIET, OPT_HELP };

static const struct option options[] = {
	{"coordinator", required_argument, NULL, OPT_COORD},
	{"id", required_argument, NULL, OPT_ID},
	{"listen", required_argument, NULL, OPT_LISTEN},
	{"cpu-threads", no_argument, NULL, OPT_CPU_THREADS},
	{"quiet", no_argument, NULL, OPT_QUIET},
	{"help", no_argument, NULL, OPT_HELP},
	{NULL, 0, NULL, 0},
};

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "numasim-node: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n%s", usage);
	return 2;
}

static int check_addr(const char *s)
{
	char host[256];
	int port;

	if (nsim_addr_unix_path(s) ? nsim_check_unix_path(nsim_addr_unix_path(s)) != 0
				   : nsim_parse_host_port(s, host, sizeof(host), &port) != 0)
		return usage_error("bad address '%s' (HOST:PORT or unix:PATH)", s);
	return 0;
}

/* Parse the command line into @d. 0, 1 (--help printed) or 2 (usage error). */
static int parse_args(struct node_daemon *d, int argc, char **argv)
{
	long id = -1;
	int opt;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case OPT_COORD:
			d->coord_addr = optarg;
			break;
		case OPT_ID:
			if (nsim_parse_long(optarg, 0, MAX_NUMNODES - 1, &id))
				return usage_error("bad node id '%s'", optarg);
			break;
		case OPT_LISTEN:
			d->listen_addr = optarg;
			break;
		case OPT_CPU_THREADS:
			d->cpu_threads = true;
			break;
		case OPT_QUIET:
			log_quiet = true;
			break;
		case OPT_HELP:
			fputs(usage, stdout);
			return 1;
		default:
			return usage_error("unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (!d->coord_addr || id < 0)
		return usage_error("%s", "--coordinator and --id are required");
	d->nid = (int)id;
	log_id = d->nid;
	if (check_addr(d->coord_addr))
		return 2;
	if (d->listen_addr && check_addr(d->listen_addr))
		return 2;
	return 0;
}

int main(int argc, char **argv)
{
	struct node_daemon d;
	uv_loop_t loop;
	int ret;

	memset(&d, 0, sizeof(d));
	nsim_malloc_keep();
	ret = parse_args(&d, argc, argv);
	if (ret)
		return ret == 1 ? 0 : ret;
	signal(SIGPIPE, SIG_IGN);
	ret = uv_loop_init(&loop);
	if (ret) {
		node_log_error("cannot start the event loop: %s", uv_strerror(ret));
		return 1;
	}
	if (node_daemon_init(&d, &loop))
		d.exit_code = 1;
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	nsim_arena_release(&d.scratch);
	return d.exit_code;
}
