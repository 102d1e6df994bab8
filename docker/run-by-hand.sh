#!/bin/bash
# The services of docker/compose-postgres.yaml started by hand, with the
# same settings, where no Docker engine runs: a PostgreSQL cluster (a
# throwaway one, on a Unix socket in a temporary directory), two sibyld on
# it, haproxy from Debian with docker/haproxy.cfg in front, all on
# 127.0.0.1. Then a worker served through the load balancer:
#
#   docker/run-by-hand.sh [--db postgresql|sqlite] [--check]
#
# Without --check it prints the load balancer's URL and the admin key and
# waits (Ctrl-C stops everything). With --check (the test deploy-by-hand)
# it runs `sibyl run` of 12 trials through the load balancer, checks that
# both daemons served requests, kills one sibyld with SIGKILL, runs 12 more
# through the load balancer (haproxy's health checks take the dead one
# out; its connections redispatch) and checks that the study has 24
# SUCCEEDED trials; exit 0 when all held. --db sqlite puts both daemons on
# one SQLite file instead (docs/storage.md).
#
# Binaries: $SIBYLD (default build/server/sibyld), $SIBYL_CLI (default
# build/client/cli/sibyl), haproxy on PATH (scripts/deps.sh --test). The
# PostgreSQL cluster comes from tests/common/pgcluster.sh (initdb and
# pg_ctl of Debian's postgresql, as the user postgres when run as root).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
SIBYLD=${SIBYLD:-$root/build/server/sibyld}
SIBYL_CLI=${SIBYL_CLI:-$root/build/client/cli/sibyl}
pgcluster=$root/tests/common/pgcluster.sh
backend=postgresql
check=0
while [ $# -gt 0 ]; do
	case $1 in
	--db) backend=$2; shift 2 ;;
	--check) check=1; shift ;;
	*) echo "usage: $0 [--db postgresql|sqlite] [--check]" >&2; exit 2 ;;
	esac
done
case $backend in postgresql | sqlite) ;; *) echo "--db: postgresql or sqlite" >&2; exit 2 ;; esac
if ! command -v haproxy >/dev/null; then
	echo "run-by-hand: haproxy is not installed (scripts/deps.sh --test)" >&2
	exit 77 # meson: skipped
fi

tmp=$(mktemp -d /tmp/sibyl-by-hand-XXXXXX)
chmod 711 "$tmp" # PostgreSQL runs as another user and needs its way to $tmp/pg
pids=""
pg_started=0
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	for p in $pids; do wait "$p" 2>/dev/null || true; done
	[ $pg_started = 1 ] && sh "$pgcluster" remove "$tmp/pg" >/dev/null 2>&1
	if [ "${SIBYL_TEST_KEEP:-}" ]; then echo "kept $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() {
	echo "run-by-hand: FAIL: $*" >&2
	for f in "$tmp"/*.log; do echo "--- $f" >&2; tail -n 20 "$f" >&2; done
	exit 1
}

# ---- the database
if [ $backend = postgresql ]; then
	pg_started=1
	rc=0
	sh "$pgcluster" start "$tmp/pg" || rc=$?
	[ $rc = 77 ] && exit 77 # no PostgreSQL installed: skipped
	[ $rc = 0 ] || fail "the PostgreSQL cluster did not start"
	# compose: POSTGRES_DB=sibyl, POSTGRES_USER=sibyl (the cluster script
	# sets max_connections=200, compose 50: both well above 2 x 8)
	psql -X -q "postgresql:///postgres?host=$tmp/pg&user=sibyl" -c "CREATE DATABASE sibyl" ||
		fail "cannot create the database sibyl"
	db="postgresql:///sibyl?host=$tmp/pg&user=sibyl"
else
	db=$tmp/sibyl.db
fi
# the one admin key of both daemons (compose: the secret sibyl_admin_key)
(umask 077 && head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$tmp/admin-key")
key=$(cat "$tmp/admin-key")

# ---- two sibyld, the settings of compose-postgres.yaml (port 0: a free one)
start_sibyld() { # NAME; prints its port
	env -u SIBYL_ADMIN_KEY SIBYL_LISTEN=127.0.0.1:0 SIBYL_LOG_LEVEL=debug SIBYL_THREADS=8 \
		SIBYL_DB="$db" SIBYL_DB_POOL=8 SIBYL_ADMIN_KEY_FILE="$tmp/admin-key" \
		"$SIBYLD" >"$tmp/$1.out" 2>"$tmp/$1.log" &
	echo $! >"$tmp/$1.pid"
	for _ in $(seq 200); do
		port=$(sed -n 's/^sibyld: listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/$1.out")
		[ -n "$port" ] && { echo "$port"; return 0; }
		sleep 0.1
	done
	fail "$1 did not start"
}
port1=$(start_sibyld sibyld1)
pids="$pids $(cat "$tmp/sibyld1.pid")"
port2=$(start_sibyld sibyld2)
pids="$pids $(cat "$tmp/sibyld2.pid")"

# ---- haproxy with the compose file's config
lbport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
SIBYL_LB_BIND=127.0.0.1:$lbport SIBYL_SIBYLD1=127.0.0.1:$port1 SIBYL_SIBYLD2=127.0.0.1:$port2 \
	haproxy -db -f "$here/haproxy.cfg" >"$tmp/haproxy.log" 2>&1 &
pids="$pids $!"
lb=http://127.0.0.1:$lbport
for _ in $(seq 100); do
	curl -fsS "$lb/healthz" >/dev/null 2>&1 && break
	sleep 0.1
done
curl -fsS "$lb/healthz" >/dev/null || fail "no /healthz through the load balancer"
echo "run-by-hand: $backend database, sibyld on 127.0.0.1:$port1 and 127.0.0.1:$port2," \
	"haproxy on $lb" >&2

if [ $check = 0 ]; then
	echo "SIBYL_URL=$lb"
	echo "SIBYL_KEY=$key"
	echo "(Ctrl-C stops everything)" >&2
	while sleep 3600; do :; done
fi

# ---- a worker through the load balancer
export SIBYL_URL=$lb SIBYL_KEY=$key SIBYL_RETRY_WINDOW=30
sibyl() { "$SIBYL_CLI" "$@"; }
train='echo "sibyl: loss=$SIBYL_PARAM_X"'
sibyl owner create demo >/dev/null || fail "owner create through the load balancer"
sibyl study create demo/lb --param x:double:0:1 --metric loss:minimize >/dev/null ||
	fail "study create through the load balancer"
run_trials() { # N CLIENT
	sibyl run --study demo/lb --client-id "$2" --max-trials "$1" -- sh -c "$train" \
		>>"$tmp/run.log" 2>&1 || fail "sibyl run ($2) exited $?"
}
run_trials 12 worker-a
served() { grep -c 'path="/v1/owners/demo' "$tmp/$1.log" || true; }
s1=$(served sibyld1)
s2=$(served sibyld2)
echo "run-by-hand: 12 trials through $lb; requests served: sibyld1 $s1, sibyld2 $s2" >&2
[ "$s1" -gt 0 ] && [ "$s2" -gt 0 ] || fail "one daemon served nothing ($s1, $s2)"

kill -9 "$(cat "$tmp/sibyld1.pid")"
echo "run-by-hand: killed sibyld1 (SIGKILL)" >&2
run_trials 12 worker-b
n=$(sibyl trial list demo/lb --state succeeded --csv | tail -n +2 | wc -l)
echo "run-by-hand: 24 trials asked, $n SUCCEEDED; sibyld2 served $(served sibyld2) requests" >&2
[ "$n" = 24 ] || fail "$n SUCCEEDED trials, want 24"
curl -fsS "$lb/healthz" >/dev/null || fail "no /healthz through the load balancer after the kill"
echo "run-by-hand: ok" >&2
