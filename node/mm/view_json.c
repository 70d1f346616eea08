// SPDX-License-Identifier: MIT
/*
 * view_json.c - the JSON writer and the emitters shared by the /proc-style views
 * (vmstat.c, slabinfo.c).
 *
 * Mirrors:    nothing in the kernel; the text side prints through seq_file.c
 * Simplified: JSON objects, arrays, integers, strings and booleans only
 * Differs:    not part of the kernel
 *
 * Design: a view holds its output, the machine, the node asked for and the output mode.
 * Emitters take both the kernel's text format and the JSON key of a value and write
 * whichever the view was asked for; the JSON writer inserts commas and tracks nesting so
 * a view never writes punctuation itself. No locks are taken here.
 */
#include <assert.h>
#include <errno.h>

#include "internal.h"
#include "view_json.h"

/* ------------------------------------------------------------------------------------------ */
/* JSON writer */

static void json_string(struct seq_file *s, const char *str)
{
	seq_putc(s, '"');
	for (const unsigned char *p = (const unsigned char *)str; *p; p++) {
		if (*p == '"' || *p == '\\')
			seq_printf(s, "\\%c", *p);
		else if (*p < 0x20)
			seq_printf(s, "\\u%04x", *p);
		else
			seq_putc(s, (char)*p);
	}
	seq_putc(s, '"');
}

/* Start a value: a comma after a sibling, then "key": (no key for array elements). */
static void json_key(struct json_writer *jw, const char *key)
{
	if (!jw->first[jw->depth])
		seq_putc(jw->s, ',');
	jw->first[jw->depth] = false;
	if (key) {
		json_string(jw->s, key);
		seq_putc(jw->s, ':');
	}
}

void json_open(struct json_writer *jw, const char *key, char bracket)
{
	assert(jw->depth + 1 < JSON_DEPTH_MAX);
	json_key(jw, key);
	seq_putc(jw->s, bracket);
	jw->first[++jw->depth] = true;
}

void json_close(struct json_writer *jw, char bracket)
{
	assert(jw->depth > 0);
	seq_putc(jw->s, bracket == '{' ? '}' : ']');
	jw->depth--;
}

void json_num(struct json_writer *jw, const char *key, long long v)
{
	json_key(jw, key);
	seq_printf(jw->s, "%lld", v);
}

void json_str(struct json_writer *jw, const char *key, const char *v)
{
	json_key(jw, key);
	json_string(jw->s, v);
}

void json_bool(struct json_writer *jw, const char *key, bool v)
{
	json_key(jw, key);
	seq_puts(jw->s, v ? "true" : "false");
}

/* ------------------------------------------------------------------------------------------ */
/* One view being written, and the emitters that serve both outputs. */

/* A node may be asked for when it exists and this process holds its pages. */
static bool node_shown(const struct machine *m, int nid)
{
	return nid < m->nr_nodes && m->node_data[nid] && node_is_local(m->node_data[nid]);
}

int view_init(struct view *v, struct seq_file *s, struct machine *m, int nid, bool json)
{
	if (nid >= 0 && !node_shown(m, nid))
		return -EINVAL;
	*v = (struct view){.s = s, .m = m, .nid = nid < 0 ? -1 : nid, .json = json};
	v->jw.s = s;
	v->jw.first[0] = true;
	return 0;
}

void put_num(struct view *v, const char *fmt, const char *key, long long val)
{
	if (v->json) {
		if (key)
			json_num(&v->jw, key, val);
	} else if (fmt) {
		seq_printf(v->s, fmt, val);
	}
}

void put_str(struct view *v, const char *fmt, const char *key, const char *val)
{
	if (v->json) {
		if (key)
			json_str(&v->jw, key, val);
	} else if (fmt) {
		seq_printf(v->s, fmt, val);
	}
}

void put_elem(struct view *v, const char *fmt, long long val)
{
	if (v->json)
		json_num(&v->jw, NULL, val);
	else
		seq_printf(v->s, fmt, val);
}

void put_stat(struct view *v, const char *name, long long val)
{
	if (v->json)
		json_num(&v->jw, name, val);
	else
		seq_printf(v->s, v->stat_fmt, name, val);
}

void open_group(struct view *v, const char *key, char bracket, const char *text)
{
	if (v->json)
		json_open(&v->jw, key, bracket);
	else if (text)
		seq_puts(v->s, text);
}

void close_group(struct view *v, char bracket, const char *text)
{
	if (v->json)
		json_close(&v->jw, bracket);
	else if (text)
		seq_puts(v->s, text);
}
