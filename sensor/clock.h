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

/*
 * Packet times the sensor accepts: from the epoch to 2106-02-07T06:28:15Z,
 * the last second a classic pcap header's unsigned 32-bit field can hold
 * (libpcap reads it signed, so 0x80000000 and above arrive negative).  A
 * packet outside it (a negative or huge pcapng time) gets SN_TIME_INVALID
 * from sn_capture_time_us(); the decoder drops it and counts it as
 * timestamp_out_of_range, and it never moves the clock.
 */
#define SN_TIME_MAX_S 0xFFFFFFFFULL
#define SN_TIME_INVALID UINT64_MAX

/* Wall-clock time in microseconds since the epoch. */
uint64_t sn_wall_clock_us(void);

/* A random 64-bit hash seed (getrandom; the clock and pid if that fails). */
uint64_t sn_random_seed(void);

#endif /* SN_CLOCK_H */
