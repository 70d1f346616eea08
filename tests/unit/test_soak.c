// SPDX-License-Identifier: MIT
/*
 * test_soak.c - a seeded random alloc/free soak against a reference model: a bitmap of the
 * pfns handed out. Every block the allocator returns must be entirely clear in the bitmap
 * (no page handed out twice) and inside a zone the gfp mask allows; every free must find
 * its pages set. machine_verify() runs every VERIFY_EVERY steps and after everything is
 * freed and drained, when every zone must have its free pages of the start back (free ==
 * managed but for the pages the slab layer took at boot).
 *
 * The seed comes from $NUMASIM_SEED when set (decimal or 0x-hex), else from the clock; a
 * failure prints it so the run can be repeated.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "mm_debug.h"
#include "unit.h"

#define VERIFY_EVERY 2000
#define NR_OWNERS 3

/* The machines soaked, one after the other, each with the same seed. */
static const struct {
	const char *name;
	enum mm_arch arch;
	uint64_t mem;
	int ncpus, nr_nodes;
	long steps;
} soak_machines[] = {
	{"686-pae 1 GiB, 4 CPUs", ARCH_686_PAE, 1 * GiB, 4, 1, 200000},
	{"686 768 MiB (no HighMem), 2 CPUs", ARCH_686, 768 * MiB, 2, 1, 100000},
	{"686-pae 1 GiB, 2 nodes, 4 CPUs", ARCH_686_PAE, 1 * GiB, 4, 2, 100000},
};

static const gfp_t soak_gfps[] = {
	GFP_KERNEL, GFP_HIGHUSER, GFP_HIGHUSER_MOVABLE,	    GFP_ATOMIC,
	GFP_NOWAIT, GFP_DMA,	  GFP_USER | __GFP_MOVABLE, GFP_KERNEL | __GFP_RECLAIMABLE,
};

struct block {
	unsigned long pfn;  /* first page */
	unsigned int order; /* as allocated */
	uint32_t owner;	    /* as allocated */
};

struct soak {
	struct machine *m;
	uint64_t seed, rng;    /* xorshift64* state */
	unsigned char *bitmap; /* one bit per pfn below max_pfn: handed out */
	struct block *live;    /* blocks held */
	int nr_live;
	unsigned long live_pages, target_pages;
	unsigned long free0[MAX_NUMNODES][MAX_NR_ZONES]; /* free pages before the soak */
	long step;
	char msg[MM_ERRLEN + 96]; /* first failure, empty while all is well */
};

static uint64_t soak_rand(struct soak *s)
{
	return unit_xorshift(&s->rng);
}

static unsigned int soak_below(struct soak *s, unsigned int n)
{
	return (unsigned int)(soak_rand(s) % n);
}

static int soak_fail(struct soak *s, const char *what, unsigned long pfn, int ret)
{
	if (!s->msg[0])
		snprintf(s->msg, sizeof(s->msg), "seed %#llx step %ld: %s (pfn %#lx, ret %d)",
			 (unsigned long long)s->seed, s->step, what, pfn, ret);
	return -1;
}

static bool bit_test(const struct soak *s, unsigned long pfn)
{
	return s->bitmap[pfn >> 3] & (1u << (pfn & 7));
}

static void bit_flip(struct soak *s, unsigned long pfn, unsigned long n)
{
	for (unsigned long i = pfn; i < pfn + n; i++)
		s->bitmap[i >> 3] ^= (unsigned char)(1u << (i & 7));
}

/* Orders weighted to small: 0 half the time, 1..3 a third, 4..10 the rest. */
static unsigned int soak_order(struct soak *s)
{
	unsigned int r = soak_below(s, 100);

	if (r < 50)
		return 0;
	if (r < 83)
		return 1 + soak_below(s, 3);
	return 4 + soak_below(s, MAX_ORDER - 4);
}

static int soak_alloc(struct soak *s)
{
	gfp_t gfp = soak_gfps[soak_below(s, ARRAY_SIZE(soak_gfps))];
	unsigned int order = soak_order(s);
	int cpu = (int)soak_below(s, (unsigned int)s->m->ncpus);
	uint32_t owner = 1 + soak_below(s, NR_OWNERS);
	unsigned long pfn = 0, n = 1ul << order;
	struct zone *zone;
	int ret = __alloc_pages(s->m, &pfn, gfp, order, cpu, -1, 0, owner, NULL);

	if (ret == -ENOMEM)
		return 0;
	if (ret)
		return soak_fail(s, "allocation refused", pfn, ret);
	zone = pfn_zone(s->m, pfn);
	if (!zone || pfn + n > zone_end_pfn(zone) || (pfn & (n - 1)))
		return soak_fail(s, "block outside a zone or misaligned", pfn, order);
	if ((int)zone->idx > gfp_zone(gfp))
		return soak_fail(s, "block from a zone the gfp mask excludes", pfn, (int)gfp);
	for (unsigned long i = pfn; i < pfn + n; i++)
		if (bit_test(s, i))
			return soak_fail(s, "page handed out twice", i, order);
	bit_flip(s, pfn, n);
	s->live[s->nr_live++] = (struct block){pfn, order, owner};
	s->live_pages += n;
	return 0;
}

static int soak_free(struct soak *s)
{
	int i = (int)soak_below(s, (unsigned int)s->nr_live);
	struct block b = s->live[i];
	int cpu = (int)soak_below(s, (unsigned int)s->m->ncpus), ret;
	unsigned long n = 1ul << b.order;

	if (soak_below(s, 100) == 0) {
		ret = free_pages(s->m, b.pfn, b.order, cpu, b.owner % NR_OWNERS + 1);
		if (ret != EBADPAGE_OWNER)
			return soak_fail(s, "free by another owner not refused", b.pfn, ret);
	}
	ret = free_pages(s->m, b.pfn, b.order, cpu, soak_below(s, 8) ? b.owner : OWNER_ANY);
	if (ret)
		return soak_fail(s, "free refused", b.pfn, ret);
	for (unsigned long p = b.pfn; p < b.pfn + n; p++)
		if (!bit_test(s, p))
			return soak_fail(s, "freed a page not handed out", p, b.order);
	bit_flip(s, b.pfn, n);
	s->live[i] = s->live[--s->nr_live];
	s->live_pages -= n;
	/* now a double free of it must be refused */
	if (soak_below(s, 50) == 0) {
		ret = free_pages(s->m, b.pfn, b.order, cpu, OWNER_ANY);
		if (ret != EBADPAGE_NOTALLOC)
			return soak_fail(s, "double free not refused", b.pfn, ret);
	}
	return 0;
}

static int soak_verify(struct soak *s)
{
	char err[MM_ERRLEN];

	if (machine_verify(s->m, err))
		return soak_fail(s, err, 0, -EUCLEAN);
	return 0;
}

/* A step: alloc or free (more allocs while below the target fill), now and then a drain. */
static int soak_step(struct soak *s)
{
	unsigned int alloc_pct = s->live_pages < s->target_pages ? 65 : 35;

	if (s->step % 4093 == 0)
		drain_all_pages(s->m);
	if (s->step % 9973 == 0 &&
	    machine_sysctl_set(s->m, "vm.watermark_scale_factor", s->step % 2 ? "10" : "150"))
		return soak_fail(s, "sysctl write refused", 0, -EINVAL);
	if (!s->nr_live || soak_below(s, 100) < alloc_pct)
		return soak_alloc(s);
	return soak_free(s);
}

static void soak_machine(size_t i, uint64_t seed)
{
	struct machine_config cfg;
	struct soak s;
	char err[MM_ERRLEN] = "";
	int ret;

	memset(&s, 0, sizeof(s));
	s.seed = seed;
	s.rng = seed ? seed : 1;
	machine_config_init(&cfg);
	cfg.arch = soak_machines[i].arch;
	cfg.mem_bytes = soak_machines[i].mem;
	cfg.ncpus = soak_machines[i].ncpus;
	cfg.nr_nodes = soak_machines[i].nr_nodes;
	ret = machine_new(&s.m, &cfg, err);
	ASSERT_BOOTED(ret, err);
	s.bitmap = calloc(s.m->layout.max_pfn / 8 + 1, 1);
	s.live = calloc((size_t)soak_machines[i].steps, sizeof(*s.live));
	CU_ASSERT_FATAL(s.bitmap && s.live);
	drain_all_pages(s.m);
	for_each_node(s.m, nid) for_each_zone_of(s.m->node_data[nid], zone)
	{
		s.free0[nid][zone->idx] = zone_page_state(zone, NR_FREE_PAGES);
		s.target_pages += zone->managed_pages;
	}
	s.target_pages = s.target_pages / 10 * 9;

	for (s.step = 1; s.step <= soak_machines[i].steps && !s.msg[0]; s.step++)
		if (soak_step(&s) == 0 && s.step % VERIFY_EVERY == 0)
			soak_verify(&s);
	while (s.nr_live && !s.msg[0])
		soak_free(&s);
	drain_all_pages(s.m);
	if (!s.msg[0])
		soak_verify(&s);
	for_each_node(s.m, nid) for_each_zone_of(
		s.m->node_data[nid], zone) if (!s.msg[0] && zone_page_state(zone, NR_FREE_PAGES) !=
								    s.free0[nid][zone->idx])
		soak_fail(&s, "free pages not back to the start after freeing everything", 0,
			  (int)zone->idx);
	for (unsigned long p = 0; p <= s.m->layout.max_pfn / 8 && !s.msg[0]; p++)
		if (s.bitmap[p])
			soak_fail(&s, "reference bitmap not empty at the end", p * 8, 0);
	if (s.msg[0]) {
		char msg[sizeof(s.msg) + 64];

		snprintf(msg, sizeof(msg), "%s: %s", soak_machines[i].name, s.msg);
		CU_assertImplementation(CU_FALSE, __LINE__, msg, __FILE__, "", CU_FALSE);
	}
	free(s.bitmap);
	free(s.live);
	machine_free(s.m);
}

static void test_soak(void)
{
	uint64_t seed = unit_seed();

	for (size_t i = 0; i < ARRAY_SIZE(soak_machines); i++)
		soak_machine(i, seed);
}

static CU_TestInfo tests[] = {
	{"random alloc/free against a pfn bitmap", test_soak},
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("soak", NULL, NULL, tests);
