/*
 * portmap.h - which protocol a server port means, from the configuration's
 * `protocols:` ports and TLS ports.
 *
 * A port map is SN_PORT_MAP_SIZE bytes, one per TCP port: enum sn_proto,
 * with SN_PORT_TLS (conn.h) on the protocol's TLS ports, 0 for none.  Each
 * worker builds its own (at start and on reload) for its flow table; nothing
 * else keeps one.
 */
#ifndef SN_PORTMAP_H
#define SN_PORTMAP_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "conn.h"

#define SN_PORT_MAP_SIZE 65536

/* Fills map from cfg->protocols (every entry written). */
void sn_port_map_build(uint8_t map[SN_PORT_MAP_SIZE], const struct sn_config *cfg);

/* The protocol port means (NONE if none); *is_tls for a TLS port (may be NULL). */
enum sn_proto sn_port_map_proto(const uint8_t map[SN_PORT_MAP_SIZE], uint16_t port,
				bool *is_tls);

#endif /* SN_PORTMAP_H */
