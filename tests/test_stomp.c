/*
 * test_stomp.c - dissectors/stomp.c: CONNECT/STOMP frames from real
 * captures and by hand (CRLF, heart-beats, escapes, repeated headers),
 * refusals of HTTP/NATS/random, every truncation, and the bounds.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dissector.h"
#include "testutil.h"

#define SAMPLE_CAP 65536

static uint8_t sample[SAMPLE_CAP];

static enum sn_verdict run_ex(const void *bytes, size_t n, bool at_start, bool final,
			      struct sn_meta *m)
{
	return sn_test_dissect(sn_diss_stomp, bytes, n, NULL, 0, at_start, final, m);
}

static enum sn_verdict run(const void *bytes, size_t n, struct sn_meta *m)
{
	return run_ex(bytes, n, true, false, m);
}

static enum sn_verdict run_str(const char *str, struct sn_meta *m)
{
	return run(str, strlen(str), m);
}

static size_t load(const char *pcap, uint16_t port)
{
	return sn_test_load_client(pcap, port, sample, sizeof sample);
}

/* Offset just past the blank line that ends the first frame's headers. */
static size_t headers_end(const uint8_t *b, size_t n)
{
	const uint8_t *lf = memmem(b, n, "\n\n", 2);
	const uint8_t *crlf = memmem(b, n, "\r\n\r\n", 4);
	ck_assert(lf || crlf);
	if (crlf && (!lf || crlf < lf))
		return (size_t)(crlf - b) + 4;
	return (size_t)(lf - b) + 2;
}

/* Offset just past the first header line after the command (the opening). */
static size_t opening_end(const uint8_t *b, size_t end)
{
	size_t k = 0, lines = 0;
	while (k < end && (b[k] == '\n' || b[k] == '\r'))
		k++; /* heart-beats */
	for (; k < end; k++) {
		if (b[k] == '\n' && ++lines == 2)
			return k + 1;
	}
	return end;
}

/*
 * Shorter than the headers: wait; when final, refuse before the opening
 * (command line and one header line) and match with truncated_handshake
 * after it.  Longer: match, same metadata.
 */
static void check_truncations(const uint8_t *b, size_t n, const struct sn_meta *want)
{
	struct sn_meta m;
	size_t end = headers_end(b, n);
	size_t open = opening_end(b, end);

	for (size_t k = 0; k < end; k++) {
		ck_assert_int_eq(run_ex(b, k, true, false, &m), SN_NEED_MORE);
		if (k < open) {
			ck_assert_int_eq(run_ex(b, k, true, true, &m), SN_NO_MATCH);
		} else {
			ck_assert_int_eq(run_ex(b, k, true, true, &m), SN_MATCH);
			ck_assert(m.truncated_handshake);
		}
	}
	for (size_t k = end; k <= n; k++) {
		ck_assert_int_eq(run(b, k, &m), SN_MATCH);
		ck_assert_str_eq(m.user, want->user);
		ck_assert_str_eq(m.stomp_host, want->stomp_host);
		ck_assert_str_eq(m.stomp_accept_version, want->stomp_accept_version);
	}
}

static void check_sample(const char *pcap, uint16_t port, const char *accept, const char *host,
			 const char *login)
{
	struct sn_meta m;
	size_t n = load(pcap, port);
	ck_assert_int_eq(run(sample, n, &m), SN_MATCH);
	ck_assert_int_eq(m.proto, SN_PROTO_STOMP);
	ck_assert_str_eq(m.stomp_command, "CONNECT");
	ck_assert_str_eq(m.stomp_accept_version, accept);
	ck_assert_str_eq(m.stomp_host, host);
	ck_assert_str_eq(m.user, login);
	check_truncations(sample, n, &m);
}

/* ---- real captures ---- */

START_TEST(stomppy_connect)
{
	check_sample("stomp12-stomppy-connect-61613.pcap", 61613, "1.2", "/", "guest");
}
END_TEST

START_TEST(stomppy_activemq_login)
{
	check_sample("stomp12-stomppy-activemq-61613.pcap", 61613, "1.2", "localhost", "c2user");
}
END_TEST

START_TEST(stomp10_without_accept_version)
{
	check_sample("stomp10-raw-connect-nc-61613.pcap", 61613, "", "", "guest");
}
END_TEST

START_TEST(oneshot_nc_connect)
{
	check_sample("oneshot-stomp-nc-61613.pcap", 61613, "1.2", "/", "guest");
}
END_TEST

START_TEST(nonstandard_port_61615)
{
	check_sample("stomp12-nonstd-port-61615-stomppy.pcap", 61615, "1.2", "/", "guest");
}
END_TEST

START_TEST(http_on_stomp_port_refused)
{
	struct sn_meta m;
	size_t n = load("neg-http-on-61613-curl.pcap", 61613);
	ck_assert_int_eq(run(sample, n, &m), SN_NO_MATCH);
	ck_assert_int_eq(run(sample, 1, &m), SN_NO_MATCH);
}
END_TEST

/* ---- hand-made frames ---- */

static const char stomp_crlf[] = "\n\r\nSTOMP\r\naccept-version:1.1,1.2\r\nhost:broker.example\r\n"
				 "login:op\r\npasscode:x\r\nheart-beat:0,0\r\n\r\n";

START_TEST(stomp_command_crlf_and_heartbeats)
{
	struct sn_meta m;
	ck_assert_int_eq(run_str(stomp_crlf, &m), SN_MATCH);
	ck_assert_str_eq(m.stomp_command, "STOMP");
	ck_assert_str_eq(m.stomp_accept_version, "1.1,1.2");
	ck_assert_str_eq(m.stomp_host, "broker.example");
	ck_assert_str_eq(m.user, "op");
	check_truncations((const uint8_t *)stomp_crlf, strlen(stomp_crlf), &m);
}
END_TEST

START_TEST(headers_only_frame_matches_before_body)
{
	struct sn_meta m;
	ck_assert_int_eq(run_str("CONNECT\n\n", &m), SN_MATCH);
	ck_assert_str_eq(m.stomp_command, "CONNECT");
	ck_assert_str_eq(m.user, "");
	ck_assert_int_eq(run_str("CONNECT\nlogin:a\n", &m), SN_NEED_MORE);
}
END_TEST

START_TEST(escapes_decoded)
{
	struct sn_meta m;
	ck_assert_int_eq(run_str("CONNECT\nlogin:a\\cb\\\\c\\nd\\re\nhost:h\\x\n\n", &m), SN_MATCH);
	ck_assert_str_eq(m.user, "a:b\\c\nd\re");
	ck_assert_str_eq(m.stomp_host, "h\\x"); /* an undefined escape stays as written */
}
END_TEST

START_TEST(first_repeated_header_wins)
{
	struct sn_meta m;
	ck_assert_int_eq(run_str("CONNECT\nlogin:first\nlogin:second\nhost:a\nhost:b\n\n", &m),
			 SN_MATCH);
	ck_assert_str_eq(m.user, "first");
	ck_assert_str_eq(m.stomp_host, "a");
}
END_TEST

START_TEST(empty_value_and_colon_in_value)
{
	struct sn_meta m;
	ck_assert_int_eq(run_str("CONNECT\nlogin:\nhost:a:b\n\n", &m), SN_MATCH);
	ck_assert_str_eq(m.user, "");
	ck_assert_str_eq(m.stomp_host, "a:b");
}
END_TEST

START_TEST(long_login_truncated)
{
	struct sn_meta m;
	char buf[512] = "CONNECT\nlogin:";
	memset(buf + strlen(buf), 'L', 300);
	strcat(buf, "\n\n");
	ck_assert_int_eq(run_str(buf, &m), SN_MATCH);
	ck_assert_uint_eq(strlen(m.user), SN_META_STR - 1);
	ck_assert(m.truncated);
}
END_TEST

START_TEST(client_not_at_start)
{
	struct sn_meta m;
	const char *frame = "CONNECT\naccept-version:1.2\n\n";
	const char *mid = "destination:/queue/a\n\nhello";
	ck_assert_int_eq(run_ex(frame, strlen(frame), false, false, &m), SN_MATCH);
	ck_assert_int_eq(run_ex(mid, strlen(mid), false, false, &m), SN_NO_MATCH);
}
END_TEST

/* ---- refusals ---- */

START_TEST(nats_connect_refused)
{
	struct sn_meta m;
	ck_assert_int_eq(run_str("CONNECT {\"verbose\":false}\r\n", &m), SN_NO_MATCH);
	ck_assert_int_eq(run_str("CONNECT ", &m), SN_NO_MATCH);
}
END_TEST

START_TEST(http_connect_method_refused)
{
	struct sn_meta m;
	ck_assert_int_eq(run_str("CONNECT host:443 HTTP/1.1\r\nHost: host:443\r\n\r\n", &m),
			 SN_NO_MATCH);
}
END_TEST

START_TEST(other_commands_refused_early)
{
	struct sn_meta m;
	ck_assert_int_eq(run_str("G", &m), SN_NO_MATCH);
	ck_assert_int_eq(run_str("SEND\ndestination:/q\n\n", &m), SN_NO_MATCH);
	ck_assert_int_eq(run_str("connect\n\n", &m), SN_NO_MATCH);
	ck_assert_int_eq(run_str("CONNECTED\n\n", &m), SN_NO_MATCH);
	ck_assert_int_eq(run_str("STOMPX\n\n", &m), SN_NO_MATCH);
	ck_assert_int_eq(run_str("\x16\x03\x01", &m), SN_NO_MATCH);
	ck_assert_int_eq(run_str("\r", &m), SN_NEED_MORE);
	ck_assert_int_eq(run_str("\rX", &m), SN_NO_MATCH);
	ck_assert_int_eq(run_str("CONN", &m), SN_NEED_MORE);
	ck_assert_int_eq(run_str("STO", &m), SN_NEED_MORE);
	ck_assert_int_eq(run_str("CONNECT\r", &m), SN_NEED_MORE);
	ck_assert_int_eq(run_str("CONNECT\rX", &m), SN_NO_MATCH);
}
END_TEST

START_TEST(bad_header_lines_refused)
{
	struct sn_meta m;
	ck_assert_int_eq(run_str("CONNECT\nno colon here\n\n", &m), SN_NO_MATCH);
	ck_assert_int_eq(run_str("CONNECT\n:empty-name\n\n", &m), SN_NO_MATCH);
	ck_assert_int_eq(run("CONNECT\nlogin:a\0b\n\n", 19, &m), SN_NO_MATCH);
	/* binary right after the command, no EOL yet: refused before the line ends */
	ck_assert_int_eq(run("CONNECT\n\x01\x00\xff", 11, &m), SN_NO_MATCH);
}
END_TEST

START_TEST(random_never_matches)
{
	struct sn_meta m;
	uint8_t rnd[256];
	uint32_t x = 4242;
	for (int round = 0; round < 256; round++) {
		for (size_t i = 0; i < sizeof rnd; i++) {
			x = x * 1103515245u + 12345u;
			rnd[i] = (uint8_t)(x >> 16);
		}
		ck_assert_int_eq(run(rnd, sizeof rnd, &m), SN_NO_MATCH);
	}
	size_t n = load("neg-random-bytes-5672.pcap", 5672);
	ck_assert_int_eq(run(sample, n, &m), SN_NO_MATCH);
}
END_TEST

START_TEST(empty_and_final)
{
	struct sn_meta m;
	ck_assert_int_eq(run_ex("", 0, true, false, &m), SN_NEED_MORE);
	ck_assert_int_eq(run_ex("", 0, true, true, &m), SN_NO_MATCH);
	ck_assert_int_eq(run_ex(NULL, 0, true, false, &m), SN_NEED_MORE);
}
END_TEST

/* ---- bounds ---- */

START_TEST(many_headers_are_a_bound_not_a_refusal)
{
	struct sn_meta m;
	char buf[2048] = "CONNECT\n";
	for (int i = 0; i < 40; i++) {
		char h[32];
		snprintf(h, sizeof h, "h%d:v\n", i);
		strcat(buf, h);
	}
	strcat(buf, "\n");
	ck_assert_int_eq(run_str(buf, &m), SN_NEED_MORE);
	ck_assert_int_eq(run_ex(buf, strlen(buf), true, true, &m), SN_MATCH);
	ck_assert(m.truncated_handshake);
}
END_TEST

START_TEST(long_line_is_read)
{
	struct sn_meta m;
	static char buf[2048];
	strcpy(buf, "CONNECT\nx:");
	memset(buf + strlen(buf), 'v', 1100);
	ck_assert_int_eq(run_str(buf, &m), SN_NEED_MORE);
	strcat(buf, "\n\n");
	ck_assert_int_eq(run_str(buf, &m), SN_MATCH);
}
END_TEST

/* Any number of heart-beats: each run of them is reported as done with. */
START_TEST(many_heartbeats_are_skipped)
{
	struct sn_meta m;
	char buf[64];
	memset(buf, '\n', 40);
	strcpy(buf + 40, "CONNECT\n\n");
	ck_assert_int_eq(run_str(buf, &m), SN_MATCH);
	ck_assert_int_eq(run_str("\n\n\nCONNECT\n\n", &m), SN_MATCH);
	ck_assert_int_eq(run_ex(buf, 40, true, false, &m), SN_NEED_MORE);
	ck_assert_uint_eq(m.skip, 40);
	ck_assert_int_eq(run_ex(buf, 43, true, false, &m), SN_NEED_MORE);
	ck_assert_uint_eq(m.skip, 40);
	/* mid-stream bytes are never dropped */
	ck_assert_int_eq(run_ex(buf, 40, false, false, &m), SN_NEED_MORE);
	ck_assert_uint_eq(m.skip, 0);
}
END_TEST

START_TEST(scan_limit_decides_on_the_opening)
{
	struct sn_meta m;
	static char buf[8192];
	strcpy(buf, "CONNECT\n");
	/* each line within the line bound, never a blank line */
	while (strlen(buf) + 1000 < sizeof buf) {
		size_t n = strlen(buf);
		memcpy(buf + n, "h:", 2);
		memset(buf + n + 2, 'v', 996);
		strcpy(buf + n + 998, "\n");
	}
	ck_assert_int_eq(run(buf, 3000, &m), SN_NEED_MORE);
	ck_assert_int_eq(run(buf, strlen(buf), &m), SN_MATCH);
	ck_assert(m.truncated_handshake);
}
END_TEST

/* ---- frames after CONNECT: destinations into the topic list ------------ */

#define STOMP_CONNECT_FRAME "CONNECT\naccept-version:1.2\nhost:/\n\n\0"

/* A CONNECT frame (with its NUL) and then `rest`, n bytes of it. */
static enum sn_verdict run_after_connect(const void *rest, size_t n, struct sn_meta *m)
{
	static uint8_t b[8192];
	size_t k = sizeof STOMP_CONNECT_FRAME - 1; /* with the frame's NUL, written out */
	memcpy(b, STOMP_CONNECT_FRAME, k);
	ck_assert_uint_le(k + n, sizeof b);
	memcpy(b + k, rest, n);
	return run(b, k + n, m);
}

START_TEST(subscribe_and_send_destinations)
{
	static const char rest[] =
		"\n\r\n" /* heart-beats */
		"SUBSCRIBE\nid:0\ndestination:/queue/c2.commands\nack:auto\n\n\0"
		"SEND\ndestination:/topic/weather\ncontent-length:5\n\nab\0cd\0\n"
		"SUBSCRIBE\nid:1\ndestination:/queue/a\\cb\ndestination:/queue/second\n\n\0"
		"UNSUBSCRIBE\nid:0\n\n\0"
		"SUBSCRIBE\nid:2\ndestination:/queue/c2.commands\n\n\0"; /* a repeat: listed once */
	struct sn_meta m;

	ck_assert_int_eq(run_after_connect(rest, sizeof rest - 1, &m), SN_MATCH);
	ck_assert_uint_eq(m.n_topics, 3);
	ck_assert_str_eq(m.topics[0], "/queue/c2.commands");
	ck_assert_str_eq(m.topics[1], "/topic/weather");
	ck_assert_str_eq(m.topics[2], "/queue/a:b"); /* \c decoded; the first header wins */
	ck_assert(!m.topics_truncated);
	ck_assert_str_eq(m.stomp_command, "CONNECT");
}
END_TEST

START_TEST(connect_body_by_content_length)
{
	/* The CONNECT's own body holds a NUL: content-length decides where it ends. */
	static const char b[] = "STOMP\ncontent-length:3\n\nx\0y\0"
				"SUBSCRIBE\ndestination:/queue/cmd\n\n\0";
	struct sn_meta m;

	ck_assert_int_eq(run(b, sizeof b - 1, &m), SN_MATCH);
	ck_assert_uint_eq(m.n_topics, 1);
	ck_assert_str_eq(m.topics[0], "/queue/cmd");
}
END_TEST

START_TEST(walk_stops_at_odd_or_cut_frames)
{
	struct sn_meta m;
	/* an unknown command ends the walk: what follows is not read */
	static const char unknown[] = "HELLO\n\n\0SUBSCRIBE\ndestination:/queue/x\n\n\0";
	ck_assert_int_eq(run_after_connect(unknown, sizeof unknown - 1, &m), SN_MATCH);
	ck_assert_uint_eq(m.n_topics, 0);
	/* a frame without its NUL yet is not complete */
	static const char cut[] = "SUBSCRIBE\ndestination:/queue/cut\n\n";
	ck_assert_int_eq(run_after_connect(cut, sizeof cut - 1, &m), SN_MATCH);
	ck_assert_uint_eq(m.n_topics, 0);
	/* content-length that the NUL does not follow */
	static const char badlen[] = "SEND\ndestination:/queue/one\ncontent-length:1\n\nab\0"
				     "SUBSCRIBE\ndestination:/queue/two\n\n\0";
	ck_assert_int_eq(run_after_connect(badlen, sizeof badlen - 1, &m), SN_MATCH);
	ck_assert_uint_eq(m.n_topics, 0);
	/* content-length that is not a number */
	static const char nonnum[] = "SEND\ndestination:/queue/one\ncontent-length:1x\n\na\0";
	ck_assert_int_eq(run_after_connect(nonnum, sizeof nonnum - 1, &m), SN_MATCH);
	ck_assert_uint_eq(m.n_topics, 0);
	/* a CONNECT without the NUL after its headers: no walk, the verdict stands */
	static const char nonul[] = "CONNECT\nhost:/\n\nSUBSCRIBE\ndestination:/queue/x\n\n\0";
	ck_assert_int_eq(run(nonul, sizeof nonul - 1, &m), SN_MATCH);
	ck_assert_uint_eq(m.n_topics, 0);
}
END_TEST

/* n SUBSCRIBE frames with distinct destinations after a CONNECT. */
static enum sn_verdict run_n_subscribes(size_t n, struct sn_meta *m)
{
	static char rest[4096];
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		int w = snprintf(rest + k, sizeof rest - k, "SUBSCRIBE\ndestination:/queue/q%zu\n\n", i);
		ck_assert(w > 0 && (size_t)w + 1 < sizeof rest - k);
		k += (size_t)w;
		rest[k++] = '\0';
	}
	return run_after_connect(rest, k, m);
}

START_TEST(destination_list_bound)
{
	struct sn_meta m;

	ck_assert_int_eq(run_n_subscribes(SN_META_TOPICS - 1, &m), SN_MATCH);
	ck_assert_uint_eq(m.n_topics, SN_META_TOPICS - 1);
	ck_assert(!m.topics_truncated);
	ck_assert_int_eq(run_n_subscribes(SN_META_TOPICS, &m), SN_MATCH);
	ck_assert_uint_eq(m.n_topics, SN_META_TOPICS);
	ck_assert(!m.topics_truncated);
	ck_assert_int_eq(run_n_subscribes(SN_META_TOPICS + 1, &m), SN_MATCH);
	ck_assert_uint_eq(m.n_topics, SN_META_TOPICS);
	ck_assert(m.topics_truncated); /* said, and the verdict is the same */
	ck_assert_str_eq(m.topics[SN_META_TOPICS - 1], "/queue/q15");
}
END_TEST

/*
 * 63, 64 and 65 frames after the CONNECT, the last SUBSCRIBE /queue/c2 and
 * the others SENDs to one destination: the walk reads 64 frames, so the
 * 65th's destination is not read and the cut is said (topics_truncated).
 */
START_TEST(walk_bound_is_said)
{
	static char rest[4096];
	static const char other[] = "SEND\ndestination:/queue/same\n\n";
	static const char last[] = "SUBSCRIBE\ndestination:/queue/c2\n\n";
	struct sn_meta m;
	for (size_t n = 63; n <= 65; n++) {
		size_t k = 0;
		for (size_t i = 0; i < n; i++) {
			const char *f = i + 1 == n ? last : other;
			size_t len = strlen(f) + 1; /* with its NUL */
			ck_assert(k + len < sizeof rest);
			memcpy(rest + k, f, len);
			k += len;
		}
		ck_assert_int_eq(run_after_connect(rest, k, &m), SN_MATCH);
		bool read_all = n <= 64;
		ck_assert_uint_eq(m.n_topics, read_all ? 2 : 1);
		ck_assert(m.topics_truncated == !read_all);
	}
}
END_TEST

START_TEST(walk_prefixes_never_break_the_verdict)
{
	static const char b[] = STOMP_CONNECT_FRAME "\n"
				"SUBSCRIBE\ndestination:/queue/c2.commands\n\n\0"
				"SEND\ndestination:/queue/x\ncontent-length:2\n\n\0\0\0";
	struct sn_meta m;
	size_t open = sizeof STOMP_CONNECT_FRAME - 1; /* up to the NUL: headers complete */
	for (size_t k = open; k <= sizeof b - 1; k++) {
		ck_assert_int_eq(run(b, k, &m), SN_MATCH);
		ck_assert_uint_le(m.n_topics, 2);
	}
	ck_assert_uint_eq(m.n_topics, 2);
}
END_TEST

/* output.payload_bytes: a SEND body's first bytes, only when asked. */
START_TEST(send_body_kept_only_when_asked)
{
	static const char b[] = STOMP_CONNECT_FRAME
		"SEND\ndestination:/queue/c2.out\ncontent-length:9\n\n\"q\"\x1b\0tail\0";
	struct sn_stream s = { .client = (const uint8_t *)b, .client_len = sizeof b - 1,
			       .client_at_start = true, .payload_bytes = 0 };
	struct sn_meta m;

	memset(&m, 0, sizeof m);
	ck_assert_int_eq(sn_diss_stomp(&s, &m), SN_MATCH);
	ck_assert_uint_eq(m.payloads.n, 0);
	s.payload_bytes = 5;
	memset(&m, 0, sizeof m);
	ck_assert_int_eq(sn_diss_stomp(&s, &m), SN_MATCH);
	ck_assert_uint_eq(m.payloads.n, 1);
	ck_assert_uint_eq(m.payloads.item[0].size, 9);
	ck_assert_uint_eq(m.payloads.item[0].len, 5);
	ck_assert(m.payloads.item[0].cut);
	ck_assert_mem_eq(m.payloads.pool, "\"q\"\x1b\0", 5);
	ck_assert_uint_eq(m.payloads.item[0].topic, 0);
	ck_assert_str_eq(m.topics[0], "/queue/c2.out");
}
END_TEST

Suite *stomp_suite(void);

Suite *stomp_suite(void)
{
	Suite *s = suite_create("stomp");
	TCase *tc = tcase_create("sn_diss_stomp");

	tcase_add_test(tc, stomppy_connect);
	tcase_add_test(tc, stomppy_activemq_login);
	tcase_add_test(tc, stomp10_without_accept_version);
	tcase_add_test(tc, oneshot_nc_connect);
	tcase_add_test(tc, nonstandard_port_61615);
	tcase_add_test(tc, http_on_stomp_port_refused);
	tcase_add_test(tc, stomp_command_crlf_and_heartbeats);
	tcase_add_test(tc, headers_only_frame_matches_before_body);
	tcase_add_test(tc, escapes_decoded);
	tcase_add_test(tc, first_repeated_header_wins);
	tcase_add_test(tc, empty_value_and_colon_in_value);
	tcase_add_test(tc, long_login_truncated);
	tcase_add_test(tc, client_not_at_start);
	tcase_add_test(tc, nats_connect_refused);
	tcase_add_test(tc, http_connect_method_refused);
	tcase_add_test(tc, other_commands_refused_early);
	tcase_add_test(tc, bad_header_lines_refused);
	tcase_add_test(tc, random_never_matches);
	tcase_add_test(tc, empty_and_final);
	tcase_add_test(tc, many_headers_are_a_bound_not_a_refusal);
	tcase_add_test(tc, long_line_is_read);
	tcase_add_test(tc, many_heartbeats_are_skipped);
	tcase_add_test(tc, scan_limit_decides_on_the_opening);
	tcase_add_test(tc, subscribe_and_send_destinations);
	tcase_add_test(tc, connect_body_by_content_length);
	tcase_add_test(tc, walk_stops_at_odd_or_cut_frames);
	tcase_add_test(tc, destination_list_bound);
	tcase_add_test(tc, walk_bound_is_said);
	tcase_add_test(tc, walk_prefixes_never_break_the_verdict);
	tcase_add_test(tc, send_body_kept_only_when_asked);
	suite_add_tcase(s, tc);
	return s;
}
