/*
 * pipeline.c - wiring of a worker (decode + flows) to the aggregator
 * (rules + groups + events + table), and the stats they report together.
 */
#include "pipeline.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"

void sn_flow_config_from(struct sn_flow_config *fc, const struct sn_config *cfg,
			 const struct sn_rules *rules, sn_report_fn report, void *ctx)
{
	memset(fc, 0, sizeof *fc);
	fc->max_flows = cfg->tables.max_flows;
	fc->classify_buffers = cfg->tables.classify_buffers;
	fc->buffer_bytes = cfg->tables.buffer_bytes;
	fc->timeout_new_s = cfg->tables.flow_timeout_new;
	fc->timeout_established_s = cfg->tables.flow_timeout_established;
	fc->timeout_closed_s = cfg->tables.flow_timeout_closed;
	fc->port_map = rules->port_map;
	fc->report = report;
	fc->report_ctx = ctx;
}

/* The aggregator's sink: every group event goes to the log and the table. */
static void aggregator_group_event(void *ctx, enum sn_group_event kind, const struct sn_group *g,
				   uint64_t ts_us)
{
	struct sn_aggregator *ag = ctx;
	sn_events_group_event(&ag->events, kind, g, ts_us);
	if (ag->want_table)
		sn_table_record(&ag->table, g);
}

static void aggregator_flow_event(void *ctx, const struct sn_conn_report *r, enum sn_proto proto,
				  bool external, uint64_t ts_us)
{
	struct sn_aggregator *ag = ctx;
	sn_events_flow_event(&ag->events, r, proto, external, ts_us);
}

int sn_aggregator_init(struct sn_aggregator *ag, const struct sn_config *cfg, const char *log_path,
		       bool want_table, char *err, size_t errlen)
{
	memset(ag, 0, sizeof *ag);
	ag->cfg = cfg;
	ag->want_table = want_table;
	if (sn_rules_init(&ag->rules, cfg, err, errlen) != 0)
		return -1;
	if (log_path) {
		int rc = sn_eventlog_open(&ag->log, log_path, cfg->output.flush == SN_FLUSH_INTERVAL);
		if (rc != 0) {
			snprintf(err, errlen, "cannot open event log '%s': %s", log_path, strerror(-rc));
			sn_rules_free(&ag->rules);
			return -1;
		}
		ag->have_log = true;
	}
	sn_events_init(&ag->events, cfg->sensor_name, ag->have_log ? &ag->log : NULL);
	ag->events.community_id_seed = (uint16_t)cfg->output.community_id_seed;
	sn_table_init(&ag->table, 100000, sn_random_seed());
	struct sn_groups_config gc = {
		.max_groups = cfg->tables.max_groups,
		.group_window_s = cfg->tables.group_window,
		.update_interval_s = cfg->tables.update_interval,
		.flow_events = cfg->output.flows,
		.seed = sn_random_seed(),
	};
	struct sn_group_sink sink = {
		.group_event = aggregator_group_event,
		.flow_event = aggregator_flow_event,
		.ctx = ag,
	};
	ag->groups = sn_groups_create(&gc, &ag->rules, &sink);
	if (!ag->groups) {
		snprintf(err, errlen, "cannot allocate %u groups: %s", cfg->tables.max_groups,
			 strerror(errno));
		sn_aggregator_free(ag);
		return -1;
	}
	return 0;
}

void sn_aggregator_free(struct sn_aggregator *ag)
{
	if (ag->groups)
		sn_groups_destroy(ag->groups);
	ag->groups = NULL;
	sn_table_free(&ag->table);
	if (ag->have_log) {
		sn_eventlog_flush(&ag->log);
		sn_eventlog_close(&ag->log);
	}
	ag->have_log = false;
	sn_rules_free(&ag->rules);
}

void sn_aggregator_report(void *ctx, const struct sn_conn_report *r)
{
	struct sn_aggregator *ag = ctx;
	if (r->ts_us > ag->now_us)
		ag->now_us = r->ts_us;
	sn_groups_report(ag->groups, r);
}

void sn_aggregator_tick(struct sn_aggregator *ag, uint64_t now_us)
{
	if (now_us > ag->now_us)
		ag->now_us = now_us;
	if (ag->now_us < ag->next_tick_us)
		return;
	ag->next_tick_us = ag->now_us + SN_US_PER_S;
	sn_groups_tick(ag->groups, ag->now_us);
}

int sn_worker_init(struct sn_worker *w, const struct sn_config *cfg, const struct sn_rules *rules,
		   sn_report_fn report, void *report_ctx, uint64_t seed)
{
	memset(w, 0, sizeof *w);
	struct sn_flow_config fc;
	sn_flow_config_from(&fc, cfg, rules, report, report_ctx);
	w->flows = sn_flow_table_create(&fc, seed);
	return w->flows ? 0 : -1;
}

void sn_worker_set_index(struct sn_worker *w, uint32_t index)
{
	sn_flow_table_set_worker(w->flows, (uint16_t)index);
}

void sn_worker_free(struct sn_worker *w)
{
	if (w->flows)
		sn_flow_table_destroy(w->flows);
	w->flows = NULL;
}

void sn_worker_advance(struct sn_worker *w, uint64_t now_us)
{
	if (now_us > w->now_us)
		w->now_us = now_us;
	if (w->now_us >= w->next_expire_us) {
		w->next_expire_us = w->now_us + SN_US_PER_S;
		sn_flow_table_expire(w->flows, w->now_us);
	}
}

void sn_worker_packet(struct sn_worker *w, const uint8_t *frame, uint32_t caplen,
		      uint32_t wirelen, uint64_t ts_us)
{
	struct sn_packet pkt;
	sn_worker_advance(w, ts_us);
	if (sn_decode_packet(w->linktype, frame, caplen, wirelen, ts_us, &pkt, &w->decode) ==
	    SN_DECODE_TCP)
		sn_flow_table_process(w->flows, &pkt);
}

void sn_stats_fill(struct sn_stats_view *view, const struct sn_decode_stats *decode,
		   const struct sn_flow_stats *fs, const struct sn_aggregator *ag,
		   uint64_t report_queue_full, uint64_t values[], const char *names[], size_t cap)
{
	struct sn_groups_stats gs;
	sn_groups_stats(ag->groups, &gs);
	memset(view, 0, sizeof *view);
	view->packets = decode->packets;
	view->bytes = decode->bytes;
	view->flows_active = fs->flows_active;
	view->flows_evicted = fs->evicted_half_open + fs->evicted_established;
	view->groups_active = gs.groups_active;
	view->alerts = gs.alerts;
	view->decode = decode;
	/* Always the same names, so every stats line has the same shape. */
	const char *const counter_names[] = {
		"flows_evicted_half_open", "groups_evicted", "classify_pool_exhausted",
		"flow_meta_exhausted", "event_log_write_errors", "report_queue_full",
	};
	const uint64_t counter_values[] = {
		fs->evicted_half_open, gs.groups_evicted, fs->pool_exhausted, fs->meta_exhausted,
		ag->have_log ? ag->log.errors : 0, report_queue_full,
	};
	size_t n = sizeof counter_values / sizeof counter_values[0];
	if (n > cap)
		n = cap;
	for (size_t i = 0; i < n; i++) {
		names[i] = counter_names[i];
		values[i] = counter_values[i];
	}
	view->extra_names = names;
	view->extra_values = values;
	view->n_extra = n;
}

void sn_stats_collect(const struct sn_worker *w, const struct sn_aggregator *ag,
		      struct sn_stats_view *view, uint64_t extra_values[], const char *extra_names[],
		      size_t extra_cap)
{
	struct sn_flow_stats fs;
	sn_flow_table_stats(w->flows, &fs);
	sn_stats_fill(view, &w->decode, &fs, ag, 0, extra_values, extra_names, extra_cap);
}
