// SPDX-License-Identifier: MIT
/*
 * test_bench_trace.c - the trace line format of --record/--replay (client/bench/trace.c):
 * every operation and policy survives format -> parse unchanged, random ops too, and lines
 * that are not trace lines are refused with a reason. Also the Request built for each op
 * (client/bench/wire.c) carries the same fields.
 */
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "unit.h"

static struct bench_op op_new(uint64_t seq, int conn, enum bench_opcode code)
{
	struct bench_op op;

	memset(&op, 0, sizeof(op));
	op.seq = seq;
	op.conn = conn;
	op.code = code;
	op.node = -1;
	op.status = NUMASIM__STATUS__STATUS_OK;
	op.cache_idx = -1;
	return op;
}

/* The traced fields of two ops are equal. */
static void assert_same(const struct bench_op *a, const struct bench_op *b)
{
	CU_ASSERT_EQUAL(a->seq, b->seq);
	CU_ASSERT_EQUAL(a->conn, b->conn);
	CU_ASSERT_EQUAL(a->code, b->code);
	CU_ASSERT_EQUAL(a->gfp, b->gfp);
	CU_ASSERT_EQUAL(a->order, b->order);
	CU_ASSERT_EQUAL(a->cpu, b->cpu);
	CU_ASSERT_EQUAL(a->node, b->node);
	CU_ASSERT_EQUAL(a->size, b->size);
	CU_ASSERT_EQUAL(a->align, b->align);
	CU_ASSERT_EQUAL(a->flags, b->flags);
	CU_ASSERT_EQUAL(a->policy.mode, b->policy.mode);
	CU_ASSERT_EQUAL(a->policy.preferred, b->policy.preferred);
	CU_ASSERT_EQUAL(a->policy.nodemask, b->policy.nodemask);
	CU_ASSERT_STRING_EQUAL(a->cache, b->cache);
	CU_ASSERT_EQUAL(a->handle, b->handle);
	CU_ASSERT_EQUAL(a->status, b->status);
	CU_ASSERT_EQUAL(a->result, b->result);
}

static void round_trip(const struct bench_op *op, const char *want)
{
	char line[BENCH_TRACE_LINE];
	struct bench_op back;
	const char *why = NULL;

	bench_trace_format(op, line, sizeof(line));
	if (bench_trace_parse(line, &back, &why))
		printf("\nrefused: %s (%s)\n", line, why);
	if (want)
		CU_ASSERT_STRING_EQUAL(line, want);
	CU_ASSERT_EQUAL_FATAL(bench_trace_parse(line, &back, &why), 0);
	assert_same(op, &back);
}

static void test_every_op(void)
{
	struct bench_op op = op_new(12, 0, BENCH_OP_ALLOC_PAGES);

	op.order = 3;
	op.gfp = 0xcc0;
	op.result = 0x1f208;
	round_trip(&op, "12 0 alloc_pages order=3 gfp=GFP_KERNEL cpu=0 policy=local = OK "
			"pfn=0x1f208");
	op = op_new(13, 0, BENCH_OP_FREE_PAGES);
	op.handle = 0x1f208;
	op.order = 3;
	op.cpu = 2;
	round_trip(&op, "13 0 free_pages pfn=0x1f208 order=3 cpu=2 = OK");
	op = op_new(14, 1, BENCH_OP_KMALLOC);
	op.size = 100;
	op.gfp = 0xcc0 | 0x100; /* __GFP_ZERO */
	op.cpu = 1;
	op.result = 0xc1f2a080;
	round_trip(&op, NULL);
	op = op_new(15, 1, BENCH_OP_KFREE);
	op.handle = 0xc1f2a080;
	round_trip(&op, "15 1 kfree addr=0xc1f2a080 cpu=0 = OK");
	op = op_new(1, 4, BENCH_OP_CACHE_CREATE);
	strcpy(op.cache, "bench-192");
	op.size = 192;
	op.align = 64;
	op.flags = 0x2000;
	round_trip(&op, "1 4 cache_create name=bench-192 size=192 align=64 flags=0x2000 = OK");
	op = op_new(16, 2, BENCH_OP_CACHE_ALLOC);
	strcpy(op.cache, "bench-192");
	op.gfp = 0xcc0;
	op.node = 1;
	op.result = 0xc2000040;
	round_trip(&op, "16 2 cache_alloc name=bench-192 gfp=GFP_KERNEL cpu=0 node=1 = OK "
			"addr=0xc2000040");
	op = op_new(17, 2, BENCH_OP_CACHE_FREE);
	strcpy(op.cache, "bench-192");
	op.handle = 0xc2000040;
	round_trip(&op, NULL);
	op = op_new(99, 4, BENCH_OP_CACHE_DESTROY);
	strcpy(op.cache, "bench-192");
	round_trip(&op, "99 4 cache_destroy name=bench-192 = OK");
}

static void test_failures_and_policies(void)
{
	struct bench_op op = op_new(20, 3, BENCH_OP_ALLOC_PAGES);

	op.order = 9;
	op.gfp = 0x100cca;
	op.status = NUMASIM__STATUS__STATUS_ENOMEM;
	op.policy.mode = NUMASIM__POLICY__POLICY_BIND;
	op.policy.nodemask = 0x5;
	round_trip(&op, "20 3 alloc_pages order=9 gfp=GFP_HIGHUSER_MOVABLE cpu=0 policy=bind:0x5 "
			"= ENOMEM");
	op.policy.mode = NUMASIM__POLICY__POLICY_INTERLEAVE;
	op.policy.nodemask = 0xf0;
	round_trip(&op, NULL);
	op.policy.mode = NUMASIM__POLICY__POLICY_PREFERRED;
	op.policy.nodemask = 0;
	op.policy.preferred = 3;
	op.status = NUMASIM__STATUS__STATUS_EINVAL;
	round_trip(&op, NULL);
	op.gfp = 0; /* no flags at all */
	round_trip(&op, NULL);
	op = op_new(21, 0, BENCH_OP_KFREE);
	op.handle = 0xc0000000;
	op.status = NUMASIM__STATUS__STATUS_BAD_PAGE_STATE;
	round_trip(&op, "21 0 kfree addr=0xc0000000 cpu=0 = BAD_PAGE_STATE");
}

/* Random ops of every kind: format and parse agree. */
static void test_random(void)
{
	struct bench_rng r;

	bench_rng_seed(&r, 5);
	for (int i = 0; i < 20000; i++) {
		struct bench_op op = op_new(bench_rng_next(&r) >> 1, (int)bench_rng_below(&r, 1000),
					    (enum bench_opcode)bench_rng_below(&r, NR_BENCH_OPS));

		op.status = (int)bench_rng_below(&r, 14);
		switch (op.code) {
		case BENCH_OP_ALLOC_PAGES:
			op.policy.mode = (Numasim__Policy)bench_rng_below(&r, 4);
			if (op.policy.mode == NUMASIM__POLICY__POLICY_PREFERRED)
				op.policy.preferred = (int)bench_rng_below(&r, 64);
			else if (op.policy.mode != NUMASIM__POLICY__POLICY_LOCAL)
				op.policy.nodemask = bench_rng_next(&r) | 1;
			/* fall through */
		case BENCH_OP_FREE_PAGES:
			op.order = (unsigned int)bench_rng_below(&r, BENCH_NR_ORDERS);
			break;
		case BENCH_OP_KMALLOC:
			op.size = bench_rng_below(&r, 1 << 22);
			break;
		case BENCH_OP_CACHE_CREATE:
			op.size = bench_rng_below(&r, 1 << 20);
			op.align = (uint32_t)bench_rng_below(&r, 4096);
			op.flags = (uint32_t)bench_rng_next(&r);
			break;
		default:
			break;
		}
		if (op.code >= BENCH_OP_CACHE_CREATE)
			snprintf(op.cache, sizeof(op.cache), "c%llu",
				 (unsigned long long)bench_rng_below(&r, 100000));
		if (op.code == BENCH_OP_ALLOC_PAGES || op.code == BENCH_OP_KMALLOC ||
		    op.code == BENCH_OP_CACHE_ALLOC) {
			op.gfp = (unsigned int)bench_rng_below(&r, 1u << 24);
			op.cpu = (int)bench_rng_below(&r, 256);
			if (op.status == NUMASIM__STATUS__STATUS_OK)
				op.result = bench_rng_next(&r) >> 20;
		}
		if (op.code == BENCH_OP_KMALLOC || op.code == BENCH_OP_CACHE_ALLOC)
			op.node = (int)bench_rng_below(&r, 65) - 1;
		if (bench_op_frees(op.code)) {
			op.handle = bench_rng_next(&r) >> 20;
			op.cpu = (int)bench_rng_below(&r, 256);
		}
		round_trip(&op, NULL);
	}
}

static void test_refused(void)
{
	static const char *const bad[] = {
		"x 0 kfree addr=0x1 cpu=0 = OK",
		"1 0 kfree addr=0x1 cpu=0",
		"1 0 kfree addr=0x1 cpu=0 = MAYBE",
		"1 0 kfree addr=0x1 = OK",
		"1 0 kfree addr=0x1 cpu=0 order=1 = OK",
		"1 0 kfree addr=0x1 addr=0x2 cpu=0 = OK",
		"1 0 kfree addr=0x1 cpu=0 = OK extra",
		"1 0 frob addr=0x1 cpu=0 = OK",
		"1 0 alloc_pages order=11 gfp=GFP_KERNEL cpu=0 policy=local = ENOMEM",
		"1 0 alloc_pages order=1 gfp=NOPE cpu=0 policy=local = ENOMEM",
		"1 0 alloc_pages order=1 gfp=GFP_KERNEL cpu=0 policy=bind:0 = ENOMEM",
		"1 0 alloc_pages order=1 gfp=GFP_KERNEL cpu=0 policy=local = OK",
		"1 0 kmalloc size=8 gfp=GFP_KERNEL cpu=0 node=-1 = OK pfn=0x10",
		"1 -1 kfree addr=0x1 cpu=0 = OK",
	};
	struct bench_op op;
	const char *why;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		why = NULL;
		CU_ASSERT_EQUAL(bench_trace_parse(bad[i], &op, &why), -EINVAL);
		CU_ASSERT_PTR_NOT_NULL(why);
	}
	CU_ASSERT_EQUAL(bench_trace_parse("# a comment", &op, NULL), 1);
	CU_ASSERT_EQUAL(bench_trace_parse("   \n", &op, NULL), 1);
	CU_ASSERT_EQUAL(bench_trace_parse(BENCH_TRACE_HEADER, &op, NULL), 1);
	CU_ASSERT_EQUAL(bench_trace_parse("7 3 kfree addr=0x10 cpu=2 = OK\r\n", &op, NULL), 0);
	CU_ASSERT_EQUAL(op.handle, 0x10);
}

static void test_policy_strings(void)
{
	struct bench_policy p;
	char buf[64];

	CU_ASSERT_EQUAL(bench_policy_parse("local", &p), 0);
	CU_ASSERT_EQUAL(p.mode, NUMASIM__POLICY__POLICY_LOCAL);
	CU_ASSERT_EQUAL(bench_policy_parse("preferred:2", &p), 0);
	CU_ASSERT_EQUAL(p.preferred, 2);
	CU_ASSERT_EQUAL(bench_policy_parse("interleave:0x6", &p), 0);
	CU_ASSERT_EQUAL(p.nodemask, 6);
	bench_policy_format(&p, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "interleave:0x6");
	CU_ASSERT_EQUAL(bench_policy_parse("bind:", &p), -EINVAL);
	CU_ASSERT_EQUAL(bench_policy_parse("preferred:x", &p), -EINVAL);
	CU_ASSERT_EQUAL(bench_policy_parse("sometimes", &p), -EINVAL);
}

static void test_wire(void)
{
	struct bench_op op = op_new(1, 0, BENCH_OP_ALLOC_PAGES);
	Numasim__Response resp = NUMASIM__RESPONSE__INIT;
	Numasim__AllocPagesReply ap = NUMASIM__ALLOC_PAGES_REPLY__INIT;
	Numasim__AddrReply addr = NUMASIM__ADDR_REPLY__INIT;
	struct bench_wire w;

	op.order = 2;
	op.gfp = 0xcc0;
	op.cpu = 3;
	op.policy.mode = NUMASIM__POLICY__POLICY_BIND;
	op.policy.nodemask = 3;
	bench_wire_request(&w, &op);
	CU_ASSERT_EQUAL(w.req.body_case, NUMASIM__REQUEST__BODY_ALLOC_PAGES);
	CU_ASSERT_EQUAL(w.req.alloc_pages->order, 2);
	CU_ASSERT_EQUAL(w.req.alloc_pages->cpu, 3);
	CU_ASSERT_EQUAL(w.req.alloc_pages->nodemask, 3);
	ap.pfn = 0x400;
	resp.body_case = NUMASIM__RESPONSE__BODY_ALLOC_PAGES;
	resp.alloc_pages = &ap;
	CU_ASSERT_EQUAL(bench_wire_result(&op, &resp), 0);
	CU_ASSERT_EQUAL(op.result, 0x400);
	CU_ASSERT_EQUAL(op.result_size, 4 * 4096);

	op = op_new(2, 0, BENCH_OP_CACHE_FREE);
	strcpy(op.cache, "bench-64");
	op.handle = 0xc0001000;
	bench_wire_request(&w, &op);
	CU_ASSERT_EQUAL(w.req.body_case, NUMASIM__REQUEST__BODY_CACHE_FREE);
	CU_ASSERT_STRING_EQUAL(w.req.cache_free->name, "bench-64");
	CU_ASSERT_EQUAL(w.req.cache_free->addr, 0xc0001000);

	op = op_new(3, 0, BENCH_OP_KMALLOC);
	resp.body_case = NUMASIM__RESPONSE__BODY_ALLOC_PAGES; /* the wrong body */
	CU_ASSERT_EQUAL(bench_wire_result(&op, &resp), -EPROTO);
	addr.addr = 0xc0002000;
	addr.size = 128;
	resp.body_case = NUMASIM__RESPONSE__BODY_ADDR;
	resp.addr = &addr;
	CU_ASSERT_EQUAL(bench_wire_result(&op, &resp), 0);
	CU_ASSERT_EQUAL(op.result_size, 128);
	resp.status = NUMASIM__STATUS__STATUS_ENOMEM;
	CU_ASSERT_EQUAL(bench_wire_result(&op, &resp), 0);
	CU_ASSERT_EQUAL(op.status, NUMASIM__STATUS__STATUS_ENOMEM);
	CU_ASSERT_EQUAL(op.result, 0);
}

static CU_TestInfo tests[] = {
	{"every_op", test_every_op},
	{"failures_and_policies", test_failures_and_policies},
	{"random", test_random},
	{"refused", test_refused},
	{"policy_strings", test_policy_strings},
	{"wire", test_wire},
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("bench_trace", NULL, NULL, tests);
