// SPDX-License-Identifier: MIT
/*
 * cmd_kmem_cache.c - `numasim kmem-cache create|alloc|free|destroy|shrink|validate`: named
 * slab caches over the wire (kmem_cache_create() and friends).
 */
#include <getopt.h>
#include <string.h>

#include "cli.h"
#include "nsim.h"

const char cli_kmem_cache_usage[] =
	"usage: numasim kmem-cache create NAME SIZE [--align A] [--flags SLAB_...] [--ctor]\n"
	"       numasim kmem-cache alloc NAME [--gfp FLAGS] [--cpu C] [--node N]\n"
	"       numasim kmem-cache free NAME ADDR [--cpu C]\n"
	"       numasim kmem-cache destroy|shrink|validate NAME\n"
	"\n"
	"  --flags   SLAB_HWCACHE_ALIGN|SLAB_RECLAIM_ACCOUNT, hwcache_align, 0x2000, ...\n"
	"  --ctor    the cache has a constructor (which keeps it from merging)\n"
	"create prints the geometry (and the cache it became an alias of); alloc prints\n"
	"\"ADDR node N NAME size SIZE\"; validate exits 1 when it finds errors\n";

#define CMD "kmem-cache"

enum { OPT_ALIGN = 256, OPT_FLAGS, OPT_CTOR };

static const struct option create_options[] = {
	{"align", required_argument, NULL, OPT_ALIGN},
	{"flags", required_argument, NULL, OPT_FLAGS},
	{"ctor", no_argument, NULL, OPT_CTOR},
	{NULL, 0, NULL, 0},
};

static int create_option(Numasim__CacheCreate *cc, int opt, const char *arg)
{
	const char *bad = NULL;
	long align;

	switch (opt) {
	case OPT_ALIGN:
		if (cli_parse_long(CMD, "alignment", arg, 0, 1l << 20, &align))
			return CLI_EXIT_USAGE;
		cc->align = (uint32_t)align;
		return 0;
	case OPT_FLAGS:
		if (!nsim_slab_flags_parse(arg, &cc->flags, &bad))
			return 0;
		return cli_error(CLI_EXIT_USAGE, CMD, "unknown slab flag '%.*s' in '%s'",
				 (int)strcspn(bad ? bad : arg, "|"), bad ? bad : arg, arg);
	case OPT_CTOR:
		cc->ctor = true;
		return 0;
	}
	return cli_error(CLI_EXIT_USAGE, CMD, "unknown option");
}

static void print_geometry(const Numasim__CacheCreateReply *c)
{
	printf("%s objsize %u align %u objperslab %u pagesperslab %u", c->name, c->objsize,
	       c->align, c->objperslab, c->pagesperslab);
	if (c->merged_into && *c->merged_into)
		printf(" alias of %s", c->merged_into);
	putchar('\n');
}

static int cache_create(int argc, char **argv)
{
	Numasim__Request req = NUMASIM__REQUEST__INIT;
	Numasim__CacheCreate cc = NUMASIM__CACHE_CREATE__INIT;
	Numasim__Response *resp;
	uint64_t size;
	int opt, ret = 0;

	optind = 1;
	opterr = 0;
	while (!ret && (opt = getopt_long(argc, argv, "", create_options, NULL)) != -1)
		ret = opt == '?' ? cli_option_error(CMD, argv) : create_option(&cc, opt, optarg);
	if (ret)
		return ret;
	if (argc - optind != 2)
		return cli_error(CLI_EXIT_USAGE, CMD, "create needs NAME and SIZE");
	ret = cli_parse_size(CMD, argv[optind + 1], &size);
	if (ret)
		return ret;
	if (!size || size > UINT32_MAX)
		return cli_error(CLI_EXIT_USAGE, CMD, "bad object size '%s'", argv[optind + 1]);
	cc.name = argv[optind];
	cc.size = (uint32_t)size;
	req.body_case = NUMASIM__REQUEST__BODY_CACHE_CREATE;
	req.cache_create = &cc;
	ret = cli_remote_rpc(CMD, &req, NUMASIM__RESPONSE__BODY_CACHE_CREATE, &resp);
	if (!ret)
		print_geometry(resp->cache_create);
	cli_response_free(resp);
	return ret;
}

static int cache_alloc(int argc, char **argv)
{
	Numasim__Request req = NUMASIM__REQUEST__INIT;
	Numasim__CacheAlloc ca = NUMASIM__CACHE_ALLOC__INIT;
	Numasim__Response *resp;
	struct cli_obj_args o;
	int ret = cli_obj_parse(CMD, argc, argv, CLI_OBJ_GFP | CLI_OBJ_CPU | CLI_OBJ_NODE, &o, 1);

	if (ret)
		return ret;
	ca.name = o.args[0];
	ca.gfp = o.gfp;
	ca.cpu = (int32_t)o.cpu;
	ca.node = (int32_t)o.node;
	req.body_case = NUMASIM__REQUEST__BODY_CACHE_ALLOC;
	req.cache_alloc = &ca;
	ret = cli_remote_rpc(CMD, &req, NUMASIM__RESPONSE__BODY_ADDR, &resp);
	if (!ret)
		cli_print_addr(resp->addr, stdout);
	cli_response_free(resp);
	return ret;
}

static int cache_free(int argc, char **argv)
{
	Numasim__Request req = NUMASIM__REQUEST__INIT;
	Numasim__CacheFree cf = NUMASIM__CACHE_FREE__INIT;
	Numasim__Response *resp;
	struct cli_obj_args o;
	int ret = cli_obj_parse(CMD, argc, argv, CLI_OBJ_CPU, &o, 2);

	if (!ret)
		ret = cli_parse_u64(CMD, "address", o.args[1], &cf.addr);
	if (ret)
		return ret;
	cf.name = o.args[0];
	cf.cpu = (int32_t)o.cpu;
	req.body_case = NUMASIM__REQUEST__BODY_CACHE_FREE;
	req.cache_free = &cf;
	ret = cli_remote_rpc(CMD, &req, CLI_BODY_ANY, &resp);
	cli_response_free(resp);
	return ret;
}

/* destroy, shrink, validate: a CacheName request; shrink and validate answer a count. */
static int cache_by_name(int argc, char **argv)
{
	Numasim__Request req = NUMASIM__REQUEST__INIT;
	Numasim__CacheName cn = NUMASIM__CACHE_NAME__INIT;
	Numasim__Response *resp;
	const Numasim__CountReply *c;
	struct cli_obj_args o;
	const char *op = argv[0];
	int ret = cli_obj_parse(CMD, argc, argv, 0, &o, 1);

	if (ret)
		return ret;
	cn.name = o.args[0];
	if (!strcmp(op, "destroy")) {
		req.body_case = NUMASIM__REQUEST__BODY_CACHE_DESTROY;
		req.cache_destroy = &cn;
		ret = cli_remote_rpc(CMD, &req, CLI_BODY_ANY, &resp);
		cli_response_free(resp);
		return ret;
	}
	if (!strcmp(op, "shrink")) {
		req.body_case = NUMASIM__REQUEST__BODY_CACHE_SHRINK;
		req.cache_shrink = &cn;
	} else {
		req.body_case = NUMASIM__REQUEST__BODY_CACHE_VALIDATE;
		req.cache_validate = &cn;
	}
	ret = cli_remote_rpc(CMD, &req, NUMASIM__RESPONSE__BODY_COUNT, &resp);
	if (ret)
		return ret;
	c = resp->count;
	if (req.body_case == NUMASIM__REQUEST__BODY_CACHE_VALIDATE && c->count)
		ret = cli_error(CLI_EXIT_FAIL, CMD, "validate '%s': %llu error%s%s%s", cn.name,
				(unsigned long long)c->count, c->count == 1 ? "" : "s",
				*c->message ? ": " : "", c->message);
	else if (*c->message)
		printf("%s: %s\n", cn.name, c->message);
	else if (req.body_case == NUMASIM__REQUEST__BODY_CACHE_SHRINK)
		printf("%s: %llu page%s released\n", cn.name, (unsigned long long)c->count,
		       c->count == 1 ? "" : "s");
	else
		printf("%s: no errors\n", cn.name);
	cli_response_free(resp);
	return ret;
}

static const struct {
	const char *name;		   /* kmem-cache OP */
	int (*run)(int argc, char **argv); /* argv[0] is OP */
} cache_ops[] = {
	{"create", cache_create},   {"alloc", cache_alloc},    {"free", cache_free},
	{"destroy", cache_by_name}, {"shrink", cache_by_name}, {"validate", cache_by_name},
};

int cli_kmem_cache(int argc, char **argv)
{
	if (argc < 2)
		return cli_error(CLI_EXIT_USAGE, CMD,
				 "expected create, alloc, free, destroy, shrink or validate");
	for (size_t i = 0; i < sizeof(cache_ops) / sizeof(cache_ops[0]); i++)
		if (!strcmp(argv[1], cache_ops[i].name))
			return cache_ops[i].run(argc - 1, argv + 1);
	return cli_error(CLI_EXIT_USAGE, CMD, "unknown operation '%s'", argv[1]);
}
