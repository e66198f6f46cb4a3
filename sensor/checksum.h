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

/*
 * The checksum over a TCP pseudo-header (addresses of alen bytes each,
 * protocol 6, length len) and the segment verifies.  One pass in the
 * machine's byte order, one fold and swap at the end.
 */
bool sn_csum_tcp_ok(const uint8_t *src, const uint8_t *dst, size_t alen, const uint8_t *seg,
		    uint32_t len);

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
	return p->validate && p->decided && (p->n_offloaded == 0 || !sn_csum__offloaded(p, src));
}
/* Ends the sample early (end of a capture's pre-scan): decides on what was seen. */
void sn_csum_policy_decide(struct sn_csum_policy *p);

#endif /* SN_CHECKSUM_H */
