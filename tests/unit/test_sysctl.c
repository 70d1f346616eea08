// SPDX-License-Identifier: MIT
/*
 * test_sysctl.c - vm.* sysctls: validation, what each write (and the lowmem_reserve_ratio
 * read) recomputes (ALLOCATOR-SPEC.md §2.5 item 5), replayed against the sysctl variations
 * captured from a real 686-pae kernel (reference/pae_mem1024_smp2.txt).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mm.h"
#include "mm_debug.h"
#include "unit.h"

#define NZ 3 /* DMA, Normal, HighMem */

/* Everything a sysctl may change, to prove that a refused write changed nothing. */
struct tunables {
	int min_free_kbytes, wsf, wbf, fraction, ratio[MAX_NR_ZONES];
	unsigned long wmark[MAX_NR_ZONES][NR_WMARK];
	long prot[MAX_NR_ZONES][MAX_NR_ZONES];
	int pcp_high[MAX_NR_ZONES], pcp_batch[MAX_NR_ZONES], threshold[MAX_NR_ZONES];
};

static void snapshot(struct machine *m, struct tunables *t)
{
	memset(t, 0, sizeof(*t));
	t->min_free_kbytes = m->min_free_kbytes;
	t->wsf = m->watermark_scale_factor;
	t->wbf = m->watermark_boost_factor;
	t->fraction = m->percpu_pagelist_high_fraction;
	memcpy(t->ratio, m->lowmem_reserve_ratio, sizeof(t->ratio));
	for (int z = 0; z < MAX_NR_ZONES; z++) {
		struct zone *zone = zone_of(m, z);

		memcpy(t->wmark[z], zone->_watermark, sizeof(t->wmark[z]));
		memcpy(t->prot[z], zone->lowmem_reserve, sizeof(t->prot[z]));
		t->pcp_high[z] = zone->per_cpu_pageset ? zone->per_cpu_pageset[0].high : -1;
		t->pcp_batch[z] = zone->per_cpu_pageset ? zone->per_cpu_pageset[0].batch : -1;
		t->threshold[z] = zone->stat_threshold;
	}
}

static bool unchanged(struct machine *m, const struct tunables *before)
{
	struct tunables now;

	snapshot(m, &now);
	return !memcmp(&now, before, sizeof(now));
}

/* One zone as a zoneinfo@ snapshot of the capture shows it. */
struct zone_snap {
	unsigned long min, low, high;
	long prot1, prot2, prot3;
	int pcp_high;
};

/* The capture's writes, in order; a snapshot follows a write when label is set. */
static const struct {
	const char *name, *value;
	const char *label; /* zoneinfo@label, NULL: no snapshot */
	struct zone_snap z[NZ];
} replay[] = {
	{"min_free_kbytes",
	 "128",
	 "min_free_kbytes=128",
	 {{0, 3, 6, 838, 982, 982, 4},
	  {31, 245, 459, 0, 1151, 1151, 252},
	  {35, 71, 107, 0, 0, 0, 35}}},
	{"min_free_kbytes",
	 "1024",
	 "min_free_kbytes=1024",
	 {{4, 7, 10, 838, 982, 982, 4},
	  {251, 465, 679, 0, 1151, 1151, 252},
	  {35, 71, 107, 0, 0, 0, 35}}},
	{"min_free_kbytes",
	 "4096",
	 "min_free_kbytes=4096",
	 {{17, 21, 25, 838, 982, 982, 10},
	  {1006, 1257, 1508, 0, 1151, 1151, 628},
	  {35, 78, 121, 0, 0, 0, 39}}},
	{"min_free_kbytes",
	 "16384",
	 "min_free_kbytes=16384",
	 {{71, 88, 105, 838, 982, 982, 44},
	  {4024, 5030, 6036, 0, 1151, 1151, 2515},
	  {35, 207, 379, 0, 0, 0, 103}}},
	{"min_free_kbytes",
	 "65536",
	 "min_free_kbytes=65536",
	 {{287, 358, 429, 838, 982, 982, 179},
	  {16096, 20120, 24144, 0, 1151, 1151, 10060},
	  {35, 725, 1415, 0, 0, 0, 362}}},
	{"min_free_kbytes", "43332", NULL, {{0}}},
	{"watermark_scale_factor",
	 "1",
	 "watermark_scale_factor=1",
	 {{190, 237, 284, 838, 982, 982, 118},
	  {10642, 13302, 15962, 0, 1151, 1151, 6651},
	  {35, 491, 947, 0, 0, 0, 245}}},
	{"watermark_scale_factor",
	 "100",
	 "watermark_scale_factor=100",
	 {{190, 237, 284, 838, 982, 982, 118},
	  {10642, 13302, 15962, 0, 1151, 1151, 6651},
	  {35, 491, 947, 0, 0, 0, 245}}},
	{"watermark_scale_factor",
	 "1000",
	 "watermark_scale_factor=1000",
	 {{190, 574, 958, 838, 982, 982, 287},
	  {10642, 32114, 53586, 0, 1151, 1151, 16057},
	  {35, 3718, 7401, 0, 0, 0, 1859}}},
	{"watermark_scale_factor",
	 "3000",
	 "watermark_scale_factor=3000",
	 {{190, 1342, 2494, 838, 982, 982, 671},
	  {10642, 75059, 139476, 0, 1151, 1151, 37529},
	  {35, 11085, 22135, 0, 0, 0, 5542}}},
	{"watermark_scale_factor", "10", NULL, {{0}}},
	{"lowmem_reserve_ratio",
	 "128 16 8 0",
	 "lowmem_reserve_ratio=128 16 8 0",
	 {{190, 237, 284, 1677, 1965, 1965, 118},
	  {10642, 13302, 15962, 0, 2302, 2302, 6651},
	  {35, 491, 947, 0, 0, 0, 245}}},
	{"lowmem_reserve_ratio",
	 "1 1 1 1",
	 "lowmem_reserve_ratio=1 1 1 1",
	 {{190, 237, 284, 214724, 251558, 251558, 118},
	  {10642, 13302, 15962, 0, 36834, 36834, 6651},
	  {35, 491, 947, 0, 0, 0, 245}}},
	{"lowmem_reserve_ratio",
	 "0 0 0 0",
	 "lowmem_reserve_ratio=0 0 0 0",
	 {{190, 237, 284, 0, 0, 0, 118},
	  {10642, 13302, 15962, 0, 0, 0, 6651},
	  {35, 491, 947, 0, 0, 0, 245}}},
	{"lowmem_reserve_ratio",
	 "512 64 32 0",
	 "lowmem_reserve_ratio=512 64 32 0",
	 {{190, 237, 284, 419, 491, 491, 118},
	  {10642, 13302, 15962, 0, 575, 575, 6651},
	  {35, 491, 947, 0, 0, 0, 245}}},
	{"lowmem_reserve_ratio",
	 "32 32 32 32",
	 "lowmem_reserve_ratio=32 32 32 32",
	 {{190, 237, 284, 6710, 7861, 7861, 118},
	  {10642, 13302, 15962, 0, 1151, 1151, 6651},
	  {35, 491, 947, 0, 0, 0, 245}}},
	{"lowmem_reserve_ratio", "256 32 0 0", NULL, {{0}}},
	{"percpu_pagelist_high_fraction",
	 "8",
	 "percpu_pagelist_high_fraction=8",
	 {{190, 237, 284, 838, 982, 982, 240},
	  {10642, 13302, 15962, 0, 1151, 1151, 13420},
	  {35, 491, 947, 0, 0, 0, 2302}}},
	{"percpu_pagelist_high_fraction",
	 "9",
	 "percpu_pagelist_high_fraction=9",
	 {{190, 237, 284, 838, 982, 982, 213},
	  {10642, 13302, 15962, 0, 1151, 1151, 11929},
	  {35, 491, 947, 0, 0, 0, 2046}}},
	{"percpu_pagelist_high_fraction",
	 "100",
	 "percpu_pagelist_high_fraction=100",
	 {{190, 237, 284, 838, 982, 982, 19},
	  {10642, 13302, 15962, 0, 1151, 1151, 1073},
	  {35, 491, 947, 0, 0, 0, 184}}},
	{"percpu_pagelist_high_fraction",
	 "1000",
	 "percpu_pagelist_high_fraction=1000",
	 {{190, 237, 284, 838, 982, 982, 4},
	  {10642, 13302, 15962, 0, 1151, 1151, 252},
	  {35, 491, 947, 0, 0, 0, 28}}},
	{"percpu_pagelist_high_fraction",
	 "0",
	 "percpu_pagelist_high_fraction=0",
	 {{190, 237, 284, 838, 982, 982, 118},
	  {10642, 13302, 15962, 0, 1151, 1151, 6651},
	  {35, 491, 947, 0, 0, 0, 245}}},
	{"percpu_pagelist_high_fraction", "0", NULL, {{0}}},
	{"min_free_kbytes", "8192", NULL, {{0}}},
	{"watermark_scale_factor", "200", NULL, {{0}}},
	{"lowmem_reserve_ratio",
	 "64 8 4 0",
	 "combo:mfk=8192,wsf=200,lrr=64 8 4 0",
	 {{35, 111, 187, 3355, 3930, 3930, 55},
	  {2012, 6306, 10600, 0, 4604, 4604, 3153},
	  {35, 771, 1507, 0, 0, 0, 385}}},
	{"min_free_kbytes", "43332", NULL, {{0}}},
	{"watermark_scale_factor", "10", NULL, {{0}}},
	{"lowmem_reserve_ratio",
	 "256 32 0 0",
	 "restored-defaults",
	 {{190, 237, 284, 838, 982, 982, 118},
	  {10642, 13302, 15962, 0, 1151, 1151, 6651},
	  {35, 491, 947, 0, 0, 0, 245}}},
};

static void check_snap(struct machine *m, const char *label, const struct zone_snap *snap)
{
	char msg[160];

	for (int z = 0; z < NZ; z++) {
		const struct zone *zone = zone_of(m, z);
		const struct zone_snap *s = &snap[z];
		bool ok = zone->_watermark[WMARK_MIN] == s->min &&
			  zone->_watermark[WMARK_LOW] == s->low &&
			  zone->_watermark[WMARK_HIGH] == s->high && zone->lowmem_reserve[0] == 0 &&
			  zone->lowmem_reserve[1] == s->prot1 &&
			  zone->lowmem_reserve[2] == s->prot2 &&
			  zone->lowmem_reserve[3] == s->prot3;

		for (int cpu = 0; cpu < m->ncpus; cpu++)
			ok = ok && zone->per_cpu_pageset[cpu].high == s->pcp_high;
		snprintf(msg, sizeof(msg),
			 "zoneinfo@%s zone %s: min/low/high %lu/%lu/%lu prot (%ld, %ld, %ld) high "
			 "%d",
			 label, zone->name, zone->_watermark[WMARK_MIN],
			 zone->_watermark[WMARK_LOW], zone->_watermark[WMARK_HIGH],
			 zone->lowmem_reserve[1], zone->lowmem_reserve[2], zone->lowmem_reserve[3],
			 zone->per_cpu_pageset[0].high);
		CU_assertImplementation(ok, __LINE__, msg, __FILE__, "", CU_FALSE);
	}
}

static void test_replay_capture(void)
{
	struct machine *m = unit_boot_1g();
	char buf[64];

	for (size_t i = 0; i < ARRAY_SIZE(replay); i++) {
		CU_ASSERT_EQUAL(machine_sysctl_set(m, replay[i].name, replay[i].value), 0);
		if (!replay[i].label)
			continue;
		/* the capture's init read lowmem_reserve_ratio before every zoneinfo dump */
		CU_ASSERT_EQUAL(machine_sysctl_get(m, "vm.lowmem_reserve_ratio", buf, sizeof(buf)),
				0);
		check_snap(m, replay[i].label, replay[i].z);
		ASSERT_VERIFIED(m);
	}
	machine_free(m);
}

/* min_free_kbytes: watermarks and pcp follow; lowmem_reserve and thresholds do not. */
static void test_min_free_kbytes_write(void)
{
	static const long boot_dma_prot[MAX_NR_ZONES] = {0, 836, 980, 980};
	static const long read_dma_prot[MAX_NR_ZONES] = {0, 838, 982, 982};
	struct machine *m = unit_boot_1g();
	struct tunables before;
	char buf[64];

	snapshot(m, &before);
	CU_ASSERT_EQUAL(machine_sysctl_set(m, "vm.min_free_kbytes", "4096"), 0);
	CU_ASSERT_EQUAL(m->min_free_kbytes, 4096);
	CU_ASSERT_EQUAL(m->user_min_free_kbytes, 4096);
	CU_ASSERT_EQUAL(zone_of(m, 0)->_watermark[WMARK_MIN], 17);
	CU_ASSERT_EQUAL(zone_of(m, 1)->per_cpu_pageset[1].high, 628);
	for (int z = 0; z < MAX_NR_ZONES; z++) {
		CU_ASSERT_EQUAL(memcmp(zone_of(m, z)->lowmem_reserve, before.prot[z],
				       sizeof(before.prot[z])),
				0);
		CU_ASSERT_EQUAL(zone_of(m, z)->stat_threshold, before.threshold[z]);
	}
	CU_ASSERT_EQUAL(memcmp(before.prot[0], boot_dma_prot, sizeof(boot_dma_prot)), 0);

	/* reading lowmem_reserve_ratio refreshes protection from today's managed counts */
	CU_ASSERT_EQUAL(machine_sysctl_get(m, "lowmem_reserve_ratio", buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "256\t32\t0\t0");
	CU_ASSERT_EQUAL(memcmp(zone_of(m, 0)->lowmem_reserve, read_dma_prot, sizeof(read_dma_prot)),
			0);
	CU_ASSERT_EQUAL(machine_sysctl_get(m, "min_free_kbytes", buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "4096");
	ASSERT_VERIFIED(m);
	machine_free(m);
}

/* Writes the kernel refuses: -EINVAL (or -ENOENT) and nothing changes. */
static const struct {
	const char *name, *value;
	int ret;
} refused[] = {
	{"watermark_scale_factor", "0", -EINVAL},
	{"watermark_scale_factor", "3001", -EINVAL},
	{"watermark_scale_factor", "10 20", -EINVAL},
	{"percpu_pagelist_high_fraction", "1", -EINVAL},
	{"percpu_pagelist_high_fraction", "4", -EINVAL},
	{"percpu_pagelist_high_fraction", "7", -EINVAL},
	{"percpu_pagelist_high_fraction", "-1", -EINVAL},
	{"min_free_kbytes", "12abc", -EINVAL},
	{"min_free_kbytes", "", -EINVAL},
	{"min_free_kbytes", "  ", -EINVAL},
	{"min_free_kbytes", "-5", -EINVAL},
	{"vm.nonexistent", "1", -ENOENT},
	{"kernel.min_free_kbytes", "1", -ENOENT},
	{"", "1", -ENOENT},
};

static void test_refused_writes(void)
{
	struct machine *m = unit_boot_1g();
	struct tunables before;
	char buf[64];

	snapshot(m, &before);
	for (size_t i = 0; i < ARRAY_SIZE(refused); i++) {
		CU_ASSERT_EQUAL(machine_sysctl_set(m, refused[i].name, refused[i].value),
				refused[i].ret);
		CU_ASSERT_TRUE(unchanged(m, &before));
	}
	CU_ASSERT_EQUAL(machine_sysctl_get(m, "vm.nonexistent", buf, sizeof(buf)), -ENOENT);
	/* the bounds themselves are accepted */
	CU_ASSERT_EQUAL(machine_sysctl_set(m, "watermark_scale_factor", "1"), 0);
	CU_ASSERT_EQUAL(machine_sysctl_set(m, "watermark_scale_factor", "3000"), 0);
	CU_ASSERT_EQUAL(m->watermark_scale_factor, 3000);
	ASSERT_VERIFIED(m);
	machine_free(m);
}

/* percpu_pagelist_high_fraction 8: high = max(managed / 8 / ncpus, 4 * batch). */
static void test_high_fraction(void)
{
	struct machine *m = unit_boot_1g();
	struct zone *normal = zone_of(m, ZONE_NORMAL);

	CU_ASSERT_EQUAL(machine_sysctl_set(m, "vm.percpu_pagelist_high_fraction", "8"), 0);
	for (int z = 0; z < MAX_NR_ZONES; z++) {
		struct zone *zone = zone_of(m, z);
		long high = (long)(zone->managed_pages / 8 / (unsigned long)m->ncpus), floor;

		if (!zone->present_pages)
			continue;
		floor = 4l * zone->per_cpu_pageset[0].batch;
		CU_ASSERT_EQUAL(zone->per_cpu_pageset[1].high, high > floor ? high : floor);
	}
	/* writing the value already set recomputes nothing */
	normal->pageset_high = 5;
	for (int cpu = 0; cpu < m->ncpus; cpu++)
		normal->per_cpu_pageset[cpu].high = 5;
	CU_ASSERT_EQUAL(machine_sysctl_set(m, "vm.percpu_pagelist_high_fraction", "8"), 0);
	CU_ASSERT_EQUAL(normal->per_cpu_pageset[0].high, 5);
	/* a new value does */
	CU_ASSERT_EQUAL(machine_sysctl_set(m, "vm.percpu_pagelist_high_fraction", "9"), 0);
	CU_ASSERT_EQUAL(normal->per_cpu_pageset[0].high, 11929);
	CU_ASSERT_EQUAL(machine_sysctl_set(m, "vm.percpu_pagelist_high_fraction", "0"), 0);
	CU_ASSERT_EQUAL(normal->per_cpu_pageset[0].high, 6651);
	ASSERT_VERIFIED(m);
	machine_free(m);
}

static void test_names(void)
{
	struct machine *m = unit_boot_1g();
	char buf[64];
	int n = 0;

	for (const char *name; (name = machine_sysctl_name(n)); n++) {
		CU_ASSERT_EQUAL(strncmp(name, "vm.", 3), 0);
		CU_ASSERT_EQUAL(machine_sysctl_get(m, name, buf, sizeof(buf)), 0);
		CU_ASSERT_NOT_EQUAL(buf[0], '\0');
	}
	CU_ASSERT(n >= 5);
	CU_ASSERT_PTR_NULL(machine_sysctl_name(-1));
	CU_ASSERT_EQUAL(machine_sysctl_get(m, "vm/watermark_scale_factor", buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "10");
	CU_ASSERT_EQUAL(machine_sysctl_get(m, "percpu_pagelist_high_fraction", buf, sizeof(buf)),
			0);
	CU_ASSERT_STRING_EQUAL(buf, "0");
	/* a short buffer is cut, not overrun */
	CU_ASSERT_EQUAL(machine_sysctl_get(m, "lowmem_reserve_ratio", buf, 5), 0);
	CU_ASSERT_STRING_EQUAL(buf, "256\t");
	ASSERT_VERIFIED(m);
	machine_free(m);
}

/* 6.1's lowmem_reserve_ratio handler ignores parse errors: the values before one are kept. */
static void test_lowmem_reserve_lenient(void)
{
	struct machine *m = unit_boot_1g();
	char buf[64];

	CU_ASSERT_EQUAL(machine_sysctl_set(m, "vm.lowmem_reserve_ratio", "64 x"), 0);
	CU_ASSERT_EQUAL(machine_sysctl_get(m, "vm.lowmem_reserve_ratio", buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "64\t32\t0\t0");
	CU_ASSERT_EQUAL(machine_sysctl_set(m, "vm.lowmem_reserve_ratio", "1 2 3 4 5"), 0);
	CU_ASSERT_EQUAL(machine_sysctl_get(m, "vm.lowmem_reserve_ratio", buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "1\t2\t3\t4");
	CU_ASSERT_EQUAL(machine_sysctl_set(m, "vm.lowmem_reserve_ratio", "0x10"), 0);
	CU_ASSERT_EQUAL(machine_sysctl_get(m, "vm.lowmem_reserve_ratio", buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "16\t2\t3\t4");
	ASSERT_VERIFIED(m);
	machine_free(m);
}

static CU_TestInfo tests[] = {
	{"lowmem_reserve_ratio keeps what parsed", test_lowmem_reserve_lenient},
	{"replay the 1 GiB capture's sysctl variations", test_replay_capture},
	{"min_free_kbytes write and lowmem_reserve_ratio read", test_min_free_kbytes_write},
	{"refused writes change nothing", test_refused_writes},
	{"percpu_pagelist_high_fraction", test_high_fraction},
	{"names and formatting", test_names},
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("sysctl", NULL, NULL, tests);
