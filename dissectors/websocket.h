/*
 * websocket.h - the WebSocket carrier (RFC 6455, permessage-deflate from
 * RFC 7692): from the first bytes of a TCP connection to the message bytes
 * the pub/sub dissectors read.
 *
 * A client that opens with an HTTP/1.1 `Upgrade: websocket` request and a
 * server that answers `101` carry MQTT (`mqtt`, `mqttv3.1`), STOMP
 * (`v10.stomp`, `v11.stomp`, `v12.stomp`, `stomp`), XMPP (`xmpp`, RFC
 * 7395 framing) or AMQP (`amqp`) inside frames.  sn_ws_unwrap() reads the
 * upgrade, then joins each direction's data messages (client frames
 * unmasked, fragments joined, control frames skipped, compressed messages
 * inflated) into caller-supplied buffers, so the dissectors run on the
 * message bytes unchanged.  Like the dissectors it is a pure function over
 * bytes: no state between calls, no global, every read through the cursor;
 * zlib's memory comes from the caller's arena, never from malloc.
 */
#ifndef SN_WEBSOCKET_H
#define SN_WEBSOCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dissector.h"

#define SN_WS_STR 128          /* path, host kept */
#define SN_WS_PROTO_STR 32     /* Sec-WebSocket-Protocol kept */
#define SN_WS_HEADER_MAX 8192  /* request or response header block examined */
#define SN_WS_ARENA_BYTES (64 * 1024) /* zlib inflate state and window, with room */

/* What the upgrade said, and how the frames went. */
struct sn_ws_info {
	char path[SN_WS_STR];               /* request target, e.g. "/mqtt" */
	char host[SN_WS_STR];               /* Host header */
	char protocol[SN_WS_PROTO_STR];     /* chosen by the server, else the client's first offer */
	bool server_101;                    /* the server's 101 was seen */
	bool server_refused;                /* the server answered with another status */
	bool deflate;                       /* permessage-deflate offered (and, if answered, accepted) */
	bool truncated;                     /* a string or a message buffer was cut */
	bool bad_frame;                     /* a frame broke RFC 6455 (reserved opcode, unmasked
					       client frame, oversized control frame) */
	bool inflate_failed;                /* a compressed message did not inflate */
	uint32_t messages[2];               /* data messages begun, client and server */
};

/* Where the message bytes go, and the memory zlib may use. */
struct sn_ws_out {
	uint8_t *buf[2];     /* [0] client messages, [1] server messages */
	size_t cap[2];
	size_t len[2];       /* filled by sn_ws_unwrap */
	uint8_t *scratch;    /* one compressed message, unmasked, before inflating */
	size_t scratch_cap;
	uint8_t *arena;      /* zlib's allocations (SN_WS_ARENA_BYTES) */
	size_t arena_cap;
};

/*
 * SN_NO_MATCH: the client's bytes are not a WebSocket upgrade request.
 * SN_NEED_MORE: they may still become one (the header block is not complete).
 * SN_MATCH: an upgrade; *info is filled and out->len[] hold the message
 * bytes so far (possibly none yet).
 */
enum sn_verdict sn_ws_unwrap(const struct sn_stream *s, struct sn_ws_info *info,
			     struct sn_ws_out *out);

/* The protocol a Sec-WebSocket-Protocol name means, or SN_PROTO_NONE. */
enum sn_proto sn_ws_protocol_proto(const char *name);

#endif /* SN_WEBSOCKET_H */
