/*
 * attribution.h - which local process owns a pub/sub connection.
 *
 * When the sensor captures on the host where the client runs, the socket
 * behind a connection is found with netlink sock_diag (INET_DIAG, exact
 * lookup by the 4-tuple, IPv4 and IPv6, also a v4-mapped IPv6 socket) and
 * the process holding that socket inode by a scan of /proc/PID/fd, newest
 * process first.  Lookups run in a helper thread:
 * capture workers only ask (sn_attr_request, at a connection's first SYN,
 * before a short-lived client can exit), the aggregator collects the
 * answer when the connection is reported (sn_attr_get, waiting at most the
 * per-lookup budget).  The table of answers is bounded (keyed hash of the
 * 4-tuple, direct-mapped), inode -> process answers are cached, and every
 * miss is counted.  Reading other users' /proc/PID/fd needs CAP_SYS_PTRACE.
 */
#ifndef SN_ATTRIBUTION_H
#define SN_ATTRIBUTION_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"

struct sn_attr_result {
	uint32_t pid;
	uint32_t uid;
	char comm[64];   /* /proc/PID/comm */
	char exe[128];   /* /proc/PID/exe, "" when unreadable */
	char user[64];   /* the uid's name, or the number */
};

struct sn_attr_stats {
	uint64_t requests;        /* lookups asked for */
	uint64_t found;           /* a process was named */
	uint64_t miss_socket;     /* sock_diag knew no live socket (closed, not local) */
	uint64_t miss_process;    /* no process held the inode (or it could not be read) */
	uint64_t miss_budget;     /* the /proc scan ran out of its time budget */
	uint64_t miss_late;       /* the answer was not ready within the wait */
	uint64_t queue_full;      /* a request was dropped: the helper was behind */
	uint64_t inode_cache_hits;
};

struct sn_attr;

/* budget_ms: the longest one lookup's /proc scan and the aggregator's wait. */
struct sn_attr *sn_attr_create(uint32_t budget_ms, uint64_t seed);
void sn_attr_destroy(struct sn_attr *a);

/* A capture worker saw a connection open (client -> server): start looking. */
void sn_attr_request(struct sn_attr *a, const struct sn_addr *client, uint16_t cport,
		     const struct sn_addr *server, uint16_t sport);

/* The answer for a connection (asked for now if it never was); false: unknown. */
bool sn_attr_get(struct sn_attr *a, const struct sn_addr *client, uint16_t cport,
		 const struct sn_addr *server, uint16_t sport, struct sn_attr_result *out);

void sn_attr_stats(struct sn_attr *a, struct sn_attr_stats *out);

/* One synchronous lookup, without the thread or tables (tests). */
bool sn_attr_lookup_now(const struct sn_addr *client, uint16_t cport, const struct sn_addr *server,
			uint16_t sport, uint32_t budget_ms, struct sn_attr_result *out);

#endif /* SN_ATTRIBUTION_H */
