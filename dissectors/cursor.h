/*
 * cursor.h - the one bounds-checked reader of packet and stream bytes.
 *
 * Every read of bytes that came off the wire goes through a struct
 * sn_cursor.  A read past the end returns 0 (or an empty view) and sets a
 * sticky error flag; callers test sn_cur_ok() and return explicitly.  This
 * is tcpdump's GET_*() invariant without longjmp and without a magic local.
 * Nothing here allocates, and no function reads outside [p, p + len).
 */
#ifndef SN_CURSOR_H
#define SN_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct sn_cursor {
	const uint8_t *p; /* start of the readable bytes */
	size_t len;       /* how many bytes may be read */
	size_t off;       /* next byte to read */
	bool err;         /* sticky: set by any short read */
};

static inline struct sn_cursor sn_cur_make(const uint8_t *p, size_t len)
{
	struct sn_cursor c = { p ? p : (const uint8_t *)"", p ? len : 0, 0, false }; /* never NULL + 0 */
	return c;
}

static inline size_t sn_cur_remaining(const struct sn_cursor *c)
{
	return c->off <= c->len ? c->len - c->off : 0;
}

static inline bool sn_cur_ok(const struct sn_cursor *c) { return !c->err; }

static inline bool sn_cur_has(const struct sn_cursor *c, size_t n)
{
	return !c->err && n <= sn_cur_remaining(c);
}

/* Marks the cursor failed; always returns false so callers can `return`. */
static inline bool sn_cur_fail(struct sn_cursor *c)
{
	c->err = true;
	return false;
}

static inline uint8_t sn_cur_u8(struct sn_cursor *c)
{
	if (!sn_cur_has(c, 1)) {
		sn_cur_fail(c);
		return 0;
	}
	return c->p[c->off++];
}

static inline uint16_t sn_cur_be16(struct sn_cursor *c)
{
	if (!sn_cur_has(c, 2)) {
		sn_cur_fail(c);
		return 0;
	}
	uint16_t v = (uint16_t)((unsigned)c->p[c->off] << 8 | c->p[c->off + 1]);
	c->off += 2;
	return v;
}

static inline uint16_t sn_cur_le16(struct sn_cursor *c)
{
	if (!sn_cur_has(c, 2)) {
		sn_cur_fail(c);
		return 0;
	}
	uint16_t v = (uint16_t)((unsigned)c->p[c->off + 1] << 8 | c->p[c->off]);
	c->off += 2;
	return v;
}

static inline uint32_t sn_cur_be24(struct sn_cursor *c)
{
	if (!sn_cur_has(c, 3)) {
		sn_cur_fail(c);
		return 0;
	}
	uint32_t v = (uint32_t)c->p[c->off] << 16 | (uint32_t)c->p[c->off + 1] << 8 |
		     (uint32_t)c->p[c->off + 2];
	c->off += 3;
	return v;
}

static inline uint32_t sn_cur_be32(struct sn_cursor *c)
{
	if (!sn_cur_has(c, 4)) {
		sn_cur_fail(c);
		return 0;
	}
	uint32_t v = (uint32_t)c->p[c->off] << 24 | (uint32_t)c->p[c->off + 1] << 16 |
		     (uint32_t)c->p[c->off + 2] << 8 | (uint32_t)c->p[c->off + 3];
	c->off += 4;
	return v;
}

static inline uint32_t sn_cur_le32(struct sn_cursor *c)
{
	if (!sn_cur_has(c, 4)) {
		sn_cur_fail(c);
		return 0;
	}
	uint32_t v = (uint32_t)c->p[c->off + 3] << 24 | (uint32_t)c->p[c->off + 2] << 16 |
		     (uint32_t)c->p[c->off + 1] << 8 | (uint32_t)c->p[c->off];
	c->off += 4;
	return v;
}

/* Byte at `at` past the current position, without moving; 0 and err if absent. */
static inline uint8_t sn_cur_peek(struct sn_cursor *c, size_t at)
{
	if (c->err || at >= sn_cur_remaining(c)) {
		sn_cur_fail(c);
		return 0;
	}
	return c->p[c->off + at];
}

/* Like sn_cur_peek but never sets err: for look-ahead tests. */
static inline bool sn_cur_peek_is(const struct sn_cursor *c, size_t at, uint8_t v)
{
	return !c->err && at < sn_cur_remaining(c) && c->p[c->off + at] == v;
}

static inline bool sn_cur_skip(struct sn_cursor *c, size_t n)
{
	if (!sn_cur_has(c, n))
		return sn_cur_fail(c);
	c->off += n;
	return true;
}

/* Copies n bytes out and advances. */
static inline bool sn_cur_copy(struct sn_cursor *c, void *dst, size_t n)
{
	if (!sn_cur_has(c, n))
		return sn_cur_fail(c);
	if (n)
		memcpy(dst, c->p + c->off, n);
	c->off += n;
	return true;
}

/* A cursor over the next n bytes; the parent moves past them. */
static inline struct sn_cursor sn_cur_sub(struct sn_cursor *c, size_t n)
{
	if (!sn_cur_has(c, n)) {
		sn_cur_fail(c);
		struct sn_cursor bad = { NULL, 0, 0, true };
		return bad;
	}
	struct sn_cursor s = { c->p + c->off, n, 0, false };
	c->off += n;
	return s;
}

/* A cursor over everything not yet read; the parent is unchanged. */
static inline struct sn_cursor sn_cur_rest(const struct sn_cursor *c)
{
	if (c->err) {
		struct sn_cursor bad = { NULL, 0, 0, true };
		return bad;
	}
	struct sn_cursor s = { c->p + c->off, sn_cur_remaining(c), 0, false };
	return s;
}

/* True when the next n bytes equal `lit`; does not move or set err. */
static inline bool sn_cur_starts_with(const struct sn_cursor *c, const void *lit, size_t n)
{
	return sn_cur_has(c, n) && (n == 0 || memcmp(c->p + c->off, lit, n) == 0);
}

/*
 * Offset (from the current position) of the first byte equal to v within
 * the remaining bytes, or -1.  Does not move or set err.
 */
static inline long sn_cur_find(const struct sn_cursor *c, uint8_t v)
{
	if (c->err || !c->p)
		return -1;
	const void *hit = memchr(c->p + c->off, v, sn_cur_remaining(c));
	return hit ? (long)((const uint8_t *)hit - (c->p + c->off)) : -1;
}

/*
 * Copies up to n bytes as a NUL-terminated string into dst[cap] (cap >= 1),
 * truncating if needed, and advances by n.  Returns false (and sets err)
 * when fewer than n bytes remain.  *truncated is set when dst was too small.
 */
static inline bool sn_cur_string(struct sn_cursor *c, size_t n, char *dst, size_t cap,
				 bool *truncated)
{
	if (!sn_cur_has(c, n)) {
		dst[0] = '\0';
		return sn_cur_fail(c);
	}
	size_t k = n < cap - 1 ? n : cap - 1;
	if (k)
		memcpy(dst, c->p + c->off, k);
	dst[k] = '\0';
	if (k < n && truncated)
		*truncated = true;
	c->off += n;
	return true;
}

/* The outcome of reading an expected literal from bytes that may stop short. */
enum sn_cur_step {
	SN_CUR_OK = 0, /* the literal was there and is consumed */
	SN_CUR_SHORT,  /* the bytes left are a proper prefix of it: need more */
	SN_CUR_BAD,    /* the bytes differ */
};

/* Consumes lit if it is next; SHORT when the bytes left are a prefix of it. */
static inline enum sn_cur_step sn_cur_eat_literal(struct sn_cursor *c, const char *lit)
{
	size_t n = strlen(lit);
	size_t have = sn_cur_remaining(c);
	size_t k = have < n ? have : n;

	if (have == 0)
		return SN_CUR_SHORT;
	if (!sn_cur_starts_with(c, lit, k))
		return SN_CUR_BAD;
	if (k < n)
		return SN_CUR_SHORT;
	sn_cur_skip(c, n);
	return SN_CUR_OK;
}

/*
 * The next n bytes where they lie, after one bounds check, for a fast path
 * that reads a fixed-size header field by field; NULL when fewer than n
 * remain (or the cursor failed).  Does not move or set err.
 */
static inline const uint8_t *sn_cur_view(const struct sn_cursor *c, size_t n)
{
	return sn_cur_has(c, n) ? c->p + c->off : NULL;
}

/* The position, for callers that report offsets. */
static inline size_t sn_cur_offset(const struct sn_cursor *c) { return c->off; }

#endif /* SN_CURSOR_H */
