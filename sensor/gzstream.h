/*
 * gzstream.h - a stdio stream that inflates a gzip-compressed one, so that
 * libpcap can read a .pcap.gz (or `gzip -c x.pcap | pubsub-sensor -r -`)
 * as if it were the capture itself.
 */
#ifndef SN_GZSTREAM_H
#define SN_GZSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/*
 * Returns a read-only stream of the inflated bytes of `in`, whose first
 * `n_head` bytes (at most 2: the magic 1f 8b already read to recognise it)
 * are given in `head`.  Several gzip members in a row (cat a.gz b.gz) read
 * as one.  Damaged data is a read error (EIO); data cut off ends the stream
 * early.  Closing it closes `in` when close_in is true.  NULL on failure
 * (out of memory), with in untouched.
 */
FILE *sn_gzstream_open(FILE *in, bool close_in, const unsigned char *head, size_t n_head);

#endif /* SN_GZSTREAM_H */
