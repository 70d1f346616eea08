// SPDX-License-Identifier: MIT
/*
 * test_gfp.c - gfp masks: zone and migratetype selection, the slow path's allocator flags
 * (late 6.1.y rules, ALLOCATOR-SPEC.md §5.2-5.3), and the names users type for masks.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gfp.h"
#include "mmzone.h"
#include "nsim.h"
#include "unit.h"

/* GFP_ZONE_TABLE of i386 (§5.2): every combination of the four zone modifier bits. */
static const int zone_of_bits[16] = {
	[0x0] = ZONE_NORMAL, [0x1] = ZONE_DMA, [0x2] = ZONE_HIGHMEM, [0x3] = -EINVAL,
	[0x4] = ZONE_NORMAL, [0x5] = -EINVAL,  [0x6] = -EINVAL,	     [0x7] = -EINVAL,
	[0x8] = ZONE_NORMAL, [0x9] = ZONE_DMA, [0xa] = ZONE_MOVABLE, [0xb] = -EINVAL,
	[0xc] = ZONE_NORMAL, [0xd] = -EINVAL,  [0xe] = -EINVAL,	     [0xf] = -EINVAL,
};

static void test_zone_table(void)
{
	for (unsigned int bits = 0; bits < 16; bits++) {
		/* other bits must not change the answer */
		gfp_t gfp = bits | __GFP_IO | __GFP_FS | __GFP_ZERO;

		CU_ASSERT_EQUAL(gfp_zone(gfp), zone_of_bits[bits]);
		CU_ASSERT_EQUAL(gfp_valid_zone_bits(gfp), zone_of_bits[bits] >= 0);
	}
}

static const struct {
	gfp_t gfp;	    /* a mask the kernel uses */
	unsigned int value; /* its 6.1 value (§5.1) */
	int zone;	    /* gfp_zone() */
	int mt;		    /* gfp_migratetype() */
} named_masks[] = {
	{GFP_KERNEL, 0xcc0, ZONE_NORMAL, MIGRATE_UNMOVABLE},
	{GFP_ATOMIC, 0xa20, ZONE_NORMAL, MIGRATE_UNMOVABLE},
	{GFP_NOWAIT, 0x800, ZONE_NORMAL, MIGRATE_UNMOVABLE},
	{GFP_NOIO, 0xc00, ZONE_NORMAL, MIGRATE_UNMOVABLE},
	{GFP_NOFS, 0xc40, ZONE_NORMAL, MIGRATE_UNMOVABLE},
	{GFP_USER, 0x100cc0, ZONE_NORMAL, MIGRATE_UNMOVABLE},
	{GFP_KERNEL_ACCOUNT, 0x400cc0, ZONE_NORMAL, MIGRATE_UNMOVABLE},
	{GFP_DMA, 0x01, ZONE_DMA, MIGRATE_UNMOVABLE},
	{GFP_DMA32, 0x04, ZONE_NORMAL, MIGRATE_UNMOVABLE},
	{GFP_HIGHUSER, 0x100cc2, ZONE_HIGHMEM, MIGRATE_UNMOVABLE},
	{GFP_HIGHUSER_MOVABLE, 0x100cca, ZONE_MOVABLE, MIGRATE_MOVABLE},
	{GFP_TRANSHUGE_LIGHT, 0x1c20ca, ZONE_MOVABLE, MIGRATE_MOVABLE},
	{GFP_TRANSHUGE, 0x1c24ca, ZONE_MOVABLE, MIGRATE_MOVABLE},
	{GFP_KERNEL | __GFP_RECLAIMABLE, 0xcd0, ZONE_NORMAL, MIGRATE_RECLAIMABLE},
	{GFP_USER | __GFP_MOVABLE, 0x100cc8, ZONE_NORMAL, MIGRATE_MOVABLE},
	{GFP_DMA | __GFP_MOVABLE, 0x09, ZONE_DMA, MIGRATE_MOVABLE},
};

static void test_named_masks(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(named_masks); i++) {
		CU_ASSERT_EQUAL(named_masks[i].gfp, named_masks[i].value);
		CU_ASSERT_EQUAL(gfp_zone(named_masks[i].gfp), named_masks[i].zone);
		CU_ASSERT_EQUAL(gfp_migratetype(named_masks[i].gfp), named_masks[i].mt);
	}
}

/* gfp_to_alloc_flags() of late 6.1.y (§5.3). */
static const struct {
	gfp_t gfp;
	unsigned int order;
	unsigned int flags;
} alloc_flags_cases[] = {
	/* blocking requests keep ALLOC_CPUSET and get no reserve rights */
	{GFP_KERNEL, 0, ALLOC_WMARK_MIN | ALLOC_CPUSET | ALLOC_KSWAPD},
	{GFP_KERNEL, 3, ALLOC_WMARK_MIN | ALLOC_CPUSET | ALLOC_KSWAPD},
	{GFP_HIGHUSER_MOVABLE, 9, ALLOC_WMARK_MIN | ALLOC_CPUSET | ALLOC_KSWAPD},
	{__GFP_HIGH | __GFP_DIRECT_RECLAIM, 0, ALLOC_MIN_RESERVE | ALLOC_CPUSET},
	/* GFP_ATOMIC: __GFP_HIGH reserve, may not block, cpusets ignored */
	{GFP_ATOMIC, 0, ALLOC_MIN_RESERVE | ALLOC_NON_BLOCK | ALLOC_KSWAPD},
	{GFP_ATOMIC, 2, ALLOC_MIN_RESERVE | ALLOC_NON_BLOCK | ALLOC_KSWAPD | ALLOC_HIGHATOMIC},
	/* GFP_NOWAIT: may not block, but no __GFP_HIGH: keeps the cpuset, no min reduction */
	{GFP_NOWAIT, 0, ALLOC_CPUSET | ALLOC_NON_BLOCK | ALLOC_KSWAPD},
	{GFP_NOWAIT, 1, ALLOC_CPUSET | ALLOC_NON_BLOCK | ALLOC_KSWAPD | ALLOC_HIGHATOMIC},
	/* __GFP_NOMEMALLOC takes the non-blocking reserve rights away */
	{GFP_ATOMIC | __GFP_NOMEMALLOC, 1, ALLOC_MIN_RESERVE | ALLOC_KSWAPD},
	{GFP_TRANSHUGE_LIGHT, 9, ALLOC_CPUSET},
	{GFP_DMA, 0, ALLOC_CPUSET | ALLOC_NON_BLOCK},
};

static void test_alloc_flags(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(alloc_flags_cases); i++) {
		unsigned int f =
			gfp_to_alloc_flags(alloc_flags_cases[i].gfp, alloc_flags_cases[i].order);

		CU_ASSERT_EQUAL(f, alloc_flags_cases[i].flags);
	}
}

static void test_allow_blocking(void)
{
	CU_ASSERT_TRUE(gfpflags_allow_blocking(GFP_KERNEL));
	CU_ASSERT_TRUE(gfpflags_allow_blocking(GFP_NOIO));
	CU_ASSERT_FALSE(gfpflags_allow_blocking(GFP_ATOMIC));
	CU_ASSERT_FALSE(gfpflags_allow_blocking(GFP_NOWAIT));
	CU_ASSERT_FALSE(gfpflags_allow_blocking(GFP_TRANSHUGE_LIGHT));
}

static const struct {
	const char *text; /* what a user types */
	int ret;	  /* nsim_gfp_parse() */
	unsigned int gfp; /* the mask on success */
	int bad_at;	  /* offset of *bad on failure */
} parse_cases[] = {
	{"GFP_KERNEL", 0, GFP_KERNEL, 0},
	{"GFP_KERNEL|__GFP_ZERO", 0, GFP_KERNEL | __GFP_ZERO, 0},
	{"kernel|zero", 0, GFP_KERNEL | __GFP_ZERO, 0},
	{"Gfp_Highuser_Movable", 0, GFP_HIGHUSER_MOVABLE, 0},
	{" GFP_ATOMIC | __GFP_NOWARN ", 0, GFP_ATOMIC | __GFP_NOWARN, 0},
	{"0xcc0", 0, 0xcc0, 0},
	{"3264", 0, 0xcc0, 0},
	{"GFP_DMA|0x8", 0, GFP_DMA | __GFP_MOVABLE, 0},
	{"__GFP_RECLAIM", 0, __GFP_RECLAIM, 0},
	{"", -EINVAL, 0, 0},
	{"GFP_KERNEL|bogus", -EINVAL, 0, 11},
	{"GFP_KERNEL||zero", -EINVAL, 0, 11},
	{"kernel|__GFP_ZER", -EINVAL, 0, 7},
	{"0x1000000", -EINVAL, 0, 0},
	{"12abc", -EINVAL, 0, 0},
	{"GFP_", -EINVAL, 0, 0},
};

static void test_parse(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(parse_cases); i++) {
		const char *text = parse_cases[i].text, *bad = NULL;
		unsigned int gfp = 0xdeadu;
		int ret = nsim_gfp_parse(text, &gfp, &bad);

		CU_ASSERT_EQUAL(ret, parse_cases[i].ret);
		if (ret == 0) {
			CU_ASSERT_EQUAL(gfp, parse_cases[i].gfp);
		} else {
			CU_ASSERT_PTR_EQUAL(bad, text + parse_cases[i].bad_at);
		}
	}
	CU_ASSERT_EQUAL(nsim_gfp_parse(NULL, &(unsigned int){0}, NULL), -EINVAL);
}

static const struct {
	unsigned int gfp;
	const char *text; /* the kernel's %pGg */
} format_cases[] = {
	{GFP_KERNEL, "GFP_KERNEL"},
	{GFP_KERNEL | __GFP_ZERO, "GFP_KERNEL|__GFP_ZERO"},
	{GFP_ATOMIC | __GFP_NOWARN, "GFP_ATOMIC|__GFP_NOWARN"},
	{GFP_HIGHUSER_MOVABLE, "GFP_HIGHUSER_MOVABLE"},
	{GFP_TRANSHUGE, "GFP_TRANSHUGE"},
	{GFP_TRANSHUGE_LIGHT, "GFP_TRANSHUGE_LIGHT"},
	{GFP_KERNEL_ACCOUNT, "GFP_KERNEL_ACCOUNT"},
	{GFP_NOWAIT, "GFP_NOWAIT"},
	{GFP_DMA, "GFP_DMA"},
	{__GFP_HIGH, "__GFP_HIGH"},
	{__GFP_DIRECT_RECLAIM, "__GFP_DIRECT_RECLAIM"},
	{0, "0"},
};

static void test_format(void)
{
	char buf[256];

	for (size_t i = 0; i < ARRAY_SIZE(format_cases); i++) {
		nsim_gfp_format(format_cases[i].gfp, buf, sizeof(buf));
		CU_ASSERT_STRING_EQUAL(buf, format_cases[i].text);
	}
	/* a short buffer is cut, never overrun */
	memset(buf, 'x', sizeof(buf));
	nsim_gfp_format(GFP_KERNEL | __GFP_ZERO, buf, 8);
	CU_ASSERT_EQUAL(strlen(buf), 7u);
	CU_ASSERT_EQUAL(buf[8], 'x');
}

/* Every mask that formats must parse back to itself. */
static void test_round_trip(void)
{
	unsigned int masks[64 + 24 + ARRAY_SIZE(named_masks)];
	size_t n = 0;
	unsigned int x = 0x12345678u;
	char buf[512];

	for (unsigned int bit = 0; bit < 24; bit++)
		masks[n++] = 1u << bit;
	for (size_t i = 0; i < ARRAY_SIZE(named_masks); i++)
		masks[n++] = named_masks[i].gfp;
	for (int i = 0; i < 64; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		masks[n++] = x & __GFP_BITS_MASK;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned int back = 0;

		nsim_gfp_format(masks[i], buf, sizeof(buf));
		CU_ASSERT_EQUAL_FATAL(nsim_gfp_parse(buf, &back, NULL), 0);
		CU_ASSERT_EQUAL(back, masks[i]);
	}
}

static CU_TestInfo tests[] = {
	{"gfp_zone table", test_zone_table},
	{"named masks", test_named_masks},
	{"gfp_to_alloc_flags", test_alloc_flags},
	{"gfpflags_allow_blocking", test_allow_blocking},
	{"nsim_gfp_parse", test_parse},
	{"nsim_gfp_format", test_format},
	{"format/parse round trip", test_round_trip},
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("gfp", NULL, NULL, tests);
