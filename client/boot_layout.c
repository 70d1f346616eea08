// SPDX-License-Identifier: MIT
/*
 * boot_layout.c - the `layout` view: the lines a booting 6.1 kernel prints about its memory
 * (e820 map, LOWMEM/HIGHMEM, zone ranges, node ranges, fallback order, the Memory: line),
 * so a simulated boot can be read next to a real dmesg.
 */
#include "cli.h"

static void print_e820(const struct machine *m, FILE *out)
{
	struct e820_table t;

	e820_table_for(&m->cfg, &t);
	for (int i = 0; i < t.nr_entries; i++)
		fprintf(out, "BIOS-e820: [mem 0x%016llx-0x%016llx] %s\n",
			(unsigned long long)t.entries[i].addr,
			(unsigned long long)(t.entries[i].addr + t.entries[i].size - 1),
			t.entries[i].type == E820_USABLE ? "usable" : "reserved");
}

static void print_zone_ranges(const struct machine *m, FILE *out)
{
	const struct machine_layout *l = &m->layout;
	unsigned long lo[3] = {l->ram[0].start, 4096, l->max_low_pfn};
	unsigned long hi[3] = {4096, l->max_low_pfn, l->max_pfn};

	if (l->max_pfn > l->max_low_pfn)
		fprintf(out, "%luMB HIGHMEM available.\n", (l->max_pfn - l->max_low_pfn) >> 8);
	fprintf(out, "%luMB LOWMEM available.\n", l->max_low_pfn >> 8);
	fprintf(out, "Zone ranges:\n");
	for (int z = 0; z < 3; z++) {
		if (hi[z] <= lo[z]) {
			fprintf(out, "  %-8s empty\n", zone_names[z]);
			continue;
		}
		fprintf(out, "  %-8s [mem %#018llx-%#018llx]\n", zone_names[z],
			(unsigned long long)lo[z] << 12, ((unsigned long long)hi[z] << 12) - 1);
	}
	fprintf(out, "Movable zone start for each node\n");
	for (int nid = 0; nid < m->nr_nodes; nid++)
		if (l->nodes[nid].movable_pfn)
			fprintf(out, "  Node %d: %#018llx\n", nid,
				(unsigned long long)l->nodes[nid].movable_pfn << 12);
}

static void print_node_ranges(const struct machine *m, FILE *out)
{
	const struct machine_layout *l = &m->layout;

	fprintf(out, "Early memory node ranges\n");
	for (int nid = 0; nid < m->nr_nodes; nid++) {
		for (int i = 0; i < l->nr_ram; i++) {
			unsigned long s = l->ram[i].start, e = l->ram[i].end;

			s = s < l->nodes[nid].start_pfn ? l->nodes[nid].start_pfn : s;
			e = e > l->nodes[nid].end_pfn ? l->nodes[nid].end_pfn : e;
			if (s < e)
				fprintf(out, "  node %3d: [mem %#018llx-%#018llx]\n", nid,
					(unsigned long long)s << 12,
					((unsigned long long)e << 12) - 1);
		}
	}
}

static void print_fallback(const struct machine *m, FILE *out)
{
	for (int nid = 0; nid < m->nr_nodes; nid++) {
		const struct zoneref *z =
			m->node_data[nid]->node_zonelists[ZONELIST_FALLBACK]._zonerefs;
		int last = -1;

		fprintf(out, "Fallback order for Node %d: ", nid);
		for (; z->nid >= 0; z++)
			if (z->nid != last)
				fprintf(out, "%d ", last = z->nid);
		fputc('\n', out);
	}
}

static void print_memory_line(const struct machine *m, FILE *out)
{
	unsigned long present = 0, reserved = 0, high = 0;

	for (int nid = 0; nid < m->nr_nodes; nid++) {
		for (int z = 0; z < MAX_NR_ZONES; z++) {
			const struct zone *zone = &m->node_data[nid]->node_zones[z];

			present += zone->present_pages;
			reserved += zone->reserved_pages;
			if (zone->is_highmem)
				high += zone->present_pages - zone->reserved_pages;
		}
	}
	reserved += 8; /* SMP alternatives, freed before the watermarks */
	fprintf(out, "Memory: %luK/%luK available (%luK reserved, 0K cma-reserved, %luK highmem)\n",
		(present - reserved) * 4, present * 4, reserved * 4, high * 4);
}

void boot_layout_print(const struct machine *m, FILE *out)
{
	print_e820(m, out);
	print_zone_ranges(m, out);
	print_node_ranges(m, out);
	print_fallback(m, out);
	print_memory_line(m, out);
}

void boot_counters_print(const struct machine *m, bool json, FILE *out)
{
	static const struct {
		const char *name;	 /* printed name */
		enum vm_event_item item; /* counter */
	} counters[] = {
		{"alloc_fail", PGALLOC_FAIL},
		{"free_bad_page_state", PGFREE_BAD},
		{"kswapd_wakeup", KSWAPD_WAKEUP},
		{"kswapd_run", PAGEOUTRUN},
	};
	int n = (int)(sizeof(counters) / sizeof(counters[0]));

	fputs(json ? "{" : "", out);
	for (int i = 0; i < n; i++) {
		unsigned long v =
			__atomic_load_n(&m->vm_events[counters[i].item], __ATOMIC_RELAXED);

		if (json)
			fprintf(out, "%s\"%s\":%lu", i ? "," : "", counters[i].name, v);
		else
			fprintf(out, "%-24s %lu\n", counters[i].name, v);
	}
	fputs(json ? "}\n" : "", out);
}
