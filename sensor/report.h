/*
 * report.h - `pubsub-sensor report`: the search's table over the event logs
 * of one or many sensors.
 *
 * report.c reads the logs (plain or gzip'd), turns every `flow` event back
 * into a connection report and feeds the sensor's own aggregator (rules and
 * groups through pipeline.h), so a group split across sensors comes out as
 * one group with all its connections, rated exactly as one sensor would
 * rate it.  A log without flow events contributes its latest `summary` per
 * sensor and group instead, summed across sensors.  The rows (JSON objects,
 * jansson) are printed as a table, CSV, JSON or a self-contained HTML page
 * (reporthtml.c).
 */
#ifndef SN_REPORT_H
#define SN_REPORT_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "../dissectors/dissector.h"

/* `pubsub-sensor report ...`: argv[0] is "report".  Returns the exit code. */
int sn_report_main(int argc, char **argv);

/*
 * A flow event's metadata back into *m (zeroed by the caller): client_ids
 * and Users, then every `details` key of meta_fields.h.
 */
void sn_report_meta_from(struct sn_meta *m, json_t *ev, enum sn_proto proto);

/* Shared readers of event fields: a string ("" when absent), a count (0). */
const char *sn_report_str(json_t *o, const char *k);
uint64_t sn_report_uint(json_t *o, const char *k);
/* "2026-11-28T01:02:03.123456Z" -> microseconds since the epoch; 0 if not that. */
uint64_t sn_report_time_us(const char *iso);
/* Sorts a JSON array in place by cmp over its elements (json_t *const *). */
void sn_report_sort(json_t *arr, int (*cmp)(const void *, const void *));

/*
 * The HTML page: the sortable table, a timeline of connections per group,
 * bytes per group (inline SVG) and each group's reasons.  rows: array of row
 * objects as `report --format json` prints them; logs: the input file names.
 */
void sn_report_html(FILE *out, json_t *rows, char *const *logs, size_t n_logs);

#endif /* SN_REPORT_H */
