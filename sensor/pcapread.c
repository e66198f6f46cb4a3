/*
 * pcapread.c - classic pcap records straight from a block buffer
 * (pcapread.h).
 */
#include "pcapread.h"

#include <string.h>

#define SN_REC_HEADER SN_PCAPREAD_REC_HEADER

_Static_assert(SN_PCAPREAD_MAX_CAPLEN + SN_REC_HEADER <= SN_PCAPREAD_BLOCK,
	       "a whole record fits in a block");

/*
 * A 32-bit field of the file or record header (not packet bytes: these
 * are checked to be in the block before they are read), in the file's
 * byte order.
 */
static uint32_t field(const struct sn_pcapread *r, const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof v);
	return r->swapped ? __builtin_bswap32(v) : v;
}

bool sn_pcapread_header(struct sn_pcapread *r, const uint8_t *hdr, size_t n)
{
	if (n < SN_PCAPREAD_HEADER)
		return false;
	uint32_t magic;
	uint16_t major, minor;
	memcpy(&magic, hdr, sizeof magic);
	memset(r, 0, sizeof *r);
	switch (magic) { /* as the host reads it: the file's order is the host's or the other */
	case 0xa1b2c3d4u: break;
	case 0xa1b23c4du: r->nsec = true; break;
	case 0xd4c3b2a1u: r->swapped = true; break;
	case 0x4d3cb2a1u: r->swapped = r->nsec = true; break;
	default: return false;
	}
	memcpy(&major, hdr + 4, sizeof major);
	memcpy(&minor, hdr + 6, sizeof minor);
	if (r->swapped) {
		major = __builtin_bswap16(major);
		minor = __builtin_bswap16(minor);
	}
	if (major != 2 || minor != 4)
		return false; /* older layouts (lengths swapped): libpcap's own reader */
	r->plain = !r->swapped && !r->nsec;
	uint32_t snaplen = field(r, hdr + 16);
	r->snaplen = snaplen == 0 || snaplen > SN_PCAPREAD_MAX_CAPLEN ? SN_PCAPREAD_MAX_CAPLEN
								      : snaplen;
	return true;
}

void sn_pcapread_start(struct sn_pcapread *r, FILE *f, uint8_t *buf)
{
	r->f = f;
	r->buf = buf;
	r->len = r->pos = 0;
	r->eof = false;
}

/* Bytes of a whole record at pos, or 0 when its header or data is not all in buf. */
static size_t whole_record(const struct sn_pcapread *r)
{
	size_t have = r->len - r->pos;
	if (have < SN_REC_HEADER)
		return 0;
	uint32_t caplen = field(r, r->buf + r->pos + 8);
	if (caplen > SN_PCAPREAD_MAX_CAPLEN)
		return SN_REC_HEADER; /* an error, found without more bytes */
	return have >= SN_REC_HEADER + (size_t)caplen ? SN_REC_HEADER + caplen : 0;
}

bool sn_pcapread_buffered(const struct sn_pcapread *r)
{
	return whole_record(r) != 0 || r->eof;
}

/* Moves the unread tail to the front and reads until full or the end. */
static int refill(struct sn_pcapread *r)
{
	size_t tail = r->len - r->pos;
	memmove(r->buf, r->buf + r->pos, tail);
	r->len = tail;
	r->pos = 0;
	while (r->len < SN_PCAPREAD_BLOCK && !r->eof) {
		size_t got = fread(r->buf + r->len, 1, SN_PCAPREAD_BLOCK - r->len, r->f);
		r->len += got;
		if (got == 0) {
			if (ferror(r->f)) {
				snprintf(r->err, sizeof r->err, "error reading dump file");
				return -1;
			}
			r->eof = true;
		}
	}
	return 0;
}

/* Hands out the whole record at p (r->pos), of caplen bytes, and moves past it. */
static inline void take(struct sn_pcapread *r, const uint8_t *p, uint32_t caplen,
			struct pcap_pkthdr *h, const uint8_t **data)
{
	/* signed 32-bit fields, as libpcap reads them */
	int32_t frac = (int32_t)field(r, p + 4);
	h->ts.tv_sec = (time_t)(int32_t)field(r, p);
	h->ts.tv_usec = (suseconds_t)(r->nsec ? frac / 1000 : frac);
	h->caplen = caplen > r->snaplen ? r->snaplen : caplen;
	h->len = field(r, p + 12);
	*data = p + SN_REC_HEADER;
	r->pos += SN_REC_HEADER + (size_t)caplen;
}

int sn_pcapread_next(struct sn_pcapread *r, struct pcap_pkthdr *h, const uint8_t **data)
{
	size_t rec = whole_record(r);
	if (rec == 0 && !r->eof) {
		if (refill(r) != 0)
			return -1;
		rec = whole_record(r);
	}
	size_t have = r->len - r->pos;
	if (have == 0)
		return 0;
	if (have < SN_REC_HEADER) {
		snprintf(r->err, sizeof r->err,
			 "truncated dump file; tried to read %u header bytes, only got %zu",
			 SN_REC_HEADER, have);
		return -1;
	}
	const uint8_t *p = r->buf + r->pos;
	uint32_t caplen = field(r, p + 8);
	if (caplen > SN_PCAPREAD_MAX_CAPLEN) {
		snprintf(r->err, sizeof r->err,
			 "invalid packet capture length %u, bigger than maximum of %u", caplen,
			 SN_PCAPREAD_MAX_CAPLEN);
		return -1;
	}
	if (rec == 0) {
		snprintf(r->err, sizeof r->err,
			 "truncated dump file; tried to read %u captured bytes, only got %zu", caplen,
			 have - SN_REC_HEADER);
		return -1;
	}
	take(r, p, caplen, h, data);
	return 1;
}

bool sn_pcapread_next_in_block_any(struct sn_pcapread *r, struct pcap_pkthdr *h,
				   const uint8_t **data)
{
	size_t have = r->len - r->pos;
	if (have < SN_REC_HEADER)
		return false;
	const uint8_t *p = r->buf + r->pos;
	uint32_t caplen = field(r, p + 8);
	if (caplen > SN_PCAPREAD_MAX_CAPLEN || have - SN_REC_HEADER < caplen)
		return false;
	take(r, p, caplen, h, data);
	return true;
}
