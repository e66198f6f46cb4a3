/*
 * dissector.h - the one interface every protocol dissector implements.
 *
 * A dissector is a pure function over bytes: it is handed the first bytes of
 * each direction of one TCP connection, in sequence order (struct sn_stream),
 * and answers NEED_MORE, MATCH or NO_MATCH, filling a fixed-size struct
 * sn_meta that the caller owns.  It keeps no state between calls, touches no
 * global, allocates nothing and reads every byte through struct sn_cursor.
 * The core calls it again, from the start, each time more bytes arrive, so a
 * message split across segments is recognised once it is complete.
 *
 * Because dissectors see only plain bytes, a later carrier (WebSocket frames,
 * a TLS session with known keys) can hand them an unwrapped payload.
 */
#ifndef SN_DISSECTOR_H
#define SN_DISSECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cursor.h"
#include "meta_fields.h"

enum sn_verdict {
	SN_NEED_MORE = 0, /* not decided yet: call again with more bytes */
	SN_MATCH,         /* this protocol's opening is present and well formed */
	SN_NO_MATCH,      /* these bytes contradict this protocol */
	SN_MALFORMED,     /* the opening names this protocol (name, version) but the
			     handshake then breaks its specification: a match, with
			     meta->malformed saying what was wrong (Zeek's "protocol
			     violation"; from an implant, itself a signal) */
};

/* True for the two answers that confirm the protocol. */
static inline bool sn_verdict_confirms(enum sn_verdict v)
{
	return v == SN_MATCH || v == SN_MALFORMED;
}

/*
 * What carried the protocol's bytes to the dissector.  TLS: a ClientHello
 * whose protocol only its port names; TLS_ALPN: a ClientHello whose ALPN
 * names the protocol; WEBSOCKET: the protocol's messages rode WebSocket
 * frames (websocket.h).
 */
enum sn_carrier {
	SN_CARRIER_NONE = 0,
	SN_CARRIER_TLS,
	SN_CARRIER_TLS_ALPN,
	SN_CARRIER_WEBSOCKET,
};

/* The contract's `details.carrier` value ("tls-alpn", "websocket"), or NULL. */
const char *sn_carrier_name(enum sn_carrier c);

/*
 * The pub/sub protocols, in registry order: X(NAME, name) gives
 * SN_PROTO_NAME, SN_DISS_NAME and the entry point sn_diss_name
 * (dissectors/name.c).  A protocol is added here, in registry.c (its
 * entry) and in meta_fields.h (its fields).
 */
#define SN_PROTOCOLS(X) \
	X(MQTT, mqtt) \
	X(XMPP, xmpp) \
	X(AMQP, amqp) \
	X(STOMP, stomp)

#define SN_PROTO_ENUM(NAME, name) SN_PROTO_##NAME,
/* NONE: not (yet) one of the protocols. */
enum sn_proto {
	SN_PROTO_NONE = 0,
	SN_PROTOCOLS(SN_PROTO_ENUM)
	SN_PROTO_COUNT
};

/* "MQTT", "XMPP", "AMQP", "STOMP"; "none" for SN_PROTO_NONE. */
const char *sn_proto_name(enum sn_proto p);

#define SN_META_STR 128    /* longest kept identifier (client id, user, host...) */
#define SN_META_TOPICS 16  /* topics kept per connection (details.topics) */
#define SN_META_ALPN 8     /* ALPN protocol names kept */
#define SN_META_ALPN_STR 32
#define SN_META_MALFORMED 96 /* longest `malformed` explanation */
#define SN_META_USER_PROPS 16    /* MQTT 5.0 user properties kept (details.mqtt_user_properties) */
#define SN_META_USER_PROP_STR 64 /* longest kept "key=value" */
#define SN_META_PAYLOADS 4         /* client messages whose payload is kept (details.payloads) */
#define SN_META_PAYLOAD_MAX 256    /* most bytes kept of one payload: output.payload_bytes' cap */
#define SN_META_PAYLOAD_POOL 512   /* bytes kept of all of them together */
#define SN_META_PAYLOAD_NO_TOPIC 0xff

/*
 * The first bytes of the first client messages' payloads (MQTT PUBLISH,
 * STOMP SEND body, AMQP content body), kept only when the core asks for
 * them (struct sn_stream.payload_bytes, from output.payload_bytes): empty
 * by default.  The bytes of all of them share one pool, so the struct stays
 * small; a payload cut (by the setting or the pool) says so.
 */
struct sn_meta_payload {
	uint32_t size;      /* the payload's length on the wire */
	uint16_t off, len;  /* the bytes kept: pool[off .. off + len) */
	uint8_t topic;      /* index in meta->topics, or SN_META_PAYLOAD_NO_TOPIC */
	bool cut;           /* len < size */
};

struct sn_meta_payloads {
	uint8_t n;
	uint16_t used;      /* pool bytes taken */
	struct sn_meta_payload item[SN_META_PAYLOADS];
	uint8_t pool[SN_META_PAYLOAD_POOL];
};

/*
 * What a dissector learned.  Every string is NUL-terminated and empty when
 * absent; `has_*` flags mark optional scalars.  Nothing points into the
 * packet, so the struct can be copied and kept after the call returns.
 */
struct sn_meta {
	enum sn_proto proto;   /* protocol confirmed; NONE for a bare TLS hello */
	uint32_t skip;         /* NEED_MORE only: leading client bytes the dissector
				  has finished with (an XML prolog); the core may
				  drop them to make room, and calls again with the
				  bytes after them (client_at_start stays true) */
	uint32_t want;         /* NEED_MORE only: client bytes the dissector needs in all
				  (a TLS ClientHello longer than the core's buffer), 0
				  when unknown; the core may give the flow a larger
				  buffer to hold them */
	/* the protocol and carrier fields, declared in meta_fields.h */
	SN_META_FIELDS(SN_META_DECL)
	SN_META_CARRIER_FIELDS(SN_META_DECL)
};

/*
 * The fields of struct sn_meta as a table (meta_fields.c, from
 * meta_fields.h): comparison for updates, `details` in events and the
 * report command's read-back walk it.
 */
enum sn_meta_kind {
	SN_MK_STR, SN_MK_LIST, SN_MK_UINT, SN_MK_BOOL, SN_MK_FLAG, SN_MK_CARRIER, SN_MK_PAYLOADS
};

struct sn_meta_field {
	const char *json;      /* key in `details`, or NULL */
	enum sn_meta_kind kind;
	size_t off;            /* the value: char[size], char[items][size], uint16_t, bool, enum,
				  struct sn_meta_payloads */
	size_t aux_off;        /* LIST: uint8_t count; UINT, BOOL: bool has_ flag */
	size_t size;           /* STR: buffer; LIST: one item's buffer */
	size_t items;          /* LIST: capacity */
};

/* Every field, in `details` order; the first sn_meta_n_proto_fields come
 * before a connection's tunnel, the rest (carrier fields) after it. */
extern const struct sn_meta_field sn_meta_fields[];
extern const size_t sn_meta_n_fields, sn_meta_n_proto_fields;

/* Whether x and y hold the same metadata (every field, and proto). */
bool sn_meta_same(const struct sn_meta *x, const struct sn_meta *y);


/*
 * The bytes a dissector is handed: each direction from its first byte, in
 * sequence order, up to the core's bound.  `client` is the side that opened
 * the connection (or the core's best guess when the handshake was missed).
 */
struct sn_stream {
	const uint8_t *client;
	size_t client_len;
	const uint8_t *server;
	size_t server_len;
	bool client_at_start; /* client bytes begin at the stream's first byte */
	bool final;           /* no more bytes will come: give a definite answer */
	uint16_t payload_bytes; /* first bytes of client message payloads to keep in
				   meta->payloads (output.payload_bytes); 0: none */
};

/*
 * Fill *out (already zeroed by the caller) from s.  MATCH may be answered
 * before every detail is in (topics published later, a SASL exchange after
 * the stream header); the core calls again while bytes keep arriving within
 * its bound and takes the richer metadata.
 */
typedef enum sn_verdict (*sn_dissect_fn)(const struct sn_stream *s, struct sn_meta *out);

#define SN_DISS_MAX_PORTS 4 /* default ports listed per dissector (0 ends a list) */
#define SN_DISS_MAX_NAMES 8 /* ALPN or WebSocket names per dissector (NULL ends a list) */

/*
 * A registry entry: everything the rest of the sensor needs to know about a
 * protocol.  The configuration's `protocols.<name>` section and its default
 * ports, the port map built from them, the protocol's name in events, the
 * probe budget, the TLS ALPN and WebSocket subprotocol names that announce
 * it and its rule reason all follow from this entry.
 */
struct sn_dissector {
	const char *name;      /* "mqtt", "xmpp", "amqp", "stomp", "tls"; the config key */
	const char *label;     /* the contract's protocol name ("MQTT"); NULL for tls */
	enum sn_proto proto;   /* NONE for tls: it is a carrier, not a protocol */
	sn_dissect_fn dissect;
	uint16_t ports[SN_DISS_MAX_PORTS];     /* default clear-text server ports */
	uint16_t tls_ports[SN_DISS_MAX_PORTS]; /* default TLS server ports */
	uint32_t probe_budget; /* leading client bytes this dissector may have dropped
				  (meta->skip) before it decides; 0: it never skips */
	const char *alpn[SN_DISS_MAX_NAMES];         /* TLS ALPN names that announce it */
	const char *ws_protocols[SN_DISS_MAX_NAMES]; /* Sec-WebSocket-Protocol names */
	const char *in_clear;  /* the reason a payload match gives ("MQTT CONNECT seen in clear") */
	const char *opening;   /* the bytes a client stream seen from its start can begin
				  with (Zeek's cheap signature before the analyzer); NULL:
				  any.  The core answers NO_MATCH for any other first byte
				  without calling the dissector (test_registry holds the
				  dissectors to it) */
	void (*clear)(struct sn_meta *m); /* zeroes every byte of a meta the dissector may
				  set, so a meta it wrote from zero is all zero again
				  (cheaper than clearing the whole struct before the next
				  call); NULL: it may set anything.  Its unit test holds
				  the dissector to it */
};

#define SN_DISS_ENUM(NAME, name) SN_DISS_##NAME,
/* The protocols' dissectors in SN_PROTOCOLS order, then TLS (a carrier). */
enum sn_dissector_id {
	SN_PROTOCOLS(SN_DISS_ENUM)
	SN_DISS_TLS,
	SN_DISS_COUNT
};
_Static_assert(SN_DISS_COUNT <= 8, "detect.c keeps refusals in one byte");

/* registry.c: the table of dissectors, indexed by enum sn_dissector_id. */
const struct sn_dissector *sn_dissector_get(enum sn_dissector_id id);
/* The dissector for a protocol (MQTT..STOMP), or NULL. */
const struct sn_dissector *sn_dissector_for_proto(enum sn_proto p);
/* The number of default ports in a registry list (ports or tls_ports). */
size_t sn_dissector_port_count(const uint16_t ports[SN_DISS_MAX_PORTS]);
/* The largest probe budget of any dissector: what a flow may drop undecided. */
uint32_t sn_dissector_probe_budget(void);

/* One entry point per protocol (dissectors/<name>.c). */
#define SN_DISS_DECL(NAME, name) \
	enum sn_verdict sn_diss_##name(const struct sn_stream *s, struct sn_meta *out);
SN_PROTOCOLS(SN_DISS_DECL)
enum sn_verdict sn_diss_tls(const struct sn_stream *s, struct sn_meta *out);
/* Zeroes the fields sn_diss_tls may set (its registry entry's `clear`). */
void sn_tls_clear(struct sn_meta *m);

/* The protocol an ALPN protocol name announces (registry entries' `alpn`), or NONE. */
enum sn_proto sn_registry_alpn_proto(const uint8_t *name, size_t n);
/* The protocol a Sec-WebSocket-Protocol name announces (case-insensitive), or NONE. */
enum sn_proto sn_registry_ws_proto(const char *name);

/* Helpers shared by dissectors (registry.c). */

/* Copy a string into a meta field, truncating and flagging meta->truncated. */
void sn_meta_set(struct sn_meta *m, char *dst, size_t cap, const char *src, size_t n);
/* Says what broke the specification (meta->malformed), printf-style. */
void sn_meta_malformed(struct sn_meta *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append a topic unless already present or the list is full; its index in
 * m->topics, or -1 when it is not listed (empty, or the list was full). */
int sn_meta_add_topic(struct sn_meta *m, const char *topic, size_t n);
/* Keep the first s->payload_bytes bytes of one client message's payload
 * p[0..n) (nothing when that is 0 or SN_META_PAYLOADS are kept already);
 * topic: its index in m->topics, or -1. */
void sn_meta_add_payload(struct sn_meta *m, const struct sn_stream *s, int topic,
			 const uint8_t *p, size_t n);
/* Decode RFC 4648 base64 (whitespace ignored); returns bytes written or -1. */
long sn_base64_decode(const char *in, size_t n, uint8_t *out, size_t cap);

#endif /* SN_DISSECTOR_H */
