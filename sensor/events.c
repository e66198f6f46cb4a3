/*
 * events.c - the output contract's JSON Lines events (shared/spec/README.md,
 * events.schema.json).
 *
 * Owns the exact text of every event: alert/update/summary for one group,
 * flow for one connection, stats for the sensor's health.  Field order is
 * fixed (timestamp, event_type, sensor, then the fields in the spec's order)
 * and nothing depends on the wall clock or on pointer order, so the same
 * input always gives byte-identical lines.  Also owns the names of the
 * evidence and close-reason enums declared in conn.h.
 */
#include "events.h"

#include <string.h>

#include "communityid.h"
#include "decode.h"
#include "escape.h"
#include "json.h"

/* MITRE ATT&CK: Application Layer Protocol: Publish/Subscribe Protocols. */
#define SN_MITRE_TECHNIQUE "T1071.005"
/* Version of the output contract (tests/spec) these events follow. */
#define SN_SCHEMA_VERSION 2

const char *sn_evidence_name(enum sn_evidence e)
{
	switch (e) {
	case SN_EVIDENCE_PORT:
		return "port";
	case SN_EVIDENCE_TLS:
		return "tls";
	case SN_EVIDENCE_PAYLOAD:
		return "payload";
	case SN_EVIDENCE_REFUTED:
		return "refuted";
	}
	return "port";
}

const char *sn_close_reason_name(enum sn_close_reason r)
{
	switch (r) {
	case SN_CLOSE_FIN:
		return "fin";
	case SN_CLOSE_RST:
		return "rst";
	case SN_CLOSE_TIMEOUT:
		return "timeout";
	case SN_CLOSE_EVICTED:
		return "evicted";
	case SN_CLOSE_SHUTDOWN:
		return "shutdown";
	case SN_CLOSE_END_OF_INPUT:
	case SN_CLOSE_NONE: /* a flow event is only written once it ended */
		break;
	}
	return "end_of_input";
}

void sn_events_init(struct sn_events *ev, const char *sensor, struct sn_eventlog *log)
{
	ev->sensor = sensor;
	ev->log = log;
	ev->dropped_overflow = 0;
	ev->community_id_seed = 0;
	ev->n_outputs = 0;
	ev->line[0] = '\0';
}

int sn_events_add_output(struct sn_events *ev, const struct sn_event_output *o)
{
	if (ev->n_outputs == SN_EVENT_OUTPUTS)
		return -1;
	ev->outputs[ev->n_outputs++] = *o;
	return 0;
}

static void key_field(struct sn_json *j, const char *key, const char *s, size_t cap)
{
	if (cap == 0 || s[0] == '\0')
		return; /* empty means absent (most metadata fields): no strnlen for them */
	size_t n = strnlen(s, cap);
	sn_json_key(j, key);
	sn_json_string_n(j, s, n);
}

static void key_addr(struct sn_json *j, const char *key, const struct sn_addr *a)
{
	char text[SN_ADDR_STRLEN];

	sn_addr_format(a, text);
	sn_json_key(j, key);
	sn_json_string(j, text);
}

/* dest_host: the server's name, or null (contract version 2). */
static void key_host(struct sn_json *j, const char *host, size_t cap)
{
	size_t n = strnlen(host, cap);

	sn_json_key(j, "dest_host");
	if (n)
		sn_json_string_n(j, host, n);
	else
		sn_json_null(j);
}

static void key_process(struct sn_json *j, const char *name, size_t cap)
{
	size_t n = strnlen(name, cap);

	sn_json_key(j, "process_name");
	if (n)
		sn_json_string_n(j, name, n);
	else
		sn_json_null(j);
}

static void begin_event(struct sn_json *j, struct sn_events *ev, const char *type,
			uint64_t ts_us)
{
	sn_json_init(j, ev->line, sizeof(ev->line));
	sn_json_object_begin(j);
	sn_json_key(j, "timestamp");
	sn_json_time(j, ts_us);
	sn_json_key(j, "event_type");
	sn_json_string(j, type);
	sn_json_key(j, "sensor");
	sn_json_string(j, ev->sensor ? ev->sensor : "");
	sn_json_key(j, "schema_version");
	sn_json_uint(j, SN_SCHEMA_VERSION);
}

/*
 * details.payloads (output.payload_bytes): per kept message its topic or
 * destination when listed, its size on the wire, the bytes kept as text
 * with every byte that is not printable UTF-8 written as \xNN (escape.h),
 * and whether that is less than the whole payload.
 */
static void payloads_field(struct sn_json *j, const char *key, const struct sn_meta *m)
{
	const struct sn_meta_payloads *ps = &m->payloads;
	size_t n = ps->n < SN_META_PAYLOADS ? ps->n : SN_META_PAYLOADS;
	char text[SN_META_PAYLOAD_MAX * 4 + 1];

	if (n == 0)
		return;
	sn_json_key(j, key);
	sn_json_array_begin(j);
	for (size_t i = 0; i < n; i++) {
		const struct sn_meta_payload *it = &ps->item[i];
		size_t len = it->len <= SN_META_PAYLOAD_MAX ? it->len : 0;
		if ((size_t)it->off + len > SN_META_PAYLOAD_POOL)
			len = 0;
		sn_escape_text((const char *)ps->pool + (len ? it->off : 0), len, text, sizeof text, NULL);
		sn_json_object_begin(j);
		if (it->topic < m->n_topics && it->topic < SN_META_TOPICS) {
			sn_json_key(j, "topic");
			sn_json_string_n(j, m->topics[it->topic],
					 strnlen(m->topics[it->topic], sizeof m->topics[it->topic]));
		}
		sn_json_key(j, "size");
		sn_json_uint(j, it->size);
		sn_json_key(j, "text");
		sn_json_string(j, text);
		sn_json_key(j, "truncated");
		sn_json_bool(j, it->cut || len < it->len);
		sn_json_object_end(j);
	}
	sn_json_array_end(j);
}

/* One metadata field (meta_fields.h) into `details`, when present. */
static void meta_field(struct sn_json *j, const struct sn_meta_field *f, const struct sn_meta *m)
{
	const char *p = (const char *)m + f->off;
	const char *aux = (const char *)m + f->aux_off;

	if (!f->json)
		return;
	switch (f->kind) {
	case SN_MK_STR:
		key_field(j, f->json, p, f->size);
		return;
	case SN_MK_LIST: {
		size_t n = *(const uint8_t *)aux < f->items ? *(const uint8_t *)aux : f->items;
		if (n == 0)
			return;
		sn_json_key(j, f->json);
		sn_json_array_begin(j);
		for (size_t i = 0; i < n; i++)
			sn_json_string_n(j, p + i * f->size, strnlen(p + i * f->size, f->size));
		sn_json_array_end(j);
		return;
	}
	case SN_MK_UINT:
		if (*(const bool *)aux) {
			sn_json_key(j, f->json);
			sn_json_uint(j, *(const uint16_t *)p);
		}
		return;
	case SN_MK_BOOL:
		if (*(const bool *)aux) {
			sn_json_key(j, f->json);
			sn_json_bool(j, *(const bool *)p);
		}
		return;
	case SN_MK_FLAG:
		if (*(const bool *)p) {
			sn_json_key(j, f->json);
			sn_json_bool(j, true);
		}
		return;
	case SN_MK_CARRIER: {
		const char *name = sn_carrier_name(*(const enum sn_carrier *)p);
		if (name) {
			sn_json_key(j, f->json);
			sn_json_string(j, name);
		}
		return;
	}
	case SN_MK_PAYLOADS:
		payloads_field(j, f->json, m);
		return;
	}
}

static void meta_fields(struct sn_json *j, const struct sn_meta *m, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		meta_field(j, &sn_meta_fields[i], m);
}

/* details.tunnel: the encapsulations removed, outermost first ("vxlan:5001"). */
static void tunnel_details(struct sn_json *j, const uint32_t *layers, uint8_t n)
{
	char text[SN_LAYER_STRLEN];
	if (n == 0)
		return;
	sn_json_key(j, "tunnel");
	sn_json_array_begin(j);
	for (uint8_t i = 0; i < n && i < SN_CONN_TUNNEL_MAX; i++) {
		sn_layer_format(layers[i], text);
		sn_json_string_n(j, text, strlen(text));
	}
	sn_json_array_end(j);
}

/* Host attribution: the process behind the connection (contract version 2). */
static void process_details(struct sn_json *j, uint32_t pid, const char *exe, size_t exe_cap,
			    const char *user, size_t user_cap)
{
	if (pid == 0)
		return;
	sn_json_key(j, "process_pid");
	sn_json_uint(j, pid);
	key_field(j, "process_exe", exe, exe_cap);
	key_field(j, "process_user", user, user_cap);
}

/* Why a connection's client messages were not timed to its end, if they were not. */
static void timing_cut(struct sn_json *j, uint8_t timing)
{
	const char *why = timing == SN_MSGT_GAP         ? "sequence_gap"
			  : timing == SN_MSGT_MALFORMED ? "malformed"
			  : timing == SN_MSGT_NO_STATE  ? "no_state"
			  : timing == SN_MSGT_RECLAIMED ? "reclaimed"
							: NULL;
	if (!why)
		return;
	sn_json_key(j, "message_timing_cut");
	sn_json_string(j, why);
}

/* A group's findings beyond the connection's meta (contract version 2). */
static void group_details(struct sn_json *j, const struct sn_group *g)
{
	if (!g)
		return;
	process_details(j, g->process_pid, g->process_exe, sizeof(g->process_exe), g->process_user,
			sizeof(g->process_user));
	if (g->public_broker) {
		sn_json_key(j, "public_broker");
		sn_json_string_n(j, g->dest_host, strnlen(g->dest_host, sizeof(g->dest_host)));
	}
	if (g->command_topics == 0)
		return;
	sn_json_key(j, "command_topics");
	sn_json_array_begin(j);
	for (size_t i = 0; i < SN_META_TOPICS && i < g->details.n_topics; i++)
		if (g->command_topics & (1u << i))
			sn_json_string_n(j, g->details.topics[i],
					 strnlen(g->details.topics[i], sizeof(g->details.topics[i])));
	sn_json_array_end(j);
}

/*
 * `details`: only the keys that are present, in the order of meta_fields.h.
 * layers/n_layers: a connection's tunnel (flow events), or NULL/0; g: a group's;
 * r: a flow's report (its process), or NULL.
 */
static void key_details(struct sn_json *j, const struct sn_meta *m, const uint32_t *layers,
			uint8_t n_layers, const struct sn_group *g, const struct sn_conn_report *r)
{
	sn_json_key(j, "details");
	sn_json_object_begin(j);
	meta_fields(j, m, 0, sn_meta_n_proto_fields);
	tunnel_details(j, layers, n_layers);
	meta_fields(j, m, sn_meta_n_proto_fields, sn_meta_n_fields);
	if (r) {
		process_details(j, r->process_pid, r->process_exe, sizeof(r->process_exe),
				r->process_user, sizeof(r->process_user));
		timing_cut(j, r->msgs.timing);
	}
	group_details(j, g);
	sn_json_object_end(j);
}

static void key_names(struct sn_json *j, const char *key, const char (*names)[SN_GROUP_NAME_LEN],
		      size_t n)
{
	sn_json_key(j, key);
	sn_json_array_begin(j);
	for (size_t i = 0; i < n && i < SN_GROUP_NAMES; i++)
		sn_json_string_n(j, names[i], strnlen(names[i], SN_GROUP_NAME_LEN));
	sn_json_array_end(j);
}

/* A one-element (or empty) array from one connection's string. */
static void key_single(struct sn_json *j, const char *key, const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);

	sn_json_key(j, key);
	sn_json_array_begin(j);
	if (n)
		sn_json_string_n(j, s, n);
	sn_json_array_end(j);
}

/* client_ids of one MQTT connection: its client id, "" when the CONNECT's was empty. */
static void key_client_id(struct sn_json *j, const struct sn_meta *m)
{
	sn_json_key(j, "client_ids");
	sn_json_array_begin(j);
	if (m && (m->has_client_id || m->client_id[0]))
		sn_json_string_n(j, m->client_id, strnlen(m->client_id, sizeof(m->client_id)));
	sn_json_array_end(j);
}

static void key_uint(struct sn_json *j, const char *key, uint64_t v)
{
	sn_json_key(j, key);
	sn_json_uint(j, v);
}

static void key_string(struct sn_json *j, const char *key, const char *v)
{
	sn_json_key(j, key);
	sn_json_string(j, v);
}

static void key_reasons(struct sn_json *j, const struct sn_rating *r)
{
	size_t n = r->n_reasons < SN_REASONS_MAX ? r->n_reasons : SN_REASONS_MAX;

	sn_json_key(j, "reasons");
	sn_json_array_begin(j);
	for (size_t i = 0; i < n; i++)
		sn_json_string_n(j, r->reasons[i], strnlen(r->reasons[i], sizeof(r->reasons[i])));
	sn_json_array_end(j);
}

static size_t finish(struct sn_json *j)
{
	sn_json_object_end(j);
	return sn_json_finish_line(j);
}

/* The group's connections' flow ids (at most SN_GROUP_FLOW_IDS). */
static void key_flow_ids(struct sn_json *j, const struct sn_group *g)
{
	size_t n = g->n_flow_ids < SN_GROUP_FLOW_IDS ? g->n_flow_ids : SN_GROUP_FLOW_IDS;

	sn_json_key(j, "flow_ids");
	sn_json_array_begin(j);
	for (size_t i = 0; i < n; i++)
		sn_json_uint(j, g->flow_ids[i]);
	sn_json_array_end(j);
}

/* `truncated`: the list fields that hit their cap, in the contract's order. */
static void key_truncated(struct sn_json *j, uint8_t bits)
{
	static const struct {
		uint8_t bit;
		const char *name;
	} lists[] = {
		{ SN_TRUNC_USERS, "Users" },
		{ SN_TRUNC_CLIENT_IDS, "client_ids" },
		{ SN_TRUNC_TOPICS, "topics" },
		{ SN_TRUNC_FLOW_IDS, "flow_ids" },
	};

	sn_json_key(j, "truncated");
	sn_json_array_begin(j);
	for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
		if (bits & lists[i].bit)
			sn_json_string(j, lists[i].name);
	sn_json_array_end(j);
}

/* A beacon object's measure: `{"interval_s":..,"jitter":..,"samples":..` (left open). */
static void beacon_fields(struct sn_json *j, const struct sn_beacon *b)
{
	sn_json_object_begin(j);
	sn_json_key(j, "interval_s");
	sn_json_milli(j, b->interval_ms);
	sn_json_key(j, "jitter");
	sn_json_milli(j, b->jitter_milli);
	key_uint(j, "samples", b->samples);
}

/* `message_beacon`: a beacon object with the kind of message and how many were sent (left open). */
static void message_beacon(struct sn_json *j, enum sn_proto proto, enum sn_msg_kind kind,
			   const struct sn_beacon *b, uint32_t messages)
{
	sn_json_key(j, "message_beacon");
	beacon_fields(j, b);
	key_string(j, "kind", sn_msg_kind_key(proto, kind));
	key_uint(j, "messages", messages);
}

size_t sn_events_format_group(struct sn_events *ev, enum sn_group_event kind,
			      const struct sn_group *g, uint64_t ts_us)
{
	struct sn_json j;

	begin_event(&j, ev, sn_group_event_name(kind), ts_us);
	sn_json_key(&j, "FirstSeen");
	sn_json_time(&j, g->first_us);
	sn_json_key(&j, "LastSeen");
	sn_json_time(&j, g->last_us);
	key_addr(&j, "src_ip", &g->src);
	key_addr(&j, "dest_ip", &g->dst);
	key_string(&j, "Protocol", sn_proto_name(g->proto));
	key_uint(&j, "dest_port", g->dest_port);
	key_string(&j, "IsExternal", g->external ? "yes" : "no");
	key_process(&j, g->process_name, sizeof(g->process_name));
	key_names(&j, "Users", g->users, g->n_users);
	key_uint(&j, "ConnectionCount", g->connections);
	key_uint(&j, "BytesSent", g->bytes_sent);
	key_uint(&j, "BytesReceived", g->bytes_received);
	key_string(&j, "Suspicion", sn_suspicion_name(g->rating.suspicion));
	key_string(&j, "evidence", sn_evidence_name(g->evidence));
	key_reasons(&j, &g->rating);
	key_names(&j, "client_ids", g->client_ids, g->n_client_ids);
	key_details(&j, &g->details, NULL, 0, g, NULL);
	key_string(&j, "mitre_technique", SN_MITRE_TECHNIQUE);
	key_flow_ids(&j, g);
	key_truncated(&j, g->truncated);
	key_host(&j, g->dest_host, sizeof(g->dest_host));
	if (g->beacon.samples) {
		sn_json_key(&j, "beacon");
		beacon_fields(&j, &g->beacon);
		sn_json_object_end(&j);
	}
	if (g->msg_beacon.samples) {
		message_beacon(&j, g->proto, g->msg_kind, &g->msg_beacon, g->msg_messages);
		key_uint(&j, "flow_id", g->msg_flow_id);
		sn_json_object_end(&j);
	}
	if (kind == SN_EV_SUMMARY && g->allowed_by[0])
		key_string(&j, "allowed_by", g->allowed_by);
	return finish(&j);
}

/*
 * Splunk Stream / CIM Network_Traffic names (contract version 2), so the
 * original search runs over flow events unchanged: a flow event exists only
 * for a connection the server answered, hence action=allowed.
 */
static void key_cim(struct sn_json *j, const struct sn_conn_report *r, enum sn_proto proto)
{
	char app[16];
	const char *name = sn_proto_name(proto);
	size_t i = 0;

	for (; name[i] && i < sizeof(app) - 1; i++)
		app[i] = (char)((name[i] >= 'A' && name[i] <= 'Z') ? name[i] - 'A' + 'a' : name[i]);
	app[i] = '\0';
	key_string(j, "transport", "tcp");
	key_string(j, "app", app);
	key_string(j, "action", "allowed");
	key_uint(j, "bytes_out", r->bytes[SN_DIR_C2S]);
	key_uint(j, "bytes_in", r->bytes[SN_DIR_S2C]);
	size_t n = strnlen(r->meta.user, sizeof(r->meta.user));
	sn_json_key(j, "src_user");
	if (n)
		sn_json_string_n(j, r->meta.user, n);
	else
		sn_json_null(j);
}

size_t sn_events_format_flow(struct sn_events *ev, const struct sn_conn_report *r,
			     enum sn_proto proto, bool external, int msg_kind, uint64_t ts_us)
{
	struct sn_json j;

	if (proto == SN_PROTO_NONE)
		proto = r->port_proto; /* a refuted flow is named by its port */
	begin_event(&j, ev, "flow", ts_us);
	sn_json_key(&j, "FirstSeen");
	sn_json_time(&j, r->first_us);
	sn_json_key(&j, "LastSeen");
	sn_json_time(&j, r->last_us);
	key_addr(&j, "src_ip", &r->client);
	key_uint(&j, "src_port", r->client_port);
	key_addr(&j, "dest_ip", &r->server);
	key_uint(&j, "dest_port", r->server_port);
	key_string(&j, "Protocol", sn_proto_name(proto));
	key_string(&j, "IsExternal", external ? "yes" : "no");
	key_process(&j, r->process_name, sizeof(r->process_name));
	key_single(&j, "Users", r->meta.user, sizeof(r->meta.user));
	key_uint(&j, "BytesSent", r->bytes[SN_DIR_C2S]);
	key_uint(&j, "BytesReceived", r->bytes[SN_DIR_S2C]);
	key_uint(&j, "PacketsSent", r->packets[SN_DIR_C2S]);
	key_uint(&j, "PacketsReceived", r->packets[SN_DIR_S2C]);
	key_string(&j, "evidence", sn_evidence_name(r->evidence));
	key_client_id(&j, proto == SN_PROTO_MQTT ? &r->meta : NULL);
	key_details(&j, &r->meta, r->tunnel, r->n_tunnel, NULL, r);
	key_host(&j, r->dest_host, sizeof(r->dest_host));
	key_string(&j, "close", sn_close_reason_name(r->close));
	key_cim(&j, r, proto);
	key_uint(&j, "flow_id", r->flow_id);
	char cid[SN_COMMUNITY_ID_LEN];
	sn_community_id_tcp(ev->community_id_seed, &r->client, r->client_port, &r->server,
			    r->server_port, cid);
	key_string(&j, "community_id", cid);
	key_string(&j, "mitre_technique", SN_MITRE_TECHNIQUE);
	if (msg_kind >= 0 && msg_kind < SN_MSG_KINDS) {
		message_beacon(&j, proto, (enum sn_msg_kind)msg_kind, &r->msgs.rhythm[msg_kind],
			       r->msgs.messages[msg_kind]);
		sn_json_object_end(&j);
	}
	return finish(&j);
}

static void key_decode_errors(struct sn_json *j, const struct sn_stats_view *s)
{
	sn_json_key(j, "decode_errors");
	sn_json_object_begin(j);
	for (int e = 0; s->decode && e < SN_DERR_COUNT; e++) {
		if (s->decode->errors[e])
			key_uint(j, sn_decode_error_name((enum sn_decode_error)e),
				 s->decode->errors[e]);
	}
	sn_json_object_end(j);
}

/* Named health counters beyond the contract's fixed fields (an addition). */
static void key_counters(struct sn_json *j, const struct sn_stats_view *s)
{
	sn_json_key(j, "counters");
	sn_json_object_begin(j);
	for (size_t i = 0; s->extra_names && s->extra_values && i < s->n_extra; i++)
		key_uint(j, s->extra_names[i], s->extra_values[i]);
	sn_json_object_end(j);
}

size_t sn_events_format_stats(struct sn_events *ev, const struct sn_stats_view *s, uint64_t ts_us)
{
	struct sn_json j;

	begin_event(&j, ev, "stats", ts_us);
	key_uint(&j, "packets", s->packets);
	key_uint(&j, "bytes", s->bytes);
	if (s->live) {
		key_uint(&j, "dropped", s->dropped);
		key_uint(&j, "if_dropped", s->if_dropped);
	}
	key_uint(&j, "flows_active", s->flows_active);
	key_uint(&j, "flows_evicted", s->flows_evicted);
	key_uint(&j, "groups_active", s->groups_active);
	key_uint(&j, "alerts", s->alerts);
	key_decode_errors(&j, s);
	key_counters(&j, s);
	return finish(&j);
}

static void write_line(struct sn_events *ev, const char *type, uint64_t ts_us, size_t len)
{
	if (len == 0) {
		ev->dropped_overflow++;
		return;
	}
	if (ev->log)
		sn_eventlog_write(ev->log, ev->line, len); /* errors are counted by the log */
	for (size_t i = 0; i < ev->n_outputs; i++)
		ev->outputs[i].write(ev->outputs[i].ctx, type, ev->line, len, ts_us);
}

void sn_events_group_event(void *ctx, enum sn_group_event kind, const struct sn_group *g,
			   uint64_t ts_us)
{
	struct sn_events *ev = ctx;

	write_line(ev, sn_group_event_name(kind), ts_us, sn_events_format_group(ev, kind, g, ts_us));
}

void sn_events_flow_event(void *ctx, const struct sn_conn_report *r, enum sn_proto proto,
			  bool external, int msg_kind, uint64_t ts_us)
{
	struct sn_events *ev = ctx;

	write_line(ev, "flow", ts_us,
		   sn_events_format_flow(ev, r, proto, external, msg_kind, ts_us));
}

void sn_events_write_stats(struct sn_events *ev, const struct sn_stats_view *s, uint64_t ts_us)
{
	write_line(ev, "stats", ts_us, sn_events_format_stats(ev, s, ts_us));
}
