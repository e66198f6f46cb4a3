#!/bin/sh
# snaplen-test.sh SENSOR - short snap lengths must not change byte counts.
#
# Replays each golden capture (the files listed in pcaps/EXPECTED.tsv) in
# full and cut to snap lengths 54, 64, 96, 128 and 256 (editcap, or
# tests/pcap-snap.py without it), with tests/data/golden.yaml and flow
# events.  Every replay must exit 0 without a crash or sanitizer report and
# end its log with a stats event.  The expected flows come from the capture
# and EXPECTED.tsv, not from the sensor: tests/pcap-flows.py reads the full
# capture and adds up, per connection to the row's server address and port,
# the IP length fields in each direction (what the contract says BytesSent
# and BytesReceived are) and the packets.  Every flow event of every replay
# must carry exactly those figures; one that matches no connection of the
# capture is a failure.  The full replay must report every connection of
# the row.  A cut replay may lose a connection that can no longer be
# recognised without its payload; a cut replay with no flow at all is
# reported, not counted as a pass.  Captures in tests/data/known-gaps.tsv
# whose full replay has no flow are expected failures (xfailed).
# Ends with "snaplen: N passed, M failed[, X xfailed]".
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
passed=0 failed=0 compared=0 xfailed=0 empty=0

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

# compare EXPECTED EVENTS MODE: checks a replay's flow events against the
# capture's connections (MODE full: every connection must be there).
# Prints the number of flows compared, then reasons; exit 0 when all agree,
# 1 when a flow differs or is missing, 3 when the log does not end with a
# stats event, 4 when no flow was compared.
compare() {
	/usr/bin/python3 - "$1" "$2" "$3" <<'PY'
import json, sys

FIELDS = ("BytesSent", "BytesReceived", "PacketsSent", "PacketsReceived")
want = {}
for line in open(sys.argv[1]):
    c = json.loads(line)
    want.setdefault((c["src_ip"], c["src_port"], c["dest_ip"], c["dest_port"]), []).append(c)
events = []
try:
    lines = open(sys.argv[2], encoding="utf-8", errors="replace").readlines()
except OSError:
    lines = []
for line in lines:
    try:
        events.append(json.loads(line))
    except ValueError:
        print(0)
        print("a line of the event log is not JSON: %r" % line[:80])
        sys.exit(1)
if not events or not isinstance(events[-1], dict) or events[-1].get("event_type") != "stats":
    print(0)
    print("the event log does not end with a stats event")
    sys.exit(3)
bad, seen, n = [], {}, 0
for ev in events:
    if ev.get("event_type") != "flow":
        continue
    key = (ev.get("src_ip"), ev.get("src_port"), ev.get("dest_ip"), ev.get("dest_port"))
    i = seen.get(key, 0)
    seen[key] = i + 1
    conns = want.get(key, [])
    if i >= len(conns):
        bad.append("flow %s:%s -> %s:%s is not a connection of the capture" % key)
        continue
    n += 1
    got = tuple(ev.get(f) for f in FIELDS)
    exp = tuple(conns[i][f] for f in FIELDS)
    if got != exp:
        bad.append("flow %s:%s -> %s:%s bytes/packets sent, received %s, capture %s"
                   % (key + (got, exp)))
if sys.argv[3] == "full":
    for key, conns in want.items():
        if seen.get(key, 0) < len(conns):
            bad.append("connection %s:%s -> %s:%s has no flow event" % key)
print(n)
for b in bad[:5]:
    print(b)
sys.exit(4 if n == 0 and not seen else 1 if bad else 0)
PY
}

gaps=$(awk -F '\t' '!/^#/ && NF { print $1 }' tests/data/known-gaps.tsv 2>/dev/null)
awk -F '\t' 'NR > 1 && $1 ~ /\.pcap$/ { print $1, $5, $6, $7 }' pcaps/EXPECTED.tsv >"$tmp/rows"
while read -r name server port conns; do
	pcap=pcaps/$name
	if [ ! -f "$pcap" ]; then
		fail "$name" "listed in EXPECTED.tsv but missing"
		continue
	fi
	if ! /usr/bin/python3 tests/pcap-flows.py "$pcap" "$server" "$port" >"$tmp/want.jsonl" ||
		[ "$(wc -l <"$tmp/want.jsonl")" -ne "$conns" ]; then
		fail "$name" "the capture holds $(wc -l <"$tmp/want.jsonl") connections to $server:$port, EXPECTED.tsv says $conns"
		continue
	fi
	known=0
	for g in $gaps; do [ "$g" = "$name" ] && known=1; done
	replay "$name (full)" "$pcap" "$tmp/full.jsonl" || continue
	compare "$tmp/want.jsonl" "$tmp/full.jsonl" full >"$tmp/cmp"
	rc=$?
	n=$(head -n 1 "$tmp/cmp")
	compared=$((compared + ${n:-0}))
	if [ $rc -eq 4 ] && [ $known = 1 ]; then
		xfailed=$((xfailed + 1))
		echo "xfail $name: known gap, no flow reported: $(awk -F '\t' -v n="$name" '$1 == n { print $2 }' tests/data/known-gaps.tsv)"
		continue
	elif [ $rc -ne 0 ]; then
		fail "$name (full)" "$(sed -n '2,6p' "$tmp/cmp")${n:+ ($n flows compared)}"
		continue
	fi
	[ $known = 1 ] && echo "XPASS $name: the known gap is closed; remove it from tests/data/known-gaps.tsv"
	ok
	for snap in $snaps; do
		if ! cut_capture "$pcap" "$tmp/cut.pcap" "$snap"; then
			fail "$name -s $snap" "cannot cut the capture"
			continue
		fi
		replay "$name -s $snap" "$tmp/cut.pcap" "$tmp/cut.jsonl" || continue
		compare "$tmp/want.jsonl" "$tmp/cut.jsonl" cut >"$tmp/cmp"
		rc=$?
		n=$(head -n 1 "$tmp/cmp")
		compared=$((compared + ${n:-0}))
		if [ $rc -eq 0 ]; then
			ok
		elif [ $rc -eq 4 ]; then
			empty=$((empty + 1))
			echo "note $name -s $snap: no flow recognised without the payload (not counted)"
		else
			fail "$name -s $snap" "$(sed -n '2,6p' "$tmp/cmp")"
		fi
	done
done <"$tmp/rows"
echo "snaplen: $compared flow events compared with the captures at full length and snap lengths $snaps;" \
	"$empty cut replays without flows"
if [ "$xfailed" -gt 0 ]; then
	echo "snaplen: $passed passed, $failed failed, $xfailed xfailed"
else
	echo "snaplen: $passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
