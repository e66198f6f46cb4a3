/*
 * conn.h - what the per-connection side tells the aggregator.
 *
 * The flow table (one per capture worker) sends struct sn_conn_report for
 * each connection the rules may care about: one on a pub/sub port, or one a
 * dissector confirmed on any port.  Reports are plain values with no
 * pointers, so several workers can later feed one aggregator through a
 * queue.  Counters travel as deltas since the previous report of the same
 * connection, so the aggregator keeps no per-connection state.
 */
#ifndef SN_CONN_H
#define SN_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "beacon.h"
#include "../dissectors/dissector.h"

/*
 * Port map entry (65536 of them, built by portmap.c, read by flow.c): which
 * protocol a server port means, with SN_PORT_TLS for a TLS port.
 */
#define SN_PORT_PROTO_MASK 0x0f
#define SN_PORT_TLS 0x80

#define SN_CONN_TUNNEL_MAX 8 /* = SN_LAYERS_MAX */

enum sn_evidence {
	SN_EVIDENCE_PORT = 0, /* port only: nothing confirmed or refuted it */
	SN_EVIDENCE_TLS,      /* a TLS ClientHello on the protocol's TLS port (or its ALPN) */
	SN_EVIDENCE_PAYLOAD,  /* a dissector confirmed the protocol in clear */
	SN_EVIDENCE_REFUTED,  /* on a pub/sub port, but the payload is not that protocol */
};

/* "port", "tls", "payload", "refuted". */
const char *sn_evidence_name(enum sn_evidence e);

enum sn_close_reason {
	SN_CLOSE_NONE = 0, /* still open */
	SN_CLOSE_FIN,
	SN_CLOSE_RST,
	SN_CLOSE_TIMEOUT,
	SN_CLOSE_EVICTED,
	SN_CLOSE_SHUTDOWN,
	SN_CLOSE_END_OF_INPUT,
};

/* "fin", "rst", "timeout", "evicted", "shutdown", "end_of_input". */
const char *sn_close_reason_name(enum sn_close_reason r);

enum sn_report_kind {
	SN_REPORT_OPEN = 0, /* first report: the connection counts (server answered
			       or data flowed both ways) and its verdict is in */
	SN_REPORT_UPDATE,   /* richer metadata (meta_changed) or new byte counts */
	SN_REPORT_CLOSE,    /* last report: close says why */
};

/* Client messages whose times one followed connection keeps (msgtiming.h):
 * the keepalive (MQTT PINGREQ, AMQP 0-9-1 heartbeat frame) and publishes
 * (MQTT PUBLISH, AMQP basic.publish). */
enum sn_msg_kind { SN_MSG_KEEPALIVE = 0, SN_MSG_PUBLISH, SN_MSG_KINDS };

/* Whether a connection's client messages were timed, and why they stopped. */
enum sn_msg_timing {
	SN_MSGT_NONE = 0,     /* not followed: not MQTT (AMQP 0-9-1) in clear from its first byte */
	SN_MSGT_FOLLOWED,     /* every client byte since the verdict was walked */
	SN_MSGT_GAP,          /* stopped at a sequence gap, reordering or uncaptured bytes */
	SN_MSGT_MALFORMED,    /* stopped at bytes that are no MQTT fixed header (AMQP frame) */
	SN_MSGT_NO_STATE,     /* none followed: no follow state to be had (a pool of 0) */
	SN_MSGT_RECLAIMED,    /* stopped: a newer connection took the follow state of this,
				 the least recently active holder; its times went with it */
};

/*
 * The client messages of one connection: per kind, how many were seen and
 * the rhythm of the last SN_BEACON_STARTS of them, measured as beacon.c
 * measures connection starts but with no threshold applied (samples 0: fewer
 * than two, or a burst); the aggregator's rules decide what is regular.
 */
struct sn_conn_msgs {
	uint8_t timing;                       /* enum sn_msg_timing */
	uint32_t messages[SN_MSG_KINDS];
	struct sn_beacon rhythm[SN_MSG_KINDS];
};

/* Index 0: client to server ("sent"); 1: server to client ("received"). */
enum { SN_DIR_C2S = 0, SN_DIR_S2C = 1 };

struct sn_conn_report {
	enum sn_report_kind kind;
	uint64_t ts_us;               /* packet time of the packet that caused it */
	uint64_t first_us, last_us;   /* the connection's first and last packet */

	struct sn_addr client, server;
	uint16_t client_port, server_port;
	uint16_t vlan;
	/* Encapsulations removed to reach it, outermost first (decode.h's
	 * SN_LAYER encoding, details.tunnel); n_tunnel 0 = none. */
	uint8_t n_tunnel;
	uint32_t tunnel[SN_CONN_TUNNEL_MAX];

	enum sn_proto proto;          /* the protocol the connection is counted as */
	enum sn_proto port_proto;     /* the protocol its server port means, or NONE */
	bool port_is_tls;             /* the server port is that protocol's TLS port */
	enum sn_evidence evidence;

	uint64_t bytes[2], packets[2];        /* totals so far (IP-layer bytes) */
	uint64_t bytes_delta[2], packets_delta[2]; /* since the previous report */

	enum sn_close_reason close;   /* CLOSE only */
	bool meta_changed;            /* meta differs from the previous report */
	char process_name[64];        /* local attribution; empty = unknown (null) */
	char dest_host[SN_META_STR];  /* the server's name (set by the aggregator); "" = null */
	uint32_t process_pid;         /* host attribution (aggregator); 0 = unknown */
	char process_exe[128];
	char process_user[64];
	struct sn_meta meta;
	struct sn_conn_msgs msgs;     /* client message times (MQTT in clear) */
	uint64_t flow_id;              /* unique within one sensor run, the same in every
				       report of the connection: the capture worker's
				       index in the top 16 bits, a count below */
};

/* Where reports go: the aggregator directly, or later a queue to it. */
typedef void (*sn_report_fn)(void *ctx, const struct sn_conn_report *r);

#endif /* SN_CONN_H */
