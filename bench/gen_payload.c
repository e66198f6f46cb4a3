/*
 * gen_payload.c - the application bytes of generated connections: the
 * opening messages each protocol really sends and data messages of a
 * requested size that stay well formed, so dissectors that keep reading
 * after the handshake see plausible traffic.
 *
 *   MQTT 3.1.1: CONNECT with client id, user and password (section 3.1),
 *               CONNACK, SUBSCRIBE, SUBACK, then PUBLISH (section 3.3)
 *   XMPP:       stream headers (RFC 6120 section 4.7), features, SASL PLAIN
 *               <auth> and <success/>, then <message/> stanzas
 *   AMQP 0-9-1: protocol header, Connection.Start, Start-Ok (PLAIN), Tune,
 *               then content body frames (section 4.2.3)
 *   STOMP 1.2:  CONNECT and CONNECTED, then SEND and MESSAGE frames
 *   others:     an HTTP/1.1 exchange, a TLS 1.3 ClientHello (RFC 8446
 *               section 4.1.2) and opaque records, SSH banners (RFC 4253
 *               section 4.2), random bytes
 */
#include <stdio.h>
#include <string.h>

#include "gen.h"

#define FILL_LEN 65536

static uint8_t binary_fill[FILL_LEN];
static uint8_t text_fill[FILL_LEN];

/* A bounded writer: writes past cap are dropped, len keeps the truth. */
struct out {
	uint8_t *p;
	size_t len, cap;
};

static void put(struct out *o, const void *src, size_t n)
{
	if (o->len + n <= o->cap)
		memcpy(o->p + o->len, src, n);
	o->len += n;
}

static void put_str(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void put_u8(struct out *o, uint32_t v)
{
	uint8_t b = (uint8_t)v;
	put(o, &b, 1);
}

static void put_be16(struct out *o, uint32_t v)
{
	put_u8(o, v >> 8);
	put_u8(o, v);
}

static void put_be32(struct out *o, uint32_t v)
{
	put_be16(o, v >> 16);
	put_be16(o, v & 0xffff);
}

static void put_fill(struct out *o, const uint8_t *fill, size_t n, struct sn_gen_rng *r)
{
	if (n > FILL_LEN)
		n = FILL_LEN;
	put(o, fill + sn_gen_below(r, (uint32_t)(FILL_LEN - n + 1)), n);
}

static size_t done(const struct out *o)
{
	return o->len <= o->cap ? o->len : o->cap;
}

void sn_gen_payload_init(struct sn_gen_rng *r)
{
	static const char letters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ";
	for (size_t i = 0; i < FILL_LEN; i++) {
		binary_fill[i] = (uint8_t)sn_gen_next(r);
		text_fill[i] = (uint8_t)letters[sn_gen_below(r, sizeof letters - 1)];
	}
}

/* ---- MQTT 3.1.1 --------------------------------------------------------- */

static size_t varint_len(size_t v)
{
	return v < 128 ? 1 : v < 16384 ? 2 : 3;
}

static void put_varint(struct out *o, size_t v)
{
	do {
		uint32_t b = (uint32_t)(v & 0x7f);
		v >>= 7;
		put_u8(o, v ? b | 0x80 : b);
	} while (v);
}

static void put_mqtt_str(struct out *o, const char *s)
{
	put_be16(o, (uint32_t)strlen(s));
	put_str(o, s);
}

static void mqtt_connect(const struct sn_gen_conn *c, struct out *o)
{
	char id[32], user[32];
	snprintf(id, sizeof id, "implant-%06x", c->tag & 0xffffff);
	snprintf(user, sizeof user, "dev%u", c->tag % 1000);
	size_t rl = 10 + 2 + strlen(id) + 2 + strlen(user) + 2 + 6;
	put_u8(o, 0x10);
	put_varint(o, rl);
	put_mqtt_str(o, "MQTT");
	put_u8(o, 4);    /* protocol level 4 = 3.1.1 */
	put_u8(o, 0xc2); /* user name, password, clean session */
	put_be16(o, 60); /* keep alive */
	put_mqtt_str(o, id);
	put_mqtt_str(o, user);
	put_mqtt_str(o, "secret");
}

static void mqtt_subscribe(const struct sn_gen_conn *c, struct out *o)
{
	char topic[48];
	snprintf(topic, sizeof topic, "c2/%u/cmd", c->tag);
	put_u8(o, 0x82);
	put_varint(o, 2 + 2 + strlen(topic) + 1);
	put_be16(o, 1); /* packet identifier */
	put_mqtt_str(o, topic);
	put_u8(o, 0); /* QoS 0 */
}

/* PUBLISH QoS 0 whose whole packet is about `want` bytes. */
static void mqtt_publish(const struct sn_gen_conn *c, enum sn_gen_dir d, size_t want, struct out *o,
			 struct sn_gen_rng *r)
{
	char topic[48];
	snprintf(topic, sizeof topic, "c2/%u/%s", c->tag, d == SN_GEN_TO_SERVER ? "out" : "cmd");
	size_t fixed = 2 + strlen(topic);
	size_t rl = want > fixed + 4 ? want - 4 : fixed;
	while (1 + varint_len(rl) + rl > want && rl > fixed)
		rl--;
	put_u8(o, 0x30);
	put_varint(o, rl);
	put_mqtt_str(o, topic);
	put_fill(o, binary_fill, rl - fixed, r);
}

static void mqtt_handshake(const struct sn_gen_conn *c, uint16_t i, struct out *o)
{
	static const uint8_t connack[] = { 0x20, 0x02, 0x00, 0x00 };
	static const uint8_t suback[] = { 0x90, 0x03, 0x00, 0x01, 0x00 };
	if (i == 0)
		mqtt_connect(c, o);
	else if (i == 1)
		put(o, connack, sizeof connack);
	else if (i == 2)
		mqtt_subscribe(c, o);
	else
		put(o, suback, sizeof suback);
}

/* ---- XMPP --------------------------------------------------------------- */

static void xmpp_handshake(uint16_t i, struct out *o)
{
	static const char *const msgs[] = {
		"<?xml version='1.0'?><stream:stream to='example.net' xmlns='jabber:client' "
		"xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>",
		"<?xml version='1.0'?><stream:stream from='example.net' id='b3f1c9a2' "
		"xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"
		"<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
		"<mechanism>PLAIN</mechanism></mechanisms></stream:features>",
		/* base64 of "\0bot\0secret" */
		"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGJvdABzZWNyZXQ=</auth>",
		"<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>",
	};
	put_str(o, msgs[i & 3]);
}

static void xmpp_message(size_t want, struct out *o, struct sn_gen_rng *r)
{
	static const char head[] = "<message to='c2@example.net' type='chat'><body>";
	static const char tail[] = "</body></message>";
	size_t fixed = sizeof head - 1 + sizeof tail - 1;
	put_str(o, head);
	put_fill(o, text_fill, want > fixed ? want - fixed : 1, r);
	put_str(o, tail);
}

/* ---- AMQP 0-9-1 --------------------------------------------------------- */

/* A method frame on channel 0: header, class/method, args, frame end. */
static void amqp_method(struct out *o, uint32_t method, const uint8_t *args, size_t n)
{
	put_u8(o, 1);
	put_be16(o, 0);
	put_be32(o, (uint32_t)(4 + n));
	put_be16(o, 10); /* class connection */
	put_be16(o, method);
	put(o, args, n);
	put_u8(o, 0xce);
}

static void amqp_handshake(uint16_t i, struct out *o)
{
	/* Start: 0-9, empty server-properties, mechanisms, locales */
	static const uint8_t start[] = { 0, 9, 0, 0, 0, 0, 0, 0, 0, 14, 'P', 'L', 'A', 'I', 'N', ' ',
					 'A', 'M', 'Q', 'P', 'L', 'A', 'I', 'N', 0, 0, 0, 5, 'e',
					 'n', '_', 'U', 'S' };
	/* Start-Ok: empty client-properties, PLAIN, "\0c2user\0secret", en_US */
	static const uint8_t start_ok[] = { 0, 0, 0, 0, 5, 'P', 'L', 'A', 'I', 'N', 0, 0, 0, 14, 0,
					    'c', '2', 'u', 's', 'e', 'r', 0, 's', 'e', 'c', 'r', 'e',
					    't', 5, 'e', 'n', '_', 'U', 'S' };
	/* Tune: channel-max 2047, frame-max 131072, heartbeat 60 */
	static const uint8_t tune[] = { 0x07, 0xff, 0x00, 0x02, 0x00, 0x00, 0x00, 0x3c };
	static const uint8_t header[] = { 'A', 'M', 'Q', 'P', 0, 0, 9, 1 };
	if (i == 0)
		put(o, header, sizeof header);
	else if (i == 1)
		amqp_method(o, 10, start, sizeof start);
	else if (i == 2)
		amqp_method(o, 11, start_ok, sizeof start_ok);
	else
		amqp_method(o, 30, tune, sizeof tune);
}

static void amqp_body(size_t want, struct out *o, struct sn_gen_rng *r)
{
	size_t n = want > 8 ? want - 8 : 1;
	put_u8(o, 3); /* content body frame */
	put_be16(o, 1);
	put_be32(o, (uint32_t)n);
	put_fill(o, binary_fill, n, r);
	put_u8(o, 0xce);
}

/* ---- STOMP 1.2 ---------------------------------------------------------- */

static void stomp_handshake(uint16_t i, struct out *o)
{
	static const char connect[] = "CONNECT\naccept-version:1.2\nhost:broker.example.net\n"
				      "login:implant\npasscode:secret\nheart-beat:0,0\n\n";
	static const char connected[] = "CONNECTED\nversion:1.2\nheart-beat:0,0\n\n";
	if (i == 0)
		put(o, connect, sizeof connect); /* sizeof keeps the NUL terminator */
	else
		put(o, connected, sizeof connected);
}

static void stomp_frame(enum sn_gen_dir d, size_t want, struct out *o, struct sn_gen_rng *r)
{
	char head[128];
	size_t body = want > 100 ? want - 100 : 1;
	int n = snprintf(head, sizeof head,
			 d == SN_GEN_TO_SERVER ? "SEND\ndestination:/queue/c2\ncontent-length:%zu\n\n"
					       : "MESSAGE\ndestination:/queue/c2\nmessage-id:1\n"
						 "subscription:0\ncontent-length:%zu\n\n",
			 body);
	put(o, head, (size_t)n);
	put_fill(o, text_fill, body, r);
	put_u8(o, 0);
}

/* ---- not pub/sub -------------------------------------------------------- */

static void tls_extension(struct out *o, uint32_t type, const uint8_t *body, size_t n)
{
	put_be16(o, type);
	put_be16(o, (uint32_t)n);
	put(o, body, n);
}

static void tls_client_hello(struct out *o, struct sn_gen_rng *r)
{
	static const uint8_t sni[] = { 0, 18, 0, 0, 15, 'w', 'w', 'w', '.', 'e', 'x', 'a',
				       'm', 'p', 'l', 'e', '.', 'c', 'o', 'm' };
	static const uint8_t alpn[] = { 0, 12, 2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1' };
	static const uint8_t versions[] = { 4, 0x03, 0x04, 0x03, 0x03 };
	static const uint8_t suites[] = { 0, 6, 0x13, 0x01, 0x13, 0x02, 0x13, 0x03 };
	const size_t ext_len = 4 + sizeof sni + 4 + sizeof alpn + 4 + sizeof versions;
	const size_t body = 2 + 32 + 1 + 32 + sizeof suites + 2 + 2 + ext_len;
	put_u8(o, 0x16); /* handshake record, legacy version 3.1 */
	put_be16(o, 0x0301);
	put_be16(o, (uint32_t)(4 + body));
	put_u8(o, 1); /* ClientHello */
	put_u8(o, 0);
	put_be16(o, (uint32_t)body);
	put_be16(o, 0x0303);
	put_fill(o, binary_fill, 32, r); /* random */
	put_u8(o, 32);
	put_fill(o, binary_fill, 32, r); /* legacy session id */
	put(o, suites, sizeof suites);
	put_u8(o, 1);
	put_u8(o, 0); /* null compression */
	put_be16(o, (uint32_t)ext_len);
	tls_extension(o, 0, sni, sizeof sni);
	tls_extension(o, 16, alpn, sizeof alpn);
	tls_extension(o, 43, versions, sizeof versions);
}

static void tls_record(struct out *o, uint32_t type, size_t want, struct sn_gen_rng *r)
{
	size_t n = want > 5 ? want - 5 : 1;
	put_u8(o, type);
	put_be16(o, 0x0303);
	put_be16(o, (uint32_t)n);
	put_fill(o, binary_fill, n, r);
}

static void http_handshake(uint16_t i, struct out *o)
{
	if (i == 0)
		put_str(o, "GET /index.html HTTP/1.1\r\nHost: www.example.com\r\n"
			   "User-Agent: Mozilla/5.0\r\nAccept: */*\r\n\r\n");
	else
		put_str(o, "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
			   "Content-Length: 1048576\r\n\r\n");
}

static void other_handshake(const struct sn_gen_conn *c, uint16_t i, struct out *o,
			    struct sn_gen_rng *r)
{
	switch (c->kind) {
	case SN_GEN_HTTP:
		http_handshake(i, o);
		break;
	case SN_GEN_TLS:
		if (i == 0)
			tls_client_hello(o, r);
		else
			tls_record(o, 0x16, 1200, r);
		break;
	case SN_GEN_SSH:
		put_str(o, i == 0 ? "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n" : "SSH-2.0-OpenSSH_8.9p1\r\n");
		break;
	default:
		put_fill(o, binary_fill, 40 + sn_gen_below(r, 360), r);
		break;
	}
}

/* ---- entry points ------------------------------------------------------- */

uint16_t sn_gen_handshake_steps(enum sn_gen_kind k)
{
	return k == SN_GEN_MQTT || k == SN_GEN_XMPP || k == SN_GEN_AMQP ? 4 : 2;
}

size_t sn_gen_handshake(const struct sn_gen_conn *c, uint16_t i, enum sn_gen_dir *dir,
			uint8_t *buf, size_t cap, struct sn_gen_rng *r)
{
	struct out o = { buf, 0, cap };
	*dir = (i & 1) ? SN_GEN_TO_CLIENT : SN_GEN_TO_SERVER;
	switch (c->kind) {
	case SN_GEN_MQTT: mqtt_handshake(c, i, &o); break;
	case SN_GEN_XMPP: xmpp_handshake(i, &o); break;
	case SN_GEN_AMQP: amqp_handshake(i, &o); break;
	case SN_GEN_STOMP: stomp_handshake(i, &o); break;
	default: other_handshake(c, i, &o, r); break;
	}
	return done(&o);
}

size_t sn_gen_data(const struct sn_gen_conn *c, enum sn_gen_dir d, size_t want, uint8_t *buf,
		   size_t cap, struct sn_gen_rng *r)
{
	struct out o = { buf, 0, cap };
	switch (c->kind) {
	case SN_GEN_MQTT: mqtt_publish(c, d, want, &o, r); break;
	case SN_GEN_XMPP: xmpp_message(want, &o, r); break;
	case SN_GEN_AMQP: amqp_body(want, &o, r); break;
	case SN_GEN_STOMP: stomp_frame(d, want, &o, r); break;
	case SN_GEN_TLS: tls_record(&o, 0x17, want, r); break;
	case SN_GEN_HTTP:
		if (d == SN_GEN_TO_SERVER)
			http_handshake(0, &o);
		else
			put_fill(&o, binary_fill, want, r);
		break;
	default: put_fill(&o, binary_fill, want, r); break;
	}
	return done(&o);
}
