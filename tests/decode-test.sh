#!/bin/sh
# decode-test.sh SENSOR - adversarial captures below TCP (tests/decode_test.py):
# bad-checksum decoys, IPv4/IPv6 fragments, every tunnel type, nested tunnels.
# Ends with "decode: N passed, M failed".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
sensor=${1:-./pubsub-sensor}
exec timeout 600 /usr/bin/python3 "$top/tests/decode_test.py" --sensor "$sensor"
