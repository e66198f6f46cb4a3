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

#endif /* SN_TESTUTIL_H */
