// SPDX-License-Identifier: MIT
/*
 * cmd_sysctl.c - `numasim sysctl NAME[=VALUE]...`: read or write the machine's vm sysctls,
 * printed as sysctl(8) prints them ("vm.min_free_kbytes = 45056"). The coordinator applies a
 * write to every node, with the kernel's side effects (watermarks, protection, pcp high).
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "nsim.h"

const char cli_sysctl_usage[] =
	"usage: numasim sysctl NAME[=VALUE]...\n"
	"\n"
	"  NAME          reads (\"vm.min_free_kbytes = 45056\")\n"
	"  NAME=VALUE    writes, then prints the value now in force\n"
	"  names         vm.min_free_kbytes vm.watermark_scale_factor vm.watermark_boost_factor\n"
	"                vm.lowmem_reserve_ratio vm.percpu_pagelist_high_fraction\n"
	"                vm.zone_reclaim_mode\n";

/* One NAME or NAME=VALUE (@arg is modified) on an open connection. */
static int sysctl_one(struct cli_remote *r, char *arg)
{
	Numasim__Request req = NUMASIM__REQUEST__INIT;
	Numasim__SysctlGet get = NUMASIM__SYSCTL_GET__INIT;
	Numasim__SysctlSet set = NUMASIM__SYSCTL_SET__INIT;
	Numasim__Response *resp;
	char *eq = strchr(arg, '=');
	const char *name;
	int ret;

	if (eq) {
		*eq = '\0';
		set.name = arg;
		set.value = eq + 1;
		req.body_case = NUMASIM__REQUEST__BODY_SYSCTL_SET;
		req.sysctl_set = &set;
	} else {
		get.name = arg;
		req.body_case = NUMASIM__REQUEST__BODY_SYSCTL_GET;
		req.sysctl_get = &get;
	}
	ret = cli_remote_call(r, &req, NUMASIM__RESPONSE__BODY_SYSCTL, &resp);
	if (ret)
		return ret;
	name = *resp->sysctl->name ? resp->sysctl->name : arg;
	/* sysctl(8) prints the full name, as `numasim boot --sysctl` does */
	printf("%s%s = %s\n", strchr(name, '.') ? "" : "vm.", name, resp->sysctl->value);
	cli_response_free(resp);
	return 0;
}

int cli_sysctl(int argc, char **argv)
{
	struct cli_remote r;
	int ret;

	if (argc < 2)
		return cli_error(CLI_EXIT_USAGE, "sysctl", "expected NAME or NAME=VALUE");
	for (int i = 1; i < argc; i++)
		if (argv[i][0] == '-' || argv[i][0] == '=' || !argv[i][0])
			return cli_error(CLI_EXIT_USAGE, "sysctl", "bad argument '%s'", argv[i]);
	ret = cli_remote_open(&r, "sysctl", NULL, 0);
	for (int i = 1; !ret && i < argc; i++) {
		char *arg = xstrdup(argv[i]);

		ret = sysctl_one(&r, arg);
		free(arg);
	}
	cli_remote_close(&r);
	return ret;
}
