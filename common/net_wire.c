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
 * Each message type gets a plan the first time a thread meets it, kept in a table of that
 * thread's (no locks): its fields compiled (kind, offset, encoded tag), those outside oneofs
 * in field order, and each oneof reached through its case member. nsim_wire_free() walks the
 * same plans and visits only the fields that are set; nsim_wire_copy() packs and unpacks.
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
#define WIRE_SCALAR_MAX 15 /* bytes of a tag (<= 5) and a varint (<= 10) */

/* How a field is encoded; WK_OTHER leaves its whole message to protobuf-c. */
enum wire_kind {
	WK_INT32,   /* int32, enum: a sign-extended varint */
	WK_UINT32,  /* uint32 */
	WK_UINT64,  /* int64, uint64 */
	WK_BOOL,    /* bool */
	WK_STRING,  /* string */
	WK_MESSAGE, /* a sub-message */
	WK_EMPTY,   /* repeated: covered while it has no element */
	WK_OTHER,   /* bytes, fixed-width, zigzag, proto2 labels */
};

/* A field compiled from its descriptor: what the walk needs, in one cache line. */
struct wire_field {
	const ProtobufCFieldDescriptor *f; /* the descriptor (default, sub-message type) */
	uint32_t id;			   /* the field number */
	uint32_t offset;		   /* of the member */
	uint32_t qoffset;		   /* of the element count (WK_EMPTY) or the oneof case */
	uint8_t index;			   /* in the plan's fields[] */
	bool oneof;			   /* a member of a oneof */
	uint8_t kind;			   /* enum wire_kind */
	uint8_t wire_type;		   /* expected on the wire (0xff: never taken) */
	uint8_t tag_len;		   /* bytes of tag[] */
	uint8_t tag[5];			   /* the encoded tag */
};

/*
 * A message type as the walk visits it: the fields outside any oneof in field order, then
 * each oneof by the offset of its case member (the chosen field is looked up by its number).
 * An envelope's 22 oneof members cost one lookup instead of 22 checks.
 */
struct wire_plan {
	const ProtobufCMessageDescriptor *d; /* the message type */
	unsigned n_plain;		     /* fields outside oneofs */
	unsigned n_oneof;		     /* oneofs */
	bool covered;		    /* every field has a kind, <= WIRE_FIELDS, <= WIRE_ONEOFS */
	uint8_t plain[WIRE_FIELDS]; /* their indices in fields[] */
	uint32_t oneof_case[WIRE_ONEOFS];      /* offsets of the oneofs' case members */
	uint8_t by_id[WIRE_IDS];	       /* field number -> index + 1 (0: none) */
	struct wire_field fields[WIRE_FIELDS]; /* compiled, in d->fields order */
};

/* This thread's plans, open-addressed by descriptor address (d == NULL: a free slot). */
static _Thread_local struct wire_plan wire_plans[WIRE_PLANS];
static _Thread_local unsigned wire_nr_plans;

static enum wire_kind field_kind(const ProtobufCFieldDescriptor *f)
{
	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		return WK_EMPTY;
	if (f->label != PROTOBUF_C_LABEL_NONE)
		return WK_OTHER;
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_ENUM:
		return WK_INT32;
	case PROTOBUF_C_TYPE_UINT32:
		return WK_UINT32;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_UINT64:
		return WK_UINT64;
	case PROTOBUF_C_TYPE_BOOL:
		return WK_BOOL;
	case PROTOBUF_C_TYPE_STRING:
		return WK_STRING;
	case PROTOBUF_C_TYPE_MESSAGE:
		return WK_MESSAGE;
	default:
		return WK_OTHER;
	}
}

static void field_compile(struct wire_field *wf, const ProtobufCFieldDescriptor *f, unsigned index)
{
	uint64_t tag;

	wf->f = f;
	wf->id = f->id;
	wf->offset = f->offset;
	wf->qoffset = f->quantifier_offset;
	wf->index = (uint8_t)index;
	wf->oneof = f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF;
	wf->kind = (uint8_t)field_kind(f);
	wf->wire_type = wf->kind == WK_STRING || wf->kind == WK_MESSAGE ? WIRE_LENGTH
			: wf->kind <= WK_BOOL				? WIRE_VARINT
									: 0xff;
	tag = (uint64_t)f->id << 3 | (wf->wire_type == 0xff ? 0 : wf->wire_type);
	wf->tag_len = 0;
	do {
		wf->tag[wf->tag_len++] = (uint8_t)(tag | (tag >= 0x80 ? 0x80 : 0));
		tag >>= 7;
	} while (tag && wf->tag_len < sizeof(wf->tag));
}

static void plan_build(struct wire_plan *p, const ProtobufCMessageDescriptor *d)
{
	p->d = d;
	p->n_plain = p->n_oneof = 0;
	p->covered = d->n_fields <= WIRE_FIELDS;
	memset(p->by_id, 0, sizeof(p->by_id));
	for (unsigned i = 0; i < d->n_fields && p->covered; i++) {
		const ProtobufCFieldDescriptor *f = d->fields + i;
		unsigned k = 0;

		field_compile(&p->fields[i], f, i);
		if (p->fields[i].kind == WK_OTHER)
			p->covered = false;
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

/* @d's plan, from this thread's table (built into @spare when the table is full). */
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
static const struct wire_field *plan_field(const struct wire_plan *p, uint64_t id)
{
	const ProtobufCFieldDescriptor *f;

	if (id < WIRE_IDS)
		return p->by_id[id] ? &p->fields[p->by_id[id] - 1] : NULL;
	f = id >> 32 ? NULL : protobuf_c_message_descriptor_get_field(p->d, (unsigned)id);
	return f ? &p->fields[f - p->d->fields] : NULL;
}

/* The field oneof @k of @m has chosen, or NULL. */
static const struct wire_field *plan_chosen(const struct wire_plan *p, const ProtobufCMessage *m,
					    unsigned k)
{
	uint32_t id = *(const uint32_t *)((const uint8_t *)m + p->oneof_case[k]);

	return id ? plan_field(p, id) : NULL;
}

/* ------------------------------------------------------------------ encoding */

struct wire_out {
	uint8_t *at;  /* next byte to write */
	uint8_t *end; /* one past the room */
};

/* Room for the bytes is the caller's check. */
static void put_varint(struct wire_out *o, uint64_t v)
{
	while (v >= 0x80) {
		*o->at++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*o->at++ = (uint8_t)v;
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

static bool has_room(const struct wire_out *o, size_t n)
{
	return (size_t)(o->end - o->at) >= n;
}

static void put_tag(struct wire_out *o, const struct wire_field *wf)
{
	memcpy(o->at, wf->tag, sizeof(wf->tag)); /* room for a whole tag is checked */
	o->at += wf->tag_len;
}

static int pack_message(struct wire_out *o, const ProtobufCMessage *m, int depth);

/* A string, as protobuf-c writes it: a oneof's even when empty, a plain one only when not. */
static int pack_string(struct wire_out *o, const struct wire_field *wf, const char *s, bool oneof)
{
	size_t len;

	if (!s || (oneof && s == wf->f->default_value) || (!oneof && !*s))
		return 0;
	len = strlen(s);
	if (!has_room(o, WIRE_SCALAR_MAX + len))
		return -ENOSPC;
	put_tag(o, wf);
	put_varint(o, len);
	memcpy(o->at, s, len);
	o->at += len;
	return 0;
}

/* A sub-message: its length goes in front, so it is packed one byte on and moved if longer. */
static int pack_sub(struct wire_out *o, const struct wire_field *wf, const ProtobufCMessage *sub,
		    int depth)
{
	uint8_t *len_at, *body;
	size_t len, prefix;
	int err;

	if (!sub)
		return 0;
	if (!has_room(o, WIRE_SCALAR_MAX))
		return -ENOSPC;
	put_tag(o, wf);
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
static int pack_field(struct wire_out *o, const ProtobufCMessage *m, const struct wire_field *wf,
		      bool oneof, int depth)
{
	const uint8_t *member = (const uint8_t *)m + wf->offset;
	uint64_t v;

	switch (wf->kind) {
	case WK_INT32:
		v = (uint64_t)(int64_t) * (const int32_t *)member;
		break;
	case WK_UINT32:
		v = *(const uint32_t *)member;
		break;
	case WK_UINT64:
		v = *(const uint64_t *)member;
		break;
	case WK_BOOL:
		v = *(const protobuf_c_boolean *)member != 0;
		break;
	case WK_STRING:
		return pack_string(o, wf, *(const char *const *)member, oneof);
	case WK_MESSAGE:
		return pack_sub(o, wf, *(const ProtobufCMessage *const *)member, depth);
	case WK_EMPTY:
		return *(const size_t *)((const uint8_t *)m + wf->qoffset) ? -ENOTSUP : 0;
	default:
		return -ENOTSUP;
	}
	if (!v && !oneof)
		return 0;
	if (!has_room(o, WIRE_SCALAR_MAX))
		return -ENOSPC;
	put_tag(o, wf);
	put_varint(o, v);
	return 0;
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
		const struct wire_field *wf = &p->fields[p->plain[i]];

		err = pack_field(o, m, wf, false, depth);
		if (err)
			return err;
		last_plain = wf->id;
	}
	for (unsigned k = 0; k < p->n_oneof; k++) {
		const struct wire_field *wf = plan_chosen(p, m, k);

		if (!wf)
			continue;
		if (wf->id < last_plain || k)
			return -ENOTSUP;
		err = pack_field(o, m, wf, true, depth);
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

	if (in->at < in->end && *in->at < 0x80) {
		*v = *in->at++;
		return 0;
	}
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

static int unpack_string(struct wire_in *in, char **member)
{
	size_t len;
	char *s;

	if (get_length(in, &len))
		return -ENOTSUP;
	s = wire_alloc(in->a, len + 1);
	if (!s)
		return -ENOMEM;
	memcpy(s, in->at, len);
	s[len] = '\0';
	in->at += len;
	*member = s;
	return 0;
}

static int unpack_sub(struct wire_in *in, const struct wire_field *wf, int depth,
		      ProtobufCMessage **member)
{
	struct wire_in sub = {.a = in->a};
	size_t len;

	if (get_length(in, &len))
		return -ENOTSUP;
	sub.at = in->at;
	sub.end = in->at + len;
	in->at += len;
	return unpack_message(&sub, wf->f->descriptor, depth + 1, member);
}

/* One field whose tag has been read, as protobuf-c stores it (integers truncated). */
static int unpack_field(struct wire_in *in, ProtobufCMessage *m, const struct wire_field *wf,
			unsigned wire_type, int depth)
{
	uint8_t *member = (uint8_t *)m + wf->offset;
	uint64_t v;

	if (wire_type != wf->wire_type)
		return -ENOTSUP;
	/* chosen first, so that free_unpacked() frees a member that fails half-way */
	if (wf->oneof)
		*(uint32_t *)((uint8_t *)m + wf->qoffset) = wf->id;
	if (wf->kind == WK_STRING)
		return unpack_string(in, (char **)member);
	if (wf->kind == WK_MESSAGE)
		return unpack_sub(in, wf, depth, (ProtobufCMessage **)member);
	if (get_varint(in, 10, &v))
		return -ENOTSUP;
	if (wf->kind == WK_UINT64)
		*(uint64_t *)member = v;
	else if (wf->kind == WK_BOOL)
		*(protobuf_c_boolean *)member = v != 0;
	else
		*(uint32_t *)member = (uint32_t)v;
	return 0;
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
		const struct wire_field *wf;
		unsigned bit;
		bool oneof;
		int err;

		if (get_varint(in, 5, &tag) || tag >> 32)
			return -ENOTSUP;
		wf = plan_field(p, tag >> 3);
		if (!wf)
			return -ENOTSUP;
		bit = wf->index;
		oneof = wf->oneof;
		if (seen >> bit & 1 || (oneof && oneof_set))
			return -ENOTSUP;
		seen |= 1ull << bit;
		oneof_set |= oneof;
		err = unpack_field(in, m, wf, (unsigned)(tag & 7), depth);
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

/* Parts only the walk below frees: every kind known, no repeated elements, no unknowns. */
static bool freeable(const struct wire_plan *p, const ProtobufCMessage *m)
{
	if (!p->covered || m->n_unknown_fields)
		return false;
	for (unsigned i = 0; i < p->n_plain; i++) {
		const struct wire_field *wf = &p->fields[p->plain[i]];

		if (wf->kind == WK_EMPTY && *(const size_t *)((const uint8_t *)m + wf->qoffset))
			return false;
	}
	return true;
}

static void free_member(ProtobufCMessage *m, const struct wire_field *wf, ProtobufCAllocator *a)
{
	void *ptr;

	if (wf->kind != WK_STRING && wf->kind != WK_MESSAGE)
		return;
	ptr = *(void **)((uint8_t *)m + wf->offset);
	if (!ptr || ptr == wf->f->default_value)
		return;
	if (wf->kind == WK_MESSAGE)
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
		free_member(m, &p->fields[p->plain[i]], a);
	for (unsigned k = 0; k < p->n_oneof; k++) {
		const struct wire_field *wf = plan_chosen(p, m, k);

		if (wf)
			free_member(m, wf, a);
	}
	a->free(a->allocator_data, m);
}

ProtobufCMessage *nsim_wire_copy(const ProtobufCMessage *msg)
{
	size_t len;
	uint8_t *frame = nsim_frame_encode(msg, &len);
	ProtobufCMessage *copy = nsim_wire_unpack(msg->descriptor, NULL, len - NSIM_FRAME_PREFIX,
						  frame + NSIM_FRAME_PREFIX);

	free(frame);
	if (!copy)
		abort(); /* what was just packed decodes */
	return copy;
}

void nsim_wire_counts(uint64_t *fast, uint64_t *handed)
{
	*fast = wire_fast;
	*handed = wire_handed;
}
