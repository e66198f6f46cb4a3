/*
 * addr.c - IP addresses and CIDR blocks: text form, parsing, comparison.
 *
 * Text is written here exactly as glibc's inet_ntop writes it, without its
 * printf per word or byte: IPv6 in RFC 5952 form ("2001:db8::1", lower
 * case, longest zero run compressed), IPv4 in dotted decimal.  Parsing is
 * inet_pton.  A CIDR block keeps its network address with the host bits
 * cleared, so that "10.1.2.3/8" and "10.0.0.0/8" are the same block.
 */
#include "addr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#define SN_CIDR_TEXT_MAX 64 /* longest address text we accept before '/' */

/* "a.b.c.d" from four bytes, as inet_ntop(AF_INET) writes it; returns the end (its NUL). */
static char *format_v4(const uint8_t b[4], char *out)
{
	char *o = out;

	for (int i = 0; i < 4; i++) {
		unsigned v = b[i];
		if (i)
			*o++ = '.';
		if (v >= 100)
			*o++ = (char)('0' + v / 100);
		if (v >= 10)
			*o++ = (char)('0' + v / 10 % 10);
		*o++ = (char)('0' + v % 10);
	}
	*o = '\0';
	return o;
}

/*
 * RFC 5952 text, as glibc's inet_ntop(AF_INET6) writes it: words in lower
 * case hex without leading zeros; the first longest run of two or more zero
 * words as "::"; and the last 32 bits in dotted decimal when the first 96
 * are zero and at least six words (::a.b.c.d, not ::1 or ::) are in the run,
 * or when the address is IPv4-mapped (::ffff:a.b.c.d).
 */
static void format_v6(const uint8_t b[16], char out[SN_ADDR_STRLEN])
{
	static const char hex[] = "0123456789abcdef";
	unsigned w[8];
	int best = -1, best_len = 0, cur = -1, cur_len = 0;
	char *o = out;

	for (int i = 0; i < 8; i++)
		w[i] = (unsigned)b[2 * i] << 8 | b[2 * i + 1];
	for (int i = 0; i < 8; i++) {
		if (w[i] == 0) {
			if (cur < 0)
				cur = i, cur_len = 0;
			cur_len++;
		} else if (cur >= 0) {
			if (best < 0 || cur_len > best_len)
				best = cur, best_len = cur_len;
			cur = -1;
		}
	}
	if (cur >= 0 && (best < 0 || cur_len > best_len))
		best = cur, best_len = cur_len;
	if (best >= 0 && best_len < 2)
		best = -1;
	for (int i = 0; i < 8; i++) {
		if (best >= 0 && i >= best && i < best + best_len) {
			if (i == best)
				*o++ = ':';
			continue;
		}
		if (i)
			*o++ = ':';
		if (i == 6 && best == 0 && (best_len == 6 || (best_len == 5 && w[5] == 0xffff))) {
			o = format_v4(b + 12, o);
			return;
		}
		bool lead = true;
		for (int sh = 12; sh >= 0; sh -= 4) {
			unsigned d = w[i] >> sh & 0xf;
			if (lead && d == 0 && sh > 0)
				continue;
			lead = false;
			*o++ = hex[d];
		}
	}
	if (best >= 0 && best + best_len == 8)
		*o++ = ':';
	*o = '\0';
}

void sn_addr_format(const struct sn_addr *a, char out[SN_ADDR_STRLEN])
{
	if (a->family == 4)
		format_v4(a->b, out);
	else if (a->family == 6)
		format_v6(a->b, out);
	else
		snprintf(out, SN_ADDR_STRLEN, "?");
}

bool sn_addr_parse(const char *text, struct sn_addr *out)
{
	struct sn_addr a;
	memset(&a, 0, sizeof a);
	if (!text)
		return false;
	if (inet_pton(AF_INET, text, a.b) == 1)
		a.family = 4;
	else if (inet_pton(AF_INET6, text, a.b) == 1)
		a.family = 6;
	else
		return false;
	*out = a;
	return true;
}

int sn_addr_compare(const struct sn_addr *x, const struct sn_addr *y)
{
	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	return memcmp(x->b, y->b, sizeof x->b);
}

bool sn_addr_equal(const struct sn_addr *x, const struct sn_addr *y)
{
	return sn_addr_compare(x, y) == 0;
}

static unsigned addr_bits(const struct sn_addr *a)
{
	return a->family == 6 ? 128u : 32u;
}

/* Parses a decimal prefix length of 1 to 3 digits; no sign, no spaces. */
static bool parse_prefix(const char *s, unsigned max, uint8_t *out)
{
	unsigned v = 0;
	size_t n = 0;
	for (; s[n]; n++) {
		if (n >= 3 || s[n] < '0' || s[n] > '9')
			return false;
		v = v * 10 + (unsigned)(s[n] - '0');
	}
	if (n == 0 || v > max)
		return false;
	*out = (uint8_t)v;
	return true;
}

/* Clears every bit of a past the first `prefix` bits. */
static void clear_host_bits(struct sn_addr *a, unsigned prefix)
{
	for (unsigned i = 0; i < sizeof a->b; i++) {
		unsigned first = i * 8;
		if (first >= prefix)
			a->b[i] = 0;
		else if (prefix - first < 8)
			a->b[i] &= (uint8_t)(0xff00u >> (prefix - first));
	}
}

bool sn_cidr_parse(const char *text, struct sn_cidr *out)
{
	char host[SN_CIDR_TEXT_MAX];
	struct sn_cidr c;
	if (!text)
		return false;
	const char *slash = strchr(text, '/');
	size_t hlen = slash ? (size_t)(slash - text) : strlen(text);
	if (hlen == 0 || hlen >= sizeof host)
		return false;
	memcpy(host, text, hlen);
	host[hlen] = '\0';
	if (!sn_addr_parse(host, &c.net))
		return false;
	c.prefix = (uint8_t)addr_bits(&c.net);
	if (slash && !parse_prefix(slash + 1, addr_bits(&c.net), &c.prefix))
		return false;
	clear_host_bits(&c.net, c.prefix);
	*out = c;
	return true;
}

bool sn_cidr_contains(const struct sn_cidr *c, const struct sn_addr *a)
{
	if (c->net.family != a->family || c->prefix > addr_bits(a))
		return false;
	unsigned whole = c->prefix / 8u, rest = c->prefix % 8u;
	if (memcmp(c->net.b, a->b, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff00u >> rest);
	return (a->b[whole] & mask) == c->net.b[whole];
}

void sn_cidr_format(const struct sn_cidr *c, char *out, size_t cap)
{
	char host[SN_ADDR_STRLEN];
	if (!out || cap == 0)
		return;
	sn_addr_format(&c->net, host);
	snprintf(out, cap, "%s/%u", host, (unsigned)c->prefix);
}
