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
 */
#include <string.h>

#include "dissector.h"

#define STOMP_SCAN_MAX 4096    /* client bytes examined */
#define STOMP_HEADERS_MAX 32   /* header lines in the CONNECT frame */

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

/* One `name:value` line (EOL already removed). */
static enum sn_cur_step header_line(struct sn_cursor *line, struct sn_meta *m, unsigned *seen)
{
	if (sn_cur_find(line, '\0') >= 0)
		return SN_CUR_BAD; /* a NUL ends a frame; it cannot sit in a header */
	long colon = sn_cur_find(line, ':');
	if (colon <= 0)
		return SN_CUR_BAD;
	struct sn_cursor name = sn_cur_sub(line, (size_t)colon);
	sn_cur_skip(line, 1);
	struct sn_cursor value = sn_cur_rest(line);

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

/* Header lines up to the blank one; *lines counts the complete ones. */
static enum sn_cur_step read_headers(struct sn_cursor *c, struct sn_meta *m, size_t *lines)
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
		st = header_line(&line, m, &seen);
		if (st != SN_CUR_OK)
			return st;
	}
	return SN_CUR_SHORT;
}

enum sn_verdict sn_diss_stomp(const struct sn_stream *s, struct sn_meta *out)
{
	size_t len = s->client_len < STOMP_SCAN_MAX ? s->client_len : STOMP_SCAN_MAX;
	struct sn_cursor c = sn_cur_make(s->client, len);

	size_t eols = 0, lines = 0;
	enum sn_cur_step st = skip_heartbeats(&c, &eols);
	bool command = false;
	if (st == SN_CUR_OK)
		st = read_command(&c, out);
	if (st == SN_CUR_OK) {
		command = true;
		st = read_headers(&c, out, &lines);
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
	return SN_MATCH;
}
