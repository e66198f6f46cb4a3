/*
 * defrag.c - IPv4/IPv6 fragment reassembly (see defrag.h).
 *
 * Slots, their kept bytes, their byte maps and their range lists are one
 * allocation made at start; nothing is allocated per packet.  Slots are
 * found through a chained hash keyed with a per-table secret (the fields an
 * attacker sends choose the bucket otherwise) and kept on one list in
 * arrival order, so the oldest is at its head both for timeouts and for
 * eviction when every slot is in use.
 */
#include "defrag.h"

#include "keyhash.h"

#include <stdlib.h>
#include <string.h>

#define NIL UINT32_MAX
#define IP_MAX_PAYLOAD 65535u
#define US_PER_S 1000000ULL

struct range {
	uint32_t start, end; /* [start, end) of payload received */
};

struct slot {
	struct sn_addr src, dst;
	uint64_t ctx;
	uint32_t id;
	uint8_t proto;
	bool used;
	bool have_end;            /* the last fragment (more = 0) arrived */
	uint32_t total;           /* payload length, once have_end */
	uint32_t hdr_len;         /* from the offset-0 fragment; 0 = not seen */
	uint32_t n_frags, n_ranges;
	uint64_t created_us;
	uint32_t bucket;
	uint32_t hash_next;
	uint32_t age_prev, age_next;
};

struct sn_defrag {
	struct sn_defrag_config cfg;
	struct sn_keyhash hkey;   /* bucket hash secret, from the seed */
	struct slot *slots;
	uint8_t *data;            /* max_datagrams * SN_DEFRAG_KEEP */
	uint8_t *map;             /* max_datagrams * SN_DEFRAG_KEEP / 8: byte kept */
	struct range *ranges;     /* max_datagrams * max_fragments */
	uint32_t *buckets;
	uint32_t bucket_mask;
	uint32_t free_head;       /* free slots, linked through hash_next */
	uint32_t age_head, age_tail; /* used slots, oldest first */
	uint32_t held;
	uint8_t out[SN_DEFRAG_KEEP]; /* the last completed datagram's bytes */
};

/* The datagram's key as words for the keyed hash (keyhash.h). */
static uint32_t frag_bucket(const struct sn_defrag *df, const struct sn_frag *f)
{
	uint64_t w[6];

	memcpy(&w[0], f->src.b, 16);
	memcpy(&w[2], f->dst.b, 16);
	w[4] = f->ctx;
	w[5] = (uint64_t)f->id << 16 | (uint64_t)f->proto << 8 | f->src.family;
	return (uint32_t)sn_keyhash_words(&df->hkey, w, 6) & df->bucket_mask;
}

static bool same_datagram(const struct slot *s, const struct sn_frag *f)
{
	return s->id == f->id && s->proto == f->proto && s->ctx == f->ctx &&
	       sn_addr_equal(&s->src, &f->src) && sn_addr_equal(&s->dst, &f->dst);
}

static uint8_t *slot_data(struct sn_defrag *df, uint32_t i)
{
	return df->data + (size_t)i * SN_DEFRAG_KEEP;
}

static uint8_t *slot_map(struct sn_defrag *df, uint32_t i)
{
	return df->map + (size_t)i * (SN_DEFRAG_KEEP / 8);
}

static struct range *slot_ranges(struct sn_defrag *df, uint32_t i)
{
	return df->ranges + (size_t)i * df->cfg.max_fragments;
}

struct sn_defrag *sn_defrag_create(const struct sn_defrag_config *cfg, uint64_t seed)
{
	if (cfg->max_datagrams == 0 || cfg->max_fragments == 0 || cfg->max_datagrams >= NIL / 2)
		return NULL;
	struct sn_defrag *df = calloc(1, sizeof *df);
	if (!df)
		return NULL;
	df->cfg = *cfg;
	sn_keyhash_init(&df->hkey, seed);
	uint32_t nb = 1;
	while (nb < cfg->max_datagrams * 2u)
		nb <<= 1;
	df->bucket_mask = nb - 1;
	size_t n = cfg->max_datagrams;
	df->slots = calloc(n, sizeof *df->slots);
	df->data = malloc(n * SN_DEFRAG_KEEP);
	df->map = calloc(n, SN_DEFRAG_KEEP / 8);
	df->ranges = calloc(n * cfg->max_fragments, sizeof *df->ranges);
	df->buckets = malloc(nb * sizeof *df->buckets);
	if (!df->slots || !df->data || !df->map || !df->ranges || !df->buckets) {
		sn_defrag_destroy(df);
		return NULL;
	}
	for (uint32_t b = 0; b < nb; b++)
		df->buckets[b] = NIL;
	for (uint32_t i = 0; i < cfg->max_datagrams; i++)
		df->slots[i].hash_next = i + 1 < cfg->max_datagrams ? i + 1 : NIL;
	df->free_head = 0;
	df->age_head = df->age_tail = NIL;
	return df;
}

void sn_defrag_destroy(struct sn_defrag *df)
{
	if (!df)
		return;
	free(df->slots);
	free(df->data);
	free(df->map);
	free(df->ranges);
	free(df->buckets);
	free(df);
}

uint32_t sn_defrag_held(const struct sn_defrag *df)
{
	return df->held;
}

/* Unlinks slot i from its bucket and the age list and frees it. */
static void release(struct sn_defrag *df, uint32_t i)
{
	struct slot *s = &df->slots[i];
	uint32_t *link = &df->buckets[s->bucket];
	while (*link != NIL && *link != i)
		link = &df->slots[*link].hash_next;
	if (*link == i)
		*link = s->hash_next;
	if (s->age_prev != NIL)
		df->slots[s->age_prev].age_next = s->age_next;
	else
		df->age_head = s->age_next;
	if (s->age_next != NIL)
		df->slots[s->age_next].age_prev = s->age_prev;
	else
		df->age_tail = s->age_prev;
	s->used = false;
	s->hash_next = df->free_head;
	df->free_head = i;
	df->held--;
}

static void expire(struct sn_defrag *df, uint64_t now_us, struct sn_defrag_stats *st)
{
	uint64_t limit = (uint64_t)df->cfg.timeout_s * US_PER_S;
	while (df->age_head != NIL) {
		const struct slot *s = &df->slots[df->age_head];
		if (now_us < s->created_us || now_us - s->created_us <= limit)
			break;
		st->timeouts++;
		release(df, df->age_head);
	}
}

static uint32_t find(struct sn_defrag *df, const struct sn_frag *f, uint32_t bucket)
{
	for (uint32_t i = df->buckets[bucket]; i != NIL; i = df->slots[i].hash_next)
		if (same_datagram(&df->slots[i], f))
			return i;
	return NIL;
}

static uint32_t claim(struct sn_defrag *df, const struct sn_frag *f, uint32_t bucket,
		      uint64_t now_us, struct sn_defrag_stats *st)
{
	if (df->free_head == NIL) { /* every slot in use: the oldest goes */
		st->overflow++;
		release(df, df->age_head);
	}
	uint32_t i = df->free_head;
	struct slot *s = &df->slots[i];
	df->free_head = s->hash_next;
	memset(s, 0, sizeof *s);
	s->src = f->src;
	s->dst = f->dst;
	s->ctx = f->ctx;
	s->id = f->id;
	s->proto = f->proto;
	s->used = true;
	s->created_us = now_us;
	s->bucket = bucket;
	s->hash_next = df->buckets[bucket];
	df->buckets[bucket] = i;
	s->age_next = NIL;
	s->age_prev = df->age_tail;
	if (df->age_tail != NIL)
		df->slots[df->age_tail].age_next = i;
	else
		df->age_head = i;
	df->age_tail = i;
	memset(slot_map(df, i), 0, SN_DEFRAG_KEEP / 8);
	df->held++;
	return i;
}

/* Adds [start, end) to the sorted, disjoint, merged range list; false when full. */
static bool add_range(struct range *r, uint32_t *n, uint32_t cap, uint32_t start, uint32_t end)
{
	uint32_t i = 0;
	while (i < *n && r[i].end < start)
		i++;
	uint32_t j = i;
	while (j < *n && r[j].start <= end) { /* overlapping or touching: merge */
		if (r[j].start < start)
			start = r[j].start;
		if (r[j].end > end)
			end = r[j].end;
		j++;
	}
	if (j == i) { /* no merge: insert at i */
		if (*n == cap)
			return false;
		memmove(&r[i + 1], &r[i], (*n - i) * sizeof *r);
		(*n)++;
	} else if (j > i + 1) { /* several merged into r[i] */
		memmove(&r[i + 1], &r[j], (*n - j) * sizeof *r);
		*n -= j - i - 1;
	}
	r[i].start = start;
	r[i].end = end;
	return true;
}

/* Copies the captured bytes into the kept prefix where no earlier copy is. */
static void keep_bytes(struct sn_defrag *df, uint32_t i, const struct sn_frag *f)
{
	if (f->offset >= SN_DEFRAG_KEEP)
		return;
	uint32_t n = f->captured;
	if (n > SN_DEFRAG_KEEP - f->offset)
		n = SN_DEFRAG_KEEP - f->offset;
	uint8_t *data = slot_data(df, i), *map = slot_map(df, i);
	for (uint32_t k = 0; k < n; k++) {
		uint32_t at = f->offset + k;
		uint8_t bit = (uint8_t)(1u << (at & 7));
		if (map[at >> 3] & bit)
			continue; /* first copy wins */
		map[at >> 3] |= bit;
		data[at] = f->data[k];
	}
}

/* Bytes kept contiguously from offset 0, up to `total`. */
static uint32_t kept_prefix(struct sn_defrag *df, uint32_t i, uint32_t total)
{
	const uint8_t *map = slot_map(df, i);
	uint32_t lim = total < SN_DEFRAG_KEEP ? total : SN_DEFRAG_KEEP;
	uint32_t k = 0;
	while (k + 8 <= lim && map[k >> 3] == 0xff)
		k += 8;
	while (k < lim && (map[k >> 3] & (1u << (k & 7))))
		k++;
	return k;
}

static enum sn_defrag_rc complete(struct sn_defrag *df, uint32_t i, struct sn_defrag_stats *st,
				  struct sn_datagram *out)
{
	const struct slot *s = &df->slots[i];
	out->captured = kept_prefix(df, i, s->total);
	memcpy(df->out, slot_data(df, i), out->captured);
	out->data = df->out;
	out->wire = s->total;
	out->hdr_len = s->hdr_len;
	out->proto = s->proto;
	st->reassembled++;
	release(df, i);
	return SN_DEFRAG_DONE;
}

enum sn_defrag_rc sn_defrag_add(struct sn_defrag *df, const struct sn_frag *f, uint64_t now_us,
				struct sn_defrag_stats *st, struct sn_datagram *out)
{
	st->fragments++;
	expire(df, now_us, st);
	uint64_t end = (uint64_t)f->offset + f->wire;
	if (end > IP_MAX_PAYLOAD || (f->more && f->wire == 0)) {
		st->invalid++;
		return SN_DEFRAG_DROPPED;
	}
	uint32_t bucket = frag_bucket(df, f);
	uint32_t i = find(df, f, bucket);
	if (i == NIL)
		i = claim(df, f, bucket, now_us, st);
	struct slot *s = &df->slots[i];
	if ((s->have_end && end > s->total) || (!f->more && s->n_ranges &&
	    end < slot_ranges(df, i)[s->n_ranges - 1].end)) {
		st->invalid++; /* contradicts the end already known: first wins */
		return SN_DEFRAG_DROPPED;
	}
	if (++s->n_frags > df->cfg.max_fragments ||
	    !add_range(slot_ranges(df, i), &s->n_ranges, df->cfg.max_fragments, f->offset,
		       (uint32_t)end)) {
		st->overflow++;
		release(df, i);
		return SN_DEFRAG_DROPPED;
	}
	if (!f->more && !s->have_end) {
		s->have_end = true;
		s->total = (uint32_t)end;
	}
	if (f->offset == 0 && s->hdr_len == 0)
		s->hdr_len = f->hdr_len;
	keep_bytes(df, i, f);
	const struct range *r = slot_ranges(df, i);
	if (s->have_end && s->hdr_len && s->n_ranges == 1 && r[0].start == 0 &&
	    r[0].end == s->total)
		return complete(df, i, st, out);
	return SN_DEFRAG_HELD;
}
