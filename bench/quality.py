#!/usr/bin/env python3
"""Quality benchmark: how close each algorithm gets to the optimum in 60 trials.

For each problem of problems.py, each algorithm and each seed: create a study
with that algorithm and seed, then 60 times suggest one trial, evaluate the
objective, complete the trial; record the best value. All through the real
sibyld over HTTP, on a fresh database (or a running one with --url).

Prints a markdown table: per problem, the median over seeds of
log10(best after the last trial - optimum) (floored at 1e-12, so -12 is the
floor) and the median seconds per suggest call of each algorithm, beside the
reference figures of other tuners (reference.json). "<=" marks where
GAUSSIAN_PROCESS_EI is at least as good as the best reference figure.

    python3 bench/quality.py --sibyld build-release/server/sibyld --jobs 2
    python3 bench/quality.py --algorithms RANDOM_SEARCH --problems branin --seeds 3
"""

import argparse
import json
import math
import multiprocessing
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import common  # noqa: E402
from common import median, sc  # noqa: E402
import problems  # noqa: E402

ALGORITHMS = ["GAUSSIAN_PROCESS_EI", "RANDOM_SEARCH", "QUASI_RANDOM_SEARCH"]
SHORT = {"GAUSSIAN_PROCESS_EI": "GP-EI", "RANDOM_SEARCH": "random",
         "QUASI_RANDOM_SEARCH": "quasi-random", "GRID_SEARCH": "grid",
         "ALGORITHM_UNSPECIFIED": "default"}
FLOOR = 1e-12


def log_regret(best, optimum):
    return math.log10(max(best - optimum, FLOOR))


def run_one(task):
    """One study: returns a dict with the best-so-far trace and suggest times,
    or with "error" when the server refused (e.g. UNIMPLEMENTED)."""
    url, key, owner, run_id, pname, algorithm, seed, trials = task
    prob = problems.BY_NAME[pname]
    spec = json.loads(json.dumps(prob["spec"]))
    spec["algorithm"] = algorithm
    spec["seed"] = str(seed)
    client = sc.Client(url, key, timeout=300)
    out = {"problem": pname, "algorithm": algorithm, "seed": seed, "trace": [], "suggest_s": []}
    best = math.inf
    try:
        study = client.create_study(owner, "q-%s-%s-s%d-%s" % (pname, SHORT.get(algorithm, "x"),
                                                               seed, run_id), spec)
        for _ in range(trials):
            t0 = time.perf_counter()
            got = study.suggest(1, client_id="bench")
            out["suggest_s"].append(time.perf_counter() - t0)
            if not got:
                raise sc.SibylError(0, "EMPTY", "suggest returned no trial")
            trial = got[0]
            y = prob["f"](trial.parameters)
            trial.complete({"value": y})
            best = min(best, y)
            out["trace"].append(best)
    except sc.SibylError as e:
        out["error"] = "%s: %s" % (e.code, e.message)
    finally:
        client.close()
    if out["trace"]:
        out["best"] = out["trace"][-1]
        out["log_regret"] = log_regret(out["best"], prob["optimum"])
    return out


def parse_seeds(text):
    """"10" -> 0..9; "0,3,5" -> those; "2-4" -> 2,3,4."""
    if "," in text:
        return [int(s) for s in text.split(",") if s]
    if "-" in text:
        lo, hi = text.split("-", 1)
        return list(range(int(lo), int(hi) + 1))
    return list(range(int(text)))


def fmt(x, spec="%.2f"):
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else spec % x


def summarize(results, pnames, algorithms, trials):
    """Per (problem, algorithm): median log regret, median s/suggest, errors."""
    cells = {}
    for pname in pnames:
        for alg in algorithms:
            rs = [r for r in results if r["problem"] == pname and r["algorithm"] == alg]
            full = [r for r in rs if "error" not in r and len(r["trace"]) == trials]
            times = [t for r in rs for t in r["suggest_s"]]
            cells[(pname, alg)] = {
                "median_log10_regret": median([r["log_regret"] for r in full]) if full else None,
                "median_s_per_suggest": median(times) if times else None,
                "seeds_done": len(full),
                "seeds": len(rs),
                "errors": sorted({r["error"] for r in rs if "error" in r}),
            }
    return cells


def table(cells, pnames, algorithms, ref, trials, nseeds):
    cols = ref["columns"]
    head = ["problem"] + ["%s log10 regret" % SHORT.get(a, a) for a in algorithms]
    head += ["%s s/suggest" % SHORT.get(a, a) for a in algorithms]
    head += ["ref %s" % c for c in cols] + ["ref best"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    wins = beats_random = rows_gp = 0
    for pname in pnames:
        refrow = ref["rows"].get(pname)
        best_ref = min(refrow) if refrow else None
        row = [pname]
        for a in algorithms:
            c = cells[(pname, a)]
            v = c["median_log10_regret"]
            if v is None:
                row.append("error: " + (c["errors"][0].split(":")[0] if c["errors"] else "none"))
                continue
            s = fmt(v)
            if c["seeds_done"] < c["seeds"]:
                s += " (%d/%d seeds)" % (c["seeds_done"], c["seeds"])
            if a == "GAUSSIAN_PROCESS_EI" and best_ref is not None:
                rows_gp += 1
                if v <= best_ref:
                    s = "**%s** <=" % s
                    wins += 1
                rnd = cells.get((pname, "RANDOM_SEARCH"), {}).get("median_log10_regret")
                if rnd is not None and v < rnd:
                    beats_random += 1
            row.append(s)
        for a in algorithms:
            row.append(fmt(cells[(pname, a)]["median_s_per_suggest"], "%.4f"))
        row += [fmt(x) for x in (refrow or [None] * len(cols))] + [fmt(best_ref)]
        lines.append("| " + " | ".join(row) + " |")
    notes = ["",
             "Median over %d seeds of log10(best after %d trials - optimum), floor 1e-12 (-12). "
             "Lower is better. `<=`: GP-EI at least as good as the best reference figure."
             % (nseeds, trials)]
    if rows_gp:
        notes.append("GP-EI at least as good as the best reference on %d of %d problems; "
                     "better than RANDOM_SEARCH on %d of %d." % (wins, rows_gp, beats_random, rows_gp)
                     if "RANDOM_SEARCH" in algorithms else
                     "GP-EI at least as good as the best reference on %d of %d problems."
                     % (wins, rows_gp))
    notes.append("Reference columns: " + ref["origin"])
    return "\n".join(lines + notes)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    common.add_server_args(ap)
    ap.add_argument("--problems", default=",".join(p["name"] for p in problems.PROBLEMS))
    ap.add_argument("--algorithms", default=",".join(ALGORITHMS))
    ap.add_argument("--seeds", default="10", help='"10" (0..9), "0,3" or "2-4"')
    ap.add_argument("--trials", type=int, default=60)
    ap.add_argument("--jobs", type=int, default=2, help="studies run in parallel (processes)")
    ap.add_argument("--json", help="write every run's trace and timings here")
    args = ap.parse_args(argv)

    pnames = [p for p in args.problems.split(",") if p]
    for p in pnames:
        if p not in problems.BY_NAME:
            ap.error("unknown problem %r (have: %s)" % (p, ", ".join(problems.BY_NAME)))
    algorithms = [a for a in args.algorithms.split(",") if a]
    seeds = parse_seeds(args.seeds)
    with open(os.path.join(HERE, "reference.json")) as f:
        ref = json.load(f)

    daemon, url, key = common.open_server(args)
    run_id = time.strftime("%Y%m%dT%H%M%S")
    # The order of --algorithms: GP-EI (the slow one) first by default, so
    # that parallel jobs finish together.
    tasks = [(url, key, args.owner, run_id, p, a, s, args.trials)
             for a in algorithms for p in pnames for s in seeds]
    results = []
    t0 = time.time()
    try:
        if args.jobs > 1:
            with multiprocessing.Pool(args.jobs) as pool:
                for r in pool.imap_unordered(run_one, tasks):
                    results.append(r)
                    progress(r, len(results), len(tasks), t0)
        else:
            for t in tasks:
                r = run_one(t)
                results.append(r)
                progress(r, len(results), len(tasks), t0)
    finally:
        common.stop_server(daemon)

    cells = summarize(results, pnames, algorithms, args.trials)
    print(table(cells, pnames, algorithms, ref, args.trials, len(seeds)))
    errors = {(p, a): c["errors"] for (p, a), c in cells.items() if c["errors"]}
    if errors:
        print("\nErrors from the server:")
        for (p, a), errs in sorted(errors.items()):
            for e in errs:
                print("- %s / %s: %s" % (p, a, e))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"trials": args.trials, "seeds": seeds, "results": results,
                       "summary": {"%s/%s" % k: v for k, v in cells.items()}}, f, indent=1)
    print("\n# %d studies in %.0f s" % (len(results), time.time() - t0), file=sys.stderr)
    return 0


def progress(r, done, total, t0):
    what = r.get("error") or "log10 regret %.2f" % r["log_regret"]
    print("# [%d/%d %.0fs] %s %s seed %d: %s" % (done, total, time.time() - t0, r["problem"],
                                                 SHORT.get(r["algorithm"], r["algorithm"]),
                                                 r["seed"], what), file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
