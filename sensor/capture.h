/*
 * capture.h - opening offline capture files and live devices with libpcap.
 *
 * Errors a user can hit come back as one sentence naming the cause and the
 * fix, ready to print after "pubsub-sensor: ".
 */
#ifndef SN_CAPTURE_H
#define SN_CAPTURE_H

#include <pcap/pcap.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SN_CAPTURE_ERRLEN 512

struct sn_live_options {
	const char *interface;
	const char *filter;      /* "" = none */
	uint32_t snaplen;
	uint32_t buffer_mib;
	bool promiscuous;
	int fanout_group;        /* >0: join PACKET_FANOUT group (hash, defrag) */
};

/* Opens a classic pcap or pcapng file ("-" = standard input). NULL + err. */
pcap_t *sn_capture_open_file(const char *path, char err[SN_CAPTURE_ERRLEN]);
/* Opens a live device, non-blocking, with the options.  NULL + err. */
pcap_t *sn_capture_open_live(const struct sn_live_options *o, char err[SN_CAPTURE_ERRLEN]);
/* Checks the handle's link type; false + err naming it when unsupported. */
bool sn_capture_check_linktype(pcap_t *p, const char *source, char err[SN_CAPTURE_ERRLEN]);

#endif /* SN_CAPTURE_H */
