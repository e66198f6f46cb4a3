/*
 * dnstcp.h - DNS over TCP: the server's byte stream of each connection
 * from port 53 cut into messages for dns.c.
 *
 * RFC 1035 section 4.2.2 and RFC 7766: on TCP every message is preceded by
 * its length in two bytes; several messages may share a segment, one may
 * span many, and responses may come pipelined.  A connection is followed
 * from the server's SYN-ACK (its ISN fixes where the first length prefix
 * is), in a small table sized once (buckets of a few ways, keyed by the
 * client's address and port with the keyed hash; a live connection pushed
 * out by a new one is counted).  Each connection keeps one buffer of
 * SN_DNSTCP_MSG_MAX + 2 bytes, filled by the project's reassembler
 * (reassembly.h: bytes placed by sequence number, out-of-order ones held);
 * a message is handed to dns.c only whole, from a known boundary.
 *
 * Bounds and losses, each counted and never read as a message:
 *  - a message longer than SN_DNSTCP_MSG_MAX is skipped whole (its length
 *    says where the next one starts): dns_tcp_truncated;
 *  - a hole that is known lost (the client acknowledged bytes the capture
 *    never had, more bytes come than the buffer holds behind it, a
 *    segment was cut by the snap length, or the connection ended)
 *    costs the message it falls in; reading goes on at the next boundary,
 *    or, when the hole is in a length prefix, the connection is dropped:
 *    dns_tcp_gaps;
 *  - server data on a connection whose SYN-ACK was not seen (no known
 *    boundary): dns_tcp_unaligned (segments).
 */
#ifndef SN_DNSTCP_H
#define SN_DNSTCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "decode.h"
#include "dns.h"
#include "keyhash.h"
#include "reassembly.h"

#define SN_DNSTCP_CONNS 64          /* connections followed per worker */
#define SN_DNSTCP_WAYS 4            /* per bucket */
#define SN_DNSTCP_MSG_MAX 16384     /* longest message read (bytes after the prefix) */
#define SN_DNSTCP_CAP (SN_DNSTCP_MSG_MAX + 2)
#define SN_DNSTCP_IDLE_US 120000000ull /* a connection quiet this long is free to reuse */

struct sn_dnstcp_stats {
	uint64_t messages;  /* whole messages handed to dns.c */
	uint64_t truncated; /* messages longer than SN_DNSTCP_MSG_MAX, skipped */
	uint64_t gaps;      /* messages lost to a hole, or connections dropped at one */
	uint64_t evicted;   /* live connections pushed out of the table */
	uint64_t unaligned; /* server segments of connections not followed from the start */
};

struct sn_dnstcp_conn {
	struct sn_addr client, server;
	uint16_t cport;
	bool used;
	bool dead;      /* dropped at a hole: its segments are ignored until it ends */
	bool csum_good; /* the server sent a segment with a good checksum */
	bool have_ack;
	uint32_t isn;   /* the server's, from its SYN-ACK */
	uint32_t acked; /* the client's highest acknowledgement */
	uint64_t last_us;
	struct sn_reasm_dir dir; /* the server's bytes */
};

struct sn_dnstcp {
	struct sn_keyhash key;
	struct sn_dnstcp_conn *conns; /* SN_DNSTCP_CONNS */
	uint8_t *bufs;                /* SN_DNSTCP_CONNS * SN_DNSTCP_CAP */
	uint8_t *maps;                /* SN_DNSTCP_CONNS * SN_REASM_MAP_BYTES(SN_DNSTCP_CAP) */
	struct sn_dnstcp_stats st;
};

int sn_dnstcp_init(struct sn_dnstcp *t, uint64_t seed); /* 0, or -1: out of memory */
void sn_dnstcp_free(struct sn_dnstcp *t);

/*
 * A TCP segment from or to port 53 (others are ignored): the server's
 * messages go to dns as they complete, at the segment's time.
 */
void sn_dnstcp_segment(struct sn_dnstcp *t, struct sn_dns *dns, const struct sn_packet *pkt);

#endif /* SN_DNSTCP_H */
