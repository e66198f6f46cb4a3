/*
 * attribution.c - the local process behind a connection (see attribution.h).
 *
 * Owns the helper thread, its request queue and answer table, the netlink
 * sock_diag query and the /proc scan.  Nothing here reads packets: callers
 * hand in addresses and ports.  The answer table is direct-mapped by a
 * keyed hash of the 4-tuple (a later connection takes the slot); the
 * request queue is a small ring, and a request that does not fit is
 * counted and looked up late, by the aggregator's own sn_attr_get.
 */
#include "attribution.h"

#include "keyhash.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SN_ATTR_SLOTS 1024
#define SN_ATTR_QUEUE 64
#define SN_ATTR_INODES 256
#define SN_ATTR_MAX_PROCS 32768 /* processes looked at per scan, at most */

enum slot_state { SLOT_FREE = 0, SLOT_PENDING, SLOT_DONE, SLOT_MISS };

struct tuple {
	struct sn_addr client, server;
	uint16_t cport, sport;
};

struct slot {
	enum slot_state state;
	bool retried;              /* a miss was looked up once more, at the report */
	struct tuple key;
	struct sn_attr_result res;
};

struct sn_attr {
	pthread_t thread;
	bool thread_started;
	pthread_mutex_t mu;
	pthread_cond_t work, done;
	bool stop;
	uint32_t budget_ms;
	struct sn_keyhash hkey;
	struct slot slots[SN_ATTR_SLOTS];
	uint32_t queue[SN_ATTR_QUEUE];
	uint32_t q_head, q_len;
	struct {
		uint64_t inode;
		uint32_t pid;
	} inodes[SN_ATTR_INODES]; /* helper thread only */
	struct sn_attr_stats st;
};

/* --- time ------------------------------------------------------------ */

static uint64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* --- sock_diag ------------------------------------------------------- */

/* Address words for inet_diag_sockid: family 4 in word 0, 6 in all four. */
static void put_addr(__be32 *dst, const struct sn_addr *a, bool as_v6)
{
	memset(dst, 0, 16);
	if (a->family == 4 && as_v6) {
		uint8_t m[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
		memcpy(m + 12, a->b, 4);
		memcpy(dst, m, 16);
	} else if (a->family == 4) {
		memcpy(dst, a->b, 4);
	} else {
		memcpy(dst, a->b, 16);
	}
}

/* One exact INET_DIAG lookup; the socket's inode (0: none) and uid. */
static uint64_t diag_query(int fd, const struct tuple *t, bool as_v6, uint32_t *uid)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
	} msg;
	union {
		struct nlmsghdr nlh;
		char buf[1024];
	} reply;

	memset(&msg, 0, sizeof msg);
	msg.nlh.nlmsg_len = sizeof msg;
	msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	msg.nlh.nlmsg_flags = NLM_F_REQUEST;
	msg.nlh.nlmsg_seq = 1;
	msg.req.sdiag_family = (uint8_t)(as_v6 || t->client.family == 6 ? AF_INET6 : AF_INET);
	msg.req.sdiag_protocol = IPPROTO_TCP;
	msg.req.idiag_states = ~0u;
	msg.req.id.idiag_sport = htons(t->cport);
	msg.req.id.idiag_dport = htons(t->sport);
	put_addr(msg.req.id.idiag_src, &t->client, as_v6);
	put_addr(msg.req.id.idiag_dst, &t->server, as_v6);
	msg.req.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
	msg.req.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	if (sendto(fd, &msg, sizeof msg, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0)
		return 0;
	ssize_t n = recv(fd, &reply, sizeof reply, 0);
	if (n < (ssize_t)sizeof(struct nlmsghdr))
		return 0;
	struct nlmsghdr *h = &reply.nlh;
	if (!NLMSG_OK(h, (size_t)n) || h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
	    h->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg)))
		return 0;
	struct inet_diag_msg d;
	memcpy(&d, NLMSG_DATA(h), sizeof d);
	*uid = d.idiag_uid;
	return d.idiag_inode;
}

static uint64_t socket_inode(const struct tuple *t, uint32_t *uid)
{
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return 0;
	struct timeval tv = { .tv_sec = 0, .tv_usec = 100000 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	uint64_t inode = diag_query(fd, t, false, uid);
	if (inode == 0 && t->client.family == 4)
		inode = diag_query(fd, t, true, uid); /* a dual-stack IPv6 socket */
	close(fd);
	return inode;
}

/* --- /proc ----------------------------------------------------------- */

/* True when process pid holds "socket:[inode]" among its descriptors. */
static bool holds_inode(const char *pid, const char *want)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%.16s/fd", pid);
	DIR *d = opendir(path);
	if (!d)
		return false;
	bool found = false;
	struct dirent *e;
	while (!found && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char link[64], target[64];
		snprintf(link, sizeof link, "/proc/%.16s/fd/%.16s", pid, e->d_name);
		ssize_t n = readlink(link, target, sizeof target - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		found = strcmp(target, want) == 0;
	}
	closedir(d);
	return found;
}

enum scan_result { SCAN_FOUND, SCAN_NONE, SCAN_BUDGET };

static int by_pid_desc(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
	return a < b ? 1 : a > b ? -1 : 0;
}

/*
 * Walks /proc for the process holding the inode, newest (highest) pid
 * first: a short-lived client was forked just before it connected, so it
 * is found before it exits.
 */
static enum scan_result scan_proc(uint64_t inode, uint64_t deadline_us, uint32_t *pid_out)
{
	static _Thread_local uint32_t pids[SN_ATTR_MAX_PROCS];
	char want[40], name[16];
	size_t n = 0;

	snprintf(want, sizeof want, "socket:[%llu]", (unsigned long long)inode);
	DIR *d = opendir("/proc");
	if (!d)
		return SCAN_NONE;
	struct dirent *e;
	while (n < SN_ATTR_MAX_PROCS && (e = readdir(d)) != NULL)
		if (e->d_name[0] >= '1' && e->d_name[0] <= '9')
			pids[n++] = (uint32_t)strtoul(e->d_name, NULL, 10);
	closedir(d);
	qsort(pids, n, sizeof pids[0], by_pid_desc);
	for (size_t i = 0; i < n; i++) {
		if (mono_us() > deadline_us)
			return SCAN_BUDGET;
		snprintf(name, sizeof name, "%u", pids[i]);
		if (holds_inode(name, want)) {
			*pid_out = pids[i];
			return SCAN_FOUND;
		}
	}
	return SCAN_NONE;
}

static void read_small(const char *path, char *out, size_t cap)
{
	out[0] = '\0';
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t n = read(fd, out, cap - 1);
	close(fd);
	if (n <= 0) {
		out[0] = '\0';
		return;
	}
	out[n] = '\0';
	out[strcspn(out, "\n")] = '\0';
}

static bool describe(uint32_t pid, uint32_t uid, struct sn_attr_result *out)
{
	char path[64];
	memset(out, 0, sizeof *out);
	out->pid = pid;
	out->uid = uid;
	snprintf(path, sizeof path, "/proc/%u/comm", pid);
	read_small(path, out->comm, sizeof out->comm);
	if (out->comm[0] == '\0')
		return false; /* gone */
	snprintf(path, sizeof path, "/proc/%u/exe", pid);
	ssize_t n = readlink(path, out->exe, sizeof out->exe - 1);
	out->exe[n > 0 ? n : 0] = '\0';
	struct passwd pw, *res = NULL;
	char buf[1024];
	if (getpwuid_r(uid, &pw, buf, sizeof buf, &res) == 0 && res)
		snprintf(out->user, sizeof out->user, "%s", res->pw_name);
	else
		snprintf(out->user, sizeof out->user, "%u", uid);
	return true;
}

/* The whole lookup.  0: found; otherwise which miss (the stats field's address). */
static uint64_t *lookup(struct sn_attr *a, const struct tuple *t, uint32_t budget_ms,
			struct sn_attr_result *out, uint64_t *cache_hit)
{
	static uint64_t dummy;
	uint64_t deadline = mono_us() + (uint64_t)budget_ms * 1000u;
	uint32_t uid = 0, pid = 0;
	uint64_t inode = socket_inode(t, &uid);

	if (inode == 0)
		return a ? &a->st.miss_socket : &dummy;
	if (a) {
		size_t i = inode % SN_ATTR_INODES;
		if (a->inodes[i].inode == inode && describe(a->inodes[i].pid, uid, out)) {
			(*cache_hit)++;
			return NULL;
		}
	}
	enum scan_result r = scan_proc(inode, deadline, &pid);
	if (r == SCAN_BUDGET)
		return a ? &a->st.miss_budget : &dummy;
	if (r != SCAN_FOUND || !describe(pid, uid, out))
		return a ? &a->st.miss_process : &dummy;
	if (a) {
		size_t i = inode % SN_ATTR_INODES;
		a->inodes[i].inode = inode;
		a->inodes[i].pid = pid;
	}
	return NULL;
}

bool sn_attr_lookup_now(const struct sn_addr *client, uint16_t cport, const struct sn_addr *server,
			uint16_t sport, uint32_t budget_ms, struct sn_attr_result *out)
{
	struct tuple t = { .client = *client, .server = *server, .cport = cport, .sport = sport };
	uint64_t hits = 0;
	return lookup(NULL, &t, budget_ms, out, &hits) == NULL;
}

/* --- the table and the thread ----------------------------------------- */

static bool tuple_eq(const struct tuple *x, const struct tuple *y)
{
	return x->cport == y->cport && x->sport == y->sport &&
	       x->client.family == y->client.family && x->server.family == y->server.family &&
	       memcmp(x->client.b, y->client.b, 16) == 0 && memcmp(x->server.b, y->server.b, 16) == 0;
}

static uint32_t slot_of(const struct sn_attr *a, const struct tuple *t)
{
	uint64_t w[5] = { 0 };
	memcpy(&w[0], t->client.b, 16);
	memcpy(&w[2], t->server.b, 16);
	w[4] = (uint64_t)t->cport | (uint64_t)t->sport << 16 | (uint64_t)t->client.family << 32 |
	       (uint64_t)t->server.family << 40;
	return (uint32_t)(sn_keyhash_words(&a->hkey, w, 5) % SN_ATTR_SLOTS);
}

static void *helper(void *arg)
{
	struct sn_attr *a = arg;

	pthread_mutex_lock(&a->mu);
	for (;;) {
		while (!a->stop && a->q_len == 0)
			pthread_cond_wait(&a->work, &a->mu);
		if (a->stop)
			break;
		uint32_t idx = a->queue[a->q_head];
		a->q_head = (a->q_head + 1) % SN_ATTR_QUEUE;
		a->q_len--;
		struct tuple t = a->slots[idx].key;
		uint32_t budget = a->budget_ms;
		pthread_mutex_unlock(&a->mu);

		struct sn_attr_result res;
		uint64_t hits = 0;
		uint64_t *miss = lookup(a, &t, budget, &res, &hits);

		pthread_mutex_lock(&a->mu);
		a->st.inode_cache_hits += hits;
		if (miss)
			(*miss)++;
		else
			a->st.found++;
		struct slot *s = &a->slots[idx];
		if (s->state == SLOT_PENDING && tuple_eq(&s->key, &t)) {
			s->state = miss ? SLOT_MISS : SLOT_DONE;
			if (!miss)
				s->res = res;
		}
		pthread_cond_broadcast(&a->done);
	}
	pthread_mutex_unlock(&a->mu);
	return NULL;
}

struct sn_attr *sn_attr_create(uint32_t budget_ms, uint64_t seed)
{
	struct sn_attr *a = calloc(1, sizeof *a);
	if (!a)
		return NULL;
	a->budget_ms = budget_ms ? budget_ms : 1;
	sn_keyhash_init(&a->hkey, seed);
	pthread_mutex_init(&a->mu, NULL);
	pthread_cond_init(&a->work, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&a->done, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&a->thread, NULL, helper, a) != 0) {
		sn_attr_destroy(a);
		return NULL;
	}
	a->thread_started = true;
	return a;
}

void sn_attr_destroy(struct sn_attr *a)
{
	if (!a)
		return;
	if (a->thread_started) {
		pthread_mutex_lock(&a->mu);
		a->stop = true;
		pthread_cond_signal(&a->work);
		pthread_mutex_unlock(&a->mu);
		pthread_join(a->thread, NULL);
	}
	pthread_cond_destroy(&a->work);
	pthread_cond_destroy(&a->done);
	pthread_mutex_destroy(&a->mu);
	free(a);
}

/*
 * Under the lock: (re)start the lookup of t in its slot; false when the
 * queue is full.  retry: a miss of the same connection is looked up once
 * more (the report comes later than the SYN; a lookup at the SYN can miss
 * a socket that is still being set up).
 */
static bool ask(struct sn_attr *a, const struct tuple *t, uint32_t idx, bool retry)
{
	struct slot *s = &a->slots[idx];
	bool same = s->state != SLOT_FREE && tuple_eq(&s->key, t);
	if (same && !(retry && s->state == SLOT_MISS && !s->retried))
		return true; /* asked already */
	if (a->q_len == SN_ATTR_QUEUE) {
		a->st.queue_full++;
		return false;
	}
	s->retried = same;
	s->state = SLOT_PENDING;
	s->key = *t;
	a->queue[(a->q_head + a->q_len) % SN_ATTR_QUEUE] = idx;
	a->q_len++;
	a->st.requests++;
	pthread_cond_signal(&a->work);
	return true;
}

void sn_attr_request(struct sn_attr *a, const struct sn_addr *client, uint16_t cport,
		     const struct sn_addr *server, uint16_t sport)
{
	struct tuple t = { .client = *client, .server = *server, .cport = cport, .sport = sport };
	uint32_t idx = slot_of(a, &t);

	pthread_mutex_lock(&a->mu);
	ask(a, &t, idx, false);
	pthread_mutex_unlock(&a->mu);
}

bool sn_attr_get(struct sn_attr *a, const struct sn_addr *client, uint16_t cport,
		 const struct sn_addr *server, uint16_t sport, struct sn_attr_result *out)
{
	struct tuple t = { .client = *client, .server = *server, .cport = cport, .sport = sport };
	uint32_t idx = slot_of(a, &t);
	struct slot *s = &a->slots[idx];
	bool ok = false;
	struct timespec until;

	clock_gettime(CLOCK_MONOTONIC, &until);
	uint64_t ns = (uint64_t)until.tv_nsec + (uint64_t)a->budget_ms * 1000000u;
	until.tv_sec += (time_t)(ns / 1000000000u);
	until.tv_nsec = (long)(ns % 1000000000u);

	pthread_mutex_lock(&a->mu);
	if (ask(a, &t, idx, true)) {
		while (s->state == SLOT_PENDING && tuple_eq(&s->key, &t))
			if (pthread_cond_timedwait(&a->done, &a->mu, &until) == ETIMEDOUT)
				break;
		if (tuple_eq(&s->key, &t) && s->state == SLOT_DONE) {
			*out = s->res;
			ok = true;
		} else if (tuple_eq(&s->key, &t) && s->state == SLOT_PENDING) {
			a->st.miss_late++;
		}
	}
	pthread_mutex_unlock(&a->mu);
	return ok;
}

void sn_attr_stats(struct sn_attr *a, struct sn_attr_stats *out)
{
	pthread_mutex_lock(&a->mu);
	*out = a->st;
	pthread_mutex_unlock(&a->mu);
}
