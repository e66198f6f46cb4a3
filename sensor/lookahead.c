/*
 * lookahead.c - the replay window of lookahead.h.
 *
 * Slots are a ring.  A frame pushed with sn_lookahead_push is copied whole
 * into its slot before it is decoded, so the decoded view (payload
 * included) stays valid until the packet leaves; one pushed with
 * sn_lookahead_push_stable is decoded where it lies; once the window is
 * full, such a frame takes the slot of the packet that leaves, both in one
 * call into the worker (sn_worker_step, inline in lookahead.h).  The copies are spaced a little more than
 * SN_LOOKAHEAD_FRAME apart: at exact power-of-two strides every frame's
 * first bytes would compete for the same few L1 cache sets.
 */
#include "lookahead.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SN_LOOKAHEAD_STRIDE (SN_LOOKAHEAD_FRAME + 3 * 64)

static const uint64_t always; /* a deadline every time reaches */

int sn_lookahead_init(struct sn_lookahead *la, struct sn_worker *w, sn_lookahead_fn after,
		      void *ctx, bool copies)
{
	memset(la, 0, sizeof *la);
	la->w = w;
	la->after = after;
	la->ctx = ctx;
	la->due = &always;
	if (!copies)
		return 0;
	la->frames = malloc((size_t)SN_LOOKAHEAD * SN_LOOKAHEAD_STRIDE);
	return la->frames ? 0 : -ENOMEM;
}

void sn_lookahead_free(struct sn_lookahead *la)
{
	free(la->frames);
	la->frames = NULL;
}

void sn_lookahead_set_due(struct sn_lookahead *la, const uint64_t *due)
{
	la->due = due;
}

static uint8_t *slot_frame(const struct sn_lookahead *la, unsigned s)
{
	return la->frames + (size_t)s * SN_LOOKAHEAD_STRIDE;
}

/* What sn_worker_packet() does after decoding, for the oldest packet. */
static void process_oldest(struct sn_lookahead *la)
{
	uint64_t now = sn_worker_process(la->w, &la->slot[la->head]);
	la->head = (la->head + 1) & SN_LOOKAHEAD_MASK;
	la->count--;
	if (la->after && now >= *la->due)
		la->after(la->ctx, la->w);
}

void sn_lookahead_drain(struct sn_lookahead *la)
{
	while (la->count > 0)
		process_oldest(la);
}

/* The packet pushed half a window ago: its index line is in by now. */
static void hint_middle(struct sn_lookahead *la)
{
	if (la->count <= SN_LOOKAHEAD / 2)
		return;
	sn_worker_prefetch(la->w,
			   &la->slot[(la->head + la->count - 1 - SN_LOOKAHEAD / 2) & SN_LOOKAHEAD_MASK]);
}

/* Prepares a frame that stays in place (copied or not) into slot i. */
static void push_prepared(struct sn_lookahead *la, unsigned i, const uint8_t *frame,
			  uint32_t caplen, uint32_t wirelen, uint64_t ts_us)
{
	sn_worker_prepare(la->w, frame, caplen, wirelen, ts_us, &la->slot[i]);
	la->count++;
	if (la->slot[i].pkt.reassembled) {
		/* Its bytes live in the decoder until the next frame: process it now. */
		sn_lookahead_drain(la);
		return;
	}
	hint_middle(la);
}

void sn_lookahead_fill_stable(struct sn_lookahead *la, const uint8_t *frame, uint32_t caplen,
			      uint32_t wirelen, uint64_t ts_us)
{
	push_prepared(la, (la->head + la->count) & SN_LOOKAHEAD_MASK, frame, caplen, wirelen, ts_us);
}

void sn_lookahead_push(struct sn_lookahead *la, const uint8_t *frame, uint32_t caplen,
		       uint32_t wirelen, uint64_t ts_us)
{
	struct sn_worker *w = la->w;
	if (!la->frames || caplen > SN_LOOKAHEAD_FRAME) {
		sn_lookahead_drain(la);
		sn_worker_packet(w, frame, caplen, wirelen, ts_us);
		if (la->after && sn_worker_now(w) >= *la->due)
			la->after(la->ctx, w);
		return;
	}
	if (la->count == SN_LOOKAHEAD)
		process_oldest(la);
	unsigned i = (la->head + la->count) & SN_LOOKAHEAD_MASK;
	uint8_t *copy = slot_frame(la, i);
	memcpy(copy, frame, caplen);
	push_prepared(la, i, copy, caplen, wirelen, ts_us);
}
