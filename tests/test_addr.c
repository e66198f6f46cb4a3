/*
 * test_addr.c - sensor/addr.c: address text (RFC 5952), parsing, ordering,
 * and CIDR blocks with their edge cases.
 */
#include <arpa/inet.h>
#include <check.h>
#include <string.h>

#include "addr.h"

Suite *addr_suite(void);

static struct sn_addr addr(const char *text)
{
	struct sn_addr a;
	ck_assert_msg(sn_addr_parse(text, &a), "parse %s", text);
	return a;
}

static struct sn_cidr cidr(const char *text)
{
	struct sn_cidr c;
	ck_assert_msg(sn_cidr_parse(text, &c), "parse %s", text);
	return c;
}

/* Parses `in` and formats it back; expects `want`. */
static void roundtrip(const char *in, const char *want)
{
	struct sn_addr a = addr(in);
	char out[SN_ADDR_STRLEN];
	sn_addr_format(&a, out);
	ck_assert_str_eq(out, want);
}

START_TEST(format_ipv4)
{
	roundtrip("192.0.2.1", "192.0.2.1");
	roundtrip("0.0.0.0", "0.0.0.0");
	roundtrip("255.255.255.255", "255.255.255.255");
	struct sn_addr a = addr("10.1.2.3");
	ck_assert_uint_eq(a.family, 4);
	static const uint8_t want[16] = { 10, 1, 2, 3 };
	ck_assert_mem_eq(a.b, want, 16);
}
END_TEST

/* IPv4 text is written without inet_ntop: every byte value, in every place, as it writes it. */
START_TEST(format_ipv4_as_inet_ntop)
{
	for (unsigned v = 0; v < 256; v++) {
		for (int at = 0; at < 4; at++) {
			struct sn_addr a = { .family = 4 };
			char out[SN_ADDR_STRLEN], want[INET_ADDRSTRLEN];
			for (int k = 0; k < 4; k++)
				a.b[k] = (uint8_t)(k == at ? v : (v * 7 + (unsigned)k * 91) & 0xff);
			ck_assert_ptr_nonnull(inet_ntop(AF_INET, a.b, want, sizeof want));
			sn_addr_format(&a, out);
			ck_assert_str_eq(out, want);
		}
	}
}
END_TEST

/*
 * IPv6 text is written without inet_ntop: every address whose words are
 * drawn from {0, 1, 0xffff, 0xa0b} (zero runs of every length and place,
 * ties, the IPv4-compatible and IPv4-mapped forms), then pseudo-random ones,
 * as inet_ntop writes them.
 */
static void v6_as_inet_ntop(const unsigned w[8])
{
	struct sn_addr a = { .family = 6 };
	char out[SN_ADDR_STRLEN], want[INET6_ADDRSTRLEN];

	for (int k = 0; k < 8; k++) {
		a.b[2 * k] = (uint8_t)(w[k] >> 8);
		a.b[2 * k + 1] = (uint8_t)w[k];
	}
	ck_assert_ptr_nonnull(inet_ntop(AF_INET6, a.b, want, sizeof want));
	sn_addr_format(&a, out);
	ck_assert_str_eq(out, want);
}

START_TEST(format_ipv6_as_inet_ntop)
{
	static const unsigned pick[] = { 0, 1, 0xffff, 0xa0b };
	unsigned w[8];
	uint32_t x = 2463534242u;

	for (unsigned n = 0; n < 1u << 16; n++) {
		for (int k = 0; k < 8; k++)
			w[k] = pick[n >> (2 * k) & 3];
		v6_as_inet_ntop(w);
	}
	for (unsigned n = 0; n < 50000; n++) {
		for (int k = 0; k < 8; k++) {
			x ^= x << 13, x ^= x >> 17, x ^= x << 5;
			w[k] = x % 3 == 0 ? 0 : (x >> 8) & (0xffffu >> (x >> 28));
		}
		v6_as_inet_ntop(w);
	}
}
END_TEST

START_TEST(format_ipv6_rfc5952)
{
	/* §4.2.1 longest run, §4.2.2 not a single group, §4.2.3 first of equal runs */
	roundtrip("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1");
	roundtrip("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1");
	roundtrip("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1");
	roundtrip("2001:0:0:1:0:0:0:1", "2001:0:0:1::1");
	/* §4.3 lower case */
	roundtrip("2001:DB8::ABCD", "2001:db8::abcd");
	roundtrip("::", "::");
	roundtrip("::1", "::1");
	roundtrip("fe80::", "fe80::");
	/* §5 IPv4-mapped */
	roundtrip("::ffff:192.0.2.1", "::ffff:192.0.2.1");
}
END_TEST

START_TEST(format_unknown_family)
{
	struct sn_addr a;
	memset(&a, 0, sizeof a);
	char out[SN_ADDR_STRLEN];
	sn_addr_format(&a, out);
	ck_assert_str_eq(out, "?");
}
END_TEST

START_TEST(parse_rejects_junk)
{
	static const char *const bad[] = {
		"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4 ", " 1.2.3.4", "1.2.3.4/8",
		"2001:db8:::1", "2001:db8::1::2", "g::1", "localhost", "1:2:3:4:5:6:7:8:9",
	};
	struct sn_addr a;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(!sn_addr_parse(bad[i], &a), "accepted '%s'", bad[i]);
	ck_assert(!sn_addr_parse(NULL, &a));
}
END_TEST

START_TEST(compare_family_then_bytes)
{
	struct sn_addr a = addr("10.0.0.1"), b = addr("10.0.0.2"), c = addr("::1");
	struct sn_addr z = addr("0.0.0.0");
	ck_assert_int_lt(sn_addr_compare(&a, &b), 0);
	ck_assert_int_gt(sn_addr_compare(&b, &a), 0);
	ck_assert_int_eq(sn_addr_compare(&a, &a), 0);
	ck_assert_int_lt(sn_addr_compare(&b, &c), 0); /* every IPv4 before IPv6 */
	ck_assert_int_lt(sn_addr_compare(&z, &c), 0);
	ck_assert(sn_addr_equal(&a, &a));
	ck_assert(!sn_addr_equal(&a, &b));
	struct sn_addr v4 = addr("0.0.0.1"), v6 = addr("::1");
	ck_assert(!sn_addr_equal(&v4, &v6)); /* same bytes? no: family differs */
}
END_TEST

START_TEST(cidr_private_ranges)
{
	struct sn_cidr c = cidr("172.16.0.0/12");
	struct sn_addr in = addr("172.31.255.255"), out = addr("172.32.0.0");
	struct sn_addr low = addr("172.16.0.0"), below = addr("172.15.255.255");
	ck_assert(sn_cidr_contains(&c, &in));
	ck_assert(sn_cidr_contains(&c, &low));
	ck_assert(!sn_cidr_contains(&c, &out));
	ck_assert(!sn_cidr_contains(&c, &below));
	struct sn_cidr ten = cidr("10.0.0.0/8");
	struct sn_addr t = addr("10.255.0.1");
	ck_assert(sn_cidr_contains(&ten, &t));
}
END_TEST

START_TEST(cidr_ipv6_ula_and_link_local)
{
	struct sn_cidr ula = cidr("fc00::/7"), ll = cidr("fe80::/10");
	struct sn_addr fd = addr("fd12:3456::1"), fc = addr("fc00::"), fe = addr("fe00::1");
	struct sn_addr febf = addr("febf:ffff::1"), fec0 = addr("fec0::1");
	ck_assert(sn_cidr_contains(&ula, &fd));
	ck_assert(sn_cidr_contains(&ula, &fc));
	ck_assert(!sn_cidr_contains(&ula, &fe));
	ck_assert(sn_cidr_contains(&ll, &febf));
	ck_assert(!sn_cidr_contains(&ll, &fec0));
}
END_TEST

START_TEST(cidr_zero_and_full_prefix)
{
	struct sn_cidr all4 = cidr("0.0.0.0/0"), all6 = cidr("::/0");
	struct sn_addr v4 = addr("203.0.113.9"), v6 = addr("2001:db8::9");
	ck_assert(sn_cidr_contains(&all4, &v4));
	ck_assert(!sn_cidr_contains(&all4, &v6)); /* never across families */
	ck_assert(sn_cidr_contains(&all6, &v6));
	ck_assert(!sn_cidr_contains(&all6, &v4));
	struct sn_cidr one = cidr("203.0.113.9/32"), one6 = cidr("2001:db8::9/128");
	struct sn_addr next = addr("203.0.113.10"), next6 = addr("2001:db8::a");
	ck_assert(sn_cidr_contains(&one, &v4));
	ck_assert(!sn_cidr_contains(&one, &next));
	ck_assert(sn_cidr_contains(&one6, &v6));
	ck_assert(!sn_cidr_contains(&one6, &next6));
}
END_TEST

START_TEST(cidr_bare_address)
{
	struct sn_cidr c = cidr("192.0.2.7"), c6 = cidr("2001:db8::7");
	ck_assert_uint_eq(c.prefix, 32);
	ck_assert_uint_eq(c6.prefix, 128);
}
END_TEST

START_TEST(cidr_host_bits_normalised)
{
	struct sn_cidr c = cidr("10.1.2.3/8");
	struct sn_addr net = addr("10.0.0.0");
	ck_assert(sn_addr_equal(&c.net, &net));
	char out[64];
	sn_cidr_format(&c, out, sizeof out);
	ck_assert_str_eq(out, "10.0.0.0/8");
	struct sn_cidr odd = cidr("172.31.1.1/12");
	sn_cidr_format(&odd, out, sizeof out);
	ck_assert_str_eq(out, "172.16.0.0/12");
	struct sn_cidr v6 = cidr("fe80::1234/10");
	sn_cidr_format(&v6, out, sizeof out);
	ck_assert_str_eq(out, "fe80::/10");
	struct sn_cidr ula = cidr("fdff:ffff::/7");
	sn_cidr_format(&ula, out, sizeof out);
	ck_assert_str_eq(out, "fc00::/7");
}
END_TEST

START_TEST(cidr_rejects)
{
	static const char *const bad[] = {
		"10.0.0.0/33", "::/129", "10.0.0.0/", "/8", "10.0.0.0/-1", "10.0.0.0/+8",
		"10.0.0.0/8x", "10.0.0.0/ 8", "10.0.0.0/0008", "10.0.0/8", "junk/8", "",
		"10.0.0.0/8/8", "fc00::/7 ",
		"1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb:cccc:dddd:eeee:ffff/8",
	};
	struct sn_cidr c;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(!sn_cidr_parse(bad[i], &c), "accepted '%s'", bad[i]);
	ck_assert(!sn_cidr_parse(NULL, &c));
}
END_TEST

START_TEST(cidr_format)
{
	char out[64];
	struct sn_cidr c = cidr("2001:DB8:0:0::/32");
	sn_cidr_format(&c, out, sizeof out);
	ck_assert_str_eq(out, "2001:db8::/32");
	struct sn_cidr h = cidr("192.0.2.1");
	sn_cidr_format(&h, out, sizeof out);
	ck_assert_str_eq(out, "192.0.2.1/32");
	char tiny[6];
	sn_cidr_format(&h, tiny, sizeof tiny);
	ck_assert_str_eq(tiny, "192.0"); /* truncated, still terminated */
}
END_TEST

Suite *addr_suite(void)
{
	Suite *s = suite_create("addr");
	TCase *a = tcase_create("address");
	tcase_add_test(a, format_ipv4);
	tcase_add_test(a, format_ipv4_as_inet_ntop);
	tcase_add_test(a, format_ipv6_as_inet_ntop);
	tcase_add_test(a, format_ipv6_rfc5952);
	tcase_add_test(a, format_unknown_family);
	tcase_add_test(a, parse_rejects_junk);
	tcase_add_test(a, compare_family_then_bytes);
	suite_add_tcase(s, a);
	TCase *c = tcase_create("cidr");
	tcase_add_test(c, cidr_private_ranges);
	tcase_add_test(c, cidr_ipv6_ula_and_link_local);
	tcase_add_test(c, cidr_zero_and_full_prefix);
	tcase_add_test(c, cidr_bare_address);
	tcase_add_test(c, cidr_host_bits_normalised);
	tcase_add_test(c, cidr_rejects);
	tcase_add_test(c, cidr_format);
	suite_add_tcase(s, c);
	return s;
}
