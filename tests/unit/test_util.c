// SPDX-License-Identifier: MIT
/*
 * test_util.c - the shared helpers of common/util.c: the object pool the servers keep their
 * per-request records in, and the size parser.
 */
#include <errno.h>
#include <string.h>

#include "nsim.h"
#include "unit.h"

static void test_pool_reuse(void)
{
	struct nsim_pool p;
	void *a, *b, *c;

	nsim_pool_init(&p, 48, 2);
	a = nsim_pool_get(&p);
	b = nsim_pool_get(&p);
	c = nsim_pool_get(&p);
	CU_ASSERT(a != b && b != c && a != c);
	memset(a, 0xa5, 48); /* the whole object is the caller's */
	nsim_pool_put(&p, a);
	nsim_pool_put(&p, b);
	nsim_pool_put(&p, c); /* above max: freed (LeakSanitizer would see a loss) */
	nsim_pool_put(&p, NULL);
	if (!NSIM_POOL_KEEPS) { /* AddressSanitizer: every put frees */
		CU_ASSERT_EQUAL(p.n, 0);
		return;
	}
	CU_ASSERT_EQUAL(p.n, 2);
	/* last in, first out: the warm one comes back first */
	CU_ASSERT_PTR_EQUAL(nsim_pool_get(&p), b);
	CU_ASSERT_PTR_EQUAL(nsim_pool_get(&p), a);
	CU_ASSERT_EQUAL(p.n, 0);
	nsim_pool_put(&p, a);
	nsim_pool_put(&p, b);
	nsim_pool_release(&p);
	CU_ASSERT_EQUAL(p.n, 0);
	CU_ASSERT_PTR_NULL(p.head);
}

static void test_pool_small_objects(void)
{
	struct nsim_pool p;
	void *a;

	nsim_pool_init(&p, 1, 8); /* room for the link is made */
	CU_ASSERT(p.size >= sizeof(void *));
	a = nsim_pool_get(&p);
	nsim_pool_put(&p, a);
	a = nsim_pool_get(&p);
	CU_ASSERT_PTR_NOT_NULL(a);
	nsim_pool_put(&p, a);
	nsim_pool_release(&p);
}

static void test_parse_size(void)
{
	uint64_t v;

	CU_ASSERT_EQUAL(nsim_parse_size("64K", &v), 0);
	CU_ASSERT_EQUAL(v, 64 << 10);
	CU_ASSERT_EQUAL(nsim_parse_size("0x1000", &v), 0);
	CU_ASSERT_EQUAL(v, 0x1000);
	CU_ASSERT_EQUAL(nsim_parse_size("2G", &v), 0);
	CU_ASSERT_EQUAL(v, 2ull << 30);
	CU_ASSERT_EQUAL(nsim_parse_size("12Q", &v), -EINVAL);
	CU_ASSERT_EQUAL(nsim_parse_size("", &v), -EINVAL);
}

static CU_TestInfo tests[] = {
	{"pool: reuse, max, release", test_pool_reuse},
	{"pool: objects smaller than a pointer", test_pool_small_objects},
	{"sizes as users type them", test_parse_size},
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("util", NULL, NULL, tests);
