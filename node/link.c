// SPDX-License-Identifier: MIT
/*
 * link.c - the node's connection to the coordinator.
 *
 * Flow: connect (retrying after 200 ms, doubling to a 2 s cap, forever: in containers the
 * coordinator may start later) -> send Request{register={node, pid}} -> read one Response
 * to it (id matches, body register) -> from then on the coordinator sends Requests on the
 * same connection and the dispatcher answers them. A refused registration ends the process
 * (exit 1), except EAGAIN (the coordinator is not ready), which is retried.
 *
 * The machine's shape (the MachineConfig without its sysctls) is kept packed. A
 * registration whose shape packs to the same bytes as the one booted keeps the machine and
 * its allocations (a dropped connection, a restarted coordinator) and applies the config's
 * sysctls again, in order, on the control worker: the coordinator appends every sysctl
 * written at run time to the config it hands out, and sysctl writes are idempotent, so the
 * node's tunables end up equal to the coordinator's without a reboot. Another shape reboots
 * the machine on the control worker. Requests that come while a boot is out are parked and
 * dispatched when it is done; a config arriving meanwhile is judged when the boot is done.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node.h"
#include "nsim.h"

static void link_attempt(uv_timer_t *t);

static void link_schedule(struct node_daemon *d)
{
	uv_timer_start(&d->retry, link_attempt, d->backoff_ms, 0);
	d->backoff_ms *= 2;
	if (d->backoff_ms > NODE_BACKOFF_MAX_MS)
		d->backoff_ms = NODE_BACKOFF_MAX_MS;
}

static void link_register(struct node_daemon *d, struct node_peer *p)
{
	Numasim__Request req = NUMASIM__REQUEST__INIT;
	Numasim__Register reg = NUMASIM__REGISTER__INIT;

	reg.node = d->nid;
	reg.pid = (uint32_t)getpid();
	req.version = NSIM_PROTOCOL_VERSION;
	req.id = d->register_id = ++d->next_id;
	req.body_case = NUMASIM__REQUEST__BODY_REGISTER;
	req.register_ = &reg;
	nsim_conn_send_msg(p->conn, &req.base);
}

static void link_connected(struct nsim_conn *c, int status, void *data)
{
	struct node_daemon *d = data;
	struct node_peer *p;

	if (!c) {
		if (d->stopping)
			return;
		if (!d->retry_logged)
			node_log("coordinator %s is not answering (%s); retrying", d->coord_addr,
				 uv_strerror(status));
		d->retry_logged = true;
		link_schedule(d);
		return;
	}
	p = node_peer_new(d, c, true);
	if (d->stopping) {
		nsim_conn_close(c);
		return;
	}
	d->retry_logged = false;
	d->link = p;
	d->link_rx_ms = uv_now(d->loop);
	node_log("connected to coordinator %s; registering as node %d", d->coord_addr, d->nid);
	link_register(d, p);
}

static void link_attempt(uv_timer_t *t)
{
	struct node_daemon *d = t->data;
	int ret = nsim_connect(d->loop, d->coord_addr, 0, &node_conn_ops, link_connected, d);

	if (ret)
		link_connected(NULL, ret, d);
}

/*
 * The coordinator pings every heartbeat (500 ms by default). A link that carried nothing for
 * NODE_LINK_IDLE_MS is dead even if TCP has not noticed (a partition drops the FIN): close it
 * and register again.
 */
static void link_idle_check(uv_timer_t *t)
{
	struct node_daemon *d = t->data;

	if (!d->link || d->stopping || uv_now(d->loop) - d->link_rx_ms < NODE_LINK_IDLE_MS)
		return;
	node_log("the coordinator has been silent for %u ms; reconnecting", NODE_LINK_IDLE_MS);
	nsim_conn_close(d->link->conn);
}

void node_link_start(struct node_daemon *d)
{
	d->backoff_ms = NODE_BACKOFF_MIN_MS;
	d->retry.data = d;
	d->idle.data = d;
	uv_timer_start(&d->idle, link_idle_check, 1000, 1000);
	link_attempt(&d->retry);
}

void node_link_lost(struct node_daemon *d)
{
	d->link = NULL;
	if (d->stopping)
		return;
	node_log("lost the coordinator; reconnecting");
	d->backoff_ms = NODE_BACKOFF_MIN_MS;
	link_schedule(d);
}

/* ------------------------------------------------------------------ boot or keep */

/* Hand the old machine and @msg's config to the control worker. */
static void link_boot(struct node_daemon *d, Numasim__Response *msg)
{
	struct node_job *job = xcalloc(1, sizeof(*job));

	node_jobs_flush(d); /* jobs for the old machine go first, and come back ENODEV */
	job->kind = NODE_JOB_BOOT;
	job->nid = d->nid;
	job->boot.msg = msg;
	job->boot.old_m = d->m;
	job->boot.old_pool = d->pool;
	job->boot.results = &d->results;
	job->boot.cpu_threads = d->cpu_threads;
	d->m = NULL;
	d->pool = NULL;
	d->nr_nodes = d->ncpus = 0;
	d->booting = true;
	node_worker_push(&d->ctl, job);
}

static bool same_config(const struct node_daemon *d, const uint8_t *buf, size_t len)
{
	return d->cfg_packed && d->cfg_len == len && !memcmp(d->cfg_packed, buf, len);
}

/* The machine's shape: @mc packed without its sysctls (a new buffer, its size in *@len). */
static uint8_t *pack_shape(const Numasim__MachineConfig *mc, size_t *len)
{
	Numasim__MachineConfig shape = *mc;
	uint8_t *buf;

	shape.n_sysctls = 0;
	shape.sysctls = NULL;
	*len = protobuf_c_message_get_packed_size(&shape.base);
	buf = xmalloc(*len ? *len : 1);
	protobuf_c_message_pack(&shape.base, buf);
	return buf;
}

/* Keep the machine; its sysctls go to the control worker (after what is queued there). */
static void link_keep(struct node_daemon *d, Numasim__Response *msg)
{
	struct node_job *job;

	if (d->stats.undone)
		node_log("registered again; same machine kept (%llu allocations freed so far: "
			 "their answers had no connection to go to)",
			 (unsigned long long)d->stats.undone);
	else
		node_log("registered again; same machine, kept with its allocations");
	if (!msg->register_->config->n_sysctls) {
		nsim_response_free(msg, NULL);
		return;
	}
	job = xcalloc(1, sizeof(*job));
	job->kind = NODE_JOB_SYSCTLS;
	job->nid = d->nid;
	job->m = d->m;
	job->boot.msg = msg;
	node_worker_push(&d->ctl, job);
}

/* A RegisterReply with a config: keep the machine, or boot it (again). */
static void link_take_config(struct node_daemon *d, Numasim__Response *msg)
{
	size_t len;
	uint8_t *buf;

	d->backoff_ms = NODE_BACKOFF_MIN_MS;
	if (d->booting) { /* judged when the boot is done */
		if (d->pending_reg)
			nsim_response_free(d->pending_reg, NULL);
		d->pending_reg = msg;
		return;
	}
	buf = pack_shape(msg->register_->config, &len);
	if (d->m && same_config(d, buf, len)) {
		free(buf);
		link_keep(d, msg);
		return;
	}
	free(d->cfg_packed);
	d->cfg_packed = buf;
	d->cfg_len = len;
	if (d->m)
		node_log("registered with another machine; rebooting (allocations dropped)");
	link_boot(d, msg);
}

/* The first frame(s) from the coordinator: the Response to our Register. */
void node_link_on_frame(struct node_peer *p, const uint8_t *payload, size_t len)
{
	struct node_daemon *d = p->d;
	Numasim__Response *msg = nsim_response_unpack(NULL, len, payload);

	if (!msg) {
		d->stats.bad_frames++;
		node_log_error("coordinator: the answer to register does not decode; closing");
		goto out_close;
	}
	if (msg->id != d->register_id) {
		d->stats.bad_frames++;
		node_log_error("coordinator: answer to request %llu while registering; closing",
			       (unsigned long long)msg->id);
		goto out_close;
	}
	if (msg->status == NUMASIM__STATUS__STATUS_EAGAIN) {
		node_log("coordinator is not ready (%s); retrying", msg->message);
		goto out_close;
	}
	if (msg->status != NUMASIM__STATUS__STATUS_OK) {
		node_log_error("registration refused: %s: %s", nsim_status_name(msg->status),
			       msg->message);
		nsim_response_free(msg, NULL);
		node_daemon_stop(d, 1);
		return;
	}
	if (msg->body_case != NUMASIM__RESPONSE__BODY_REGISTER || !msg->register_->config) {
		d->stats.bad_frames++;
		node_log_error("coordinator: the answer to register has no config; closing");
		goto out_close;
	}
	p->registered = true;
	link_take_config(d, msg);
	return;
out_close:
	if (msg)
		nsim_response_free(msg, NULL);
	nsim_conn_close(p->conn);
}

/* Log the machine just booted, once. */
static void log_booted(const struct node_daemon *d)
{
	const struct machine *m = d->m;
	const pg_data_t *pgdat = m->node_data[d->nid];
	unsigned long managed = 0;

	for (int z = 0; z < MAX_NR_ZONES; z++)
		managed += READ_ONCE(pgdat->node_zones[z].managed_pages);
	node_log("booted %s, %llu MiB, %d CPUs, %d nodes; node %d: %lu MiB present, %lu pages "
		 "managed%s; CPU requests on %s",
		 m->cfg.arch == ARCH_686 ? "686" : "686-pae",
		 (unsigned long long)(m->cfg.mem_bytes >> 20), m->ncpus, m->nr_nodes, d->nid,
		 pgdat->node_present_pages >> (20 - PAGE_SHIFT), managed,
		 m->slab ? ", slab layer" : "", d->pool ? "a thread per CPU" : "the loop thread");
}

void node_link_booted(struct node_daemon *d, struct node_job *job)
{
	struct node_boot *b = &job->boot;

	d->booting = false;
	if (b->ret) {
		node_log_error("cannot boot the machine: %s", b->err);
		node_job_release(job);
		node_daemon_stop(d, 1);
		return;
	}
	d->m = b->m;
	d->pool = b->pool;
	b->m = NULL;
	b->pool = NULL;
	d->nr_nodes = d->m->nr_nodes;
	d->ncpus = d->m->ncpus;
	node_job_release(job);
	if (d->stopping)
		return;
	log_booted(d);
	if (d->pending_reg) {
		Numasim__Response *msg = d->pending_reg;

		d->pending_reg = NULL;
		link_take_config(d, msg);
	}
	if (!d->booting)
		node_dispatch_parked(d);
}

void node_link_sysctls_done(struct node_job *job)
{
	if (job->boot.ret)
		node_log_error("registered again, but the config's sysctls do not apply: %s",
			       job->boot.err);
	node_job_release(job);
}

void node_link_release(struct node_daemon *d)
{
	free(d->cfg_packed);
	d->cfg_packed = NULL;
	if (d->pending_reg)
		nsim_response_free(d->pending_reg, NULL);
	d->pending_reg = NULL;
}
