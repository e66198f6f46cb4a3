/*
 * mqtt.c - MQTT 3.1 / 3.1.1 / 5.0 dissector: confirms a client's CONNECT
 * and collects the topics of the PUBLISH and SUBSCRIBE packets after it.
 *
 * Specs: MQTT 3.1.1 (OASIS 2014) sections 2.2 (fixed header, remaining
 * length), 3.1 (CONNECT), 3.3 (PUBLISH), 3.8 (SUBSCRIBE); MQTT 5.0 (OASIS
 * 2019) 2.2.2 (properties) and 3.1.2.11 / 3.1.3.2 (CONNECT and will
 * properties); MQTT 3.1 (IBM) for the "MQIsdp" protocol name.
 *
 * Only the client direction is read.  The CONNECT is validated eagerly:
 * the first wrong byte answers NO_MATCH, a consistent prefix NEED_MORE, and
 * MATCH needs the whole packet with every byte of its remaining length
 * accounted for.  Parsing starts at offset 0 whether or not the capture saw
 * the stream's start, so a mid-stream buffer only matches when it happens
 * to begin with a well-formed CONNECT.
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

/* MQTT 5 properties: a variable byte integer length, then that many bytes. */
static enum mq_rc skip_props(struct sn_cursor *c)
{
	uint32_t len;
	enum mq_rc rc = read_vbi(c, &len);

	if (rc != MQ_OK)
		return rc;
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
				uint8_t level)
{
	enum mq_rc rc = read_str(c, m, m->client_id, sizeof m->client_id);

	if (rc == MQ_OK && (flags & MQ_FLAG_WILL)) {
		if (level == 5)
			rc = skip_props(c);
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
static enum mq_rc parse_connect_body(struct sn_cursor *c, struct sn_meta *m, uint8_t *level)
{
	enum mq_rc rc = parse_protocol(c, m, level);

	if (rc != MQ_OK)
		return rc;
	if (!sn_cur_has(c, 1))
		return MQ_SHORT;
	uint8_t flags = sn_cur_u8(c);
	if (!flags_valid(flags, *level))
		return MQ_BAD;
	uint16_t keepalive = sn_cur_be16(c);
	if (!sn_cur_ok(c))
		return MQ_SHORT;
	m->has_keepalive = true;
	m->keepalive = keepalive;
	m->has_clean_session = true;
	m->clean_session = (flags & MQ_FLAG_CLEAN) != 0;
	if (*level == 5 && (rc = skip_props(c)) != MQ_OK)
		return rc;
	return parse_payload(c, m, flags, *level);
}

/*
 * The CONNECT packet at the cursor.  A read that runs off the end of a
 * body that has fully arrived means a length inside disagrees with the
 * remaining length: malformed, not "need more".
 */
static enum mq_rc parse_connect(struct sn_cursor *c, struct sn_meta *m, uint8_t *level)
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
	rc = parse_connect_body(&body, m, level);
	if (rc == MQ_SHORT)
		return whole ? MQ_BAD : MQ_SHORT;
	/* Parsed to the end but bytes of the remaining length are left over. */
	if (rc == MQ_OK && (!whole || sn_cur_remaining(&body) != 0))
		return MQ_BAD;
	return rc;
}

/* PUBLISH (3.3): topic name, then a packet id when QoS > 0. */
static bool note_publish(uint8_t first, struct sn_cursor *pkt, struct sn_meta *m)
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
	sn_meta_add_topic(m, (const char *)topic.p, topic.len);
	return true;
}

/* SUBSCRIBE (3.8): packet id, [v5 properties], then filter + options pairs. */
static bool note_subscribe(struct sn_cursor *pkt, struct sn_meta *m, uint8_t level)
{
	sn_cur_skip(pkt, 2);
	if (level == 5 && skip_props(pkt) != MQ_OK)
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
static bool note_packet(uint8_t first, struct sn_cursor *pkt, struct sn_meta *m, uint8_t level)
{
	switch (first >> 4) {
	case MQ_TYPE_RESERVED:
	case MQ_TYPE_CONNECT: /* a second CONNECT is a protocol violation */
		return false;
	case MQ_TYPE_PUBLISH:
		return note_publish(first, pkt, m);
	case MQ_TYPE_SUBSCRIBE:
		return first == MQ_SUBSCRIBE_BYTE && note_subscribe(pkt, m, level);
	case MQ_TYPE_AUTH:
		return level == 5;
	default:
		return true;
	}
}

/* Complete packets after CONNECT, up to the first incomplete or odd one. */
static void walk_packets(struct sn_cursor *c, struct sn_meta *m, uint8_t level)
{
	for (unsigned i = 0; i < MQ_WALK_MAX && sn_cur_has(c, 1); i++) {
		uint32_t rl = 0;
		uint8_t first = sn_cur_u8(c);
		if (read_vbi(c, &rl) != MQ_OK || rl > sn_cur_remaining(c))
			return;
		struct sn_cursor pkt = sn_cur_sub(c, rl);
		if (!note_packet(first, &pkt, m, level))
			return;
	}
}

enum sn_verdict sn_diss_mqtt(const struct sn_stream *s, struct sn_meta *out)
{
	struct sn_cursor c = sn_cur_make(s->client, s->client_len);
	uint8_t level = 0;
	enum mq_rc rc = parse_connect(&c, out, &level);

	if (rc == MQ_OK) {
		out->proto = SN_PROTO_MQTT;
		walk_packets(&c, out, level);
		return SN_MATCH;
	}
	/* Nothing half-parsed may leak out with a non-match verdict. */
	memset(out, 0, sizeof *out);
	if (rc == MQ_SHORT && !s->final)
		return SN_NEED_MORE;
	return SN_NO_MATCH;
}
