/*
 * test_beacon.c - sensor/beacon.c: median gap, jitter (median absolute
 * deviation over the median), the minimum number of gaps and the jitter
 * threshold, starts in any order.
 */
#include <check.h>
#include <string.h>

#include "beacon.h"

#define S 1000000ull

START_TEST(test_regular_sixty_seconds)
{
	/* every 60 s +- 1 s: gaps 61, 59, 60, 61, 59 -> median 60, MAD 1 -> 1/60 */
	uint64_t t[] = { 0, 61 * S, 120 * S, 180 * S, 241 * S, 300 * S };
	struct sn_beacon b;

	ck_assert(sn_beacon_measure(t, 6, 4, 10, &b));
	ck_assert_uint_eq(b.samples, 5);
	ck_assert_uint_eq(b.interval_ms, 60000);
	ck_assert_uint_eq(b.jitter_milli, 16); /* 1000/60 */
}
END_TEST

START_TEST(test_any_order)
{
	uint64_t t[] = { 241 * S, 0, 180 * S, 61 * S, 300 * S, 120 * S };
	struct sn_beacon b;

	ck_assert(sn_beacon_measure(t, 6, 4, 10, &b));
	ck_assert_uint_eq(b.interval_ms, 60000);
}
END_TEST

START_TEST(test_too_few_gaps)
{
	uint64_t t[] = { 0, 60 * S, 120 * S, 180 * S };
	struct sn_beacon b;

	ck_assert(!sn_beacon_measure(t, 4, 4, 10, &b)); /* 3 gaps */
	ck_assert_uint_eq(b.samples, 0);
	ck_assert(sn_beacon_measure(t, 4, 3, 10, &b));
}
END_TEST

START_TEST(test_random_gaps)
{
	/* gaps 5, 200, 17, 90, 41, 300: median 65.5, MAD far above 10 % */
	uint64_t t[] = { 0, 5 * S, 205 * S, 222 * S, 312 * S, 353 * S, 653 * S };
	struct sn_beacon b;

	ck_assert(!sn_beacon_measure(t, 7, 4, 10, &b));
	ck_assert(sn_beacon_measure(t, 7, 4, 100, &b)); /* anything goes at 100 % */
}
END_TEST

START_TEST(test_threshold_edge)
{
	/* gaps 100, 110, 90, 100, 110: median 100, deviations 0,10,10,0,10 -> MAD 10 = 10 % */
	uint64_t t[] = { 0, 100 * S, 210 * S, 300 * S, 400 * S, 510 * S };
	struct sn_beacon b;

	ck_assert(sn_beacon_measure(t, 6, 4, 10, &b));
	ck_assert_uint_eq(b.jitter_milli, 100);
	ck_assert(!sn_beacon_measure(t, 6, 4, 9, &b));
}
END_TEST

START_TEST(test_burst_is_not_a_beacon)
{
	uint64_t t[] = { 5, 5, 5, 5, 5, 5 };
	struct sn_beacon b;

	ck_assert(!sn_beacon_measure(t, 6, 4, 10, &b));
}
END_TEST

/* Measured with no threshold, then judged: the same verdicts as measuring with them. */
START_TEST(test_regular_after_measure)
{
	uint64_t t[] = { 0, 61 * S, 120 * S, 180 * S, 241 * S, 300 * S };
	uint64_t r[] = { 0, 5 * S, 205 * S, 222 * S, 312 * S, 353 * S };
	struct sn_beacon b;

	ck_assert(sn_beacon_measure(t, 6, 1, 100, &b));
	ck_assert(sn_beacon_regular(&b, 4, 10));
	ck_assert(sn_beacon_regular(&b, 5, 10));
	ck_assert(!sn_beacon_regular(&b, 6, 10)); /* 5 gaps */
	ck_assert(!sn_beacon_regular(&b, 4, 1));  /* jitter 1.6 % */
	ck_assert(sn_beacon_measure(r, 6, 1, 100, &b));
	ck_assert(!sn_beacon_regular(&b, 4, 10));
	ck_assert(!sn_beacon_measure(r, 6, 4, 10, &b));
	memset(&b, 0, sizeof b);
	ck_assert(!sn_beacon_regular(&b, 0, 100)); /* nothing measured */
}
END_TEST

Suite *beacon_suite(void);

Suite *beacon_suite(void)
{
	Suite *s = suite_create("beacon");
	TCase *t = tcase_create("beacon");

	tcase_add_test(t, test_regular_sixty_seconds);
	tcase_add_test(t, test_any_order);
	tcase_add_test(t, test_too_few_gaps);
	tcase_add_test(t, test_random_gaps);
	tcase_add_test(t, test_threshold_edge);
	tcase_add_test(t, test_burst_is_not_a_beacon);
	tcase_add_test(t, test_regular_after_measure);
	suite_add_tcase(s, t);
	return s;
}
