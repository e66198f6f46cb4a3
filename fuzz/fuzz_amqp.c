/*
 * fuzz_amqp.c - libFuzzer target for sn_diss_amqp (AMQP 0-9-1 and 1.0 protocol headers and frames).
 * Input layout and checks: fuzz_stream.h.
 */
#include <stddef.h>
#include <stdint.h>

#include "dissector.h"
#include "fuzz_stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return sn_fuzz_dissect(sn_diss_amqp, data, size);
}
