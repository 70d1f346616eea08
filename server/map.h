/* SPDX-License-Identifier: MIT */
/*
 * map.h - a hash map from 64-bit keys to 64-bit values, for the coordinator's tables
 * (ownership of blocks and objects, pending operations of a node link).
 *
 * Design: open addressing with linear probing in a power-of-two table; removal shifts the
 * following entries back, so there are no tombstones and a lookup stops at the first empty
 * slot. The table doubles when it would become more than half full.
 *
 * Invariants: count == used slots; count * 2 <= cap (cap 0 or a power of two); every key
 * is reachable from its home slot without crossing an empty slot.
 */
#ifndef NUMASIM_SERVER_MAP_H
#define NUMASIM_SERVER_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct coord_map_slot {
	uint64_t key; /* the key */
	uint64_t val; /* its value */
	bool used;    /* the slot holds an entry */
};

struct coord_map {
	struct coord_map_slot *slots; /* cap slots */
	size_t cap;		      /* 0 or a power of two */
	size_t count;		      /* entries */
};

void coord_map_init(struct coord_map *map);
void coord_map_release(struct coord_map *map);

/* coord_map_put - insert or replace. */
void coord_map_put(struct coord_map *map, uint64_t key, uint64_t val);

/* coord_map_get - true with *@val (may be NULL) when @key is present. */
bool coord_map_get(const struct coord_map *map, uint64_t key, uint64_t *val);

/* coord_map_del - remove @key; true with its value in *@val (may be NULL) if it was present. */
bool coord_map_del(struct coord_map *map, uint64_t key, uint64_t *val);

/*
 * coord_map_next - iterate: start with *@iter = 0; true with the next entry. The map must
 * not change during an iteration.
 */
bool coord_map_next(const struct coord_map *map, size_t *iter, uint64_t *key, uint64_t *val);

#endif
