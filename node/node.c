// SPDX-License-Identifier: MIT
/*
 * node.c - the daemon's lifecycle on the loop thread: start the control worker, the results
 * queue, the signal handlers, the optional read-only listener and the coordinator link;
 * stop them in the reverse order on SIGTERM/SIGINT or a fatal registration.
 *
 * Shutdown order (each step needs the previous one done):
 *   close the timer, signals, listener and every connection (answers now go nowhere)
 *   -> stop the control worker (a boot under way finishes first) -> take its results
 *   -> stop the CPU workers -> take their results -> free parked jobs and the machine
 *   -> close the async handle, so uv_run() returns once libuv has closed every handle.
 */
#include <signal.h>
#include <stdlib.h>

#include "node.h"

uint64_t node_uptime_ms(const struct node_daemon *d)
{
	return (uv_hrtime() - d->start_ns) / 1000000u;
}

static void on_signal(uv_signal_t *h, int signum)
{
	struct node_daemon *d = h->data;

	node_log("%s: shutting down", signum == SIGTERM ? "SIGTERM" : "SIGINT");
	node_daemon_stop(d, 0);
}

static int signals_start(struct node_daemon *d)
{
	int ret;

	d->sigterm.data = d->sigint.data = d;
	ret = uv_signal_start(&d->sigterm, on_signal, SIGTERM);
	if (!ret)
		ret = uv_signal_start(&d->sigint, on_signal, SIGINT);
	return ret;
}

static void on_accept(struct nsim_conn *c, void *data)
{
	struct node_daemon *d = data;

	node_peer_new(d, c, false);
	if (d->stopping)
		nsim_conn_close(c);
}

static int listen_start(struct node_daemon *d)
{
	int port, ret;

	if (!d->listen_addr)
		return 0;
	ret = nsim_listen(d->loop, &d->listener, d->listen_addr, 0, &node_conn_ops, on_accept, d,
			  &port);
	if (ret) {
		node_log_error("cannot listen on %s: %s", d->listen_addr, uv_strerror(ret));
		return ret;
	}
	d->listening = true;
	node_log("listening on %s (port %d) for read-only clients", d->listen_addr, port);
	return 0;
}

int node_daemon_init(struct node_daemon *d, uv_loop_t *loop)
{
	int ret;

	d->loop = loop;
	d->start_ns = uv_hrtime();
	nsim_arena_init(&d->scratch);
	nsim_pool_init(&d->job_pool, sizeof(struct node_job), NODE_JOBS_KEPT);
	uv_timer_init(loop, &d->retry);
	uv_timer_init(loop, &d->idle);
	uv_signal_init(loop, &d->sigterm);
	uv_signal_init(loop, &d->sigint);
	ret = node_results_init(&d->results, loop, node_results_cb, d);
	if (ret) {
		node_log_error("cannot start: %s", uv_strerror(ret));
		return ret; /* nothing to stop yet: the process exits */
	}
	ret = node_worker_start(&d->ctl, &d->results);
	if (ret)
		node_log_error("cannot start the control worker: %s", uv_strerror(ret));
	if (!ret)
		ret = signals_start(d);
	if (!ret)
		ret = listen_start(d);
	if (ret) {
		node_daemon_stop(d, 1);
		return ret;
	}
	node_link_start(d);
	return 0;
}

static void close_handles(struct node_daemon *d)
{
	uv_close((uv_handle_t *)&d->retry, NULL);
	uv_close((uv_handle_t *)&d->idle, NULL);
	uv_close((uv_handle_t *)&d->sigterm, NULL);
	uv_close((uv_handle_t *)&d->sigint, NULL);
	if (d->listening)
		nsim_listen_close(&d->listener);
	d->listening = false;
	for (struct node_peer *p = d->peers; p; p = p->next)
		if (p->conn)
			nsim_conn_close(p->conn);
}

/* Join the workers and free everything they and the loop held. */
static void stop_workers(struct node_daemon *d)
{
	node_jobs_abandon(node_worker_stop(&d->ctl));
	node_results_cb(&d->results.async);
	node_jobs_abandon(node_pool_free(d->pool));
	d->pool = NULL;
	node_results_cb(&d->results.async);
	node_jobs_abandon(node_jobq_take(&d->parked, NULL));
	node_jobs_abandon(node_worker_stop(&d->ctl)); /* staged by the last results */
	nsim_pool_release(&d->job_pool);
	machine_free(d->m);
	d->m = NULL;
}

void node_daemon_stop(struct node_daemon *d, int code)
{
	if (d->stopping)
		return;
	d->stopping = true;
	d->exit_code = code;
	close_handles(d);
	stop_workers(d);
	uv_close((uv_handle_t *)&d->results.async, NULL);
	pthread_mutex_destroy(&d->results.lock);
	node_link_release(d);
}
