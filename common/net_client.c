// SPDX-License-Identifier: MIT
/*
 * net_client.c - a blocking connection for the CLI and tests: send a Request, wait for the
 * Response with its id (answers to other ids that arrive first are kept for later).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "net.h"
#include "nsim.h"

static int connect_with_timeout(int fd, const struct sockaddr *sa, socklen_t len, int timeout_ms)
{
	int flags = fcntl(fd, F_GETFL), err = 0;
	socklen_t elen = sizeof(err);
	struct pollfd p = {.fd = fd, .events = POLLOUT};

	fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	if (connect(fd, sa, len) && errno != EINPROGRESS)
		return -errno;
	if (poll(&p, 1, timeout_ms) <= 0)
		return -ETIMEDOUT;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) || err)
		return -(err ? err : ECONNREFUSED);
	fcntl(fd, F_SETFL, flags);
	return 0;
}

/* Connect @cl->fd to the Unix socket at @path. 0 or a negative errno. */
static int open_unix(struct nsim_client *cl, const char *path, int timeout_ms)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd, ret;

	if (!*path || strlen(path) >= sizeof(sun.sun_path))
		return -EINVAL;
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0)
		return -errno;
	ret = connect_with_timeout(fd, (struct sockaddr *)&sun, sizeof(sun), timeout_ms);
	if (ret)
		close(fd);
	else
		cl->fd = fd;
	return ret;
}

int nsim_client_open(struct nsim_client *cl, const char *host_port, int timeout_ms)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res, *ai;
	const char *path = nsim_addr_unix_path(host_port);
	char host[256], port_s[16];
	int port, ret = -ECONNREFUSED;

	memset(cl, 0, sizeof(*cl));
	cl->fd = -1;
	cl->timeout_ms = timeout_ms;
	if (path) {
		ret = open_unix(cl, path, timeout_ms);
		if (ret)
			return ret;
		goto opened;
	}
	if (nsim_parse_host_port(host_port, host, sizeof(host), &port))
		return -EINVAL;
	snprintf(port_s, sizeof(port_s), "%d", port);
	if (getaddrinfo(host, port_s, &hints, &res))
		return -EHOSTUNREACH;
	for (ai = res; ai && cl->fd < 0; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);

		if (fd < 0)
			continue;
		ret = connect_with_timeout(fd, ai->ai_addr, ai->ai_addrlen, timeout_ms);
		if (ret)
			close(fd);
		else
			cl->fd = fd;
	}
	freeaddrinfo(res);
	if (cl->fd < 0)
		return ret;
opened:
	nsim_framer_init(&cl->framer, NSIM_FRAME_MAX_DEFAULT);
	cl->next_id = 1;
	return 0;
}

void nsim_client_close(struct nsim_client *cl)
{
	if (cl->fd >= 0)
		close(cl->fd);
	cl->fd = -1;
	nsim_framer_release(&cl->framer);
	for (size_t i = 0; i < cl->nq; i++)
		nsim_response_free(cl->queue[i], NULL);
	free(cl->queue);
	cl->queue = NULL;
	cl->nq = cl->cap = 0;
}

int nsim_client_send_raw(struct nsim_client *cl, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = send(cl->fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void got_frame(void *arg, const uint8_t *payload, size_t len)
{
	struct nsim_client *cl = arg;
	Numasim__Response *r = nsim_response_unpack(NULL, len, payload);

	if (!r) {
		cl->bad = true;
		return;
	}
	if (cl->nq == cl->cap) {
		cl->cap = cl->cap ? cl->cap * 2 : 8;
		cl->queue = xrealloc(cl->queue, cl->cap * sizeof(*cl->queue));
	}
	cl->queue[cl->nq++] = r;
}

static Numasim__Response *dequeue(struct nsim_client *cl)
{
	Numasim__Response *r = cl->queue[0];

	memmove(cl->queue, cl->queue + 1, (cl->nq - 1) * sizeof(*cl->queue));
	cl->nq--;
	return r;
}

int nsim_client_recv(struct nsim_client *cl, Numasim__Response **resp)
{
	uint8_t buf[65536];

	while (!cl->nq) {
		struct pollfd p = {.fd = cl->fd, .events = POLLIN};
		ssize_t n;

		if (cl->bad)
			return -EPROTO;
		if (poll(&p, 1, cl->timeout_ms) <= 0)
			return -ETIMEDOUT;
		n = recv(cl->fd, buf, sizeof(buf), 0);
		if (n == 0)
			return -ECONNRESET;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (nsim_framer_feed(&cl->framer, buf, (size_t)n, got_frame, cl))
			return -EMSGSIZE;
	}
	*resp = dequeue(cl);
	return 0;
}

int nsim_client_call(struct nsim_client *cl, Numasim__Request *req, Numasim__Response **resp)
{
	size_t len;
	uint8_t *frame;
	int ret;

	req->version = NSIM_PROTOCOL_VERSION;
	req->id = cl->next_id++;
	frame = nsim_frame_encode(&req->base, &len);
	ret = nsim_client_send_raw(cl, frame, len);
	free(frame);
	if (ret)
		return ret;
	for (;;) {
		ret = nsim_client_recv(cl, resp);
		if (ret)
			return ret;
		if ((*resp)->id == req->id)
			return 0;
		nsim_response_free(*resp, NULL);
	}
}
