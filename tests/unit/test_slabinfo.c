// SPDX-License-Identifier: MIT
/*
 * test_slabinfo.c - the slab views (node/mm/slabinfo.c): /proc/slabinfo's exact layout and
 * cache order against the 686-pae 1 GiB capture, counters as SLUB reports them after
 * allocations, new and merged caches, slabtop's summary, columns and sort keys, the
 * /sys/kernel/slab dump with aliases, node filtering, a process without the slab layer,
 * and JSON that is well formed and agrees with the text.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gfp.h"
#include "mm_debug.h"
#include "slab.h"
#include "unit.h"
#include "views.h"

#define NELEM(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define MAX_LINES 256

static const char slabinfo_header[] =
	"slabinfo - version: 2.1\n"
	"# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : "
	"tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> "
	"<sharedavail>\n";

/* The boot caches at the bottom of pae_mem1024_smp2.txt's slabinfo, in its order (§8.5). */
static const struct {
	const char *name;
	unsigned int objsize, objperslab, pagesperslab;
} capture_caches[] = {
	{"dma-kmalloc-8k", 8192, 4, 8},	 {"dma-kmalloc-4k", 4096, 8, 8},
	{"dma-kmalloc-2k", 2048, 16, 8}, {"dma-kmalloc-1k", 1024, 16, 4},
	{"dma-kmalloc-512", 512, 16, 2}, {"dma-kmalloc-256", 256, 16, 1},
	{"dma-kmalloc-192", 192, 21, 1}, {"dma-kmalloc-128", 128, 32, 1},
	{"dma-kmalloc-96", 96, 42, 1},	 {"dma-kmalloc-64", 64, 64, 1},
	{"dma-kmalloc-32", 32, 128, 1},	 {"dma-kmalloc-16", 16, 256, 1},
	{"dma-kmalloc-8", 8, 512, 1},	 {"kmalloc-rcl-8k", 8192, 4, 8},
	{"kmalloc-rcl-4k", 4096, 8, 8},	 {"kmalloc-rcl-2k", 2048, 16, 8},
	{"kmalloc-rcl-1k", 1024, 16, 4}, {"kmalloc-rcl-512", 512, 16, 2},
	{"kmalloc-rcl-256", 256, 16, 1}, {"kmalloc-rcl-192", 192, 21, 1},
	{"kmalloc-rcl-128", 128, 32, 1}, {"kmalloc-rcl-96", 96, 42, 1},
	{"kmalloc-rcl-64", 64, 64, 1},	 {"kmalloc-rcl-32", 32, 128, 1},
	{"kmalloc-rcl-16", 16, 256, 1},	 {"kmalloc-rcl-8", 8, 512, 1},
	{"kmalloc-cg-8k", 8192, 4, 8},	 {"kmalloc-cg-4k", 4096, 8, 8},
	{"kmalloc-cg-2k", 2048, 16, 8},	 {"kmalloc-cg-1k", 1024, 16, 4},
	{"kmalloc-cg-512", 512, 16, 2},	 {"kmalloc-cg-256", 256, 16, 1},
	{"kmalloc-cg-192", 192, 21, 1},	 {"kmalloc-cg-128", 128, 32, 1},
	{"kmalloc-cg-96", 96, 42, 1},	 {"kmalloc-cg-64", 64, 64, 1},
	{"kmalloc-cg-32", 32, 128, 1},	 {"kmalloc-cg-16", 16, 256, 1},
	{"kmalloc-cg-8", 8, 512, 1},	 {"kmalloc-8k", 8192, 4, 8},
	{"kmalloc-4k", 4096, 8, 8},	 {"kmalloc-2k", 2048, 16, 8},
	{"kmalloc-1k", 1024, 16, 4},	 {"kmalloc-512", 512, 16, 2},
	{"kmalloc-256", 256, 16, 1},	 {"kmalloc-192", 192, 21, 1},
	{"kmalloc-128", 128, 32, 1},	 {"kmalloc-96", 96, 42, 1},
	{"kmalloc-64", 64, 64, 1},	 {"kmalloc-32", 32, 128, 1},
	{"kmalloc-16", 16, 256, 1},	 {"kmalloc-8", 8, 512, 1},
	{"kmem_cache_node", 32, 128, 1}, {"kmem_cache", 192, 21, 1},
};

/* sys_kernel_slab lines of the capture up to " objects=" (the counters are the boot's). */
static const char *const capture_sysfs[] = {
	"dma-kmalloc-64  order=0 objs_per_slab=64 object_size=64 slab_size=64 align=64 "
	"cache_dma=1 reclaim_account=0 hwcache_align=0 cpu_partial=120 min_partial=5",
	"kmalloc-8k  order=3 objs_per_slab=4 object_size=8192 slab_size=8192 align=8192 "
	"cache_dma=0 reclaim_account=0 hwcache_align=0 cpu_partial=6 min_partial=6",
	"kmalloc-96  order=0 objs_per_slab=42 object_size=96 slab_size=96 align=8 cache_dma=0 "
	"reclaim_account=0 hwcache_align=0 cpu_partial=120 min_partial=5",
	"kmalloc-cg-192  order=0 objs_per_slab=21 object_size=192 slab_size=192 align=8 "
	"cache_dma=0 reclaim_account=0 hwcache_align=0 cpu_partial=120 min_partial=5",
	"kmalloc-rcl-1k  order=2 objs_per_slab=16 object_size=1024 slab_size=1024 align=1024 "
	"cache_dma=0 reclaim_account=1 hwcache_align=0 cpu_partial=24 min_partial=5",
	"kmem_cache  order=0 objs_per_slab=21 object_size=140 slab_size=192 align=64 cache_dma=0 "
	"reclaim_account=0 hwcache_align=1 cpu_partial=120 min_partial=5",
	"kmem_cache_node  order=0 objs_per_slab=128 object_size=32 slab_size=32 align=32 "
	"cache_dma=0 reclaim_account=0 hwcache_align=1 cpu_partial=120 min_partial=5",
};

/* ---- machines and rendering -------------------------------------------------------------- */

static struct machine *boot_mem(int nr_nodes, int local_node, uint64_t mem)
{
	struct machine_config cfg;
	struct machine *m = NULL;
	char err[MM_ERRLEN];

	machine_config_init(&cfg);
	cfg.ncpus = 2;
	cfg.mem_bytes = mem;
	cfg.nr_nodes = nr_nodes;
	cfg.local_node = local_node;
	if (machine_new(&m, &cfg, err))
		fprintf(stderr, "machine_new: %s\n", err);
	return m;
}

static struct machine *boot(int nr_nodes, int local_node)
{
	/* two nodes of 256 MiB: both have lowmem */
	return boot_mem(nr_nodes, local_node, (nr_nodes > 1 ? 512ull : 1024ull) << 20);
}

static struct machine *boot_capture(void)
{
	return boot(1, -1);
}

/* After every test: the zones still satisfy their invariants (mm_debug.c). */
static void verify_and_free(struct machine *m)
{
	ASSERT_VERIFIED(m);
	machine_free(m);
}

/* A view as a heap string: @key '\0' renders mm_view_show(@view), else mm_slabtop_show(). */
static char *show(struct machine *m, enum mm_view view, char key, int nid, bool json, int *ret)
{
	struct seq_file s;
	char *out = NULL;
	int r;

	seq_init(&s);
	r = key ? mm_slabtop_show(&s, m, key, nid, json) : mm_view_show(&s, m, view, nid, json);
	if (!r)
		out = strdup(s.buf);
	if (r)
		CU_ASSERT_EQUAL(s.count, 0);
	seq_release(&s);
	if (ret)
		*ret = r;
	return out;
}

static char *view_text(struct machine *m, enum mm_view view, int nid)
{
	return show(m, view, '\0', nid, false, NULL);
}

/* ---- /proc/slabinfo lines ---------------------------------------------------------------- */

struct si_line {
	char name[64];
	unsigned long active, num, active_slabs, num_slabs, shared;
	unsigned int objsize, perslab, pages, tunables[3];
};

/* One data line; false unless every field is there and printing it back gives @line. */
static bool si_parse_line(const char *line, size_t len, struct si_line *l)
{
	char again[256];

	if (sscanf(line, "%63s %lu %lu %u %u %u : tunables %u %u %u : slabdata %lu %lu %lu",
		   l->name, &l->active, &l->num, &l->objsize, &l->perslab, &l->pages,
		   &l->tunables[0], &l->tunables[1], &l->tunables[2], &l->active_slabs,
		   &l->num_slabs, &l->shared) != 12)
		return false;
	snprintf(again, sizeof(again),
		 "%-17s %6lu %6lu %6u %4u %4u : tunables %4u %4u %4u : slabdata %6lu %6lu %6lu",
		 l->name, l->active, l->num, l->objsize, l->perslab, l->pages, l->tunables[0],
		 l->tunables[1], l->tunables[2], l->active_slabs, l->num_slabs, l->shared);
	if (strlen(again) != len || strncmp(again, line, len))
		fprintf(stderr, "\n    line '%.*s'\n    want '%s'\n", (int)len, line, again);
	return strlen(again) == len && !strncmp(again, line, len);
}

/* The data lines after the header; -1 if the header or a line is malformed. */
static int si_parse(const char *text, struct si_line *lines, int max)
{
	int n = 0;

	if (strncmp(text, slabinfo_header, strlen(slabinfo_header)))
		return -1;
	for (const char *p = text + strlen(slabinfo_header); *p && n < max; n++) {
		const char *nl = strchr(p, '\n');

		if (!nl || !si_parse_line(p, (size_t)(nl - p), &lines[n]))
			return -1;
		p = nl + 1;
	}
	return n;
}

static const struct si_line *si_find(const struct si_line *lines, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(lines[i].name, name))
			return &lines[i];
	return NULL;
}

/* The lines of the slabinfo view now; -1 on a malformed view. */
static int slabinfo_now(struct machine *m, int nid, struct si_line *lines)
{
	char *text = view_text(m, VIEW_SLABINFO, nid);
	int n = text ? si_parse(text, lines, MAX_LINES) : -1;

	free(text);
	return n;
}

/* The slabinfo line of @name now (zeroed if there is none). */
static struct si_line si_of(struct machine *m, int nid, const char *name)
{
	static struct si_line lines[MAX_LINES];
	struct si_line none = {.name = ""};
	int n = slabinfo_now(m, nid, lines);
	const struct si_line *l = n > 0 ? si_find(lines, n, name) : NULL;

	return l ? *l : none;
}

/* ---- compact JSON: the subset the views write (no whitespace, integers only) ------------- */

static bool jv_value(const char **p, int depth);

static bool jv_string(const char **p)
{
	const char *s = *p;

	if (*s++ != '"')
		return false;
	for (; *s != '"'; s++) {
		if ((unsigned char)*s < 0x20)
			return false;
		if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
			s++;
		else if (*s == '\\' && s[1] == 'u' && strspn(s + 2, "0123456789abcdef") >= 4)
			s += 5;
		else if (*s == '\\')
			return false;
	}
	*p = s + 1;
	return true;
}

static bool jv_integer(const char **p)
{
	const char *s = *p + (**p == '-');
	size_t digits = strspn(s, "0123456789");

	if (!digits || (*s == '0' && digits > 1))
		return false;
	*p = s + digits;
	return true;
}

/* An object (@close '}') or array (']') after its opening bracket. */
static bool jv_container(const char **p, char close, int depth)
{
	if (**p == close) {
		(*p)++;
		return true;
	}
	for (;;) {
		if (close == '}' && (!jv_string(p) || *(*p)++ != ':'))
			return false;
		if (!jv_value(p, depth + 1))
			return false;
		if (**p == close) {
			(*p)++;
			return true;
		}
		if (*(*p)++ != ',')
			return false;
	}
}

static bool jv_value(const char **p, int depth)
{
	char c = **p;

	if (depth > 16)
		return false;
	if (c == '{' || c == '[') {
		(*p)++;
		return jv_container(p, c == '{' ? '}' : ']', depth);
	}
	if (c == '"')
		return jv_string(p);
	if (!strncmp(*p, "true", 4) || !strncmp(*p, "null", 4)) {
		*p += 4;
		return true;
	}
	if (!strncmp(*p, "false", 5)) {
		*p += 5;
		return true;
	}
	return jv_integer(p);
}

static bool json_ok(const char *json)
{
	const char *p = json;

	return json && jv_value(&p, 0) && *p == '\0';
}

/* The integer "@key": of the object whose "name" is @name (-1 if absent). */
static long long json_field(const char *json, const char *name, const char *key)
{
	char anchor[96], pat[64];
	const char *obj, *end, *k;

	snprintf(anchor, sizeof(anchor), "{\"name\":\"%s\",", name);
	snprintf(pat, sizeof(pat), "\"%s\":", key);
	obj = strstr(json, anchor);
	end = obj ? strchr(obj, '}') : NULL;
	k = obj ? strstr(obj, pat) : NULL;
	if (!k || k > end)
		return -1;
	return strtoll(k + strlen(pat), NULL, 10);
}

/* ---- tests: /proc/slabinfo --------------------------------------------------------------- */

static void test_lookup(void)
{
	static const char *const names[] = {"slabinfo", "slabtop", "slabs"};
	static const enum mm_view views[] = {VIEW_SLABINFO, VIEW_SLABTOP, VIEW_SLABS};

	for (int i = 0; i < NELEM(names); i++) {
		CU_ASSERT_EQUAL(mm_view_lookup(names[i]), (int)views[i]);
		CU_ASSERT_STRING_EQUAL(mm_view_name(views[i]), names[i]);
	}
	CU_ASSERT_EQUAL(mm_view_lookup("slab"), -ENOENT);
}

/* After boot: the 52 kmalloc caches and the two bootstrap caches, in the capture's order. */
static void test_boot_caches_match_capture(void)
{
	static struct si_line lines[MAX_LINES];
	struct machine *m = boot_capture();
	int n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	n = slabinfo_now(m, -1, lines);
	CU_ASSERT_EQUAL_FATAL(n, NELEM(capture_caches));
	for (int i = 0; i < n; i++) {
		CU_ASSERT_STRING_EQUAL(lines[i].name, capture_caches[i].name);
		CU_ASSERT_EQUAL(lines[i].objsize, capture_caches[i].objsize);
		CU_ASSERT_EQUAL(lines[i].perslab, capture_caches[i].objperslab);
		CU_ASSERT_EQUAL(lines[i].pages, capture_caches[i].pagesperslab);
		CU_ASSERT_EQUAL(lines[i].tunables[0] | lines[i].tunables[1] | lines[i].tunables[2],
				0);
		CU_ASSERT_EQUAL(lines[i].active_slabs, lines[i].num_slabs);
		CU_ASSERT_EQUAL(lines[i].shared, 0);
		CU_ASSERT_EQUAL(lines[i].num, lines[i].num_slabs * lines[i].perslab);
	}
	/* the descriptors of 54 caches: kmem_cache 63 (3 slabs of 21), kmem_cache_node 128 */
	CU_ASSERT_EQUAL(lines[n - 1].num, 63);
	CU_ASSERT_EQUAL(lines[n - 2].num, 128);
	verify_and_free(m);
}

/* Objects of CPU slabs and CPU partial slabs count as active; node partial slabs' don't. */
static void test_counts_follow_kmalloc(void)
{
	struct machine *m = boot_capture();
	struct kmem_cache *s;
	unsigned long obj[100];
	struct slabinfo info;
	struct si_line l;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	s = kmalloc_slab(m, 50, GFP_KERNEL);
	for (int i = 0; i < NELEM(obj); i++)
		CU_ASSERT_NOT_EQUAL_FATAL(obj[i] = kmalloc(m, 50, GFP_KERNEL, 0), 0);
	l = si_of(m, -1, "kmalloc-64");
	CU_ASSERT_TRUE(l.num == 128 && l.active == 128 && l.num_slabs == 2);
	for (int i = 0; i < NELEM(obj); i++)
		CU_ASSERT_EQUAL(kfree(m, obj[i], 0), 0);
	l = si_of(m, -1, "kmalloc-64");
	CU_ASSERT_TRUE(l.num == 128 && l.active == 128);
	CU_ASSERT_EQUAL(kmem_cache_validate(s, NULL, 0), 0); /* flushes the CPU slabs */
	l = si_of(m, -1, "kmalloc-64");
	get_slabinfo(s, -1, &info);
	CU_ASSERT_TRUE(l.num == 128 && l.active == 0 && l.num_slabs == 2);
	CU_ASSERT_TRUE(info.num_objs == l.num && info.active_objs == l.active);
	kmem_cache_shrink(s);
	l = si_of(m, -1, "kmalloc-64");
	CU_ASSERT_TRUE(l.num == 0 && l.active == 0 && l.num_slabs == 0);
	verify_and_free(m);
}

/* A created cache is the newest: first line; its descriptor is one more kmem_cache object. */
static void test_new_cache_first(void)
{
	static struct si_line lines[MAX_LINES];
	struct machine *m = boot_capture();
	struct kmem_cache *s;
	unsigned long obj;
	int n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL_FATAL(kmem_cache_create(m, &s, "numasim_obj", 100, 0, 0, true), 0);
	CU_ASSERT_NOT_EQUAL_FATAL(obj = kmem_cache_alloc(s, GFP_KERNEL, 1), 0);
	n = slabinfo_now(m, -1, lines);
	CU_ASSERT_EQUAL_FATAL(n, NELEM(capture_caches) + 1);
	CU_ASSERT_STRING_EQUAL(lines[0].name, "numasim_obj");
	CU_ASSERT_TRUE(lines[0].objsize == 104 && lines[0].perslab == 39 && lines[0].pages == 1);
	CU_ASSERT_TRUE(lines[0].num == 39 && lines[0].active == 39 && lines[0].num_slabs == 1);
	CU_ASSERT_STRING_EQUAL(lines[n - 1].name, "kmem_cache");
	CU_ASSERT_EQUAL(lines[n - 1].active, 63);
	CU_ASSERT_EQUAL(kmem_cache_free(s, obj, 1), 0);
	CU_ASSERT_EQUAL(kmem_cache_destroy(m, "numasim_obj"), 0);
	CU_ASSERT_EQUAL(slabinfo_now(m, -1, lines), NELEM(capture_caches));
	verify_and_free(m);
}

/* ---- tests: merged caches and the /sys/kernel/slab dump ---------------------------------- */

/* The sysfs line of @name in the slabs view (a heap copy without its newline), or NULL. */
static char *slabs_line(const char *text, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, name, n) && p[n] == ' ')
			return strndup(p, strcspn(p, "\n"));
	return NULL;
}

static void check_slabs_line(const char *text, const char *name, const char *want)
{
	char *line = slabs_line(text, name);

	CU_ASSERT_PTR_NOT_NULL_FATAL(line);
	if (strcmp(line, want))
		fprintf(stderr, "\n    got  '%s'\n    want '%s'\n", line, want);
	CU_ASSERT_STRING_EQUAL(line, want);
	free(line);
}

static void test_merged_caches(void)
{
	static const char attrs[] = "order=0 objs_per_slab=128 object_size=32 slab_size=32 align=8 "
				    "cache_dma=0 reclaim_account=0 hwcache_align=0 cpu_partial=120 "
				    "min_partial=5 objects=1 slabs=1 aliases=1";
	static struct si_line lines[MAX_LINES];
	struct machine *m = boot_capture();
	struct kmem_cache *a, *b;
	char *text, want[256];
	unsigned long obj;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL_FATAL(kmem_cache_create(m, &a, "a", 30, 0, 0, false), 0);
	CU_ASSERT_EQUAL_FATAL(kmem_cache_create(m, &b, "b", 32, 0, 0, false), 0);
	CU_ASSERT_PTR_EQUAL(a, b);
	CU_ASSERT_NOT_EQUAL_FATAL(obj = kmem_cache_alloc(b, GFP_KERNEL, 0), 0);
	CU_ASSERT_EQUAL(kmem_cache_validate(a, NULL, 0), 0); /* 1 active object of 128 */
	CU_ASSERT_EQUAL(slabinfo_now(m, -1, lines), NELEM(capture_caches) + 1);
	CU_ASSERT_STRING_EQUAL(lines[0].name, "a");
	CU_ASSERT_PTR_NULL(si_find(lines, NELEM(capture_caches) + 1, "b"));
	text = view_text(m, VIEW_SLABS, -1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	snprintf(want, sizeof(want), ":0000032  %s", attrs);
	check_slabs_line(text, ":0000032", want);
	snprintf(want, sizeof(want), "a -> :0000032 %s", attrs);
	check_slabs_line(text, "a", want);
	snprintf(want, sizeof(want), "b -> :0000032 %s", attrs);
	check_slabs_line(text, "b", want);
	free(text);
	CU_ASSERT_EQUAL(kmem_cache_free(a, obj, 0), 0);
	CU_ASSERT_EQUAL(kmem_cache_destroy(m, "b"), 0);
	text = view_text(m, VIEW_SLABS, -1);
	CU_ASSERT_PTR_NULL(slabs_line(text, "b"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, " min_partial=5 objects=0 slabs=1 aliases=0\na -> "));
	free(text);
	verify_and_free(m);
}

/* One entry per name, sorted as `ls`; the boot caches' attributes equal the capture's. */
static void test_slabs_dump(void)
{
	struct machine *m = boot_capture();
	struct kmem_cache *s;
	char *text, *prev = NULL;
	int lines = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL_FATAL(kmem_cache_create(m, &s, "Zeta", 64, 0, 0, false), 0);
	CU_ASSERT_EQUAL_FATAL(kmem_cache_create(m, &s, "eta", 60, 0, 0, false), 0);
	text = view_text(m, VIEW_SLABS, -1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_EQUAL(
		strncmp(text, "# name [-> alias_target] order objs_per_slab object_size", 56), 0);
	for (char *p = strchr(text, '\n') + 1; *p; p = strchr(p, '\n') + 1, lines++) {
		p[strcspn(p, " ")] = '\0';
		CU_ASSERT_TRUE(!prev || strcmp(prev, p) < 0);
		prev = p;
		p += strlen(p) + 1;
	}
	CU_ASSERT_EQUAL(lines, NELEM(capture_caches) + 3); /* + ":0000064", "Zeta", "eta" */
	free(text);
	text = view_text(m, VIEW_SLABS, -1);
	for (int i = 0; i < NELEM(capture_sysfs); i++) {
		char name[32], *line;

		sscanf(capture_sysfs[i], "%31s", name);
		line = slabs_line(text, name);
		CU_ASSERT_PTR_NOT_NULL_FATAL(line);
		CU_ASSERT_EQUAL(strncmp(line, capture_sysfs[i], strlen(capture_sysfs[i])), 0);
		CU_ASSERT_EQUAL(strncmp(line + strlen(capture_sysfs[i]), " objects=", 9), 0);
		free(line);
	}
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\nZeta -> :0000064 order=0"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\neta -> :0000064 order=0"));
	free(text);
	verify_and_free(m);
}

/* ---- tests: slabtop ---------------------------------------------------------------------- */

struct top_row {
	char name[64];
	unsigned int objs, active, use, slabs, perslab;
	double size_k;
	unsigned long cache_k;
};

/* Rows after the header; -1 when a row does not print back to itself. */
static int top_rows(const char *text, struct top_row *rows, int max)
{
	const char *p = strstr(text, "\n  OBJS ACTIVE");
	char again[256];
	int n = 0;

	for (p = p ? strchr(p + 1, '\n') : NULL; p && p[1] && n < max; n++) {
		struct top_row *r = &rows[n];
		size_t len = strcspn(++p, "\n");

		if (sscanf(p, "%u %u %u%% %lfK %u %u %luK %63s", &r->objs, &r->active, &r->use,
			   &r->size_k, &r->slabs, &r->perslab, &r->cache_k, r->name) != 8)
			return -1;
		snprintf(again, sizeof(again), "%6u %6u %3u%% %7.2fK %6u %8u %9luK %-23s", r->objs,
			 r->active, r->use, r->size_k, r->slabs, r->perslab, r->cache_k, r->name);
		if (strlen(again) != len || strncmp(again, p, len))
			return -1;
		p += len;
	}
	return n;
}

/* The summary block slabtop prints for these slabinfo lines. */
static void top_summary(const struct si_line *l, int n, char *out, size_t size)
{
	unsigned long a = 0, t = 0, as = 0, ts = 0, ac = 0, asz = 0, tsz = 0, lo = ~0ul, hi = 0;

	for (int i = 0; i < n; i++) {
		a += l[i].active;
		t += l[i].num;
		as += l[i].active_slabs;
		ts += l[i].num_slabs;
		ac += l[i].num != 0;
		asz += l[i].active * l[i].objsize;
		tsz += l[i].num * l[i].objsize;
		lo = l[i].objsize < lo ? l[i].objsize : lo;
		hi = l[i].objsize > hi ? l[i].objsize : hi;
	}
	snprintf(out, size,
		 " Active / Total Objects (%% used)    : %lu / %lu (%.1f%%)\n"
		 " Active / Total Slabs (%% used)      : %lu / %lu (%.1f%%)\n"
		 " Active / Total Caches (%% used)     : %lu / %d (%.1f%%)\n"
		 " Active / Total Size (%% used)       : %.2fK / %.2fK (%.1f%%)\n"
		 " Minimum / Average / Maximum Object : %.2fK / %.2fK / %.2fK\n\n"
		 "  OBJS ACTIVE  USE OBJ SIZE  SLABS OBJ/SLAB CACHE SIZE NAME                   \n",
		 a, t, 100.0 * a / t, as, ts, 100.0 * as / ts, ac, n, 100.0 * ac / n, asz / 1024.0,
		 tsz / 1024.0, 100.0 * asz / tsz, lo / 1024.0, (double)(tsz / t) / 1024.0,
		 hi / 1024.0);
}

static void test_slabtop_layout(void)
{
	static struct si_line lines[MAX_LINES];
	static struct top_row rows[MAX_LINES];
	struct machine *m = boot_capture();
	char *text, *dflt, want[1024];
	unsigned long obj = 0;
	int n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	for (int i = 0; i < 40; i++)
		obj = kmalloc(m, 700, GFP_KERNEL, i & 1); /* kmalloc-1k: 3 slabs of 16 */
	CU_ASSERT_NOT_EQUAL(obj, 0);
	CU_ASSERT_EQUAL(kfree(m, obj, 1), 0);
	n = slabinfo_now(m, -1, lines);
	text = show(m, VIEW_SLABTOP, 'o', -1, false, NULL);
	dflt = view_text(m, VIEW_SLABTOP, -1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_PTR_NOT_NULL_FATAL(dflt);
	CU_ASSERT_STRING_EQUAL(text, dflt);
	top_summary(lines, n, want, sizeof(want));
	CU_ASSERT_EQUAL(strncmp(text, want, strlen(want)), 0);
	CU_ASSERT_EQUAL_FATAL(top_rows(text, rows, MAX_LINES), n);
	CU_ASSERT_STRING_EQUAL(rows[0].name, "kmem_cache_node");
	for (int i = 0; i < n; i++) {
		const struct si_line *l = si_find(lines, n, rows[i].name);

		CU_ASSERT_PTR_NOT_NULL_FATAL(l);
		CU_ASSERT_TRUE(rows[i].objs == l->num && rows[i].active == l->active);
		CU_ASSERT_EQUAL(rows[i].cache_k, l->num_slabs * l->pages * 4);
		CU_ASSERT_EQUAL(rows[i].use, l->num ? (unsigned int)(100 * l->active / l->num) : 0);
	}
	free(text);
	free(dflt);
	verify_and_free(m);
}

/* The value a sort key orders by, from a row and its slabinfo line. */
static unsigned long top_key(const struct top_row *r, const struct si_line *l, char key)
{
	switch (key) {
	case 'a':
		return r->active;
	case 'b':
		return r->perslab;
	case 'c':
		return r->cache_k;
	case 'l':
		return r->slabs;
	case 'v':
		return l->active_slabs;
	case 'p':
		return l->pages;
	case 's':
		return l->objsize;
	case 'u':
		return r->use;
	default:
		return r->objs;
	}
}

/* Rows are in @key order; equal keys keep /proc/slabinfo order. */
static void check_sorted(const struct top_row *rows, int n, const struct si_line *lines, char key)
{
	for (int i = 1; i < n; i++) {
		const struct si_line *x = si_find(lines, n, rows[i - 1].name);
		const struct si_line *y = si_find(lines, n, rows[i].name);
		unsigned long kx = top_key(&rows[i - 1], x, key), ky = top_key(&rows[i], y, key);

		bool ok =
			key == 'n' ? strcmp(x->name, y->name) < 0 : kx > ky || (kx == ky && x < y);

		if (!ok)
			fprintf(stderr, "\n    sort %c: %s before %s\n", key, x->name, y->name);
		CU_ASSERT_TRUE(ok);
	}
}

static void test_slabtop_sort_keys(void)
{
	static struct si_line lines[MAX_LINES];
	static struct top_row rows[MAX_LINES];
	struct machine *m = boot_capture();
	int n, ret;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	for (int i = 0; i < 30; i++)
		kmalloc(m, 16u << (i % 9), i % 3 ? GFP_KERNEL : GFP_KERNEL_ACCOUNT, i & 1);
	n = slabinfo_now(m, -1, lines);
	for (const char *k = "abclvnopsu"; *k; k++) {
		char *text = show(m, VIEW_SLABTOP, *k, -1, false, NULL);

		CU_ASSERT_PTR_NOT_NULL_FATAL(text);
		CU_ASSERT_EQUAL_FATAL(top_rows(text, rows, MAX_LINES), n);
		check_sorted(rows, n, lines, *k);
		free(text);
	}
	CU_ASSERT_PTR_NULL(show(m, VIEW_SLABTOP, 'x', -1, false, &ret));
	CU_ASSERT_EQUAL(ret, -EINVAL);
	CU_ASSERT_PTR_NULL(show(m, VIEW_SLABTOP, 'O', -1, true, &ret));
	CU_ASSERT_EQUAL(ret, -EINVAL);
	CU_ASSERT_PTR_NULL(show(m, VIEW_SLABTOP, 'o', 1, false, &ret));
	CU_ASSERT_EQUAL(ret, -EINVAL);
	verify_and_free(m);
}

/* ---- tests: JSON ------------------------------------------------------------------------- */

static void check_slabinfo_json(struct machine *m, const struct si_line *lines, int n)
{
	char *json = show(m, VIEW_SLABINFO, '\0', -1, true, NULL);

	CU_ASSERT_TRUE_FATAL(json_ok(json));
	CU_ASSERT_EQUAL(strncmp(json, "{\"caches\":[{\"name\":\"a\",", 23), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"num_slabs\":1,\"aliases\":[\"a\",\"b\"]}"));
	for (int i = 0; i < n; i++) {
		CU_ASSERT_EQUAL(json_field(json, lines[i].name, "active_objs"), lines[i].active);
		CU_ASSERT_EQUAL(json_field(json, lines[i].name, "num_objs"), lines[i].num);
		CU_ASSERT_EQUAL(json_field(json, lines[i].name, "objsize"), lines[i].objsize);
		CU_ASSERT_EQUAL(json_field(json, lines[i].name, "pagesperslab"), lines[i].pages);
		CU_ASSERT_EQUAL(json_field(json, lines[i].name, "num_slabs"), lines[i].num_slabs);
	}
	free(json);
}

static void check_slabtop_json(struct machine *m, const struct si_line *lines, int n)
{
	char *json = show(m, VIEW_SLABTOP, 'n', -1, true, NULL);
	unsigned long objs = 0;

	CU_ASSERT_TRUE_FATAL(json_ok(json));
	CU_ASSERT_EQUAL(strncmp(json, "{\"summary\":{\"active_objs\":", 26), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "},\"caches\":[{\"name\":\"a\","));
	for (int i = 0; i < n; i++) {
		objs += lines[i].num;
		CU_ASSERT_EQUAL(json_field(json, lines[i].name, "num_objs"), lines[i].num);
		CU_ASSERT_EQUAL(json_field(json, lines[i].name, "cache_size_kB"),
				lines[i].num_slabs * lines[i].pages * 4);
	}
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"num_caches\":55,"));
	CU_ASSERT_EQUAL(strtoul(strstr(json, "\"num_objs\":") + 11, NULL, 10), objs);
	free(json);
}

static void check_slabs_json(struct machine *m)
{
	char *json = show(m, VIEW_SLABS, '\0', -1, true, NULL);
	char *text = view_text(m, VIEW_SLABS, -1);
	int entries = 0, lines = -1;

	CU_ASSERT_TRUE_FATAL(json_ok(json));
	for (const char *p = json; (p = strstr(p, "{\"name\":")); p++)
		entries++;
	for (const char *p = text; (p = strchr(p, '\n')); p++)
		lines++;
	CU_ASSERT_EQUAL(entries, lines);
	CU_ASSERT_EQUAL(json_field(json, "b", "aliases"), 1);
	CU_ASSERT_PTR_NOT_NULL(
		strstr(json, "{\"name\":\"b\",\"alias_of\":\":0000032\",\"order\":0,"));
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "{\"name\":\":0000032\",\"order\":0,"));
	CU_ASSERT_EQUAL(json_field(json, "kmalloc-64", "objects"), 128);
	CU_ASSERT_EQUAL(json_field(json, "kmalloc-64", "slabs"), 2);
	free(json);
	free(text);
}

static void test_json_matches_text(void)
{
	static struct si_line lines[MAX_LINES];
	struct machine *m = boot_capture();
	struct kmem_cache *a, *b;
	int n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_TRUE(json_ok("{\"a\":[1,-2,\"x\\\"\\u00e9\"],\"b\":{},\"c\":true}"));
	CU_ASSERT_FALSE(json_ok("{\"a\":1,}") || json_ok("[01]") || json_ok("{\"a\" :1}"));
	CU_ASSERT_EQUAL_FATAL(kmem_cache_create(m, &a, "a", 30, 0, 0, false), 0);
	CU_ASSERT_EQUAL_FATAL(kmem_cache_create(m, &b, "b", 32, 0, 0, false), 0);
	CU_ASSERT_NOT_EQUAL(kmem_cache_alloc(a, GFP_KERNEL, 0), 0);
	for (int i = 0; i < 100; i++)
		CU_ASSERT_NOT_EQUAL(kmalloc(m, 64, GFP_KERNEL, i & 1), 0);
	n = slabinfo_now(m, -1, lines);
	CU_ASSERT_EQUAL_FATAL(n, NELEM(capture_caches) + 1);
	check_slabinfo_json(m, lines, n);
	check_slabtop_json(m, lines, n);
	check_slabs_json(m);
	verify_and_free(m);
}

/* ---- tests: nodes and a process without the slab layer ----------------------------------- */

static void test_node_counts(void)
{
	struct machine *m = boot(2, -1);
	struct si_line all, n0, n1;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	for (int i = 0; i < 70; i++)
		CU_ASSERT_NOT_EQUAL(kmalloc_node(m, 64, GFP_KERNEL, 1, 0), 0);
	all = si_of(m, -1, "kmalloc-64");
	n0 = si_of(m, 0, "kmalloc-64");
	n1 = si_of(m, 1, "kmalloc-64");
	CU_ASSERT_TRUE(all.num == 128 && all.num_slabs == 2);
	CU_ASSERT_TRUE(n1.num == 128 && n1.active == 128 && n0.num == 0 && n0.num_slabs == 0);
	n0 = si_of(m, 0, "kmem_cache_node");
	n1 = si_of(m, 1, "kmem_cache_node");
	CU_ASSERT_TRUE(n0.active == 54 && n0.num == 128 && n1.num == 128); /* 54 caches' */
	verify_and_free(m);
}

/* This process holds only a HighMem node: no slab layer here, headers and empty lists. */
static void test_no_slab_layer(void)
{
	static const char *const json_want[] = {"{\"caches\":[]}", NULL, "{\"entries\":[]}"};
	struct machine *m = boot_mem(2, 1, 2 * GiB); /* node 1 = 1..2 GiB: HighMem only */
	char *out;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_PTR_NULL_FATAL(m->slab);
	out = view_text(m, VIEW_SLABINFO, -1);
	CU_ASSERT_STRING_EQUAL(out, slabinfo_header);
	free(out);
	out = view_text(m, VIEW_SLABS, 1);
	CU_ASSERT_EQUAL(strcspn(out, "\n") + 1, strlen(out));
	free(out);
	out = view_text(m, VIEW_SLABTOP, -1);
	CU_ASSERT_EQUAL(strncmp(out, " Active / Total Objects (% used)    : 0 / 0 (0.0%)\n", 51),
			0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "Object : 0.00K / 0.00K / 0.00K\n\n  OBJS ACTIVE"));
	free(out);
	for (int v = VIEW_SLABINFO; v <= VIEW_SLABS; v++) {
		out = show(m, v, '\0', -1, true, NULL);
		CU_ASSERT_TRUE(json_ok(out));
		if (json_want[v - VIEW_SLABINFO])
			CU_ASSERT_STRING_EQUAL(out, json_want[v - VIEW_SLABINFO]);
		free(out);
	}
	verify_and_free(m);
}

static CU_TestInfo tests[] = {
	{"lookup", test_lookup},
	{"boot_caches_match_capture", test_boot_caches_match_capture},
	{"counts_follow_kmalloc", test_counts_follow_kmalloc},
	{"new_cache_first", test_new_cache_first},
	{"merged_caches", test_merged_caches},
	{"slabs_dump", test_slabs_dump},
	{"slabtop_layout", test_slabtop_layout},
	{"slabtop_sort_keys", test_slabtop_sort_keys},
	{"json_matches_text", test_json_matches_text},
	{"node_counts", test_node_counts},
	{"no_slab_layer", test_no_slab_layer},
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("slabinfo", NULL, NULL, tests);
