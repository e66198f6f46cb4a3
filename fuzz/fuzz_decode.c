/*
 * fuzz_decode.c - libFuzzer target for sn_decode_packet() and
 * sn_decode_frame().
 *
 * Input: [selector:2, big endian][frame].  The low 4 bits of the selector
 * pick a supported link type; the rest are added to the captured length to
 * make the wire length, so frames that claim more than was captured (a
 * short snap length) are covered too.  The decoded view must stay inside
 * the frame, and the straight path for plain Ethernet/IP/TCP frames must
 * give what the general path gives (result, counters, view), both
 * stateless and with a validating decoder (its checksum marks).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int linktypes[] = {
	SN_DLT_NULL,	     SN_DLT_EN10MB, SN_DLT_RAW,	 SN_DLT_RAW_BSD,     SN_DLT_LOOP,
	SN_DLT_LINKTYPE_RAW, SN_DLT_LINUX_SLL, SN_DLT_IPV4, SN_DLT_IPV6, SN_DLT_LINUX_SLL2,
};

#define N_LINKTYPES (sizeof linktypes / sizeof linktypes[0])

static void check_view(const struct sn_packet *pkt, const uint8_t *frame, size_t caplen)
{
	if (pkt->payload_len == 0)
		return;
	if (!pkt->payload || pkt->payload < frame || pkt->payload_len > caplen ||
	    (size_t)(pkt->payload - frame) > caplen - pkt->payload_len)
		abort();
	if (pkt->payload_len > pkt->payload_wire_len)
		abort();
}

/*
 * decode.h's promise: an error bumps exactly one counter; a usable TCP
 * segment may carry one bad-options count; a skip counts no error.
 */
static void check_counters(enum sn_decode_rc rc, const struct sn_decode_stats *st)
{
	uint64_t errors = 0;
	for (size_t i = 0; i < SN_DERR_COUNT; i++)
		errors += st->errors[i];
	uint64_t allowed = 0;
	if (rc == SN_DECODE_ERROR)
		allowed = 1;
	else if (rc == SN_DECODE_TCP)
		allowed = st->errors[SN_DERR_TCP_BAD_OPTIONS];
	if (errors != allowed || allowed > 1 || st->packets != 1)
		abort();
}

/* The same result, counters and view (padding included up to layers[]). */
static void check_same(enum sn_decode_rc a, const struct sn_decode_stats *sa,
		       const struct sn_packet *pa, enum sn_decode_rc b,
		       const struct sn_decode_stats *sb, const struct sn_packet *pb)
{
	if (a != b || memcmp(sa, sb, sizeof *sa) != 0)
		abort();
	if (a == SN_DECODE_TCP &&
	    (memcmp(pa, pb, offsetof(struct sn_packet, layers)) != 0 ||
	     memcmp(pa->layers, pb->layers, pb->n_layers * sizeof pb->layers[0]) != 0))
		abort();
}

/* Validating decoders without reassembly: nothing in them changes per frame. */
static struct sn_decoder straight_dec, general_dec;
static int decoders_ready;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2 || size - 2 > UINT32_MAX / 2)
		return 0;
	unsigned sel = (unsigned)data[0] << 8 | data[1];
	int linktype = linktypes[(sel & 0x0f) % N_LINKTYPES];
	uint32_t caplen = (uint32_t)(size - 2);
	uint32_t wirelen = caplen + (sel >> 4);
	const uint8_t *frame = data + 2;

	struct sn_decode_stats st;
	struct sn_packet pkt;
	memset(&st, 0, sizeof st);
	if (!sn_decode_linktype_supported(linktype))
		abort();
	enum sn_decode_rc rc = sn_decode_packet(linktype, frame, caplen, wirelen, 1, &pkt, &st);
	if (rc == SN_DECODE_TCP)
		check_view(&pkt, frame, caplen);
	check_counters(rc, &st);

	struct sn_decode_stats gst;
	struct sn_packet gen;
	memset(&gst, 0, sizeof gst);
	enum sn_decode_rc grc =
		sn_decode_packet_general(linktype, frame, caplen, wirelen, 1, &gen, &gst);
	check_same(rc, &st, &pkt, grc, &gst, &gen);

	if (!decoders_ready) {
		struct sn_decoder_config c;
		sn_decoder_defaults(&c);
		c.checksum = SN_CHECKSUM_YES;
		if (sn_decoder_init(&straight_dec, &c, 1) != 0 ||
		    sn_decoder_init(&general_dec, &c, 1) != 0)
			abort();
		decoders_ready = 1;
	}
	memset(&st, 0, sizeof st);
	memset(&gst, 0, sizeof gst);
	rc = sn_decode_frame(&straight_dec, linktype, frame, caplen, wirelen, 1, &pkt, &st);
	grc = sn_decode_frame_general(&general_dec, linktype, frame, caplen, wirelen, 1, &gen, &gst);
	check_same(rc, &st, &pkt, grc, &gst, &gen);
	if (rc == SN_DECODE_TCP && pkt.csum_pending &&
	    sn_packet_checksum_bad(&pkt) != sn_packet_checksum_bad(&gen))
		abort();
	return 0;
}
