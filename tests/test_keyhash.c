/*
 * test_keyhash.c - the keyed hash (sensor/keyhash.h): deterministic for a
 * seed, different under another seed, every word and the length matter,
 * the low bits (bucket choice) spread, and the five-word case is the flow
 * key's hash.
 */
#include <check.h>
#include <string.h>

#include "flowkey.h"
#include "keyhash.h"

START_TEST(test_same_seed_same_hash)
{
	struct sn_keyhash a, b, c;
	uint64_t w[13] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13 };

	sn_keyhash_init(&a, 7);
	sn_keyhash_init(&b, 7);
	sn_keyhash_init(&c, 8);
	for (size_t n = 0; n <= 13; n++) {
		ck_assert_uint_eq(sn_keyhash_words(&a, w, n), sn_keyhash_words(&b, w, n));
		ck_assert_uint_ne(sn_keyhash_words(&a, w, n), sn_keyhash_words(&c, w, n));
	}
}
END_TEST

/* A change in any word, or a trailing zero word, changes the hash. */
START_TEST(test_every_word_counts)
{
	struct sn_keyhash k;
	uint64_t w[13] = { 0 };

	sn_keyhash_init(&k, 42);
	for (size_t n = 1; n <= 13; n++) {
		uint64_t base = sn_keyhash_words(&k, w, n);
		ck_assert_uint_ne(base, sn_keyhash_words(&k, w, n - 1));
		for (size_t i = 0; i < n; i++) {
			w[i] = 1;
			ck_assert_uint_ne(sn_keyhash_words(&k, w, n), base);
			w[i] = 0;
		}
	}
}
END_TEST

/* Keys differing in one byte of one word fill (nearly) all 1024 buckets. */
START_TEST(test_low_bits_spread)
{
	static uint8_t seen[1024];
	struct sn_keyhash k;
	uint64_t w[13] = { 0 };
	int n = 0;

	sn_keyhash_init(&k, 3);
	for (uint64_t v = 0; v < 4096; v++) {
		w[6] = v << 40; /* high bits of a middle word only */
		seen[sn_keyhash_words(&k, w, 13) & 1023] = 1;
	}
	for (int b = 0; b < 1024; b++)
		n += seen[b];
	ck_assert_int_ge(n, 950); /* 4096 balls in 1024 bins: ~1005 expected */
}
END_TEST

/* The flow table's key hash is this hash over the key's five words. */
START_TEST(test_flow_key_is_five_words)
{
	struct sn_flowkey_secret s;
	struct sn_flow_key key;
	uint64_t w[5];

	memset(&key, 0, sizeof key);
	key.a[0] = 10;
	key.b[0] = 203;
	key.a_port = 40000;
	key.b_port = 1883;
	key.family = 4;
	sn_flowkey_secret_init(&s, 99);
	memcpy(w, &key, sizeof w);
	ck_assert_uint_eq(sn_flowkey_hash(&s, &key), sn_keyhash_words(&s.k, w, 5));
}
END_TEST

Suite *keyhash_suite(void);

Suite *keyhash_suite(void)
{
	Suite *s = suite_create("keyhash");
	TCase *t = tcase_create("keyhash");

	tcase_add_test(t, test_same_seed_same_hash);
	tcase_add_test(t, test_every_word_counts);
	tcase_add_test(t, test_low_bits_spread);
	tcase_add_test(t, test_flow_key_is_five_words);
	suite_add_tcase(s, t);
	return s;
}
