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
 * memcmp(x, y, 16) < 0, == 0 or > 0 as -1, 0, 1, done as two big-endian
 * word compares: a libc call per packet for 16 bytes costs more than this.
 */
static inline int sn_flowkey_addr_order(const uint8_t x[16], const uint8_t y[16])
{
	uint64_t a[2], b[2];
	memcpy(a, x, sizeof a);
	memcpy(b, y, sizeof b);
	for (int k = 0; k < 2; k++) {
		uint64_t p = __builtin_bswap64(a[k]), q = __builtin_bswap64(b[k]);
		if (p != q)
			return p < q ? -1 : 1;
	}
	return 0;
}

/* Builds the key; returns true when the packet's source is endpoint a. */
static inline bool sn_flowkey_make(const struct sn_packet *pkt, struct sn_flow_key *k)
{
	int cmp = sn_flowkey_addr_order(pkt->src.b, pkt->dst.b);
	bool src_is_a = cmp < 0 || (cmp == 0 && pkt->sport <= pkt->dport);
	const struct sn_addr *a = src_is_a ? &pkt->src : &pkt->dst;
	const struct sn_addr *b = src_is_a ? &pkt->dst : &pkt->src;

	memcpy(k->a, a->b, sizeof k->a);
	memcpy(k->b, b->b, sizeof k->b);
	k->a_port = src_is_a ? pkt->sport : pkt->dport;
	k->b_port = src_is_a ? pkt->dport : pkt->sport;
	k->vlan = pkt->vlan;
	k->family = pkt->src.family;
	k->zero = 0;
	k->tunnel = pkt->tunnel_ctx;
	return src_is_a;
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
static inline uint64_t sn_flowkey_hash(const struct sn_flowkey_secret *sec,
				       const struct sn_flow_key *k)
{
	uint64_t w[sizeof *k / 8];
	memcpy(w, k, sizeof w);
	w[4] ^= w[5];
	return sn_keyhash_words(&sec->k, w, 5);
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
