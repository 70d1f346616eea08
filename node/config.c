// SPDX-License-Identifier: MIT
/*
 * config.c - the coordinator's MachineConfig as a struct machine_config (a pure function:
 * no threads, no loop, no logging), so the node boots the layout the coordinator computed.
 *
 * Field by field: arch ("686" / "686-pae", empty = 686-pae), cpus and nodes (checked
 * against NR_CPUS_MAX and MAX_NUMNODES before any array is written), node_mem in bytes (at
 * most one per node), mem (0 = the nodes' sum, as `numasim boot` does), distance row-major
 * (empty = 10 local / 20 remote; each 1-255), thp, then the kernel command line, applied
 * last so that mem=, vmalloc= ... act on the fields above. local_node is the receiver.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "node.h"

static int fail(char *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(char *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, MM_ERRLEN, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int config_arch(struct machine_config *cfg, const char *arch, char *err)
{
	if (!arch || !*arch)
		return 0; /* the default, 686-pae */
	if (!strcmp(arch, "686"))
		cfg->arch = ARCH_686;
	else if (!strcmp(arch, "686-pae"))
		cfg->arch = ARCH_686_PAE;
	else
		return fail(err, "unknown arch '%s' (686 or 686-pae)", arch);
	return 0;
}

static int config_thp(struct machine_config *cfg, const char *thp, char *err)
{
	static const char *const names[] = {
		[THP_ALWAYS] = "always", [THP_MADVISE] = "madvise", [THP_NEVER] = "never"};

	if (!thp || !*thp)
		return 0; /* Debian's default, always */
	for (int i = 0; i < 3; i++)
		if (!strcmp(thp, names[i])) {
			cfg->thp = (enum thp_mode)i;
			return 0;
		}
	return fail(err, "unknown thp mode '%s' (always, madvise or never)", thp);
}

/* RAM of the machine and of each node; without mem, the nodes' sum (as `numasim boot`). */
static int config_mem(struct machine_config *cfg, const Numasim__MachineConfig *mc, char *err)
{
	uint64_t sum = 0;

	if (mc->n_node_mem > mc->nodes)
		return fail(err, "%zu node_mem entries for %u nodes", mc->n_node_mem, mc->nodes);
	for (size_t i = 0; i < mc->n_node_mem; i++) {
		cfg->node_mem[i] = mc->node_mem[i];
		sum += mc->node_mem[i];
	}
	if (mc->mem)
		cfg->mem_bytes = mc->mem;
	else if (sum)
		cfg->mem_bytes = sum;
	return 0;
}

static int config_distance(struct machine_config *cfg, const Numasim__MachineConfig *mc, char *err)
{
	size_t n = mc->nodes;

	if (!mc->n_distance)
		return 0; /* 10 local, 20 remote */
	if (mc->n_distance != n * n)
		return fail(err, "%zu distance entries for %zu nodes (want %zu)", mc->n_distance, n,
			    n * n);
	for (size_t i = 0; i < n * n; i++) {
		if (!mc->distance[i] || mc->distance[i] > 255)
			return fail(err, "distance %u from node %zu to %zu is outside 1-255",
				    mc->distance[i], i / n, i % n);
		cfg->distance[i / n][i % n] = (uint8_t)mc->distance[i];
	}
	return 0;
}

int node_config_build(struct machine_config *cfg, const Numasim__MachineConfig *mc, int nid,
		      char *err)
{
	int ret;

	machine_config_init(cfg);
	if (!mc->cpus || mc->cpus > NR_CPUS_MAX)
		return fail(err, "%u cpus (1-%d)", mc->cpus, NR_CPUS_MAX);
	if (!mc->nodes || mc->nodes > MAX_NUMNODES)
		return fail(err, "%u nodes (1-%d)", mc->nodes, MAX_NUMNODES);
	if (nid < 0 || (unsigned int)nid >= mc->nodes)
		return fail(err, "node %d does not exist (the machine has %u)", nid, mc->nodes);
	cfg->ncpus = (int)mc->cpus;
	cfg->nr_nodes = (int)mc->nodes;
	cfg->local_node = nid;
	ret = config_arch(cfg, mc->arch, err);
	if (!ret)
		ret = config_thp(cfg, mc->thp, err);
	if (!ret)
		ret = config_mem(cfg, mc, err);
	if (!ret)
		ret = config_distance(cfg, mc, err);
	if (!ret && mc->cmdline && *mc->cmdline)
		ret = machine_cmdline_apply(cfg, mc->cmdline, err);
	return ret;
}
