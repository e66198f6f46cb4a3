/*
 * test_msgtiming.c - sensor/msgtiming.c: the MQTT fixed-header walker over
 * a client's segments (headers and lengths split across segments,
 * retransmissions, keep-alive probes), the rhythm of PINGREQ and PUBLISH
 * times, where following stops (a sequence gap, reordering, bytes the
 * capture cut off where a header lies, bytes that are no fixed header) and
 * the bounded pool, whose least recently active holder gives up its state
 * when a new connection finds none free.
 */
#include <check.h>
#include <string.h>

#include "msgtiming.h"

#define S 1000000ull
#define ISN 1000u

/* CONNECT, protocol "MQTT" level 4, clean session, keepalive 30, client id "d" (15 bytes) */
static const uint8_t connect_pkt[] = { 0x10, 13, 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 30, 0, 1, 'd' };
static const uint8_t pingreq[] = { 0xc0, 0x00 };
/* PUBLISH QoS 0, topic "t", payload "hi" */
static const uint8_t publish[] = { 0x30, 5, 0, 1, 't', 'h', 'i' };

/* Starts a state for owner 0 (tests of the walker need no owners). */
static uint32_t start(struct sn_msgt_pool *p, enum sn_msgt_wire wire, uint32_t seq,
		      const uint8_t *b, size_t n)
{
	uint32_t from;
	return sn_msgt_start(p, wire, seq, b, n, 0, &from);
}

struct stream {
	struct sn_msgt_pool *p;
	uint32_t st;
	uint32_t seq; /* the next byte the client sends */
};

static void open_stream(struct stream *s, uint32_t states)
{
	s->p = sn_msgt_pool_create(states);
	ck_assert_ptr_nonnull(s->p);
	s->st = start(s->p, SN_MSGT_WIRE_MQTT, ISN, connect_pkt, sizeof connect_pkt);
	s->seq = ISN + (uint32_t)sizeof connect_pkt;
}

static void send_bytes(struct stream *s, const uint8_t *b, uint32_t n, uint64_t ts)
{
	sn_msgt_feed(s->p, s->st, s->seq, b, n, n, ts);
	s->seq += n;
}

static void describe(const struct stream *s, struct sn_conn_msgs *m)
{
	sn_msgt_describe(s->p, s->st, m);
}

START_TEST(test_pingreq_every_thirty_seconds)
{
	struct stream s;
	struct sn_conn_msgs m;
	/* 30 s +- 0.5 s: gaps 30.5, 29.5, 30, 30.4, 29.6, 30 -> median 30 */
	const double at[] = { 0, 30.5, 60, 90, 120.4, 150, 180 };

	open_stream(&s, 4);
	ck_assert_uint_ne(s.st, 0);
	for (size_t i = 0; i < sizeof at / sizeof at[0]; i++)
		send_bytes(&s, pingreq, 2, (uint64_t)(at[i] * S) + 5 * S);
	describe(&s, &m);
	ck_assert_uint_eq(m.timing, SN_MSGT_FOLLOWED);
	ck_assert_uint_eq(m.messages[SN_MSG_KEEPALIVE], 7);
	ck_assert_uint_eq(m.messages[SN_MSG_PUBLISH], 0);
	ck_assert_uint_eq(m.rhythm[SN_MSG_KEEPALIVE].samples, 6);
	ck_assert_uint_eq(m.rhythm[SN_MSG_KEEPALIVE].interval_ms, 30000);
	ck_assert(sn_beacon_regular(&m.rhythm[SN_MSG_KEEPALIVE], 4, 10));
	ck_assert_uint_eq(m.rhythm[SN_MSG_PUBLISH].samples, 0);
	sn_msgt_pool_destroy(s.p);
}
END_TEST

/* The bytes that gave the verdict are walked but not timed. */
START_TEST(test_prefix_not_timed)
{
	struct sn_msgt_pool *p = sn_msgt_pool_create(1);
	uint8_t first[sizeof connect_pkt + sizeof publish + 1];
	struct sn_conn_msgs m;

	memcpy(first, connect_pkt, sizeof connect_pkt);
	memcpy(first + sizeof connect_pkt, publish, sizeof publish);
	first[sizeof first - 1] = 0xc0; /* a PINGREQ whose length byte comes next */
	uint32_t st = start(p, SN_MSGT_WIRE_MQTT, ISN, first, sizeof first);
	sn_msgt_feed(p, st, ISN + (uint32_t)sizeof first, (const uint8_t *)"\0", 1, 1, 9 * S);
	sn_msgt_describe(p, st, &m);
	ck_assert_uint_eq(m.messages[SN_MSG_PUBLISH], 0);
	ck_assert_uint_eq(m.messages[SN_MSG_KEEPALIVE], 1); /* completed in a later segment */
	sn_msgt_pool_destroy(p);
}
END_TEST

/* A PUBLISH of 300 bytes: two-byte Remaining Length, header and body split. */
START_TEST(test_split_headers_and_bodies)
{
	struct stream s;
	struct sn_conn_msgs m;
	uint8_t big[303];

	memset(big, 'x', sizeof big);
	big[0] = 0x32;      /* PUBLISH QoS 1 */
	big[1] = 0xac;      /* 300 = 0x2c + 2 * 128 */
	big[2] = 0x02;
	open_stream(&s, 1);
	send_bytes(&s, big, 2, 10 * S);          /* type and first length byte */
	send_bytes(&s, big + 2, 150, 11 * S);    /* last length byte, body */
	send_bytes(&s, big + 152, 151, 12 * S);  /* rest of the body */
	send_bytes(&s, publish, 1, 13 * S);      /* a PUBLISH split after its type */
	send_bytes(&s, publish + 1, sizeof publish - 1, 14 * S);
	describe(&s, &m);
	ck_assert_uint_eq(m.timing, SN_MSGT_FOLLOWED);
	ck_assert_uint_eq(m.messages[SN_MSG_PUBLISH], 2);
	ck_assert_uint_eq(m.rhythm[SN_MSG_PUBLISH].samples, 1);
	ck_assert_uint_eq(m.rhythm[SN_MSG_PUBLISH].interval_ms, 3000); /* 11 s -> 14 s */
	sn_msgt_pool_destroy(s.p);
}
END_TEST

/* Retransmissions, overlaps and keep-alive probes are not counted twice. */
START_TEST(test_retransmission_skipped)
{
	struct stream s;
	struct sn_conn_msgs m;
	uint8_t two[4] = { 0xc0, 0, 0xc0, 0 };

	open_stream(&s, 1);
	send_bytes(&s, pingreq, 2, 30 * S);
	sn_msgt_feed(s.p, s.st, s.seq - 2, pingreq, 2, 2, 31 * S); /* retransmitted */
	sn_msgt_feed(s.p, s.st, s.seq - 1, pingreq + 1, 1, 1, 32 * S); /* keep-alive probe */
	sn_msgt_feed(s.p, s.st, s.seq - 2, two, 4, 4, 60 * S); /* old bytes and a new PINGREQ */
	s.seq += 2;
	send_bytes(&s, pingreq, 2, 90 * S);
	describe(&s, &m);
	ck_assert_uint_eq(m.timing, SN_MSGT_FOLLOWED);
	ck_assert_uint_eq(m.messages[SN_MSG_KEEPALIVE], 3);
	ck_assert_uint_eq(m.rhythm[SN_MSG_KEEPALIVE].interval_ms, 30000);
	sn_msgt_pool_destroy(s.p);
}
END_TEST

/* A lost segment stops the following; the times before it stay. */
START_TEST(test_sequence_gap_stops)
{
	struct stream s;
	struct sn_conn_msgs m;
	struct sn_msgt_stats st;

	open_stream(&s, 1);
	for (int i = 0; i < 3; i++)
		send_bytes(&s, pingreq, 2, (uint64_t)i * 30 * S);
	s.seq += 2; /* one PINGREQ not captured */
	for (int i = 4; i < 10; i++)
		send_bytes(&s, pingreq, 2, (uint64_t)i * 30 * S);
	describe(&s, &m);
	ck_assert_uint_eq(m.timing, SN_MSGT_GAP);
	ck_assert_uint_eq(m.messages[SN_MSG_KEEPALIVE], 3);
	ck_assert_uint_eq(m.rhythm[SN_MSG_KEEPALIVE].samples, 2);
	sn_msgt_stats(s.p, &st);
	ck_assert_uint_eq(st.lost, 1);
	ck_assert_uint_eq(st.followed, 1);
	sn_msgt_pool_destroy(s.p);
}
END_TEST

START_TEST(test_reordering_stops)
{
	struct stream s;
	struct sn_conn_msgs m;

	open_stream(&s, 1);
	sn_msgt_feed(s.p, s.st, s.seq + 2, pingreq, 2, 2, 1 * S); /* the later one first */
	sn_msgt_feed(s.p, s.st, s.seq, pingreq, 2, 2, 1 * S);
	describe(&s, &m);
	ck_assert_uint_eq(m.timing, SN_MSGT_GAP);
	ck_assert_uint_eq(m.messages[SN_MSG_KEEPALIVE], 0);
	sn_msgt_pool_destroy(s.p);
}
END_TEST

/* Bytes the capture cut off: passed over inside a body, lost where a header lies. */
START_TEST(test_snaplen_cut)
{
	struct stream s;
	struct sn_conn_msgs m;
	uint8_t head[3] = { 0x30, 0xe8, 0x07 }; /* PUBLISH of 1000 bytes */

	open_stream(&s, 1);
	sn_msgt_feed(s.p, s.st, s.seq, head, 3, 1003, 1 * S);
	s.seq += 1003;
	send_bytes(&s, pingreq, 2, 2 * S);
	describe(&s, &m);
	ck_assert_uint_eq(m.timing, SN_MSGT_FOLLOWED);
	ck_assert_uint_eq(m.messages[SN_MSG_PUBLISH], 1);
	ck_assert_uint_eq(m.messages[SN_MSG_KEEPALIVE], 1);
	/* a segment of two PUBLISHes cut inside the second's header */
	uint8_t two[14];
	memcpy(two, publish, 7);
	memcpy(two + 7, publish, 7);
	sn_msgt_feed(s.p, s.st, s.seq, two, 8, 14, 3 * S);
	describe(&s, &m);
	ck_assert_uint_eq(m.timing, SN_MSGT_GAP);
	sn_msgt_pool_destroy(s.p);
}
END_TEST

START_TEST(test_malformed_stops)
{
	struct stream s;
	struct sn_conn_msgs m;
	struct sn_msgt_stats st;
	const uint8_t zero[] = { 0x00, 0x00 };                    /* type 0 is reserved */
	const uint8_t longlen[] = { 0x30, 0xff, 0xff, 0xff, 0xff }; /* a 5-byte length */

	open_stream(&s, 2);
	send_bytes(&s, zero, 2, 1 * S);
	send_bytes(&s, pingreq, 2, 2 * S);
	describe(&s, &m);
	ck_assert_uint_eq(m.timing, SN_MSGT_MALFORMED);
	ck_assert_uint_eq(m.messages[SN_MSG_KEEPALIVE], 0);
	uint32_t other = start(s.p, SN_MSGT_WIRE_MQTT, ISN, connect_pkt, sizeof connect_pkt);
	sn_msgt_feed(s.p, other, ISN + (uint32_t)sizeof connect_pkt, longlen, 5, 5, 1 * S);
	sn_msgt_describe(s.p, other, &m);
	ck_assert_uint_eq(m.timing, SN_MSGT_MALFORMED);
	sn_msgt_stats(s.p, &st);
	ck_assert_uint_eq(st.malformed, 2);
	ck_assert_uint_eq(st.lost, 0);
	sn_msgt_pool_destroy(s.p);
}
END_TEST

/* The ring keeps the last SN_BEACON_STARTS times: a beacon after an irregular start. */
START_TEST(test_ring_keeps_the_last)
{
	struct stream s;
	struct sn_conn_msgs m;
	uint64_t t = 0;

	open_stream(&s, 1);
	for (int i = 0; i < 10; i++) { /* irregular: 1 s, 100 s, 1 s, ... */
		t += (i % 2 ? 100 : 1) * S;
		send_bytes(&s, publish, sizeof publish, t);
	}
	for (int i = 0; i < SN_BEACON_STARTS; i++) {
		t += 60 * S;
		send_bytes(&s, publish, sizeof publish, t);
	}
	describe(&s, &m);
	ck_assert_uint_eq(m.messages[SN_MSG_PUBLISH], 10 + SN_BEACON_STARTS);
	ck_assert_uint_eq(m.rhythm[SN_MSG_PUBLISH].samples, SN_BEACON_STARTS - 1);
	ck_assert_uint_eq(m.rhythm[SN_MSG_PUBLISH].interval_ms, 60000);
	ck_assert_uint_eq(m.rhythm[SN_MSG_PUBLISH].jitter_milli, 0);
	sn_msgt_pool_destroy(s.p);
}
END_TEST

START_TEST(test_pool_bounded)
{
	struct sn_msgt_pool *p = sn_msgt_pool_create(2);
	struct sn_msgt_stats st;
	struct sn_conn_msgs m;

	uint32_t a = start(p, SN_MSGT_WIRE_MQTT, ISN, connect_pkt, sizeof connect_pkt);
	uint32_t b = start(p, SN_MSGT_WIRE_MQTT, ISN, connect_pkt, sizeof connect_pkt);
	ck_assert_uint_ne(a, 0);
	ck_assert_uint_ne(b, 0);
	ck_assert_uint_ne(a, b);
	sn_msgt_feed(p, a, ISN + (uint32_t)sizeof connect_pkt, pingreq, 2, 2, 1 * S);
	sn_msgt_release(p, a);
	sn_msgt_release(p, a); /* a second release changes nothing */
	uint32_t c = start(p, SN_MSGT_WIRE_MQTT, ISN, connect_pkt, sizeof connect_pkt);
	ck_assert_uint_eq(c, a); /* reused, and clean */
	sn_msgt_describe(p, c, &m);
	ck_assert_uint_eq(m.messages[SN_MSG_KEEPALIVE], 0);
	sn_msgt_describe(p, 0, &m); /* "none" describes as not followed */
	ck_assert_uint_eq(m.timing, SN_MSGT_NONE);
	sn_msgt_stats(p, &st);
	ck_assert_uint_eq(st.followed, 3);
	ck_assert_uint_eq(st.pool_full, 0);
	ck_assert_uint_eq(st.reclaimed, 0);
	sn_msgt_pool_destroy(p);

	p = sn_msgt_pool_create(0); /* nothing to take: not followed, counted */
	ck_assert_ptr_nonnull(p);
	uint32_t from = 7;
	ck_assert_uint_eq(sn_msgt_start(p, SN_MSGT_WIRE_MQTT, ISN, connect_pkt, sizeof connect_pkt,
					1, &from), 0);
	ck_assert_uint_eq(from, SN_MSGT_NO_OWNER);
	sn_msgt_stats(p, &st);
	ck_assert_uint_eq(st.pool_full, 1);
	ck_assert_uint_eq(st.reclaimed, 0);
	sn_msgt_pool_destroy(p);
	ck_assert_ptr_null(sn_msgt_pool_create(SN_MSGT_STATES_MAX + 1));
}
END_TEST

/*
 * A pool of N = 4 states and N - 1, N and N + 1 holders (owners 100, 101,
 * ...), each sending a PINGREQ in an order that is not the order they
 * started in: up to N nothing is taken; holder N + 1 takes the state of the
 * holder whose last client segment is oldest, and a later one the next
 * oldest.  A retransmission makes no holder more recent; a stopped
 * following (malformed) is never touched again, so it goes first.
 */
START_TEST(test_pool_full_takes_least_recent)
{
	enum { N = 4 };
	const uint32_t after = ISN + (uint32_t)sizeof connect_pkt;
	/* the holders' last PINGREQ times, by start order */
	const uint64_t last[N + 1] = { 40, 10, 30, 20, 50 };

	for (uint32_t holders = N - 1; holders <= N + 1; holders++) {
		struct sn_msgt_pool *p = sn_msgt_pool_create(N);
		struct sn_msgt_stats st;
		struct sn_conn_msgs m;
		uint32_t states[N + 1], from[N + 1];

		for (uint32_t h = 0; h < holders; h++) {
			states[h] = sn_msgt_start(p, SN_MSGT_WIRE_MQTT, ISN, connect_pkt,
						  sizeof connect_pkt, 100 + h, &from[h]);
			ck_assert_uint_ne(states[h], 0);
			if (h < N) { /* a PINGREQ before the next one starts */
				ck_assert_uint_eq(from[h], SN_MSGT_NO_OWNER);
				sn_msgt_feed(p, states[h], after, pingreq, 2, 2, last[h] * S);
			}
		}
		sn_msgt_stats(p, &st);
		if (holders <= N) {
			ck_assert_uint_eq(st.reclaimed, 0);
			ck_assert_uint_eq(st.pool_full, 0);
			for (uint32_t h = 0; h < holders; h++) {
				sn_msgt_describe(p, states[h], &m);
				ck_assert_uint_eq(m.messages[SN_MSG_KEEPALIVE], 1);
			}
			sn_msgt_pool_destroy(p);
			continue;
		}
		/* feeding order was start order, so the least recent is holder 0
		 * (fed first) even though its packet time is not the oldest */
		ck_assert_uint_eq(st.reclaimed, 1);
		ck_assert_uint_eq(st.pool_full, 0);
		ck_assert_uint_eq(from[N], 100);
		ck_assert_uint_eq(states[N], states[0]);
		sn_msgt_describe(p, states[N], &m); /* clean for its new holder */
		ck_assert_uint_eq(m.timing, SN_MSGT_FOLLOWED);
		ck_assert_uint_eq(m.messages[SN_MSG_KEEPALIVE], 0);
		/* holder 1 retransmits (no new bytes: stays least recent) and 2 gets
		 * new bytes (most recent): the next start takes holder 1's */
		sn_msgt_feed(p, states[1], after, pingreq, 2, 2, 60 * S);
		sn_msgt_feed(p, states[2], after + 2, pingreq, 2, 2, 61 * S);
		uint32_t f, s = sn_msgt_start(p, SN_MSGT_WIRE_MQTT, ISN, connect_pkt,
					      sizeof connect_pkt, 200, &f);
		ck_assert_uint_eq(f, 101);
		ck_assert_uint_eq(s, states[1]);
		/* holder 3 stops (malformed) after new bytes: taken before holder N
		 * and 2, whose later segments make them more recent */
		sn_msgt_feed(p, states[3], after + 2, (const uint8_t *)"\0\0", 2, 2, 62 * S);
		sn_msgt_feed(p, states[N], after, pingreq, 2, 2, 63 * S);
		sn_msgt_feed(p, s, after, pingreq, 2, 2, 64 * S);
		sn_msgt_feed(p, states[2], after + 4, pingreq, 2, 2, 65 * S);
		sn_msgt_feed(p, states[3], after + 4, pingreq, 2, 2, 66 * S); /* ignored */
		ck_assert_uint_eq(sn_msgt_start(p, SN_MSGT_WIRE_MQTT, ISN, connect_pkt,
						sizeof connect_pkt, 201, &f), states[3]);
		ck_assert_uint_eq(f, 103);
		/* a released state is free again: taken before any holder's */
		sn_msgt_release(p, states[N]);
		ck_assert_uint_eq(sn_msgt_start(p, SN_MSGT_WIRE_MQTT, ISN, connect_pkt,
						sizeof connect_pkt, 202, &f), states[N]);
		ck_assert_uint_eq(f, SN_MSGT_NO_OWNER);
		ck_assert_uint_eq(sn_msgt_start(p, SN_MSGT_WIRE_MQTT, ISN, connect_pkt,
						sizeof connect_pkt, 203, &f), s);
		ck_assert_uint_eq(f, 200);
		sn_msgt_stats(p, &st);
		ck_assert_uint_eq(st.reclaimed, 4);
		ck_assert_uint_eq(st.followed, N + 1 + 4);
		sn_msgt_pool_destroy(p);
	}
}
END_TEST

/* ---- AMQP 0-9-1 frames (section 4.2.3) ---- */

static const uint8_t amqp_header[] = { 'A', 'M', 'Q', 'P', 0, 0, 9, 1 };
/* heartbeat: type 8, channel 0, size 0, frame-end */
static const uint8_t heartbeat[] = { 8, 0, 0, 0, 0, 0, 0, 0xce };
/* method frame on channel 1: basic.publish (60, 40), reserved, exchange "", routing key "q", bits */
static const uint8_t basic_publish[] = { 1, 0, 1, 0, 0, 0, 10, 0, 60, 0, 40, 0, 0, 0, 1, 'q', 0, 0xce };
/* method frame: channel.open (20, 10) with its reserved shortstr */
static const uint8_t channel_open[] = { 1, 0, 1, 0, 0, 0, 5, 0, 20, 0, 10, 0, 0xce };

static void open_amqp(struct stream *s)
{
	s->p = sn_msgt_pool_create(2);
	ck_assert_ptr_nonnull(s->p);
	s->st = start(s->p, SN_MSGT_WIRE_AMQP091, ISN, amqp_header, sizeof amqp_header);
	s->seq = ISN + (uint32_t)sizeof amqp_header;
}

START_TEST(test_amqp_heartbeats_and_publishes)
{
	struct stream s;
	struct sn_conn_msgs m;

	open_amqp(&s);
	send_bytes(&s, channel_open, sizeof channel_open, 1 * S);
	for (int i = 0; i < 6; i++) {
		send_bytes(&s, heartbeat, sizeof heartbeat, (uint64_t)(i + 1) * 60 * S);
		/* a basic.publish split inside its class and method ids */
		send_bytes(&s, basic_publish, 10, (uint64_t)(i + 1) * 60 * S + 5 * S);
		send_bytes(&s, basic_publish + 10, sizeof basic_publish - 10,
			   (uint64_t)(i + 1) * 60 * S + 6 * S);
	}
	describe(&s, &m);
	ck_assert_uint_eq(m.timing, SN_MSGT_FOLLOWED);
	ck_assert_uint_eq(m.messages[SN_MSG_KEEPALIVE], 6);
	ck_assert_uint_eq(m.messages[SN_MSG_PUBLISH], 6); /* channel.open is neither */
	ck_assert_uint_eq(m.rhythm[SN_MSG_KEEPALIVE].interval_ms, 60000);
	ck_assert_uint_eq(m.rhythm[SN_MSG_PUBLISH].interval_ms, 60000);
	ck_assert_uint_eq(m.rhythm[SN_MSG_PUBLISH].samples, 5);
	sn_msgt_pool_destroy(s.p);
}
END_TEST

START_TEST(test_amqp_broken_frames_stop)
{
	struct stream s;
	struct sn_conn_msgs m;
	uint8_t bad_end[sizeof heartbeat], bad_type[sizeof heartbeat];

	memcpy(bad_end, heartbeat, sizeof heartbeat);
	bad_end[7] = 0x00;
	memcpy(bad_type, heartbeat, sizeof heartbeat);
	bad_type[0] = 9;
	open_amqp(&s);
	send_bytes(&s, heartbeat, sizeof heartbeat, 1 * S);
	send_bytes(&s, bad_end, sizeof bad_end, 2 * S);
	send_bytes(&s, heartbeat, sizeof heartbeat, 3 * S);
	describe(&s, &m);
	ck_assert_uint_eq(m.timing, SN_MSGT_MALFORMED);
	ck_assert_uint_eq(m.messages[SN_MSG_KEEPALIVE], 2); /* timed at its header, before its end */
	uint32_t other = start(s.p, SN_MSGT_WIRE_AMQP091, ISN, amqp_header, 4);
	sn_msgt_feed(s.p, other, ISN + 4, amqp_header + 4, 4, 4, 1 * S); /* header split */
	sn_msgt_feed(s.p, other, ISN + 8, bad_type, 8, 8, 2 * S);
	sn_msgt_describe(s.p, other, &m);
	ck_assert_uint_eq(m.timing, SN_MSGT_MALFORMED);
	ck_assert_uint_eq(m.messages[SN_MSG_KEEPALIVE], 0);
	sn_msgt_pool_destroy(s.p);
}
END_TEST

/* A large body the capture cut off is passed over; its frame-end still checked. */
START_TEST(test_amqp_cut_body)
{
	struct stream s;
	struct sn_conn_msgs m;
	uint8_t body_head[7] = { 3, 0, 1, 0, 0, 0x03, 0xe8 }; /* body frame of 1000 bytes */

	open_amqp(&s);
	sn_msgt_feed(s.p, s.st, s.seq, body_head, 7, 7 + 1000, 1 * S);
	s.seq += 1007;
	send_bytes(&s, (const uint8_t *)"\xce", 1, 1 * S);
	send_bytes(&s, heartbeat, sizeof heartbeat, 2 * S);
	describe(&s, &m);
	ck_assert_uint_eq(m.timing, SN_MSGT_FOLLOWED);
	ck_assert_uint_eq(m.messages[SN_MSG_KEEPALIVE], 1);
	sn_msgt_pool_destroy(s.p);
}
END_TEST

Suite *msgtiming_suite(void);

Suite *msgtiming_suite(void)
{
	Suite *s = suite_create("msgtiming");
	TCase *t = tcase_create("msgtiming");

	tcase_add_test(t, test_pingreq_every_thirty_seconds);
	tcase_add_test(t, test_prefix_not_timed);
	tcase_add_test(t, test_split_headers_and_bodies);
	tcase_add_test(t, test_retransmission_skipped);
	tcase_add_test(t, test_sequence_gap_stops);
	tcase_add_test(t, test_reordering_stops);
	tcase_add_test(t, test_snaplen_cut);
	tcase_add_test(t, test_malformed_stops);
	tcase_add_test(t, test_ring_keeps_the_last);
	tcase_add_test(t, test_pool_bounded);
	tcase_add_test(t, test_pool_full_takes_least_recent);
	tcase_add_test(t, test_amqp_heartbeats_and_publishes);
	tcase_add_test(t, test_amqp_broken_frames_stop);
	tcase_add_test(t, test_amqp_cut_body);
	suite_add_tcase(s, t);
	return s;
}
