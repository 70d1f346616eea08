/* SPDX-License-Identifier: MIT */
/*
 * config.h - the coordinator's configuration file: the machine it simulates, the sysctls
 * applied after boot, and its own settings.
 *
 *   [machine]      arch = 686 | 686-pae, cpus = N, nodes = N, node_mem = SIZE,SIZE,...
 *                  or mem = SIZE, thp = always | madvise | never, cmdline = PARAMS,
 *                  distance = "10 20; 20 10" (one row per node)
 *   [sysctl]       vm.NAME = VALUE, applied in file order
 *   [coordinator]  listen = ADDR:PORT (127.0.0.1:7070), heartbeat_ms (500),
 *                  dead_after_ms (1500)
 *
 * The file is read with libinih (';' and '#' start comments, also after a blank inside a
 * value). Every problem is reported as one line naming the file, the line when there is
 * one, and the key.
 */
#ifndef NUMASIM_SERVER_CONFIG_H
#define NUMASIM_SERVER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "mm.h"

#define COORD_LISTEN_DEFAULT "127.0.0.1:7070"
#define COORD_HEARTBEAT_MS_DEFAULT 500
#define COORD_DEAD_AFTER_MS_DEFAULT 1500
#define COORD_ERRLEN 320 /* room for a file name and a message */

struct coord_sysctl {
	char *name;  /* vm.min_free_kbytes */
	char *value; /* as written */
};

struct coord_config {
	struct machine_config mc;	 /* the machine, local_node = MM_NO_NODES */
	char arch[16];			 /* "686" or "686-pae" */
	char thp[16];			 /* "always", "madvise" or "never" */
	char *cmdline;			 /* kernel parameters, as written */
	bool mem_set;			 /* mem = given */
	bool nodes_set;			 /* nodes = given */
	int nr_node_mem;		 /* node_mem entries (0: split evenly) */
	int distance_rows;		 /* distance rows given (0: 10 local, 20 remote) */
	int distance_cols[MAX_NUMNODES]; /* values in each row */
	int nr_sysctls;			 /* entries of sysctls */
	struct coord_sysctl *sysctls;	 /* [sysctl], then the ones set at run time */
	char listen[128];		 /* ADDR:PORT */
	int heartbeat_ms;		 /* ping period */
	int dead_after_ms;		 /* silence that makes a node down */
};

/*
 * coord_config_load - read @path into @cfg (initialised here). 0, or -EINVAL / -ENOENT with
 * one line in @err ("deploy/x.ini:7: [machine] cpus: 'x' is not a number").
 * coord_config_release() must be called in both cases.
 */
int coord_config_load(struct coord_config *cfg, const char *path, char *err, size_t len);

/* coord_config_parse - the same from a string; @what names it in messages. */
int coord_config_parse(struct coord_config *cfg, const char *text, const char *what, char *err,
		       size_t len);

void coord_config_release(struct coord_config *cfg);

/* coord_config_add_sysctl - append a sysctl (a runtime write that nodes must replay). */
void coord_config_add_sysctl(struct coord_config *cfg, const char *name, const char *value);

/*
 * coord_machine_new - the routing machine: layout, zones, watermarks and zonelists without
 * a memory map (local_node = MM_NO_NODES), with the sysctls applied in order. 0 or a
 * negative errno with one line in @err; *@out is NULL on failure.
 */
int coord_machine_new(struct machine **out, const struct coord_config *cfg, char *err, size_t len);

#endif
