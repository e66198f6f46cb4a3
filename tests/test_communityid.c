/*
 * test_communityid.c - Community ID v1 (sensor/communityid.c) against the
 * published baseline of corelight/community-id-spec (baseline_deflt.json
 * and baseline_seed1.json, TCP rows): IPv4 and IPv6, seeds 0 and 1, both
 * directions giving one value.
 */
#include <check.h>
#include <string.h>

#include "communityid.h"

static struct sn_addr addr(const char *text)
{
	struct sn_addr a;
	ck_assert(sn_addr_parse(text, &a));
	return a;
}

static void check(uint16_t seed, const char *sa, uint16_t sp, const char *da, uint16_t dp,
		  const char *want)
{
	struct sn_addr s = addr(sa), d = addr(da);
	char out[SN_COMMUNITY_ID_LEN];

	sn_community_id_tcp(seed, &s, sp, &d, dp, out);
	ck_assert_str_eq(out, want);
	memset(out, 'x', sizeof out);
	sn_community_id_tcp(seed, &d, dp, &s, sp, out); /* the other direction */
	ck_assert_str_eq(out, want);
}

START_TEST(ipv4_baseline)
{
	check(0, "128.232.110.120", 34855, "66.35.250.204", 80, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
	check(1, "128.232.110.120", 34855, "66.35.250.204", 80, "1:3V71V58M3Ksw/yuFALMcW0LAHvc=");
}
END_TEST

START_TEST(ipv6_baseline)
{
	check(0, "2001:470:e5bf:dead:4957:2174:e82c:4887", 63943, "2607:f8b0:400c:c03::1a", 25,
	      "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=");
	check(1, "2001:470:e5bf:dead:4957:2174:e82c:4887", 63943, "2607:f8b0:400c:c03::1a", 25,
	      "1:eJYTW6AOzFLlSUoESovMjnu7rMw=");
}
END_TEST

/* Equal addresses: the ports decide the order (computed with Python's hashlib). */
START_TEST(same_address_ordered_by_port)
{
	check(0, "127.0.0.1", 40000, "127.0.0.1", 1883, "1:uGQRdAUlVwn40KDO71YoRh8Ui+c=");
}
END_TEST

Suite *communityid_suite(void);

Suite *communityid_suite(void)
{
	Suite *s = suite_create("communityid");
	TCase *t = tcase_create("vectors");
	tcase_add_test(t, ipv4_baseline);
	tcase_add_test(t, ipv6_baseline);
	tcase_add_test(t, same_address_ordered_by_port);
	suite_add_tcase(s, t);
	return s;
}
