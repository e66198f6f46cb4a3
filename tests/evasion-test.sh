#!/bin/sh
# evasion-test.sh SENSOR - every evasion of a pub/sub handshake at its
# boundary, on a standard and a non-standard port (tests/evasion_test.py):
# one-byte segments, out-of-order ranges, long handshakes and prologs,
# decoys, fragments, nested tunnels, WebSocket, long TLS ClientHellos,
# the malformed MQTT 5.0 CONNECT.  Ends with "evasion: N passed, M failed".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
sensor=${1:-./pubsub-sensor}
exec timeout 600 /usr/bin/python3 "$top/tests/evasion_test.py" --sensor "$sensor"
