/*
 * test_report.c - `pubsub-sensor report` (sensor/report.c): two flow
 * events of one group in two sensors' logs become one alerting group with
 * both connections; one connection alone does not alert; a gzip'd log reads
 * like a plain one; the latest summary per sensor is summed across sensors;
 * CSV cells that a spreadsheet would run get a leading '; usage errors.
 */
#include <check.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "events.h"
#include "report.h"

static char dir[200];

static void setup(void)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, sizeof dir, "%s/sn-report-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* One flow event: external MQTT from 10.0.0.1 to 203.0.113.5:1883. */
static int flow_line(char *out, size_t cap, const char *sensor, int sport, int second,
		     const char *process)
{
	return snprintf(out, cap,
		"{\"timestamp\":\"2026-11-28T01:00:0%d.500000Z\",\"event_type\":\"flow\",\"sensor\":\"%s\","
		"\"FirstSeen\":\"2026-11-28T01:00:0%d.000000Z\",\"LastSeen\":\"2026-11-28T01:00:0%d.500000Z\","
		"\"src_ip\":\"10.0.0.1\",\"src_port\":%d,\"dest_ip\":\"203.0.113.5\",\"dest_port\":1883,"
		"\"Protocol\":\"MQTT\",\"IsExternal\":\"yes\",\"process_name\":%s,\"Users\":[\"u1\"],"
		"\"BytesSent\":100,\"BytesReceived\":40,\"PacketsSent\":4,\"PacketsReceived\":3,"
		"\"evidence\":\"payload\",\"client_ids\":[\"c1\"],\"details\":{\"mqtt_version\":\"3.1.1\"},"
		"\"close\":\"fin\"}\n",
		second, sensor, second, second, sport, process);
}

static void write_file(const char *name, const char *text, bool gz)
{
	char path[300];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	if (gz) {
		gzFile g = gzopen(path, "wb");
		ck_assert_ptr_nonnull(g);
		gzputs(g, text);
		gzclose(g);
		return;
	}
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* Runs report with args (NULL-terminated, file names relative to dir); output text in out. */
static int report(char *out, size_t cap, const char *format, ...)
{
	char *argv[16], paths[8][300], opath[300];
	int argc = 0;
	argv[argc++] = (char *)"report";
	argv[argc++] = (char *)"--format";
	argv[argc++] = (char *)format;
	snprintf(opath, sizeof opath, "%s/out.txt", dir);
	argv[argc++] = (char *)"-o";
	argv[argc++] = opath;
	va_list ap;
	va_start(ap, format);
	const char *name;
	for (int i = 0; (name = va_arg(ap, const char *)) != NULL && i < 8; i++) {
		snprintf(paths[i], sizeof paths[i], "%s/%s", dir, name);
		argv[argc++] = paths[i];
	}
	va_end(ap);
	argv[argc] = NULL;
	int rc = sn_report_main(argc, argv);
	out[0] = '\0';
	FILE *f = fopen(opath, "r");
	if (f) {
		size_t n = fread(out, 1, cap - 1, f);
		out[n] = '\0';
		fclose(f);
	}
	return rc;
}

START_TEST(test_group_split_across_sensors)
{
	char a[2048], b[2048], out[65536];
	flow_line(a, sizeof a, "a", 40000, 1, "null");
	flow_line(b, sizeof b, "b", 40001, 3, "null");
	write_file("a.json", a, false);
	write_file("b.json.gz", b, true);
	ck_assert_int_eq(report(out, sizeof out, "json", "a.json", "b.json.gz", NULL), 0);
	ck_assert_ptr_nonnull(strstr(out, "\"ConnectionCount\": 2"));
	ck_assert_ptr_nonnull(strstr(out, "\"BytesSent\": 200"));
	ck_assert_ptr_nonnull(strstr(out, "\"Suspicion\": \"high\""));
	ck_assert_ptr_nonnull(strstr(out, "\"FirstSeen\": \"2026-11-28T01:00:01.000000Z\""));
	ck_assert_ptr_nonnull(strstr(out, "\"LastSeen\": \"2026-11-28T01:00:03.500000Z\""));
	ck_assert_ptr_nonnull(strstr(out, "\"external MQTT broker\""));
	/* one sensor alone has one connection: below the rule, no row */
	ck_assert_int_eq(report(out, sizeof out, "json", "a.json", NULL), 0);
	ck_assert_str_eq(out, "[]\n");
	/* ... unless the rule asks for one connection, as replay's option does */
	char *argv[] = { (char *)"report", (char *)"--min-connections", (char *)"1", (char *)"--format",
			 (char *)"json", (char *)"-o", NULL, NULL, NULL };
	char opath[300], apath[300];
	snprintf(opath, sizeof opath, "%s/one.txt", dir);
	snprintf(apath, sizeof apath, "%s/a.json", dir);
	argv[6] = opath;
	argv[7] = apath;
	ck_assert_int_eq(sn_report_main(8, argv), 0);
	FILE *f = fopen(opath, "r");
	ck_assert_ptr_nonnull(f);
	size_t n = fread(out, 1, sizeof out - 1, f);
	out[n] = '\0';
	fclose(f);
	ck_assert_ptr_nonnull(strstr(out, "\"ConnectionCount\": 1"));
	ck_assert_ptr_nonnull(strstr(out, "(threshold 1)\""));
	/* the same log twice counts its connection once */
	ck_assert_int_eq(report(out, sizeof out, "json", "a.json", "a.json", NULL), 0);
	ck_assert_str_eq(out, "[]\n");
}
END_TEST

/* A flow's message_beacon reaches the rebuilt group: its reason and raise. */
START_TEST(test_message_beacon_from_flows)
{
	static const char line[] =
		"{\"timestamp\":\"2026-11-28T01:10:00.000000Z\",\"event_type\":\"flow\",\"sensor\":\"a\","
		"\"FirstSeen\":\"2026-11-28T01:00:00.000000Z\",\"LastSeen\":\"2026-11-28T01:10:00.000000Z\","
		"\"src_ip\":\"10.0.0.1\",\"src_port\":40000,\"dest_ip\":\"10.0.0.9\",\"dest_port\":1883,"
		"\"Protocol\":\"MQTT\",\"IsExternal\":\"no\",\"process_name\":null,\"Users\":[],"
		"\"BytesSent\":100,\"BytesReceived\":40,\"PacketsSent\":24,\"PacketsReceived\":23,"
		"\"evidence\":\"payload\",\"client_ids\":[\"c1\"],\"details\":{\"mqtt_version\":\"3.1.1\"},"
		"\"close\":\"fin\"%s}\n";
	char text[4096], out[65536], opath[300], ipath[300];
	char *argv[] = { (char *)"report", (char *)"--min-connections", (char *)"1", (char *)"--format",
			 (char *)"json", (char *)"-o", opath, ipath, NULL };
	snprintf(opath, sizeof opath, "%s/one.txt", dir);
	snprintf(ipath, sizeof ipath, "%s/m.json", dir);

	snprintf(text, sizeof text, line,
		 ",\"message_beacon\":{\"interval_s\":30.012,\"jitter\":0.017,\"samples\":19,"
		 "\"kind\":\"pingreq\",\"messages\":20}");
	write_file("m.json", text, false);
	ck_assert_int_eq(sn_report_main(8, argv), 0);
	FILE *f = fopen(opath, "r");
	ck_assert_ptr_nonnull(f);
	size_t n = fread(out, 1, sizeof out - 1, f);
	out[n] = '\0';
	fclose(f);
	ck_assert_ptr_nonnull(strstr(out, "\"regular PINGREQ every ~30 s inside one connection\""));
	ck_assert_ptr_nonnull(strstr(out, "\"Suspicion\": \"medium\"")); /* internal: low + 1 */
	/* without it the same connection is low: below the rule, no row */
	snprintf(text, sizeof text, line, "");
	write_file("m.json", text, false);
	ck_assert_int_eq(sn_report_main(8, argv), 0);
	f = fopen(opath, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(out, 1, sizeof out - 1, f);
	out[n] = '\0';
	fclose(f);
	ck_assert_str_eq(out, "[]\n");
	/* figures the sensor never writes are no beacon */
	snprintf(text, sizeof text, line,
		 ",\"message_beacon\":{\"interval_s\":1e300,\"jitter\":7,\"samples\":19,"
		 "\"kind\":\"pingreq\",\"messages\":20}");
	write_file("m.json", text, false);
	ck_assert_int_eq(sn_report_main(8, argv), 0);
	f = fopen(opath, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(out, 1, sizeof out - 1, f);
	out[n] = '\0';
	fclose(f);
	ck_assert_str_eq(out, "[]\n");
}
END_TEST

START_TEST(test_summaries_summed)
{
	const char *fmt =
		"{\"timestamp\":\"2026-11-28T01:00:0%d.000000Z\",\"event_type\":\"summary\",\"sensor\":\"%s\","
		"\"FirstSeen\":\"2026-11-28T01:00:00.000000Z\",\"LastSeen\":\"2026-11-28T01:00:0%d.000000Z\","
		"\"src_ip\":\"10.0.0.1\",\"dest_ip\":\"10.0.0.9\",\"Protocol\":\"STOMP\",\"dest_port\":61613,"
		"\"IsExternal\":\"no\",\"process_name\":null,\"Users\":[\"%s\"],\"ConnectionCount\":%d,"
		"\"BytesSent\":10,\"BytesReceived\":5,\"Suspicion\":\"medium\",\"evidence\":\"payload\","
		"\"reasons\":[\"internal STOMP broker\"],\"client_ids\":[],\"details\":{}}\n";
	char a[4096], b[2048], out[65536];
	int n = snprintf(a, sizeof a, fmt, 1, "a", 1, "x", 2);
	snprintf(a + n, sizeof a - (size_t)n, fmt, 2, "a", 2, "x", 3); /* the latest of sensor a */
	snprintf(b, sizeof b, fmt, 4, "b", 4, "y", 2);
	write_file("a.json", a, false);
	write_file("b.json", b, false);
	ck_assert_int_eq(report(out, sizeof out, "json", "a.json", "b.json", NULL), 0);
	ck_assert_ptr_nonnull(strstr(out, "\"ConnectionCount\": 5"));
	ck_assert_ptr_nonnull(strstr(out, "\"BytesSent\": 20"));
	ck_assert_ptr_nonnull(strstr(out, "\"LastSeen\": \"2026-11-28T01:00:04.000000Z\""));
	ck_assert_ptr_nonnull(strstr(out, "\"source\": \"summaries\""));
	ck_assert_ptr_nonnull(strstr(out, "\"x\",\n   \"y\""));
}
END_TEST

START_TEST(test_csv_formula_guard)
{
	char a[2048], b[2048], both[4096], out[65536];
	flow_line(a, sizeof a, "a", 40000, 1, "\"=cmd|' /C calc'!A0\"");
	flow_line(b, sizeof b, "a", 40001, 2, "\"=cmd|' /C calc'!A0\"");
	snprintf(both, sizeof both, "%s%s", a, b);
	write_file("a.json", both, false);
	ck_assert_int_eq(report(out, sizeof out, "csv", "a.json", NULL), 0);
	ck_assert_ptr_nonnull(strstr(out, ",\"'=cmd|' /C calc'!A0\","));
	ck_assert_ptr_null(strstr(out, ",\"=cmd"));
	ck_assert_ptr_nonnull(strstr(out, "\r\n"));
}
END_TEST

/* A flow to 203.0.113.<host>:1883 at second `sec` (0..59). */
static int flow_to(char *out, size_t cap, int host, int sport, int sec)
{
	return snprintf(out, cap,
		"{\"timestamp\":\"2026-11-28T01:00:%02d.500000Z\",\"event_type\":\"flow\",\"sensor\":\"a\","
		"\"FirstSeen\":\"2026-11-28T01:00:%02d.000000Z\",\"LastSeen\":\"2026-11-28T01:00:%02d.500000Z\","
		"\"src_ip\":\"10.0.0.1\",\"src_port\":%d,\"dest_ip\":\"203.0.113.%d\",\"dest_port\":1883,"
		"\"Protocol\":\"MQTT\",\"IsExternal\":\"yes\",\"process_name\":null,\"Users\":[],"
		"\"BytesSent\":10,\"BytesReceived\":5,\"PacketsSent\":2,\"PacketsReceived\":2,"
		"\"evidence\":\"payload\",\"client_ids\":[],\"details\":{},\"close\":\"fin\"}\n",
		sec, sec, sec, sport, host);
}

START_TEST(test_evicted_group_instances_add_up)
{
	/* group .1 alerts (2 connections), 16 other groups evict it from a table of
	   16, then it comes back and alerts again: one row of 4, as replay's table */
	static char log[65536], out[65536];
	size_t len = 0;
	int sport = 40000;
	len += (size_t)flow_to(log + len, sizeof log - len, 1, sport++, 0);
	len += (size_t)flow_to(log + len, sizeof log - len, 1, sport++, 1);
	for (int h = 2; h <= 17; h++)
		len += (size_t)flow_to(log + len, sizeof log - len, h, sport++, h);
	len += (size_t)flow_to(log + len, sizeof log - len, 1, sport++, 18);
	flow_to(log + len, sizeof log - len, 1, sport++, 19);
	write_file("a.json", log, false);
	write_file("small.yaml", "tables:\n  max_groups: 16\n", false);
	char cpath[300], apath[300], opath[300];
	snprintf(cpath, sizeof cpath, "%s/small.yaml", dir);
	snprintf(apath, sizeof apath, "%s/a.json", dir);
	snprintf(opath, sizeof opath, "%s/out.txt", dir);
	char *argv[] = { (char *)"report", (char *)"-c", cpath, (char *)"--format", (char *)"json",
			 (char *)"-o", opath, apath, NULL };
	ck_assert_int_eq(sn_report_main(8, argv), 0);
	FILE *f = fopen(opath, "r");
	ck_assert_ptr_nonnull(f);
	size_t n = fread(out, 1, sizeof out - 1, f);
	out[n] = '\0';
	fclose(f);
	ck_assert_ptr_nonnull(strstr(out, "\"dest_ip\": \"203.0.113.1\""));
	ck_assert_ptr_nonnull(strstr(out, "\"ConnectionCount\": 4"));
	ck_assert_ptr_nonnull(strstr(out, "\"FirstSeen\": \"2026-11-28T01:00:00.000000Z\""));
	ck_assert_ptr_nonnull(strstr(out, "\"LastSeen\": \"2026-11-28T01:00:19.500000Z\""));
}
END_TEST

START_TEST(test_usage_errors)
{
	char *none[] = { (char *)"report", NULL };
	ck_assert_int_eq(sn_report_main(1, none), 2);
	char *fmt[] = { (char *)"report", (char *)"--format", (char *)"xml", (char *)"x", NULL };
	ck_assert_int_eq(sn_report_main(4, fmt), 2);
	char *mc[] = { (char *)"report", (char *)"--min-connections", (char *)"0", (char *)"x", NULL };
	ck_assert_int_eq(sn_report_main(4, mc), 2);
	char *ms[] = { (char *)"report", (char *)"--min-suspicion", (char *)"urgent", (char *)"x", NULL };
	ck_assert_int_eq(sn_report_main(4, ms), 2);
	char out[256];
	ck_assert_int_eq(report(out, sizeof out, "table", "absent.json", NULL), 1);
}
END_TEST

/* Sets every field of meta_fields.h to a value of its own (i: the field's index). */
static void fill_every_field(struct sn_meta *m)
{
	for (size_t i = 0; i < sn_meta_n_fields; i++) {
		const struct sn_meta_field *f = &sn_meta_fields[i];
		char *p = (char *)m + f->off;
		char *aux = (char *)m + f->aux_off;
		switch (f->kind) {
		case SN_MK_STR:
			snprintf(p, f->size, "v%zu", i);
			break;
		case SN_MK_LIST:
			*(uint8_t *)aux = 2;
			snprintf(p, f->size, "a%zu", i);
			snprintf(p + f->size, f->size, "b%zu", i);
			break;
		case SN_MK_UINT:
			*(bool *)aux = true;
			*(uint16_t *)p = (uint16_t)(100 + i);
			break;
		case SN_MK_BOOL:
			*(bool *)aux = true;
			*(bool *)p = i % 2 == 0;
			break;
		case SN_MK_FLAG:
			*(bool *)p = f->json != NULL; /* bookkeeping flags are not written */
			break;
		case SN_MK_CARRIER:
			*(enum sn_carrier *)p = SN_CARRIER_WEBSOCKET;
			break;
		case SN_MK_PAYLOADS:
			break; /* message bytes are written, never read back (report.c) */
		}
	}
	m->has_client_id = true;
}

/*
 * Every metadata field a flow event writes comes back from it: events.c's
 * `details` and report.c's read-back follow the one declaration.
 */
START_TEST(test_details_round_trip)
{
	static struct sn_conn_report r;
	static struct sn_events ev;
	struct sn_meta back;
	memset(&r, 0, sizeof r);
	r.kind = SN_REPORT_CLOSE;
	r.proto = r.port_proto = r.meta.proto = SN_PROTO_MQTT;
	r.server_port = 1883;
	r.evidence = SN_EVIDENCE_PAYLOAD;
	r.close = SN_CLOSE_FIN;
	fill_every_field(&r.meta);
	sn_events_init(&ev, "s1", NULL);
	ck_assert_uint_gt(sn_events_format_flow(&ev, &r, SN_PROTO_MQTT, false, -1, 1000000), 0);
	json_t *line = json_loads(ev.line, 0, NULL);
	ck_assert_ptr_nonnull(line);
	memset(&back, 0, sizeof back);
	sn_report_meta_from(&back, line, SN_PROTO_MQTT);
	ck_assert_msg(sn_meta_same(&r.meta, &back), "round trip differs: %s", ev.line);
	/* and a changed value is seen */
	back.topics[1][0] = 'z';
	ck_assert(!sn_meta_same(&r.meta, &back));
	json_decref(line);
}
END_TEST

Suite *report_suite(void);
Suite *report_suite(void)
{
	Suite *s = suite_create("report");
	TCase *t = tcase_create("report");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, test_group_split_across_sensors);
	tcase_add_test(t, test_message_beacon_from_flows);
	tcase_add_test(t, test_summaries_summed);
	tcase_add_test(t, test_csv_formula_guard);
	tcase_add_test(t, test_evicted_group_instances_add_up);
	tcase_add_test(t, test_usage_errors);
	tcase_add_test(t, test_details_round_trip);
	suite_add_tcase(s, t);
	return s;
}
