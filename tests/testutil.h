/*
 * testutil.h - helpers shared by the unit tests: reading test captures and
 * building frames by hand.
 */
#ifndef SN_TESTUTIL_H
#define SN_TESTUTIL_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include "dissector.h"

/* Path of a capture under SN_TEST_PCAPS (default "pcaps"); static buffer. */
const char *sn_test_pcap_path(const char *name);

/*
 * Concatenates the TCP payload of every packet from client to server (the
 * SYN sender, or the port `server_port` side) of the first connection in a
 * capture, in capture order, into out[cap].  Returns the length, or -1.
 */
long sn_test_client_bytes(const char *pcap_name, uint16_t server_port, uint8_t *out, size_t cap);

/*
 * Concatenates, in capture order, the TCP payload of every packet sent from
 * port `sport` to port `dport` (either direction of a connection picked up
 * mid-stream) into out[cap].  Returns the length, or -1.
 */
long sn_test_port_bytes(const char *pcap_name, uint16_t sport, uint16_t dport, uint8_t *out,
			size_t cap);

/*
 * Runs a dissector over exact-size heap copies of both directions, so ASan
 * sees any over-read; NULL stays NULL (the core may hand an empty
 * direction that way).  *m is zeroed first.
 */
enum sn_verdict sn_test_dissect(sn_dissect_fn fn, const void *client, size_t cn,
				const void *server, size_t sn, bool at_start, bool final,
				struct sn_meta *m);

/* sn_test_client_bytes() into buf, asserting the capture has client bytes. */
size_t sn_test_load_client(const char *pcap, uint16_t port, uint8_t *buf, size_t cap);

/*
 * `count` random buffers of random lengths (0..599 bytes), seen mid-stream,
 * in one or both directions (`with_server`), every `markup`-th one starting
 * with '<': the dissector must never answer MATCH for any of them.
 */
void sn_test_random_never_matches(sn_dissect_fn fn, unsigned count, uint64_t seed, bool with_server,
				  unsigned markup);

/*
 * Hash-flooding keys: n distinct IPv6 addresses (2001:db8::/32) such that
 * 32-bit FNV-1a, started from state h0 and run over the 16 address bytes,
 * ends in the same low `bits` bits for all of them (bits <= 20), so every
 * key hashed by an unkeyed FNV-1a from there on shares a bucket.  Works
 * backwards through the last two bytes; returns how many were made.
 */
size_t sn_test_fnv_flood(uint32_t h0, unsigned bits, uint8_t (*out)[16], size_t n);
/* FNV-1a step over n bytes (for checking the keys above). */
uint32_t sn_test_fnv(uint32_t h, const void *p, size_t n);

#endif /* SN_TESTUTIL_H */
