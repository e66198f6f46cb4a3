/*
 * stomp.c - recognises STOMP (1.0, 1.1, 1.2) from the client's first frame:
 * optional EOLs (heart-beats), the command CONNECT or STOMP alone on its
 * line, header lines `name:value`, and the blank line that ends them
 * (STOMP 1.2 "Augmented BNF").  It keeps the command, accept-version, host
 * and login; the body and its NUL may come later and are not needed.
 *
 * Everything that shares the word CONNECT is refused on the byte after it:
 * HTTP's "CONNECT host:443 HTTP/1.1" and NATS's "CONNECT {...}" both have a
 * space there.  The verdict comes from the opening: the command line and
 * header syntax.  Leading heart-beat EOLs are reported in meta->skip, so
 * any number of them fits the core's budget.  The scan is bounded in
 * header lines and bytes, and the bounds never refuse: past them the answer
 * is "need more", and a frame cut by the core's bound after at least one
 * complete header line is a MATCH with truncated_handshake.
 *
 * After a complete CONNECT the client's later frames are walked (STOMP 1.2
 * "Augmented BNF": heart-beat EOLs, the command line, header lines, the
 * blank line, a body of content-length octets when that header is present,
 * else up to the first NUL, then the NUL).  The `destination` of each
 * SUBSCRIBE and SEND (the first one, escapes decoded) joins meta->topics,
 * the list MQTT topics use, so the rules' command patterns apply to it.  The
 * walk stops at the first frame that is incomplete or does not fit the
 * grammar, after STOMP_WALK_MAX frames, and never changes the verdict.
 */
#include <string.h>

#include "dissector.h"

#define STOMP_SCAN_MAX 4096    /* client bytes examined */
#define STOMP_HEADERS_MAX 32   /* header lines in the CONNECT frame (and in each later one) */
#define STOMP_WALK_MAX 64      /* frames after CONNECT looked at, at most */
#define STOMP_LENGTH_DIGITS 9  /* a content-length longer than this is refused */

/* What a frame's headers said about its body and destination. */
struct stomp_frame {
	bool has_length;
	bool bad_length;          /* content-length not a decimal number */
	uint32_t length;          /* content-length: the body's octets */
	bool has_dest;
	struct sn_cursor dest;    /* the first destination header's value, escaped */
};

/* Headers kept; STOMP 1.2: the first of repeated headers wins. */
enum stomp_seen { SEEN_ACCEPT = 1u << 0, SEEN_HOST = 1u << 1, SEEN_LOGIN = 1u << 2 };

/* EOL = [CR] LF */
static enum sn_cur_step eat_eol(struct sn_cursor *c)
{
	enum sn_cur_step st = sn_cur_eat_literal(c, "\n");
	return st == SN_CUR_BAD ? sn_cur_eat_literal(c, "\r\n") : st;
}

static bool cur_is(const struct sn_cursor *v, const char *lit)
{
	size_t n = strlen(lit);
	return sn_cur_remaining(v) == n && sn_cur_starts_with(v, lit, n);
}

/* Heart-beat EOLs before the frame; *done is the offset after the last one. */
static enum sn_cur_step skip_heartbeats(struct sn_cursor *c, size_t *done)
{
	for (;;) {
		*done = sn_cur_offset(c);
		if (sn_cur_remaining(c) == 0)
			return SN_CUR_SHORT;
		uint8_t b = sn_cur_peek(c, 0);
		if (b != '\n' && b != '\r')
			return SN_CUR_OK;
		enum sn_cur_step st = eat_eol(c);
		if (st != SN_CUR_OK)
			return st;
	}
}

static enum sn_cur_step read_command(struct sn_cursor *c, struct sn_meta *m)
{
	const char *cmd = "CONNECT";
	enum sn_cur_step st = sn_cur_eat_literal(c, cmd);
	if (st == SN_CUR_BAD) {
		cmd = "STOMP";
		st = sn_cur_eat_literal(c, cmd);
	}
	if (st == SN_CUR_OK)
		st = eat_eol(c);
	if (st == SN_CUR_OK)
		sn_meta_set(m, m->stomp_command, sizeof m->stomp_command, cmd, strlen(cmd));
	return st;
}

/* A header value with the STOMP 1.2 escapes \n \r \c \\ decoded. */
static void put_unescaped(struct sn_cursor v, char *dst, size_t cap, struct sn_meta *m)
{
	size_t k = 0;

	while (sn_cur_remaining(&v) > 0) {
		uint8_t b = sn_cur_u8(&v);
		if (b == '\\' && sn_cur_remaining(&v) > 0) {
			uint8_t e = sn_cur_peek(&v, 0);
			uint8_t dec = e == 'n' ? '\n' : e == 'r' ? '\r' : e == 'c' ? ':' : e == '\\' ? '\\' : 0;
			if (dec) {
				sn_cur_skip(&v, 1);
				b = dec;
			} /* an undefined escape is kept as written */
		}
		if (k + 1 >= cap) {
			m->truncated = true;
			break;
		}
		dst[k++] = (char)b;
	}
	dst[k] = '\0';
}

/* content-length (STOMP 1.2 "Header content-length"): octets of the body, decimal. */
static void note_length(struct sn_cursor v, struct stomp_frame *fr)
{
	uint32_t n = 0;
	size_t digits = sn_cur_remaining(&v);

	fr->has_length = true;
	if (digits == 0 || digits > STOMP_LENGTH_DIGITS) {
		fr->bad_length = true;
		return;
	}
	while (sn_cur_remaining(&v) > 0) {
		uint8_t b = sn_cur_u8(&v);
		if (b < '0' || b > '9') {
			fr->bad_length = true;
			return;
		}
		n = n * 10 + (uint32_t)(b - '0');
	}
	fr->length = n;
}

/* The headers every frame's walk needs: content-length and destination (first wins). */
static void frame_header(const struct sn_cursor *name, struct sn_cursor value, struct stomp_frame *fr)
{
	if (!fr->has_length && cur_is(name, "content-length")) {
		note_length(value, fr);
	} else if (!fr->has_dest && cur_is(name, "destination")) {
		fr->has_dest = true;
		fr->dest = value;
	}
}

/* One `name:value` line (EOL already removed). */
static enum sn_cur_step header_line(struct sn_cursor *line, struct sn_meta *m, unsigned *seen,
				    struct stomp_frame *fr)
{
	if (sn_cur_find(line, '\0') >= 0)
		return SN_CUR_BAD; /* a NUL ends a frame; it cannot sit in a header */
	long colon = sn_cur_find(line, ':');
	if (colon <= 0)
		return SN_CUR_BAD;
	struct sn_cursor name = sn_cur_sub(line, (size_t)colon);
	sn_cur_skip(line, 1);
	struct sn_cursor value = sn_cur_rest(line);

	frame_header(&name, value, fr);
	if (!m)
		return SN_CUR_OK;
	if (cur_is(&name, "accept-version") && !(*seen & SEEN_ACCEPT)) {
		*seen |= SEEN_ACCEPT;
		put_unescaped(value, m->stomp_accept_version, sizeof m->stomp_accept_version, m);
	} else if (cur_is(&name, "host") && !(*seen & SEEN_HOST)) {
		*seen |= SEEN_HOST;
		put_unescaped(value, m->stomp_host, sizeof m->stomp_host, m);
	} else if (cur_is(&name, "login") && !(*seen & SEEN_LOGIN)) {
		*seen |= SEEN_LOGIN;
		put_unescaped(value, m->user, sizeof m->user, m);
	}
	return SN_CUR_OK;
}

/* The next line without its EOL, or SHORT/BAD. */
static enum sn_cur_step next_line(struct sn_cursor *c, struct sn_cursor *line)
{
	long at = sn_cur_find(c, '\n');
	if (at < 0) {
		/* Refuse binary early: a NUL cannot precede the blank line. */
		struct sn_cursor partial = sn_cur_rest(c);
		if (sn_cur_find(&partial, '\0') >= 0)
			return SN_CUR_BAD;
		return SN_CUR_SHORT;
	}
	size_t n = (size_t)at;
	if (n > 0 && sn_cur_peek(c, n - 1) == '\r')
		n--;
	*line = sn_cur_sub(c, n);
	sn_cur_skip(c, (size_t)at - n + 1);
	return SN_CUR_OK;
}

/*
 * Header lines up to the blank one; *lines counts the complete ones.  m is
 * NULL for frames after CONNECT (only fr is filled).
 */
static enum sn_cur_step read_headers(struct sn_cursor *c, struct sn_meta *m, size_t *lines,
				     struct stomp_frame *fr)
{
	unsigned seen = 0;

	for (size_t i = 0; i <= STOMP_HEADERS_MAX; i++) {
		*lines = i;
		struct sn_cursor line;
		enum sn_cur_step st = next_line(c, &line);
		if (st != SN_CUR_OK)
			return st;
		if (sn_cur_remaining(&line) == 0)
			return SN_CUR_OK;
		if (i == STOMP_HEADERS_MAX)
			return SN_CUR_SHORT; /* more header lines than scanned: a bound */
		st = header_line(&line, m, &seen, fr);
		if (st != SN_CUR_OK)
			return st;
	}
	return SN_CUR_SHORT;
}

/*
 * The body and its NUL: content-length octets then a NUL, or everything up
 * to the first NUL.  False when the bytes stop first or the octet after a
 * counted body is not a NUL.
 */
static bool read_body(struct sn_cursor *c, const struct stomp_frame *fr, struct sn_cursor *body)
{
	if (fr->bad_length)
		return false;
	if (fr->has_length) {
		*body = sn_cur_sub(c, fr->length);
		return sn_cur_ok(c) && sn_cur_has(c, 1) && sn_cur_u8(c) == 0;
	}
	long at = sn_cur_find(c, '\0');
	if (at < 0)
		return false;
	*body = sn_cur_sub(c, (size_t)at);
	return sn_cur_skip(c, 1);
}

/* Client frames after CONNECT (STOMP 1.2 "Client Frames"); SUBSCRIBE and SEND carry a destination. */
static const char *const client_commands[] = {
	"SEND", "SUBSCRIBE", "UNSUBSCRIBE", "BEGIN", "COMMIT", "ABORT", "ACK", "NACK", "DISCONNECT",
};

/* The index of the command on this line in client_commands, or -1. */
static int command_of(const struct sn_cursor *line)
{
	for (size_t i = 0; i < sizeof client_commands / sizeof client_commands[0]; i++)
		if (cur_is(line, client_commands[i]))
			return (int)i;
	return -1;
}

/* A destination value with the 1.2 escapes decoded, into the topic list; its index or -1. */
static int note_destination(struct sn_cursor v, struct sn_meta *m)
{
	char dest[SN_META_STR];

	put_unescaped(v, dest, sizeof dest, m);
	return sn_meta_add_topic(m, dest, strlen(dest));
}

/* Complete frames after the CONNECT's headers, up to the first incomplete or odd one. */
static void walk_frames(struct sn_cursor *c, struct sn_meta *m, const struct stomp_frame *connect,
			const struct sn_stream *s)
{
	struct sn_cursor body;

	if (!read_body(c, connect, &body))
		return;
	for (unsigned i = 0; i < STOMP_WALK_MAX; i++) {
		size_t eols, lines;
		struct sn_cursor line;
		struct stomp_frame fr = { 0 };
		if (skip_heartbeats(c, &eols) != SN_CUR_OK || next_line(c, &line) != SN_CUR_OK)
			return;
		int cmd = command_of(&line);
		if (cmd < 0 || read_headers(c, NULL, &lines, &fr) != SN_CUR_OK ||
		    !read_body(c, &fr, &body))
			return;
		const char *name = client_commands[cmd];
		bool send = strcmp(name, "SEND") == 0;
		int at = -1;
		if (fr.has_dest && (send || strcmp(name, "SUBSCRIBE") == 0))
			at = note_destination(fr.dest, m);
		if (send) /* the message: kept only as output.payload_bytes asks */
			sn_meta_add_payload(m, s, at, body.p, body.len);
	}
	size_t eols;
	if (skip_heartbeats(c, &eols) == SN_CUR_OK && sn_cur_remaining(c) > 0)
		m->topics_truncated = true; /* frames past the walk's bound were not read */
}

enum sn_verdict sn_diss_stomp(const struct sn_stream *s, struct sn_meta *out)
{
	size_t len = s->client_len < STOMP_SCAN_MAX ? s->client_len : STOMP_SCAN_MAX;
	struct sn_cursor c = sn_cur_make(s->client, len);

	size_t eols = 0, lines = 0;
	struct stomp_frame connect = { 0 };
	enum sn_cur_step st = skip_heartbeats(&c, &eols);
	bool command = false;
	if (st == SN_CUR_OK)
		st = read_command(&c, out);
	if (st == SN_CUR_OK) {
		command = true;
		st = read_headers(&c, out, &lines, &connect);
	}
	if (st == SN_CUR_SHORT && command && lines > 0 && (s->final || s->client_len >= STOMP_SCAN_MAX)) {
		/* the opening is STOMP's; the rest was cut */
		out->proto = SN_PROTO_STOMP;
		out->truncated_handshake = true;
		return SN_MATCH;
	}
	if (st == SN_CUR_SHORT && !s->final) {
		memset(out, 0, sizeof *out);
		out->skip = s->client_at_start ? (uint32_t)eols : 0;
		return SN_NEED_MORE;
	}
	if (st != SN_CUR_OK)
		return SN_NO_MATCH;
	out->proto = SN_PROTO_STOMP;
	walk_frames(&c, out, &connect, s);
	return SN_MATCH;
}
