/*
 * lru.h - the least-recently-used list the flow table and the aggregator's
 * groups share: doubly linked through 32-bit indices into the owner's array
 * of entries, so entries carry no pointers and the list allocates nothing.
 *
 * Each entry embeds a struct sn_lru_link.  The owner describes where entry
 * i's link lives (struct sn_lru_nodes: the array, the entry size, the
 * link's offset, the index of the array's first entry and the index that
 * means "none"), so the same code serves 0-based and 1-based tables.  The
 * head is the least recently used entry, the tail the most recently used:
 * expiry and eviction look at the head only.
 */
#ifndef SN_LRU_H
#define SN_LRU_H

#include <stddef.h>
#include <stdint.h>

struct sn_lru_link {
	uint32_t prev, next;
};

struct sn_lru {
	uint32_t head, tail; /* head = least recently used */
	uint32_t count;
};

struct sn_lru_nodes {
	char *base;      /* the entry with index `first` */
	size_t stride;   /* entry size */
	size_t offset;   /* offsetof(entry, its struct sn_lru_link) */
	uint32_t first;  /* index of the entry at base (0 or 1) */
	uint32_t nil;    /* the index meaning "none" */
};

static inline struct sn_lru_link *sn_lru_at(struct sn_lru_nodes n, uint32_t i)
{
	return (struct sn_lru_link *)(void *)(n.base + (size_t)(i - n.first) * n.stride + n.offset);
}

static inline void sn_lru_init(struct sn_lru *l, struct sn_lru_nodes n)
{
	l->head = l->tail = n.nil;
	l->count = 0;
}

/* Takes entry i (on l) off the list; its link is left as it was. */
static inline void sn_lru_unlink(struct sn_lru *l, struct sn_lru_nodes n, uint32_t i)
{
	struct sn_lru_link *e = sn_lru_at(n, i);
	if (e->prev != n.nil)
		sn_lru_at(n, e->prev)->next = e->next;
	else
		l->head = e->next;
	if (e->next != n.nil)
		sn_lru_at(n, e->next)->prev = e->prev;
	else
		l->tail = e->prev;
	l->count--;
}

/*
 * sn_lru_unlink for the head of l (eviction takes the least recently
 * used): it has no previous entry, so only the next one's link changes.
 */
static inline void sn_lru_unlink_head(struct sn_lru *l, struct sn_lru_nodes n, uint32_t i)
{
	uint32_t x = sn_lru_at(n, i)->next;
	l->head = x;
	if (x != n.nil)
		sn_lru_at(n, x)->prev = n.nil;
	else
		l->tail = n.nil;
	l->count--;
}

/* Puts entry i (on no list) at the tail: the most recently used. */
static inline void sn_lru_append(struct sn_lru *l, struct sn_lru_nodes n, uint32_t i)
{
	struct sn_lru_link *e = sn_lru_at(n, i);
	e->next = n.nil;
	e->prev = l->tail;
	if (l->tail != n.nil)
		sn_lru_at(n, l->tail)->next = i;
	else
		l->head = i;
	l->tail = i;
	l->count++;
}

/* Entry i (on `from`) becomes the most recently used of `to` (may be from). */
static inline void sn_lru_move(struct sn_lru *from, struct sn_lru *to, struct sn_lru_nodes n,
			       uint32_t i)
{
	if (from == to && to->tail == i)
		return;
	sn_lru_unlink(from, n, i);
	sn_lru_append(to, n, i);
}

/*
 * Entry i (on l) becomes the most recently used of l: nothing to do when it
 * is the tail already (a burst of one flow).  Otherwise i has a next entry
 * and the list a tail, so of the unlink and append above only the steps
 * that can differ are taken, and the count stays as it is.
 */
static inline void sn_lru_touch(struct sn_lru *l, struct sn_lru_nodes n, uint32_t i)
{
	uint32_t t = l->tail;
	if (t == i)
		return;
	struct sn_lru_link *e = sn_lru_at(n, i);
	uint32_t p = e->prev, x = e->next;
	sn_lru_at(n, x)->prev = p;
	if (p != n.nil)
		sn_lru_at(n, p)->next = x;
	else
		l->head = x;
	e->prev = t;
	e->next = n.nil;
	sn_lru_at(n, t)->next = i;
	l->tail = i;
}

#endif /* SN_LRU_H */
