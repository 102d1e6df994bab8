"""Smoke runs of the benchmarks (bench/), so that they do not rot: tiny
sizes, cheap algorithms, the real sibyld. Nothing here is timed."""

import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "client", "python"))
sys.path.insert(0, HERE)

import sibyl_client as sc  # noqa: E402
from harness import Daemon  # noqa: E402


def run(argv):
    return subprocess.run(argv, capture_output=True, text=True, timeout=600, cwd=ROOT)


class TestBenchScripts(unittest.TestCase):
    def test_quality_table(self):
        r = run([sys.executable, "bench/quality.py", "--sibyld", os.environ["SIBYLD"],
                 "--algorithms", "RANDOM_SEARCH,QUASI_RANDOM_SEARCH", "--problems",
                 "branin,mixed_ml", "--seeds", "2", "--trials", "6", "--jobs", "1"])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        rows = [line for line in r.stdout.splitlines() if line.startswith("| ")]
        self.assertEqual([row.split("|")[1].strip() for row in rows],
                         ["problem", "branin", "mixed_ml"])
        self.assertNotIn("error", r.stdout)
        # the reference figures sit beside ours
        self.assertIn("-3.65", rows[1])
        self.assertIn("-5.79", rows[2])

    def test_latency_table(self):
        r = run([sys.executable, "bench/latency.py", "--sibyld", os.environ["SIBYLD"],
                 "--algorithm", "RANDOM_SEARCH", "--sizes", "10,30", "--repeats", "2"])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        rows = [line for line in r.stdout.splitlines() if line.startswith("| ")]
        self.assertEqual([row.split("|")[1].strip() for row in rows[1:]], ["10", "30"])
        self.assertIn("start-up", r.stdout)

    def test_instr_script(self):
        # the driver of bench/instr.py on the plain (ASan) sibyld: the
        # calls succeed and are counted (valgrind cannot run ASan builds)
        r = run([sys.executable, "bench/instr.py", "--sibyld", os.environ["SIBYLD"],
                 "--measure", "150", "--complete", "20", "--no-valgrind"])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("addTrialMeasurement     150 requests", r.stdout)
        self.assertIn("complete                 20 requests", r.stdout)


class TestLoadGenerator(unittest.TestCase):
    """sibyl-load's workers mode is also a small concurrency check: 8
    workers to a budget of 40 trials must give exactly 40 distinct trials."""

    def setUp(self):
        self.load = os.environ.get("SIBYL_LOAD")
        if not self.load or not os.access(self.load, os.X_OK):
            self.skipTest("SIBYL_LOAD (bench/sibyl-load) not built")

    def test_workers_and_requests(self):
        with Daemon() as d:
            r = run([self.load, "--url", d.url, "--key", d.admin_key, "--mode", "workers",
                     "--workers", "8", "--budget", "40", "--algorithm", "RANDOM_SEARCH"])
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertIn("completed by workers 40, errors 0, duplicates 0", r.stdout)
            self.assertIn("server: 40 trials, 40 SUCCEEDED, 0 ACTIVE", r.stdout)
            for mode in ("get", "measure", "complete"):
                r = run([self.load, "--url", d.url, "--key", d.admin_key, "--mode", mode,
                         "-c", "4", "-d", "0.5", "--pool", "10"])
                self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
                self.assertRegex(r.stdout, r"ok, 0 errors")
            r = run([self.load, "--url", d.url, "--key", "wrong", "--mode", "get"])
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("401", r.stderr)

    def test_url_list(self):
        """--url with several daemons on one database: connection i on URL
        i mod n; a list with an empty entry is refused before any call."""
        debug = {"SIBYL_LOG_LEVEL": "debug"}
        with Daemon() as d1, Daemon(db_path=d1.db_path, env=debug) as d2:
            urls = d1.url + "," + d2.url
            r = run([self.load, "--url", urls, "--key", d1.admin_key, "--mode", "workers",
                     "--workers", "6", "--budget", "30", "--algorithm", "RANDOM_SEARCH"])
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertIn("on 2 daemons", r.stdout)
            self.assertIn("server: 30 trials, 30 SUCCEEDED, 0 ACTIVE", r.stdout)
            self.assertIn("errors 0, duplicates 0", r.stdout)
            self.assertIn("trials:suggest", d2.stderr())  # the second daemon served
            for bad in (urls + ",", d1.url + ",," + d2.url, "," + d1.url):
                r = run([self.load, "--url", bad, "--key", d1.admin_key, "--mode", "get"])
                self.assertEqual(r.returncode, 2, bad)
                self.assertIn("--url: an empty entry", r.stderr)

    def test_cluster_script(self):
        """bench/cluster.py on SQLite only (the PostgreSQL set-ups need a
        cluster): its table and the workers run over three daemons."""
        build = os.path.dirname(os.path.dirname(self.load))
        r = run([sys.executable, "bench/cluster.py", "--build", build, "--sibyld",
                 os.environ["SIBYLD"], "--setups", "sqlite-1,sqlite-3", "--duration", "0.5",
                 "--connections", "4", "--pool", "10", "--sizes", "10", "--repeats", "1",
                 "--workers", "6", "--budget", "30", "--workers-db", "sqlite"])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        rows = [line.split("|")[1].strip() for line in r.stdout.splitlines()
                if line.startswith("| ")]
        self.assertEqual(rows, ["set-up", "sqlite-1", "sqlite-3"])
        self.assertNotIn("errors**", r.stdout)
        self.assertIn("on 3 daemons", r.stdout)
        self.assertIn("server: 30 trials, 30 SUCCEEDED, 0 ACTIVE", r.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
