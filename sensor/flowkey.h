/*
 * flowkey.h - the normalised key of a TCP connection and its keyed hash.
 *
 * A key holds both endpoints in a fixed order (a <= b, address then port),
 * so both directions of a connection give one key, plus the VLAN id and the
 * tunnel context (decode.h: a keyed hash of the tunnels' outer addresses
 * and ids, 0 when none), so that one inner 5-tuple in two tunnels is two
 * connections.  Its
 * hash is keyed with a secret derived from a per-run seed, so an attacker
 * who picks addresses and ports cannot make keys collide in the flow index.
 * Hashing and comparing are inline: every packet does both.
 */
#ifndef SN_FLOWKEY_H
#define SN_FLOWKEY_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "decode.h"
#include "keyhash.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* Endpoints in a fixed order (a <= b) so both directions give one key. */
struct sn_flow_key {
	uint8_t a[16], b[16];
	uint16_t a_port, b_port;
	uint16_t vlan;
	uint8_t family;
	uint8_t zero; /* keeps the key free of padding */
	uint64_t tunnel; /* sn_packet.tunnel_ctx */
};
_Static_assert(sizeof(struct sn_flow_key) == 48, "flow key has no padding");

/* The hash key, derived once from a seed (keyhash.h). */
struct sn_flowkey_secret {
	struct sn_keyhash k;
};

void sn_flowkey_secret_init(struct sn_flowkey_secret *s, uint64_t seed);

/*
 * The key's fifth word (ports, VLAN, family, zero byte) as it lies in
 * memory, put together in a register.
 */
static inline uint64_t sn_flowkey_word4(uint16_t a_port, uint16_t b_port, uint16_t vlan,
					uint8_t family)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return (uint64_t)a_port | (uint64_t)b_port << 16 | (uint64_t)vlan << 32 |
	       (uint64_t)family << 48;
#else
	struct {
		uint16_t a_port, b_port, vlan;
		uint8_t family, zero;
	} f = { a_port, b_port, vlan, family, 0 };
	uint64_t w;
	_Static_assert(sizeof f == sizeof w, "word 4 has no padding");
	memcpy(&w, &f, sizeof w);
	return w;
#endif
}

/*
 * The key's six words as they lie in memory, and which endpoint the
 * packet's source is, all in registers: no array on the stack (the compiler
 * spilled one and guarded it with a stack canary).  The endpoints are
 * ordered as the bytes of the addresses (the first differing 64-bit word
 * compared big-endian), then ports.  Branching on the addresses only
 * decides the order, never how much work a packet costs.
 */
struct sn_flowkey_words {
	uint64_t w0, w1, w2, w3, w4, w5;
	bool src_is_a;
};

static inline uint64_t sn_flowkey_be64(uint64_t x)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return __builtin_bswap64(x);
#else
	return x;
#endif
}

static inline struct sn_flowkey_words sn_flowkey_words_of(const struct sn_packet *pkt)
{
	uint64_t s0, s1, d0, d1;
	memcpy(&s0, pkt->src.b, 8);
	memcpy(&s1, pkt->src.b + 8, 8);
	memcpy(&d0, pkt->dst.b, 8);
	memcpy(&d1, pkt->dst.b + 8, 8);
	uint16_t sp = pkt->sport, dp = pkt->dport;
	/*
	 * The first differing word decides, compared as big-endian numbers
	 * (byte order); equal addresses fall back to the ports.  The first
	 * words differ in nearly every packet (an IPv4 address lies in the
	 * first four bytes), so the word tests are well predicted.
	 */
	bool src_is_a;
	if (s0 != d0)
		src_is_a = sn_flowkey_be64(s0) < sn_flowkey_be64(d0);
	else if (s1 != d1)
		src_is_a = sn_flowkey_be64(s1) < sn_flowkey_be64(d1);
	else
		src_is_a = sp <= dp;
	struct sn_flowkey_words r;
	r.src_is_a = src_is_a;
	if (src_is_a) {
		r.w0 = s0;
		r.w1 = s1;
		r.w2 = d0;
		r.w3 = d1;
		r.w4 = sn_flowkey_word4(sp, dp, pkt->vlan, pkt->src.family);
	} else {
		r.w0 = d0;
		r.w1 = d1;
		r.w2 = s0;
		r.w3 = s1;
		r.w4 = sn_flowkey_word4(dp, sp, pkt->vlan, pkt->src.family);
	}
	r.w5 = pkt->tunnel_ctx;
	return r;
}

/* Stores the key as whole words. */
static inline void sn_flowkey_store(struct sn_flow_key *k, const struct sn_flowkey_words *r)
{
	_Static_assert(sizeof *k == 6 * sizeof r->w0, "the key is six words");
	char *d = (char *)(void *)k;
	memcpy(d, &r->w0, 8);
	memcpy(d + 8, &r->w1, 8);
	memcpy(d + 16, &r->w2, 8);
	memcpy(d + 24, &r->w3, 8);
	memcpy(d + 32, &r->w4, 8);
	memcpy(d + 40, &r->w5, 8);
}

/*
 * Builds the key from the packet's address words and fields, stores it as
 * whole words and returns its six words in w.  Returns true when the
 * packet's source is endpoint a.
 */
static inline bool sn_flowkey_make_words(const struct sn_packet *pkt, struct sn_flow_key *k,
					 uint64_t w[6])
{
	struct sn_flowkey_words r = sn_flowkey_words_of(pkt);
	sn_flowkey_store(k, &r);
	w[0] = r.w0;
	w[1] = r.w1;
	w[2] = r.w2;
	w[3] = r.w3;
	w[4] = r.w4;
	w[5] = r.w5;
	return r.src_is_a;
}

/* Builds the key; returns true when the packet's source is endpoint a. */
static inline bool sn_flowkey_make(const struct sn_packet *pkt, struct sn_flow_key *k)
{
	uint64_t w[6];
	return sn_flowkey_make_words(pkt, k, w);
}

/*
 * The keyed hash (keyhash.h) of the key's words: without the secret
 * (random per table) an attacker cannot choose keys that collide; it costs
 * three multiplies where SipHash-1-3 took nine rounds.  The tunnel word is
 * itself a keyed hash (0 without a tunnel), so it is folded into the fifth
 * word and the cost stays that of five words.  The index takes the
 * group from the low bits and a tag from the top 16, both well mixed.
 * Output never depends on it: nothing is iterated in hash order.
 */
static inline uint64_t sn_flowkey_hash_words(const struct sn_flowkey_secret *sec,
					     const uint64_t w[6])
{
	uint64_t v[5] = { w[0], w[1], w[2], w[3], w[4] ^ w[5] };
	return sn_keyhash_words(&sec->k, v, 5);
}

/*
 * The key, its hash and the source's side in one pass, the words never
 * leaving registers (the hash reads them there, not back from the key just
 * stored: a load spanning several smaller stores would wait for them).
 * The same key and hash as sn_flowkey_make() then sn_flowkey_hash().
 */
#if defined(__GNUC__)
__attribute__((always_inline)) /* else GCC calls it from the hint */
#endif
static inline bool sn_flowkey_make_hashed(const struct sn_flowkey_secret *sec,
					  const struct sn_packet *pkt, struct sn_flow_key *k,
					  uint64_t *hash)
{
	struct sn_flowkey_words r = sn_flowkey_words_of(pkt);
	sn_flowkey_store(k, &r);
	*hash = sn_keyhash_5(&sec->k, r.w0, r.w1, r.w2, r.w3, r.w4 ^ r.w5);
	return r.src_is_a;
}

static inline uint64_t sn_flowkey_hash(const struct sn_flowkey_secret *sec,
				       const struct sn_flow_key *k)
{
	uint64_t w[sizeof *k / 8];
	memcpy(w, k, sizeof w);
	return sn_flowkey_hash_words(sec, w);
}

/*
 * No library call for a 48-byte compare, and no copy of either key: with
 * SSE2 three 16-byte differences or-ed and tested at once, elsewhere six
 * word differences.  (Copying the keys into word arrays first had the
 * compiler spill both to the stack in the lookup of every segment.)
 */
static inline bool sn_flowkey_equal(const struct sn_flow_key *x, const struct sn_flow_key *y)
{
	const char *p = (const char *)(const void *)x, *q = (const char *)(const void *)y;
#if defined(__SSE2__)
	__m128i d0 = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(const void *)p),
				   _mm_loadu_si128((const __m128i *)(const void *)q));
	__m128i d1 = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(const void *)(p + 16)),
				   _mm_loadu_si128((const __m128i *)(const void *)(q + 16)));
	__m128i d2 = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(const void *)(p + 32)),
				   _mm_loadu_si128((const __m128i *)(const void *)(q + 32)));
	__m128i d = _mm_or_si128(_mm_or_si128(d0, d1), d2);
	return _mm_movemask_epi8(_mm_cmpeq_epi8(d, _mm_setzero_si128())) == 0xffff;
#else
	uint64_t acc = 0;
	for (size_t i = 0; i < sizeof *x; i += 8) {
		uint64_t a, b;
		memcpy(&a, p + i, 8);
		memcpy(&b, q + i, 8);
		acc |= a ^ b;
	}
	return acc == 0;
#endif
}

#endif /* SN_FLOWKEY_H */
