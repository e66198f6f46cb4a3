/*
 * flow.h - the TCP connection table of one capture worker.
 *
 * Connections are keyed by a normalised 5-tuple plus VLAN id (flowkey.h),
 * hashed with a seed chosen at start.  The table is sized once (max_flows)
 * and never allocates per packet; when it is full the oldest idle flow is
 * evicted, half-open ones first (a SYN-ACK without a seen SYN stays
 * half-open until the client acknowledges it), then ended ones, and
 * counted.  While a connection has no verdict it borrows a first-bytes
 * buffer from a bounded pool (reassembly.c; when the pool is empty the
 * least recently active holder's buffer is reclaimed) and detect.c runs the
 * dissectors over it; after the verdict its packets only update counters,
 * except the client segments of MQTT in clear, whose message times a
 * follow state keeps (msgtiming.h) while one is free.
 * A connection that ended (FIN both ways, RST) stays timeout_closed after
 * its last packet so that every packet of it is counted.  Time is packet
 * time: timeouts compare packet timestamps.
 */
#ifndef SN_FLOW_H
#define SN_FLOW_H

#include <stdbool.h>
#include <stdint.h>

#include "conn.h"
#include "decode.h"
#include "flowindex.h"
#include "flowkey.h"

struct sn_flow_config {
	uint32_t max_flows;          /* table capacity */
	uint32_t classify_buffers;   /* first-bytes buffers in the pool */
	uint32_t buffer_bytes;       /* bytes kept per direction (e.g. 2048) */
	uint32_t timeout_new_s;      /* half-open (no answer yet) idle timeout */
	uint32_t timeout_established_s;
	uint32_t timeout_closed_s;   /* after one FIN */
	uint32_t message_timing_flows; /* follow states for MQTT message times (msgtiming.h) */
	const uint8_t *port_map;     /* 65536 entries: enum sn_proto | SN_PORT_TLS */
	uint16_t payload_bytes;      /* output.payload_bytes: message bytes dissectors keep */
	sn_report_fn report;         /* where connection reports go */
	void *report_ctx;
};

struct sn_flow_stats {
	uint64_t flows_created;
	uint64_t flows_active;
	uint64_t flows_half_open;     /* active and not yet answered */
	uint64_t evicted_half_open;   /* evicted while waiting for an answer */
	uint64_t evicted_established;
	uint64_t expired;             /* idle timeouts */
	uint64_t closed;              /* FIN both ways or RST */
	uint64_t classified;          /* verdicts reached */
	uint64_t confirmed;           /* verdicts that named a pub/sub protocol */
	uint64_t pool_exhausted;      /* a flow needed a buffer and none was free
					 (a pool of 0 slots: nothing to reclaim) */
	uint64_t buffers_reclaimed;   /* the pool was empty: the buffer of the
					 least recently active holder was taken for
					 a new connection; an undecided holder stays
					 undecided (port evidence, never refuted) */
	uint64_t meta_exhausted;      /* a confirmed flow found no meta slot: later
					 UPDATE/CLOSE reports carry empty meta */
	uint64_t out_of_window;       /* segments outside the first-bytes window */
	uint64_t undecided;           /* verdicts left undecided: the bytes stopped (the bound,
					 or the connection's end) before any dissector could tell */
	uint64_t malformed;           /* verdicts that confirmed a protocol breaking its spec */
	uint64_t probe_skipped;       /* client bytes dropped as finished (an XML prolog) */
	uint64_t probe_budget_hit;    /* flows whose buffer and probe budget ran out undecided */
	uint64_t large_grown;         /* flows moved to a large buffer (a long TLS ClientHello) */
	uint64_t large_exhausted;     /* such a flow found no large buffer free: judged on
					 the bytes its buffer holds */
	uint64_t reports;             /* reports sent to the aggregator */
	uint64_t checksum_bad;        /* segments dropped for a bad TCP checksum */
	uint64_t checksum_unproven;   /* bad-checksum segments kept: their sender had shown
					 no good checksum on the connection (offload) */
	uint64_t msg_followed;        /* msgtiming.h's counters */
	uint64_t msg_pool_full;
	uint64_t msg_reclaimed;
	uint64_t msg_lost;
	uint64_t msg_malformed;
	uint64_t tunnel_lists_full;   /* a tunnelled flow's layer list was not kept
					 (its reports carry no details.tunnel) */
};

struct sn_flow_table;

/* Returns NULL when memory for the table cannot be had (errno set). */
struct sn_flow_table *sn_flow_table_create(const struct sn_flow_config *cfg, uint64_t seed);
void sn_flow_table_destroy(struct sn_flow_table *ft);

/* One decoded TCP segment. */
void sn_flow_table_process(struct sn_flow_table *ft, const struct sn_packet *pkt);

/*
 * A segment's key, built once when replay first sees it (lookahead.h) and
 * carried to the moment it is processed, with its hash and direction.
 */
struct sn_flow_hint {
	struct sn_flow_key key;
	uint64_t hash;
	bool src_is_a; /* the segment's source is the key's endpoint a */
	/*
	 * The index slot (flowindex.h place) hint_entry() found first holding
	 * the key's tag, SN_FLOWINDEX_NONE if none or not looked: tried first
	 * when the segment is processed, and trusted only if the slot still
	 * holds the tag and its flow the key.
	 */
	uint32_t place;
};

/*
 * Cache hints for a segment that will be processed a few packets later
 * (replay looks ahead, lookahead.h); neither changes anything.  hint()
 * builds the segment's key and hash into *h and starts fetching its index
 * line; hint_entry(), once the line has had time to arrive, starts
 * fetching the entry it most likely names.
 */
void sn_flow_table_hint(const struct sn_flow_table *ft, const struct sn_packet *pkt,
			struct sn_flow_hint *h);

/*
 * What hint() and hint_entry() read of a table, copied out once (none of
 * it changes while the table lives: the hash secret, where the index
 * groups and the entries lie), so that a caller making hints a packet makes
 * them inline with sn_flow_hint_make() and sn_flow_hint_fetch() instead of
 * calling out.  The same hints either way.
 */
struct sn_flow_hinter {
	struct sn_flowkey_secret secret;
	const struct sn_flowindex_group *groups;
	uint32_t mask;         /* groups - 1 */
	const uint8_t *cold;   /* the entries' keys, SN_FLOW_HINT_STRIDE bytes apart */
	const uint8_t *flows;  /* the hot entries, as far apart */
};
#define SN_FLOW_HINT_STRIDE 64

void sn_flow_table_hinter(const struct sn_flow_table *ft, struct sn_flow_hinter *out);

#if defined(__GNUC__)
__attribute__((always_inline)) /* else GCC calls it out of line */
#endif
static inline void sn_flow_hint_make(const struct sn_flow_hinter *hh, const struct sn_packet *pkt,
				     struct sn_flow_hint *h)
{
	h->src_is_a = sn_flowkey_make_hashed(&hh->secret, pkt, &h->key, &h->hash);
	h->place = SN_FLOWINDEX_NONE;
	__builtin_prefetch(&hh->groups[(uint32_t)h->hash & hh->mask], 0);
}

/* sn_flow_table_hint_entry(), inline. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline void sn_flow_hint_fetch(const struct sn_flow_hinter *hh, struct sn_flow_hint *h)
{
	uint32_t home = (uint32_t)h->hash & hh->mask;
	const struct sn_flowindex_group *g = &hh->groups[home];
	uint32_t m = sn_flowindex_matches(g, sn_flowindex_tag(h->hash));
	if (m)
		h->place = sn_flowindex_place(home, (uint32_t)__builtin_ctz(m));
	for (; m; m &= m - 1) {
		size_t i = g->flow[__builtin_ctz(m)];
		__builtin_prefetch(hh->cold + i * SN_FLOW_HINT_STRIDE, 0);
		__builtin_prefetch(hh->flows + i * SN_FLOW_HINT_STRIDE, 1);
	}
}
void sn_flow_table_hint_entry(const struct sn_flow_table *ft, struct sn_flow_hint *h);
/* sn_flow_table_process() given what hint() built for this segment. */
void sn_flow_table_process_hinted(struct sn_flow_table *ft, const struct sn_packet *pkt,
				  const struct sn_flow_hint *h);

/*
 * Expires flows idle past their timeout at packet time now_us, closing at
 * most `budget` of them (half-open first, then ended, one-FIN, established;
 * least recently active first in each), so that after a flood no single
 * call stalls capture.  Returns true when more flows are already due: call
 * again on the next packet or tick until it returns false.
 */
#define SN_FLOW_EXPIRE_BUDGET 1024
bool sn_flow_table_expire(struct sn_flow_table *ft, uint64_t now_us, uint32_t budget);

/*
 * The capture worker this table belongs to (0 to 65535): it fills the top
 * 16 bits of every flow_id, so ids stay unique across workers.  Call before
 * the first packet; a table counts flows from 1.
 */
#define SN_FLOW_ID_WORKER_SHIFT 48
void sn_flow_table_set_worker(struct sn_flow_table *ft, uint16_t worker);

/* Send UPDATE reports with new byte counts for reported, still-open flows. */
void sn_flow_table_report_live(struct sn_flow_table *ft, uint64_t now_us);

/* Close every flow (end of input or shutdown), sending their CLOSE reports. */
void sn_flow_table_flush(struct sn_flow_table *ft, uint64_t now_us, enum sn_close_reason why);

void sn_flow_table_stats(const struct sn_flow_table *ft, struct sn_flow_stats *out);

#endif /* SN_FLOW_H */
