/*
 * communityid.c - Community ID v1 (corelight/community-id-spec): "1:" and
 * the base64 SHA-1 of seed (2 bytes, big endian), the lesser endpoint's
 * address, the other address, the IP protocol number, one zero pad byte,
 * then the two ports (big endian) in the same order.  An endpoint is the
 * lesser when its address is smaller, or its port when the addresses are
 * equal.  SHA-1 and base64 come from libnettle.
 */
#include "communityid.h"

#include <string.h>

#include <nettle/base64.h>
#include <nettle/sha1.h>

#define SN_IPPROTO_TCP 6

static size_t addr_len(const struct sn_addr *a)
{
	return a->family == 6 ? 16 : 4;
}

static void put_port(uint8_t out[2], uint16_t port)
{
	out[0] = (uint8_t)(port >> 8);
	out[1] = (uint8_t)port;
}

void sn_community_id_tcp(uint16_t seed, const struct sn_addr *a, uint16_t a_port,
			 const struct sn_addr *b, uint16_t b_port, char out[SN_COMMUNITY_ID_LEN])
{
	int c = memcmp(a->b, b->b, addr_len(a));

	if (c > 0 || (c == 0 && a_port > b_port)) {
		const struct sn_addr *t = a;
		uint16_t tp = a_port;
		a = b;
		a_port = b_port;
		b = t;
		b_port = tp;
	}

	uint8_t head[2], tail[6];
	put_port(head, seed);
	tail[0] = SN_IPPROTO_TCP;
	tail[1] = 0;
	put_port(tail + 2, a_port);
	put_port(tail + 4, b_port);

	struct sha1_ctx ctx;
	uint8_t digest[SHA1_DIGEST_SIZE];
	sha1_init(&ctx);
	sha1_update(&ctx, sizeof head, head);
	sha1_update(&ctx, addr_len(a), a->b);
	sha1_update(&ctx, addr_len(b), b->b);
	sha1_update(&ctx, sizeof tail, tail);
	sha1_digest(&ctx, sizeof digest, digest);

	_Static_assert(BASE64_ENCODE_RAW_LENGTH(SHA1_DIGEST_SIZE) + 3 == SN_COMMUNITY_ID_LEN,
		       "room for the prefix, the digest's base64 and the NUL");
	out[0] = '1';
	out[1] = ':';
	base64_encode_raw(out + 2, sizeof digest, digest);
	out[SN_COMMUNITY_ID_LEN - 1] = '\0';
}
