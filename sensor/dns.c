/*
 * dns.c - passive DNS (see dns.h): responses read, names kept by address.
 * UDP payloads come from the worker as they are; messages over TCP come
 * from dnstcp.c, whole and from known boundaries, without their prefix.
 *
 * RFC 1035 section 4: a 12-byte header, questions, then answers of
 * (name, type, class, TTL, rdlength, rdata).  Names may point back into
 * the message (section 4.1.4); a name is read with at most SN_DNS_JUMPS
 * pointers, each strictly backwards, so a loop cannot keep the reader.
 */
#include "dns.h"

#include "../dissectors/cursor.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SN_DNS_JUMPS 16
#define SN_DNS_CHAIN 8   /* CNAME steps followed */
#define SN_DNS_ANSWERS 64 /* answer records read per response */
#define SN_US_PER_S_DNS 1000000ull

int sn_dns_init(struct sn_dns *d, uint64_t seed)
{
	memset(d, 0, sizeof *d);
	sn_keyhash_init(&d->key, seed);
	d->slots = calloc(SN_DNS_SLOTS, sizeof *d->slots);
	return d->slots ? 0 : -1;
}

void sn_dns_free(struct sn_dns *d)
{
	free(d->slots);
	d->slots = NULL;
	if (d->shared)
		pthread_mutex_destroy(&d->lock);
	d->shared = false;
}

int sn_dns_share(struct sn_dns *d)
{
	if (d->shared)
		return 0;
	if (pthread_mutex_init(&d->lock, NULL) != 0)
		return -1;
	d->shared = true;
	return 0;
}

static void lock(struct sn_dns *d)
{
	if (d->shared)
		pthread_mutex_lock(&d->lock);
}

static void unlock(struct sn_dns *d)
{
	if (d->shared)
		pthread_mutex_unlock(&d->lock);
}

/*
 * Reads the name at c (advancing c past it) into out[SN_DNS_NAME] as dotted
 * lower-case text.  False when the name breaks the format.
 */
static bool read_name(const struct sn_cursor *msg, struct sn_cursor *c, char *out)
{
	struct sn_cursor at = *c;
	size_t n = 0;
	unsigned jumps = 0;
	bool jumped = false;

	out[0] = '\0';
	for (;;) {
		uint8_t len = sn_cur_u8(&at);
		if (!sn_cur_ok(&at))
			return false;
		if ((len & 0xc0) == 0xc0) {
			size_t target = (size_t)(len & 0x3f) << 8 | sn_cur_u8(&at);
			if (!sn_cur_ok(&at) || ++jumps > SN_DNS_JUMPS || target >= at.off - 2)
				return false; /* pointers go strictly backwards */
			if (!jumped)
				*c = at;
			jumped = true;
			at = *msg;
			sn_cur_skip(&at, target);
			continue;
		}
		if (len & 0xc0)
			return false;
		if (len == 0)
			break;
		if (!sn_cur_has(&at, len))
			return false;
		for (uint8_t i = 0; i < len; i++) {
			uint8_t b = sn_cur_u8(&at);
			if (n + 2 < SN_DNS_NAME) {
				if (i == 0 && n > 0)
					out[n++] = '.';
				out[n++] = (char)(b >= 'A' && b <= 'Z' ? b + 32 : b);
			}
		}
	}
	out[n] = '\0';
	if (!jumped)
		*c = at;
	return true;
}

/* The first of the SN_DNS_WAYS slots (client, addr) may take. */
static uint32_t bucket_of(const struct sn_dns *d, const struct sn_addr *client,
			  const struct sn_addr *addr)
{
	uint64_t w[5] = { 0 };
	memcpy(&w[0], client->b, 16);
	memcpy(&w[2], addr->b, 16);
	w[4] = (uint64_t)client->family | (uint64_t)addr->family << 8;
	return (uint32_t)(sn_keyhash_words(&d->key, w, 5) % (SN_DNS_SLOTS / SN_DNS_WAYS)) *
	       SN_DNS_WAYS;
}

static bool addr_eq(const struct sn_addr *a, const struct sn_addr *b)
{
	return a->family == b->family && memcmp(a->b, b->b, sizeof a->b) == 0;
}

/*
 * The pair's own slot when it has one, else an expired one, else the live
 * entry that would expire first (counted: the cache's bound).
 */
static void remember(struct sn_dns *d, const struct sn_addr *client, const struct sn_addr *addr,
		     const char *name, uint32_t ttl, uint64_t ts_us)
{
	struct sn_dns_entry *set = &d->slots[bucket_of(d, client, addr)], *e = NULL;

	for (uint32_t i = 0; i < SN_DNS_WAYS && !e; i++)
		if (addr_eq(&set[i].client, client) && addr_eq(&set[i].addr, addr))
			e = &set[i];
	for (uint32_t i = 0; i < SN_DNS_WAYS && !e; i++)
		if (set[i].expires_us <= ts_us)
			e = &set[i];
	if (!e) {
		e = &set[0];
		for (uint32_t i = 1; i < SN_DNS_WAYS; i++)
			if (set[i].expires_us < e->expires_us)
				e = &set[i];
		d->st.replaced++;
	}
	e->client = *client;
	e->addr = *addr;
	e->expires_us = ts_us + (uint64_t)ttl * SN_US_PER_S_DNS;
	memcpy(e->name, name, SN_DNS_NAME);
	d->st.addresses++;
}

static void read_response(struct sn_dns *d, const struct sn_addr *client, const uint8_t *bytes,
			  size_t len, uint64_t ts_us)
{
	struct sn_cursor msg = sn_cur_make(bytes, len), c = msg;
	char qname[SN_DNS_NAME], owner[SN_DNS_NAME];
	char chain[SN_DNS_CHAIN][SN_DNS_NAME];
	size_t n_chain = 1;

	sn_cur_skip(&c, 2);
	uint16_t flags = sn_cur_be16(&c);
	uint16_t qd = sn_cur_be16(&c), an = sn_cur_be16(&c);
	sn_cur_skip(&c, 4);
	if (!sn_cur_ok(&c) || !(flags & 0x8000) || (flags & 0x000f) != 0 || qd != 1)
		return; /* not a successful response to one question */
	d->st.responses++;
	if (!read_name(&msg, &c, qname) || !sn_cur_skip(&c, 4) || qname[0] == '\0') {
		d->st.malformed++;
		return;
	}
	memcpy(chain[0], qname, SN_DNS_NAME);
	for (uint16_t i = 0; i < an && i < SN_DNS_ANSWERS; i++) {
		if (!read_name(&msg, &c, owner)) {
			d->st.malformed++;
			return;
		}
		uint16_t type = sn_cur_be16(&c), klass = sn_cur_be16(&c);
		uint32_t ttl = sn_cur_be32(&c);
		uint16_t rdlen = sn_cur_be16(&c);
		struct sn_cursor rd = sn_cur_sub(&c, rdlen);
		if (!sn_cur_ok(&c)) {
			d->st.malformed++;
			return;
		}
		bool in_chain = false;
		for (size_t k = 0; k < n_chain && !in_chain; k++)
			in_chain = strcmp(chain[k], owner) == 0;
		if (klass != 1 || !in_chain)
			continue;
		if (type == 5 && n_chain < SN_DNS_CHAIN) { /* CNAME: the chain goes on */
			struct sn_cursor at = rd;
			at.len = msg.len; /* a CNAME's name may point anywhere before it */
			at.p = msg.p;
			at.off = c.off - rdlen;
			if (read_name(&msg, &at, chain[n_chain]))
				n_chain++;
		} else if ((type == 1 && rdlen == 4) || (type == 28 && rdlen == 16)) {
			struct sn_addr a;
			memset(&a, 0, sizeof a);
			a.family = type == 1 ? 4 : 6;
			sn_cur_copy(&rd, a.b, rdlen);
			remember(d, client, &a, qname, ttl, ts_us);
		}
	}
}

void sn_dns_response(struct sn_dns *d, const struct sn_addr *client, const uint8_t *bytes,
		     size_t len, uint64_t ts_us)
{
	lock(d);
	read_response(d, client, bytes, len, ts_us);
	unlock(d);
}

const char *sn_dns_name(const struct sn_dns *d, const struct sn_addr *client,
			const struct sn_addr *addr, uint64_t ts_us)
{
	if (!d->slots)
		return NULL;
	const struct sn_dns_entry *set = &d->slots[bucket_of(d, client, addr)];
	for (uint32_t i = 0; i < SN_DNS_WAYS; i++)
		if (set[i].expires_us > ts_us && addr_eq(&set[i].client, client) &&
		    addr_eq(&set[i].addr, addr))
			return set[i].name;
	return NULL;
}

bool sn_dns_name_copy(struct sn_dns *d, const struct sn_addr *client, const struct sn_addr *addr,
		      uint64_t ts_us, char *out)
{
	lock(d);
	const char *name = sn_dns_name(d, client, addr, ts_us);
	if (name)
		memcpy(out, name, SN_DNS_NAME);
	unlock(d);
	return name != NULL;
}

void sn_dns_stats(struct sn_dns *d, struct sn_dns_stats *out)
{
	lock(d);
	*out = d->st;
	unlock(d);
}
