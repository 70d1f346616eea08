// SPDX-License-Identifier: MIT
/*
 * cmd_kmalloc.c - `numasim kmalloc`, `kfree` and `ksize`: the kmalloc caches over the wire.
 * Addresses are kernel virtual addresses (PAGE_OFFSET + physical), as printed.
 */
#include <getopt.h>

#include "cli.h"
#include "nsim.h"

const char cli_kmalloc_usage[] =
	"usage: numasim kmalloc SIZE [--gfp FLAGS] [--cpu C] [--node N]\n"
	"\n"
	"  SIZE          bytes: 128, 4K, 0x2000 (above 8K the page allocator serves it)\n"
	"  --gfp FLAGS   default GFP_KERNEL; __GFP_DMA, __GFP_RECLAIMABLE, __GFP_ACCOUNT pick the\n"
	"                dma-, rcl- and cg- caches\n"
	"  --cpu C       the CPU asking (default 0)\n"
	"  --node N      kmalloc_node() on node N (default: any)\n"
	"prints \"0xc2004700 node 0 kmalloc-128 size 128\"\n";

const char cli_kfree_usage[] = "usage: numasim kfree ADDR [--cpu C]\n";

const char cli_ksize_usage[] = "usage: numasim ksize ADDR\n"
			       "prints \"ADDR node N CACHE size SIZE\" (SIZE is ksize())\n";

/* The option values follow the CLI_OBJ_* bits: CLI_OBJ_x == 1 << (OPT_x - OPT_GFP). */
enum { OPT_GFP = 256, OPT_CPU, OPT_NODE };

static const struct option obj_options[] = {
	{"gfp", required_argument, NULL, OPT_GFP},
	{"cpu", required_argument, NULL, OPT_CPU},
	{"node", required_argument, NULL, OPT_NODE},
	{NULL, 0, NULL, 0},
};

int cli_obj_parse(const char *cmd, int argc, char **argv, unsigned int allowed,
		  struct cli_obj_args *o, int nargs)
{
	int opt, ret = 0;

	o->gfp = GFP_KERNEL;
	o->cpu = 0;
	o->node = -1;
	optind = 1;
	opterr = 0;
	while (!ret && (opt = getopt_long(argc, argv, "", obj_options, NULL)) != -1) {
		if (opt == '?' || !(allowed & (1u << (opt - OPT_GFP))))
			return cli_option_error(cmd, argv);
		if (opt == OPT_GFP)
			ret = cli_parse_gfp(cmd, optarg, &o->gfp);
		else if (opt == OPT_CPU)
			ret = cli_parse_long(cmd, "cpu", optarg, 0, NR_CPUS_MAX - 1, &o->cpu);
		else
			ret = cli_parse_long(cmd, "node", optarg, 0, MAX_NUMNODES - 1, &o->node);
	}
	if (ret)
		return ret;
	if (argc - optind != nargs)
		return cli_error(CLI_EXIT_USAGE, cmd, "expected %d argument%s, got %d", nargs,
				 nargs == 1 ? "" : "s", argc - optind);
	o->args = argv + optind;
	return 0;
}

int cli_kmalloc(int argc, char **argv)
{
	Numasim__Request req = NUMASIM__REQUEST__INIT;
	Numasim__Kmalloc km = NUMASIM__KMALLOC__INIT;
	Numasim__Response *resp;
	struct cli_obj_args o;
	int ret = cli_obj_parse("kmalloc", argc, argv, CLI_OBJ_GFP | CLI_OBJ_CPU | CLI_OBJ_NODE, &o,
				1);

	if (!ret)
		ret = cli_parse_size("kmalloc", o.args[0], &km.size);
	if (ret)
		return ret;
	km.gfp = o.gfp;
	km.cpu = (int32_t)o.cpu;
	km.node = (int32_t)o.node;
	req.body_case = NUMASIM__REQUEST__BODY_KMALLOC;
	req.kmalloc = &km;
	ret = cli_remote_rpc("kmalloc", &req, NUMASIM__RESPONSE__BODY_ADDR, &resp);
	if (!ret)
		cli_print_addr(resp->addr, stdout);
	cli_response_free(resp);
	return ret;
}

int cli_kfree(int argc, char **argv)
{
	Numasim__Request req = NUMASIM__REQUEST__INIT;
	Numasim__Kfree kf = NUMASIM__KFREE__INIT;
	Numasim__Response *resp;
	struct cli_obj_args o;
	int ret = cli_obj_parse("kfree", argc, argv, CLI_OBJ_CPU, &o, 1);

	if (!ret)
		ret = cli_parse_u64("kfree", "address", o.args[0], &kf.addr);
	if (ret)
		return ret;
	kf.cpu = (int32_t)o.cpu;
	req.body_case = NUMASIM__REQUEST__BODY_KFREE;
	req.kfree = &kf;
	ret = cli_remote_rpc("kfree", &req, CLI_BODY_ANY, &resp);
	cli_response_free(resp);
	return ret;
}

int cli_ksize(int argc, char **argv)
{
	Numasim__Request req = NUMASIM__REQUEST__INIT;
	Numasim__Ksize ks = NUMASIM__KSIZE__INIT;
	Numasim__Response *resp;
	struct cli_obj_args o;
	int ret = cli_obj_parse("ksize", argc, argv, 0, &o, 1);

	if (!ret)
		ret = cli_parse_u64("ksize", "address", o.args[0], &ks.addr);
	if (ret)
		return ret;
	req.body_case = NUMASIM__REQUEST__BODY_KSIZE;
	req.ksize = &ks;
	ret = cli_remote_rpc("ksize", &req, NUMASIM__RESPONSE__BODY_ADDR, &resp);
	if (!ret)
		cli_print_addr(resp->addr, stdout);
	cli_response_free(resp);
	return ret;
}
