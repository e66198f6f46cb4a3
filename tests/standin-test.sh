#!/bin/sh
# standin-test.sh SENSOR - the replay test scripts fail when the sensor does
# nothing.
#
# Runs tests/golden.py, tests/cli-test.sh, tests/malformed-test.sh and
# tests/snaplen-test.sh twice: once with a stand-in pubsub-sensor (a shell
# script that prints nothing and exits 0), once with SENSOR.  With the
# stand-in each script must exit non-zero and all four together may pass at
# most 10 checks: a check that passes there does not look at anything the
# sensor produces.  With SENSOR each must exit 0 with no failure.  The other
# scripts that replay captures through the sensor (aggregate, flowtable)
# run with the stand-in too, count towards the same limit, and must fail;
# run-all.sh runs them with SENSOR.  The
# malformed corpus is the selection in pcaps/malformed/ for SENSOR (the
# whole corpus is replayed by malformed-test.sh itself) and the shared one,
# when present, for the stand-in.
# Ends with "standin: N passed, M failed".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
sensor=${1:-./pubsub-sensor}
case $sensor in
*/*) sensor=$(cd "$(dirname "$sensor")" && pwd)/$(basename "$sensor") ;;
esac
cd "$top" || exit 1
max=10

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0

ok() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1${2:+: $2}"; }

printf '#!/bin/sh\nexit 0\n' >"$tmp/pubsub-sensor"
chmod +x "$tmp/pubsub-sensor"

# run SCRIPT BINARY LOG [MALFORMED-SHARED-DIR]: the script's exit status
run() {
	case $1 in
	golden) /usr/bin/python3 tests/golden.py --sensor "$2" ;;
	malformed) sh tests/malformed-test.sh "$2" ${4:+"$4"} ;;
	*) sh "tests/$1-test.sh" "$2" ;;
	esac >"$3" 2>&1 </dev/null
}

# counts LOG: "PASSED FAILED" from the script's summary line, or nothing
counts() {
	grep -E '^[a-z]+: [0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1 |
		sed -E 's/^[a-z]+: ([0-9]+) passed, ([0-9]+) failed.*/\1 \2/'
}

total=0
for t in golden cli malformed snaplen aggregate flowtable; do
	[ "$t" = golden ] || [ -f "tests/$t-test.sh" ] || continue
	run "$t" "$tmp/pubsub-sensor" "$tmp/standin-$t"
	rc=$?
	set -- $(counts "$tmp/standin-$t")
	p=${1:-0}
	total=$((total + p))
	echo "stand-in $t: exit $rc, ${1:-?} passed, ${2:-?} failed"
	grep '^ok ' "$tmp/standin-$t" | sed 's/^/     /' | head -n 10
	if [ "$rc" -ne 0 ] && [ -n "${2:-}" ] && [ "$2" -gt 0 ]; then
		ok "$t fails with a stand-in sensor that does nothing"
	else
		fail "$t fails with a stand-in sensor that does nothing" "exit $rc, summary '$(counts "$tmp/standin-$t")'"
	fi
done
if [ "$total" -le "$max" ]; then
	ok "stand-in passes $total checks in total (at most $max)"
else
	fail "stand-in passes $total checks in total (at most $max)"
fi

for t in golden cli malformed snaplen; do
	run "$t" "$sensor" "$tmp/real-$t" "$tmp/no-shared"
	rc=$?
	set -- $(counts "$tmp/real-$t")
	if [ "$rc" -eq 0 ] && [ "${1:-0}" -gt 0 ] && [ "${2:-1}" -eq 0 ]; then
		ok "$t passes with $sensor (${1} passed)"
	else
		fail "$t passes with $sensor" "exit $rc, summary '$(counts "$tmp/real-$t")'"
		grep -E '^FAIL' "$tmp/real-$t" | head -n 5 | sed 's/^/     /'
	fi
done

echo "standin: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
