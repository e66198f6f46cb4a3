/*
 * test_layerset.c - interned tunnel layer lists: sharing, references,
 * reuse after release, the bound.
 */
#include <check.h>

#include "layerset.h"

START_TEST(same_list_shares_a_handle)
{
	struct sn_layerset *ls = sn_layerset_create(4, 1);
	const uint32_t a[] = { SN_LAYER_ID(SN_LAYER_VXLAN, 5001) };
	const uint32_t b[] = { SN_LAYER_ID(SN_LAYER_VXLAN, 5002) };
	uint16_t ha = sn_layerset_acquire(ls, a, 1), ha2 = sn_layerset_acquire(ls, a, 1);
	uint16_t hb = sn_layerset_acquire(ls, b, 1);
	ck_assert_uint_ne(ha, SN_LAYERSET_NONE);
	ck_assert_uint_eq(ha, ha2);
	ck_assert_uint_ne(ha, hb);
	const uint32_t *got;
	ck_assert_uint_eq(sn_layerset_get(ls, hb, &got), 1);
	ck_assert_uint_eq(got[0], b[0]);
	ck_assert_uint_eq(sn_layerset_acquire(ls, a, 0), SN_LAYERSET_NONE);
	sn_layerset_destroy(ls);
}
END_TEST

START_TEST(released_entries_are_reused_and_bound_counted)
{
	struct sn_layerset *ls = sn_layerset_create(2, 1);
	uint32_t l[2] = { SN_LAYER_ID(SN_LAYER_VLAN, 20), 0 };
	uint16_t h[3];
	for (uint32_t i = 0; i < 3; i++) {
		l[1] = SN_LAYER_ID(SN_LAYER_MPLS, i);
		h[i] = sn_layerset_acquire(ls, l, 2);
	}
	ck_assert_uint_eq(h[2], SN_LAYERSET_NONE); /* full */
	ck_assert_uint_eq(sn_layerset_full(ls), 1);
	sn_layerset_release(ls, h[0]);
	const uint32_t *got;
	ck_assert_uint_eq(sn_layerset_get(ls, h[0], &got), 0);
	l[1] = SN_LAYER_ID(SN_LAYER_MPLS, 9);
	uint16_t again = sn_layerset_acquire(ls, l, 2);
	ck_assert_uint_eq(again, h[0]);
	ck_assert_uint_eq(sn_layerset_get(ls, again, &got), 2);
	ck_assert_uint_eq(got[1], l[1]);
	/* still finds the other one after the chain changed */
	l[1] = SN_LAYER_ID(SN_LAYER_MPLS, 1);
	ck_assert_uint_eq(sn_layerset_acquire(ls, l, 2), h[1]);
	sn_layerset_destroy(ls);
}
END_TEST

Suite *layerset_suite(void);

Suite *layerset_suite(void)
{
	Suite *s = suite_create("layerset");
	TCase *t = tcase_create("layerset");
	tcase_add_test(t, same_list_shares_a_handle);
	tcase_add_test(t, released_entries_are_reused_and_bound_counted);
	suite_add_tcase(s, t);
	return s;
}
