// SPDX-License-Identifier: MIT
/*
 * test_wire.c - the request path's protobuf codec (common/net_wire.c) against libprotobuf-c:
 * the same bytes for every message shape it covers, with seeded random field values; the
 * shapes it leaves to protobuf-c; and the same answer as protobuf-c for mutated bytes.
 * The seed comes from $NUMASIM_SEED when set and is printed on a failure.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "net.h"
#include "nsim.h"
#include "unit.h"

#define BUF 4096
#define KINDS 14

/* One message of every covered kind, with storage for its parts. */
struct sample {
	Numasim__Request req;
	Numasim__Response resp;
	Numasim__AllocPages ap;
	Numasim__FreePages fp;
	Numasim__ZoneAlloc za;
	Numasim__Kmalloc km;
	Numasim__Kfree kf;
	Numasim__Ping ping;
	Numasim__View view;
	Numasim__Hello hello;
	Numasim__AllocPagesReply apr;
	Numasim__AddrReply addr;
	Numasim__CountReply count;
	Numasim__ViewReply vr;
	Numasim__Pong pong;
	char text[3][400];
	const ProtobufCMessage *msg; /* req or resp */
};

/* Zero a third of the time, else the extremes and values of every varint length. */
static uint64_t pick(uint64_t *rng)
{
	uint64_t r = unit_xorshift(rng);

	switch (r % 6) {
	case 0:
	case 1:
		return 0;
	case 2:
		return ~0ull;
	case 3:
		return r >> 57;
	default:
		return unit_xorshift(rng) >> (r >> 3) % 64;
	}
}

static char *pick_text(uint64_t *rng, char *buf)
{
	uint64_t r = unit_xorshift(rng);
	size_t len = r % 3 == 0 ? 0 : r % 3 == 1 ? 1 + (r >> 8) % 20 : 200 + (r >> 8) % 199;

	for (size_t i = 0; i < len; i++)
		buf[i] = (char)('a' + (unit_xorshift(rng) % 26));
	buf[len] = '\0';
	return buf;
}

static void sample_request(struct sample *s, int kind, uint64_t *rng)
{
	Numasim__Request *q = &s->req;

	numasim__request__init(q);
	q->version = (uint32_t)pick(rng);
	q->id = pick(rng);
	switch (kind) {
	case 0:
		numasim__alloc_pages__init(&s->ap);
		s->ap.gfp = (uint32_t)pick(rng);
		s->ap.order = (uint32_t)pick(rng);
		s->ap.cpu = (int32_t)pick(rng);
		s->ap.policy = (Numasim__Policy)(pick(rng) % 4);
		s->ap.preferred = (int32_t)pick(rng);
		s->ap.nodemask = pick(rng);
		q->body_case = NUMASIM__REQUEST__BODY_ALLOC_PAGES;
		q->alloc_pages = &s->ap;
		break;
	case 1:
		numasim__free_pages__init(&s->fp);
		s->fp.pfn = pick(rng);
		s->fp.order = (uint32_t)pick(rng);
		s->fp.cpu = (int32_t)pick(rng);
		q->body_case = NUMASIM__REQUEST__BODY_FREE_PAGES;
		q->free_pages = &s->fp;
		break;
	case 2:
		numasim__zone_alloc__init(&s->za);
		s->za.zone = (int32_t)pick(rng);
		s->za.order = (uint32_t)pick(rng);
		s->za.gfp = (uint32_t)pick(rng);
		s->za.alloc_flags = (uint32_t)pick(rng);
		s->za.highest_zoneidx = (int32_t)pick(rng);
		s->za.cpu = (int32_t)pick(rng);
		s->za.preferred_node = (int32_t)pick(rng);
		s->za.owner = (uint32_t)pick(rng);
		q->body_case = NUMASIM__REQUEST__BODY_ZONE_ALLOC;
		q->zone_alloc = &s->za;
		break;
	case 3:
		numasim__kmalloc__init(&s->km);
		s->km.size = pick(rng);
		s->km.gfp = (uint32_t)pick(rng);
		s->km.cpu = (int32_t)pick(rng);
		s->km.node = (int32_t)pick(rng);
		q->body_case = NUMASIM__REQUEST__BODY_KMALLOC;
		q->kmalloc = &s->km;
		break;
	case 4:
		numasim__kfree__init(&s->kf);
		s->kf.addr = pick(rng);
		s->kf.cpu = (int32_t)pick(rng);
		q->body_case = NUMASIM__REQUEST__BODY_KFREE;
		q->kfree = &s->kf;
		break;
	case 5:
		numasim__ping__init(&s->ping);
		q->body_case = NUMASIM__REQUEST__BODY_PING;
		q->ping = &s->ping;
		break;
	case 6:
		numasim__view__init(&s->view);
		s->view.name = pick_text(rng, s->text[0]);
		s->view.node = (int32_t)pick(rng);
		s->view.json = pick(rng) & 1;
		s->view.sort = pick_text(rng, s->text[1]);
		q->body_case = NUMASIM__REQUEST__BODY_VIEW;
		q->view = &s->view;
		break;
	default:
		numasim__hello__init(&s->hello);
		s->hello.client = pick_text(rng, s->text[0]);
		s->hello.admin = pick(rng) & 1;
		q->body_case = NUMASIM__REQUEST__BODY_HELLO;
		q->hello = &s->hello;
		break;
	}
	s->msg = &q->base;
}

static void sample_response(struct sample *s, int kind, uint64_t *rng)
{
	Numasim__Response *r = &s->resp;

	numasim__response__init(r);
	r->id = pick(rng);
	r->status = (Numasim__Status)(pick(rng) % 16);
	r->message = pick_text(rng, s->text[2]);
	switch (kind) {
	case 8:
		numasim__alloc_pages_reply__init(&s->apr);
		s->apr.pfn = pick(rng);
		s->apr.node = (int32_t)pick(rng);
		s->apr.zone = pick_text(rng, s->text[0]);
		r->body_case = NUMASIM__RESPONSE__BODY_ALLOC_PAGES;
		r->alloc_pages = &s->apr;
		break;
	case 9:
		numasim__addr_reply__init(&s->addr);
		s->addr.addr = pick(rng);
		s->addr.node = (int32_t)pick(rng);
		s->addr.cache = pick_text(rng, s->text[0]);
		r->body_case = NUMASIM__RESPONSE__BODY_ADDR;
		r->addr = &s->addr;
		break;
	case 10:
		numasim__count_reply__init(&s->count);
		s->count.count = pick(rng);
		s->count.message = pick_text(rng, s->text[0]);
		r->body_case = NUMASIM__RESPONSE__BODY_COUNT;
		r->count = &s->count;
		break;
	case 11:
		numasim__view_reply__init(&s->vr);
		s->vr.text = pick_text(rng, s->text[0]);
		r->body_case = NUMASIM__RESPONSE__BODY_VIEW;
		r->view = &s->vr;
		break;
	case 12:
		numasim__pong__init(&s->pong);
		s->pong.uptime_ms = pick(rng);
		s->pong.nodes_up = (uint32_t)pick(rng);
		r->body_case = NUMASIM__RESPONSE__BODY_PONG;
		r->pong = &s->pong;
		break;
	default:
		break;
	}
	s->msg = &r->base;
}

static void sample_make(struct sample *s, int kind, uint64_t *rng)
{
	if (kind < 8)
		sample_request(s, kind, rng);
	else
		sample_response(s, kind, rng);
}

static void dump(const char *what, const uint8_t *b, size_t len)
{
	fprintf(stderr, "%s:", what);
	for (size_t i = 0; i < len; i++)
		fprintf(stderr, " %02x", b[i]);
	fprintf(stderr, "\n");
}

/* protobuf-c's bytes for @m (at most BUF). */
static size_t ref_pack(const ProtobufCMessage *m, uint8_t *out)
{
	size_t n = protobuf_c_message_get_packed_size(m);

	CU_ASSERT_FATAL(n <= BUF);
	return protobuf_c_message_pack(m, out);
}

static void test_same_bytes(void)
{
	uint64_t seed = unit_seed(), rng = seed | 1, fast0, handed0, fast, handed;
	static uint8_t ref[BUF], got[BUF], again[BUF];
	int bad = 0;

	nsim_wire_counts(&fast0, &handed0);
	for (int i = 0; i < 30000; i++) {
		struct sample s;
		ProtobufCMessage *back;
		size_t n;
		ssize_t m;

		sample_make(&s, i % KINDS, &rng);
		n = ref_pack(s.msg, ref);
		m = nsim_wire_pack(s.msg, got, BUF);
		bad += m != (ssize_t)n || memcmp(ref, got, n);
		back = nsim_wire_unpack(s.msg->descriptor, NULL, n, ref);
		CU_ASSERT_PTR_NOT_NULL_FATAL(back);
		bad += ref_pack(back, again) != n || memcmp(ref, again, n);
		nsim_wire_free(back, NULL);
		back = nsim_wire_copy(s.msg); /* what outlives an arena */
		bad += ref_pack(back, again) != n || memcmp(ref, again, n);
		nsim_wire_free(back, NULL);
		if (bad) {
			fprintf(stderr, "\nwire: seed %#llx sample %d (kind %d) differs\n",
				(unsigned long long)seed, i, i % KINDS);
			dump("protobuf-c", ref, n);
			dump("wire", got, m > 0 ? (size_t)m : 0);
			dump("again", again, n);
			break;
		}
	}
	CU_ASSERT_EQUAL(bad, 0);
	nsim_wire_counts(&fast, &handed);
	CU_ASSERT_EQUAL(fast - fast0, 2 * 30000); /* decoded, and copied */
	CU_ASSERT_EQUAL(handed, handed0);
}

/* A message @wire leaves to protobuf-c still gets protobuf-c's frame from nsim_frame_put. */
static void assert_handed_over(const ProtobufCMessage *m)
{
	static uint8_t ref[BUF], frame[BUF + NSIM_FRAME_PREFIX];
	size_t n = ref_pack(m, ref);
	uint64_t fast0, handed0, fast, handed;
	ProtobufCMessage *back;

	CU_ASSERT_EQUAL(nsim_wire_pack(m, frame, BUF), -ENOTSUP);
	CU_ASSERT_EQUAL(nsim_frame_put(m, frame, sizeof(frame)), NSIM_FRAME_PREFIX + n);
	CU_ASSERT_EQUAL(memcmp(frame + NSIM_FRAME_PREFIX, ref, n), 0);
	CU_ASSERT_EQUAL(frame[3] | frame[2] << 8, n);
	nsim_wire_counts(&fast0, &handed0);
	back = nsim_wire_unpack(m->descriptor, NULL, n, ref);
	nsim_wire_counts(&fast, &handed);
	CU_ASSERT_PTR_NOT_NULL_FATAL(back);
	CU_ASSERT_EQUAL(handed - handed0, 1);
	CU_ASSERT_EQUAL(fast, fast0);
	CU_ASSERT_EQUAL(ref_pack(back, frame), n);
	CU_ASSERT_EQUAL(memcmp(frame, ref, n), 0);
	nsim_wire_free(back, NULL); /* repeated elements: protobuf-c frees (LeakSanitizer checks) */
}

static void test_handed_over(void)
{
	Numasim__Response r = NUMASIM__RESPONSE__INIT;
	Numasim__AllocPagesReply apr = NUMASIM__ALLOC_PAGES_REPLY__INIT;
	Numasim__ZoneTried tried[2] = {NUMASIM__ZONE_TRIED__INIT, NUMASIM__ZONE_TRIED__INIT};
	Numasim__ZoneTried *tp[2] = {&tried[0], &tried[1]};
	Numasim__Request q = NUMASIM__REQUEST__INIT, inner = NUMASIM__REQUEST__INIT;
	Numasim__Request *innerp = &inner;
	Numasim__Batch batch = NUMASIM__BATCH__INIT;
	Numasim__Ping ping = NUMASIM__PING__INIT;

	/* an ENOMEM answer lists the zones tried: a repeated field */
	tried[0].node = 2;
	tried[0].zone = "Normal";
	tried[0].why = "watermark";
	tried[1].why = "lowmem_reserve";
	apr.n_tried = 2;
	apr.tried = tp;
	r.id = 9;
	r.status = NUMASIM__STATUS__STATUS_ENOMEM;
	r.body_case = NUMASIM__RESPONSE__BODY_ALLOC_PAGES;
	r.alloc_pages = &apr;
	assert_handed_over(&r.base);
	/* a batch of requests */
	inner.body_case = NUMASIM__REQUEST__BODY_PING;
	inner.ping = &ping;
	batch.n_requests = 1;
	batch.requests = &innerp;
	q.id = 3;
	q.body_case = NUMASIM__REQUEST__BODY_BATCH;
	q.batch = &batch;
	assert_handed_over(&q.base);
}

static void test_room(void)
{
	struct sample s;
	uint64_t rng = 7;
	uint8_t small[8], ref[BUF];
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0, total = 0, n;

	sample_make(&s, 11, &rng); /* a view answer */
	while (strlen(s.vr.text) < 200)
		sample_make(&s, 11, &rng);
	n = ref_pack(s.msg, ref);
	CU_ASSERT_EQUAL(nsim_wire_pack(s.msg, small, sizeof(small)), -ENOSPC);
	CU_ASSERT_EQUAL(nsim_frame_put(s.msg, small, sizeof(small)), NSIM_FRAME_PREFIX + n);
	/* appended frames grow the buffer and keep every byte */
	for (int i = 0; i < 100; i++)
		total += nsim_frame_append(&buf, &len, &cap, s.msg);
	CU_ASSERT_EQUAL(total, 100 * (NSIM_FRAME_PREFIX + n));
	CU_ASSERT_EQUAL(len, total);
	CU_ASSERT(cap >= len);
	CU_ASSERT_EQUAL(memcmp(buf + 99 * (NSIM_FRAME_PREFIX + n) + NSIM_FRAME_PREFIX, ref, n), 0);
	free(buf);
}

/* Flip, cut, insert, repeat a slice or scramble: the bytes of @len at @b, changed in place. */
static size_t mutate(uint8_t *b, size_t len, uint64_t *rng)
{
	uint64_t r = unit_xorshift(rng);
	size_t at = len ? (size_t)(unit_xorshift(rng) % len) : 0;

	switch (r % 6) {
	case 0:
		if (len)
			b[at] ^= (uint8_t)(1u << (r >> 8) % 8);
		return len;
	case 1:
		return at;
	case 2:
		if (len + 1 >= BUF)
			return len;
		memmove(b + at + 1, b + at, len - at);
		b[at] = (uint8_t)(r >> 16);
		return len + 1;
	case 3: {
		size_t n = len - at;

		if (len + n >= BUF)
			return len;
		memcpy(b + len, b + at, n);
		return len + n;
	}
	case 4:
		if (len)
			b[at] = (uint8_t)(r >> 24);
		return len;
	default:
		len = (size_t)(r >> 8) % 40;
		for (size_t i = 0; i < len; i++)
			b[i] = (uint8_t)unit_xorshift(rng);
		return len;
	}
}

/*
 * Both decoders agree on @len bytes at @b: both refuse, or both give the same message. Ours
 * decodes into @ar, or with malloc when @ar is NULL, and is freed by nsim_wire_free (the
 * sanitizers check those frees).
 */
static bool same_answer(const ProtobufCMessageDescriptor *d, const uint8_t *b, size_t len,
			struct nsim_arena *ar)
{
	static uint8_t x[BUF * 2], y[BUF * 2];
	ProtobufCMessage *ref = protobuf_c_message_unpack(d, NULL, len, b);
	ProtobufCMessage *got = nsim_wire_unpack(d, ar ? &ar->allocator : NULL, len, b);
	bool same = !ref == !got;

	if (same && ref)
		same = protobuf_c_message_get_packed_size(ref) <= sizeof(x) &&
		       protobuf_c_message_get_packed_size(got) <= sizeof(y) &&
		       protobuf_c_message_pack(ref, x) == protobuf_c_message_pack(got, y) &&
		       !memcmp(x, y, protobuf_c_message_get_packed_size(ref));
	protobuf_c_message_free_unpacked(ref, NULL);
	if (ar)
		nsim_arena_free(ar, got);
	else
		nsim_wire_free(got, NULL);
	return same;
}

static void test_mutated(void)
{
	uint64_t seed = unit_seed(), rng = seed | 1, fast0, handed0, fast, handed;
	static uint8_t b[BUF];
	struct nsim_arena ar;
	int bad = 0;

	nsim_arena_init(&ar);
	nsim_wire_counts(&fast0, &handed0);
	for (int i = 0; i < 100000 && !bad; i++) {
		struct sample s;
		const ProtobufCMessageDescriptor *d;
		size_t len;
		int steps = 1 + (int)(unit_xorshift(&rng) % 3);

		sample_make(&s, i % KINDS, &rng);
		len = ref_pack(s.msg, b);
		while (steps--)
			len = mutate(b, len, &rng);
		d = i % 7 ? s.msg->descriptor
			  : (s.msg == &s.req.base ? &numasim__response__descriptor
						  : &numasim__request__descriptor);
		if (!same_answer(d, b, len, i % 2 ? &ar : NULL)) {
			fprintf(stderr, "\nwire: seed %#llx mutation %d: decoders differ\n",
				(unsigned long long)seed, i);
			bad++;
		}
	}
	nsim_arena_release(&ar);
	CU_ASSERT_EQUAL(bad, 0);
	/* both paths ran: the mutations left many messages in the covered shapes */
	nsim_wire_counts(&fast, &handed);
	CU_ASSERT(fast - fast0 > 10000);
	CU_ASSERT(handed - handed0 > 10000);
}

static CU_TestInfo tests[] = {
	{"same bytes as protobuf-c, every covered shape; copies", test_same_bytes},
	{"shapes handed to protobuf-c", test_handed_over},
	{"no room: refused, then the size", test_room},
	{"mutated bytes: same answer as protobuf-c", test_mutated},
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("wire", NULL, NULL, tests);
