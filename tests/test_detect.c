/*
 * test_detect.c - classification dispatch: which dissector answers, and
 * how its answer and the server port become a verdict.
 */
#include <check.h>
#include <string.h>

#include "detect.h"
#include "testutil.h"

static const uint8_t connect_pkt[] = { 0x10, 0x14, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00,
				       0x3c, 0x00, 0x08, 's',  'e',  'n',  's',  'o', 'r', '-',  '1' };
static const struct sn_detect no_carrier = { 0 };
static uint32_t skip_out;
static const char http_get[] = "GET / HTTP/1.1\r\nHost: example\r\nAccept: */*\r\n\r\n";

static struct sn_stream client_stream(const void *b, size_t n, bool at_start, bool final)
{
	struct sn_stream s;
	memset(&s, 0, sizeof s);
	s.client = b;
	s.client_len = n;
	s.client_at_start = at_start;
	s.final = final;
	return s;
}

START_TEST(mqtt_payload_on_any_port)
{
	struct sn_detect d = { 0 };
	struct sn_meta m;
	struct sn_detect_verdict v;
	struct sn_stream s = client_stream(connect_pkt, sizeof connect_pkt, true, false);
	ck_assert(sn_detect_classify(&d, NULL, 0, &s, &m, &v, &skip_out));
	ck_assert_int_eq(v.proto, SN_PROTO_MQTT);
	ck_assert_int_eq(v.evidence, SN_EVIDENCE_PAYLOAD);
	ck_assert_int_eq(v.dissector, SN_DISS_MQTT);
	ck_assert_str_eq(m.client_id, "sensor-1");
}
END_TEST

START_TEST(partial_connect_waits_then_port_at_final)
{
	struct sn_detect d = { 0 };
	struct sn_meta m;
	struct sn_detect_verdict v;
	struct sn_stream s = client_stream(connect_pkt, 1, true, false);
	ck_assert(!sn_detect_classify(&d, NULL, SN_PROTO_MQTT, &s, &m, &v, &skip_out));
	s.final = true;
	s.client_at_start = false; /* mid-stream bytes can never refute the port */
	ck_assert(sn_detect_classify(&d, NULL, SN_PROTO_MQTT, &s, &m, &v, &skip_out));
	ck_assert_int_eq(v.proto, SN_PROTO_MQTT);
	ck_assert_int_eq(v.evidence, SN_EVIDENCE_PORT);
}
END_TEST

START_TEST(http_refutes_port_only_from_start)
{
	struct sn_detect d = { 0 };
	struct sn_meta m;
	struct sn_detect_verdict v;
	struct sn_stream s = client_stream(http_get, strlen(http_get), true, false);
	ck_assert(sn_detect_classify(&d, NULL, SN_PROTO_MQTT, &s, &m, &v, &skip_out));
	ck_assert_int_eq(v.evidence, SN_EVIDENCE_REFUTED);
	ck_assert_int_eq(v.proto, SN_PROTO_MQTT);
	ck_assert_uint_eq(d.excluded, (1u << SN_DISS_COUNT) - 1); /* all refused */

	struct sn_detect d2 = { 0 };
	s.client_at_start = false;
	ck_assert(sn_detect_classify(&d2, NULL, SN_PROTO_MQTT, &s, &m, &v, &skip_out));
	ck_assert_int_eq(v.evidence, SN_EVIDENCE_PORT);
}
END_TEST

START_TEST(http_on_plain_port_names_nothing)
{
	struct sn_detect d = { 0 };
	struct sn_meta m;
	struct sn_detect_verdict v;
	struct sn_stream s = client_stream(http_get, strlen(http_get), true, false);
	ck_assert(sn_detect_classify(&d, NULL, 0, &s, &m, &v, &skip_out));
	ck_assert_int_eq(v.proto, SN_PROTO_NONE);
	ck_assert_int_eq(v.dissector, -1);
}
END_TEST

START_TEST(excluded_dissector_not_run_again)
{
	struct sn_detect d = { .excluded = 1u << SN_DISS_MQTT };
	struct sn_meta m;
	struct sn_detect_verdict v;
	struct sn_stream s = client_stream(connect_pkt, sizeof connect_pkt, true, true);
	ck_assert(sn_detect_classify(&d, NULL, SN_PROTO_MQTT, &s, &m, &v, &skip_out));
	ck_assert_int_ne(v.evidence, SN_EVIDENCE_PAYLOAD);
}
END_TEST

START_TEST(tls_hello_on_tls_port)
{
	uint8_t buf[4096];
	long n = sn_test_client_bytes("mqtt-tls-8883-paho.pcap", 8883, buf, sizeof buf);
	ck_assert_int_gt(n, 5);
	struct sn_detect d = { 0 };
	struct sn_meta m;
	struct sn_detect_verdict v;
	struct sn_stream s = client_stream(buf, (size_t)n, true, true);
	ck_assert(sn_detect_classify(&d, NULL, SN_PROTO_MQTT | SN_PORT_TLS, &s, &m, &v, &skip_out));
	ck_assert_int_eq(v.proto, SN_PROTO_MQTT);
	ck_assert_int_eq(v.evidence, SN_EVIDENCE_TLS);
	ck_assert_int_eq(v.dissector, SN_DISS_TLS);
}
END_TEST

START_TEST(meta_same_compares_fields)
{
	struct sn_meta a, b;
	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
	strcpy(a.client_id, "x");
	strcpy(b.client_id, "x");
	ck_assert(sn_meta_same(&a, &b));
	strcpy(b.user, "u");
	ck_assert(!sn_meta_same(&a, &b));
	struct sn_stream s = client_stream(connect_pkt, sizeof connect_pkt, true, false);
	ck_assert(sn_detect_detail(&no_carrier, NULL, SN_DISS_MQTT, &s, &a));
	ck_assert_str_eq(a.client_id, "sensor-1");
	ck_assert(!sn_detect_detail(&no_carrier, NULL, SN_DISS_XMPP, &s, &a));
}
END_TEST

/*
 * The first byte of a stream seen from its start rules out, without a call,
 * exactly the dissectors whose registry `opening` lacks it; the others are
 * asked, and only their own NO_MATCH is remembered.  One byte never
 * confirms, so every dissector is reached.
 */
START_TEST(first_byte_refusals_are_the_registry_openings)
{
	for (unsigned b = 0; b < 256; b++) {
		uint8_t byte = (uint8_t)b;
		unsigned want = 0;
		for (int id = 0; id < SN_DISS_COUNT; id++) {
			const struct sn_dissector *dis = sn_dissector_get((enum sn_dissector_id)id);
			struct sn_meta m;
			if (!memchr(dis->opening, (int)b, strlen(dis->opening)) ||
			    sn_test_dissect(dis->dissect, &byte, 1, NULL, 0, true, false, &m) == SN_NO_MATCH)
				want |= 1u << id;
		}
		for (int hint = SN_PROTO_NONE; hint < SN_PROTO_COUNT; hint++) {
			struct sn_detect d = { 0 };
			struct sn_meta m;
			struct sn_detect_verdict v;
			struct sn_stream s = client_stream(&byte, 1, true, false);
			sn_detect_classify(&d, NULL, (uint8_t)hint, &s, &m, &v, &skip_out);
			ck_assert_msg(d.excluded == want, "byte 0x%02x hint %d: excluded 0x%02x, want 0x%02x", b,
				      hint, d.excluded, want);
			/* mid-stream, the first byte rules nothing out */
			struct sn_detect mid = { 0 };
			s.client_at_start = false;
			sn_detect_classify(&mid, NULL, (uint8_t)hint, &s, &m, &v, &skip_out);
			ck_assert_uint_eq(mid.excluded & ~want, 0);
		}
	}
}
END_TEST

/* ---- the scratch meta between calls ---- */

/* A one-record TLS ClientHello with a long server name and two ALPN names. */
static size_t tls_hello(uint8_t *b, size_t cap)
{
	static const char alpn[] = "\x02h2\x04mqtt";
	uint8_t body[600];
	size_t n = 0, host = 300;
	body[n++] = 3, body[n++] = 3;
	memset(body + n, 0xab, 32), n += 32;
	body[n++] = 0;                                   /* session id */
	body[n++] = 0, body[n++] = 2, body[n++] = 0x13, body[n++] = 0x01; /* one suite */
	body[n++] = 1, body[n++] = 0;                    /* null compression */
	size_t ext = 4 + 5 + host + 4 + 2 + (sizeof alpn - 1);
	body[n++] = (uint8_t)(ext >> 8), body[n++] = (uint8_t)ext;
	body[n++] = 0, body[n++] = 0;                    /* server_name */
	body[n++] = (uint8_t)((host + 5) >> 8), body[n++] = (uint8_t)(host + 5);
	body[n++] = (uint8_t)((host + 3) >> 8), body[n++] = (uint8_t)(host + 3);
	body[n++] = 0;
	body[n++] = (uint8_t)(host >> 8), body[n++] = (uint8_t)host;
	memset(body + n, 'h', host), n += host;
	body[n++] = 0, body[n++] = 16;                   /* ALPN */
	body[n++] = 0, body[n++] = (uint8_t)(sizeof alpn + 1);
	body[n++] = 0, body[n++] = (uint8_t)(sizeof alpn - 1);
	memcpy(body + n, alpn, sizeof alpn - 1), n += sizeof alpn - 1;
	ck_assert_uint_le(n + 9, cap);
	uint8_t hdr[9] = { 22, 3, 1, (uint8_t)((n + 4) >> 8), (uint8_t)(n + 4), 1, 0,
			   (uint8_t)(n >> 8), (uint8_t)n };
	memcpy(b, hdr, sizeof hdr);
	memcpy(b + sizeof hdr, body, n);
	return sizeof hdr + n;
}

/*
 * Detect clears before each dissector only what the one that wrote the
 * meta last may have set, when its registry entry says which (TLS).  Every
 * pair of connections classified one after the other into one meta, with
 * and without the detail phase between them, gives the second the verdict and the
 * meta (byte for byte, when it confirms) it gets alone on a zeroed meta.
 */
START_TEST(each_dissector_sees_a_zeroed_meta)
{
	static const struct {
		const char *pcap;
		uint16_t port;
	} caps[] = {
		{ "mqtt-v5-properties-1883.pcap", 1883 },   { "art-c-mqtt-sub-commands-1883.pcap", 1883 },
		{ "amqp091-tls-5671-pika.pcap", 5671 },     { "mqtt-tls-8883-paho.pcap", 8883 },
		{ "xmpp-slixmpp-login-plaintext-5222.pcap", 5222 },
		{ "stomp12-stomppy-connect-61613.pcap", 61613 },
		{ "amqp091-pika-userpass-5672.pcap", 5672 }, { "mqtt-websocket-rabbitmq-15675.pcap", 15675 },
	};
	enum { N_CAPS = sizeof caps / sizeof caps[0], N = N_CAPS + 4, CAP = 8192 };
	static uint8_t bytes[N][CAP];
	static struct sn_meta m, ref;
	size_t len[N];
	for (size_t i = 0; i < N_CAPS; i++)
		len[i] = sn_test_load_client(caps[i].pcap, caps[i].port, bytes[i], CAP);
	len[N_CAPS] = tls_hello(bytes[N_CAPS], CAP);
	memcpy(bytes[N_CAPS + 1], connect_pkt, sizeof connect_pkt);
	len[N_CAPS + 1] = sizeof connect_pkt;
	memcpy(bytes[N_CAPS + 2], http_get, strlen(http_get));
	len[N_CAPS + 2] = strlen(http_get);
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	for (size_t k = 0; k < 300; k++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		bytes[N_CAPS + 3][k] = (uint8_t)x;
	}
	len[N_CAPS + 3] = 300;

	for (size_t pair = 0; pair < 2 * N * N; pair++) {
		size_t a = pair / N % N, b = pair % N;
		bool detail = pair >= N * N;
		{
			struct sn_detect_ctx *ctx = sn_detect_ctx_create(CAP);
			struct sn_detect_ctx *fresh = sn_detect_ctx_create(CAP);
			ck_assert_ptr_nonnull(ctx);
			ck_assert_ptr_nonnull(fresh);
			struct sn_detect da = { 0 }, db = { 0 }, dr = { 0 };
			struct sn_detect_verdict va, vb, vr;
			struct sn_stream sa = client_stream(bytes[a], len[a], true, true);
			struct sn_stream sb = client_stream(bytes[b], len[b], true, true);
			sa.payload_bytes = sb.payload_bytes = 64;
			uint32_t skip;
			ck_assert(sn_detect_classify(&da, ctx, 0, &sa, &m, &va, &skip));
			if (detail && va.dissector >= 0)
				sn_detect_detail(&da, ctx, va.dissector, &sa, &m);
			ck_assert(sn_detect_classify(&db, ctx, 0, &sb, &m, &vb, &skip));
			memset(&ref, 0xa5, sizeof ref); /* the reference must not depend on it */
			ck_assert(sn_detect_classify(&dr, fresh, 0, &sb, &ref, &vr, &skip));
			ck_assert_msg(vb.proto == vr.proto && vb.evidence == vr.evidence &&
					      vb.dissector == vr.dissector && vb.undecided == vr.undecided &&
					      vb.malformed == vr.malformed && db.excluded == dr.excluded,
				      "%zu after %zu (detail %d): another verdict", b, a, detail);
			if (vb.dissector >= 0)
				ck_assert_msg(memcmp(&m, &ref, sizeof m) == 0, "%zu after %zu (detail %d): another meta", b, a,
					      detail);
			else
				ck_assert_uint_eq(m.want, ref.want);
			sn_detect_ctx_destroy(ctx);
			sn_detect_ctx_destroy(fresh);
		}
	}
}
END_TEST

Suite *detect_suite(void);

Suite *detect_suite(void)
{
	Suite *s = suite_create("detect");
	TCase *t = tcase_create("dispatch");
	tcase_add_test(t, mqtt_payload_on_any_port);
	tcase_add_test(t, partial_connect_waits_then_port_at_final);
	tcase_add_test(t, http_refutes_port_only_from_start);
	tcase_add_test(t, http_on_plain_port_names_nothing);
	tcase_add_test(t, excluded_dissector_not_run_again);
	tcase_add_test(t, tls_hello_on_tls_port);
	tcase_add_test(t, meta_same_compares_fields);
	tcase_add_test(t, first_byte_refusals_are_the_registry_openings);
	tcase_add_test(t, each_dissector_sees_a_zeroed_meta);
	suite_add_tcase(s, t);
	return s;
}
