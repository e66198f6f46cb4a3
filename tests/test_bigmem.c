/*
 * test_bigmem.c - sensor/bigmem.c: table memory is zeroed, cache-line
 * aligned (2 MiB aligned when large) and can be freed.
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>

#include "bigmem.h"

Suite *bigmem_suite(void);

START_TEST(small_is_zeroed_and_aligned)
{
	size_t n = 1000;
	uint8_t *p = sn_bigmem_alloc(n);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq((uintptr_t)p % 64, 0);
	for (size_t i = 0; i < n; i++)
		ck_assert_uint_eq(p[i], 0);
	p[n - 1] = 1;
	sn_bigmem_free(p, n);
}
END_TEST

START_TEST(large_is_huge_page_aligned)
{
	size_t n = (size_t)5 << 20;
	uint8_t *p = sn_bigmem_alloc(n);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq((uintptr_t)p % ((size_t)2 << 20), 0);
	ck_assert_uint_eq(p[0], 0);
	ck_assert_uint_eq(p[n - 1], 0);
	p[0] = p[n - 1] = 0xff;
	sn_bigmem_free(p, n);
}
END_TEST

START_TEST(zero_and_huge_sizes_fail)
{
	errno = 0;
	ck_assert_ptr_null(sn_bigmem_alloc(0));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_null(sn_bigmem_alloc(SIZE_MAX));
	ck_assert_int_eq(errno, ENOMEM);
	sn_bigmem_free(NULL, 10);
}
END_TEST

Suite *bigmem_suite(void)
{
	Suite *s = suite_create("bigmem");
	TCase *t = tcase_create("alloc");
	tcase_add_test(t, small_is_zeroed_and_aligned);
	tcase_add_test(t, large_is_huge_page_aligned);
	tcase_add_test(t, zero_and_huge_sizes_fail);
	suite_add_tcase(s, t);
	return s;
}
