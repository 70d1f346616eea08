// SPDX-License-Identifier: MIT
/*
 * main.c - `numasim [-s HOST:PORT] [--client NAME] [--admin] COMMAND ...`: reads the global
 * options, finds the subcommand in the table, makes the checks every command shares (--help,
 * global options only where a server is involved) and runs it. Also the argument parsers
 * the commands share, so that every bad argument reads the same.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "nsim.h"

static int cli_help(int argc, char **argv);

static const struct cli_command commands[] = {
	{"boot", cli_boot, "boot a simulated machine in this process and show it", NULL, 0},
	{"hardware", cli_hardware, "the machine's nodes, CPUs, sizes and distances",
	 cli_hardware_usage, CLI_CMD_REMOTE},
	{"alloc-pages", cli_alloc_pages, "allocate 2^order pages (alloc_pages)",
	 cli_alloc_pages_usage, CLI_CMD_REMOTE},
	{"free-pages", cli_free_pages, "free pages (__free_pages)", cli_free_pages_usage,
	 CLI_CMD_REMOTE},
	{"kmalloc", cli_kmalloc, "allocate an object (kmalloc, kmalloc_node)", cli_kmalloc_usage,
	 CLI_CMD_REMOTE},
	{"kfree", cli_kfree, "free an object (kfree)", cli_kfree_usage, CLI_CMD_REMOTE},
	{"ksize", cli_ksize, "the usable size of an object (ksize)", cli_ksize_usage,
	 CLI_CMD_REMOTE},
	{"kmem-cache", cli_kmem_cache, "create, use and destroy slab caches", cli_kmem_cache_usage,
	 CLI_CMD_REMOTE},
	{"zoneinfo", cli_view, "/proc/zoneinfo", cli_view_usage, CLI_CMD_REMOTE},
	{"buddyinfo", cli_view, "/proc/buddyinfo", cli_view_usage, CLI_CMD_REMOTE},
	{"pagetypeinfo", cli_view, "/proc/pagetypeinfo", cli_view_usage, CLI_CMD_REMOTE},
	{"slabinfo", cli_view, "/proc/slabinfo", cli_view_usage, CLI_CMD_REMOTE},
	{"slabtop", cli_view, "slabtop --once [--sort KEY]", cli_view_usage, CLI_CMD_REMOTE},
	{"slabs", cli_view, "every cache and alias with its geometry", cli_view_usage,
	 CLI_CMD_REMOTE},
	{"meminfo", cli_view, "/proc/meminfo", cli_view_usage, CLI_CMD_REMOTE},
	{"vmstat", cli_view, "/proc/vmstat", cli_view_usage, CLI_CMD_REMOTE},
	{"numastat", cli_view, "numastat", cli_view_usage, CLI_CMD_REMOTE},
	{"stats", cli_view, "the coordinator's per-command calls and latencies", cli_view_usage,
	 CLI_CMD_REMOTE},
	{"sysctl", cli_sysctl, "read or write vm sysctls", cli_sysctl_usage, CLI_CMD_REMOTE},
	{"ping", cli_ping, "is the server there, how many nodes are up", cli_ping_usage,
	 CLI_CMD_REMOTE},
	{"cluster", cli_cluster, "start, inspect and stop a local cluster", cli_cluster_usage,
	 CLI_CMD_REMOTE},
	{"bench", cli_bench, "load generator: throughput, latency, fragmentation", NULL,
	 CLI_CMD_REMOTE},
	{"help", cli_help, "list the commands", NULL, 0},
};

#define NR_COMMANDS ((int)(sizeof(commands) / sizeof(commands[0])))

int cli_error(int status, const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "numasim %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return status;
}

const char *cli_strerror(int err)
{
	static char buf[128];

	snprintf(buf, sizeof(buf), "%s", strerror(err));
	buf[0] = (char)tolower((unsigned char)buf[0]);
	return buf;
}

int cli_parse_long(const char *cmd, const char *what, const char *s, long min, long max, long *out)
{
	if (nsim_parse_long(s, min, max, out))
		return cli_error(CLI_EXIT_USAGE, cmd, "bad %s '%s' (%ld to %ld)", what, s, min,
				 max);
	return 0;
}

int cli_parse_u64(const char *cmd, const char *what, const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 0);
	if (errno || end == s || *end || *s == '-' || *s == ' ')
		return cli_error(CLI_EXIT_USAGE, cmd, "bad %s '%s'", what, s);
	return 0;
}

int cli_parse_size(const char *cmd, const char *s, uint64_t *bytes)
{
	if (nsim_parse_size(s, bytes))
		return cli_error(CLI_EXIT_USAGE, cmd, "bad size '%s' (1024, 64K, 0x1000, ...)", s);
	return 0;
}

int cli_parse_gfp(const char *cmd, const char *s, unsigned int *gfp)
{
	const char *bad = NULL;

	if (!nsim_gfp_parse(s, gfp, &bad))
		return 0;
	if (bad && *bad)
		return cli_error(CLI_EXIT_USAGE, cmd, "unknown gfp flag '%.*s' in '%s'",
				 (int)strcspn(bad, "|"), bad, s);
	return cli_error(CLI_EXIT_USAGE, cmd, "bad gfp mask '%s'", s);
}

int cli_option_error(const char *cmd, char **argv)
{
	return cli_error(CLI_EXIT_USAGE, cmd, "unknown or incomplete option '%s'",
			 argv[optind - 1]);
}

static int cli_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("usage: numasim [-s HOST:PORT] [--client NAME] [--admin] COMMAND [ARGS]\n\n"
	       "  -s HOST:PORT    the coordinator (default $NUMASIM_SERVER, else %s)\n"
	       "  --client NAME   who owns what this command allocates (default $NUMASIM_CLIENT,\n"
	       "                  else the user name)\n"
	       "  --admin         may free anyone's pages and objects\n\ncommands:\n",
	       CLI_DEFAULT_SERVER);
	for (int i = 0; i < NR_COMMANDS; i++)
		printf("  %-13s %s\n", commands[i].name, commands[i].summary);
	printf("\n`numasim COMMAND --help` describes a command.\n");
	return 0;
}

static const struct cli_command *find_command(const char *name)
{
	for (int i = 0; i < NR_COMMANDS; i++)
		if (!strcmp(name, commands[i].name))
			return &commands[i];
	return NULL;
}

/* --help or -h among the command's arguments (before "--"). */
static bool wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return true;
	return false;
}

struct cli_globals {
	const char *server; /* -s, --server */
	const char *client; /* --client */
	bool admin;	    /* --admin */
};

/*
 * parse_globals - the options before COMMAND: "-s ADDR", "-sADDR", "--server[=]ADDR",
 * "--client[=]NAME", "--admin". Parsed by hand, not with getopt_long(), so that each command's
 * getopt starts from a clean state. The index of COMMAND (argc if there is none), 0 for
 * --help, or -1 after a usage error.
 */
static int parse_globals(int argc, char **argv, struct cli_globals *g)
{
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i], **val = NULL, *v = NULL;

		if (!strcmp(a, "--"))
			return i + 1;
		if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			return 0;
		if (!strcmp(a, "--admin")) {
			g->admin = true;
			continue;
		}
		if (!strncmp(a, "-s", 2) || !strncmp(a, "--server", 8)) {
			val = &g->server;
			v = !strncmp(a, "-s", 2) ? a + 2 : a + 8;
		} else if (!strncmp(a, "--client", 8)) {
			val = &g->client;
			v = a + 8;
		}
		if (!val || (a[1] == '-' && *v && *v != '=')) {
			fprintf(stderr, "numasim: unknown option '%s' (try `numasim help`)\n", a);
			return -1;
		}
		if (*v == '=')
			v++;
		else if (!*v)
			v = i + 1 < argc ? argv[++i] : "";
		if (!*v) {
			fprintf(stderr, "numasim: option '%s' needs a value\n", a);
			return -1;
		}
		*val = v;
	}
	return i;
}

int main(int argc, char **argv)
{
	struct cli_globals g = {NULL, NULL, false};
	const struct cli_command *c;
	int i = parse_globals(argc, argv, &g);

	if (i < 0)
		return CLI_EXIT_USAGE;
	if (i == 0)
		return cli_help(argc, argv);
	if (i >= argc) {
		cli_help(argc, argv);
		return CLI_EXIT_USAGE;
	}
	c = find_command(argv[i]);
	if (!c) {
		fprintf(stderr, "numasim: unknown command '%s' (try `numasim help`)\n", argv[i]);
		return CLI_EXIT_USAGE;
	}
	if (!(c->flags & CLI_CMD_REMOTE) && (g.server || g.client || g.admin))
		return cli_error(CLI_EXIT_USAGE, c->name, "-s, --client and --admin do not apply");
	cli_remote_setup(g.server, g.client, g.admin);
	argc -= i;
	argv += i;
	if (c->usage && wants_help(argc, argv)) {
		fputs(c->usage, stdout);
		return 0;
	}
	return c->run(argc, argv);
}
