/*
 * msgtiming.c - follow states: MQTT fixed headers (or AMQP 0-9-1 frame
 * headers) in a client's byte stream and the packet times of its PINGREQ
 * and PUBLISH packets (heartbeat frames and basic.publish methods).
 *
 * States come from one array allocated at create (bigmem.h: resident only
 * once touched), handed out from a high-water mark and then a free list,
 * so a large pool costs nothing until connections are followed.  Each
 * state holds its walker (where the next fixed header starts) and a ring
 * of the last SN_BEACON_STARTS packet times per kind; reports measure the
 * rings with beacon.c, the same code that measures a group's connection
 * starts.  States in use sit on an LRU list (lru.h), least recently active
 * first; an empty pool takes the head's state.
 */
#include "msgtiming.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "beacon.h"
#include "bigmem.h"
#include "cursor.h"
#include "lru.h"

#define MQTT_PUBLISH 3
#define MQTT_PINGREQ 12
#define MQTT_VARINT_MAX 4 /* Remaining Length: at most 4 bytes */

/* AMQP 0-9-1 section 4.2.3: type, channel (2), size (4), payload, frame-end. */
#define AMQP_PROTOCOL_HEADER 8
#define AMQP_FRAME_HEADER 7
#define AMQP_FRAME_METHOD 1
#define AMQP_FRAME_CONTENT_HEADER 2
#define AMQP_FRAME_BODY 3
#define AMQP_FRAME_HEARTBEAT 8
#define AMQP_FRAME_END 0xce
#define AMQP_BASIC_PUBLISH 0x003c0028u /* class 60, method 40 */

enum { WALK_TYPE = 0, WALK_LENGTH, WALK_BODY, WALK_METHOD, WALK_END, WALK_PROTOCOL };

struct sn_msgt_state {
	uint64_t times[SN_MSG_KINDS][SN_BEACON_STARTS]; /* packet time (us), a ring per kind */
	uint32_t messages[SN_MSG_KINDS];
	uint32_t next_seq;  /* sequence number of the next client byte to walk */
	uint32_t body;      /* WALK_BODY: body bytes still to pass over */
	uint32_t length;    /* WALK_LENGTH: MQTT Remaining Length, AMQP frame size read so far */
	uint32_t method;    /* WALK_METHOD: AMQP class and method ids read so far */
	uint32_t next_free; /* free list link (state number, 0 = end) */
	uint32_t owner;     /* the caller's number for the holder */
	struct sn_lru_link lru; /* in use: least recently active first */
	uint8_t n[SN_MSG_KINDS], at[SN_MSG_KINDS];
	uint8_t walk;       /* WALK_* */
	uint8_t type;       /* the packet type of the header being read */
	uint8_t length_bytes; /* bytes of the length (MQTT) or frame header (AMQP) read */
	uint8_t timing;     /* enum sn_msg_timing */
	uint8_t wire;       /* enum sn_msgt_wire */
};

struct sn_msgt_pool {
	struct sn_msgt_state *states; /* states[0] is unused: 0 means "none" */
	uint32_t n_states;            /* usable: 1 .. n_states */
	uint32_t fresh;               /* states [fresh, n_states] never used */
	uint32_t free_head;
	struct sn_lru in_use;         /* states held, least recently active first */
	struct sn_msgt_stats st;
};

/* Where the LRU list finds state st's link (states[0] stands for "none"). */
static struct sn_lru_nodes state_nodes(const struct sn_msgt_pool *p)
{
	return (struct sn_lru_nodes){ .base = (char *)p->states,
				      .stride = sizeof(struct sn_msgt_state),
				      .offset = offsetof(struct sn_msgt_state, lru), .first = 0,
				      .nil = 0 };
}

static size_t pool_bytes(uint32_t states)
{
	return ((size_t)states + 1) * sizeof(struct sn_msgt_state);
}

struct sn_msgt_pool *sn_msgt_pool_create(uint32_t states)
{
	if (states > SN_MSGT_STATES_MAX) {
		errno = EINVAL;
		return NULL;
	}
	struct sn_msgt_pool *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->states = sn_bigmem_alloc(pool_bytes(states));
	if (!p->states) {
		free(p);
		return NULL;
	}
	p->n_states = states;
	p->fresh = 1;
	sn_lru_init(&p->in_use, state_nodes(p));
	return p;
}

void sn_msgt_pool_destroy(struct sn_msgt_pool *p)
{
	if (!p)
		return;
	sn_bigmem_free(p->states, pool_bytes(p->n_states));
	free(p);
}

static struct sn_msgt_state *state(const struct sn_msgt_pool *p, uint32_t st)
{
	return st >= 1 && st <= p->n_states ? &p->states[st] : NULL;
}

static void record(struct sn_msgt_state *s, enum sn_msg_kind k, uint64_t ts_us)
{
	s->times[k][s->at[k]] = ts_us;
	s->at[k] = (uint8_t)((s->at[k] + 1) % SN_BEACON_STARTS);
	if (s->n[k] < SN_BEACON_STARTS)
		s->n[k]++;
	if (s->messages[k] < UINT32_MAX)
		s->messages[k]++;
}

/* A fixed header is complete: time it if it is a kind we keep. */
static void header_done(struct sn_msgt_state *s, bool timed, uint64_t ts_us)
{
	if (timed && s->type == MQTT_PINGREQ)
		record(s, SN_MSG_KEEPALIVE, ts_us);
	else if (timed && s->type == MQTT_PUBLISH)
		record(s, SN_MSG_PUBLISH, ts_us);
	s->body = s->length;
	s->walk = s->body ? WALK_BODY : WALK_TYPE;
}

/* AMQP: the frame header is complete; a method frame's ids come next. */
static bool amqp_header_done(struct sn_msgt_state *s, bool timed, uint64_t ts_us)
{
	if (s->type != AMQP_FRAME_METHOD && s->type != AMQP_FRAME_CONTENT_HEADER &&
	    s->type != AMQP_FRAME_BODY && s->type != AMQP_FRAME_HEARTBEAT)
		return false;
	if (timed && s->type == AMQP_FRAME_HEARTBEAT)
		record(s, SN_MSG_KEEPALIVE, ts_us);
	s->body = s->length;
	s->method = 0;
	s->length_bytes = 0;
	if (s->type == AMQP_FRAME_METHOD && s->body >= 4)
		s->walk = WALK_METHOD;
	else
		s->walk = s->body ? WALK_BODY : WALK_END;
	return true;
}

/* AMQP 0-9-1 frames (after the protocol header): false at a frame that breaks the format. */
static bool walk_amqp(struct sn_msgt_state *s, struct sn_cursor *c, bool timed, uint64_t ts_us)
{
	while (sn_cur_remaining(c) > 0) {
		if (s->walk == WALK_BODY || s->walk == WALK_PROTOCOL) {
			size_t k = sn_cur_remaining(c) < s->body ? sn_cur_remaining(c) : s->body;
			sn_cur_skip(c, k);
			s->body -= (uint32_t)k;
			if (s->body == 0)
				s->walk = s->walk == WALK_PROTOCOL ? WALK_TYPE : WALK_END;
			continue;
		}
		uint8_t b = sn_cur_u8(c);
		switch (s->walk) {
		case WALK_END:
			if (b != AMQP_FRAME_END)
				return false;
			s->walk = WALK_TYPE;
			s->length_bytes = 0;
			s->length = 0;
			break;
		case WALK_METHOD:
			s->method = s->method << 8 | b;
			s->body--;
			if (++s->length_bytes == 4) {
				if (timed && s->method == AMQP_BASIC_PUBLISH)
					record(s, SN_MSG_PUBLISH, ts_us);
				s->walk = s->body ? WALK_BODY : WALK_END;
			}
			break;
		default: /* WALK_TYPE: the 7-byte frame header */
			if (s->length_bytes == 0)
				s->type = b;
			else if (s->length_bytes >= 3)
				s->length = s->length << 8 | b;
			if (++s->length_bytes == AMQP_FRAME_HEADER && !amqp_header_done(s, timed, ts_us))
				return false;
			break;
		}
	}
	return true;
}

/*
 * Walks n bytes of the stream; timed: record the headers at ts_us.
 * False when the bytes are no MQTT fixed header (type 0 is reserved, a
 * Remaining Length has at most 4 bytes).
 */
static bool walk(struct sn_msgt_state *s, const uint8_t *data, size_t n, bool timed, uint64_t ts_us)
{
	struct sn_cursor c = sn_cur_make(data, n);

	if (s->wire == SN_MSGT_WIRE_AMQP091)
		return walk_amqp(s, &c, timed, ts_us);
	while (sn_cur_remaining(&c) > 0) {
		if (s->walk == WALK_BODY) {
			size_t k = sn_cur_remaining(&c) < s->body ? sn_cur_remaining(&c) : s->body;
			sn_cur_skip(&c, k);
			s->body -= (uint32_t)k;
			if (s->body == 0)
				s->walk = WALK_TYPE;
			continue;
		}
		uint8_t b = sn_cur_u8(&c);
		if (s->walk == WALK_TYPE) {
			s->type = (uint8_t)(b >> 4);
			if (s->type == 0)
				return false;
			s->walk = WALK_LENGTH;
			s->length = 0;
			s->length_bytes = 0;
			continue;
		}
		s->length |= (uint32_t)(b & 0x7f) << (7 * s->length_bytes);
		s->length_bytes++;
		if (!(b & 0x80))
			header_done(s, timed, ts_us);
		else if (s->length_bytes == MQTT_VARINT_MAX)
			return false;
	}
	return true;
}

static void stop(struct sn_msgt_pool *p, struct sn_msgt_state *s, enum sn_msg_timing why)
{
	s->timing = (uint8_t)why;
	if (why == SN_MSGT_MALFORMED)
		p->st.malformed++;
	else
		p->st.lost++;
}

uint32_t sn_msgt_start(struct sn_msgt_pool *p, enum sn_msgt_wire wire, uint32_t seq,
		       const uint8_t *bytes, size_t len, uint32_t owner, uint32_t *taken_from)
{
	uint32_t st = p->free_head;
	*taken_from = SN_MSGT_NO_OWNER;
	if (st)
		p->free_head = p->states[st].next_free;
	else if (p->fresh <= p->n_states)
		st = p->fresh++;
	else if (p->in_use.head != 0) {
		/* every state is held: the least recently active holder gives its own */
		st = p->in_use.head;
		*taken_from = p->states[st].owner;
		sn_lru_unlink(&p->in_use, state_nodes(p), st);
		p->st.reclaimed++;
	}
	if (!st) {
		p->st.pool_full++;
		return 0;
	}
	struct sn_msgt_state *s = &p->states[st];
	memset(s, 0, sizeof *s);
	s->owner = owner;
	sn_lru_append(&p->in_use, state_nodes(p), st);
	s->timing = SN_MSGT_FOLLOWED;
	s->wire = (uint8_t)wire;
	if (wire == SN_MSGT_WIRE_AMQP091) {
		s->walk = WALK_PROTOCOL; /* "AMQP" 0 0 9 1 */
		s->body = AMQP_PROTOCOL_HEADER;
	}
	s->next_seq = seq + (uint32_t)len;
	p->st.followed++;
	if (!walk(s, bytes, len, false, 0))
		stop(p, s, SN_MSGT_MALFORMED);
	return st;
}

void sn_msgt_feed(struct sn_msgt_pool *p, uint32_t st, uint32_t seq, const uint8_t *data,
		  uint32_t caplen, uint32_t wirelen, uint64_t ts_us)
{
	struct sn_msgt_state *s = state(p, st);
	if (!s || s->timing != SN_MSGT_FOLLOWED || wirelen == 0)
		return;
	uint32_t behind = s->next_seq - seq; /* bytes of this segment already walked */
	if ((int32_t)behind < 0) {
		stop(p, s, SN_MSGT_GAP); /* a segment is missing, or came out of order */
		return;
	}
	if (behind >= wirelen)
		return; /* a retransmission, or a keep-alive probe */
	if (p->in_use.tail != st) /* new client bytes: the most recently active holder */
		sn_lru_move(&p->in_use, &p->in_use, state_nodes(p), st);
	if (caplen > wirelen)
		caplen = wirelen;
	uint32_t seen = caplen > behind ? caplen - behind : 0;
	if (seen > 0 && !walk(s, data + behind, seen, true, ts_us)) {
		stop(p, s, SN_MSGT_MALFORMED);
		return;
	}
	/* Bytes the capture cut off: passed over inside a body, else lost. */
	uint32_t cut = wirelen - behind - seen;
	if (cut > 0) {
		if (s->walk != WALK_BODY || s->body < cut) {
			stop(p, s, SN_MSGT_GAP);
			return;
		}
		s->body -= cut;
		if (s->body == 0)
			s->walk = s->wire == SN_MSGT_WIRE_AMQP091 ? WALK_END : WALK_TYPE;
	}
	s->next_seq = seq + wirelen;
}

void sn_msgt_describe(const struct sn_msgt_pool *p, uint32_t st, struct sn_conn_msgs *out)
{
	const struct sn_msgt_state *s = state(p, st);
	memset(out, 0, sizeof *out);
	if (!s)
		return;
	out->timing = s->timing;
	for (int k = 0; k < SN_MSG_KINDS; k++) {
		out->messages[k] = s->messages[k];
		/* no threshold here: the aggregator's rules apply them (sn_beacon_regular) */
		sn_beacon_measure(s->times[k], s->n[k], 1, 100, &out->rhythm[k]);
	}
}

void sn_msgt_release(struct sn_msgt_pool *p, uint32_t st)
{
	struct sn_msgt_state *s = state(p, st);
	if (!s || s->timing == SN_MSGT_NONE)
		return;
	sn_lru_unlink(&p->in_use, state_nodes(p), st);
	s->timing = SN_MSGT_NONE;
	s->next_free = p->free_head;
	p->free_head = st;
}

void sn_msgt_stats(const struct sn_msgt_pool *p, struct sn_msgt_stats *out)
{
	*out = p->st;
}
