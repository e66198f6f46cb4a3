/*
 * test_events.c - the JSON Lines events (sensor/events.c): alert/update/
 * summary, flow and stats lines checked field by field against values
 * worked out by hand from the contract (tests/spec/README.md) and, for a
 * real capture, from the capture itself (tshark's view of every packet),
 * never from the sensor's own earlier output; the keys the schema requires
 * in the order the spec gives, details keys only when present, escaping of
 * wire strings, determinism, overflow and writing through the event log.
 * Each line must be one valid JSON object; members not checked here (added
 * by later contract versions) do not break these tests.
 */
#include <check.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "events.h"
#include "pipeline.h"
#include "testutil.h"

/* 2026-11-28T01:02:03.123456Z and 2026-11-28T01:02:05.000001Z
   (date -u -d @1795827723.123456 +%FT%T.%6NZ, and @1795827725.000001). */
#define T0 1795827723123456ull
#define T1 1795827725000001ull

static const char *const group_keys[] = {
	"timestamp", "event_type", "sensor", "FirstSeen", "LastSeen", "src_ip", "dest_ip",
	"Protocol", "dest_port", "IsExternal", "process_name", "Users", "ConnectionCount",
	"BytesSent", "BytesReceived", "Suspicion", "evidence", "reasons", "client_ids", "details",
};
static const char *const flow_keys[] = {
	"timestamp", "event_type", "sensor", "FirstSeen", "LastSeen", "src_ip", "src_port",
	"dest_ip", "dest_port", "Protocol", "IsExternal", "process_name", "Users", "BytesSent",
	"BytesReceived", "PacketsSent", "PacketsReceived", "evidence", "client_ids", "details",
	"close", "transport", "app", "action", "bytes_out", "bytes_in", "src_user",
};
static const char *const stats_keys[] = {
	"timestamp", "event_type", "sensor", "packets", "bytes", "flows_active", "flows_evicted",
	"groups_active", "alerts", "decode_errors",
};

/* The schema's required keys, present at the top level in this order. */
static void check_keys_in_order(const char *line, const char *const *keys, size_t n)
{
	const char *at = line;
	char quoted[64];

	ck_assert_int_eq(line[0], '{');
	ck_assert_int_eq(line[strlen(line) - 1], '\n');
	ck_assert(strchr(line, '\n') == line + strlen(line) - 1); /* one line */
	for (size_t i = 0; i < n; i++) {
		snprintf(quoted, sizeof(quoted), "\"%s\":", keys[i]);
		const char *hit = strstr(at, quoted);
		ck_assert_msg(hit != NULL, "key %s missing or out of order", keys[i]);
		at = hit + strlen(quoted);
	}
}

static void set_v4(struct sn_addr *a, uint8_t x, uint8_t y, uint8_t z, uint8_t w)
{
	memset(a, 0, sizeof(*a));
	a->family = 4;
	a->b[0] = x;
	a->b[1] = y;
	a->b[2] = z;
	a->b[3] = w;
}

static void sample_group(struct sn_group *g)
{
	memset(g, 0, sizeof(*g));
	set_v4(&g->src, 10, 0, 0, 5);
	set_v4(&g->dst, 203, 0, 113, 7);
	g->dest_port = 1883;
	g->proto = SN_PROTO_MQTT;
	g->external = true;
	g->first_us = T0;
	g->last_us = T1;
	g->connections = 2;
	g->bytes_sent = 1200;
	g->bytes_received = 340;
	g->n_users = 2;
	strcpy(g->users[0], "alice");
	strcpy(g->users[1], "bob");
	g->n_client_ids = 1;
	strcpy(g->client_ids[0], "implant-1");
	g->evidence = SN_EVIDENCE_PAYLOAD;
	g->rating.suspicion = SN_SUSP_HIGH;
	g->rating.n_reasons = 2;
	strcpy(g->rating.reasons[0], "external MQTT broker");
	strcpy(g->rating.reasons[1], "2 connections");
	g->has_details = true;
	g->details.proto = SN_PROTO_MQTT;
	strcpy(g->details.mqtt_version, "3.1.1");
	g->details.has_keepalive = true;
	g->details.keepalive = 60;
	g->details.has_clean_session = true;
	g->details.clean_session = true;
	g->details.n_topics = 2;
	strcpy(g->details.topics[0], "c2/beacon");
	strcpy(g->details.topics[1], "c2/cmd");
	g->n_flow_ids = 2;
	g->flow_ids[0] = 7;
	g->flow_ids[1] = 65543;
}

/*
 * The group fields of sample_group() as the contract spells them: ISO 8601
 * UTC with microseconds, dotted IPv4, IsExternal "yes"/"no", process_name
 * null when unknown, Users and client_ids as sorted arrays, Suspicion and
 * evidence by name, details with only the keys seen, the MITRE technique.
 */
static void expect_sample_group(const char *line, const char *type)
{
	SN_JSON_LINE(line);
	SN_JSON_EXPECT(line, "timestamp", "\"2026-11-28T01:02:05.000001Z\"");
	SN_JSON_EXPECT(line, "event_type", type);
	SN_JSON_EXPECT(line, "sensor", "\"s1\"");
	SN_JSON_EXPECT(line, "FirstSeen", "\"2026-11-28T01:02:03.123456Z\"");
	SN_JSON_EXPECT(line, "LastSeen", "\"2026-11-28T01:02:05.000001Z\"");
	SN_JSON_EXPECT(line, "src_ip", "\"10.0.0.5\"");
	SN_JSON_EXPECT(line, "dest_ip", "\"203.0.113.7\"");
	SN_JSON_EXPECT(line, "Protocol", "\"MQTT\"");
	SN_JSON_EXPECT(line, "dest_port", "1883");
	SN_JSON_EXPECT(line, "IsExternal", "\"yes\"");
	SN_JSON_EXPECT(line, "process_name", "null");
	SN_JSON_EXPECT(line, "Users", "[\"alice\",\"bob\"]");
	SN_JSON_EXPECT(line, "ConnectionCount", "2");
	SN_JSON_EXPECT(line, "BytesSent", "1200");
	SN_JSON_EXPECT(line, "BytesReceived", "340");
	SN_JSON_EXPECT(line, "Suspicion", "\"high\"");
	SN_JSON_EXPECT(line, "evidence", "\"payload\"");
	SN_JSON_EXPECT(line, "reasons", "[\"external MQTT broker\",\"2 connections\"]");
	SN_JSON_EXPECT(line, "client_ids", "[\"implant-1\"]");
	SN_JSON_EXPECT(line, "details.mqtt_version", "\"3.1.1\"");
	SN_JSON_EXPECT(line, "details.keepalive", "60");
	SN_JSON_EXPECT(line, "details.clean_session", "true");
	SN_JSON_EXPECT(line, "details.topics", "[\"c2/beacon\",\"c2/cmd\"]");
	SN_JSON_EXPECT(line, "details.will_topic", NULL); /* not seen: absent */
	SN_JSON_EXPECT(line, "details.xmpp_to", NULL);
	ck_assert_int_eq(sn_test_json_members(sn_test_json_get(line, "details", &(size_t){ 0 })), 4);
	SN_JSON_EXPECT(line, "mitre_technique", "\"T1071.005\"");
	SN_JSON_EXPECT(line, "flow_ids", "[7,65543]");
	SN_JSON_EXPECT(line, "truncated", "[]");
	SN_JSON_EXPECT(line, "allowed_by", NULL);
}

START_TEST(test_alert_fields)
{
	static struct sn_events ev;
	struct sn_group g;

	sample_group(&g);
	sn_events_init(&ev, "s1", NULL);
	size_t n = sn_events_format_group(&ev, SN_EV_ALERT, &g, T1);
	ck_assert_uint_eq(n, strlen(ev.line));
	expect_sample_group(ev.line, "\"alert\"");
	check_keys_in_order(ev.line, group_keys, sizeof(group_keys) / sizeof(group_keys[0]));
}
END_TEST

START_TEST(test_update_and_summary_kinds)
{
	static struct sn_events ev;
	struct sn_group g;

	sample_group(&g);
	sn_events_init(&ev, "s1", NULL);
	sn_events_format_group(&ev, SN_EV_UPDATE, &g, T1);
	expect_sample_group(ev.line, "\"update\"");
	check_keys_in_order(ev.line, group_keys, sizeof(group_keys) / sizeof(group_keys[0]));
	sn_events_format_group(&ev, SN_EV_SUMMARY, &g, T1);
	expect_sample_group(ev.line, "\"summary\"");
	check_keys_in_order(ev.line, group_keys, sizeof(group_keys) / sizeof(group_keys[0]));
	ck_assert_str_eq(sn_group_event_name(SN_EV_ALERT), "alert");
	ck_assert_str_eq(sn_group_event_name(SN_EV_UPDATE), "update");
	ck_assert_str_eq(sn_group_event_name(SN_EV_SUMMARY), "summary");
}
END_TEST

START_TEST(test_group_minimal_ipv6_process)
{
	static struct sn_events ev;
	struct sn_group g;

	memset(&g, 0, sizeof(g));
	g.src.family = 6;
	g.src.b[0] = 0x20;
	g.src.b[1] = 0x01;
	g.src.b[2] = 0x0d;
	g.src.b[3] = 0xb8;
	g.src.b[15] = 1;
	g.dst = g.src;
	g.dst.b[15] = 2;
	g.dest_port = 5222;
	g.proto = SN_PROTO_XMPP;
	g.first_us = g.last_us = T0;
	g.connections = 1;
	strcpy(g.process_name, "python3");
	g.rating.suspicion = SN_SUSP_LOW;
	g.rating.n_reasons = 1;
	strcpy(g.rating.reasons[0], "internal XMPP server");
	sn_events_init(&ev, "s1", NULL);
	sn_events_format_group(&ev, SN_EV_SUMMARY, &g, T0);
	/* IPv6 in RFC 5952 text; empty lists stay lists; no details: {} */
	SN_JSON_EXPECT(ev.line, "timestamp", "\"2026-11-28T01:02:03.123456Z\"");
	SN_JSON_EXPECT(ev.line, "event_type", "\"summary\"");
	SN_JSON_EXPECT(ev.line, "FirstSeen", "\"2026-11-28T01:02:03.123456Z\"");
	SN_JSON_EXPECT(ev.line, "LastSeen", "\"2026-11-28T01:02:03.123456Z\"");
	SN_JSON_EXPECT(ev.line, "src_ip", "\"2001:db8::1\"");
	SN_JSON_EXPECT(ev.line, "dest_ip", "\"2001:db8::2\"");
	SN_JSON_EXPECT(ev.line, "Protocol", "\"XMPP\"");
	SN_JSON_EXPECT(ev.line, "dest_port", "5222");
	SN_JSON_EXPECT(ev.line, "IsExternal", "\"no\"");
	SN_JSON_EXPECT(ev.line, "process_name", "\"python3\"");
	SN_JSON_EXPECT(ev.line, "Users", "[]");
	SN_JSON_EXPECT(ev.line, "ConnectionCount", "1");
	SN_JSON_EXPECT(ev.line, "BytesSent", "0");
	SN_JSON_EXPECT(ev.line, "BytesReceived", "0");
	SN_JSON_EXPECT(ev.line, "Suspicion", "\"low\"");
	SN_JSON_EXPECT(ev.line, "evidence", "\"port\"");
	SN_JSON_EXPECT(ev.line, "reasons", "[\"internal XMPP server\"]");
	SN_JSON_EXPECT(ev.line, "client_ids", "[]");
	SN_JSON_EXPECT(ev.line, "details", "{}");
	SN_JSON_EXPECT(ev.line, "mitre_technique", "\"T1071.005\"");
	SN_JSON_EXPECT(ev.line, "flow_ids", "[]");
	SN_JSON_EXPECT(ev.line, "truncated", "[]");
	check_keys_in_order(ev.line, group_keys, sizeof(group_keys) / sizeof(group_keys[0]));
}
END_TEST

/* Every capped list that overflowed is named, in the contract's order. */
START_TEST(test_group_truncated_lists)
{
	static struct sn_events ev;
	struct sn_group g;

	sample_group(&g);
	sn_events_init(&ev, "s1", NULL);
	g.truncated = SN_TRUNC_FLOW_IDS | SN_TRUNC_USERS;
	sn_events_format_group(&ev, SN_EV_UPDATE, &g, T1);
	SN_JSON_EXPECT(ev.line, "truncated", "[\"Users\",\"flow_ids\"]");
	g.truncated = SN_TRUNC_USERS | SN_TRUNC_CLIENT_IDS | SN_TRUNC_TOPICS | SN_TRUNC_FLOW_IDS;
	sn_events_format_group(&ev, SN_EV_UPDATE, &g, T1);
	SN_JSON_EXPECT(ev.line, "truncated", "[\"Users\",\"client_ids\",\"topics\",\"flow_ids\"]");
}
END_TEST

/* allowed_by: on the summary of an allowed group only. */
START_TEST(test_group_allowed_by_on_summary)
{
	static struct sn_events ev;
	struct sn_group g;

	sample_group(&g);
	sn_events_init(&ev, "s1", NULL);
	sn_events_format_group(&ev, SN_EV_SUMMARY, &g, T1);
	ck_assert_ptr_null(strstr(ev.line, "allowed_by"));
	g.allowed = true;
	strcpy(g.allowed_by, "rules.allow_users[0]");
	sn_events_format_group(&ev, SN_EV_SUMMARY, &g, T1);
	ck_assert_ptr_nonnull(strstr(ev.line, ",\"truncated\":[],\"dest_host\":null,\"allowed_by\":\"rules.allow_users[0]\"}\n"));
	sn_events_format_group(&ev, SN_EV_UPDATE, &g, T1);
	ck_assert_ptr_null(strstr(ev.line, "allowed_by"));
}
END_TEST

static void sample_flow(struct sn_conn_report *r)
{
	memset(r, 0, sizeof(*r));
	r->kind = SN_REPORT_CLOSE;
	r->ts_us = T1;
	r->first_us = T0;
	r->last_us = T1;
	set_v4(&r->client, 127, 0, 0, 1);
	set_v4(&r->server, 127, 0, 0, 1);
	r->client_port = 40000;
	r->server_port = 1883;
	r->proto = SN_PROTO_MQTT;
	r->port_proto = SN_PROTO_MQTT;
	r->evidence = SN_EVIDENCE_PAYLOAD;
	r->bytes[0] = 500;
	r->bytes[1] = 120;
	r->packets[0] = 6;
	r->packets[1] = 4;
	r->close = SN_CLOSE_FIN;
	r->flow_id = 77;
	r->meta.proto = SN_PROTO_MQTT;
	strcpy(r->meta.client_id, "paho-implant-1");
	strcpy(r->meta.user, "implant01");
	strcpy(r->meta.mqtt_version, "5.0");
	r->meta.has_keepalive = true;
	r->meta.keepalive = 30;
	strcpy(r->meta.will_topic, "c2/will");
}

/*
 * The flow fields of sample_flow(): the group fields plus ports, packets,
 * the close reason and the Splunk Stream / CIM names (transport tcp, app
 * the protocol in lower case, action allowed, bytes_out = BytesSent,
 * bytes_in = BytesReceived, src_user the first user).  The Community ID is
 * computed independently from its specification (SHA-1 over seed 0, the
 * ordered addresses, protocol 6, padding and ports, in base64):
 *   127.0.0.1:40000 -> 127.0.0.1:1883  =>  1:uGQRdAUlVwn40KDO71YoRh8Ui+c=
 */
static void expect_sample_flow(const char *line)
{
	SN_JSON_LINE(line);
	SN_JSON_EXPECT(line, "timestamp", "\"2026-11-28T01:02:05.000001Z\"");
	SN_JSON_EXPECT(line, "event_type", "\"flow\"");
	SN_JSON_EXPECT(line, "sensor", "\"s1\"");
	SN_JSON_EXPECT(line, "FirstSeen", "\"2026-11-28T01:02:03.123456Z\"");
	SN_JSON_EXPECT(line, "LastSeen", "\"2026-11-28T01:02:05.000001Z\"");
	SN_JSON_EXPECT(line, "src_ip", "\"127.0.0.1\"");
	SN_JSON_EXPECT(line, "src_port", "40000");
	SN_JSON_EXPECT(line, "dest_ip", "\"127.0.0.1\"");
	SN_JSON_EXPECT(line, "dest_port", "1883");
	SN_JSON_EXPECT(line, "Protocol", "\"MQTT\"");
	SN_JSON_EXPECT(line, "IsExternal", "\"no\"");
	SN_JSON_EXPECT(line, "process_name", "null");
	SN_JSON_EXPECT(line, "Users", "[\"implant01\"]");
	SN_JSON_EXPECT(line, "BytesSent", "500");
	SN_JSON_EXPECT(line, "BytesReceived", "120");
	SN_JSON_EXPECT(line, "PacketsSent", "6");
	SN_JSON_EXPECT(line, "PacketsReceived", "4");
	SN_JSON_EXPECT(line, "evidence", "\"payload\"");
	SN_JSON_EXPECT(line, "client_ids", "[\"paho-implant-1\"]");
	SN_JSON_EXPECT(line, "details.mqtt_version", "\"5.0\"");
	SN_JSON_EXPECT(line, "details.keepalive", "30");
	SN_JSON_EXPECT(line, "details.will_topic", "\"c2/will\"");
	SN_JSON_EXPECT(line, "details.clean_session", NULL);
	SN_JSON_EXPECT(line, "details.topics", NULL);
	SN_JSON_EXPECT(line, "close", "\"fin\"");
	SN_JSON_EXPECT(line, "transport", "\"tcp\"");
	SN_JSON_EXPECT(line, "app", "\"mqtt\"");
	SN_JSON_EXPECT(line, "action", "\"allowed\"");
	SN_JSON_EXPECT(line, "bytes_out", "500");
	SN_JSON_EXPECT(line, "bytes_in", "120");
	SN_JSON_EXPECT(line, "src_user", "\"implant01\"");
	SN_JSON_EXPECT(line, "flow_id", "77");
	SN_JSON_EXPECT(line, "community_id", "\"1:uGQRdAUlVwn40KDO71YoRh8Ui+c=\"");
	SN_JSON_EXPECT(line, "mitre_technique", "\"T1071.005\"");
}

START_TEST(test_flow_fields)
{
	static struct sn_events ev;
	struct sn_conn_report r;

	sample_flow(&r);
	sn_events_init(&ev, "s1", NULL);
	sn_events_format_flow(&ev, &r, SN_PROTO_MQTT, false, -1, r.ts_us);
	expect_sample_flow(ev.line);
	check_keys_in_order(ev.line, flow_keys, sizeof(flow_keys) / sizeof(flow_keys[0]));
}
END_TEST

/* Regular client messages: message_beacon on flows and groups; a cut said on the flow. */
START_TEST(test_message_beacon_fields)
{
	static struct sn_events ev;
	struct sn_conn_report r;
	struct sn_group g;

	sample_flow(&r);
	sn_events_init(&ev, "s1", NULL);
	sn_events_format_flow(&ev, &r, SN_PROTO_MQTT, false, -1, r.ts_us);
	SN_JSON_EXPECT(ev.line, "message_beacon", NULL);
	SN_JSON_EXPECT(ev.line, "details.message_timing_cut", NULL);
	r.msgs.timing = SN_MSGT_GAP;
	r.msgs.messages[SN_MSG_KEEPALIVE] = 9;
	r.msgs.rhythm[SN_MSG_KEEPALIVE] = (struct sn_beacon){ 8, 30012, 17 };
	sn_events_format_flow(&ev, &r, SN_PROTO_MQTT, false, SN_MSG_KEEPALIVE, r.ts_us);
	SN_JSON_LINE(ev.line);
	SN_JSON_EXPECT(ev.line, "message_beacon",
		       "{\"interval_s\":30.012,\"jitter\":0.017,\"samples\":8,\"kind\":\"pingreq\","
		       "\"messages\":9}");
	SN_JSON_EXPECT(ev.line, "details.message_timing_cut", "\"sequence_gap\"");
	r.msgs.timing = SN_MSGT_NO_STATE;
	sn_events_format_flow(&ev, &r, SN_PROTO_MQTT, false, -1, r.ts_us);
	SN_JSON_EXPECT(ev.line, "details.message_timing_cut", "\"no_state\"");
	r.msgs.timing = SN_MSGT_MALFORMED;
	sn_events_format_flow(&ev, &r, SN_PROTO_MQTT, false, -1, r.ts_us);
	SN_JSON_EXPECT(ev.line, "details.message_timing_cut", "\"malformed\"");

	sample_group(&g);
	sn_events_format_group(&ev, SN_EV_ALERT, &g, T1);
	SN_JSON_EXPECT(ev.line, "message_beacon", NULL);
	g.msg_beacon = (struct sn_beacon){ 6, 60000, 0 };
	g.msg_kind = SN_MSG_PUBLISH;
	g.msg_messages = 40;
	g.msg_flow_id = 12;
	sn_events_format_group(&ev, SN_EV_ALERT, &g, T1);
	SN_JSON_LINE(ev.line);
	SN_JSON_EXPECT(ev.line, "message_beacon",
		       "{\"interval_s\":60.000,\"jitter\":0.000,\"samples\":6,\"kind\":\"publish\","
		       "\"messages\":40,\"flow_id\":12}");
}
END_TEST

/* output.community_id_seed reaches the flow event (baseline_seed1.json of the spec). */
START_TEST(test_flow_community_id_seed)
{
	static struct sn_events ev;
	struct sn_conn_report r;

	sample_flow(&r);
	ck_assert(sn_addr_parse("128.232.110.120", &r.client));
	ck_assert(sn_addr_parse("66.35.250.204", &r.server));
	r.client_port = 34855;
	r.server_port = 80;
	sn_events_init(&ev, "s1", NULL);
	sn_events_format_flow(&ev, &r, SN_PROTO_MQTT, true, -1, r.ts_us);
	ck_assert_ptr_nonnull(strstr(ev.line, "\"community_id\":\"1:LQU9qZlK+B5F3KDmev6m5PMibrg=\""));
	ev.community_id_seed = 1;
	sn_events_format_flow(&ev, &r, SN_PROTO_MQTT, true, -1, r.ts_us);
	ck_assert_ptr_nonnull(strstr(ev.line, "\"community_id\":\"1:3V71V58M3Ksw/yuFALMcW0LAHvc=\""));
}
END_TEST

/* client_ids: [""] for a CONNECT whose client id was empty, [] when none was seen. */
START_TEST(test_flow_empty_client_id)
{
	static struct sn_events ev;
	struct sn_conn_report r;

	sample_flow(&r);
	r.meta.client_id[0] = '\0';
	r.meta.has_client_id = true;
	sn_events_init(&ev, "s1", NULL);
	sn_events_format_flow(&ev, &r, SN_PROTO_MQTT, false, -1, T1);
	SN_JSON_EXPECT(ev.line, "client_ids", "[\"\"]");
	r.meta.has_client_id = false;
	sn_events_format_flow(&ev, &r, SN_PROTO_MQTT, false, -1, T1);
	SN_JSON_EXPECT(ev.line, "client_ids", "[]");
	/* only MQTT has client ids */
	r.meta.has_client_id = true;
	sn_events_format_flow(&ev, &r, SN_PROTO_STOMP, false, -1, T1);
	SN_JSON_EXPECT(ev.line, "client_ids", "[]");
}
END_TEST

/* The identity fields in details, after their protocol's other keys. */
START_TEST(test_flow_identity_details)
{
	static struct sn_events ev;
	struct sn_conn_report r;

	sample_flow(&r);
	strcpy(r.meta.mqtt_user_properties[0], "agent=x");
	strcpy(r.meta.mqtt_user_properties[1], "k=\"v\"");
	r.meta.n_mqtt_user_properties = 2;
	r.meta.mqtt_user_properties_truncated = true;
	strcpy(r.meta.amqp_vhost, "c2");
	strcpy(r.meta.amqp_connection_name, "implant-1");
	strcpy(r.meta.xmpp_user, "u");
	strcpy(r.meta.xmpp_jid, "u@d/r");
	sn_events_init(&ev, "s1", NULL);
	sn_events_format_flow(&ev, &r, SN_PROTO_MQTT, false, -1, T1);
	SN_JSON_EXPECT(ev.line, "details",
		       "{\"mqtt_version\":\"5.0\",\"keepalive\":30,\"will_topic\":\"c2/will\","
		       "\"mqtt_user_properties\":[\"agent=x\",\"k=\\\"v\\\"\"],"
		       "\"mqtt_user_properties_truncated\":true,\"xmpp_user\":\"u\","
		       "\"xmpp_jid\":\"u@d/r\",\"amqp_vhost\":\"c2\",\"amqp_connection_name\":\"implant-1\"}");
}
END_TEST

START_TEST(test_flow_refuted_named_by_port)
{
	static struct sn_events ev;
	struct sn_conn_report r;

	memset(&r, 0, sizeof(r));
	set_v4(&r.client, 10, 1, 1, 1);
	set_v4(&r.server, 10, 1, 1, 2);
	r.server_port = 61613;
	r.port_proto = SN_PROTO_STOMP;
	r.evidence = SN_EVIDENCE_REFUTED;
	r.close = SN_CLOSE_RST;
	sn_events_init(&ev, "s1", NULL);
	sn_events_format_flow(&ev, &r, SN_PROTO_NONE, false, -1, T0);
	/* named after its port's protocol; refuted; no user: src_user null */
	SN_JSON_EXPECT(ev.line, "Protocol", "\"STOMP\"");
	SN_JSON_EXPECT(ev.line, "evidence", "\"refuted\"");
	SN_JSON_EXPECT(ev.line, "Users", "[]");
	SN_JSON_EXPECT(ev.line, "client_ids", "[]");
	SN_JSON_EXPECT(ev.line, "details", "{}");
	SN_JSON_EXPECT(ev.line, "close", "\"rst\"");
	SN_JSON_EXPECT(ev.line, "transport", "\"tcp\"");
	SN_JSON_EXPECT(ev.line, "app", "\"stomp\"");
	SN_JSON_EXPECT(ev.line, "action", "\"allowed\"");
	SN_JSON_EXPECT(ev.line, "bytes_out", "0");
	SN_JSON_EXPECT(ev.line, "bytes_in", "0");
	SN_JSON_EXPECT(ev.line, "src_user", "null");
	check_keys_in_order(ev.line, flow_keys, sizeof(flow_keys) / sizeof(flow_keys[0]));
}
END_TEST

START_TEST(test_details_every_protocol)
{
	static struct sn_events ev;
	struct sn_conn_report r;

	memset(&r, 0, sizeof(r));
	set_v4(&r.client, 10, 1, 1, 1);
	set_v4(&r.server, 10, 1, 1, 2);
	r.proto = SN_PROTO_XMPP;
	strcpy(r.meta.xmpp_to, "localhost");
	strcpy(r.meta.xmpp_from, "bot@localhost");
	strcpy(r.meta.xmpp_ns, "jabber:client");
	strcpy(r.meta.xmpp_version, "1.0");
	r.meta.has_starttls = true;
	r.meta.starttls = false;
	strcpy(r.meta.amqp_version, "0-9-1");
	strcpy(r.meta.stomp_command, "STOMP");
	strcpy(r.meta.stomp_accept_version, "1.2");
	strcpy(r.meta.stomp_host, "/");
	strcpy(r.meta.tls_sni, "broker.example");
	r.meta.n_tls_alpn = 2;
	strcpy(r.meta.tls_alpn[0], "mqtt");
	strcpy(r.meta.tls_alpn[1], "x-amqp");
	strcpy(r.meta.client_id, "not-mqtt"); /* client ids are MQTT's only */
	sn_events_init(&ev, "s1", NULL);
	sn_events_format_flow(&ev, &r, SN_PROTO_XMPP, true, -1, T0);
	/* every details key of the contract with the type it gives */
	SN_JSON_EXPECT(ev.line, "client_ids", "[]"); /* client ids are MQTT's only */
	SN_JSON_EXPECT(ev.line, "details.xmpp_to", "\"localhost\"");
	SN_JSON_EXPECT(ev.line, "details.xmpp_from", "\"bot@localhost\"");
	SN_JSON_EXPECT(ev.line, "details.xmpp_ns", "\"jabber:client\"");
	SN_JSON_EXPECT(ev.line, "details.xmpp_version", "\"1.0\"");
	SN_JSON_EXPECT(ev.line, "details.starttls", "false");
	SN_JSON_EXPECT(ev.line, "details.amqp_version", "\"0-9-1\"");
	SN_JSON_EXPECT(ev.line, "details.stomp_command", "\"STOMP\"");
	SN_JSON_EXPECT(ev.line, "details.stomp_accept_version", "\"1.2\"");
	SN_JSON_EXPECT(ev.line, "details.stomp_host", "\"/\"");
	SN_JSON_EXPECT(ev.line, "details.tls_sni", "\"broker.example\"");
	SN_JSON_EXPECT(ev.line, "details.tls_alpn", "[\"mqtt\",\"x-amqp\"]");
	SN_JSON_EXPECT(ev.line, "details.mqtt_version", NULL);
	SN_JSON_EXPECT(ev.line, "IsExternal", "\"yes\"");
}
END_TEST

START_TEST(test_hostile_strings_escaped)
{
	static struct sn_events ev;
	struct sn_group g;

	sample_group(&g);
	strcpy(g.users[0], "a\"b\\c\n\x01");
	strcpy(g.client_ids[0], "\xff\xc0x");
	strcpy(g.details.topics[0], "t\x7f\xed\xa0\x80");
	memset(g.process_name, 'p', sizeof(g.process_name)); /* lost its NUL */
	g.details.n_topics = 200; /* hostile count: bounded by the array */
	sn_events_init(&ev, "s1", NULL);
	ck_assert_uint_gt(sn_events_format_group(&ev, SN_EV_ALERT, &g, T1), 0);
	ck_assert_ptr_nonnull(strstr(ev.line, "\"Users\":[\"a\\\"b\\\\c\\u000a\\u0001\",\"bob\"]"));
	ck_assert_ptr_nonnull(strstr(ev.line, "\"client_ids\":[\"\xEF\xBF\xBD\xEF\xBF\xBDx\"]"));
	ck_assert_ptr_nonnull(strstr(ev.line, "\"t\\u007f\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\""));
	char want[128];
	snprintf(want, sizeof(want), "\"process_name\":\"%.64s\"", g.process_name);
	ck_assert_ptr_nonnull(strstr(ev.line, want));
	check_keys_in_order(ev.line, group_keys, sizeof(group_keys) / sizeof(group_keys[0]));
}
END_TEST

START_TEST(test_stats_fields)
{
	static struct sn_events ev;
	struct sn_decode_stats d;
	static const char *const names[] = { "pool_exhausted", "output_overflow" };
	static const uint64_t values[] = { 3, 0 };
	struct sn_stats_view s = {
		.packets = 1000, .bytes = 64000, .flows_active = 4, .flows_evicted = 1,
		.groups_active = 2, .alerts = 1, .decode = &d, .extra_names = names,
		.extra_values = values, .n_extra = 2,
	};

	memset(&d, 0, sizeof(d));
	d.errors[SN_DERR_TCP_TRUNCATED] = 7;
	d.errors[SN_DERR_LINK_TRUNCATED] = 2;
	sn_events_init(&ev, "s1", NULL);
	sn_events_format_stats(&ev, &s, T0);
	SN_JSON_EXPECT(ev.line, "timestamp", "\"2026-11-28T01:02:03.123456Z\"");
	SN_JSON_EXPECT(ev.line, "event_type", "\"stats\"");
	SN_JSON_EXPECT(ev.line, "sensor", "\"s1\"");
	SN_JSON_EXPECT(ev.line, "packets", "1000");
	SN_JSON_EXPECT(ev.line, "bytes", "64000");
	SN_JSON_EXPECT(ev.line, "flows_active", "4");
	SN_JSON_EXPECT(ev.line, "flows_evicted", "1");
	SN_JSON_EXPECT(ev.line, "groups_active", "2");
	SN_JSON_EXPECT(ev.line, "alerts", "1");
	/* offline: no kernel drop figures */
	SN_JSON_EXPECT(ev.line, "dropped", NULL);
	SN_JSON_EXPECT(ev.line, "if_dropped", NULL);
	/* decode_errors: reason to count, the reasons that occurred */
	SN_JSON_EXPECT(ev.line, "decode_errors.link_truncated", "2");
	SN_JSON_EXPECT(ev.line, "decode_errors.tcp_truncated", "7");
	ck_assert_int_eq(sn_test_json_members(sn_test_json_get(ev.line, "decode_errors", &(size_t){ 0 })), 2);
	/* counters: name to count, every one given, zeros included */
	SN_JSON_EXPECT(ev.line, "counters.pool_exhausted", "3");
	SN_JSON_EXPECT(ev.line, "counters.output_overflow", "0");
	ck_assert_int_eq(sn_test_json_members(sn_test_json_get(ev.line, "counters", &(size_t){ 0 })), 2);
	check_keys_in_order(ev.line, stats_keys, sizeof(stats_keys) / sizeof(stats_keys[0]));
}
END_TEST

START_TEST(test_stats_live_and_empty)
{
	static struct sn_events ev;
	struct sn_stats_view s = { .live = true, .dropped = 5, .if_dropped = 6 };

	sn_events_init(&ev, "s1", NULL);
	sn_events_format_stats(&ev, &s, 0);
	SN_JSON_EXPECT(ev.line, "timestamp", "\"1970-01-01T00:00:00.000000Z\"");
	SN_JSON_EXPECT(ev.line, "event_type", "\"stats\"");
	SN_JSON_EXPECT(ev.line, "packets", "0");
	SN_JSON_EXPECT(ev.line, "bytes", "0");
	SN_JSON_EXPECT(ev.line, "dropped", "5"); /* live: kernel drops */
	SN_JSON_EXPECT(ev.line, "if_dropped", "6");
	SN_JSON_EXPECT(ev.line, "flows_active", "0");
	SN_JSON_EXPECT(ev.line, "flows_evicted", "0");
	SN_JSON_EXPECT(ev.line, "groups_active", "0");
	SN_JSON_EXPECT(ev.line, "alerts", "0");
	SN_JSON_EXPECT(ev.line, "decode_errors", "{}");
	SN_JSON_EXPECT(ev.line, "counters", "{}");
}
END_TEST

START_TEST(test_names)
{
	ck_assert_str_eq(sn_evidence_name(SN_EVIDENCE_PORT), "port");
	ck_assert_str_eq(sn_evidence_name(SN_EVIDENCE_TLS), "tls");
	ck_assert_str_eq(sn_evidence_name(SN_EVIDENCE_PAYLOAD), "payload");
	ck_assert_str_eq(sn_evidence_name(SN_EVIDENCE_REFUTED), "refuted");
	ck_assert_str_eq(sn_close_reason_name(SN_CLOSE_FIN), "fin");
	ck_assert_str_eq(sn_close_reason_name(SN_CLOSE_RST), "rst");
	ck_assert_str_eq(sn_close_reason_name(SN_CLOSE_TIMEOUT), "timeout");
	ck_assert_str_eq(sn_close_reason_name(SN_CLOSE_EVICTED), "evicted");
	ck_assert_str_eq(sn_close_reason_name(SN_CLOSE_SHUTDOWN), "shutdown");
	ck_assert_str_eq(sn_close_reason_name(SN_CLOSE_END_OF_INPUT), "end_of_input");
}
END_TEST

START_TEST(test_deterministic)
{
	static struct sn_events a, b;
	struct sn_group g;

	sample_group(&g);
	sn_events_init(&a, "s1", NULL);
	sn_events_init(&b, "s1", NULL);
	size_t na = sn_events_format_group(&a, SN_EV_UPDATE, &g, T1);
	size_t nb = sn_events_format_group(&b, SN_EV_UPDATE, &g, T1);
	ck_assert_uint_eq(na, nb);
	ck_assert_int_eq(memcmp(a.line, b.line, na), 0);
}
END_TEST

START_TEST(test_overflow_dropped_and_counted)
{
	static struct sn_events ev;
	struct sn_group g;
	char *huge = malloc(SN_EVENT_LINE_MAX + 1);

	ck_assert_ptr_nonnull(huge);
	memset(huge, 'n', SN_EVENT_LINE_MAX);
	huge[SN_EVENT_LINE_MAX] = '\0';
	sample_group(&g);
	sn_events_init(&ev, huge, NULL);
	ck_assert_uint_eq(sn_events_format_group(&ev, SN_EV_ALERT, &g, T1), 0);
	sn_events_group_event(&ev, SN_EV_ALERT, &g, T1);
	ck_assert_uint_eq(ev.dropped_overflow, 1);
	free(huge);
}
END_TEST

START_TEST(test_sinks_write_to_log)
{
	static struct sn_events ev;
	struct sn_eventlog log;
	struct sn_group g;
	struct sn_conn_report r;
	char path[256], buf[4096], want[4096];
	const char *tmp = getenv("TMPDIR");

	snprintf(path, sizeof(path), "%s/sn-events-%ld.jsonl", tmp && *tmp ? tmp : P_tmpdir,
		 (long)getpid());
	unlink(path);
	ck_assert_int_eq(sn_eventlog_open(&log, path, false), 0);
	sn_events_init(&ev, "s1", &log);
	sample_group(&g);
	sample_flow(&r);
	sn_events_group_event(&ev, SN_EV_ALERT, &g, T1);
	sn_events_flow_event(&ev, &r, SN_PROTO_MQTT, false, -1, r.ts_us);
	sn_eventlog_close(&log);
	ck_assert_uint_eq(log.lines, 2);

	FILE *f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	unlink(path);
	/* the log holds the two lines as formatted, in order, nothing else */
	static struct sn_events fmt;
	sn_events_init(&fmt, "s1", NULL);
	size_t la = sn_events_format_group(&fmt, SN_EV_ALERT, &g, T1);
	ck_assert_uint_lt(la, sizeof want / 2);
	memcpy(want, fmt.line, la);
	size_t lf = sn_events_format_flow(&fmt, &r, SN_PROTO_MQTT, false, -1, r.ts_us);
	ck_assert_uint_lt(lf, sizeof want / 2);
	memcpy(want + la, fmt.line, lf);
	want[la + lf] = '\0';
	ck_assert_str_eq(buf, want);
	char *second = strchr(buf, '\n') + 1;
	expect_sample_flow(second);
	*second = '\0';
	expect_sample_group(buf, "\"alert\"");
}
END_TEST

/*
 * A real capture, replayed through the pipeline, against what the capture
 * and pcaps/EXPECTED.tsv say.  mqtt-v311-userpass-1883.pcap as tshark shows
 * it (tshark -r F -T fields -e frame.time_epoch -e tcp.stream -e tcp.srcport
 * -e ip.len -e tcp.flags.str -e mqtt.clientid -e mqtt.username ...):
 *  - connection 1: client port 56818, SYN at 1795829010.938014
 *    (2026-11-28T01:23:30.938014Z); CONNECT (frame 4, .938076) MQTT level 4
 *    (3.1.1), client_id implant-host-1, username implant01, keepalive 60,
 *    clean session; PUBLISH c2/beacon; FIN from the client (frame 11), then
 *    from the server (frame 12, .938586); frame 13 is the last ACK.
 *  - connection 2: client port 58016, SYN at 1795829011.942319, the same
 *    CONNECT with client_id implant-host-2; second FIN in frame 25
 *    (.942661), the last ACK in frame 26 (.942672), the capture's last packet.
 *  - IP lengths per connection up to its second FIN (the flow ends there):
 *    client to server 60+52+103+52+80+54+52 = 453 in 7 packets, server to
 *    client 60+52+56+56+52 = 276 in 5.
 *  - The first connection crosses min_connections 1 when its CONNECT
 *    confirms it (frame 4): the alert then counts 60+52+103 = 215 bytes
 *    sent and 60 received.
 *  - 26 packets, 1926 bytes of frames (sum of frame.len).
 *  - Community IDs from the specification: 56818 1:wp4jDEdx2MykleAg9qLGyR9SRNM=,
 *    58016 1:Sbi9YghKgP4FzlzTGUcsi4YWSRE=.
 * With home_networks 10.0.0.0/8 the broker 127.0.0.1 is external.
 */
START_TEST(test_capture_events_from_the_wire)
{
	static const char yaml[] = "sensor_name: wire\n"
				   "home_networks: [10.0.0.0/8]\n"
				   "rules:\n  min_connections: 1\n  min_suspicion: low\n"
				   "output:\n  flows: true\n";
	static struct sn_config cfg;
	static char lines[8][8192];
	struct sn_error cerr;
	char err[512], path[256];
	const char *tmp = getenv("TMPDIR");

	sn_config_defaults(&cfg);
	ck_assert_int_eq(sn_config_load_string(&cfg, "wire.yaml", yaml, strlen(yaml), &cerr), 0);
	snprintf(path, sizeof path, "%s/sn-wire-%ld.jsonl", tmp && *tmp ? tmp : P_tmpdir,
		 (long)getpid());
	unlink(path);
	struct sn_aggregator *ag = sn_aggregator_create(&cfg, path, false, err, sizeof err);
	ck_assert_msg(ag != NULL, "%s", err);
	char perr[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(sn_test_pcap_path("mqtt-v311-userpass-1883.pcap"), perr);
	ck_assert_msg(p != NULL, "%s", perr);
	struct sn_worker *w = sn_worker_create(&cfg, pcap_datalink(p), sn_aggregator_report, ag, 3);
	ck_assert_ptr_nonnull(w);
	struct pcap_pkthdr *h;
	const u_char *data;
	while (pcap_next_ex(p, &h, &data) == 1) {
		sn_worker_packet(w, data, h->caplen, h->len,
				 (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec);
		sn_aggregator_tick(ag, sn_worker_now(w));
	}
	pcap_close(p);
	uint64_t end = sn_worker_now(w);
	sn_worker_flush(w, end, SN_CLOSE_END_OF_INPUT);
	sn_aggregator_tick(ag, end);
	sn_aggregator_flush(ag, end);
	struct sn_worker_counts counts;
	sn_worker_counts(w, &counts);
	sn_aggregator_write_stats(ag, &counts, NULL, end);
	sn_worker_destroy(w);
	sn_aggregator_destroy(ag);

	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	int n = 0;
	while (n < 8 && fgets(lines[n], sizeof lines[n], f))
		n++;
	ck_assert_int_eq(fgetc(f), EOF);
	fclose(f);
	unlink(path);
	ck_assert_int_eq(n, 5); /* alert, two flows, summary, stats */

	const char *alert = lines[0], *flow1 = lines[1], *flow2 = lines[2];
	const char *summary = lines[3], *stats = lines[4];
	for (int i = 0; i < n; i++) {
		SN_JSON_LINE(lines[i]);
		SN_JSON_EXPECT(lines[i], "sensor", "\"wire\"");
	}

	SN_JSON_EXPECT(alert, "event_type", "\"alert\"");
	SN_JSON_EXPECT(alert, "timestamp", "\"2026-11-28T01:23:30.938076Z\"");
	SN_JSON_EXPECT(alert, "FirstSeen", "\"2026-11-28T01:23:30.938014Z\"");
	SN_JSON_EXPECT(alert, "LastSeen", "\"2026-11-28T01:23:30.938076Z\"");
	SN_JSON_EXPECT(alert, "ConnectionCount", "1");
	SN_JSON_EXPECT(alert, "BytesSent", "215");
	SN_JSON_EXPECT(alert, "BytesReceived", "60");
	SN_JSON_EXPECT(alert, "client_ids", "[\"implant-host-1\"]");

	const char *groups[] = { alert, summary };
	for (int i = 0; i < 2; i++) {
		const char *g = groups[i];
		SN_JSON_EXPECT(g, "src_ip", "\"127.0.0.1\"");
		SN_JSON_EXPECT(g, "dest_ip", "\"127.0.0.1\"");
		SN_JSON_EXPECT(g, "Protocol", "\"MQTT\"");
		SN_JSON_EXPECT(g, "dest_port", "1883");
		SN_JSON_EXPECT(g, "IsExternal", "\"yes\"");
		SN_JSON_EXPECT(g, "process_name", "null");
		SN_JSON_EXPECT(g, "Users", "[\"implant01\"]");
		SN_JSON_EXPECT(g, "evidence", "\"payload\"");
		SN_JSON_EXPECT(g, "details.mqtt_version", "\"3.1.1\"");
		SN_JSON_EXPECT(g, "details.keepalive", "60");
		SN_JSON_EXPECT(g, "details.clean_session", "true");
		SN_JSON_EXPECT(g, "mitre_technique", "\"T1071.005\"");
	}

	const char *flows[] = { flow1, flow2 };
	static const char *const port[] = { "56818", "58016" };
	static const char *const first[] = { "\"2026-11-28T01:23:30.938014Z\"",
					     "\"2026-11-28T01:23:31.942319Z\"" };
	/*
	 * Every packet of each connection, the last ACK after both FINs among
	 * them (tshark -z conv,tcp gives the same sums): the first ends with the
	 * client's ACK, the second with the server's.
	 */
	static const char *const last[] = { "\"2026-11-28T01:23:30.938600Z\"",
					    "\"2026-11-28T01:23:31.942672Z\"" };
	static const char *const sent[] = { "505", "453" }, *const rcvd[] = { "276", "328" };
	static const char *const psent[] = { "8", "7" }, *const prcvd[] = { "5", "6" };
	static const char *const id[] = { "[\"implant-host-1\"]", "[\"implant-host-2\"]" };
	static const char *const cid[] = { "\"1:wp4jDEdx2MykleAg9qLGyR9SRNM=\"",
					   "\"1:Sbi9YghKgP4FzlzTGUcsi4YWSRE=\"" };
	for (int i = 0; i < 2; i++) {
		const char *fl = flows[i];
		SN_JSON_EXPECT(fl, "event_type", "\"flow\"");
		SN_JSON_EXPECT(fl, "timestamp", last[i]); /* its last packet */
		SN_JSON_EXPECT(fl, "FirstSeen", first[i]);
		SN_JSON_EXPECT(fl, "LastSeen", last[i]);
		SN_JSON_EXPECT(fl, "src_ip", "\"127.0.0.1\"");
		SN_JSON_EXPECT(fl, "src_port", port[i]);
		SN_JSON_EXPECT(fl, "dest_ip", "\"127.0.0.1\"");
		SN_JSON_EXPECT(fl, "dest_port", "1883");
		SN_JSON_EXPECT(fl, "Protocol", "\"MQTT\"");
		SN_JSON_EXPECT(fl, "IsExternal", "\"yes\"");
		SN_JSON_EXPECT(fl, "process_name", "null");
		SN_JSON_EXPECT(fl, "Users", "[\"implant01\"]");
		SN_JSON_EXPECT(fl, "BytesSent", sent[i]);
		SN_JSON_EXPECT(fl, "BytesReceived", rcvd[i]);
		SN_JSON_EXPECT(fl, "PacketsSent", psent[i]);
		SN_JSON_EXPECT(fl, "PacketsReceived", prcvd[i]);
		SN_JSON_EXPECT(fl, "evidence", "\"payload\"");
		SN_JSON_EXPECT(fl, "client_ids", id[i]);
		SN_JSON_EXPECT(fl, "details.mqtt_version", "\"3.1.1\"");
		SN_JSON_EXPECT(fl, "details.keepalive", "60");
		SN_JSON_EXPECT(fl, "details.clean_session", "true");
		SN_JSON_EXPECT(fl, "details.topics", "[\"c2/beacon\"]");
		SN_JSON_EXPECT(fl, "close", "\"fin\"");
		SN_JSON_EXPECT(fl, "transport", "\"tcp\"");
		SN_JSON_EXPECT(fl, "app", "\"mqtt\"");
		SN_JSON_EXPECT(fl, "action", "\"allowed\"");
		SN_JSON_EXPECT(fl, "bytes_out", sent[i]);
		SN_JSON_EXPECT(fl, "bytes_in", rcvd[i]);
		SN_JSON_EXPECT(fl, "src_user", "\"implant01\"");
		SN_JSON_EXPECT(fl, "community_id", cid[i]);
		SN_JSON_EXPECT(fl, "mitre_technique", "\"T1071.005\"");
	}

	/* at the end of the replay: the capture's last packet time */
	SN_JSON_EXPECT(summary, "event_type", "\"summary\"");
	SN_JSON_EXPECT(summary, "timestamp", "\"2026-11-28T01:23:31.942672Z\"");
	SN_JSON_EXPECT(summary, "FirstSeen", "\"2026-11-28T01:23:30.938014Z\"");
	SN_JSON_EXPECT(summary, "LastSeen", "\"2026-11-28T01:23:31.942672Z\"");
	SN_JSON_EXPECT(summary, "ConnectionCount", "2");
	SN_JSON_EXPECT(summary, "BytesSent", "958");
	SN_JSON_EXPECT(summary, "BytesReceived", "604");
	SN_JSON_EXPECT(summary, "client_ids", "[\"implant-host-1\",\"implant-host-2\"]");
	SN_JSON_EXPECT(summary, "details.topics", "[\"c2/beacon\"]");

	SN_JSON_EXPECT(stats, "event_type", "\"stats\"");
	SN_JSON_EXPECT(stats, "timestamp", "\"2026-11-28T01:23:31.942672Z\"");
	SN_JSON_EXPECT(stats, "packets", "26");
	SN_JSON_EXPECT(stats, "bytes", "1926");
	SN_JSON_EXPECT(stats, "flows_active", "0");
	SN_JSON_EXPECT(stats, "groups_active", "0");
	SN_JSON_EXPECT(stats, "alerts", "1");
	SN_JSON_EXPECT(stats, "decode_errors", "{}");
}
END_TEST

Suite *events_suite(void);

Suite *events_suite(void)
{
	Suite *s = suite_create("events");
	TCase *t = tcase_create("group");

	tcase_add_test(t, test_alert_fields);
	tcase_add_test(t, test_group_truncated_lists);
	tcase_add_test(t, test_group_allowed_by_on_summary);
	tcase_add_test(t, test_update_and_summary_kinds);
	tcase_add_test(t, test_group_minimal_ipv6_process);
	tcase_add_test(t, test_hostile_strings_escaped);
	tcase_add_test(t, test_deterministic);
	suite_add_tcase(s, t);

	t = tcase_create("flow");
	tcase_add_test(t, test_flow_fields);
	tcase_add_test(t, test_message_beacon_fields);
	tcase_add_test(t, test_flow_community_id_seed);
	tcase_add_test(t, test_flow_refuted_named_by_port);
	tcase_add_test(t, test_flow_empty_client_id);
	tcase_add_test(t, test_flow_identity_details);
	tcase_add_test(t, test_details_every_protocol);
	suite_add_tcase(s, t);

	t = tcase_create("stats");
	tcase_add_test(t, test_stats_fields);
	tcase_add_test(t, test_stats_live_and_empty);
	suite_add_tcase(s, t);

	t = tcase_create("output");
	tcase_add_test(t, test_names);
	tcase_add_test(t, test_overflow_dropped_and_counted);
	tcase_add_test(t, test_sinks_write_to_log);
	suite_add_tcase(s, t);

	t = tcase_create("capture");
	tcase_add_test(t, test_capture_events_from_the_wire);
	suite_add_tcase(s, t);
	return s;
}
