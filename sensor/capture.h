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

#include "clock.h"
#include "config.h"
#include "pcapread.h"

#define SN_CAPTURE_ERRLEN 512

struct sn_live_options {
	const char *interface;
	const char *filter;      /* "" = none */
	uint32_t snaplen;
	uint32_t buffer_mib;
	bool promiscuous;
	int fanout_group;        /* >0: join PACKET_FANOUT group (hash, defrag) */
	bool immediate;          /* each packet at once instead of in TPACKET_V3 blocks */
};

/* Opens a classic pcap or pcapng file ("-" = standard input). NULL + err. */
pcap_t *sn_capture_open_file(const char *path, char err[SN_CAPTURE_ERRLEN]);

/*
 * The same, read through a SN_CAPTURE_READ_BUFFER-byte stdio buffer: libpcap
 * reads a file with fread, and the default buffer (the file system's block
 * size, often 4 KiB) costs one read(2) per block, a large share of an
 * offline replay.  The buffer must outlive the handle, so such a file is
 * closed with sn_capture_file_close, never pcap_close.  Standard input keeps
 * its default buffer (libpcap does not close it, so a buffer of ours could
 * not be freed safely).
 */
#define SN_CAPTURE_READ_BUFFER (1u << 20)

struct sn_capture_file {
	pcap_t *pcap;
	char *buf; /* the stream's buffer, or the record reader's block (owned), or NULL */
	/*
	 * A regular classic pcap file (pcapread.h): its records can be read
	 * with `records` from buf, with no copy, instead of pcap_next_ex (which
	 * still works, through the stream's default buffer).  The records
	 * bypass the handle's BPF filter: read them only without one.
	 */
	bool classic;
	struct sn_pcapread records;
};

/* 0, or -errno with err set; on failure cf is left closed. */
int sn_capture_file_open(struct sn_capture_file *cf, const char *path,
			 char err[SN_CAPTURE_ERRLEN]);
/* Closes the handle, then frees its buffer; safe on a closed or zeroed cf. */
void sn_capture_file_close(struct sn_capture_file *cf);
/* Opens a live device, non-blocking, with the options.  NULL + err. */
pcap_t *sn_capture_open_live(const struct sn_live_options *o, char err[SN_CAPTURE_ERRLEN]);
/* Checks the handle's link type; false + err naming it when unsupported. */
bool sn_capture_check_linktype(pcap_t *p, const char *source, char err[SN_CAPTURE_ERRLEN]);
/*
 * Opens the configured live capture (capture.filter, snaplen, buffer_mib,
 * promiscuous) on `interface`, joins PACKET_FANOUT group fanout_group when
 * it is > 0, and checks the link type.  NULL + err on failure.
 */
pcap_t *sn_capture_open_interface(const struct sn_config *cfg, const char *interface,
				  int fanout_group, char err[SN_CAPTURE_ERRLEN]);

/*
 * Compiles a BPF filter for a link type (DLT_EN10MB when a capture's is
 * not known) without any capture: the check --check-config and the command
 * line make before anything runs.  0, or -1 with libpcap's reason in msg.
 */
int sn_capture_check_filter(const char *filter, int linktype, char *msg, size_t cap);
/*
 * Sets a BPF filter ("" = none) on an open handle, offline or live; an
 * offline handle then returns only matching packets.  0, or -EINVAL with
 * err naming the filter and the source ("-" = standard input).
 */
int sn_capture_set_filter(pcap_t *p, const char *filter, const char *source,
			  char err[SN_CAPTURE_ERRLEN]);

/*
 * A captured packet's time in microseconds since the epoch (packet time), or
 * SN_TIME_INVALID when it lies outside what the sensor accepts (clock.h).
 */
static inline uint64_t sn_capture_time_us(const struct pcap_pkthdr *h)
{
	if (h->ts.tv_sec < 0 || (uint64_t)h->ts.tv_sec > SN_TIME_MAX_S || h->ts.tv_usec < 0 ||
	    h->ts.tv_usec >= (suseconds_t)SN_US_PER_S)
		return SN_TIME_INVALID;
	return (uint64_t)h->ts.tv_sec * SN_US_PER_S + (uint64_t)h->ts.tv_usec;
}

#endif /* SN_CAPTURE_H */
