#!/usr/bin/env python3
"""WAL size under sustained writes: sibyld on a fresh database, sibyl-load
with N workers writing for a while, the -wal file's size sampled every 50 ms.

    python3 bench/wal.py                       # 8 connections, measure, 30 s
    python3 bench/wal.py --mode workers --budget 20000
    python3 bench/wal.py --mode complete -d 20

Prints the WAL's size (max, p50, p90, at the end, after the load stopped)
beside the database's, and sibyl-load's own figures (requests/s, p99).
docs/storage.md and docs/benchmarks.md quote it (issue 11 item 7).
"""

import argparse
import os
import subprocess
import sys
import threading
import time

import common


def find_load(explicit):
    if explicit:
        return explicit
    for build in ("build-release", "build"):
        p = os.path.join(common.ROOT, build, "bench", "sibyl-load")
        if os.access(p, os.X_OK):
            return p
    sys.exit("no sibyl-load found: ninja -C build-release bench/sibyl-load, or --load PATH")


def size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    common.add_server_args(ap)
    ap.add_argument("--load", help="sibyl-load binary (default: build-release/bench/sibyl-load)")
    ap.add_argument("--mode", default="measure", choices=("measure", "complete", "workers"))
    ap.add_argument("-c", "--connections", type=int, default=8, help="workers (default 8)")
    ap.add_argument("-d", "--duration", type=float, default=30, help="seconds (not workers)")
    ap.add_argument("--budget", type=int, default=20000, help="trials (workers mode)")
    ap.add_argument("--idle", type=float, default=3, help="seconds sampled after the load")
    args = ap.parse_args(argv)
    if args.url:
        sys.exit("wal.py starts its own sibyld (it reads the database's files)")
    daemon, url, key = common.open_server(args)
    wal = daemon.db_path + "-wal"
    load = [find_load(args.load), "--url", url, "--key", key, "--owner", args.owner,
            "--mode", args.mode]
    if args.mode == "workers":
        load += ["--workers", str(args.connections), "--budget", str(args.budget),
                 "--algorithm", "RANDOM_SEARCH"]
    else:
        load += ["-c", str(args.connections), "-d", str(args.duration)]
    samples = []
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            samples.append(size(wal))
            time.sleep(0.05)

    th = threading.Thread(target=sample)
    th.start()
    try:
        out = subprocess.run(load, capture_output=True, text=True)
        during = list(samples)
        time.sleep(args.idle)
    finally:
        stop.set()
        th.join()
    print(out.stdout, end="")
    if out.returncode != 0:
        print(out.stderr, file=sys.stderr)
    mib = 1024.0 * 1024.0
    s = sorted(during) or [0]
    print("# %d connections, mode %s: WAL max %.1f MiB, p50 %.1f MiB, p90 %.1f MiB, "
          "at the end of the load %.1f MiB, %.0f s after it %.1f MiB; database %.1f MiB"
          % (args.connections, args.mode, s[-1] / mib, s[len(s) // 2] / mib,
             s[len(s) * 9 // 10] / mib, during[-1] / mib if during else 0, args.idle,
             size(wal) / mib, size(daemon.db_path) / mib))
    daemon.stop()
    return out.returncode


if __name__ == "__main__":
    sys.exit(main())
