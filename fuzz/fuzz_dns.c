/*
 * fuzz_dns.c - libFuzzer target for passive DNS: dns.c's response reader
 * and dnstcp.c's TCP streams.
 *
 * The whole input is read once as a UDP response.  Then it is a script of
 * segments of one TCP DNS connection (opened by a SYN-ACK first):
 * records [kind:1][offset:2, big endian][length:2, big endian][bytes],
 * the length clamped to what is left.  kind bit 0: from the client (an
 * acknowledgement of `offset` stream bytes), else server bytes at stream
 * offset `offset`; bit 1 FIN, bit 2 RST, bit 3 the segment was cut by the
 * snap length (7 bytes more on the wire), bit 4 a new SYN-ACK first.
 * Every connection's window must stay within its buffer.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dnstcp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ISN 0xfffff000u

static struct sn_dns dns;
static struct sn_dnstcp tcp;
static bool ready;

static void segment(uint8_t kind, uint16_t off, const uint8_t *bytes, uint32_t len)
{
	struct sn_packet p;
	bool client = kind & 1;
	memset(&p, 0, sizeof p);
	p.ts_us = 1767225600000000ull;
	p.src.family = p.dst.family = 4;
	p.src.b[3] = client ? 5 : 53;
	p.dst.b[3] = client ? 53 : 5;
	p.sport = client ? 40000 : 53;
	p.dport = client ? 53 : 40000;
	p.tcp_flags = (uint8_t)(SN_TCP_ACK | (kind & 2 ? SN_TCP_FIN : 0) | (kind & 4 ? SN_TCP_RST : 0));
	p.seq = client ? 1001 : ISN + 1 + off;
	p.ack = client ? ISN + 1 + off : 1001;
	if (!client) {
		p.payload = len ? bytes : NULL;
		p.payload_len = len;
		p.payload_wire_len = len + (kind & 8 ? 7u : 0u);
	}
	sn_dnstcp_segment(&tcp, &dns, &p);
}

static void synack(void)
{
	struct sn_packet p;
	memset(&p, 0, sizeof p);
	p.ts_us = 1767225600000000ull;
	p.src.family = p.dst.family = 4;
	p.src.b[3] = 53;
	p.dst.b[3] = 5;
	p.sport = 53;
	p.dport = 40000;
	p.tcp_flags = SN_TCP_SYN | SN_TCP_ACK;
	p.seq = ISN;
	sn_dnstcp_segment(&tcp, &dns, &p);
}

static void check_windows(void)
{
	for (size_t i = 0; i < SN_DNSTCP_CONNS; i++) {
		const struct sn_reasm_dir *d = &tcp.conns[i].dir;
		if (tcp.conns[i].used && ((uint64_t)d->contig + d->held > SN_DNSTCP_CAP))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ready) {
		if (sn_dns_init(&dns, 1) != 0 || sn_dnstcp_init(&tcp, 2) != 0)
			abort();
		ready = true;
	}
	memset(tcp.conns, 0, SN_DNSTCP_CONNS * sizeof tcp.conns[0]);
	uint8_t *copy = malloc(size ? size : 1);
	if (!copy)
		abort();
	memcpy(copy, data, size);
	sn_dns_response(&dns, &(struct sn_addr){ .family = 4 }, copy, size, 1767225600000000ull);

	synack();
	size_t at = 0;
	while (size - at >= 5) {
		uint8_t kind = copy[at];
		uint16_t off = (uint16_t)(copy[at + 1] << 8 | copy[at + 2]);
		size_t len = (size_t)copy[at + 3] << 8 | copy[at + 4];
		at += 5;
		if (len > size - at)
			len = size - at;
		if (kind & 16)
			synack();
		segment(kind, off, copy + at, (uint32_t)len);
		at += len;
		check_windows();
	}
	free(copy);
	return 0;
}
