/*
 * test_rules.c - sensor/rules.c: the port map, home networks (IPv4 and
 * IPv6, with the search's 172.16.* bug fixed), trusted MQTT client
 * patterns, allow lists, each row of the search's case(), the mosquitto
 * exception, "payload beats port" raises and the exact reason sentences.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "flow.h"
#include "rules.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Each test builds its own configuration: rules keep a pointer to it. */
static struct sn_config cfg;
static struct sn_rules rules;

static void init_rules(void)
{
	char err[256] = "";
	ck_assert_msg(sn_rules_init(&rules, &cfg, err, sizeof err) == 0, "%s", err);
}

static void setup(void)
{
	sn_config_defaults(&cfg);
	init_rules();
}

static void teardown(void)
{
	sn_rules_free(&rules);
}

static void reinit(void)
{
	sn_rules_free(&rules);
	init_rules();
}

static struct sn_addr addr(const char *text)
{
	struct sn_addr a;
	ck_assert_msg(sn_addr_parse(text, &a), "bad test address %s", text);
	return a;
}

static bool external(const char *text)
{
	struct sn_addr a = addr(text);
	return sn_rules_is_external(&rules, &a);
}

static void add_string(char list[][SN_CFG_STR], size_t *n, const char *s)
{
	snprintf(list[*n], SN_CFG_STR, "%s", s);
	(*n)++;
}

/* Facts for a group confirmed in clear on the protocol's own port. */
static struct sn_rule_facts facts(enum sn_proto proto, uint16_t port, bool ext)
{
	struct sn_rule_facts f = {
		.proto = proto,
		.port_proto = proto,
		.dest_port = port,
		.external = ext,
		.evidence = SN_EVIDENCE_PAYLOAD,
		.connections = 3,
		.min_connections = 2,
	};
	return f;
}

static struct sn_rating rate(const struct sn_rule_facts *f)
{
	struct sn_rating r;
	sn_rules_rate(&rules, f, &r);
	ck_assert_uint_ge(r.n_reasons, 1);
	ck_assert_uint_le(r.n_reasons, SN_REASONS_MAX);
	return r;
}

static void assert_reasons(const struct sn_rating *r, const char *const *want, size_t n)
{
	ck_assert_uint_eq(r->n_reasons, n);
	for (size_t i = 0; i < n; i++)
		ck_assert_str_eq(r->reasons[i], want[i]);
}

static bool has_reason(const struct sn_rating *r, const char *text)
{
	for (size_t i = 0; i < r->n_reasons; i++)
		if (strcmp(r->reasons[i], text) == 0)
			return true;
	return false;
}

/* ---- home networks ------------------------------------------------------- */

START_TEST(test_home_networks_ipv4)
{
	ck_assert(!external("10.1.2.3"));
	ck_assert(!external("192.168.1.10"));
	ck_assert(!external("127.0.0.1"));
	ck_assert(!external("172.16.0.1"));
	ck_assert(!external("172.17.0.1"));  /* the search's 172.16.* missed it */
	ck_assert(!external("172.31.255.254"));
	ck_assert(external("172.32.0.1"));
	ck_assert(!external("169.254.10.20")); /* link-local */
	ck_assert(external("8.8.8.8"));
	ck_assert(external("11.0.0.1"));
	ck_assert(external("192.169.0.1"));
}
END_TEST

START_TEST(test_home_networks_ipv6)
{
	ck_assert(!external("::1"));
	ck_assert(!external("fc00::1"));
	ck_assert(!external("fd12:3456:789a::1"));
	ck_assert(!external("fe80::1"));
	ck_assert(!external("febf::1"));
	ck_assert(external("fec0::1"));
	ck_assert(external("2001:db8::1"));
	ck_assert(external("::2"));
	ck_assert(!external("::ffff:10.1.2.3")); /* IPv4-mapped: judged as IPv4 */
	ck_assert(external("::ffff:8.8.8.8"));
}
END_TEST

START_TEST(test_home_networks_configured)
{
	cfg.n_home_networks = 0;
	reinit();
	ck_assert(external("10.1.2.3"));
	ck_assert(external("::1"));
	ck_assert(sn_cidr_parse("203.0.113.0/24", &cfg.home_networks[0]));
	cfg.n_home_networks = 1;
	reinit();
	ck_assert(!external("203.0.113.77"));
	ck_assert(external("192.168.1.1"));
}
END_TEST

/* ---- trusted clients ------------------------------------------------------- */

START_TEST(test_trusted_clients)
{
	add_string(cfg.rules.trusted_mqtt_clients, &cfg.rules.n_trusted_mqtt_clients,
		   "^sensor-[0-9]+$");
	add_string(cfg.rules.trusted_mqtt_clients, &cfg.rules.n_trusted_mqtt_clients, "Backup");
	reinit();
	ck_assert_str_eq(sn_rules_trusted_client(&rules, "sensor-12"), "^sensor-[0-9]+$");
	ck_assert_str_eq(sn_rules_trusted_client(&rules, "SENSOR-7"), "^sensor-[0-9]+$");
	ck_assert_ptr_null(sn_rules_trusted_client(&rules, "xsensor-1"));   /* anchored */
	ck_assert_ptr_null(sn_rules_trusted_client(&rules, "sensor-1x"));
	ck_assert_str_eq(sn_rules_trusted_client(&rules, "nightly-backup-job"), "Backup");
	ck_assert_ptr_null(sn_rules_trusted_client(&rules, "implant-01"));
	ck_assert_ptr_null(sn_rules_trusted_client(&rules, ""));
	ck_assert_ptr_null(sn_rules_trusted_client(&rules, NULL));
}
END_TEST

START_TEST(test_trusted_empty_pattern_list)
{
	ck_assert_ptr_null(sn_rules_trusted_client(&rules, "sensor-1"));
}
END_TEST

START_TEST(test_bad_pattern)
{
	add_string(cfg.rules.trusted_mqtt_clients, &cfg.rules.n_trusted_mqtt_clients, "ok");
	add_string(cfg.rules.trusted_mqtt_clients, &cfg.rules.n_trusted_mqtt_clients, "(bad");
	sn_rules_free(&rules);
	char err[256] = "";
	ck_assert_int_eq(sn_rules_init(&rules, &cfg, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "rules.trusted_mqtt_clients[1]: bad regular expression "
					  "'(bad'"));
	ck_assert_uint_eq(rules.n_trusted, 0);
	cfg.rules.n_trusted_mqtt_clients = 1;
	init_rules();
}
END_TEST

/* ---- allow lists ------------------------------------------------------------ */

static struct sn_conn_report report_to(const char *server)
{
	struct sn_conn_report c;
	memset(&c, 0, sizeof c);
	c.client = addr("10.0.0.5");
	c.server = addr(server);
	c.server_port = 1883;
	c.proto = SN_PROTO_MQTT;
	return c;
}

START_TEST(test_allow_nothing_by_default)
{
	struct sn_conn_report c = report_to("198.51.100.7");
	snprintf(c.meta.user, sizeof c.meta.user, "monitor");
	snprintf(c.meta.tls_sni, sizeof c.meta.tls_sni, "broker.example.com");
	ck_assert(!sn_rules_allowed(&rules, &c, NULL, 0));
}
END_TEST

START_TEST(test_allow_destinations)
{
	ck_assert(sn_cidr_parse("198.51.100.0/24", &cfg.rules.allow_destinations[0]));
	ck_assert(sn_cidr_parse("2001:db8::/32", &cfg.rules.allow_destinations[1]));
	cfg.rules.n_allow_destinations = 2;
	reinit();
	struct sn_conn_report a = report_to("198.51.100.7"), b = report_to("198.51.101.7");
	struct sn_conn_report v6 = report_to("2001:db8::42");
	ck_assert(sn_rules_allowed(&rules, &a, NULL, 0));
	ck_assert(!sn_rules_allowed(&rules, &b, NULL, 0));
	ck_assert(sn_rules_allowed(&rules, &v6, NULL, 0));
}
END_TEST

START_TEST(test_allow_tls_server_names)
{
	add_string(cfg.rules.allow_tls_server_names, &cfg.rules.n_allow_tls_server_names,
		   "example.com");
	add_string(cfg.rules.allow_tls_server_names, &cfg.rules.n_allow_tls_server_names,
		   ".iot.example.net");
	reinit();
	static const struct { const char *sni; bool allowed; } cases[] = {
		{ "example.com", true }, { "broker.example.com", true },
		{ "A.B.EXAMPLE.COM", true }, { "notexample.com", false },
		{ "example.com.evil.org", false }, { "iot.example.net", true },
		{ "x.iot.example.net", true }, { "example.net", false }, { "", false },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct sn_conn_report c = report_to("198.51.100.7");
		snprintf(c.meta.tls_sni, sizeof c.meta.tls_sni, "%s", cases[i].sni);
		ck_assert_msg(sn_rules_allowed(&rules, &c, NULL, 0) == cases[i].allowed, "%s", cases[i].sni);
	}
}
END_TEST

START_TEST(test_allow_users)
{
	add_string(cfg.rules.allow_users, &cfg.rules.n_allow_users, "monitor");
	reinit();
	struct sn_conn_report c = report_to("198.51.100.7");
	snprintf(c.meta.user, sizeof c.meta.user, "monitor");
	ck_assert(sn_rules_allowed(&rules, &c, NULL, 0));
	snprintf(c.meta.user, sizeof c.meta.user, "Monitor");
	ck_assert(!sn_rules_allowed(&rules, &c, NULL, 0));
	snprintf(c.meta.user, sizeof c.meta.user, "monitor2");
	ck_assert(!sn_rules_allowed(&rules, &c, NULL, 0));
	c.meta.user[0] = '\0';
	ck_assert(!sn_rules_allowed(&rules, &c, NULL, 0));
}
END_TEST

START_TEST(test_allow_other_kinds)
{
	char by[SN_ALLOWED_BY_LEN];
	struct sn_conn_report c = report_to("198.51.100.7");

	add_string(cfg.rules.allow_server_names, &cfg.rules.n_allow_server_names, "example.com");
	add_string(cfg.rules.allow_client_ids, &cfg.rules.n_allow_client_ids, "^meter-[0-9]+$");
	add_string(cfg.rules.allow_processes, &cfg.rules.n_allow_processes, "^telegraf$");
	ck_assert(sn_cidr_parse("10.9.0.0/16", &cfg.rules.allow_sources[0]));
	cfg.rules.n_allow_sources = 1;
	reinit();
	ck_assert(!sn_rules_allowed(&rules, &c, by, sizeof by));

	snprintf(c.dest_host, sizeof c.dest_host, "broker.Example.com");
	ck_assert(sn_rules_allowed(&rules, &c, by, sizeof by));
	ck_assert_str_eq(by, "rules.allow_server_names[0]");
	snprintf(c.dest_host, sizeof c.dest_host, "notexample.com");
	ck_assert(!sn_rules_allowed(&rules, &c, by, sizeof by));
	c.dest_host[0] = '\0';

	snprintf(c.meta.client_id, sizeof c.meta.client_id, "METER-17");
	ck_assert(sn_rules_allowed(&rules, &c, by, sizeof by));
	ck_assert_str_eq(by, "rules.allow_client_ids[0]");
	c.proto = SN_PROTO_AMQP; /* client ids are MQTT's */
	ck_assert(!sn_rules_allowed(&rules, &c, by, sizeof by));
	c.proto = SN_PROTO_MQTT;
	snprintf(c.meta.client_id, sizeof c.meta.client_id, "meter-17x");
	ck_assert(!sn_rules_allowed(&rules, &c, by, sizeof by));

	snprintf(c.process_name, sizeof c.process_name, "telegraf");
	ck_assert(sn_rules_allowed(&rules, &c, by, sizeof by));
	ck_assert_str_eq(by, "rules.allow_processes[0]");
	snprintf(c.process_name, sizeof c.process_name, "telegraf2");
	ck_assert(!sn_rules_allowed(&rules, &c, by, sizeof by));

	c.client = addr("10.9.3.4");
	ck_assert(sn_rules_allowed(&rules, &c, by, sizeof by));
	ck_assert_str_eq(by, "rules.allow_sources[0]");
}
END_TEST

START_TEST(test_command_topics_and_public_brokers)
{
	ck_assert(sn_rules_command_topic(&rules, "c2/commands/#"));
	ck_assert(sn_rules_command_topic(&rules, "#"));
	ck_assert(sn_rules_command_topic(&rules, "dev/7/CMD"));
	ck_assert(sn_rules_command_topic(&rules, "bot/shell/in"));
	ck_assert(!sn_rules_command_topic(&rules, "sensors/+/temp"));
	ck_assert(!sn_rules_command_topic(&rules, "a/#"));
	ck_assert_str_eq(sn_rules_public_broker(&rules, "broker.hivemq.com"), "broker.hivemq.com");
	ck_assert_str_eq(sn_rules_public_broker(&rules, "x1.rmq.cloudamqp.com"), "cloudamqp.com");
	ck_assert_ptr_null(sn_rules_public_broker(&rules, "hivemq.com"));
	ck_assert_ptr_null(sn_rules_public_broker(&rules, "notbroker.hivemq.com.evil"));

	struct sn_rule_facts f = facts(SN_PROTO_MQTT, 1883, false);
	f.public_broker = "broker.hivemq.com";
	f.command_topic = "c2/commands/#";
	f.n_command_topics = 1;
	struct sn_rating r = rate(&f);
	ck_assert_int_eq(r.suspicion, SN_SUSP_MEDIUM);
	ck_assert(has_reason(&r, "public MQTT broker broker.hivemq.com"));
	ck_assert(has_reason(&r, "command channel: topic 'c2/commands/#'"));
	cfg.rules.public_broker_raise = 0;
	ck_assert_int_eq(rate(&f).suspicion, SN_SUSP_LOW);
}
END_TEST

/* ---- the case() ---------------------------------------------------------------- */

START_TEST(test_case_rows)
{
	static const struct {
		enum sn_proto proto;
		uint16_t port;
		bool ext;
		enum sn_suspicion want;
	} rows[] = {
		{ SN_PROTO_XMPP, 5222, true, SN_SUSP_HIGH },
		{ SN_PROTO_STOMP, 61613, true, SN_SUSP_HIGH },
		{ SN_PROTO_MQTT, 1883, true, SN_SUSP_HIGH },
		{ SN_PROTO_AMQP, 5672, true, SN_SUSP_MEDIUM },
		{ SN_PROTO_XMPP, 5222, false, SN_SUSP_MEDIUM },
		{ SN_PROTO_STOMP, 61613, false, SN_SUSP_MEDIUM },
		{ SN_PROTO_MQTT, 1883, false, SN_SUSP_LOW },
		{ SN_PROTO_AMQP, 5672, false, SN_SUSP_LOW },
	};
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct sn_rule_facts f = facts(rows[i].proto, rows[i].port, rows[i].ext);
		struct sn_rating r = rate(&f);
		ck_assert_msg(r.suspicion == rows[i].want, "row %zu: got %s", i,
			      sn_suspicion_name(r.suspicion));
	}
}
END_TEST

START_TEST(test_case_rows_with_port_evidence)
{
	/* The rows depend on where and what, not on how the protocol was known. */
	struct sn_rule_facts f = facts(SN_PROTO_STOMP, 61613, true);
	f.evidence = SN_EVIDENCE_PORT;
	ck_assert_int_eq(rate(&f).suspicion, SN_SUSP_HIGH);
	f = facts(SN_PROTO_AMQP, 5671, true);
	f.evidence = SN_EVIDENCE_TLS;
	ck_assert_int_eq(rate(&f).suspicion, SN_SUSP_MEDIUM);
}
END_TEST

START_TEST(test_mosquitto_exception)
{
	/* rules.trusted_mqtt_processes: ["^mosquitto$"] spares the broker only */
	static const char *const trusted[] = { "mosquitto" };
	static const char *const not_trusted[] = { "mosquitto_pub", "mosquitto_sub", "Mosquitto",
						   "python3", "nc" };
	for (size_t i = 0; i < ARRAY_SIZE(trusted); i++) {
		struct sn_rule_facts f = facts(SN_PROTO_MQTT, 1883, true);
		f.process_name = trusted[i];
		struct sn_rating r = rate(&f);
		ck_assert_int_eq(r.suspicion, SN_SUSP_LOW);
		ck_assert(has_reason(&r, "process name matches trusted pattern '^mosquitto$'"));
	}
	for (size_t i = 0; i < ARRAY_SIZE(not_trusted); i++) {
		struct sn_rule_facts f = facts(SN_PROTO_MQTT, 1883, true);
		f.process_name = not_trusted[i];
		struct sn_rating r = rate(&f);
		ck_assert_msg(r.suspicion == SN_SUSP_HIGH, "%s", not_trusted[i]);
	}
	/* the search's (?i)mosquitto, spelled in POSIX */
	snprintf(cfg.rules.trusted_mqtt_processes[0], SN_CFG_STR, "%s",
		 "[Mm][Oo][Ss][Qq][Uu][Ii][Tt][Tt][Oo]");
	reinit();
	struct sn_rule_facts f = facts(SN_PROTO_MQTT, 1883, true);
	f.process_name = "mosquitto_sub";
	ck_assert_int_eq(rate(&f).suspicion, SN_SUSP_LOW);
	/* the exception is MQTT's only */
	f = facts(SN_PROTO_XMPP, 5222, true);
	f.process_name = "mosquitto";
	ck_assert_int_eq(rate(&f).suspicion, SN_SUSP_HIGH);
}
END_TEST

START_TEST(test_trusted_clients_exception)
{
	struct sn_rule_facts f = facts(SN_PROTO_MQTT, 1883, true);
	f.all_trusted_clients = true;
	f.trusted_pattern = "^sensor-[0-9]+$";
	struct sn_rating r = rate(&f);
	static const char *const want[] = {
		"external MQTT broker",
		"MQTT CONNECT seen in clear",
		"MQTT client ids match trusted pattern '^sensor-[0-9]+$'",
		"3 connections (threshold 2)",
	};
	ck_assert_int_eq(r.suspicion, SN_SUSP_LOW);
	assert_reasons(&r, want, ARRAY_SIZE(want));
	/* one untrusted client id in the group: no exception */
	f.all_trusted_clients = false;
	ck_assert_int_eq(rate(&f).suspicion, SN_SUSP_HIGH);
}
END_TEST

/* ---- payload beats port ---------------------------------------------------------- */

START_TEST(test_beacon_raise)
{
	struct sn_beacon b = { .samples = 5, .interval_ms = 60012, .jitter_milli = 16 };
	struct sn_rule_facts f = facts(SN_PROTO_MQTT, 1883, false);
	struct sn_rating r = rate(&f);

	ck_assert(r.suspicion == SN_SUSP_LOW); /* internal MQTT */
	ck_assert(!has_reason(&r, "regular beacon every ~60 s"));
	f.beacon = &b;
	r = rate(&f);
	ck_assert(r.suspicion == SN_SUSP_MEDIUM);
	ck_assert(has_reason(&r, "regular beacon every ~60 s"));
	cfg.rules.beacon_raise = 0;
	r = rate(&f);
	ck_assert(r.suspicion == SN_SUSP_LOW);
	ck_assert(has_reason(&r, "regular beacon every ~60 s"));
	cfg.rules.beacon_raise = 2;
	r = rate(&f);
	ck_assert(r.suspicion == SN_SUSP_HIGH);
}
END_TEST

START_TEST(test_message_beacon_raise)
{
	struct sn_beacon b = { .samples = 5, .interval_ms = 60012, .jitter_milli = 16 };
	struct sn_beacon m = { .samples = 7, .interval_ms = 29800, .jitter_milli = 10 };
	struct sn_rule_facts f = facts(SN_PROTO_MQTT, 1883, false);
	const char *reason = "regular PINGREQ every ~30 s inside one connection";

	f.msg_beacon = &m;
	f.msg_kind = SN_MSG_KEEPALIVE;
	struct sn_rating r = rate(&f);
	ck_assert(r.suspicion == SN_SUSP_MEDIUM); /* internal MQTT, one step up */
	ck_assert(has_reason(&r, reason));
	f.msg_kind = SN_MSG_PUBLISH;
	r = rate(&f);
	ck_assert(has_reason(&r, "regular PUBLISH every ~30 s inside one connection"));
	f.msg_kind = SN_MSG_KEEPALIVE;
	f.beacon = &b; /* both kinds of beacon: the larger raise, not both */
	r = rate(&f);
	ck_assert(r.suspicion == SN_SUSP_MEDIUM);
	ck_assert(has_reason(&r, reason));
	ck_assert(has_reason(&r, "regular beacon every ~60 s"));
	cfg.rules.message_beacon_raise = 2;
	ck_assert(rate(&f).suspicion == SN_SUSP_HIGH);
	cfg.rules.message_beacon_raise = 0;
	cfg.rules.beacon_raise = 0;
	r = rate(&f);
	ck_assert(r.suspicion == SN_SUSP_LOW);
	ck_assert(has_reason(&r, reason)); /* described, not raised */
	cfg.rules.message_beacon_raise = 1;
	f.beacon = NULL;
	f.all_trusted_clients = true;
	f.trusted_pattern = "^meter-";
	r = rate(&f);
	ck_assert(r.suspicion == SN_SUSP_LOW);
	ck_assert(has_reason(&r, "regular PINGREQ every ~30 s inside one connection (not raised: "
				 "trusted clients)"));
}
END_TEST

/* Which kind of a connection's messages is regular: thresholds, PUBLISH first. */
START_TEST(test_message_beacon_kind)
{
	struct sn_conn_msgs m;

	memset(&m, 0, sizeof m);
	m.rhythm[SN_MSG_KEEPALIVE] = (struct sn_beacon){ 4, 30000, 100 };
	ck_assert_int_eq(sn_rules_message_beacon(&rules, &m), -1); /* not followed */
	m.timing = SN_MSGT_GAP;                                     /* times before the cut count */
	ck_assert_int_eq(sn_rules_message_beacon(&rules, &m), SN_MSG_KEEPALIVE);
	m.rhythm[SN_MSG_PUBLISH] = (struct sn_beacon){ 3, 60000, 0 };
	ck_assert_int_eq(sn_rules_message_beacon(&rules, &m), SN_MSG_KEEPALIVE); /* 3 gaps */
	m.rhythm[SN_MSG_PUBLISH].samples = 4;
	ck_assert_int_eq(sn_rules_message_beacon(&rules, &m), SN_MSG_PUBLISH);
	m.rhythm[SN_MSG_PUBLISH].jitter_milli = 101; /* 10.1 % > 10 % */
	ck_assert_int_eq(sn_rules_message_beacon(&rules, &m), SN_MSG_KEEPALIVE);
	cfg.rules.beacon_min_gaps = 5;
	ck_assert_int_eq(sn_rules_message_beacon(&rules, &m), -1);
}
END_TEST

START_TEST(test_nonstandard_port_raise)
{
	static const struct {
		uint32_t raise;
		enum sn_proto proto;
		bool ext;
		enum sn_suspicion want;
	} cases[] = {
		{ 0, SN_PROTO_MQTT, false, SN_SUSP_LOW },
		{ 1, SN_PROTO_MQTT, false, SN_SUSP_MEDIUM },
		{ 2, SN_PROTO_MQTT, false, SN_SUSP_HIGH },
		{ 1, SN_PROTO_AMQP, false, SN_SUSP_MEDIUM },
		{ 0, SN_PROTO_AMQP, true, SN_SUSP_MEDIUM },
		{ 1, SN_PROTO_AMQP, true, SN_SUSP_HIGH },
		{ 2, SN_PROTO_AMQP, true, SN_SUSP_HIGH },   /* capped */
		{ 1, SN_PROTO_XMPP, false, SN_SUSP_HIGH },
		{ 1, SN_PROTO_STOMP, true, SN_SUSP_HIGH },  /* already high */
		{ 2, SN_PROTO_MQTT, true, SN_SUSP_HIGH },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		cfg.rules.nonstandard_port_raise = cases[i].raise;
		struct sn_rule_facts f = facts(cases[i].proto, 8080, cases[i].ext);
		f.port_proto = SN_PROTO_NONE;
		struct sn_rating r = rate(&f);
		ck_assert_msg(r.suspicion == cases[i].want, "case %zu: got %s", i,
			      sn_suspicion_name(r.suspicion));
		char text[SN_REASON_LEN];
		snprintf(text, sizeof text, "%s on non-standard port 8080",
			 sn_proto_name(cases[i].proto));
		ck_assert(has_reason(&r, text) == (cases[i].raise > 0));
	}
}
END_TEST

START_TEST(test_no_raise_without_confirmation)
{
	/* port-only evidence never raises, nor does a protocol on its own port */
	struct sn_rule_facts f = facts(SN_PROTO_MQTT, 1883, false);
	f.evidence = SN_EVIDENCE_PORT;
	ck_assert_int_eq(rate(&f).suspicion, SN_SUSP_LOW);
	f = facts(SN_PROTO_MQTT, 1884, false);
	f.port_proto = SN_PROTO_NONE;
	f.evidence = SN_EVIDENCE_PORT;
	ck_assert_int_eq(rate(&f).suspicion, SN_SUSP_LOW);
	f = facts(SN_PROTO_MQTT, 8883, false);
	f.evidence = SN_EVIDENCE_TLS;
	ck_assert_int_eq(rate(&f).suspicion, SN_SUSP_LOW);
}
END_TEST

START_TEST(test_raise_on_another_protocols_port)
{
	/* MQTT confirmed on AMQP's port: raised, and the port's protocol refuted */
	struct sn_rule_facts f = facts(SN_PROTO_MQTT, 5672, false);
	f.port_proto = SN_PROTO_AMQP;
	f.any_refuted = true;
	struct sn_rating r = rate(&f);
	static const char *const want[] = {
		"internal MQTT broker",
		"MQTT CONNECT seen in clear",
		"MQTT on non-standard port 5672",
		"port 5672 but payload is not AMQP",
		"3 connections (threshold 2)",
	};
	ck_assert_int_eq(r.suspicion, SN_SUSP_MEDIUM);
	assert_reasons(&r, want, ARRAY_SIZE(want));
}
END_TEST

START_TEST(test_trusted_external_mqtt_not_raised)
{
	/* a trusted client on a foreign port: trust wins, low, not raised */
	struct sn_rule_facts f = facts(SN_PROTO_MQTT, 443, true);
	f.port_proto = SN_PROTO_NONE;
	f.evidence = SN_EVIDENCE_TLS;
	f.tls_alpn = "mqtt";
	f.all_trusted_clients = true;
	f.trusted_pattern = "^ops-";
	struct sn_rating r = rate(&f);
	static const char *const want[] = {
		"external MQTT broker",
		"TLS ALPN 'mqtt' names MQTT",
		"MQTT on non-standard port 443 (not raised: trusted clients)",
		"MQTT client ids match trusted pattern '^ops-'",
		"3 connections (threshold 2)",
	};
	ck_assert_int_eq(r.suspicion, SN_SUSP_LOW);
	assert_reasons(&r, want, ARRAY_SIZE(want));
}
END_TEST

/* ---- reasons ----------------------------------------------------------------------- */

START_TEST(test_reasons_in_clear)
{
	static const struct { enum sn_proto proto; uint16_t port; const char *where, *proof; } cases[] = {
		{ SN_PROTO_MQTT, 1883, "external MQTT broker", "MQTT CONNECT seen in clear" },
		{ SN_PROTO_XMPP, 5222, "external XMPP server", "XMPP stream header seen in clear" },
		{ SN_PROTO_AMQP, 5672, "external AMQP broker", "AMQP protocol header seen in clear" },
		{ SN_PROTO_STOMP, 61613, "external STOMP broker", "STOMP CONNECT frame seen in clear" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct sn_rule_facts f = facts(cases[i].proto, cases[i].port, true);
		struct sn_rating r = rate(&f);
		const char *want[] = { cases[i].where, cases[i].proof, "3 connections (threshold 2)" };
		assert_reasons(&r, want, ARRAY_SIZE(want));
	}
}
END_TEST

START_TEST(test_reasons_midstream)
{
	static const struct { enum sn_proto proto; uint16_t port; const char *where, *proof; } cases[] = {
		{ SN_PROTO_MQTT, 1883, "external MQTT broker",
		  "MQTT traffic seen in clear (connection picked up mid-stream)" },
		{ SN_PROTO_XMPP, 5222, "external XMPP server",
		  "XMPP traffic seen in clear (connection picked up mid-stream)" },
		{ SN_PROTO_AMQP, 5672, "external AMQP broker",
		  "AMQP traffic seen in clear (connection picked up mid-stream)" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct sn_rule_facts f = facts(cases[i].proto, cases[i].port, true);
		f.midstream = true;
		struct sn_rating r = rate(&f);
		const char *want[] = { cases[i].where, cases[i].proof, "3 connections (threshold 2)" };
		assert_reasons(&r, want, ARRAY_SIZE(want));
		/* the suspicion does not depend on how the protocol was seen */
		f.midstream = false;
		ck_assert_int_eq(rate(&f).suspicion, r.suspicion);
	}
	/* only payload evidence speaks of it: port evidence keeps its own words */
	struct sn_rule_facts f = facts(SN_PROTO_MQTT, 1883, true);
	f.midstream = true;
	f.evidence = SN_EVIDENCE_PORT;
	struct sn_rating r = rate(&f);
	ck_assert(has_reason(&r, "port 1883 only: no payload confirmed or refuted it"));
}
END_TEST

START_TEST(test_reasons_tls_port)
{
	struct sn_rule_facts f = facts(SN_PROTO_MQTT, 8883, false);
	f.evidence = SN_EVIDENCE_TLS;
	f.connections = 2;
	struct sn_rating r = rate(&f);
	static const char *const want[] = {
		"internal MQTT broker",
		"TLS ClientHello on MQTT's TLS port 8883",
		"2 connections (threshold 2)",
	};
	assert_reasons(&r, want, ARRAY_SIZE(want));
}
END_TEST

/* One connection is "1 connection", not "1 connections". */
START_TEST(test_reasons_one_connection_singular)
{
	struct sn_rule_facts f = facts(SN_PROTO_MQTT, 8883, false);
	f.evidence = SN_EVIDENCE_TLS;
	f.connections = 1;
	f.min_connections = 1;
	struct sn_rating r = rate(&f);
	ck_assert(has_reason(&r, "1 connection (threshold 1)"));
	ck_assert(!has_reason(&r, "1 connections (threshold 1)"));
}
END_TEST

START_TEST(test_reasons_port_only)
{
	struct sn_rule_facts f = facts(SN_PROTO_XMPP, 5269, false);
	f.evidence = SN_EVIDENCE_PORT;
	f.connections = 7;
	f.min_connections = 5;
	struct sn_rating r = rate(&f);
	static const char *const want[] = {
		"internal XMPP server",
		"port 5269 only: no payload confirmed or refuted it",
		"7 connections (threshold 5)",
	};
	ck_assert_int_eq(r.suspicion, SN_SUSP_MEDIUM);
	assert_reasons(&r, want, ARRAY_SIZE(want));
}
END_TEST

START_TEST(test_reasons_refuted)
{
	struct sn_rule_facts f = facts(SN_PROTO_MQTT, 1883, true);
	f.evidence = SN_EVIDENCE_PORT;
	f.any_refuted = true;
	struct sn_rating r = rate(&f);
	static const char *const want[] = {
		"external MQTT broker",
		"port 1883 only: no payload confirmed or refuted it",
		"port 1883 but some connections' payload is not MQTT",
		"3 connections (threshold 2)",
	};
	assert_reasons(&r, want, ARRAY_SIZE(want));
}
END_TEST

/* Every connection refuted: one reason, not "no payload confirmed or refuted it". */
START_TEST(test_reasons_all_refuted)
{
	struct sn_rule_facts f = facts(SN_PROTO_STOMP, 61613, false);
	f.evidence = SN_EVIDENCE_REFUTED;
	f.any_refuted = true;
	struct sn_rating r = rate(&f);
	static const char *const want[] = {
		"internal STOMP broker",
		"port 61613 but payload is not STOMP",
		"3 connections (threshold 2)",
	};
	ck_assert_int_eq(r.suspicion, SN_SUSP_MEDIUM); /* count: as the search rates it */
	assert_reasons(&r, want, ARRAY_SIZE(want));
}
END_TEST

/* rules.refuted: demote rates a wholly refuted group one step lower, saying why. */
START_TEST(test_refuted_demote)
{
	cfg.rules.refuted = SN_REFUTED_DEMOTE;
	struct sn_rule_facts f = facts(SN_PROTO_STOMP, 61613, true);
	f.evidence = SN_EVIDENCE_REFUTED;
	f.any_refuted = true;
	struct sn_rating r = rate(&f);
	static const char *const want[] = {
		"external STOMP broker",
		"port 61613 but payload is not STOMP",
		"rated one step lower: no connection's payload is STOMP (rules.refuted: demote)",
		"3 connections (threshold 2)",
	};
	ck_assert_int_eq(r.suspicion, SN_SUSP_MEDIUM);
	assert_reasons(&r, want, ARRAY_SIZE(want));
	/* a confirmed connection in the group: not demoted */
	f.evidence = SN_EVIDENCE_PAYLOAD;
	r = rate(&f);
	ck_assert_int_eq(r.suspicion, SN_SUSP_HIGH);
	/* low stays low */
	f = facts(SN_PROTO_MQTT, 1883, false);
	f.evidence = SN_EVIDENCE_REFUTED;
	r = rate(&f);
	ck_assert_int_eq(r.suspicion, SN_SUSP_LOW);
}
END_TEST

START_TEST(test_reasons_both_exceptions)
{
	struct sn_rule_facts f = facts(SN_PROTO_MQTT, 1883, true);
	f.process_name = "mosquitto";
	f.all_trusted_clients = true;
	f.trusted_pattern = "^a$";
	struct sn_rating r = rate(&f);
	static const char *const want[] = {
		"external MQTT broker",
		"MQTT CONNECT seen in clear",
		"process name matches trusted pattern '^mosquitto$'",
		"MQTT client ids match trusted pattern '^a$'",
		"3 connections (threshold 2)",
	};
	ck_assert_int_eq(r.suspicion, SN_SUSP_LOW);
	assert_reasons(&r, want, ARRAY_SIZE(want));
}
END_TEST

START_TEST(test_reasons_long_pattern_fits)
{
	char pattern[SN_CFG_STR];
	memset(pattern, 'x', sizeof pattern - 1);
	pattern[sizeof pattern - 1] = '\0';
	struct sn_rule_facts f = facts(SN_PROTO_MQTT, 1883, true);
	f.all_trusted_clients = true;
	f.trusted_pattern = pattern;
	f.connections = UINT64_MAX;
	f.min_connections = UINT32_MAX;
	struct sn_rating r = rate(&f);
	for (size_t i = 0; i < r.n_reasons; i++)
		ck_assert_uint_lt(strlen(r.reasons[i]), SN_REASON_LEN);
	ck_assert_str_eq(r.reasons[r.n_reasons - 1],
			 "18446744073709551615 connections (threshold 4294967295)");
}
END_TEST

/*
 * Reason text is printf's: a precision keeps that many bytes of a string,
 * and a reason longer than SN_REASON_LEN - 1 bytes is cut there.
 */
START_TEST(test_reasons_precision_and_cut)
{
	char path[71], bad[151];
	memset(path, 'p', sizeof path - 1);
	path[sizeof path - 1] = '\0';
	memset(bad, 'y', sizeof bad - 1);
	bad[sizeof bad - 1] = '\0';
	struct sn_rule_facts f = facts(SN_PROTO_MQTT, 1883, true);
	f.ws_path = path;
	f.malformed = bad;
	struct sn_rating r = rate(&f);
	char want_ws[SN_REASON_LEN], want_bad[SN_REASON_LEN];
	/* "(path " then the first 60 bytes of the path, then ")" */
	strcpy(want_ws, "MQTT inside WebSocket frames (path ");
	memset(want_ws + strlen(want_ws), 'p', 60);
	strcpy(want_ws + strlen("MQTT inside WebSocket frames (path ") + 60, ")");
	/* 26 bytes of text and 100 of the string, cut to 111 bytes */
	strcpy(want_bad, "malformed MQTT handshake: ");
	memset(want_bad + 26, 'y', SN_REASON_LEN - 1 - 26);
	want_bad[SN_REASON_LEN - 1] = '\0';
	ck_assert(has_reason(&r, want_ws));
	ck_assert(has_reason(&r, want_bad));
	ck_assert(has_reason(&r, "3 connections (threshold 2)"));
}
END_TEST

Suite *rules_suite(void);

Suite *rules_suite(void)
{
	Suite *s = suite_create("rules");
	TCase *tc;

	tc = tcase_create("port_proto");
	tcase_add_checked_fixture(tc, setup, teardown);
	suite_add_tcase(s, tc);

	tc = tcase_create("is_external");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_home_networks_ipv4);
	tcase_add_test(tc, test_home_networks_ipv6);
	tcase_add_test(tc, test_home_networks_configured);
	suite_add_tcase(s, tc);

	tc = tcase_create("trusted_client");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_trusted_clients);
	tcase_add_test(tc, test_trusted_empty_pattern_list);
	tcase_add_test(tc, test_bad_pattern);
	suite_add_tcase(s, tc);

	tc = tcase_create("allowed");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_allow_nothing_by_default);
	tcase_add_test(tc, test_allow_destinations);
	tcase_add_test(tc, test_allow_tls_server_names);
	tcase_add_test(tc, test_allow_users);
	tcase_add_test(tc, test_allow_other_kinds);
	tcase_add_test(tc, test_command_topics_and_public_brokers);
	suite_add_tcase(s, tc);

	tc = tcase_create("rate");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_case_rows);
	tcase_add_test(tc, test_case_rows_with_port_evidence);
	tcase_add_test(tc, test_mosquitto_exception);
	tcase_add_test(tc, test_trusted_clients_exception);
	tcase_add_test(tc, test_nonstandard_port_raise);
	tcase_add_test(tc, test_beacon_raise);
	tcase_add_test(tc, test_message_beacon_raise);
	tcase_add_test(tc, test_message_beacon_kind);
	tcase_add_test(tc, test_no_raise_without_confirmation);
	tcase_add_test(tc, test_raise_on_another_protocols_port);
	tcase_add_test(tc, test_trusted_external_mqtt_not_raised);
	suite_add_tcase(s, tc);

	tc = tcase_create("reasons");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_reasons_in_clear);
	tcase_add_test(tc, test_reasons_midstream);
	tcase_add_test(tc, test_reasons_tls_port);
	tcase_add_test(tc, test_reasons_one_connection_singular);
	tcase_add_test(tc, test_reasons_port_only);
	tcase_add_test(tc, test_reasons_refuted);
	tcase_add_test(tc, test_reasons_all_refuted);
	tcase_add_test(tc, test_refuted_demote);
	tcase_add_test(tc, test_reasons_both_exceptions);
	tcase_add_test(tc, test_reasons_long_pattern_fits);
	tcase_add_test(tc, test_reasons_precision_and_cut);
	suite_add_tcase(s, tc);
	return s;
}
