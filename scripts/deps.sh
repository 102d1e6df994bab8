#!/bin/sh
# Installs the Debian 12 packages that sibyl needs to build, run and test.
# Waits up to 10 minutes for another apt/dpkg run to release its lock
# instead of failing at once.
set -e
export DEBIAN_FRONTEND=noninteractive
PKGS="build-essential pkg-config meson ninja-build libmicrohttpd-dev libjansson-dev \
libsqlite3-dev sqlite3 libgsl-dev libopenblas-dev libcurl4-openssl-dev libsodium-dev \
curl python3 clang clang-format zlib1g-dev"
PKGS="$PKGS libpq-dev" # the PostgreSQL backend's client library (docs/storage.md)
if [ "${1:-}" = "--test" ]; then
	# chromium: the dashboard's browser test (tests/browser); node and npm
	# only when absent, so that a node already installed is kept.
	PKGS="$PKGS python3-sklearn openssl chromium"
	command -v node >/dev/null 2>&1 || PKGS="$PKGS nodejs"
	command -v npm >/dev/null 2>&1 || PKGS="$PKGS npm"
fi
if [ "${1:-}" = "--test" ]; then
	PKGS="$PKGS python3-pandas" # Study.to_dataframe() in tests/python
	PKGS="$PKGS postgresql"     # the pg-* suites' throw-away clusters (tests/common/pgcluster.sh)
fi
if [ "${1:-}" = "--test" ]; then
	PKGS="$PKGS haproxy" # the load balancer of docker/run-by-hand.sh (tests/cluster)
fi
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	LOCK="-o DPkg::Lock::Timeout=600 -o Acquire::Retries=3"
	# apt-get update does not honour DPkg::Lock::Timeout for its lists lock.
	tries=0
	until out=$(apt-get $LOCK update -qq 2>&1); do
		tries=$((tries + 1))
		if ! echo "$out" | grep -q "Could not get lock" || [ "$tries" -ge 120 ]; then
			echo "$out" >&2
			exit 1
		fi
		[ "$tries" -eq 1 ] && echo "deps.sh: another apt/dpkg run holds the lock; waiting" >&2
		sleep 5
	done
	apt-get $LOCK install -y -qq --no-install-recommends $missing
fi
# The browser test's npm packages (puppeteer-core, echarts), as pinned in
# tests/browser/package-lock.json.
if [ "${1:-}" = "--test" ]; then
	(cd "$(dirname "$0")/../tests/browser" && npm ci --no-audit --no-fund)
fi
