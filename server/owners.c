// SPDX-License-Identifier: MIT
/*
 * owners.c - client identities and the ownership of blocks and objects (see owners.h).
 *
 * Records are packed into the map's 64-bit values: owner in bits 0-31, order in bits
 * 32-39, node in bits 40-47. Identities are few (one per client name), so they are looked
 * up by a linear scan.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmzone.h"
#include "nsim.h"
#include "owners.h"

void coord_owners_init(struct coord_owners *o)
{
	memset(o, 0, sizeof(*o));
	for (int k = 0; k < NR_OWNED; k++)
		coord_map_init(&o->owned[k]);
}

void coord_owners_release(struct coord_owners *o)
{
	for (int k = 0; k < NR_OWNED; k++)
		coord_map_release(&o->owned[k]);
	for (uint32_t i = 0; i < o->nr_names; i++)
		free(o->names[i]);
	free(o->names);
	free(o->il_prev);
	memset(o, 0, sizeof(*o));
}

uint32_t coord_identity(struct coord_owners *o, const char *name)
{
	for (uint32_t i = 0; i < o->nr_names; i++)
		if (!strcmp(o->names[i], name))
			return i + 1;
	if (o->nr_names == o->cap_names) {
		o->cap_names = o->cap_names ? o->cap_names * 2 : 16;
		o->names = xrealloc(o->names, o->cap_names * sizeof(*o->names));
		o->il_prev = xrealloc(o->il_prev, o->cap_names * sizeof(*o->il_prev));
	}
	o->il_prev[o->nr_names] = MAX_NUMNODES - 1;
	o->names[o->nr_names++] = xstrdup(name);
	return o->nr_names;
}

int *coord_identity_il_prev(struct coord_owners *o, uint32_t id)
{
	return id >= 1 && id <= o->nr_names ? &o->il_prev[id - 1] : NULL;
}

const char *coord_identity_name(const struct coord_owners *o, uint32_t id)
{
	return id >= 1 && id <= o->nr_names ? o->names[id - 1] : "?";
}

static uint64_t pack(const struct coord_owner_rec *rec)
{
	return (uint64_t)rec->owner | (uint64_t)(rec->order & 0xff) << 32 |
	       (uint64_t)(rec->node & 0xff) << 40;
}

static void unpack(uint64_t v, struct coord_owner_rec *rec)
{
	rec->owner = (uint32_t)v;
	rec->order = (unsigned int)(v >> 32) & 0xff;
	rec->node = (int)(v >> 40) & 0xff;
}

void coord_owner_set(struct coord_owners *o, enum coord_owned kind, uint64_t key,
		     const struct coord_owner_rec *rec)
{
	coord_map_put(&o->owned[kind], key, pack(rec));
}

size_t coord_owner_collect(const struct coord_owners *o, enum coord_owned kind, int node,
			   uint64_t **keys, struct coord_owner_rec **recs)
{
	size_t iter = 0, n = 0, cap = 0;
	uint64_t key, v;

	*keys = NULL;
	*recs = NULL;
	while (coord_map_next(&o->owned[kind], &iter, &key, &v)) {
		struct coord_owner_rec rec;

		unpack(v, &rec);
		if (rec.node != node)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			*keys = xrealloc(*keys, cap * sizeof(**keys));
			*recs = xrealloc(*recs, cap * sizeof(**recs));
		}
		(*keys)[n] = key;
		(*recs)[n++] = rec;
	}
	return n;
}

bool coord_owner_get(const struct coord_owners *o, enum coord_owned kind, uint64_t key,
		     struct coord_owner_rec *rec)
{
	uint64_t v;

	if (!coord_map_get(&o->owned[kind], key, &v))
		return false;
	if (rec)
		unpack(v, rec);
	return true;
}

bool coord_owner_del(struct coord_owners *o, enum coord_owned kind, uint64_t key)
{
	return coord_map_del(&o->owned[kind], key, NULL);
}

int coord_owner_check(const struct coord_owners *o, enum coord_owned kind, uint64_t key,
		      uint32_t who, bool admin, char *err, size_t len)
{
	struct coord_owner_rec rec;

	if (admin || !coord_owner_get(o, kind, key, &rec) || rec.owner == who)
		return 0;
	if (kind == OWNED_PAGES)
		snprintf(err, len, "pfn %llu belongs to client %s", (unsigned long long)key,
			 coord_identity_name(o, rec.owner));
	else
		snprintf(err, len, "object %#llx belongs to client %s", (unsigned long long)key,
			 coord_identity_name(o, rec.owner));
	return -EPERM;
}
