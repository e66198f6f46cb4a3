/*
 * dns.h - passive DNS: server names from the answers seen on the wire.
 *
 * A DNS response (a UDP payload from port 53, or one message of a TCP
 * stream from port 53 cut out by dnstcp.c) is read with the bounds-checked
 * cursor: its first question's name, then the answer section's CNAME chain from
 * that name and the A/AAAA records at the end of it.  Each address is
 * remembered as (client, address) -> the question's name until the
 * record's TTL runs out in packet time.  The cache is sized once (sets
 * of SN_DNS_WAYS slots chosen by a keyed hash: an attacker who sends
 * answers cannot choose the set); a live entry pushed out of a full set by
 * a newer answer (the one that would expire first) is counted.  Hostile
 * or cut messages are counted and skipped.
 */
#ifndef SN_DNS_H
#define SN_DNS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "keyhash.h"

#define SN_DNS_NAME 128 /* = SN_META_STR: longer names are cut and marked */
#define SN_DNS_SLOTS 4096
#define SN_DNS_WAYS 4   /* slots a (client, address) pair may take */

struct sn_dns_stats {
	uint64_t responses;   /* responses read */
	uint64_t addresses;   /* A/AAAA records remembered */
	uint64_t malformed;   /* responses that broke the format (skipped) */
	uint64_t replaced;    /* live entries pushed out by a newer answer */
};

struct sn_dns_entry {
	struct sn_addr client, addr;
	uint64_t expires_us;
	char name[SN_DNS_NAME];
};

struct sn_dns {
	struct sn_keyhash key;
	struct sn_dns_entry *slots; /* SN_DNS_SLOTS, allocated once */
	struct sn_dns_stats st;
	bool shared;                /* several threads: every call below takes lock */
	pthread_mutex_t lock;
};

int sn_dns_init(struct sn_dns *d, uint64_t seed); /* 0, or -1: out of memory */
void sn_dns_free(struct sn_dns *d);

/*
 * From now on the cache may be used by several threads (capture workers
 * that share one cache): responses, sn_dns_name_copy and sn_dns_stats
 * lock it.  Before the threads start.  0, or -1 (the lock failed).
 */
int sn_dns_share(struct sn_dns *d);

/* One DNS message from port 53 to client (a UDP payload, or a TCP message
 * without its length prefix), at packet time ts_us. */
void sn_dns_response(struct sn_dns *d, const struct sn_addr *client, const uint8_t *msg,
		     size_t len, uint64_t ts_us);

/* The name client resolved to addr and may still use at ts_us, or NULL
 * (one thread only: the pointer is into the cache). */
const char *sn_dns_name(const struct sn_dns *d, const struct sn_addr *client,
			const struct sn_addr *addr, uint64_t ts_us);

/* The same name copied into out[SN_DNS_NAME] (any thread); false when none. */
bool sn_dns_name_copy(struct sn_dns *d, const struct sn_addr *client, const struct sn_addr *addr,
		      uint64_t ts_us, char *out);

/* The counters, read under the lock when shared. */
void sn_dns_stats(struct sn_dns *d, struct sn_dns_stats *out);

#endif /* SN_DNS_H */
