/*
 * test_pipeline.c - sensor/pipeline.c through its door only: a capture
 * replayed into a worker and the aggregator gives the table row and a stats
 * event counting every packet libpcap read; a reload with a bad rule is
 * refused and the running rules stay; a reload that lowers the threshold
 * takes effect; a stats event for a live capture carries the drop figures;
 * workers that share the DNS name cache name each other's connections.
 */
#include <check.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flow.h" /* SN_FLOW_EXPIRE_BUDGET */
#include "pipeline.h"
#include "testutil.h"

Suite *pipeline_suite(void);

static struct sn_config cfg;
static char log_path[256];

static void setup(void)
{
	const char *base = getenv("TMPDIR");
	snprintf(log_path, sizeof log_path, "%s/sn-pipeline-XXXXXX", base && *base ? base : "/tmp");
	int fd = mkstemp(log_path);
	ck_assert_int_ge(fd, 0);
	close(fd);
	sn_config_defaults(&cfg);
	snprintf(cfg.sensor_name, sizeof cfg.sensor_name, "t1");
	cfg.tables.max_flows = 1024;
	cfg.tables.max_groups = 256;
	cfg.tables.classify_buffers = 64;
}

static void teardown(void)
{
	unlink(log_path);
}

/*
 * Feeds a capture to a new worker, ticking the aggregator after every
 * packet (gated: only when the worker's time reached *sn_aggregator_due);
 * counts the packets read and the ticks made.  Returns the worker.
 */
static struct sn_worker *feed(const char *name, struct sn_aggregator *ag, bool gated,
			      uint64_t *packets, uint64_t *ticks)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(sn_test_pcap_path(name), err);
	ck_assert_msg(p != NULL, "%s", err);
	struct sn_worker *w = sn_worker_create(&cfg, pcap_datalink(p), sn_aggregator_report, ag, 1);
	ck_assert_ptr_nonnull(w);
	const uint64_t *due = sn_aggregator_due(ag);
	struct pcap_pkthdr *h;
	const u_char *data;
	*packets = *ticks = 0;
	while (pcap_next_ex(p, &h, &data) == 1) {
		uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
		sn_worker_packet(w, data, h->caplen, h->len, ts);
		++*packets;
		if (!gated || sn_worker_now(w) >= *due) {
			sn_aggregator_tick(ag, sn_worker_now(w));
			++*ticks;
		}
	}
	pcap_close(p);
	return w;
}

/* Replays a capture; returns the packets libpcap read. */
static uint64_t replay(const char *name, struct sn_worker **wp, struct sn_aggregator *ag)
{
	uint64_t n, ticks;
	struct sn_worker *w = feed(name, ag, false, &n, &ticks);
	sn_worker_flush(w, sn_worker_now(w), SN_CLOSE_END_OF_INPUT);
	sn_aggregator_flush(ag, sn_worker_now(w));
	*wp = w;
	return n;
}

static char *read_all(const char *path)
{
	static char buf[1 << 16];
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Replays a capture through feed(); returns the ticks made. */
static uint64_t replay_ticks(const char *name, struct sn_aggregator *ag, bool gated)
{
	uint64_t n, ticks;
	struct sn_worker *w = feed(name, ag, gated, &n, &ticks);
	sn_worker_flush(w, sn_worker_now(w), SN_CLOSE_END_OF_INPUT);
	sn_aggregator_tick(ag, sn_worker_now(w));
	sn_aggregator_flush(ag, sn_aggregator_now(ag));
	struct sn_worker_counts counts;
	sn_worker_counts(w, &counts);
	sn_aggregator_write_stats(ag, &counts, NULL, sn_aggregator_now(ag));
	sn_worker_destroy(w);
	return ticks;
}

/* Ticking only from the deadline on writes the same events as every packet. */
START_TEST(ticks_at_the_deadline_are_enough)
{
	char err[512];
	static char every[1 << 16];
	cfg.tables.update_interval = 1; /* updates each second: the ticks have work */
	struct sn_aggregator *ag = sn_aggregator_create(&cfg, log_path, false, err, sizeof err);
	ck_assert_msg(ag != NULL, "%s", err);
	ck_assert_uint_eq(*sn_aggregator_due(ag), 0); /* the first packet ticks */
	uint64_t all = replay_ticks("demo.pcap", ag, false);
	sn_aggregator_destroy(ag);
	snprintf(every, sizeof every, "%s", read_all(log_path));
	ck_assert_uint_lt(strlen(every), sizeof every - 1); /* all of it */
	ck_assert_ptr_nonnull(strstr(every, "\"event_type\":\"update\""));

	FILE *f = fopen(log_path, "w"); /* the log appends: start it again */
	ck_assert_ptr_nonnull(f);
	fclose(f);
	ag = sn_aggregator_create(&cfg, log_path, false, err, sizeof err);
	ck_assert_msg(ag != NULL, "%s", err);
	uint64_t some = replay_ticks("demo.pcap", ag, true);
	sn_aggregator_destroy(ag);
	ck_assert_msg(strcmp(read_all(log_path), every) == 0, "the event logs differ");
	ck_assert_uint_lt(some, all / 4);
	ck_assert_uint_gt(some, 1);
}
END_TEST

/* A tick sets the deadline a second on; a later report or a lost line brings it to 0. */
START_TEST(due_follows_ticks_reports_and_lost_lines)
{
	char err[512];
	struct sn_aggregator *ag = sn_aggregator_create(&cfg, log_path, false, err, sizeof err);
	ck_assert_msg(ag != NULL, "%s", err);
	const uint64_t *due = sn_aggregator_due(ag);
	sn_aggregator_tick(ag, 5000000);
	ck_assert_uint_eq(*due, 6000000);
	sn_aggregator_tick(ag, 5500000); /* no work: the deadline stays */
	ck_assert_uint_eq(*due, 6000000);
	struct sn_conn_report r;
	memset(&r, 0, sizeof r);
	r.kind = SN_REPORT_OPEN;
	r.ts_us = 5900000;
	sn_aggregator_report(ag, &r);
	ck_assert_uint_eq(*due, 6000000);
	r.ts_us = 6000000; /* the report's time reaches the tick */
	sn_aggregator_report(ag, &r);
	ck_assert_uint_eq(*due, 0);
	sn_aggregator_tick(ag, 5900000);
	ck_assert_uint_eq(*due, 7000000);
	sn_aggregator_destroy(ag);

	if (access("/dev/full", W_OK) != 0)
		return;
	cfg.output.flows = true; /* a flow event per report, each a lost line */
	ag = sn_aggregator_create(&cfg, "/dev/full", false, err, sizeof err);
	ck_assert_msg(ag != NULL, "%s", err);
	due = sn_aggregator_due(ag);
	sn_aggregator_tick(ag, 5000000);
	ck_assert_uint_eq(*due, 6000000);
	r.kind = SN_REPORT_CLOSE;
	r.proto = SN_PROTO_MQTT;
	r.server_port = 1883;
	r.ts_us = 5100000;
	sn_aggregator_report(ag, &r);
	uint64_t lost = 0;
	int last = 0;
	ck_assert(sn_aggregator_log_errors(ag, &lost, &last));
	ck_assert_uint_gt(lost, 0);
	ck_assert_uint_eq(*due, 0);
	sn_aggregator_tick(ag, 5100000);
	ck_assert_uint_eq(*due, 6000000);
	sn_aggregator_destroy(ag);
}
END_TEST

START_TEST(replay_gives_table_and_stats)
{
	char err[512], want[64];
	cfg.rules.min_connections = 1;
	cfg.rules.min_suspicion = SN_SUSP_LOW;
	struct sn_aggregator *ag = sn_aggregator_create(&cfg, log_path, true, err, sizeof err);
	ck_assert_msg(ag != NULL, "%s", err);
	struct sn_worker *w;
	uint64_t n = replay("mqtt-paho-v311-1883.pcap", &w, ag);
	struct sn_worker_counts c;
	sn_worker_counts(w, &c);
	ck_assert_uint_eq(c.decode.packets, n);
	ck_assert_uint_eq(c.flows_active, 0);
	sn_aggregator_write_stats(ag, &c, NULL, sn_aggregator_now(ag));
	FILE *table = tmpfile();
	ck_assert_ptr_nonnull(table);
	sn_aggregator_print_table(ag, table);
	rewind(table);
	char line[512], row[512] = "";
	while (fgets(line, sizeof line, table))
		snprintf(row, sizeof row, "%s", line);
	fclose(table);
	ck_assert_msg(strstr(row, "MQTT") && strstr(row, " 1883 "), "last row: %s", row);
	sn_worker_destroy(w);
	sn_aggregator_destroy(ag); /* flushes the log */
	const char *log = read_all(log_path);
	const char *stats = strstr(log, "\"event_type\":\"stats\",\"sensor\":\"t1\"");
	ck_assert_msg(stats != NULL, "no stats event in %s", log);
	snprintf(want, sizeof want, "\"packets\":%llu,", (unsigned long long)n);
	ck_assert_msg(strstr(stats, want) != NULL, "no '%s' in %s", want, stats);
	ck_assert_ptr_nonnull(strstr(log, "\"event_type\":\"alert\""));
	ck_assert_ptr_null(strstr(log, "\"dropped\"")); /* a replay has no kernel drops */
}
END_TEST

START_TEST(no_alerts_line)
{
	char err[512];
	struct sn_aggregator *ag = sn_aggregator_create(&cfg, NULL, true, err, sizeof err);
	ck_assert_msg(ag != NULL, "%s", err);
	struct sn_worker *w;
	replay("mqtt-paho-v311-1883.pcap", &w, ag); /* loopback MQTT rates low: under medium */
	FILE *table = tmpfile();
	sn_aggregator_print_table(ag, table);
	rewind(table);
	char line[512] = "";
	ck_assert_ptr_nonnull(fgets(line, sizeof line, table));
	fclose(table);
	ck_assert_str_eq(line, "no alerts: 2 connections in 1 group, none met the rule "
			       "(at least 2 connections, suspicion medium or higher)\n");
	sn_worker_destroy(w);
	sn_aggregator_destroy(ag);
}
END_TEST

START_TEST(reload_refuses_bad_rules_then_takes_good_ones)
{
	char err[512] = "";
	static struct sn_config next;
	struct sn_aggregator *ag = sn_aggregator_create(&cfg, log_path, true, err, sizeof err);
	ck_assert_msg(ag != NULL, "%s", err);
	next = cfg;
	next.rules.min_connections = 1;
	next.rules.min_suspicion = SN_SUSP_LOW;
	snprintf(next.rules.trusted_mqtt_clients[0], SN_CFG_STR, "(");
	next.rules.n_trusted_mqtt_clients = 1;
	ck_assert_int_eq(sn_aggregator_reload(ag, &next, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "trusted_mqtt_clients") != NULL, "%s", err);
	next.rules.n_trusted_mqtt_clients = 0;
	snprintf(next.sensor_name, sizeof next.sensor_name, "t2");
	ck_assert_int_eq(sn_aggregator_reload(ag, &next, err, sizeof err), 0);
	struct sn_worker *w;
	replay("mqtt-paho-v311-1883.pcap", &w, ag); /* alerts only under the new threshold */
	sn_worker_destroy(w);
	sn_aggregator_destroy(ag);
	const char *log = read_all(log_path);
	ck_assert_ptr_nonnull(strstr(log, "\"event_type\":\"alert\",\"sensor\":\"t2\""));
}
END_TEST

START_TEST(live_stats_carry_drops)
{
	char err[512];
	struct sn_aggregator *ag = sn_aggregator_create(&cfg, log_path, false, err, sizeof err);
	ck_assert_msg(ag != NULL, "%s", err);
	struct sn_worker_counts c;
	memset(&c, 0, sizeof c);
	c.decode.packets = 5;
	struct sn_live_counts live = { .dropped = 3, .if_dropped = 2, .report_queue_full = 7 };
	sn_aggregator_write_stats(ag, &c, &live, 1000000);
	const char *log = read_all(log_path); /* written and flushed at once */
	ck_assert_ptr_nonnull(strstr(log, "\"packets\":5,"));
	ck_assert_ptr_nonnull(strstr(log, "\"dropped\":3"));
	ck_assert_ptr_nonnull(strstr(log, "\"report_queue_full\":7"));
	uint64_t lost = 1;
	int last = -1;
	ck_assert(sn_aggregator_log_errors(ag, &lost, &last));
	ck_assert_uint_eq(lost, 0);
	ck_assert_int_eq(sn_aggregator_reopen_log(ag), 0);
	sn_aggregator_destroy(ag);
}
END_TEST

/* One's-complement sum of 16-bit words (IPv4 and TCP checksums). */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* An Ethernet frame: a SYN from 10.0.x.y:port to 192.0.2.1:1883. */
static size_t syn_frame(uint8_t f[54], uint32_t k)
{
	static const uint8_t head[14] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00 };
	uint8_t *ip = f + 14, *tcp = f + 34;
	memcpy(f, head, sizeof head);
	memset(ip, 0, 40);
	ip[0] = 0x45;
	ip[3] = 40;
	ip[6] = 0x40;
	ip[8] = 64;
	ip[9] = 6;
	ip[12] = 10, ip[14] = (uint8_t)(k >> 8), ip[15] = (uint8_t)k;
	ip[16] = 192, ip[18] = 2, ip[19] = 1;
	uint16_t c = csum_fold(csum_add(0, ip, 20));
	ip[10] = (uint8_t)(c >> 8), ip[11] = (uint8_t)c;
	uint16_t sport = (uint16_t)(20000 + k);
	tcp[0] = (uint8_t)(sport >> 8), tcp[1] = (uint8_t)sport;
	tcp[2] = 1883 >> 8, tcp[3] = 1883 & 0xff;
	tcp[7] = 1;
	tcp[12] = 5 << 4;
	tcp[13] = 0x02;
	tcp[14] = 0xff, tcp[15] = 0xff;
	uint8_t pseudo[12] = { 0 };
	memcpy(pseudo, ip + 12, 8);
	pseudo[9] = 6;
	pseudo[11] = 20;
	c = csum_fold(csum_add(csum_add(0, pseudo, sizeof pseudo), tcp, 20));
	tcp[16] = (uint8_t)(c >> 8), tcp[17] = (uint8_t)c;
	return 54;
}

/*
 * 3,000 half-open flows due at once: each advance of the clock closes at
 * most SN_FLOW_EXPIRE_BUDGET of them, and the rest go on the next advance
 * even within the same second, until none is left.
 */
START_TEST(expiry_goes_on_in_slices)
{
	char err[256];
	cfg.tables.max_flows = 4096;
	struct sn_aggregator *ag = sn_aggregator_create(&cfg, NULL, false, err, sizeof err);
	ck_assert_msg(ag != NULL, "%s", err);
	struct sn_worker *w = sn_worker_create(&cfg, 1, sn_aggregator_report, ag, 1);
	ck_assert_ptr_nonnull(w);
	uint64_t t0 = 1700000000ULL * 1000000u;
	uint8_t f[54];
	for (uint32_t k = 0; k < 3000; k++)
		sn_worker_packet(w, f, (uint32_t)syn_frame(f, k), 54, t0 + k);
	struct sn_worker_counts c;
	sn_worker_counts(w, &c);
	ck_assert_uint_eq(c.flows_active, 3000);
	uint64_t due = t0 + 3000 + (uint64_t)cfg.tables.flow_timeout_new * 1000000u;
	uint64_t want[] = { 3000 - SN_FLOW_EXPIRE_BUDGET, 3000 - 2 * SN_FLOW_EXPIRE_BUDGET, 0, 0 };
	for (int step = 0; step < 4; step++) {
		sn_worker_advance(w, due + (uint64_t)step); /* microseconds apart */
		sn_worker_counts(w, &c);
		ck_assert_uint_eq(c.flows_active, want[step]);
	}
	sn_worker_destroy(w);
	sn_aggregator_destroy(ag);
}
END_TEST

/* An Ethernet + IPv4 frame from 10.0.0.<from> to 10.0.0.<to> carrying TCP (proto 6) or UDP. */
static size_t ip_frame(uint8_t *f, uint8_t from, uint8_t to, uint8_t proto, uint16_t sport,
		       uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags, const uint8_t *data,
		       size_t len)
{
	static const uint8_t head[14] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00 };
	size_t l4 = proto == 6 ? 20 : 8;
	uint8_t *ip = f + 14, *h = f + 34;
	memcpy(f, head, sizeof head);
	memset(ip, 0, 20 + l4);
	ip[0] = 0x45;
	ip[2] = (uint8_t)((20 + l4 + len) >> 8), ip[3] = (uint8_t)(20 + l4 + len);
	ip[6] = 0x40;
	ip[8] = 64;
	ip[9] = proto;
	ip[12] = 10, ip[15] = from;
	ip[16] = 10, ip[19] = to;
	uint16_t c = csum_fold(csum_add(0, ip, 20));
	ip[10] = (uint8_t)(c >> 8), ip[11] = (uint8_t)c;
	h[0] = (uint8_t)(sport >> 8), h[1] = (uint8_t)sport;
	h[2] = (uint8_t)(dport >> 8), h[3] = (uint8_t)dport;
	if (proto == 6) {
		for (int i = 0; i < 4; i++) {
			h[4 + i] = (uint8_t)(seq >> (24 - 8 * i));
			h[8 + i] = (uint8_t)(ack >> (24 - 8 * i));
		}
		h[12] = 5 << 4;
		h[13] = flags;
		h[14] = 0xff, h[15] = 0xff;
	} else {
		h[4] = (uint8_t)((8 + len) >> 8), h[5] = (uint8_t)(8 + len);
	}
	if (len)
		memcpy(h + l4, data, len);
	uint8_t pseudo[12] = { 0 };
	memcpy(pseudo, ip + 12, 8);
	pseudo[9] = proto;
	pseudo[10] = (uint8_t)((l4 + len) >> 8), pseudo[11] = (uint8_t)(l4 + len);
	c = csum_fold(csum_add(csum_add(0, pseudo, sizeof pseudo), h, l4 + len));
	h[proto == 6 ? 16 : 6] = (uint8_t)(c >> 8), h[proto == 6 ? 17 : 7] = (uint8_t)c;
	return 34 + l4 + len;
}

static char seen_host[256];
static unsigned seen_reports;

static void keep_host(void *ctx, const struct sn_conn_report *r)
{
	(void)ctx;
	seen_reports++;
	if (r->dest_host[0])
		snprintf(seen_host, sizeof seen_host, "%s", r->dest_host);
}

/*
 * Worker b reads a DNS answer (10.0.0.5 asked broker.example: 10.0.0.9),
 * worker a follows 10.0.0.5's MQTT connection to 10.0.0.9: with the cache
 * shared, a's report names the server; each with its own cache, not.
 */
static void answer_on_one_connection_on_other(bool share)
{
	static const uint8_t dns[] = {
		0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0,
		6, 'b', 'r', 'o', 'k', 'e', 'r', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0, 0, 1, 0, 1,
		0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 10, 0, 0, 9,
	};
	static const uint8_t connect[] = { 0x10, 0x0e, 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 60, 0, 2, 'i', 'd' };
	static const uint8_t connack[] = { 0x20, 2, 0, 0 };
	struct sn_worker *a = sn_worker_create(&cfg, 1, keep_host, NULL, 1);
	struct sn_worker *b = sn_worker_create(&cfg, 1, keep_host, NULL, 2);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	if (share)
		ck_assert_int_eq(sn_worker_share_names(b, a), 0);
	uint64_t t = 1700000000ULL * 1000000u;
	uint8_t f[128];
	size_t dn = ip_frame(f, 53, 5, 17, 53, 33000, 0, 0, 0, dns, sizeof dns);
	sn_worker_packet(b, f, (uint32_t)dn, (uint32_t)dn, t);
	struct {
		uint8_t from, to;
		uint16_t sport, dport;
		uint32_t seq, ack;
		uint8_t flags;
		const uint8_t *data;
		size_t len;
	} tcp[] = {
		{ 5, 9, 40000, 1883, 100, 0, 0x02, NULL, 0 },
		{ 9, 5, 1883, 40000, 500, 101, 0x12, NULL, 0 },
		{ 5, 9, 40000, 1883, 101, 501, 0x10, NULL, 0 },
		{ 5, 9, 40000, 1883, 101, 501, 0x18, connect, sizeof connect },
		{ 9, 5, 1883, 40000, 501, 117, 0x18, connack, sizeof connack },
	};
	for (size_t i = 0; i < sizeof tcp / sizeof tcp[0]; i++) {
		size_t n = ip_frame(f, tcp[i].from, tcp[i].to, 6, tcp[i].sport, tcp[i].dport, tcp[i].seq,
				    tcp[i].ack, tcp[i].flags, tcp[i].data, tcp[i].len);
		sn_worker_packet(a, f, (uint32_t)n, (uint32_t)n, t + 1000 * (i + 1));
	}
	seen_host[0] = '\0';
	seen_reports = 0;
	sn_worker_flush(a, t + 10000, SN_CLOSE_END_OF_INPUT);
	ck_assert_uint_gt(seen_reports, 0);
	if (share)
		ck_assert_str_eq(seen_host, "broker.example");
	else
		ck_assert_str_eq(seen_host, "");
	struct sn_worker_counts ca, cb;
	sn_worker_counts(a, &ca);
	sn_worker_counts(b, &cb);
	/* a shared cache is counted once */
	ck_assert_uint_eq(ca.dns_responses + cb.dns_responses, 1);
	sn_worker_destroy(b);
	sn_worker_destroy(a);
}

START_TEST(workers_share_names)
{
	answer_on_one_connection_on_other(true);
	answer_on_one_connection_on_other(false);
}
END_TEST

Suite *pipeline_suite(void)
{
	Suite *s = suite_create("pipeline");
	TCase *t = tcase_create("pipeline");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, replay_gives_table_and_stats);
	tcase_add_test(t, no_alerts_line);
	tcase_add_test(t, reload_refuses_bad_rules_then_takes_good_ones);
	tcase_add_test(t, live_stats_carry_drops);
	tcase_add_test(t, expiry_goes_on_in_slices);
	tcase_add_test(t, workers_share_names);
	tcase_add_test(t, ticks_at_the_deadline_are_enough);
	tcase_add_test(t, due_follows_ticks_reports_and_lost_lines);
	suite_add_tcase(s, t);
	return s;
}
