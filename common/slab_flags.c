// SPDX-License-Identifier: MIT
/*
 * slab_flags.c - SLAB_* cache flags by the names the kernel uses, both ways.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "nsim.h"
#include "slab.h"

static const struct {
	const char *name;  /* as the kernel spells it */
	unsigned int flag; /* its bit */
} slab_flag_names[] = {
	{"SLAB_CONSISTENCY_CHECKS", SLAB_CONSISTENCY_CHECKS},
	{"SLAB_RED_ZONE", SLAB_RED_ZONE},
	{"SLAB_POISON", SLAB_POISON},
	{"SLAB_HWCACHE_ALIGN", SLAB_HWCACHE_ALIGN},
	{"SLAB_CACHE_DMA", SLAB_CACHE_DMA},
	{"SLAB_CACHE_DMA32", SLAB_CACHE_DMA32},
	{"SLAB_STORE_USER", SLAB_STORE_USER},
	{"SLAB_RECLAIM_ACCOUNT", SLAB_RECLAIM_ACCOUNT},
	{"SLAB_PANIC", SLAB_PANIC},
	{"SLAB_TYPESAFE_BY_RCU", SLAB_TYPESAFE_BY_RCU},
	{"SLAB_MEM_SPREAD", SLAB_MEM_SPREAD},
	{"SLAB_TRACE", SLAB_TRACE},
	{"SLAB_NOLEAKTRACE", SLAB_NOLEAKTRACE},
	{"SLAB_FAILSLAB", SLAB_FAILSLAB},
	{"SLAB_ACCOUNT", SLAB_ACCOUNT},
};

#define NR_SLAB_FLAG_NAMES (sizeof(slab_flag_names) / sizeof(slab_flag_names[0]))

static int slab_flag_lookup(const char *tok, size_t len, unsigned int *flag)
{
	for (size_t i = 0; i < NR_SLAB_FLAG_NAMES; i++) {
		const char *name = slab_flag_names[i].name;

		if ((strlen(name) == len && !strncasecmp(tok, name, len)) ||
		    (strlen(name + 5) == len && !strncasecmp(tok, name + 5, len))) {
			*flag = slab_flag_names[i].flag;
			return 0;
		}
	}
	if (isdigit((unsigned char)*tok)) {
		char buf[24], *end;

		if (len >= sizeof(buf))
			return -EINVAL;
		memcpy(buf, tok, len);
		buf[len] = '\0';
		*flag = (unsigned int)strtoul(buf, &end, 0);
		return *end ? -EINVAL : 0;
	}
	return -EINVAL;
}

int nsim_slab_flags_parse(const char *s, unsigned int *flags, const char **bad)
{
	*flags = 0;
	while (s && *s) {
		size_t len = strcspn(s, "|");
		unsigned int f;

		if (!len || slab_flag_lookup(s, len, &f)) {
			if (bad)
				*bad = s;
			return -EINVAL;
		}
		*flags |= f;
		s += len + (s[len] == '|');
	}
	return 0;
}

void nsim_slab_flags_format(unsigned int flags, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < NR_SLAB_FLAG_NAMES; i++) {
		int n;

		if (!(flags & slab_flag_names[i].flag))
			continue;
		n = snprintf(buf + used, len > used ? len - used : 0, "%s%s", used ? "|" : "",
			     slab_flag_names[i].name);
		if (n > 0)
			used += (size_t)n;
	}
	if (!used)
		snprintf(buf, len, "0");
}
