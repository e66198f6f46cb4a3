/*
 * rules.c - the Splunk search's judgement, compiled from the configuration.
 *
 * The search rates each group with one case():
 *
 *   IsExternal=yes AND Protocol IN (XMPP, STOMP)                 -> high
 *   IsExternal=yes AND Protocol=MQTT AND NOT mosquitto exception  -> high
 *   IsExternal=yes AND Protocol=AMQP                              -> medium
 *   IsExternal=no  AND Protocol IN (XMPP, STOMP)                 -> medium
 *   otherwise                                                     -> low
 *
 * with three fixes: home networks come from the configuration (the search's
 * 172.16.* missed 172.17-31 and it knew no IPv6), the mosquitto exception
 * also covers MQTT client ids the operator trusts, and a protocol confirmed
 * on a port that is not its own is raised ("payload beats port").  Each
 * rating carries short reasons, in a fixed order, saying why.
 */
#include "rules.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>


static int compile_list(regex_t *out, size_t *n_out, const char (*patterns)[SN_CFG_STR],
			size_t n, int flags, const char *key, char *err, size_t errlen)
{
	*n_out = 0;
	for (size_t i = 0; i < n && i < SN_CFG_MAX_PATTERNS; i++) {
		int rc = regcomp(&out[i], patterns[i], REG_EXTENDED | REG_NOSUB | flags);
		if (rc != 0) {
			char why[128];
			regerror(rc, &out[i], why, sizeof why);
			snprintf(err, errlen, "rules.%s[%zu]: bad regular expression '%s': %s", key, i,
				 patterns[i], why);
			return -1;
		}
		*n_out = i + 1;
	}
	return 0;
}

int sn_rules_init(struct sn_rules *r, const struct sn_config *cfg, char *err, size_t errlen)
{
	memset(r, 0, sizeof *r);
	r->cfg = cfg;
	if (compile_list(r->trusted, &r->n_trusted, cfg->rules.trusted_mqtt_clients,
			 cfg->rules.n_trusted_mqtt_clients, REG_ICASE, "trusted_mqtt_clients", err,
			 errlen) != 0 ||
	    compile_list(r->trusted_proc, &r->n_trusted_proc, cfg->rules.trusted_mqtt_processes,
			 cfg->rules.n_trusted_mqtt_processes, 0, "trusted_mqtt_processes", err,
			 errlen) != 0 ||
	    compile_list(r->allow_client, &r->n_allow_client, cfg->rules.allow_client_ids,
			 cfg->rules.n_allow_client_ids, REG_ICASE, "allow_client_ids", err,
			 errlen) != 0 ||
	    compile_list(r->allow_proc, &r->n_allow_proc, cfg->rules.allow_processes,
			 cfg->rules.n_allow_processes, REG_ICASE, "allow_processes", err,
			 errlen) != 0) {
		sn_rules_free(r);
		return -1;
	}
	return 0;
}

void sn_rules_free(struct sn_rules *r)
{
	for (size_t i = 0; i < r->n_trusted; i++)
		regfree(&r->trusted[i]);
	for (size_t i = 0; i < r->n_trusted_proc; i++)
		regfree(&r->trusted_proc[i]);
	for (size_t i = 0; i < r->n_allow_client; i++)
		regfree(&r->allow_client[i]);
	for (size_t i = 0; i < r->n_allow_proc; i++)
		regfree(&r->allow_proc[i]);
	r->n_trusted = r->n_trusted_proc = r->n_allow_client = r->n_allow_proc = 0;
}

/* ::ffff:a.b.c.d is the IPv4 host a.b.c.d for the home-network test. */
static struct sn_addr unmap_v4(const struct sn_addr *a)
{
	static const uint8_t prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	struct sn_addr v4 = *a;

	if (a->family == 6 && memcmp(a->b, prefix, sizeof prefix) == 0) {
		memset(&v4, 0, sizeof v4);
		v4.family = 4;
		memcpy(v4.b, a->b + 12, 4);
	}
	return v4;
}

static bool in_any(const struct sn_cidr *nets, size_t n, const struct sn_addr *a)
{
	struct sn_addr plain = unmap_v4(a);

	for (size_t i = 0; i < n && i < SN_CFG_MAX_NETS; i++)
		if (sn_cidr_contains(&nets[i], &plain))
			return true;
	return false;
}

bool sn_rules_is_external(const struct sn_rules *r, const struct sn_addr *addr)
{
	return !in_any(r->cfg->home_networks, r->cfg->n_home_networks, addr);
}

const char *sn_rules_trusted_client(const struct sn_rules *r, const char *client_id)
{
	if (!client_id || client_id[0] == '\0')
		return NULL;
	for (size_t i = 0; i < r->n_trusted; i++)
		if (regexec(&r->trusted[i], client_id, 0, NULL, 0) == 0)
			return r->cfg->rules.trusted_mqtt_clients[i];
	return NULL;
}

static const char *first_match(const regex_t *re, size_t n, const char (*patterns)[SN_CFG_STR],
			       const char *s, size_t *at)
{
	if (!s || s[0] == '\0')
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (regexec(&re[i], s, 0, NULL, 0) == 0) {
			if (at)
				*at = i;
			return patterns[i];
		}
	return NULL;
}

const char *sn_rules_trusted_process(const struct sn_rules *r, const char *process_name)
{
	return first_match(r->trusted_proc, r->n_trusted_proc, r->cfg->rules.trusted_mqtt_processes,
			   process_name, NULL);
}

const char *sn_rules_server_name(const struct sn_meta *m)
{
	if (m->tls_sni[0])
		return m->tls_sni;
	if (m->ws_host[0])
		return m->ws_host;
	return m->xmpp_to;
}

bool sn_rules_command_topic(const struct sn_rules *r, const char *topic)
{
	if (strcmp(topic, "#") == 0)
		return true;
	for (size_t i = 0; i < r->cfg->rules.n_command_patterns && i < SN_CFG_MAX_PATTERNS; i++) {
		const char *word = r->cfg->rules.command_patterns[i];
		if (word[0] && strcasestr(topic, word))
			return true;
	}
	return false;
}

/* "broker.example.com" is allowed by "example.com" and "broker.example.com". */
static bool name_has_suffix(const char *name, const char *suffix)
{
	if (suffix[0] == '.')
		suffix++;
	size_t n = strlen(name), k = strlen(suffix);
	if (k == 0 || k > n)
		return false;
	if (strcasecmp(name + (n - k), suffix) != 0)
		return false;
	return k == n || name[n - k - 1] == '.';
}

bool sn_rules_allowed(const struct sn_rules *r, const struct sn_conn_report *c, char *by,
		      size_t cap)
{
	const struct sn_config *cfg = r->cfg;
	struct sn_addr server = unmap_v4(&c->server);
	const char *list = NULL;
	size_t at = 0;

	for (size_t i = 0; !list && i < cfg->rules.n_allow_destinations && i < SN_CFG_MAX_NETS; i++)
		if (sn_cidr_contains(&cfg->rules.allow_destinations[i], &server)) {
			list = "allow_destinations";
			at = i;
		}
	for (size_t i = 0; !list && c->meta.tls_sni[0] && i < cfg->rules.n_allow_tls_server_names; i++)
		if (name_has_suffix(c->meta.tls_sni, cfg->rules.allow_tls_server_names[i])) {
			list = "allow_tls_server_names";
			at = i;
		}
	for (size_t i = 0; !list && c->meta.user[0] && i < cfg->rules.n_allow_users; i++)
		if (strcmp(c->meta.user, cfg->rules.allow_users[i]) == 0) {
			list = "allow_users";
			at = i;
		}
	for (size_t i = 0; !list && c->dest_host[0] && i < cfg->rules.n_allow_server_names; i++)
		if (name_has_suffix(c->dest_host, cfg->rules.allow_server_names[i])) {
			list = "allow_server_names";
			at = i;
		}
	if (!list && c->proto == SN_PROTO_MQTT &&
	    first_match(r->allow_client, r->n_allow_client, cfg->rules.allow_client_ids,
			c->meta.client_id, &at))
		list = "allow_client_ids";
	if (!list && first_match(r->allow_proc, r->n_allow_proc, cfg->rules.allow_processes,
				 c->process_name, &at))
		list = "allow_processes";
	struct sn_addr client = unmap_v4(&c->client);
	for (size_t i = 0; !list && i < cfg->rules.n_allow_sources && i < SN_CFG_MAX_NETS; i++)
		if (sn_cidr_contains(&cfg->rules.allow_sources[i], &client)) {
			list = "allow_sources";
			at = i;
		}
	if (list && by && cap)
		snprintf(by, cap, "rules.%s[%zu]", list, at);
	return list != NULL;
}

const char *sn_rules_public_broker(const struct sn_rules *r, const char *host)
{
	if (!host || host[0] == '\0')
		return NULL;
	for (size_t i = 0; i < r->cfg->rules.n_public_brokers && i < SN_CFG_MAX_PATTERNS; i++)
		if (name_has_suffix(host, r->cfg->rules.public_brokers[i]))
			return r->cfg->rules.public_brokers[i];
	return NULL;
}

/* ---- rating ---------------------------------------------------------------- */

/* The search's exception: a trusted process (mosquitto), or only trusted client ids. */
static bool mqtt_exception(const struct sn_rules *r, const struct sn_rule_facts *f)
{
	return sn_rules_trusted_process(r, f->process_name) || f->all_trusted_clients;
}

static enum sn_suspicion base_rating(const struct sn_rules *r, const struct sn_rule_facts *f)
{
	bool xmpp_or_stomp = f->proto == SN_PROTO_XMPP || f->proto == SN_PROTO_STOMP;

	if (f->external && xmpp_or_stomp)
		return SN_SUSP_HIGH;
	if (f->external && f->proto == SN_PROTO_MQTT && !mqtt_exception(r, f))
		return SN_SUSP_HIGH;
	if (f->external && f->proto == SN_PROTO_AMQP)
		return SN_SUSP_MEDIUM;
	if (!f->external && xmpp_or_stomp)
		return SN_SUSP_MEDIUM;
	return SN_SUSP_LOW;
}

/* Confirmed (payload or TLS) on a port that is not one of its own. */
static bool on_foreign_port(const struct sn_rule_facts *f)
{
	bool confirmed = f->evidence == SN_EVIDENCE_PAYLOAD || f->evidence == SN_EVIDENCE_TLS;
	return confirmed && f->proto != SN_PROTO_NONE && f->port_proto != f->proto;
}

/* Appends at most max bytes of s to out (length *n), as snprintf would. */
static void put_str(char *out, size_t *n, const char *s, size_t max)
{
	if (!s) /* glibc's text for a null %s; cut by the precision like any other */
		s = max >= 6 ? "(null)" : "";
	size_t room = SN_REASON_LEN - 1 - *n, m = strnlen(s, max < room ? max : room);

	memcpy(out + *n, s, m);
	*n += m;
}

static void put_uint(char *out, size_t *n, unsigned long long v)
{
	char d[24];
	size_t k = sizeof d;
	do {
		d[--k] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (; k < sizeof d && *n < SN_REASON_LEN - 1; k++)
		out[(*n)++] = d[k];
}

/*
 * vsnprintf(out, SN_REASON_LEN, fmt, ap) when every conversion in fmt is %s,
 * %.<precision>s, %u or %llu: the same text, cut at the same length, without
 * the library's per-call set-up (a rating writes several reasons, and every
 * report rates its group).  Returns false, having written something
 * unspecified, at the first other conversion: the caller then hands a copy of
 * the arguments to vsnprintf.
 */
static bool format_reason(char *out, const char *fmt, va_list ap)
{
	size_t n = 0;
	for (const char *p = fmt; *p; p++) {
		if (*p != '%') { /* the literal text up to the next conversion, cut to fit */
			const char *end = strchrnul(p, '%');
			size_t m = (size_t)(end - p), room = SN_REASON_LEN - 1 - n;
			memcpy(out + n, p, m < room ? m : room);
			n += m < room ? m : room;
			p = end - 1;
			continue;
		}
		p++;
		if (*p == '.') {
			size_t max = 0;
			if (p[1] < '0' || p[1] > '9')
				return false;
			for (p++; *p >= '0' && *p <= '9'; p++)
				max = max * 10 + (size_t)(*p - '0');
			if (*p != 's')
				return false;
			put_str(out, &n, va_arg(ap, const char *), max);
		} else if (*p == 's') {
			put_str(out, &n, va_arg(ap, const char *), SIZE_MAX);
		} else if (*p == 'u') {
			put_uint(out, &n, va_arg(ap, unsigned));
		} else if (p[0] == 'l' && p[1] == 'l' && p[2] == 'u') {
			p += 2;
			put_uint(out, &n, va_arg(ap, unsigned long long));
		} else {
			return false;
		}
	}
	out[n] = '\0';
	return true;
}

__attribute__((format(printf, 2, 3)))
static void add_reason(struct sn_rating *out, const char *fmt, ...)
{
	va_list ap, again;

	if (out->n_reasons >= SN_REASONS_MAX)
		return;
	va_start(ap, fmt);
	va_copy(again, ap);
	if (!format_reason(out->reasons[out->n_reasons], fmt, ap))
		vsnprintf(out->reasons[out->n_reasons], SN_REASON_LEN, fmt, again);
	va_end(again);
	va_end(ap);
	out->n_reasons++;
}

/* What proved the protocol, as the group's best evidence says. */
static void reason_evidence(const struct sn_rule_facts *f, struct sn_rating *out)
{
	const char *name = sn_proto_name(f->proto);
	const struct sn_dissector *d = sn_dissector_for_proto(f->proto); /* its in_clear reason */

	switch (f->evidence) {
	case SN_EVIDENCE_PAYLOAD:
		if (f->midstream && f->proto != SN_PROTO_NONE)
			add_reason(out, "%s traffic seen in clear (connection picked up mid-stream)",
				   name);
		else if (f->ws_path)
			add_reason(out, "%s inside WebSocket frames (path %.60s)", name, f->ws_path);
		else if (d && d->in_clear)
			add_reason(out, "%s", d->in_clear);
		if (f->malformed)
			add_reason(out, "malformed %s handshake: %.100s", name, f->malformed);
		break;
	case SN_EVIDENCE_TLS:
		if (f->tls_alpn && f->tls_alpn[0])
			add_reason(out, "TLS ALPN '%.40s' names %s", f->tls_alpn, name);
		else
			add_reason(out, "TLS ClientHello on %s's TLS port %u", name,
				   (unsigned)f->dest_port);
		break;
	case SN_EVIDENCE_PORT:
		add_reason(out, "port %u only: no payload confirmed or refuted it",
			   (unsigned)f->dest_port);
		break;
	case SN_EVIDENCE_REFUTED:
		add_reason(out, "port %u but payload is not %s", (unsigned)f->dest_port,
			   sn_proto_name(f->port_proto != SN_PROTO_NONE ? f->port_proto : f->proto));
		break;
	}
}

static void reason_exception(const struct sn_rules *r, const struct sn_rule_facts *f,
			     struct sn_rating *out)
{
	if (!f->external || f->proto != SN_PROTO_MQTT)
		return;
	const char *proc = sn_rules_trusted_process(r, f->process_name);
	if (proc)
		add_reason(out, "process name matches trusted pattern '%.60s'", proc);
	if (f->all_trusted_clients)
		add_reason(out, "MQTT client ids match trusted pattern '%.60s'",
			   f->trusted_pattern ? f->trusted_pattern : "");
}

int sn_rules_message_beacon(const struct sn_rules *r, const struct sn_conn_msgs *m)
{
	static const enum sn_msg_kind order[] = { SN_MSG_PUBLISH, SN_MSG_KEEPALIVE };
	uint32_t gaps = r->cfg->rules.beacon_min_gaps, jitter = r->cfg->rules.beacon_max_jitter_pct;

	for (size_t i = 0; m->timing != SN_MSGT_NONE && i < sizeof order / sizeof order[0]; i++)
		if (sn_beacon_regular(&m->rhythm[order[i]], gaps, jitter))
			return (int)order[i];
	return -1;
}

const char *sn_msg_kind_name(enum sn_proto proto, enum sn_msg_kind k)
{
	if (proto == SN_PROTO_AMQP)
		return k == SN_MSG_PUBLISH ? "basic.publish" : "heartbeat";
	return k == SN_MSG_PUBLISH ? "PUBLISH" : "PINGREQ";
}

const char *sn_msg_kind_key(enum sn_proto proto, enum sn_msg_kind k)
{
	if (k == SN_MSG_PUBLISH)
		return "publish";
	return proto == SN_PROTO_AMQP ? "heartbeat" : "pingreq";
}

/* Regular connection starts, and regular client messages inside one connection. */
static void reason_beacons(const struct sn_rules *r, const struct sn_rule_facts *f, bool trusted,
			   struct sn_rating *out)
{
	static const char not_raised[] = " (not raised: trusted clients)";

	if (f->beacon && f->beacon->samples)
		add_reason(out, "regular beacon every ~%llu s%s",
			   (unsigned long long)((f->beacon->interval_ms + 500) / 1000),
			   r->cfg->rules.beacon_raise > 0 && trusted ? not_raised : "");
	if (f->msg_beacon && f->msg_beacon->samples)
		add_reason(out, "regular %s every ~%llu s inside one connection%s",
			   sn_msg_kind_name(f->proto, f->msg_kind),
			   (unsigned long long)((f->msg_beacon->interval_ms + 500) / 1000),
			   r->cfg->rules.message_beacon_raise > 0 && trusted ? not_raised : "");
}

/* Steps a regular rhythm adds: the larger of the two beacon raises that apply. */
static uint32_t beacon_raise(const struct sn_rules *r, const struct sn_rule_facts *f)
{
	uint32_t braise = f->beacon && f->beacon->samples ? r->cfg->rules.beacon_raise : 0;
	uint32_t mraise = f->msg_beacon && f->msg_beacon->samples ? r->cfg->rules.message_beacon_raise
								  : 0;
	return braise > mraise ? braise : mraise;
}

void sn_rules_rate(const struct sn_rules *r, const struct sn_rule_facts *f, struct sn_rating *out)
{
	const char *name = sn_proto_name(f->proto);
	bool xmpp = f->proto == SN_PROTO_XMPP;
	unsigned level = base_rating(r, f);
	uint32_t raise = r->cfg->rules.nonstandard_port_raise;
	/* trust wins over the raise: trusted MQTT clients stay low on any port */
	bool trusted = f->proto == SN_PROTO_MQTT && mqtt_exception(r, f);
	uint32_t praise = r->cfg->rules.public_broker_raise;
	bool foreign = on_foreign_port(f) && raise > 0 && !trusted;
	uint32_t braise = beacon_raise(r, f);
	bool beacon = f->beacon && f->beacon->samples > 0;
	bool msg_beacon = f->msg_beacon && f->msg_beacon->samples > 0;
	bool demote = f->evidence == SN_EVIDENCE_REFUTED &&
		      r->cfg->rules.refuted == SN_REFUTED_DEMOTE && level > SN_SUSP_LOW;

	memset(out, 0, sizeof *out);
	if (foreign)
		level = level + raise > SN_SUSP_HIGH ? SN_SUSP_HIGH : level + raise;
	if ((beacon || msg_beacon) && braise > 0 && !trusted)
		level = level + braise > SN_SUSP_HIGH ? SN_SUSP_HIGH : level + braise;
	if (f->public_broker && praise > 0 && !trusted)
		level = level + praise > SN_SUSP_HIGH ? SN_SUSP_HIGH : level + praise;
	if (demote)
		level--;
	out->suspicion = (enum sn_suspicion)level;

	add_reason(out, "%s %s %s", f->external ? "external" : "internal", name,
		   xmpp ? "server" : "broker");
	reason_evidence(f, out);
	if (foreign)
		add_reason(out, "%s on non-standard port %u", name, (unsigned)f->dest_port);
	else if (on_foreign_port(f) && raise > 0 && trusted)
		add_reason(out, "%s on non-standard port %u (not raised: trusted clients)", name,
			   (unsigned)f->dest_port);
	if (f->any_refuted && f->evidence != SN_EVIDENCE_REFUTED && f->port_proto != SN_PROTO_NONE)
		add_reason(out, f->proto == f->port_proto ? "port %u but some connections' payload is not %s"
							  : "port %u but payload is not %s",
			   (unsigned)f->dest_port, sn_proto_name(f->port_proto));
	if (demote)
		add_reason(out, "rated one step lower: no connection's payload is %s (rules.refuted: demote)",
			   name);
	reason_beacons(r, f, trusted, out);
	if (f->public_broker)
		add_reason(out, "public %s %s %.80s", name, xmpp ? "server" : "broker",
			   f->public_broker);
	if (f->command_topic)
		add_reason(out, "command channel: %s '%.60s'%s",
			   f->proto == SN_PROTO_MQTT ? "topic" : "destination", f->command_topic,
			   f->n_command_topics > 1 ? " and more" : "");
	reason_exception(r, f, out);
	add_reason(out, "%llu connection%s (threshold %u)", (unsigned long long)f->connections,
		   f->connections == 1 ? "" : "s", (unsigned)f->min_connections);
}
