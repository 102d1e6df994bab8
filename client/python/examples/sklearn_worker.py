#!/usr/bin/env python3
"""Tune a scikit-learn SVC with sibyl: an example worker.

Creates (or joins) a study over the SVC's C and gamma (log scale), its kernel
(categorical) and the polynomial degree (integer), then loops: ask sibyld for a
trial, cross-validate the model with those parameters, report the mean
accuracy. Run several copies with different --client-id values to tune in
parallel; they share the study.

    python3 sklearn_worker.py --url http://127.0.0.1:8080 --key KEY \\
        --owner team --study svc-digits --trials 30

The data (digits or breast_cancer) ships with scikit-learn: nothing is
downloaded. Needs python3-sklearn (Debian) and sibyl_client.py (found next to
this directory or on PYTHONPATH).
"""

import argparse
import os
import sys
import time
import warnings

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from sibyl_client import Client, SibylError  # noqa: E402


def study_spec(seed):
    """The search space: what sibyl may choose, and what we report."""
    return {
        "metrics": [{"metricId": "accuracy", "goal": "MAXIMIZE"}],
        "parameters": [
            {"parameterId": "C", "doubleValueSpec": {"minValue": 1e-3, "maxValue": 1e3},
             "scaleType": "UNIT_LOG_SCALE"},
            {"parameterId": "gamma", "doubleValueSpec": {"minValue": 1e-5, "maxValue": 1e1},
             "scaleType": "UNIT_LOG_SCALE"},
            {"parameterId": "kernel", "categoricalValueSpec": {"values": ["rbf", "poly", "sigmoid"]}},
            # Used by the poly kernel only; the others ignore it.
            {"parameterId": "degree", "integerValueSpec": {"minValue": "2", "maxValue": "5"}},
        ],
        "seed": str(seed),
    }


def load_data(name, subsample, seed):
    from sklearn import datasets
    from sklearn.utils import shuffle

    loader = {"digits": datasets.load_digits, "breast_cancer": datasets.load_breast_cancer}[name]
    X, y = loader(return_X_y=True)
    X, y = shuffle(X, y, random_state=seed)
    if subsample:
        X, y = X[:subsample], y[:subsample]
    return X, y


def evaluate(params, X, y, folds):
    """Mean cross-validated accuracy of an SVC (inputs standardized)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    # max_iter bounds a bad configuration's training time; the warning it
    # raises would only clutter the output.
    warnings.filterwarnings("ignore", category=ConvergenceWarning)

    model = make_pipeline(StandardScaler(), SVC(C=float(params["C"]), gamma=float(params["gamma"]),
                                                kernel=params["kernel"],
                                                degree=int(params["degree"]), max_iter=20000))
    return float(cross_val_score(model, X, y, cv=folds).mean())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", default=os.environ.get("SIBYL_URL", "http://127.0.0.1:8080"))
    ap.add_argument("--key", default=os.environ.get("SIBYL_KEY"))
    ap.add_argument("--owner", default="demo")
    ap.add_argument("--study", default="svc-digits")
    ap.add_argument("--client-id", default="worker-%d" % os.getpid())
    ap.add_argument("--trials", type=int, default=30, help="trials for this worker")
    ap.add_argument("--dataset", choices=["digits", "breast_cancer"], default="digits")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--subsample", type=int, default=0, help="use only the first N rows")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if not args.key:
        ap.error("--key (or SIBYL_KEY) is required")

    X, y = load_data(args.dataset, args.subsample, args.seed)
    client = Client(args.url, args.key)
    try:
        study = client.create_study(args.owner, args.study, study_spec(args.seed))
    except SibylError as e:
        print("cannot create study: %s" % e, file=sys.stderr)
        return 1
    print("study %s: %d rows of %s, %d-fold CV" % (study.name, len(y), args.dataset, args.folds))

    for trial in study.trials(client_id=args.client_id, max_trials=args.trials):
        t0 = time.monotonic()
        try:
            acc = evaluate(trial.parameters, X, y, args.folds)
        except Exception as e:  # a configuration that cannot train is infeasible
            trial.complete(infeasible=True, reason="%s: %s" % (type(e).__name__, e))
            print("trial %d infeasible: %s" % (trial.id, e))
            continue
        trial.complete({"accuracy": acc})
        p = trial.parameters
        print("trial %3d  accuracy %.4f  C=%.3g gamma=%.3g kernel=%s degree=%d  (%.1fs)"
              % (trial.id, acc, p["C"], p["gamma"], p["kernel"], int(p["degree"]),
                 time.monotonic() - t0))

    best = study.best()
    if best is None:
        print("no completed trial")
        return 1
    print("best: trial %d accuracy %.4f parameters %s"
          % (best.id, best.final_measurement["accuracy"], best.parameters))
    return 0


if __name__ == "__main__":
    sys.exit(main())
