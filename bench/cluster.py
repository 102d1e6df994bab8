#!/usr/bin/env python3
"""Several sibyld on PostgreSQL against one on SQLite (issue 14), in one run.

For each set-up, on a fresh database:
  sqlite-1   one sibyld on an SQLite file
  pg-1       one sibyld on a PostgreSQL database
  pg-3       three sibyld on one PostgreSQL database
(and, when asked for with --setups, sqlite-3: three sibyld on one SQLite file)
it measures completes/s, measurements/s and reads/s at 64 connections
(sibyl-load --mode complete|measure|get, the connections spread over the
daemons) and the suggest latency at n = 50/300/1000 completed trials
(bench/latency.py on the first daemon, GP-EI). Then 256 workers x 1,000
GP-EI trials on one study, spread over three daemons on PostgreSQL
(sibyl-load --mode workers): wall time, errors, duplicates.

PostgreSQL: without --pg the script starts its own throwaway cluster with
the tests' tests/common/pgcluster.sh (a Unix socket in a temporary
directory; note its settings: fsync=off, shared_buffers=32MB) and removes
it at the end; with --pg URI it uses that server (say, one with fsync on).
Either way each set-up gets a database of its own (CREATE DATABASE through
psql). Figures are printed (Markdown), never judged: the machine is shared.

    python3 bench/cluster.py --build build-rel
    python3 bench/cluster.py --build build-rel --pg postgresql:///postgres?host=/tmp/pg
    python3 bench/cluster.py --build build-rel --setups sqlite-1 --duration 5 --no-workers
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import common  # noqa: E402
from common import Daemon  # noqa: E402

KEY = "bench-admin-key-0123456789abcdef"
SETUPS = {"sqlite-1": ("sqlite", 1), "sqlite-3": ("sqlite", 3), "pg-1": ("postgresql", 1),
          "pg-3": ("postgresql", 3)}
LOAD_RE = re.compile(r"requests/s (\d+)\s+p50 ([\d.]+) ms\s+p99 ([\d.]+) ms\s+max ([\d.]+) ms")
ERR_RE = re.compile(r"(\d+) ok, (\d+) errors")


def log(msg):
    print("# " + msg, file=sys.stderr, flush=True)


def with_database(uri, name):
    """uri naming database name instead ("postgresql:///a?host=/d" ->
    "postgresql:///NAME?host=/d"; the authority and query are kept)."""
    scheme, rest = uri.split("://", 1)
    rest, sep, query = rest.partition("?")
    return "%s://%s/%s%s%s" % (scheme, rest.split("/", 1)[0], name, sep, query)


class Postgres:
    """A server to make fresh databases in: the given URI, or a throwaway
    cluster of the tests' cluster script."""

    def __init__(self, uri=None, script=None):
        self.dir = None
        self.script = script
        if uri is None:
            self.dir = tempfile.mkdtemp(prefix="sibyl-bench-pg-")
            subprocess.run(["sh", script, "start", self.dir], check=True)
            uri = "postgresql:///postgres?host=%s&user=sibyl" % self.dir
            log("PostgreSQL cluster in %s: %s" % (self.dir, uri))
        self.uri = uri
        self.count = 0

    def fresh(self, tag):
        """A new empty database; returns its URI."""
        self.count += 1
        name = "sibyl_bench_%s_%d_%d" % (tag.replace("-", "_"), os.getpid(), self.count)
        subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", self.uri, "-c",
                        "CREATE DATABASE %s" % name], check=True)
        return with_database(self.uri, name)

    def close(self):
        if self.dir:
            subprocess.run(["sh", self.script, "remove", self.dir], check=False)


def start_daemons(args, db, n):
    """n sibyld on database db (a path or a URI); the first makes it."""
    ds = []
    for _ in range(n):
        d = Daemon(sibyld=args.sibyld, db_path=db, args=args.daemon_arg, admin_key=KEY)
        ds.append(d.start())
    return ds


def stop_daemons(ds):
    for d in reversed(ds):
        common.stop_server(d)


def load(args, urls, mode):
    """One sibyl-load run; returns (calls/s, p50, p99, max, errors, text)."""
    cmd = [args.load, "--url", ",".join(urls), "--key", KEY, "--mode", mode,
           "-c", str(args.connections), "-d", str(args.duration)]
    if mode == "complete":
        cmd += ["--pool", str(args.pool)]
    out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True).stdout
    m, e = LOAD_RE.search(out), ERR_RE.search(out)
    if not m:
        log("sibyl-load %s failed:\n%s" % (mode, out))
        return None
    return (int(m.group(1)), float(m.group(2)), float(m.group(3)), float(m.group(4)),
            int(e.group(2)) if e else -1, out)


def latency(args, url):
    """bench/latency.py on url; returns {n: median ms}."""
    cmd = [sys.executable, os.path.join(HERE, "latency.py"), "--url", url, "--key", KEY,
           "--sizes", args.sizes, "--repeats", str(args.repeats)]
    out = subprocess.run(cmd, stdout=subprocess.PIPE, text=True).stdout
    med = {}
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 4 and cells[0].isdigit() and cells[1] == "0":
            try:
                med[int(cells[0])] = float(cells[3])
            except ValueError:
                pass
    return med


def run_setup(args, pg, name):
    backend, n = SETUPS[name]
    db = pg.fresh(name) if backend == "postgresql" else None
    tmp = None
    if db is None:
        tmp = tempfile.mkdtemp(prefix="sibyl-bench-")
        db = os.path.join(tmp, "sibyl.db")
    log("%s: %d sibyld on %s" % (name, n, db))
    ds = start_daemons(args, db, n)
    row = {"name": name}
    try:
        urls = [d.url for d in ds]
        for mode in ("complete", "measure", "get"):
            row[mode] = load(args, urls, mode)
            if row[mode]:
                log("%s %s: %d/s p50 %.2f ms p99 %.2f ms, %d errors"
                    % (name, mode, *row[mode][:3], row[mode][4]))
        row["latency"] = latency(args, urls[0]) if args.sizes else {}
        log("%s suggest medians: %s" % (name, row["latency"]))
        row["rss"] = [d.peak_rss_kib() for d in ds]
    finally:
        stop_daemons(ds)
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    return row


def workers_run(args, pg):
    tmp = None
    if args.workers_db == "sqlite":
        tmp = tempfile.mkdtemp(prefix="sibyl-bench-")
        db = os.path.join(tmp, "sibyl.db")
    else:
        db = pg.fresh("workers")
    log("workers: 3 sibyld on %s" % db)
    ds = start_daemons(args, db, 3)
    try:
        cmd = [args.load, "--url", ",".join(d.url for d in ds), "--key", KEY, "--mode",
               "workers", "--workers", str(args.workers), "--budget", str(args.budget),
               "--algorithm", "GAUSSIAN_PROCESS_EI"]
        t0 = time.monotonic()
        out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True).stdout
        log("workers run took %.0f s" % (time.monotonic() - t0))
        return out
    finally:
        stop_daemons(ds)
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


def cell(r):
    if not r:
        return "failed"
    s = "{:,} (p50 {:.1f}, p99 {:.1f} ms)".format(r[0], r[1], r[2])
    return s + (", **%d errors**" % r[4] if r[4] else "")


def report(args, rows, workers_out):
    if rows:
        report_setups(args, rows)
    if workers_out:
        print("\n### %d workers x %d GP-EI trials, three sibyld on %s\n"
              % (args.workers, args.budget,
                 "PostgreSQL" if args.workers_db == "postgresql" else "one SQLite file"))
        print("```\n%s```" % workers_out)


def report_setups(args, rows):
    sizes = [int(s) for s in args.sizes.split(",") if s]
    print("\n### %d connections, %.0f s each; suggest latency (GP-EI, median of %d, ms)\n"
          % (args.connections, args.duration, args.repeats))
    head = "| set-up | completes/s | measurements/s | reads/s |"
    head += "".join(" suggest n=%d |" % n for n in sizes)
    print(head)
    print("|---" * (4 + len(sizes)) + "|")
    for r in rows:
        line = "| %s | %s | %s | %s |" % (r["name"], cell(r["complete"]), cell(r["measure"]),
                                         cell(r["get"]))
        line += "".join(" %s |" % r["latency"].get(n, "—") for n in sizes)
        print(line)
    base = next((r for r in rows if r["name"] == "sqlite-1"), None)
    for r in rows:
        if base and r is not base and base["latency"]:
            ratios = ["%.2f" % (r["latency"][n] / base["latency"][n]) for n in sizes
                      if n in r["latency"] and base["latency"].get(n)]
            print("\n%s suggest latency / sqlite-1: %s (n = %s)"
                  % (r["name"], ", ".join(ratios), args.sizes))
    print("\nPeak RSS per daemon (MiB): " + "; ".join(
        "%s %s" % (r["name"], ", ".join("%.0f" % (k / 1024) for k in r["rss"] if k))
        for r in rows))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default="build-rel", help="build dir with sibyld and sibyl-load")
    ap.add_argument("--sibyld", help="sibyld binary (default: BUILD/server/sibyld)")
    ap.add_argument("--load", help="sibyl-load binary (default: BUILD/bench/sibyl-load)")
    ap.add_argument("--pg", help="a PostgreSQL URI to make the databases in (default: a "
                    "throwaway cluster of tests/common/pgcluster.sh)")
    ap.add_argument("--pgcluster", default=os.path.join(ROOT, "tests", "common", "pgcluster.sh"))
    ap.add_argument("--setups", default="sqlite-1,pg-1,pg-3")
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--duration", type=float, default=10.0)
    ap.add_argument("--pool", type=int, default=200, help="complete: trials per connection")
    ap.add_argument("--sizes", default="50,300,1000")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--workers", type=int, default=256)
    ap.add_argument("--budget", type=int, default=1000)
    ap.add_argument("--no-workers", action="store_true")
    ap.add_argument("--workers-db", choices=("postgresql", "sqlite"), default="postgresql")
    ap.add_argument("--daemon-arg", action="append", default=[],
                    help="extra sibyld argument for every daemon (repeatable)")
    args = ap.parse_args(argv)
    args.sibyld = args.sibyld or os.path.join(args.build, "server", "sibyld")
    args.load = args.load or os.path.join(args.build, "bench", "sibyl-load")
    setups = [s for s in args.setups.split(",") if s]
    for s in setups:
        if s not in SETUPS:
            ap.error("unknown set-up %s (%s)" % (s, ", ".join(SETUPS)))
    need_pg = any(SETUPS[s][0] == "postgresql" for s in setups) or (
        not args.no_workers and args.workers_db == "postgresql")
    pg = Postgres(args.pg, args.pgcluster) if need_pg else None
    try:
        rows = [run_setup(args, pg, s) for s in setups]
        workers_out = None if args.no_workers else workers_run(args, pg)
    finally:
        if pg:
            pg.close()
    report(args, rows, workers_out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
