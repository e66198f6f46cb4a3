#!/bin/sh
# soak-test.sh SENSOR - resource bounds: SOAK_SECONDS (default 300) of churn
# on loopback against tiny tables; memory must stay flat while flows and
# groups are evicted (needs root: it captures on lo and starts mosquitto).
if [ "$(id -u)" != 0 ]; then
	echo "soak test needs root (capture on lo, broker): skipped"
	echo "soak: 0 passed, 0 failed, 1 skipped"
	exit 0
fi
exec /usr/bin/python3 "$(dirname "$0")/soak_test.py" --sensor "${1:-./pubsub-sensor}"
