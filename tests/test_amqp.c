/*
 * test_amqp.c - dissectors/amqp.c: protocol headers of every version, the
 * user from 0-9-1 Start-Ok (PLAIN, AMQPLAIN) and 1.0 sasl-init, real
 * captures, every truncation, and hostile lengths (0xFFFFFFFF and friends).
 */
#include <check.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "dissector.h"
#include "testutil.h"

#define SAMPLE_CAP 65536

static uint8_t sample[SAMPLE_CAP];

/* A frame under construction. */
struct buf {
	uint8_t b[2048];
	size_t n;
};

static void put(struct buf *b, const void *p, size_t n)
{
	ck_assert_uint_le(b->n + n, sizeof b->b);
	memcpy(b->b + b->n, p, n);
	b->n += n;
}

static void put_u8(struct buf *b, uint8_t v)
{
	put(b, &v, 1);
}

static void put_be16(struct buf *b, uint16_t v)
{
	put_u8(b, (uint8_t)(v >> 8));
	put_u8(b, (uint8_t)v);
}

static void put_be32(struct buf *b, uint32_t v)
{
	put_be16(b, (uint16_t)(v >> 16));
	put_be16(b, (uint16_t)v);
}

static void put_shortstr(struct buf *b, const char *s)
{
	put_u8(b, (uint8_t)strlen(s));
	put(b, s, strlen(s));
}

static void put_longstr(struct buf *b, const void *p, size_t n)
{
	put_be32(b, (uint32_t)n);
	put(b, p, n);
}

static void put_header(struct buf *b, uint8_t a, uint8_t c, uint8_t d, uint8_t e)
{
	const uint8_t h[8] = { 'A', 'M', 'Q', 'P', a, c, d, e };
	put(b, h, sizeof h);
}

/* 0-9-1 method frame carrying Connection.Start-Ok. */
static void put_start_ok(struct buf *b, const char *mech, const void *resp, size_t resp_len)
{
	struct buf args = { .n = 0 };
	put_be16(&args, 10); /* class connection */
	put_be16(&args, 11); /* method start-ok */
	put_be32(&args, 0);  /* empty client-properties */
	put_shortstr(&args, mech);
	put_longstr(&args, resp, resp_len);
	put_shortstr(&args, "en_US");
	put_u8(b, 1);
	put_be16(b, 0);
	put_be32(b, (uint32_t)args.n);
	put(b, args.b, args.n);
	put_u8(b, 0xCE);
}

/* 1.0 SASL frame with sasl-init; `wide` picks the 32-bit encodings. */
static void put_sasl_init(struct buf *b, bool wide, const char *mech, const void *resp,
			  size_t resp_len)
{
	struct buf fields = { .n = 0 }, body = { .n = 0 };
	put_u8(&fields, wide ? 0xb3 : 0xa3);
	if (wide)
		put_be32(&fields, (uint32_t)strlen(mech));
	else
		put_u8(&fields, (uint8_t)strlen(mech));
	put(&fields, mech, strlen(mech));
	put_u8(&fields, wide ? 0xb0 : 0xa0);
	if (wide)
		put_be32(&fields, (uint32_t)resp_len);
	else
		put_u8(&fields, (uint8_t)resp_len);
	put(&fields, resp, resp_len);

	put_u8(&body, 0x00);
	if (wide) {
		put_u8(&body, 0x80);
		put_be32(&body, 0);
		put_be32(&body, 0x41);
		put_u8(&body, 0xd0);
		put_be32(&body, (uint32_t)fields.n + 4);
		put_be32(&body, 2);
	} else {
		put_u8(&body, 0x53);
		put_u8(&body, 0x41);
		put_u8(&body, 0xc0);
		put_u8(&body, (uint8_t)(fields.n + 1));
		put_u8(&body, 2);
	}
	put(&body, fields.b, fields.n);

	put_be32(b, (uint32_t)(8 + body.n));
	put_u8(b, 2); /* doff */
	put_u8(b, 1); /* SASL */
	put_be16(b, 0);
	put(b, body.b, body.n);
}

static enum sn_verdict run_ex(const void *bytes, size_t n, bool final, struct sn_meta *m)
{
	/* NULL stays NULL: the core may hand an empty direction that way. */
	uint8_t *copy = bytes ? malloc(n ? n : 1) : NULL;
	ck_assert(copy || !bytes);
	if (n)
		memcpy(copy, bytes, n);
	struct sn_stream s = { .client = copy, .client_len = n, .client_at_start = true, .final = final };
	memset(m, 0, sizeof *m);
	enum sn_verdict v = sn_diss_amqp(&s, m);
	free(copy);
	return v;
}

static enum sn_verdict run(const void *bytes, size_t n, struct sn_meta *m)
{
	return run_ex(bytes, n, false, m);
}

static size_t load(const char *pcap, uint16_t port)
{
	return sn_test_load_client(pcap, port, sample, sizeof sample);
}

/* Prefixes of the header wait or refuse; longer ones match, the user all or nothing. */
static void check_truncations(const uint8_t *b, size_t n, const char *version, const char *user)
{
	struct sn_meta m;
	for (size_t k = 0; k < 8 && k <= n; k++) {
		ck_assert_int_eq(run_ex(b, k, false, &m), SN_NEED_MORE);
		ck_assert_int_eq(run_ex(b, k, true, &m), SN_NO_MATCH);
	}
	for (size_t k = 8; k <= n; k++) {
		ck_assert_int_eq(run(b, k, &m), SN_MATCH);
		ck_assert_str_eq(m.amqp_version, version);
		ck_assert_msg(m.user[0] == '\0' || strcmp(m.user, user) == 0, "user '%s'", m.user);
	}
	ck_assert_int_eq(run(b, n, &m), SN_MATCH);
	ck_assert_str_eq(m.user, user);
}

/* ---- real captures ---- */

START_TEST(pika_userpass)
{
	struct sn_meta m;
	size_t n = load("amqp091-pika-userpass-5672.pcap", 5672);
	ck_assert_int_eq(run(sample, n, &m), SN_MATCH);
	ck_assert_int_eq(m.proto, SN_PROTO_AMQP);
	ck_assert_str_eq(m.amqp_version, "0-9-1");
	ck_assert_str_eq(m.user, "c2user");
	/* EXPECTED.tsv: Connection.Open vhost=c2; connection_name=implant-pika-1,... */
	ck_assert_str_eq(m.amqp_vhost, "c2");
	ck_assert_str_eq(m.amqp_connection_name, "implant-pika-1");
	check_truncations(sample, n, "0-9-1", "c2user");
}
END_TEST

START_TEST(oneshot_pika_guest)
{
	struct sn_meta m;
	size_t n = load("oneshot-amqp091-pika-5672.pcap", 5672);
	ck_assert_int_eq(run(sample, n, &m), SN_MATCH);
	ck_assert_str_eq(m.user, "guest");
	ck_assert_str_eq(m.amqp_vhost, "/");
	ck_assert_str_eq(m.amqp_connection_name, "metrics-exporter");
	check_truncations(sample, n, "0-9-1", "guest");
}
END_TEST

START_TEST(nonstandard_port_5673)
{
	struct sn_meta m;
	size_t n = load("amqp091-nonstd-port-5673-pika.pcap", 5673);
	ck_assert_int_eq(run(sample, n, &m), SN_MATCH);
	ck_assert_str_eq(m.amqp_version, "0-9-1");
	ck_assert_str_eq(m.user, "c2user");
}
END_TEST

START_TEST(proton_amqp10_sasl_plain)
{
	struct sn_meta m;
	size_t n = load("amqp10-proton-5672.pcap", 5672);
	ck_assert_int_eq(run(sample, n, &m), SN_MATCH);
	ck_assert_str_eq(m.amqp_version, "1.0-sasl");
	ck_assert_str_eq(m.user, "guest");
	check_truncations(sample, n, "1.0-sasl", "guest");
}
END_TEST

START_TEST(random_bytes_capture_refused)
{
	struct sn_meta m;
	size_t n = load("neg-random-bytes-5672.pcap", 5672);
	ck_assert_int_eq(run(sample, n, &m), SN_NO_MATCH);
	ck_assert_int_eq(run(sample, 1, &m), SN_NO_MATCH);
}
END_TEST

/* ---- headers ---- */

START_TEST(every_version_header)
{
	static const struct {
		uint8_t id[4];
		const char *name;
	} cases[] = {
		{ { 0, 0, 9, 1 }, "0-9-1" }, { { 1, 1, 8, 0 }, "0-8" },
		{ { 1, 1, 0, 9 }, "0-9" },   { { 1, 1, 0, 10 }, "0-10" },
		{ { 0, 1, 0, 0 }, "1.0" },   { { 3, 1, 0, 0 }, "1.0-sasl" },
		{ { 2, 1, 0, 0 }, "1.0-tls" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct buf b = { .n = 0 };
		struct sn_meta m;
		put_header(&b, cases[i].id[0], cases[i].id[1], cases[i].id[2], cases[i].id[3]);
		ck_assert_int_eq(run(b.b, b.n, &m), SN_MATCH);
		ck_assert_str_eq(m.amqp_version, cases[i].name);
		ck_assert_str_eq(m.user, "");
		for (size_t k = 0; k < b.n; k++)
			ck_assert_int_eq(run(b.b, k, &m), SN_NEED_MORE);
	}
}
END_TEST

START_TEST(unknown_version_refused)
{
	struct sn_meta m;
	ck_assert_int_eq(run("AMQP\x00\x00\x0a\x00", 8, &m), SN_NO_MATCH);
	ck_assert_int_eq(run("AMQP\x04", 5, &m), SN_NO_MATCH);
	ck_assert_int_eq(run("AMQP\x00\x00\x09", 7, &m), SN_NEED_MORE);
	ck_assert_int_eq(run("AMQP\x01\x01\x07", 7, &m), SN_NO_MATCH);
}
END_TEST

START_TEST(other_protocols_refused_early)
{
	struct sn_meta m;
	ck_assert_int_eq(run("G", 1, &m), SN_NO_MATCH);
	ck_assert_int_eq(run("GET / HTTP/1.1\r\n", 16, &m), SN_NO_MATCH);
	ck_assert_int_eq(run("\x16\x03\x01", 3, &m), SN_NO_MATCH);
	ck_assert_int_eq(run("AMX", 3, &m), SN_NO_MATCH);
	ck_assert_int_eq(run("amqp\x00\x00\x09\x01", 8, &m), SN_NO_MATCH);
	ck_assert_int_eq(run("AMQ", 3, &m), SN_NEED_MORE);
	ck_assert_int_eq(run_ex("AMQ", 3, true, &m), SN_NO_MATCH);
	ck_assert_int_eq(run("", 0, &m), SN_NEED_MORE);
	ck_assert_int_eq(run_ex("", 0, true, &m), SN_NO_MATCH);
	ck_assert_int_eq(run(NULL, 0, &m), SN_NEED_MORE);
}
END_TEST

START_TEST(random_never_matches)
{
	struct sn_meta m;
	uint8_t rnd[256];
	uint32_t x = 99;
	for (int round = 0; round < 256; round++) {
		for (size_t i = 0; i < sizeof rnd; i++) {
			x = x * 1103515245u + 12345u;
			rnd[i] = (uint8_t)(x >> 16);
		}
		ck_assert_int_eq(run(rnd, sizeof rnd, &m), SN_NO_MATCH);
	}
}
END_TEST

/* ---- users ---- */

START_TEST(start_ok_plain)
{
	struct buf b = { .n = 0 };
	struct sn_meta m;
	put_header(&b, 0, 0, 9, 1);
	put_start_ok(&b, "PLAIN", "\0implant\0pw", 11);
	ck_assert_int_eq(run(b.b, b.n, &m), SN_MATCH);
	ck_assert_str_eq(m.user, "implant");
	check_truncations(b.b, b.n, "0-9-1", "implant");
}
END_TEST

START_TEST(start_ok_amqplain)
{
	struct buf b = { .n = 0 }, table = { .n = 0 };
	struct sn_meta m;
	put_shortstr(&table, "LOGIN");
	put_u8(&table, 'S');
	put_longstr(&table, "bob", 3);
	put_shortstr(&table, "PASSWORD");
	put_u8(&table, 'S');
	put_longstr(&table, "pw", 2);
	put_header(&b, 1, 1, 8, 0);
	put_start_ok(&b, "AMQPLAIN", table.b, table.n);
	ck_assert_int_eq(run(b.b, b.n, &m), SN_MATCH);
	ck_assert_str_eq(m.amqp_version, "0-8");
	ck_assert_str_eq(m.user, "bob");
	check_truncations(b.b, b.n, "0-8", "bob");
}
END_TEST

START_TEST(start_ok_amqplain_with_table_length)
{
	struct buf b = { .n = 0 }, table = { .n = 0 }, resp = { .n = 0 };
	struct sn_meta m;
	put_shortstr(&table, "PASSWORD");
	put_u8(&table, 'S');
	put_longstr(&table, "pw", 2);
	put_shortstr(&table, "LOGIN");
	put_u8(&table, 'S');
	put_longstr(&table, "carol", 5);
	put_longstr(&resp, table.b, table.n);
	put_header(&b, 0, 0, 9, 1);
	put_start_ok(&b, "AMQPLAIN", resp.b, resp.n);
	ck_assert_int_eq(run(b.b, b.n, &m), SN_MATCH);
	ck_assert_str_eq(m.user, "carol");
}
END_TEST

START_TEST(start_ok_after_heartbeat)
{
	struct buf b = { .n = 0 };
	struct sn_meta m;
	static const uint8_t heartbeat[] = { 8, 0, 0, 0, 0, 0, 0, 0xCE };
	put_header(&b, 0, 0, 9, 1);
	put(&b, heartbeat, sizeof heartbeat);
	put_start_ok(&b, "PLAIN", "\0dave\0pw", 8);
	ck_assert_int_eq(run(b.b, b.n, &m), SN_MATCH);
	ck_assert_str_eq(m.user, "dave");
}
END_TEST

START_TEST(start_ok_other_mechanism_no_user)
{
	struct buf b = { .n = 0 };
	struct sn_meta m;
	put_header(&b, 0, 0, 9, 1);
	put_start_ok(&b, "EXTERNAL", "", 0);
	ck_assert_int_eq(run(b.b, b.n, &m), SN_MATCH);
	ck_assert_str_eq(m.user, "");
}
END_TEST

START_TEST(plain_without_separators_no_user)
{
	struct buf b = { .n = 0 };
	struct sn_meta m;
	put_header(&b, 0, 0, 9, 1);
	put_start_ok(&b, "PLAIN", "justtext", 8);
	ck_assert_int_eq(run(b.b, b.n, &m), SN_MATCH);
	ck_assert_str_eq(m.user, "");
}
END_TEST

START_TEST(sasl_init_short_encodings)
{
	struct buf b = { .n = 0 };
	struct sn_meta m;
	put_header(&b, 3, 1, 0, 0);
	put_sasl_init(&b, false, "PLAIN", "\0eve\0pw", 7);
	ck_assert_int_eq(run(b.b, b.n, &m), SN_MATCH);
	ck_assert_str_eq(m.user, "eve");
	check_truncations(b.b, b.n, "1.0-sasl", "eve");
}
END_TEST

START_TEST(sasl_init_wide_encodings)
{
	struct buf b = { .n = 0 };
	struct sn_meta m;
	put_header(&b, 3, 1, 0, 0);
	put_sasl_init(&b, true, "PLAIN", "\0frank\0pw", 9);
	ck_assert_int_eq(run(b.b, b.n, &m), SN_MATCH);
	ck_assert_str_eq(m.user, "frank");
	check_truncations(b.b, b.n, "1.0-sasl", "frank");
}
END_TEST

START_TEST(sasl_init_anonymous_no_user)
{
	struct buf b = { .n = 0 };
	struct sn_meta m;
	put_header(&b, 3, 1, 0, 0);
	put_sasl_init(&b, false, "ANONYMOUS", "\0x\0y", 4);
	ck_assert_int_eq(run(b.b, b.n, &m), SN_MATCH);
	ck_assert_str_eq(m.user, "");
}
END_TEST

START_TEST(long_user_truncated)
{
	struct buf b = { .n = 0 };
	struct sn_meta m;
	char resp[300];
	resp[0] = '\0';
	memset(resp + 1, 'u', 200);
	resp[201] = '\0';
	memcpy(resp + 202, "pw", 2);
	put_header(&b, 0, 0, 9, 1);
	put_start_ok(&b, "PLAIN", resp, 204);
	ck_assert_int_eq(run(b.b, b.n, &m), SN_MATCH);
	ck_assert_uint_eq(strlen(m.user), SN_META_STR - 1);
	ck_assert(m.truncated);
}
END_TEST

/* ---- hostile lengths ---- */

START_TEST(frame_size_all_ones)
{
	struct buf b = { .n = 0 };
	struct sn_meta m;
	put_header(&b, 0, 0, 9, 1);
	put_u8(&b, 1);
	put_be16(&b, 0);
	put_be32(&b, 0xFFFFFFFFu);
	put(&b, "\x00\x0a\x00\x0b", 4);
	ck_assert_int_eq(run(b.b, b.n, &m), SN_MATCH);
	ck_assert_str_eq(m.user, "");

	struct buf c = { .n = 0 };
	put_header(&c, 3, 1, 0, 0);
	put_be32(&c, 0xFFFFFFFFu);
	put(&c, "\x02\x01\x00\x00\x00\x53\x41", 7);
	ck_assert_int_eq(run(c.b, c.n, &m), SN_MATCH);
	ck_assert_str_eq(m.user, "");
}
END_TEST

START_TEST(frame_end_missing)
{
	struct buf b = { .n = 0 };
	struct sn_meta m;
	put_header(&b, 0, 0, 9, 1);
	put_start_ok(&b, "PLAIN", "\0x\0y", 4);
	b.b[b.n - 1] = 0x00; /* frame-end octet must be 0xCE */
	ck_assert_int_eq(run(b.b, b.n, &m), SN_MATCH);
	ck_assert_str_eq(m.user, "");
}
END_TEST

START_TEST(start_ok_inner_lengths_hostile)
{
	struct sn_meta m;
	/* client-properties table length 0xFFFFFFFF inside a small frame */
	struct buf b = { .n = 0 }, args = { .n = 0 };
	put_be16(&args, 10);
	put_be16(&args, 11);
	put_be32(&args, 0xFFFFFFFFu);
	put_shortstr(&args, "PLAIN");
	put_header(&b, 0, 0, 9, 1);
	put_u8(&b, 1);
	put_be16(&b, 0);
	put_be32(&b, (uint32_t)args.n);
	put(&b, args.b, args.n);
	put_u8(&b, 0xCE);
	ck_assert_int_eq(run(b.b, b.n, &m), SN_MATCH);
	ck_assert_str_eq(m.user, "");

	/* AMQPLAIN value length past the end of the response */
	struct buf c = { .n = 0 }, table = { .n = 0 };
	put_shortstr(&table, "LOGIN");
	put_u8(&table, 'S');
	put_be32(&table, 0xFFFFFFF0u);
	put(&table, "bob", 3);
	put_header(&c, 0, 0, 9, 1);
	put_start_ok(&c, "AMQPLAIN", table.b, table.n);
	ck_assert_int_eq(run(c.b, c.n, &m), SN_MATCH);
	ck_assert_str_eq(m.user, "");
}
END_TEST

START_TEST(amqp10_bad_frame_fields)
{
	struct sn_meta m;
	static const uint8_t cases[][16] = {
		/* size below the 8-byte frame header */
		{ 'A', 'M', 'Q', 'P', 3, 1, 0, 0, 0, 0, 0, 0, 2, 1, 0, 0 },
		/* doff 0 */
		{ 'A', 'M', 'Q', 'P', 3, 1, 0, 0, 0, 0, 0, 8, 0, 1, 0, 0 },
		/* doff larger than the frame */
		{ 'A', 'M', 'Q', 'P', 3, 1, 0, 0, 0, 0, 0, 8, 0xff, 1, 0, 0 },
		/* an empty (heart-beat) frame, then nothing */
		{ 'A', 'M', 'Q', 'P', 3, 1, 0, 0, 0, 0, 0, 8, 2, 1, 0, 0 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		ck_assert_int_eq(run(cases[i], sizeof cases[i], &m), SN_MATCH);
		ck_assert_str_eq(m.user, "");
	}
}
END_TEST

START_TEST(amqp10_hostile_list_and_symbol)
{
	struct sn_meta m;
	/* list32 claiming 0xFFFFFFFF bytes */
	static const uint8_t big_list[] = { 'A', 'M', 'Q', 'P', 3, 1, 0, 0, 0, 0, 0, 0x12, 2, 1, 0, 0,
					    0x00, 0x53, 0x41, 0xd0, 0xff, 0xff, 0xff, 0xff, 0, 0 };
	/* sym32 claiming 0xFFFFFFFF bytes inside a plausible list8 */
	static const uint8_t big_sym[] = { 'A', 'M', 'Q', 'P', 3, 1, 0, 0, 0, 0, 0, 0x15, 2, 1, 0, 0,
					   0x00, 0x53, 0x41, 0xc0, 0x08, 0x02, 0xb3, 0xff, 0xff, 0xff,
					   0xff, 0x40, 0x40 };
	/* list8 count 0 */
	static const uint8_t no_fields[] = { 'A', 'M', 'Q', 'P', 3, 1, 0, 0, 0, 0, 0, 0x0e, 2, 1, 0, 0,
					     0x00, 0x53, 0x41, 0xc0, 0x01, 0x00 };
	ck_assert_int_eq(run(big_list, sizeof big_list, &m), SN_MATCH);
	ck_assert_str_eq(m.user, "");
	ck_assert_int_eq(run(big_sym, sizeof big_sym, &m), SN_MATCH);
	ck_assert_str_eq(m.user, "");
	ck_assert_int_eq(run(no_fields, sizeof no_fields, &m), SN_MATCH);
	ck_assert_str_eq(m.user, "");
}
END_TEST

START_TEST(random_after_header_never_crashes)
{
	struct sn_meta m;
	uint8_t b[200];
	uint32_t x = 7;
	for (int round = 0; round < 512; round++) {
		static const uint8_t hdrs[][8] = { { 'A', 'M', 'Q', 'P', 0, 0, 9, 1 },
						   { 'A', 'M', 'Q', 'P', 3, 1, 0, 0 } };
		memcpy(b, hdrs[round & 1], 8);
		for (size_t i = 8; i < sizeof b; i++) {
			x = x * 1103515245u + 12345u;
			b[i] = (uint8_t)(x >> 16);
		}
		ck_assert_int_eq(run(b, sizeof b, &m), SN_MATCH);
	}
}
END_TEST

/* ---- mid-stream: no protocol header in the buffer ---- */

static uint8_t peer[SAMPLE_CAP];

/* Both directions, exact-size heap copies, of a connection picked up mid-stream. */
static enum sn_verdict run_mid(const uint8_t *c, size_t cn, const uint8_t *sv, size_t sn,
			       bool final, struct sn_meta *m)
{
	uint8_t *cc = malloc(cn ? cn : 1), *sc = malloc(sn ? sn : 1);
	ck_assert(cc && sc);
	if (cn)
		memcpy(cc, c, cn);
	if (sn)
		memcpy(sc, sv, sn);
	struct sn_stream s = {
		.client = cc, .client_len = cn, .server = sc, .server_len = sn,
		.client_at_start = false, .final = final,
	};
	memset(m, 0, sizeof *m);
	enum sn_verdict v = sn_diss_amqp(&s, m);
	free(cc);
	free(sc);
	return v;
}

static size_t load_dir(const char *pcap, uint16_t sport, uint16_t dport, uint8_t *out, size_t cap)
{
	long n = sn_test_port_bytes(pcap, sport, dport, out, cap);
	ck_assert_msg(n >= 0, "cannot read %s", pcap);
	return (size_t)n;
}

/* One 0-9-1 frame: type, channel, payload, frame-end. */
static void put_frame(struct buf *b, uint8_t type, uint16_t channel, const void *p, size_t n)
{
	put_u8(b, type);
	put_be16(b, channel);
	put_be32(b, (uint32_t)n);
	if (n)
		put(b, p, n);
	put_u8(b, 0xCE);
}

/* Basic.Publish (60, 40) method payload, its content header and a body. */
static void put_publish(struct buf *b, uint16_t channel)
{
	static const uint8_t method[] = { 0, 60, 0, 40, 0, 0, 0, 0x04, 'l', 'o', 'g', 's', 0 };
	static const uint8_t header[] = { 0, 60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0 };
	put_frame(b, 1, channel, method, sizeof method);
	put_frame(b, 2, channel, header, sizeof header);
	put_frame(b, 3, channel, "hello", 5);
}

/* Celery's Basic.Publish frames from a capture that starts mid-session. */
START_TEST(mid_client_frames_capture)
{
	struct sn_meta m;
	size_t cn = load_dir("corpus/amqp-ndpi.pcap", 44205, 5672, sample, 2048);
	ck_assert_uint_eq(cn, 2048);
	ck_assert_int_eq(run_mid(sample, cn, NULL, 0, false, &m), SN_MATCH);
	ck_assert_int_eq(m.proto, SN_PROTO_AMQP);
	ck_assert(m.midstream);
	ck_assert_str_eq(m.amqp_version, "");
	ck_assert_str_eq(m.user, "");
	/* Celery's basic.publish routes, as tshark reads them: exchange celeryev */
	ck_assert_uint_ge(m.n_topics, 1);
	for (size_t i = 0; i < m.n_topics; i++)
		ck_assert_msg(strcmp(m.topics[i], "celeryev/task.received") == 0 ||
			      strcmp(m.topics[i], "celeryev/task.started") == 0 ||
			      strcmp(m.topics[i], "celeryev/task.succeeded") == 0 ||
			      strcmp(m.topics[i], "celeryev/worker.heartbeat") == 0,
			      "topic %s", m.topics[i]);
}
END_TEST

/* Only the broker spoke: one segment of Basic.Deliver frames. */
START_TEST(mid_server_frames_capture)
{
	struct sn_meta m;
	size_t sn = load_dir("corpus/amqp2.pcap", 5672, 46900, peer, sizeof peer);
	ck_assert_uint_eq(sn, 177);
	ck_assert_int_eq(run_mid(NULL, 0, peer, sn, true, &m), SN_MATCH);
	ck_assert_int_eq(m.proto, SN_PROTO_AMQP);
	ck_assert(m.midstream);
}
END_TEST

/* Every prefix of the client's frames: never a refusal while more can come. */
START_TEST(mid_prefixes)
{
	struct sn_meta m;
	size_t cn = load_dir("corpus/amqp-ndpi.pcap", 44205, 5672, sample, 600);
	for (size_t k = 0; k <= cn; k++) {
		ck_assert_msg(run_mid(sample, k, NULL, 0, false, &m) != SN_NO_MATCH, "prefix %zu", k);
		run_mid(sample, k, NULL, 0, true, &m);
	}
}
END_TEST

START_TEST(mid_two_frames_needed)
{
	struct buf b = { .n = 0 };
	struct sn_meta m;
	static const uint8_t method[] = { 0, 60, 0, 40, 0, 0, 0, 0, 0 };

	put_frame(&b, 1, 1, method, sizeof method);
	ck_assert_int_eq(run_mid(b.b, b.n, NULL, 0, false, &m), SN_NEED_MORE);
	ck_assert_int_eq(run_mid(b.b, b.n, NULL, 0, true, &m), SN_NO_MATCH);
	put_frame(&b, 8, 0, NULL, 0); /* heartbeat */
	ck_assert_int_eq(run_mid(b.b, b.n, NULL, 0, false, &m), SN_MATCH);
	/* two heartbeats alone */
	b.n = 0;
	put_frame(&b, 8, 0, NULL, 0);
	put_frame(&b, 8, 0, NULL, 0);
	ck_assert_int_eq(run_mid(NULL, 0, b.b, b.n, false, &m), SN_MATCH);
}
END_TEST

/* A stream seen from its start must begin with the protocol header. */
START_TEST(mid_needs_not_at_start)
{
	struct buf b = { .n = 0 };
	struct sn_meta m;

	put_publish(&b, 1);
	ck_assert_int_eq(run_ex(b.b, b.n, false, &m), SN_NO_MATCH);
	ck_assert_int_eq(run_mid(b.b, b.n, NULL, 0, false, &m), SN_MATCH);
}
END_TEST

/* Frames that break one rule each, after a good Basic.Publish. */
START_TEST(mid_malformed_frames)
{
	static const uint8_t method[] = { 0, 60, 0, 40, 0, 0, 0, 0, 0 };
	static const uint8_t bad_class[] = { 0, 11, 0, 40 };
	static const uint8_t bad_weight[] = { 0, 60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0 };
	struct sn_meta m;

	for (int i = 0; i < 6; i++) {
		struct buf b = { .n = 0 };
		put_frame(&b, 1, 1, method, sizeof method);
		if (i == 0)
			put_frame(&b, 4, 1, "x", 1); /* unknown frame type */
		else if (i == 1)
			put_frame(&b, 1, 1, bad_class, sizeof bad_class);
		else if (i == 2)
			put_frame(&b, 2, 1, bad_weight, sizeof bad_weight);
		else if (i == 3)
			put_frame(&b, 8, 1, NULL, 0); /* heartbeat off channel 0 */
		else if (i == 4)
			put_frame(&b, 3, 0, "x", 1); /* body on channel 0 */
		else
			put_frame(&b, 1, 1, method, sizeof method);
		if (i == 5)
			b.b[b.n - 1] = 0xCD; /* wrong frame-end */
		ck_assert_msg(run_mid(b.b, b.n, NULL, 0, false, &m) == SN_NO_MATCH, "case %d", i);
		ck_assert_int_eq(m.proto, SN_PROTO_NONE);
	}
}
END_TEST

/* The other direction must not be malformed. */
START_TEST(mid_other_direction_bad)
{
	struct buf b = { .n = 0 };
	static const char http[] = "HTTP/1.1 200 OK\r\n\r\n";
	struct sn_meta m;

	put_publish(&b, 1);
	ck_assert_int_eq(run_mid(b.b, b.n, (const uint8_t *)http, sizeof http - 1, false, &m),
			 SN_NO_MATCH);
}
END_TEST

/* TLS application data and HTTP picked up mid-stream. */
START_TEST(mid_neg_other_traffic)
{
	static const uint8_t tls_app[] = { 0x17, 0x03, 0x03, 0x00, 0x06, 1, 2, 3, 4, 5, 6,
					   0x17, 0x03, 0x03, 0x00, 0x02, 7, 8 };
	static const char http[] = "POST /api HTTP/1.1\r\nHost: x\r\n\r\n{\"a\": 1}";
	struct sn_meta m;

	ck_assert_int_eq(run_mid(tls_app, sizeof tls_app, tls_app, sizeof tls_app, true, &m),
			 SN_NO_MATCH);
	ck_assert_int_eq(run_mid((const uint8_t *)http, sizeof http - 1, NULL, 0, true, &m),
			 SN_NO_MATCH);
}
END_TEST

/* 10,000 random buffers of random lengths seen mid-stream: never a match. */
START_TEST(mid_random_never_matches)
{
	sn_test_random_never_matches(sn_diss_amqp, 10000, 0x243f6a8885a308d3u, true, 0);
}
END_TEST

/* ---- virtual host and connection_name ---- */

/* Start-Ok whose client-properties table holds other types before connection_name,
 * then Tune-Ok, then Connection.Open with virtual host "/c2". */
START_TEST(client_properties_and_open)
{
	struct buf props = { .n = 0 }, args = { .n = 0 }, b = { .n = 0 };
	struct sn_meta m;
	put_shortstr(&props, "capabilities");
	put_u8(&props, 'F');
	put_be32(&props, 7);
	put_shortstr(&props, "acks"); /* 5 bytes, then type and value: 7 */
	put_u8(&props, 't');
	put_u8(&props, 1);
	put_shortstr(&props, "n");
	put_u8(&props, 'I');
	put_be32(&props, 7);
	put_shortstr(&props, "big");
	put_u8(&props, 'l');
	put_be32(&props, 0);
	put_be32(&props, 9);
	put_shortstr(&props, "connection_name");
	put_u8(&props, 'S');
	put_longstr(&props, "implant-7", 9);
	put_header(&b, 0, 0, 9, 1);
	put_be16(&args, 10);
	put_be16(&args, 11);
	put_be32(&args, (uint32_t)props.n);
	put(&args, props.b, props.n);
	put_shortstr(&args, "PLAIN");
	put_longstr(&args, "\0u7\0pw", 6);
	put_shortstr(&args, "en_US");
	put_frame(&b, 1, 0, args.b, args.n);
	static const uint8_t tune_ok[] = { 0, 10, 0, 31, 0, 0, 0, 2, 0, 0, 0, 60 };
	put_frame(&b, 1, 0, tune_ok, sizeof tune_ok);
	static const uint8_t open[] = { 0, 10, 0, 40, 3, '/', 'c', '2', 0, 0 };
	put_frame(&b, 1, 0, open, sizeof open);
	ck_assert_int_eq(run(b.b, b.n, &m), SN_MATCH);
	ck_assert_str_eq(m.user, "u7");
	ck_assert_str_eq(m.amqp_connection_name, "implant-7");
	ck_assert_str_eq(m.amqp_vhost, "/c2");
	check_truncations(b.b, b.n, "0-9-1", "u7");
	/* Open cut short: the vhost is not known yet, the rest is */
	ck_assert_int_eq(run(b.b, b.n - 3, &m), SN_MATCH);
	ck_assert_str_eq(m.amqp_vhost, "");
	ck_assert_str_eq(m.amqp_connection_name, "implant-7");
}
END_TEST

/* A field type the reader does not know ends the table walk: no name, no harm. */
START_TEST(client_properties_unknown_type)
{
	struct buf args = { .n = 0 }, b = { .n = 0 };
	struct sn_meta m;
	put_header(&b, 0, 0, 9, 1);
	put_be16(&args, 10);
	put_be16(&args, 11);
	put_be32(&args, 3 + 1 + 16 + 1 + 4 + 1); /* "ab" ? then connection_name S "x" */
	put_shortstr(&args, "ab");
	put_u8(&args, '?');
	put_shortstr(&args, "connection_name");
	put_u8(&args, 'S');
	put_be32(&args, 1);
	put_u8(&args, 'x');
	put_shortstr(&args, "PLAIN");
	put_longstr(&args, "\0u8\0pw", 6);
	put_shortstr(&args, "en_US");
	put_frame(&b, 1, 0, args.b, args.n);
	ck_assert_int_eq(run(b.b, b.n, &m), SN_MATCH);
	ck_assert_str_eq(m.amqp_connection_name, "");
	ck_assert_str_eq(m.user, "u8");
}
END_TEST

/* ---- channel methods after the handshake: queue names into the topic list ---- */

/* A method frame on channel 1: class, method, reserved-1, then the given shortstrs. */
static void put_names(struct buf *b, uint16_t cls, uint16_t method, const char *const *names,
		      size_t n)
{
	struct buf args = { .n = 0 };
	put_be16(&args, cls);
	put_be16(&args, method);
	put_be16(&args, 0); /* reserved-1 */
	for (size_t i = 0; i < n; i++)
		put_shortstr(&args, names[i]);
	put_u8(&args, 0); /* bits */
	put_be32(&args, 0); /* an empty arguments table */
	put_frame(b, 1, 1, args.b, args.n);
}

START_TEST(queue_names_from_channel_methods)
{
	struct buf b = { .n = 0 };
	struct sn_meta m;
	static const uint8_t channel_open[] = { 0, 20, 0, 10, 0 };
	static const char *const declare[] = { "cmd-queue" };
	static const char *const bind[] = { "cmd-queue", "tasks", "agent.7" };
	static const char *const consume[] = { "cmd-queue", "ctag" };
	static const char *const publish[] = { "amq.topic", "weather.today" };
	static const char *const publish_default[] = { "", "results" };
	static const char *const declare_server_named[] = { "" };

	put_header(&b, 0, 0, 9, 1);
	put_frame(&b, 1, 1, channel_open, sizeof channel_open);
	put_names(&b, 50, 10, declare, 1);
	put_names(&b, 50, 10, declare_server_named, 1);
	put_names(&b, 50, 20, bind, 3);
	put_names(&b, 60, 20, consume, 2);
	put_names(&b, 60, 40, publish, 2);
	put_names(&b, 60, 40, publish_default, 2);
	ck_assert_int_eq(run(b.b, b.n, &m), SN_MATCH);
	ck_assert_uint_eq(m.n_topics, 4);
	ck_assert_str_eq(m.topics[0], "cmd-queue");
	ck_assert_str_eq(m.topics[1], "tasks/agent.7");
	ck_assert_str_eq(m.topics[2], "amq.topic/weather.today");
	ck_assert_str_eq(m.topics[3], "results"); /* default exchange: the key is a queue */
	ck_assert(!m.topics_truncated);
	/* every prefix: still AMQP, never more names than the whole */
	for (size_t k = 8; k < b.n; k++) {
		ck_assert_int_eq(run(b.b, k, &m), SN_MATCH);
		ck_assert_uint_le(m.n_topics, 4);
	}
}
END_TEST

START_TEST(queue_walk_stops_at_a_broken_frame)
{
	struct buf b = { .n = 0 };
	struct sn_meta m;
	static const char *const one[] = { "one" };
	static const char *const two[] = { "two" };

	put_header(&b, 0, 0, 9, 1);
	put_names(&b, 60, 20, one, 1);
	b.b[b.n - 1] = 0x00; /* frame-end is not 0xCE */
	put_names(&b, 60, 20, two, 1);
	ck_assert_int_eq(run(b.b, b.n, &m), SN_MATCH);
	ck_assert_uint_eq(m.n_topics, 0);
	/* a shortstr running past its frame: that frame gives nothing, the walk goes on */
	struct buf c = { .n = 0 };
	static const uint8_t hostile[] = { 0, 60, 0, 20, 0, 0, 200, 'x' };
	put_header(&c, 0, 0, 9, 1);
	put_frame(&c, 1, 1, hostile, sizeof hostile);
	put_names(&c, 60, 20, two, 1);
	ck_assert_int_eq(run(c.b, c.n, &m), SN_MATCH);
	ck_assert_uint_eq(m.n_topics, 1);
	ck_assert_str_eq(m.topics[0], "two");
}
END_TEST

static enum sn_verdict run_n_consumes(size_t n, struct sn_meta *m)
{
	struct buf b = { .n = 0 };
	put_header(&b, 0, 0, 9, 1);
	for (size_t i = 0; i < n; i++) {
		char name[16];
		snprintf(name, sizeof name, "q%zu", i);
		const char *const names[] = { name };
		put_names(&b, 60, 20, names, 1);
	}
	return run(b.b, b.n, m);
}

START_TEST(queue_list_bound)
{
	struct sn_meta m;

	ck_assert_int_eq(run_n_consumes(SN_META_TOPICS - 1, &m), SN_MATCH);
	ck_assert_uint_eq(m.n_topics, SN_META_TOPICS - 1);
	ck_assert(!m.topics_truncated);
	ck_assert_int_eq(run_n_consumes(SN_META_TOPICS, &m), SN_MATCH);
	ck_assert_uint_eq(m.n_topics, SN_META_TOPICS);
	ck_assert(!m.topics_truncated);
	ck_assert_int_eq(run_n_consumes(SN_META_TOPICS + 1, &m), SN_MATCH);
	ck_assert_uint_eq(m.n_topics, SN_META_TOPICS);
	ck_assert(m.topics_truncated);
}
END_TEST

/* output.payload_bytes: the first body frame after a publish's content header. */
START_TEST(publish_body_kept_only_when_asked)
{
	struct buf b = { .n = 0 };
	struct sn_meta m;
	static const char *const publish[] = { "", "c2.out" };
	static const uint8_t header[] = { 0, 60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10, 0, 0 };

	put_header(&b, 0, 0, 9, 1);
	put_names(&b, 60, 40, publish, 2);
	put_frame(&b, 2, 1, header, sizeof header);
	put_frame(&b, 3, 1, "ab\"d", 4);   /* 10 bytes announced, 4 in this frame */
	put_frame(&b, 3, 1, "efghij", 6);  /* the same message goes on */
	put_frame(&b, 3, 1, "zz", 2);      /* a body frame without a header: not a message start */
	struct sn_stream s = { .client = b.b, .client_len = b.n, .client_at_start = true };
	memset(&m, 0, sizeof m);
	ck_assert_int_eq(sn_diss_amqp(&s, &m), SN_MATCH);
	ck_assert_uint_eq(m.payloads.n, 0);
	s.payload_bytes = 16;
	memset(&m, 0, sizeof m);
	ck_assert_int_eq(sn_diss_amqp(&s, &m), SN_MATCH);
	ck_assert_uint_eq(m.payloads.n, 1);
	ck_assert_uint_eq(m.payloads.item[0].size, 10);
	ck_assert_uint_eq(m.payloads.item[0].len, 4);
	ck_assert(m.payloads.item[0].cut);
	ck_assert_mem_eq(m.payloads.pool, "ab\"d", 4);
	ck_assert_str_eq(m.topics[m.payloads.item[0].topic], "c2.out");
}
END_TEST

Suite *amqp_suite(void);

Suite *amqp_suite(void)
{
	Suite *s = suite_create("amqp");
	TCase *tc = tcase_create("sn_diss_amqp");

	tcase_add_test(tc, pika_userpass);
	tcase_add_test(tc, queue_names_from_channel_methods);
	tcase_add_test(tc, queue_walk_stops_at_a_broken_frame);
	tcase_add_test(tc, queue_list_bound);
	tcase_add_test(tc, publish_body_kept_only_when_asked);
	tcase_add_test(tc, client_properties_and_open);
	tcase_add_test(tc, client_properties_unknown_type);
	tcase_add_test(tc, oneshot_pika_guest);
	tcase_add_test(tc, nonstandard_port_5673);
	tcase_add_test(tc, proton_amqp10_sasl_plain);
	tcase_add_test(tc, random_bytes_capture_refused);
	tcase_add_test(tc, every_version_header);
	tcase_add_test(tc, unknown_version_refused);
	tcase_add_test(tc, other_protocols_refused_early);
	tcase_add_test(tc, random_never_matches);
	tcase_add_test(tc, start_ok_plain);
	tcase_add_test(tc, start_ok_amqplain);
	tcase_add_test(tc, start_ok_amqplain_with_table_length);
	tcase_add_test(tc, start_ok_after_heartbeat);
	tcase_add_test(tc, start_ok_other_mechanism_no_user);
	tcase_add_test(tc, plain_without_separators_no_user);
	tcase_add_test(tc, sasl_init_short_encodings);
	tcase_add_test(tc, sasl_init_wide_encodings);
	tcase_add_test(tc, sasl_init_anonymous_no_user);
	tcase_add_test(tc, long_user_truncated);
	tcase_add_test(tc, frame_size_all_ones);
	tcase_add_test(tc, frame_end_missing);
	tcase_add_test(tc, start_ok_inner_lengths_hostile);
	tcase_add_test(tc, amqp10_bad_frame_fields);
	tcase_add_test(tc, amqp10_hostile_list_and_symbol);
	tcase_add_test(tc, random_after_header_never_crashes);
	suite_add_tcase(s, tc);

	TCase *mid = tcase_create("midstream");
	tcase_add_test(mid, mid_client_frames_capture);
	tcase_add_test(mid, mid_server_frames_capture);
	tcase_add_test(mid, mid_prefixes);
	tcase_add_test(mid, mid_two_frames_needed);
	tcase_add_test(mid, mid_needs_not_at_start);
	tcase_add_test(mid, mid_malformed_frames);
	tcase_add_test(mid, mid_other_direction_bad);
	tcase_add_test(mid, mid_neg_other_traffic);
	tcase_add_test(mid, mid_random_never_matches);
	suite_add_tcase(s, mid);
	return s;
}
