/*
 * bare.c - the benchmark's baseline: the cheapest possible reader of a
 * capture, a pcap_next_ex loop that touches the first byte of every packet
 * (so the read cannot be optimised away) and does nothing else.  The
 * sensor's time over the same file is compared with this one's.
 *
 * With -b the file is read through a 1 MiB stdio buffer instead of the
 * default one (the file system's block size, 4 KiB here): one read(2) per
 * megabyte rather than per 4 KiB, which shows how much of the baseline is
 * system-call overhead.
 *
 * Prints: "packets N bytes B" (B = sum of the original wire lengths).
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cursor.h"

#define BIG_BUFFER (1u << 20)

/* Opens the capture, through a 1 MiB stdio buffer when `big`. */
static pcap_t *open_capture(const char *path, bool big, char *err)
{
	static char buf[BIG_BUFFER];
	if (!big)
		return pcap_open_offline(path, err);
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, PCAP_ERRBUF_SIZE, "%s: %s", path, strerror(errno));
		return NULL;
	}
	/* glibc ignores the size unless it is given the buffer itself */
	setvbuf(f, buf, _IOFBF, sizeof buf);
	pcap_t *p = pcap_fopen_offline(f, err);
	if (!p)
		fclose(f);
	return p;
}

int main(int argc, char **argv)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	unsigned long long packets = 0, bytes = 0;
	unsigned acc = 0;
	int rc;

	bool big = argc == 3 && strcmp(argv[1], "-b") == 0;
	if (argc != 2 && !big) {
		fprintf(stderr, "usage: bare [-b] FILE.pcap\n");
		return 2;
	}
	pcap_t *p = open_capture(argv[argc - 1], big, err);
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
