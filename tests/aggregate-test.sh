#!/bin/sh
# aggregate-test.sh SENSOR - the aggregator over real captures
# (tests/aggregate_test.py): refuted connections, allow lists, groups
# across the group window.  Prints "aggregate: N passed, M failed".
exec /usr/bin/python3 "$(dirname "$0")/aggregate_test.py" "${1:-./pubsub-sensor}"
