/*
 * beacon.h - is a series of connection starts a beacon?
 *
 * Owns the measure only: given the start times of a group's recent
 * connections (packet time), the median gap between consecutive starts and
 * the jitter, the median absolute deviation of the gaps divided by their
 * median.  A series is regular when it has at least min_gaps gaps and a
 * jitter of at most max_jitter_pct percent.  No allocation, no state.
 */
#ifndef SN_BEACON_H
#define SN_BEACON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h" /* SN_BEACON_STARTS */

struct sn_beacon {
	uint32_t samples;      /* gaps measured; 0 = not a beacon */
	uint64_t interval_ms;  /* median gap */
	uint32_t jitter_milli; /* median absolute deviation / median, in thousandths */
};

/*
 * starts: n start times in microseconds, any order, n <= SN_BEACON_STARTS
 * (more are ignored).  Fills out (samples 0 when not regular) and returns
 * whether the series is a regular beacon.
 */
bool sn_beacon_measure(const uint64_t *starts, size_t n, uint32_t min_gaps,
		       uint32_t max_jitter_pct, struct sn_beacon *out);

/*
 * True when a measure (sn_beacon_measure with no threshold: min_gaps 1,
 * max_jitter_pct 100) passes the thresholds: the same test
 * sn_beacon_measure applies, for series measured where the thresholds are
 * not known (a connection's client messages, measured by its worker).
 */
bool sn_beacon_regular(const struct sn_beacon *b, uint32_t min_gaps, uint32_t max_jitter_pct);

#endif /* SN_BEACON_H */
