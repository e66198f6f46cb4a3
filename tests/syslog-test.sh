#!/bin/sh
# syslog-test.sh SENSOR - the syslog output against Debian's rsyslogd on
# loopback (tests/syslog_test.py); nothing else may use its ports meanwhile.
# Prints "syslog: N passed, M failed[, K skipped]".
sensor=${1:-./pubsub-sensor}
cd "$(dirname "$0")/.." || exit 1
exec /usr/bin/python3 tests/syslog_test.py --sensor "$sensor"
