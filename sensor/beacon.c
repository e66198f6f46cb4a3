/*
 * beacon.c - median gap and jitter of a series of connection starts.
 *
 * Integer arithmetic only (microseconds and thousandths), so replay is
 * exact and the same bytes give the same verdict on every machine.  The
 * series is at most SN_BEACON_STARTS long: sorting it on the stack costs
 * a few hundred comparisons per new connection of a group.
 */
#include "beacon.h"

#include <string.h>

static void sort_u64(uint64_t *v, size_t n)
{
	for (size_t i = 1; i < n; i++) { /* insertion sort: n <= 32 */
		uint64_t x = v[i];
		size_t k = i;
		while (k > 0 && v[k - 1] > x) {
			v[k] = v[k - 1];
			k--;
		}
		v[k] = x;
	}
}

/* The median of sorted v[n] (n >= 1): the mean of the middle two when even. */
static uint64_t median(const uint64_t *v, size_t n)
{
	return n % 2 ? v[n / 2] : v[n / 2 - 1] / 2 + v[n / 2] / 2 + (v[n / 2 - 1] % 2 + v[n / 2] % 2) / 2;
}

bool sn_beacon_regular(const struct sn_beacon *b, uint32_t min_gaps, uint32_t max_jitter_pct)
{
	return b->samples > 0 && b->samples >= min_gaps &&
	       (uint64_t)b->jitter_milli * 100 <= (uint64_t)max_jitter_pct * 1000;
}

bool sn_beacon_measure(const uint64_t *starts, size_t n, uint32_t min_gaps,
		       uint32_t max_jitter_pct, struct sn_beacon *out)
{
	uint64_t t[SN_BEACON_STARTS], gaps[SN_BEACON_STARTS], dev[SN_BEACON_STARTS];

	memset(out, 0, sizeof *out);
	if (n > SN_BEACON_STARTS)
		n = SN_BEACON_STARTS;
	if (n < 2 || n - 1 < (size_t)min_gaps)
		return false;
	memcpy(t, starts, n * sizeof *t);
	sort_u64(t, n);
	size_t g = n - 1;
	for (size_t i = 0; i < g; i++)
		gaps[i] = t[i + 1] - t[i];
	sort_u64(gaps, g);
	uint64_t med = median(gaps, g);
	if (med < 1000) /* under a millisecond apart: a burst, not a beacon */
		return false;
	for (size_t i = 0; i < g; i++)
		dev[i] = gaps[i] > med ? gaps[i] - med : med - gaps[i];
	sort_u64(dev, g);
	uint64_t mad = median(dev, g);
	struct sn_beacon b = {
		.samples = (uint32_t)g,
		.interval_ms = (med + 500) / 1000,
		.jitter_milli = (uint32_t)(mad * 1000 / med), /* mad <= med, so this fits */
	};
	if (!sn_beacon_regular(&b, min_gaps, max_jitter_pct))
		return false;
	*out = b;
	return true;
}
