/*
 * registry.c - the const table of dissectors and the small helpers every
 * dissector shares: copying wire strings into struct sn_meta's fixed
 * fields, collecting topics, and RFC 4648 base64 (SASL PLAIN payloads).
 *
 * The table is indexed by enum sn_dissector_id with designated
 * initializers.  An entry holds the protocol's names, default ports, TLS
 * ports, probe budget, ALPN and WebSocket names and rule reason; the
 * configuration's `protocols:` section, its defaults, the port map, the
 * carriers and the rules read them from here, so adding a protocol is one
 * entry here, one line in SN_PROTOCOLS (dissector.h) and its metadata
 * fields (meta_fields.h).
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dissector.h"

/* Bytes of XML prolog (declaration, comments, whitespace) or STOMP
 * heart-beats a dissector may have dropped before the opening. */
#define SN_PROBE_64K 65536

static const struct sn_dissector registry[SN_DISS_COUNT] = {
	[SN_DISS_MQTT] = {
		.name = "mqtt", .label = "MQTT", .proto = SN_PROTO_MQTT, .dissect = sn_diss_mqtt,
		.ports = { 1883 }, .tls_ports = { 8883 },
		.alpn = { "mqtt", "x-amzn-mqtt-ca" },
		.ws_protocols = { "mqtt", "mqttv3.1", "mqttv3.1.1", "mqttv5" },
		.in_clear = "MQTT CONNECT seen in clear",
		.opening = "\x10", /* CONNECT */
	},
	[SN_DISS_XMPP] = {
		.name = "xmpp", .label = "XMPP", .proto = SN_PROTO_XMPP, .dissect = sn_diss_xmpp,
		.ports = { 5222, 5269 }, .tls_ports = { 5223 }, .probe_budget = SN_PROBE_64K,
		.alpn = { "xmpp-client", "xmpp-server" },
		.ws_protocols = { "xmpp" },
		.in_clear = "XMPP stream header seen in clear",
		.opening = "<\xEF \t\r\n", /* a prolog or a start tag */
	},
	[SN_DISS_AMQP] = {
		.name = "amqp", .label = "AMQP", .proto = SN_PROTO_AMQP, .dissect = sn_diss_amqp,
		.ports = { 5672 }, .tls_ports = { 5671 },
		.alpn = { "amqp" },
		.ws_protocols = { "amqp" },
		.in_clear = "AMQP protocol header seen in clear",
		.opening = "A", /* "AMQP" */
	},
	[SN_DISS_STOMP] = {
		.name = "stomp", .label = "STOMP", .proto = SN_PROTO_STOMP, .dissect = sn_diss_stomp,
		.ports = { 61613 }, .tls_ports = { 61614 }, .probe_budget = SN_PROBE_64K,
		.alpn = { "stomp" },
		.ws_protocols = { "v10.stomp", "v11.stomp", "v12.stomp", "stomp" },
		.in_clear = "STOMP CONNECT frame seen in clear",
		.opening = "CS\r\n", /* CONNECT, STOMP or heart-beats */
	},
	[SN_DISS_TLS] = { .name = "tls", .proto = SN_PROTO_NONE, .dissect = sn_diss_tls,
			  .opening = "\x16" /* a handshake record */, .clear = sn_tls_clear },
};

const struct sn_dissector *sn_dissector_get(enum sn_dissector_id id)
{
	if ((unsigned)id >= SN_DISS_COUNT)
		return NULL;
	return &registry[id];
}

const struct sn_dissector *sn_dissector_for_proto(enum sn_proto p)
{
	if (p == SN_PROTO_NONE)
		return NULL;
	for (size_t i = 0; i < SN_DISS_COUNT; i++) {
		if (registry[i].proto == p)
			return &registry[i];
	}
	return NULL;
}

size_t sn_dissector_port_count(const uint16_t ports[SN_DISS_MAX_PORTS])
{
	size_t n = 0;
	while (n < SN_DISS_MAX_PORTS && ports[n] != 0)
		n++;
	return n;
}

uint32_t sn_dissector_probe_budget(void)
{
	uint32_t max = 0;
	for (size_t i = 0; i < SN_DISS_COUNT; i++)
		if (registry[i].probe_budget > max)
			max = registry[i].probe_budget;
	return max;
}

/* True when the NUL-terminated lit is exactly the n bytes at name (no strlen
 * of lit: most names differ in their first byte). */
static bool lit_is(const char *lit, const uint8_t *name, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (lit[i] == '\0' || (uint8_t)lit[i] != name[i])
			return false;
	return lit[n] == '\0';
}

/* The first bytes of the registry's ALPN names (most names offered, "h2"
 * and "http/1.1", are ruled out by theirs), built once. */
static bool alpn_first[256];
static pthread_once_t alpn_once = PTHREAD_ONCE_INIT;

static void alpn_first_build(void)
{
	for (size_t i = 0; i < SN_DISS_COUNT; i++)
		for (size_t k = 0; k < SN_DISS_MAX_NAMES && registry[i].alpn[k]; k++)
			alpn_first[(uint8_t)registry[i].alpn[k][0]] = true;
}

enum sn_proto sn_registry_alpn_proto(const uint8_t *name, size_t n)
{
	pthread_once(&alpn_once, alpn_first_build);
	if (n > 0 && !alpn_first[name[0]])
		return SN_PROTO_NONE;
	for (size_t i = 0; i < SN_DISS_COUNT; i++)
		for (size_t k = 0; k < SN_DISS_MAX_NAMES && registry[i].alpn[k]; k++)
			if (lit_is(registry[i].alpn[k], name, n))
				return registry[i].proto;
	return SN_PROTO_NONE;
}

enum sn_proto sn_registry_ws_proto(const char *name)
{
	for (size_t i = 0; i < SN_DISS_COUNT; i++)
		for (size_t k = 0; k < SN_DISS_MAX_NAMES && registry[i].ws_protocols[k]; k++)
			if (strcasecmp(registry[i].ws_protocols[k], name) == 0)
				return registry[i].proto;
	return SN_PROTO_NONE;
}

const char *sn_carrier_name(enum sn_carrier c)
{
	switch (c) {
	case SN_CARRIER_TLS_ALPN:
		return "tls-alpn";
	case SN_CARRIER_WEBSOCKET:
		return "websocket";
	case SN_CARRIER_NONE:
	case SN_CARRIER_TLS:
		break;
	}
	return NULL;
}

void sn_meta_malformed(struct sn_meta *m, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m->malformed, sizeof m->malformed, fmt, ap);
	va_end(ap);
}

const char *sn_proto_name(enum sn_proto p)
{
	const struct sn_dissector *d = sn_dissector_for_proto(p);
	return d && d->label ? d->label : "none";
}

/*
 * Copies at most cap-1 bytes of src[0..n) into dst and terminates it.  An
 * embedded NUL ends the string early: the bytes after it would be invisible
 * in the field anyway, so that counts as a cut too and sets m->truncated.
 */
void sn_meta_set(struct sn_meta *m, char *dst, size_t cap, const char *src, size_t n)
{
	if (!dst || cap == 0)
		return;
	struct sn_cursor c = sn_cur_make((const uint8_t *)src, n);
	size_t k = sn_cur_remaining(&c) < cap - 1 ? sn_cur_remaining(&c) : cap - 1;
	const uint8_t *p = sn_cur_view(&c, k);
	const uint8_t *nul = k ? memchr(p, 0, k) : NULL;
	if (nul)
		k = (size_t)(nul - p);
	if (k)
		memcpy(dst, p, k);
	dst[k] = '\0';
	if (k < n && m)
		m->truncated = true;
}

int sn_meta_add_topic(struct sn_meta *m, const char *topic, size_t n)
{
	char t[SN_META_STR];

	if (!m || n == 0)
		return -1;
	/* Normalise first so a long topic seen twice dedupes to one entry (no
	 * scratch meta to clear: a copy shorter than n was cut). */
	sn_meta_set(NULL, t, sizeof t, topic, n);
	size_t len = strlen(t);
	bool cut = len < n;
	if (t[0] == '\0')
		return -1;
	for (size_t i = 0; i < m->n_topics && i < SN_META_TOPICS; i++) {
		if (strcmp(m->topics[i], t) == 0)
			return (int)i;
	}
	if (m->n_topics >= SN_META_TOPICS) {
		m->topics_truncated = true; /* full: a new topic is dropped, and said so */
		return -1;
	}
	memcpy(m->topics[m->n_topics], t, len + 1); /* the bytes of t after its NUL were never set */
	m->n_topics++;
	if (cut)
		m->truncated = true;
	return m->n_topics - 1;
}

void sn_meta_add_payload(struct sn_meta *m, const struct sn_stream *s, int topic,
			 const uint8_t *p, size_t n)
{
	struct sn_meta_payloads *ps = &m->payloads;

	if (!s || s->payload_bytes == 0 || ps->n >= SN_META_PAYLOADS)
		return;
	size_t keep = n < s->payload_bytes ? n : s->payload_bytes;
	if (keep > SN_META_PAYLOAD_MAX)
		keep = SN_META_PAYLOAD_MAX;
	size_t left = ps->used < SN_META_PAYLOAD_POOL ? SN_META_PAYLOAD_POOL - (size_t)ps->used : 0;
	if (keep > left)
		keep = left; /* the pool is shared: what is left */
	struct sn_meta_payload *it = &ps->item[ps->n++];
	it->size = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
	it->off = ps->used;
	it->len = (uint16_t)keep;
	it->topic = topic >= 0 && topic < SN_META_TOPICS ? (uint8_t)topic : SN_META_PAYLOAD_NO_TOPIC;
	it->cut = keep < n;
	if (keep)
		memcpy(ps->pool + ps->used, p, keep);
	ps->used = (uint16_t)(ps->used + keep);
}

/* The 6-bit value of a base64 alphabet character, or -1. */
static int b64_value(uint8_t ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

static bool b64_is_space(uint8_t ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/*
 * RFC 4648 section 4.  Whitespace anywhere is skipped (XML text nodes wrap
 * it); padding may be missing, but once '=' is seen only '=' or whitespace
 * may follow, and a lone sextet in the last quantum is malformed.
 */
long sn_base64_decode(const char *in, size_t n, uint8_t *out, size_t cap)
{
	struct sn_cursor c = sn_cur_make((const uint8_t *)in, n);
	uint32_t acc = 0;
	unsigned bits = 0, sextets = 0, pads = 0;
	size_t w = 0;

	while (sn_cur_remaining(&c) > 0) {
		uint8_t ch = sn_cur_u8(&c);
		if (b64_is_space(ch))
			continue;
		if (ch == '=') {
			pads++;
			continue;
		}
		int v = b64_value(ch);
		if (v < 0 || pads > 0)
			return -1;
		acc = (acc << 6 | (uint32_t)v) & 0xffffff;
		bits += 6;
		sextets++;
		if (bits >= 8) {
			bits -= 8;
			if (w >= cap)
				return -1;
			out[w++] = (uint8_t)(acc >> bits);
		}
	}
	if (sextets % 4 == 1 || pads > 2 || (pads && (sextets + pads) % 4 != 0))
		return -1;
	return (long)w;
}
