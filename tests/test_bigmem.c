/*
 * test_bigmem.c - sensor/bigmem.c: table memory is zeroed, cache-line
 * aligned (2 MiB aligned when large) and can be freed; sparse memory keeps
 * only the pages touched resident.
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

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

/* Pages of [p, p + n) resident now (mincore). */
static size_t resident_pages(void *p, size_t n)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), pages = (n + page - 1) / page, got = 0;
	unsigned char vec[2048];
	ck_assert_uint_le(pages, sizeof vec);
	ck_assert_int_eq(mincore(p, n, vec), 0);
	for (size_t i = 0; i < pages; i++)
		got += vec[i] & 1;
	return got;
}

/*
 * A sparse table of 8 MiB written at three scattered entries keeps three
 * small pages resident, not three huge ones (the flow table's more
 * entries: a flood touches a few of them).
 */
START_TEST(sparse_keeps_only_touched_pages)
{
	size_t n = (size_t)8 << 20;
	uint8_t *p = sn_bigmem_alloc_sparse(n);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq((uintptr_t)p % 64, 0);
	ck_assert_uint_eq(resident_pages(p, n), 0);
	p[100] = 1;
	p[(size_t)3 << 20] = 2;
	p[n - 1] = 3;
	ck_assert_uint_le(resident_pages(p, n), 3);
	ck_assert_uint_eq(p[101], 0);
	sn_bigmem_free(p, n);
	errno = 0;
	ck_assert_ptr_null(sn_bigmem_alloc_sparse(0));
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

Suite *bigmem_suite(void)
{
	Suite *s = suite_create("bigmem");
	TCase *t = tcase_create("alloc");
	tcase_add_test(t, small_is_zeroed_and_aligned);
	tcase_add_test(t, large_is_huge_page_aligned);
	tcase_add_test(t, zero_and_huge_sizes_fail);
	tcase_add_test(t, sparse_keeps_only_touched_pages);
	suite_add_tcase(s, t);
	return s;
}
