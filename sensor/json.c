/*
 * json.c - a JSON text builder over a caller's fixed buffer (RFC 8259).
 *
 * Owns escaping and UTF-8 repair: strings that came off the wire may hold any
 * bytes, so each string is decoded as UTF-8 (Unicode 15 table 3-7: no
 * overlong forms, no surrogates, nothing above U+10FFFF) and every maximal
 * ill-formed subpart becomes one U+FFFD, as Unicode §3.9 recommends.  The
 * builder never writes past `cap`: the first write that would not fit sets
 * `overflow` and every later call does nothing, so the caller can drop the
 * line whole.  One byte is kept for a terminating NUL, which makes the text
 * usable as a C string.
 */
#include "json.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

void sn_json_init(struct sn_json *j, char *buf, size_t cap)
{
	j->buf = buf;
	j->cap = cap;
	j->len = 0;
	j->overflow = cap == 0;
	j->need_comma = false;
	if (cap)
		buf[0] = '\0';
}

static void put(struct sn_json *j, const char *s, size_t n)
{
	if (j->overflow)
		return;
	if (n >= j->cap - j->len) {
		j->overflow = true;
		return;
	}
	memcpy(j->buf + j->len, s, n);
	j->len += n;
	j->buf[j->len] = '\0';
}

static void put_char(struct sn_json *j, char c)
{
	put(j, &c, 1);
}

/* A comma before a value or key that follows a sibling. */
static void separate(struct sn_json *j)
{
	if (j->need_comma)
		put_char(j, ',');
}

void sn_json_object_begin(struct sn_json *j)
{
	separate(j);
	put_char(j, '{');
	j->need_comma = false;
}

void sn_json_object_end(struct sn_json *j)
{
	put_char(j, '}');
	j->need_comma = true;
}

void sn_json_array_begin(struct sn_json *j)
{
	separate(j);
	put_char(j, '[');
	j->need_comma = false;
}

void sn_json_array_end(struct sn_json *j)
{
	put_char(j, ']');
	j->need_comma = true;
}

void sn_json_key(struct sn_json *j, const char *key)
{
	sn_json_string(j, key);
	put_char(j, ':');
	j->need_comma = false;
}

/*
 * Length of the well-formed UTF-8 sequence starting at s[0] (1..4), or 0
 * when it is ill-formed; then *bad is the length of its maximal subpart
 * (at least 1), the bytes one U+FFFD replaces.
 */
static size_t utf8_seq(const unsigned char *s, size_t n, size_t *bad)
{
	unsigned char b0 = s[0];
	unsigned char lo = 0x80, hi = 0xBF;
	size_t need;

	if (b0 >= 0xC2 && b0 <= 0xDF) {
		need = 2;
	} else if (b0 >= 0xE0 && b0 <= 0xEF) {
		need = 3;
		if (b0 == 0xE0)
			lo = 0xA0;          /* overlong below U+0800 */
		else if (b0 == 0xED)
			hi = 0x9F;          /* surrogates U+D800..U+DFFF */
	} else if (b0 >= 0xF0 && b0 <= 0xF4) {
		need = 4;
		if (b0 == 0xF0)
			lo = 0x90;          /* overlong below U+10000 */
		else if (b0 == 0xF4)
			hi = 0x8F;          /* above U+10FFFF */
	} else {
		*bad = 1;                   /* 80..C1 and F5..FF never start one */
		return 0;
	}
	for (size_t i = 1; i < need; i++) {
		unsigned char min = i == 1 ? lo : 0x80, max = i == 1 ? hi : 0xBF;
		if (i >= n || s[i] < min || s[i] > max) {
			*bad = i;
			return 0;
		}
	}
	return need;
}

static void put_escaped_ascii(struct sn_json *j, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
	char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 0x0f] };

	if (c == '"' || c == '\\') {
		char two[2] = { '\\', (char)c };
		put(j, two, 2);
	} else if (c < 0x20) {
		put(j, esc, sizeof(esc));
	} else {
		put_char(j, (char)c);
	}
}

void sn_json_string_n(struct sn_json *j, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	separate(j);
	put_char(j, '"');
	while (i < n && !j->overflow) {
		if (u[i] < 0x80) {
			put_escaped_ascii(j, u[i]);
			i++;
			continue;
		}
		size_t bad = 0, ok = utf8_seq(u + i, n - i, &bad);
		if (ok) {
			put(j, s + i, ok);
			i += ok;
		} else {
			put(j, "\xEF\xBF\xBD", 3); /* U+FFFD */
			i += bad;
		}
	}
	put_char(j, '"');
	j->need_comma = true;
}

void sn_json_string(struct sn_json *j, const char *s)
{
	sn_json_string_n(j, s, strlen(s));
}

void sn_json_uint(struct sn_json *j, uint64_t v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "%" PRIu64, v);

	separate(j);
	put(j, tmp, (size_t)n);
	j->need_comma = true;
}

void sn_json_int(struct sn_json *j, int64_t v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "%" PRId64, v);

	separate(j);
	put(j, tmp, (size_t)n);
	j->need_comma = true;
}

void sn_json_bool(struct sn_json *j, bool v)
{
	separate(j);
	if (v)
		put(j, "true", 4);
	else
		put(j, "false", 5);
	j->need_comma = true;
}

void sn_json_null(struct sn_json *j)
{
	separate(j);
	put(j, "null", 4);
	j->need_comma = true;
}

void sn_format_time(uint64_t ts_us, char out[32])
{
	time_t secs = (time_t)(ts_us / 1000000u);
	unsigned usec = (unsigned)(ts_us % 1000000u);
	struct tm tm;
	char tmp[96]; /* room for any int the fields could hold */

	if (!gmtime_r(&secs, &tm)) {
		memcpy(out, "1970-01-01T00:00:00.000000Z", 28);
		return;
	}
	snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, usec);
	size_t n = strnlen(tmp, 31);
	memcpy(out, tmp, n);
	out[n] = '\0';
}

void sn_json_time(struct sn_json *j, uint64_t ts_us)
{
	char tmp[32];

	sn_format_time(ts_us, tmp);
	sn_json_string(j, tmp);
}

size_t sn_json_finish_line(struct sn_json *j)
{
	put_char(j, '\n');
	return j->overflow ? 0 : j->len;
}
