/*
 * decode.h - link, IP and TCP headers to a packet view.
 *
 * sn_decode_packet() reads one captured frame through the bounds-checked
 * cursor and fills struct sn_packet for TCP segments.  Anything malformed or
 * truncated increments one named counter in struct sn_decode_stats and the
 * packet is skipped; nothing reads past the captured length.  Non-TCP traffic
 * and non-first IP fragments are counted as skipped, not as errors.
 */
#ifndef SN_DECODE_H
#define SN_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

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
	X(TIMESTAMP_OUT_OF_RANGE, "timestamp_out_of_range")

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
	uint64_t fragments;        /* non-first IP fragments (skipped) */
	uint64_t errors[SN_DERR_COUNT];
};

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
	uint8_t tcp_flags;
	uint32_t seq, ack;
	uint32_t ip_bytes;       /* IP-layer length from the header (not caplen) */
	uint32_t payload_wire_len; /* TCP payload length from the IP length fields */
	const uint8_t *payload;  /* captured payload bytes (may be fewer) */
	uint32_t payload_len;    /* how many of them were captured */
};

enum sn_decode_rc {
	SN_DECODE_TCP = 0,   /* *out holds a TCP segment */
	SN_DECODE_SKIP,      /* well formed but not for us (non-TCP, later fragment) */
	SN_DECODE_ERROR,     /* malformed or truncated: one error counter was bumped */
};

/*
 * Decode one frame of link type `linktype`.  `caplen` bytes are readable at
 * `frame`; `wirelen` is the original length.  Counts into *st.
 */
enum sn_decode_rc sn_decode_packet(int linktype, const uint8_t *frame, uint32_t caplen,
				   uint32_t wirelen, uint64_t ts_us, struct sn_packet *out,
				   struct sn_decode_stats *st);

#endif /* SN_DECODE_H */
