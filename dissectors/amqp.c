/*
 * amqp.c - recognises AMQP from the 8-byte protocol header a client sends
 * first ("AMQP" + protocol id + version: AMQP 0-9-1 section 4.2.2, AMQP 1.0
 * part 2.2 and part 5.1/5.2 for the TLS and SASL layers) and, when visible
 * in the client's next frames, the user it logs in as:
 *   0-8/0-9/0-9-1: Connection.Start-Ok (class 10, method 11) with mechanism
 *                  PLAIN (RFC 4616) or AMQPLAIN (a field table with LOGIN);
 *   1.0 SASL:      the sasl-init performative (descriptor 0x41, part 5.3.3.2)
 *                  with mechanism PLAIN;
 * and for 0-9-1 the `connection_name` client property (a longstr in
 * Start-Ok's client-properties table, as RabbitMQ clients send it) and the
 * virtual host of Connection.Open (class 10, method 40).
 * The 0-9-1 client frames after the header are walked (section 4.2.3:
 * type, channel, size, payload, frame-end 0xCE; AMQP_WALK_MAX frames at
 * most, stopping at the first cut or broken one) and the names of the
 * channels the client uses join meta->topics, the list MQTT topics use, so
 * the rules' command patterns apply to them:
 *   queue.declare (50/10), basic.consume (60/20):  the queue name;
 *   queue.bind (50/20):    the queue name, and `exchange/routing-key`;
 *   basic.publish (60/40): `exchange/routing-key`, or the routing key
 *                          alone for the default (nameless) exchange,
 *                          where the routing key is a queue name.
 * Empty names (a server-named queue) are not listed.
 * The header alone confirms the protocol; a malformed frame after it only
 * means no user.  A connection the capture joined after the header
 * (client_at_start false) is confirmed instead by two complete 0-9-1
 * frames in a row in either direction, each ending in the frame-end octet
 * exactly where its size says; meta->midstream marks such a match, and the
 * client's frames are then walked for names as below.  Every length comes
 * from the wire, so each is checked against the bytes present before use
 * and the frames read are bounded.
 */
#include <string.h>

#include "dissector.h"
#include "sasl.h"

#define AMQP_HEADER_LEN 8
#define AMQP_FRAMES_MAX 4      /* 1.0 SASL frames examined after the header */
#define AMQP_WALK_MAX 64       /* 0-9-1 client frames examined after the header */
#define AMQPLAIN_FIELDS_MAX 8  /* table entries examined for LOGIN */

#define AMQP091_FRAME_METHOD 1
#define AMQP091_FRAME_HEADER 2
#define AMQP091_FRAME_BODY 3
#define AMQP091_FRAME_END 0xCE
#define AMQP091_CLASS_CONNECTION 10
#define AMQP091_METHOD_START_OK 11
#define AMQP091_METHOD_OPEN 40
#define AMQP091_CLASS_QUEUE 50
#define AMQP091_METHOD_QUEUE_DECLARE 10
#define AMQP091_METHOD_QUEUE_BIND 20
#define AMQP091_CLASS_BASIC 60
#define AMQP091_METHOD_BASIC_CONSUME 20
#define AMQP091_METHOD_BASIC_PUBLISH 40
#define AMQP_TABLE_FIELDS_MAX 32 /* client-properties entries examined for connection_name */

#define AMQP10_FRAME_SASL 1
#define AMQP10_SASL_INIT 0x41

/* AMQP 1.0 type constructors (part 1.6). */
#define AMQP10_NULL 0x40
#define AMQP10_ULONG_SMALL 0x53
#define AMQP10_ULONG 0x80
#define AMQP10_LIST0 0x45
#define AMQP10_LIST8 0xc0
#define AMQP10_LIST32 0xd0
#define AMQP10_VBIN8 0xa0
#define AMQP10_VBIN32 0xb0
#define AMQP10_SYM8 0xa3
#define AMQP10_SYM32 0xb3

enum amqp_family { AMQP_FAMILY_091, AMQP_FAMILY_010, AMQP_FAMILY_10, AMQP_FAMILY_10_SASL };

struct amqp_version {
	uint8_t id[4];  /* the four bytes after "AMQP" */
	const char *name;
	enum amqp_family family;
};

static const struct amqp_version amqp_versions[] = {
	{ { 0, 0, 9, 1 }, "0-9-1", AMQP_FAMILY_091 },
	{ { 1, 1, 8, 0 }, "0-8", AMQP_FAMILY_091 },
	{ { 1, 1, 0, 9 }, "0-9", AMQP_FAMILY_091 },
	{ { 1, 1, 0, 10 }, "0-10", AMQP_FAMILY_010 },
	{ { 0, 1, 0, 0 }, "1.0", AMQP_FAMILY_10 },
	{ { 3, 1, 0, 0 }, "1.0-sasl", AMQP_FAMILY_10_SASL },
	{ { 2, 1, 0, 0 }, "1.0-tls", AMQP_FAMILY_10 },
};

#define AMQP_N_VERSIONS (sizeof amqp_versions / sizeof amqp_versions[0])

static bool cur_is(const struct sn_cursor *v, const char *lit)
{
	size_t n = strlen(lit);
	return sn_cur_remaining(v) == n && sn_cur_starts_with(v, lit, n);
}

/* True when the first n bytes of the header of v equal have[0..n). */
static bool header_prefix_is(const struct amqp_version *v, const uint8_t *have, size_t n)
{
	uint8_t full[AMQP_HEADER_LEN] = { 'A', 'M', 'Q', 'P' };
	memcpy(full + 4, v->id, sizeof v->id);
	return memcmp(full, have, n) == 0;
}

/*
 * The version whose header the client bytes start with, or NULL; *maybe
 * tells whether the bytes so far are a prefix of some known header.
 */
static const struct amqp_version *match_header(const struct sn_cursor *c, bool *maybe)
{
	uint8_t have[AMQP_HEADER_LEN];
	struct sn_cursor peek = sn_cur_rest(c);
	size_t n = sn_cur_remaining(&peek);
	if (n > AMQP_HEADER_LEN)
		n = AMQP_HEADER_LEN;
	sn_cur_copy(&peek, have, n);

	*maybe = false;
	for (size_t i = 0; i < AMQP_N_VERSIONS; i++) {
		if (!header_prefix_is(&amqp_versions[i], have, n))
			continue;
		if (n == AMQP_HEADER_LEN)
			return &amqp_versions[i];
		*maybe = true;
	}
	return NULL;
}

/* AMQPLAIN: a field-table body (no length prefix); LOGIN is a longstr. */
static bool amqplain_user(struct sn_cursor *table, struct sn_meta *m)
{
	for (size_t i = 0; i < AMQPLAIN_FIELDS_MAX && sn_cur_remaining(table) > 0; i++) {
		uint8_t name_len = sn_cur_u8(table);
		struct sn_cursor name = sn_cur_sub(table, name_len);
		if (sn_cur_u8(table) != 'S')
			return false; /* other value types are not worth decoding here */
		uint32_t value_len = sn_cur_be32(table);
		struct sn_cursor value = sn_cur_sub(table, value_len);
		if (!sn_cur_ok(table))
			return false;
		if (cur_is(&name, "LOGIN")) {
			sn_cur_string(&value, value_len, m->user, sizeof m->user, &m->truncated);
			return true;
		}
	}
	return false;
}

static void login_response_user(const struct sn_cursor *mech, struct sn_cursor *resp,
				struct sn_meta *m)
{
	if (cur_is(mech, "PLAIN")) {
		sn_sasl_plain_user(resp, m);
	} else if (cur_is(mech, "AMQPLAIN")) {
		/* Some clients keep the table's own length: try the body, then past it. */
		struct sn_cursor body = sn_cur_rest(resp);
		if (amqplain_user(&body, m))
			return;
		uint32_t table_len = sn_cur_be32(resp);
		if (sn_cur_ok(resp) && table_len == sn_cur_remaining(resp))
			amqplain_user(resp, m);
	}
}

/*
 * Skips one field-table value of type `type` (0-9-1 section 4.2.5.5, with
 * RabbitMQ's errata types).  False for a type it does not know.
 */
static bool skip_field_value(struct sn_cursor *t, uint8_t type)
{
	switch (type) {
	case 't': case 'b': case 'B':
		return sn_cur_skip(t, 1);
	case 's': case 'u': case 'U':
		return sn_cur_skip(t, 2);
	case 'I': case 'i': case 'f':
		return sn_cur_skip(t, 4);
	case 'D':
		return sn_cur_skip(t, 5);
	case 'l': case 'L': case 'd': case 'T':
		return sn_cur_skip(t, 8);
	case 'S': case 'x': case 'A': case 'F':
		return sn_cur_skip(t, sn_cur_be32(t));
	case 'V':
		return true;
	default:
		return false;
	}
}

/* The `connection_name` longstr of a client-properties table, if there is one. */
static void connection_name(struct sn_cursor *table, struct sn_meta *m)
{
	for (size_t i = 0; i < AMQP_TABLE_FIELDS_MAX && sn_cur_remaining(table) > 0; i++) {
		struct sn_cursor name = sn_cur_sub(table, sn_cur_u8(table));
		uint8_t type = sn_cur_u8(table);
		if (!sn_cur_ok(table))
			return;
		if (type == 'S' && cur_is(&name, "connection_name")) {
			uint32_t n = sn_cur_be32(table);
			sn_cur_string(table, n, m->amqp_connection_name,
				      sizeof m->amqp_connection_name, &m->truncated);
			return;
		}
		if (!skip_field_value(table, type))
			return;
	}
}

/* Connection.Start-Ok arguments (0-9-1 section 1.4.2.2). */
static void start_ok_user(struct sn_cursor *p, struct sn_meta *m)
{
	struct sn_cursor props = sn_cur_sub(p, sn_cur_be32(p)); /* client-properties table */
	if (sn_cur_ok(p))
		connection_name(&props, m);
	struct sn_cursor mech = sn_cur_sub(p, sn_cur_u8(p));
	struct sn_cursor resp = sn_cur_sub(p, sn_cur_be32(p));
	if (sn_cur_ok(p))
		login_response_user(&mech, &resp, m);
}

/* Connection.Open arguments (0-9-1 section 1.4.2.7): virtual-host first. */
static void open_vhost(struct sn_cursor *p, struct sn_meta *m)
{
	uint8_t n = sn_cur_u8(p);
	sn_cur_string(p, n, m->amqp_vhost, sizeof m->amqp_vhost, &m->truncated);
}

/* A shortstr (section 4.2.5.3): one length octet, then that many octets. */
static struct sn_cursor shortstr(struct sn_cursor *p)
{
	return sn_cur_sub(p, sn_cur_u8(p));
}

/* A queue name into the topic list (empty: a server-named queue, not listed); its index or -1. */
static int note_queue(struct sn_cursor q, struct sn_meta *m)
{
	if (sn_cur_remaining(&q) == 0)
		return -1;
	return sn_meta_add_topic(m, (const char *)q.p, q.len);
}

/* `exchange/routing-key`, or the key alone for the default exchange, into the topic list. */
static int note_route(struct sn_cursor x, struct sn_cursor key, struct sn_meta *m)
{
	char route[2 * 255 + 2];
	size_t n = 0;

	if (sn_cur_remaining(&x) == 0)
		return note_queue(key, m);
	memcpy(route, x.p, x.len);
	n = x.len;
	route[n++] = '/';
	if (key.len)
		memcpy(route + n, key.p, key.len);
	n += key.len;
	return sn_meta_add_topic(m, route, n);
}

/*
 * queue.declare, queue.bind, basic.consume, basic.publish: reserved-1, then
 * names.  Returns the topic index of a basic.publish's route (or -1): the
 * content that follows goes there.
 */
static int note_channel_method(uint16_t cls, uint16_t method, struct sn_cursor *p, struct sn_meta *m)
{
	sn_cur_skip(p, 2); /* reserved-1 (ticket) */
	if (cls == AMQP091_CLASS_QUEUE && method == AMQP091_METHOD_QUEUE_BIND) {
		struct sn_cursor q = shortstr(p), x = shortstr(p), key = shortstr(p);
		if (!sn_cur_ok(p))
			return -1;
		note_queue(q, m);
		note_route(x, key, m);
	} else if (cls == AMQP091_CLASS_BASIC && method == AMQP091_METHOD_BASIC_PUBLISH) {
		struct sn_cursor x = shortstr(p), key = shortstr(p);
		if (sn_cur_ok(p))
			return note_route(x, key, m);
	} else {
		struct sn_cursor q = shortstr(p);
		if (sn_cur_ok(p))
			note_queue(q, m);
	}
	return -1;
}

/* One method frame's payload: class id, method id, arguments (section 4.2.4).
 * Returns the publish route's topic index, -2 for any other method. */
static int note_method(struct sn_cursor *p, struct sn_meta *m)
{
	uint16_t cls = sn_cur_be16(p), method = sn_cur_be16(p);

	if (!sn_cur_ok(p))
		return -2;
	if (cls == AMQP091_CLASS_CONNECTION && method == AMQP091_METHOD_START_OK)
		start_ok_user(p, m);
	else if (cls == AMQP091_CLASS_CONNECTION && method == AMQP091_METHOD_OPEN)
		open_vhost(p, m);
	else if (cls == AMQP091_CLASS_BASIC && method == AMQP091_METHOD_BASIC_PUBLISH)
		return note_channel_method(cls, method, p, m);
	else if ((cls == AMQP091_CLASS_QUEUE && (method == AMQP091_METHOD_QUEUE_DECLARE ||
						 method == AMQP091_METHOD_QUEUE_BIND)) ||
		 (cls == AMQP091_CLASS_BASIC && method == AMQP091_METHOD_BASIC_CONSUME))
		note_channel_method(cls, method, p, m);
	return -2;
}

/*
 * 0-9-1 general frames (section 4.2.3): type, channel, size, payload, 0xCE.
 * The client sends Start-Ok, Tune-Ok, Open, then its channels' methods.  A
 * basic.publish is followed by a content header and body frames (section
 * 4.2.6); the first body frame after a header starts the message, whose
 * bytes are kept only as output.payload_bytes asks.
 */
static void amqp091_walk_client(struct sn_cursor *c, struct sn_meta *m, const struct sn_stream *s)
{
	int route = -2;           /* the last basic.publish's topic index; -2: none */
	bool message_starts = false; /* a content header came: the next body frame begins it */
	uint64_t body_size = 0;   /* the content header's body size */

	for (size_t i = 0; i < AMQP_WALK_MAX && sn_cur_remaining(c) > 0; i++) {
		uint8_t type = sn_cur_u8(c);
		sn_cur_be16(c); /* channel */
		uint32_t size = sn_cur_be32(c);
		struct sn_cursor payload = sn_cur_sub(c, size);
		if (sn_cur_u8(c) != AMQP091_FRAME_END || !sn_cur_ok(c))
			return;
		if (type == AMQP091_FRAME_METHOD) {
			route = note_method(&payload, m);
			message_starts = false;
		} else if (type == AMQP091_FRAME_HEADER) {
			sn_cur_skip(&payload, 4); /* class id, weight */
			uint64_t hi = sn_cur_be32(&payload);
			body_size = hi << 32 | sn_cur_be32(&payload);
			message_starts = route != -2 && sn_cur_ok(&payload);
		} else if (type == AMQP091_FRAME_BODY && message_starts) {
			uint8_t had = m->payloads.n;
			sn_meta_add_payload(m, s, route, payload.p, payload.len);
			if (m->payloads.n > had && body_size > payload.len) {
				/* the message goes on in further body frames */
				struct sn_meta_payload *it = &m->payloads.item[had];
				it->size = body_size > UINT32_MAX ? UINT32_MAX : (uint32_t)body_size;
				it->cut = true;
			}
			message_starts = false;
		}
	}
	if (sn_cur_remaining(c) > 0)
		m->topics_truncated = true; /* frames past the walk's bound were not read */
}

/* A value encoded as one of two sized constructors, or null (empty). */
static bool amqp10_sized(struct sn_cursor *c, uint8_t small, uint8_t large, struct sn_cursor *out)
{
	uint8_t ctor = sn_cur_u8(c);
	size_t len;

	if (ctor == AMQP10_NULL)
		len = 0;
	else if (ctor == small)
		len = sn_cur_u8(c);
	else if (ctor == large)
		len = sn_cur_be32(c);
	else
		return false;
	*out = sn_cur_sub(c, len);
	return sn_cur_ok(c);
}

/* The descriptor 0x00 + ulong code of a described performative. */
static uint64_t amqp10_descriptor(struct sn_cursor *c)
{
	if (sn_cur_u8(c) != 0x00)
		return 0;
	uint8_t ctor = sn_cur_u8(c);
	if (ctor == AMQP10_ULONG_SMALL)
		return sn_cur_u8(c);
	if (ctor == AMQP10_ULONG) {
		uint64_t hi = sn_cur_be32(c);
		return hi << 32 | sn_cur_be32(c);
	}
	return 0;
}

/* The fields of a list8/list32, as a cursor and a count. */
static bool amqp10_list(struct sn_cursor *c, struct sn_cursor *fields, uint32_t *count)
{
	uint8_t ctor = sn_cur_u8(c);
	if (ctor == AMQP10_LIST0) {
		*count = 0;
		*fields = sn_cur_make(NULL, 0);
		return sn_cur_ok(c);
	}
	if (ctor == AMQP10_LIST8) {
		*fields = sn_cur_sub(c, sn_cur_u8(c));
		*count = sn_cur_u8(fields);
	} else if (ctor == AMQP10_LIST32) {
		*fields = sn_cur_sub(c, sn_cur_be32(c));
		*count = sn_cur_be32(fields);
	} else {
		return false;
	}
	return sn_cur_ok(c) && sn_cur_ok(fields);
}

/* sasl-init (part 5.3.3.2): mechanism, initial-response, hostname. */
static bool sasl_init_user(struct sn_cursor *body, struct sn_meta *m)
{
	struct sn_cursor fields, mech, resp;
	uint32_t count;

	if (amqp10_descriptor(body) != AMQP10_SASL_INIT)
		return false;
	if (!amqp10_list(body, &fields, &count) || count < 2)
		return true;
	if (!amqp10_sized(&fields, AMQP10_SYM8, AMQP10_SYM32, &mech) ||
	    !amqp10_sized(&fields, AMQP10_VBIN8, AMQP10_VBIN32, &resp))
		return true;
	if (cur_is(&mech, "PLAIN"))
		sn_sasl_plain_user(&resp, m);
	return true;
}

/* 1.0 frames (part 2.3.1): size, doff (4-byte words), type, channel, body. */
static void amqp10_sasl_user(struct sn_cursor *c, struct sn_meta *m)
{
	for (size_t i = 0; i < AMQP_FRAMES_MAX; i++) {
		uint32_t size = sn_cur_be32(c);
		uint8_t doff = sn_cur_u8(c);
		uint8_t type = sn_cur_u8(c);
		sn_cur_be16(c); /* channel, ignored for SASL frames */
		if (!sn_cur_ok(c) || size < 8 || doff < 2 || (size_t)doff * 4 > size)
			return;
		struct sn_cursor body = sn_cur_sub(c, size - 8);
		sn_cur_skip(&body, (size_t)doff * 4 - 8); /* extended header */
		if (!sn_cur_ok(c))
			return;
		if (type == AMQP10_FRAME_SASL && sasl_init_user(&body, m))
			return;
	}
}

/* ---- mid-stream: a connection picked up after its protocol header ------- */

#define AMQP091_FRAME_HEARTBEAT 8
#define AMQP_MID_FRAMES 16     /* frames checked per direction, at most */
#define AMQP_MID_NEEDED 2      /* complete frames in a row that confirm */

/* How a direction's bytes read as 0-9-1 frames from offset 0. */
struct amqp_run {
	unsigned complete;  /* complete, well-formed frames in a row */
	bool bad;           /* a frame broke the rules */
};

/* The classes of 0-9-1 section 1 (connection .. tx). */
static bool amqp091_class_known(uint16_t id)
{
	switch (id) {
	case 10: case 20: case 30: case 40: case 50: case 60: case 85: case 90:
		return true;
	default:
		return false;
	}
}

/* The payload fits the frame type (0-9-1 sections 4.2.5 - 4.2.7). */
static bool amqp091_payload_ok(uint8_t type, uint16_t channel, struct sn_cursor p)
{
	switch (type) {
	case AMQP091_FRAME_METHOD: /* class id, method id, arguments */
		return amqp091_class_known(sn_cur_be16(&p)) && sn_cur_skip(&p, 2);
	case AMQP091_FRAME_HEADER: /* class id, weight (always 0), body size, flags */
		if (!amqp091_class_known(sn_cur_be16(&p)) || sn_cur_be16(&p) != 0)
			return false;
		return sn_cur_skip(&p, 10) && channel != 0;
	case AMQP091_FRAME_BODY:
		return channel != 0;
	case AMQP091_FRAME_HEARTBEAT:
		return channel == 0 && sn_cur_remaining(&p) == 0;
	default:
		return false;
	}
}

/* Frames (section 4.2.3) from offset 0 until the bytes end, one is cut, or one is bad. */
static void amqp091_walk(const uint8_t *bytes, size_t n, struct amqp_run *run)
{
	struct sn_cursor c = sn_cur_make(bytes, n);

	for (size_t i = 0; i < AMQP_MID_FRAMES && sn_cur_remaining(&c) > 0; i++) {
		uint8_t type = sn_cur_u8(&c);
		uint16_t channel = sn_cur_be16(&c);
		uint32_t size = sn_cur_be32(&c);
		if (type != AMQP091_FRAME_METHOD && type != AMQP091_FRAME_HEADER &&
		    type != AMQP091_FRAME_BODY && type != AMQP091_FRAME_HEARTBEAT) {
			run->bad = true;
			return;
		}
		if (!sn_cur_ok(&c) || (size_t)size >= sn_cur_remaining(&c))
			return; /* cut by the end of the bytes seen: nothing more to say */
		struct sn_cursor payload = sn_cur_sub(&c, size);
		if (sn_cur_u8(&c) != AMQP091_FRAME_END || !amqp091_payload_ok(type, channel, payload)) {
			run->bad = true;
			return;
		}
		run->complete++;
	}
}

/*
 * Two complete 0-9-1 frames in a row in either direction, and nothing
 * malformed in the other.  0-8, 0-9 and 0-9-1 share the frame format, so
 * the version stays unknown.
 */
static enum sn_verdict amqp_midstream(const struct sn_stream *s, struct sn_meta *out)
{
	struct amqp_run cl = { 0, false }, sv = { 0, false };

	amqp091_walk(s->client, s->client_len, &cl);
	amqp091_walk(s->server, s->server_len, &sv);
	if (cl.bad || sv.bad)
		return SN_NO_MATCH;
	if (cl.complete >= AMQP_MID_NEEDED || sv.complete >= AMQP_MID_NEEDED) {
		out->proto = SN_PROTO_AMQP;
		out->midstream = true;
		/* the channel methods in view (a publisher's basic.publish routes) */
		struct sn_cursor c = sn_cur_make(s->client, s->client_len);
		amqp091_walk_client(&c, out, s);
		return SN_MATCH;
	}
	return s->final ? SN_NO_MATCH : SN_NEED_MORE;
}

enum sn_verdict sn_diss_amqp(const struct sn_stream *s, struct sn_meta *out)
{
	struct sn_cursor c = sn_cur_make(s->client, s->client_len);
	bool maybe;
	const struct amqp_version *v = match_header(&c, &maybe);

	if (!v) {
		enum sn_verdict mid = s->client_at_start ? SN_NO_MATCH : amqp_midstream(s, out);
		if (mid == SN_MATCH || (maybe && !s->final))
			return mid == SN_MATCH ? mid : SN_NEED_MORE;
		return mid;
	}

	out->proto = SN_PROTO_AMQP;
	sn_meta_set(out, out->amqp_version, sizeof out->amqp_version, v->name, strlen(v->name));
	sn_cur_skip(&c, AMQP_HEADER_LEN);
	if (v->family == AMQP_FAMILY_091)
		amqp091_walk_client(&c, out, s);
	else if (v->family == AMQP_FAMILY_10_SASL)
		amqp10_sasl_user(&c, out);
	return SN_MATCH;
}
