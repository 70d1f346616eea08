// SPDX-License-Identifier: MIT
/*
 * test_coord_owners.c - the coordinator's tables (server/map.c, server/owners.c): the hash
 * map against a plain array as reference, identities, and who may free what.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "map.h"
#include "owners.h"
#include "unit.h"

#define KEYS 5000

/* Random puts and deletes of dense keys (as pfns are) checked against an array. */
static void test_map_reference(void)
{
	static uint64_t ref[KEYS]; /* 0 = absent, else value */
	struct coord_map map;
	unsigned int seed = 12345;
	size_t count = 0, iter = 0, seen = 0;
	uint64_t key, val;

	coord_map_init(&map);
	memset(ref, 0, sizeof(ref));
	for (int i = 0; i < 200000; i++) {
		uint64_t k = (uint64_t)(rand_r(&seed) % KEYS);

		if (rand_r(&seed) % 3) {
			count += !ref[k];
			ref[k] = (uint64_t)i + 1;
			coord_map_put(&map, k, ref[k]);
		} else {
			CU_ASSERT_EQUAL(coord_map_del(&map, k, &val), ref[k] != 0);
			if (ref[k])
				CU_ASSERT_EQUAL(val, ref[k]);
			count -= ref[k] != 0;
			ref[k] = 0;
		}
	}
	CU_ASSERT_EQUAL(map.count, count);
	for (uint64_t k = 0; k < KEYS; k++) {
		bool present = coord_map_get(&map, k, &val);

		CU_ASSERT_EQUAL(present, ref[k] != 0);
		if (present)
			CU_ASSERT_EQUAL(val, ref[k]);
	}
	while (coord_map_next(&map, &iter, &key, &val)) {
		CU_ASSERT(key < KEYS && ref[key] == val);
		seen++;
	}
	CU_ASSERT_EQUAL(seen, count);
	coord_map_release(&map);
	CU_ASSERT_FALSE(coord_map_get(&map, 1, NULL));
}

static void test_identities(void)
{
	struct coord_owners o;

	coord_owners_init(&o);
	CU_ASSERT_EQUAL(coord_identity(&o, COORD_ANONYMOUS), 1);
	CU_ASSERT_EQUAL(coord_identity(&o, "alice"), 2);
	CU_ASSERT_EQUAL(coord_identity(&o, COORD_ANONYMOUS), 1);
	CU_ASSERT_STRING_EQUAL(coord_identity_name(&o, 2), "alice");
	CU_ASSERT_STRING_EQUAL(coord_identity_name(&o, 0), "?");
	CU_ASSERT_STRING_EQUAL(coord_identity_name(&o, 3), "?");
	coord_owners_release(&o);
}

static void test_owner_check(void)
{
	struct coord_owners o;
	uint32_t alice, bob;
	struct coord_owner_rec rec, got;
	char err[128] = "";

	coord_owners_init(&o);
	alice = coord_identity(&o, "alice");
	bob = coord_identity(&o, "bob");
	rec = (struct coord_owner_rec){alice, 3, 10};
	coord_owner_set(&o, OWNED_PAGES, 4660, &rec);
	CU_ASSERT_TRUE(coord_owner_get(&o, OWNED_PAGES, 4660, &got));
	CU_ASSERT(got.owner == alice && got.node == 3 && got.order == 10);
	CU_ASSERT_FALSE(coord_owner_get(&o, OWNED_OBJECTS, 4660, NULL)); /* separate tables */
	CU_ASSERT_EQUAL(coord_owner_check(&o, OWNED_PAGES, 4660, alice, false, err, sizeof(err)),
			0);
	CU_ASSERT_EQUAL(coord_owner_check(&o, OWNED_PAGES, 4660, bob, true, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(coord_owner_check(&o, OWNED_PAGES, 4661, bob, false, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(coord_owner_check(&o, OWNED_PAGES, 4660, bob, false, err, sizeof(err)),
			-EPERM);
	CU_ASSERT_STRING_EQUAL(err, "pfn 4660 belongs to client alice");
	rec.owner = bob;
	coord_owner_set(&o, OWNED_OBJECTS, 0xc1234560, &rec);
	CU_ASSERT_EQUAL(
		coord_owner_check(&o, OWNED_OBJECTS, 0xc1234560, alice, false, err, sizeof(err)),
		-EPERM);
	CU_ASSERT_STRING_EQUAL(err, "object 0xc1234560 belongs to client bob");
	CU_ASSERT_TRUE(coord_owner_del(&o, OWNED_PAGES, 4660));
	CU_ASSERT_FALSE(coord_owner_del(&o, OWNED_PAGES, 4660));
	coord_owners_release(&o);
}

static CU_TestInfo tests[] = {
	{"map against a reference", test_map_reference},
	{"identities", test_identities},
	{"owner check", test_owner_check},
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("coord_owners", NULL, NULL, tests);
