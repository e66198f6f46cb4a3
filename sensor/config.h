/*
 * config.h - the sensor's configuration as a plain struct.
 *
 * config.c reads YAML (libyaml) into struct sn_config.  Every key has a
 * compiled-in default equal to the shipped config/pubsub-sensor.yaml; a key
 * left out keeps its default.  Unknown keys, wrong types and bad values are
 * errors that carry file:line:column, the key path and, where one is close,
 * a suggestion.  Nothing here knows about pcap or libuv.
 */
#ifndef SN_CONFIG_H
#define SN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "addr.h"
#include "../dissectors/dissector.h"

enum sn_suspicion { SN_SUSP_LOW = 0, SN_SUSP_MEDIUM, SN_SUSP_HIGH };
const char *sn_suspicion_name(enum sn_suspicion s); /* "low", "medium", "high" */

/* rules.refuted: what a connection whose payload refuted its port does. */
enum sn_refuted_policy {
	SN_REFUTED_COUNT = 0, /* counted and rated as the search does (default) */
	SN_REFUTED_DEMOTE,    /* counted, a group of only such connections rated one step lower */
	SN_REFUTED_IGNORE,    /* left out of groups */
};

enum sn_flush_policy {
	SN_FLUSH_EVERY_EVENT = 0, /* one write(2) per event line, at once */
	SN_FLUSH_INTERVAL,        /* lines gathered and written each flush interval */
};

#define SN_CFG_MAX_NETS 64
#define SN_CFG_MAX_PORTS 16
#define SN_CFG_MAX_PATTERNS 32
#define SN_BEACON_STARTS 32 /* connection starts kept per group for beacons */
#define SN_CFG_STR 256

/* capture.attribution: find the local process of each connection. */
enum sn_attribution_mode { SN_ATTRIBUTION_AUTO = 0, SN_ATTRIBUTION_ON, SN_ATTRIBUTION_OFF };

struct sn_proto_ports {
	uint16_t ports[SN_CFG_MAX_PORTS];
	size_t n_ports;
	uint16_t tls_ports[SN_CFG_MAX_PORTS];
	size_t n_tls_ports;
};

struct sn_config {
	char sensor_name[128];          /* default: the host name */

	struct {
		char interface[64];     /* "" = none; -i overrides */
		char filter[1024];      /* BPF filter, "" = all traffic */
		uint32_t snaplen;       /* default 512 */
		uint32_t buffer_mib;    /* kernel buffer, default 64 */
		bool promiscuous;       /* default true */
		uint32_t workers;       /* capture threads, default 1 */
		int checksum_validation; /* enum sn_checksum_mode (checksum.h); default auto */
		uint16_t vxlan_ports[4]; /* UDP ports decoded as VXLAN; default [4789] */
		size_t n_vxlan_ports;
		uint16_t geneve_ports[4]; /* UDP ports decoded as Geneve; default [6081] */
		size_t n_geneve_ports;
		int attribution;        /* enum sn_attribution_mode; default auto */
		bool immediate;         /* not a key: set by the daemon when host attribution
					   runs, which must see each connection's first SYN
					   while the client still holds its socket */
	} capture;

	struct sn_cidr home_networks[SN_CFG_MAX_NETS];
	size_t n_home_networks;

	/* indexed by enum sn_proto (MQTT..STOMP); [SN_PROTO_NONE] unused */
	struct sn_proto_ports protocols[SN_PROTO_COUNT];

	struct {
		uint32_t min_connections;  /* alert when ConnectionCount >= this; default 2 */
		enum sn_suspicion min_suspicion; /* default medium */
		char trusted_mqtt_clients[SN_CFG_MAX_PATTERNS][SN_CFG_STR]; /* ERE, case-insensitive */
		size_t n_trusted_mqtt_clients;
		struct sn_cidr allow_destinations[SN_CFG_MAX_NETS];
		size_t n_allow_destinations;
		char allow_tls_server_names[SN_CFG_MAX_PATTERNS][SN_CFG_STR]; /* suffixes */
		size_t n_allow_tls_server_names;
		char allow_users[SN_CFG_MAX_PATTERNS][SN_CFG_STR];
		size_t n_allow_users;
		uint32_t nonstandard_port_raise; /* steps added for a protocol on a foreign port; default 1 */
		enum sn_refuted_policy refuted;  /* default count */
		uint32_t beacon_min_gaps;        /* gaps between connection starts needed; default 4 */
		uint32_t beacon_max_jitter_pct;  /* MAD/median at most this, in percent; default 10 */
		uint32_t beacon_raise;           /* steps a regular beacon adds; default 1 */
		uint32_t message_beacon_raise;   /* steps regular messages in one connection add; 1 */
		/* command channels: topic/destination substrings, case-insensitive */
		char command_patterns[SN_CFG_MAX_PATTERNS][SN_CFG_STR];
		size_t n_command_patterns;
		/* public brokers: server name suffixes (dest_host) */
		char public_brokers[SN_CFG_MAX_PATTERNS][SN_CFG_STR];
		size_t n_public_brokers;
		uint32_t public_broker_raise;    /* default 1 */
		/* more allow lists (same mechanism as allow_users) */
		char allow_server_names[SN_CFG_MAX_PATTERNS][SN_CFG_STR]; /* dest_host suffixes */
		size_t n_allow_server_names;
		char allow_client_ids[SN_CFG_MAX_PATTERNS][SN_CFG_STR]; /* ERE, case-insensitive */
		size_t n_allow_client_ids;
		char allow_processes[SN_CFG_MAX_PATTERNS][SN_CFG_STR];  /* ERE on process_name */
		size_t n_allow_processes;
		struct sn_cidr allow_sources[SN_CFG_MAX_NETS];
		size_t n_allow_sources;
		/* the search's mosquitto exception, by process name (ERE, case-sensitive) */
		char trusted_mqtt_processes[SN_CFG_MAX_PATTERNS][SN_CFG_STR];
		size_t n_trusted_mqtt_processes;
	} rules;

	struct {
		uint32_t max_flows;          /* default 262144 */
		uint32_t max_groups;         /* default 16384 */
		uint32_t classify_buffers;   /* default 4096 */
		uint32_t buffer_bytes;       /* first bytes kept per direction, default 2048 */
		uint32_t flow_timeout_new;   /* seconds, default 30 */
		uint32_t flow_timeout_established; /* default 600 */
		uint32_t flow_timeout_closed; /* default 10 */
		uint32_t group_window;       /* a group idle this long ends (summary); default 86400 */
		uint32_t update_interval;    /* at most one update per group per this; default 60 */
		uint32_t defrag_datagrams;   /* IP datagrams reassembled at once; default 1024 */
		uint32_t defrag_fragments;   /* fragments accepted per datagram; default 64 */
		uint32_t defrag_timeout;     /* seconds an incomplete datagram is held; default 30 */
		uint32_t message_timing_flows; /* MQTT connections whose message times are kept; 4096 */
	} tables;

	struct {
		char event_log[SN_CFG_STR];  /* path, "-" = stdout, "" = none */
		bool flows;                  /* flow events; default true */
		uint32_t stats_interval;     /* seconds between stats events (live); default 60 */
		enum sn_flush_policy flush;  /* default every_event */
		uint32_t flush_interval_ms;  /* for flush: interval; default 1000 */
		uint32_t error_report_interval; /* seconds between write-error reports; default 60 */
		uint32_t community_id_seed;  /* seed of flow events' Community ID, 0..65535; default 0 */
		uint32_t payload_bytes;      /* first bytes kept of the first client messages'
						payloads (details.payloads); default 0 = none */
		struct {
			char target[SN_CFG_STR]; /* "" = off; unix:, unix-stream:, udp://, tcp:// */
			uint32_t facility;       /* RFC 5424 code; default 21 (local5) */
			uint32_t queue_events;   /* messages waiting at most; default 10000 */
		} syslog;
	} output;

	struct {
		char user[64];               /* default "pubsub-sensor" */
		char group[64];              /* default "pubsub-sensor" */
		char pid_file[SN_CFG_STR];   /* default "" (none) */
		bool allow_root;             /* keep running as root; default false */
		bool retry_interface;        /* reopen a vanished interface; default false */
		uint32_t retry_interval;     /* seconds; default 5 */
	} daemon;
};

/* Where a configuration error is.  line/column are 1-based, 0 if unknown. */
struct sn_error {
	char file[SN_CFG_STR];
	int line, column;
	char msg[512]; /* "capture.snaplen: expected an integer" */
};

/* Formats "file:line:column: msg" (or "file: msg"). */
void sn_error_format(const struct sn_error *e, char *out, size_t cap);

void sn_config_defaults(struct sn_config *cfg);

/* Overlays the YAML file's keys on *cfg.  0, or -1 with *err filled. */
int sn_config_load_file(struct sn_config *cfg, const char *path, struct sn_error *err);
/* Same, from memory (tests, fuzzing); `name` is used in errors. */
int sn_config_load_string(struct sn_config *cfg, const char *name, const char *yaml,
			  size_t len, struct sn_error *err);

/*
 * Registers the check of capture.filter values (a BPF compiler; config.c
 * does not link libpcap).  Without one, any filter text is accepted.
 * fn returns 0, or -1 with a one-line reason in msg.
 */
typedef int (*sn_config_filter_check_fn)(const char *filter, char *msg, size_t cap);
void sn_config_set_filter_check(sn_config_filter_check_fn fn);
/* Syslog facility name for an RFC 5424 code ("local5"). */
const char *sn_syslog_facility_name(uint32_t code);
/* NULL when a syslog target's syntax is valid, else a short reason. */
const char *sn_syslog_target_check(const char *target);

/* Prints the effective configuration as YAML that loads back to the same. */
void sn_config_print(FILE *out, const struct sn_config *cfg);

#endif /* SN_CONFIG_H */
