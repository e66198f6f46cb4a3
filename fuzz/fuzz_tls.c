/*
 * fuzz_tls.c - libFuzzer target for sn_diss_tls (TLS ClientHello (RFC 8446): SNI and ALPN).
 * Input layout and checks: fuzz_stream.h.
 */
#include <stddef.h>
#include <stdint.h>

#include "dissector.h"
#include "fuzz_stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return sn_fuzz_dissect(sn_diss_tls, data, size);
}
