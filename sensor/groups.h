/*
 * groups.h - the aggregator: the search's `stats ... by` groups.
 *
 * A group is (src_ip, dest_ip, dest_port, Protocol, IsExternal,
 * process_name).  The aggregator takes connection reports from any number of
 * flow tables, counts connections and bytes per group, rates each group with
 * rules.c, and decides when to emit `alert` (first time the rule is met),
 * `update` (at most once per update interval while it changes) and `summary`
 * (when it ends: idle for the group window, evicted, shutdown, end of
 * input; replay has no window).  Allow-listed connections form groups of
 * their own that never alert and end with a summary (allowed_by).  It also
 * turns CLOSE reports into `flow` events when asked.  The table is sized
 * once; when full the least recently seen group is ended (summary) and
 * counted.
 */
#ifndef SN_GROUPS_H
#define SN_GROUPS_H

#include <stdbool.h>
#include <stdint.h>

#include "beacon.h"
#include "conn.h"
#include "lru.h"
#include "rules.h"

#define SN_GROUP_NAMES 16   /* Users and client_ids kept per group */
#define SN_GROUP_NAME_LEN 128
#define SN_GROUP_FLOW_IDS 64 /* flow_ids kept per group (the contract's maxItems) */

/* Lists that hit their cap (the events' `truncated`): more values were seen. */
enum sn_group_truncated {
	SN_TRUNC_USERS = 1 << 0,
	SN_TRUNC_CLIENT_IDS = 1 << 1,
	SN_TRUNC_TOPICS = 1 << 2,
	SN_TRUNC_FLOW_IDS = 1 << 3,
};

struct sn_group {
	/* the key */
	struct sn_addr src, dst;
	uint16_t dest_port;
	enum sn_proto proto;
	bool external;
	char process_name[64];        /* empty = null */
	bool allowed;                 /* a group of allow-listed connections (never alerts) */
	char allowed_by[SN_ALLOWED_BY_LEN]; /* the entry that allowed its first connection */

	/* the search's figures */
	uint64_t first_us, last_us;
	uint64_t connections;
	uint64_t bytes_sent, bytes_received;
	uint8_t n_users;
	char users[SN_GROUP_NAMES][SN_GROUP_NAME_LEN];       /* sorted */
	uint8_t n_client_ids;
	char client_ids[SN_GROUP_NAMES][SN_GROUP_NAME_LEN];  /* sorted */
	uint8_t n_flow_ids;
	uint64_t flow_ids[SN_GROUP_FLOW_IDS]; /* the first connections' flow_id, in OPEN order */
	uint8_t truncated;            /* enum sn_group_truncated bits */

	/* what the rules need */
	enum sn_proto port_proto;
	enum sn_evidence evidence;    /* best seen: payload > tls > port; refuted while
					 every connection's payload refuted its port */
	bool any_refuted;
	bool any_unrefuted;           /* some report's evidence was not refuted */
	uint64_t untrusted_mqtt;      /* connections whose client id matched no trusted pattern */
	char trusted_pattern[SN_CFG_STR];
	char tls_alpn[SN_META_ALPN_STR];
	bool has_details;
	struct sn_meta details;       /* first confirmed connection; topics merged */
	struct sn_rating rating;

	/* beacons: the last SN_BEACON_STARTS connection starts (a ring) */
	uint64_t starts[SN_BEACON_STARTS];
	uint8_t n_starts, starts_at;
	struct sn_beacon beacon;      /* samples 0: not (yet) regular */
	/* regular client messages inside one of its connections (the first
	 * found, kept fresh by that connection's later reports) */
	struct sn_beacon msg_beacon;  /* samples 0: none */
	enum sn_msg_kind msg_kind;
	uint32_t msg_messages;        /* messages of that kind the connection sent */
	uint64_t msg_flow_id;
	char dest_host[SN_META_STR];  /* the first server name a connection showed; "" = null */
	bool public_broker;           /* dest_host is on rules.public_brokers */
	uint16_t command_topics;      /* bit i: details.topics[i] matches a command pattern */
	uint32_t process_pid;         /* host attribution: the first connection's process */
	char process_exe[128];
	char process_user[64];

	/* emission state (groups.c only) */
	bool alerted;
	bool dirty;                   /* changed since the last event */
	uint64_t last_emit_us;
	uint32_t hash_next, dirty_next;
	struct sn_lru_link lru;       /* lru.h */
	bool in_use, on_dirty_list;
	uint32_t hash;
};

enum sn_group_event { SN_EV_ALERT = 0, SN_EV_UPDATE, SN_EV_SUMMARY };
const char *sn_group_event_name(enum sn_group_event k); /* "alert", "update", "summary" */

/* Where the aggregator's events go (events.c, and the replay table). */
struct sn_group_sink {
	void (*group_event)(void *ctx, enum sn_group_event kind, const struct sn_group *g,
			    uint64_t ts_us);
	/* msg_kind: the kind of client message that is regular in it (enum
	 * sn_msg_kind, rules.h's sn_rules_message_beacon), or -1 */
	void (*flow_event)(void *ctx, const struct sn_conn_report *r, enum sn_proto proto,
			   bool external, int msg_kind, uint64_t ts_us);
	void *ctx;
};

struct sn_groups_config {
	uint32_t max_groups;
	uint32_t group_window_s;  /* idle this long ends a group; 0: never (replay) */
	uint32_t update_interval_s;
	bool flow_events;
	uint64_t seed;            /* hash secret (sn_random_seed() per run) */
};

struct sn_groups_stats {
	uint64_t groups_active;
	uint64_t groups_created;
	uint64_t groups_evicted;
	uint64_t groups_expired;
	uint64_t alerts;
	uint64_t updates;
	uint64_t summaries;
	uint64_t connections;     /* OPEN reports counted */
	uint64_t allowed;         /* connections on an allow list (counted in allowed groups) */
	uint64_t allow_held;      /* connections held until their user was known */
	uint64_t allow_held_evicted; /* ... decided early: the hold table slot was needed */
	uint64_t probes;          /* groups compared while looking a key up */
	uint64_t refuted_ignored; /* refuted connections left out (rules.refuted: ignore) */
	/* groups that ended without alerting, by the threshold they missed */
	uint64_t below_connections; /* fewer than rules.min_connections (suspicion enough) */
	uint64_t below_suspicion;   /* rated below rules.min_suspicion (connections enough) */
	uint64_t below_both;
};

struct sn_groups;

struct sn_groups *sn_groups_create(const struct sn_groups_config *cfg, const struct sn_rules *rules,
				   const struct sn_group_sink *sink);
void sn_groups_destroy(struct sn_groups *g);

/* Swap in new rules (configuration reload); existing groups are re-rated. */
void sn_groups_set_rules(struct sn_groups *g, const struct sn_rules *rules);

/* A connection report from a flow table (matches sn_report_fn). */
void sn_groups_report(void *groups, const struct sn_conn_report *r);

/* Due updates and group expiry at packet time now_us. */
void sn_groups_tick(struct sn_groups *g, uint64_t now_us);

/* End every group with a summary (shutdown, end of input). */
void sn_groups_flush(struct sn_groups *g, uint64_t now_us);

void sn_groups_stats(const struct sn_groups *g, struct sn_groups_stats *out);

/* The longest hash chain (walks every bucket: for tests and benchmarks). */
uint32_t sn_groups_longest_chain(const struct sn_groups *g);

#endif /* SN_GROUPS_H */
