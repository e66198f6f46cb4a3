/*
 * testutil.h - helpers shared by the unit tests: reading test captures and
 * building frames by hand.
 */
#ifndef SN_TESTUTIL_H
#define SN_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

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

#endif /* SN_TESTUTIL_H */
