/*
 * test_decode.c - sensor/decode.c: frames built by hand for every link type
 * and IP variant, every truncation of each, and a real capture.
 *
 * Frames are assembled from the inside out: a TCP segment, an IPv4 or IPv6
 * header (with options or extension headers) around it, then a link header.
 * The truncation check feeds every caplen from 0 to n-1 and requires either
 * a counted skip/error or the same segment with fewer payload bytes.
 */
#include <check.h>
#include <pcap/pcap.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "cursor.h"
#include "decode.h"
#include "testutil.h"

Suite *decode_suite(void);

#define FRAME_MAX 512

struct frame {
	uint8_t b[FRAME_MAX];
	size_t n;
};

static void put(struct frame *f, const void *p, size_t n)
{
	ck_assert_uint_le(f->n + n, FRAME_MAX);
	if (n == 0)
		return;
	memcpy(f->b + f->n, p, n);
	f->n += n;
}

static void put8(struct frame *f, unsigned v)
{
	uint8_t b = (uint8_t)v;
	put(f, &b, 1);
}

static void put16(struct frame *f, unsigned v)
{
	put8(f, v >> 8);
	put8(f, v);
}

static void put32(struct frame *f, uint32_t v)
{
	put16(f, v >> 16);
	put16(f, v & 0xffff);
}

static void put_le32(struct frame *f, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		put8(f, (v >> (8 * i)) & 0xff);
}

#define TEST_SPORT 42017
#define TEST_DPORT 1883
#define TEST_SEQ 945734423u
#define TEST_ACK 2239835677u
#define TEST_PAYLOAD "\x10\x1a\x00\x04MQTT" /* MQTT CONNECT start */
#define TEST_PAYLOAD_LEN 8

/* A TCP segment (PSH|ACK) with `optlen` bytes of options and the test payload. */
static struct frame tcp_segment(const uint8_t *opts, size_t optlen, size_t payload_len)
{
	struct frame f = { .n = 0 };
	put16(&f, TEST_SPORT);
	put16(&f, TEST_DPORT);
	put32(&f, TEST_SEQ);
	put32(&f, TEST_ACK);
	put8(&f, (unsigned)((20 + optlen) / 4) << 4);
	put8(&f, SN_TCP_PSH | SN_TCP_ACK);
	put16(&f, 512);  /* window */
	put16(&f, 0);    /* checksum */
	put16(&f, 0);    /* urgent */
	put(&f, opts, optlen);
	put(&f, TEST_PAYLOAD, payload_len);
	return f;
}

/* The usual segment: NOP NOP timestamps (12 bytes of options), 8-byte payload. */
static struct frame default_segment(void)
{
	static const uint8_t ts[12] = { 1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2 };
	return tcp_segment(ts, sizeof ts, TEST_PAYLOAD_LEN);
}

/* IPv4 192.0.2.1 -> 198.51.100.7 around l4, with `optwords` 4-byte option words. */
static void add_ipv4(struct frame *f, const struct frame *l4, unsigned proto,
		     unsigned optwords, unsigned frag, bool zero_total)
{
	unsigned ihl = 5 + optwords;
	put8(f, 0x40 | ihl);
	put8(f, 0);
	put16(f, zero_total ? 0 : (unsigned)(ihl * 4 + l4->n));
	put16(f, 0x1234);
	put16(f, frag);
	put8(f, 64);
	put8(f, proto);
	put16(f, 0);
	put32(f, 0xc0000201);
	put32(f, 0xc6336407);
	for (unsigned i = 0; i < optwords; i++)
		put32(f, 0x01010101); /* NOPs */
	put(f, l4->b, l4->n);
}

/* IPv6 2001:db8::1 -> 2001:db8::2 with extension bytes `ext` then l4. */
static void add_ipv6(struct frame *f, const struct frame *l4, unsigned first_nh,
		     const uint8_t *ext, size_t extlen)
{
	static const uint8_t src[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	static const uint8_t dst[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };
	put32(f, 0x60000000);
	put16(f, (unsigned)(extlen + l4->n));
	put8(f, first_nh);
	put8(f, 64);
	put(f, src, 16);
	put(f, dst, 16);
	put(f, ext, extlen);
	put(f, l4->b, l4->n);
}

static void add_eth(struct frame *f, unsigned type)
{
	static const uint8_t macs[12] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2 };
	put(f, macs, sizeof macs);
	put16(f, type);
}

static void add_vlan(struct frame *f, unsigned tci, unsigned next_type)
{
	put16(f, tci);
	put16(f, next_type);
}

/* Linux cooked v1: packet type, ARPHRD, address length, 8 address bytes, protocol. */
static void add_sll(struct frame *f, unsigned proto)
{
	put16(f, 0);
	put16(f, 1);
	put16(f, 6);
	put32(f, 0x02000000);
	put32(f, 0x00010000);
	put16(f, proto);
}

/* Linux cooked v2: protocol, reserved, ifindex, ARPHRD, type, addr len, 8 addr. */
static void add_sll2(struct frame *f, unsigned proto)
{
	put16(f, proto);
	put16(f, 0);
	put32(f, 2);
	put16(f, 1);
	put8(f, 0);
	put8(f, 6);
	put32(f, 0x02000000);
	put32(f, 0x00010000);
}

static uint64_t counted(const struct sn_decode_stats *st)
{
	uint64_t n = st->not_ip + st->not_tcp + st->fragments;
	for (int i = 0; i < SN_DERR_COUNT; i++)
		n += st->errors[i];
	return n;
}

/* Decodes f whole; returns the rc and fills *pkt and *st (zeroed first). */
static enum sn_decode_rc decode(int lt, const struct frame *f, struct sn_packet *pkt,
				struct sn_decode_stats *st)
{
	memset(st, 0, sizeof *st);
	return sn_decode_packet(lt, f->b, (uint32_t)f->n, (uint32_t)f->n, 7, pkt, st);
}

/*
 * Every truncation of a frame whose full decode is `full` (rc full_rc):
 * a skip or error counts exactly one thing; a TCP result must be the same
 * segment, with the captured payload shortened.  The frame is copied into
 * a buffer of exactly caplen bytes so that ASan sees any over-read.
 */
static void check_truncations(int lt, const struct frame *f, enum sn_decode_rc full_rc,
			      const struct sn_packet *full)
{
	for (size_t caplen = 0; caplen < f->n; caplen++) {
		uint8_t *buf = malloc(caplen ? caplen : 1);
		ck_assert_ptr_nonnull(buf);
		memcpy(buf, f->b, caplen);
		struct sn_decode_stats st = { 0 };
		struct sn_packet p;
		enum sn_decode_rc rc = sn_decode_packet(lt, buf, (uint32_t)caplen,
							(uint32_t)f->n, 7, &p, &st);
		ck_assert_uint_eq(st.packets, 1);
		if (rc == SN_DECODE_TCP) {
			ck_assert_int_eq(full_rc, SN_DECODE_TCP);
			ck_assert_uint_eq(p.sport, full->sport);
			ck_assert_uint_eq(p.dport, full->dport);
			ck_assert_uint_eq(p.seq, full->seq);
			ck_assert_uint_eq(p.payload_wire_len, full->payload_wire_len);
			/* only a cut inside the payload may still be TCP */
			size_t hdr_end = (size_t)(full->payload - f->b);
			ck_assert_uint_ge(caplen, hdr_end);
			size_t want = caplen - hdr_end;
			if (want > full->payload_len)
				want = full->payload_len;
			ck_assert_uint_eq(p.payload_len, want);
			ck_assert_uint_eq(counted(&st), 0);
			ck_assert_uint_eq(st.tcp, 1);
		} else {
			ck_assert_uint_eq(counted(&st), 1);
			ck_assert_uint_eq(st.tcp, 0);
		}
		free(buf);
	}
}

/* Full decode must be the test segment; then every truncation. */
static void check_segment(int lt, const struct frame *f, uint16_t vlan, unsigned family)
{
	struct sn_packet p;
	struct sn_decode_stats st;
	ck_assert_int_eq(decode(lt, f, &p, &st), SN_DECODE_TCP);
	ck_assert_uint_eq(st.tcp, 1);
	ck_assert_uint_eq(counted(&st), 0);
	ck_assert_uint_eq(p.sport, TEST_SPORT);
	ck_assert_uint_eq(p.dport, TEST_DPORT);
	ck_assert_uint_eq(p.seq, TEST_SEQ);
	ck_assert_uint_eq(p.ack, TEST_ACK);
	ck_assert_uint_eq(p.tcp_flags, SN_TCP_PSH | SN_TCP_ACK);
	ck_assert_uint_eq(p.vlan, vlan);
	ck_assert_uint_eq(p.ts_us, 7);
	ck_assert_uint_eq(p.src.family, family);
	ck_assert_uint_eq(p.payload_wire_len, TEST_PAYLOAD_LEN);
	ck_assert_uint_eq(p.payload_len, TEST_PAYLOAD_LEN);
	ck_assert_mem_eq(p.payload, TEST_PAYLOAD, TEST_PAYLOAD_LEN);
	check_truncations(lt, f, SN_DECODE_TCP, &p);
}

/* The full decode is a skip or error counted in *counter; then truncations. */
static void check_counted(int lt, const struct frame *f, enum sn_decode_rc want,
			  size_t counter_offset)
{
	struct sn_packet p;
	struct sn_decode_stats st;
	ck_assert_int_eq(decode(lt, f, &p, &st), want);
	uint64_t v;
	memcpy(&v, (const char *)&st + counter_offset, sizeof v);
	ck_assert_uint_eq(v, 1);
	ck_assert_uint_eq(counted(&st), 1);
	check_truncations(lt, f, want, &p);
}

#define ERR_OFF(e) (offsetof(struct sn_decode_stats, errors) + (e) * sizeof(uint64_t))
#define STAT_OFF(field) offsetof(struct sn_decode_stats, field)

static struct frame eth_ipv4(unsigned optwords)
{
	struct frame l4 = default_segment(), f = { .n = 0 };
	add_eth(&f, 0x0800);
	add_ipv4(&f, &l4, 6, optwords, 0x4000, false);
	return f;
}

/* ---- link types ------------------------------------------------------ */

START_TEST(ethernet_ipv4)
{
	struct frame f = eth_ipv4(0);
	check_segment(SN_DLT_EN10MB, &f, 0, 4);
	struct sn_packet p;
	struct sn_decode_stats st;
	decode(SN_DLT_EN10MB, &f, &p, &st);
	ck_assert_uint_eq(p.ip_bytes, 20 + 32 + TEST_PAYLOAD_LEN);
	char a[SN_ADDR_STRLEN];
	sn_addr_format(&p.src, a);
	ck_assert_str_eq(a, "192.0.2.1");
	sn_addr_format(&p.dst, a);
	ck_assert_str_eq(a, "198.51.100.7");
	static const uint8_t zero[12];
	ck_assert_mem_eq(p.src.b + 4, zero, 12);
	ck_assert_uint_eq(st.bytes, f.n);
}
END_TEST

START_TEST(ethernet_ipv4_options)
{
	struct frame f = eth_ipv4(10); /* IHL 15: the largest header */
	check_segment(SN_DLT_EN10MB, &f, 0, 4);
}
END_TEST

START_TEST(ethernet_padding_not_payload)
{
	/* A bare ACK is 54 bytes; Ethernet pads it to 60 on the wire. */
	struct frame l4 = tcp_segment(NULL, 0, 0), f = { .n = 0 };
	add_eth(&f, 0x0800);
	add_ipv4(&f, &l4, 6, 0, 0, false);
	put(&f, "\0\0\0\0\0\0", 6);
	struct sn_packet p;
	struct sn_decode_stats st;
	ck_assert_int_eq(decode(SN_DLT_EN10MB, &f, &p, &st), SN_DECODE_TCP);
	ck_assert_uint_eq(p.payload_wire_len, 0);
	ck_assert_uint_eq(p.payload_len, 0);
	ck_assert_uint_eq(p.ip_bytes, 40);
	check_truncations(SN_DLT_EN10MB, &f, SN_DECODE_TCP, &p);
}
END_TEST

START_TEST(ethernet_padding_after_payload)
{
	struct frame f = eth_ipv4(0);
	put(&f, "\xee\xee\xee\xee", 4);
	struct sn_packet p;
	struct sn_decode_stats st;
	ck_assert_int_eq(decode(SN_DLT_EN10MB, &f, &p, &st), SN_DECODE_TCP);
	ck_assert_uint_eq(p.payload_len, TEST_PAYLOAD_LEN);
	ck_assert_mem_eq(p.payload, TEST_PAYLOAD, TEST_PAYLOAD_LEN);
}
END_TEST

START_TEST(vlan_single)
{
	struct frame l4 = default_segment(), f = { .n = 0 };
	add_eth(&f, 0x8100);
	add_vlan(&f, 0x2000 | 100, 0x0800); /* priority 1, VLAN 100 */
	add_ipv4(&f, &l4, 6, 0, 0, false);
	check_segment(SN_DLT_EN10MB, &f, 100, 4);
}
END_TEST

START_TEST(vlan_double_keeps_innermost)
{
	struct frame l4 = default_segment(), f = { .n = 0 };
	add_eth(&f, 0x88a8);
	add_vlan(&f, 10, 0x8100);
	add_vlan(&f, 20, 0x86dd);
	add_ipv6(&f, &l4, 6, NULL, 0);
	check_segment(SN_DLT_EN10MB, &f, 20, 6);
}
END_TEST

START_TEST(vlan_qinq_9100_four_deep)
{
	struct frame l4 = default_segment(), f = { .n = 0 };
	add_eth(&f, 0x9100);
	add_vlan(&f, 1, 0x88a8);
	add_vlan(&f, 2, 0x8100);
	add_vlan(&f, 3, 0x8100);
	add_vlan(&f, 4094, 0x0800);
	add_ipv4(&f, &l4, 6, 0, 0, false);
	check_segment(SN_DLT_EN10MB, &f, 4094, 4);
}
END_TEST

START_TEST(vlan_too_deep)
{
	struct frame l4 = default_segment(), f = { .n = 0 };
	add_eth(&f, 0x8100);
	for (unsigned i = 0; i < 4; i++)
		add_vlan(&f, i + 1, 0x8100);
	add_vlan(&f, 5, 0x0800);
	add_ipv4(&f, &l4, 6, 0, 0, false);
	check_counted(SN_DLT_EN10MB, &f, SN_DECODE_ERROR, ERR_OFF(SN_DERR_VLAN_TOO_DEEP));
}
END_TEST

START_TEST(ethernet_arp_not_ip)
{
	struct frame f = { .n = 0 };
	add_eth(&f, 0x0806);
	put32(&f, 0x00010800);
	put32(&f, 0x06040001);
	check_counted(SN_DLT_EN10MB, &f, SN_DECODE_SKIP, STAT_OFF(not_ip));
}
END_TEST

START_TEST(ethernet_type_says_ipv4_but_v6)
{
	struct frame l4 = default_segment(), f = { .n = 0 };
	add_eth(&f, 0x0800);
	add_ipv6(&f, &l4, 6, NULL, 0);
	check_counted(SN_DLT_EN10MB, &f, SN_DECODE_ERROR, ERR_OFF(SN_DERR_IPV4_BAD_VERSION));
}
END_TEST

START_TEST(linux_sll)
{
	struct frame l4 = default_segment(), f = { .n = 0 };
	add_sll(&f, 0x0800);
	ck_assert_uint_eq(f.n, 16);
	add_ipv4(&f, &l4, 6, 0, 0, false);
	check_segment(SN_DLT_LINUX_SLL, &f, 0, 4);
}
END_TEST

START_TEST(linux_sll_vlan)
{
	struct frame l4 = default_segment(), f = { .n = 0 };
	add_sll(&f, 0x8100);
	add_vlan(&f, 42, 0x86dd);
	add_ipv6(&f, &l4, 6, NULL, 0);
	check_segment(SN_DLT_LINUX_SLL, &f, 42, 6);
}
END_TEST

START_TEST(linux_sll2)
{
	struct frame l4 = default_segment(), f = { .n = 0 };
	add_sll2(&f, 0x86dd);
	ck_assert_uint_eq(f.n, 20);
	add_ipv6(&f, &l4, 6, NULL, 0);
	check_segment(SN_DLT_LINUX_SLL2, &f, 0, 6);
}
END_TEST

START_TEST(linux_sll2_not_ip)
{
	struct frame f = { .n = 0 };
	add_sll2(&f, 0x0806);
	put32(&f, 0x00010800);
	check_counted(SN_DLT_LINUX_SLL2, &f, SN_DECODE_SKIP, STAT_OFF(not_ip));
}
END_TEST

START_TEST(null_little_endian)
{
	struct frame l4 = default_segment(), f = { .n = 0 };
	put_le32(&f, 2);
	add_ipv4(&f, &l4, 6, 0, 0, false);
	check_segment(SN_DLT_NULL, &f, 0, 4);
}
END_TEST

START_TEST(null_big_endian)
{
	struct frame l4 = default_segment(), f = { .n = 0 };
	put32(&f, 2);
	add_ipv4(&f, &l4, 6, 0, 0, false);
	check_segment(SN_DLT_NULL, &f, 0, 4);
}
END_TEST

START_TEST(null_ipv6_families)
{
	static const uint32_t fams[] = { 10, 24, 28, 30 };
	for (size_t i = 0; i < sizeof fams / sizeof fams[0]; i++) {
		struct frame l4 = default_segment(), le = { .n = 0 }, be = { .n = 0 };
		put_le32(&le, fams[i]);
		add_ipv6(&le, &l4, 6, NULL, 0);
		check_segment(SN_DLT_NULL, &le, 0, 6);
		put32(&be, fams[i]);
		add_ipv6(&be, &l4, 6, NULL, 0);
		check_segment(SN_DLT_NULL, &be, 0, 6);
	}
}
END_TEST

START_TEST(null_unknown_family)
{
	struct frame l4 = default_segment(), f = { .n = 0 };
	put_le32(&f, 7);
	add_ipv4(&f, &l4, 6, 0, 0, false);
	check_counted(SN_DLT_NULL, &f, SN_DECODE_SKIP, STAT_OFF(not_ip));
}
END_TEST

START_TEST(loop_network_order)
{
	struct frame l4 = default_segment(), f = { .n = 0 }, le = { .n = 0 };
	put32(&f, 24);
	add_ipv6(&f, &l4, 6, NULL, 0);
	check_segment(SN_DLT_LOOP, &f, 0, 6);
	/* LOOP is always big-endian: a little-endian family is not IP. */
	put_le32(&le, 2);
	add_ipv4(&le, &l4, 6, 0, 0, false);
	check_counted(SN_DLT_LOOP, &le, SN_DECODE_SKIP, STAT_OFF(not_ip));
}
END_TEST

START_TEST(raw_all_numbers)
{
	static const int lts[] = { SN_DLT_RAW, SN_DLT_RAW_BSD, SN_DLT_LINKTYPE_RAW };
	for (size_t i = 0; i < 3; i++) {
		struct frame l4 = default_segment(), v4 = { .n = 0 }, v6 = { .n = 0 };
		add_ipv4(&v4, &l4, 6, 0, 0, false);
		check_segment(lts[i], &v4, 0, 4);
		add_ipv6(&v6, &l4, 6, NULL, 0);
		check_segment(lts[i], &v6, 0, 6);
	}
}
END_TEST

START_TEST(raw_bad_version)
{
	struct frame f = { .n = 0 };
	put32(&f, 0x50000000);
	check_counted(SN_DLT_RAW, &f, SN_DECODE_ERROR, ERR_OFF(SN_DERR_BAD_LINK_PROTOCOL));
}
END_TEST

START_TEST(ipv4_and_ipv6_link_types)
{
	struct frame l4 = default_segment(), v4 = { .n = 0 }, v6 = { .n = 0 };
	add_ipv4(&v4, &l4, 6, 2, 0, false);
	check_segment(SN_DLT_IPV4, &v4, 0, 4);
	add_ipv6(&v6, &l4, 6, NULL, 0);
	check_segment(SN_DLT_IPV6, &v6, 0, 6);
	check_counted(SN_DLT_IPV4, &v6, SN_DECODE_ERROR, ERR_OFF(SN_DERR_IPV4_BAD_VERSION));
	check_counted(SN_DLT_IPV6, &v4, SN_DECODE_ERROR, ERR_OFF(SN_DERR_IPV6_BAD_VERSION));
}
END_TEST

START_TEST(unsupported_link_type)
{
	struct frame f = eth_ipv4(0);
	struct sn_packet p;
	struct sn_decode_stats st;
	ck_assert_int_eq(decode(189 /* USB_LINUX */, &f, &p, &st), SN_DECODE_ERROR);
	ck_assert_uint_eq(st.errors[SN_DERR_BAD_LINK_PROTOCOL], 1);
	ck_assert(!sn_decode_linktype_supported(189));
	ck_assert(sn_decode_linktype_supported(SN_DLT_LINUX_SLL2));
	ck_assert(sn_decode_linktype_supported(SN_DLT_EN10MB));
}
END_TEST

/* ---- IPv4 ------------------------------------------------------------ */

START_TEST(ipv4_first_fragment_decoded)
{
	struct frame l4 = default_segment(), f = { .n = 0 };
	add_eth(&f, 0x0800);
	add_ipv4(&f, &l4, 6, 0, 0x2000 /* MF, offset 0 */, false);
	check_segment(SN_DLT_EN10MB, &f, 0, 4);
}
END_TEST

START_TEST(ipv4_later_fragment_skipped)
{
	struct frame l4 = default_segment(), f = { .n = 0 };
	add_eth(&f, 0x0800);
	add_ipv4(&f, &l4, 6, 0, 0x2000 | 185, false);
	check_counted(SN_DLT_EN10MB, &f, SN_DECODE_SKIP, STAT_OFF(fragments));
	struct frame last = { .n = 0 };
	add_eth(&last, 0x0800);
	add_ipv4(&last, &l4, 6, 0, 185 /* last fragment: MF clear */, false);
	check_counted(SN_DLT_EN10MB, &last, SN_DECODE_SKIP, STAT_OFF(fragments));
}
END_TEST

START_TEST(ipv4_udp_not_tcp)
{
	struct frame l4 = default_segment(), f = { .n = 0 };
	add_eth(&f, 0x0800);
	add_ipv4(&f, &l4, 17, 0, 0, false);
	check_counted(SN_DLT_EN10MB, &f, SN_DECODE_SKIP, STAT_OFF(not_tcp));
}
END_TEST

START_TEST(ipv4_bad_ihl)
{
	struct frame f = eth_ipv4(0);
	f.b[14] = 0x44;
	check_counted(SN_DLT_EN10MB, &f, SN_DECODE_ERROR, ERR_OFF(SN_DERR_IPV4_BAD_IHL));
}
END_TEST

START_TEST(ipv4_total_shorter_than_header)
{
	struct frame f = eth_ipv4(2);
	f.b[16] = 0;
	f.b[17] = 24; /* IHL says 28 */
	check_counted(SN_DLT_EN10MB, &f, SN_DECODE_ERROR,
		      ERR_OFF(SN_DERR_IPV4_BAD_TOTAL_LENGTH));
}
END_TEST

START_TEST(ipv4_tso_zero_total_length)
{
	struct frame l4 = default_segment(), f = { .n = 0 };
	add_eth(&f, 0x0800);
	add_ipv4(&f, &l4, 6, 0, 0x4000, true);
	check_segment(SN_DLT_EN10MB, &f, 0, 4);
	struct sn_packet p;
	struct sn_decode_stats st;
	decode(SN_DLT_EN10MB, &f, &p, &st);
	ck_assert_uint_eq(p.ip_bytes, f.n - 14);
}
END_TEST

START_TEST(ipv4_snaplen_cut_payload)
{
	/* caplen stops inside the payload: TCP, with wire and captured lengths. */
	struct frame f = eth_ipv4(0);
	struct sn_decode_stats st = { 0 };
	struct sn_packet p;
	uint32_t caplen = (uint32_t)f.n - 5;
	ck_assert_int_eq(sn_decode_packet(SN_DLT_EN10MB, f.b, caplen, (uint32_t)f.n, 0, &p, &st),
			 SN_DECODE_TCP);
	ck_assert_uint_eq(p.payload_wire_len, TEST_PAYLOAD_LEN);
	ck_assert_uint_eq(p.payload_len, TEST_PAYLOAD_LEN - 5);
	ck_assert_uint_eq(p.ip_bytes, f.n - 14);
}
END_TEST

/* ---- IPv6 ------------------------------------------------------------ */

static void check_ipv6_ext(unsigned first_nh, const uint8_t *ext, size_t extlen)
{
	struct frame l4 = default_segment(), f = { .n = 0 };
	add_eth(&f, 0x86dd);
	add_ipv6(&f, &l4, first_nh, ext, extlen);
	check_segment(SN_DLT_EN10MB, &f, 0, 6);
	struct sn_packet p;
	struct sn_decode_stats st;
	decode(SN_DLT_EN10MB, &f, &p, &st);
	ck_assert_uint_eq(p.ip_bytes, 40 + extlen + l4.n);
}

START_TEST(ipv6_plain)
{
	check_ipv6_ext(6, NULL, 0);
}
END_TEST

START_TEST(ipv6_hop_by_hop)
{
	static const uint8_t hbh[8] = { 6, 0, 1, 4, 0, 0, 0, 0 }; /* PadN */
	check_ipv6_ext(0, hbh, sizeof hbh);
}
END_TEST

START_TEST(ipv6_routing)
{
	/* Type 0-style header, length 2 (24 bytes) */
	uint8_t rt[24] = { 6, 2, 0, 0 };
	check_ipv6_ext(43, rt, sizeof rt);
}
END_TEST

START_TEST(ipv6_destination_options)
{
	static const uint8_t dst[16] = { 6, 1, 1, 12 };
	check_ipv6_ext(60, dst, sizeof dst);
}
END_TEST

START_TEST(ipv6_first_fragment)
{
	static const uint8_t frag[8] = { 6, 0, 0x00, 0x01 /* offset 0, M */, 0, 0, 0, 9 };
	check_ipv6_ext(44, frag, sizeof frag);
}
END_TEST

START_TEST(ipv6_ah)
{
	/* AH length 4: (4 + 2) * 4 = 24 bytes */
	uint8_t ah[24] = { 6, 4, 0, 0 };
	check_ipv6_ext(51, ah, sizeof ah);
}
END_TEST

START_TEST(ipv6_chain_of_all)
{
	uint8_t ext[8 + 16 + 24 + 16 + 8] = { 0 };
	ext[0] = 60;                 /* hop-by-hop -> dst opts */
	ext[8] = 43, ext[9] = 1;     /* dst opts (16) -> routing */
	ext[24] = 51, ext[25] = 2;   /* routing (24) -> AH */
	ext[48] = 44, ext[49] = 2;   /* AH (16) -> fragment */
	ext[64] = 6;                 /* fragment -> TCP */
	check_ipv6_ext(0, ext, sizeof ext);
}
END_TEST

START_TEST(ipv6_later_fragment)
{
	static const uint8_t frag[8] = { 6, 0, 0x05, 0x49, 0, 0, 0, 9 }; /* offset 169 */
	struct frame l4 = default_segment(), f = { .n = 0 };
	add_eth(&f, 0x86dd);
	add_ipv6(&f, &l4, 44, frag, sizeof frag);
	check_counted(SN_DLT_EN10MB, &f, SN_DECODE_SKIP, STAT_OFF(fragments));
}
END_TEST

START_TEST(ipv6_too_many_ext)
{
	uint8_t ext[9 * 8] = { 0 };
	for (int i = 0; i < 9; i++)
		ext[i * 8] = i < 8 ? 60 : 6;
	struct frame l4 = default_segment(), f = { .n = 0 };
	add_eth(&f, 0x86dd);
	add_ipv6(&f, &l4, 60, ext, sizeof ext);
	check_counted(SN_DLT_EN10MB, &f, SN_DECODE_ERROR, ERR_OFF(SN_DERR_IPV6_EXT_TOO_MANY));
	/* eight are fine */
	check_ipv6_ext(60, ext + 8, sizeof ext - 8);
}
END_TEST

START_TEST(ipv6_ext_longer_than_payload)
{
	uint8_t dst[8] = { 6, 200 }; /* claims 1608 bytes */
	struct frame l4 = default_segment(), f = { .n = 0 };
	add_eth(&f, 0x86dd);
	add_ipv6(&f, &l4, 60, dst, sizeof dst);
	check_counted(SN_DLT_EN10MB, &f, SN_DECODE_ERROR, ERR_OFF(SN_DERR_IPV6_EXT_TRUNCATED));
}
END_TEST

START_TEST(ipv6_no_next_header_and_udp)
{
	struct frame l4 = default_segment(), f = { .n = 0 }, u = { .n = 0 };
	add_eth(&f, 0x86dd);
	add_ipv6(&f, &l4, 59, NULL, 0);
	check_counted(SN_DLT_EN10MB, &f, SN_DECODE_SKIP, STAT_OFF(not_tcp));
	add_eth(&u, 0x86dd);
	add_ipv6(&u, &l4, 17, NULL, 0);
	check_counted(SN_DLT_EN10MB, &u, SN_DECODE_SKIP, STAT_OFF(not_tcp));
}
END_TEST

START_TEST(ipv6_tso_zero_payload_length)
{
	struct frame l4 = default_segment(), f = { .n = 0 };
	add_eth(&f, 0x86dd);
	add_ipv6(&f, &l4, 6, NULL, 0);
	f.b[18] = 0;
	f.b[19] = 0;
	check_segment(SN_DLT_EN10MB, &f, 0, 6);
}
END_TEST

/* ---- TCP ------------------------------------------------------------- */

START_TEST(tcp_bad_data_offset)
{
	struct frame f = eth_ipv4(0);
	f.b[34 + 12] = 0x40; /* 16 bytes: less than the fixed header */
	check_counted(SN_DLT_EN10MB, &f, SN_DECODE_ERROR, ERR_OFF(SN_DERR_TCP_BAD_OFFSET));
	f.b[34 + 12] = 0xf0; /* 60 bytes: beyond the IP payload (40) */
	check_counted(SN_DLT_EN10MB, &f, SN_DECODE_ERROR, ERR_OFF(SN_DERR_TCP_BAD_OFFSET));
}
END_TEST

START_TEST(tcp_ip_payload_too_short)
{
	/* IP total length leaves 12 bytes for TCP: inconsistent, not truncated. */
	struct frame f = eth_ipv4(0);
	f.b[16] = 0;
	f.b[17] = 32;
	check_counted(SN_DLT_EN10MB, &f, SN_DECODE_ERROR, ERR_OFF(SN_DERR_TCP_BAD_OFFSET));
}
END_TEST

START_TEST(tcp_bad_options_counted_but_kept)
{
	static const uint8_t bad[4] = { 2, 9, 0, 0 }; /* MSS claiming 9 bytes in 4 */
	static const uint8_t zero_len[4] = { 8, 0, 0, 0 };
	const uint8_t *cases[2] = { bad, zero_len };
	for (int i = 0; i < 2; i++) {
		struct frame l4 = tcp_segment(cases[i], 4, TEST_PAYLOAD_LEN), f = { .n = 0 };
		add_eth(&f, 0x0800);
		add_ipv4(&f, &l4, 6, 0, 0, false);
		struct sn_packet p;
		struct sn_decode_stats st;
		ck_assert_int_eq(decode(SN_DLT_EN10MB, &f, &p, &st), SN_DECODE_TCP);
		ck_assert_uint_eq(st.errors[SN_DERR_TCP_BAD_OPTIONS], 1);
		ck_assert_uint_eq(p.payload_len, TEST_PAYLOAD_LEN);
	}
}
END_TEST

START_TEST(tcp_flags_and_syn)
{
	struct frame l4 = tcp_segment(NULL, 0, 0), f = { .n = 0 };
	l4.b[13] = SN_TCP_SYN | 0x80 /* CWR */;
	add_eth(&f, 0x0800);
	add_ipv4(&f, &l4, 6, 0, 0, false);
	struct sn_packet p;
	struct sn_decode_stats st;
	ck_assert_int_eq(decode(SN_DLT_EN10MB, &f, &p, &st), SN_DECODE_TCP);
	ck_assert_uint_eq(p.tcp_flags, SN_TCP_SYN | 0x80);
}
END_TEST

/* A packet time outside what events can carry is dropped and counted. */
START_TEST(timestamp_out_of_range)
{
	struct frame f = eth_ipv4(0);
	struct sn_packet p;
	struct sn_decode_stats st;
	uint64_t last = SN_TIME_MAX_S * 1000000 + 999999;
	memset(&st, 0, sizeof st);
	ck_assert_int_eq(sn_decode_packet(SN_DLT_EN10MB, f.b, (uint32_t)f.n, (uint32_t)f.n, last, &p, &st),
			 SN_DECODE_TCP);
	ck_assert_uint_eq(p.ts_us, last);
	ck_assert_int_eq(sn_decode_packet(SN_DLT_EN10MB, f.b, (uint32_t)f.n, (uint32_t)f.n, last + 1, &p,
					  &st),
			 SN_DECODE_ERROR);
	ck_assert_int_eq(sn_decode_packet(SN_DLT_EN10MB, f.b, (uint32_t)f.n, (uint32_t)f.n,
					  SN_TIME_INVALID, &p, &st),
			 SN_DECODE_ERROR);
	ck_assert_uint_eq(st.errors[SN_DERR_TIMESTAMP_OUT_OF_RANGE], 2);
	ck_assert_uint_eq(st.tcp, 1);
	ck_assert_uint_eq(st.packets, 3);
	ck_assert_str_eq(sn_decode_error_name(SN_DERR_TIMESTAMP_OUT_OF_RANGE), "timestamp_out_of_range");
}
END_TEST

START_TEST(error_names)
{
	ck_assert_str_eq(sn_decode_error_name(SN_DERR_LINK_TRUNCATED), "link_truncated");
	ck_assert_str_eq(sn_decode_error_name(SN_DERR_IPV6_EXT_TOO_MANY),
			 "ipv6_ext_header_chain_too_long");
	ck_assert_str_eq(sn_decode_error_name(SN_DERR_BAD_LINK_PROTOCOL), "bad_link_protocol");
	ck_assert_str_eq(sn_decode_error_name(SN_DERR_COUNT), "unknown");
	for (int i = 0; i < SN_DERR_COUNT; i++)
		ck_assert_ptr_nonnull(sn_decode_error_name((enum sn_decode_error)i));
}
END_TEST

START_TEST(null_frame_pointer)
{
	struct sn_decode_stats st = { 0 };
	struct sn_packet p;
	ck_assert_int_eq(sn_decode_packet(SN_DLT_EN10MB, NULL, 0, 60, 0, &p, &st),
			 SN_DECODE_ERROR);
	ck_assert_uint_eq(st.errors[SN_DERR_LINK_TRUNCATED], 1);
	ck_assert_uint_eq(st.bytes, 60);
}
END_TEST

/* ---- a real capture -------------------------------------------------- */

START_TEST(real_capture_matches_tcpdump)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *pc = pcap_open_offline(sn_test_pcap_path("mqtt-paho-v311-1883.pcap"), err);
	ck_assert_msg(pc != NULL, "%s", err);
	int lt = pcap_datalink(pc);
	struct sn_decode_stats st = { 0 };
	struct pcap_pkthdr *h;
	const u_char *data;
	int n = 0;
	while (n < 10000 && pcap_next_ex(pc, &h, &data) == 1) {
		struct sn_packet p;
		uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
		ck_assert_int_eq(sn_decode_packet(lt, data, h->caplen, h->len, ts, &p, &st),
				 SN_DECODE_TCP);
		n++;
		/* tcpdump -nn -v: packet 1 is the client's SYN, 4 its CONNECT */
		if (n == 1) {
			ck_assert_uint_eq(p.sport, 42017);
			ck_assert_uint_eq(p.dport, 1883);
			ck_assert_uint_eq(p.tcp_flags, SN_TCP_SYN);
			ck_assert_uint_eq(p.seq, 945734423u);
			ck_assert_uint_eq(p.ip_bytes, 60);
			ck_assert_uint_eq(p.payload_len, 0);
		} else if (n == 4) {
			ck_assert_uint_eq(p.tcp_flags, SN_TCP_PSH | SN_TCP_ACK);
			ck_assert_uint_eq(p.ip_bytes, 80);
			ck_assert_uint_eq(p.payload_wire_len, 28);
			ck_assert_uint_eq(p.payload_len, 28);
			ck_assert_uint_eq(p.payload[0], 0x10); /* MQTT CONNECT */
		} else if (n == 6) {
			ck_assert_uint_eq(p.sport, 1883);
			ck_assert_uint_eq(p.payload_len, 4);
		}
	}
	pcap_close(pc);
	ck_assert_int_eq(n, 44);
	ck_assert_uint_eq(st.tcp, 44);
	ck_assert_uint_eq(counted(&st), 0);
}
END_TEST

START_TEST(every_project_capture_decodes)
{
	static const char *const names[] = {
		"amqp091-pika-userpass-5672.pcap", "stomp12-stomppy-connect-61613.pcap",
		"xmpp-slixmpp-login-plaintext-5222.pcap", "mqtt-v5-properties-1883.pcap",
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		char err[PCAP_ERRBUF_SIZE];
		pcap_t *pc = pcap_open_offline(sn_test_pcap_path(names[i]), err);
		ck_assert_msg(pc != NULL, "%s", err);
		struct sn_decode_stats st = { 0 };
		struct pcap_pkthdr *h;
		const u_char *data;
		for (int n = 0; n < 100000 && pcap_next_ex(pc, &h, &data) == 1; n++) {
			struct sn_packet p;
			sn_decode_packet(pcap_datalink(pc), data, h->caplen, h->len, 0, &p, &st);
		}
		pcap_close(pc);
		ck_assert_uint_gt(st.tcp, 0);
		for (int e = 0; e < SN_DERR_COUNT; e++)
			ck_assert_uint_eq(st.errors[e], 0);
	}
}
END_TEST

/* ---- the decoder: tunnels, reassembly, checksum marks -------------------- */

/* VXLAN (VNI vni) over IPv4 UDP to 4789 around an Ethernet frame of l3 type `type`. */
static void add_vxlan(struct frame *f, const struct frame *inner_l3, unsigned type, uint32_t vni,
		      bool reverse_outer)
{
	struct frame u = { .n = 0 };
	put16(&u, 50000);
	put16(&u, 4789);
	put16(&u, (unsigned)(16 + 14 + inner_l3->n));
	put16(&u, 0);
	put32(&u, 0x08000000);
	put32(&u, vni << 8);
	add_eth(&u, type);
	put(&u, inner_l3->b, inner_l3->n);
	struct frame ip = { .n = 0 };
	add_ipv4(&ip, &u, 17, 0, 0, false);
	if (reverse_outer) { /* swap the outer addresses: the other direction */
		uint8_t t[4];
		memcpy(t, ip.b + 12, 4);
		memcpy(ip.b + 12, ip.b + 16, 4);
		memcpy(ip.b + 16, t, 4);
	}
	add_eth(f, 0x0800);
	put(f, ip.b, ip.n);
}

static struct sn_decoder dec;

static void decoder_setup(void)
{
	struct sn_decoder_config c;
	sn_decoder_defaults(&c);
	c.defrag.max_datagrams = 16;
	c.defrag.max_fragments = 16;
	c.defrag.timeout_s = 30;
	c.checksum = SN_CHECKSUM_YES;
	ck_assert_int_eq(sn_decoder_init(&dec, &c, 99), 0);
}

static void decoder_teardown(void)
{
	sn_decoder_free(&dec);
}

START_TEST(vxlan_inner_segment_and_layers)
{
	struct frame seg = default_segment(), l3 = { .n = 0 }, f = { .n = 0 }, g = { .n = 0 };
	add_ipv4(&l3, &seg, 6, 0, 0, false);
	add_vxlan(&f, &l3, 0x0800, 5001, false);
	add_vxlan(&g, &l3, 0x0800, 5001, true);
	struct sn_packet p, q;
	struct sn_decode_stats st = { 0 };
	ck_assert_int_eq(sn_decode_frame(&dec, SN_DLT_EN10MB, f.b, (uint32_t)f.n, (uint32_t)f.n, 7,
					 &p, &st), SN_DECODE_TCP);
	ck_assert_uint_eq(p.src.b[0], 192); /* the inner addresses */
	ck_assert_uint_eq(p.dport, TEST_DPORT);
	ck_assert_uint_eq(p.n_layers, 1);
	ck_assert_uint_eq(p.layers[0], SN_LAYER_ID(SN_LAYER_VXLAN, 5001));
	ck_assert_uint_eq(p.ip_bytes, l3.n);
	ck_assert_uint_ne(p.tunnel_ctx, 0);
	ck_assert_uint_eq(st.tunnelled, 1);
	char text[SN_LAYER_STRLEN];
	sn_layer_format(p.layers[0], text);
	ck_assert_str_eq(text, "vxlan:5001");
	/* the other direction of the same tunnel has the same context */
	ck_assert_int_eq(sn_decode_frame(&dec, SN_DLT_EN10MB, g.b, (uint32_t)g.n, (uint32_t)g.n, 7,
					 &q, &st), SN_DECODE_TCP);
	ck_assert_uint_eq(p.tunnel_ctx, q.tunnel_ctx);
	/* another VNI, another context */
	struct frame h = { .n = 0 };
	add_vxlan(&h, &l3, 0x0800, 5002, false);
	ck_assert_int_eq(sn_decode_frame(&dec, SN_DLT_EN10MB, h.b, (uint32_t)h.n, (uint32_t)h.n, 7,
					 &q, &st), SN_DECODE_TCP);
	ck_assert_uint_ne(p.tunnel_ctx, q.tunnel_ctx);
}
END_TEST

START_TEST(vxlan_nested_too_deep_is_counted)
{
	struct frame seg = default_segment(), cur = { .n = 0 };
	add_ipv4(&cur, &seg, 6, 0, 0, false);
	/* five VXLAN layers: one more than SN_TUNNEL_MAX_DEPTH */
	for (int i = 0; i < SN_TUNNEL_MAX_DEPTH + 1; i++) {
		struct frame next = { .n = 0 }, ip = { .n = 0 };
		add_vxlan(&next, &cur, 0x0800, (uint32_t)i, false);
		/* strip the Ethernet header: the next layer wraps the outer IPv4 */
		memcpy(ip.b, next.b + 14, next.n - 14);
		ip.n = next.n - 14;
		cur = ip;
	}
	struct frame f = { .n = 0 };
	add_eth(&f, 0x0800);
	put(&f, cur.b, cur.n);
	struct sn_packet p;
	struct sn_decode_stats st = { 0 };
	ck_assert_int_eq(sn_decode_frame(&dec, SN_DLT_EN10MB, f.b, (uint32_t)f.n, (uint32_t)f.n, 7,
					 &p, &st), SN_DECODE_SKIP);
	ck_assert_uint_eq(st.tunnel_too_deep, 1);
}
END_TEST

START_TEST(vxlan_without_i_flag_is_an_error)
{
	struct frame seg = default_segment(), l3 = { .n = 0 }, f = { .n = 0 };
	add_ipv4(&l3, &seg, 6, 0, 0, false);
	add_vxlan(&f, &l3, 0x0800, 1, false);
	f.b[14 + 20 + 8] = 0; /* VXLAN flags */
	struct sn_packet p;
	struct sn_decode_stats st = { 0 };
	ck_assert_int_eq(sn_decode_frame(&dec, SN_DLT_EN10MB, f.b, (uint32_t)f.n, (uint32_t)f.n, 7,
					 &p, &st), SN_DECODE_ERROR);
	ck_assert_uint_eq(st.errors[SN_DERR_TUNNEL_BAD_HEADER], 1);
}
END_TEST

START_TEST(ipv4_eight_byte_fragments_reassembled)
{
	struct frame seg = default_segment(); /* 32 + 8 = 40 bytes of TCP */
	struct sn_decode_stats st = { 0 };
	struct sn_packet p;
	enum sn_decode_rc rc = SN_DECODE_ERROR;
	for (unsigned off = 0; off < seg.n; off += 8) {
		struct frame piece = { .n = 0 }, f = { .n = 0 };
		put(&piece, seg.b + off, seg.n - off < 8 ? seg.n - off : 8);
		add_eth(&f, 0x0800);
		add_ipv4(&f, &piece, 6, 0, (off / 8) | (off + 8 < seg.n ? 0x2000u : 0), false);
		rc = sn_decode_frame(&dec, SN_DLT_EN10MB, f.b, (uint32_t)f.n, (uint32_t)f.n, 7, &p,
				     &st);
		if (off + 8 < seg.n)
			ck_assert_int_eq(rc, SN_DECODE_SKIP);
	}
	ck_assert_int_eq(rc, SN_DECODE_TCP);
	ck_assert(p.reassembled);
	ck_assert_uint_eq(p.sport, TEST_SPORT);
	ck_assert_uint_eq(p.seq, TEST_SEQ);
	ck_assert_uint_eq(p.ip_bytes, 20 + seg.n);
	ck_assert_uint_eq(p.payload_len, TEST_PAYLOAD_LEN);
	ck_assert_mem_eq(p.payload, TEST_PAYLOAD, TEST_PAYLOAD_LEN);
	ck_assert_uint_eq(st.fragments, 5);
	ck_assert_uint_eq(st.defrag.reassembled, 1);
}
END_TEST

START_TEST(checksum_marks_whole_segments_only)
{
	struct frame seg = default_segment(), f = { .n = 0 };
	add_eth(&f, 0x0800);
	add_ipv4(&f, &seg, 6, 0, 0, false);
	struct sn_packet p;
	struct sn_decode_stats st = { 0 };
	ck_assert_int_eq(sn_decode_frame(&dec, SN_DLT_EN10MB, f.b, (uint32_t)f.n, (uint32_t)f.n, 7,
					 &p, &st), SN_DECODE_TCP);
	ck_assert(p.csum_pending);
	ck_assert(sn_packet_checksum_bad(&p)); /* the test segment's checksum is 0 */
	/* cut by the snap length: cannot be checked, so not marked */
	ck_assert_int_eq(sn_decode_frame(&dec, SN_DLT_EN10MB, f.b, (uint32_t)f.n - 4,
					 (uint32_t)f.n, 7, &p, &st), SN_DECODE_TCP);
	ck_assert(!p.csum_pending);
	ck_assert(!sn_packet_checksum_bad(&p));
}
END_TEST

/* ---- straight path ---------------------------------------------------- */

/*
 * One frame, decoded by sn_decode_packet and by the general path alone:
 * false when the results differ (checked with plain compares, not an
 * assertion a call: the tests below make a few hundred thousand).
 */
static bool same_as_general(const uint8_t *b, uint32_t caplen, uint32_t wirelen)
{
	struct sn_packet fast, gen;
	struct sn_decode_stats fst, gst;
	memset(&fst, 0, sizeof fst);
	memset(&gst, 0, sizeof gst);
	memset(&fast, 0xa5, sizeof fast); /* a byte either path leaves unwritten differs */
	memset(&gen, 0x5a, sizeof gen);
	enum sn_decode_rc frc = sn_decode_packet(SN_DLT_EN10MB, b, caplen, wirelen, 7, &fast, &fst);
	enum sn_decode_rc grc = sn_decode_packet_general(SN_DLT_EN10MB, b, caplen, wirelen, 7,
							 &gen, &gst);
	if (frc != grc || memcmp(&fst, &gst, sizeof fst) != 0)
		return false;
	/* both paths clear the view up to layers[] (padding included) first */
	return frc != SN_DECODE_TCP ||
	       (memcmp(&fast, &gen, offsetof(struct sn_packet, layers)) == 0 &&
		memcmp(fast.layers, gen.layers, gen.n_layers * sizeof gen.layers[0]) == 0);
}

/*
 * The same through sn_decode_frame, with a decoder per path: validating
 * (the checksum marks: csum_pending, tcp, tcp_len) and `auto` while it
 * samples (what each path recorded of the segment's checksum).
 */
static bool same_as_general_decoder(const uint8_t *b, uint32_t caplen, uint32_t wirelen)
{
	for (int mode = 0; mode < 2; mode++) {
		struct sn_decoder fd, gd;
		struct sn_decoder_config c;
		sn_decoder_defaults(&c);
		c.checksum = mode ? SN_CHECKSUM_AUTO : SN_CHECKSUM_YES;
		if (sn_decoder_init(&fd, &c, 5) != 0 || sn_decoder_init(&gd, &c, 5) != 0)
			return false;
		struct sn_packet fast, gen;
		struct sn_decode_stats fst, gst;
		memset(&fst, 0, sizeof fst);
		memset(&gst, 0, sizeof gst);
		memset(&fast, 0xa5, sizeof fast);
		memset(&gen, 0x5a, sizeof gen);
		enum sn_decode_rc frc = sn_decode_frame(&fd, SN_DLT_EN10MB, b, caplen, wirelen, 7,
							&fast, &fst);
		enum sn_decode_rc grc = sn_decode_frame_general(&gd, SN_DLT_EN10MB, b, caplen,
								wirelen, 7, &gen, &gst);
		bool same = frc == grc && memcmp(&fst, &gst, sizeof fst) == 0 &&
			    fd.csum.sampled == gd.csum.sampled && fd.csum.bad == gd.csum.bad &&
			    fd.csum.n_sources == gd.csum.n_sources;
		if (same && frc == SN_DECODE_TCP)
			same = memcmp(&fast, &gen, offsetof(struct sn_packet, layers)) == 0 &&
			       memcmp(fast.layers, gen.layers,
				      gen.n_layers * sizeof gen.layers[0]) == 0;
		sn_decoder_free(&fd);
		sn_decoder_free(&gd);
		if (!same)
			return false;
	}
	return true;
}

/*
 * Every caplen of f, both paths.  The first caplen bytes are placed at the
 * end of one buffer of f->n bytes, so that ASan sees a read past caplen.
 */
static void same_at_every_caplen(const struct frame *f, bool wire_too)
{
	uint8_t *buf = malloc(f->n);
	ck_assert_ptr_nonnull(buf);
	for (size_t caplen = 0; caplen <= f->n; caplen++) {
		uint8_t *at = buf + (f->n - caplen);
		memcpy(at, f->b, caplen);
		bool same = same_as_general(at, (uint32_t)caplen, (uint32_t)f->n) &&
			    same_as_general_decoder(at, (uint32_t)caplen, (uint32_t)f->n);
		if (same && wire_too) /* the length comes from the wire length */
			same = same_as_general(at, (uint32_t)caplen, (uint32_t)f->n + 100) &&
			       same_as_general_decoder(at, (uint32_t)caplen, (uint32_t)f->n + 100);
		if (!same)
			ck_abort_msg("straight and general paths differ at caplen %zu of %zu", caplen,
				     f->n);
	}
	free(buf);
}

/*
 * Ethernet/IPv4/TCP frames around the straight path's every condition
 * (tags, header lengths, fragment bits, protocol, IP total and TCP offset
 * beside the captured and IP lengths, bad options), each at every caplen
 * and with a wire length above it: the packet view and every counter are
 * the general path's.
 */
START_TEST(straight_path_same_as_general)
{
	static const unsigned tags[] = { 0, 0x8100, 0x88a8 };
	static const unsigned vihls[] = { 0x45, 0x46, 0x55 };
	/* DF with the reserved bit (taken), MF with an offset (not) */
	static const unsigned frags[] = { 0x4000 | 0x8000, 0x2001 };
	static const unsigned protos[] = { 6, 17 };
	static const unsigned offsets[] = { 4, 5, 6, 15 };
	static const unsigned payloads[] = { 0, TEST_PAYLOAD_LEN };
	unsigned frames = 0;
	for (size_t t = 0; t < 3; t++)
	for (size_t v = 0; v < 3; v++)
	for (size_t fr = 0; fr < 2; fr++)
	for (size_t pr = 0; pr < 2; pr++)
	for (size_t to = 0; to < 6; to++)
	for (size_t of = 0; of < 4; of++)
	for (size_t pl = 0; pl < 2; pl++) {
		/* three option bytes: good (NOP NOP EOL) or bad (length 1), then pad */
		static const uint8_t good[12] = { 1, 1, 0 }, bad[12] = { 1, 5, 1 };
		const uint8_t *opts = (of + pl) % 2 ? bad : good;
		struct frame seg = { .n = 0 };
		put16(&seg, TEST_SPORT);
		put16(&seg, TEST_DPORT);
		put32(&seg, TEST_SEQ);
		put32(&seg, TEST_ACK);
		put8(&seg, offsets[of] << 4);
		put8(&seg, SN_TCP_PSH | SN_TCP_ACK);
		put16(&seg, 512);
		put16(&seg, 0);
		put16(&seg, 0);
		put(&seg, opts, 12);
		put(&seg, TEST_PAYLOAD, payloads[pl]);
		struct frame f = { .n = 0 };
		add_eth(&f, tags[t] ? tags[t] : 0x0800);
		if (tags[t]) {
			put16(&f, 0x2000 | 42); /* priority bits, VLAN 42 */
			put16(&f, 0x0800);
		}
		size_t ip_at = f.n;
		unsigned ihl = (vihls[v] & 0x0f) * 4;
		add_ipv4(&f, &seg, protos[pr], ihl > 20 ? (ihl - 20) / 4 : 0, frags[fr], false);
		f.b[ip_at] = (uint8_t)vihls[v];
		unsigned real = (unsigned)(f.n - ip_at);
		/* 0 (TSO), shorter than IP + TCP, exactly 40, the real one,
		 * shorter than it (padding), longer (cut by the capture) */
		unsigned total = to == 0 ? 0 : to == 1 ? 39 : to == 2 ? 40 : to == 3 ? real :
				 to == 4 ? real - 2 : real + 9;
		f.b[ip_at + 2] = (uint8_t)(total >> 8);
		f.b[ip_at + 3] = (uint8_t)total;
		same_at_every_caplen(&f, to == 0);
		frames++;
	}
	ck_assert_uint_eq(frames, 3 * 3 * 2 * 2 * 6 * 4 * 2);
}
END_TEST

/* A TCP segment with the test ports and payload, `offset` words of header. */
static struct frame straight_segment(unsigned offset, unsigned payload_len, bool bad_opts)
{
	/* three option bytes: good (NOP NOP EOL) or bad (length 1), then pad */
	static const uint8_t good[12] = { 1, 1, 0 }, bad[12] = { 1, 5, 1 };
	struct frame seg = { .n = 0 };
	put16(&seg, TEST_SPORT);
	put16(&seg, TEST_DPORT);
	put32(&seg, TEST_SEQ);
	put32(&seg, TEST_ACK);
	put8(&seg, offset << 4);
	put8(&seg, SN_TCP_PSH | SN_TCP_ACK);
	put16(&seg, 512);
	put16(&seg, 0);
	put16(&seg, 0);
	put(&seg, bad_opts ? bad : good, 12);
	put(&seg, TEST_PAYLOAD, payload_len);
	return seg;
}

/* The same for Ethernet/IPv6/TCP: next header, version, payload length. */
START_TEST(straight_path_ipv6_same_as_general)
{
	static const unsigned tags[] = { 0, 0x8100, 0x88a8 };
	static const unsigned nhs[] = { 6, 0, 17 };
	static const unsigned versions[] = { 6, 4 };
	static const unsigned offsets[] = { 4, 5, 6, 15 };
	static const unsigned payloads[] = { 0, TEST_PAYLOAD_LEN };
	static const uint8_t hop[8] = { 6, 0, 1, 4, 0, 0, 0, 0 }; /* hop-by-hop, then TCP */
	unsigned frames = 0;
	for (size_t t = 0; t < 3; t++)
	for (size_t nh = 0; nh < 3; nh++)
	for (size_t v = 0; v < 2; v++)
	for (size_t pl_len = 0; pl_len < 6; pl_len++)
	for (size_t of = 0; of < 4; of++)
	for (size_t pl = 0; pl < 2; pl++) {
		struct frame seg = straight_segment(offsets[of], payloads[pl], (of + pl) % 2);
		struct frame f = { .n = 0 };
		add_eth(&f, tags[t] ? tags[t] : 0x86dd);
		if (tags[t]) {
			put16(&f, 0x2000 | 42);
			put16(&f, 0x86dd);
		}
		size_t ip_at = f.n;
		add_ipv6(&f, &seg, nhs[nh], hop, nhs[nh] == 0 ? sizeof hop : 0);
		f.b[ip_at] = (uint8_t)(versions[v] << 4);
		unsigned real = (unsigned)(f.n - ip_at - 40);
		/* 0 (jumbogram or TSO), shorter than TCP, exactly 20, the real one,
		 * shorter than it (padding), longer (cut by the capture) */
		unsigned plen = pl_len == 0 ? 0 : pl_len == 1 ? 19 : pl_len == 2 ? 20 :
				pl_len == 3 ? real : pl_len == 4 ? real - 2 : real + 9;
		f.b[ip_at + 4] = (uint8_t)(plen >> 8);
		f.b[ip_at + 5] = (uint8_t)plen;
		same_at_every_caplen(&f, pl_len == 0);
		frames++;
	}
	ck_assert_uint_eq(frames, 3 * 3 * 2 * 6 * 4 * 2);
}
END_TEST

/* The TCP checksum field of the segment at seg[0..len) set so that it verifies. */
static void set_tcp_checksum(uint8_t *seg, size_t len, const uint8_t *src, const uint8_t *dst,
			     size_t alen)
{
	seg[16] = seg[17] = 0;
	sn_test_put16(seg + 16, (uint16_t)~sn_test_tcp_sum(src, dst, alen, seg, len));
}

/*
 * The options walk as RFC 9293 puts it, one byte at a time through the
 * cursor: the reference the decoder's walk is held to.
 */
static bool reference_options_ok(const uint8_t *p, size_t n)
{
	struct sn_cursor c = sn_cur_make(p, n);
	while (sn_cur_remaining(&c) > 0) {
		uint8_t kind = sn_cur_u8(&c);
		if (kind == 0)
			return true;
		if (kind == 1)
			continue;
		uint8_t len = sn_cur_u8(&c);
		if (len < 2 || !sn_cur_skip(&c, (size_t)len - 2))
			return false;
	}
	return true;
}

/*
 * Option bytes of every length 0..40 (every TCP header length), drawn from
 * end, no-op and kinds with lengths 0..12 (too short, exact, past the end),
 * on IPv4 and IPv6 with a good and a bad checksum, each at every caplen
 * and through both paths with a decoder and without: tcp_bad_options is
 * counted exactly when the reference walk fails, a whole segment with a
 * good checksum is not marked bad and one with a bad checksum is, and the
 * straight and general paths agree on everything.
 */
START_TEST(straight_path_options_and_checksums)
{
	uint32_t x = 2463534242u;
	unsigned frames = 0, bad_walks = 0;
	for (unsigned optlen = 0; optlen <= 40; optlen += 4)
	for (int round = 0; round < 24; round++)
	for (int v6 = 0; v6 < 2; v6++)
	for (int good = 0; good < 2; good++) {
		uint8_t opts[40];
		for (unsigned i = 0; i < optlen; i++) {
			x ^= x << 13, x ^= x >> 17, x ^= x << 5;
			unsigned r = x % 16;
			/* mostly plausible options, some noise */
			opts[i] = (uint8_t)(r < 3 ? 1 : r < 4 ? 0 : r < 10 ? 2 + x % 7 : x >> 8);
		}
		if (round == 0) /* all no-ops: the walk runs off the end */
			memset(opts, 1, optlen);
		/* the layouts recognised whole, and near misses: MSS (exact when
		 * optlen is 4), a length past the end, NOP NOP timestamps (exact
		 * when optlen is 12), a timestamp length one too long or short */
		static const uint8_t shapes[][4] = { { 2, 4 }, { 2, 5 }, { 1, 1, 8, 10 },
						     { 1, 1, 8, 11 }, { 1, 1, 8, 9 } };
		if (round >= 1 && round <= 5 && optlen >= 4)
			memcpy(opts, shapes[round - 1], round <= 2 ? 2 : 4);
		struct frame seg = tcp_segment(opts, optlen, (size_t)round % 3 ? TEST_PAYLOAD_LEN : 0);
		struct frame f = { .n = 0 };
		size_t ip_at;
		if (v6) {
			add_eth(&f, 0x86dd);
			ip_at = f.n;
			add_ipv6(&f, &seg, 6, opts, 0);
			set_tcp_checksum(f.b + ip_at + 40, seg.n, f.b + ip_at + 8, f.b + ip_at + 24,
					 16);
		} else {
			add_eth(&f, 0x0800);
			ip_at = f.n;
			add_ipv4(&f, &seg, 6, 0, 0, false);
			set_tcp_checksum(f.b + ip_at + 20, seg.n, f.b + ip_at + 12, f.b + ip_at + 16,
					 4);
		}
		if (!good) /* the checksum field itself */
			f.b[ip_at + (v6 ? 40 : 20) + 17] ^= 0x21;
		bool walk_ok = reference_options_ok(opts, optlen);
		bad_walks += !walk_ok;
		struct sn_packet p;
		struct sn_decode_stats st = { 0 };
		ck_assert_int_eq(sn_decode_frame(&dec, SN_DLT_EN10MB, f.b, (uint32_t)f.n,
						 (uint32_t)f.n, 7, &p, &st), SN_DECODE_TCP);
		ck_assert_uint_eq(st.errors[SN_DERR_TCP_BAD_OPTIONS], !walk_ok);
		ck_assert(p.csum_pending);
		ck_assert_uint_eq(p.tcp_len, seg.n);
		ck_assert_msg(sn_packet_checksum_bad(&p) == !good, "optlen %u v6 %d good %d",
			      optlen, v6, good);
		same_at_every_caplen(&f, false);
		frames++;
	}
	ck_assert_uint_eq(frames, 11 * 24 * 2 * 2);
	ck_assert_uint_gt(bad_walks, 40); /* both outcomes were exercised */
	ck_assert_uint_lt(bad_walks, frames - 40);
}
END_TEST

Suite *decode_suite(void)
{
	Suite *s = suite_create("decode");
	TCase *link = tcase_create("link");
	tcase_add_test(link, ethernet_ipv4);
	tcase_add_test(link, ethernet_ipv4_options);
	tcase_add_test(link, ethernet_padding_not_payload);
	tcase_add_test(link, ethernet_padding_after_payload);
	tcase_add_test(link, vlan_single);
	tcase_add_test(link, vlan_double_keeps_innermost);
	tcase_add_test(link, vlan_qinq_9100_four_deep);
	tcase_add_test(link, vlan_too_deep);
	tcase_add_test(link, ethernet_arp_not_ip);
	tcase_add_test(link, ethernet_type_says_ipv4_but_v6);
	tcase_add_test(link, linux_sll);
	tcase_add_test(link, linux_sll_vlan);
	tcase_add_test(link, linux_sll2);
	tcase_add_test(link, linux_sll2_not_ip);
	tcase_add_test(link, null_little_endian);
	tcase_add_test(link, null_big_endian);
	tcase_add_test(link, null_ipv6_families);
	tcase_add_test(link, null_unknown_family);
	tcase_add_test(link, loop_network_order);
	tcase_add_test(link, raw_all_numbers);
	tcase_add_test(link, raw_bad_version);
	tcase_add_test(link, ipv4_and_ipv6_link_types);
	tcase_add_test(link, unsupported_link_type);
	tcase_add_test(link, null_frame_pointer);
	suite_add_tcase(s, link);

	TCase *ip = tcase_create("ip");
	tcase_add_test(ip, ipv4_first_fragment_decoded);
	tcase_add_test(ip, ipv4_later_fragment_skipped);
	tcase_add_test(ip, ipv4_udp_not_tcp);
	tcase_add_test(ip, ipv4_bad_ihl);
	tcase_add_test(ip, ipv4_total_shorter_than_header);
	tcase_add_test(ip, ipv4_tso_zero_total_length);
	tcase_add_test(ip, ipv4_snaplen_cut_payload);
	tcase_add_test(ip, ipv6_plain);
	tcase_add_test(ip, ipv6_hop_by_hop);
	tcase_add_test(ip, ipv6_routing);
	tcase_add_test(ip, ipv6_destination_options);
	tcase_add_test(ip, ipv6_first_fragment);
	tcase_add_test(ip, ipv6_ah);
	tcase_add_test(ip, ipv6_chain_of_all);
	tcase_add_test(ip, ipv6_later_fragment);
	tcase_add_test(ip, ipv6_too_many_ext);
	tcase_add_test(ip, ipv6_ext_longer_than_payload);
	tcase_add_test(ip, ipv6_no_next_header_and_udp);
	tcase_add_test(ip, ipv6_tso_zero_payload_length);
	suite_add_tcase(s, ip);

	TCase *tcp = tcase_create("tcp");
	tcase_add_test(tcp, tcp_bad_data_offset);
	tcase_add_test(tcp, tcp_ip_payload_too_short);
	tcase_add_test(tcp, tcp_bad_options_counted_but_kept);
	tcase_add_test(tcp, tcp_flags_and_syn);
	tcase_add_test(tcp, timestamp_out_of_range);
	tcase_add_test(tcp, error_names);
	suite_add_tcase(s, tcp);

	TCase *real = tcase_create("capture");
	tcase_add_test(real, real_capture_matches_tcpdump);
	tcase_add_test(real, every_project_capture_decodes);
	suite_add_tcase(s, real);
	TCase *dc = tcase_create("decoder");
	tcase_add_checked_fixture(dc, decoder_setup, decoder_teardown);
	tcase_add_test(dc, vxlan_inner_segment_and_layers);
	tcase_add_test(dc, vxlan_nested_too_deep_is_counted);
	tcase_add_test(dc, vxlan_without_i_flag_is_an_error);
	tcase_add_test(dc, ipv4_eight_byte_fragments_reassembled);
	tcase_add_test(dc, checksum_marks_whole_segments_only);
	tcase_add_test(dc, straight_path_same_as_general);
	tcase_add_test(dc, straight_path_ipv6_same_as_general);
	tcase_add_test(dc, straight_path_options_and_checksums);
	suite_add_tcase(s, dc);
	return s;
}
