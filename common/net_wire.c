// SPDX-License-Identifier: MIT
/*
 * net_wire.c - protobuf encoding and decoding for the messages of the request path, by a
 * direct walk of their descriptors.
 *
 * protobuf-c's general pack and unpack cost 1,600 to 1,900 instructions for a small message
 * (a size pass and a pack pass over every field of the envelope's oneof, then a scan pass and
 * a parse pass with a slab of scanned members on decode); the coordinator handles four such
 * messages per request. The walk here covers the shapes the hot messages have and nothing
 * more, in one pass each way:
 *
 *   fields   proto3 (no label): int32, uint32, int64, uint64, enum, bool, string, message;
 *            oneof members of those types; repeated fields only when empty (encode)
 *   wire     each known field at most once, varints of at most 10 bytes, lengths of at most
 *            5 bytes, nesting at most WIRE_DEPTH messages deep
 *
 * Anything else goes to protobuf-c whole: encoding answers -ENOTSUP and the caller packs with
 * protobuf_c_message_pack(); decoding frees what it built and calls
 * protobuf_c_message_unpack(), so a message it does not cover, a malformed one included, gets
 * exactly protobuf-c's answer.
 *
 * Invariants (checked by tests/unit/test_wire.c against libprotobuf-c, on every message shape
 * and on mutated bytes):
 *   nsim_wire_pack(m) == protobuf_c_message_pack(m) byte for byte, when it does not refuse;
 *   pack(nsim_wire_unpack(b)) == pack(protobuf_c_message_unpack(b)), NULL when that is NULL;
 *   what nsim_wire_unpack() returns is freed by protobuf_c_message_free_unpacked() with the
 *   same allocator (every part is a separate allocation, as protobuf-c makes them).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "net.h"

#define WIRE_DEPTH 4  /* message nesting the walk follows */
#define WIRE_VARINT 0 /* wire types */
#define WIRE_LENGTH 2
#define WIRE_FIELDS 64 /* fields a message may have (a bit each while decoding) */

/* Messages this thread decoded itself, and handed to protobuf-c (nsim_wire_counts()). */
static _Thread_local uint64_t wire_fast, wire_handed;

/* ------------------------------------------------------------------ plans */

#define WIRE_ONEOFS 4	   /* oneofs a message may have */
#define WIRE_PLANS 64	   /* slots of a thread's plan table (a power of two) */
#define WIRE_PLANS_FULL 48 /* plans it keeps: probes stay short */
#define WIRE_IDS 64	   /* field numbers below this are found by a table */

/*
 * A message type's fields as the walk visits them: those outside any oneof in field order,
 * then each oneof by the offset of its case member (the chosen field is looked up by its
 * number). An envelope's 22 oneof members cost one lookup instead of 22 checks.
 */
struct wire_plan {
	const ProtobufCMessageDescriptor *d; /* the message type */
	unsigned n_plain;		     /* fields outside oneofs */
	unsigned n_oneof;		     /* oneofs */
	bool covered;			     /* fits: <= WIRE_FIELDS fields, <= WIRE_ONEOFS */
	uint8_t plain[WIRE_FIELDS];	     /* their indices in d->fields */
	uint32_t oneof_case[WIRE_ONEOFS];    /* offsets of the oneofs' case members */
	uint8_t by_id[WIRE_IDS];	     /* field number -> index + 1 (0: none) */
};

/* This thread's plans, open-addressed by descriptor address (d == NULL: a free slot). */
static _Thread_local struct wire_plan wire_plans[WIRE_PLANS];
static _Thread_local unsigned wire_nr_plans;

static void plan_build(struct wire_plan *p, const ProtobufCMessageDescriptor *d)
{
	p->d = d;
	p->n_plain = p->n_oneof = 0;
	p->covered = d->n_fields <= WIRE_FIELDS;
	memset(p->by_id, 0, sizeof(p->by_id));
	for (unsigned i = 0; i < d->n_fields && p->covered; i++) {
		const ProtobufCFieldDescriptor *f = d->fields + i;
		unsigned k = 0;

		if (f->id < WIRE_IDS)
			p->by_id[f->id] = (uint8_t)(i + 1);
		if (!(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)) {
			p->plain[p->n_plain++] = (uint8_t)i;
			continue;
		}
		while (k < p->n_oneof && p->oneof_case[k] != f->quantifier_offset)
			k++;
		if (k == p->n_oneof && p->n_oneof == WIRE_ONEOFS)
			p->covered = false;
		else if (k == p->n_oneof)
			p->oneof_case[p->n_oneof++] = f->quantifier_offset;
	}
}

/* @d's plan, from this thread's cache (built into @spare when the cache is full). */
static const struct wire_plan *plan_of(const ProtobufCMessageDescriptor *d, struct wire_plan *spare)
{
	uintptr_t h = (uintptr_t)d;
	unsigned i = (unsigned)((h >> 4) ^ (h >> 10)) & (WIRE_PLANS - 1);

	while (wire_plans[i].d) {
		if (wire_plans[i].d == d)
			return &wire_plans[i];
		i = (i + 1) & (WIRE_PLANS - 1);
	}
	if (wire_nr_plans < WIRE_PLANS_FULL) {
		spare = &wire_plans[i];
		wire_nr_plans++;
	}
	plan_build(spare, d);
	return spare;
}

/* The field numbered @id, or NULL. */
static const ProtobufCFieldDescriptor *plan_field(const struct wire_plan *p, uint64_t id)
{
	if (id < WIRE_IDS)
		return p->by_id[id] ? p->d->fields + p->by_id[id] - 1 : NULL;
	return id >> 32 ? NULL : protobuf_c_message_descriptor_get_field(p->d, (unsigned)id);
}

/* The field oneof @k of @m has chosen, or NULL. */
static const ProtobufCFieldDescriptor *plan_chosen(const struct wire_plan *p,
						   const ProtobufCMessage *m, unsigned k)
{
	uint32_t id = *(const uint32_t *)((const uint8_t *)m + p->oneof_case[k]);

	return id ? plan_field(p, id) : NULL;
}

/* ------------------------------------------------------------------ encoding */

struct wire_out {
	uint8_t *at;  /* next byte to write */
	uint8_t *end; /* one past the room */
};

static int put_varint(struct wire_out *o, uint64_t v)
{
	if (o->end - o->at < 10)
		return -ENOSPC;
	while (v >= 0x80) {
		*o->at++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*o->at++ = (uint8_t)v;
	return 0;
}

static size_t varint_size(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static int put_tag(struct wire_out *o, uint32_t id, unsigned wire_type)
{
	return put_varint(o, (uint64_t)id << 3 | wire_type);
}

/* The varint value of a scalar member, as protobuf-c writes it (int32 sign-extended). */
static bool scalar_value(const ProtobufCFieldDescriptor *f, const void *member, uint64_t *v)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_ENUM:
		*v = (uint64_t)(int64_t) * (const int32_t *)member;
		return true;
	case PROTOBUF_C_TYPE_UINT32:
		*v = *(const uint32_t *)member;
		return true;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_UINT64:
		*v = *(const uint64_t *)member;
		return true;
	case PROTOBUF_C_TYPE_BOOL:
		*v = *(const protobuf_c_boolean *)member ? 1 : 0;
		return true;
	default:
		return false;
	}
}

static int pack_message(struct wire_out *o, const ProtobufCMessage *m, int depth);

static int pack_string(struct wire_out *o, const ProtobufCFieldDescriptor *f, const char *s)
{
	size_t len = strlen(s);
	int err = put_tag(o, f->id, WIRE_LENGTH);

	if (!err)
		err = put_varint(o, len);
	if (err)
		return err;
	if ((size_t)(o->end - o->at) < len)
		return -ENOSPC;
	memcpy(o->at, s, len);
	o->at += len;
	return 0;
}

/* A sub-message: its length goes in front, so it is packed one byte on and moved if longer. */
static int pack_sub(struct wire_out *o, const ProtobufCFieldDescriptor *f,
		    const ProtobufCMessage *sub, int depth)
{
	uint8_t *len_at, *body;
	size_t len, prefix;
	int err = put_tag(o, f->id, WIRE_LENGTH);

	if (err)
		return err;
	if (o->at == o->end)
		return -ENOSPC;
	len_at = o->at++;
	body = o->at;
	err = pack_message(o, sub, depth + 1);
	if (err)
		return err;
	len = (size_t)(o->at - body);
	if (len < 0x80) {
		*len_at = (uint8_t)len;
		return 0;
	}
	/* the body moves up by the length's extra bytes, then the length goes in front */
	prefix = varint_size(len);
	if ((size_t)(o->end - len_at) < prefix + len)
		return -ENOSPC;
	memmove(len_at + prefix, body, len);
	o->at = len_at;
	put_varint(o, len);
	o->at += len;
	return 0;
}

/* One field; @oneof: it is the oneof's chosen member (written even when zero). */
static int pack_field(struct wire_out *o, const ProtobufCMessage *m,
		      const ProtobufCFieldDescriptor *f, bool oneof, int depth)
{
	const void *member = (const uint8_t *)m + f->offset;
	const void *ptr;
	uint64_t v;
	int err;

	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		const size_t *n = (const void *)((const uint8_t *)m + f->quantifier_offset);

		return *n ? -ENOTSUP : 0;
	}
	if (f->label != PROTOBUF_C_LABEL_NONE)
		return -ENOTSUP;
	if (scalar_value(f, member, &v)) {
		if (!v && !oneof)
			return 0;
		err = put_tag(o, f->id, WIRE_VARINT);
		return err ? err : put_varint(o, v);
	}
	if (f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE)
		return -ENOTSUP;
	ptr = *(const void *const *)member;
	if (!ptr || (oneof && ptr == f->default_value))
		return 0;
	if (f->type == PROTOBUF_C_TYPE_MESSAGE)
		return pack_sub(o, f, ptr, depth);
	if (!oneof && !*(const char *)ptr)
		return 0;
	return pack_string(o, f, ptr);
}

/*
 * protobuf-c writes fields in field order; the plan visits the oneofs last, which gives the
 * same bytes only when no plain field has a higher number than a oneof member: checked.
 */
static int pack_message(struct wire_out *o, const ProtobufCMessage *m, int depth)
{
	struct wire_plan spare;
	const struct wire_plan *p = plan_of(m->descriptor, &spare);
	uint32_t last_plain = 0;
	int err;

	if (depth >= WIRE_DEPTH || m->n_unknown_fields || !p->covered)
		return -ENOTSUP;
	for (unsigned i = 0; i < p->n_plain; i++) {
		const ProtobufCFieldDescriptor *f = p->d->fields + p->plain[i];

		err = pack_field(o, m, f, false, depth);
		if (err)
			return err;
		last_plain = f->id;
	}
	for (unsigned k = 0; k < p->n_oneof; k++) {
		const ProtobufCFieldDescriptor *f = plan_chosen(p, m, k);

		if (!f)
			continue;
		if (f->id < last_plain || k)
			return -ENOTSUP;
		err = pack_field(o, m, f, true, depth);
		if (err)
			return err;
	}
	return 0;
}

ssize_t nsim_wire_pack(const ProtobufCMessage *msg, uint8_t *out, size_t cap)
{
	struct wire_out o = {.at = out, .end = out + cap};
	int err = pack_message(&o, msg, 0);

	return err ? err : o.at - out;
}

/* ------------------------------------------------------------------ decoding */

struct wire_in {
	const uint8_t *at;  /* next byte to read */
	const uint8_t *end; /* one past the message */
	ProtobufCAllocator *a;
};

/* A varint of at most @max bytes whose last byte adds no bit beyond 64. */
static int get_varint(struct wire_in *in, unsigned max, uint64_t *v)
{
	unsigned i;

	*v = 0;
	for (i = 0; i < max && in->at < in->end; i++) {
		uint8_t b = *in->at++;

		if (i == 9 && b > 1)
			return -ENOTSUP;
		*v |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80))
			return 0;
	}
	return -ENOTSUP;
}

static void *wire_alloc(ProtobufCAllocator *a, size_t size)
{
	return a->alloc(a->allocator_data, size);
}

static int get_length(struct wire_in *in, size_t *len)
{
	uint64_t v;

	if (get_varint(in, 5, &v) || v > (uint64_t)(in->end - in->at))
		return -ENOTSUP;
	*len = (size_t)v;
	return 0;
}

static int unpack_message(struct wire_in *in, const ProtobufCMessageDescriptor *d, int depth,
			  ProtobufCMessage **out);

static int unpack_scalar(struct wire_in *in, const ProtobufCFieldDescriptor *f, void *member)
{
	uint64_t v;

	if (get_varint(in, 10, &v))
		return -ENOTSUP;
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_ENUM:
	case PROTOBUF_C_TYPE_UINT32:
		*(uint32_t *)member = (uint32_t)v;
		return 0;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_UINT64:
		*(uint64_t *)member = v;
		return 0;
	case PROTOBUF_C_TYPE_BOOL:
		*(protobuf_c_boolean *)member = v != 0;
		return 0;
	default:
		return -ENOTSUP;
	}
}

static int unpack_string(struct wire_in *in, ProtobufCAllocator *a, char **member)
{
	size_t len;
	char *s;

	if (get_length(in, &len))
		return -ENOTSUP;
	s = wire_alloc(a, len + 1);
	if (!s)
		return -ENOMEM;
	memcpy(s, in->at, len);
	s[len] = '\0';
	in->at += len;
	*member = s;
	return 0;
}

static int unpack_sub(struct wire_in *in, const ProtobufCFieldDescriptor *f, int depth,
		      ProtobufCMessage **member)
{
	struct wire_in sub = {.at = in->at, .a = in->a};
	size_t len;

	if (get_length(in, &len))
		return -ENOTSUP;
	sub.at = in->at;
	sub.end = in->at + len;
	in->at += len;
	return unpack_message(&sub, f->descriptor, depth + 1, member);
}

/* One field whose tag has been read. */
static int unpack_field(struct wire_in *in, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
			unsigned wire_type, int depth)
{
	void *member = (uint8_t *)m + f->offset;
	unsigned want = f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE
				? WIRE_LENGTH
				: WIRE_VARINT;

	if (f->label != PROTOBUF_C_LABEL_NONE || wire_type != want)
		return -ENOTSUP;
	/* chosen first, so that free_unpacked() frees a member that fails half-way */
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
		*(uint32_t *)((uint8_t *)m + f->quantifier_offset) = f->id;
	if (f->type == PROTOBUF_C_TYPE_STRING)
		return unpack_string(in, in->a, member);
	if (f->type == PROTOBUF_C_TYPE_MESSAGE)
		return unpack_sub(in, f, depth, member);
	return unpack_scalar(in, f, member);
}

/*
 * The fields of one message; a field seen twice, or a second member of a oneof, is left to
 * protobuf-c (which merges or replaces). On error *@out is still a message that
 * protobuf_c_message_free_unpacked() frees.
 */
static int unpack_fields(struct wire_in *in, const struct wire_plan *p, ProtobufCMessage *m,
			 int depth)
{
	uint64_t seen = 0, tag;
	bool oneof_set = false;

	while (in->at < in->end) {
		const ProtobufCFieldDescriptor *f;
		unsigned bit;
		bool oneof;
		int err;

		if (get_varint(in, 5, &tag) || tag >> 32)
			return -ENOTSUP;
		f = plan_field(p, tag >> 3);
		if (!f)
			return -ENOTSUP;
		bit = (unsigned)(f - p->d->fields);
		oneof = f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF;
		if (seen >> bit & 1 || (oneof && oneof_set))
			return -ENOTSUP;
		seen |= 1ull << bit;
		oneof_set |= oneof;
		err = unpack_field(in, m, f, (unsigned)(tag & 7), depth);
		if (err)
			return err;
	}
	return 0;
}

static int unpack_message(struct wire_in *in, const ProtobufCMessageDescriptor *d, int depth,
			  ProtobufCMessage **out)
{
	struct wire_plan spare;
	const struct wire_plan *p;
	ProtobufCMessage *m;

	*out = NULL;
	if (depth >= WIRE_DEPTH)
		return -ENOTSUP;
	p = plan_of(d, &spare);
	if (!p->covered)
		return -ENOTSUP;
	m = wire_alloc(in->a, d->sizeof_message);
	if (!m)
		return -ENOMEM;
	d->message_init(m);
	*out = m;
	return unpack_fields(in, p, m, depth);
}

static void *malloc_alloc(void *data, size_t size)
{
	(void)data;
	return malloc(size);
}

static void malloc_free(void *data, void *p)
{
	(void)data;
	free(p);
}

/* What protobuf-c uses for a NULL allocator, so that its free_unpacked() frees ours. */
static ProtobufCAllocator wire_malloc = {.alloc = malloc_alloc, .free = malloc_free};

ProtobufCMessage *nsim_wire_unpack(const ProtobufCMessageDescriptor *d, ProtobufCAllocator *a,
				   size_t len, const uint8_t *data)
{
	struct wire_in in = {.at = data, .end = data + len, .a = a ? a : &wire_malloc};
	ProtobufCMessage *m;

	if (!unpack_message(&in, d, 0, &m)) {
		wire_fast++;
		return m;
	}
	wire_handed++;
	protobuf_c_message_free_unpacked(m, a);
	return protobuf_c_message_unpack(d, a, len, data);
}

/* ------------------------------------------------------------------ freeing */

/* Parts only the walk below frees: no elements of repeated fields, no bytes, no unknowns. */
static bool freeable(const struct wire_plan *p, const ProtobufCMessage *m)
{
	if (!p->covered || m->n_unknown_fields)
		return false;
	for (unsigned i = 0; i < p->n_plain; i++) {
		const ProtobufCFieldDescriptor *f = p->d->fields + p->plain[i];

		if (f->type == PROTOBUF_C_TYPE_BYTES ||
		    (f->label == PROTOBUF_C_LABEL_REPEATED &&
		     *(const size_t *)((const uint8_t *)m + f->quantifier_offset)))
			return false;
	}
	for (unsigned k = 0; k < p->n_oneof; k++) {
		const ProtobufCFieldDescriptor *f = plan_chosen(p, m, k);

		if (f && f->type == PROTOBUF_C_TYPE_BYTES)
			return false;
	}
	return true;
}

static void free_member(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
			ProtobufCAllocator *a)
{
	void *ptr;

	if (f->label == PROTOBUF_C_LABEL_REPEATED ||
	    (f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE))
		return;
	ptr = *(void **)((uint8_t *)m + f->offset);
	if (!ptr || ptr == f->default_value)
		return;
	if (f->type == PROTOBUF_C_TYPE_MESSAGE)
		nsim_wire_free(ptr, a);
	else
		a->free(a->allocator_data, ptr);
}

void nsim_wire_free(ProtobufCMessage *m, ProtobufCAllocator *a)
{
	struct wire_plan spare;
	const struct wire_plan *p;

	if (!m)
		return;
	p = plan_of(m->descriptor, &spare);
	if (!freeable(p, m)) {
		protobuf_c_message_free_unpacked(m, a);
		return;
	}
	if (!a)
		a = &wire_malloc;
	for (unsigned i = 0; i < p->n_plain; i++)
		free_member(m, p->d->fields + p->plain[i], a);
	for (unsigned k = 0; k < p->n_oneof; k++) {
		const ProtobufCFieldDescriptor *f = plan_chosen(p, m, k);

		if (f)
			free_member(m, f, a);
	}
	a->free(a->allocator_data, m);
}

void nsim_wire_counts(uint64_t *fast, uint64_t *handed)
{
	*fast = wire_fast;
	*handed = wire_handed;
}
