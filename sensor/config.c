/*
 * config.c - YAML configuration file to struct sn_config.
 *
 * One table of keys (name, kind, where in the struct, bounds) drives both
 * loading and printing, so every key that can be read can also be printed
 * back and the two never drift apart.  Loading is two libyaml passes over
 * the same text: an event pass that reports syntax errors and rejects
 * aliases (they would let a small file name one node many times), then the
 * document API, whose nodes carry the line:column marks used in errors.
 * Keys are applied to a private copy that replaces *cfg only when the whole
 * file is valid, so a failed reload leaves the running configuration alone.
 */
#include "config.h"

#include <errno.h>
#include <regex.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <yaml.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define CFG_OFF(member) offsetof(struct sn_config, member)
#define CFG_SIZE(member) sizeof(((struct sn_config *)0)->member)

/* Bigger than any sane configuration; keeps a hostile file's parse bounded. */
#define SN_CFG_MAX_BYTES (1024 * 1024)
/* A year: the longest duration any timer accepts. */
#define SN_CFG_MAX_SECONDS 31536000u

enum key_kind {
	K_SECTION,   /* a mapping of further keys */
	K_PROTOCOLS, /* a section whose ports are checked against each other */
	K_STR,       /* char[size] */
	K_U32,       /* uint32_t within [min, max] */
	K_DURATION,  /* uint32_t seconds: 600 or "10m" */
	K_BOOL,
	K_SUSPICION, /* enum sn_suspicion */
	K_FLUSH,     /* enum sn_flush_policy */
	K_FACILITY,  /* uint32_t syslog facility code, by name ("local5") */
	K_TARGET,    /* K_STR holding a syslog target ("", unix:, unix-stream:, udp://, tcp://) */
	K_CIDRS,     /* struct sn_cidr[max_items] + size_t count */
	K_STRS,      /* char[max_items][SN_CFG_STR] + size_t count */
	K_PATTERNS,  /* K_STRS whose items must compile as regular expressions */
	K_PORTS,     /* uint16_t[max_items] + size_t count */
	K_ENUM,      /* int: index into names[] */
};

struct sn_key {
	const char *name;
	enum key_kind kind;
	size_t off;        /* offset of the field in struct sn_config */
	size_t size;       /* K_STR: buffer size */
	size_t count_off;  /* lists: offset of the item count */
	size_t max_items;  /* lists: capacity */
	uint32_t min, max; /* numbers */
	const struct sn_key *sub; /* sections */
	size_t n_sub;
	/* K_STR: a further check of the value (0, or -1 with a message) */
	int (*validate)(const char *value, char *msg, size_t cap);
	const char *const *names; /* K_ENUM: the accepted words, in value order */
	size_t n_names;
};

/*
 * capture.filter is compiled by libpcap, which this file does not use: the
 * program registers the check (main.c, with capture.c's compiler).
 */
static sn_config_filter_check_fn filter_check;

void sn_config_set_filter_check(sn_config_filter_check_fn fn)
{
	filter_check = fn;
}

static int validate_filter(const char *value, char *msg, size_t cap)
{
	return filter_check && value[0] ? filter_check(value, msg, cap) : 0;
}

#define KEY_STR(n, m) { .name = n, .kind = K_STR, .off = CFG_OFF(m), .size = CFG_SIZE(m) }
#define KEY_U32(n, m, lo, hi) { .name = n, .kind = K_U32, .off = CFG_OFF(m), .min = lo, .max = hi }
#define KEY_DUR(n, m, lo, hi) \
	{ .name = n, .kind = K_DURATION, .off = CFG_OFF(m), .min = lo, .max = hi }
#define KEY_BOOL(n, m) { .name = n, .kind = K_BOOL, .off = CFG_OFF(m) }
#define KEY_LIST(n, k, m, cnt) \
	{ .name = n, .kind = k, .off = CFG_OFF(m), .count_off = CFG_OFF(cnt), \
	  .max_items = ARRAY_SIZE(((struct sn_config *)0)->m) }
#define KEY_SECTION(n, k, table) \
	{ .name = n, .kind = k, .sub = table, .n_sub = ARRAY_SIZE(table) }

#define KEY_ENUM(n, m, words) \
	{ .name = n, .kind = K_ENUM, .off = CFG_OFF(m), .names = words, .n_names = ARRAY_SIZE(words) }

/* In enum sn_refuted_policy order; KEY_ENUM stores an int. */
static const char *const refuted_names[] = { "count", "demote", "ignore" };
_Static_assert(sizeof(enum sn_refuted_policy) == sizeof(int), "rules.refuted is a KEY_ENUM");

/* In enum sn_checksum_mode order. */
static const char *const checksum_names[] = { "auto", "yes", "no" };
/* In enum sn_attribution_mode order. */
static const char *const attribution_names[] = { "auto", "on", "off" };

static const struct sn_key capture_keys[] = {
	KEY_STR("interface", capture.interface),
	{ .name = "filter", .kind = K_STR, .off = CFG_OFF(capture.filter),
	  .size = CFG_SIZE(capture.filter), .validate = validate_filter },
	KEY_U32("snaplen", capture.snaplen, 64, 262144),
	KEY_U32("buffer_mib", capture.buffer_mib, 1, 4096),
	KEY_BOOL("promiscuous", capture.promiscuous),
	KEY_U32("workers", capture.workers, 1, 64),
	KEY_ENUM("checksum_validation", capture.checksum_validation, checksum_names),
	KEY_LIST("vxlan_ports", K_PORTS, capture.vxlan_ports, capture.n_vxlan_ports),
	KEY_LIST("geneve_ports", K_PORTS, capture.geneve_ports, capture.n_geneve_ports),
	KEY_ENUM("attribution", capture.attribution, attribution_names),
};

/*
 * `protocols:` has one section per protocol of the dissector registry
 * (dissectors/registry.c), named as its entry and holding these two keys;
 * the offsets here are protocol 0's, shifted by protocol_port_keys().
 */
static const struct sn_key port_keys[] = {
	KEY_LIST("ports", K_PORTS, protocols[0].ports, protocols[0].n_ports),
	KEY_LIST("tls_ports", K_PORTS, protocols[0].tls_ports, protocols[0].n_tls_ports),
};
#define N_PORT_KEYS ARRAY_SIZE(port_keys)

/* port_keys for protocol p (enum sn_proto). */
static void protocol_port_keys(size_t p, struct sn_key out[N_PORT_KEYS])
{
	size_t shift = p * sizeof(struct sn_proto_ports);
	for (size_t i = 0; i < N_PORT_KEYS; i++) {
		out[i] = port_keys[i];
		out[i].off += shift;
		out[i].count_off += shift;
	}
}

/* The config section name of protocol p: its registry entry's name. */
static const char *protocol_key(size_t p)
{
	const struct sn_dissector *d = sn_dissector_for_proto((enum sn_proto)p);
	return d ? d->name : "?";
}

static const struct sn_key rules_keys[] = {
	KEY_U32("min_connections", rules.min_connections, 1, 1000000000),
	{ .name = "min_suspicion", .kind = K_SUSPICION, .off = CFG_OFF(rules.min_suspicion) },
	KEY_LIST("trusted_mqtt_clients", K_PATTERNS, rules.trusted_mqtt_clients,
		 rules.n_trusted_mqtt_clients),
	KEY_LIST("allow_destinations", K_CIDRS, rules.allow_destinations,
		 rules.n_allow_destinations),
	KEY_LIST("allow_tls_server_names", K_STRS, rules.allow_tls_server_names,
		 rules.n_allow_tls_server_names),
	KEY_LIST("allow_users", K_STRS, rules.allow_users, rules.n_allow_users),
	KEY_U32("nonstandard_port_raise", rules.nonstandard_port_raise, 0, 2),
	KEY_ENUM("refuted", rules.refuted, refuted_names), /* enum sn_refuted_policy order */
	KEY_U32("beacon_min_gaps", rules.beacon_min_gaps, 2, SN_BEACON_STARTS - 1),
	KEY_U32("beacon_max_jitter_pct", rules.beacon_max_jitter_pct, 0, 100),
	KEY_U32("beacon_raise", rules.beacon_raise, 0, 2),
	KEY_U32("message_beacon_raise", rules.message_beacon_raise, 0, 2),
	KEY_LIST("command_patterns", K_STRS, rules.command_patterns, rules.n_command_patterns),
	KEY_LIST("public_brokers", K_STRS, rules.public_brokers, rules.n_public_brokers),
	KEY_U32("public_broker_raise", rules.public_broker_raise, 0, 2),
	KEY_LIST("allow_server_names", K_STRS, rules.allow_server_names,
		 rules.n_allow_server_names),
	KEY_LIST("allow_client_ids", K_PATTERNS, rules.allow_client_ids, rules.n_allow_client_ids),
	KEY_LIST("allow_processes", K_PATTERNS, rules.allow_processes, rules.n_allow_processes),
	KEY_LIST("allow_sources", K_CIDRS, rules.allow_sources, rules.n_allow_sources),
	KEY_LIST("trusted_mqtt_processes", K_PATTERNS, rules.trusted_mqtt_processes,
		 rules.n_trusted_mqtt_processes),
};

static const struct sn_key tables_keys[] = {
	KEY_U32("max_flows", tables.max_flows, 16, 16777216),
	KEY_U32("max_groups", tables.max_groups, 16, 16777216),
	KEY_U32("classify_buffers", tables.classify_buffers, 1, 16777216),
	KEY_U32("buffer_bytes", tables.buffer_bytes, 256, 65536),
	KEY_DUR("flow_timeout_new", tables.flow_timeout_new, 1, SN_CFG_MAX_SECONDS),
	KEY_DUR("flow_timeout_established", tables.flow_timeout_established, 1,
		SN_CFG_MAX_SECONDS),
	KEY_DUR("flow_timeout_closed", tables.flow_timeout_closed, 1, SN_CFG_MAX_SECONDS),
	KEY_DUR("group_window", tables.group_window, 1, SN_CFG_MAX_SECONDS),
	KEY_DUR("update_interval", tables.update_interval, 1, SN_CFG_MAX_SECONDS),
	KEY_U32("defrag_datagrams", tables.defrag_datagrams, 0, 1048576),
	KEY_U32("defrag_fragments", tables.defrag_fragments, 2, 8192),
	KEY_DUR("defrag_timeout", tables.defrag_timeout, 1, 3600),
	KEY_U32("message_timing_flows", tables.message_timing_flows, 0, 16777213),
};

static const struct sn_key syslog_keys[] = {
	{ .name = "target", .kind = K_TARGET, .off = CFG_OFF(output.syslog.target),
	  .size = CFG_SIZE(output.syslog.target) },
	{ .name = "facility", .kind = K_FACILITY, .off = CFG_OFF(output.syslog.facility) },
	KEY_U32("queue_events", output.syslog.queue_events, 1, 1000000),
};

static const struct sn_key output_keys[] = {
	KEY_STR("event_log", output.event_log),
	KEY_BOOL("flows", output.flows),
	KEY_DUR("stats_interval", output.stats_interval, 1, SN_CFG_MAX_SECONDS),
	{ .name = "flush", .kind = K_FLUSH, .off = CFG_OFF(output.flush) },
	KEY_U32("flush_interval_ms", output.flush_interval_ms, 1, 3600000),
	KEY_DUR("error_report_interval", output.error_report_interval, 1, SN_CFG_MAX_SECONDS),
	KEY_U32("community_id_seed", output.community_id_seed, 0, 65535),
	KEY_U32("payload_bytes", output.payload_bytes, 0, SN_META_PAYLOAD_MAX),
	KEY_SECTION("syslog", K_SECTION, syslog_keys),
};

static const struct sn_key daemon_keys[] = {
	KEY_STR("user", daemon.user),
	KEY_STR("group", daemon.group),
	KEY_STR("pid_file", daemon.pid_file),
	KEY_BOOL("allow_root", daemon.allow_root),
	KEY_BOOL("retry_interface", daemon.retry_interface),
	KEY_DUR("retry_interval", daemon.retry_interval, 1, SN_CFG_MAX_SECONDS),
};

static const struct sn_key top_keys[] = {
	KEY_STR("sensor_name", sensor_name),
	KEY_SECTION("capture", K_SECTION, capture_keys),
	KEY_LIST("home_networks", K_CIDRS, home_networks, n_home_networks),
	{ .name = "protocols", .kind = K_PROTOCOLS },
	KEY_SECTION("rules", K_SECTION, rules_keys),
	KEY_SECTION("tables", K_SECTION, tables_keys),
	KEY_SECTION("output", K_SECTION, output_keys),
	KEY_SECTION("daemon", K_SECTION, daemon_keys),
};

static const char *const suspicion_names[] = { "low", "medium", "high" };
static const char *const flush_names[] = { "every_event", "interval" };

/* RFC 5424 facility codes 0..23, by name. */
static const char *const facility_names[] = {
	"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
	"uucp", "cron", "authpriv", "ftp", "ntp", "audit", "alert", "clock",
	"local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
};

const char *sn_syslog_facility_name(uint32_t code)
{
	return code < ARRAY_SIZE(facility_names) ? facility_names[code] : "local5";
}

/*
 * A syslog target's syntax: "", unix:PATH, unix-stream:PATH, udp://HOST:PORT
 * or tcp://HOST:PORT (an IPv6 HOST in brackets).  NULL if valid, else why.
 */
const char *sn_syslog_target_check(const char *t)
{
	const char *rest;

	if (t[0] == '\0')
		return NULL;
	if (strncmp(t, "unix:", 5) == 0 || strncmp(t, "unix-stream:", 12) == 0) {
		rest = strchr(t, ':') + 1;
		if (rest[0] != '/')
			return "a unix socket target needs an absolute path (unix:/dev/log)";
		if (strlen(rest) >= 108)
			return "the socket path is longer than 107 bytes";
		return NULL;
	}
	if (strncmp(t, "udp://", 6) != 0 && strncmp(t, "tcp://", 6) != 0)
		return "expected unix:PATH, unix-stream:PATH, udp://HOST:PORT or tcp://HOST:PORT";
	rest = t + 6;
	const char *colon = strrchr(rest, ':');
	if (rest[0] == '[') {
		const char *close = strchr(rest, ']');
		if (!close || close[1] != ':')
			return "an IPv6 host goes in brackets: tcp://[::1]:514";
		colon = close + 1;
	}
	if (!colon || colon == rest)
		return "expected HOST:PORT, e.g. tcp://127.0.0.1:514";
	char *end;
	errno = 0;
	unsigned long port = strtoul(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || errno || port < 1 || port > 65535)
		return "the port must be a number from 1 to 65535";
	return NULL;
}

static const char *flush_name(enum sn_flush_policy f)
{
	return f == SN_FLUSH_INTERVAL ? "interval" : "every_event";
}

const char *sn_suspicion_name(enum sn_suspicion s)
{
	if ((size_t)s < ARRAY_SIZE(suspicion_names))
		return suspicion_names[s];
	return "unknown";
}

void sn_error_format(const struct sn_error *e, char *out, size_t cap)
{
	if (e->line > 0)
		snprintf(out, cap, "%s:%d:%d: %s", e->file, e->line, e->column, e->msg);
	else
		snprintf(out, cap, "%s: %s", e->file, e->msg);
}

/* ---- defaults ---------------------------------------------------------- */

static void set_ports(struct sn_proto_ports *pp, const uint16_t *ports, size_t n,
		      const uint16_t *tls, size_t n_tls)
{
	memcpy(pp->ports, ports, n * sizeof *ports);
	pp->n_ports = n;
	memcpy(pp->tls_ports, tls, n_tls * sizeof *tls);
	pp->n_tls_ports = n_tls;
}

static void default_home_networks(struct sn_config *cfg)
{
	static const char *const nets[] = {
		"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8",
		"169.254.0.0/16", "::1/128", "fc00::/7", "fe80::/10",
	};
	cfg->n_home_networks = 0;
	for (size_t i = 0; i < ARRAY_SIZE(nets); i++)
		if (sn_cidr_parse(nets[i], &cfg->home_networks[cfg->n_home_networks]))
			cfg->n_home_networks++;
}

static void set_strs(char (*dst)[SN_CFG_STR], size_t *n, const char *const *src, size_t count)
{
	for (*n = 0; *n < count && *n < SN_CFG_MAX_PATTERNS; (*n)++)
		snprintf(dst[*n], SN_CFG_STR, "%s", src[*n]);
}

/* Command-channel words and public brokers (their operators' public documentation). */
static void default_rule_lists(struct sn_config *cfg)
{
	static const char *const commands[] = { "c2/", "cmd", "command", "shell", "exec", "task" };
	static const char *const brokers[] = {
		"broker.hivemq.com", "test.mosquitto.org", "broker.emqx.io",
		"mqtt.eclipseprojects.io", "mqtt.flespi.io", "public.mqtthq.com",
		"broker.mqttdashboard.com", "public.cloud.shiftr.io", "cloudamqp.com",
	};
	static const char *const processes[] = { "^mosquitto$" };

	set_strs(cfg->rules.command_patterns, &cfg->rules.n_command_patterns, commands,
		 ARRAY_SIZE(commands));
	set_strs(cfg->rules.public_brokers, &cfg->rules.n_public_brokers, brokers,
		 ARRAY_SIZE(brokers));
	set_strs(cfg->rules.trusted_mqtt_processes, &cfg->rules.n_trusted_mqtt_processes,
		 processes, ARRAY_SIZE(processes));
	cfg->rules.public_broker_raise = 1;
}

/* Every protocol's ports as its registry entry lists them. */
static void default_protocols(struct sn_config *cfg)
{
	for (size_t p = SN_PROTO_MQTT; p < SN_PROTO_COUNT; p++) {
		const struct sn_dissector *d = sn_dissector_for_proto((enum sn_proto)p);
		if (d)
			set_ports(&cfg->protocols[p], d->ports, sn_dissector_port_count(d->ports),
				  d->tls_ports, sn_dissector_port_count(d->tls_ports));
	}
}

void sn_config_defaults(struct sn_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	if (gethostname(cfg->sensor_name, sizeof cfg->sensor_name - 1) != 0 ||
	    cfg->sensor_name[0] == '\0')
		snprintf(cfg->sensor_name, sizeof cfg->sensor_name, "unknown");

	cfg->capture.snaplen = 512;
	cfg->capture.buffer_mib = 64;
	cfg->capture.promiscuous = true;
	cfg->capture.workers = 1;
	cfg->capture.checksum_validation = 0; /* auto */
	cfg->capture.vxlan_ports[0] = 4789;
	cfg->capture.n_vxlan_ports = 1;
	cfg->capture.geneve_ports[0] = 6081;
	cfg->capture.n_geneve_ports = 1;
	cfg->tables.defrag_datagrams = 1024;
	cfg->tables.defrag_fragments = 64;
	cfg->tables.defrag_timeout = 30;
	cfg->tables.message_timing_flows = 4096;

	default_home_networks(cfg);
	default_protocols(cfg);

	cfg->rules.min_connections = 2;
	cfg->rules.min_suspicion = SN_SUSP_MEDIUM;
	cfg->rules.nonstandard_port_raise = 1;
	cfg->rules.refuted = SN_REFUTED_COUNT;
	cfg->rules.beacon_min_gaps = 4;
	cfg->rules.beacon_max_jitter_pct = 10;
	cfg->rules.beacon_raise = 1;
	cfg->rules.message_beacon_raise = 1;
	default_rule_lists(cfg);

	cfg->tables.max_flows = 262144;
	cfg->tables.max_groups = 16384;
	cfg->tables.classify_buffers = 16384;
	cfg->tables.buffer_bytes = 2048;
	cfg->tables.flow_timeout_new = 30;
	cfg->tables.flow_timeout_established = 600;
	cfg->tables.flow_timeout_closed = 10;
	cfg->tables.group_window = 86400;
	cfg->tables.update_interval = 60;

	snprintf(cfg->output.event_log, sizeof cfg->output.event_log, "%s",
		 "/var/log/pubsub-sensor/events.json");
	cfg->output.flows = true;
	cfg->output.stats_interval = 60;
	cfg->output.flush = SN_FLUSH_EVERY_EVENT;
	cfg->output.flush_interval_ms = 1000;
	cfg->output.error_report_interval = 60;
	cfg->output.syslog.facility = 21; /* local5 */
	cfg->output.syslog.queue_events = 10000;

	snprintf(cfg->daemon.user, sizeof cfg->daemon.user, "pubsub-sensor");
	snprintf(cfg->daemon.group, sizeof cfg->daemon.group, "pubsub-sensor");
	cfg->daemon.retry_interval = 5;
}

/* ---- loading ------------------------------------------------------------ */

struct loader {
	yaml_document_t *doc;
	struct sn_config *cfg;
	struct sn_error *err;
};

static int mark_int(size_t v)
{
	return v < 1000000000 ? (int)v + 1 : 0;
}

__attribute__((format(printf, 3, 4)))
static int fail_at(struct sn_error *err, yaml_mark_t mark, const char *fmt, ...)
{
	va_list ap;

	err->line = mark_int(mark.line);
	err->column = mark_int(mark.column);
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	return -1;
}

static void *field(struct sn_config *cfg, size_t off)
{
	return (char *)cfg + off;
}

static const char *scalar_text(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static bool is_plain(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

/* YAML's null: an empty plain scalar, "~" or "null". */
static bool is_null(const yaml_node_t *n)
{
	if (!is_plain(n))
		return false;
	const char *s = scalar_text(n);
	return s[0] == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
	       strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

/* Levenshtein distance, for "did you mean"; key names are short. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t row[64];

	if (la >= ARRAY_SIZE(row) || lb >= ARRAY_SIZE(row))
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

static const char *suggest(const char *key, const struct sn_key *keys, size_t n)
{
	const char *best = NULL;
	size_t best_d = strlen(key) >= 8 ? 3 : 2; /* more slack for longer names */

	for (size_t i = 0; i < n; i++) {
		size_t d = edit_distance(key, keys[i].name);
		if (d <= best_d) {
			best = keys[i].name;
			best_d = d;
		}
	}
	return best;
}

static void join_path(char *out, size_t cap, const char *prefix, const char *name)
{
	if (prefix[0])
		snprintf(out, cap, "%s.%s", prefix, name);
	else
		snprintf(out, cap, "%s", name);
}

/* Copies a scalar into dst[cap]; rejects NUL bytes and overlong text. */
static int copy_string(struct loader *L, const yaml_node_t *n, const char *path, char *dst,
		       size_t cap)
{
	size_t len = n->data.scalar.length;

	if (n->type != YAML_SCALAR_NODE)
		return fail_at(L->err, n->start_mark, "%s: expected a string", path);
	if (strlen(scalar_text(n)) != len)
		return fail_at(L->err, n->start_mark, "%s: contains a NUL character", path);
	if (len >= cap)
		return fail_at(L->err, n->start_mark, "%s: too long (at most %zu characters)", path,
			       cap - 1);
	memset(dst, 0, cap);
	if (!is_null(n))
		memcpy(dst, scalar_text(n), len);
	return 0;
}

/*
 * Leading decimal digits into *v (saturated far above any bound, so a long
 * run of digits is "out of range", not "not a number"); *end after them.
 */
static bool parse_digits(const char *s, uint64_t *v, const char **end)
{
	size_t n = strspn(s, "0123456789");

	*end = s + n;
	*v = 0;
	for (size_t i = 0; i < n && i < 13; i++)
		*v = *v * 10 + (uint64_t)(s[i] - '0');
	if (n >= 13)
		*v = UINT64_MAX;
	return n > 0;
}

static int range_error(struct loader *L, const yaml_node_t *n, const char *path,
		       const struct sn_key *k, const char *unit)
{
	return fail_at(L->err, n->start_mark, "%s: must be between %u and %u%s", path,
		       (unsigned)k->min, (unsigned)k->max, unit);
}

static int set_u32(struct loader *L, const yaml_node_t *n, const char *path,
		   const struct sn_key *k)
{
	uint64_t v;
	const char *s, *end;

	if (!is_plain(n) || is_null(n))
		return fail_at(L->err, n->start_mark, "%s: expected an integer", path);
	s = scalar_text(n);
	bool negative = s[0] == '-';
	if (negative || s[0] == '+')
		s++;
	if (!parse_digits(s, &v, &end) || *end != '\0')
		return fail_at(L->err, n->start_mark, "%s: expected an integer", path);
	if ((negative && v != 0) || v < k->min || v > k->max)
		return range_error(L, n, path, k, "");
	*(uint32_t *)field(L->cfg, k->off) = (uint32_t)v;
	return 0;
}

/* 600, "600", "600s", "10m", "2h", "1d". */
static int set_duration(struct loader *L, const yaml_node_t *n, const char *path,
			const struct sn_key *k)
{
	uint64_t v, mult = 1;
	const char *end;

	if (n->type != YAML_SCALAR_NODE || is_null(n) || !parse_digits(scalar_text(n), &v, &end))
		goto bad;
	switch (*end) {
	case '\0': case 's': break;
	case 'm': mult = 60; break;
	case 'h': mult = 3600; break;
	case 'd': mult = 86400; break;
	default: goto bad;
	}
	if (*end != '\0' && end[1] != '\0')
		goto bad;
	v = v > UINT64_MAX / mult ? UINT64_MAX : v * mult;
	if (v < k->min || v > k->max)
		return range_error(L, n, path, k, " seconds");
	*(uint32_t *)field(L->cfg, k->off) = (uint32_t)v;
	return 0;
bad:
	return fail_at(L->err, n->start_mark,
		       "%s: expected a duration (seconds, or a number followed by s, m, h or d)",
		       path);
}

static int set_bool(struct loader *L, const yaml_node_t *n, const char *path,
		    const struct sn_key *k)
{
	static const char *const yes[] = { "true", "True", "TRUE" };
	static const char *const no[] = { "false", "False", "FALSE" };
	bool *dst = field(L->cfg, k->off);

	for (size_t i = 0; is_plain(n) && i < ARRAY_SIZE(yes); i++) {
		if (strcmp(scalar_text(n), yes[i]) == 0) {
			*dst = true;
			return 0;
		}
		if (strcmp(scalar_text(n), no[i]) == 0) {
			*dst = false;
			return 0;
		}
	}
	return fail_at(L->err, n->start_mark, "%s: expected true or false", path);
}

/* Index of the scalar's text in names[], or -1. */
static int pick_name(const yaml_node_t *n, const char *const *names, size_t count)
{
	if (n->type != YAML_SCALAR_NODE)
		return -1;
	for (size_t i = 0; i < count; i++)
		if (strcmp(scalar_text(n), names[i]) == 0)
			return (int)i;
	return -1;
}

static int set_suspicion(struct loader *L, const yaml_node_t *n, const char *path,
			 const struct sn_key *k)
{
	int i = pick_name(n, suspicion_names, ARRAY_SIZE(suspicion_names));

	if (i < 0)
		return fail_at(L->err, n->start_mark, "%s: expected low, medium or high", path);
	*(enum sn_suspicion *)field(L->cfg, k->off) = (enum sn_suspicion)i;
	return 0;
}

static int set_flush(struct loader *L, const yaml_node_t *n, const char *path,
		     const struct sn_key *k)
{
	int i = pick_name(n, flush_names, ARRAY_SIZE(flush_names));

	if (i < 0)
		return fail_at(L->err, n->start_mark, "%s: expected every_event or interval", path);
	*(enum sn_flush_policy *)field(L->cfg, k->off) = (enum sn_flush_policy)i;
	return 0;
}

static int set_facility(struct loader *L, const yaml_node_t *n, const char *path,
			const struct sn_key *k)
{
	int i = pick_name(n, facility_names, ARRAY_SIZE(facility_names));

	if (i < 0)
		return fail_at(L->err, n->start_mark,
			       "%s: expected a syslog facility name (daemon, user, local0..local7, ...)",
			       path);
	*(uint32_t *)field(L->cfg, k->off) = (uint32_t)i;
	return 0;
}

static int set_target(struct loader *L, const yaml_node_t *n, const char *path,
		      const struct sn_key *k)
{
	char *dst = field(L->cfg, k->off);

	if (copy_string(L, n, path, dst, k->size) != 0)
		return -1;
	const char *why = sn_syslog_target_check(dst);
	if (why)
		return fail_at(L->err, n->start_mark, "%s: '%.200s': %s", path, dst, why);
	return 0;
}

static int set_enum(struct loader *L, const yaml_node_t *n, const char *path,
		    const struct sn_key *k)
{
	int i = pick_name(n, k->names, k->n_names);

	if (i < 0) {
		char words[128] = "";
		for (size_t w = 0; w < k->n_names; w++)
			snprintf(words + strlen(words), sizeof words - strlen(words), "%s%s",
				 w == 0 ? "" : w + 1 == k->n_names ? " or " : ", ", k->names[w]);
		return fail_at(L->err, n->start_mark, "%s: expected %s", path, words);
	}
	*(int *)field(L->cfg, k->off) = i;
	return 0;
}

static const char *list_what(enum key_kind kind)
{
	switch (kind) {
	case K_CIDRS: return "CIDR strings";
	case K_PORTS: return "ports";
	case K_PATTERNS: return "regular expressions";
	default: return "strings";
	}
}

/* One list item; `path` names it ("home_networks[2]"). */
static int set_item(struct loader *L, const yaml_node_t *n, const char *path,
		    const struct sn_key *k, size_t i)
{
	char text[SN_CFG_STR];
	uint64_t v;
	const char *end;

	switch (k->kind) {
	case K_PORTS:
		if (!is_plain(n) || !parse_digits(scalar_text(n), &v, &end) || *end != '\0' ||
		    v < 1 || v > 65535)
			return fail_at(L->err, n->start_mark, "%s: must be between 1 and 65535", path);
		((uint16_t *)field(L->cfg, k->off))[i] = (uint16_t)v;
		return 0;
	case K_CIDRS:
		if (n->type != YAML_SCALAR_NODE)
			return fail_at(L->err, n->start_mark, "%s: expected a CIDR string", path);
		if (copy_string(L, n, path, text, sizeof text) != 0 ||
		    !sn_cidr_parse(text, &((struct sn_cidr *)field(L->cfg, k->off))[i]))
			return fail_at(L->err, n->start_mark, "%s: '%.200s' is not a CIDR block",
				       path, scalar_text(n));
		return 0;
	default:
		return copy_string(L, n, path, ((char (*)[SN_CFG_STR])field(L->cfg, k->off))[i],
				   SN_CFG_STR);
	}
}

#define SN_RE_MAX_DEPTH 8   /* nested groups */
#define SN_RE_MAX_REPEAT 100 /* largest {m,n} bound */
#define SN_RE_MAX_REPEATS 16 /* repeat operators in one pattern */

/* Skips a bracket expression starting at p[i] == '['; returns the index after it. */
static size_t skip_bracket(const char *p, size_t i)
{
	i++;
	if (p[i] == '^')
		i++;
	if (p[i] == ']')
		i++; /* a leading ']' is a literal */
	while (p[i] && p[i] != ']')
		i++;
	return p[i] ? i + 1 : i;
}

/* Reads a {m,n} bound at p[i] == '{'; returns the index after it, 0 if too large. */
static size_t read_bound(const char *p, size_t i)
{
	unsigned long v = 0;
	for (i++; p[i] && p[i] != '}'; i++) {
		if (p[i] >= '0' && p[i] <= '9') {
			v = v * 10 + (unsigned long)(p[i] - '0');
			if (v > SN_RE_MAX_REPEAT)
				return 0;
		} else {
			v = 0; /* the comma: the upper bound follows */
		}
	}
	return p[i] ? i + 1 : i;
}

/*
 * glibc's regcomp() takes time and memory exponential in stacked repeats
 * ("a++++...") and large nested bounds, so a hostile or mistyped pattern
 * could stall a reload.  Patterns that match client ids need none of that:
 * refuse a repeat right after a repeat, bounds over 100, more than 16
 * repeats and groups nested deeper than 8.  Returns NULL or why not.
 */
static const char *pattern_too_complex(const char *p, size_t *at)
{
	bool after_repeat = false;
	int depth = 0, repeats = 0;
	for (size_t i = 0; p[i];) {
		*at = i + 1;
		char ch = p[i];
		bool repeat = ch == '*' || ch == '+' || ch == '?' || ch == '{';
		if (repeat && after_repeat)
			return "a repeat follows a repeat";
		if (repeat && ++repeats > SN_RE_MAX_REPEATS)
			return "more than 16 repeats";
		if (ch == '(' && ++depth > SN_RE_MAX_DEPTH)
			return "groups nested deeper than 8";
		if (ch == ')' && depth > 0)
			depth--;
		after_repeat = repeat;
		if (ch == '\\')
			i += p[i + 1] ? 2 : 1;
		else if (ch == '[')
			i = skip_bracket(p, i);
		else if (ch == '{') {
			size_t next = read_bound(p, i);
			if (next == 0)
				return "a repeat bound over 100";
			i = next;
		} else
			i++;
	}
	return NULL;
}

/* Patterns are compiled here only to report a bad one with its position. */
static int check_pattern(struct loader *L, const yaml_node_t *n, const char *path,
			 const char *pattern)
{
	regex_t re;
	char why[128];
	size_t at = 0;
	const char *complex = pattern_too_complex(pattern, &at);
	if (complex)
		return fail_at(L->err, n->start_mark,
			       "%s: regular expression '%.200s' is too complex: %s (at character %zu)",
			       path, pattern, complex, at);
	int rc = regcomp(&re, pattern, REG_EXTENDED | REG_ICASE | REG_NOSUB);

	if (rc == 0) {
		regfree(&re);
		return 0;
	}
	regerror(rc, &re, why, sizeof why);
	return fail_at(L->err, n->start_mark, "%s: bad regular expression '%.200s': %s", path,
		       pattern, why);
}

static int set_list(struct loader *L, const yaml_node_t *n, const char *path,
		    const struct sn_key *k)
{
	yaml_node_item_t *items;
	size_t count;
	char item_path[160];

	if (n->type != YAML_SEQUENCE_NODE)
		return fail_at(L->err, n->start_mark, "%s: expected a list of %s", path,
			       list_what(k->kind));
	items = n->data.sequence.items.start;
	count = (size_t)(n->data.sequence.items.top - items);
	if (count > k->max_items)
		return fail_at(L->err, n->start_mark, "%s: too many entries (at most %zu)", path,
			       k->max_items);
	for (size_t i = 0; i < count; i++) {
		const yaml_node_t *item = yaml_document_get_node(L->doc, items[i]);
		snprintf(item_path, sizeof item_path, "%s[%zu]", path, i);
		if (set_item(L, item, item_path, k, i) != 0)
			return -1;
		if (k->kind == K_PATTERNS &&
		    check_pattern(L, item, item_path,
				  ((char (*)[SN_CFG_STR])field(L->cfg, k->off))[i]) != 0)
			return -1;
	}
	*(size_t *)field(L->cfg, k->count_off) = count;
	return 0;
}

static int apply_section(struct loader *L, const yaml_node_t *n, const char *path,
			 const struct sn_key *keys, size_t n_keys);
static int check_ports(struct loader *L, const yaml_node_t *protocols);
static int apply_protocols(struct loader *L, const yaml_node_t *n, const char *path);

/* A string key's own check; the error points at the value. */
static int check_string(struct loader *L, const yaml_node_t *n, const char *path,
			const struct sn_key *k)
{
	char msg[400];
	if (k->validate(field(L->cfg, k->off), msg, sizeof msg) == 0)
		return 0;
	return fail_at(L->err, n->start_mark, "%s: %s", path, msg);
}

static int apply_key(struct loader *L, const yaml_node_t *n, const char *path,
		     const struct sn_key *k)
{
	switch (k->kind) {
	case K_SECTION:
		return apply_section(L, n, path, k->sub, k->n_sub);
	case K_PROTOCOLS:
		if (apply_protocols(L, n, path) != 0)
			return -1;
		return check_ports(L, n);
	case K_STR:
		if (copy_string(L, n, path, field(L->cfg, k->off), k->size) != 0)
			return -1;
		return k->validate ? check_string(L, n, path, k) : 0;
	case K_U32:
		return set_u32(L, n, path, k);
	case K_DURATION:
		return set_duration(L, n, path, k);
	case K_BOOL:
		return set_bool(L, n, path, k);
	case K_SUSPICION:
		return set_suspicion(L, n, path, k);
	case K_FLUSH:
		return set_flush(L, n, path, k);
	case K_FACILITY:
		return set_facility(L, n, path, k);
	case K_TARGET:
		return set_target(L, n, path, k);
	case K_ENUM:
		return set_enum(L, n, path, k);
	default:
		return set_list(L, n, path, k);
	}
}

/* The key `name` already appeared among the first `upto` pairs. */
static bool seen_before(struct loader *L, const yaml_node_pair_t *pairs, size_t upto,
			const char *name)
{
	for (size_t j = 0; j < upto; j++) {
		const yaml_node_t *key = yaml_document_get_node(L->doc, pairs[j].key);
		if (key->type == YAML_SCALAR_NODE && strcmp(scalar_text(key), name) == 0)
			return true;
	}
	return false;
}

static int unknown_key(struct loader *L, const yaml_node_t *key, const char *path,
		       const struct sn_key *keys, size_t n_keys)
{
	const char *hint = suggest(scalar_text(key), keys, n_keys);

	if (hint)
		return fail_at(L->err, key->start_mark, "unknown key '%s' (did you mean '%s'?)",
			       path, hint);
	return fail_at(L->err, key->start_mark, "unknown key '%s'", path);
}

static const struct sn_key *find_key(const struct sn_key *keys, size_t n_keys, const char *name)
{
	for (size_t i = 0; i < n_keys; i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

static int apply_pair(struct loader *L, const yaml_node_pair_t *pairs, size_t i,
		      const char *prefix, const struct sn_key *keys, size_t n_keys)
{
	const yaml_node_t *key = yaml_document_get_node(L->doc, pairs[i].key);
	const yaml_node_t *value = yaml_document_get_node(L->doc, pairs[i].value);
	char path[128];

	if (key->type != YAML_SCALAR_NODE)
		return fail_at(L->err, key->start_mark, "%s%skeys must be plain names", prefix,
			       prefix[0] ? ": " : "");
	join_path(path, sizeof path, prefix, scalar_text(key));
	const struct sn_key *k = find_key(keys, n_keys, scalar_text(key));
	if (!k)
		return unknown_key(L, key, path, keys, n_keys);
	if (seen_before(L, pairs, i, k->name))
		return fail_at(L->err, key->start_mark, "duplicate key '%s'", path);
	return apply_key(L, value, path, k);
}

static int apply_section(struct loader *L, const yaml_node_t *n, const char *path,
			 const struct sn_key *keys, size_t n_keys)
{
	if (path[0] && is_null(n)) /* "capture:" with every key commented out */
		return 0;
	if (n->type != YAML_MAPPING_NODE) {
		if (!path[0])
			return fail_at(L->err, n->start_mark,
				       "the configuration must be a mapping of keys");
		return fail_at(L->err, n->start_mark, "%s: expected a mapping of keys", path);
	}
	yaml_node_pair_t *pairs = n->data.mapping.pairs.start;
	size_t count = (size_t)(n->data.mapping.pairs.top - pairs);
	for (size_t i = 0; i < count; i++)
		if (apply_pair(L, pairs, i, path, keys, n_keys) != 0)
			return -1;
	return 0;
}

/* `protocols:`: a section per registry protocol, each with port_keys. */
static int apply_protocols(struct loader *L, const yaml_node_t *n, const char *path)
{
	struct sn_key names[SN_PROTO_COUNT - 1];
	for (size_t p = SN_PROTO_MQTT; p < SN_PROTO_COUNT; p++)
		names[p - 1] = (struct sn_key){ .name = protocol_key(p), .kind = K_SECTION };
	if (is_null(n))
		return 0;
	if (n->type != YAML_MAPPING_NODE)
		return fail_at(L->err, n->start_mark, "%s: expected a mapping of keys", path);
	yaml_node_pair_t *pairs = n->data.mapping.pairs.start;
	size_t count = (size_t)(n->data.mapping.pairs.top - pairs);
	for (size_t i = 0; i < count; i++) {
		const yaml_node_t *key = yaml_document_get_node(L->doc, pairs[i].key);
		const yaml_node_t *value = yaml_document_get_node(L->doc, pairs[i].value);
		char sub[128];
		if (key->type != YAML_SCALAR_NODE)
			return fail_at(L->err, key->start_mark, "%s: keys must be plain names", path);
		snprintf(sub, sizeof sub, "%.40s.%.40s", path, scalar_text(key));
		const struct sn_key *k = find_key(names, ARRAY_SIZE(names), scalar_text(key));
		if (!k)
			return unknown_key(L, key, sub, names, ARRAY_SIZE(names));
		if (seen_before(L, pairs, i, k->name))
			return fail_at(L->err, key->start_mark, "duplicate key '%s'", sub);
		struct sn_key keys[N_PORT_KEYS];
		protocol_port_keys((size_t)(k - names) + SN_PROTO_MQTT, keys);
		if (apply_section(L, value, sub, keys, N_PORT_KEYS) != 0)
			return -1;
	}
	return 0;
}

/* ---- one port, one protocol ----------------------------------------------- */

struct port_ref {
	size_t proto;  /* enum sn_proto */
	bool tls;
	size_t index;
};

static const uint16_t *ref_list(const struct sn_config *cfg, const struct port_ref *r, size_t *n)
{
	const struct sn_proto_ports *pp = &cfg->protocols[r->proto];
	*n = r->tls ? pp->n_tls_ports : pp->n_ports;
	return r->tls ? pp->tls_ports : pp->ports;
}

/* The YAML node of a port entry, or NULL if it was not in this file. */
static const yaml_node_t *mapping_get(yaml_document_t *doc, const yaml_node_t *map,
				      const char *name)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		const yaml_node_t *key = yaml_document_get_node(doc, p->key);
		if (key->type == YAML_SCALAR_NODE && strcmp(scalar_text(key), name) == 0)
			return yaml_document_get_node(doc, p->value);
	}
	return NULL;
}

static const yaml_node_t *port_node(struct loader *L, const yaml_node_t *protocols,
				    const struct port_ref *r)
{
	const yaml_node_t *proto = mapping_get(L->doc, protocols, protocol_key(r->proto));
	const yaml_node_t *list = mapping_get(L->doc, proto, r->tls ? "tls_ports" : "ports");

	if (!list || list->type != YAML_SEQUENCE_NODE)
		return NULL;
	yaml_node_item_t *items = list->data.sequence.items.start;
	if (r->index >= (size_t)(list->data.sequence.items.top - items))
		return NULL;
	return yaml_document_get_node(L->doc, items[r->index]);
}

static int port_conflict(struct loader *L, const yaml_node_t *protocols,
			 const struct port_ref *first, const struct port_ref *second, uint16_t port)
{
	/* Blame the entry this file wrote; the later one when both are. */
	const struct port_ref *blame = second;
	const yaml_node_t *n = port_node(L, protocols, second);
	if (!n) {
		blame = first;
		n = port_node(L, protocols, first);
	}
	char path[80];
	snprintf(path, sizeof path, "protocols.%s.%s[%zu]", protocol_key(blame->proto),
		 blame->tls ? "tls_ports" : "ports", blame->index);
	const struct port_ref *other = blame == second ? first : second;
	const char *owner = protocol_key(other->proto);
	const char *fmt = first->proto == second->proto ? "%s: port %u is listed twice for %s"
							: "%s: port %u already belongs to %s";
	return fail_at(L->err, n ? n->start_mark : protocols->start_mark, fmt, path,
		       (unsigned)port, owner);
}

/* Finds the first earlier entry holding `port`; false when none. */
static bool port_owner(const struct sn_config *cfg, const struct port_ref *upto, uint16_t port,
		       struct port_ref *owner)
{
	for (owner->proto = SN_PROTO_MQTT; owner->proto <= upto->proto; owner->proto++) {
		for (int t = 0; t < 2; t++) {
			size_t n;
			owner->tls = t == 1;
			const uint16_t *list = ref_list(cfg, owner, &n);
			for (owner->index = 0; owner->index < n; owner->index++) {
				if (owner->proto == upto->proto && owner->tls == upto->tls &&
				    owner->index == upto->index)
					return false;
				if (list[owner->index] == port)
					return true;
			}
		}
	}
	return false;
}

static int check_ports(struct loader *L, const yaml_node_t *protocols)
{
	struct port_ref r, owner;

	for (r.proto = SN_PROTO_MQTT; r.proto < SN_PROTO_COUNT; r.proto++) {
		for (int t = 0; t < 2; t++) {
			size_t n;
			r.tls = t == 1;
			const uint16_t *list = ref_list(L->cfg, &r, &n);
			for (r.index = 0; r.index < n; r.index++)
				if (port_owner(L->cfg, &r, list[r.index], &owner))
					return port_conflict(L, protocols, &owner, &r,
							     list[r.index]);
		}
	}
	return 0;
}

/* ---- the two passes ----------------------------------------------------- */

static int syntax_error(const yaml_parser_t *p, struct sn_error *err)
{
	const char *problem = p->problem ? p->problem : "cannot parse";

	if (p->error == YAML_READER_ERROR) {
		yaml_mark_t none = { 0, 0, 0 };
		fail_at(err, none, "syntax error: %s (byte %zu)", problem, p->problem_offset);
		err->line = err->column = 0;
		return -1;
	}
	if (p->error == YAML_MEMORY_ERROR)
		problem = "out of memory";
	return fail_at(err, p->problem_mark, "syntax error: %s", problem);
}

/* The event pass: syntax errors, aliases and extra documents. */
static int scan_events(const char *yaml, size_t len, struct sn_error *err)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	int rc = 0, docs = 0;
	bool done = false;

	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
	while (!done && rc == 0) {
		if (!yaml_parser_parse(&parser, &ev)) {
			rc = syntax_error(&parser, err);
			break;
		}
		if (ev.type == YAML_ALIAS_EVENT)
			rc = fail_at(err, ev.start_mark, "aliases (*%s) are not supported",
				     (const char *)ev.data.alias.anchor);
		else if (ev.type == YAML_DOCUMENT_START_EVENT && ++docs > 1)
			rc = fail_at(err, ev.start_mark, "only one YAML document is allowed");
		done = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	return rc;
}

static int apply_document(struct sn_config *cfg, const char *yaml, size_t len,
			  struct sn_error *err)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	int rc;

	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
	if (!yaml_parser_load(&parser, &doc)) {
		rc = syntax_error(&parser, err);
		yaml_parser_delete(&parser);
		return rc;
	}
	struct loader L = { .doc = &doc, .cfg = cfg, .err = err };
	const yaml_node_t *root = yaml_document_get_root_node(&doc);
	rc = root ? apply_section(&L, root, "", top_keys, ARRAY_SIZE(top_keys)) : 0;
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return rc;
}

int sn_config_load_string(struct sn_config *cfg, const char *name, const char *yaml,
			  size_t len, struct sn_error *err)
{
	struct sn_config *work;
	yaml_mark_t none = { 0, 0, 0 };

	memset(err, 0, sizeof *err);
	snprintf(err->file, sizeof err->file, "%s", name);
	if (!yaml) /* libyaml asserts on a NULL input, even an empty one */
		yaml = "", len = 0;
	if (len > SN_CFG_MAX_BYTES)
		return fail_at(err, none, "larger than %d bytes", SN_CFG_MAX_BYTES);
	if (scan_events(yaml, len, err) != 0)
		return -1;
	work = malloc(sizeof *work);
	if (!work)
		return fail_at(err, none, "out of memory");
	*work = *cfg;
	int rc = apply_document(work, yaml, len, err);
	if (rc == 0)
		*cfg = *work;
	free(work);
	return rc;
}

/* Reads at most SN_CFG_MAX_BYTES + 1 bytes, so an oversized file is noticed. */
static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;

	if (!f)
		return NULL;
	buf = malloc(SN_CFG_MAX_BYTES + 2);
	if (!buf) {
		fclose(f);
		errno = ENOMEM;
		return NULL;
	}
	errno = 0;
	*len = fread(buf, 1, SN_CFG_MAX_BYTES + 1, f);
	int e = ferror(f) ? (errno ? errno : EIO) : 0;
	fclose(f);
	if (e) {
		free(buf);
		errno = e;
		return NULL;
	}
	buf[*len] = '\0';
	return buf;
}

int sn_config_load_file(struct sn_config *cfg, const char *path, struct sn_error *err)
{
	size_t len = 0;
	char *text = read_file(path, &len);

	if (!text) {
		int e = errno;
		memset(err, 0, sizeof *err);
		snprintf(err->file, sizeof err->file, "%s", path);
		snprintf(err->msg, sizeof err->msg, "cannot read '%s': %s", path, strerror(e));
		return -1;
	}
	int rc = sn_config_load_string(cfg, path, text, len, err);
	free(text);
	return rc;
}

/* ---- printing ------------------------------------------------------------ */

/* A double-quoted YAML string: always safe, whatever the text holds. */
/*
 * A YAML double-quoted string that loads back to exactly s.  Besides the
 * ASCII controls, the C1 controls (U+0080-U+009F, among them NEL) and the
 * line and paragraph separators U+2028/U+2029 are escaped: YAML reads them
 * raw as line breaks and would fold them to spaces.
 */
static void print_quoted(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		unsigned char c1 = (unsigned char)s[1];
		if (c == '"' || c == '\\') {
			fprintf(out, "\\%c", c);
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(out, "\\x%02x", c);
		} else if (c == 0xc2 && c1 >= 0x80 && c1 <= 0x9f) {
			fprintf(out, "\\u%04x", c1);
			s++;
		} else if (c == 0xe2 && c1 == 0x80 && (s[2] == '\xa8' || s[2] == '\xa9')) {
			fprintf(out, "\\u%04x", 0x2000u + ((unsigned char)s[2] - 0x80u));
			s += 2;
		} else {
			fputc(c, out);
		}
	}
	fputc('"', out);
}

static void print_list(FILE *out, const struct sn_config *cfg, const struct sn_key *k)
{
	const char *base = (const char *)cfg + k->off;
	size_t n = *(const size_t *)((const char *)cfg + k->count_off);
	char text[128];

	fputc('[', out);
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputs(", ", out);
		if (k->kind == K_PORTS) {
			fprintf(out, "%u", (unsigned)((const uint16_t *)base)[i]);
		} else if (k->kind == K_CIDRS) {
			sn_cidr_format(&((const struct sn_cidr *)base)[i], text, sizeof text);
			print_quoted(out, text);
		} else {
			print_quoted(out, ((const char (*)[SN_CFG_STR])base)[i]);
		}
	}
	fputs("]\n", out);
}

static void print_section(FILE *out, const struct sn_config *cfg, const struct sn_key *keys,
			  size_t n_keys, int depth)
{
	for (size_t i = 0; i < n_keys; i++) {
		const struct sn_key *k = &keys[i];
		const void *p = (const char *)cfg + k->off;
		fprintf(out, "%*s%s:", depth * 2, "", k->name);
		switch (k->kind) {
		case K_SECTION:
			fputc('\n', out);
			print_section(out, cfg, k->sub, k->n_sub, depth + 1);
			continue;
		case K_PROTOCOLS:
			fputc('\n', out);
			for (size_t pr = SN_PROTO_MQTT; pr < SN_PROTO_COUNT; pr++) {
				struct sn_key pk[N_PORT_KEYS];
				protocol_port_keys(pr, pk);
				fprintf(out, "%*s%s:\n", (depth + 1) * 2, "", protocol_key(pr));
				print_section(out, cfg, pk, N_PORT_KEYS, depth + 2);
			}
			continue;
		case K_STR:
		case K_TARGET:
			fputc(' ', out);
			print_quoted(out, p);
			fputc('\n', out);
			continue;
		case K_U32:
		case K_DURATION:
			fprintf(out, " %u\n", (unsigned)*(const uint32_t *)p);
			continue;
		case K_BOOL:
			fprintf(out, " %s\n", *(const bool *)p ? "true" : "false");
			continue;
		case K_SUSPICION:
			fprintf(out, " %s\n", sn_suspicion_name(*(const enum sn_suspicion *)p));
			continue;
		case K_FLUSH:
			fprintf(out, " %s\n", flush_name(*(const enum sn_flush_policy *)p));
			continue;
		case K_FACILITY:
			fprintf(out, " %s\n", sn_syslog_facility_name(*(const uint32_t *)p));
			continue;
		case K_ENUM: {
			int v = *(const int *)p;
			fprintf(out, " %s\n", v >= 0 && (size_t)v < k->n_names ? k->names[v] : "?");
			continue;
		}
		default:
			fputc(' ', out);
			print_list(out, cfg, k);
		}
	}
}

void sn_config_print(FILE *out, const struct sn_config *cfg)
{
	print_section(out, cfg, top_keys, ARRAY_SIZE(top_keys), 0);
}
