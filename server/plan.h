/* SPDX-License-Identifier: MIT */
/*
 * plan.h - the coordinator's routing decisions, free of any network code: which zones an
 * allocation may try and in which order, which node holds a pfn or a kernel address, which
 * nodes can hold slab objects, and how a failure is explained.
 *
 * Mirrors:    mm/page_alloc.c (prepare_alloc_pages, first_zones_zonelist,
 *             for_next_zone_zonelist_nodemask), mm/mempolicy.c (policy_node,
 *             interleave_nodes), numactl's --hardware distance table (Linux 6.1.y)
 * Simplified: no cpusets; a policy is given per request rather than per task
 * Differs:    MPOL_BIND restricts the zones of every request (the kernel applies it only
 *             to requests that may use policy_zone, HighMem on these machines)
 *
 * A walk lists every zone of the zonelist with an index <= gfp_zone(gfp), in zonelist
 * order, each marked allowed or excluded by the policy's nodemask. The preferred zone is
 * the first allowed one; its node is the preferred node of zone_statistics().
 */
#ifndef NUMASIM_SERVER_PLAN_H
#define NUMASIM_SERVER_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mm.h"

/* Memory policies, with the values of the wire's Policy enum. */
enum coord_policy {
	COORD_POLICY_LOCAL,
	COORD_POLICY_PREFERRED,
	COORD_POLICY_BIND,
	COORD_POLICY_INTERLEAVE,
	NR_COORD_POLICIES
};

/* What a client asked for. */
struct coord_alloc_args {
	gfp_t gfp;	    /* the request's mask */
	unsigned int order; /* block order */
	int cpu;	    /* the CPU it runs on */
	int policy;	    /* enum coord_policy */
	int preferred;	    /* COORD_POLICY_PREFERRED: the node */
	uint64_t nodemask;  /* COORD_POLICY_BIND / INTERLEAVE: the nodes */
};

struct coord_zoneref {
	int nid;      /* node */
	int zone_idx; /* zone of that node */
	bool allowed; /* inside the policy's nodemask */
};

#define COORD_WALK_MAX (MAX_NUMNODES * MAX_NR_ZONES)

/* How an allocation will be routed. */
struct coord_alloc_plan {
	int hz;			 /* gfp_zone(): highest usable zone index */
	int migratetype;	 /* gfp_migratetype() */
	int zonelist_nid;	 /* node whose zonelist is walked */
	enum zonelist_type list; /* ZONELIST_NOFALLBACK for __GFP_THISNODE */
	int preferred_nid;	 /* node of the preferred zone, -1 if no zone is allowed */
	int preferred_zone;	 /* index of the preferred zone */
	int interleave_nid;	 /* the node an interleave request targets, else -1 */
	uint64_t nodemask;	 /* allowed nodes (every node if the policy has none) */
	unsigned int fast_flags; /* ALLOC_WMARK_LOW | ALLOC_KSWAPD if the mask wakes kswapd */
	unsigned int slow_flags; /* gfp_to_alloc_flags() */
	int nr;			 /* zones in z[] */
	struct coord_zoneref z[COORD_WALK_MAX]; /* the walk, zonelist order */
};

/*
 * coord_alloc_plan - validate @a and plan its walk on @m (a machine whose zonelists are
 * built; its memory may live elsewhere). @il_prev is the interleave cursor of the caller
 * (MAX_NUMNODES - 1 to start), advanced by interleave requests. Returns 0, or -EINVAL with
 * one line in @err (order, cpu, gfp mask, policy, node or nodemask).
 */
int coord_alloc_plan(struct coord_alloc_plan *p, const struct machine *m,
		     const struct coord_alloc_args *a, int *il_prev, char *err, size_t len);

/* coord_plan_nodes - the distinct nodes of the allowed zones of @p, in walk order. */
int coord_plan_nodes(const struct coord_alloc_plan *p, int *nids);

/*
 * coord_slab_nodes - nodes that may hold slab pages (node_has_normal_memory), in the
 * zonelist order of @nid. Returns how many were written to @nids.
 */
int coord_slab_nodes(const struct machine *m, int nid, int *nids);

/* coord_pfn_node - the node whose span holds @pfn, or -1. */
int coord_pfn_node(const struct machine *m, uint64_t pfn);

/* coord_addr_node - the node holding the lowmem kernel virtual address @addr, or -1. */
int coord_addr_node(const struct machine *m, uint64_t addr);

/* coord_node_distance - the SLIT entry (10 local, 20 remote when none was given). */
int coord_node_distance(const struct machine *m, int a, int b);

/* Why a zone refused, as ZoneTried.why spells it. */
#define COORD_WHY_POLICY "policy"
#define COORD_WHY_NODE_DOWN "node down"

/*
 * coord_enomem_message - the one line of an ENOMEM answer: "order:3 mode:0xcc0: every
 * allowed zone is below its watermark", from the reasons of the last walk.
 */
void coord_enomem_message(char *buf, size_t len, unsigned int order, gfp_t gfp,
			  const char *const *whys, int n);

#endif
