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

/* v as 2 bytes big-endian at p; returns 2. */
size_t sn_test_put16(uint8_t *p, unsigned v);

/* A dotted name as DNS labels (RFC 1035 3.1) at p, the root label included;
 * returns the bytes written. */
size_t sn_test_dns_name(uint8_t *p, const char *name);

/*
 * The TCP sum RFC 1071's way, 16 bits at a time in network order: the
 * pseudo-header (alen-byte addresses, protocol 6, length len) and the
 * segment, folded to 16 bits.  A segment verifies when it is 0xffff; the
 * reference the sensor's checksum code is held to.
 */
uint16_t sn_test_tcp_sum(const uint8_t *src, const uint8_t *dst, size_t alen, const uint8_t *seg,
			 size_t len);

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

/*
 * Checking JSON event lines field by field, so that a test states what the
 * contract (tests/spec/) says each field is and keeps passing when fields
 * are added.  A path names members of nested objects with dots
 * ("details.keepalive"); values are compared as raw JSON text ("60",
 * "\"3.1.1\"", "[\"a\",\"b\"]", "null").
 */
/* The end of the JSON value at s (leading spaces skipped), NULL if invalid. */
const char *sn_test_json_skip(const char *s);
/* Raw text of member `path` of the object at obj (*n bytes), NULL if absent;
   fails the test if a member on the path appears twice. */
const char *sn_test_json_get(const char *obj, const char *path, size_t *n);
/* Members of the object at obj; -1 if it is not an object. */
int sn_test_json_members(const char *obj);
/* line is one valid JSON object and one line (ending in "\n"). */
void sn_test_json_line_at(const char *file, int lineno, const char *line);
/* path's raw text in line is want; want NULL: path absent. */
void sn_test_json_expect_at(const char *file, int lineno, const char *line, const char *path,
			    const char *want);
#define SN_JSON_LINE(line) sn_test_json_line_at(__FILE__, __LINE__, (line))
#define SN_JSON_EXPECT(line, path, want) sn_test_json_expect_at(__FILE__, __LINE__, (line), (path), (want))

/*
 * Heap allocation counter for the whole unit runner (testutil.c interposes
 * malloc, calloc, realloc, aligned allocations; under AddressSanitizer it
 * uses the sanitizer's allocation hook instead).  Between arm and disarm
 * every allocation in the process is counted; disarm returns the count.
 * sn_test_alloc_first_caller() is the return address of the first counted
 * allocation (for a failure message; addr2line turns it into a line).
 */
void sn_test_alloc_arm(void);
uint64_t sn_test_alloc_disarm(void);
void *sn_test_alloc_first_caller(void);

#endif /* SN_TESTUTIL_H */
