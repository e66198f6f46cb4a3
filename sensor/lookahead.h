/*
 * lookahead.h - offline replay's short window between reading a packet and
 * processing it, so that the flow table's cache misses for one packet
 * overlap the work on the packets before it.
 *
 * Processing a segment waits on two dependent memory reads: its index
 * line, then the entry that line names.  libpcap returns every packet in
 * the same buffer, so a packet cannot simply be read early; instead each
 * frame is copied into one of SN_LOOKAHEAD slots (or, read from a block
 * that stays in place, pointed to where it lies) and prepared on arrival
 * (decoded, its index line fetched: sn_worker_prepare), its entry is
 * fetched half a window later (sn_worker_prefetch), and it is processed
 * SN_LOOKAHEAD packets later (sn_worker_process).  Packets still leave the
 * window one at a time in arrival order, and packet time advances only as
 * they leave, so the result is exactly that of sn_worker_packet() per
 * frame.  Frames larger than a slot go through sn_worker_packet() after
 * the window is drained.
 */
#ifndef SN_LOOKAHEAD_H
#define SN_LOOKAHEAD_H

#include <stdbool.h>
#include <stdint.h>

#include "pipeline.h"

#define SN_LOOKAHEAD 8            /* packets in the window (a power of two) */
#define SN_LOOKAHEAD_FRAME 16384  /* bytes a slot holds */
#define SN_LOOKAHEAD_MASK (SN_LOOKAHEAD - 1)

_Static_assert((SN_LOOKAHEAD & SN_LOOKAHEAD_MASK) == 0, "window is a power of two");

/*
 * Called after a packet has been processed (the caller's per-packet work):
 * after each one, or with sn_lookahead_set_due only once the worker's time
 * has reached the caller's deadline.
 */
typedef void (*sn_lookahead_fn)(void *ctx, struct sn_worker *w);

struct sn_lookahead {
	struct sn_worker *w;
	sn_lookahead_fn after;
	void *ctx;
	const uint64_t *due;      /* after() runs when the worker's time is >= *due */
	uint8_t *frames;          /* SN_LOOKAHEAD frame copies; NULL = no window */
	struct sn_worker_pending slot[SN_LOOKAHEAD]; /* payloads point into frames */
	unsigned head;            /* oldest packet's slot */
	unsigned count;           /* packets in the window */
};

/*
 * Sets up a window feeding w; `copies`: room for frame copies, for
 * sn_lookahead_push.  Without memory for them it still works, processing
 * each copied packet as it comes; returns -ENOMEM then, else 0.
 */
int sn_lookahead_init(struct sn_lookahead *la, struct sn_worker *w, sn_lookahead_fn after,
		      void *ctx, bool copies);
void sn_lookahead_free(struct sn_lookahead *la);
/*
 * after() only for packets that leave the worker's time at or past *due
 * (the caller's, read after every packet; e.g. sn_aggregator_due), instead
 * of after each packet.
 */
void sn_lookahead_set_due(struct sn_lookahead *la, const uint64_t *due);

/* One captured frame (decoded with the worker's link type); may process an older one. */
void sn_lookahead_push(struct sn_lookahead *la, const uint8_t *frame, uint32_t caplen,
		       uint32_t wirelen, uint64_t ts_us);

/* Processes every packet still in the window (end of a file). */
void sn_lookahead_drain(struct sn_lookahead *la);
/* sn_lookahead_push_stable() while the window is not full yet. */
void sn_lookahead_fill_stable(struct sn_lookahead *la, const uint8_t *frame, uint32_t caplen,
			      uint32_t wirelen, uint64_t ts_us);

/*
 * A frame whose bytes stay where they are until the window is drained (a
 * block of the file, pcapread.h): no copy.  The caller drains the window
 * before those bytes move.  Once the window is full, the oldest packet
 * leaves and the new one takes its slot in one call into the worker; the
 * one pushed half a window ago gets its flow entry fetched.
 */
static inline void sn_lookahead_push_stable(struct sn_lookahead *la, const uint8_t *frame,
					    uint32_t caplen, uint32_t wirelen, uint64_t ts_us)
{
	if (__builtin_expect(la->count < SN_LOOKAHEAD, 0)) {
		sn_lookahead_fill_stable(la, frame, caplen, wirelen, ts_us);
		return;
	}
	unsigned i = la->head;
	struct sn_worker_pending *s = &la->slot[i];
	la->head = (i + 1) & SN_LOOKAHEAD_MASK;
	uint64_t now = sn_worker_step(la->w, s, frame, caplen, wirelen, ts_us,
				      &la->slot[(i + SN_LOOKAHEAD / 2) & SN_LOOKAHEAD_MASK]);
	if (la->after && now >= *la->due)
		la->after(la->ctx, la->w);
	if (s->pkt.reassembled)
		sn_lookahead_drain(la); /* the newest, in the decoder's bytes, is last */
}

#endif /* SN_LOOKAHEAD_H */
