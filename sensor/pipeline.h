/*
 * pipeline.h - the two halves of the sensor and how they are wired.
 *
 * A worker owns the per-connection work of one capture source: decoding and
 * its flow table.  The aggregator owns everything after the verdict: rules,
 * groups, events, the replay table and the health figures.  Workers hand
 * the aggregator plain connection reports (conn.h); with one worker they
 * call it directly, with several (live, PACKET_FANOUT) through a queue.
 * Time is always packet time.
 */
#ifndef SN_PIPELINE_H
#define SN_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>

#include "capture.h"
#include "config.h"
#include "decode.h"
#include "eventlog.h"
#include "events.h"
#include "flow.h"
#include "groups.h"
#include "rules.h"
#include "table.h"

struct sn_worker {
	int linktype;
	struct sn_decode_stats decode;
	struct sn_flow_table *flows;
	uint64_t now_us;          /* latest packet time seen */
	uint64_t next_expire_us;  /* next flow expiry pass */
};

struct sn_aggregator {
	const struct sn_config *cfg;
	struct sn_rules rules;
	struct sn_groups *groups;
	struct sn_events events;
	struct sn_eventlog log;
	bool have_log;
	struct sn_table table;
	bool want_table;
	uint64_t now_us;
	uint64_t next_tick_us;
};

/* Fills the flow table's settings from the configuration and the rules. */
void sn_flow_config_from(struct sn_flow_config *fc, const struct sn_config *cfg,
			 const struct sn_rules *rules, sn_report_fn report, void *ctx);

/*
 * Sets up the aggregator.  log_path: NULL for no event log, "-" for standard
 * output.  0, or -1 with a one-line message in err.
 */
int sn_aggregator_init(struct sn_aggregator *ag, const struct sn_config *cfg, const char *log_path,
		       bool want_table, char *err, size_t errlen);
void sn_aggregator_free(struct sn_aggregator *ag);
/* Connection report entry point (sn_report_fn). */
void sn_aggregator_report(void *ag, const struct sn_conn_report *r);
/* Periodic work at packet time now_us (updates, group expiry). */
void sn_aggregator_tick(struct sn_aggregator *ag, uint64_t now_us);

int sn_worker_init(struct sn_worker *w, const struct sn_config *cfg, const struct sn_rules *rules,
		   sn_report_fn report, void *report_ctx, uint64_t seed);
/* The worker's index among capture workers: part of every flow_id it hands
   out, so ids are unique across workers.  Before the first packet. */
void sn_worker_set_index(struct sn_worker *w, uint32_t index);
void sn_worker_free(struct sn_worker *w);
/* One captured frame. */
void sn_worker_packet(struct sn_worker *w, const uint8_t *frame, uint32_t caplen,
		      uint32_t wirelen, uint64_t ts_us);
/* Advance packet time without a packet (an idle live link). */
void sn_worker_advance(struct sn_worker *w, uint64_t now_us);

/*
 * Fills a stats view from summed decode and flow figures and the
 * aggregator's; the named counters (stats event's `counters` object) go to
 * names[]/values[] (cap at least SN_STATS_COUNTERS).  report_queue_full is
 * the multi-worker queue's drops (0 with one worker).
 */
#define SN_STATS_COUNTERS 8
void sn_stats_fill(struct sn_stats_view *view, const struct sn_decode_stats *decode,
		   const struct sn_flow_stats *fs, const struct sn_aggregator *ag,
		   uint64_t report_queue_full, uint64_t values[], const char *names[], size_t cap);

/* The figures a stats event reports, from one worker and the aggregator. */
void sn_stats_collect(const struct sn_worker *w, const struct sn_aggregator *ag,
		      struct sn_stats_view *view, uint64_t extra_values[], const char *extra_names[],
		      size_t extra_cap);

#endif /* SN_PIPELINE_H */
