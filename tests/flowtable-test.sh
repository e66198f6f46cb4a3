#!/bin/sh
# flowtable-test.sh SENSOR - the connection table under attack, on captures
# generated at test time (tests/flowtable_test.py).
# Prints "flowtable: N passed, M failed".
set -u
sensor=${1:-./pubsub-sensor}
exec /usr/bin/python3 "$(dirname "$0")/flowtable_test.py" "$sensor"
