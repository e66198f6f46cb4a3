/*
 * fuzz_replay.c - libFuzzer target for the whole offline pipeline.
 *
 * The input is a capture file.  It is opened from memory with libpcap and
 * driven through the same steps as sensor/replay.c: decode, flow table,
 * dissectors, rules, groups and events (flow events on, written to
 * /dev/null so that formatting and the event log both run), then the end
 * of input flush and the final stats event.  Tables are small so that each
 * input is cheap and eviction paths are reached.
 */
#include <pcap/pcap.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "pipeline.h"

#define SN_FUZZ_MAX_PACKETS 4096

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sn_config cfg;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	sn_config_defaults(&cfg);
	snprintf(cfg.sensor_name, sizeof cfg.sensor_name, "fuzz");
	cfg.tables.max_flows = 256;
	cfg.tables.max_groups = 64;
	cfg.tables.classify_buffers = 16;
	cfg.tables.message_timing_flows = 4; /* timed MQTT connections, and a pool that runs out */
	cfg.rules.min_connections = 1;
	cfg.rules.min_suspicion = SN_SUSP_LOW;
	cfg.output.flows = true;
	return 0;
}

static void run(pcap_t *p, struct sn_worker *w, struct sn_aggregator *ag)
{
	struct pcap_pkthdr *h;
	const u_char *frame;
	struct sn_worker_counts counts;
	for (int n = 0; n < SN_FUZZ_MAX_PACKETS && pcap_next_ex(p, &h, &frame) == 1; n++) {
		sn_worker_packet(w, frame, h->caplen, h->len, sn_capture_time_us(h));
		sn_aggregator_tick(ag, sn_worker_now(w));
	}
	uint64_t end = sn_worker_now(w);
	sn_worker_flush(w, end, SN_CLOSE_END_OF_INPUT);
	sn_aggregator_tick(ag, end);
	uint64_t last = sn_aggregator_now(ag) > end ? sn_aggregator_now(ag) : end;
	sn_aggregator_flush(ag, last);
	sn_worker_counts(w, &counts);
	sn_aggregator_write_stats(ag, &counts, NULL, last);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	FILE *f = fmemopen((void *)(uintptr_t)data, size, "rb");
	if (!f)
		return 0;
	pcap_t *p = pcap_fopen_offline(f, errbuf); /* owns f from here */
	if (!p) {
		fclose(f);
		return 0;
	}
	if (!sn_decode_linktype_supported(pcap_datalink(p))) {
		pcap_close(p);
		return 0;
	}
	char err[512];
	struct sn_aggregator *ag = sn_aggregator_create(&cfg, "/dev/null", false, err, sizeof err);
	if (!ag)
		abort();
	struct sn_worker *w =
		sn_worker_create(&cfg, pcap_datalink(p), sn_aggregator_report, ag, 0x5eed);
	if (!w)
		abort();
	run(p, w, ag);
	sn_worker_destroy(w);
	sn_aggregator_destroy(ag);
	pcap_close(p);
	return 0;
}
