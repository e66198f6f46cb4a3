#!/bin/sh
# make-seeds.sh - rebuilds fuzz/seeds/<target>/ from the project's captures
# and configuration files.  Run from the top of the tree.
#
#   dissectors (mqtt xmpp amqp stomp tls): both directions of each connection
#       of the golden captures, by protocol (file name); TLS hellos go to tls;
#       negative captures seed every dissector
#   decode: the first frames of every capture, malformed ones included
#   replay: whole small captures, larger ones cut to their first 4 KiB
#   config: the shipped configuration and the test configurations
set -eu
py=/usr/bin/python3
tool=fuzz/pcap_seeds.py
out=fuzz/seeds
[ -f "$tool" ] || { echo "make-seeds.sh: run from the top of the source tree" >&2; exit 2; }
rm -rf "$out"
mkdir -p "$out/mqtt" "$out/xmpp" "$out/amqp" "$out/stomp" "$out/tls" "$out/decode" \
	"$out/replay" "$out/config"

for f in pcaps/*.pcap; do
	base=$(basename "$f")
	case $base in
	mqtt* | art-a-* | art-c-*) targets=mqtt ;;
	xmpp* | art-b-*) targets=xmpp ;;
	amqp*) targets=amqp ;;
	stomp*) targets=stomp ;;
	oneshot-*) targets=$(echo "$base" | sed 's/^oneshot-\([a-z]*\).*/\1/; s/[0-9]*$//') ;;
	neg-* | demo.pcap) targets="mqtt xmpp amqp stomp" ;;
	*) targets= ;;
	esac
	for t in $targets; do
		"$py" "$tool" streams "$out/$t" "$out/tls" "$f"
	done
done
"$py" "$tool" frames "$out/decode" pcaps/*.pcap pcaps/malformed/*.pcap
"$py" "$tool" cut --bytes 4096 "$out/replay" pcaps/*.pcap pcaps/malformed/*.pcap
cp config/pubsub-sensor.yaml "$out/config/pubsub-sensor.yaml"
for f in tests/data/*.yaml tests/data/config/*.yaml; do
	[ -f "$f" ] && cp "$f" "$out/config/$(basename "$f")"
done
for d in "$out"/*; do
	printf '%-8s %4d files %6d bytes\n' "$(basename "$d")" "$(ls "$d" | wc -l)" \
		"$(cat "$d"/* | wc -c)"
done
