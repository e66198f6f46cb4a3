/*
 * decode_straight.h - the straight path of sn_decode_frame(), inlined into
 * its callers.
 *
 * The common frame (Ethernet II with at most one 802.1Q tag, IPv4 without
 * options or IPv6 without extension headers, then TCP) is decoded here, in
 * the caller's own code: an out-of-line call held its eight arguments
 * across the straight path for the general path's fallback, and saved and
 * restored six registers on every frame to do it.  Every byte is read
 * inside a view the bounds-checked cursor gave (sn_cur_view) after it
 * checked the view's length, never past the captured length.  Any other
 * frame goes to the general path (sn_decode_frame_general, decode.c).
 * decode.c's sn_decode_packet() inlines the same path.  Only decode.h
 * includes this file, after the types it uses.
 */
#ifndef SN_DECODE_STRAIGHT_H
#define SN_DECODE_STRAIGHT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "clock.h"
#include "cursor.h"

#if defined(__GNUC__)
#define SN_DEC__HOT inline __attribute__((always_inline))
#else
#define SN_DEC__HOT inline
#endif

#define SN_DEC__ETH_IPV4 0x0800
#define SN_DEC__ETH_IPV6 0x86dd
#define SN_DEC__ETH_VLAN 0x8100
#define SN_DEC__PROTO_TCP 6
#define SN_DEC__TCP_MIN 20

/* `auto` still sampling: computes and records one whole segment's checksum. */
void sn_dec__observe_checksum(struct sn_csum_policy *p, const struct sn_packet *o,
			      const uint8_t *seg, uint32_t len);

/*
 * Walks the TCP options (RFC 9293 section 3.1) in the n bytes at p, all of
 * them inside a bounds-checked view of the TCP header: end, no-op, or kind
 * and length >= 2 within the option space.  False on an inconsistent
 * length (a kind without its length byte, a length below 2 or past the
 * option space).  An index below n, not a cursor per byte: an MSS option
 * alone is one turn.
 */
static SN_DEC__HOT bool sn_dec__tcp_options_ok(const uint8_t *p, size_t n)
{
	/* The layouts most segments carry, which the walk below would accept
	 * in one to three turns: MSS alone (a SYN's 24-byte header), NOP NOP
	 * timestamps (32 bytes: segments of a connection with timestamps). */
	if (n == 4 && p[0] == 2 && p[1] == 4)
		return true;
	if (n == 12 && p[0] == 1 && p[1] == 1 && p[2] == 8 && p[3] == 10)
		return true;
	size_t i = 0;
	while (i < n) {
		unsigned kind = p[i];
		if (kind == 0)
			return true;
		if (kind == 1) {
			i++;
			continue;
		}
		if (n - i < 2)
			return false;
		unsigned len = p[i + 1];
		if (len < 2 || len > n - i)
			return false;
		i += len;
	}
	return true;
}

/*
 * Applies the checksum policy to a segment of `len` bytes whose bytes were
 * all captured (the caller checks): while `auto` samples, its checksum is
 * computed and recorded (nothing is dropped); once validating, the segment
 * is marked for the flow table.  The view's addresses are already set.
 */
static SN_DEC__HOT void sn_dec__checksum_policy(struct sn_decoder *dc, struct sn_packet *o,
						const uint8_t *seg, uint32_t len)
{
	struct sn_csum_policy *p = &dc->csum;
	if (!p->validate_all) { /* else: validating every source, the usual case */
		if (!sn_csum_policy_wants(p))
			return;
		if (!p->decided) {
			sn_dec__observe_checksum(p, o, seg, len);
			return;
		}
		if (!sn_csum_policy_validates(p, &o->src))
			return;
	}
	o->csum_pending = true;
	o->tcp = seg;
	o->tcp_len = len;
}

static inline uint16_t sn_dec__be16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline uint32_t sn_dec__be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/*
 * An IPv4 address into a 16-byte address (the rest zero) as two whole
 * 8-byte stores, so that the flow key's 8-byte loads of it a moment later
 * are forwarded from the stores instead of waiting for a 4-byte store and
 * the packet's clearing to retire.  ip4 lies inside a header already
 * bounds-checked.
 */
static inline void sn_dec__addr4_words(uint8_t b[16], const uint8_t *ip4)
{
	uint32_t v;
	memcpy(&v, ip4, sizeof v);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint64_t w[2] = { v, 0 };
#else
	uint64_t w[2] = { (uint64_t)v << 32, 0 };
#endif
	memcpy(b, w, sizeof w);
}

/* A capture time that events can carry. */
static inline bool sn_dec__ts_in_range(uint64_t ts_us)
{
	return ts_us != SN_TIME_INVALID && ts_us <= SN_TIME_MAX_S * SN_US_PER_S + (SN_US_PER_S - 1);
}

/*
 * For the straight path, which writes every field of the view before
 * n_layers and from seq on (and no padding lies there): zeroes the rest,
 * n_layers to seq (layer count, reassembled, tunnel_ctx, the checksum mark,
 * tcp, tcp_len, tcp_flags and their padding), with three stores instead of
 * clear_view's eight.  Each 8-byte field there lies inside one store, so a
 * later load of it is forwarded from that store.
 */
static inline void sn_dec__clear_view_tail(struct sn_packet *p)
{
	enum { FROM = offsetof(struct sn_packet, n_layers), TO = offsetof(struct sn_packet, seq) };
	_Static_assert(offsetof(struct sn_packet, src) == 8 &&
			       offsetof(struct sn_packet, dst) == 8 + sizeof p->src &&
			       offsetof(struct sn_packet, sport) == 8 + 2 * sizeof p->src &&
			       offsetof(struct sn_packet, dport) == offsetof(struct sn_packet, sport) + 2 &&
			       offsetof(struct sn_packet, vlan) == offsetof(struct sn_packet, dport) + 2 &&
			       FROM == offsetof(struct sn_packet, vlan) + 2,
		       "no padding before n_layers: the straight path writes every byte there");
	_Static_assert(offsetof(struct sn_packet, ack) == TO + 4 &&
			       offsetof(struct sn_packet, ip_bytes) == TO + 8 &&
			       offsetof(struct sn_packet, payload_wire_len) == TO + 12 &&
			       offsetof(struct sn_packet, payload) == TO + 16 &&
			       offsetof(struct sn_packet, payload_len) == TO + 24 &&
			       offsetof(struct sn_packet, layers) == TO + 28,
		       "no padding from seq to layers: the straight path writes every byte there");
	_Static_assert(FROM % 16 == 0 && TO - FROM == 40 &&
			       offsetof(struct sn_packet, tunnel_ctx) + 8 <= FROM + 16 &&
			       offsetof(struct sn_packet, tcp) + 8 <= FROM + 32,
		       "n_layers to seq: 16 + 16 + 8 bytes, tunnel_ctx and tcp each in one store");
	__extension__ typedef uint8_t v16 __attribute__((vector_size(16)));
	const v16 z = { 0 };
	const uint64_t z8 = 0;
	uint8_t *b = (uint8_t *)p;
	memcpy(b + FROM, &z, 16);
	memcpy(b + FROM + 16, &z, 16);
	memcpy(b + FROM + 32, &z8, 8);
}

/*
 * The TCP header and the view, for the straight path below: `h` is its
 * checked view of the frame's start, the IP header (ip_hdr bytes: a
 * constant at each of the two calls, so that each is compiled for its
 * family) lies at ip = h + l2 and says the IP packet is `total` bytes.
 */
static SN_DEC__HOT bool sn_dec__straight_segment(struct sn_decoder *dc, struct sn_cursor c,
					const uint8_t *h, size_t l2, uint32_t ip_hdr,
					uint32_t total, uint32_t wirelen, uint64_t ts_us,
					struct sn_packet *o, struct sn_decode_stats *st)
{
	const uint8_t *ip = h + l2;
	uint32_t hdr = (uint32_t)(ip[ip_hdr + 12] >> 4) * 4;
	uint32_t wire = total - ip_hdr;
	if (hdr < SN_DEC__TCP_MIN || hdr > wire)
		return false;
	/* The whole TCP header; the segment's captured bytes, clipped to the IP length. */
	sn_cur_skip(&c, l2 + ip_hdr); /* inside the view checked by the caller */
	const uint8_t *tcp = sn_cur_view(&c, hdr);
	if (!tcp)
		return false;
	size_t avail = sn_cur_remaining(&c);
	uint32_t captured = wire < avail ? wire : (uint32_t)avail;

	/* Written in an order that lets each value go as soon as it is stored
	 * (fewer registers saved and restored per frame); packets and tcp apart
	 * from bytes, with the view's clearing in between, which keeps the
	 * compiler from pairing packets and bytes into a 16-byte
	 * load-add-store of twice the instructions of two adds. */
	st->packets++;
	st->tcp++;
	sn_dec__clear_view_tail(o);
	st->bytes += wirelen;
	o->ts_us = ts_us;
	bool whole = captured == wire;
	o->payload_wire_len = wire - hdr;
	o->payload = tcp + hdr;
	o->payload_len = captured - hdr;
	o->vlan = 0;
	if (l2 != 14) { /* one 802.1Q tag */
		o->vlan = (uint16_t)(sn_dec__be16(h + 14) & 0x0fff);
		o->n_layers = 1;
		o->layers[0] = SN_LAYER_ID(SN_LAYER_VLAN, o->vlan);
	}
	o->ip_bytes = total;
	if (ip_hdr == 20) {
		o->src.family = o->dst.family = 4;
		sn_dec__addr4_words(o->src.b, ip + 12);
		sn_dec__addr4_words(o->dst.b, ip + 16);
	} else {
		o->src.family = o->dst.family = 6;
		memcpy(o->src.b, ip + 8, 16);
		memcpy(o->dst.b, ip + 24, 16);
	}
	o->sport = sn_dec__be16(tcp);
	o->dport = sn_dec__be16(tcp + 2);
	o->seq = sn_dec__be32(tcp + 4);
	o->ack = sn_dec__be32(tcp + 8);
	o->tcp_flags = tcp[13];
	/* Bad option lengths are counted, but the segment is still usable. */
	if (hdr > SN_DEC__TCP_MIN && !sn_dec__tcp_options_ok(tcp + SN_DEC__TCP_MIN, hdr - SN_DEC__TCP_MIN))
		st->errors[SN_DERR_TCP_BAD_OPTIONS]++;
	/* Last: nothing else is live across its rare calls. */
	if (dc && whole)
		sn_dec__checksum_policy(dc, o, tcp, wire);
	return true;
}

/*
 * The frames most traffic is: Ethernet II with at most one 802.1Q tag,
 * then an IPv4 header without options that is not a fragment, or an IPv6
 * header followed by TCP (no extension headers, a payload length that is
 * not 0), and a TCP header whose length fits in the IP length and in what
 * was captured, with a capture time in range.  Works on the frame itself,
 * not the layers' shared state: the fixed headers are read in place after
 * one bounds check of a cursor over the frame (sn_cur_view), the TCP header
 * with its options after a second one over its whole length.  Any other
 * frame, or one where a check fails, returns false having written and
 * counted nothing, and the general path decodes it from the start, so the
 * packet view and the counters are always the general path's (test_decode
 * holds the two to the same output, with a decoder and without).  dc NULL:
 * a stateless decode, no checksum policy.
 */
static SN_DEC__HOT bool sn_dec__straight_tcp(struct sn_decoder *dc, const uint8_t *frame,
					     uint32_t caplen, uint32_t wirelen, uint64_t ts_us,
					     struct sn_packet *o, struct sn_decode_stats *st)
{
	enum { ETH = 14, TAG = 4, IPV4 = 20, IPV6 = 40 };
	struct sn_cursor c = sn_cur_make(frame, caplen);
	const uint8_t *h = sn_cur_view(&c, ETH + IPV4 + SN_DEC__TCP_MIN);
	if (!h || !sn_dec__ts_in_range(ts_us))
		return false;
	size_t l2 = ETH;
	uint16_t type = sn_dec__be16(h + 12);
	if (type == SN_DEC__ETH_VLAN) {
		h = sn_cur_view(&c, ETH + TAG + IPV4 + SN_DEC__TCP_MIN);
		if (!h)
			return false;
		type = sn_dec__be16(h + 16);
		l2 += TAG;
	}
	const uint8_t *ip = h + l2;
	if (type == SN_DEC__ETH_IPV4) {
		if (ip[0] != 0x45 || ip[9] != SN_DEC__PROTO_TCP)
			return false;
		uint32_t total = sn_dec__be16(ip + 2);
		if ((sn_dec__be16(ip + 6) & 0x3fff) != 0 || total < IPV4 + SN_DEC__TCP_MIN)
			return false; /* a fragment, or a length the general path judges */
		return sn_dec__straight_segment(dc, c, h, l2, IPV4, total, wirelen, ts_us, o, st);
	}
	if (type == SN_DEC__ETH_IPV6) {
		h = sn_cur_view(&c, l2 + IPV6 + SN_DEC__TCP_MIN);
		if (!h)
			return false;
		ip = h + l2;
		uint32_t plen = sn_dec__be16(ip + 4);
		if (ip[0] >> 4 != 6 || ip[6] != SN_DEC__PROTO_TCP || plen < SN_DEC__TCP_MIN)
			return false; /* extension headers, a jumbogram, a short length */
		return sn_dec__straight_segment(dc, c, h, l2, IPV6, IPV6 + plen, wirelen, ts_us, o, st);
	}
	return false;
}

#endif /* SN_DECODE_STRAIGHT_H */
