#!/bin/sh
# check-deps.sh - make sure the Debian packages a task needs are installed.
#
#   check-deps.sh build    compiler and libraries (make, make demo)
#   check-deps.sh test     build + everything the test suite runs (brokers, clients)
#   check-deps.sh install  same as build, installing without asking (make deps)
#
# Missing packages are installed with apt-get when running as root; otherwise
# one line names them and the command that installs them, and the exit is 1.
set -u

mode=${1:-build}
build_pkgs="gcc make pkg-config libpcap-dev libuv1-dev libyaml-dev nettle-dev zlib1g-dev libjansson-dev check"
test_pkgs="python3 python3-jsonschema python3-scapy tcpreplay tcpdump tshark wireshark-common iproute2 netcat-openbsd procps psmisc \
mosquitto mosquitto-clients prosody rabbitmq-server python3-paho-mqtt python3-stomp python3-pika \
clang valgrind rsyslog rsyslog-relp chromium lintian"

case "$mode" in
build|install) want=$build_pkgs ;;
test) want="$build_pkgs $test_pkgs" ;;
*) echo "usage: $0 build|test|install" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)
	case "$status" in
	*" installed") ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "pubsub-sensor: missing Debian packages:$missing; install them with: sudo apt-get install -y$missing (or run 'sudo make deps')" >&2
	exit 1
fi

echo "pubsub-sensor: installing missing Debian packages:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# Services installed here must not start on their own: tests start them on loopback.
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && made_policy=1
fi
rc=0
apt-get install -y -q --no-install-recommends $missing >/tmp/pubsub-sensor-apt.log 2>&1 || {
	apt-get update -q >/tmp/pubsub-sensor-apt-update.log 2>&1
	apt-get install -y -q --no-install-recommends $missing >/tmp/pubsub-sensor-apt.log 2>&1 || rc=$?
}
[ "$made_policy" = 1 ] && rm -f "$policy"
if [ "$rc" != 0 ]; then
	echo "pubsub-sensor: apt-get could not install:$missing (see /tmp/pubsub-sensor-apt.log)" >&2
	tail -n 5 /tmp/pubsub-sensor-apt.log >&2
	exit 1
fi
exit 0
