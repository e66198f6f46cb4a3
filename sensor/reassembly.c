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

struct sn_reasm_pool {
	uint32_t n_slots;
	uint32_t dir_bytes;
	uint32_t free_head;
	uint32_t in_use;
	struct sn_reasm_slot *slots;
	uint8_t *data; /* n_slots * 2 * dir_bytes */
	uint8_t *maps; /* n_slots * 2 * SN_REASM_MAP_BYTES(dir_bytes) */
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

	/* First copy wins: only bytes no earlier segment filled are written. */
	struct sn_cursor c = sn_cur_make(data, len);
	sn_cur_skip(&c, (size_t)(s - rel0));
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
	memmove(buf, buf + n, cap - n);
	for (uint32_t i = 0; i < cap; i++) {
		bool bit = i + n < cap && map_get(map, i + n);
		map[i >> 3] = (uint8_t)((map[i >> 3] & ~(1u << (i & 7))) | ((unsigned)bit << (i & 7)));
	}
	d->base += n;
	d->contig -= n;
	d->skipped += n;
}

static uint8_t *dir_buf(const struct sn_reasm_pool *p, uint32_t slot, int dir)
{
	return p->data + ((size_t)slot * 2 + (dir ? 1 : 0)) * p->dir_bytes;
}

static uint8_t *dir_map(const struct sn_reasm_pool *p, uint32_t slot, int dir)
{
	return p->maps + ((size_t)slot * 2 + (dir ? 1 : 0)) * SN_REASM_MAP_BYTES(p->dir_bytes);
}

struct sn_reasm_pool *sn_reasm_pool_create(uint32_t slots, uint32_t dir_bytes)
{
	struct sn_reasm_pool *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->n_slots = slots;
	p->dir_bytes = dir_bytes;
	p->free_head = SN_REASM_NONE;
	if (slots == 0)
		return p;
	if (dir_bytes && (size_t)slots > SIZE_MAX / 2 / dir_bytes)
		goto out_nomem;
	p->slots = calloc(slots, sizeof p->slots[0]);
	p->data = malloc((size_t)slots * 2 * dir_bytes + 1);
	p->maps = calloc((size_t)slots * 2, SN_REASM_MAP_BYTES(dir_bytes) + 1);
	if (!p->slots || !p->data || !p->maps)
		goto out_nomem;
	for (uint32_t i = slots; i-- > 0;) {
		p->slots[i].next_free = p->free_head;
		p->free_head = i;
	}
	return p;

out_nomem:
	sn_reasm_pool_destroy(p);
	errno = ENOMEM;
	return NULL;
}

void sn_reasm_pool_destroy(struct sn_reasm_pool *p)
{
	if (!p)
		return;
	free(p->slots);
	free(p->data);
	free(p->maps);
	free(p);
}

uint32_t sn_reasm_acquire(struct sn_reasm_pool *p)
{
	uint32_t slot = p->free_head;
	if (slot == SN_REASM_NONE)
		return SN_REASM_NONE;
	struct sn_reasm_slot *s = &p->slots[slot];
	p->free_head = s->next_free;
	s->next_free = SN_REASM_NONE;
	sn_reasm_dir_reset(&s->dir[0]);
	sn_reasm_dir_reset(&s->dir[1]);
	memset(dir_map(p, slot, 0), 0, 2 * SN_REASM_MAP_BYTES(p->dir_bytes));
	p->in_use++;
	return slot;
}

void sn_reasm_release(struct sn_reasm_pool *p, uint32_t slot)
{
	if (slot >= p->n_slots)
		return;
	p->slots[slot].next_free = p->free_head;
	p->free_head = slot;
	p->in_use--;
}

uint32_t sn_reasm_in_use(const struct sn_reasm_pool *p)
{
	return p->in_use;
}

uint32_t sn_reasm_dir_bytes(const struct sn_reasm_pool *p)
{
	return p->dir_bytes;
}


struct sn_reasm_dir *sn_reasm_dir(struct sn_reasm_pool *p, uint32_t slot, int dir)
{
	return &p->slots[slot].dir[dir ? 1 : 0];
}

enum sn_reasm_rc sn_reasm_add(struct sn_reasm_pool *p, uint32_t slot, int dir, uint32_t seq,
			      const uint8_t *data, uint32_t len)
{
	return sn_reasm_dir_add(sn_reasm_dir(p, slot, dir), dir_buf(p, slot, dir), dir_map(p, slot, dir),
				p->dir_bytes, seq, data, len);
}

const uint8_t *sn_reasm_prefix(const struct sn_reasm_pool *p, uint32_t slot, int dir, size_t *len)
{
	*len = p->slots[slot].dir[dir ? 1 : 0].contig;
	return dir_buf(p, slot, dir);
}

bool sn_reasm_full(const struct sn_reasm_pool *p, uint32_t slot, int dir)
{
	return p->slots[slot].dir[dir ? 1 : 0].contig >= p->dir_bytes;
}

void sn_reasm_consume(struct sn_reasm_pool *p, uint32_t slot, int dir, uint32_t n)
{
	sn_reasm_dir_consume(sn_reasm_dir(p, slot, dir), dir_buf(p, slot, dir), dir_map(p, slot, dir),
			     p->dir_bytes, n);
}
