/*
 * addr.h - IP addresses as the sensor keeps them, and their text form.
 *
 * IPv4 addresses are stored in the first four bytes of `b`, the rest zero,
 * so that keys compare and hash with plain memcmp.
 */
#ifndef SN_ADDR_H
#define SN_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sn_addr {
	uint8_t family; /* 4 or 6 */
	uint8_t b[16];
};

#define SN_ADDR_STRLEN 46 /* INET6_ADDRSTRLEN */

/* IPv4 dotted quad, IPv6 in RFC 5952 form (inet_ntop). */
void sn_addr_format(const struct sn_addr *a, char out[SN_ADDR_STRLEN]);
/* Parses "a.b.c.d" or an IPv6 literal; returns false on bad text. */
bool sn_addr_parse(const char *text, struct sn_addr *out);
int sn_addr_compare(const struct sn_addr *x, const struct sn_addr *y);
bool sn_addr_equal(const struct sn_addr *x, const struct sn_addr *y);

/* A CIDR block: family, network address, prefix length. */
struct sn_cidr {
	struct sn_addr net;
	uint8_t prefix;
};

/* Parses "10.0.0.0/8" or "fc00::/7" (a bare address is a /32 or /128). */
bool sn_cidr_parse(const char *text, struct sn_cidr *out);
bool sn_cidr_contains(const struct sn_cidr *c, const struct sn_addr *a);
void sn_cidr_format(const struct sn_cidr *c, char *out, size_t cap);

#endif /* SN_ADDR_H */
