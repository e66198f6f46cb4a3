/*
 * test_checksum.c - the Internet checksum and the auto validation policy.
 */
#include <check.h>

#include "checksum.h"

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

/* The one-pass TCP check agrees with the piecewise sum, every length 0..100. */
START_TEST(tcp_one_pass_matches_pieces)
{
	uint8_t src[16], dst[16], seg[104];
	for (unsigned i = 0; i < sizeof seg; i++)
		seg[i] = (uint8_t)(i * 37 + 11);
	for (unsigned i = 0; i < 16; i++)
		src[i] = (uint8_t)(i * 13 + 1), dst[i] = (uint8_t)(i * 29 + 7);
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
			ck_assert_msg(sn_csum_tcp_ok(src, dst, alen, seg, len), "alen %zu len %u", alen, len);
			seg[len - 1] ^= 0x40;
			ck_assert(!sn_csum_tcp_ok(src, dst, alen, seg, len));
			seg[len - 1] ^= 0x40;
		}
	}
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
		sn_csum_policy_observe(&p, i % 3 != 0); /* two thirds bad */
	ck_assert(!p.decided);
	sn_csum_policy_observe(&p, true);
	ck_assert(p.decided && !p.validate);
}
END_TEST

START_TEST(policy_auto_few_bad_validates)
{
	struct sn_csum_policy p;
	sn_csum_policy_init(&p, SN_CHECKSUM_AUTO);
	sn_csum_policy_observe(&p, true);
	for (int i = 0; i < 9; i++)
		sn_csum_policy_observe(&p, false);
	sn_csum_policy_decide(&p); /* end of a short capture */
	ck_assert(p.decided && p.validate);
	/* exactly half is not "more than half" */
	sn_csum_policy_init(&p, SN_CHECKSUM_AUTO);
	sn_csum_policy_observe(&p, true);
	sn_csum_policy_observe(&p, false);
	sn_csum_policy_decide(&p);
	ck_assert(p.validate);
	/* nothing checkable: validate (nothing to drop anyway) */
	sn_csum_policy_init(&p, SN_CHECKSUM_AUTO);
	sn_csum_policy_decide(&p);
	ck_assert(p.validate);
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
	tcase_add_test(t, policy_yes_no);
	tcase_add_test(t, policy_auto_offload_turns_off);
	tcase_add_test(t, policy_auto_few_bad_validates);
	suite_add_tcase(s, t);
	return s;
}
