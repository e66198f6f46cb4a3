/*
 * test_mqtt.c - unit tests for dissectors/mqtt.c: real CONNECTs from the
 * test captures, every truncation of them, hand-built malformed variants
 * and other protocols that must not be taken for MQTT.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "dissector.h"
#include "testutil.h"

#define CAP 65536

static uint8_t sample[CAP];

/* Runs the dissector over buf[0..n) with a fresh meta. */
static enum sn_verdict run(const uint8_t *buf, size_t n, bool final, struct sn_meta *m)
{
	struct sn_stream s = {
		.client = buf, .client_len = n, .client_at_start = true, .final = final
	};
	memset(m, 0, sizeof *m);
	return sn_diss_mqtt(&s, m);
}

static size_t load(const char *pcap, uint16_t port)
{
	return sn_test_load_client(pcap, port, sample, sizeof sample);
}

/* Length of the CONNECT at buf[0]: fixed header + remaining length. */
static size_t connect_len(const uint8_t *buf, size_t n)
{
	size_t i = 1, rl = 0;
	unsigned shift = 0;
	for (; i < n && i < 5; i++, shift += 7) {
		rl |= (size_t)(buf[i] & 0x7f) << shift;
		if (!(buf[i] & 0x80))
			break;
	}
	return i + 1 + rl;
}

/* Bytes of the opening: fixed header, protocol name, level. */
static size_t opening_len(const uint8_t *buf, size_t n)
{
	size_t at = connect_len(buf, n) - 0;
	size_t vbi = 1;
	while (vbi < 5 && (buf[vbi] & 0x80))
		vbi++;
	(void)at;
	return vbi + 1 + 2 + ((size_t)buf[vbi + 1] << 8 | buf[vbi + 2]) + 1;
}

/*
 * Every strict prefix of the CONNECT waits (NEED_MORE).  When no more bytes
 * will come, a prefix without the whole opening is refused, and one with it
 * is MQTT with truncated_handshake: the opening decides.
 */
static void check_truncations(const uint8_t *buf, size_t n)
{
	struct sn_meta m;
	size_t whole = connect_len(buf, n);
	size_t open = opening_len(buf, n);
	ck_assert_uint_le(whole, n);
	for (size_t k = 0; k < whole; k++) {
		ck_assert_msg(run(buf, k, false, &m) == SN_NEED_MORE, "prefix %zu", k);
		ck_assert_int_eq(m.proto, SN_PROTO_NONE);
		if (k < open) {
			ck_assert_msg(run(buf, k, true, &m) == SN_NO_MATCH, "final prefix %zu", k);
		} else {
			ck_assert_msg(run(buf, k, true, &m) == SN_MATCH, "final prefix %zu", k);
			ck_assert_int_eq(m.proto, SN_PROTO_MQTT);
			ck_assert(m.truncated_handshake);
		}
	}
	ck_assert_int_eq(run(buf, whole, false, &m), SN_MATCH);
	ck_assert(!m.truncated_handshake);
}

static bool has_topic(const struct sn_meta *m, const char *t)
{
	for (unsigned i = 0; i < m->n_topics; i++) {
		if (strcmp(m->topics[i], t) == 0)
			return true;
	}
	return false;
}

/* ---- real captures ---- */

START_TEST(paho_v311)
{
	struct sn_meta m;
	size_t n = load("mqtt-paho-v311-1883.pcap", 1883);
	ck_assert_int_eq(run(sample, n, false, &m), SN_MATCH);
	ck_assert_int_eq(m.proto, SN_PROTO_MQTT);
	ck_assert_str_eq(m.mqtt_version, "3.1.1");
	ck_assert_str_eq(m.client_id, "paho-implant-1");
	ck_assert_str_eq(m.user, "");
	ck_assert(m.has_keepalive);
	ck_assert_uint_eq(m.keepalive, 30);
	ck_assert(m.has_clean_session && m.clean_session);
	/* SUBSCRIBE and a QoS 1 PUBLISH on the same topic: one entry */
	ck_assert_uint_eq(m.n_topics, 1);
	ck_assert_str_eq(m.topics[0], "c2/cmd/paho-implant-1");
	ck_assert(!m.truncated);
	check_truncations(sample, n);
}
END_TEST

START_TEST(v31_mqisdp)
{
	struct sn_meta m;
	size_t n = load("mqtt-v31-mqisdp-1883.pcap", 1883);
	ck_assert_int_eq(run(sample, n, false, &m), SN_MATCH);
	ck_assert_str_eq(m.mqtt_version, "3.1");
	ck_assert_str_eq(m.client_id, "legacy-v31-1");
	ck_assert_uint_eq(m.keepalive, 60);
	ck_assert_uint_eq(m.n_topics, 1);
	ck_assert_str_eq(m.topics[0], "c2/beacon");
	check_truncations(sample, n);
}
END_TEST

START_TEST(v5_properties)
{
	struct sn_meta m;
	size_t n = load("mqtt-v5-properties-1883.pcap", 1883);
	ck_assert_int_eq(run(sample, n, false, &m), SN_MATCH);
	ck_assert_str_eq(m.mqtt_version, "5.0");
	ck_assert_str_eq(m.client_id, "v5-props-1");
	ck_assert_uint_eq(m.keepalive, 60);
	/* EXPECTED.tsv: CONNECT properties ... user-property agent=implant-v5 */
	ck_assert_uint_eq(m.n_mqtt_user_properties, 1);
	ck_assert_str_eq(m.mqtt_user_properties[0], "agent=implant-v5");
	ck_assert(!m.mqtt_user_properties_truncated);
	/* the PUBLISH carries properties after its topic */
	ck_assert_uint_eq(m.n_topics, 1);
	ck_assert_str_eq(m.topics[0], "c2/beacon");
	check_truncations(sample, n);
}
END_TEST

START_TEST(v311_userpass)
{
	struct sn_meta m;
	size_t n = load("mqtt-v311-userpass-1883.pcap", 1883);
	ck_assert_int_eq(run(sample, n, false, &m), SN_MATCH);
	ck_assert_str_eq(m.client_id, "implant-host-1");
	ck_assert_str_eq(m.user, "implant01");
	ck_assert_uint_eq(m.keepalive, 60);
	ck_assert_str_eq(m.topics[0], "c2/beacon");
	check_truncations(sample, n);
}
END_TEST

START_TEST(art_a_empty_client_id)
{
	struct sn_meta m;
	size_t n = load("art-a-mqtt-pub-beacon-x3-1883.pcap", 1883);
	ck_assert_int_eq(run(sample, n, false, &m), SN_MATCH);
	ck_assert_str_eq(m.client_id, "");
	ck_assert(m.has_client_id); /* present and empty, not absent */
	ck_assert_str_eq(m.mqtt_version, "3.1.1");
	ck_assert_uint_eq(m.keepalive, 60);
	ck_assert_uint_eq(m.n_topics, 1);
	ck_assert_str_eq(m.topics[0], "c2/beacon");
	check_truncations(sample, n);
}
END_TEST

START_TEST(art_c_subscribe_filter)
{
	struct sn_meta m;
	size_t n = load("art-c-mqtt-sub-commands-1883.pcap", 1883);
	ck_assert_int_eq(run(sample, n, false, &m), SN_MATCH);
	ck_assert_uint_eq(m.n_topics, 1);
	ck_assert_str_eq(m.topics[0], "c2/commands/#");
	check_truncations(sample, n);
}
END_TEST

START_TEST(split_fixed_header)
{
	struct sn_meta m;
	size_t n = load("mqtt-split-connect-fixedheader-1883.pcap", 1883);
	/* the first segment held the type byte alone */
	ck_assert_int_eq(run(sample, 1, false, &m), SN_NEED_MORE);
	ck_assert_int_eq(run(sample, n, false, &m), SN_MATCH);
	ck_assert_str_eq(m.client_id, "split-hdr-1");
	ck_assert_str_eq(m.user, "implant01");
	ck_assert_uint_eq(m.keepalive, 30);
	ck_assert_str_eq(m.topics[0], "c2/beacon");
	check_truncations(sample, n);
}
END_TEST

START_TEST(nonstd_port_8080)
{
	struct sn_meta m;
	size_t n = load("mqtt-nonstd-port-8080.pcap", 8080);
	ck_assert_int_eq(run(sample, n, false, &m), SN_MATCH);
	ck_assert_str_eq(m.client_id, "np8080-1");
	ck_assert_str_eq(m.topics[0], "c2/beacon");
	check_truncations(sample, n);
}
END_TEST

START_TEST(oneshot_pub)
{
	struct sn_meta m;
	size_t n = load("oneshot-mqtt-pub-1883.pcap", 1883);
	ck_assert_int_eq(run(sample, n, true, &m), SN_MATCH);
	ck_assert_str_eq(m.client_id, "oneshot-mp");
	ck_assert_str_eq(m.topics[0], "sensors/temp");
}
END_TEST

/* Every prefix of whole streams (CONNECT and what follows) stays sane. */
START_TEST(stream_prefixes_never_crash)
{
	static const char *const files[] = {
		"mqtt-paho-v311-1883.pcap", "mqtt-v5-properties-1883.pcap",
		"art-a-mqtt-pub-beacon-x3-1883.pcap", "mqtt-v311-userpass-1883.pcap",
	};
	struct sn_meta m;
	for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
		size_t n = load(files[f], 1883);
		size_t whole = connect_len(sample, n);
		for (size_t k = whole; k <= n; k++) {
			ck_assert_int_eq(run(sample, k, false, &m), SN_MATCH);
			ck_assert_uint_le(m.n_topics, 1);
		}
	}
}
END_TEST

/* ---- hand-built CONNECTs ---- */

/* 3.1.1, clean session, keepalive 60, client id "c1": the minimal base. */
static const uint8_t v311_min[] = {
	0x10, 0x0e, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x3c,
	0x00, 0x02, 'c', '1',
};

/* A copy of v311_min with the connect flags byte replaced. */
static size_t with_flags(uint8_t *buf, uint8_t flags)
{
	memcpy(buf, v311_min, sizeof v311_min);
	buf[9] = flags;
	return sizeof v311_min;
}

START_TEST(minimal_connect)
{
	struct sn_meta m;
	ck_assert_int_eq(run(v311_min, sizeof v311_min, false, &m), SN_MATCH);
	ck_assert_str_eq(m.client_id, "c1");
	check_truncations(v311_min, sizeof v311_min);
}
END_TEST

START_TEST(will_v311)
{
	/* flags 0xee: user, password, will retain, will QoS 1, will, clean;
	 * will topic "w/t", will payload "bye", user "u", password "p" */
	static const uint8_t b[] = {
		0x10, 0x1e, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0xee, 0x00, 0x0a,
		0x00, 0x02, 'c', '1', 0x00, 0x03, 'w', '/', 't', 0x00, 0x03, 'b', 'y', 'e',
		0x00, 0x01, 'u', 0x00, 0x01, 'p',
	};
	struct sn_meta m;
	ck_assert_int_eq(run(b, sizeof b, false, &m), SN_MATCH);
	ck_assert_str_eq(m.will_topic, "w/t");
	ck_assert_str_eq(m.user, "u");
	ck_assert_uint_eq(m.keepalive, 10);
	check_truncations(b, sizeof b);
	/* remaining length one short: the password overruns it */
	uint8_t cut[sizeof b];
	memcpy(cut, b, sizeof b);
	cut[1] = 0x1d;
	ck_assert_int_eq(run(cut, sizeof cut, false, &m), SN_MALFORMED);
	ck_assert_str_eq(m.will_topic, "w/t"); /* what was read before the break stays */
	ck_assert_str_eq(m.malformed, "a length inside the MQTT CONNECT runs past its remaining length 29");
}
END_TEST

START_TEST(will_v5_with_properties)
{
	/* 5.0, flags 0x06 (will, clean), connect props {0x11 session expiry},
	 * id "v5", will props {0x01 payload format 1}, will topic "lw", payload "x" */
	static const uint8_t b[] = {
		0x10, 0x1e, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x06, 0x00, 0x3c,
		0x05, 0x11, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x02, 'v', '5',
		0x02, 0x01, 0x01, 0x00, 0x02, 'l', 'w', 0x00, 0x01, 'x',
	};
	struct sn_meta m;
	ck_assert_int_eq(run(b, sizeof b, false, &m), SN_MATCH);
	ck_assert_str_eq(m.mqtt_version, "5.0");
	ck_assert_str_eq(m.client_id, "v5");
	ck_assert_str_eq(m.will_topic, "lw");
	check_truncations(b, sizeof b);
}
END_TEST

START_TEST(password_without_user)
{
	/* 5.0 allows it: flags 0x42 (password, clean), empty props, id "a", password "p" */
	static const uint8_t v5[] = {
		0x10, 0x11, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x42, 0x00, 0x3c,
		0x00, 0x00, 0x01, 'a', 0x00, 0x01, 'p',
	};
	struct sn_meta m;
	ck_assert_int_eq(run(v5, sizeof v5, false, &m), SN_MATCH);
	ck_assert_str_eq(m.user, "");
	/* 3.1.1 does not */
	uint8_t b[sizeof v311_min];
	ck_assert_int_eq(run(b, with_flags(b, 0x42), false, &m), SN_MALFORMED);
	ck_assert_str_eq(m.malformed, "MQTT CONNECT flags 0x42 break the specification");
}
END_TEST

/* MQTT 5.0 CONNECT with a property length of 4351 in a 47-byte packet (suricata-verify). */
START_TEST(v5_property_length_past_packet_is_malformed)
{
	uint8_t b[49] = { 0x10, 47, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x02, 0x00, 0x3c, 0xff, 0x21 };
	struct sn_meta m;
	ck_assert_int_eq(run(b, sizeof b, false, &m), SN_MALFORMED);
	ck_assert_int_eq(m.proto, SN_PROTO_MQTT);
	ck_assert_str_eq(m.mqtt_version, "5.0");
	ck_assert_str_eq(m.malformed, "MQTT 5.0 property length 4351 exceeds the packet");
	/* known before the packet is complete: no amount of bytes can hold it */
	ck_assert_int_eq(run(b, 20, false, &m), SN_MALFORMED);
}
END_TEST

/* A CONNECT longer than the bytes kept (3 KB of user properties, a long id or password). */
START_TEST(connect_longer_than_the_bound_decides_on_its_opening)
{
	static uint8_t b[4096];
	size_t props = 3000, n = 0;
	size_t rl = 10 + 2 + props + 4;
	b[n++] = 0x10;
	b[n++] = (uint8_t)(0x80 | (rl & 0x7f));
	b[n++] = (uint8_t)(rl >> 7);
	memcpy(b + n, "\x00\x04MQTT\x05\x02\x00\x3c", 10);
	n += 10;
	b[n++] = (uint8_t)(0x80 | (props & 0x7f));
	b[n++] = (uint8_t)(props >> 7);
	memset(b + n, 0x26, props); /* user property bytes */
	n += props;
	memcpy(b + n, "\x00\x02id", 4);
	n += 4;
	struct sn_meta m;
	for (size_t k = 2047; k <= 2049; k++) {
		ck_assert_int_eq(run(b, k, false, &m), SN_NEED_MORE);
		ck_assert_int_eq(run(b, k, true, &m), SN_MATCH);
		ck_assert(m.truncated_handshake);
		ck_assert_str_eq(m.mqtt_version, "5.0");
		ck_assert_uint_eq(m.keepalive, 60);
	}
	ck_assert_int_eq(run(b, n, false, &m), SN_MATCH);
	ck_assert(!m.truncated_handshake);
	ck_assert_str_eq(m.client_id, "id");
}
END_TEST

START_TEST(clean_session_flag)
{
	uint8_t b[sizeof v311_min];
	struct sn_meta m;
	ck_assert_int_eq(run(b, with_flags(b, 0x00), false, &m), SN_MATCH);
	ck_assert(m.has_clean_session);
	ck_assert(!m.clean_session);
}
END_TEST

START_TEST(bad_reserved_flag)
{
	uint8_t b[sizeof v311_min];
	struct sn_meta m;
	ck_assert_int_eq(run(b, with_flags(b, 0x03), false, &m), SN_MALFORMED);
	ck_assert_int_eq(m.proto, SN_PROTO_MQTT);
	ck_assert_str_eq(m.mqtt_version, "3.1.1");
	/* decided as soon as the flags byte is visible */
	ck_assert_int_eq(run(b, 10, false, &m), SN_MALFORMED);
}
END_TEST

START_TEST(will_qos_3)
{
	uint8_t b[sizeof v311_min];
	struct sn_meta m;
	ck_assert_int_eq(run(b, with_flags(b, 0x1e), false, &m), SN_MALFORMED);
}
END_TEST

START_TEST(will_qos_without_will)
{
	uint8_t b[sizeof v311_min];
	struct sn_meta m;
	ck_assert_int_eq(run(b, with_flags(b, 0x0a), false, &m), SN_MALFORMED);
	ck_assert_int_eq(run(b, with_flags(b, 0x22), false, &m), SN_MALFORMED);
}
END_TEST

START_TEST(remaining_length_five_bytes)
{
	static const uint8_t b[] = { 0x10, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00, 0x04 };
	struct sn_meta m;
	ck_assert_int_eq(run(b, sizeof b, false, &m), SN_NO_MATCH);
	/* four continuation bytes seen: NO_MATCH without waiting */
	ck_assert_int_eq(run(b, 5, false, &m), SN_NO_MATCH);
	ck_assert_int_eq(run(b, 4, false, &m), SN_NEED_MORE);
}
END_TEST

START_TEST(remaining_length_too_small)
{
	uint8_t b[sizeof v311_min];
	struct sn_meta m;
	memcpy(b, v311_min, sizeof b);
	b[1] = 0x02;
	ck_assert_int_eq(run(b, sizeof b, false, &m), SN_NO_MATCH);
}
END_TEST

START_TEST(string_past_end)
{
	uint8_t b[sizeof v311_min];
	struct sn_meta m;
	memcpy(b, v311_min, sizeof b);
	b[13] = 0x05; /* client id claims 5 bytes, 2 remain in the packet */
	ck_assert_int_eq(run(b, sizeof b, false, &m), SN_MALFORMED);
	ck_assert_int_eq(m.proto, SN_PROTO_MQTT);
	ck_assert_str_eq(m.client_id, "");
	ck_assert_str_eq(m.malformed, "a length inside the MQTT CONNECT runs past its remaining length 14");
}
END_TEST

START_TEST(trailing_bytes_in_packet)
{
	uint8_t b[sizeof v311_min + 1];
	struct sn_meta m;
	memcpy(b, v311_min, sizeof v311_min);
	b[1] = 0x0f;
	b[sizeof v311_min] = 0x00;
	ck_assert_int_eq(run(b, sizeof b, false, &m), SN_MALFORMED);
	ck_assert_str_eq(m.malformed, "MQTT CONNECT has 1 bytes after its payload");
	/* even before the extra byte arrives, the fields are known to end early */
	ck_assert_int_eq(run(b, sizeof v311_min, false, &m), SN_MALFORMED);
}
END_TEST

START_TEST(bad_protocol_level)
{
	uint8_t b[sizeof v311_min];
	struct sn_meta m;
	memcpy(b, v311_min, sizeof b);
	b[8] = 0x03; /* MQTT/3 does not exist */
	ck_assert_int_eq(run(b, sizeof b, false, &m), SN_NO_MATCH);
	b[8] = 0x06;
	ck_assert_int_eq(run(b, sizeof b, false, &m), SN_NO_MATCH);
	b[8] = 0x84; /* bridge bit */
	ck_assert_int_eq(run(b, sizeof b, false, &m), SN_NO_MATCH);
	static const uint8_t mqisdp4[] = {
		0x10, 0x10, 0x00, 0x06, 'M', 'Q', 'I', 's', 'd', 'p', 0x04, 0x02,
		0x00, 0x3c, 0x00, 0x02, 'c', '1',
	};
	ck_assert_int_eq(run(mqisdp4, sizeof mqisdp4, false, &m), SN_NO_MATCH);
}
END_TEST

START_TEST(bad_protocol_name_early)
{
	/* "MQTX": known bad at its 4th byte, long before the packet is whole */
	static const uint8_t b[] = { 0x10, 0x7f, 0x00, 0x04, 'M', 'Q', 'T', 'X' };
	static const uint8_t len5[] = { 0x10, 0x7f, 0x00, 0x05 };
	struct sn_meta m;
	ck_assert_int_eq(run(b, 7, false, &m), SN_NEED_MORE);
	ck_assert_int_eq(run(b, 8, false, &m), SN_NO_MATCH);
	ck_assert_int_eq(run(len5, sizeof len5, false, &m), SN_NO_MATCH);
}
END_TEST

START_TEST(first_byte_not_connect)
{
	uint8_t b[sizeof v311_min];
	struct sn_meta m;
	memcpy(b, v311_min, sizeof b);
	b[0] = 0x11; /* CONNECT type with a flag bit */
	ck_assert_int_eq(run(b, 1, false, &m), SN_NO_MATCH);
	b[0] = 0x30; /* PUBLISH first */
	ck_assert_int_eq(run(b, sizeof b, false, &m), SN_NO_MATCH);
}
END_TEST

START_TEST(empty_buffer)
{
	struct sn_meta m;
	ck_assert_int_eq(run(NULL, 0, false, &m), SN_NEED_MORE);
	ck_assert_int_eq(run(NULL, 0, true, &m), SN_NO_MATCH);
}
END_TEST

START_TEST(long_client_id_truncated)
{
	uint8_t b[4 + 10 + 2 + 300];
	struct sn_meta m;
	size_t rl = 10 + 2 + 300;
	b[0] = 0x10;
	b[1] = (uint8_t)(0x80 | (rl & 0x7f));
	b[2] = (uint8_t)(rl >> 7);
	memcpy(b + 3, v311_min + 2, 10);
	b[13] = (uint8_t)(300 >> 8);
	b[14] = (uint8_t)(300 & 0xff);
	memset(b + 15, 'A', 300);
	ck_assert_int_eq(run(b, 15 + 300, false, &m), SN_MATCH);
	ck_assert_uint_eq(strlen(m.client_id), SN_META_STR - 1);
	ck_assert(m.truncated);
}
END_TEST

START_TEST(mid_stream_start)
{
	struct sn_meta m;
	struct sn_stream s = {
		.client = v311_min, .client_len = sizeof v311_min, .client_at_start = false,
	};
	memset(&m, 0, sizeof m);
	ck_assert_int_eq(sn_diss_mqtt(&s, &m), SN_MATCH);
	/* one PUBLISH with a one-letter topic: too little to confirm mid-stream */
	static const uint8_t mid[] = { 0x30, 0x05, 0x00, 0x01, 't', 'h', 'i' };
	s.client = mid;
	s.client_len = sizeof mid;
	memset(&m, 0, sizeof m);
	ck_assert_int_eq(sn_diss_mqtt(&s, &m), SN_NEED_MORE);
	s.final = true;
	memset(&m, 0, sizeof m);
	ck_assert_int_eq(sn_diss_mqtt(&s, &m), SN_NO_MATCH);
	ck_assert_int_eq(m.n_topics, 0);
}
END_TEST

/* ---- packets after CONNECT ---- */

static size_t append(uint8_t *buf, size_t at, const uint8_t *b, size_t n)
{
	memcpy(buf + at, b, n);
	return at + n;
}

START_TEST(walk_v5_subscribe_and_publish)
{
	/* 5.0 CONNECT, id "s" */
	static const uint8_t conn[] = {
		0x10, 0x0e, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x02, 0x00, 0x3c,
		0x00, 0x00, 0x01, 's',
	};
	/* SUBSCRIBE id 1, props {0x0b sub id 7}, "a/#" opt 1, "b/+" opt 0 */
	static const uint8_t sub[] = {
		0x82, 0x11, 0x00, 0x01, 0x02, 0x0b, 0x07,
		0x00, 0x03, 'a', '/', '#', 0x01, 0x00, 0x03, 'b', '/', '+', 0x00,
	};
	/* PUBLISH QoS 2 "x/y", id 9, props empty, payload "hi" */
	static const uint8_t pub[] = {
		0x34, 0x0a, 0x00, 0x03, 'x', '/', 'y', 0x00, 0x09, 0x00, 'h', 'i',
	};
	uint8_t b[128];
	size_t n = append(b, 0, conn, sizeof conn);
	n = append(b, n, sub, sizeof sub);
	n = append(b, n, pub, sizeof pub);
	struct sn_meta m;
	ck_assert_int_eq(run(b, n, false, &m), SN_MATCH);
	ck_assert_uint_eq(m.n_topics, 3);
	ck_assert_str_eq(m.topics[0], "a/#");
	ck_assert_str_eq(m.topics[1], "b/+");
	ck_assert_str_eq(m.topics[2], "x/y");
	/* the PUBLISH cut short: the two filters only */
	ck_assert_int_eq(run(b, n - 1, false, &m), SN_MATCH);
	ck_assert_uint_eq(m.n_topics, 2);
}
END_TEST

START_TEST(walk_stops_at_bad_packet)
{
	/* PUBLISH with QoS 3 is malformed; the PUBLISH after it is not read */
	static const uint8_t bad[] = { 0x36, 0x05, 0x00, 0x01, 'q', 0x00, 0x01 };
	static const uint8_t good[] = { 0x30, 0x03, 0x00, 0x01, 'g' };
	uint8_t b[64];
	size_t n = append(b, 0, v311_min, sizeof v311_min);
	n = append(b, n, bad, sizeof bad);
	n = append(b, n, good, sizeof good);
	struct sn_meta m;
	ck_assert_int_eq(run(b, n, false, &m), SN_MATCH);
	ck_assert_uint_eq(m.n_topics, 0);
	/* SUBSCRIBE with wrong fixed flags (0x80) also stops the walk */
	static const uint8_t sub80[] = { 0x80, 0x06, 0x00, 0x01, 0x00, 0x01, 's', 0x00 };
	n = append(b, sizeof v311_min, sub80, sizeof sub80);
	n = append(b, n, good, sizeof good);
	ck_assert_int_eq(run(b, n, false, &m), SN_MATCH);
	ck_assert_uint_eq(m.n_topics, 0);
	/* topic length past the packet */
	static const uint8_t over[] = { 0x30, 0x03, 0x00, 0x09, 'g' };
	n = append(b, sizeof v311_min, over, sizeof over);
	ck_assert_int_eq(run(b, n, false, &m), SN_MATCH);
	ck_assert_uint_eq(m.n_topics, 0);
}
END_TEST

START_TEST(walk_skips_other_packets)
{
	static const uint8_t ping[] = { 0xc0, 0x00 };
	static const uint8_t puback[] = { 0x40, 0x02, 0x00, 0x01 };
	static const uint8_t pub[] = { 0x30, 0x03, 0x00, 0x01, 'g' };
	uint8_t b[64];
	size_t n = append(b, 0, v311_min, sizeof v311_min);
	n = append(b, n, ping, sizeof ping);
	n = append(b, n, puback, sizeof puback);
	n = append(b, n, pub, sizeof pub);
	struct sn_meta m;
	ck_assert_int_eq(run(b, n, false, &m), SN_MATCH);
	ck_assert_uint_eq(m.n_topics, 1);
	ck_assert_str_eq(m.topics[0], "g");
}
END_TEST

START_TEST(walk_is_bounded)
{
	/* 100 PINGREQs before the PUBLISH: the walk gives up first */
	static const uint8_t pub[] = { 0x30, 0x03, 0x00, 0x01, 'g' };
	uint8_t b[sizeof v311_min + 200 + sizeof pub];
	size_t n = append(b, 0, v311_min, sizeof v311_min);
	for (unsigned i = 0; i < 100; i++) {
		b[n++] = 0xc0;
		b[n++] = 0x00;
	}
	n = append(b, n, pub, sizeof pub);
	struct sn_meta m;
	ck_assert_int_eq(run(b, n, false, &m), SN_MATCH);
	ck_assert_uint_eq(m.n_topics, 0);
}
END_TEST

START_TEST(topics_capped)
{
	uint8_t b[sizeof v311_min + 40 * 6];
	size_t n = append(b, 0, v311_min, sizeof v311_min);
	for (unsigned i = 0; i < 40; i++) {
		const uint8_t pub[] = { 0x30, 0x04, 0x00, 0x02, 't', (uint8_t)('0' + i) };
		n = append(b, n, pub, sizeof pub);
	}
	struct sn_meta m;
	ck_assert_int_eq(run(b, n, false, &m), SN_MATCH);
	ck_assert_uint_eq(m.n_topics, SN_META_TOPICS);
	ck_assert(has_topic(&m, "t0"));
	ck_assert(has_topic(&m, "t?")); /* the 16th */
	ck_assert(!has_topic(&m, "t@"));
}
END_TEST

/* ---- other protocols ---- */

static void expect_no_match(const uint8_t *b, size_t n)
{
	struct sn_meta m;
	ck_assert_int_eq(run(b, n, false, &m), SN_NO_MATCH);
	ck_assert_int_eq(m.proto, SN_PROTO_NONE);
}

START_TEST(neg_http)
{
	static const char get[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	expect_no_match((const uint8_t *)get, sizeof get - 1);
	size_t n = load("neg-http-on-61613-curl.pcap", 61613);
	expect_no_match(sample, n);
}
END_TEST

START_TEST(neg_nats_connect)
{
	static const char nats[] = "CONNECT {\"verbose\":false}\r\n";
	expect_no_match((const uint8_t *)nats, sizeof nats - 1);
}
END_TEST

START_TEST(neg_stomp_connect)
{
	size_t n = load("stomp12-stomppy-connect-61613.pcap", 61613);
	expect_no_match(sample, n);
}
END_TEST

START_TEST(neg_random_bytes)
{
	size_t n = load("neg-random-bytes-5672.pcap", 5672);
	expect_no_match(sample, n);
}
END_TEST

START_TEST(neg_tls_hello)
{
	size_t n = load("mqtt-tls-8883-paho.pcap", 8883);
	expect_no_match(sample, n);
}
END_TEST

START_TEST(neg_other_protocols_from_captures)
{
	static const struct {
		const char *file;
		uint16_t port;
	} caps[] = {
		{ "amqp091-pika-userpass-5672.pcap", 5672 },
		{ "amqp10-proton-5672.pcap", 5672 },
		{ "xmpp-slixmpp-login-plaintext-5222.pcap", 5222 },
		{ "stomp10-raw-connect-nc-61613.pcap", 61613 },
	};
	for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
		size_t n = load(caps[i].file, caps[i].port);
		expect_no_match(sample, n);
	}
}
END_TEST

/* ---- mid-stream: no CONNECT in the buffer ---- */

static uint8_t peer[CAP];

/* Both directions, from offset 0, of a connection picked up mid-stream. */
static enum sn_verdict run_mid(const uint8_t *c, size_t cn, const uint8_t *sv, size_t sn,
			       bool final, struct sn_meta *m)
{
	struct sn_stream s = {
		.client = c, .client_len = cn, .server = sv, .server_len = sn,
		.client_at_start = false, .final = final,
	};
	memset(m, 0, sizeof *m);
	return sn_diss_mqtt(&s, m);
}

/* A direction's bytes from a copied public capture. */
static size_t load_dir(const char *pcap, uint16_t sport, uint16_t dport, uint8_t *out, size_t cap)
{
	long n = sn_test_port_bytes(pcap, sport, dport, out, cap);
	ck_assert_msg(n >= 0, "cannot read %s", pcap);
	return (size_t)n;
}

static void expect_mid_match(const struct sn_meta *m)
{
	ck_assert_int_eq(m->proto, SN_PROTO_MQTT);
	ck_assert(m->midstream);
	ck_assert_str_eq(m->mqtt_version, "");
	ck_assert(!m->has_keepalive);
}

/* PINGREQ C0 00 from the client, PINGRESP D0 00 from the broker. */
START_TEST(mid_ping_pair_capture)
{
	struct sn_meta m;
	size_t cn = load_dir("corpus/mqtt-ping.pcap", 49327, 1883, sample, sizeof sample);
	size_t sn = load_dir("corpus/mqtt-ping.pcap", 1883, 49327, peer, sizeof peer);
	ck_assert_uint_eq(cn, 2);
	ck_assert_uint_eq(sn, 2);
	ck_assert_int_eq(run_mid(sample, cn, peer, sn, false, &m), SN_MATCH);
	expect_mid_match(&m);
	ck_assert_int_eq(m.n_topics, 0);
	/* the PINGREQ alone is not enough */
	ck_assert_int_eq(run_mid(sample, cn, NULL, 0, false, &m), SN_NEED_MORE);
	ck_assert_int_eq(run_mid(sample, cn, NULL, 0, true, &m), SN_NO_MATCH);
}
END_TEST

/* SUBSCRIBE hello/+/world (flags 0x2) and its SUBACK. */
START_TEST(mid_subscribe_capture)
{
	struct sn_meta m;
	size_t cn = load_dir("corpus/mqtt_sub.pcap", 34404, 1883, sample, sizeof sample);
	size_t sn = load_dir("corpus/mqtt_sub.pcap", 1883, 34404, peer, sizeof peer);
	ck_assert_int_eq(run_mid(sample, cn, peer, sn, true, &m), SN_MATCH);
	expect_mid_match(&m);
	ck_assert_int_eq(m.n_topics, 1);
	ck_assert_str_eq(m.topics[0], "hello/+/world");
}
END_TEST

/* Ten QoS 1 PUBLISHes in one segment; the PUBACKs are not even needed. */
START_TEST(mid_multi_publish_capture)
{
	struct sn_meta m;
	size_t cn = load_dir("corpus/mqtt_one_packet_multi_publish.pcap", 64358, 1883, sample,
			     sizeof sample);
	size_t sn = load_dir("corpus/mqtt_one_packet_multi_publish.pcap", 1883, 64358, peer,
			     sizeof peer);
	ck_assert_uint_eq(cn, 235);
	ck_assert_int_eq(run_mid(sample, cn, NULL, 0, false, &m), SN_MATCH);
	expect_mid_match(&m);
	ck_assert_int_eq(m.n_topics, 10);
	ck_assert(has_topic(&m, "hello/0/world"));
	ck_assert(has_topic(&m, "hello/9/world"));
	ck_assert_int_eq(run_mid(sample, cn, peer, sn, true, &m), SN_MATCH);
	ck_assert_int_eq(m.n_topics, 10);
}
END_TEST

/* Every prefix: never a refusal while more can come, never a crash. */
START_TEST(mid_multi_publish_prefixes)
{
	struct sn_meta m;
	size_t cn = load_dir("corpus/mqtt_one_packet_multi_publish.pcap", 64358, 1883, sample,
			     sizeof sample);
	for (size_t k = 0; k <= cn; k++) {
		enum sn_verdict v = run_mid(sample, k, NULL, 0, false, &m);
		ck_assert_msg(v != SN_NO_MATCH, "prefix %zu", k);
		if (v != SN_MATCH)
			ck_assert_int_eq(m.proto, SN_PROTO_NONE);
		run_mid(sample, k, NULL, 0, true, &m);
	}
}
END_TEST

/*
 * A 5.0 CONNACK from the broker and the first 2 KiB of a 35 KB PUBLISH
 * (topic "topicX") that the buffer bound cuts: the cut packet's visible
 * topic counts.
 */
START_TEST(mid_split_publish_capture)
{
	struct sn_meta m;
	size_t cn = load_dir("corpus/mqtt-midstream-split.pcap", 33896, 1883, sample, 2048);
	size_t sn = load_dir("corpus/mqtt-midstream-split.pcap", 1883, 33896, peer, 2048);
	ck_assert_uint_eq(cn, 2048);
	ck_assert_uint_eq(sn, 52);
	ck_assert_int_eq(run_mid(sample, cn, peer, sn, true, &m), SN_MATCH);
	expect_mid_match(&m);
	/* the cut PUBLISH alone is not enough */
	ck_assert_int_eq(run_mid(sample, cn, NULL, 0, true, &m), SN_NO_MATCH);
	ck_assert_int_eq(run_mid(sample, cn, NULL, 0, false, &m), SN_NEED_MORE);
}
END_TEST

/* One PUBLISH exactly filling the client bytes, topic of 3+ printable bytes. */
START_TEST(mid_lone_publish)
{
	/* PUBLISH QoS 0, topic "dev/1/cmd", payload "reboot" */
	static const uint8_t named[] = { 0x30, 0x11, 0x00, 0x09, 'd', 'e', 'v', '/', '1', '/',
					 'c', 'm', 'd', 'r', 'e', 'b', 'o', 'o', 't' };
	/* the same with a 2-byte topic "ab" */
	static const uint8_t short_topic[] = { 0x30, 0x06, 0x00, 0x02, 'a', 'b', 'x', 'y' };
	struct sn_meta m;

	ck_assert_int_eq(run_mid(named, sizeof named, NULL, 0, false, &m), SN_MATCH);
	expect_mid_match(&m);
	ck_assert_str_eq(m.topics[0], "dev/1/cmd");
	ck_assert_int_eq(run_mid(short_topic, sizeof short_topic, NULL, 0, true, &m), SN_NO_MATCH);
	/* one byte more than the packet: not exactly framed */
	ck_assert_int_eq(run_mid(named, sizeof named - 1, NULL, 0, true, &m), SN_NO_MATCH);
}
END_TEST

/* A stream seen from its start must begin with CONNECT. */
START_TEST(mid_needs_not_at_start)
{
	static const uint8_t pings[] = { 0xc0, 0x00, 0xc0, 0x00 };
	static const uint8_t pongs[] = { 0xd0, 0x00, 0xd0, 0x00 };
	struct sn_meta m;
	struct sn_stream s = {
		.client = pings, .client_len = sizeof pings, .server = pongs,
		.server_len = sizeof pongs, .client_at_start = true, .final = false,
	};
	memset(&m, 0, sizeof m);
	ck_assert_int_eq(sn_diss_mqtt(&s, &m), SN_NO_MATCH);
	ck_assert_int_eq(m.proto, SN_PROTO_NONE);
	ck_assert_int_eq(run_mid(pings, sizeof pings, pongs, sizeof pongs, false, &m), SN_MATCH);
}
END_TEST

/* 3.1.1 and 5.0 acknowledgements, DISCONNECT with a reason, UNSUBSCRIBE. */
START_TEST(mid_v5_packets)
{
	/* PUBLISH QoS 1 id 7 topic "a/b"; UNSUBSCRIBE id 8 "a/#" */
	static const uint8_t cl[] = { 0x32, 0x07, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x07,
				      0xa2, 0x07, 0x00, 0x08, 0x00, 0x03, 'a', '/', '#',
				      0xe0, 0x01, 0x04 }; /* DISCONNECT, reason 0x04 */
	/* PUBACK id 7 reason 0x10 + properties (reason string "ok"); 5.0 UNSUBACK id 8 */
	static const uint8_t sv[] = { 0x40, 0x09, 0x00, 0x07, 0x10, 0x05, 0x1f, 0x00, 0x02, 'o', 'k',
				      0xb0, 0x04, 0x00, 0x08, 0x00, 0x00 };
	struct sn_meta m;

	ck_assert_int_eq(run_mid(cl, sizeof cl, sv, sizeof sv, true, &m), SN_MATCH);
	expect_mid_match(&m);
	ck_assert(has_topic(&m, "a/b"));
	ck_assert(has_topic(&m, "a/#"));
}
END_TEST

/* Each packet is a PINGRESP-partnered variant that breaks one rule. */
START_TEST(mid_malformed_packets)
{
	static const uint8_t pong[] = { 0xd0, 0x00 };
	static const struct {
		const char *what;
		uint8_t b[12];
		size_t n;
	} bad[] = {
		{ "SUBSCRIBE flags 0", { 0x80, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', 0x00 }, 8 },
		{ "PUBREL flags 0", { 0x60, 0x02, 0x00, 0x01 }, 4 },
		{ "PUBLISH QoS 3", { 0x36, 0x05, 0x00, 0x01, 'a', 0x00, 0x01 }, 7 },
		{ "PUBLISH QoS 0 with DUP", { 0x38, 0x03, 0x00, 0x01, 'a' }, 5 },
		{ "PINGREQ with a body", { 0xc0, 0x01, 0x00 }, 3 },
		{ "reserved type 0", { 0x00, 0x00 }, 2 },
		{ "CONNECT mid-stream", { 0xc0, 0x00, 0x10, 0x00 }, 4 },
		{ "wildcard in a topic name", { 0x30, 0x05, 0x00, 0x03, 'a', '/', '+' }, 7 },
		{ "packet id 0", { 0x40, 0x02, 0x00, 0x00 }, 4 },
		{ "PUBACK reason 0x20", { 0x40, 0x03, 0x00, 0x01, 0x20 }, 5 },
		{ "topic past the packet", { 0x30, 0x03, 0x00, 0x05, 'a' }, 5 },
		{ "NUL in a topic", { 0x30, 0x05, 0x00, 0x03, 'a', 0x00, 'b' }, 7 },
		{ "overlong UTF-8", { 0x30, 0x04, 0x00, 0x02, 0xc0, 0xaf }, 6 },
		{ "trailing garbage", { 0xc0, 0x00, 0x07 }, 3 },
		{ "CONNACK flags 2", { 0x20, 0x02, 0x02, 0x00 }, 4 },
		{ "SUBACK code 3", { 0x90, 0x03, 0x00, 0x01, 0x03 }, 5 },
		{ "5.0 property id 0", { 0xe0, 0x03, 0x00, 0x01, 0x00 }, 5 },
	};
	struct sn_meta m;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ck_assert_msg(run_mid(bad[i].b, bad[i].n, pong, sizeof pong, true, &m) == SN_NO_MATCH,
			      "%s", bad[i].what);
		ck_assert_int_eq(m.proto, SN_PROTO_NONE);
		ck_assert_int_eq(m.n_topics, 0);
	}
}
END_TEST

/* The broker's side must be MQTT too. */
START_TEST(mid_server_not_mqtt)
{
	static const uint8_t pings[] = { 0xc0, 0x00, 0xc0, 0x00 };
	static const char http[] = "HTTP/1.1 200 OK\r\n\r\n";
	struct sn_meta m;

	ck_assert_int_eq(run_mid(pings, sizeof pings, (const uint8_t *)http, sizeof http - 1, false,
				 &m), SN_NO_MATCH);
}
END_TEST

/* TLS records, HTTP and JSON picked up mid-stream. */
START_TEST(mid_neg_other_traffic)
{
	static const uint8_t tls_app[] = { 0x17, 0x03, 0x03, 0x00, 0x06, 1, 2, 3, 4, 5, 6,
					   0x17, 0x03, 0x03, 0x00, 0x02, 7, 8 };
	static const char *const text[] = {
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
		"POST /api HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET / HTTP/1.1\r\n\r\n",
		"{\"temp\": 21.5, \"id\": \"sensor-1\"}\n",
		"0\r\n\r\n",
	};
	struct sn_meta m;

	ck_assert_int_eq(run_mid(tls_app, sizeof tls_app, tls_app, sizeof tls_app, true, &m),
			 SN_NO_MATCH);
	for (size_t i = 0; i < sizeof text / sizeof text[0]; i++) {
		const uint8_t *b = (const uint8_t *)text[i];
		ck_assert_msg(run_mid(b, strlen(text[i]), NULL, 0, true, &m) == SN_NO_MATCH, "%s",
			      text[i]);
		ck_assert_msg(run_mid(b, strlen(text[i]), NULL, 0, false, &m) != SN_MATCH, "%s",
			      text[i]);
	}
}
END_TEST

/* xorshift64: a fixed sequence, so a failure can be replayed. */
/* 10,000 random buffers of random lengths seen mid-stream: never a match. */
START_TEST(mid_random_never_matches)
{
	sn_test_random_never_matches(sn_diss_mqtt, 10000, 0x9e3779b97f4a7c15u, true, 0);
}
END_TEST

/* ---- MQTT 5.0 user properties and the empty client id ---- */

/* A 5.0 CONNECT with `n` user properties key<i>=v<i> (and a session expiry first). */
static size_t v5_user_props(uint8_t *b, size_t cap, unsigned n, size_t value_len)
{
	uint8_t props[8192];
	size_t p = 0;
	props[p++] = 0x11; /* session expiry */
	props[p++] = 0; props[p++] = 0; props[p++] = 0; props[p++] = 60;
	for (unsigned i = 0; i < n; i++) {
		char key[16];
		int kn = snprintf(key, sizeof key, "key%u", i);
		props[p++] = 0x26;
		props[p++] = 0;
		props[p++] = (uint8_t)kn;
		memcpy(props + p, key, (size_t)kn);
		p += (size_t)kn;
		props[p++] = (uint8_t)(value_len >> 8);
		props[p++] = (uint8_t)value_len;
		memset(props + p, 'v', value_len);
		p += value_len;
	}
	ck_assert_uint_lt(p, 16384);
	size_t body = 10u + (p < 128 ? 1u : 2u) + p + 4u;
	size_t k = 0;
	b[k++] = 0x10;
	if (body < 128) {
		b[k++] = (uint8_t)body;
	} else {
		b[k++] = (uint8_t)(0x80 | (body & 0x7f));
		b[k++] = (uint8_t)(body >> 7);
	}
	static const uint8_t head[] = { 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x02, 0x00, 0x3c };
	memcpy(b + k, head, sizeof head);
	k += sizeof head;
	if (p < 128) {
		b[k++] = (uint8_t)p;
	} else {
		b[k++] = (uint8_t)(0x80 | (p & 0x7f));
		b[k++] = (uint8_t)(p >> 7);
	}
	memcpy(b + k, props, p);
	k += p;
	static const uint8_t id[] = { 0x00, 0x02, 'i', 'd' };
	memcpy(b + k, id, sizeof id);
	k += sizeof id;
	ck_assert_uint_le(k, cap);
	return k;
}

START_TEST(user_properties_kept)
{
	static uint8_t b[16384];
	struct sn_meta m;
	size_t n = v5_user_props(b, sizeof b, 3, 2);
	ck_assert_int_eq(run(b, n, false, &m), SN_MATCH);
	ck_assert_uint_eq(m.n_mqtt_user_properties, 3);
	ck_assert_str_eq(m.mqtt_user_properties[0], "key0=vv");
	ck_assert_str_eq(m.mqtt_user_properties[2], "key2=vv");
	ck_assert(!m.mqtt_user_properties_truncated);
	ck_assert_str_eq(m.client_id, "id");
	check_truncations(b, n);
}
END_TEST

/* At most SN_META_USER_PROPS kept, each cut at SN_META_USER_PROP_STR - 1 bytes; said so. */
START_TEST(user_properties_bounded)
{
	static uint8_t b[16384];
	struct sn_meta m;
	size_t n = v5_user_props(b, sizeof b, 16, 2);
	ck_assert_int_eq(run(b, n, false, &m), SN_MATCH);
	ck_assert_uint_eq(m.n_mqtt_user_properties, 16);
	ck_assert(!m.mqtt_user_properties_truncated);
	n = v5_user_props(b, sizeof b, 17, 2);
	ck_assert_int_eq(run(b, n, false, &m), SN_MATCH);
	ck_assert_uint_eq(m.n_mqtt_user_properties, 16);
	ck_assert_str_eq(m.mqtt_user_properties[15], "key15=vv");
	ck_assert(m.mqtt_user_properties_truncated);
	ck_assert_str_eq(m.client_id, "id");
	/* "key0=" + 58 v's is 63 bytes: kept whole; one more is cut */
	n = v5_user_props(b, sizeof b, 1, 58);
	ck_assert_int_eq(run(b, n, false, &m), SN_MATCH);
	ck_assert_uint_eq(strlen(m.mqtt_user_properties[0]), 63);
	ck_assert(!m.mqtt_user_properties_truncated);
	n = v5_user_props(b, sizeof b, 1, 59);
	ck_assert_int_eq(run(b, n, false, &m), SN_MATCH);
	ck_assert_uint_eq(strlen(m.mqtt_user_properties[0]), 63);
	ck_assert(m.mqtt_user_properties_truncated);
	/* 3 KB of properties (the issue's evasion): still MQTT, the first 16 kept */
	n = v5_user_props(b, sizeof b, 40, 70);
	ck_assert_int_eq(run(b, n, false, &m), SN_MATCH);
	ck_assert_uint_eq(m.n_mqtt_user_properties, 16);
	ck_assert(m.mqtt_user_properties_truncated);
}
END_TEST

START_TEST(client_id_present_or_absent)
{
	struct sn_meta m;
	/* 3.1.1, clean session, keepalive 60, client id "" */
	static const uint8_t empty[] = { 0x10, 0x0c, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02,
					 0x00, 0x3c, 0x00, 0x00 };
	ck_assert_int_eq(run(empty, sizeof empty, false, &m), SN_MATCH);
	ck_assert(m.has_client_id);
	ck_assert_str_eq(m.client_id, "");
	/* the CONNECT cut before its client id: not known, so not "" */
	ck_assert_int_eq(run(empty, sizeof empty - 2, false, &m), SN_NEED_MORE);
	ck_assert(!m.has_client_id);
}
END_TEST

/* output.payload_bytes: a PUBLISH's message after the topic (and 5.0 properties). */
START_TEST(publish_payload_kept_only_when_asked)
{
	static const uint8_t b[] = {
		0x10, 14, 0, 4, 'M', 'Q', 'T', 'T', 5, 0x02, 0, 60, 0, 0, 1, 'a', /* 5.0 CONNECT */
		0x30, 10, 0, 3, 'a', '/', 'b', 2, 0x01, 0x01, 'h', 'i',         /* PUBLISH + props */
		0x32, 9, 0, 3, 'c', '/', 'd', 0, 7, 0, 0x07,                    /* QoS 1, id 7 */
	};
	struct sn_stream s = { .client = b, .client_len = sizeof b, .client_at_start = true };
	struct sn_meta m;

	memset(&m, 0, sizeof m);
	ck_assert_int_eq(sn_diss_mqtt(&s, &m), SN_MATCH);
	ck_assert_uint_eq(m.n_topics, 2);
	ck_assert_uint_eq(m.payloads.n, 0);
	s.payload_bytes = 16;
	memset(&m, 0, sizeof m);
	ck_assert_int_eq(sn_diss_mqtt(&s, &m), SN_MATCH);
	ck_assert_uint_eq(m.payloads.n, 2);
	ck_assert_uint_eq(m.payloads.item[0].len, 2);
	ck_assert_uint_eq(m.payloads.item[0].topic, 0);
	ck_assert(!m.payloads.item[0].cut);
	ck_assert_uint_eq(m.payloads.item[1].len, 1);
	ck_assert_uint_eq(m.payloads.item[1].topic, 1);
	ck_assert_mem_eq(m.payloads.pool, "hi\x07", 3);
}
END_TEST

Suite *mqtt_suite(void);

Suite *mqtt_suite(void)
{
	Suite *s = suite_create("mqtt");
	TCase *cap = tcase_create("captures");
	tcase_add_test(cap, publish_payload_kept_only_when_asked);
	tcase_add_test(cap, paho_v311);
	tcase_add_test(cap, v31_mqisdp);
	tcase_add_test(cap, v5_properties);
	tcase_add_test(cap, user_properties_kept);
	tcase_add_test(cap, user_properties_bounded);
	tcase_add_test(cap, client_id_present_or_absent);
	tcase_add_test(cap, v311_userpass);
	tcase_add_test(cap, art_a_empty_client_id);
	tcase_add_test(cap, art_c_subscribe_filter);
	tcase_add_test(cap, split_fixed_header);
	tcase_add_test(cap, nonstd_port_8080);
	tcase_add_test(cap, oneshot_pub);
	tcase_add_test(cap, stream_prefixes_never_crash);
	suite_add_tcase(s, cap);

	TCase *conn = tcase_create("connect");
	tcase_add_test(conn, minimal_connect);
	tcase_add_test(conn, will_v311);
	tcase_add_test(conn, will_v5_with_properties);
	tcase_add_test(conn, password_without_user);
	tcase_add_test(conn, v5_property_length_past_packet_is_malformed);
	tcase_add_test(conn, connect_longer_than_the_bound_decides_on_its_opening);
	tcase_add_test(conn, clean_session_flag);
	tcase_add_test(conn, bad_reserved_flag);
	tcase_add_test(conn, will_qos_3);
	tcase_add_test(conn, will_qos_without_will);
	tcase_add_test(conn, remaining_length_five_bytes);
	tcase_add_test(conn, remaining_length_too_small);
	tcase_add_test(conn, string_past_end);
	tcase_add_test(conn, trailing_bytes_in_packet);
	tcase_add_test(conn, bad_protocol_level);
	tcase_add_test(conn, bad_protocol_name_early);
	tcase_add_test(conn, first_byte_not_connect);
	tcase_add_test(conn, empty_buffer);
	tcase_add_test(conn, long_client_id_truncated);
	tcase_add_test(conn, mid_stream_start);
	suite_add_tcase(s, conn);

	TCase *walk = tcase_create("walk");
	tcase_add_test(walk, walk_v5_subscribe_and_publish);
	tcase_add_test(walk, walk_stops_at_bad_packet);
	tcase_add_test(walk, walk_skips_other_packets);
	tcase_add_test(walk, walk_is_bounded);
	tcase_add_test(walk, topics_capped);
	suite_add_tcase(s, walk);

	TCase *mid = tcase_create("midstream");
	tcase_add_test(mid, mid_ping_pair_capture);
	tcase_add_test(mid, mid_subscribe_capture);
	tcase_add_test(mid, mid_multi_publish_capture);
	tcase_add_test(mid, mid_multi_publish_prefixes);
	tcase_add_test(mid, mid_split_publish_capture);
	tcase_add_test(mid, mid_lone_publish);
	tcase_add_test(mid, mid_needs_not_at_start);
	tcase_add_test(mid, mid_v5_packets);
	tcase_add_test(mid, mid_malformed_packets);
	tcase_add_test(mid, mid_server_not_mqtt);
	tcase_add_test(mid, mid_neg_other_traffic);
	tcase_add_test(mid, mid_random_never_matches);
	suite_add_tcase(s, mid);

	TCase *neg = tcase_create("negative");
	tcase_add_test(neg, neg_http);
	tcase_add_test(neg, neg_nats_connect);
	tcase_add_test(neg, neg_stomp_connect);
	tcase_add_test(neg, neg_random_bytes);
	tcase_add_test(neg, neg_tls_hello);
	tcase_add_test(neg, neg_other_protocols_from_captures);
	suite_add_tcase(s, neg);
	return s;
}
