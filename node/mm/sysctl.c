// SPDX-License-Identifier: MIT
/*
 * sysctl.c - the vm.* sysctls that shape the allocator, with the kernel's validation and
 * the kernel's recomputations (and its read side effect on lowmem_reserve_ratio).
 *
 * Mirrors:    kernel/sysctl.c vm_table and mm/page_alloc.c handlers (Linux 6.1.y):
 *             min_free_kbytes_sysctl_handler, watermark_scale_factor_sysctl_handler,
 *             lowmem_reserve_ratio_sysctl_handler, percpu_pagelist_high_fraction_sysctl_handler;
 *             kernel/sysctl.c proc_dointvec_minmax parsing
 * Simplified: values are parsed from one string as written to /proc/sys
 * Differs:    extra values after a scalar are rejected instead of ignored
 *
 * Every handler runs under machine->sysctl_lock; allocations keep running meanwhile.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define MIN_PERCPU_PAGELIST_HIGH_FRACTION 8

struct vm_sysctl {
	const char *name;		  /* without "vm." */
	int *(*field)(struct machine *m); /* the value(s) */
	int nr;				  /* values (arrays: MAX_NR_ZONES) */
	int min, max;			  /* accepted range (proc_dointvec_minmax) */
	int (*handler)(struct machine *m, const int *old); /* after a write */
	void (*on_read)(struct machine *m);		   /* read side effect */
	bool lenient; /* the handler ignores parse errors (lowmem_reserve_ratio in 6.1) */
};

static int *f_min_free(struct machine *m)
{
	return &m->min_free_kbytes;
}
static int *f_wsf(struct machine *m)
{
	return &m->watermark_scale_factor;
}
static int *f_wbf(struct machine *m)
{
	return &m->watermark_boost_factor;
}
static int *f_lrr(struct machine *m)
{
	return m->lowmem_reserve_ratio;
}
static int *f_phf(struct machine *m)
{
	return &m->percpu_pagelist_high_fraction;
}
static int *f_zrm(struct machine *m)
{
	return &m->zone_reclaim_mode;
}

static int min_free_kbytes_written(struct machine *m, const int *old)
{
	(void)old;
	m->user_min_free_kbytes = m->min_free_kbytes;
	setup_per_zone_wmarks(m);
	return 0;
}

static int wmarks_written(struct machine *m, const int *old)
{
	(void)old;
	setup_per_zone_wmarks(m);
	return 0;
}

static int lowmem_reserve_written(struct machine *m, const int *old)
{
	(void)old;
	for (int i = 0; i < MAX_NR_ZONES; i++)
		if (m->lowmem_reserve_ratio[i] < 1)
			m->lowmem_reserve_ratio[i] = 0;
	setup_per_zone_lowmem_reserve(m);
	return 0;
}

static int high_fraction_written(struct machine *m, const int *old)
{
	int v = m->percpu_pagelist_high_fraction;

	if (v > 0 && v < MIN_PERCPU_PAGELIST_HIGH_FRACTION) {
		m->percpu_pagelist_high_fraction = *old;
		return -EINVAL;
	}
	if (v == *old)
		return 0;
	for_each_node(m, nid) for_each_zone_of(m->node_data[nid], zone) if (populated_zone(zone))
		zone_pcp_update(zone);
	return 0;
}

static void lowmem_reserve_read(struct machine *m)
{
	setup_per_zone_lowmem_reserve(m);
}

static const struct vm_sysctl vm_table[] = {
	{"min_free_kbytes", f_min_free, 1, 0, INT_MAX, min_free_kbytes_written, NULL, false},
	{"watermark_scale_factor", f_wsf, 1, 1, 3000, wmarks_written, NULL, false},
	{"watermark_boost_factor", f_wbf, 1, 0, INT_MAX, NULL, NULL, false},
	{"lowmem_reserve_ratio", f_lrr, MAX_NR_ZONES, INT_MIN, INT_MAX, lowmem_reserve_written,
	 lowmem_reserve_read, true},
	{"percpu_pagelist_high_fraction", f_phf, 1, 0, INT_MAX, high_fraction_written, NULL, false},
	{"zone_reclaim_mode", f_zrm, 1, 0, INT_MAX, NULL, NULL, false},
};

#define NR_VM_SYSCTLS ((int)(sizeof(vm_table) / sizeof(vm_table[0])))

static const struct vm_sysctl *sysctl_find(const char *name)
{
	if (!strncmp(name, "vm.", 3))
		name += 3;
	else if (!strncmp(name, "vm/", 3))
		name += 3;
	for (int i = 0; i < NR_VM_SYSCTLS; i++)
		if (!strcmp(vm_table[i].name, name))
			return &vm_table[i];
	return NULL;
}

const char *machine_sysctl_name(int i)
{
	static char names[NR_VM_SYSCTLS][48];

	if (i < 0 || i >= NR_VM_SYSCTLS)
		return NULL;
	if (!names[i][0])
		snprintf(names[i], sizeof(names[i]), "vm.%s", vm_table[i].name);
	return names[i];
}

/* proc_dointvec_minmax's parser: up to @nr integers separated by blanks, each in range. */
static int parse_ints(const char *s, int *out, int nr, int min, int max, int *count)
{
	*count = 0;
	while (*s) {
		char *end;
		long v;

		while (*s == ' ' || *s == '\t' || *s == '\n')
			s++;
		if (!*s)
			break;
		if (*count == nr)
			return -EINVAL;
		v = strtol(s, &end, 0); /* proc_dointvec: base 0 (0x10, 010) */
		if (end == s || (*end && *end != ' ' && *end != '\t' && *end != '\n'))
			return -EINVAL;
		if (v < min || v > max)
			return -EINVAL;
		out[(*count)++] = (int)v;
		s = end;
	}
	return *count ? 0 : -EINVAL;
}

int machine_sysctl_set(struct machine *m, const char *name, const char *value)
{
	const struct vm_sysctl *t = sysctl_find(name);
	int vals[MAX_NR_ZONES], old[MAX_NR_ZONES], n, ret;
	int *field;

	if (!t)
		return -ENOENT;
	ret = parse_ints(value, vals, t->nr, t->min, t->max, &n);
	if (ret && !t->lenient)
		return ret;
	ret = 0; /* a lenient handler keeps the values parsed before the bad one */
	pthread_mutex_lock(&m->sysctl_lock);
	field = t->field(m);
	memcpy(old, field, sizeof(int) * (size_t)t->nr);
	for (int i = 0; i < n; i++)
		WRITE_ONCE(field[i], vals[i]);
	ret = t->handler ? t->handler(m, old) : 0;
	pthread_mutex_unlock(&m->sysctl_lock);
	return ret;
}

int machine_sysctl_get(struct machine *m, const char *name, char *buf, size_t len)
{
	const struct vm_sysctl *t = sysctl_find(name);
	size_t used = 0;

	if (!t)
		return -ENOENT;
	pthread_mutex_lock(&m->sysctl_lock);
	if (t->on_read)
		t->on_read(m);
	buf[0] = '\0';
	for (int i = 0; i < t->nr && used < len; i++) {
		int n = snprintf(buf + used, len - used, "%s%d", i ? "\t" : "", t->field(m)[i]);

		if (n < 0)
			break;
		used += (size_t)n;
	}
	pthread_mutex_unlock(&m->sysctl_lock);
	return 0;
}
