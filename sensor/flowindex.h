/*
 * flowindex.h - the flow table's hash index: a 64-bit key hash to the
 * number of the flow entry holding that key.
 *
 * Open addressing over 64-byte groups (one cache line) of
 * SN_FLOWINDEX_SLOTS slots.  A slot holds a flow number and a 16-bit tag
 * taken from the top of the hash; the group is chosen by the low bits.  A
 * lookup reads one group and offers the caller only the flows whose tag
 * matches (about one in 65536 of the others), so a miss - every packet of
 * a SYN flood - touches no flow entry at all.
 *
 * A key whose home group is full goes into the next group with a free
 * slot, and every group it passed counts it in `overflow`.  A lookup stops
 * at the first group whose overflow is zero, and removal (given the hash
 * and the flow number) walks the same groups decrementing, so no
 * tombstones are needed and the index never degrades with churn.  Sized
 * once for at most max_flows keys at a load of 5/8 or less (at most 2^28
 * groups, so that a slot's place fits 32 bits).
 */
#ifndef SN_FLOWINDEX_H
#define SN_FLOWINDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define SN_FLOWINDEX_SLOTS 10
#define SN_FLOWINDEX_NONE UINT32_MAX

struct sn_flowindex_group {
	uint16_t tag[SN_FLOWINDEX_SLOTS];  /* 0 = empty slot */
	uint32_t overflow;                 /* keys that passed this group when inserted */
	uint32_t flow[SN_FLOWINDEX_SLOTS]; /* flow numbers of the occupied slots */
};
_Static_assert(sizeof(struct sn_flowindex_group) == 64, "a group is one cache line");

struct sn_flowindex {
	struct sn_flowindex_group *groups;
	uint32_t mask;   /* groups - 1 (a power of two) */
	uint32_t count;  /* keys present */
	uint32_t capacity; /* max keys, as created */
};

/* A lookup in progress: candidates come out one at a time. */
struct sn_flowindex_probe {
	uint32_t group;
	uint32_t slot;   /* the group's matching slots not yet offered (bit per slot) */
	uint32_t steps;  /* groups visited, bounded by the group count */
	uint16_t tag;
};

/* 0, or -errno (-ENOMEM, -EINVAL for max_flows 0). */
int sn_flowindex_init(struct sn_flowindex *x, uint32_t max_flows);
void sn_flowindex_free(struct sn_flowindex *x);
/* Memory the groups take, in bytes. */
size_t sn_flowindex_bytes(const struct sn_flowindex *x);

/*
 * The probe is inline: every packet runs it (twice under replay, for the
 * hint and for the lookup), and a miss must stay a handful of instructions.
 */

static inline uint32_t sn_flowindex_home_group(const struct sn_flowindex *x, uint64_t hash)
{
	return (uint32_t)hash & x->mask;
}

/* Tag 0 marks an empty slot, so a key's tag is never 0. */
static inline uint16_t sn_flowindex_tag(uint64_t hash)
{
	uint16_t t = (uint16_t)(hash >> 48);
	return t ? t : 1;
}

/* The cache line a lookup of this hash reads first (for prefetching). */
static inline const void *sn_flowindex_home(const struct sn_flowindex *x, uint64_t hash)
{
	return &x->groups[sn_flowindex_home_group(x, hash)];
}

/*
 * Bit s set for each slot s of g holding tag (a taken slot's tag is never
 * 0).  With SSE2 the ten tags are compared in two 16-byte loads (the second
 * also covers the overflow count and two flow numbers, masked off) and
 * packed to one bit a slot; elsewhere one slot at a time.
 */
static inline uint32_t sn_flowindex_matches(const struct sn_flowindex_group *g, uint16_t tag)
{
#if defined(__SSE2__)
	_Static_assert(offsetof(struct sn_flowindex_group, tag) == 0 &&
			       offsetof(struct sn_flowindex_group, overflow) == 20,
		       "ten tags, then the overflow count");
	__m128i want = _mm_set1_epi16((short)tag);
	__m128i lo = _mm_loadu_si128((const __m128i *)(const void *)g);
	__m128i hi = _mm_loadu_si128((const __m128i *)(const void *)((const char *)g + 16));
	/* 16-bit lanes of 0 or -1, packed to bytes: one mask bit a slot */
	__m128i both = _mm_packs_epi16(_mm_cmpeq_epi16(lo, want), _mm_cmpeq_epi16(hi, want));
	return (uint32_t)_mm_movemask_epi8(both) & ((1u << SN_FLOWINDEX_SLOTS) - 1);
#else
	uint32_t m = 0;
	for (uint32_t s = 0; s < SN_FLOWINDEX_SLOTS; s++)
		m |= (uint32_t)(g->tag[s] == tag) << s;
	return m;
#endif
}

static inline void sn_flowindex_probe_start(const struct sn_flowindex *x, uint64_t hash,
					    struct sn_flowindex_probe *pr)
{
	pr->group = sn_flowindex_home_group(x, hash);
	pr->tag = sn_flowindex_tag(hash);
	pr->steps = 0;
	pr->slot = sn_flowindex_matches(&x->groups[pr->group], pr->tag);
}

/* The next flow whose tag matches, or SN_FLOWINDEX_NONE when there is none. */
static inline uint32_t sn_flowindex_probe_next(const struct sn_flowindex *x,
					       struct sn_flowindex_probe *pr)
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
		pr->slot = sn_flowindex_matches(&x->groups[pr->group], pr->tag);
	}
	pr->steps = x->mask + 1; /* exhausted: later calls return NONE at once */
	pr->slot = 0;
	return SN_FLOWINDEX_NONE;
}

/* Adds flow under hash.  -ENOSPC when capacity keys are already present. */
int sn_flowindex_insert(struct sn_flowindex *x, uint64_t hash, uint32_t flow);
/* Removes flow, inserted under hash; false if it was not there. */
bool sn_flowindex_remove(struct sn_flowindex *x, uint64_t hash, uint32_t flow);
/* Removes every key at once. */
void sn_flowindex_clear(struct sn_flowindex *x);

/*
 * The same for a caller that keeps where each key sits.  A key never moves
 * once added, so its place (sn_flowindex_place: the group number shifted
 * left by SN_FLOWINDEX_PLACE_BITS, the slot below; a shift and a mask to
 * take apart, where a multiple of ten took a multiply) identifies it until
 * removed: add returns the place (SN_FLOWINDEX_NONE when capacity
 * keys are present), and removal at that place, given the key's home group
 * (sn_flowindex_home_group), writes the slot without reading the group
 * first.  Evicting the oldest flow of a large table finds its line long out
 * of cache; a store does not wait for it, a search would.
 */
#define SN_FLOWINDEX_PLACE_BITS 4
_Static_assert(SN_FLOWINDEX_SLOTS <= (1 << SN_FLOWINDEX_PLACE_BITS), "a slot fits below the group");
/* at most 2^28 groups: the last place, (2^28 - 1) * 16 + 9, is below NONE */
static inline uint32_t sn_flowindex_place(uint32_t group, uint32_t slot)
{
	return group << SN_FLOWINDEX_PLACE_BITS | slot;
}

static inline uint32_t sn_flowindex_place_group(uint32_t place)
{
	return place >> SN_FLOWINDEX_PLACE_BITS;
}

static inline uint32_t sn_flowindex_place_slot(uint32_t place)
{
	return place & ((1u << SN_FLOWINDEX_PLACE_BITS) - 1);
}

uint32_t sn_flowindex_add_walk(struct sn_flowindex *x, uint64_t hash, uint32_t flow);

/*
 * Both inline for the flow table's create and evict (every packet of a SYN
 * flood does each once): a key whose home group has a free slot takes its
 * first one here, the same slot the walk would give it.
 */
static inline uint32_t sn_flowindex_add(struct sn_flowindex *x, uint64_t hash, uint32_t flow)
{
	uint32_t gi = sn_flowindex_home_group(x, hash);
	struct sn_flowindex_group *g = &x->groups[gi];
	uint32_t m = sn_flowindex_matches(g, 0);
	if (m == 0 || x->count >= x->capacity)
		return sn_flowindex_add_walk(x, hash, flow);
	uint32_t s = (uint32_t)__builtin_ctz(m);
	g->tag[s] = sn_flowindex_tag(hash);
	g->flow[s] = flow;
	x->count++;
	return sn_flowindex_place(gi, s);
}

static inline void sn_flowindex_remove_at(struct sn_flowindex *x, uint32_t home, uint32_t place)
{
	uint32_t gi = sn_flowindex_place_group(place);
	x->groups[gi].tag[sn_flowindex_place_slot(place)] = 0;
	/* the groups it passed when added counted it (home is a group number) */
	for (uint32_t p = home; p != gi; p = (p + 1) & x->mask)
		x->groups[p].overflow--;
	x->count--;
}

#endif /* SN_FLOWINDEX_H */
