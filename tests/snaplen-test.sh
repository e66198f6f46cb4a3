#!/bin/sh
# snaplen-test.sh SENSOR - short snap lengths must not change byte counts.
#
# Replays each golden capture (the files listed in pcaps/EXPECTED.tsv) in
# full and cut to snap lengths 54, 64, 96, 128 and 256 (editcap, or
# tests/pcap-snap.py without it), with tests/data/golden.yaml and flow
# events.  Every replay must exit 0 without a crash or sanitizer report, and
# every flow event of a cut replay must carry the BytesSent and
# BytesReceived of the same connection in the full replay: byte counts come
# from the IP length fields, not from what was captured.  A connection that
# can no longer be recognised without its payload may be missing from a cut
# replay; one that appears only there is a failure.
# Ends with "snaplen: N passed, M failed".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
sensor=${1:-./pubsub-sensor}
case $sensor in
*/*) sensor=$(cd "$(dirname "$sensor")" && pwd)/$(basename "$sensor") ;;
esac
cd "$top" || exit 1
snaps="54 64 96 128 256"
limit=30

ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS UBSAN_OPTIONS

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0 compared=0

ok() { passed=$((passed + 1)); }
fail() {
	failed=$((failed + 1))
	echo "FAIL $1: $2"
	grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:|^ *#[0-9]+ ' "$tmp/err" 2>/dev/null |
		head -n 12 | sed 's/^/     /'
}

# replay NAME CAPTURE EVENTS: runs the sensor; 0 when it ran cleanly.
replay() {
	rm -f "$3"
	timeout -k 2 "$limit" "$sensor" -r "$2" -c tests/data/golden.yaml --flows -o "$3" \
		--no-table >/dev/null 2>"$tmp/err" </dev/null
	rc=$?
	if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$tmp/err"; then
		fail "$1" "sanitizer report (exit $rc)"
	elif [ "$rc" -ne 0 ]; then
		fail "$1" "exit status $rc: $(head -c 200 "$tmp/err")"
	else
		return 0
	fi
	return 1
}

# cut IN OUT SNAP
cut_capture() {
	if command -v editcap >/dev/null 2>&1; then
		editcap -F pcap -s "$3" "$1" "$2" >/dev/null 2>&1
	else
		/usr/bin/python3 tests/pcap-snap.py "$1" "$2" "$3"
	fi
}

# compare FULL CUT: prints a reason and returns 1 when byte counts differ.
compare() {
	/usr/bin/python3 - "$1" "$2" <<'PY'
import json, sys

def flows(path):
    out = {}
    for line in open(path):
        ev = json.loads(line)
        if ev.get("event_type") != "flow":
            continue
        key = (ev["src_ip"], ev["src_port"], ev["dest_ip"], ev["dest_port"], ev["FirstSeen"])
        out.setdefault(key, []).append((ev["BytesSent"], ev["BytesReceived"]))
    return out

full, cut = flows(sys.argv[1]), flows(sys.argv[2])
bad = []
for key, counts in cut.items():
    if key not in full:
        bad.append("flow %s:%s -> %s:%s only in the cut replay" % key[:4])
    elif sorted(counts) != sorted(full[key]):
        bad.append("flow %s:%s -> %s:%s bytes %s, full replay %s" % (key[:4] + (counts, full[key])))
print(sum(len(c) for c in cut.values()))
for b in bad[:5]:
    print(b)
sys.exit(1 if bad else 0)
PY
}

files=$(awk -F '\t' 'NR > 1 && $1 ~ /\.pcap$/ { print $1 }' pcaps/EXPECTED.tsv)
for name in $files; do
	pcap=pcaps/$name
	if [ ! -f "$pcap" ]; then
		fail "$name" "listed in EXPECTED.tsv but missing"
		continue
	fi
	replay "$name (full)" "$pcap" "$tmp/full.jsonl" || continue
	grep -q '"event_type": *"flow"' "$tmp/full.jsonl" ||
		echo "note $name: no flow events in the full replay; checking cut replays for crashes only"
	ok
	for snap in $snaps; do
		if ! cut_capture "$pcap" "$tmp/cut.pcap" "$snap"; then
			fail "$name -s $snap" "cannot cut the capture"
			continue
		fi
		replay "$name -s $snap" "$tmp/cut.pcap" "$tmp/cut.jsonl" || continue
		if compare "$tmp/full.jsonl" "$tmp/cut.jsonl" >"$tmp/cmp"; then
			compared=$((compared + $(head -n 1 "$tmp/cmp")))
			ok
		else
			fail "$name -s $snap" "$(sed -n '2,6p' "$tmp/cmp")"
		fi
	done
done
echo "snaplen: $compared flow byte counts compared at snap lengths $snaps"
echo "snaplen: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
