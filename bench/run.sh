#!/bin/sh
# run.sh - `make bench`: builds the sensor and the benchmark programs,
# generates two captures into build/bench/ (kept between runs and
# regenerated only when the generator or its arguments change), then times
# the sensor against a bare libpcap read loop on each and checks that it
# reported every generated pub/sub connection (bench/measure.py).
#
#   mix.pcap    ~1M packets of interleaved TCP conversations, 1% pub/sub
#               (43% of those on 443/80/8080, half to external brokers),
#               IPv4 and IPv6, some 802.1Q-tagged, each pair repeated 3 times
#   flood.pcap  2M half-open SYNs with a few hundred pub/sub connections
#               hidden inside
#
# Then bench/live.sh: the live daemon's highest lossless packet rate on a
# veth pair in a network namespace, beside tcpdump's (root, trafgen).
#
# First, bench/hashflood.c: 100,000 groups and replay-table rows from
# sources crafted to collide under an unkeyed hash against 100,000
# ordinary ones (fails above a ratio of 2).
#
# Environment: BENCH_RUNS (timed runs per program and file, default 5),
# MAKE (the make to build with), PYTHON (default /usr/bin/python3).
set -eu

cd "$(dirname "$0")/.."
MAKE=${MAKE:-make}
PYTHON=${PYTHON:-/usr/bin/python3}
RUNS=${BENCH_RUNS:-5}
DIR=build/bench
started=$(date +%s)

$MAKE --no-print-directory
$MAKE --no-print-directory "$DIR/gen" "$DIR/bare"
mkdir -p "$DIR"
if [ ! -x /usr/bin/time ]; then
	echo "bench: installing GNU time for peak RSS"
	apt-get install -y time >/dev/null
fi

# generate NAME ARGS...: writes $DIR/NAME.pcap and $DIR/NAME.tsv unless they
# are already there from the same generator and arguments.
generate() {
	name=$1
	shift
	pcap="$DIR/$name.pcap"
	args="$*"
	if [ -s "$pcap" ] && [ -f "$DIR/$name.args" ] && [ "$pcap" -nt "$DIR/gen" ] &&
		[ "$(cat "$DIR/$name.args")" = "$args" ]; then
		echo "bench: $pcap is up to date"
		return 0
	fi
	rm -f "$DIR/$name.args"
	"$DIR/gen" "$@" -w "$pcap" --truth "$DIR/$name.tsv"
	printf '%s\n' "$args" > "$DIR/$name.args"
}

generate mix --seed 1 --packets 1000000 --pubsub-share 0.01 --ipv6-share 0.15 \
	--vlan-share 0.1 --nonstd-share 0.43 --external-share 0.5 --repeat 3 --avg-size 565
generate flood --seed 2 --packets 8000 --pubsub-share 1 --ipv6-share 0.15 --vlan-share 0.1 \
	--nonstd-share 0.43 --external-share 0.5 --repeat 3 --syn-flood 2000000

status=0
$MAKE --no-print-directory "$DIR/hashflood"
"$DIR/hashflood" | tee "$DIR/hashflood.txt" || status=$?

"$PYTHON" bench/measure.py --sensor ./pubsub-sensor --bare "$DIR/bare" --config bench/bench.yaml \
	--dir "$DIR" --runs "$RUNS" --results "$DIR/results.md" \
	"$DIR/mix.pcap:$DIR/mix.tsv" "$DIR/flood.pcap:$DIR/flood.tsv" || status=$?

# Live: the daemon's lossless packet rate beside tcpdump's (bench/live.sh;
# a network namespace of its own; skipped without root).
echo "bench: live capture rates"
if sh bench/live.sh ./pubsub-sensor "$DIR/live.md"; then
	[ -f "$DIR/live.md" ] && printf '\n## Live capture\n\n' >>"$DIR/results.md" &&
		cat "$DIR/live.md" >>"$DIR/results.md"
else
	status=1
fi

elapsed=$(( $(date +%s) - started ))
printf '\n_make bench took %s s (%s runs per program and file)._\n' "$elapsed" "$RUNS" \
	>> "$DIR/results.md"
echo "bench: finished in ${elapsed} s; table in $DIR/results.md"
exit $status
