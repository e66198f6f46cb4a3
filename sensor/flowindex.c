/*
 * flowindex.c - open-addressed hash index of the flow table (flowindex.h).
 *
 * The overflow counts follow the scheme of Facebook's F14 tables: a group
 * counts the keys that had to move past it, so "not here and nobody moved
 * past" ends a lookup, and the index stays exact under any mix of inserts
 * and removals.  Every walk is bounded by the number of groups.
 */
#include "flowindex.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "bigmem.h"

/* Groups for max_flows keys at a load of at most 5/8: a power of two. */
static uint32_t group_count(uint32_t max_flows)
{
	uint64_t want = ((uint64_t)max_flows * 8 + 5 * SN_FLOWINDEX_SLOTS - 1) /
			(5 * SN_FLOWINDEX_SLOTS);
	uint64_t n = 1;
	while (n < want)
		n <<= 1;
	return n > (1u << 31) ? 0 : (uint32_t)n;
}

/* Tag 0 marks an empty slot, so a key's tag is never 0. */
static uint16_t hash_tag(uint64_t hash)
{
	uint16_t t = (uint16_t)(hash >> 48);
	return t ? t : 1;
}

static uint32_t home_group(const struct sn_flowindex *x, uint64_t hash)
{
	return (uint32_t)hash & x->mask;
}

int sn_flowindex_init(struct sn_flowindex *x, uint32_t max_flows)
{
	x->groups = NULL;
	x->count = 0;
	x->capacity = max_flows;
	uint32_t n = group_count(max_flows);
	if (max_flows == 0 || n == 0)
		return -EINVAL;
	x->mask = n - 1;
	x->groups = sn_bigmem_alloc(sn_flowindex_bytes(x));
	return x->groups ? 0 : -ENOMEM;
}

void sn_flowindex_free(struct sn_flowindex *x)
{
	sn_bigmem_free(x->groups, sn_flowindex_bytes(x));
	x->groups = NULL;
}

size_t sn_flowindex_bytes(const struct sn_flowindex *x)
{
	return ((size_t)x->mask + 1) * sizeof x->groups[0];
}

const void *sn_flowindex_home(const struct sn_flowindex *x, uint64_t hash)
{
	return &x->groups[home_group(x, hash)];
}

#define LANES_HIGH 0x8000800080008000ULL
#define LANES_LOW7 0x7fff7fff7fff7fffULL

/* Bit k set for each 16-bit lane k of w (lane 0 lowest) equal to zero. */
static uint32_t zero_lanes(uint64_t w)
{
	uint64_t nonzero = (((w & LANES_LOW7) + LANES_LOW7) | w) & LANES_HIGH;
	uint64_t zero = (~nonzero & LANES_HIGH) >> 15; /* bits 0, 16, 32, 48 */
	return (uint32_t)((zero * 0x0001000200040008ULL) >> 48) & 0xf;
}

/*
 * Bit s set for each slot s of g holding tag (a taken slot's tag is never
 * 0): the ten tags compared four at a time within 64-bit words.
 */
static uint32_t tag_matches(const struct sn_flowindex_group *g, uint16_t tag)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint64_t w[3]; /* tags 0-3, 4-7, 8-9 and the overflow count */
	_Static_assert(offsetof(struct sn_flowindex_group, tag) == 0 &&
			       offsetof(struct sn_flowindex_group, overflow) == 20,
		       "tags, then the overflow count");
	memcpy(w, g, sizeof w);
	uint64_t rep = 0x0001000100010001ULL * tag;
	return zero_lanes(w[0] ^ rep) | zero_lanes(w[1] ^ rep) << 4 |
	       (zero_lanes(w[2] ^ rep) & 3u) << 8;
#else
	uint32_t m = 0;
	for (uint32_t s = 0; s < SN_FLOWINDEX_SLOTS; s++)
		m |= (uint32_t)(g->tag[s] == tag) << s;
	return m;
#endif
}

void sn_flowindex_probe_start(const struct sn_flowindex *x, uint64_t hash,
			      struct sn_flowindex_probe *pr)
{
	pr->group = home_group(x, hash);
	pr->tag = hash_tag(hash);
	pr->steps = 0;
	pr->slot = tag_matches(&x->groups[pr->group], pr->tag);
}

uint32_t sn_flowindex_probe_next(const struct sn_flowindex *x, struct sn_flowindex_probe *pr)
{
	while (pr->steps <= x->mask) {
		const struct sn_flowindex_group *g = &x->groups[pr->group];
		if (pr->slot) {
			uint32_t s = (uint32_t)__builtin_ctz(pr->slot);
			pr->slot &= pr->slot - 1;
			return g->flow[s];
		}
		if (g->overflow == 0)
			break;
		pr->group = (pr->group + 1) & x->mask;
		pr->steps++;
		pr->slot = tag_matches(&x->groups[pr->group], pr->tag);
	}
	pr->steps = x->mask + 1; /* exhausted: later calls return NONE at once */
	pr->slot = 0;
	return SN_FLOWINDEX_NONE;
}

static int free_slot(const struct sn_flowindex_group *g)
{
	for (int s = 0; s < SN_FLOWINDEX_SLOTS; s++)
		if (g->tag[s] == 0)
			return s;
	return -1;
}

int sn_flowindex_insert(struct sn_flowindex *x, uint64_t hash, uint32_t flow)
{
	if (x->count >= x->capacity)
		return -ENOSPC;
	/* the load is below 1, so a free slot exists within mask + 1 groups */
	uint32_t gi = home_group(x, hash);
	for (;;) {
		struct sn_flowindex_group *g = &x->groups[gi];
		int s = free_slot(g);
		if (s >= 0) {
			g->tag[s] = hash_tag(hash);
			g->flow[s] = flow;
			x->count++;
			return 0;
		}
		g->overflow++;
		gi = (gi + 1) & x->mask;
	}
}

/* Where flow sits in group g, or -1. */
static int find_slot(const struct sn_flowindex_group *g, uint16_t tag, uint32_t flow)
{
	for (int s = 0; s < SN_FLOWINDEX_SLOTS; s++)
		if (g->tag[s] == tag && g->flow[s] == flow)
			return s;
	return -1;
}

bool sn_flowindex_remove(struct sn_flowindex *x, uint64_t hash, uint32_t flow)
{
	uint16_t tag = hash_tag(hash);
	uint32_t gi = home_group(x, hash);
	uint32_t passed = 0;

	/* find it first, so that a wrong call leaves the counts alone */
	for (;; passed++) {
		if (passed > x->mask)
			return false;
		int s = find_slot(&x->groups[gi], tag, flow);
		if (s >= 0) {
			x->groups[gi].tag[s] = 0;
			break;
		}
		if (x->groups[gi].overflow == 0)
			return false;
		gi = (gi + 1) & x->mask;
	}
	for (gi = home_group(x, hash); passed-- > 0; gi = (gi + 1) & x->mask)
		x->groups[gi].overflow--;
	x->count--;
	return true;
}
