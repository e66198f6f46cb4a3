/*
 * test_lookahead.c - replay's lookahead window: packets fed through it give
 * exactly what sn_worker_packet() per frame gives (the same reports in the
 * same order, the same decode counts, the same clock after each packet),
 * also with frames too large for a slot and with a table small enough to
 * evict, and with frames that stay in place (sn_lookahead_push_stable);
 * and the worker's prepare/prefetch hints change nothing.
 */
#include <check.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>

#include "lookahead.h"
#include "testutil.h"

#define MAXREP 4096
#define MAXPKT 8192

/* What a report says, minus the meta (checked by the flow table's tests). */
struct digest {
	int kind, proto, evidence, close;
	uint64_t ts_us, first_us, last_us, bytes[2], packets[2];
	uint16_t client_port, server_port;
};

struct run {
	struct digest reps[MAXREP];
	int nrep;
	uint64_t clock[MAXPKT]; /* the worker's time after each packet */
	int npkt;
	struct sn_worker_counts counts;
};

static struct run *runs[2];
static struct run *cur;
static struct sn_config cfg;

static void on_report(void *ctx, const struct sn_conn_report *r)
{
	(void)ctx;
	if (cur->nrep >= MAXREP)
		return;
	struct digest *d = &cur->reps[cur->nrep++];
	memset(d, 0, sizeof *d);
	d->kind = (int)r->kind;
	d->proto = (int)r->proto;
	d->evidence = (int)r->evidence;
	d->close = (int)r->close;
	d->ts_us = r->ts_us;
	d->first_us = r->first_us;
	d->last_us = r->last_us;
	for (int k = 0; k < 2; k++) {
		d->bytes[k] = r->bytes[k];
		d->packets[k] = r->packets[k];
	}
	d->client_port = r->client_port;
	d->server_port = r->server_port;
}

static void after_packet(void *ctx, struct sn_worker *w)
{
	(void)ctx;
	if (cur->npkt < MAXPKT)
		cur->clock[cur->npkt] = sn_worker_now(w);
	cur->npkt++;
}

static struct sn_worker *worker_open(uint32_t max_flows)
{
	cfg.tables.max_flows = max_flows;
	struct sn_worker *w = sn_worker_create(&cfg, SN_DLT_EN10MB, on_report, NULL, 0x5eed);
	ck_assert_ptr_nonnull(w);
	return w;
}

static void worker_close(struct sn_worker *w)
{
	sn_worker_flush(w, sn_worker_now(w), SN_CLOSE_END_OF_INPUT);
	sn_worker_counts(w, &cur->counts);
	sn_worker_destroy(w);
}

/*
 * An Ethernet + IPv4 + TCP SYN frame, 10.9.0.1:sport -> 10.9.0.2:1883, to
 * crowd a small table (checksums are not looked at).
 */
static uint32_t syn_frame(uint8_t *f, uint16_t sport)
{
	static const uint8_t tmpl[54] = {
		0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 1, 0x08, 0x00,    /* Ethernet, IPv4 */
		0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0,         /* IPv4, TCP, 40 bytes */
		10, 9, 0, 1, 10, 9, 0, 2,                           /* addresses */
		0, 0, 0x07, 0x5b, 0, 0, 0, 1, 0, 0, 0, 0,           /* ports, seq, ack */
		0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0,                 /* SYN */
	};
	memcpy(f, tmpl, sizeof tmpl);
	f[34] = (uint8_t)(sport >> 8);
	f[35] = (uint8_t)sport;
	return sizeof tmpl;
}

/*
 * stable: the window is fed with sn_lookahead_push_stable, each frame first
 * copied to an arena whose bytes stay until the window is drained (as
 * replay's read block does).
 */
static bool stable;
#define ARENA (4u << 20)
static uint8_t *arena;
static size_t arena_used;

/* Feeds one frame through the window or straight to the worker. */
static void feed(struct sn_worker *w, struct sn_lookahead *la, bool window, const uint8_t *frame,
		 uint32_t caplen, uint32_t wirelen, uint64_t ts)
{
	if (window && stable) {
		ck_assert_uint_le(caplen, ARENA);
		if (ARENA - arena_used < caplen) { /* the block moves: drain first */
			sn_lookahead_drain(la);
			arena_used = 0;
		}
		memcpy(arena + arena_used, frame, caplen);
		sn_lookahead_push_stable(la, arena + arena_used, caplen, wirelen, ts);
		arena_used += caplen;
		return;
	}
	if (window) {
		sn_lookahead_push(la, frame, caplen, wirelen, ts);
		return;
	}
	sn_worker_packet(w, frame, caplen, wirelen, ts);
	after_packet(NULL, w);
}

/*
 * Replays the captures into a fresh worker, through the window or packet by
 * packet.  big_every > 0 feeds every big_every-th frame as a larger-than-slot
 * frame (the same bytes padded at the end, which the IP length ignores);
 * with syns, an unanswered SYN from a new port goes before every packet.
 */
static void replay(struct run *r, const char *const *names, size_t n, bool window,
		   uint32_t max_flows, int big_every, bool syns)
{
	uint8_t syn[64];
	static uint8_t big[SN_LOOKAHEAD_FRAME + 100];
	char err[PCAP_ERRBUF_SIZE];
	struct sn_lookahead la;
	int seen = 0;

	memset(r, 0, sizeof *r);
	cur = r;
	struct sn_worker *w = worker_open(max_flows);
	ck_assert_int_eq(sn_lookahead_init(&la, w, after_packet, NULL, true), 0);
	for (size_t f = 0; f < n; f++) {
		pcap_t *p = pcap_open_offline(sn_test_pcap_path(names[f]), err);
		ck_assert_msg(p != NULL, "%s", err);
		int linktype = pcap_datalink(p);
		sn_worker_set_linktype(w, linktype);
		struct pcap_pkthdr *h;
		const u_char *data;
		while (pcap_next_ex(p, &h, &data) == 1) {
			uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
			const uint8_t *frame = data;
			uint32_t caplen = h->caplen;
			seen++;
			if (big_every > 0 && seen % big_every == 0 && caplen <= 100) {
				memset(big, 0, sizeof big);
				memcpy(big, data, caplen);
				frame = big;
				caplen = sizeof big;
			}
			if (syns && linktype == SN_DLT_EN10MB) {
				uint32_t len = syn_frame(syn, (uint16_t)(20000 + seen % 30000));
				feed(w, &la, window, syn, len, len, ts);
			}
			feed(w, &la, window, frame, caplen, h->len, ts);
		}
		sn_lookahead_drain(&la);
		pcap_close(p);
	}
	sn_lookahead_free(&la);
	worker_close(w);
}

static void assert_same_runs(const struct run *a, const struct run *b)
{
	ck_assert_int_gt(a->npkt, 0);
	ck_assert_int_le(a->npkt, MAXPKT);
	ck_assert_int_le(a->nrep, MAXREP);
	ck_assert_int_eq(a->npkt, b->npkt);
	ck_assert_int_eq(a->nrep, b->nrep);
	for (int k = 0; k < a->npkt; k++)
		ck_assert_uint_eq(a->clock[k], b->clock[k]);
	for (int k = 0; k < a->nrep; k++)
		ck_assert_msg(memcmp(&a->reps[k], &b->reps[k], sizeof a->reps[k]) == 0,
			      "report %d differs", k);
	ck_assert_uint_eq(a->counts.decode.packets, b->counts.decode.packets);
	ck_assert_uint_eq(a->counts.decode.tcp, b->counts.decode.tcp);
	ck_assert_uint_eq(a->counts.decode.not_tcp, b->counts.decode.not_tcp);
	ck_assert_uint_eq(a->counts.flows_created, b->counts.flows_created);
	ck_assert_uint_eq(a->counts.evicted_half_open, b->counts.evicted_half_open);
	ck_assert_uint_eq(a->counts.evicted_established, b->counts.evicted_established);
	ck_assert_uint_eq(a->counts.classified, b->counts.classified);
}

static const char *const captures[] = {
	"demo.pcap",
	"mqtt-paho-v311-1883.pcap",
	"amqp091-pika-userpass-5672.pcap",
	"oneshot-xmpp-nc-5222.pcap",
	"stomp10-raw-connect-nc-61613.pcap",
	"corpus/mqtt-midstream-split.pcap",
};
#define N_CAPTURES (sizeof captures / sizeof captures[0])

static void setup(void)
{
	/* the shipped protocol ports; small tables */
	sn_config_defaults(&cfg);
	cfg.tables.classify_buffers = 16;
	cfg.tables.buffer_bytes = 2048;
	cfg.tables.flow_timeout_new = 30;
	cfg.tables.flow_timeout_established = 300;
	cfg.tables.flow_timeout_closed = 10;
	runs[0] = calloc(1, sizeof *runs[0]);
	runs[1] = calloc(1, sizeof *runs[1]);
	ck_assert_ptr_nonnull(runs[0]);
	ck_assert_ptr_nonnull(runs[1]);
}

static void teardown(void)
{
	free(runs[0]);
	free(runs[1]);
	runs[0] = runs[1] = NULL;
}

START_TEST(window_matches_packet_by_packet)
{
	replay(runs[0], captures, N_CAPTURES, false, 4096, 0, false);
	replay(runs[1], captures, N_CAPTURES, true, 4096, 0, false);
	ck_assert_int_gt(runs[0]->nrep, 0);
	assert_same_runs(runs[0], runs[1]);
}
END_TEST

/* Frames that stay in place take the slot of the packet leaving a full window. */
START_TEST(stable_frames_match_packet_by_packet)
{
	arena = malloc(ARENA);
	ck_assert_ptr_nonnull(arena);
	arena_used = 0;
	replay(runs[0], captures, N_CAPTURES, false, 4, 0, true);
	stable = true;
	replay(runs[1], captures, N_CAPTURES, true, 4, 0, true);
	stable = false;
	ck_assert_uint_gt(runs[0]->counts.evicted_half_open, 100);
	ck_assert_int_gt(runs[0]->nrep, 0);
	assert_same_runs(runs[0], runs[1]);
	replay(runs[0], captures, N_CAPTURES, false, 4096, 0, false);
	stable = true;
	replay(runs[1], captures, N_CAPTURES, true, 4096, 0, false);
	stable = false;
	assert_same_runs(runs[0], runs[1]);
	free(arena);
	arena = NULL;
}
END_TEST

START_TEST(window_matches_under_eviction)
{
	replay(runs[0], captures, N_CAPTURES, false, 4, 0, true);
	replay(runs[1], captures, N_CAPTURES, true, 4, 0, true);
	ck_assert_uint_gt(runs[0]->counts.evicted_half_open, 100);
	ck_assert_int_gt(runs[0]->nrep, 0);
	assert_same_runs(runs[0], runs[1]);
}
END_TEST

START_TEST(large_frames_bypass_in_order)
{
	replay(runs[0], captures, N_CAPTURES, false, 4096, 3, false);
	replay(runs[1], captures, N_CAPTURES, true, 4096, 3, false);
	assert_same_runs(runs[0], runs[1]);
}
END_TEST

START_TEST(one_file_shorter_than_the_window)
{
	static const char *const path[] = { "corpus/mqtt-ping.pcap" };
	replay(runs[0], path, 1, false, 64, 0, false);
	replay(runs[1], path, 1, true, 64, 0, false);
	ck_assert_int_lt(runs[0]->npkt, SN_LOOKAHEAD);
	assert_same_runs(runs[0], runs[1]);
}
END_TEST

/* A window without frame memory processes each packet at once. */
START_TEST(no_frames_means_no_window)
{
	replay(runs[0], captures, 2, false, 4096, 0, false);
	struct sn_lookahead la;
	char err[PCAP_ERRBUF_SIZE];
	memset(runs[1], 0, sizeof *runs[1]);
	cur = runs[1];
	struct sn_worker *w = worker_open(4096);
	ck_assert_int_eq(sn_lookahead_init(&la, w, after_packet, NULL, true), 0);
	sn_lookahead_free(&la); /* frames gone: the fallback path */
	for (size_t f = 0; f < 2; f++) {
		pcap_t *p = pcap_open_offline(sn_test_pcap_path(captures[f]), err);
		ck_assert_msg(p != NULL, "%s", err);
		sn_worker_set_linktype(w, pcap_datalink(p));
		struct pcap_pkthdr *h;
		const u_char *data;
		while (pcap_next_ex(p, &h, &data) == 1) {
			int before = runs[1]->npkt;
			uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
			sn_lookahead_push(&la, data, h->caplen, h->len, ts);
			ck_assert_int_eq(runs[1]->npkt, before + 1);
		}
		pcap_close(p);
	}
	worker_close(w);
	assert_same_runs(runs[0], runs[1]);
}
END_TEST

/*
 * With a deadline, after() runs for exactly the packets that leave the
 * worker's time at or past it; moving the deadline takes effect at once.
 */
static uint64_t due;
static int after_due_calls;
static uint64_t after_due_clock[MAXPKT];

static void after_due(void *ctx, struct sn_worker *w)
{
	(void)ctx;
	ck_assert_uint_ge(sn_worker_now(w), due);
	if (after_due_calls < MAXPKT)
		after_due_clock[after_due_calls] = sn_worker_now(w);
	after_due_calls++;
	due = sn_worker_now(w) + 1000000u; /* the next second */
}

START_TEST(after_only_from_the_deadline)
{
	replay(runs[0], captures, 1, false, 4096, 0, false); /* clocks after every packet */
	struct sn_lookahead la;
	char err[PCAP_ERRBUF_SIZE];
	cur = runs[1];
	memset(cur, 0, sizeof *cur);
	struct sn_worker *w = worker_open(4096);
	ck_assert_int_eq(sn_lookahead_init(&la, w, after_due, NULL, true), 0);
	due = 0;
	after_due_calls = 0;
	sn_lookahead_set_due(&la, &due);
	pcap_t *p = pcap_open_offline(sn_test_pcap_path(captures[0]), err);
	ck_assert_msg(p != NULL, "%s", err);
	struct pcap_pkthdr *h;
	const u_char *data;
	while (pcap_next_ex(p, &h, &data) == 1)
		sn_lookahead_push(&la, data, h->caplen, h->len,
				  (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec);
	sn_lookahead_drain(&la);
	pcap_close(p);
	sn_lookahead_free(&la);
	worker_close(w);
	/* the calls expected from the clocks after every packet */
	uint64_t want_due = 0;
	int want = 0;
	for (int k = 0; k < runs[0]->npkt && k < MAXPKT; k++) {
		if (runs[0]->clock[k] < want_due)
			continue;
		ck_assert_int_lt(want, after_due_calls);
		ck_assert_uint_eq(after_due_clock[want], runs[0]->clock[k]);
		want++;
		want_due = runs[0]->clock[k] + 1000000u;
	}
	ck_assert_int_eq(after_due_calls, want);
	ck_assert_int_gt(want, 1);
	ck_assert_int_lt(want, runs[0]->npkt / 2);
}
END_TEST

/* Hints for packets never processed leave the table as it was. */
START_TEST(hints_change_nothing)
{
	char err[PCAP_ERRBUF_SIZE];
	memset(runs[0], 0, sizeof *runs[0]);
	cur = runs[0];
	struct sn_worker *w = worker_open(64);
	pcap_t *p = pcap_open_offline(sn_test_pcap_path("demo.pcap"), err);
	ck_assert_msg(p != NULL, "%s", err);
	sn_worker_set_linktype(w, pcap_datalink(p));
	struct pcap_pkthdr *h;
	const u_char *data;
	struct sn_worker_pending pending;
	int hinted = 0;
	while (pcap_next_ex(p, &h, &data) == 1) {
		sn_worker_prepare(w, data, h->caplen, h->len, 0, &pending);
		if (!pending.tcp)
			continue;
		sn_worker_prefetch(w, &pending);
		hinted++;
	}
	pcap_close(p);
	ck_assert_int_gt(hinted, 0);
	struct sn_worker_counts st;
	sn_worker_counts(w, &st);
	ck_assert_uint_eq(st.flows_created, 0);
	ck_assert_uint_eq(st.flows_active, 0);
	ck_assert_int_eq(runs[0]->nrep, 0);
	worker_close(w);
}
END_TEST

Suite *lookahead_suite(void);
Suite *lookahead_suite(void)
{
	Suite *s = suite_create("lookahead");
	TCase *tc = tcase_create("lookahead");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, window_matches_packet_by_packet);
	tcase_add_test(tc, window_matches_under_eviction);
	tcase_add_test(tc, stable_frames_match_packet_by_packet);
	tcase_add_test(tc, large_frames_bypass_in_order);
	tcase_add_test(tc, one_file_shorter_than_the_window);
	tcase_add_test(tc, no_frames_means_no_window);
	tcase_add_test(tc, hints_change_nothing);
	tcase_add_test(tc, after_only_from_the_deadline);
	suite_add_tcase(s, tc);
	return s;
}
