/*
 * gen.c - deterministic traffic generator for the benchmark.  Writes a
 * classic pcap of many interleaved, complete TCP conversations (3-way
 * handshake, the protocol's opening messages, data both ways, FIN/FIN/ACK),
 * a given share of them MQTT, XMPP, AMQP or STOMP, optionally hidden among
 * a flood of half-open SYNs; and a truth file listing every pub/sub
 * connection so the benchmark can check that the sensor reported each one.
 *
 * Pub/sub connections come in pairs (client, server, port, protocol) that
 * repeat --repeat times, so aggregation groups form.  Timestamps advance
 * 10-50 us per packet and thousands of connections are open at once.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"

#define MAX_CONCURRENT 65536
#define OPEN_PAIRS 64            /* pub/sub pairs with connections still to come */
#define START_US 1767225600000000ULL /* 2026-01-01T00:00:00Z */

struct options {
	uint64_t seed, packets, syn_flood;
	double pubsub_share, ipv6_share, vlan_share, nonstd_share, external_share;
	uint32_t repeat, avg_size, concurrent;
	const char *out, *truth;
};

/* A pub/sub (client, server, port, protocol) that repeats. */
struct pair {
	struct sn_gen_conn proto; /* addresses, ports, kind, vlan, tag */
	uint32_t left;            /* connections still to start */
};

struct gen {
	struct options o;
	struct sn_gen_rng rng;
	struct sn_gen_pcap pcap;
	FILE *truth;
	struct sn_gen_conn *slots;
	uint32_t n_active;
	struct pair open[OPEN_PAIRS];
	uint32_t n_open;
	uint32_t next_tag;
	uint64_t planned, emitted; /* packets of real connections */
	uint64_t flood_left;
	uint64_t ts_us;
	uint64_t conns, pubsub_conns;
	uint8_t frame[SN_GEN_FRAME_MAX];
	uint8_t payload[SN_GEN_MSS];
};

static const char *const kind_names[SN_GEN_KIND_COUNT] = {
	"MQTT", "XMPP", "AMQP", "STOMP", "HTTP", "TLS", "SSH", "RANDOM",
};
static const uint16_t std_ports[4] = { 1883, 5222, 5672, 61613 };
static const uint16_t nonstd_ports[3] = { 443, 80, 8080 };

/* ---- addresses ---------------------------------------------------------- */

static void addr_v4(struct sn_gen_addr *a, uint32_t v)
{
	memset(a, 0, sizeof *a);
	a->b[0] = (uint8_t)(v >> 24);
	a->b[1] = (uint8_t)(v >> 16);
	a->b[2] = (uint8_t)(v >> 8);
	a->b[3] = (uint8_t)v;
}

/* prefix (first `keep` bytes) followed by random bytes */
static void addr_v6(struct sn_gen_addr *a, const uint8_t *prefix, size_t keep, struct sn_gen_rng *r)
{
	a->v6 = true;
	for (size_t i = 0; i < 16; i++)
		a->b[i] = i < keep ? prefix[i] : (uint8_t)sn_gen_next(r);
}

static void internal_addr(struct sn_gen_addr *a, bool v6, struct sn_gen_rng *r)
{
	static const uint8_t ula[1] = { 0xfd };
	if (v6)
		addr_v6(a, ula, 1, r);
	else
		addr_v4(a, 0x0a000000u | (sn_gen_below(r, 0xfffffe) + 1));
}

/* RFC 5737 and RFC 3849 documentation ranges: always external. */
static void documentation_addr(struct sn_gen_addr *a, bool v6, struct sn_gen_rng *r)
{
	static const uint32_t nets[3] = { 0xc0000200u, 0xc6336400u, 0xcb007100u };
	static const uint8_t doc6[4] = { 0x20, 0x01, 0x0d, 0xb8 };
	if (v6)
		addr_v6(a, doc6, 4, r);
	else
		addr_v4(a, nets[sn_gen_below(r, 3)] | (sn_gen_below(r, 254) + 1));
}

/* Any unicast IPv4 outside 0/8, 10/8, 127/8 and multicast. */
static void public_v4(struct sn_gen_addr *a, struct sn_gen_rng *r)
{
	uint32_t v;
	do
		v = (uint32_t)sn_gen_next(r);
	while ((v >> 24) == 0 || (v >> 24) == 10 || (v >> 24) == 127 || (v >> 24) >= 224);
	addr_v4(a, v);
}

static void format_addr(const struct sn_gen_addr *a, char *out, size_t cap)
{
	if (!a->v6) {
		snprintf(out, cap, "%u.%u.%u.%u", a->b[0], a->b[1], a->b[2], a->b[3]);
		return;
	}
	/* full form; the checker normalises it */
	size_t off = 0;
	for (size_t i = 0; i < 16 && off < cap; i += 2)
		off += (size_t)snprintf(out + off, cap - off, "%s%x", i ? ":" : "",
					(unsigned)(a->b[i] << 8 | a->b[i + 1]));
}

static bool is_pubsub_port(uint32_t p)
{
	static const uint16_t ports[] = { 1883, 8883, 5222, 5223, 5269, 5671, 5672, 61613, 61614 };
	for (size_t i = 0; i < sizeof ports / sizeof ports[0]; i++)
		if (p == ports[i])
			return true;
	return false;
}

static uint16_t ephemeral_port(struct sn_gen_rng *r)
{
	return (uint16_t)(32768 + sn_gen_below(r, 28232));
}

/* ---- connections -------------------------------------------------------- */

/* Would the default configuration alert on this pair's group? */
static bool alerts_by_default(const struct sn_gen_conn *c, uint32_t repeat)
{
	bool external = c->srv.v6 ? c->srv.b[0] != 0xfd : c->srv.b[0] != 10;
	bool foreign = c->sport != std_ports[c->kind];
	int level = 0; /* low */
	if (external)
		level = c->kind == SN_GEN_AMQP ? 1 : 2;
	else if (c->kind == SN_GEN_XMPP || c->kind == SN_GEN_STOMP)
		level = 1;
	if (foreign)
		level++;
	return repeat >= 2 && level >= 1;
}

static void new_pair(struct gen *g, struct pair *p)
{
	struct sn_gen_rng *r = &g->rng;
	struct sn_gen_conn *c = &p->proto;
	static const enum sn_gen_kind weights[8] = { SN_GEN_MQTT,  SN_GEN_MQTT, SN_GEN_MQTT,
						     SN_GEN_XMPP,  SN_GEN_XMPP, SN_GEN_AMQP,
						     SN_GEN_AMQP,  SN_GEN_STOMP };
	bool v6 = sn_gen_chance(r, g->o.ipv6_share);
	memset(c, 0, sizeof *c);
	c->kind = weights[sn_gen_below(r, 8)];
	internal_addr(&c->cli, v6, r);
	if (sn_gen_chance(r, g->o.external_share))
		documentation_addr(&c->srv, v6, r);
	else
		internal_addr(&c->srv, v6, r);
	c->sport = sn_gen_chance(r, g->o.nonstd_share) ? nonstd_ports[sn_gen_below(r, 3)]
						       : std_ports[c->kind];
	c->vlan = sn_gen_chance(r, g->o.vlan_share) ? (uint16_t)(1 + sn_gen_below(r, 4094)) : 0;
	c->tag = g->next_tag++;
	p->left = g->o.repeat;
}

/* The next pub/sub connection's pair: an open one, or a new one. */
static struct sn_gen_conn pubsub_conn(struct gen *g, bool may_open)
{
	uint32_t i;
	if (may_open && (g->n_open < OPEN_PAIRS / 2 || (g->n_open < OPEN_PAIRS &&
							 sn_gen_chance(&g->rng, 0.3)))) {
		i = g->n_open++;
		new_pair(g, &g->open[i]);
	} else {
		i = sn_gen_below(&g->rng, g->n_open);
	}
	struct sn_gen_conn c = g->open[i].proto;
	if (--g->open[i].left == 0)
		g->open[i] = g->open[--g->n_open];
	return c;
}

static struct sn_gen_conn other_conn(struct gen *g)
{
	struct sn_gen_rng *r = &g->rng;
	struct sn_gen_conn c;
	uint32_t pick = sn_gen_below(r, 20);
	bool v6 = sn_gen_chance(r, g->o.ipv6_share);
	memset(&c, 0, sizeof c);
	c.kind = pick < 6 ? SN_GEN_HTTP : pick < 16 ? SN_GEN_TLS : pick < 17 ? SN_GEN_SSH : SN_GEN_RANDOM;
	internal_addr(&c.cli, v6, r);
	if (v6)
		documentation_addr(&c.srv, true, r);
	else if (sn_gen_chance(r, 0.7))
		public_v4(&c.srv, r);
	else
		internal_addr(&c.srv, false, r);
	switch (c.kind) {
	case SN_GEN_HTTP: c.sport = sn_gen_chance(r, 0.7) ? 80 : 8080; break;
	case SN_GEN_TLS: c.sport = 443; break;
	case SN_GEN_SSH: c.sport = 22; break;
	default:
		do
			c.sport = (uint16_t)(1024 + sn_gen_below(r, 64512));
		while (is_pubsub_port(c.sport));
		break;
	}
	c.vlan = sn_gen_chance(r, g->o.vlan_share) ? (uint16_t)(1 + sn_gen_below(r, 4094)) : 0;
	return c;
}

static void write_truth(struct gen *g, const struct sn_gen_conn *c)
{
	char cli[48], srv[48];
	if (!g->truth)
		return;
	format_addr(&c->cli, cli, sizeof cli);
	format_addr(&c->srv, srv, sizeof srv);
	fprintf(g->truth, "%s\t%u\t%s\t%u\t%s\tyes\t%s\n", cli, c->cport, srv, c->sport,
		kind_names[c->kind], alerts_by_default(c, g->o.repeat) ? "yes" : "no");
}

/* Starts one connection in a free slot; false when nothing is left to start. */
static bool start_conn(struct gen *g)
{
	bool in_budget = g->planned < g->o.packets;
	struct sn_gen_conn c;
	if (!in_budget && g->n_open == 0)
		return false;
	if (!in_budget || sn_gen_chance(&g->rng, g->o.pubsub_share))
		c = pubsub_conn(g, in_budget);
	else
		c = other_conn(g);
	c.cport = ephemeral_port(&g->rng);
	c.seq[0] = (uint32_t)sn_gen_next(&g->rng);
	c.seq[1] = (uint32_t)sn_gen_next(&g->rng);
	c.hs_steps = sn_gen_handshake_steps(c.kind);
	c.data_steps = (uint16_t)(2 + sn_gen_below(&g->rng, 29));
	if (c.kind < SN_GEN_HTTP) {
		g->pubsub_conns++;
		write_truth(g, &c);
	}
	g->slots[g->n_active++] = c;
	g->planned += sn_gen_conn_packets(&c);
	g->conns++;
	return true;
}

/* ---- emitting packets ---------------------------------------------------- */

static void emit(struct gen *g, struct sn_gen_conn *c, enum sn_gen_dir d, uint8_t flags, size_t plen)
{
	size_t len = sn_gen_frame(c, d, flags, g->payload, plen, g->frame);
	g->ts_us += 10 + sn_gen_below(&g->rng, 41);
	sn_gen_pcap_write(&g->pcap, g->ts_us, g->frame, len);
}

/* Keeps the file's mean frame size near --avg-size: big data or an ACK. */
static void data_step(struct gen *g, struct sn_gen_conn *c)
{
	struct sn_gen_rng *r = &g->rng;
	bool below = g->pcap.wire_bytes < (uint64_t)g->o.avg_size * (g->pcap.packets + 1);
	enum sn_gen_dir d = sn_gen_chance(r, 0.4) ? SN_GEN_TO_SERVER : SN_GEN_TO_CLIENT;
	if (!below && sn_gen_chance(r, 0.8)) {
		emit(g, c, c->last_data_dir ? SN_GEN_TO_SERVER : SN_GEN_TO_CLIENT, SN_GEN_ACK, 0);
		return;
	}
	size_t mss = c->cli.v6 ? SN_GEN_MSS - 20 : SN_GEN_MSS;
	size_t want = below && sn_gen_chance(r, 0.7) ? mss : 60 + sn_gen_below(r, (uint32_t)mss - 60);
	size_t n = sn_gen_data(c, d, want, g->payload, mss, r);
	c->last_data_dir = (uint8_t)d;
	emit(g, c, d, SN_GEN_ACK | SN_GEN_PSH, n);
}

/* Sends connection c's next packet; true when the conversation is over. */
static bool conn_step(struct gen *g, struct sn_gen_conn *c)
{
	uint32_t s = c->step++;
	uint32_t fin = 3u + c->hs_steps + c->data_steps;
	enum sn_gen_dir d;
	if (s == 0)
		emit(g, c, SN_GEN_TO_SERVER, SN_GEN_SYN, 0);
	else if (s == 1)
		emit(g, c, SN_GEN_TO_CLIENT, SN_GEN_SYN | SN_GEN_ACK, 0);
	else if (s == 2)
		emit(g, c, SN_GEN_TO_SERVER, SN_GEN_ACK, 0);
	else if (s < 3u + c->hs_steps) {
		size_t n = sn_gen_handshake(c, (uint16_t)(s - 3), &d, g->payload, sizeof g->payload,
					    &g->rng);
		emit(g, c, d, SN_GEN_ACK | SN_GEN_PSH, n);
	} else if (s < fin)
		data_step(g, c);
	else if (s == fin)
		emit(g, c, SN_GEN_TO_SERVER, SN_GEN_FIN | SN_GEN_ACK, 0);
	else if (s == fin + 1)
		emit(g, c, SN_GEN_TO_CLIENT, SN_GEN_FIN | SN_GEN_ACK, 0);
	else
		emit(g, c, SN_GEN_TO_SERVER, SN_GEN_ACK, 0);
	return s >= fin + 2;
}

/* One half-open SYN from a random (spoofed) source to a random port. */
static void flood_step(struct gen *g)
{
	struct sn_gen_conn c;
	memset(&c, 0, sizeof c);
	public_v4(&c.cli, &g->rng);
	internal_addr(&c.srv, false, &g->rng);
	c.cport = (uint16_t)(1024 + sn_gen_below(&g->rng, 64512));
	c.sport = (uint16_t)(1 + sn_gen_below(&g->rng, 65535));
	c.seq[0] = (uint32_t)sn_gen_next(&g->rng);
	emit(g, &c, SN_GEN_TO_SERVER, SN_GEN_SYN, 0);
	g->flood_left--;
}

/* Flood SYNs are spread evenly over the real traffic still to come. */
static bool flood_turn(struct gen *g)
{
	if (!g->flood_left)
		return false;
	uint64_t real_left = g->planned - g->emitted;
	if (g->planned < g->o.packets)
		real_left += g->o.packets - g->planned;
	if (g->n_active == 0 || real_left == 0)
		return true;
	return sn_gen_unit(&g->rng) * (double)(g->flood_left + real_left) < (double)g->flood_left;
}

static void run(struct gen *g)
{
	for (;;) {
		while (g->n_active < g->o.concurrent && start_conn(g))
			;
		if (flood_turn(g)) {
			flood_step(g);
			continue;
		}
		if (g->n_active == 0)
			break;
		uint32_t i = sn_gen_below(&g->rng, g->n_active);
		g->emitted++;
		if (conn_step(g, &g->slots[i]))
			g->slots[i] = g->slots[--g->n_active];
	}
}

/* ---- command line -------------------------------------------------------- */

static void usage(FILE *out)
{
	fputs("usage: gen -w OUT.pcap [--truth OUT.tsv] [--seed N] [--packets N]\n"
	      "           [--pubsub-share F] [--ipv6-share F] [--vlan-share F] [--nonstd-share F]\n"
	      "           [--external-share F] [--repeat N] [--syn-flood N] [--avg-size N]\n"
	      "           [--concurrent N]\n"
	      "Writes a deterministic capture of interleaved TCP conversations, a share of them\n"
	      "MQTT/XMPP/AMQP/STOMP; the truth file lists each pub/sub connection:\n"
	      "client_ip client_port server_ip server_port protocol reported alerts_by_default\n",
	      out);
}

static int parse_share(const char *s, double *out)
{
	char *end;
	double v = strtod(s, &end);
	if (*end || v < 0.0 || v > 1.0)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_count(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || !*s || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t v;
	if (parse_count(s, max, &v) != 0 || v < min)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

enum { O_SEED = 256, O_PACKETS, O_PUBSUB, O_IPV6, O_VLAN, O_NONSTD, O_EXTERNAL, O_REPEAT,
       O_FLOOD, O_AVG, O_TRUTH, O_CONC };

static int parse_one(struct options *o, int ch, const char *a)
{
	switch (ch) {
	case 'w': o->out = a; return 0;
	case O_TRUTH: o->truth = a; return 0;
	case O_SEED: return parse_count(a, UINT64_MAX, &o->seed);
	case O_PACKETS: return parse_count(a, 1ULL << 40, &o->packets);
	case O_FLOOD: return parse_count(a, 1ULL << 40, &o->syn_flood);
	case O_PUBSUB: return parse_share(a, &o->pubsub_share);
	case O_IPV6: return parse_share(a, &o->ipv6_share);
	case O_VLAN: return parse_share(a, &o->vlan_share);
	case O_NONSTD: return parse_share(a, &o->nonstd_share);
	case O_EXTERNAL: return parse_share(a, &o->external_share);
	case O_REPEAT: return parse_u32(a, 1, 1000, &o->repeat);
	case O_AVG: return parse_u32(a, 60, 1514, &o->avg_size);
	case O_CONC: return parse_u32(a, 1, MAX_CONCURRENT, &o->concurrent);
	default: return -EINVAL;
	}
}

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "seed", required_argument, NULL, O_SEED },
		{ "packets", required_argument, NULL, O_PACKETS },
		{ "pubsub-share", required_argument, NULL, O_PUBSUB },
		{ "ipv6-share", required_argument, NULL, O_IPV6 },
		{ "vlan-share", required_argument, NULL, O_VLAN },
		{ "nonstd-share", required_argument, NULL, O_NONSTD },
		{ "external-share", required_argument, NULL, O_EXTERNAL },
		{ "repeat", required_argument, NULL, O_REPEAT },
		{ "syn-flood", required_argument, NULL, O_FLOOD },
		{ "avg-size", required_argument, NULL, O_AVG },
		{ "truth", required_argument, NULL, O_TRUTH },
		{ "concurrent", required_argument, NULL, O_CONC },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;
	*o = (struct options){ .seed = 1, .packets = 100000, .pubsub_share = 0.01,
			       .ipv6_share = 0.1, .vlan_share = 0.1, .nonstd_share = 0.43,
			       .external_share = 0.5, .repeat = 3, .avg_size = 565,
			       .concurrent = 4096 };
	while ((ch = getopt_long(argc, argv, "w:h", longopts, NULL)) != -1) {
		if (ch == 'h') {
			usage(stdout);
			return 1;
		}
		if (parse_one(o, ch, optarg) != 0) {
			fprintf(stderr, "gen: bad option or value%s%s\n", optarg ? ": " : "",
				optarg ? optarg : "");
			usage(stderr);
			return -EINVAL;
		}
	}
	if (!o->out || optind < argc) {
		usage(stderr);
		return -EINVAL;
	}
	return 0;
}

static int open_outputs(struct gen *g)
{
	int rc = sn_gen_pcap_open(&g->pcap, g->o.out);
	if (rc != 0) {
		fprintf(stderr, "gen: %s: %s\n", g->o.out, strerror(-rc));
		return rc;
	}
	if (!g->o.truth)
		return 0;
	g->truth = fopen(g->o.truth, "w");
	if (!g->truth) {
		rc = -errno;
		fprintf(stderr, "gen: %s: %s\n", g->o.truth, strerror(errno));
		sn_gen_pcap_close(&g->pcap);
		return rc;
	}
	fputs("client_ip\tclient_port\tserver_ip\tserver_port\tprotocol\treported\t"
	      "alerts_by_default\n", g->truth);
	return 0;
}

static int close_outputs(struct gen *g)
{
	int rc = sn_gen_pcap_close(&g->pcap);
	if (rc != 0)
		fprintf(stderr, "gen: %s: %s\n", g->o.out, strerror(-rc));
	if (g->truth && fclose(g->truth) != 0 && rc == 0) {
		rc = -errno;
		fprintf(stderr, "gen: %s: %s\n", g->o.truth, strerror(errno));
	}
	return rc;
}

int main(int argc, char **argv)
{
	static struct gen g;
	int rc = parse_args(argc, argv, &g.o);
	if (rc != 0)
		return rc > 0 ? 0 : 2;
	g.rng.s = g.o.seed;
	g.flood_left = g.o.syn_flood;
	g.ts_us = START_US;
	g.slots = calloc(g.o.concurrent, sizeof *g.slots);
	if (!g.slots) {
		fprintf(stderr, "gen: out of memory\n");
		return 1;
	}
	sn_gen_payload_init(&g.rng);
	if (open_outputs(&g) != 0) {
		free(g.slots);
		return 1;
	}
	run(&g);
	printf("gen: %llu packets, %llu wire bytes, %llu connections (%llu pub/sub), "
	       "%llu SYN flood packets -> %s\n",
	       (unsigned long long)g.pcap.packets, (unsigned long long)g.pcap.wire_bytes,
	       (unsigned long long)g.conns, (unsigned long long)g.pubsub_conns,
	       (unsigned long long)g.o.syn_flood, g.o.out);
	rc = close_outputs(&g);
	free(g.slots);
	return rc == 0 ? 0 : 1;
}
