"""A short run of client/python/examples/sklearn_worker.py against the real
sibyld: the worker tunes an SVC for a few trials and reports the best."""

import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.path.insert(0, os.path.join(ROOT, "client", "python"))
sys.path.insert(0, HERE)

import sibyl_client as sc  # noqa: E402
from harness import Daemon  # noqa: E402

WORKER = os.path.join(ROOT, "client", "python", "examples", "sklearn_worker.py")

try:
    import sklearn  # noqa: F401
    HAVE_SKLEARN = True
except ImportError:
    HAVE_SKLEARN = False


class TestSklearnWorker(unittest.TestCase):
    def test_short_run(self):
        if not HAVE_SKLEARN:
            self.skipTest("python3-sklearn is not installed")
        with Daemon() as d:
            admin = sc.Client(d.url, d.admin_key)
            try:
                admin.create_owner("ml")
                key = admin.create_api_key("ml", "WRITER")["key"]
            except sc.Unimplemented:
                key = d.admin_key  # a server without owners and keys yet
            admin.close()
            argv = [sys.executable, WORKER, "--url", d.url, "--key", key, "--owner", "ml",
                    "--study", "svc", "--trials", "8", "--subsample", "300", "--folds", "3",
                    "--client-id", "t1"]
            run = subprocess.run(argv, capture_output=True, text=True, timeout=600)
            self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
            self.assertIn("best: trial", run.stdout)
            client = sc.Client(d.url, key)
            study = client.get_study("ml", "svc")
            trials = study.list_trials()
            self.assertEqual(len(trials), 8)
            self.assertTrue(all(t.state in ("SUCCEEDED", "INFEASIBLE") for t in trials))
            accs = [t.final_measurement["accuracy"] for t in trials if t.state == "SUCCEEDED"]
            self.assertTrue(accs)
            self.assertTrue(all(0.0 <= a <= 1.0 for a in accs))
            best = study.best()
            self.assertAlmostEqual(best.final_measurement["accuracy"], max(accs))
            self.assertIn("accuracy %.4f" % max(accs), run.stdout)
            client.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
