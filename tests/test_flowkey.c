/*
 * test_flowkey.c - the normalised connection key and its keyed hash.
 */
#include <check.h>
#include <string.h>

#include "flowkey.h"

static struct sn_packet pkt4(uint8_t s_last, uint16_t sp, uint8_t d_last, uint16_t dp)
{
	struct sn_packet p;
	memset(&p, 0, sizeof p);
	p.src.family = 4;
	p.dst.family = 4;
	uint8_t s[16] = { [10] = 0xff, [11] = 0xff, [12] = 10, [15] = s_last };
	uint8_t d[16] = { [10] = 0xff, [11] = 0xff, [12] = 10, [15] = d_last };
	memcpy(p.src.b, s, 16);
	memcpy(p.dst.b, d, 16);
	p.sport = sp;
	p.dport = dp;
	return p;
}

START_TEST(both_directions_give_one_key)
{
	struct sn_packet fwd = pkt4(9, 40000, 2, 1883), rev = pkt4(2, 1883, 9, 40000);
	struct sn_flow_key a, b;
	bool fa = sn_flowkey_make(&fwd, &a), ra = sn_flowkey_make(&rev, &b);
	ck_assert(sn_flowkey_equal(&a, &b));
	ck_assert(!fa && ra); /* 10.0.0.2 orders before 10.0.0.9 */
	ck_assert_uint_eq(a.a_port, 1883);
	ck_assert_uint_eq(a.b_port, 40000);
	ck_assert_uint_eq(a.zero, 0);
}
END_TEST

START_TEST(same_address_orders_by_port)
{
	struct sn_packet p = pkt4(1, 5000, 1, 4000);
	struct sn_flow_key k;
	ck_assert(!sn_flowkey_make(&p, &k));
	ck_assert_uint_eq(k.a_port, 4000);
	p = pkt4(1, 4000, 1, 4000);
	ck_assert(sn_flowkey_make(&p, &k)); /* equal ports: the source is a */
}
END_TEST

/*
 * The order is that of the address bytes, then the ports, wherever the
 * addresses first differ: in the first eight bytes, only in the last eight,
 * in a high or a low byte of a word (a little-endian compare would get
 * those wrong), or nowhere.
 */
START_TEST(order_is_byte_order_in_every_word)
{
	static const struct {
		int pos;         /* byte that differs, -1 none */
		uint8_t s, d;    /* its values */
		uint8_t low_s;   /* a lower-weight byte of the same word, source only */
	} cases[] = {
		{ 0, 1, 2, 0 }, { 0, 2, 1, 0 }, { 0, 1, 2, 0xff }, { 3, 9, 200, 0 },
		{ 7, 200, 9, 0 }, { 8, 1, 2, 0 }, { 8, 2, 1, 0xff }, { 12, 10, 11, 0 },
		{ 15, 3, 4, 0 }, { 15, 4, 3, 0 }, { -1, 0, 0, 0 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		for (int ports = 0; ports < 3; ports++) {
			struct sn_packet p;
			memset(&p, 0, sizeof p);
			p.src.family = p.dst.family = 6;
			memset(p.src.b, 0x20, 16);
			memset(p.dst.b, 0x20, 16);
			if (cases[i].pos >= 0) {
				int pos = cases[i].pos;
				p.src.b[pos] = cases[i].s;
				p.dst.b[pos] = cases[i].d;
				/* a later byte of the same 8-byte word that would outweigh
				   the differing one if the word were compared little-endian */
				if (cases[i].low_s && (pos % 8) < 7)
					p.src.b[pos - pos % 8 + 7] = cases[i].low_s;
			}
			p.sport = (uint16_t)(1000 + ports);
			p.dport = 1001;
			int c = memcmp(p.src.b, p.dst.b, 16);
			bool want = c < 0 || (c == 0 && p.sport <= p.dport);
			struct sn_flow_key k;
			bool got = sn_flowkey_make(&p, &k);
			ck_assert_msg(got == want, "case %zu ports %d", i, ports);
			ck_assert(memcmp(k.a, k.b, 16) < 0 ||
				  (memcmp(k.a, k.b, 16) == 0 && k.a_port <= k.b_port));
			struct sn_packet r = p;
			r.src = p.dst;
			r.dst = p.src;
			r.sport = p.dport;
			r.dport = p.sport;
			struct sn_flow_key kr;
			bool rgot = sn_flowkey_make(&r, &kr);
			ck_assert(sn_flowkey_equal(&k, &kr));
			if (c != 0 || p.sport != p.dport)
				ck_assert(rgot != got);
		}
	}
}
END_TEST

START_TEST(vlan_and_ports_are_part_of_key)
{
	struct sn_packet p = pkt4(1, 40000, 2, 1883), q = p;
	struct sn_flow_key a, b;
	q.vlan = 7;
	sn_flowkey_make(&p, &a);
	sn_flowkey_make(&q, &b);
	ck_assert(!sn_flowkey_equal(&a, &b));
	q = pkt4(1, 40001, 2, 1883);
	sn_flowkey_make(&q, &b);
	ck_assert(!sn_flowkey_equal(&a, &b));
}
END_TEST

START_TEST(hash_depends_on_secret)
{
	struct sn_packet p = pkt4(1, 40000, 2, 1883);
	struct sn_flow_key k;
	struct sn_flowkey_secret s1, s2, s1b;
	sn_flowkey_make(&p, &k);
	sn_flowkey_secret_init(&s1, 1);
	sn_flowkey_secret_init(&s1b, 1);
	sn_flowkey_secret_init(&s2, 2);
	ck_assert_uint_eq(sn_flowkey_hash(&s1, &k), sn_flowkey_hash(&s1b, &k));
	ck_assert_uint_ne(sn_flowkey_hash(&s1, &k), sn_flowkey_hash(&s2, &k));
}
END_TEST

/* Keys differing in one port: low 10 bits spread over (nearly) all buckets. */
START_TEST(hash_spreads_low_bits)
{
	static uint8_t seen[1024];
	struct sn_flowkey_secret s;
	sn_flowkey_secret_init(&s, 42);
	memset(seen, 0, sizeof seen);
	for (uint16_t port = 1; port <= 4096; port++) {
		struct sn_packet p = pkt4(1, port, 2, 1883);
		struct sn_flow_key k;
		sn_flowkey_make(&p, &k);
		seen[sn_flowkey_hash(&s, &k) & 1023] = 1;
	}
	int n = 0;
	for (int b = 0; b < 1024; b++)
		n += seen[b];
	ck_assert_int_gt(n, 950); /* 4096 random draws miss about 19 of 1024 */
}
END_TEST

START_TEST(tunnel_context_is_part_of_key)
{
	struct sn_flowkey_secret sec;
	sn_flowkey_secret_init(&sec, 7);
	struct sn_packet p = pkt4(1, 40000, 2, 1883), q = p, r = pkt4(2, 1883, 1, 40000);
	p.tunnel_ctx = 0x1234567;
	r.tunnel_ctx = 0x1234567;
	q.tunnel_ctx = 0x7654321;
	struct sn_flow_key kp, kq, kr;
	sn_flowkey_make(&p, &kp);
	sn_flowkey_make(&q, &kq);
	sn_flowkey_make(&r, &kr);
	ck_assert(!sn_flowkey_equal(&kp, &kq));      /* one 5-tuple, two tunnels */
	ck_assert(sn_flowkey_hash(&sec, &kp) != sn_flowkey_hash(&sec, &kq));
	ck_assert(sn_flowkey_equal(&kp, &kr));       /* both directions of one tunnel */
	ck_assert_uint_eq(sn_flowkey_hash(&sec, &kp), sn_flowkey_hash(&sec, &kr));
}
END_TEST

/*
 * The key put together from words (ports, VLAN and family packed into one)
 * holds the packet's fields in their places, and the words handed to the
 * hash are the key's own: for addresses that differ only in the second
 * word, and for the packet read from either side.
 */
START_TEST(key_words_are_the_key)
{
	struct sn_flowkey_secret sec;
	sn_flowkey_secret_init(&sec, 11);
	struct sn_packet p;
	memset(&p, 0, sizeof p);
	p.src.family = p.dst.family = 6;
	for (int i = 0; i < 16; i++) {
		p.src.b[i] = (uint8_t)(0x20 + i);
		p.dst.b[i] = (uint8_t)(0x20 + i);
	}
	p.src.b[9] = 0x01; /* the source orders first, by its second word */
	p.sport = 0xa1b2;
	p.dport = 0x0102;
	p.vlan = 0x0ffe;
	p.tunnel_ctx = 0x8877665544332211ULL;
	for (int side = 0; side < 2; side++) {
		struct sn_flow_key k;
		uint64_t w[6];
		memset(&k, 0xee, sizeof k);
		bool src_is_a = sn_flowkey_make_words(&p, &k, w);
		ck_assert(src_is_a == (side == 0));
		const struct sn_addr *a = side == 0 ? &p.src : &p.dst;
		const struct sn_addr *b = side == 0 ? &p.dst : &p.src;
		ck_assert_mem_eq(k.a, a->b, 16);
		ck_assert_mem_eq(k.b, b->b, 16);
		ck_assert_uint_eq(k.a_port, 0xa1b2); /* the first source, from either side */
		ck_assert_uint_eq(k.b_port, 0x0102);
		ck_assert_uint_eq(k.vlan, 0x0ffe);
		ck_assert_uint_eq(k.family, 6);
		ck_assert_uint_eq(k.zero, 0);
		ck_assert(k.tunnel == 0x8877665544332211ULL);
		ck_assert_mem_eq(w, &k, sizeof k);
		ck_assert(sn_flowkey_hash_words(&sec, w) == sn_flowkey_hash(&sec, &k));
		struct sn_flow_key plain;
		sn_flowkey_make(&p, &plain);
		ck_assert(sn_flowkey_equal(&plain, &k));
		/* the other side */
		struct sn_addr t = p.src;
		p.src = p.dst;
		p.dst = t;
		uint16_t port = p.sport;
		p.sport = p.dport;
		p.dport = port;
	}
}
END_TEST

/*
 * The one-pass key and hash the flow table builds per segment equal the key
 * sn_flowkey_make() builds and its sn_flowkey_hash(), with a <= b in the
 * bytes' order then by port: addresses that differ in either half, in the
 * first or last byte, only in the ports, or not at all, from either side.
 */
START_TEST(key_and_hash_in_one_pass)
{
	struct sn_flowkey_secret sec;
	sn_flowkey_secret_init(&sec, 23);
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	for (int n = 0; n < 4000; n++) {
		struct sn_packet p;
		memset(&p, 0, sizeof p);
		p.src.family = p.dst.family = (n & 1) ? 6 : 4;
		for (int i = 0; i < 16; i++) {
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
			p.src.b[i] = (uint8_t)(x >> 56);
			p.dst.b[i] = (n % 5 == 0) ? p.src.b[i] : (uint8_t)(x >> 48);
		}
		if (n % 7 == 1) { /* equal but for one byte of either half */
			memcpy(p.dst.b, p.src.b, 16);
			p.dst.b[(n / 7) % 16] ^= 0x80;
		}
		p.sport = (uint16_t)(x >> 8);
		p.dport = (n % 3 == 0) ? p.sport : (uint16_t)(x >> 24);
		p.vlan = (uint16_t)(x & 0xfff);
		p.tunnel_ctx = (n % 4 == 0) ? 0 : x;
		struct sn_flow_key k1, k2;
		uint64_t h;
		memset(&k2, 0xee, sizeof k2);
		bool a1 = sn_flowkey_make(&p, &k1);
		bool a2 = sn_flowkey_make_hashed(&sec, &p, &k2, &h);
		ck_assert(a1 == a2);
		ck_assert_mem_eq(&k1, &k2, sizeof k1);
		ck_assert(h == sn_flowkey_hash(&sec, &k1));
		int c = memcmp(k2.a, k2.b, 16);
		ck_assert(c < 0 || (c == 0 && k2.a_port <= k2.b_port));
		const struct sn_addr *sa = a2 ? &p.src : &p.dst;
		ck_assert_mem_eq(k2.a, sa->b, 16);
		ck_assert_uint_eq(k2.a_port, a2 ? p.sport : p.dport);
	}
}
END_TEST

/* Keys that differ in any one byte of the 48 (any bit) are different keys. */
START_TEST(any_byte_makes_keys_differ)
{
	struct sn_flow_key a, b;
	memset(&a, 0, sizeof a);
	for (size_t i = 0; i < sizeof a; i++)
		((unsigned char *)&a)[i] = (unsigned char)(i * 37 + 1);
	b = a;
	ck_assert(sn_flowkey_equal(&a, &b));
	for (size_t i = 0; i < sizeof a; i++)
		for (int bit = 0; bit < 8; bit += 7) {
			b = a;
			((unsigned char *)&b)[i] ^= (unsigned char)(1u << bit);
			ck_assert(!sn_flowkey_equal(&a, &b));
			ck_assert(!sn_flowkey_equal(&b, &a));
		}
}
END_TEST

Suite *flowkey_suite(void);

Suite *flowkey_suite(void)
{
	Suite *s = suite_create("flowkey");
	TCase *t = tcase_create("key");
	tcase_add_test(t, both_directions_give_one_key);
	tcase_add_test(t, same_address_orders_by_port);
	tcase_add_test(t, order_is_byte_order_in_every_word);
	tcase_add_test(t, vlan_and_ports_are_part_of_key);
	tcase_add_test(t, hash_depends_on_secret);
	tcase_add_test(t, hash_spreads_low_bits);
	tcase_add_test(t, tunnel_context_is_part_of_key);
	tcase_add_test(t, key_words_are_the_key);
	tcase_add_test(t, key_and_hash_in_one_pass);
	tcase_add_test(t, any_byte_makes_keys_differ);
	suite_add_tcase(s, t);
	return s;
}
