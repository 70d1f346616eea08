// SPDX-License-Identifier: MIT
/*
 * gfp_names.c - gfp masks by the names the kernel uses, both ways.
 *
 * Formatting follows the kernel's %pGg: composite GFP_* names first (largest first, each
 * used only when all its bits are still unprinted), then the single __GFP_* bits, then
 * any leftover bits as a hex number.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <strings.h>

#include "gfp.h"
#include "nsim.h"

struct gfp_name {
	const char *name;  /* as the kernel spells it */
	unsigned int mask; /* its bits */
};

/* Composite masks, tried in this order when formatting (as the kernel's table orders them). */
static const struct gfp_name gfp_composites[] = {
	{"GFP_TRANSHUGE", GFP_TRANSHUGE},
	{"GFP_TRANSHUGE_LIGHT", GFP_TRANSHUGE_LIGHT},
	{"GFP_HIGHUSER_MOVABLE", GFP_HIGHUSER_MOVABLE},
	{"GFP_HIGHUSER", GFP_HIGHUSER},
	{"GFP_USER", GFP_USER},
	{"GFP_KERNEL_ACCOUNT", GFP_KERNEL_ACCOUNT},
	{"GFP_KERNEL", GFP_KERNEL},
	{"GFP_NOFS", GFP_NOFS},
	{"GFP_ATOMIC", GFP_ATOMIC},
	{"GFP_NOIO", GFP_NOIO},
	{"GFP_NOWAIT", GFP_NOWAIT},
	{"GFP_DMA", GFP_DMA},
	{"GFP_DMA32", GFP_DMA32},
};

static const struct gfp_name gfp_bits[] = {
	{"__GFP_DMA", __GFP_DMA},
	{"__GFP_HIGHMEM", __GFP_HIGHMEM},
	{"__GFP_DMA32", __GFP_DMA32},
	{"__GFP_MOVABLE", __GFP_MOVABLE},
	{"__GFP_RECLAIMABLE", __GFP_RECLAIMABLE},
	{"__GFP_HIGH", __GFP_HIGH},
	{"__GFP_IO", __GFP_IO},
	{"__GFP_FS", __GFP_FS},
	{"__GFP_ZERO", __GFP_ZERO},
	{"__GFP_ATOMIC", __GFP_ATOMIC},
	{"__GFP_DIRECT_RECLAIM", __GFP_DIRECT_RECLAIM},
	{"__GFP_KSWAPD_RECLAIM", __GFP_KSWAPD_RECLAIM},
	{"__GFP_WRITE", __GFP_WRITE},
	{"__GFP_NOWARN", __GFP_NOWARN},
	{"__GFP_RETRY_MAYFAIL", __GFP_RETRY_MAYFAIL},
	{"__GFP_NOFAIL", __GFP_NOFAIL},
	{"__GFP_NORETRY", __GFP_NORETRY},
	{"__GFP_MEMALLOC", __GFP_MEMALLOC},
	{"__GFP_COMP", __GFP_COMP},
	{"__GFP_NOMEMALLOC", __GFP_NOMEMALLOC},
	{"__GFP_HARDWALL", __GFP_HARDWALL},
	{"__GFP_THISNODE", __GFP_THISNODE},
	{"__GFP_ACCOUNT", __GFP_ACCOUNT},
	{"__GFP_ZEROTAGS", __GFP_ZEROTAGS},
	{"__GFP_RECLAIM", __GFP_RECLAIM},
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Compare a token of @len bytes with @name, ignoring case and an absent GFP_/__GFP_ prefix. */
static int token_is(const char *tok, size_t len, const char *name)
{
	const char *bare = name + (name[0] == '_' ? 6 : 4);

	if (strlen(name) == len && !strncasecmp(tok, name, len))
		return 1;
	return strlen(bare) == len && !strncasecmp(tok, bare, len);
}

static int lookup(const char *tok, size_t len, unsigned int *mask)
{
	for (size_t i = 0; i < ARRAY_SIZE(gfp_composites); i++)
		if (token_is(tok, len, gfp_composites[i].name)) {
			*mask = gfp_composites[i].mask;
			return 0;
		}
	for (size_t i = 0; i < ARRAY_SIZE(gfp_bits); i++)
		if (token_is(tok, len, gfp_bits[i].name)) {
			*mask = gfp_bits[i].mask;
			return 0;
		}
	if (isdigit((unsigned char)tok[0])) {
		char buf[32], *end;
		unsigned long v;

		if (len >= sizeof(buf))
			return -EINVAL;
		memcpy(buf, tok, len);
		buf[len] = '\0';
		v = strtoul(buf, &end, 0);
		if (*end || v > __GFP_BITS_MASK)
			return -EINVAL;
		*mask = (unsigned int)v;
		return 0;
	}
	return -EINVAL;
}

int nsim_gfp_parse(const char *s, unsigned int *gfp, const char **bad)
{
	*gfp = 0;
	if (bad)
		*bad = s;
	if (!s || !*s)
		return -EINVAL;
	while (*s) {
		size_t len = strcspn(s, "|");
		unsigned int mask;

		while (len && isspace((unsigned char)*s)) {
			s++;
			len--;
		}
		while (len && isspace((unsigned char)s[len - 1]))
			len--;
		if (!len || lookup(s, len, &mask)) {
			if (bad)
				*bad = s;
			return -EINVAL;
		}
		*gfp |= mask;
		s += strcspn(s, "|");
		if (*s == '|')
			s++;
	}
	return 0;
}

static void append(char *buf, size_t len, size_t *used, const char *name)
{
	int n = snprintf(buf + *used, len > *used ? len - *used : 0, "%s%s", *used ? "|" : "",
			 name);

	if (n > 0)
		*used += (size_t)n;
}

void nsim_gfp_format(unsigned int gfp, char *buf, size_t len)
{
	size_t used = 0;
	unsigned int left = gfp;

	buf[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(gfp_composites); i++) {
		unsigned int m = gfp_composites[i].mask;

		if (m && (left & m) == m) {
			append(buf, len, &used, gfp_composites[i].name);
			left &= ~m;
		}
	}
	for (size_t i = 0; i + 1 < ARRAY_SIZE(gfp_bits); i++) {
		if (left & gfp_bits[i].mask) {
			append(buf, len, &used, gfp_bits[i].name);
			left &= ~gfp_bits[i].mask;
		}
	}
	if (left || !gfp) {
		char hex[16];

		snprintf(hex, sizeof(hex), "%#x", left);
		append(buf, len, &used, hex);
	}
}
