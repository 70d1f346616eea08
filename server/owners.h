/* SPDX-License-Identifier: MIT */
/*
 * owners.h - who owns what: the client identities the coordinator has seen, and the owner
 * of every page block (by first pfn) and slab object (by kernel virtual address) it handed
 * out.
 *
 * Allocations belong to an identity, not to a connection: they outlive the client's
 * connection, and only their owner or an administrator may free them. An identity is a
 * small number (1, 2, ...) so that node daemons can record it in struct page; 0 is never
 * given out (it means the kernel itself on the nodes).
 *
 * Invariants: identity ids are 1 .. nr_names, names unique; a block or object is recorded
 * from the allocation's answer until the free that the node accepted.
 */
#ifndef NUMASIM_SERVER_OWNERS_H
#define NUMASIM_SERVER_OWNERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "map.h"

#define COORD_ANONYMOUS "anonymous" /* identity of clients that never said hello */

enum coord_owned {
	OWNED_PAGES,   /* keyed by the first pfn of a block */
	OWNED_OBJECTS, /* keyed by the kernel virtual address of an object */
	NR_OWNED
};

struct coord_owner_rec {
	uint32_t owner;	    /* identity id */
	int node;	    /* node that holds it */
	unsigned int order; /* block order (pages) */
};

struct coord_owners {
	struct coord_map owned[NR_OWNED]; /* key -> packed struct coord_owner_rec */
	char **names;			  /* identity names; id = index + 1 */
	int *il_prev;			  /* per identity: interleave cursor (a task's il_prev) */
	uint32_t nr_names;		  /* identities seen */
	uint32_t cap_names;		  /* names allocated */
};

void coord_owners_init(struct coord_owners *o);
void coord_owners_release(struct coord_owners *o);

/* coord_identity - the id of identity @name, made up on first use. */
uint32_t coord_identity(struct coord_owners *o, const char *name);

/* coord_identity_il_prev - the interleave cursor of identity @id (NULL if unknown). */
int *coord_identity_il_prev(struct coord_owners *o, uint32_t id);

/* coord_identity_name - the name of id @id ("?" if unknown). */
const char *coord_identity_name(const struct coord_owners *o, uint32_t id);

void coord_owner_set(struct coord_owners *o, enum coord_owned kind, uint64_t key,
		     const struct coord_owner_rec *rec);
bool coord_owner_get(const struct coord_owners *o, enum coord_owned kind, uint64_t key,
		     struct coord_owner_rec *rec);
bool coord_owner_del(struct coord_owners *o, enum coord_owned kind, uint64_t key);

/* coord_owner_collect - every record of @kind on @node: new arrays (free them), count. */
size_t coord_owner_collect(const struct coord_owners *o, enum coord_owned kind, int node,
			   uint64_t **keys, struct coord_owner_rec **recs);

/*
 * coord_owner_check - may identity @who free @key? 0 when it is unrecorded, @who's, or @who
 * is an administrator; -EPERM with "pfn 4660 belongs to client alice" (or "object
 * 0xc1234560 belongs to ...") in @err otherwise.
 */
int coord_owner_check(const struct coord_owners *o, enum coord_owned kind, uint64_t key,
		      uint32_t who, bool admin, char *err, size_t len);

#endif
