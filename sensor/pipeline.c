/*
 * pipeline.c - a worker (decode + port map + flows) and the aggregator
 * (rules + groups + events + event log + table) behind pipeline.h, and the
 * stats event they fill together.
 */
#include "pipeline.h"

#include <errno.h>
#include <ifaddrs.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attribution.h"
#include "clock.h"
#include "dns.h"
#include "dnstcp.h"
#include "eventlog.h"
#include "events.h"
#include "flow.h"
#include "groups.h"
#include "portmap.h"
#include "rules.h"
#include "syslog.h"
#include "table.h"

#define SN_TABLE_ROWS 100000

/* ---- worker ----------------------------------------------------------- */

struct sn_worker {
	int linktype;
	struct sn_decoder decoder;       /* tunnels, reassembly, checksum policy */
	struct sn_decode_stats decode;
	struct sn_flow_table *flows;
	struct sn_flow_hinter hinter; /* the flows' hints made inline (flow.h) */
	uint64_t now_us;          /* latest packet time seen */
	uint64_t next_expire_us;  /* next flow expiry pass */
	bool expire_pending;      /* the last pass hit its budget: go on at once */
	uint64_t expire_due_us;   /* next_expire_us, or 0 while a pass is pending */
	uint8_t port_map[SN_PORT_MAP_SIZE]; /* the flow table reads it */
	struct sn_attr *attr;     /* host attribution, or NULL */
	struct sn_dns dns;        /* names from DNS answers seen by this worker */
	struct sn_dns *names;     /* &dns, or the cache of the worker it shares (live, N workers) */
	char name[SN_DNS_NAME];
	struct sn_dnstcp dnstcp;  /* DNS over TCP: the answers' byte streams */
	sn_report_fn report;      /* where reports go, after dest_host is stamped */
	void *report_ctx;
	struct sn_conn_report stamped;
};

/*
 * Reports leave the worker with the server's name from a DNS answer the
 * client received (dest_host), unless the connection named it itself (TLS
 * SNI, WebSocket Host, XMPP to: the aggregator prefers those).
 */
static void worker_report(void *ctx, const struct sn_conn_report *r)
{
	struct sn_worker *w = ctx;
	const char *name = NULL;

	if (r->dest_host[0] == '\0' && sn_rules_server_name(&r->meta)[0] == '\0' &&
	    sn_dns_name_copy(w->names, &r->client, &r->server, r->first_us, w->name))
		name = w->name;
	if (!name) {
		w->report(w->report_ctx, r);
		return;
	}
	w->stamped = *r;
	snprintf(w->stamped.dest_host, sizeof w->stamped.dest_host, "%s", name);
	w->report(w->report_ctx, &w->stamped);
}

static void decoder_config_from(struct sn_decoder_config *dc, const struct sn_config *cfg)
{
	sn_decoder_defaults(dc);
	dc->checksum = (enum sn_checksum_mode)cfg->capture.checksum_validation;
	dc->defrag.max_datagrams = cfg->tables.defrag_datagrams;
	dc->defrag.max_fragments = cfg->tables.defrag_fragments;
	dc->defrag.timeout_s = cfg->tables.defrag_timeout;
	dc->vxlan_ports = cfg->capture.vxlan_ports;
	dc->n_vxlan_ports = cfg->capture.n_vxlan_ports;
	dc->geneve_ports = cfg->capture.geneve_ports;
	dc->n_geneve_ports = cfg->capture.n_geneve_ports;
}

struct sn_worker *sn_worker_create(const struct sn_config *cfg, int linktype,
				   sn_report_fn report, void *report_ctx, uint64_t seed)
{
	struct sn_worker *w = calloc(1, sizeof *w);
	if (!w)
		return NULL;
	struct sn_decoder_config dc;
	decoder_config_from(&dc, cfg);
	if (sn_decoder_init(&w->decoder, &dc, seed ^ 0xa4093822299f31d0ULL) != 0) {
		free(w);
		return NULL;
	}
	w->linktype = linktype;
	w->report = report;
	w->report_ctx = report_ctx;
	w->names = &w->dns;
	if (sn_dns_init(&w->dns, seed ^ 0x5bd1e9955bd1e995ULL) != 0 ||
	    sn_dnstcp_init(&w->dnstcp, seed ^ 0x2545f4914f6cdd1dULL) != 0) {
		sn_dns_free(&w->dns);
		sn_dnstcp_free(&w->dnstcp);
		sn_decoder_free(&w->decoder);
		free(w);
		return NULL;
	}
	sn_port_map_build(w->port_map, cfg);
	struct sn_flow_config fc = {
		.max_flows = cfg->tables.max_flows,
		.classify_buffers = cfg->tables.classify_buffers,
		.buffer_bytes = cfg->tables.buffer_bytes,
		.timeout_new_s = cfg->tables.flow_timeout_new,
		.timeout_established_s = cfg->tables.flow_timeout_established,
		.timeout_closed_s = cfg->tables.flow_timeout_closed,
		.message_timing_flows = cfg->tables.message_timing_flows,
		.port_map = w->port_map,
		.payload_bytes = (uint16_t)cfg->output.payload_bytes,
		.report = worker_report,
		.report_ctx = w,
	};
	w->flows = sn_flow_table_create(&fc, seed);
	if (!w->flows) {
		sn_dnstcp_free(&w->dnstcp);
		sn_dns_free(&w->dns);
		sn_decoder_free(&w->decoder);
		free(w);
		return NULL;
	}
	sn_flow_table_hinter(w->flows, &w->hinter);
	return w;
}

void sn_worker_destroy(struct sn_worker *w)
{
	if (!w)
		return;
	sn_flow_table_destroy(w->flows);
	sn_dnstcp_free(&w->dnstcp);
	sn_dns_free(&w->dns);
	sn_decoder_free(&w->decoder);
	free(w);
}

void sn_worker_checksum_restart(struct sn_worker *w)
{
	sn_csum_policy_init(&w->decoder.csum, w->decoder.csum.mode);
}

bool sn_worker_checksum_undecided(const struct sn_worker *w)
{
	return !w->decoder.csum.decided;
}

void sn_worker_checksum_sample(struct sn_worker *w, const uint8_t *frame, uint32_t caplen,
			       uint32_t wirelen)
{
	sn_decoder_sample_checksum(&w->decoder, w->linktype, frame, caplen, wirelen);
}

void sn_worker_checksum_decide(struct sn_worker *w)
{
	sn_csum_policy_decide(&w->decoder.csum);
}

void sn_worker_set_index(struct sn_worker *w, uint32_t index)
{
	sn_flow_table_set_worker(w->flows, (uint16_t)index);
}

void sn_worker_set_linktype(struct sn_worker *w, int linktype)
{
	w->linktype = linktype;
}

void sn_worker_reload(struct sn_worker *w, const struct sn_config *cfg)
{
	sn_port_map_build(w->port_map, cfg);
}

/* A pass a second; one that hit its budget goes on at the next packet or tick. */
static void expire_pass(struct sn_worker *w)
{
	if (!w->expire_pending)
		w->next_expire_us = w->now_us + SN_US_PER_S;
	w->expire_pending = sn_flow_table_expire(w->flows, w->now_us, SN_FLOW_EXPIRE_BUDGET);
	w->expire_due_us = w->expire_pending ? 0 : w->next_expire_us;
}

static inline void advance(struct sn_worker *w, uint64_t now_us)
{
	if (now_us == SN_TIME_INVALID)
		return; /* the decoder drops and counts the packet; the clock stays */
	if (now_us > w->now_us)
		w->now_us = now_us;
	if (w->now_us >= w->expire_due_us) /* pending or a second on */
		expire_pass(w);
}

void sn_worker_advance(struct sn_worker *w, uint64_t now_us)
{
	advance(w, now_us);
}

uint64_t sn_worker_now(const struct sn_worker *w)
{
	return w->now_us;
}

int sn_worker_share_names(struct sn_worker *w, struct sn_worker *owner)
{
	if (w == owner || owner->names != &owner->dns || sn_dns_share(&owner->dns) != 0)
		return -1;
	sn_dns_free(&w->dns); /* its own cache is not needed any more */
	w->names = &owner->dns;
	return 0;
}

void sn_worker_set_attribution(struct sn_worker *w, struct sn_attr *attr)
{
	w->attr = attr;
}

/* A client's first SYN to a pub/sub port: the owning process is looked up
 * now, while even a short-lived client still holds its socket. */
static void attribute_syn(struct sn_worker *w, const struct sn_packet *pkt)
{
	if (w->attr && (pkt->tcp_flags & 0x12) == 0x02 && w->port_map[pkt->dport] != 0)
		sn_attr_request(w->attr, &pkt->src, pkt->sport, &pkt->dst, pkt->dport);
}

void sn_worker_packet(struct sn_worker *w, const uint8_t *frame, uint32_t caplen,
		      uint32_t wirelen, uint64_t ts_us)
{
	struct sn_packet pkt;
	advance(w, ts_us);
	enum sn_decode_rc rc = sn_decode_frame(&w->decoder, w->linktype, frame, caplen, wirelen,
					       ts_us, &pkt, &w->decode);
	if (rc == SN_DECODE_TCP) {
		if (pkt.sport == 53 || pkt.dport == 53)
			sn_dnstcp_segment(&w->dnstcp, w->names, &pkt);
		attribute_syn(w, &pkt);
		sn_flow_table_process(w->flows, &pkt);
	} else if (rc == SN_DECODE_DNS) {
		sn_dns_response(w->names, &pkt.dst, pkt.payload, pkt.payload_len, ts_us);
	}
}

#if defined(__GNUC__)
__attribute__((always_inline)) /* one body with the step: no call a packet */
#endif
static inline void prepare_pending(struct sn_worker *w, const uint8_t *frame, uint32_t caplen,
				   uint32_t wirelen, uint64_t ts_us, struct sn_worker_pending *p)
{
	p->ts_us = ts_us;
	enum sn_decode_rc rc = sn_decode_frame(&w->decoder, w->linktype, frame, caplen, wirelen,
					       ts_us, &p->pkt, &w->decode);
	p->tcp = rc == SN_DECODE_TCP;
	if (p->tcp) {
		if (p->pkt.sport == 53 || p->pkt.dport == 53)
			sn_dnstcp_segment(&w->dnstcp, w->names, &p->pkt);
		sn_flow_hint_make(&w->hinter, &p->pkt, &p->hint);
	} else if (rc == SN_DECODE_DNS) { /* names first: the connection to the address follows */
		sn_dns_response(w->names, &p->pkt.dst, p->pkt.payload, p->pkt.payload_len, ts_us);
	}
}

static inline uint64_t process_pending(struct sn_worker *w, const struct sn_worker_pending *p)
{
	advance(w, p->ts_us);
	if (p->tcp) {
		attribute_syn(w, &p->pkt);
		sn_flow_table_process_hinted(w->flows, &p->pkt, &p->hint);
	}
	return w->now_us;
}

void sn_worker_prepare(struct sn_worker *w, const uint8_t *frame, uint32_t caplen,
		       uint32_t wirelen, uint64_t ts_us, struct sn_worker_pending *p)
{
	prepare_pending(w, frame, caplen, wirelen, ts_us, p);
}

void sn_worker_prefetch(const struct sn_worker *w, struct sn_worker_pending *p)
{
	if (p->tcp)
		sn_flow_hint_fetch(&w->hinter, &p->hint);
}

uint64_t sn_worker_process(struct sn_worker *w, const struct sn_worker_pending *p)
{
	return process_pending(w, p);
}

uint64_t sn_worker_step(struct sn_worker *w, struct sn_worker_pending *p, const uint8_t *frame,
			uint32_t caplen, uint32_t wirelen, uint64_t ts_us,
			struct sn_worker_pending *fetch)
{
	uint64_t now = process_pending(w, p);
	prepare_pending(w, frame, caplen, wirelen, ts_us, p);
	if (fetch->tcp)
		sn_flow_hint_fetch(&w->hinter, &fetch->hint);
	return now;
}

void sn_worker_report_live(struct sn_worker *w)
{
	sn_flow_table_report_live(w->flows, w->now_us);
}

void sn_worker_flush(struct sn_worker *w, uint64_t now_us, enum sn_close_reason why)
{
	if (now_us > w->now_us)
		w->now_us = now_us;
	sn_flow_table_flush(w->flows, w->now_us, why);
}

void sn_worker_counts(const struct sn_worker *w, struct sn_worker_counts *out)
{
	struct sn_flow_stats fs;
	sn_flow_table_stats(w->flows, &fs);
	memset(out, 0, sizeof *out);
	out->decode = w->decode;
	out->flows_created = fs.flows_created;
	out->flows_active = fs.flows_active;
	out->classified = fs.classified;
	out->evicted_half_open = fs.evicted_half_open;
	out->evicted_established = fs.evicted_established;
	out->pool_exhausted = fs.pool_exhausted;
	out->meta_exhausted = fs.meta_exhausted;
	out->buffers_reclaimed = fs.buffers_reclaimed;
	out->tunnel_lists_full = fs.tunnel_lists_full;
	out->undecided = fs.undecided;
	out->malformed = fs.malformed;
	out->probe_skipped = fs.probe_skipped;
	out->probe_budget_hit = fs.probe_budget_hit;
	out->large_grown = fs.large_grown;
	out->large_exhausted = fs.large_exhausted;
	out->checksum_bad = fs.checksum_bad;
	out->checksum_unproven = fs.checksum_unproven;
	/* a shared cache is counted once, by the worker that owns it */
	struct sn_dns_stats ds = { 0 };
	if (w->names == &w->dns)
		sn_dns_stats(w->names, &ds);
	out->dns_responses = ds.responses;
	out->dns_addresses = ds.addresses;
	out->dns_malformed = ds.malformed;
	out->dns_replaced = ds.replaced;
	out->msg_followed = fs.msg_followed;
	out->msg_pool_full = fs.msg_pool_full;
	out->msg_reclaimed = fs.msg_reclaimed;
	out->msg_lost = fs.msg_lost;
	out->msg_malformed = fs.msg_malformed;
	out->dns_tcp_messages = w->dnstcp.st.messages;
	out->dns_tcp_truncated = w->dnstcp.st.truncated;
	out->dns_tcp_gaps = w->dnstcp.st.gaps;
	out->dns_tcp_evicted = w->dnstcp.st.evicted;
	out->dns_tcp_unaligned = w->dnstcp.st.unaligned;
}

void sn_worker_counts_add(struct sn_worker_counts *sum, const struct sn_worker_counts *c)
{
	sum->decode.packets += c->decode.packets;
	sum->decode.bytes += c->decode.bytes;
	sum->decode.tcp += c->decode.tcp;
	sum->decode.not_ip += c->decode.not_ip;
	sum->decode.not_tcp += c->decode.not_tcp;
	sum->decode.fragments += c->decode.fragments;
	sum->decode.tunnelled += c->decode.tunnelled;
	sum->decode.tunnel_too_deep += c->decode.tunnel_too_deep;
	sum->decode.defrag.fragments += c->decode.defrag.fragments;
	sum->decode.defrag.reassembled += c->decode.defrag.reassembled;
	sum->decode.defrag.timeouts += c->decode.defrag.timeouts;
	sum->decode.defrag.overflow += c->decode.defrag.overflow;
	sum->decode.defrag.invalid += c->decode.defrag.invalid;
	for (size_t e = 0; e < SN_DERR_COUNT; e++)
		sum->decode.errors[e] += c->decode.errors[e];
	sum->flows_created += c->flows_created;
	sum->flows_active += c->flows_active;
	sum->classified += c->classified;
	sum->evicted_half_open += c->evicted_half_open;
	sum->evicted_established += c->evicted_established;
	sum->pool_exhausted += c->pool_exhausted;
	sum->meta_exhausted += c->meta_exhausted;
	sum->buffers_reclaimed += c->buffers_reclaimed;
	sum->tunnel_lists_full += c->tunnel_lists_full;
	sum->undecided += c->undecided;
	sum->malformed += c->malformed;
	sum->probe_skipped += c->probe_skipped;
	sum->probe_budget_hit += c->probe_budget_hit;
	sum->large_grown += c->large_grown;
	sum->large_exhausted += c->large_exhausted;
	sum->checksum_bad += c->checksum_bad;
	sum->checksum_unproven += c->checksum_unproven;
	sum->dns_responses += c->dns_responses;
	sum->dns_addresses += c->dns_addresses;
	sum->dns_malformed += c->dns_malformed;
	sum->dns_replaced += c->dns_replaced;
	sum->msg_followed += c->msg_followed;
	sum->msg_pool_full += c->msg_pool_full;
	sum->msg_reclaimed += c->msg_reclaimed;
	sum->msg_lost += c->msg_lost;
	sum->msg_malformed += c->msg_malformed;
	sum->dns_tcp_messages += c->dns_tcp_messages;
	sum->dns_tcp_truncated += c->dns_tcp_truncated;
	sum->dns_tcp_gaps += c->dns_tcp_gaps;
	sum->dns_tcp_evicted += c->dns_tcp_evicted;
	sum->dns_tcp_unaligned += c->dns_tcp_unaligned;
}

/* ---- aggregator ------------------------------------------------------- */

/* Compiled rules and the configuration they point into, swapped whole on reload. */
struct sn_ruleset {
	struct sn_config cfg;
	struct sn_rules rules;
};

struct sn_aggregator {
	struct sn_config cfg;     /* in force; the events' sensor name points here */
	struct sn_ruleset *rs;
	struct sn_groups *groups;
	struct sn_events events;
	struct sn_eventlog log;
	bool have_log;
	struct sn_table table;
	bool want_table;
	struct sn_syslog *syslog;  /* NULL: output.syslog.target is empty */
	uint64_t now_us;
	uint64_t next_tick_us;
	uint64_t due_us;          /* sn_aggregator_due(): next_tick_us, or 0 */
	uint64_t errors_seen;     /* the log's errors when due_us was last set */
	/* host attribution: the answer per connection, so every report of it
	 * names the same process (direct-mapped by flow id) */
	struct sn_attr *attr;
	struct attr_memo {
		uint64_t flow_id;
		bool found;
		struct sn_attr_result res;
	} *memo;
	struct sn_conn_report attributed;
};

static struct sn_ruleset *ruleset_create(const struct sn_config *cfg, char *err, size_t errlen)
{
	struct sn_ruleset *rs = malloc(sizeof *rs);
	if (!rs) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	rs->cfg = *cfg;
	if (sn_rules_init(&rs->rules, &rs->cfg, err, errlen) != 0) {
		free(rs);
		return NULL;
	}
	return rs;
}

static void ruleset_destroy(struct sn_ruleset *rs)
{
	if (!rs)
		return;
	sn_rules_free(&rs->rules);
	free(rs);
}

/* The aggregator's sink: every group event goes to the log and the table. */
static void aggregator_group_event(void *ctx, enum sn_group_event kind, const struct sn_group *g,
				   uint64_t ts_us)
{
	struct sn_aggregator *ag = ctx;
	sn_events_group_event(&ag->events, kind, g, ts_us);
	if (ag->want_table && !g->allowed) /* allowed groups never alert: not a row */
		sn_table_record_event(&ag->table, kind, g);
}

static void aggregator_flow_event(void *ctx, const struct sn_conn_report *r, enum sn_proto proto,
				  bool external, int msg_kind, uint64_t ts_us)
{
	struct sn_aggregator *ag = ctx;
	sn_events_flow_event(&ag->events, r, proto, external, msg_kind, ts_us);
}

static int open_log(struct sn_aggregator *ag, const char *log_path, char *err, size_t errlen)
{
	if (!log_path)
		return 0;
	int rc = sn_eventlog_open(&ag->log, log_path, ag->cfg.output.flush == SN_FLUSH_INTERVAL);
	if (rc != 0) {
		snprintf(err, errlen, "cannot open event log '%s': %s", log_path, strerror(-rc));
		return -1;
	}
	ag->have_log = true;
	return 0;
}

struct sn_aggregator *sn_aggregator_create(const struct sn_config *cfg, const char *log_path,
					   bool want_table, char *err, size_t errlen)
{
	struct sn_aggregator *ag = calloc(1, sizeof *ag);
	if (!ag) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	ag->cfg = *cfg;
	ag->want_table = want_table;
	sn_table_init(&ag->table, SN_TABLE_ROWS, sn_random_seed());
	ag->rs = ruleset_create(cfg, err, errlen);
	if (!ag->rs || open_log(ag, log_path, err, errlen) != 0) {
		sn_aggregator_destroy(ag);
		return NULL;
	}
	sn_events_init(&ag->events, ag->cfg.sensor_name, ag->have_log ? &ag->log : NULL);
	ag->events.community_id_seed = (uint16_t)cfg->output.community_id_seed;
	struct sn_groups_config gc = {
		.max_groups = cfg->tables.max_groups,
		.group_window_s = cfg->tables.group_window,
		.update_interval_s = cfg->tables.update_interval,
		.flow_events = cfg->output.flows,
		.seed = sn_random_seed(),
	};
	struct sn_group_sink sink = {
		.group_event = aggregator_group_event,
		.flow_event = aggregator_flow_event,
		.ctx = ag,
	};
	ag->groups = sn_groups_create(&gc, &ag->rs->rules, &sink);
	if (!ag->groups) {
		snprintf(err, errlen, "cannot allocate %u groups: %s", cfg->tables.max_groups,
			 strerror(errno));
		sn_aggregator_destroy(ag);
		return NULL;
	}
	return ag;
}

int sn_aggregator_open_syslog(struct sn_aggregator *ag, void *uv_loop, char *err, size_t errlen)
{
	const struct sn_config *cfg = &ag->cfg;
	if (cfg->output.syslog.target[0] == '\0')
		return 0;
	struct sn_syslog_options o = {
		.target = cfg->output.syslog.target,
		.facility = cfg->output.syslog.facility,
		.queue_events = cfg->output.syslog.queue_events,
		.sensor = cfg->sensor_name,
		.loop = uv_loop,
	};
	if (sn_syslog_open(&ag->syslog, &o, err, errlen) != 0)
		return -1;
	struct sn_event_output out = { .write = sn_syslog_event, .ctx = ag->syslog };
	sn_events_add_output(&ag->events, &out);
	return 0;
}

int sn_aggregator_add_output(struct sn_aggregator *ag, sn_output_fn write, void *ctx)
{
	struct sn_event_output out = { .write = write, .ctx = ctx };
	return sn_events_add_output(&ag->events, &out);
}

enum sn_proto sn_aggregator_port_proto(const struct sn_aggregator *ag, uint16_t port, bool *is_tls)
{
	/* the configured lists are short (at most 16 ports each): no map needed */
	for (int p = SN_PROTO_MQTT; p < SN_PROTO_COUNT; p++) {
		const struct sn_proto_ports *pp = &ag->cfg.protocols[p];
		for (size_t i = 0; i < pp->n_ports; i++)
			if (pp->ports[i] == port) {
				*is_tls = false;
				return (enum sn_proto)p;
			}
		for (size_t i = 0; i < pp->n_tls_ports; i++)
			if (pp->tls_ports[i] == port) {
				*is_tls = true;
				return (enum sn_proto)p;
			}
	}
	*is_tls = false;
	return SN_PROTO_NONE;
}

void sn_aggregator_finish_outputs(struct sn_aggregator *ag)
{
	if (ag->syslog)
		sn_syslog_finish(ag->syslog, SN_SYSLOG_DRAIN_MS);
}

void sn_aggregator_destroy(struct sn_aggregator *ag)
{
	if (!ag)
		return;
	sn_syslog_free(ag->syslog);
	ag->syslog = NULL;
	if (ag->groups)
		sn_groups_destroy(ag->groups);
	sn_table_free(&ag->table);
	if (ag->have_log) {
		sn_eventlog_flush(&ag->log);
		sn_eventlog_close(&ag->log);
	}
	ruleset_destroy(ag->rs);
	free(ag->memo);
	free(ag);
}

#define SN_ATTR_MEMO 4096
#define SN_ATTR_BUDGET_MS 50 /* one lookup's /proc scan, and the aggregator's wait for it */

/* True when the interface carries this host's own traffic. */
static bool interface_is_local(const char *interface)
{
	struct ifaddrs *list = NULL;
	bool local = false;

	if (!interface || strcmp(interface, "any") == 0)
		return true;
	if (getifaddrs(&list) != 0)
		return false;
	for (struct ifaddrs *i = list; i && !local; i = i->ifa_next)
		local = i->ifa_name && strcmp(i->ifa_name, interface) == 0 && i->ifa_addr &&
			(i->ifa_addr->sa_family == AF_INET || i->ifa_addr->sa_family == AF_INET6);
	freeifaddrs(list);
	return local;
}

struct sn_attr *sn_attribution_open(const struct sn_config *cfg, const char *interface,
				    uint64_t seed)
{
	if (cfg->capture.attribution == SN_ATTRIBUTION_OFF ||
	    (cfg->capture.attribution == SN_ATTRIBUTION_AUTO && !interface_is_local(interface)))
		return NULL;
	return sn_attr_create(SN_ATTR_BUDGET_MS, seed);
}

void sn_attribution_close(struct sn_attr *attr)
{
	sn_attr_destroy(attr);
}

int sn_aggregator_set_attribution(struct sn_aggregator *ag, struct sn_attr *attr)
{
	if (attr && !ag->memo) {
		ag->memo = calloc(SN_ATTR_MEMO, sizeof *ag->memo);
		if (!ag->memo)
			return -1;
	}
	ag->attr = attr;
	return 0;
}

/* The report with its process filled in (or r itself when unknown). */
static const struct sn_conn_report *attribute(struct sn_aggregator *ag,
					      const struct sn_conn_report *r)
{
	if (!ag->attr || r->proto == SN_PROTO_NONE || r->process_name[0] || r->flow_id == 0)
		return r;
	struct attr_memo *m = &ag->memo[(r->flow_id ^ (r->flow_id >> 48)) % SN_ATTR_MEMO];
	if (m->flow_id != r->flow_id) {
		if (r->kind != SN_REPORT_OPEN)
			return r; /* its OPEN was not attributed, or its memo slot was reused */
		m->flow_id = r->flow_id;
		m->found = sn_attr_get(ag->attr, &r->client, r->client_port, &r->server,
				       r->server_port, &m->res);
	}
	if (!m->found)
		return r;
	ag->attributed = *r;
	snprintf(ag->attributed.process_name, sizeof ag->attributed.process_name, "%s",
		 m->res.comm);
	ag->attributed.process_pid = m->res.pid;
	snprintf(ag->attributed.process_exe, sizeof ag->attributed.process_exe, "%s", m->res.exe);
	snprintf(ag->attributed.process_user, sizeof ag->attributed.process_user, "%s",
		 m->res.user);
	return &ag->attributed;
}

void sn_aggregator_report(void *ctx, const struct sn_conn_report *r)
{
	struct sn_aggregator *ag = ctx;
	if (r->ts_us > ag->now_us)
		ag->now_us = r->ts_us;
	sn_groups_report(ag->groups, attribute(ag, r));
	/* the clock passed the tick, or a line was lost: the driver's tick is due */
	if (ag->now_us >= ag->next_tick_us || (ag->have_log && ag->log.errors != ag->errors_seen))
		ag->due_us = 0;
}

void sn_aggregator_tick(struct sn_aggregator *ag, uint64_t now_us)
{
	if (now_us > ag->now_us)
		ag->now_us = now_us;
	if (ag->now_us >= ag->next_tick_us) {
		ag->next_tick_us = ag->now_us + SN_US_PER_S;
		sn_groups_tick(ag->groups, ag->now_us);
	}
	ag->due_us = ag->next_tick_us;
	if (ag->have_log)
		ag->errors_seen = ag->log.errors;
}

const uint64_t *sn_aggregator_due(const struct sn_aggregator *ag)
{
	return &ag->due_us;
}

uint64_t sn_aggregator_now(const struct sn_aggregator *ag)
{
	return ag->now_us;
}

void sn_aggregator_flush(struct sn_aggregator *ag, uint64_t now_us)
{
	sn_groups_flush(ag->groups, now_us);
}

int sn_aggregator_reload(struct sn_aggregator *ag, const struct sn_config *cfg, char *err,
			 size_t errlen)
{
	struct sn_ruleset *next = ruleset_create(cfg, err, errlen);
	if (!next)
		return -1;
	sn_groups_set_rules(ag->groups, &next->rules);
	ruleset_destroy(ag->rs);
	ag->rs = next;
	ag->cfg = *cfg;
	return 0;
}

void sn_aggregator_flush_log(struct sn_aggregator *ag)
{
	if (ag->have_log)
		sn_eventlog_flush(&ag->log);
}

int sn_aggregator_reopen_log(struct sn_aggregator *ag)
{
	if (!ag->have_log)
		return 0;
	sn_eventlog_flush(&ag->log);
	return sn_eventlog_reopen(&ag->log);
}

bool sn_aggregator_log_errors(const struct sn_aggregator *ag, uint64_t *lost, int *last_errno)
{
	if (!ag->have_log)
		return false;
	*lost = ag->log.errors;
	*last_errno = ag->log.last_errno;
	return true;
}

void sn_aggregator_write_stats(struct sn_aggregator *ag, const struct sn_worker_counts *c,
			       const struct sn_live_counts *live, uint64_t ts_us)
{
	struct sn_groups_stats gs;
	struct sn_stats_view view;
	sn_groups_stats(ag->groups, &gs);
	memset(&view, 0, sizeof view);
	view.packets = c->decode.packets;
	view.bytes = c->decode.bytes;
	view.flows_active = c->flows_active;
	view.flows_evicted = c->evicted_half_open + c->evicted_established;
	view.groups_active = gs.groups_active;
	view.alerts = gs.alerts;
	view.decode = &c->decode;
	if (live) {
		view.live = true;
		view.dropped = live->dropped;
		view.if_dropped = live->if_dropped;
	}
	/* Always the same names, so every stats line has the same shape. */
	static const char *const names[] = {
		"flows_evicted_half_open", "groups_evicted", "classify_pool_exhausted",
		"flow_meta_exhausted", "event_log_write_errors", "report_queue_full",
		"syslog_dropped", "classify_buffers_reclaimed", "allow_held", "allow_held_evicted",
		"refuted_ignored",
		"tcp_checksum_bad", "ip_fragments",
		"ip_reassembled", "ip_reassembly_timeouts", "ip_reassembly_overflow",
		"ip_fragments_invalid", "tunnelled_segments", "tunnel_too_deep", "tunnel_lists_full",
		"classify_undecided", "classify_malformed", "classify_probe_skipped_bytes",
		"classify_probe_budget_hit", "classify_large_buffers", "classify_large_buffers_exhausted",
		"tcp_checksum_unproven",
		"msg_timing_followed", "msg_timing_pool_full", "msg_timing_lost", "msg_timing_malformed",
		"msg_timing_reclaimed",
		"attribution_found", "attribution_miss_socket", "attribution_miss_process",
		"attribution_miss_budget", "attribution_miss_late", "attribution_queue_full",
		"dns_responses", "dns_addresses", "dns_malformed", "dns_replaced",
		"dns_tcp_messages", "dns_tcp_truncated", "dns_tcp_gaps", "dns_tcp_evicted",
		"dns_tcp_unaligned",
	};
	struct sn_attr_stats as;
	memset(&as, 0, sizeof as);
	if (ag->attr)
		sn_attr_stats(ag->attr, &as);
	const struct sn_decode_stats *d = &c->decode;
	const uint64_t values[] = {
		c->evicted_half_open, gs.groups_evicted, c->pool_exhausted, c->meta_exhausted,
		ag->have_log ? ag->log.errors : 0, live ? live->report_queue_full : 0,
		ag->syslog ? sn_syslog_dropped(ag->syslog) : 0, c->buffers_reclaimed, gs.allow_held,
		gs.allow_held_evicted, gs.refuted_ignored,
		c->checksum_bad, d->fragments, d->defrag.reassembled, d->defrag.timeouts,
		d->defrag.overflow, d->defrag.invalid, d->tunnelled, d->tunnel_too_deep,
		c->tunnel_lists_full,
		c->undecided, c->malformed, c->probe_skipped, c->probe_budget_hit, c->large_grown,
		c->large_exhausted, c->checksum_unproven,
		c->msg_followed, c->msg_pool_full, c->msg_lost, c->msg_malformed,
		c->msg_reclaimed,
		as.found, as.miss_socket, as.miss_process, as.miss_budget, as.miss_late,
		as.queue_full,
		c->dns_responses, c->dns_addresses, c->dns_malformed, c->dns_replaced,
		c->dns_tcp_messages, c->dns_tcp_truncated, c->dns_tcp_gaps, c->dns_tcp_evicted,
		c->dns_tcp_unaligned,
	};
	_Static_assert(sizeof names / sizeof names[0] == sizeof values / sizeof values[0],
		       "one name per counter");
	view.extra_names = names;
	view.extra_values = values;
	view.n_extra = sizeof values / sizeof values[0];
	sn_events_write_stats(&ag->events, &view, ts_us);
	sn_aggregator_flush_log(ag);
}

/* "1 group below ...: OPTION shows it", "3 groups below ...: OPTION shows them". */
static void print_below(FILE *out, uint64_t n, const char *what, const char *hint)
{
	if (n)
		fprintf(out, "%llu group%s below %s: %s shows %s\n", (unsigned long long)n,
			n == 1 ? "" : "s", what, hint, n == 1 ? "it" : "them");
}

/* Under the table: the groups a threshold kept out, and the option that shows them. */
static void print_below_thresholds(const struct sn_aggregator *ag, const struct sn_groups_stats *gs,
				   FILE *out)
{
	char what[160];
	const char *susp = sn_suspicion_name(ag->cfg.rules.min_suspicion);
	snprintf(what, sizeof what, "the threshold (rules.min_connections %u)",
		 ag->cfg.rules.min_connections);
	print_below(out, gs->below_connections, what, "--min-connections 1");
	snprintf(what, sizeof what, "the suspicion minimum (rules.min_suspicion %s)", susp);
	print_below(out, gs->below_suspicion, what, "--min-suspicion low");
	snprintf(what, sizeof what, "both (rules.min_connections %u, rules.min_suspicion %s)",
		 ag->cfg.rules.min_connections, susp);
	print_below(out, gs->below_both, what, "--min-connections 1 --min-suspicion low");
}

void sn_aggregator_print_table(const struct sn_aggregator *ag, FILE *out)
{
	struct sn_groups_stats gs;
	sn_groups_stats(ag->groups, &gs);
	if (ag->table.n_rows == 0 && ag->table.groups_not_shown == 0)
		fprintf(out,
			"no alerts: %llu connection%s in %llu group%s, none met the rule "
			"(at least %u connection%s, suspicion %s or higher)\n",
			(unsigned long long)gs.connections, gs.connections == 1 ? "" : "s",
			(unsigned long long)gs.groups_created, gs.groups_created == 1 ? "" : "s",
			ag->cfg.rules.min_connections, ag->cfg.rules.min_connections == 1 ? "" : "s",
			sn_suspicion_name(ag->cfg.rules.min_suspicion));
	else
		sn_table_print(&ag->table, out);
	print_below_thresholds(ag, &gs, out);
	if (gs.allowed)
		fprintf(out, "%llu connection%s on an allow list (rules.allow_*): never alerted, in "
			"summaries with allowed_by\n", (unsigned long long)gs.allowed,
			gs.allowed == 1 ? "" : "s");
}

void sn_aggregator_print_table_csv(const struct sn_aggregator *ag, FILE *out, FILE *notes)
{
	struct sn_groups_stats gs;
	sn_groups_stats(ag->groups, &gs);
	sn_table_print_csv(&ag->table, out);
	if (ag->table.groups_not_shown)
		fprintf(notes, "pubsub-sensor: %llu more row%s not shown: the table keeps at most %zu\n",
			(unsigned long long)ag->table.groups_not_shown,
			ag->table.groups_not_shown == 1 ? "" : "s", ag->table.max_rows);
	print_below_thresholds(ag, &gs, notes);
}
