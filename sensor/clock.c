/*
 * clock.c - the system clock and random seeds (clock.h).
 */
#include "clock.h"

#include <sys/random.h>
#include <sys/time.h>
#include <unistd.h>

uint64_t sn_wall_clock_us(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (uint64_t)tv.tv_sec * SN_US_PER_S + (uint64_t)tv.tv_usec;
}

uint64_t sn_random_seed(void)
{
	uint64_t seed = 0;
	if (getrandom(&seed, sizeof seed, 0) != (ssize_t)sizeof seed)
		seed = sn_wall_clock_us() ^ (uint64_t)getpid();
	return seed;
}
