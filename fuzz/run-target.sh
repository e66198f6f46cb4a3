#!/bin/sh
# run-target.sh TARGET SECONDS - runs build/fuzz/fuzz_TARGET for SECONDS.
#
# The corpus grows in build/fuzz/corpus-TARGET, seeded from fuzz/seeds/TARGET;
# crash, leak and timeout inputs go to build/fuzz/artifacts-TARGET/ and fail
# the run (exit 1).  Prints one line: executions and the final coverage.
set -u
t=$1
secs=${2:-30}
bin=build/fuzz/fuzz_$t
corpus=build/fuzz/corpus-$t
art=build/fuzz/artifacts-$t
log=build/fuzz/log-$t.txt
case $t in
replay) maxlen=65536 ;;
decode) maxlen=4096 ;;
*) maxlen=8192 ;;
esac
mkdir -p "$corpus" "$art"
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
export UBSAN_OPTIONS
seeds=
[ -d "fuzz/seeds/$t" ] && seeds=fuzz/seeds/$t
# shellcheck disable=SC2086 # $seeds is empty or one path without spaces
"$bin" "$corpus" $seeds -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	-max_len="$maxlen" -print_final_stats=1 -artifact_prefix="$art/" >"$log" 2>&1
rc=$?
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
status=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
cov=$(printf '%s\n' "$status" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
ft=$(printf '%s\n' "$status" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
if [ "$rc" -ne 0 ]; then
	echo "fuzz $t: FAILED (exit $rc) after ${execs:-?} executions; log $log, input in $art/" >&2
	grep -E 'ERROR: |runtime error:|^    #[0-9]' "$log" | head -n 30 >&2
	exit 1
fi
echo "fuzz $t: ${execs:-?} executions in ${secs} s, cov ${cov:-?} ft ${ft:-?}"
