/*
 * flow.c - the TCP connection table of one capture worker.
 *
 * Owns connection keys (a normalised 5-tuple plus VLAN, SipHash-1-3 with a
 * per-table key against hash flooding), client/server roles, the TCP states
 * that matter here (half-open, established, one FIN), idle timeouts in
 * packet time, eviction when full, the first-bytes buffers lent by
 * reassembly.c while a verdict is pending, running the dissectors, and the
 * OPEN / UPDATE / CLOSE reports to the aggregator (conn.h).
 *
 * Memory: every array is allocated at create.  A flow is a 64-byte hot
 * entry (what every packet touches) plus a cold entry (key, first-bytes
 * bookkeeping, report state).  Flows sit on one LRU list per state, ordered
 * by last activity, so expiry and eviction only look at list heads.
 */
#include "flow.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "reassembly.h"

#define SN_FLOW_NIL UINT32_MAX
#define SN_FLOW_CLIENT_SEGS 16 /* client data segments before a final call */
#define SN_FLOW_TOTAL_SEGS 32  /* data segments both ways before a final call */
#define SN_US_PER_S 1000000ULL

enum { SN_LRU_NEW = 0, SN_LRU_EST, SN_LRU_CLOSING, SN_LRU_COUNT };

/* struct sn_flow.flags */
#define SN_FF_CLIENT_IS_A 0x01 /* the key's endpoint `a` is the client */
#define SN_FF_ESTABLISHED 0x02 /* server answered, or data flowed both ways */
#define SN_FF_VERDICT 0x04     /* proto/evidence are final */
#define SN_FF_REPORTED 0x08    /* OPEN sent: on the reported list */
#define SN_FF_FIN_C 0x10
#define SN_FF_FIN_S 0x20
#define SN_FF_QUIET 0x40       /* verdict in and never reportable */

/* struct sn_flow_cold.flags */
#define SN_FC_DATA_C 0x01
#define SN_FC_DATA_S 0x02
#define SN_FC_ISN_C 0x04
#define SN_FC_ISN_S 0x08

/* Endpoints in a fixed order (a <= b) so both directions give one key. */
struct sn_flow_key {
	uint8_t a[16], b[16];
	uint16_t a_port, b_port;
	uint16_t vlan;
	uint8_t family;
	uint8_t zero; /* keeps the key free of padding */
};
_Static_assert(sizeof(struct sn_flow_key) == 40, "flow key has no padding");

/* The part every packet touches.  Index 0 of arrays: client to server. */
struct sn_flow {
	uint32_t hash;             /* full hash, compared before the key */
	uint32_t next;             /* bucket chain, or free list */
	uint32_t lru_prev, lru_next;
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

/* The rest: looked at on creation, classification and reports. */
struct sn_flow_cold {
	struct sn_flow_key key;
	uint64_t payload[2];       /* TCP payload bytes (wire length) per direction */
	uint64_t first_us;
	uint64_t rep_bytes[2], rep_packets[2]; /* totals at the last report */
	uint32_t isn[2];           /* SYN / SYN-ACK sequence numbers */
	uint32_t meta;             /* slot in the meta pool, SN_FLOW_NIL */
	uint32_t rep_prev, rep_next; /* reported list */
	uint16_t segs[2];          /* data segments seen while classifying */
	uint8_t flags;             /* SN_FC_* */
	uint8_t excluded;          /* dissectors (bit = id) that said NO_MATCH */
	uint8_t match;             /* dissector that matched, for the detail phase */
};

struct sn_lru {
	uint32_t head, tail; /* head = least recently active */
	uint32_t count;
};

struct sn_flow_table {
	struct sn_flow_config cfg;
	uint64_t k0, k1;                /* SipHash key from the seed */
	uint32_t mask;                  /* buckets - 1 */
	uint32_t *buckets;
	struct sn_flow *flows;
	struct sn_flow_cold *cold;
	uint32_t free_head;
	uint32_t active, half_open;
	struct sn_lru lru[SN_LRU_COUNT];
	uint64_t timeout_us[SN_LRU_COUNT];
	uint32_t rep_head, rep_tail;    /* reported flows, in OPEN order */
	struct sn_reasm_pool *pool;
	struct sn_meta *metas;          /* latest meta of confirmed flows */
	uint32_t *meta_free;            /* stack of free meta slots */
	uint32_t n_meta, n_meta_free;
	struct sn_flow_stats st;
	struct sn_meta scratch;         /* what the last dissector call wrote */
	struct sn_conn_report rep;      /* the report being sent */
};

/* ---- hashing ---------------------------------------------------------- */

static inline uint64_t rotl64(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

static inline void sip_round(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = rotl64(v[1], 13) ^ v[0];
	v[0] = rotl64(v[0], 32);
	v[2] += v[3];
	v[3] = rotl64(v[3], 16) ^ v[2];
	v[0] += v[3];
	v[3] = rotl64(v[3], 21) ^ v[0];
	v[2] += v[1];
	v[1] = rotl64(v[1], 17) ^ v[2];
	v[2] = rotl64(v[2], 32);
}

/* SipHash-1-3 over whole 64-bit words (the key is 40 bytes). */
static uint64_t siphash13(uint64_t k0, uint64_t k1, const uint64_t *w, size_t nw)
{
	uint64_t v[4] = { k0 ^ 0x736f6d6570736575ULL, k1 ^ 0x646f72616e646f6dULL,
			  k0 ^ 0x6c7967656e657261ULL, k1 ^ 0x7465646279746573ULL };
	for (size_t i = 0; i < nw; i++) {
		v[3] ^= w[i];
		sip_round(v);
		v[0] ^= w[i];
	}
	uint64_t last = (uint64_t)(nw * 8) << 56;
	v[3] ^= last;
	sip_round(v);
	v[0] ^= last;
	v[2] ^= 0xff;
	sip_round(v);
	sip_round(v);
	sip_round(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint32_t key_hash(const struct sn_flow_table *ft, const struct sn_flow_key *k)
{
	uint64_t w[sizeof *k / 8];
	memcpy(w, k, sizeof w);
	return (uint32_t)siphash13(ft->k0, ft->k1, w, sizeof w / sizeof w[0]);
}

/* Builds the key; returns true when the packet's source is endpoint a. */
static bool make_key(const struct sn_packet *pkt, struct sn_flow_key *k)
{
	int cmp = memcmp(pkt->src.b, pkt->dst.b, sizeof pkt->src.b);
	bool src_is_a = cmp < 0 || (cmp == 0 && pkt->sport <= pkt->dport);
	const struct sn_addr *a = src_is_a ? &pkt->src : &pkt->dst;
	const struct sn_addr *b = src_is_a ? &pkt->dst : &pkt->src;

	memcpy(k->a, a->b, sizeof k->a);
	memcpy(k->b, b->b, sizeof k->b);
	k->a_port = src_is_a ? pkt->sport : pkt->dport;
	k->b_port = src_is_a ? pkt->dport : pkt->sport;
	k->vlan = pkt->vlan;
	k->family = pkt->src.family;
	k->zero = 0;
	return src_is_a;
}

/* ---- small accessors -------------------------------------------------- */

static uint8_t port_info(const struct sn_flow_table *ft, uint16_t port)
{
	return ft->cfg.port_map ? ft->cfg.port_map[port] : 0;
}

static enum sn_proto port_proto(uint8_t info)
{
	unsigned p = info & SN_PORT_PROTO_MASK;
	return p < SN_PROTO_COUNT ? (enum sn_proto)p : SN_PROTO_NONE;
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
	uint32_t m = ft->cold[i].meta;
	return m == SN_FLOW_NIL ? NULL : &ft->metas[m];
}

/* ---- lists ------------------------------------------------------------ */

static void lru_unlink(struct sn_flow_table *ft, uint32_t i)
{
	struct sn_flow *f = &ft->flows[i];
	struct sn_lru *l = &ft->lru[f->list];
	if (f->lru_prev != SN_FLOW_NIL)
		ft->flows[f->lru_prev].lru_next = f->lru_next;
	else
		l->head = f->lru_next;
	if (f->lru_next != SN_FLOW_NIL)
		ft->flows[f->lru_next].lru_prev = f->lru_prev;
	else
		l->tail = f->lru_prev;
	l->count--;
}

static void lru_append(struct sn_flow_table *ft, uint32_t i, uint8_t list)
{
	struct sn_flow *f = &ft->flows[i];
	struct sn_lru *l = &ft->lru[list];
	f->list = list;
	f->lru_next = SN_FLOW_NIL;
	f->lru_prev = l->tail;
	if (l->tail != SN_FLOW_NIL)
		ft->flows[l->tail].lru_next = i;
	else
		l->head = i;
	l->tail = i;
	l->count++;
}

static void lru_move(struct sn_flow_table *ft, uint32_t i, uint8_t list)
{
	if (ft->flows[i].list == list && ft->lru[list].tail == i)
		return;
	lru_unlink(ft, i);
	lru_append(ft, i, list);
}

static void rep_append(struct sn_flow_table *ft, uint32_t i)
{
	struct sn_flow_cold *c = &ft->cold[i];
	c->rep_next = SN_FLOW_NIL;
	c->rep_prev = ft->rep_tail;
	if (ft->rep_tail != SN_FLOW_NIL)
		ft->cold[ft->rep_tail].rep_next = i;
	else
		ft->rep_head = i;
	ft->rep_tail = i;
}

static void rep_unlink(struct sn_flow_table *ft, uint32_t i)
{
	struct sn_flow_cold *c = &ft->cold[i];
	if (c->rep_prev != SN_FLOW_NIL)
		ft->cold[c->rep_prev].rep_next = c->rep_next;
	else
		ft->rep_head = c->rep_next;
	if (c->rep_next != SN_FLOW_NIL)
		ft->cold[c->rep_next].rep_prev = c->rep_prev;
	else
		ft->rep_tail = c->rep_prev;
}

static void bucket_unlink(struct sn_flow_table *ft, uint32_t i)
{
	uint32_t *link = &ft->buckets[ft->flows[i].hash & ft->mask];
	while (*link != SN_FLOW_NIL && *link != i)
		link = &ft->flows[*link].next;
	if (*link == i)
		*link = ft->flows[i].next;
}

/* ---- pooled resources --------------------------------------------------- */

static void release_buffer(struct sn_flow_table *ft, uint32_t i)
{
	struct sn_flow *f = &ft->flows[i];
	if (f->buf == SN_REASM_NONE)
		return;
	sn_reasm_release(ft->pool, f->buf);
	f->buf = SN_REASM_NONE;
}

/* Borrows a buffer and sets each direction's base from a seen ISN. */
static bool attach_buffer(struct sn_flow_table *ft, uint32_t i)
{
	struct sn_flow *f = &ft->flows[i];
	struct sn_flow_cold *c = &ft->cold[i];
	uint32_t slot = sn_reasm_acquire(ft->pool);
	if (slot == SN_REASM_NONE) {
		ft->st.pool_exhausted++;
		return false;
	}
	f->buf = slot;
	if (c->flags & SN_FC_ISN_C)
		sn_reasm_dir_set_base(sn_reasm_dir(ft->pool, slot, SN_DIR_C2S), c->isn[0] + 1);
	if (c->flags & SN_FC_ISN_S)
		sn_reasm_dir_set_base(sn_reasm_dir(ft->pool, slot, SN_DIR_S2C), c->isn[1] + 1);
	return true;
}

static void release_meta(struct sn_flow_table *ft, uint32_t i)
{
	struct sn_flow_cold *c = &ft->cold[i];
	if (c->meta == SN_FLOW_NIL)
		return;
	ft->meta_free[ft->n_meta_free++] = c->meta;
	c->meta = SN_FLOW_NIL;
}

/* Keeps a copy of the scratch meta with the flow; false if no slot is free. */
static bool store_meta(struct sn_flow_table *ft, uint32_t i)
{
	struct sn_flow_cold *c = &ft->cold[i];
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
}

static void fill_counters(struct sn_flow_table *ft, uint32_t i, struct sn_conn_report *r)
{
	struct sn_flow *f = &ft->flows[i];
	struct sn_flow_cold *c = &ft->cold[i];
	for (int d = 0; d < 2; d++) {
		r->bytes[d] = f->bytes[d];
		r->packets[d] = f->packets[d];
		r->bytes_delta[d] = f->bytes[d] - c->rep_bytes[d];
		r->packets_delta[d] = f->packets[d] - c->rep_packets[d];
		c->rep_bytes[d] = f->bytes[d];
		c->rep_packets[d] = f->packets[d];
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
	r->ts_us = now_us;
	r->first_us = ft->cold[i].first_us;
	r->last_us = f->last_us;
	fill_endpoints(ft, i, r);
	r->proto = (enum sn_proto)f->proto;
	r->port_proto = port_proto(info);
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
	ft->st.reports++;
	if (ft->cfg.report)
		ft->cfg.report(ft->cfg.report_ctx, r);
}

/* OPEN once the flow counts, its verdict is in and it is reportable. */
static void maybe_open(struct sn_flow_table *ft, uint32_t i, uint64_t now_us,
		       const struct sn_meta *meta)
{
	struct sn_flow *f = &ft->flows[i];
	uint8_t need = SN_FF_ESTABLISHED | SN_FF_VERDICT;
	if ((f->flags & (SN_FF_REPORTED | SN_FF_QUIET)) || (f->flags & need) != need)
		return;
	send_report(ft, i, SN_REPORT_OPEN, now_us, SN_CLOSE_NONE, false, meta);
	f->flags |= SN_FF_REPORTED;
	rep_append(ft, i);
}

/* ---- classification ------------------------------------------------------ */

/* Runs one dissector unless it already refused; NO_MATCH is remembered. */
static enum sn_verdict try_dissector(struct sn_flow_table *ft, uint32_t i, int id,
				     const struct sn_stream *s)
{
	struct sn_flow_cold *c = &ft->cold[i];
	const struct sn_dissector *d = sn_dissector_get((enum sn_dissector_id)id);
	if ((c->excluded & (1u << id)) || !d || !d->dissect)
		return SN_NO_MATCH;
	memset(&ft->scratch, 0, sizeof ft->scratch);
	enum sn_verdict v = d->dissect(s, &ft->scratch);
	if (v == SN_NO_MATCH)
		c->excluded |= (uint8_t)(1u << id);
	return v;
}

static int dissector_id_for(enum sn_proto p)
{
	for (int id = 0; id < SN_DISS_COUNT; id++) {
		const struct sn_dissector *d = sn_dissector_get((enum sn_dissector_id)id);
		if (p != SN_PROTO_NONE && d && d->proto == p)
			return id;
	}
	return -1;
}

/*
 * The server port's dissector first, then the others in registry order,
 * TLS last.  MATCH (with *id and the scratch meta), NEED_MORE, or NO_MATCH
 * when every dissector refused.
 */
static enum sn_verdict run_dissectors(struct sn_flow_table *ft, uint32_t i,
				      const struct sn_stream *s, int *id)
{
	int first = dissector_id_for(port_proto(server_info(ft, i)));
	int order[SN_DISS_COUNT + 1];
	int n = 0;

	if (first >= 0)
		order[n++] = first;
	for (int k = 0; k < SN_DISS_COUNT; k++)
		if (k != first && k != SN_DISS_TLS)
			order[n++] = k;
	if (first != SN_DISS_TLS)
		order[n++] = SN_DISS_TLS;

	bool pending = false;
	for (int k = 0; k < n; k++) {
		enum sn_verdict v = try_dissector(ft, i, order[k], s);
		if (v == SN_MATCH) {
			*id = order[k];
			return SN_MATCH;
		}
		pending |= v == SN_NEED_MORE;
	}
	return pending ? SN_NEED_MORE : SN_NO_MATCH;
}

static bool segs_exhausted(const struct sn_flow_cold *c)
{
	return c->segs[0] >= SN_FLOW_CLIENT_SEGS ||
	       c->segs[0] + c->segs[1] >= SN_FLOW_TOTAL_SEGS;
}

/*
 * Records the verdict.  A clear-text match keeps the buffer a little longer
 * (the detail phase) when its meta could be stored; anything else returns
 * the buffer to the pool at once.
 */
static void set_verdict(struct sn_flow_table *ft, uint32_t i, enum sn_proto proto,
			enum sn_evidence ev, int id)
{
	struct sn_flow *f = &ft->flows[i];
	struct sn_flow_cold *c = &ft->cold[i];
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
		c->segs[0] = 0;
		c->segs[1] = 0;
		return;
	}
	release_buffer(ft, i);
}

/* Turns one dissector pass into a verdict, if it gives one. */
static void decide(struct sn_flow_table *ft, uint32_t i, const struct sn_stream *s,
		   uint64_t now_us)
{
	uint8_t info = server_info(ft, i);
	enum sn_proto port = port_proto(info);
	const struct sn_meta *m = &ft->scratch;
	int id = -1;
	enum sn_verdict v = run_dissectors(ft, i, s, &id);

	if (v == SN_NEED_MORE && !s->final)
		return;
	ft->st.classified++;
	if (v == SN_MATCH && !m->is_tls) {
		enum sn_proto p = m->proto != SN_PROTO_NONE ? m->proto
							   : sn_dissector_get((enum sn_dissector_id)id)->proto;
		set_verdict(ft, i, p, SN_EVIDENCE_PAYLOAD, id);
	} else if (v == SN_MATCH && m->proto != SN_PROTO_NONE) {
		set_verdict(ft, i, m->proto, SN_EVIDENCE_TLS, id);
	} else if (v == SN_MATCH && port != SN_PROTO_NONE && (info & SN_PORT_TLS)) {
		set_verdict(ft, i, port, SN_EVIDENCE_TLS, id);
	} else if (v == SN_NO_MATCH && port != SN_PROTO_NONE && s->client_at_start) {
		/* only a stream seen from its first byte can refute its port */
		set_verdict(ft, i, port, SN_EVIDENCE_REFUTED, id);
	} else {
		/* undecided, or TLS that names nothing on a clear-text port */
		set_verdict(ft, i, port, SN_EVIDENCE_PORT, id);
	}
	if (ft->flows[i].evidence == SN_EVIDENCE_PAYLOAD ||
	    ft->flows[i].evidence == SN_EVIDENCE_TLS)
		ft->st.confirmed++;
	maybe_open(ft, i, now_us, m);
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
	s->client_at_start = (c->flags & SN_FC_ISN_C) && cd->base == c->isn[0] + 1;
	s->final = segs_exhausted(c) || sn_reasm_full(ft->pool, f->buf, SN_DIR_C2S);
}

static void classify_buffer(struct sn_flow_table *ft, uint32_t i, bool final, uint64_t now_us)
{
	struct sn_stream s;
	buffer_stream(ft, i, &s);
	s.final |= final;
	decide(ft, i, &s, now_us);
}

/* No buffer was free: a stream view of just this segment. */
static void classify_segment(struct sn_flow_table *ft, uint32_t i, int dir,
			     const struct sn_packet *pkt, uint32_t seq)
{
	const struct sn_flow_cold *c = &ft->cold[i];
	struct sn_stream s;
	memset(&s, 0, sizeof s);
	if (dir == SN_DIR_C2S) {
		s.client = pkt->payload;
		s.client_len = pkt->payload_len;
		s.client_at_start = (c->flags & SN_FC_ISN_C) && seq == c->isn[0] + 1;
	} else {
		s.server = pkt->payload;
		s.server_len = pkt->payload_len;
	}
	s.final = segs_exhausted(c);
	decide(ft, i, &s, pkt->ts_us);
}

static bool str_same(const char *x, const char *y, size_t cap)
{
	return strncmp(x, y, cap) == 0;
}

/*
 * Field by field, not memcmp: the compiler may merge stores into a struct's
 * padding, so two equal metas need not be equal bytes.
 */
static bool meta_same(const struct sn_meta *x, const struct sn_meta *y)
{
	if (x->proto != y->proto || x->truncated != y->truncated ||
	    x->has_keepalive != y->has_keepalive || x->keepalive != y->keepalive ||
	    x->has_clean_session != y->has_clean_session || x->clean_session != y->clean_session ||
	    x->n_topics != y->n_topics || x->has_starttls != y->has_starttls ||
	    x->starttls != y->starttls || x->is_tls != y->is_tls || x->n_alpn != y->n_alpn)
		return false;
	for (size_t k = 0; k < x->n_topics && k < SN_META_TOPICS; k++)
		if (!str_same(x->topics[k], y->topics[k], SN_META_STR))
			return false;
	for (size_t k = 0; k < x->n_alpn && k < SN_META_ALPN; k++)
		if (!str_same(x->tls_alpn[k], y->tls_alpn[k], SN_META_ALPN_STR))
			return false;
	return str_same(x->client_id, y->client_id, SN_META_STR) &&
	       str_same(x->user, y->user, SN_META_STR) &&
	       str_same(x->mqtt_version, y->mqtt_version, sizeof x->mqtt_version) &&
	       str_same(x->will_topic, y->will_topic, SN_META_STR) &&
	       str_same(x->xmpp_to, y->xmpp_to, SN_META_STR) &&
	       str_same(x->xmpp_from, y->xmpp_from, SN_META_STR) &&
	       str_same(x->xmpp_ns, y->xmpp_ns, sizeof x->xmpp_ns) &&
	       str_same(x->xmpp_version, y->xmpp_version, sizeof x->xmpp_version) &&
	       str_same(x->amqp_version, y->amqp_version, sizeof x->amqp_version) &&
	       str_same(x->stomp_command, y->stomp_command, sizeof x->stomp_command) &&
	       str_same(x->stomp_accept_version, y->stomp_accept_version,
			sizeof x->stomp_accept_version) &&
	       str_same(x->stomp_host, y->stomp_host, SN_META_STR) &&
	       str_same(x->tls_sni, y->tls_sni, SN_META_STR);
}

/* After a match: re-run the matching dissector for richer meta. */
static void detail_step(struct sn_flow_table *ft, uint32_t i, bool grew, uint64_t now_us)
{
	struct sn_flow *f = &ft->flows[i];
	struct sn_meta *kept = &ft->metas[ft->cold[i].meta];
	const struct sn_dissector *d = sn_dissector_get((enum sn_dissector_id)ft->cold[i].match);
	struct sn_stream s;

	buffer_stream(ft, i, &s);
	if (grew && d && d->dissect) {
		memset(&ft->scratch, 0, sizeof ft->scratch);
		if (d->dissect(&s, &ft->scratch) == SN_MATCH && !meta_same(kept, &ft->scratch)) {
			memcpy(kept, &ft->scratch, sizeof *kept);
			if (f->flags & SN_FF_REPORTED)
				send_report(ft, i, SN_REPORT_UPDATE, now_us, SN_CLOSE_NONE, true, NULL);
		}
	}
	if (s.final)
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
	swap2(c->payload);
	uint32_t isn = c->isn[0];
	c->isn[0] = c->isn[1];
	c->isn[1] = isn;
	c->flags = (uint8_t)(((cf & 0x05) << 1) | ((cf & 0x0a) >> 1));
	/* Start classification over: what was seen was read the wrong way round. */
	release_buffer(ft, i);
	release_meta(ft, i);
	f->flags &= (uint8_t)~(SN_FF_VERDICT | SN_FF_QUIET);
	f->proto = SN_PROTO_NONE;
	f->evidence = SN_EVIDENCE_PORT;
	c->excluded = 0;
	c->segs[0] = 0;
	c->segs[1] = 0;
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
	c->isn[dir] = pkt->seq;
	c->flags |= dir == SN_DIR_C2S ? SN_FC_ISN_C : SN_FC_ISN_S;
	if (f->buf != SN_REASM_NONE)
		sn_reasm_dir_set_base(sn_reasm_dir(ft->pool, f->buf, dir), pkt->seq + 1);
	if (synack)
		establish(ft, i);
	return dir;
}

static void count_packet(struct sn_flow_table *ft, uint32_t i, int dir, const struct sn_packet *pkt)
{
	struct sn_flow *f = &ft->flows[i];
	f->bytes[dir] += pkt->ip_bytes;
	f->packets[dir]++;
	if (pkt->ts_us > f->last_us)
		f->last_us = pkt->ts_us;
	if (pkt->payload_wire_len)
		ft->cold[i].payload[dir] += pkt->payload_wire_len;
	lru_move(ft, i, f->list);
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
	if ((f->flags & SN_FF_VERDICT) && f->buf == SN_REASM_NONE)
		return;
	if (c->segs[dir] < UINT16_MAX)
		c->segs[dir]++;
	if (f->buf == SN_REASM_NONE && !attach_buffer(ft, i)) {
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
	if (rc == SN_REASM_GREW || segs_exhausted(c) || sn_reasm_full(ft->pool, f->buf, SN_DIR_C2S))
		classify_buffer(ft, i, false, pkt->ts_us);
}

/* ---- ending flows --------------------------------------------------------- */

static void free_flow(struct sn_flow_table *ft, uint32_t i)
{
	struct sn_flow *f = &ft->flows[i];
	release_buffer(ft, i);
	release_meta(ft, i);
	if (f->flags & SN_FF_REPORTED)
		rep_unlink(ft, i);
	if (!(f->flags & SN_FF_ESTABLISHED))
		ft->half_open--;
	lru_unlink(ft, i);
	bucket_unlink(ft, i);
	f->flags = 0;
	f->next = ft->free_head;
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
		set_verdict(ft, i, port_proto(server_info(ft, i)), SN_EVIDENCE_PORT, -1);
	maybe_open(ft, i, now_us, NULL);
}

static void close_flow(struct sn_flow_table *ft, uint32_t i, enum sn_close_reason why,
		       uint64_t now_us)
{
	struct sn_flow *f = &ft->flows[i];
	if (f->flags & SN_FF_ESTABLISHED)
		finalize(ft, i, now_us);
	if (f->flags & SN_FF_REPORTED)
		send_report(ft, i, SN_REPORT_CLOSE, now_us, why, false, NULL);
	free_flow(ft, i);
}

static void on_fin_rst(struct sn_flow_table *ft, uint32_t i, int dir, const struct sn_packet *pkt)
{
	struct sn_flow *f = &ft->flows[i];
	uint8_t both = SN_FF_FIN_C | SN_FF_FIN_S;

	if (pkt->tcp_flags & SN_TCP_RST) {
		ft->st.closed++;
		close_flow(ft, i, SN_CLOSE_RST, pkt->ts_us);
		return;
	}
	f->flags |= dir == SN_DIR_C2S ? SN_FF_FIN_C : SN_FF_FIN_S;
	if ((f->flags & both) == both) {
		ft->st.closed++;
		close_flow(ft, i, SN_CLOSE_FIN, pkt->ts_us);
		return;
	}
	if (f->flags & SN_FF_ESTABLISHED)
		lru_move(ft, i, SN_LRU_CLOSING);
}

/* Evicts the oldest idle flow, half-open ones first. */
static void evict_one(struct sn_flow_table *ft, uint64_t now_us)
{
	uint32_t v = ft->lru[SN_LRU_NEW].head;
	if (v == SN_FLOW_NIL) {
		uint32_t e = ft->lru[SN_LRU_EST].head, c = ft->lru[SN_LRU_CLOSING].head;
		v = c;
		if (c == SN_FLOW_NIL || (e != SN_FLOW_NIL && ft->flows[e].last_us < ft->flows[c].last_us))
			v = e;
	}
	if (v == SN_FLOW_NIL)
		return;
	if (ft->flows[v].flags & SN_FF_ESTABLISHED)
		ft->st.evicted_established++;
	else
		ft->st.evicted_half_open++;
	close_flow(ft, v, SN_CLOSE_EVICTED, now_us);
}

/* ---- creating flows --------------------------------------------------------- */

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

static uint32_t flow_new(struct sn_flow_table *ft, const struct sn_flow_key *k, uint32_t h,
			 const struct sn_packet *pkt, bool src_is_a)
{
	if (ft->free_head == SN_FLOW_NIL)
		evict_one(ft, pkt->ts_us);
	uint32_t i = ft->free_head;
	if (i == SN_FLOW_NIL)
		return SN_FLOW_NIL;
	struct sn_flow *f = &ft->flows[i];
	struct sn_flow_cold *c = &ft->cold[i];
	ft->free_head = f->next;

	memset(f, 0, sizeof *f);
	memset(c, 0, sizeof *c);
	f->hash = h;
	f->buf = SN_REASM_NONE;
	f->last_us = pkt->ts_us;
	if (src_is_client(ft, pkt) == src_is_a)
		f->flags = SN_FF_CLIENT_IS_A;
	c->key = *k;
	c->first_us = pkt->ts_us;
	c->meta = SN_FLOW_NIL;
	c->rep_prev = c->rep_next = SN_FLOW_NIL;

	uint32_t *bucket = &ft->buckets[h & ft->mask];
	f->next = *bucket;
	*bucket = i;
	lru_append(ft, i, SN_LRU_NEW);
	ft->active++;
	ft->half_open++;
	ft->st.flows_created++;
	return i;
}

static uint32_t lookup(const struct sn_flow_table *ft, const struct sn_flow_key *k, uint32_t h)
{
	for (uint32_t i = ft->buckets[h & ft->mask]; i != SN_FLOW_NIL; i = ft->flows[i].next)
		if (ft->flows[i].hash == h && memcmp(&ft->cold[i].key, k, sizeof *k) == 0)
			return i;
	return SN_FLOW_NIL;
}

/* ---- public ------------------------------------------------------------------ */

void sn_flow_table_process(struct sn_flow_table *ft, const struct sn_packet *pkt)
{
	struct sn_flow_key key;
	bool src_is_a = make_key(pkt, &key);
	uint32_t h = key_hash(ft, &key);
	uint32_t i = lookup(ft, &key, h);

	if (i == SN_FLOW_NIL) {
		if (!starts_flow(pkt))
			return;
		i = flow_new(ft, &key, h, pkt, src_is_a);
		if (i == SN_FLOW_NIL)
			return;
	}
	struct sn_flow *f = &ft->flows[i];
	int dir = client_is_a(f) == src_is_a ? SN_DIR_C2S : SN_DIR_S2C;
	if (pkt->tcp_flags & SN_TCP_SYN)
		dir = handshake(ft, i, pkt, dir);
	count_packet(ft, i, dir, pkt);
	if (pkt->payload_wire_len)
		on_payload(ft, i, dir, pkt);
	if (!(f->flags & (SN_FF_REPORTED | SN_FF_QUIET)))
		maybe_open(ft, i, pkt->ts_us, NULL);
	if (pkt->tcp_flags & (SN_TCP_FIN | SN_TCP_RST))
		on_fin_rst(ft, i, dir, pkt);
}

void sn_flow_table_expire(struct sn_flow_table *ft, uint64_t now_us)
{
	static const uint8_t order[] = { SN_LRU_NEW, SN_LRU_CLOSING, SN_LRU_EST };
	for (size_t k = 0; k < sizeof order; k++) {
		uint64_t t = ft->timeout_us[order[k]];
		uint32_t i;
		while ((i = ft->lru[order[k]].head) != SN_FLOW_NIL) {
			uint64_t last = ft->flows[i].last_us;
			if (now_us < last || now_us - last < t)
				break;
			ft->st.expired++;
			close_flow(ft, i, SN_CLOSE_TIMEOUT, now_us);
		}
	}
}

void sn_flow_table_report_live(struct sn_flow_table *ft, uint64_t now_us)
{
	for (uint32_t i = ft->rep_head; i != SN_FLOW_NIL; i = ft->cold[i].rep_next) {
		const struct sn_flow *f = &ft->flows[i];
		const struct sn_flow_cold *c = &ft->cold[i];
		if (f->bytes[0] != c->rep_bytes[0] || f->bytes[1] != c->rep_bytes[1] ||
		    f->packets[0] != c->rep_packets[0] || f->packets[1] != c->rep_packets[1])
			send_report(ft, i, SN_REPORT_UPDATE, now_us, SN_CLOSE_NONE, false, NULL);
	}
}

/* The least recently active flow over all lists (ties: list order). */
static uint32_t oldest_flow(const struct sn_flow_table *ft)
{
	uint32_t best = SN_FLOW_NIL;
	for (int l = 0; l < SN_LRU_COUNT; l++) {
		uint32_t h = ft->lru[l].head;
		if (h != SN_FLOW_NIL && (best == SN_FLOW_NIL || ft->flows[h].last_us < ft->flows[best].last_us))
			best = h;
	}
	return best;
}

void sn_flow_table_flush(struct sn_flow_table *ft, uint64_t now_us, enum sn_close_reason why)
{
	uint32_t i;
	while ((i = oldest_flow(ft)) != SN_FLOW_NIL)
		close_flow(ft, i, why, now_us);
}

void sn_flow_table_stats(const struct sn_flow_table *ft, struct sn_flow_stats *out)
{
	*out = ft->st;
	out->flows_active = ft->active;
	out->flows_half_open = ft->half_open;
}

/* ---- life cycle ----------------------------------------------------------------- */

static uint32_t bucket_count(uint32_t max_flows)
{
	uint32_t n = 1;
	while (n < max_flows && n < (1u << 31))
		n <<= 1;
	return n;
}

static int alloc_arrays(struct sn_flow_table *ft)
{
	const struct sn_flow_config *cfg = &ft->cfg;
	uint32_t nb = bucket_count(cfg->max_flows);

	ft->mask = nb - 1;
	ft->buckets = malloc((size_t)nb * sizeof ft->buckets[0]);
	ft->flows = calloc(cfg->max_flows, sizeof ft->flows[0]);
	ft->cold = calloc(cfg->max_flows, sizeof ft->cold[0]);
	ft->pool = sn_reasm_pool_create(cfg->classify_buffers, cfg->buffer_bytes);
	ft->n_meta = cfg->classify_buffers;
	ft->metas = calloc(ft->n_meta ? ft->n_meta : 1, sizeof ft->metas[0]);
	ft->meta_free = calloc(ft->n_meta ? ft->n_meta : 1, sizeof ft->meta_free[0]);
	if (!ft->buckets || !ft->flows || !ft->cold || !ft->pool || !ft->metas || !ft->meta_free)
		return -ENOMEM;
	memset(ft->buckets, 0xff, (size_t)nb * sizeof ft->buckets[0]);
	return 0;
}

static void init_lists(struct sn_flow_table *ft)
{
	ft->free_head = SN_FLOW_NIL;
	for (uint32_t i = ft->cfg.max_flows; i-- > 0;) {
		ft->flows[i].next = ft->free_head;
		ft->free_head = i;
	}
	for (int l = 0; l < SN_LRU_COUNT; l++)
		ft->lru[l] = (struct sn_lru){ SN_FLOW_NIL, SN_FLOW_NIL, 0 };
	ft->rep_head = ft->rep_tail = SN_FLOW_NIL;
	for (uint32_t m = ft->n_meta; m-- > 0;)
		ft->meta_free[ft->n_meta_free++] = m;
	ft->timeout_us[SN_LRU_NEW] = ft->cfg.timeout_new_s * SN_US_PER_S;
	ft->timeout_us[SN_LRU_EST] = ft->cfg.timeout_established_s * SN_US_PER_S;
	ft->timeout_us[SN_LRU_CLOSING] = ft->cfg.timeout_closed_s * SN_US_PER_S;
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
	ft->k0 = splitmix64(&seed);
	ft->k1 = splitmix64(&seed);
	int rc = alloc_arrays(ft);
	if (rc < 0) {
		sn_flow_table_destroy(ft);
		errno = -rc;
		return NULL;
	}
	init_lists(ft);
	return ft;
}

void sn_flow_table_destroy(struct sn_flow_table *ft)
{
	if (!ft)
		return;
	free(ft->buckets);
	free(ft->flows);
	free(ft->cold);
	sn_reasm_pool_destroy(ft->pool);
	free(ft->metas);
	free(ft->meta_free);
	free(ft);
}
