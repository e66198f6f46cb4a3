#!/bin/sh
# live.sh SENSOR - `make bench`'s live part: the highest packet rate at
# which the daemon loses nothing, beside tcpdump's on the same interface
# at the same rates (run by bench/run.sh).
#
# A veth pair inside a throw-away network namespace (removed on exit with
# every device in it; no traffic leaves it).  trafgen (Debian's netsniff-ng)
# sends SN_LIVE_PACKETS TCP SYNs (random sources and ports, to 1883) into
# veth-a at each rate in SN_LIVE_RATES (packets/s; "max" = trafgen's
# fastest, its TX ring), one trafgen process.  On veth-b, in turn: the
# sensor with capture.workers 1, with 2, and `tcpdump -w /dev/null`, all
# with the sensor's snaplen (512) and the same kernel buffer (8 MiB).  A
# step is lossless when the capture saw every packet veth-a sent (the
# interface's tx counter) and the kernel dropped none (the sensor's stats
# event `dropped`/`if_dropped`, tcpdump's "dropped by kernel").  The rate
# a step reached (packets sent / trafgen's time) is reported beside the
# requested one; a capture's figure is the highest rate it reached with no
# loss, up to its first step with a loss.  veth delivers in the sender's
# context, so a capture that costs more CPU slows the sender on a small
# machine: at "max" the rate reached, not a loss, is what tells captures
# apart.  Prints a Markdown table, and writes it to OUT if given.
#
# Environment: SN_LIVE_RATES (default "100000 300000 max max max"),
# SN_LIVE_PACKETS (per step, default 300000).
set -u
sensor=${1:-./pubsub-sensor}
out=${2:-}
rates=${SN_LIVE_RATES:-100000 300000 max max max}
packets=${SN_LIVE_PACKETS:-300000}

if [ "$(id -u)" != 0 ] || ! command -v trafgen >/dev/null || ! command -v tcpdump >/dev/null; then
	echo "live: skipped (needs root, trafgen from netsniff-ng and tcpdump)"
	exit 0
fi
case $sensor in /*) ;; *) sensor=$(pwd)/$sensor ;; esac
ns=psbench-$$
tmp=$(mktemp -d)
pid=""

cleanup() {
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

ip netns add "$ns" &&
	ip -n "$ns" link add veth-a type veth peer name veth-b &&
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 &&
	ip -n "$ns" link set veth-a up && ip -n "$ns" link set veth-b up || {
	echo "live: cannot create namespace $ns"
	exit 1
}
mac=$(ip netns exec "$ns" cat /sys/class/net/veth-b/address)
cat >"$tmp/syn.cfg" <<EOF2
{
  eth(da=$mac, sa=02:00:00:00:00:01),
  ipv4(sa=10.77.0.1, sa[2]=drnd(), sa[3]=drnd(), da=10.88.0.1, ttl=64),
  tcp(sp=drnd(), dp=1883, seq=drnd(), syn),
  fill(0x00, 6)
}
EOF2
for w in 1 2; do
	cat >"$tmp/w$w.yaml" <<EOF2
capture:
  buffer_mib: 8
  snaplen: 512
  workers: $w
daemon:
  allow_root: true
EOF2
done

tx() { ip netns exec "$ns" cat /sys/class/net/veth-a/statistics/tx_packets; }

# send RATE: trafgen sends $packets SYNs; sets $sent (veth-a's tx counter)
# and $reached (packets/s over the time trafgen reports sending for).
send() {
	before=$(tx)
	limit="-b ${1}pps"
	[ "$1" = max ] && limit=""
	# shellcheck disable=SC2086
	ip netns exec "$ns" timeout 120 trafgen -o veth-a -c "$tmp/syn.cfg" -n "$packets" -P 1 \
		$limit >"$tmp/trafgen.out" 2>&1
	sent=$(($(tx) - before))
	usec=$(tr -d '\r' <"$tmp/trafgen.out" | sed -nE 's/^ *([0-9]+) sec, ([0-9]+) usec on CPU.*/\1 \2/p' |
		awk '{ t += $1 * 1000000 + $2 } END { print t + 0 }')
	reached=0
	[ "$usec" -gt 0 ] && reached=$((sent * 1000000 / usec))
}

# step_sensor WORKERS RATE: "seen dropped if_dropped sent reached" (the stats event's).
step_sensor() {
	rm -f "$tmp/live.jsonl"
	ip netns exec "$ns" "$sensor" -c "$tmp/w$1.yaml" -i veth-b -o "$tmp/live.jsonl" \
		2>"$tmp/live.err" &
	pid=$!
	i=0
	until grep -q "capturing on" "$tmp/live.err" || [ $i -ge 100 ]; do sleep 0.1; i=$((i + 1)); done
	send "$2"
	sleep 2
	kill -TERM "$pid"
	wait "$pid"
	pid=""
	/usr/bin/python3 - "$tmp/live.jsonl" <<'EOF2'
import json, sys
last = {}
for line in open(sys.argv[1]):
    if line.strip():
        e = json.loads(line)
        if e.get("event_type") == "stats":
            last = e
print(last.get("packets", -1), last.get("dropped", -1), last.get("if_dropped", -1))
EOF2
	echo "$sent $reached"
}

# step_tcpdump RATE: "seen dropped if_dropped sent reached" from tcpdump's own count.
step_tcpdump() {
	ip netns exec "$ns" tcpdump -i veth-b -w /dev/null -s 512 -B 8192 -n 2>"$tmp/td.err" &
	pid=$!
	i=0
	until grep -q "listening on" "$tmp/td.err" || [ $i -ge 100 ]; do sleep 0.1; i=$((i + 1)); done
	send "$1"
	sleep 2
	kill -INT "$pid"
	wait "$pid"
	pid=""
	seen=$(sed -nE 's/^([0-9]+) packets? captured.*/\1/p' "$tmp/td.err")
	drop=$(sed -nE 's/^([0-9]+) packets? dropped by kernel.*/\1/p' "$tmp/td.err")
	ifdrop=$(sed -nE 's/^([0-9]+) packets? dropped by interface.*/\1/p' "$tmp/td.err")
	echo "${seen:--1} ${drop:--1} ${ifdrop:-0} $sent $reached"
}

table="| rate asked | capture | rate sent | packets sent | captured | dropped | if_dropped | lossless |
|---:|---|---:|---:|---:|---:|---:|---|"
best_1=0 best_2=0 best_td=0 lost_1=no lost_2=no lost_td=no
# Rates outermost, the three captures in turn at each: the load others put
# on the machine changes by the minute, so they meet the same conditions.
for rate in $rates; do
	for who in 1 2 td; do
		eval "[ \$lost_$who = yes ]" && continue
		if [ $who = td ]; then
			set -- $(step_tcpdump "$rate")
			name="tcpdump -w /dev/null"
		else
			set -- $(step_sensor $who "$rate")
			name="pubsub-sensor, $who worker(s)"
		fi
		sent=$4 reached=$5
		ok=no
		[ "$1" -ge "$sent" ] && [ "$2" = 0 ] && [ "$3" = 0 ] && ok=yes
		row="| $rate | $name | $reached | $sent | $1 | $2 | $3 | $ok |"
		echo "$row"
		table="$table
$row"
		if [ $ok = yes ]; then
			eval "[ \$reached -gt \$best_$who ] && best_$who=\$reached"
		else
			eval "lost_$who=yes"
		fi
	done
done
ratio() { /usr/bin/python3 -c "import sys; a,b=map(int,sys.argv[1:]); print('%.2f' % (a/b) if b else 'n/a')" "$1" "$2"; }
summary="Highest lossless rate (packets/s reached, SYNs of 60 bytes, $packets a step): tcpdump $best_td;
pubsub-sensor with 1 worker $best_1 ($(ratio $best_1 $best_td) of tcpdump's), with 2 workers
$best_2 ($(ratio $best_2 $best_td) of tcpdump's)."
printf '%s\n\n%s\n' "$table" "$summary"
[ -n "$out" ] && printf '%s\n\n%s\n' "$table" "$summary" >"$out"
exit 0
