// SPDX-License-Identifier: MIT
/*
 * control.c - the small commands: hello (who the client is), ping (alive, and how many
 * nodes are up), sysctl_get (from the routing machine) and sysctl_set (the routing machine
 * and every node daemon, since each node recomputes the watermarks of the whole machine).
 *
 * A sysctl written at run time is appended to the configuration that node daemons get when
 * they register, so a node that comes back has the same watermarks as the others.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "coord.h"
#include "nsim.h"

#define CLIENT_NAME_MAX 64
#define SYSCTL_VALUE_MAX 256

void coord_cmd_hello(struct coord_call *call, const Numasim__Request *req)
{
	struct coord *co = call->co;
	const char *name = req->hello->client;
	Numasim__Response resp = NUMASIM__RESPONSE__INIT;
	Numasim__HelloReply reply = NUMASIM__HELLO_REPLY__INIT;

	if (!name || !*name || strlen(name) > CLIENT_NAME_MAX) {
		coord_call_fail(call, NUMASIM__STATUS__STATUS_EINVAL,
				"hello needs a client name of 1 to %d characters", CLIENT_NAME_MAX);
		return;
	}
	coord_call_set_identity(call, coord_identity(&co->owners, name), req->hello->admin);
	reply.version = NSIM_PROTOCOL_VERSION;
	reply.server = COORD_SERVER_ID;
	reply.nodes = (uint32_t)co->m->nr_nodes;
	reply.cpus = (uint32_t)co->m->ncpus;
	resp.body_case = NUMASIM__RESPONSE__BODY_HELLO;
	resp.hello = &reply;
	coord_call_reply(call, &resp);
}

void coord_cmd_ping(struct coord_call *call, const Numasim__Request *req)
{
	struct coord *co = call->co;
	Numasim__Response resp = NUMASIM__RESPONSE__INIT;
	Numasim__Pong pong = NUMASIM__PONG__INIT;

	(void)req;
	pong.uptime_ms = uv_now(co->loop) - co->start_ms;
	pong.nodes_up = (uint32_t)co->nodes_up;
	resp.body_case = NUMASIM__RESPONSE__BODY_PONG;
	resp.pong = &pong;
	coord_call_reply(call, &resp);
}

static void reply_sysctl(struct coord_call *call, const char *name)
{
	Numasim__Response resp = NUMASIM__RESPONSE__INIT;
	Numasim__SysctlReply reply = NUMASIM__SYSCTL_REPLY__INIT;
	char value[SYSCTL_VALUE_MAX];
	int ret = machine_sysctl_get(call->co->m, name, value, sizeof(value));

	if (ret == -ENOENT) {
		coord_call_fail(call, NUMASIM__STATUS__STATUS_ENOENT, "unknown sysctl '%s'", name);
		return;
	}
	if (ret) {
		coord_call_fail(call, NUMASIM__STATUS__STATUS_EINVAL, "%s: cannot be read", name);
		return;
	}
	reply.name = (char *)name;
	reply.value = value;
	resp.body_case = NUMASIM__RESPONSE__BODY_SYSCTL;
	resp.sysctl = &reply;
	coord_call_reply(call, &resp);
}

void coord_cmd_sysctl_get(struct coord_call *call, const Numasim__Request *req)
{
	reply_sysctl(call, req->sysctl_get->name);
}

struct sysctl_op {
	struct coord_call *call; /* the client's request */
	char *name;		 /* the sysctl */
	struct coord_fanout f;	 /* one SysctlSet per node */
};

static void sysctl_set_done(struct coord_fanout *f)
{
	struct sysctl_op *op = f->arg;
	const struct coord_fanout_entry *e = coord_fanout_first_error(f);

	if (e)
		coord_call_fail_entry(op->call, e);
	else
		reply_sysctl(op->call, op->name);
	coord_fanout_release(f);
	free(op->name);
	free(op);
}

void coord_cmd_sysctl_set(struct coord_call *call, const Numasim__Request *req)
{
	struct coord *co = call->co;
	const Numasim__SysctlSet *set = req->sysctl_set;
	struct sysctl_op *op;
	Numasim__Request out;
	int ret;

	if (co->nodes_up != co->m->nr_nodes) {
		coord_call_fail(call, NUMASIM__STATUS__STATUS_EAGAIN,
				"sysctl_set needs every node up (%d of %d up)", co->nodes_up,
				co->m->nr_nodes);
		return;
	}
	ret = machine_sysctl_set(co->m, set->name, set->value);
	if (ret == -ENOENT) {
		coord_call_fail(call, NUMASIM__STATUS__STATUS_ENOENT, "unknown sysctl '%s'",
				set->name);
		return;
	}
	if (ret) {
		coord_call_fail(call, NUMASIM__STATUS__STATUS_EINVAL, "%s: invalid argument '%s'",
				set->name, set->value);
		return;
	}
	coord_config_add_sysctl(&co->cfg, set->name, set->value);
	op = xcalloc(1, sizeof(*op));
	op->call = call;
	op->name = xstrdup(set->name);
	coord_fanout_init(&op->f, co, sysctl_set_done, op);
	coord_request_init(&out);
	out.body_case = NUMASIM__REQUEST__BODY_SYSCTL_SET;
	out.sysctl_set = (Numasim__SysctlSet *)set;
	for (int nid = 0; nid < co->m->nr_nodes; nid++)
		coord_fanout_add(&op->f, nid, &out);
	coord_fanout_arm(&op->f);
}
