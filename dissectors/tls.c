/*
 * tls.c - TLS ClientHello dissector (any port): server name and ALPN.
 *
 * Specs: RFC 8446 section 5.1 (record layer) and 4.1.2 (ClientHello),
 * RFC 6066 section 3 (server_name), RFC 7301 section 3.1 (ALPN).
 *
 * TLS is a carrier, not one of the pub/sub protocols: a MATCH sets the
 * carrier TLS and leaves proto NONE, unless an offered ALPN name is a
 * pub/sub protocol ("mqtt", "x-amzn-mqtt-ca" for AWS IoT on 443,
 * "xmpp-client", "xmpp-server", "stomp", "amqp"): then the carrier is
 * TLS_ALPN and proto names it, on any port.
 *
 * A ClientHello may be split over several handshake records and each
 * record over several segments.  A hello inside its first record (nearly
 * all of them) is parsed where it lies, at any length up to the record
 * limit; while it is incomplete the answer is NEED_MORE with meta->want
 * saying how many client bytes it takes, so the core can give the flow a
 * larger buffer (a 3 KB padding extension before the ALPN list must not
 * hide it).  A hello spread over several records is gathered into a
 * bounded buffer on the stack, then parsed.  sn_tls_clear zeroes every
 * field a call may set (the registry entry's `clear`), so the core need
 * not clear the whole meta again after a hello.
 */
#include <string.h>

#include "dissector.h"

#define TLS_CONTENT_HANDSHAKE 22
#define TLS_HS_CLIENT_HELLO 1
#define TLS_RECORD_MAX 16384  /* plaintext record limit, RFC 8446 5.1 */
#define TLS_RECORDS_MAX 64    /* records gathered for one hello, at most */
#define TLS_HELLO_MAX 8192    /* handshake bytes kept; real hellos are < 2 KiB */
/* The longest body the ClientHello's fields allow (4.1.2): version, random,
 * session id, cipher suites, compression methods, extensions, each at its
 * largest length. */
#define TLS_HELLO_SPEC_MAX (2 + 32 + 1 + 32 + 2 + 65534 + 1 + 255 + 2 + 65535)
#define TLS_EXT_SERVER_NAME 0
#define TLS_EXT_ALPN 16
#define TLS_SNI_HOST_NAME 0

/* How gathering went: complete, cut short by the buffer, or not TLS. */
enum tls_rc { TLS_OK = 0, TLS_SHORT, TLS_BAD };

/* Handshake bytes gathered from the records, and how many are wanted. */
struct tls_hs {
	uint8_t buf[TLS_HELLO_MAX];
	size_t len;
	size_t want; /* 4-byte header + body length, once the header is in */
};

/* Record header (5.1): handshake content, major version 3, sane length. */
static enum tls_rc read_record_header(struct sn_cursor *c, uint16_t *len)
{
	if (!sn_cur_has(c, 1))
		return TLS_SHORT;
	if (sn_cur_u8(c) != TLS_CONTENT_HANDSHAKE)
		return TLS_BAD;
	if (!sn_cur_has(c, 1))
		return TLS_SHORT;
	if (sn_cur_u8(c) != 3)
		return TLS_BAD;
	sn_cur_skip(c, 1); /* minor version: 0x01 in most TLS 1.3 hellos */
	*len = sn_cur_be16(c);
	if (!sn_cur_ok(c))
		return TLS_SHORT;
	if (*len == 0 || *len > TLS_RECORD_MAX)
		return TLS_BAD;
	return TLS_OK;
}

/*
 * Once the 4-byte handshake header is in, checks the type and fixes how
 * many bytes the whole ClientHello takes.
 */
static enum tls_rc check_hs_header(struct tls_hs *hs)
{
	if (hs->want != 0 || hs->len < 4)
		return TLS_OK;
	struct sn_cursor h = sn_cur_make(hs->buf, hs->len);
	if (sn_cur_u8(&h) != TLS_HS_CLIENT_HELLO)
		return TLS_BAD;
	uint32_t body = sn_cur_be24(&h);
	/* version + random + three length bytes is the least a hello holds */
	if (body < 38 || body > TLS_HELLO_SPEC_MAX)
		return TLS_BAD;
	/* A longer hello than the buffer holds is read as far as it goes. */
	hs->want = 4 + (size_t)(body > TLS_HELLO_MAX - 4 ? TLS_HELLO_MAX - 4 : body);
	return TLS_OK;
}

/* Copies up to n bytes of one record's fragment into the gather buffer. */
static enum tls_rc take_fragment(struct sn_cursor *c, struct tls_hs *hs, size_t frag)
{
	while (frag > 0) {
		size_t want = hs->want ? hs->want : 4;
		size_t n = want - hs->len;
		if (n > frag)
			n = frag;
		if (n > sn_cur_remaining(c))
			n = sn_cur_remaining(c);
		if (n == 0)
			return hs->len >= want ? TLS_OK : TLS_SHORT;
		sn_cur_copy(c, hs->buf + hs->len, n);
		hs->len += n;
		frag -= n;
		if (check_hs_header(hs) != TLS_OK)
			return TLS_BAD;
		if (hs->want && hs->len == hs->want)
			return TLS_OK; /* later handshake messages are not needed */
	}
	return TLS_OK;
}

/* Gathers the ClientHello's handshake bytes from successive records. */
static enum tls_rc gather_hello(struct sn_cursor *c, struct tls_hs *hs)
{
	for (unsigned i = 0; i < TLS_RECORDS_MAX; i++) {
		uint16_t frag = 0;
		enum tls_rc rc = read_record_header(c, &frag);
		if (rc != TLS_OK)
			return rc;
		rc = take_fragment(c, hs, frag);
		if (rc != TLS_OK)
			return rc;
		if (hs->want && hs->len == hs->want)
			return TLS_OK;
	}
	return TLS_BAD;
}

/* server_name (RFC 6066 3): the first host_name entry is kept. */
static bool parse_sni(struct sn_cursor *ext, struct sn_meta *m)
{
	uint16_t list = sn_cur_be16(ext);

	if (!sn_cur_ok(ext) || list != sn_cur_remaining(ext) || list == 0)
		return false;
	while (sn_cur_remaining(ext) > 0) {
		uint8_t type = sn_cur_u8(ext);
		uint16_t n = sn_cur_be16(ext);
		struct sn_cursor name = sn_cur_sub(ext, n);
		if (!sn_cur_ok(ext))
			return false;
		if (type == TLS_SNI_HOST_NAME && m->tls_sni[0] == '\0')
			sn_meta_set(m, m->tls_sni, sizeof m->tls_sni, (const char *)name.p, name.len);
	}
	return true;
}

/* The pub/sub protocol an ALPN name announces (the registry's names), or NONE. */
static enum sn_proto alpn_proto(const struct sn_cursor *name)
{
	size_t n = sn_cur_remaining(name);
	const uint8_t *p = sn_cur_view(name, n);
	return p ? sn_registry_alpn_proto(p, n) : SN_PROTO_NONE;
}

/* ALPN (RFC 7301 3.1): non-empty names, each with a 1-byte length. */
static bool parse_alpn(struct sn_cursor *ext, struct sn_meta *m)
{
	uint16_t list = sn_cur_be16(ext);

	if (!sn_cur_ok(ext) || list != sn_cur_remaining(ext) || list < 2)
		return false;
	while (sn_cur_remaining(ext) > 0) {
		uint8_t n = sn_cur_u8(ext);
		struct sn_cursor name = sn_cur_sub(ext, n);
		if (!sn_cur_ok(ext) || n == 0)
			return false;
		if (m->proto == SN_PROTO_NONE)
			m->proto = alpn_proto(&name);
		if (m->n_tls_alpn < SN_META_ALPN) {
			sn_meta_set(m, m->tls_alpn[m->n_tls_alpn], SN_META_ALPN_STR, (const char *)name.p,
				    name.len);
			m->n_tls_alpn++;
		}
	}
	return true;
}

/*
 * The extensions block: its length must cover exactly what is left.  For a
 * hello cut off by the core's byte bound (`partial`), the block may extend
 * past the end: the complete extensions before the cut are read.
 */
static bool parse_extensions(struct sn_cursor *c, struct sn_meta *m, bool partial)
{
	if (sn_cur_remaining(c) == 0)
		return true; /* a hello without extensions is legal (TLS 1.0-1.2) */
	uint16_t total = sn_cur_be16(c);
	if (!sn_cur_ok(c))
		return partial;
	if (partial ? total < sn_cur_remaining(c) : total != sn_cur_remaining(c))
		return false;
	while (sn_cur_remaining(c) > 0) {
		/* type and length in one checked view; a cut header or body ends a
		 * partial hello's walk and refutes a whole one */
		const uint8_t *h = sn_cur_view(c, 4);
		if (!h)
			return partial;
		uint16_t type = (uint16_t)(h[0] << 8 | h[1]);
		uint16_t n = (uint16_t)(h[2] << 8 | h[3]);
		sn_cur_skip(c, 4);
		if (n > sn_cur_remaining(c))
			return partial;
		struct sn_cursor ext = sn_cur_sub(c, n);
		if (type == TLS_EXT_SERVER_NAME && !parse_sni(&ext, m))
			return false;
		if (type == TLS_EXT_ALPN && !parse_alpn(&ext, m))
			return false;
	}
	return true;
}

/*
 * ClientHello body (RFC 8446 4.1.2), after the 4-byte handshake header.
 * `partial`: the hello is longer than the bytes the core keeps; everything
 * up to the extensions must still be present and consistent.
 */
static bool parse_hello(struct sn_cursor *c, struct sn_meta *m, bool partial)
{
	if (sn_cur_u8(c) != 3) /* legacy_version major */
		return false;
	sn_cur_skip(c, 1 + 32); /* minor version, random */
	uint8_t sid = sn_cur_u8(c);
	if (sid > 32 || !sn_cur_skip(c, sid))
		return false;
	uint16_t suites = sn_cur_be16(c);
	if (suites < 2 || suites % 2 != 0 || !sn_cur_skip(c, suites))
		return false;
	uint8_t comp = sn_cur_u8(c);
	if (comp < 1 || !sn_cur_skip(c, comp))
		return false;
	return sn_cur_ok(c) && parse_extensions(c, m, partial);
}

/*
 * Parses hello bytes h (the 4-byte handshake header first); `partial`: the
 * hello goes on past them.  MATCH, or NO_MATCH with *out cleared.
 */
static enum sn_verdict judge(struct sn_cursor *h, struct sn_meta *out, bool partial)
{
	sn_cur_skip(h, 4);
	if (parse_hello(h, out, partial)) {
		out->carrier = out->proto != SN_PROTO_NONE ? SN_CARRIER_TLS_ALPN : SN_CARRIER_TLS;
		out->truncated_handshake = partial;
		return SN_MATCH;
	}
	memset(out, 0, sizeof *out);
	return SN_NO_MATCH;
}

/*
 * The hello inside the first record, parsed in place.  Returns false when
 * it is not there (not one record, or too few bytes to tell): the gathering
 * path decides.
 */
static bool in_first_record(const struct sn_stream *s, struct sn_meta *out, enum sn_verdict *v)
{
	struct sn_cursor c = sn_cur_make(s->client, s->client_len);
	uint16_t frag = 0;
	if (read_record_header(&c, &frag) != TLS_OK || !sn_cur_has(&c, 4))
		return false;
	struct sn_cursor peek = c;
	if (sn_cur_u8(&peek) != TLS_HS_CLIENT_HELLO)
		return false;
	uint32_t body = sn_cur_be24(&peek);
	if (body < 38 || (size_t)body + 4 > frag)
		return false;
	size_t whole = 4 + (size_t)body;
	size_t have = sn_cur_remaining(&c) < whole ? sn_cur_remaining(&c) : whole;
	struct sn_cursor h = sn_cur_sub(&c, have);
	if (have < whole && !s->final) {
		out->want = (uint32_t)(5 + whole);
		*v = SN_NEED_MORE;
		return true;
	}
	*v = judge(&h, out, have < whole);
	return true;
}

/*
 * Every field the functions above set: want (NEED_MORE), proto and the ALPN
 * list (parse_alpn), the server name, truncated (sn_meta_set), carrier and
 * truncated_handshake (judge).  A NO_MATCH zeroes the whole meta itself.
 */
void sn_tls_clear(struct sn_meta *m)
{
	m->proto = SN_PROTO_NONE;
	m->skip = 0;
	m->want = 0;
	m->truncated = false;
	memset(m->tls_sni, 0, sizeof m->tls_sni);
	m->n_tls_alpn = 0;
	memset(m->tls_alpn, 0, sizeof m->tls_alpn);
	m->carrier = SN_CARRIER_NONE;
	m->truncated_handshake = false;
}

enum sn_verdict sn_diss_tls(const struct sn_stream *s, struct sn_meta *out)
{
	enum sn_verdict v;
	if (in_first_record(s, out, &v))
		return v;

	struct sn_cursor c = sn_cur_make(s->client, s->client_len);
	struct tls_hs hs; /* buf is written before it is read: no 8 KiB memset */
	hs.len = 0;
	hs.want = 0;
	enum tls_rc rc = gather_hello(&c, &hs);

	/*
	 * A hello longer than the core's bound, or than the gathering buffer,
	 * is judged, once no more bytes will come, on what arrived.
	 */
	bool partial = rc == TLS_SHORT && s->final && hs.want != 0;
	if (rc == TLS_OK || partial) {
		struct sn_cursor h = sn_cur_make(hs.buf, hs.len);
		struct sn_cursor hdr = sn_cur_make(hs.buf, hs.len);
		sn_cur_skip(&hdr, 1);
		if (rc == TLS_OK && hs.len < (size_t)sn_cur_be24(&hdr) + 4)
			partial = true; /* the gathering buffer was the limit */
		return judge(&h, out, partial);
	}
	memset(out, 0, sizeof *out);
	if (rc == TLS_SHORT && !s->final)
		return SN_NEED_MORE;
	return SN_NO_MATCH;
}
