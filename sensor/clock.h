/*
 * clock.h - time and randomness taken from the system: the unit the sensor
 * counts time in, the wall clock (only where no packet gives the time) and
 * the hash seeds that keep attacker-steerable tables keyed.
 */
#ifndef SN_CLOCK_H
#define SN_CLOCK_H

#include <stdint.h>

/* Every time in the sensor is microseconds; this is the one conversion. */
#define SN_US_PER_S 1000000ULL

/* Wall-clock time in microseconds since the epoch. */
uint64_t sn_wall_clock_us(void);

/* A random 64-bit hash seed (getrandom; the clock and pid if that fails). */
uint64_t sn_random_seed(void);

#endif /* SN_CLOCK_H */
