/* SPDX-License-Identifier: MIT */
/*
 * cli.h - the numasim command line: one file per subcommand, registered in main.c's table.
 *
 *   numasim [-s HOST:PORT] [--client NAME] [--admin] COMMAND ...
 *
 * `boot` runs a machine in this process; every other command but `help` and `cluster` talks
 * to a coordinator through remote.c, which is the one place that turns transport errors and
 * response statuses into messages and exit statuses.
 *
 * Exit statuses: 0 success, 1 the operation failed or the server answered an error (one line
 * "numasim COMMAND: message" on stderr, naming the status), 2 usage error, 3 the server
 * cannot be reached (or stopped answering).
 */
#ifndef NUMASIM_CLIENT_CLI_H
#define NUMASIM_CLIENT_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "mm.h"
#include "net.h"

#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2
#define CLI_EXIT_UNREACHABLE 3

#define CLI_CMD_REMOTE 0x1 /* talks to a server: the global options apply */

struct cli_command {
	const char *name;		   /* subcommand */
	int (*run)(int argc, char **argv); /* argv[0] is the subcommand */
	const char *summary;		   /* one line for `numasim help` */
	const char *usage;		   /* `numasim COMMAND --help`; NULL: run() handles it */
	unsigned int flags;		   /* CLI_CMD_* */
};

/* ------------------------------------------------------------------ main.c */

/* cli_error - "numasim CMD: message" on stderr; returns @status for `return cli_error(...)`. */
int cli_error(int status, const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* cli_strerror - strerror() in the house style (lowercase), for messages. */
const char *cli_strerror(int err);

/*
 * Argument parsers shared by the commands: each returns 0 with the value stored, or prints
 * "numasim CMD: bad WHAT 'S'" (or a more precise line) and returns CLI_EXIT_USAGE.
 */
int cli_parse_long(const char *cmd, const char *what, const char *s, long min, long max, long *out);
int cli_parse_u64(const char *cmd, const char *what, const char *s, uint64_t *out);
int cli_parse_size(const char *cmd, const char *s, uint64_t *bytes);
int cli_parse_gfp(const char *cmd, const char *s, unsigned int *gfp);

/* cli_option_error - the usage error for the option getopt_long() just refused. */
int cli_option_error(const char *cmd, char **argv);

/* ------------------------------------------------------------------ remote.c */

#define CLI_QUIET 0x1 /* keep errors in cli_remote.error instead of printing them */
#define CLI_POLL 0x2  /* CLI_POLL_TIMEOUT_MS instead of CLI_TIMEOUT_MS: readiness polls */

#define CLI_BODY_ANY ((Numasim__Response__BodyCase)-1) /* an OK with no answer to read */

#define CLI_DEFAULT_SERVER "127.0.0.1:7070"
#define CLI_TIMEOUT_MS 10000	 /* connect and each call */
#define CLI_POLL_TIMEOUT_MS 1000 /* the same, for CLI_POLL */

struct cli_remote {
	struct nsim_client cl; /* the blocking connection */
	const char *cmd;       /* subcommand named in error messages */
	char addr[128];	       /* "HOST:PORT" of the server */
	unsigned int flags;    /* CLI_QUIET, CLI_POLL */
	int timeout_ms;	       /* connect and each call */
	bool open;	       /* cl is connected */
	uint32_t nodes;	       /* HelloReply: nodes of the machine */
	uint32_t cpus;	       /* HelloReply: CPUs of the machine */
	char server[64];       /* HelloReply: "numasim-coordinator 0.1.0" */
	char error[512];       /* the last error, as printed (without "numasim CMD: ") */
};

/* cli_remote_setup - the global options (NULL: from the environment or the default). */
void cli_remote_setup(const char *server, const char *client, bool admin);

/*
 * cli_server_address - -s, else NUMASIM_SERVER, else CLI_DEFAULT_SERVER; *@explicit (may be
 * NULL) tells whether the user named one.
 */
const char *cli_server_address(bool *explicit);

/* cli_identity - --client, else NUMASIM_CLIENT, else the user name. */
const char *cli_identity(void);

/*
 * cli_remote_open - connect to @addr (NULL: cli_server_address()) and say hello with the
 * identity. 0, or the exit status of the error (printed unless CLI_QUIET). The caller
 * calls cli_remote_close() either way.
 */
int cli_remote_open(struct cli_remote *r, const char *cmd, const char *addr, unsigned int flags);
void cli_remote_close(struct cli_remote *r);

/*
 * cli_remote_call - send @req and wait for its answer. 0 when the status is OK and the body
 * is @expect (or anything for CLI_BODY_ANY): *@resp is the caller's (cli_response_free()). Otherwise the exit status, the
 * error printed (the status name and the server's message; for an ENOMEM of alloc_pages the
 * zones tried follow on stdout) and nothing to free.
 */
int cli_remote_call(struct cli_remote *r, Numasim__Request *req, Numasim__Response__BodyCase expect,
		    Numasim__Response **resp);

/* cli_remote_rpc - open, one call, close: the shape of most commands. */
int cli_remote_rpc(const char *cmd, Numasim__Request *req, Numasim__Response__BodyCase expect,
		   Numasim__Response **resp);

void cli_response_free(Numasim__Response *resp);

/* cli_print_addr - "0xc2004700 node 0 kmalloc-128 size 128" (kmalloc, ksize, cache alloc). */
void cli_print_addr(const Numasim__AddrReply *a, FILE *out);

/* cli_print_tried - "node 0 Normal: watermark (free F, mark M, protection P)", one a line. */
void cli_print_tried(Numasim__ZoneTried *const *tried, size_t n, FILE *out);

/* ------------------------------------------------------------------ the commands */

int cli_boot(int argc, char **argv);
int cli_hardware(int argc, char **argv);
int cli_alloc_pages(int argc, char **argv);
int cli_free_pages(int argc, char **argv);
int cli_kmalloc(int argc, char **argv);
int cli_kfree(int argc, char **argv);
int cli_ksize(int argc, char **argv);
int cli_kmem_cache(int argc, char **argv);
int cli_view(int argc, char **argv); /* argv[0] names the view */
int cli_sysctl(int argc, char **argv);
int cli_ping(int argc, char **argv);
int cli_cluster(int argc, char **argv);
int cli_bench(int argc, char **argv);

extern const char cli_hardware_usage[], cli_alloc_pages_usage[], cli_free_pages_usage[];
extern const char cli_kmalloc_usage[], cli_kfree_usage[], cli_ksize_usage[];
extern const char cli_kmem_cache_usage[], cli_view_usage[], cli_sysctl_usage[];
extern const char cli_ping_usage[], cli_cluster_usage[];

/* cmd_kmalloc.c: --gfp, --cpu, --node of the object commands (kmalloc, kmem-cache alloc...). */
#define CLI_OBJ_GFP 0x1
#define CLI_OBJ_CPU 0x2
#define CLI_OBJ_NODE 0x4

struct cli_obj_args {
	unsigned int gfp; /* --gfp (default GFP_KERNEL) */
	long cpu;	  /* --cpu (default 0) */
	long node;	  /* --node (default -1: any) */
	char **args;	  /* the positional arguments */
};

/*
 * cli_obj_parse - the options in @allowed (CLI_OBJ_*) and exactly @nargs positional
 * arguments, argv[0] being the command. 0, or CLI_EXIT_USAGE after printing why.
 */
int cli_obj_parse(const char *cmd, int argc, char **argv, unsigned int allowed,
		  struct cli_obj_args *o, int nargs);

/* cmd_view.c: one view (text or JSON) on an open connection, printed to stdout. */
int cli_view_show(struct cli_remote *r, const char *name, int node, bool json, const char *sort);

/* cmd_ping.c: one ping on an open connection. */
struct cli_pong {
	uint32_t nodes_up;  /* nodes registered and alive */
	uint32_t nodes;	    /* nodes of the machine (HelloReply) */
	uint64_t uptime_ms; /* coordinator uptime */
};

int cli_ping_once(struct cli_remote *r, struct cli_pong *p);
void cli_pong_print(const struct cli_pong *p, FILE *out);

/* ------------------------------------------------------------------ in-process mode */

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
