/*
 * test_gzstream.c - sensor/gzstream.c: a gzip stream read through stdio
 * gives back the bytes that were compressed, across members, and reports
 * damage as a read error.  The compressed data is made here with zlib.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "gzstream.h"

Suite *gzstream_suite(void);

#define PLAIN_LEN 200000

/* gzip (one member) of len bytes into out; returns the compressed length. */
static size_t gzip_bytes(const unsigned char *in, size_t len, unsigned char *out, size_t cap)
{
	z_stream zs;
	memset(&zs, 0, sizeof zs);
	ck_assert_int_eq(deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
	zs.next_in = (Bytef *)(uintptr_t)in;
	zs.avail_in = (uInt)len;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	ck_assert_int_eq(deflate(&zs, Z_FINISH), Z_STREAM_END);
	size_t n = cap - zs.avail_out;
	deflateEnd(&zs);
	return n;
}

/* Pseudo-random but compressible bytes. */
static void fill(unsigned char *p, size_t n)
{
	uint32_t x = 12345;
	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		p[i] = (unsigned char)((x >> 16) % 16);
	}
}

/* Opens the compressed bytes as the sensor does: magic read, then wrapped. */
static FILE *open_gz(const unsigned char *gz, size_t n)
{
	FILE *mem = fmemopen((void *)(uintptr_t)gz, n, "rb");
	ck_assert_ptr_nonnull(mem);
	unsigned char head[2];
	ck_assert_uint_eq(fread(head, 1, 2, mem), 2);
	ck_assert_uint_eq(head[0], 0x1f);
	ck_assert_uint_eq(head[1], 0x8b);
	FILE *f = sn_gzstream_open(mem, true, head, 2);
	ck_assert_ptr_nonnull(f);
	return f;
}

START_TEST(round_trip)
{
	static unsigned char plain[PLAIN_LEN], gz[PLAIN_LEN], back[PLAIN_LEN + 10];
	fill(plain, sizeof plain);
	size_t n = gzip_bytes(plain, sizeof plain, gz, sizeof gz);
	ck_assert_uint_lt(n, sizeof plain);
	FILE *f = open_gz(gz, n);
	/* odd-sized reads cross the 64 KiB input blocks */
	size_t got = 0, r;
	while ((r = fread(back + got, 1, 777, f)) > 0)
		got += r;
	ck_assert(!ferror(f));
	ck_assert_uint_eq(got, sizeof plain);
	ck_assert_int_eq(memcmp(back, plain, sizeof plain), 0);
	ck_assert_int_eq(fclose(f), 0);
}
END_TEST

/* cat a.gz b.gz reads as a then b, as gzip -d does. */
START_TEST(two_members)
{
	static unsigned char gz[4096];
	unsigned char back[64];
	size_t n1 = gzip_bytes((const unsigned char *)"first,", 6, gz, sizeof gz);
	size_t n2 = gzip_bytes((const unsigned char *)"second", 6, gz + n1, sizeof gz - n1);
	FILE *f = open_gz(gz, n1 + n2);
	size_t got = fread(back, 1, sizeof back, f);
	ck_assert_uint_eq(got, 12);
	ck_assert_int_eq(memcmp(back, "first,second", 12), 0);
	fclose(f);
}
END_TEST

/* Cut off: the bytes inflated so far, then the end. */
START_TEST(cut_off_ends_early)
{
	static unsigned char plain[PLAIN_LEN], gz[PLAIN_LEN], back[PLAIN_LEN];
	fill(plain, sizeof plain);
	size_t n = gzip_bytes(plain, sizeof plain, gz, sizeof gz);
	FILE *f = open_gz(gz, n / 2);
	size_t got = fread(back, 1, sizeof back, f);
	ck_assert(!ferror(f));
	ck_assert_uint_gt(got, 0);
	ck_assert_uint_lt(got, sizeof plain);
	ck_assert_int_eq(memcmp(back, plain, got), 0);
	fclose(f);
}
END_TEST

/* A damaged stream is a read error (EIO), not an early end. */
START_TEST(damage_is_an_error)
{
	static unsigned char gz[4096];
	unsigned char back[64];
	size_t n = gzip_bytes((const unsigned char *)"some text to compress", 21, gz, sizeof gz);
	memset(gz + 10, 0xff, 6); /* the deflate data right after the header */
	FILE *f = open_gz(gz, n);
	errno = 0;
	size_t got = fread(back, 1, sizeof back, f);
	ck_assert_uint_eq(got, 0);
	ck_assert(ferror(f));
	ck_assert_int_eq(errno, EIO);
	fclose(f);
}
END_TEST

Suite *gzstream_suite(void)
{
	Suite *s = suite_create("gzstream");
	TCase *t = tcase_create("gzstream");
	tcase_add_test(t, round_trip);
	tcase_add_test(t, two_members);
	tcase_add_test(t, cut_off_ends_early);
	tcase_add_test(t, damage_is_an_error);
	suite_add_tcase(s, t);
	return s;
}
