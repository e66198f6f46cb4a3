/*
 * test_events.c - the JSON Lines events (sensor/events.c): exact text of
 * alert/update/summary, flow and stats lines (golden strings), the keys the
 * schema requires in the order the spec gives, details keys only when
 * present, escaping of wire strings, determinism, overflow and writing
 * through the event log.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "events.h"

/* 2026-11-28T01:02:03.123456Z and two seconds later. */
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

static const char golden_alert[] =
	"{\"timestamp\":\"2026-11-28T01:02:05.000001Z\",\"event_type\":\"alert\",\"sensor\":\"s1\","
	"\"schema_version\":2,"
	"\"FirstSeen\":\"2026-11-28T01:02:03.123456Z\",\"LastSeen\":\"2026-11-28T01:02:05.000001Z\","
	"\"src_ip\":\"10.0.0.5\",\"dest_ip\":\"203.0.113.7\",\"Protocol\":\"MQTT\",\"dest_port\":1883,"
	"\"IsExternal\":\"yes\",\"process_name\":null,\"Users\":[\"alice\",\"bob\"],"
	"\"ConnectionCount\":2,\"BytesSent\":1200,\"BytesReceived\":340,\"Suspicion\":\"high\","
	"\"evidence\":\"payload\",\"reasons\":[\"external MQTT broker\",\"2 connections\"],"
	"\"client_ids\":[\"implant-1\"],\"details\":{\"mqtt_version\":\"3.1.1\",\"keepalive\":60,"
	"\"clean_session\":true,\"topics\":[\"c2/beacon\",\"c2/cmd\"]},"
	"\"mitre_technique\":\"T1071.005\",\"flow_ids\":[7,65543],\"truncated\":[]}\n";

START_TEST(test_alert_golden)
{
	static struct sn_events ev;
	struct sn_group g;

	sample_group(&g);
	sn_events_init(&ev, "s1", NULL);
	size_t n = sn_events_format_group(&ev, SN_EV_ALERT, &g, T1);
	ck_assert_str_eq(ev.line, golden_alert);
	ck_assert_uint_eq(n, strlen(golden_alert));
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
	ck_assert_ptr_nonnull(strstr(ev.line, "\"event_type\":\"update\""));
	check_keys_in_order(ev.line, group_keys, sizeof(group_keys) / sizeof(group_keys[0]));
	sn_events_format_group(&ev, SN_EV_SUMMARY, &g, T1);
	ck_assert_ptr_nonnull(strstr(ev.line, "\"event_type\":\"summary\""));
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
	ck_assert_str_eq(ev.line,
			 "{\"timestamp\":\"2026-11-28T01:02:03.123456Z\",\"event_type\":\"summary\","
			 "\"sensor\":\"s1\",\"schema_version\":2,\"FirstSeen\":\"2026-11-28T01:02:03.123456Z\","
			 "\"LastSeen\":\"2026-11-28T01:02:03.123456Z\",\"src_ip\":\"2001:db8::1\","
			 "\"dest_ip\":\"2001:db8::2\",\"Protocol\":\"XMPP\",\"dest_port\":5222,"
			 "\"IsExternal\":\"no\",\"process_name\":\"python3\",\"Users\":[],"
			 "\"ConnectionCount\":1,\"BytesSent\":0,\"BytesReceived\":0,"
			 "\"Suspicion\":\"low\",\"evidence\":\"port\","
			 "\"reasons\":[\"internal XMPP server\"],\"client_ids\":[],\"details\":{},"
			 "\"mitre_technique\":\"T1071.005\",\"flow_ids\":[],\"truncated\":[]}\n");
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
	ck_assert_ptr_nonnull(strstr(ev.line, ",\"truncated\":[\"Users\",\"flow_ids\"]}\n"));
	g.truncated = SN_TRUNC_USERS | SN_TRUNC_CLIENT_IDS | SN_TRUNC_TOPICS | SN_TRUNC_FLOW_IDS;
	sn_events_format_group(&ev, SN_EV_UPDATE, &g, T1);
	ck_assert_ptr_nonnull(strstr(ev.line, ",\"truncated\":[\"Users\",\"client_ids\","
					      "\"topics\",\"flow_ids\"]}\n"));
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
	ck_assert_ptr_nonnull(strstr(ev.line, ",\"truncated\":[],\"allowed_by\":\"rules.allow_users[0]\"}\n"));
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

static const char golden_flow[] =
	"{\"timestamp\":\"2026-11-28T01:02:05.000001Z\",\"event_type\":\"flow\",\"sensor\":\"s1\","
	"\"schema_version\":2,"
	"\"FirstSeen\":\"2026-11-28T01:02:03.123456Z\",\"LastSeen\":\"2026-11-28T01:02:05.000001Z\","
	"\"src_ip\":\"127.0.0.1\",\"src_port\":40000,\"dest_ip\":\"127.0.0.1\",\"dest_port\":1883,"
	"\"Protocol\":\"MQTT\",\"IsExternal\":\"no\",\"process_name\":null,\"Users\":[\"implant01\"],"
	"\"BytesSent\":500,\"BytesReceived\":120,\"PacketsSent\":6,\"PacketsReceived\":4,"
	"\"evidence\":\"payload\",\"client_ids\":[\"paho-implant-1\"],"
	"\"details\":{\"mqtt_version\":\"5.0\",\"keepalive\":30,\"will_topic\":\"c2/will\"},"
	"\"close\":\"fin\",\"transport\":\"tcp\",\"app\":\"mqtt\",\"action\":\"allowed\","
	"\"bytes_out\":500,\"bytes_in\":120,\"src_user\":\"implant01\","
	"\"flow_id\":77,\"community_id\":\"1:uGQRdAUlVwn40KDO71YoRh8Ui+c=\",\"mitre_technique\":\"T1071.005\"}\n";

START_TEST(test_flow_golden)
{
	static struct sn_events ev;
	struct sn_conn_report r;

	sample_flow(&r);
	sn_events_init(&ev, "s1", NULL);
	sn_events_format_flow(&ev, &r, SN_PROTO_MQTT, false, r.ts_us);
	ck_assert_str_eq(ev.line, golden_flow);
	check_keys_in_order(ev.line, flow_keys, sizeof(flow_keys) / sizeof(flow_keys[0]));
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
	sn_events_format_flow(&ev, &r, SN_PROTO_MQTT, true, r.ts_us);
	ck_assert_ptr_nonnull(strstr(ev.line, "\"community_id\":\"1:LQU9qZlK+B5F3KDmev6m5PMibrg=\""));
	ev.community_id_seed = 1;
	sn_events_format_flow(&ev, &r, SN_PROTO_MQTT, true, r.ts_us);
	ck_assert_ptr_nonnull(strstr(ev.line, "\"community_id\":\"1:3V71V58M3Ksw/yuFALMcW0LAHvc=\""));
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
	sn_events_format_flow(&ev, &r, SN_PROTO_NONE, false, T0);
	ck_assert_ptr_nonnull(strstr(ev.line, "\"Protocol\":\"STOMP\""));
	ck_assert_ptr_nonnull(strstr(ev.line, "\"evidence\":\"refuted\""));
	ck_assert_ptr_nonnull(strstr(ev.line, "\"Users\":[],"));
	ck_assert_ptr_nonnull(strstr(ev.line, "\"client_ids\":[],\"details\":{},\"close\":\"rst\","
					       "\"transport\":\"tcp\",\"app\":\"stomp\",\"action\":\"allowed\","
					       "\"bytes_out\":0,\"bytes_in\":0,\"src_user\":null,"));
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
	r.meta.n_alpn = 2;
	strcpy(r.meta.tls_alpn[0], "mqtt");
	strcpy(r.meta.tls_alpn[1], "x-amqp");
	strcpy(r.meta.client_id, "not-mqtt"); /* client ids are MQTT's only */
	sn_events_init(&ev, "s1", NULL);
	sn_events_format_flow(&ev, &r, SN_PROTO_XMPP, true, T0);
	ck_assert_ptr_nonnull(strstr(
		ev.line,
		"\"client_ids\":[],\"details\":{\"xmpp_to\":\"localhost\",\"xmpp_from\":\"bot@localhost\","
		"\"xmpp_ns\":\"jabber:client\",\"xmpp_version\":\"1.0\",\"starttls\":false,"
		"\"amqp_version\":\"0-9-1\",\"stomp_command\":\"STOMP\",\"stomp_accept_version\":\"1.2\","
		"\"stomp_host\":\"/\",\"tls_sni\":\"broker.example\",\"tls_alpn\":[\"mqtt\",\"x-amqp\"]},"));
	ck_assert_ptr_nonnull(strstr(ev.line, "\"IsExternal\":\"yes\""));
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

START_TEST(test_stats_golden)
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
	ck_assert_str_eq(ev.line,
			 "{\"timestamp\":\"2026-11-28T01:02:03.123456Z\",\"event_type\":\"stats\","
			 "\"sensor\":\"s1\",\"schema_version\":2,\"packets\":1000,\"bytes\":64000,"
			 "\"flows_active\":4,\"flows_evicted\":1,\"groups_active\":2,\"alerts\":1,"
			 "\"decode_errors\":{\"link_truncated\":2,\"tcp_truncated\":7},"
			 "\"counters\":{\"pool_exhausted\":3,\"output_overflow\":0}}\n");
	check_keys_in_order(ev.line, stats_keys, sizeof(stats_keys) / sizeof(stats_keys[0]));
}
END_TEST

START_TEST(test_stats_live_and_empty)
{
	static struct sn_events ev;
	struct sn_stats_view s = { .live = true, .dropped = 5, .if_dropped = 6 };

	sn_events_init(&ev, "s1", NULL);
	sn_events_format_stats(&ev, &s, 0);
	ck_assert_str_eq(ev.line,
			 "{\"timestamp\":\"1970-01-01T00:00:00.000000Z\",\"event_type\":\"stats\","
			 "\"sensor\":\"s1\",\"schema_version\":2,\"packets\":0,\"bytes\":0,"
			 "\"dropped\":5,\"if_dropped\":6,\"flows_active\":0,\"flows_evicted\":0,"
			 "\"groups_active\":0,\"alerts\":0,"
			 "\"decode_errors\":{},\"counters\":{}}\n");
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
	char path[256], buf[4096];
	const char *tmp = getenv("TMPDIR");

	snprintf(path, sizeof(path), "%s/sn-events-%ld.jsonl", tmp && *tmp ? tmp : P_tmpdir,
		 (long)getpid());
	unlink(path);
	ck_assert_int_eq(sn_eventlog_open(&log, path, false), 0);
	sn_events_init(&ev, "s1", &log);
	sample_group(&g);
	sample_flow(&r);
	sn_events_group_event(&ev, SN_EV_ALERT, &g, T1);
	sn_events_flow_event(&ev, &r, SN_PROTO_MQTT, false, r.ts_us);
	sn_eventlog_close(&log);
	ck_assert_uint_eq(log.lines, 2);

	FILE *f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	unlink(path);
	ck_assert_uint_eq(n, strlen(golden_alert) + strlen(golden_flow));
	ck_assert_int_eq(strncmp(buf, golden_alert, strlen(golden_alert)), 0);
	ck_assert_str_eq(buf + strlen(golden_alert), golden_flow);
}
END_TEST

Suite *events_suite(void);

Suite *events_suite(void)
{
	Suite *s = suite_create("events");
	TCase *t = tcase_create("group");

	tcase_add_test(t, test_alert_golden);
	tcase_add_test(t, test_group_truncated_lists);
	tcase_add_test(t, test_group_allowed_by_on_summary);
	tcase_add_test(t, test_update_and_summary_kinds);
	tcase_add_test(t, test_group_minimal_ipv6_process);
	tcase_add_test(t, test_hostile_strings_escaped);
	tcase_add_test(t, test_deterministic);
	suite_add_tcase(s, t);

	t = tcase_create("flow");
	tcase_add_test(t, test_flow_golden);
	tcase_add_test(t, test_flow_community_id_seed);
	tcase_add_test(t, test_flow_refuted_named_by_port);
	tcase_add_test(t, test_details_every_protocol);
	suite_add_tcase(s, t);

	t = tcase_create("stats");
	tcase_add_test(t, test_stats_golden);
	tcase_add_test(t, test_stats_live_and_empty);
	suite_add_tcase(s, t);

	t = tcase_create("output");
	tcase_add_test(t, test_names);
	tcase_add_test(t, test_overflow_dropped_and_counted);
	tcase_add_test(t, test_sinks_write_to_log);
	suite_add_tcase(s, t);
	return s;
}
