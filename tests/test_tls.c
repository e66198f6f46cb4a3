/*
 * test_tls.c - unit tests for dissectors/tls.c: ClientHellos from the test
 * captures, hand-built hellos split over records, every truncation, and
 * malformed or foreign bytes.
 */
#include <check.h>
#include <string.h>

#include "dissector.h"
#include "testutil.h"

static uint8_t sample[65536];

static enum sn_verdict run(const uint8_t *buf, size_t n, bool final, struct sn_meta *m)
{
	struct sn_stream s = {
		.client = buf, .client_len = n, .client_at_start = true, .final = final
	};
	memset(m, 0, sizeof *m);
	return sn_diss_tls(&s, m);
}

static size_t load(const char *pcap, uint16_t port)
{
	return sn_test_load_client(pcap, port, sample, sizeof sample);
}

/* ---- a small builder for hand-made hellos ---- */

struct buf {
	uint8_t b[16384];
	size_t n;
};

static void put8(struct buf *b, unsigned v)
{
	ck_assert_uint_lt(b->n, sizeof b->b);
	b->b[b->n++] = (uint8_t)v;
}

static void put16(struct buf *b, size_t v)
{
	put8(b, (unsigned)(v >> 8) & 0xff);
	put8(b, (unsigned)v & 0xff);
}

static void put_bytes(struct buf *b, const void *p, size_t n)
{
	ck_assert_uint_le(n, sizeof b->b - b->n);
	memcpy(b->b + b->n, p, n);
	b->n += n;
}

struct hello_opts {
	const char *sni;            /* NULL: no server_name extension */
	const char *const *alpn;    /* n_tls_alpn names */
	size_t n_tls_alpn;
	unsigned sid_len;           /* session id length (32 in TLS 1.3 hellos) */
	bool no_extensions;
	unsigned pad;               /* padding extension (RFC 7685) of this many bytes before ALPN */
};

/* SNI extension (RFC 6066 3): list of one host_name entry. */
static void put_sni(struct buf *b, const char *host)
{
	size_t n = strlen(host);
	put16(b, 0);
	put16(b, n + 5);
	put16(b, n + 3);
	put8(b, 0);
	put16(b, n);
	put_bytes(b, host, n);
}

/* ALPN extension (RFC 7301 3.1). */
static void put_alpn(struct buf *b, const char *const *names, size_t count)
{
	size_t list = 0;
	for (size_t i = 0; i < count; i++)
		list += 1 + strlen(names[i]);
	put16(b, 16);
	put16(b, list + 2);
	put16(b, list);
	for (size_t i = 0; i < count; i++) {
		put8(b, (unsigned)strlen(names[i]));
		put_bytes(b, names[i], strlen(names[i]));
	}
}

/* A whole handshake message: type 1, 24-bit length, ClientHello body. */
static void build_hello(struct buf *hs, const struct hello_opts *o)
{
	struct buf body = { .n = 0 };
	struct buf ext = { .n = 0 };
	uint8_t random[32];

	memset(random, 0xab, sizeof random);
	put16(&body, 0x0303);
	put_bytes(&body, random, sizeof random);
	put8(&body, o->sid_len);
	for (unsigned i = 0; i < o->sid_len; i++)
		put8(&body, i);
	put16(&body, 4);
	put16(&body, 0x1301); /* TLS_AES_128_GCM_SHA256 */
	put16(&body, 0x1302);
	put8(&body, 1);
	put8(&body, 0); /* null compression */
	if (o->sni)
		put_sni(&ext, o->sni);
	if (o->pad) {
		put16(&ext, 21);
		put16(&ext, o->pad);
		for (unsigned i = 0; i < o->pad; i++)
			put8(&ext, 0);
	}
	if (o->n_tls_alpn)
		put_alpn(&ext, o->alpn, o->n_tls_alpn);
	put16(&ext, 43); /* supported_versions: TLS 1.3 */
	put16(&ext, 3);
	put8(&ext, 2);
	put16(&ext, 0x0304);
	if (!o->no_extensions) {
		put16(&body, ext.n);
		put_bytes(&body, ext.b, ext.n);
	}
	hs->n = 0;
	put8(hs, 1);
	put8(hs, (unsigned)(body.n >> 16));
	put16(hs, body.n & 0xffff);
	put_bytes(hs, body.b, body.n);
}

/* Handshake records carrying hs in fragments of at most `frag` bytes. */
static void wrap_records(const struct buf *hs, size_t frag, struct buf *out)
{
	out->n = 0;
	for (size_t at = 0; at < hs->n; at += frag) {
		size_t n = hs->n - at < frag ? hs->n - at : frag;
		put8(out, 22);
		put16(out, 0x0301);
		put16(out, n);
		put_bytes(out, hs->b + at, n);
	}
}

/* Two records split after `first` handshake bytes. */
static void wrap_two(const struct buf *hs, size_t first, struct buf *out)
{
	out->n = 0;
	put8(out, 22);
	put16(out, 0x0301);
	put16(out, first);
	put_bytes(out, hs->b, first);
	put8(out, 22);
	put16(out, 0x0303);
	put16(out, hs->n - first);
	put_bytes(out, hs->b + first, hs->n - first);
}

static void one_record(const struct hello_opts *o, struct buf *out)
{
	struct buf hs;
	build_hello(&hs, o);
	wrap_records(&hs, sizeof hs.b, out);
}

/*
 * Every strict prefix: NEED_MORE; when final, NO_MATCH, or MATCH as a
 * hello cut by the core's bound once everything before the extensions is
 * in (then it is a TLS hello and any SNI it reports is the real one).
 */
static void check_truncations(const uint8_t *b, size_t whole)
{
	struct sn_meta m, full;
	ck_assert_int_eq(run(b, whole, false, &full), SN_MATCH);
	for (size_t k = 0; k < whole; k++) {
		ck_assert_msg(run(b, k, false, &m) == SN_NEED_MORE, "prefix %zu", k);
		ck_assert_int_eq(m.carrier, SN_CARRIER_NONE);
		enum sn_verdict v = run(b, k, true, &m);
		ck_assert_msg(v == SN_NO_MATCH || v == SN_MATCH, "final prefix %zu", k);
		if (v == SN_MATCH) {
			ck_assert(m.carrier == SN_CARRIER_TLS || m.carrier == SN_CARRIER_TLS_ALPN);
			ck_assert(m.tls_sni[0] == '\0' || strcmp(m.tls_sni, full.tls_sni) == 0);
		}
	}
}

/* ---- real captures ---- */

/* Bytes up to the end of the hello in a capture whose hello is one record. */
static size_t hello_end(const uint8_t *b, size_t n)
{
	ck_assert_uint_ge(n, 9);
	size_t rec = (size_t)b[3] << 8 | b[4];
	size_t hs = (size_t)b[6] << 16 | (size_t)b[7] << 8 | b[8];
	ck_assert_uint_ge(rec, hs + 4);
	return 5 + 4 + hs;
}

static void check_capture(const char *pcap, uint16_t port, const char *sni)
{
	struct sn_meta m;
	size_t n = load(pcap, port);
	ck_assert_int_eq(run(sample, n, false, &m), SN_MATCH);
	ck_assert(m.carrier == SN_CARRIER_TLS || m.carrier == SN_CARRIER_TLS_ALPN);
	ck_assert_int_eq(m.proto, SN_PROTO_NONE);
	ck_assert_str_eq(m.tls_sni, sni);
	ck_assert_uint_eq(m.n_tls_alpn, 0);
	ck_assert(!m.truncated);
	check_truncations(sample, hello_end(sample, n));
}

START_TEST(mqtt_tls_8883_no_sni)
{
	check_capture("mqtt-tls-8883-paho.pcap", 8883, "");
}
END_TEST

START_TEST(amqp_tls_5671_sni)
{
	check_capture("amqp091-tls-5671-pika.pcap", 5671, "localhost");
}
END_TEST

START_TEST(xmpp_direct_tls_5223)
{
	check_capture("xmpp-direct-tls-5223-slixmpp.pcap", 5223, "");
}
END_TEST

START_TEST(stomp_tls_61614)
{
	check_capture("stomp-tls-61614-openssl.pcap", 61614, "");
}
END_TEST

START_TEST(https_8883_is_tls_not_mqtt)
{
	check_capture("neg-tls-https-8883-openssl.pcap", 8883, "");
}
END_TEST

/* ---- hand-built hellos ---- */

static const char *const alpn_mqtt[] = { "mqtt" };

START_TEST(sni_alpn_two_records)
{
	struct hello_opts o = {
		.sni = "broker.example", .alpn = alpn_mqtt, .n_tls_alpn = 1, .sid_len = 32
	};
	struct buf hs, rec;
	struct sn_meta m;
	build_hello(&hs, &o);
	wrap_two(&hs, hs.n / 2, &rec);
	ck_assert_int_eq(run(rec.b, rec.n, false, &m), SN_MATCH);
	ck_assert(m.carrier == SN_CARRIER_TLS || m.carrier == SN_CARRIER_TLS_ALPN);
	ck_assert_str_eq(m.tls_sni, "broker.example");
	ck_assert_uint_eq(m.n_tls_alpn, 1);
	ck_assert_str_eq(m.tls_alpn[0], "mqtt");
	ck_assert_int_eq(m.proto, SN_PROTO_MQTT);
	check_truncations(rec.b, rec.n);
}
END_TEST

/* A hello longer than the core keeps (padding, big key shares): judged on its head. */
START_TEST(hello_cut_by_bound)
{
	struct hello_opts o = { .sni = "broker.example", .alpn = alpn_mqtt, .n_tls_alpn = 1, .sid_len = 32 };
	struct buf hs, rec;
	struct sn_meta m;
	build_hello(&hs, &o);
	/* grow the extensions block with a 3000-byte padding extension (21) */
	size_t body_len = hs.n - 4, ext_off = 4 + 2 + 32 + 1 + 32 + 2 + 4 + 1 + 1;
	size_t ext_len = (size_t)hs.b[ext_off] << 8 | hs.b[ext_off + 1];
	hs.b[ext_off] = (uint8_t)((ext_len + 3004) >> 8);
	hs.b[ext_off + 1] = (uint8_t)(ext_len + 3004);
	put16(&hs, 21);
	put16(&hs, 3000);
	for (int i = 0; i < 3000; i++)
		put8(&hs, 0);
	body_len += 3004;
	hs.b[1] = (uint8_t)(body_len >> 16);
	hs.b[2] = (uint8_t)(body_len >> 8);
	hs.b[3] = (uint8_t)body_len;
	wrap_records(&hs, sizeof hs.b, &rec);
	ck_assert_int_eq(run(rec.b, 2048, false, &m), SN_NEED_MORE);
	ck_assert_int_eq(run(rec.b, 2048, true, &m), SN_MATCH);
	ck_assert(m.carrier == SN_CARRIER_TLS || m.carrier == SN_CARRIER_TLS_ALPN);
	ck_assert_str_eq(m.tls_sni, "broker.example");
	ck_assert_int_eq(m.proto, SN_PROTO_MQTT);
	ck_assert_int_eq(run(rec.b, rec.n, false, &m), SN_MATCH);
	/* too short to hold the fixed part of the hello: refused */
	ck_assert_int_eq(run(rec.b, 40, true, &m), SN_NO_MATCH);
}
END_TEST

START_TEST(split_at_every_offset)
{
	struct hello_opts o = { .sni = "h.example", .alpn = alpn_mqtt, .n_tls_alpn = 1 };
	struct buf hs, rec;
	struct sn_meta m;
	build_hello(&hs, &o);
	for (size_t first = 1; first < hs.n; first++) {
		wrap_two(&hs, first, &rec);
		ck_assert_msg(run(rec.b, rec.n, false, &m) == SN_MATCH, "split %zu", first);
		ck_assert_str_eq(m.tls_sni, "h.example");
		ck_assert_int_eq(m.proto, SN_PROTO_MQTT);
	}
}
END_TEST

START_TEST(small_fragments)
{
	struct hello_opts o = { .sni = "frag.example" };
	struct buf hs, rec;
	struct sn_meta m;
	build_hello(&hs, &o);
	wrap_records(&hs, 10, &rec);
	ck_assert_int_eq(run(rec.b, rec.n, false, &m), SN_MATCH);
	ck_assert_str_eq(m.tls_sni, "frag.example");
	check_truncations(rec.b, rec.n);
	/* one byte per record exceeds the bound on records gathered */
	wrap_records(&hs, 1, &rec);
	ck_assert_int_eq(run(rec.b, rec.n, false, &m), SN_NO_MATCH);
}
END_TEST

START_TEST(records_after_hello_ignored)
{
	struct hello_opts o = { .sni = "x.example" };
	struct buf rec;
	struct sn_meta m;
	one_record(&o, &rec);
	/* change_cipher_spec, then application data */
	static const uint8_t more[] = { 20, 3, 3, 0, 1, 1, 23, 3, 3, 0, 2, 0xaa, 0xbb };
	put_bytes(&rec, more, sizeof more);
	ck_assert_int_eq(run(rec.b, rec.n, false, &m), SN_MATCH);
	ck_assert_str_eq(m.tls_sni, "x.example");
}
END_TEST

START_TEST(alpn_xmpp)
{
	static const char *const names[] = { "xmpp-client" };
	struct hello_opts o = { .alpn = names, .n_tls_alpn = 1 };
	struct buf rec;
	struct sn_meta m;
	one_record(&o, &rec);
	ck_assert_int_eq(run(rec.b, rec.n, false, &m), SN_MATCH);
	ck_assert_int_eq(m.proto, SN_PROTO_XMPP);
	ck_assert_str_eq(m.tls_sni, "");
	static const char *const s2s[] = { "xmpp-server" };
	o.alpn = s2s;
	one_record(&o, &rec);
	ck_assert_int_eq(run(rec.b, rec.n, false, &m), SN_MATCH);
	ck_assert_int_eq(m.proto, SN_PROTO_XMPP);
}
END_TEST

START_TEST(alpn_aws_mqtt_after_h2)
{
	static const char *const names[] = { "h2", "x-amzn-mqtt-ca" };
	struct hello_opts o = { .alpn = names, .n_tls_alpn = 2 };
	struct buf rec;
	struct sn_meta m;
	one_record(&o, &rec);
	ck_assert_int_eq(run(rec.b, rec.n, false, &m), SN_MATCH);
	ck_assert_int_eq(m.proto, SN_PROTO_MQTT);
	ck_assert_uint_eq(m.n_tls_alpn, 2);
	ck_assert_str_eq(m.tls_alpn[0], "h2");
	ck_assert_str_eq(m.tls_alpn[1], "x-amzn-mqtt-ca");
}
END_TEST

START_TEST(alpn_web_is_not_pubsub)
{
	static const char *const names[] = { "h2", "http/1.1", "mqttx", "mqt" };
	struct hello_opts o = { .alpn = names, .n_tls_alpn = 4 };
	struct buf rec;
	struct sn_meta m;
	one_record(&o, &rec);
	ck_assert_int_eq(run(rec.b, rec.n, false, &m), SN_MATCH);
	ck_assert_int_eq(m.proto, SN_PROTO_NONE);
	ck_assert_uint_eq(m.n_tls_alpn, 4);
	ck_assert_str_eq(m.tls_alpn[1], "http/1.1");
}
END_TEST

START_TEST(alpn_list_capped)
{
	static const char *const names[] = { "a", "b", "c", "d", "e", "f", "g", "h", "i", "mqtt" };
	struct hello_opts o = { .alpn = names, .n_tls_alpn = 10 };
	struct buf rec;
	struct sn_meta m;
	one_record(&o, &rec);
	ck_assert_int_eq(run(rec.b, rec.n, false, &m), SN_MATCH);
	ck_assert_uint_eq(m.n_tls_alpn, SN_META_ALPN);
	ck_assert_str_eq(m.tls_alpn[SN_META_ALPN - 1], "h");
	/* names past the kept ones still count as evidence */
	ck_assert_int_eq(m.proto, SN_PROTO_MQTT);
}
END_TEST

START_TEST(long_names_truncated)
{
	char host[200], proto[41];
	memset(host, 'h', sizeof host - 1);
	host[sizeof host - 1] = '\0';
	memset(proto, 'p', sizeof proto - 1);
	proto[sizeof proto - 1] = '\0';
	const char *const names[] = { proto };
	struct hello_opts o = { .sni = host, .alpn = names, .n_tls_alpn = 1 };
	struct buf rec;
	struct sn_meta m;
	one_record(&o, &rec);
	ck_assert_int_eq(run(rec.b, rec.n, false, &m), SN_MATCH);
	ck_assert_uint_eq(strlen(m.tls_sni), SN_META_STR - 1);
	ck_assert_uint_eq(strlen(m.tls_alpn[0]), SN_META_ALPN_STR - 1);
	ck_assert(m.truncated);
}
END_TEST

START_TEST(no_extensions)
{
	struct hello_opts o = { .no_extensions = true };
	struct buf rec;
	struct sn_meta m;
	one_record(&o, &rec);
	ck_assert_int_eq(run(rec.b, rec.n, false, &m), SN_MATCH);
	ck_assert(m.carrier == SN_CARRIER_TLS || m.carrier == SN_CARRIER_TLS_ALPN);
	ck_assert_uint_eq(m.n_tls_alpn, 0);
}
END_TEST

START_TEST(mid_stream_start)
{
	struct hello_opts o = { .sni = "m.example" };
	struct buf rec;
	struct sn_meta m;
	one_record(&o, &rec);
	struct sn_stream s = { .client = rec.b, .client_len = rec.n, .client_at_start = false };
	memset(&m, 0, sizeof m);
	ck_assert_int_eq(sn_diss_tls(&s, &m), SN_MATCH);
	/* joined during application data */
	static const uint8_t appdata[] = { 23, 3, 3, 0, 4, 1, 2, 3, 4 };
	s.client = appdata;
	s.client_len = sizeof appdata;
	memset(&m, 0, sizeof m);
	ck_assert_int_eq(sn_diss_tls(&s, &m), SN_NO_MATCH);
}
END_TEST

/* ---- malformed and foreign ---- */

/* A default hello in one record, for corrupting one byte. */
static void base_record(struct buf *rec)
{
	struct hello_opts o = { .sni = "a.example", .alpn = alpn_mqtt, .n_tls_alpn = 1, .sid_len = 32 };
	one_record(&o, rec);
}

static void expect_no_match(const uint8_t *b, size_t n)
{
	struct sn_meta m;
	ck_assert_int_eq(run(b, n, false, &m), SN_NO_MATCH);
	ck_assert_int_eq(m.carrier, SN_CARRIER_NONE);
	ck_assert_str_eq(m.tls_sni, "");
	ck_assert_int_eq(m.proto, SN_PROTO_NONE);
}

START_TEST(bad_content_type)
{
	struct buf rec;
	base_record(&rec);
	rec.b[0] = 23;
	expect_no_match(rec.b, 1);
	rec.b[0] = 0x80; /* SSLv2-style hello */
	expect_no_match(rec.b, rec.n);
}
END_TEST

START_TEST(bad_record_version)
{
	struct buf rec;
	base_record(&rec);
	rec.b[1] = 2;
	expect_no_match(rec.b, 2);
}
END_TEST

START_TEST(not_client_hello)
{
	struct buf rec;
	base_record(&rec);
	rec.b[5] = 2; /* ServerHello */
	expect_no_match(rec.b, 9);
}
END_TEST

START_TEST(bad_record_length)
{
	struct buf rec;
	base_record(&rec);
	rec.b[3] = 0;
	rec.b[4] = 0;
	expect_no_match(rec.b, rec.n);
	rec.b[3] = 0x40; /* 16 KiB + 1: over the plaintext limit */
	rec.b[4] = 0x01;
	expect_no_match(rec.b, 5);
}
END_TEST

START_TEST(hello_too_big)
{
	struct buf rec;
	base_record(&rec);
	rec.b[6] = 0x00; /* handshake length 0x00ffff: longer than the buffers, but legal */
	rec.b[7] = 0xff;
	rec.b[8] = 0xff;
	struct sn_meta m;
	ck_assert_int_eq(run(rec.b, 9, false, &m), SN_NEED_MORE);
	rec.b[6] = 0x02; /* 0x02ffff: more than the hello's fields can hold */
	expect_no_match(rec.b, 9);
	rec.b[6] = 0x00;
	rec.b[7] = 0x00; /* shorter than any hello */
	rec.b[8] = 0x10;
	expect_no_match(rec.b, 9);
}
END_TEST

/*
 * A 12 KB hello in one record (ALPN after a padding extension): while its
 * bytes are incomplete the answer is NEED_MORE with `want` = the record's
 * length; complete, the ALPN names MQTT; cut short by the end of the
 * bytes, it is TLS with a truncated handshake, never refuted.
 */
START_TEST(long_hello_in_one_record)
{
	struct hello_opts o = { .sni = "big.example", .alpn = alpn_mqtt, .n_tls_alpn = 1, .pad = 12000 };
	struct buf rec;
	struct sn_meta m;
	one_record(&o, &rec);
	ck_assert_uint_gt(rec.n, 12000);
	ck_assert_int_eq(run(rec.b, 2048, false, &m), SN_NEED_MORE);
	ck_assert_uint_eq(m.want, rec.n);
	ck_assert_int_eq(run(rec.b, rec.n - 1, false, &m), SN_NEED_MORE);
	ck_assert_int_eq(run(rec.b, rec.n, false, &m), SN_MATCH);
	ck_assert_int_eq(m.proto, SN_PROTO_MQTT);
	ck_assert_int_eq(m.carrier, SN_CARRIER_TLS_ALPN);
	ck_assert(!m.truncated_handshake);
	ck_assert_str_eq(m.tls_sni, "big.example");
	ck_assert_int_eq(run(rec.b, 2048, true, &m), SN_MATCH);
	ck_assert_int_eq(m.proto, SN_PROTO_NONE);
	ck_assert_int_eq(m.carrier, SN_CARRIER_TLS);
	ck_assert(m.truncated_handshake);
	ck_assert_str_eq(m.tls_sni, "big.example");
}
END_TEST

START_TEST(non_handshake_record_mid_hello)
{
	struct hello_opts o = { .sni = "y.example" };
	struct buf hs, rec;
	build_hello(&hs, &o);
	wrap_two(&hs, 20, &rec);
	rec.b[5 + 20] = 23; /* second record turned into application data */
	expect_no_match(rec.b, rec.n);
}
END_TEST

/* Offset of the first byte after the session id in a base_record(). */
#define BASE_AFTER_SID (5 + 4 + 2 + 32 + 1 + 32)

START_TEST(bad_session_id)
{
	struct buf rec;
	base_record(&rec);
	rec.b[5 + 4 + 2 + 32] = 33;
	expect_no_match(rec.b, rec.n);
}
END_TEST

START_TEST(bad_cipher_suites)
{
	struct buf rec;
	base_record(&rec);
	rec.b[BASE_AFTER_SID + 1] = 3; /* odd length */
	expect_no_match(rec.b, rec.n);
	rec.b[BASE_AFTER_SID + 1] = 0; /* none */
	expect_no_match(rec.b, rec.n);
}
END_TEST

START_TEST(bad_compression)
{
	struct buf rec;
	base_record(&rec);
	rec.b[BASE_AFTER_SID + 2 + 4] = 0;
	expect_no_match(rec.b, rec.n);
}
END_TEST

START_TEST(bad_extension_lengths)
{
	struct buf rec;
	size_t ext = BASE_AFTER_SID + 2 + 4 + 2; /* extensions length */
	base_record(&rec);
	rec.b[ext + 1]++; /* block claims one byte more than is left */
	expect_no_match(rec.b, rec.n);
	base_record(&rec);
	rec.b[ext + 2 + 2 + 1]++; /* SNI extension overruns the block */
	expect_no_match(rec.b, rec.n);
	base_record(&rec);
	rec.b[ext + 2 + 4 + 1]--; /* SNI list shorter than its extension */
	expect_no_match(rec.b, rec.n);
	base_record(&rec);
	rec.b[ext + 2 + 4 + 2 + 1 + 1]++; /* host name past its list */
	expect_no_match(rec.b, rec.n);
}
END_TEST

START_TEST(bad_alpn)
{
	/* ALPN follows the extensions length and the 4+2+1+2+9 bytes of SNI */
	size_t alpn = BASE_AFTER_SID + 2 + 4 + 2 + 2 + 4 + 2 + 1 + 2 + 9;
	struct buf rec;
	base_record(&rec);
	ck_assert_int_eq(rec.b[alpn + 1], 16);
	rec.b[alpn + 4 + 2] = 0; /* empty protocol name */
	expect_no_match(rec.b, rec.n);
	base_record(&rec);
	rec.b[alpn + 4 + 2] = 9; /* name past the list */
	expect_no_match(rec.b, rec.n);
}
END_TEST

START_TEST(trailing_bytes_in_hello)
{
	struct hello_opts o = { .sni = "t.example" };
	struct buf hs, rec;
	build_hello(&hs, &o);
	put8(&hs, 0); /* one byte past the extensions, counted by the lengths */
	hs.b[3]++;
	wrap_records(&hs, sizeof hs.b, &rec);
	expect_no_match(rec.b, rec.n);
}
END_TEST

START_TEST(foreign_protocols)
{
	static const char get[] = "GET / HTTP/1.1\r\n\r\n";
	static const uint8_t mqtt[] = {
		0x10, 0x0e, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x3c, 0x00, 0x02, 'c', '1',
	};
	expect_no_match((const uint8_t *)get, sizeof get - 1);
	expect_no_match(mqtt, sizeof mqtt);
	size_t n = load("neg-random-bytes-5672.pcap", 5672);
	expect_no_match(sample, n);
	n = load("stomp12-stomppy-connect-61613.pcap", 61613);
	expect_no_match(sample, n);
}
END_TEST

START_TEST(empty_buffer)
{
	struct sn_meta m;
	ck_assert_int_eq(run(NULL, 0, false, &m), SN_NEED_MORE);
	ck_assert_int_eq(run(NULL, 0, true, &m), SN_NO_MATCH);
}
END_TEST

/* ---- sn_tls_clear: what a call sets, the registry's clear undoes ---- */

/* Every prefix of b, final or not, from a zeroed meta: cleared, all zero again. */
static void check_clear_undoes(const uint8_t *b, size_t len)
{
	static const struct sn_meta zero;
	for (size_t n = 0; n <= len; n++) {
		for (int final = 0; final < 2; final++) {
			struct sn_meta m;
			run(b, n, final, &m);
			sn_tls_clear(&m);
			ck_assert_msg(memcmp(&m, &zero, sizeof m) == 0, "prefix %zu final %d left bytes set",
				      n, final);
		}
	}
}

/*
 * The core clears only sn_tls_clear's fields before the next dissector
 * when TLS wrote the meta last (detect.c): so they must be every byte a
 * call can set, on captures, long and capped names, an ALPN protocol,
 * hellos over several records and every truncation of each.
 */
START_TEST(clear_undoes_every_write)
{
	static const struct {
		const char *pcap;
		uint16_t port;
	} caps[] = { { "mqtt-tls-8883-paho.pcap", 8883 }, { "amqp091-tls-5671-pika.pcap", 5671 },
		     { "neg-tls-https-8883-openssl.pcap", 8883 } };
	for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
		size_t n = load(caps[i].pcap, caps[i].port);
		check_clear_undoes(sample, hello_end(sample, n));
	}
	char host[200], proto[41];
	memset(host, 'h', sizeof host - 1);
	host[sizeof host - 1] = '\0';
	memset(proto, 'p', sizeof proto - 1);
	proto[sizeof proto - 1] = '\0';
	static const char *const many[] = { "a", "b", "c", "d", "e", "f", "g", "h", "i", "mqtt" };
	const char *const longs[] = { "h2", proto, "xmpp-client" };
	const struct hello_opts opts[] = {
		{ .sni = host, .alpn = longs, .n_tls_alpn = 3, .sid_len = 32 },
		{ .sni = "broker.example", .alpn = many, .n_tls_alpn = 10 },
		{ .sni = "x", .alpn = alpn_mqtt, .n_tls_alpn = 1, .pad = 600 },
		{ .no_extensions = true },
	};
	for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
		struct buf hs, rec;
		build_hello(&hs, &opts[i]);
		wrap_records(&hs, sizeof hs.b, &rec);
		check_clear_undoes(rec.b, rec.n);
		wrap_records(&hs, 97, &rec);
		check_clear_undoes(rec.b, rec.n);
	}
}
END_TEST

Suite *tls_suite(void);

Suite *tls_suite(void)
{
	Suite *s = suite_create("tls");
	TCase *cap = tcase_create("captures");
	tcase_add_test(cap, mqtt_tls_8883_no_sni);
	tcase_add_test(cap, amqp_tls_5671_sni);
	tcase_add_test(cap, xmpp_direct_tls_5223);
	tcase_add_test(cap, stomp_tls_61614);
	tcase_add_test(cap, https_8883_is_tls_not_mqtt);
	suite_add_tcase(s, cap);

	TCase *hello = tcase_create("hello");
	tcase_add_test(hello, sni_alpn_two_records);
	tcase_add_test(hello, split_at_every_offset);
	tcase_add_test(hello, hello_cut_by_bound);
	tcase_add_test(hello, small_fragments);
	tcase_add_test(hello, records_after_hello_ignored);
	tcase_add_test(hello, alpn_xmpp);
	tcase_add_test(hello, alpn_aws_mqtt_after_h2);
	tcase_add_test(hello, alpn_web_is_not_pubsub);
	tcase_add_test(hello, alpn_list_capped);
	tcase_add_test(hello, long_names_truncated);
	tcase_add_test(hello, no_extensions);
	tcase_add_test(hello, mid_stream_start);
	tcase_add_test(hello, clear_undoes_every_write);
	suite_add_tcase(s, hello);

	TCase *bad = tcase_create("malformed");
	tcase_add_test(bad, bad_content_type);
	tcase_add_test(bad, bad_record_version);
	tcase_add_test(bad, not_client_hello);
	tcase_add_test(bad, bad_record_length);
	tcase_add_test(bad, hello_too_big);
	tcase_add_test(bad, long_hello_in_one_record);
	tcase_add_test(bad, non_handshake_record_mid_hello);
	tcase_add_test(bad, bad_session_id);
	tcase_add_test(bad, bad_cipher_suites);
	tcase_add_test(bad, bad_compression);
	tcase_add_test(bad, bad_extension_lengths);
	tcase_add_test(bad, bad_alpn);
	tcase_add_test(bad, trailing_bytes_in_hello);
	tcase_add_test(bad, foreign_protocols);
	tcase_add_test(bad, empty_buffer);
	suite_add_tcase(s, bad);
	return s;
}
