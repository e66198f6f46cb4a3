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
#include <string.h>

#define SN_PCAPREAD_BLOCK (1u << 20)       /* bytes read at once */
#define SN_PCAPREAD_MAX_CAPLEN 262144u     /* libpcap's largest record for our link types */
#define SN_PCAPREAD_HEADER 24u             /* the file header */
#define SN_PCAPREAD_REC_HEADER 16u         /* a record's header */

struct sn_pcapread {
	FILE *f;           /* positioned just after the file header */
	uint8_t *buf;      /* SN_PCAPREAD_BLOCK bytes (the caller's) */
	size_t len, pos;   /* bytes in buf, next record's offset */
	uint32_t snaplen;  /* the file's, as libpcap sanitises it */
	bool swapped, nsec, eof; /* swapped: the file's byte order is not the host's */
	bool plain;        /* !swapped && !nsec: records taken inline (sn_pcapread_walk) */
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
 * and then sn_pcapread_next()).  sn_pcapread_next_in_block() below is the
 * same, with the common file's case inline; this one takes any format.
 */
bool sn_pcapread_next_in_block_any(struct sn_pcapread *r, struct pcap_pkthdr *h,
				   const uint8_t **data);

/*
 * The records of a common file (the host's byte order, microseconds: plain)
 * walked in place with the position held by the caller: start takes the
 * block's unread bytes, next hands out whole records as
 * sn_pcapread_next_in_block() does (false, having moved nothing, where it
 * would be), end gives r its position back.  r is not used in between.
 */
struct sn_pcapread_walk {
	const uint8_t *p, *end; /* the next record, the end of the bytes read */
	uint32_t snaplen;
};

static inline void sn_pcapread_walk_start(const struct sn_pcapread *r,
					  struct sn_pcapread_walk *wk)
{
	wk->p = r->buf + r->pos;
	wk->end = r->buf + r->len;
	wk->snaplen = r->snaplen;
}

/*
 * One 16-byte header copy, no swaps; the record's header and then its data
 * are checked to lie in the block before anything is handed out.
 */
static inline bool sn_pcapread_walk_next(struct sn_pcapread_walk *wk, struct pcap_pkthdr *h,
					 const uint8_t **data)
{
	size_t have = (size_t)(wk->end - wk->p);
	if (have < SN_PCAPREAD_REC_HEADER)
		return false;
	uint32_t f[4]; /* seconds, microseconds, captured and wire length */
	memcpy(f, wk->p, sizeof f);
	if (f[2] > SN_PCAPREAD_MAX_CAPLEN || have - SN_PCAPREAD_REC_HEADER < f[2])
		return false;
	/* signed 32-bit times, as libpcap reads them */
	h->ts.tv_sec = (time_t)(int32_t)f[0];
	h->ts.tv_usec = (suseconds_t)(int32_t)f[1];
	h->caplen = f[2] > wk->snaplen ? wk->snaplen : f[2];
	h->len = f[3];
	*data = wk->p + SN_PCAPREAD_REC_HEADER;
	wk->p += SN_PCAPREAD_REC_HEADER + (size_t)f[2];
	return true;
}

static inline void sn_pcapread_walk_end(struct sn_pcapread *r, const struct sn_pcapread_walk *wk)
{
	r->pos = (size_t)(wk->p - r->buf);
}

/* sn_pcapread_next_in_block_any(), inline for a plain file. */
static inline bool sn_pcapread_next_in_block(struct sn_pcapread *r, struct pcap_pkthdr *h,
					     const uint8_t **data)
{
	if (__builtin_expect(!r->plain, 0))
		return sn_pcapread_next_in_block_any(r, h, data);
	struct sn_pcapread_walk wk;
	sn_pcapread_walk_start(r, &wk);
	if (!sn_pcapread_walk_next(&wk, h, data))
		return false;
	sn_pcapread_walk_end(r, &wk);
	return true;
}

#endif /* SN_PCAPREAD_H */
