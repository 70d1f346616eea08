// SPDX-License-Identifier: MIT
/*
 * main.c - the unit-test runner: every suite registered with UNIT_SUITE(), run by CUnit's
 * basic interface. Arguments name suites to run (default: all). Exit status 1 on any
 * failure or registry error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "unit.h"

#define MAX_SUITES 64

static const struct unit_suite *suites[MAX_SUITES];
static int nr_suites;

void unit_register(const struct unit_suite *suite)
{
	if (nr_suites == MAX_SUITES) {
		fprintf(stderr, "unit: too many suites (max %d)\n", MAX_SUITES);
		exit(1);
	}
	suites[nr_suites++] = suite;
}

static int wanted(const char *name, int argc, char **argv)
{
	if (argc < 2)
		return 1;
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], name))
			return 1;
	return 0;
}

static int add_suite(const struct unit_suite *s)
{
	CU_pSuite suite = CU_add_suite(s->name, s->init, s->cleanup);

	if (!suite)
		return -1;
	for (CU_TestInfo *t = s->tests; t->pName; t++)
		if (!CU_add_test(suite, t->pName, t->pTestFunc))
			return -1;
	return 0;
}

int main(int argc, char **argv)
{
	unsigned int failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	for (int i = 0; i < nr_suites; i++) {
		if (!wanted(suites[i]->name, argc, argv))
			continue;
		if (add_suite(suites[i])) {
			fprintf(stderr, "unit: cannot add suite '%s': %s\n", suites[i]->name,
				CU_get_error_msg());
			CU_cleanup_registry();
			return 1;
		}
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	failed += CU_get_number_of_suites_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
