/*
 * test_websocket.c - dissectors/websocket.c: the real RabbitMQ Web-MQTT
 * capture, upgrades and frames built by hand (masked, fragmented, control
 * frames between fragments, permessage-deflate with context takeover),
 * refusals (plain HTTP, refused upgrades, random bytes), every truncation
 * of the request, frames cut by the end of the bytes, and the bounds.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "dissector.h"
#include "testutil.h"
#include "websocket.h"

#define CAP 65536

static uint8_t cbuf[CAP], sbuf[CAP], scratch[CAP], arena[SN_WS_ARENA_BYTES];
static uint8_t client[CAP], server[CAP];

static struct sn_ws_out make_out(size_t cap)
{
	struct sn_ws_out o = { .buf = { cbuf, sbuf }, .cap = { cap, cap }, .scratch = scratch,
			       .scratch_cap = sizeof scratch, .arena = arena, .arena_cap = sizeof arena };
	return o;
}

/* Unwraps exact-size heap copies, so ASan sees any over-read. */
static enum sn_verdict unwrap(const void *c, size_t cn, const void *s, size_t sn,
			      struct sn_ws_info *info, struct sn_ws_out *out)
{
	uint8_t *cc = cn ? malloc(cn) : NULL, *sc = sn ? malloc(sn) : NULL;
	if (cn)
		memcpy(cc, c, cn);
	if (sn)
		memcpy(sc, s, sn);
	struct sn_stream st = { cc, cn, sc, sn, true, false, 0 };
	enum sn_verdict v = sn_ws_unwrap(&st, info, out);
	free(cc);
	free(sc);
	return v;
}

static const char *REQ = "GET /mqtt HTTP/1.1\r\n"
			 "Host: broker.example:8080\r\n"
			 "upgrade: WebSocket\r\n"
			 "Connection: Upgrade\r\n"
			 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
			 "Sec-WebSocket-Protocol: mqtt, mqttv3.1\r\n"
			 "Sec-WebSocket-Version: 13\r\n\r\n";
static const char *RESP = "HTTP/1.1 101 Switching Protocols\r\n"
			  "Upgrade: websocket\r\nConnection: Upgrade\r\n"
			  "Sec-WebSocket-Protocol: mqtt\r\n\r\n";

/* An MQTT 3.1.1 CONNECT with client id "ws-c2". */
static const uint8_t CONNECT[] = { 0x10, 0x11, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x3c,
				   0x00, 0x05, 'w', 's', '-', 'c', '2' };

/* Appends one frame; mask NULL = unmasked. */
static size_t frame(uint8_t *dst, uint8_t b0, const void *payload, size_t n, const uint8_t *mask)
{
	size_t k = 0;
	dst[k++] = b0;
	uint8_t m = mask ? 0x80 : 0;
	if (n < 126) {
		dst[k++] = (uint8_t)(m | n);
	} else if (n < 65536) {
		dst[k++] = m | 126;
		dst[k++] = (uint8_t)(n >> 8);
		dst[k++] = (uint8_t)n;
	} else {
		dst[k++] = m | 127;
		for (int i = 7; i >= 0; i--)
			dst[k++] = (uint8_t)((uint64_t)n >> (8 * i));
	}
	if (mask) {
		memcpy(dst + k, mask, 4);
		k += 4;
	}
	const uint8_t *p = payload;
	for (size_t j = 0; j < n; j++)
		dst[k + j] = mask ? (uint8_t)(p[j] ^ mask[j & 3]) : p[j];
	return k + n;
}

static const uint8_t MASK[4] = { 0x37, 0xfa, 0x21, 0x3d };

static size_t put_str(uint8_t *dst, const char *s)
{
	memcpy(dst, s, strlen(s));
	return strlen(s);
}

START_TEST(real_rabbitmq_web_mqtt)
{
	long cn = sn_test_port_bytes("mqtt-websocket-rabbitmq-15675.pcap", 33555, 15675, client, CAP);
	long sn = sn_test_port_bytes("mqtt-websocket-rabbitmq-15675.pcap", 15675, 33555, server, CAP);
	ck_assert_int_gt(cn, 0);
	ck_assert_int_gt(sn, 0);
	struct sn_ws_info info;
	struct sn_ws_out out = make_out(4096);
	ck_assert_int_eq(unwrap(client, (size_t)cn, server, (size_t)sn, &info, &out), SN_MATCH);
	ck_assert_str_eq(info.path, "/ws");
	ck_assert_str_eq(info.protocol, "mqtt");
	ck_assert(info.server_101);
	ck_assert(!info.bad_frame);
	ck_assert_int_eq(sn_ws_protocol_proto(info.protocol), SN_PROTO_MQTT);
	ck_assert_uint_gt(out.len[0], 2);
	ck_assert_uint_eq(cbuf[0], 0x10); /* CONNECT, unmasked */

	struct sn_meta m;
	ck_assert_int_eq(sn_test_dissect(sn_diss_mqtt, cbuf, out.len[0], sbuf, out.len[1], true, false, &m),
			 SN_MATCH);
	ck_assert_str_eq(m.client_id, "ws-rabbit-1"); /* EXPECTED.tsv: ws-rabbit-1,ws-rabbit-2 */
	ck_assert_str_eq(m.user, "guest");
	ck_assert_str_eq(m.mqtt_version, "3.1.1");
}
END_TEST

static size_t build_plain(uint8_t *c)
{
	size_t n = put_str(c, REQ);
	n += frame(c + n, 0x82, CONNECT, sizeof CONNECT, MASK);
	return n;
}

START_TEST(masked_binary_message)
{
	size_t n = build_plain(client);
	size_t sn = put_str(server, RESP);
	static const uint8_t connack[] = { 0x20, 0x02, 0x00, 0x00 };
	sn += frame(server + sn, 0x82, connack, sizeof connack, NULL);
	struct sn_ws_info info;
	struct sn_ws_out out = make_out(4096);
	ck_assert_int_eq(unwrap(client, n, server, sn, &info, &out), SN_MATCH);
	ck_assert_str_eq(info.host, "broker.example:8080");
	ck_assert_str_eq(info.protocol, "mqtt"); /* the server's choice */
	ck_assert_uint_eq(out.len[0], sizeof CONNECT);
	ck_assert_mem_eq(cbuf, CONNECT, sizeof CONNECT);
	ck_assert_uint_eq(out.len[1], sizeof connack);
	ck_assert_mem_eq(sbuf, connack, sizeof connack);
	ck_assert_uint_eq(info.messages[0], 1);
	ck_assert(!info.bad_frame);
}
END_TEST

/* The message in three fragments with a ping and a pong between them. */
START_TEST(fragments_and_control_frames)
{
	size_t n = put_str(client, REQ);
	n += frame(client + n, 0x02, CONNECT, 5, MASK);
	n += frame(client + n, 0x89, "hi", 2, MASK);
	n += frame(client + n, 0x00, CONNECT + 5, 7, MASK);
	n += frame(client + n, 0x8A, "", 0, MASK);
	n += frame(client + n, 0x80, CONNECT + 12, sizeof CONNECT - 12, MASK);
	struct sn_ws_info info;
	struct sn_ws_out out = make_out(4096);
	ck_assert_int_eq(unwrap(client, n, NULL, 0, &info, &out), SN_MATCH);
	ck_assert_uint_eq(out.len[0], sizeof CONNECT);
	ck_assert_mem_eq(cbuf, CONNECT, sizeof CONNECT);
	ck_assert_uint_eq(info.messages[0], 1);
	ck_assert(!info.bad_frame);
	ck_assert_str_eq(info.protocol, "mqtt"); /* no answer seen: the client's first offer */
}
END_TEST

/* Raw deflate with a sync flush, its 00 00 ff ff tail removed (RFC 7692 7.2.1). */
static size_t deflate_msg(z_stream *z, const void *in, size_t n, uint8_t *out, size_t cap)
{
	z->next_in = (Bytef *)(uintptr_t)in;
	z->avail_in = (uInt)n;
	z->next_out = out;
	z->avail_out = (uInt)cap;
	ck_assert_int_eq(deflate(z, Z_SYNC_FLUSH), Z_OK);
	size_t k = cap - z->avail_out;
	ck_assert_uint_ge(k, 4);
	ck_assert_mem_eq(out + k - 4, "\x00\x00\xff\xff", 4);
	return k - 4;
}

START_TEST(permessage_deflate_with_context_takeover)
{
	static const char *stomp1 = "CONNECT\naccept-version:1.2\nhost:/\nlogin:c2user\n\n";
	static const char *stomp2 = "SUBSCRIBE\nid:0\ndestination:/queue/c2-commands\n\n";
	const char *req = "GET /stomp HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
			  "Sec-WebSocket-Protocol: v12.stomp\r\n"
			  "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n";
	const char *resp = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
			   "Sec-WebSocket-Protocol: v12.stomp\r\n"
			   "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n";
	z_stream z;
	memset(&z, 0, sizeof z);
	ck_assert_int_eq(deflateInit2(&z, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
	uint8_t comp[512];
	size_t n = put_str(client, req);
	size_t k = deflate_msg(&z, stomp1, strlen(stomp1) + 1, comp, sizeof comp);
	n += frame(client + n, 0xC1, comp, k, MASK); /* FIN + RSV1 + text */
	k = deflate_msg(&z, stomp2, strlen(stomp2) + 1, comp, sizeof comp); /* refers back to message 1 */
	n += frame(client + n, 0x41, comp, 3, MASK);                    /* fragmented: RSV1 on the first only */
	n += frame(client + n, 0x80, comp + 3, k - 3, MASK);
	deflateEnd(&z);
	size_t sn = put_str(server, resp);

	struct sn_ws_info info;
	struct sn_ws_out out = make_out(4096);
	ck_assert_int_eq(unwrap(client, n, server, sn, &info, &out), SN_MATCH);
	ck_assert(info.deflate);
	ck_assert(!info.inflate_failed);
	ck_assert_int_eq(sn_ws_protocol_proto(info.protocol), SN_PROTO_STOMP);
	size_t l1 = strlen(stomp1) + 1, l2 = strlen(stomp2) + 1;
	ck_assert_uint_eq(out.len[0], l1 + l2);
	ck_assert_mem_eq(cbuf, stomp1, l1);
	ck_assert_mem_eq(cbuf + l1, stomp2, l2);

	struct sn_meta m;
	ck_assert_int_eq(sn_test_dissect(sn_diss_stomp, cbuf, out.len[0], NULL, 0, true, false, &m), SN_MATCH);
	ck_assert_str_eq(m.user, "c2user");
}
END_TEST

/* Output is bounded by the caller's buffer, also when inflating. */
START_TEST(output_bounded)
{
	uint8_t big[3000];
	memset(big, 'A', sizeof big);
	size_t n = put_str(client, REQ);
	n += frame(client + n, 0x82, big, sizeof big, MASK);
	struct sn_ws_info info;
	struct sn_ws_out out = make_out(100);
	ck_assert_int_eq(unwrap(client, n, NULL, 0, &info, &out), SN_MATCH);
	ck_assert_uint_eq(out.len[0], 100);
	ck_assert(info.truncated);

	/* a deflate bomb: 64 KiB of zeros in a few bytes */
	static uint8_t zeros[65536], comp[1024];
	z_stream z;
	memset(&z, 0, sizeof z);
	ck_assert_int_eq(deflateInit2(&z, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
	size_t k = deflate_msg(&z, zeros, sizeof zeros, comp, sizeof comp);
	deflateEnd(&z);
	const char *req = "GET / HTTP/1.1\r\nUpgrade: websocket\r\n"
			  "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n";
	n = put_str(client, req);
	n += frame(client + n, 0xC2, comp, k, MASK);
	out = make_out(2048);
	ck_assert_int_eq(unwrap(client, n, NULL, 0, &info, &out), SN_MATCH);
	ck_assert_uint_eq(out.len[0], 2048);
	ck_assert(info.truncated);
}
END_TEST

/* A frame cut by the end of the bytes still hands on its first bytes. */
START_TEST(cut_frame_hands_on_its_opening)
{
	size_t full = build_plain(client);
	size_t head = strlen(REQ) + 2 + 4; /* frame header with mask */
	for (size_t k = head + 1; k < full; k++) {
		struct sn_ws_info info;
		struct sn_ws_out out = make_out(4096);
		ck_assert_int_eq(unwrap(client, k, NULL, 0, &info, &out), SN_MATCH);
		ck_assert_uint_eq(out.len[0], k - head);
		ck_assert_mem_eq(cbuf, CONNECT, k - head);
	}
}
END_TEST

/* Every prefix of the request: wait, never refuse, until the blank line. */
START_TEST(every_truncation_of_the_request)
{
	size_t n = strlen(REQ);
	for (size_t k = 0; k < n; k++) {
		struct sn_ws_info info;
		struct sn_ws_out out = make_out(4096);
		ck_assert_int_eq(unwrap(REQ, k, NULL, 0, &info, &out), SN_NEED_MORE);
	}
	struct sn_ws_info info;
	struct sn_ws_out out = make_out(4096);
	ck_assert_int_eq(unwrap(REQ, n, NULL, 0, &info, &out), SN_MATCH);
	ck_assert_uint_eq(out.len[0], 0);
}
END_TEST

START_TEST(not_websocket)
{
	static const char *no[] = {
		"GET / HTTP/1.1\r\nHost: x\r\n\r\n",                     /* plain HTTP */
		"GET / HTTP/1.1\r\nUpgrade: h2c\r\n\r\n",                /* another upgrade */
		"get / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n",          /* not a method token */
		"CONNECT\naccept-version:1.2\n\n",                        /* STOMP */
		"\x10\x11\x00\x04MQTT",                                   /* MQTT */
		"GET / FTP/1.0\r\n",                                      /* not HTTP/1.x */
		"GETTINGVERYLONGMETHODNAME / HTTP/1.1\r\n",               /* method too long */
	};
	for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
		struct sn_ws_info info;
		struct sn_ws_out out = make_out(4096);
		ck_assert_msg(unwrap(no[i], strlen(no[i]), NULL, 0, &info, &out) == SN_NO_MATCH, "case %zu", i);
	}
}
END_TEST

/*
 * The header block: bare-LF lines, the frame right after the blank line,
 * and the examined bound (a block that runs past SN_WS_HEADER_MAX before
 * its blank line is not judged: NEED_MORE, never NO_MATCH).
 */
START_TEST(header_lines_and_bound)
{
	static const uint8_t mask[4] = { 1, 2, 3, 4 };
	size_t n = put_str(client, "GET /m HTTP/1.1\nX-Note:\nhost:  h \nUPGRADE: x, websocket\n\n");
	n += frame(client + n, 0x82, CONNECT, sizeof CONNECT, mask);
	struct sn_ws_info info;
	struct sn_ws_out out = make_out(4096);
	ck_assert_int_eq(unwrap(client, n, NULL, 0, &info, &out), SN_MATCH);
	ck_assert_str_eq(info.host, "h");
	ck_assert_str_eq(info.path, "/m");
	ck_assert_uint_eq(out.len[0], sizeof CONNECT);
	ck_assert_mem_eq(cbuf, CONNECT, sizeof CONNECT);

	/* past the bound: waits even with the blank line after it, and without */
	n = put_str(client, "GET / HTTP/1.1\r\n");
	while (n <= SN_WS_HEADER_MAX)
		n += put_str(client + n, "X-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
	ck_assert_int_eq(unwrap(client, n, NULL, 0, &info, &out), SN_NEED_MORE);
	size_t blank = n + put_str(client + n, "Upgrade: websocket\r\n\r\n");
	ck_assert_int_eq(unwrap(client, blank, NULL, 0, &info, &out), SN_NEED_MORE);
	/* within the bound, a plain request without the upgrade is refused */
	n = put_str(client, "GET / HTTP/1.1\r\n");
	while (n + 60 < SN_WS_HEADER_MAX)
		n += put_str(client + n, "X-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
	n += put_str(client + n, "\r\n");
	ck_assert_int_eq(unwrap(client, n, NULL, 0, &info, &out), SN_NO_MATCH);
}
END_TEST

START_TEST(refused_upgrade_carries_nothing)
{
	size_t n = build_plain(client);
	const char *resp = "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n";
	struct sn_ws_info info;
	struct sn_ws_out out = make_out(4096);
	ck_assert_int_eq(unwrap(client, n, resp, strlen(resp), &info, &out), SN_MATCH);
	ck_assert(info.server_refused);
	ck_assert(!info.server_101);
	ck_assert_uint_eq(out.len[0], 0);
}
END_TEST

START_TEST(bad_frames_are_flagged)
{
	/* an unmasked client frame, then a reserved opcode */
	size_t n = put_str(client, REQ);
	n += frame(client + n, 0x82, CONNECT, sizeof CONNECT, NULL);
	n += frame(client + n, 0x83, "xx", 2, MASK);
	n += frame(client + n, 0x82, CONNECT, sizeof CONNECT, MASK);
	struct sn_ws_info info;
	struct sn_ws_out out = make_out(4096);
	ck_assert_int_eq(unwrap(client, n, NULL, 0, &info, &out), SN_MATCH);
	ck_assert(info.bad_frame);
	ck_assert_uint_eq(out.len[0], sizeof CONNECT); /* nothing after the reserved opcode */

	/* a continuation with no message begun; an oversized ping */
	n = put_str(client, REQ);
	n += frame(client + n, 0x80, "zz", 2, MASK);
	uint8_t ping[200] = { 0 };
	n += frame(client + n, 0x89, ping, sizeof ping, MASK);
	out = make_out(4096);
	ck_assert_int_eq(unwrap(client, n, NULL, 0, &info, &out), SN_MATCH);
	ck_assert(info.bad_frame);
	ck_assert_uint_eq(out.len[0], 0);
}
END_TEST

START_TEST(long_strings_are_cut_and_flagged)
{
	char req[1024];
	char path[400];
	memset(path, 'p', sizeof path - 1);
	path[sizeof path - 1] = '\0';
	snprintf(req, sizeof req, "GET /%s HTTP/1.1\r\nUpgrade: websocket\r\n\r\n", path);
	struct sn_ws_info info;
	struct sn_ws_out out = make_out(4096);
	ck_assert_int_eq(unwrap(req, strlen(req), NULL, 0, &info, &out), SN_MATCH);
	ck_assert_uint_eq(strlen(info.path), SN_WS_STR - 1);
	ck_assert(info.truncated);
}
END_TEST

START_TEST(mid_stream_is_not_judged)
{
	size_t n = build_plain(client);
	struct sn_stream st = { client, n, NULL, 0, false, false, 0 };
	struct sn_ws_info info;
	struct sn_ws_out out = make_out(4096);
	ck_assert_int_eq(sn_ws_unwrap(&st, &info, &out), SN_NO_MATCH);
}
END_TEST

START_TEST(random_bytes)
{
	uint64_t x = 0x9e3779b97f4a7c15u;
	for (int i = 0; i < 2000; i++) {
		size_t n = (size_t)(x % 600);
		for (size_t j = 0; j < n; j++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			client[j] = (uint8_t)x;
		}
		if (i % 3 == 0 && n > 4)
			memcpy(client, "GET ", 4);
		struct sn_ws_info info;
		struct sn_ws_out out = make_out(256);
		enum sn_verdict v = unwrap(client, n, client, n / 2, &info, &out);
		ck_assert(v == SN_NO_MATCH || v == SN_NEED_MORE);
		x += 0x9e3779b97f4a7c15u;
	}
}
END_TEST

START_TEST(protocol_names)
{
	ck_assert_int_eq(sn_ws_protocol_proto("mqtt"), SN_PROTO_MQTT);
	ck_assert_int_eq(sn_ws_protocol_proto("MQTTv3.1"), SN_PROTO_MQTT);
	ck_assert_int_eq(sn_ws_protocol_proto("v10.stomp"), SN_PROTO_STOMP);
	ck_assert_int_eq(sn_ws_protocol_proto("v11.stomp"), SN_PROTO_STOMP);
	ck_assert_int_eq(sn_ws_protocol_proto("v12.stomp"), SN_PROTO_STOMP);
	ck_assert_int_eq(sn_ws_protocol_proto("stomp"), SN_PROTO_STOMP);
	ck_assert_int_eq(sn_ws_protocol_proto("xmpp"), SN_PROTO_XMPP);
	ck_assert_int_eq(sn_ws_protocol_proto("amqp"), SN_PROTO_AMQP);
	ck_assert_int_eq(sn_ws_protocol_proto("chat"), SN_PROTO_NONE);
	ck_assert_int_eq(sn_ws_protocol_proto(""), SN_PROTO_NONE);
}
END_TEST

Suite *websocket_suite(void);

Suite *websocket_suite(void)
{
	Suite *s = suite_create("websocket");
	TCase *tc = tcase_create("websocket");
	tcase_add_test(tc, real_rabbitmq_web_mqtt);
	tcase_add_test(tc, masked_binary_message);
	tcase_add_test(tc, fragments_and_control_frames);
	tcase_add_test(tc, permessage_deflate_with_context_takeover);
	tcase_add_test(tc, output_bounded);
	tcase_add_test(tc, cut_frame_hands_on_its_opening);
	tcase_add_test(tc, every_truncation_of_the_request);
	tcase_add_test(tc, not_websocket);
	tcase_add_test(tc, refused_upgrade_carries_nothing);
	tcase_add_test(tc, header_lines_and_bound);
	tcase_add_test(tc, bad_frames_are_flagged);
	tcase_add_test(tc, long_strings_are_cut_and_flagged);
	tcase_add_test(tc, mid_stream_is_not_judged);
	tcase_add_test(tc, random_bytes);
	tcase_add_test(tc, protocol_names);
	suite_add_tcase(s, tc);
	return s;
}
