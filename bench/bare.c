/*
 * bare.c - the benchmark's baseline: the cheapest possible reader of a
 * capture, a pcap_next_ex loop that touches the first byte of every packet
 * (so the read cannot be optimised away) and does nothing else.  The
 * sensor's time over the same file is compared with this one's.
 *
 * Prints: "packets N bytes B" (B = sum of the original wire lengths).
 */
#include <pcap/pcap.h>
#include <stdio.h>

#include "cursor.h"

int main(int argc, char **argv)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	unsigned long long packets = 0, bytes = 0;
	unsigned acc = 0;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: bare FILE.pcap\n");
		return 2;
	}
	pcap_t *p = pcap_open_offline(argv[1], err);
	if (!p) {
		fprintf(stderr, "bare: %s\n", err);
		return 1;
	}
	while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
		struct sn_cursor c = sn_cur_make(data, h->caplen);
		acc += sn_cur_u8(&c);
		packets++;
		bytes += h->len;
	}
	if (rc == PCAP_ERROR)
		fprintf(stderr, "bare: %s\n", pcap_geterr(p));
	pcap_close(p);
	printf("packets %llu bytes %llu check %u\n", packets, bytes, acc & 0xff);
	return rc == PCAP_ERROR ? 1 : 0;
}
