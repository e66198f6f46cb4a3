/*
 * test_capture.c - sensor/capture.c: the messages a user sees when a file
 * or interface cannot be used, and that good sources open as expected.
 *
 * Files are written at test time into a fresh temporary directory: a text
 * file, a capture with an unsupported link type (via pcap_dump), and a
 * pcapng file assembled by hand with nanosecond timestamps.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"
#include "testutil.h"

Suite *capture_suite(void);

static char tmp_dir[256];

static void make_tmp_dir(void)
{
	const char *base = getenv("TMPDIR");
	snprintf(tmp_dir, sizeof tmp_dir, "%s/sn-capture-XXXXXX", base && *base ? base : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tmp_dir));
}

static const char *tmp_path(const char *name)
{
	static char path[512];
	snprintf(path, sizeof path, "%s/%s", tmp_dir, name);
	return path;
}

static void write_file(const char *path, const void *data, size_t n)
{
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, n, f), n);
	fclose(f);
}

/* ---- offline --------------------------------------------------------- */

START_TEST(missing_file)
{
	char err[SN_CAPTURE_ERRLEN] = "";
	make_tmp_dir();
	char want[1024];
	const char *path = tmp_path("nope.pcap");
	ck_assert_ptr_null(sn_capture_open_file(path, err));
	snprintf(want, sizeof want, "cannot open '%s': No such file or directory", path);
	ck_assert_str_eq(err, want);
	rmdir(tmp_dir);
}
END_TEST

START_TEST(directory_not_file)
{
	char err[SN_CAPTURE_ERRLEN] = "";
	char want[1024];
	make_tmp_dir();
	ck_assert_ptr_null(sn_capture_open_file(tmp_dir, err));
	snprintf(want, sizeof want, "cannot open '%s': Is a directory", tmp_dir);
	ck_assert_str_eq(err, want);
	rmdir(tmp_dir);
}
END_TEST

START_TEST(text_file_not_a_capture)
{
	char err[SN_CAPTURE_ERRLEN] = "";
	char want[1024];
	make_tmp_dir();
	const char *path = tmp_path("notes.pcap");
	const char text[] = "this is not a capture file, just some notes\n";
	write_file(path, text, sizeof text - 1);
	ck_assert_ptr_null(sn_capture_open_file(path, err));
	snprintf(want, sizeof want, "cannot read '%s': ", path);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "got: %s", err);
	ck_assert_uint_gt(strlen(err), strlen(want)); /* libpcap's reason follows */
	ck_assert_ptr_null(strchr(err, '\n'));
	unlink(path);
	rmdir(tmp_dir);
}
END_TEST

START_TEST(empty_file_not_a_capture)
{
	char err[SN_CAPTURE_ERRLEN] = "";
	make_tmp_dir();
	const char *path = tmp_path("empty.pcap");
	write_file(path, "", 0);
	ck_assert_ptr_null(sn_capture_open_file(path, err));
	char want[600];
	snprintf(want, sizeof want, "'%s': empty file", path);
	ck_assert_str_eq(err, want);
	unlink(path);
	rmdir(tmp_dir);
}
END_TEST

static unsigned packets_in(pcap_t *p, uint64_t *bytes)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	unsigned n = 0;
	*bytes = 0;
	while (pcap_next_ex(p, &h, &data) == 1) {
		n++;
		*bytes += h->caplen;
	}
	return n;
}

/* A gzip-compressed capture reads as the capture itself. */
START_TEST(gzip_capture_reads_like_plain)
{
	char err[SN_CAPTURE_ERRLEN] = "";
	char cmd[1200];
	make_tmp_dir();
	const char *plain = sn_test_pcap_path("demo.pcap");
	char gz[600];
	snprintf(gz, sizeof gz, "%s", tmp_path("demo.pcap.gz"));
	snprintf(cmd, sizeof cmd, "gzip -c '%s' > '%s'", plain, gz);
	ck_assert_int_eq(system(cmd), 0);
	uint64_t b1, b2;
	pcap_t *p = sn_capture_open_file(plain, err);
	ck_assert_msg(p != NULL, "%s", err);
	unsigned n1 = packets_in(p, &b1);
	pcap_close(p);
	struct sn_capture_file cf;
	ck_assert_msg(sn_capture_file_open(&cf, gz, err) == 0, "%s", err);
	unsigned n2 = packets_in(cf.pcap, &b2);
	sn_capture_file_close(&cf);
	ck_assert_uint_gt(n1, 0);
	ck_assert_uint_eq(n1, n2);
	ck_assert_uint_eq(b1, b2);
	unlink(gz);
	rmdir(tmp_dir);
}
END_TEST

START_TEST(project_capture_opens)
{
	char err[SN_CAPTURE_ERRLEN] = "";
	const char *path = sn_test_pcap_path("mqtt-paho-v311-1883.pcap");
	pcap_t *p = sn_capture_open_file(path, err);
	ck_assert_msg(p != NULL, "%s", err);
	ck_assert(sn_capture_check_linktype(p, path, err));
	struct pcap_pkthdr *h;
	const u_char *data;
	ck_assert_int_eq(pcap_next_ex(p, &h, &data), 1);
	ck_assert_uint_eq(h->caplen, 74); /* the client's SYN */
	pcap_close(p);
}
END_TEST

START_TEST(unsupported_link_type)
{
	char err[SN_CAPTURE_ERRLEN] = "";
	char want[1024];
	make_tmp_dir();
	const char *path = tmp_path("usb.pcap");
	pcap_t *dead = pcap_open_dead(DLT_USB_LINUX, 65535);
	ck_assert_ptr_nonnull(dead);
	pcap_dumper_t *d = pcap_dump_open(dead, path);
	ck_assert_ptr_nonnull(d);
	static const u_char pkt[48] = { 0 };
	struct pcap_pkthdr h = { .caplen = sizeof pkt, .len = sizeof pkt };
	pcap_dump((u_char *)d, &h, pkt);
	pcap_dump_close(d);
	pcap_close(dead);

	pcap_t *p = sn_capture_open_file(path, err);
	ck_assert_msg(p != NULL, "%s", err);
	ck_assert(!sn_capture_check_linktype(p, path, err));
	snprintf(want, sizeof want,
		 "unsupported link type DLT_USB_LINUX (189) in '%s'; supported: EN10MB, "
		 "LINUX_SLL, LINUX_SLL2, NULL, LOOP, RAW, IPV4, IPV6",
		 path);
	ck_assert_str_eq(err, want);
	pcap_close(p);
	unlink(path);
	rmdir(tmp_dir);
}
END_TEST

/* Little-endian pcapng pieces. */
static size_t le16(uint8_t *b, size_t at, unsigned v)
{
	b[at] = (uint8_t)v;
	b[at + 1] = (uint8_t)(v >> 8);
	return at + 2;
}

static size_t le32(uint8_t *b, size_t at, uint32_t v)
{
	at = le16(b, at, v & 0xffff);
	return le16(b, at, v >> 16);
}

/*
 * A pcapng section: SHB; IDB (Ethernet, if_tsresol = 9: nanoseconds);
 * one EPB of 14 bytes at 1700000000.123456789 s.
 */
static size_t build_pcapng(uint8_t *b)
{
	size_t at = 0;
	at = le32(b, at, 0x0a0d0d0a); /* SHB */
	at = le32(b, at, 28);
	at = le32(b, at, 0x1a2b3c4d);
	at = le16(b, at, 1);
	at = le16(b, at, 0);
	at = le32(b, at, 0xffffffff); /* section length: unknown */
	at = le32(b, at, 0xffffffff);
	at = le32(b, at, 28);
	at = le32(b, at, 1); /* IDB */
	at = le32(b, at, 32);
	at = le16(b, at, 1); /* LINKTYPE_ETHERNET */
	at = le16(b, at, 0);
	at = le32(b, at, 262144);
	at = le16(b, at, 9); /* if_tsresol */
	at = le16(b, at, 1);
	at = le32(b, at, 9); /* 10^-9, then 3 bytes of padding */
	at = le32(b, at, 0); /* opt_endofopt */
	at = le32(b, at, 32);
	uint64_t ns = 1700000000123456789ull;
	at = le32(b, at, 6); /* EPB */
	at = le32(b, at, 48);
	at = le32(b, at, 0);
	at = le32(b, at, (uint32_t)(ns >> 32));
	at = le32(b, at, (uint32_t)ns);
	at = le32(b, at, 14);
	at = le32(b, at, 60);
	memset(b + at, 0xab, 16); /* 14 bytes of frame, 2 of padding */
	at += 16;
	return le32(b, at, 48);
}

START_TEST(pcapng_nanoseconds_read_as_micro)
{
	char err[SN_CAPTURE_ERRLEN] = "";
	uint8_t b[256];
	make_tmp_dir();
	const char *path = tmp_path("ns.pcapng");
	write_file(path, b, build_pcapng(b));
	pcap_t *p = sn_capture_open_file(path, err);
	ck_assert_msg(p != NULL, "%s", err);
	ck_assert(sn_capture_check_linktype(p, path, err));
	struct pcap_pkthdr *h;
	const u_char *data;
	ck_assert_int_eq(pcap_next_ex(p, &h, &data), 1);
	ck_assert_int_eq(h->ts.tv_sec, 1700000000);
	ck_assert_int_eq(h->ts.tv_usec, 123456);
	ck_assert_uint_eq(h->caplen, 14);
	ck_assert_uint_eq(h->len, 60);
	ck_assert_int_eq(pcap_next_ex(p, &h, &data), PCAP_ERROR_BREAK);
	pcap_close(p);
	unlink(path);
	rmdir(tmp_dir);
}
END_TEST

/* Reads the one packet of path and returns sn_capture_time_us() of it. */
static uint64_t first_packet_time(const char *path)
{
	char err[SN_CAPTURE_ERRLEN] = "";
	struct pcap_pkthdr *h;
	const u_char *data;
	pcap_t *p = sn_capture_open_file(path, err);
	ck_assert_msg(p != NULL, "%s", err);
	ck_assert_int_eq(pcap_next_ex(p, &h, &data), 1);
	uint64_t t = sn_capture_time_us(h);
	pcap_close(p);
	unlink(path);
	return t;
}

static uint64_t classic_time(uint32_t tv_sec, uint32_t tv_usec)
{
	const char *path = tmp_path("t.pcap");
	uint8_t b[64];
	size_t at = 0;
	at = le32(b, at, 0xa1b2c3d4); /* classic pcap, microseconds, little endian */
	at = le16(b, at, 2);
	at = le16(b, at, 4);
	at = le32(b, at, 0);
	at = le32(b, at, 0);
	at = le32(b, at, 65535);
	at = le32(b, at, 1); /* Ethernet */
	at = le32(b, at, tv_sec);
	at = le32(b, at, tv_usec);
	at = le32(b, at, 14);
	at = le32(b, at, 14);
	memset(b + at, 0, 14);
	write_file(path, b, at + 14);
	return first_packet_time(path);
}

/* A pcapng with if_tsresol 9 (ns), if_tsoffset (seconds) and one EPB at ns. */
static uint64_t pcapng_time(uint64_t ns, int64_t tsoffset)
{
	const char *path = tmp_path("t.pcapng");
	uint8_t b[256];
	size_t at = 0;
	at = le32(b, at, 0x0a0d0d0a); /* SHB */
	at = le32(b, at, 28);
	at = le32(b, at, 0x1a2b3c4d);
	at = le16(b, at, 1);
	at = le16(b, at, 0);
	at = le32(b, at, 0xffffffff);
	at = le32(b, at, 0xffffffff);
	at = le32(b, at, 28);
	at = le32(b, at, 1); /* IDB */
	at = le32(b, at, 44);
	at = le16(b, at, 1);
	at = le16(b, at, 0);
	at = le32(b, at, 262144);
	at = le16(b, at, 9); /* if_tsresol: 10^-9 */
	at = le16(b, at, 1);
	at = le32(b, at, 9);
	at = le16(b, at, 14); /* if_tsoffset */
	at = le16(b, at, 8);
	at = le32(b, at, (uint32_t)(uint64_t)tsoffset);
	at = le32(b, at, (uint32_t)((uint64_t)tsoffset >> 32));
	at = le32(b, at, 0); /* opt_endofopt */
	at = le32(b, at, 44);
	at = le32(b, at, 6); /* EPB */
	at = le32(b, at, 48);
	at = le32(b, at, 0);
	at = le32(b, at, (uint32_t)(ns >> 32));
	at = le32(b, at, (uint32_t)ns);
	at = le32(b, at, 14);
	at = le32(b, at, 14);
	memset(b + at, 0, 16);
	at += 16;
	at = le32(b, at, 48);
	write_file(path, b, at);
	return first_packet_time(path);
}

/*
 * Times no event could carry (issue: "586524-01-19T..."): classic pcap
 * seconds of 0x80000000 and above (libpcap reads them signed), a pcapng
 * time pushed negative by if_tsoffset or beyond 2106 are SN_TIME_INVALID.
 */
START_TEST(timestamps_out_of_range)
{
	make_tmp_dir();
	ck_assert_uint_eq(classic_time(0x7fffffff, 999999), 0x7fffffffULL * 1000000 + 999999);
	ck_assert_uint_eq(classic_time(0, 0), 0);
	ck_assert_uint_eq(classic_time(0x80000000u, 0), SN_TIME_INVALID);
	ck_assert_uint_eq(classic_time(0xffffffffu, 5), SN_TIME_INVALID);
	ck_assert_uint_eq(pcapng_time(1700000000123456789ull, 0), 1700000000123456ull);
	ck_assert_uint_eq(pcapng_time(1000000000ull, -2000000000), SN_TIME_INVALID);
	ck_assert_uint_eq(pcapng_time(UINT64_MAX, 0), SN_TIME_INVALID);
	ck_assert_uint_eq(pcapng_time(0, (int64_t)SN_TIME_MAX_S), SN_TIME_MAX_S * 1000000);
	ck_assert_uint_eq(pcapng_time(0, (int64_t)SN_TIME_MAX_S + 1), SN_TIME_INVALID);
	rmdir(tmp_dir);
}
END_TEST

START_TEST(stdin_capture)
{
	char err[SN_CAPTURE_ERRLEN] = "";
	/* each Check test runs in its own process, so stdin may be replaced */
	ck_assert_ptr_nonnull(freopen(sn_test_pcap_path("oneshot-mqtt-pub-1883.pcap"), "rb", stdin));
	pcap_t *p = sn_capture_open_file("-", err);
	ck_assert_msg(p != NULL, "%s", err);
	ck_assert(sn_capture_check_linktype(p, "-", err));
	struct pcap_pkthdr *h;
	const u_char *data;
	ck_assert_int_eq(pcap_next_ex(p, &h, &data), 1);
	pcap_close(p);
}
END_TEST

START_TEST(stdin_not_a_capture)
{
	char err[SN_CAPTURE_ERRLEN] = "";
	make_tmp_dir();
	const char *path = tmp_path("text");
	write_file(path, "hello, world\n", 13);
	ck_assert_ptr_nonnull(freopen(path, "rb", stdin));
	ck_assert_ptr_null(sn_capture_open_file("-", err));
	ck_assert_msg(strncmp(err, "cannot read standard input: ", 28) == 0, "got: %s", err);
	unlink(path);
	rmdir(tmp_dir);
}
END_TEST

/* ---- offline, through a large read buffer ---------------------------- */

START_TEST(buffered_file_reads_like_plain)
{
	char err[SN_CAPTURE_ERRLEN] = "";
	const char *path = sn_test_pcap_path("mqtt-paho-v311-1883.pcap");
	struct sn_capture_file cf;
	ck_assert_int_eq(sn_capture_file_open(&cf, path, err), 0);
	ck_assert_ptr_nonnull(cf.buf);
	pcap_t *plain = sn_capture_open_file(path, err);
	ck_assert_msg(plain != NULL, "%s", err);
	ck_assert(sn_capture_check_linktype(cf.pcap, path, err));
	/* every packet the same as through libpcap's default buffer */
	struct pcap_pkthdr *h1, *h2;
	const u_char *d1, *d2;
	int n = 0;
	while (n < 100000 && pcap_next_ex(cf.pcap, &h1, &d1) == 1) {
		ck_assert_int_eq(pcap_next_ex(plain, &h2, &d2), 1);
		ck_assert_uint_eq(h1->caplen, h2->caplen);
		ck_assert_uint_eq(h1->len, h2->len);
		ck_assert_int_eq(h1->ts.tv_usec, h2->ts.tv_usec);
		ck_assert_mem_eq(d1, d2, h1->caplen);
		n++;
	}
	ck_assert_int_gt(n, 10);
	ck_assert_int_eq(pcap_next_ex(plain, &h2, &d2), PCAP_ERROR_BREAK);
	pcap_close(plain);
	sn_capture_file_close(&cf);
	ck_assert_ptr_null(cf.pcap);
	ck_assert_ptr_null(cf.buf);
	sn_capture_file_close(&cf); /* closing twice is harmless */
}
END_TEST

START_TEST(buffered_file_errors_match)
{
	char err[SN_CAPTURE_ERRLEN] = "";
	char want[1024];
	struct sn_capture_file cf;
	make_tmp_dir();
	const char *path = tmp_path("nope.pcap");
	ck_assert_int_lt(sn_capture_file_open(&cf, path, err), 0);
	ck_assert_ptr_null(cf.pcap);
	ck_assert_ptr_null(cf.buf);
	snprintf(want, sizeof want, "cannot open '%s': No such file or directory", path);
	ck_assert_str_eq(err, want);
	ck_assert_int_lt(sn_capture_file_open(&cf, tmp_dir, err), 0);
	snprintf(want, sizeof want, "cannot open '%s': Is a directory", tmp_dir);
	ck_assert_str_eq(err, want);
	path = tmp_path("notes.pcap");
	write_file(path, "not a capture\n", 14);
	ck_assert_int_lt(sn_capture_file_open(&cf, path, err), 0);
	ck_assert_ptr_null(cf.buf);
	snprintf(want, sizeof want, "cannot read '%s': ", path);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "got: %s", err);
	sn_capture_file_close(&cf);
	unlink(path);
	rmdir(tmp_dir);
}
END_TEST

START_TEST(buffered_stdin_keeps_default_buffer)
{
	char err[SN_CAPTURE_ERRLEN] = "";
	struct sn_capture_file cf;
	/* each Check test runs in its own process, so stdin may be replaced */
	ck_assert_ptr_nonnull(freopen(sn_test_pcap_path("oneshot-mqtt-pub-1883.pcap"), "rb", stdin));
	ck_assert_int_eq(sn_capture_file_open(&cf, "-", err), 0);
	ck_assert_ptr_nonnull(cf.pcap);
	ck_assert_ptr_null(cf.buf);
	struct pcap_pkthdr *h;
	const u_char *data;
	ck_assert_int_eq(pcap_next_ex(cf.pcap, &h, &data), 1);
	sn_capture_file_close(&cf);
}
END_TEST

/* ---- live ------------------------------------------------------------ */

static bool permission_denied(const char *err)
{
	return strncmp(err, "no permission to capture on", 27) == 0;
}

START_TEST(live_no_such_interface)
{
	char err[SN_CAPTURE_ERRLEN] = "";
	struct sn_live_options o = { .interface = "nosuch0", .filter = "", .snaplen = 65535 };
	ck_assert_ptr_null(sn_capture_open_live(&o, err));
	ck_assert_str_eq(err, "no such interface 'nosuch0': list interfaces with 'ip link'");
}
END_TEST

START_TEST(live_no_interface_name)
{
	char err[SN_CAPTURE_ERRLEN] = "";
	struct sn_live_options o = { .interface = "", .filter = "" };
	ck_assert_ptr_null(sn_capture_open_live(&o, err));
	ck_assert_str_eq(err, "no interface given to capture on");
}
END_TEST

/* These need CAP_NET_RAW; without it they only check the permission message. */
START_TEST(live_loopback_opens_nonblocking)
{
	char err[SN_CAPTURE_ERRLEN] = "";
	char pcap_err[PCAP_ERRBUF_SIZE];
	struct sn_live_options o = { .interface = "lo", .filter = "tcp port 1883",
				     .snaplen = 65535, .buffer_mib = 4 };
	pcap_t *p = sn_capture_open_live(&o, err);
	if (!p) {
		ck_assert_msg(permission_denied(err), "got: %s", err);
		return;
	}
	ck_assert_int_eq(pcap_getnonblock(p, pcap_err), 1);
	ck_assert_int_eq(pcap_datalink(p), DLT_EN10MB);
	ck_assert(sn_capture_check_linktype(p, "lo", err));
	pcap_close(p);
}
END_TEST

START_TEST(live_bad_filter)
{
	char err[SN_CAPTURE_ERRLEN] = "";
	struct sn_live_options o = { .interface = "lo", .filter = "tcp port", .snaplen = 65535 };
	ck_assert_ptr_null(sn_capture_open_live(&o, err));
	if (permission_denied(err))
		return;
	const char *want = "bad capture filter 'tcp port': ";
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "got: %s", err);
	ck_assert_uint_gt(strlen(err), strlen(want));
}
END_TEST

/* The check --check-config and the command line make: no capture needed. */
START_TEST(filter_check_without_capture)
{
	char msg[512] = "";
	ck_assert_int_eq(sn_capture_check_filter("tcp port 5222", DLT_EN10MB, msg, sizeof msg), 0);
	ck_assert_int_eq(sn_capture_check_filter("tcp prot 5222", DLT_EN10MB, msg, sizeof msg), -1);
	ck_assert_msg(strncmp(msg, "bad BPF filter 'tcp prot 5222': ", 32) == 0, "got: %s", msg);
	/* link-layer words depend on the link type */
	ck_assert_int_eq(sn_capture_check_filter("ether host 1:2:3:4:5:6", DLT_EN10MB, msg, sizeof msg), 0);
	ck_assert_int_eq(sn_capture_check_filter("ether host 1:2:3:4:5:6", DLT_RAW, msg, sizeof msg), -1);
}
END_TEST

static unsigned count_packets(pcap_t *p)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	unsigned n = 0;
	while (pcap_next_ex(p, &h, &data) == 1)
		n++;
	return n;
}

/* An offline handle with a filter returns only matching packets. */
START_TEST(filter_on_offline_file)
{
	char err[SN_CAPTURE_ERRLEN] = "";
	const char *path = sn_test_pcap_path("xmpp-slixmpp-login-plaintext-5222.pcap");
	pcap_t *p = sn_capture_open_file(path, err);
	ck_assert_msg(p != NULL, "%s", err);
	unsigned all = count_packets(p);
	pcap_close(p);
	ck_assert_uint_gt(all, 0);

	p = sn_capture_open_file(path, err); /* every packet is on port 5222 */
	ck_assert_int_eq(sn_capture_set_filter(p, "tcp port 5222", path, err), 0);
	ck_assert_uint_eq(count_packets(p), all);
	pcap_close(p);

	p = sn_capture_open_file(path, err); /* none is on 5672 */
	ck_assert_int_eq(sn_capture_set_filter(p, "tcp port 5672", path, err), 0);
	ck_assert_uint_eq(count_packets(p), 0);
	pcap_close(p);

	p = sn_capture_open_file(path, err);
	ck_assert_int_eq(sn_capture_set_filter(p, "tcp prot", path, err), -EINVAL);
	ck_assert_msg(strstr(err, "bad capture filter 'tcp prot': ") == err, "got: %s", err);
	ck_assert_ptr_nonnull(strstr(err, "link type EN10MB"));
	pcap_close(p);
}
END_TEST

START_TEST(live_fanout_group)
{
	char err[SN_CAPTURE_ERRLEN] = "";
	struct sn_live_options o = { .interface = "lo", .filter = "", .snaplen = 65535,
				     .fanout_group = 4242 };
	pcap_t *p = sn_capture_open_live(&o, err);
	if (!p) {
		ck_assert_msg(permission_denied(err), "got: %s", err);
		return;
	}
	/* a second socket joins the same group */
	pcap_t *q = sn_capture_open_live(&o, err);
	ck_assert_msg(q != NULL, "%s", err);
	pcap_close(q);
	pcap_close(p);
}
END_TEST

START_TEST(live_fanout_out_of_range)
{
	char err[SN_CAPTURE_ERRLEN] = "";
	struct sn_live_options o = { .interface = "lo", .filter = "", .snaplen = 65535,
				     .fanout_group = 70000 };
	ck_assert_ptr_null(sn_capture_open_live(&o, err));
	if (permission_denied(err))
		return;
	ck_assert_str_eq(err, "fanout group 70000 is out of range 1-65535");
}
END_TEST

/* The configured opener applies the configuration's filter to the interface. */
START_TEST(interface_from_config)
{
	char err[SN_CAPTURE_ERRLEN] = "";
	static struct sn_config cfg;
	sn_config_defaults(&cfg);
	ck_assert_ptr_null(sn_capture_open_interface(&cfg, "nosuch0", 0, err));
	ck_assert_str_eq(err, "no such interface 'nosuch0': list interfaces with 'ip link'");
	snprintf(cfg.capture.filter, sizeof cfg.capture.filter, "tcp port");
	ck_assert_ptr_null(sn_capture_open_interface(&cfg, "lo", 0, err));
	if (permission_denied(err))
		return;
	const char *want = "bad capture filter 'tcp port': ";
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "got: %s", err);
	cfg.capture.filter[0] = '\0';
	pcap_t *p = sn_capture_open_interface(&cfg, "lo", 0, err);
	ck_assert_msg(p != NULL, "%s", err);
	ck_assert_int_eq(pcap_datalink(p), DLT_EN10MB);
	pcap_close(p);
}
END_TEST

Suite *capture_suite(void)
{
	Suite *s = suite_create("capture");
	TCase *f = tcase_create("file");
	tcase_add_test(f, missing_file);
	tcase_add_test(f, directory_not_file);
	tcase_add_test(f, text_file_not_a_capture);
	tcase_add_test(f, empty_file_not_a_capture);
	tcase_add_test(f, gzip_capture_reads_like_plain);
	tcase_add_test(f, project_capture_opens);
	tcase_add_test(f, unsupported_link_type);
	tcase_add_test(f, pcapng_nanoseconds_read_as_micro);
	tcase_add_test(f, timestamps_out_of_range);
	tcase_add_test(f, stdin_capture);
	tcase_add_test(f, stdin_not_a_capture);
	tcase_add_test(f, buffered_file_reads_like_plain);
	tcase_add_test(f, buffered_file_errors_match);
	tcase_add_test(f, buffered_stdin_keeps_default_buffer);
	tcase_add_test(f, filter_check_without_capture);
	tcase_add_test(f, filter_on_offline_file);
	suite_add_tcase(s, f);
	TCase *l = tcase_create("live");
	tcase_add_test(l, live_no_such_interface);
	tcase_add_test(l, live_no_interface_name);
	tcase_add_test(l, live_loopback_opens_nonblocking);
	tcase_add_test(l, live_bad_filter);
	tcase_add_test(l, live_fanout_group);
	tcase_add_test(l, live_fanout_out_of_range);
	tcase_add_test(l, interface_from_config);
	suite_add_tcase(s, l);
	return s;
}
