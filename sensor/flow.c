/*
 * flow.c - the TCP connection table of one capture worker.
 *
 * Owns client/server roles, the TCP states that matter here (half-open,
 * established, one FIN), LRU lists, idle timeouts in packet time, eviction
 * when full, the first-bytes buffers lent by reassembly.c while a verdict
 * is pending, and the OPEN / UPDATE / CLOSE reports to the aggregator
 * (conn.h).  Keys and their keyed hash are flowkey.c's; which dissector
 * runs on the first bytes and what its answer means is detect.c's.
 *
 * Memory: every array is allocated at create (bigmem.h: resident only once
 * touched, cache-line aligned, huge pages), and entries are handed out
 * from a high-water mark, so a large table costs nothing until flows come.
 * A flow is a 64-byte hot entry (what every packet touches), a 64-byte
 * cold entry (key, id, the SYN's sequence number: all a flow created by a
 * bare SYN needs) and a 32-byte more entry (first-bytes bookkeeping, set
 * up at the flow's second packet, in small pages: a SYN flood's flows,
 * evicted unanswered, never touch it); what a report needs (totals at the
 * last report, the reported list) is a slot of its own taken at OPEN.
 * The hash index (flowindex.h) keeps a tag of each hash beside the flow
 * number, so a lookup that misses reads one cache line and no entry.  Flows sit on one
 * LRU list per state, ordered by last activity, so expiry and eviction
 * only look at list heads.  Replay hands segments over a few packets after
 * asking for cache hints (sn_flow_table_hint), so that the index line and
 * entry are usually in cache by the time a segment is processed.
 */
#include "flow.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "bigmem.h"
#include "clock.h"
#include "detect.h"
#include "flowindex.h"
#include "flowkey.h"
#include "lru.h"
#include "layerset.h"
#include "msgtiming.h"
#include "reassembly.h"

#define SN_FLOW_NIL UINT32_MAX
#define SN_FLOW_LAYERSETS 4096 /* distinct tunnel layer lists held at once */
_Static_assert(SN_CONN_TUNNEL_MAX == SN_LAYERS_MAX, "a report holds every listed layer");
#define SN_FLOW_SKIP_ROUNDS 64      /* drop-and-refill rounds for one segment */
#define SN_FLOW_LARGE_BUFFERS 8     /* large first-bytes buffers per table ... */
#define SN_FLOW_LARGE_BYTES (16384 + 5) /* ... each one TLS record: a ClientHello inside
					   its first record fits whole */
#define SN_FLOW_FOLLOW_FULL 0xffffffu /* wanted a follow state, none was free */
#define SN_FLOW_FOLLOW_RECLAIMED 0xfffffeu /* its follow state was taken by a newer one */
_Static_assert(SN_MSGT_STATES_MAX < SN_FLOW_FOLLOW_RECLAIMED, "follow marks are no state numbers");
#define SN_FLOW_DETAIL_SEGS 16      /* client segments read for metadata after the verdict
				       (topics); the verdict itself never waits on a count */

/* half-open, established, one FIN, ended (lingering to count its last packets) */
enum { SN_LRU_NEW = 0, SN_LRU_EST, SN_LRU_CLOSING, SN_LRU_ENDED, SN_LRU_COUNT };

/* struct sn_flow.flags */
#define SN_FF_CLIENT_IS_A 0x01 /* the key's endpoint `a` is the client */
#define SN_FF_ESTABLISHED 0x02 /* server answered, or data flowed both ways */
#define SN_FF_VERDICT 0x04     /* proto/evidence are final */
#define SN_FF_REPORTED 0x08    /* OPEN sent: on the reported list */
#define SN_FF_FIN_C 0x10
#define SN_FF_FIN_S 0x20
#define SN_FF_QUIET 0x40       /* verdict in and never reportable */
#define SN_FF_ENDED 0x80       /* FIN both ways or RST: lingers on the ended list
				  to count the last packets (the final ACK) */

/* struct sn_flow_cold.flags */
#define SN_FC_DATA_C 0x01
#define SN_FC_DATA_S 0x02
#define SN_FC_ISN_C 0x04
#define SN_FC_ISN_S 0x08
#define SN_FC_RECLAIMED 0x10 /* lost its buffer undecided: classified per segment,
				 mid-stream, so it can never be refuted */
#define SN_FC_CSUM_A 0x20    /* endpoint a of the key sent a segment with a good checksum */
#define SN_FC_CSUM_B 0x40    /* the same for endpoint b */
#define SN_FC_MORE 0x80      /* the flow's more entry is set up */

/* The part every packet touches.  Index 0 of arrays: client to server. */
struct sn_flow {
	uint32_t home;             /* the key's home group in the index */
	uint32_t place;            /* where the key sits in the index (flowindex.h) */
	struct sn_lru_link lru;    /* lru.next also links the free list */
	uint64_t last_us;          /* last packet, packet time */
	uint64_t bytes[2];         /* IP-layer bytes per direction */
	uint64_t packets[2];
	uint32_t buf;              /* first-bytes slot, SN_REASM_NONE */
	uint8_t list;              /* SN_LRU_* */
	uint8_t flags;             /* SN_FF_* */
	uint8_t proto;             /* enum sn_proto, once SN_FF_VERDICT */
	uint8_t evidence;          /* enum sn_evidence, once SN_FF_VERDICT */
};
_Static_assert(sizeof(struct sn_flow) == 64, "hot flow entry is one cache line");

/*
 * The rest, in two lines of their own.  The cold entry is what a flow
 * created by a bare SYN needs (a flood is made of them): looked at on
 * creation, lookups that match a tag, and eviction.
 */
struct sn_flow_cold {
	struct sn_flow_key key;
	uint64_t flow_id;          /* conn.h: unique within the run */
	uint32_t isn_c;            /* the client's SYN sequence number */
	uint8_t flags;             /* SN_FC_* */
	uint16_t layers;           /* tunnel layer list (layerset.h), NONE = none */
};
_Static_assert(sizeof(struct sn_flow_cold) == 64, "cold entry is one cache line");

/*
 * The more entry: set up (SN_FC_MORE) when the flow sees a second packet,
 * or at once when the first is not a bare SYN; a half-open flood SYN
 * evicted before its answer never writes or keeps resident this memory.
 */
struct sn_flow_more {
	uint64_t first_us;
	uint32_t isn_s;            /* the server's SYN-ACK sequence number */
	uint32_t meta;             /* slot in the meta pool, SN_FLOW_NIL */
	uint32_t rep;              /* report state (reps), once SN_FF_REPORTED */
	struct sn_detect det;      /* dissectors that refused (detect.h) */
	uint8_t match;             /* dissector that matched, for the detail phase */
	uint8_t detail_segs;       /* client segments seen in the detail phase */
	uint8_t follow_hi;         /* follow state (msgtiming.h) in 24 bits: 0 none, */
	uint16_t follow_lo;        /* SN_FLOW_FOLLOW_FULL when none was free,
				      SN_FLOW_FOLLOW_RECLAIMED when taken */
};
_Static_assert(sizeof(struct sn_flow_more) <= 32, "more entry: two to a line");

/*
 * What a reported flow keeps of its reports, apart from the cold entry so
 * that the flows never reported (every SYN of a flood) neither write nor
 * keep resident this memory: a slot is taken at OPEN and returned when the
 * flow goes.  The reported flows form a list in OPEN order through it.
 */
struct sn_flow_rep {
	uint64_t bytes[2], packets[2]; /* totals at the last report */
	uint32_t prev, next;           /* flows (entry numbers) on the reported list */
};

/* A holder of a first-bytes buffer, by pool slot: on the holders' list. */
struct sn_flow_holder {
	struct sn_lru_link link;
	uint32_t owner; /* the flow holding the slot */
};

struct sn_flow_table {
	struct sn_flow_config cfg;
	struct sn_flowkey_secret secret; /* hash key, from the seed */
	struct sn_flowindex index;      /* key hash -> entry */
	struct sn_flow_hinter hinter;   /* secret, index and entries, for the hints */
	struct sn_flow *flows;
	struct sn_flow_cold *cold;
	struct sn_flow_more *more;
	uint32_t free_head;             /* entries freed and not yet reused */
	uint32_t fresh;                 /* entries [fresh, max_flows) never used */
	uint32_t active, half_open;
	uint64_t next_flow_id;          /* worker in the top bits, then a count */
	struct sn_lru lru[SN_LRU_COUNT];
	uint64_t timeout_us[SN_LRU_COUNT];
	uint32_t rep_head, rep_tail;    /* reported flows, in OPEN order */
	struct sn_flow_rep *reps;       /* max_flows slots, handed out like entries */
	uint32_t rep_free, rep_fresh;   /* freed slots (through .next); never used from */
	struct sn_reasm_pool *pool;
	/* Buffer holders, least recently active first (index = pool slot). */
	struct sn_flow_holder *holders;
	struct sn_lru holding;
	struct sn_layerset *layersets;  /* tunnel layer lists of tunnelled flows */
	struct sn_meta *metas;          /* latest meta of confirmed flows (bigmem.h) */
	uint32_t *meta_free;            /* stack of free meta slots */
	uint32_t n_meta, n_meta_free;
	struct sn_flow_stats st;
	struct sn_meta scratch;         /* what the last dissector call wrote */
	struct sn_detect_ctx *dctx;     /* carriers' scratch memory (detect.h) */
	struct sn_msgt_pool *msgt;      /* follow states of MQTT connections (msgtiming.h) */
	struct sn_conn_report rep;      /* the report being sent */
};

/* ---- small accessors -------------------------------------------------- */

static uint8_t port_info(const struct sn_flow_table *ft, uint16_t port)
{
	return ft->cfg.port_map ? ft->cfg.port_map[port] : 0;
}

static bool client_is_a(const struct sn_flow *f)
{
	return (f->flags & SN_FF_CLIENT_IS_A) != 0;
}

static uint16_t server_port(const struct sn_flow_table *ft, uint32_t i)
{
	const struct sn_flow_key *k = &ft->cold[i].key;
	return client_is_a(&ft->flows[i]) ? k->b_port : k->a_port;
}

static uint8_t server_info(const struct sn_flow_table *ft, uint32_t i)
{
	return port_info(ft, server_port(ft, i));
}

static const struct sn_meta *flow_meta(const struct sn_flow_table *ft, uint32_t i)
{
	uint32_t m = ft->more[i].meta;
	return m == SN_FLOW_NIL ? NULL : &ft->metas[m];
}

/* SYN (SN_DIR_C2S) or SYN-ACK sequence number, once seen (SN_FC_ISN_*). */
static uint32_t isn_of(const struct sn_flow_table *ft, uint32_t i, int dir)
{
	return dir == SN_DIR_C2S ? ft->cold[i].isn_c : ft->more[i].isn_s;
}

static uint32_t follow_of(const struct sn_flow_more *c)
{
	return (uint32_t)c->follow_hi << 16 | c->follow_lo;
}

static void set_follow(struct sn_flow_more *c, uint32_t st)
{
	c->follow_hi = (uint8_t)(st >> 16);
	c->follow_lo = (uint16_t)st;
}

/* A connection whose client messages are timed once it has a state: MQTT
 * or AMQP in clear (AMQP 0-9-1 only: follow_start). */
static bool followable(const struct sn_flow *f)
{
	return (f->flags & SN_FF_VERDICT) && (f->proto == SN_PROTO_MQTT || f->proto == SN_PROTO_AMQP) &&
	       f->evidence == SN_EVIDENCE_PAYLOAD;
}

/* ---- lists ------------------------------------------------------------ */

/* Where the LRU lists (lru.h) find an entry's link. */
static struct sn_lru_nodes flow_nodes(const struct sn_flow_table *ft)
{
	return (struct sn_lru_nodes){ .base = (char *)ft->flows, .stride = sizeof *ft->flows,
				      .offset = offsetof(struct sn_flow, lru), .first = 0,
				      .nil = SN_FLOW_NIL };
}

static void lru_unlink(struct sn_flow_table *ft, uint32_t i)
{
	sn_lru_unlink(&ft->lru[ft->flows[i].list], flow_nodes(ft), i);
}

static void lru_move(struct sn_flow_table *ft, uint32_t i, uint8_t list)
{
	struct sn_flow *f = &ft->flows[i];
	sn_lru_move(&ft->lru[f->list], &ft->lru[list], flow_nodes(ft), i);
	f->list = list;
}

/*
 * Entry i becomes the most recently used of the list it is on: every
 * segment does this, so inline, and nothing to do when it already is.
 */
static inline void lru_touch(struct sn_flow_table *ft, uint32_t i)
{
	sn_lru_touch(&ft->lru[ft->flows[i].list], flow_nodes(ft), i);
}

static struct sn_flow_rep *rep_of(const struct sn_flow_table *ft, uint32_t i)
{
	return &ft->reps[ft->more[i].rep];
}

/*
 * Gives flow i a zeroed report slot at the tail of the reported list.
 * Cannot run out: at most max_flows flows exist, each holding one slot.
 */
static void rep_append(struct sn_flow_table *ft, uint32_t i)
{
	uint32_t s = ft->rep_free;
	if (s != SN_FLOW_NIL)
		ft->rep_free = ft->reps[s].next;
	else
		s = ft->rep_fresh++;
	struct sn_flow_rep *r = &ft->reps[s];
	memset(r, 0, sizeof *r);
	ft->more[i].rep = s;
	r->next = SN_FLOW_NIL;
	r->prev = ft->rep_tail;
	if (ft->rep_tail != SN_FLOW_NIL)
		rep_of(ft, ft->rep_tail)->next = i;
	else
		ft->rep_head = i;
	ft->rep_tail = i;
}

/* Takes flow i off the reported list and returns its slot. */
static void rep_unlink(struct sn_flow_table *ft, uint32_t i)
{
	struct sn_flow_rep *r = rep_of(ft, i);
	if (r->prev != SN_FLOW_NIL)
		rep_of(ft, r->prev)->next = r->next;
	else
		ft->rep_head = r->next;
	if (r->next != SN_FLOW_NIL)
		rep_of(ft, r->next)->prev = r->prev;
	else
		ft->rep_tail = r->prev;
	r->next = ft->rep_free;
	ft->rep_free = ft->more[i].rep;
	ft->more[i].rep = SN_FLOW_NIL;
}

/* ---- the holders of first-bytes buffers, least recently active first ---- */

/* Where the holders' list (lru.h) finds pool slot i's link. */
static struct sn_lru_nodes holder_nodes(const struct sn_flow_table *ft)
{
	return (struct sn_lru_nodes){ .base = (char *)ft->holders, .stride = sizeof *ft->holders,
				      .offset = offsetof(struct sn_flow_holder, link), .first = 0,
				      .nil = SN_FLOW_NIL };
}

static void slot_unlink(struct sn_flow_table *ft, uint32_t slot)
{
	sn_lru_unlink(&ft->holding, holder_nodes(ft), slot);
}

static void slot_append(struct sn_flow_table *ft, uint32_t slot, uint32_t owner)
{
	ft->holders[slot].owner = owner;
	sn_lru_append(&ft->holding, holder_nodes(ft), slot);
}

/* A packet of the flow holding `slot`: it becomes the most recently active. */
static void slot_touch(struct sn_flow_table *ft, uint32_t slot)
{
	sn_lru_touch(&ft->holding, holder_nodes(ft), slot);
}

/* ---- pooled resources --------------------------------------------------- */

static void release_buffer(struct sn_flow_table *ft, uint32_t i)
{
	struct sn_flow *f = &ft->flows[i];
	if (f->buf == SN_REASM_NONE)
		return;
	slot_unlink(ft, f->buf);
	sn_reasm_release(ft->pool, f->buf);
	f->buf = SN_REASM_NONE;
}

/*
 * The pool is empty: takes the buffer of the least recently active holder
 * so that a new connection always gets one.  A holder in its detail phase
 * only loses richer meta; an undecided one keeps no verdict and is
 * classified segment by segment as seen mid-stream from now on, so it ends
 * with a match or port evidence, never refuted.
 */
static void reclaim_buffer(struct sn_flow_table *ft)
{
	uint32_t slot = ft->holding.head;
	/* a large buffer's return would not free a small one */
	for (int k = 0; k < SN_FLOW_LARGE_BUFFERS && slot != SN_FLOW_NIL &&
			sn_reasm_is_large(ft->pool, slot); k++)
		slot = ft->holders[slot].link.next;
	if (slot == SN_FLOW_NIL || sn_reasm_is_large(ft->pool, slot))
		return;
	uint32_t v = ft->holders[slot].owner;
	if (!(ft->flows[v].flags & SN_FF_VERDICT))
		ft->cold[v].flags |= SN_FC_RECLAIMED;
	release_buffer(ft, v);
	ft->st.buffers_reclaimed++;
}

/* Borrows a buffer and sets each direction's base from a seen ISN. */
static bool attach_buffer(struct sn_flow_table *ft, uint32_t i)
{
	struct sn_flow *f = &ft->flows[i];
	struct sn_flow_cold *c = &ft->cold[i];
	uint32_t slot = sn_reasm_acquire(ft->pool);
	if (slot == SN_REASM_NONE) {
		reclaim_buffer(ft);
		slot = sn_reasm_acquire(ft->pool);
	}
	if (slot == SN_REASM_NONE) {
		ft->st.pool_exhausted++;
		return false;
	}
	f->buf = slot;
	slot_append(ft, slot, i);
	if (c->flags & SN_FC_ISN_C)
		sn_reasm_dir_set_base(sn_reasm_dir(ft->pool, slot, SN_DIR_C2S), c->isn_c + 1);
	if (c->flags & SN_FC_ISN_S)
		sn_reasm_dir_set_base(sn_reasm_dir(ft->pool, slot, SN_DIR_S2C),
				      ft->more[i].isn_s + 1);
	return true;
}

static void release_follow(struct sn_flow_table *ft, uint32_t i)
{
	uint32_t st = follow_of(&ft->more[i]);
	if (st != SN_FLOW_FOLLOW_FULL && st != SN_FLOW_FOLLOW_RECLAIMED)
		sn_msgt_release(ft->msgt, st);
	set_follow(&ft->more[i], 0);
}

static void release_meta(struct sn_flow_table *ft, uint32_t i)
{
	struct sn_flow_more *c = &ft->more[i];
	if (c->meta == SN_FLOW_NIL)
		return;
	ft->meta_free[ft->n_meta_free++] = c->meta;
	c->meta = SN_FLOW_NIL;
}

/* Keeps a copy of the scratch meta with the flow; false if no slot is free. */
static bool store_meta(struct sn_flow_table *ft, uint32_t i)
{
	struct sn_flow_more *c = &ft->more[i];
	if (c->meta == SN_FLOW_NIL) {
		if (ft->n_meta_free == 0) {
			ft->st.meta_exhausted++;
			return false;
		}
		c->meta = ft->meta_free[--ft->n_meta_free];
	}
	memcpy(&ft->metas[c->meta], &ft->scratch, sizeof ft->scratch);
	return true;
}

/* ---- reports ------------------------------------------------------------ */

static void fill_endpoints(const struct sn_flow_table *ft, uint32_t i, struct sn_conn_report *r)
{
	const struct sn_flow_key *k = &ft->cold[i].key;
	bool ca = client_is_a(&ft->flows[i]);
	r->client.family = k->family;
	r->server.family = k->family;
	memcpy(r->client.b, ca ? k->a : k->b, sizeof r->client.b);
	memcpy(r->server.b, ca ? k->b : k->a, sizeof r->server.b);
	r->client_port = ca ? k->a_port : k->b_port;
	r->server_port = ca ? k->b_port : k->a_port;
	r->vlan = k->vlan;
	const uint32_t *layers;
	r->n_tunnel = sn_layerset_get(ft->layersets, ft->cold[i].layers, &layers);
	if (r->n_tunnel)
		memcpy(r->tunnel, layers, r->n_tunnel * sizeof *layers);
}

static void fill_counters(struct sn_flow_table *ft, uint32_t i, struct sn_conn_report *r)
{
	struct sn_flow *f = &ft->flows[i];
	struct sn_flow_rep *c = rep_of(ft, i);
	for (int d = 0; d < 2; d++) {
		r->bytes[d] = f->bytes[d];
		r->packets[d] = f->packets[d];
		r->bytes_delta[d] = f->bytes[d] - c->bytes[d];
		r->packets_delta[d] = f->packets[d] - c->packets[d];
		c->bytes[d] = f->bytes[d];
		c->packets[d] = f->packets[d];
	}
}

/* meta: what to carry; NULL = the flow's stored meta.  Ignored for port/refuted. */
static void send_report(struct sn_flow_table *ft, uint32_t i, enum sn_report_kind kind,
			uint64_t now_us, enum sn_close_reason why, bool meta_changed,
			const struct sn_meta *meta)
{
	struct sn_flow *f = &ft->flows[i];
	struct sn_conn_report *r = &ft->rep;
	uint8_t info = server_info(ft, i);

	r->kind = kind;
	r->flow_id = ft->cold[i].flow_id;
	r->ts_us = now_us;
	r->first_us = ft->more[i].first_us;
	r->last_us = f->last_us;
	fill_endpoints(ft, i, r);
	r->proto = (enum sn_proto)f->proto;
	r->port_proto = sn_port_proto(info);
	r->port_is_tls = r->port_proto != SN_PROTO_NONE && (info & SN_PORT_TLS);
	r->evidence = (enum sn_evidence)f->evidence;
	fill_counters(ft, i, r);
	r->close = why;
	r->meta_changed = meta_changed;
	r->process_name[0] = '\0';
	if (!meta)
		meta = flow_meta(ft, i);
	if (meta && (r->evidence == SN_EVIDENCE_PAYLOAD || r->evidence == SN_EVIDENCE_TLS))
		memcpy(&r->meta, meta, sizeof r->meta);
	else
		memset(&r->meta, 0, sizeof r->meta);
	uint32_t st = follow_of(&ft->more[i]);
	sn_msgt_describe(ft->msgt, st, &r->msgs);
	if (st == SN_FLOW_FOLLOW_FULL)
		r->msgs.timing = SN_MSGT_NO_STATE;
	else if (st == SN_FLOW_FOLLOW_RECLAIMED)
		r->msgs.timing = SN_MSGT_RECLAIMED;
	ft->st.reports++;
	if (ft->cfg.report)
		ft->cfg.report(ft->cfg.report_ctx, r);
}

/* Bytes or packets since the last report (of a reported flow). */
static bool counts_changed(const struct sn_flow_table *ft, uint32_t i)
{
	const struct sn_flow *f = &ft->flows[i];
	const struct sn_flow_rep *c = rep_of(ft, i);
	return f->bytes[0] != c->bytes[0] || f->bytes[1] != c->bytes[1] ||
	       f->packets[0] != c->packets[0] || f->packets[1] != c->packets[1];
}

/* OPEN once the flow counts, its verdict is in and it is reportable. */
static void maybe_open(struct sn_flow_table *ft, uint32_t i, uint64_t now_us,
		       const struct sn_meta *meta)
{
	struct sn_flow *f = &ft->flows[i];
	uint8_t need = SN_FF_ESTABLISHED | SN_FF_VERDICT;
	if ((f->flags & (SN_FF_REPORTED | SN_FF_QUIET)) || (f->flags & need) != need)
		return;
	rep_append(ft, i);
	send_report(ft, i, SN_REPORT_OPEN, now_us, SN_CLOSE_NONE, false, meta);
	f->flags |= SN_FF_REPORTED;
}

/* ---- classification ------------------------------------------------------ */

/*
 * Records the verdict.  A clear-text match keeps the buffer a little longer
 * (the detail phase) when its meta could be stored; anything else returns
 * the buffer to the pool at once.
 */
static void set_verdict(struct sn_flow_table *ft, uint32_t i, enum sn_proto proto,
			enum sn_evidence ev, int id)
{
	struct sn_flow *f = &ft->flows[i];
	struct sn_flow_more *c = &ft->more[i];
	bool kept = false;

	f->proto = (uint8_t)proto;
	f->evidence = (uint8_t)ev;
	f->flags |= SN_FF_VERDICT;
	if (proto == SN_PROTO_NONE)
		f->flags |= SN_FF_QUIET;
	if (ev == SN_EVIDENCE_PAYLOAD || ev == SN_EVIDENCE_TLS)
		kept = store_meta(ft, i);
	if (kept && ev == SN_EVIDENCE_PAYLOAD && f->buf != SN_REASM_NONE &&
	    !sn_reasm_full(ft->pool, f->buf, SN_DIR_C2S)) {
		c->match = (uint8_t)id;
		c->detail_segs = 0;
		return;
	}
	release_buffer(ft, i);
}

/*
 * MQTT or AMQP 0-9-1 in clear, seen from the client's first byte and not
 * inside WebSocket frames: its client messages are timed from here on.
 * ft->scratch holds the verdict's meta.
 */
static void follow_start(struct sn_flow_table *ft, uint32_t i, const struct sn_stream *s)
{
	const struct sn_flow *f = &ft->flows[i];
	struct sn_flow_more *c = &ft->more[i];

	if (!followable(f) || !s->client_at_start || c->det.carrier == SN_DETECT_WS_YES ||
	    follow_of(c) != 0)
		return;
	if (f->buf != SN_REASM_NONE && sn_reasm_dir(ft->pool, f->buf, SN_DIR_C2S)->skipped)
		return;
	bool amqp = f->proto == SN_PROTO_AMQP;
	if (amqp && strcmp(ft->scratch.amqp_version, "0-9-1") != 0)
		return;
	uint32_t from;
	uint32_t st = sn_msgt_start(ft->msgt, amqp ? SN_MSGT_WIRE_AMQP091 : SN_MSGT_WIRE_MQTT,
				    ft->cold[i].isn_c + 1, s->client, s->client_len, i, &from);
	/* a full pool took the state of the least recently active holder */
	if (from != SN_MSGT_NO_OWNER)
		set_follow(&ft->more[from], SN_FLOW_FOLLOW_RECLAIMED);
	set_follow(c, st ? st : SN_FLOW_FOLLOW_FULL);
}

/*
 * Turns one dissector pass into a verdict, if it gives one.  Returns false
 * while undecided; *skip then holds the client bytes the waiting
 * dissectors are done with.
 */
static bool decide(struct sn_flow_table *ft, uint32_t i, const struct sn_stream *s,
		   uint64_t now_us, uint32_t *skip)
{
	struct sn_detect_verdict v;

	if (!sn_detect_classify(&ft->more[i].det, ft->dctx, server_info(ft, i), s, &ft->scratch, &v,
				skip))
		return false;
	ft->st.classified++;
	if (v.undecided)
		ft->st.undecided++;
	if (v.malformed)
		ft->st.malformed++;
	set_verdict(ft, i, v.proto, v.evidence, v.dissector);
	follow_start(ft, i, s);
	if (ft->flows[i].evidence == SN_EVIDENCE_PAYLOAD ||
	    ft->flows[i].evidence == SN_EVIDENCE_TLS)
		ft->st.confirmed++;
	maybe_open(ft, i, now_us, &ft->scratch);
	return true;
}

/* The stream view of a flow's buffer. */
static void buffer_stream(const struct sn_flow_table *ft, uint32_t i, struct sn_stream *s)
{
	const struct sn_flow *f = &ft->flows[i];
	const struct sn_flow_cold *c = &ft->cold[i];
	const struct sn_reasm_dir *cd = sn_reasm_dir(ft->pool, f->buf, SN_DIR_C2S);

	memset(s, 0, sizeof *s);
	s->client = sn_reasm_prefix(ft->pool, f->buf, SN_DIR_C2S, &s->client_len);
	s->server = sn_reasm_prefix(ft->pool, f->buf, SN_DIR_S2C, &s->server_len);
	/* A lost first segment leaves a hole at the start: the bytes after it are mid-stream. */
	s->client_at_start = (c->flags & SN_FC_ISN_C) && cd->base - cd->skipped == c->isn_c + 1 &&
			     (s->client_len > 0 || cd->held == 0);
	s->final = sn_reasm_full(ft->pool, f->buf, SN_DIR_C2S);
	s->payload_bytes = ft->cfg.payload_bytes;
}

/*
 * Classifies the buffer.  `ended`: no more bytes will come.  When the
 * client's bound is reached undecided, the prefix the dissectors are done
 * with is dropped (within the largest probe budget in the dissector
 * registry: client bytes a flow may read past its buffer) to make room, and the
 * bytes dropped are returned; otherwise the bytes that are there decide,
 * or the flow stays undecided (never refuted for having stopped).
 */
static uint32_t classify_buffer(struct sn_flow_table *ft, uint32_t i, bool ended, uint64_t now_us)
{
	struct sn_stream s;
	uint32_t skip = 0;
	buffer_stream(ft, i, &s);
	bool full = s.final;
	s.final = ended;
	if (decide(ft, i, &s, now_us, &skip) || ended)
		return 0;
	if (!full)
		return 0;
	/* An opening that announced more bytes than the buffer holds (a long
	 * TLS ClientHello) moves into a large buffer, while one is free. */
	uint32_t slot = ft->flows[i].buf;
	if (skip == 0 && ft->scratch.want > sn_reasm_dir_bytes(ft->pool) &&
	    !sn_reasm_is_large(ft->pool, slot)) {
		slot_unlink(ft, slot);
		uint32_t big = sn_reasm_grow(ft->pool, slot);
		if (big != SN_REASM_NONE) {
			ft->flows[i].buf = big;
			slot_append(ft, big, i);
			ft->st.large_grown++;
			return 1;
		}
		slot_append(ft, slot, i);
		ft->st.large_exhausted++;
	}
	struct sn_reasm_dir *cd = sn_reasm_dir(ft->pool, ft->flows[i].buf, SN_DIR_C2S);
	if (skip > 0 && (uint64_t)cd->skipped + skip <= sn_dissector_probe_budget()) {
		sn_reasm_consume(ft->pool, ft->flows[i].buf, SN_DIR_C2S, skip);
		ft->st.probe_skipped += skip;
		return skip;
	}
	ft->st.probe_budget_hit++;
	s.final = true;
	decide(ft, i, &s, now_us, &skip);
	return 0;
}

/*
 * No buffer was free: a stream view of just this segment.  Out of line, as
 * is detail_step(): each hands the address of a stream view on the stack
 * to another function, which inlined into process() would cost every
 * segment a stack canary.
 */
__attribute__((noinline)) static void classify_segment(struct sn_flow_table *ft, uint32_t i, int dir,
			     const struct sn_packet *pkt, uint32_t seq)
{
	const struct sn_flow_cold *c = &ft->cold[i];
	struct sn_stream s;
	memset(&s, 0, sizeof s);
	if (dir == SN_DIR_C2S) {
		s.client = pkt->payload;
		s.client_len = pkt->payload_len;
		s.client_at_start = (c->flags & SN_FC_ISN_C) && !(c->flags & SN_FC_RECLAIMED) &&
				    seq == c->isn_c + 1;
	} else {
		s.server = pkt->payload;
		s.server_len = pkt->payload_len;
	}
	s.payload_bytes = ft->cfg.payload_bytes;
	uint32_t skip;
	decide(ft, i, &s, pkt->ts_us, &skip);
}

/* After a match: re-run the matching dissector for richer meta. */
__attribute__((noinline)) static void detail_step(struct sn_flow_table *ft, uint32_t i, bool grew, uint64_t now_us)
{
	struct sn_flow *f = &ft->flows[i];
	struct sn_flow_more *m = &ft->more[i];
	struct sn_meta *kept = &ft->metas[m->meta];
	struct sn_stream s;

	buffer_stream(ft, i, &s);
	if (grew && sn_detect_detail(&m->det, ft->dctx, m->match, &s, &ft->scratch) &&
	    !sn_meta_same(kept, &ft->scratch)) {
		memcpy(kept, &ft->scratch, sizeof *kept);
		if (f->flags & SN_FF_REPORTED)
			send_report(ft, i, SN_REPORT_UPDATE, now_us, SN_CLOSE_NONE, true, NULL);
	}
	if (grew)
		m->detail_segs++;
	if (s.final || m->detail_segs >= SN_FLOW_DETAIL_SEGS)
		release_buffer(ft, i);
}

/* ---- per-packet steps ----------------------------------------------------- */

static void establish(struct sn_flow_table *ft, uint32_t i)
{
	struct sn_flow *f = &ft->flows[i];
	if (f->flags & SN_FF_ESTABLISHED)
		return;
	f->flags |= SN_FF_ESTABLISHED;
	ft->half_open--;
	if (f->list == SN_LRU_NEW)
		lru_move(ft, i, SN_LRU_EST);
}

static void swap2(uint64_t v[2])
{
	uint64_t t = v[0];
	v[0] = v[1];
	v[1] = t;
}

/* A SYN showed the guess was wrong (only before any report). */
static void swap_roles(struct sn_flow_table *ft, uint32_t i)
{
	struct sn_flow *f = &ft->flows[i];
	struct sn_flow_cold *c = &ft->cold[i];
	uint8_t fin = f->flags & (SN_FF_FIN_C | SN_FF_FIN_S);
	uint8_t cf = c->flags;

	f->flags ^= SN_FF_CLIENT_IS_A;
	f->flags = (uint8_t)((f->flags & ~(SN_FF_FIN_C | SN_FF_FIN_S)) |
			     ((fin & SN_FF_FIN_C) ? SN_FF_FIN_S : 0) |
			     ((fin & SN_FF_FIN_S) ? SN_FF_FIN_C : 0));
	swap2(f->bytes);
	swap2(f->packets);
	struct sn_flow_more *m = &ft->more[i];
	uint32_t isn = c->isn_c;
	c->isn_c = m->isn_s;
	m->isn_s = isn;
	c->flags = (uint8_t)(((cf & 0x05) << 1) | ((cf & 0x0a) >> 1) | (cf & SN_FC_MORE));
	/* Start classification over: what was seen was read the wrong way round. */
	release_buffer(ft, i);
	release_meta(ft, i);
	release_follow(ft, i);
	f->flags &= (uint8_t)~(SN_FF_VERDICT | SN_FF_QUIET);
	f->proto = SN_PROTO_NONE;
	f->evidence = SN_EVIDENCE_PORT;
	memset(&m->det, 0, sizeof m->det);
}

/* SYN or SYN-ACK: roles, ISN, and "the server answered".  Returns the direction. */
static int handshake(struct sn_flow_table *ft, uint32_t i, const struct sn_packet *pkt, int dir)
{
	struct sn_flow *f = &ft->flows[i];
	struct sn_flow_cold *c = &ft->cold[i];
	bool synack = (pkt->tcp_flags & SN_TCP_ACK) != 0;
	int want = synack ? SN_DIR_S2C : SN_DIR_C2S;

	if (dir != want) {
		if (f->flags & SN_FF_REPORTED)
			return dir;
		swap_roles(ft, i);
		dir = want;
	}
	if (dir == SN_DIR_C2S)
		c->isn_c = pkt->seq;
	else
		ft->more[i].isn_s = pkt->seq;
	c->flags |= dir == SN_DIR_C2S ? SN_FC_ISN_C : SN_FC_ISN_S;
	if (f->buf != SN_REASM_NONE)
		sn_reasm_dir_set_base(sn_reasm_dir(ft->pool, f->buf, dir), pkt->seq + 1);
	/*
	 * A SYN-ACK answers a SYN we saw.  Without one it may be spoofed or
	 * backscatter: the flow stays half-open (first to be evicted, never
	 * reported) until the client's ACK of it or data both ways.
	 */
	if (synack && (c->flags & SN_FC_ISN_C))
		establish(ft, i);
	return dir;
}

static inline __attribute__((always_inline)) void count_packet(struct sn_flow_table *ft, uint32_t i, int dir, const struct sn_packet *pkt)
{
	struct sn_flow *f = &ft->flows[i];
	f->bytes[dir] += pkt->ip_bytes;
	f->packets[dir]++;
	if (pkt->ts_us > f->last_us)
		f->last_us = pkt->ts_us;
	lru_touch(ft, i);
	if (f->buf != SN_REASM_NONE)
		slot_touch(ft, f->buf);
}

/*
 * A bare ACK from the peer of a side that sent data is an answer too: a
 * connection picked up mid-stream shows no SYN-ACK and may carry data one way.
 */
static void on_bare_ack(struct sn_flow_table *ft, uint32_t i, int dir, const struct sn_packet *pkt)
{
	uint8_t peer_data = dir == SN_DIR_C2S ? SN_FC_DATA_S : SN_FC_DATA_C;

	if ((pkt->tcp_flags & SN_TCP_ACK) && (ft->cold[i].flags & peer_data))
		establish(ft, i);
}

/* The client's ACK of a SYN-ACK that came without a seen SYN (alone or with data). */
static void on_handshake_ack(struct sn_flow_table *ft, uint32_t i, int dir,
			     const struct sn_packet *pkt)
{
	const struct sn_flow_cold *c = &ft->cold[i];
	if (dir == SN_DIR_C2S && (pkt->tcp_flags & SN_TCP_ACK) && (c->flags & SN_FC_ISN_S) &&
	    pkt->ack == isn_of(ft, i, SN_DIR_S2C) + 1)
		establish(ft, i);
}

static void on_payload(struct sn_flow_table *ft, uint32_t i, int dir, const struct sn_packet *pkt)
{
	struct sn_flow *f = &ft->flows[i];
	struct sn_flow_cold *c = &ft->cold[i];
	uint32_t seq = pkt->seq + ((pkt->tcp_flags & SN_TCP_SYN) ? 1u : 0u);

	if (!(f->flags & SN_FF_ESTABLISHED)) {
		c->flags |= dir == SN_DIR_C2S ? SN_FC_DATA_C : SN_FC_DATA_S;
		if ((c->flags & (SN_FC_DATA_C | SN_FC_DATA_S)) == (SN_FC_DATA_C | SN_FC_DATA_S))
			establish(ft, i);
	}
	if (dir == SN_DIR_C2S && followable(f) && follow_of(&ft->more[i]) != 0)
		sn_msgt_feed(ft->msgt, follow_of(&ft->more[i]), seq, pkt->payload, pkt->payload_len,
			     pkt->payload_wire_len, pkt->ts_us);
	if ((f->flags & SN_FF_VERDICT) && f->buf == SN_REASM_NONE)
		return;
	if (f->buf == SN_REASM_NONE && ((c->flags & SN_FC_RECLAIMED) || !attach_buffer(ft, i))) {
		classify_segment(ft, i, dir, pkt, seq);
		return;
	}
	enum sn_reasm_rc rc = sn_reasm_add(ft->pool, f->buf, dir, seq, pkt->payload, pkt->payload_len);
	if (rc == SN_REASM_DROPPED)
		ft->st.out_of_window++;
	if (f->flags & SN_FF_VERDICT) {
		detail_step(ft, i, rc == SN_REASM_GREW && dir == SN_DIR_C2S, pkt->ts_us);
		return;
	}
	/* Dropping a finished prefix makes room: place the rest of this segment. */
	for (int round = 0; round < SN_FLOW_SKIP_ROUNDS; round++) {
		if (rc != SN_REASM_GREW && !sn_reasm_full(ft->pool, f->buf, SN_DIR_C2S))
			break;
		if (classify_buffer(ft, i, false, pkt->ts_us) == 0 || dir != SN_DIR_C2S ||
		    f->buf == SN_REASM_NONE)
			break;
		rc = sn_reasm_add(ft->pool, f->buf, dir, seq, pkt->payload, pkt->payload_len);
	}
}

/* ---- ending flows --------------------------------------------------------- */

/* Gives back what flow i holds: its buffer, metadata, follow state and tunnel list. */
static void release_holdings(struct sn_flow_table *ft, uint32_t i)
{
	release_buffer(ft, i);
	if (ft->cold[i].flags & SN_FC_MORE) {
		release_meta(ft, i);
		release_follow(ft, i);
	}
	sn_layerset_release(ft->layersets, ft->cold[i].layers);
	ft->cold[i].layers = SN_LAYERSET_NONE;
}

static void free_flow(struct sn_flow_table *ft, uint32_t i)
{
	struct sn_flow *f = &ft->flows[i];
	release_holdings(ft, i);
	if (f->flags & SN_FF_REPORTED)
		rep_unlink(ft, i);
	if (!(f->flags & SN_FF_ESTABLISHED))
		ft->half_open--;
	lru_unlink(ft, i);
	sn_flowindex_remove_at(&ft->index, f->home, f->place);
	f->flags = 0;
	f->lru.next = ft->free_head;
	ft->free_head = i;
	ft->active--;
}

/* The last word on a flow that counted: a final verdict and, if due, OPEN. */
static void finalize(struct sn_flow_table *ft, uint32_t i, uint64_t now_us)
{
	struct sn_flow *f = &ft->flows[i];
	if (!(f->flags & SN_FF_VERDICT) && f->buf != SN_REASM_NONE)
		classify_buffer(ft, i, true, now_us);
	if (!(f->flags & SN_FF_VERDICT))
		set_verdict(ft, i, sn_port_proto(server_info(ft, i)), SN_EVIDENCE_PORT, -1);
	maybe_open(ft, i, now_us, NULL);
}

/*
 * Removes a flow, with its CLOSE report if it was reported.  A flow that
 * ended (FIN both ways, RST) says so whatever removes it, and its report
 * carries the time of its last packet.
 */
static void close_flow(struct sn_flow_table *ft, uint32_t i, enum sn_close_reason why,
		       uint64_t now_us)
{
	struct sn_flow *f = &ft->flows[i];
	uint8_t both = SN_FF_FIN_C | SN_FF_FIN_S;
	if (f->flags & SN_FF_ENDED) {
		why = (f->flags & both) == both ? SN_CLOSE_FIN : SN_CLOSE_RST;
		now_us = f->last_us;
	}
	if (f->flags & SN_FF_ESTABLISHED)
		finalize(ft, i, now_us);
	if (f->flags & SN_FF_REPORTED)
		send_report(ft, i, SN_REPORT_CLOSE, now_us, why, false, NULL);
	free_flow(ft, i);
}

/*
 * The connection is over.  One that counted gets its verdict (and OPEN)
 * now, then lingers on the closing list for timeout_closed after its last
 * packet, so that packets still on the way (the last ACK, a retransmitted
 * FIN) are counted before its CLOSE report; one that never counted goes at
 * once.
 */
static void end_flow(struct sn_flow_table *ft, uint32_t i, uint64_t now_us)
{
	struct sn_flow *f = &ft->flows[i];
	ft->st.closed++;
	if (!(f->flags & SN_FF_ESTABLISHED)) {
		close_flow(ft, i, SN_CLOSE_NONE, now_us);
		return;
	}
	finalize(ft, i, now_us);
	release_buffer(ft, i);
	/* the aggregator hears the figures up to the close now, not a linger later */
	if ((f->flags & SN_FF_REPORTED) && counts_changed(ft, i))
		send_report(ft, i, SN_REPORT_UPDATE, now_us, SN_CLOSE_NONE, false, NULL);
	f->flags |= SN_FF_ENDED;
	lru_move(ft, i, SN_LRU_ENDED);
}

static void on_fin_rst(struct sn_flow_table *ft, uint32_t i, int dir, const struct sn_packet *pkt)
{
	struct sn_flow *f = &ft->flows[i];
	uint8_t both = SN_FF_FIN_C | SN_FF_FIN_S;

	if (pkt->tcp_flags & SN_TCP_RST) {
		end_flow(ft, i, pkt->ts_us);
		return;
	}
	f->flags |= dir == SN_DIR_C2S ? SN_FF_FIN_C : SN_FF_FIN_S;
	if ((f->flags & both) == both) {
		end_flow(ft, i, pkt->ts_us);
		return;
	}
	if (f->flags & SN_FF_ESTABLISHED)
		lru_move(ft, i, SN_LRU_CLOSING);
}

/* Evicts the oldest idle flow: half-open ones first, then ended ones. */
static void evict_one(struct sn_flow_table *ft, uint64_t now_us)
{
	uint32_t v = ft->lru[SN_LRU_NEW].head;
	if (v == SN_FLOW_NIL)
		v = ft->lru[SN_LRU_ENDED].head;
	if (v == SN_FLOW_NIL) {
		uint32_t e = ft->lru[SN_LRU_EST].head, c = ft->lru[SN_LRU_CLOSING].head;
		v = c;
		if (c == SN_FLOW_NIL || (e != SN_FLOW_NIL && ft->flows[e].last_us < ft->flows[c].last_us))
			v = e;
	}
	if (v == SN_FLOW_NIL)
		return;
	if (ft->flows[v].flags & SN_FF_ENDED)
		; /* over already: only its last packets go uncounted */
	else if (ft->flows[v].flags & SN_FF_ESTABLISHED)
		ft->st.evicted_established++;
	else
		ft->st.evicted_half_open++;
	close_flow(ft, v, SN_CLOSE_EVICTED, now_us);
}

/* ---- creating flows --------------------------------------------------------- */

/*
 * The more entry of flow i, at its creation or at its second packet (before
 * that packet is counted: the time of its first is still last_us).
 */
static void more_setup(struct sn_flow_table *ft, uint32_t i)
{
	struct sn_flow_more *m = &ft->more[i];
	memset(m, 0, sizeof *m);
	m->first_us = ft->flows[i].last_us;
	m->meta = SN_FLOW_NIL;
	m->rep = SN_FLOW_NIL;
	ft->cold[i].flags |= SN_FC_MORE;
}

/* Only a SYN, a SYN-ACK or a segment with payload may start an entry. */
static bool starts_flow(const struct sn_packet *pkt)
{
	if (pkt->tcp_flags & SN_TCP_RST)
		return false;
	return (pkt->tcp_flags & SN_TCP_SYN) || pkt->payload_wire_len > 0;
}

/* Client by SYN; else the pub/sub port is the server's, else the lower port. */
static bool src_is_client(const struct sn_flow_table *ft, const struct sn_packet *pkt)
{
	if (pkt->tcp_flags & SN_TCP_SYN)
		return !(pkt->tcp_flags & SN_TCP_ACK);
	bool ps = port_info(ft, pkt->sport) != 0, pd = port_info(ft, pkt->dport) != 0;
	if (pd != ps)
		return pd;
	return pkt->sport >= pkt->dport;
}

/*
 * A full table evicts before it inserts: under a SYN flood, every packet
 * frees the head of the half-open list, which means reading its entry
 * (for its index place and list links) and its cold entry (reused for the
 * new flow), and clearing its index slot, all long out of cache.  Those
 * reads depend on each other, so they are fetched along the list ahead:
 * each eviction walks to the victim SN_FLOW_VICTIM_AHEAD evictions away
 * (entries fetched by earlier evictions), starts fetching its index line
 * and cold entry, and the entry after it.  Hints only: the victims may yet
 * differ.  The walk stays inside take_entry(): a function of its own that
 * only reads and prefetches is "pure" to GCC (a prefetch counts as no
 * effect), and its calls were dropped - they were, until this was moved
 * here, and no victim line was ever fetched early.
 */
#define SN_FLOW_VICTIM_AHEAD 2 /* victims ahead whose lines are fetched */

/*
 * A free entry: the most recently freed first, then one never used, then
 * the victim of an eviction.  Inline in its two callers (every SYN of a
 * flood comes through syn_flow): as a call it cost the flood ~23
 * instructions a SYN more.  The entry returned is counted already as an
 * active, half-open flow (the callers make it one): a half-open victim
 * taken straight off its list leaves both counts as they were.
 */
static inline __attribute__((always_inline)) uint32_t take_entry(struct sn_flow_table *ft, uint64_t now_us)
{
	if (ft->free_head == SN_FLOW_NIL && ft->fresh < ft->cfg.max_flows) {
		ft->active++;
		ft->half_open++;
		return ft->fresh++;
	}
	if (ft->free_head == SN_FLOW_NIL) {
		/*
		 * The oldest half-open flow holding nothing (under a flood,
		 * every victim) is taken straight off its list and the index:
		 * what close_flow would do for it, as it was never answered
		 * nor reported, without the release steps it has no use for.
		 */
		uint32_t v = ft->lru[SN_LRU_NEW].head;
		if (v != SN_FLOW_NIL) {
			/* the lines of the victim SN_FLOW_VICTIM_AHEAD evictions away */
			uint32_t next = ft->flows[v].lru.next;
			for (int k = 1; k < SN_FLOW_VICTIM_AHEAD && next != SN_FLOW_NIL; k++)
				next = ft->flows[next].lru.next;
			if (next != SN_FLOW_NIL) {
				const struct sn_flow *n = &ft->flows[next];
				__builtin_prefetch(&ft->index.groups[sn_flowindex_place_group(n->place)], 1);
				__builtin_prefetch(&ft->cold[next], 1);
				if (n->lru.next != SN_FLOW_NIL)
					__builtin_prefetch(&ft->flows[n->lru.next], 1);
			}
		}
		if (v != SN_FLOW_NIL && ft->flows[v].buf == SN_REASM_NONE &&
		    !(ft->cold[v].flags & SN_FC_MORE) && ft->cold[v].layers == SN_LAYERSET_NONE) {
			struct sn_flow *f = &ft->flows[v];
			ft->st.evicted_half_open++;
			sn_lru_unlink_head(&ft->lru[SN_LRU_NEW], flow_nodes(ft), v);
			sn_flowindex_remove_at(&ft->index, f->home, f->place);
			f->flags = 0;
			return v;
		}
		evict_one(ft, now_us);
	}
	uint32_t i = ft->free_head;
	if (i != SN_FLOW_NIL) {
		ft->free_head = ft->flows[i].lru.next;
		ft->active++;
		ft->half_open++;
	}
	return i;
}

/*
 * A new flow's hot and cold entries, every field stored (padding aside):
 * no memset (a string store cannot forward to a later load of the line,
 * which then waits for the line to arrive) and no compound literal (an
 * object with arrays on the stack, which had process() pay for a stack
 * canary on every segment).  The index place and the list links are set
 * by the caller.
 */
static inline void entry_init(struct sn_flow *f, uint32_t home, uint64_t ts_us, uint32_t bytes_c,
			      uint64_t packets_c, uint8_t flags)
{
	f->home = home;
	f->place = SN_FLOWINDEX_NONE;
	f->lru.prev = f->lru.next = SN_FLOW_NIL;
	f->last_us = ts_us;
	f->bytes[SN_DIR_C2S] = bytes_c;
	f->bytes[SN_DIR_S2C] = 0;
	f->packets[SN_DIR_C2S] = packets_c;
	f->packets[SN_DIR_S2C] = 0;
	f->buf = SN_REASM_NONE;
	f->list = SN_LRU_NEW;
	f->flags = flags;
	f->proto = SN_PROTO_NONE;
	f->evidence = SN_EVIDENCE_PORT;
}

static inline void cold_init(struct sn_flow_cold *c, const struct sn_flow_key *k, uint64_t id,
			     uint32_t isn_c, uint8_t flags)
{
	c->key = *k;
	c->flow_id = id;
	c->isn_c = isn_c;
	c->flags = flags;
	c->layers = SN_LAYERSET_NONE;
}

/*
 * What every new flow gets, each entry written once with its final
 * values: a free entry, its hot and cold entries, its tunnel layer list,
 * its index place, the tail of the half-open list (entry_init set its
 * list).  SN_FLOW_NIL when no entry is free.  Inline in its two callers,
 * so the flood's constant arguments fold away.
 */
static inline __attribute__((always_inline)) uint32_t
new_entry(struct sn_flow_table *ft, const struct sn_flow_key *k, uint64_t h,
	  const struct sn_packet *pkt, uint8_t flags, uint32_t bytes_c, uint64_t packets_c,
	  uint32_t isn_c, uint8_t cold_flags)
{
	uint32_t i = take_entry(ft, pkt->ts_us);
	if (i == SN_FLOW_NIL)
		return SN_FLOW_NIL;
	struct sn_flow *f = &ft->flows[i];
	struct sn_flow_cold *c = &ft->cold[i];
	entry_init(f, sn_flowindex_home_group(&ft->index, h), pkt->ts_us, bytes_c, packets_c, flags);
	cold_init(c, k, ft->next_flow_id++, isn_c, cold_flags);
	if (pkt->n_layers) {
		c->layers = sn_layerset_acquire(ft->layersets, pkt->layers, pkt->n_layers);
		if (c->layers == SN_LAYERSET_NONE)
			ft->st.tunnel_lists_full++;
	}
	/* cannot fail: the index holds max_flows keys and i is one of them */
	f->place = sn_flowindex_add(&ft->index, h, i);
	sn_lru_append(&ft->lru[SN_LRU_NEW], flow_nodes(ft), i);
	ft->st.flows_created++;
	return i;
}

static uint32_t flow_new(struct sn_flow_table *ft, const struct sn_flow_key *k, uint64_t h,
			 const struct sn_packet *pkt, bool src_is_a)
{
	uint32_t i = new_entry(ft, k, h, pkt,
			       src_is_client(ft, pkt) == src_is_a ? SN_FF_CLIENT_IS_A : 0, 0, 0, 0, 0);
	if (i != SN_FLOW_NIL &&
	    ((pkt->tcp_flags & (SN_TCP_SYN | SN_TCP_ACK)) != SN_TCP_SYN || pkt->payload_wire_len))
		more_setup(ft, i);
	return i;
}

/*
 * flow_new() and the steps of process() for a bare SYN that makes a flow
 * (every packet of a flood): its sender is the client (SN_FF_CLIENT_IS_A
 * when that is endpoint a), its ISN and first packet counted client to
 * server, no more entry, no buffer.  The cold flags are stored, not
 * or-ed: a load there would wait for the line.
 */
static void syn_flow(struct sn_flow_table *ft, const struct sn_flow_key *k, uint64_t h,
		     const struct sn_packet *pkt, bool src_is_a, uint8_t good)
{
	(void)new_entry(ft, k, h, pkt, src_is_a ? SN_FF_CLIENT_IS_A : 0, pkt->ip_bytes, 1, pkt->seq,
			(uint8_t)(good | SN_FC_ISN_C));
}

/* Candidates come from the index by tag; the key decides. */
static uint32_t lookup(const struct sn_flow_table *ft, const struct sn_flow_key *k, uint64_t h)
{
	struct sn_flowindex_probe pr;
	uint32_t i;
	/* a miss in a home group nothing overflowed from: every SYN of a flood */
	const struct sn_flowindex_group *g = sn_flowindex_home(&ft->index, h);
	if (sn_flowindex_matches(g, sn_flowindex_tag(h)) == 0 && g->overflow == 0)
		return SN_FLOW_NIL;
	sn_flowindex_probe_start(&ft->index, h, &pr);
	while ((i = sn_flowindex_probe_next(&ft->index, &pr)) != SN_FLOWINDEX_NONE)
		if (sn_flowkey_equal(&ft->cold[i].key, k))
			return i;
	return SN_FLOW_NIL;
}

/*
 * lookup() that first tries the slot the segment's hint found (place): the
 * table may have changed since, so the slot must still hold the key's tag
 * and its flow the key.  A key is in the index at most once (a flow is
 * only made after a lookup missed), so that flow is the one lookup() finds.
 */
/* The flow at an index place if its tag is the hash's (the key not yet compared). */
static inline uint32_t tagged_at(const struct sn_flow_table *ft, uint64_t h, uint32_t place)
{
	const struct sn_flowindex_group *g = &ft->index.groups[sn_flowindex_place_group(place)];
	uint32_t s = sn_flowindex_place_slot(place);
	return g->tag[s] == sn_flowindex_tag(h) ? g->flow[s] : SN_FLOW_NIL;
}

static uint32_t lookup_at(const struct sn_flow_table *ft, const struct sn_flow_key *k,
			  uint64_t h, uint32_t place)
{
	if (place != SN_FLOWINDEX_NONE) {
		uint32_t i = tagged_at(ft, h, place);
		if (i != SN_FLOW_NIL && sn_flowkey_equal(&ft->cold[i].key, k))
			return i;
	}
	return lookup(ft, k, h);
}

/* One segment, its key and hash already known. */
/*
 * A segment's checksum matters where a forged one could change what the
 * table sees: a control segment (SYN, FIN, RST), a bare ACK that could
 * establish the connection or is its sender's first proof of a good
 * checksum, or payload that would reach classification (a new connection,
 * or one whose first bytes are still kept).  The payload of a connection
 * already decided is only counted, so its bytes are not read again, unless
 * its client messages are timed (MQTT in clear); a bare ACK there, from a
 * sender that has shown a good checksum, is only counted too and goes by
 * the same rule.
 */
static bool checksum_matters(const struct sn_flow_table *ft, uint32_t i,
			     const struct sn_packet *pkt, uint8_t side)
{
	if (i == SN_FLOW_NIL || (pkt->tcp_flags & (SN_TCP_SYN | SN_TCP_FIN | SN_TCP_RST)))
		return true;
	const struct sn_flow *f = &ft->flows[i];
	if (pkt->payload_wire_len == 0 &&
	    (!(f->flags & SN_FF_ESTABLISHED) || !(ft->cold[i].flags & side)))
		return true;
	return !(f->flags & SN_FF_VERDICT) || f->buf != SN_REASM_NONE || followable(f);
}

/*
 * Most segments belong to a connection that is established, decided,
 * reported or quiet, holds no buffer and is not followed, and carry no
 * SYN, FIN or RST: for them the steps of process() only count the packet.
 * Each test here is one the full path makes: its checksum does not matter
 * (checksum_matters: payload of a decided connection, or a bare ACK from a
 * sender that has shown a good checksum), ended or not it is only counted
 * (no handshake without a SYN), its more entry is set up,
 * on_handshake_ack/on_bare_ack need it not established, on_payload stops at
 * the verdict with no buffer and nothing to follow, maybe_open needs it
 * neither reported nor quiet, on_fin_rst needs FIN or RST.
 */
static inline bool only_counted(const struct sn_flow_table *ft, uint32_t i,
				const struct sn_packet *pkt, bool src_is_a)
{
	if (pkt->tcp_flags & (SN_TCP_SYN | SN_TCP_FIN | SN_TCP_RST))
		return false;
	const struct sn_flow *f = &ft->flows[i];
	uint8_t cf = ft->cold[i].flags;
	return (f->flags & (SN_FF_ESTABLISHED | SN_FF_VERDICT)) == (SN_FF_ESTABLISHED | SN_FF_VERDICT) &&
	       (f->flags & (SN_FF_REPORTED | SN_FF_QUIET)) && f->buf == SN_REASM_NONE &&
	       (cf & SN_FC_MORE) &&
	       (pkt->payload_wire_len || (cf & (src_is_a ? SN_FC_CSUM_A : SN_FC_CSUM_B))) &&
	       !followable(f);
}

/* What the full path does with a segment only_counted() passes. */
static inline __attribute__((always_inline)) void count_only(struct sn_flow_table *ft, uint32_t i,
							     const struct sn_packet *pkt, bool src_is_a)
{
	count_packet(ft, i, client_is_a(&ft->flows[i]) == src_is_a ? SN_DIR_C2S : SN_DIR_S2C, pkt);
}

/*
 * The hint's fields are read here, not by the callers: the hinted entry
 * keeps only ft, pkt and the hint live for its call, in argument registers.
 */
static void process(struct sn_flow_table *ft, const struct sn_packet *pkt,
		    const struct sn_flow_hint *hint)
{
	const struct sn_flow_key *k = &hint->key;
	bool src_is_a = hint->src_is_a;
	uint64_t h = hint->hash;
	uint32_t place = hint->place;
	uint32_t i = lookup_at(ft, k, h, place);

	if (i != SN_FLOW_NIL && only_counted(ft, i, pkt, src_is_a)) {
		count_only(ft, i, pkt, src_is_a);
		return;
	}

	/*
	 * A segment with a bad checksum never reaches the connection once its
	 * sender has shown a good one on it (a decoy); a sender that never
	 * has is a host with checksum offload in a capture that mixes hosts,
	 * or a capture that starts mid-connection, and its segments count.
	 */
	uint8_t side = src_is_a ? SN_FC_CSUM_A : SN_FC_CSUM_B, good = 0;
	if (pkt->csum_pending && checksum_matters(ft, i, pkt, side)) {
		bool shown = i != SN_FLOW_NIL && (ft->cold[i].flags & side);
		if (!sn_packet_checksum_bad(pkt)) {
			good = side;
		} else if (shown) {
			ft->st.checksum_bad++;
			return;
		} else {
			ft->st.checksum_unproven++;
		}
	}

	/* A new SYN on a 4-tuple whose connection ended: that one is done. */
	if (i != SN_FLOW_NIL && (ft->flows[i].flags & SN_FF_ENDED) &&
	    (pkt->tcp_flags & (SN_TCP_SYN | SN_TCP_ACK)) == SN_TCP_SYN) {
		close_flow(ft, i, SN_CLOSE_NONE, pkt->ts_us);
		i = SN_FLOW_NIL;
	}

	if (i == SN_FLOW_NIL) {
		if ((pkt->tcp_flags & (SN_TCP_SYN | SN_TCP_ACK | SN_TCP_FIN | SN_TCP_RST)) ==
			    SN_TCP_SYN && pkt->payload_wire_len == 0) {
			syn_flow(ft, k, h, pkt, src_is_a, good);
			return;
		}
		if (!starts_flow(pkt))
			return;
		i = flow_new(ft, k, h, pkt, src_is_a);
		if (i == SN_FLOW_NIL)
			return;
	} else if (!(ft->cold[i].flags & SN_FC_MORE)) {
		more_setup(ft, i);
	}
	struct sn_flow *f = &ft->flows[i];
	ft->cold[i].flags |= good;
	int dir = client_is_a(f) == src_is_a ? SN_DIR_C2S : SN_DIR_S2C;
	/* an ended connection's packets are only counted */
	bool ended = (f->flags & SN_FF_ENDED) != 0;
	if (!ended && (pkt->tcp_flags & SN_TCP_SYN))
		dir = handshake(ft, i, pkt, dir);
	count_packet(ft, i, dir, pkt);
	if (ended)
		return;
	if (!(f->flags & SN_FF_ESTABLISHED) && !(pkt->tcp_flags & (SN_TCP_SYN | SN_TCP_RST)))
		on_handshake_ack(ft, i, dir, pkt);
	if (pkt->payload_wire_len)
		on_payload(ft, i, dir, pkt);
	else if (!(f->flags & SN_FF_ESTABLISHED) && !(pkt->tcp_flags & (SN_TCP_SYN | SN_TCP_RST)))
		on_bare_ack(ft, i, dir, pkt);
	if (!(f->flags & (SN_FF_REPORTED | SN_FF_QUIET)))
		maybe_open(ft, i, pkt->ts_us, NULL);
	if (pkt->tcp_flags & (SN_TCP_FIN | SN_TCP_RST))
		on_fin_rst(ft, i, dir, pkt);
}

/* ---- public ------------------------------------------------------------------ */

void sn_flow_table_process(struct sn_flow_table *ft, const struct sn_packet *pkt)
{
	struct sn_flow_hint h;
	sn_flow_table_hint(ft, pkt, &h);
	h.place = SN_FLOWINDEX_NONE;
	process(ft, pkt, &h);
}

/*
 * A segment whose hint found its flow and that is only counted is done
 * here, before process(), whose frame (six saved registers) it does not
 * need; every other one goes through process() whole, which looks again.
 */
void sn_flow_table_process_hinted(struct sn_flow_table *ft, const struct sn_packet *pkt,
				  const struct sn_flow_hint *h)
{
	uint32_t i = h->place != SN_FLOWINDEX_NONE ? tagged_at(ft, h->hash, h->place) : SN_FLOW_NIL;
	if (i != SN_FLOW_NIL && only_counted(ft, i, pkt, h->src_is_a) &&
	    sn_flowkey_equal(&ft->cold[i].key, &h->key)) {
		count_only(ft, i, pkt, h->src_is_a);
		return;
	}
	process(ft, pkt, h);
}

void sn_flow_table_hint(const struct sn_flow_table *ft, const struct sn_packet *pkt,
			struct sn_flow_hint *h)
{
	sn_flow_hint_make(&ft->hinter, pkt, h);
}

/* Fixed for the table's life: set once at create. */
static void hinter_init(struct sn_flow_table *ft)
{
	_Static_assert(sizeof(struct sn_flow) == SN_FLOW_HINT_STRIDE &&
			       sizeof(struct sn_flow_cold) == SN_FLOW_HINT_STRIDE &&
			       offsetof(struct sn_flow_cold, key) == 0,
		       "sn_flow_hint_fetch's strides");
	struct sn_flow_hinter *out = &ft->hinter;
	out->secret = ft->secret;
	out->groups = ft->index.groups;
	out->mask = ft->index.mask;
	out->cold = (const uint8_t *)(const void *)ft->cold;
	out->flows = (const uint8_t *)(const void *)ft->flows;
}

void sn_flow_table_hinter(const struct sn_flow_table *ft, struct sn_flow_hinter *out)
{
	*out = ft->hinter;
}

/*
 * Reads the (by now cached) index group: every flow whose tag matches is a
 * likely hit, so its key (cold entry) and counters (hot entry) are fetched.
 * Only the home group is looked at; a key that overflowed past it merely
 * misses the hint.
 */
void sn_flow_table_hint_entry(const struct sn_flow_table *ft, struct sn_flow_hint *h)
{
	sn_flow_hint_fetch(&ft->hinter, h);
}

/* The head of an LRU list if it is idle past its timeout at now_us. */
static uint32_t expired_head(const struct sn_flow_table *ft, uint8_t list, uint64_t now_us)
{
	uint32_t i = ft->lru[list].head;
	if (i == SN_FLOW_NIL)
		return SN_FLOW_NIL;
	uint64_t last = ft->flows[i].last_us;
	if (now_us < last || now_us - last < ft->timeout_us[list])
		return SN_FLOW_NIL;
	return i;
}

bool sn_flow_table_expire(struct sn_flow_table *ft, uint64_t now_us, uint32_t budget)
{
	static const uint8_t order[] = { SN_LRU_NEW, SN_LRU_ENDED, SN_LRU_CLOSING, SN_LRU_EST };
	uint32_t done = 0;
	bool more = false;
	for (size_t k = 0; k < sizeof order; k++) {
		uint32_t i;
		while ((i = expired_head(ft, order[k], now_us)) != SN_FLOW_NIL) {
			if (done == budget) {
				more = true;
				break;
			}
			if (!(ft->flows[i].flags & SN_FF_ENDED))
				ft->st.expired++;
			close_flow(ft, i, SN_CLOSE_TIMEOUT, now_us);
			done++;
		}
	}
	return more;
}

void sn_flow_table_report_live(struct sn_flow_table *ft, uint64_t now_us)
{
	for (uint32_t i = ft->rep_head; i != SN_FLOW_NIL; i = rep_of(ft, i)->next) {
		if (counts_changed(ft, i))
			send_report(ft, i, SN_REPORT_UPDATE, now_us, SN_CLOSE_NONE, false, NULL);
	}
}

/* The least recently active flow that was answered (ties: list order). */
static uint32_t oldest_answered(const struct sn_flow_table *ft)
{
	uint32_t best = SN_FLOW_NIL;
	for (int l = 0; l < SN_LRU_COUNT; l++) {
		uint32_t h = ft->lru[l].head;
		if (l != SN_LRU_NEW && h != SN_FLOW_NIL &&
		    (best == SN_FLOW_NIL || ft->flows[h].last_us < ft->flows[best].last_us))
			best = h;
	}
	return best;
}

/*
 * Closes the answered flows oldest first (their reports go out in that
 * order), then the half-open ones.  Those were never established nor
 * reported (a flow leaves the half-open list when answered): closing one
 * sends nothing and counts nothing, so they go all at once, their pooled
 * resources returned one by one and the index cleared in one pass instead
 * of a slot at a time - after a flood, a whole table of them.
 */
void sn_flow_table_flush(struct sn_flow_table *ft, uint64_t now_us, enum sn_close_reason why)
{
	uint32_t i;
	while ((i = oldest_answered(ft)) != SN_FLOW_NIL)
		close_flow(ft, i, why, now_us);
	for (i = ft->lru[SN_LRU_NEW].head; i != SN_FLOW_NIL; i = ft->flows[i].lru.next) {
		release_holdings(ft, i);
		ft->flows[i].flags = 0;
	}
	sn_flowindex_clear(&ft->index);
	sn_lru_init(&ft->lru[SN_LRU_NEW], flow_nodes(ft));
	ft->free_head = SN_FLOW_NIL;
	ft->fresh = 0;
	ft->active = 0;
	ft->half_open = 0;
}

void sn_flow_table_set_worker(struct sn_flow_table *ft, uint16_t worker)
{
	uint64_t count = ft->next_flow_id & ((1ULL << SN_FLOW_ID_WORKER_SHIFT) - 1);
	ft->next_flow_id = ((uint64_t)worker << SN_FLOW_ID_WORKER_SHIFT) | count;
}

void sn_flow_table_stats(const struct sn_flow_table *ft, struct sn_flow_stats *out)
{
	struct sn_msgt_stats ms;
	*out = ft->st;
	sn_msgt_stats(ft->msgt, &ms);
	out->msg_followed = ms.followed;
	out->msg_pool_full = ms.pool_full;
	out->msg_reclaimed = ms.reclaimed;
	out->msg_lost = ms.lost;
	out->msg_malformed = ms.malformed;
	out->flows_active = ft->active;
	out->flows_half_open = ft->half_open;
}

/* ---- life cycle ----------------------------------------------------------------- */

static size_t flows_bytes(const struct sn_flow_table *ft)
{
	return (size_t)ft->cfg.max_flows * sizeof ft->flows[0];
}

static size_t cold_bytes(const struct sn_flow_table *ft)
{
	return (size_t)ft->cfg.max_flows * sizeof ft->cold[0];
}

static size_t more_bytes(const struct sn_flow_table *ft)
{
	return (size_t)ft->cfg.max_flows * sizeof ft->more[0];
}

static size_t reps_bytes(const struct sn_flow_table *ft)
{
	return (size_t)ft->cfg.max_flows * sizeof ft->reps[0];
}

static int alloc_arrays(struct sn_flow_table *ft)
{
	const struct sn_flow_config *cfg = &ft->cfg;
	int rc = sn_flowindex_init(&ft->index, cfg->max_flows);
	if (rc < 0)
		return rc;
	ft->flows = sn_bigmem_alloc(flows_bytes(ft));
	ft->cold = sn_bigmem_alloc(cold_bytes(ft));
	/* few entries of a flood reach these: small pages keep the rest out of memory */
	ft->more = sn_bigmem_alloc_sparse(more_bytes(ft));
	ft->reps = sn_bigmem_alloc(reps_bytes(ft));
	ft->pool = sn_reasm_pool_create2(cfg->classify_buffers, cfg->buffer_bytes,
					 cfg->classify_buffers ? SN_FLOW_LARGE_BUFFERS : 0,
					 SN_FLOW_LARGE_BYTES);
	ft->dctx = sn_detect_ctx_create(cfg->buffer_bytes);
	ft->msgt = sn_msgt_pool_create(cfg->message_timing_flows);
	ft->n_meta = cfg->classify_buffers;
	ft->metas = sn_bigmem_alloc((ft->n_meta ? ft->n_meta : 1) * sizeof ft->metas[0]);
	ft->meta_free = calloc(ft->n_meta ? ft->n_meta : 1, sizeof ft->meta_free[0]);
	size_t slots = cfg->classify_buffers ? (size_t)cfg->classify_buffers + SN_FLOW_LARGE_BUFFERS : 1;
	ft->holders = calloc(slots, sizeof ft->holders[0]);
	ft->layersets = sn_layerset_create(cfg->max_flows < SN_FLOW_LAYERSETS ? cfg->max_flows
									    : SN_FLOW_LAYERSETS,
					   ft->secret.k.s[0] ^ 0x9e3779b97f4a7c15ULL);
	if (!ft->flows || !ft->cold || !ft->more || !ft->reps || !ft->pool || !ft->metas || !ft->meta_free ||
	    !ft->holders || !ft->layersets ||
	    !ft->dctx || !ft->msgt)
		return -ENOMEM;
	return 0;
}

/* Entries need no set-up: take_entry hands out [fresh, max_flows) in order. */
static void init_lists(struct sn_flow_table *ft)
{
	ft->free_head = SN_FLOW_NIL;
	ft->fresh = 0;
	for (int l = 0; l < SN_LRU_COUNT; l++)
		sn_lru_init(&ft->lru[l], flow_nodes(ft));
	ft->rep_head = ft->rep_tail = SN_FLOW_NIL;
	ft->rep_free = SN_FLOW_NIL;
	ft->rep_fresh = 0;
	sn_lru_init(&ft->holding, holder_nodes(ft));
	for (uint32_t m = ft->n_meta; m-- > 0;)
		ft->meta_free[ft->n_meta_free++] = m;
	ft->timeout_us[SN_LRU_NEW] = ft->cfg.timeout_new_s * SN_US_PER_S;
	ft->timeout_us[SN_LRU_EST] = ft->cfg.timeout_established_s * SN_US_PER_S;
	ft->timeout_us[SN_LRU_CLOSING] = ft->cfg.timeout_closed_s * SN_US_PER_S;
	ft->timeout_us[SN_LRU_ENDED] = ft->cfg.timeout_closed_s * SN_US_PER_S;
}

struct sn_flow_table *sn_flow_table_create(const struct sn_flow_config *cfg, uint64_t seed)
{
	if (!cfg || cfg->max_flows == 0 || cfg->max_flows == SN_FLOW_NIL) {
		errno = EINVAL;
		return NULL;
	}
	struct sn_flow_table *ft = calloc(1, sizeof *ft);
	if (!ft)
		return NULL;
	ft->cfg = *cfg;
	sn_flowkey_secret_init(&ft->secret, seed);
	int rc = alloc_arrays(ft);
	if (rc < 0) {
		sn_flow_table_destroy(ft);
		errno = -rc;
		return NULL;
	}
	init_lists(ft);
	hinter_init(ft);
	ft->next_flow_id = 1;
	return ft;
}

void sn_flow_table_destroy(struct sn_flow_table *ft)
{
	if (!ft)
		return;
	sn_flowindex_free(&ft->index);
	sn_bigmem_free(ft->flows, flows_bytes(ft));
	sn_bigmem_free(ft->cold, cold_bytes(ft));
	sn_bigmem_free(ft->more, more_bytes(ft));
	sn_bigmem_free(ft->reps, reps_bytes(ft));
	sn_reasm_pool_destroy(ft->pool);
	sn_detect_ctx_destroy(ft->dctx);
	sn_msgt_pool_destroy(ft->msgt);
	sn_bigmem_free(ft->metas, (ft->n_meta ? ft->n_meta : 1) * sizeof ft->metas[0]);
	free(ft->meta_free);
	free(ft->holders);
	sn_layerset_destroy(ft->layersets);
	free(ft);
}
