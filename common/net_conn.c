// SPDX-License-Identifier: MIT
/*
 * net_conn.c - one TCP connection on a libuv loop: frames in, frames out, one close.
 *
 * Ownership (as libuv's): the caller never frees a struct nsim_conn; nsim_conn_close() starts
 * the close and the close callback calls ops->on_close and frees it. Write buffers live until
 * their write callback.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"
#include "nsim.h"

struct write_req {
	uv_write_t req; /* libuv request (req.data = the frame) */
	uv_buf_t buf;	/* the frame */
};

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	(void)h;
	buf->base = xmalloc(suggested);
	buf->len = suggested;
}

static void on_closed(uv_handle_t *h)
{
	struct nsim_conn *c = h->data;

	if (c->ops->on_close)
		c->ops->on_close(c);
	nsim_framer_release(&c->framer);
	free(c);
}

void nsim_conn_close(struct nsim_conn *c)
{
	if (c->closing)
		return;
	c->closing = true;
	uv_close((uv_handle_t *)&c->tcp, on_closed);
}

static void deliver(void *arg, const uint8_t *payload, size_t len)
{
	struct nsim_conn *c = arg;

	if (c->closing)
		return;
	c->frames_in++;
	c->ops->on_frame(c, payload, len);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct nsim_conn *c = s->data;

	if (n > 0 && !c->closing) {
		c->bytes_in += (uint64_t)n;
		if (nsim_framer_feed(&c->framer, (const uint8_t *)buf->base, (size_t)n, deliver,
				     c)) {
			if (c->ops->on_oversize)
				c->ops->on_oversize(c, c->framer.refused);
			nsim_conn_close(c);
		}
	} else if (n < 0) {
		nsim_conn_close(c);
	}
	free(buf->base);
}

static void on_written(uv_write_t *req, int status)
{
	struct write_req *w = (struct write_req *)req;
	struct nsim_conn *c = req->handle->data;

	free(w->buf.base);
	free(w);
	if (status < 0)
		nsim_conn_close(c);
}

int nsim_conn_send_frame(struct nsim_conn *c, uint8_t *frame, size_t len)
{
	struct write_req *w;
	int ret;

	if (c->closing) {
		free(frame);
		return -EPIPE;
	}
	w = xmalloc(sizeof(*w));
	w->buf = uv_buf_init((char *)frame, (unsigned int)len);
	ret = uv_write(&w->req, (uv_stream_t *)&c->tcp, &w->buf, 1, on_written);
	if (ret) {
		free(frame);
		free(w);
		nsim_conn_close(c);
		return ret;
	}
	c->frames_out++;
	c->bytes_out += len;
	return 0;
}

int nsim_conn_send_msg(struct nsim_conn *c, const ProtobufCMessage *msg)
{
	size_t len;
	uint8_t *frame = nsim_frame_encode(msg, &len);

	return nsim_conn_send_frame(c, frame, len);
}

static struct nsim_conn *conn_new(uv_loop_t *loop, uint32_t max_frame,
				  const struct nsim_conn_ops *ops, void *data)
{
	struct nsim_conn *c = xcalloc(1, sizeof(*c));

	uv_tcp_init(loop, &c->tcp);
	c->tcp.data = c;
	c->ops = ops;
	c->data = data;
	nsim_framer_init(&c->framer, max_frame);
	return c;
}

static void name_peer(struct nsim_conn *c)
{
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	char ip[INET6_ADDRSTRLEN] = "?";
	int port = 0;

	if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len))
		return;
	if (ss.ss_family == AF_INET) {
		uv_ip4_name((struct sockaddr_in *)&ss, ip, sizeof(ip));
		port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	} else if (ss.ss_family == AF_INET6) {
		uv_ip6_name((struct sockaddr_in6 *)&ss, ip, sizeof(ip));
		port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	}
	snprintf(c->peer, sizeof(c->peer), "%s:%d", ip, port);
}

static void start_reading(struct nsim_conn *c)
{
	uv_tcp_nodelay(&c->tcp, 1);
	name_peer(c);
	uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

struct listener {
	uint32_t max_frame;		 /* for accepted connections */
	const struct nsim_conn_ops *ops; /* their callbacks */
	nsim_accept_cb on_accept;	 /* announce each */
	void *data;			 /* their data */
};

static void on_connection(uv_stream_t *server, int status)
{
	struct listener *l = server->data;
	struct nsim_conn *c;

	if (status < 0)
		return;
	c = conn_new(server->loop, l->max_frame, l->ops, l->data);
	if (uv_accept(server, (uv_stream_t *)&c->tcp)) {
		nsim_conn_close(c);
		return;
	}
	start_reading(c);
	if (l->on_accept)
		l->on_accept(c, l->data);
}

int nsim_parse_host_port(const char *s, char *host, size_t hostlen, int *port)
{
	const char *colon = strrchr(s, ':');
	char *end;
	long p;

	if (!colon) {
		snprintf(host, hostlen, "127.0.0.1");
		colon = s - 1;
	} else if (colon == s) {
		snprintf(host, hostlen, "0.0.0.0");
	} else {
		if ((size_t)(colon - s) >= hostlen)
			return -EINVAL;
		memcpy(host, s, (size_t)(colon - s));
		host[colon - s] = '\0';
	}
	p = strtol(colon + 1, &end, 10);
	if (end == colon + 1 || *end || p < 0 || p > 65535)
		return -EINVAL;
	*port = (int)p;
	return 0;
}

static int resolve(const char *host_port, struct sockaddr_storage *ss)
{
	char host[256];
	int port, ret;

	ret = nsim_parse_host_port(host_port, host, sizeof(host), &port);
	if (ret)
		return ret;
	if (!strcmp(host, "localhost"))
		snprintf(host, sizeof(host), "127.0.0.1");
	if (!uv_ip4_addr(host, port, (struct sockaddr_in *)ss))
		return 0;
	if (!uv_ip6_addr(host, port, (struct sockaddr_in6 *)ss))
		return 0;
	{
		struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res;
		char ps[16];

		snprintf(ps, sizeof(ps), "%d", port);
		if (getaddrinfo(host, ps, &hints, &res))
			return -EINVAL;
		memcpy(ss, res->ai_addr, res->ai_addrlen);
		freeaddrinfo(res);
	}
	return 0;
}

int nsim_listen(uv_loop_t *loop, uv_tcp_t *server, const char *addr_port, uint32_t max_frame,
		const struct nsim_conn_ops *ops, nsim_accept_cb on_accept, void *data,
		int *port_out)
{
	struct sockaddr_storage ss;
	struct listener *l;
	int ret = resolve(addr_port, &ss);

	if (ret)
		return ret;
	uv_tcp_init(loop, server);
	ret = uv_tcp_bind(server, (struct sockaddr *)&ss, 0);
	if (!ret)
		ret = uv_listen((uv_stream_t *)server, 128, on_connection);
	if (ret)
		return ret;
	l = xmalloc(sizeof(*l));
	*l = (struct listener){max_frame, ops, on_accept, data};
	server->data = l;
	if (port_out) {
		struct sockaddr_storage bound;
		int len = sizeof(bound);

		uv_tcp_getsockname(server, (struct sockaddr *)&bound, &len);
		*port_out = ntohs(bound.ss_family == AF_INET6
					  ? ((struct sockaddr_in6 *)&bound)->sin6_port
					  : ((struct sockaddr_in *)&bound)->sin_port);
	}
	return 0;
}

static void listener_closed(uv_handle_t *h)
{
	free(h->data);
	h->data = NULL;
}

void nsim_listen_close(uv_tcp_t *server)
{
	if (!uv_is_closing((uv_handle_t *)server))
		uv_close((uv_handle_t *)server, listener_closed);
}

struct connect_req {
	uv_connect_t req;	/* libuv request */
	struct nsim_conn *conn; /* the connection being made */
	nsim_connect_cb cb;	/* told the outcome */
	void *data;		/* for cb */
};

static void conn_discard(uv_handle_t *h)
{
	struct nsim_conn *c = h->data;

	nsim_framer_release(&c->framer);
	free(c);
}

static void on_connect(uv_connect_t *req, int status)
{
	struct connect_req *cr = (struct connect_req *)req;
	struct nsim_conn *c = cr->conn;

	if (status < 0) {
		c->closing = true;
		uv_close((uv_handle_t *)&c->tcp, conn_discard);
		cr->cb(NULL, status, cr->data);
	} else {
		start_reading(c);
		cr->cb(c, 0, cr->data);
	}
	free(cr);
}

int nsim_connect(uv_loop_t *loop, const char *host_port, uint32_t max_frame,
		 const struct nsim_conn_ops *ops, nsim_connect_cb on_connected, void *data)
{
	struct sockaddr_storage ss;
	struct connect_req *cr;
	int ret = resolve(host_port, &ss);

	if (ret)
		return ret;
	cr = xcalloc(1, sizeof(*cr));
	cr->conn = conn_new(loop, max_frame, ops, data);
	cr->cb = on_connected;
	cr->data = data;
	ret = uv_tcp_connect(&cr->req, &cr->conn->tcp, (struct sockaddr *)&ss, on_connect);
	if (ret) {
		cr->conn->closing = true;
		uv_close((uv_handle_t *)&cr->conn->tcp, conn_discard);
		free(cr);
	}
	return ret;
}
