#!/bin/sh
# cli-test.sh SENSOR - the command line as a user meets it: the table, bad
# files, bad options, truncated captures, standard input, several files,
# determinism.  Every check looks at something the sensor wrote (an exit
# status together with a message or output it must contain); a check that
# depends on an earlier run fails when that run failed.  Checks that cannot
# run here (root reads any file) are printed and counted as skipped.
# Prints "cli: N passed, M failed, K skipped".
set -u
sensor=${1:-./pubsub-sensor}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0 skipped=0

ok() { passed=$((passed + 1)); echo "ok   $1"; }
fail() {
	failed=$((failed + 1))
	echo "FAIL $1"
	if [ -n "${2:-}" ]; then echo "     $2"; fi
	return 0
}
skip() { skipped=$((skipped + 1)); echo "skip $1: $2"; }

# expect NAME WANT-EXIT STDERR-SUBSTRING STDOUT-ERE -- command...
# The run must exit WANT-EXIT; STDERR-SUBSTRING (when not empty) must be in
# its standard error and STDOUT-ERE (when not empty) must match a line of
# its standard output.  Sets last=0 when all held, else last=1.
expect() {
	name=$1 want=$2 msg=$3 outre=$4
	shift 5
	"$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
	last=1
	if [ "$rc" != "$want" ]; then
		fail "$name" "exit $rc, wanted $want; stderr: $(head -c 300 "$tmp/err")"
	elif [ -n "$msg" ] && ! grep -qF -- "$msg" "$tmp/err"; then
		fail "$name" "stderr lacks '$msg': $(head -c 300 "$tmp/err")"
	elif [ -n "$outre" ] && ! grep -qE -- "$outre" "$tmp/out"; then
		fail "$name" "standard output has no line matching '$outre': $(head -c 300 "$tmp/out")"
	else
		last=0
		ok "$name"
	fi
}

# A check of what a run did NOT write must also require that the run itself
# did what was asked ("$last" = 0 after expect): a binary that writes
# nothing must not pass it.

# runs FILE-PREFIX command...: runs a command whose output another check
# compares; 0 only when it exited 0 and wrote a non-empty event log.
# The log is the -o argument of the command, given as FILE-PREFIX.json.
runs() {
	prefix=$1
	shift
	rm -f "$prefix.json"
	"$@" >"$prefix.out" 2>"$prefix.err"
	rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "     $(basename "$prefix"): exit $rc: $(head -c 200 "$prefix.err")"
		return 1
	fi
	if ! grep -q '"event_type":"stats"' "$prefix.json" 2>/dev/null; then
		echo "     $(basename "$prefix"): no stats event in the event log"
		return 1
	fi
	return 0
}

expect "missing file" 1 "pubsub-sensor: cannot open 'nope.pcap': No such file or directory" "" -- \
	"$sensor" -r nope.pcap
[ "$last" = 0 ] && [ ! -s "$tmp/out" ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] &&
	ok "missing file: one line on stderr, nothing on stdout" ||
	fail "missing file: one line on stderr, nothing on stdout"

expect "missing file among several writes no log" 1 "cannot open 'nope.pcap'" "" -- \
	"$sensor" -r pcaps/demo.pcap -r nope.pcap -o "$tmp/never.json"
[ "$last" = 0 ] && [ ! -e "$tmp/never.json" ] && ok "no event log created on a bad file" ||
	fail "no event log created on a bad file"

echo "this is not a capture" >"$tmp/text.pcap"
expect "not a capture" 1 "text.pcap" "" -- "$sensor" -r "$tmp/text.pcap"

chmod 000 "$tmp/text.pcap"
if [ "$(id -u)" != 0 ]; then
	expect "unreadable file" 1 "Permission denied" "" -- "$sensor" -r "$tmp/text.pcap"
else
	skip "unreadable file" "root reads a mode 000 file; run as another user to check it"
fi
chmod 644 "$tmp/text.pcap"

# a capture with an unsupported link type: the pcap header with DLT_USB_LINUX (189)
printf '\324\303\262\241\002\000\004\000\000\000\000\000\000\000\000\000\377\377\000\000\275\000\000\000' >"$tmp/usb.pcap"
expect "unsupported link type" 1 "unsupported link type" "" -- "$sensor" -r "$tmp/usb.pcap"

# cut off mid-record: warning naming the file and packet, earlier packets reported
size=$(wc -c <pcaps/art-a-mqtt-pub-beacon-x3-1883.pcap)
head -c $((size - 20)) pcaps/art-a-mqtt-pub-beacon-x3-1883.pcap >"$tmp/cut.pcap"
expect "truncated capture warns" 0 "cut.pcap' is cut off" "" -- \
	"$sensor" -c tests/data/golden.yaml -r "$tmp/cut.pcap" -o "$tmp/cut.json"
grep -q '"event_type":"alert"' "$tmp/cut.json" 2>/dev/null && ok "truncated capture still reported" ||
	fail "truncated capture still reported"

expect "unknown option" 2 "unknown option" "" -- "$sensor" --bogus
expect "missing option argument" 2 "missing argument" "" -- "$sensor" -r
expect "nothing to do" 2 "nothing to do" "" -- "$sensor"
expect "replay and live together" 2 "not both" "" -- "$sensor" -r pcaps/demo.pcap -i lo
expect "bad config file" 2 "cannot read 'nope.yaml'" "" -- "$sensor" -c nope.yaml -r pcaps/demo.pcap
expect "version" 0 "" '^pubsub-sensor [0-9]+\.[0-9]+\.[0-9]+$' -- "$sensor" --version
expect "help" 0 "" '-r, --read FILE' -- "$sensor" --help
expect "check-config defaults" 0 "valid" '^sensor_name: ' -- "$sensor" --check-config
expect "check-config shipped file" 0 "valid" '^sensor_name: ' -- \
	"$sensor" --check-config -c config/pubsub-sensor.yaml

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
table_header='FirstSeen.*LastSeen.*src_ip.*dest_ip.*Protocol.*dest_port.*IsExternal.*process_name.*Users.*ConnectionCount.*BytesSent.*BytesReceived.*Suspicion'
expect "demo replay prints the table" 0 "" "$table_header" -- "$sensor" -r pcaps/demo.pcap
for proto in MQTT XMPP AMQP STOMP; do
	grep -E " $proto " "$tmp/out" | grep -qE 'high|medium' && ok "demo shows $proto" || fail "demo shows $proto"
done
# The search's order: Suspicion high, medium, low, then ConnectionCount
# descending.  Rows are the lines ending in a suspicion; rank and count
# (the fourth field from the end) must be sorted.
awk '$NF ~ /^(high|medium|low)$/ {
	r = ($NF == "high") ? 0 : ($NF == "medium") ? 1 : 2
	print r, $(NF - 3) }' "$tmp/out" >"$tmp/order"
if [ "$(wc -l <"$tmp/order")" -lt 2 ] || ! grep -q '^0 ' "$tmp/order" || ! grep -q '^1 ' "$tmp/order"; then
	fail "table sorted by Suspicion, then ConnectionCount" "fewer than 2 rows, or no high and medium rows"
elif sort -c -k1,1n -k2,2nr "$tmp/order" 2>"$tmp/sortc"; then
	ok "table sorted by Suspicion, then ConnectionCount"
else
	fail "table sorted by Suspicion, then ConnectionCount" "$(cat "$tmp/sortc")"
fi

# event log to standard output turns the table off; --table sends it to stderr
expect "log on stdout" 0 "" '"event_type":"stats"' -- "$sensor" -r pcaps/demo.pcap -o -
if [ "$last" = 0 ] && ! grep -q '^FirstSeen' "$tmp/out" && grep -q '"event_type":"alert"' "$tmp/out"; then
	ok "no table mixed into the log"
else
	fail "no table mixed into the log"
fi
expect "table on stderr with -o -" 0 "FirstSeen" '"event_type":"stats"' -- \
	"$sensor" -r pcaps/demo.pcap -o - --table

# determinism and standard input: each run must exit 0 and write a log
# ending in its stats event before the logs are compared
if runs "$tmp/a" "$sensor" -r pcaps/demo.pcap -o "$tmp/a.json" --flows &&
	runs "$tmp/b" "$sensor" -r pcaps/demo.pcap -o "$tmp/b.json" --flows &&
	grep -q '"event_type":"flow"' "$tmp/a.json"; then
	cmp -s "$tmp/a.json" "$tmp/b.json" && ok "two runs byte-identical" || fail "two runs byte-identical"
	if runs "$tmp/c" "$sensor" -r - -o "$tmp/c.json" --flows <pcaps/demo.pcap; then
		cmp -s "$tmp/a.json" "$tmp/c.json" && ok "standard input same as file" ||
			fail "standard input same as file"
	else
		fail "standard input same as file" "the run from standard input failed"
	fi
else
	fail "two runs byte-identical" "a run failed or wrote no flow events"
	fail "standard input same as file" "the runs to compare with failed"
fi

# several files are one timeline: the same connections split over two files
/usr/bin/python3 tests/split-pcap.py pcaps/art-a-mqtt-pub-beacon-x3-1883.pcap 20 "$tmp/part1.pcap" "$tmp/part2.pcap"
if runs "$tmp/split" "$sensor" -c tests/data/golden.yaml -r "$tmp/part1.pcap" -r "$tmp/part2.pcap" \
	-o "$tmp/split.json" &&
	runs "$tmp/whole" "$sensor" -c tests/data/golden.yaml -r pcaps/art-a-mqtt-pub-beacon-x3-1883.pcap \
		-o "$tmp/whole.json"; then
	grep -v '"stats"' "$tmp/split.json" >"$tmp/s1"
	grep -v '"stats"' "$tmp/whole.json" >"$tmp/s2"
	grep -q '"event_type":"alert"' "$tmp/s1" && cmp -s "$tmp/s1" "$tmp/s2" &&
		ok "two files read as one timeline" || fail "two files read as one timeline"
else
	fail "two files read as one timeline" "a run failed"
fi

# --- files the sensor creates: never through a planted link (issue 8 item 2)
echo precious >"$tmp/victim"
ln -s "$tmp/victim" "$tmp/planted.json"
expect "-o symlink refused" 2 "event log '$tmp/planted.json' is a symbolic link" "" -- \
	"$sensor" -r pcaps/demo.pcap -o "$tmp/planted.json"
[ "$last" = 0 ] && [ "$(cat "$tmp/victim")" = precious ] && ok "-o symlink target untouched" ||
	fail "-o symlink target untouched"
[ "$(wc -l <"$tmp/err")" -eq 1 ] && ok "-o symlink: one line" || fail "-o symlink: one line"
mkdir -m 0777 "$tmp/ww"
expect "-o in world-writable directory refused" 2 "directory '$tmp/ww' is writable by every user (mode 0777, no sticky bit)" "" -- \
	"$sensor" -r pcaps/demo.pcap -o "$tmp/ww/events.json"
[ "$last" = 0 ] && [ ! -e "$tmp/ww/events.json" ] && ok "nothing created in the world-writable directory" ||
	fail "nothing created in the world-writable directory"
mkdir -m 1777 "$tmp/sticky"
runs "$tmp/sticky/events" "$sensor" -r pcaps/demo.pcap -o "$tmp/sticky/events.json" &&
	ok "-o in a sticky directory of ours accepted" || fail "-o in a sticky directory of ours accepted"
printf 'daemon:\n  pid_file: "%s"\n' "$tmp/ww/sensor.pid" >"$tmp/pidww.yaml"
expect "pid file in world-writable directory refused" 2 "pid file '$tmp/ww/sensor.pid': directory" "" -- \
	"$sensor" -c "$tmp/pidww.yaml" -i lo
ln -s "$tmp/victim" "$tmp/planted.pid"
printf 'daemon:\n  pid_file: "%s"\n' "$tmp/planted.pid" >"$tmp/pidlink.yaml"
expect "pid file symlink refused" 2 "pid file '$tmp/planted.pid' is a symbolic link" "" -- \
	"$sensor" -c "$tmp/pidlink.yaml" -i lo
[ "$last" = 0 ] && [ "$(cat "$tmp/victim")" = precious ] && ok "pid symlink target untouched" ||
	fail "pid symlink target untouched"

# --- writes that fail (issue 8 item 3)
expect "-o /dev/full fails" 1 "pubsub-sensor: event log '/dev/full': No space left on device; " "" -- \
	"$sensor" -r pcaps/demo.pcap -o /dev/full
# every event of the demo is lost: the count is that of a good run's lines
"$sensor" -r pcaps/demo.pcap -o "$tmp/full-ref.json" >/dev/null 2>&1
want_lost=$(wc -l <"$tmp/full-ref.json")
"$sensor" -r pcaps/demo.pcap -o /dev/full >/dev/null 2>"$tmp/err"
grep -qF "; $want_lost events lost" "$tmp/err" && ok "-o /dev/full counts $want_lost lost events" ||
	fail "-o /dev/full counts $want_lost lost events" "$(cat "$tmp/err")"
# a reader that is gone before the first line: EPIPE, one line, exit 1
{ sleep 0.3; "$sensor" -r pcaps/demo.pcap -o - 2>"$tmp/err"; echo $? >"$tmp/rc"; } | true
[ "$(cat "$tmp/rc")" = 1 ] && grep -qF "event log '-' (standard output): Broken pipe" "$tmp/err" &&
	ok "-o - into a closed pipe: exit 1 and a message" ||
	fail "-o - into a closed pipe: exit 1 and a message" "exit $(cat "$tmp/rc"): $(cat "$tmp/err")"
# ... and the replay stops at the first lost line's packet: fewer events lost than a whole run writes
lost=$(sed -n 's/.*; \([0-9]*\) events\{0,1\} lost; replay stopped$/\1/p' "$tmp/err")
[ -n "$lost" ] && [ "$lost" -lt "$want_lost" ] && ok "-o - into a closed pipe: the replay stops ($lost of $want_lost lost)" ||
	fail "-o - into a closed pipe: the replay stops" "$(cat "$tmp/err")"
{ sleep 0.3; "$sensor" -r pcaps/demo.pcap 2>"$tmp/err"; echo $? >"$tmp/rc"; } | true
[ "$(cat "$tmp/rc")" = 1 ] && grep -qF "cannot write the table to standard output: Broken pipe" "$tmp/err" &&
	ok "table into a closed pipe: exit 1 and a message" ||
	fail "table into a closed pipe: exit 1 and a message" "exit $(cat "$tmp/rc"): $(cat "$tmp/err")"

# the daemon with -o - into a closed pipe: says so once, keeps capturing (root: captures on lo)
if [ "$(id -u)" = 0 ]; then
	mkdir "$tmp/run"
	printf 'output:\n  stats_interval: 1\n  error_report_interval: 1\ndaemon:\n  allow_root: true\n  pid_file: "%s"\n' \
		"$tmp/run/sensor.pid" >"$tmp/live.yaml"
	{ "$sensor" -c "$tmp/live.yaml" -i lo -o - 2>"$tmp/live.err"; echo $? >"$tmp/live.rc"; } | true &
	i=0
	while [ ! -s "$tmp/run/sensor.pid" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	pid=$(cat "$tmp/run/sensor.pid" 2>/dev/null)
	sleep 3.5 # three stats events, each lost
	alive=0
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		alive=1
		ok "daemon keeps capturing after EPIPE"
		kill -TERM "$pid"
	else
		fail "daemon keeps capturing after EPIPE" "$(cat "$tmp/live.err")"
	fi
	wait
	n=$(grep -c "Broken pipe" "$tmp/live.err")
	[ "$n" = 1 ] && ok "daemon reports EPIPE once" || fail "daemon reports EPIPE once" "$n lines: $(cat "$tmp/live.err")"
	[ "$alive" = 1 ] && [ "$(cat "$tmp/live.rc")" = 0 ] && ok "daemon exits 0 on SIGTERM after EPIPE" ||
		fail "daemon exits 0 on SIGTERM after EPIPE" "exit $(cat "$tmp/live.rc")"
else
	skip "daemon with -o - into a closed pipe" "capturing on lo needs root"
fi

# wire strings that attack the terminal: escaped in the table (one line per
# row, no raw control byte) and in the event log (valid JSON, no raw C1,
# DEL or U+2028/U+2029), from a capture generated here
if /usr/bin/python3 tests/make-hostile-pcap.py "$tmp/hostile.pcap" 2>"$tmp/gen.err"; then
	if runs "$tmp/hostile" "$sensor" -r "$tmp/hostile.pcap" -o "$tmp/hostile.json" --flows; then
		t="$tmp/hostile.out"
		[ "$(wc -l <"$t")" -eq 4 ] && grep -q '^FirstSeen' "$t" &&
			ok "hostile strings: one table line per row" ||
			fail "hostile strings: one table line per row" "$(head -c 600 "$t")"
		if LC_ALL=C grep -q "$(printf '[\001-\011\013-\037\177]')" "$t" ||
			LC_ALL=C grep -q "$(printf '\302[\200-\237]\|\342\200[\250\251]')" "$t"; then
			fail "hostile strings: no raw control in the table" "$(head -c 600 "$t" | od -c | head -20)"
		else
			ok "hostile strings: no raw control in the table"
		fi
		grep -qF 'ev\x0ail\x1b[2J\x1b]52;c;aGk=\x07\u009b\u2028x' "$t" &&
			grep -qF 'u\xc0\xaf\x07\x7f' "$t" &&
			ok "hostile strings: spelled out in the table" ||
			fail "hostile strings: spelled out in the table" "$(head -c 600 "$t")"
		expect "--table-format csv" 0 "" "" -- "$sensor" -r "$tmp/hostile.pcap" --table-format csv
		if [ "$last" = 0 ] && /usr/bin/python3 - "$tmp/out" <<'PY'; then
import csv, sys
rows = list(csv.reader(open(sys.argv[1], encoding="utf-8", newline="")))
assert len(rows) == 4 and all(len(r) == 13 for r in rows), rows
assert rows[0][0] == "FirstSeen (UTC)" and rows[0][8] == "Users", rows[0]
users = {r[3]: r[8] for r in rows[1:]}
assert users["203.0.113.11"] == "'=1+2,@SUM(A1)", users
assert users["203.0.113.9"] == "ev\\x0ail\\x1b[2J\\x1b]52;c;aGk=\\x07\\u009b\\u2028x", users
assert not any(f[:1] in ("=", "+", "-", "@") for r in rows for f in r), rows
PY
			ok "csv table: formulas guarded, controls escaped"
		else
			fail "csv table: formulas guarded, controls escaped" "$(head -c 600 "$tmp/out")"
		fi
		expect "--table-format bogus refused" 2 "--table-format wants text or csv, not 'xml'" "" -- \
			"$sensor" -r "$tmp/hostile.pcap" --table-format xml
		if /usr/bin/python3 - "$tmp/hostile.json" <<'PY'; then
import json, sys
import jsonschema
schema = json.load(open("tests/spec/events.schema.json", encoding="utf-8"))
raw = open(sys.argv[1], "rb").read()
bad = [c for c in ("\u2028", "\u2029", "\x7f", "\u009b", "\u0085") if c.encode() in raw]
assert not bad, f"raw {bad!r} in the event log"
users = set()
for line in raw.decode("utf-8").splitlines():
    ev = json.loads(line)
    jsonschema.validate(ev, schema)
    users.update(ev.get("Users", []))
    if ev.get("Protocol") == "MQTT" and ev["event_type"] == "flow":
        assert ev["client_ids"] == ["id\ufffd\ufffd\x1b[31m\u0085"], ev["client_ids"]
want = "ev\nil\x1b[2J\x1b]52;c;aGk=\x07\u009b\u2028x"
assert want in users, users
PY
			ok "hostile strings: event log valid and escaped"
		else
			fail "hostile strings: event log valid and escaped"
		fi
	else
		fail "hostile strings: replay" "the replay failed"
	fi
else
	fail "hostile strings: capture" "tests/make-hostile-pcap.py failed: $(head -c 300 "$tmp/gen.err")"
fi

# --- filters like tcpdump (issue 8 item 15): an AMQP and an XMPP capture,
# expected groups from pcaps/EXPECTED.tsv
amqp=amqp091-pika-userpass-5672.pcap xmpp=xmpp-slixmpp-login-plaintext-5222.pcap
tsv_field() { awk -F'\t' -v f="$1" -v c="$2" '$1 == f { print $c }' pcaps/EXPECTED.tsv; }
# summaries LOG: "Protocol dest_port ConnectionCount" of every summary, sorted
summaries() {
	grep '"event_type":"summary"' "$1" |
		sed -E 's/.*"Protocol":"([A-Z]+)".*"dest_port":([0-9]+).*"ConnectionCount":([0-9]+).*/\1 \2 \3/' | sort
}
want_xmpp="$(tsv_field $xmpp 2) $(tsv_field $xmpp 6) $(tsv_field $xmpp 7)"
want_amqp="$(tsv_field $amqp 2) $(tsv_field $amqp 6) $(tsv_field $amqp 7)"
"$sensor" -c tests/data/golden.yaml -r pcaps/$amqp -r pcaps/$xmpp -o "$tmp/nofilter.json" >/dev/null 2>&1
[ "$(summaries "$tmp/nofilter.json")" = "$(printf '%s\n%s' "$want_amqp" "$want_xmpp")" ] &&
	ok "without a filter: both groups" || fail "without a filter: both groups" "$(summaries "$tmp/nofilter.json")"
expect "trailing filter words" 0 "" '^FirstSeen' -- "$sensor" -c tests/data/golden.yaml \
	-r pcaps/$amqp -r pcaps/$xmpp -o "$tmp/f1.json" tcp port "$(tsv_field $xmpp 6)"
[ "$last" = 0 ] && [ "$(summaries "$tmp/f1.json")" = "$want_xmpp" ] &&
	ok "trailing filter keeps only the $want_xmpp group" ||
	fail "trailing filter keeps only the $want_xmpp group" "$(summaries "$tmp/f1.json")"
expect "-f filter" 0 "" '^FirstSeen' -- "$sensor" -c tests/data/golden.yaml \
	-r pcaps/$amqp -r pcaps/$xmpp -o "$tmp/f2.json" -f "tcp port $(tsv_field $amqp 6)"
[ "$last" = 0 ] && [ "$(summaries "$tmp/f2.json")" = "$want_amqp" ] &&
	ok "-f applies to every -r file: only the $want_amqp group" ||
	fail "-f applies to every -r file: only the $want_amqp group" "$(summaries "$tmp/f2.json")"
printf 'capture:\n  filter: "tcp port 5672"\n' >"$tmp/cfgfilter.yaml"
"$sensor" -c "$tmp/cfgfilter.yaml" -r pcaps/$amqp -r pcaps/$xmpp -o "$tmp/f3.json" --no-table 'tcp port 5222' 2>"$tmp/err"
grep -q '"Protocol":"XMPP"' "$tmp/f3.json" && ! grep -q '"Protocol":"AMQP"' "$tmp/f3.json" &&
	ok "the command line's filter replaces capture.filter" ||
	fail "the command line's filter replaces capture.filter" "$(cat "$tmp/err")"
# live on lo (root): -f reaches the kernel filter; 5 datagrams to a port
# nothing listens on, counted by the final stats event
live_count() {
	"$sensor" -c "$tmp/livef.yaml" -i lo -o "$tmp/livef.json" -f "$1" 2>"$tmp/livef.err" &
	lpid=$!
	sleep 0.7
	/usr/bin/python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(5): s.sendto(b"x", ("127.0.0.1", 47113))'
	sleep 0.7
	kill -TERM "$lpid"
	wait "$lpid"
	tail -n 1 "$tmp/livef.json" | sed -nE 's/.*"packets":([0-9]+).*/\1/p'
	rm -f "$tmp/livef.json"
}
if [ "$(id -u)" = 0 ]; then
	printf 'daemon:\n  allow_root: true\n' >"$tmp/livef.yaml"
	n=$(live_count "udp dst port 47113")
	[ "$n" = 5 ] && ok "live -f: the 5 matching packets" || fail "live -f: the 5 matching packets" "packets: $n"
	n=$(live_count "tcp dst port 47113")
	[ "$n" = 0 ] && ok "live -f: no packet of another protocol" ||
		fail "live -f: no packet of another protocol" "packets: $n"
else
	skip "live -f" "capturing on lo needs root"
fi
expect "bad filter" 2 "pubsub-sensor: bad BPF filter 'tcp prot 5222': " "" -- \
	"$sensor" -r pcaps/demo.pcap tcp prot 5222
[ "$last" = 0 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && [ ! -s "$tmp/out" ] &&
	ok "bad filter: one line, no output" || fail "bad filter: one line, no output"
expect "bad -f filter live" 2 "pubsub-sensor: bad BPF filter 'port 99999': " "" -- \
	"$sensor" -i lo -f 'port 99999'
expect "-f and words" 2 "either with -f or after the options" "" -- \
	"$sensor" -r pcaps/demo.pcap -f 'tcp' port 1
expect "repeated -i" 2 "-i given twice ('lo' and 'eth0')" "" -- "$sensor" -i lo -i eth0
expect "a file without -r" 2 "'pcaps/demo.pcap' is a file: replay it with -r pcaps/demo.pcap" "" -- \
	"$sensor" pcaps/demo.pcap
expect "check-config with a bad capture.filter" 2 "$tmp/cfgbad.yaml:2:11: capture.filter: bad BPF filter" "" -- \
	sh -c "printf 'capture:\n  filter: \"tcp prot 1\"\n' >'$tmp/cfgbad.yaml'; exec '$sensor' --check-config -c '$tmp/cfgbad.yaml'"

# --- input conveniences (issue 8 item 18)
gzip -c pcaps/demo.pcap >"$tmp/demo.pcap.gz"
"$sensor" -r pcaps/demo.pcap -o "$tmp/plain.json" --flows >"$tmp/plain.table" 2>&1
expect "gzip-compressed capture" 0 "" "^FirstSeen" -- "$sensor" -r "$tmp/demo.pcap.gz" -o "$tmp/gz.json" --flows
[ "$last" = 0 ] && grep -q '"event_type":"alert"' "$tmp/plain.json" && cmp -s "$tmp/plain.json" "$tmp/gz.json" &&
	cmp -s "$tmp/plain.table" "$tmp/out" &&
	ok "gzip capture: same events and table as the plain one" ||
	fail "gzip capture: same events and table as the plain one"
"$sensor" -r - -o "$tmp/gzin.json" --flows <"$tmp/demo.pcap.gz" >/dev/null 2>&1
cmp -s "$tmp/plain.json" "$tmp/gzin.json" && ok "gzip capture on standard input" ||
	fail "gzip capture on standard input"
: >"$tmp/empty.pcap"
expect "empty file" 1 "pubsub-sensor: '$tmp/empty.pcap': empty file" "" -- "$sensor" -r "$tmp/empty.pcap"
[ "$last" = 0 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && ok "empty file: one line" || fail "empty file: one line"
expect "help says -o appends" 0 "" "an existing file is appended to" -- "$sensor" --help

# packet times no event can carry (classic pcap seconds 0x80000000 and
# 0xffffffff, read as negative by libpcap): dropped and counted as
# timestamp_out_of_range; the other events are those of the capture without them
if [ -s "$tmp/hostile.pcap" ] && /usr/bin/python3 - "$tmp/hostile.pcap" "$tmp/badtime.pcap" <<'PY'; then
import struct, sys
data = open(sys.argv[1], "rb").read()
head, at, recs = data[:24], 24, []
while at < len(data):
    sec, usec, incl, orig = struct.unpack_from("<IIII", data, at)
    recs.append(data[at:at + 16 + incl])
    at += 16 + incl
out = [head]
for i, r in enumerate(recs):
    out.append(r)
    if i in (3, 20):  # a copy of a data packet, at a time out of range
        out.append(struct.pack("<I", 0x80000000 if i == 3 else 0xFFFFFFFF) + r[4:])
open(sys.argv[2], "wb").write(b"".join(out))
PY
	if runs "$tmp/badtime" "$sensor" -r "$tmp/badtime.pcap" -o "$tmp/badtime.json" --flows --no-table &&
		runs "$tmp/goodtime" "$sensor" -r "$tmp/hostile.pcap" -o "$tmp/goodtime.json" --flows --no-table; then
		if /usr/bin/python3 - "$tmp/badtime.json" "$tmp/goodtime.json" <<'PY'; then
import json, sys
import jsonschema
schema = json.load(open("tests/spec/events.schema.json", encoding="utf-8"))
bad = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
good = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8")]
for ev in bad:
    jsonschema.validate(ev, schema)
    assert ev["timestamp"].startswith("2026-"), ev["timestamp"]
stats = bad[-1]
assert stats["event_type"] == "stats"
assert stats["decode_errors"].get("timestamp_out_of_range") == 2, stats["decode_errors"]
strip = lambda evs: [e for e in evs if e["event_type"] != "stats"]
assert strip(bad) == strip(good), "events differ from the capture without the bad times"
assert any(e["event_type"] == "alert" for e in bad)
PY
			ok "times out of range dropped and counted"
		else
			fail "times out of range dropped and counted"
		fi
	else
		fail "times out of range dropped and counted" "a replay failed"
	fi
else
	fail "times out of range dropped and counted" "could not build the capture"
fi

# --- thresholds on the command line (issue 8 item 14): a one-connection
# STOMP capture to a loopback broker counted as external (high), and the
# demo, whose 10.20.1.19 -> 10.20.0.4 MQTT group is rated low
printf 'home_networks:\n  - 10.0.0.0/8\nrules:\n  min_connections: 5\n' >"$tmp/ext.yaml"
one=oneshot-stomp-nc-61613.pcap
one_conns=$(awk -F'\t' -v f=$one '$1 == f { print $7 }' pcaps/EXPECTED.tsv)
expect "one connection: below the threshold, said under the table" 0 "" \
	"^1 group below the threshold \(rules.min_connections 5\): --min-connections 1 shows it$" -- \
	"$sensor" -c "$tmp/ext.yaml" -r pcaps/$one
grep -qx 'no alerts: 1 connection in 1 group, none met the rule (at least 5 connections, suspicion medium or higher)' "$tmp/out" &&
	ok "one connection: no alerts by default" ||
	fail "one connection: no alerts by default" "$(cat "$tmp/out")"
expect "--min-connections 1 shows it" 0 "" \
	"^[0-9-]+ [0-9:.]+  [0-9-]+ [0-9:.]+  127\.0\.0\.1 +127\.0\.0\.1 +STOMP +61613  yes .* $one_conns +[0-9]+ +[0-9]+  high$" -- \
	"$sensor" -c "$tmp/ext.yaml" -r pcaps/$one --min-connections 1 -o "$tmp/min1.json"
[ "$last" = 0 ] && ! grep -q 'below' "$tmp/out" && ok "--min-connections 1: no footer left" ||
	fail "--min-connections 1: no footer left" "$(cat "$tmp/out")"
grep -q '"reasons":\[[^]]*"1 connection (threshold 1)"' "$tmp/min1.json" &&
	ok "reason says 1 connection" || fail "reason says 1 connection" "$(grep -o '"reasons":[^]]*]' "$tmp/min1.json")"
expect "demo: low group below the suspicion minimum" 0 "" \
	"^1 group below the suspicion minimum \(rules.min_suspicion medium\): --min-suspicion low shows it$" -- \
	"$sensor" -r pcaps/demo.pcap
expect "--min-suspicion low shows it" 0 "" "10\.20\.1\.19 +10\.20\.0\.4 +MQTT +1883 .* low$" -- \
	"$sensor" -r pcaps/demo.pcap --min-suspicion low
[ "$last" = 0 ] && ! grep -q 'below' "$tmp/out" && ok "--min-suspicion low: no footer left" ||
	fail "--min-suspicion low: no footer left" "$(cat "$tmp/out")"
expect "--check-config shows the command line's thresholds" 0 "" "^  min_suspicion: high$" -- \
	"$sensor" -c "$tmp/ext.yaml" --check-config --min-connections 7 --min-suspicion high
grep -q '^  min_connections: 7$' "$tmp/out" && ok "--min-connections replaces rules.min_connections" ||
	fail "--min-connections replaces rules.min_connections" "$(cat "$tmp/out")"
expect "--min-connections 0 refused" 2 "--min-connections wants a whole number from 1 to 1000000000, not '0'" "" -- \
	"$sensor" -r pcaps/demo.pcap --min-connections 0
expect "--min-connections 2x refused" 2 "not '2x'" "" -- "$sensor" -r pcaps/demo.pcap --min-connections 2x
expect "--min-suspicion bogus refused" 2 "--min-suspicion wants low, medium or high, not 'severe'" "" -- \
	"$sensor" -r pcaps/demo.pcap --min-suspicion severe
[ "$last" = 0 ] && [ ! -s "$tmp/out" ] && ok "bad threshold: no output" || fail "bad threshold: no output"

echo "cli: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
