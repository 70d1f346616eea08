/* SPDX-License-Identifier: MIT */
/*
 * boot_script.h - the pieces of the `numasim boot --script` runner that the operation
 * tables (boot_script.c for pages and sysctls, boot_script_slab.c for the slab layer) share.
 */
#ifndef NUMASIM_CLIENT_BOOT_SCRIPT_H
#define NUMASIM_CLIENT_BOOT_SCRIPT_H

#include "cli.h"

#define SCRIPT_MAX_ARGS 8
#define OWNER_SCRIPT 1u

/* What earlier lines left for later ones ("last" in an ADDR or PFN argument). */
struct script_state {
	unsigned long last_addr; /* last object address handed out */
	unsigned long last_pfn;	 /* last pfn handed out */
};

struct script_line {
	const char *path;	     /* script file, for messages */
	int lineno;		     /* 1-based */
	int argc;		     /* words */
	char *argv[SCRIPT_MAX_ARGS]; /* words */
	const char *rest;	     /* text after the first word (sysctl value, echo text) */
	FILE *out;		     /* where results go */
	bool json;		     /* views as JSON */
	struct script_state *state;  /* shared with the other lines */
};

struct script_op {
	const char *name;				      /* first word */
	int min_args, max_args;				      /* words after the name */
	int (*run)(struct machine *m, struct script_line *l); /* 0 or CLI_EXIT_FAIL */
	const char *usage;				      /* for errors */
};

/* script_error - "numasim boot: FILE:LINE: message"; returns CLI_EXIT_FAIL. */
int script_error(const struct script_line *l, const char *fmt, const char *arg);

/* Argument @i of the line as a number in [min, max]; 0 or script_error(). */
int script_arg_long(const struct script_line *l, int i, long min, long max, long *v);

/* Argument @i as a gfp mask; 0 or script_error(). */
int script_arg_gfp(const struct script_line *l, int i, unsigned int *gfp);

/* Argument @i as an address ("last" = the last one handed out); 0 or script_error(). */
int script_arg_addr(const struct script_line *l, int i, unsigned long *addr);

extern const struct script_op slab_script_ops[];
extern const int nr_slab_script_ops;

#endif
