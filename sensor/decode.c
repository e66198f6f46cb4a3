/*
 * decode.c - one captured frame to a TCP segment view (struct sn_packet).
 *
 * Layers: link (Ethernet II with up to four 802.1Q/802.1ad tags, Linux
 * cooked v1/v2, BSD loopback, raw IP), then IPv4 (RFC 791) or IPv6 (RFC 8200
 * with its extension header chain), then the TCP header (RFC 9293).  Every
 * byte is read through struct sn_cursor, never past the captured length.
 *
 * Lengths come from the IP header, clipped to what was captured, so Ethernet
 * padding never counts as payload.  Anything malformed bumps exactly one
 * error counter; non-IP, non-TCP and non-first fragments are counted skips.
 * This runs on every packet: no allocation, no formatting, no syscalls.
 */
#include "decode.h"

#include <string.h>

#include "clock.h"
#include "cursor.h"

/* Network-layer protocols as Ethernet types (IEEE 802 numbers). */
#define ETH_IPV4 0x0800
#define ETH_IPV6 0x86dd
#define ETH_VLAN 0x8100    /* 802.1Q */
#define ETH_QINQ 0x88a8    /* 802.1ad service tag */
#define ETH_QINQ_OLD 0x9100 /* pre-standard QinQ */
#define VLAN_MAX_DEPTH 4

#define IP_PROTO_TCP 6
#define IP6_HOPOPTS 0
#define IP6_ROUTING 43
#define IP6_FRAGMENT 44
#define IP6_AH 51
#define IP6_DSTOPTS 60
#define IP6_MAX_EXT 8

#define TCP_MIN_HDR 20

/* Link-layer address families of DLT_NULL / DLT_LOOP (BSD AF_* values). */
#define BSD_AF_INET 2
#define BSD_AF_INET6_BSD 24     /* NetBSD, OpenBSD */
#define BSD_AF_INET6_FREEBSD 28
#define BSD_AF_INET6_DARWIN 30
#define BSD_AF_INET6_LINUX 10

/*
 * Internal "keep going" result: a layer that returns it has not counted
 * anything and leaves the rest to the next layer.
 */
#define DEC_CONTINUE SN_DECODE_TCP

/* What the layers share while one frame is decoded. */
struct dec {
	struct sn_cursor c;        /* the whole frame; c.off = current layer */
	uint32_t wirelen;          /* original frame length */
	struct sn_packet *out;
	struct sn_decode_stats *st;
};

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

/*
 * Walks the TCP options (RFC 9293 §3.1): end, no-op, or kind + length >= 2
 * within the option space.  Returns false on an inconsistent length.
 */
static bool tcp_options_ok(struct sn_cursor opt)
{
	while (sn_cur_remaining(&opt) > 0) {
		uint8_t kind = sn_cur_u8(&opt);
		if (kind == 0)
			return true;
		if (kind == 1)
			continue;
		uint8_t len = sn_cur_u8(&opt);
		if (len < 2 || !sn_cur_skip(&opt, (size_t)len - 2))
			return false;
	}
	return true;
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
	/* Bad option lengths are counted, but the segment is still usable. */
	if (!tcp_options_ok(sn_cur_sub(&l4, hdr - TCP_MIN_HDR)))
		d->st->errors[SN_DERR_TCP_BAD_OPTIONS]++;
	struct sn_cursor payload = sn_cur_rest(&l4);
	o->payload_wire_len = l4_wire - hdr;
	o->payload = payload.p;
	o->payload_len = (uint32_t)sn_cur_remaining(&payload);
	d->st->tcp++;
	return SN_DECODE_TCP;
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
	sn_cur_skip(&h, 2); /* identification */
	uint16_t frag = sn_cur_be16(&h);
	sn_cur_skip(&h, 1); /* time to live */
	uint8_t proto = sn_cur_u8(&h);
	sn_cur_skip(&h, 2); /* header checksum */
	d->out->src.family = d->out->dst.family = 4;
	sn_cur_copy(&h, d->out->src.b, 4);
	sn_cur_copy(&h, d->out->dst.b, 4);
	if (total == 0)
		total = ip_len_unknown(d);
	if (total < ihl)
		return fail(d, SN_DERR_IPV4_BAD_TOTAL_LENGTH);
	/* A later fragment has no TCP header; counted whatever its protocol. */
	if ((frag & 0x1fff) != 0)
		return skip(&d->st->fragments);
	if (proto != IP_PROTO_TCP)
		return skip(&d->st->not_tcp);
	d->out->ip_bytes = total;
	struct sn_cursor ip = clipped(d, total);
	sn_cur_skip(&ip, ihl); /* header and options, known to be captured */
	return decode_tcp(d, sn_cur_rest(&ip), total - ihl);
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
 * IP payload of *wire bytes), leaving ip at the upper-layer header.
 */
static enum sn_decode_rc ipv6_ext_chain(struct dec *d, struct sn_cursor *ip, uint8_t *nh,
					uint32_t *wire)
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
		if (*nh == IP6_FRAGMENT && (sn_cur_be16(&ext) & 0xfff8) != 0)
			return skip(&d->st->fragments);
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
	if (plen == 0) /* jumbogram or TSO super-frame: trust the frame size */
		plen = ip_len_unknown(d) - 40;
	struct sn_cursor ip = clipped(d, 40 + plen);
	sn_cur_skip(&ip, 40);
	uint32_t l4_wire = plen;
	enum sn_decode_rc rc = ipv6_ext_chain(d, &ip, &nh, &l4_wire);
	if (rc != DEC_CONTINUE)
		return rc;
	if (nh != IP_PROTO_TCP)
		return skip(&d->st->not_tcp);
	d->out->ip_bytes = 40 + plen;
	return decode_tcp(d, sn_cur_rest(&ip), l4_wire);
}

/* ---- entry ----------------------------------------------------------- */

enum sn_decode_rc sn_decode_packet(int linktype, const uint8_t *frame, uint32_t caplen,
				   uint32_t wirelen, uint64_t ts_us, struct sn_packet *out,
				   struct sn_decode_stats *st)
{
	struct dec d = { sn_cur_make(frame, caplen), wirelen, out, st };
	uint16_t type = 0;
	st->packets++;
	st->bytes += wirelen;
	memset(out, 0, sizeof *out);
	if (ts_us == SN_TIME_INVALID || ts_us > SN_TIME_MAX_S * SN_US_PER_S + (SN_US_PER_S - 1)) {
		st->errors[SN_DERR_TIMESTAMP_OUT_OF_RANGE]++; /* a time no event could carry */
		return SN_DECODE_ERROR;
	}
	out->ts_us = ts_us;
	enum sn_decode_rc rc = decode_link(&d, linktype, &type);
	if (rc != DEC_CONTINUE)
		return rc;
	if (type == ETH_IPV4)
		return decode_ipv4(&d);
	if (type == ETH_IPV6)
		return decode_ipv6(&d);
	return skip(&st->not_ip);
}
