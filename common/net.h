/* SPDX-License-Identifier: MIT */
/*
 * net.h - numasim's wire layer: length-prefixed protobuf frames over TCP, on libuv (for the
 * daemons) or on blocking sockets (for the CLI).
 *
 * Layers, bottom up (as Redis's ae -> anet -> networking):
 *   frame    4-byte big-endian length + payload; the length is checked against the cap
 *            before a byte of the payload is buffered
 *   conn     one libuv TCP connection: reads frames, writes frames (buffers freed in the
 *            write callback), closes once (close callback frees the connection)
 *   rpc      Request/Response envelopes: version check on the first Request, ids,
 *            statuses with a one-line message
 *   client   a blocking connection for the CLI: call() sends a Request and waits for the
 *            Response with its id
 *
 * Threads: a struct nsim_conn belongs to its loop's thread; other threads hand work to that
 * thread with uv_async_send (see STYLE.md).
 */
#ifndef NUMASIM_COMMON_NET_H
#define NUMASIM_COMMON_NET_H

#include <stdalign.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <uv.h>

#include "numasim.pb-c.h"

#define NSIM_PROTOCOL_VERSION 1
#define NSIM_FRAME_MAX_DEFAULT (4u << 20) /* 4 MiB: views of big machines fit */
#define NSIM_DEFAULT_PORT 7070
#define NSIM_FRAME_PREFIX 4 /* bytes of the length prefix */
#define NSIM_FRAME_ROOM 256 /* room made before packing a frame: the request path's fit */

/* ------------------------------------------------------------------ frames */

struct nsim_framer {
	uint8_t *buf;	    /* bytes of the frame being assembled */
	size_t len;	    /* bytes in buf */
	size_t cap;	    /* bytes allocated */
	uint32_t max_frame; /* largest payload accepted */
	uint32_t refused;   /* length a frame above max_frame announced */
};

typedef void (*nsim_frame_cb)(void *arg, const uint8_t *payload, size_t len);

void nsim_framer_init(struct nsim_framer *f, uint32_t max_frame);
void nsim_framer_release(struct nsim_framer *f);

/*
 * nsim_framer_feed - append received bytes; calls @cb for every complete frame. Returns 0,
 * or -EMSGSIZE when a length prefix exceeds max_frame (nothing of that frame is buffered;
 * the stream cannot be resynchronised, so the connection must be closed).
 */
int nsim_framer_feed(struct nsim_framer *f, const uint8_t *data, size_t n, nsim_frame_cb cb,
		     void *arg);

/* nsim_frame_encode - a new buffer holding the prefix and the packed message. */
uint8_t *nsim_frame_encode(const ProtobufCMessage *msg, size_t *len);

/*
 * nsim_frame_pack - write the prefix and @msg (whose packed size is @size) at @dst, which
 * has room for NSIM_FRAME_PREFIX + @size bytes. Returns the bytes written.
 */
size_t nsim_frame_pack(const ProtobufCMessage *msg, size_t size, uint8_t *dst);

/*
 * nsim_frame_put - the prefix and @msg at @dst, which has room for @cap bytes. Returns the
 * frame's length; when that is above @cap nothing usable was written, and the caller makes
 * room for that many bytes and calls again. Uses nsim_wire_pack() when it covers @msg.
 */
size_t nsim_frame_put(const ProtobufCMessage *msg, uint8_t *dst, size_t cap);

/*
 * nsim_frame_append - @msg as a frame after the *@len bytes used of *@buf (*@cap bytes
 * allocated; grown with xrealloc as needed). Returns the frame's length.
 */
size_t nsim_frame_append(uint8_t **buf, size_t *len, size_t *cap, const ProtobufCMessage *msg);

/* ------------------------------------------------------------------ protobuf codec */

/*
 * nsim_wire_pack - @msg's protobuf encoding at @out (room for @cap bytes), the bytes
 * protobuf_c_message_pack() writes, in one direct pass for the shapes of the request path
 * (proto3 varint scalars, strings, sub-messages, empty repeated fields; net_wire.c). Returns
 * the length, -ENOTSUP for a shape left to protobuf-c, or -ENOSPC.
 */
ssize_t nsim_wire_pack(const ProtobufCMessage *msg, uint8_t *out, size_t cap);

/*
 * nsim_wire_unpack - decode @len bytes at @data as a @d message, allocating from @a (NULL:
 * malloc). Messages outside the shapes above, malformed ones included, are decoded by
 * protobuf_c_message_unpack(), so the answer is always protobuf-c's: a message that
 * protobuf_c_message_free_unpacked() frees with @a, or NULL.
 */
ProtobufCMessage *nsim_wire_unpack(const ProtobufCMessageDescriptor *d, ProtobufCAllocator *a,
				   size_t len, const uint8_t *data);

/*
 * nsim_wire_free - free a message nsim_wire_unpack() or protobuf_c_message_unpack() returned,
 * with the allocator it was decoded with (NULL: malloc), as
 * protobuf_c_message_free_unpacked() does, visiting only the fields that are set. NULL is
 * a no-op.
 */
void nsim_wire_free(ProtobufCMessage *msg, ProtobufCAllocator *a);

/*
 * nsim_wire_copy - a deep copy of @msg with malloc (for a message decoded into an arena that
 * must outlive it); freed with nsim_wire_free(copy, NULL).
 */
ProtobufCMessage *nsim_wire_copy(const ProtobufCMessage *msg);

/* nsim_wire_counts - messages the calling thread decoded itself, and handed to protobuf-c. */
void nsim_wire_counts(uint64_t *fast, uint64_t *handed);

static inline Numasim__Request *nsim_request_unpack(ProtobufCAllocator *a, size_t len,
						    const uint8_t *data)
{
	return (Numasim__Request *)nsim_wire_unpack(&numasim__request__descriptor, a, len, data);
}

static inline Numasim__Response *nsim_response_unpack(ProtobufCAllocator *a, size_t len,
						      const uint8_t *data)
{
	return (Numasim__Response *)nsim_wire_unpack(&numasim__response__descriptor, a, len, data);
}

static inline void nsim_request_free(Numasim__Request *req, ProtobufCAllocator *a)
{
	nsim_wire_free(req ? &req->base : NULL, a);
}

static inline void nsim_response_free(Numasim__Response *resp, ProtobufCAllocator *a)
{
	nsim_wire_free(resp ? &resp->base : NULL, a);
}

/* ------------------------------------------------------------------ connections (libuv) */

/*
 * Addresses are "HOST:PORT" (TCP) or "unix:PATH" (a Unix domain socket: for the daemons of
 * one host, which skip the TCP/IP stack and the packet filter on every frame).
 */
#define NSIM_UNIX_PREFIX "unix:"
#define NSIM_UNIX_PATH_MAX 107 /* bytes of a socket path (sockaddr_un, NUL excluded) */

/* nsim_addr_unix_path - the PATH of a "unix:PATH" address, else NULL. */
const char *nsim_addr_unix_path(const char *addr);

/* nsim_check_unix_path - @path is not empty and fits a socket address. 0 or -EINVAL. */
int nsim_check_unix_path(const char *path);

/* A listening or connected stream socket: TCP or Unix domain. */
union nsim_sock {
	uv_handle_t handle;
	uv_stream_t stream;
	uv_tcp_t tcp;
	uv_pipe_t pipe;
};

struct nsim_conn;

struct nsim_conn_ops {
	void (*on_frame)(struct nsim_conn *c, const uint8_t *payload, size_t len);
	void (*on_oversize)(struct nsim_conn *c, size_t announced); /* before close */
	void (*on_read_done)(struct nsim_conn *c); /* after the frames of one read (optional) */
	void (*on_close)(struct nsim_conn *c);	   /* last call; the conn is freed after it */
};

struct nsim_conn {
	union nsim_sock sock;		 /* the socket (sock.handle.data = this) */
	struct nsim_framer framer;	 /* incoming frames */
	const struct nsim_conn_ops *ops; /* callbacks */
	void *data;			 /* owner's state */
	char peer[64];			 /* "127.0.0.1:54321" */
	bool closing;			 /* nsim_conn_close() was called */
	uv_prepare_t flush;		 /* sends out before the loop polls (data = this) */
	uint8_t *out;			 /* frames queued since the last flush */
	size_t out_len, out_cap;	 /* bytes queued, allocated */
	int open_handles;		 /* tcp and flush, until both are closed */
	uint64_t frames_in, frames_out;	 /* counters */
	uint64_t bytes_in, bytes_out;	 /* counters */
	uint64_t writes;		 /* flushes that wrote (frames_out / writes per write) */
	uint64_t read_ns;		 /* uv_hrtime() at the last read (stamped once per read) */
};

/*
 * nsim_listen - accept connections on "ADDR:PORT" (PORT 0: ephemeral; the chosen port is
 * written to *@port_out if not NULL) or on "unix:PATH" (a stale socket file at PATH is
 * replaced; *@port_out is 0). Each accepted connection is a new struct nsim_conn with @ops
 * and data = @data, announced through @on_accept. 0 or a negative errno (uv error); on
 * failure no handle is left open (one that was opened is closing: run the loop before
 * uv_loop_close()).
 */
typedef void (*nsim_accept_cb)(struct nsim_conn *c, void *data);
int nsim_listen(uv_loop_t *loop, union nsim_sock *server, const char *addr, uint32_t max_frame,
		const struct nsim_conn_ops *ops, nsim_accept_cb on_accept, void *data,
		int *port_out);

/*
 * nsim_listen_close - close a listener from nsim_listen() and free its accept state (a Unix
 * socket's file is removed).
 */
void nsim_listen_close(union nsim_sock *server);

/*
 * nsim_connect - connect to "HOST:PORT" or "unix:PATH"; @on_connected gets the connection
 * or NULL (with the uv status) when it failed. 0 or a negative errno if the attempt could
 * not start.
 */
typedef void (*nsim_connect_cb)(struct nsim_conn *c, int status, void *data);
int nsim_connect(uv_loop_t *loop, const char *host_port, uint32_t max_frame,
		 const struct nsim_conn_ops *ops, nsim_connect_cb on_connected, void *data);

/*
 * nsim_conn_send_msg - pack @msg as a frame at the end of the connection's output. Every
 * frame queued during one turn of the loop leaves in one write, just before the loop polls
 * again, in the order queued. 0, or -EPIPE if the connection is closing.
 */
int nsim_conn_send_msg(struct nsim_conn *c, const ProtobufCMessage *msg);

/*
 * nsim_conn_close - close once: what is queued is written first (as far as the socket takes
 * it), then on_close runs from the loop and the conn is freed.
 */
void nsim_conn_close(struct nsim_conn *c);

/* ------------------------------------------------------------------ decoding arena */

#define NSIM_ARENA_SIZE 4096 /* a request or answer of the hot paths fits many times */

/*
 * struct nsim_arena - pass &arena->allocator to a protobuf-c unpack for a message used and
 * freed within the current callback; free_unpacked with the same allocator, then
 * nsim_arena_reset(). Parts beyond the buffer come from malloc (counted in spilled).
 */
struct nsim_arena {
	ProtobufCAllocator allocator; /* hands out buf[] */
	size_t used;		      /* bytes of buf[] handed out */
	uint64_t spilled;	      /* allocations that did not fit */
	unsigned spills_live;	      /* of those, made since the last reset */
	alignas(16) uint8_t buf[NSIM_ARENA_SIZE];
};

/*
 * Under AddressSanitizer the buffer is poisoned from one reset to the next carve, so that a
 * pointer kept past nsim_arena_reset() is reported; nsim_arena_release() lifts that before
 * the arena's storage goes back (a stack frame, free()).
 */
void nsim_arena_init(struct nsim_arena *ar);
void nsim_arena_reset(struct nsim_arena *ar);
void nsim_arena_release(struct nsim_arena *ar);

/*
 * nsim_arena_free - free @msg, decoded with @ar's allocator, and reset @ar: the walk over
 * @msg's fields is needed only when some part of it spilled to malloc.
 */
void nsim_arena_free(struct nsim_arena *ar, ProtobufCMessage *msg);

/* ------------------------------------------------------------------ rpc helpers */

/* nsim_status_name - "ENOMEM", "BAD_PAGE_STATE", ... */
const char *nsim_status_name(Numasim__Status status);

/* nsim_response_init - a Response for @id with @status and a formatted one-line message. */
void nsim_response_init(Numasim__Response *r, uint64_t id, Numasim__Status status, char *msgbuf,
			size_t msglen, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* nsim_response_vinit - nsim_response_init() with a va_list. */
void nsim_response_vinit(Numasim__Response *r, uint64_t id, Numasim__Status status, char *msgbuf,
			 size_t msglen, const char *fmt, va_list ap);

/* nsim_parse_host_port - "host:port" (or ":port", or "port") into parts. 0 or -EINVAL. */
int nsim_parse_host_port(const char *s, char *host, size_t hostlen, int *port);

/* ------------------------------------------------------------------ blocking client */

struct nsim_client {
	int fd;			   /* connected socket */
	uint64_t next_id;	   /* ids of requests */
	struct nsim_framer framer; /* incoming bytes */
	Numasim__Response **queue; /* responses read ahead, oldest first */
	size_t nq, cap;		   /* queued, allocated */
	bool bad;		   /* a frame did not decode */
	int timeout_ms;		   /* per call */
};

/* nsim_client_open - connect to "HOST:PORT" with a timeout. 0 or a negative errno. */
int nsim_client_open(struct nsim_client *cl, const char *host_port, int timeout_ms);
void nsim_client_close(struct nsim_client *cl);

/*
 * nsim_client_call - send @req (its version and id are set here) and wait for the Response
 * with the same id; *@resp is freed with nsim_response_free(). 0, or a
 * negative errno (-ETIMEDOUT, -ECONNRESET, -EPROTO for a frame that does not decode).
 */
int nsim_client_call(struct nsim_client *cl, Numasim__Request *req, Numasim__Response **resp);

/* nsim_client_send_raw - write raw bytes (tests of bad input). 0 or a negative errno. */
int nsim_client_send_raw(struct nsim_client *cl, const void *buf, size_t len);

/* nsim_client_recv - wait for any Response (tests). 0 or a negative errno. */
int nsim_client_recv(struct nsim_client *cl, Numasim__Response **resp);

#endif
