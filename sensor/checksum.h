/*
 * checksum.h - the Internet checksum of TCP segments and the `auto` policy
 * that decides whether a capture's checksums can be trusted.
 *
 * A host with checksum offload hands its own outgoing segments to the
 * capture before the NIC fills the checksum in, so such captures carry bad
 * checksums on perfectly good traffic - every segment that host sent.
 * `auto` looks at the first SN_CSUM_SAMPLE segments whose bytes were
 * captured whole: more than half bad means offload everywhere, and the
 * capture is not validated; otherwise a source address most of whose
 * sampled segments are bad is taken for the offloading host and its
 * segments are not validated, and every other segment with a bad checksum
 * is dropped before it can change a verdict.  Until the sample is complete
 * nothing is dropped.
 */
#ifndef SN_CHECKSUM_H
#define SN_CHECKSUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <string.h>

#include "addr.h"

/* capture.checksum_validation */
enum sn_checksum_mode {
	SN_CHECKSUM_AUTO = 0,
	SN_CHECKSUM_YES,
	SN_CHECKSUM_NO,
};

#define SN_CSUM_SAMPLE 1000 /* whole segments looked at before `auto` decides */

/* One's-complement sum of n bytes added to sum (not folded). */
uint64_t sn_csum_add(uint64_t sum, const uint8_t *p, size_t n);
/* Folds a running sum to 16 bits; 0xffff means the checksum verified. */
uint16_t sn_csum_fold(uint64_t sum);

/* Loads in the machine's byte order (memcpy: no alignment assumed). */
static inline uint64_t sn_csum__load64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof v);
	return v;
}

static inline uint32_t sn_csum__load32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof v);
	return v;
}

/* One's-complement addition of 64-bit words: the carry out comes back in. */
static inline uint64_t sn_csum__add(uint64_t acc, uint64_t w)
{
	acc += w;
	return acc + (acc < w);
}

/*
 * The checksum over a TCP pseudo-header (addresses of alen bytes each,
 * 4 or 16, protocol 6, length len) and the segment verifies.
 *
 * Everything is summed in the machine's byte order (RFC 1071 section 2(B):
 * a sum taken over byte-swapped 16-bit words is the byte-swapped sum, and
 * 0xffff, the one value a good segment sums to, is its own swap), into one
 * 64-bit one's-complement accumulator: 2^16 = 1 modulo 2^16 - 1, so every
 * 16-bit lane of a word counts the same and any piece starting at an even
 * offset may be added in any lane.  The pseudo-header's protocol and length
 * are one 32-bit big-endian word (IPv6's form; IPv4's zero byte, protocol
 * and 16-bit length sum the same).  The segment goes eight bytes an add,
 * 32 bytes a loop turn, then 16, 8 and the last 0-7 bytes by their size
 * bits, so the 20 to 60 bytes of a header-only segment take no loop at all;
 * two end-around folds (64 to 32 to 16 bits, each one add of the word to
 * itself rotated) end it.  Inline: the flow table asks for every SYN.
 */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline bool sn_csum_tcp_ok(const uint8_t *src, const uint8_t *dst, size_t alen,
				  const uint8_t *seg, uint32_t len)
{
	const uint32_t ph = len + 6; /* protocol 6 and the length */
	const uint8_t phb[4] = { (uint8_t)(ph >> 24), (uint8_t)(ph >> 16), (uint8_t)(ph >> 8),
				 (uint8_t)ph };
	uint64_t acc = sn_csum__load32(phb); /* below 2^32 + 2 * 2^32: no carry yet */
	if (alen == 4) {
		acc += (uint64_t)sn_csum__load32(src) + sn_csum__load32(dst);
	} else {
		acc = sn_csum__add(acc, sn_csum__load64(src));
		acc = sn_csum__add(acc, sn_csum__load64(src + 8));
		acc = sn_csum__add(acc, sn_csum__load64(dst));
		acc = sn_csum__add(acc, sn_csum__load64(dst + 8));
	}
	const uint8_t *p = seg;
	size_t n = len;
	for (; n >= 32; n -= 32, p += 32) {
		acc = sn_csum__add(acc, sn_csum__load64(p));
		acc = sn_csum__add(acc, sn_csum__load64(p + 8));
		acc = sn_csum__add(acc, sn_csum__load64(p + 16));
		acc = sn_csum__add(acc, sn_csum__load64(p + 24));
	}
	if (n & 16) {
		acc = sn_csum__add(acc, sn_csum__load64(p));
		acc = sn_csum__add(acc, sn_csum__load64(p + 8));
		p += 16;
	}
	if (n & 8) {
		acc = sn_csum__add(acc, sn_csum__load64(p));
		p += 8;
	}
	if (n & 7) { /* each piece at an even offset: added in the low lane */
		uint64_t t = 0;
		if (n & 4) {
			t = sn_csum__load32(p);
			p += 4;
		}
		if (n & 2) {
			uint16_t h;
			memcpy(&h, p, sizeof h);
			t += h;
			p += 2;
		}
		if (n & 1) { /* the first byte of a zero-padded 16-bit word */
			const uint16_t one = 1;
			uint8_t first;
			memcpy(&first, &one, 1);
			t += first == 1 ? (uint64_t)p[0] : (uint64_t)p[0] << 8;
		}
		acc = sn_csum__add(acc, t); /* t below 2^33 */
	}
	/* The high half of a word plus itself rotated by half is the end-around
	 * sum of its halves: no carry is lost, and nothing nonzero becomes 0. */
	uint64_t s64 = acc + (acc >> 32 | acc << 32);
	uint32_t s32 = (uint32_t)(s64 >> 32);
	uint32_t s16 = (s32 + (s32 >> 16 | s32 << 16)) >> 16;
	return s16 == 0xffff;
}

#define SN_CSUM_SOURCES 64   /* source addresses followed while sampling */
#define SN_CSUM_OFFLOADED 8  /* offloading sources exempted; more: not validated */

struct sn_csum_source {
	struct sn_addr addr;
	uint32_t good, bad;
};

struct sn_csum_policy {
	enum sn_checksum_mode mode;
	bool decided;             /* auto has made up its mind (yes/no: always) */
	bool validate;            /* drop segments whose checksum is bad */
	uint32_t sampled, bad;    /* auto: whole segments seen, bad among them */
	uint32_t n_sources;
	struct sn_csum_source sources[SN_CSUM_SOURCES];
	uint32_t n_offloaded;     /* after deciding: sources not validated */
	struct sn_addr offloaded[SN_CSUM_OFFLOADED];
	bool validate_all;        /* decided, validating, no source exempted: every
				   * whole segment is validated (one test per segment) */
};

void sn_csum_policy_init(struct sn_csum_policy *p, enum sn_checksum_mode mode);
/* True while the checksum of a whole segment is worth computing. */
static inline bool sn_csum_policy_wants(const struct sn_csum_policy *p)
{
	return p->validate || !p->decided;
}
/* Records one whole segment's checksum result and its source (auto, undecided). */
void sn_csum_policy_observe(struct sn_csum_policy *p, const struct sn_addr *src, bool bad);
bool sn_csum__offloaded(const struct sn_csum_policy *p, const struct sn_addr *src);
/* Validating, and src is not an offloading host's address (inline: every
 * whole segment asks). */
static inline bool sn_csum_policy_validates(const struct sn_csum_policy *p,
					    const struct sn_addr *src)
{
	return p->validate_all ||
	       (p->validate && p->decided && p->n_offloaded != 0 && !sn_csum__offloaded(p, src));
}
/* Ends the sample early (end of a capture's pre-scan): decides on what was seen. */
void sn_csum_policy_decide(struct sn_csum_policy *p);

#endif /* SN_CHECKSUM_H */
