// SPDX-License-Identifier: MIT
/*
 * cmd_pages.c - `numasim alloc-pages` and `numasim free-pages`: the page allocator over the
 * wire, with numactl's memory policies (--preferred, --membind, --interleave).
 */
#include <getopt.h>
#include <string.h>

#include "cli.h"
#include "nsim.h"

const char cli_alloc_pages_usage[] =
	"usage: numasim alloc-pages --order N --gfp FLAGS [--cpu C]\n"
	"                           [--preferred NODE | --membind NODES | --interleave NODES]\n"
	"\n"
	"  --order N        2^N pages (0 to 10)\n"
	"  --gfp FLAGS      GFP_KERNEL|__GFP_ZERO, highuser_movable, 0xcc0, ...\n"
	"  --cpu C          the CPU asking (its node is the local node; default 0)\n"
	"  --preferred N    try node N first, then the others by distance\n"
	"  --membind L      only the nodes of L (numactl syntax: 0-2,4 or all)\n"
	"  --interleave L   one node of L per request, round robin\n"
	"prints \"pfn 0x... node N zone Normal\"; on ENOMEM the reason, then every zone tried\n";

const char cli_free_pages_usage[] = "usage: numasim free-pages PFN --order N [--cpu C]\n";

struct alloc_args {
	long order;		/* --order, -1 until given */
	unsigned int gfp;	/* --gfp */
	bool gfp_given;		/* --gfp was given */
	long cpu;		/* --cpu */
	Numasim__Policy policy; /* from the policy option */
	long preferred;		/* --preferred */
	const char *nodes; /* --membind / --interleave list, parsed once the node count is known */
};

enum { OPT_ORDER = 256, OPT_GFP, OPT_CPU, OPT_PREFERRED, OPT_MEMBIND, OPT_INTERLEAVE };

static const struct option alloc_options[] = {
	{"order", required_argument, NULL, OPT_ORDER},
	{"gfp", required_argument, NULL, OPT_GFP},
	{"cpu", required_argument, NULL, OPT_CPU},
	{"preferred", required_argument, NULL, OPT_PREFERRED},
	{"membind", required_argument, NULL, OPT_MEMBIND},
	{"interleave", required_argument, NULL, OPT_INTERLEAVE},
	{NULL, 0, NULL, 0},
};

static int set_policy(struct alloc_args *a, Numasim__Policy policy)
{
	if (a->policy != NUMASIM__POLICY__POLICY_LOCAL)
		return cli_error(CLI_EXIT_USAGE, "alloc-pages",
				 "--preferred, --membind and --interleave exclude each other");
	a->policy = policy;
	return 0;
}

static int alloc_option(struct alloc_args *a, int opt, const char *arg)
{
	switch (opt) {
	case OPT_ORDER:
		return cli_parse_long("alloc-pages", "order", arg, 0, NR_PAGE_ORDERS - 1,
				      &a->order);
	case OPT_GFP:
		a->gfp_given = true;
		return cli_parse_gfp("alloc-pages", arg, &a->gfp);
	case OPT_CPU:
		return cli_parse_long("alloc-pages", "cpu", arg, 0, NR_CPUS_MAX - 1, &a->cpu);
	case OPT_PREFERRED:
		if (set_policy(a, NUMASIM__POLICY__POLICY_PREFERRED))
			return CLI_EXIT_USAGE;
		return cli_parse_long("alloc-pages", "node", arg, 0, MAX_NUMNODES - 1,
				      &a->preferred);
	case OPT_MEMBIND:
	case OPT_INTERLEAVE:
		a->nodes = arg;
		return set_policy(a, opt == OPT_MEMBIND ? NUMASIM__POLICY__POLICY_BIND
							: NUMASIM__POLICY__POLICY_INTERLEAVE);
	}
	return cli_error(CLI_EXIT_USAGE, "alloc-pages", "unknown option");
}

static int alloc_parse(struct alloc_args *a, int argc, char **argv)
{
	int opt, ret;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", alloc_options, NULL)) != -1) {
		if (opt == '?')
			return cli_option_error("alloc-pages", argv);
		ret = alloc_option(a, opt, optarg);
		if (ret)
			return ret;
	}
	if (optind < argc)
		return cli_error(CLI_EXIT_USAGE, "alloc-pages", "unexpected argument '%s'",
				 argv[optind]);
	if (a->order < 0)
		return cli_error(CLI_EXIT_USAGE, "alloc-pages", "--order is required");
	if (!a->gfp_given)
		return cli_error(CLI_EXIT_USAGE, "alloc-pages", "--gfp is required");
	return 0;
}

int cli_alloc_pages(int argc, char **argv)
{
	struct alloc_args a = {.order = -1, .policy = NUMASIM__POLICY__POLICY_LOCAL};
	Numasim__Request req = NUMASIM__REQUEST__INIT;
	Numasim__AllocPages ap = NUMASIM__ALLOC_PAGES__INIT;
	Numasim__Response *resp = NULL;
	struct cli_remote r;
	uint64_t mask = 0;
	int ret = alloc_parse(&a, argc, argv);

	if (ret)
		return ret;
	ret = cli_remote_open(&r, "alloc-pages", NULL, 0);
	if (ret)
		goto out_close;
	if (a.nodes && nsim_parse_nodelist(a.nodes, (int)r.nodes, &mask)) {
		ret = cli_error(CLI_EXIT_USAGE, "alloc-pages",
				"bad node list '%s' (the machine has nodes 0-%u)", a.nodes,
				r.nodes - 1);
		goto out_close;
	}
	ap.gfp = a.gfp;
	ap.order = (uint32_t)a.order;
	ap.cpu = (int32_t)a.cpu;
	ap.policy = a.policy;
	ap.preferred = (int32_t)a.preferred;
	ap.nodemask = mask;
	req.body_case = NUMASIM__REQUEST__BODY_ALLOC_PAGES;
	req.alloc_pages = &ap;
	ret = cli_remote_call(&r, &req, NUMASIM__RESPONSE__BODY_ALLOC_PAGES, &resp);
	if (!ret)
		printf("pfn 0x%llx node %d zone %s\n", (unsigned long long)resp->alloc_pages->pfn,
		       resp->alloc_pages->node, resp->alloc_pages->zone);
	cli_response_free(resp);
out_close:
	cli_remote_close(&r);
	return ret;
}

static const struct option free_options[] = {
	{"order", required_argument, NULL, OPT_ORDER},
	{"cpu", required_argument, NULL, OPT_CPU},
	{NULL, 0, NULL, 0},
};

int cli_free_pages(int argc, char **argv)
{
	Numasim__Request req = NUMASIM__REQUEST__INIT;
	Numasim__FreePages fp = NUMASIM__FREE_PAGES__INIT;
	Numasim__Response *resp;
	long order = -1, cpu = 0;
	int opt, ret = 0;

	optind = 1;
	opterr = 0;
	while (!ret && (opt = getopt_long(argc, argv, "", free_options, NULL)) != -1) {
		if (opt == '?')
			return cli_option_error("free-pages", argv);
		if (opt == OPT_ORDER)
			ret = cli_parse_long("free-pages", "order", optarg, 0, NR_PAGE_ORDERS - 1,
					     &order);
		else
			ret = cli_parse_long("free-pages", "cpu", optarg, 0, NR_CPUS_MAX - 1, &cpu);
	}
	if (ret)
		return ret;
	if (optind != argc - 1)
		return cli_error(CLI_EXIT_USAGE, "free-pages", "expected one PFN");
	if (order < 0)
		return cli_error(CLI_EXIT_USAGE, "free-pages", "--order is required");
	ret = cli_parse_u64("free-pages", "pfn", argv[optind], &fp.pfn);
	if (ret)
		return ret;
	fp.order = (uint32_t)order;
	fp.cpu = (int32_t)cpu;
	req.body_case = NUMASIM__REQUEST__BODY_FREE_PAGES;
	req.free_pages = &fp;
	ret = cli_remote_rpc("free-pages", &req, CLI_BODY_ANY, &resp);
	cli_response_free(resp);
	return ret;
}
