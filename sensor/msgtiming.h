/*
 * msgtiming.h - the times of a long-lived connection's client messages.
 *
 * Owns the follow states: once a connection is confirmed as MQTT in clear
 * from its first byte, the flow table lends it one state from a bounded
 * pool and hands it every later client segment.  A tiny walker reads the
 * MQTT fixed headers in the client's byte stream (MQTT 3.1.1 section 2.2
 * and 5.0 section 2.1: packet type byte, then the Remaining Length
 * variable byte integer of at most 4 bytes) and passes over each body by
 * count, so a segment costs a few comparisons however large it is.  The
 * packet time of each PINGREQ (type 12) and PUBLISH (type 3) goes into a
 * ring of the last SN_BEACON_STARTS per kind; the report carries their
 * rhythm, measured by beacon.c.  AMQP 0-9-1 in clear is walked the same
 * way by its frames (section 4.2.3: type, channel, size, payload,
 * frame-end 0xCE, checked): heartbeat frames (type 8) are its keepalive,
 * basic.publish methods (class 60, method 40) its publishes.
 *
 * The walker never guesses: a segment past the next expected byte (a lost
 * or reordered segment), bytes the capture cut off where a header lies, or
 * bytes that are no fixed header stop the following for good and are
 * counted; the times seen before that stay.  Retransmitted bytes are
 * skipped.  No allocation after create.
 *
 * When every state is in use, a new connection takes the state of the
 * least recently active holder: the one whose last client segment with new
 * bytes is oldest (states sit on an LRU list, lru.h, moved to its tail by
 * each such segment); the start tells the caller whose state it took.
 */
#ifndef SN_MSGTIMING_H
#define SN_MSGTIMING_H

#include <stddef.h>
#include <stdint.h>

#include "conn.h"

#define SN_MSGT_STATES_MAX 0xfffffdu /* a flow keeps a state's number in 24 bits */
#define SN_MSGT_NO_OWNER 0xffffffffu /* sn_msgt_start took a free state */

struct sn_msgt_stats {
	uint64_t followed;  /* connections given a follow state */
	uint64_t pool_full; /* connections that found no state (a pool of 0): not timed */
	uint64_t reclaimed; /* states taken from the least recently active holder */
	uint64_t lost;      /* followings stopped at a sequence gap, reordering or cut bytes */
	uint64_t malformed; /* followings stopped at bytes that are no MQTT fixed header
			       (or AMQP frame) */
};

struct sn_msgt_pool;

/* What a follow state walks. */
enum sn_msgt_wire {
	SN_MSGT_WIRE_MQTT = 0, /* MQTT fixed headers: PINGREQ, PUBLISH */
	SN_MSGT_WIRE_AMQP091,  /* AMQP 0-9-1 frames after the protocol header: heartbeat, basic.publish */
};

/* `states` follow states (0: none, every start counts as pool_full); NULL
 * when memory cannot be had (errno set) or states > SN_MSGT_STATES_MAX. */
struct sn_msgt_pool *sn_msgt_pool_create(uint32_t states);
void sn_msgt_pool_destroy(struct sn_msgt_pool *p);

/*
 * Starts following, for `owner` (the caller's number for the connection),
 * a client stream whose byte at sequence number `seq` begins an MQTT
 * packet (or the AMQP protocol header); its first `len` bytes, already seen
 * (the bytes that gave the verdict), are walked without timing.  Returns a
 * state number from 1, or 0 when the pool has no states (counted).  When
 * every state was in use, the least recently active holder's state is
 * taken (counted): *taken_from is its owner, which must no longer use that
 * number; else SN_MSGT_NO_OWNER.
 */
uint32_t sn_msgt_start(struct sn_msgt_pool *p, enum sn_msgt_wire wire, uint32_t seq,
		       const uint8_t *bytes, size_t len, uint32_t owner, uint32_t *taken_from);

/*
 * One client segment: `caplen` captured bytes of a payload of `wirelen`
 * bytes at sequence number `seq`, packet time ts_us.
 */
void sn_msgt_feed(struct sn_msgt_pool *p, uint32_t st, uint32_t seq, const uint8_t *data,
		  uint32_t caplen, uint32_t wirelen, uint64_t ts_us);

/* What a report carries: counts and per-kind rhythm (no threshold applied). */
void sn_msgt_describe(const struct sn_msgt_pool *p, uint32_t st, struct sn_conn_msgs *out);

void sn_msgt_release(struct sn_msgt_pool *p, uint32_t st);

void sn_msgt_stats(const struct sn_msgt_pool *p, struct sn_msgt_stats *out);

#endif /* SN_MSGTIMING_H */
