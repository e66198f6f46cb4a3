/*
 * test_flow.c - the TCP connection table: roles, states, timeouts,
 * eviction, first-bytes classification and the reports it sends.
 *
 * Packets are built by hand (struct sn_packet as decode.c fills it); the
 * real dissectors classify them.  Reports are collected in `reps`.
 */
#include <check.h>
#include <string.h>

#include "flow.h"
#include "flowindex.h"
#include "testutil.h"

#define MAXREP 64
#define T_NEW 30
#define T_EST 300
#define T_CLOSED 10
#define SEC 1000000ULL

static struct sn_conn_report reps[MAXREP];
static int nrep;
static uint8_t port_map[65536];
static struct sn_flow_table *ft;
static uint32_t msg_states = 4; /* follow states of the next make_table */

static void on_report(void *ctx, const struct sn_conn_report *r)
{
	(void)ctx;
	if (nrep < MAXREP)
		reps[nrep] = *r;
	nrep++;
}

static void make_table(uint32_t max_flows, uint32_t buffers)
{
	struct sn_flow_config cfg = {
		.max_flows = max_flows,
		.classify_buffers = buffers,
		.buffer_bytes = 2048,
		.timeout_new_s = T_NEW,
		.timeout_established_s = T_EST,
		.timeout_closed_s = T_CLOSED,
		.message_timing_flows = msg_states,
		.port_map = port_map,
		.report = on_report,
	};
	sn_flow_table_destroy(ft);
	ft = sn_flow_table_create(&cfg, 0x5eed);
	ck_assert_ptr_nonnull(ft);
}

static void setup(void)
{
	memset(port_map, 0, sizeof port_map);
	port_map[1883] = SN_PROTO_MQTT;
	port_map[8883] = SN_PROTO_MQTT | SN_PORT_TLS;
	port_map[5222] = SN_PROTO_XMPP;
	port_map[5672] = SN_PROTO_AMQP;
	port_map[61613] = SN_PROTO_STOMP;
	nrep = 0;
	ft = NULL;
	msg_states = 4;
	make_table(64, 8);
}

static void teardown(void)
{
	sn_flow_table_destroy(ft);
	ft = NULL;
}

static struct sn_flow_stats stats(void)
{
	struct sn_flow_stats st;
	sn_flow_table_stats(ft, &st);
	return st;
}

/* ---- a conversation: two endpoints, their sequence numbers, a clock ---- */

struct conv {
	struct sn_addr c, s;
	uint16_t cp, sp, vlan;
	uint32_t cseq, sseq;
	uint64_t ts;
};

enum { C = 0, S = 1 };

static struct conv conv4(uint8_t c_last, uint16_t cp, uint16_t sp)
{
	struct conv cv;
	memset(&cv, 0, sizeof cv);
	cv.c.family = cv.s.family = 4;
	cv.c.b[0] = 10, cv.c.b[3] = c_last;
	cv.s.b[0] = 192, cv.s.b[1] = 0, cv.s.b[2] = 2, cv.s.b[3] = 1;
	cv.cp = cp;
	cv.sp = sp;
	cv.cseq = 1000;
	cv.sseq = 500000;
	cv.ts = 1700000000 * SEC;
	return cv;
}

/* The segment pkt_at() processes, only built (the clock moves on). */
static struct sn_packet pkt_make(struct conv *cv, int dir, uint8_t flags, uint32_t seq,
				 const void *data, uint32_t len)
{
	struct sn_packet p;
	memset(&p, 0, sizeof p);
	cv->ts += 1000;
	p.ts_us = cv->ts;
	p.src = dir == C ? cv->c : cv->s;
	p.dst = dir == C ? cv->s : cv->c;
	p.sport = dir == C ? cv->cp : cv->sp;
	p.dport = dir == C ? cv->sp : cv->cp;
	p.vlan = cv->vlan;
	p.tcp_flags = flags;
	p.seq = seq;
	if (flags & SN_TCP_ACK)
		p.ack = dir == C ? cv->sseq : cv->cseq; /* all the peer sent so far */
	p.ip_bytes = (cv->c.family == 4 ? 40u : 60u) + len;
	p.payload_wire_len = len;
	p.payload = data;
	p.payload_len = len;
	return p;
}

static void pkt_at(struct conv *cv, int dir, uint8_t flags, uint32_t seq, const void *data,
		   uint32_t len)
{
	struct sn_packet p = pkt_make(cv, dir, flags, seq, data, len);
	sn_flow_table_process(ft, &p);
}

static void c_syn(struct conv *cv)
{
	pkt_at(cv, C, SN_TCP_SYN, cv->cseq - 1, NULL, 0);
}

static void s_synack(struct conv *cv)
{
	pkt_at(cv, S, SN_TCP_SYN | SN_TCP_ACK, cv->sseq - 1, NULL, 0);
}

static void c_ack(struct conv *cv)
{
	pkt_at(cv, C, SN_TCP_ACK, cv->cseq, NULL, 0);
}

static void shake(struct conv *cv)
{
	c_syn(cv);
	s_synack(cv);
	c_ack(cv);
}

static void data(struct conv *cv, int dir, const void *d, uint32_t len)
{
	uint32_t *seq = dir == C ? &cv->cseq : &cv->sseq;
	pkt_at(cv, dir, SN_TCP_ACK | SN_TCP_PSH, *seq, d, len);
	*seq += len;
}

static void fin(struct conv *cv, int dir)
{
	uint32_t *seq = dir == C ? &cv->cseq : &cv->sseq;
	pkt_at(cv, dir, SN_TCP_FIN | SN_TCP_ACK, *seq, NULL, 0);
	*seq += 1;
}

/*
 * An ended connection lingers for T_CLOSED after its last packet (to count
 * the last ACK); its CLOSE report comes when it is removed.
 */
static void linger_out(const struct conv *cv)
{
	sn_flow_table_expire(ft, cv->ts + T_CLOSED * SEC, SN_FLOW_EXPIRE_BUDGET);
}

static void rst(struct conv *cv, int dir)
{
	pkt_at(cv, dir, SN_TCP_RST | SN_TCP_ACK, dir == C ? cv->cseq : cv->sseq, NULL, 0);
}

/* ---- samples ---- */

/* MQTT 3.1.1 CONNECT: clean session, keepalive 60, client id "sensor-1" */
static const uint8_t connect_pkt[] = { 0x10, 0x14, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00,
				       0x3c, 0x00, 0x08, 's',  'e',  'n',  's',  'o', 'r', '-',  '1' };
/* MQTT CONNACK: session present 0, return code 0 */
static const uint8_t connack_pkt[] = { 0x20, 0x02, 0x00, 0x00 };
/* MQTT PUBLISH QoS 0, topic "c2/beacon", payload "hi" */
static const uint8_t publish_pkt[] = { 0x30, 0x0d, 0x00, 0x09, 'c', '2', '/', 'b',
				       'e',  'a',  'c',  'o',  'n', 'h', 'i' };
static const char http_get[] = "GET / HTTP/1.1\r\nHost: example\r\nAccept: */*\r\n\r\n";

#define LEN(a) ((uint32_t)sizeof(a))

/* First TLS record (the ClientHello) of a capture's client stream. */
static uint32_t client_hello(const char *pcap, uint16_t port, uint8_t *out, size_t cap)
{
	long n = sn_test_client_bytes(pcap, port, out, cap);
	ck_assert_int_gt(n, 5);
	ck_assert_int_eq(out[0], 0x16);
	uint32_t rec = 5u + ((uint32_t)out[3] << 8 | out[4]);
	ck_assert_uint_le(rec, (uint32_t)n);
	return rec;
}

static void assert_mqtt_open(const struct sn_conn_report *r, const struct conv *cv)
{
	ck_assert_int_eq(r->kind, SN_REPORT_OPEN);
	ck_assert_int_eq(r->proto, SN_PROTO_MQTT);
	ck_assert_int_eq(r->evidence, SN_EVIDENCE_PAYLOAD);
	ck_assert_str_eq(r->meta.client_id, "sensor-1");
	ck_assert_uint_eq(r->client_port, cv->cp);
	ck_assert_uint_eq(r->server_port, cv->sp);
	ck_assert_mem_eq(r->client.b, cv->c.b, 16);
	ck_assert_mem_eq(r->server.b, cv->s.b, 16);
}

/* ---- handshake, roles, classification ---- */

/*
 * A flow created by a bare SYN keeps only its cold entry until a second
 * packet: a retransmitted SYN sets up the rest with the first SYN's time,
 * and the ISN kept from the first still places the client's bytes.
 */
/*
 * A hint's index slot is where its key's flow sat when the hint was made;
 * by the time the segment is processed the slot may hold another flow or
 * none, and the segment still goes to its own flow.
 */
START_TEST(hint_slot_rechecked_when_processed)
{
	struct conv a = conv4(1, 40001, 1883), b = conv4(2, 40002, 1883);
	shake(&a);
	shake(&b);
	struct sn_flow_hint ha, hb;
	struct sn_packet pb = pkt_make(&b, C, SN_TCP_ACK, b.cseq, NULL, 0);
	sn_flow_table_hint(ft, &pb, &hb);
	ck_assert_uint_eq(hb.place, SN_FLOWINDEX_NONE); /* until hint_entry looks */
	sn_flow_table_hint_entry(ft, &hb);
	ck_assert_uint_ne(hb.place, SN_FLOWINDEX_NONE);

	/* the slot of another flow: a's CONNECT still opens a, not b */
	struct sn_packet pa = pkt_make(&a, C, SN_TCP_ACK | SN_TCP_PSH, a.cseq, connect_pkt,
				       LEN(connect_pkt));
	a.cseq += LEN(connect_pkt);
	sn_flow_table_hint(ft, &pa, &ha);
	sn_flow_table_hint_entry(ft, &ha);
	ck_assert_uint_ne(ha.place, hb.place);
	ha.place = hb.place;
	sn_flow_table_process_hinted(ft, &pa, &ha);
	ck_assert_int_eq(nrep, 1);
	assert_mqtt_open(&reps[0], &a);
	ck_assert_uint_eq(reps[0].packets[C], 3);

	/* b closed: its slot is empty, and b's late ACK makes no flow */
	rst(&b, S);
	linger_out(&b);
	int before = nrep;
	uint64_t created = stats().flows_created;
	sn_flow_table_process_hinted(ft, &pb, &hb);
	ck_assert_uint_eq(stats().flows_created, created);
	ck_assert_uint_eq(stats().flows_active, 1);
	ck_assert_int_eq(nrep, before);

	/* a's own slot, still right: found there */
	struct sn_packet pa2 = pkt_make(&a, C, SN_TCP_ACK | SN_TCP_PSH, a.cseq, publish_pkt,
					LEN(publish_pkt));
	sn_flow_table_hint(ft, &pa2, &ha);
	sn_flow_table_hint_entry(ft, &ha);
	sn_flow_table_process_hinted(ft, &pa2, &ha);
	sn_flow_table_flush(ft, a.ts + SEC, SN_CLOSE_END_OF_INPUT);
	ck_assert_int_gt(nrep, before);
	ck_assert_uint_eq(reps[nrep - 1].packets[C], 4);
}
END_TEST

/*
 * Hints made inline from the table's hinter are the ones hint() and
 * hint_entry() make: the same key, hash, side and place, for both
 * directions of two connections; and processed, such a hint finds its flow.
 */
START_TEST(hinter_makes_the_tables_hint)
{
	struct sn_flow_hinter hh;
	sn_flow_table_hinter(ft, &hh);
	struct conv a = conv4(1, 40001, 1883), b = conv4(7, 40002, 1883);
	shake(&a);
	shake(&b);
	struct sn_packet ps[] = {
		pkt_make(&a, C, SN_TCP_ACK, a.cseq, NULL, 0),
		pkt_make(&a, S, SN_TCP_ACK, a.sseq, NULL, 0),
		pkt_make(&b, C, SN_TCP_ACK, b.cseq, NULL, 0),
		pkt_make(&b, S, SN_TCP_ACK, b.sseq, NULL, 0),
	};
	for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) {
		struct sn_flow_hint want, got;
		memset(&want, 0xaa, sizeof want);
		memset(&got, 0x55, sizeof got);
		sn_flow_table_hint(ft, &ps[i], &want);
		sn_flow_hint_make(&hh, &ps[i], &got);
		ck_assert(sn_flowkey_equal(&want.key, &got.key));
		ck_assert_uint_eq(want.hash, got.hash);
		ck_assert(want.src_is_a == got.src_is_a);
		ck_assert_uint_eq(want.place, got.place);
		ck_assert_uint_eq(got.place, SN_FLOWINDEX_NONE);
		/* and the entry fetch finds the same slot (the flow exists) */
		sn_flow_table_hint_entry(ft, &want);
		sn_flow_hint_fetch(&hh, &got);
		ck_assert_uint_ne(want.place, SN_FLOWINDEX_NONE);
		ck_assert_uint_eq(want.place, got.place);
	}
	/* the packets of one connection share a key; a's ACK counts on a */
	struct sn_flow_hint h;
	struct sn_packet pa = pkt_make(&a, C, SN_TCP_ACK | SN_TCP_PSH, a.cseq, connect_pkt,
				       LEN(connect_pkt));
	a.cseq += LEN(connect_pkt);
	sn_flow_hint_make(&hh, &pa, &h);
	sn_flow_hint_fetch(&hh, &h);
	uint64_t created = stats().flows_created;
	sn_flow_table_process_hinted(ft, &pa, &h);
	ck_assert_uint_eq(stats().flows_created, created);
	ck_assert_int_eq(nrep, 1);
	assert_mqtt_open(&reps[0], &a);
}
END_TEST

START_TEST(retransmitted_syn_keeps_first_time_and_isn)
{
	struct conv cv = conv4(1, 40001, 1883);
	c_syn(&cv);
	uint64_t t0 = cv.ts;
	c_syn(&cv);
	s_synack(&cv);
	c_ack(&cv);
	data(&cv, C, connect_pkt, LEN(connect_pkt));
	ck_assert_int_eq(nrep, 1);
	const struct sn_conn_report *r = &reps[0];
	assert_mqtt_open(r, &cv);
	ck_assert_uint_eq(r->first_us, t0);
	ck_assert_uint_eq(r->packets[C], 4);
	ck_assert_str_eq(r->meta.mqtt_version, "3.1.1");
	ck_assert_uint_eq(stats().flows_created, 1);
}
END_TEST

START_TEST(handshake_then_connect_opens_mqtt)
{
	struct conv cv = conv4(1, 40001, 1883);
	shake(&cv);
	ck_assert_int_eq(nrep, 0);
	data(&cv, C, connect_pkt, LEN(connect_pkt));
	ck_assert_int_eq(nrep, 1);
	const struct sn_conn_report *r = &reps[0];
	assert_mqtt_open(r, &cv);
	ck_assert_int_eq(r->port_proto, SN_PROTO_MQTT);
	ck_assert(!r->port_is_tls);
	ck_assert_str_eq(r->meta.mqtt_version, "3.1.1");
	ck_assert_uint_eq(r->packets[C], 3);
	ck_assert_uint_eq(r->packets[S], 1);
	ck_assert_uint_eq(r->bytes[C], 40 + 40 + 40 + LEN(connect_pkt));
	ck_assert_uint_eq(r->bytes[S], 40);
	ck_assert_uint_eq(r->bytes_delta[C], r->bytes[C]);
	ck_assert_uint_eq(r->packets_delta[S], r->packets[S]);
	ck_assert_uint_eq(r->ts_us, cv.ts);
	ck_assert_uint_eq(r->last_us, cv.ts);
	ck_assert_uint_eq(r->first_us, cv.ts - 3000);
	ck_assert_str_eq(r->process_name, "");
	ck_assert_uint_eq(r->vlan, 0);
	struct sn_flow_stats st = stats();
	ck_assert_uint_eq(st.flows_created, 1);
	ck_assert_uint_eq(st.flows_active, 1);
	ck_assert_uint_eq(st.classified, 1);
	ck_assert_uint_eq(st.confirmed, 1);
	ck_assert_uint_eq(st.reports, 1);
}
END_TEST

/*
 * A bare SYN from the higher address (endpoint b of the key), carried in a
 * tunnel, makes its flow in one step: the sender is the client, the SYN is
 * its first packet (time, bytes, count), its ISN places the client's bytes,
 * and its tunnel layers come out in the report.
 */
START_TEST(tunnelled_syn_from_endpoint_b_makes_the_flow)
{
	struct conv cv = conv4(1, 40001, 1883);
	cv.c.b[0] = 203, cv.c.b[1] = 0, cv.c.b[2] = 113, cv.c.b[3] = 9; /* above 192.0.2.1 */
	struct sn_packet p = pkt_make(&cv, C, SN_TCP_SYN, cv.cseq - 1, NULL, 0);
	p.n_layers = 1;
	p.layers[0] = 0x12345678u;
	sn_flow_table_process(ft, &p);
	uint64_t syn_ts = cv.ts;
	ck_assert_uint_eq(stats().flows_half_open, 1);
	s_synack(&cv);
	c_ack(&cv);
	data(&cv, C, connect_pkt, LEN(connect_pkt));
	ck_assert_int_eq(nrep, 1);
	const struct sn_conn_report *r = &reps[0];
	assert_mqtt_open(r, &cv);
	ck_assert_uint_eq(r->first_us, syn_ts);
	ck_assert_uint_eq(r->packets[C], 3);
	ck_assert_uint_eq(r->packets[S], 1);
	ck_assert_uint_eq(r->bytes[C], 40 + 40 + 40 + LEN(connect_pkt));
	ck_assert_uint_eq(r->n_tunnel, 1);
	ck_assert_uint_eq(r->tunnel[0], 0x12345678u);
	ck_assert_uint_eq(stats().flows_half_open, 0);
}
END_TEST

START_TEST(unanswered_syn_never_reported)
{
	struct conv cv = conv4(1, 40001, 1883);
	c_syn(&cv);
	c_syn(&cv); /* retransmitted */
	struct sn_flow_stats st = stats();
	ck_assert_uint_eq(st.flows_created, 1);
	ck_assert_uint_eq(st.flows_half_open, 1);
	sn_flow_table_flush(ft, cv.ts, SN_CLOSE_END_OF_INPUT);
	ck_assert_int_eq(nrep, 0);
	ck_assert_uint_eq(stats().flows_active, 0);
	ck_assert_uint_eq(stats().flows_half_open, 0);
}
END_TEST

START_TEST(syn_then_server_rst_not_reported)
{
	struct conv cv = conv4(1, 40001, 1883);
	c_syn(&cv);
	rst(&cv, S);
	ck_assert_int_eq(nrep, 0);
	struct sn_flow_stats st = stats();
	ck_assert_uint_eq(st.flows_active, 0);
	ck_assert_uint_eq(st.closed, 1);
}
END_TEST

START_TEST(no_entry_for_ack_fin_rst_of_unknown)
{
	struct conv cv = conv4(1, 40001, 1883);
	c_ack(&cv);
	fin(&cv, C);
	rst(&cv, S);
	pkt_at(&cv, C, SN_TCP_RST, cv.cseq, "x", 1); /* RST with payload */
	ck_assert_uint_eq(stats().flows_created, 0);
}
END_TEST

START_TEST(midstream_roles_from_pubsub_port)
{
	/* Server speaks first in the capture: still the 1883 side is the server. */
	struct conv cv = conv4(1, 40001, 1883);
	data(&cv, S, connack_pkt, LEN(connack_pkt));
	ck_assert_int_eq(nrep, 0);
	data(&cv, C, connect_pkt, LEN(connect_pkt));
	ck_assert_int_eq(nrep, 1);
	assert_mqtt_open(&reps[0], &cv);
	ck_assert_uint_eq(reps[0].packets[S], 1);
	ck_assert_uint_eq(reps[0].packets[C], 1);
}
END_TEST

START_TEST(midstream_lower_port_is_server)
{
	/* Neither port is a pub/sub port: the higher port is the client. */
	struct conv cv = conv4(1, 50000, 8080);
	data(&cv, S, connack_pkt, LEN(connack_pkt));
	data(&cv, C, connect_pkt, LEN(connect_pkt));
	ck_assert_int_eq(nrep, 1);
	assert_mqtt_open(&reps[0], &cv);
	ck_assert_int_eq(reps[0].port_proto, SN_PROTO_NONE);
}
END_TEST

START_TEST(midstream_one_way_data_acked_counts)
{
	/* Picked up mid-stream: two PUBLISHes, the broker only ACKs them. */
	struct conv cv = conv4(1, 40002, 1883);
	data(&cv, C, publish_pkt, LEN(publish_pkt));
	data(&cv, C, publish_pkt, LEN(publish_pkt));
	ck_assert_int_eq(nrep, 0);
	ck_assert_uint_eq(stats().flows_half_open, 1);
	pkt_at(&cv, S, SN_TCP_ACK, cv.sseq, NULL, 0);
	ck_assert_int_eq(nrep, 1);
	ck_assert_int_eq(reps[0].kind, SN_REPORT_OPEN);
	ck_assert_int_eq(reps[0].proto, SN_PROTO_MQTT);
	ck_assert_int_eq(reps[0].evidence, SN_EVIDENCE_PAYLOAD);
	ck_assert(reps[0].meta.midstream);
	ck_assert_str_eq(reps[0].meta.topics[0], "c2/beacon");
	ck_assert_uint_eq(stats().flows_half_open, 0);
}
END_TEST

START_TEST(midstream_unanswered_data_not_counted)
{
	/* No packet at all from the other side: still half-open, never reported. */
	struct conv cv = conv4(1, 40003, 1883);
	data(&cv, C, publish_pkt, LEN(publish_pkt));
	data(&cv, C, publish_pkt, LEN(publish_pkt));
	pkt_at(&cv, C, SN_TCP_ACK, cv.cseq, NULL, 0);
	ck_assert_int_eq(nrep, 0);
	ck_assert_uint_eq(stats().flows_half_open, 1);
}
END_TEST

START_TEST(lost_first_segment_is_midstream)
{
	/* The handshake is seen but the CONNECT never is: what follows is mid-stream. */
	static const uint8_t puback[] = { 0x40, 0x02, 0x00, 0x01 };
	struct conv cv = conv4(1, 40004, 1883);
	shake(&cv);
	cv.cseq += LEN(connect_pkt); /* lost */
	data(&cv, C, publish_pkt, LEN(publish_pkt));
	data(&cv, S, connack_pkt, LEN(connack_pkt));
	data(&cv, S, puback, LEN(puback));
	sn_flow_table_flush(ft, cv.ts, SN_CLOSE_END_OF_INPUT);
	ck_assert_int_ge(nrep, 1);
	ck_assert_int_eq(reps[0].proto, SN_PROTO_MQTT);
	ck_assert_int_eq(reps[0].evidence, SN_EVIDENCE_PAYLOAD);
	ck_assert(reps[0].meta.midstream);
}
END_TEST

START_TEST(data_both_ways_without_synack_counts)
{
	struct conv cv = conv4(1, 40001, 1883);
	c_syn(&cv);
	c_ack(&cv); /* the SYN-ACK was not captured */
	data(&cv, C, connect_pkt, LEN(connect_pkt));
	ck_assert_int_eq(nrep, 0); /* verdict in, but nobody answered yet */
	data(&cv, S, connack_pkt, LEN(connack_pkt));
	ck_assert_int_eq(nrep, 1);
	assert_mqtt_open(&reps[0], &cv);
	ck_assert_uint_eq(reps[0].ts_us, cv.ts);
}
END_TEST

START_TEST(one_way_data_never_counts)
{
	struct conv cv = conv4(1, 40001, 1883);
	data(&cv, C, connect_pkt, LEN(connect_pkt));
	data(&cv, C, publish_pkt, LEN(publish_pkt));
	sn_flow_table_flush(ft, cv.ts, SN_CLOSE_END_OF_INPUT);
	ck_assert_int_eq(nrep, 0);
}
END_TEST

START_TEST(late_syn_swaps_roles)
{
	/* First seen: data from 7000 to 9000 (guess: 9000 is the client). */
	struct conv cv = conv4(1, 7000, 9000);
	data(&cv, C, "x", 1);
	/* Then 9000 answers a SYN: it is the server after all. */
	s_synack(&cv);
	data(&cv, C, connect_pkt, LEN(connect_pkt));
	ck_assert_int_eq(nrep, 1);
	assert_mqtt_open(&reps[0], &cv);
	ck_assert_uint_eq(reps[0].packets[C], 2);
	ck_assert_uint_eq(reps[0].packets[S], 1);
}
END_TEST

/* ---- reassembly through the table ---- */

START_TEST(connect_out_of_order)
{
	struct conv cv = conv4(1, 40001, 1883);
	shake(&cv);
	uint32_t base = cv.cseq;
	pkt_at(&cv, C, SN_TCP_ACK, base + 10, connect_pkt + 10, LEN(connect_pkt) - 10);
	ck_assert_int_eq(nrep, 0);
	pkt_at(&cv, C, SN_TCP_ACK, base, connect_pkt, 10);
	ck_assert_int_eq(nrep, 1);
	assert_mqtt_open(&reps[0], &cv);
}
END_TEST

START_TEST(retransmission_and_overlap_first_copy_wins)
{
	struct conv cv = conv4(1, 40001, 1883);
	shake(&cv);
	uint32_t base = cv.cseq;
	uint8_t junk[14];
	memcpy(junk, "XXXXXXXXXX", 10);
	memcpy(junk + 10, connect_pkt + 10, 4);
	pkt_at(&cv, C, SN_TCP_ACK, base, connect_pkt, 10);
	pkt_at(&cv, C, SN_TCP_ACK, base, connect_pkt, 10);   /* retransmission */
	pkt_at(&cv, C, SN_TCP_ACK, base, junk, sizeof junk); /* overlap, new tail */
	ck_assert_int_eq(nrep, 0);
	pkt_at(&cv, C, SN_TCP_ACK, base + 14, connect_pkt + 14, LEN(connect_pkt) - 14);
	ck_assert_int_eq(nrep, 1);
	assert_mqtt_open(&reps[0], &cv);
}
END_TEST

START_TEST(sequence_wraparound)
{
	struct conv cv = conv4(1, 40001, 1883);
	cv.cseq = 0xfffffff8u; /* ISN + 1: the CONNECT crosses 2^32 */
	shake(&cv);
	pkt_at(&cv, C, SN_TCP_ACK, cv.cseq + 12, connect_pkt + 12, LEN(connect_pkt) - 12);
	pkt_at(&cv, C, SN_TCP_ACK, cv.cseq, connect_pkt, 12);
	ck_assert_int_eq(nrep, 1);
	assert_mqtt_open(&reps[0], &cv);
}
END_TEST

START_TEST(connect_split_1_plus_47)
{
	uint8_t b[48];
	long n = sn_test_client_bytes("mqtt-split-connect-fixedheader-1883.pcap", 1883, b, sizeof b);
	ck_assert_int_eq(n, 48);
	struct conv cv = conv4(1, 40001, 1883);
	shake(&cv);
	data(&cv, C, b, 1);
	ck_assert_int_eq(nrep, 0);
	data(&cv, C, b + 1, 47);
	ck_assert_int_eq(nrep, 1);
	ck_assert_int_eq(reps[0].evidence, SN_EVIDENCE_PAYLOAD);
	ck_assert_str_eq(reps[0].meta.client_id, "split-hdr-1");
	ck_assert_str_eq(reps[0].meta.user, "implant01");
}
END_TEST

START_TEST(detail_phase_sends_meta_update)
{
	struct conv cv = conv4(1, 40001, 1883);
	shake(&cv);
	data(&cv, C, connect_pkt, LEN(connect_pkt));
	data(&cv, S, connack_pkt, LEN(connack_pkt));
	ck_assert_int_eq(nrep, 1);
	ck_assert_uint_eq(reps[0].meta.n_topics, 0);
	data(&cv, C, publish_pkt, LEN(publish_pkt));
	ck_assert_int_eq(nrep, 2);
	const struct sn_conn_report *u = &reps[1];
	ck_assert_int_eq(u->kind, SN_REPORT_UPDATE);
	ck_assert(u->meta_changed);
	ck_assert_uint_eq(u->meta.n_topics, 1);
	ck_assert_str_eq(u->meta.topics[0], "c2/beacon");
	ck_assert_str_eq(u->meta.client_id, "sensor-1");
	/* The same topic again changes nothing. */
	data(&cv, C, publish_pkt, LEN(publish_pkt));
	ck_assert_int_eq(nrep, 2);
	/* The CLOSE carries the latest meta. */
	fin(&cv, C);
	fin(&cv, S);
	linger_out(&cv);
	ck_assert_int_eq(nrep, 4); /* the end brings an UPDATE of the counts, then CLOSE */
	ck_assert_int_eq(reps[3].kind, SN_REPORT_CLOSE);
	ck_assert_uint_eq(reps[3].meta.n_topics, 1);
}
END_TEST

START_TEST(detail_phase_ends_and_frees_buffer)
{
	make_table(64, 1);
	struct conv a = conv4(1, 40001, 1883), b = conv4(2, 40002, 1883);
	shake(&a);
	data(&a, C, connect_pkt, LEN(connect_pkt));
	/* Sixteen more client segments end the detail phase. */
	for (int k = 0; k < 16; k++)
		data(&a, C, publish_pkt, LEN(publish_pkt));
	shake(&b);
	data(&b, C, connect_pkt, LEN(connect_pkt));
	ck_assert_uint_eq(stats().pool_exhausted, 0);
	/* The one meta slot stays with a: b's OPEN still carries its meta. */
	ck_assert_uint_eq(stats().meta_exhausted, 1);
	ck_assert_int_eq(nrep, 3); /* a: OPEN, UPDATE (topic); b: OPEN */
	ck_assert_str_eq(reps[2].meta.client_id, "sensor-1");
	ck_assert_uint_eq(reps[2].client_port, 40002);
}
END_TEST

/* ---- closing ---- */

START_TEST(fin_both_ways_closes_fin)
{
	struct conv cv = conv4(1, 40001, 1883);
	shake(&cv);
	data(&cv, C, connect_pkt, LEN(connect_pkt));
	data(&cv, S, connack_pkt, LEN(connack_pkt));
	fin(&cv, C);
	ck_assert_int_eq(nrep, 1);
	fin(&cv, S);
	ck_assert_uint_eq(stats().closed, 1);
	/* the figures up to the close go out at once; CLOSE waits for the last ACK */
	ck_assert_int_eq(nrep, 2);
	const struct sn_conn_report *u = &reps[1];
	ck_assert_int_eq(u->kind, SN_REPORT_UPDATE);
	ck_assert_uint_eq(u->packets_delta[C], 1); /* the FIN after the OPEN */
	ck_assert_uint_eq(u->packets_delta[S], 2);
	ck_assert_uint_eq(u->bytes_delta[S], 40 + LEN(connack_pkt) + 40);
	c_ack(&cv);
	uint64_t last = cv.ts;
	sn_flow_table_expire(ft, last + T_CLOSED * SEC - 1, SN_FLOW_EXPIRE_BUDGET);
	ck_assert_int_eq(nrep, 2);
	ck_assert_uint_eq(stats().flows_active, 1);
	linger_out(&cv);
	ck_assert_int_eq(nrep, 3);
	const struct sn_conn_report *r = &reps[2];
	ck_assert_int_eq(r->kind, SN_REPORT_CLOSE);
	ck_assert_int_eq(r->close, SN_CLOSE_FIN);
	ck_assert_int_eq(r->proto, SN_PROTO_MQTT);
	ck_assert_str_eq(r->meta.client_id, "sensor-1");
	ck_assert_uint_eq(r->packets[C], 5); /* SYN, ACK, CONNECT, FIN, the last ACK */
	ck_assert_uint_eq(r->packets[S], 3);
	ck_assert_uint_eq(r->packets_delta[C], 1); /* the last ACK */
	ck_assert_uint_eq(r->packets_delta[S], 0);
	ck_assert_uint_eq(r->bytes_delta[C], 40);
	ck_assert_uint_eq(r->bytes[C], 40 + 40 + 40 + LEN(connect_pkt) + 40 + 40);
	ck_assert_uint_eq(r->bytes[C], reps[0].bytes[C] + u->bytes_delta[C] + r->bytes_delta[C]);
	ck_assert_uint_eq(r->last_us, last); /* LastSeen: the last packet */
	ck_assert_uint_eq(r->ts_us, last);
	struct sn_flow_stats st = stats();
	ck_assert_uint_eq(st.closed, 1);
	ck_assert_uint_eq(st.expired, 0);
	ck_assert_uint_eq(st.flows_active, 0);
	/* A late ACK does not bring it back. */
	c_ack(&cv);
	ck_assert_uint_eq(stats().flows_active, 0);
}
END_TEST

/* Whatever removes an ended flow (end of input, eviction), it ended by FIN. */
START_TEST(ended_flow_flushed_says_fin)
{
	struct conv cv = conv4(1, 40001, 1883);
	shake(&cv);
	data(&cv, C, connect_pkt, LEN(connect_pkt));
	fin(&cv, C);
	fin(&cv, S);
	c_ack(&cv);
	sn_flow_table_flush(ft, cv.ts + 5 * SEC, SN_CLOSE_END_OF_INPUT);
	ck_assert_int_eq(nrep, 3); /* OPEN, UPDATE at the close, CLOSE */
	ck_assert_int_eq(reps[2].close, SN_CLOSE_FIN);
	ck_assert_uint_eq(reps[2].ts_us, cv.ts);
	ck_assert_uint_eq(reps[2].packets[C], 5);
}
END_TEST

/* A new SYN on the 4-tuple of an ended connection starts a new one. */
START_TEST(syn_after_end_is_a_new_connection)
{
	struct conv cv = conv4(1, 40001, 1883);
	shake(&cv);
	data(&cv, C, connect_pkt, LEN(connect_pkt));
	fin(&cv, C);
	fin(&cv, S);
	c_ack(&cv);
	uint64_t first_close = cv.ts;
	cv.cseq += 100000;
	cv.sseq += 100000;
	shake(&cv);
	ck_assert_int_eq(nrep, 3); /* OPEN, UPDATE at the close, CLOSE */
	ck_assert_int_eq(reps[2].kind, SN_REPORT_CLOSE);
	ck_assert_int_eq(reps[2].close, SN_CLOSE_FIN);
	ck_assert_uint_eq(reps[2].ts_us, first_close);
	ck_assert_uint_eq(reps[2].packets[C], 5);
	data(&cv, C, connect_pkt, LEN(connect_pkt));
	ck_assert_int_eq(nrep, 4);
	ck_assert_int_eq(reps[3].kind, SN_REPORT_OPEN);
	ck_assert_uint_eq(reps[3].packets[C], 3);
	ck_assert_uint_ne(reps[3].flow_id, reps[2].flow_id);
	ck_assert_uint_eq(stats().flows_created, 2);
}
END_TEST

/* Ended flows are evicted before established ones, and not counted as evictions. */
START_TEST(ended_flows_evicted_before_established)
{
	make_table(16, 8);
	struct conv est = conv4(1, 40001, 1883);
	shake(&est); /* the oldest entry */
	for (int k = 0; k < 15; k++) {
		struct conv e = conv4((uint8_t)(2 + k), (uint16_t)(41000 + k), 1883);
		e.ts = est.ts + (uint64_t)(k + 1) * 10000;
		shake(&e);
		rst(&e, C);
	}
	ck_assert_uint_eq(stats().flows_active, 16);
	struct conv n = conv4(100, 42000, 1883);
	n.ts = est.ts + SEC;
	c_syn(&n);
	struct sn_flow_stats st = stats();
	ck_assert_uint_eq(st.flows_active, 16);
	ck_assert_uint_eq(st.evicted_established + st.evicted_half_open, 0);
	data(&est, C, connect_pkt, LEN(connect_pkt));
	ck_assert_uint_eq(stats().flows_created, 17); /* est kept its entry */
}
END_TEST

START_TEST(rst_closes_rst)
{
	struct conv cv = conv4(1, 40001, 1883);
	shake(&cv);
	data(&cv, C, connect_pkt, LEN(connect_pkt));
	rst(&cv, C);
	ck_assert_int_eq(nrep, 2);
	ck_assert_int_eq(reps[1].kind, SN_REPORT_UPDATE);
	data(&cv, S, connack_pkt, LEN(connack_pkt)); /* was on its way: counted */
	linger_out(&cv);
	ck_assert_int_eq(nrep, 3);
	ck_assert_int_eq(reps[2].kind, SN_REPORT_CLOSE);
	ck_assert_int_eq(reps[2].close, SN_CLOSE_RST);
	ck_assert_uint_eq(reps[2].packets[S], 2);
	ck_assert_uint_eq(stats().flows_active, 0);
}
END_TEST

START_TEST(pubsub_port_without_payload_reported_at_close)
{
	struct conv cv = conv4(1, 40001, 5222);
	shake(&cv);
	ck_assert_int_eq(nrep, 0);
	fin(&cv, C);
	fin(&cv, S);
	ck_assert_int_eq(nrep, 1); /* OPEN when it ended; CLOSE once it is removed */
	linger_out(&cv);
	ck_assert_int_eq(nrep, 2);
	ck_assert_int_eq(reps[0].kind, SN_REPORT_OPEN);
	ck_assert_int_eq(reps[0].proto, SN_PROTO_XMPP);
	ck_assert_int_eq(reps[0].evidence, SN_EVIDENCE_PORT);
	ck_assert_str_eq(reps[0].meta.client_id, "");
	ck_assert_int_eq(reps[1].kind, SN_REPORT_CLOSE);
	ck_assert_int_eq(reps[1].close, SN_CLOSE_FIN);
	ck_assert_uint_eq(reps[1].packets[C], 3);
}
END_TEST

START_TEST(plain_port_without_payload_not_reported)
{
	struct conv cv = conv4(1, 40001, 8080);
	shake(&cv);
	fin(&cv, C);
	fin(&cv, S);
	ck_assert_int_eq(nrep, 0);
}
END_TEST

/* ---- timeouts ---- */

START_TEST(half_open_times_out)
{
	struct conv cv = conv4(1, 40001, 1883);
	c_syn(&cv);
	sn_flow_table_expire(ft, cv.ts + T_NEW * SEC - 1, SN_FLOW_EXPIRE_BUDGET);
	ck_assert_uint_eq(stats().flows_active, 1);
	sn_flow_table_expire(ft, cv.ts + T_NEW * SEC, SN_FLOW_EXPIRE_BUDGET);
	ck_assert_uint_eq(stats().flows_active, 0);
	ck_assert_uint_eq(stats().expired, 1);
	ck_assert_int_eq(nrep, 0);
}
END_TEST

START_TEST(established_times_out)
{
	struct conv cv = conv4(1, 40001, 1883);
	shake(&cv);
	data(&cv, C, connect_pkt, LEN(connect_pkt));
	/* Past the half-open timeout but not the established one. */
	sn_flow_table_expire(ft, cv.ts + T_NEW * SEC, SN_FLOW_EXPIRE_BUDGET);
	ck_assert_uint_eq(stats().flows_active, 1);
	sn_flow_table_expire(ft, cv.ts + T_EST * SEC, SN_FLOW_EXPIRE_BUDGET);
	ck_assert_uint_eq(stats().flows_active, 0);
	ck_assert_int_eq(nrep, 2);
	ck_assert_int_eq(reps[1].close, SN_CLOSE_TIMEOUT);
	ck_assert_uint_eq(reps[1].ts_us, cv.ts + T_EST * SEC);
	ck_assert_uint_eq(reps[1].last_us, cv.ts);
	ck_assert_uint_eq(stats().expired, 1);
}
END_TEST

START_TEST(one_fin_times_out_sooner)
{
	struct conv cv = conv4(1, 40001, 1883);
	shake(&cv);
	data(&cv, C, connect_pkt, LEN(connect_pkt));
	fin(&cv, C);
	sn_flow_table_expire(ft, cv.ts + T_CLOSED * SEC - 1, SN_FLOW_EXPIRE_BUDGET);
	ck_assert_uint_eq(stats().flows_active, 1);
	sn_flow_table_expire(ft, cv.ts + T_CLOSED * SEC, SN_FLOW_EXPIRE_BUDGET);
	ck_assert_uint_eq(stats().flows_active, 0);
	ck_assert_int_eq(nrep, 2);
	ck_assert_int_eq(reps[1].close, SN_CLOSE_TIMEOUT);
}
END_TEST

START_TEST(activity_keeps_flow_alive)
{
	struct conv cv = conv4(1, 40001, 1883);
	shake(&cv);
	data(&cv, C, connect_pkt, LEN(connect_pkt));
	for (int k = 0; k < 5; k++) {
		cv.ts += (T_EST - 1) * SEC;
		c_ack(&cv);
		sn_flow_table_expire(ft, cv.ts, SN_FLOW_EXPIRE_BUDGET);
	}
	ck_assert_uint_eq(stats().flows_active, 1);
	ck_assert_uint_eq(stats().expired, 0);
}
END_TEST

START_TEST(undecided_flow_expires_with_port_evidence)
{
	struct conv cv = conv4(1, 40001, 1883);
	shake(&cv);
	data(&cv, C, connect_pkt, 5); /* a CONNECT that never completes */
	ck_assert_int_eq(nrep, 0);
	sn_flow_table_expire(ft, cv.ts + T_EST * SEC, SN_FLOW_EXPIRE_BUDGET);
	ck_assert_int_eq(nrep, 2);
	ck_assert_int_eq(reps[0].kind, SN_REPORT_OPEN);
	ck_assert_int_eq(reps[0].proto, SN_PROTO_MQTT);
	ck_assert(reps[0].evidence == SN_EVIDENCE_PORT || reps[0].evidence == SN_EVIDENCE_REFUTED);
	ck_assert_int_eq(reps[1].close, SN_CLOSE_TIMEOUT);
}
END_TEST

/* ---- capacity ---- */

START_TEST(eviction_prefers_half_open)
{
	make_table(4, 8);
	struct conv e1 = conv4(1, 40001, 1883), e2 = conv4(2, 40002, 1883);
	struct conv h1 = conv4(3, 40003, 1883), h2 = conv4(4, 40004, 1883);
	shake(&e1);
	data(&e1, C, connect_pkt, LEN(connect_pkt));
	c_syn(&h1);
	shake(&e2);
	data(&e2, C, connect_pkt, LEN(connect_pkt));
	c_syn(&h2);
	ck_assert_int_eq(nrep, 2);
	/* A SYN flood only replaces half-open flows. */
	for (uint16_t k = 0; k < 10; k++) {
		struct conv f = conv4(100, (uint16_t)(50000 + k), 1883);
		c_syn(&f);
	}
	struct sn_flow_stats st = stats();
	ck_assert_uint_eq(st.evicted_half_open, 10);
	ck_assert_uint_eq(st.evicted_established, 0);
	ck_assert_uint_eq(st.flows_active, 4);
	ck_assert_uint_eq(st.flows_half_open, 2); /* each victim replaced by a half-open flow */
	ck_assert_int_eq(nrep, 2);
	/* Both established flows still there: their packets are counted. */
	data(&e1, S, connack_pkt, LEN(connack_pkt));
	sn_flow_table_report_live(ft, e1.ts);
	ck_assert_int_eq(nrep, 3);
	ck_assert_uint_eq(reps[2].packets_delta[S], 1);
}
END_TEST

START_TEST(eviction_of_established_sends_close)
{
	make_table(2, 8);
	struct conv a = conv4(1, 40001, 1883), b = conv4(2, 40002, 1883), c = conv4(3, 40003, 1883);
	shake(&a);
	data(&a, C, connect_pkt, LEN(connect_pkt));
	b.ts = a.ts;
	shake(&b);
	data(&b, C, connect_pkt, LEN(connect_pkt));
	ck_assert_int_eq(nrep, 2);
	c.ts = b.ts;
	c_syn(&c); /* table full, no half-open flow: the oldest established goes */
	ck_assert_int_eq(nrep, 3);
	ck_assert_int_eq(reps[2].kind, SN_REPORT_CLOSE);
	ck_assert_int_eq(reps[2].close, SN_CLOSE_EVICTED);
	ck_assert_uint_eq(reps[2].client_port, 40001);
	struct sn_flow_stats st = stats();
	ck_assert_uint_eq(st.evicted_established, 1);
	ck_assert_uint_eq(st.evicted_half_open, 0);
}
END_TEST

/* The pool is empty: the stalest holder's buffer goes to the new connection. */
START_TEST(pool_empty_reclaims_stalest_holder)
{
	make_table(64, 2);
	struct conv a = conv4(1, 40001, 1883), b = conv4(2, 40002, 1883), c = conv4(3, 40003, 1883);
	shake(&a);
	data(&a, C, connect_pkt, 5); /* holds a buffer */
	shake(&b);
	b.ts = a.ts + 10;
	data(&b, C, connect_pkt, 5); /* holds the other */
	a.ts = b.ts + 10;
	pkt_at(&a, S, SN_TCP_ACK, a.sseq, NULL, 0); /* a is now more recent than b */
	c.ts = a.ts + 10;
	shake(&c);
	data(&c, C, connect_pkt, LEN(connect_pkt));
	struct sn_flow_stats st = stats();
	ck_assert_uint_eq(st.buffers_reclaimed, 1);
	ck_assert_uint_eq(st.pool_exhausted, 0);
	ck_assert_int_eq(nrep, 1);
	ck_assert_uint_eq(reps[0].client_port, 40003);
	ck_assert_int_eq(reps[0].evidence, SN_EVIDENCE_PAYLOAD);
	/* a kept its buffer (b was the stalest): the rest of its CONNECT completes it */
	data(&a, C, connect_pkt + 5, LEN(connect_pkt) - 5);
	ck_assert_int_eq(nrep, 2);
	ck_assert_uint_eq(reps[1].client_port, 40001);
	ck_assert_int_eq(reps[1].evidence, SN_EVIDENCE_PAYLOAD);
	ck_assert_str_eq(reps[1].meta.client_id, "sensor-1");
}
END_TEST

/*
 * A pool of 4 and 3 (N-1), 4 (N) or 5 (N+1) idle connections holding a
 * buffer each: a CONNECT split over two segments on a port no rule names is
 * still found, and every buffer taken from a holder is counted.
 */
START_TEST(split_connect_found_with_idle_holders)
{
	uint32_t k = (uint32_t)_i;
	make_table(64, 4);
	static const uint8_t one = 0x10;
	for (uint32_t n = 0; n < k; n++) {
		struct conv idle = conv4((uint8_t)(10 + n), (uint16_t)(41000 + n), 443);
		shake(&idle);
		data(&idle, C, &one, 1);
	}
	ck_assert_uint_eq(stats().buffers_reclaimed, k > 4 ? k - 4 : 0);
	struct conv m = conv4(1, 40001, 8080);
	m.ts += SEC;
	shake(&m);
	data(&m, C, connect_pkt, 2);
	data(&m, C, connect_pkt + 2, LEN(connect_pkt) - 2);
	ck_assert_uint_eq(stats().buffers_reclaimed, k + 1 > 4 ? k + 1 - 4 : 0);
	ck_assert_uint_eq(stats().pool_exhausted, 0);
	ck_assert_int_eq(nrep, 1);
	ck_assert_uint_eq(reps[0].server_port, 8080);
	ck_assert_int_eq(reps[0].proto, SN_PROTO_MQTT);
	ck_assert_int_eq(reps[0].evidence, SN_EVIDENCE_PAYLOAD);
}
END_TEST

/* A flow that lost its buffer undecided is never refuted by what follows. */
START_TEST(reclaimed_flow_never_refuted)
{
	make_table(64, 1);
	struct conv a = conv4(1, 40001, 1883), b = conv4(2, 40002, 1883);
	static const uint8_t one = 0x10;
	shake(&a);
	data(&a, C, &one, 1);
	b.ts = a.ts + 10;
	shake(&b);
	data(&b, C, connect_pkt, LEN(connect_pkt)); /* takes a's buffer */
	ck_assert_uint_eq(stats().buffers_reclaimed, 1);
	a.ts = b.ts + 10;
	data(&a, C, http_get, (uint32_t)strlen(http_get)); /* mid-stream now: no refutation */
	fin(&a, C);
	fin(&a, S);
	linger_out(&a);
	int close = -1;
	for (int k = 0; k < nrep; k++)
		if (reps[k].client_port == 40001 && reps[k].kind == SN_REPORT_CLOSE)
			close = k;
	ck_assert_int_ge(close, 0);
	ck_assert_int_eq(reps[close].proto, SN_PROTO_MQTT);
	ck_assert_int_eq(reps[close].evidence, SN_EVIDENCE_PORT);
}
END_TEST

START_TEST(zero_buffers_still_classify)
{
	make_table(64, 0);
	struct conv a = conv4(1, 40001, 1883);
	shake(&a);
	data(&a, C, connect_pkt, LEN(connect_pkt));
	ck_assert_int_eq(nrep, 1);
	ck_assert_int_eq(reps[0].evidence, SN_EVIDENCE_PAYLOAD);
	fin(&a, C);
	fin(&a, S);
	linger_out(&a);
	ck_assert_int_eq(nrep, 3);
	ck_assert_int_eq(reps[2].kind, SN_REPORT_CLOSE);
	ck_assert_int_eq(reps[2].proto, SN_PROTO_MQTT);
}
END_TEST

/* ---- verdicts ---- */

START_TEST(http_on_mqtt_port_is_refuted)
{
	struct conv cv = conv4(1, 40001, 1883);
	shake(&cv);
	data(&cv, C, http_get, (uint32_t)strlen(http_get));
	ck_assert_int_eq(nrep, 1);
	ck_assert_int_eq(reps[0].kind, SN_REPORT_OPEN);
	ck_assert_int_eq(reps[0].proto, SN_PROTO_MQTT);
	ck_assert_int_eq(reps[0].port_proto, SN_PROTO_MQTT);
	ck_assert_int_eq(reps[0].evidence, SN_EVIDENCE_REFUTED);
	ck_assert_str_eq(reps[0].meta.client_id, "");
	ck_assert_uint_eq(stats().confirmed, 0);
	ck_assert_uint_eq(stats().classified, 1);
}
END_TEST

START_TEST(http_on_plain_port_not_reported)
{
	struct conv cv = conv4(1, 40001, 80);
	shake(&cv);
	data(&cv, C, http_get, (uint32_t)strlen(http_get));
	data(&cv, S, "HTTP/1.0 200 OK\r\n\r\n", 19);
	fin(&cv, C);
	fin(&cv, S);
	ck_assert_int_eq(nrep, 0);
	ck_assert_uint_eq(stats().classified, 1);
}
END_TEST

START_TEST(tls_on_tls_port_is_tls_evidence)
{
	static uint8_t b[8192];
	uint32_t n = client_hello("mqtt-tls-8883-paho.pcap", 8883, b, sizeof b);
	struct conv cv = conv4(1, 40001, 8883);
	shake(&cv);
	data(&cv, C, b, n);
	ck_assert_int_eq(nrep, 1);
	ck_assert_int_eq(reps[0].proto, SN_PROTO_MQTT);
	ck_assert_int_eq(reps[0].evidence, SN_EVIDENCE_TLS);
	ck_assert_int_eq(reps[0].port_proto, SN_PROTO_MQTT);
	ck_assert(reps[0].port_is_tls);
	ck_assert_int_eq(reps[0].meta.carrier, SN_CARRIER_TLS);
}
END_TEST

START_TEST(tls_on_443_not_reported)
{
	static uint8_t b[8192];
	uint32_t n = client_hello("mqtt-tls-8883-paho.pcap", 8883, b, sizeof b);
	struct conv cv = conv4(1, 40001, 443);
	shake(&cv);
	data(&cv, C, b, n);
	fin(&cv, C);
	fin(&cv, S);
	ck_assert_int_eq(nrep, 0);
	ck_assert_uint_eq(stats().classified, 1);
	ck_assert_uint_eq(stats().confirmed, 0);
}
END_TEST

START_TEST(clear_text_on_tls_port_is_refuted)
{
	struct conv cv = conv4(1, 40001, 8883);
	shake(&cv);
	data(&cv, C, http_get, (uint32_t)strlen(http_get));
	ck_assert_int_eq(nrep, 1);
	ck_assert_int_eq(reps[0].evidence, SN_EVIDENCE_REFUTED);
	ck_assert(reps[0].port_is_tls);
}
END_TEST

START_TEST(mqtt_on_nonstandard_port)
{
	uint8_t b[512];
	long n = sn_test_client_bytes("mqtt-nonstd-port-8080.pcap", 8080, b, sizeof b);
	ck_assert_int_gt(n, 0);
	struct conv cv = conv4(1, 40001, 8080);
	shake(&cv);
	data(&cv, C, b, (uint32_t)n);
	ck_assert_int_ge(nrep, 1);
	ck_assert_int_eq(reps[0].proto, SN_PROTO_MQTT);
	ck_assert_int_eq(reps[0].port_proto, SN_PROTO_NONE);
	ck_assert_int_eq(reps[0].evidence, SN_EVIDENCE_PAYLOAD);
	ck_assert_str_eq(reps[0].meta.client_id, "np8080-1");
}
END_TEST

/* ---- live updates and flush ---- */

START_TEST(report_live_sends_deltas)
{
	struct conv cv = conv4(1, 40001, 1883);
	shake(&cv);
	data(&cv, C, connect_pkt, LEN(connect_pkt));
	sn_flow_table_report_live(ft, cv.ts);
	ck_assert_int_eq(nrep, 1); /* nothing new since the OPEN */
	data(&cv, S, connack_pkt, LEN(connack_pkt));
	sn_flow_table_report_live(ft, cv.ts + 5);
	ck_assert_int_eq(nrep, 2);
	const struct sn_conn_report *u = &reps[1];
	ck_assert_int_eq(u->kind, SN_REPORT_UPDATE);
	ck_assert(!u->meta_changed);
	ck_assert_uint_eq(u->ts_us, cv.ts + 5);
	ck_assert_uint_eq(u->bytes_delta[S], 40 + LEN(connack_pkt));
	ck_assert_uint_eq(u->packets_delta[S], 1);
	ck_assert_uint_eq(u->bytes_delta[C], 0);
	ck_assert_str_eq(u->meta.client_id, "sensor-1");
	sn_flow_table_report_live(ft, cv.ts + 6);
	ck_assert_int_eq(nrep, 2);
}
END_TEST

/* ---- client message times (msgtiming.h) ---- */

static const uint8_t pingreq_pkt[] = { 0xc0, 0x00 };

/* CONNECT, then a PINGREQ every 30 s (the first in the detail phase). */
static void pinging(struct conv *cv, int pings)
{
	shake(cv);
	data(cv, C, connect_pkt, LEN(connect_pkt));
	data(cv, S, connack_pkt, LEN(connack_pkt));
	for (int i = 0; i < pings; i++) {
		cv->ts += 30 * SEC;
		data(cv, C, pingreq_pkt, LEN(pingreq_pkt));
		data(cv, S, "\xd0\x00", 2); /* PINGRESP */
	}
}

START_TEST(message_times_in_reports)
{
	struct conv cv = conv4(1, 40001, 1883);
	pinging(&cv, 3);
	sn_flow_table_report_live(ft, cv.ts);
	const struct sn_conn_report *u = &reps[nrep - 1];
	ck_assert_int_eq(u->kind, SN_REPORT_UPDATE);
	ck_assert_uint_eq(u->msgs.timing, SN_MSGT_FOLLOWED);
	ck_assert_uint_eq(u->msgs.messages[SN_MSG_KEEPALIVE], 3); /* live reports carry them too */
	for (int i = 0; i < 4; i++) {
		cv.ts += 30 * SEC;
		data(&cv, C, pingreq_pkt, LEN(pingreq_pkt));
	}
	data(&cv, C, publish_pkt, LEN(publish_pkt));
	fin(&cv, C);
	fin(&cv, S);
	c_ack(&cv);
	linger_out(&cv);
	const struct sn_conn_report *r = &reps[nrep - 1];
	ck_assert_int_eq(r->kind, SN_REPORT_CLOSE);
	ck_assert_uint_eq(r->msgs.timing, SN_MSGT_FOLLOWED);
	ck_assert_uint_eq(r->msgs.messages[SN_MSG_KEEPALIVE], 7);
	ck_assert_uint_eq(r->msgs.messages[SN_MSG_PUBLISH], 1);
	ck_assert_uint_eq(r->msgs.rhythm[SN_MSG_KEEPALIVE].samples, 6);
	ck_assert_uint_ge(r->msgs.rhythm[SN_MSG_KEEPALIVE].interval_ms, 30000); /* +1 ms a packet */
	ck_assert_uint_le(r->msgs.rhythm[SN_MSG_KEEPALIVE].interval_ms, 30002);
	struct sn_flow_stats st = stats();
	ck_assert_uint_eq(st.msg_followed, 1);
	ck_assert_uint_eq(st.msg_lost, 0);
}
END_TEST

START_TEST(message_timing_lost_at_gap)
{
	struct conv cv = conv4(1, 40001, 1883);
	pinging(&cv, 2);
	cv.cseq += 2; /* a PINGREQ the capture missed */
	for (int i = 0; i < 4; i++) {
		cv.ts += 30 * SEC;
		data(&cv, C, pingreq_pkt, LEN(pingreq_pkt));
	}
	sn_flow_table_flush(ft, cv.ts, SN_CLOSE_END_OF_INPUT);
	const struct sn_conn_report *r = &reps[nrep - 1];
	ck_assert_uint_eq(r->msgs.timing, SN_MSGT_GAP);
	ck_assert_uint_eq(r->msgs.messages[SN_MSG_KEEPALIVE], 2);
	ck_assert_uint_eq(stats().msg_lost, 1);
}
END_TEST

/* The timing of the CLOSE report of the connection from client port `port`. */
static int closed_timing(uint16_t port)
{
	for (int i = 0; i < nrep && i < MAXREP; i++)
		if (reps[i].kind == SN_REPORT_CLOSE && reps[i].client_port == port) {
			ck_assert_int_eq(reps[i].proto, SN_PROTO_MQTT); /* the verdict is the same */
			return reps[i].msgs.timing;
		}
	ck_abort_msg("no CLOSE from port %u", port);
	return -1;
}

/* A pool of 0: nothing to take, the connection is not timed and says so. */
START_TEST(message_timing_pool_full)
{
	msg_states = 0;
	make_table(64, 8);
	struct conv a = conv4(1, 40001, 1883);
	pinging(&a, 1);
	sn_flow_table_flush(ft, a.ts, SN_CLOSE_END_OF_INPUT);
	ck_assert_int_eq(nrep, 2);
	ck_assert_int_eq(closed_timing(40001), SN_MSGT_NO_STATE);
	ck_assert_uint_eq(stats().msg_pool_full, 1);
	ck_assert_uint_eq(stats().msg_reclaimed, 0);
}
END_TEST

/*
 * A pool of N = 2 follow states and N - 1, N, N + 1 MQTT connections:
 * every connection opens (CONNECT) in port order, then the first sends a
 * PINGREQ, so the second is the least recently active holder.  Up to N
 * every one is timed; connection N + 1 takes the second's state: the
 * second's CLOSE says reclaimed, the first and the newcomer are timed to
 * their end (their PINGREQs counted), msg_timing_reclaimed is 1.
 */
START_TEST(message_timing_pool_reclaims_least_recent)
{
	enum { N = 2 };
	for (int holders = N - 1; holders <= N + 1; holders++) {
		nrep = 0;
		msg_states = N;
		make_table(64, 8);
		struct conv cv[N + 1];
		for (int h = 0; h < holders; h++) {
			cv[h] = conv4((uint8_t)(1 + h), (uint16_t)(40001 + h), 1883);
			if (h > 0)
				cv[h].ts = cv[h - 1].ts + SEC;
			if (h == N) { /* the first connection was active since the second */
				cv[0].ts = cv[h].ts - SEC / 2;
				data(&cv[0], C, pingreq_pkt, LEN(pingreq_pkt));
			}
			shake(&cv[h]);
			data(&cv[h], C, connect_pkt, LEN(connect_pkt));
			data(&cv[h], S, connack_pkt, LEN(connack_pkt));
		}
		uint64_t end = cv[holders - 1].ts;
		for (int h = 0; h < holders; h++) {
			cv[h].ts = end + (uint64_t)(h + 1) * 30 * SEC;
			data(&cv[h], C, pingreq_pkt, LEN(pingreq_pkt));
		}
		sn_flow_table_flush(ft, end + 100 * SEC, SN_CLOSE_END_OF_INPUT);
		struct sn_flow_stats st = stats();
		ck_assert_uint_eq(st.msg_followed, (uint64_t)holders);
		ck_assert_uint_eq(st.msg_pool_full, 0);
		ck_assert_uint_eq(st.msg_reclaimed, holders > N ? 1 : 0);
		for (int h = 0; h < holders; h++) {
			bool taken = holders > N && h == 1;
			ck_assert_int_eq(closed_timing((uint16_t)(40001 + h)),
					 taken ? SN_MSGT_RECLAIMED : SN_MSGT_FOLLOWED);
			for (int i = 0; i < nrep && i < MAXREP; i++)
				if (reps[i].kind == SN_REPORT_CLOSE && reps[i].client_port == 40001 + h)
					ck_assert_uint_eq(reps[i].msgs.messages[SN_MSG_KEEPALIVE],
							  taken ? 0 : (h == 0 && holders > N ? 2 : 1));
		}
	}
}
END_TEST

/* Only MQTT in clear is followed. */
START_TEST(message_timing_only_mqtt)
{
	struct conv cv = conv4(1, 40001, 61613);
	shake(&cv);
	static const char stomp_connect[] = "CONNECT\naccept-version:1.2\n\n"; /* NUL ends it */
	static const char stomp_connected[] = "CONNECTED\nversion:1.2\n\n";
	data(&cv, C, stomp_connect, LEN(stomp_connect));
	data(&cv, S, stomp_connected, LEN(stomp_connected));
	data(&cv, C, pingreq_pkt, LEN(pingreq_pkt));
	sn_flow_table_flush(ft, cv.ts, SN_CLOSE_END_OF_INPUT);
	ck_assert_int_eq(reps[nrep - 1].proto, SN_PROTO_STOMP);
	ck_assert_uint_eq(reps[nrep - 1].msgs.timing, SN_MSGT_NONE);
	ck_assert_uint_eq(stats().msg_followed, 0);
}
END_TEST

START_TEST(report_live_skips_unreported)
{
	struct conv a = conv4(1, 40001, 80);
	shake(&a);
	data(&a, C, http_get, (uint32_t)strlen(http_get));
	sn_flow_table_report_live(ft, a.ts);
	ck_assert_int_eq(nrep, 0);
}
END_TEST

START_TEST(flush_closes_everything_in_order)
{
	struct conv a = conv4(1, 40001, 1883), b = conv4(2, 40002, 5672), h = conv4(3, 40003, 1883);
	shake(&a);
	data(&a, C, connect_pkt, LEN(connect_pkt)); /* reported */
	b.ts = a.ts;
	shake(&b);                                  /* established, no payload */
	h.ts = b.ts;
	c_syn(&h);                                  /* half-open: silent */
	ck_assert_int_eq(nrep, 1);
	sn_flow_table_flush(ft, h.ts + 1, SN_CLOSE_END_OF_INPUT);
	ck_assert_int_eq(nrep, 4);
	ck_assert_int_eq(reps[1].kind, SN_REPORT_CLOSE);
	ck_assert_uint_eq(reps[1].client_port, 40001);
	ck_assert_int_eq(reps[1].close, SN_CLOSE_END_OF_INPUT);
	ck_assert_int_eq(reps[2].kind, SN_REPORT_OPEN);
	ck_assert_int_eq(reps[2].proto, SN_PROTO_AMQP);
	ck_assert_int_eq(reps[2].evidence, SN_EVIDENCE_PORT);
	ck_assert_int_eq(reps[3].kind, SN_REPORT_CLOSE);
	ck_assert_uint_eq(reps[3].client_port, 40002);
	ck_assert_uint_eq(reps[3].ts_us, h.ts + 1);
	ck_assert_uint_eq(stats().flows_active, 0);
	ck_assert_uint_eq(stats().flows_half_open, 0);
}
END_TEST

/* ---- keys and counters ---- */

START_TEST(bytes_from_ip_length_not_caplen)
{
	struct conv cv = conv4(1, 40001, 1883);
	shake(&cv);
	data(&cv, C, connect_pkt, LEN(connect_pkt));
	struct sn_packet p;
	memset(&p, 0, sizeof p);
	p.ts_us = cv.ts + 1;
	p.src = cv.s, p.dst = cv.c, p.sport = cv.sp, p.dport = cv.cp;
	p.tcp_flags = SN_TCP_ACK;
	p.seq = cv.sseq;
	p.ip_bytes = 1500;          /* a full-size segment ... */
	p.payload_wire_len = 1460;
	p.payload = connack_pkt;    /* ... of which 4 bytes were captured */
	p.payload_len = 4;
	sn_flow_table_process(ft, &p);
	sn_flow_table_report_live(ft, p.ts_us);
	ck_assert_int_eq(nrep, 2);
	ck_assert_uint_eq(reps[1].bytes_delta[S], 1500);
	ck_assert_uint_eq(reps[1].bytes[S], 40 + 1500);
}
END_TEST

START_TEST(vlan_is_part_of_key)
{
	struct conv a = conv4(1, 40001, 1883), b = conv4(1, 40001, 1883);
	a.vlan = 10;
	b.vlan = 20;
	shake(&a);
	shake(&b);
	data(&a, C, connect_pkt, LEN(connect_pkt));
	data(&b, C, connect_pkt, LEN(connect_pkt));
	ck_assert_uint_eq(stats().flows_created, 2);
	ck_assert_int_eq(nrep, 2);
	ck_assert_uint_eq(reps[0].vlan, 10);
	ck_assert_uint_eq(reps[1].vlan, 20);
	ck_assert_uint_eq(reps[0].packets[C], 3);
}
END_TEST

START_TEST(ipv6_flow)
{
	struct conv cv = conv4(1, 40001, 1883);
	cv.c.family = cv.s.family = 6;
	memset(cv.c.b, 0, 16);
	memset(cv.s.b, 0, 16);
	cv.c.b[0] = 0x20, cv.c.b[1] = 0x01, cv.c.b[2] = 0x0d, cv.c.b[3] = 0xb8, cv.c.b[15] = 0x01;
	cv.s.b[0] = 0x20, cv.s.b[1] = 0x01, cv.s.b[2] = 0x0d, cv.s.b[3] = 0xb8, cv.s.b[15] = 0x02;
	/* Same low 4 bytes as an IPv4 flow would use must not collide. */
	struct conv v4 = conv4(1, 40001, 1883);
	memcpy(v4.c.b, cv.c.b, 4);
	memcpy(v4.s.b, cv.s.b, 4);
	shake(&cv);
	shake(&v4);
	data(&cv, C, connect_pkt, LEN(connect_pkt));
	ck_assert_uint_eq(stats().flows_created, 2);
	ck_assert_int_eq(nrep, 1);
	ck_assert_uint_eq(reps[0].client.family, 6);
	ck_assert_mem_eq(reps[0].client.b, cv.c.b, 16);
	ck_assert_mem_eq(reps[0].server.b, cv.s.b, 16);
	ck_assert_uint_eq(reps[0].bytes[C], 60 * 3 + LEN(connect_pkt));
}
END_TEST

START_TEST(same_ports_both_ends)
{
	struct conv cv = conv4(1, 1883, 1883);
	shake(&cv);
	data(&cv, C, connect_pkt, LEN(connect_pkt));
	ck_assert_int_eq(nrep, 1);
	assert_mqtt_open(&reps[0], &cv);
}
END_TEST

/* Many packets over many flows in a small table: invariants hold. */
START_TEST(a_million_packets)
{
	make_table(1024, 64);
	struct conv cv = conv4(1, 1024, 1883);
	uint64_t sent = 0;
	for (uint32_t k = 0; k < 1000000; k++) {
		cv.cp = (uint16_t)(1024 + (k * 7919u) % 5000u);
		cv.c.b[3] = (uint8_t)(k % 7);
		switch (k % 5) {
		case 0:
			c_syn(&cv);
			break;
		case 1:
			s_synack(&cv);
			break;
		case 2:
			data(&cv, C, connect_pkt, LEN(connect_pkt));
			break;
		case 3:
			data(&cv, S, connack_pkt, LEN(connack_pkt));
			break;
		default:
			if (k % 35 == 4)
				rst(&cv, S);
			else
				c_ack(&cv);
			break;
		}
		sent++;
		sn_flow_table_expire(ft, cv.ts, SN_FLOW_EXPIRE_BUDGET);
		if (k % 100000 == 0)
			sn_flow_table_report_live(ft, cv.ts);
	}
	struct sn_flow_stats st = stats();
	ck_assert_uint_eq(sent, 1000000);
	ck_assert_uint_le(st.flows_active, 1024);
	ck_assert_uint_gt(st.flows_created, 1024);
	sn_flow_table_flush(ft, cv.ts, SN_CLOSE_SHUTDOWN);
	st = stats();
	ck_assert_uint_eq(st.flows_active, 0);
	ck_assert_uint_eq(st.flows_half_open, 0);
	ck_assert_uint_eq(st.reports, (uint64_t)nrep);
}
END_TEST

START_TEST(create_rejects_zero_capacity)
{
	struct sn_flow_config cfg = { .max_flows = 0 };
	ck_assert_ptr_null(sn_flow_table_create(&cfg, 1));
}
END_TEST

/* ---- the index under churn ---- */

/*
 * 64 established flows in a table of 64: every later packet of each must
 * find its entry (no new entry, no eviction), also after half of them
 * closed and new ones reused their entries.
 */
START_TEST(churn_keeps_flows_findable)
{
	struct conv cv[96];
	make_table(64, 8);
	for (int k = 0; k < 96; k++)
		cv[k] = conv4((uint8_t)(1 + k), (uint16_t)(30000 + 7 * k), (uint16_t)(2000 + k));
	for (int k = 0; k < 64; k++)
		shake(&cv[k]);
	for (int round = 0; round < 3; round++)
		for (int k = 0; k < 64; k++)
			data(&cv[(k * 37 + round) % 64], C, http_get, LEN(http_get));
	struct sn_flow_stats st = stats();
	ck_assert_uint_eq(st.flows_created, 64);
	ck_assert_uint_eq(st.flows_active, 64);
	ck_assert_uint_eq(st.evicted_half_open + st.evicted_established, 0);
	for (int k = 0; k < 64; k += 2)
		rst(&cv[k], C);
	for (int k = 64; k < 96; k++)
		shake(&cv[k]);
	for (int k = 1; k < 96; k += 2)
		data(&cv[k], S, http_get, LEN(http_get));
	for (int k = 64; k < 96; k += 2)
		data(&cv[k], C, http_get, LEN(http_get));
	st = stats();
	ck_assert_uint_eq(st.flows_created, 96);
	ck_assert_uint_eq(st.flows_active, 64);
	ck_assert_uint_eq(st.closed, 32);
	ck_assert_uint_eq(st.evicted_half_open + st.evicted_established, 0);
}
END_TEST

/* Entries come from a high-water mark, then from freed ones, then by eviction. */
START_TEST(fill_reuse_then_evict)
{
	make_table(8, 8);
	struct conv cv[10];
	for (int k = 0; k < 10; k++)
		cv[k] = conv4((uint8_t)(1 + k), (uint16_t)(40000 + k), 1883);
	for (int k = 0; k < 8; k++)
		c_syn(&cv[k]);
	ck_assert_uint_eq(stats().flows_active, 8);
	rst(&cv[3], C);
	c_syn(&cv[8]); /* takes the freed entry: nothing evicted */
	ck_assert_uint_eq(stats().evicted_half_open, 0);
	c_syn(&cv[9]); /* table full: the oldest half-open flow goes */
	struct sn_flow_stats st = stats();
	ck_assert_uint_eq(st.evicted_half_open, 1);
	ck_assert_uint_eq(st.flows_active, 8);
	ck_assert_uint_eq(st.flows_created, 10);
	/* cv[0] was the one evicted: its SYN-ACK finds nothing and starts a new entry */
	s_synack(&cv[1]);
	ck_assert_uint_eq(stats().flows_created, 10);
	s_synack(&cv[0]);
	ck_assert_uint_eq(stats().flows_created, 11);
}
END_TEST

/* The same packets give the same reports whatever the hash seed. */
static int run_with_seed(uint64_t seed, struct sn_conn_report *out, int cap)
{
	struct sn_flow_config cfg = {
		.max_flows = 16, .classify_buffers = 4, .buffer_bytes = 2048,
		.timeout_new_s = T_NEW, .timeout_established_s = T_EST,
		.timeout_closed_s = T_CLOSED, .port_map = port_map, .report = on_report,
	};
	sn_flow_table_destroy(ft);
	ft = sn_flow_table_create(&cfg, seed);
	ck_assert_ptr_nonnull(ft);
	nrep = 0;
	for (int k = 0; k < 40; k++) {
		struct conv cv = conv4((uint8_t)(k % 7), (uint16_t)(41000 + k), 1883);
		cv.ts += (uint64_t)k * 5000;
		shake(&cv);
		data(&cv, C, connect_pkt, LEN(connect_pkt));
		if (k % 3 == 0) {
			fin(&cv, C);
			fin(&cv, S);
		}
	}
	sn_flow_table_flush(ft, 1800000000 * SEC, SN_CLOSE_END_OF_INPUT);
	int n = nrep < cap ? nrep : cap;
	memcpy(out, reps, (size_t)n * sizeof *out);
	return nrep;
}

START_TEST(reports_independent_of_seed)
{
	static struct sn_conn_report a[MAXREP], b[MAXREP];
	int na = run_with_seed(1, a, MAXREP);
	int nb = run_with_seed(0xfeedfacecafebeefULL, b, MAXREP);
	ck_assert_int_eq(na, nb);
	ck_assert_int_gt(na, 40);
	for (int k = 0; k < na && k < MAXREP; k++) {
		ck_assert_int_eq(a[k].kind, b[k].kind);
		ck_assert_uint_eq(a[k].client_port, b[k].client_port);
		ck_assert_uint_eq(a[k].ts_us, b[k].ts_us);
		ck_assert_int_eq(a[k].close, b[k].close);
		ck_assert_uint_eq(a[k].bytes[0], b[k].bytes[0]);
		ck_assert_uint_eq(a[k].packets[1], b[k].packets[1]);
	}
}
END_TEST

/* ---- SYN-ACK without a SYN: spoofed, backscatter, or a lost SYN ---- */

/*
 * The end of input closes the answered flows with their reports and drops
 * the half-open ones at once: nothing is reported for those, their first-
 * bytes buffers return to the pool, and the table starts over usable.
 */
START_TEST(flush_drops_half_open_and_table_stays_usable)
{
	static const uint8_t first[] = { 0x10 }; /* an MQTT CONNECT's first byte: undecided */
	struct conv a = conv4(1, 40001, 1883);
	shake(&a);
	data(&a, C, connect_pkt, LEN(connect_pkt));
	ck_assert_int_eq(nrep, 1);
	for (uint8_t k = 0; k < 8; k++) { /* one-way data: half-open, holding a buffer */
		struct conv h = conv4((uint8_t)(10 + k), (uint16_t)(41000 + k), 1883);
		c_syn(&h);
		data(&h, C, first, LEN(first));
	}
	for (uint8_t k = 0; k < 20; k++) {
		struct conv h = conv4((uint8_t)(30 + k), (uint16_t)(42000 + k), 1883);
		c_syn(&h);
	}
	struct conv sa = conv4(60, 43000, 1883);
	s_synack(&sa);
	ck_assert_uint_eq(stats().flows_active, 30);
	ck_assert_uint_eq(stats().flows_half_open, 29);
	uint64_t reclaimed = stats().buffers_reclaimed;
	sn_flow_table_flush(ft, sa.ts + 10, SN_CLOSE_END_OF_INPUT);
	ck_assert_int_eq(nrep, 2);
	ck_assert_int_eq(reps[1].kind, SN_REPORT_CLOSE);
	ck_assert_uint_eq(reps[1].client_port, 40001);
	ck_assert_uint_eq(stats().flows_active, 0);
	ck_assert_uint_eq(stats().flows_half_open, 0);
	/* every buffer is free again: eight new holders need no reclaim */
	for (uint8_t k = 0; k < 8; k++) {
		struct conv h = conv4((uint8_t)(70 + k), (uint16_t)(44000 + k), 1883);
		c_syn(&h);
		data(&h, C, first, LEN(first));
	}
	ck_assert_uint_eq(stats().buffers_reclaimed, reclaimed);
	ck_assert_uint_eq(stats().pool_exhausted, 0);
	/* a half-open key from before the flush is a new flow now */
	struct conv again = conv4(30, 42000, 1883);
	shake(&again);
	data(&again, C, connect_pkt, LEN(connect_pkt));
	ck_assert_int_eq(nrep, 3);
	assert_mqtt_open(&reps[2], &again);
	ck_assert_uint_eq(reps[2].flow_id, 39); /* ids go on counting */
	ck_assert_uint_eq(stats().flows_active, 9);
}
END_TEST

START_TEST(synack_alone_stays_half_open_and_unreported)
{
	struct conv cv = conv4(1, 40001, 1883);
	s_synack(&cv);
	struct sn_flow_stats st = stats();
	ck_assert_uint_eq(st.flows_active, 1);
	ck_assert_uint_eq(st.flows_half_open, 1);
	/* times out as half-open (T_NEW), not established (T_EST) */
	sn_flow_table_expire(ft, cv.ts + T_NEW * SEC - 1, SN_FLOW_EXPIRE_BUDGET);
	ck_assert_uint_eq(stats().flows_active, 1);
	sn_flow_table_expire(ft, cv.ts + T_NEW * SEC, SN_FLOW_EXPIRE_BUDGET);
	ck_assert_uint_eq(stats().flows_active, 0);
	ck_assert_int_eq(nrep, 0); /* no port-evidence connection from port 1883 */
}
END_TEST

START_TEST(synack_then_handshake_ack_establishes)
{
	struct conv cv = conv4(1, 40001, 1883);
	s_synack(&cv); /* the SYN was not captured */
	c_ack(&cv);
	ck_assert_uint_eq(stats().flows_half_open, 0);
	data(&cv, C, connect_pkt, LEN(connect_pkt));
	ck_assert_int_eq(nrep, 1);
	assert_mqtt_open(&reps[0], &cv);
}
END_TEST

START_TEST(synack_then_wrong_ack_stays_half_open)
{
	struct conv cv = conv4(1, 40001, 1883);
	s_synack(&cv);
	cv.sseq += 7; /* acknowledges something the SYN-ACK did not send */
	c_ack(&cv);
	ck_assert_uint_eq(stats().flows_half_open, 1);
	sn_flow_table_flush(ft, cv.ts, SN_CLOSE_END_OF_INPUT);
	ck_assert_int_eq(nrep, 0);
}
END_TEST

START_TEST(synack_then_client_data_with_its_ack_establishes)
{
	struct conv cv = conv4(1, 40001, 1883);
	s_synack(&cv);
	data(&cv, C, connect_pkt, LEN(connect_pkt)); /* the bare ACK was lost */
	ck_assert_uint_eq(stats().flows_half_open, 0);
	ck_assert_int_eq(nrep, 1);
	assert_mqtt_open(&reps[0], &cv);
}
END_TEST

START_TEST(synack_then_data_both_ways_establishes)
{
	struct conv cv = conv4(1, 40001, 1883);
	s_synack(&cv);
	cv.sseq += 100; /* the client's segments acknowledge nothing the SYN-ACK sent */
	data(&cv, S, connack_pkt, LEN(connack_pkt));
	ck_assert_uint_eq(stats().flows_half_open, 1);
	cv.sseq += 100;
	data(&cv, C, connect_pkt, LEN(connect_pkt));
	ck_assert_uint_eq(stats().flows_half_open, 0);
}
END_TEST

/*
 * A table of 64: one established connection and 62 (N-2), 63 (N-1: full)
 * and 64 (N: one more than fits) spoofed SYN-ACKs.  The SYN-ACK flows
 * evict each other, never the established one.
 */
START_TEST(synack_flood_never_evicts_established)
{
	struct conv real = conv4(1, 40001, 1883);
	shake(&real);
	data(&real, C, connect_pkt, LEN(connect_pkt));
	ck_assert_int_eq(nrep, 1);
	for (int k = 0; k < 200; k++) {
		struct conv sp = conv4((uint8_t)(2 + k % 200), (uint16_t)(30000 + k), 1883);
		sp.ts = real.ts + (uint64_t)k;
		s_synack(&sp);
		struct sn_flow_stats st = stats();
		ck_assert_uint_eq(st.evicted_established, 0);
		ck_assert_uint_eq(st.evicted_half_open, k < 63 ? 0u : (uint64_t)(k - 62));
		ck_assert_uint_eq(st.flows_active, k < 63 ? (uint64_t)k + 2 : 64u);
	}
	ck_assert_int_eq(nrep, 1); /* no CLOSE of the real one, no OPEN of a spoofed one */
	data(&real, S, connack_pkt, LEN(connack_pkt));
	sn_flow_table_flush(ft, real.ts + SEC, SN_CLOSE_END_OF_INPUT);
	ck_assert_int_eq(nrep, 2);
	ck_assert_int_eq(reps[1].kind, SN_REPORT_CLOSE);
	ck_assert_int_eq(reps[1].close, SN_CLOSE_END_OF_INPUT);
	ck_assert_uint_eq(reps[1].client_port, 40001);
}
END_TEST

/* ---- expiry in slices ---- */

/* n half-open flows from distinct clients, all due at the same time. */
static void syn_flows(uint32_t n)
{
	for (uint32_t k = 0; k < n; k++) {
		struct conv cv = conv4((uint8_t)(k % 250), (uint16_t)(10000 + k), 1883);
		c_syn(&cv);
	}
}

/* A budget of 8 and 7 (N-1), 8 (N) or 9 (N+1) flows due. */
START_TEST(expire_closes_at_most_budget)
{
	uint32_t n = (uint32_t)_i;
	syn_flows(n);
	uint64_t due = 1700000000 * SEC + 1000 + T_NEW * SEC;
	bool more = sn_flow_table_expire(ft, due, 8);
	struct sn_flow_stats st = stats();
	ck_assert_uint_eq(st.expired, n < 8 ? n : 8);
	ck_assert_uint_eq(st.flows_active, n - st.expired);
	ck_assert(more == (n > 8));
	ck_assert(!sn_flow_table_expire(ft, due, 8));
	ck_assert_uint_eq(stats().flows_active, 0);
	ck_assert_uint_eq(stats().expired, n);
}
END_TEST

/* 3,000 due flows: three calls of the default budget, none closes more. */
START_TEST(expire_in_slices_until_done)
{
	make_table(4096, 8);
	syn_flows(3000);
	uint64_t due = 1700000000 * SEC + 1000 + T_NEW * SEC;
	uint64_t before = 0;
	int calls = 0;
	bool more;
	do {
		more = sn_flow_table_expire(ft, due, SN_FLOW_EXPIRE_BUDGET);
		uint64_t now = stats().expired;
		ck_assert_uint_le(now - before, SN_FLOW_EXPIRE_BUDGET);
		before = now;
		calls++;
		ck_assert_int_le(calls, 3);
	} while (more);
	ck_assert_int_eq(calls, 3);
	ck_assert_uint_eq(stats().expired, 3000);
	ck_assert_uint_eq(stats().flows_active, 0);
}
END_TEST

/* ---- flow ids ---- */

START_TEST(flow_id_stable_across_reports_and_unique)
{
	struct conv a = conv4(1, 40001, 1883), b = conv4(2, 40002, 1883);
	shake(&a);
	shake(&b); /* created second */
	data(&a, C, connect_pkt, LEN(connect_pkt));
	data(&b, C, connect_pkt, LEN(connect_pkt));
	data(&a, S, connack_pkt, LEN(connack_pkt));
	sn_flow_table_report_live(ft, a.ts);
	fin(&a, C);
	fin(&a, S);
	sn_flow_table_flush(ft, b.ts + 10, SN_CLOSE_END_OF_INPUT);
	ck_assert_int_eq(nrep, 6); /* a: OPEN, UPDATE, UPDATE (its FINs), CLOSE; b: OPEN, CLOSE */
	uint64_t ida = 0, idb = 0;
	for (int k = 0; k < nrep; k++) {
		uint64_t *id = reps[k].client_port == 40001 ? &ida : &idb;
		if (*id == 0)
			*id = reps[k].flow_id;
		ck_assert_uint_eq(reps[k].flow_id, *id);
	}
	ck_assert_uint_eq(ida, 1); /* worker 0, the first flow */
	ck_assert_uint_eq(idb, 2);
	/* a new flow on a reused 5-tuple is a new connection: a new id */
	nrep = 0;
	struct conv a2 = conv4(1, 40001, 1883);
	a2.ts = b.ts + 20 * SEC;
	shake(&a2);
	data(&a2, C, connect_pkt, LEN(connect_pkt));
	ck_assert_int_eq(nrep, 1);
	ck_assert_uint_eq(reps[0].flow_id, 3);
}
END_TEST

START_TEST(flow_id_carries_worker_index)
{
	sn_flow_table_set_worker(ft, 63);
	struct conv a = conv4(1, 40001, 1883);
	shake(&a);
	data(&a, C, connect_pkt, LEN(connect_pkt));
	ck_assert_int_eq(nrep, 1);
	ck_assert_uint_eq(reps[0].flow_id, (63ULL << SN_FLOW_ID_WORKER_SHIFT) | 1);
	sn_flow_table_set_worker(ft, UINT16_MAX);
	struct conv b = conv4(2, 40002, 1883);
	shake(&b);
	data(&b, C, connect_pkt, LEN(connect_pkt));
	ck_assert_uint_eq(reps[1].flow_id, (0xffffULL << SN_FLOW_ID_WORKER_SHIFT) | 2);
}
END_TEST

Suite *flow_suite(void);

Suite *flow_suite(void)
{
	Suite *s = suite_create("flow");
	TCase *t;

	t = tcase_create("ids");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, flow_id_stable_across_reports_and_unique);
	tcase_add_test(t, retransmitted_syn_keeps_first_time_and_isn);
	tcase_add_test(t, flow_id_carries_worker_index);
	suite_add_tcase(s, t);

	t = tcase_create("synack");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, synack_alone_stays_half_open_and_unreported);
	tcase_add_test(t, flush_drops_half_open_and_table_stays_usable);
	tcase_add_test(t, synack_then_handshake_ack_establishes);
	tcase_add_test(t, synack_then_wrong_ack_stays_half_open);
	tcase_add_test(t, synack_then_client_data_with_its_ack_establishes);
	tcase_add_test(t, synack_then_data_both_ways_establishes);
	tcase_add_test(t, synack_flood_never_evicts_established);
	suite_add_tcase(s, t);

	t = tcase_create("expiry");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_loop_test(t, expire_closes_at_most_budget, 7, 10);
	tcase_add_test(t, expire_in_slices_until_done);
	suite_add_tcase(s, t);

	t = tcase_create("roles");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, handshake_then_connect_opens_mqtt);
	tcase_add_test(t, tunnelled_syn_from_endpoint_b_makes_the_flow);
	tcase_add_test(t, unanswered_syn_never_reported);
	tcase_add_test(t, syn_then_server_rst_not_reported);
	tcase_add_test(t, no_entry_for_ack_fin_rst_of_unknown);
	tcase_add_test(t, midstream_roles_from_pubsub_port);
	tcase_add_test(t, midstream_lower_port_is_server);
	tcase_add_test(t, midstream_one_way_data_acked_counts);
	tcase_add_test(t, midstream_unanswered_data_not_counted);
	tcase_add_test(t, lost_first_segment_is_midstream);
	tcase_add_test(t, data_both_ways_without_synack_counts);
	tcase_add_test(t, one_way_data_never_counts);
	tcase_add_test(t, late_syn_swaps_roles);
	suite_add_tcase(s, t);

	t = tcase_create("reassembly");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, connect_out_of_order);
	tcase_add_test(t, retransmission_and_overlap_first_copy_wins);
	tcase_add_test(t, sequence_wraparound);
	tcase_add_test(t, connect_split_1_plus_47);
	tcase_add_test(t, detail_phase_sends_meta_update);
	tcase_add_test(t, detail_phase_ends_and_frees_buffer);
	suite_add_tcase(s, t);

	t = tcase_create("close");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, fin_both_ways_closes_fin);
	tcase_add_test(t, ended_flow_flushed_says_fin);
	tcase_add_test(t, syn_after_end_is_a_new_connection);
	tcase_add_test(t, ended_flows_evicted_before_established);
	tcase_add_test(t, rst_closes_rst);
	tcase_add_test(t, pubsub_port_without_payload_reported_at_close);
	tcase_add_test(t, plain_port_without_payload_not_reported);
	suite_add_tcase(s, t);

	t = tcase_create("timeouts");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, half_open_times_out);
	tcase_add_test(t, established_times_out);
	tcase_add_test(t, one_fin_times_out_sooner);
	tcase_add_test(t, activity_keeps_flow_alive);
	tcase_add_test(t, undecided_flow_expires_with_port_evidence);
	suite_add_tcase(s, t);

	t = tcase_create("capacity");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, eviction_prefers_half_open);
	tcase_add_test(t, eviction_of_established_sends_close);
	tcase_add_test(t, pool_empty_reclaims_stalest_holder);
	tcase_add_loop_test(t, split_connect_found_with_idle_holders, 3, 6);
	tcase_add_test(t, reclaimed_flow_never_refuted);
	tcase_add_test(t, zero_buffers_still_classify);
	tcase_add_test(t, create_rejects_zero_capacity);
	suite_add_tcase(s, t);

	t = tcase_create("verdicts");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, http_on_mqtt_port_is_refuted);
	tcase_add_test(t, http_on_plain_port_not_reported);
	tcase_add_test(t, tls_on_tls_port_is_tls_evidence);
	tcase_add_test(t, tls_on_443_not_reported);
	tcase_add_test(t, clear_text_on_tls_port_is_refuted);
	tcase_add_test(t, mqtt_on_nonstandard_port);
	suite_add_tcase(s, t);

	t = tcase_create("reports");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, report_live_sends_deltas);
	tcase_add_test(t, report_live_skips_unreported);
	tcase_add_test(t, flush_closes_everything_in_order);
	tcase_add_test(t, bytes_from_ip_length_not_caplen);
	tcase_add_test(t, vlan_is_part_of_key);
	tcase_add_test(t, ipv6_flow);
	tcase_add_test(t, same_ports_both_ends);
	suite_add_tcase(s, t);

	t = tcase_create("load");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_set_timeout(t, 120);
	tcase_add_test(t, a_million_packets);
	suite_add_tcase(s, t);

	t = tcase_create("index");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, churn_keeps_flows_findable);
	tcase_add_test(t, fill_reuse_then_evict);
	tcase_add_test(t, reports_independent_of_seed);
	suite_add_tcase(s, t);

	t = tcase_create("message_times");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, message_times_in_reports);
	tcase_add_test(t, message_timing_lost_at_gap);
	tcase_add_test(t, message_timing_pool_full);
	tcase_add_test(t, message_timing_pool_reclaims_least_recent);
	tcase_add_test(t, message_timing_only_mqtt);
	tcase_add_test(t, hint_slot_rechecked_when_processed);
	tcase_add_test(t, hinter_makes_the_tables_hint);
	suite_add_tcase(s, t);
	return s;
}
