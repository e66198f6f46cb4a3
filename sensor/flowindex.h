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
 * once for at most max_flows keys at a load of 5/8 or less.
 */
#ifndef SN_FLOWINDEX_H
#define SN_FLOWINDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/* The cache line a lookup of this hash reads first (for prefetching). */
const void *sn_flowindex_home(const struct sn_flowindex *x, uint64_t hash);

void sn_flowindex_probe_start(const struct sn_flowindex *x, uint64_t hash,
			      struct sn_flowindex_probe *pr);
/* The next flow whose tag matches, or SN_FLOWINDEX_NONE when there is none. */
uint32_t sn_flowindex_probe_next(const struct sn_flowindex *x, struct sn_flowindex_probe *pr);

/* Adds flow under hash.  -ENOSPC when capacity keys are already present. */
int sn_flowindex_insert(struct sn_flowindex *x, uint64_t hash, uint32_t flow);
/* Removes flow, inserted under hash; false if it was not there. */
bool sn_flowindex_remove(struct sn_flowindex *x, uint64_t hash, uint32_t flow);

#endif /* SN_FLOWINDEX_H */
