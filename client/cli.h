/* SPDX-License-Identifier: MIT */
/*
 * cli.h - the numasim command line: one file per subcommand, registered in main.c's table.
 *
 * Exit statuses: 0 success, 1 the operation failed (one-line message on stderr),
 * 2 usage error.
 */
#ifndef NUMASIM_CLIENT_CLI_H
#define NUMASIM_CLIENT_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "mm.h"

#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2

struct cli_command {
	const char *name;		   /* subcommand */
	int (*run)(int argc, char **argv); /* argv[0] is the subcommand */
	const char *summary;		   /* one line for `numasim help` */
};

/* cli_error - "numasim CMD: message" on stderr; returns @status for `return cli_error(...)`. */
int cli_error(int status, const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

int cli_boot(int argc, char **argv);

/* cmd_boot.c: helpers the script runner shares. */
int boot_sysctl(struct machine *m, const char *name, const char *value, FILE *out);
int boot_print_view(struct machine *m, const char *name, bool json, FILE *out);

/* boot_script.c: run a script of operations against an in-process machine. */
int boot_script_run(struct machine *m, const char *path, FILE *out, bool json);

/* boot_layout.c: the boot log lines describing the layout (dmesg-like). */
void boot_layout_print(const struct machine *m, FILE *out);

/* boot_layout.c: the model's own counters (no /proc file has them). */
void boot_counters_print(const struct machine *m, bool json, FILE *out);

#endif
