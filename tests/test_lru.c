/*
 * test_lru.c - sensor/lru.h: the one LRU list of the flow table and the
 * groups, over a 0-based table with UINT32_MAX as "none" (the flow table's
 * layout) and a 1-based one with 0 as "none" (the groups').
 */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "lru.h"

Suite *lru_suite(void);

struct entry {
	uint64_t payload;
	struct sn_lru_link link;
	uint8_t pad[5];
};

static struct entry table[8];

static struct sn_lru_nodes nodes(uint32_t first, uint32_t nil)
{
	return (struct sn_lru_nodes){ .base = (char *)table, .stride = sizeof table[0],
				      .offset = offsetof(struct entry, link), .first = first,
				      .nil = nil };
}

/* The list from head to tail, then checked backwards from tail to head. */
static void assert_order(const struct sn_lru *l, struct sn_lru_nodes n, const uint32_t *want,
			 uint32_t count)
{
	uint32_t got[8], k = 0;
	for (uint32_t i = l->head; i != n.nil; i = sn_lru_at(n, i)->next) {
		ck_assert_uint_lt(k, 8);
		got[k++] = i;
	}
	ck_assert_uint_eq(k, count);
	ck_assert_uint_eq(l->count, count);
	for (uint32_t j = 0; j < count; j++)
		ck_assert_uint_eq(got[j], want[j]);
	uint32_t i = l->tail;
	for (uint32_t j = count; j-- > 0; i = sn_lru_at(n, i)->prev)
		ck_assert_uint_eq(i, want[j]);
	ck_assert_uint_eq(i, n.nil);
}

static void exercise(uint32_t first, uint32_t nil)
{
	struct sn_lru a, b;
	struct sn_lru_nodes n = nodes(first, nil);
	memset(table, 0xa5, sizeof table);
	sn_lru_init(&a, n);
	sn_lru_init(&b, n);
	assert_order(&a, n, NULL, 0);
	for (uint32_t i = first; i < first + 4; i++)
		sn_lru_append(&a, n, i);
	uint32_t w1[] = { first, first + 1, first + 2, first + 3 };
	assert_order(&a, n, w1, 4);
	sn_lru_move(&a, &a, n, first + 1); /* used: to the tail */
	uint32_t w2[] = { first, first + 2, first + 3, first + 1 };
	assert_order(&a, n, w2, 4);
	sn_lru_move(&a, &a, n, first + 1); /* already the tail: nothing moves */
	assert_order(&a, n, w2, 4);
	sn_lru_touch(&a, n, first + 1); /* touch of the tail: nothing moves */
	assert_order(&a, n, w2, 4);
	sn_lru_touch(&a, n, first + 2); /* touch of the middle */
	uint32_t t1[] = { first, first + 3, first + 1, first + 2 };
	assert_order(&a, n, t1, 4);
	sn_lru_touch(&a, n, first); /* touch of the head */
	uint32_t t2[] = { first + 3, first + 1, first + 2, first };
	assert_order(&a, n, t2, 4);
	sn_lru_touch(&a, n, first + 3); /* and back to the order of w2 */
	sn_lru_touch(&a, n, first + 1);
	uint32_t t3[] = { first + 2, first, first + 3, first + 1 };
	assert_order(&a, n, t3, 4);
	sn_lru_touch(&a, n, first + 2);
	sn_lru_touch(&a, n, first + 3);
	sn_lru_touch(&a, n, first + 1);
	assert_order(&a, n, w2, 4);
	sn_lru_move(&a, &b, n, first); /* to another list */
	uint32_t w3[] = { first + 2, first + 3, first + 1 }, w4[] = { first };
	assert_order(&a, n, w3, 3);
	assert_order(&b, n, w4, 1);
	sn_lru_unlink(&a, n, first + 3); /* the middle */
	sn_lru_unlink(&a, n, first + 2); /* the head */
	uint32_t w5[] = { first + 1 };
	assert_order(&a, n, w5, 1);
	sn_lru_unlink(&a, n, first + 1); /* the last one */
	assert_order(&a, n, NULL, 0);
	for (uint32_t i = first; i < first + 3; i++)
		sn_lru_append(&a, n, i);
	sn_lru_unlink_head(&a, n, first); /* the head of three: the next one heads */
	uint32_t h1[] = { first + 1, first + 2 };
	assert_order(&a, n, h1, 2);
	sn_lru_unlink_head(&a, n, first + 1);
	uint32_t h2[] = { first + 2 };
	assert_order(&a, n, h2, 1);
	sn_lru_unlink_head(&a, n, first + 2); /* the only one: the list is empty */
	assert_order(&a, n, NULL, 0);
	sn_lru_append(&a, n, first + 2); /* and usable again */
	assert_order(&a, n, h2, 1);
	ck_assert_uint_eq(table[0].payload, 0xa5a5a5a5a5a5a5a5ULL); /* only links written */
}

START_TEST(zero_based_max_is_none)
{
	exercise(0, UINT32_MAX);
}
END_TEST

START_TEST(one_based_zero_is_none)
{
	exercise(1, 0);
}
END_TEST

Suite *lru_suite(void)
{
	Suite *s = suite_create("lru");
	TCase *t = tcase_create("lru");
	tcase_add_test(t, zero_based_max_is_none);
	tcase_add_test(t, one_based_zero_is_none);
	suite_add_tcase(s, t);
	return s;
}
