#!/bin/sh
# Builds sibyl with AddressSanitizer and UndefinedBehaviorSanitizer and
# -Werror, runs the whole test suite, checks formatting and banned calls,
# and ends with the line "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build-test}
if [ ! -d "$BUILD" ]; then
	meson setup "$BUILD" -Db_sanitize=address,undefined -Db_lundef=false -Dwerror=true \
		-Dbuildtype=debugoptimized >/dev/null || { echo "0 passed, 1 failed"; exit 1; }
fi
if ! ninja -C "$BUILD"; then
	echo "0 passed, 1 failed"
	exit 1
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
meson test -C "$BUILD" --print-errorlogs --num-processes 2 "$@"
status=$?
log="$BUILD/meson-logs/testlog.json"
if [ -f "$log" ]; then
	passed=$(grep -c '"result": "OK"' "$log")
	failed=$(grep -c -E '"result": "(FAIL|TIMEOUT|ERROR|UNEXPECTEDPASS)"' "$log")
else
	passed=0
	failed=1
fi
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
	failed=1
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
