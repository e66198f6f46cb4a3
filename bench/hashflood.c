/*
 * hashflood.c - `make bench`: the cost of hash flooding the aggregator.
 *
 * Builds 100,000 groups (and 100,000 replay-table rows) from sources whose
 * unkeyed FNV-1a hashes - the hash both tables used before they were keyed
 * - share the low bits that pick a bucket, and 100,000 from ordinary
 * sources, in alternating rounds, and prints the ratio of the best times
 * and of the probes.  Exits 1 when crafted keys cost more than twice
 * ordinary ones.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "groups.h"
#include "table.h"
#include "testutil.h"

#define N 100000u
#define ROUNDS 3

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct sn_conn_report report(void)
{
	struct sn_conn_report r;

	memset(&r, 0, sizeof r);
	r.kind = SN_REPORT_OPEN;
	r.ts_us = r.first_us = r.last_us = 1700000000000000ull;
	r.client.family = 6;
	sn_addr_parse("203.0.113.7", &r.server);
	r.client_port = 40000;
	r.server_port = 1883;
	r.proto = r.port_proto = SN_PROTO_MQTT;
	r.evidence = SN_EVIDENCE_PAYLOAD;
	r.meta.proto = SN_PROTO_MQTT;
	return r;
}

static double groups_run(const struct sn_rules *rules, uint8_t (*src)[16], uint64_t *probes)
{
	struct sn_groups_config gc = { .max_groups = N, .group_window_s = 300,
				       .update_interval_s = 60, .seed = 0x5eed };
	struct sn_groups *g = sn_groups_create(&gc, rules, NULL);
	struct sn_conn_report r = report();
	struct sn_groups_stats st;

	if (!g)
		exit(2);
	double t0 = now_s();
	for (uint32_t i = 0; i < N; i++) {
		memcpy(r.client.b, src[i], 16);
		sn_groups_report(g, &r);
	}
	double t = now_s() - t0;
	sn_groups_stats(g, &st);
	*probes = st.probes;
	sn_groups_destroy(g);
	return t;
}

static double table_run(uint8_t (*src)[16], uint64_t *longest)
{
	static struct sn_group g;
	struct sn_table t;

	sn_table_init(&t, N, 0x5eed);
	g.src.family = 6;
	sn_addr_parse("203.0.113.7", &g.dst);
	g.dest_port = 1883;
	g.proto = SN_PROTO_MQTT;
	double t0 = now_s();
	for (uint32_t i = 0; i < N; i++) {
		memcpy(g.src.b, src[i], 16);
		sn_table_record(&t, &g);
	}
	double secs = now_s() - t0;
	*longest = t.longest_probe;
	sn_table_free(&t);
	return secs;
}

int main(void)
{
	static struct sn_config cfg;
	static struct sn_rules rules;
	uint8_t (*crafted)[16] = calloc(N, 16), (*crafted_t)[16] = calloc(N, 16);
	uint8_t (*plain)[16] = calloc(N, 16);
	uint8_t fam = 6;
	char err[256];
	double best[4] = { 1e9, 1e9, 1e9, 1e9 };
	uint64_t probes[4] = { 0 };

	sn_config_defaults(&cfg);
	if (!crafted || !crafted_t || !plain || sn_rules_init(&rules, &cfg, err, sizeof err) != 0)
		return 2;
	/* groups: 131,072 buckets (17 bits) after the family byte; table: up to 2^18 slots */
	sn_test_fnv_flood(sn_test_fnv(2166136261u, &fam, 1), 17, crafted, N);
	sn_test_fnv_flood(2166136261u, 18, crafted_t, N);
	for (uint32_t i = 0; i < N; i++) {
		uint32_t x = i * 2654435761u;
		plain[i][0] = 0x20;
		plain[i][1] = 0x01;
		memcpy(plain[i] + 12, &x, 4);
	}
	for (int round = 0; round < ROUNDS; round++) {
		double t;
		if ((t = groups_run(&rules, plain, &probes[0])) < best[0])
			best[0] = t;
		if ((t = groups_run(&rules, crafted, &probes[1])) < best[1])
			best[1] = t;
		if ((t = table_run(plain, &probes[2])) < best[2])
			best[2] = t;
		if ((t = table_run(crafted_t, &probes[3])) < best[3])
			best[3] = t;
	}
	double rg = best[1] / best[0], rt = best[3] / best[2];
	printf("hash flood, groups: %u crafted %.3f s, %u ordinary %.3f s: ratio %.2f "
	       "(probes %llu vs %llu)\n", N, best[1], N, best[0], rg,
	       (unsigned long long)probes[1], (unsigned long long)probes[0]);
	printf("hash flood, replay table: crafted %.3f s, ordinary %.3f s: ratio %.2f "
	       "(longest probe %llu vs %llu)\n", best[3], best[2], rt,
	       (unsigned long long)probes[3], (unsigned long long)probes[2]);
	sn_rules_free(&rules);
	free(crafted);
	free(crafted_t);
	free(plain);
	return rg <= 2.0 && rt <= 2.0 ? 0 : 1;
}
