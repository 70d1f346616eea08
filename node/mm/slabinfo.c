// SPDX-License-Identifier: MIT
/*
 * slabinfo.c - the slab layer as the kernel and procps show it: /proc/slabinfo,
 * slabtop --once and the attributes of /sys/kernel/slab, as text or JSON.
 *
 * Mirrors:    mm/slab_common.c (print_slabinfo_header, cache_show, slab_show) and mm/slub.c
 *             (get_slabinfo; the sysfs attributes order, objs_per_slab, object_size,
 *             slab_size, align, cache_dma, reclaim_account, hwcache_align, cpu_partial,
 *             min_partial, objects, slabs, aliases; sysfs_slab_alias), Linux 6.1.y;
 *             slabtop(1) --once of procps-ng 4.0 (its summary arithmetic and column widths)
 * Simplified: only the sysfs attributes the reference captures dump; slabtop prints every
 *             cache (no terminal height)
 * Differs:    the slabs view is the captures' one-line-per-entry dump of /sys/kernel/slab,
 *             not a directory tree; slabtop prints 0.0% where a zero total would give -nan%,
 *             and rows that tie on the sort key keep /proc/slabinfo order (slabtop's qsort
 *             leaves their order unspecified)
 *
 * Design: every cache is first copied into a struct slab_snapshot: the list is walked with
 * slab_mutex held and each cache's counters come from get_slabinfo(), which takes the
 * nodes' list_lock. The views then format the copy without locks, each written once for
 * text and JSON through the emitters of view_json.h. Sorted views sort an array of struct
 * row (a name and its cache) with /proc/slabinfo order as the tie-break.
 *
 * What the numbers are (SLUB): num_objs = objects in all slabs; active_objs = num_objs minus
 * the free objects of slabs on node partial lists (free objects of CPU slabs and CPU partial
 * slabs count as active); active_slabs = num_slabs. sysfs "objects" is that same
 * active_objs (objects_show(): total_objects minus count_partial(count_free)), as the
 * captures confirm (kmalloc-16: slabinfo 1320 active of 2816, sysfs objects=1320), and
 * sysfs "aliases" is refcount - 1 (0 for caches that are never merge targets): the names
 * that point at a merged cache's id, the first of them not counted (":0000032" with 9 names
 * shows aliases=8).
 *
 * JSON shapes (no trailing newline; sizes in bytes unless the key ends in _kB):
 *   slabinfo {"caches":[{"name","active_objs","num_objs","objsize","objperslab",
 *            "pagesperslab","active_slabs","num_slabs","aliases":[every name that resolves
 *            to the cache, its creator's included while it exists; [] if unmergeable]}]}
 *   slabtop  {"summary":{"active_objs","num_objs","active_slabs","num_slabs",
 *            "active_caches","num_caches","active_size","total_size","min_objsize",
 *            "avg_objsize","max_objsize"},"caches":[{"name","num_objs","active_objs","use",
 *            "objsize","num_slabs","active_slabs","objperslab","pagesperslab",
 *            "cache_size_kB"}]} with caches in the sort order
 *   slabs    {"entries":[{"name", "alias_of" (alias entries only), "order","objs_per_slab",
 *            "object_size","slab_size","align","cache_dma","reclaim_account",
 *            "hwcache_align","cpu_partial","min_partial","objects","slabs","aliases"}]}
 *            sorted by name
 *
 * Lock order: slab_mutex -> kmem_cache_node.list_lock (inside get_slabinfo()), as slab.h.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "slab.h"
#include "view_json.h"
#include "views.h"

#define SLABINFO_HEADER                                                                    \
	"slabinfo - version: 2.1\n"                                                        \
	"# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab>" \
	" : tunables <limit> <batchcount> <sharedfactor>"                                  \
	" : slabdata <active_slabs> <num_slabs> <sharedavail>\n"
#define SLABS_HEADER                                                                         \
	"# name [-> alias_target] order objs_per_slab object_size slab_size align cache_dma" \
	" reclaim_account hwcache_align cpu_partial min_partial objects slabs aliases\n"
#define SLABTOP_HEADER "  OBJS ACTIVE  USE OBJ SIZE  SLABS OBJ/SLAB CACHE SIZE NAME"
#define SLABTOP_DEFAULT_SORT 'o'
#define SYSFS_ID_LEN sizeof(((struct kmem_cache *)NULL)->sysfs_id)

/* slabtop's sort keys (views.h lists what each sorts by). */
static const char slabtop_keys[] = "abclvnopsu";

/* One cache as the views show it, copied under the locks. */
struct cache_snap {
	char name[KMEM_CACHE_NAME_LEN];	    /* s->name: its slabinfo name */
	char sysfs_id[SYSFS_ID_LEN];	    /* its /sys/kernel/slab entry */
	unsigned int object_size;	    /* sysfs object_size */
	unsigned int size;		    /* slabinfo objsize */
	unsigned int align;		    /* sysfs align */
	unsigned int order;		    /* oo order */
	unsigned int objs_per_slab;	    /* oo objects */
	unsigned int cpu_partial;	    /* sysfs cpu_partial */
	unsigned int min_partial;	    /* sysfs min_partial */
	slab_flags_t flags;		    /* SLAB_* */
	int aliases;			    /* sysfs aliases */
	int nr_names;			    /* names resolving to it */
	char (*names)[KMEM_CACHE_NAME_LEN]; /* those names (s->aliases) */
	struct slabinfo info;		    /* get_slabinfo() */
};

struct slab_snapshot {
	int nr;			   /* caches */
	struct cache_snap *caches; /* newest first, as slab_caches */
};

/* One line of a sorted view. */
struct row {
	const char *name;	    /* what the line is called */
	const struct cache_snap *c; /* the cache it shows */
	unsigned long key;	    /* slabtop: the value it is sorted on */
	int idx;		    /* position before sorting: the tie-break */
};

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (!p)
		abort();
	return p;
}

/* ------------------------------------------------------------------------------------------ */
/* Reading the caches */

/* Copy @s; slab_mutex held (it guards object_size and the names). */
static void snap_cache(struct cache_snap *c, struct kmem_cache *s, int nid)
{
	memcpy(c->name, s->name, sizeof(c->name));
	memcpy(c->sysfs_id, s->sysfs_id, sizeof(c->sysfs_id));
	c->object_size = s->object_size;
	c->size = s->size;
	c->align = s->align;
	c->order = s->oo_order;
	c->objs_per_slab = s->oo_objects;
	c->cpu_partial = s->cpu_partial;
	c->min_partial = s->min_partial;
	c->flags = s->flags;
	c->aliases = s->refcount < 0 ? 0 : s->refcount - 1;
	c->nr_names = s->nr_aliases;
	c->names = xcalloc((size_t)s->nr_aliases, sizeof(*c->names));
	if (s->nr_aliases)
		memcpy(c->names, s->aliases, sizeof(*c->names) * (size_t)s->nr_aliases);
	get_slabinfo(s, nid, &c->info);
}

/* Every cache of @m with its counters on node @nid (-1: all nodes); none without a slab layer. */
static void snapshot_take(struct slab_snapshot *snap, struct machine *m, int nid)
{
	struct slab_state *st = m->slab;
	int n = 0;

	snap->nr = 0;
	snap->caches = NULL;
	if (!st)
		return;
	pthread_mutex_lock(&st->slab_mutex);
	for (struct kmem_cache *s = st->slab_caches; s; s = s->next)
		n++;
	snap->caches = xcalloc((size_t)n, sizeof(*snap->caches));
	for (struct kmem_cache *s = st->slab_caches; s; s = s->next)
		snap_cache(&snap->caches[snap->nr++], s, nid);
	pthread_mutex_unlock(&st->slab_mutex);
}

static void snapshot_release(struct slab_snapshot *snap)
{
	for (int i = 0; i < snap->nr; i++)
		free(snap->caches[i].names);
	free(snap->caches);
	snap->caches = NULL;
	snap->nr = 0;
}

/* Rows sorted by name (strcmp, as `ls` in the C locale), ties by position. */
static int row_by_name(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	int d = strcmp(x->name, y->name);

	return d ? d : x->idx - y->idx;
}

/* Rows sorted by key, largest first, ties by position. */
static int row_by_key(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->key != y->key)
		return x->key > y->key ? -1 : 1;
	return x->idx - y->idx;
}

/* ------------------------------------------------------------------------------------------ */
/* /proc/slabinfo */

/* cache_show(): "name" then the counters; JSON adds the names that resolve to the cache. */
static void slabinfo_line(struct view *v, const struct cache_snap *c)
{
	open_group(v, NULL, '{', NULL);
	put_str(v, "%-17s", "name", c->name);
	put_num(v, " %6lld", "active_objs", (long long)c->info.active_objs);
	put_num(v, " %6lld", "num_objs", (long long)c->info.num_objs);
	put_num(v, " %6lld", "objsize", c->size);
	put_num(v, " %4lld", "objperslab", c->objs_per_slab);
	put_num(v, " %4lld", "pagesperslab", 1ll << c->order);
	if (!v->json)
		seq_printf(v->s, " : tunables %4u %4u %4u", 0u, 0u, 0u);
	put_num(v, " : slabdata %6lld", "active_slabs", (long long)c->info.active_slabs);
	put_num(v, " %6lld", "num_slabs", (long long)c->info.num_slabs);
	put_num(v, " %6lld\n", NULL, 0);
	open_group(v, "aliases", '[', NULL);
	for (int i = 0; v->json && i < c->nr_names; i++)
		json_str(&v->jw, NULL, c->names[i]);
	close_group(v, '[', NULL);
	close_group(v, '{', NULL);
}

void slabinfo_show(struct view *v)
{
	struct slab_snapshot snap;

	snapshot_take(&snap, v->m, v->nid);
	open_group(v, NULL, '{', SLABINFO_HEADER);
	open_group(v, "caches", '[', NULL);
	for (int i = 0; i < snap.nr; i++)
		slabinfo_line(v, &snap.caches[i]);
	close_group(v, '[', NULL);
	close_group(v, '{', NULL);
	snapshot_release(&snap);
}

/* ------------------------------------------------------------------------------------------ */
/* slabtop --once */

/* The totals of slabtop's header, as procps computes them from /proc/slabinfo. */
struct slabtop_sums {
	unsigned long active_objs;   /* objects in use */
	unsigned long num_objs;	     /* objects */
	unsigned long active_slabs;  /* slabs in use (all of them, with SLUB) */
	unsigned long num_slabs;     /* slabs */
	unsigned long active_caches; /* caches with objects */
	unsigned long num_caches;    /* caches */
	unsigned long active_size;   /* bytes of objects in use */
	unsigned long total_size;    /* bytes of objects */
	unsigned long min_size;	     /* smallest object size */
	unsigned long avg_size;	     /* total_size / num_objs */
	unsigned long max_size;	     /* largest object size */
};

/* Pages of all slabs in bytes: what slabtop calls the cache size. */
static unsigned long cache_size(const struct cache_snap *c)
{
	return c->info.num_slabs * (PAGE_SIZE << c->order);
}

/* Percent of objects in use, truncated, computed in float as procps does. */
static unsigned int slab_use(const struct cache_snap *c)
{
	if (!c->info.num_objs)
		return 0;
	return (unsigned int)(100 * ((float)c->info.active_objs / (float)c->info.num_objs));
}

static double percent(unsigned long part, unsigned long whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

static void slabtop_sum(struct slabtop_sums *t, const struct slab_snapshot *snap)
{
	memset(t, 0, sizeof(*t));
	t->min_size = snap->nr ? UINT_MAX : 0;
	for (int i = 0; i < snap->nr; i++) {
		const struct cache_snap *c = &snap->caches[i];

		t->min_size = c->size < t->min_size ? c->size : t->min_size;
		t->max_size = c->size > t->max_size ? c->size : t->max_size;
		t->active_objs += c->info.active_objs;
		t->num_objs += c->info.num_objs;
		t->active_slabs += c->info.active_slabs;
		t->num_slabs += c->info.num_slabs;
		t->active_caches += c->info.num_objs != 0;
		t->num_caches++;
		t->active_size += c->info.active_objs * c->size;
		t->total_size += c->info.num_objs * c->size;
	}
	t->avg_size = t->num_objs ? t->total_size / t->num_objs : 0;
}

/* " Label : active / total (p%)": counts, or bytes shown in KiB with @kib. */
static void summary_ratio(struct view *v, const char *label, const char *akey, unsigned long a,
			  const char *tkey, unsigned long t, bool kib)
{
	put_num(v, NULL, akey, (long long)a);
	put_num(v, NULL, tkey, (long long)t);
	if (v->json)
		return;
	if (kib)
		seq_printf(v->s, " %-35s: %.2fK / %.2fK (%.1f%%)\n", label, a / 1024.0, t / 1024.0,
			   percent(a, t));
	else
		seq_printf(v->s, " %-35s: %lu / %lu (%.1f%%)\n", label, a, t, percent(a, t));
}

static void slabtop_summary(struct view *v, const struct slab_snapshot *snap)
{
	struct slabtop_sums t;

	slabtop_sum(&t, snap);
	open_group(v, "summary", '{', NULL);
	summary_ratio(v, "Active / Total Objects (% used)", "active_objs", t.active_objs,
		      "num_objs", t.num_objs, false);
	summary_ratio(v, "Active / Total Slabs (% used)", "active_slabs", t.active_slabs,
		      "num_slabs", t.num_slabs, false);
	summary_ratio(v, "Active / Total Caches (% used)", "active_caches", t.active_caches,
		      "num_caches", t.num_caches, false);
	summary_ratio(v, "Active / Total Size (% used)", "active_size", t.active_size, "total_size",
		      t.total_size, true);
	put_num(v, NULL, "min_objsize", (long long)t.min_size);
	put_num(v, NULL, "avg_objsize", (long long)t.avg_size);
	put_num(v, NULL, "max_objsize", (long long)t.max_size);
	if (!v->json)
		seq_printf(v->s, " %-35s: %.2fK / %.2fK / %.2fK\n\n%-78s\n",
			   "Minimum / Average / Maximum Object", t.min_size / 1024.0,
			   t.avg_size / 1024.0, t.max_size / 1024.0, SLABTOP_HEADER);
	close_group(v, '{', NULL);
}

/* One row in slabtop's columns; JSON also has the two sortable columns it does not print. */
static void slabtop_row(struct view *v, const struct cache_snap *c)
{
	open_group(v, NULL, '{', NULL);
	put_str(v, NULL, "name", c->name);
	put_num(v, "%6lld", "num_objs", (long long)c->info.num_objs);
	put_num(v, " %6lld", "active_objs", (long long)c->info.active_objs);
	put_num(v, " %3lld%%", "use", slab_use(c));
	put_num(v, NULL, "objsize", c->size);
	if (!v->json)
		seq_printf(v->s, " %7.2fK", c->size / 1024.0);
	put_num(v, " %6lld", "num_slabs", (long long)c->info.num_slabs);
	put_num(v, NULL, "active_slabs", (long long)c->info.active_slabs);
	put_num(v, " %8lld", "objperslab", c->objs_per_slab);
	put_num(v, NULL, "pagesperslab", 1ll << c->order);
	put_num(v, " %9lldK", "cache_size_kB", (long long)(cache_size(c) / 1024));
	put_str(v, " %-23s\n", NULL, c->name);
	close_group(v, '{', NULL);
}

/* The value slabtop sorts on for @key, largest first ('n' sorts by name instead). */
static unsigned long slabtop_value(const struct cache_snap *c, char key)
{
	switch (key) {
	case 'a':
		return c->info.active_objs;
	case 'b':
		return c->objs_per_slab;
	case 'c':
		return cache_size(c);
	case 'l':
		return c->info.num_slabs;
	case 'v':
		return c->info.active_slabs;
	case 'p':
		return 1ul << c->order;
	case 's':
		return c->size;
	case 'u':
		return slab_use(c);
	default:
		return c->info.num_objs;
	}
}

static void slabtop_print(struct view *v, char key)
{
	struct slab_snapshot snap;
	struct row *rows;

	snapshot_take(&snap, v->m, v->nid);
	rows = xcalloc((size_t)snap.nr, sizeof(*rows));
	for (int i = 0; i < snap.nr; i++) {
		const struct cache_snap *c = &snap.caches[i];

		rows[i] = (struct row){c->name, c, slabtop_value(c, key), i};
	}
	qsort(rows, (size_t)snap.nr, sizeof(*rows), key == 'n' ? row_by_name : row_by_key);
	open_group(v, NULL, '{', NULL);
	slabtop_summary(v, &snap);
	open_group(v, "caches", '[', NULL);
	for (int i = 0; i < snap.nr; i++)
		slabtop_row(v, rows[i].c);
	close_group(v, '[', NULL);
	close_group(v, '{', NULL);
	free(rows);
	snapshot_release(&snap);
}

void slabtop_show(struct view *v)
{
	slabtop_print(v, SLABTOP_DEFAULT_SORT);
}

int mm_slabtop_show(struct seq_file *s, struct machine *m, char sort, int nid, bool json)
{
	struct view v;

	if (!sort || !strchr(slabtop_keys, sort) || view_init(&v, s, m, nid, json))
		return -EINVAL;
	slabtop_print(&v, sort);
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* /sys/kernel/slab, one line per entry */

/*
 * One entry: the cache's id (its name when unmergeable), or a name merged into it, shown
 * as "name -> id" like the symlink it is in sysfs. Then the attributes, " key=value".
 */
static void slabs_line(struct view *v, const struct row *r)
{
	const struct cache_snap *c = r->c;

	open_group(v, NULL, '{', NULL);
	put_str(v, "%s ", "name", r->name);
	if (strcmp(r->name, c->sysfs_id))
		put_str(v, "-> %s", "alias_of", c->sysfs_id);
	put_stat(v, "order", c->order);
	put_stat(v, "objs_per_slab", c->objs_per_slab);
	put_stat(v, "object_size", c->object_size);
	put_stat(v, "slab_size", c->size);
	put_stat(v, "align", c->align);
	put_stat(v, "cache_dma", !!(c->flags & SLAB_CACHE_DMA));
	put_stat(v, "reclaim_account", !!(c->flags & SLAB_RECLAIM_ACCOUNT));
	put_stat(v, "hwcache_align", !!(c->flags & SLAB_HWCACHE_ALIGN));
	put_stat(v, "cpu_partial", c->cpu_partial);
	put_stat(v, "min_partial", c->min_partial);
	put_stat(v, "objects", (long long)c->info.active_objs);
	put_stat(v, "slabs", (long long)c->info.num_slabs);
	put_stat(v, "aliases", c->aliases);
	close_group(v, '{', "\n");
}

/* Every entry of @snap (ids and names) in @rows; returns how many. */
static int slabs_rows(const struct slab_snapshot *snap, struct row *rows)
{
	int n = 0;

	for (int i = 0; i < snap->nr; i++) {
		const struct cache_snap *c = &snap->caches[i];

		rows[n] = (struct row){c->sysfs_id, c, 0, n};
		n++;
		for (int j = 0; j < c->nr_names; j++, n++)
			rows[n] = (struct row){c->names[j], c, 0, n};
	}
	return n;
}

void slabs_show(struct view *v)
{
	struct slab_snapshot snap;
	struct row *rows;
	int n = 0;

	snapshot_take(&snap, v->m, v->nid);
	for (int i = 0; i < snap.nr; i++)
		n += 1 + snap.caches[i].nr_names;
	rows = xcalloc((size_t)n, sizeof(*rows));
	n = slabs_rows(&snap, rows);
	qsort(rows, (size_t)n, sizeof(*rows), row_by_name);
	v->stat_fmt = " %s=%lld";
	open_group(v, NULL, '{', SLABS_HEADER);
	open_group(v, "entries", '[', NULL);
	for (int i = 0; i < n; i++)
		slabs_line(v, &rows[i]);
	close_group(v, '[', NULL);
	close_group(v, '{', NULL);
	free(rows);
	snapshot_release(&snap);
}
