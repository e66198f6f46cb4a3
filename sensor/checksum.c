/*
 * checksum.c - Internet checksum (RFC 1071) and the `auto` validation
 * policy of capture.checksum_validation (see checksum.h).
 */
#include "checksum.h"

#include <string.h>

uint16_t sn_csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* Folded to a constant by the compiler. */
static inline bool little_endian(void)
{
	const uint16_t one = 1;
	uint8_t first;
	memcpy(&first, &one, 1);
	return first == 1;
}

/*
 * The sum is taken in the machine's byte order, four bytes at a time into
 * four independent 64-bit accumulators (no carry can be lost below 2^32
 * words, and the additions do not wait on each other), folded to 16 bits,
 * then swapped back to network order (RFC 1071 section 2(B): the
 * one's-complement sum does not depend on byte order but for that swap),
 * so that sums of separate pieces, each starting at an even offset, add up.
 */
uint64_t sn_csum_add(uint64_t sum, const uint8_t *p, size_t n)
{
	uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
	uint32_t w[4];
	while (n >= 16) {
		memcpy(w, p, 16);
		a0 += w[0];
		a1 += w[1];
		a2 += w[2];
		a3 += w[3];
		p += 16;
		n -= 16;
	}
	uint8_t tail[16] = { 0 };
	if (n) {
		memcpy(tail, p, n);
		memcpy(w, tail, 16);
		a0 += w[0];
		a1 += w[1];
		a2 += w[2];
		a3 += w[3];
	}
	uint64_t acc = (a0 & 0xffffffffu) + (a0 >> 32) + (a1 & 0xffffffffu) + (a1 >> 32) +
		       (a2 & 0xffffffffu) + (a2 >> 32) + (a3 & 0xffffffffu) + (a3 >> 32);
	uint16_t folded = sn_csum_fold(acc);
	if (little_endian())
		folded = (uint16_t)(folded << 8 | folded >> 8);
	return sum + folded;
}

void sn_csum_policy_init(struct sn_csum_policy *p, enum sn_checksum_mode mode)
{
	memset(p, 0, sizeof *p);
	p->mode = mode;
	p->decided = mode != SN_CHECKSUM_AUTO;
	p->validate = mode == SN_CHECKSUM_YES;
	p->validate_all = p->validate;
}

void sn_csum_policy_decide(struct sn_csum_policy *p)
{
	if (p->decided)
		return;
	p->decided = true;
	/* More than half bad: offload on the capturing host, not an attack. */
	p->validate = !(p->bad * 2 > p->sampled);
	/* A source mostly bad is the offloading host itself (it sent them). */
	for (uint32_t i = 0; p->validate && i < p->n_sources; i++) {
		const struct sn_csum_source *s = &p->sources[i];
		if (s->bad <= s->good)
			continue;
		if (p->n_offloaded == SN_CSUM_OFFLOADED)
			p->validate = false; /* offload on many hosts: trust none */
		else
			p->offloaded[p->n_offloaded++] = s->addr;
	}
	p->validate_all = p->validate && p->n_offloaded == 0;
}

void sn_csum_policy_observe(struct sn_csum_policy *p, const struct sn_addr *src, bool bad)
{
	if (p->decided)
		return;
	p->sampled++;
	p->bad += bad;
	uint32_t i = 0;
	while (i < p->n_sources && !sn_addr_equal(&p->sources[i].addr, src))
		i++;
	if (i == p->n_sources && i < SN_CSUM_SOURCES) {
		memset(&p->sources[i], 0, sizeof p->sources[i]);
		p->sources[i].addr = *src;
		p->n_sources++;
	}
	if (i < p->n_sources) {
		p->sources[i].bad += bad;
		p->sources[i].good += !bad;
	}
	if (p->sampled >= SN_CSUM_SAMPLE)
		sn_csum_policy_decide(p);
}

bool sn_csum__offloaded(const struct sn_csum_policy *p, const struct sn_addr *src)
{
	for (uint32_t i = 0; i < p->n_offloaded; i++)
		if (sn_addr_equal(&p->offloaded[i], src))
			return true;
	return false;
}
