// SPDX-License-Identifier: MIT
/*
 * test_bench_frag.c - the fragmentation figures of the bench summary (client/bench/frag.c):
 * mm/vmstat.c's unusable free space index and fragmentation index against values worked
 * out by hand from the kernel's integer formulas, their "%d.%03d" form, and the JSON reader
 * (client/bench/json.c) on the views' --json output.
 */
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "unit.h"

static void test_nothing_free(void)
{
	uint64_t nr_free[BENCH_NR_ORDERS] = {0};

	for (unsigned int o = 0; o < BENCH_NR_ORDERS; o++) {
		CU_ASSERT_EQUAL(bench_unusable_index(nr_free, o), 1000);
		CU_ASSERT_EQUAL(bench_extfrag_index(nr_free, o), 0);
	}
}

static void test_one_big_block(void)
{
	uint64_t nr_free[BENCH_NR_ORDERS] = {[10] = 1};

	for (unsigned int o = 0; o < BENCH_NR_ORDERS; o++) {
		CU_ASSERT_EQUAL(bench_unusable_index(nr_free, o), 0);
		CU_ASSERT_EQUAL(bench_extfrag_index(nr_free, o), -1000);
	}
}

/* 100 lone pages: every order above 0 fails for fragmentation. */
static void test_order0_only(void)
{
	uint64_t nr_free[BENCH_NR_ORDERS] = {[0] = 100};

	CU_ASSERT_EQUAL(bench_unusable_index(nr_free, 0), 0);
	CU_ASSERT_EQUAL(bench_extfrag_index(nr_free, 0), -1000);
	for (unsigned int o = 1; o < BENCH_NR_ORDERS; o++)
		CU_ASSERT_EQUAL(bench_unusable_index(nr_free, o), 1000);
	/* 1000 - (1000 + 100 * 1000 / 2^o) / 100 */
	CU_ASSERT_EQUAL(bench_extfrag_index(nr_free, 1), 490);
	CU_ASSERT_EQUAL(bench_extfrag_index(nr_free, 3), 865);
	CU_ASSERT_EQUAL(bench_extfrag_index(nr_free, 10), 990);
}

static void test_mixed(void)
{
	/* 2 x order 0, 1 x order 1, 1 x order 3: 12 pages in 4 blocks */
	uint64_t nr_free[BENCH_NR_ORDERS] = {[0] = 2, [1] = 1, [3] = 1};

	CU_ASSERT_EQUAL(bench_unusable_index(nr_free, 0), 0);
	CU_ASSERT_EQUAL(bench_unusable_index(nr_free, 1), 166); /* (12 - 5*2) / 12 */
	CU_ASSERT_EQUAL(bench_unusable_index(nr_free, 2), 333); /* (12 - 2*4) / 12 */
	CU_ASSERT_EQUAL(bench_unusable_index(nr_free, 3), 333); /* (12 - 1*8) / 12 */
	CU_ASSERT_EQUAL(bench_unusable_index(nr_free, 4), 1000);
	CU_ASSERT_EQUAL(bench_extfrag_index(nr_free, 3), -1000);
	CU_ASSERT_EQUAL(bench_extfrag_index(nr_free, 4), 563);	/* 1000 - (1000 + 750) / 4 */
	CU_ASSERT_EQUAL(bench_extfrag_index(nr_free, 10), 748); /* 1000 - (1000 + 11) / 4 */
}

/* The kernel's formula goes below 0 when blocks are few and small; so does ours. */
static void test_negative(void)
{
	uint64_t nr_free[BENCH_NR_ORDERS] = {[0] = 1};

	CU_ASSERT_EQUAL(bench_extfrag_index(nr_free, 1), -500);
}

static void test_format(void)
{
	char buf[16];

	bench_index_format(-1000, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "-1.000");
	bench_index_format(1000, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "1.000");
	bench_index_format(7, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "0.007");
	bench_index_format(490, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "0.490");
	bench_index_format(-500, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "-0.500");
}

static const char buddyinfo[] =
	"{\"nodes\":[{\"zones\":[{\"node\":0,\"zone\":\"DMA\",\"free\":[0,0,0,0,0,0,0,0,1,1,3]},"
	"{\"node\":0,\"zone\":\"Normal\",\"free\":[3,3,3,2,2,4,5,5,2,1,205]},"
	"{\"node\":0,\"zone\":\"HighMem\",\"free\":[0,1,0,0,0,0,0,0,0,0,37]}]},"
	"{\"zones\":[{\"node\":1,\"zone\":\"HighMem\",\"free\":[0,0,0,0,0,1,1,1,1,1,254]}]}]}";

static const char numastat[] =
	"{\"nodes\":[{\"node\":0,\"numa_hit\":4,\"numa_miss\":1,\"numa_foreign\":2,"
	"\"interleave_hit\":3,\"local_node\":4,\"other_node\":5},{\"node\":1,\"numa_hit\":"
	"18446744073709551,\"numa_miss\":0,\"numa_foreign\":0,\"interleave_hit\":0,"
	"\"local_node\":0,\"other_node\":0}]}";

static void test_snapshot(void)
{
	struct bench_snapshot *s = calloc(1, sizeof(*s));
	const struct bench_zone_free *z;
	const struct bench_node_numa *n;

	CU_ASSERT_EQUAL_FATAL(bench_snapshot_buddyinfo(s, buddyinfo), 0);
	CU_ASSERT_EQUAL(s->nr_zones, 4);
	z = bench_snapshot_zone(s, 0, "Normal");
	CU_ASSERT_PTR_NOT_NULL_FATAL(z);
	CU_ASSERT_EQUAL(z->nr_free[0], 3);
	CU_ASSERT_EQUAL(z->nr_free[10], 205);
	CU_ASSERT_EQUAL(bench_unusable_index(z->nr_free, 10), 10); /* the kernel's 0.010 */
	z = bench_snapshot_zone(s, 1, "HighMem");
	CU_ASSERT_PTR_NOT_NULL_FATAL(z);
	CU_ASSERT_EQUAL(z->nr_free[5], 1);
	CU_ASSERT_PTR_NULL(bench_snapshot_zone(s, 1, "Normal"));

	CU_ASSERT_EQUAL_FATAL(bench_snapshot_numastat(s, numastat), 0);
	CU_ASSERT_EQUAL(s->nr_numa, 2);
	n = bench_snapshot_numa(s, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(n);
	CU_ASSERT_EQUAL(n->v[BENCH_NUMA_MISS], 1);
	CU_ASSERT_EQUAL(n->v[BENCH_OTHER_NODE], 5);
	n = bench_snapshot_numa(s, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(n);
	CU_ASSERT_EQUAL(n->v[BENCH_NUMA_HIT], 18446744073709551ull);
	CU_ASSERT_EQUAL(bench_snapshot_buddyinfo(s, "{\"nodes\":["), -EINVAL);
	free(s);
}

static void test_json(void)
{
	static const char *const bad[] = {
		"",	   "{",	  "{\"a\":}", "[1,]",	 "{\"a\" 1}",	"\"open",
		"[1] [2]", "tru", "{1:2}",    "\"\\q\"", "[\"\\u12\"]",
	};
	struct bench_json *j = bench_json_parse(
		" {\"a\": [1, -2.5, 3e2, true, false, null], \"s\": \"x\\\"y\\n\\u0041\","
		" \"o\": {}, \"big\": 9007199254740993} ");
	const struct bench_json *a;

	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	a = bench_json_get(j, "a");
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(a->type, BJ_ARR);
	CU_ASSERT_EQUAL(a->n, 6);
	CU_ASSERT_EQUAL(bench_json_int(a->items[0], 0), 1);
	CU_ASSERT_DOUBLE_EQUAL(a->items[1]->num, -2.5, 1e-12);
	CU_ASSERT_EQUAL(bench_json_int(a->items[2], 0), 300);
	CU_ASSERT_EQUAL(a->items[3]->type, BJ_BOOL);
	CU_ASSERT_TRUE(a->items[3]->b);
	CU_ASSERT_EQUAL(a->items[5]->type, BJ_NULL);
	CU_ASSERT_STRING_EQUAL(bench_json_get(j, "s")->str, "x\"y\nA");
	CU_ASSERT_EQUAL(bench_json_get(j, "o")->n, 0);
	CU_ASSERT_EQUAL(bench_json_int(bench_json_get(j, "big"), 0), 9007199254740993ll);
	CU_ASSERT_PTR_NULL(bench_json_get(j, "missing"));
	CU_ASSERT_EQUAL(bench_json_int(NULL, -7), -7);
	bench_json_free(j);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		CU_ASSERT_PTR_NULL(bench_json_parse(bad[i]));
}

static void test_json_depth(void)
{
	char deep[401];
	struct bench_json *j;

	memset(deep, '[', 50);
	memset(deep + 50, ']', 50);
	deep[100] = '\0';
	j = bench_json_parse(deep); /* 50 deep: fine */
	CU_ASSERT_PTR_NOT_NULL(j);
	bench_json_free(j);
	memset(deep, '[', 200);
	memset(deep + 200, ']', 200);
	deep[400] = '\0';
	CU_ASSERT_PTR_NULL(bench_json_parse(deep)); /* 200 deep: above the cap */
}

static CU_TestInfo tests[] = {
	{"nothing_free", test_nothing_free}, {"one_big_block", test_one_big_block},
	{"order0_only", test_order0_only},   {"mixed", test_mixed},
	{"negative", test_negative},	     {"format", test_format},
	{"snapshot", test_snapshot},	     {"json", test_json},
	{"json_depth", test_json_depth},     CU_TEST_INFO_NULL,
};

UNIT_SUITE("bench_frag", NULL, NULL, tests);
