// SPDX-License-Identifier: MIT
/*
 * net_conn.c - one TCP connection on a libuv loop: frames in, frames out, one close.
 *
 * Ownership (as libuv's): the caller never frees a struct nsim_conn; nsim_conn_close() starts
 * the close and the last close callback (of its two handles) calls ops->on_close and frees
 * it. Write buffers live until their write callback.
 *
 * Output is coalesced: frames are packed at the end of c->out, and the connection's prepare
 * handle, started by the first frame, flushes them just before the loop polls. A server that
 * answers a burst of requests (or a coordinator that forwards a burst to a node) thus makes
 * one write system call per connection and loop turn instead of one per frame. The flush
 * tries the socket directly (uv_try_write) and keeps its buffer when everything was taken;
 * whatever is left goes to a write request that owns the buffer. Frames leave in the order
 * they were queued, and a close flushes first, so an answer queued before a close is sent.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "net.h"
#include "nsim.h"

#define OUT_KEEP (64u << 10) /* larger buffers are freed once flushed */

struct write_req {
	uv_write_t req; /* libuv request */
	uv_buf_t buf;	/* the bytes the socket did not take at once */
	uint8_t *block; /* the buffer they are in (freed with the request) */
};

/*
 * Reads land in one buffer per thread: on_read consumes every byte before it returns (the
 * framer copies what is left of a partial frame), so a loop never needs two. A fresh 64 KiB
 * block per read made malloc grow and trim the heap on every read.
 */
static _Thread_local char read_buf[64u << 10];

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	(void)h;
	(void)suggested;
	buf->base = read_buf;
	buf->len = sizeof(read_buf);
}

static void on_closed(uv_handle_t *h)
{
	struct nsim_conn *c = h->data;

	if (--c->open_handles)
		return;
	if (c->ops->on_close)
		c->ops->on_close(c);
	nsim_framer_release(&c->framer);
	free(c->out);
	free(c);
}

static void conn_flush(struct nsim_conn *c);

void nsim_conn_close(struct nsim_conn *c)
{
	if (c->closing)
		return;
	c->closing = true;
	conn_flush(c);
	uv_close((uv_handle_t *)&c->flush, on_closed);
	uv_close(&c->sock.handle, on_closed);
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
		c->read_ns = uv_hrtime();
		if (nsim_framer_feed(&c->framer, (const uint8_t *)buf->base, (size_t)n, deliver,
				     c)) {
			if (c->ops->on_oversize)
				c->ops->on_oversize(c, c->framer.refused);
			nsim_conn_close(c);
		}
		if (c->ops->on_read_done)
			c->ops->on_read_done(c);
	} else if (n < 0) {
		nsim_conn_close(c);
	}
}

static void on_written(uv_write_t *req, int status)
{
	struct write_req *w = (struct write_req *)req;
	struct nsim_conn *c = req->handle->data;

	free(w->block);
	free(w);
	if (status < 0)
		nsim_conn_close(c);
}

/* Give the bytes from @off on to a write request, which takes the buffer with it. */
static void out_hand_over(struct nsim_conn *c, size_t off)
{
	struct write_req *w = xmalloc(sizeof(*w));

	w->block = c->out;
	w->buf = uv_buf_init((char *)c->out + off, (unsigned int)(c->out_len - off));
	c->out = NULL;
	c->out_len = c->out_cap = 0;
	if (uv_write(&w->req, &c->sock.stream, &w->buf, 1, on_written)) {
		free(w->block);
		free(w);
		nsim_conn_close(c);
	}
}

static void conn_flush(struct nsim_conn *c)
{
	uv_buf_t buf = uv_buf_init((char *)c->out, (unsigned int)c->out_len);
	int n;

	uv_prepare_stop(&c->flush);
	if (!c->out_len)
		return;
	c->writes++;
	n = uv_try_write(&c->sock.stream, &buf, 1);
	if (n == UV_EAGAIN || (n >= 0 && (size_t)n < c->out_len)) {
		out_hand_over(c, n > 0 ? (size_t)n : 0);
		return;
	}
	c->out_len = 0;
	if (n < 0) {
		nsim_conn_close(c);
	} else if (c->out_cap > OUT_KEEP) {
		free(c->out);
		c->out = NULL;
		c->out_cap = 0;
	}
}

static void on_flush(uv_prepare_t *h)
{
	conn_flush(h->data);
}

int nsim_conn_send_msg(struct nsim_conn *c, const ProtobufCMessage *msg)
{
	size_t len;

	if (c->closing)
		return -EPIPE;
	len = nsim_frame_append(&c->out, &c->out_len, &c->out_cap, msg);
	c->frames_out++;
	c->bytes_out += len;
	uv_prepare_start(&c->flush, on_flush);
	return 0;
}

static struct nsim_conn *conn_new(uv_loop_t *loop, bool local, uint32_t max_frame,
				  const struct nsim_conn_ops *ops, void *data)
{
	struct nsim_conn *c = xcalloc(1, sizeof(*c));

	if (local)
		uv_pipe_init(loop, &c->sock.pipe, 0);
	else
		uv_tcp_init(loop, &c->sock.tcp);
	c->sock.handle.data = c;
	uv_prepare_init(loop, &c->flush);
	c->flush.data = c;
	c->open_handles = 2;
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

	if (c->sock.handle.type == UV_NAMED_PIPE) {
		snprintf(c->peer, sizeof(c->peer), "local");
		return;
	}
	if (uv_tcp_getpeername(&c->sock.tcp, (struct sockaddr *)&ss, &len))
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
	if (c->sock.handle.type == UV_TCP)
		uv_tcp_nodelay(&c->sock.tcp, 1);
	name_peer(c);
	uv_read_start(&c->sock.stream, on_alloc, on_read);
}

struct listener {
	char *path;			 /* a Unix socket's file (NULL for TCP) */
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
	c = conn_new(server->loop, l->path != NULL, l->max_frame, l->ops, l->data);
	if (uv_accept(server, &c->sock.stream)) {
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

const char *nsim_addr_unix_path(const char *addr)
{
	size_t n = strlen(NSIM_UNIX_PREFIX);

	return strncmp(addr, NSIM_UNIX_PREFIX, n) ? NULL : addr + n;
}

int nsim_check_unix_path(const char *path)
{
	struct sockaddr_un sun;

	return *path && strlen(path) < sizeof(sun.sun_path) ? 0 : -EINVAL;
}

/* The directory @path would be created in does not exist. */
static bool parent_missing(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;
	struct stat st;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash)
		return false;
	if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	return stat(dir, &st) != 0;
}

/* Bind @server to "unix:PATH", replacing a socket file left by an earlier process. */
static int bind_unix(uv_loop_t *loop, union nsim_sock *server, const char *path)
{
	struct stat st;
	int ret = nsim_check_unix_path(path);

	if (ret)
		return ret;
	if (!lstat(path, &st) && S_ISSOCK(st.st_mode))
		unlink(path);
	uv_pipe_init(loop, &server->pipe, 0);
	ret = uv_pipe_bind(&server->pipe, path);
	if (ret == UV_EACCES && parent_missing(path))
		ret = UV_ENOENT; /* libuv reports a missing directory as EACCES */
	if (ret)
		uv_close(&server->handle, NULL);
	return ret;
}

static int bind_tcp(uv_loop_t *loop, union nsim_sock *server, const char *addr_port)
{
	struct sockaddr_storage ss;
	int ret = resolve(addr_port, &ss);

	if (ret)
		return ret;
	uv_tcp_init(loop, &server->tcp);
	ret = uv_tcp_bind(&server->tcp, (struct sockaddr *)&ss, 0);
	if (ret)
		uv_close(&server->handle, NULL);
	return ret;
}

static int bound_port(union nsim_sock *server)
{
	struct sockaddr_storage bound;
	int len = sizeof(bound);

	if (server->handle.type != UV_TCP ||
	    uv_tcp_getsockname(&server->tcp, (struct sockaddr *)&bound, &len))
		return 0;
	return ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
						 : ((struct sockaddr_in *)&bound)->sin_port);
}

static void listener_closed(uv_handle_t *h)
{
	struct listener *l = h->data;

	if (l && l->path) {
		unlink(l->path);
		free(l->path);
	}
	free(l);
	h->data = NULL;
}

int nsim_listen(uv_loop_t *loop, union nsim_sock *server, const char *addr, uint32_t max_frame,
		const struct nsim_conn_ops *ops, nsim_accept_cb on_accept, void *data,
		int *port_out)
{
	const char *path = nsim_addr_unix_path(addr);
	struct listener *l;
	int ret = path ? bind_unix(loop, server, path) : bind_tcp(loop, server, addr);

	if (ret)
		return ret;
	ret = uv_listen(&server->stream, 128, on_connection);
	if (ret) {
		uv_close(&server->handle, NULL);
		return ret;
	}
	l = xmalloc(sizeof(*l));
	*l = (struct listener){path ? xstrdup(path) : NULL, max_frame, ops, on_accept, data};
	server->handle.data = l;
	if (port_out)
		*port_out = bound_port(server);
	return 0;
}

void nsim_listen_close(union nsim_sock *server)
{
	if (!uv_is_closing(&server->handle))
		uv_close(&server->handle, listener_closed);
}

struct connect_req {
	uv_connect_t req;	/* libuv request */
	struct nsim_conn *conn; /* the connection being made */
	nsim_connect_cb cb;	/* told the outcome */
	void *data;		/* for cb */
};

/* Close a connection that never connected: its owner hears nothing. */
static void conn_discard(struct nsim_conn *c)
{
	static const struct nsim_conn_ops silent;

	c->ops = &silent;
	nsim_conn_close(c);
}

static void on_connect(uv_connect_t *req, int status)
{
	struct connect_req *cr = (struct connect_req *)req;
	struct nsim_conn *c = cr->conn;

	if (status < 0) {
		conn_discard(c);
		cr->cb(NULL, status, cr->data);
	} else {
		start_reading(c);
		cr->cb(c, 0, cr->data);
	}
	free(cr);
}

int nsim_connect(uv_loop_t *loop, const char *addr, uint32_t max_frame,
		 const struct nsim_conn_ops *ops, nsim_connect_cb on_connected, void *data)
{
	const char *path = nsim_addr_unix_path(addr);
	struct sockaddr_storage ss;
	struct connect_req *cr;
	int ret = path ? nsim_check_unix_path(path) : resolve(addr, &ss);

	if (ret)
		return ret;
	cr = xcalloc(1, sizeof(*cr));
	cr->conn = conn_new(loop, path != NULL, max_frame, ops, data);
	cr->cb = on_connected;
	cr->data = data;
	if (path) /* its outcome, even a failure, comes through on_connect */
		uv_pipe_connect(&cr->req, &cr->conn->sock.pipe, path, on_connect);
	else
		ret = uv_tcp_connect(&cr->req, &cr->conn->sock.tcp, (struct sockaddr *)&ss,
				     on_connect);
	if (ret) {
		conn_discard(cr->conn);
		free(cr);
	}
	return ret;
}
