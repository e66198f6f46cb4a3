/*
 * defrag.h - IPv4 and IPv6 fragment reassembly, bounded and preallocated.
 *
 * Fragments of one datagram (RFC 791 source, destination, protocol and
 * identification; RFC 8200 source, destination and identification; plus
 * the tunnel context, so that fragments of different tunnels never mix)
 * are held in one of `max_datagrams` slots allocated at start.  A slot
 * keeps the first SN_DEFRAG_KEEP bytes of the datagram's payload, which
 * cover every transport header and the first bytes the dissectors read;
 * beyond that only which byte ranges arrived is recorded, so that the
 * datagram's length is still known exactly.  Overlaps: the first copy of a
 * byte wins.  A datagram is given up when it is older than the timeout
 * (packet time), when it receives more than `max_fragments` fragments, or
 * when a new datagram needs its slot (the oldest goes); each is counted.
 */
#ifndef SN_DEFRAG_H
#define SN_DEFRAG_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"

#define SN_DEFRAG_KEEP 4096u /* payload bytes kept per datagram */

struct sn_defrag_config {
	uint32_t max_datagrams;   /* slots held at once */
	uint32_t max_fragments;   /* fragments accepted per datagram */
	uint32_t timeout_s;       /* a datagram incomplete this long is dropped */
};

struct sn_defrag_stats {
	uint64_t fragments;       /* fragments handed to reassembly */
	uint64_t reassembled;     /* datagrams completed */
	uint64_t timeouts;        /* datagrams dropped incomplete after the timeout */
	uint64_t overflow;        /* datagrams dropped: too many fragments, or table full */
	uint64_t invalid;         /* fragments beyond 65,535 bytes or contradicting the end */
};

/* One fragment as the IP layer saw it. */
struct sn_frag {
	struct sn_addr src, dst;
	uint64_t ctx;             /* tunnel context (0 = none) */
	uint32_t id;              /* IPv4: 16 bits; IPv6: 32 */
	uint8_t proto;            /* IPv4 protocol / IPv6 next header after the fragment header */
	uint32_t offset;          /* payload offset of this fragment, bytes */
	bool more;                /* more fragments follow */
	uint32_t hdr_len;         /* this packet's IP header bytes before the fragment's payload */
	const uint8_t *data;      /* captured payload bytes */
	uint32_t captured;        /* how many of them were captured */
	uint32_t wire;            /* the fragment's payload length per the IP header */
};

/* A completed datagram; data stays valid until the next sn_defrag_add(). */
struct sn_datagram {
	const uint8_t *data;      /* payload (after the IP header(s)) */
	uint32_t captured;        /* contiguous bytes of it kept from offset 0 */
	uint32_t wire;            /* its full payload length */
	uint32_t hdr_len;         /* the first fragment's IP header bytes */
	uint8_t proto;
};

enum sn_defrag_rc {
	SN_DEFRAG_HELD = 0,       /* kept; the datagram is not complete */
	SN_DEFRAG_DONE,           /* *out is the reassembled datagram */
	SN_DEFRAG_DROPPED,        /* not kept (invalid, or its datagram was given up) */
};

struct sn_defrag;

/* NULL when memory cannot be had; seed keys the slot hash. */
struct sn_defrag *sn_defrag_create(const struct sn_defrag_config *cfg, uint64_t seed);
void sn_defrag_destroy(struct sn_defrag *df);
/* Adds one fragment at packet time now_us. */
enum sn_defrag_rc sn_defrag_add(struct sn_defrag *df, const struct sn_frag *f, uint64_t now_us,
				struct sn_defrag_stats *st, struct sn_datagram *out);
/* Datagrams held now. */
uint32_t sn_defrag_held(const struct sn_defrag *df);

#endif /* SN_DEFRAG_H */
