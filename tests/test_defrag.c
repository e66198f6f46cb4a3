/*
 * test_defrag.c - IP fragment reassembly: orders, first copy wins, the
 * kept prefix, timeouts in packet time, the per-datagram and table bounds,
 * invalid fragments, and keys that keep datagrams apart.
 */
#include <check.h>
#include <string.h>

#include "defrag.h"

static struct sn_defrag *df;
static struct sn_defrag_stats st;
static uint8_t payload[6000];

static void setup_with(uint32_t datagrams, uint32_t frags)
{
	struct sn_defrag_config c = { .max_datagrams = datagrams, .max_fragments = frags,
				      .timeout_s = 30 };
	df = sn_defrag_create(&c, 42);
	ck_assert_ptr_nonnull(df);
	memset(&st, 0, sizeof st);
	for (size_t i = 0; i < sizeof payload; i++)
		payload[i] = (uint8_t)(i * 7 + 3);
}

static void setup(void) { setup_with(8, 16); }
static void teardown(void) { sn_defrag_destroy(df); }

static struct sn_frag frag(uint32_t id, uint32_t off, uint32_t len, bool more)
{
	struct sn_frag f;
	memset(&f, 0, sizeof f);
	f.src.family = f.dst.family = 4;
	f.src.b[0] = 10, f.src.b[3] = 1;
	f.dst.b[0] = 10, f.dst.b[3] = 2;
	f.id = id;
	f.proto = 6;
	f.offset = off;
	f.more = more;
	f.hdr_len = 20;
	f.data = payload + off;
	f.captured = f.wire = len;
	return f;
}

static enum sn_defrag_rc add(struct sn_frag f, uint64_t t, struct sn_datagram *out)
{
	return sn_defrag_add(df, &f, t, &st, out);
}

START_TEST(in_order_eight_byte_pieces)
{
	struct sn_datagram dg;
	for (uint32_t off = 0; off < 40; off += 8)
		ck_assert_int_eq(add(frag(1, off, 8, true), 0, &dg), SN_DEFRAG_HELD);
	ck_assert_int_eq(add(frag(1, 40, 5, false), 0, &dg), SN_DEFRAG_DONE);
	ck_assert_uint_eq(dg.wire, 45);
	ck_assert_uint_eq(dg.captured, 45);
	ck_assert_uint_eq(dg.hdr_len, 20);
	ck_assert_uint_eq(dg.proto, 6);
	ck_assert_mem_eq(dg.data, payload, 45);
	ck_assert_uint_eq(st.fragments, 6);
	ck_assert_uint_eq(st.reassembled, 1);
	ck_assert_uint_eq(sn_defrag_held(df), 0);
}
END_TEST

START_TEST(reverse_order)
{
	struct sn_datagram dg;
	ck_assert_int_eq(add(frag(2, 16, 4, false), 0, &dg), SN_DEFRAG_HELD);
	ck_assert_int_eq(add(frag(2, 8, 8, true), 0, &dg), SN_DEFRAG_HELD);
	ck_assert_int_eq(add(frag(2, 0, 8, true), 0, &dg), SN_DEFRAG_DONE);
	ck_assert_uint_eq(dg.wire, 20);
	ck_assert_mem_eq(dg.data, payload, 20);
}
END_TEST

START_TEST(overlap_first_copy_wins)
{
	struct sn_datagram dg;
	ck_assert_int_eq(add(frag(3, 0, 16, true), 0, &dg), SN_DEFRAG_HELD);
	struct sn_frag decoy = frag(3, 8, 16, true);
	static const uint8_t zz[16] = "ZZZZZZZZZZZZZZZZ";
	decoy.data = zz;
	ck_assert_int_eq(add(decoy, 0, &dg), SN_DEFRAG_HELD);
	ck_assert_int_eq(add(frag(3, 16, 16, false), 0, &dg), SN_DEFRAG_DONE);
	ck_assert_uint_eq(dg.wire, 32);
	ck_assert_mem_eq(dg.data, payload, 16);       /* the first copy of 8..16 */
	ck_assert_mem_eq(dg.data + 16, zz + 8, 8);    /* the decoy came first for 16..24 */
	ck_assert_mem_eq(dg.data + 24, payload + 24, 8);
}
END_TEST

START_TEST(uncaptured_bytes_end_the_prefix)
{
	struct sn_datagram dg;
	struct sn_frag a = frag(4, 0, 1480, true);
	a.captured = 100; /* snaplen */
	ck_assert_int_eq(add(a, 0, &dg), SN_DEFRAG_HELD);
	ck_assert_int_eq(add(frag(4, 1480, 20, false), 0, &dg), SN_DEFRAG_DONE);
	ck_assert_uint_eq(dg.wire, 1500);
	ck_assert_uint_eq(dg.captured, 100);
}
END_TEST

START_TEST(prefix_is_bounded_by_keep)
{
	struct sn_datagram dg;
	ck_assert_int_eq(add(frag(5, 0, 3000, true), 0, &dg), SN_DEFRAG_HELD);
	ck_assert_int_eq(add(frag(5, 3000, 3000, false), 0, &dg), SN_DEFRAG_DONE);
	ck_assert_uint_eq(dg.wire, 6000);
	ck_assert_uint_eq(dg.captured, SN_DEFRAG_KEEP);
	ck_assert_mem_eq(dg.data, payload, SN_DEFRAG_KEEP);
}
END_TEST

START_TEST(timeout_in_packet_time)
{
	struct sn_datagram dg;
	ck_assert_int_eq(add(frag(6, 0, 8, true), 1000000, &dg), SN_DEFRAG_HELD);
	/* 31 s later the first half is gone: the end alone does not complete */
	ck_assert_int_eq(add(frag(6, 8, 8, false), 32000000, &dg), SN_DEFRAG_HELD);
	ck_assert_uint_eq(st.timeouts, 1);
	ck_assert_uint_eq(sn_defrag_held(df), 1);
}
END_TEST

START_TEST(too_many_fragments_dropped)
{
	struct sn_datagram dg;
	/* 16 allowed: the 17th gives the datagram up */
	for (uint32_t i = 0; i < 16; i++)
		ck_assert_int_eq(add(frag(7, i * 16, 8, true), 0, &dg), SN_DEFRAG_HELD);
	ck_assert_int_eq(add(frag(7, 16 * 16, 8, true), 0, &dg), SN_DEFRAG_DROPPED);
	ck_assert_uint_eq(st.overflow, 1);
	ck_assert_uint_eq(sn_defrag_held(df), 0);
}
END_TEST

START_TEST(full_table_evicts_oldest)
{
	struct sn_datagram dg;
	for (uint32_t id = 100; id < 108; id++)
		ck_assert_int_eq(add(frag(id, 0, 8, true), id, &dg), SN_DEFRAG_HELD);
	ck_assert_uint_eq(sn_defrag_held(df), 8);
	ck_assert_int_eq(add(frag(200, 0, 8, true), 300, &dg), SN_DEFRAG_HELD);
	ck_assert_uint_eq(st.overflow, 1);
	ck_assert_uint_eq(sn_defrag_held(df), 8);
	/* 100 was the oldest: its end no longer completes it (and takes 101's slot) */
	ck_assert_int_eq(add(frag(100, 8, 8, false), 301, &dg), SN_DEFRAG_HELD);
	ck_assert_uint_eq(st.overflow, 2);
	/* 102 is still there */
	ck_assert_int_eq(add(frag(102, 8, 8, false), 302, &dg), SN_DEFRAG_DONE);
}
END_TEST

START_TEST(invalid_fragments)
{
	struct sn_datagram dg;
	ck_assert_int_eq(add(frag(8, 65528, 16, true), 0, &dg), SN_DEFRAG_DROPPED);
	ck_assert_int_eq(add(frag(8, 0, 0, true), 0, &dg), SN_DEFRAG_DROPPED);
	ck_assert_int_eq(add(frag(9, 0, 16, false), 0, &dg), SN_DEFRAG_DONE);
	ck_assert_int_eq(add(frag(10, 16, 8, false), 0, &dg), SN_DEFRAG_HELD);
	ck_assert_int_eq(add(frag(10, 16, 16, true), 0, &dg), SN_DEFRAG_DROPPED); /* past the end */
	ck_assert_uint_eq(st.invalid, 3);
}
END_TEST

START_TEST(keys_keep_datagrams_apart)
{
	struct sn_datagram dg;
	struct sn_frag a = frag(11, 0, 8, true), b = frag(11, 8, 8, false);
	b.ctx = 99; /* same addresses and id, another tunnel */
	ck_assert_int_eq(add(a, 0, &dg), SN_DEFRAG_HELD);
	ck_assert_int_eq(add(b, 0, &dg), SN_DEFRAG_HELD);
	struct sn_frag c = frag(11, 8, 8, false);
	c.proto = 17;
	ck_assert_int_eq(add(c, 0, &dg), SN_DEFRAG_HELD);
	ck_assert_int_eq(add(frag(11, 8, 8, false), 0, &dg), SN_DEFRAG_DONE);
}
END_TEST

START_TEST(flood_stays_bounded)
{
	struct sn_datagram dg;
	for (uint32_t i = 0; i < 100000; i++)
		add(frag(i, 8, 8, true), i, &dg);
	ck_assert_uint_eq(sn_defrag_held(df), 8);
	ck_assert_uint_eq(st.overflow, 100000 - 8);
}
END_TEST

Suite *defrag_suite(void);

Suite *defrag_suite(void)
{
	Suite *s = suite_create("defrag");
	TCase *t = tcase_create("defrag");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, in_order_eight_byte_pieces);
	tcase_add_test(t, reverse_order);
	tcase_add_test(t, overlap_first_copy_wins);
	tcase_add_test(t, uncaptured_bytes_end_the_prefix);
	tcase_add_test(t, prefix_is_bounded_by_keep);
	tcase_add_test(t, timeout_in_packet_time);
	tcase_add_test(t, too_many_fragments_dropped);
	tcase_add_test(t, full_table_evicts_oldest);
	tcase_add_test(t, invalid_fragments);
	tcase_add_test(t, keys_keep_datagrams_apart);
	tcase_add_test(t, flood_stays_bounded);
	suite_add_tcase(s, t);
	return s;
}
