#!/bin/sh
# run-all.sh SENSOR UNIT-RUNNER - the whole test suite, as `make test` runs it.
#
# Unit tests (Check), golden replays, command-line behaviour, then the tests
# that need root and real brokers (live capture, packaging), which install
# and start what they need themselves and are skipped with a message when
# not root.  Ends with one line: "total: N passed, M failed, K skipped".
set -u
sensor=${1:-./pubsub-sensor}
unit=${2:-./build/tests/run-unit}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
passed=0 failed=0 skipped=0

# Adds the counts from a "name: N passed, M failed[, K skipped]" line.
tally() {
	line=$(grep -E '^[a-z-]+: [0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1)
	if [ -z "$line" ]; then
		failed=$((failed + 1))
		return
	fi
	p=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed.*/\1/')
	f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
	s=$(echo "$line" | sed -nE 's/.* ([0-9]+) skipped.*/\1/p')
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + ${s:-0}))
}

step() { echo; echo "=== $1"; }

if [ "$(id -u)" = 0 ]; then
	./packaging/check-deps.sh test || { echo "total: 0 passed, 1 failed"; exit 1; }
fi

step "unit tests (Check)"
SN_TEST_PCAPS=pcaps "$unit" >"$log/unit" 2>&1
rc=$?
cat "$log/unit"
summary=$(grep -E '^[0-9]+%: Checks: [0-9]+' "$log/unit" | tail -n 1)
if [ -n "$summary" ]; then
	n=$(echo "$summary" | sed -E 's/.*Checks: ([0-9]+).*/\1/')
	nf=$(echo "$summary" | sed -E 's/.*Failures: ([0-9]+), Errors: ([0-9]+).*/\1 \2/' | awk '{print $1 + $2}')
	passed=$((passed + n - nf)) failed=$((failed + nf))
fi
[ $rc -eq 0 ] || [ -n "$summary" ] || failed=$((failed + 1))

# Each script prints "name: N passed, M failed[, K skipped]".  Under the
# sanitizer build (SN_ASAN=1) valgrind, packaging and the soak are left out: valgrind
# cannot run an ASan binary, the package holds the normal build, and the
# soak measures the normal build's memory.
for t in golden cli demo splunk malformed snaplen valgrind live workers faults soak packaging; do
	case $t in
	golden) cmd="/usr/bin/python3 tests/golden.py --sensor $sensor" ;;
	*) cmd="sh tests/$t-test.sh $sensor" ;;
	esac
	[ "$t" = golden ] || [ -f "tests/$t-test.sh" ] || continue
	if [ "${SN_ASAN:-0}" = 1 ] && { [ "$t" = valgrind ] || [ "$t" = packaging ] || [ "$t" = soak ]; }; then
		continue
	fi
	step "$t"
	start=$(date +%s)
	$cmd >"$log/$t" 2>&1
	cat "$log/$t"
	echo "($t took $(($(date +%s) - start)) s)"
	tally "$log/$t"
done

echo
echo "total: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
