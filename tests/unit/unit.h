/* SPDX-License-Identifier: MIT */
/*
 * unit.h - how a test file registers its CUnit suite with the runner (tests/unit/main.c).
 *
 * Each tests/unit/test_<module>.c defines its tests in a table and calls UNIT_SUITE() once:
 *
 *   static CU_TestInfo tests[] = {{"name", fn}, ..., CU_TEST_INFO_NULL};
 *   UNIT_SUITE("module", NULL, NULL, tests);
 *
 * The suite registers itself before main() runs; the runner adds every suite to CUnit's
 * registry, runs them (or only those named on its command line) and exits non-zero on any
 * failure.
 */
#ifndef NUMASIM_TESTS_UNIT_H
#define NUMASIM_TESTS_UNIT_H

#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "mm.h"
#include "mm_debug.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MiB (1ull << 20)
#define GiB (1ull << 30)

/* unit_seed - $NUMASIM_SEED when set (decimal or 0x-hex), else one from the clock. */
static inline uint64_t unit_seed(void)
{
	const char *env = getenv("NUMASIM_SEED");

	if (env && *env)
		return strtoull(env, NULL, 0);
	return ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid() ^ (uint64_t)clock();
}

/* unit_xorshift - the next xorshift64* number; *@x is the state (never 0). */
static inline uint64_t unit_xorshift(uint64_t *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 0x2545f4914f6cdd1dull;
}

/* ASSERT_BOOTED - machine_new() returned 0; otherwise its message fails the test, fatally. */
#define ASSERT_BOOTED(ret, err) \
	CU_assertImplementation((ret) == 0, __LINE__, (ret) ? (err) : "boot", __FILE__, "", CU_TRUE)

/* unit_boot - the machine of @cfg; a boot failure fails the test, fatally, with its message. */
static inline struct machine *unit_boot(const struct machine_config *cfg)
{
	char err[MM_ERRLEN] = "";
	struct machine *m = NULL;
	int ret = machine_new(&m, cfg, err);

	ASSERT_BOOTED(ret, err);
	return m;
}

/* unit_boot_1g - the machine of the captures: 686-pae, 1 GiB, 2 CPUs. */
static inline struct machine *unit_boot_1g(void)
{
	struct machine_config cfg;

	machine_config_init(&cfg);
	cfg.mem_bytes = 1 * GiB;
	cfg.ncpus = 2;
	return unit_boot(&cfg);
}

/* unit_kmalloc_class - the kmalloc class serving @size (up to 8 KiB; §8.1 size_index, fls). */
static inline unsigned int unit_kmalloc_class(size_t size)
{
	static const unsigned int small[] = {8, 16, 32, 64, 96, 128, 192};
	unsigned int c = 256;

	for (size_t i = 0; i < ARRAY_SIZE(small); i++)
		if (size <= small[i])
			return small[i];
	while (c < size)
		c <<= 1;
	return c;
}

/* zone_of - zone @z of node 0. */
static inline struct zone *zone_of(struct machine *m, int z)
{
	return &m->node_data[0]->node_zones[z];
}

/* free_pages_now - pages the page allocator holds: free plus on pcp lists, every zone. */
static inline unsigned long free_pages_now(struct machine *m)
{
	unsigned long n = 0;

	for (int nid = 0; nid < m->nr_nodes; nid++)
		for (int z = 0; z < MAX_NR_ZONES; z++) {
			struct zone *zone = &m->node_data[nid]->node_zones[z];

			if (populated_zone(zone))
				n += zone_page_state(zone, NR_FREE_PAGES) + zone_pcp_count(zone);
		}
	return n;
}

/* ASSERT_VERIFIED - machine_verify() is clean; its first finding is the failure message. */
#define ASSERT_VERIFIED(m)                                                                      \
	do {                                                                                    \
		char verr_[MM_ERRLEN];                                                          \
		int vret_ = machine_verify((m), verr_);                                         \
		CU_assertImplementation(vret_ == 0, __LINE__, vret_ ? verr_ : "machine_verify", \
					__FILE__, "", CU_FALSE);                                \
	} while (0)

struct unit_suite {
	const char *name;	/* suite name */
	CU_InitializeFunc init; /* may be NULL */
	CU_CleanupFunc cleanup; /* may be NULL */
	CU_TestInfo *tests;	/* NULL-terminated table */
};

void unit_register(const struct unit_suite *suite);

#define UNIT_SUITE(name, init, cleanup, tests)                                     \
	static const struct unit_suite unit_suite_ = {name, init, cleanup, tests}; \
	__attribute__((constructor)) static void unit_suite_register_(void)        \
	{                                                                          \
		unit_register(&unit_suite_);                                       \
	}

#endif
