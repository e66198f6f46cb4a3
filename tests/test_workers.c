/*
 * test_workers.c - sensor/workers.c: the bounded report ring (order,
 * wrap-around, limits, the bounded wait and drop count when full, one
 * producer thread against one consumer) and, as root, capture workers on
 * the loopback interface from open to stop with a real TCP connection.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "workers.h"

Suite *workers_suite(void);

/* What a consumer saw: how many reports and whether they came in order. */
struct seen {
	uint64_t n;
	uint64_t next_seq;      /* expected client_port/ts sequence */
	bool in_order;
	uint16_t port;          /* for the live tests: the server port to count */
	uint64_t opens, closes;
};

static atomic_uint wakes;

static void count_wake(void *ctx)
{
	(void)ctx;
	atomic_fetch_add(&wakes, 1);
}

/* A report whose ts_us carries a sequence number, the rest plausible. */
static void make_report(struct sn_conn_report *r, uint64_t seq)
{
	memset(r, 0, sizeof *r);
	r->kind = SN_REPORT_OPEN;
	r->ts_us = seq;
	r->client_port = 40000;
	r->server_port = 1883;
	r->proto = SN_PROTO_MQTT;
	r->bytes[SN_DIR_C2S] = seq * 10;
	snprintf(r->meta.client_id, sizeof r->meta.client_id, "c%llu",
		 (unsigned long long)seq);
}

static void check_order(void *ctx, const struct sn_conn_report *r)
{
	struct seen *s = ctx;
	char id[32];
	snprintf(id, sizeof id, "c%llu", (unsigned long long)s->next_seq);
	if (r->ts_us != s->next_seq || r->bytes[SN_DIR_C2S] != s->next_seq * 10 ||
	    strcmp(r->meta.client_id, id) != 0)
		s->in_order = false;
	s->next_seq++;
	s->n++;
}

static void push_range(struct sn_report_queue *q, uint64_t from, uint64_t to)
{
	struct sn_conn_report r;
	for (uint64_t i = from; i < to; i++) {
		make_report(&r, i);
		ck_assert_int_eq(sn_report_queue_push(q, &r), 0);
	}
}

static uint64_t elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (uint64_t)((t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000);
}

/* ---- the ring ---------------------------------------------------------- */

START_TEST(init_rejects_zero_slots)
{
	struct sn_report_queue q;
	ck_assert_int_eq(sn_report_queue_init(&q, 0, 0, NULL, NULL), -EINVAL);
	sn_report_queue_free(&q); /* harmless after a failed init */
}
END_TEST

START_TEST(drain_empty_calls_nothing)
{
	struct sn_report_queue q;
	struct seen s = { .in_order = true };
	ck_assert_int_eq(sn_report_queue_init(&q, 8, 0, NULL, NULL), 0);
	ck_assert_uint_eq(sn_report_queue_drain(&q, check_order, &s, 100), 0);
	ck_assert_uint_eq(s.n, 0);
	sn_report_queue_free(&q);
}
END_TEST

START_TEST(reports_come_out_in_order_intact)
{
	struct sn_report_queue q;
	struct seen s = { .in_order = true };
	ck_assert_int_eq(sn_report_queue_init(&q, 16, 0, NULL, NULL), 0);
	push_range(&q, 0, 10);
	ck_assert_uint_eq(sn_report_queue_drain(&q, check_order, &s, 100), 10);
	ck_assert(s.in_order);
	ck_assert_uint_eq(q.count, 0);
	ck_assert_uint_eq(q.pushed, 10);
	sn_report_queue_free(&q);
}
END_TEST

START_TEST(drain_stops_at_max)
{
	struct sn_report_queue q;
	struct seen s = { .in_order = true };
	ck_assert_int_eq(sn_report_queue_init(&q, 16, 0, NULL, NULL), 0);
	push_range(&q, 0, 10);
	ck_assert_uint_eq(sn_report_queue_drain(&q, check_order, &s, 3), 3);
	ck_assert_uint_eq(q.count, 7);
	ck_assert_uint_eq(sn_report_queue_drain(&q, check_order, &s, 100), 7);
	ck_assert(s.in_order);
	ck_assert_uint_eq(s.n, 10);
	sn_report_queue_free(&q);
}
END_TEST

START_TEST(wraps_around_the_ring)
{
	struct sn_report_queue q;
	struct seen s = { .in_order = true };
	ck_assert_int_eq(sn_report_queue_init(&q, 4, 0, NULL, NULL), 0);
	/* 25 rounds of 3 in, 3 out over 4 slots: head visits every slot */
	for (uint64_t round = 0; round < 25; round++) {
		push_range(&q, round * 3, round * 3 + 3);
		ck_assert_uint_eq(sn_report_queue_drain(&q, check_order, &s, 100), 3);
	}
	ck_assert(s.in_order);
	ck_assert_uint_eq(s.n, 75);
	sn_report_queue_free(&q);
}
END_TEST

START_TEST(full_ring_drops_and_counts_without_wait)
{
	struct sn_report_queue q;
	struct sn_conn_report r;
	struct seen s = { .in_order = true };
	atomic_store(&wakes, 0);
	ck_assert_int_eq(sn_report_queue_init(&q, 4, 0, count_wake, NULL), 0);
	push_range(&q, 0, 4);
	make_report(&r, 99);
	ck_assert_int_eq(sn_report_queue_push(&q, &r), -EAGAIN);
	ck_assert_int_eq(sn_report_queue_push(&q, &r), -EAGAIN);
	ck_assert_uint_eq(sn_report_queue_dropped(&q), 2);
	ck_assert_uint_ge(atomic_load(&wakes), 1); /* the consumer was told */
	/* the queued four are untouched by the refused pushes */
	ck_assert_uint_eq(sn_report_queue_drain(&q, check_order, &s, 100), 4);
	ck_assert(s.in_order);
	sn_report_queue_free(&q);
}
END_TEST

START_TEST(full_ring_waits_once_then_drops_at_once)
{
	struct sn_report_queue q;
	struct sn_conn_report r;
	struct timespec t0;
	struct seen s = { .in_order = true };
	ck_assert_int_eq(sn_report_queue_init(&q, 2, 30, NULL, NULL), 0);
	push_range(&q, 0, 2);
	make_report(&r, 2);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(sn_report_queue_push(&q, &r), -EAGAIN);
	ck_assert_uint_ge(elapsed_ms(&t0), 25); /* waited about wait_ms */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(sn_report_queue_push(&q, &r), -EAGAIN);
	ck_assert_uint_lt(elapsed_ms(&t0), 25); /* congested: no second wait */
	ck_assert_uint_eq(sn_report_queue_dropped(&q), 2);
	/* room again: pushes succeed and the congestion is over */
	ck_assert_uint_eq(sn_report_queue_drain(&q, check_order, &s, 1), 1);
	ck_assert_int_eq(sn_report_queue_push(&q, &r), 0);
	ck_assert(!q.congested);
	ck_assert_uint_eq(sn_report_queue_drain(&q, check_order, &s, 100), 2);
	ck_assert(s.in_order);
	sn_report_queue_free(&q);
}
END_TEST

START_TEST(report_fn_pushes)
{
	struct sn_report_queue q;
	struct sn_conn_report r;
	struct seen s = { .in_order = true };
	ck_assert_int_eq(sn_report_queue_init(&q, 2, 0, NULL, NULL), 0);
	make_report(&r, 0);
	sn_report_queue_report(&q, &r);
	ck_assert_uint_eq(q.count, 1);
	ck_assert_uint_eq(sn_report_queue_drain(&q, check_order, &s, 100), 1);
	ck_assert(s.in_order);
	sn_report_queue_free(&q);
}
END_TEST

/* ---- one producer thread, one consumer --------------------------------- */

#define PRODUCED 20000

struct producer {
	struct sn_report_queue *q;
	uint64_t from, to;
	int failures;
};

static void *produce(void *arg)
{
	struct producer *p = arg;
	struct sn_conn_report r;
	for (uint64_t i = p->from; i < p->to; i++) {
		make_report(&r, i);
		if (sn_report_queue_push(p->q, &r) != 0)
			p->failures++;
	}
	return NULL;
}

/* Drains until `want` reports came or about five seconds passed. */
static void consume(struct sn_report_queue *q, struct seen *s, uint64_t want)
{
	struct timespec t0, nap = { .tv_sec = 0, .tv_nsec = 100000 };
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (s->n < want && elapsed_ms(&t0) < 5000) {
		if (sn_report_queue_drain(q, check_order, s, 7) == 0)
			nanosleep(&nap, NULL);
	}
}

START_TEST(producer_thread_small_ring_loses_nothing)
{
	struct sn_report_queue q;
	struct seen s = { .in_order = true };
	pthread_t t;
	/* a generous wait: the consumer is always there, so nothing may drop */
	ck_assert_int_eq(sn_report_queue_init(&q, 8, 2000, NULL, NULL), 0);
	struct producer p = { .q = &q, .from = 0, .to = PRODUCED };
	ck_assert_int_eq(pthread_create(&t, NULL, produce, &p), 0);
	consume(&q, &s, PRODUCED);
	pthread_join(t, NULL);
	ck_assert_int_eq(p.failures, 0);
	ck_assert_uint_eq(s.n, PRODUCED);
	ck_assert(s.in_order);
	ck_assert_uint_eq(sn_report_queue_dropped(&q), 0);
	sn_report_queue_free(&q);
}
END_TEST

/* A full ring with a waiting producer: one drain lets the push through. */
START_TEST(drain_wakes_a_waiting_producer)
{
	struct sn_report_queue q;
	struct seen s = { .in_order = true };
	pthread_t t;
	struct timespec nap = { .tv_sec = 0, .tv_nsec = 20000000 };
	ck_assert_int_eq(sn_report_queue_init(&q, 2, 3000, NULL, NULL), 0);
	push_range(&q, 0, 2);
	struct producer p = { .q = &q, .from = 2, .to = 3 };
	ck_assert_int_eq(pthread_create(&t, NULL, produce, &p), 0);
	nanosleep(&nap, NULL); /* let it block on the full ring */
	ck_assert_uint_eq(sn_report_queue_drain(&q, check_order, &s, 100), 2);
	pthread_join(t, NULL);
	ck_assert_int_eq(p.failures, 0);
	ck_assert_uint_eq(sn_report_queue_drain(&q, check_order, &s, 100), 1);
	ck_assert(s.in_order);
	ck_assert_uint_eq(s.n, 3);
	sn_report_queue_free(&q);
}
END_TEST

/* ---- the workers ------------------------------------------------------- */

static void small_config(struct sn_config *cfg)
{
	sn_config_defaults(cfg);
	cfg->tables.max_flows = 1024;
	cfg->tables.classify_buffers = 64;
	cfg->tables.max_groups = 256;
	cfg->capture.buffer_mib = 4;
}

START_TEST(open_names_a_missing_interface)
{
	static struct sn_config cfg;
	char err[SN_CAPTURE_ERRLEN] = "";
	small_config(&cfg);
	struct sn_workers_options o = {
		.cfg = &cfg, .interface = "sn-no-such0", .count = 2, .fanout_group = 4242,
	};
	ck_assert_ptr_null(sn_workers_open(&o, err));
	ck_assert_msg(strstr(err, "sn-no-such0") != NULL, "%s", err);
}
END_TEST

START_TEST(open_refuses_zero_workers)
{
	static struct sn_config cfg;
	char err[SN_CAPTURE_ERRLEN] = "";
	small_config(&cfg);
	struct sn_workers_options o = { .cfg = &cfg, .interface = "lo", .count = 0 };
	ck_assert_ptr_null(sn_workers_open(&o, err));
	ck_assert_msg(strstr(err, "at least 1") != NULL, "%s", err);
}
END_TEST

static void count_conn(void *ctx, const struct sn_conn_report *r)
{
	struct seen *s = ctx;
	s->n++;
	if (r->server_port != s->port)
		return;
	if (r->kind == SN_REPORT_OPEN)
		s->opens++;
	if (r->kind == SN_REPORT_CLOSE)
		s->closes++;
}

/* A listening socket on 127.0.0.1 and an ephemeral port; its port. */
static int listen_local(uint16_t *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	ck_assert_int_eq(listen(fd, 4), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

/* MQTT 3.1.1 CONNECT, client id "w1", clean session, keepalive 60. */
static const uint8_t mqtt_connect[] = {
	0x10, 0x0e, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x3c,
	0x00, 0x02, 'w', '1',
};
/* CONNACK, accepted */
static const uint8_t mqtt_connack[] = { 0x20, 0x02, 0x00, 0x00 };

static void talk_mqtt(int lfd, uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int c = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(connect(c, (struct sockaddr *)&a, sizeof a), 0);
	int srv = accept(lfd, NULL, NULL);
	ck_assert_int_ge(srv, 0);
	ck_assert_int_eq(write(c, mqtt_connect, sizeof mqtt_connect), (ssize_t)sizeof mqtt_connect);
	ck_assert_int_eq(write(srv, mqtt_connack, sizeof mqtt_connack), (ssize_t)sizeof mqtt_connack);
	close(c);
	close(srv);
}

START_TEST(live_workers_on_loopback)
{
	static struct sn_config cfg;
	char err[SN_CAPTURE_ERRLEN] = "";
	struct seen s = { .in_order = true };
	struct timespec settle = { .tv_sec = 0, .tv_nsec = 300000000 };
	if (geteuid() != 0)
		return; /* capture needs root: covered by tests/workers-test.sh then */
	int lfd = listen_local(&s.port);
	small_config(&cfg);
	/* the ephemeral port counts as MQTT, so the connection is reported */
	struct sn_proto_ports *mqtt = &cfg.protocols[SN_PROTO_MQTT];
	mqtt->ports[mqtt->n_ports++] = s.port;
	struct sn_workers_options o = {
		.cfg = &cfg, .interface = "lo", .count = 2,
		.fanout_group = (int)(getpid() % 0xfffe) + 1, .seed = 7,
		.wake = count_wake,
	};
	struct sn_workers *ws = sn_workers_open(&o, err);
	ck_assert_msg(ws != NULL, "%s", err);
	ck_assert_int_eq(sn_workers_start(ws), 0);
	talk_mqtt(lfd, s.port);
	nanosleep(&settle, NULL);
	ck_assert(!sn_workers_failed(ws));
	ck_assert_uint_gt(sn_workers_clock(ws), 0);
	sn_workers_stop(ws, count_conn, &s);
	ck_assert_uint_eq(s.opens, 1);
	ck_assert_uint_eq(s.closes, 1);

	struct sn_worker_counts counts;
	struct sn_live_counts live;
	sn_workers_counts(ws, &counts, &live);
	ck_assert_uint_ge(counts.decode.packets, 8); /* handshake, two data segments, closes */
	ck_assert_uint_ge(counts.decode.tcp, 8);
	ck_assert_uint_ge(counts.flows_created, 1);
	ck_assert_uint_eq(counts.flows_active, 0); /* flushed at stop */
	ck_assert_uint_eq(live.report_queue_full, 0);
	sn_workers_close(ws);
	close(lfd);
}
END_TEST

/* A connection carrying a few bytes that are no pub/sub protocol each way. */
static void talk_plain(int lfd, uint16_t port)
{
	static const char hello[] = "hello\n";
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int c = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(connect(c, (struct sockaddr *)&a, sizeof a), 0);
	int srv = accept(lfd, NULL, NULL);
	ck_assert_int_ge(srv, 0);
	ck_assert_int_eq(write(c, hello, sizeof hello - 1), (ssize_t)sizeof hello - 1);
	ck_assert_int_eq(write(srv, hello, sizeof hello - 1), (ssize_t)sizeof hello - 1);
	close(c);
	close(srv);
}

/*
 * One worker (no fanout group), as the daemon runs by default.  A port the
 * configuration does not name is not reported; after a reload names it as
 * MQTT, the worker's own port map says so and the next connection on it is.
 */
START_TEST(one_worker_reload_rebuilds_port_map)
{
	static struct sn_config cfg, next;
	char err[SN_CAPTURE_ERRLEN] = "";
	struct seen s = { .in_order = true };
	struct timespec settle = { .tv_sec = 0, .tv_nsec = 300000000 };
	if (geteuid() != 0)
		return; /* capture needs root: covered by tests/live-test.sh then */
	int lfd = listen_local(&s.port);
	small_config(&cfg);
	struct sn_workers_options o = {
		.cfg = &cfg, .interface = "lo", .count = 1, .fanout_group = 0, .seed = 7,
		.wake = count_wake,
	};
	struct sn_workers *ws = sn_workers_open(&o, err);
	ck_assert_msg(ws != NULL, "%s", err);
	ck_assert_int_eq(sn_workers_start(ws), 0);
	nanosleep(&settle, NULL);
	talk_plain(lfd, s.port);
	nanosleep(&settle, NULL);
	next = cfg;
	struct sn_proto_ports *mqtt = &next.protocols[SN_PROTO_MQTT];
	mqtt->ports[mqtt->n_ports++] = s.port;
	sn_workers_reload(ws, &next);
	nanosleep(&settle, NULL);
	talk_plain(lfd, s.port);
	nanosleep(&settle, NULL);
	sn_workers_stop(ws, count_conn, &s);
	ck_assert(!sn_workers_failed(ws));
	ck_assert_uint_eq(s.opens, 1);
	ck_assert_uint_eq(s.closes, 1);
	sn_workers_close(ws);
	close(lfd);
}
END_TEST

Suite *workers_suite(void)
{
	Suite *s = suite_create("workers");
	TCase *q = tcase_create("report_queue");
	tcase_add_test(q, init_rejects_zero_slots);
	tcase_add_test(q, drain_empty_calls_nothing);
	tcase_add_test(q, reports_come_out_in_order_intact);
	tcase_add_test(q, drain_stops_at_max);
	tcase_add_test(q, wraps_around_the_ring);
	tcase_add_test(q, full_ring_drops_and_counts_without_wait);
	tcase_add_test(q, full_ring_waits_once_then_drops_at_once);
	tcase_add_test(q, report_fn_pushes);
	tcase_add_test(q, producer_thread_small_ring_loses_nothing);
	tcase_add_test(q, drain_wakes_a_waiting_producer);
	tcase_set_timeout(q, 15);
	suite_add_tcase(s, q);
	TCase *w = tcase_create("workers");
	tcase_add_test(w, open_names_a_missing_interface);
	tcase_add_test(w, open_refuses_zero_workers);
	tcase_add_test(w, live_workers_on_loopback);
	tcase_add_test(w, one_worker_reload_rebuilds_port_map);
	tcase_set_timeout(w, 15);
	suite_add_tcase(s, w);
	return s;
}
