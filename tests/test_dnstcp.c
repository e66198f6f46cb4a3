/*
 * test_dnstcp.c - sensor/dnstcp.c: DNS responses read from the server's
 * TCP byte stream: one segment, a length prefix split over segments,
 * pipelined messages, reordered segments, lost bytes (acknowledged by the
 * client, cut by the snap length, a hole in a length prefix), the message
 * bound (N - 1, N, N + 1), a stream picked up mid-way, and the table's
 * bound.  A name is checked through dns.c's cache, as the worker reads it.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "dnstcp.h"
#include "testutil.h"

#define S 1000000ull
#define T0 (1767225600ull * S)
#define ISN 0xffffff00u /* the server's: its stream wraps around 2^32 */

static struct sn_dns dns;
static struct sn_dnstcp tcp;
static struct sn_addr client, server;
static uint8_t stream[4 * SN_DNSTCP_CAP];

static struct sn_addr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	struct sn_addr x;
	memset(&x, 0, sizeof x);
	x.family = 4;
	x.b[0] = a;
	x.b[1] = b;
	x.b[2] = c;
	x.b[3] = d;
	return x;
}

static void setup(void)
{
	ck_assert_int_eq(sn_dns_init(&dns, 7), 0);
	ck_assert_int_eq(sn_dnstcp_init(&tcp, 9), 0);
	client = v4(10, 0, 0, 5);
	server = v4(10, 0, 0, 53);
}

static void teardown(void)
{
	sn_dnstcp_free(&tcp);
	sn_dns_free(&dns);
}

/*
 * At p: a length prefix and a response naming `name` A 192.0.2.<last>,
 * padded with a TXT record to `len` message bytes when len is not 0.
 * Returns the bytes written (2 + the message).
 */
static size_t framed(uint8_t *p, const char *name, uint8_t last, size_t len)
{
	uint8_t *m = p + 2;
	size_t n = 0;
	n += sn_test_put16(m + n, 0x4242);
	n += sn_test_put16(m + n, 0x8180);
	n += sn_test_put16(m + n, 1);
	n += sn_test_put16(m + n, len ? 2 : 1);
	n += sn_test_put16(m + n, 0);
	n += sn_test_put16(m + n, 0);
	n += sn_test_dns_name(m + n, name);
	n += sn_test_put16(m + n, 1);
	n += sn_test_put16(m + n, 1);
	n += sn_test_put16(m + n, 0xc00c);
	n += sn_test_put16(m + n, 1);
	n += sn_test_put16(m + n, 1);
	n += sn_test_put16(m + n, 0);
	n += sn_test_put16(m + n, 300);
	n += sn_test_put16(m + n, 4);
	m[n++] = 192;
	m[n++] = 0;
	m[n++] = 2;
	m[n++] = last;
	if (len) {
		ck_assert_uint_ge(len, n + 12);
		size_t rd = len - n - 12;
		n += sn_test_put16(m + n, 0xc00c);
		n += sn_test_put16(m + n, 16);
		n += sn_test_put16(m + n, 1);
		n += sn_test_put16(m + n, 0);
		n += sn_test_put16(m + n, 300);
		n += sn_test_put16(m + n, (unsigned)rd);
		memset(m + n, 'x', rd);
		n += rd;
		ck_assert_uint_eq(n, len);
	}
	sn_test_put16(p, (unsigned)n);
	return n + 2;
}

/* A segment: from the server (dir 1) at stream offset `off`, or from the client. */
static void seg(bool from_server, uint8_t flags, uint32_t off, const uint8_t *data, uint32_t len,
		uint32_t wire_len, uint32_t ack_off)
{
	struct sn_packet p;
	memset(&p, 0, sizeof p);
	p.ts_us = T0;
	p.src = from_server ? server : client;
	p.dst = from_server ? client : server;
	p.sport = from_server ? 53 : 40000;
	p.dport = from_server ? 40000 : 53;
	p.tcp_flags = flags;
	p.seq = from_server ? ISN + 1 + off : 1001;
	p.ack = from_server ? 1001 : ISN + 1 + ack_off;
	p.payload = data;
	p.payload_len = len;
	p.payload_wire_len = wire_len;
	sn_dnstcp_segment(&tcp, &dns, &p);
}

static void synack(void)
{
	struct sn_packet p;
	memset(&p, 0, sizeof p);
	p.ts_us = T0;
	p.src = server;
	p.dst = client;
	p.sport = 53;
	p.dport = 40000;
	p.tcp_flags = SN_TCP_SYN | SN_TCP_ACK;
	p.seq = ISN;
	p.ack = 1001;
	sn_dnstcp_segment(&tcp, &dns, &p);
}

static void data(uint32_t off, uint32_t len)
{
	seg(true, SN_TCP_ACK | SN_TCP_PSH, off, stream + off, len, len, 0);
}

static const char *name_of(uint8_t last)
{
	struct sn_addr a = v4(192, 0, 2, last);
	return sn_dns_name(&dns, &client, &a, T0 + S);
}

START_TEST(one_segment)
{
	synack();
	size_t n = framed(stream, "Broker.HiveMQ.com", 7, 0);
	data(0, (uint32_t)n);
	ck_assert_str_eq(name_of(7), "broker.hivemq.com");
	ck_assert_uint_eq(tcp.st.messages, 1);
	ck_assert_uint_eq(dns.st.addresses, 1);
	ck_assert_uint_eq(tcp.st.gaps, 0);
}
END_TEST

/* Over IPv6: the client and the resolver by their v6 addresses. */
START_TEST(over_ipv6)
{
	memset(&client, 0, sizeof client);
	memset(&server, 0, sizeof server);
	client.family = server.family = 6;
	client.b[0] = server.b[0] = 0x20, client.b[1] = server.b[1] = 0x01;
	client.b[15] = 5, server.b[15] = 53;
	synack();
	size_t n = framed(stream, "broker.hivemq.com", 7, 0);
	data(0, (uint32_t)n);
	ck_assert_str_eq(name_of(7), "broker.hivemq.com");
	ck_assert_uint_eq(tcp.st.messages, 1);
}
END_TEST

/* The length prefix split 1 + 1 byte, the message over three segments. */
START_TEST(split_prefix)
{
	synack();
	uint32_t n = (uint32_t)framed(stream, "broker.emqx.io", 8, 0);
	data(0, 1);
	ck_assert_uint_eq(tcp.st.messages, 0);
	data(1, 10);
	ck_assert_uint_eq(tcp.st.messages, 0);
	ck_assert_ptr_null(name_of(8));
	data(11, n - 11);
	ck_assert_str_eq(name_of(8), "broker.emqx.io");
	ck_assert_uint_eq(tcp.st.messages, 1);
}
END_TEST

START_TEST(pipelined)
{
	synack();
	size_t n = framed(stream, "one.example", 1, 0);
	n += framed(stream + n, "two.example", 2, 0);
	size_t half = n;
	n += framed(stream + n, "three.example", 3, 0);
	data(0, (uint32_t)half + 3); /* two whole messages and the start of a third */
	ck_assert_str_eq(name_of(1), "one.example");
	ck_assert_str_eq(name_of(2), "two.example");
	ck_assert_ptr_null(name_of(3));
	data((uint32_t)half + 3, (uint32_t)(n - half - 3));
	ck_assert_str_eq(name_of(3), "three.example");
	ck_assert_uint_eq(tcp.st.messages, 3);
}
END_TEST

/* Segments captured out of order are put back in order. */
START_TEST(reordered)
{
	synack();
	uint32_t n = (uint32_t)framed(stream, "late.example", 4, 0);
	data(20, n - 20);
	data(0, 20);
	ck_assert_str_eq(name_of(4), "late.example");
	ck_assert_uint_eq(tcp.st.gaps, 0);
}
END_TEST

/*
 * A segment in the middle of the first message is never seen and the
 * client acknowledged past it: that message gives no name, the next one
 * (its boundary known from the first's length) does.
 */
START_TEST(lost_segment_resyncs)
{
	synack();
	uint32_t a = (uint32_t)framed(stream, "lost.example", 5, 0);
	uint32_t b = (uint32_t)framed(stream + a, "next.example", 6, 0);
	data(0, 10);
	data(20, a + b - 20); /* bytes 10-19 never come */
	ck_assert_ptr_null(name_of(5));
	ck_assert_ptr_null(name_of(6));
	seg(false, SN_TCP_ACK, 0, NULL, 0, 0, a + b); /* the client had them all */
	uint32_t c = (uint32_t)framed(stream + a + b, "after.example", 9, 0);
	data(a + b, c);
	ck_assert_ptr_null(name_of(5));
	ck_assert_str_eq(name_of(6), "next.example");
	ck_assert_str_eq(name_of(9), "after.example");
	ck_assert_uint_eq(tcp.st.gaps, 1);
	ck_assert_uint_eq(tcp.st.messages, 2);
	ck_assert_uint_eq(dns.st.malformed, 0);
}
END_TEST

/* A hole in a length prefix: no boundary is known after it, the connection is dropped. */
START_TEST(lost_prefix_drops)
{
	synack();
	uint32_t a = (uint32_t)framed(stream, "first.example", 1, 0);
	uint32_t b = (uint32_t)framed(stream + a, "second.example", 2, 0);
	uint32_t c = (uint32_t)framed(stream + a + b, "third.example", 3, 0);
	data(0, a + 1);                /* the first whole, one byte of the second's prefix */
	data(a + b, c);                /* the second never comes */
	seg(false, SN_TCP_ACK, 0, NULL, 0, 0, a + b + c);
	seg(true, SN_TCP_ACK | SN_TCP_FIN, a + b + c, NULL, 0, 0, 0);
	ck_assert_str_eq(name_of(1), "first.example");
	ck_assert_ptr_null(name_of(2));
	ck_assert_ptr_null(name_of(3));
	ck_assert_uint_eq(tcp.st.gaps, 1);
	ck_assert_uint_eq(tcp.st.messages, 1);
}
END_TEST

/* Bytes the snap length cut are lost: that message is skipped, the next is read. */
START_TEST(snapped_segment)
{
	synack();
	uint32_t a = (uint32_t)framed(stream, "cut.example", 1, 0);
	uint32_t b = (uint32_t)framed(stream + a, "whole.example", 2, 0);
	seg(true, SN_TCP_ACK, 0, stream, 20, a, 0);
	data(a, b);
	ck_assert_ptr_null(name_of(1));
	ck_assert_str_eq(name_of(2), "whole.example");
	ck_assert_uint_eq(tcp.st.gaps, 1);
}
END_TEST

/* Messages of N - 1 and N bytes are read; N + 1 is skipped whole and counted. */
START_TEST(message_bound)
{
	synack();
	uint32_t off = 0;
	off += (uint32_t)framed(stream + off, "below.example", 1, SN_DNSTCP_MSG_MAX - 1);
	off += (uint32_t)framed(stream + off, "at.example", 2, SN_DNSTCP_MSG_MAX);
	off += (uint32_t)framed(stream + off, "above.example", 3, SN_DNSTCP_MSG_MAX + 1);
	off += (uint32_t)framed(stream + off, "small.example", 4, 0);
	for (uint32_t at = 0; at < off; at += 1400)
		data(at, off - at < 1400 ? off - at : 1400);
	ck_assert_str_eq(name_of(1), "below.example");
	ck_assert_str_eq(name_of(2), "at.example");
	ck_assert_ptr_null(name_of(3));
	ck_assert_str_eq(name_of(4), "small.example");
	ck_assert_uint_eq(tcp.st.truncated, 1);
	ck_assert_uint_eq(tcp.st.messages, 3);
	ck_assert_uint_eq(tcp.st.gaps, 0);
}
END_TEST

/* Two whole windows in one large segment: nothing is cut by the bound. */
START_TEST(segment_larger_than_window)
{
	synack();
	uint32_t off = 0;
	for (uint8_t i = 1; i <= 3; i++)
		off += (uint32_t)framed(stream + off, "big.example", i, SN_DNSTCP_MSG_MAX - 100);
	data(0, off);
	for (uint8_t i = 1; i <= 3; i++)
		ck_assert_ptr_nonnull(name_of(i));
	ck_assert_uint_eq(tcp.st.messages, 3);
	ck_assert_uint_eq(tcp.st.gaps, 0);
}
END_TEST

/* No SYN-ACK seen: where a message starts is unknown, nothing is read. */
START_TEST(mid_stream_unaligned)
{
	uint32_t n = (uint32_t)framed(stream, "nowhere.example", 1, 0);
	data(0, n);
	ck_assert_ptr_null(name_of(1));
	ck_assert_uint_eq(tcp.st.unaligned, 1);
	ck_assert_uint_eq(tcp.st.messages, 0);
}
END_TEST

/* The server closes in the middle of a message: counted, no name. */
START_TEST(fin_inside_message)
{
	synack();
	uint32_t n = (uint32_t)framed(stream, "short.example", 1, 0);
	seg(true, SN_TCP_ACK | SN_TCP_FIN, 0, stream, n - 1, n - 1, 0);
	ck_assert_ptr_null(name_of(1));
	ck_assert_uint_eq(tcp.st.gaps, 1);
	/* the connection is gone: later bytes are not read against it */
	data(n - 1, 1);
	ck_assert_uint_eq(tcp.st.unaligned, 1);
	ck_assert_ptr_null(name_of(1));
}
END_TEST

/* More connections than the table holds: the stalest are pushed out, counted. */
START_TEST(table_bound)
{
	struct sn_packet p;
	memset(&p, 0, sizeof p);
	p.src = server;
	p.dst = client;
	p.sport = 53;
	p.tcp_flags = SN_TCP_SYN | SN_TCP_ACK;
	for (uint32_t i = 0; i < SN_DNSTCP_CONNS + 1; i++) {
		p.ts_us = T0 + i;
		p.dport = (uint16_t)(20000 + i);
		p.seq = i;
		sn_dnstcp_segment(&tcp, &dns, &p);
	}
	uint32_t used = 0;
	for (uint32_t i = 0; i < SN_DNSTCP_CONNS; i++)
		used += tcp.conns[i].used;
	ck_assert_uint_ge(tcp.st.evicted, 1);
	ck_assert_uint_eq(used + tcp.st.evicted, SN_DNSTCP_CONNS + 1);
}
END_TEST

Suite *dnstcp_suite(void);

Suite *dnstcp_suite(void)
{
	Suite *s = suite_create("dnstcp");
	TCase *t = tcase_create("core");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, one_segment);
	tcase_add_test(t, over_ipv6);
	tcase_add_test(t, split_prefix);
	tcase_add_test(t, pipelined);
	tcase_add_test(t, reordered);
	tcase_add_test(t, lost_segment_resyncs);
	tcase_add_test(t, lost_prefix_drops);
	tcase_add_test(t, snapped_segment);
	tcase_add_test(t, message_bound);
	tcase_add_test(t, segment_larger_than_window);
	tcase_add_test(t, mid_stream_unaligned);
	tcase_add_test(t, fin_inside_message);
	tcase_add_test(t, table_bound);
	suite_add_tcase(s, t);
	return s;
}
