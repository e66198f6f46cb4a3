/*
 * workers.h - the live capture: capture.workers worker threads (one by
 * default) feeding one aggregator through bounded report queues.
 *
 * Each worker is a thread with its own capture handle (with several, all
 * joined in one PACKET_FANOUT group, so a connection always lands on the
 * same worker) and its own struct sn_worker (decoder, port map, flow table).
 * The daemon runs one worker the same way as several: this is its only
 * capture loop.  Connection reports (plain
 * values, conn.h) go into the worker's ring; the thread that owns the
 * aggregator (the daemon's libuv loop) drains every ring in turn.
 *
 * The ring has one producer (its worker) and one consumer (the aggregator).
 * A mutex guards only the indices: the consumer reads queued slots in place
 * without holding it, because the producer never writes an occupied slot.
 * When a ring is full the worker wakes the consumer and waits at most
 * wait_ms for room; if there is still none the report is dropped and counted
 * (report_queue_full in the stats event), and later pushes drop at once
 * until room appears, so a stalled consumer costs a worker one wait, not
 * one per report.
 */
#ifndef SN_WORKERS_H
#define SN_WORKERS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture.h"
#include "config.h"
#include "conn.h"
#include "pipeline.h"

#define SN_REPORT_QUEUE_SLOTS 1024 /* per worker: ~3.5 MiB of reports */
#define SN_REPORT_QUEUE_WAIT_MS 50 /* longest a worker waits for room */

/* Called from a worker thread: reports are waiting (or the ring is full). */
typedef void (*sn_wake_fn)(void *ctx);

struct sn_report_queue {
	pthread_mutex_t lock;
	pthread_cond_t not_full;      /* signalled by the consumer after a drain */
	struct sn_conn_report *slots; /* cap entries, allocated once at init */
	uint32_t cap;
	uint32_t head;                /* oldest queued slot */
	uint32_t count;               /* queued slots */
	uint32_t wait_ms;             /* longest wait for room before dropping */
	bool congested;               /* the last wait timed out: drop without waiting */
	uint64_t pushed;              /* reports queued */
	uint64_t dropped_full;        /* reports dropped because the ring stayed full */
	sn_wake_fn wake;              /* may be NULL */
	void *wake_ctx;
};

/* 0, or -ENOMEM / -errno.  cap >= 1. */
int sn_report_queue_init(struct sn_report_queue *q, uint32_t cap, uint32_t wait_ms,
			 sn_wake_fn wake, void *wake_ctx);
void sn_report_queue_free(struct sn_report_queue *q);
/* Producer: 0 when queued, -EAGAIN when dropped (the ring stayed full). */
int sn_report_queue_push(struct sn_report_queue *q, const struct sn_conn_report *r);
/* sn_report_fn shape for a flow table: pushes into the queue ctx. */
void sn_report_queue_report(void *q, const struct sn_conn_report *r);
/* Consumer: hands up to max queued reports to fn, oldest first; returns how many. */
size_t sn_report_queue_drain(struct sn_report_queue *q, sn_report_fn fn, void *ctx, size_t max);
uint64_t sn_report_queue_dropped(struct sn_report_queue *q);

/* ---- the workers ------------------------------------------------------ */

struct sn_workers_options {
	const struct sn_config *cfg; /* copied: the workers keep the start-up settings */
	const char *interface;
	uint32_t count;              /* threads, >= 1 */
	int fanout_group;            /* PACKET_FANOUT group id, 1-65535; 0: none (one worker) */
	uint64_t seed;               /* flow-table hash seed (worker i uses seed + i) */
	sn_wake_fn wake;             /* reports are waiting; called from worker threads */
	void *wake_ctx;
	struct sn_attr *attr;        /* host attribution asked at SYNs, or NULL */
};

struct sn_workers;

/*
 * Opens every capture handle (needs the capture privileges) and allocates
 * every table and ring; starts no thread.  NULL with a sentence in err.
 */
struct sn_workers *sn_workers_open(const struct sn_workers_options *o,
				   char err[SN_CAPTURE_ERRLEN]);
/* Starts the threads (signals blocked in them).  0 or -errno. */
int sn_workers_start(struct sn_workers *ws);
/* Consumer: drains every worker's ring into fn; returns how many reports. */
size_t sn_workers_drain(struct sn_workers *ws, sn_report_fn fn, void *ctx);
/*
 * Packet time that every worker has reached (each advances with idle wall
 * time): reports older than it are already queued.  Drain after reading it.
 */
uint64_t sn_workers_clock(const struct sn_workers *ws);
/*
 * Configuration reload: each worker rebuilds its port map from cfg's
 * protocols at its next housekeeping (within ~100 ms).  Other settings keep
 * their start-up values.
 */
void sn_workers_reload(struct sn_workers *ws, const struct sn_config *cfg);
/* True once a worker lost its capture and is not retrying. */
bool sn_workers_failed(const struct sn_workers *ws);
/*
 * Stops the threads: each flushes its flow table (SN_CLOSE_SHUTDOWN) into
 * its ring while this drains them into fn; then joins them and drains the
 * rest.  Safe to call once the threads were started, or never started.
 */
void sn_workers_stop(struct sn_workers *ws, sn_report_fn fn, void *ctx);
/* Frees everything (after sn_workers_stop). */
void sn_workers_close(struct sn_workers *ws);

/*
 * The stats event's figures: the workers' decode and flow counters summed
 * (as last published, at most ~0.5 s old; exact after sn_workers_stop),
 * kernel drops summed over the handles, and reports dropped on full rings.
 */
void sn_workers_counts(struct sn_workers *ws, struct sn_worker_counts *sum,
		       struct sn_live_counts *live);

#endif /* SN_WORKERS_H */
