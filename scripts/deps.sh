#!/bin/sh
# Installs the Debian 12 packages that sibyl needs to build, run and test.
set -e
export DEBIAN_FRONTEND=noninteractive
PKGS="build-essential pkg-config meson ninja-build libmicrohttpd-dev libjansson-dev \
libsqlite3-dev sqlite3 libgsl-dev libopenblas-dev libcurl4-openssl-dev libsodium-dev \
curl python3 clang clang-format"
if [ "${1:-}" = "--test" ]; then
	PKGS="$PKGS python3-sklearn openssl"
fi
if [ "${1:-}" = "--test" ]; then
	PKGS="$PKGS python3-pandas" # Study.to_dataframe() in tests/python
fi
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends $missing
fi
