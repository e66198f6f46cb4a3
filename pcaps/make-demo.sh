#!/bin/sh
# make-demo.sh [OUT] - rebuilds pcaps/demo.pcap (or writes OUT) from the
# project's loopback captures.  tests/demo-test.sh checks that the result is
# byte-identical to the committed demo.pcap.
#
# Each capture was made on 127.0.0.1; here its client side is moved to an
# internal address and its server side to an internal or an external
# (documentation-range, RFC 5737) address with tcprewrite, one direction at a
# time, and the results are merged in time order with mergecap.  The demo then
# shows high and medium rows of every protocol.  Needs tcpdump, tcpreplay
# (tcprewrite) and wireshark-common (mergecap).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/demo.pcap}
case $out in /*) ;; *) out="$(pwd)/$out" ;; esac
cd "$here"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# file  server-port  client-address  server-address
cat >"$work/plan" <<'PLAN'
art-a-mqtt-pub-beacon-x3-1883.pcap 1883 10.20.1.15 203.0.113.50
mqtt-nonstd-port-8080.pcap 8080 10.20.1.15 198.51.100.23
mqtt-tls-8883-paho.pcap 8883 10.20.1.18 203.0.113.61
mqtt-paho-v311-1883.pcap 1883 10.20.1.19 10.20.0.4
art-b-xmpp-stream-header-nc-5222.pcap 5222 10.20.1.22 203.0.113.77
xmpp-slixmpp-login-plaintext-5222.pcap 5222 10.20.1.30 10.20.0.5
stomp12-stomppy-connect-61613.pcap 61613 10.20.1.41 198.51.100.80
stomp12-stomppy-activemq-61613.pcap 61613 192.168.50.12 192.168.50.2
amqp091-pika-userpass-5672.pcap 5672 10.20.1.52 203.0.113.140
amqp091-nonstd-port-5673-pika.pcap 5673 10.20.1.60 10.20.0.9
PLAN

i=0
parts=""
while read -r file port client server; do
	i=$((i + 1))
	tcpdump -r "$file" -w "$work/$i-c2s.pcap" "tcp dst port $port" 2>/dev/null
	tcpdump -r "$file" -w "$work/$i-s2c.pcap" "tcp src port $port" 2>/dev/null
	tcprewrite --fixcsum -i "$work/$i-c2s.pcap" -o "$work/$i-c2s-rw.pcap" \
		--srcipmap="127.0.0.1/32:$client/32" --dstipmap="127.0.0.1/32:$server/32"
	tcprewrite --fixcsum -i "$work/$i-s2c.pcap" -o "$work/$i-s2c-rw.pcap" \
		--srcipmap="127.0.0.1/32:$server/32" --dstipmap="127.0.0.1/32:$client/32"
	parts="$parts $work/$i-c2s-rw.pcap $work/$i-s2c-rw.pcap"
done <"$work/plan"
# shellcheck disable=SC2086
mergecap -F pcap -w "$out" $parts
echo "wrote $out"
