#!/bin/sh
# pgcluster.sh: a throw-away PostgreSQL cluster for the tests, on a Unix
# socket in its own directory (no TCP port), owned by a non-root user.
#
#   pgcluster.sh start DIR       initdb + pg_ctl start; socket in DIR
#   pgcluster.sh stop DIR        pg_ctl stop -m fast (the data stays)
#   pgcluster.sh restart DIR     start again after stop
#   pgcluster.sh remove DIR      stop if running, delete DIR
#   pgcluster.sh run CMD ARGS... a fresh cluster in a temporary directory,
#                                SIBYL_TEST_PG=DIR for CMD, removed after;
#                                exits with CMD's status
#
# The superuser is "sibyl" with trust authentication on the socket only:
# postgresql:///DB?host=DIR&user=sibyl reaches it. The binaries come from
# pg_config --bindir or /usr/lib/postgresql/*/bin, never from PATH. As
# root, PostgreSQL runs as the user "postgres" (Debian's package makes it;
# PGCLUSTER_USER overrides), since it refuses to run as root.
set -eu

bindir() {
	if command -v pg_config >/dev/null 2>&1; then
		d=$(pg_config --bindir)
		if [ -x "$d/initdb" ]; then echo "$d"; return; fi
	fi
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -rV); do
		if [ -x "$d/initdb" ]; then echo "$d"; return; fi
	done
	echo "pgcluster: no initdb found (install postgresql: scripts/deps.sh --test)" >&2
	exit 77
}

BIN=$(bindir)

# Runs a PostgreSQL program as the cluster's owner.
as_owner() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u "${PGCLUSTER_USER:-postgres}" -- "$@"
	else
		"$@"
	fi
}

start() {
	dir=$1
	mkdir -p "$dir"
	if [ "$(id -u)" = 0 ]; then
		chown "${PGCLUSTER_USER:-postgres}" "$dir"
		chmod 700 "$dir"
	fi
	if [ ! -f "$dir/data/PG_VERSION" ]; then
		as_owner "$BIN/initdb" -D "$dir/data" -U sibyl --auth=trust -E UTF8 \
			--no-instructions >"$dir/initdb.log" 2>&1 || {
			cat "$dir/initdb.log" >&2
			exit 1
		}
	fi
	restart "$dir"
}

restart() {
	dir=$1
	# Small and quick: fsync off (a test cluster), no TCP.
	as_owner "$BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
		-o "-k $dir -c listen_addresses= -c fsync=off -c full_page_writes=off -c max_connections=200 -c shared_buffers=32MB" \
		start >/dev/null || {
		cat "$dir/server.log" >&2
		exit 1
	}
}

stop() {
	dir=$1
	if [ -f "$dir/data/postmaster.pid" ]; then
		as_owner "$BIN/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null
	fi
}

remove() {
	dir=$1
	[ -d "$dir" ] || return 0
	stop "$dir" || true
	rm -rf "$dir"
}

case "${1:-}" in
start | stop | restart | remove)
	[ $# -eq 2 ] || { echo "usage: $0 $1 DIR" >&2; exit 2; }
	"$1" "$2"
	;;
run)
	shift
	[ $# -ge 1 ] || { echo "usage: $0 run CMD [ARGS...]" >&2; exit 2; }
	dir=$(mktemp -d /tmp/sibyl-pg-XXXXXX)
	trap 'remove "$dir"' EXIT INT TERM
	start "$dir"
	rc=0
	SIBYL_TEST_PG=$dir "$@" || rc=$?
	exit $rc
	;;
*)
	echo "usage: $0 start|stop|restart|remove DIR | run CMD [ARGS...]" >&2
	exit 2
	;;
esac
