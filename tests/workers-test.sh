#!/bin/sh
# workers-test.sh SENSOR - live capture with capture.workers 1 and 2 gives
# the same groups as an offline replay of the same capture.
#
# Needs root: it makes a throw-away network namespace holding a veth pair
# (veth-a, veth-b; no addresses, nothing leaves the pair), runs the sensor
# live on veth-b, replays pcaps/demo.pcap onto veth-a with tcpreplay, stops
# the sensor with SIGTERM and compares its summary events (src_ip, dest_ip,
# dest_port, Protocol, ConnectionCount, BytesSent, BytesReceived, Suspicion)
# with those of `-r pcaps/demo.pcap` under the same configuration; then
# replays a capture of DNS answers (UDP and TCP) and the MQTT connections
# they name (tests/dns_workers.py), which reach different workers, and
# checks every group's dest_host.  The
# namespace is removed on every exit.  Ends with "workers: N passed, M failed".
#
# Environment: SN_WORKERS_COUNTS (default "1 2"), SN_REPLAY_RATE (tcpreplay
# rate option, default --topspeed).
set -u
sensor=${1:-./pubsub-sensor}
counts=${SN_WORKERS_COUNTS:-1 2}
rate=${SN_REPLAY_RATE:---topspeed}
capture=pcaps/demo.pcap

if [ "$(id -u)" != 0 ]; then
	echo "workers tests need root (network namespace, live capture): skipped"
	echo "workers: 0 passed, 0 failed, 1 skipped"
	exit 0
fi
for tool in ip tcpreplay; do
	if ! command -v $tool >/dev/null 2>&1; then
		echo "workers tests need $tool: skipped"
		echo "workers: 0 passed, 0 failed, 1 skipped"
		exit 0
	fi
done

top=$(cd "$(dirname "$0")/.." && pwd)
case $sensor in /*) ;; *) sensor=$(pwd)/$sensor ;; esac
cd "$top" || exit 1
ns=pstest-$$
tmp=$(mktemp -d)
pid=""
passed=0 failed=0

cleanup() {
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

check() { # check NAME CONDITION-STATUS [DETAIL]
	if [ "$2" -eq 0 ]; then
		echo "PASS $1"
		passed=$((passed + 1))
	else
		echo "FAIL $1${3:+: $3}"
		failed=$((failed + 1))
	fi
}

in_ns() { ip netns exec "$ns" "$@"; }

# The veth pair lives only inside the namespace; frames up to 9000 bytes.
make_link() {
	ip netns add "$ns" &&
		in_ns ip link add veth-a mtu 9000 type veth peer name veth-b mtu 9000 &&
		in_ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 &&
		in_ns ip link set veth-a up &&
		in_ns ip link set veth-b up
}

write_config() { # write_config WORKERS FILE
	cat >"$2" <<EOF
capture:
  workers: $1
home_networks: [10.0.0.0/8]
rules:
  min_connections: 2
daemon:
  allow_root: true
EOF
}

groups_of() { /usr/bin/python3 "$(dirname "$0")/events_summary.py" groups "$1"; }

stats_of() { /usr/bin/python3 "$(dirname "$0")/events_summary.py" stats "$1"; } # "packets dropped"

wait_for_line() { # wait_for_line FILE TEXT SECONDS
	i=0
	while [ $i -lt $(($3 * 10)) ]; do
		grep -q "$2" "$1" 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

wait_exit() { # wait_exit SECONDS: 0 when the sensor is gone
	i=0
	while [ $i -lt $(($1 * 10)) ]; do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

run_live() { # run_live WORKERS
	n=$1
	write_config "$n" "$tmp/w$n.yaml"
	: >"$tmp/live$n.err"
	# not through in_ns: $! must be the sensor itself (ip execs it)
	ip netns exec "$ns" "$sensor" -c "$tmp/w$n.yaml" -i veth-b --flows \
		-o "$tmp/live$n.jsonl" 2>"$tmp/live$n.err" &
	pid=$!
	wait_for_line "$tmp/live$n.err" "capturing on" 10
	check "workers $n: sensor capturing on veth-b" $? "$(tail -n 3 "$tmp/live$n.err")"
	in_ns tcpreplay -q -i veth-a $rate "$capture" >"$tmp/replay$n.out" 2>&1
	check "workers $n: tcpreplay sent $capture" $? "$(tail -n 3 "$tmp/replay$n.out")"
	sleep 1
	kill -TERM "$pid" 2>/dev/null
	wait_exit 20
	gone=$?
	code=1
	[ $gone -eq 0 ] && { wait "$pid"; code=$?; }
	pid=""
	[ $gone -eq 0 ] && [ $code -eq 0 ]
	check "workers $n: SIGTERM stops the sensor with status 0" $? "gone=$gone status=$code"

	groups_of "$tmp/live$n.jsonl" >"$tmp/live$n.groups" 2>"$tmp/live$n.pyerr"
	cmp -s "$tmp/offline.groups" "$tmp/live$n.groups"
	check "workers $n: groups equal the offline replay's" $? \
		"$(diff "$tmp/offline.groups" "$tmp/live$n.groups" | head -n 20)"
	set -- $(stats_of "$tmp/live$n.jsonl")
	[ "$1" -ge "$frames" ] && [ "$2" -eq 0 ]
	check "workers $n: every frame seen, none dropped" $? "packets=$1 (want >= $frames) dropped=$2"
}

if ! make_link; then
	echo "FAIL cannot create namespace $ns with a veth pair"
	echo "workers: 0 passed, 1 failed"
	exit 1
fi

write_config 1 "$tmp/offline.yaml"
"$sensor" -c "$tmp/offline.yaml" -r "$capture" --no-table -o "$tmp/offline.jsonl" 2>"$tmp/offline.err"
check "offline replay of $capture" $? "$(tail -n 3 "$tmp/offline.err")"
groups_of "$tmp/offline.jsonl" >"$tmp/offline.groups"
[ -s "$tmp/offline.groups" ]
check "offline replay finds groups" $?
frames=$(stats_of "$tmp/offline.jsonl" | cut -d' ' -f1)

for n in $counts; do
	run_live "$n"
done

# DNS answers (UDP and TCP) and the MQTT connections they name reach
# different workers: every group must still carry its server's name.
dns_pcap=$tmp/dns.pcap
/usr/bin/python3 "$(dirname "$0")/dns_workers.py" write "$dns_pcap"
for n in $counts; do
	write_config "$n" "$tmp/d$n.yaml"
	: >"$tmp/dns$n.err"
	ip netns exec "$ns" "$sensor" -c "$tmp/d$n.yaml" -i veth-b --flows \
		-o "$tmp/dns$n.jsonl" 2>"$tmp/dns$n.err" &
	pid=$!
	wait_for_line "$tmp/dns$n.err" "capturing on" 10
	# paced as captured (0.2 s steps): a name is read before its connection
	in_ns tcpreplay -q -i veth-a "$dns_pcap" >"$tmp/dreplay$n.out" 2>&1
	check "workers $n: tcpreplay sent the DNS capture" $? "$(tail -n 3 "$tmp/dreplay$n.out")"
	sleep 1
	kill -TERM "$pid" 2>/dev/null
	wait_exit 20
	pid=""
	out=$(/usr/bin/python3 "$(dirname "$0")/dns_workers.py" check "$tmp/dns$n.jsonl" 2>&1)
	check "workers $n: every client's group named by its DNS answer (UDP and TCP)" $? "$out"
done

echo "workers: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
