/*
 * test_registry.c - unit tests for dissectors/registry.c: the dissector
 * table, protocol names, and the meta/topic/base64 helpers.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "dissector.h"
#include "testutil.h"

/* ---- table ---- */

START_TEST(get_every_id)
{
	static const char *const names[SN_DISS_COUNT] = {
		[SN_DISS_MQTT] = "mqtt", [SN_DISS_XMPP] = "xmpp", [SN_DISS_AMQP] = "amqp",
		[SN_DISS_STOMP] = "stomp", [SN_DISS_TLS] = "tls",
	};
	for (int id = 0; id < SN_DISS_COUNT; id++) {
		const struct sn_dissector *d = sn_dissector_get((enum sn_dissector_id)id);
		ck_assert_ptr_nonnull(d);
		ck_assert(d->dissect != NULL);
		ck_assert_str_eq(d->name, names[id]);
	}
	ck_assert(sn_dissector_get(SN_DISS_MQTT)->dissect == sn_diss_mqtt);
	ck_assert(sn_dissector_get(SN_DISS_TLS)->dissect == sn_diss_tls);
	ck_assert_int_eq(sn_dissector_get(SN_DISS_TLS)->proto, SN_PROTO_NONE);
}
END_TEST

START_TEST(get_out_of_range)
{
	ck_assert_ptr_null(sn_dissector_get(SN_DISS_COUNT));
	ck_assert_ptr_null(sn_dissector_get((enum sn_dissector_id)-1));
}
END_TEST

START_TEST(for_proto)
{
	for (int p = SN_PROTO_MQTT; p < SN_PROTO_COUNT; p++) {
		const struct sn_dissector *d = sn_dissector_for_proto((enum sn_proto)p);
		ck_assert_ptr_nonnull(d);
		ck_assert_int_eq(d->proto, p);
	}
	ck_assert(sn_dissector_for_proto(SN_PROTO_STOMP)->dissect == sn_diss_stomp);
	ck_assert_ptr_null(sn_dissector_for_proto(SN_PROTO_NONE));
	ck_assert_ptr_null(sn_dissector_for_proto(SN_PROTO_COUNT));
}
END_TEST

/* The registry entry is where a protocol's ports and probe budget live. */
START_TEST(entry_ports_and_budget)
{
	const struct sn_dissector *x = sn_dissector_get(SN_DISS_XMPP);
	ck_assert_uint_eq(sn_dissector_port_count(x->ports), 2);
	ck_assert_uint_eq(x->ports[0], 5222);
	ck_assert_uint_eq(x->ports[1], 5269);
	ck_assert_uint_eq(sn_dissector_port_count(x->tls_ports), 1);
	ck_assert_uint_eq(x->tls_ports[0], 5223);
	const struct sn_dissector *m = sn_dissector_get(SN_DISS_MQTT);
	ck_assert_uint_eq(m->ports[0], 1883);
	ck_assert_uint_eq(m->tls_ports[0], 8883);
	ck_assert_uint_eq(sn_dissector_get(SN_DISS_AMQP)->ports[0], 5672);
	ck_assert_uint_eq(sn_dissector_get(SN_DISS_AMQP)->tls_ports[0], 5671);
	ck_assert_uint_eq(sn_dissector_get(SN_DISS_STOMP)->ports[0], 61613);
	ck_assert_uint_eq(sn_dissector_get(SN_DISS_STOMP)->tls_ports[0], 61614);
	ck_assert_uint_eq(sn_dissector_port_count(sn_dissector_get(SN_DISS_TLS)->ports), 0);
	/* XMPP drops an XML prolog, STOMP heart-beats: 64 KiB each; MQTT never skips */
	ck_assert_uint_eq(x->probe_budget, 65536);
	ck_assert_uint_eq(sn_dissector_get(SN_DISS_STOMP)->probe_budget, 65536);
	ck_assert_uint_eq(m->probe_budget, 0);
	ck_assert_uint_eq(sn_dissector_probe_budget(), 65536);
	/* every protocol has a config name and an event label */
	for (int p = SN_PROTO_MQTT; p < SN_PROTO_COUNT; p++) {
		const struct sn_dissector *d = sn_dissector_for_proto((enum sn_proto)p);
		ck_assert_ptr_nonnull(d->label);
		ck_assert_str_eq(sn_proto_name((enum sn_proto)p), d->label);
	}
}
END_TEST

/* The carriers' names for each protocol come from its registry entry. */
START_TEST(entry_carrier_names)
{
	static const struct {
		const char *name;
		enum sn_proto proto;
	} alpn[] = {
		{ "mqtt", SN_PROTO_MQTT }, { "x-amzn-mqtt-ca", SN_PROTO_MQTT },
		{ "xmpp-client", SN_PROTO_XMPP }, { "xmpp-server", SN_PROTO_XMPP },
		{ "stomp", SN_PROTO_STOMP }, { "amqp", SN_PROTO_AMQP },
		{ "h2", SN_PROTO_NONE }, { "MQTT", SN_PROTO_NONE }, { "mqt", SN_PROTO_NONE },
		{ "mqttx", SN_PROTO_NONE },
	};
	for (size_t i = 0; i < sizeof alpn / sizeof alpn[0]; i++)
		ck_assert_int_eq(sn_registry_alpn_proto((const uint8_t *)alpn[i].name,
							strlen(alpn[i].name)),
				 alpn[i].proto);
	ck_assert_int_eq(sn_registry_alpn_proto((const uint8_t *)"mqtt", 3), SN_PROTO_NONE);
	ck_assert_int_eq(sn_registry_alpn_proto((const uint8_t *)"mqtt\0", 5), SN_PROTO_NONE);
	ck_assert_int_eq(sn_registry_alpn_proto((const uint8_t *)"", 0), SN_PROTO_NONE);
	/* every name an entry lists is found (the lookup's first-byte filter is
	 * built from the same lists) */
	for (int id = 0; id < SN_DISS_COUNT; id++) {
		const struct sn_dissector *d = sn_dissector_get((enum sn_dissector_id)id);
		for (size_t k = 0; k < SN_DISS_MAX_NAMES && d->alpn[k]; k++)
			ck_assert_int_eq(sn_registry_alpn_proto((const uint8_t *)d->alpn[k], strlen(d->alpn[k])),
					 d->proto);
	}
	ck_assert_int_eq(sn_registry_ws_proto("MQTTv3.1.1"), SN_PROTO_MQTT);
	ck_assert_int_eq(sn_registry_ws_proto("mqttv5"), SN_PROTO_MQTT);
	ck_assert_int_eq(sn_registry_ws_proto("v12.stomp"), SN_PROTO_STOMP);
	ck_assert_int_eq(sn_registry_ws_proto("xmpp"), SN_PROTO_XMPP);
	ck_assert_int_eq(sn_registry_ws_proto("amqp"), SN_PROTO_AMQP);
	ck_assert_int_eq(sn_registry_ws_proto("chat"), SN_PROTO_NONE);
	ck_assert_int_eq(sn_registry_ws_proto(""), SN_PROTO_NONE);
	ck_assert_str_eq(sn_dissector_for_proto(SN_PROTO_AMQP)->in_clear,
			 "AMQP protocol header seen in clear");
	for (int p = SN_PROTO_MQTT; p < SN_PROTO_COUNT; p++)
		ck_assert_ptr_nonnull(sn_dissector_for_proto((enum sn_proto)p)->in_clear);
}
END_TEST

START_TEST(proto_names)
{
	ck_assert_str_eq(sn_proto_name(SN_PROTO_NONE), "none");
	ck_assert_str_eq(sn_proto_name(SN_PROTO_MQTT), "MQTT");
	ck_assert_str_eq(sn_proto_name(SN_PROTO_XMPP), "XMPP");
	ck_assert_str_eq(sn_proto_name(SN_PROTO_AMQP), "AMQP");
	ck_assert_str_eq(sn_proto_name(SN_PROTO_STOMP), "STOMP");
	ck_assert_str_eq(sn_proto_name(SN_PROTO_COUNT), "none");
	ck_assert_str_eq(sn_proto_name((enum sn_proto)99), "none");
}
END_TEST

/* ---- sn_meta_set ---- */

START_TEST(meta_set_fits)
{
	struct sn_meta m = { .truncated = false };
	sn_meta_set(&m, m.user, sizeof m.user, "guest", 5);
	ck_assert_str_eq(m.user, "guest");
	ck_assert(!m.truncated);
}
END_TEST

START_TEST(meta_set_exact_fit)
{
	struct sn_meta m = { .truncated = false };
	char dst[6];
	sn_meta_set(&m, dst, sizeof dst, "abcde", 5);
	ck_assert_str_eq(dst, "abcde");
	ck_assert(!m.truncated);
}
END_TEST

START_TEST(meta_set_truncates)
{
	struct sn_meta m = { .truncated = false };
	char dst[4];
	sn_meta_set(&m, dst, sizeof dst, "abcdef", 6);
	ck_assert_str_eq(dst, "abc");
	ck_assert(m.truncated);
}
END_TEST

START_TEST(meta_set_stops_at_nul)
{
	struct sn_meta m = { .truncated = false };
	sn_meta_set(&m, m.client_id, sizeof m.client_id, "ab\0cd", 5);
	ck_assert_str_eq(m.client_id, "ab");
	ck_assert(m.truncated);
}
END_TEST

START_TEST(meta_set_empty)
{
	struct sn_meta m = { .truncated = false };
	strcpy(m.user, "old");
	sn_meta_set(&m, m.user, sizeof m.user, NULL, 0);
	ck_assert_str_eq(m.user, "");
	ck_assert(!m.truncated);
}
END_TEST

START_TEST(meta_set_does_not_read_past_n)
{
	/* "xyz" is not NUL-terminated within n: only 2 bytes are read */
	static const char src[3] = { 'x', 'y', 'z' };
	struct sn_meta m = { .truncated = false };
	sn_meta_set(&m, m.user, sizeof m.user, src, 2);
	ck_assert_str_eq(m.user, "xy");
}
END_TEST

/* ---- sn_meta_add_topic ---- */

START_TEST(topic_add_and_dedupe)
{
	struct sn_meta m = { .n_topics = 0 };
	sn_meta_add_topic(&m, "c2/beacon", 9);
	sn_meta_add_topic(&m, "c2/cmd", 6);
	sn_meta_add_topic(&m, "c2/beacon", 9);
	ck_assert_uint_eq(m.n_topics, 2);
	ck_assert_str_eq(m.topics[0], "c2/beacon");
	ck_assert_str_eq(m.topics[1], "c2/cmd");
	/* a prefix is a different topic */
	sn_meta_add_topic(&m, "c2/beacon", 4);
	ck_assert_uint_eq(m.n_topics, 3);
	ck_assert_str_eq(m.topics[2], "c2/b");
}
END_TEST

START_TEST(topic_empty_ignored)
{
	struct sn_meta m = { .n_topics = 0 };
	sn_meta_add_topic(&m, "", 0);
	sn_meta_add_topic(&m, "\0abc", 4);
	ck_assert_uint_eq(m.n_topics, 0);
}
END_TEST

START_TEST(topic_list_capped)
{
	struct sn_meta m = { .n_topics = 0 };
	char t[8];
	for (int i = 0; i < 40; i++) {
		int n = snprintf(t, sizeof t, "t%d", i);
		sn_meta_add_topic(&m, t, (size_t)n);
	}
	ck_assert_uint_eq(m.n_topics, SN_META_TOPICS);
	ck_assert_str_eq(m.topics[SN_META_TOPICS - 1], "t15");
	ck_assert(m.topics_truncated);
}
END_TEST

/* Sixteen fill the list without marking it; a repeat does not either. */
START_TEST(topic_list_full_not_truncated)
{
	struct sn_meta m = { .n_topics = 0 };
	char t[8];
	for (int i = 0; i < SN_META_TOPICS; i++) {
		int n = snprintf(t, sizeof t, "t%d", i);
		sn_meta_add_topic(&m, t, (size_t)n);
	}
	sn_meta_add_topic(&m, "t3", 2);
	ck_assert_uint_eq(m.n_topics, SN_META_TOPICS);
	ck_assert(!m.topics_truncated);
	sn_meta_add_topic(&m, "t16", 3);
	ck_assert(m.topics_truncated);
}
END_TEST

START_TEST(topic_long_truncated_and_deduped)
{
	struct sn_meta m = { .n_topics = 0 };
	char big[300];
	memset(big, 'a', sizeof big);
	sn_meta_add_topic(&m, big, sizeof big);
	sn_meta_add_topic(&m, big, sizeof big - 1); /* same once cut */
	ck_assert_uint_eq(m.n_topics, 1);
	ck_assert_uint_eq(strlen(m.topics[0]), SN_META_STR - 1);
	ck_assert(m.truncated);
}
END_TEST

/* ---- sn_base64_decode ---- */

static long b64(const char *in, uint8_t *out, size_t cap)
{
	return sn_base64_decode(in, strlen(in), out, cap);
}

START_TEST(b64_rfc4648_vectors)
{
	/* RFC 4648 section 10 */
	static const struct {
		const char *enc, *dec;
	} v[] = {
		{ "", "" }, { "Zg==", "f" }, { "Zm8=", "fo" }, { "Zm9v", "foo" },
		{ "Zm9vYg==", "foob" }, { "Zm9vYmE=", "fooba" }, { "Zm9vYmFy", "foobar" },
	};
	uint8_t out[16];
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		long n = b64(v[i].enc, out, sizeof out);
		ck_assert_int_eq(n, (long)strlen(v[i].dec));
		ck_assert(memcmp(out, v[i].dec, (size_t)n) == 0);
	}
}
END_TEST

START_TEST(b64_missing_padding)
{
	uint8_t out[16];
	ck_assert_int_eq(b64("Zg", out, sizeof out), 1);
	ck_assert_int_eq(out[0], 'f');
	ck_assert_int_eq(b64("Zm9vYmE", out, sizeof out), 5);
	ck_assert(memcmp(out, "fooba", 5) == 0);
}
END_TEST

START_TEST(b64_whitespace)
{
	uint8_t out[16];
	ck_assert_int_eq(b64(" Zm9v\r\n\tYmFy \n", out, sizeof out), 6);
	ck_assert(memcmp(out, "foobar", 6) == 0);
}
END_TEST

START_TEST(b64_sasl_plain)
{
	/* "\0implant01\0secret", as an XMPP <auth mechanism='PLAIN'> carries it */
	uint8_t out[32];
	long n = b64("AGltcGxhbnQwMQBzZWNyZXQ=", out, sizeof out);
	ck_assert_int_eq(n, 17);
	ck_assert(memcmp(out, "\0implant01\0secret", 17) == 0);
}
END_TEST

START_TEST(b64_bad_input)
{
	uint8_t out[16];
	ck_assert_int_eq(b64("Zm9v!mFy", out, sizeof out), -1);   /* bad char */
	ck_assert_int_eq(b64("Zg==Zg==", out, sizeof out), -1);   /* data after '=' */
	ck_assert_int_eq(b64("Zm9vY", out, sizeof out), -1);      /* lone sextet */
	ck_assert_int_eq(b64("Zg===", out, sizeof out), -1);      /* too much padding */
	ck_assert_int_eq(b64("Zm8==", out, sizeof out), -1);      /* padding past quantum */
	ck_assert_int_eq(b64("=", out, sizeof out), -1);
	ck_assert_int_eq(b64("Zm9v-_", out, sizeof out), -1);     /* base64url alphabet */
}
END_TEST

START_TEST(b64_overflow)
{
	uint8_t out[4];
	memset(out, 0x5a, sizeof out);
	ck_assert_int_eq(b64("Zm9vYmFy", out, 5 - 1), -1);
	ck_assert_int_eq(b64("Zm9v", out, 3), 3);
	ck_assert_int_eq(b64("Zm9v", out, 0), -1);
}
END_TEST

START_TEST(b64_no_terminator_needed)
{
	/* reads exactly n bytes: the 'X' after them is never looked at */
	static const char in[5] = { 'Z', 'm', '9', 'v', 'X' };
	uint8_t out[8];
	ck_assert_int_eq(sn_base64_decode(in, 4, out, sizeof out), 3);
}
END_TEST

/*
 * A dissector's `opening` is a promise the core relies on to skip calling
 * it: a client stream seen from its start whose first byte is not in the
 * opening is never this protocol.  For every such byte, followed by the
 * rest of a valid opening and by random bytes, the dissector itself says
 * NO_MATCH, final or not.
 */
START_TEST(opening_bytes_are_the_dissectors_own)
{
	static const char *tails[] = {
		"\x11\x00\x04MQTT\x04\x02\x00\x3c\x00\x05ws-c2", "MQP\x00\x00\x09\x01",
		"?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams'>",
		"stream:stream xmlns:stream='http://etherx.jabber.org/streams'>",
		"ONNECT\nlogin:x\n\n", "TOMP\nhost:/\n\n", "\x03\x01\x00\x05\x01\x00\x00\x01\x03",
	};
	uint64_t x = 0x2545f4914f6cdd1dULL;
	for (int id = 0; id < SN_DISS_COUNT; id++) {
		const struct sn_dissector *d = sn_dissector_get((enum sn_dissector_id)id);
		ck_assert_ptr_nonnull(d->opening);
		for (unsigned b = 0; b < 256; b++) {
			if (memchr(d->opening, (int)b, strlen(d->opening)))
				continue;
			uint8_t buf[160];
			for (size_t t = 0; t < sizeof tails / sizeof tails[0] + 4; t++) {
				size_t n = 1;
				buf[0] = (uint8_t)b;
				if (t < sizeof tails / sizeof tails[0]) {
					memcpy(buf + 1, tails[t], strlen(tails[t]));
					n += strlen(tails[t]);
				} else {
					for (; n < sizeof buf; n++) {
						x ^= x << 13, x ^= x >> 7, x ^= x << 17;
						buf[n] = (uint8_t)x;
					}
				}
				struct sn_meta m;
				for (int final = 0; final < 2; final++)
					ck_assert_msg(sn_test_dissect(d->dissect, buf, n, NULL, 0, true, final, &m) ==
							      SN_NO_MATCH,
						      "%s answered on first byte 0x%02x (tail %zu)", d->name, b, t);
			}
		}
	}
}
END_TEST

/* ---- meta_add_payload (output.payload_bytes) ---- */

START_TEST(payload_none_without_the_setting)
{
	struct sn_meta m;
	struct sn_stream s = { .payload_bytes = 0 };
	memset(&m, 0, sizeof m);
	sn_meta_add_payload(&m, &s, 0, (const uint8_t *)"secret", 6);
	sn_meta_add_payload(&m, NULL, 0, (const uint8_t *)"secret", 6);
	ck_assert_uint_eq(m.payloads.n, 0);
	ck_assert_uint_eq(m.payloads.used, 0);
}
END_TEST

START_TEST(payload_first_n_bytes)
{
	struct sn_meta m;
	struct sn_stream s = { .payload_bytes = 4 };
	memset(&m, 0, sizeof m);
	sn_meta_add_payload(&m, &s, 2, (const uint8_t *)"ab\0\"ef", 6);
	sn_meta_add_payload(&m, &s, -1, (const uint8_t *)"xy", 2);
	ck_assert_uint_eq(m.payloads.n, 2);
	ck_assert_uint_eq(m.payloads.item[0].size, 6);
	ck_assert_uint_eq(m.payloads.item[0].len, 4);
	ck_assert(m.payloads.item[0].cut);
	ck_assert_uint_eq(m.payloads.item[0].topic, 2);
	ck_assert_mem_eq(m.payloads.pool, "ab\0\"xy", 6);
	ck_assert_uint_eq(m.payloads.item[1].off, 4);
	ck_assert_uint_eq(m.payloads.item[1].len, 2);
	ck_assert(!m.payloads.item[1].cut);
	ck_assert_uint_eq(m.payloads.item[1].topic, SN_META_PAYLOAD_NO_TOPIC);
}
END_TEST

START_TEST(payload_count_and_pool_bounds)
{
	static uint8_t big[1000];
	struct sn_meta m;
	struct sn_stream s = { .payload_bytes = SN_META_PAYLOAD_MAX };
	memset(big, 'A', sizeof big);
	memset(&m, 0, sizeof m);
	/* 256 + 200 fit the 512-byte pool; the third gets the 56 left, the fourth none */
	sn_meta_add_payload(&m, &s, 0, big, sizeof big);
	sn_meta_add_payload(&m, &s, 0, big, 200);
	sn_meta_add_payload(&m, &s, 0, big, 100);
	sn_meta_add_payload(&m, &s, 0, big, 10);
	sn_meta_add_payload(&m, &s, 0, big, 10); /* a fifth message: not kept */
	ck_assert_uint_eq(m.payloads.n, SN_META_PAYLOADS);
	ck_assert_uint_eq(m.payloads.item[0].len, SN_META_PAYLOAD_MAX);
	ck_assert(m.payloads.item[0].cut);
	ck_assert_uint_eq(m.payloads.item[1].len, 200);
	ck_assert(!m.payloads.item[1].cut);
	ck_assert_uint_eq(m.payloads.item[2].len, SN_META_PAYLOAD_POOL - SN_META_PAYLOAD_MAX - 200);
	ck_assert(m.payloads.item[2].cut);
	ck_assert_uint_eq(m.payloads.item[3].len, 0);
	ck_assert(m.payloads.item[3].cut);
	ck_assert_uint_eq(m.payloads.used, SN_META_PAYLOAD_POOL);
	/* a setting above the cap is held to it */
	struct sn_stream over = { .payload_bytes = 4000 };
	memset(&m, 0, sizeof m);
	sn_meta_add_payload(&m, &over, 0, big, sizeof big);
	ck_assert_uint_eq(m.payloads.item[0].len, SN_META_PAYLOAD_MAX);
}
END_TEST

Suite *registry_suite(void);

Suite *registry_suite(void)
{
	Suite *s = suite_create("registry");
	TCase *tab = tcase_create("table");
	tcase_add_test(tab, get_every_id);
	tcase_add_test(tab, get_out_of_range);
	tcase_add_test(tab, for_proto);
	tcase_add_test(tab, proto_names);
	tcase_add_test(tab, entry_ports_and_budget);
	tcase_add_test(tab, entry_carrier_names);
	tcase_add_test(tab, opening_bytes_are_the_dissectors_own);
	suite_add_tcase(s, tab);

	TCase *set = tcase_create("meta_set");
	tcase_add_test(set, meta_set_fits);
	tcase_add_test(set, meta_set_exact_fit);
	tcase_add_test(set, meta_set_truncates);
	tcase_add_test(set, meta_set_stops_at_nul);
	tcase_add_test(set, meta_set_empty);
	tcase_add_test(set, meta_set_does_not_read_past_n);
	suite_add_tcase(s, set);

	TCase *top = tcase_create("meta_add_topic");
	tcase_add_test(top, topic_add_and_dedupe);
	tcase_add_test(top, topic_empty_ignored);
	tcase_add_test(top, topic_list_capped);
	tcase_add_test(top, topic_list_full_not_truncated);
	tcase_add_test(top, topic_long_truncated_and_deduped);
	suite_add_tcase(s, top);

	TCase *pay = tcase_create("meta_add_payload");
	tcase_add_test(pay, payload_none_without_the_setting);
	tcase_add_test(pay, payload_first_n_bytes);
	tcase_add_test(pay, payload_count_and_pool_bounds);
	suite_add_tcase(s, pay);

	TCase *b = tcase_create("base64");
	tcase_add_test(b, b64_rfc4648_vectors);
	tcase_add_test(b, b64_missing_padding);
	tcase_add_test(b, b64_whitespace);
	tcase_add_test(b, b64_sasl_plain);
	tcase_add_test(b, b64_bad_input);
	tcase_add_test(b, b64_overflow);
	tcase_add_test(b, b64_no_terminator_needed);
	suite_add_tcase(s, b);
	return s;
}
