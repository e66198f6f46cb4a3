#!/bin/sh
# malformed-test.sh SENSOR [SHARED_DIR] - hostile captures must not hurt the sensor.
#
# Replays every capture of SHARED_DIR/corpus/malformed/tcpdump/ (default
# ../shared; the tcpdump project's test captures: truncated and crafted
# packets of every kind), or the selection in pcaps/malformed/ when that
# folder is absent, one at a time with a 10 s limit.  Run it with the
# sanitizer build (pubsub-sensor-asan).  A file fails on a crash, a hang,
# a sanitizer report, or an exit status other than 0, or 1 with a one-line
# message (libpcap cannot read every file, and saying so is fine).
# Also sums the decode_errors of each replay's final stats event.
# Ends with "malformed: N passed, M failed".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
sensor=${1:-./pubsub-sensor}
shared=${2:-../shared}
case $sensor in
*/*) sensor=$(cd "$(dirname "$sensor")" && pwd)/$(basename "$sensor") ;;
esac
cd "$top" || exit 1
case $shared in
/*) ;;
*) shared=$top/$shared ;;
esac
limit=10

ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS UBSAN_OPTIONS

dir=$shared/corpus/malformed/tcpdump
if [ ! -d "$dir" ]; then
	echo "skip: $dir not found; using the selection in pcaps/malformed/"
	dir=$top/pcaps/malformed
fi
if [ ! -d "$dir" ]; then
	echo "skip: no malformed captures found"
	echo "malformed: 0 passed, 0 failed, 1 skipped"
	exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0 files=0 crashes=0 reports=0 timeouts=0 unreadable=0
: >"$tmp/stats"

fail() {
	failed=$((failed + 1))
	echo "FAIL $1: $2"
	grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:|^ *#[0-9]+ ' "$tmp/err" | head -n 12 |
		sed 's/^/     /'
}

for f in "$dir"/*; do
	[ -f "$f" ] || continue
	case $f in *.md | *.txt) continue ;; esac
	files=$((files + 1))
	name=$(basename "$f")
	rm -f "$tmp/events"
	timeout -k 2 "$limit" "$sensor" -r "$f" -o "$tmp/events" --no-table \
		>/dev/null 2>"$tmp/err" </dev/null
	rc=$?
	grep -hE '"event_type": ?"stats"' "$tmp/events" >>"$tmp/stats" 2>/dev/null
	if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$tmp/err"; then
		reports=$((reports + 1))
		fail "$name" "sanitizer report (exit $rc)"
	elif [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		timeouts=$((timeouts + 1))
		fail "$name" "no exit within ${limit} s"
	elif [ "$rc" -gt 1 ]; then
		crashes=$((crashes + 1))
		fail "$name" "exit status $rc (crash or unexpected status)"
	elif [ "$rc" -eq 1 ] && ! grep -q '^pubsub-sensor: ' "$tmp/err"; then
		fail "$name" "exit 1 without a message"
	else
		[ "$rc" -eq 1 ] && unreadable=$((unreadable + 1))
		passed=$((passed + 1))
	fi
done

decode_errors=$(/usr/bin/python3 -c '
import json, sys
total = 0
for line in open(sys.argv[1]):
    try:
        total += sum(v for v in json.loads(line).get("decode_errors", {}).values() if isinstance(v, int))
    except ValueError:
        pass
print(total)' "$tmp/stats")
echo "malformed: $files files from $dir: $crashes crashes, $reports sanitizer reports," \
	"$timeouts timeouts, $unreadable rejected cleanly (exit 1), $decode_errors decode errors counted"
echo "malformed: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
