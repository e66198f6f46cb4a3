/*
 * communityid.h - Community ID v1 flow hashes (the same value Zeek and
 * Suricata write for a connection, so events join across tools).
 */
#ifndef SN_COMMUNITYID_H
#define SN_COMMUNITYID_H

#include <stdint.h>

#include "addr.h"

/* "1:" + 28 base64 characters + NUL. */
#define SN_COMMUNITY_ID_LEN 31

/*
 * The Community ID v1 of a TCP connection between (a, a_port) and
 * (b, b_port) with `seed` (0 unless configured); the result is the same
 * whichever end is given first.
 */
void sn_community_id_tcp(uint16_t seed, const struct sn_addr *a, uint16_t a_port,
			 const struct sn_addr *b, uint16_t b_port, char out[SN_COMMUNITY_ID_LEN]);

#endif /* SN_COMMUNITYID_H */
