#!/bin/sh
# demo-test.sh [SENSOR] - pcaps/demo.pcap is what pcaps/make-demo.sh builds.
#
# The demo capture stays committed (make demo must run without tcprewrite),
# so this checks that the script still rebuilds it byte for byte from the
# loopback captures, and that the sensor finds the demo's nine table rows in
# the rebuilt file.  Prints "demo: N passed, M failed, K skipped".
set -u
sensor=${1:-./pubsub-sensor}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
passed=0 failed=0 skipped=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; }
skip() { skipped=$((skipped + 1)); echo "skip $1"; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

missing=""
for tool in tcpdump tcprewrite mergecap; do
	command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
if [ -n "$missing" ]; then
	skip "rebuild demo.pcap (missing:$missing; packages tcpdump tcpreplay wireshark-common)"
	echo "demo: $passed passed, $failed failed, $skipped skipped"
	exit 0
fi

if sh pcaps/make-demo.sh "$work/demo.pcap" >"$work/log" 2>&1 && [ -s "$work/demo.pcap" ]; then
	ok "make-demo.sh runs"
else
	bad "make-demo.sh runs: $(tail -n 3 "$work/log")"
fi
if cmp -s "$work/demo.pcap" pcaps/demo.pcap; then
	ok "rebuilt demo.pcap is byte-identical to the committed one"
else
	bad "rebuilt demo.pcap differs from the committed one ($(cmp "$work/demo.pcap" pcaps/demo.pcap 2>&1 | head -n 1))"
fi
# the README's demo table has nine rows: 5 high, 4 medium
if [ -x "$sensor" ] && "$sensor" -r "$work/demo.pcap" >"$work/table" 2>"$work/err"; then
	high=$(grep -c ' high$' "$work/table")
	medium=$(grep -c ' medium$' "$work/table")
	if [ "$high" = 5 ] && [ "$medium" = 4 ]; then
		ok "rebuilt demo shows 5 high and 4 medium rows"
	else
		bad "rebuilt demo shows $high high and $medium medium rows, want 5 and 4"
	fi
else
	bad "sensor replays the rebuilt demo: $(head -n 1 "$work/err" 2>/dev/null)"
fi
echo "demo: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
