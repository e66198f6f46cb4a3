#!/bin/sh
# splunk-test.sh SENSOR - the Splunk add-on's .conf files and `make splunk-app`
# (tests/splunk_test.py).  Prints "splunk: N passed, M failed".
sensor=${1:-./pubsub-sensor}
cd "$(dirname "$0")/.." || exit 1
exec /usr/bin/python3 tests/splunk_test.py --sensor "$sensor"
