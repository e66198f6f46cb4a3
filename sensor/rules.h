/*
 * rules.h - the Splunk search's judgement, compiled from the configuration.
 *
 * Owns: home networks (IsExternal), the search's case() for Suspicion with its fixes, trusted
 * MQTT client patterns, allow lists, and the short sentences in `reasons`.
 * Knows nothing of pcap, libuv or output.
 */
#ifndef SN_RULES_H
#define SN_RULES_H

#include <regex.h>
#include <stdbool.h>
#include <stdint.h>

#include "beacon.h"
#include "config.h"
#include "conn.h"

#define SN_REASONS_MAX 8
#define SN_REASON_LEN 112

struct sn_rating {
	enum sn_suspicion suspicion;
	size_t n_reasons;
	char reasons[SN_REASONS_MAX][SN_REASON_LEN];
};

/* What the rules look at: one group's (or one connection's) facts. */
struct sn_rule_facts {
	enum sn_proto proto;
	enum sn_proto port_proto;     /* what the server port alone would say */
	uint16_t dest_port;
	bool external;
	enum sn_evidence evidence;    /* the group's best: payload > tls > port; refuted
					 when every connection's payload refuted port_proto */
	bool any_refuted;             /* some connection's payload refuted port_proto */
	bool midstream;               /* the details came from a mid-stream match */
	bool all_trusted_clients;     /* every MQTT client id matched a trusted pattern */
	const char *trusted_pattern;  /* the pattern that matched (for the reason) */
	const char *process_name;     /* NULL when unknown */
	const char *tls_alpn;         /* ALPN that named the protocol, or NULL */
	const char *ws_path;          /* the protocol rode WebSocket frames on this path, or NULL */
	const char *malformed;        /* what broke the handshake's specification, or NULL */
	const struct sn_beacon *beacon; /* the group's starts are regular, or NULL */
	const struct sn_beacon *msg_beacon; /* one connection's client messages are regular, or NULL */
	enum sn_msg_kind msg_kind;    /* ... of this kind */
	const char *public_broker;    /* the public broker entry dest_host matched, or NULL */
	const char *command_topic;    /* the first topic matching a command pattern, or NULL */
	size_t n_command_topics;
	uint64_t connections;
	uint32_t min_connections;
};

struct sn_rules {
	const struct sn_config *cfg;
	regex_t trusted[SN_CFG_MAX_PATTERNS];
	size_t n_trusted;
	regex_t trusted_proc[SN_CFG_MAX_PATTERNS];   /* rules.trusted_mqtt_processes */
	size_t n_trusted_proc;
	regex_t allow_client[SN_CFG_MAX_PATTERNS];   /* rules.allow_client_ids */
	size_t n_allow_client;
	regex_t allow_proc[SN_CFG_MAX_PATTERNS];     /* rules.allow_processes */
	size_t n_allow_proc;
};

/* Compiles the configuration.  0, or -1 with a message in err. */
int sn_rules_init(struct sn_rules *r, const struct sn_config *cfg, char *err, size_t errlen);
void sn_rules_free(struct sn_rules *r);

/* True when addr is outside every home network. */
bool sn_rules_is_external(const struct sn_rules *r, const struct sn_addr *addr);

/* The trusted_mqtt_processes pattern a process name matches, or NULL. */
const char *sn_rules_trusted_process(const struct sn_rules *r, const char *process_name);

/* The server's name as the wire told it: TLS SNI, WebSocket Host, XMPP `to`; "" if none. */
const char *sn_rules_server_name(const struct sn_meta *m);

/* The rules.public_brokers entry a server name is (or ends in "." and), or NULL. */
const char *sn_rules_public_broker(const struct sn_rules *r, const char *host);

/* True when a topic or filter is "#" or contains a rules.command_patterns word. */
bool sn_rules_command_topic(const struct sn_rules *r, const char *topic);

/* The pattern a client id matches, or NULL. */
const char *sn_rules_trusted_client(const struct sn_rules *r, const char *client_id);

/*
 * True when a connection is on an allow list (destination network, TLS
 * server name suffix, user, dest_host suffix, MQTT client id, process,
 * source network); the entry that allowed it goes to by[cap]
 * ("rules.allow_users[0]") when by is not NULL.  Such connections never
 * count toward an alert (groups.c).
 */
#define SN_ALLOWED_BY_LEN 48
bool sn_rules_allowed(const struct sn_rules *r, const struct sn_conn_report *c, char *by,
		      size_t cap);

/*
 * The kind of client message whose rhythm in one connection passes the
 * beacon thresholds (rules.beacon_min_gaps, beacon_max_jitter_pct),
 * PUBLISH before PINGREQ, or -1.
 */
int sn_rules_message_beacon(const struct sn_rules *r, const struct sn_conn_msgs *m);

/* A protocol's name for a kind of client message: "PINGREQ", "PUBLISH",
 * "heartbeat", "basic.publish" (reasons); "pingreq", "publish", "heartbeat"
 * (events). */
const char *sn_msg_kind_name(enum sn_proto proto, enum sn_msg_kind k);
const char *sn_msg_kind_key(enum sn_proto proto, enum sn_msg_kind k);

/* The search's case(), with its fixes, and the reasons for it. */
void sn_rules_rate(const struct sn_rules *r, const struct sn_rule_facts *f, struct sn_rating *out);

#endif /* SN_RULES_H */
