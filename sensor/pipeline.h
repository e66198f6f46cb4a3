/*
 * pipeline.h - the two halves of the sensor, and the only door the drivers
 * (replay.c, lookahead.c, daemon.c, workers.c) use to reach them.
 *
 * A worker owns the per-connection work of one capture source: decoding,
 * its flow table and the port map that table reads.  The aggregator owns
 * everything after the verdict: rules, groups, events, the event log, the
 * replay table and the health figures.  Workers hand the aggregator plain
 * connection reports (conn.h); with one worker and no threads (replay) the
 * report function is sn_aggregator_report itself, with capture threads
 * (workers.c) a queue in between.  Both halves are opaque: a driver feeds
 * packets and time in and asks for flushes, stats and the table out.
 * Time is always packet time.
 */
#ifndef SN_PIPELINE_H
#define SN_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "conn.h"
#include "decode.h"
#include "flow.h"

struct sn_worker;
struct sn_aggregator;

/* ---- worker ----------------------------------------------------------- */

/*
 * A worker for frames of link type `linktype` (DLT_*), its flow table sized
 * from cfg->tables and its port map built from cfg->protocols; reports go to
 * report(report_ctx, ...).  NULL when the memory cannot be had.
 */
struct sn_worker *sn_worker_create(const struct sn_config *cfg, int linktype,
				   sn_report_fn report, void *report_ctx, uint64_t seed);
void sn_worker_destroy(struct sn_worker *w);
/* The worker's index among capture workers: part of every flow_id it hands
   out, so ids are unique across workers.  Before the first packet. */
void sn_worker_set_index(struct sn_worker *w, uint32_t index);
/* Host attribution (attribution.h): a client's first SYN to a pub/sub port
 * asks for its process.  NULL: none. */
struct sn_attr;
void sn_worker_set_attribution(struct sn_worker *w, struct sn_attr *attr);
/*
 * Several live workers: w keeps the names from DNS answers (UDP and TCP)
 * in owner's cache instead of its own, under a lock, so that an answer
 * one worker reads names the connections another follows (the kernel
 * hands each worker whole connections, the DNS ones included, by their own
 * addresses).  Before the threads start; owner is destroyed last or with
 * w.  0, or -1 (owner shares another's cache, or the lock failed).
 */
int sn_worker_share_names(struct sn_worker *w, struct sn_worker *owner);
/* A new capture source (the next file, a reopened interface). */
void sn_worker_set_linktype(struct sn_worker *w, int linktype);
/* Configuration reload: rebuilds the port map from cfg->protocols. */
void sn_worker_reload(struct sn_worker *w, const struct sn_config *cfg);

/* One captured frame. */
void sn_worker_packet(struct sn_worker *w, const uint8_t *frame, uint32_t caplen,
		      uint32_t wirelen, uint64_t ts_us);
/* Advance packet time without a packet (an idle live link): flow expiry. */
void sn_worker_advance(struct sn_worker *w, uint64_t now_us);
/* The latest packet time the worker has reached. */
uint64_t sn_worker_now(const struct sn_worker *w);
/* UPDATE reports with new byte counts for reported, still-open flows. */
void sn_worker_report_live(struct sn_worker *w);
/*
 * Closes every flow (end of input, shutdown) at now_us or the worker's time
 * if later; no expiry pass first (call sn_worker_advance for that).
 */
void sn_worker_flush(struct sn_worker *w, uint64_t now_us, enum sn_close_reason why);

/*
 * sn_worker_packet() in three steps, for replay's lookahead window: prepare
 * decodes a frame (which must stay in place until processed) and starts
 * fetching its flow's index line; prefetch, a few packets later, starts
 * fetching the flow entry; process does the rest.  Processing prepared
 * packets in order gives exactly what sn_worker_packet() gives.
 */
struct sn_worker_pending {
	struct sn_packet pkt;     /* decoded; payload points into the caller's frame, or
				     into the decoder when pkt.reassembled: then it must be
				     processed before the next frame is prepared */
	uint64_t ts_us;
	struct sn_flow_hint hint; /* key, hash and direction, when tcp */
	bool tcp;                 /* decoded as a TCP segment */
};
void sn_worker_prepare(struct sn_worker *w, const uint8_t *frame, uint32_t caplen,
		       uint32_t wirelen, uint64_t ts_us, struct sn_worker_pending *p);
void sn_worker_prefetch(const struct sn_worker *w, struct sn_worker_pending *p);
/* Returns the worker's time after the packet (sn_worker_now). */
uint64_t sn_worker_process(struct sn_worker *w, const struct sn_worker_pending *p);
/*
 * A full window's turn in one call: processes the packet in p (as
 * sn_worker_process, whose time it returns), prepares the next frame into
 * the same p, then prefetches for the packet in fetch (another slot,
 * prepared earlier).  What the aggregator does after the processed
 * packet may follow the call: preparing touches only the worker's decoder,
 * name caches and hints, never its clock, flows or reports.
 */
uint64_t sn_worker_step(struct sn_worker *w, struct sn_worker_pending *p, const uint8_t *frame,
			uint32_t caplen, uint32_t wirelen, uint64_t ts_us,
			struct sn_worker_pending *fetch);

/*
 * capture.checksum_validation `auto` over a capture file: a new capture
 * starts a new sample; the replay looks at its first frames with
 * sn_worker_checksum_sample() (a second read of the file) until the
 * policy is decided, then sn_worker_checksum_decide() settles it on what
 * was seen, before any packet is processed.
 */
void sn_worker_checksum_restart(struct sn_worker *w);
bool sn_worker_checksum_undecided(const struct sn_worker *w);
void sn_worker_checksum_sample(struct sn_worker *w, const uint8_t *frame, uint32_t caplen,
			       uint32_t wirelen);
void sn_worker_checksum_decide(struct sn_worker *w);

/* A worker's counters for the stats event (several workers' add up). */
struct sn_worker_counts {
	struct sn_decode_stats decode;
	uint64_t flows_created, flows_active, classified;
	uint64_t evicted_half_open, evicted_established;
	uint64_t pool_exhausted, meta_exhausted, buffers_reclaimed;
	uint64_t tunnel_lists_full;
	uint64_t undecided, malformed, probe_skipped, probe_budget_hit, large_grown, large_exhausted;
	uint64_t checksum_bad, checksum_unproven;
	uint64_t dns_responses, dns_addresses, dns_malformed, dns_replaced; /* dns.h */
	uint64_t msg_followed, msg_pool_full, msg_lost, msg_malformed; /* msgtiming.h */
	uint64_t msg_reclaimed;
	uint64_t dns_tcp_messages, dns_tcp_truncated, dns_tcp_gaps, dns_tcp_evicted,
		dns_tcp_unaligned; /* dnstcp.h */
};
void sn_worker_counts(const struct sn_worker *w, struct sn_worker_counts *out);
/* sum += c */
void sn_worker_counts_add(struct sn_worker_counts *sum, const struct sn_worker_counts *c);

/* ---- aggregator ------------------------------------------------------- */

/*
 * The aggregator for cfg (copied).  log_path: NULL for no event log, "-"
 * for standard output.  want_table: keep the search's table for
 * sn_aggregator_print_table.  NULL with a one-line message in err.
 */
struct sn_aggregator *sn_aggregator_create(const struct sn_config *cfg, const char *log_path,
					   bool want_table, char *err, size_t errlen);
/* Flushes and closes the event log, frees everything. */
void sn_aggregator_destroy(struct sn_aggregator *ag);
/*
 * Starts the syslog output when output.syslog.target is set.  uv_loop: the
 * daemon's uv_loop_t, or NULL (replay) for a private one run as events come.
 * 0, or -1 with a one-line message in err.
 */
int sn_aggregator_open_syslog(struct sn_aggregator *ag, void *uv_loop, char *err, size_t errlen);
/*
 * End of run, after the last event: outputs send what they hold, for at
 * most a few seconds (replay waits here; the daemon's loop runs on).
 */
void sn_aggregator_finish_outputs(struct sn_aggregator *ag);
/*
 * Another output beside the event log: write() gets every event's finished
 * JSON line, its type and packet time (events.h, struct sn_event_output).
 * 0, or -1 when the outputs are all taken.
 */
typedef void (*sn_output_fn)(void *ctx, const char *event_type, const char *line, size_t len,
			     uint64_t ts_us);
int sn_aggregator_add_output(struct sn_aggregator *ag, sn_output_fn write, void *ctx);
/* The protocol a server port means under the aggregator's rules (NONE if none). */
enum sn_proto sn_aggregator_port_proto(const struct sn_aggregator *ag, uint16_t port, bool *is_tls);

/* Connection report entry point (sn_report_fn); ctx is the aggregator. */
void sn_aggregator_report(void *ag, const struct sn_conn_report *r);
/* Host attribution: reports get process_name and the process details from
 * attr (answers kept per flow id).  0, or -1 when out of memory. */
int sn_aggregator_set_attribution(struct sn_aggregator *ag, struct sn_attr *attr);
/* Host attribution for a live capture on interface when capture.attribution
 * says so (on: yes; off: no; auto: when the interface is "any" or has an
 * address of this host, so not on a bare mirror port); NULL when not or it
 * cannot start. */
struct sn_attr *sn_attribution_open(const struct sn_config *cfg, const char *interface,
				    uint64_t seed);
void sn_attribution_close(struct sn_attr *attr);
/* Periodic work at packet time now_us (updates, group expiry), once a second. */
void sn_aggregator_tick(struct sn_aggregator *ag, uint64_t now_us);
/*
 * Where the aggregator keeps the packet time from which sn_aggregator_tick
 * has work to do: 0 once a report has moved its clock that far or an event
 * line was lost since the last tick (the driver then looks at
 * sn_aggregator_log_errors), else the next tick's time.  A driver that
 * calls sn_aggregator_tick(ag, t) only for t >= *due (t never decreasing)
 * gets exactly what calling it for every t gives: below it a tick only
 * moves the clock, which the next one moves as far.
 */
const uint64_t *sn_aggregator_due(const struct sn_aggregator *ag);
/* The latest packet time the aggregator has seen. */
uint64_t sn_aggregator_now(const struct sn_aggregator *ag);
/* Ends every group with a summary at now_us (shutdown, end of input). */
void sn_aggregator_flush(struct sn_aggregator *ag, uint64_t now_us);

/*
 * Puts cfg's rules (protocols, home networks, rules, allow lists, sensor
 * name) in force; existing groups are re-rated.  cfg is validated first:
 * 0, or -1 with a message in err and the running rules kept.
 */
int sn_aggregator_reload(struct sn_aggregator *ag, const struct sn_config *cfg, char *err,
			 size_t errlen);

/* What the stats event adds for a live capture. */
struct sn_live_counts {
	uint64_t dropped, if_dropped; /* kernel drops, summed over the handles */
	uint64_t report_queue_full;   /* reports lost on full worker queues */
};
/*
 * Writes a stats event at ts_us from the workers' summed counts and the
 * aggregator's own, then flushes the log.  live: NULL for a replay.
 */
void sn_aggregator_write_stats(struct sn_aggregator *ag, const struct sn_worker_counts *counts,
			       const struct sn_live_counts *live, uint64_t ts_us);

/* The event log: flush buffered lines (no-op without a log). */
void sn_aggregator_flush_log(struct sn_aggregator *ag);
/* Flushes, then reopens the log file (logrotate): 0, or -errno (old file kept). */
int sn_aggregator_reopen_log(struct sn_aggregator *ag);
/* Lines lost to write errors so far, and the last error; false without a log. */
bool sn_aggregator_log_errors(const struct sn_aggregator *ag, uint64_t *lost, int *last_errno);

/*
 * End of a replay: the search's table on out, or one line saying why there
 * are no alerts; then, per threshold, how many groups it kept out and the
 * option that shows them.  Needs want_table at create.
 */
void sn_aggregator_print_table(const struct sn_aggregator *ag, FILE *out);
/* The same table as CSV on out; the lines under it go to notes instead. */
void sn_aggregator_print_table_csv(const struct sn_aggregator *ag, FILE *out, FILE *notes);

#endif /* SN_PIPELINE_H */
