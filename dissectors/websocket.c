/*
 * websocket.c - the WebSocket carrier: the HTTP/1.1 upgrade (RFC 6455
 * section 4), the server's 101, and data frames (section 5) turned back
 * into message bytes, with permessage-deflate (RFC 7692) inflated by zlib.
 *
 * The request must be `METHOD target HTTP/1.x` with an `Upgrade:` header
 * naming `websocket`; header names and the upgrade token are compared
 * without case, and lines may end in CRLF or a bare LF.  Anything else
 * that completes a request line or a header block is not WebSocket.
 * Frames are read as far as the bytes go: a message cut by the end of the
 * kept bytes is handed on as far as it goes, so a dissector can still
 * judge the protocol from its opening.  zlib allocates from the caller's
 * arena only, and each direction's output is bounded by its buffer.
 */
#include "websocket.h"

#include <string.h>
#include <zlib.h>

#define WS_METHOD_MAX 16       /* longest request method accepted */
#define WS_CONTROL_MAX 125     /* RFC 6455 5.5: control frame payloads */

enum ws_op { OP_CONT = 0x0, OP_TEXT = 0x1, OP_BINARY = 0x2, OP_CLOSE = 0x8, OP_PING = 0x9, OP_PONG = 0xA };

/* ---- the HTTP head ------------------------------------------------------- */

static uint8_t lower(uint8_t b)
{
	return (b >= 'A' && b <= 'Z') ? (uint8_t)(b + ('a' - 'A')) : b;
}

/* True when the bytes of v equal lit[0..n) (lower case), ignoring ASCII case. */
static bool cur_eq_nocase(const struct sn_cursor *v, const char *lit, size_t n)
{
	if (sn_cur_remaining(v) != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (lower(v->p[v->off + i]) != (uint8_t)lit[i])
			return false;
	}
	return true;
}

/* cur_eq_nocase against a string literal, its length known at compile time. */
#define EQ_LIT(v, lit) cur_eq_nocase((v), "" lit "", sizeof(lit) - 1)

static bool is_ows(uint8_t b) { return b == ' ' || b == '\t'; }

/* Trims optional white space at both ends of a view. */
static struct sn_cursor trim(struct sn_cursor v)
{
	while (sn_cur_remaining(&v) > 0 && is_ows(v.p[v.off]))
		v.off++;
	while (sn_cur_remaining(&v) > 0 && is_ows(v.p[v.len - 1]))
		v.len--;
	return v;
}

/* The next comma-separated element of a header value, trimmed; false at the end. */
static bool next_element(struct sn_cursor *list, struct sn_cursor *elem)
{
	while (sn_cur_remaining(list) > 0) {
		long comma = sn_cur_find(list, ',');
		size_t n = comma < 0 ? sn_cur_remaining(list) : (size_t)comma;
		*elem = trim(sn_cur_sub(list, n));
		if (comma >= 0)
			sn_cur_skip(list, 1);
		/* parameters after ';' (extension parameters) are not part of the name */
		long semi = sn_cur_find(elem, ';');
		if (semi >= 0)
			*elem = trim(sn_cur_sub(elem, (size_t)semi));
		if (sn_cur_remaining(elem) > 0)
			return true;
	}
	return false;
}

static bool list_has(struct sn_cursor list, const char *token, size_t n)
{
	struct sn_cursor e;
	while (next_element(&list, &e)) {
		if (cur_eq_nocase(&e, token, n))
			return true;
	}
	return false;
}

static void keep(struct sn_ws_info *info, char *dst, size_t cap, struct sn_cursor v)
{
	size_t n = sn_cur_remaining(&v);
	size_t k = n < cap - 1 ? n : cap - 1;
	memcpy(dst, v.p + v.off, k);
	dst[k] = '\0';
	if (k < n || memchr(dst, '\0', k))
		info->truncated = true;
}

/*
 * The next line (without its CR LF or LF) into *line.  SN_CUR_SHORT when no
 * line end is in the bytes left.
 */
static enum sn_cur_step next_line(struct sn_cursor *c, struct sn_cursor *line)
{
	long nl = sn_cur_find(c, '\n');
	if (nl < 0)
		return SN_CUR_SHORT;
	*line = sn_cur_sub(c, (size_t)nl);
	sn_cur_skip(c, 1);
	if (sn_cur_remaining(line) > 0 && line->p[line->len - 1] == '\r')
		line->len--;
	return SN_CUR_OK;
}

/* `METHOD SP`: BAD when the first bytes cannot begin a request line. */
static enum sn_cur_step read_method(struct sn_cursor *c)
{
	for (size_t i = 0; i <= WS_METHOD_MAX; i++) {
		if (sn_cur_remaining(c) == 0)
			return SN_CUR_SHORT;
		uint8_t b = sn_cur_u8(c);
		if (b == ' ')
			return i > 0 ? SN_CUR_OK : SN_CUR_BAD;
		if (!(b >= 'A' && b <= 'Z') || i == WS_METHOD_MAX)
			return SN_CUR_BAD;
	}
	return SN_CUR_BAD;
}

/* `target SP HTTP/1.x` (the rest of the request line). */
static bool read_target(struct sn_cursor line, struct sn_ws_info *info)
{
	long sp = sn_cur_find(&line, ' ');
	if (sp <= 0)
		return false;
	struct sn_cursor target = sn_cur_sub(&line, (size_t)sp);
	sn_cur_skip(&line, 1);
	if (sn_cur_remaining(&line) != 8 || !sn_cur_starts_with(&line, "HTTP/1.", 7))
		return false;
	keep(info, info->path, sizeof info->path, target);
	return true;
}

/* What a header block said that matters here. */
struct ws_head {
	bool upgrade_websocket;
	bool has_protocol;
	struct sn_cursor protocol;   /* the header's value */
	bool deflate;
	bool has_host;
	struct sn_cursor host;
};

/*
 * One header line.  Only four names matter and their lengths differ, so
 * the name's length picks the one it is compared with (the value is
 * trimmed only then): any other line is passed over after its colon.
 */
static void read_header(struct sn_cursor line, struct ws_head *h)
{
	long colon = sn_cur_find(&line, ':');
	if (colon <= 0)
		return;
	struct sn_cursor name = sn_cur_sub(&line, (size_t)colon);
	sn_cur_skip(&line, 1);

	switch (colon) {
	case sizeof "upgrade" - 1:
		if (EQ_LIT(&name, "upgrade"))
			h->upgrade_websocket = h->upgrade_websocket ||
					       list_has(trim(line), "websocket", sizeof "websocket" - 1);
		break;
	case sizeof "sec-websocket-protocol" - 1:
		if (EQ_LIT(&name, "sec-websocket-protocol") && !h->has_protocol) {
			h->has_protocol = true;
			h->protocol = trim(line);
		}
		break;
	case sizeof "sec-websocket-extensions" - 1:
		if (EQ_LIT(&name, "sec-websocket-extensions"))
			h->deflate = h->deflate ||
				     list_has(trim(line), "permessage-deflate", sizeof "permessage-deflate" - 1);
		break;
	case sizeof "host" - 1:
		if (EQ_LIT(&name, "host") && !h->has_host) {
			h->has_host = true;
			h->host = trim(line);
		}
		break;
	default:
		break;
	}
}

/* Header lines up to the blank line; SHORT when the block is not complete. */
static enum sn_cur_step read_headers(struct sn_cursor *c, struct ws_head *h)
{
	/* one checked view of the bytes left; each line lies within it */
	size_t have = sn_cur_remaining(c), at = 0;
	const uint8_t *p = sn_cur_view(c, have);
	if (!p)
		return SN_CUR_SHORT;
	for (;;) {
		const uint8_t *nl = c->off + at > SN_WS_HEADER_MAX ? NULL : memchr(p + at, '\n', have - at);
		if (!nl) {
			sn_cur_skip(c, at);
			return SN_CUR_SHORT;
		}
		size_t end = (size_t)(nl - p), len = end - at;
		if (len > 0 && p[end - 1] == '\r')
			len--;
		if (len == 0) {
			sn_cur_skip(c, end + 1);
			return SN_CUR_OK;
		}
		read_header(sn_cur_make(p + at, len), h);
		at = end + 1;
	}
}

/*
 * The client's request.  On MATCH *c is at the first frame byte.
 */
static enum sn_verdict read_request(struct sn_cursor *c, struct sn_ws_info *info, bool *offered)
{
	enum sn_cur_step st = read_method(c);
	if (st != SN_CUR_OK)
		return st == SN_CUR_SHORT ? SN_NEED_MORE : SN_NO_MATCH;

	struct sn_cursor line;
	if (next_line(c, &line) != SN_CUR_OK)
		return sn_cur_remaining(c) > SN_WS_HEADER_MAX ? SN_NO_MATCH : SN_NEED_MORE;
	if (!read_target(line, info))
		return SN_NO_MATCH;

	struct ws_head h = { 0 };
	if (read_headers(c, &h) != SN_CUR_OK)
		return SN_NEED_MORE;
	if (!h.upgrade_websocket)
		return SN_NO_MATCH;
	if (h.has_host)
		keep(info, info->host, sizeof info->host, h.host);
	struct sn_cursor first;
	if (h.has_protocol && next_element(&h.protocol, &first))
		keep(info, info->protocol, sizeof info->protocol, first);
	*offered = h.deflate;
	return SN_MATCH;
}

/*
 * The server's answer.  True when the frames may be read from *c: a
 * complete 101 head.
 */
static bool read_response(struct sn_cursor *c, struct sn_ws_info *info, bool offered)
{
	struct sn_cursor line;
	if (next_line(c, &line) != SN_CUR_OK)
		return false;
	if (!sn_cur_starts_with(&line, "HTTP/1.", 7) || !sn_cur_skip(&line, 8) ||
	    sn_cur_u8(&line) != ' ' || !sn_cur_starts_with(&line, "101", 3)) {
		info->server_refused = true;
		return false;
	}
	struct ws_head h = { 0 };
	if (read_headers(c, &h) != SN_CUR_OK)
		return false;
	info->server_101 = true;
	struct sn_cursor chosen;
	if (h.has_protocol && next_element(&h.protocol, &chosen))
		keep(info, info->protocol, sizeof info->protocol, chosen);
	info->deflate = offered && h.deflate;
	return true;
}

/* ---- zlib over the caller's arena ------------------------------------------ */

struct ws_arena {
	uint8_t *p;
	size_t cap, used;
};

static voidpf arena_alloc(voidpf opaque, uInt items, uInt size)
{
	struct ws_arena *a = opaque;
	size_t n = (size_t)items * size;
	size_t at = (a->used + 15u) & ~(size_t)15u;

	if (size != 0 && n / size != items)
		return Z_NULL;
	if (at > a->cap || n > a->cap - at)
		return Z_NULL;
	a->used = at + n;
	return a->p + at;
}

static void arena_free(voidpf opaque, voidpf addr)
{
	(void)opaque;
	(void)addr; /* the whole arena is dropped at the end of the call */
}

/* One direction's message state while its frames are read. */
struct ws_dir {
	int dir;                 /* 0 client, 1 server */
	bool in_message;         /* a data message has begun and not ended */
	bool compressed;         /* the current message is compressed */
	size_t comp_len;         /* its compressed bytes so far in out->scratch */
	bool z_ready, z_dead;
	z_stream z;
	struct ws_arena arena;
};

static void emit(struct sn_ws_out *out, struct sn_ws_info *info, int dir, const uint8_t *p,
		 size_t n, const uint8_t mask[4], size_t mask_at)
{
	size_t room = out->cap[dir] - out->len[dir];
	size_t k = n < room ? n : room;
	uint8_t *dst = out->buf[dir] + out->len[dir];

	for (size_t j = 0; j < k; j++)
		dst[j] = mask ? (uint8_t)(p[j] ^ mask[(mask_at + j) & 3]) : p[j];
	out->len[dir] += k;
	if (k < n)
		info->truncated = true;
}

/* Inflates out->scratch[0, comp_len) into the direction's buffer. */
static void inflate_message(struct ws_dir *d, struct sn_ws_out *out, struct sn_ws_info *info)
{
	if (d->z_dead || d->comp_len == 0)
		return;
	if (!d->z_ready) {
		memset(&d->z, 0, sizeof d->z);
		d->arena = (struct ws_arena){ out->arena, out->arena_cap, 0 };
		d->z.zalloc = arena_alloc;
		d->z.zfree = arena_free;
		d->z.opaque = &d->arena;
		if (inflateInit2(&d->z, -15) != Z_OK) {
			d->z_dead = info->inflate_failed = true;
			return;
		}
		d->z_ready = true;
	}
	d->z.next_in = out->scratch;
	d->z.avail_in = (uInt)d->comp_len;
	d->z.next_out = out->buf[d->dir] + out->len[d->dir];
	d->z.avail_out = (uInt)(out->cap[d->dir] - out->len[d->dir]);
	int rc = inflate(&d->z, Z_SYNC_FLUSH);
	out->len[d->dir] = (size_t)(d->z.next_out - out->buf[d->dir]);
	if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)
		d->z_dead = info->inflate_failed = true;
	if (d->z.avail_out == 0 && d->z.avail_in > 0)
		info->truncated = true;
	d->comp_len = 0;
}

static void keep_compressed(struct ws_dir *d, struct sn_ws_out *out, struct sn_ws_info *info,
			    const uint8_t *p, size_t n, const uint8_t mask[4], size_t mask_at)
{
	size_t room = out->scratch_cap - d->comp_len;
	size_t k = n < room ? n : room;

	for (size_t j = 0; j < k; j++)
		out->scratch[d->comp_len + j] = mask ? (uint8_t)(p[j] ^ mask[(mask_at + j) & 3]) : p[j];
	d->comp_len += k;
	if (k < n)
		info->truncated = true;
}

/* RFC 7692 7.2.2: the sender removed 00 00 ff ff from the end of a message. */
static void end_compressed(struct ws_dir *d, struct sn_ws_out *out, struct sn_ws_info *info)
{
	static const uint8_t tail[4] = { 0x00, 0x00, 0xff, 0xff };
	keep_compressed(d, out, info, tail, sizeof tail, NULL, 0);
	inflate_message(d, out, info);
}

struct ws_frame {
	bool fin, rsv1, masked;
	uint8_t op;
	uint64_t len;
	uint8_t mask[4];
};

/* A frame header; false when it is not all there. */
static bool read_frame_head(struct sn_cursor *c, struct ws_frame *f)
{
	uint8_t b0 = sn_cur_u8(c), b1 = sn_cur_u8(c);
	f->fin = b0 & 0x80;
	f->rsv1 = b0 & 0x40;
	f->op = b0 & 0x0f;
	f->masked = b1 & 0x80;
	f->len = b1 & 0x7f;
	if (f->len == 126) {
		f->len = sn_cur_be16(c);
	} else if (f->len == 127) {
		uint64_t hi = sn_cur_be32(c);
		f->len = hi << 32 | sn_cur_be32(c);
	}
	if (f->masked)
		sn_cur_copy(c, f->mask, 4);
	return sn_cur_ok(c);
}

/* False when the frame's opcode or shape breaks RFC 6455. */
static bool frame_valid(const struct ws_frame *f, int dir)
{
	if (f->masked != (dir == 0))
		return false;
	if (f->op >= OP_CLOSE)
		return f->op <= OP_PONG && f->fin && f->len <= WS_CONTROL_MAX && !f->rsv1;
	return f->op <= OP_BINARY;
}

/* A data frame's payload (the n bytes present) into the message. */
static void take_payload(struct ws_dir *d, const struct ws_frame *f, const uint8_t *p, size_t n,
			 struct sn_ws_out *out, struct sn_ws_info *info)
{
	if (f->op != OP_CONT) {
		if (d->in_message && d->compressed)
			inflate_message(d, out, info);
		d->in_message = true;
		d->compressed = f->rsv1;
		d->comp_len = 0;
		info->messages[d->dir]++;
	}
	const uint8_t *mask = f->masked ? f->mask : NULL;
	if (d->compressed)
		keep_compressed(d, out, info, p, n, mask, 0);
	else
		emit(out, info, d->dir, p, n, mask, 0);
	if (f->fin && n == f->len) {
		if (d->compressed)
			end_compressed(d, out, info);
		d->in_message = false;
	}
}

/* Every frame of one direction, from c's position, as far as the bytes go. */
static void read_frames(struct sn_cursor c, int dir, struct sn_ws_out *out,
			struct sn_ws_info *info)
{
	struct ws_dir d = { .dir = dir };

	while (sn_cur_remaining(&c) > 0 && out->len[dir] < out->cap[dir]) {
		struct ws_frame f;
		if (!read_frame_head(&c, &f))
			break;
		if (!frame_valid(&f, dir)) {
			info->bad_frame = true;
			if (f.op != OP_CONT && f.op > OP_BINARY && f.op < OP_CLOSE)
				break; /* a reserved opcode: the framing cannot be trusted */
		}
		size_t have = sn_cur_remaining(&c);
		size_t n = f.len < have ? (size_t)f.len : have;
		const uint8_t *p = c.p + c.off;
		sn_cur_skip(&c, n);
		if (f.op == OP_CONT && !d.in_message) {
			info->bad_frame = true;
			continue;
		}
		if (f.op <= OP_BINARY)
			take_payload(&d, &f, p, n, out, info);
		if (n < f.len)
			break; /* the kept bytes end inside this frame */
	}
	if (d.in_message && d.compressed)
		inflate_message(&d, out, info); /* as much of the cut message as inflates */
	if (d.z_ready)
		inflateEnd(&d.z);
}

enum sn_verdict sn_ws_unwrap(const struct sn_stream *s, struct sn_ws_info *info,
			     struct sn_ws_out *out)
{
	memset(info, 0, sizeof *info);
	out->len[0] = out->len[1] = 0;
	if (!s->client_at_start)
		return SN_NO_MATCH;

	struct sn_cursor c = sn_cur_make(s->client, s->client_len);
	bool offered = false;
	enum sn_verdict v = read_request(&c, info, &offered);
	if (v != SN_MATCH)
		return v;

	struct sn_cursor srv = sn_cur_make(s->server, s->server_len);
	bool server_frames = read_response(&srv, info, offered);
	if (!info->server_101 && !info->server_refused)
		info->deflate = offered; /* answer not seen: trust the offer */
	if (info->server_refused)
		return SN_MATCH; /* an upgrade that was refused carries nothing */

	read_frames(c, 0, out, info);
	if (server_frames)
		read_frames(srv, 1, out, info);
	return SN_MATCH;
}

enum sn_proto sn_ws_protocol_proto(const char *name)
{
	return sn_registry_ws_proto(name);
}
