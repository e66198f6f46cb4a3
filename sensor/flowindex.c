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
	return n > (1u << 28) ? 0 : (uint32_t)n;
}

static uint16_t hash_tag(uint64_t hash)
{
	return sn_flowindex_tag(hash);
}

static uint32_t home_group(const struct sn_flowindex *x, uint64_t hash)
{
	return sn_flowindex_home_group(x, hash);
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

/* The first empty slot of g (tag 0), or -1. */
static int free_slot(const struct sn_flowindex_group *g)
{
	uint32_t m = sn_flowindex_matches(g, 0);
	return m ? __builtin_ctz(m) : -1;
}

/* sn_flowindex_add() from the home group on, past full groups. */
uint32_t sn_flowindex_add_walk(struct sn_flowindex *x, uint64_t hash, uint32_t flow)
{
	if (x->count >= x->capacity)
		return SN_FLOWINDEX_NONE;
	/* the load is below 1, so a free slot exists within mask + 1 groups */
	uint32_t gi = home_group(x, hash);
	for (;;) {
		struct sn_flowindex_group *g = &x->groups[gi];
		int s = free_slot(g);
		if (s >= 0) {
			g->tag[s] = hash_tag(hash);
			g->flow[s] = flow;
			x->count++;
			return sn_flowindex_place(gi, (uint32_t)s);
		}
		g->overflow++;
		gi = (gi + 1) & x->mask;
	}
}

int sn_flowindex_insert(struct sn_flowindex *x, uint64_t hash, uint32_t flow)
{
	return sn_flowindex_add(x, hash, flow) == SN_FLOWINDEX_NONE ? -ENOSPC : 0;
}

void sn_flowindex_clear(struct sn_flowindex *x)
{
	memset(x->groups, 0, sn_flowindex_bytes(x));
	x->count = 0;
}

/* Where flow sits in group g, or -1. */
static int find_slot(const struct sn_flowindex_group *g, uint16_t tag, uint32_t flow)
{
	for (uint32_t m = sn_flowindex_matches(g, tag); m; m &= m - 1) {
		int s = __builtin_ctz(m);
		if (g->flow[s] == flow)
			return s;
	}
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
