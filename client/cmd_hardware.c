// SPDX-License-Identifier: MIT
/*
 * cmd_hardware.c - `numasim hardware`: the coordinator's view of the machine as
 * `numactl --hardware` prints it (nodes, their CPUs, sizes, free memory, distances).
 */
#include <getopt.h>

#include "cli.h"

const char cli_hardware_usage[] = "usage: numasim hardware [--json]\n"
				  "the machine as `numactl --hardware` prints it\n";

static const struct option hardware_options[] = {
	{"json", no_argument, NULL, 'j'},
	{NULL, 0, NULL, 0},
};

int cli_hardware(int argc, char **argv)
{
	struct cli_remote r;
	bool json = false;
	int opt, ret;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", hardware_options, NULL)) != -1) {
		if (opt != 'j')
			return cli_option_error("hardware", argv);
		json = true;
	}
	if (optind < argc)
		return cli_error(CLI_EXIT_USAGE, "hardware", "unexpected argument '%s'",
				 argv[optind]);
	ret = cli_remote_open(&r, "hardware", NULL, 0);
	if (!ret)
		ret = cli_view_show(&r, "hardware", -1, json, NULL);
	cli_remote_close(&r);
	return ret;
}
