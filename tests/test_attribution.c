/*
 * test_attribution.c - sensor/attribution.c: a real TCP connection inside
 * the test process (IPv4 and IPv6 loopback) is traced to this process
 * (pid, comm, user) by sock_diag and the /proc scan, synchronously and
 * through the helper thread; a 4-tuple with no socket is a counted miss.
 */
#include <check.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "attribution.h"

struct pair {
	int listener, client, server;
	struct sn_addr caddr, saddr;
	uint16_t cport, sport;
};

/* A connected pair on loopback; false when the family is unavailable. */
static bool connect_pair(int family, struct pair *p)
{
	struct sockaddr_storage ss;
	socklen_t len;

	memset(p, 0, sizeof *p);
	memset(&ss, 0, sizeof ss);
	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof *a;
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_loopback;
		len = sizeof *a;
	}
	p->listener = socket(family, SOCK_STREAM, 0);
	if (p->listener < 0 || bind(p->listener, (struct sockaddr *)&ss, len) != 0 ||
	    listen(p->listener, 1) != 0)
		return false;
	socklen_t l = sizeof ss;
	getsockname(p->listener, (struct sockaddr *)&ss, &l);
	p->client = socket(family, SOCK_STREAM, 0);
	ck_assert_int_eq(connect(p->client, (struct sockaddr *)&ss, l), 0);
	p->server = accept(p->listener, NULL, NULL);
	ck_assert_int_ge(p->server, 0);
	struct sockaddr_storage c;
	socklen_t cl = sizeof c;
	getsockname(p->client, (struct sockaddr *)&c, &cl);
	if (family == AF_INET) {
		p->caddr.family = p->saddr.family = 4;
		memcpy(p->caddr.b, &((struct sockaddr_in *)&c)->sin_addr, 4);
		memcpy(p->saddr.b, &((struct sockaddr_in *)&ss)->sin_addr, 4);
		p->cport = ntohs(((struct sockaddr_in *)&c)->sin_port);
		p->sport = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	} else {
		p->caddr.family = p->saddr.family = 6;
		memcpy(p->caddr.b, &((struct sockaddr_in6 *)&c)->sin6_addr, 16);
		memcpy(p->saddr.b, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
		p->cport = ntohs(((struct sockaddr_in6 *)&c)->sin6_port);
		p->sport = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	}
	return true;
}

static void close_pair(struct pair *p)
{
	close(p->client);
	close(p->server);
	close(p->listener);
}

static void own_comm(char *out, size_t cap)
{
	FILE *f = fopen("/proc/self/comm", "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(out, (int)cap, f));
	fclose(f);
	out[strcspn(out, "\n")] = '\0';
}

static void check_family(int family)
{
	struct pair p;
	struct sn_attr_result r;
	char comm[64];

	if (!connect_pair(family, &p))
		return; /* no IPv6 loopback here */
	own_comm(comm, sizeof comm);
	ck_assert(sn_attr_lookup_now(&p.caddr, p.cport, &p.saddr, p.sport, 1000, &r));
	ck_assert_uint_eq(r.pid, (uint32_t)getpid());
	ck_assert_str_eq(r.comm, comm);
	ck_assert_uint_eq(r.uid, (uint32_t)getuid());
	ck_assert(r.user[0] != '\0');
	ck_assert(r.exe[0] == '/');
	close_pair(&p);
}

START_TEST(test_ipv4)
{
	check_family(AF_INET);
}
END_TEST

START_TEST(test_ipv6)
{
	check_family(AF_INET6);
}
END_TEST

START_TEST(test_thread_and_miss)
{
	struct pair p;
	struct sn_attr_result r;
	struct sn_attr_stats st;
	struct sn_attr *a = sn_attr_create(1000, 7);

	ck_assert_ptr_nonnull(a);
	ck_assert(connect_pair(AF_INET, &p));
	sn_attr_request(a, &p.caddr, p.cport, &p.saddr, p.sport);
	ck_assert(sn_attr_get(a, &p.caddr, p.cport, &p.saddr, p.sport, &r));
	ck_assert_uint_eq(r.pid, (uint32_t)getpid());
	/* a port nobody uses: no socket */
	ck_assert(!sn_attr_get(a, &p.caddr, 1, &p.saddr, 2, &r));
	sn_attr_stats(a, &st);
	ck_assert_uint_eq(st.found, 1);
	ck_assert_uint_eq(st.miss_socket, 1);
	ck_assert_uint_eq(st.requests, 2);
	close_pair(&p);
	sn_attr_destroy(a);
}
END_TEST

Suite *attribution_suite(void);

Suite *attribution_suite(void)
{
	Suite *s = suite_create("attribution");
	TCase *t = tcase_create("attribution");

	tcase_add_test(t, test_ipv4);
	tcase_add_test(t, test_ipv6);
	tcase_add_test(t, test_thread_and_miss);
	suite_add_tcase(s, t);
	return s;
}
