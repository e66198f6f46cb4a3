/*
 * report.c - `pubsub-sensor report`: the search's table across sensors.
 *
 * Owns reading event logs (zlib's gzread reads gzip'd and plain files
 * alike; jansson parses each line), turning `flow` events back into
 * connection reports for the sensor's own aggregator (pipeline.h: the same
 * rules and groups code, so a report over several sensors' logs rates a
 * group as one sensor seeing all its connections would), taking the latest
 * `summary` per sensor and group from logs without flow events and summing
 * those across sensors, and printing the rows as a table, CSV or JSON (HTML
 * in reporthtml.c).  The rebuilt aggregator's group events come back
 * through an output (sn_aggregator_add_output) as the JSON the sensor would
 * have written, so every figure and reason is the sensor's.
 *
 * Bounds: lines longer than SN_REPORT_LINE_MAX and lines that are not JSON
 * events are skipped and counted (one warning at the end); the same
 * connection given twice (the same log twice) counts once.
 */
#include "report.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "addr.h"
#include "config.h"
#include "escape.h"
#include "pipeline.h"

#define SN_REPORT_LINE_MAX (1024 * 1024)
#define SN_EXIT_RUNTIME 1
#define SN_EXIT_USAGE 2

enum fmt { FMT_TABLE, FMT_CSV, FMT_JSON, FMT_HTML };

struct report {
	struct sn_config cfg;
	json_t *flows;         /* flow events of logs that have them */
	json_t *seen_flows;    /* "sensor|src|sport|dst|dport|first" -> true (duplicates) */
	json_t *summaries;     /* "sensor|key" -> latest summary, logs without flows */
	json_t *groups;        /* key -> latest alert/update of a rebuilt group still open */
	json_t *ended;         /* key -> its summaries, every instance added up (as replay's table) */
	uint64_t skipped_lines, duplicate_flows;
};

/* ---- small helpers ----------------------------------------------------- */

const char *sn_report_str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

uint64_t sn_report_uint(json_t *o, const char *k)
{
	json_int_t v = json_integer_value(json_object_get(o, k));
	return v > 0 ? (uint64_t)v : 0;
}

uint64_t sn_report_time_us(const char *s)
{
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	unsigned us = 0;
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%6uZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &us) != 7)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	time_t t = timegm(&tm);
	return t < 0 ? 0 : (uint64_t)t * 1000000u + us;
}

static enum sn_proto proto_of(const char *name)
{
	for (int p = SN_PROTO_MQTT; p < SN_PROTO_COUNT; p++)
		if (strcmp(name, sn_proto_name((enum sn_proto)p)) == 0)
			return (enum sn_proto)p;
	return SN_PROTO_NONE;
}

static enum sn_suspicion suspicion_of(const char *s)
{
	if (strcmp(s, "high") == 0)
		return SN_SUSP_HIGH;
	if (strcmp(s, "medium") == 0)
		return SN_SUSP_MEDIUM;
	return SN_SUSP_LOW;
}

/* The search's group key, as text: src|dest|port|Protocol|IsExternal|process. */
static void group_key(json_t *ev, char *out, size_t cap)
{
	json_t *pn = json_object_get(ev, "process_name");
	snprintf(out, cap, "%s|%s|%llu|%s|%s|%s", sn_report_str(ev, "src_ip"), sn_report_str(ev, "dest_ip"),
		 (unsigned long long)sn_report_uint(ev, "dest_port"), sn_report_str(ev, "Protocol"),
		 sn_report_str(ev, "IsExternal"), json_is_string(pn) ? json_string_value(pn) : "");
}

/* The key without IsExternal (a connection's group under any configuration). */
static void conn_key(json_t *ev, char *out, size_t cap)
{
	json_t *pn = json_object_get(ev, "process_name");
	snprintf(out, cap, "%s|%s|%llu|%s|%s", sn_report_str(ev, "src_ip"), sn_report_str(ev, "dest_ip"),
		 (unsigned long long)sn_report_uint(ev, "dest_port"), sn_report_str(ev, "Protocol"),
		 json_is_string(pn) ? json_string_value(pn) : "");
}

static void copy_json_str(char *dst, size_t cap, json_t *v)
{
	const char *s = json_string_value(v);
	snprintf(dst, cap, "%s", s ? s : "");
}

/* ---- reading logs ------------------------------------------------------ */

static void keep_summary(struct report *R, json_t *ev)
{
	char key[1024], skey[1200];
	if (json_object_get(ev, "allowed_by"))
		return; /* allow-listed connections: never a row, and not the same group */
	group_key(ev, key, sizeof key);
	snprintf(skey, sizeof skey, "%s|%s", sn_report_str(ev, "sensor"), key);
	json_t *old = json_object_get(R->summaries, skey);
	/* the latest per sensor and group: by timestamp, then by order in the log */
	if (old && strcmp(sn_report_str(old, "timestamp"), sn_report_str(ev, "timestamp")) > 0)
		return;
	json_object_set(R->summaries, skey, ev);
}

static void keep_flow(struct report *R, json_t *ev)
{
	char id[1200];
	snprintf(id, sizeof id, "%s|%s|%llu|%s|%llu|%s", sn_report_str(ev, "sensor"), sn_report_str(ev, "src_ip"),
		 (unsigned long long)sn_report_uint(ev, "src_port"), sn_report_str(ev, "dest_ip"),
		 (unsigned long long)sn_report_uint(ev, "dest_port"), sn_report_str(ev, "FirstSeen"));
	if (json_object_get(R->seen_flows, id)) {
		R->duplicate_flows++;
		return;
	}
	json_object_set_new(R->seen_flows, id, json_true());
	json_array_append(R->flows, ev);
}

/* Reads one log; 0, or -1 (message printed) when it cannot be read. */
static int read_log(struct report *R, const char *path, char *line)
{
	gzFile gz = gzopen(path, "rb");
	if (!gz) {
		fprintf(stderr, "pubsub-sensor: report: cannot open '%s': %s\n", path,
			errno ? strerror(errno) : "out of memory");
		return -1;
	}
	gzbuffer(gz, 256 * 1024);
	json_t *summaries = json_array();
	size_t flows = 0;
	while (gzgets(gz, line, SN_REPORT_LINE_MAX)) {
		size_t n = strlen(line);
		if (n == SN_REPORT_LINE_MAX - 1 && line[n - 1] != '\n') {
			R->skipped_lines++; /* too long: skip to its end */
			while (gzgets(gz, line, SN_REPORT_LINE_MAX) && line[strlen(line) - 1] != '\n')
				;
			continue;
		}
		json_t *ev = json_loadb(line, n, 0, NULL);
		const char *type = json_string_value(json_object_get(ev, "event_type"));
		if (!json_is_object(ev) || !type) {
			if (strspn(line, " \t\r\n") != n)
				R->skipped_lines++;
			json_decref(ev);
			continue;
		}
		if (strcmp(type, "flow") == 0 && proto_of(sn_report_str(ev, "Protocol")) != SN_PROTO_NONE) {
			keep_flow(R, ev);
			flows++;
		} else if (strcmp(type, "summary") == 0) {
			json_array_append(summaries, ev);
		}
		json_decref(ev);
	}
	int err = 0;
	const char *msg = gzerror(gz, &err);
	if (err != Z_OK && err != Z_BUF_ERROR) {
		fprintf(stderr, "pubsub-sensor: report: '%s' is damaged (%s); the events before it are used\n",
			path, msg);
	}
	gzclose(gz);
	if (flows == 0) { /* no flow events: this log's groups come from its summaries */
		size_t i;
		json_t *ev;
		json_array_foreach(summaries, i, ev)
			keep_summary(R, ev);
	}
	json_decref(summaries);
	return 0;
}

/* ---- flows back through the aggregator ---------------------------------- */

static enum sn_carrier carrier_of(const char *name)
{
	for (int c = SN_CARRIER_NONE; name && c <= SN_CARRIER_WEBSOCKET; c++) {
		const char *n = sn_carrier_name((enum sn_carrier)c);
		if (n && strcmp(n, name) == 0)
			return (enum sn_carrier)c;
	}
	return SN_CARRIER_NONE;
}

/* One metadata field (meta_fields.h) back from `details`. */
static void field_from(struct sn_meta *m, const struct sn_meta_field *f, json_t *d)
{
	char *p = (char *)m + f->off;
	char *aux = (char *)m + f->aux_off;
	json_t *v = f->json ? json_object_get(d, f->json) : NULL;

	if (!v)
		return;
	switch (f->kind) {
	case SN_MK_STR:
		copy_json_str(p, f->size, v);
		return;
	case SN_MK_LIST: {
		uint8_t *n = (uint8_t *)aux;
		for (size_t i = 0; i < json_array_size(v) && *n < f->items; i++, (*n)++)
			copy_json_str(p + *n * f->size, f->size, json_array_get(v, i));
		return;
	}
	case SN_MK_UINT:
		if (json_is_integer(v)) {
			*(bool *)aux = true;
			*(uint16_t *)p = (uint16_t)json_integer_value(v);
		}
		return;
	case SN_MK_BOOL:
		if (json_is_boolean(v)) {
			*(bool *)aux = true;
			*(bool *)p = json_is_true(v);
		}
		return;
	case SN_MK_FLAG:
		*(bool *)p = json_is_true(v);
		return;
	case SN_MK_CARRIER:
		*(enum sn_carrier *)p = carrier_of(json_string_value(v));
		return;
	case SN_MK_PAYLOADS:
		return; /* message bytes are evidence in the log, not read back for rating */
	}
}

void sn_report_meta_from(struct sn_meta *m, json_t *ev, enum sn_proto proto)
{
	json_t *d = json_object_get(ev, "details");
	json_t *cid = json_array_get(json_object_get(ev, "client_ids"), 0);
	m->proto = proto;
	m->has_client_id = json_is_string(cid); /* "" is a client id too */
	copy_json_str(m->client_id, sizeof m->client_id, cid);
	copy_json_str(m->user, sizeof m->user, json_array_get(json_object_get(ev, "Users"), 0));
	for (size_t i = 0; i < sn_meta_n_fields; i++)
		field_from(m, &sn_meta_fields[i], d);
	/* a ClientHello without a carrier name: TLS named by its port */
	if (m->carrier == SN_CARRIER_NONE && (m->tls_sni[0] || m->n_tls_alpn))
		m->carrier = SN_CARRIER_TLS;
}

static enum sn_evidence evidence_of(const char *s)
{
	if (strcmp(s, "payload") == 0)
		return SN_EVIDENCE_PAYLOAD;
	if (strcmp(s, "tls") == 0)
		return SN_EVIDENCE_TLS;
	if (strcmp(s, "refuted") == 0)
		return SN_EVIDENCE_REFUTED;
	return SN_EVIDENCE_PORT;
}

/*
 * A flow event's message_beacon back into the report's message figures, so
 * the rebuilt aggregator judges it with its own thresholds.  Values outside
 * what the sensor writes leave the figures empty.
 */
static void msgs_from(json_t *ev, struct sn_conn_msgs *m)
{
	json_t *b = json_object_get(ev, "message_beacon");
	const char *kind = sn_report_str(b, "kind");
	int k = strcmp(kind, "publish") == 0 ? SN_MSG_PUBLISH
		: strcmp(kind, "pingreq") == 0 || strcmp(kind, "heartbeat") == 0 ? SN_MSG_KEEPALIVE
					      : -1;
	double interval = json_number_value(json_object_get(b, "interval_s"));
	double jitter = json_number_value(json_object_get(b, "jitter"));
	uint64_t samples = sn_report_uint(b, "samples"), messages = sn_report_uint(b, "messages");

	if (k < 0 || !(interval > 0 && interval < 1e9) || !(jitter >= 0 && jitter <= 1) ||
	    samples == 0 || samples > UINT32_MAX || messages > UINT32_MAX)
		return;
	m->timing = SN_MSGT_FOLLOWED;
	m->messages[k] = (uint32_t)messages;
	m->rhythm[k].samples = (uint32_t)samples;
	m->rhythm[k].interval_ms = (uint64_t)(interval * 1000 + 0.5);
	m->rhythm[k].jitter_milli = (uint32_t)(jitter * 1000 + 0.5);
}

/* A flow event as the OPEN report of a connection with all its bytes. */
static bool report_from_flow(struct sn_aggregator *ag, json_t *ev, struct sn_conn_report *r)
{
	memset(r, 0, sizeof *r);
	r->kind = SN_REPORT_OPEN;
	r->first_us = sn_report_time_us(sn_report_str(ev, "FirstSeen"));
	r->last_us = sn_report_time_us(sn_report_str(ev, "LastSeen"));
	r->ts_us = r->first_us;
	if (!r->first_us || !sn_addr_parse(sn_report_str(ev, "src_ip"), &r->client) ||
	    !sn_addr_parse(sn_report_str(ev, "dest_ip"), &r->server))
		return false;
	r->client_port = (uint16_t)sn_report_uint(ev, "src_port");
	r->server_port = (uint16_t)sn_report_uint(ev, "dest_port");
	r->proto = proto_of(sn_report_str(ev, "Protocol"));
	bool tls = false;
	r->port_proto = sn_aggregator_port_proto(ag, r->server_port, &tls);
	r->port_is_tls = tls;
	r->evidence = evidence_of(sn_report_str(ev, "evidence"));
	r->bytes[SN_DIR_C2S] = r->bytes_delta[SN_DIR_C2S] = sn_report_uint(ev, "BytesSent");
	r->bytes[SN_DIR_S2C] = r->bytes_delta[SN_DIR_S2C] = sn_report_uint(ev, "BytesReceived");
	r->packets[SN_DIR_C2S] = r->packets_delta[SN_DIR_C2S] = sn_report_uint(ev, "PacketsSent");
	r->packets[SN_DIR_S2C] = r->packets_delta[SN_DIR_S2C] = sn_report_uint(ev, "PacketsReceived");
	r->flow_id = sn_report_uint(ev, "flow_id");
	r->meta_changed = true;
	copy_json_str(r->process_name, sizeof r->process_name, json_object_get(ev, "process_name"));
	sn_report_meta_from(&r->meta, ev, r->proto);
	msgs_from(ev, &r->msgs);
	return true;
}

static void sum_into(json_t *row, json_t *s);

/*
 * The rebuilt aggregator's output.  A group's summary ends it; a key that
 * comes back (a group evicted when tables.max_groups is full) adds its next
 * summary to the first, as the replay's table adds up every instance.
 */
static void collect_group(void *ctx, const char *type, const char *line, size_t len, uint64_t ts)
{
	struct report *R = ctx;
	(void)ts;
	if (strcmp(type, "alert") && strcmp(type, "update") && strcmp(type, "summary"))
		return;
	json_t *ev = json_loadb(line, len, 0, NULL);
	if (!ev)
		return;
	char key[1024];
	group_key(ev, key, sizeof key);
	if (strcmp(type, "summary") != 0) {
		json_object_set_new(R->groups, key, ev);
		return;
	}
	json_object_del(R->groups, key);
	json_t *prev = json_object_get(R->ended, key);
	if (prev) {
		sum_into(prev, ev);
		json_decref(ev);
	} else {
		json_object_set_new(R->ended, key, ev);
	}
}

static int cmp_flow_time(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int c = strcmp(sn_report_str(x, "FirstSeen"), sn_report_str(y, "FirstSeen"));
	return c ? c : strcmp(sn_report_str(x, "LastSeen"), sn_report_str(y, "LastSeen"));
}

static int rebuild_from_flows(struct report *R)
{
	size_t n = json_array_size(R->flows);
	if (n == 0)
		return 0;
	char err[512];
	struct sn_config cfg = R->cfg;
	cfg.output.flows = false;
	cfg.tables.group_window = 0; /* as a replay: the search's stats has no window */
	cfg.output.syslog.target[0] = '\0';
	struct sn_aggregator *ag = sn_aggregator_create(&cfg, NULL, false, err, sizeof err);
	if (!ag) {
		fprintf(stderr, "pubsub-sensor: report: %s\n", err);
		return -1;
	}
	sn_aggregator_add_output(ag, collect_group, R);
	json_t **v = malloc(n * sizeof *v);
	if (!v) {
		sn_aggregator_destroy(ag);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		v[i] = json_array_get(R->flows, i);
	qsort(v, n, sizeof *v, cmp_flow_time); /* one timeline, as one sensor would see it */
	uint64_t last = 0;
	for (size_t i = 0; i < n; i++) {
		struct sn_conn_report r;
		if (!report_from_flow(ag, v[i], &r)) {
			R->skipped_lines++;
			continue;
		}
		sn_aggregator_tick(ag, r.ts_us);
		sn_aggregator_report(ag, &r);
		if (r.last_us > last)
			last = r.last_us;
	}
	free(v);
	sn_aggregator_tick(ag, last);
	uint64_t now = sn_aggregator_now(ag);
	sn_aggregator_flush(ag, now > last ? now : last);
	sn_aggregator_destroy(ag);
	return 0;
}

/* ---- rows -------------------------------------------------------------- */

static void add_unique(json_t *arr, json_t *v)
{
	size_t i;
	json_t *x;
	json_array_foreach(arr, i, x)
		if (json_equal(x, v))
			return;
	json_array_append(arr, v);
}

static int cmp_str_json(const void *a, const void *b)
{
	return strcmp(json_string_value(*(json_t *const *)a), json_string_value(*(json_t *const *)b));
}

void sn_report_sort(json_t *arr, int (*cmp)(const void *, const void *))
{
	size_t n = json_array_size(arr);
	if (n < 2)
		return;
	json_t **v = malloc(n * sizeof *v);
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(arr, i));
	qsort(v, n, sizeof *v, cmp);
	json_array_clear(arr);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, v[i]);
	free(v);
}

static void sort_strings(json_t *arr)
{
	sn_report_sort(arr, cmp_str_json);
}

static const char *const row_fields[] = {
	"FirstSeen", "LastSeen", "src_ip", "dest_ip", "Protocol", "dest_port", "IsExternal",
	"process_name", "Users", "ConnectionCount", "BytesSent", "BytesReceived", "Suspicion",
	"evidence", "reasons",
};

static json_t *row_from_group(json_t *g)
{
	json_t *row = json_object();
	for (size_t i = 0; i < sizeof row_fields / sizeof row_fields[0]; i++) {
		json_t *v = json_object_get(g, row_fields[i]);
		json_object_set(row, row_fields[i], v ? v : json_null());
	}
	json_object_set_new(row, "sensors", json_array());
	json_object_set_new(row, "connections", json_array());
	return row;
}

/* A summary added into a row of the same group from another sensor. */
static void sum_into(json_t *row, json_t *s)
{
	const char *n[] = { "ConnectionCount", "BytesSent", "BytesReceived" };
	for (size_t i = 0; i < 3; i++)
		json_object_set_new(row, n[i], json_integer((json_int_t)(sn_report_uint(row, n[i]) + sn_report_uint(s, n[i]))));
	if (strcmp(sn_report_str(s, "FirstSeen"), sn_report_str(row, "FirstSeen")) < 0)
		json_object_set(row, "FirstSeen", json_object_get(s, "FirstSeen"));
	if (strcmp(sn_report_str(s, "LastSeen"), sn_report_str(row, "LastSeen")) > 0)
		json_object_set(row, "LastSeen", json_object_get(s, "LastSeen"));
	if (suspicion_of(sn_report_str(s, "Suspicion")) > suspicion_of(sn_report_str(row, "Suspicion")))
		json_object_set(row, "Suspicion", json_object_get(s, "Suspicion"));
	size_t i;
	json_t *x;
	json_array_foreach(json_object_get(s, "Users"), i, x)
		add_unique(json_object_get(row, "Users"), x);
	json_array_foreach(json_object_get(s, "reasons"), i, x)
		add_unique(json_object_get(row, "reasons"), x);
	sort_strings(json_object_get(row, "Users"));
}

static json_t *build_rows(struct report *R)
{
	json_t *rows = json_object(); /* key -> row */
	const char *key;
	json_t *g;
	json_t *sets[2] = { R->ended, R->groups }; /* after the flush every group has ended */
	for (int s = 0; s < 2; s++) {
		json_object_foreach(sets[s], key, g) {
			if (json_object_get(rows, key))
				continue;
			json_t *row = row_from_group(g);
			json_object_set_new(row, "source", json_string("flows"));
			json_object_set_new(rows, key, row);
		}
	}
	json_object_foreach(R->summaries, key, g) {
		char k[1024];
		group_key(g, k, sizeof k);
		json_t *row = json_object_get(rows, k);
		if (!row) {
			row = row_from_group(g);
			json_object_set_new(row, "Users", json_deep_copy(json_object_get(g, "Users")));
			json_object_set_new(row, "reasons", json_deep_copy(json_object_get(g, "reasons")));
			json_object_set_new(row, "source", json_string("summaries"));
			json_object_set_new(rows, k, row);
		} else {
			sum_into(row, g);
		}
		add_unique(json_object_get(row, "sensors"), json_object_get(g, "sensor"));
	}
	/* each connection (flow event) to its group, for the timeline and the sensor list */
	json_t *by_conn = json_object();
	json_t *row;
	json_object_foreach(rows, key, row) {
		char ck[1024];
		conn_key(row, ck, sizeof ck);
		json_object_set(by_conn, ck, row);
	}
	size_t i;
	json_t *f;
	json_array_foreach(R->flows, i, f) {
		char ck[1024];
		conn_key(f, ck, sizeof ck);
		row = json_object_get(by_conn, ck);
		if (!row)
			continue;
		json_t *c = json_object();
		json_object_set(c, "sensor", json_object_get(f, "sensor"));
		json_object_set(c, "FirstSeen", json_object_get(f, "FirstSeen"));
		json_object_set(c, "LastSeen", json_object_get(f, "LastSeen"));
		json_object_set(c, "BytesSent", json_object_get(f, "BytesSent"));
		json_object_set(c, "BytesReceived", json_object_get(f, "BytesReceived"));
		json_array_append_new(json_object_get(row, "connections"), c);
		add_unique(json_object_get(row, "sensors"), json_object_get(f, "sensor"));
	}
	json_decref(by_conn);
	json_t *out = json_array();
	json_object_foreach(rows, key, row) {
		sort_strings(json_object_get(row, "sensors"));
		bool met = sn_report_uint(row, "ConnectionCount") >= R->cfg.rules.min_connections &&
			   suspicion_of(sn_report_str(row, "Suspicion")) >= R->cfg.rules.min_suspicion;
		if (met)
			json_array_append(out, row);
	}
	json_decref(rows);
	return out;
}

/* The search's order: Suspicion (high first), - ConnectionCount, then the key. */
static int cmp_rows(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	enum sn_suspicion sx = suspicion_of(sn_report_str(x, "Suspicion")), sy = suspicion_of(sn_report_str(y, "Suspicion"));
	if (sx != sy)
		return sx > sy ? -1 : 1;
	uint64_t cx = sn_report_uint(x, "ConnectionCount"), cy = sn_report_uint(y, "ConnectionCount");
	if (cx != cy)
		return cx > cy ? -1 : 1;
	int c = strcmp(sn_report_str(x, "FirstSeen"), sn_report_str(y, "FirstSeen"));
	if (c)
		return c;
	char kx[1024], ky[1024];
	group_key(x, kx, sizeof kx);
	group_key(y, ky, sizeof ky);
	return strcmp(kx, ky);
}

static void sort_rows(json_t *rows)
{
	sn_report_sort(rows, cmp_rows);
}

/* ---- table, CSV, JSON -------------------------------------------------- */

enum { N_COLS = 13 };
/* JSON and CSV name the fields; the text table heads its times as the replay's does */
static const char *const table_heads[2] = { "FirstSeen (UTC)", "LastSeen (UTC)" };
static const char *const cols[N_COLS] = {
	"FirstSeen", "LastSeen", "src_ip", "dest_ip", "Protocol", "dest_port", "IsExternal",
	"process_name", "Users", "ConnectionCount", "BytesSent", "BytesReceived", "Suspicion",
};

static bool col_numeric(int c)
{
	return c == 5 || c == 9 || c == 10 || c == 11;
}

/*
 * One cell's text, unescaped (the writer escapes): times as the replay
 * table shows them, a null process and no users as "-", users joined by ",".
 */
static void cell_text(json_t *row, int c, char *out, size_t cap, bool table)
{
	json_t *v = json_object_get(row, cols[c]);
	out[0] = '\0';
	if (json_is_integer(v)) {
		snprintf(out, cap, "%lld", (long long)json_integer_value(v));
	} else if (json_is_string(v)) {
		snprintf(out, cap, "%s", json_string_value(v));
		if (table && c <= 1 && strlen(out) == 27) { /* 2026-11-28T01:02:03.123456Z */
			out[10] = ' ';
			out[26] = '\0';
		}
	} else if (json_is_array(v)) {
		size_t i, len = 0;
		json_t *x;
		json_array_foreach(v, i, x) {
			int k = snprintf(out + len, cap - len, "%s%s", i ? "," : "", json_string_value(x));
			if (k < 0 || (size_t)k >= cap - len)
				break;
			len += (size_t)k;
		}
	}
	if (table && out[0] == '\0')
		snprintf(out, cap, "-");
}

#define CELL_CAP 8192

static void print_table(FILE *out, json_t *rows)
{
	size_t n = json_array_size(rows), width[N_COLS];
	char raw[CELL_CAP], cell[CELL_CAP];
	if (n == 0) {
		fprintf(out, "no group met the rule in these logs\n");
		return;
	}
	for (int c = 0; c < N_COLS; c++)
		width[c] = strlen(c < 2 ? table_heads[c] : cols[c]);
	for (size_t i = 0; i < n; i++)
		for (int c = 0; c < N_COLS; c++) {
			size_t w;
			cell_text(json_array_get(rows, i), c, raw, sizeof raw, true);
			sn_escape_text(raw, strlen(raw), cell, sizeof cell, &w);
			if (w > width[c])
				width[c] = w;
		}
	for (int c = 0; c < N_COLS; c++)
		fprintf(out, "%s%-*s", c ? "  " : "", c == N_COLS - 1 ? 0 : (int)width[c],
			c < 2 ? table_heads[c] : cols[c]);
	fputc('\n', out);
	for (size_t i = 0; i < n; i++) {
		for (int c = 0; c < N_COLS; c++) {
			size_t w;
			cell_text(json_array_get(rows, i), c, raw, sizeof raw, true);
			sn_escape_text(raw, strlen(raw), cell, sizeof cell, &w);
			size_t fill = width[c] > w ? width[c] - w : 0;
			if (c)
				fputs("  ", out);
			if (col_numeric(c))
				fprintf(out, "%*s", (int)fill, "");
			fputs(cell, out);
			if (!col_numeric(c) && c != N_COLS - 1)
				fprintf(out, "%*s", (int)fill, "");
		}
		fputc('\n', out);
	}
}

/*
 * RFC 4180 field; a value a spreadsheet would run as a formula gets a leading '.
 * Control and invisible characters are spelled out first, as in the table
 * (escape.h), so no field can move a terminal's cursor when the file is shown.
 */
static void csv_field(FILE *out, const char *raw)
{
	static char text[4 * CELL_CAP + 1];
	sn_escape_text(raw, strlen(raw), text, sizeof text, NULL);
	const char *s = text;
	bool formula = s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' ||
		       s[0] == '\r';
	fputc('"', out);
	if (formula)
		fputc('\'', out);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

static void print_csv(FILE *out, json_t *rows)
{
	char cell[CELL_CAP];
	for (int c = 0; c < N_COLS; c++)
		fprintf(out, "%s%s", c ? "," : "", cols[c]);
	fputs(",reasons,sensors\r\n", out);
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row) {
		for (int c = 0; c < N_COLS; c++) {
			if (c)
				fputc(',', out);
			cell_text(row, c, cell, sizeof cell, false);
			csv_field(out, cell);
		}
		const char *lists[] = { "reasons", "sensors" };
		for (int k = 0; k < 2; k++) {
			size_t j, len = 0;
			json_t *x;
			cell[0] = '\0';
			json_array_foreach(json_object_get(row, lists[k]), j, x) {
				int m = snprintf(cell + len, sizeof cell - len, "%s%s", j ? "; " : "",
						 json_string_value(x));
				if (m < 0 || (size_t)m >= sizeof cell - len)
					break;
				len += (size_t)m;
			}
			fputc(',', out);
			csv_field(out, cell);
		}
		fputs("\r\n", out);
	}
}

/* ---- command line ------------------------------------------------------ */

static int usage_error(const char *msg, const char *arg)
{
	fprintf(stderr, "pubsub-sensor: report: %s%s%s%s\n", msg, arg ? " '" : "", arg ? arg : "",
		arg ? "'" : "");
	fprintf(stderr, "usage: pubsub-sensor report [--format table|csv|json|html] [-c CONFIG] "
			"[-o FILE] [--min-connections N] [--min-suspicion LEVEL] EVENTS.json...\n");
	return SN_EXIT_USAGE;
}

static int write_output(json_t *rows, enum fmt f, const char *path, char **logs, size_t n_logs)
{
	FILE *out = stdout;
	if (path && strcmp(path, "-") != 0) {
		out = fopen(path, "w");
		if (!out) {
			fprintf(stderr, "pubsub-sensor: report: cannot write '%s': %s\n", path, strerror(errno));
			return SN_EXIT_RUNTIME;
		}
	}
	switch (f) {
	case FMT_TABLE: print_table(out, rows); break;
	case FMT_CSV: print_csv(out, rows); break;
	case FMT_JSON:
		json_dumpf(rows, out, JSON_INDENT(1) | JSON_ENSURE_ASCII);
		fputc('\n', out);
		break;
	case FMT_HTML: sn_report_html(out, rows, logs, n_logs); break;
	}
	int bad = fflush(out) != 0 || ferror(out);
	if (out != stdout)
		bad |= fclose(out) != 0;
	if (bad) {
		fprintf(stderr, "pubsub-sensor: report: cannot write the report: %s\n", strerror(errno));
		return SN_EXIT_RUNTIME;
	}
	return 0;
}

int sn_report_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "config", required_argument, NULL, 'c' },
		{ "output", required_argument, NULL, 'o' },
		{ "min-connections", required_argument, NULL, 'm' },
		{ "min-suspicion", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum fmt f = FMT_TABLE;
	const char *config = NULL, *output = NULL;
	unsigned long min_conns = 0;
	int min_susp = -1;
	int ch;
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":f:c:o:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			if (strcmp(optarg, "table") == 0) f = FMT_TABLE;
			else if (strcmp(optarg, "csv") == 0) f = FMT_CSV;
			else if (strcmp(optarg, "json") == 0) f = FMT_JSON;
			else if (strcmp(optarg, "html") == 0) f = FMT_HTML;
			else return usage_error("--format is table, csv, json or html, not", optarg);
			break;
		case 'c': config = optarg; break;
		case 'm': {
			char *end;
			errno = 0;
			min_conns = strtoul(optarg, &end, 10);
			if (optarg[0] < '0' || optarg[0] > '9' || *end || errno || min_conns < 1 ||
			    min_conns > 1000000000)
				return usage_error("--min-connections wants a whole number from 1 to "
						   "1000000000, not", optarg);
			break;
		}
		case 's':
			if (strcmp(optarg, "low") == 0) min_susp = SN_SUSP_LOW;
			else if (strcmp(optarg, "medium") == 0) min_susp = SN_SUSP_MEDIUM;
			else if (strcmp(optarg, "high") == 0) min_susp = SN_SUSP_HIGH;
			else return usage_error("--min-suspicion is low, medium or high, not", optarg);
			break;
		case 'o': output = optarg; break;
		case 'h':
			printf("usage: pubsub-sensor report [--format table|csv|json|html] [-c CONFIG] [-o FILE]\n"
			       "                            [--min-connections N] [--min-suspicion LEVEL] EVENTS.json...\n"
			       "Rebuilds the search's groups from the flow events of one or many sensors' event\n"
			       "logs (gzip'd too) with the rules of CONFIG; logs without flow events give their\n"
			       "latest summary per sensor and group, summed across sensors.\n");
			return 0;
		case ':': return usage_error("missing argument for", argv[optind - 1]);
		default: return usage_error("unknown option", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return usage_error("give one or more event logs", NULL);

	static struct report R;
	memset(&R, 0, sizeof R);
	sn_config_defaults(&R.cfg);
	if (config) {
		struct sn_error err;
		if (sn_config_load_file(&R.cfg, config, &err) != 0) {
			char line[1024];
			sn_error_format(&err, line, sizeof line);
			fprintf(stderr, "pubsub-sensor: %s\n", line);
			return SN_EXIT_USAGE;
		}
	}
	if (min_conns) /* as replay's options: they replace the configuration's rule */
		R.cfg.rules.min_connections = (uint32_t)min_conns;
	if (min_susp >= 0)
		R.cfg.rules.min_suspicion = (enum sn_suspicion)min_susp;
	R.flows = json_array();
	R.seen_flows = json_object();
	R.summaries = json_object();
	R.groups = json_object();
	R.ended = json_object();
	char *line = malloc(SN_REPORT_LINE_MAX);
	int code = 0;
	if (!line) {
		fprintf(stderr, "pubsub-sensor: report: out of memory\n");
		return SN_EXIT_RUNTIME;
	}
	for (int i = optind; i < argc && code == 0; i++)
		if (read_log(&R, argv[i], line) != 0)
			code = SN_EXIT_RUNTIME;
	free(line);
	if (code == 0 && rebuild_from_flows(&R) != 0)
		code = SN_EXIT_RUNTIME;
	if (code == 0) {
		if (R.skipped_lines)
			fprintf(stderr, "pubsub-sensor: report: %llu lines were not events and were skipped\n",
				(unsigned long long)R.skipped_lines);
		if (R.duplicate_flows)
			fprintf(stderr, "pubsub-sensor: report: %llu flow events seen twice counted once\n",
				(unsigned long long)R.duplicate_flows);
		json_t *rows = build_rows(&R);
		sort_rows(rows);
		code = write_output(rows, f, output, argv + optind, (size_t)(argc - optind));
		json_decref(rows);
	}
	json_decref(R.flows);
	json_decref(R.seen_flows);
	json_decref(R.summaries);
	json_decref(R.groups);
	json_decref(R.ended);
	return code;
}
