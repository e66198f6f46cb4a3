/*
 * fuzz_stream.h - the input layout shared by the dissector fuzz targets.
 *
 * An input is [flags:1][client length:2, big endian][client bytes][server
 * bytes].  The client length is clamped to what is there; whatever follows
 * is the server direction.  Bit 0 of flags is client_at_start.  Each side
 * is copied into a heap buffer of exactly its size, so that AddressSanitizer
 * catches a dissector reading one byte past the end of either direction
 * (in the fuzzer's own buffer the client bytes are followed by the server's).
 *
 * Each input runs the dissector twice (final false, then true) and checks
 * the invariants of struct sn_meta that every consumer relies on.
 */
#ifndef SN_FUZZ_STREAM_H
#define SN_FUZZ_STREAM_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dissector.h"

#define SN_FUZZ_HDR 3

/* A heap copy of exactly n bytes (NULL for none, which dissectors accept). */
static inline uint8_t *sn_fuzz_dup(const uint8_t *p, size_t n)
{
	if (n == 0)
		return NULL;
	uint8_t *d = malloc(n);
	if (!d)
		abort();
	memcpy(d, p, n);
	return d;
}

/* A fixed-size string field must hold a NUL within its bounds. */
static inline void sn_fuzz_check_str(const char *s, size_t cap)
{
	if (!memchr(s, '\0', cap))
		abort();
}

static inline void sn_fuzz_check_meta(const struct sn_meta *m, enum sn_verdict v)
{
	if (v != SN_NEED_MORE && v != SN_MATCH && v != SN_NO_MATCH && v != SN_MALFORMED)
		abort();
	if (v == SN_MALFORMED && (m->malformed[0] == '\0' || m->proto == SN_PROTO_NONE))
		abort(); /* a malformed match names its protocol and says what broke */
	if (m->n_topics > SN_META_TOPICS || m->n_tls_alpn > SN_META_ALPN)
		abort();
	if ((unsigned)m->proto >= SN_PROTO_COUNT)
		abort();
	sn_fuzz_check_str(m->client_id, sizeof m->client_id);
	sn_fuzz_check_str(m->user, sizeof m->user);
	sn_fuzz_check_str(m->mqtt_version, sizeof m->mqtt_version);
	sn_fuzz_check_str(m->will_topic, sizeof m->will_topic);
	sn_fuzz_check_str(m->xmpp_to, sizeof m->xmpp_to);
	sn_fuzz_check_str(m->xmpp_from, sizeof m->xmpp_from);
	sn_fuzz_check_str(m->xmpp_ns, sizeof m->xmpp_ns);
	sn_fuzz_check_str(m->xmpp_version, sizeof m->xmpp_version);
	sn_fuzz_check_str(m->amqp_version, sizeof m->amqp_version);
	sn_fuzz_check_str(m->stomp_command, sizeof m->stomp_command);
	sn_fuzz_check_str(m->stomp_accept_version, sizeof m->stomp_accept_version);
	sn_fuzz_check_str(m->stomp_host, sizeof m->stomp_host);
	sn_fuzz_check_str(m->tls_sni, sizeof m->tls_sni);
	sn_fuzz_check_str(m->malformed, sizeof m->malformed);
	sn_fuzz_check_str(m->ws_path, sizeof m->ws_path);
	sn_fuzz_check_str(m->ws_host, sizeof m->ws_host);
	sn_fuzz_check_str(m->ws_protocol, sizeof m->ws_protocol);
	if (v == SN_NEED_MORE && m->skip > 65536)
		abort();
	for (size_t i = 0; i < m->n_topics; i++)
		sn_fuzz_check_str(m->topics[i], sizeof m->topics[i]);
	for (size_t i = 0; i < m->n_tls_alpn; i++)
		sn_fuzz_check_str(m->tls_alpn[i], sizeof m->tls_alpn[i]);
}

/* Runs fn over the input as described above; always returns 0. */
static inline int sn_fuzz_dissect(sn_dissect_fn fn, const uint8_t *data, size_t size)
{
	if (size < SN_FUZZ_HDR)
		return 0;
	size_t body = size - SN_FUZZ_HDR;
	size_t clen = (size_t)data[1] << 8 | data[2];
	if (clen > body)
		clen = body;
	uint8_t *client = sn_fuzz_dup(data + SN_FUZZ_HDR, clen);
	uint8_t *server = sn_fuzz_dup(data + SN_FUZZ_HDR + clen, body - clen);
	struct sn_stream s = {
		.client = client,
		.client_len = clen,
		.server = server,
		.server_len = body - clen,
		.client_at_start = (data[0] & 1) != 0,
		.final = false,
	};
	for (int pass = 0; pass < 2; pass++) {
		struct sn_meta meta;
		memset(&meta, 0, sizeof meta);
		s.final = pass == 1;
		sn_fuzz_check_meta(&meta, fn(&s, &meta));
	}
	free(client);
	free(server);
	return 0;
}

#endif /* SN_FUZZ_STREAM_H */
