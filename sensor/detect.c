/*
 * detect.c - protocol classification dispatch (detect.h): the order in
 * which dissectors run over a connection's first bytes, the mapping of
 * their answers and the server port to a verdict (payload, tls, refuted,
 * port), and the detail phase that re-runs the matching dissector.
 */
#include "detect.h"

#include <string.h>

/* Runs one dissector unless it already refused; NO_MATCH is remembered. */
static enum sn_verdict try_dissector(struct sn_detect *st, int id, const struct sn_stream *s,
				     struct sn_meta *meta)
{
	const struct sn_dissector *d = sn_dissector_get((enum sn_dissector_id)id);
	if ((st->excluded & (1u << id)) || !d || !d->dissect)
		return SN_NO_MATCH;
	memset(meta, 0, sizeof *meta);
	enum sn_verdict v = d->dissect(s, meta);
	if (v == SN_NO_MATCH)
		st->excluded |= (uint8_t)(1u << id);
	return v;
}

static int dissector_id_for(enum sn_proto p)
{
	for (int id = 0; id < SN_DISS_COUNT; id++) {
		const struct sn_dissector *d = sn_dissector_get((enum sn_dissector_id)id);
		if (p != SN_PROTO_NONE && d && d->proto == p)
			return id;
	}
	return -1;
}

/*
 * The server port's dissector first, then the others in registry order,
 * TLS last.  MATCH (with *id and the scratch meta), NEED_MORE, or NO_MATCH
 * when every dissector refused.
 */
static enum sn_verdict run_dissectors(struct sn_detect *st, enum sn_proto port,
				      const struct sn_stream *s, struct sn_meta *meta, int *id)
{
	int first = dissector_id_for(port);
	int order[SN_DISS_COUNT + 1];
	int n = 0;

	if (first >= 0)
		order[n++] = first;
	for (int k = 0; k < SN_DISS_COUNT; k++)
		if (k != first && k != SN_DISS_TLS)
			order[n++] = k;
	if (first != SN_DISS_TLS)
		order[n++] = SN_DISS_TLS;

	bool pending = false;
	for (int k = 0; k < n; k++) {
		enum sn_verdict v = try_dissector(st, order[k], s, meta);
		if (v == SN_MATCH) {
			*id = order[k];
			return SN_MATCH;
		}
		pending |= v == SN_NEED_MORE;
	}
	return pending ? SN_NEED_MORE : SN_NO_MATCH;
}

bool sn_detect_classify(struct sn_detect *d, uint8_t port_info, const struct sn_stream *s,
			struct sn_meta *meta, struct sn_detect_verdict *out)
{
	enum sn_proto port = sn_port_proto(port_info);
	int id = -1;
	enum sn_verdict v = run_dissectors(d, port, s, meta, &id);

	if (v == SN_NEED_MORE && !s->final)
		return false;
	out->dissector = id;
	if (v == SN_MATCH && !meta->is_tls) {
		out->proto = meta->proto != SN_PROTO_NONE
				     ? meta->proto
				     : sn_dissector_get((enum sn_dissector_id)id)->proto;
		out->evidence = SN_EVIDENCE_PAYLOAD;
	} else if (v == SN_MATCH && meta->proto != SN_PROTO_NONE) {
		out->proto = meta->proto;
		out->evidence = SN_EVIDENCE_TLS;
	} else if (v == SN_MATCH && port != SN_PROTO_NONE && (port_info & SN_PORT_TLS)) {
		out->proto = port;
		out->evidence = SN_EVIDENCE_TLS;
	} else if (v == SN_NO_MATCH && port != SN_PROTO_NONE && s->client_at_start) {
		/* only a stream seen from its first byte can refute its port */
		out->proto = port;
		out->evidence = SN_EVIDENCE_REFUTED;
	} else {
		/* undecided, or TLS that names nothing on a clear-text port */
		out->proto = port;
		out->evidence = SN_EVIDENCE_PORT;
	}
	return true;
}

bool sn_detect_detail(int id, const struct sn_stream *s, struct sn_meta *meta)
{
	const struct sn_dissector *d = sn_dissector_get((enum sn_dissector_id)id);
	if (!d || !d->dissect)
		return false;
	memset(meta, 0, sizeof *meta);
	return d->dissect(s, meta) == SN_MATCH;
}

static bool str_same(const char *x, const char *y, size_t cap)
{
	return strncmp(x, y, cap) == 0;
}

bool sn_meta_same(const struct sn_meta *x, const struct sn_meta *y)
{
	if (x->proto != y->proto || x->truncated != y->truncated || x->midstream != y->midstream ||
	    x->has_keepalive != y->has_keepalive || x->keepalive != y->keepalive ||
	    x->has_clean_session != y->has_clean_session || x->clean_session != y->clean_session ||
	    x->n_topics != y->n_topics || x->topics_truncated != y->topics_truncated ||
	    x->has_starttls != y->has_starttls ||
	    x->starttls != y->starttls || x->is_tls != y->is_tls || x->n_alpn != y->n_alpn)
		return false;
	for (size_t k = 0; k < x->n_topics && k < SN_META_TOPICS; k++)
		if (!str_same(x->topics[k], y->topics[k], SN_META_STR))
			return false;
	for (size_t k = 0; k < x->n_alpn && k < SN_META_ALPN; k++)
		if (!str_same(x->tls_alpn[k], y->tls_alpn[k], SN_META_ALPN_STR))
			return false;
	return str_same(x->client_id, y->client_id, SN_META_STR) &&
	       str_same(x->user, y->user, SN_META_STR) &&
	       str_same(x->mqtt_version, y->mqtt_version, sizeof x->mqtt_version) &&
	       str_same(x->will_topic, y->will_topic, SN_META_STR) &&
	       str_same(x->xmpp_to, y->xmpp_to, SN_META_STR) &&
	       str_same(x->xmpp_from, y->xmpp_from, SN_META_STR) &&
	       str_same(x->xmpp_ns, y->xmpp_ns, sizeof x->xmpp_ns) &&
	       str_same(x->xmpp_version, y->xmpp_version, sizeof x->xmpp_version) &&
	       str_same(x->amqp_version, y->amqp_version, sizeof x->amqp_version) &&
	       str_same(x->stomp_command, y->stomp_command, sizeof x->stomp_command) &&
	       str_same(x->stomp_accept_version, y->stomp_accept_version,
			sizeof x->stomp_accept_version) &&
	       str_same(x->stomp_host, y->stomp_host, SN_META_STR) &&
	       str_same(x->tls_sni, y->tls_sni, SN_META_STR);
}
