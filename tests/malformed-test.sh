# malformed-test.sh SENSOR [SHARED_DIR] - hostile captures must not hurt the sensor.
#
# Replays every capture of SHARED_DIR/corpus/malformed/tcpdump/ (default
# ../shared; the tcpdump project's test captures: truncated and crafted
# packets of every kind), or the selection in pcaps/malformed/ when that
# folder is absent, one at a time with a 10 s limit.  Run it with the
# sanitizer build (pubsub-sensor-asan) too.  What the sensor must produce is
# taken from libpcap itself (tests/pcap-count.py reads each file with the
# system's libpcap):
#  - a file libpcap reads, with a link type the sensor handles: exit 0 and an
#    event log whose last event is a `stats` event counting exactly the
#    packets libpcap read (and a "cut off" warning when libpcap stopped on a
#    damaged record);
#  - a file libpcap reads with a link type the sensor does not handle: exit 1
#    and one line naming the file and that link type number;
#  - a file libpcap refuses: exit 1 and one line naming the file;
#  - never a sanitizer report, a crash or a hang.
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
passed=0 failed=0 files=0 crashes=0 reports=0 timeouts=0 unreadable=0 wrong=0
: >"$tmp/stats"

fail() {
	failed=$((failed + 1))
	echo "FAIL $1: $2"
	grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:|^ *#[0-9]+ ' "$tmp/err" | head -n 12 |
		sed 's/^/     /'
}

# What libpcap reads from every file, one line each (see pcap-count.py).
for f in "$dir"/*; do
	[ -f "$f" ] || continue
	case $f in *.md | *.txt) continue ;; esac
	printf '%s\n' "$f"
done >"$tmp/list"
if ! tr '\n' '\0' <"$tmp/list" | xargs -0 /usr/bin/python3 tests/pcap-count.py >"$tmp/libpcap"; then
	echo "FAIL cannot count packets with libpcap (tests/pcap-count.py)"
	echo "malformed: 0 passed, 1 failed"
	exit 1
fi

# last_stats_packets EVENTS: the packets of the log's last line when it is a
# stats event, else nothing.
last_stats_packets() {
	tail -n 1 "$1" 2>/dev/null | /usr/bin/python3 -c '
import json, sys
try:
    ev = json.loads(sys.stdin.read())
except ValueError:
    sys.exit(0)
if isinstance(ev, dict) and ev.get("event_type") == "stats" and isinstance(ev.get("packets"), int):
    print(ev["packets"])'
}

while IFS='	' read -r f kind want link end; do
	files=$((files + 1))
	name=$(basename "$f")
	rm -f "$tmp/events"
	timeout -k 2 "$limit" "$sensor" -r "$f" -o "$tmp/events" --no-table \
		>/dev/null 2>"$tmp/err" </dev/null
	rc=$?
	grep -hE '"event_type": ?"stats"' "$tmp/events" >>"$tmp/stats" 2>/dev/null
	lines=$(wc -l <"$tmp/err")
	if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$tmp/err"; then
		reports=$((reports + 1))
		fail "$name" "sanitizer report (exit $rc)"
	elif [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		timeouts=$((timeouts + 1))
		fail "$name" "no exit within ${limit} s"
	elif [ "$rc" -gt 1 ]; then
		crashes=$((crashes + 1))
		fail "$name" "exit status $rc (crash or unexpected status)"
	elif [ "$kind" = refused ]; then
		# libpcap cannot open it: the sensor must say so in one line naming the file
		if [ "$rc" -eq 1 ] && [ "$lines" -eq 1 ] && grep -qF "$name" "$tmp/err" &&
			grep -q '^pubsub-sensor: ' "$tmp/err"; then
			unreadable=$((unreadable + 1))
			passed=$((passed + 1))
		else
			wrong=$((wrong + 1))
			fail "$name" "libpcap refuses it ($want); wanted exit 1 and one line naming the file, got exit $rc: $(head -c 200 "$tmp/err")"
		fi
	elif [ "$rc" -eq 1 ]; then
		# libpcap reads it: the only clean refusal is a link type the sensor
		# does not handle, named with the number libpcap reports
		if [ "$lines" -eq 1 ] && grep -qF "$name" "$tmp/err" &&
			grep -qE "^pubsub-sensor: unsupported link type ([A-Za-z0-9_]+ \($link\)|$link) " "$tmp/err"; then
			unreadable=$((unreadable + 1))
			passed=$((passed + 1))
		else
			wrong=$((wrong + 1))
			fail "$name" "libpcap reads $want packets of link type $link; exit 1 with: $(head -c 200 "$tmp/err")"
		fi
	else
		got=$(last_stats_packets "$tmp/events")
		if [ "$got" != "$want" ]; then
			wrong=$((wrong + 1))
			fail "$name" "libpcap reads $want packets; the last event is ${got:+a stats event with }${got:-not a stats event}${got:+ packets}"
		elif [ "$end" = cut ] && ! grep -q 'is cut off or damaged' "$tmp/err"; then
			wrong=$((wrong + 1))
			fail "$name" "libpcap stops on a damaged record after $want packets; no warning"
		else
			passed=$((passed + 1))
		fi
	fi
done <"$tmp/libpcap"

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
	"$timeouts timeouts, $wrong wrong or missing results, $unreadable rejected cleanly (exit 1)," \
	"$decode_errors decode errors counted"
echo "malformed: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
