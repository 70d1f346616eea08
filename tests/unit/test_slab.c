// SPDX-License-Identifier: MIT
/*
 * test_slab.c - the SLUB layer (slab.h) against ALLOCATOR-SPEC.md §8 and the real kernel's
 * /sys/kernel/slab (tests/reference/pae_mem1024_smp2.txt):
 *   geometry   kmalloc caches for 1..16 CPUs (§8.2 table), named caches of the capture,
 *              the qemu32 cache line; boot order and count of the caches (§8.1, §8.5)
 *   merging    oldest compatible target, what prevents a merge, sysfs ids, slab_nomerge,
 *              aliases dropped by destroy (§8.4)
 *   kmalloc    size classes and families, ZERO_SIZE_PTR, kmalloc_large, kcalloc, kzalloc,
 *              krealloc, ksize (§8.1)
 *   addresses  PAGE_OFFSET + phys, virt_to_pfn(), DMA below 16 MiB, nodes
 *   lists      full -> CPU partial -> node partial by remote frees, min_partial, shrink,
 *              slab page accounting by cache flags (§8.3)
 *   lifecycle  create and destroy errors, invalid frees refused without a trace
 *
 * Every test ends with kmem_cache_validate() of every cache and machine_verify().
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"
#include "mm_debug.h"
#include "slab.h"
#include "unit.h"

#define DIV_ROUND_UP(n, d) (((n) + (d)-1) / (d))
#define DMA_LIMIT (16ul << 20) /* ZONE_DMA ends at 16 MiB */
#define NR_BOOT_CACHES (2 + NR_KMALLOC_TYPES * 13)

/* ---------------------------------------------------------------- helpers */

/* One CUnit assertion with a formatted message (formatted only when it fails). */
__attribute__((format(printf, 4, 5))) static void check_(bool ok, unsigned int line, bool fatal,
							 const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (ok) {
		CU_assertImplementation(CU_TRUE, line, "", __FILE__, "", CU_FALSE);
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	CU_assertImplementation(CU_FALSE, line, msg, __FILE__, "", fatal ? CU_TRUE : CU_FALSE);
}

#define CHECK(cond, ...) check_((cond), __LINE__, false, __VA_ARGS__)
#define REQUIRE(cond, ...) check_((cond), __LINE__, true, __VA_ARGS__)

static void assert_verified(struct machine *m, unsigned int line)
{
	char err[MM_ERRLEN] = "";
	int ret = machine_verify(m, err);

	check_(ret == 0, line, false, "machine_verify: %s", err);
}

static void assert_valid(struct kmem_cache *s, unsigned int line)
{
	char err[MM_ERRLEN] = "";
	unsigned long n = kmem_cache_validate(s, err, sizeof(err));

	check_(n == 0, line, false, "kmem_cache_validate(%s): %lu errors, first: %s", s->name, n,
	       err);
}

/* Every cache of the machine validates, and the machine verifies. */
static void assert_all_clean(struct machine *m, unsigned int line)
{
	for (struct kmem_cache *s = m->slab->slab_caches; s; s = s->next)
		assert_valid(s, line);
	assert_verified(m, line);
}

#define ASSERT_VALID(s) assert_valid((s), __LINE__)
#define ASSERT_CLEAN(m) assert_all_clean((m), __LINE__)

/* 686-pae, 1 GiB, @ncpus CPUs, one node: the other fields as machine_config_init() sets them. */
static void config(struct machine_config *cfg, int ncpus)
{
	machine_config_init(cfg);
	cfg->mem_bytes = 1 * GiB;
	cfg->ncpus = ncpus;
}

static struct machine *boot_cfg(const struct machine_config *cfg)
{
	char err[MM_ERRLEN] = "";
	struct machine *m = NULL;
	int ret = machine_new(&m, cfg, err);

	REQUIRE(ret == 0 && m, "machine_new: %s", err);
	return m;
}

static struct machine *boot(int ncpus)
{
	struct machine_config cfg;

	config(&cfg, ncpus);
	return boot_cfg(&cfg);
}

static struct kmem_cache *find(struct machine *m, const char *name)
{
	struct kmem_cache *s = kmem_cache_find(m, name);

	REQUIRE(s != NULL, "no cache named %s", name);
	return s;
}

static struct kmem_cache *create(struct machine *m, const char *name, unsigned int size,
				 unsigned int align, slab_flags_t flags, bool ctor)
{
	struct kmem_cache *s = NULL;
	int ret = kmem_cache_create(m, &s, name, size, align, flags, ctor);

	REQUIRE(ret == 0 && s, "kmem_cache_create(%s, %u, %u, %#x): %d", name, size, align, flags,
		ret);
	return s;
}

static struct slabinfo slabinfo(struct kmem_cache *s, int nid)
{
	struct slabinfo info;

	get_slabinfo(s, nid, &info);
	return info;
}

static long slab_bytes(struct machine *m, int nid, enum node_stat_item item)
{
	return __atomic_load_n(&m->node_data[nid]->vm_stat[item], __ATOMIC_RELAXED);
}

static struct zone *addr_zone(struct machine *m, unsigned long addr)
{
	unsigned long pfn = virt_to_pfn(m, addr);

	return pfn == ~0ul ? NULL : pfn_zone(m, pfn);
}

static int addr_node(struct machine *m, unsigned long addr)
{
	struct zone *zone = addr_zone(m, addr);

	return zone ? zone->zone_pgdat->node_id : -1;
}

static struct page *addr_page(struct machine *m, unsigned long addr)
{
	struct zone *zone = addr_zone(m, addr);

	return zone ? pfn_to_page(zone, virt_to_pfn(m, addr)) : NULL;
}

static unsigned int cpu_partial_len(const struct kmem_cache *s, int cpu)
{
	unsigned int n = 0;

	for (const struct slab *slab = s->cpu_slab[cpu].partial; slab; slab = slab->next)
		n++;
	return n;
}

static unsigned int list_len(const struct slab_list *l)
{
	unsigned int n = 0;

	for (const struct slab *slab = l->head; slab; slab = slab->next)
		n++;
	return n;
}

static bool is_power_of_2(unsigned int x)
{
	return x && !(x & (x - 1));
}

/* ---------------------------------------------------------------- geometry */

static const char *const kmalloc_prefix[NR_KMALLOC_TYPES] = {"kmalloc-", "kmalloc-cg-",
							     "kmalloc-rcl-", "dma-kmalloc-"};
static const slab_flags_t kmalloc_type_flags[NR_KMALLOC_TYPES] = {
	0, SLAB_ACCOUNT, SLAB_RECLAIM_ACCOUNT, SLAB_CACHE_DMA};
static const gfp_t kmalloc_type_gfp[NR_KMALLOC_TYPES] = {
	GFP_KERNEL, GFP_KERNEL_ACCOUNT, GFP_KERNEL | __GFP_RECLAIMABLE, GFP_KERNEL | GFP_DMA};

static void kmalloc_name(char *buf, size_t len, int type, unsigned int size)
{
	if (size >= 1024)
		snprintf(buf, len, "%s%uk", kmalloc_prefix[type], size >> 10);
	else
		snprintf(buf, len, "%s%u", kmalloc_prefix[type], size);
}

#define NR_GEOMETRY_CPUS 5
static const int geometry_cpus[NR_GEOMETRY_CPUS] = {1, 2, 4, 8, 16};

struct geo {
	unsigned int objs;  /* objects per slab */
	unsigned int pages; /* pages per slab */
};

/* ALLOCATOR-SPEC.md §8.2: kmalloc geometry by present CPUs ([R] for 1..8, model for 16). */
static const struct {
	unsigned int size;
	struct geo g[NR_GEOMETRY_CPUS];
} kmalloc_geometry[] = {
	{8, {{512, 1}, {512, 1}, {512, 1}, {512, 1}, {512, 1}}},
	{16, {{256, 1}, {256, 1}, {256, 1}, {256, 1}, {256, 1}}},
	{32, {{128, 1}, {128, 1}, {128, 1}, {128, 1}, {128, 1}}},
	{64, {{64, 1}, {64, 1}, {64, 1}, {64, 1}, {64, 1}}},
	{96, {{42, 1}, {42, 1}, {42, 1}, {42, 1}, {42, 1}}},
	{128, {{32, 1}, {32, 1}, {32, 1}, {32, 1}, {32, 1}}},
	{192, {{21, 1}, {21, 1}, {21, 1}, {21, 1}, {42, 2}}},
	{256, {{16, 1}, {16, 1}, {16, 1}, {32, 2}, {32, 2}}},
	{512, {{8, 1}, {16, 2}, {16, 2}, {32, 4}, {32, 4}}},
	{1024, {{8, 2}, {16, 4}, {16, 4}, {32, 8}, {32, 8}}},
	{2048, {{8, 4}, {16, 8}, {16, 8}, {16, 8}, {16, 8}}},
	{4096, {{8, 8}, {8, 8}, {8, 8}, {8, 8}, {8, 8}}},
	{8192, {{4, 8}, {4, 8}, {4, 8}, {4, 8}, {4, 8}}},
};

/* sysfs cpu_partial of every checked cache ([R]): by slab size. */
static unsigned int expected_cpu_partial(unsigned int size)
{
	return size >= 4096 ? 6 : size >= 1024 ? 24 : size >= 256 ? 52 : 120;
}

static void check_kmalloc_cache(struct machine *m, int type, unsigned int size, struct geo g)
{
	unsigned int align = is_power_of_2(size) ? size : 8,
		     cpu_partial = expected_cpu_partial(size);
	char name[KMEM_CACHE_NAME_LEN];
	struct kmem_cache *s;

	kmalloc_name(name, sizeof(name), type, size);
	s = find(m, name);
	CHECK(!strcmp(s->name, name), "lookup of %s found %s", name, s->name);
	CHECK(s->object_size == size && s->size == size, "%d CPUs: %s object %u size %u", m->ncpus,
	      name, s->object_size, s->size);
	CHECK(s->oo_objects == g.objs && (1u << s->oo_order) == g.pages,
	      "%d CPUs: %s holds %u objects in %u pages, the kernel %u in %u", m->ncpus, name,
	      s->oo_objects, 1u << s->oo_order, g.objs, g.pages);
	CHECK(s->align == align, "%s align %u, want %u", name, s->align, align);
	CHECK(s->min_partial == (size >= 4096 ? 6u : 5u), "%s min_partial %u", name,
	      s->min_partial);
	CHECK(s->cpu_partial == cpu_partial, "%s cpu_partial %u, want %u", name, s->cpu_partial,
	      cpu_partial);
	CHECK(s->cpu_partial_slabs == DIV_ROUND_UP(cpu_partial * 2, g.objs),
	      "%s cpu_partial_slabs %u", name, s->cpu_partial_slabs);
	CHECK((s->flags & SLAB_KMALLOC) &&
		      (s->flags & (SLAB_ACCOUNT | SLAB_RECLAIM_ACCOUNT | SLAB_CACHE_DMA)) ==
			      kmalloc_type_flags[type],
	      "%s flags %#x", name, s->flags);
	CHECK(!strcmp(s->sysfs_id, name) && s->nr_aliases == 0, "%s sysfs id %s, %d aliases", name,
	      s->sysfs_id, s->nr_aliases);
	CHECK(!!(s->allocflags & __GFP_COMP) == (s->oo_order > 0) &&
		      !!(s->allocflags & __GFP_DMA) == (type == KMALLOC_DMA) &&
		      !!(s->allocflags & __GFP_RECLAIMABLE) == (type == KMALLOC_RECLAIM),
	      "%s allocflags %#x", name, s->allocflags);
	CHECK(kmalloc_slab(m, size, kmalloc_type_gfp[type]) == s, "kmalloc_slab(%u) is not %s",
	      size, name);
}

/* Every kmalloc cache of all four families for 1, 2, 4, 8 and 16 CPUs (§8.2 table). */
static void test_kmalloc_geometry(void)
{
	for (int c = 0; c < NR_GEOMETRY_CPUS; c++) {
		struct machine_config cfg;
		struct machine *m;

		config(&cfg, geometry_cpus[c]);
		cfg.mem_bytes = 256 * MiB;
		m = boot_cfg(&cfg);
		for (int type = 0; type < NR_KMALLOC_TYPES; type++)
			for (size_t i = 0; i < ARRAY_SIZE(kmalloc_geometry); i++)
				check_kmalloc_cache(m, type, kmalloc_geometry[i].size,
						    kmalloc_geometry[i].g[c]);
		ASSERT_CLEAN(m);
		machine_free(m);
	}
}

/* Boot creates exactly 54 caches; the list is newest first, kmem_cache last (§8.5). */
static void test_boot_caches(void)
{
	static const unsigned int order[13] = {8,   16,	 32,   64,   96,   128, 192,
					       256, 512, 1024, 2048, 4096, 8192};
	char want[NR_BOOT_CACHES][KMEM_CACHE_NAME_LEN];
	struct machine *m = boot(2);
	int n = 0, i = NR_BOOT_CACHES;

	snprintf(want[n++], KMEM_CACHE_NAME_LEN, "kmem_cache");
	snprintf(want[n++], KMEM_CACHE_NAME_LEN, "kmem_cache_node");
	for (int type = 0; type < NR_KMALLOC_TYPES; type++)
		for (int k = 0; k < 13; k++)
			kmalloc_name(want[n++], KMEM_CACHE_NAME_LEN, type, order[k]);
	for (struct kmem_cache *s = m->slab->slab_caches; s; s = s->next) {
		REQUIRE(i > 0, "more than %d caches at boot", NR_BOOT_CACHES);
		i--;
		CHECK(!strcmp(s->name, want[i]), "cache %d from the tail is %s, want %s",
		      NR_BOOT_CACHES - 1 - i, s->name, want[i]);
	}
	CHECK(i == 0, "%d caches at boot, want %d", NR_BOOT_CACHES - i, NR_BOOT_CACHES);
	CHECK(m->slab->kmem_cache == find(m, "kmem_cache") &&
		      m->slab->kmem_cache_node == find(m, "kmem_cache_node"),
	      "bootstrap caches");
	CHECK(m->slab->kmem_cache->refcount < 0 && m->slab->kmem_cache_node->refcount < 0,
	      "bootstrap caches are merge targets");
	ASSERT_CLEAN(m);
	machine_free(m);
}

struct named_geometry {
	const char *name;
	unsigned int object_size;	/* as created */
	unsigned int align;		/* align argument */
	slab_flags_t flags;		/* flags argument */
	bool ctor;			/* created with a constructor */
	unsigned int size, objs, order; /* capture: slab_size, objs_per_slab, order */
	unsigned int final_align;	/* capture: align */
	unsigned int cpu_partial;	/* capture */
	unsigned int min_partial;	/* capture */
};

#define HW SLAB_HWCACHE_ALIGN
#define RCL SLAB_RECLAIM_ACCOUNT
#define ACCT SLAB_ACCOUNT
#define RCU SLAB_TYPESAFE_BY_RCU

/*
 * Caches of the 686-pae 2-CPU capture's sys_kernel_slab (tests/reference/pae_mem1024_smp2.txt):
 * object_size, align, hwcache_align and reclaim_account from the capture; flags and ctor from
 * the kernel source. A ctor or TYPESAFE_BY_RCU appends a free pointer, which is how
 * slab_size can exceed ALIGN(ALIGN(object_size, 4), align) (e.g. inode_cache 408 -> 416).
 */
static const struct named_geometry named_geometry[] = {
	{"inode_cache", 408, 0, RCL | ACCT, true, 416, 19, 1, 8, 52, 5},
	{"proc_inode_cache", 448, 0, RCL | ACCT, true, 456, 17, 1, 8, 52, 5},
	{"shmem_inode_cache", 480, 0, ACCT, true, 488, 16, 1, 8, 52, 5},
	{"hugetlbfs_inode_cache", 416, 0, ACCT, true, 424, 19, 1, 8, 52, 5},
	{"sock_inode_cache", 576, 0, HW | RCL | ACCT, true, 640, 12, 1, 64, 52, 5},
	{"task_struct", 3008, 64, ACCT, false, 3008, 10, 3, 64, 24, 5},
	{"sighand_cache", 1300, 0, HW | RCU | ACCT, true, 1344, 12, 2, 64, 24, 5},
	{"radix_tree_node", 300, 0, RCL, true, 304, 13, 0, 8, 52, 5},
	{"mm_struct", 564, 0, HW | ACCT, false, 576, 14, 1, 64, 52, 5},
	{"names_cache", 4096, 0, HW, false, 4096, 8, 3, 64, 6, 6},
	{"TCP", 1768, 0, HW | RCU | ACCT, false, 1792, 18, 3, 64, 24, 5},
	{"TCPv6", 1880, 0, HW | RCU | ACCT, false, 1920, 17, 3, 64, 24, 5},
	{"MPTCP", 1440, 0, HW | ACCT, false, 1472, 22, 3, 64, 24, 5},
	{"MPTCPv6", 1552, 0, HW | ACCT, false, 1600, 20, 3, 64, 24, 5},
	{"RAW", 744, 0, HW | RCU | ACCT, false, 768, 21, 2, 64, 52, 5},
	{"request_sock_TCP", 232, 0, RCU | ACCT, false, 240, 17, 0, 8, 120, 5},
	{"tw_sock_TCP", 200, 0, RCU | ACCT, false, 208, 19, 0, 8, 120, 5},
	{"request_sock_subflow_v4", 288, 0, RCU | ACCT, false, 296, 13, 0, 8, 52, 5},
	{"bio-96", 96, 8, HW | RCU, false, 128, 32, 0, 64, 120, 5},
	{"bio-144", 144, 8, HW | RCU, false, 192, 21, 0, 64, 120, 5},
	{"bio-208", 208, 8, HW | RCU, false, 256, 16, 0, 64, 52, 5},
	{"bdev_cache", 976, 0, HW | RCL | ACCT, true, 1024, 16, 2, 64, 24, 5},
	{"userfaultfd_ctx_cache", 76, 0, HW, true, 128, 32, 0, 64, 120, 5},
	{"iint_cache", 72, 0, 0, true, 80, 51, 0, 8, 120, 5},
	{"anon_vma", 52, 0, RCU | ACCT, true, 56, 73, 0, 8, 120, 5},
	{"mqueue_inode_cache", 608, 0, HW | ACCT, true, 640, 12, 1, 64, 52, 5},
	{"uts_namespace", 416, 0, ACCT, false, 416, 19, 1, 8, 52, 5},
	{"pgd_cache", 32, 32, 0, false, 32, 128, 0, 32, 120, 5},
	{"request_queue_srcu", 756, 0, 0, false, 760, 21, 2, 8, 52, 5},
	{"perf_event", 848, 0, 0, false, 848, 19, 2, 8, 52, 5},
	{"net_namespace", 3264, 64, ACCT, false, 3264, 10, 3, 64, 24, 5},
	{"biovec-max", 3072, 0, HW, false, 3072, 10, 3, 64, 24, 5},
	{"skbuff_head_cache", 192, 0, HW, false, 192, 21, 0, 64, 120, 5},
	{"dentry", 128, 0, RCL | ACCT, false, 128, 32, 0, 8, 120, 5},
	{"xfrm_state", 540, 0, HW, false, 576, 14, 1, 64, 52, 5},
	{"kmem_cache", 140, 0, HW, false, 192, 21, 0, 64, 120, 5},     /* boot cache */
	{"kmem_cache_node", 32, 0, HW, false, 32, 128, 0, 32, 120, 5}, /* boot cache */
};

static void check_named(struct kmem_cache *s, const struct named_geometry *want, int ncpus)
{
	CHECK(s->size == want->size && s->oo_objects == want->objs && s->oo_order == want->order,
	      "%d CPUs: %s (%u bytes) is %u %u/%u, the kernel has %u %u/%u", ncpus, want->name,
	      want->object_size, s->size, s->oo_objects, 1u << s->oo_order, want->size, want->objs,
	      1u << want->order);
	CHECK(s->align == want->final_align, "%s align %u, the kernel %u", want->name, s->align,
	      want->final_align);
	CHECK(s->cpu_partial == want->cpu_partial && s->min_partial == want->min_partial,
	      "%s cpu_partial %u min_partial %u, the kernel %u %u", want->name, s->cpu_partial,
	      s->min_partial, want->cpu_partial, want->min_partial);
}

/* Named caches of the 2-CPU capture: size, objects, order, align, partial limits. */
static void test_named_geometry(void)
{
	struct machine_config cfg;
	struct machine *m;

	config(&cfg, 2);
	cfg.slab_nomerge = true; /* each row its own cache (the geometry depends on size only) */
	m = boot_cfg(&cfg);
	for (size_t i = 0; i < ARRAY_SIZE(named_geometry); i++) {
		const struct named_geometry *g = &named_geometry[i];
		struct kmem_cache *s = kmem_cache_find(m, g->name);

		if (!s)
			s = create(m, g->name, g->object_size, g->align, g->flags, g->ctor);
		check_named(s, g, 2);
	}
	ASSERT_CLEAN(m);
	machine_free(m);
}

/* qemu32's 32-byte cache line (§13 correction 4): kmem_cache 160 B 25/1, bdev_cache 992. */
static void test_cache_line_32(void)
{
	static const struct named_geometry qemu32[] = {
		{"kmem_cache", 140, 0, HW, false, 160, 25, 0, 32, 120, 5},
		{"kmem_cache_node", 32, 0, HW, false, 32, 128, 0, 32, 120, 5},
		/* derived with the §8.2 formulas, not captured (992 < 1024: cpu_partial 52): */
		{"bdev_cache", 976, 0, HW | RCL | ACCT, true, 992, 16, 2, 32, 52, 5},
		{"sighand_cache", 1300, 0, HW | RCU | ACCT, true, 1312, 12, 2, 32, 24, 5},
	};
	struct machine_config cfg;
	struct machine *m;

	config(&cfg, 2);
	cfg.cache_line = 32;
	m = boot_cfg(&cfg);
	for (size_t i = 0; i < ARRAY_SIZE(qemu32); i++) {
		struct kmem_cache *s = kmem_cache_find(m, qemu32[i].name);

		if (!s)
			s = create(m, qemu32[i].name, qemu32[i].object_size, qemu32[i].align,
				   qemu32[i].flags, qemu32[i].ctor);
		check_named(s, &qemu32[i], 2);
	}
	/* kmalloc caches do not depend on the cache line */
	check_kmalloc_cache(m, KMALLOC_NORMAL, 192, (struct geo){21, 1});
	ASSERT_CLEAN(m);
	machine_free(m);
}

#define MAX_OBJS_PER_PAGE 32767u /* struct slab's objects field is 15 bits wide */

/*
 * Boot options that push slabs large (slub_min_objects, slub_max_order, slub_min_order)
 * never give a slab more than MAX_OBJS_PER_PAGE objects: the machine either refuses to
 * boot or keeps every cache under the limit, and kmalloc-8 then works.
 */
static void test_slab_objects_limit(void)
{
	static const struct {
		const char *cmdline;	  /* boot parameters, or NULL */
		unsigned int min_objects; /* else set directly in the config */
		unsigned int min_order, max_order;
	} cases[] = {
		{"slub_min_objects=32767 slub_max_order=10", 0, 0, 0},
		{"slub_min_order=10", 0, 0, 0},
		{"slub_min_order=6 slub_max_order=10 slub_min_objects=20000", 0, 0, 0},
		{NULL, 100000, 0, 10},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct machine_config cfg;
		struct machine *m = NULL;
		struct kmem_cache *first = NULL;
		char err[MM_ERRLEN] = "";
		int ret, over = 0;

		config(&cfg, 2);
		cfg.mem_bytes = 512 * MiB;
		if (cases[i].cmdline) {
			ret = machine_cmdline_apply(&cfg, cases[i].cmdline, err);
			REQUIRE(ret == 0, "%s: %s", cases[i].cmdline, err);
		} else {
			cfg.slub_min_objects = cases[i].min_objects;
			cfg.slub_min_order = cases[i].min_order;
			cfg.slub_max_order = cases[i].max_order;
		}
		if (machine_new(&m, &cfg, err))
			continue; /* refusing such a machine is fine */
		for (struct kmem_cache *s = m->slab->slab_caches; s; s = s->next) {
			if (s->oo_objects <= MAX_OBJS_PER_PAGE)
				continue;
			if (!over++)
				first = s;
		}
		CHECK(!over,
		      "case %zu: %d caches above %u objects per slab, e.g. %s with %u (order %u)",
		      i, over, MAX_OBJS_PER_PAGE, first ? first->name : "",
		      first ? first->oo_objects : 0, first ? first->oo_order : 0);
		if (!over) {
			unsigned long p = kmalloc(m, 8, GFP_KERNEL, 0);

			CHECK(p && kfree(m, p, 1) == 0, "case %zu: kmalloc(8)", i);
			ASSERT_CLEAN(m);
		}
		machine_free(m);
	}
}

/* ---------------------------------------------------------------- merging */

static bool has_alias(const struct kmem_cache *s, const char *name)
{
	for (int i = 0; i < s->nr_aliases; i++)
		if (!strcmp(s->aliases[i], name))
			return true;
	return false;
}

/* A cache without ctor aliases a compatible one; the alias raises object_size and inuse. */
static void test_merge_alias(void)
{
	struct machine *m = boot(2);
	struct kmem_cache *a = create(m, "merge_a", 60, 0, 0, false), *b, *c, *d, *e;
	unsigned long obj;

	CHECK(!strcmp(a->sysfs_id, ":0000064") && a->size == 64 && a->refcount == 1,
	      "merge_a: id %s size %u refcount %d", a->sysfs_id, a->size, a->refcount);
	CHECK(a->nr_aliases == 1 && has_alias(a, "merge_a"), "the creator is its first alias");
	b = create(m, "merge_b", 64, 0, 0, false);
	CHECK(b == a && a->refcount == 2 && has_alias(a, "merge_b"), "64 bytes merge into 64");
	CHECK(a->object_size == 64 && a->inuse == 64, "alias raised object_size %u inuse %u",
	      a->object_size, a->inuse);
	c = create(m, "merge_c", 61, 0, 0, false);
	d = create(m, "merge_d", 64, 64, 0, false);
	e = create(m, "merge_e", 57, 0, SLAB_HWCACHE_ALIGN | SLAB_MEM_SPREAD, false);
	CHECK(c == a && d == a && e == a && a->refcount == 5,
	      "61 bytes, align 64 and HWCACHE_ALIGN merge too (refcount %d)", a->refcount);
	CHECK(kmem_cache_find(m, "merge_e") == a && kmem_cache_find(m, ":0000064") == a,
	      "aliases and the sysfs id find the cache");
	/* objects through an alias come from the same slabs */
	obj = kmem_cache_alloc(e, GFP_KERNEL, 1);
	CHECK(obj && kmem_cache_free(a, obj, 0) == 0, "alias object freed through the target");
	ASSERT_CLEAN(m);
	machine_free(m);
}

/* What keeps a new cache to itself (§8.4). */
static void test_merge_prevented(void)
{
	static const struct {
		const char *name;
		unsigned int size;
		slab_flags_t flags;
		bool ctor;
	} never[] = {
		{"nm_ctor", 64, 0, true},
		{"nm_red_zone", 64, SLAB_RED_ZONE, false},
		{"nm_poison", 64, SLAB_POISON, false},
		{"nm_store_user", 64, SLAB_STORE_USER, false},
		{"nm_trace", 64, SLAB_TRACE, false},
		{"nm_rcu", 64, SLAB_TYPESAFE_BY_RCU, false},
		{"nm_noleaktrace", 64, SLAB_NOLEAKTRACE, false},
		{"nm_failslab", 64, SLAB_FAILSLAB, false},
	};
	struct machine *m = boot(2);
	struct kmem_cache *a = create(m, "base64", 64, 0, 0, false), *s;

	for (size_t i = 0; i < ARRAY_SIZE(never); i++) {
		s = create(m, never[i].name, never[i].size, 0, never[i].flags, never[i].ctor);
		CHECK(s != a && !strcmp(s->sysfs_id, never[i].name) && s->nr_aliases == 0,
		      "%s merged (id %s)", never[i].name, s->sysfs_id);
	}
	/* 8 bytes of waste: 56 does not go into 64 */
	s = create(m, "waste56", 56, 0, 0, false);
	CHECK(s != a && !strcmp(s->sysfs_id, ":0000056"), "56 bytes merged into 64 (id %s)",
	      s->sysfs_id);
	/* an unmergeable cache is no target either: ctor 64 -> 72 bytes, a plain 72 stays apart */
	s = create(m, "plain72", 72, 0, 0, false);
	CHECK(s != find(m, "nm_ctor") && !strcmp(s->sysfs_id, ":0000072"),
	      "72 bytes merged into the ctor cache (id %s)", s->sysfs_id);
	/* a plain 64 after all of them still goes to the oldest plain 64 */
	CHECK(create(m, "late64", 64, 0, 0, false) == a, "late64 did not merge into base64");
	ASSERT_CLEAN(m);
	machine_free(m);
}

/* SLAB_MERGE_SAME flags must agree; kmalloc caches are never targets (§8.4 correction). */
static void test_merge_same_flags(void)
{
	static const struct {
		const char *name;
		slab_flags_t flags;
		const char *id;	     /* its own sysfs id */
		const char *kmalloc; /* the kmalloc cache of the same size and family */
	} same[] = {
		{"acct64", SLAB_ACCOUNT, ":A-0000064", "kmalloc-cg-64"},
		{"rcl64", SLAB_RECLAIM_ACCOUNT, ":a-0000064", "kmalloc-rcl-64"},
		{"dma64", SLAB_CACHE_DMA, ":d-0000064", "dma-kmalloc-64"},
		{"dma32_64", SLAB_CACHE_DMA32, ":D-0000064", NULL},
		{"rcl_acct64", SLAB_RECLAIM_ACCOUNT | SLAB_ACCOUNT, ":aA-0000064", NULL},
	};
	struct machine *m = boot(2);
	struct kmem_cache *plain = create(m, "plain64", 64, 0, 0, false), *s;
	struct kmem_cache *made[ARRAY_SIZE(same)];

	for (size_t i = 0; i < ARRAY_SIZE(same); i++) {
		s = made[i] = create(m, same[i].name, 64, 0, same[i].flags, false);
		CHECK(s != plain && !strcmp(s->sysfs_id, same[i].id), "%s: id %s, want %s",
		      same[i].name, s->sysfs_id, same[i].id);
		CHECK(!same[i].kmalloc || s != find(m, same[i].kmalloc), "%s merged into %s",
		      same[i].name, same[i].kmalloc ? same[i].kmalloc : "-");
	}
	/* the same flags (plus HWCACHE_ALIGN, which is not a MERGE_SAME flag) merge again */
	CHECK(create(m, "pid", 64, 0, SLAB_ACCOUNT | SLAB_HWCACHE_ALIGN, false) == made[0],
	      "pid did not merge into :A-0000064");
	CHECK(create(m, "buffer_head", 60, 0, SLAB_RECLAIM_ACCOUNT, false) == made[1],
	      "buffer_head did not merge into :a-0000064");
	/* plain sizes never go to kmalloc caches either */
	s = create(m, "plain96", 96, 0, 0, false);
	CHECK(s != find(m, "kmalloc-96") && !strcmp(s->sysfs_id, ":0000096"), "plain96 id %s",
	      s->sysfs_id);
	s = create(m, "cons100", 100, 0, SLAB_CONSISTENCY_CHECKS, false);
	CHECK(!strcmp(s->sysfs_id, ":F-0000104") && s->cpu_partial == 0,
	      "consistency checks: id %s cpu_partial %u", s->sysfs_id, s->cpu_partial);
	/* objects of a DMA32 cache still come from lowmem */
	{
		unsigned long obj = kmem_cache_alloc(made[3], GFP_KERNEL, 0);
		struct zone *zone = addr_zone(m, obj);

		CHECK(obj && zone && zone->idx <= ZONE_NORMAL, "DMA32 object %#lx", obj);
		CHECK(kmem_cache_free(made[3], obj, 0) == 0, "DMA32 object free");
	}
	ASSERT_CLEAN(m);
	machine_free(m);
}

/* slab_nomerge: every cache its own, named by itself. */
static void test_slab_nomerge(void)
{
	struct machine_config cfg;
	struct machine *m;
	struct kmem_cache *a, *b;

	config(&cfg, 2);
	cfg.slab_nomerge = true;
	m = boot_cfg(&cfg);
	a = create(m, "nomerge_a", 64, 0, 0, false);
	b = create(m, "nomerge_b", 64, 0, 0, false);
	CHECK(a != b, "slab_nomerge merged two caches");
	CHECK(!strcmp(a->sysfs_id, "nomerge_a") && !strcmp(b->sysfs_id, "nomerge_b") &&
		      a->nr_aliases == 0 && b->nr_aliases == 0,
	      "ids %s %s", a->sysfs_id, b->sysfs_id);
	CHECK(kmem_cache_destroy(m, "nomerge_a") == 0 && !kmem_cache_find(m, "nomerge_a") &&
		      kmem_cache_find(m, "nomerge_b") == b,
	      "destroy under slab_nomerge");
	ASSERT_CLEAN(m);
	machine_free(m);
}

/*
 * With several candidates the oldest wins (list_for_each_entry_reverse). Two compatible
 * caches of one size can only coexist if merging was off when the second was made, so the
 * test turns slab_nomerge off after creating them.
 */
static void test_merge_oldest(void)
{
	struct machine *m = boot(2);
	struct kmem_cache *o1, *o2;

	m->slab->slab_nomerge = true;
	o1 = create(m, "oldest_1", 200, 0, 0, false);
	o2 = create(m, "oldest_2", 200, 0, 0, false);
	m->slab->slab_nomerge = false;
	CHECK(o1 != o2, "created apart");
	CHECK(create(m, "oldest_3", 198, 0, 0, false) == o1, "did not merge into the oldest");
	CHECK(o1->refcount == 2 && o2->refcount == 1, "refcounts %d %d", o1->refcount,
	      o2->refcount);
	ASSERT_CLEAN(m);
	machine_free(m);
}

/* Destroying a merged name drops that name only: the cache lives on for the others. */
static void test_destroy_alias(void)
{
	struct machine *m = boot(2);
	struct kmem_cache *a = create(m, "alias_a", 64, 0, 0, false), *s = NULL;
	unsigned long obj;
	int ret;

	CHECK(create(m, "alias_b", 64, 0, 0, false) == a && a->refcount == 2, "alias_b merged");
	obj = kmem_cache_alloc(a, GFP_KERNEL, 0); /* keeps the cache busy throughout */
	REQUIRE(obj != 0, "allocation");

	/* the alias goes, the creator stays */
	CHECK(kmem_cache_destroy(m, "alias_b") == 0, "destroy alias_b");
	CHECK(a->refcount == 1 && !kmem_cache_find(m, "alias_b") &&
		      kmem_cache_find(m, "alias_a") == a,
	      "after destroying alias_b: refcount %d", a->refcount);

	/* the creator's name goes, the alias stays */
	CHECK(create(m, "alias_b", 64, 0, 0, false) == a && a->refcount == 2, "alias_b again");
	CHECK(kmem_cache_destroy(m, "alias_a") == 0 && a->refcount == 1,
	      "destroy alias_a: refcount %d", a->refcount);
	CHECK(kmem_cache_find(m, "alias_a") == NULL, "alias_a is still found after its destroy");
	ret = kmem_cache_destroy(m, "alias_a");
	CHECK(ret == -ENOENT, "second destroy of alias_a returned %d, want -ENOENT", ret);
	CHECK(kmem_cache_find(m, "alias_b") == a && a->refcount == 1,
	      "alias_b lost its cache (refcount %d)", a->refcount);
	ret = kmem_cache_create(m, &s, "alias_a", 64, 0, 0, false);
	CHECK(ret == 0 && s == a, "alias_a cannot be created again: %d", ret);
	if (ret == 0)
		CHECK(kmem_cache_destroy(m, "alias_a") == 0, "destroy the new alias_a");

	CHECK(kmem_cache_free(a, obj, 1) == 0, "object of a merged cache freed");
	ASSERT_VALID(a);
	ret = kmem_cache_destroy(m, "alias_b");
	CHECK(ret == 0 && !kmem_cache_find(m, "alias_b"), "last name destroyed: %d", ret);
	ASSERT_CLEAN(m);
	machine_free(m);
}

/* The sysfs id is not a name: destroying it must not drop a reference. */
static void test_destroy_sysfs_id(void)
{
	struct machine *m = boot(2);
	struct kmem_cache *a = create(m, "id_a", 64, 0, 0, false);
	unsigned long obj = kmem_cache_alloc(a, GFP_KERNEL, 0);
	int ret;

	CHECK(create(m, "id_b", 64, 0, 0, false) == a, "id_b merged");
	ret = kmem_cache_destroy(m, ":0000064");
	CHECK(ret != 0, "destroying the sysfs id :0000064 returned 0");
	CHECK(a->refcount == 2 && has_alias(a, "id_a") && has_alias(a, "id_b"),
	      "destroying the sysfs id changed the cache: refcount %d, %d aliases", a->refcount,
	      a->nr_aliases);
	CHECK(kmem_cache_free(a, obj, 0) == 0, "free");
	ASSERT_CLEAN(m);
	machine_free(m);
}

/* ---------------------------------------------------------------- create and destroy */

static void test_create_errors(void)
{
	static const struct {
		const char *what;
		const char *name;
		unsigned int size, align;
		slab_flags_t flags;
		int want;
	} cases[] = {
		{"duplicate name", "dup", 100, 0, 0, -EEXIST},
		{"name of a kmalloc cache", "kmalloc-64", 64, 0, 0, -EEXIST},
		{"name of a boot cache", "kmem_cache", 64, 0, 0, -EEXIST},
		{"size 0", "zero", 0, 0, 0, -EINVAL},
		{"size above 4 MiB", "huge", (4u << 20) + 1, 0, 0, -EINVAL},
		{"align 3", "align3", 64, 3, 0, -EINVAL},
		{"align 24", "align24", 64, 24, 0, -EINVAL},
		{"align above a page", "align8k", 64, 8192, 0, -EINVAL},
		{"internal SLAB_KMALLOC", "kflag", 64, 0, SLAB_KMALLOC, -EINVAL},
		{"unknown flag", "uflag", 64, 0, 0x1u, -EINVAL},
		{"empty name", "", 64, 0, 0, -EINVAL},
		{"name with a space", "a b", 64, 0, 0, -EINVAL},
		{"name too long", "a_name_of_forty_eight_characters_is_one_too_many", 64, 0, 0,
		 -EINVAL},
	};
	struct machine *m = boot(2);
	struct kmem_cache *s = NULL;
	unsigned long descriptors;

	create(m, "dup", 100, 0, 0, false);
	ASSERT_VALID(m->slab->kmem_cache);
	descriptors = slabinfo(m->slab->kmem_cache, -1).active_objs;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int ret = kmem_cache_create(m, &s, cases[i].name, cases[i].size, cases[i].align,
					    cases[i].flags, false);

		CHECK(ret == cases[i].want && s == NULL, "%s: returned %d, want %d", cases[i].what,
		      ret, cases[i].want);
	}
	CHECK(kmem_cache_create(m, &s, NULL, 64, 0, 0, false) == -EINVAL, "NULL name");
	CHECK(kmem_cache_create(m, &s, "max4m", 4u << 20, 0, 0, false) == 0 && s &&
		      s->oo_order == MAX_ORDER - 1 && s->oo_objects == 1,
	      "a 4 MiB cache is one object of order 10");
	CHECK(kmem_cache_destroy(m, "max4m") == 0, "destroy max4m");
	ASSERT_VALID(m->slab->kmem_cache);
	CHECK(slabinfo(m->slab->kmem_cache, -1).active_objs == descriptors,
	      "refused creations left cache descriptors behind");
	ASSERT_CLEAN(m);
	machine_free(m);
}

/* -EBUSY while objects remain (and the cache stays usable), then 0; -ENOENT, -EPERM. */
static void test_destroy(void)
{
	static const char *const boot_names[] = {"kmalloc-64",	   "kmalloc-cg-8k",
						 "kmalloc-rcl-96", "dma-kmalloc-192",
						 "kmem_cache",	   "kmem_cache_node"};
	struct machine *m = boot(2);
	struct kmem_cache *kc = m->slab->kmem_cache, *kn = m->slab->kmem_cache_node, *s;
	unsigned long busy = slab_event(m, SLAB_DESTROY_BUSY), p, q, kc0, kn0;

	ASSERT_VALID(kc);
	ASSERT_VALID(kn);
	kc0 = slabinfo(kc, -1).active_objs;
	kn0 = slabinfo(kn, -1).active_objs;
	s = create(m, "busy", 300, 0, 0, true);
	ASSERT_VALID(kc);
	ASSERT_VALID(kn);
	CHECK(slabinfo(kc, -1).active_objs == kc0 + 1 && slabinfo(kn, -1).active_objs == kn0 + 1,
	      "a cache costs one kmem_cache and one kmem_cache_node object per node");
	p = kmem_cache_alloc(s, GFP_KERNEL, 0);
	REQUIRE(p != 0, "allocation");
	CHECK(kmem_cache_destroy(m, "busy") == -EBUSY, "destroy with an object left");
	CHECK(slab_event(m, SLAB_DESTROY_BUSY) == busy + 1, "SLAB_DESTROY_BUSY not counted");
	CHECK(kmem_cache_find(m, "busy") == s, "busy cache gone after -EBUSY");
	q = kmem_cache_alloc(s, GFP_KERNEL, 1);
	CHECK(q != 0 && q != p && kmem_cache_free(s, q, 0) == 0 && kmem_cache_free(s, p, 1) == 0,
	      "busy cache still usable");
	ASSERT_VALID(s);
	CHECK(kmem_cache_destroy(m, "busy") == 0, "destroy after freeing everything");
	CHECK(kmem_cache_find(m, "busy") == NULL, "destroyed cache still found");
	CHECK(kmem_cache_destroy(m, "busy") == -ENOENT, "destroy twice");
	CHECK(kmem_cache_destroy(m, "no_such_cache") == -ENOENT, "destroy unknown");
	for (size_t i = 0; i < ARRAY_SIZE(boot_names); i++)
		CHECK(kmem_cache_destroy(m, boot_names[i]) == -EPERM &&
			      kmem_cache_find(m, boot_names[i]),
		      "destroy %s not refused with -EPERM", boot_names[i]);
	ASSERT_VALID(kc);
	ASSERT_VALID(kn);
	CHECK(slabinfo(kc, -1).active_objs == kc0 && slabinfo(kn, -1).active_objs == kn0,
	      "descriptors not freed by destroy");
	ASSERT_CLEAN(m);
	machine_free(m);
}

/* ---------------------------------------------------------------- kmalloc */

static const struct {
	gfp_t gfp;
	int type;
} gfp_families[] = {
	{GFP_KERNEL, KMALLOC_NORMAL},
	{GFP_ATOMIC, KMALLOC_NORMAL},
	{GFP_NOWAIT | __GFP_ZERO, KMALLOC_NORMAL},
	{GFP_KERNEL | __GFP_HIGHMEM, KMALLOC_NORMAL},
	{GFP_KERNEL_ACCOUNT, KMALLOC_CGROUP},
	{GFP_ATOMIC | __GFP_ACCOUNT, KMALLOC_CGROUP},
	{GFP_KERNEL | __GFP_RECLAIMABLE, KMALLOC_RECLAIM},
	{GFP_KERNEL | __GFP_RECLAIMABLE | __GFP_ACCOUNT, KMALLOC_RECLAIM},
	{GFP_KERNEL | GFP_DMA, KMALLOC_DMA},
	{GFP_ATOMIC | GFP_DMA | __GFP_ACCOUNT, KMALLOC_DMA},
	{GFP_KERNEL | GFP_DMA | __GFP_RECLAIMABLE, KMALLOC_DMA},
	{GFP_DMA | __GFP_RECLAIMABLE | __GFP_ACCOUNT, KMALLOC_DMA},
};

/* kmalloc_slab() for every size 1..8192 and every family; NULL outside. */
static void test_kmalloc_classes(void)
{
	struct machine *m = boot(2);

	for (size_t f = 0; f < ARRAY_SIZE(gfp_families); f++) {
		for (size_t size = 1; size <= KMALLOC_MAX_CACHE_SIZE; size++) {
			struct kmem_cache *s = kmalloc_slab(m, size, gfp_families[f].gfp);
			char want[KMEM_CACHE_NAME_LEN];

			kmalloc_name(want, sizeof(want), gfp_families[f].type,
				     unit_kmalloc_class(size));
			CHECK(s && !strcmp(s->name, want), "kmalloc_slab(%zu, %#x) is %s, want %s",
			      size, gfp_families[f].gfp, s ? s->name : "NULL", want);
		}
		CHECK(kmalloc_slab(m, 0, gfp_families[f].gfp) == NULL, "kmalloc_slab(0)");
		CHECK(kmalloc_slab(m, KMALLOC_MAX_CACHE_SIZE + 1, gfp_families[f].gfp) == NULL,
		      "kmalloc_slab(8193)");
	}
	ASSERT_CLEAN(m);
	machine_free(m);
}

/* Real allocations at the class boundaries: the right cache, ksize, natural alignment. */
static void test_kmalloc_objects(void)
{
	static const size_t sizes[] = {1,   8,	  9,	16,   17,   32,	  33,	64,  65,
				       96,  97,	  128,	129,  192,  193,  256,	257, 512,
				       513, 1024, 1025, 2048, 2049, 4096, 4097, 8192};
	struct machine *m = boot(2);

	for (size_t f = 0; f < ARRAY_SIZE(gfp_families); f++)
		for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
			unsigned int class = unit_kmalloc_class(sizes[i]);
			unsigned int align = is_power_of_2(class) ? class : 8;
			struct kmem_cache *s = kmalloc_slab(m, sizes[i], gfp_families[f].gfp);
			unsigned long p = kmalloc(m, sizes[i], gfp_families[f].gfp, (int)(i % 2));
			struct zone *zone = addr_zone(m, p);

			REQUIRE(p != 0 && s != NULL, "kmalloc(%zu, %#x) failed", sizes[i],
				gfp_families[f].gfp);
			CHECK(ksize(m, p) == class, "ksize of kmalloc(%zu) is %zu, want %u",
			      sizes[i], ksize(m, p), class);
			CHECK(p % align == 0, "kmalloc(%zu) = %#lx not aligned to %u", sizes[i], p,
			      align);
			CHECK(zone && (gfp_families[f].type == KMALLOC_DMA
					       ? zone->idx == ZONE_DMA
					       : zone->idx <= ZONE_NORMAL),
			      "kmalloc(%zu, %#x) from zone %d", sizes[i], gfp_families[f].gfp,
			      zone ? (int)zone->idx : -1);
			/* it belongs to that cache: freeing through the cache works */
			CHECK(kmem_cache_free(s, p, (int)((i + 1) % 2)) == 0,
			      "kmalloc(%zu) object is not in %s", sizes[i], s->name);
		}
	ASSERT_CLEAN(m);
	machine_free(m);
}

/* size 0 is ZERO_SIZE_PTR, which kfree and ksize accept; NULL too. */
static void test_kmalloc_zero(void)
{
	struct machine *m = boot(2);
	unsigned long invalid = slab_event(m, SLAB_FREE_INVALID);
	unsigned long before = free_pages_now(m);

	CHECK(kmalloc(m, 0, GFP_KERNEL, 0) == ZERO_SIZE_PTR, "kmalloc(0)");
	CHECK(kzalloc(m, 0, GFP_KERNEL, 1) == ZERO_SIZE_PTR, "kzalloc(0)");
	CHECK(kcalloc(m, 0, 64, GFP_KERNEL, 0) == ZERO_SIZE_PTR, "kcalloc(0, 64)");
	CHECK(kcalloc(m, 64, 0, GFP_KERNEL, 0) == ZERO_SIZE_PTR, "kcalloc(64, 0)");
	CHECK(kfree(m, ZERO_SIZE_PTR, 0) == 0 && kfree(m, 0, 1) == 0, "kfree(ZERO_SIZE_PTR/NULL)");
	CHECK(ksize(m, ZERO_SIZE_PTR) == 0 && ksize(m, 0) == 0, "ksize(ZERO_SIZE_PTR/NULL)");
	CHECK(slab_event(m, SLAB_FREE_INVALID) == invalid, "kfree(ZERO_SIZE_PTR) counted invalid");
	CHECK(free_pages_now(m) == before, "size 0 allocated pages");
	ASSERT_CLEAN(m);
	machine_free(m);
}

/* kmalloc_large: pages of order get_order(size) for 8193 .. 4 MiB, counted as slab. */
static void test_kmalloc_large(void)
{
	static const struct {
		size_t size;
		unsigned int order;
	} cases[] = {
		{8193, 2},     {12288, 2},     {16384, 2},
		{16385, 3},    {65536, 4},     {100000, 5},
		{1u << 20, 8}, {3u << 20, 10}, {KMALLOC_MAX_SIZE, 10},
	};
	struct machine *m = boot(2);
	unsigned long fails = slab_event(m, SLAB_ALLOC_FAIL);

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		long unr = slab_bytes(m, 0, NR_SLAB_UNRECLAIMABLE_B);
		long rcl = slab_bytes(m, 0, NR_SLAB_RECLAIMABLE_B);
		unsigned long free = free_pages_now(m), bytes = PAGE_SIZE << cases[i].order;
		gfp_t gfp = i % 2 ? GFP_KERNEL | __GFP_RECLAIMABLE : GFP_KERNEL;
		unsigned long p = kmalloc(m, cases[i].size, gfp, (int)(i % 2));
		struct page *page = addr_page(m, p);

		REQUIRE(p != 0, "kmalloc(%zu) failed", cases[i].size);
		CHECK((p & (PAGE_SIZE - 1)) == 0 && page &&
			      (page_flags(page) & (PG_head | PG_kmalloc)) ==
				      (PG_head | PG_kmalloc) &&
			      !(page_flags(page) & PG_slab),
		      "kmalloc(%zu) = %#lx is not a kmalloc_large head", cases[i].size, p);
		CHECK(ksize(m, p) == bytes, "ksize of kmalloc(%zu) is %zu, want %lu", cases[i].size,
		      ksize(m, p), bytes);
		CHECK(slab_bytes(m, 0, NR_SLAB_UNRECLAIMABLE_B) == unr + (long)bytes &&
			      slab_bytes(m, 0, NR_SLAB_RECLAIMABLE_B) == rcl,
		      "kmalloc(%zu): NR_SLAB_UNRECLAIMABLE_B %+ld, NR_SLAB_RECLAIMABLE_B %+ld",
		      cases[i].size, slab_bytes(m, 0, NR_SLAB_UNRECLAIMABLE_B) - unr,
		      slab_bytes(m, 0, NR_SLAB_RECLAIMABLE_B) - rcl);
		CHECK(free_pages_now(m) + (1ul << cases[i].order) == free,
		      "kmalloc(%zu) took %lu pages", cases[i].size, free - free_pages_now(m));
		CHECK(kfree(m, p, (int)((i + 1) % 2)) == 0, "kfree of kmalloc(%zu)", cases[i].size);
		CHECK(slab_bytes(m, 0, NR_SLAB_UNRECLAIMABLE_B) == unr && free_pages_now(m) == free,
		      "kfree of kmalloc(%zu) did not give everything back", cases[i].size);
		CHECK(ksize(m, p) == 0, "ksize of a freed large block");
	}
	/* a DMA request gets DMA pages */
	{
		unsigned long p = kmalloc(m, 20000, GFP_KERNEL | GFP_DMA, 0);

		CHECK(p && p - PAGE_OFFSET + 32768 <= DMA_LIMIT, "large DMA kmalloc at %#lx", p);
		CHECK(kfree(m, p, 0) == 0, "kfree large DMA");
	}
	/* and on a given node */
	{
		unsigned long p = kmalloc_node(m, 9000, GFP_KERNEL, 0, 1);

		CHECK(p && addr_node(m, p) == 0 && kfree(m, p, 0) == 0, "kmalloc_node large");
	}
	/* above KMALLOC_MAX_SIZE: NULL, counted, nothing taken */
	{
		unsigned long free = free_pages_now(m);

		CHECK(kmalloc(m, KMALLOC_MAX_SIZE + 1, GFP_KERNEL, 0) == 0, "kmalloc(4 MiB + 1)");
		CHECK(kmalloc(m, (size_t)1 << 40, GFP_KERNEL, 1) == 0, "kmalloc(1 TiB)");
		CHECK(slab_event(m, SLAB_ALLOC_FAIL) == fails + 2, "failures counted %lu",
		      slab_event(m, SLAB_ALLOC_FAIL) - fails);
		CHECK(free_pages_now(m) == free, "failed kmalloc took pages");
	}
	ASSERT_CLEAN(m);
	machine_free(m);
}

struct child {
	pid_t pid; /* the child running the call */
	int fd;	   /* read end of its pipe */
};

/* Run @fn in a child process that is killed after 1 s. */
static struct child child_start(struct machine *m, unsigned long (*fn)(struct machine *))
{
	struct child c = {-1, -1};
	int fds[2];

	if (pipe(fds))
		return c;
	fflush(NULL);
	c.pid = fork();
	if (c.pid == 0) {
		unsigned long r;

		close(fds[0]);
		alarm(1);
		r = fn(m);
		_exit(write(fds[1], &r, sizeof(r)) == sizeof(r) ? 0 : 3);
	}
	close(fds[1]);
	c.fd = fds[0];
	return c;
}

/* What the child's call returned; false if it never returned (or crashed). */
static bool child_result(struct child c, unsigned long *ret)
{
	int status = 0;
	bool ok = c.pid > 0 && waitpid(c.pid, &status, 0) == c.pid && WIFEXITED(status) &&
		  WEXITSTATUS(status) == 0 && read(c.fd, ret, sizeof(*ret)) == sizeof(*ret);

	if (c.fd >= 0)
		close(c.fd);
	return ok;
}

static unsigned long kmalloc_size_max(struct machine *m)
{
	return kmalloc(m, SIZE_MAX, GFP_KERNEL, 0);
}

static unsigned long kcalloc_one_size_max(struct machine *m)
{
	return kcalloc(m, 1, SIZE_MAX, GFP_KERNEL, 0);
}

static unsigned long krealloc_size_max(struct machine *m)
{
	unsigned long p = kmalloc(m, 64, GFP_KERNEL, 0);

	return krealloc(m, p, SIZE_MAX, GFP_KERNEL, 0);
}

/*
 * Sizes no i386 kernel could be asked for (a client may still send them) must fail, not
 * hang: each call runs in a child process, all at once, each killed after a second.
 */
static void test_kmalloc_absurd_sizes(void)
{
	static const struct {
		const char *what;
		unsigned long (*fn)(struct machine *);
	} cases[] = {
		{"kmalloc(SIZE_MAX)", kmalloc_size_max},
		{"kcalloc(1, SIZE_MAX)", kcalloc_one_size_max},
		{"krealloc(p, SIZE_MAX)", krealloc_size_max},
	};
	struct machine *m = boot(2);
	struct child children[ARRAY_SIZE(cases)];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		children[i] = child_start(m, cases[i].fn);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		unsigned long ret = ~0ul;
		bool returned = child_result(children[i], &ret);

		CHECK(returned && ret == 0, "%s %s (returned %#lx)", cases[i].what,
		      returned ? "did not fail" : "hung or crashed", ret);
	}
	ASSERT_CLEAN(m);
	machine_free(m);
}

/* kcalloc: overflow is NULL; kzalloc and kcalloc give kmalloc objects of the right class. */
static void test_kcalloc_kzalloc(void)
{
	struct machine *m = boot(2);
	unsigned long free = free_pages_now(m), p;

	CHECK(kcalloc(m, SIZE_MAX / 2 + 1, 2, GFP_KERNEL, 0) == 0, "kcalloc overflow");
	CHECK(kcalloc(m, 2, SIZE_MAX / 2 + 1, GFP_KERNEL, 1) == 0, "kcalloc overflow (swapped)");
	CHECK(kcalloc(m, SIZE_MAX, SIZE_MAX, GFP_KERNEL, 0) == 0, "kcalloc SIZE_MAX^2");
	CHECK(free_pages_now(m) == free, "kcalloc overflow allocated");
	p = kcalloc(m, 4, 24, GFP_KERNEL, 0);
	CHECK(p && ksize(m, p) == 96 && kfree(m, p, 1) == 0,
	      "kcalloc(4, 24) is a kmalloc-96 object");
	p = kcalloc(m, 3, 4096, GFP_KERNEL, 1);
	CHECK(p && ksize(m, p) == 16384 && kfree(m, p, 0) == 0, "kcalloc(3, 4096) is 4 pages");
	p = kzalloc(m, 100, GFP_KERNEL, 0);
	CHECK(p && ksize(m, p) == 128 && kmem_cache_free(find(m, "kmalloc-128"), p, 0) == 0,
	      "kzalloc(100) is a kmalloc-128 object");
	p = kzalloc(m, 100, GFP_KERNEL | __GFP_RECLAIMABLE, 1);
	CHECK(p && kmem_cache_free(find(m, "kmalloc-rcl-128"), p, 1) == 0,
	      "kzalloc(100, reclaimable) is a kmalloc-rcl-128 object");
	ASSERT_CLEAN(m);
	machine_free(m);
}

/* krealloc: in place while it fits (growing or shrinking), else move; 0 frees. */
static void test_krealloc(void)
{
	struct machine *m = boot(2);
	long unr = slab_bytes(m, 0, NR_SLAB_UNRECLAIMABLE_B);
	unsigned long p, q, r, u, v, invalid;

	p = kmalloc(m, 100, GFP_KERNEL, 0);
	REQUIRE(p && ksize(m, p) == 128, "kmalloc(100)");
	CHECK(krealloc(m, p, 128, GFP_KERNEL, 0) == p, "grow within ksize moved");
	CHECK(krealloc(m, p, 40, GFP_KERNEL, 1) == p && ksize(m, p) == 128, "shrink moved");
	q = krealloc(m, p, 129, GFP_KERNEL, 1);
	CHECK(q && q != p && ksize(m, q) == 192, "grow past ksize: %#lx (ksize %zu)", q,
	      ksize(m, q));
	CHECK(ksize(m, p) == 0, "old object not freed by a moving krealloc");
	REQUIRE(q != 0, "krealloc(129)");
	r = krealloc(m, q, 9000, GFP_KERNEL, 0);
	CHECK(r && (r & (PAGE_SIZE - 1)) == 0 && ksize(m, r) == 16384 && ksize(m, q) == 0,
	      "krealloc into kmalloc_large: %#lx", r);
	REQUIRE(r != 0, "krealloc(9000)");
	CHECK(krealloc(m, r, 16384, GFP_KERNEL, 1) == r, "large block grown within its pages");
	CHECK(krealloc(m, r, 100, GFP_KERNEL, 1) == r, "large block shrunk in place");
	CHECK(krealloc(m, r, 0, GFP_KERNEL, 0) == ZERO_SIZE_PTR && ksize(m, r) == 0,
	      "krealloc(p, 0) frees");
	u = krealloc(m, ZERO_SIZE_PTR, 64, GFP_KERNEL, 1);
	CHECK(u && ksize(m, u) == 64, "krealloc(ZERO_SIZE_PTR, 64)");
	CHECK(krealloc(m, 0, 0, GFP_KERNEL, 0) == ZERO_SIZE_PTR, "krealloc(NULL, 0)");
	/* a moving krealloc follows the gfp family of the new request */
	v = krealloc(m, u, 100, GFP_KERNEL | GFP_DMA, 0);
	CHECK(v && v != u && v - PAGE_OFFSET < DMA_LIMIT &&
		      kmem_cache_free(find(m, "dma-kmalloc-128"), v, 0) == 0,
	      "krealloc to DMA: %#lx", v);
	/* not an object: refused and counted, nothing allocated */
	invalid = slab_event(m, SLAB_FREE_INVALID);
	CHECK(krealloc(m, u, 200, GFP_KERNEL, 0) == 0, "krealloc of a freed object");
	CHECK(slab_event(m, SLAB_FREE_INVALID) == invalid + 1, "invalid krealloc not counted");
	ASSERT_CLEAN(m);
	for (struct kmem_cache *s = m->slab->slab_caches; s; s = s->next)
		kmem_cache_shrink(s);
	CHECK(slab_bytes(m, 0, NR_SLAB_UNRECLAIMABLE_B) <= unr, "krealloc leaked slab pages");
	ASSERT_CLEAN(m);
	machine_free(m);
}

/* ksize of a slab object is its cache's size; 0 for what is not a live object. */
static void test_ksize(void)
{
	struct machine *m = boot(2);
	struct kmem_cache *ctor = create(m, "ksize_ctor", 60, 0, 0, true);
	struct kmem_cache *rcu = create(m, "ksize_rcu", 60, 0, SLAB_TYPESAFE_BY_RCU, false);
	struct kmem_cache *rz = create(m, "ksize_rz", 60, 0, SLAB_RED_ZONE, false);
	unsigned long a = kmem_cache_alloc(ctor, GFP_KERNEL, 0);
	unsigned long b = kmem_cache_alloc(rcu, GFP_KERNEL, 0);
	unsigned long c = kmem_cache_alloc(rz, GFP_KERNEL, 0);
	unsigned long d = kmalloc(m, 700, GFP_KERNEL, 1);

	REQUIRE(a && b && c && d, "allocations");
	/* slab_ksize(): s->size, inuse for RCU, object_size with red zones (§8.2 layout) */
	CHECK(ksize(m, a) == ctor->size && ctor->size == 64, "ctor cache ksize %zu size %u",
	      ksize(m, a), ctor->size);
	CHECK(ksize(m, b) == rcu->inuse && rcu->inuse == 60, "RCU cache ksize %zu inuse %u",
	      ksize(m, b), rcu->inuse);
	CHECK(ksize(m, c) == 60, "red-zone cache ksize %zu", ksize(m, c));
	CHECK(ksize(m, d) == 1024, "kmalloc(700) ksize %zu", ksize(m, d));
	CHECK(ksize(m, d + 8) == 0 && ksize(m, PAGE_OFFSET - PAGE_SIZE) == 0,
	      "ksize of a non-object");
	CHECK(kmem_cache_free(ctor, a, 1) == 0 && kmem_cache_free(rcu, b, 1) == 0 &&
		      kmem_cache_free(rz, c, 0) == 0 && kfree(m, d, 0) == 0,
	      "frees");
	CHECK(ksize(m, a) == 0 && ksize(m, d) == 0, "ksize of a freed object");
	ASSERT_CLEAN(m);
	machine_free(m);
}

/* ---------------------------------------------------------------- addresses */

/* Objects are PAGE_OFFSET + physical address in lowmem; DMA objects below 16 MiB. */
static void test_addresses(void)
{
	struct machine *m = boot(2);
	unsigned long max_low = m->layout.max_low_pfn;
	struct kmem_cache *hw = create(m, "hwaligned", 100, 0, SLAB_HWCACHE_ALIGN, false);
	struct kmem_cache *dma = create(m, "dma_cache", 300, 0, SLAB_CACHE_DMA, false);

	CHECK(virt_to_pfn(m, PAGE_OFFSET) == 0, "virt_to_pfn(PAGE_OFFSET)");
	CHECK(virt_to_pfn(m, PAGE_OFFSET + 0x12345678ul % (max_low << PAGE_SHIFT)) ==
		      (0x12345678ul % (max_low << PAGE_SHIFT)) >> PAGE_SHIFT,
	      "virt_to_pfn in the middle");
	CHECK(virt_to_pfn(m, PAGE_OFFSET + ((max_low - 1) << PAGE_SHIFT) + 4095) == max_low - 1,
	      "virt_to_pfn of the last lowmem byte");
	CHECK(virt_to_pfn(m, PAGE_OFFSET + (max_low << PAGE_SHIFT)) == ~0ul,
	      "virt_to_pfn past lowmem");
	CHECK(virt_to_pfn(m, PAGE_OFFSET - 1) == ~0ul && virt_to_pfn(m, 0) == ~0ul &&
		      virt_to_pfn(m, 0x08048000ul) == ~0ul,
	      "virt_to_pfn of user addresses");

	for (int type = 0; type < NR_KMALLOC_TYPES; type++)
		for (unsigned int size = 8; size <= 8192; size *= 2) {
			unsigned long p = kmalloc(m, size, kmalloc_type_gfp[type], type % 2);
			unsigned long pfn = virt_to_pfn(m, p);
			struct page *page = addr_page(m, p);
			struct zone *zone = addr_zone(m, p);

			REQUIRE(p != 0, "kmalloc(%u)", size);
			CHECK(p >= PAGE_OFFSET && pfn == (p - PAGE_OFFSET) >> PAGE_SHIFT &&
				      pfn < max_low,
			      "%s object %#lx: pfn %#lx", kmalloc_prefix[type], p, pfn);
			CHECK(page && (page_flags(page) & PG_slab), "%s%u object page not PG_slab",
			      kmalloc_prefix[type], size);
			CHECK(zone && (type == KMALLOC_DMA ? p - PAGE_OFFSET + size <= DMA_LIMIT
							   : zone->idx <= ZONE_NORMAL),
			      "%s%u object %#lx in zone %d", kmalloc_prefix[type], size, p,
			      zone ? (int)zone->idx : -1);
			CHECK(kfree(m, p, (type + 1) % 2) == 0, "kfree");
		}
	for (int i = 0; i < 100; i++) {
		unsigned long a = kmem_cache_alloc(hw, GFP_KERNEL, i % 2);
		unsigned long b = kmem_cache_alloc(dma, GFP_KERNEL, i % 2);

		CHECK(a && a % 64 == 0 && b && b - PAGE_OFFSET + dma->size <= DMA_LIMIT,
		      "hwaligned %#lx, dma %#lx", a, b);
		CHECK(kmem_cache_free(hw, a, 0) == 0 && kmem_cache_free(dma, b, 1) == 0, "free");
	}
	ASSERT_CLEAN(m);
	machine_free(m);
}

/* Two nodes, both with lowmem: kmem_cache_alloc_node() and kmalloc_node() obey the node. */
static void test_alloc_node(void)
{
	struct machine_config cfg;
	struct machine *m;
	struct kmem_cache *s, *fresh[2];
	unsigned long objs[2][2][40];
	unsigned long small[2][2], large[2][2];

	config(&cfg, 2);
	cfg.nr_nodes = 2;
	cfg.mem_bytes = 512 * MiB;
	m = boot_cfg(&cfg);
	for (int nid = 0; nid < 2; nid++)
		REQUIRE(populated_zone(&m->node_data[nid]->node_zones[ZONE_NORMAL]),
			"node %d has no ZONE_NORMAL", nid);
	REQUIRE(m->cpu_to_node[0] == 0 && m->cpu_to_node[1] == 1, "cpu 0 on node 0, cpu 1 on 1");

	/* a fresh cache serves a CPU from its own node */
	fresh[0] = create(m, "fresh0", 500, 0, 0, true);
	fresh[1] = create(m, "fresh1", 500, 0, 0, true);
	for (int cpu = 0; cpu < 2; cpu++) {
		unsigned long p = kmem_cache_alloc(fresh[cpu], GFP_KERNEL, cpu);

		CHECK(p && addr_node(m, p) == cpu, "cpu %d got node %d", cpu, addr_node(m, p));
		CHECK(kmem_cache_free(fresh[cpu], p, 1 - cpu) == 0, "free");
	}

	s = create(m, "nodes", 128, 0, 0, false);
	for (int nid = 0; nid < 2; nid++)
		for (int cpu = 0; cpu < 2; cpu++) {
			for (size_t i = 0; i < ARRAY_SIZE(objs[0][0]); i++) {
				unsigned long p = kmem_cache_alloc_node(s, GFP_KERNEL, nid, cpu);

				objs[nid][cpu][i] = p;
				CHECK(p && addr_node(m, p) == nid,
				      "cpu %d asked node %d, got %#lx on node %d", cpu, nid, p,
				      addr_node(m, p));
			}
			small[nid][cpu] = kmalloc_node(m, 300, GFP_KERNEL, nid, cpu);
			large[nid][cpu] = kmalloc_node(m, 20000, GFP_KERNEL, nid, cpu);
			CHECK(addr_node(m, small[nid][cpu]) == nid &&
				      addr_node(m, large[nid][cpu]) == nid,
			      "kmalloc_node(%d) from cpu %d", nid, cpu);
		}
	ASSERT_VALID(s);
	for (int nid = 0; nid < 2; nid++) {
		struct slabinfo info = slabinfo(s, nid);

		CHECK(info.active_objs == 2 * ARRAY_SIZE(objs[0][0]),
		      "node %d holds %lu active objects", nid, info.active_objs);
	}
	for (int nid = 0; nid < 2; nid++)
		for (int cpu = 0; cpu < 2; cpu++) {
			for (size_t i = 0; i < ARRAY_SIZE(objs[0][0]); i++)
				CHECK(kmem_cache_free(s, objs[nid][cpu][i], 1 - cpu) == 0, "free");
			CHECK(kfree(m, small[nid][cpu], 1 - cpu) == 0 &&
				      kfree(m, large[nid][cpu], cpu) == 0,
			      "kfree");
		}
	ASSERT_CLEAN(m);
	CHECK(kmem_cache_shrink(s) > 0 && slabinfo(s, -1).num_slabs == 0, "shrink");
	ASSERT_CLEAN(m);
	machine_free(m);
}

/*
 * A node without lowmem is not in slab_nodes: the kernel ignores the node constraint
 * (___slab_alloc), so such requests share slabs of the nodes that have lowmem.
 */
static void test_alloc_node_without_lowmem(void)
{
	struct machine_config cfg;
	struct machine *m;
	struct kmem_cache *s, *kn;
	unsigned long objs[10];
	struct slabinfo info;

	config(&cfg, 2);
	cfg.nr_nodes = 2;
	cfg.mem_bytes = 2 * GiB;
	m = boot_cfg(&cfg);
	REQUIRE(!populated_zone(&m->node_data[1]->node_zones[ZONE_NORMAL]) &&
			!populated_zone(&m->node_data[1]->node_zones[ZONE_DMA]),
		"node 1 has lowmem");
	kn = m->slab->kmem_cache_node;
	ASSERT_VALID(kn);
	info = slabinfo(kn, -1);
	CHECK(info.num_slabs <= DIV_ROUND_UP(info.active_objs, kn->oo_objects) + 1,
	      "kmem_cache_node: %lu objects in %lu slabs", info.active_objs, info.num_slabs);

	s = create(m, "far", 100, 0, 0, false);
	for (size_t i = 0; i < ARRAY_SIZE(objs); i++) {
		objs[i] = kmem_cache_alloc_node(s, GFP_KERNEL, 1, 0);
		CHECK(objs[i] && addr_node(m, objs[i]) == 0, "object %zu on node %d", i,
		      addr_node(m, objs[i]));
	}
	info = slabinfo(s, -1);
	CHECK(info.num_slabs == 1, "%zu objects for node 1 took %lu slabs", ARRAY_SIZE(objs),
	      info.num_slabs);
	for (size_t i = 0; i < ARRAY_SIZE(objs); i++)
		CHECK(kmem_cache_free(s, objs[i], 1) == 0, "free");
	ASSERT_CLEAN(m);
	machine_free(m);
}

/* ---------------------------------------------------------------- lists */

/*
 * §8.3 on one cache (200 bytes: 20 per 1-page slab, cpu_partial 120 -> 12 slabs):
 * slabs filled on CPU 0 go full; a remote free from CPU 1 to a full slab freezes it onto
 * CPU 1's partial list; the 13th such free moves the 12 there to the node partial list.
 * /proc/slabinfo counts free objects on node partial slabs only.
 */
static void test_lists_remote_free(void)
{
	struct machine *m = boot(2);
	struct kmem_cache *s = create(m, "lists", 200, 0, 0, false);
	struct kmem_cache_node *n = s->node[0];
	unsigned int objs = s->oo_objects, cps = s->cpu_partial_slabs, nslabs, total;
	unsigned long *addr, freed[16], free0, pages;
	struct slabinfo info;
	int nfreed = 0;

	REQUIRE(objs == 20 && s->oo_order == 0 && cps == 12 && s->min_partial == 5,
		"geometry %u/%u, cpu_partial_slabs %u", objs, s->oo_order, cps);
	nslabs = cps + 2;
	total = nslabs * objs;
	addr = calloc(total, sizeof(*addr));
	REQUIRE(addr != NULL, "calloc");

	/* fill nslabs slabs on CPU 0: one after the other, the used-up ones go full */
	for (unsigned int i = 0; i < total; i++) {
		addr[i] = kmem_cache_alloc(s, GFP_KERNEL, 0);
		REQUIRE(addr[i] != 0, "allocation %u", i);
		CHECK(virt_to_pfn(m, addr[i]) == virt_to_pfn(m, addr[i - i % objs]),
		      "object %u not in the slab of object %u", i, i - i % objs);
	}
	for (unsigned int g = 1; g < nslabs; g++)
		CHECK(virt_to_pfn(m, addr[g * objs]) != virt_to_pfn(m, addr[(g - 1) * objs]),
		      "slabs %u and %u share a page", g - 1, g);
	CHECK(n->nr_slabs == nslabs && n->nr_partial == 0 && list_len(&n->full) == nslabs - 1,
	      "after filling: %lu slabs, %lu partial, %u full", n->nr_slabs, n->nr_partial,
	      list_len(&n->full));
	CHECK(s->cpu_slab[0].slab && s->cpu_slab[0].slab->pfn == virt_to_pfn(m, addr[total - 1]) &&
		      s->cpu_slab[0].freelist == SLAB_NIL,
	      "CPU 0's slab is the last one, used up");
	info = slabinfo(s, -1);
	CHECK(info.num_objs == total && info.active_objs == total && info.num_slabs == nslabs &&
		      info.active_slabs == nslabs,
	      "slabinfo %lu/%lu objects %lu slabs", info.active_objs, info.num_objs,
	      info.num_slabs);

	/* remote frees: each full slab is frozen onto CPU 1's partial list */
	for (unsigned int g = 0; g < cps; g++) {
		freed[nfreed++] = addr[g * objs];
		CHECK(kmem_cache_free(s, addr[g * objs], 1) == 0, "remote free %u", g);
		CHECK(cpu_partial_len(s, 1) == g + 1 && s->cpu_slab[1].partial->slabs == g + 1 &&
			      n->nr_partial == 0 && list_len(&n->full) == nslabs - 2 - g,
		      "after %u remote frees: CPU 1 partial %u, node partial %lu, full %u", g + 1,
		      cpu_partial_len(s, 1), n->nr_partial, list_len(&n->full));
		info = slabinfo(s, -1);
		CHECK(info.active_objs == total, "free objects on CPU partial slabs are active");
	}
	/* one more: the full list of 12 goes to the node */
	freed[nfreed++] = addr[cps * objs];
	CHECK(kmem_cache_free(s, addr[cps * objs], 1) == 0, "remote free %u", cps);
	CHECK(cpu_partial_len(s, 1) == 1 && n->nr_partial == cps,
	      "drain: CPU 1 partial %u, node partial %lu", cpu_partial_len(s, 1), n->nr_partial);
	info = slabinfo(s, -1);
	CHECK(info.active_objs == total - cps, "slabinfo active %lu, want %u", info.active_objs,
	      total - cps);

	/* allocating on CPU 1: its partial slab first, then a batch from the node */
	{
		unsigned long a = kmem_cache_alloc(s, GFP_KERNEL, 1), b;
		bool known = false;

		CHECK(a == addr[cps * objs], "CPU 1 did not take its partial slab's free object");
		b = kmem_cache_alloc(s, GFP_KERNEL, 1);
		for (int i = 0; i < nfreed; i++)
			known |= b == freed[i];
		CHECK(known, "CPU 1's next object %#lx is not one freed to the node", b);
		CHECK(n->nr_partial == cps - (1 + cps / 2 + 1) &&
			      cpu_partial_len(s, 1) == cps / 2 + 1,
		      "get_partial_node took %lu slabs, %u to the CPU partial list",
		      cps - n->nr_partial, cpu_partial_len(s, 1));
		/* a and b are live again: addr[] holds them, freed[] no longer */
		for (int i = 0; i < nfreed; i++)
			if (freed[i] == a || freed[i] == b)
				freed[i] = 0;
	}
	/* free everything still live, from both CPUs */
	for (unsigned int i = 0; i < total; i++) {
		bool done = false;

		for (int k = 0; k < nfreed; k++)
			done |= freed[k] == addr[i];
		if (!done)
			CHECK(kmem_cache_free(s, addr[i], (int)(i % 2)) == 0, "free %u", i);
	}
	ASSERT_VALID(s); /* flushes the CPU slabs and partial lists */
	info = slabinfo(s, -1);
	CHECK(info.active_objs == 0 && n->nr_slabs <= s->min_partial && n->nr_slabs > 0 &&
		      n->nr_partial == n->nr_slabs,
	      "empty cache keeps %lu slabs (%lu partial), min_partial %u", n->nr_slabs,
	      n->nr_partial, s->min_partial);

	/* shrink gives every remaining slab back to the page allocator */
	free0 = free_pages_now(m);
	nslabs = (unsigned int)n->nr_slabs;
	pages = kmem_cache_shrink(s);
	CHECK(pages == nslabs && free_pages_now(m) == free0 + pages && n->nr_slabs == 0,
	      "shrink returned %lu pages for %u slabs, page allocator got %lu", pages, nslabs,
	      free_pages_now(m) - free0);
	free(addr);
	ASSERT_CLEAN(m);
	machine_free(m);
}

/*
 * min_partial with a debug cache (no CPU partial lists): a slab that becomes empty is
 * freed when nr_partial (itself included) >= min_partial, else kept. Freeing nine slabs
 * in turn keeps the first four; flushing the emptied CPU slab adds a fifth.
 */
static void test_min_partial(void)
{
	struct machine *m = boot(2);
	struct kmem_cache *s = create(m, "minpartial", 200, 0, SLAB_CONSISTENCY_CHECKS, false);
	struct kmem_cache_node *n = s->node[0];
	unsigned int objs = s->oo_objects, nslabs = 10;
	unsigned long addr[200], free0, pages;
	long unr;

	REQUIRE(s->cpu_partial == 0 && s->min_partial == 5 && objs == 20,
		"cpu_partial %u min_partial %u objs %u", s->cpu_partial, s->min_partial, objs);
	for (unsigned int i = 0; i < nslabs * objs; i++)
		REQUIRE((addr[i] = kmem_cache_alloc(s, GFP_KERNEL, 0)) != 0, "alloc %u", i);
	free0 = free_pages_now(m);
	for (unsigned int i = 0; i < (nslabs - 1) * objs; i++) {
		CHECK(kmem_cache_free(s, addr[i], 1) == 0, "free %u", i);
		if (i % objs == 0)
			CHECK(n->nr_partial == (i / objs < 4 ? i / objs + 1 : 5),
			      "first free to slab %u: node partial %lu", i / objs, n->nr_partial);
	}
	CHECK(n->nr_partial == 4 && n->nr_slabs == 5 && slabinfo(s, -1).active_objs == objs,
	      "after emptying 9 slabs: %lu partial of %lu slabs", n->nr_partial, n->nr_slabs);
	CHECK(free_pages_now(m) == free0 + 5, "5 empty slabs freed, page allocator got %lu",
	      free_pages_now(m) - free0);
	for (unsigned int i = (nslabs - 1) * objs; i < nslabs * objs; i++)
		CHECK(kmem_cache_free(s, addr[i], 0) == 0, "free %u", i);
	ASSERT_VALID(s);
	CHECK(n->nr_partial == 5 && n->nr_slabs == 5 && slabinfo(s, -1).active_objs == 0,
	      "after the flush: %lu partial of %lu slabs", n->nr_partial, n->nr_slabs);
	unr = slab_bytes(m, 0, NR_SLAB_UNRECLAIMABLE_B);
	free0 = free_pages_now(m);
	pages = kmem_cache_shrink(s);
	CHECK(pages == 5 && n->nr_slabs == 0 && free_pages_now(m) == free0 + 5 &&
		      slab_bytes(m, 0, NR_SLAB_UNRECLAIMABLE_B) == unr - 5 * (long)PAGE_SIZE,
	      "shrink returned %lu, freed %lu pages", pages, free_pages_now(m) - free0);
	ASSERT_CLEAN(m);
	machine_free(m);
}

/*
 * kmem_cache_shrink() returns the pages it gave back, also those freed while flushing:
 * here ten empty slabs sit frozen on CPU 0 (its slab and nine on its partial list).
 */
static void test_shrink_counts_all_pages(void)
{
	struct machine *m = boot(2);
	struct kmem_cache *s = create(m, "shrinkme", 200, 0, 0, false);
	unsigned int objs = s->oo_objects, nslabs = 10;
	unsigned long addr[200], free0, pages;
	long unr;

	REQUIRE(objs == 20 && s->cpu_partial_slabs == 12, "geometry");
	for (unsigned int i = 0; i < nslabs * objs; i++)
		REQUIRE((addr[i] = kmem_cache_alloc(s, GFP_KERNEL, 0)) != 0, "alloc %u", i);
	for (unsigned int i = 0; i < nslabs * objs; i++)
		CHECK(kmem_cache_free(s, addr[i], 0) == 0, "free %u", i);
	CHECK(cpu_partial_len(s, 0) == nslabs - 1 && s->node[0]->nr_slabs == nslabs,
	      "%u slabs on CPU 0's partial list", cpu_partial_len(s, 0));
	unr = slab_bytes(m, 0, NR_SLAB_UNRECLAIMABLE_B);
	free0 = free_pages_now(m);
	pages = kmem_cache_shrink(s);
	CHECK(slabinfo(s, -1).num_slabs == 0, "%lu slabs left", slabinfo(s, -1).num_slabs);
	CHECK(free_pages_now(m) - free0 == nslabs &&
		      unr - slab_bytes(m, 0, NR_SLAB_UNRECLAIMABLE_B) == (long)(nslabs * PAGE_SIZE),
	      "page allocator got %lu pages back", free_pages_now(m) - free0);
	CHECK(pages == free_pages_now(m) - free0,
	      "kmem_cache_shrink returned %lu but gave back %lu pages", pages,
	      free_pages_now(m) - free0);
	ASSERT_CLEAN(m);
	machine_free(m);
}

/* Slab pages count as NR_SLAB_RECLAIMABLE_B for SLAB_RECLAIM_ACCOUNT caches, else UNRECL. */
static void test_slab_stats_by_flags(void)
{
	struct machine *m = boot(2);
	struct kmem_cache *rcl = create(m, "stat_rcl", 100, 0, SLAB_RECLAIM_ACCOUNT, false);
	struct kmem_cache *unr = create(m, "stat_unr", 100, 0, 0, false);
	struct kmem_cache *dma = create(m, "stat_dma", 100, 0, SLAB_CACHE_DMA, false);
	const struct {
		struct kmem_cache *s; /* cache */
		bool reclaimable;     /* where its pages count */
	} cases[] = {
		{rcl, true},
		{unr, false},
		{dma, false},
		{find(m, "kmalloc-rcl-512"), true},
		{find(m, "kmalloc-cg-512"), false},
		{find(m, "dma-kmalloc-512"), false},
		{find(m, "kmalloc-512"), false},
		{find(m, "kmalloc-rcl-8k"), true},
	};
	unsigned long obj[ARRAY_SIZE(cases)], free0 = free_pages_now(m);
	long rcl0 = slab_bytes(m, 0, NR_SLAB_RECLAIMABLE_B);
	long unr0 = slab_bytes(m, 0, NR_SLAB_UNRECLAIMABLE_B);

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct kmem_cache *s = cases[i].s;
		long r = slab_bytes(m, 0, NR_SLAB_RECLAIMABLE_B);
		long u = slab_bytes(m, 0, NR_SLAB_UNRECLAIMABLE_B);
		long bytes = (long)(PAGE_SIZE << s->oo_order);

		REQUIRE(slabinfo(s, -1).num_slabs == 0, "%s not empty at the start", s->name);
		obj[i] = kmem_cache_alloc(s, GFP_KERNEL, (int)(i % 2));
		REQUIRE(obj[i] != 0, "alloc from %s", s->name);
		CHECK(slab_bytes(m, 0, NR_SLAB_RECLAIMABLE_B) - r ==
				      (cases[i].reclaimable ? bytes : 0) &&
			      slab_bytes(m, 0, NR_SLAB_UNRECLAIMABLE_B) - u ==
				      (cases[i].reclaimable ? 0 : bytes),
		      "%s: reclaimable %+ld unreclaimable %+ld for a %ld-byte slab", s->name,
		      slab_bytes(m, 0, NR_SLAB_RECLAIMABLE_B) - r,
		      slab_bytes(m, 0, NR_SLAB_UNRECLAIMABLE_B) - u, bytes);
	}
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		CHECK(kmem_cache_free(cases[i].s, obj[i], (int)((i + 1) % 2)) == 0, "free");
		kmem_cache_shrink(cases[i].s);
	}
	CHECK(slab_bytes(m, 0, NR_SLAB_RECLAIMABLE_B) == rcl0 &&
		      slab_bytes(m, 0, NR_SLAB_UNRECLAIMABLE_B) == unr0 &&
		      free_pages_now(m) == free0,
	      "slab pages not all given back: reclaimable %+ld unreclaimable %+ld free %+ld",
	      slab_bytes(m, 0, NR_SLAB_RECLAIMABLE_B) - rcl0,
	      slab_bytes(m, 0, NR_SLAB_UNRECLAIMABLE_B) - unr0,
	      (long)free_pages_now(m) - (long)free0);
	ASSERT_CLEAN(m);
	machine_free(m);
}

/* ---------------------------------------------------------------- invalid frees */

/* What a refused free must leave alone. */
struct snapshot {
	struct slabinfo info[2]; /* the two caches involved */
	long rcl, unr;		 /* node 0 slab bytes */
	unsigned long free;	 /* page allocator */
	unsigned long invalid;	 /* SLAB_FREE_INVALID */
};

static void snap(struct machine *m, struct kmem_cache *a, struct kmem_cache *b, struct snapshot *x)
{
	x->info[0] = slabinfo(a, -1);
	x->info[1] = slabinfo(b, -1);
	x->rcl = slab_bytes(m, 0, NR_SLAB_RECLAIMABLE_B);
	x->unr = slab_bytes(m, 0, NR_SLAB_UNRECLAIMABLE_B);
	x->free = free_pages_now(m);
	x->invalid = slab_event(m, SLAB_FREE_INVALID);
}

static bool same_info(const struct slabinfo *a, const struct slabinfo *b)
{
	return a->active_objs == b->active_objs && a->num_objs == b->num_objs &&
	       a->num_slabs == b->num_slabs && a->active_slabs == b->active_slabs;
}

static void refused_(struct machine *m, struct kmem_cache *a, struct kmem_cache *b,
		     const struct snapshot *before, const char *what, int ret, int want,
		     unsigned int line)
{
	struct snapshot after;

	snap(m, a, b, &after);
	check_(ret == want, line, false, "%s returned %d, want %d", what, ret, want);
	check_(same_info(&before->info[0], &after.info[0]) &&
		       same_info(&before->info[1], &after.info[1]) && before->rcl == after.rcl &&
		       before->unr == after.unr && before->free == after.free,
	       line, false, "%s changed the counters", what);
	check_(after.invalid == before->invalid + 1, line, false,
	       "%s: SLAB_FREE_INVALID %+ld, want +1", what,
	       (long)after.invalid - (long)before->invalid);
	assert_valid(a, line);
	assert_valid(b, line);
}

#define REFUSED(what, call, want)                                                \
	do {                                                                     \
		struct snapshot before_;                                         \
		snap(m, k64, k96, &before_);                                     \
		refused_(m, k64, k96, &before_, what, (call), (want), __LINE__); \
	} while (0)

/* Double frees, interior and foreign addresses, the wrong cache: refused, nothing changes. */
static void test_invalid_frees(void)
{
	struct machine *m = boot(2);
	struct kmem_cache *k64 = find(m, "kmalloc-64"), *k96 = find(m, "kmalloc-96");
	unsigned long p = kmalloc(m, 64, GFP_KERNEL, 0), q = kmalloc(m, 64, GFP_KERNEL, 0);
	unsigned long r = kmalloc(m, 96, GFP_KERNEL, 1), large = kmalloc(m, 20000, GFP_KERNEL, 0);
	unsigned long gone = kmalloc(m, 9000, GFP_KERNEL, 1), page_pfn;
	unsigned long max_low = m->layout.max_low_pfn;

	REQUIRE(p && q && r && large && gone, "allocations");
	REQUIRE(__alloc_pages(m, &page_pfn, GFP_KERNEL, 0, 0, -1, 0, 7, NULL) == 0, "a page");
	CHECK(kfree(m, p, 0) == 0, "first free");
	CHECK(kfree(m, gone, 0) == 0, "first free of a large block");

	/* p's slab is still CPU 0's slab: the fast path must catch it too */
	REFUSED("double kfree on the owning CPU", kfree(m, p, 0), ESLAB_DOUBLE);
	REFUSED("double kfree from another CPU", kfree(m, p, 1), ESLAB_DOUBLE);
	REFUSED("double kmem_cache_free", kmem_cache_free(k64, p, 1), ESLAB_DOUBLE);
	REFUSED("kfree inside an object", kfree(m, q + 8, 0), ESLAB_NOTOBJ);
	REFUSED("kmem_cache_free inside an object", kmem_cache_free(k64, q + 60, 1), ESLAB_NOTOBJ);
	REFUSED("kfree past the last object of a slab",
		kfree(m, (r & ~(PAGE_SIZE - 1)) + k96->oo_objects * 96, 0), ESLAB_NOTOBJ);
	REFUSED("kfree of a page-allocator page",
		kfree(m, PAGE_OFFSET + (page_pfn << PAGE_SHIFT), 0), ESLAB_NOTSLAB);
	REFUSED("kfree of a user address", kfree(m, 0x08048000ul, 1), ESLAB_NOTSLAB);
	REFUSED("kfree above lowmem", kfree(m, PAGE_OFFSET + (max_low << PAGE_SHIFT), 0),
		ESLAB_NOTSLAB);
	REFUSED("kmem_cache_free to the wrong cache", kmem_cache_free(k96, q, 0), ESLAB_WRONGCACHE);
	REFUSED("kmem_cache_free of a large block", kmem_cache_free(k64, large, 0), ESLAB_NOTSLAB);
	REFUSED("kmem_cache_free of a page-allocator page",
		kmem_cache_free(k64, PAGE_OFFSET + (page_pfn << PAGE_SHIFT), 1), ESLAB_NOTSLAB);
	REFUSED("kfree inside a large block", kfree(m, large + PAGE_SIZE, 1), ESLAB_NOTSLAB);
	REFUSED("kfree unaligned into a large block", kfree(m, large + 8, 1), ESLAB_NOTSLAB);
	{
		struct snapshot before;
		int ret;

		snap(m, k64, k96, &before);
		ret = kfree(m, gone, 1);
		refused_(m, k64, k96, &before, "double kfree of a large block", ret,
			 ret == ESLAB_DOUBLE ? ESLAB_DOUBLE : ESLAB_NOTSLAB, __LINE__);
	}
	CHECK(ksize(m, q) == 64 && ksize(m, r) == 96 && ksize(m, large) == 32768,
	      "live objects survived");
	CHECK(kfree(m, q, 1) == 0 && kfree(m, r, 0) == 0 && kfree(m, large, 1) == 0,
	      "live objects still free normally");
	CHECK(free_pages(m, page_pfn, 0, 0, 7) == 0, "free the page");
	ASSERT_CLEAN(m);
	machine_free(m);
}

/* free_pages() on a slab page or a kmalloc_large block is refused with EBADPAGE_SLAB. */
static void test_free_pages_on_slab(void)
{
	struct machine *m = boot(2);
	struct kmem_cache *k8k = find(m, "kmalloc-8k");
	unsigned long p = kmalloc(m, 64, GFP_KERNEL, 0), big = kmalloc(m, 8192, GFP_KERNEL, 1);
	unsigned long large = kmalloc(m, 50000, GFP_KERNEL, 0);
	unsigned long free0 = free_pages_now(m);
	unsigned long big_pfn;

	REQUIRE(p && big && large, "allocations");
	big_pfn = virt_to_pfn(m, big) & ~((1ul << k8k->oo_order) - 1);
	CHECK(free_pages(m, virt_to_pfn(m, p), 0, 0, OWNER_ANY) == EBADPAGE_SLAB,
	      "free_pages of an order-0 slab page");
	CHECK(free_pages(m, virt_to_pfn(m, p), 0, 1, 0) == EBADPAGE_SLAB,
	      "free_pages of a slab page, owner 0");
	CHECK(free_pages(m, big_pfn, k8k->oo_order, 1, OWNER_ANY) == EBADPAGE_SLAB,
	      "free_pages of an order-%u slab", k8k->oo_order);
	CHECK(free_pages(m, virt_to_pfn(m, large), 4, 0, OWNER_ANY) == EBADPAGE_SLAB,
	      "free_pages of a kmalloc_large block");
	CHECK(free_pages_now(m) == free0, "refused free_pages changed free pages");
	CHECK(ksize(m, p) == 64 && ksize(m, big) == 8192 && ksize(m, large) == 65536,
	      "objects damaged by free_pages");
	CHECK(kfree(m, p, 1) == 0 && kfree(m, big, 0) == 0 && kfree(m, large, 1) == 0, "kfree");
	ASSERT_CLEAN(m);
	machine_free(m);
}

static CU_TestInfo tests[] = {
	{"kmalloc geometry for 1..16 CPUs, four families", test_kmalloc_geometry},
	{"boot caches: 54, newest first", test_boot_caches},
	{"named caches of the 2-CPU capture", test_named_geometry},
	{"32-byte cache line (qemu32)", test_cache_line_32},
	{"no slab above 32767 objects, whatever the boot options", test_slab_objects_limit},
	{"merge: alias of a compatible cache", test_merge_alias},
	{"merge: prevented by flags, ctor, waste", test_merge_prevented},
	{"merge: MERGE_SAME flags, kmalloc never a target", test_merge_same_flags},
	{"merge: slab_nomerge", test_slab_nomerge},
	{"merge: the oldest candidate wins", test_merge_oldest},
	{"destroy of a merged name drops that name only", test_destroy_alias},
	{"destroy of a sysfs id", test_destroy_sysfs_id},
	{"create errors", test_create_errors},
	{"destroy: EBUSY, ENOENT, EPERM", test_destroy},
	{"kmalloc_slab for 1..8192, all families", test_kmalloc_classes},
	{"kmalloc objects at class boundaries", test_kmalloc_objects},
	{"size 0 and ZERO_SIZE_PTR", test_kmalloc_zero},
	{"kmalloc_large", test_kmalloc_large},
	{"absurd sizes fail without hanging", test_kmalloc_absurd_sizes},
	{"kcalloc and kzalloc", test_kcalloc_kzalloc},
	{"krealloc", test_krealloc},
	{"ksize", test_ksize},
	{"addresses, virt_to_pfn, DMA", test_addresses},
	{"kmem_cache_alloc_node on two lowmem nodes", test_alloc_node},
	{"kmem_cache_alloc_node for a node without lowmem", test_alloc_node_without_lowmem},
	{"lists: full, CPU partial, node partial", test_lists_remote_free},
	{"min_partial keeps empty slabs", test_min_partial},
	{"shrink counts every page it gives back", test_shrink_counts_all_pages},
	{"slab pages by reclaimable flag", test_slab_stats_by_flags},
	{"invalid frees refused, nothing changes", test_invalid_frees},
	{"free_pages on slab pages", test_free_pages_on_slab},
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("slab", NULL, NULL, tests);
