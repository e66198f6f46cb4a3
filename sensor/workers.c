/*
 * workers.c - capture worker threads and the bounded report rings that
 * carry their connection reports to the aggregator (see workers.h).
 *
 * A worker thread polls its own non-blocking capture handle with a short
 * timeout, dispatches bounded batches into its struct sn_worker, and between
 * batches keeps its own packet-time clock (the last packet's time plus the
 * idle wall time since), expires flows, sends live updates and publishes a
 * snapshot of its counters.  Only the worker touches its handle, decoder and
 * flow table while it runs; the loop thread reads the published clock
 * (atomic) and snapshot (mutex), and everything else after the join.
 */
#include "workers.h"

#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"

#define SN_WORKER_POLL_MS 100       /* stop and idle-clock latency */
#define SN_WORKER_BATCH 512         /* packets per pcap_dispatch call */
#define SN_WORKER_BATCHES 8         /* then housekeeping */
#define SN_WORKER_PUBLISH_MS 500    /* counter snapshot period */
#define SN_WORKERS_STOP_SPIN_NS 1000000L /* drain period while stopping */

/* ---- the report ring -------------------------------------------------- */

int sn_report_queue_init(struct sn_report_queue *q, uint32_t cap, uint32_t wait_ms,
			 sn_wake_fn wake, void *wake_ctx)
{
	pthread_condattr_t ca;
	memset(q, 0, sizeof *q);
	if (cap == 0)
		return -EINVAL;
	q->slots = calloc(cap, sizeof *q->slots);
	if (!q->slots)
		return -ENOMEM;
	q->cap = cap;
	q->wait_ms = wait_ms;
	q->wake = wake;
	q->wake_ctx = wake_ctx;
	pthread_mutex_init(&q->lock, NULL);
	/* a monotonic clock, so that setting the date cannot stretch the wait */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&q->not_full, &ca);
	pthread_condattr_destroy(&ca);
	return 0;
}

void sn_report_queue_free(struct sn_report_queue *q)
{
	if (!q->slots)
		return;
	pthread_cond_destroy(&q->not_full);
	pthread_mutex_destroy(&q->lock);
	free(q->slots);
	q->slots = NULL;
}

static struct timespec deadline_after_ms(uint32_t ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

/* With the lock held: waits (bounded) for a free slot; false when none came. */
static bool wait_for_room(struct sn_report_queue *q)
{
	if (q->count < q->cap)
		return true;
	if (q->congested || q->wait_ms == 0)
		return false;
	struct timespec until = deadline_after_ms(q->wait_ms);
	while (q->count == q->cap) {
		if (pthread_cond_timedwait(&q->not_full, &q->lock, &until) == ETIMEDOUT) {
			q->congested = q->count == q->cap;
			return !q->congested;
		}
	}
	return true;
}

int sn_report_queue_push(struct sn_report_queue *q, const struct sn_conn_report *r)
{
	pthread_mutex_lock(&q->lock);
	bool full = q->count == q->cap;
	pthread_mutex_unlock(&q->lock);
	if (full && q->wake)
		q->wake(q->wake_ctx); /* outside the lock: the consumer may be waking */
	pthread_mutex_lock(&q->lock);
	if (!wait_for_room(q)) {
		q->dropped_full++;
		pthread_mutex_unlock(&q->lock);
		return -EAGAIN;
	}
	q->congested = false;
	q->slots[(q->head + q->count) % q->cap] = *r;
	q->count++;
	q->pushed++;
	pthread_mutex_unlock(&q->lock);
	return 0;
}

void sn_report_queue_report(void *q, const struct sn_conn_report *r)
{
	(void)sn_report_queue_push(q, r);
}

size_t sn_report_queue_drain(struct sn_report_queue *q, sn_report_fn fn, void *ctx, size_t max)
{
	pthread_mutex_lock(&q->lock);
	uint32_t head = q->head;
	size_t n = q->count < max ? q->count : max;
	pthread_mutex_unlock(&q->lock);
	/* These n slots stay ours until head moves: the producer writes only free ones. */
	for (size_t i = 0; i < n; i++)
		fn(ctx, &q->slots[(head + i) % q->cap]);
	if (n == 0)
		return 0;
	pthread_mutex_lock(&q->lock);
	q->head = (uint32_t)((head + n) % q->cap);
	q->count -= (uint32_t)n;
	pthread_cond_signal(&q->not_full);
	pthread_mutex_unlock(&q->lock);
	return n;
}

uint64_t sn_report_queue_dropped(struct sn_report_queue *q)
{
	pthread_mutex_lock(&q->lock);
	uint64_t n = q->dropped_full;
	pthread_mutex_unlock(&q->lock);
	return n;
}

/* ---- one worker ------------------------------------------------------- */

/* A worker's counters as last published for the stats event. */
struct sn_worker_snapshot {
	struct sn_worker_counts counts;
	uint64_t dropped, if_dropped; /* kernel drops on this handle */
};

struct sn_worker_slot {
	struct sn_workers *ws;
	uint32_t index;
	pcap_t *pcap;               /* NULL while a lost capture waits for a retry */
	struct sn_worker *w;
	struct sn_report_queue queue;
	pthread_t thread;
	bool started;

	uint64_t last_packet_us;    /* newest packet time */
	uint64_t mono_at_last_ms;   /* monotonic ms when it arrived */
	uint64_t next_live_ms, next_publish_ms, next_retry_ms;
	uint64_t pushed_at_wake;    /* queue.pushed when the consumer was last woken */
	uint64_t reload_seen;       /* the last reload generation applied */

	_Atomic uint64_t clock_us;  /* published packet time (0 = none yet) */
	atomic_bool exited;
	pthread_mutex_t snap_lock;
	struct sn_worker_snapshot snap;
};

struct sn_workers {
	struct sn_config cfg;       /* the start-up settings */
	pthread_mutex_t reload_lock;
	struct sn_config reload_cfg; /* the latest reloaded settings (under reload_lock) */
	_Atomic uint64_t reload_gen; /* bumped by each sn_workers_reload */
	char interface[64];
	int fanout_group;
	sn_wake_fn wake;
	void *wake_ctx;
	struct sn_attr *attr;
	atomic_bool stop;
	atomic_bool failed;
	uint32_t count;
	struct sn_worker_slot *slots;
};

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000ULL + (uint64_t)ts.tv_nsec / 1000000ULL;
}

/* Packet time now: the last packet's time plus the idle wall time since. */
static uint64_t slot_now_us(const struct sn_worker_slot *s)
{
	if (s->last_packet_us == 0)
		return sn_wall_clock_us();
	return s->last_packet_us + (mono_ms() - s->mono_at_last_ms) * 1000ULL;
}

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *data)
{
	struct sn_worker_slot *s = (struct sn_worker_slot *)user;
	uint64_t ts = sn_capture_time_us(h);
	if (ts != SN_TIME_INVALID && ts > s->last_packet_us) {
		s->last_packet_us = ts;
		s->mono_at_last_ms = mono_ms();
	}
	sn_worker_packet(s->w, data, h->caplen, h->len, ts);
}

static void publish_snapshot(struct sn_worker_slot *s)
{
	struct sn_worker_snapshot snap;
	struct pcap_stat ps;
	memset(&snap, 0, sizeof snap);
	sn_worker_counts(s->w, &snap.counts);
	pthread_mutex_lock(&s->snap_lock);
	snap.dropped = s->snap.dropped;
	snap.if_dropped = s->snap.if_dropped;
	if (s->pcap && pcap_stats(s->pcap, &ps) == 0) {
		snap.dropped = ps.ps_drop;
		snap.if_dropped = ps.ps_ifdrop;
	}
	s->snap = snap;
	pthread_mutex_unlock(&s->snap_lock);
}

/* Wakes the consumer when this worker queued something since the last wake. */
static void wake_if_pushed(struct sn_worker_slot *s)
{
	pthread_mutex_lock(&s->queue.lock);
	uint64_t pushed = s->queue.pushed;
	pthread_mutex_unlock(&s->queue.lock);
	if (pushed == s->pushed_at_wake || !s->ws->wake)
		return;
	s->pushed_at_wake = pushed;
	s->ws->wake(s->ws->wake_ctx);
}

/* A configuration reload since the last look: rebuild the port map. */
static void apply_reload(struct sn_worker_slot *s)
{
	struct sn_workers *ws = s->ws;
	if (atomic_load(&ws->reload_gen) == s->reload_seen)
		return;
	pthread_mutex_lock(&ws->reload_lock);
	sn_worker_reload(s->w, &ws->reload_cfg);
	s->reload_seen = atomic_load(&ws->reload_gen);
	pthread_mutex_unlock(&ws->reload_lock);
}

/* Between batches: clock, expiry, live updates, snapshot, then the clock is published. */
static void housekeeping(struct sn_worker_slot *s)
{
	const struct sn_config *cfg = &s->ws->cfg;
	uint64_t now_ms = mono_ms();
	apply_reload(s);
	sn_worker_advance(s->w, slot_now_us(s));
	if (now_ms >= s->next_live_ms) {
		sn_worker_report_live(s->w);
		s->next_live_ms = now_ms + cfg->tables.update_interval * 1000ULL;
	}
	if (now_ms >= s->next_publish_ms) {
		publish_snapshot(s);
		s->next_publish_ms = now_ms + SN_WORKER_PUBLISH_MS;
	}
	/* after the reports it caused are queued: the consumer relies on that order */
	atomic_store(&s->clock_us, sn_worker_now(s->w));
	wake_if_pushed(s);
}

/* Up to SN_WORKER_BATCHES batches of what the kernel holds (non-blocking). */
static int dispatch_batches(struct sn_worker_slot *s)
{
	for (int i = 0; i < SN_WORKER_BATCHES; i++) {
		int n = pcap_dispatch(s->pcap, SN_WORKER_BATCH, on_packet, (u_char *)s);
		if (n < 0)
			return -1;
		if (n < SN_WORKER_BATCH)
			break;
	}
	return 0;
}

/* 0 when nothing went wrong (packets or not), -1 when the capture failed. */
static int capture_round(struct sn_worker_slot *s)
{
	struct pollfd pfd = { .fd = pcap_get_selectable_fd(s->pcap), .events = POLLIN };
	int rc = poll(&pfd, 1, SN_WORKER_POLL_MS);
	if (rc < 0)
		return errno == EINTR ? 0 : -1;
	if (rc == 0)
		return 0;
	if (pfd.revents & (POLLERR | POLLHUP | POLLNVAL)) {
		/* libpcap knows the real cause (e.g. "The interface disappeared"): ask it once */
		(void)pcap_dispatch(s->pcap, SN_WORKER_BATCH, on_packet, (u_char *)s);
		return -1;
	}
	return dispatch_batches(s);
}

/* "worker N: " when there are several, else nothing (one capture loop). */
static const char *worker_prefix(const struct sn_worker_slot *s, char *buf, size_t cap)
{
	buf[0] = '\0';
	if (s->ws->count > 1)
		snprintf(buf, cap, "worker %u: ", s->index);
	return buf;
}

/*
 * Why the capture on the interface failed: libpcap's own message when it
 * has one, else whether the interface still exists.  libpcap leaves its
 * message empty when the last packets still in the ring were dispatched in
 * the call that met the error.
 */
static const char *lost_cause(struct sn_worker_slot *s)
{
	const char *why = pcap_geterr(s->pcap);
	if (*why)
		return why;
	return if_nametoindex(s->ws->interface) == 0 ? "the interface disappeared"
						      : "the capture socket reported an error";
}

static void capture_lost(struct sn_worker_slot *s)
{
	struct sn_workers *ws = s->ws;
	const char *why = lost_cause(s);
	char who[32];
	worker_prefix(s, who, sizeof who);
	if (!ws->cfg.daemon.retry_interface) {
		fprintf(stderr, "pubsub-sensor: %scapture on '%s' failed: %s; stopping (set "
			"daemon.retry_interface: true to wait for the interface to return)\n",
			who, ws->interface, why);
		atomic_store(&ws->failed, true);
		if (ws->wake)
			ws->wake(ws->wake_ctx);
		return;
	}
	fprintf(stderr, "pubsub-sensor: %scapture on '%s' failed: %s; retrying every %u s\n", who,
		ws->interface, why, ws->cfg.daemon.retry_interval);
	publish_snapshot(s); /* keep its drop figures */
	pcap_close(s->pcap);
	s->pcap = NULL;
	s->next_retry_ms = mono_ms() + ws->cfg.daemon.retry_interval * 1000ULL;
}

/* While the capture is lost: sleep in short steps, reopen when due. */
static void retry_round(struct sn_worker_slot *s)
{
	char err[SN_CAPTURE_ERRLEN];
	char who[32];
	struct timespec step = { .tv_sec = 0, .tv_nsec = SN_WORKER_POLL_MS * 1000000L };
	if (mono_ms() < s->next_retry_ms) {
		nanosleep(&step, NULL);
		return;
	}
	s->next_retry_ms = mono_ms() + s->ws->cfg.daemon.retry_interval * 1000ULL;
	s->pcap = sn_capture_open_interface(&s->ws->cfg, s->ws->interface, s->ws->fanout_group, err);
	if (!s->pcap)
		return;
	sn_worker_set_linktype(s->w, pcap_datalink(s->pcap));
	fprintf(stderr, "pubsub-sensor: %scapture on '%s' resumed\n",
		worker_prefix(s, who, sizeof who), s->ws->interface);
}

static void *worker_main(void *arg)
{
	struct sn_worker_slot *s = arg;
	struct sn_workers *ws = s->ws;
	uint64_t now_ms = mono_ms();
	s->next_live_ms = now_ms + ws->cfg.tables.update_interval * 1000ULL;
	s->next_publish_ms = now_ms;
	while (!atomic_load(&ws->stop) && !atomic_load(&ws->failed)) {
		if (!s->pcap)
			retry_round(s);
		else if (capture_round(s) != 0)
			capture_lost(s);
		housekeeping(s);
	}
	/* what the kernel already captured before the stop still counts */
	if (s->pcap && !atomic_load(&ws->failed))
		(void)dispatch_batches(s);
	sn_worker_advance(s->w, slot_now_us(s));
	sn_worker_flush(s->w, sn_worker_now(s->w), SN_CLOSE_SHUTDOWN);
	publish_snapshot(s);
	atomic_store(&s->clock_us, sn_worker_now(s->w));
	atomic_store(&s->exited, true);
	wake_if_pushed(s);
	return NULL;
}

/* ---- the group of workers --------------------------------------------- */

static int slot_init(struct sn_workers *ws, uint32_t i, uint64_t seed,
		     char err[SN_CAPTURE_ERRLEN])
{
	struct sn_worker_slot *s = &ws->slots[i];
	s->ws = ws;
	s->index = i;
	pthread_mutex_init(&s->snap_lock, NULL);
	if (sn_report_queue_init(&s->queue, SN_REPORT_QUEUE_SLOTS, SN_REPORT_QUEUE_WAIT_MS,
				 ws->wake, ws->wake_ctx) != 0 ||
	    !(s->w = sn_worker_create(&ws->cfg, 0, sn_report_queue_report, &s->queue, seed + i))) {
		snprintf(err, SN_CAPTURE_ERRLEN,
			 "cannot allocate worker %u (a table of %u flows and %u queued reports); "
			 "lower tables.max_flows or capture.workers",
			 i, ws->cfg.tables.max_flows, SN_REPORT_QUEUE_SLOTS);
		return -ENOMEM;
	}
	sn_worker_set_index(s->w, i);
	sn_worker_set_attribution(s->w, ws->attr);
	/* one name cache for all: a DNS answer and the connection it names
	 * may reach different workers */
	if (i > 0 && sn_worker_share_names(s->w, ws->slots[0].w) != 0) {
		snprintf(err, SN_CAPTURE_ERRLEN, "cannot share the DNS name cache with worker %u", i);
		return -ENOMEM;
	}
	s->pcap = sn_capture_open_interface(&ws->cfg, ws->interface, ws->fanout_group, err);
	if (!s->pcap)
		return -EIO;
	sn_worker_set_linktype(s->w, pcap_datalink(s->pcap));
	return 0;
}

static int workers_setup(struct sn_workers *ws, const struct sn_workers_options *o,
			 char err[SN_CAPTURE_ERRLEN])
{
	ws->slots = calloc(o->count, sizeof *ws->slots);
	if (!ws->slots) {
		snprintf(err, SN_CAPTURE_ERRLEN, "cannot allocate %u workers", o->count);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < o->count; i++) {
		ws->count = i + 1; /* slots set up so far, for sn_workers_close */
		int rc = slot_init(ws, i, o->seed, err);
		if (rc != 0)
			return rc;
	}
	return 0;
}

struct sn_workers *sn_workers_open(const struct sn_workers_options *o,
				   char err[SN_CAPTURE_ERRLEN])
{
	struct sn_workers *ws = calloc(1, sizeof *ws);
	if (!ws) {
		snprintf(err, SN_CAPTURE_ERRLEN, "out of memory");
		return NULL;
	}
	ws->cfg = *o->cfg;
	ws->reload_cfg = *o->cfg;
	pthread_mutex_init(&ws->reload_lock, NULL);
	atomic_init(&ws->reload_gen, 0);
	snprintf(ws->interface, sizeof ws->interface, "%s", o->interface ? o->interface : "");
	ws->fanout_group = o->fanout_group;
	ws->wake = o->wake;
	ws->wake_ctx = o->wake_ctx;
	ws->attr = o->attr;
	atomic_init(&ws->stop, false);
	atomic_init(&ws->failed, false);
	if (o->count == 0) {
		snprintf(err, SN_CAPTURE_ERRLEN, "capture.workers must be at least 1");
		goto out_close;
	}
	if (workers_setup(ws, o, err) != 0)
		goto out_close;
	return ws;
out_close:
	sn_workers_close(ws);
	return NULL;
}

int sn_workers_start(struct sn_workers *ws)
{
	sigset_t all, old;
	int rc = 0;
	/* signals belong to the loop thread (libuv); workers never see them */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (uint32_t i = 0; i < ws->count && rc == 0; i++) {
		struct sn_worker_slot *s = &ws->slots[i];
		atomic_store(&s->clock_us, sn_wall_clock_us());
		rc = -pthread_create(&s->thread, NULL, worker_main, s);
		s->started = rc == 0;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

size_t sn_workers_drain(struct sn_workers *ws, sn_report_fn fn, void *ctx)
{
	size_t n = 0;
	for (uint32_t i = 0; i < ws->count; i++)
		n += sn_report_queue_drain(&ws->slots[i].queue, fn, ctx, SN_REPORT_QUEUE_SLOTS);
	return n;
}

uint64_t sn_workers_clock(const struct sn_workers *ws)
{
	uint64_t min = 0;
	for (uint32_t i = 0; i < ws->count; i++) {
		uint64_t c = atomic_load(&ws->slots[i].clock_us);
		if (c != 0 && (min == 0 || c < min))
			min = c;
	}
	return min ? min : sn_wall_clock_us();
}

void sn_workers_reload(struct sn_workers *ws, const struct sn_config *cfg)
{
	pthread_mutex_lock(&ws->reload_lock);
	ws->reload_cfg = *cfg;
	atomic_fetch_add(&ws->reload_gen, 1);
	pthread_mutex_unlock(&ws->reload_lock);
}

bool sn_workers_failed(const struct sn_workers *ws)
{
	return atomic_load(&ws->failed);
}

static bool all_exited(const struct sn_workers *ws)
{
	for (uint32_t i = 0; i < ws->count; i++) {
		const struct sn_worker_slot *s = &ws->slots[i];
		if (s->started && !atomic_load(&s->exited))
			return false;
	}
	return true;
}

void sn_workers_stop(struct sn_workers *ws, sn_report_fn fn, void *ctx)
{
	struct timespec spin = { .tv_sec = 0, .tv_nsec = SN_WORKERS_STOP_SPIN_NS };
	/*
	 * Each worker sees the flag within one poll timeout or one batch; no
	 * pcap_breakloop, since a retrying worker may be swapping its handle.
	 */
	atomic_store(&ws->stop, true);
	/* drain while they flush, so a full ring never makes a worker drop */
	while (!all_exited(ws)) {
		sn_workers_drain(ws, fn, ctx);
		nanosleep(&spin, NULL);
	}
	for (uint32_t i = 0; i < ws->count; i++) {
		if (ws->slots[i].started)
			pthread_join(ws->slots[i].thread, NULL);
		ws->slots[i].started = false;
	}
	while (sn_workers_drain(ws, fn, ctx) > 0)
		;
}

void sn_workers_close(struct sn_workers *ws)
{
	if (!ws)
		return;
	for (uint32_t i = ws->count; i-- > 0;) { /* worker 0 last: the others use its names */
		struct sn_worker_slot *s = &ws->slots[i];
		sn_worker_destroy(s->w);
		sn_report_queue_free(&s->queue);
		pthread_mutex_destroy(&s->snap_lock);
		if (s->pcap)
			pcap_close(s->pcap);
	}
	free(ws->slots);
	pthread_mutex_destroy(&ws->reload_lock);
	free(ws);
}

/* ---- stats ------------------------------------------------------------ */

void sn_workers_counts(struct sn_workers *ws, struct sn_worker_counts *sum,
		       struct sn_live_counts *live)
{
	memset(sum, 0, sizeof *sum);
	memset(live, 0, sizeof *live);
	for (uint32_t i = 0; i < ws->count; i++) {
		struct sn_worker_slot *s = &ws->slots[i];
		pthread_mutex_lock(&s->snap_lock);
		sn_worker_counts_add(sum, &s->snap.counts);
		live->dropped += s->snap.dropped;
		live->if_dropped += s->snap.if_dropped;
		pthread_mutex_unlock(&s->snap_lock);
		live->report_queue_full += sn_report_queue_dropped(&s->queue);
	}
}
