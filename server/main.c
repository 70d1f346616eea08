// SPDX-License-Identifier: MIT
/*
 * main.c - numasim-coordinator: options, the configuration, the routing machine, and the
 * loop layer (listening socket, connections, the tick timer, signals).
 *
 *   numasim-coordinator --config FILE [--listen ADDR:PORT] [--port-file FILE] [--quiet]
 *
 * Exit status: 0 after SIGTERM or SIGINT, 2 for bad usage or a bad configuration (one line
 * naming the problem), 1 when it cannot listen.
 *
 * Everything runs on one libuv loop: accepted connections become struct coord_peer
 * (freed in the connection's close callback), frames go to dispatch.c, the timer drives
 * nodes.c's heartbeats. A signal closes the listener, every connection and the timer; the
 * loop then ends by itself.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coord.h"
#include "nsim.h"

#define EXIT_USAGE 2

static const char usage[] =
	"usage: numasim-coordinator --config FILE [--listen ADDR:PORT] [--local PATH]\n"
	"                           [--port-file FILE] [--quiet]\n"
	"  --config FILE       the machine, its sysctls and the coordinator's settings (.ini)\n"
	"  --listen ADDR:PORT  overrides [coordinator] listen; port 0 picks a free port\n"
	"  --local PATH        also listen on a Unix socket at PATH, for node daemons and\n"
	"                      clients on this host (they dial unix:PATH)\n"
	"  --port-file FILE    write the port listened on to FILE (for tests)\n"
	"  --quiet             log errors only\n";

struct coord_opts {
	const char *config;    /* --config */
	const char *listen;    /* --listen, NULL: the file's */
	const char *local;     /* --local: Unix socket path, NULL: none */
	const char *port_file; /* --port-file */
	bool quiet;	       /* --quiet */
};

void coord_log(const struct coord *co, const char *fmt, ...)
{
	va_list ap;

	if (co->quiet)
		return;
	va_start(ap, fmt);
	fputs(COORD_PROGRAM ": ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static int fail(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs(COORD_PROGRAM ": ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return status;
}

static int parse_args(struct coord_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"listen", required_argument, NULL, 'l'},
		{"local", required_argument, NULL, 'u'},
		{"port-file", required_argument, NULL, 'p'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int opt;

	memset(o, 0, sizeof(*o));
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "c:l:u:p:qh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			o->config = optarg;
			break;
		case 'l':
			o->listen = optarg;
			break;
		case 'u':
			o->local = optarg;
			break;
		case 'p':
			o->port_file = optarg;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'h':
			fputs(usage, stdout);
			exit(0);
		default:
			return fail(EXIT_USAGE, "unknown or incomplete option '%s'\n%s",
				    argv[optind - 1], usage);
		}
	}
	if (optind < argc)
		return fail(EXIT_USAGE, "unexpected argument '%s'\n%s", argv[optind], usage);
	if (!o->config)
		return fail(EXIT_USAGE, "--config FILE is required\n%s", usage);
	if (o->local && nsim_check_unix_path(o->local))
		return fail(EXIT_USAGE, "--local '%s': a socket path must be 1 to %d bytes\n%s",
			    o->local, NSIM_UNIX_PATH_MAX, usage);
	return 0;
}

/* ------------------------------------------------------------------ connections */

static void peer_frame(struct nsim_conn *c, const uint8_t *payload, size_t len)
{
	struct coord_peer *peer = c->data;

	peer->co->now_ns = c->read_ns;
	coord_peer_frame(peer, payload, len);
}

static void peer_oversize(struct nsim_conn *c, size_t announced)
{
	coord_peer_oversize(c->data, announced);
}

static void peer_close(struct nsim_conn *c)
{
	struct coord_peer *peer = c->data;
	struct coord *co = peer->co;

	coord_clock_tick(co);
	if (peer->role == PEER_NODE)
		coord_node_link_closed(peer);
	coord_peer_closed(peer);
	if (peer->prev)
		peer->prev->next = peer->next;
	else
		co->peers = peer->next;
	if (peer->next)
		peer->next->prev = peer->prev;
	free(peer);
}

static const struct nsim_conn_ops peer_ops = {
	.on_frame = peer_frame,
	.on_oversize = peer_oversize,
	.on_close = peer_close,
};

static void on_accept(struct nsim_conn *c, void *data)
{
	struct coord *co = data;
	struct coord_peer *peer = xcalloc(1, sizeof(*peer));

	peer->co = co;
	peer->conn = c;
	peer->role = PEER_NEW;
	peer->nid = -1;
	peer->owner = coord_identity(&co->owners, COORD_ANONYMOUS);
	peer->next = co->peers;
	if (co->peers)
		co->peers->prev = peer;
	co->peers = peer;
	c->data = peer;
	if (co->stopping)
		nsim_conn_close(c);
}

/* ------------------------------------------------------------------ timer and signals */

static void on_tick(uv_timer_t *t)
{
	coord_clock_tick(t->data);
	coord_nodes_tick(t->data);
}

static void close_listeners(struct coord *co)
{
	if (co->has_server)
		nsim_listen_close(&co->server);
	if (co->has_local)
		nsim_listen_close(&co->local);
	co->has_server = co->has_local = false;
}

static void on_signal(uv_signal_t *h, int signum)
{
	struct coord *co = h->data;

	coord_clock_tick(co);
	if (co->stopping)
		return;
	co->stopping = true;
	coord_log(co, "%s: stopping", signum == SIGTERM ? "SIGTERM" : "SIGINT");
	uv_close((uv_handle_t *)&co->tick, NULL);
	close_listeners(co);
	uv_close((uv_handle_t *)&co->sigterm, NULL);
	uv_close((uv_handle_t *)&co->sigint, NULL);
	coord_nodes_shutdown(co);
	for (struct coord_peer *p = co->peers; p; p = p->next)
		nsim_conn_close(p->conn);
}

/* ------------------------------------------------------------------ start and stop */

static int write_port_file(const char *path, int port)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fprintf(f, "%d\n", port);
	if (fclose(f) || rename(tmp, path))
		return -errno;
	return 0;
}

/* Load the configuration and boot the routing machine; an exit status on failure. */
static int coord_setup(struct coord *co, const struct coord_opts *o)
{
	char err[COORD_ERRLEN], host[128];
	int port;

	co->quiet = o->quiet;
	if (coord_config_load(&co->cfg, o->config, err, sizeof(err)))
		return fail(EXIT_USAGE, "%s", err);
	if (o->listen) {
		if (strlen(o->listen) >= sizeof(co->cfg.listen))
			return fail(EXIT_USAGE, "--listen '%s' is too long", o->listen);
		strcpy(co->cfg.listen, o->listen);
	}
	if (nsim_parse_host_port(co->cfg.listen, host, sizeof(host), &port))
		return fail(EXIT_USAGE, "bad listen address '%s' (expected ADDR:PORT)",
			    co->cfg.listen);
	if (coord_machine_new(&co->m, &co->cfg, err, sizeof(err)))
		return fail(EXIT_USAGE, "%s: %s", o->config, err);
	coord_owners_init(&co->owners);
	nsim_arena_init(&co->scratch);
	nsim_arena_init(&co->answers);
	nsim_pool_init(&co->call_pool, sizeof(struct coord_call), COORD_POOL_MAX);
	nsim_pool_init(&co->small_pool, COORD_SMALL, COORD_POOL_MAX);
	coord_clock_tick(co);
	return 0;
}

static int coord_start(struct coord *co, const struct coord_opts *o)
{
	char host[128];
	int port = 0, asked, ret;

	ret = nsim_listen(co->loop, &co->server, co->cfg.listen, NSIM_FRAME_MAX_DEFAULT, &peer_ops,
			  on_accept, co, &port);
	if (ret)
		return fail(1, "cannot listen on %s: %s", co->cfg.listen, uv_strerror(ret));
	co->has_server = true;
	if (o->local) {
		char addr[sizeof(NSIM_UNIX_PREFIX) + 4096];

		snprintf(addr, sizeof(addr), NSIM_UNIX_PREFIX "%s", o->local);
		ret = nsim_listen(co->loop, &co->local, addr, NSIM_FRAME_MAX_DEFAULT, &peer_ops,
				  on_accept, co, NULL);
		if (ret)
			return fail(1, "cannot listen on %s: %s", addr, uv_strerror(ret));
		co->has_local = true;
		coord_log(co, "listening on %s", addr);
	}
	if (o->port_file && (ret = write_port_file(o->port_file, port)))
		return fail(1, "cannot write %s: %s", o->port_file, strerror(-ret));
	nsim_parse_host_port(co->cfg.listen, host, sizeof(host), &asked);
	coord_log(co, "listening on %s:%d (%s, %d nodes, %d cpus)", host, port, co->cfg.arch,
		  co->m->nr_nodes, co->m->ncpus);
	co->start_ms = uv_now(co->loop);
	uv_timer_init(co->loop, &co->tick);
	co->tick.data = co;
	uv_timer_start(&co->tick, on_tick, COORD_TICK_MS, COORD_TICK_MS);
	uv_signal_init(co->loop, &co->sigterm);
	uv_signal_init(co->loop, &co->sigint);
	co->sigterm.data = co->sigint.data = co;
	uv_signal_start(&co->sigterm, on_signal, SIGTERM);
	uv_signal_start(&co->sigint, on_signal, SIGINT);
	return 0;
}

static void coord_release(struct coord *co)
{
	nsim_arena_release(&co->scratch);
	nsim_arena_release(&co->answers);
	nsim_pool_release(&co->op_pool);
	nsim_pool_release(&co->call_pool);
	nsim_pool_release(&co->small_pool);
	coord_nodes_release(co);
	coord_owners_release(&co->owners);
	machine_free(co->m);
	coord_config_release(&co->cfg);
}

int main(int argc, char **argv)
{
	static struct coord co; /* large (node table): not on the stack */
	struct coord_opts o;
	uv_loop_t loop;
	int ret;

	signal(SIGPIPE, SIG_IGN);
	nsim_malloc_keep();
	ret = parse_args(&o, argc, argv);
	if (!ret)
		ret = coord_setup(&co, &o);
	if (ret) {
		coord_release(&co);
		return ret;
	}
	uv_loop_init(&loop);
	co.loop = &loop;
	ret = coord_start(&co, &o);
	if (ret)
		close_listeners(&co); /* the loop then ends at once */
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	coord_release(&co);
	return ret;
}
