#!/bin/sh
# run-all.sh SENSOR UNIT-RUNNER - the whole test suite, as `make test` runs it.
#
# Unit tests (Check), golden replays, command-line behaviour, then the tests
# that need root and real brokers (live capture, packaging), which install
# and start what they need themselves and are skipped with a message when
# not root.  Ends with one line: "total: N passed, M failed, K skipped"
# (", X xfailed" added when known gaps were seen).  A script's or the unit
# runner's non-zero exit status is a failure even after a clean summary.
set -u
sensor=${1:-./pubsub-sensor}
unit=${2:-./build/tests/run-unit}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
passed=0 failed=0 skipped=0 xfailed=0

# tally NAME LOG STATUS: adds the counts of the last
# "name: N passed, M failed[, K skipped][, X xfailed]" line of LOG.  A
# missing line is one failure; so is a non-zero exit STATUS that the line
# does not account for (a script that crashed after an early summary).
tally() {
	line=$(grep -E '^[a-z-]+: [0-9]+ passed, [0-9]+ failed' "$2" | tail -n 1)
	if [ -z "$line" ]; then
		echo "FAIL $1: no summary line (exit status $3)"
		failed=$((failed + 1))
		return
	fi
	p=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed.*/\1/')
	f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
	s=$(echo "$line" | sed -nE 's/.* ([0-9]+) skipped.*/\1/p')
	x=$(echo "$line" | sed -nE 's/.* ([0-9]+) xfailed.*/\1/p')
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + ${s:-0}))
	xfailed=$((xfailed + ${x:-0}))
	if [ "$3" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL $1: exit status $3 although its summary reports no failure"
		failed=$((failed + 1))
	elif [ "$3" -eq 0 ] && [ "$f" -ne 0 ]; then
		echo "note $1: exit status 0 although its summary reports $f failed"
	fi
}

step() { echo; echo "=== $1"; }

if [ "$(id -u)" = 0 ]; then
	./packaging/check-deps.sh test || { echo "total: 0 passed, 1 failed, 0 skipped"; exit 1; }
fi

step "unit tests (Check)"
SN_TEST_PCAPS=pcaps "$unit" >"$log/unit" 2>&1
rc=$?
cat "$log/unit"
summary=$(grep -E '^[0-9]+%: Checks: [0-9]+' "$log/unit" | tail -n 1)
nf=0
if [ -n "$summary" ]; then
	n=$(echo "$summary" | sed -E 's/.*Checks: ([0-9]+).*/\1/')
	nf=$(echo "$summary" | sed -E 's/.*Failures: ([0-9]+), Errors: ([0-9]+).*/\1 \2/' | awk '{print $1 + $2}')
	passed=$((passed + n - nf)) failed=$((failed + nf))
else
	echo "FAIL unit: no Check summary line (exit status $rc)"
	failed=$((failed + 1))
fi
# The runner's status counts even after a summary: a crash or a failure
# outside the Check cases (at exit, in a sanitizer) is one more failure.
if [ -n "$summary" ] && [ $rc -ne 0 ] && [ "$nf" -eq 0 ]; then
	echo "FAIL unit: exit status $rc although the summary reports no failure"
	failed=$((failed + 1))
fi

# Each script prints "name: N passed, M failed[, K skipped][, X xfailed]" and
# exits non-zero when anything failed; both are counted.  Under the
# sanitizer build (SN_ASAN=1) valgrind, packaging, the soak and the stand-in
# meta-test are left out: valgrind cannot run an ASan binary, the package
# holds the normal build, the soak measures the normal build's memory, and
# the stand-in test checks the test scripts, not the build.
for t in golden cli aggregate intel attribution install flowtable bytes decode evasion demo splunk syslog report malformed snaplen standin valgrind live websocket workers tunnels faults soak packaging; do
	case $t in
	golden) cmd="/usr/bin/python3 tests/golden.py --sensor $sensor" ;;
	*) cmd="sh tests/$t-test.sh $sensor" ;;
	esac
	[ "$t" = golden ] || [ -f "tests/$t-test.sh" ] || continue
	if [ "${SN_ASAN:-0}" = 1 ] && { [ "$t" = valgrind ] || [ "$t" = packaging ] || [ "$t" = soak ] ||
		[ "$t" = standin ]; }; then
		continue
	fi
	step "$t"
	start=$(date +%s)
	$cmd >"$log/$t" 2>&1
	rc=$?
	cat "$log/$t"
	echo "($t took $(($(date +%s) - start)) s, exit status $rc)"
	tally "$t" "$log/$t" "$rc"
done

# Expected failures (known gaps, listed by their script) are neither passes
# nor failures; they are counted after the closing line's three figures.
echo
if [ "$xfailed" -gt 0 ]; then
	echo "total: $passed passed, $failed failed, $skipped skipped, $xfailed xfailed"
else
	echo "total: $passed passed, $failed failed, $skipped skipped"
fi
[ "$failed" -eq 0 ]
