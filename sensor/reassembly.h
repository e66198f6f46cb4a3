/*
 * reassembly.h - the first bytes of each direction of a TCP connection, in
 * sequence order, for the dissectors.
 *
 * A direction keeps at most `cap` bytes counted from its base sequence
 * number (ISN + 1 when the handshake was seen, else the first data
 * segment's seq).  Segments are placed by sequence number: out-of-order
 * segments are held in place and remembered in a small fixed list of
 * filled ranges, the contiguous prefix is what the dissectors see,
 * retransmitted or overlapping bytes keep their first copy, and bytes past
 * the bound are dropped.  Offsets are uint32 differences, so sequence
 * numbers that wrap around 2^32 need no special case.
 *
 * The buffers come from a pool sized once (struct sn_reasm_pool); a
 * connection borrows one slot (both directions) until its verdict.  The
 * pool may hold a few large slots besides: a connection whose opening
 * announces more bytes than a slot holds (a long TLS ClientHello) moves
 * into one (sn_reasm_grow) while one is free.
 */
#ifndef SN_REASSEMBLY_H
#define SN_REASSEMBLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SN_REASM_NONE UINT32_MAX   /* "no slot" */

/* Bytes of bitmap a buffer of cap bytes needs. */
#define SN_REASM_MAP_BYTES(cap) (((size_t)(cap) + 7u) / 8u)

/*
 * One direction's bookkeeping; its bytes and their bitmap live in
 * caller-supplied memory (buf[cap], map[SN_REASM_MAP_BYTES(cap)]).
 */
struct sn_reasm_dir {
	uint32_t base;    /* sequence number of byte 0 */
	uint32_t contig;  /* bytes [0, contig) are present */
	uint32_t held;    /* bytes present beyond contig (out of order) */
	uint32_t skipped; /* bytes dropped from the front (sn_reasm_consume) */
	bool based;       /* base is known */
};

enum sn_reasm_rc {
	SN_REASM_OLD = 0,  /* nothing new: a retransmission or an empty segment */
	SN_REASM_HELD,     /* new bytes stored, but the prefix did not grow */
	SN_REASM_GREW,     /* the contiguous prefix grew */
	SN_REASM_DROPPED,  /* outside the window: before base or past the bound */
};

/* Forgets everything; the next segment (or sn_reasm_dir_set_base) sets the base. */
void sn_reasm_dir_reset(struct sn_reasm_dir *d);

/* Sets the base (ISN + 1) unless one is already known. */
void sn_reasm_dir_set_base(struct sn_reasm_dir *d, uint32_t base_seq);

/*
 * Places `len` bytes of `data` starting at sequence number `seq` into
 * buf[0, cap), marking them in map.  The first segment of an unbased
 * direction becomes its base.  The caller zeroes map with the direction.
 */
enum sn_reasm_rc sn_reasm_dir_add(struct sn_reasm_dir *d, uint8_t *buf, uint8_t *map, uint32_t cap,
				  uint32_t seq, const uint8_t *data, uint32_t len);

/*
 * Drops the first n bytes of the contiguous prefix (n <= contig): the
 * rest moves to the front and the base advances, so the bound makes room
 * for bytes further on (a dissector finished with a prolog).
 */
void sn_reasm_dir_consume(struct sn_reasm_dir *d, uint8_t *buf, uint8_t *map, uint32_t cap,
			  uint32_t n);

/*
 * Drops the first n bytes of the window whether they are present or not
 * (a reader that knows a hole's bytes are lost and where its next unit
 * starts): bytes held beyond n move to the front and the prefix is
 * recounted from them; n past the bound empties the window and moves the
 * base n bytes on, so the bytes before it are dropped when they come.
 */
void sn_reasm_dir_skip(struct sn_reasm_dir *d, uint8_t *buf, uint8_t *map, uint32_t cap,
		       uint32_t n);

/* The pool of buffers: `slots` slots of two directions of `dir_bytes` each. */
struct sn_reasm_pool;

/* NULL when memory cannot be had (errno set).  slots may be 0. */
struct sn_reasm_pool *sn_reasm_pool_create(uint32_t slots, uint32_t dir_bytes);
/* The same with `large_slots` slots of `large_bytes` per direction besides
 * (none unless large_bytes > dir_bytes). */
struct sn_reasm_pool *sn_reasm_pool_create2(uint32_t slots, uint32_t dir_bytes, uint32_t large_slots,
					    uint32_t large_bytes);
void sn_reasm_pool_destroy(struct sn_reasm_pool *p);

/* A free slot with both directions reset, or SN_REASM_NONE. */
uint32_t sn_reasm_acquire(struct sn_reasm_pool *p);
void sn_reasm_release(struct sn_reasm_pool *p, uint32_t slot);
/*
 * Moves a small slot's bytes and state into a free large slot and releases
 * the small one: the new slot number, or SN_REASM_NONE (the slot is kept)
 * when it is large already or no large slot is free.
 */
uint32_t sn_reasm_grow(struct sn_reasm_pool *p, uint32_t slot);
bool sn_reasm_is_large(const struct sn_reasm_pool *p, uint32_t slot);
uint32_t sn_reasm_in_use(const struct sn_reasm_pool *p);
uint32_t sn_reasm_dir_bytes(const struct sn_reasm_pool *p);

/* Direction `dir` (0 = client to server, 1 = server to client) of a slot. */
struct sn_reasm_dir *sn_reasm_dir(struct sn_reasm_pool *p, uint32_t slot, int dir);
enum sn_reasm_rc sn_reasm_add(struct sn_reasm_pool *p, uint32_t slot, int dir, uint32_t seq,
			      const uint8_t *data, uint32_t len);

/* The contiguous prefix of a direction: *len bytes at the returned pointer. */
const uint8_t *sn_reasm_prefix(const struct sn_reasm_pool *p, uint32_t slot, int dir,
			       size_t *len);

/* True when the contiguous prefix reached the bound. */
bool sn_reasm_full(const struct sn_reasm_pool *p, uint32_t slot, int dir);

/* sn_reasm_dir_consume() on a slot's direction. */
void sn_reasm_consume(struct sn_reasm_pool *p, uint32_t slot, int dir, uint32_t n);

#endif /* SN_REASSEMBLY_H */
