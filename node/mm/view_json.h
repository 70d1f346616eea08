/* SPDX-License-Identifier: MIT */
/*
 * view_json.h - what the /proc-style views share: a small JSON writer and the context of one
 * view being written, with emitters that serve the kernel's text and JSON from one call.
 *
 * Mirrors:    nothing in the kernel (fs/seq_file.c is the text side, seq_file.h here)
 * Simplified: the writer knows objects, arrays, integers, strings and booleans only
 * Differs:    not part of the kernel; internal to node/mm (views.h is the interface)
 *
 * A view is written once for both outputs: each emitter takes the text format and the JSON
 * key of the same value, so the two outputs cannot disagree on what is shown. A NULL format
 * skips the value in text, a NULL key skips it in JSON.
 *
 * Invariant: json_writer.depth == objects and arrays opened and not yet closed; a finished
 * view has depth 0.
 */
#ifndef NUMASIM_MM_VIEW_JSON_H
#define NUMASIM_MM_VIEW_JSON_H

#include <stdbool.h>

#include "mm.h"
#include "seq_file.h"

#define JSON_DEPTH_MAX 16

/* JSON output: commas and nesting are tracked here, strings escaped; no library. */
struct json_writer {
	struct seq_file *s;	    /* output */
	int depth;		    /* open objects and arrays */
	bool first[JSON_DEPTH_MAX]; /* nothing written yet at this depth */
};

/* json_open - open an object ('{') or array ('[') named @key (NULL in arrays, at the top). */
void json_open(struct json_writer *jw, const char *key, char bracket);
/* json_close - close what json_open() opened with @bracket. */
void json_close(struct json_writer *jw, char bracket);
void json_num(struct json_writer *jw, const char *key, long long v);
void json_str(struct json_writer *jw, const char *key, const char *v);
void json_bool(struct json_writer *jw, const char *key, bool v);

/* One view being written. */
struct view {
	struct seq_file *s;    /* output */
	struct machine *m;     /* machine shown */
	int nid;	       /* node asked for, -1 for every node held here */
	bool json;	       /* JSON instead of the kernel's text */
	const char *stat_fmt;  /* text format of a "name value" stat line */
	struct json_writer jw; /* JSON state */
};

/*
 * view_init - start a view of @m on @s. @nid < 0 shows every node this process holds;
 * otherwise the node must exist and be held here. Returns 0 or -EINVAL (bad node).
 */
int view_init(struct view *v, struct seq_file *s, struct machine *m, int nid, bool json);

/* put_num - a named number: @fmt (one %lld) in text mode, "@key":v in JSON. */
void put_num(struct view *v, const char *fmt, const char *key, long long val);
/* put_str - a named string: @fmt (one %s) in text mode, "@key":"v" in JSON. */
void put_str(struct view *v, const char *fmt, const char *key, const char *val);
/* put_elem - an array element: @fmt (one %lld) in text mode, a bare number in JSON. */
void put_elem(struct view *v, const char *fmt, long long val);
/* put_stat - a "name value" pair in v->stat_fmt ("%s" name, "%lld" value); JSON "name":v. */
void put_stat(struct view *v, const char *name, long long val);
/* open_group - open a JSON object or array (@bracket) named @key; text mode prints @text. */
void open_group(struct view *v, const char *key, char bracket, const char *text);
/* close_group - close what open_group() opened with @bracket; text mode prints @text. */
void close_group(struct view *v, char bracket, const char *text);

/* The slab views (slabinfo.c); vmstat.c holds the table of every view. */
void slabinfo_show(struct view *v);
void slabtop_show(struct view *v);
void slabs_show(struct view *v);

#endif
