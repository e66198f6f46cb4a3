/*
 * meta_fields.h - the metadata fields of struct sn_meta, declared once.
 *
 * Each line X(kind, name, json, a, b) declares one field of struct sn_meta
 * and says how it is compared, written into an event's `details` and read
 * back by the report command (meta_fields.c walks the same list):
 *
 *   STR     char name[a]                       "json": string, absent when empty
 *   LIST    uint8_t n_name; char name[a][b]    "json": array of strings, absent when empty
 *   UINT    bool has_name; uint16_t name       "json": integer, when has_name
 *   BOOL    bool has_name; bool name           "json": boolean, when has_name
 *   FLAG    bool name                          "json": true, only when set
 *   CARRIER enum sn_carrier name               "json": sn_carrier_name(), when it has one
 *   PAYLOADS struct sn_meta_payloads name      "json": array of objects, absent when empty
 *
 * json NULL: the field is compared for updates but not written in `details`
 * (client_id and user go to client_ids and Users; the rest are bookkeeping).
 * The order of the lines is the order of `details` in events; the
 * connection's `tunnel` (not a dissector's field) is written between
 * SN_META_FIELDS and SN_META_CARRIER_FIELDS.  A new protocol adds its
 * lines here, in its own block.
 */
#ifndef SN_META_FIELDS_H
#define SN_META_FIELDS_H

#define SN_META_FIELDS(X) \
	X(FLAG, truncated, NULL, 0, 0)          /* some string was longer than its field */ \
	X(FLAG, midstream, NULL, 0, 0)          /* confirmed mid-stream, without the handshake */ \
	X(STR, client_id, NULL, SN_META_STR, 0) /* MQTT client identifier */ \
	X(FLAG, has_client_id, NULL, 0, 0)      /* the client id was on the wire (maybe empty) */ \
	X(STR, user, NULL, SN_META_STR, 0)      /* MQTT username, STOMP login, XMPP user, AMQP user */ \
	/* MQTT */ \
	X(STR, mqtt_version, "mqtt_version", 8, 0) /* "3.1", "3.1.1", "5.0" */ \
	X(UINT, keepalive, "keepalive", 0, 0) \
	X(BOOL, clean_session, "clean_session", 0, 0) \
	X(STR, will_topic, "will_topic", SN_META_STR, 0) \
	X(LIST, topics, "topics", SN_META_TOPICS, SN_META_STR) \
	X(FLAG, topics_truncated, NULL, 0, 0)   /* a further topic came when the list was full */ \
	X(LIST, mqtt_user_properties, "mqtt_user_properties", SN_META_USER_PROPS, \
	  SN_META_USER_PROP_STR)                /* MQTT 5.0 CONNECT user properties, "key=value" */ \
	X(FLAG, mqtt_user_properties_truncated, "mqtt_user_properties_truncated", 0, 0) \
	/* XMPP */ \
	X(STR, xmpp_to, "xmpp_to", SN_META_STR, 0) \
	X(STR, xmpp_from, "xmpp_from", SN_META_STR, 0) \
	X(STR, xmpp_ns, "xmpp_ns", 32, 0)       /* "jabber:client", "jabber:server", ... */ \
	X(STR, xmpp_version, "xmpp_version", 16, 0) \
	X(BOOL, starttls, "starttls", 0, 0) \
	X(STR, xmpp_user, "xmpp_user", SN_META_STR, 0) /* SASL PLAIN authcid or SCRAM n= user */ \
	X(STR, xmpp_jid, "xmpp_jid", SN_META_STR, 0)   /* bound JID (server's <jid>, else requested) */ \
	/* AMQP */ \
	X(STR, amqp_version, "amqp_version", 12, 0) /* "0-9-1", "0-10", "1.0", "1.0-sasl"... */ \
	X(STR, amqp_vhost, "amqp_vhost", SN_META_STR, 0) /* 0-9-1 Connection.Open virtual-host */ \
	X(STR, amqp_connection_name, "amqp_connection_name", SN_META_STR, 0) /* Start-Ok property */ \
	/* STOMP */ \
	X(STR, stomp_command, "stomp_command", 8, 0) /* "CONNECT" or "STOMP" */ \
	X(STR, stomp_accept_version, "stomp_accept_version", 32, 0) \
	X(STR, stomp_host, "stomp_host", SN_META_STR, 0) \
	/* any protocol: the first bytes of the first client messages (output.payload_bytes) */ \
	X(PAYLOADS, payloads, "payloads", 0, 0) \
	/* TLS ClientHello (any port); a parsed hello sets carrier TLS or TLS_ALPN */ \
	X(STR, tls_sni, "tls_sni", SN_META_STR, 0) \
	X(LIST, tls_alpn, "tls_alpn", SN_META_ALPN, SN_META_ALPN_STR)

#define SN_META_CARRIER_FIELDS(X) \
	X(CARRIER, carrier, "carrier", 0, 0) \
	X(STR, ws_path, "ws_path", SN_META_STR, 0) \
	X(STR, ws_host, "ws_host", SN_META_STR, 0) \
	X(STR, ws_protocol, "ws_protocol", 32, 0) \
	X(STR, malformed, "malformed", SN_META_MALFORMED, 0) /* with SN_MALFORMED: what broke the spec */ \
	X(FLAG, truncated_handshake, "truncated_handshake", 0, 0) /* the handshake ran past the bytes kept */

/* struct sn_meta members of one line. */
#define SN_META_DECL(kind, name, json, a, b) SN_META_DECL_##kind(name, a, b)
#define SN_META_DECL_STR(name, a, b) char name[a];
#define SN_META_DECL_LIST(name, a, b) uint8_t n_##name; char name[a][b];
#define SN_META_DECL_UINT(name, a, b) bool has_##name; uint16_t name;
#define SN_META_DECL_BOOL(name, a, b) bool has_##name; bool name;
#define SN_META_DECL_FLAG(name, a, b) bool name;
#define SN_META_DECL_CARRIER(name, a, b) enum sn_carrier name;
#define SN_META_DECL_PAYLOADS(name, a, b) struct sn_meta_payloads name;

#endif /* SN_META_FIELDS_H */
