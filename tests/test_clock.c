/*
 * test_clock.c - sensor/clock.c: the wall clock agrees with time(2) in
 * microseconds, and hash seeds are not a constant.
 */
#include <check.h>
#include <time.h>

#include "clock.h"

Suite *clock_suite(void);

START_TEST(wall_clock_is_microseconds_since_epoch)
{
	time_t before = time(NULL);
	uint64_t us = sn_wall_clock_us();
	time_t after = time(NULL);
	ck_assert_uint_ge(us / SN_US_PER_S, (uint64_t)before);
	ck_assert_uint_le(us / SN_US_PER_S, (uint64_t)after);
}
END_TEST

START_TEST(seeds_differ)
{
	/* 64 random bits: four equal draws in a row would mean no randomness */
	uint64_t first = sn_random_seed();
	int same = 0;
	for (int i = 0; i < 4; i++)
		same += sn_random_seed() == first;
	ck_assert_int_lt(same, 4);
}
END_TEST

Suite *clock_suite(void)
{
	Suite *s = suite_create("clock");
	TCase *t = tcase_create("clock");
	tcase_add_test(t, wall_clock_is_microseconds_since_epoch);
	tcase_add_test(t, seeds_differ);
	suite_add_tcase(s, t);
	return s;
}
