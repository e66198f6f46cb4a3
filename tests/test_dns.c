/*
 * test_dns.c - sensor/dns.c: a response's CNAME chain to A and AAAA records
 * (compressed names), per-client entries, TTL in packet time, and hostile
 * messages (pointer loops, forward pointers, cut records, queries, errors)
 * counted and skipped without a name.
 */
#include <check.h>
#include <string.h>

#include "dns.h"
#include "testutil.h"

#define S 1000000ull

/* qname CNAME target (pointer to the question), target A 192.0.2.7, AAAA 2001:db8::7 */
static size_t response(uint8_t *m, uint32_t ttl)
{
	size_t n = 0;
	n += sn_test_put16(m + n, 0x1234);
	n += sn_test_put16(m + n, 0x8180);
	n += sn_test_put16(m + n, 1);
	n += sn_test_put16(m + n, 3);
	n += sn_test_put16(m + n, 0);
	n += sn_test_put16(m + n, 0);
	n += sn_test_dns_name(m + n, "Broker.HiveMQ.com");
	n += sn_test_put16(m + n, 1);
	n += sn_test_put16(m + n, 1);
	/* CNAME */
	n += sn_test_put16(m + n, 0xc00c);
	n += sn_test_put16(m + n, 5);
	n += sn_test_put16(m + n, 1);
	n += sn_test_put16(m + n, ttl >> 16);
	n += sn_test_put16(m + n, ttl & 0xffff);
	uint8_t target[64];
	size_t tl = sn_test_dns_name(target, "edge.cdn.example");
	n += sn_test_put16(m + n, (unsigned)tl);
	size_t target_at = n;
	memcpy(m + n, target, tl);
	n += tl;
	/* A */
	n += sn_test_put16(m + n, 0xc000 | (unsigned)target_at);
	n += sn_test_put16(m + n, 1);
	n += sn_test_put16(m + n, 1);
	n += sn_test_put16(m + n, ttl >> 16);
	n += sn_test_put16(m + n, ttl & 0xffff);
	n += sn_test_put16(m + n, 4);
	m[n++] = 192, m[n++] = 0, m[n++] = 2, m[n++] = 7;
	/* AAAA */
	n += sn_test_put16(m + n, 0xc000 | (unsigned)target_at);
	n += sn_test_put16(m + n, 28);
	n += sn_test_put16(m + n, 1);
	n += sn_test_put16(m + n, ttl >> 16);
	n += sn_test_put16(m + n, ttl & 0xffff);
	n += sn_test_put16(m + n, 16);
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7 };
	memcpy(m + n, v6, 16);
	n += 16;
	return n;
}

static struct sn_addr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	struct sn_addr x;
	memset(&x, 0, sizeof x);
	x.family = 4;
	x.b[0] = a, x.b[1] = b, x.b[2] = c, x.b[3] = d;
	return x;
}

START_TEST(test_chain_and_ttl)
{
	struct sn_dns d;
	uint8_t m[512];
	size_t n = response(m, 60);
	struct sn_addr client = v4(10, 0, 0, 5), other = v4(10, 0, 0, 6), a = v4(192, 0, 2, 7);
	struct sn_addr six;
	memset(&six, 0, sizeof six);
	six.family = 6;
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7 };
	memcpy(six.b, v6, 16);

	ck_assert_int_eq(sn_dns_init(&d, 1), 0);
	sn_dns_response(&d, &client, m, n, 100 * S);
	ck_assert_str_eq(sn_dns_name(&d, &client, &a, 100 * S), "broker.hivemq.com");
	ck_assert_str_eq(sn_dns_name(&d, &client, &six, 159 * S), "broker.hivemq.com");
	ck_assert_ptr_null(sn_dns_name(&d, &client, &a, 160 * S)); /* TTL over */
	ck_assert_ptr_null(sn_dns_name(&d, &other, &a, 100 * S));  /* not this client's */
	ck_assert_uint_eq(d.st.responses, 1);
	ck_assert_uint_eq(d.st.addresses, 2);
	ck_assert_uint_eq(d.st.malformed, 0);
	sn_dns_free(&d);
}
END_TEST

START_TEST(test_every_cut_is_clean)
{
	struct sn_dns d;
	uint8_t m[512];
	size_t n = response(m, 60);
	struct sn_addr client = v4(10, 0, 0, 5), a = v4(192, 0, 2, 7);

	ck_assert_int_eq(sn_dns_init(&d, 2), 0);
	for (size_t cut = 0; cut < n - 28; cut++) { /* 28: the AAAA record after the A */
		sn_dns_response(&d, &client, m, cut, 1 * S);
		ck_assert_ptr_null(sn_dns_name(&d, &client, &a, 1 * S));
	}
	sn_dns_response(&d, &client, m, n - 28, 1 * S); /* the A record whole, no AAAA */
	ck_assert_ptr_nonnull(sn_dns_name(&d, &client, &a, 1 * S));
	ck_assert_uint_gt(d.st.malformed, 0);
	sn_dns_free(&d);
}
END_TEST

START_TEST(test_hostile_pointers_and_queries)
{
	struct sn_dns d;
	uint8_t m[512];
	size_t n = response(m, 60);
	struct sn_addr client = v4(10, 0, 0, 5), a = v4(192, 0, 2, 7);

	ck_assert_int_eq(sn_dns_init(&d, 3), 0);
	/* the question's name points at itself */
	uint8_t loop[512];
	memcpy(loop, m, n);
	loop[12] = 0xc0, loop[13] = 12;
	sn_dns_response(&d, &client, loop, n, 1 * S);
	ck_assert_uint_eq(d.st.malformed, 1);
	/* a forward pointer */
	loop[13] = 200;
	sn_dns_response(&d, &client, loop, n, 1 * S);
	ck_assert_uint_eq(d.st.malformed, 2);
	ck_assert_ptr_null(sn_dns_name(&d, &client, &a, 1 * S));
	/* a query (QR 0) and an error response (NXDOMAIN) are not read */
	uint8_t q[512];
	memcpy(q, m, n);
	q[2] = 0x01;
	sn_dns_response(&d, &client, q, n, 1 * S);
	memcpy(q, m, n);
	q[3] = 0x83;
	sn_dns_response(&d, &client, q, n, 1 * S);
	ck_assert_uint_eq(d.st.responses, 2);
	ck_assert_ptr_null(sn_dns_name(&d, &client, &a, 1 * S));
	sn_dns_free(&d);
}
END_TEST

/*
 * Sets of SN_DNS_WAYS slots: 300 addresses of one client all keep their
 * name (direct-mapped, some would share a slot and lose it); past the
 * bound the entries expiring first go, counted, and the newest stays.
 */
START_TEST(test_sets_keep_colliding_names)
{
	struct sn_dns d;
	uint8_t m[512];
	size_t n = response(m, 600);
	struct sn_addr client = v4(10, 0, 0, 5);

	ck_assert_int_eq(sn_dns_init(&d, 4), 0);
	for (unsigned i = 0; i < 300; i++) {
		m[n - 30] = (uint8_t)(i >> 8), m[n - 29] = (uint8_t)i;
		sn_dns_response(&d, &client, m, n, 1 * S);
	}
	for (unsigned i = 0; i < 300; i++) {
		struct sn_addr a = v4(192, 0, (uint8_t)(i >> 8), (uint8_t)i);
		ck_assert_msg(sn_dns_name(&d, &client, &a, 2 * S) != NULL, "address %u lost", i);
	}
	ck_assert_uint_eq(d.st.replaced, 0);
	for (unsigned i = 300; i < 6000; i++) {
		m[n - 30] = (uint8_t)(i >> 8), m[n - 29] = (uint8_t)i;
		sn_dns_response(&d, &client, m, n, 1 * S + i);
	}
	ck_assert_uint_ge(d.st.replaced, 6000 + 1 - SN_DNS_SLOTS);
	struct sn_addr last = v4(192, 0, 5999 >> 8, 5999 & 255);
	ck_assert_ptr_nonnull(sn_dns_name(&d, &client, &last, 2 * S));
	sn_dns_free(&d);
}
END_TEST

Suite *dns_suite(void);

Suite *dns_suite(void)
{
	Suite *s = suite_create("dns");
	TCase *t = tcase_create("dns");

	tcase_add_test(t, test_chain_and_ttl);
	tcase_add_test(t, test_every_cut_is_clean);
	tcase_add_test(t, test_hostile_pointers_and_queries);
	tcase_add_test(t, test_sets_keep_colliding_names);
	suite_add_tcase(s, t);
	return s;
}
