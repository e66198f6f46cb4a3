/*
 * test_reassembly.c - first-bytes buffers: sequence placement, held
 * out-of-order bytes (any number of holes), first copy wins, the bound,
 * wrap-around, dropping a finished prefix, the pool.
 */
#include <check.h>
#include <string.h>

#include "reassembly.h"

#define CAP 64

static struct sn_reasm_dir d;
static uint8_t buf[CAP];
static uint8_t map[SN_REASM_MAP_BYTES(CAP)];

static void setup(void)
{
	sn_reasm_dir_reset(&d);
	memset(buf, 0, sizeof buf);
	memset(map, 0, sizeof map);
}

static enum sn_reasm_rc add(uint32_t seq, const char *s)
{
	return sn_reasm_dir_add(&d, buf, map, CAP, seq, (const uint8_t *)s, (uint32_t)strlen(s));
}

START_TEST(first_segment_sets_base)
{
	ck_assert_int_eq(add(1000, "hello"), SN_REASM_GREW);
	ck_assert(d.based);
	ck_assert_uint_eq(d.base, 1000);
	ck_assert_uint_eq(d.contig, 5);
	ck_assert_mem_eq(buf, "hello", 5);
}
END_TEST

START_TEST(in_order_segments_append)
{
	sn_reasm_dir_set_base(&d, 1);
	ck_assert_int_eq(add(1, "abc"), SN_REASM_GREW);
	ck_assert_int_eq(add(4, "def"), SN_REASM_GREW);
	ck_assert_uint_eq(d.contig, 6);
	ck_assert_mem_eq(buf, "abcdef", 6);
}
END_TEST

START_TEST(set_base_only_once)
{
	sn_reasm_dir_set_base(&d, 100);
	sn_reasm_dir_set_base(&d, 200);
	ck_assert_uint_eq(d.base, 100);
}
END_TEST

START_TEST(out_of_order_is_held_then_joined)
{
	sn_reasm_dir_set_base(&d, 10);
	ck_assert_int_eq(add(13, "def"), SN_REASM_HELD);
	ck_assert_uint_eq(d.contig, 0);
	ck_assert_uint_eq(d.held, 3);
	ck_assert_int_eq(add(10, "abc"), SN_REASM_GREW);
	ck_assert_uint_eq(d.contig, 6);
	ck_assert_uint_eq(d.held, 0);
	ck_assert_mem_eq(buf, "abcdef", 6);
}
END_TEST

START_TEST(three_pieces_reversed)
{
	sn_reasm_dir_set_base(&d, 0);
	ck_assert_int_eq(add(6, "ghi"), SN_REASM_HELD);
	ck_assert_int_eq(add(3, "def"), SN_REASM_HELD);
	ck_assert_uint_eq(d.held, 6);
	ck_assert_int_eq(add(0, "abc"), SN_REASM_GREW);
	ck_assert_uint_eq(d.contig, 9);
	ck_assert_mem_eq(buf, "abcdefghi", 9);
}
END_TEST

START_TEST(retransmission_is_old)
{
	sn_reasm_dir_set_base(&d, 0);
	add(0, "abcdef");
	ck_assert_int_eq(add(0, "XYZ"), SN_REASM_OLD);
	ck_assert_int_eq(add(2, "abcd"), SN_REASM_OLD);
	ck_assert_mem_eq(buf, "abcdef", 6);
}
END_TEST

START_TEST(overlap_first_copy_wins)
{
	sn_reasm_dir_set_base(&d, 0);
	add(0, "abcd");
	ck_assert_int_eq(add(2, "XXefgh"), SN_REASM_GREW);
	ck_assert_uint_eq(d.contig, 8);
	ck_assert_mem_eq(buf, "abcdefgh", 8);
}
END_TEST

START_TEST(overlap_with_held_range_first_copy_wins)
{
	sn_reasm_dir_set_base(&d, 0);
	add(4, "EF");             /* held at [4, 6) */
	ck_assert_int_eq(add(0, "abcdXXgh"), SN_REASM_GREW);
	ck_assert_uint_eq(d.contig, 8);
	ck_assert_mem_eq(buf, "abcdEFgh", 8);
}
END_TEST

START_TEST(bytes_past_bound_dropped)
{
	char big[CAP + 20];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	sn_reasm_dir_set_base(&d, 0);
	ck_assert_int_eq(add(0, big), SN_REASM_GREW);
	ck_assert_uint_eq(d.contig, CAP);
	ck_assert_int_eq(add(CAP, "more"), SN_REASM_DROPPED);
	ck_assert_int_eq(add(CAP + 1000, "far"), SN_REASM_DROPPED);
	ck_assert_uint_eq(d.contig, CAP);
}
END_TEST

START_TEST(before_base_trimmed_or_dropped)
{
	sn_reasm_dir_set_base(&d, 100);
	ck_assert_int_eq(add(90, "0123456789"), SN_REASM_DROPPED);
	ck_assert_int_eq(add(97, "xyzabc"), SN_REASM_GREW);
	ck_assert_uint_eq(d.contig, 3);
	ck_assert_mem_eq(buf, "abc", 3);
}
END_TEST

START_TEST(sequence_wraps_around)
{
	sn_reasm_dir_set_base(&d, 0xfffffffeu);
	ck_assert_int_eq(add(0xfffffffeu, "ab"), SN_REASM_GREW);
	ck_assert_int_eq(add(0, "cd"), SN_REASM_GREW);
	ck_assert_int_eq(add(4, "gh"), SN_REASM_HELD);
	ck_assert_int_eq(add(2, "ef"), SN_REASM_GREW);
	ck_assert_uint_eq(d.contig, 8);
	ck_assert_mem_eq(buf, "abcdefgh", 8);
}
END_TEST

START_TEST(segment_straddles_wrap)
{
	sn_reasm_dir_set_base(&d, 0xfffffffdu);
	ck_assert_int_eq(add(0xfffffffdu, "abcdef"), SN_REASM_GREW);
	ck_assert_uint_eq(d.contig, 6);
}
END_TEST

/* Any number of holes fits inside the bound: every other byte first. */
START_TEST(many_holes_are_all_held)
{
	sn_reasm_dir_set_base(&d, 0);
	for (uint32_t k = 1; k < CAP; k += 2)
		ck_assert_int_eq(add(k, "x"), SN_REASM_HELD);
	ck_assert_uint_eq(d.held, CAP / 2);
	ck_assert_uint_eq(d.contig, 0);
	/* First copy wins over a held byte. */
	ck_assert_int_eq(add(1, "z"), SN_REASM_OLD);
	for (uint32_t k = 0; k < CAP; k += 2)
		ck_assert_int_eq(add(k, "y"), SN_REASM_GREW);
	ck_assert_uint_eq(d.contig, CAP);
	ck_assert_uint_eq(d.held, 0);
	for (uint32_t k = 0; k < CAP; k++)
		ck_assert_int_eq(buf[k], k % 2 ? 'x' : 'y');
}
END_TEST

/* Skipping over a hole keeps the bytes held after it; past the bound, the base moves on. */
START_TEST(skip_over_a_hole)
{
	sn_reasm_dir_set_base(&d, 100);
	ck_assert_int_eq(add(100, "01234"), SN_REASM_GREW);
	ck_assert_int_eq(add(108, "89"), SN_REASM_HELD);
	ck_assert_int_eq(add(112, "cd"), SN_REASM_HELD);
	/* bytes 5-7 are lost: drop through byte 7, the held "89" is the new prefix */
	sn_reasm_dir_skip(&d, buf, map, CAP, 8);
	ck_assert_uint_eq(d.base, 108);
	ck_assert_uint_eq(d.contig, 2);
	ck_assert_uint_eq(d.held, 2);
	ck_assert_mem_eq(buf, "89", 2);
	ck_assert_int_eq(add(110, "ab"), SN_REASM_GREW);
	ck_assert_uint_eq(d.contig, 6);
	ck_assert_uint_eq(d.held, 0);
	ck_assert_mem_eq(buf, "89abcd", 6);
	/* a held byte inside the skipped range is forgotten with it */
	ck_assert_int_eq(add(116, "x"), SN_REASM_HELD);
	sn_reasm_dir_skip(&d, buf, map, CAP, 9);
	ck_assert_uint_eq(d.base, 117);
	ck_assert_uint_eq(d.contig, 0);
	ck_assert_uint_eq(d.held, 0);
	/* past the bound: the window is empty and starts n bytes on */
	ck_assert_int_eq(add(120, "zz"), SN_REASM_HELD);
	sn_reasm_dir_skip(&d, buf, map, CAP, CAP + 10);
	ck_assert_uint_eq(d.base, 117 + CAP + 10);
	ck_assert_uint_eq(d.contig, 0);
	ck_assert_uint_eq(d.held, 0);
	ck_assert_int_eq(add(117, "old"), SN_REASM_DROPPED);
	ck_assert_int_eq(add(117 + CAP + 10, "new"), SN_REASM_GREW);
	ck_assert_mem_eq(buf, "new", 3);
}
END_TEST

/*
 * Random segments, consumes and skips against a plain model (a byte and a
 * present flag per stream offset): the prefix, the held count and every
 * byte agree after each step.
 */
START_TEST(random_against_model)
{
	enum { STREAM = 4096 };
	static uint8_t want[STREAM];
	static bool have[STREAM];
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	for (int round = 0; round < 200; round++) {
		setup();
		memset(have, 0, sizeof have);
		for (uint32_t i = 0; i < STREAM; i++)
			want[i] = (uint8_t)(i * 7 + (uint32_t)round);
		uint32_t base_seq = 0xfffffff0u + (uint32_t)round, start = 0; /* start: stream offset of byte 0 */
		sn_reasm_dir_set_base(&d, base_seq);
		for (int step = 0; step < 60; step++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			uint32_t kind = (uint32_t)(x % 10), off = start + (uint32_t)((x >> 8) % (CAP + 16));
			uint32_t len = 1 + (uint32_t)((x >> 20) % 24);
			if (kind < 7 && off + len <= STREAM) {
				sn_reasm_dir_add(&d, buf, map, CAP, base_seq + off, want + off, len);
				for (uint32_t i = off; i < off + len && i < start + CAP; i++)
					have[i] = true;
			} else if (kind < 9) {
				uint32_t n = d.contig ? (uint32_t)((x >> 30) % (d.contig + 1)) : 0;
				sn_reasm_dir_consume(&d, buf, map, CAP, n);
				start += n;
			} else {
				uint32_t n = (uint32_t)((x >> 30) % (CAP + 8));
				sn_reasm_dir_skip(&d, buf, map, CAP, n);
				for (uint32_t i = start; i < start + n && i < STREAM; i++)
					have[i] = false;
				start += n;
			}
			if (start >= STREAM - CAP - 64)
				break;
			uint32_t contig = 0, held = 0;
			while (contig < CAP && have[start + contig])
				contig++;
			for (uint32_t i = contig; i < CAP; i++)
				held += have[start + i];
			ck_assert_uint_eq(d.base, base_seq + start);
			ck_assert_uint_eq(d.contig, contig);
			ck_assert_uint_eq(d.held, held);
			ck_assert_mem_eq(buf, want + start, contig);
		}
	}
}
END_TEST

/* Dropping a finished prefix moves the rest, held bytes included. */
START_TEST(consume_makes_room)
{
	sn_reasm_dir_set_base(&d, 100);
	ck_assert_int_eq(add(100, "0123456789"), SN_REASM_GREW);
	ck_assert_int_eq(add(112, "cd"), SN_REASM_HELD);
	sn_reasm_dir_consume(&d, buf, map, CAP, 4);
	ck_assert_uint_eq(d.base, 104);
	ck_assert_uint_eq(d.contig, 6);
	ck_assert_uint_eq(d.skipped, 4);
	ck_assert_mem_eq(buf, "456789", 6);
	ck_assert_int_eq(add(110, "ab"), SN_REASM_GREW);
	ck_assert_uint_eq(d.contig, 10);
	ck_assert_mem_eq(buf, "456789abcd", 10);
	/* The bound now reaches 4 bytes further. */
	char fill[CAP + 1];
	memset(fill, 'f', CAP);
	fill[CAP] = '\0';
	ck_assert_int_eq(add(114, fill), SN_REASM_GREW);
	ck_assert_uint_eq(d.contig, CAP);
	/* more than the prefix: nothing */
	sn_reasm_dir_consume(&d, buf, map, CAP, CAP + 1);
	ck_assert_uint_eq(d.base, 104);
}
END_TEST

START_TEST(empty_segment_is_old)
{
	ck_assert_int_eq(sn_reasm_dir_add(&d, buf, map, CAP, 5, (const uint8_t *)"", 0), SN_REASM_OLD);
	ck_assert(!d.based);
}
END_TEST

/* Every arrival order of four segments gives the same bytes. */
START_TEST(all_orders_of_four)
{
	static const char *piece[4] = { "MQ", "TT", "-c", "id" };
	static const int perms[24][4] = {
		{ 0, 1, 2, 3 }, { 0, 1, 3, 2 }, { 0, 2, 1, 3 }, { 0, 2, 3, 1 }, { 0, 3, 1, 2 }, { 0, 3, 2, 1 },
		{ 1, 0, 2, 3 }, { 1, 0, 3, 2 }, { 1, 2, 0, 3 }, { 1, 2, 3, 0 }, { 1, 3, 0, 2 }, { 1, 3, 2, 0 },
		{ 2, 0, 1, 3 }, { 2, 0, 3, 1 }, { 2, 1, 0, 3 }, { 2, 1, 3, 0 }, { 2, 3, 0, 1 }, { 2, 3, 1, 0 },
		{ 3, 0, 1, 2 }, { 3, 0, 2, 1 }, { 3, 1, 0, 2 }, { 3, 1, 2, 0 }, { 3, 2, 0, 1 }, { 3, 2, 1, 0 },
	};
	for (int p = 0; p < 24; p++) {
		setup();
		sn_reasm_dir_set_base(&d, 0xffffffffu);
		for (int k = 0; k < 4; k++)
			add(0xffffffffu + 2u * (uint32_t)perms[p][k], piece[perms[p][k]]);
		ck_assert_uint_eq(d.contig, 8);
		ck_assert_mem_eq(buf, "MQTT-cid", 8);
	}
}
END_TEST

START_TEST(pool_acquire_release)
{
	struct sn_reasm_pool *p = sn_reasm_pool_create(2, 16);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(sn_reasm_dir_bytes(p), 16);
	uint32_t a = sn_reasm_acquire(p), b = sn_reasm_acquire(p);
	ck_assert_uint_ne(a, SN_REASM_NONE);
	ck_assert_uint_ne(b, SN_REASM_NONE);
	ck_assert_uint_ne(a, b);
	ck_assert_uint_eq(sn_reasm_acquire(p), SN_REASM_NONE);
	ck_assert_uint_eq(sn_reasm_in_use(p), 2);

	ck_assert_int_eq(sn_reasm_add(p, a, 0, 7, (const uint8_t *)"client", 6), SN_REASM_GREW);
	ck_assert_int_eq(sn_reasm_add(p, a, 1, 9, (const uint8_t *)"server", 6), SN_REASM_GREW);
	size_t n;
	const uint8_t *c = sn_reasm_prefix(p, a, 0, &n);
	ck_assert_uint_eq(n, 6);
	ck_assert_mem_eq(c, "client", 6);
	c = sn_reasm_prefix(p, a, 1, &n);
	ck_assert_mem_eq(c, "server", 6);
	ck_assert(!sn_reasm_full(p, a, 0));
	ck_assert_int_eq(sn_reasm_add(p, a, 0, 13, (const uint8_t *)"0123456789ab", 12),
			 SN_REASM_GREW);
	ck_assert(sn_reasm_full(p, a, 0));

	sn_reasm_release(p, a);
	ck_assert_uint_eq(sn_reasm_in_use(p), 1);
	uint32_t again = sn_reasm_acquire(p);
	ck_assert_uint_eq(again, a);
	sn_reasm_prefix(p, again, 0, &n);
	ck_assert_uint_eq(n, 0); /* reset on acquire */
	ck_assert(!sn_reasm_dir(p, again, 0)->based);
	sn_reasm_pool_destroy(p);
}
END_TEST

START_TEST(pool_of_zero_slots)
{
	struct sn_reasm_pool *p = sn_reasm_pool_create(0, 2048);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(sn_reasm_acquire(p), SN_REASM_NONE);
	sn_reasm_pool_destroy(p);
}
END_TEST

/* A full small slot moves into a large one with its bytes, holes and
 * bases, and then takes bytes up to the large bound. */
START_TEST(pool_grow_into_large)
{
	struct sn_reasm_pool *p = sn_reasm_pool_create2(1, 16, 1, 40);
	ck_assert_ptr_nonnull(p);
	uint32_t a = sn_reasm_acquire(p);
	ck_assert(!sn_reasm_is_large(p, a));
	ck_assert_int_eq(sn_reasm_add(p, a, 0, 100, (const uint8_t *)"0123456789", 10), SN_REASM_GREW);
	ck_assert_int_eq(sn_reasm_add(p, a, 0, 112, (const uint8_t *)"CDEF", 4), SN_REASM_HELD);
	ck_assert_int_eq(sn_reasm_add(p, a, 1, 500, (const uint8_t *)"srv", 3), SN_REASM_GREW);
	/* bytes past the small bound are dropped before the move */
	ck_assert_int_eq(sn_reasm_add(p, a, 0, 116, (const uint8_t *)"GHIJ", 4), SN_REASM_DROPPED);

	uint32_t b = sn_reasm_grow(p, a);
	ck_assert_uint_ne(b, SN_REASM_NONE);
	ck_assert(sn_reasm_is_large(p, b));
	ck_assert_uint_eq(sn_reasm_grow(p, b), SN_REASM_NONE); /* large already */
	ck_assert_uint_eq(sn_reasm_in_use(p), 1);
	ck_assert_uint_eq(sn_reasm_acquire(p), a); /* the small slot was returned */

	size_t n;
	const uint8_t *c = sn_reasm_prefix(p, b, 1, &n);
	ck_assert_uint_eq(n, 3);
	ck_assert_mem_eq(c, "srv", 3);
	/* the hole 110..111 is filled: the held CDEF joins the prefix */
	ck_assert_int_eq(sn_reasm_add(p, b, 0, 110, (const uint8_t *)"ab", 2), SN_REASM_GREW);
	c = sn_reasm_prefix(p, b, 0, &n);
	ck_assert_uint_eq(n, 16);
	ck_assert_mem_eq(c, "0123456789abCDEF", 16);
	ck_assert(!sn_reasm_full(p, b, 0));
	ck_assert_int_eq(sn_reasm_add(p, b, 0, 116, (const uint8_t *)"GHIJKLMNOPQRSTUVWXYZ0123456789", 30),
			 SN_REASM_GREW);
	c = sn_reasm_prefix(p, b, 0, &n);
	ck_assert_uint_eq(n, 40);
	ck_assert_mem_eq(c + 16, "GHIJKLMNOPQRSTUVWXYZ0123", 24);
	ck_assert(sn_reasm_full(p, b, 0));
	sn_reasm_release(p, b);
	ck_assert_uint_eq(sn_reasm_in_use(p), 1);
	sn_reasm_pool_destroy(p);
}
END_TEST

Suite *reassembly_suite(void);

Suite *reassembly_suite(void)
{
	Suite *s = suite_create("reassembly");
	TCase *t = tcase_create("dir");
	tcase_add_checked_fixture(t, setup, NULL);
	tcase_add_test(t, first_segment_sets_base);
	tcase_add_test(t, in_order_segments_append);
	tcase_add_test(t, set_base_only_once);
	tcase_add_test(t, out_of_order_is_held_then_joined);
	tcase_add_test(t, three_pieces_reversed);
	tcase_add_test(t, retransmission_is_old);
	tcase_add_test(t, overlap_first_copy_wins);
	tcase_add_test(t, overlap_with_held_range_first_copy_wins);
	tcase_add_test(t, bytes_past_bound_dropped);
	tcase_add_test(t, before_base_trimmed_or_dropped);
	tcase_add_test(t, sequence_wraps_around);
	tcase_add_test(t, segment_straddles_wrap);
	tcase_add_test(t, many_holes_are_all_held);
	tcase_add_test(t, consume_makes_room);
	tcase_add_test(t, skip_over_a_hole);
	tcase_add_test(t, random_against_model);
	tcase_add_test(t, empty_segment_is_old);
	tcase_add_test(t, all_orders_of_four);
	suite_add_tcase(s, t);

	TCase *p = tcase_create("pool");
	tcase_add_test(p, pool_acquire_release);
	tcase_add_test(p, pool_of_zero_slots);
	tcase_add_test(p, pool_grow_into_large);
	suite_add_tcase(s, p);
	return s;
}
