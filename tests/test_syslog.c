/*
 * test_syslog.c - the syslog output (sensor/syslog.c): the exact RFC 5424
 * text (PRI from facility and event type, structured-data escaping, header
 * tokens, no trailing newline), one datagram per message on a unix socket,
 * octet-counting framing on TCP, the bounded queue and its drop counter
 * while nobody listens, reconnecting when a receiver appears, and the end
 * of run counting what could not be sent.
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "syslog.h"

#define T0 ((uint64_t)1795828923123456) /* 2026-11-28T01:22:03.123456Z */

static const char line[] = "{\"timestamp\":\"x\",\"event_type\":\"alert\"}\n";

START_TEST(test_format_exact)
{
	char buf[512];
	size_t n = sn_syslog_format(buf, sizeof buf, 21, "host-1", 42, "a\"b]c\\d", "alert", line,
				    strlen(line), T0);
	const char *want = "<172>1 2026-11-28T01:22:03.123456Z host-1 pubsub-sensor 42 alert "
			   "[pubsub@32473 sensor=\"a\\\"b\\]c\\\\d\"] "
			   "{\"timestamp\":\"x\",\"event_type\":\"alert\"}";
	ck_assert_uint_eq(n, strlen(want));
	buf[n] = '\0';
	ck_assert_str_eq(buf, want);
}
END_TEST

START_TEST(test_format_severity_and_tokens)
{
	char buf[512];
	size_t n;

	/* flow and stats are informational (6), update/summary notices (5) */
	n = sn_syslog_format(buf, sizeof buf, 21, "h", 1, "s", "flow", "{}", 2, T0);
	buf[n] = '\0';
	ck_assert(strncmp(buf, "<174>1 ", 7) == 0);
	n = sn_syslog_format(buf, sizeof buf, 1, "h", 1, "s", "summary", "{}", 2, T0);
	buf[n] = '\0';
	ck_assert(strncmp(buf, "<13>1 ", 6) == 0);
	/* a host name with a space or nothing at all still gives one token */
	n = sn_syslog_format(buf, sizeof buf, 21, "my host", 1, "s", "stats", "{}", 2, T0);
	buf[n] = '\0';
	ck_assert_ptr_nonnull(strstr(buf, " my_host pubsub-sensor 1 stats "));
	n = sn_syslog_format(buf, sizeof buf, 21, "", 1, "s", "stats", "{}", 2, T0);
	buf[n] = '\0';
	ck_assert_ptr_nonnull(strstr(buf, "Z - pubsub-sensor 1 stats "));
	/* too small a buffer: nothing, never a cut message */
	ck_assert_uint_eq(sn_syslog_format(buf, 40, 21, "h", 1, "s", "alert", line, strlen(line), T0), 0);
}
END_TEST

static void temp_path(char *out, size_t cap, const char *name)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(out, cap, "%s/sn-syslog-%ld-%s", tmp && *tmp ? tmp : "/tmp", (long)getpid(), name);
	unlink(out);
}

START_TEST(test_unix_dgram_one_message_each)
{
	char path[100], target[220], buf[1024], want[1024];
	temp_path(path, sizeof path, "dgram");
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	snprintf(un.sun_path, sizeof un.sun_path, "%s", path);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&un, sizeof un), 0);

	snprintf(target, sizeof target, "unix:%s", path);
	struct sn_syslog_options o = { .target = target, .facility = 21, .queue_events = 16,
				       .sensor = "s1" };
	struct sn_syslog *s;
	char err[256];
	ck_assert_int_eq(sn_syslog_open(&s, &o, err, sizeof err), 0);
	ck_assert_int_eq(sn_syslog_transport(s), SN_SYSLOG_UNIX_DGRAM);
	for (int i = 0; i < 5; i++)
		sn_syslog_event(s, "flow", line, strlen(line), T0 + (uint64_t)(unsigned)i);
	sn_syslog_finish(s, 1000);
	ck_assert_uint_eq(sn_syslog_sent(s), 5);
	ck_assert_uint_eq(sn_syslog_dropped(s), 0);
	char host[256] = "";
	gethostname(host, sizeof host - 1);
	for (int i = 0; i < 5; i++) {
		ssize_t n = recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT);
		ck_assert_int_gt(n, 0);
		buf[n] = '\0';
		size_t w = sn_syslog_format(want, sizeof want, 21, host, (unsigned long)getpid(), "s1",
					    "flow", line, strlen(line), T0 + (uint64_t)(unsigned)i);
		want[w] = '\0';
		ck_assert_str_eq(buf, want);
	}
	ck_assert_int_lt(recv(fd, buf, sizeof buf, MSG_DONTWAIT), 0);
	sn_syslog_free(s);
	close(fd);
	unlink(path);
}
END_TEST

START_TEST(test_nobody_listens_queue_bounded)
{
	char path[100], target[220], err[256];
	temp_path(path, sizeof path, "absent");
	snprintf(target, sizeof target, "unix-stream:%s", path);
	struct sn_syslog_options o = { .target = target, .facility = 21, .queue_events = 3,
				       .sensor = "s1" };
	struct sn_syslog *s;
	ck_assert_int_eq(sn_syslog_open(&s, &o, err, sizeof err), 0);
	for (int i = 0; i < 10; i++)
		sn_syslog_event(s, "flow", line, strlen(line), T0);
	ck_assert_uint_eq(sn_syslog_queued(s), 3);
	ck_assert_uint_eq(sn_syslog_dropped(s), 7);
	sn_syslog_finish(s, 150); /* the three waiting ones are given up, and counted */
	ck_assert_uint_eq(sn_syslog_dropped(s), 10);
	ck_assert_uint_eq(sn_syslog_sent(s), 0);
	sn_syslog_free(s);
}
END_TEST

START_TEST(test_queue_bytes_bounded)
{
	char path[100], target[220], err[256];
	temp_path(path, sizeof path, "absent2");
	snprintf(target, sizeof target, "unix-stream:%s", path);
	/* room for two messages of this size (framed: "LEN " + message), though 100 may wait by count */
	char msg[1024], host[256] = "";
	gethostname(host, sizeof host - 1);
	size_t len = sn_syslog_format(msg, sizeof msg, 21, host, (unsigned long)getpid(), "s1", "flow",
				      line, strlen(line), T0);
	char prefix[16];
	size_t framed = len + (size_t)snprintf(prefix, sizeof prefix, "%zu ", len);
	struct sn_syslog_options o = { .target = target, .facility = 21, .queue_events = 100,
				       .queue_bytes = 2 * framed + framed / 2, .sensor = "s1" };
	struct sn_syslog *s;
	ck_assert_int_eq(sn_syslog_open(&s, &o, err, sizeof err), 0);
	for (int i = 0; i < 5; i++)
		sn_syslog_event(s, "flow", line, strlen(line), T0);
	ck_assert_uint_eq(sn_syslog_queued(s), 2);
	ck_assert_uint_eq(sn_syslog_dropped(s), 3);
	sn_syslog_free(s); /* without finish: closes and frees what waits */
}
END_TEST

static int listen_tcp(uint16_t *port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(*port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	ck_assert_int_eq(listen(fd, 4), 0);
	socklen_t len = sizeof a;
	getsockname(fd, (struct sockaddr *)&a, &len);
	*port = ntohs(a.sin_port);
	return fd;
}

/* Reads everything a TCP receiver got and checks the octet-counting frames. */
static int count_frames(int lfd, size_t want_len)
{
	static char buf[65536];
	int c = accept(lfd, NULL, NULL);
	ck_assert_int_ge(c, 0);
	size_t have = 0;
	ssize_t n;
	shutdown(c, SHUT_WR);
	while ((n = recv(c, buf + have, sizeof buf - have, 0)) > 0)
		have += (size_t)n;
	close(c);
	int frames = 0;
	size_t off = 0;
	while (off < have) {
		char *end;
		unsigned long len = strtoul(buf + off, &end, 10);
		ck_assert(*end == ' ');
		ck_assert_uint_eq(len, want_len);
		off = (size_t)(end - buf) + 1 + len;
		ck_assert_uint_le(off, have);
		ck_assert(buf[off - 1] == '}'); /* the JSON's end: no newline inside the frame */
		frames++;
	}
	return frames;
}

START_TEST(test_tcp_octet_counting)
{
	uint16_t port = 0;
	int lfd = listen_tcp(&port);
	char target[64], err[256], msg[1024], host[256] = "";
	snprintf(target, sizeof target, "tcp://127.0.0.1:%u", port);
	struct sn_syslog_options o = { .target = target, .facility = 21, .queue_events = 100,
				       .sensor = "s1" };
	struct sn_syslog *s;
	ck_assert_int_eq(sn_syslog_open(&s, &o, err, sizeof err), 0);
	for (int i = 0; i < 20; i++)
		sn_syslog_event(s, "alert", line, strlen(line), T0);
	sn_syslog_finish(s, 2000);
	ck_assert_uint_eq(sn_syslog_sent(s), 20);
	ck_assert_uint_eq(sn_syslog_dropped(s), 0);
	gethostname(host, sizeof host - 1);
	size_t len = sn_syslog_format(msg, sizeof msg, 21, host, (unsigned long)getpid(), "s1",
				      "alert", line, strlen(line), T0);
	ck_assert_int_eq(count_frames(lfd, len), 20);
	sn_syslog_free(s);
	close(lfd);
}
END_TEST

START_TEST(test_tcp_reconnects_when_receiver_appears)
{
	uint16_t port = 0;
	int lfd = listen_tcp(&port);
	close(lfd); /* nobody listens on the port for now */
	char target[64], err[256];
	snprintf(target, sizeof target, "tcp://127.0.0.1:%u", port);
	struct sn_syslog_options o = { .target = target, .facility = 21, .queue_events = 100,
				       .sensor = "s1" };
	struct sn_syslog *s;
	ck_assert_int_eq(sn_syslog_open(&s, &o, err, sizeof err), 0);
	for (int i = 0; i < 5; i++)
		sn_syslog_event(s, "flow", line, strlen(line), T0);
	ck_assert_uint_eq(sn_syslog_sent(s), 0);
	ck_assert_uint_eq(sn_syslog_queued(s), 5);
	lfd = listen_tcp(&port); /* the receiver comes back on the same port */
	sn_syslog_finish(s, 4000);   /* backoff retries find it */
	ck_assert_uint_eq(sn_syslog_sent(s), 5);
	ck_assert_uint_eq(sn_syslog_dropped(s), 0);
	sn_syslog_free(s);
	close(lfd);
}
END_TEST

START_TEST(test_bad_targets)
{
	const char *bad[] = { "tcp://127.0.0.1", "udp://:514", "file:/x", "tcp://[::1:514",
			      "unix:" };
	char err[256];
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct sn_syslog_options o = { .target = bad[i], .queue_events = 4, .sensor = "s" };
		struct sn_syslog *s = (struct sn_syslog *)1;
		ck_assert_int_eq(sn_syslog_open(&s, &o, err, sizeof err), -1);
		ck_assert_ptr_null(s);
		ck_assert_ptr_nonnull(strstr(err, bad[i]));
	}
}
END_TEST

Suite *syslog_suite(void);
Suite *syslog_suite(void)
{
	Suite *s = suite_create("syslog");
	TCase *t = tcase_create("format");
	tcase_add_test(t, test_format_exact);
	tcase_add_test(t, test_format_severity_and_tokens);
	tcase_add_test(t, test_bad_targets);
	suite_add_tcase(s, t);
	t = tcase_create("delivery");
	tcase_set_timeout(t, 20);
	tcase_add_test(t, test_unix_dgram_one_message_each);
	tcase_add_test(t, test_nobody_listens_queue_bounded);
	tcase_add_test(t, test_queue_bytes_bounded);
	tcase_add_test(t, test_tcp_octet_counting);
	tcase_add_test(t, test_tcp_reconnects_when_receiver_appears);
	suite_add_tcase(s, t);
	return s;
}
