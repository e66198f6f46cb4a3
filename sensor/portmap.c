/*
 * portmap.c - the port map of portmap.h, built from `protocols:`.
 *
 * A port listed for two protocols keeps the later one (protocols are
 * walked in enum order, plain ports before TLS ports), as the rules always
 * did.
 */
#include "portmap.h"

#include <string.h>

void sn_port_map_build(uint8_t map[SN_PORT_MAP_SIZE], const struct sn_config *cfg)
{
	memset(map, 0, SN_PORT_MAP_SIZE);
	for (size_t p = SN_PROTO_MQTT; p < SN_PROTO_COUNT; p++) {
		const struct sn_proto_ports *pp = &cfg->protocols[p];
		for (size_t i = 0; i < pp->n_ports && i < SN_CFG_MAX_PORTS; i++)
			map[pp->ports[i]] = (uint8_t)p;
		for (size_t i = 0; i < pp->n_tls_ports && i < SN_CFG_MAX_PORTS; i++)
			map[pp->tls_ports[i]] = (uint8_t)(p | SN_PORT_TLS);
	}
}

enum sn_proto sn_port_map_proto(const uint8_t map[SN_PORT_MAP_SIZE], uint16_t port,
				bool *is_tls)
{
	uint8_t v = map[port];
	unsigned proto = v & SN_PORT_PROTO_MASK;

	if (proto >= SN_PROTO_COUNT)
		proto = SN_PROTO_NONE;
	if (is_tls)
		*is_tls = proto != SN_PROTO_NONE && (v & SN_PORT_TLS);
	return (enum sn_proto)proto;
}
