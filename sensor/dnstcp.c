/*
 * dnstcp.c - DNS over TCP (see dnstcp.h): the connection table, the
 * server's bytes placed by the reassembler, and the length prefixes read
 * from known boundaries only.
 *
 * The window of a connection always starts at a message boundary: the
 * server's ISN + 1 at first, then the end of each message read or
 * skipped.  A segment that reaches past the window is placed again after
 * the messages before it are taken, so no byte is cut by the bound.
 */
#include "dnstcp.h"

#include <stdlib.h>
#include <string.h>

#define N_BUCKETS (SN_DNSTCP_CONNS / SN_DNSTCP_WAYS)
#define MAP_BYTES SN_REASM_MAP_BYTES(SN_DNSTCP_CAP)

_Static_assert(SN_DNSTCP_CONNS % SN_DNSTCP_WAYS == 0, "whole buckets");
_Static_assert(SN_DNSTCP_MSG_MAX <= 65535, "a length prefix holds 16 bits");

struct dnstcp_conn_ref {
	struct sn_dnstcp_conn *c;
	uint8_t *buf, *map;
};

int sn_dnstcp_init(struct sn_dnstcp *t, uint64_t seed)
{
	memset(t, 0, sizeof *t);
	sn_keyhash_init(&t->key, seed);
	t->conns = calloc(SN_DNSTCP_CONNS, sizeof *t->conns);
	t->bufs = malloc((size_t)SN_DNSTCP_CONNS * SN_DNSTCP_CAP);
	t->maps = calloc(SN_DNSTCP_CONNS, MAP_BYTES);
	if (!t->conns || !t->bufs || !t->maps) {
		sn_dnstcp_free(t);
		return -1;
	}
	return 0;
}

void sn_dnstcp_free(struct sn_dnstcp *t)
{
	free(t->conns);
	free(t->bufs);
	free(t->maps);
	t->conns = NULL;
	t->bufs = t->maps = NULL;
}

static bool addr_eq(const struct sn_addr *a, const struct sn_addr *b)
{
	return a->family == b->family && memcmp(a->b, b->b, sizeof a->b) == 0;
}

static size_t bucket_of(const struct sn_dnstcp *t, const struct sn_addr *client, uint16_t cport,
			const struct sn_addr *server)
{
	uint64_t w[5] = { 0 };
	memcpy(&w[0], client->b, 16);
	memcpy(&w[2], server->b, 16);
	w[4] = (uint64_t)cport | (uint64_t)client->family << 16 | (uint64_t)server->family << 24;
	return (size_t)(sn_keyhash_words(&t->key, w, 5) % N_BUCKETS);
}

static struct dnstcp_conn_ref ref_of(const struct sn_dnstcp *t, size_t i)
{
	struct dnstcp_conn_ref r = {
		.c = &t->conns[i],
		.buf = t->bufs + i * SN_DNSTCP_CAP,
		.map = t->maps + i * MAP_BYTES,
	};
	return r;
}

/* The followed connection of this 4-tuple (server port 53), or ref.c NULL. */
static struct dnstcp_conn_ref lookup(const struct sn_dnstcp *t, const struct sn_addr *client,
				     uint16_t cport, const struct sn_addr *server)
{
	size_t b = bucket_of(t, client, cport, server) * SN_DNSTCP_WAYS;
	for (size_t i = b; i < b + SN_DNSTCP_WAYS; i++) {
		const struct sn_dnstcp_conn *c = &t->conns[i];
		if (c->used && c->cport == cport && addr_eq(&c->client, client) &&
		    addr_eq(&c->server, server))
			return ref_of(t, i);
	}
	struct dnstcp_conn_ref none = { 0 };
	return none;
}

/* A slot for a new connection: a free or quiet way, else the stalest (counted). */
static struct dnstcp_conn_ref take(struct sn_dnstcp *t, const struct sn_addr *client,
				   uint16_t cport, const struct sn_addr *server, uint64_t now_us)
{
	size_t b = bucket_of(t, client, cport, server) * SN_DNSTCP_WAYS, pick = b;
	for (size_t i = b; i < b + SN_DNSTCP_WAYS; i++) {
		const struct sn_dnstcp_conn *c = &t->conns[i];
		if (!c->used || c->last_us + SN_DNSTCP_IDLE_US <= now_us) {
			pick = i;
			break;
		}
		if (c->last_us < t->conns[pick].last_us)
			pick = i;
	}
	struct dnstcp_conn_ref r = ref_of(t, pick);
	if (r.c->used && r.c->last_us + SN_DNSTCP_IDLE_US > now_us)
		t->st.evicted++;
	memset(r.c, 0, sizeof *r.c);
	memset(r.map, 0, MAP_BYTES);
	r.c->used = true;
	r.c->client = *client;
	r.c->server = *server;
	r.c->cport = cport;
	return r;
}

static uint32_t prefix_len(const uint8_t *buf)
{
	return (uint32_t)buf[0] << 8 | buf[1];
}

/*
 * Hands every whole message at the front of the window to dns.c and drops
 * it; a length over the bound moves the window past that message.
 */
static void take_messages(struct sn_dnstcp *t, struct sn_dns *dns, struct dnstcp_conn_ref r,
			  uint64_t ts_us)
{
	struct sn_reasm_dir *d = &r.c->dir;
	uint32_t used = 0;

	while (d->contig - used >= 2) {
		uint32_t len = prefix_len(r.buf + used);
		if (len > SN_DNSTCP_MSG_MAX) {
			t->st.truncated++;
			sn_reasm_dir_consume(d, r.buf, r.map, SN_DNSTCP_CAP, used);
			sn_reasm_dir_skip(d, r.buf, r.map, SN_DNSTCP_CAP, 2 + len);
			used = 0;
			continue;
		}
		if (d->contig - used < 2 + len)
			break;
		sn_dns_response(dns, &r.c->client, r.buf + used + 2, len, ts_us);
		t->st.messages++;
		used += 2 + len;
	}
	sn_reasm_dir_consume(d, r.buf, r.map, SN_DNSTCP_CAP, used);
}

/*
 * The server's bytes before sequence number `upto_seq` are
 * known to have been sent: a hole before that is lost.  The message it
 * falls in is skipped when its length is known, else the connection is
 * dropped.
 */
static void lost_before(struct sn_dnstcp *t, struct sn_dns *dns, struct dnstcp_conn_ref r,
			uint32_t upto_seq, uint64_t ts_us)
{
	struct sn_reasm_dir *d = &r.c->dir;

	while (!r.c->dead && (int32_t)(upto_seq - d->base) > (int64_t)d->contig) {
		t->st.gaps++;
		if (d->contig < 2) {
			r.c->dead = true;
			return;
		}
		uint32_t next = 2 + prefix_len(r.buf); /* <= SN_DNSTCP_CAP: take_messages ran */
		sn_reasm_dir_skip(d, r.buf, r.map, SN_DNSTCP_CAP, next);
		take_messages(t, dns, r, ts_us);
	}
}

/* Offset of a sequence number from the window's start (negative: before it). */
static int64_t rel(const struct sn_dnstcp_conn *c, uint32_t seq)
{
	return (int32_t)(seq - c->dir.base);
}

/* The server's payload, placed (again) until all of it is in or behind the window. */
static void place(struct sn_dnstcp *t, struct sn_dns *dns, struct dnstcp_conn_ref r,
		  const struct sn_packet *pkt)
{
	struct sn_reasm_dir *d = &r.c->dir;

	for (;;) {
		sn_reasm_dir_add(d, r.buf, r.map, SN_DNSTCP_CAP, pkt->seq, pkt->payload,
				 pkt->payload_len);
		bool cut = rel(r.c, pkt->seq + pkt->payload_len) > SN_DNSTCP_CAP;
		uint32_t base = d->base;
		take_messages(t, dns, r, pkt->ts_us);
		if (!cut)
			return;
		/* stuck: a whole window lies behind a hole, and more comes */
		if (d->base == base)
			lost_before(t, dns, r, base + SN_DNSTCP_CAP, pkt->ts_us);
		if (r.c->dead)
			return;
	}
}

/* The connection ends (the server's last byte before end_seq): what is left unread is lost. */
static void finish(struct sn_dnstcp *t, struct sn_dns *dns, struct dnstcp_conn_ref r,
		   uint32_t end_seq, uint64_t ts_us)
{
	if (!r.c->dead) {
		lost_before(t, dns, r, end_seq, ts_us);
		if (!r.c->dead && (r.c->dir.contig > 0 || r.c->dir.held > 0))
			t->st.gaps++;
	}
	r.c->used = false;
}

static void from_server(struct sn_dnstcp *t, struct sn_dns *dns, const struct sn_packet *pkt)
{
	struct dnstcp_conn_ref r = lookup(t, &pkt->dst, pkt->dport, &pkt->src);
	uint8_t fl = pkt->tcp_flags;

	if ((fl & (SN_TCP_SYN | SN_TCP_ACK)) == (SN_TCP_SYN | SN_TCP_ACK)) {
		if (r.c && r.c->isn == pkt->seq)
			return; /* a retransmitted SYN-ACK */
		if (r.c && r.c->csum_good && sn_packet_checksum_bad(pkt))
			return; /* a decoy */
		if (r.c) { /* the 4-tuple's new connection */
			memset(r.c, 0, sizeof *r.c);
			memset(r.map, 0, MAP_BYTES);
			r.c->used = true;
			r.c->client = pkt->dst;
			r.c->server = pkt->src;
			r.c->cport = pkt->dport;
		} else {
			r = take(t, &pkt->dst, pkt->dport, &pkt->src, pkt->ts_us);
		}
		sn_reasm_dir_set_base(&r.c->dir, pkt->seq + 1);
		r.c->isn = pkt->seq;
		r.c->last_us = pkt->ts_us;
		return;
	}
	if (!r.c) {
		if (pkt->payload_wire_len > 0)
			t->st.unaligned++;
		return;
	}
	if (pkt->csum_pending) {
		if (!sn_packet_checksum_bad(pkt))
			r.c->csum_good = true;
		else if (r.c->csum_good)
			return; /* a decoy: this server has shown good checksums */
	}
	r.c->last_us = pkt->ts_us;
	if (r.c->dead) {
		if (fl & (SN_TCP_FIN | SN_TCP_RST))
			r.c->used = false;
		return;
	}
	if (pkt->payload_len > 0)
		place(t, dns, r, pkt);
	if (r.c->dead)
		return;
	/* bytes the capture cut (snaplen) never come: the hole is known lost */
	if (pkt->payload_len < pkt->payload_wire_len)
		lost_before(t, dns, r, pkt->seq + pkt->payload_wire_len, pkt->ts_us);
	/* what the client acknowledged was sent: a hole before it is lost */
	if (r.c->have_ack && !r.c->dead)
		lost_before(t, dns, r, r.c->acked, pkt->ts_us);
	if (fl & SN_TCP_FIN)
		finish(t, dns, r, pkt->seq + pkt->payload_wire_len, pkt->ts_us);
	else if (fl & SN_TCP_RST)
		finish(t, dns, r, r.c->dir.base, pkt->ts_us);
}

static void from_client(struct sn_dnstcp *t, struct sn_dns *dns, const struct sn_packet *pkt)
{
	struct dnstcp_conn_ref r = lookup(t, &pkt->src, pkt->sport, &pkt->dst);

	if (!r.c || (pkt->csum_pending && sn_packet_checksum_bad(pkt)))
		return;
	r.c->last_us = pkt->ts_us;
	if (pkt->tcp_flags & SN_TCP_RST) {
		if (!r.c->dead)
			finish(t, dns, r, r.c->dir.base, pkt->ts_us);
		r.c->used = false;
		return;
	}
	/* applied at the server's next segment: one reordered in the capture still fits */
	if ((pkt->tcp_flags & SN_TCP_ACK) && (!r.c->have_ack || (int32_t)(pkt->ack - r.c->acked) > 0)) {
		r.c->acked = pkt->ack;
		r.c->have_ack = true;
	}
}

void sn_dnstcp_segment(struct sn_dnstcp *t, struct sn_dns *dns, const struct sn_packet *pkt)
{
	if (!t->conns)
		return;
	if (pkt->sport == 53)
		from_server(t, dns, pkt);
	else if (pkt->dport == 53)
		from_client(t, dns, pkt);
}
