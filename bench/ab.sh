#!/bin/bash
# Side by side: sibyl-load against two builds, alternated, each run on a
# fresh daemon and database, so that both see the same minutes of a noisy
# machine.
#   bench/ab.sh BEFORE_BUILD AFTER_BUILD [MODES] [ROUNDS]
#   bench/ab.sh /tmp/base/build-rel build-rel "get measure complete" 2
# (each build dir holds server/sibyld and bench/sibyl-load; release builds)
set -u
before=${1:?usage: ab.sh BEFORE_BUILD AFTER_BUILD [MODES] [ROUNDS]}
after=${2:?usage: ab.sh BEFORE_BUILD AFTER_BUILD [MODES] [ROUNDS]}
modes=${3:-get measure complete}
rounds=${4:-2}

one() { # BUILD MODE: one run, its summary line
	local d url pid
	d=$(mktemp -d)
	SIBYL_ADMIN_KEY=benchkey "$1/server/sibyld" --listen 127.0.0.1:0 --db "$d/s.db" \
		>"$d/out" 2>"$d/err" &
	pid=$!
	for _ in $(seq 1 100); do
		grep -q "listening on" "$d/out" 2>/dev/null && break
		sleep 0.1
	done
	url=http://$(grep -m1 "listening on" "$d/out" | sed 's/.*listening on //')
	curl -s -H "Authorization: Bearer benchkey" -X POST "$url/v1/owners" \
		-d '{"ownerId":"bench"}' >/dev/null
	"$1/bench/sibyl-load" --url "$url" --key benchkey --mode "$2" -c 64 -d 8 2>&1 | tail -1
	kill -TERM "$pid"
	wait "$pid"
	rm -rf "$d"
}

for mode in $modes; do
	for r in $(seq 1 "$rounds"); do
		echo "$mode before r$r: $(one "$before" "$mode")"
		echo "$mode after  r$r: $(one "$after" "$mode")"
	done
done
