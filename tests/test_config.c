/*
 * test_config.c - sensor/config.c: defaults, the shipped file, every key,
 * durations, overlay rules, printing, and every kind of error with its
 * exact message and position (golden files in tests/data/config/, read
 * from the repository root as the Makefile runs the tests).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define SHIPPED "config/pubsub-sensor.yaml"
#define DATA_DIR "tests/data/config"

/* Loads a YAML text over *cfg; on failure leaves the formatted error in msg. */
static int load(struct sn_config *cfg, const char *yaml, char *msg, size_t cap)
{
	struct sn_error err;
	int rc = sn_config_load_string(cfg, "test.yaml", yaml, strlen(yaml), &err);
	if (rc != 0)
		sn_error_format(&err, msg, cap);
	return rc;
}

static void load_ok(struct sn_config *cfg, const char *yaml)
{
	char msg[1024] = "";
	ck_assert_msg(load(cfg, yaml, msg, sizeof msg) == 0, "unexpected error: %s", msg);
}

static void expect_error(const char *yaml, const char *expected)
{
	struct sn_config cfg;
	char msg[1024] = "";
	sn_config_defaults(&cfg);
	ck_assert_int_eq(load(&cfg, yaml, msg, sizeof msg), -1);
	ck_assert_str_eq(msg, expected);
}

/* sn_config_print into a heap string the caller frees. */
static char *print_to_string(const struct sn_config *cfg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	ck_assert_ptr_nonnull(f);
	sn_config_print(f, cfg);
	fclose(f);
	return buf;
}

static void assert_same_config(const struct sn_config *a, const struct sn_config *b)
{
	char *pa = print_to_string(a), *pb = print_to_string(b);
	ck_assert_str_eq(pa, pb);
	free(pa);
	free(pb);
}

static void assert_cidr(const struct sn_cidr *c, const char *text)
{
	char buf[64];
	sn_cidr_format(c, buf, sizeof buf);
	ck_assert_str_eq(buf, text);
}

/* ---- defaults and the shipped file ------------------------------------ */

START_TEST(test_defaults)
{
	struct sn_config c;
	sn_config_defaults(&c);
	ck_assert_str_ne(c.sensor_name, "");
	ck_assert_str_eq(c.capture.interface, "");
	ck_assert_str_eq(c.capture.filter, "");
	ck_assert_uint_eq(c.capture.snaplen, 512);
	ck_assert_uint_eq(c.capture.buffer_mib, 64);
	ck_assert(c.capture.promiscuous);
	ck_assert_uint_eq(c.capture.workers, 1);
	ck_assert_uint_eq(c.n_home_networks, 8);
	assert_cidr(&c.home_networks[0], "10.0.0.0/8");
	assert_cidr(&c.home_networks[1], "172.16.0.0/12");
	assert_cidr(&c.home_networks[4], "169.254.0.0/16");
	assert_cidr(&c.home_networks[5], "::1/128");
	assert_cidr(&c.home_networks[7], "fe80::/10");
	ck_assert_uint_eq(c.protocols[SN_PROTO_MQTT].ports[0], 1883);
	ck_assert_uint_eq(c.protocols[SN_PROTO_MQTT].tls_ports[0], 8883);
	ck_assert_uint_eq(c.protocols[SN_PROTO_XMPP].n_ports, 2);
	ck_assert_uint_eq(c.protocols[SN_PROTO_XMPP].ports[1], 5269);
	ck_assert_uint_eq(c.protocols[SN_PROTO_XMPP].tls_ports[0], 5223);
	ck_assert_uint_eq(c.protocols[SN_PROTO_AMQP].ports[0], 5672);
	ck_assert_uint_eq(c.protocols[SN_PROTO_AMQP].tls_ports[0], 5671);
	ck_assert_uint_eq(c.protocols[SN_PROTO_STOMP].ports[0], 61613);
	ck_assert_uint_eq(c.protocols[SN_PROTO_STOMP].tls_ports[0], 61614);
	ck_assert_uint_eq(c.rules.min_connections, 2);
	ck_assert_int_eq(c.rules.min_suspicion, SN_SUSP_MEDIUM);
	ck_assert_uint_eq(c.rules.n_trusted_mqtt_clients, 0);
	ck_assert_uint_eq(c.rules.n_allow_destinations, 0);
	ck_assert_uint_eq(c.rules.nonstandard_port_raise, 1);
	ck_assert_uint_eq(c.tables.max_flows, 262144);
	ck_assert_uint_eq(c.tables.max_groups, 16384);
	ck_assert_uint_eq(c.tables.classify_buffers, 16384);
	ck_assert_uint_eq(c.tables.buffer_bytes, 2048);
	ck_assert_uint_eq(c.tables.flow_timeout_new, 30);
	ck_assert_uint_eq(c.tables.flow_timeout_established, 600);
	ck_assert_uint_eq(c.tables.flow_timeout_closed, 10);
	ck_assert_uint_eq(c.tables.group_window, 86400);
	ck_assert_uint_eq(c.tables.update_interval, 60);
	ck_assert_str_eq(c.output.event_log, "/var/log/pubsub-sensor/events.json");
	ck_assert(c.output.flows);
	ck_assert_uint_eq(c.output.stats_interval, 60);
	ck_assert_int_eq(c.output.flush, SN_FLUSH_EVERY_EVENT);
	ck_assert_uint_eq(c.output.flush_interval_ms, 1000);
	ck_assert_uint_eq(c.output.error_report_interval, 60);
	ck_assert_str_eq(c.daemon.user, "pubsub-sensor");
	ck_assert_str_eq(c.daemon.group, "pubsub-sensor");
	ck_assert_str_eq(c.daemon.pid_file, "");
	ck_assert(!c.daemon.allow_root);
	ck_assert(!c.daemon.retry_interface);
	ck_assert_uint_eq(c.daemon.retry_interval, 5);
}
END_TEST

START_TEST(test_shipped_file_equals_defaults)
{
	struct sn_config defaults, shipped;
	struct sn_error err;
	sn_config_defaults(&defaults);
	sn_config_defaults(&shipped);
	int rc = sn_config_load_file(&shipped, SHIPPED, &err);
	ck_assert_msg(rc == 0, "%s:%d:%d: %s", err.file, err.line, err.column, err.msg);
	assert_same_config(&defaults, &shipped);
	/* and byte for byte, so no field escapes the printer */
	ck_assert(memcmp(&defaults, &shipped, sizeof defaults) == 0);
}
END_TEST

START_TEST(test_shipped_file_documents_every_key)
{
	/* Each printed key appears in the shipped file (sensor_name commented). */
	struct sn_config c;
	sn_config_defaults(&c);
	char *printed = print_to_string(&c);
	FILE *f = fopen(SHIPPED, "r");
	ck_assert_ptr_nonnull(f);
	static char shipped[65536];
	size_t n = fread(shipped, 1, sizeof shipped - 1, f);
	fclose(f);
	shipped[n] = '\0';
	char *save = NULL;
	for (char *line = strtok_r(printed, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char key[64];
		ck_assert_int_eq(sscanf(line, " %63[a-z_]:", key), 1);
		char pattern[80];
		snprintf(pattern, sizeof pattern, "%s:", key);
		ck_assert_msg(strstr(shipped, pattern) != NULL, "%s not documented", key);
	}
	ck_assert_ptr_nonnull(strstr(shipped, "#sensor_name:"));
	free(printed);
}
END_TEST

/* ---- every key --------------------------------------------------------- */

static const char every_key[] =
	"sensor_name: \"edge-7\"\n"
	"capture:\n"
	"  interface: eth1\n"
	"  filter: \"tcp and not port 22\"\n"
	"  snaplen: 1500\n"
	"  buffer_mib: 128\n"
	"  promiscuous: false\n"
	"  workers: 4\n"
	"home_networks: [\"10.1.0.0/16\", \"2001:db8::/32\"]\n"
	"protocols:\n"
	"  mqtt: { ports: [1883, 1884], tls_ports: [8883, 8884] }\n"
	"  xmpp: { ports: [5222], tls_ports: [] }\n"
	"  amqp: { ports: [5672, 5673], tls_ports: [5671] }\n"
	"  stomp: { ports: [61613, 61615], tls_ports: [61614, 61616] }\n"
	"rules:\n"
	"  min_connections: 5\n"
	"  min_suspicion: high\n"
	"  trusted_mqtt_clients: [\"^sensor-[0-9]+$\", \"backup\"]\n"
	"  allow_destinations: [\"203.0.113.0/24\"]\n"
	"  allow_tls_server_names: [\"example.com\", \"iot.example.net\"]\n"
	"  allow_users: [\"monitor\"]\n"
	"  nonstandard_port_raise: 2\n"
	"tables:\n"
	"  max_flows: 1024\n"
	"  max_groups: 512\n"
	"  classify_buffers: 256\n"
	"  buffer_bytes: 4096\n"
	"  flow_timeout_new: 15\n"
	"  flow_timeout_established: 20m\n"
	"  flow_timeout_closed: 5s\n"
	"  group_window: 2d\n"
	"  update_interval: \"2m\"\n"
	"output:\n"
	"  event_log: \"-\"\n"
	"  flows: false\n"
	"  stats_interval: 30\n"
	"  flush: interval\n"
	"  flush_interval_ms: 250\n"
	"  error_report_interval: 1h\n"
	"daemon:\n"
	"  user: nobody\n"
	"  group: nogroup\n"
	"  pid_file: /run/pubsub-sensor.pid\n"
	"  allow_root: true\n"
	"  retry_interface: true\n"
	"  retry_interval: 10\n";

START_TEST(test_every_key_read_back)
{
	struct sn_config c;
	sn_config_defaults(&c);
	load_ok(&c, every_key);
	ck_assert_str_eq(c.sensor_name, "edge-7");
	ck_assert_str_eq(c.capture.interface, "eth1");
	ck_assert_str_eq(c.capture.filter, "tcp and not port 22");
	ck_assert_uint_eq(c.capture.snaplen, 1500);
	ck_assert_uint_eq(c.capture.buffer_mib, 128);
	ck_assert(!c.capture.promiscuous);
	ck_assert_uint_eq(c.capture.workers, 4);
	ck_assert_uint_eq(c.n_home_networks, 2);
	assert_cidr(&c.home_networks[0], "10.1.0.0/16");
	assert_cidr(&c.home_networks[1], "2001:db8::/32");
	ck_assert_uint_eq(c.protocols[SN_PROTO_MQTT].n_ports, 2);
	ck_assert_uint_eq(c.protocols[SN_PROTO_MQTT].ports[1], 1884);
	ck_assert_uint_eq(c.protocols[SN_PROTO_MQTT].tls_ports[1], 8884);
	ck_assert_uint_eq(c.protocols[SN_PROTO_XMPP].n_ports, 1);
	ck_assert_uint_eq(c.protocols[SN_PROTO_XMPP].n_tls_ports, 0);
	ck_assert_uint_eq(c.protocols[SN_PROTO_AMQP].ports[1], 5673);
	ck_assert_uint_eq(c.protocols[SN_PROTO_STOMP].ports[1], 61615);
	ck_assert_uint_eq(c.protocols[SN_PROTO_STOMP].tls_ports[1], 61616);
	ck_assert_uint_eq(c.rules.min_connections, 5);
	ck_assert_int_eq(c.rules.min_suspicion, SN_SUSP_HIGH);
	ck_assert_uint_eq(c.rules.n_trusted_mqtt_clients, 2);
	ck_assert_str_eq(c.rules.trusted_mqtt_clients[0], "^sensor-[0-9]+$");
	ck_assert_str_eq(c.rules.trusted_mqtt_clients[1], "backup");
	ck_assert_uint_eq(c.rules.n_allow_destinations, 1);
	assert_cidr(&c.rules.allow_destinations[0], "203.0.113.0/24");
	ck_assert_uint_eq(c.rules.n_allow_tls_server_names, 2);
	ck_assert_str_eq(c.rules.allow_tls_server_names[1], "iot.example.net");
	ck_assert_uint_eq(c.rules.n_allow_users, 1);
	ck_assert_str_eq(c.rules.allow_users[0], "monitor");
	ck_assert_uint_eq(c.rules.nonstandard_port_raise, 2);
	ck_assert_uint_eq(c.tables.max_flows, 1024);
	ck_assert_uint_eq(c.tables.max_groups, 512);
	ck_assert_uint_eq(c.tables.classify_buffers, 256);
	ck_assert_uint_eq(c.tables.buffer_bytes, 4096);
	ck_assert_uint_eq(c.tables.flow_timeout_new, 15);
	ck_assert_uint_eq(c.tables.flow_timeout_established, 1200);
	ck_assert_uint_eq(c.tables.flow_timeout_closed, 5);
	ck_assert_uint_eq(c.tables.group_window, 172800);
	ck_assert_uint_eq(c.tables.update_interval, 120);
	ck_assert_str_eq(c.output.event_log, "-");
	ck_assert(!c.output.flows);
	ck_assert_uint_eq(c.output.stats_interval, 30);
	ck_assert_int_eq(c.output.flush, SN_FLUSH_INTERVAL);
	ck_assert_uint_eq(c.output.flush_interval_ms, 250);
	ck_assert_uint_eq(c.output.error_report_interval, 3600);
	ck_assert_str_eq(c.daemon.user, "nobody");
	ck_assert_str_eq(c.daemon.group, "nogroup");
	ck_assert_str_eq(c.daemon.pid_file, "/run/pubsub-sensor.pid");
	ck_assert(c.daemon.allow_root);
	ck_assert(c.daemon.retry_interface);
	ck_assert_uint_eq(c.daemon.retry_interval, 10);
}
END_TEST

START_TEST(test_durations)
{
	static const struct { const char *text; uint32_t seconds; } cases[] = {
		{ "45", 45 }, { "\"45\"", 45 }, { "45s", 45 }, { "10m", 600 },
		{ "2h", 7200 }, { "1d", 86400 }, { "'365d'", 31536000 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct sn_config c;
		char yaml[128];
		sn_config_defaults(&c);
		snprintf(yaml, sizeof yaml, "tables:\n  flow_timeout_closed: %s\n", cases[i].text);
		load_ok(&c, yaml);
		ck_assert_uint_eq(c.tables.flow_timeout_closed, cases[i].seconds);
	}
}
END_TEST

START_TEST(test_bad_durations)
{
	static const char *const bad[] = { "10 m", "m", "1w", "-5", "1.5h", "10mm", "[]", "" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char yaml[128], want[256];
		snprintf(yaml, sizeof yaml, "output:\n  stats_interval: %s\n", bad[i]);
		snprintf(want, sizeof want,
			 "test.yaml:2:%d: output.stats_interval: expected a duration (seconds, or a "
			 "number followed by s, m, h or d)", bad[i][0] ? 19 : 18);
		expect_error(yaml, want);
	}
	expect_error("output:\n  stats_interval: 0\n",
		     "test.yaml:2:19: output.stats_interval: must be between 1 and 31536000 seconds");
	expect_error("output:\n  stats_interval: 99999999999999999999d\n",
		     "test.yaml:2:19: output.stats_interval: must be between 1 and 31536000 seconds");
}
END_TEST

/* output.payload_bytes: 0 (nothing recorded) by default, up to the kept-bytes cap. */
START_TEST(test_payload_bytes)
{
	struct sn_config c;
	sn_config_defaults(&c);
	ck_assert_uint_eq(c.output.payload_bytes, 0);
	load_ok(&c, "output:\n  payload_bytes: 16\n");
	ck_assert_uint_eq(c.output.payload_bytes, 16);
	load_ok(&c, "output:\n  payload_bytes: 256\n");
	ck_assert_uint_eq(c.output.payload_bytes, SN_META_PAYLOAD_MAX);
	expect_error("output:\n  payload_bytes: 257\n",
		     "test.yaml:2:18: output.payload_bytes: must be between 0 and 256");
	expect_error("output:\n  payload_bytes: -1\n",
		     "test.yaml:2:18: output.payload_bytes: must be between 0 and 256");
}
END_TEST

START_TEST(test_booleans_and_integers)
{
	struct sn_config c;
	sn_config_defaults(&c);
	load_ok(&c, "capture: { promiscuous: False }\ndaemon: { allow_root: TRUE }\n");
	ck_assert(!c.capture.promiscuous);
	ck_assert(c.daemon.allow_root);
	load_ok(&c, "capture:\n  snaplen: +262144\n");
	ck_assert_uint_eq(c.capture.snaplen, 262144);
	expect_error("capture:\n  promiscuous: yes\n",
		     "test.yaml:2:16: capture.promiscuous: expected true or false");
	expect_error("capture:\n  promiscuous: \"true\"\n",
		     "test.yaml:2:16: capture.promiscuous: expected true or false");
	expect_error("capture:\n  snaplen: 262145\n",
		     "test.yaml:2:12: capture.snaplen: must be between 64 and 262144");
	expect_error("capture:\n  snaplen: 123456789012345678901234567890\n",
		     "test.yaml:2:12: capture.snaplen: must be between 64 and 262144");
	expect_error("capture:\n  snaplen: 0x200\n",
		     "test.yaml:2:12: capture.snaplen: expected an integer");
	expect_error("capture:\n  snaplen:\n",
		     "test.yaml:2:11: capture.snaplen: expected an integer");
}
END_TEST

/* ---- overlay ------------------------------------------------------------ */

START_TEST(test_missing_keys_keep_defaults)
{
	struct sn_config c, d;
	sn_config_defaults(&c);
	sn_config_defaults(&d);
	load_ok(&c, "capture:\n  snaplen: 1024\n");
	ck_assert_uint_eq(c.capture.snaplen, 1024);
	d.capture.snaplen = 1024;
	assert_same_config(&c, &d);
}
END_TEST

START_TEST(test_overlay_on_previous_values)
{
	struct sn_config c;
	sn_config_defaults(&c);
	load_ok(&c, "capture: { snaplen: 1024 }\n");
	load_ok(&c, "capture: { workers: 2 }\n");
	ck_assert_uint_eq(c.capture.snaplen, 1024);
	ck_assert_uint_eq(c.capture.workers, 2);
}
END_TEST

START_TEST(test_list_replaces_default)
{
	struct sn_config c;
	sn_config_defaults(&c);
	load_ok(&c, "home_networks:\n  - 192.0.2.0/24\n");
	ck_assert_uint_eq(c.n_home_networks, 1);
	assert_cidr(&c.home_networks[0], "192.0.2.0/24");
	load_ok(&c, "home_networks: []\n");
	ck_assert_uint_eq(c.n_home_networks, 0);
	load_ok(&c, "protocols:\n  xmpp:\n    ports: [5222]\n");
	ck_assert_uint_eq(c.protocols[SN_PROTO_XMPP].n_ports, 1);
	ck_assert_uint_eq(c.protocols[SN_PROTO_XMPP].n_tls_ports, 1); /* untouched */
}
END_TEST

START_TEST(test_empty_and_null_sections)
{
	struct sn_config c, d;
	sn_config_defaults(&c);
	sn_config_defaults(&d);
	load_ok(&c, "");
	load_ok(&c, "# only a comment\n");
	load_ok(&c, "capture:\n  # snaplen: 100\nrules: ~\n");
	load_ok(&c, "{}\n");
	assert_same_config(&c, &d);
}
END_TEST

START_TEST(test_failed_load_changes_nothing)
{
	struct sn_config c, d;
	sn_config_defaults(&c);
	sn_config_defaults(&d);
	char msg[512];
	ck_assert_int_eq(load(&c, "capture:\n  snaplen: 1024\n  workers: 0\n", msg, sizeof msg), -1);
	assert_same_config(&c, &d);
}
END_TEST

START_TEST(test_strings)
{
	struct sn_config c;
	sn_config_defaults(&c);
	load_ok(&c, "output:\n  event_log: ''\ndaemon:\n  pid_file: ~\n  user: 1000\n");
	ck_assert_str_eq(c.output.event_log, "");
	ck_assert_str_eq(c.daemon.pid_file, "");
	ck_assert_str_eq(c.daemon.user, "1000");
	expect_error("daemon:\n  user: \"a\\0b\"\n",
		     "test.yaml:2:9: daemon.user: contains a NUL character");
	/* 63 characters fit in interface[64]; 64 do not */
	load_ok(&c, "capture: { interface: "
		    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa }\n");
	ck_assert_uint_eq(strlen(c.capture.interface), 63);
	expect_error("capture: { interface: "
		     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa }\n",
		     "test.yaml:1:23: capture.interface: too long (at most 63 characters)");
}
END_TEST

/* ---- printing ------------------------------------------------------------ */

static void round_trip(const struct sn_config *c)
{
	char *text = print_to_string(c);
	struct sn_config back;
	sn_config_defaults(&back);
	load_ok(&back, text);
	assert_same_config(c, &back);
	free(text);
}

START_TEST(test_syslog_keys)
{
	struct sn_config c;
	sn_config_defaults(&c);
	ck_assert_str_eq(c.output.syslog.target, "");
	ck_assert_uint_eq(c.output.syslog.facility, 21); /* local5 */
	ck_assert_uint_eq(c.output.syslog.queue_events, 10000);
	ck_assert(c.output.flows); /* on by default: flow events feed report and the SIEM */
	load_ok(&c, "output:\n  syslog:\n    target: \"tcp://[::1]:6514\"\n    facility: daemon\n"
		    "    queue_events: 5\n");
	ck_assert_str_eq(c.output.syslog.target, "tcp://[::1]:6514");
	ck_assert_uint_eq(c.output.syslog.facility, 3);
	ck_assert_uint_eq(c.output.syslog.queue_events, 5);
	load_ok(&c, "output:\n  syslog:\n    target: \"unix:/dev/log\"\n");
	load_ok(&c, "output:\n  syslog:\n    target: \"unix-stream:/run/x.sock\"\n");
	load_ok(&c, "output:\n  syslog:\n    target: \"udp://127.0.0.1:514\"\n");
	expect_error("output:\n  syslog:\n    target: \"tcp://127.0.0.1\"\n",
		     "test.yaml:3:13: output.syslog.target: 'tcp://127.0.0.1': expected HOST:PORT, e.g. "
		     "tcp://127.0.0.1:514");
	expect_error("output:\n  syslog:\n    target: \"tcp://h:70000\"\n",
		     "test.yaml:3:13: output.syslog.target: 'tcp://h:70000': the port must be a number "
		     "from 1 to 65535");
	expect_error("output:\n  syslog:\n    target: \"file:/tmp/x\"\n",
		     "test.yaml:3:13: output.syslog.target: 'file:/tmp/x': expected unix:PATH, "
		     "unix-stream:PATH, udp://HOST:PORT or tcp://HOST:PORT");
	expect_error("output:\n  syslog:\n    target: \"unix:dev/log\"\n",
		     "test.yaml:3:13: output.syslog.target: 'unix:dev/log': a unix socket target needs "
		     "an absolute path (unix:/dev/log)");
	expect_error("output:\n  syslog:\n    facility: local9\n",
		     "test.yaml:3:15: output.syslog.facility: expected a syslog facility name (daemon, "
		     "user, local0..local7, ...)");
	expect_error("output:\n  syslog:\n    queue_events: 0\n",
		     "test.yaml:3:19: output.syslog.queue_events: must be between 1 and 1000000");
}
END_TEST

START_TEST(test_print_round_trip_defaults)
{
	struct sn_config c;
	sn_config_defaults(&c);
	round_trip(&c);
}
END_TEST

START_TEST(test_print_round_trip_every_key)
{
	struct sn_config c;
	sn_config_defaults(&c);
	load_ok(&c, every_key);
	round_trip(&c);
}
END_TEST

/* YAML reads NEL, U+2028 and U+2029 raw as line breaks: printed, they are escaped. */
START_TEST(test_print_round_trip_unicode_breaks)
{
	struct sn_config c;
	sn_config_defaults(&c);
	load_ok(&c, "sensor_name: \"a\\Nb\\Lc\\Pd\\u0080e\"\n");
	ck_assert_str_eq(c.sensor_name, "a\xc2\x85" "b\xe2\x80\xa8" "c\xe2\x80\xa9" "d\xc2\x80" "e");
	round_trip(&c);
}
END_TEST

START_TEST(test_print_round_trip_awkward_strings)
{
	struct sn_config c;
	sn_config_defaults(&c);
	load_ok(&c, "sensor_name: \"a \\\"quoted\\\" name: #1\"\n"
		    "capture: { filter: \"tcp\\tport\\\\1883\" }\n"
		    "rules:\n"
		    "  trusted_mqtt_clients: ['^dev\\d+$', \"x{2,3}|[[:alpha:]]\"]\n"
		    "  allow_users: [\"ünïcode\", \"- dash\", \"[bracket\", \"\"]\n"
		    "  allow_destinations: [\"fe80::1/64\", \"192.0.2.1\"]\n"
		    "daemon: { user: 'null', group: \"true\" }\n");
	ck_assert_str_eq(c.sensor_name, "a \"quoted\" name: #1");
	ck_assert_str_eq(c.capture.filter, "tcp\tport\\1883");
	ck_assert_str_eq(c.rules.allow_users[0], "ünïcode");
	ck_assert_str_eq(c.daemon.user, "null");
	round_trip(&c);
	/* the printed form of a string that looks like null stays a string */
	char *text = print_to_string(&c);
	ck_assert_ptr_nonnull(strstr(text, "  user: \"null\"\n"));
	free(text);
}
END_TEST

START_TEST(test_print_format)
{
	struct sn_config c;
	sn_config_defaults(&c);
	snprintf(c.sensor_name, sizeof c.sensor_name, "s1");
	char *text = print_to_string(&c);
	ck_assert_ptr_nonnull(strstr(text, "sensor_name: \"s1\"\n"));
	ck_assert_ptr_nonnull(strstr(text, "\n  snaplen: 512\n"));
	ck_assert_ptr_nonnull(strstr(text, "\n  xmpp:\n    ports: [5222, 5269]\n"));
	ck_assert_ptr_nonnull(strstr(text, "\n  min_suspicion: medium\n"));
	ck_assert_ptr_nonnull(strstr(text, "\n  flush: every_event\n"));
	ck_assert_ptr_nonnull(strstr(text, "\n  trusted_mqtt_clients: []\n"));
	ck_assert_ptr_null(strchr(text, '#'));
	free(text);
}
END_TEST

/* ---- errors ---------------------------------------------------------------- */

START_TEST(test_error_format)
{
	struct sn_error e = { .file = "a.yaml", .line = 3, .column = 12, .msg = "x: y" };
	char out[600];
	sn_error_format(&e, out, sizeof out);
	ck_assert_str_eq(out, "a.yaml:3:12: x: y");
	e.line = 0;
	sn_error_format(&e, out, sizeof out);
	ck_assert_str_eq(out, "a.yaml: x: y");
}
END_TEST

START_TEST(test_suspicion_names)
{
	ck_assert_str_eq(sn_suspicion_name(SN_SUSP_LOW), "low");
	ck_assert_str_eq(sn_suspicion_name(SN_SUSP_MEDIUM), "medium");
	ck_assert_str_eq(sn_suspicion_name(SN_SUSP_HIGH), "high");
}
END_TEST

START_TEST(test_missing_file)
{
	struct sn_config c;
	struct sn_error err;
	char msg[1200];
	sn_config_defaults(&c);
	ck_assert_int_eq(sn_config_load_file(&c, DATA_DIR "/no-such-file.yaml", &err), -1);
	ck_assert_int_eq(err.line, 0);
	ck_assert_str_eq(err.msg, "cannot read '" DATA_DIR
			 "/no-such-file.yaml': No such file or directory");
	sn_error_format(&err, msg, sizeof msg);
	ck_assert_str_eq(msg, DATA_DIR "/no-such-file.yaml: cannot read '" DATA_DIR
			 "/no-such-file.yaml': No such file or directory");
	ck_assert_int_eq(sn_config_load_file(&c, DATA_DIR, &err), -1);
	ck_assert_str_eq(err.msg, "cannot read '" DATA_DIR "': Is a directory");
}
END_TEST

/* A stand-in for the BPF compiler main.c registers: rejects "bad". */
static int fake_filter_check(const char *filter, char *msg, size_t cap)
{
	if (strstr(filter, "bad") == NULL)
		return 0;
	snprintf(msg, cap, "bad BPF filter '%s': syntax error", filter);
	return -1;
}

/* capture.filter goes through the registered check; the error points at the value. */
START_TEST(test_filter_check_hook)
{
	struct sn_config c;
	sn_config_defaults(&c);
	load_ok(&c, "capture:\n  filter: \"tcp bad\"\n"); /* no check registered: any text */
	sn_config_set_filter_check(fake_filter_check);
	expect_error("capture:\n  filter: \"tcp bad\"\n",
		     "test.yaml:2:11: capture.filter: bad BPF filter 'tcp bad': syntax error");
	load_ok(&c, "capture:\n  filter: \"tcp port 1883\"\n");
	ck_assert_str_eq(c.capture.filter, "tcp port 1883");
	load_ok(&c, "capture:\n  filter: \"\"\n"); /* empty: no filter, not checked */
	sn_config_set_filter_check(NULL);
}
END_TEST

START_TEST(test_too_large)
{
	size_t len = 1024 * 1024 + 1;
	char *big = malloc(len);
	ck_assert_ptr_nonnull(big);
	memset(big, '\n', len);
	struct sn_config c;
	struct sn_error err;
	sn_config_defaults(&c);
	ck_assert_int_eq(sn_config_load_string(&c, "big.yaml", big, len, &err), -1);
	ck_assert_str_eq(err.msg, "larger than 1048576 bytes");
	free(big);
}
END_TEST

START_TEST(test_unknown_key_suggestions)
{
	expect_error("rulse: {}\n", "test.yaml:1:1: unknown key 'rulse' (did you mean 'rules'?)");
	expect_error("home_network: []\n",
		     "test.yaml:1:1: unknown key 'home_network' (did you mean 'home_networks'?)");
	expect_error("tables:\n  flow_timeout_establshed: 5\n",
		     "test.yaml:2:3: unknown key 'tables.flow_timeout_establshed' "
		     "(did you mean 'flow_timeout_established'?)");
	expect_error("protocols:\n  mqtt:\n    tls_port: [8883]\n",
		     "test.yaml:3:5: unknown key 'protocols.mqtt.tls_port' (did you mean 'tls_ports'?)");
	expect_error("rules:\n  zzz: 1\n", "test.yaml:2:3: unknown key 'rules.zzz'");
	expect_error("Capture: {}\n", "test.yaml:1:1: unknown key 'Capture' (did you mean 'capture'?)");
}
END_TEST

START_TEST(test_list_limits)
{
	/* 64 networks fit, 65 do not */
	char yaml[4096];
	size_t off = (size_t)snprintf(yaml, sizeof yaml, "home_networks: [");
	for (int i = 0; i < 65; i++)
		off += (size_t)snprintf(yaml + off, sizeof yaml - off, "%s\"10.%d.0.0/16\"",
					i ? ", " : "", i);
	snprintf(yaml + off, sizeof yaml - off, "]\n");
	expect_error(yaml, "test.yaml:1:16: home_networks: too many entries (at most 64)");
	char *cut = strstr(yaml, ", \"10.64.0.0/16\"");
	ck_assert_ptr_nonnull(cut);
	snprintf(cut, sizeof yaml - (size_t)(cut - yaml), "]\n");
	struct sn_config c;
	sn_config_defaults(&c);
	load_ok(&c, yaml);
	ck_assert_uint_eq(c.n_home_networks, 64);
}
END_TEST

START_TEST(test_port_ownership)
{
	struct sn_config c;
	sn_config_defaults(&c);
	/* moving a port from one protocol to another in one file is fine */
	load_ok(&c, "protocols:\n  xmpp: { ports: [5222] }\n  stomp: { ports: [61613, 5269] }\n");
	ck_assert_uint_eq(c.protocols[SN_PROTO_STOMP].ports[1], 5269);
	expect_error("protocols:\n  mqtt: { tls_ports: [8883, 1883] }\n",
		     "test.yaml:2:29: protocols.mqtt.tls_ports[1]: port 1883 is listed twice for mqtt");
	expect_error("protocols:\n  amqp: { tls_ports: [5222] }\n",
		     "test.yaml:2:23: protocols.amqp.tls_ports[0]: port 5222 already belongs to xmpp");
}
END_TEST

START_TEST(test_pattern_errors)
{
	/* the text after the pattern is the C library's regerror() */
	static const char bad[] = "rules:\n  trusted_mqtt_clients: [\"a[\"]\n";
	struct sn_config c;
	char msg[1024];
	sn_config_defaults(&c);
	ck_assert_int_eq(load(&c, bad, msg, sizeof msg), -1);
	ck_assert_msg(strncmp(msg, "test.yaml:2:26: rules.trusted_mqtt_clients[0]: bad regular "
			      "expression 'a[': ", 68) == 0, "%s", msg);
	expect_error("rules:\n  trusted_mqtt_clients: \"^a\"\n",
		     "test.yaml:2:25: rules.trusted_mqtt_clients: expected a list of regular "
		     "expressions");
	expect_error("rules:\n  allow_users: monitor\n",
		     "test.yaml:2:16: rules.allow_users: expected a list of strings");
	expect_error("protocols:\n  amqp:\n    ports: 5672\n",
		     "test.yaml:3:12: protocols.amqp.ports: expected a list of ports");
}
END_TEST

/* The golden error files: NAME.yaml fails with the one line in NAME.expected. */
static const char *const golden[] = {
	"alias", "bad-bool", "bad-cidr", "bad-duration", "bad-flush", "bad-port", "bad-regex",
	"bad-snaplen", "bad-suspicion", "buffer-bytes-range", "duplicate-key",
	"duplicate-section", "duration-range", "home-networks-item", "home-networks-type",
	"key-not-scalar", "min-connections-zero", "negative-integer", "not-mapping",
	"port-conflict-default", "port-conflict", "port-too-big", "port-twice",
	"quoted-integer", "raise-range", "regex-bound", "regex-stacked", "section-type", "snaplen-range", "string-too-long",
	"string-type", "syntax-error", "syntax-unclosed", "too-many-ports", "two-documents",
	"unknown-key", "unknown-nested", "unknown-no-hint", "unknown-protocol", "workers-range",
};

START_TEST(test_golden_errors)
{
	const char *name = golden[_i];
	char path[256], expected[1024], got[1200];
	struct sn_config c;
	struct sn_error err;

	snprintf(path, sizeof path, DATA_DIR "/%s.expected", name);
	FILE *f = fopen(path, "r");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	ck_assert_ptr_nonnull(fgets(expected, sizeof expected, f));
	fclose(f);
	expected[strcspn(expected, "\n")] = '\0';

	snprintf(path, sizeof path, DATA_DIR "/%s.yaml", name);
	sn_config_defaults(&c);
	ck_assert_int_eq(sn_config_load_file(&c, path, &err), -1);
	sn_error_format(&err, got, sizeof got);
	ck_assert_str_eq(got, expected);
}
END_TEST

/* rules.refuted: count (default), demote, ignore; anything else names the choices. */
START_TEST(test_rules_refuted)
{
	struct sn_config c;
	char msg[512];

	sn_config_defaults(&c);
	ck_assert_int_eq(c.rules.refuted, SN_REFUTED_COUNT);
	ck_assert_int_eq(load(&c, "rules:\n  refuted: demote\n", msg, sizeof msg), 0);
	ck_assert_int_eq(c.rules.refuted, SN_REFUTED_DEMOTE);
	ck_assert_int_eq(load(&c, "rules:\n  refuted: ignore\n", msg, sizeof msg), 0);
	ck_assert_int_eq(c.rules.refuted, SN_REFUTED_IGNORE);
	ck_assert_int_ne(load(&c, "rules:\n  refuted: drop\n", msg, sizeof msg), 0);
	ck_assert_ptr_nonnull(strstr(msg, "test.yaml:2:12"));
	ck_assert_ptr_nonnull(strstr(msg, "rules.refuted: expected count, demote or ignore"));
}
END_TEST

/*
 * The protocols: section and its defaults come from the dissector registry:
 * one section per registry protocol, named as its entry, holding its ports.
 */
START_TEST(test_protocols_follow_registry)
{
	struct sn_config c;
	sn_config_defaults(&c);
	for (int p = SN_PROTO_MQTT; p < SN_PROTO_COUNT; p++) {
		const struct sn_dissector *d = sn_dissector_for_proto((enum sn_proto)p);
		ck_assert_uint_eq(c.protocols[p].n_ports, sn_dissector_port_count(d->ports));
		ck_assert_uint_eq(c.protocols[p].n_tls_ports, sn_dissector_port_count(d->tls_ports));
		for (size_t k = 0; k < c.protocols[p].n_ports; k++)
			ck_assert_uint_eq(c.protocols[p].ports[k], d->ports[k]);
		for (size_t k = 0; k < c.protocols[p].n_tls_ports; k++)
			ck_assert_uint_eq(c.protocols[p].tls_ports[k], d->tls_ports[k]);
	}
	expect_error("protocols:\n  mqt:\n    ports: [1]\n",
		     "test.yaml:2:3: unknown key 'protocols.mqt' (did you mean 'mqtt'?)");
	expect_error("protocols:\n  stomp: {}\n  stomp: {}\n",
		     "test.yaml:3:3: duplicate key 'protocols.stomp'");
	load_ok(&c, "protocols:\n  stomp:\n    ports: [1, 2]\n  amqp:\n    tls_ports: []\n");
	ck_assert_uint_eq(c.protocols[SN_PROTO_STOMP].n_ports, 2);
	ck_assert_uint_eq(c.protocols[SN_PROTO_STOMP].ports[1], 2);
	ck_assert_uint_eq(c.protocols[SN_PROTO_STOMP].tls_ports[0], 61614);
	ck_assert_uint_eq(c.protocols[SN_PROTO_AMQP].n_tls_ports, 0);
	ck_assert_uint_eq(c.protocols[SN_PROTO_AMQP].ports[0], 5672);
	char *out = print_to_string(&c);
	ck_assert_ptr_nonnull(strstr(out, "protocols:\n  mqtt:\n    ports: [1883]\n"
					  "    tls_ports: [8883]\n  xmpp:\n"));
	ck_assert_ptr_nonnull(strstr(out, "  stomp:\n    ports: [1, 2]\n"));
	free(out);
}
END_TEST

Suite *config_suite(void);

Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc;

	tc = tcase_create("defaults");
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_protocols_follow_registry);
	tcase_add_test(tc, test_shipped_file_equals_defaults);
	tcase_add_test(tc, test_shipped_file_documents_every_key);
	tcase_add_test(tc, test_rules_refuted);
	suite_add_tcase(s, tc);

	tc = tcase_create("load");
	tcase_add_test(tc, test_every_key_read_back);
	tcase_add_test(tc, test_durations);
	tcase_add_test(tc, test_syslog_keys);
	tcase_add_test(tc, test_bad_durations);
	tcase_add_test(tc, test_booleans_and_integers);
	tcase_add_test(tc, test_payload_bytes);
	tcase_add_test(tc, test_missing_keys_keep_defaults);
	tcase_add_test(tc, test_overlay_on_previous_values);
	tcase_add_test(tc, test_list_replaces_default);
	tcase_add_test(tc, test_empty_and_null_sections);
	tcase_add_test(tc, test_failed_load_changes_nothing);
	tcase_add_test(tc, test_strings);
	suite_add_tcase(s, tc);

	tc = tcase_create("print");
	tcase_add_test(tc, test_print_round_trip_defaults);
	tcase_add_test(tc, test_print_round_trip_every_key);
	tcase_add_test(tc, test_print_round_trip_awkward_strings);
	tcase_add_test(tc, test_print_round_trip_unicode_breaks);
	tcase_add_test(tc, test_print_format);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_test(tc, test_error_format);
	tcase_add_test(tc, test_suspicion_names);
	tcase_add_test(tc, test_missing_file);
	tcase_add_test(tc, test_too_large);
	tcase_add_test(tc, test_unknown_key_suggestions);
	tcase_add_test(tc, test_list_limits);
	tcase_add_test(tc, test_port_ownership);
	tcase_add_test(tc, test_pattern_errors);
	tcase_add_test(tc, test_filter_check_hook);
	tcase_add_loop_test(tc, test_golden_errors, 0, (int)ARRAY_SIZE(golden));
	suite_add_tcase(s, tc);
	return s;
}
