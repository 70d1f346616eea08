// SPDX-License-Identifier: MIT
/*
 * loop.c - the network side of `numasim bench`: threads, connections, pipelining.
 *
 * Each thread runs its own epoll loop over its connections (memtier's shape: a thread, a
 * loop, N connections). The loop is epoll and not libuv because an open-loop schedule needs
 * wake-ups finer than libuv's millisecond timers: a timerfd armed at the next intended send
 * time (nanoseconds) wakes the loop, and the request leaves within microseconds of it.
 *
 * A connection is opened blocking (nsim_client_open, then Hello as bench-T-C), then switched
 * to non-blocking. It keeps up to `pipeline` requests in flight: a slot per request, the
 * request id being (counter << 16 | slot), so answers may arrive in any order. Requests are
 * packed straight into the connection's output buffer and written together.
 *
 * The budget: -n is a shared counter of tickets, one per request; --test-time a deadline.
 * When either is spent (or on SIGINT), `stop` is set and the run ends in three steps:
 *   drain     no connection sends anything new; each thread waits for its answers in flight
 *             and counts itself in `drained` (the measured run ends with its last answer)
 *   at_end    once every thread has drained, the main thread calls cfg->at_end (the summary's
 *             "end" snapshot: the memory as the workload left it, objects still held)
 *   teardown  `teardown` is set: every connection frees what it holds (cleanup, not counted
 *             in the latencies) and finishes when nothing is held and nothing is in flight
 *
 * Threads share nothing but the ticket counter, the stop/drained/teardown flags and the
 * recorder; each fills its own bench_stats, merged after the join. The progress line reads per-thread atomics and
 * swaps each thread's interval histogram under its lock.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "net.h"
#include "nsim.h"

#define SLOT_BITS 16
#define MAX_EVENTS 64
#define IDLE_WAIT_MS 50 /* epoll timeout when no timer is armed: stop, deadline, stalls */

struct bench_slot {
	struct bench_op op;   /* the request */
	uint64_t id;	      /* its request id */
	uint64_t intended_ns; /* when it was meant to leave (latency starts here) */
	bool cleanup;	      /* sent during the teardown */
};

struct bench_thread;

struct bench_conn {
	struct nsim_client cl;	  /* the socket and its framer */
	struct bench_thread *t;	  /* owner */
	int index;		  /* connection number in the run */
	struct bench_wl wl;	  /* what it asks */
	struct bench_rate rate;	  /* open loop: its schedule */
	struct bench_slot *slots; /* one per request in flight */
	uint16_t *free_slots;	  /* stack of free slot numbers */
	unsigned int nr_free;	  /* entries of free_slots */
	uint64_t counter;	  /* request ids: counter << SLOT_BITS | slot */
	uint8_t *out;		  /* packed requests not yet written */
	size_t out_len;		  /* bytes in out */
	size_t out_off;		  /* bytes of out already written */
	size_t out_cap;		  /* bytes allocated */
	bool pollout;		  /* EPOLLOUT armed */
	bool done;		  /* torn down */
	uint64_t progress_ns;	  /* last answer, or first request into an empty pipeline */
};

struct bench_shared {
	const struct bench_config *cfg; /* the run */
	atomic_int_fast64_t budget;	/* requests left to send */
	atomic_bool stop;		/* no more measured requests: drain */
	atomic_uint drained;		/* threads with nothing in flight since stop */
	atomic_bool teardown;		/* the end snapshot is taken: free everything */
	uint64_t start_ns;		/* the run's start */
	uint64_t deadline_ns;		/* --test-time end (0: none) */
	pthread_barrier_t ready;	/* everyone connected */
	pthread_barrier_t go;		/* start_ns is set */
};

struct bench_thread {
	struct bench_shared *sh;       /* shared state */
	int idx;		       /* thread number */
	pthread_t tid;		       /* the thread */
	struct bench_conn *conns;      /* its connections */
	unsigned int nr_conns;	       /* how many */
	int epfd;		       /* the loop */
	int tfd;		       /* timerfd for intended send times */
	uint64_t timer_at;	       /* when tfd is armed for (0: not armed) */
	struct bench_stats *st;	       /* counters, this thread's only */
	pthread_mutex_t ilock;	       /* guards interval */
	struct bench_hist *interval;   /* latencies since the last progress line */
	atomic_uint_fast64_t answered; /* answers */
	atomic_uint_fast64_t failed;   /* answers other than OK */
	uint64_t read_ns;	       /* when the read being handled returned */
	uint64_t read_answered;	       /* answers of the read being handled (then answered) */
	uint64_t read_failed;	       /* of those, other than OK (then failed) */
	uint64_t end_ns;	       /* last answer */
	atomic_bool finished;	       /* thread_main() is returning */
	bool drained;		       /* counted in sh->drained */
	uint64_t drained_ns;	       /* its last measured answer */
	int err;		       /* negative errno that stopped the thread */
	char error[200];	       /* why */
	struct nsim_arena arena;       /* decodes one answer at a time */
};

static atomic_bool interrupted;

const char *bench_strerror(int err)
{
	static _Thread_local char buf[96];

	snprintf(buf, sizeof(buf), "%s", strerror(err));
	buf[0] = (char)tolower((unsigned char)buf[0]);
	return buf;
}

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------------------------ the recorder */

int bench_recorder_open(struct bench_recorder *rec, const char *path)
{
	memset(rec, 0, sizeof(*rec));
	rec->f = fopen(path, "w");
	if (!rec->f)
		return -errno;
	pthread_mutex_init(&rec->lock, NULL);
	fprintf(rec->f, "%s\n# SEQ CONN OP ARGS = STATUS [RESULT]\n", BENCH_TRACE_HEADER);
	return 0;
}

void bench_recorder_write(struct bench_recorder *rec, struct bench_op *op)
{
	char line[BENCH_TRACE_LINE];

	pthread_mutex_lock(&rec->lock);
	op->seq = ++rec->seq;
	bench_trace_format(op, line, sizeof(line));
	if (fprintf(rec->f, "%s\n", line) < 0 && !rec->err)
		rec->err = errno ? errno : EIO;
	pthread_mutex_unlock(&rec->lock);
}

int bench_recorder_close(struct bench_recorder *rec)
{
	int err = rec->err;

	if (!rec->f)
		return 0;
	if (fclose(rec->f) && !err)
		err = errno;
	rec->f = NULL;
	pthread_mutex_destroy(&rec->lock);
	return err;
}

/* ------------------------------------------------------------------ blocking calls */

int bench_connect(struct nsim_client *cl, const char *addr, const char *identity, int timeout_ms,
		  struct bench_hello *hello, char *err, size_t errlen)
{
	Numasim__Request req = NUMASIM__REQUEST__INIT;
	Numasim__Hello h = NUMASIM__HELLO__INIT;
	Numasim__Response *resp = NULL;
	int one = 1, ret = nsim_client_open(cl, addr, timeout_ms);

	if (ret) {
		snprintf(err, errlen, "cannot reach %s: %s", addr, bench_strerror(-ret));
		return ret;
	}
	setsockopt(cl->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	h.client = (char *)identity;
	req.body_case = NUMASIM__REQUEST__BODY_HELLO;
	req.hello = &h;
	ret = nsim_client_call(cl, &req, &resp);
	if (ret)
		snprintf(err, errlen, "no hello from %s: %s", addr, bench_strerror(-ret));
	else if (resp->status != NUMASIM__STATUS__STATUS_OK ||
		 resp->body_case != NUMASIM__RESPONSE__BODY_HELLO)
		snprintf(err, errlen, "%s refused hello: %s%s%s", addr,
			 nsim_status_name(resp->status), resp->message ? ": " : "",
			 resp->message ? resp->message : "");
	else if (resp->hello->version != NSIM_PROTOCOL_VERSION)
		snprintf(err, errlen, "%s speaks protocol %u, this numasim %d", addr,
			 resp->hello->version, NSIM_PROTOCOL_VERSION);
	else if (hello) {
		hello->nodes = resp->hello->nodes;
		hello->cpus = resp->hello->cpus;
		snprintf(hello->server, sizeof(hello->server), "%s", resp->hello->server);
	}
	if (!ret && (resp->status != NUMASIM__STATUS__STATUS_OK ||
		     resp->body_case != NUMASIM__RESPONSE__BODY_HELLO ||
		     resp->hello->version != NSIM_PROTOCOL_VERSION))
		ret = -EPROTO;
	if (resp)
		nsim_response_free(resp, NULL);
	if (ret)
		nsim_client_close(cl);
	return ret;
}

int bench_call(struct nsim_client *cl, struct bench_op *op, char *msg, size_t msglen,
	       uint64_t *latency_ns)
{
	struct bench_wire w;
	Numasim__Response *resp;
	uint64_t t0 = bench_now_ns();
	int ret;

	bench_wire_request(&w, op);
	ret = nsim_client_call(cl, &w.req, &resp);
	if (latency_ns)
		*latency_ns = bench_now_ns() - t0;
	if (ret)
		return ret;
	if (bench_wire_result(op, resp))
		op->status = NUMASIM__STATUS__STATUS_PROTOCOL_ERROR;
	if (msg && msglen)
		snprintf(msg, msglen, "%s", resp->message ? resp->message : "");
	nsim_response_free(resp, NULL);
	return 0;
}

/* ------------------------------------------------------------------ per connection */

static void thread_fail(struct bench_thread *t, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void thread_fail(struct bench_thread *t, int err, const char *fmt, ...)
{
	va_list ap;

	if (t->err)
		return;
	t->err = err;
	va_start(ap, fmt);
	vsnprintf(t->error, sizeof(t->error), fmt, ap);
	va_end(ap);
}

/* Pack @op as request @id at the end of the output buffer. */
static void conn_queue(struct bench_conn *c, const struct bench_op *op, uint64_t id)
{
	struct bench_wire w;

	bench_wire_request(&w, op);
	w.req.version = NSIM_PROTOCOL_VERSION;
	w.req.id = id;
	nsim_frame_append(&c->out, &c->out_len, &c->out_cap, &w.req.base);
}

static void conn_poll(struct bench_conn *c, bool out)
{
	struct epoll_event ev = {.events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = c};

	if (c->pollout == out)
		return;
	c->pollout = out;
	epoll_ctl(c->t->epfd, EPOLL_CTL_MOD, c->cl.fd, &ev);
}

/* Write what can be written; EPOLLOUT while something is left. */
static int conn_flush(struct bench_conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n =
			send(c->cl.fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);

		if (n > 0) {
			c->out_off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			conn_poll(c, true);
			return 0;
		}
		return n < 0 ? -errno : -EPIPE;
	}
	c->out_off = c->out_len = 0;
	conn_poll(c, false);
	return 0;
}

/* A ticket of the -n budget; false once it is spent (and then everyone drains). */
static bool take_ticket(struct bench_shared *sh)
{
	if (atomic_fetch_sub(&sh->budget, 1) > 0)
		return true;
	atomic_store(&sh->stop, true);
	return false;
}

/* Fill the free slots with requests: all of them closed-loop, those due open-loop. */
static void conn_fill(struct bench_conn *c, uint64_t now, bool teardown, uint64_t *wake)
{
	struct bench_shared *sh = c->t->sh;
	struct bench_op op;

	while (c->nr_free) {
		uint64_t intended = now, id;
		unsigned int s;

		if (!teardown && sh->cfg->rate > 0) {
			intended = bench_rate_peek(&c->rate);
			if (intended > now) {
				if (intended < *wake)
					*wake = intended;
				break;
			}
		}
		if (!teardown && !take_ticket(sh))
			break; /* the budget is spent: the next round drains */
		if (!bench_wl_next(&c->wl, teardown, &op)) {
			if (!teardown)
				atomic_fetch_add(&sh->budget, 1);
			break;
		}
		if (!teardown && sh->cfg->rate > 0)
			bench_rate_take(&c->rate);
		s = c->free_slots[--c->nr_free];
		if (c->nr_free == sh->cfg->pipeline - 1)
			c->progress_ns = now; /* the stall clock starts with an empty pipeline */
		id = (++c->counter << SLOT_BITS) | s;
		c->slots[s] = (struct bench_slot){op, id, intended, teardown};
		conn_queue(c, &op, id);
	}
	if (teardown && bench_wl_idle(&c->wl))
		c->done = true;
}

static void on_frame(void *arg, const uint8_t *payload, size_t len)
{
	struct bench_conn *c = arg;
	struct bench_thread *t = c->t;
	const struct bench_config *cfg = t->sh->cfg;
	Numasim__Response *resp = nsim_response_unpack(&t->arena.allocator, len, payload);
	struct bench_slot *slot;
	uint64_t now = c->t->read_ns, lat; /* the answer was in by then */
	unsigned int s;
	bool expected;

	if (!resp) {
		nsim_arena_reset(&t->arena);
		thread_fail(t, -EPROTO, "%s sent a response that does not decode", cfg->addr);
		return;
	}
	s = (unsigned int)(resp->id & ((1u << SLOT_BITS) - 1));
	slot = s < cfg->pipeline ? &c->slots[s] : NULL;
	if (!slot || slot->id != resp->id || slot->op.status >= 0) {
		thread_fail(t, -EPROTO, "%s answered request %" PRIu64 ", which is not in flight",
			    cfg->addr, resp->id);
		goto out;
	}
	if (bench_wire_result(&slot->op, resp))
		slot->op.status = NUMASIM__STATUS__STATUS_PROTOCOL_ERROR;
	lat = now > slot->intended_ns ? now - slot->intended_ns : 0;
	expected = slot->op.status == NUMASIM__STATUS__STATUS_ENOMEM && cfg->allow_enomem &&
		   bench_op_allocates(slot->op.code);
	if (slot->cleanup) {
		bench_stats_aside(t->st, &slot->op, resp->message);
	} else {
		bench_stats_add(t->st, &slot->op, lat, expected, resp->message);
		bench_hist_record(t->interval, lat); /* conn_feed() holds ilock */
		t->read_answered++;
		t->read_failed += slot->op.status != NUMASIM__STATUS__STATUS_OK;
		t->end_ns = now;
	}
	if (cfg->rec)
		bench_recorder_write(cfg->rec, &slot->op);
	bench_wl_done(&c->wl, &slot->op);
	slot->id = 0;
	c->free_slots[c->nr_free++] = (uint16_t)s;
	c->progress_ns = now;
out:
	nsim_arena_free(&t->arena, &resp->base);
}

/*
 * The answers of one read: the clock is read, the progress line's lock taken and its
 * counters published once per read, not per answer. An answer's latency ends when the read
 * that brought it returned.
 */
static int conn_feed(struct bench_conn *c, const uint8_t *buf, size_t n)
{
	struct bench_thread *t = c->t;
	int err;

	t->read_ns = bench_now_ns();
	pthread_mutex_lock(&t->ilock);
	err = nsim_framer_feed(&c->cl.framer, buf, n, on_frame, c);
	pthread_mutex_unlock(&t->ilock);
	atomic_fetch_add(&t->answered, t->read_answered);
	atomic_fetch_add(&t->failed, t->read_failed);
	t->read_answered = t->read_failed = 0;
	return err;
}

/*
 * Read what has arrived. The poll is level-triggered, so a short read ends the turn: asking
 * again until EAGAIN would cost a second recv per wakeup for nothing.
 */
static int conn_read(struct bench_conn *c)
{
	uint8_t buf[65536];

	for (;;) {
		ssize_t n = recv(c->cl.fd, buf, sizeof(buf), 0);

		if (n > 0) {
			if (conn_feed(c, buf, (size_t)n))
				return -EMSGSIZE;
			if (c->t->err)
				return c->t->err;
			if ((size_t)n < sizeof(buf))
				return 0;
			continue;
		}
		if (n == 0)
			return -ECONNRESET;
		if (errno == EINTR)
			continue;
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
	}
}

/* ------------------------------------------------------------------ per thread */

static int conn_open(struct bench_thread *t, struct bench_conn *c, int index)
{
	const struct bench_config *cfg = t->sh->cfg;
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
	char name[48], err[200];
	int ret;

	c->t = t;
	c->index = index;
	snprintf(name, sizeof(name), "bench-%d-%d", t->idx, (int)(c - t->conns));
	ret = bench_connect(&c->cl, cfg->addr, name, cfg->timeout_ms, NULL, err, sizeof(err));
	if (ret) {
		c->cl.fd = -1;
		thread_fail(t, ret, "%s", err);
		return ret;
	}
	fcntl(c->cl.fd, F_SETFL, fcntl(c->cl.fd, F_GETFL) | O_NONBLOCK);
	epoll_ctl(t->epfd, EPOLL_CTL_ADD, c->cl.fd, &ev);
	c->slots = xcalloc(cfg->pipeline, sizeof(*c->slots));
	c->free_slots = xmalloc(cfg->pipeline * sizeof(*c->free_slots));
	for (unsigned int s = 0; s < cfg->pipeline; s++)
		c->free_slots[c->nr_free++] = (uint16_t)(cfg->pipeline - 1 - s);
	bench_wl_init(&c->wl, cfg->wl, index, cfg->cpus[index % cfg->nr_cpus],
		      bench_mix64(cfg->seed, (uint64_t)index));
	return 0;
}

static void conn_close(struct bench_conn *c)
{
	if (c->cl.fd >= 0)
		nsim_client_close(&c->cl);
	bench_wl_release(&c->wl);
	free(c->slots);
	free(c->free_slots);
	free(c->out);
}

static void thread_setup(struct bench_thread *t)
{
	const struct bench_config *cfg = t->sh->cfg;
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};

	t->epfd = epoll_create1(EPOLL_CLOEXEC);
	t->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (t->epfd < 0 || t->tfd < 0) {
		thread_fail(t, -errno, "epoll: %s", bench_strerror(errno));
		return;
	}
	epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->tfd, &ev);
	t->nr_conns = cfg->conns;
	t->conns = xcalloc(cfg->conns, sizeof(*t->conns));
	for (unsigned int i = 0; i < cfg->conns; i++)
		t->conns[i].cl.fd = -1;
	for (unsigned int i = 0; i < cfg->conns && !t->err; i++)
		conn_open(t, &t->conns[i], (int)(t->idx * cfg->conns + i));
}

static void arm_timer(struct bench_thread *t, uint64_t at)
{
	struct itimerspec its = {{0, 0}, {0, 0}};

	if (at == t->timer_at)
		return;
	t->timer_at = at;
	if (at != UINT64_MAX) {
		its.it_value.tv_sec = (time_t)(at / 1000000000ull);
		its.it_value.tv_nsec = (long)(at % 1000000000ull);
	}
	timerfd_settime(t->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* A connection that waits for answers longer than the timeout fails the thread. */
static void check_stalls(struct bench_thread *t, uint64_t now)
{
	uint64_t limit = (uint64_t)t->sh->cfg->timeout_ms * 1000000ull;

	for (unsigned int i = 0; i < t->nr_conns && !t->err; i++) {
		struct bench_conn *c = &t->conns[i];

		if (!c->done && c->nr_free < t->sh->cfg->pipeline && now - c->progress_ns > limit)
			thread_fail(t, -ETIMEDOUT, "%s did not answer within %g s",
				    t->sh->cfg->addr, t->sh->cfg->timeout_ms / 1000.0);
	}
}

/* After stop: send nothing new, wait for the answers in flight, then count as drained. */
static void thread_drain(struct bench_thread *t)
{
	bool empty = true;

	for (unsigned int i = 0; i < t->nr_conns && !t->err; i++) {
		struct bench_conn *c = &t->conns[i];
		int ret = conn_flush(c);

		if (ret)
			thread_fail(t, ret, "lost connection to %s: %s", t->sh->cfg->addr,
				    bench_strerror(-ret));
		empty &= c->nr_free == t->sh->cfg->pipeline;
	}
	if (empty && !t->drained) {
		t->drained = true;
		t->drained_ns = t->end_ns;
		atomic_fetch_add(&t->sh->drained, 1);
	}
}

/* One round: fill and flush every connection; false once all are done. */
static bool thread_round(struct bench_thread *t, uint64_t now, uint64_t *wake)
{
	struct bench_shared *sh = t->sh;
	bool teardown, busy = false;

	if (sh->deadline_ns && now >= sh->deadline_ns)
		atomic_store(&sh->stop, true);
	if (atomic_load(&sh->stop) && !atomic_load(&sh->teardown)) {
		thread_drain(t);
		return !t->err;
	}
	teardown = atomic_load(&sh->stop);
	if (!teardown && sh->deadline_ns && sh->deadline_ns < *wake)
		*wake = sh->deadline_ns;
	for (unsigned int i = 0; i < t->nr_conns && !t->err; i++) {
		struct bench_conn *c = &t->conns[i];
		int ret;

		if (c->done)
			continue;
		conn_fill(c, now, teardown, wake);
		ret = conn_flush(c);
		if (ret)
			thread_fail(t, ret, "lost connection to %s: %s", sh->cfg->addr,
				    bench_strerror(-ret));
		busy |= !c->done;
	}
	return busy && !t->err;
}

static void thread_events(struct bench_thread *t, int timeout_ms)
{
	struct epoll_event evs[MAX_EVENTS];
	int n = epoll_wait(t->epfd, evs, MAX_EVENTS, timeout_ms);

	for (int i = 0; i < n && !t->err; i++) {
		struct bench_conn *c = evs[i].data.ptr;
		int ret = 0;

		if (!c) {
			uint64_t ticks;

			if (read(t->tfd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
				thread_fail(t, -errno, "timerfd: %s", bench_strerror(errno));
			t->timer_at = 0;
			continue;
		}
		if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
			ret = conn_read(c);
		if (!ret && (evs[i].events & EPOLLOUT))
			ret = conn_flush(c);
		if (ret && !t->err)
			thread_fail(t, ret, "lost connection to %s: %s", t->sh->cfg->addr,
				    bench_strerror(-ret));
	}
}

static void thread_loop(struct bench_thread *t)
{
	for (;;) {
		uint64_t now = bench_now_ns(), wake = UINT64_MAX;

		if (!thread_round(t, now, &wake))
			break;
		arm_timer(t, wake);
		thread_events(t, wake <= bench_now_ns() ? 0 : IDLE_WAIT_MS);
		check_stalls(t, bench_now_ns());
	}
}

static void *thread_main(void *arg)
{
	struct bench_thread *t = arg;
	struct bench_shared *sh = t->sh;

	thread_setup(t);
	pthread_barrier_wait(&sh->ready);
	pthread_barrier_wait(&sh->go);
	for (unsigned int i = 0; i < t->nr_conns; i++)
		if (sh->cfg->rate > 0)
			bench_rate_init(&t->conns[i].rate, sh->start_ns, sh->cfg->rate,
					(unsigned int)t->conns[i].index,
					sh->cfg->threads * sh->cfg->conns);
	t->end_ns = sh->start_ns;
	if (!t->err && !atomic_load(&sh->stop))
		thread_loop(t);
	if (t->err)
		atomic_store(&sh->stop, true);
	if (!t->drained) {
		t->drained = true;
		t->drained_ns = t->end_ns;
		atomic_fetch_add(&sh->drained, 1);
	}
	for (unsigned int i = 0; i < t->nr_conns; i++)
		conn_close(&t->conns[i]);
	if (t->epfd >= 0)
		close(t->epfd);
	if (t->tfd >= 0)
		close(t->tfd);
	atomic_store(&t->finished, true);
	return NULL;
}

/* ------------------------------------------------------------------ progress */

static void on_sigint(int sig)
{
	(void)sig;
	atomic_store(&interrupted, true);
}

struct progress {
	uint64_t last_ns;     /* time of the last line */
	uint64_t last_count;  /* answers at the last line */
	struct bench_hist *h; /* the interval's latencies, merged */
	bool tty;	      /* stderr is a terminal: rewrite one line */
};

static void progress_line(struct bench_shared *sh, struct bench_thread *th, struct progress *p,
			  uint64_t now)
{
	uint64_t count = 0, failed = 0;
	double dt = (double)(now - p->last_ns) / 1e9, all = (double)(now - sh->start_ns) / 1e9;

	bench_hist_init(p->h);
	for (unsigned int i = 0; i < sh->cfg->threads; i++) {
		count += atomic_load(&th[i].answered);
		failed += atomic_load(&th[i].failed);
		pthread_mutex_lock(&th[i].ilock);
		bench_hist_merge(p->h, th[i].interval);
		bench_hist_init(th[i].interval);
		pthread_mutex_unlock(&th[i].ilock);
	}
	fprintf(stderr,
		"%sbench: %.0f s, %.0f ops/s now, %.0f overall, p99 now %.1f us, errors %" PRIu64
		"%s",
		p->tty ? "\r\033[K" : "", all, dt > 0 ? (double)(count - p->last_count) / dt : 0.0,
		all > 0 ? (double)count / all : 0.0,
		(double)bench_hist_percentile(p->h, 99) / 1000.0, failed, p->tty ? "" : "\n");
	fflush(stderr);
	p->last_ns = now;
	p->last_count = count;
}

static bool all_finished(struct bench_thread *th, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		if (!atomic_load(&th[i].finished))
			return false;
	return true;
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = {(time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull)};

	nanosleep(&ts, NULL);
}

/* The main thread during the run: the progress line, SIGINT, waiting for the threads. */
static void watch(struct bench_shared *sh, struct bench_thread *th)
{
	struct progress p = {sh->start_ns, 0, xmalloc(sizeof(struct bench_hist)), isatty(2)};
	uint64_t next = sh->start_ns + 1000000000ull;
	bool printed = false;

	while (!all_finished(th, sh->cfg->threads)) {
		uint64_t now = bench_now_ns();

		if (atomic_load(&interrupted))
			atomic_store(&sh->stop, true);
		if (!atomic_load(&sh->teardown) && atomic_load(&sh->drained) == sh->cfg->threads) {
			if (sh->cfg->at_end)
				sh->cfg->at_end(sh->cfg->at_end_arg);
			atomic_store(&sh->teardown, true);
		}
		if (now >= next && !sh->cfg->quiet) {
			progress_line(sh, th, &p, now);
			printed = true;
			next += 1000000000ull;
		}
		sleep_ns(20000000ull);
	}
	if (printed && p.tty)
		fputc('\n', stderr);
	for (unsigned int i = 0; i < sh->cfg->threads; i++)
		pthread_join(th[i].tid, NULL);
	free(p.h);
}

static void collect(struct bench_shared *sh, struct bench_thread *th, int *err,
		    struct bench_result *res)
{
	uint64_t end = sh->start_ns;

	for (unsigned int i = 0; i < sh->cfg->threads; i++) {
		struct bench_thread *t = &th[i];

		bench_stats_merge(res->st, t->st);
		if (t->drained_ns > end)
			end = t->drained_ns;
		if (t->err && !*err) {
			*err = t->err;
			snprintf(res->error, sizeof(res->error), "%s", t->error);
		}
		bench_stats_free(t->st);
		free(t->interval);
		free(t->conns);
		pthread_mutex_destroy(&t->ilock);
	}
	res->duration_s = (double)(end - sh->start_ns) / 1e9;
}

int bench_run(const struct bench_config *cfg, struct bench_result *res)
{
	struct bench_shared sh = {.cfg = cfg};
	struct bench_thread *th = xcalloc(cfg->threads, sizeof(*th));
	struct sigaction sa = {.sa_handler = on_sigint, .sa_flags = SA_RESETHAND}, old;
	int err = 0;

	memset(res, 0, sizeof(*res));
	res->st = bench_stats_new();
	atomic_init(&sh.budget, cfg->requests ? (int_fast64_t)cfg->requests : INT64_MAX);
	atomic_init(&sh.stop, false);
	atomic_init(&sh.drained, 0);
	atomic_init(&sh.teardown, false);
	atomic_store(&interrupted, false);
	pthread_barrier_init(&sh.ready, NULL, cfg->threads + 1);
	pthread_barrier_init(&sh.go, NULL, cfg->threads + 1);
	for (unsigned int i = 0; i < cfg->threads; i++) {
		th[i].sh = &sh;
		th[i].idx = (int)i;
		th[i].epfd = th[i].tfd = -1;
		th[i].st = bench_stats_new();
		th[i].interval = xmalloc(sizeof(*th[i].interval));
		bench_hist_init(th[i].interval);
		pthread_mutex_init(&th[i].ilock, NULL);
		nsim_arena_init(&th[i].arena);
		if (pthread_create(&th[i].tid, NULL, thread_main, &th[i]))
			abort(); /* a process that cannot start a thread has no way forward */
	}
	pthread_barrier_wait(&sh.ready);
	for (unsigned int i = 0; i < cfg->threads; i++)
		if (th[i].err)
			atomic_store(&sh.stop, true);
	sigaction(SIGINT, &sa, &old);
	sh.start_ns = bench_now_ns();
	if (cfg->test_time > 0)
		sh.deadline_ns = sh.start_ns + (uint64_t)(cfg->test_time * 1e9);
	pthread_barrier_wait(&sh.go);
	watch(&sh, th);
	sigaction(SIGINT, &old, NULL);
	collect(&sh, th, &err, res);
	pthread_barrier_destroy(&sh.ready);
	pthread_barrier_destroy(&sh.go);
	for (unsigned int i = 0; i < cfg->threads; i++)
		nsim_arena_release(&th[i].arena);
	free(th);
	res->err = err;
	return err;
}
