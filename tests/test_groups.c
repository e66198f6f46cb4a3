/*
 * test_groups.c - the aggregator (sensor/groups.c): the alert threshold,
 * update timing, summaries on expiry / flush / eviction, Users and
 * client_ids, merged topics, trusted MQTT clients, evidence, allow lists,
 * flow events, rules swaps and stats.  Reports are built by hand the way
 * the flow table sends them; the rules are the real compiled configuration.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "groups.h"
#include "testutil.h"

#define T0 1700000000000000ull /* 2023-11-14T22:13:20Z */
#define SEC 1000000ull
#define MAX_EVENTS 64

struct recorded {
	enum sn_group_event kind;
	uint64_t ts_us;
	struct sn_group g;
};

static struct {
	size_t n;
	struct recorded ev[MAX_EVENTS];
	size_t n_flows;
	struct sn_conn_report last_flow;
	enum sn_proto flow_proto;
	bool flow_external;
	uint64_t flow_ts;
	int flow_msg_kind;
} rec;

static struct sn_config cfg;
static struct sn_rules rules;

static void on_group(void *ctx, enum sn_group_event kind, const struct sn_group *g, uint64_t ts)
{
	(void)ctx;
	if (rec.n == MAX_EVENTS)
		return; /* tests that make more only read the counters */
	rec.ev[rec.n].kind = kind;
	rec.ev[rec.n].ts_us = ts;
	rec.ev[rec.n].g = *g;
	rec.n++;
}

static void on_flow(void *ctx, const struct sn_conn_report *r, enum sn_proto proto, bool external,
		    int msg_kind, uint64_t ts)
{
	(void)ctx;
	rec.flow_msg_kind = msg_kind;
	rec.n_flows++;
	rec.last_flow = *r;
	rec.flow_proto = proto;
	rec.flow_external = external;
	rec.flow_ts = ts;
}

static const struct sn_group_sink sink = { on_group, on_flow, NULL };

/* Home network 10.0.0.0/8; every group alerts once it has 2 connections. */
static void compile_rules(void)
{
	char err[256];

	ck_assert_int_eq(sn_rules_init(&rules, &cfg, err, sizeof(err)), 0);
}

static void setup(void)
{
	memset(&rec, 0, sizeof(rec));
	sn_config_defaults(&cfg);
	cfg.n_home_networks = 1;
	ck_assert(sn_cidr_parse("10.0.0.0/8", &cfg.home_networks[0]));
	cfg.rules.min_connections = 2;
	cfg.rules.min_suspicion = SN_SUSP_LOW;
	compile_rules();
}

static void teardown(void)
{
	sn_rules_free(&rules);
}

static struct sn_groups *make(uint32_t max_groups, bool flows)
{
	struct sn_groups_config gc = {
		.max_groups = max_groups,
		.group_window_s = 300,
		.update_interval_s = 60,
		.flow_events = flows,
	};
	struct sn_groups *g = sn_groups_create(&gc, &rules, &sink);

	ck_assert_ptr_nonnull(g);
	return g;
}

/* An MQTT connection from 10.0.0.5 to the external broker 203.0.113.7:1883. */
static struct sn_conn_report conn(enum sn_report_kind kind, uint64_t ts, uint16_t client_port)
{
	struct sn_conn_report r;

	memset(&r, 0, sizeof(r));
	r.kind = kind;
	r.ts_us = r.first_us = r.last_us = ts;
	ck_assert(sn_addr_parse("10.0.0.5", &r.client));
	ck_assert(sn_addr_parse("203.0.113.7", &r.server));
	r.client_port = client_port;
	r.server_port = 1883;
	r.proto = r.port_proto = SN_PROTO_MQTT;
	r.evidence = SN_EVIDENCE_PAYLOAD;
	r.bytes_delta[SN_DIR_C2S] = r.bytes[SN_DIR_C2S] = 100;
	r.bytes_delta[SN_DIR_S2C] = r.bytes[SN_DIR_S2C] = 40;
	r.meta.proto = SN_PROTO_MQTT;
	strcpy(r.meta.mqtt_version, "3.1.1");
	return r;
}

static void feed(struct sn_groups *g, const struct sn_conn_report *r)
{
	sn_groups_report(g, r);
}

static void open_conn(struct sn_groups *g, uint64_t ts, uint16_t port)
{
	struct sn_conn_report r = conn(SN_REPORT_OPEN, ts, port);

	feed(g, &r);
}

static struct sn_groups_stats stats(const struct sn_groups *g)
{
	struct sn_groups_stats st;

	sn_groups_stats(g, &st);
	return st;
}

/* --- threshold -------------------------------------------------------- */

START_TEST(test_one_connection_no_alert_two_alert_once)
{
	struct sn_groups *g = make(16, false);

	open_conn(g, T0, 40001);
	ck_assert_uint_eq(rec.n, 0);
	open_conn(g, T0 + 5 * SEC, 40002);
	ck_assert_uint_eq(rec.n, 1);
	ck_assert_int_eq(rec.ev[0].kind, SN_EV_ALERT);
	ck_assert_uint_eq(rec.ev[0].ts_us, T0 + 5 * SEC); /* the second OPEN's time */
	ck_assert_uint_eq(rec.ev[0].g.connections, 2);
	ck_assert_uint_eq(rec.ev[0].g.bytes_sent, 200);
	ck_assert_uint_eq(rec.ev[0].g.bytes_received, 80);
	ck_assert_uint_eq(rec.ev[0].g.first_us, T0);
	ck_assert_uint_eq(rec.ev[0].g.last_us, T0 + 5 * SEC);
	ck_assert(rec.ev[0].g.external);
	ck_assert_uint_ge(rec.ev[0].g.rating.n_reasons, 1);
	open_conn(g, T0 + 6 * SEC, 40003);
	ck_assert_uint_eq(rec.n, 1); /* alert once */
	struct sn_groups_stats st = stats(g);
	ck_assert_uint_eq(st.alerts, 1);
	ck_assert_uint_eq(st.connections, 3);
	ck_assert_uint_eq(st.groups_active, 1);
	ck_assert_uint_eq(st.groups_created, 1);
	sn_groups_destroy(g);
}
END_TEST

START_TEST(test_min_connections_from_config)
{
	sn_rules_free(&rules);
	cfg.rules.min_connections = 3;
	compile_rules();
	struct sn_groups *g = make(16, false);

	open_conn(g, T0, 1);
	open_conn(g, T0 + SEC, 2);
	ck_assert_uint_eq(rec.n, 0);
	open_conn(g, T0 + 2 * SEC, 3);
	ck_assert_uint_eq(rec.n, 1);
	ck_assert_uint_eq(rec.ev[0].ts_us, T0 + 2 * SEC);
	sn_groups_destroy(g);
}
END_TEST

START_TEST(test_proto_none_ignored)
{
	struct sn_groups *g = make(16, true);
	struct sn_conn_report r = conn(SN_REPORT_OPEN, T0, 1);

	r.proto = SN_PROTO_NONE;
	feed(g, &r);
	r.kind = SN_REPORT_CLOSE;
	feed(g, &r);
	ck_assert_uint_eq(stats(g).groups_active, 0);
	ck_assert_uint_eq(stats(g).connections, 0);
	ck_assert_uint_eq(rec.n_flows, 0);
	sn_groups_destroy(g);
}
END_TEST

START_TEST(test_only_open_creates_groups)
{
	struct sn_groups *g = make(16, false);
	struct sn_conn_report r = conn(SN_REPORT_UPDATE, T0, 1);

	feed(g, &r);
	r.kind = SN_REPORT_CLOSE;
	feed(g, &r);
	ck_assert_uint_eq(stats(g).groups_created, 0);
	sn_groups_destroy(g);
}
END_TEST

START_TEST(test_key_separates_groups)
{
	struct sn_groups *g = make(16, false);
	struct sn_conn_report r = conn(SN_REPORT_OPEN, T0, 1);

	feed(g, &r);
	strcpy(r.process_name, "python3"); /* another process: another group */
	feed(g, &r);
	r.process_name[0] = '\0';
	r.server_port = 8883;              /* another port */
	feed(g, &r);
	r.server_port = 1883;
	ck_assert(sn_addr_parse("10.9.9.9", &r.server)); /* internal server */
	feed(g, &r);
	ck_assert_uint_eq(stats(g).groups_active, 4);
	ck_assert_uint_eq(rec.n, 0);
	r = conn(SN_REPORT_OPEN, T0 + SEC, 2); /* back to the first key */
	feed(g, &r);
	ck_assert_uint_eq(rec.n, 1);
	ck_assert_uint_eq(rec.ev[0].g.dest_port, 1883);
	ck_assert_str_eq(rec.ev[0].g.process_name, "");
	sn_groups_destroy(g);
}
END_TEST

/* --- update timing ------------------------------------------------------ */

static struct sn_groups *alerted_group(void)
{
	struct sn_groups *g = make(16, false);

	open_conn(g, T0, 1);
	open_conn(g, T0 + SEC, 2); /* alert at T0 + 1 s */
	ck_assert_uint_eq(rec.n, 1);
	return g;
}

static void more_bytes(struct sn_groups *g, uint64_t ts)
{
	struct sn_conn_report r = conn(SN_REPORT_UPDATE, ts, 1);

	r.first_us = T0;
	feed(g, &r);
}

START_TEST(test_update_at_most_once_per_interval)
{
	struct sn_groups *g = alerted_group();

	more_bytes(g, T0 + 10 * SEC);
	sn_groups_tick(g, T0 + 20 * SEC);
	ck_assert_uint_eq(rec.n, 1); /* changed, but the interval is not over */
	sn_groups_tick(g, T0 + 61 * SEC);
	ck_assert_uint_eq(rec.n, 2);
	ck_assert_int_eq(rec.ev[1].kind, SN_EV_UPDATE);
	ck_assert_uint_eq(rec.ev[1].ts_us, T0 + 61 * SEC);
	ck_assert_uint_eq(rec.ev[1].g.bytes_sent, 300);
	ck_assert_uint_eq(rec.ev[1].g.last_us, T0 + 10 * SEC);
	sn_groups_tick(g, T0 + 62 * SEC);
	ck_assert_uint_eq(rec.n, 2);          /* nothing changed since */

	more_bytes(g, T0 + 70 * SEC);
	sn_groups_tick(g, T0 + 100 * SEC);
	ck_assert_uint_eq(rec.n, 2);          /* next one due 60 s after the last */
	sn_groups_tick(g, T0 + 121 * SEC);
	ck_assert_uint_eq(rec.n, 3);
	ck_assert_int_eq(rec.ev[2].kind, SN_EV_UPDATE);
	ck_assert_uint_eq(stats(g).updates, 2);
	sn_groups_destroy(g);
}
END_TEST

START_TEST(test_no_update_without_change)
{
	struct sn_groups *g = alerted_group();
	struct sn_conn_report r = conn(SN_REPORT_UPDATE, T0 + SEC, 2);

	r.bytes_delta[0] = r.bytes_delta[1] = 0; /* same times, no new bytes */
	feed(g, &r);
	for (uint64_t s = 2; s < 200; s += 7)
		sn_groups_tick(g, T0 + s * SEC);
	ck_assert_uint_eq(rec.n, 1);
	sn_groups_destroy(g);
}
END_TEST

START_TEST(test_unalerted_groups_never_update)
{
	struct sn_groups *g = make(16, false);

	open_conn(g, T0, 1);
	more_bytes(g, T0 + SEC);
	sn_groups_tick(g, T0 + 100 * SEC);
	ck_assert_uint_eq(rec.n, 0);
	sn_groups_destroy(g);
}
END_TEST

/* --- ending ------------------------------------------------------------- */

START_TEST(test_summary_on_expiry)
{
	struct sn_groups *g = alerted_group();

	sn_groups_tick(g, T0 + SEC + 299 * SEC);
	ck_assert_uint_eq(rec.n, 1);
	sn_groups_tick(g, T0 + SEC + 300 * SEC);
	ck_assert_uint_eq(rec.n, 2);
	ck_assert_int_eq(rec.ev[1].kind, SN_EV_SUMMARY);
	ck_assert_uint_eq(rec.ev[1].ts_us, T0 + 301 * SEC);
	ck_assert_uint_eq(rec.ev[1].g.connections, 2);
	struct sn_groups_stats st = stats(g);
	ck_assert_uint_eq(st.groups_active, 0);
	ck_assert_uint_eq(st.groups_expired, 1);
	ck_assert_uint_eq(st.summaries, 1);
	/* the same key later is a new group that must cross the threshold again */
	open_conn(g, T0 + 400 * SEC, 3);
	ck_assert_uint_eq(rec.n, 2);
	sn_groups_destroy(g);
}
END_TEST

/* group_window 0 (replay): no group ends by time; connections months apart
 * count together, as the search's stats without a window counts them. */
START_TEST(test_no_window_in_replay)
{
	struct sn_groups_config gc = { .max_groups = 16, .group_window_s = 0,
				       .update_interval_s = 60 };
	struct sn_groups *g = sn_groups_create(&gc, &rules, &sink);
	const uint64_t month = 30ull * 86400 * SEC;

	ck_assert_ptr_nonnull(g);
	for (unsigned i = 0; i < 5; i++) {
		open_conn(g, T0 + i * month, (uint16_t)(i + 1));
		sn_groups_tick(g, T0 + i * month + SEC);
	}
	ck_assert_uint_eq(stats(g).groups_expired, 0);
	ck_assert_uint_eq(stats(g).groups_created, 1);
	ck_assert_uint_eq(rec.ev[0].kind, SN_EV_ALERT);
	sn_groups_flush(g, T0 + 5 * month);
	ck_assert_int_eq(rec.ev[rec.n - 1].kind, SN_EV_SUMMARY);
	ck_assert_uint_eq(rec.ev[rec.n - 1].g.connections, 5);
	sn_groups_destroy(g);
}
END_TEST

START_TEST(test_expiry_of_unalerted_is_silent)
{
	struct sn_groups *g = make(16, false);

	open_conn(g, T0, 1);
	sn_groups_tick(g, T0 + 300 * SEC);
	ck_assert_uint_eq(rec.n, 0);
	ck_assert_uint_eq(stats(g).groups_expired, 1);
	ck_assert_uint_eq(stats(g).groups_active, 0);
	sn_groups_destroy(g);
}
END_TEST

START_TEST(test_expiry_of_dirty_group_summarises_once)
{
	struct sn_groups *g = alerted_group();

	more_bytes(g, T0 + 5 * SEC);
	sn_groups_tick(g, T0 + 400 * SEC);
	ck_assert_uint_eq(rec.n, 3); /* the due update, then the summary */
	ck_assert_int_eq(rec.ev[1].kind, SN_EV_UPDATE);
	ck_assert_int_eq(rec.ev[2].kind, SN_EV_SUMMARY);
	sn_groups_tick(g, T0 + 800 * SEC);
	ck_assert_uint_eq(rec.n, 3);
	sn_groups_destroy(g);
}
END_TEST

static void open_from(struct sn_groups *g, const char *client, uint64_t ts, uint16_t port)
{
	struct sn_conn_report r = conn(SN_REPORT_OPEN, ts, port);

	ck_assert(sn_addr_parse(client, &r.client));
	feed(g, &r);
}

static void open_to(struct sn_groups *g, const char *client, const char *server, uint64_t ts,
		    uint16_t port)
{
	struct sn_conn_report r = conn(SN_REPORT_OPEN, ts, port);

	ck_assert(sn_addr_parse(client, &r.client));
	ck_assert(sn_addr_parse(server, &r.server));
	feed(g, &r);
}

/* Groups that end without alerting are counted by the threshold they missed. */
START_TEST(test_groups_below_thresholds_counted)
{
	sn_rules_free(&rules);
	cfg.rules.min_connections = 2;
	cfg.rules.min_suspicion = SN_SUSP_HIGH;
	compile_rules();
	struct sn_groups *g = make(16, false);

	open_to(g, "10.0.0.1", "203.0.113.7", T0, 1);     /* external MQTT, high: 1 connection */
	open_to(g, "10.0.0.2", "10.0.0.9", T0, 1);        /* internal MQTT, low: 2 connections */
	open_to(g, "10.0.0.2", "10.0.0.9", T0 + 1, 2);
	open_to(g, "10.0.0.3", "10.0.0.9", T0, 1);        /* internal, 1 connection: both */
	open_to(g, "10.0.0.4", "10.0.0.9", T0, 1);
	open_to(g, "10.0.0.5", "203.0.113.7", T0, 1);     /* alerts: high, 2 connections */
	open_to(g, "10.0.0.5", "203.0.113.7", T0 + 1, 2);
	ck_assert_uint_eq(rec.n, 1);
	sn_groups_flush(g, T0 + 10 * SEC);
	struct sn_groups_stats st = stats(g);
	ck_assert_uint_eq(st.below_connections, 1);
	ck_assert_uint_eq(st.below_suspicion, 1);
	ck_assert_uint_eq(st.below_both, 2);
	ck_assert_uint_eq(st.summaries, 1);
	sn_groups_destroy(g);
}
END_TEST

START_TEST(test_flush_summaries_in_creation_order)
{
	struct sn_groups *g = make(16, false);

	open_from(g, "10.0.0.1", T0, 1);
	open_from(g, "10.0.0.2", T0 + 1, 1);
	open_from(g, "10.0.0.3", T0 + 2, 1); /* never alerts */
	open_from(g, "10.0.0.2", T0 + 3, 2);
	open_from(g, "10.0.0.1", T0 + 4, 2); /* 10.0.0.1 is now the most recent */
	ck_assert_uint_eq(rec.n, 2);
	sn_groups_flush(g, T0 + 10 * SEC);
	ck_assert_uint_eq(rec.n, 4);
	ck_assert_int_eq(rec.ev[2].kind, SN_EV_SUMMARY);
	ck_assert_int_eq(rec.ev[3].kind, SN_EV_SUMMARY);
	ck_assert_uint_eq(rec.ev[2].g.src.b[3], 1);
	ck_assert_uint_eq(rec.ev[3].g.src.b[3], 2);
	ck_assert_uint_eq(rec.ev[2].ts_us, T0 + 10 * SEC);
	ck_assert_uint_eq(stats(g).groups_active, 0);
	sn_groups_flush(g, T0 + 11 * SEC);
	ck_assert_uint_eq(rec.n, 4);
	sn_groups_destroy(g);
}
END_TEST

START_TEST(test_eviction_when_full)
{
	struct sn_groups *g = make(2, false);

	open_from(g, "10.0.0.1", T0, 1);
	open_from(g, "10.0.0.1", T0 + 1, 2); /* A alerts */
	open_from(g, "10.0.0.2", T0 + 2, 1); /* B */
	ck_assert_uint_eq(rec.n, 1);
	open_from(g, "10.0.0.3", T0 + 3, 1); /* full: A is least recently seen */
	ck_assert_uint_eq(rec.n, 2);
	ck_assert_int_eq(rec.ev[1].kind, SN_EV_SUMMARY);
	ck_assert_uint_eq(rec.ev[1].g.src.b[3], 1);
	ck_assert_uint_eq(rec.ev[1].ts_us, T0 + 3);
	open_from(g, "10.0.0.4", T0 + 4, 1); /* evicts B: not alerted, no summary */
	ck_assert_uint_eq(rec.n, 2);
	struct sn_groups_stats st = stats(g);
	ck_assert_uint_eq(st.groups_evicted, 2);
	ck_assert_uint_eq(st.groups_active, 2);
	ck_assert_uint_eq(st.groups_created, 4);
	/* the survivors are still found by key */
	open_from(g, "10.0.0.4", T0 + 5, 2);
	ck_assert_uint_eq(rec.n, 3);
	ck_assert_int_eq(rec.ev[2].kind, SN_EV_ALERT);
	ck_assert_uint_eq(rec.ev[2].g.src.b[3], 4);
	sn_groups_destroy(g);
}
END_TEST

START_TEST(test_many_groups_recycle_slots)
{
	struct sn_groups *g = make(8, false);
	char ip[32];

	for (unsigned i = 0; i < 200; i++) {
		snprintf(ip, sizeof(ip), "10.0.%u.%u", i / 200, i % 200 + 1);
		open_from(g, ip, T0 + i, 1);
		open_from(g, ip, T0 + i, 2);
	}
	struct sn_groups_stats st = stats(g);
	ck_assert_uint_eq(st.groups_active, 8);
	ck_assert_uint_eq(st.groups_evicted, 192);
	ck_assert_uint_eq(st.alerts, 200);
	ck_assert_uint_eq(st.summaries, 192);
	sn_groups_flush(g, T0 + 1000 * SEC);
	ck_assert_uint_eq(stats(g).summaries, 200);
	sn_groups_destroy(g);
}
END_TEST

/* --- names, topics, details ---------------------------------------------- */

START_TEST(test_users_sorted_distinct)
{
	struct sn_groups *g = make(16, false);
	static const char *const users[] = { "carol", "alice", "bob", "alice", "" };

	for (unsigned i = 0; i < 5; i++) {
		struct sn_conn_report r = conn(SN_REPORT_OPEN, T0 + i, (uint16_t)(i + 1));
		strcpy(r.meta.user, users[i]);
		feed(g, &r);
	}
	sn_groups_flush(g, T0 + SEC);
	const struct sn_group *s = &rec.ev[rec.n - 1].g;
	ck_assert_uint_eq(s->n_users, 3);
	ck_assert_str_eq(s->users[0], "alice");
	ck_assert_str_eq(s->users[1], "bob");
	ck_assert_str_eq(s->users[2], "carol");
	sn_groups_destroy(g);
}
END_TEST

START_TEST(test_client_ids_sorted_capped)
{
	struct sn_groups *g = make(16, false);

	for (unsigned i = 0; i < 20; i++) {
		struct sn_conn_report r = conn(SN_REPORT_OPEN, T0 + i, (uint16_t)(i + 1));
		snprintf(r.meta.client_id, sizeof(r.meta.client_id), "id-%02u", 19 - i);
		feed(g, &r);
	}
	sn_groups_flush(g, T0 + SEC);
	const struct sn_group *s = &rec.ev[rec.n - 1].g;
	ck_assert_uint_eq(s->n_client_ids, SN_GROUP_NAMES);
	for (unsigned i = 1; i < s->n_client_ids; i++)
		ck_assert_int_lt(strcmp(s->client_ids[i - 1], s->client_ids[i]), 0);
	/* the first sixteen seen are kept: id-19 .. id-04 */
	ck_assert_str_eq(s->client_ids[0], "id-04");
	ck_assert_str_eq(s->client_ids[15], "id-19");
	sn_groups_destroy(g);
}
END_TEST

/*
 * Users, client ids and topics at 15, 16 and 17 distinct values: the list
 * keeps sixteen, and only the seventeenth sets its `truncated` bit.
 * Connections from one client each carry a distinct user, client id and
 * topic; a repeat of a kept value never marks the list.
 */
static uint8_t truncated_after(unsigned values)
{
	struct sn_groups *g = make(16, false);

	memset(&rec, 0, sizeof(rec));
	for (unsigned i = 0; i < values; i++) {
		struct sn_conn_report r = conn(SN_REPORT_OPEN, T0 + i, (uint16_t)(i + 1));
		snprintf(r.meta.user, sizeof(r.meta.user), "user-%02u", i);
		snprintf(r.meta.client_id, sizeof(r.meta.client_id), "id-%02u", i);
		r.meta.n_topics = 1;
		snprintf(r.meta.topics[0], sizeof(r.meta.topics[0]), "t/%02u", i);
		feed(g, &r);
		r.kind = SN_REPORT_UPDATE; /* the same values again */
		feed(g, &r);
	}
	sn_groups_flush(g, T0 + SEC);
	const struct sn_group *s = &rec.ev[rec.n - 1].g;
	unsigned kept = values < 16 ? values : 16;
	ck_assert_uint_eq(s->n_users, kept);
	ck_assert_uint_eq(s->n_client_ids, kept);
	ck_assert_uint_eq(s->details.n_topics, kept);
	uint8_t bits = s->truncated;
	sn_groups_destroy(g);
	return bits;
}

START_TEST(test_lists_truncated_at_17)
{
	ck_assert_uint_eq(truncated_after(15), 0);
	ck_assert_uint_eq(truncated_after(16), 0);
	ck_assert_uint_eq(truncated_after(17),
			  SN_TRUNC_USERS | SN_TRUNC_CLIENT_IDS | SN_TRUNC_TOPICS);
}
END_TEST

/* A topic the dissector had to drop (its own list full) marks the group. */
START_TEST(test_topics_truncated_by_dissector)
{
	struct sn_groups *g = make(16, false);
	struct sn_conn_report r = conn(SN_REPORT_OPEN, T0, 1);

	feed(g, &r);
	r = conn(SN_REPORT_OPEN, T0 + 1, 2);
	r.meta.n_topics = 1;
	strcpy(r.meta.topics[0], "c2/a");
	r.meta.topics_truncated = true;
	feed(g, &r);
	ck_assert_uint_eq(rec.n, 1);
	ck_assert_uint_eq(rec.ev[0].g.truncated, SN_TRUNC_TOPICS);
	sn_groups_destroy(g);
}
END_TEST

/* flow_ids: every connection's up to 64, in OPEN order; the 65th marks it. */
static struct sn_group flow_ids_after(unsigned conns)
{
	struct sn_groups *g = make(16, false);

	memset(&rec, 0, sizeof(rec));
	for (unsigned i = 0; i < conns; i++) {
		struct sn_conn_report r = conn(SN_REPORT_OPEN, T0 + i, (uint16_t)(i + 1));
		r.flow_id = 1000 + i;
		feed(g, &r);
		r.kind = SN_REPORT_CLOSE; /* later reports of a connection add nothing */
		feed(g, &r);
	}
	sn_groups_flush(g, T0 + SEC);
	sn_groups_destroy(g);
	return rec.ev[rec.n - 1].g;
}

START_TEST(test_flow_ids_capped_at_64)
{
	struct sn_group s = flow_ids_after(64);

	ck_assert_uint_eq(s.n_flow_ids, 64);
	ck_assert_uint_eq(s.flow_ids[0], 1000);
	ck_assert_uint_eq(s.flow_ids[63], 1063);
	ck_assert_uint_eq(s.truncated, 0);
	s = flow_ids_after(65);
	ck_assert_uint_eq(s.connections, 65);
	ck_assert_uint_eq(s.n_flow_ids, 64);
	ck_assert_uint_eq(s.flow_ids[63], 1063);
	ck_assert_uint_eq(s.truncated, SN_TRUNC_FLOW_IDS);
}
END_TEST

/* A CONNECT with an empty client id is a client id of "", once; one without any is none. */
START_TEST(test_empty_client_id_kept)
{
	struct sn_groups *g = make(16, false);

	for (unsigned i = 0; i < 3; i++) {
		struct sn_conn_report r = conn(SN_REPORT_OPEN, T0 + i, (uint16_t)(i + 1));
		r.meta.has_client_id = i < 2; /* the third's CONNECT was not seen */
		feed(g, &r);
	}
	struct sn_conn_report r = conn(SN_REPORT_OPEN, T0 + 5, 9);
	r.meta.has_client_id = true;
	strcpy(r.meta.client_id, "named");
	feed(g, &r);
	sn_groups_flush(g, T0 + SEC);
	const struct sn_group *last = &rec.ev[rec.n - 1].g;
	ck_assert_uint_eq(last->n_client_ids, 2);
	ck_assert_str_eq(last->client_ids[0], "");
	ck_assert_str_eq(last->client_ids[1], "named");
	sn_groups_destroy(g);
}
END_TEST

START_TEST(test_client_ids_only_for_mqtt)
{
	struct sn_groups *g = make(16, false);

	for (unsigned i = 0; i < 2; i++) {
		struct sn_conn_report r = conn(SN_REPORT_OPEN, T0 + i, (uint16_t)(i + 1));
		r.proto = r.port_proto = r.meta.proto = SN_PROTO_STOMP;
		r.server_port = 61613;
		strcpy(r.meta.client_id, "x");
		strcpy(r.meta.user, "guest");
		feed(g, &r);
	}
	ck_assert_uint_eq(rec.n, 1);
	ck_assert_uint_eq(rec.ev[0].g.n_client_ids, 0);
	ck_assert_uint_eq(rec.ev[0].g.n_users, 1);
	ck_assert_uint_eq(rec.ev[0].g.untrusted_mqtt, 0);
	sn_groups_destroy(g);
}
END_TEST

START_TEST(test_topics_merged)
{
	struct sn_groups *g = make(16, false);
	struct sn_conn_report r = conn(SN_REPORT_OPEN, T0, 1);

	r.meta.n_topics = 2;
	strcpy(r.meta.topics[0], "c2/a");
	strcpy(r.meta.topics[1], "c2/b");
	feed(g, &r);
	r = conn(SN_REPORT_OPEN, T0 + SEC, 2);
	r.meta.n_topics = 2;
	strcpy(r.meta.topics[0], "c2/b");
	strcpy(r.meta.topics[1], "c2/c");
	feed(g, &r);
	ck_assert_uint_eq(rec.n, 1);
	const struct sn_meta *d = &rec.ev[0].g.details;
	ck_assert_uint_eq(d->n_topics, 3);
	ck_assert_str_eq(d->topics[0], "c2/a");
	ck_assert_str_eq(d->topics[1], "c2/b");
	ck_assert_str_eq(d->topics[2], "c2/c");

	/* at most sixteen */
	for (unsigned i = 0; i < 30; i++) {
		r = conn(SN_REPORT_UPDATE, T0 + 2 * SEC, 2);
		r.meta.n_topics = 1;
		snprintf(r.meta.topics[0], sizeof(r.meta.topics[0]), "t/%u", i);
		feed(g, &r);
	}
	sn_groups_flush(g, T0 + 3 * SEC);
	ck_assert_uint_eq(rec.ev[rec.n - 1].g.details.n_topics, SN_META_TOPICS);
	sn_groups_destroy(g);
}
END_TEST

START_TEST(test_details_from_first_confirmed)
{
	struct sn_groups *g = make(16, false);
	struct sn_conn_report r = conn(SN_REPORT_OPEN, T0, 1);

	r.evidence = SN_EVIDENCE_PORT; /* not confirmed: no details */
	memset(&r.meta, 0, sizeof(r.meta));
	feed(g, &r);
	r = conn(SN_REPORT_OPEN, T0 + SEC, 2);
	strcpy(r.meta.mqtt_version, "5.0");
	r.meta.has_keepalive = true;
	r.meta.keepalive = 30;
	feed(g, &r);
	r = conn(SN_REPORT_OPEN, T0 + 2 * SEC, 3);
	strcpy(r.meta.mqtt_version, "3.1");
	feed(g, &r);
	/* the first confirmed connection tells more later: its details follow */
	r = conn(SN_REPORT_UPDATE, T0 + 3 * SEC, 2);
	r.first_us = T0 + SEC;
	r.meta_changed = true;
	strcpy(r.meta.mqtt_version, "5.0");
	strcpy(r.meta.will_topic, "c2/will");
	feed(g, &r);
	sn_groups_flush(g, T0 + 4 * SEC);
	const struct sn_group *s = &rec.ev[rec.n - 1].g;
	ck_assert(s->has_details);
	ck_assert_str_eq(s->details.mqtt_version, "5.0");
	ck_assert_str_eq(s->details.will_topic, "c2/will");
	ck_assert_int_eq(s->evidence, SN_EVIDENCE_PAYLOAD);
	sn_groups_destroy(g);
}
END_TEST

static bool has_reason(const struct sn_rating *r, const char *want);

/*
 * Command topics are matched once each: when the details are replaced (the
 * first confirmed connection told more, so its topics come first) or the
 * rules change, every topic is matched again and the reason names the right one.
 */
START_TEST(test_command_topics_after_details_and_rules_change)
{
	struct sn_groups *g = make(16, false);
	struct sn_conn_report r = conn(SN_REPORT_OPEN, T0, 1);

	r.meta.n_topics = 1;
	strcpy(r.meta.topics[0], "data/a");
	feed(g, &r);
	r = conn(SN_REPORT_UPDATE, T0 + SEC, 1);
	r.first_us = T0; /* the same connection */
	r.meta_changed = true;
	r.meta.n_topics = 1;
	strcpy(r.meta.topics[0], "cmd/x"); /* details now: cmd/x, data/a */
	feed(g, &r);
	open_conn(g, T0 + 2 * SEC, 2); /* alerts */
	ck_assert_uint_eq(rec.n, 1);
	const struct sn_group *a = &rec.ev[0].g;
	ck_assert_str_eq(a->details.topics[0], "cmd/x");
	ck_assert_str_eq(a->details.topics[1], "data/a");
	ck_assert_uint_eq(a->command_topics, 1u);
	ck_assert(has_reason(&a->rating, "command channel: topic 'cmd/x'"));

	static struct sn_config cfg2;
	static struct sn_rules rules2;
	char err[256];
	cfg2 = cfg;
	cfg2.rules.n_command_patterns = 1;
	strcpy(cfg2.rules.command_patterns[0], "data");
	ck_assert_int_eq(sn_rules_init(&rules2, &cfg2, err, sizeof(err)), 0);
	sn_groups_set_rules(g, &rules2);
	more_bytes(g, T0 + 3 * SEC);
	sn_groups_flush(g, T0 + 4 * SEC);
	const struct sn_group *s = &rec.ev[rec.n - 1].g;
	ck_assert_int_eq(rec.ev[rec.n - 1].kind, SN_EV_SUMMARY);
	ck_assert_uint_eq(s->command_topics, 2u);
	ck_assert(has_reason(&s->rating, "command channel: topic 'data/a'"));
	sn_groups_destroy(g);
	sn_rules_free(&rules2);
}
END_TEST

START_TEST(test_tls_alpn_remembered)
{
	struct sn_groups *g = make(16, false);
	struct sn_conn_report r = conn(SN_REPORT_OPEN, T0, 1);

	r.server_port = 8883;
	r.port_is_tls = true;
	r.evidence = SN_EVIDENCE_TLS;
	memset(&r.meta, 0, sizeof(r.meta));
	r.meta.carrier = SN_CARRIER_TLS;
	r.meta.proto = SN_PROTO_MQTT;
	r.meta.n_tls_alpn = 1;
	strcpy(r.meta.tls_alpn[0], "mqtt");
	strcpy(r.meta.tls_sni, "broker.example");
	feed(g, &r);
	r.client_port = 2;
	feed(g, &r);
	ck_assert_uint_eq(rec.n, 1);
	ck_assert_str_eq(rec.ev[0].g.tls_alpn, "mqtt");
	ck_assert_str_eq(rec.ev[0].g.details.tls_sni, "broker.example");
	ck_assert_int_eq(rec.ev[0].g.evidence, SN_EVIDENCE_TLS);
	sn_groups_destroy(g);
}
END_TEST

/* --- rules facts ---------------------------------------------------------- */

START_TEST(test_evidence_best_and_refuted)
{
	struct sn_groups *g = make(16, false);
	struct sn_conn_report r = conn(SN_REPORT_OPEN, T0, 1);

	r.evidence = SN_EVIDENCE_REFUTED;
	feed(g, &r);
	sn_groups_flush(g, T0);
	/* one connection: nothing emitted; look again with a second one */
	r = conn(SN_REPORT_OPEN, T0, 1);
	r.evidence = SN_EVIDENCE_REFUTED;
	feed(g, &r);
	r.client_port = 2;
	r.evidence = SN_EVIDENCE_TLS;
	feed(g, &r);
	ck_assert_uint_eq(rec.n, 1);
	ck_assert_int_eq(rec.ev[0].g.evidence, SN_EVIDENCE_TLS);
	ck_assert(rec.ev[0].g.any_refuted);
	r.client_port = 3;
	r.evidence = SN_EVIDENCE_PAYLOAD;
	feed(g, &r);
	r.client_port = 4;
	r.evidence = SN_EVIDENCE_PORT;
	feed(g, &r);
	sn_groups_flush(g, T0 + SEC);
	ck_assert_int_eq(rec.ev[rec.n - 1].g.evidence, SN_EVIDENCE_PAYLOAD);
	ck_assert(rec.ev[rec.n - 1].g.any_refuted);
	sn_groups_destroy(g);
}
END_TEST

START_TEST(test_refuted_only_is_refuted)
{
	struct sn_groups *g = make(16, false);

	for (uint16_t p = 1; p <= 2; p++) {
		struct sn_conn_report r = conn(SN_REPORT_OPEN, T0, p);
		r.evidence = SN_EVIDENCE_REFUTED;
		memset(&r.meta, 0, sizeof(r.meta));
		feed(g, &r);
	}
	sn_groups_flush(g, T0 + SEC);
	/* whether it alerts is the rules' call; if it did, evidence reads "refuted" */
	for (size_t i = 0; i < rec.n; i++) {
		ck_assert_int_eq(rec.ev[i].g.evidence, SN_EVIDENCE_REFUTED);
		ck_assert(rec.ev[i].g.any_refuted);
		ck_assert(!rec.ev[i].g.has_details);
	}
	sn_groups_destroy(g);
}
END_TEST

static void open_with_client_id(struct sn_groups *g, uint64_t ts, uint16_t port, const char *id)
{
	struct sn_conn_report r = conn(SN_REPORT_OPEN, ts, port);

	strcpy(r.meta.client_id, id);
	feed(g, &r);
}

START_TEST(test_trusted_mqtt_clients_low_no_alert)
{
	sn_rules_free(&rules);
	cfg.rules.min_suspicion = SN_SUSP_MEDIUM;
	cfg.rules.n_trusted_mqtt_clients = 1;
	strcpy(cfg.rules.trusted_mqtt_clients[0], "^sensor-[0-9]+$");
	compile_rules();
	struct sn_groups *g = make(16, false);

	open_with_client_id(g, T0, 1, "sensor-1");
	open_with_client_id(g, T0 + SEC, 2, "sensor-2");
	open_with_client_id(g, T0 + 2 * SEC, 3, "SENSOR-3"); /* case-insensitive */
	ck_assert_uint_eq(rec.n, 0);
	sn_groups_flush(g, T0 + 3 * SEC);
	ck_assert_uint_eq(rec.n, 0);
	sn_groups_destroy(g);
}
END_TEST

START_TEST(test_untrusted_client_spoils_trust)
{
	sn_rules_free(&rules);
	cfg.rules.n_trusted_mqtt_clients = 1;
	strcpy(cfg.rules.trusted_mqtt_clients[0], "^sensor-[0-9]+$");
	compile_rules();
	struct sn_groups *g = make(16, false);

	open_with_client_id(g, T0, 1, "sensor-1");
	open_with_client_id(g, T0 + SEC, 2, "sensor-2");
	ck_assert_uint_eq(rec.n, 1); /* min_suspicion low: alerts, rated low */
	ck_assert_int_eq(rec.ev[0].g.rating.suspicion, SN_SUSP_LOW);
	ck_assert_str_eq(rec.ev[0].g.trusted_pattern, "^sensor-[0-9]+$");
	ck_assert_uint_eq(rec.ev[0].g.untrusted_mqtt, 0);
	open_with_client_id(g, T0 + 2 * SEC, 3, "implant");
	open_with_client_id(g, T0 + 3 * SEC, 4, ""); /* no client id: untrusted too */
	sn_groups_flush(g, T0 + 4 * SEC);
	const struct sn_group *s = &rec.ev[rec.n - 1].g;
	ck_assert_uint_eq(s->untrusted_mqtt, 2);
	ck_assert_int_gt(s->rating.suspicion, SN_SUSP_LOW);
	sn_groups_destroy(g);
}
END_TEST

static void allow_user(const char *user)
{
	sn_rules_free(&rules);
	cfg.rules.n_allow_users = 1;
	strcpy(cfg.rules.allow_users[0], user);
	compile_rules();
}

/* Allowed connections never alert; they are counted whole in a summary
 * that names the entry, and their flows are written. */
START_TEST(test_allow_list_not_counted)
{
	allow_user("svc-metrics");
	struct sn_groups *g = make(16, true);

	for (uint16_t p = 1; p <= 3; p++) {
		struct sn_conn_report r = conn(SN_REPORT_OPEN, T0 + p, p);
		r.flow_id = p;
		strcpy(r.meta.user, "svc-metrics");
		feed(g, &r);
		r.kind = SN_REPORT_CLOSE;
		memset(r.bytes_delta, 0, sizeof(r.bytes_delta));
		feed(g, &r);
	}
	struct sn_groups_stats st = stats(g);
	ck_assert_uint_eq(st.allowed, 3);
	ck_assert_uint_eq(st.alerts, 0);
	ck_assert_uint_eq(rec.n, 0);
	ck_assert_uint_eq(rec.n_flows, 3);
	sn_groups_flush(g, T0 + SEC);
	ck_assert_uint_eq(rec.n, 1);
	ck_assert_int_eq(rec.ev[0].kind, SN_EV_SUMMARY);
	ck_assert(rec.ev[0].g.allowed);
	ck_assert_str_eq(rec.ev[0].g.allowed_by, "rules.allow_users[0]");
	ck_assert_uint_eq(rec.ev[0].g.connections, 3);
	ck_assert_uint_eq(rec.ev[0].g.bytes_sent, 300);
	ck_assert_uint_eq(rec.ev[0].g.n_flow_ids, 3);
	ck_assert_str_eq(rec.ev[0].g.users[0], "svc-metrics");
	sn_groups_destroy(g);
}
END_TEST

/* An AMQP connection whose user arrives after the OPEN (Start-Ok follows
 * the protocol header): held, then counted whole where its user says. */
static struct sn_conn_report amqp(enum sn_report_kind kind, uint64_t ts, uint16_t port,
				  const char *user)
{
	struct sn_conn_report r = conn(kind, ts, port);

	r.proto = r.port_proto = r.meta.proto = SN_PROTO_AMQP;
	r.server_port = 5672;
	r.flow_id = port;
	r.first_us = T0 + (uint64_t)port * SEC;
	strcpy(r.meta.user, user);
	return r;
}

START_TEST(test_allow_user_after_open)
{
	allow_user("c2user");
	struct sn_groups *g = make(16, true);

	for (uint16_t p = 1; p <= 3; p++) {
		struct sn_conn_report r = amqp(SN_REPORT_OPEN, T0 + p * SEC, p, "");
		feed(g, &r);
		ck_assert_uint_eq(stats(g).allowed, p - 1u); /* held: not counted yet */
		ck_assert_uint_eq(stats(g).connections, p - 1u);
		r = amqp(SN_REPORT_UPDATE, T0 + p * SEC + 1000, p, "c2user");
		r.meta_changed = true;
		r.bytes[0] += 50;
		r.bytes_delta[0] = 50;
		r.bytes_delta[1] = 0;
		feed(g, &r);
		r.kind = SN_REPORT_CLOSE;
		r.bytes[0] += 10;
		r.bytes_delta[0] = 10;
		feed(g, &r);
	}
	ck_assert_uint_eq(rec.n, 0); /* never alerted */
	ck_assert_uint_eq(rec.n_flows, 3);
	sn_groups_flush(g, T0 + 10 * SEC);
	ck_assert_uint_eq(rec.n, 1);
	const struct sn_group *s = &rec.ev[0].g;
	ck_assert_int_eq(rec.ev[0].kind, SN_EV_SUMMARY);
	ck_assert_str_eq(s->allowed_by, "rules.allow_users[0]");
	ck_assert_uint_eq(s->connections, 3);
	ck_assert_uint_eq(s->bytes_sent, 3 * 160);  /* 100 + 50 + 10 each: whole */
	ck_assert_uint_eq(s->bytes_received, 3 * 40);
	ck_assert_uint_eq(s->n_users, 1);
	ck_assert_uint_eq(stats(g).allow_held, 3);
	sn_groups_destroy(g);
}
END_TEST

/* XMPP: the SASL user follows the stream header; a CLOSE ends the hold. */
START_TEST(test_allow_xmpp_user_at_close)
{
	allow_user("implant01");
	struct sn_groups *g = make(16, true);
	struct sn_conn_report r = amqp(SN_REPORT_OPEN, T0 + SEC, 1, "");

	r.proto = r.port_proto = r.meta.proto = SN_PROTO_XMPP;
	r.server_port = 5222;
	feed(g, &r);
	ck_assert_uint_eq(stats(g).connections, 0);
	r.kind = SN_REPORT_CLOSE;
	strcpy(r.meta.user, "implant01");
	r.bytes[0] += 30;
	r.bytes_delta[0] = 30;
	r.bytes_delta[1] = 0;
	feed(g, &r);
	ck_assert_uint_eq(rec.n_flows, 1);
	ck_assert_uint_eq(stats(g).allowed, 1);
	sn_groups_flush(g, T0 + 5 * SEC);
	ck_assert_uint_eq(rec.n, 1);
	ck_assert_str_eq(rec.ev[0].g.allowed_by, "rules.allow_users[0]");
	ck_assert_uint_eq(rec.ev[0].g.bytes_sent, 130);
	ck_assert_uint_eq(rec.ev[0].g.connections, 1);
	sn_groups_destroy(g);
}
END_TEST

/* A held connection whose slot a later one needs is decided early, counted. */
START_TEST(test_allow_hold_slot_reused)
{
	allow_user("c2user");
	struct sn_groups *g = make(16, false);
	struct sn_conn_report r = amqp(SN_REPORT_OPEN, T0 + SEC, 1, "");

	feed(g, &r);
	r = amqp(SN_REPORT_OPEN, T0 + 2 * SEC, 2, "");
	r.flow_id = 1 + 1024; /* the same slot of the 1,024 */
	feed(g, &r);
	struct sn_groups_stats st = stats(g);
	ck_assert_uint_eq(st.allow_held, 2);
	ck_assert_uint_eq(st.allow_held_evicted, 1);
	ck_assert_uint_eq(st.connections, 1); /* the first, counted without its user */
	sn_groups_destroy(g);
}
END_TEST

/* Another user, or none before the hold ends: counted and alerting as ever. */
START_TEST(test_allow_other_user_and_hold_timeout)
{
	allow_user("c2user");
	struct sn_groups *g = make(16, false);
	struct sn_conn_report r = amqp(SN_REPORT_OPEN, T0 + SEC, 1, "");

	feed(g, &r);
	r = amqp(SN_REPORT_UPDATE, T0 + SEC + 1000, 1, "mallory");
	r.bytes_delta[0] = r.bytes_delta[1] = 0;
	feed(g, &r);
	ck_assert_uint_eq(stats(g).connections, 1); /* decided: counted */
	r = amqp(SN_REPORT_OPEN, T0 + 2 * SEC, 2, "");
	feed(g, &r);
	ck_assert_uint_eq(rec.n, 0);
	sn_groups_tick(g, T0 + 2 * SEC + 9 * SEC);
	ck_assert_uint_eq(rec.n, 0); /* still held */
	sn_groups_tick(g, T0 + 2 * SEC + 10 * SEC);
	ck_assert_uint_eq(rec.n, 1); /* no user in 10 s: counted, the group alerts */
	ck_assert_int_eq(rec.ev[0].kind, SN_EV_ALERT);
	ck_assert_uint_eq(rec.ev[0].g.connections, 2);
	ck_assert_uint_eq(rec.ev[0].g.bytes_sent, 200);
	ck_assert_str_eq(rec.ev[0].g.allowed_by, "");
	sn_groups_destroy(g);
}
END_TEST

/*
 * Some connections allowed, some not: the allowed ones do not count toward
 * the threshold and never feed the alert; they end in a summary of their
 * own with allowed_by.
 */
START_TEST(test_allow_mixed_group)
{
	allow_user("c2user");
	struct sn_groups *g = make(16, false);

	for (uint16_t p = 1; p <= 3; p++) {
		struct sn_conn_report r = conn(SN_REPORT_OPEN, T0 + p, p);
		r.flow_id = p;
		strcpy(r.meta.user, "c2user");
		feed(g, &r);
	}
	struct sn_conn_report r = conn(SN_REPORT_OPEN, T0 + 5, 5);
	r.flow_id = 5;
	strcpy(r.meta.user, "bot");
	feed(g, &r);
	ck_assert_uint_eq(rec.n, 0); /* 1 counted connection, threshold 2 */
	r = conn(SN_REPORT_OPEN, T0 + 6, 6);
	r.flow_id = 6;
	strcpy(r.meta.user, "bot");
	feed(g, &r);
	ck_assert_uint_eq(rec.n, 1);
	ck_assert_uint_eq(rec.ev[0].g.connections, 2);
	ck_assert_uint_eq(rec.ev[0].g.n_users, 1);
	ck_assert_str_eq(rec.ev[0].g.users[0], "bot");
	sn_groups_flush(g, T0 + SEC);
	ck_assert_uint_eq(rec.n, 3);
	ck_assert_str_eq(rec.ev[1].g.allowed_by, "rules.allow_users[0]"); /* created first */
	ck_assert_uint_eq(rec.ev[1].g.connections, 3);
	ck_assert_str_eq(rec.ev[2].g.allowed_by, "");
	ck_assert_uint_eq(rec.ev[2].g.connections, 2);
	sn_groups_destroy(g);
}
END_TEST

START_TEST(test_allowed_destination)
{
	sn_rules_free(&rules);
	cfg.rules.n_allow_destinations = 1;
	ck_assert(sn_cidr_parse("203.0.113.0/24", &cfg.rules.allow_destinations[0]));
	compile_rules();
	struct sn_groups *g = make(16, false);

	open_conn(g, T0, 1);
	open_conn(g, T0 + 1, 2);
	ck_assert_uint_eq(stats(g).allowed, 2);
	ck_assert_uint_eq(rec.n, 0);
	sn_groups_flush(g, T0 + SEC);
	ck_assert_uint_eq(rec.n, 1);
	ck_assert_str_eq(rec.ev[0].g.allowed_by, "rules.allow_destinations[0]");
	sn_groups_destroy(g);
}
END_TEST

START_TEST(test_rules_swap_alerts_on_next_report)
{
	sn_rules_free(&rules);
	cfg.rules.min_connections = 5;
	compile_rules();
	struct sn_groups *g = make(16, false);
	static struct sn_config cfg2;
	static struct sn_rules rules2;
	char err[256];

	open_conn(g, T0, 1);
	open_conn(g, T0 + SEC, 2);
	ck_assert_uint_eq(rec.n, 0);
	cfg2 = cfg;
	cfg2.rules.min_connections = 2;
	ck_assert_int_eq(sn_rules_init(&rules2, &cfg2, err, sizeof(err)), 0);
	sn_groups_set_rules(g, &rules2);
	ck_assert_uint_eq(rec.n, 0); /* the swap itself emits nothing */
	more_bytes(g, T0 + 2 * SEC);
	ck_assert_uint_eq(rec.n, 1);
	ck_assert_int_eq(rec.ev[0].kind, SN_EV_ALERT);
	ck_assert_uint_eq(rec.ev[0].ts_us, T0 + 2 * SEC);
	sn_groups_destroy(g);
	sn_rules_free(&rules2);
}
END_TEST

/* --- flow events ----------------------------------------------------------- */

START_TEST(test_flow_event_on_close)
{
	struct sn_groups *g = make(16, true);
	struct sn_conn_report r = conn(SN_REPORT_OPEN, T0, 1);

	feed(g, &r);
	r.kind = SN_REPORT_UPDATE;
	feed(g, &r);
	ck_assert_uint_eq(rec.n_flows, 0);
	r.kind = SN_REPORT_CLOSE;
	r.ts_us = T0 + 9 * SEC;
	r.close = SN_CLOSE_FIN;
	feed(g, &r);
	ck_assert_uint_eq(rec.n_flows, 1);
	ck_assert_int_eq(rec.flow_proto, SN_PROTO_MQTT);
	ck_assert(rec.flow_external);
	ck_assert_uint_eq(rec.flow_ts, T0 + 9 * SEC);
	ck_assert_int_eq(rec.last_flow.close, SN_CLOSE_FIN);
	ck_assert_uint_eq(rec.last_flow.client_port, 1);

	/* a close of a connection whose group is gone still makes its flow event */
	sn_groups_flush(g, T0 + 10 * SEC);
	r.client_port = 7;
	feed(g, &r);
	ck_assert_uint_eq(rec.n_flows, 2);
	sn_groups_destroy(g);
}
END_TEST

/* --- regular client messages inside one connection ---------------------------- */

static bool has_reason(const struct sn_rating *r, const char *want)
{
	for (size_t i = 0; i < r->n_reasons && i < SN_REASONS_MAX; i++)
		if (strcmp(r->reasons[i], want) == 0)
			return true;
	return false;
}

static void set_rhythm(struct sn_conn_report *r, enum sn_msg_kind k, uint32_t gaps,
		       uint64_t interval_ms, uint32_t jitter_milli)
{
	r->msgs.timing = SN_MSGT_FOLLOWED;
	r->msgs.messages[k] = gaps + 1;
	r->msgs.rhythm[k] = (struct sn_beacon){ gaps, interval_ms, jitter_milli };
}

START_TEST(test_message_beacon_fold)
{
	cfg.rules.min_connections = 1;
	cfg.rules.min_suspicion = SN_SUSP_MEDIUM;
	struct sn_groups *g = make(16, true);
	struct sn_conn_report a = conn(SN_REPORT_OPEN, T0, 1), b = conn(SN_REPORT_OPEN, T0, 2);
	ck_assert(sn_addr_parse("10.0.0.9", &a.server)); /* internal MQTT: low */
	b.server = a.server;
	a.flow_id = 1;
	b.flow_id = 2;

	feed(g, &a);
	feed(g, &b);
	ck_assert_uint_eq(rec.n, 0);
	a.kind = b.kind = SN_REPORT_UPDATE;
	set_rhythm(&a, SN_MSG_KEEPALIVE, 3, 30000, 10); /* 3 gaps: too few */
	feed(g, &a);
	ck_assert_uint_eq(rec.n, 0);
	set_rhythm(&a, SN_MSG_KEEPALIVE, 5, 30000, 10);
	feed(g, &a);
	ck_assert_uint_eq(rec.n, 1); /* the live update raised it: an alert now */
	const struct sn_group *e = &rec.ev[0].g;
	ck_assert_int_eq(e->rating.suspicion, SN_SUSP_MEDIUM);
	ck_assert_uint_eq(e->msg_beacon.samples, 5);
	ck_assert_int_eq(e->msg_kind, SN_MSG_KEEPALIVE);
	ck_assert_uint_eq(e->msg_messages, 6);
	ck_assert_uint_eq(e->msg_flow_id, 1);
	ck_assert(has_reason(&e->rating, "regular PINGREQ every ~30 s inside one connection"));

	/* another regular connection does not replace the first ... */
	set_rhythm(&b, SN_MSG_PUBLISH, 8, 60000, 5);
	feed(g, &b);
	sn_groups_flush(g, T0 + SEC);
	e = &rec.ev[rec.n - 1].g;
	ck_assert_uint_eq(e->msg_flow_id, 1);
	sn_groups_destroy(g);
}
END_TEST

/* The first connection turns irregular: the group takes the next regular one. */
START_TEST(test_message_beacon_moves_on)
{
	cfg.rules.min_connections = 1;
	struct sn_groups *g = make(16, true);
	struct sn_conn_report a = conn(SN_REPORT_OPEN, T0, 1), b = conn(SN_REPORT_OPEN, T0, 2);
	a.flow_id = 1;
	b.flow_id = 2;
	set_rhythm(&a, SN_MSG_KEEPALIVE, 5, 30000, 10);
	set_rhythm(&b, SN_MSG_KEEPALIVE, 6, 45000, 10);
	set_rhythm(&b, SN_MSG_PUBLISH, 6, 60000, 10); /* PUBLISH wins over PINGREQ */
	feed(g, &a);
	feed(g, &b);
	a.kind = SN_REPORT_CLOSE;
	set_rhythm(&a, SN_MSG_KEEPALIVE, 9, 30000, 400); /* jitter 40 % */
	feed(g, &a);
	ck_assert_int_eq(rec.flow_msg_kind, -1);
	b.kind = SN_REPORT_CLOSE;
	feed(g, &b);
	ck_assert_int_eq(rec.flow_msg_kind, SN_MSG_PUBLISH);
	sn_groups_flush(g, T0 + SEC);
	const struct sn_group *e = &rec.ev[rec.n - 1].g;
	ck_assert_uint_eq(e->msg_flow_id, 2);
	ck_assert_int_eq(e->msg_kind, SN_MSG_PUBLISH);
	ck_assert_uint_eq(e->msg_beacon.interval_ms, 60000);
	sn_groups_destroy(g);
}
END_TEST

START_TEST(test_flow_events_off)
{
	struct sn_groups *g = make(16, false);
	struct sn_conn_report r = conn(SN_REPORT_OPEN, T0, 1);

	feed(g, &r);
	r.kind = SN_REPORT_CLOSE;
	feed(g, &r);
	ck_assert_uint_eq(rec.n_flows, 0);
	sn_groups_destroy(g);
}
END_TEST

START_TEST(test_close_bytes_counted_once)
{
	struct sn_groups *g = make(16, false);
	struct sn_conn_report r = conn(SN_REPORT_OPEN, T0, 1);

	feed(g, &r);
	r = conn(SN_REPORT_CLOSE, T0 + 5 * SEC, 1);
	r.first_us = T0;
	r.bytes_delta[0] = 7;
	r.bytes_delta[1] = 3;
	feed(g, &r);
	open_conn(g, T0 + 6 * SEC, 2);
	ck_assert_uint_eq(rec.n, 1);
	ck_assert_uint_eq(rec.ev[0].g.bytes_sent, 207);
	ck_assert_uint_eq(rec.ev[0].g.bytes_received, 83);
	ck_assert_uint_eq(rec.ev[0].g.connections, 2);
	ck_assert_uint_eq(rec.ev[0].g.first_us, T0);
	ck_assert_uint_eq(rec.ev[0].g.last_us, T0 + 6 * SEC);
	sn_groups_destroy(g);
}
END_TEST

START_TEST(test_no_sink_callbacks)
{
	struct sn_groups_config gc = { .max_groups = 4, .group_window_s = 1, .flow_events = true };
	struct sn_groups *g = sn_groups_create(&gc, &rules, NULL);
	struct sn_conn_report r = conn(SN_REPORT_OPEN, T0, 1);

	ck_assert_ptr_nonnull(g);
	feed(g, &r);
	r.client_port = 2;
	feed(g, &r);
	r.kind = SN_REPORT_CLOSE;
	feed(g, &r);
	sn_groups_tick(g, T0 + 100 * SEC);
	ck_assert_uint_eq(stats(g).alerts, 1);
	ck_assert_uint_eq(stats(g).summaries, 1);
	sn_groups_destroy(g);
}
END_TEST

/* --- hash flooding ---------------------------------------------------- */

#define FLOOD_GROUPS 100000u

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One OPEN per source address, each a new group; returns the probes. */
static uint64_t flood(uint8_t (*src)[16], uint32_t *longest, double *secs)
{
	struct sn_groups_config gc = {
		.max_groups = FLOOD_GROUPS, .group_window_s = 300, .update_interval_s = 60,
		.seed = 0x5eed,
	};
	struct sn_groups *g = sn_groups_create(&gc, &rules, NULL);
	struct sn_conn_report r = conn(SN_REPORT_OPEN, T0, 40000);
	double t0 = now_s();

	ck_assert_ptr_nonnull(g);
	r.client.family = 6;
	for (uint32_t i = 0; i < FLOOD_GROUPS; i++) {
		memcpy(r.client.b, src[i], 16);
		sn_groups_report(g, &r);
	}
	*secs = now_s() - t0;
	ck_assert_uint_eq(stats(g).groups_active, FLOOD_GROUPS);
	*longest = sn_groups_longest_chain(g);
	uint64_t probes = stats(g).probes;
	sn_groups_destroy(g);
	return probes;
}

/*
 * 100,000 sources whose unkeyed FNV-1a group hashes (the hash groups.c used
 * to have) share their low 17 bits - one bucket of the 131,072 - cost no
 * more than 100,000 ordinary ones: chains stay short and the probes per
 * lookup the same.
 */
START_TEST(test_crafted_collisions_do_not_chain)
{
	uint8_t (*crafted)[16] = calloc(FLOOD_GROUPS, 16);
	uint8_t (*plain)[16] = calloc(FLOOD_GROUPS, 16);
	uint8_t fam = 6;
	uint32_t h0 = sn_test_fnv(2166136261u, &fam, 1);
	uint32_t long_crafted, long_plain;
	double t_crafted, t_plain;

	ck_assert_ptr_nonnull(crafted);
	ck_assert_ptr_nonnull(plain);
	ck_assert_uint_eq(sn_test_fnv_flood(h0, 17, crafted, FLOOD_GROUPS), FLOOD_GROUPS);
	/* they do collide under the unkeyed hash: same state after the source */
	for (uint32_t i = 1; i < FLOOD_GROUPS; i += 997)
		ck_assert_uint_eq(sn_test_fnv(h0, crafted[i], 16) & 0x1ffff,
				  sn_test_fnv(h0, crafted[0], 16) & 0x1ffff);
	for (uint32_t i = 0; i < FLOOD_GROUPS; i++) {
		uint8_t a[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1 };
		uint32_t x = i * 2654435761u;
		memcpy(a + 12, &x, 4);
		memcpy(plain[i], a, 16);
	}
	uint64_t p_plain = flood(plain, &long_plain, &t_plain);
	uint64_t p_crafted = flood(crafted, &long_crafted, &t_crafted);
	fprintf(stderr, "groups hash flood: crafted %.3f s, ordinary %.3f s (ratio %.2f); "
			"probes %llu vs %llu; longest chain %u vs %u\n",
		t_crafted, t_plain, t_plain > 0 ? t_crafted / t_plain : 0.0,
		(unsigned long long)p_crafted, (unsigned long long)p_plain, long_crafted,
		long_plain);
	ck_assert_uint_le(long_crafted, 12);
	ck_assert_uint_le(p_crafted, 2 * p_plain + FLOOD_GROUPS);
	free(crafted);
	free(plain);
}
END_TEST

Suite *groups_suite(void);

Suite *groups_suite(void)
{
	Suite *s = suite_create("groups");
	TCase *t = tcase_create("threshold");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, test_one_connection_no_alert_two_alert_once);
	tcase_add_test(t, test_min_connections_from_config);
	tcase_add_test(t, test_proto_none_ignored);
	tcase_add_test(t, test_only_open_creates_groups);
	tcase_add_test(t, test_key_separates_groups);
	tcase_add_test(t, test_close_bytes_counted_once);
	suite_add_tcase(s, t);

	t = tcase_create("timing");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, test_update_at_most_once_per_interval);
	tcase_add_test(t, test_no_update_without_change);
	tcase_add_test(t, test_unalerted_groups_never_update);
	tcase_add_test(t, test_summary_on_expiry);
	tcase_add_test(t, test_expiry_of_unalerted_is_silent);
	tcase_add_test(t, test_no_window_in_replay);
	tcase_add_test(t, test_expiry_of_dirty_group_summarises_once);
	tcase_add_test(t, test_flush_summaries_in_creation_order);
	tcase_add_test(t, test_groups_below_thresholds_counted);
	tcase_add_test(t, test_eviction_when_full);
	tcase_add_test(t, test_many_groups_recycle_slots);
	tcase_add_test(t, test_no_sink_callbacks);
	suite_add_tcase(s, t);

	t = tcase_create("figures");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, test_users_sorted_distinct);
	tcase_add_test(t, test_client_ids_sorted_capped);
	tcase_add_test(t, test_client_ids_only_for_mqtt);
	tcase_add_test(t, test_empty_client_id_kept);
	tcase_add_test(t, test_lists_truncated_at_17);
	tcase_add_test(t, test_topics_truncated_by_dissector);
	tcase_add_test(t, test_flow_ids_capped_at_64);
	tcase_add_test(t, test_topics_merged);
	tcase_add_test(t, test_details_from_first_confirmed);
	tcase_add_test(t, test_command_topics_after_details_and_rules_change);
	tcase_add_test(t, test_tls_alpn_remembered);
	suite_add_tcase(s, t);

	t = tcase_create("rules");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, test_evidence_best_and_refuted);
	tcase_add_test(t, test_refuted_only_is_refuted);
	tcase_add_test(t, test_trusted_mqtt_clients_low_no_alert);
	tcase_add_test(t, test_untrusted_client_spoils_trust);
	tcase_add_test(t, test_allow_list_not_counted);
	tcase_add_test(t, test_allowed_destination);
	tcase_add_test(t, test_allow_user_after_open);
	tcase_add_test(t, test_allow_xmpp_user_at_close);
	tcase_add_test(t, test_allow_hold_slot_reused);
	tcase_add_test(t, test_allow_other_user_and_hold_timeout);
	tcase_add_test(t, test_allow_mixed_group);
	tcase_add_test(t, test_rules_swap_alerts_on_next_report);
	suite_add_tcase(s, t);

	t = tcase_create("flooding");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_set_timeout(t, 60);
	tcase_add_test(t, test_crafted_collisions_do_not_chain);
	suite_add_tcase(s, t);

	t = tcase_create("flows");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, test_flow_event_on_close);
	tcase_add_test(t, test_message_beacon_fold);
	tcase_add_test(t, test_message_beacon_moves_on);
	tcase_add_test(t, test_flow_events_off);
	suite_add_tcase(s, t);
	return s;
}
