/*
 * test_table.c - the replay table (sensor/table.c): columns and alignment,
 * `sort Suspicion, - ConnectionCount` with deterministic ties, one row per
 * group refreshed in place, the row bound.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"
#include "testutil.h"

#define T0 1795827723123456ull /* 2026-11-28T01:02:03.123456Z */
#define SEC 1000000ull

static void group(struct sn_group *g, const char *src, const char *dst, uint16_t port,
		  enum sn_suspicion susp, uint64_t conns, uint64_t first)
{
	memset(g, 0, sizeof(*g));
	ck_assert(sn_addr_parse(src, &g->src));
	ck_assert(sn_addr_parse(dst, &g->dst));
	g->dest_port = port;
	g->proto = SN_PROTO_MQTT;
	g->first_us = first;
	g->last_us = first + 2 * SEC;
	g->connections = conns;
	g->bytes_sent = 100 * conns;
	g->bytes_received = 10 * conns;
	g->rating.suspicion = susp;
}

/* Prints the table into a string the caller frees. */
static char *print(const struct sn_table *t)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	ck_assert_ptr_nonnull(f);
	sn_table_print(t, f);
	fclose(f);
	return text;
}

/* The n-th line (0-based) of text, copied into out. */
static void line_of(const char *text, int n, char *out, size_t cap)
{
	const char *p = text;

	for (int i = 0; i < n && p; i++) {
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	ck_assert_ptr_nonnull(p);
	size_t k = strcspn(p, "\n");
	ck_assert_uint_lt(k, cap);
	memcpy(out, p, k);
	out[k] = '\0';
}

START_TEST(test_empty_prints_header_only)
{
	struct sn_table t;
	char *text;

	sn_table_init(&t, 10, 1);
	text = print(&t);
	ck_assert_str_eq(text, "FirstSeen (UTC)  LastSeen (UTC)  src_ip  dest_ip  Protocol  dest_port  "
			       "IsExternal  process_name  Users  ConnectionCount  BytesSent  BytesReceived  "
			       "Suspicion\n");
	free(text);
	sn_table_free(&t);
}
END_TEST

START_TEST(test_columns_golden)
{
	struct sn_table t;
	struct sn_group g;
	char *text;

	sn_table_init(&t, 10, 1);
	group(&g, "10.0.0.5", "203.0.113.7", 1883, SN_SUSP_HIGH, 3, T0);
	g.external = true;
	g.n_users = 2;
	strcpy(g.users[0], "alice");
	strcpy(g.users[1], "bob");
	sn_table_record(&t, &g);
	group(&g, "10.0.0.6", "10.0.0.1", 5222, SN_SUSP_MEDIUM, 12, T0);
	g.proto = SN_PROTO_XMPP;
	strcpy(g.process_name, "python3");
	sn_table_record(&t, &g);
	text = print(&t);
	ck_assert_str_eq(
		text,
		"FirstSeen (UTC)             LastSeen (UTC)              src_ip    dest_ip      "
		"Protocol  dest_port  IsExternal  process_name  Users      ConnectionCount  "
		"BytesSent  BytesReceived  Suspicion\n"
		"2026-11-28 01:02:03.123456  2026-11-28 01:02:05.123456  10.0.0.5  203.0.113.7  "
		"MQTT           1883  yes         -             alice,bob                3  "
		"      300             30  high\n"
		"2026-11-28 01:02:03.123456  2026-11-28 01:02:05.123456  10.0.0.6  10.0.0.1     "
		"XMPP           5222  no          python3       -                       12  "
		"     1200            120  medium\n");
	free(text);
	sn_table_free(&t);
}
END_TEST

/* Columns a line takes: one per character, two for the CJK ideographs used here. */
static size_t columns(const char *line)
{
	size_t w = 0;

	for (const unsigned char *p = (const unsigned char *)line; *p; p++) {
		if ((*p & 0xC0) != 0x80)
			w++;
		if (*p >= 0xE4 && *p <= 0xE9)
			w++; /* U+4E00-U+9FFF: wide */
	}
	return w;
}

/*
 * Wire strings with terminal controls stay on their row, spelled out; wide
 * characters keep the columns aligned (every line is as wide as the header
 * when all rows end in the same Suspicion).
 */
START_TEST(test_hostile_strings_escaped_and_aligned)
{
	struct sn_table t;
	struct sn_group g;

	sn_table_init(&t, 10, 1);
	group(&g, "10.0.0.5", "203.0.113.7", 61613, SN_SUSP_HIGH, 3, T0);
	g.proto = SN_PROTO_STOMP;
	g.n_users = 2;
	strcpy(g.users[0], "a\nb\x1b[2J\x1b]52;c;aGk=\x07\r\n");
	strcpy(g.users[1], "\xC2\x9B" "31m\xE2\x80\xA8\xFF");
	strcpy(g.process_name, "p\x1b]0;title\x07");
	sn_table_record(&t, &g);
	group(&g, "10.0.0.6", "203.0.113.8", 61613, SN_SUSP_HIGH, 2, T0);
	g.proto = SN_PROTO_STOMP;
	g.n_users = 1;
	strcpy(g.users[0], "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E"); /* 3 wide characters */
	sn_table_record(&t, &g);
	char *text = print(&t);

	size_t lines = 0;
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		if (*p == '\n') {
			lines++;
			continue;
		}
		ck_assert_msg(*p >= 0x20 && *p != 0x7f, "raw control 0x%02x", *p);
		if (*p == 0xC2)
			ck_assert_msg(p[1] < 0x80 || p[1] > 0x9F, "raw C1 control");
		if (*p == 0xE2 && p[1] == 0x80)
			ck_assert_msg(p[2] != 0xA8 && p[2] != 0xA9, "raw line separator");
	}
	ck_assert_uint_eq(lines, 3); /* header and two rows */
	ck_assert_ptr_nonnull(
		strstr(text, "a\\x0ab\\x1b[2J\\x1b]52;c;aGk=\\x07\\x0d\\x0a,\\u009b31m\\u2028\\xff"));
	ck_assert_ptr_nonnull(strstr(text, "p\\x1b]0;title\\x07"));

	char header[2048], row1[2048], row2[2048];
	line_of(text, 0, header, sizeof(header));
	line_of(text, 1, row1, sizeof(row1));
	line_of(text, 2, row2, sizeof(row2));
	ck_assert_ptr_nonnull(strstr(row2, "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E"));
	/* the header's last column is "Suspicion" (9), the rows' "high" (4) */
	ck_assert_uint_eq(columns(row1), columns(header) - 5);
	ck_assert_uint_eq(columns(row2), columns(header) - 5);
	free(text);
	sn_table_free(&t);
}
END_TEST

/* The CSV table: same rows and order, formulas guarded, placeholders empty. */
START_TEST(test_csv)
{
	struct sn_table t;
	struct sn_group g;
	char *text = NULL;
	size_t len = 0;

	sn_table_init(&t, 10, 1);
	group(&g, "10.0.0.5", "203.0.113.7", 61613, SN_SUSP_HIGH, 3, T0);
	g.proto = SN_PROTO_STOMP;
	g.n_users = 2;
	strcpy(g.users[0], "=HYPERLINK(\"x\")");
	strcpy(g.users[1], "b\x1b");
	sn_table_record(&t, &g);
	group(&g, "10.0.0.6", "10.0.0.1", 5222, SN_SUSP_MEDIUM, 12, T0);
	g.proto = SN_PROTO_XMPP;
	strcpy(g.process_name, "-p");
	sn_table_record(&t, &g);
	FILE *f = open_memstream(&text, &len);
	ck_assert_ptr_nonnull(f);
	sn_table_print_csv(&t, f);
	fclose(f);
	ck_assert_str_eq(text,
			 "FirstSeen (UTC),LastSeen (UTC),src_ip,dest_ip,Protocol,dest_port,IsExternal,"
			 "process_name,Users,ConnectionCount,BytesSent,BytesReceived,Suspicion\r\n"
			 "2026-11-28 01:02:03.123456,2026-11-28 01:02:05.123456,10.0.0.5,203.0.113.7,STOMP,"
			 "61613,no,,\"'=HYPERLINK(\"\"x\"\"),b\\x1b\",3,300,30,high\r\n"
			 "2026-11-28 01:02:03.123456,2026-11-28 01:02:05.123456,10.0.0.6,10.0.0.1,XMPP,"
			 "5222,no,\"'-p\",,12,1200,120,medium\r\n");
	free(text);
	sn_table_free(&t);
}
END_TEST

START_TEST(test_sort_order)
{
	struct sn_table t;
	struct sn_group g;
	char line[512], *text;

	sn_table_init(&t, 10, 1);
	group(&g, "10.0.0.1", "10.9.0.1", 1883, SN_SUSP_LOW, 50, T0);
	sn_table_record(&t, &g);
	group(&g, "10.0.0.2", "10.9.0.1", 1883, SN_SUSP_MEDIUM, 2, T0);
	sn_table_record(&t, &g);
	group(&g, "10.0.0.3", "10.9.0.1", 1883, SN_SUSP_HIGH, 2, T0 + SEC);
	sn_table_record(&t, &g);
	group(&g, "10.0.0.4", "10.9.0.1", 1883, SN_SUSP_HIGH, 9, T0);
	sn_table_record(&t, &g);
	group(&g, "10.0.0.5", "10.9.0.1", 1883, SN_SUSP_HIGH, 2, T0); /* ties 10.0.0.3 but earlier */
	sn_table_record(&t, &g);
	group(&g, "10.0.0.0", "10.9.0.1", 1883, SN_SUSP_HIGH, 2, T0 + SEC); /* ties, lower src */
	sn_table_record(&t, &g);
	text = print(&t);
	static const char *const order[] = { "10.0.0.4", "10.0.0.5", "10.0.0.0", "10.0.0.3",
					     "10.0.0.2", "10.0.0.1" };
	for (int i = 0; i < 6; i++) {
		char want[16];
		line_of(text, i + 1, line, sizeof(line));
		snprintf(want, sizeof(want), "%-8s ", order[i]);
		ck_assert_msg(strstr(line, want) != NULL, "row %d: %s", i, line);
	}
	free(text);
	sn_table_free(&t);
}
END_TEST

/*
 * A group that ended (summary: window roll or eviction) and came back is one
 * row over the whole replay: figures added, FirstSeen the earliest, users
 * merged, the higher suspicion.
 */
START_TEST(test_row_spans_group_instances)
{
	struct sn_table t;
	struct sn_group g;
	char line[512], *text;

	sn_table_init(&t, 10, 1);
	group(&g, "10.0.0.1", "198.51.100.9", 5222, SN_SUSP_HIGH, 2, T0);
	strcpy(g.users[0], "bob");
	g.n_users = 1;
	sn_table_record(&t, &g);
	sn_table_record_event(&t, SN_EV_SUMMARY, &g); /* its summary */
	group(&g, "10.0.0.1", "198.51.100.9", 5222, SN_SUSP_MEDIUM, 1, T0 + 40 * 86400 * SEC);
	strcpy(g.users[0], "alice");
	g.n_users = 1;
	sn_table_record(&t, &g);
	g.connections = 3;
	g.bytes_sent = 300;
	sn_table_record_event(&t, SN_EV_SUMMARY, &g);
	ck_assert_uint_eq(t.n_rows, 1);
	text = print(&t);
	line_of(text, 1, line, sizeof(line));
	ck_assert_ptr_nonnull(strstr(line, "2026-11-28 01:02:03.123456"));
	ck_assert_ptr_nonnull(strstr(line, "alice,bob"));
	ck_assert_ptr_nonnull(strstr(line, "  5  ")); /* 2 + 3 connections */
	ck_assert_ptr_nonnull(strstr(line, "  500  ")); /* 200 + 300 bytes sent */
	ck_assert_ptr_nonnull(strstr(line, "high"));
	free(text);
	sn_table_free(&t);
}
END_TEST

START_TEST(test_record_refreshes_row)
{
	struct sn_table t;
	struct sn_group g;
	char line[512], *text;

	sn_table_init(&t, 10, 1);
	group(&g, "10.0.0.1", "10.9.0.1", 1883, SN_SUSP_MEDIUM, 2, T0);
	sn_table_record(&t, &g);
	g.connections = 7;
	g.rating.suspicion = SN_SUSP_HIGH;
	sn_table_record(&t, &g);
	ck_assert_uint_eq(t.n_rows, 1);
	text = print(&t);
	line_of(text, 1, line, sizeof(line));
	ck_assert_ptr_nonnull(strstr(line, "  7  "));
	ck_assert_ptr_nonnull(strstr(line, "high"));
	free(text);
	/* a different key is another row */
	g.dest_port = 8883;
	sn_table_record(&t, &g);
	strcpy(g.process_name, "x");
	sn_table_record(&t, &g);
	ck_assert_uint_eq(t.n_rows, 3);
	sn_table_free(&t);
}
END_TEST

START_TEST(test_row_bound)
{
	struct sn_table t;
	struct sn_group g;
	char ip[32];

	sn_table_init(&t, 40, 1);
	for (unsigned i = 0; i < 50; i++) {
		snprintf(ip, sizeof(ip), "10.0.1.%u", i + 1);
		group(&g, ip, "10.9.0.1", 1883, SN_SUSP_HIGH, 2, T0);
		sn_table_record(&t, &g);
	}
	ck_assert_uint_eq(t.n_rows, 40);
	ck_assert_uint_eq(t.rows_dropped, 10);
	ck_assert_uint_le(t.cap_rows, 40);
	/* an existing row is still refreshed */
	group(&g, "10.0.1.1", "10.9.0.1", 1883, SN_SUSP_HIGH, 99, T0);
	sn_table_record(&t, &g);
	ck_assert_uint_eq(t.rows_dropped, 10);
	char *text = print(&t);
	char line[512];
	line_of(text, 1, line, sizeof(line));
	ck_assert_ptr_nonnull(strstr(line, "10.0.1.1 "));
	ck_assert_ptr_nonnull(strstr(line, " 99 "));
	free(text);
	sn_table_free(&t);
}
END_TEST

/* Alerting groups beyond the bound: counted once each and said under the table. */
START_TEST(test_rows_not_shown_footer_at_the_edge)
{
	struct sn_table t;
	struct sn_group g;
	char ip[32];

	sn_table_init(&t, 40, 1);
	for (unsigned i = 0; i < 40; i++) {
		snprintf(ip, sizeof(ip), "10.0.1.%u", i + 1);
		group(&g, ip, "10.9.0.1", 1883, SN_SUSP_HIGH, 2, T0);
		sn_table_record_event(&t, SN_EV_ALERT, &g);
		sn_table_record_event(&t, SN_EV_SUMMARY, &g);
	}
	char *text = print(&t);
	ck_assert_ptr_null(strstr(text, "not shown")); /* exactly at the bound: all shown */
	ck_assert_uint_eq(t.groups_not_shown, 0);
	free(text);

	group(&g, "10.0.2.1", "10.9.0.1", 1883, SN_SUSP_HIGH, 2, T0);
	sn_table_record_event(&t, SN_EV_ALERT, &g);
	sn_table_record_event(&t, SN_EV_UPDATE, &g);
	sn_table_record_event(&t, SN_EV_SUMMARY, &g);
	text = print(&t);
	char last[256];
	line_of(text, 41, last, sizeof(last));
	ck_assert_str_eq(last, "(1 more row not shown: the table keeps at most 40)");
	free(text);

	group(&g, "10.0.2.2", "10.9.0.1", 1883, SN_SUSP_HIGH, 2, T0);
	sn_table_record_event(&t, SN_EV_ALERT, &g);
	text = print(&t);
	line_of(text, 41, last, sizeof(last));
	ck_assert_str_eq(last, "(2 more rows not shown: the table keeps at most 40)");
	free(text);
	sn_table_free(&t);
}
END_TEST

START_TEST(test_ipv6_and_many_users)
{
	struct sn_table t;
	struct sn_group g;
	char *text;

	sn_table_init(&t, 4, 1);
	group(&g, "2001:db8::10", "2001:db8::1", 5672, SN_SUSP_HIGH, 2, T0);
	g.proto = SN_PROTO_AMQP;
	g.n_users = SN_GROUP_NAMES;
	for (unsigned i = 0; i < SN_GROUP_NAMES; i++)
		memset(g.users[i], 'a' + (int)i, SN_GROUP_NAME_LEN - 1);
	sn_table_record(&t, &g);
	text = print(&t);
	ck_assert_ptr_nonnull(strstr(text, "2001:db8::10  2001:db8::1  AMQP"));
	/* every user is printed, comma-joined */
	ck_assert_uint_gt(strlen(text), (size_t)SN_GROUP_NAMES * SN_GROUP_NAME_LEN);
	free(text);
	sn_table_free(&t);
}
END_TEST

START_TEST(test_many_rows_found_again)
{
	struct sn_table t;
	struct sn_group g;
	char ip[32];

	sn_table_init(&t, 100000, 1);
	for (unsigned round = 0; round < 2; round++) {
		for (unsigned i = 0; i < 5000; i++) {
			snprintf(ip, sizeof(ip), "10.1.%u.%u", i / 250, i % 250 + 1);
			group(&g, ip, "10.9.0.1", 1883, SN_SUSP_MEDIUM, 2 + round, T0);
			sn_table_record(&t, &g);
		}
	}
	ck_assert_uint_eq(t.n_rows, 5000);
	ck_assert_uint_eq(t.rows_dropped, 0);
	/* every row holds the second round's figures */
	char *text = print(&t);
	ck_assert_ptr_null(strstr(text, "  2  "));
	free(text);
	sn_table_free(&t);
	ck_assert_ptr_null(t.index);
}
END_TEST

/*
 * 100,000 rows whose sources collide under the unkeyed FNV-1a the index
 * used before it was keyed (same low 18 bits: one home slot of the
 * 262,144) are found in a few probes each, as ordinary ones are.
 */
START_TEST(test_crafted_collisions_do_not_cluster)
{
	enum { ROWS = 100000 };
	uint8_t (*src)[16] = calloc(ROWS, 16);
	struct sn_table t;
	struct sn_group g;

	ck_assert_ptr_nonnull(src);
	ck_assert_uint_eq(sn_test_fnv_flood(2166136261u, 18, src, ROWS), ROWS);
	ck_assert_uint_eq(sn_test_fnv(2166136261u, src[ROWS - 1], 16) & 0x3ffff,
			  sn_test_fnv(2166136261u, src[0], 16) & 0x3ffff);
	sn_table_init(&t, ROWS, 0x5eed);
	group(&g, "2001:db8::1", "203.0.113.7", 1883, SN_SUSP_HIGH, 2, T0);
	for (unsigned i = 0; i < ROWS; i++) {
		memcpy(g.src.b, src[i], 16);
		sn_table_record(&t, &g);
	}
	ck_assert_uint_eq(t.n_rows, ROWS);
	ck_assert_uint_le(t.longest_probe, 100);
	sn_table_free(&t);
	free(src);
}
END_TEST

Suite *table_suite(void);

Suite *table_suite(void)
{
	Suite *s = suite_create("table");
	TCase *t = tcase_create("table");

	tcase_add_test(t, test_empty_prints_header_only);
	tcase_add_test(t, test_columns_golden);
	tcase_add_test(t, test_hostile_strings_escaped_and_aligned);
	tcase_add_test(t, test_csv);
	tcase_add_test(t, test_sort_order);
	tcase_add_test(t, test_record_refreshes_row);
	tcase_add_test(t, test_row_spans_group_instances);
	tcase_add_test(t, test_row_bound);
	tcase_add_test(t, test_rows_not_shown_footer_at_the_edge);
	tcase_add_test(t, test_ipv6_and_many_users);
	tcase_add_test(t, test_many_rows_found_again);
	tcase_add_test(t, test_crafted_collisions_do_not_cluster);
	suite_add_tcase(s, t);
	return s;
}
