/*
 * detect.h - protocol classification of one connection's first bytes:
 * which dissector runs on which bytes, and what its answer means.
 *
 * The flow table (flow.c) owns the bytes and the connection; it hands
 * detect a stream view (struct sn_stream) and the server port's entry of the
 * port map, and gets back either "not yet" or a verdict: the protocol the
 * connection counts as and the evidence for it.  Dissectors that refused a
 * connection are remembered in its struct sn_detect so they are not run
 * again.  Nothing here keeps state between calls beyond that struct.
 */
#ifndef SN_DETECT_H
#define SN_DETECT_H

#include <stdbool.h>
#include <stdint.h>

#include "conn.h"

/* Per-connection classification state, kept by the flow table. */
struct sn_detect {
	uint8_t excluded; /* dissectors (bit = id) that said NO_MATCH */
};

struct sn_detect_verdict {
	enum sn_proto proto;       /* what the connection counts as (NONE: nothing) */
	enum sn_evidence evidence;
	int dissector;             /* enum sn_dissector_id that matched, or -1 */
};

/* The protocol a port map entry (conn.h) names, or NONE. */
static inline enum sn_proto sn_port_proto(uint8_t info)
{
	unsigned p = info & SN_PORT_PROTO_MASK;
	return p < SN_PROTO_COUNT ? (enum sn_proto)p : SN_PROTO_NONE;
}

/*
 * Runs the server port's dissector first, then the others in registry order,
 * TLS last, over s.  Returns false while the answer may still change (some
 * dissector needs more bytes and s is not final); else fills *out.  *meta
 * is scratch: after a match it holds the matching dissector's metadata.
 * port_info is the server port's port map entry.
 */
bool sn_detect_classify(struct sn_detect *d, uint8_t port_info, const struct sn_stream *s,
			struct sn_meta *meta, struct sn_detect_verdict *out);

/*
 * The detail phase after a clear-text match: runs dissector `id` again over
 * the grown stream into *meta (zeroed first).  True when it still matches.
 */
bool sn_detect_detail(int id, const struct sn_stream *s, struct sn_meta *meta);

/* Two metas say the same (field by field: padding bytes may differ). */
bool sn_meta_same(const struct sn_meta *x, const struct sn_meta *y);

#endif /* SN_DETECT_H */
