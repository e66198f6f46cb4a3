/*
 * bigmem.h - the large, fixed tables of a capture worker (flow entries, the
 * flow index, first-bytes buffers), allocated once at start.
 *
 * The memory comes straight from mmap: zero-filled and only made resident
 * when first touched (a table sized for 262144 flows costs nothing until
 * flows arrive), aligned to a cache line (an entry of 64 bytes never
 * straddles two lines, which malloc's 16-byte alignment would allow), and,
 * when at least 2 MiB, aligned to 2 MiB and advised for transparent huge
 * pages: lookups land at random in these tables, and with 4 KiB pages
 * nearly every one would also miss the TLB.
 */
#ifndef SN_BIGMEM_H
#define SN_BIGMEM_H

#include <stddef.h>

/* Zeroed memory of `bytes` bytes, or NULL with errno set. */
void *sn_bigmem_alloc(size_t bytes);
/*
 * The same without huge pages (advised against them, where the system would
 * otherwise use them anyway): for a table touched at only a few scattered
 * entries, where one touch would make a whole 2 MiB page resident.
 */
void *sn_bigmem_alloc_sparse(size_t bytes);
/* Frees what either returned for the same `bytes`; NULL is ignored. */
void sn_bigmem_free(void *p, size_t bytes);

#endif /* SN_BIGMEM_H */
