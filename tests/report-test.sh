#!/bin/sh
# report-test.sh SENSOR - `pubsub-sensor report` over two sensors' logs, CSV
# and HTML escaping, and the HTML page in headless chromium
# (tests/report_test.py; the screenshot stays in build/test-artifacts/).
sensor=${1:-./pubsub-sensor}
cd "$(dirname "$0")/.." || exit 1
exec /usr/bin/python3 tests/report_test.py --sensor "$sensor"
