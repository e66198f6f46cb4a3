/*
 * test_checksum.c - the Internet checksum and the auto validation policy.
 */
#include <check.h>
#include <string.h>

#include "checksum.h"
#include "testutil.h"

static struct sn_addr host(uint8_t last)
{
	struct sn_addr a = { .family = 4, .b = { 10, 0, 0, last } };
	return a;
}

START_TEST(rfc1071_example)
{
	/* RFC 1071 section 3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2 */
	static const uint8_t b[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	ck_assert_uint_eq(sn_csum_fold(sn_csum_add(0, b, sizeof b)), 0xddf2);
}
END_TEST

START_TEST(odd_length_and_verification)
{
	uint8_t b[7] = { 0x45, 0x00, 0x12, 0x34, 0xab, 0, 0 };
	uint16_t sum = sn_csum_fold(sn_csum_add(0, b, 5));
	uint16_t ck = (uint16_t)~sum;
	/* The complement placed in an aligned slot makes the whole verify. */
	uint8_t c[8] = { 0x45, 0x00, 0x12, 0x34, 0xab, 0, (uint8_t)(ck >> 8), (uint8_t)ck };
	ck_assert_uint_eq(sn_csum_fold(sn_csum_add(0, c, 8)), 0xffff);
}
END_TEST

/*
 * The one-pass TCP check agrees with the piecewise sum, every length
 * 20..100, on mixed bytes and on bytes near 0xff (every addition carries).
 */
START_TEST(tcp_one_pass_matches_pieces)
{
	uint8_t src[16], dst[16], seg[104];
	for (int round = 0; round < 2; round++) {
		for (unsigned i = 0; i < sizeof seg; i++)
			seg[i] = round ? (uint8_t)(i % 7 ? 0xff : 0xfe) : (uint8_t)(i * 37 + 11);
		for (unsigned i = 0; i < 16; i++)
			src[i] = (uint8_t)(i * 13 + 1), dst[i] = round ? 0xff : (uint8_t)(i * 29 + 7);
		for (size_t alen = 4; alen <= 16; alen += 12) {
			for (uint32_t len = 20; len <= 100; len++) {
				seg[16] = seg[17] = 0; /* the checksum field */
				uint64_t sum = sn_csum_add(0, src, alen);
				sum = sn_csum_add(sum, dst, alen);
				sum += (uint64_t)len + 6;
				sum = sn_csum_add(sum, seg, len);
				uint16_t ck = (uint16_t)~sn_csum_fold(sum);
				seg[16] = (uint8_t)(ck >> 8);
				seg[17] = (uint8_t)ck;
				ck_assert_msg(sn_csum_tcp_ok(src, dst, alen, seg, len), "alen %zu len %u",
					      alen, len);
				seg[len - 1] ^= 0x40;
				ck_assert(!sn_csum_tcp_ok(src, dst, alen, seg, len));
				seg[len - 1] ^= 0x40;
			}
		}
	}
}
END_TEST

/* The reference check (testutil) the fast one is held to. */
static bool reference_tcp_ok(const uint8_t *src, const uint8_t *dst, size_t alen,
			     const uint8_t *seg, uint32_t len)
{
	return sn_test_tcp_sum(src, dst, alen, seg, len) == 0xffff;
}

/* Makes a segment of len >= 2 verify: its first two bytes take the complement. */
static void make_good(const uint8_t *src, const uint8_t *dst, size_t alen, uint8_t *seg,
		      uint32_t len)
{
	seg[0] = seg[1] = 0;
	sn_test_put16(seg, (uint16_t)~sn_test_tcp_sum(src, dst, alen, seg, len));
}

/*
 * Every segment length 0..140 (the loop of 32 bytes, the 16, 8, 4, 2 and 1
 * byte pieces in every mix), both address sizes, at every alignment of the
 * segment and the addresses, on mixed bytes, all 0xff (every addition
 * carries) and all zero: the check agrees with the reference, a segment
 * made to verify verifies, and one changed bit at any byte fails it.
 * Then a few long segments (1500, 9000, 65515 bytes).
 */
START_TEST(tcp_every_length_matches_reference)
{
	static uint8_t buf[65536 + 64], abuf[64];
	uint32_t x = 12345;
	for (size_t i = 0; i < sizeof buf; i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (uint8_t)(x >> 16);
	}
	for (size_t i = 0; i < sizeof abuf; i++)
		abuf[i] = (uint8_t)(i * 29 + 7);
	for (int fill = 0; fill < 3; fill++) {
		for (size_t alen = 4; alen <= 16; alen += 12) {
			for (size_t al = 0; al < 8; al++) {
				uint8_t *src = abuf + al, *dst = abuf + 24 + (7 - al);
				for (uint32_t len = 0; len <= 140; len++) {
					uint8_t *seg = buf + 32768 + al;
					if (fill == 1)
						memset(seg, 0xff, len), memset(src, 0xff, 40);
					if (fill == 2)
						memset(seg, 0, len), memset(src, 0, 40);
					ck_assert_msg(sn_csum_tcp_ok(src, dst, alen, seg, len) ==
						      reference_tcp_ok(src, dst, alen, seg, len),
						      "fill %d alen %zu align %zu len %u", fill, alen, al,
						      len);
					if (len < 2)
						continue;
					make_good(src, dst, alen, seg, len);
					ck_assert_msg(sn_csum_tcp_ok(src, dst, alen, seg, len),
						      "good: fill %d alen %zu align %zu len %u", fill,
						      alen, al, len);
					for (uint32_t i = 0; i < len; i++) {
						seg[i] ^= (uint8_t)(1u << (i % 8));
						ck_assert_msg(!sn_csum_tcp_ok(src, dst, alen, seg, len),
							      "bit flip at %u of %u", i, len);
						seg[i] ^= (uint8_t)(1u << (i % 8));
					}
					src[alen - 1] ^= 0x10;
					ck_assert(!sn_csum_tcp_ok(src, dst, alen, seg, len));
					src[alen - 1] ^= 0x10;
				}
			}
			for (size_t i = 0; i < sizeof abuf; i++)
				abuf[i] = (uint8_t)(i * 29 + 7);
		}
	}
	static const uint32_t longs[] = { 1500, 9000, 65515, 65535 };
	for (size_t k = 0; k < sizeof longs / sizeof longs[0]; k++) {
		for (size_t al = 0; al < 2; al++) {
			uint8_t *seg = buf + al;
			ck_assert(sn_csum_tcp_ok(abuf, abuf + 16, 16, seg, longs[k]) ==
				  reference_tcp_ok(abuf, abuf + 16, 16, seg, longs[k]));
			make_good(abuf, abuf + 16, 4, seg, longs[k]);
			ck_assert(sn_csum_tcp_ok(abuf, abuf + 16, 4, seg, longs[k]));
			seg[longs[k] - 1] ^= 1;
			ck_assert(!sn_csum_tcp_ok(abuf, abuf + 16, 4, seg, longs[k]));
			seg[longs[k] - 1] ^= 1;
		}
	}
}
END_TEST

/* Offload on the capturing host: every segment it sent is bad, the rest good. */
START_TEST(policy_auto_offloading_source_exempted)
{
	struct sn_csum_policy p;
	struct sn_addr me = host(1), peer = host(2), other = host(3);
	sn_csum_policy_init(&p, SN_CHECKSUM_AUTO);
	for (int i = 0; i < 40; i++)
		sn_csum_policy_observe(&p, i % 2 ? &me : &peer, i % 2); /* 50%: not all off */
	sn_csum_policy_observe(&p, &other, false);
	sn_csum_policy_decide(&p);
	ck_assert(p.validate);
	ck_assert(!sn_csum_policy_validates(&p, &me));
	ck_assert(sn_csum_policy_validates(&p, &peer));
	ck_assert(sn_csum_policy_validates(&p, &other));
	/* more offloading hosts than are followed: nothing is validated */
	sn_csum_policy_init(&p, SN_CHECKSUM_AUTO);
	for (uint8_t h = 0; h < SN_CSUM_OFFLOADED + 1; h++) {
		struct sn_addr a = host((uint8_t)(100 + h));
		sn_csum_policy_observe(&p, &a, true);
	}
	for (int i = 0; i < 20; i++)
		sn_csum_policy_observe(&p, &peer, false);
	sn_csum_policy_decide(&p);
	ck_assert(!sn_csum_policy_validates(&p, &peer));
}
END_TEST

START_TEST(policy_yes_no)
{
	struct sn_csum_policy p;
	sn_csum_policy_init(&p, SN_CHECKSUM_YES);
	ck_assert(p.decided && p.validate && sn_csum_policy_wants(&p));
	sn_csum_policy_init(&p, SN_CHECKSUM_NO);
	ck_assert(p.decided && !p.validate && !sn_csum_policy_wants(&p));
}
END_TEST

START_TEST(policy_auto_offload_turns_off)
{
	struct sn_csum_policy p;
	sn_csum_policy_init(&p, SN_CHECKSUM_AUTO);
	ck_assert(!p.decided && sn_csum_policy_wants(&p));
	for (int i = 0; i < SN_CSUM_SAMPLE - 1; i++)
		{
		struct sn_addr a = host((uint8_t)(i % 5));
		sn_csum_policy_observe(&p, &a, i % 3 != 0); /* two thirds bad */
	}
	ck_assert(!p.decided);
	struct sn_addr a = host(1);
	sn_csum_policy_observe(&p, &a, true);
	ck_assert(p.decided && !p.validate);
	ck_assert(!sn_csum_policy_validates(&p, &a));
}
END_TEST

START_TEST(policy_auto_few_bad_validates)
{
	struct sn_csum_policy p;
	struct sn_addr c = host(1), s = host(2);
	sn_csum_policy_init(&p, SN_CHECKSUM_AUTO);
	sn_csum_policy_observe(&p, &c, true); /* a decoy from a client otherwise fine */
	for (int i = 0; i < 9; i++)
		sn_csum_policy_observe(&p, i % 2 ? &c : &s, false);
	sn_csum_policy_decide(&p); /* end of a short capture */
	ck_assert(p.decided && p.validate);
	ck_assert(sn_csum_policy_validates(&p, &c));
	ck_assert(sn_csum_policy_validates(&p, &s));
	/* exactly half is not "more than half" */
	sn_csum_policy_init(&p, SN_CHECKSUM_AUTO);
	sn_csum_policy_observe(&p, &c, true);
	sn_csum_policy_observe(&p, &s, false);
	sn_csum_policy_decide(&p);
	ck_assert(p.validate);
	/* nothing checkable: validate (nothing to drop anyway) */
	sn_csum_policy_init(&p, SN_CHECKSUM_AUTO);
	sn_csum_policy_decide(&p);
	ck_assert(p.validate);
}
END_TEST

/* What validate_all stands for, from the fields it is kept from. */
static bool all_validated(const struct sn_csum_policy *p)
{
	return p->decided && p->validate && p->n_offloaded == 0;
}

/*
 * validate_all, the one flag the decoder tests per segment, equals
 * "decided, validating, no source exempted" after every way the policy
 * can change: each mode's start, an auto sample deciding by count or
 * ended early, with and without offloading sources, too many of them.
 */
START_TEST(policy_validate_all_follows_the_fields)
{
	struct sn_csum_policy p;
	struct sn_addr a = host(1), b = host(2);
	for (int mode = SN_CHECKSUM_AUTO; mode <= SN_CHECKSUM_NO; mode++) {
		sn_csum_policy_init(&p, (enum sn_checksum_mode)mode);
		ck_assert(p.validate_all == all_validated(&p));
		ck_assert(p.validate_all == (mode == SN_CHECKSUM_YES));
	}
	for (int scenario = 0; scenario < 5; scenario++) {
		sn_csum_policy_init(&p, SN_CHECKSUM_AUTO);
		int n = scenario == 4 ? SN_CSUM_SAMPLE : scenario == 3 ? 40 : 20;
		for (int i = 0; i < n; i++) {
			if (scenario == 3 && i <= SN_CSUM_OFFLOADED) {
				/* one more mostly-bad host than are exempted */
				struct sn_addr h = host((uint8_t)(50 + i));
				sn_csum_policy_observe(&p, &h, true);
				continue;
			}
			bool bad = scenario == 1 ? i % 2 == 0 /* a: all bad, b: good */
				   : scenario == 2;           /* offload everywhere */
			sn_csum_policy_observe(&p, i % 2 == 0 ? &a : &b, bad);
			ck_assert(p.validate_all == all_validated(&p));
		}
		sn_csum_policy_decide(&p);
		ck_assert(p.validate_all == all_validated(&p));
		ck_assert(p.validate_all == (scenario == 0 || scenario == 4));
		/* the flag and the per-source test agree for a and b */
		ck_assert(sn_csum_policy_validates(&p, &a) ==
			  (p.decided && p.validate && !sn_csum__offloaded(&p, &a)));
		ck_assert(sn_csum_policy_validates(&p, &b) ==
			  (p.decided && p.validate && !sn_csum__offloaded(&p, &b)));
	}
}
END_TEST

Suite *checksum_suite(void);

Suite *checksum_suite(void)
{
	Suite *s = suite_create("checksum");
	TCase *t = tcase_create("checksum");
	tcase_add_test(t, rfc1071_example);
	tcase_add_test(t, odd_length_and_verification);
	tcase_add_test(t, tcp_one_pass_matches_pieces);
	tcase_add_test(t, tcp_every_length_matches_reference);
	tcase_add_test(t, policy_auto_offloading_source_exempted);
	tcase_add_test(t, policy_yes_no);
	tcase_add_test(t, policy_auto_offload_turns_off);
	tcase_add_test(t, policy_auto_few_bad_validates);
	tcase_add_test(t, policy_validate_all_follows_the_fields);
	suite_add_tcase(s, t);
	return s;
}
