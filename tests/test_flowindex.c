/*
 * test_flowindex.c - sensor/flowindex.c: the flow table's hash index.
 *
 * Hashes are chosen by hand here, so that keys can be made to share a home
 * group or a tag, to overflow into later groups and to wrap around the end
 * of the table; a long random churn is checked against a plain list.
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "flowindex.h"

Suite *flowindex_suite(void);

/* group g, tag t: the index takes the group from the low bits, the tag from the top 16 */
static uint64_t H(uint32_t g, uint16_t t)
{
	return (uint64_t)t << 48 | g;
}

/* Every flow the index offers for hash h, up to cap. */
static size_t candidates(const struct sn_flowindex *x, uint64_t h, uint32_t *out, size_t cap)
{
	struct sn_flowindex_probe pr;
	size_t n = 0;
	uint32_t f;
	sn_flowindex_probe_start(x, h, &pr);
	while (n < cap && (f = sn_flowindex_probe_next(x, &pr)) != SN_FLOWINDEX_NONE)
		out[n++] = f;
	return n;
}

static bool offers(const struct sn_flowindex *x, uint64_t h, uint32_t flow)
{
	uint32_t c[64];
	size_t n = candidates(x, h, c, 64);
	for (size_t k = 0; k < n; k++)
		if (c[k] == flow)
			return true;
	return false;
}

static uint32_t total_overflow(const struct sn_flowindex *x)
{
	uint32_t sum = 0;
	for (uint32_t g = 0; g <= x->mask; g++)
		sum += x->groups[g].overflow;
	return sum;
}

START_TEST(init_sizes)
{
	struct sn_flowindex x;
	ck_assert_int_eq(sn_flowindex_init(&x, 0), -EINVAL);
	sn_flowindex_free(&x);
	ck_assert_int_eq(sn_flowindex_init(&x, 1), 0);
	ck_assert_uint_eq(x.mask, 0);
	ck_assert_uint_eq(sn_flowindex_bytes(&x), 64);
	sn_flowindex_free(&x);
	/* 262144 flows: 65536 groups, a load of 40% */
	ck_assert_int_eq(sn_flowindex_init(&x, 262144), 0);
	ck_assert_uint_eq(x.mask + 1, 65536);
	ck_assert_uint_eq((uintptr_t)x.groups % 64, 0);
	ck_assert_uint_le((uint64_t)262144 * 8, (uint64_t)(x.mask + 1) * SN_FLOWINDEX_SLOTS * 5);
	sn_flowindex_free(&x);
}
END_TEST

START_TEST(insert_find_remove)
{
	struct sn_flowindex x;
	ck_assert_int_eq(sn_flowindex_init(&x, 64), 0);
	ck_assert(!offers(&x, H(3, 7), 5));
	ck_assert_int_eq(sn_flowindex_insert(&x, H(3, 7), 5), 0);
	ck_assert_uint_eq(x.count, 1);
	ck_assert(offers(&x, H(3, 7), 5));
	/* same group, other tag: not offered; same tag, other group: not offered */
	ck_assert(!offers(&x, H(3, 8), 5));
	ck_assert(!offers(&x, H(4, 7), 5));
	ck_assert_ptr_eq(sn_flowindex_home(&x, H(3, 7)), &x.groups[3]);
	ck_assert(sn_flowindex_remove(&x, H(3, 7), 5));
	ck_assert(!offers(&x, H(3, 7), 5));
	ck_assert_uint_eq(x.count, 0);
	sn_flowindex_free(&x);
}
END_TEST

START_TEST(tag_zero_is_not_empty)
{
	struct sn_flowindex x;
	ck_assert_int_eq(sn_flowindex_init(&x, 16), 0);
	ck_assert_int_eq(sn_flowindex_insert(&x, H(1, 0), 9), 0);
	ck_assert(offers(&x, H(1, 0), 9));
	ck_assert_uint_eq(x.count, 1);
	ck_assert(sn_flowindex_remove(&x, H(1, 0), 9));
	sn_flowindex_free(&x);
}
END_TEST

START_TEST(shared_tag_offers_all_candidates)
{
	struct sn_flowindex x;
	uint32_t c[16];
	ck_assert_int_eq(sn_flowindex_init(&x, 64), 0);
	for (uint32_t f = 0; f < 4; f++)
		ck_assert_int_eq(sn_flowindex_insert(&x, H(2, 42), f), 0);
	ck_assert_int_eq(sn_flowindex_insert(&x, H(2, 43), 99), 0);
	ck_assert_uint_eq(candidates(&x, H(2, 42), c, 16), 4);
	ck_assert_uint_eq(candidates(&x, H(2, 43), c, 16), 1);
	ck_assert_uint_eq(c[0], 99);
	sn_flowindex_free(&x);
}
END_TEST

/*
 * Tags are compared four to a word: in a full group, each of the ten slots
 * is offered for its own tag only, whatever tags its neighbours hold (tags
 * one bit apart at the top and bottom of the lane, all-ones, and one equal
 * to a lane of the overflow count that follows the tags).
 */
START_TEST(every_slot_matches_only_its_tag)
{
	static const uint16_t tags[SN_FLOWINDEX_SLOTS] = { 0x0001, 0x8001, 0x7fff, 0xffff, 0x8000,
							   0x0100, 0x0101, 0xfffe, 0x4000, 0x0003 };
	struct sn_flowindex x;
	uint32_t c[16];
	ck_assert_int_eq(sn_flowindex_init(&x, 64), 0);
	for (uint32_t s = 0; s < SN_FLOWINDEX_SLOTS; s++)
		ck_assert_int_eq(sn_flowindex_insert(&x, H(5, tags[s]), 100 + s), 0);
	/* three more spill into group 6 and make group 5's overflow 3 */
	for (uint32_t s = 0; s < 3; s++)
		ck_assert_int_eq(sn_flowindex_insert(&x, H(5, 0x0200), 200 + s), 0);
	ck_assert_uint_eq(x.groups[5].overflow, 3);
	for (uint32_t s = 0; s < SN_FLOWINDEX_SLOTS; s++) {
		ck_assert_uint_eq(candidates(&x, H(5, tags[s]), c, 16), 1);
		ck_assert_uint_eq(c[0], 100 + s);
	}
	ck_assert_uint_eq(candidates(&x, H(5, 0x0200), c, 16), 3);
	ck_assert_uint_eq(candidates(&x, H(5, 0x0002), c, 16), 0);
	ck_assert_uint_eq(candidates(&x, H(5, 0x0004), c, 16), 0);
	sn_flowindex_free(&x);
}
END_TEST

/* 25 keys with one home group spill over two more; removal undoes the counts. */
START_TEST(overflow_spills_and_recovers)
{
	struct sn_flowindex x;
	ck_assert_int_eq(sn_flowindex_init(&x, 64), 0);
	ck_assert_uint_ge(x.mask, 3);
	for (uint32_t f = 0; f < 25; f++)
		ck_assert_int_eq(sn_flowindex_insert(&x, H(1, (uint16_t)(100 + f)), f), 0);
	ck_assert_uint_eq(x.groups[1].overflow, 15);
	ck_assert_uint_eq(x.groups[2].overflow, 5);
	ck_assert_uint_eq(x.groups[3].overflow, 0);
	for (uint32_t f = 0; f < 25; f++)
		ck_assert(offers(&x, H(1, (uint16_t)(100 + f)), f));
	/* a key homed in group 2 goes after the spilled ones, into group 3 */
	ck_assert_int_eq(sn_flowindex_insert(&x, H(2, 7), 30), 0);
	ck_assert_uint_eq(x.groups[2].overflow, 6);
	ck_assert(offers(&x, H(2, 7), 30));
	/* free a slot in group 1: a new key takes it without overflowing */
	ck_assert(sn_flowindex_remove(&x, H(1, 100), 0));
	ck_assert_int_eq(sn_flowindex_insert(&x, H(1, 200), 40), 0);
	ck_assert_uint_eq(x.groups[1].overflow, 15);
	for (uint32_t f = 1; f < 25; f++)
		ck_assert(sn_flowindex_remove(&x, H(1, (uint16_t)(100 + f)), f));
	ck_assert(sn_flowindex_remove(&x, H(1, 200), 40));
	ck_assert(offers(&x, H(2, 7), 30));
	ck_assert(sn_flowindex_remove(&x, H(2, 7), 30));
	ck_assert_uint_eq(total_overflow(&x), 0);
	ck_assert_uint_eq(x.count, 0);
	sn_flowindex_free(&x);
}
END_TEST

START_TEST(overflow_wraps_around)
{
	struct sn_flowindex x;
	ck_assert_int_eq(sn_flowindex_init(&x, 64), 0);
	uint32_t last = x.mask;
	for (uint32_t f = 0; f < 12; f++)
		ck_assert_int_eq(sn_flowindex_insert(&x, H(last, (uint16_t)(1 + f)), f), 0);
	ck_assert_uint_eq(x.groups[last].overflow, 2);
	ck_assert_uint_eq(x.groups[0].overflow, 0);
	ck_assert(offers(&x, H(last, 12), 11));
	ck_assert(sn_flowindex_remove(&x, H(last, 12), 11));
	ck_assert(sn_flowindex_remove(&x, H(last, 11), 10));
	ck_assert_uint_eq(total_overflow(&x), 0);
	sn_flowindex_free(&x);
}
END_TEST

START_TEST(remove_absent_changes_nothing)
{
	struct sn_flowindex x;
	ck_assert_int_eq(sn_flowindex_init(&x, 64), 0);
	for (uint32_t f = 0; f < 12; f++)
		ck_assert_int_eq(sn_flowindex_insert(&x, H(0, (uint16_t)(1 + f)), f), 0);
	ck_assert(!sn_flowindex_remove(&x, H(0, 1), 77));  /* right tag, wrong flow */
	ck_assert(!sn_flowindex_remove(&x, H(0, 500), 0)); /* right flow, wrong tag */
	ck_assert(!sn_flowindex_remove(&x, H(2, 1), 0));   /* wrong group */
	ck_assert_uint_eq(x.groups[0].overflow, 2);
	ck_assert_uint_eq(x.count, 12);
	sn_flowindex_free(&x);
}
END_TEST

START_TEST(full_index_refuses)
{
	struct sn_flowindex x;
	ck_assert_int_eq(sn_flowindex_init(&x, 3), 0);
	for (uint32_t f = 0; f < 3; f++)
		ck_assert_int_eq(sn_flowindex_insert(&x, H(0, 5), f), 0);
	ck_assert_int_eq(sn_flowindex_insert(&x, H(0, 5), 3), -ENOSPC);
	ck_assert_uint_eq(sn_flowindex_add(&x, H(1, 5), 3), SN_FLOWINDEX_NONE);
	ck_assert_uint_eq(x.count, 3);
	sn_flowindex_free(&x);
}
END_TEST

/* A probe of a full table in one tag still ends: bounded by the group count. */
START_TEST(probe_is_bounded)
{
	struct sn_flowindex x;
	uint32_t c[64];
	ck_assert_int_eq(sn_flowindex_init(&x, 50), 0);
	ck_assert_uint_eq(x.mask, 7); /* 80 slots */
	for (uint32_t f = 0; f < 50; f++)
		ck_assert_int_eq(sn_flowindex_insert(&x, H(5, 9), f), 0);
	ck_assert_uint_eq(candidates(&x, H(5, 9), c, 64), 50);
	ck_assert_uint_eq(candidates(&x, H(5, 10), c, 64), 0);
	sn_flowindex_free(&x);
}
END_TEST

static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/*
 * 200000 random inserts and removals in a small index, hashes drawn from
 * few groups and tags so that collisions and overflow are common; after
 * each step the changed keys are checked, and at the end every key.
 */
START_TEST(random_churn_matches_model)
{
	enum { N = 48 };
	struct sn_flowindex x;
	uint64_t hash[N];
	bool present[N] = { false };
	uint64_t seed = 0x1234567;
	ck_assert_int_eq(sn_flowindex_init(&x, N), 0);
	for (int step = 0; step < 200000; step++) {
		uint32_t f = (uint32_t)(next_rand(&seed) % N);
		if (present[f]) {
			ck_assert(sn_flowindex_remove(&x, hash[f], f));
			present[f] = false;
			ck_assert(!offers(&x, hash[f], f));
		} else {
			uint64_t r = next_rand(&seed);
			hash[f] = H((uint32_t)(r % 3), (uint16_t)(r >> 20) % 4);
			ck_assert_int_eq(sn_flowindex_insert(&x, hash[f], f), 0);
			present[f] = true;
			ck_assert(offers(&x, hash[f], f));
		}
	}
	uint32_t live = 0;
	for (uint32_t f = 0; f < N; f++) {
		live += present[f];
		ck_assert(!present[f] || offers(&x, hash[f], f));
	}
	ck_assert_uint_eq(x.count, live);
	for (uint32_t f = 0; f < N; f++)
		if (present[f])
			ck_assert(sn_flowindex_remove(&x, hash[f], f));
	ck_assert_uint_eq(total_overflow(&x), 0);
	sn_flowindex_free(&x);
}
END_TEST

/*
 * The same churn through add / remove_at, homes drawn from the last group
 * and the first two so that overflow wraps around the end: every place
 * returned names the key's slot, and removal at it leaves the index as
 * removal by search would (no overflow left, every other key still found).
 */
START_TEST(remove_at_place_matches_model)
{
	enum { N = 48 };
	struct sn_flowindex x;
	uint64_t hash[N];
	uint32_t place[N];
	bool present[N] = { false };
	uint64_t seed = 0x7654321;
	/* y takes the same keys through the walk alone: the inline add's home
	 * group path gives every key the slot the walk gives it */
	struct sn_flowindex y;
	ck_assert_int_eq(sn_flowindex_init(&x, N), 0);
	ck_assert_int_eq(sn_flowindex_init(&y, N), 0);
	for (int step = 0; step < 200000; step++) {
		uint32_t f = (uint32_t)(next_rand(&seed) % N);
		if (present[f]) {
			sn_flowindex_remove_at(&y, sn_flowindex_home_group(&y, hash[f]), place[f]);
			sn_flowindex_remove_at(&x, sn_flowindex_home_group(&x, hash[f]), place[f]);
			present[f] = false;
			ck_assert(!offers(&x, hash[f], f));
		} else {
			uint64_t r = next_rand(&seed);
			hash[f] = H((uint32_t)(r % 3) + x.mask, (uint16_t)(r >> 20) % 4);
			place[f] = sn_flowindex_add(&x, hash[f], f);
			ck_assert_uint_ne(place[f], SN_FLOWINDEX_NONE);
			ck_assert_uint_eq(sn_flowindex_add_walk(&y, hash[f], f), place[f]);
			const struct sn_flowindex_group *g = &x.groups[sn_flowindex_place_group(place[f])];
			ck_assert_uint_lt(sn_flowindex_place_slot(place[f]), SN_FLOWINDEX_SLOTS);
			ck_assert_uint_eq(g->flow[sn_flowindex_place_slot(place[f])], f);
			ck_assert_uint_eq(g->tag[sn_flowindex_place_slot(place[f])], sn_flowindex_tag(hash[f]));
			present[f] = true;
			ck_assert(offers(&x, hash[f], f));
		}
	}
	uint32_t live = 0;
	for (uint32_t f = 0; f < N; f++) {
		live += present[f];
		ck_assert(!present[f] || offers(&x, hash[f], f));
	}
	ck_assert_uint_eq(x.count, live);
	ck_assert_uint_eq(y.count, live);
	ck_assert_mem_eq(x.groups, y.groups, sn_flowindex_bytes(&x));
	sn_flowindex_free(&y);
	for (uint32_t f = 0; f < N; f++)
		if (present[f])
			sn_flowindex_remove_at(&x, sn_flowindex_home_group(&x, hash[f]), place[f]);
	ck_assert_uint_eq(total_overflow(&x), 0);
	ck_assert_uint_eq(x.count, 0);
	sn_flowindex_free(&x);
}
END_TEST

/* Clearing empties every group and count; the index takes keys again. */
START_TEST(clear_removes_everything)
{
	struct sn_flowindex x;
	ck_assert_int_eq(sn_flowindex_init(&x, 64), 0);
	for (uint32_t f = 0; f < 25; f++)
		ck_assert_int_eq(sn_flowindex_insert(&x, H(1, (uint16_t)(100 + f)), f), 0);
	ck_assert_uint_gt(total_overflow(&x), 0);
	sn_flowindex_clear(&x);
	ck_assert_uint_eq(x.count, 0);
	ck_assert_uint_eq(total_overflow(&x), 0);
	for (uint32_t f = 0; f < 25; f++)
		ck_assert(!offers(&x, H(1, (uint16_t)(100 + f)), f));
	ck_assert_uint_eq(sn_flowindex_add(&x, H(1, 100), 7), sn_flowindex_place(1, 0));
	ck_assert(offers(&x, H(1, 100), 7));
	sn_flowindex_free(&x);
}
END_TEST

/* A place names its group and slot, for every slot of the first and of the
 * last group an index can have (2^28), and is never NONE. */
START_TEST(place_round_trips)
{
	static const uint32_t groups[] = { 0, 1, 12345, (1u << 28) - 1 };
	for (size_t k = 0; k < sizeof groups / sizeof groups[0]; k++)
		for (uint32_t s = 0; s < SN_FLOWINDEX_SLOTS; s++) {
			uint32_t p = sn_flowindex_place(groups[k], s);
			ck_assert_uint_ne(p, SN_FLOWINDEX_NONE);
			ck_assert_uint_eq(sn_flowindex_place_group(p), groups[k]);
			ck_assert_uint_eq(sn_flowindex_place_slot(p), s);
		}
}
END_TEST

Suite *flowindex_suite(void)
{
	Suite *s = suite_create("flowindex");
	TCase *t = tcase_create("index");
	tcase_add_test(t, init_sizes);
	tcase_add_test(t, insert_find_remove);
	tcase_add_test(t, tag_zero_is_not_empty);
	tcase_add_test(t, every_slot_matches_only_its_tag);
	tcase_add_test(t, shared_tag_offers_all_candidates);
	tcase_add_test(t, overflow_spills_and_recovers);
	tcase_add_test(t, overflow_wraps_around);
	tcase_add_test(t, remove_absent_changes_nothing);
	tcase_add_test(t, full_index_refuses);
	tcase_add_test(t, probe_is_bounded);
	tcase_add_test(t, random_churn_matches_model);
	tcase_add_test(t, remove_at_place_matches_model);
	tcase_add_test(t, clear_removes_everything);
	tcase_add_test(t, place_round_trips);
	suite_add_tcase(s, t);
	return s;
}
