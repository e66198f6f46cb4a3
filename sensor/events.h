/*
 * events.h - the output contract's JSON Lines events.
 *
 * Formats alert/update/summary (one group), flow (one connection) and stats
 * (the sensor's health) exactly as shared/spec/events.schema.json says, and
 * writes each as one line to the event log.  Timestamps are packet time.
 */
#ifndef SN_EVENTS_H
#define SN_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include "conn.h"
#include "decode.h"
#include "eventlog.h"
#include "groups.h"

#define SN_EVENT_LINE_MAX 65536

/*
 * An output beside the event log (syslog): handed every event's finished
 * line (ending in '\n'), its type and its packet time.  Events are
 * formatted once; every output gets the same bytes.
 */
struct sn_event_output {
	void (*write)(void *ctx, const char *event_type, const char *line, size_t len,
		      uint64_t ts_us);
	void *ctx;
};
#define SN_EVENT_OUTPUTS 4

struct sn_events {
	const char *sensor;        /* sensor name */
	struct sn_eventlog *log;   /* NULL: events are formatted but not written */
	struct sn_event_output outputs[SN_EVENT_OUTPUTS];
	size_t n_outputs;
	uint64_t dropped_overflow; /* lines too long for the buffer (never expected) */
	uint16_t community_id_seed; /* flow events' community_id (output.community_id_seed) */
	char line[SN_EVENT_LINE_MAX];
};

/* The health figures a stats event carries. */
struct sn_stats_view {
	uint64_t packets, bytes;
	bool live;                 /* include dropped / if_dropped */
	uint64_t dropped, if_dropped;
	uint64_t flows_active, flows_evicted;
	uint64_t groups_active, alerts;
	const struct sn_decode_stats *decode;     /* decode_errors object */
	/* named counters for the `counters` object (evictions, lost lines...), may be NULL */
	const char *const *extra_names;
	const uint64_t *extra_values;
	size_t n_extra;
};

void sn_events_init(struct sn_events *ev, const char *sensor, struct sn_eventlog *log);
/* Adds an output; 0, or -1 when SN_EVENT_OUTPUTS are already taken. */
int sn_events_add_output(struct sn_events *ev, const struct sn_event_output *o);

/* Formatters: return the line length (ending in '\n') in ev->line, 0 on overflow. */
size_t sn_events_format_group(struct sn_events *ev, enum sn_group_event kind,
			      const struct sn_group *g, uint64_t ts_us);
size_t sn_events_format_flow(struct sn_events *ev, const struct sn_conn_report *r,
			     enum sn_proto proto, bool external, int msg_kind, uint64_t ts_us);
size_t sn_events_format_stats(struct sn_events *ev, const struct sn_stats_view *s, uint64_t ts_us);

/* struct sn_group_sink callbacks: format and write. ctx is struct sn_events. */
void sn_events_group_event(void *ctx, enum sn_group_event kind, const struct sn_group *g,
			   uint64_t ts_us);
void sn_events_flow_event(void *ctx, const struct sn_conn_report *r, enum sn_proto proto,
			  bool external, int msg_kind, uint64_t ts_us);
void sn_events_write_stats(struct sn_events *ev, const struct sn_stats_view *s, uint64_t ts_us);

#endif /* SN_EVENTS_H */
