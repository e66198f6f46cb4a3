/*
 * checksum.c - Internet checksum (RFC 1071) and the `auto` validation
 * policy of capture.checksum_validation (see checksum.h).
 */
#include "checksum.h"

#include <string.h>

uint64_t sn_csum_add(uint64_t sum, const uint8_t *p, size_t n)
{
	/* 32-bit big-endian words into a 64-bit accumulator: no carry is lost
	 * for any n below 2^34 bytes, and the fold takes care of the rest. */
	while (n >= 4) {
		sum += (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
		p += 4;
		n -= 4;
	}
	if (n >= 2) {
		sum += (uint32_t)p[0] << 8 | p[1];
		p += 2;
		n -= 2;
	}
	if (n)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

uint16_t sn_csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

void sn_csum_policy_init(struct sn_csum_policy *p, enum sn_checksum_mode mode)
{
	memset(p, 0, sizeof *p);
	p->mode = mode;
	p->decided = mode != SN_CHECKSUM_AUTO;
	p->validate = mode == SN_CHECKSUM_YES;
}

void sn_csum_policy_decide(struct sn_csum_policy *p)
{
	if (p->decided)
		return;
	p->decided = true;
	/* More than half bad: offload on the capturing host, not an attack. */
	p->validate = !(p->bad * 2 > p->sampled);
}

void sn_csum_policy_observe(struct sn_csum_policy *p, bool bad)
{
	if (p->decided)
		return;
	p->sampled++;
	p->bad += bad;
	if (p->sampled >= SN_CSUM_SAMPLE)
		sn_csum_policy_decide(p);
}
