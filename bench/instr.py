#!/usr/bin/env python3
"""Instructions per request of sibyld's writes, counted by callgrind: a
measure robust to a noisy machine (the count is the same on a busy one).

    python3 bench/instr.py --sibyld BUILD/server/sibyld [--measure 2000]
                           [--complete 500]

Starts sibyld under `valgrind --tool=callgrind` on a fresh database, sets
up one RANDOM_SEARCH study (untimed), then sends --measure
:addTrialMeasurement calls (100 per trial, as sibyl-load does) and
--complete :complete calls, one at a time on one keep-alive connection.
A callgrind dump after each phase (`callgrind_control -d`) splits the
count, so that each line is that phase's instructions divided by its
requests (the whole daemon: HTTP, api, service, SQLite, background
threads). The profiles stay in --out for callgrind_annotate.

--no-valgrind runs the same calls on a plain sibyld (a smoke run: counts
only; an ASan build cannot run under valgrind)."""

import argparse
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

KEY = "bench-instr-admin-key-0123456789"
PER_TRIAL = 100


class Conn:
    def __init__(self, hostport):
        self.c = http.client.HTTPConnection(hostport, timeout=600)
        self.h = {"Authorization": "Bearer " + KEY, "Content-Type": "application/json"}

    def call(self, method, path, body=None):
        self.c.request(method, path, body=None if body is None else json.dumps(body),
                       headers=self.h)
        r = self.c.getresponse()
        data = r.read()
        if r.status != 200:
            sys.exit("instr.py: %s %s: HTTP %d %s" % (method, path, r.status, data[:300]))
        return json.loads(data) if data else None


def start(args, db, out_dir):
    argv = [args.sibyld, "--listen", "127.0.0.1:0", "--db", db]
    if not args.no_valgrind:
        argv = ["valgrind", "--tool=callgrind",
                "--callgrind-out-file=" + os.path.join(out_dir, "callgrind.out")] + argv
    log = open(os.path.join(out_dir, "sibyld.out"), "w+")
    err = open(os.path.join(out_dir, "sibyld.err"), "w")
    p = subprocess.Popen(argv, stdout=log, stderr=err,
                         env=dict(os.environ, SIBYL_ADMIN_KEY=KEY))
    for _ in range(1200):
        log.seek(0)
        m = re.search(r"listening on (\S+:\d+)", log.read())
        if m:
            return p, m.group(1)
        if p.poll() is not None:
            break
        time.sleep(0.1)
    p.kill()
    sys.exit("instr.py: sibyld did not start (see %s)" % out_dir)


def set_up(c, n_measure, n_complete):
    c.call("POST", "/v1/owners", {"ownerId": "bench"})
    params = [{"parameterId": "x%d" % i, "doubleValueSpec": {"minValue": 0, "maxValue": 1}}
              for i in range(1, 7)]
    c.call("POST", "/v1/owners/bench/studies", {"displayName": "instr", "studySpec": {
        "metrics": [{"metricId": "value", "goal": "MINIMIZE"}], "parameters": params,
        "algorithm": "RANDOM_SEARCH", "seed": "1"}})
    sp = "/v1/owners/bench/studies/instr"

    def suggest(client, n):
        j = c.call("POST", sp + "/trials:suggest", {"suggestionCount": n, "clientId": client})
        return [int(t["id"]) for t in j["response"]["trials"]]

    measured = []
    for k in range((n_measure + PER_TRIAL - 1) // PER_TRIAL):
        measured += suggest("m%d" % k, 1)
    completed = []
    while len(completed) < n_complete:
        completed += suggest("c%d" % len(completed), min(100, n_complete - len(completed)))
    return sp, measured, completed


def dump(args, pid, out_dir, tag):
    """The instructions since the last dump (0 without valgrind)."""
    if args.no_valgrind:
        return 0
    before = set(os.listdir(out_dir))
    subprocess.run(["callgrind_control", "-d", tag, str(pid)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        new = [f for f in set(os.listdir(out_dir)) - before if f.startswith("callgrind.out.")]
        if new:
            with open(os.path.join(out_dir, new[0])) as f:
                for line in f:
                    if line.startswith("totals:"):
                        return int(line.split()[1])
        time.sleep(0.1)
    sys.exit("instr.py: no callgrind dump for %s" % tag)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sibyld", required=True, help="a release build's server/sibyld")
    ap.add_argument("--measure", type=int, default=2000, help=":addTrialMeasurement calls")
    ap.add_argument("--complete", type=int, default=500, help=":complete calls")
    ap.add_argument("--out", help="directory for the profiles (default: a new temporary one)")
    ap.add_argument("--no-valgrind", action="store_true", help="plain sibyld, counts only")
    args = ap.parse_args()
    if not args.no_valgrind and not shutil.which("callgrind_control"):
        sys.exit("instr.py: valgrind (callgrind_control) is not installed")
    out_dir = args.out or tempfile.mkdtemp(prefix="sibyl-instr-")
    os.makedirs(out_dir, exist_ok=True)
    db_dir = tempfile.mkdtemp(prefix="sibyl-instr-db-")
    p, hostport = start(args, os.path.join(db_dir, "s.db"), out_dir)
    try:
        c = Conn(hostport)
        sp, measured, completed = set_up(c, args.measure, args.complete)
        dump(args, p.pid, out_dir, "setup")
        for i in range(args.measure):
            step = i % PER_TRIAL + 1
            c.call("POST", "%s/trials/%d:addTrialMeasurement" % (sp, measured[i // PER_TRIAL]),
                   {"measurement": {"stepCount": str(step), "metrics": [
                       {"metricId": "value", "value": 1.0 / step}]}})
        n_meas = dump(args, p.pid, out_dir, "measure")
        for t in completed[:args.complete]:
            c.call("POST", "%s/trials/%d:complete" % (sp, t), {"finalMeasurement": {
                "metrics": [{"metricId": "value", "value": 0.5}]}})
        n_comp = dump(args, p.pid, out_dir, "complete")
    finally:
        p.terminate()
        p.wait(timeout=120)
        shutil.rmtree(db_dir, ignore_errors=True)
    if args.no_valgrind and not args.out:
        shutil.rmtree(out_dir, ignore_errors=True)
    else:
        print("# %s, profiles in %s" % (args.sibyld, out_dir))
    for name, n, total in (("addTrialMeasurement", args.measure, n_meas),
                           ("complete", args.complete, n_comp)):
        if args.no_valgrind:
            print("%-20s %6d requests" % (name, n))
        else:
            print("%-20s %6d requests  %8.1fk instructions per request"
                  % (name, n, total / max(n, 1) / 1000))


if __name__ == "__main__":
    main()
