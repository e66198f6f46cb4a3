/*
 * mqtt.c - MQTT 3.1 / 3.1.1 / 5.0 dissector: confirms a client's CONNECT
 * and collects the topics of the PUBLISH and SUBSCRIBE packets after it.
 *
 * Specs: MQTT 3.1.1 (OASIS 2014) sections 2.2 (fixed header, remaining
 * length), 3.1 (CONNECT), 3.3 (PUBLISH), 3.8 (SUBSCRIBE); MQTT 5.0 (OASIS
 * 2019) 2.2.2 (properties) and 3.1.2.11 / 3.1.3.2 (CONNECT and will
 * properties); MQTT 3.1 (IBM) for the "MQIsdp" protocol name.
 *
 * Only the client direction is read.  The verdict comes from the CONNECT's
 * opening: the fixed header, a sane remaining length, the protocol name
 * (MQTT or MQIsdp) and a level of 3, 4 or 5.  A wrong byte before that
 * answers NO_MATCH.  After it the packet is MQTT whatever follows: while
 * bytes keep coming the answer waits for the whole packet (NEED_MORE), a
 * packet cut by the core's bound is a MATCH with truncated_handshake and
 * the fields read so far, and a packet that breaks the specification
 * (invalid flags, a length inside that runs past the remaining length,
 * bytes left over) is SN_MALFORMED with meta->malformed saying what broke.
 * Parsing starts at offset 0 whether or not the capture saw the stream's
 * start.
 *
 * A connection the capture joined after its CONNECT (client_at_start
 * false) can still be confirmed from the packets that follow, read in both
 * directions and held to every fixed-header and length rule of 3.1.1 and
 * 5.0; such a match sets meta->midstream and leaves the version unknown.
 */
#include <string.h>

#include "dissector.h"

#define MQ_CONNECT_BYTE 0x10    /* type 1 (CONNECT), flags 0 */
#define MQ_SUBSCRIBE_BYTE 0x82  /* type 8, flags 0010 (fixed by the spec) */
#define MQ_CONNECT_MIN 12       /* name "MQTT", level, flags, keepalive, empty id */
#define MQ_WALK_MAX 64          /* packets after CONNECT looked at, at most */
#define MQ_FILTERS_MAX 64       /* topic filters read per SUBSCRIBE, at most */

/* Connect flags, MQTT 3.1.1 section 3.1.2.3. */
#define MQ_FLAG_RESERVED 0x01
#define MQ_FLAG_CLEAN 0x02
#define MQ_FLAG_WILL 0x04
#define MQ_FLAG_WILL_QOS 0x18
#define MQ_FLAG_WILL_RETAIN 0x20
#define MQ_FLAG_PASSWORD 0x40
#define MQ_FLAG_USER 0x80

enum mq_type {
	MQ_TYPE_RESERVED = 0,
	MQ_TYPE_CONNECT = 1,
	MQ_TYPE_PUBLISH = 3,
	MQ_TYPE_SUBSCRIBE = 8,
	MQ_TYPE_AUTH = 15,
};

/* How reading a field went: whole, cut short by the buffer, or malformed. */
enum mq_rc { MQ_OK = 0, MQ_SHORT, MQ_BAD };

/* How far a CONNECT got, for the verdict. */
struct mq_connect {
	uint8_t level;
	bool opened;          /* fixed header, name and level are MQTT's */
	uint32_t props_len;   /* the last property length read (MQTT 5.0) */
	bool props_short;     /* ... and it ran past the bytes */
	uint8_t bad_flags;    /* connect flags that break 3.1.2.3-3.1.2.9, or 0 */
	bool flags_bad;
};

/* Variable byte integer (3.1.1 section 2.2.3): at most 4 bytes. */
static enum mq_rc read_vbi(struct sn_cursor *c, uint32_t *val)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < 4; i++) {
		if (!sn_cur_has(c, 1))
			return MQ_SHORT;
		uint8_t b = sn_cur_u8(c);
		v |= (uint32_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			*val = v;
			return MQ_OK;
		}
	}
	return MQ_BAD;
}

/* A 2-byte length and its bytes; copied into dst unless dst is NULL. */
static enum mq_rc read_str(struct sn_cursor *c, struct sn_meta *m, char *dst, size_t cap)
{
	uint16_t n = sn_cur_be16(c);
	struct sn_cursor str = sn_cur_sub(c, n);

	if (!sn_cur_ok(c))
		return MQ_SHORT;
	if (dst)
		sn_meta_set(m, dst, cap, (const char *)str.p, str.len);
	return MQ_OK;
}

/* 5.0 property values by identifier (defined with the mid-stream checks). */
enum mq_prop_kind { MQ_PK_BAD, MQ_PK_BYTE, MQ_PK_TWO, MQ_PK_FOUR, MQ_PK_VBI, MQ_PK_STR, MQ_PK_PAIR };
static enum mq_prop_kind prop_kind(uint8_t id);
static bool skip_prop_value(struct sn_cursor *p, enum mq_prop_kind kind);

#define MQ_USER_PROPERTY 0x26

/* Appends src[0..n) to dst (length *len, capacity cap); false when it was cut. */
static bool append(char *dst, size_t *len, size_t cap, const uint8_t *src, size_t n)
{
	struct sn_cursor c = sn_cur_make(src, n);
	while (sn_cur_remaining(&c) > 0 && *len + 1 < cap) {
		uint8_t b = sn_cur_u8(&c);
		if (b == 0)
			break;
		dst[(*len)++] = (char)b;
	}
	dst[*len] = '\0';
	return sn_cur_remaining(&c) == 0;
}

/* One User Property (5.0 section 3.1.2.11.8): a key and a value string, kept as "key=value". */
static void user_property(struct sn_cursor *p, struct sn_meta *m)
{
	struct sn_cursor key = sn_cur_sub(p, sn_cur_be16(p));
	struct sn_cursor value = sn_cur_sub(p, sn_cur_be16(p));
	if (!sn_cur_ok(p))
		return;
	if (m->n_mqtt_user_properties >= SN_META_USER_PROPS) {
		m->mqtt_user_properties_truncated = true; /* full: the rest are said to be cut */
		return;
	}
	char *item = m->mqtt_user_properties[m->n_mqtt_user_properties++];
	size_t len = 0;
	bool whole = append(item, &len, SN_META_USER_PROP_STR, key.p, key.len) &&
		     append(item, &len, SN_META_USER_PROP_STR, (const uint8_t *)"=", 1) &&
		     append(item, &len, SN_META_USER_PROP_STR, value.p, value.len);
	if (!whole)
		m->mqtt_user_properties_truncated = true;
}

/*
 * The user properties among a CONNECT's 5.0 properties, as far as the
 * bytes go; the list itself is checked by skip_props.  Every property read
 * consumes at least its identifier byte, so the walk ends with the bytes.
 */
static void user_properties(struct sn_cursor c, struct sn_meta *m)
{
	uint32_t len;
	if (read_vbi(&c, &len) != MQ_OK)
		return;
	struct sn_cursor p = sn_cur_sub(&c, len < sn_cur_remaining(&c) ? len : sn_cur_remaining(&c));
	while (sn_cur_remaining(&p) > 0 && sn_cur_ok(&p)) {
		uint8_t id = sn_cur_u8(&p);
		if (id == MQ_USER_PROPERTY)
			user_property(&p, m);
		else if (!skip_prop_value(&p, prop_kind(id)))
			return;
	}
}

/* MQTT 5 properties: a variable byte integer length, then that many bytes. */
static enum mq_rc skip_props(struct sn_cursor *c, struct mq_connect *k)
{
	uint32_t len;
	enum mq_rc rc = read_vbi(c, &len);

	if (rc != MQ_OK)
		return rc;
	if (k) {
		k->props_len = len;
		k->props_short = sn_cur_remaining(c) < len;
	}
	return sn_cur_skip(c, len) ? MQ_OK : MQ_SHORT;
}

/*
 * Protocol name and level (3.1.2.1-2).  The name is compared as soon as
 * each byte is visible, so "CONNECT {" (NATS) or HTTP dies at once.
 */
static enum mq_rc parse_protocol(struct sn_cursor *c, struct sn_meta *m, uint8_t *level)
{
	uint16_t n = sn_cur_be16(c);
	const char *name = n == 4 ? "MQTT" : "MQIsdp";

	if (!sn_cur_ok(c))
		return MQ_SHORT;
	if (n != 4 && n != 6)
		return MQ_BAD;
	size_t seen = sn_cur_remaining(c) < n ? sn_cur_remaining(c) : n;
	if (!sn_cur_starts_with(c, name, seen))
		return MQ_BAD;
	if (!sn_cur_skip(c, n) || !sn_cur_has(c, 1))
		return MQ_SHORT;
	*level = sn_cur_u8(c);
	if (n == 6 && *level == 3)
		sn_meta_set(m, m->mqtt_version, sizeof m->mqtt_version, "3.1", 3);
	else if (n == 4 && *level == 4)
		sn_meta_set(m, m->mqtt_version, sizeof m->mqtt_version, "3.1.1", 5);
	else if (n == 4 && *level == 5)
		sn_meta_set(m, m->mqtt_version, sizeof m->mqtt_version, "5.0", 3);
	else
		return MQ_BAD;
	return MQ_OK;
}

/* 3.1.2.3-3.1.2.9: the combinations a conforming client never sends. */
static bool flags_valid(uint8_t flags, uint8_t level)
{
	unsigned will_qos = ((unsigned)flags & MQ_FLAG_WILL_QOS) >> 3;

	if (flags & MQ_FLAG_RESERVED)
		return false;
	if (will_qos > 2)
		return false;
	if (!(flags & MQ_FLAG_WILL) && (will_qos || (flags & MQ_FLAG_WILL_RETAIN)))
		return false;
	/* 5.0 dropped the rule that a password needs a user name. */
	if ((flags & MQ_FLAG_PASSWORD) && !(flags & MQ_FLAG_USER) && level != 5)
		return false;
	return true;
}

/* Payload (3.1.3): client id, will, user name, password, in that order. */
static enum mq_rc parse_payload(struct sn_cursor *c, struct sn_meta *m, uint8_t flags,
				struct mq_connect *k)
{
	enum mq_rc rc = read_str(c, m, m->client_id, sizeof m->client_id);

	m->has_client_id = rc == MQ_OK; /* present, even when empty (3.1.3.1) */
	if (rc == MQ_OK && (flags & MQ_FLAG_WILL)) {
		if (k->level == 5)
			rc = skip_props(c, k);
		if (rc == MQ_OK)
			rc = read_str(c, m, m->will_topic, sizeof m->will_topic);
		if (rc == MQ_OK)
			rc = read_str(c, m, NULL, 0); /* will payload: binary */
	}
	if (rc == MQ_OK && (flags & MQ_FLAG_USER))
		rc = read_str(c, m, m->user, sizeof m->user);
	if (rc == MQ_OK && (flags & MQ_FLAG_PASSWORD))
		rc = read_str(c, m, NULL, 0);
	return rc;
}

/* Variable header and payload of a CONNECT, over the body bytes seen so far. */
static enum mq_rc parse_connect_body(struct sn_cursor *c, struct sn_meta *m, struct mq_connect *k)
{
	enum mq_rc rc = parse_protocol(c, m, &k->level);

	if (rc != MQ_OK)
		return rc;
	k->opened = true;
	if (!sn_cur_has(c, 1))
		return MQ_SHORT;
	uint8_t flags = sn_cur_u8(c);
	if (!flags_valid(flags, k->level)) {
		k->flags_bad = true;
		k->bad_flags = flags;
		return MQ_BAD;
	}
	uint16_t keepalive = sn_cur_be16(c);
	if (!sn_cur_ok(c))
		return MQ_SHORT;
	m->has_keepalive = true;
	m->keepalive = keepalive;
	m->has_clean_session = true;
	m->clean_session = (flags & MQ_FLAG_CLEAN) != 0;
	if (k->level == 5) {
		user_properties(sn_cur_rest(c), m);
		if ((rc = skip_props(c, k)) != MQ_OK)
			return rc;
	}
	return parse_payload(c, m, flags, k);
}

/* What broke a CONNECT whose opening was MQTT's, into m->malformed. */
static void explain(struct sn_meta *m, const struct mq_connect *k, uint32_t rl, size_t left)
{
	if (k->flags_bad)
		sn_meta_malformed(m, "MQTT CONNECT flags 0x%02x break the specification", k->bad_flags);
	else if (k->props_short)
		sn_meta_malformed(m, "MQTT %s property length %u exceeds the packet", m->mqtt_version,
				  k->props_len);
	else if (left)
		sn_meta_malformed(m, "MQTT CONNECT has %zu bytes after its payload", left);
	else
		sn_meta_malformed(m, "a length inside the MQTT CONNECT runs past its remaining length %u",
				  rl);
}

/*
 * The CONNECT packet at the cursor.  A read that runs off the end of a
 * body that has fully arrived means a length inside disagrees with the
 * remaining length: malformed, not "need more" (explained in m once the
 * opening was MQTT's).
 */
static enum mq_rc parse_connect(struct sn_cursor *c, struct sn_meta *m, struct mq_connect *k)
{
	uint32_t rl = 0;

	if (!sn_cur_has(c, 1))
		return MQ_SHORT;
	if (sn_cur_u8(c) != MQ_CONNECT_BYTE)
		return MQ_BAD;
	enum mq_rc rc = read_vbi(c, &rl);
	if (rc != MQ_OK)
		return rc;
	if (rl < MQ_CONNECT_MIN)
		return MQ_BAD;
	bool whole = sn_cur_remaining(c) >= rl;
	struct sn_cursor body = sn_cur_sub(c, whole ? rl : sn_cur_remaining(c));
	rc = parse_connect_body(&body, m, k);
	size_t left = 0;
	if (rc == MQ_SHORT && whole) {
		rc = MQ_BAD;
	} else if (rc == MQ_SHORT && k->props_short && k->props_len > rl) {
		rc = MQ_BAD; /* no amount of further bytes can hold it */
	} else if (rc == MQ_OK) {
		/* Parsed to the end but bytes of the remaining length are left over. */
		left = whole ? sn_cur_remaining(&body) : rl - sn_cur_offset(&body);
		if (left != 0)
			rc = MQ_BAD;
	}
	if (rc == MQ_BAD && k->opened)
		explain(m, k, rl, left);
	return rc;
}

/*
 * PUBLISH (3.3): topic name, a packet id when QoS > 0, 5.0 properties, then
 * the application message (kept only as output.payload_bytes asks).
 */
static bool note_publish(uint8_t first, struct sn_cursor *pkt, struct sn_meta *m, uint8_t level,
			 const struct sn_stream *s)
{
	unsigned qos = ((unsigned)first >> 1) & 3;
	uint16_t n = sn_cur_be16(pkt);
	struct sn_cursor topic = sn_cur_sub(pkt, n);

	if (qos == 3)
		return false;
	if (qos > 0)
		sn_cur_skip(pkt, 2);
	if (!sn_cur_ok(pkt))
		return false;
	int at = sn_meta_add_topic(m, (const char *)topic.p, topic.len);
	if (level == 5 && skip_props(pkt, NULL) != MQ_OK)
		return true; /* the topic stands; the message is not where it should be */
	struct sn_cursor msg = sn_cur_rest(pkt);
	sn_meta_add_payload(m, s, at, msg.p, msg.len);
	return true;
}

/* SUBSCRIBE (3.8): packet id, [v5 properties], then filter + options pairs. */
static bool note_subscribe(struct sn_cursor *pkt, struct sn_meta *m, uint8_t level)
{
	sn_cur_skip(pkt, 2);
	if (level == 5 && skip_props(pkt, NULL) != MQ_OK)
		return false;
	if (!sn_cur_ok(pkt) || sn_cur_remaining(pkt) == 0)
		return false;
	for (unsigned i = 0; i < MQ_FILTERS_MAX && sn_cur_remaining(pkt) > 0; i++) {
		uint16_t n = sn_cur_be16(pkt);
		struct sn_cursor filter = sn_cur_sub(pkt, n);
		sn_cur_skip(pkt, 1); /* subscription options / requested QoS */
		if (!sn_cur_ok(pkt))
			return false;
		sn_meta_add_topic(m, (const char *)filter.p, filter.len);
	}
	return true;
}

/* One complete control packet after CONNECT; false stops the walk. */
static bool note_packet(uint8_t first, struct sn_cursor *pkt, struct sn_meta *m, uint8_t level,
			const struct sn_stream *s)
{
	switch (first >> 4) {
	case MQ_TYPE_RESERVED:
	case MQ_TYPE_CONNECT: /* a second CONNECT is a protocol violation */
		return false;
	case MQ_TYPE_PUBLISH:
		return note_publish(first, pkt, m, level, s);
	case MQ_TYPE_SUBSCRIBE:
		return first == MQ_SUBSCRIBE_BYTE && note_subscribe(pkt, m, level);
	case MQ_TYPE_AUTH:
		return level == 5;
	default:
		return true;
	}
}

/* Complete packets after CONNECT, up to the first incomplete or odd one. */
static void walk_packets(struct sn_cursor *c, struct sn_meta *m, uint8_t level,
			 const struct sn_stream *s)
{
	for (unsigned i = 0; i < MQ_WALK_MAX && sn_cur_has(c, 1); i++) {
		uint32_t rl = 0;
		uint8_t first = sn_cur_u8(c);
		if (read_vbi(c, &rl) != MQ_OK || rl > sn_cur_remaining(c))
			return;
		struct sn_cursor pkt = sn_cur_sub(c, rl);
		if (!note_packet(first, &pkt, m, level, s))
			return;
	}
	if (sn_cur_has(c, 1))
		m->topics_truncated = true; /* packets past the walk's bound were not read */
}

/* ---- mid-stream: a connection picked up after its CONNECT --------------- */

/*
 * Without the CONNECT the bytes of each direction must read, from offset 0,
 * as a run of well-formed control packets whose fixed header flags, lengths
 * and reason codes fit MQTT 3.1.1 or 5.0 (3.1.1 section 2.2.2, 5.0 section
 * 2.1.3 and 2.4).  The version is unknown, so a packet may have either
 * form.  Random bytes rarely survive two such packets back to back.
 */
#define MQ_MID_PACKETS 64  /* packets checked per direction, at most */
#define MQ_MID_ITEMS 64    /* properties or filters read per packet, at most */
#define MQ_MID_NAMED 3     /* printable topic bytes that make one PUBLISH enough */

/* What one direction's bytes showed. */
struct mq_run {
	enum mq_rc rc;          /* OK: exactly framed; SHORT: last packet cut; BAD */
	unsigned complete;      /* well-formed complete packets */
	unsigned named;         /* complete PUBLISHes with a printable topic */
	bool cut_named;         /* the cut last packet is such a PUBLISH */
};

/* 5.0 section 2.4 reason codes, per packet type (3.1.1 return codes too). */
static const uint8_t rc_connack[] = { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x80, 0x81, 0x82,
				      0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8c,
				      0x90, 0x95, 0x97, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9f };
static const uint8_t rc_puback[] = { 0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99 };
static const uint8_t rc_pubrel[] = { 0x00, 0x92 };
static const uint8_t rc_suback[] = { 0x00, 0x01, 0x02, 0x80, 0x83, 0x87,
				     0x8f, 0x91, 0x97, 0x9e, 0xa1, 0xa2 };
static const uint8_t rc_unsuback[] = { 0x00, 0x11, 0x80, 0x83, 0x87, 0x8f, 0x91 };
static const uint8_t rc_disconnect[] = { 0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89,
					 0x8b, 0x8d, 0x8e, 0x8f, 0x90, 0x93, 0x94, 0x95,
					 0x96, 0x97, 0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d,
					 0x9e, 0x9f, 0xa0, 0xa1, 0xa2 };
static const uint8_t rc_auth[] = { 0x00, 0x18, 0x19 };
static const uint8_t rc_suback311[] = { 0x00, 0x01, 0x02, 0x80 };

struct mq_codes {
	const uint8_t *v;
	size_t n;
};

#define MQ_CODES(a) ((struct mq_codes){ a, sizeof a })

static bool code_in(uint8_t b, struct mq_codes set)
{
	return memchr(set.v, b, set.n) != NULL;
}

/* 5.0 section 2.2.2.2: the size of each property's value, by identifier. */

static enum mq_prop_kind prop_kind(uint8_t id)
{
	switch (id) {
	case 0x01: case 0x17: case 0x19: case 0x24: case 0x25: case 0x28: case 0x29: case 0x2a:
		return MQ_PK_BYTE;
	case 0x13: case 0x21: case 0x22: case 0x23:
		return MQ_PK_TWO;
	case 0x02: case 0x11: case 0x18: case 0x27:
		return MQ_PK_FOUR;
	case 0x0b:
		return MQ_PK_VBI;
	case 0x03: case 0x08: case 0x09: case 0x12: case 0x15: case 0x16: case 0x1a: case 0x1c:
	case 0x1f:
		return MQ_PK_STR; /* UTF-8 strings and binary data share the 2-byte length */
	case 0x26:
		return MQ_PK_PAIR;
	default:
		return MQ_PK_BAD;
	}
}

static bool skip_prop_value(struct sn_cursor *p, enum mq_prop_kind kind)
{
	uint32_t v;

	switch (kind) {
	case MQ_PK_BYTE:
		return sn_cur_skip(p, 1);
	case MQ_PK_TWO:
		return sn_cur_skip(p, 2);
	case MQ_PK_FOUR:
		return sn_cur_skip(p, 4);
	case MQ_PK_VBI:
		return read_vbi(p, &v) == MQ_OK;
	case MQ_PK_PAIR:
		if (!sn_cur_skip(p, sn_cur_be16(p)))
			return false;
		return sn_cur_skip(p, sn_cur_be16(p));
	case MQ_PK_STR:
		return sn_cur_skip(p, sn_cur_be16(p));
	default:
		return false;
	}
}

/* A 5.0 property list: its length, then identifier + value pairs filling it. */
static bool props_valid(struct sn_cursor *c)
{
	uint32_t len;

	if (read_vbi(c, &len) != MQ_OK || len > sn_cur_remaining(c))
		return false;
	struct sn_cursor p = sn_cur_sub(c, len);
	for (unsigned i = 0; i < MQ_MID_ITEMS && sn_cur_remaining(&p) > 0; i++)
		if (!skip_prop_value(&p, prop_kind(sn_cur_u8(&p))))
			return false;
	return sn_cur_ok(&p) && sn_cur_remaining(&p) == 0;
}

/* Continuation bytes after a UTF-8 lead byte; -1 for a byte that cannot lead. */
static int utf8_more(uint8_t b)
{
	if (b < 0x80)
		return 0;
	if (b >= 0xc2 && b < 0xe0)
		return 1;
	if (b >= 0xe0 && b < 0xf0)
		return 2;
	if (b >= 0xf0 && b < 0xf5)
		return 3;
	return -1;
}

/*
 * MQTT UTF-8 string rules (3.1.1 section 1.5.3): well-formed UTF-8 (no
 * overlong forms), no U+0000, no surrogates.  Topic names also exclude the
 * wildcards (4.7.1).
 */
static bool utf8_valid(struct sn_cursor s, bool topic_name)
{
	static const uint32_t lowest[4] = { 0, 0x80, 0x800, 0x10000 };

	while (sn_cur_remaining(&s) > 0) {
		uint8_t b = sn_cur_u8(&s);
		int more = utf8_more(b);
		if (b == 0 || more < 0 || (topic_name && (b == '+' || b == '#')))
			return false;
		uint32_t cp = b & (0x7fu >> more);
		for (int k = 0; k < more; k++) {
			uint8_t t = sn_cur_u8(&s);
			if ((t & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (t & 0x3fu);
		}
		if (!sn_cur_ok(&s) || cp < lowest[more] || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp < 0xe000))
			return false;
	}
	return true;
}

/* At least MQ_MID_NAMED bytes, all printable ASCII. */
static bool topic_named(struct sn_cursor t)
{
	if (sn_cur_remaining(&t) < MQ_MID_NAMED)
		return false;
	while (sn_cur_remaining(&t) > 0) {
		uint8_t b = sn_cur_u8(&t);
		if (b < 0x20 || b > 0x7e)
			return false;
	}
	return true;
}

/* A 2-byte length and a valid UTF-8 string, into *out. */
static bool read_utf8(struct sn_cursor *c, struct sn_cursor *out, bool topic_name)
{
	*out = sn_cur_sub(c, sn_cur_be16(c));
	return sn_cur_ok(c) && utf8_valid(*out, topic_name);
}

/* Packet identifiers are never 0 (3.1.1 section 2.3.1). */
static bool packet_id(struct sn_cursor *c)
{
	uint16_t id = sn_cur_be16(c);
	return sn_cur_ok(c) && id != 0;
}

/* What follows a 5.0 ack's packet id: nothing, a reason code, or both + properties. */
static bool ack_tail(struct sn_cursor *c, struct mq_codes codes)
{
	if (sn_cur_remaining(c) == 0)
		return true;
	if (!code_in(sn_cur_u8(c), codes))
		return false;
	if (sn_cur_remaining(c) == 0)
		return true;
	return props_valid(c) && sn_cur_remaining(c) == 0;
}

/* One or more reason codes filling the rest of the packet. */
static bool codes_fill(struct sn_cursor *c, struct mq_codes codes)
{
	if (sn_cur_remaining(c) == 0)
		return false;
	while (sn_cur_remaining(c) > 0)
		if (!code_in(sn_cur_u8(c), codes))
			return false;
	return true;
}

/* SUBSCRIBE filters (with options) or UNSUBSCRIBE filters filling the packet. */
static bool filters_fill(struct sn_cursor c, bool with_options, bool v5, struct sn_meta *m)
{
	struct sn_cursor f;
	unsigned n = 0;

	for (; n < MQ_MID_ITEMS && sn_cur_remaining(&c) > 0; n++) {
		if (!read_utf8(&c, &f, false) || sn_cur_remaining(&f) == 0)
			return false;
		if (with_options) {
			uint8_t o = sn_cur_u8(&c);
			/* QoS 3, retain handling 3 and reserved bits are malformed */
			if (!sn_cur_ok(&c) || (o & 3) == 3 || (o & (v5 ? 0xc0 : 0xfc)) ||
			    (o & 0x30) == 0x30)
				return false;
		}
		if (m)
			sn_meta_add_topic(m, (const char *)f.p, f.len);
	}
	return n > 0 && sn_cur_remaining(&c) == 0;
}

/* Filters in the 3.1.1 layout, else after 5.0 properties; topics kept from the one that fits. */
static bool subscribe_body(struct sn_cursor *c, bool with_options, struct sn_meta *m)
{
	if (!packet_id(c))
		return false;
	if (filters_fill(*c, with_options, false, NULL))
		return filters_fill(*c, with_options, false, m);
	if (!props_valid(c))
		return false;
	return filters_fill(*c, with_options, true, NULL) && filters_fill(*c, with_options, true, m);
}

/* SUBACK / UNSUBACK: packet id, then 3.1.1 codes (or none), else 5.0 properties + codes. */
static bool suback_body(struct sn_cursor *c, struct mq_codes v311, struct mq_codes v5)
{
	if (!packet_id(c))
		return false;
	struct sn_cursor probe = *c;
	if (v311.n ? codes_fill(&probe, v311) : sn_cur_remaining(&probe) == 0)
		return true;
	return props_valid(c) && codes_fill(c, v5);
}

/* PUBLISH (3.3): topic name within the packet, a packet id when QoS > 0. */
static bool publish_body(uint8_t first, struct sn_cursor *c, struct mq_run *run, struct sn_meta *m)
{
	unsigned qos = ((unsigned)first >> 1) & 3;
	struct sn_cursor topic;

	if (!read_utf8(c, &topic, true) || (qos > 0 && !packet_id(c)))
		return false;
	sn_meta_add_topic(m, (const char *)topic.p, topic.len);
	if (topic_named(topic))
		run->named++;
	return true;
}

/* The fixed header's first byte: a known type with the flags the spec fixes. */
static bool first_byte_ok(uint8_t first)
{
	unsigned type = (unsigned)first >> 4, flags = first & 0x0fu;

	switch (type) {
	case 3: /* PUBLISH: QoS 3 is malformed, DUP only with QoS > 0 (3.3.1.1) */
		return (flags & 6) != 6 && ((flags & 6) || !(flags & 8));
	case 6: case 8: case 10: /* PUBREL, SUBSCRIBE, UNSUBSCRIBE */
		return flags == 2;
	case 2: case 4: case 5: case 7: case 9: case 11: case 12: case 13: case 14: case 15:
		return flags == 0;
	default: /* reserved, and CONNECT, which needs the stream's start */
		return false;
	}
}

/* The body of one complete packet whose first byte passed first_byte_ok. */
static bool mid_packet(uint8_t first, struct sn_cursor *c, struct mq_run *run, struct sn_meta *m)
{
	switch (first >> 4) {
	case 2: /* CONNACK: acknowledge flags (bit 0 only), reason code, 5.0 properties */
		return sn_cur_u8(c) <= 1 && sn_cur_ok(c) && sn_cur_remaining(c) > 0 &&
		       ack_tail(c, MQ_CODES(rc_connack));
	case 3:
		return publish_body(first, c, run, m);
	case 4: case 5: /* PUBACK, PUBREC */
		return packet_id(c) && ack_tail(c, MQ_CODES(rc_puback));
	case 6: case 7: /* PUBREL, PUBCOMP */
		return packet_id(c) && ack_tail(c, MQ_CODES(rc_pubrel));
	case 8:
		return subscribe_body(c, true, m);
	case 9:
		return suback_body(c, MQ_CODES(rc_suback311), MQ_CODES(rc_suback));
	case 10:
		return subscribe_body(c, false, m);
	case 11: {
		struct mq_codes none = { rc_unsuback, 0 };
		return suback_body(c, none, MQ_CODES(rc_unsuback));
	}
	case 12: case 13: /* PINGREQ, PINGRESP */
		return sn_cur_remaining(c) == 0;
	case 14:
		return ack_tail(c, MQ_CODES(rc_disconnect));
	case 15:
		return ack_tail(c, MQ_CODES(rc_auth));
	default:
		return false;
	}
}

/*
 * The last packet runs past the bytes present.  A PUBLISH whose topic is
 * already visible is checked and may count; anything else is unknown yet.
 */
static enum mq_rc mid_cut(uint8_t first, uint32_t rl, struct sn_cursor *c, struct mq_run *run)
{
	struct sn_cursor topic;

	if (first >> 4 != 3 || sn_cur_remaining(c) < 2)
		return MQ_SHORT;
	struct sn_cursor peek = sn_cur_rest(c);
	uint16_t n = sn_cur_be16(&peek);
	if ((uint32_t)n + 2 > rl)
		return MQ_BAD;
	if (n > sn_cur_remaining(&peek))
		return MQ_SHORT;
	peek = sn_cur_rest(c);
	if (!read_utf8(&peek, &topic, true))
		return MQ_BAD;
	run->cut_named = topic_named(topic);
	return MQ_SHORT;
}

/* Walks one direction's bytes from offset 0. */
static void mid_walk(const uint8_t *p, size_t n, struct mq_run *run, struct sn_meta *m)
{
	struct sn_cursor c = sn_cur_make(p, n);

	run->rc = MQ_OK;
	for (unsigned i = 0; i < MQ_MID_PACKETS && sn_cur_remaining(&c) > 0; i++) {
		uint8_t first = sn_cur_u8(&c);
		uint32_t rl = 0;
		run->rc = first_byte_ok(first) ? read_vbi(&c, &rl) : MQ_BAD;
		if (run->rc != MQ_OK)
			return;
		if (rl > sn_cur_remaining(&c)) {
			run->rc = mid_cut(first, rl, &c, run);
			return;
		}
		struct sn_cursor pkt = sn_cur_sub(&c, rl);
		if (!mid_packet(first, &pkt, run, m) || !sn_cur_ok(&pkt)) {
			run->rc = MQ_BAD;
			return;
		}
		run->complete++;
	}
}

/*
 * Both directions must be MQTT.  Enough to confirm: two packets (complete,
 * or a cut PUBLISH with a printable topic), or one PUBLISH with a printable
 * topic that is exactly the client's bytes.
 */
static enum sn_verdict mqtt_midstream(const struct sn_stream *s, struct sn_meta *out)
{
	struct mq_run cl = { MQ_OK, 0, 0, false }, sv = { MQ_OK, 0, 0, false };

	mid_walk(s->client, s->client_len, &cl, out);
	if (cl.rc != MQ_BAD)
		mid_walk(s->server, s->server_len, &sv, out);
	if (cl.rc == MQ_BAD || sv.rc == MQ_BAD)
		return SN_NO_MATCH;
	unsigned evidence = cl.complete + sv.complete + cl.cut_named + sv.cut_named;
	bool lone_publish = cl.rc == MQ_OK && cl.complete == 1 && cl.named == 1;
	if (evidence >= 2 || lone_publish) {
		out->proto = SN_PROTO_MQTT;
		out->midstream = true;
		return SN_MATCH;
	}
	return s->final ? SN_NO_MATCH : SN_NEED_MORE;
}

enum sn_verdict sn_diss_mqtt(const struct sn_stream *s, struct sn_meta *out)
{
	struct sn_cursor c = sn_cur_make(s->client, s->client_len);
	struct mq_connect k = { 0 };
	enum mq_rc rc = parse_connect(&c, out, &k);

	if (rc == MQ_OK) {
		out->proto = SN_PROTO_MQTT;
		walk_packets(&c, out, k.level, s);
		return SN_MATCH;
	}
	if (k.opened && rc == MQ_BAD) {
		out->proto = SN_PROTO_MQTT;
		return SN_MALFORMED;
	}
	if (k.opened && s->final) {
		/* cut by the core's bound: the opening decides, the fields read so far stay */
		out->proto = SN_PROTO_MQTT;
		out->truncated_handshake = true;
		return SN_MATCH;
	}
	/* Nothing half-parsed may leak out with a non-match verdict. */
	memset(out, 0, sizeof *out);
	enum sn_verdict v = SN_NO_MATCH;
	if (!s->client_at_start) {
		v = mqtt_midstream(s, out);
		if (v == SN_MATCH)
			return v;
		memset(out, 0, sizeof *out);
	}
	if (rc == MQ_SHORT && !s->final)
		return SN_NEED_MORE;
	return v;
}
