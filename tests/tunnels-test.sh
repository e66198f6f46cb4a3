#!/bin/sh
# tunnels-test.sh SENSOR - the kernel encapsulates, the sensor decapsulates.
#
# Two network namespaces joined by a veth pair (the underlay, 10.200.0.0/24)
# carry tunnel devices made by `ip link add`: VXLAN (VNI 5001), GRETAP (key
# 77), Geneve (VNI 7), an 802.1Q VLAN (id 20), and a second VXLAN (VNI 5009)
# whose inner MTU is larger than the underlay's, so that the kernel
# fragments its outer datagrams.  Each has its own overlay subnet.  An MQTT
# client in one namespace connects through each to a small server in the
# other, on 1883 and on 8080, with a client id naming the tunnel and port.
# The sensor captures on the underlay veth and must report every inner
# connection with its overlay addresses, the client id, evidence payload and
# details.tunnel naming the tunnel, and count the reassembled datagrams.
# A tunnel type the running kernel lacks ("Unknown device type") is
# skipped with a message.  The namespaces (and with them every device) are
# removed on exit; every wait is bounded.
# Needs root, ip and python3.
# Ends with "tunnels: N passed, M failed[, K skipped]".
set -u
sensor=${1:-./pubsub-sensor}
if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null 2>&1; then
	echo "tunnels test needs root and ip (network namespaces, tunnel devices): skipped"
	echo "tunnels: 0 passed, 0 failed, 1 skipped"
	exit 0
fi

top=$(cd "$(dirname "$0")/.." && pwd)
case $sensor in /*) ;; *) sensor=$(pwd)/$sensor ;; esac
cd "$top" || exit 1
a=sntunA-$$
b=sntunB-$$
tmp=$(mktemp -d)
pid=""
srv=""
passed=0 failed=0 skipped=0
py=/usr/bin/python3
helper="$top/tests/tunnels_mqtt.py"

cleanup() {
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
	for s in $srv; do kill -KILL "$s" 2>/dev/null; done
	ip netns del "$a" 2>/dev/null
	ip netns del "$b" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

check() { # check NAME STATUS [DETAIL]
	if [ "$2" -eq 0 ]; then
		echo "PASS $1"
		passed=$((passed + 1))
	else
		echo "FAIL $1${3:+: $3}"
		failed=$((failed + 1))
	fi
}

finish() {
	echo "tunnels: $passed passed, $failed failed, $skipped skipped"
	[ "$failed" -eq 0 ]
	exit $?
}

underlay() {
	ip netns add "$a" && ip netns add "$b" || return 1
	ip link add veth-a netns "$a" type veth peer name veth-b netns "$b" || return 1
	for n in "$a" "$b"; do
		ip netns exec "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
		ip -n "$n" link set lo up
	done
	ip -n "$a" addr add 10.200.0.1/24 dev veth-a && ip -n "$a" link set veth-a up &&
		ip -n "$b" addr add 10.200.0.2/24 dev veth-b && ip -n "$b" link set veth-b up
}

# tunnel NAME NET-DIGIT TYPE-ARGS...: the device NAME on both sides, with
# overlay 10.21N.0.1 (client side) and .2; "local"/"remote" are filled in.
# Returns 3 when the kernel does not know the type.
tunnel() {
	tdev=$1 tnet=$2
	shift 2
	for side in 1 2; do
		if [ $side = 1 ]; then ns=$a me=10.200.0.1 peer=10.200.0.2 dev=veth-a
		else ns=$b me=10.200.0.2 peer=10.200.0.1 dev=veth-b; fi
		args=$(echo "$*" | sed "s/LOCAL/$me/; s/REMOTE/$peer/; s/DEV/$dev/")
		# shellcheck disable=SC2086
		if ! ip -n "$ns" link add $args 2>"$tmp/link.err"; then
			grep -q "Unknown device type" "$tmp/link.err" && return 3
			cat "$tmp/link.err"
			return 1
		fi
		ip -n "$ns" addr add 10.21$tnet.0.$side/24 dev "$tdev" &&
			ip -n "$ns" link set "$tdev" up || return 1
	done
}

underlay >"$tmp/setup.log" 2>&1
check "namespaces and veth underlay" $? "$(tail -n 3 "$tmp/setup.log")"
[ "$failed" -eq 0 ] || finish

# vlan_dev NAME NET-DIGIT: an 802.1Q sub-interface (id 20) on each veth end.
vlan_dev() {
	for side in 1 2; do
		if [ $side = 1 ]; then ns=$a link=veth-a; else ns=$b link=veth-b; fi
		if ! ip -n "$ns" link add link $link name "$1" type vlan id 20 2>"$tmp/link.err"; then
			grep -q "Unknown device type" "$tmp/link.err" && return 3
			cat "$tmp/link.err"
			return 1
		fi
		ip -n "$ns" addr add 10.21$2.0.$side/24 dev "$1" && ip -n "$ns" link set "$1" up || return 1
	done
}

# make_case NAME: creates its devices; sets n (overlay digit) and expect.
make_case() {
	case $1 in
	vxlan) n=1 expect=vxlan:5001
		tunnel vx0 $n vx0 type vxlan id 5001 local LOCAL remote REMOTE dstport 4789 dev DEV ;;
	gretap) n=2 expect=gre
		tunnel gt0 $n gt0 type gretap local LOCAL remote REMOTE key 77 ;;
	geneve) n=3 expect=geneve:7
		tunnel gn0 $n gn0 type geneve id 7 remote REMOTE dstport 6081 ;;
	vlan) n=4 expect=vlan:20
		vlan_dev v20 $n ;;
	vxfrag) n=5 expect=vxlan:5009
		tunnel vxbig $n vxbig type vxlan id 5009 local LOCAL remote REMOTE dstport 4789 \
			df unset &&
			ip -n "$a" link set vxbig mtu 1500 && ip -n "$b" link set vxbig mtu 1500 ;;
	esac
}

cases=""
for name in vxlan gretap geneve vlan vxfrag; do
	make_case $name >"$tmp/tunnel-$name.log" 2>&1
	st=$?
	if [ $st -eq 3 ]; then
		echo "SKIP $name: this kernel has no such device type ($(head -c 200 "$tmp/link.err" 2>/dev/null))"
		skipped=$((skipped + 1))
		continue
	fi
	check "$name devices in both namespaces" $st "$(tail -n 2 "$tmp/tunnel-$name.log")"
	[ $st -eq 0 ] && cases="$cases $name:$n:$expect"
done
[ -n "$cases" ] || finish

cat >"$tmp/cfg.yaml" <<'CFG'
capture:
  snaplen: 9000
home_networks: [10.0.0.0/8]
daemon:
  allow_root: true
CFG
ip netns exec "$a" "$sensor" -c "$tmp/cfg.yaml" -i veth-a --flows -o "$tmp/events.jsonl" \
	2>"$tmp/sensor.err" &
pid=$!
i=0
until grep -q "capturing on" "$tmp/sensor.err" 2>/dev/null || [ $i -ge 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
grep -q "capturing on" "$tmp/sensor.err"
check "sensor capturing on the underlay veth" $? "$(tail -n 3 "$tmp/sensor.err")"

for port in 1883 8080; do
	for c in $cases; do
		n=$(echo "$c" | cut -d: -f2)
		ip netns exec "$b" timeout 40 $py "$helper" serve 10.21$n.0.2 $port 1 >/dev/null 2>&1 &
		srv="$srv $!"
	done
done
sleep 0.5
for port in 1883 8080; do
	for c in $cases; do
		name=${c%%:*}
		n=$(echo "$c" | cut -d: -f2)
		pw=0
		[ "$name" = vxfrag ] && pw=1550 # a 1,448-byte inner segment: its outer datagram fragments
		ip netns exec "$a" timeout 15 $py "$helper" connect 10.21$n.0.2 $port "$name-$port" $pw \
			>>"$tmp/client.log" 2>&1
		check "client through $name to port $port" $? "$(tail -n 2 "$tmp/client.log")"
	done
done
for s in $srv; do wait "$s" 2>/dev/null; done
srv=""
sleep 1
kill -TERM "$pid" 2>/dev/null
i=0
while kill -0 "$pid" 2>/dev/null && [ $i -lt 200 ]; do
	sleep 0.1
	i=$((i + 1))
done
wait "$pid"
check "SIGTERM stops the sensor with status 0" $? "$(tail -n 3 "$tmp/sensor.err")"
pid=""

# Each connection: one flow event with overlay addresses, client id, tunnel.
$py - "$tmp/events.jsonl" "$cases" >"$tmp/verdicts" 2>&1 <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
flows = [e for e in ev if e.get("event_type") == "flow"]
stats = [e for e in ev if e.get("event_type") == "stats"]
frag = False
for port in (1883, 8080):
    for c in sys.argv[2].split():
        name, n, tunnel = c.split(":", 2)
        frag |= name == "vxfrag"
        cid, src, dst = f"{name}-{port}", f"10.21{n}.0.1", f"10.21{n}.0.2"
        got = [f for f in flows if f.get("client_ids") == [cid]]
        ok = (len(got) == 1 and got[0]["src_ip"] == src and got[0]["dest_ip"] == dst
              and got[0]["dest_port"] == port and got[0]["Protocol"] == "MQTT"
              and got[0]["evidence"] == "payload"
              and got[0].get("details", {}).get("tunnel") == [tunnel])
        print(("ok " if ok else "bad ") + f"{cid} via {tunnel} " + (json.dumps(got)[:300] if not ok else ""))
if frag:
    re = stats[-1]["counters"].get("ip_reassembled", 0) if stats else 0
    print(("ok " if re >= 1 else "bad ") + f"fragmented outer datagrams reassembled: {re}")
PY
[ -n "${SN_TUNNELS_KEEP:-}" ] && cp "$tmp/events.jsonl" "$SN_TUNNELS_KEEP"
[ -s "$tmp/verdicts" ]
check "events summarised" $? "$(head -n 5 "$tmp/verdicts")"
while read -r verdict rest; do
	[ "$verdict" = ok ]
	check "reported $rest" $? "$rest"
done <"$tmp/verdicts"
finish
