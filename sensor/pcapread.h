/*
 * pcapread.h - the records of a classic pcap file (format 2.4, either byte
 * order, microsecond or nanosecond times) read in large blocks, each packet
 * handed out as a pointer into the block: no per-packet copy.
 *
 * libpcap's pcap_next_ex() freads every record into its own buffer, which
 * costs a copy and two stdio calls a packet; an offline replay reads the
 * same records here instead, from the stream libpcap opened (after the
 * file header it validated).  A packet's bytes stay where they are until
 * the block is refilled: sn_pcapread_buffered() says whether the next call
 * keeps them.  What libpcap does with odd records is done the same way: a
 * record longer than the file's snapshot length is cut to it, one longer
 * than SN_PCAPREAD_MAX_CAPLEN or cut off by the end of the file is an
 * error with libpcap's wording.
 */
#ifndef SN_PCAPREAD_H
#define SN_PCAPREAD_H

#include <pcap/pcap.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SN_PCAPREAD_BLOCK (1u << 20)       /* bytes read at once */
#define SN_PCAPREAD_MAX_CAPLEN 262144u     /* libpcap's largest record for our link types */
#define SN_PCAPREAD_HEADER 24u             /* the file header */

struct sn_pcapread {
	FILE *f;           /* positioned just after the file header */
	uint8_t *buf;      /* SN_PCAPREAD_BLOCK bytes (the caller's) */
	size_t len, pos;   /* bytes in buf, next record's offset */
	uint32_t snaplen;  /* the file's, as libpcap sanitises it */
	bool swapped, nsec, eof; /* swapped: the file's byte order is not the host's */
	char err[160];     /* the reason for a -1 from sn_pcapread_next */
};

/*
 * Whether a file header (its first SN_PCAPREAD_HEADER bytes) is one this
 * reader takes; when it is, fills r's format fields.
 */
bool sn_pcapread_header(struct sn_pcapread *r, const uint8_t *hdr, size_t n);
/*
 * Starts reading records from f (after the header) into buf, which must
 * hold SN_PCAPREAD_BLOCK bytes and outlive the reading; r's format fields
 * set by sn_pcapread_header.
 */
void sn_pcapread_start(struct sn_pcapread *r, FILE *f, uint8_t *buf);
/* true when the next sn_pcapread_next() keeps earlier packets' bytes in place. */
bool sn_pcapread_buffered(const struct sn_pcapread *r);
/* 1 with *h and *data set, 0 at the end, -1 on an error (r->err). */
int sn_pcapread_next(struct sn_pcapread *r, struct pcap_pkthdr *h, const uint8_t **data);
/*
 * The next record as sn_pcapread_next() gives it when it lies whole in the
 * block, so that earlier packets' bytes stay in place: true with *h and
 * *data set.  False, having moved nothing, when the block must be refilled
 * first, at the end of the file or at a bad record: then sn_pcapread_next()
 * says which (one test a packet where replay asked sn_pcapread_buffered()
 * and then sn_pcapread_next()).
 */
bool sn_pcapread_next_in_block(struct sn_pcapread *r, struct pcap_pkthdr *h,
			       const uint8_t **data);

#endif /* SN_PCAPREAD_H */
