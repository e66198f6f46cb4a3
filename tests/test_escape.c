/*
 * test_escape.c - terminal-safe text (sensor/escape.c): every control and
 * invisible character spelled out, invalid UTF-8 as \xNN, printable text
 * (ASCII, accents, CJK) kept with its display width, truncation on whole
 * characters, and every single byte giving printable output.
 */
#include <check.h>
#include <string.h>

#include "escape.h"

static const char *esc(const char *s, size_t n, size_t *width)
{
	static char out[512];
	sn_escape_text(s, n, out, sizeof out, width);
	return out;
}

START_TEST(terminal_sequences_spelled_out)
{
	/* ESC [2J (clear screen), OSC 52 (clipboard) ending in BEL, CR LF */
	static const char in[] = "a\x1b[2J\x1b]52;c;aGk=\x07\r\nb";
	size_t w;
	ck_assert_str_eq(esc(in, sizeof in - 1, &w), "a\\x1b[2J\\x1b]52;c;aGk=\\x07\\x0d\\x0ab");
	ck_assert_uint_eq(w, strlen("a\\x1b[2J\\x1b]52;c;aGk=\\x07\\x0d\\x0ab"));
}
END_TEST

START_TEST(c1_del_separators_and_format_characters)
{
	/* DEL, U+009B (CSI), U+0085 (NEL), U+2028, U+2029, U+202E (RLO), U+200B, U+FEFF */
	static const char in[] = "\x7f\xC2\x9B\xC2\x85\xE2\x80\xA8\xE2\x80\xA9\xE2\x80\xAE"
				 "\xE2\x80\x8B\xEF\xBB\xBF";
	ck_assert_str_eq(esc(in, sizeof in - 1, NULL),
			 "\\x7f\\u009b\\u0085\\u2028\\u2029\\u202e\\u200b\\ufeff");
	/* a tag character (plane 14) and a noncharacter */
	ck_assert_str_eq(esc("\xF3\xA0\x80\x81\xEF\xBF\xBE", 7, NULL), "\\U000e0001\\ufffe");
}
END_TEST

START_TEST(invalid_utf8_as_bytes)
{
	/* lone continuation, overlong '/', surrogate, truncated 3-byte sequence */
	ck_assert_str_eq(esc("\x80\xC0\xAF\xED\xA0\x80\xE2\x82", 8, NULL),
			 "\\x80\\xc0\\xaf\\xed\\xa0\\x80\\xe2\\x82");
}
END_TEST

START_TEST(backslash_doubled)
{
	ck_assert_str_eq(esc("dom\\user", 8, NULL), "dom\\\\user");
}
END_TEST

START_TEST(printable_kept_with_width)
{
	size_t w;
	/* "é" 1 column, "日本" 2 + 2, combining acute 0, "😀" 2, NBSP 1 */
	static const char in[] = "\xC3\xA9\xE6\x97\xA5\xE6\x9C\xAC" "e\xCC\x81\xF0\x9F\x98\x80\xC2\xA0";
	ck_assert_str_eq(esc(in, sizeof in - 1, &w), in);
	ck_assert_uint_eq(w, 1 + 2 + 2 + 1 + 0 + 2 + 1);
	ck_assert_int_eq(sn_escape_cp_width(0xAC00), 2);  /* Hangul */
	ck_assert_int_eq(sn_escape_cp_width(0xFF21), 2);  /* fullwidth A */
	ck_assert_int_eq(sn_escape_cp_width('a'), 1);
}
END_TEST

START_TEST(truncates_on_whole_characters)
{
	char out[6];
	size_t w;
	/* "ab" then ESC: "\x1b" needs 4 bytes, only 3 are left before the NUL */
	size_t n = sn_escape_text("ab\x1b", 3, out, sizeof out, &w);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(out, "ab");
	ck_assert_uint_eq(w, 2);
	n = sn_escape_text("\xE6\x97\xA5\xE6\x97\xA5", 6, out, sizeof out, &w);
	ck_assert_str_eq(out, "\xE6\x97\xA5"); /* the second character does not fit */
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(sn_escape_text("x", 1, out, 0, NULL), 0);
}
END_TEST

START_TEST(every_byte_printable)
{
	for (unsigned b = 0; b < 256; b++) {
		char in = (char)b;
		const char *out = esc(&in, 1, NULL);
		for (size_t i = 0; out[i]; i++) {
			unsigned char c = (unsigned char)out[i];
			ck_assert_msg(c >= 0x20 && c != 0x7f, "byte %02x gave %02x", b, c);
		}
	}
}
END_TEST

static const char *csv(const char *text)
{
	static char out[128];
	sn_csv_field(text, out, sizeof out);
	return out;
}

/* CSV fields: formulas guarded with a leading ', quoting as RFC 4180 says. */
START_TEST(csv_fields)
{
	ck_assert_str_eq(csv("alice"), "alice");
	ck_assert_str_eq(csv(""), "");
	ck_assert_str_eq(csv("=1+2"), "\"'=1+2\"");
	ck_assert_str_eq(csv("+cmd"), "\"'+cmd\"");
	ck_assert_str_eq(csv("-2"), "\"'-2\"");
	ck_assert_str_eq(csv("@SUM(A1)"), "\"'@SUM(A1)\"");
	ck_assert_str_eq(csv("a,b"), "\"a,b\"");
	ck_assert_str_eq(csv("say \"hi\""), "\"say \"\"hi\"\"\"");
	ck_assert_str_eq(csv(" x"), "\" x\"");
	ck_assert_str_eq(csv("a=b"), "a=b"); /* only the first character makes a formula */
	char tiny[8];
	ck_assert_uint_eq(sn_csv_field("abcd", tiny, sizeof tiny), 0); /* 2n + 3 > 7: written empty */
	ck_assert_str_eq(tiny, "");
}
END_TEST

Suite *escape_suite(void);

Suite *escape_suite(void)
{
	Suite *s = suite_create("escape");
	TCase *t = tcase_create("escape");
	tcase_add_test(t, terminal_sequences_spelled_out);
	tcase_add_test(t, c1_del_separators_and_format_characters);
	tcase_add_test(t, invalid_utf8_as_bytes);
	tcase_add_test(t, backslash_doubled);
	tcase_add_test(t, printable_kept_with_width);
	tcase_add_test(t, truncates_on_whole_characters);
	tcase_add_test(t, every_byte_printable);
	tcase_add_test(t, csv_fields);
	suite_add_tcase(s, t);
	return s;
}
