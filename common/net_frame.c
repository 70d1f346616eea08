// SPDX-License-Identifier: MIT
/*
 * net_frame.c - length-prefixed frames: a 4-byte big-endian payload length, then the payload.
 *
 * The length is read and checked against the cap before any of the payload is buffered, so
 * a peer announcing a huge frame costs nothing but the four bytes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"
#include "nsim.h"

#define PREFIX ((size_t)NSIM_FRAME_PREFIX)
#define FRAME_BUF_MIN 4096 /* first allocation of an output buffer */

void nsim_framer_init(struct nsim_framer *f, uint32_t max_frame)
{
	memset(f, 0, sizeof(*f));
	f->max_frame = max_frame ? max_frame : NSIM_FRAME_MAX_DEFAULT;
}

void nsim_framer_release(struct nsim_framer *f)
{
	free(f->buf);
	f->buf = NULL;
	f->len = f->cap = 0;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Copy up to @want bytes into the buffer (growing it only to what the frame needs). */
static size_t take(struct nsim_framer *f, const uint8_t *data, size_t n, size_t want)
{
	size_t k = n < want ? n : want;

	if (f->len + k > f->cap) {
		size_t cap = f->cap ? f->cap : 256;

		while (cap < f->len + k)
			cap *= 2;
		f->buf = xrealloc(f->buf, cap);
		f->cap = cap;
	}
	memcpy(f->buf + f->len, data, k);
	f->len += k;
	return k;
}

int nsim_framer_feed(struct nsim_framer *f, const uint8_t *data, size_t n, nsim_frame_cb cb,
		     void *arg)
{
	while (n) {
		size_t k;

		if (!f->len && n >= PREFIX && get_be32(data) <= f->max_frame &&
		    n - PREFIX >= get_be32(data)) {
			/* a whole frame in the chunk: delivered where it lies */
			k = PREFIX + get_be32(data);
			cb(arg, data + PREFIX, k - PREFIX);
			data += k;
			n -= k;
			continue;
		}
		if (f->len < PREFIX) {
			k = take(f, data, n, PREFIX - f->len);
			data += k;
			n -= k;
			if (f->len < PREFIX)
				break;
			if (get_be32(f->buf) > f->max_frame) {
				f->refused = get_be32(f->buf);
				return -EMSGSIZE;
			}
		}
		k = take(f, data, n, PREFIX + get_be32(f->buf) - f->len);
		data += k;
		n -= k;
		if (f->len == PREFIX + get_be32(f->buf)) {
			f->len = 0;
			cb(arg, f->buf + PREFIX, get_be32(f->buf));
		}
	}
	return 0;
}

size_t nsim_frame_pack(const ProtobufCMessage *msg, size_t size, uint8_t *dst)
{
	put_be32(dst, (uint32_t)size);
	protobuf_c_message_pack(msg, dst + PREFIX);
	return PREFIX + size;
}

size_t nsim_frame_put(const ProtobufCMessage *msg, uint8_t *dst, size_t cap)
{
	ssize_t n = cap > PREFIX ? nsim_wire_pack(msg, dst + PREFIX, cap - PREFIX) : -ENOSPC;
	size_t size;

	if (n >= 0) {
		put_be32(dst, (uint32_t)n);
		return PREFIX + (size_t)n;
	}
	size = protobuf_c_message_get_packed_size(msg);
	if (PREFIX + size <= cap)
		nsim_frame_pack(msg, size, dst);
	return PREFIX + size;
}

/* Room for @more bytes after the @len used of *@buf (*@cap allocated). */
static void frame_reserve(uint8_t **buf, size_t len, size_t *cap, size_t more)
{
	size_t want = *cap ? *cap : FRAME_BUF_MIN;

	if (len + more <= *cap)
		return;
	while (want < len + more)
		want *= 2;
	*buf = xrealloc(*buf, want);
	*cap = want;
}

size_t nsim_frame_append(uint8_t **buf, size_t *len, size_t *cap, const ProtobufCMessage *msg)
{
	size_t n;

	frame_reserve(buf, *len, cap, NSIM_FRAME_ROOM);
	n = nsim_frame_put(msg, *buf + *len, *cap - *len);
	if (n > *cap - *len) {
		frame_reserve(buf, *len, cap, n);
		nsim_frame_put(msg, *buf + *len, n);
	}
	*len += n;
	return n;
}

uint8_t *nsim_frame_encode(const ProtobufCMessage *msg, size_t *len)
{
	uint8_t small[256], *buf;

	*len = nsim_frame_put(msg, small, sizeof(small));
	buf = xmalloc(*len);
	if (*len <= sizeof(small))
		memcpy(buf, small, *len);
	else
		nsim_frame_put(msg, buf, *len);
	return buf;
}
