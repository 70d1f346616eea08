// SPDX-License-Identifier: MIT
/*
 * map.c - open-addressing hash map, 64-bit keys and values (see map.h for the design and
 * its invariants).
 */
#include <stdlib.h>
#include <string.h>

#include "map.h"
#include "nsim.h"

#define MAP_MIN_CAP 16

static size_t home_slot(const struct coord_map *map, uint64_t key)
{
	/* Fibonacci hashing: pfns and addresses are dense, the multiplier spreads them */
	return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 17) & (map->cap - 1);
}

void coord_map_init(struct coord_map *map)
{
	memset(map, 0, sizeof(*map));
}

void coord_map_release(struct coord_map *map)
{
	free(map->slots);
	coord_map_init(map);
}

static size_t find_slot(const struct coord_map *map, uint64_t key)
{
	size_t i = home_slot(map, key);

	while (map->slots[i].used && map->slots[i].key != key)
		i = (i + 1) & (map->cap - 1);
	return i;
}

static void grow(struct coord_map *map)
{
	struct coord_map_slot *old = map->slots;
	size_t old_cap = map->cap;

	map->cap = old_cap ? old_cap * 2 : MAP_MIN_CAP;
	map->slots = xcalloc(map->cap, sizeof(*map->slots));
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].used)
			map->slots[find_slot(map, old[i].key)] = old[i];
	free(old);
}

void coord_map_put(struct coord_map *map, uint64_t key, uint64_t val)
{
	size_t i;

	if ((map->count + 1) * 2 > map->cap)
		grow(map);
	i = find_slot(map, key);
	if (!map->slots[i].used) {
		map->slots[i].used = true;
		map->slots[i].key = key;
		map->count++;
	}
	map->slots[i].val = val;
}

bool coord_map_get(const struct coord_map *map, uint64_t key, uint64_t *val)
{
	size_t i;

	if (!map->count)
		return false;
	i = find_slot(map, key);
	if (!map->slots[i].used)
		return false;
	if (val)
		*val = map->slots[i].val;
	return true;
}

/* Is @home cyclically in (@hole, @i]? Then the entry at @i may not move back to @hole. */
static bool stays(size_t hole, size_t home, size_t i)
{
	return hole <= i ? (hole < home && home <= i) : (hole < home || home <= i);
}

bool coord_map_del(struct coord_map *map, uint64_t key, uint64_t *val)
{
	size_t hole, i, mask = map->cap - 1;

	if (!map->count)
		return false;
	hole = find_slot(map, key);
	if (!map->slots[hole].used)
		return false;
	if (val)
		*val = map->slots[hole].val;
	for (i = (hole + 1) & mask; map->slots[i].used; i = (i + 1) & mask) {
		if (stays(hole, home_slot(map, map->slots[i].key), i))
			continue;
		map->slots[hole] = map->slots[i];
		hole = i;
	}
	map->slots[hole].used = false;
	map->count--;
	return true;
}

bool coord_map_next(const struct coord_map *map, size_t *iter, uint64_t *key, uint64_t *val)
{
	for (; *iter < map->cap; (*iter)++) {
		const struct coord_map_slot *s = &map->slots[*iter];

		if (!s->used)
			continue;
		(*iter)++;
		if (key)
			*key = s->key;
		if (val)
			*val = s->val;
		return true;
	}
	return false;
}
