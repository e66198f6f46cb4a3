/*
 * gen.h - shared pieces of the benchmark traffic generator (bench/gen*.c):
 * the random source, addresses, one simulated TCP connection, the payload
 * builders (gen_payload.c) and the frame and pcap writer (gen_frame.c).
 *
 * Everything is deterministic for a given seed so that a benchmark file can
 * be regenerated bit for bit.
 */
#ifndef SN_GEN_H
#define SN_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* 64-bit generator state (splitmix64: fast, deterministic, not cryptographic). */
struct sn_gen_rng {
	uint64_t s;
};

static inline uint64_t sn_gen_next(struct sn_gen_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, n); n > 0. */
static inline uint32_t sn_gen_below(struct sn_gen_rng *r, uint32_t n)
{
	return (uint32_t)(((sn_gen_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* Uniform in [0, 1). */
static inline double sn_gen_unit(struct sn_gen_rng *r)
{
	return (double)(sn_gen_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

static inline bool sn_gen_chance(struct sn_gen_rng *r, double p)
{
	return sn_gen_unit(r) < p;
}

/* An IPv4 (first 4 bytes used) or IPv6 address, network byte order. */
struct sn_gen_addr {
	bool v6;
	uint8_t b[16];
};

/* What a connection carries. The first four are the pub/sub protocols. */
enum sn_gen_kind {
	SN_GEN_MQTT = 0,
	SN_GEN_XMPP,
	SN_GEN_AMQP,
	SN_GEN_STOMP,
	SN_GEN_HTTP,
	SN_GEN_TLS,
	SN_GEN_SSH,
	SN_GEN_RANDOM,
	SN_GEN_KIND_COUNT
};

enum sn_gen_dir { SN_GEN_TO_SERVER = 0, SN_GEN_TO_CLIENT = 1 };

/* TCP flag bits (RFC 9293 section 3.1). */
#define SN_GEN_FIN 0x01
#define SN_GEN_SYN 0x02
#define SN_GEN_RST 0x04
#define SN_GEN_PSH 0x08
#define SN_GEN_ACK 0x10

/* Largest payload the builders are asked for (an Ethernet MSS). */
#define SN_GEN_MSS 1460
#define SN_GEN_FRAME_MAX 1600

/* One simulated connection and where it is in its conversation. */
struct sn_gen_conn {
	struct sn_gen_addr cli, srv;
	uint16_t cport, sport;
	uint16_t vlan;          /* 802.1Q id, 0 = untagged */
	enum sn_gen_kind kind;
	uint32_t tag;           /* per-pair number used in identifiers */
	uint32_t seq[2];        /* next sequence number each side sends */
	uint16_t step;          /* packets sent so far */
	uint16_t hs_steps;      /* handshake messages after the 3-way handshake */
	uint16_t data_steps;    /* data-phase packets */
	uint8_t last_data_dir;  /* who sent the last data segment */
};

static inline uint32_t sn_gen_conn_packets(const struct sn_gen_conn *c)
{
	return 3u + c->hs_steps + c->data_steps + 3u;
}

/* gen_payload.c */

/* Handshake messages a kind sends after the 3-way handshake. */
uint16_t sn_gen_handshake_steps(enum sn_gen_kind k);
/* Direction and bytes of handshake message i; returns the length. */
size_t sn_gen_handshake(const struct sn_gen_conn *c, uint16_t i, enum sn_gen_dir *dir,
			uint8_t *buf, size_t cap, struct sn_gen_rng *r);
/* A data segment of about `want` bytes in direction d; returns the length. */
size_t sn_gen_data(const struct sn_gen_conn *c, enum sn_gen_dir d, size_t want, uint8_t *buf,
		   size_t cap, struct sn_gen_rng *r);
/* Fills the shared filler buffers; call once before building payloads. */
void sn_gen_payload_init(struct sn_gen_rng *r);

/* gen_frame.c */

struct sn_gen_pcap {
	FILE *f;
	uint8_t *buf;
	size_t len, cap;
	uint64_t packets, wire_bytes;
	int err; /* first write error, 0 or -errno */
};

int sn_gen_pcap_open(struct sn_gen_pcap *w, const char *path);
int sn_gen_pcap_close(struct sn_gen_pcap *w);
void sn_gen_pcap_write(struct sn_gen_pcap *w, uint64_t ts_us, const uint8_t *frame, size_t len);

/*
 * Builds Ethernet (+802.1Q) / IP / TCP around a payload sent by side d of c
 * with the given flags, using and advancing c->seq.  Returns the frame length.
 */
size_t sn_gen_frame(struct sn_gen_conn *c, enum sn_gen_dir d, uint8_t flags, const uint8_t *payload,
		    size_t plen, uint8_t *frame);

#endif /* SN_GEN_H */
