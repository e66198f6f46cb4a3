/*
 * flowkey.c - building a connection's normalised key and the secret its
 * hash is keyed with (flowkey.h).
 */
#include "flowkey.h"

void sn_flowkey_secret_init(struct sn_flowkey_secret *s, uint64_t seed)
{
	sn_keyhash_init(&s->k, seed);
}

/*
 * memcmp(x, y, 16) < 0, == 0 or > 0 as -1, 0, 1, done as two big-endian
 * word compares: a libc call per packet for 16 bytes costs more than this.
 */
static int addr_order(const uint8_t x[16], const uint8_t y[16])
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

bool sn_flowkey_make(const struct sn_packet *pkt, struct sn_flow_key *k)
{
	int cmp = addr_order(pkt->src.b, pkt->dst.b);
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
