/*
 * gen_frame.c - wraps generated payloads in Ethernet (optionally 802.1Q),
 * IPv4 (RFC 791) or IPv6 (RFC 8200) and TCP (RFC 9293) headers with correct
 * checksums, and writes them as a classic pcap file (LINKTYPE_ETHERNET).
 *
 * Sequence and acknowledgment numbers follow the conversation so that a
 * reassembling reader sees each direction's bytes in order.  The writer
 * buffers records itself: one fwrite per megabyte, not per packet.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "gen.h"

#define ETH_HLEN 14
#define VLAN_HLEN 4
#define IP4_HLEN 20
#define IP6_HLEN 40
#define TCP_HLEN 20
#define TCP_SYN_OPTS 4 /* one MSS option on SYNs */
#define PCAP_BUF (1u << 20)

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

/* Ones' complement sum of 16-bit big-endian words (RFC 1071). */
static uint32_t sum16(const uint8_t *p, size_t n, uint32_t acc)
{
	size_t i;
	for (i = 0; i + 1 < n; i += 2)
		acc += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (i < n)
		acc += (uint32_t)(p[i] << 8);
	return acc;
}

static uint16_t fold(uint32_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)~acc;
}

static size_t put_ethernet(uint8_t *f, const struct sn_gen_conn *c, enum sn_gen_dir d)
{
	static const uint8_t client_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
	static const uint8_t router_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0xfe };
	memcpy(f, d == SN_GEN_TO_SERVER ? router_mac : client_mac, 6);
	memcpy(f + 6, d == SN_GEN_TO_SERVER ? client_mac : router_mac, 6);
	size_t off = 12;
	if (c->vlan) {
		put16(f + off, 0x8100);
		put16(f + off + 2, c->vlan & 0x0fff);
		off += VLAN_HLEN;
	}
	put16(f + off, c->cli.v6 ? 0x86dd : 0x0800);
	return off + 2;
}

/* Writes the IP header; returns the pseudo-header sum for the TCP checksum. */
static uint32_t put_ip(uint8_t *ip, const struct sn_gen_addr *src, const struct sn_gen_addr *dst,
		       size_t tcp_len, uint16_t ident)
{
	if (src->v6) {
		memset(ip, 0, IP6_HLEN);
		ip[0] = 0x60;
		put16(ip + 4, (uint32_t)tcp_len);
		ip[6] = 6;  /* next header: TCP */
		ip[7] = 64; /* hop limit */
		memcpy(ip + 8, src->b, 16);
		memcpy(ip + 24, dst->b, 16);
		return sum16(ip + 8, 32, (uint32_t)tcp_len + 6);
	}
	memset(ip, 0, IP4_HLEN);
	ip[0] = 0x45;
	put16(ip + 2, (uint32_t)(IP4_HLEN + tcp_len));
	put16(ip + 4, ident);
	put16(ip + 6, 0x4000); /* don't fragment */
	ip[8] = 64;
	ip[9] = 6;
	memcpy(ip + 12, src->b, 4);
	memcpy(ip + 16, dst->b, 4);
	put16(ip + 10, fold(sum16(ip, IP4_HLEN, 0)));
	return sum16(ip + 12, 8, (uint32_t)tcp_len + 6);
}

size_t sn_gen_frame(struct sn_gen_conn *c, enum sn_gen_dir d, uint8_t flags, const uint8_t *payload,
		    size_t plen, uint8_t *frame)
{
	bool to_server = d == SN_GEN_TO_SERVER;
	size_t opts = (flags & SN_GEN_SYN) ? TCP_SYN_OPTS : 0;
	size_t tcp_len = TCP_HLEN + opts + plen;
	size_t off = put_ethernet(frame, c, d);
	uint8_t *ip = frame + off;
	uint32_t pseudo = put_ip(ip, to_server ? &c->cli : &c->srv, to_server ? &c->srv : &c->cli,
				 tcp_len, (uint16_t)(c->seq[d] ^ c->step));
	uint8_t *tcp = ip + (c->cli.v6 ? IP6_HLEN : IP4_HLEN);

	put16(tcp, to_server ? c->cport : c->sport);
	put16(tcp + 2, to_server ? c->sport : c->cport);
	put32(tcp + 4, c->seq[d]);
	put32(tcp + 8, (flags & SN_GEN_ACK) ? c->seq[!d] : 0);
	tcp[12] = (uint8_t)(((TCP_HLEN + opts) / 4) << 4);
	tcp[13] = flags;
	put16(tcp + 14, 64240);
	put32(tcp + 16, 0); /* checksum and urgent pointer */
	if (opts) {
		tcp[20] = 2; /* MSS */
		tcp[21] = 4;
		put16(tcp + 22, c->cli.v6 ? SN_GEN_MSS - 20 : SN_GEN_MSS);
	}
	if (plen)
		memcpy(tcp + TCP_HLEN + opts, payload, plen);
	put16(tcp + 16, fold(sum16(tcp, tcp_len, pseudo)));

	/* SYN and FIN each take one sequence number */
	c->seq[d] += (uint32_t)plen + ((flags & (SN_GEN_SYN | SN_GEN_FIN)) ? 1u : 0u);
	return (size_t)(tcp - frame) + tcp_len;
}

/* Classic pcap file header (native byte order, microseconds). */
static void put_file_header(struct sn_gen_pcap *w)
{
	struct {
		uint32_t magic;
		uint16_t major, minor;
		int32_t thiszone;
		uint32_t sigfigs, snaplen, linktype;
	} h = { 0xa1b2c3d4u, 2, 4, 0, 0, 65535, 1 };
	memcpy(w->buf, &h, sizeof h);
	w->len = sizeof h;
}

static void flush_buf(struct sn_gen_pcap *w)
{
	if (w->len && fwrite(w->buf, 1, w->len, w->f) != w->len && !w->err)
		w->err = errno ? -errno : -EIO;
	w->len = 0;
}

int sn_gen_pcap_open(struct sn_gen_pcap *w, const char *path)
{
	memset(w, 0, sizeof *w);
	w->cap = PCAP_BUF;
	w->buf = malloc(w->cap);
	if (!w->buf)
		return -ENOMEM;
	w->f = fopen(path, "wb");
	if (!w->f) {
		int e = -errno;
		free(w->buf);
		w->buf = NULL;
		return e;
	}
	put_file_header(w);
	return 0;
}

void sn_gen_pcap_write(struct sn_gen_pcap *w, uint64_t ts_us, const uint8_t *frame, size_t len)
{
	uint32_t rec[4] = { (uint32_t)(ts_us / SN_US_PER_S), (uint32_t)(ts_us % SN_US_PER_S),
			    (uint32_t)len, (uint32_t)len };
	if (w->len + sizeof rec + len > w->cap)
		flush_buf(w);
	memcpy(w->buf + w->len, rec, sizeof rec);
	memcpy(w->buf + w->len + sizeof rec, frame, len);
	w->len += sizeof rec + len;
	w->packets++;
	w->wire_bytes += len;
}

int sn_gen_pcap_close(struct sn_gen_pcap *w)
{
	flush_buf(w);
	if (fclose(w->f) != 0 && !w->err)
		w->err = -errno;
	free(w->buf);
	w->buf = NULL;
	return w->err;
}
