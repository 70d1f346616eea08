// SPDX-License-Identifier: MIT
/*
 * test_layout.c - machine layout and boot: lowmem limit, zone spans, present and managed
 * pages, boot parameters (vmalloc=, highmem=, mem=, kernelcore=, movablecore=) and bad
 * configurations. Expected numbers are the real Debian 6.1 kernels' (ALLOCATOR-SPEC.md §1.3,
 * §1.6, §13 and /work/shared/reference/).
 * Boot parameters go through machine_cmdline_apply(), as a user would type them.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mm.h"
#include "mm_debug.h"
#include "unit.h"

#define MAXMEM_PAE 0x36ffeul
#define MAXMEM_686 0x36bfeul
#define MAX_DMA_PFN 4096ul

static struct machine_config config(enum mm_arch arch, uint64_t mem, int ncpus)
{
	struct machine_config cfg;

	machine_config_init(&cfg);
	cfg.arch = arch;
	cfg.mem_bytes = mem;
	cfg.ncpus = ncpus;
	return cfg;
}

/* Apply a kernel command line to @cfg; fails the test (fatally) if it is refused. */
static void cmdline(struct machine_config *cfg, const char *line)
{
	char err[MM_ERRLEN] = "";
	int ret = machine_cmdline_apply(cfg, line, err);

	CU_assertImplementation(ret == 0, __LINE__, ret ? err : line, __FILE__, "", CU_TRUE);
}

/* The layout of @cfg; fails the test (fatally) if it does not compute. */
static int layout(struct machine_layout *l, const struct machine_config *cfg)
{
	char err[MM_ERRLEN] = "";
	int ret = machine_layout_compute(l, cfg, err);

	CU_assertImplementation(ret == 0, __LINE__, ret ? err : "layout", __FILE__, "", CU_TRUE);
	return ret;
}

static const struct zone_layout *lzone(const struct machine_layout *l, enum zone_type z)
{
	return &l->nodes[0].zones[z];
}

/* The i386 zone boundaries (§1.2) hold for every single-node machine. */
static void check_boundaries(const struct machine_layout *l)
{
	const struct zone_layout *dma = lzone(l, ZONE_DMA), *normal = lzone(l, ZONE_NORMAL);
	const struct zone_layout *high = lzone(l, ZONE_HIGHMEM);

	CU_ASSERT_EQUAL(dma->start_pfn, 1);
	CU_ASSERT_EQUAL(dma->end_pfn, MAX_DMA_PFN);
	CU_ASSERT_EQUAL(dma->present, 3998);
	CU_ASSERT_EQUAL(normal->start_pfn, MAX_DMA_PFN);
	CU_ASSERT_EQUAL(normal->end_pfn, l->max_low_pfn);
	if (l->max_pfn > l->max_low_pfn) {
		CU_ASSERT_EQUAL(high->start_pfn, l->max_low_pfn);
		CU_ASSERT_EQUAL(high->end_pfn, l->max_pfn);
	} else {
		CU_ASSERT_EQUAL(high->present, 0);
	}
}

static const struct {
	enum mm_arch arch;
	uint64_t mem;
	const char *cmdline;	   /* boot parameters */
	unsigned long max_low_pfn; /* expected */
	unsigned long vmalloc_kb;  /* expected VmallocTotal */
} lowmem_cases[] = {
	/* 686-pae: 0x36ffe whatever the RAM above it */
	{ARCH_686_PAE, 1 * GiB, "", MAXMEM_PAE, 122880},
	{ARCH_686_PAE, 2 * GiB, "", MAXMEM_PAE, 122880},
	{ARCH_686_PAE, 4 * GiB, "", MAXMEM_PAE, 122880},
	{ARCH_686_PAE, 8 * GiB, "", MAXMEM_PAE, 122880},
	{ARCH_686_PAE, 16 * GiB, "", MAXMEM_PAE, 122880},
	/* 686: 4 MiB less */
	{ARCH_686, 1 * GiB, "", MAXMEM_686, 122880},
	{ARCH_686, 2 * GiB, "", MAXMEM_686, 122880},
	{ARCH_686, 4 * GiB, "", MAXMEM_686, 122880},
	/* all RAM in lowmem: max_low_pfn = max_pfn (QEMU's map ends 128 KiB short) */
	{ARCH_686_PAE, 64 * MiB, "", 16352, 122880},
	{ARCH_686_PAE, 128 * MiB, "", 32736, 122880},
	{ARCH_686_PAE, 256 * MiB, "", 65504, 122880},
	{ARCH_686_PAE, 512 * MiB, "", 131040, 122880},
	{ARCH_686, 512 * MiB, "", 131040, 122880},
	/* vmalloc=X: 0x36ffe + (128 MiB - (X + 8 MiB)) / 4 KiB */
	{ARCH_686_PAE, 2 * GiB, "vmalloc=64M", 239614, 65536},
	{ARCH_686_PAE, 2 * GiB, "vmalloc=256M", 190462, 262144},
	{ARCH_686_PAE, 2 * GiB, "vmalloc=512M", 124926, 524288},
};

static void test_lowmem_limit(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(lowmem_cases); i++) {
		struct machine_config cfg = config(lowmem_cases[i].arch, lowmem_cases[i].mem, 1);
		struct machine_layout l;

		cmdline(&cfg, lowmem_cases[i].cmdline);
		if (layout(&l, &cfg))
			continue;
		CU_ASSERT_EQUAL(l.max_low_pfn, lowmem_cases[i].max_low_pfn);
		CU_ASSERT_EQUAL(l.vmalloc_total_kb, lowmem_cases[i].vmalloc_kb);
		check_boundaries(&l);
	}
}

/* Boot parameters on a 2 GiB 686-pae guest (§1.3, §1.6 [R]). */
static const struct {
	const char *cmdline;	     /* what the kernel was booted with */
	unsigned long max_pfn;	     /* expected */
	unsigned long high_present;  /* HighMem present pages */
	unsigned long movable_start; /* ZONE_MOVABLE [start, end) and present (0: empty) */
	unsigned long movable_end;
	unsigned long movable_present;
} param_cases[] = {
	{"highmem=512M", MAXMEM_PAE + 131072, 131072, 0, 0, 0},
	{"highmem=1024M", MAXMEM_PAE + 262144, 262144, 0, 0, 0},
	{"mem=1024M", 0x40000, 0x40000 - MAXMEM_PAE, 0, 0, 0},
	{"mem=1536M", 0x60000, 0x60000 - MAXMEM_PAE, 0, 0, 0},
	{"movablecore=512M", 0x7ffe0, 167938, 0x60000, 0x7ffe0, 131040},
	{"kernelcore=700M", 0x7ffe0, 2, 0x37000, 0x7ffe0, 298976},
};

static void test_boot_params(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(param_cases); i++) {
		struct machine_config cfg = config(ARCH_686_PAE, 2 * GiB, 1);
		const struct zone_layout *mov;
		struct machine_layout l;

		cmdline(&cfg, param_cases[i].cmdline);
		if (layout(&l, &cfg))
			continue;
		mov = lzone(&l, ZONE_MOVABLE);
		CU_ASSERT_EQUAL(l.max_low_pfn, MAXMEM_PAE);
		CU_ASSERT_EQUAL(l.max_pfn, param_cases[i].max_pfn);
		CU_ASSERT_EQUAL(lzone(&l, ZONE_HIGHMEM)->start_pfn, MAXMEM_PAE);
		CU_ASSERT_EQUAL(lzone(&l, ZONE_HIGHMEM)->present, param_cases[i].high_present);
		CU_ASSERT_EQUAL(mov->present, param_cases[i].movable_present);
		if (param_cases[i].movable_present) {
			CU_ASSERT_EQUAL(mov->start_pfn, param_cases[i].movable_start);
			CU_ASSERT_EQUAL(mov->end_pfn, param_cases[i].movable_end);
			CU_ASSERT_EQUAL(lzone(&l, ZONE_HIGHMEM)->end_pfn, mov->start_pfn);
			CU_ASSERT_EQUAL(l.movable_zone, ZONE_HIGHMEM);
		}
	}
}

/* What machine_cmdline_apply() sets, and what it refuses (leaving an error message). */
static void test_cmdline(void)
{
	static const char *const refused[] = {
		"vmalloc=", "mem", "=1G", "mem=12Q", "bogus=1", "kernelcore=101%", "highmem=-1M",
	};
	struct machine_config cfg = config(ARCH_686_PAE, 2 * GiB, 1);

	cmdline(&cfg, "vmalloc=192M  mem=1G\thighmem=256M kernelcore=10% movablecore=512M");
	CU_ASSERT_EQUAL(cfg.vmalloc_bytes, 192 * MiB);
	CU_ASSERT_EQUAL(cfg.mem_limit, 1 * GiB);
	CU_ASSERT_EQUAL(cfg.highmem_bytes, 256 * MiB);
	CU_ASSERT_EQUAL(cfg.kernelcore_percent, 10);
	CU_ASSERT_EQUAL(cfg.kernelcore_bytes, MM_UNSET);
	CU_ASSERT_EQUAL(cfg.movablecore_bytes, 512 * MiB);
	CU_ASSERT_EQUAL(cfg.movablecore_percent, MM_UNSET);
	cmdline(&cfg, "");
	for (size_t i = 0; i < ARRAY_SIZE(refused); i++) {
		char err[MM_ERRLEN] = "";

		cfg = config(ARCH_686_PAE, 2 * GiB, 1);
		CU_ASSERT_EQUAL(machine_cmdline_apply(&cfg, refused[i], err), -EINVAL);
		CU_ASSERT_NOT_EQUAL(err[0], '\0');
	}
}

/* The reference captures: spans, present and final managed pages per zone (§1.4, §13). */
static const struct {
	const char *capture;
	enum mm_arch arch;
	uint64_t mem;
	int ncpus;
	unsigned long initmem; /* pages of "Freeing unused kernel image (initmem)" */
	struct {
		unsigned long spanned, present, managed;
	} z[3]; /* DMA, Normal, HighMem */
} capture_cases[] = {
	{"pae_mem1024_smp2",
	 ARCH_686_PAE,
	 1 * GiB,
	 2,
	 232,
	 {{4095, 3998, 3840}, {221182, 221182, 214724}, {36834, 36834, 36834}}},
	{"pae_mem4096_smp2",
	 ARCH_686_PAE,
	 4 * GiB,
	 2,
	 232,
	 {{4095, 3998, 3840}, {221182, 221182, 187972}, {1085442, 823266, 823266}}},
	{"np686_mem2048_smp2",
	 ARCH_686,
	 2 * GiB,
	 2,
	 228,
	 {{4095, 3998, 3840}, {220158, 220158, 211184}, {300002, 300002, 300002}}},
};

#define INITRD_PAGES 261ul /* "Freeing initrd memory: 1044K" in every capture */

static void test_captures(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(capture_cases); i++) {
		struct machine_config cfg =
			config(capture_cases[i].arch, capture_cases[i].mem, capture_cases[i].ncpus);
		char err[MM_ERRLEN] = "";
		struct machine *m = NULL;
		int ret = machine_new(&m, &cfg, err);

		ASSERT_BOOTED(ret, err);
		for (int z = ZONE_DMA; z <= ZONE_HIGHMEM; z++) {
			const struct zone *zone = &m->node_data[0]->node_zones[z];
			unsigned long late =
				z == ZONE_NORMAL ? INITRD_PAGES + capture_cases[i].initmem : 0;

			CU_ASSERT_EQUAL(zone->spanned_pages, capture_cases[i].z[z].spanned);
			CU_ASSERT_EQUAL(zone->present_pages, capture_cases[i].z[z].present);
			CU_ASSERT_EQUAL(zone->managed_pages, capture_cases[i].z[z].managed);
			CU_ASSERT_EQUAL(zone->managed_at_init,
					capture_cases[i].z[z].managed - late);
		}
		CU_ASSERT_EQUAL(m->node_data[0]->node_zones[ZONE_MOVABLE].present_pages, 0);
		ASSERT_VERIFIED(m);
		machine_free(m);
	}
}

/* §13: the memory map squeezes lowmem on big PAE machines (one CPU); within 1%. */
static const struct {
	uint64_t mem;
	unsigned long normal_managed;
} big_cases[] = {
	{2 * GiB, 212197},
	{16 * GiB, 157284},
	{32 * GiB, 116323},
	{64 * GiB, 36961},
};

static void test_big_pae(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(big_cases); i++) {
		struct machine_config cfg = config(ARCH_686_PAE, big_cases[i].mem, 1);
		struct machine_layout l;
		const struct zone_layout *n;
		long managed, want = (long)big_cases[i].normal_managed, diff;

		if (layout(&l, &cfg))
			continue;
		n = lzone(&l, ZONE_NORMAL);
		managed = (long)(n->present - n->reserved + n->late_free);
		diff = managed > want ? managed - want : want - managed;
		CU_ASSERT(diff * 100 <= want);
		CU_ASSERT_EQUAL(l.max_low_pfn, MAXMEM_PAE);
	}
}

/* A booted machine's zones are its layout; the boot state is consistent. */
static void test_boot_matches_layout(void)
{
	struct machine_config cfg = config(ARCH_686_PAE, 2 * GiB, 1);
	char err[MM_ERRLEN] = "";
	struct machine *m = NULL;
	int ret;

	cfg.movablecore_bytes = 512 * MiB;
	ret = machine_new(&m, &cfg, err);
	ASSERT_BOOTED(ret, err);
	for (int z = 0; z < MAX_NR_ZONES; z++) {
		const struct zone_layout *zl = lzone(&m->layout, (enum zone_type)z);
		struct zone *zone = &m->node_data[0]->node_zones[z];

		CU_ASSERT_EQUAL(zone->zone_start_pfn, zl->start_pfn);
		CU_ASSERT_EQUAL(zone->spanned_pages, zl->end_pfn - zl->start_pfn);
		CU_ASSERT_EQUAL(zone->present_pages, zl->present);
		CU_ASSERT_EQUAL(zone->managed_pages, zl->present - zl->reserved + zl->late_free);
		/* the slab layer holds a few pages from boot on, the rest is free or on pcp */
		CU_ASSERT(zone_page_state(zone, NR_FREE_PAGES) + zone_pcp_count(zone) <=
			  zone->managed_pages);
	}
	/* Movable carved from HighMem gets highmem-class watermarks */
	CU_ASSERT_TRUE(m->node_data[0]->node_zones[ZONE_MOVABLE].is_highmem);
	ASSERT_VERIFIED(m);
	machine_free(m);
}

enum bad_field { BAD_CPUS, BAD_MEM, BAD_RESERVE };

static const struct {
	const char *what;
	enum mm_arch arch;
	enum bad_field field;
	int64_t value;
} error_cases[] = {
	{"no cpus", ARCH_686_PAE, BAD_CPUS, 0},
	{"negative cpus", ARCH_686_PAE, BAD_CPUS, -1},
	{"686 above 4 GiB", ARCH_686, BAD_MEM, 5 * GiB},
	{"pae above 64 GiB", ARCH_686_PAE, BAD_MEM, 65 * GiB},
	{"reserve above DMA present", ARCH_686_PAE, BAD_RESERVE, 3999},
};

static void test_errors(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(error_cases); i++) {
		struct machine_config cfg = config(error_cases[i].arch, 1 * GiB, 1);
		struct machine_layout l;
		static struct machine not_a_machine;
		struct machine *m = &not_a_machine; /* machine_new() must set it to NULL */
		char err[MM_ERRLEN] = "";

		if (error_cases[i].field == BAD_CPUS)
			cfg.ncpus = (int)error_cases[i].value;
		else if (error_cases[i].field == BAD_MEM)
			cfg.mem_bytes = (uint64_t)error_cases[i].value;
		else
			cfg.reserve[ZONE_DMA] = (long)error_cases[i].value;
		CU_ASSERT_EQUAL(machine_layout_compute(&l, &cfg, err), -EINVAL);
		CU_ASSERT_NOT_EQUAL(err[0], '\0');
		err[0] = '\0';
		CU_ASSERT_EQUAL(machine_new(&m, &cfg, err), -EINVAL);
		CU_ASSERT_PTR_NULL(m);
		CU_ASSERT_NOT_EQUAL(err[0], '\0');
	}
	/* the largest sizes each arch takes are fine */
	{
		struct machine_config cfg = config(ARCH_686, 4 * GiB, 1);
		struct machine_layout l;

		CU_ASSERT_EQUAL(machine_layout_compute(&l, &cfg, NULL), 0);
		cfg = config(ARCH_686_PAE, 64 * GiB, 1);
		CU_ASSERT_EQUAL(machine_layout_compute(&l, &cfg, NULL), 0);
	}
}

static CU_TestInfo tests[] = {
	{"max_low_pfn and vmalloc=", test_lowmem_limit},
	{"highmem= mem= kernelcore= movablecore=", test_boot_params},
	{"machine_cmdline_apply", test_cmdline},
	{"reference captures: spanned/present/managed", test_captures},
	{"big PAE machines: Normal managed", test_big_pae},
	{"boot follows the layout", test_boot_matches_layout},
	{"bad configurations", test_errors},
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("layout", NULL, NULL, tests);
