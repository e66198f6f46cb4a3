/*
 * test_hotpath.c - no heap allocation per packet: the packet path of
 * sensor/pipeline.c (decoder, flow table, dissectors, reassembly, rules,
 * groups, events, the event log), driven per packet as the daemon does or
 * through replay's lookahead window (sensor/lookahead.c), allocates only
 * when a worker, the aggregator and the window are created.
 *
 * A capture is read into memory first, replayed once to warm up (every
 * table touched, every group alerted, flushed at the end of input), then
 * replayed again a day later with the allocation counter of testutil.c
 * armed: packets, ticks, live updates, expiry, closing every flow and the
 * stats event must not allocate at all.  The counter itself is checked first, so a
 * counter that counts nothing cannot make the test pass.
 */
#include <check.h>
#include <dlfcn.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lookahead.h"
#include "pipeline.h"
#include "testutil.h"

Suite *hotpath_suite(void);

#define DAY_US (86400ull * 1000000ull)
#define MAX_PACKETS 4096

struct capture {
	int linktype;
	size_t n;
	uint8_t *bytes;
	struct {
		size_t off;
		uint32_t caplen, wirelen;
		uint64_t ts_us;
	} pkt[MAX_PACKETS];
};

static void load(const char *name, struct capture *c)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(sn_test_pcap_path(name), err);
	ck_assert_msg(p != NULL, "%s", err);
	struct pcap_pkthdr *h;
	const u_char *data;
	size_t used = 0, cap = 1 << 20;
	c->bytes = malloc(cap);
	ck_assert_ptr_nonnull(c->bytes);
	c->linktype = pcap_datalink(p);
	c->n = 0;
	while (pcap_next_ex(p, &h, &data) == 1) {
		ck_assert_uint_lt(c->n, MAX_PACKETS);
		ck_assert_uint_le(used + h->caplen, cap);
		memcpy(c->bytes + used, data, h->caplen);
		c->pkt[c->n].off = used;
		c->pkt[c->n].caplen = h->caplen;
		c->pkt[c->n].wirelen = h->len;
		c->pkt[c->n].ts_us = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
		used += h->caplen;
		c->n++;
	}
	pcap_close(p);
	ck_assert_uint_gt(c->n, 0);
}

/*
 * One replay of the capture shifted by `shift` microseconds, as replay.c
 * drives it: packets with a tick after each, live updates, expiry, every
 * flow closed, the stats event; the counter is armed for all of it when
 * `count`.  The groups' end-of-input flush (once per run: it sorts the
 * groups into creation order in an array it allocates) comes after.
 */
static void tick_after(void *ag, struct sn_worker *w)
{
	sn_aggregator_tick(ag, sn_worker_now(w));
}

static uint64_t replay(const struct capture *c, uint64_t shift, struct sn_worker *w,
		       struct sn_aggregator *ag, bool count, struct sn_lookahead *la)
{
	if (count)
		sn_test_alloc_arm();
	for (size_t i = 0; i < c->n; i++) {
		const uint8_t *frame = c->bytes + c->pkt[i].off;
		if (la) { /* replay.c's window: prepare, prefetch, process */
			sn_lookahead_push(la, frame, c->pkt[i].caplen, c->pkt[i].wirelen,
					  c->pkt[i].ts_us + shift);
			continue;
		}
		sn_worker_packet(w, frame, c->pkt[i].caplen, c->pkt[i].wirelen, c->pkt[i].ts_us + shift);
		sn_aggregator_tick(ag, sn_worker_now(w));
	}
	if (la)
		sn_lookahead_drain(la);
	uint64_t end = sn_worker_now(w);
	sn_worker_report_live(w);
	sn_worker_advance(w, end + 1000000u);
	sn_worker_flush(w, end + 1000000u, SN_CLOSE_END_OF_INPUT);
	sn_aggregator_tick(ag, end + 1000000u);
	struct sn_worker_counts counts;
	sn_worker_counts(w, &counts);
	sn_aggregator_write_stats(ag, &counts, NULL, end + 1000000u);
	uint64_t n = count ? sn_test_alloc_disarm() : 0;
	sn_aggregator_flush(ag, end + 1000000u);
	return n;
}

START_TEST(counter_counts)
{
	void *volatile p;

	sn_test_alloc_arm();
	p = malloc(24);
	free(p);
	p = calloc(3, 8);
	p = realloc(p, 4096);
	free(p);
	uint64_t n = sn_test_alloc_disarm();
	ck_assert_uint_eq(n, 3);
	ck_assert_ptr_nonnull(sn_test_alloc_first_caller());
	p = malloc(24); /* disarmed: not counted */
	free(p);
	sn_test_alloc_arm();
	ck_assert_uint_eq(sn_test_alloc_disarm(), 0);
}
END_TEST

/* Replays `name` twice under cfg; the second replay must not allocate. */
static void no_allocation_after_warm_up(const char *name, struct sn_config *cfg, const char *log,
					bool want_table, bool window)
{
	static struct capture c;
	char err[512];

	load(name, &c);
	struct sn_aggregator *ag = sn_aggregator_create(cfg, log, want_table, err, sizeof err);
	ck_assert_msg(ag != NULL, "%s", err);
	struct sn_worker *w = sn_worker_create(cfg, c.linktype, sn_aggregator_report, ag, 7);
	ck_assert_ptr_nonnull(w);
	static struct sn_lookahead la;
	if (window)
		ck_assert_int_eq(sn_lookahead_init(&la, w, tick_after, ag, true), 0);

	replay(&c, 0, w, ag, false, window ? &la : NULL);
	struct sn_worker_counts warm;
	sn_worker_counts(w, &warm);
	ck_assert_uint_gt(warm.flows_created, 0);
	ck_assert_uint_gt(warm.classified, 0);

	uint64_t n = replay(&c, DAY_US, w, ag, true, window ? &la : NULL);
	void *first = sn_test_alloc_first_caller();

	Dl_info where;
	memset(&where, 0, sizeof where);
	if (first)
		dladdr(first, &where);
	struct sn_worker_counts after;
	sn_worker_counts(w, &after);
	/* the second replay really ran: as many new flows as the first */
	ck_assert_uint_eq(after.flows_created, 2 * warm.flows_created);
	ck_assert_msg(n == 0,
		      "%s: %llu heap allocations while replaying %zu packets after warm-up; "
		      "the first from %s (addr2line -f -i -e %s %#lx)",
		      name, (unsigned long long)n, c.n, where.dli_sname ? where.dli_sname : "here",
		      where.dli_fname ? where.dli_fname : "?",
		      (unsigned long)((const char *)first - (const char *)where.dli_fbase));
	if (window)
		sn_lookahead_free(&la);
	sn_worker_destroy(w);
	sn_aggregator_destroy(ag);
	free(c.bytes);
}

/* The daemon's shape: every protocol of the demo, flow events, an event log. */
START_TEST(demo_no_allocation_after_warm_up)
{
	struct sn_config cfg;

	sn_config_defaults(&cfg);
	snprintf(cfg.sensor_name, sizeof cfg.sensor_name, "hot");
	cfg.output.flows = true;
	no_allocation_after_warm_up("demo.pcap", &cfg, "/dev/null", false, false);
}
END_TEST

/* Replay's shape: the lookahead window, the table kept, every group of a
   golden capture alerting. */
START_TEST(golden_table_no_allocation_after_warm_up)
{
	struct sn_config cfg;

	sn_config_defaults(&cfg);
	snprintf(cfg.sensor_name, sizeof cfg.sensor_name, "hot");
	cfg.output.flows = true;
	cfg.rules.min_connections = 1;
	cfg.rules.min_suspicion = SN_SUSP_LOW;
	no_allocation_after_warm_up("xmpp-slixmpp-login-plaintext-5222.pcap", &cfg, "/dev/null",
				    true, true);
}
END_TEST

/* Small tables: eviction and pool exhaustion on the path, still no allocation. */
/* The demo through replay's lookahead window. */
START_TEST(demo_window_no_allocation_after_warm_up)
{
	struct sn_config cfg;

	sn_config_defaults(&cfg);
	snprintf(cfg.sensor_name, sizeof cfg.sensor_name, "hot");
	cfg.output.flows = true;
	no_allocation_after_warm_up("demo.pcap", &cfg, "/dev/null", true, true);
}
END_TEST

START_TEST(small_tables_no_allocation_after_warm_up)
{
	struct sn_config cfg;

	sn_config_defaults(&cfg);
	snprintf(cfg.sensor_name, sizeof cfg.sensor_name, "hot");
	cfg.output.flows = true;
	cfg.tables.max_flows = 16;
	cfg.tables.max_groups = 4;
	cfg.tables.classify_buffers = 2;
	cfg.tables.message_timing_flows = 1; /* follow states run out too */
	no_allocation_after_warm_up("demo.pcap", &cfg, "/dev/null", false, false);
}
END_TEST

Suite *hotpath_suite(void)
{
	Suite *s = suite_create("hotpath");
	TCase *t = tcase_create("allocations");

	tcase_set_timeout(t, 30);
	tcase_add_test(t, counter_counts);
	tcase_add_test(t, demo_no_allocation_after_warm_up);
	tcase_add_test(t, golden_table_no_allocation_after_warm_up);
	tcase_add_test(t, demo_window_no_allocation_after_warm_up);
	tcase_add_test(t, small_tables_no_allocation_after_warm_up);
	suite_add_tcase(s, t);
	return s;
}
