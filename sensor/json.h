/*
 * json.h - a small JSON text builder over a caller's fixed buffer.
 *
 * Strings from the wire are escaped as JSON requires; bytes that are not
 * valid UTF-8 become U+FFFD, so every line is valid UTF-8 JSON.  When the
 * buffer is too small the builder stops writing and sets `overflow`; the
 * caller drops the line and counts it rather than writing half an object.
 */
#ifndef SN_JSON_H
#define SN_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sn_json {
	char *buf;
	size_t cap, len;
	bool overflow;
	bool need_comma; /* a value was written at this nesting level */
};

void sn_json_init(struct sn_json *j, char *buf, size_t cap);
void sn_json_object_begin(struct sn_json *j);
void sn_json_object_end(struct sn_json *j);
void sn_json_array_begin(struct sn_json *j);
void sn_json_array_end(struct sn_json *j);
/* A key inside an object; the next value call writes its value. */
void sn_json_key(struct sn_json *j, const char *key);
void sn_json_string(struct sn_json *j, const char *s);
void sn_json_string_n(struct sn_json *j, const char *s, size_t n);
void sn_json_uint(struct sn_json *j, uint64_t v);
void sn_json_int(struct sn_json *j, int64_t v);
/* A number given in thousandths, written with three decimals (60012 -> 60.012). */
void sn_json_milli(struct sn_json *j, uint64_t thousandths);
void sn_json_bool(struct sn_json *j, bool v);
void sn_json_null(struct sn_json *j);
/* "2026-11-28T01:02:03.123456Z" from microseconds since the epoch. */
void sn_json_time(struct sn_json *j, uint64_t ts_us);
void sn_format_time(uint64_t ts_us, char out[32]);
/* Ends the line with '\n'; returns its length, or 0 on overflow. */
size_t sn_json_finish_line(struct sn_json *j);

#endif /* SN_JSON_H */
