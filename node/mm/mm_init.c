// SPDX-License-Identifier: MIT
/*
 * mm_init.c - lay out and boot a simulated x86-32 machine.
 *
 * Mirrors:    arch/x86/kernel/e820.c (sanitising), arch/x86/mm/init_32.c (find_low_pfn_range),
 *             mm/page_alloc.c (free_area_init, find_zone_movable_pfns_for_nodes,
 *             memblock_free_all), mm/memblock.c (Linux 6.1.y, Debian 686 / 686-pae)
 * Simplified: boot reservations are a model (kernel image, memory map, hash tables, per-cpu
 *             areas, swiotlb) fitted to real boots, not a memblock allocator
 * Differs:    NUMA on i386 is our extension: nodes take consecutive ranges of physical
 *             memory (4 MiB aligned), every node's memory map lives in node 0's lowmem
 *
 * Boot order (as start_kernel runs it):
 *   e820 -> max_pfn / max_low_pfn -> node and zone spans -> memory map -> reservations ->
 *   free to buddy (ascending, largest aligned blocks, to the tail) -> pcp with zero
 *   watermarks -> init_per_zone_wmark_min() -> THP raise -> late frees (initrd, initmem)
 */
#include <errno.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define SZ_1M (1ull << 20)
#define SZ_1G (1ull << 30)
#define PFN_UP(x) ((unsigned long)(((x) + PAGE_SIZE - 1) >> PAGE_SHIFT))
#define PFN_DOWN(x) ((unsigned long)((x) >> PAGE_SHIFT))
#define MAX_DMA_PFN 4096ul
#define SIZEOF_STRUCT_PAGE 40ul /* the kernel's, for the reservation model */
#define INITRD_PAGES 261ul	/* "Freeing initrd memory: 1044K" */
#define PERCPU_UNIT_KB 132ul	/* "percpu: Embedded 33 pages/cpu" */
#define SWIOTLB_KB 66048ul	/* 64 MiB bounce buffer + slots, RAM above 4 GiB */
#define SMP_ALT_PAGES 8ul	/* "Freeing SMP alternatives memory: 32K", before init */

/* Per-arch constants of Debian's 6.1 kernels (see docs/MODEL.md for how they were fitted). */
struct arch_desc {
	const char *name;		/* --arch value */
	unsigned long max_arch_pfn;	/* physical address limit */
	uint64_t max_ram;		/* largest --mem accepted */
	unsigned long maxmem_pfn;	/* MAXMEM_PFN with the default vmalloc area */
	int pageblock_order;		/* HUGETLB_PAGE_ORDER */
	unsigned long base_reserved_kb; /* constant part of "reserved", one CPU, no hashes */
	unsigned long initmem_pages;	/* "Freeing unused kernel image (initmem)" */
};

static const struct arch_desc arch_descs[] = {
	[ARCH_686] = {"686", 1ul << 20, 4 * SZ_1G, 0x36bfe, 10, 17136, 228},
	[ARCH_686_PAE] = {"686-pae", 1ul << 24, 64 * SZ_1G, 0x36ffe, 9, 17328, 232},
};

const char *mm_arch_name(enum mm_arch arch)
{
	return arch_descs[arch].name;
}

int mm_arch_pageblock_order(enum mm_arch arch)
{
	return arch_descs[arch].pageblock_order;
}

void machine_config_init(struct machine_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->arch = ARCH_686_PAE;
	cfg->mem_bytes = 2 * SZ_1G;
	cfg->ncpus = 1;
	cfg->nr_nodes = 1;
	cfg->vmalloc_bytes = MM_UNSET;
	cfg->mem_limit = MM_UNSET;
	cfg->highmem_bytes = MM_UNSET;
	cfg->kernelcore_bytes = MM_UNSET;
	cfg->kernelcore_percent = MM_UNSET;
	cfg->movablecore_bytes = MM_UNSET;
	cfg->movablecore_percent = MM_UNSET;
	cfg->thp = THP_ALWAYS;
	for (int z = 0; z < MAX_NR_ZONES; z++) {
		cfg->reserve[z] = MM_UNSET;
		cfg->late_free[z] = MM_UNSET;
	}
	cfg->local_node = -1;
	cfg->cache_line = 64;
	cfg->slub_max_order = PAGE_ALLOC_COSTLY_ORDER;
}

static int fail(char *err, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		va_start(ap, fmt);
		vsnprintf(err, MM_ERRLEN, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* The e820 map QEMU's PC machine (SeaBIOS) hands a guest with @mem bytes of RAM. */
static void e820_qemu_pc(struct e820_table *t, uint64_t mem)
{
	uint64_t below_4g = mem >= 0xe0000000ull ? 0xc0000000ull : mem;
	uint64_t above_4g = mem - below_4g;
	struct e820_entry map[] = {
		{0, 0x9fc00, E820_USABLE},
		{0x9fc00, 0x400, E820_RESERVED},
		{0xf0000, 0x10000, E820_RESERVED},
		{0x100000, below_4g - 0x20000 - 0x100000, E820_USABLE},
		{below_4g - 0x20000, 0x20000, E820_RESERVED},
		{0xfffc0000ull, 0x40000, E820_RESERVED},
		{1ull << 32, above_4g, E820_USABLE},
		{0xfd00000000ull, 0x300000000ull, E820_RESERVED},
	};

	t->nr_entries = 0;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (map[i].size)
			t->entries[t->nr_entries++] = map[i];
}

void e820_table_for(const struct machine_config *cfg, struct e820_table *t)
{
	if (cfg->e820.nr_entries)
		*t = cfg->e820;
	else
		e820_qemu_pc(t, cfg->mem_bytes);
}

struct pfn_ranges {
	int nr; /* ranges used */
	struct {
		unsigned long start, end; /* [start, end) */
	} r[E820_MAX_ENTRIES * 2];
};

/* Remove [start, end) from every range (splitting where needed). */
static void ranges_subtract(struct pfn_ranges *rs, unsigned long start, unsigned long end)
{
	struct pfn_ranges out = {0};

	for (int i = 0; i < rs->nr; i++) {
		unsigned long s = rs->r[i].start, e = rs->r[i].end;

		if (end <= s || start >= e) {
			out.r[out.nr++] = rs->r[i];
			continue;
		}
		if (s < start) {
			out.r[out.nr].start = s;
			out.r[out.nr++].end = start;
		}
		if (e > end && out.nr < E820_MAX_ENTRIES * 2) {
			out.r[out.nr].start = end;
			out.r[out.nr++].end = e;
		}
	}
	*rs = out;
}

static int range_cmp(const void *a, const void *b)
{
	const unsigned long *x = a, *y = b;

	return (*x > *y) - (*x < *y);
}

/* Sort by start and merge touching ranges. */
static void ranges_normalise(struct pfn_ranges *rs)
{
	int n = 0;

	qsort(rs->r, rs->nr, sizeof(rs->r[0]), range_cmp);
	for (int i = 0; i < rs->nr; i++) {
		if (rs->r[i].start >= rs->r[i].end)
			continue;
		if (n && rs->r[i].start <= rs->r[n - 1].end) {
			if (rs->r[i].end > rs->r[n - 1].end)
				rs->r[n - 1].end = rs->r[i].end;
			continue;
		}
		rs->r[n++] = rs->r[i];
	}
	rs->nr = n;
}

/* Usable RAM as page frames: e820 sanitised (reserved wins), page 0 reserved, mem= applied. */
static int usable_ranges(struct pfn_ranges *rs, const struct machine_config *cfg, char *err)
{
	struct e820_table map;
	const struct e820_table *t = &map;

	e820_table_for(cfg, &map);
	rs->nr = 0;
	for (int i = 0; i < t->nr_entries; i++) {
		const struct e820_entry *e = &t->entries[i];

		if (e->type != E820_USABLE)
			continue;
		rs->r[rs->nr].start = PFN_UP(e->addr);
		rs->r[rs->nr++].end = PFN_DOWN(e->addr + e->size);
	}
	ranges_normalise(rs);
	for (int i = 0; i < t->nr_entries; i++) {
		const struct e820_entry *e = &t->entries[i];

		if (e->type != E820_USABLE)
			ranges_subtract(rs, PFN_DOWN(e->addr), PFN_UP(e->addr + e->size));
	}
	ranges_subtract(rs, 0, 1);	  /* e820: page 0 usable ==> reserved */
	ranges_subtract(rs, 0xa0, 0x100); /* legacy VGA / BIOS area */
	if (cfg->mem_limit != MM_UNSET)
		ranges_subtract(rs, PFN_DOWN((uint64_t)cfg->mem_limit), ~0ul);
	ranges_subtract(rs, arch_descs[cfg->arch].max_arch_pfn, ~0ul);
	if (!rs->nr)
		return fail(err, "the memory map has no usable RAM");
	return 0;
}

static unsigned long ranges_pages(const struct pfn_ranges *rs, unsigned long start,
				  unsigned long end)
{
	unsigned long n = 0;

	for (int i = 0; i < rs->nr; i++) {
		unsigned long s = rs->r[i].start > start ? rs->r[i].start : start;
		unsigned long e = rs->r[i].end < end ? rs->r[i].end : end;

		if (e > s)
			n += e - s;
	}
	return n;
}

/* find_low_pfn_range(): lowmem and highmem limits from max_pfn, vmalloc= and highmem=. */
static int find_low_pfn_range(struct machine_layout *l, const struct machine_config *cfg, char *err)
{
	const struct arch_desc *a = &arch_descs[cfg->arch];
	long highmem_pages =
		cfg->highmem_bytes == MM_UNSET ? -1 : (long)PFN_DOWN(cfg->highmem_bytes);
	int64_t vmalloc =
		cfg->vmalloc_bytes == MM_UNSET ? (int64_t)(120 * SZ_1M) : cfg->vmalloc_bytes;
	int64_t maxmem =
		(int64_t)a->maxmem_pfn +
		((int64_t)(128 * SZ_1M) - (vmalloc + (int64_t)(8 * SZ_1M))) / (int64_t)PAGE_SIZE;

	if (maxmem < (int64_t)(64 * SZ_1M / PAGE_SIZE))
		return fail(err, "vmalloc=%lldM leaves less than 64 MiB of lowmem",
			    (long long)(vmalloc >> 20));
	l->maxmem_pfn = (unsigned long)maxmem;
	l->vmalloc_total_kb = (unsigned long)(vmalloc >> 10);
	if (l->max_pfn <= l->maxmem_pfn) {
		l->max_low_pfn = l->max_pfn;
		if (highmem_pages >= (long)l->max_pfn)
			highmem_pages = 0;
		if (highmem_pages > 0 && l->max_low_pfn - highmem_pages >= 64 * SZ_1M / PAGE_SIZE)
			l->max_low_pfn -= highmem_pages;
		return 0;
	}
	l->max_low_pfn = l->maxmem_pfn;
	if (highmem_pages == -1)
		highmem_pages = l->max_pfn - l->maxmem_pfn;
	if (highmem_pages + l->maxmem_pfn < l->max_pfn)
		l->max_pfn = l->maxmem_pfn + highmem_pages;
	return 0;
}

/* Node spans: consecutive ranges holding the requested RAM each, 4 MiB aligned. */
static int split_nodes(struct machine_layout *l, const struct pfn_ranges *rs,
		       const struct machine_config *cfg, char *err)
{
	unsigned long total = ranges_pages(rs, 0, ~0ul);
	unsigned long start = rs->r[0].start;

	for (int nid = 0; nid < cfg->nr_nodes; nid++) {
		struct node_layout *n = &l->nodes[nid];
		unsigned long want =
			cfg->node_mem[nid] ? PFN_DOWN(cfg->node_mem[nid]) : total / cfg->nr_nodes;
		unsigned long end = start;

		n->start_pfn = start;
		if (nid == cfg->nr_nodes - 1) {
			end = l->max_pfn;
		} else {
			while (end < l->max_pfn && ranges_pages(rs, start, end) < want)
				end += MAX_ORDER_NR_PAGES - (end & (MAX_ORDER_NR_PAGES - 1));
			if (end > l->max_pfn)
				end = l->max_pfn;
		}
		n->end_pfn = end;
		if (!ranges_pages(rs, start, end))
			return fail(err, "node %d gets no memory (%d nodes on %lu MiB)", nid,
				    cfg->nr_nodes, total >> 8);
		start = end;
	}
	return 0;
}

static unsigned long roundup_ul(unsigned long x, unsigned long a)
{
	return (x + a - 1) / a * a;
}

/* One pass of find_zone_movable_pfns_for_nodes() over the nodes' memory. */
static unsigned long spread_kernelcore(struct machine_layout *l, const struct pfn_ranges *rs,
				       int nr_nodes, unsigned long required,
				       unsigned long usable_start)
{
	unsigned long per_node = required / nr_nodes;

	for (int nid = 0; nid < nr_nodes; nid++) {
		struct node_layout *n = &l->nodes[nid];
		unsigned long remaining = per_node;

		if (required < per_node)
			per_node = required;
		for (int i = 0; i < rs->nr && remaining; i++) {
			unsigned long s =
				rs->r[i].start > n->start_pfn ? rs->r[i].start : n->start_pfn;
			unsigned long e = rs->r[i].end < n->end_pfn ? rs->r[i].end : n->end_pfn;
			unsigned long size;

			if (s < n->movable_pfn)
				s = n->movable_pfn;
			if (s >= e)
				continue;
			if (s < usable_start) {
				unsigned long kp = (e < usable_start ? e : usable_start) - s;

				remaining -= kp < remaining ? kp : remaining;
				required -= kp < required ? kp : required;
				if (e <= usable_start) {
					n->movable_pfn = e;
					continue;
				}
				s = usable_start;
			}
			size = e - s;
			if (size > remaining)
				size = remaining;
			n->movable_pfn = s + size;
			required -= size < required ? size : required;
			remaining -= size;
		}
	}
	return required;
}

/* find_zone_movable_pfns_for_nodes(): where ZONE_MOVABLE starts in each node. */
static void find_zone_movable(struct machine_layout *l, const struct pfn_ranges *rs,
			      const struct machine_config *cfg, const unsigned long *arch_lo)
{
	unsigned long total = ranges_pages(rs, 0, ~0ul), kernelcore = 0, movablecore = 0;

	l->movable_zone = l->max_pfn > l->max_low_pfn ? ZONE_HIGHMEM : ZONE_NORMAL;
	if (cfg->kernelcore_percent != MM_UNSET)
		kernelcore = total * cfg->kernelcore_percent / 100;
	else if (cfg->kernelcore_bytes != MM_UNSET)
		kernelcore = PFN_DOWN(cfg->kernelcore_bytes);
	if (cfg->movablecore_percent != MM_UNSET)
		movablecore = total * cfg->movablecore_percent / 100;
	else if (cfg->movablecore_bytes != MM_UNSET)
		movablecore = PFN_DOWN(cfg->movablecore_bytes);
	if (movablecore) {
		movablecore = roundup_ul(movablecore, MAX_ORDER_NR_PAGES);
		if (movablecore > total)
			movablecore = total;
		if (total - movablecore > kernelcore)
			kernelcore = total - movablecore;
	}
	if (!kernelcore || kernelcore >= total)
		return;
	for (int nid = 0; nid < cfg->nr_nodes; nid++)
		l->nodes[nid].movable_pfn = 0;
	while (kernelcore > (unsigned long)cfg->nr_nodes)
		kernelcore = spread_kernelcore(l, rs, cfg->nr_nodes, kernelcore,
					       arch_lo[l->movable_zone]);
	for (int nid = 0; nid < cfg->nr_nodes; nid++) {
		struct node_layout *n = &l->nodes[nid];

		n->movable_pfn = roundup_ul(n->movable_pfn, MAX_ORDER_NR_PAGES);
		if (n->movable_pfn >= n->end_pfn)
			n->movable_pfn = 0;
	}
}

/* Zone spans of each node: the arch boundaries clamped to the node, ZONE_MOVABLE carved. */
static void zone_spans(struct machine_layout *l, const struct pfn_ranges *rs, int nr_nodes,
		       const unsigned long *lo, const unsigned long *hi)
{
	for (int nid = 0; nid < nr_nodes; nid++) {
		struct node_layout *n = &l->nodes[nid];

		for (int z = 0; z < MAX_NR_ZONES; z++) {
			struct zone_layout *zl = &n->zones[z];
			unsigned long s = 0, e = 0;

			if (z == ZONE_MOVABLE) {
				if (n->movable_pfn) {
					s = n->movable_pfn;
					e = n->end_pfn < hi[l->movable_zone] ? n->end_pfn
									     : hi[l->movable_zone];
				}
			} else {
				s = n->start_pfn < lo[z] ? lo[z] : n->start_pfn;
				s = s > hi[z] ? hi[z] : s;
				e = n->end_pfn < lo[z] ? lo[z] : n->end_pfn;
				e = e > hi[z] ? hi[z] : e;
				if (n->movable_pfn && s < n->movable_pfn && e > n->movable_pfn)
					e = n->movable_pfn;
				else if (n->movable_pfn && s >= n->movable_pfn)
					s = e;
			}
			zl->start_pfn = s;
			zl->end_pfn = e > s ? e : s;
			zl->present = ranges_pages(rs, zl->start_pfn, zl->end_pfn);
		}
	}
}

static unsigned long roundup_pow_of_two(unsigned long x)
{
	unsigned long r = 1;

	while (r < x)
		r <<= 1;
	return r;
}

/* alloc_large_system_hash() size in KiB for a table of 4-byte buckets at @scale. */
static unsigned long early_hash_kb(unsigned long nr_kernel_pages, int scale)
{
	unsigned long n = roundup_ul(nr_kernel_pages, SZ_1M / PAGE_SIZE) >> (scale - PAGE_SHIFT);

	return roundup_pow_of_two(n) * 4 / 1024;
}

/* The boot "Memory: ... NK reserved" figure of Debian's kernels for this layout. */
static unsigned long model_reserved_kb(struct machine_layout *l, const struct machine_config *cfg)
{
	const struct node_layout *n0 = &l->nodes[0];
	unsigned long nr_kernel_pages = 0, kb;

	for (int z = ZONE_DMA; z <= ZONE_NORMAL; z++) {
		const struct zone_layout *zl = &n0->zones[z];
		unsigned long memmap =
			(((zl->end_pfn - zl->start_pfn) * SIZEOF_STRUCT_PAGE) + PAGE_SIZE - 1) >>
			PAGE_SHIFT;

		if (zl->present > memmap)
			nr_kernel_pages += zl->present - memmap;
	}
	l->memmap_pages =
		(roundup_ul(l->max_pfn, MAX_ORDER_NR_PAGES) * SIZEOF_STRUCT_PAGE + PAGE_SIZE - 1) >>
		PAGE_SHIFT;
	kb = arch_descs[cfg->arch].base_reserved_kb + PERCPU_UNIT_KB * (cfg->ncpus - 1);
	kb += l->memmap_pages * 4;
	kb += early_hash_kb(nr_kernel_pages, 13) + early_hash_kb(nr_kernel_pages, 14);
	if (l->max_pfn > (1ul << 20))
		kb += SWIOTLB_KB;
	return kb;
}

/* Reservations and late frees of node 0's zones: the model unless overridden per zone. */
static int reservations(struct machine_layout *l, const struct machine_config *cfg,
			unsigned long dma_first_mib, char *err)
{
	struct node_layout *n0 = &l->nodes[0];
	unsigned long dma_res, normal_res;

	l->reserved_kb = model_reserved_kb(l, cfg);
	dma_res = dma_first_mib; /* since 5.13 the first MiB is always reserved */
	normal_res = l->reserved_kb / 4 - dma_res - SMP_ALT_PAGES;
	n0->zones[ZONE_DMA].reserved = dma_res;
	n0->zones[ZONE_NORMAL].reserved = normal_res;
	n0->zones[ZONE_NORMAL].late_free = INITRD_PAGES + arch_descs[cfg->arch].initmem_pages;
	for (int z = 0; z < MAX_NR_ZONES; z++) {
		struct zone_layout *zl = &n0->zones[z];

		if (cfg->reserve[z] != MM_UNSET)
			zl->reserved = cfg->reserve[z];
		if (cfg->late_free[z] != MM_UNSET)
			zl->late_free = cfg->late_free[z];
		if (zl->reserved > zl->present)
			return fail(err,
				    "zone %s has %lu pages but %lu are reserved at boot "
				    "(the memory map does not fit in lowmem)",
				    zone_names[z], zl->present, zl->reserved);
		if (zl->late_free > zl->reserved)
			return fail(err, "zone %s frees %lu pages late but reserves only %lu",
				    zone_names[z], zl->late_free, zl->reserved);
	}
	return 0;
}

static int check_config(const struct machine_config *cfg, char *err)
{
	const struct arch_desc *a = &arch_descs[cfg->arch];
	uint64_t node_sum = 0;

	if (cfg->ncpus < 1 || cfg->ncpus > NR_CPUS_MAX)
		return fail(err, "cpus must be between 1 and %d (got %d)", NR_CPUS_MAX, cfg->ncpus);
	if (cfg->nr_nodes < 1 || cfg->nr_nodes > MAX_NUMNODES)
		return fail(err, "nodes must be between 1 and %d (got %d)", MAX_NUMNODES,
			    cfg->nr_nodes);
	if (!cfg->e820.nr_entries && cfg->mem_bytes > a->max_ram)
		return fail(err, "arch %s addresses at most %llu GiB of RAM (asked for %llu MiB)",
			    a->name, (unsigned long long)(a->max_ram >> 30),
			    (unsigned long long)(cfg->mem_bytes >> 20));
	if (!cfg->e820.nr_entries && cfg->mem_bytes < 32 * SZ_1M)
		return fail(err, "at least 32 MiB of RAM is needed (asked for %llu KiB)",
			    (unsigned long long)(cfg->mem_bytes >> 10));
	for (int i = 0; i < cfg->nr_nodes; i++)
		node_sum += cfg->node_mem[i];
	if (node_sum && node_sum > cfg->mem_bytes)
		return fail(err, "the nodes hold %llu MiB but the machine has %llu MiB",
			    (unsigned long long)(node_sum >> 20),
			    (unsigned long long)(cfg->mem_bytes >> 20));
	if (cfg->distance[0][0]) {
		for (int i = 0; i < cfg->nr_nodes; i++)
			for (int j = 0; j < cfg->nr_nodes; j++)
				if (i == j ? cfg->distance[i][j] != 10 : cfg->distance[i][j] <= 10)
					return fail(err,
						    "distance table: node %d to %d must be %s "
						    "(got %d)",
						    i, j, i == j ? "10" : "above 10",
						    cfg->distance[i][j]);
	}
	if (cfg->local_node >= cfg->nr_nodes || cfg->local_node < MM_NO_NODES)
		return fail(err, "local node %d does not exist", cfg->local_node);
	return 0;
}

int machine_layout_compute(struct machine_layout *l, const struct machine_config *cfg, char *err)
{
	struct pfn_ranges rs;
	struct zone_layout *dma;
	unsigned long lo[MAX_NR_ZONES], hi[MAX_NR_ZONES], start;
	int ret;

	memset(l, 0, sizeof(*l));
	ret = check_config(cfg, err);
	if (ret)
		return ret;
	ret = usable_ranges(&rs, cfg, err);
	if (ret)
		return ret;
	l->max_pfn = rs.r[rs.nr - 1].end;
	ret = find_low_pfn_range(l, cfg, err);
	if (ret)
		return ret;
	ranges_subtract(&rs, l->max_pfn, ~0ul);
	for (int i = 0; i < rs.nr && i < E820_MAX_ENTRIES; i++) {
		l->ram[i].start = rs.r[i].start;
		l->ram[i].end = rs.r[i].end;
		l->nr_ram = i + 1;
	}
	if (l->max_low_pfn <= MAX_DMA_PFN)
		return fail(err, "lowmem ends at pfn %lu, inside ZONE_DMA", l->max_low_pfn);
	hi[ZONE_DMA] = MAX_DMA_PFN;
	hi[ZONE_NORMAL] = l->max_low_pfn;
	hi[ZONE_HIGHMEM] = l->max_pfn;
	hi[ZONE_MOVABLE] = l->max_pfn;
	start = rs.r[0].start;
	for (int z = ZONE_DMA; z <= ZONE_HIGHMEM; z++) {
		lo[z] = start;
		start = hi[z] > start ? hi[z] : start;
	}
	lo[ZONE_MOVABLE] = lo[ZONE_HIGHMEM];
	ret = split_nodes(l, &rs, cfg, err);
	if (ret)
		return ret;
	find_zone_movable(l, &rs, cfg, lo);
	zone_spans(l, &rs, cfg->nr_nodes, lo, hi);
	for (int cpu = 0; cpu < cfg->ncpus; cpu++)
		l->nodes[cpu_node_of(cfg, cpu)].ncpus++;
	dma = &l->nodes[0].zones[ZONE_DMA];
	return reservations(
		l, cfg, ranges_pages(&rs, dma->start_pfn, dma->end_pfn < 256 ? dma->end_pfn : 256),
		err);
}

/* CPUs are spread over the nodes in contiguous blocks: cpu * nodes / ncpus. */
int cpu_node_of(const struct machine_config *cfg, int cpu)
{
	return (int)((long)cpu * cfg->nr_nodes / cfg->ncpus);
}

int memparse(const char *s, uint64_t *bytes)
{
	char *end;
	unsigned long long v;
	int shift = 0;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno)
		return -EINVAL;
	switch (toupper((unsigned char)*end)) {
	case 'K':
		shift = 10;
		break;
	case 'M':
		shift = 20;
		break;
	case 'G':
		shift = 30;
		break;
	case 'T':
		shift = 40;
		break;
	case '\0':
		break;
	default:
		return -EINVAL;
	}
	if (shift) {
		end++;
		if (toupper((unsigned char)*end) == 'I')
			end++;
		if (toupper((unsigned char)*end) == 'B')
			end++;
	}
	if (*end || (shift && v > (~0ull >> shift)))
		return -EINVAL;
	*bytes = (uint64_t)v << shift;
	return 0;
}

/* kernelcore= / movablecore=: a size or a percentage of memory. */
static int parse_core(const char *v, int64_t *bytes, int *percent)
{
	size_t n = strlen(v);
	uint64_t b;

	if (n > 1 && v[n - 1] == '%') {
		char *end;
		long p = strtol(v, &end, 10);

		if (end != v + n - 1 || p < 0 || p > 100)
			return -EINVAL;
		*percent = (int)p;
		*bytes = MM_UNSET;
		return 0;
	}
	if (memparse(v, &b) || b > INT64_MAX)
		return -EINVAL;
	*bytes = (int64_t)b;
	*percent = MM_UNSET;
	return 0;
}

static int apply_slub_param(struct machine_config *cfg, const char *key, const char *val, char *err)
{
	char *end;
	unsigned long v = strtoul(val, &end, 0);

	if (!*val || *end || v > 32767 || (strcmp(key, "slub_min_objects") && v >= MAX_ORDER))
		return fail(err, "bad value '%s' for boot parameter %s=", val, key);
	if (!strcmp(key, "slub_min_objects"))
		cfg->slub_min_objects = (unsigned int)v;
	else if (!strcmp(key, "slub_min_order"))
		cfg->slub_min_order = (unsigned int)v;
	else
		cfg->slub_max_order = (unsigned int)v;
	return 0;
}

static int apply_param(struct machine_config *cfg, const char *key, const char *val, char *err)
{
	uint64_t b = 0;
	int ret = 0;

	if (!strncmp(key, "slub_m", 6) &&
	    (!strcmp(key, "slub_min_objects") || !strcmp(key, "slub_min_order") ||
	     !strcmp(key, "slub_max_order")))
		return apply_slub_param(cfg, key, val, err);
	if (!strcmp(key, "kernelcore"))
		ret = parse_core(val, &cfg->kernelcore_bytes, &cfg->kernelcore_percent);
	else if (!strcmp(key, "movablecore"))
		ret = parse_core(val, &cfg->movablecore_bytes, &cfg->movablecore_percent);
	else if (strcmp(key, "vmalloc") && strcmp(key, "mem") && strcmp(key, "highmem"))
		return fail(err,
			    "unknown boot parameter '%s' (the model takes vmalloc=, mem=, "
			    "highmem=, kernelcore=, movablecore=)",
			    key);
	else if (memparse(val, &b) || b > INT64_MAX)
		ret = -EINVAL;
	else if (!strcmp(key, "vmalloc"))
		cfg->vmalloc_bytes = (int64_t)b;
	else if (!strcmp(key, "mem"))
		cfg->mem_limit = (int64_t)b;
	else
		cfg->highmem_bytes = (int64_t)b;
	if (ret)
		return fail(err, "bad value '%s' for boot parameter %s=", val, key);
	return 0;
}

int machine_cmdline_apply(struct machine_config *cfg, const char *cmdline, char *err)
{
	char buf[1024], *save = NULL;

	if (strlen(cmdline) >= sizeof(buf))
		return fail(err, "kernel command line longer than %zu bytes", sizeof(buf) - 1);
	strcpy(buf, cmdline);
	for (char *tok = strtok_r(buf, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		char *eq = strchr(tok, '=');
		int ret;

		if (!strcmp(tok, "slab_nomerge") || !strcmp(tok, "slub_nomerge")) {
			cfg->slab_nomerge = true;
			continue;
		}
		if (!eq || eq == tok || !eq[1])
			return fail(err, "boot parameter '%s' is not of the form NAME=VALUE", tok);
		*eq = '\0';
		ret = apply_param(cfg, tok, eq + 1, err);
		if (ret)
			return ret;
	}
	return 0;
}
