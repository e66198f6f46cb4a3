/*
 * reassembly.c - first-bytes buffers: segments placed by sequence number.
 *
 * Owns the per-direction placement rules (base, contiguous prefix,
 * out-of-order bytes held in place under a bitmap, first copy wins, a hard
 * bound, dropping a finished prefix) and the pool the flow table borrows
 * buffers from.  All memory is allocated at pool
 * creation; adding a segment only copies bytes, through struct sn_cursor.
 */
#include "reassembly.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cursor.h"

struct sn_reasm_slot {
	struct sn_reasm_dir dir[2];
	uint32_t next_free; /* free list link, SN_REASM_NONE at the end */
};

/* One class of slots: `n` slots of two directions of `bytes` each. */
struct sn_reasm_class {
	uint32_t n;
	uint32_t bytes;
	uint32_t free_head; /* index within the class */
	uint32_t in_use;
	struct sn_reasm_slot *slots;
	uint8_t *data; /* n * 2 * bytes */
	uint8_t *maps; /* n * 2 * SN_REASM_MAP_BYTES(bytes) */
};

/* Slot numbers [0, small.n) are small, [small.n, small.n + large.n) large. */
struct sn_reasm_pool {
	struct sn_reasm_class small;
	struct sn_reasm_class large;
};

void sn_reasm_dir_reset(struct sn_reasm_dir *d)
{
	memset(d, 0, sizeof *d);
}

void sn_reasm_dir_set_base(struct sn_reasm_dir *d, uint32_t base_seq)
{
	if (d->based)
		return;
	d->base = base_seq;
	d->based = true;
}

static bool map_get(const uint8_t *map, uint32_t i)
{
	return ((unsigned)map[i >> 3] >> (i & 7)) & 1u;
}

static void map_set(uint8_t *map, uint32_t i)
{
	map[i >> 3] = (uint8_t)(map[i >> 3] | (1u << (i & 7)));
}

/* Bit i becomes bit i + n (0 past the end), a byte at a time; n < cap. */
static void map_shift(uint8_t *map, uint32_t cap, uint32_t n)
{
	size_t bytes = SN_REASM_MAP_BYTES(cap), q = n >> 3;
	unsigned r = n & 7;
	for (size_t j = 0; j < bytes; j++) {
		unsigned lo = j + q < bytes ? map[j + q] : 0;
		unsigned hi = j + q + 1 < bytes ? map[j + q + 1] : 0;
		map[j] = (uint8_t)(r ? (lo >> r | hi << (8 - r)) : lo);
	}
}

enum sn_reasm_rc sn_reasm_dir_add(struct sn_reasm_dir *d, uint8_t *buf, uint8_t *map, uint32_t cap,
				  uint32_t seq, const uint8_t *data, uint32_t len)
{
	if (len == 0 || !data)
		return SN_REASM_OLD;
	sn_reasm_dir_set_base(d, seq);

	/* Signed distance from the base: negative means before it. */
	int64_t rel0 = (int32_t)(seq - d->base);
	int64_t s = rel0 < 0 ? 0 : rel0;
	int64_t e = rel0 + (int64_t)len;
	if (e > (int64_t)cap)
		e = cap;
	if (e <= s)
		return SN_REASM_DROPPED;
	if (e <= (int64_t)d->contig)
		return SN_REASM_OLD;
	if (s < (int64_t)d->contig)
		s = d->contig;

	struct sn_cursor c = sn_cur_make(data, len);
	sn_cur_skip(&c, (size_t)(s - rel0));
	/*
	 * In order with nothing held beyond the prefix (nearly every segment):
	 * no byte of [s, e) was filled, so they are copied at once.  The map is
	 * read only at and beyond `contig`, so the prefix needs no bits.
	 */
	if (d->held == 0 && s == (int64_t)d->contig) {
		sn_cur_copy(&c, buf + s, (size_t)(e - s));
		d->contig = (uint32_t)e;
		return SN_REASM_GREW;
	}

	/* First copy wins: only bytes no earlier segment filled are written. */
	uint32_t placed = 0;
	for (uint32_t i = (uint32_t)s; i < (uint32_t)e; i++) {
		uint8_t b = sn_cur_u8(&c);
		if (map_get(map, i))
			continue;
		buf[i] = b;
		map_set(map, i);
		placed++;
	}
	if (placed == 0)
		return SN_REASM_OLD;
	d->held += placed;
	uint32_t before = d->contig;
	while (d->contig < cap && map_get(map, d->contig)) {
		d->contig++;
		d->held--;
	}
	return d->contig > before ? SN_REASM_GREW : SN_REASM_HELD;
}

void sn_reasm_dir_consume(struct sn_reasm_dir *d, uint8_t *buf, uint8_t *map, uint32_t cap,
			  uint32_t n)
{
	if (n == 0 || n > d->contig)
		return;
	if (d->held == 0) {
		/* nothing beyond the prefix: only its rest moves, and no bit is needed */
		memmove(buf, buf + n, d->contig - n);
		memset(map, 0, SN_REASM_MAP_BYTES(cap));
		d->base += n;
		d->contig -= n;
		d->skipped += n;
		return;
	}
	memmove(buf, buf + n, cap - n);
	map_shift(map, cap, n);
	d->base += n;
	d->contig -= n;
	d->skipped += n;
}

void sn_reasm_dir_skip(struct sn_reasm_dir *d, uint8_t *buf, uint8_t *map, uint32_t cap,
		       uint32_t n)
{
	if (n == 0)
		return;
	if (n <= d->contig) {
		sn_reasm_dir_consume(d, buf, map, cap, n);
		return;
	}
	if (n >= cap) {
		memset(map, 0, SN_REASM_MAP_BYTES(cap));
		d->held = 0;
	} else {
		/* the map is valid from contig on; held bytes in [contig, n) go */
		for (uint32_t i = d->contig; i < n; i++)
			if (map_get(map, i))
				d->held--;
		memmove(buf, buf + n, cap - n);
		map_shift(map, cap, n);
	}
	d->base += n;
	d->skipped += n;
	d->contig = 0;
	while (d->contig < cap && map_get(map, d->contig)) {
		d->contig++;
		d->held--;
	}
}

/* The class a slot number belongs to, and its index within it. */
static const struct sn_reasm_class *class_of(const struct sn_reasm_pool *p, uint32_t *slot)
{
	if (*slot < p->small.n)
		return &p->small;
	*slot -= p->small.n;
	return &p->large;
}

static struct sn_reasm_slot *slot_rec(const struct sn_reasm_pool *p, uint32_t slot)
{
	const struct sn_reasm_class *k = class_of(p, &slot);
	return &k->slots[slot];
}

static uint32_t slot_cap(const struct sn_reasm_pool *p, uint32_t slot)
{
	return class_of(p, &slot)->bytes;
}

static uint8_t *dir_buf(const struct sn_reasm_pool *p, uint32_t slot, int dir)
{
	const struct sn_reasm_class *k = class_of(p, &slot);
	return k->data + ((size_t)slot * 2 + (dir ? 1 : 0)) * k->bytes;
}

static uint8_t *dir_map(const struct sn_reasm_pool *p, uint32_t slot, int dir)
{
	const struct sn_reasm_class *k = class_of(p, &slot);
	return k->maps + ((size_t)slot * 2 + (dir ? 1 : 0)) * SN_REASM_MAP_BYTES(k->bytes);
}

static void class_free(struct sn_reasm_class *k)
{
	free(k->slots);
	free(k->data);
	free(k->maps);
}

static bool class_init(struct sn_reasm_class *k, uint32_t n, uint32_t bytes)
{
	k->n = n;
	k->bytes = bytes;
	k->free_head = SN_REASM_NONE;
	if (n == 0)
		return true;
	if (bytes && (size_t)n > SIZE_MAX / 2 / bytes)
		return false;
	k->slots = calloc(n, sizeof k->slots[0]);
	k->data = malloc((size_t)n * 2 * bytes + 1);
	k->maps = calloc((size_t)n * 2, SN_REASM_MAP_BYTES(bytes) + 1);
	if (!k->slots || !k->data || !k->maps)
		return false;
	for (uint32_t i = n; i-- > 0;) {
		k->slots[i].next_free = k->free_head;
		k->free_head = i;
	}
	return true;
}

struct sn_reasm_pool *sn_reasm_pool_create(uint32_t slots, uint32_t dir_bytes)
{
	return sn_reasm_pool_create2(slots, dir_bytes, 0, 0);
}

struct sn_reasm_pool *sn_reasm_pool_create2(uint32_t slots, uint32_t dir_bytes, uint32_t large_slots,
					    uint32_t large_bytes)
{
	struct sn_reasm_pool *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	if (large_bytes <= dir_bytes || (uint64_t)slots + large_slots >= SN_REASM_NONE)
		large_slots = 0;
	if (!class_init(&p->small, slots, dir_bytes) || !class_init(&p->large, large_slots, large_bytes)) {
		sn_reasm_pool_destroy(p);
		errno = ENOMEM;
		return NULL;
	}
	return p;
}

void sn_reasm_pool_destroy(struct sn_reasm_pool *p)
{
	if (!p)
		return;
	class_free(&p->small);
	class_free(&p->large);
	free(p);
}

/* A free slot of class k (index within it), reset, or SN_REASM_NONE. */
static uint32_t class_acquire(struct sn_reasm_class *k)
{
	uint32_t slot = k->free_head;
	if (slot == SN_REASM_NONE)
		return SN_REASM_NONE;
	struct sn_reasm_slot *s = &k->slots[slot];
	k->free_head = s->next_free;
	s->next_free = SN_REASM_NONE;
	sn_reasm_dir_reset(&s->dir[0]);
	sn_reasm_dir_reset(&s->dir[1]);
	memset(k->maps + (size_t)slot * 2 * SN_REASM_MAP_BYTES(k->bytes), 0,
	       2 * SN_REASM_MAP_BYTES(k->bytes));
	k->in_use++;
	return slot;
}

uint32_t sn_reasm_acquire(struct sn_reasm_pool *p)
{
	return class_acquire(&p->small);
}

void sn_reasm_release(struct sn_reasm_pool *p, uint32_t slot)
{
	if (slot >= p->small.n + p->large.n)
		return;
	struct sn_reasm_class *k = slot < p->small.n ? &p->small : &p->large;
	uint32_t i = slot < p->small.n ? slot : slot - p->small.n;
	k->slots[i].next_free = k->free_head;
	k->free_head = i;
	k->in_use--;
}

uint32_t sn_reasm_grow(struct sn_reasm_pool *p, uint32_t slot)
{
	if (slot >= p->small.n)
		return SN_REASM_NONE;
	uint32_t i = class_acquire(&p->large);
	if (i == SN_REASM_NONE)
		return SN_REASM_NONE;
	uint32_t big = p->small.n + i;
	for (int dir = 0; dir < 2; dir++) {
		*sn_reasm_dir(p, big, dir) = *sn_reasm_dir(p, slot, dir);
		memcpy(dir_buf(p, big, dir), dir_buf(p, slot, dir), p->small.bytes);
		/* bit i is byte i>>3 in both maps; the small map's spare bits are 0 */
		memcpy(dir_map(p, big, dir), dir_map(p, slot, dir), SN_REASM_MAP_BYTES(p->small.bytes));
	}
	sn_reasm_release(p, slot);
	return big;
}

bool sn_reasm_is_large(const struct sn_reasm_pool *p, uint32_t slot)
{
	return slot >= p->small.n && slot != SN_REASM_NONE;
}

uint32_t sn_reasm_in_use(const struct sn_reasm_pool *p)
{
	return p->small.in_use + p->large.in_use;
}

uint32_t sn_reasm_dir_bytes(const struct sn_reasm_pool *p)
{
	return p->small.bytes;
}

struct sn_reasm_dir *sn_reasm_dir(struct sn_reasm_pool *p, uint32_t slot, int dir)
{
	return &slot_rec(p, slot)->dir[dir ? 1 : 0];
}

enum sn_reasm_rc sn_reasm_add(struct sn_reasm_pool *p, uint32_t slot, int dir, uint32_t seq,
			      const uint8_t *data, uint32_t len)
{
	return sn_reasm_dir_add(sn_reasm_dir(p, slot, dir), dir_buf(p, slot, dir), dir_map(p, slot, dir),
				slot_cap(p, slot), seq, data, len);
}

const uint8_t *sn_reasm_prefix(const struct sn_reasm_pool *p, uint32_t slot, int dir, size_t *len)
{
	*len = slot_rec(p, slot)->dir[dir ? 1 : 0].contig;
	return dir_buf(p, slot, dir);
}

bool sn_reasm_full(const struct sn_reasm_pool *p, uint32_t slot, int dir)
{
	return slot_rec(p, slot)->dir[dir ? 1 : 0].contig >= slot_cap(p, slot);
}

void sn_reasm_consume(struct sn_reasm_pool *p, uint32_t slot, int dir, uint32_t n)
{
	sn_reasm_dir_consume(sn_reasm_dir(p, slot, dir), dir_buf(p, slot, dir), dir_map(p, slot, dir),
			     slot_cap(p, slot), n);
}
