/*
 * decode.h - link, IP and TCP headers to a packet view.
 *
 * sn_decode_packet() reads one captured frame through the bounds-checked
 * cursor and fills struct sn_packet for TCP segments.  Anything malformed or
 * truncated increments one named counter in struct sn_decode_stats and the
 * packet is skipped; nothing reads past the captured length.  Non-TCP traffic
 * and non-first IP fragments are counted as skipped, not as errors.
 *
 * sn_decode_frame() does the same with a decoder's state: it removes
 * tunnels (MPLS, GRE, ERSPAN, VXLAN, Geneve, IP-in-IP, PPPoE) and lists
 * them in the view, reassembles IP fragments (defrag.h) and validates TCP
 * checksums (checksum.h).
 */
#ifndef SN_DECODE_H
#define SN_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "checksum.h"
#include "defrag.h"

/* Link types we accept (the DLT_* values libpcap reports). */
#define SN_DLT_NULL 0
#define SN_DLT_EN10MB 1
#define SN_DLT_RAW 12       /* also 14 on some BSDs; LINKTYPE_RAW is 101 */
#define SN_DLT_RAW_BSD 14
#define SN_DLT_LOOP 108
#define SN_DLT_LINKTYPE_RAW 101
#define SN_DLT_LINUX_SLL 113
#define SN_DLT_IPV4 228
#define SN_DLT_IPV6 229
#define SN_DLT_LINUX_SLL2 276

/* True when sn_decode_packet() understands this link type. */
bool sn_decode_linktype_supported(int linktype);

/* Decode error reasons: one counter each, named in stats events. */
#define SN_DECODE_ERRORS(X)                                      \
	X(LINK_TRUNCATED, "link_truncated")                      \
	X(VLAN_TRUNCATED, "vlan_truncated")                      \
	X(VLAN_TOO_DEEP, "vlan_too_deep")                        \
	X(IPV4_TRUNCATED, "ipv4_truncated")                      \
	X(IPV4_BAD_VERSION, "ipv4_bad_version")                  \
	X(IPV4_BAD_IHL, "ipv4_bad_header_length")                \
	X(IPV4_BAD_TOTAL_LENGTH, "ipv4_bad_total_length")        \
	X(IPV6_TRUNCATED, "ipv6_truncated")                      \
	X(IPV6_BAD_VERSION, "ipv6_bad_version")                  \
	X(IPV6_EXT_TRUNCATED, "ipv6_ext_header_truncated")       \
	X(IPV6_EXT_TOO_MANY, "ipv6_ext_header_chain_too_long")   \
	X(TCP_TRUNCATED, "tcp_truncated")                        \
	X(TCP_BAD_OFFSET, "tcp_bad_data_offset")                 \
	X(TCP_BAD_OPTIONS, "tcp_bad_options")                    \
	X(BAD_LINK_PROTOCOL, "bad_link_protocol")                \
	X(TIMESTAMP_OUT_OF_RANGE, "timestamp_out_of_range")      \
	X(MPLS_TRUNCATED, "mpls_truncated")                      \
	X(GRE_BAD_HEADER, "gre_bad_header")                      \
	X(UDP_TRUNCATED, "udp_truncated")                        \
	X(TUNNEL_BAD_HEADER, "tunnel_bad_header")                \
	X(PPPOE_TRUNCATED, "pppoe_truncated")

enum sn_decode_error {
#define SN_X(id, name) SN_DERR_##id,
	SN_DECODE_ERRORS(SN_X)
#undef SN_X
	SN_DERR_COUNT
};

const char *sn_decode_error_name(enum sn_decode_error e);

struct sn_decode_stats {
	uint64_t packets;          /* frames handed to the decoder */
	uint64_t bytes;            /* their wire lengths */
	uint64_t tcp;              /* TCP segments decoded */
	uint64_t not_ip;           /* ARP and other non-IP frames (skipped) */
	uint64_t not_tcp;          /* IP but not TCP (skipped) */
	uint64_t fragments;        /* IP fragments (held for reassembly, or skipped) */
	uint64_t tunnelled;        /* frames with at least one tunnel removed */
	uint64_t tunnel_too_deep;  /* frames nested deeper than SN_TUNNEL_MAX_DEPTH (skipped) */
	struct sn_defrag_stats defrag;
	uint64_t errors[SN_DERR_COUNT];
};

/*
 * Encapsulations removed on the way to a segment, outermost first, as they
 * are listed in details.tunnel: the kind in the top byte, a number in the
 * low 24 bits (VLAN id, MPLS label, ERSPAN session, VXLAN or Geneve VNI,
 * PPPoE session) when SN_LAYER_HAS_ID is set.
 */
enum sn_layer_kind {
	SN_LAYER_VLAN = 1,
	SN_LAYER_MPLS,
	SN_LAYER_GRE,
	SN_LAYER_ERSPAN,
	SN_LAYER_VXLAN,
	SN_LAYER_GENEVE,
	SN_LAYER_IPIP,      /* IPv4 or IPv6 inside IPv4 or IPv6 (protocols 4, 41) */
	SN_LAYER_PPPOE,
};
#define SN_LAYER_HAS_ID 0x80u
#define SN_LAYER(kind, id) ((uint32_t)(kind) << 24 | ((uint32_t)(id) & 0xffffffu))
#define SN_LAYER_ID(kind, id) (SN_LAYER((kind) | SN_LAYER_HAS_ID, id))
#define SN_LAYERS_MAX 8        /* listed per packet; further layers are removed, not listed */
#define SN_TUNNEL_MAX_DEPTH 4  /* tunnels (not counting VLAN tags) removed per frame */
#define SN_LAYER_STRLEN 24

/* "vxlan:5001", "gre", ... into out[SN_LAYER_STRLEN]. */
void sn_layer_format(uint32_t layer, char out[SN_LAYER_STRLEN]);

/* TCP flag bits as on the wire. */
#define SN_TCP_FIN 0x01
#define SN_TCP_SYN 0x02
#define SN_TCP_RST 0x04
#define SN_TCP_PSH 0x08
#define SN_TCP_ACK 0x10

/* One decoded TCP segment.  `payload` points into the caller's frame. */
struct sn_packet {
	uint64_t ts_us;          /* capture time, microseconds since the epoch */
	struct sn_addr src, dst;
	uint16_t sport, dport;
	uint16_t vlan;           /* innermost 802.1Q/802.1ad VLAN id, 0 if none */
	uint8_t n_layers;        /* encapsulations listed in layers[] */
	bool reassembled;        /* payload points into the decoder's reassembly buffer */
	uint64_t tunnel_ctx;     /* keyed hash of the tunnels' outer addresses and ids; 0 = none */
	bool csum_pending;       /* the checksum policy wants this whole segment checked */
	const uint8_t *tcp;      /* when csum_pending: the segment (header + payload) */
	uint32_t tcp_len;
	uint8_t tcp_flags;
	uint32_t seq, ack;
	uint32_t ip_bytes;       /* IP-layer length from the header (not caplen) */
	uint32_t payload_wire_len; /* TCP payload length from the IP length fields */
	const uint8_t *payload;  /* captured payload bytes (may be fewer) */
	uint32_t payload_len;    /* how many of them were captured */
	uint32_t layers[SN_LAYERS_MAX]; /* last: only the first n_layers are set */
};

enum sn_decode_rc {
	SN_DECODE_TCP = 0,   /* *out holds a TCP segment */
	SN_DECODE_SKIP,      /* well formed but not for us (non-TCP, later fragment) */
	SN_DECODE_ERROR,     /* malformed or truncated: one error counter was bumped */
	SN_DECODE_DNS,       /* *out holds a UDP datagram from port 53 (payload, src, dst) */
};

/*
 * Decode one frame of link type `linktype`.  `caplen` bytes are readable at
 * `frame`; `wirelen` is the original length.  Counts into *st.
 */
enum sn_decode_rc sn_decode_packet(int linktype, const uint8_t *frame, uint32_t caplen,
				   uint32_t wirelen, uint64_t ts_us, struct sn_packet *out,
				   struct sn_decode_stats *st);

/*
 * sn_decode_packet() without its straight path for plain Ethernet/IP/TCP
 * frames: every frame through the general layers.  For tests, which hold
 * the two to the same output.
 */
enum sn_decode_rc sn_decode_packet_general(int linktype, const uint8_t *frame, uint32_t caplen,
					   uint32_t wirelen, uint64_t ts_us, struct sn_packet *out,
					   struct sn_decode_stats *st);

/*
 * The TCP checksum of a segment with csum_pending set is wrong.  Checking
 * every segment would read every captured byte, so the decoder only marks
 * a segment and the flow table asks where a bad one could change what is
 * seen: control segments and payload that would reach classification.
 * Inline: the flow table asks for every SYN, and the call cost as much as
 * a quarter of a header-only segment's sum.
 */
static inline bool sn_packet_checksum_bad(const struct sn_packet *pkt)
{
	return pkt->csum_pending && !sn_csum_tcp_ok(pkt->src.b, pkt->dst.b,
						    pkt->src.family == 4 ? 4 : 16, pkt->tcp,
						    pkt->tcp_len);
}

#define SN_TUNNEL_MAX_PORTS 4

/* A decoder's state: one per capture worker. */
struct sn_decoder {
	struct sn_csum_policy csum;
	struct sn_defrag *defrag;                  /* NULL: fragments are skipped */
	uint64_t secret[2];                        /* keys tunnel_ctx */
	uint16_t vxlan_ports[SN_TUNNEL_MAX_PORTS]; /* UDP ports decoded as VXLAN */
	uint16_t geneve_ports[SN_TUNNEL_MAX_PORTS];
	uint8_t n_vxlan_ports, n_geneve_ports;
};

/* Decoder settings (from the configuration). */
struct sn_decoder_config {
	enum sn_checksum_mode checksum;
	struct sn_defrag_config defrag;            /* max_datagrams 0: no reassembly */
	const uint16_t *vxlan_ports;
	size_t n_vxlan_ports;
	const uint16_t *geneve_ports;
	size_t n_geneve_ports;
};

/* Fills *dc with defaults: auto checksums, no reassembly, VXLAN 4789, Geneve 6081. */
void sn_decoder_defaults(struct sn_decoder_config *dc);
/* 0, or -1 when the reassembly table cannot be allocated. */
int sn_decoder_init(struct sn_decoder *d, const struct sn_decoder_config *dc, uint64_t seed);
void sn_decoder_free(struct sn_decoder *d);

/*
 * sn_decode_frame() without its straight path for plain Ethernet/IP/TCP
 * frames: every frame through the general layers.  sn_decode_frame() calls
 * it for every frame its straight path does not take; tests hold the two
 * to the same output (checksum marks and policy samples included).
 */
enum sn_decode_rc sn_decode_frame_general(struct sn_decoder *d, int linktype,
					  const uint8_t *frame, uint32_t caplen, uint32_t wirelen,
					  uint64_t ts_us, struct sn_packet *out,
					  struct sn_decode_stats *st);

#include "decode_straight.h"

/*
 * sn_decode_packet() with the decoder's tunnels, reassembly and checksum
 * policy.  A datagram completed by this frame is returned as SN_DECODE_TCP
 * with out->reassembled set: its payload stays valid until the next call.
 * Inline: the straight path (decode_straight.h) runs in the caller.
 */
static SN_DEC__HOT enum sn_decode_rc sn_decode_frame(struct sn_decoder *d, int linktype,
						     const uint8_t *frame, uint32_t caplen,
						     uint32_t wirelen, uint64_t ts_us,
						     struct sn_packet *out,
						     struct sn_decode_stats *st)
{
	if (linktype == SN_DLT_EN10MB) {
		if (sn_dec__straight_tcp(d, frame, caplen, wirelen, ts_us, out, st))
			return SN_DECODE_TCP;
		return sn_decode_frame_general(d, SN_DLT_EN10MB, frame, caplen, wirelen, ts_us,
					       out, st);
	}
	return sn_decode_frame_general(d, linktype, frame, caplen, wirelen, ts_us, out, st);
}

/*
 * Checksum pre-scan (auto): decodes one frame only to record whether its
 * TCP checksum verifies, without reassembly.
 */
void sn_decoder_sample_checksum(struct sn_decoder *d, int linktype, const uint8_t *frame,
				uint32_t caplen, uint32_t wirelen);

#endif /* SN_DECODE_H */
