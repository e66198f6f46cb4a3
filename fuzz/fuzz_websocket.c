/*
 * fuzz_websocket.c - libFuzzer target for the WebSocket carrier
 * (sn_ws_unwrap): the upgrade, frames, masking, fragments and
 * permessage-deflate, then every dissector over the unwrapped messages.
 * Input layout: fuzz_stream.h.  Checks: the carrier's output stays within
 * its buffers and its strings are terminated; the dissectors' metadata
 * invariants hold on what it hands them.
 */
#include <stddef.h>
#include <stdint.h>

#include "dissector.h"
#include "fuzz_stream.h"
#include "websocket.h"

#define MSG_CAP 2048

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t bufs[2][MSG_CAP], scratch[MSG_CAP], arena[SN_WS_ARENA_BYTES];

static void run_inner(const struct sn_stream *in)
{
	for (int id = 0; id < SN_DISS_COUNT; id++) {
		const struct sn_dissector *d = sn_dissector_get((enum sn_dissector_id)id);
		struct sn_meta meta;
		memset(&meta, 0, sizeof meta);
		sn_fuzz_check_meta(&meta, d->dissect(in, &meta));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sn_stream s;
	if (!sn_fuzz_stream(data, size, &s))
		return 0;
	struct sn_ws_out out = { .buf = { bufs[0], bufs[1] }, .cap = { MSG_CAP, MSG_CAP },
				 .scratch = scratch, .scratch_cap = sizeof scratch,
				 .arena = arena, .arena_cap = sizeof arena };
	struct sn_ws_info info;
	enum sn_verdict v = sn_ws_unwrap(&s, &info, &out);
	if (v != SN_MATCH && v != SN_NO_MATCH && v != SN_NEED_MORE)
		abort();
	if (out.len[0] > MSG_CAP || out.len[1] > MSG_CAP)
		abort();
	sn_fuzz_check_str(info.path, sizeof info.path);
	sn_fuzz_check_str(info.host, sizeof info.host);
	sn_fuzz_check_str(info.protocol, sizeof info.protocol);
	if (v == SN_MATCH) {
		uint8_t *c = sn_fuzz_dup(bufs[0], out.len[0]);
		uint8_t *sv = sn_fuzz_dup(bufs[1], out.len[1]);
		struct sn_stream in = { .client = c, .client_len = out.len[0], .server = sv,
					.server_len = out.len[1], .client_at_start = true };
		run_inner(&in);
		free(c);
		free(sv);
	}
	sn_fuzz_stream_free(&s);
	return 0;
}
