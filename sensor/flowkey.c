/*
 * flowkey.c - the secret a connection key's hash is keyed with (flowkey.h;
 * building the key is inline there: every packet does it).
 */
#include "flowkey.h"

void sn_flowkey_secret_init(struct sn_flowkey_secret *s, uint64_t seed)
{
	sn_keyhash_init(&s->k, seed);
}
