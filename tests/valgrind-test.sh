#!/bin/sh
# valgrind-test.sh SENSOR - memcheck over whole replays: no invalid reads or
# writes, no use of uninitialised memory, nothing definitely lost.
#
# Replays pcaps/demo.pcap (default configuration) and a golden capture
# (tests/data/golden.yaml) with flow events and the table on, under
# valgrind --leak-check=full.  Use the plain build: sanitizer builds do not
# run under valgrind.  Prints each run's ERROR SUMMARY and "definitely
# lost" lines, then "valgrind: N passed, M failed" (skips without valgrind).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
sensor=${1:-./pubsub-sensor}
case $sensor in
*/*) sensor=$(cd "$(dirname "$sensor")" && pwd)/$(basename "$sensor") ;;
esac
cd "$top" || exit 1
limit=600

if ! command -v valgrind >/dev/null 2>&1; then
	echo "skip: valgrind is not installed"
	echo "valgrind: 0 passed, 0 failed, 1 skipped"
	exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0

# check NAME -- sensor arguments...
check() {
	name=$1
	shift 2
	timeout -k 5 "$limit" valgrind --tool=memcheck --error-exitcode=99 --leak-check=full \
		--errors-for-leak-kinds=definite --log-file="$tmp/vg" \
		"$sensor" "$@" -o /dev/null --flows >/dev/null 2>"$tmp/err" </dev/null
	rc=$?
	summary=$(grep -E 'ERROR SUMMARY:' "$tmp/vg" | tail -n 1 | sed 's/^==[0-9]*== //')
	lost=$(grep -E 'definitely lost:' "$tmp/vg" | tail -n 1 | sed 's/^==[0-9]*== *//')
	echo "$name: ${summary:-no ERROR SUMMARY}"
	echo "$name: ${lost:-definitely lost: 0 bytes in 0 blocks (all heap blocks were freed)}"
	if [ "$rc" -eq 0 ] && echo "$summary" | grep -q 'ERROR SUMMARY: 0 errors' &&
		{ [ -z "$lost" ] || echo "$lost" | grep -q 'definitely lost: 0 bytes'; }; then
		passed=$((passed + 1))
		echo "ok   $name"
	else
		failed=$((failed + 1))
		echo "FAIL $name (exit $rc)"
		grep -E '^==[0-9]+== (Invalid|Conditional|Use of|Syscall|[0-9,]+ bytes in|   (at|by) )' \
			"$tmp/vg" | head -n 30
		head -c 300 "$tmp/err"
	fi
}

check "demo.pcap" -- -r pcaps/demo.pcap
check "xmpp-slixmpp-login-plaintext-5222.pcap" -- \
	-r pcaps/xmpp-slixmpp-login-plaintext-5222.pcap -c tests/data/golden.yaml
echo "valgrind: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
