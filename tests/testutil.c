/*
 * testutil.c - test helpers: capture paths and the byte streams of a capture.
 *
 * Included by tests through check_main.c's link line (it is not a suite).
 * The parser here is deliberately minimal (Ethernet + IPv4/IPv6 + TCP, as in
 * the project's own captures) and independent of sensor/decode.c, so the
 * dissector tests do not depend on the decoder.
 */
#include "testutil.h"

#include <check.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cursor.h"

const char *sn_test_pcap_path(const char *name)
{
	static char path[1024];
	const char *dir = getenv("SN_TEST_PCAPS");
	snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "pcaps", name);
	return path;
}

/* Parses one Ethernet frame down to TCP; fills ports, flags and payload. */
static int parse_frame(const uint8_t *data, size_t caplen, uint16_t *sport, uint16_t *dport,
		       uint8_t *flags, struct sn_cursor *payload)
{
	struct sn_cursor c = sn_cur_make(data, caplen);
	sn_cur_skip(&c, 12);
	uint16_t type = sn_cur_be16(&c);
	size_t ip_payload_len;
	if (type == 0x0800) {
		uint8_t vihl = sn_cur_peek(&c, 0);
		size_t ihl = (size_t)(vihl & 0x0f) * 4;
		struct sn_cursor ip = sn_cur_rest(&c);
		sn_cur_skip(&ip, 2);
		uint16_t total = sn_cur_be16(&ip);
		sn_cur_skip(&ip, 5);
		if (sn_cur_u8(&ip) != 6 || total < ihl)
			return -1;
		sn_cur_skip(&c, ihl);
		ip_payload_len = total - ihl;
	} else if (type == 0x86dd) {
		struct sn_cursor ip = sn_cur_rest(&c);
		sn_cur_skip(&ip, 4);
		ip_payload_len = sn_cur_be16(&ip);
		if (sn_cur_u8(&ip) != 6)
			return -1;
		sn_cur_skip(&c, 40);
	} else {
		return -1;
	}
	struct sn_cursor tcp = sn_cur_rest(&c);
	*sport = sn_cur_be16(&tcp);
	*dport = sn_cur_be16(&tcp);
	sn_cur_skip(&tcp, 8);
	size_t doff = (size_t)(sn_cur_u8(&tcp) >> 4) * 4;
	*flags = sn_cur_u8(&tcp);
	if (!sn_cur_ok(&tcp) || !sn_cur_skip(&c, doff) || doff > ip_payload_len)
		return -1;
	size_t plen = ip_payload_len - doff;
	if (plen > sn_cur_remaining(&c))
		plen = sn_cur_remaining(&c);
	*payload = sn_cur_sub(&c, plen);
	return sn_cur_ok(&c) ? 0 : -1;
}

long sn_test_client_bytes(const char *pcap_name, uint16_t server_port, uint8_t *out, size_t cap)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(sn_test_pcap_path(pcap_name), err);
	if (!p)
		return -1;
	struct pcap_pkthdr *h;
	const u_char *data;
	size_t len = 0;
	uint16_t client_port = 0;
	while (pcap_next_ex(p, &h, &data) == 1) {
		uint16_t sport, dport;
		uint8_t flags;
		struct sn_cursor pl;
		if (parse_frame(data, h->caplen, &sport, &dport, &flags, &pl) != 0)
			continue;
		if (dport != server_port)
			continue;
		if (client_port == 0)
			client_port = sport;
		if (sport != client_port)
			continue;
		size_t n = sn_cur_remaining(&pl);
		if (n > cap - len)
			n = cap - len;
		sn_cur_copy(&pl, out + len, n);
		len += n;
		if (flags & 0x05) /* FIN or RST ends the first connection */
			break;
	}
	pcap_close(p);
	return (long)len;
}

long sn_test_port_bytes(const char *pcap_name, uint16_t sport, uint16_t dport, uint8_t *out,
			size_t cap)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(sn_test_pcap_path(pcap_name), err);
	if (!p)
		return -1;
	struct pcap_pkthdr *h;
	const u_char *data;
	size_t len = 0;
	while (pcap_next_ex(p, &h, &data) == 1) {
		uint16_t s, d;
		uint8_t flags;
		struct sn_cursor pl;
		if (parse_frame(data, h->caplen, &s, &d, &flags, &pl) != 0 || s != sport || d != dport)
			continue;
		size_t n = sn_cur_remaining(&pl);
		if (n > cap - len)
			n = cap - len;
		sn_cur_copy(&pl, out + len, n);
		len += n;
	}
	pcap_close(p);
	return (long)len;
}

static uint8_t *heap_copy(const void *bytes, size_t n)
{
	if (!bytes)
		return NULL;
	uint8_t *copy = malloc(n ? n : 1);
	ck_assert_ptr_nonnull(copy);
	if (n)
		memcpy(copy, bytes, n);
	return copy;
}

enum sn_verdict sn_test_dissect(sn_dissect_fn fn, const void *client, size_t cn,
				const void *server, size_t sn, bool at_start, bool final,
				struct sn_meta *m)
{
	uint8_t *c = heap_copy(client, cn);
	uint8_t *s = heap_copy(server, sn);
	struct sn_stream st = {
		.client = c, .client_len = cn, .server = s, .server_len = sn,
		.client_at_start = at_start, .final = final,
	};
	memset(m, 0, sizeof *m);
	enum sn_verdict v = fn(&st, m);
	free(c);
	free(s);
	return v;
}

size_t sn_test_load_client(const char *pcap, uint16_t port, uint8_t *buf, size_t cap)
{
	long n = sn_test_client_bytes(pcap, port, buf, cap);
	ck_assert_msg(n > 0, "cannot read %s", sn_test_pcap_path(pcap));
	return (size_t)n;
}

static uint64_t xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

void sn_test_random_never_matches(sn_dissect_fn fn, unsigned count, uint64_t seed, bool with_server,
				  unsigned markup)
{
	static uint8_t client[600], server[600];
	uint64_t x = seed;
	struct sn_meta m;

	for (unsigned i = 0; i < count; i++) {
		size_t cn = (size_t)(xorshift(&x) % sizeof client);
		size_t sn = with_server && xorshift(&x) % 3 == 0 ? (size_t)(xorshift(&x) % sizeof server) : 0;
		for (size_t k = 0; k < cn; k++)
			client[k] = (uint8_t)xorshift(&x);
		for (size_t k = 0; k < sn; k++)
			server[k] = (uint8_t)xorshift(&x);
		if (cn && markup && i % markup == 0)
			client[0] = '<';
		bool final = (xorshift(&x) & 1) != 0;
		enum sn_verdict v = sn_test_dissect(fn, client, cn, server, sn, false, final, &m);
		ck_assert_msg(v != SN_MATCH, "random buffer %u matched", i);
		ck_assert_int_eq(m.proto, SN_PROTO_NONE);
	}
}

uint32_t sn_test_fnv(uint32_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

size_t sn_test_fnv_flood(uint32_t h0, unsigned bits, uint8_t (*out)[16], size_t n)
{
	const uint32_t prime = 16777619u, mask = (1u << bits) - 1, target = 0x2f5a5u & mask;
	uint32_t inv = prime; /* Newton: inv = prime^-1 mod 2^32 */
	size_t made = 0;

	for (int i = 0; i < 5; i++)
		inv *= 2u - prime * inv;
	uint32_t x = (target * inv) & mask; /* state before the last byte, xor that byte */
	for (uint64_t prefix = 0; made < n && prefix < (1ull << 32); prefix++) {
		uint8_t a[16] = { 0x20, 0x01, 0x0d, 0xb8 };
		for (int k = 0; k < 8; k++)
			a[6 + k] = (uint8_t)(prefix >> (8 * k));
		uint32_t s13 = sn_test_fnv(h0, a, 14);
		for (unsigned b14 = 0; b14 < 256 && made < n; b14++) {
			uint32_t s14 = ((s13 ^ b14) * prime) & mask;
			if ((s14 >> 8) != (x >> 8))
				continue;
			a[14] = (uint8_t)b14;
			a[15] = (uint8_t)((s14 ^ x) & 0xff);
			memcpy(out[made++], a, 16);
		}
	}
	return made;
}
