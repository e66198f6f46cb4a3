/*
 * testutil.c - test helpers: capture paths and the byte streams of a capture.
 *
 * Included by tests through check_main.c's link line (it is not a suite).
 * The parser here is deliberately minimal (Ethernet + IPv4/IPv6 + TCP, as in
 * the project's own captures) and independent of sensor/decode.c, so the
 * dissector tests do not depend on the decoder.
 */
#include "testutil.h"

#include <check.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cursor.h"

const char *sn_test_pcap_path(const char *name)
{
	static char path[1024];
	const char *dir = getenv("SN_TEST_PCAPS");
	snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "pcaps", name);
	return path;
}

/* Parses one Ethernet frame down to TCP; fills ports, flags and payload. */
static int parse_frame(const uint8_t *data, size_t caplen, uint16_t *sport, uint16_t *dport,
		       uint8_t *flags, struct sn_cursor *payload)
{
	struct sn_cursor c = sn_cur_make(data, caplen);
	sn_cur_skip(&c, 12);
	uint16_t type = sn_cur_be16(&c);
	size_t ip_payload_len;
	if (type == 0x0800) {
		uint8_t vihl = sn_cur_peek(&c, 0);
		size_t ihl = (size_t)(vihl & 0x0f) * 4;
		struct sn_cursor ip = sn_cur_rest(&c);
		sn_cur_skip(&ip, 2);
		uint16_t total = sn_cur_be16(&ip);
		sn_cur_skip(&ip, 5);
		if (sn_cur_u8(&ip) != 6 || total < ihl)
			return -1;
		sn_cur_skip(&c, ihl);
		ip_payload_len = total - ihl;
	} else if (type == 0x86dd) {
		struct sn_cursor ip = sn_cur_rest(&c);
		sn_cur_skip(&ip, 4);
		ip_payload_len = sn_cur_be16(&ip);
		if (sn_cur_u8(&ip) != 6)
			return -1;
		sn_cur_skip(&c, 40);
	} else {
		return -1;
	}
	struct sn_cursor tcp = sn_cur_rest(&c);
	*sport = sn_cur_be16(&tcp);
	*dport = sn_cur_be16(&tcp);
	sn_cur_skip(&tcp, 8);
	size_t doff = (size_t)(sn_cur_u8(&tcp) >> 4) * 4;
	*flags = sn_cur_u8(&tcp);
	if (!sn_cur_ok(&tcp) || !sn_cur_skip(&c, doff) || doff > ip_payload_len)
		return -1;
	size_t plen = ip_payload_len - doff;
	if (plen > sn_cur_remaining(&c))
		plen = sn_cur_remaining(&c);
	*payload = sn_cur_sub(&c, plen);
	return sn_cur_ok(&c) ? 0 : -1;
}

long sn_test_client_bytes(const char *pcap_name, uint16_t server_port, uint8_t *out, size_t cap)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(sn_test_pcap_path(pcap_name), err);
	if (!p)
		return -1;
	struct pcap_pkthdr *h;
	const u_char *data;
	size_t len = 0;
	uint16_t client_port = 0;
	while (pcap_next_ex(p, &h, &data) == 1) {
		uint16_t sport, dport;
		uint8_t flags;
		struct sn_cursor pl;
		if (parse_frame(data, h->caplen, &sport, &dport, &flags, &pl) != 0)
			continue;
		if (dport != server_port)
			continue;
		if (client_port == 0)
			client_port = sport;
		if (sport != client_port)
			continue;
		size_t n = sn_cur_remaining(&pl);
		if (n > cap - len)
			n = cap - len;
		sn_cur_copy(&pl, out + len, n);
		len += n;
		if (flags & 0x05) /* FIN or RST ends the first connection */
			break;
	}
	pcap_close(p);
	return (long)len;
}

long sn_test_port_bytes(const char *pcap_name, uint16_t sport, uint16_t dport, uint8_t *out,
			size_t cap)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(sn_test_pcap_path(pcap_name), err);
	if (!p)
		return -1;
	struct pcap_pkthdr *h;
	const u_char *data;
	size_t len = 0;
	while (pcap_next_ex(p, &h, &data) == 1) {
		uint16_t s, d;
		uint8_t flags;
		struct sn_cursor pl;
		if (parse_frame(data, h->caplen, &s, &d, &flags, &pl) != 0 || s != sport || d != dport)
			continue;
		size_t n = sn_cur_remaining(&pl);
		if (n > cap - len)
			n = cap - len;
		sn_cur_copy(&pl, out + len, n);
		len += n;
	}
	pcap_close(p);
	return (long)len;
}

static uint8_t *heap_copy(const void *bytes, size_t n)
{
	if (!bytes)
		return NULL;
	uint8_t *copy = malloc(n ? n : 1);
	ck_assert_ptr_nonnull(copy);
	if (n)
		memcpy(copy, bytes, n);
	return copy;
}

enum sn_verdict sn_test_dissect(sn_dissect_fn fn, const void *client, size_t cn,
				const void *server, size_t sn, bool at_start, bool final,
				struct sn_meta *m)
{
	uint8_t *c = heap_copy(client, cn);
	uint8_t *s = heap_copy(server, sn);
	struct sn_stream st = {
		.client = c, .client_len = cn, .server = s, .server_len = sn,
		.client_at_start = at_start, .final = final,
	};
	memset(m, 0, sizeof *m);
	enum sn_verdict v = fn(&st, m);
	free(c);
	free(s);
	return v;
}

size_t sn_test_load_client(const char *pcap, uint16_t port, uint8_t *buf, size_t cap)
{
	long n = sn_test_client_bytes(pcap, port, buf, cap);
	ck_assert_msg(n > 0, "cannot read %s", sn_test_pcap_path(pcap));
	return (size_t)n;
}

static uint64_t xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

void sn_test_random_never_matches(sn_dissect_fn fn, unsigned count, uint64_t seed, bool with_server,
				  unsigned markup)
{
	static uint8_t client[600], server[600];
	uint64_t x = seed;
	struct sn_meta m;

	for (unsigned i = 0; i < count; i++) {
		size_t cn = (size_t)(xorshift(&x) % sizeof client);
		size_t sn = with_server && xorshift(&x) % 3 == 0 ? (size_t)(xorshift(&x) % sizeof server) : 0;
		for (size_t k = 0; k < cn; k++)
			client[k] = (uint8_t)xorshift(&x);
		for (size_t k = 0; k < sn; k++)
			server[k] = (uint8_t)xorshift(&x);
		if (cn && markup && i % markup == 0)
			client[0] = '<';
		bool final = (xorshift(&x) & 1) != 0;
		enum sn_verdict v = sn_test_dissect(fn, client, cn, server, sn, false, final, &m);
		ck_assert_msg(v != SN_MATCH, "random buffer %u matched", i);
		ck_assert_int_eq(m.proto, SN_PROTO_NONE);
	}
}

uint32_t sn_test_fnv(uint32_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

size_t sn_test_fnv_flood(uint32_t h0, unsigned bits, uint8_t (*out)[16], size_t n)
{
	const uint32_t prime = 16777619u, mask = (1u << bits) - 1, target = 0x2f5a5u & mask;
	uint32_t inv = prime; /* Newton: inv = prime^-1 mod 2^32 */
	size_t made = 0;

	for (int i = 0; i < 5; i++)
		inv *= 2u - prime * inv;
	uint32_t x = (target * inv) & mask; /* state before the last byte, xor that byte */
	for (uint64_t prefix = 0; made < n && prefix < (1ull << 32); prefix++) {
		uint8_t a[16] = { 0x20, 0x01, 0x0d, 0xb8 };
		for (int k = 0; k < 8; k++)
			a[6 + k] = (uint8_t)(prefix >> (8 * k));
		uint32_t s13 = sn_test_fnv(h0, a, 14);
		for (unsigned b14 = 0; b14 < 256 && made < n; b14++) {
			uint32_t s14 = ((s13 ^ b14) * prime) & mask;
			if ((s14 >> 8) != (x >> 8))
				continue;
			a[14] = (uint8_t)b14;
			a[15] = (uint8_t)((s14 ^ x) & 0xff);
			memcpy(out[made++], a, 16);
		}
	}
	return made;
}

/*
 * The allocation counter (testutil.h).  Without a sanitizer the runner's
 * own malloc, calloc, realloc, free and aligned allocations replace the C
 * library's (glibc supports replacing them; its __libc_ entry points do the
 * work), so every allocation in the process, the library's included, passes
 * here.  AddressSanitizer owns malloc itself; there its allocation hook
 * counts instead.
 */
static int alloc_armed;
static uint64_t alloc_count;
static void *alloc_first;

static void alloc_note(void *caller)
{
	if (!__atomic_load_n(&alloc_armed, __ATOMIC_RELAXED))
		return;
	if (__atomic_fetch_add(&alloc_count, 1, __ATOMIC_RELAXED) == 0)
		__atomic_store_n(&alloc_first, caller, __ATOMIC_RELAXED);
}

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SN_TEST_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define SN_TEST_ASAN 1
#endif

#ifdef SN_TEST_ASAN
int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void *, size_t),
					      void (*free_hook)(const volatile void *));

static void asan_malloc_hook(const volatile void *p, size_t n)
{
	(void)p;
	(void)n;
	alloc_note(__builtin_return_address(0));
}

static void asan_free_hook(const volatile void *p)
{
	(void)p;
}

static void alloc_hooks_once(void)
{
	static int done;
	if (!done)
		done = __sanitizer_install_malloc_and_free_hooks(asan_malloc_hook, asan_free_hook) ? 1 : -1;
	ck_assert_msg(done == 1, "cannot install the sanitizer's allocation hooks");
}
#else
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
extern void *__libc_memalign(size_t align, size_t n);
extern void __libc_free(void *p);

void *malloc(size_t n)
{
	alloc_note(__builtin_return_address(0));
	return __libc_malloc(n);
}

void *calloc(size_t n, size_t size)
{
	alloc_note(__builtin_return_address(0));
	return __libc_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
	alloc_note(__builtin_return_address(0));
	return __libc_realloc(p, n);
}

void free(void *p)
{
	__libc_free(p);
}

void *aligned_alloc(size_t align, size_t n)
{
	alloc_note(__builtin_return_address(0));
	return __libc_memalign(align, n);
}

int posix_memalign(void **out, size_t align, size_t n)
{
	if (align < sizeof(void *) || (align & (align - 1)) != 0)
		return 22; /* EINVAL */
	alloc_note(__builtin_return_address(0));
	void *p = __libc_memalign(align, n);
	if (!p)
		return 12; /* ENOMEM */
	*out = p;
	return 0;
}

static void alloc_hooks_once(void)
{
}
#endif

void sn_test_alloc_arm(void)
{
	alloc_hooks_once();
	__atomic_store_n(&alloc_count, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&alloc_first, NULL, __ATOMIC_RELAXED);
	__atomic_store_n(&alloc_armed, 1, __ATOMIC_SEQ_CST);
}

uint64_t sn_test_alloc_disarm(void)
{
	__atomic_store_n(&alloc_armed, 0, __ATOMIC_SEQ_CST);
	return __atomic_load_n(&alloc_count, __ATOMIC_RELAXED);
}

void *sn_test_alloc_first_caller(void)
{
	return __atomic_load_n(&alloc_first, __ATOMIC_RELAXED);
}

/* ---- JSON checking (testutil.h) ---------------------------------------- */

static const char *json_ws(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	return s;
}

static const char *json_string(const char *s)
{
	if (*s++ != '"')
		return NULL;
	while (*s != '"') {
		unsigned char ch = (unsigned char)*s;
		if (ch == '\0' || ch < 0x20)
			return NULL;
		if (ch == '\\') {
			s++;
			if (*s == 'u') {
				for (int i = 1; i <= 4; i++) {
					char h = s[i];
					if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') ||
					      (h >= 'A' && h <= 'F')))
						return NULL;
				}
				s += 4;
			} else if (!strchr("\"\\/bfnrt", *s) || *s == '\0') {
				return NULL;
			}
		}
		s++;
	}
	return s + 1;
}

static const char *json_number(const char *s)
{
	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (*s >= '1' && *s <= '9')
		while (*s >= '0' && *s <= '9')
			s++;
	else
		return NULL;
	if (*s == '.') {
		s++;
		if (!(*s >= '0' && *s <= '9'))
			return NULL;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!(*s >= '0' && *s <= '9'))
			return NULL;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return s;
}

static const char *json_value(const char *s, int depth)
{
	s = json_ws(s);
	if (depth > 64)
		return NULL;
	switch (*s) {
	case '"':
		return json_string(s);
	case '{':
	case '[': {
		char close = *s == '{' ? '}' : ']';
		s = json_ws(s + 1);
		if (*s == close)
			return s + 1;
		for (;;) {
			if (close == '}') {
				s = json_string(s);
				if (!s)
					return NULL;
				s = json_ws(s);
				if (*s++ != ':')
					return NULL;
			}
			s = json_value(s, depth + 1);
			if (!s)
				return NULL;
			s = json_ws(s);
			if (*s == close)
				return s + 1;
			if (*s++ != ',')
				return NULL;
			s = json_ws(s);
		}
	}
	case 't':
		return strncmp(s, "true", 4) == 0 ? s + 4 : NULL;
	case 'f':
		return strncmp(s, "false", 5) == 0 ? s + 5 : NULL;
	case 'n':
		return strncmp(s, "null", 4) == 0 ? s + 4 : NULL;
	default:
		return json_number(s);
	}
}

const char *sn_test_json_skip(const char *s)
{
	return json_value(s, 0);
}

/* Member `key` (len bytes, no escapes) of the object at obj. */
static const char *json_member(const char *obj, const char *key, size_t len, size_t *n)
{
	const char *found = NULL;
	const char *s = json_ws(obj);
	if (*s != '{' || !json_value(s, 0))
		return NULL;
	s = json_ws(s + 1);
	while (*s == '"') {
		const char *k = s + 1, *end = json_string(s);
		const char *v = json_ws(json_ws(end) + 1);
		const char *vend = json_value(v, 1);
		if ((size_t)(end - 1 - k) == len && memcmp(k, key, len) == 0) {
			ck_assert_msg(found == NULL, "member \"%.*s\" appears twice", (int)len, key);
			found = v;
			*n = (size_t)(vend - v);
		}
		s = json_ws(vend);
		if (*s == ',')
			s = json_ws(s + 1);
	}
	return found;
}

const char *sn_test_json_get(const char *obj, const char *path, size_t *n)
{
	const char *at = obj;
	for (;;) {
		const char *dot = strchr(path, '.');
		size_t len = dot ? (size_t)(dot - path) : strlen(path);
		at = json_member(at, path, len, n);
		if (!at || !dot)
			return at;
		path = dot + 1;
	}
}

int sn_test_json_members(const char *obj)
{
	const char *s = json_ws(obj);
	int count = 0;
	if (*s != '{' || !json_value(s, 0))
		return -1;
	s = json_ws(s + 1);
	while (*s == '"') {
		count++;
		s = json_ws(json_value(json_ws(json_ws(json_string(s)) + 1), 1));
		if (*s == ',')
			s = json_ws(s + 1);
	}
	return count;
}

void sn_test_json_line_at(const char *file, int lineno, const char *line)
{
	size_t len = strlen(line);
	const char *end = sn_test_json_skip(line);
	ck_assert_msg(line[0] == '{' && end != NULL && end == line + len - 1 && *end == '\n',
		      "%s:%d: not one JSON object on one line: %s", file, lineno, line);
}

void sn_test_json_expect_at(const char *file, int lineno, const char *line, const char *path,
			    const char *want)
{
	size_t n = 0;
	sn_test_json_line_at(file, lineno, line);
	const char *got = sn_test_json_get(line, path, &n);
	if (!want) {
		ck_assert_msg(got == NULL, "%s:%d: %s should be absent, is %.*s", file, lineno, path,
			      (int)n, got ? got : "");
		return;
	}
	ck_assert_msg(got != NULL, "%s:%d: %s missing in %s", file, lineno, path, line);
	ck_assert_msg(n == strlen(want) && memcmp(got, want, n) == 0, "%s:%d: %s is %.*s, wanted %s",
		      file, lineno, path, (int)n, got, want);
}

uint16_t sn_test_tcp_sum(const uint8_t *src, const uint8_t *dst, size_t alen, const uint8_t *seg,
			 size_t len)
{
	uint64_t sum = 6 + (len >> 16) + (len & 0xffff);
	for (size_t i = 0; i < alen; i += 2)
		sum += (unsigned)src[i] << 8 | src[i + 1], sum += (unsigned)dst[i] << 8 | dst[i + 1];
	for (size_t i = 0; i < len; i += 2)
		sum += (unsigned)seg[i] << 8 | (i + 1 < len ? seg[i + 1] : 0);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

size_t sn_test_put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return 2;
}

size_t sn_test_dns_name(uint8_t *p, const char *name)
{
	size_t n = 0;
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t len = dot ? (size_t)(dot - name) : strlen(name);
		p[n++] = (uint8_t)len;
		memcpy(p + n, name, len);
		n += len;
		name += len + (dot ? 1 : 0);
	}
	p[n++] = 0;
	return n;
}
