// SPDX-License-Identifier: MIT
/*
 * trace.c - an operation as one line of text, for --record and --replay.
 *
 *   SEQ CONN OP KEY=VALUE... = STATUS [RESULT]
 *
 *   1 4 cache_create name=bench-192 size=192 align=0 flags=0 = OK
 *   2 0 alloc_pages order=3 gfp=GFP_KERNEL cpu=0 policy=local = OK pfn=0x1f208
 *   3 1 kmalloc size=100 gfp=GFP_KERNEL cpu=1 node=-1 = OK addr=0xc1f2a080
 *   4 0 free_pages pfn=0x1f208 order=3 cpu=0 = OK
 *   5 2 alloc_pages order=9 gfp=GFP_KERNEL cpu=0 policy=bind:0x1 = ENOMEM
 *
 * SEQ orders the whole trace (an answer is recorded before anything that depends on it is
 * sent, so SEQ order respects every alloc -> free dependency); CONN is the connection that
 * sent it. A free names the pfn or address the recorded allocation returned: the replay maps
 * it to what its own allocation returned. gfp masks are written as the kernel's %pGg names,
 * statuses by name. Lines starting with '#' are comments.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "net.h"
#include "nsim.h"

static const char *const op_names[NR_BENCH_OPS] = {
	[BENCH_OP_ALLOC_PAGES] = "alloc_pages",	  [BENCH_OP_FREE_PAGES] = "free_pages",
	[BENCH_OP_KMALLOC] = "kmalloc",		  [BENCH_OP_KFREE] = "kfree",
	[BENCH_OP_CACHE_CREATE] = "cache_create", [BENCH_OP_CACHE_ALLOC] = "cache_alloc",
	[BENCH_OP_CACHE_FREE] = "cache_free",	  [BENCH_OP_CACHE_DESTROY] = "cache_destroy",
};

const char *bench_op_name(enum bench_opcode code)
{
	return (unsigned int)code < NR_BENCH_OPS ? op_names[code] : "?";
}

bool bench_op_allocates(enum bench_opcode code)
{
	return code == BENCH_OP_ALLOC_PAGES || code == BENCH_OP_KMALLOC ||
	       code == BENCH_OP_CACHE_ALLOC;
}

bool bench_op_frees(enum bench_opcode code)
{
	return code == BENCH_OP_FREE_PAGES || code == BENCH_OP_KFREE || code == BENCH_OP_CACHE_FREE;
}

const char *bench_status_name(int status)
{
	return status < 0 ? "NONE" : nsim_status_name((Numasim__Status)status);
}

static int status_parse(const char *s)
{
	for (int i = 0; i < BENCH_NR_STATUS; i++)
		if (!strcmp(s, nsim_status_name((Numasim__Status)i)))
			return i;
	return -1;
}

/* ------------------------------------------------------------------ policies */

void bench_policy_format(const struct bench_policy *p, char *buf, size_t len)
{
	switch (p->mode) {
	case NUMASIM__POLICY__POLICY_PREFERRED:
		snprintf(buf, len, "preferred:%d", p->preferred);
		break;
	case NUMASIM__POLICY__POLICY_BIND:
		snprintf(buf, len, "bind:%#" PRIx64, p->nodemask);
		break;
	case NUMASIM__POLICY__POLICY_INTERLEAVE:
		snprintf(buf, len, "interleave:%#" PRIx64, p->nodemask);
		break;
	default:
		snprintf(buf, len, "local");
	}
}

int bench_policy_parse(const char *s, struct bench_policy *p)
{
	char *end;
	long v;

	memset(p, 0, sizeof(*p));
	if (!strcmp(s, "local")) {
		p->mode = NUMASIM__POLICY__POLICY_LOCAL;
		return 0;
	}
	if (!strncmp(s, "preferred:", 10)) {
		if (nsim_parse_long(s + 10, 0, BENCH_MAX_NODES - 1, &v))
			return -EINVAL;
		p->mode = NUMASIM__POLICY__POLICY_PREFERRED;
		p->preferred = (int)v;
		return 0;
	}
	if (!strncmp(s, "bind:", 5))
		p->mode = NUMASIM__POLICY__POLICY_BIND;
	else if (!strncmp(s, "interleave:", 11))
		p->mode = NUMASIM__POLICY__POLICY_INTERLEAVE;
	else
		return -EINVAL;
	s = strchr(s, ':') + 1;
	errno = 0;
	p->nodemask = strtoull(s, &end, 0);
	if (errno || end == s || *end || !p->nodemask)
		return -EINVAL;
	return 0;
}

/* ------------------------------------------------------------------ format */

struct out {
	char *buf;  /* destination */
	size_t len; /* its size */
	size_t off; /* characters produced (may exceed len, as snprintf) */
};

static void __attribute__((format(printf, 2, 3))) put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(o->off < o->len ? o->buf + o->off : NULL,
		      o->off < o->len ? o->len - o->off : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->off += (size_t)n;
}

static void put_gfp(struct out *o, unsigned int gfp)
{
	char name[640]; /* every flag by name */

	nsim_gfp_format(gfp, name, sizeof(name));
	put(o, " gfp=%s", name);
}

static void put_args(struct out *o, const struct bench_op *op)
{
	char pol[64];

	switch (op->code) {
	case BENCH_OP_ALLOC_PAGES:
		bench_policy_format(&op->policy, pol, sizeof(pol));
		put(o, " order=%u", op->order);
		put_gfp(o, op->gfp);
		put(o, " cpu=%d policy=%s", op->cpu, pol);
		break;
	case BENCH_OP_FREE_PAGES:
		put(o, " pfn=%#" PRIx64 " order=%u cpu=%d", op->handle, op->order, op->cpu);
		break;
	case BENCH_OP_KMALLOC:
		put(o, " size=%" PRIu64, op->size);
		put_gfp(o, op->gfp);
		put(o, " cpu=%d node=%d", op->cpu, op->node);
		break;
	case BENCH_OP_KFREE:
		put(o, " addr=%#" PRIx64 " cpu=%d", op->handle, op->cpu);
		break;
	case BENCH_OP_CACHE_CREATE:
		put(o, " name=%s size=%" PRIu64 " align=%u flags=%#x", op->cache, op->size,
		    op->align, op->flags);
		break;
	case BENCH_OP_CACHE_ALLOC:
		put(o, " name=%s", op->cache);
		put_gfp(o, op->gfp);
		put(o, " cpu=%d node=%d", op->cpu, op->node);
		break;
	case BENCH_OP_CACHE_FREE:
		put(o, " name=%s addr=%#" PRIx64 " cpu=%d", op->cache, op->handle, op->cpu);
		break;
	case BENCH_OP_CACHE_DESTROY:
		put(o, " name=%s", op->cache);
		break;
	default:
		break;
	}
}

int bench_trace_format(const struct bench_op *op, char *buf, size_t len)
{
	struct out o = {buf, len, 0};

	if (len)
		buf[0] = '\0';
	put(&o, "%" PRIu64 " %d %s", op->seq, op->conn, bench_op_name(op->code));
	put_args(&o, op);
	put(&o, " = %s", bench_status_name(op->status));
	if (op->status == NUMASIM__STATUS__STATUS_OK && bench_op_allocates(op->code))
		put(&o, op->code == BENCH_OP_ALLOC_PAGES ? " pfn=%#" PRIx64 : " addr=%#" PRIx64,
		    op->result);
	return (int)o.off;
}

/* ------------------------------------------------------------------ parse */

enum {
	K_ORDER = 1 << 0,
	K_GFP = 1 << 1,
	K_CPU = 1 << 2,
	K_POLICY = 1 << 3,
	K_PFN = 1 << 4,
	K_ADDR = 1 << 5,
	K_SIZE = 1 << 6,
	K_NODE = 1 << 7,
	K_NAME = 1 << 8,
	K_ALIGN = 1 << 9,
	K_FLAGS = 1 << 10,
};

/* The keys each op must carry (and may carry: no others). */
static const unsigned int op_keys[NR_BENCH_OPS] = {
	[BENCH_OP_ALLOC_PAGES] = K_ORDER | K_GFP | K_CPU | K_POLICY,
	[BENCH_OP_FREE_PAGES] = K_PFN | K_ORDER | K_CPU,
	[BENCH_OP_KMALLOC] = K_SIZE | K_GFP | K_CPU | K_NODE,
	[BENCH_OP_KFREE] = K_ADDR | K_CPU,
	[BENCH_OP_CACHE_CREATE] = K_NAME | K_SIZE | K_ALIGN | K_FLAGS,
	[BENCH_OP_CACHE_ALLOC] = K_NAME | K_GFP | K_CPU | K_NODE,
	[BENCH_OP_CACHE_FREE] = K_NAME | K_ADDR | K_CPU,
	[BENCH_OP_CACHE_DESTROY] = K_NAME,
};

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || end == s || *end || *s == '-' ? -EINVAL : 0;
}

static int parse_int(const char *s, long min, long max, int *v)
{
	long l;

	if (nsim_parse_long(s, min, max, &l)) {
		char *end;

		errno = 0; /* nsim_parse_long takes no sign: accept -1 (node) here */
		l = strtol(s, &end, 10);
		if (errno || end == s || *end || l < min || l > max)
			return -EINVAL;
	}
	*v = (int)l;
	return 0;
}

/* One KEY=VALUE argument into @op; the key's bit, or 0 if it does not parse. */
static unsigned int parse_arg(char *tok, struct bench_op *op)
{
	char *val = strchr(tok, '=');
	uint64_t u;
	int i;

	if (!val)
		return 0;
	*val++ = '\0';
	if (!strcmp(tok, "order")) {
		if (parse_int(val, 0, BENCH_NR_ORDERS - 1, &i))
			return 0;
		op->order = (unsigned int)i;
		return K_ORDER;
	}
	if (!strcmp(tok, "gfp"))
		return nsim_gfp_parse(val, &op->gfp, NULL) ? 0 : K_GFP;
	if (!strcmp(tok, "cpu"))
		return parse_int(val, 0, 65535, &op->cpu) ? 0 : K_CPU;
	if (!strcmp(tok, "node"))
		return parse_int(val, -1, BENCH_MAX_NODES - 1, &op->node) ? 0 : K_NODE;
	if (!strcmp(tok, "policy"))
		return bench_policy_parse(val, &op->policy) ? 0 : K_POLICY;
	if (!strcmp(tok, "pfn"))
		return parse_u64(val, &op->handle) ? 0 : K_PFN;
	if (!strcmp(tok, "addr"))
		return parse_u64(val, &op->handle) ? 0 : K_ADDR;
	if (!strcmp(tok, "size"))
		return parse_u64(val, &op->size) ? 0 : K_SIZE;
	if (!strcmp(tok, "align") || !strcmp(tok, "flags")) {
		if (parse_u64(val, &u) || u > UINT32_MAX)
			return 0;
		if (tok[0] == 'a') {
			op->align = (uint32_t)u;
			return K_ALIGN;
		}
		op->flags = (uint32_t)u;
		return K_FLAGS;
	}
	if (!strcmp(tok, "name")) {
		if (!*val || strlen(val) >= sizeof(op->cache))
			return 0;
		strcpy(op->cache, val);
		return K_NAME;
	}
	return 0;
}

static int parse_opcode(const char *s)
{
	for (int i = 0; i < NR_BENCH_OPS; i++)
		if (!strcmp(s, op_names[i]))
			return i;
	return -1;
}

/* "= STATUS [pfn=|addr=RESULT]" after the arguments. */
static int parse_answer(char **save, struct bench_op *op, const char **why)
{
	char *tok = strtok_r(NULL, " \t\r\n", save), *val;

	op->status = tok ? status_parse(tok) : -1;
	if (op->status < 0) {
		*why = "bad status";
		return -EINVAL;
	}
	tok = strtok_r(NULL, " \t\r\n", save);
	if (op->status == NUMASIM__STATUS__STATUS_OK && bench_op_allocates(op->code)) {
		const char *key = op->code == BENCH_OP_ALLOC_PAGES ? "pfn=" : "addr=";

		if (!tok || strncmp(tok, key, strlen(key))) {
			*why = "missing result";
			return -EINVAL;
		}
		val = tok + strlen(key);
		if (parse_u64(val, &op->result)) {
			*why = "bad result";
			return -EINVAL;
		}
		tok = strtok_r(NULL, " \t\r\n", save);
	}
	if (tok) {
		*why = "trailing text";
		return -EINVAL;
	}
	return 0;
}

int bench_trace_parse(const char *line, struct bench_op *op, const char **why)
{
	char buf[BENCH_TRACE_LINE], *save = NULL, *tok;
	const char *dummy;
	unsigned int keys = 0, k;
	int code;

	if (!why)
		why = &dummy;
	line += strspn(line, " \t");
	if (!*line || *line == '#' || *line == '\n' || *line == '\r')
		return 1;
	memset(op, 0, sizeof(*op));
	op->node = -1;
	op->status = -1;
	op->cache_idx = -1;
	if (strlen(line) >= sizeof(buf)) {
		*why = "line too long";
		return -EINVAL;
	}
	strcpy(buf, line);
	tok = strtok_r(buf, " \t\r\n", &save);
	*why = "bad sequence number";
	if (!tok || parse_u64(tok, &op->seq))
		return -EINVAL;
	tok = strtok_r(NULL, " \t\r\n", &save);
	*why = "bad connection";
	if (!tok || parse_int(tok, 0, INT32_MAX, &op->conn))
		return -EINVAL;
	tok = strtok_r(NULL, " \t\r\n", &save);
	code = tok ? parse_opcode(tok) : -1;
	*why = "unknown operation";
	if (code < 0)
		return -EINVAL;
	op->code = (enum bench_opcode)code;
	while ((tok = strtok_r(NULL, " \t\r\n", &save)) && strcmp(tok, "=")) {
		k = parse_arg(tok, op);
		*why = "bad argument";
		if (!k || (keys & k) || !(op_keys[code] & k))
			return -EINVAL;
		keys |= k;
	}
	*why = "missing argument";
	if (keys != op_keys[code])
		return -EINVAL;
	*why = "missing '= STATUS'";
	if (!tok)
		return -EINVAL;
	return parse_answer(&save, op, why);
}
