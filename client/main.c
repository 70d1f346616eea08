// SPDX-License-Identifier: MIT
/*
 * main.c - `numasim COMMAND ...`: finds the subcommand in the table and runs it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static int cli_help(int argc, char **argv);

static const struct cli_command commands[] = {
	{"boot", cli_boot, "boot a simulated machine in this process and show it"},
	{"help", cli_help, "list the commands"},
};

#define NR_COMMANDS ((int)(sizeof(commands) / sizeof(commands[0])))

int cli_error(int status, const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "numasim %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return status;
}

static int cli_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("usage: numasim COMMAND [ARGS]\n\ncommands:\n");
	for (int i = 0; i < NR_COMMANDS; i++)
		printf("  %-10s %s\n", commands[i].name, commands[i].summary);
	printf("\n`numasim COMMAND --help` describes a command.\n");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return cli_help(argc, argv) ? CLI_EXIT_FAIL : (argc < 2 ? CLI_EXIT_USAGE : 0);
	for (int i = 0; i < NR_COMMANDS; i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "numasim: unknown command '%s' (try `numasim help`)\n", argv[1]);
	return CLI_EXIT_USAGE;
}
