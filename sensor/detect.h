/*
 * detect.h - protocol classification of one connection's first bytes:
 * which dissector runs on which bytes, carriers, and what the answers mean.
 *
 * The flow table (flow.c) owns the bytes and the connection; it hands
 * detect a stream view (struct sn_stream) and the server port's entry of the
 * port map, and gets back either "not yet" or a verdict: the protocol the
 * connection counts as and the evidence for it.  Dissectors that refused a
 * connection are remembered in its struct sn_detect so they are not run
 * again.  A client that opens with a WebSocket upgrade is unwrapped
 * (dissectors/websocket.h) and the dissectors run on its message bytes.
 *
 * "Refuted" means the bytes contradict every dissector; it is never the
 * answer because the bytes stopped.  When they stop (the core's bound, or
 * the connection's end) while a dissector still needs more, the dissectors
 * are asked once more to judge on what is there, and if none confirms the
 * connection stays undecided (evidence `port`, verdict.undecided set).
 */
#ifndef SN_DETECT_H
#define SN_DETECT_H

#include <stdbool.h>
#include <stdint.h>

#include "conn.h"

/* Per-connection classification state, kept by the flow table. */
struct sn_detect {
	uint8_t excluded;       /* dissectors (bit = id) that said NO_MATCH */
	uint8_t inner_excluded; /* the same, inside the WebSocket messages */
	uint8_t carrier;        /* SN_DETECT_WS_*: what is known of the WebSocket carrier */
};

enum { SN_DETECT_WS_UNKNOWN = 0, SN_DETECT_WS_YES, SN_DETECT_WS_NO };

struct sn_detect_verdict {
	enum sn_proto proto;       /* what the connection counts as (NONE: nothing) */
	enum sn_evidence evidence;
	int dissector;             /* enum sn_dissector_id that matched, or -1 */
	bool undecided;            /* the bytes stopped before any dissector could tell */
	bool malformed;            /* the match was SN_MALFORMED */
};

/* Scratch memory for carriers (one per flow table; never per packet). */
struct sn_detect_ctx;

/* NULL when memory cannot be had.  msg_bytes bounds each direction's messages. */
struct sn_detect_ctx *sn_detect_ctx_create(uint32_t msg_bytes);
void sn_detect_ctx_destroy(struct sn_detect_ctx *ctx);

/* The protocol a port map entry (conn.h) names, or NONE. */
static inline enum sn_proto sn_port_proto(uint8_t info)
{
	unsigned p = info & SN_PORT_PROTO_MASK;
	return p < SN_PROTO_COUNT ? (enum sn_proto)p : SN_PROTO_NONE;
}

/*
 * Runs the server port's dissector first, then the others in registry order,
 * TLS last, over s (and, for a WebSocket upgrade, over its messages: ctx may
 * be NULL, and then carriers are not tried).  Returns false while the answer
 * may still change (some dissector needs more bytes and s is not final);
 * *skip then says how many leading client bytes every waiting dissector is
 * finished with (the core may drop them to make room).  Else fills *out.
 * *meta is scratch: after a match it holds the matching dissector's
 * metadata; while undecided, meta->want holds the most client bytes a
 * waiting dissector asked for (0: none said).  port_info is the server port's port map entry.
 * The caller reads *meta between calls but never writes it: ctx remembers
 * which dissector last wrote the meta it is given, and before the next
 * dissector runs clears only that one's fields when its registry entry
 * says which (a caller that must write it passes a ctx of its own).
 */
bool sn_detect_classify(struct sn_detect *d, struct sn_detect_ctx *ctx, uint8_t port_info,
			const struct sn_stream *s, struct sn_meta *meta, struct sn_detect_verdict *out,
			uint32_t *skip);

/*
 * The detail phase after a clear-text match: runs dissector `id` again over
 * the grown stream (unwrapped again when it rode WebSocket) into *meta
 * (zeroed first).  True when it still matches.
 */
bool sn_detect_detail(const struct sn_detect *d, struct sn_detect_ctx *ctx, int id,
		      const struct sn_stream *s, struct sn_meta *meta);

#endif /* SN_DETECT_H */
