/*
 * decode.c - one captured frame to a TCP segment view (struct sn_packet).
 *
 * Layers: link (Ethernet II with up to four 802.1Q/802.1ad tags, Linux
 * cooked v1/v2, BSD loopback, raw IP), then IPv4 (RFC 791) or IPv6 (RFC 8200
 * with its extension header chain), then the TCP header (RFC 9293).  Every
 * byte is read through struct sn_cursor, or inside a view of a fixed header
 * (and the TCP options) that the cursor bounds-checked first
 * (sn_cur_view), never past the captured length.  The common Ethernet/IP/TCP
 * frame takes a straight path (decode_straight.h) inlined into
 * sn_decode_packet() here and into sn_decode_frame()'s callers; everything
 * else goes through the layers, which share one struct dec.
 *
 * Lengths come from the IP header, clipped to what was captured, so Ethernet
 * padding never counts as payload.  Anything malformed bumps exactly one
 * error counter; non-IP, non-TCP and non-first fragments are counted skips.
 * This runs on every packet: no allocation, no formatting, no syscalls.
 */
#include "decode.h"

#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "cursor.h"

/* Network-layer protocols as Ethernet types (IEEE 802 numbers). */
#define ETH_IPV4 0x0800
#define ETH_IPV6 0x86dd
#define ETH_VLAN 0x8100    /* 802.1Q */
#define ETH_QINQ 0x88a8    /* 802.1ad service tag */
#define ETH_QINQ_OLD 0x9100 /* pre-standard QinQ */
#define ETH_MPLS_UC 0x8847
#define ETH_MPLS_MC 0x8848
#define ETH_PPPOE_SESSION 0x8864
#define ETH_TEB 0x6558     /* transparent Ethernet bridging (GRE, Geneve) */
#define ETH_ERSPAN_2 0x88be
#define ETH_ERSPAN_3 0x22eb
#define VLAN_MAX_DEPTH 4
#define MPLS_MAX_LABELS 8

#define IP_PROTO_IPIP 4
#define IP_PROTO_TCP 6
#define IP_PROTO_UDP 17
#define IP_PROTO_IPV6 41
#define IP_PROTO_GRE 47
#define IP6_HOPOPTS 0
#define IP6_ROUTING 43
#define IP6_FRAGMENT 44
#define IP6_AH 51
#define IP6_DSTOPTS 60
#define IP6_MAX_EXT 8

#define PPP_IPV4 0x0021
#define PPP_IPV6 0x0057

#define TCP_MIN_HDR 20

/* Link-layer address families of DLT_NULL / DLT_LOOP (BSD AF_* values). */
#define BSD_AF_INET 2
#define BSD_AF_INET6_BSD 24     /* NetBSD, OpenBSD */
#define BSD_AF_INET6_FREEBSD 28
#define BSD_AF_INET6_DARWIN 30
#define BSD_AF_INET6_LINUX 10

/* The general path kept out of the straight path's callers. */
#if defined(__GNUC__)
#define HOT_INLINE inline __attribute__((always_inline))
#define OUT_OF_LINE __attribute__((noinline))
#else
#define HOT_INLINE inline
#define OUT_OF_LINE
#endif

/*
 * Internal "keep going" result: a layer that returns it has not counted
 * anything and leaves the rest to the next layer.
 */
#define DEC_CONTINUE SN_DECODE_TCP

/* What the layers share while one frame is decoded. */
struct dec {
	struct sn_cursor c;        /* the current packet; c.off = current layer */
	uint32_t wirelen;          /* the current packet's original length */
	struct sn_packet *out;
	struct sn_decode_stats *st;
	struct sn_decoder *dc;     /* NULL: stateless (no reassembly, no checksums) */
	unsigned depth;            /* tunnels removed so far */
	bool sample_only;          /* checksum pre-scan: observe, never reassemble */
	bool no_checksum;          /* the pseudo-header cannot be known (IPv6 routing) */
};

/* Defaults of a stateless decode: the well-known tunnel ports. */
static const uint16_t default_vxlan_port = 4789;
static const uint16_t default_geneve_port = 6081;

static enum sn_decode_rc decode_ethertype(struct dec *d, uint16_t type);
static enum sn_decode_rc decode_ipv4(struct dec *d);
static enum sn_decode_rc decode_ipv6(struct dec *d);

static const char *const error_names[SN_DERR_COUNT] = {
#define SN_X(id, name) [SN_DERR_##id] = name,
	SN_DECODE_ERRORS(SN_X)
#undef SN_X
};

const char *sn_decode_error_name(enum sn_decode_error e)
{
	if ((unsigned)e >= SN_DERR_COUNT)
		return "unknown";
	return error_names[e];
}

bool sn_decode_linktype_supported(int linktype)
{
	switch (linktype) {
	case SN_DLT_NULL:
	case SN_DLT_EN10MB:
	case SN_DLT_RAW:
	case SN_DLT_RAW_BSD:
	case SN_DLT_LOOP:
	case SN_DLT_LINKTYPE_RAW:
	case SN_DLT_LINUX_SLL:
	case SN_DLT_IPV4:
	case SN_DLT_IPV6:
	case SN_DLT_LINUX_SLL2:
		return true;
	default:
		return false;
	}
}

void sn_layer_format(uint32_t layer, char out[SN_LAYER_STRLEN])
{
	static const char *const names[] = {
		[SN_LAYER_VLAN] = "vlan",     [SN_LAYER_MPLS] = "mpls",
		[SN_LAYER_GRE] = "gre",       [SN_LAYER_ERSPAN] = "erspan",
		[SN_LAYER_VXLAN] = "vxlan",   [SN_LAYER_GENEVE] = "geneve",
		[SN_LAYER_IPIP] = "ipip",     [SN_LAYER_PPPOE] = "pppoe",
	};
	unsigned kind = (layer >> 24) & ~SN_LAYER_HAS_ID;
	const char *name = kind < sizeof names / sizeof names[0] && names[kind] ? names[kind]
										 : "unknown";
	if (layer >> 24 & SN_LAYER_HAS_ID)
		snprintf(out, SN_LAYER_STRLEN, "%s:%u", name, (unsigned)(layer & 0xffffff));
	else
		snprintf(out, SN_LAYER_STRLEN, "%s", name);
}

static enum sn_decode_rc fail(struct dec *d, enum sn_decode_error e)
{
	d->st->errors[e]++;
	return SN_DECODE_ERROR;
}

static enum sn_decode_rc skip(uint64_t *counter)
{
	(*counter)++;
	return SN_DECODE_SKIP;
}

static void add_layer(struct dec *d, uint32_t layer)
{
	if (d->out->n_layers < SN_LAYERS_MAX)
		d->out->layers[d->out->n_layers++] = layer;
}

static inline uint64_t mum(uint64_t a, uint64_t b)
{
	__extension__ typedef unsigned __int128 u128;
	u128 r = (u128)a * b;
	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static uint64_t load64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof v);
	return v;
}

/*
 * Enters one more tunnel whose outer packet had the view's current
 * addresses: folds them (in a fixed order, so both directions agree) and
 * the tunnel's id into tunnel_ctx.  False when nested too deep.
 */
static bool enter_tunnel(struct dec *d, unsigned kind, uint64_t id, bool outer_ip)
{
	if (++d->depth > SN_TUNNEL_MAX_DEPTH)
		return false;
	const uint64_t *s = d->dc ? d->dc->secret : (const uint64_t[2]){ 0, 0 };
	/* The outer VLAN belongs to the tunnel; the key keeps the inner one. */
	uint64_t h = d->out->tunnel_ctx ^ ((uint64_t)kind << 56 | (uint64_t)d->out->vlan << 32 | id);
	d->out->vlan = 0;
	if (outer_ip) {
		const struct sn_addr *a = &d->out->src, *b = &d->out->dst;
		if (memcmp(a->b, b->b, 16) > 0) {
			const struct sn_addr *t = a;
			a = b;
			b = t;
		}
		h ^= mum(load64(a->b) ^ s[0], load64(a->b + 8) ^ s[1]);
		h ^= mum(load64(b->b) ^ s[1], load64(b->b + 8) ^ s[0]);
	}
	d->out->tunnel_ctx = mum(h ^ s[0], 0x9e3779b97f4a7c15ULL ^ s[1]) | 1; /* never 0 */
	return true;
}

/* Continues with the inner bytes `inner` of wire length `wire` as a new packet. */
static void descend(struct dec *d, struct sn_cursor inner, uint32_t wire)
{
	d->c = inner;
	d->wirelen = wire;
}

/* ---- link layer ------------------------------------------------------ */

static bool is_vlan_type(uint16_t type)
{
	return type == ETH_VLAN || type == ETH_QINQ || type == ETH_QINQ_OLD;
}

/*
 * Walks up to four VLAN tags (TCI, then the next type) after a link header
 * whose type field said `*type`; keeps the innermost VLAN id.
 */
static enum sn_decode_rc vlan_tags(struct dec *d, uint16_t *type)
{
	for (int depth = 0; is_vlan_type(*type); depth++) {
		if (depth == VLAN_MAX_DEPTH)
			return fail(d, SN_DERR_VLAN_TOO_DEEP);
		uint16_t tci = sn_cur_be16(&d->c);
		*type = sn_cur_be16(&d->c);
		if (!sn_cur_ok(&d->c))
			return fail(d, SN_DERR_VLAN_TRUNCATED);
		d->out->vlan = (uint16_t)(tci & 0x0fff);
		add_layer(d, SN_LAYER_ID(SN_LAYER_VLAN, d->out->vlan));
	}
	return DEC_CONTINUE;
}

static enum sn_decode_rc link_ethernet(struct dec *d, uint16_t *type)
{
	sn_cur_skip(&d->c, 12); /* destination and source MAC */
	*type = sn_cur_be16(&d->c);
	if (!sn_cur_ok(&d->c))
		return fail(d, SN_DERR_LINK_TRUNCATED);
	return vlan_tags(d, type);
}

/* Linux cooked v1: 16 bytes, protocol (an Ethernet type) at offset 14. */
static enum sn_decode_rc link_sll(struct dec *d, uint16_t *type)
{
	sn_cur_skip(&d->c, 14);
	*type = sn_cur_be16(&d->c);
	if (!sn_cur_ok(&d->c))
		return fail(d, SN_DERR_LINK_TRUNCATED);
	return vlan_tags(d, type);
}

/* Linux cooked v2: 20 bytes, protocol at offset 0. */
static enum sn_decode_rc link_sll2(struct dec *d, uint16_t *type)
{
	*type = sn_cur_be16(&d->c);
	sn_cur_skip(&d->c, 18);
	if (!sn_cur_ok(&d->c))
		return fail(d, SN_DERR_LINK_TRUNCATED);
	return vlan_tags(d, type);
}

static uint16_t bsd_family_type(uint32_t af)
{
	switch (af) {
	case BSD_AF_INET:
		return ETH_IPV4;
	case BSD_AF_INET6_LINUX:
	case BSD_AF_INET6_BSD:
	case BSD_AF_INET6_FREEBSD:
	case BSD_AF_INET6_DARWIN:
		return ETH_IPV6;
	default:
		return 0;
	}
}

/*
 * DLT_NULL: a 4-byte address family in the capturing host's byte order,
 * which the file does not tell us, so both orders are tried.  DLT_LOOP:
 * the same, always big-endian.
 */
static enum sn_decode_rc link_null(struct dec *d, bool network_order, uint16_t *type)
{
	struct sn_cursor peek = d->c;
	uint32_t be = sn_cur_be32(&d->c);
	uint32_t le = sn_cur_le32(&peek);
	if (!sn_cur_ok(&d->c))
		return fail(d, SN_DERR_LINK_TRUNCATED);
	*type = bsd_family_type(be);
	if (*type == 0 && !network_order)
		*type = bsd_family_type(le);
	return DEC_CONTINUE;
}

/* Raw IP: the version nibble of the first byte says which. */
static enum sn_decode_rc link_raw(struct dec *d, uint16_t *type)
{
	uint8_t v = sn_cur_peek(&d->c, 0);
	if (!sn_cur_ok(&d->c))
		return fail(d, SN_DERR_LINK_TRUNCATED);
	if (v >> 4 == 4)
		*type = ETH_IPV4;
	else if (v >> 4 == 6)
		*type = ETH_IPV6;
	else
		return fail(d, SN_DERR_BAD_LINK_PROTOCOL);
	return DEC_CONTINUE;
}

static enum sn_decode_rc decode_link(struct dec *d, int linktype, uint16_t *type)
{
	switch (linktype) {
	case SN_DLT_EN10MB:
		return link_ethernet(d, type);
	case SN_DLT_LINUX_SLL:
		return link_sll(d, type);
	case SN_DLT_LINUX_SLL2:
		return link_sll2(d, type);
	case SN_DLT_NULL:
		return link_null(d, false, type);
	case SN_DLT_LOOP:
		return link_null(d, true, type);
	case SN_DLT_RAW:
	case SN_DLT_RAW_BSD:
	case SN_DLT_LINKTYPE_RAW:
		return link_raw(d, type);
	case SN_DLT_IPV4:
		*type = ETH_IPV4;
		return DEC_CONTINUE;
	case SN_DLT_IPV6:
		*type = ETH_IPV6;
		return DEC_CONTINUE;
	default:
		return fail(d, SN_DERR_BAD_LINK_PROTOCOL);
	}
}

/* ---- TCP ------------------------------------------------------------- */

/* The TCP checksum over the pseudo-header and the whole segment verifies. */
static HOT_INLINE bool tcp_checksum_ok(const struct sn_addr *src, const struct sn_addr *dst,
			    const uint8_t *seg, uint32_t len)
{
	return sn_csum_tcp_ok(src->b, dst->b, src->family == 4 ? 4 : 16, seg, len);
}

/* `auto` still sampling: the first SN_CSUM_SAMPLE whole segments. */
OUT_OF_LINE void sn_dec__observe_checksum(struct sn_csum_policy *p, const struct sn_packet *o,
				  const uint8_t *seg, uint32_t len)
{
	sn_csum_policy_observe(p, &o->src, !tcp_checksum_ok(&o->src, &o->dst, seg, len));
}

/*
 * `l4` covers the captured bytes of the IP payload (already clipped to the
 * IP length); `l4_wire` is that payload's length per the IP header.
 */
static enum sn_decode_rc decode_tcp(struct dec *d, struct sn_cursor l4, uint32_t l4_wire)
{
	struct sn_packet *o = d->out;
	if (!sn_cur_has(&l4, TCP_MIN_HDR))
		return fail(d, l4_wire < TCP_MIN_HDR ? SN_DERR_TCP_BAD_OFFSET
						     : SN_DERR_TCP_TRUNCATED);
	struct sn_cursor seg = l4;
	o->sport = sn_cur_be16(&l4);
	o->dport = sn_cur_be16(&l4);
	o->seq = sn_cur_be32(&l4);
	o->ack = sn_cur_be32(&l4);
	uint32_t hdr = (uint32_t)(sn_cur_u8(&l4) >> 4) * 4;
	o->tcp_flags = sn_cur_u8(&l4);
	sn_cur_skip(&l4, 6); /* window, checksum, urgent pointer */
	if (hdr < TCP_MIN_HDR || hdr > l4_wire)
		return fail(d, SN_DERR_TCP_BAD_OFFSET);
	if (!sn_cur_has(&l4, hdr - TCP_MIN_HDR))
		return fail(d, SN_DERR_TCP_TRUNCATED);
	if (d->dc && !d->no_checksum && sn_cur_remaining(&seg) == l4_wire)
		sn_dec__checksum_policy(d->dc, o, seg.p + seg.off, l4_wire);
	if (d->sample_only)
		return SN_DECODE_SKIP;
	/* Bad option lengths are counted, but the segment is still usable. */
	const uint8_t *opt = sn_cur_view(&l4, hdr - TCP_MIN_HDR); /* captured: checked above */
	if (!opt || !sn_dec__tcp_options_ok(opt, hdr - TCP_MIN_HDR))
		d->st->errors[SN_DERR_TCP_BAD_OPTIONS]++;
	sn_cur_skip(&l4, hdr - TCP_MIN_HDR);
	struct sn_cursor payload = sn_cur_rest(&l4);
	o->payload_wire_len = l4_wire - hdr;
	o->payload = payload.p;
	o->payload_len = (uint32_t)sn_cur_remaining(&payload);
	d->st->tcp++;
	if (d->depth)
		d->st->tunnelled++;
	return SN_DECODE_TCP;
}

/* ---- tunnels ----------------------------------------------------------- */

/* Ethernet inside a tunnel: addresses, type, VLAN tags, then the type. */
static enum sn_decode_rc inner_ethernet(struct dec *d)
{
	uint16_t type = 0;
	sn_cur_skip(&d->c, 12);
	type = sn_cur_be16(&d->c);
	if (!sn_cur_ok(&d->c))
		return fail(d, SN_DERR_TUNNEL_BAD_HEADER);
	enum sn_decode_rc rc = vlan_tags(d, &type);
	return rc != DEC_CONTINUE ? rc : decode_ethertype(d, type);
}

/* The payload of a tunnel's Ethernet type, over d->c. */
static enum sn_decode_rc tunnel_payload(struct dec *d, uint16_t type)
{
	if (type == ETH_TEB)
		return inner_ethernet(d);
	return decode_ethertype(d, type);
}

/*
 * An MPLS label stack (RFC 3032) down to the bottom-of-stack bit, then IPv4
 * or IPv6 by the first nibble, or an Ethernet pseudowire behind a control
 * word whose first nibble is 0 (RFC 4448, RFC 4385).
 */
static enum sn_decode_rc decode_mpls(struct dec *d)
{
	if (!enter_tunnel(d, SN_LAYER_MPLS, 0, false))
		return skip(&d->st->tunnel_too_deep);
	for (int n = 0;; n++) {
		if (n == MPLS_MAX_LABELS)
			return skip(&d->st->tunnel_too_deep);
		uint32_t entry = sn_cur_be32(&d->c);
		if (!sn_cur_ok(&d->c))
			return fail(d, SN_DERR_MPLS_TRUNCATED);
		add_layer(d, SN_LAYER_ID(SN_LAYER_MPLS, entry >> 12));
		if (entry & 0x100)
			break;
	}
	uint8_t first = sn_cur_peek(&d->c, 0);
	if (!sn_cur_ok(&d->c))
		return fail(d, SN_DERR_MPLS_TRUNCATED);
	switch (first >> 4) {
	case 4:
		return decode_ipv4(d);
	case 6:
		return decode_ipv6(d);
	case 0:
		sn_cur_skip(&d->c, 4); /* pseudowire control word */
		return inner_ethernet(d);
	default:
		return skip(&d->st->not_ip);
	}
}

/* PPPoE session stage (RFC 2516): 6-byte header, then a PPP protocol. */
static enum sn_decode_rc decode_pppoe(struct dec *d)
{
	sn_cur_skip(&d->c, 2); /* version, type, code */
	uint16_t session = sn_cur_be16(&d->c);
	sn_cur_skip(&d->c, 2); /* length */
	uint16_t proto = sn_cur_be16(&d->c);
	if (!sn_cur_ok(&d->c))
		return fail(d, SN_DERR_PPPOE_TRUNCATED);
	if (!enter_tunnel(d, SN_LAYER_PPPOE, session, false))
		return skip(&d->st->tunnel_too_deep);
	add_layer(d, SN_LAYER_ID(SN_LAYER_PPPOE, session));
	if (proto == PPP_IPV4)
		return decode_ipv4(d);
	if (proto == PPP_IPV6)
		return decode_ipv6(d);
	return skip(&d->st->not_ip);
}

/*
 * ERSPAN (draft-foschiano-erspan): type II's 8-byte header or type III's
 * 12 (plus 8 of platform data when its O bit is set), then Ethernet.
 * Type I has no header at all and is told apart by GRE carrying no
 * sequence number.
 */
static enum sn_decode_rc decode_erspan(struct dec *d, uint16_t type, bool gre_seq)
{
	uint32_t session = 0;
	if (type == ETH_ERSPAN_3 || gre_seq) {
		uint16_t ver_vlan = sn_cur_be16(&d->c);
		session = sn_cur_be16(&d->c) & 0x03ffu;
		uint32_t w = sn_cur_be32(&d->c); /* II: index; III: timestamp */
		if (type == ETH_ERSPAN_3) {
			w = sn_cur_be32(&d->c); /* SGT, P, FT, HW id, D, Gra, O */
			if (w & 1)
				sn_cur_skip(&d->c, 8);
		}
		(void)w;
		if (!sn_cur_ok(&d->c) || (ver_vlan >> 12) != (type == ETH_ERSPAN_3 ? 2u : 1u))
			return fail(d, SN_DERR_TUNNEL_BAD_HEADER);
	}
	add_layer(d, SN_LAYER_ID(SN_LAYER_ERSPAN, session));
	return inner_ethernet(d);
}

/*
 * GRE (RFC 2784 with RFC 2890's key and sequence number): version 0, no
 * routing.  `l4` is the captured IP payload, `wire` its length.
 */
static enum sn_decode_rc decode_gre(struct dec *d, struct sn_cursor l4, uint32_t wire)
{
	uint16_t flags = sn_cur_be16(&l4);
	uint16_t type = sn_cur_be16(&l4);
	if (!sn_cur_ok(&l4) || (flags & 0x4007) != 0) /* routing present, or version != 0 */
		return fail(d, SN_DERR_GRE_BAD_HEADER);
	uint32_t key = 0, hdr = 4;
	if (flags & 0x8000) { /* checksum + reserved */
		sn_cur_skip(&l4, 4);
		hdr += 4;
	}
	if (flags & 0x2000) {
		key = sn_cur_be32(&l4);
		hdr += 4;
	}
	bool seq = flags & 0x1000;
	if (seq) {
		sn_cur_skip(&l4, 4);
		hdr += 4;
	}
	if (!sn_cur_ok(&l4) || hdr > wire)
		return fail(d, SN_DERR_GRE_BAD_HEADER);
	if (!enter_tunnel(d, SN_LAYER_GRE, key, true))
		return skip(&d->st->tunnel_too_deep);
	add_layer(d, SN_LAYER(SN_LAYER_GRE, 0));
	descend(d, sn_cur_rest(&l4), wire - hdr);
	if (type == ETH_ERSPAN_2 || type == ETH_ERSPAN_3)
		return decode_erspan(d, type, seq);
	return tunnel_payload(d, type);
}

static bool port_in(uint16_t port, const uint16_t *ports, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ports[i] == port)
			return true;
	return false;
}

/*
 * UDP: only VXLAN (RFC 7348) and Geneve (RFC 8926) on their configured
 * destination ports are looked into, and DNS responses (source port 53)
 * are handed up for their names; anything else is not TCP.
 */
static enum sn_decode_rc decode_udp(struct dec *d, struct sn_cursor l4, uint32_t wire)
{
	uint16_t sport = sn_cur_be16(&l4);
	uint16_t dport = sn_cur_be16(&l4);
	sn_cur_skip(&l4, 4); /* length, checksum */
	if (!sn_cur_ok(&l4))
		return wire < 8 ? fail(d, SN_DERR_UDP_TRUNCATED) : skip(&d->st->not_tcp);
	if (sport == 53 && !d->sample_only) {
		struct sn_cursor rest = sn_cur_rest(&l4);
		d->out->sport = sport;
		d->out->dport = dport;
		d->out->payload = rest.p;
		d->out->payload_len = (uint32_t)sn_cur_remaining(&rest);
		d->st->not_tcp++;
		return SN_DECODE_DNS;
	}
	const struct sn_decoder *dc = d->dc;
	bool vxlan = dc ? port_in(dport, dc->vxlan_ports, dc->n_vxlan_ports)
			: dport == default_vxlan_port;
	bool geneve = dc ? port_in(dport, dc->geneve_ports, dc->n_geneve_ports)
			 : dport == default_geneve_port;
	if (!vxlan && !geneve)
		return skip(&d->st->not_tcp);
	uint8_t b0 = sn_cur_u8(&l4);
	uint8_t b1 = sn_cur_u8(&l4);
	uint16_t type = sn_cur_be16(&l4);
	uint32_t vni = sn_cur_be24(&l4);
	sn_cur_skip(&l4, 1);
	uint32_t hdr = 16;
	if (geneve) {
		uint32_t opt = (uint32_t)(b0 & 0x3f) * 4;
		sn_cur_skip(&l4, opt);
		hdr += opt;
	}
	if (!sn_cur_ok(&l4) || hdr > wire)
		return fail(d, SN_DERR_TUNNEL_BAD_HEADER);
	(void)b1;
	if (vxlan && !(b0 & 0x08)) /* the I flag: a valid VNI */
		return fail(d, SN_DERR_TUNNEL_BAD_HEADER);
	if (geneve && (b0 >> 6) != 0)
		return fail(d, SN_DERR_TUNNEL_BAD_HEADER);
	unsigned kind = vxlan ? SN_LAYER_VXLAN : SN_LAYER_GENEVE;
	if (!enter_tunnel(d, kind, vni, true))
		return skip(&d->st->tunnel_too_deep);
	add_layer(d, SN_LAYER_ID(kind, vni));
	descend(d, sn_cur_rest(&l4), wire - hdr);
	return vxlan ? inner_ethernet(d) : tunnel_payload(d, type);
}

/* IP-in-IP (protocols 4 and 41, RFC 2003 and RFC 4213). */
static enum sn_decode_rc decode_ipip(struct dec *d, struct sn_cursor l4, uint32_t wire, bool v6)
{
	if (!enter_tunnel(d, SN_LAYER_IPIP, v6, true))
		return skip(&d->st->tunnel_too_deep);
	add_layer(d, SN_LAYER(SN_LAYER_IPIP, 0));
	descend(d, l4, wire);
	return v6 ? decode_ipv6(d) : decode_ipv4(d);
}

/* The upper layer of an IP packet (or reassembled datagram). */
static inline enum sn_decode_rc decode_l4(struct dec *d, uint8_t proto, struct sn_cursor l4,
					  uint32_t wire)
{
	switch (proto) {
	case IP_PROTO_TCP:
		return decode_tcp(d, l4, wire);
	case IP_PROTO_UDP:
		return decode_udp(d, l4, wire);
	case IP_PROTO_GRE:
		return decode_gre(d, l4, wire);
	case IP_PROTO_IPIP:
		return decode_ipip(d, l4, wire, false);
	case IP_PROTO_IPV6:
		return decode_ipip(d, l4, wire, true);
	default:
		return skip(&d->st->not_tcp);
	}
}

/* ---- IP -------------------------------------------------------------- */

/*
 * Length of the IP packet when its header says 0: a TSO/GSO super-frame
 * captured on the sending host.  Taken from the wire length when it is
 * plausible, else from what was captured.
 */
static uint32_t ip_len_unknown(const struct dec *d)
{
	size_t start = sn_cur_offset(&d->c);
	size_t captured = sn_cur_remaining(&d->c);
	size_t wire = d->wirelen > start ? d->wirelen - start : 0;
	size_t len = wire > captured ? wire : captured;
	return len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
}

/* A cursor over the captured part of `wire_len` bytes at d->c's position. */
static struct sn_cursor clipped(const struct dec *d, uint32_t wire_len)
{
	struct sn_cursor rest = sn_cur_rest(&d->c);
	size_t n = sn_cur_remaining(&rest);
	return sn_cur_sub(&rest, wire_len < n ? wire_len : n);
}

/* Reassembly is on for this decode. */
static bool reassembling(const struct dec *d)
{
	return d->dc && d->dc->defrag && !d->sample_only;
}

/*
 * Hands a fragment to reassembly.  DEC_CONTINUE when the datagram completed,
 * with the cursor, wire length, protocol and IP bytes now the whole datagram's.
 */
static enum sn_decode_rc reassemble(struct dec *d, struct sn_frag *f, struct sn_cursor *l4,
				    uint32_t *wire, uint8_t *proto, uint32_t *ip_bytes)
{
	struct sn_datagram dg;
	d->st->fragments++;
	f->src = d->out->src;
	f->dst = d->out->dst;
	f->ctx = d->out->tunnel_ctx;
	f->data = l4->p ? l4->p + l4->off : NULL;
	f->captured = (uint32_t)sn_cur_remaining(l4);
	if (sn_defrag_add(d->dc->defrag, f, d->out->ts_us, &d->st->defrag, &dg) != SN_DEFRAG_DONE)
		return SN_DECODE_SKIP;
	d->out->reassembled = true;
	*l4 = sn_cur_make(dg.data, dg.captured);
	*wire = dg.wire;
	*proto = dg.proto;
	*ip_bytes = dg.hdr_len + dg.wire;
	return DEC_CONTINUE;
}

static enum sn_decode_rc decode_ipv4(struct dec *d)
{
	struct sn_cursor h = sn_cur_rest(&d->c);
	uint8_t vihl = sn_cur_u8(&h);
	if (!sn_cur_ok(&h))
		return fail(d, SN_DERR_IPV4_TRUNCATED);
	if (vihl >> 4 != 4)
		return fail(d, SN_DERR_IPV4_BAD_VERSION);
	uint32_t ihl = (uint32_t)(vihl & 0x0f) * 4;
	if (ihl < 20)
		return fail(d, SN_DERR_IPV4_BAD_IHL);
	if (!sn_cur_has(&d->c, ihl))
		return fail(d, SN_DERR_IPV4_TRUNCATED);
	sn_cur_skip(&h, 1); /* type of service */
	uint32_t total = sn_cur_be16(&h);
	uint16_t id = sn_cur_be16(&h);
	uint16_t frag = sn_cur_be16(&h);
	sn_cur_skip(&h, 1); /* time to live */
	uint8_t proto = sn_cur_u8(&h);
	sn_cur_skip(&h, 2); /* header checksum */
	d->out->src.family = d->out->dst.family = 4;
	sn_cur_copy(&h, d->out->src.b, 4);
	sn_cur_copy(&h, d->out->dst.b, 4);
	if (d->depth) { /* an outer IPv6 header may have filled them */
		memset(d->out->src.b + 4, 0, 12);
		memset(d->out->dst.b + 4, 0, 12);
	}
	bool unknown_len = total == 0;
	if (unknown_len)
		total = ip_len_unknown(d);
	if (total < ihl)
		return fail(d, SN_DERR_IPV4_BAD_TOTAL_LENGTH);
	d->no_checksum = unknown_len;
	struct sn_cursor ip = clipped(d, total);
	sn_cur_skip(&ip, ihl); /* header and options, known to be captured */
	struct sn_cursor l4 = sn_cur_rest(&ip);
	uint32_t wire = total - ihl;
	uint32_t ip_bytes = total;
	if ((frag & 0x3fff) != 0) { /* more fragments, or an offset */
		if (reassembling(d)) {
			struct sn_frag f = { .id = id, .proto = proto, .hdr_len = ihl,
					     .offset = (uint32_t)(frag & 0x1fff) * 8,
					     .more = frag & 0x2000, .wire = wire };
			enum sn_decode_rc rc = reassemble(d, &f, &l4, &wire, &proto, &ip_bytes);
			if (rc != DEC_CONTINUE)
				return rc;
		} else if ((frag & 0x1fff) != 0) {
			/* A later fragment has no TCP header; counted whatever its protocol. */
			return skip(&d->st->fragments);
		}
	}
	d->out->ip_bytes = ip_bytes;
	return decode_l4(d, proto, l4, wire);
}

/* Length in bytes of the extension header `nh` starting at c, or 0 if absent. */
static uint32_t ipv6_ext_len(struct sn_cursor c, uint8_t nh)
{
	sn_cur_skip(&c, 1); /* its own next-header field */
	uint32_t n = sn_cur_u8(&c);
	if (!sn_cur_ok(&c))
		return 0;
	if (nh == IP6_FRAGMENT)
		return 8;
	if (nh == IP6_AH)
		return (n + 2) * 4; /* RFC 4302: in 4-octet units, minus 2 */
	return (n + 1) * 8;        /* RFC 8200: in 8-octet units, minus 1 */
}

static bool is_ipv6_ext(uint8_t nh)
{
	return nh == IP6_HOPOPTS || nh == IP6_ROUTING || nh == IP6_DSTOPTS ||
	       nh == IP6_FRAGMENT || nh == IP6_AH;
}

/*
 * Follows the extension header chain over `ip` (captured, clipped to the
 * IP payload of *wire bytes), leaving ip at the upper-layer header.  A
 * fragment header hands the rest to reassembly; when that completes the
 * chain continues over the whole datagram.
 */
static enum sn_decode_rc ipv6_ext_chain(struct dec *d, struct sn_cursor *ip, uint8_t *nh,
					uint32_t *wire, uint32_t *ip_bytes)
{
	for (int count = 0; is_ipv6_ext(*nh); count++) {
		if (count == IP6_MAX_EXT)
			return fail(d, SN_DERR_IPV6_EXT_TOO_MANY);
		uint32_t len = ipv6_ext_len(*ip, *nh);
		if (len == 0 || len > *wire || !sn_cur_has(ip, len))
			return fail(d, SN_DERR_IPV6_EXT_TRUNCATED);
		struct sn_cursor ext = sn_cur_sub(ip, len);
		uint8_t next = sn_cur_u8(&ext);
		sn_cur_skip(&ext, 1);
		if (*nh == IP6_ROUTING)
			d->no_checksum = true; /* the pseudo-header's address is the final hop */
		if (*nh == IP6_FRAGMENT) {
			uint16_t off = sn_cur_be16(&ext);
			uint32_t id = sn_cur_be32(&ext);
			if (reassembling(d) && (off & 0xfff9) != 0) {
				struct sn_frag f = { .id = id, .proto = next,
						     .hdr_len = *ip_bytes - *wire,
						     .offset = off & 0xfff8u, .more = off & 1,
						     .wire = *wire - len };
				*nh = next;
				*wire -= len;
				enum sn_decode_rc rc = reassemble(d, &f, ip, wire, nh, ip_bytes);
				if (rc != DEC_CONTINUE)
					return rc;
				continue;
			}
			if ((off & 0xfff8) != 0)
				return skip(&d->st->fragments);
		}
		*nh = next;
		*wire -= len;
	}
	return DEC_CONTINUE;
}

static enum sn_decode_rc decode_ipv6(struct dec *d)
{
	struct sn_cursor h = sn_cur_rest(&d->c);
	uint8_t v = sn_cur_peek(&h, 0);
	if (!sn_cur_ok(&h))
		return fail(d, SN_DERR_IPV6_TRUNCATED);
	if (v >> 4 != 6)
		return fail(d, SN_DERR_IPV6_BAD_VERSION);
	if (!sn_cur_has(&h, 40))
		return fail(d, SN_DERR_IPV6_TRUNCATED);
	sn_cur_skip(&h, 4); /* version, traffic class, flow label */
	uint32_t plen = sn_cur_be16(&h);
	uint8_t nh = sn_cur_u8(&h);
	sn_cur_skip(&h, 1); /* hop limit */
	d->out->src.family = d->out->dst.family = 6;
	sn_cur_copy(&h, d->out->src.b, 16);
	sn_cur_copy(&h, d->out->dst.b, 16);
	d->no_checksum = plen == 0;
	if (plen == 0) /* jumbogram or TSO super-frame: trust the frame size */
		plen = ip_len_unknown(d) - 40;
	struct sn_cursor ip = clipped(d, 40 + plen);
	sn_cur_skip(&ip, 40);
	uint32_t l4_wire = plen;
	uint32_t ip_bytes = 40 + plen;
	enum sn_decode_rc rc = ipv6_ext_chain(d, &ip, &nh, &l4_wire, &ip_bytes);
	if (rc != DEC_CONTINUE)
		return rc;
	d->out->ip_bytes = ip_bytes;
	return decode_l4(d, nh, sn_cur_rest(&ip), l4_wire);
}

/* The network layer named by an Ethernet type, at d->c. */
static enum sn_decode_rc decode_ethertype(struct dec *d, uint16_t type)
{
	switch (type) {
	case ETH_IPV4:
		return decode_ipv4(d);
	case ETH_IPV6:
		return decode_ipv6(d);
	case ETH_MPLS_UC:
	case ETH_MPLS_MC:
		return decode_mpls(d);
	case ETH_PPPOE_SESSION:
		return decode_pppoe(d);
	default:
		return skip(&d->st->not_ip);
	}
}

/* ---- the view --------------------------------------------------------- */

/*
 * Zeroes the packet view up to layers[] (padding included) with 16-byte
 * stores: a plain memset of this size compiles to rep stosq, whose start-up
 * costs more than the eight stores, once per frame.
 */
static inline void clear_view(struct sn_packet *p)
{
	enum { HEAD = offsetof(struct sn_packet, layers) };
	_Static_assert(HEAD >= 16 && HEAD <= 128, "clear_view covers 16 to 128 bytes");
	__extension__ typedef uint8_t v16 __attribute__((vector_size(16)));
	const v16 z = { 0 };
	uint8_t *b = (uint8_t *)p;
	memcpy(b, &z, 16);
	if (HEAD >= 32)
		memcpy(b + 16, &z, 16);
	if (HEAD >= 48)
		memcpy(b + 32, &z, 16);
	if (HEAD >= 64)
		memcpy(b + 48, &z, 16);
	if (HEAD >= 80)
		memcpy(b + 64, &z, 16);
	if (HEAD >= 96)
		memcpy(b + 80, &z, 16);
	if (HEAD >= 112)
		memcpy(b + 96, &z, 16);
	if (HEAD >= 128)
		memcpy(b + 112, &z, 16);
	memcpy(b + HEAD - 16, &z, 16); /* the tail the stores above left */
}

/* ---- entry ----------------------------------------------------------- */

/* Every frame through the layers, with what the entry points share in d. */
static enum sn_decode_rc decode_frame(struct dec *d, int linktype, uint64_t ts_us)
{
	uint16_t type = 0;
	struct sn_packet *out = d->out;
	d->st->packets++;
	d->st->bytes += d->wirelen;
	/* Every field the layers may leave unset; layers[] is read up to n_layers. */
	clear_view(out);
	if (!sn_dec__ts_in_range(ts_us)) {
		d->st->errors[SN_DERR_TIMESTAMP_OUT_OF_RANGE]++; /* a time no event could carry */
		return SN_DECODE_ERROR;
	}
	out->ts_us = ts_us;
	enum sn_decode_rc rc = decode_link(d, linktype, &type);
	if (rc != DEC_CONTINUE)
		return rc;
	if (type == ETH_IPV4)
		return decode_ipv4(d);
	if (type == ETH_IPV6)
		return decode_ipv6(d);
	return decode_ethertype(d, type);
}

/* The general path's entry: its state set up out of the straight path's way. */
static OUT_OF_LINE enum sn_decode_rc decode_general(struct sn_decoder *dc, int linktype, const uint8_t *frame,
					uint32_t caplen, uint32_t wirelen, uint64_t ts_us,
					struct sn_packet *out, struct sn_decode_stats *st)
{
	struct dec d = { .c = sn_cur_make(frame, caplen), .wirelen = wirelen, .out = out, .st = st,
			 .dc = dc };
	return decode_frame(&d, linktype, ts_us);
}

enum sn_decode_rc sn_decode_packet(int linktype, const uint8_t *frame, uint32_t caplen,
				   uint32_t wirelen, uint64_t ts_us, struct sn_packet *out,
				   struct sn_decode_stats *st)
{
	if (linktype == SN_DLT_EN10MB &&
	    sn_dec__straight_tcp(NULL, frame, caplen, wirelen, ts_us, out, st))
		return SN_DECODE_TCP;
	return decode_general(NULL, linktype, frame, caplen, wirelen, ts_us, out, st);
}

enum sn_decode_rc sn_decode_packet_general(int linktype, const uint8_t *frame, uint32_t caplen,
					   uint32_t wirelen, uint64_t ts_us, struct sn_packet *out,
					   struct sn_decode_stats *st)
{
	return decode_general(NULL, linktype, frame, caplen, wirelen, ts_us, out, st);
}

enum sn_decode_rc sn_decode_frame_general(struct sn_decoder *dc, int linktype,
					  const uint8_t *frame, uint32_t caplen, uint32_t wirelen,
					  uint64_t ts_us, struct sn_packet *out,
					  struct sn_decode_stats *st)
{
	return decode_general(dc, linktype, frame, caplen, wirelen, ts_us, out, st);
}

void sn_decoder_sample_checksum(struct sn_decoder *dc, int linktype, const uint8_t *frame,
				uint32_t caplen, uint32_t wirelen)
{
	struct sn_decode_stats scratch;
	struct sn_packet pkt;
	memset(&scratch, 0, sizeof scratch);
	struct dec d = { .c = sn_cur_make(frame, caplen), .wirelen = wirelen, .out = &pkt,
			 .st = &scratch, .dc = dc, .sample_only = true };
	(void)decode_frame(&d, linktype, SN_US_PER_S); /* any valid time: nothing keeps it */
}

void sn_decoder_defaults(struct sn_decoder_config *c)
{
	memset(c, 0, sizeof *c);
	c->checksum = SN_CHECKSUM_AUTO;
	c->vxlan_ports = &default_vxlan_port;
	c->n_vxlan_ports = 1;
	c->geneve_ports = &default_geneve_port;
	c->n_geneve_ports = 1;
}

static uint8_t copy_ports(uint16_t *dst, const uint16_t *src, size_t n)
{
	if (n > SN_TUNNEL_MAX_PORTS)
		n = SN_TUNNEL_MAX_PORTS;
	if (n)
		memcpy(dst, src, n * sizeof *src);
	return (uint8_t)n;
}

int sn_decoder_init(struct sn_decoder *d, const struct sn_decoder_config *c, uint64_t seed)
{
	memset(d, 0, sizeof *d);
	sn_csum_policy_init(&d->csum, c->checksum);
	d->secret[0] = seed ^ 0x243f6a8885a308d3ULL;
	d->secret[1] = mum(seed, 0x13198a2e03707344ULL) | 1;
	d->n_vxlan_ports = copy_ports(d->vxlan_ports, c->vxlan_ports, c->n_vxlan_ports);
	d->n_geneve_ports = copy_ports(d->geneve_ports, c->geneve_ports, c->n_geneve_ports);
	if (c->defrag.max_datagrams) {
		d->defrag = sn_defrag_create(&c->defrag, seed ^ 0x452821e638d01377ULL);
		if (!d->defrag)
			return -1;
	}
	return 0;
}

void sn_decoder_free(struct sn_decoder *d)
{
	sn_defrag_destroy(d->defrag);
	d->defrag = NULL;
}
