/*
 * fuzz_stream.h - the input layout shared by the dissector fuzz targets.
 *
 * An input is [flags:1][client length:2, big endian][client bytes][server
 * bytes].  The client length is clamped to what is there; whatever follows
 * is the server direction.  Bit 0 of flags is client_at_start; with bit 1
 * set, bits 2-7 times 5 are the payload bytes to keep (output.payload_bytes,
 * 0-315: past the 256 cap too).  Each side
 * is copied into a heap buffer of exactly its size, so that AddressSanitizer
 * catches a dissector reading one byte past the end of either direction
 * (in the fuzzer's own buffer the client bytes are followed by the server's).
 *
 * Each input runs the dissector twice (final false, then true) and checks
 * the invariants of struct sn_meta that every consumer relies on.
 */
#ifndef SN_FUZZ_STREAM_H
#define SN_FUZZ_STREAM_H

#include <stdbool.h>
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
	if ((unsigned)m->proto >= SN_PROTO_COUNT)
		abort();
	if (v == SN_NEED_MORE && m->skip > sn_dissector_probe_budget())
		abort();
	/* every field meta_fields.h declares: strings terminated, lists within capacity */
	for (size_t f = 0; f < sn_meta_n_fields; f++) {
		const struct sn_meta_field *d = &sn_meta_fields[f];
		const char *p = (const char *)m + d->off;
		if (d->kind == SN_MK_STR)
			sn_fuzz_check_str(p, d->size);
		if (d->kind != SN_MK_LIST)
			continue;
		uint8_t n = *(const uint8_t *)((const char *)m + d->aux_off);
		if (n > d->items)
			abort();
		for (size_t i = 0; i < n; i++)
			sn_fuzz_check_str(p + i * d->size, d->size);
	}
	/* kept payloads: within their count, the cap and the pool, in order */
	const struct sn_meta_payloads *ps = &m->payloads;
	if (ps->n > SN_META_PAYLOADS || ps->used > SN_META_PAYLOAD_POOL)
		abort();
	size_t at = 0;
	for (size_t i = 0; i < ps->n; i++) {
		const struct sn_meta_payload *it = &ps->item[i];
		if (it->off != at || it->len > SN_META_PAYLOAD_MAX || it->len > it->size ||
		    (it->topic != SN_META_PAYLOAD_NO_TOPIC && it->topic >= m->n_topics))
			abort();
		at += it->len;
	}
	if (at != ps->used)
		abort();
}

/*
 * Splits an input as described above into *s, both directions in heap
 * copies of exactly their size (free them with sn_fuzz_stream_free).
 * False when the input is too short to have a header.
 */
static inline bool sn_fuzz_stream(const uint8_t *data, size_t size, struct sn_stream *s)
{
	if (size < SN_FUZZ_HDR)
		return false;
	size_t body = size - SN_FUZZ_HDR;
	size_t clen = (size_t)data[1] << 8 | data[2];
	if (clen > body)
		clen = body;
	s->client = sn_fuzz_dup(data + SN_FUZZ_HDR, clen);
	s->client_len = clen;
	s->server = sn_fuzz_dup(data + SN_FUZZ_HDR + clen, body - clen);
	s->server_len = body - clen;
	s->client_at_start = (data[0] & 1) != 0;
	s->final = false;
	s->payload_bytes = (data[0] & 2) ? (uint16_t)((data[0] >> 2) * 5) : 0;
	return true;
}

static inline void sn_fuzz_stream_free(struct sn_stream *s)
{
	free((void *)(uintptr_t)s->client);
	free((void *)(uintptr_t)s->server);
}

/* Runs fn over the input as described above; always returns 0. */
static inline int sn_fuzz_dissect(sn_dissect_fn fn, const uint8_t *data, size_t size)
{
	struct sn_stream s;
	if (!sn_fuzz_stream(data, size, &s))
		return 0;
	for (int pass = 0; pass < 2; pass++) {
		struct sn_meta meta;
		memset(&meta, 0, sizeof meta);
		s.final = pass == 1;
		sn_fuzz_check_meta(&meta, fn(&s, &meta));
	}
	sn_fuzz_stream_free(&s);
	return 0;
}

#endif /* SN_FUZZ_STREAM_H */
