// SPDX-License-Identifier: MIT
/*
 * remote.c - how every remote command talks to the coordinator: where it is, who we are, the
 * hello that opens each connection, and the one place where transport errors and response
 * statuses become a one-line message and an exit status.
 *
 * Exit statuses (cli.h): a status other than OK, an answer of the wrong kind or one that does
 * not decode -> CLI_EXIT_FAIL; a bad address -> CLI_EXIT_USAGE; a server that refuses the
 * connection, does not answer in CLI_TIMEOUT_MS or closes the connection ->
 * CLI_EXIT_UNREACHABLE. Messages read "STATUS: the server's message" so scripts can match
 * the status name.
 */
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "nsim.h"

static struct {
	const char *server; /* -s */
	const char *client; /* --client */
	bool admin;	    /* --admin */
} remote_globals;

void cli_remote_setup(const char *server, const char *client, bool admin)
{
	remote_globals.server = server;
	remote_globals.client = client;
	remote_globals.admin = admin;
}

static const char *env_nonempty(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

const char *cli_server_address(bool *explicit)
{
	const char *s = remote_globals.server;

	if (!s)
		s = env_nonempty("NUMASIM_SERVER");
	if (explicit)
		*explicit = s != NULL;
	return s ? s : CLI_DEFAULT_SERVER;
}

const char *cli_identity(void)
{
	static char name[64];
	const struct passwd *pw;
	const char *s = remote_globals.client;

	if (!s)
		s = env_nonempty("NUMASIM_CLIENT");
	if (s)
		return s;
	if (!name[0]) {
		pw = getpwuid(geteuid());
		if (pw && pw->pw_name && *pw->pw_name)
			snprintf(name, sizeof(name), "%s", pw->pw_name);
		else if (env_nonempty("USER"))
			snprintf(name, sizeof(name), "%s", getenv("USER"));
		else
			snprintf(name, sizeof(name), "uid%u", (unsigned int)geteuid());
	}
	return name;
}

/* Record the error; print it unless the caller asked for quiet. Returns @status. */
static int __attribute__((format(printf, 3, 4)))
remote_fail(struct cli_remote *r, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->error, sizeof(r->error), fmt, ap);
	va_end(ap);
	if (!(r->flags & CLI_QUIET))
		cli_error(status, r->cmd, "%s", r->error);
	return status;
}

/* A negative errno of nsim_client_open/call as a message and an exit status. */
static int remote_transport_error(struct cli_remote *r, int err, bool connecting)
{
	switch (err) {
	case -EINVAL:
		return remote_fail(r, CLI_EXIT_USAGE, "bad server address '%s' (HOST:PORT)",
				   r->addr);
	case -ETIMEDOUT:
		return remote_fail(r, CLI_EXIT_UNREACHABLE, "%s did not answer within %g s",
				   r->addr, r->timeout_ms / 1000.0);
	case -EPROTO:
		return remote_fail(r, CLI_EXIT_FAIL, "%s sent a response that does not decode",
				   r->addr);
	case -EMSGSIZE:
		return remote_fail(r, CLI_EXIT_FAIL, "%s sent a frame above %u bytes", r->addr,
				   NSIM_FRAME_MAX_DEFAULT);
	case -ECONNRESET:
	case -EPIPE:
		if (!connecting)
			return remote_fail(r, CLI_EXIT_UNREACHABLE, "%s closed the connection",
					   r->addr);
		break;
	case -EHOSTUNREACH:
		if (connecting)
			return remote_fail(r, CLI_EXIT_UNREACHABLE,
					   "cannot reach %s: unknown host or no route", r->addr);
		break;
	}
	return remote_fail(r, CLI_EXIT_UNREACHABLE, "%s %s: %s",
			   connecting ? "cannot reach" : "lost connection to", r->addr,
			   cli_strerror(-err));
}

/* A Response whose status is not OK. */
static int remote_status_error(struct cli_remote *r, const Numasim__Response *resp)
{
	const char *name = nsim_status_name(resp->status);
	const Numasim__AllocPagesReply *ap =
		resp->body_case == NUMASIM__RESPONSE__BODY_ALLOC_PAGES ? resp->alloc_pages : NULL;
	int ret;

	if (resp->message && *resp->message)
		ret = remote_fail(r, CLI_EXIT_FAIL, "%s: %s", name, resp->message);
	else
		ret = remote_fail(r, CLI_EXIT_FAIL, "%s", name);
	if (ap && ap->n_tried && !(r->flags & CLI_QUIET))
		cli_print_tried(ap->tried, ap->n_tried, stdout);
	return ret;
}

static const char *body_name(Numasim__Response__BodyCase body)
{
	const ProtobufCFieldDescriptor *f =
		protobuf_c_message_descriptor_get_field(&numasim__response__descriptor, body);

	return f ? f->name : "nothing";
}

int cli_remote_call(struct cli_remote *r, Numasim__Request *req, Numasim__Response__BodyCase expect,
		    Numasim__Response **resp)
{
	Numasim__Response *a = NULL;
	int ret = nsim_client_call(&r->cl, req, &a);

	*resp = NULL;
	if (ret)
		return remote_transport_error(r, ret, false);
	if (a->status != NUMASIM__STATUS__STATUS_OK)
		ret = remote_status_error(r, a);
	else if (a->body_case != expect && expect != CLI_BODY_ANY)
		ret = remote_fail(r, CLI_EXIT_FAIL, "%s answered with %s where %s was expected",
				  r->addr, body_name(a->body_case), body_name(expect));
	if (ret) {
		nsim_response_free(a, NULL);
		return ret;
	}
	*resp = a;
	return 0;
}

void cli_response_free(Numasim__Response *resp)
{
	if (resp)
		nsim_response_free(resp, NULL);
}

/* Every connection opens with Hello{client, admin}; the reply names the machine's size. */
static int remote_hello(struct cli_remote *r)
{
	Numasim__Request req = NUMASIM__REQUEST__INIT;
	Numasim__Hello hello = NUMASIM__HELLO__INIT;
	Numasim__Response *resp;
	int ret;

	hello.client = (char *)cli_identity();
	hello.admin = remote_globals.admin;
	req.body_case = NUMASIM__REQUEST__BODY_HELLO;
	req.hello = &hello;
	ret = cli_remote_call(r, &req, NUMASIM__RESPONSE__BODY_HELLO, &resp);
	if (ret)
		return ret;
	if (resp->hello->version != NSIM_PROTOCOL_VERSION) {
		ret = remote_fail(r, CLI_EXIT_FAIL, "%s speaks protocol %u, this numasim %d",
				  r->addr, resp->hello->version, NSIM_PROTOCOL_VERSION);
		cli_response_free(resp);
		return ret;
	}
	r->nodes = resp->hello->nodes;
	r->cpus = resp->hello->cpus;
	snprintf(r->server, sizeof(r->server), "%s", resp->hello->server);
	cli_response_free(resp);
	return 0;
}

int cli_remote_open(struct cli_remote *r, const char *cmd, const char *addr, unsigned int flags)
{
	char host[256];
	int port, ret;

	memset(r, 0, sizeof(*r));
	r->cl.fd = -1;
	r->cmd = cmd;
	r->flags = flags;
	r->timeout_ms = flags & CLI_POLL ? CLI_POLL_TIMEOUT_MS : CLI_TIMEOUT_MS;
	snprintf(r->addr, sizeof(r->addr), "%s", addr ? addr : cli_server_address(NULL));
	if (nsim_parse_host_port(r->addr, host, sizeof(host), &port) || port <= 0 || port > 65535)
		return remote_transport_error(r, -EINVAL, true);
	ret = nsim_client_open(&r->cl, r->addr, r->timeout_ms);
	if (ret)
		return remote_transport_error(r, ret, true);
	r->open = true;
	return remote_hello(r);
}

void cli_remote_close(struct cli_remote *r)
{
	if (r->open)
		nsim_client_close(&r->cl);
	r->open = false;
}

int cli_remote_rpc(const char *cmd, Numasim__Request *req, Numasim__Response__BodyCase expect,
		   Numasim__Response **resp)
{
	struct cli_remote r;
	int ret = cli_remote_open(&r, cmd, NULL, 0);

	*resp = NULL;
	if (!ret)
		ret = cli_remote_call(&r, req, expect, resp);
	cli_remote_close(&r);
	return ret;
}

void cli_print_addr(const Numasim__AddrReply *a, FILE *out)
{
	fprintf(out, "0x%llx node %d %s size %llu\n", (unsigned long long)a->addr, a->node,
		a->cache && *a->cache ? a->cache : "-", (unsigned long long)a->size);
}

/* Zones refused for a reason that has no counters to show. */
static bool tried_has_counts(const char *why)
{
	return strcmp(why, "policy") && strcmp(why, "node down");
}

void cli_print_tried(Numasim__ZoneTried *const *tried, size_t n, FILE *out)
{
	for (size_t i = 0; i < n; i++) {
		const Numasim__ZoneTried *t = tried[i];
		const char *why = t->why && *t->why ? t->why : "refused";

		fprintf(out, "node %d %s: %s", t->node, t->zone && *t->zone ? t->zone : "?", why);
		if (tried_has_counts(why))
			fprintf(out, " (free %lld, mark %lld, protection %lld)", (long long)t->free,
				(long long)t->mark, (long long)t->reserve);
		fputc('\n', out);
	}
}
