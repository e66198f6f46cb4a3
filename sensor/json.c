/*
 * json.c - a JSON text builder over a caller's fixed buffer (RFC 8259).
 *
 * Owns escaping and UTF-8 repair: strings that came off the wire may hold any
 * bytes, so each string is decoded as UTF-8 (Unicode 15 table 3-7: no
 * overlong forms, no surrogates, nothing above U+10FFFF; the decoder is
 * escape.c's) and every maximal ill-formed subpart becomes one U+FFFD, as
 * Unicode §3.9 recommends.  Besides what JSON requires, every character
 * escape.c hides from a terminal is written as a \u escape: DEL, the C1
 * controls, U+2028/U+2029 (raw, they are valid JSON but break the lines of
 * log viewers and JavaScript readers), and the invisible format characters
 * (zero-width, bidirectional overrides, BOM, tags) that can make a line in a
 * viewer read differently from its bytes.  The
 * builder never writes past `cap`: the first write that would not fit sets
 * `overflow` and every later call does nothing, so the caller can drop the
 * line whole.  One byte is kept for a terminating NUL, which makes the text
 * usable as a C string.
 */
#include "json.h"

#include "clock.h"
#include "escape.h"

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
	if (j->overflow)
		return;
	if (1 >= j->cap - j->len) {
		j->overflow = true;
		return;
	}
	j->buf[j->len++] = c;
	j->buf[j->len] = '\0';
}

/*
 * 1 for the bytes a JSON string may hold as they are and that escape.c
 * lets through: printable ASCII other than '"' and '\\'.
 */
static const unsigned char plain_byte[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x00 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x10 */
	1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x20: '"' */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x30 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x40 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, /* 0x50: '\\' */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x60 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, /* 0x70: DEL */
	/* 0x80-0xff: 0, decoded as UTF-8 */
};

/* How many of u[0..n) from the start are plain_byte. */
static size_t plain_run(const unsigned char *u, size_t n)
{
	size_t i = 0;

	while (i < n && plain_byte[u[i]])
		i++;
	return i;
}

/*
 * '"' s[0..n) '"' then `tail` (0 for none), for an s that is all plain: the
 * same bytes and the same overflow as the put calls one by one, with one
 * bounds check when it fits.
 */
static void put_quoted(struct sn_json *j, const char *s, size_t n, char tail)
{
	size_t need = n + 2 + (tail != 0);

	if (j->overflow)
		return;
	if (need >= j->cap - j->len) { /* does not fit: the piecewise writes decide where it stops */
		put_char(j, '"');
		put(j, s, n);
		put_char(j, '"');
		if (tail)
			put_char(j, tail);
		return;
	}
	char *o = j->buf + j->len;
	o[0] = '"';
	memcpy(o + 1, s, n);
	o[n + 1] = '"';
	if (tail)
		o[n + 2] = tail;
	j->len += need;
	j->buf[j->len] = '\0';
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

/* How many bytes of the NUL-terminated s from the start are plain_byte (not NUL). */
static size_t plain_run_z(const char *s)
{
	size_t i = 0;

	while (plain_byte[(unsigned char)s[i]])
		i++;
	return i;
}

void sn_json_key(struct sn_json *j, const char *key)
{
	size_t n = plain_run_z(key);

	if (key[n] == '\0') { /* every key the sensor writes */
		separate(j);
		put_quoted(j, key, n, ':');
	} else {
		sn_json_string_n(j, key, n + strlen(key + n));
		put_char(j, ':');
	}
	j->need_comma = false;
}

static void put_escaped_ascii(struct sn_json *j, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
	char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 0x0f] };

	if (c == '"' || c == '\\') {
		char two[2] = { '\\', (char)c };
		put(j, two, 2);
	} else if (c < 0x20 || c == 0x7f) {
		put(j, esc, sizeof(esc));
	} else {
		put_char(j, (char)c);
	}
}

/* \uXXXX, or a surrogate pair above U+FFFF (RFC 8259 section 7). */
static void put_escaped_cp(struct sn_json *j, uint32_t cp)
{
	char esc[16];
	int n;

	if (cp > 0xFFFF) {
		uint32_t v = cp - 0x10000;
		n = snprintf(esc, sizeof(esc), "\\u%04x\\u%04x", (unsigned)(0xD800 + (v >> 10)),
			     (unsigned)(0xDC00 + (v & 0x3FF)));
	} else {
		n = snprintf(esc, sizeof(esc), "\\u%04x", (unsigned)cp);
	}
	put(j, esc, (size_t)n);
}

void sn_json_string_n(struct sn_json *j, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	separate(j);
	if (plain_run(u, n) == n) { /* nothing to escape or decode */
		put_quoted(j, s, n, 0);
		j->need_comma = true;
		return;
	}
	put_char(j, '"');
	while (i < n && !j->overflow) {
		/* printable ASCII other than '"' and '\\' goes out a run at a time */
		size_t run = i + plain_run(u + i, n - i);
		if (run > i) {
			put(j, s + i, run - i);
			i = run;
			continue;
		}
		if (u[i] < 0x80) {
			put_escaped_ascii(j, u[i]);
			i++;
			continue;
		}
		uint32_t cp = 0;
		size_t bad = 0, ok = sn_utf8_decode(u + i, n - i, &cp, &bad);
		if (ok && sn_escape_cp_hidden(cp)) {
			put_escaped_cp(j, cp); /* valid JSON raw, but they break or fake log lines */
			i += ok;
		} else if (ok) {
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
	size_t n = plain_run_z(s);

	if (s[n] != '\0') {
		sn_json_string_n(j, s, n + strlen(s + n));
		return;
	}
	separate(j);
	put_quoted(j, s, n, 0);
	j->need_comma = true;
}

/*
 * v in decimal, written so that it ends just before `end`; returns where it
 * starts.  The same digits as printf's %PRIu64, without a libc call a number.
 */
static char *decimal(char *end, uint64_t v)
{
	char *p = end;
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return p;
}

/* v as exactly `width` decimal digits (v < 10^width), like %0*u. */
static void digits(char *out, unsigned v, int width)
{
	for (int k = width - 1; k >= 0; k--) {
		out[k] = (char)('0' + v % 10);
		v /= 10;
	}
}

void sn_json_uint(struct sn_json *j, uint64_t v)
{
	char tmp[24];
	char *p = decimal(tmp + sizeof tmp, v);

	separate(j);
	put(j, p, (size_t)(tmp + sizeof tmp - p));
	j->need_comma = true;
}

void sn_json_milli(struct sn_json *j, uint64_t thousandths)
{
	char tmp[32];
	char *end = tmp + sizeof tmp;
	digits(end - 3, (unsigned)(thousandths % 1000), 3);
	end[-4] = '.';
	char *p = decimal(end - 4, thousandths / 1000);

	separate(j);
	put(j, p, (size_t)(end - p));
	j->need_comma = true;
}

void sn_json_int(struct sn_json *j, int64_t v)
{
	char tmp[24];
	/* the magnitude as unsigned: -INT64_MIN does not fit an int64_t */
	uint64_t mag = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	char *p = decimal(tmp + sizeof tmp, mag);
	if (v < 0)
		*--p = '-';

	separate(j);
	put(j, p, (size_t)(tmp + sizeof tmp - p));
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

/*
 * gmtime_r(secs), remembering the minute of the last answer (per thread):
 * events come in bursts within a minute, and gmtime_r takes a lock and
 * walks the time zone's data.  A second of the remembered minute other than
 * its last (:59) is that minute with tm_sec moved; every other second asks
 * gmtime_r, so a leap second in the zone's data (which only ever ends a
 * minute: :60 inserted, or :59 left out) is answered by gmtime_r itself.
 */
static bool utc_time(time_t secs, struct tm *tm)
{
	static _Thread_local struct {
		bool valid;
		time_t minute; /* secs at :00 of the remembered minute */
		struct tm tm;
	} last;

	if (last.valid && secs >= last.minute && secs - last.minute < 59) {
		*tm = last.tm;
		tm->tm_sec = (int)(secs - last.minute);
		return true;
	}
	if (!gmtime_r(&secs, tm))
		return false;
	if (tm->tm_sec >= 0 && tm->tm_sec < 59) { /* :59 and :60 are not a minute's known length */
		last.valid = true;
		last.minute = secs - tm->tm_sec;
		last.tm = *tm;
	}
	return true;
}

void sn_format_time(uint64_t ts_us, char out[32])
{
	time_t secs = (time_t)(ts_us / SN_US_PER_S);
	unsigned usec = (unsigned)(ts_us % SN_US_PER_S);
	struct tm tm;
	char tmp[96]; /* room for any int the fields could hold */

	if (!utc_time(secs, &tm)) {
		memcpy(out, "1970-01-01T00:00:00.000000Z", 28);
		return;
	}
	int year = tm.tm_year + 1900;
	if (year >= 0 && year <= 9999 && tm.tm_mon >= 0 && tm.tm_mon < 12 && tm.tm_mday >= 1 &&
	    tm.tm_mday <= 31 && tm.tm_hour >= 0 && tm.tm_hour < 24 && tm.tm_min >= 0 &&
	    tm.tm_min < 60 && tm.tm_sec >= 0 && tm.tm_sec <= 60) {
		/* every year a uint32 of seconds reaches: fixed widths, no libc call */
		digits(out, (unsigned)year, 4);
		out[4] = '-';
		digits(out + 5, (unsigned)tm.tm_mon + 1, 2);
		out[7] = '-';
		digits(out + 8, (unsigned)tm.tm_mday, 2);
		out[10] = 'T';
		digits(out + 11, (unsigned)tm.tm_hour, 2);
		out[13] = ':';
		digits(out + 14, (unsigned)tm.tm_min, 2);
		out[16] = ':';
		digits(out + 17, (unsigned)tm.tm_sec, 2);
		out[19] = '.';
		digits(out + 20, usec, 6);
		out[26] = 'Z';
		out[27] = '\0';
		return;
	}
	snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ", year, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, usec);
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
