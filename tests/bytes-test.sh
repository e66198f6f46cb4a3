#!/bin/sh
# bytes-test.sh SENSOR - every flow's BytesSent/BytesReceived and packet
# counts equal tshark's per-direction sums on every shared capture
# (tests/bytes_test.py).  Prints "bytes: N passed, M failed".
set -u
sensor=${1:-./pubsub-sensor}
exec /usr/bin/python3 "$(dirname "$0")/bytes_test.py" "$sensor"
