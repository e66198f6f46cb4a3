/*
 * detect.c - protocol classification dispatch (detect.h): the order in
 * which dissectors run over a connection's first bytes, the WebSocket
 * carrier, the mapping of their answers and the server port to a verdict
 * (payload, tls, refuted, port), the detail phase that re-runs the
 * matching dissector, and the clearing of the scratch meta before each
 * dissector (only the last writer's fields when its registry entry names
 * them).
 */
#include "detect.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "websocket.h"

struct sn_detect_ctx {
	uint32_t msg_bytes;
	uint8_t *buf[2];     /* WebSocket messages, client and server */
	uint8_t *scratch;    /* one compressed message */
	uint8_t *arena;      /* zlib's memory */
	struct sn_ws_info ws;
	/* The meta of the last dissector call made with this context, and the
	 * dissector that wrote it since it was last all zero (-1: unknown). */
	const struct sn_meta *meta;
	int writer;
};

struct sn_detect_ctx *sn_detect_ctx_create(uint32_t msg_bytes)
{
	struct sn_detect_ctx *ctx = calloc(1, sizeof *ctx);
	if (!ctx)
		return NULL;
	ctx->msg_bytes = msg_bytes;
	ctx->writer = -1;
	ctx->buf[0] = malloc(msg_bytes + 1u);
	ctx->buf[1] = malloc(msg_bytes + 1u);
	ctx->scratch = malloc(msg_bytes + 1u);
	ctx->arena = malloc(SN_WS_ARENA_BYTES);
	if (!ctx->buf[0] || !ctx->buf[1] || !ctx->scratch || !ctx->arena) {
		sn_detect_ctx_destroy(ctx);
		return NULL;
	}
	return ctx;
}

void sn_detect_ctx_destroy(struct sn_detect_ctx *ctx)
{
	if (!ctx)
		return;
	free(ctx->buf[0]);
	free(ctx->buf[1]);
	free(ctx->scratch);
	free(ctx->arena);
	free(ctx);
}

/*
 * What the dispatch reads of the registry on every call, built once: the
 * entries, the order they run in for each hinted protocol (its dissector
 * first, then the others in registry order, TLS last), and for each
 * possible first byte the dissectors whose `opening` cannot begin with it.
 */
struct dispatch {
	const struct sn_dissector *diss[SN_DISS_COUNT]; /* NULL: no entry or no dissect */
	uint8_t present;                                 /* bit id: diss[id] is there */
	int8_t order[SN_PROTO_COUNT][SN_DISS_COUNT];     /* by hint (NONE: registry order) */
	uint8_t cannot_open[256];                        /* bit id: byte is not in id's opening */
};

static struct dispatch dispatch_table;
static pthread_once_t dispatch_once = PTHREAD_ONCE_INIT;

static void dispatch_build(void)
{
	struct dispatch *t = &dispatch_table;
	int proto_id[SN_PROTO_COUNT];
	for (int p = 0; p < SN_PROTO_COUNT; p++)
		proto_id[p] = -1;
	for (int id = SN_DISS_COUNT; id-- > 0;) {
		const struct sn_dissector *d = sn_dissector_get((enum sn_dissector_id)id);
		t->diss[id] = d && d->dissect ? d : NULL;
		if (d && d->proto != SN_PROTO_NONE && (unsigned)d->proto < SN_PROTO_COUNT)
			proto_id[d->proto] = id; /* the first entry naming it wins */
		if (!t->diss[id])
			continue;
		t->present = (uint8_t)(t->present | (1u << id));
		if (!d->opening)
			continue;
		for (unsigned b = 0; b < 256; b++)
			if (!memchr(d->opening, (int)b, strlen(d->opening)))
				t->cannot_open[b] = (uint8_t)(t->cannot_open[b] | (1u << id));
	}
	for (int h = 0; h < SN_PROTO_COUNT; h++) {
		int first = proto_id[h], n = 0;
		if (first >= 0)
			t->order[h][n++] = (int8_t)first;
		for (int k = 0; k < SN_DISS_COUNT; k++)
			if (k != first && k != SN_DISS_TLS)
				t->order[h][n++] = (int8_t)k;
		if (first != SN_DISS_TLS)
			t->order[h][n++] = SN_DISS_TLS;
	}
}

static const struct dispatch *dispatch(void)
{
	pthread_once(&dispatch_once, dispatch_build);
	return &dispatch_table;
}

/*
 * Readies *meta for a call of dissector `next`: all zero, as every dissector
 * expects.  When ctx saw this meta last and only a dissector whose registry
 * entry clears its own fields has written it since it was all zero, those
 * fields are cleared; otherwise the whole struct (about 5 KB).  Nothing
 * else writes the meta between calls (detect.h), except ws_meta and the
 * detail phase, which forget the writer (meta_forget).
 */
static void meta_ready(const struct dispatch *t, struct sn_detect_ctx *ctx, struct sn_meta *meta,
		       int next)
{
	const struct sn_dissector *w =
		ctx && ctx->meta == meta && ctx->writer >= 0 ? t->diss[ctx->writer] : NULL;
	if (w && w->clear)
		w->clear(meta);
	else
		memset(meta, 0, sizeof *meta);
	if (ctx) {
		ctx->meta = meta;
		ctx->writer = next;
	}
}

/* Something other than one dissector wrote *meta. */
static void meta_forget(struct sn_detect_ctx *ctx, const struct sn_meta *meta)
{
	if (ctx && ctx->meta == meta)
		ctx->writer = -1;
}

/*
 * The hinted protocol's dissector first, then the others in registry
 * order, TLS last.  MATCH or MALFORMED (with *id and the scratch meta),
 * NEED_MORE (with *skip: the client bytes every waiting dissector is done
 * with), or NO_MATCH when every dissector refused.  A dissector that said
 * NO_MATCH is remembered in *excluded; so is one the stream's first byte
 * rules out (a stream seen from its start that begins with a byte its
 * opening never has): it is not called, and no meta is cleared for it.
 */
static enum sn_verdict run_dissectors(struct sn_detect_ctx *ctx, uint8_t *excluded,
				      enum sn_proto hint, const struct sn_stream *s,
				      struct sn_meta *meta, int *id, uint32_t *skip)
{
	const struct dispatch *t = dispatch();
	const int8_t *order = t->order[(unsigned)hint < SN_PROTO_COUNT ? hint : SN_PROTO_NONE];
	uint8_t cannot = s->client_at_start && s->client_len > 0 ? t->cannot_open[s->client[0]] : 0;

	if ((t->present & ~*excluded & ~cannot) == 0) {
		/* nothing to call: each dissector is reached, and those the first
		 * byte rules out are remembered, as the loop below would */
		*excluded = (uint8_t)(*excluded | cannot);
		*skip = 0;
		meta->want = 0;
		return SN_NO_MATCH;
	}
	bool pending = false;
	uint32_t done = UINT32_MAX, want = 0;
	for (int k = 0; k < SN_DISS_COUNT; k++) {
		unsigned bit = 1u << order[k];
		const struct sn_dissector *d = t->diss[order[k]];
		if ((*excluded & bit) || !d)
			continue;
		if (cannot & bit) {
			*excluded = (uint8_t)(*excluded | bit);
			continue;
		}
		meta_ready(t, ctx, meta, order[k]);
		enum sn_verdict v = d->dissect(s, meta);
		if (sn_verdict_confirms(v)) {
			*id = order[k];
			return v;
		}
		if (v == SN_NO_MATCH) {
			*excluded = (uint8_t)(*excluded | bit);
		} else {
			pending = true;
			done = meta->skip < done ? meta->skip : done;
			want = meta->want > want ? meta->want : want;
		}
	}
	*skip = pending ? done : 0;
	meta->want = want; /* the most client bytes a waiting dissector asked for */
	return pending ? SN_NEED_MORE : SN_NO_MATCH;
}

static void ws_meta(const struct sn_ws_info *ws, struct sn_meta *m)
{
	m->carrier = SN_CARRIER_WEBSOCKET;
	sn_meta_set(m, m->ws_path, sizeof m->ws_path, ws->path, strlen(ws->path));
	sn_meta_set(m, m->ws_host, sizeof m->ws_host, ws->host, strlen(ws->host));
	sn_meta_set(m, m->ws_protocol, sizeof m->ws_protocol, ws->protocol, strlen(ws->protocol));
	m->truncated = m->truncated || ws->truncated;
}

/*
 * The WebSocket carrier: unwraps s into ctx's buffers (*in) and notes in d
 * whether the client opened with an upgrade.  SN_MATCH when the dissectors
 * may run on *in.
 */
static enum sn_verdict ws_unwrap(struct sn_detect *d, struct sn_detect_ctx *ctx,
				 const struct sn_stream *s, struct sn_stream *in)
{
	struct sn_ws_out out = { .buf = { ctx->buf[0], ctx->buf[1] },
				 .cap = { ctx->msg_bytes, ctx->msg_bytes },
				 .scratch = ctx->scratch, .scratch_cap = ctx->msg_bytes,
				 .arena = ctx->arena, .arena_cap = SN_WS_ARENA_BYTES };
	enum sn_verdict v = sn_ws_unwrap(s, &ctx->ws, &out);
	if (v == SN_NO_MATCH)
		d->carrier = SN_DETECT_WS_NO;
	if (v != SN_MATCH)
		return v;
	d->carrier = SN_DETECT_WS_YES;
	if (ctx->ws.server_refused)
		return SN_NO_MATCH; /* a refused upgrade carries nothing */
	*in = (struct sn_stream){ out.buf[0], out.len[0], out.buf[1], out.len[1], true, s->final,
				  s->payload_bytes };
	return SN_MATCH;
}

/* The dissectors over the messages of a WebSocket connection. */
static enum sn_verdict run_in_websocket(struct sn_detect *d, struct sn_detect_ctx *ctx,
					const struct sn_stream *s, uint8_t *excluded,
					struct sn_meta *meta, int *id)
{
	struct sn_stream in;
	enum sn_verdict v = ws_unwrap(d, ctx, s, &in);
	if (v != SN_MATCH)
		return v;
	uint32_t skip;
	v = run_dissectors(ctx, excluded, sn_ws_protocol_proto(ctx->ws.protocol), &in, meta, id,
			   &skip);
	if (sn_verdict_confirms(v)) {
		ws_meta(&ctx->ws, meta);
		meta_forget(ctx, meta);
	}
	return v;
}

/*
 * One pass over s: the bytes as they are, then (once every dissector
 * refused them, or once the connection is known to be WebSocket) the
 * messages inside.  `record` keeps NO_MATCH answers in d.
 */
static enum sn_verdict one_pass(struct sn_detect *d, struct sn_detect_ctx *ctx, enum sn_proto port,
				const struct sn_stream *s, bool record, struct sn_meta *meta, int *id,
				uint32_t *skip)
{
	uint8_t outer = d->excluded, inner = d->inner_excluded;
	enum sn_verdict v = SN_NO_MATCH;

	*skip = 0;
	if (d->carrier != SN_DETECT_WS_YES)
		v = run_dissectors(ctx, &outer, port, s, meta, id, skip);
	if (v == SN_NO_MATCH && ctx && d->carrier != SN_DETECT_WS_NO && s->client_at_start)
		v = run_in_websocket(d, ctx, s, &inner, meta, id);
	if (record) {
		d->excluded = outer;
		d->inner_excluded = inner;
	}
	return v;
}

static void fill_verdict(struct sn_detect_verdict *out, enum sn_verdict v, int id,
			 const struct sn_meta *meta, uint8_t port_info, bool at_start)
{
	enum sn_proto port = sn_port_proto(port_info);
	bool tls = meta->carrier == SN_CARRIER_TLS || meta->carrier == SN_CARRIER_TLS_ALPN;

	out->dissector = sn_verdict_confirms(v) ? id : -1;
	out->undecided = false;
	out->malformed = v == SN_MALFORMED;
	if (sn_verdict_confirms(v) && !tls) {
		out->proto = meta->proto != SN_PROTO_NONE
				     ? meta->proto
				     : sn_dissector_get((enum sn_dissector_id)id)->proto;
		out->evidence = SN_EVIDENCE_PAYLOAD;
	} else if (sn_verdict_confirms(v) && meta->proto != SN_PROTO_NONE) {
		out->proto = meta->proto;
		out->evidence = SN_EVIDENCE_TLS;
	} else if (sn_verdict_confirms(v) && port != SN_PROTO_NONE && (port_info & SN_PORT_TLS)) {
		out->proto = port;
		out->evidence = SN_EVIDENCE_TLS;
	} else if (v == SN_NO_MATCH && port != SN_PROTO_NONE && at_start) {
		/* only a stream seen from its first byte can refute its port */
		out->proto = port;
		out->evidence = SN_EVIDENCE_REFUTED;
	} else {
		/* undecided, or TLS that names nothing on a clear-text port */
		out->proto = port;
		out->evidence = SN_EVIDENCE_PORT;
		out->undecided = v == SN_NEED_MORE;
	}
}

bool sn_detect_classify(struct sn_detect *d, struct sn_detect_ctx *ctx, uint8_t port_info,
			const struct sn_stream *s, struct sn_meta *meta, struct sn_detect_verdict *out,
			uint32_t *skip)
{
	enum sn_proto port = sn_port_proto(port_info);
	struct sn_stream open = *s;
	int id = -1;

	/* While bytes may come, a NO_MATCH is the bytes contradicting a dissector. */
	open.final = false;
	enum sn_verdict v = one_pass(d, ctx, port, &open, true, meta, &id, skip);
	if (v == SN_NEED_MORE && !s->final)
		return false;
	if (v == SN_NEED_MORE) {
		/* The bytes stopped: the waiting dissectors judge on what is there
		 * (an opening cut by the bound); their refusals now mean only that
		 * the bytes ran out, so they are not kept. */
		uint32_t unused;
		v = one_pass(d, ctx, port, s, false, meta, &id, &unused);
		if (!sn_verdict_confirms(v))
			v = SN_NEED_MORE;
	}
	*skip = 0;
	fill_verdict(out, v, id, meta, port_info, s->client_at_start);
	return true;
}

bool sn_detect_detail(const struct sn_detect *d, struct sn_detect_ctx *ctx, int id,
		      const struct sn_stream *s, struct sn_meta *meta)
{
	const struct sn_dissector *dis = sn_dissector_get((enum sn_dissector_id)id);
	if (!dis || !dis->dissect)
		return false;
	if (d->carrier == SN_DETECT_WS_YES && ctx) {
		struct sn_detect scratch = *d;
		struct sn_stream in;
		if (ws_unwrap(&scratch, ctx, s, &in) != SN_MATCH)
			return false;
		memset(meta, 0, sizeof *meta);
		meta_forget(ctx, meta);
		if (!sn_verdict_confirms(dis->dissect(&in, meta)))
			return false;
		ws_meta(&ctx->ws, meta);
		return true;
	}
	memset(meta, 0, sizeof *meta);
	meta_forget(ctx, meta);
	return sn_verdict_confirms(dis->dissect(s, meta));
}
