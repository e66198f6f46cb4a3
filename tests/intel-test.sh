#!/bin/sh
# intel-test.sh SENSOR - beacons, command channels, the broker's name,
# public brokers and allow lists over generated captures
# (tests/intel_test.py).  Prints "intel: N passed, M failed".
exec /usr/bin/python3 "$(dirname "$0")/intel_test.py" "${1:-./pubsub-sensor}"
