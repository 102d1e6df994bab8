#!/usr/bin/env python3
"""Crash safety under load: kill -9 sibyld while workers run, restart it.

W worker threads loop suggest -> complete on one RANDOM_SEARCH study with a
budget of B trials (studyStoppingConfig.maxNumTrials). While they run, the
daemon is killed with SIGKILL K times, at evenly spaced points of progress,
and started again on the same database and port. Workers retry what failed
on the connection (the same request: the server makes a retried complete
harmless, and a retried suggest with the same clientId returns the same
trial). Reported:
  - restart time after each kill (spawn to ready line), with the database
    size and its WAL at that moment;
  - PRAGMA integrity_check after each kill (before the restart);
  - at the end: completes acknowledged with a 200 that are missing or
    changed (must be 0), trials, duplicates, trials not SUCCEEDED.

With --big N a second study of N imported SUCCEEDED trials is created first,
so that the restart times are those of a large database.

    python3 bench/crash.py                           # 32 workers, 1000 trials, 5 kills
    python3 bench/crash.py --big 100000 --kills 3    # restart of a 100k-trial database
"""

import argparse
import json
import os
import sqlite3
import sys
import threading
import time

import common
from common import sc, Daemon, median

import latency  # for import_trials and the hartmann6 spec


def integrity(db_path):
    db = sqlite3.connect(db_path, timeout=30)
    try:
        return db.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        db.close()


class Run:
    def __init__(self, url, key, owner, budget):
        self.url, self.key, self.owner, self.budget = url, key, owner, budget
        self.lock = threading.Lock()
        self.acks = {}  # trial id -> value acknowledged with a 200
        self.errors = []
        self.retries = 0

    def call(self, client, method, path, body):
        """One request, repeated while the daemon is down."""
        while True:
            try:
                return client.request(method, path, body, idempotent=True)
            except (sc.ConnectionFailed, sc.Unavailable):
                with self.lock:
                    self.retries += 1
                time.sleep(0.02)

    def worker(self, index):
        client = sc.Client(self.url, self.key, timeout=120, retries=0)
        base = "/v1/owners/%s/studies/crash/trials" % self.owner
        try:
            while True:
                try:
                    op = self.call(client, "POST", base + ":suggest",
                                   {"suggestionCount": 1, "clientId": "w%d" % index})
                except sc.FailedPrecondition:
                    return  # the budget is spent
                trials = (op.get("response") or {}).get("trials") or []
                if len(trials) != 1:
                    raise RuntimeError("suggest gave %d trials" % len(trials))
                t = trials[0]
                value = -sum((p["value"] - 0.3) ** 2 for p in t["parameters"])
                body = {"finalMeasurement": {"metrics": [{"metricId": "y", "value": value}]}}
                self.call(client, "POST", "%s/%s:complete" % (base, t["id"]), body)
                with self.lock:
                    self.acks[int(t["id"])] = value
        except Exception as e:  # noqa: BLE001: reported, not hidden
            with self.lock:
                self.errors.append("worker %d: %s" % (index, e))
        finally:
            client.close()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sibyld", help="sibyld binary (default: build-release/server/sibyld)")
    ap.add_argument("--workers", type=int, default=32)
    ap.add_argument("--budget", type=int, default=1000)
    ap.add_argument("--kills", type=int, default=5)
    ap.add_argument("--big", type=int, default=0, help="import a study of N trials first")
    ap.add_argument("--import-threads", type=int, default=4)
    ap.add_argument("--owner", default="bench")
    args = ap.parse_args(argv)

    daemon = Daemon(sibyld=common.find_sibyld(args.sibyld)).start()
    admin = sc.Client(daemon.url, daemon.admin_key, timeout=600)
    try:
        admin.create_owner(args.owner)
    except (sc.AlreadyExists, sc.Unimplemented):
        pass  # a server without explicit owners creates them with the study
    key = daemon.admin_key
    if args.big:
        big = admin.create_study(args.owner, "big", latency.spec_for("RANDOM_SEARCH"))
        secs = latency.import_trials(admin, big, args.big, seed=1, threads=args.import_threads)
        print("# imported %d trials in %.0f s" % (args.big, secs), file=sys.stderr)
    spec = {"algorithm": "RANDOM_SEARCH",
            "metrics": [{"metricId": "y", "goal": "MAXIMIZE"}],
            "parameters": [{"parameterId": "x%d" % i,
                            "doubleValueSpec": {"minValue": 0, "maxValue": 1}}
                           for i in range(3)],
            "studyStoppingConfig": {"maxNumTrials": args.budget}}
    admin.create_study(args.owner, "crash", spec)

    run = Run(daemon.url, key, args.owner, args.budget)
    threads = [threading.Thread(target=run.worker, args=(i,)) for i in range(args.workers)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    rows = []
    for k in range(args.kills):
        at = args.budget * (k + 1) // (args.kills + 1)
        while len(run.acks) < at and any(t.is_alive() for t in threads):
            time.sleep(0.005)
        acked = len(run.acks)
        daemon.kill()
        wal = os.path.getsize(daemon.db_path + "-wal") if os.path.exists(
            daemon.db_path + "-wal") else 0
        ok = integrity(daemon.db_path)
        daemon.start()
        rows.append((k + 1, acked, daemon.startup_seconds, daemon.db_bytes(), wal, ok))
    for t in threads:
        t.join()
    wall = time.monotonic() - t0

    trials = admin.list_trials(args.owner, "crash", page_size=1000)
    by_id = {int(t.id): t for t in trials}
    lost = 0
    for tid, value in run.acks.items():
        t = by_id.get(tid)
        fm = t.raw.get("finalMeasurement") if t is not None else None
        got = fm["metrics"][0]["value"] if fm else None
        if t is None or t.raw.get("state") != "SUCCEEDED" or got != value:
            lost += 1
    params = [json.dumps(t.raw.get("parameters"), sort_keys=True) for t in trials]
    dups = len(params) - len(set(params))
    not_done = sum(1 for t in trials if t.raw.get("state") != "SUCCEEDED")
    admin.close()
    daemon.stop()

    print("\n### kill -9 under load: %d workers, budget %d, %d kills%s\n"
          % (args.workers, args.budget, args.kills,
             ", beside a study of %d trials" % args.big if args.big else ""))
    print("| kill | acknowledged completes before it | restart (spawn to ready) | "
          "db + WAL size | WAL at the kill | integrity_check |")
    print("|---|---|---|---|---|---|")
    for k, acked, secs, size, wal, ok in rows:
        print("| %d | %d | %.3f s | %.1f MiB | %.1f MiB | %s |"
              % (k, acked, secs, size / 2 ** 20, wal / 2 ** 20, ok))
    print()
    print("| figure | value |")
    print("|---|---|")
    print("| wall time | %.1f s |" % wall)
    print("| median restart | %.3f s |" % median([r[2] for r in rows]) if rows else "| - | - |")
    print("| acknowledged completes | %d |" % len(run.acks))
    print("| acknowledged but missing or changed | %d |" % lost)
    print("| trials / not SUCCEEDED / duplicate parameters | %d / %d / %d |"
          % (len(trials), not_done, dups))
    print("| requests retried while the daemon was down | %d |" % run.retries)
    print("| worker errors | %d%s |" % (len(run.errors),
                                        (": " + run.errors[0]) if run.errors else ""))
    return 0 if not lost and not run.errors and len(trials) == args.budget else 1


if __name__ == "__main__":
    sys.exit(main())
