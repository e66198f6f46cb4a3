#!/bin/sh
# attribution-test.sh SENSOR - host attribution live on loopback
# (tests/attribution_test.py; needs root: capture on lo, brokers).
if [ "$(id -u)" != 0 ]; then
	echo "attribution tests need root (capture on lo, brokers): skipped"
	echo "attribution: 0 passed, 0 failed, 1 skipped"
	exit 0
fi
exec /usr/bin/python3 "$(dirname "$0")/attribution_test.py" --sensor "${1:-./pubsub-sensor}"
