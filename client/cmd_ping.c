// SPDX-License-Identifier: MIT
/*
 * cmd_ping.c - `numasim ping`: is the coordinator answering, and how many of the machine's
 * nodes are up. "PONG nodes up 4/4, uptime 1m02s"; exit 1 when there is no answer.
 */
#include <inttypes.h>

#include "cli.h"

const char cli_ping_usage[] =
	"usage: numasim ping\n"
	"prints \"PONG nodes up K/N, uptime ...\"; exits 1 without an answer\n";

int cli_ping_once(struct cli_remote *r, struct cli_pong *p)
{
	Numasim__Request req = NUMASIM__REQUEST__INIT;
	Numasim__Ping ping = NUMASIM__PING__INIT;
	Numasim__Response *resp;
	int ret;

	req.body_case = NUMASIM__REQUEST__BODY_PING;
	req.ping = &ping;
	ret = cli_remote_call(r, &req, NUMASIM__RESPONSE__BODY_PONG, &resp);
	if (ret)
		return ret;
	p->nodes_up = resp->pong->nodes_up;
	p->nodes = r->nodes;
	p->uptime_ms = resp->pong->uptime_ms;
	cli_response_free(resp);
	return 0;
}

/* "4.217s", "1m02s", "3h04m05s", "2d03h04m". */
static void uptime_format(uint64_t ms, char *buf, size_t len)
{
	uint64_t s = ms / 1000, m = s / 60, h = m / 60, d = h / 24;

	if (s < 60)
		snprintf(buf, len, "%" PRIu64 ".%03" PRIu64 "s", s, ms % 1000);
	else if (m < 60)
		snprintf(buf, len, "%" PRIu64 "m%02" PRIu64 "s", m, s % 60);
	else if (h < 24)
		snprintf(buf, len, "%" PRIu64 "h%02" PRIu64 "m%02" PRIu64 "s", h, m % 60, s % 60);
	else
		snprintf(buf, len, "%" PRIu64 "d%02" PRIu64 "h%02" PRIu64 "m", d, h % 24, m % 60);
}

void cli_pong_print(const struct cli_pong *p, FILE *out)
{
	char up[32];

	uptime_format(p->uptime_ms, up, sizeof(up));
	fprintf(out, "PONG nodes up %u/%u, uptime %s\n", p->nodes_up, p->nodes, up);
}

int cli_ping(int argc, char **argv)
{
	struct cli_remote r;
	struct cli_pong p;
	int ret;

	if (argc > 1)
		return cli_error(CLI_EXIT_USAGE, "ping", "unexpected argument '%s'", argv[1]);
	ret = cli_remote_open(&r, "ping", NULL, 0);
	if (!ret)
		ret = cli_ping_once(&r, &p);
	cli_remote_close(&r);
	if (ret) /* no answer, whatever the reason (the message said which) */
		return ret == CLI_EXIT_USAGE ? ret : CLI_EXIT_FAIL;
	cli_pong_print(&p, stdout);
	return 0;
}
