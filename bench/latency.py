#!/usr/bin/env python3
"""Latency and scale benchmark: suggest time against the size of a study.

For each n (default 50, 300, 1000, 5000): a study over the 6-dimensional
hartmann6 space; n completed trials imported with create-trial (state
SUCCEEDED with a finalMeasurement, uniform random points, their true value);
then single suggest calls timed end to end over HTTP (each suggested trial is
completed, untimed, before the next call). Reports per n the first call
(cold: no previous fit of this study) and the median, min and max of the
next --repeats calls, and the daemon's peak RSS (VmHWM) after that size.
Then the daemon is restarted on the same database: start-up time and the
database's size.

--infeasible K runs every size twice: the plain study, and the same study
with K more trials completed as infeasible (created at random points,
handed out by suggest, completed with trialInfeasible), so that the cost
of a failure model shows as the ratio of the two medians.

--big adds the workers issue's scale run: one study of --big-size (100,000)
imported trials on its own fresh daemon; list-page, get-trial and suggest
latency, start-up time, database size, peak RSS.

    python3 bench/latency.py --sibyld build-release/server/sibyld
    python3 bench/latency.py --sizes 50,300 --repeats 5 --algorithm RANDOM_SEARCH
    python3 bench/latency.py --sizes 50,300,1000 --infeasible 1
    python3 bench/latency.py --big --sizes ''
"""

import argparse
import concurrent.futures
import json
import os
import random
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import common  # noqa: E402
from common import median, percentile, sc  # noqa: E402
import problems  # noqa: E402

HARTMANN = problems.BY_NAME["hartmann6"]


def spec_for(algorithm, seed=0):
    spec = json.loads(json.dumps(HARTMANN["spec"]))
    spec["algorithm"] = algorithm
    spec["seed"] = str(seed)
    return spec


def import_trials(client, study, n, seed, threads):
    """Creates n SUCCEEDED trials at uniform random points; returns seconds."""
    rng = random.Random(seed)
    points = [{"x%d" % (j + 1): rng.random() for j in range(6)} for _ in range(n)]

    def one(chunk):
        for p in chunk:
            study.create_trial(p, final_measurement={"value": HARTMANN["f"](p)})
        return len(chunk)

    t0 = time.perf_counter()
    step = max(1, min(500, n // max(1, threads * 4)))
    chunks = [points[i:i + step] for i in range(0, n, step)]
    done = 0
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        for k in pool.map(one, chunks):
            done += k
            if n >= 20000 and done % 10000 < k:
                print("#   imported %d of %d (%.0f s)" % (done, n, time.perf_counter() - t0),
                      file=sys.stderr)
    return time.perf_counter() - t0


def add_infeasible(study, k, seed):
    """k trials at random points, handed out and completed as infeasible."""
    rng = random.Random(seed + 7)
    for _ in range(k):
        study.create_trial({"x%d" % (j + 1): rng.random() for j in range(6)})
        got = study.suggest(1, client_id="fail")
        if not got:
            raise sc.SibylError(0, "EMPTY", "suggest returned no trial")
        got[0].complete(infeasible=True, reason="bench")


def time_suggests(study, count):
    """Times count single suggest calls; completes each trial untimed."""
    times = []
    for i in range(count):
        t0 = time.perf_counter()
        got = study.suggest(1, client_id="lat")
        times.append(time.perf_counter() - t0)
        if not got:
            raise sc.SibylError(0, "EMPTY", "suggest returned no trial")
        got[0].complete({"value": HARTMANN["f"](got[0].parameters)})
    return times


def timed(fn, count):
    out = []
    for _ in range(count):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def ms(x):
    return "%.1f" % (x * 1000.0)


def mib(kib):
    return "—" if kib is None else "%.0f" % (kib / 1024.0)


def restart_figures(daemon):
    """Stops the daemon, starts it again on the same database: (startup s,
    db bytes). The daemon is left running."""
    daemon.stop(cleanup=False)
    size = daemon.db_bytes()
    daemon.start()
    return daemon.startup_seconds, size


def size_run(args, url, key, daemon):
    client = sc.Client(url, key, timeout=600)
    rows = []
    run_id = time.strftime("%H%M%S")
    for n in args.sizes:
        for k_inf in ([0, args.infeasible] if args.infeasible else [0]):
            tag = "-inf%d" % k_inf if k_inf else ""
            study = client.create_study(args.owner, "lat-%d%s-%s" % (n, tag, run_id),
                                        spec_for(args.algorithm, seed=n))
            imp = import_trials(client, study, n, seed=n, threads=args.import_threads)
            try:
                add_infeasible(study, k_inf, seed=n)
                times = time_suggests(study, 1 + args.repeats)
            except sc.SibylError as e:
                print("# n=%d: %s" % (n, e), file=sys.stderr)
                rows.append({"n": n, "infeasible": k_inf, "error": "%s: %s" % (e.code, e.message)})
                continue
            row = {"n": n, "infeasible": k_inf, "import_s": imp, "first_s": times[0],
                   "median_s": median(times[1:]), "min_s": min(times[1:]),
                   "max_s": max(times[1:]),
                   "peak_rss_kib": daemon.peak_rss_kib() if daemon else None}
            rows.append(row)
            print("# n=%d infeasible=%d: import %.1f s, suggest first %s ms, median %s ms"
                  % (n, k_inf, imp, ms(row["first_s"]), ms(row["median_s"])), file=sys.stderr)
    client.close()
    print("\n### Suggest latency, %s, hartmann6 (6-d), end to end over HTTP\n" % args.algorithm)
    print("| completed trials | infeasible | first suggest (ms) | median of %d (ms) | min (ms) | "
          "max (ms) | peak RSS so far (MiB) | import (trials/s) | median / without |"
          % args.repeats)
    print("|---|---|---|---|---|---|---|---|---|")
    plain = {r["n"]: r for r in rows if r["infeasible"] == 0 and "error" not in r}
    for r in rows:
        if "error" in r:
            print("| %d | %d | error: %s | | | | | | |" % (r["n"], r["infeasible"], r["error"]))
            continue
        base = plain.get(r["n"])
        ratio = "%.2f" % (r["median_s"] / base["median_s"]) if base and r["infeasible"] else ""
        print("| %d | %d | %s | %s | %s | %s | %s | %.0f | %s |" % (
            r["n"], r["infeasible"], ms(r["first_s"]), ms(r["median_s"]), ms(r["min_s"]),
            ms(r["max_s"]), mib(r["peak_rss_kib"]),
            r["n"] / r["import_s"] if r["import_s"] > 0 else 0, ratio))
    if daemon:
        total = sum(r["n"] + r["infeasible"] + 1 + args.repeats for r in rows)
        startup, size = restart_figures(daemon)
        print("\nRestart on that database (%d trials in %d studies): start-up %.3f s, "
              "database %.1f MiB." % (total, len(rows), startup, size / 2 ** 20))
    return rows


def big_run(args):
    """The 100,000-trial study, on its own fresh daemon."""
    daemon, url, key = common.open_server(args)
    try:
        client = sc.Client(url, key, timeout=600)
        study = client.create_study(args.owner, "big", spec_for(args.algorithm))
        n = args.big_size
        print("# big: importing %d trials with %d threads" % (n, args.import_threads),
              file=sys.stderr)
        imp = import_trials(client, study, n, seed=1, threads=args.import_threads)
        rss_after_import = daemon.peak_rss_kib()

        page_first = timed(lambda: client.list_trials_page(args.owner, "big", page_size=100), 20)
        # A page deep in the list: follow tokens to the middle once, then time it.
        token = None
        for _ in range(min(n // 100 // 2, 500)):
            _, token = client.list_trials_page(args.owner, "big", page_size=100, page_token=token)
        page_deep = timed(lambda: client.list_trials_page(args.owner, "big", page_size=100,
                                                          page_token=token), 20)
        rng = random.Random(2)
        get = timed(lambda: client.get_trial(args.owner, "big", rng.randint(1, n)), 200)
        suggest = time_suggests(study, 1 + args.repeats)
        rss = daemon.peak_rss_kib()
        startup, size = restart_figures(daemon)
        # The first call after a restart pays for loading the study.
        sug_after = time_suggests(client.get_study(args.owner, "big"), 2)
        client.close()
        rss_final = daemon.peak_rss_kib()
    finally:
        common.stop_server(daemon)
    print("\n### A study of %d imported trials (%s)\n" % (n, args.algorithm))
    print("| figure | value |")
    print("|---|---|")
    print("| import, %d client threads | %.0f s (%.0f trials/s) |"
          % (args.import_threads, imp, n / imp))
    print("| list first page of 100, median of 20 | %s ms |" % ms(median(page_first)))
    print("| list a page in the middle, median of 20 | %s ms |" % ms(median(page_deep)))
    print("| get trial (random id), median / p99 of 200 | %s / %s ms |"
          % (ms(median(get)), ms(percentile(get, 99))))
    print("| suggest: first / median of next %d | %s / %s ms |"
          % (args.repeats, ms(suggest[0]), ms(median(suggest[1:]))))
    print("| suggest right after a restart | %s ms |" % ms(sug_after[0]))
    print("| start-up on that database | %.3f s |" % startup)
    print("| database size (with WAL) | %.1f MiB |" % (size / 2 ** 20))
    print("| peak RSS after import / after suggest / after restart + suggest | %s / %s / %s MiB |"
          % (mib(rss_after_import), mib(rss), mib(rss_final)))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    common.add_server_args(ap)
    ap.add_argument("--sizes", default="50,300,1000,5000")
    ap.add_argument("--repeats", type=int, default=7, help="timed suggest calls per size")
    ap.add_argument("--algorithm", default="GAUSSIAN_PROCESS_EI")
    ap.add_argument("--import-threads", type=int, default=4)
    ap.add_argument("--infeasible", type=int, default=0,
                    help="also time each size with this many infeasible trials added")
    ap.add_argument("--big", action="store_true", help="also the 100,000-trial study")
    ap.add_argument("--big-size", type=int, default=100000)
    args = ap.parse_args(argv)
    args.sizes = [int(s) for s in args.sizes.split(",") if s]

    if args.sizes:
        daemon, url, key = common.open_server(args)
        try:
            size_run(args, url, key, daemon)
        finally:
            common.stop_server(daemon)
    if args.big:
        if args.url:
            ap.error("--big starts its own daemon; drop --url")
        big_run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
