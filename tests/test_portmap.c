/*
 * test_portmap.c - sensor/portmap.c: the shipped protocol ports, ports
 * added and removed by the configuration, and TLS ports.
 */
#include <check.h>

#include "portmap.h"

Suite *portmap_suite(void);

static struct sn_config cfg;
static uint8_t map[SN_PORT_MAP_SIZE];

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

START_TEST(defaults)
{
	static const struct { uint16_t port; enum sn_proto proto; bool tls; } cases[] = {
		{ 1883, SN_PROTO_MQTT, false }, { 8883, SN_PROTO_MQTT, true },
		{ 5222, SN_PROTO_XMPP, false }, { 5269, SN_PROTO_XMPP, false },
		{ 5223, SN_PROTO_XMPP, true },  { 5672, SN_PROTO_AMQP, false },
		{ 5671, SN_PROTO_AMQP, true },  { 61613, SN_PROTO_STOMP, false },
		{ 61614, SN_PROTO_STOMP, true }, { 443, SN_PROTO_NONE, false },
		{ 0, SN_PROTO_NONE, false },    { 65535, SN_PROTO_NONE, false },
	};
	sn_config_defaults(&cfg);
	sn_port_map_build(map, &cfg);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		bool tls = !cases[i].tls;
		ck_assert_int_eq(sn_port_map_proto(map, cases[i].port, &tls), cases[i].proto);
		ck_assert_int_eq(tls, cases[i].tls);
	}
	ck_assert_uint_eq(map[1883], SN_PROTO_MQTT);
	ck_assert_uint_eq(map[8883], SN_PROTO_MQTT | SN_PORT_TLS);
	ck_assert_uint_eq(map[61614], SN_PROTO_STOMP | SN_PORT_TLS);
	ck_assert_uint_eq(map[80], 0);
	ck_assert_int_eq(sn_port_map_proto(map, 8883, NULL), SN_PROTO_MQTT);
}
END_TEST

/* A rebuild reflects the new configuration only: nothing of the old map stays. */
START_TEST(rebuild_from_config)
{
	sn_config_defaults(&cfg);
	sn_port_map_build(map, &cfg);
	cfg.protocols[SN_PROTO_MQTT].ports[1] = 8080;
	cfg.protocols[SN_PROTO_MQTT].n_ports = 2;
	cfg.protocols[SN_PROTO_AMQP].n_tls_ports = 0;
	cfg.protocols[SN_PROTO_STOMP].n_ports = 0;
	sn_port_map_build(map, &cfg);
	bool tls = true;
	ck_assert_int_eq(sn_port_map_proto(map, 8080, &tls), SN_PROTO_MQTT);
	ck_assert(!tls);
	ck_assert_int_eq(sn_port_map_proto(map, 5671, &tls), SN_PROTO_NONE);
	ck_assert(!tls);
	ck_assert_int_eq(sn_port_map_proto(map, 61613, NULL), SN_PROTO_NONE);
	ck_assert_int_eq(sn_port_map_proto(map, 1883, NULL), SN_PROTO_MQTT);
}
END_TEST

/* A byte no protocol owns (a corrupt entry) reads as no protocol. */
START_TEST(out_of_range_entry_is_none)
{
	sn_config_defaults(&cfg);
	sn_port_map_build(map, &cfg);
	map[7] = SN_PORT_PROTO_MASK | SN_PORT_TLS;
	bool tls = true;
	ck_assert_int_eq(sn_port_map_proto(map, 7, &tls), SN_PROTO_NONE);
	ck_assert(!tls);
}
END_TEST

Suite *portmap_suite(void)
{
	Suite *s = suite_create("portmap");
	TCase *t = tcase_create("portmap");
	tcase_add_test(t, defaults);
	tcase_add_test(t, rebuild_from_config);
	tcase_add_test(t, out_of_range_entry_is_none);
	suite_add_tcase(s, t);
	return s;
}
