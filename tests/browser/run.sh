#!/bin/sh
# Runs the dashboard's browser test; exit 77 (skipped) when chromium, node
# or the test's npm packages (npm ci in tests/browser) are absent.
dir=$(dirname "$0")
chromium=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then echo "no chromium at $chromium: skipped"; exit 77; fi
if ! command -v node >/dev/null 2>&1; then echo "no node: skipped"; exit 77; fi
if [ ! -d "$dir/node_modules/puppeteer-core" ]; then
	echo "no puppeteer-core (run npm ci in tests/browser, or scripts/deps.sh --test): skipped"
	exit 77
fi
exec node "$dir/${1:-test-dashboard.mjs}"
