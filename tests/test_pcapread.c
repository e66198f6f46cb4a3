/*
 * test_pcapread.c - sensor/pcapread.c: classic pcap records read from a
 * block give exactly what libpcap's pcap_next_ex gives (times, lengths,
 * bytes, the snapshot cut, both byte orders, nanosecond files), records
 * across block boundaries, a packet's bytes kept in place while the reader
 * says so, and libpcap's own error for a file cut off mid-record.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"
#include "pcapread.h"
#include "testutil.h"

Suite *pcapread_suite(void);

static char tmp_dir[256];

static const char *tmp_path(const char *name)
{
	static char path[512];
	const char *base = getenv("TMPDIR");
	if (!tmp_dir[0]) {
		snprintf(tmp_dir, sizeof tmp_dir, "%s/sn-pcapread-XXXXXX",
			 base && *base ? base : "/tmp");
		ck_assert_ptr_nonnull(mkdtemp(tmp_dir));
	}
	snprintf(path, sizeof path, "%s/%s", tmp_dir, name);
	return path;
}

static void put32(FILE *f, uint32_t v, bool big)
{
	uint8_t b[4];
	for (int i = 0; i < 4; i++)
		b[i] = (uint8_t)(big ? v >> (24 - 8 * i) : v >> (8 * i));
	ck_assert_uint_eq(fwrite(b, 1, 4, f), 4);
}

static void put16(FILE *f, uint16_t v, bool big)
{
	uint8_t b[2] = { (uint8_t)(big ? v >> 8 : v), (uint8_t)(big ? v : v >> 8) };
	ck_assert_uint_eq(fwrite(b, 1, 2, f), 2);
}

/*
 * A file of n Ethernet-link records of `size` bytes each (the i-th filled
 * with byte i), times i seconds + i*1001 units of the fraction; snaplen
 * in the header; `cut` bytes missing from the end.
 */
static const char *write_capture(const char *name, bool big, bool nsec, uint32_t snaplen,
				 unsigned n, uint32_t size, long cut)
{
	const char *path = tmp_path(name);
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	put32(f, nsec ? 0xa1b23c4du : 0xa1b2c3d4u, big);
	put16(f, 2, big);
	put16(f, 4, big);
	put32(f, 0, big);
	put32(f, 0, big);
	put32(f, snaplen, big);
	put32(f, 1, big);
	uint8_t *frame = malloc(size);
	ck_assert_ptr_nonnull(frame);
	for (unsigned i = 0; i < n; i++) {
		put32(f, 1700000000u + i, big);
		put32(f, (i * 1001u) % (nsec ? 1000000000u : 1000000u), big);
		put32(f, size, big);
		put32(f, size + 4, big);
		memset(frame, (int)(i & 0xff), size);
		ck_assert_uint_eq(fwrite(frame, 1, size, f), size);
	}
	free(frame);
	long end = ftell(f);
	ck_assert_int_eq(fclose(f), 0);
	if (cut)
		ck_assert_int_eq(truncate(path, end - cut), 0);
	return path;
}

/*
 * Reads path with the record reader and with plain libpcap side by side:
 * every packet the same, and the same end (0 / error).  Returns packets.
 * in_block: as replay reads, sn_pcapread_next_in_block() first and
 * sn_pcapread_next() only when it declines.
 */
static unsigned compare_reading(const char *path, bool in_block)
{
	char err[SN_CAPTURE_ERRLEN] = "";
	struct sn_capture_file cf;
	ck_assert_msg(sn_capture_file_open(&cf, path, err) == 0, "%s", err);
	ck_assert_msg(cf.classic, "%s read as a classic pcap file", path);
	pcap_t *plain = sn_capture_open_file(path, err);
	ck_assert_msg(plain != NULL, "%s", err);
	struct pcap_pkthdr h, *h2;
	const uint8_t *d;
	const u_char *d2;
	unsigned n = 0;
	int rc, rc2;
	unsigned declined = 0;
	for (;;) {
		if (in_block && sn_pcapread_next_in_block(&cf.records, &h, &d)) {
			rc = 1;
		} else {
			declined++;
			if ((rc = sn_pcapread_next(&cf.records, &h, &d)) != 1)
				break;
		}
		ck_assert_int_eq(pcap_next_ex(plain, &h2, &d2), 1);
		ck_assert_int_eq(h.ts.tv_sec, h2->ts.tv_sec);
		ck_assert_int_eq(h.ts.tv_usec, h2->ts.tv_usec);
		ck_assert_uint_eq(h.caplen, h2->caplen);
		ck_assert_uint_eq(h.len, h2->len);
		ck_assert_mem_eq(d, d2, h.caplen);
		ck_assert_uint_lt(++n, 1000000);
	}
	rc2 = pcap_next_ex(plain, &h2, &d2);
	if (rc == 0) {
		ck_assert_int_eq(rc2, PCAP_ERROR_BREAK);
	} else {
		ck_assert_int_eq(rc, -1);
		ck_assert_int_eq(rc2, PCAP_ERROR);
		ck_assert_str_eq(cf.records.err, pcap_geterr(plain));
	}
	pcap_close(plain);
	sn_capture_file_close(&cf);
	if (in_block) /* the first record, each refill, the end: not every packet */
		ck_assert_uint_le(declined, 2 + n / 100);
	return n;
}

static unsigned compare_with_libpcap(const char *path)
{
	unsigned n = compare_reading(path, false);
	ck_assert_uint_eq(compare_reading(path, true), n);
	return n;
}

START_TEST(shared_captures_read_as_libpcap_reads_them)
{
	static const char *names[] = { "mqtt-paho-v311-1883.pcap", "amqp091-pika-userpass-5672.pcap",
				       "xmpp-slixmpp-login-plaintext-5222.pcap", "demo.pcap" };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		ck_assert_uint_gt(compare_with_libpcap(sn_test_pcap_path(names[i])), 5);
}
END_TEST

START_TEST(byte_orders_nanoseconds_and_snapshot_cut)
{
	for (int big = 0; big < 2; big++)
		for (int nsec = 0; nsec < 2; nsec++) {
			char name[64];
			snprintf(name, sizeof name, "order%d-nsec%d.pcap", big, nsec);
			/* 3000 records of 700 bytes: two block boundaries inside records */
			ck_assert_uint_eq(compare_with_libpcap(write_capture(name, big, nsec, 65535,
									     3000, 700, 0)),
					  3000);
		}
	/* records longer than the header's snapshot length come cut to it */
	ck_assert_uint_eq(compare_with_libpcap(write_capture("snap.pcap", false, false, 100, 50,
							     300, 0)),
			  50);
}
END_TEST

START_TEST(cut_off_files_fail_as_libpcap_does)
{
	/* mid-data and mid-header, in the first block and after a refill */
	ck_assert_uint_eq(compare_with_libpcap(write_capture("cut-data.pcap", false, false, 65535,
							     10, 200, 50)),
			  9);
	ck_assert_uint_eq(compare_with_libpcap(write_capture("cut-head.pcap", false, false, 65535,
							     10, 200, 200 + 10)),
			  9);
	ck_assert_uint_eq(compare_with_libpcap(write_capture("cut-late.pcap", true, false, 65535,
							     4000, 600, 7)),
			  3999);
}
END_TEST

START_TEST(bytes_stay_in_place_while_buffered)
{
	char err[SN_CAPTURE_ERRLEN] = "";
	struct sn_capture_file cf;
	const char *path = write_capture("inplace.pcap", false, false, 65535, 5000, 500, 0);
	ck_assert_msg(sn_capture_file_open(&cf, path, err) == 0, "%s", err);
	ck_assert(cf.classic);
	struct pcap_pkthdr h;
	const uint8_t *d, *prev[8] = { 0 };
	unsigned n = 0, moves = 0;
	for (;;) {
		if (!sn_pcapread_buffered(&cf.records)) {
			moves++;
			memset(prev, 0, sizeof prev); /* the caller lets go of them here */
		}
		if (sn_pcapread_next(&cf.records, &h, &d) != 1)
			break;
		/* every packet still held shows its own fill byte */
		for (unsigned k = 0; k < 8; k++)
			if (prev[k])
				ck_assert_uint_eq(prev[k][499], (n - 8 + k) & 0xff);
		memmove(prev, prev + 1, 7 * sizeof prev[0]);
		prev[7] = d;
		n++;
	}
	ck_assert_uint_eq(n, 5000);
	/* 5000 records of 516 bytes: about 2.5 MB, three blocks */
	ck_assert_uint_ge(moves, 3);
	ck_assert_uint_le(moves, 5);
	sn_capture_file_close(&cf);
}
END_TEST

START_TEST(other_formats_left_to_libpcap)
{
	struct sn_pcapread r;
	uint8_t hdr[SN_PCAPREAD_HEADER] = { 0x0a, 0x0d, 0x0d, 0x0a }; /* pcapng */
	ck_assert(!sn_pcapread_header(&r, hdr, sizeof hdr));
	const uint8_t old[SN_PCAPREAD_HEADER] = { 0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 3, 0 };
	ck_assert(!sn_pcapread_header(&r, old, sizeof old)); /* 2.3: lengths may be swapped */
	const uint8_t ok[SN_PCAPREAD_HEADER] = { 0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0 };
	ck_assert(sn_pcapread_header(&r, ok, sizeof ok));
	ck_assert_uint_eq(r.snaplen, SN_PCAPREAD_MAX_CAPLEN); /* 0 in the header */
	ck_assert(!sn_pcapread_header(&r, ok, sizeof ok - 1));
	/* standard input is never read this way */
	char err[SN_CAPTURE_ERRLEN] = "";
	struct sn_capture_file cf;
	char gz[600];
	snprintf(gz, sizeof gz, "%s", tmp_path("x.pcap.gz"));
	char cmd[1400];
	snprintf(cmd, sizeof cmd, "gzip -c '%s' > '%s'", sn_test_pcap_path("mqtt-paho-v311-1883.pcap"),
		 gz);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_msg(sn_capture_file_open(&cf, gz, err) == 0, "%s", err);
	ck_assert(!cf.classic);
	sn_capture_file_close(&cf);
}
END_TEST

Suite *pcapread_suite(void)
{
	Suite *s = suite_create("pcapread");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, shared_captures_read_as_libpcap_reads_them);
	tcase_add_test(tc, byte_orders_nanoseconds_and_snapshot_cut);
	tcase_add_test(tc, cut_off_files_fail_as_libpcap_does);
	tcase_add_test(tc, bytes_stay_in_place_while_buffered);
	tcase_add_test(tc, other_formats_left_to_libpcap);
	suite_add_tcase(s, tc);
	return s;
}
