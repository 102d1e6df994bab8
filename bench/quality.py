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
    python3 bench/quality.py --algorithms GAUSSIAN_PROCESS_EI --workers 8
    python3 bench/quality.py --algorithms GAUSSIAN_PROCESS_EI --noise default \\
        --problems hartmann6,mixed_ml,branin

--workers N: N concurrent workers share each study (own clientIds), each
evaluation waiting a random 0-50 ms so that they interleave unevenly.
--noise SD: Gaussian noise on each observation; the score is the true
value of the first trial of listOptimalTrials (after 20, 30 and all
trials). The regret is also reported after 20 and 30 trials.
"""

import argparse
import json
import math
import multiprocessing
import os
import random
import sys
import threading
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


NOISE_DEFAULT = {"hartmann6": 0.1, "mixed_ml": 0.01, "branin": 2.0}
CHECKPOINTS = (20, 30)


def noise_for(noise, pname):
    """--noise: "" (none), a number (every problem), or "default" (the
    shared protocol's per-problem levels; problems without one: none)."""
    if not noise:
        return 0.0
    if noise == "default":
        return NOISE_DEFAULT.get(pname, 0.0)
    return float(noise)


class Run:
    """The shared state of one study's workers: the trial budget, the best
    trace in completion order, and the recommendation checkpoints."""

    def __init__(self, prob, trials, sd, seed, study, client):
        self.prob, self.trials, self.sd = prob, trials, sd
        self.lock = threading.Lock()
        self.claimed = 0
        self.done = 0
        self.best = math.inf
        self.trace = []       # best observed (noise-free runs) or recommended true value
        self.recommended = {}  # checkpoint -> true value of listOptimalTrials' first trial
        self.suggest_s = []
        self.noise_rng = random.Random(1000003 * seed + 17)
        self.study, self.client = study, client
        self.error = None

    def claim(self):
        with self.lock:
            if self.claimed >= self.trials or self.error:
                return False
            self.claimed += 1
            return True

    def recommend(self):
        """The true value at the trial the service recommends."""
        best = self.client.list_optimal_trials(self.study.owner, self.study.id)
        return self.prob["f"](best[0].parameters) if best else math.inf

    def completed(self, y_true, y_obs):
        with self.lock:
            self.done += 1
            self.best = min(self.best, y_obs if not self.sd else y_true)
            self.trace.append(self.best)
            k = self.done
        if self.sd and (k in CHECKPOINTS or k == self.trials):
            # under noise the score is the service's recommendation: asked
            # at the checkpoint (other workers may have completed more by
            # the time it answers; with one worker it is exact)
            self.recommended[k] = self.recommend()


def worker(run, wid, url, key, evaluate_s):
    client = sc.Client(url, key, timeout=300)
    study = client.get_study(run.study.owner, run.study.id)
    rng = random.Random(7919 * wid + run.trials)
    try:
        while run.claim():
            t0 = time.perf_counter()
            got = study.suggest(1, client_id="w%d" % wid)
            dt = time.perf_counter() - t0
            if not got:
                raise sc.SibylError(0, "EMPTY", "suggest returned no trial")
            trial = got[0]
            y = run.prob["f"](trial.parameters)
            with run.lock:
                run.suggest_s.append(dt)
                obs = y + run.sd * run.noise_rng.gauss(0.0, 1.0) if run.sd else y
            if evaluate_s > 0:
                time.sleep(rng.uniform(0.0, evaluate_s))
            trial.complete({"value": obs})
            run.completed(y, obs)
    except sc.SibylError as e:
        with run.lock:
            run.error = run.error or "%s: %s" % (e.code, e.message)
    finally:
        client.close()


def run_one(task):
    """One study: W workers (threads, each its own clientId) loop suggest ->
    evaluate (plus a random 0..evaluate_s wait when W > 1) -> complete until
    the study has `trials` trials. Returns a dict with the best-so-far trace,
    the suggest times, the log10 regret after each checkpoint, or "error"
    when the server refused (e.g. UNIMPLEMENTED). Under noise the regret is
    that of the true value at the trial listOptimalTrials recommends."""
    url, key, owner, run_id, pname, algorithm, seed, trials, workers, noise, known = task
    prob = problems.BY_NAME[pname]
    sd = noise_for(noise, pname)
    spec = json.loads(json.dumps(prob["spec"]))
    spec["algorithm"] = algorithm
    spec["seed"] = str(seed)
    if sd and known:
        spec["observationNoise"] = "HIGH"
    client = sc.Client(url, key, timeout=300)
    out = {"problem": pname, "algorithm": algorithm, "seed": seed, "trace": [], "suggest_s": [],
           "workers": workers, "noise_sd": sd}
    try:
        study = client.create_study(owner, "q-%s-%s-s%d-w%d-%s" % (
            pname, SHORT.get(algorithm, "x"), seed, workers, run_id), spec)
        run = Run(prob, trials, sd, seed, study, client)
        threads = [threading.Thread(target=worker,
                                    args=(run, w, url, key, 0.05 if workers > 1 else 0.0))
                   for w in range(workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        out["trace"], out["suggest_s"] = run.trace, run.suggest_s
        if run.error:
            out["error"] = run.error
        if sd:
            out["recommended"] = run.recommended
    except sc.SibylError as e:
        out["error"] = "%s: %s" % (e.code, e.message)
    finally:
        client.close()
    if out["trace"]:
        out["best"] = out["trace"][-1]
        out["at"] = {}
        for k in CHECKPOINTS + (trials,):
            if k > len(out["trace"]):
                continue
            v = out["recommended"].get(k) if sd else out["trace"][k - 1]
            if v is not None:
                out["at"][k] = log_regret(v, prob["optimum"])
        if trials in out["at"]:
            out["log_regret"] = out["at"][trials]
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
            full = [r for r in rs if "error" not in r and "log_regret" in r]
            times = [t for r in rs for t in r["suggest_s"]]
            at = {}
            for k in CHECKPOINTS:
                vs = [r["at"][k] for r in full if k in r.get("at", {})]
                at[k] = median(vs) if vs and k < trials else None
            cells[(pname, alg)] = {
                "median_log10_regret": median([r["log_regret"] for r in full]) if full else None,
                "median_log10_regret_at": at,
                "median_s_per_suggest": median(times) if times else None,
                "seeds_done": len(full),
                "seeds": len(rs),
                "errors": sorted({r["error"] for r in rs if "error" in r}),
            }
    return cells


def table(cells, pnames, algorithms, ref, trials, nseeds, mode=""):
    cols = ref["columns"]
    early = [k for k in CHECKPOINTS if k < trials]
    head = ["problem"]
    for a in algorithms:
        head += ["%s @%d" % (SHORT.get(a, a), k) for k in early]
        head.append("%s log10 regret" % SHORT.get(a, a))
    head += ["%s s/suggest" % SHORT.get(a, a) for a in algorithms]
    head += ["ref %s" % c for c in cols] + ["ref best"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    wins = beats_random = rows_gp = 0
    for pname in pnames:
        refrow = ref["rows"].get(pname)
        known = [x for x in (refrow or []) if x is not None]
        best_ref = min(known) if known else None
        row = [pname]
        for a in algorithms:
            c = cells[(pname, a)]
            row += [fmt(c["median_log10_regret_at"].get(k)) for k in early]
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
             "Median over %d seeds of log10(best after %d trials - optimum), floor 1e-12 (-12)%s; "
             "@k: after k trials. Lower is better. `<=`: GP-EI at least as good as the best "
             "reference figure." % (nseeds, trials, mode)]
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
    ap.add_argument("--workers", type=int, default=1,
                    help="concurrent workers per study (threads, each its own clientId; "
                    "with more than one, each evaluation also waits 0-50 ms)")
    ap.add_argument("--noise", default="",
                    help="sd of Gaussian noise added to each observation, or 'default' "
                    "(hartmann6 0.1, mixed_ml 0.01, branin 2.0); scored by the true value "
                    "of the trial listOptimalTrials recommends")
    ap.add_argument("--noise-unknown", action="store_true",
                    help="with --noise: do not tell the study (no observationNoise HIGH)")
    args = ap.parse_args(argv)

    pnames = [p for p in args.problems.split(",") if p]
    for p in pnames:
        if p not in problems.BY_NAME:
            ap.error("unknown problem %r (have: %s)" % (p, ", ".join(problems.BY_NAME)))
    algorithms = [a for a in args.algorithms.split(",") if a]
    seeds = parse_seeds(args.seeds)
    with open(os.path.join(HERE, "reference.json")) as f:
        ref = json.load(f)

    if args.workers > 1 and args.noise:
        ref = {"origin": "none for noisy parallel runs", "columns": [], "rows": {}}
    elif args.workers > 1:
        ref = ref["parallel"]
    elif args.noise:
        ref = ref["noisy"]
    daemon, url, key = common.open_server(args)
    run_id = time.strftime("%Y%m%dT%H%M%S")
    # The order of --algorithms: GP-EI (the slow one) first by default, so
    # that parallel jobs finish together.
    if args.workers < 1 or args.workers > 256:
        ap.error("--workers must be 1..256")
    tasks = [(url, key, args.owner, run_id, p, a, s, args.trials, args.workers, args.noise,
              not args.noise_unknown)
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
    mode = ""
    if args.workers > 1:
        mode += ", %d concurrent workers" % args.workers
    if args.noise:
        mode += (", noise sd %s (%s); the true value at the recommended trial"
                 % (args.noise, "not told to the study" if args.noise_unknown
                    else "observationNoise HIGH"))
    print(table(cells, pnames, algorithms, ref, args.trials, len(seeds), mode))
    errors = {(p, a): c["errors"] for (p, a), c in cells.items() if c["errors"]}
    if errors:
        print("\nErrors from the server:")
        for (p, a), errs in sorted(errors.items()):
            for e in errs:
                print("- %s / %s: %s" % (p, a, e))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"trials": args.trials, "seeds": seeds, "workers": args.workers,
                   "noise": args.noise, "results": results,
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
