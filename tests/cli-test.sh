#!/bin/sh
# cli-test.sh SENSOR - the command line as a user meets it: the table, bad
# files, bad options, truncated captures, standard input, several files,
# determinism.  Prints "cli: N passed, M failed".
set -u
sensor=${1:-./pubsub-sensor}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0

ok() { passed=$((passed + 1)); echo "ok   $1"; }
fail() {
	failed=$((failed + 1))
	echo "FAIL $1"
	if [ -n "${2:-}" ]; then echo "     $2"; fi
	return 0
}

# expect NAME WANT-EXIT STDERR-SUBSTRING -- command...
expect() {
	name=$1 want=$2 msg=$3
	shift 4
	"$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
	if [ "$rc" != "$want" ]; then
		fail "$name" "exit $rc, wanted $want; stderr: $(head -c 300 "$tmp/err")"
	elif [ -n "$msg" ] && ! grep -qF -- "$msg" "$tmp/err"; then
		fail "$name" "stderr lacks '$msg': $(head -c 300 "$tmp/err")"
	else
		ok "$name"
	fi
}

expect "missing file" 1 "pubsub-sensor: cannot open 'nope.pcap': No such file or directory" -- \
	"$sensor" -r nope.pcap
[ ! -s "$tmp/out" ] && ok "missing file writes nothing" || fail "missing file writes nothing"
[ "$(wc -l <"$tmp/err")" -eq 1 ] && ok "missing file: one line" || fail "missing file: one line"

expect "missing file among several writes no log" 1 "cannot open 'nope.pcap'" -- \
	"$sensor" -r pcaps/demo.pcap -r nope.pcap -o "$tmp/never.json"
[ ! -e "$tmp/never.json" ] && ok "no event log created on a bad file" || fail "no event log created on a bad file"

echo "this is not a capture" >"$tmp/text.pcap"
expect "not a capture" 1 "text.pcap" -- "$sensor" -r "$tmp/text.pcap"

chmod 000 "$tmp/text.pcap"
if [ "$(id -u)" != 0 ]; then
	expect "unreadable file" 1 "Permission denied" -- "$sensor" -r "$tmp/text.pcap"
fi
chmod 644 "$tmp/text.pcap"

# a capture with an unsupported link type: the pcap header with DLT_USB_LINUX (189)
printf '\324\303\262\241\002\000\004\000\000\000\000\000\000\000\000\000\377\377\000\000\275\000\000\000' >"$tmp/usb.pcap"
expect "unsupported link type" 1 "unsupported link type" -- "$sensor" -r "$tmp/usb.pcap"

# cut off mid-record: warning naming the file and packet, earlier packets reported
size=$(wc -c <pcaps/art-a-mqtt-pub-beacon-x3-1883.pcap)
head -c $((size - 20)) pcaps/art-a-mqtt-pub-beacon-x3-1883.pcap >"$tmp/cut.pcap"
expect "truncated capture warns" 0 "cut.pcap' is cut off" -- \
	"$sensor" -c tests/data/golden.yaml -r "$tmp/cut.pcap" -o "$tmp/cut.json"
grep -q '"event_type":"alert"' "$tmp/cut.json" && ok "truncated capture still reported" ||
	fail "truncated capture still reported"

expect "unknown option" 2 "unknown option" -- "$sensor" --bogus
expect "missing option argument" 2 "missing argument" -- "$sensor" -r
expect "nothing to do" 2 "nothing to do" -- "$sensor"
expect "replay and live together" 2 "not both" -- "$sensor" -r pcaps/demo.pcap -i lo
expect "bad config file" 2 "cannot read 'nope.yaml'" -- "$sensor" -c nope.yaml -r pcaps/demo.pcap
expect "version" 0 "" -- "$sensor" --version
grep -qE '^pubsub-sensor [0-9]+\.[0-9]+\.[0-9]+' "$tmp/out" && ok "version text" || fail "version text"
expect "help" 0 "" -- "$sensor" --help
grep -q -- "-r, --read FILE" "$tmp/out" && ok "help text" || fail "help text"
expect "check-config defaults" 0 "valid" -- "$sensor" --check-config
expect "check-config shipped file" 0 "valid" -- "$sensor" --check-config -c config/pubsub-sensor.yaml

# --check-config on every kind of error: one line, file:line:column, exit 2
for f in tests/data/config/*.yaml; do
	want="pubsub-sensor: $(cat "${f%.yaml}.expected")"
	"$sensor" --check-config -c "$f" >/dev/null 2>"$tmp/err"
	rc=$?
	if [ "$rc" = 2 ] && [ "$(cat "$tmp/err")" = "$want" ]; then
		ok "check-config $(basename "$f")"
	else
		fail "check-config $(basename "$f")" "exit $rc: $(cat "$tmp/err") (wanted: $want)"
	fi
done

# the demo: table with high and medium rows of every protocol
expect "demo replay" 0 "" -- "$sensor" -r pcaps/demo.pcap
for proto in MQTT XMPP AMQP STOMP; do
	grep -E " $proto " "$tmp/out" | grep -qE 'high|medium' && ok "demo shows $proto" || fail "demo shows $proto"
done
head -n 1 "$tmp/out" | grep -q "FirstSeen.*LastSeen.*src_ip.*dest_ip.*Protocol.*dest_port.*IsExternal.*process_name.*Users.*ConnectionCount.*BytesSent.*BytesReceived.*Suspicion" &&
	ok "table header has the search's columns" || fail "table header has the search's columns"
awk 'NR > 1 { print $NF }' "$tmp/out" >"$tmp/susp"
sort -c -r "$tmp/susp" 2>/dev/null; grep -n medium "$tmp/susp" | head -n 1 >"$tmp/firstmed"
if [ -s "$tmp/firstmed" ] && awk -v m="$(cut -d: -f1 "$tmp/firstmed")" 'NR > m && /high/ { bad = 1 } END { exit bad }' "$tmp/susp"; then
	ok "table sorted high before medium"
else
	fail "table sorted high before medium"
fi

# event log to standard output turns the table off; --table sends it to stderr
expect "log on stdout" 0 "" -- "$sensor" -r pcaps/demo.pcap -o -
if grep -q '^FirstSeen' "$tmp/out"; then fail "no table mixed into the log"; else ok "no table mixed into the log"; fi
expect "table on stderr with -o -" 0 "FirstSeen" -- "$sensor" -r pcaps/demo.pcap -o - --table

# determinism and standard input
"$sensor" -r pcaps/demo.pcap -o "$tmp/a.json" --flows >/dev/null 2>&1
"$sensor" -r pcaps/demo.pcap -o "$tmp/b.json" --flows >/dev/null 2>&1
cmp -s "$tmp/a.json" "$tmp/b.json" && ok "two runs byte-identical" || fail "two runs byte-identical"
"$sensor" -r - -o "$tmp/c.json" --flows <pcaps/demo.pcap >/dev/null 2>&1
cmp -s "$tmp/a.json" "$tmp/c.json" && ok "standard input same as file" || fail "standard input same as file"

# several files are one timeline: the same connections split over two files
/usr/bin/python3 tests/split-pcap.py pcaps/art-a-mqtt-pub-beacon-x3-1883.pcap 20 "$tmp/part1.pcap" "$tmp/part2.pcap"
"$sensor" -c tests/data/golden.yaml -r "$tmp/part1.pcap" -r "$tmp/part2.pcap" -o "$tmp/split.json" >/dev/null 2>&1
"$sensor" -c tests/data/golden.yaml -r pcaps/art-a-mqtt-pub-beacon-x3-1883.pcap -o "$tmp/whole.json" >/dev/null 2>&1
grep -v '"stats"' "$tmp/split.json" >"$tmp/s1"; grep -v '"stats"' "$tmp/whole.json" >"$tmp/s2"
[ -s "$tmp/s1" ] && cmp -s "$tmp/s1" "$tmp/s2" && ok "two files read as one timeline" || fail "two files read as one timeline"

echo "cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
