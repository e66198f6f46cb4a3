/*
 * layerset.h - the tunnel layer lists of a flow table's connections.
 *
 * A connection found inside tunnels reports the layers removed to reach it
 * (decode.h, details.tunnel).  Few distinct lists exist at once (one per
 * tunnel, VLAN or label stack), so each is kept once, reference-counted,
 * and a flow holds a 16-bit handle to it instead of the list.  The table is
 * allocated at start; when it is full a new list is not kept (handle 0, the
 * connection reports no layers) and that is counted.
 */
#ifndef SN_LAYERSET_H
#define SN_LAYERSET_H

#include <stdint.h>

#include "decode.h"

#define SN_LAYERSET_NONE 0

struct sn_layerset;

/* capacity distinct lists (1..65535); NULL without memory. */
struct sn_layerset *sn_layerset_create(uint32_t capacity, uint64_t seed);
void sn_layerset_destroy(struct sn_layerset *ls);
/* A handle to this list (one more reference), or NONE when n == 0 or full. */
uint16_t sn_layerset_acquire(struct sn_layerset *ls, const uint32_t *layers, uint8_t n);
/* Drops one reference; NONE is ignored. */
void sn_layerset_release(struct sn_layerset *ls, uint16_t h);
/* The list of a handle: returns its length and points *layers at it. */
uint8_t sn_layerset_get(const struct sn_layerset *ls, uint16_t h, const uint32_t **layers);
/* Lists not kept because the table was full. */
uint64_t sn_layerset_full(const struct sn_layerset *ls);

#endif /* SN_LAYERSET_H */
