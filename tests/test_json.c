/*
 * test_json.c - the JSON builder (sensor/json.c): structure, escaping,
 * UTF-8 repair for every class of ill-formed input, numbers, time, overflow.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "json.h"

/* Formats one string value on its own and returns the text. */
static const char *str_json(const char *s, size_t n)
{
	static char buf[512];
	struct sn_json j;

	sn_json_init(&j, buf, sizeof(buf));
	sn_json_string_n(&j, s, n);
	ck_assert(!j.overflow);
	return buf;
}

START_TEST(test_object_and_array_commas)
{
	char buf[256];
	struct sn_json j;

	sn_json_init(&j, buf, sizeof(buf));
	sn_json_object_begin(&j);
	sn_json_key(&j, "a");
	sn_json_uint(&j, 1);
	sn_json_key(&j, "b");
	sn_json_array_begin(&j);
	sn_json_string(&j, "x");
	sn_json_int(&j, -2);
	sn_json_bool(&j, true);
	sn_json_null(&j);
	sn_json_array_end(&j);
	sn_json_key(&j, "c");
	sn_json_object_begin(&j);
	sn_json_object_end(&j);
	sn_json_key(&j, "d");
	sn_json_array_begin(&j);
	sn_json_array_end(&j);
	sn_json_key(&j, "e");
	sn_json_bool(&j, false);
	sn_json_object_end(&j);
	size_t n = sn_json_finish_line(&j);
	ck_assert_str_eq(buf, "{\"a\":1,\"b\":[\"x\",-2,true,null],\"c\":{},\"d\":[],\"e\":false}\n");
	ck_assert_uint_eq(n, strlen(buf));
}
END_TEST

START_TEST(test_numbers_extremes)
{
	char buf[128];
	struct sn_json j;

	sn_json_init(&j, buf, sizeof(buf));
	sn_json_array_begin(&j);
	sn_json_uint(&j, UINT64_MAX);
	sn_json_int(&j, INT64_MIN);
	sn_json_uint(&j, 0);
	sn_json_array_end(&j);
	ck_assert_str_eq(buf, "[18446744073709551615,-9223372036854775808,0]");
}
END_TEST

/*
 * Numbers and times are formatted without printf; every power of ten and
 * its neighbours, and seconds across the whole range a uint32 reaches, give
 * what printf gives.
 */
START_TEST(test_numbers_and_times_as_printf)
{
	char buf[128], want[128];
	struct sn_json j;
	uint64_t p = 1;

	for (int k = 0; k < 20; k++, p *= 10) {
		uint64_t vals[] = { p - 1, p, p + 1, p * 7 + 3 };
		for (size_t v = 0; v < sizeof vals / sizeof vals[0]; v++) {
			sn_json_init(&j, buf, sizeof(buf));
			sn_json_array_begin(&j);
			sn_json_uint(&j, vals[v]);
			sn_json_int(&j, -(int64_t)(vals[v] >> 1));
			sn_json_int(&j, (int64_t)(vals[v] >> 1));
			sn_json_milli(&j, vals[v]);
			sn_json_array_end(&j);
			snprintf(want, sizeof(want), "[%llu,%lld,%lld,%llu.%03u]",
				 (unsigned long long)vals[v], -(long long)(vals[v] >> 1),
				 (long long)(vals[v] >> 1), (unsigned long long)(vals[v] / 1000),
				 (unsigned)(vals[v] % 1000));
			ck_assert_str_eq(buf, want);
		}
	}
	for (uint64_t secs = 0; secs <= 0xFFFFFFFFull; secs += 0xFFFFFFFFull / 997) {
		uint64_t us = secs * 1000000ull + (secs * 7919u) % 1000000u;
		char out[32];
		time_t t = (time_t)secs;
		struct tm tm;
		ck_assert_ptr_nonnull(gmtime_r(&t, &tm));
		snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			 tm.tm_sec, (unsigned)(us % 1000000u));
		sn_format_time(us, out);
		ck_assert_str_eq(out, want);
	}
	char out[32];
	sn_format_time(0xFFFFFFFFull * 1000000ull + 999999u, out); /* the last time carried */
	ck_assert_str_eq(out, "2106-02-07T06:28:15.999999Z");
}
END_TEST

/* Plain runs go out whole; the escapes between and around them are kept. */
START_TEST(test_runs_between_escapes)
{
	ck_assert_str_eq(str_json("\"ab\\cd\"", 7), "\"\\\"ab\\\\cd\\\"\"");
	ck_assert_str_eq(str_json("a\x01" "bc\x7f" "d\xc3\xa9" "ef", 10),
			 "\"a\\u0001bc\\u007fd\xc3\xa9" "ef\"");
	ck_assert_str_eq(str_json(" ~", 2), "\" ~\"");
	ck_assert_str_eq(str_json("", 0), "\"\"");
}
END_TEST

START_TEST(test_escape_quote_backslash_controls)
{
	/* "a\"b\\c" then TAB, LF, CR, NUL, 0x1f, DEL (0x7f); '/' passes as it is */
	static const char in[] = "a\"b\\c\t\n\r\0\x1f\x7f/";
	ck_assert_str_eq(str_json(in, sizeof(in) - 1),
			 "\"a\\\"b\\\\c\\u0009\\u000a\\u000d\\u0000\\u001f\\u007f/\"");
}
END_TEST

/*
 * C1 controls (U+0080-U+009F) and the Unicode line and paragraph separators
 * are valid JSON raw but end lines in log viewers and JavaScript: escaped.
 */
START_TEST(test_c1_and_line_separators_escaped)
{
	/* U+0080, U+009B (CSI), U+009F, U+2028, U+2029, then U+00A0 and U+202F pass */
	static const char in[] = "\xC2\x80\xC2\x9B\xC2\x9F\xE2\x80\xA8\xE2\x80\xA9\xC2\xA0\xE2\x80\xAF";
	ck_assert_str_eq(str_json(in, sizeof(in) - 1),
			 "\"\\u0080\\u009b\\u009f\\u2028\\u2029\xC2\xA0\xE2\x80\xAF\"");
}
END_TEST

/* Invisible format characters too: bidi override, zero-width space, BOM, a tag (pair). */
START_TEST(test_invisible_format_characters_escaped)
{
	static const char in[] = "a\xE2\x80\xAE" "b\xE2\x80\x8B\xEF\xBB\xBF\xF3\xA0\x80\x81" "c";
	ck_assert_str_eq(str_json(in, sizeof(in) - 1), "\"a\\u202eb\\u200b\\ufeff\\udb40\\udc01c\"");
}
END_TEST

START_TEST(test_valid_utf8_passes)
{
	/* é (2 bytes), € (3), U+D7FF, U+E000, 😀 (4), U+10FFFD */
	static const char in[] = "\xC3\xA9\xE2\x82\xAC\xED\x9F\xBF\xEE\x80\x80\xF0\x9F\x98\x80"
				 "\xF4\x8F\xBF\xBD";
	char want[64];
	snprintf(want, sizeof(want), "\"%s\"", in);
	ck_assert_str_eq(str_json(in, sizeof(in) - 1), want);
	/* the noncharacter U+10FFFF (valid, but never text) is escaped as a pair */
	ck_assert_str_eq(str_json("\xF4\x8F\xBF\xBF", 4), "\"\\udbff\\udfff\"");
}
END_TEST

#define FFFD "\xEF\xBF\xBD"

START_TEST(test_lone_continuation_and_bad_leads)
{
	ck_assert_str_eq(str_json("a\x80z", 3), "\"a" FFFD "z\"");
	ck_assert_str_eq(str_json("\xBF\xBF", 2), "\"" FFFD FFFD "\"");
	ck_assert_str_eq(str_json("\xC0\xAF", 2), "\"" FFFD FFFD "\"");   /* C0: overlong '/' */
	ck_assert_str_eq(str_json("\xC1\xBF", 2), "\"" FFFD FFFD "\"");
	ck_assert_str_eq(str_json("\xF5\x80\x80\x80", 4), "\"" FFFD FFFD FFFD FFFD "\"");
	ck_assert_str_eq(str_json("\xFF\xFE", 2), "\"" FFFD FFFD "\"");
}
END_TEST

START_TEST(test_overlong_forms)
{
	/* E0 80..9F: overlong 3-byte; F0 80..8F: overlong 4-byte */
	ck_assert_str_eq(str_json("\xE0\x80\xAF", 3), "\"" FFFD FFFD FFFD "\"");
	ck_assert_str_eq(str_json("\xE0\x9F\xBF", 3), "\"" FFFD FFFD FFFD "\"");
	ck_assert_str_eq(str_json("\xF0\x8F\xBF\xBF", 4), "\"" FFFD FFFD FFFD FFFD "\"");
	/* the smallest non-overlong forms are fine */
	ck_assert_str_eq(str_json("\xE0\xA0\x80", 3), "\"\xE0\xA0\x80\"");
	ck_assert_str_eq(str_json("\xF0\x90\x80\x80", 4), "\"\xF0\x90\x80\x80\"");
}
END_TEST

START_TEST(test_surrogates)
{
	/* U+D800 and U+DFFF encoded directly (CESU style) */
	ck_assert_str_eq(str_json("\xED\xA0\x80", 3), "\"" FFFD FFFD FFFD "\"");
	ck_assert_str_eq(str_json("\xED\xBF\xBF", 3), "\"" FFFD FFFD FFFD "\"");
}
END_TEST

START_TEST(test_above_max_code_point)
{
	/* U+110000 */
	ck_assert_str_eq(str_json("\xF4\x90\x80\x80", 4), "\"" FFFD FFFD FFFD FFFD "\"");
}
END_TEST

START_TEST(test_truncated_sequences)
{
	/* a maximal subpart becomes one U+FFFD */
	ck_assert_str_eq(str_json("\xE2\x82", 2), "\"" FFFD "\"");
	ck_assert_str_eq(str_json("\xE2\x82z", 3), "\"" FFFD "z\"");
	ck_assert_str_eq(str_json("\xF0\x9F\x98", 3), "\"" FFFD "\"");
	ck_assert_str_eq(str_json("\xF0\x9F\x98\x41", 4), "\"" FFFD "A\"");
	ck_assert_str_eq(str_json("\xC3", 1), "\"" FFFD "\"");
	ck_assert_str_eq(str_json("\xC3\"", 2), "\"" FFFD "\\\"\"");
}
END_TEST

START_TEST(test_string_n_stops_at_n)
{
	ck_assert_str_eq(str_json("abcdef", 3), "\"abc\"");
	ck_assert_str_eq(str_json("", 0), "\"\"");
	/* a multi-byte sequence cut by n is repaired, not read past n */
	ck_assert_str_eq(str_json("\xC3\xA9", 1), "\"" FFFD "\"");
}
END_TEST

START_TEST(test_time_format)
{
	char out[32];

	sn_format_time(0, out);
	ck_assert_str_eq(out, "1970-01-01T00:00:00.000000Z");
	sn_format_time(1795827723123456ull, out); /* 2026-11-28T01:02:03.123456Z */
	ck_assert_str_eq(out, "2026-11-28T01:02:03.123456Z");
	sn_format_time(951782400000001ull, out);  /* leap day 2000 */
	ck_assert_str_eq(out, "2000-02-29T00:00:00.000001Z");

	char buf[64];
	struct sn_json j;
	sn_json_init(&j, buf, sizeof(buf));
	sn_json_time(&j, 1795827723123456ull);
	ck_assert_str_eq(buf, "\"2026-11-28T01:02:03.123456Z\"");
}
END_TEST

/* sn_format_time's text as gmtime_r gives it, for the checks below. */
static void time_by_gmtime(uint64_t us, char *out, size_t cap)
{
	time_t secs = (time_t)(us / 1000000u);
	struct tm tm;

	ck_assert_ptr_nonnull(gmtime_r(&secs, &tm));
	snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(us % 1000000u));
}

/* Every second of [from, to) forwards, then backwards, then in strides, against gmtime_r. */
static void walk_seconds(uint64_t from, uint64_t to)
{
	char out[32], want[64];

	for (uint64_t t = from; t < to; t++) {
		sn_format_time(t * 1000000u + 17, out);
		time_by_gmtime(t * 1000000u + 17, want, sizeof want);
		ck_assert_str_eq(out, want);
	}
	for (uint64_t t = to; t-- > from;) {
		sn_format_time(t * 1000000u, out);
		time_by_gmtime(t * 1000000u, want, sizeof want);
		ck_assert_str_eq(out, want);
	}
	for (uint64_t t = from; t < to; t += 7) {
		uint64_t u = to - 1 - (t - from) * 3 % (to - from);
		sn_format_time(u * 1000000u, out);
		time_by_gmtime(u * 1000000u, want, sizeof want);
		ck_assert_str_eq(out, want);
	}
}

/*
 * The time text remembers its last minute: seconds across minute, hour, day
 * and year ends, in any order, come out as gmtime_r says; so they do under
 * a zone that counts leap seconds (right/UTC, when installed), where the
 * 2016-12-31 23:59:60 second is one of them.
 */
START_TEST(test_time_minutes_as_gmtime)
{
	walk_seconds(946684800u - 200, 946684800u + 200); /* 2000-01-01 */
	walk_seconds(1795827723u - 3700, 1795827723u + 100);

	const char *old = getenv("TZ");
	char saved[256] = "";
	if (old)
		snprintf(saved, sizeof saved, "%s", old);
	if (access("/usr/share/zoneinfo/right/UTC", R_OK) == 0) {
		setenv("TZ", "right/UTC", 1);
		tzset();
		walk_seconds(1483228800u + 26 - 200, 1483228800u + 26 + 200);
	}
	if (old)
		setenv("TZ", saved, 1);
	else
		unsetenv("TZ");
	tzset();
}
END_TEST

START_TEST(test_overflow_never_writes_past_cap)
{
	char buf[32];
	struct sn_json j;

	memset(buf, 'Z', sizeof(buf));
	sn_json_init(&j, buf, 16);
	sn_json_object_begin(&j);
	sn_json_key(&j, "key");
	sn_json_string(&j, "a long value that does not fit");
	ck_assert(j.overflow);
	sn_json_object_end(&j);
	ck_assert_uint_eq(sn_json_finish_line(&j), 0);
	ck_assert_uint_lt(j.len, 16);
	for (size_t i = 16; i < sizeof(buf); i++)
		ck_assert_int_eq(buf[i], 'Z');
}
END_TEST

/*
 * A key and a plain value go out in one write when they fit; when they do not,
 * the builder must stop where the writes one piece at a time would have: after
 * the last piece (quote, text, quote, colon) that fit whole.
 */
START_TEST(test_plain_overflow_stops_at_same_piece)
{
	static const char *const pieces[] = { "{", "\"", "key", "\"", ":", "\"", "value", "\"" };
	char buf[40];

	for (size_t cap = 1; cap < sizeof buf; cap++) {
		char want[40] = "";
		size_t used = 0;
		bool over = false;
		for (size_t p = 0; p < sizeof pieces / sizeof pieces[0] && !over; p++) {
			size_t n = strlen(pieces[p]);
			if (n >= cap - used)
				over = true;
			else {
				memcpy(want + used, pieces[p], n);
				used += n;
				want[used] = '\0';
			}
		}
		struct sn_json j;
		memset(buf, 'Z', sizeof buf);
		sn_json_init(&j, buf, cap);
		sn_json_object_begin(&j);
		sn_json_key(&j, "key");
		sn_json_string(&j, "value");
		ck_assert_int_eq(j.overflow, over);
		ck_assert_uint_eq(j.len, used);
		ck_assert_str_eq(buf, want);
		for (size_t i = cap; i < sizeof buf; i++)
			ck_assert_int_eq(buf[i], 'Z');
	}
}
END_TEST

/* A key is a string like any other: one that needs escapes gets them. */
START_TEST(test_key_escaped)
{
	char buf[64];
	struct sn_json j;

	sn_json_init(&j, buf, sizeof buf);
	sn_json_object_begin(&j);
	sn_json_key(&j, "a\"b\\c\x01\xC3\xA9");
	sn_json_uint(&j, 1);
	sn_json_key(&j, "");
	sn_json_string(&j, "");
	sn_json_object_end(&j);
	ck_assert_str_eq(buf, "{\"a\\\"b\\\\c\\u0001\xC3\xA9\":1,\"\":\"\"}");
}
END_TEST

START_TEST(test_exact_fit)
{
	char buf[4];
	struct sn_json j;

	/* "[]\n" is 3 bytes: fits with its NUL in 4 */
	sn_json_init(&j, buf, sizeof(buf));
	sn_json_array_begin(&j);
	sn_json_array_end(&j);
	ck_assert_uint_eq(sn_json_finish_line(&j), 3);
	ck_assert_str_eq(buf, "[]\n");

	/* one more byte does not */
	sn_json_init(&j, buf, 3);
	sn_json_array_begin(&j);
	sn_json_array_end(&j);
	ck_assert_uint_eq(sn_json_finish_line(&j), 0);
	ck_assert(j.overflow);
}
END_TEST

START_TEST(test_overflow_inside_replacement)
{
	char buf[4];
	struct sn_json j;

	/* '"' plus U+FFFD (3 bytes) does not fit in 3 usable bytes */
	sn_json_init(&j, buf, sizeof(buf));
	sn_json_string_n(&j, "\xFF", 1);
	ck_assert(j.overflow);
	ck_assert_uint_le(j.len, 3);
}
END_TEST

START_TEST(test_zero_cap)
{
	struct sn_json j;

	sn_json_init(&j, NULL, 0);
	sn_json_null(&j);
	ck_assert(j.overflow);
	ck_assert_uint_eq(sn_json_finish_line(&j), 0);
}
END_TEST

START_TEST(test_every_byte_gives_valid_text)
{
	/* all 256 single bytes: never more than 6 output bytes each, no raw control */
	for (unsigned b = 0; b < 256; b++) {
		char in = (char)b;
		const char *out = str_json(&in, 1);
		size_t n = strlen(out);
		ck_assert_uint_ge(n, 3);
		ck_assert_uint_le(n, 8);
		for (size_t i = 0; i < n; i++)
			ck_assert_uint_ge((unsigned char)out[i], 0x20);
	}
}
END_TEST

Suite *json_suite(void);

Suite *json_suite(void)
{
	Suite *s = suite_create("json");
	TCase *t = tcase_create("builder");

	tcase_add_test(t, test_object_and_array_commas);
	tcase_add_test(t, test_plain_overflow_stops_at_same_piece);
	tcase_add_test(t, test_key_escaped);
	tcase_add_test(t, test_numbers_extremes);
	tcase_add_test(t, test_time_format);
	tcase_add_test(t, test_time_minutes_as_gmtime);
	tcase_add_test(t, test_numbers_and_times_as_printf);
	suite_add_tcase(s, t);

	t = tcase_create("strings");
	tcase_add_test(t, test_escape_quote_backslash_controls);
	tcase_add_test(t, test_runs_between_escapes);
	tcase_add_test(t, test_c1_and_line_separators_escaped);
	tcase_add_test(t, test_invisible_format_characters_escaped);
	tcase_add_test(t, test_valid_utf8_passes);
	tcase_add_test(t, test_lone_continuation_and_bad_leads);
	tcase_add_test(t, test_overlong_forms);
	tcase_add_test(t, test_surrogates);
	tcase_add_test(t, test_above_max_code_point);
	tcase_add_test(t, test_truncated_sequences);
	tcase_add_test(t, test_string_n_stops_at_n);
	tcase_add_test(t, test_every_byte_gives_valid_text);
	suite_add_tcase(s, t);

	t = tcase_create("overflow");
	tcase_add_test(t, test_overflow_never_writes_past_cap);
	tcase_add_test(t, test_exact_fit);
	tcase_add_test(t, test_overflow_inside_replacement);
	tcase_add_test(t, test_zero_cap);
	suite_add_tcase(s, t);
	return s;
}
