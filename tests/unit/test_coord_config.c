// SPDX-License-Identifier: MIT
/*
 * test_coord_config.c - the coordinator's configuration file (server/config.c): the keys
 * of each section, the checks across keys, one-line messages with the line, and the
 * routing machine booted from it with its sysctls.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "unit.h"

static const char numa4[] = "; the 4-node sample\n"
			    "[machine]\n"
			    "arch = 686-pae\n"
			    "cpus = 4\n"
			    "nodes = 4\n"
			    "node_mem = 1G,1G,1G,1G\n"
			    "thp = always\n"
			    "cmdline =\n"
			    "distance = 10 20 30 40; 20 10 20 30; 30 20 10 20; 40 30 20 10\n"
			    "\n"
			    "[sysctl]\n"
			    "vm.min_free_kbytes = 45056\n"
			    "vm.watermark_scale_factor = 20\n"
			    "\n"
			    "[coordinator]\n"
			    "listen = 127.0.0.1:7171\n"
			    "heartbeat_ms = 250\n"
			    "dead_after_ms = 1000\n";

static void test_sample(void)
{
	struct coord_config cfg;
	char err[COORD_ERRLEN] = "";

	CU_ASSERT_EQUAL_FATAL(coord_config_parse(&cfg, numa4, "numa4.ini", err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(cfg.mc.arch, ARCH_686_PAE);
	CU_ASSERT_STRING_EQUAL(cfg.arch, "686-pae");
	CU_ASSERT_EQUAL(cfg.mc.ncpus, 4);
	CU_ASSERT_EQUAL(cfg.mc.nr_nodes, 4);
	CU_ASSERT_EQUAL(cfg.nr_node_mem, 4);
	CU_ASSERT_EQUAL(cfg.mc.node_mem[3], 1ull << 30);
	CU_ASSERT_EQUAL(cfg.mc.mem_bytes, 4ull << 30); /* node sizes without mem: their sum */
	CU_ASSERT_EQUAL(cfg.distance_rows, 4);
	CU_ASSERT_EQUAL(cfg.mc.distance[0][3], 40);
	CU_ASSERT_EQUAL(cfg.mc.distance[2][1], 20);
	CU_ASSERT_EQUAL(cfg.mc.local_node, MM_NO_NODES);
	CU_ASSERT_EQUAL(cfg.nr_sysctls, 2);
	CU_ASSERT_STRING_EQUAL(cfg.sysctls[0].name, "vm.min_free_kbytes");
	CU_ASSERT_STRING_EQUAL(cfg.sysctls[1].value, "20");
	CU_ASSERT_STRING_EQUAL(cfg.listen, "127.0.0.1:7171");
	CU_ASSERT_EQUAL(cfg.heartbeat_ms, 250);
	CU_ASSERT_EQUAL(cfg.dead_after_ms, 1000);
	coord_config_release(&cfg);
}

static void test_defaults(void)
{
	struct coord_config cfg;
	char err[COORD_ERRLEN] = "";

	CU_ASSERT_EQUAL_FATAL(
		coord_config_parse(&cfg, "[machine]\nmem = 2G\n", "x", err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(cfg.listen, COORD_LISTEN_DEFAULT);
	CU_ASSERT_EQUAL(cfg.heartbeat_ms, COORD_HEARTBEAT_MS_DEFAULT);
	CU_ASSERT_EQUAL(cfg.dead_after_ms, COORD_DEAD_AFTER_MS_DEFAULT);
	CU_ASSERT_EQUAL(cfg.mc.nr_nodes, 1);
	CU_ASSERT_EQUAL(cfg.nr_node_mem, 0);
	CU_ASSERT_EQUAL(cfg.distance_rows, 0);
	CU_ASSERT_EQUAL(cfg.nr_sysctls, 0);
	coord_config_release(&cfg);
}

static const struct {
	const char *text;  /* the file */
	const char *error; /* the whole message expected */
} bad_files[] = {
	{"[machine]\ncpus = x\n", "f.ini:2: [machine] cpus: 'x' must be a number from 1 to 256"},
	{"[machine]\n\narch = 386\n", "f.ini:3: [machine] arch: '386' must be 686 or 686-pae"},
	{"[machine]\nfoo = 1\n", "f.ini:2: [machine] foo: unknown key"},
	{"[bogus]\na = 1\n", "f.ini:2: unknown section [bogus]"},
	{"[machine]\nno equals sign\n", "f.ini:2: expected [section] or name = value"},
	{"[machine]\nthp = sometimes\n",
	 "f.ini:2: [machine] thp: 'sometimes' must be always, madvise or never"},
	{"[machine]\nnode_mem = 1G,zero\n",
	 "f.ini:2: [machine] node_mem: '1G,zero' must be a comma list of sizes such as 1G,1G"},
	{"[machine]\nnodes = 2\nnode_mem = 1G,1G,1G\n",
	 "f.ini: [machine] nodes = 2 but node_mem lists 3 sizes"},
	{"[machine]\nnodes = 2\ndistance = 10 20; 20\n",
	 "f.ini: [machine] distance: 2 rows of 2 values expected ('10 20; 20 10': no blank "
	 "before ';', which would start a comment)"},
	{"[coordinator]\nheartbeat_ms = 500\ndead_after_ms = 500\n",
	 "f.ini: [coordinator] dead_after_ms (500) must exceed heartbeat_ms (500)"},
	{"[machine]\ncmdline = vmalloc=abc\n",
	 "f.ini: [machine] cmdline: bad value 'abc' for boot parameter vmalloc="},
};

static void test_bad_files(void)
{
	for (size_t i = 0; i < sizeof(bad_files) / sizeof(bad_files[0]); i++) {
		struct coord_config cfg;
		char err[COORD_ERRLEN] = "";

		CU_ASSERT_EQUAL(
			coord_config_parse(&cfg, bad_files[i].text, "f.ini", err, sizeof(err)),
			-EINVAL);
		CU_ASSERT_STRING_EQUAL(err, bad_files[i].error);
		coord_config_release(&cfg);
	}
}

/* The first problem is the one reported, whichever of libinih and us found it. */
static void test_first_problem(void)
{
	struct coord_config cfg;
	char err[COORD_ERRLEN] = "";

	coord_config_parse(&cfg, "[machine]\nbroken\ncpus = x\n", "f", err, sizeof(err));
	CU_ASSERT_STRING_EQUAL(err, "f:2: expected [section] or name = value");
	coord_config_release(&cfg);
	coord_config_parse(&cfg, "[machine]\ncpus = x\nbroken\n", "f", err, sizeof(err));
	CU_ASSERT_STRING_EQUAL(err, "f:2: [machine] cpus: 'x' must be a number from 1 to 256");
	coord_config_release(&cfg);
}

static void test_missing_file(void)
{
	struct coord_config cfg;
	char err[COORD_ERRLEN] = "";

	CU_ASSERT_EQUAL(coord_config_load(&cfg, "/nonexistent/x.ini", err, sizeof(err)), -ENOENT);
	CU_ASSERT_STRING_EQUAL(err, "cannot read /nonexistent/x.ini: No such file or directory");
	coord_config_release(&cfg);
}

static void test_machine(void)
{
	struct coord_config cfg;
	struct machine *m = NULL;
	char err[COORD_ERRLEN] = "", value[64];

	CU_ASSERT_EQUAL_FATAL(coord_config_parse(&cfg, numa4, "numa4.ini", err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(coord_machine_new(&m, &cfg, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(m->nr_nodes, 4);
	CU_ASSERT_PTR_NOT_NULL(m->node_data[3]);
	CU_ASSERT_PTR_NULL(m->node_data[0]->node_mem_map); /* no memory map here */
	CU_ASSERT_EQUAL(machine_sysctl_get(m, "vm.min_free_kbytes", value, sizeof(value)), 0);
	CU_ASSERT_STRING_EQUAL(value, "45056");
	machine_free(m);

	coord_config_add_sysctl(&cfg, "vm.watermark_scale_factor", "0");
	CU_ASSERT_EQUAL(coord_machine_new(&m, &cfg, err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NULL(m);
	CU_ASSERT_STRING_EQUAL(err, "[sysctl] vm.watermark_scale_factor: invalid value '0'");
	coord_config_release(&cfg);

	CU_ASSERT_EQUAL_FATAL(
		coord_config_parse(&cfg, "[sysctl]\nvm.nope = 1\n", "f", err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(coord_machine_new(&m, &cfg, err, sizeof(err)), -ENOENT);
	CU_ASSERT_STRING_EQUAL(err, "[sysctl] vm.nope: unknown sysctl");
	coord_config_release(&cfg);
}

static CU_TestInfo tests[] = {
	{"sample file", test_sample},
	{"defaults", test_defaults},
	{"bad files", test_bad_files},
	{"first problem reported", test_first_problem},
	{"missing file", test_missing_file},
	{"routing machine", test_machine},
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("coord_config", NULL, NULL, tests);
