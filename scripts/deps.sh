#!/bin/sh
# Installs the Debian 12 packages that sibyl needs to build, run and test.
set -e
export DEBIAN_FRONTEND=noninteractive
PKGS="build-essential pkg-config meson ninja-build libmicrohttpd-dev libjansson-dev \
libsqlite3-dev sqlite3 libgsl-dev libopenblas-dev libcurl4-openssl-dev libsodium-dev \
curl python3 clang clang-format zlib1g-dev"
if [ "${1:-}" = "--test" ]; then
	# chromium: the dashboard's browser test (tests/browser); node and npm
	# only when absent, so that a node already installed is kept.
	PKGS="$PKGS python3-sklearn openssl chromium"
	command -v node >/dev/null 2>&1 || PKGS="$PKGS nodejs"
	command -v npm >/dev/null 2>&1 || PKGS="$PKGS npm"
fi
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends $missing
fi
# The browser test's npm packages (puppeteer-core, echarts), as pinned in
# tests/browser/package-lock.json.
if [ "${1:-}" = "--test" ]; then
	(cd "$(dirname "$0")/../tests/browser" && npm ci --no-audit --no-fund)
fi
