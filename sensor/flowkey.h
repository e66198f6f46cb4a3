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
 * Builds the key from the packet's address words and fields, stores it as
 * whole words and returns its six words in w: the hash reads them from
 * registers, not back from the key just stored (a load that spans several
 * smaller stores waits for them to retire instead of being forwarded).
 * Returns true when the packet's source is endpoint a.
 */
static inline bool sn_flowkey_make_words(const struct sn_packet *pkt, struct sn_flow_key *k,
					 uint64_t w[6])
{
	uint64_t s[2], d[2];
	memcpy(s, pkt->src.b, sizeof s);
	memcpy(d, pkt->dst.b, sizeof d);
	int cmp = 0;
	for (int i = 0; i < 2 && cmp == 0; i++) {
		uint64_t p = __builtin_bswap64(s[i]), q = __builtin_bswap64(d[i]);
		if (p != q)
			cmp = p < q ? -1 : 1;
	}
	bool src_is_a = cmp < 0 || (cmp == 0 && pkt->sport <= pkt->dport);
	w[0] = src_is_a ? s[0] : d[0];
	w[1] = src_is_a ? s[1] : d[1];
	w[2] = src_is_a ? d[0] : s[0];
	w[3] = src_is_a ? d[1] : s[1];
	w[4] = sn_flowkey_word4(src_is_a ? pkt->sport : pkt->dport,
				src_is_a ? pkt->dport : pkt->sport, pkt->vlan, pkt->src.family);
	w[5] = pkt->tunnel_ctx;
	_Static_assert(sizeof *k == 6 * sizeof w[0], "the key is six words");
	memcpy(k, w, sizeof *k);
	return src_is_a;
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

static inline uint64_t sn_flowkey_hash(const struct sn_flowkey_secret *sec,
				       const struct sn_flow_key *k)
{
	uint64_t w[sizeof *k / 8];
	memcpy(w, k, sizeof w);
	return sn_flowkey_hash_words(sec, w);
}

/* The keys as words: no library call for a 48-byte compare. */
static inline bool sn_flowkey_equal(const struct sn_flow_key *x, const struct sn_flow_key *y)
{
	uint64_t a[sizeof *x / 8], b[sizeof *y / 8];
	memcpy(a, x, sizeof a);
	memcpy(b, y, sizeof b);
	return ((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3]) | (a[4] ^ b[4]) |
		(a[5] ^ b[5])) == 0;
}

#endif /* SN_FLOWKEY_H */
