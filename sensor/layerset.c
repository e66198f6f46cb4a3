/*
 * layerset.c - interned, reference-counted tunnel layer lists (layerset.h).
 *
 * Entries live in one array; handle h is entry h (entry 0 is unused, so 0
 * means none).  A chained hash keyed with a per-table secret finds an
 * existing list: the lists' numbers (VNIs, labels) come off the wire.
 * Only a new connection inside a tunnel touches this, never a packet of an
 * existing one.
 */
#include "layerset.h"

#include <stdlib.h>
#include <string.h>

struct entry {
	uint32_t layers[SN_LAYERS_MAX];
	uint32_t refs;            /* 0 = free */
	uint16_t next;            /* hash chain, or free list */
	uint8_t n;
};

struct sn_layerset {
	uint64_t k0, k1;
	uint32_t capacity;        /* entries 1..capacity */
	uint32_t mask;            /* buckets - 1 */
	uint16_t free_head;
	uint64_t full;
	uint16_t *buckets;
	struct entry *e;
};

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	return x ^ (x >> 33);
}

static uint32_t bucket_of(const struct sn_layerset *ls, const uint32_t *layers, uint8_t n)
{
	uint64_t h = ls->k0 ^ n;
	for (uint8_t i = 0; i < n; i++)
		h = mix(h ^ layers[i] ^ ls->k1);
	return (uint32_t)h & ls->mask;
}

struct sn_layerset *sn_layerset_create(uint32_t capacity, uint64_t seed)
{
	if (capacity == 0 || capacity > UINT16_MAX)
		return NULL;
	struct sn_layerset *ls = calloc(1, sizeof *ls);
	if (!ls)
		return NULL;
	ls->k0 = mix(seed ^ 0x5851f42d4c957f2dULL);
	ls->k1 = mix(ls->k0 + 0x14057b7ef767814fULL);
	ls->capacity = capacity;
	uint32_t nb = 1;
	while (nb < capacity)
		nb <<= 1;
	ls->mask = nb - 1;
	ls->buckets = calloc(nb, sizeof *ls->buckets);
	ls->e = calloc((size_t)capacity + 1, sizeof *ls->e);
	if (!ls->buckets || !ls->e) {
		sn_layerset_destroy(ls);
		return NULL;
	}
	for (uint32_t i = 1; i <= capacity; i++)
		ls->e[i].next = (uint16_t)(i < capacity ? i + 1 : 0);
	ls->free_head = 1;
	return ls;
}

void sn_layerset_destroy(struct sn_layerset *ls)
{
	if (!ls)
		return;
	free(ls->buckets);
	free(ls->e);
	free(ls);
}

uint16_t sn_layerset_acquire(struct sn_layerset *ls, const uint32_t *layers, uint8_t n)
{
	if (n == 0)
		return SN_LAYERSET_NONE;
	if (n > SN_LAYERS_MAX)
		n = SN_LAYERS_MAX;
	uint32_t b = bucket_of(ls, layers, n);
	for (uint16_t i = ls->buckets[b]; i; i = ls->e[i].next) {
		struct entry *e = &ls->e[i];
		if (e->n == n && memcmp(e->layers, layers, n * sizeof *layers) == 0) {
			e->refs++;
			return i;
		}
	}
	if (ls->free_head == 0) {
		ls->full++;
		return SN_LAYERSET_NONE;
	}
	uint16_t i = ls->free_head;
	struct entry *e = &ls->e[i];
	ls->free_head = e->next;
	memset(e->layers, 0, sizeof e->layers);
	memcpy(e->layers, layers, n * sizeof *layers);
	e->n = n;
	e->refs = 1;
	e->next = ls->buckets[b];
	ls->buckets[b] = i;
	return i;
}

void sn_layerset_release(struct sn_layerset *ls, uint16_t h)
{
	if (h == SN_LAYERSET_NONE || h > ls->capacity || ls->e[h].refs == 0)
		return;
	struct entry *e = &ls->e[h];
	if (--e->refs)
		return;
	uint16_t *link = &ls->buckets[bucket_of(ls, e->layers, e->n)];
	while (*link && *link != h)
		link = &ls->e[*link].next;
	if (*link == h)
		*link = e->next;
	e->next = ls->free_head;
	ls->free_head = h;
}

uint8_t sn_layerset_get(const struct sn_layerset *ls, uint16_t h, const uint32_t **layers)
{
	if (h == SN_LAYERSET_NONE || h > ls->capacity || ls->e[h].refs == 0) {
		*layers = NULL;
		return 0;
	}
	*layers = ls->e[h].layers;
	return ls->e[h].n;
}

uint64_t sn_layerset_full(const struct sn_layerset *ls)
{
	return ls->full;
}
