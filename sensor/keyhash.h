/*
 * keyhash.h - the one keyed hash for every table an attacker can fill: the
 * flow table, the aggregator's groups and the replay table's index.
 *
 * Each word of the key is masked with a secret word before being
 * multiplied (the 64x64 -> 128-bit product folded to 64 bits, the mixing
 * step of wyhash), so without the secret - drawn per table from a random
 * seed at start - an attacker cannot choose keys that collide, and no
 * table degrades to a linear scan.  Keys are whole 64-bit words: callers
 * pack their key into words (zero padding included) so equal keys hash
 * equally.  Four words cost two multiplies; a five-word flow key three.
 */
#ifndef SN_KEYHASH_H
#define SN_KEYHASH_H

#include <stddef.h>
#include <stdint.h>

#define SN_KEYHASH_WORDS 6

struct sn_keyhash {
	uint64_t s[SN_KEYHASH_WORDS]; /* the secret, from the seed */
};

/* Derives the secret from a seed (splitmix64 steps). */
static inline void sn_keyhash_init(struct sn_keyhash *k, uint64_t seed)
{
	for (int i = 0; i < SN_KEYHASH_WORDS; i++) {
		uint64_t z = (seed += 0x9e3779b97f4a7c15ULL);
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
		k->s[i] = z ^ (z >> 31);
	}
}

/* Every input bit reaches both halves of the result. */
static inline uint64_t sn_keyhash_mum(uint64_t a, uint64_t b)
{
	__extension__ typedef unsigned __int128 u128;
	u128 r = (u128)a * b;
	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/*
 * Hash of n words: blocks of four are folded with two products each (the
 * running value masks the block's first word), each remaining word with
 * one more.  Low bits and top bits are both well mixed.
 */
static inline uint64_t sn_keyhash_words(const struct sn_keyhash *k, const uint64_t *w, size_t n)
{
	const uint64_t *s = k->s;
	uint64_t h = (uint64_t)n; /* the length counts: a key is not its prefix plus zeros */
	size_t i = 0;

	for (; i + 4 <= n; i += 4)
		h = sn_keyhash_mum(w[i] ^ s[0] ^ h, w[i + 1] ^ s[1]) ^
		    sn_keyhash_mum(w[i + 2] ^ s[2], w[i + 3] ^ s[3]);
	for (; i < n; i++)
		h = sn_keyhash_mum(h ^ w[i] ^ s[4], s[5]);
	if (n % 4 == 0)
		h = sn_keyhash_mum(h ^ s[4], s[5]);
	return h;
}

/* sn_keyhash_words() of five words, passed in registers. */
static inline uint64_t sn_keyhash_5(const struct sn_keyhash *k, uint64_t w0, uint64_t w1,
				    uint64_t w2, uint64_t w3, uint64_t w4)
{
	const uint64_t *s = k->s;
	uint64_t h = sn_keyhash_mum(w0 ^ s[0] ^ 5, w1 ^ s[1]) ^ sn_keyhash_mum(w2 ^ s[2], w3 ^ s[3]);
	return sn_keyhash_mum(h ^ w4 ^ s[4], s[5]);
}

#endif /* SN_KEYHASH_H */
