/*
 * test_sasl.c - dissectors/sasl.c: the SASL PLAIN message (RFC 4616) in
 * its usual shapes and its malformed ones.
 */
#include <check.h>
#include <string.h>

#include "dissector.h"
#include "sasl.h"

static bool plain_user(const void *msg, size_t n, struct sn_meta *m)
{
	memset(m, 0, sizeof *m);
	struct sn_cursor c = sn_cur_make(msg, n);
	return sn_sasl_plain_user(&c, m);
}

START_TEST(authcid_only)
{
	struct sn_meta m;
	ck_assert(plain_user("\0implant01\0secret", 17, &m));
	ck_assert_str_eq(m.user, "implant01");
	ck_assert(!m.truncated);
}
END_TEST

START_TEST(authzid_and_authcid_keeps_authcid)
{
	struct sn_meta m;
	ck_assert(plain_user("boss\0agent7\0pw", 14, &m));
	ck_assert_str_eq(m.user, "agent7");
}
END_TEST

START_TEST(empty_authcid_keeps_authzid)
{
	struct sn_meta m;
	ck_assert(plain_user("admin\0\0pw", 9, &m));
	ck_assert_str_eq(m.user, "admin");
}
END_TEST

START_TEST(empty_password_accepted)
{
	struct sn_meta m;
	ck_assert(plain_user("\0u\0", 3, &m));
	ck_assert_str_eq(m.user, "u");
}
END_TEST

START_TEST(missing_separators_rejected)
{
	struct sn_meta m;
	ck_assert(!plain_user("nonul", 5, &m));
	ck_assert_str_eq(m.user, "");
	ck_assert(!plain_user("\0onlyone", 8, &m));
	ck_assert_str_eq(m.user, "");
	ck_assert(!plain_user("", 0, &m));
	ck_assert(!plain_user(NULL, 0, &m));
}
END_TEST

START_TEST(long_authcid_truncated)
{
	struct sn_meta m;
	char msg[400];
	msg[0] = '\0';
	memset(msg + 1, 'x', 300);
	msg[301] = '\0';
	msg[302] = 'p';
	ck_assert(plain_user(msg, 303, &m));
	ck_assert_uint_eq(strlen(m.user), SN_META_STR - 1);
	ck_assert(m.truncated);
}
END_TEST

Suite *sasl_suite(void);

Suite *sasl_suite(void)
{
	Suite *s = suite_create("sasl");
	TCase *tc = tcase_create("sn_sasl_plain_user");

	tcase_add_test(tc, authcid_only);
	tcase_add_test(tc, authzid_and_authcid_keeps_authcid);
	tcase_add_test(tc, empty_authcid_keeps_authzid);
	tcase_add_test(tc, empty_password_accepted);
	tcase_add_test(tc, missing_separators_rejected);
	tcase_add_test(tc, long_authcid_truncated);
	suite_add_tcase(s, tc);
	return s;
}
