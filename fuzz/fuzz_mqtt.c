/*
 * fuzz_mqtt.c - libFuzzer target for sn_diss_mqtt (MQTT 3.1, 3.1.1 and 5.0 CONNECT/SUBSCRIBE/PUBLISH).
 * Input layout and checks: fuzz_stream.h.
 */
#include <stddef.h>
#include <stdint.h>

#include "dissector.h"
#include "fuzz_stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return sn_fuzz_dissect(sn_diss_mqtt, data, size);
}
