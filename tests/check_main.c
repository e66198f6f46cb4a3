/*
 * check_main.c - runs every unit-test suite (one per source file).
 *
 * build/tests/suites.h is generated from tests/test_*.c: each file
 * tests/test_NAME.c defines `Suite *NAME_suite(void)`.  SN_TEST_PCAPS names
 * the folder of test captures (default "pcaps").
 */
#include <check.h>
#include <stdlib.h>

#define SN_SUITE(name) Suite *name##_suite(void);
#include "suites.h"
#undef SN_SUITE

int main(void)
{
	SRunner *sr = srunner_create(NULL);
#define SN_SUITE(name) srunner_add_suite(sr, name##_suite());
#include "suites.h"
#undef SN_SUITE
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
