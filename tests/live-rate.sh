#!/bin/sh
# live-rate.sh SENSOR [CAPTURE] - the highest replay rate the live sensor
# keeps up with, for capture.workers 1 and 2 (not part of `make test`).
#
# Needs root.  Like workers-test.sh it works on a veth pair inside a
# throw-away network namespace.  CAPTURE defaults to a synthetic mix made by
# the benchmark generator (bench/gen.c, built with make; 1% pub/sub, every
# one reported); without it, pcaps/demo.pcap looped 200 times.  For each
# worker count the rate steps up (tcpreplay --pps) until a run loses
# something (a step of "topspeed" sends as fast as tcpreplay can): a step
# passes when the stats event says dropped == 0 and the
# summary groups (src_ip, dest_ip, dest_port, Protocol, ConnectionCount,
# BytesSent, BytesReceived, Suspicion) equal those of an offline replay.
# Prints one line per step and a summary table.
#
# The kernel ring is kept small (capture.buffer_mib: 8, about 14000 frames
# at the default snaplen) and the capture large, so a step measures the
# rate the sensor sustains rather than the burst the ring can absorb.  On a
# small machine tcpreplay (preloading the capture, -K) may be the limit: the rate it achieved is
# printed beside the one requested.
#
# Environment: SN_RATE_WORKERS (default "1 2"), SN_RATE_STEPS (packets per
# second, default "25000 50000 100000 150000 200000 300000 topspeed"),
# SN_RATE_PACKETS (generated capture size, default 500000).
set -u
sensor=${1:-./pubsub-sensor}
capture=${2:-}
workers=${SN_RATE_WORKERS:-1 2}
steps=${SN_RATE_STEPS:-25000 50000 100000 150000 200000 300000 topspeed}
packets=${SN_RATE_PACKETS:-500000}

if [ "$(id -u)" != 0 ]; then
	echo "live-rate needs root (network namespace, live capture)"
	exit 0
fi
top=$(cd "$(dirname "$0")/.." && pwd)
case $sensor in /*) ;; *) sensor=$(pwd)/$sensor ;; esac
case $capture in /* | "") ;; *) capture=$(pwd)/$capture ;; esac
cd "$top" || exit 1
ns=psrate-$$
tmp=$(mktemp -d)
pid=""
loop=1

cleanup() {
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# A reproducible synthetic capture from the benchmark generator, if it builds.
make_capture() {
	dir=build/live-rate
	out=$dir/mix-$packets.pcap
	if [ ! -s "$out" ]; then
		make --no-print-directory build/bench/gen >/dev/null 2>&1 || return 1
		mkdir -p "$dir"
		build/bench/gen --seed 3 --packets "$packets" --pubsub-share 0.01 --ipv6-share 0.15 \
			--vlan-share 0 --nonstd-share 0.43 --external-share 0.5 --repeat 3 \
			--avg-size 565 -w "$out" --truth "$dir/mix-$packets.tsv" >/dev/null || return 1
	fi
	capture=$top/$out
}

if [ -z "$capture" ] && ! make_capture; then
	capture=$top/pcaps/demo.pcap
	loop=200
fi

# Every pub/sub connection makes a group; none are home.
cat >"$tmp/rate.yaml" <<EOF
capture:
  buffer_mib: 8
  workers: 1
home_networks: []
rules:
  min_connections: 1
  min_suspicion: low
tables:
  max_groups: 262144
daemon:
  allow_root: true
EOF

groups_of() { /usr/bin/python3 "$(dirname "$0")/events_summary.py" groups "$1"; }

stats_of() { /usr/bin/python3 "$(dirname "$0")/events_summary.py" stats "$1"; } # "packets dropped"

ip netns add "$ns" &&
	ip -n "$ns" link add veth-a mtu 9000 type veth peer name veth-b mtu 9000 &&
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 &&
	ip -n "$ns" link set veth-a up && ip -n "$ns" link set veth-b up || {
	echo "live-rate: cannot create namespace $ns"
	exit 1
}

# The offline reference.  A looped capture repeats its timestamps, so its
# groups have no offline equal: then only drops are checked.
if [ $loop -gt 1 ]; then
	echo "live-rate: demo.pcap looped: offline reference not comparable; checking drops only"
fi
"$sensor" -c "$tmp/rate.yaml" -r "$capture" --no-table -o "$tmp/offline.jsonl" 2>/dev/null
groups_of "$tmp/offline.jsonl" >"$tmp/offline.groups"
echo "live-rate: $capture, $(wc -l <"$tmp/offline.groups") groups offline, looped $loop time(s)"

# run_step WORKERS PPS: 0 when nothing was lost.  Sets $achieved.
run_step() {
	sed "s/^  workers: .*/  workers: $1/" "$tmp/rate.yaml" >"$tmp/w.yaml"
	rm -f "$tmp/live.jsonl"
	ip netns exec "$ns" "$sensor" -c "$tmp/w.yaml" -i veth-b -o "$tmp/live.jsonl" \
		2>"$tmp/live.err" &
	pid=$!
	i=0
	until grep -q "capturing on" "$tmp/live.err" || [ $i -ge 100 ]; do sleep 0.1; i=$((i + 1)); done
	speed="--pps=$2"
	[ "$2" = topspeed ] && speed=--topspeed
	ip netns exec "$ns" tcpreplay -K -i veth-a "$speed" --loop="$loop" "$capture" \
		>"$tmp/replay.out" 2>&1
	achieved=$(sed -nE 's/.*Rated: [0-9.]+ Bps, ([0-9.]+) Mbps, ([0-9.]+) pps.*/\2 pps (\1 Mbps)/p' \
		"$tmp/replay.out" | head -n 1)
	sleep 2
	kill -TERM "$pid"
	wait "$pid"
	pid=""
	set -- $(stats_of "$tmp/live.jsonl")
	seen=$1 dropped=$2
	groups_of "$tmp/live.jsonl" >"$tmp/live.groups"
	same=no
	cmp -s "$tmp/offline.groups" "$tmp/live.groups" && same=yes
	[ $loop -gt 1 ] && same=n/a
	echo "  packets=$seen dropped=$dropped groups_equal=$same"
	[ "$dropped" = 0 ] && [ "$same" != no ]
}

summary=""
for n in $workers; do
	best=none
	for pps in $steps; do
		echo "workers $n, $pps:"
		if run_step "$n" "$pps"; then
			label="$pps pps"
			[ "$pps" = topspeed ] && label=topspeed
			best="$label requested, $achieved achieved"
		else
			echo "  lost packets or groups at $achieved"
			break
		fi
	done
	summary="$summary
workers $n: highest rate with no loss: $best"
done
echo "$summary"
