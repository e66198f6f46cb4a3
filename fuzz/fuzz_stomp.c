/*
 * fuzz_stomp.c - libFuzzer target for sn_diss_stomp (STOMP 1.0-1.2 CONNECT frames).
 * Input layout and checks: fuzz_stream.h.
 */
#include <stddef.h>
#include <stdint.h>

#include "dissector.h"
#include "fuzz_stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return sn_fuzz_dissect(sn_diss_stomp, data, size);
}
