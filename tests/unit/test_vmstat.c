// SPDX-License-Identifier: MIT
/*
 * test_vmstat.c - the /proc views (node/mm/vmstat.c): text layout against the 686-pae 1 GiB
 * capture, stat names and their order, JSON well-formedness and agreement with the text,
 * views after allocations, NUMA lines and the numastat table, and argument errors.
 *
 * The machine of most tests is the capture's: 686-pae, 1 GiB, 2 CPUs, with the capture's
 * boot reservations, so watermarks, protection, pcp high/batch and thresholds must equal it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "mm_debug.h"
#include "unit.h"
#include "views.h"

/* ---- machines ---------------------------------------------------------------------------- */

static struct machine *boot_capture_machine(void)
{
	struct machine_config cfg;
	struct machine *m = NULL;
	char err[MM_ERRLEN];

	machine_config_init(&cfg);
	cfg.mem_bytes = 1024ull << 20;
	cfg.ncpus = 2;
	cfg.reserve[ZONE_DMA] = 158;
	cfg.reserve[ZONE_NORMAL] = 6951;
	cfg.late_free[ZONE_NORMAL] = 493;
	if (machine_new(&m, &cfg, err))
		fprintf(stderr, "machine_new: %s\n", err);
	return m;
}

static struct machine *boot_numa_machine(int local_node)
{
	struct machine_config cfg;
	struct machine *m = NULL;
	char err[MM_ERRLEN];

	machine_config_init(&cfg);
	cfg.nr_nodes = 2;
	cfg.mem_bytes = 2048ull << 20;
	cfg.ncpus = 2;
	cfg.local_node = local_node;
	if (machine_new(&m, &cfg, err))
		fprintf(stderr, "machine_new: %s\n", err);
	return m;
}

/* After every test: the zones still satisfy their invariants (mm_debug.c). */
static void verify_and_free(struct machine *m)
{
	ASSERT_VERIFIED(m);
	machine_free(m);
}

/* The view as a heap string (NULL when mm_view_show fails; *@ret says why). */
static char *render(struct machine *m, enum mm_view view, int nid, bool json, int *ret)
{
	struct seq_file s;
	char *out = NULL;
	int r;

	seq_init(&s);
	r = mm_view_show(&s, m, view, nid, json);
	if (!r)
		out = strdup(s.buf);
	seq_release(&s);
	if (ret)
		*ret = r;
	return out;
}

/* ---- text helpers ------------------------------------------------------------------------ */

/* The number that follows the first line starting with @prefix at or after @from. */
static long long text_num(const char *from, const char *prefix)
{
	size_t n = strlen(prefix);

	for (const char *p = from; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, prefix, n))
			return strtoll(p + n, NULL, 10);
	return -1;
}

/* The first word of each line, ending at a character of @stops or the newline, in order. */
static int line_names(const char *text, const char *stops, char names[][64], int max)
{
	int n = 0;

	for (const char *p = text; *p && n < max;) {
		size_t len = strcspn(p, stops);

		snprintf(names[n++], 64, "%.*s", (int)len, p);
		p = strchr(p, '\n');
		if (!p)
			break;
		p++;
	}
	return n;
}

static bool names_equal(const char *text, const char *stops, const char *const *want, int nwant)
{
	static char got[512][64];
	int n = line_names(text, stops, got, 512);

	if (n != nwant) {
		fprintf(stderr, "\n    %d names, want %d\n", n, nwant);
		return false;
	}
	for (int i = 0; i < n; i++)
		if (strcmp(got[i], want[i])) {
			fprintf(stderr, "\n    name %d is '%s', want '%s'\n", i, got[i], want[i]);
			return false;
		}
	return true;
}

/* Parse the number at @p into *@v; returns where it ends. */
static const char *next_num(const char *p, long long *v)
{
	char *end;

	*v = strtoll(p, &end, 10);
	return end;
}

/* The 11 block counts of a buddyinfo line for @zone of node @nid. */
static bool buddy_counts(const char *text, int nid, const char *zone, long long out[11])
{
	char head[64];
	const char *p;

	snprintf(head, sizeof(head), "Node %d, zone %8s ", nid, zone);
	p = strstr(text, head);
	if (!p)
		return false;
	p += strlen(head);
	for (int o = 0; o < 11; o++)
		p = next_num(p, &out[o]);
	return true;
}

/* ---- a tiny JSON checker ----------------------------------------------------------------- */

static const char *js_value(const char *p, int depth);

static const char *js_ws(const char *p)
{
	while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
		p++;
	return p;
}

static const char *js_string(const char *p)
{
	if (*p++ != '"')
		return NULL;
	for (; *p != '"'; p++) {
		if ((unsigned char)*p < 0x20)
			return NULL;
		if (*p != '\\')
			continue;
		p++;
		if (*p == 'u') {
			for (int i = 1; i <= 4; i++)
				if (!p[i] || !strchr("0123456789abcdefABCDEF", p[i]))
					return NULL;
			p += 4;
		} else if (!*p || !strchr("\"\\/bfnrt", *p)) {
			return NULL;
		}
	}
	return p + 1;
}

static const char *js_digits(const char *p)
{
	const char *start = p;

	while (*p >= '0' && *p <= '9')
		p++;
	return p == start ? NULL : p;
}

static const char *js_number(const char *p)
{
	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (!(p = js_digits(p)))
		return NULL;
	if (*p == '.' && !(p = js_digits(p + 1)))
		return NULL;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		p = js_digits(p);
	}
	return p;
}

/* Members of an object (@obj) or elements of an array, after the opening bracket. */
static const char *js_members(const char *p, bool obj, int depth)
{
	char end = obj ? '}' : ']';

	p = js_ws(p);
	if (*p == end)
		return p + 1;
	for (;;) {
		if (obj) {
			p = js_string(js_ws(p));
			if (!p || *(p = js_ws(p)) != ':')
				return NULL;
			p++;
		}
		p = js_value(p, depth + 1);
		if (!p)
			return NULL;
		p = js_ws(p);
		if (*p == end)
			return p + 1;
		if (*p++ != ',')
			return NULL;
	}
}

static const char *js_value(const char *p, int depth)
{
	if (depth > 32)
		return NULL;
	p = js_ws(p);
	if (*p == '{' || *p == '[')
		return js_members(p + 1, *p == '{', depth);
	if (*p == '"')
		return js_string(p);
	if (!strncmp(p, "true", 4) || !strncmp(p, "null", 4))
		return p + 4;
	if (!strncmp(p, "false", 5))
		return p + 5;
	return js_number(p);
}

static bool json_valid(const char *s)
{
	const char *end = s ? js_value(s, 0) : NULL;

	return end && *js_ws(end) == '\0';
}

/* The number of the first "@key": after the first occurrence of @anchor (NULL: start). */
static long long json_num_after(const char *json, const char *anchor, const char *key)
{
	char pat[80];
	const char *p = json && anchor ? strstr(json, anchor) : json;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = p ? strstr(p, pat) : NULL;
	return p ? strtoll(p + strlen(pat), NULL, 10) : -1;
}

/* ---- what the capture says --------------------------------------------------------------- */

/* /proc/vmstat names of pae_mem1024_smp2.txt in order: 11 zone items, 41 node items, ... */
/* clang-format off */
static const char *const capture_vmstat[] = {
	"nr_free_pages", "nr_zone_inactive_anon", "nr_zone_active_anon", "nr_zone_inactive_file",
	"nr_zone_active_file", "nr_zone_unevictable", "nr_zone_write_pending", "nr_mlock",
	"nr_bounce", "nr_zspages", "nr_free_cma", "nr_inactive_anon", "nr_active_anon",
	"nr_inactive_file", "nr_active_file", "nr_unevictable", "nr_slab_reclaimable",
	"nr_slab_unreclaimable", "nr_isolated_anon", "nr_isolated_file", "workingset_nodes",
	"workingset_refault_anon", "workingset_refault_file", "workingset_activate_anon",
	"workingset_activate_file", "workingset_restore_anon", "workingset_restore_file",
	"workingset_nodereclaim", "nr_anon_pages", "nr_mapped", "nr_file_pages", "nr_dirty",
	"nr_writeback", "nr_writeback_temp", "nr_shmem", "nr_shmem_hugepages",
	"nr_shmem_pmdmapped", "nr_file_hugepages", "nr_file_pmdmapped",
	"nr_anon_transparent_hugepages", "nr_vmscan_write", "nr_vmscan_immediate_reclaim",
	"nr_dirtied", "nr_written", "nr_throttled_written", "nr_kernel_misc_reclaimable",
	"nr_foll_pin_acquired", "nr_foll_pin_released", "nr_kernel_stack", "nr_page_table_pages",
	"nr_sec_page_table_pages", "nr_swapcached", "nr_dirty_threshold",
	"nr_dirty_background_threshold", "pgpgin", "pgpgout", "pswpin", "pswpout", "pgalloc_dma",
	"pgalloc_normal", "pgalloc_high", "pgalloc_movable", "allocstall_dma", "allocstall_normal",
	"allocstall_high", "allocstall_movable", "pgskip_dma", "pgskip_normal", "pgskip_high",
	"pgskip_movable", "pgfree", "pgactivate", "pgdeactivate", "pglazyfree", "pgfault",
	"pgmajfault", "pglazyfreed", "pgrefill", "pgreuse", "pgsteal_kswapd", "pgsteal_direct",
	"pgdemote_kswapd", "pgdemote_direct", "pgscan_kswapd", "pgscan_direct",
	"pgscan_direct_throttle", "pgscan_anon", "pgscan_file", "pgsteal_anon", "pgsteal_file",
	"pginodesteal", "slabs_scanned", "kswapd_inodesteal", "kswapd_low_wmark_hit_quickly",
	"kswapd_high_wmark_hit_quickly", "pageoutrun", "pgrotated", "drop_pagecache", "drop_slab",
	"oom_kill", "pgmigrate_success", "pgmigrate_fail", "thp_migration_success",
	"thp_migration_fail", "thp_migration_split", "compact_migrate_scanned",
	"compact_free_scanned", "compact_isolated", "compact_stall", "compact_fail",
	"compact_success", "compact_daemon_wake", "compact_daemon_migrate_scanned",
	"compact_daemon_free_scanned", "htlb_buddy_alloc_success", "htlb_buddy_alloc_fail",
	"unevictable_pgs_culled", "unevictable_pgs_scanned", "unevictable_pgs_rescued",
	"unevictable_pgs_mlocked", "unevictable_pgs_munlocked", "unevictable_pgs_cleared",
	"unevictable_pgs_stranded", "thp_fault_alloc", "thp_fault_fallback",
	"thp_fault_fallback_charge", "thp_collapse_alloc", "thp_collapse_alloc_failed",
	"thp_file_alloc", "thp_file_fallback", "thp_file_fallback_charge", "thp_file_mapped",
	"thp_split_page", "thp_split_page_failed", "thp_deferred_split_page", "thp_split_pmd",
	"thp_scan_exceed_none_pte", "thp_scan_exceed_swap_pte", "thp_scan_exceed_share_pte",
	"thp_zero_page_alloc", "thp_zero_page_alloc_failed", "thp_swpout", "thp_swpout_fallback",
	"balloon_inflate", "balloon_deflate", "balloon_migrate", "swap_ra", "swap_ra_hit",
	"ksm_swpin_copy", "cow_ksm", "zswpin", "zswpout", "direct_map_level2_splits",
	"direct_map_level3_splits", "nr_unstable",
};
/* clang-format on */
#define NR_ZONE_NAMES 11
#define NR_NODE_NAMES 41

/* clang-format off */
static const char *const capture_meminfo[] = {
	"MemTotal", "MemFree", "MemAvailable", "Buffers", "Cached", "SwapCached", "Active",
	"Inactive", "Active(anon)", "Inactive(anon)", "Active(file)", "Inactive(file)",
	"Unevictable", "Mlocked", "HighTotal", "HighFree", "LowTotal", "LowFree", "SwapTotal",
	"SwapFree", "Zswap", "Zswapped", "Dirty", "Writeback", "AnonPages", "Mapped", "Shmem",
	"KReclaimable", "Slab", "SReclaimable", "SUnreclaim", "KernelStack", "PageTables",
	"SecPageTables", "NFS_Unstable", "Bounce", "WritebackTmp", "CommitLimit", "Committed_AS",
	"VmallocTotal", "VmallocUsed", "VmallocChunk", "Percpu", "HardwareCorrupted",
	"AnonHugePages", "ShmemHugePages", "ShmemPmdMapped", "FileHugePages", "FilePmdMapped",
	"HugePages_Total", "HugePages_Free", "HugePages_Rsvd", "HugePages_Surp", "Hugepagesize",
	"Hugetlb", "DirectMap4k", "DirectMap2M",
};
/* clang-format on */

#define NELEM(a) ((int)(sizeof(a) / sizeof((a)[0])))

struct zone_expect {
	const char *name;
	unsigned long min, low, high, spanned, present, managed;
	const char *protection;
	int pcp_high, pcp_batch, threshold;
	unsigned long start_pfn;
};

static const struct zone_expect capture_zones[MAX_NR_ZONES] = {
	{"DMA", 190, 237, 284, 4095, 3998, 3840, "(0, 836, 980, 980)", 118, 1, 4, 1},
	{"Normal", 10642, 13302, 15962, 221182, 221182, 214724, "(0, 0, 1151, 1151)", 6651, 63, 16,
	 4096},
	{"HighMem", 35, 492, 949, 36834, 36834, 36834, "(0, 0, 0, 0)", 246, 7, 8, 225278},
	{"Movable", 32, 32, 32, 0, 0, 0, "(0, 0, 0, 0)", 0, 0, 0, 0},
};

/* ---- the zoneinfo template: exact lines, or a prefix followed by a number ---------------- */

#define TMPL_MAX 512

struct tmpl {
	int n;			 /* lines */
	bool prefix[TMPL_MAX];	 /* the line is @text then digits */
	char text[TMPL_MAX][96]; /* the line or its prefix */
};

static void __attribute__((format(printf, 3, 4)))
t_add(struct tmpl *t, bool prefix, const char *fmt, ...)
{
	va_list ap;

	if (t->n == TMPL_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(t->text[t->n], sizeof(t->text[0]), fmt, ap);
	va_end(ap);
	t->prefix[t->n++] = prefix;
}

static void t_stats(struct tmpl *t, int first, int count)
{
	for (int i = first; i < first + count; i++)
		t_add(t, true, "      %-12s ", capture_vmstat[i]);
}

static void t_populated_tail(struct tmpl *t, const struct zone_expect *z, int ncpus)
{
	t_stats(t, 0, NR_ZONE_NAMES);
	t_add(t, false, "  pagesets");
	for (int cpu = 0; cpu < ncpus; cpu++) {
		t_add(t, false, "    cpu: %d", cpu);
		t_add(t, true, "              count: ");
		t_add(t, false, "              high:  %d", z->pcp_high);
		t_add(t, false, "              batch: %d", z->pcp_batch);
		t_add(t, false, "  vm stats threshold: %d", z->threshold);
	}
	t_add(t, false, "  node_unreclaimable:  0");
	t_add(t, false, "  start_pfn:           %lu", z->start_pfn);
}

static void t_zone(struct tmpl *t, const struct zone_expect *z, bool first, int ncpus)
{
	t_add(t, false, "Node 0, zone %8s", z->name);
	if (first) {
		t_add(t, false, "  per-node stats");
		t_stats(t, NR_ZONE_NAMES, NR_NODE_NAMES);
	}
	t_add(t, true, "  pages free     ");
	t_add(t, false, "        boost    0");
	t_add(t, false, "        min      %lu", z->min);
	t_add(t, false, "        low      %lu", z->low);
	t_add(t, false, "        high     %lu", z->high);
	t_add(t, false, "        spanned  %lu", z->spanned);
	t_add(t, false, "        present  %lu", z->present);
	t_add(t, false, "        managed  %lu", z->managed);
	t_add(t, false, "        cma      0");
	t_add(t, false, "        protection: %s", z->protection);
	if (z->present)
		t_populated_tail(t, z, ncpus);
}

static bool tmpl_line_ok(const struct tmpl *t, int i, const char *line, size_t len)
{
	size_t n = strlen(t->text[i]);

	if (!t->prefix[i])
		return len == n && !strncmp(line, t->text[i], n);
	if (len <= n || strncmp(line, t->text[i], n))
		return false;
	return strspn(line + n, "0123456789") == len - n;
}

/* Compare @text line by line with @t; report the first difference on stderr. */
static bool tmpl_match(const struct tmpl *t, const char *text)
{
	const char *p = text;
	int i;

	for (i = 0; *p; i++) {
		size_t len = strcspn(p, "\n");

		if (i >= t->n || !tmpl_line_ok(t, i, p, len)) {
			fprintf(stderr, "\n    line %d: '%.*s', want '%s'\n", i + 1, (int)len, p,
				i < t->n ? t->text[i] : "(end)");
			return false;
		}
		p += len + (p[len] == '\n');
	}
	if (i != t->n)
		fprintf(stderr, "\n    %d lines, want %d\n", i, t->n);
	return i == t->n;
}

/* ---- tests ------------------------------------------------------------------------------- */

static void test_lookup(void)
{
	for (int v = 0; v < NR_MM_VIEWS; v++) {
		CU_ASSERT_PTR_NOT_NULL_FATAL(mm_view_name(v));
		CU_ASSERT_EQUAL(mm_view_lookup(mm_view_name(v)), v);
	}
	CU_ASSERT_STRING_EQUAL(mm_view_name(VIEW_ZONEINFO), "zoneinfo");
	CU_ASSERT_STRING_EQUAL(mm_view_name(VIEW_NUMASTAT), "numastat");
	CU_ASSERT_EQUAL(mm_view_lookup("slab"), -ENOENT);
	CU_ASSERT_EQUAL(mm_view_lookup(""), -ENOENT);
	CU_ASSERT_PTR_NULL(mm_view_name(NR_MM_VIEWS));
}

static void test_bad_arguments(void)
{
	struct machine *m = boot_capture_machine();
	struct seq_file s;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	seq_init(&s);
	CU_ASSERT_EQUAL(mm_view_show(&s, m, NR_MM_VIEWS, -1, false), -EINVAL);
	CU_ASSERT_EQUAL(mm_view_show(&s, m, (enum mm_view) - 1, -1, true), -EINVAL);
	CU_ASSERT_EQUAL(mm_view_show(&s, m, VIEW_ZONEINFO, 1, false), -EINVAL);
	CU_ASSERT_EQUAL(mm_view_show(&s, m, VIEW_MEMINFO, MAX_NUMNODES, true), -EINVAL);
	CU_ASSERT_EQUAL(s.count, 0);
	CU_ASSERT_EQUAL(mm_view_show(&s, m, VIEW_BUDDYINFO, 0, false), 0);
	CU_ASSERT_NOT_EQUAL(s.count, 0);
	seq_release(&s);
	verify_and_free(m);
}

static void test_zoneinfo_capture_layout(void)
{
	struct machine *m = boot_capture_machine();
	static struct tmpl t;
	char *text;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	t.n = 0;
	for (int z = 0; z < MAX_NR_ZONES; z++)
		t_zone(&t, &capture_zones[z], z == 0, 2);
	text = render(m, VIEW_ZONEINFO, -1, false, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_TRUE(tmpl_match(&t, text));
	CU_ASSERT_PTR_NULL(strstr(text, "numa_"));
	free(text);
	verify_and_free(m);
}

static void test_stat_names(void)
{
	struct machine *m = boot_capture_machine();
	char *vmstat, *meminfo;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	vmstat = render(m, VIEW_VMSTAT, -1, false, NULL);
	meminfo = render(m, VIEW_MEMINFO, -1, false, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(vmstat);
	CU_ASSERT_PTR_NOT_NULL_FATAL(meminfo);
	CU_ASSERT_TRUE(names_equal(vmstat, " \n", capture_vmstat, NELEM(capture_vmstat)));
	CU_ASSERT_TRUE(names_equal(meminfo, ":\n", capture_meminfo, NELEM(capture_meminfo)));
	free(vmstat);
	free(meminfo);
	verify_and_free(m);
}

static void test_meminfo_values(void)
{
	struct machine *m = boot_capture_machine();
	char *text, *vmstat;
	long long free_kb;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	text = render(m, VIEW_MEMINFO, -1, false, NULL);
	vmstat = render(m, VIEW_VMSTAT, -1, false, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_PTR_NOT_NULL_FATAL(vmstat);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "MemTotal:        1021592 kB\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\nHighTotal:        147336 kB\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\nLowTotal:         874256 kB\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\nCommitLimit:      510796 kB\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\nVmallocTotal:     122880 kB\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\nHardwareCorrupted:     0 kB\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\nHugePages_Total:       0\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\nHugepagesize:       2048 kB\n"));
	free_kb = text_num(text, "MemFree:");
	CU_ASSERT_EQUAL(free_kb, text_num(vmstat, "nr_free_pages ") * 4);
	/* No page cache and no slab: MemAvailable is free minus totalreserve. */
	CU_ASSERT_EQUAL(text_num(text, "MemAvailable:"),
			free_kb - (long long)m->totalreserve_pages * 4);
	CU_ASSERT_EQUAL(text_num(text, "HighFree:") + text_num(text, "LowFree:"), free_kb);
	CU_ASSERT_TRUE(text_num(vmstat, "nr_dirty_background_threshold ") > 0);
	CU_ASSERT_TRUE(text_num(vmstat, "nr_dirty_background_threshold ") <
		       text_num(vmstat, "nr_dirty_threshold "));
	free(text);
	free(vmstat);
	verify_and_free(m);
}

static void test_buddyinfo_follows_allocation(void)
{
	struct machine *m = boot_capture_machine();
	char *before, *during, *after, *zoneinfo;
	long long counts[11], free_pages_sum = 0;
	unsigned long pfn;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	before = render(m, VIEW_BUDDYINFO, -1, false, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(before);
	CU_ASSERT_EQUAL_FATAL(__alloc_pages(m, &pfn, GFP_KERNEL, 5, 0, -1, 0, 1, NULL), 0);
	during = render(m, VIEW_BUDDYINFO, -1, false, NULL);
	zoneinfo = render(m, VIEW_ZONEINFO, -1, false, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(during);
	CU_ASSERT_PTR_NOT_NULL_FATAL(zoneinfo);
	CU_ASSERT_STRING_NOT_EQUAL(before, during);
	CU_ASSERT_TRUE_FATAL(buddy_counts(during, 0, "Normal", counts));
	for (int o = 0; o < 11; o++)
		free_pages_sum += counts[o] << o;
	CU_ASSERT_EQUAL(free_pages_sum,
			text_num(strstr(zoneinfo, "zone   Normal"), "  pages free     "));
	CU_ASSERT_EQUAL(free_pages(m, pfn, 5, 0, 1), 0);
	after = render(m, VIEW_BUDDYINFO, -1, false, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(after);
	CU_ASSERT_STRING_EQUAL(before, after);
	CU_ASSERT_PTR_NULL(strstr(before, "Movable"));
	free(before);
	free(during);
	free(after);
	free(zoneinfo);
	verify_and_free(m);
}

/* Pageblocks of @zone (node 0) over all types, from the "Number of blocks" section. */
static long long pagetype_blocks(const char *text, const char *zone)
{
	long long sum = 0, n;
	char line[64];
	const char *p = strstr(text, "Number of blocks");

	snprintf(line, sizeof(line), "Node 0, zone %8s ", zone);
	p = p ? strstr(p, line) : NULL;
	if (!p)
		return -1;
	p += strlen(line);
	for (int mt = 0; mt < MIGRATE_TYPES; mt++) {
		p = next_num(p, &n);
		sum += n;
	}
	return sum;
}

/* Free blocks of @zone (node 0) per order, summed over the migratetype rows. */
static bool pagetype_free(const char *text, const char *zone, long long got[11])
{
	char line[128];
	long long n;

	memset(got, 0, 11 * sizeof(got[0]));
	for (int mt = 0; mt < MIGRATE_TYPES; mt++) {
		const char *p;

		snprintf(line, sizeof(line), "Node    0, zone %8s, type %12s ", zone,
			 migratetype_names[mt]);
		p = strstr(text, line);
		if (!p)
			return false;
		p += strlen(line);
		for (int o = 0; o < 11; o++) {
			p = next_num(p, &n);
			got[o] += n;
		}
	}
	return true;
}

static void test_pagetypeinfo(void)
{
	static const long long blocks[3] = {8, 432, 72};
	struct machine *m = boot_capture_machine();
	long long want[11], got[11];
	char *text, *buddy;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	text = render(m, VIEW_PAGETYPEINFO, -1, false, NULL);
	buddy = render(m, VIEW_BUDDYINFO, -1, false, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_PTR_NOT_NULL_FATAL(buddy);
	CU_ASSERT_PTR_NOT_NULL(
		strstr(text, "Page block order: 9\nPages per block:  512\n\n"
			     "Free pages count per migrate type at order       0      1"
			     "      2      3      4      5      6      7      8      9     10 \n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\n\nNumber of blocks type     Unmovable      Movable"
					    "  Reclaimable   HighAtomic      Isolate \n"));
	for (int z = 0; z < 3; z++) {
		CU_ASSERT_EQUAL(pagetype_blocks(text, capture_zones[z].name), blocks[z]);
		CU_ASSERT_TRUE_FATAL(buddy_counts(buddy, 0, capture_zones[z].name, want));
		CU_ASSERT_TRUE_FATAL(pagetype_free(text, capture_zones[z].name, got));
		CU_ASSERT_EQUAL(memcmp(got, want, sizeof(got)), 0);
	}
	free(text);
	free(buddy);
	verify_and_free(m);
}

static void test_json_checker(void)
{
	CU_ASSERT_TRUE(json_valid("{\"a\":[1,-2.5e3,true,null,\"x\\\"\\u00e9\"],\"b\":{}}"));
	CU_ASSERT_FALSE(json_valid("{\"a\":1,}"));
	CU_ASSERT_FALSE(json_valid("{\"a\":[1,2}"));
	CU_ASSERT_FALSE(json_valid("{\"a\" 1}"));
	CU_ASSERT_FALSE(json_valid("[1] 2"));
	CU_ASSERT_FALSE(json_valid("\"tab\there\""));
}

static void test_json_all_views_valid(void)
{
	struct machine *m = boot_capture_machine();

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	for (int v = 0; v < NR_MM_VIEWS; v++)
		for (int nid = -1; nid <= 0; nid++) {
			char *json = render(m, v, nid, true, NULL);

			CU_ASSERT_PTR_NOT_NULL_FATAL(json);
			if (!json_valid(json))
				fprintf(stderr, "\n    %s (nid %d): invalid JSON\n",
					mm_view_name(v), nid);
			CU_ASSERT_TRUE(json_valid(json));
			free(json);
		}
	verify_and_free(m);
}

static void check_zone_json(const char *text, const char *json, const char *zone)
{
	static const char *const keys[][2] = {
		{"free", "  pages free     "},	  {"min", "        min      "},
		{"low", "        low      "},	  {"high", "        high     "},
		{"managed", "        managed  "}, {"start_pfn", "  start_pfn:           "},
	};
	char head[64], anchor[64];
	const char *block;

	snprintf(head, sizeof(head), "Node 0, zone %8s", zone);
	snprintf(anchor, sizeof(anchor), "\"name\":\"%s\"", zone);
	block = strstr(text, head);
	CU_ASSERT_PTR_NOT_NULL_FATAL(block);
	for (int i = 0; i < NELEM(keys); i++)
		CU_ASSERT_EQUAL(json_num_after(json, anchor, keys[i][0]),
				text_num(block, keys[i][1]));
	CU_ASSERT_EQUAL(json_num_after(json, anchor, "vm_stats_threshold"),
			text_num(block, "  vm stats threshold: "));
}

/* Every buddyinfo line and its JSON "free" array hold the same counts. */
static void check_buddy_json(const char *text, const char *json)
{
	long long c[11];
	char pat[200];

	for (int z = 0; z < 3; z++) {
		CU_ASSERT_TRUE_FATAL(buddy_counts(text, 0, capture_zones[z].name, c));
		snprintf(pat, sizeof(pat),
			 "\"zone\":\"%s\",\"free\":[%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,"
			 "%lld,%lld]",
			 capture_zones[z].name, c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7],
			 c[8], c[9], c[10]);
		CU_ASSERT_PTR_NOT_NULL(strstr(json, pat));
	}
}

static void check_counters_json(char *const text[NR_MM_VIEWS], char *const json[NR_MM_VIEWS])
{
	const char *normal = strstr(json[VIEW_PAGETYPEINFO], "\"zone\":\"Normal\"");
	long long blocks = 0;

	CU_ASSERT_EQUAL(json_num_after(json[VIEW_MEMINFO], NULL, "MemTotal_kB"), 1021592);
	CU_ASSERT_EQUAL(json_num_after(json[VIEW_MEMINFO], NULL, "MemFree_kB"),
			text_num(text[VIEW_MEMINFO], "MemFree:"));
	CU_ASSERT_EQUAL(json_num_after(json[VIEW_VMSTAT], NULL, "nr_free_pages"),
			text_num(text[VIEW_VMSTAT], "nr_free_pages "));
	CU_ASSERT_EQUAL(json_num_after(json[VIEW_VMSTAT], NULL, "pgalloc_high"),
			text_num(text[VIEW_VMSTAT], "pgalloc_high "));
	CU_ASSERT_TRUE(text_num(text[VIEW_VMSTAT], "pgalloc_high ") >= 1);
	for (int mt = 0; mt < MIGRATE_TYPES; mt++)
		blocks += json_num_after(normal, "\"blocks\"", migratetype_names[mt]);
	CU_ASSERT_EQUAL(blocks, pagetype_blocks(text[VIEW_PAGETYPEINFO], "Normal"));
	CU_ASSERT_EQUAL(json_num_after(json[VIEW_NUMASTAT], "\"node\":0", "numa_hit"),
			text_num(text[VIEW_NUMASTAT], "numa_hit"));
}

static void test_json_matches_text(void)
{
	struct machine *m = boot_capture_machine();
	char *text[NR_MM_VIEWS], *json[NR_MM_VIEWS];
	unsigned long pfn;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL_FATAL(__alloc_pages(m, &pfn, GFP_HIGHUSER_MOVABLE, 0, 1, -1, 0, 1, NULL),
			      0);
	for (int v = 0; v < NR_MM_VIEWS; v++) {
		text[v] = render(m, v, -1, false, NULL);
		json[v] = render(m, v, -1, true, NULL);
		CU_ASSERT_PTR_NOT_NULL_FATAL(text[v]);
		CU_ASSERT_PTR_NOT_NULL_FATAL(json[v]);
	}
	for (int z = 0; z < 3; z++)
		check_zone_json(text[VIEW_ZONEINFO], json[VIEW_ZONEINFO], capture_zones[z].name);
	CU_ASSERT_PTR_NOT_NULL(strstr(json[VIEW_ZONEINFO], "\"protection\":[0,836,980,980]"));
	CU_ASSERT_PTR_NOT_NULL(strstr(json[VIEW_ZONEINFO], "{\"cpu\":1,\"count\":"));
	check_buddy_json(text[VIEW_BUDDYINFO], json[VIEW_BUDDYINFO]);
	check_counters_json(text, json);
	for (int v = 0; v < NR_MM_VIEWS; v++) {
		free(text[v]);
		free(json[v]);
	}
	verify_and_free(m);
}

/* Each numastat(8) row equals the nodes' sysfs numastat files. */
static void check_numastat_rows(struct machine *m, const char *table)
{
	static const char *const rows[] = {"numa_hit",	     "numa_miss",  "numa_foreign",
					   "interleave_hit", "local_node", "other_node"};
	char *node0 = render(m, VIEW_NUMASTAT, 0, false, NULL);
	char *node1 = render(m, VIEW_NUMASTAT, 1, false, NULL);
	char want[128], prefix[32];

	CU_ASSERT_PTR_NOT_NULL_FATAL(node0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(node1);
	for (int i = 0; i < NELEM(rows); i++) {
		snprintf(prefix, sizeof(prefix), "%s ", rows[i]);
		snprintf(want, sizeof(want), "\n%-16s%16lld%16lld\n", rows[i],
			 text_num(node0, prefix), text_num(node1, prefix));
		if (!strstr(table, want))
			fprintf(stderr, "\n    no row '%s' in\n%s", want + 1, table);
		CU_ASSERT_PTR_NOT_NULL(strstr(table, want));
	}
	CU_ASSERT_TRUE(text_num(node1, "numa_hit ") >= 1);
	CU_ASSERT_TRUE(text_num(node1, "local_node ") >= 1);
	free(node0);
	free(node1);
}

static void test_numa_lines_and_numastat(void)
{
	struct machine *m = boot_numa_machine(-1);
	char *zoneinfo, *vmstat, *table;
	unsigned long pfn;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL_FATAL(__alloc_pages(m, &pfn, GFP_HIGHUSER_MOVABLE, 0, 1, 1, 0, 1, NULL), 0);
	zoneinfo = render(m, VIEW_ZONEINFO, -1, false, NULL);
	vmstat = render(m, VIEW_VMSTAT, -1, false, NULL);
	table = render(m, VIEW_NUMASTAT, -1, false, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(zoneinfo);
	CU_ASSERT_PTR_NOT_NULL_FATAL(vmstat);
	CU_ASSERT_PTR_NOT_NULL_FATAL(table);
	CU_ASSERT_PTR_NOT_NULL(strstr(zoneinfo, "\n      nr_free_cma  0\n      numa_hit     "));
	CU_ASSERT_PTR_NOT_NULL(strstr(zoneinfo, "\n      numa_foreign 0\n      numa_interleave "));
	CU_ASSERT_PTR_NOT_NULL(strstr(zoneinfo, "\n      numa_other   "));
	CU_ASSERT_PTR_NOT_NULL(strstr(zoneinfo, "Node 1, zone  HighMem\n  per-node stats\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(vmstat, "\nnr_free_cma 0\nnuma_hit "));
	CU_ASSERT_PTR_NOT_NULL(strstr(vmstat, "\nnuma_other "));
	CU_ASSERT_EQUAL(strncmp(table, "                           node0           node1\n", 49),
			0);
	check_numastat_rows(m, table);
	free(zoneinfo);
	free(vmstat);
	free(table);
	verify_and_free(m);
}

static void test_one_node_of_two(void)
{
	struct machine *m = boot_numa_machine(-1);
	char *zoneinfo, *meminfo, *vmstat;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	zoneinfo = render(m, VIEW_ZONEINFO, 1, false, NULL);
	meminfo = render(m, VIEW_MEMINFO, 1, false, NULL);
	vmstat = render(m, VIEW_VMSTAT, 1, false, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(zoneinfo);
	CU_ASSERT_PTR_NOT_NULL_FATAL(meminfo);
	CU_ASSERT_PTR_NOT_NULL_FATAL(vmstat);
	CU_ASSERT_EQUAL(strncmp(zoneinfo, "Node 1, zone      DMA\n", 22), 0);
	CU_ASSERT_PTR_NULL(strstr(zoneinfo, "Node 0"));
	CU_ASSERT_EQUAL(strncmp(meminfo, "Node 1 MemTotal:       ", 23), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(meminfo, "\nNode 1 LowTotal:              0 kB\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(meminfo, "\nNode 1 FileHugePages:        0 kB\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(meminfo, "\nNode 1 HugePages_Surp:      0\n"));
	CU_ASSERT_EQUAL(text_num(meminfo, "Node 1 MemUsed:"), 0);
	CU_ASSERT_PTR_NULL(strstr(vmstat, "pgfree"));
	CU_ASSERT_PTR_NOT_NULL(strstr(vmstat, "\nnr_swapcached 0\n"));
	free(zoneinfo);
	free(meminfo);
	free(vmstat);
	verify_and_free(m);
}

static void test_remote_node_hidden(void)
{
	struct machine *m = boot_numa_machine(1);
	char *zoneinfo, *table;
	int ret;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_PTR_NULL(render(m, VIEW_ZONEINFO, 0, false, &ret));
	CU_ASSERT_EQUAL(ret, -EINVAL);
	zoneinfo = render(m, VIEW_ZONEINFO, -1, false, NULL);
	table = render(m, VIEW_NUMASTAT, -1, false, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(zoneinfo);
	CU_ASSERT_PTR_NOT_NULL_FATAL(table);
	CU_ASSERT_PTR_NULL(strstr(zoneinfo, "Node 0"));
	CU_ASSERT_PTR_NOT_NULL(strstr(zoneinfo, "Node 1, zone  HighMem"));
	CU_ASSERT_EQUAL(strncmp(table, "                           node1\nnuma_hit ", 42), 0);
	free(zoneinfo);
	free(table);
	verify_and_free(m);
}

static CU_TestInfo tests[] = {
	{"lookup", test_lookup},
	{"bad_arguments", test_bad_arguments},
	{"zoneinfo_capture_layout", test_zoneinfo_capture_layout},
	{"stat_names", test_stat_names},
	{"meminfo_values", test_meminfo_values},
	{"buddyinfo_follows_allocation", test_buddyinfo_follows_allocation},
	{"pagetypeinfo", test_pagetypeinfo},
	{"json_checker", test_json_checker},
	{"json_all_views_valid", test_json_all_views_valid},
	{"json_matches_text", test_json_matches_text},
	{"numa_lines_and_numastat", test_numa_lines_and_numastat},
	{"one_node_of_two", test_one_node_of_two},
	{"remote_node_hidden", test_remote_node_hidden},
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("vmstat", NULL, NULL, tests);
