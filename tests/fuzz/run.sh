#!/bin/sh
# A longer fuzz session: each libFuzzer target for SECONDS (default 60),
# one after another (the machine is shared), starting from its corpus in
# tests/fuzz/corpus/<target>. Prints per target the executions, the
# executions a second, the coverage, and the crashes (the inputs are kept
# under $BUILD/fuzz-out/<target>/ for replay). Exit status 1 when anything
# crashed, leaked, timed out or ran out of memory.
#
#   tests/fuzz/run.sh 600                 # 10 minutes each
#   tests/fuzz/run.sh 60 spec route       # some targets only
#   MERGE=1 tests/fuzz/run.sh 600         # also add the new inputs that
#                                         # reach new code to the corpus
#
# Needs clang; builds $BUILD (default build-fuzz) with -Dfuzz=true when it
# is not there yet.
set -u
cd "$(dirname "$0")/../.." || exit 1
SECONDS_PER=${1:-60}
[ $# -gt 0 ] && shift
TARGETS=${*:-spec body measurement route metadata spec_diff}
BUILD=${BUILD:-build-fuzz}
if [ ! -d "$BUILD" ]; then
	CC=clang meson setup "$BUILD" -Dfuzz=true -Db_sanitize=address,undefined \
		-Db_lundef=false -Dbuildtype=debugoptimized >/dev/null || exit 1
fi
for t in $TARGETS; do
	ninja -C "$BUILD" "tests/fuzz/fuzz-$t" >/dev/null || {
		echo "fuzz-$t: build failed"
		exit 1
	}
done
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0
printf '%-12s %8s %14s %10s %6s %6s %s\n' target seconds executions exec/s cov corpus crashes
for t in $TARGETS; do
	out="$BUILD/fuzz-out/$t"
	rm -rf "$out"
	mkdir -p "$out/corpus" "$out/artifacts"
	cp tests/fuzz/corpus/"$t"/* "$out/corpus/" 2>/dev/null
	dict=
	[ -f "tests/fuzz/$t.dict" ] && dict="-dict=tests/fuzz/$t.dict"
	# shellcheck disable=SC2086
	"$BUILD/tests/fuzz/fuzz-$t" "$out/corpus" $dict \
		-max_total_time="$SECONDS_PER" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$out/artifacts/" \
		>"$out/log" 2>&1
	execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$out/log" | grep -o '[0-9]*$')
	speed=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$out/log" | grep -o '[0-9]*$')
	cov=$(grep -o 'cov: [0-9]*' "$out/log" | tail -1 | grep -o '[0-9]*')
	ncorp=$(ls "$out/corpus" | wc -l)
	crashes=$(ls "$out/artifacts" | wc -l)
	printf '%-12s %8s %14s %10s %6s %6s %s\n' "$t" "$SECONDS_PER" "${execs:-?}" "${speed:-?}" \
		"${cov:-?}" "$ncorp" "$crashes"
	if [ "$crashes" -gt 0 ]; then
		status=1
		for f in "$out"/artifacts/*; do
			echo "  $f"
		done
		grep -m3 -E 'ERROR: |runtime error|fuzz invariant' "$out/log" | sed 's/^/  /'
	fi
	if [ "${MERGE:-0}" = 1 ]; then
		"$BUILD/tests/fuzz/fuzz-$t" -merge=1 -max_len=8192 tests/fuzz/corpus/"$t" \
			"$out/corpus" >>"$out/merge.log" 2>&1
	fi
done
exit "$status"
