#!/bin/sh
# Runs the dashboard's browser test; exit 77 (skipped) when chromium or
# node is absent. With both there, the test's npm packages must be too
# (scripts/deps.sh --test runs npm ci here): their absence is a failure.
dir=$(dirname "$0")
chromium=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then echo "no chromium at $chromium: skipped"; exit 77; fi
if ! command -v node >/dev/null 2>&1; then echo "no node: skipped"; exit 77; fi
if [ ! -d "$dir/node_modules/puppeteer-core" ]; then
	echo "no puppeteer-core: run npm ci in tests/browser (scripts/deps.sh --test does)"
	exit 1
fi
exec node "$dir/${1:-test-dashboard.mjs}"
