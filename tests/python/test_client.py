"""The Python client against the real sibyld: every method, every error class
that a user can reach, and the retry policy."""

import contextlib
import http.server
import io
import os
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "client", "python"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import sibyl_client as sc  # noqa: E402
from harness import Daemon  # noqa: E402

SPEC = {
    "metrics": [{"metricId": "loss", "goal": "MINIMIZE"}],
    "parameters": [
        {"parameterId": "lr", "doubleValueSpec": {"minValue": 1e-4, "maxValue": 1.0},
         "scaleType": "UNIT_LOG_SCALE"},
        {"parameterId": "layers", "integerValueSpec": {"minValue": "1", "maxValue": "8"}},
        {"parameterId": "opt", "categoricalValueSpec": {"values": ["sgd", "adam"]}},
    ],
    "algorithm": "RANDOM_SEARCH",
    "seed": "7",
}


def loss(p):
    return (p["lr"] - 0.01) ** 2 + 0.1 * abs(p["layers"] - 3) + (0.0 if p["opt"] == "adam" else 0.5)


def spec(**extra):
    s = dict(SPEC)
    s.update(extra)
    return s


class DaemonCase(unittest.TestCase):
    """One daemon for the class; each test works in its own owner."""

    @classmethod
    def setUpClass(cls):
        cls.daemon = Daemon().start()
        cls.admin = sc.Client(cls.daemon.url, cls.daemon.admin_key, timeout=30)

    @classmethod
    def tearDownClass(cls):
        cls.admin.close()
        cls.daemon.stop()  # raises unless exit 0 and no sanitizer report

    def setUp(self):
        self._clients = []

    def tearDown(self):
        for c in self._clients:
            c.close()

    def track(self, client):
        """Closes client's connection when the test ends."""
        self._clients.append(client)
        return client

    def owner(self, name):
        """Creates owner `name` and returns a Client with a WRITER key for it."""
        self.admin.create_owner(name)
        key = self.admin.create_api_key(name, "WRITER")["key"]
        return self.track(sc.Client(self.daemon.url, key, timeout=30))


class TestService(DaemonCase):
    def test_healthz_and_metrics(self):
        self.assertEqual(self.admin.healthz().get("status"), "ok")
        self.admin.request("GET", "/v1/owners/x/studies")
        text = self.admin.metrics_text()
        self.assertIn("# TYPE", text)


class TestOwnersAndKeys(DaemonCase):
    def setUp(self):
        super().setUp()

    def test_no_key_says_how_to_give_one(self):
        anon = self.track(sc.Client(self.daemon.url, None, timeout=30))
        with self.assertRaises(sc.Unauthenticated) as cm:
            anon.list_owners()
        self.assertEqual(cm.exception.status, 401)
        self.assertIn("no API key: pass Client(url, key=...)", cm.exception.message)
        self.assertIn("SIBYL_KEY", cm.exception.message)
        # a wrong key is the server's own message
        bad = self.track(sc.Client(self.daemon.url, "sk_0_nope", timeout=30))
        with self.assertRaises(sc.Unauthenticated) as cm:
            bad.list_owners()
        self.assertNotIn("no API key", cm.exception.message)

    def test_owner_lifecycle(self):
        made = self.admin.create_owner("team-o", display_name="Team O")
        self.assertEqual(made["name"], "owners/team-o")
        self.assertEqual(self.admin.get_owner("team-o")["name"], "owners/team-o")
        self.assertIn("owners/team-o", [o["name"] for o in self.admin.list_owners()])
        with self.assertRaises(sc.AlreadyExists) as cm:
            self.admin.create_owner("team-o")
        self.assertEqual(cm.exception.status, 409)
        self.assertEqual(cm.exception.code, "ALREADY_EXISTS")
        self.admin.delete_owner("team-o")
        with self.assertRaises(sc.NotFound) as cm:
            self.admin.get_owner("team-o")
        self.assertEqual(cm.exception.status, 404)
        self.assertIn("team-o", cm.exception.message)
        self.assertNotIn("owners/team-o", [o["name"] for o in self.admin.list_owners()])

    def test_owner_pages(self):
        for i in range(3):
            self.admin.create_owner("pg-%d" % i)
        names = [o["name"] for o in self.admin.list_owners(page_size=1)]
        for i in range(3):
            self.assertEqual(names.count("owners/pg-%d" % i), 1)

    def test_bad_owner_id(self):
        with self.assertRaises(sc.InvalidArgument) as cm:
            self.admin.create_owner("no spaces allowed")
        self.assertEqual(cm.exception.status, 400)
        self.assertNotIn("owners/no spaces allowed", [o["name"] for o in self.admin.list_owners()])

    def test_keys_and_roles(self):
        writer = self.owner("team-k")
        writer.create_study("team-k", "s1", spec())
        reader_made = writer.create_api_key("team-k", "READER", display_name="ci")
        self.assertEqual(reader_made["role"], "READER")
        self.assertTrue(reader_made["key"])
        reader = self.track(sc.Client(self.daemon.url, reader_made["key"]))
        self.assertEqual(reader.get_study("team-k", "s1").display_name, "s1")
        with self.assertRaises(sc.PermissionDenied) as cm:
            reader.create_study("team-k", "s2", spec())
        self.assertEqual((cm.exception.status, cm.exception.code), (403, "PERMISSION_DENIED"))
        self.assertEqual([s.id for s in writer.list_studies("team-k")], ["s1"])

        keys = writer.list_api_keys("team-k")
        self.assertIn(reader_made["name"], [k["name"] for k in keys])
        self.assertTrue(all("key" not in k for k in keys), "a listed key shows its secret")

        key_id = reader_made["name"].rsplit("/", 1)[1]
        writer.delete_api_key("team-k", key_id)
        with self.assertRaises(sc.Unauthenticated):
            reader.get_study("team-k", "s1")
        # A revoked key may stay listed (for the audit trail), marked REVOKED.
        listed = {k["name"]: k for k in writer.list_api_keys("team-k")}
        self.assertTrue(reader_made["name"] not in listed
                        or listed[reader_made["name"]].get("state") == "REVOKED",
                        listed.get(reader_made["name"]))

    def test_unauthenticated(self):
        for key in (None, "not-a-key"):
            with self.assertRaises(sc.Unauthenticated) as cm:
                self.track(sc.Client(self.daemon.url, key)).list_owners()
            self.assertEqual((cm.exception.status, cm.exception.code), (401, "UNAUTHENTICATED"))

    def test_other_owner_is_not_found(self):
        a = self.owner("team-a")
        b = self.owner("team-b")
        a.create_study("team-a", "secret", spec())
        with self.assertRaises(sc.NotFound):
            b.get_study("team-a", "secret")
        with self.assertRaises(sc.NotFound):
            b.list_studies("team-a")
        with self.assertRaises(sc.PermissionDenied):
            b.create_owner("team-c")  # only the admin creates owners
        self.assertEqual([s.id for s in a.list_studies("team-a")], ["secret"])


class TestStudies(DaemonCase):
    def test_create_or_load(self):
        c = self.owner("st")
        s = c.create_study("st", "sweep", spec())
        self.assertEqual(s.name, "owners/st/studies/sweep")
        self.assertEqual((s.owner, s.id, s.display_name), ("st", "sweep", "sweep"))
        self.assertEqual(s.state, "ACTIVE")
        self.assertEqual([p["parameterId"] for p in s.spec["parameters"]], ["lr", "layers", "opt"])
        again = c.create_study("st", "sweep", spec())
        self.assertEqual(again.name, s.name)
        with self.assertRaises(sc.AlreadyExists) as cm:
            c.create_study("st", "sweep", spec(algorithm="QUASI_RANDOM_SEARCH"))
        self.assertEqual(cm.exception.status, 409)
        self.assertEqual(c.get_study("st", "sweep").spec.get("algorithm"), "RANDOM_SEARCH")
        self.assertEqual(c.study(s.name).name, s.name)
        self.assertEqual(c.lookup_study("st", "sweep").name, s.name)
        self.assertEqual(s.refresh().state, "ACTIVE")

    def test_list_pages_and_delete(self):
        c = self.owner("ls")
        for i in range(3):
            c.create_study("ls", "s%d" % i, spec())
        self.assertEqual(sorted(s.id for s in c.list_studies("ls", page_size=1)), ["s0", "s1", "s2"])
        c.get_study("ls", "s1").delete()
        with self.assertRaises(sc.NotFound):
            c.get_study("ls", "s1")
        with self.assertRaises(sc.NotFound):
            c.lookup_study("ls", "s1")
        with self.assertRaises(sc.NotFound):
            c.delete_study("ls", "s1")
        self.assertEqual(sorted(s.id for s in c.list_studies("ls")), ["s0", "s2"])

    def test_invalid_spec_changes_nothing(self):
        c = self.owner("bad")
        bad_range = spec(parameters=[{"parameterId": "x",
                                      "doubleValueSpec": {"minValue": 2, "maxValue": 1}}])
        with self.assertRaises(sc.InvalidArgument) as cm:
            c.create_study("bad", "s", bad_range)
        self.assertEqual((cm.exception.status, cm.exception.code), (400, "INVALID_ARGUMENT"))
        self.assertIn("minValue", cm.exception.message)
        unknown = spec(colour="blue")
        with self.assertRaises(sc.InvalidArgument) as cm:
            c.create_study("bad", "s", unknown)
        self.assertIn("colour", cm.exception.message)
        with self.assertRaises(sc.InvalidArgument):
            c.create_study("bad", "not a valid id", spec())
        self.assertEqual(c.list_studies("bad"), [])


class TestTrials(DaemonCase):
    def test_ten_line_worker(self):
        c = self.owner("w")
        study = c.create_study("w", "loop", spec())
        seen = []
        for trial in study.trials(client_id="w1", max_trials=6):
            self.assertEqual(trial.state, "ACTIVE")
            p = trial.parameters
            self.assertTrue(1e-4 <= p["lr"] <= 1.0)
            self.assertTrue(1 <= p["layers"] <= 8 and p["layers"] == int(p["layers"]))
            self.assertIn(p["opt"], ("sgd", "adam"))
            trial.complete({"loss": loss(p)})
            self.assertEqual(trial.state, "SUCCEEDED")
            seen.append((trial.id, loss(p)))
        self.assertEqual(len(seen), 6)
        self.assertEqual(len({t for t, _ in seen}), 6)
        done = study.list_trials(state="SUCCEEDED")
        self.assertEqual(sorted(t.id for t in done), sorted(t for t, _ in seen))
        best = study.best()
        self.assertAlmostEqual(best.final_measurement["loss"], min(v for _, v in seen))

    def test_budget_ends_the_loop(self):
        c = self.owner("bud")
        study = c.create_study("bud", "b", spec(studyStoppingConfig={"maxNumTrials": 3}))
        n = 0
        for trial in study.trials(client_id="w", max_trials=10):
            trial.complete({"loss": loss(trial.parameters)})
            n += 1
        self.assertEqual(n, 3)
        with self.assertRaises(sc.FailedPrecondition) as cm:
            study.suggest(1, "w")
        self.assertEqual(cm.exception.status, 400)
        self.assertEqual(len(study.list_trials()), 3)
        self.assertEqual(study.refresh().state, "COMPLETED")

    def test_trial_methods(self):
        c = self.owner("tm")
        study = c.create_study("tm", "t", spec())
        (t,) = study.suggest(1, client_id="a")
        again = study.suggest(1, client_id="a")
        self.assertEqual([x.id for x in again], [t.id], "a client's ACTIVE trial comes back")
        self.assertEqual(t.client_id, "a")

        t.add_measurement({"loss": 0.9}, step=1, elapsed=1.5)
        t.add_measurement({"loss": 0.4}, step=2)
        self.assertEqual(len(t.measurements), 2)
        with self.assertRaises(sc.InvalidArgument) as cm:
            t.add_measurement({"accuracy": 1.0})
        self.assertIn("accuracy", cm.exception.message)
        self.assertEqual(len(study.get_trial(t.id).measurements), 2)

        t.complete()  # the last measurement becomes final
        self.assertEqual(t.state, "SUCCEEDED")
        self.assertEqual(t.final_measurement, {"loss": 0.4})
        t.complete()  # the same body again: a retried complete is harmless
        self.assertEqual(t.state, "SUCCEEDED")
        with self.assertRaises(sc.FailedPrecondition):
            t.complete({"loss": 0.1})
        with self.assertRaises(sc.FailedPrecondition):
            t.add_measurement({"loss": 0.1}, step=3)
        self.assertEqual(study.get_trial(t.id).final_measurement, {"loss": 0.4})

        (u,) = study.suggest(1, client_id="b")
        self.assertNotEqual(u.id, t.id)
        with self.assertRaises(sc.InvalidArgument):
            u.complete()  # no metrics, no measurements, not infeasible
        self.assertEqual(u.refresh().state, "ACTIVE")
        u.complete(infeasible=True, reason="out of memory")
        self.assertEqual(u.state, "INFEASIBLE")
        self.assertEqual(u.infeasible_reason, "out of memory")

        (v,) = study.suggest(1, client_id="c")
        v.stop()
        self.assertEqual(v.state, "STOPPING")
        v.complete({"loss": 2.0})
        self.assertEqual(v.state, "SUCCEEDED")

        self.assertEqual(study.best().id, t.id)
        self.assertEqual(c.get_trial("tm", "t", t.id).name, t.name)
        v.delete()
        with self.assertRaises(sc.NotFound):
            v.refresh()
        with self.assertRaises(sc.NotFound):
            c.get_trial("tm", "t", 999)

    def test_export(self):
        """trials_as_dicts: one flat dict per trial with the same keys; a
        study rebuilt from them (create_trial) exports the same rows."""
        c = self.owner("ex")
        study = c.create_study("ex", "export", spec())
        done = []
        for i in range(3):
            (t,) = study.suggest(1, client_id="w%d" % i)
            if i < 2:
                t.complete({"loss": loss(t.parameters)})
            done.append(t)
        rows = study.trials_as_dicts()
        self.assertEqual(len(rows), 3)
        keys = ["id", "state", "client_id", "start_time", "end_time", "infeasible_reason",
                "param_lr", "param_layers", "param_opt", "metric_loss"]
        for row, t in zip(sorted(rows, key=lambda r: r["id"]), done):
            self.assertEqual(list(row), keys)
            self.assertEqual(row["id"], t.id)
            self.assertEqual(row["client_id"], t.client_id)
            self.assertEqual(row["param_lr"], t.parameters["lr"])
            self.assertEqual(row["param_layers"], t.parameters["layers"])
            self.assertEqual(row["param_opt"], t.parameters["opt"])
            self.assertTrue(row["start_time"].endswith("Z"))
            if t.state == "SUCCEEDED":
                self.assertEqual(row["state"], "SUCCEEDED")
                self.assertEqual(row["metric_loss"], t.final_measurement["loss"])
                self.assertTrue(row["end_time"].endswith("Z"))
            else:
                self.assertEqual((row["state"], row["metric_loss"], row["end_time"]),
                                 ("ACTIVE", None, None))
        self.assertEqual(len(study.trials_as_dicts(state="SUCCEEDED")), 2)

        # round trip: import the completed rows into a new study, export again
        copy = c.create_study("ex", "copy", spec())
        for row in rows:
            if row["state"] == "SUCCEEDED":
                params = {k[len("param_"):]: v for k, v in row.items() if k.startswith("param_")}
                copy.create_trial(params, {"loss": row["metric_loss"]})
        strip = lambda rs: sorted(  # noqa: E731
            [{k: v for k, v in r.items() if k.startswith(("param_", "metric_"))} for r in rs],
            key=lambda r: r["param_lr"])
        self.assertEqual(strip(copy.trials_as_dicts()), strip(r for r in rows
                                                                if r["state"] == "SUCCEEDED"))

        empty = c.create_study("ex", "empty", spec())
        self.assertEqual(empty.trials_as_dicts(), [])

    def test_conditional_export(self):
        """A conditional child parameter has its column, None where inactive."""
        c = self.owner("cx")
        cond = {"metrics": [{"metricId": "loss", "goal": "MINIMIZE"}],
                "algorithm": "RANDOM_SEARCH",
                "parameters": [{"parameterId": "opt",
                                "categoricalValueSpec": {"values": ["sgd", "adam"]},
                                "conditionalParameterSpecs": [{
                                    "parentCategoricalValues": {"values": ["sgd"]},
                                    "parameterSpec": {"parameterId": "momentum",
                                                      "doubleValueSpec": {"minValue": 0,
                                                                          "maxValue": 1}}}]}]}
        study = c.create_study("cx", "cond", cond)
        study.create_trial({"opt": "adam"}, {"loss": 1.0})
        study.create_trial({"opt": "sgd", "momentum": 0.9}, {"loss": 0.5})
        rows = sorted(study.trials_as_dicts(), key=lambda r: r["id"])
        self.assertEqual([(r["param_opt"], r["param_momentum"]) for r in rows],
                         [("adam", None), ("sgd", 0.9)])

    def test_to_dataframe(self):
        c = self.owner("df")
        study = c.create_study("df", "frame", spec())
        for i in range(4):
            (t,) = study.suggest(1, client_id="w%d" % i)
            t.complete({"loss": loss(t.parameters)})
        try:
            import pandas  # noqa: F401
        except ImportError:
            pandas = None
        if pandas is not None:
            df = study.to_dataframe()
            self.assertEqual(df.shape, (4, 10))
            self.assertEqual(list(df.columns), list(study.trials_as_dicts()[0]))
            self.assertEqual(sorted(df["id"].tolist()), sorted(t.id for t in study.list_trials()))
            self.assertEqual(str(df["start_time"].dtype), "datetime64[ns, UTC]")
            best = df.loc[df["metric_loss"].idxmin()]
            self.assertEqual(int(best["id"]), study.best().id)
            self.assertEqual(len(c.create_study("df", "none", spec()).to_dataframe()), 0)
        # without pandas: a clear ImportError (pandas hidden from the import)
        saved = sys.modules.get("pandas")
        sys.modules["pandas"] = None
        try:
            with self.assertRaises(ImportError) as cm:
                study.to_dataframe()
            self.assertIn("needs pandas", str(cm.exception))
            self.assertIn("trials_as_dicts()", str(cm.exception))
        finally:
            if saved is None:
                sys.modules.pop("pandas", None)
            else:
                sys.modules["pandas"] = saved

    def test_importance(self):
        c = self.owner("im")
        study = c.create_study("im", "imp", spec())
        for i in range(12):
            (t,) = study.suggest(1, client_id="w")
            t.complete({"loss": loss(t.parameters)})
        try:
            got = study.importance()
        except (sc.NotFound, sc.Unimplemented) as e:
            if "no custom method" in e.message or e.status == 501:
                self.skipTest("this sibyld has no :importance route: %s" % e)
            raise
        self.assertEqual(int(got["trialCount"]), 12)
        self.assertIsInstance(got["method"], str)
        ids = sorted(x["parameterId"] for x in got["importances"])
        self.assertEqual(ids, ["layers", "lr", "opt"])
        values = [x["importance"] for x in got["importances"]]
        self.assertEqual(values, sorted(values, reverse=True))
        self.assertAlmostEqual(sum(values), 1.0, places=6)
        self.assertEqual(study.importance("loss")["trialCount"], got["trialCount"])
        with self.assertRaises(sc.InvalidArgument) as cm:
            study.importance("no-such-metric")
        self.assertIn("no-such-metric", cm.exception.message)

    def test_heartbeat(self):
        """get_trial(client_id=...) / Trial.heartbeat(): the worker's GET keeps
        a 4 s lease for over 6 s; a trial only read by another client is given
        up meanwhile. Only lower bounds of time matter (gaps of about 1.5 s)."""
        c = self.owner("hb")
        study = c.create_study("hb", "t", spec(staleTrialTimeout="4s"))
        (t,) = study.suggest(1, client_id="w")
        (u,) = study.suggest(1, client_id="lazy")

        for bad in ("", "x" * 1025):
            with self.assertRaises(sc.InvalidArgument) as cm:
                c.get_trial("hb", "t", t.id, client_id=bad)
            self.assertEqual(cm.exception.status, 400)
            self.assertIn("clientId", cm.exception.message)
        with self.assertRaises(sc.NotFound):
            c.get_trial("hb", "t", 999, client_id="w")
        # characters a query string must escape arrive whole: a plain read
        other = c.get_trial("hb", "t", t.id, client_id="a b&pageSize=1/\u00e9")
        self.assertEqual((other.state, other.client_id), ("ACTIVE", "w"))
        with self.assertRaises(ValueError):
            study.create_trial({"lr": 0.1, "layers": 2, "opt": "sgd"}).heartbeat()

        for _ in range(4):
            time.sleep(1.5)
            self.assertIs(t.heartbeat(), t)
            self.assertEqual(t.state, "ACTIVE")
            study.get_trial(u.id, client_id="w")  # another client: only reads
        # over 6 s without a call by its worker: its heartbeat answers it settled
        u.heartbeat()
        self.assertEqual(u.state, "INFEASIBLE")
        self.assertTrue(u.infeasible_reason.startswith("given up"), u.infeasible_reason)
        t.complete({"loss": 0.25})
        self.assertEqual(t.state, "SUCCEEDED")
        self.assertEqual(t.heartbeat().state, "SUCCEEDED")

    def test_early_stopping_check(self):
        c = self.owner("es")
        study = c.create_study("es", "t", spec())
        (t,) = study.suggest(1, client_id="a")
        t.add_measurement({"loss": 0.5}, step=1)
        stop = t.should_stop()
        self.assertIs(stop, False)  # no stopping rule in this spec
        self.assertEqual(t.refresh().state, "ACTIVE")
        t.complete({"loss": 0.5})
        with self.assertRaises(sc.FailedPrecondition):
            t.should_stop()

    def test_median_stopping(self):
        c = self.owner("med")
        study = c.create_study("med", "t", spec(medianAutomatedStoppingSpec={}))
        for i in range(5):
            (t,) = study.suggest(1, client_id="c%d" % i)
            for step in (1, 2, 3):
                t.add_measurement({"loss": 0.1 + 0.01 * i}, step=step)
            t.complete()
        (bad,) = study.suggest(1, client_id="bad")
        (good,) = study.suggest(1, client_id="good")
        for step in (1, 2, 3):
            bad.add_measurement({"loss": 10.0}, step=step)
            good.add_measurement({"loss": 0.01}, step=step)
        verdicts = (bad.should_stop(), good.should_stop())
        self.assertEqual(verdicts, (True, False))
        self.assertEqual(bad.refresh().state, "STOPPING")
        self.assertEqual(good.refresh().state, "ACTIVE")
        bad.complete()  # a STOPPING trial still completes
        self.assertEqual(bad.state, "SUCCEEDED")

    def test_created_trials(self):
        c = self.owner("ct")
        study = c.create_study("ct", "t", spec())
        req = study.create_trial({"lr": 0.01, "layers": 3, "opt": "adam"})
        self.assertEqual(req.state, "REQUESTED")
        (got,) = study.suggest(1, client_id="x")
        self.assertEqual(got.id, req.id, "suggest hands out the REQUESTED pool first")
        self.assertEqual(got.parameters["opt"], "adam")
        imp = study.create_trial({"lr": 0.02, "layers": 4, "opt": "sgd"},
                                 final_measurement={"loss": 0.25})
        self.assertEqual(imp.state, "SUCCEEDED")
        self.assertEqual(imp.final_measurement, {"loss": 0.25})
        with self.assertRaises(sc.InvalidArgument):
            study.create_trial({"lr": 5.0, "layers": 3, "opt": "adam"})
        with self.assertRaises(sc.InvalidArgument):
            study.create_trial({"lr": 0.01, "layers": 3, "opt": "lion"})
        self.assertEqual(sorted(t.id for t in study.list_trials()), sorted([req.id, imp.id]))
        self.assertEqual([t.id for t in study.list_trials(state="SUCCEEDED")], [imp.id])
        page, token = c.list_trials_page("ct", "t", page_size=1)
        self.assertEqual(len(page), 1)
        self.assertTrue(token)
        rest, token2 = c.list_trials_page("ct", "t", page_size=1, page_token=token)
        self.assertEqual(len(rest), 1)
        self.assertNotEqual(rest[0].id, page[0].id)
        self.assertFalse(token2)

    def test_operation(self):
        c = self.owner("op")
        study = c.create_study("op", "t", spec())
        op = c.request("POST", "/v1/owners/op/studies/t/trials:suggest",
                       {"suggestionCount": 2, "clientId": "z"})
        self.assertTrue(op["name"].startswith("owners/op/studies/t/operations/"))
        again = c.get_operation(op["name"])
        self.assertEqual(again["name"], op["name"])
        self.assertTrue(again["done"])
        ids = [t["id"] for t in again["response"]["trials"]]
        self.assertEqual(len(ids), 2)
        self.assertEqual(len(set(ids)), 2)
        self.assertEqual(len(study.list_trials(state="ACTIVE")), 2)
        with self.assertRaises(sc.NotFound):
            c.get_operation("owners/op/studies/t/operations/99999")


class TestErrorModel(unittest.TestCase):
    """The mapping from an error body to a class, for every status of API.md."""

    def test_every_status(self):
        table = [("INVALID_ARGUMENT", 400, sc.InvalidArgument),
                 ("FAILED_PRECONDITION", 400, sc.FailedPrecondition),
                 ("OUT_OF_RANGE", 400, sc.OutOfRange),
                 ("UNAUTHENTICATED", 401, sc.Unauthenticated),
                 ("PERMISSION_DENIED", 403, sc.PermissionDenied),
                 ("NOT_FOUND", 404, sc.NotFound),
                 ("ALREADY_EXISTS", 409, sc.AlreadyExists),
                 ("ABORTED", 409, sc.Aborted),
                 ("RESOURCE_EXHAUSTED", 429, sc.ResourceExhausted),
                 ("INTERNAL", 500, sc.Internal),
                 ("UNIMPLEMENTED", 501, sc.Unimplemented),
                 ("UNAVAILABLE", 503, sc.Unavailable)]
        for name, status, cls in table:
            body = ('{"error":{"code":%d,"message":"m %s","status":"%s"}}'
                    % (status, name, name)).encode()
            e = sc.error_from_response(status, body)
            self.assertIs(type(e), cls)
            self.assertIsInstance(e, sc.SibylError)
            self.assertEqual((e.status, e.code, e.message), (status, name, "m " + name))
            self.assertIn(name, str(e))
            # inside a failed Operation the code is the RPC one: the name decides
            op = {"name": "owners/a/studies/s/operations/1", "done": True,
                  "error": {"code": 99, "status": name, "message": "op " + name}}
            e = sc.error_from_operation(op)
            self.assertIs(type(e), cls)
            self.assertEqual((e.status, e.code, e.message), (status, name, "op " + name))

    def test_body_without_envelope(self):
        e = sc.error_from_response(502, b"<html>bad gateway</html>")
        self.assertIs(type(e), sc.SibylError)
        self.assertEqual(e.status, 502)
        self.assertIn("bad gateway", e.message)
        e = sc.error_from_response(404, b"")
        self.assertIs(type(e), sc.NotFound)
        self.assertEqual(e.code, "NOT_FOUND")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class CountingClient(sc.Client):
    """Counts exchanges, to see how often a call was sent."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.sent = 0

    def _send_once(self, *a, **kw):
        self.sent += 1
        return super()._send_once(*a, **kw)


class TestRetries(unittest.TestCase):
    def test_connection_refused(self):
        url = "http://127.0.0.1:%d" % free_port()
        lines = []
        c = CountingClient(url, "k", retries=3, backoff=0.01, on_wait=lines.append,
                           retry_window=300)
        # a refused connection never reached a server: even a call that is
        # not safe to repeat is retried
        with self.assertRaises(sc.ConnectionFailed) as cm:
            c.request("POST", "/v1/owners/a/studies/s/trials", {})
        self.assertEqual(cm.exception.status, 0)
        self.assertEqual(c.sent, 4)
        with self.assertRaises(sc.ConnectionFailed):
            c.request("GET", "/v1/owners")
        self.assertEqual(c.sent, 4 + 4)
        self.assertEqual(len(lines), 4, lines)  # waiting, giving up; twice
        self.assertRegex(lines[0], r"^server http://127\.0\.0\.1:\d+ unreachable "
                                   r"\(Connection refused\); retrying for up to 5m00s$")
        self.assertIn("; giving up", lines[1])

    def test_retry_window(self):
        url = "http://127.0.0.1:%d" % free_port()
        lines = []
        c = CountingClient(url, "k", retry_window=0.6, backoff=0.05, max_backoff=0.1,
                           on_wait=lines.append)
        t0 = time.monotonic()
        with self.assertRaises(sc.ConnectionFailed):
            c.healthz()
        self.assertGreaterEqual(time.monotonic() - t0, 0.6)
        self.assertGreater(c.sent, 3)
        self.assertEqual(len(lines), 2, lines)
        self.assertIn("retrying for up to 0.6s", lines[0])
        self.assertIn("giving up", lines[1])
        # by default the lines go to stderr
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            with self.assertRaises(sc.ConnectionFailed):
                sc.Client(url, "k", retry_window=0.3, backoff=0.05).healthz()
        self.assertRegex(err.getvalue(), r"^sibyl: server http://127\.0\.0\.1:\d+ unreachable "
                                         r"\(Connection refused\); retrying for up to 0\.3s\n"
                                         r"sibyl: server .* giving up\n$")
        # window 0: one attempt, nothing said
        lines.clear()
        c = CountingClient(url, "k", retry_window=0, on_wait=lines.append)
        with self.assertRaises(sc.ConnectionFailed):
            c.healthz()
        self.assertEqual((c.sent, lines), (1, []))

    def test_retry_window_from_the_environment(self):
        url = "http://127.0.0.1:%d" % free_port()
        saved = os.environ.get("SIBYL_RETRY_WINDOW")
        try:
            os.environ.pop("SIBYL_RETRY_WINDOW", None)
            self.assertEqual(sc.Client(url).retry_window, 300.0)
            os.environ["SIBYL_RETRY_WINDOW"] = "0"
            c = CountingClient(url, "k")
            with self.assertRaises(sc.ConnectionFailed):
                c.healthz()
            self.assertEqual(c.sent, 1)
            self.assertEqual(sc.Client(url, retry_window=7).retry_window, 7.0)
            for bad in ("soon", "-1", "1e9", "nan"):
                os.environ["SIBYL_RETRY_WINDOW"] = bad
                with self.assertRaises(ValueError) as cm:
                    sc.Client(url)
                self.assertIn("SIBYL_RETRY_WINDOW", str(cm.exception))
            with self.assertRaises(ValueError):
                sc.Client(url, retry_window=-2)
        finally:
            if saved is None:
                os.environ.pop("SIBYL_RETRY_WINDOW", None)
            else:
                os.environ["SIBYL_RETRY_WINDOW"] = saved

    def test_retry_until_the_daemon_is_up(self):
        port = free_port()
        c = CountingClient("http://127.0.0.1:%d" % port, None, backoff=0.05,
                           on_wait=lambda line: None)
        d = Daemon(port=port)
        starter = threading.Timer(0.3, d.start)
        starter.start()
        try:
            self.assertEqual(c.healthz().get("status"), "ok")
        finally:
            starter.join()
            c.close()
            d.stop()
        self.assertGreater(c.sent, 1)

    def test_server_restart(self):
        """sibyld killed and started again on the same port and database
        3.5 s later, while a measurement and then a complete wait."""
        d = Daemon().start()
        lines = []
        try:
            admin = sc.Client(d.url, d.admin_key, timeout=10, retry_window=60,
                              on_wait=lines.append)
            admin.create_owner("rs")
            study = admin.create_study("rs", "restart", spec())
            (t,) = study.suggest(1, client_id="w")
            for step, value in ((1, 0.5), (2, 0.25)):
                d.kill()
                starter = threading.Timer(3.5, d.start)
                starter.start()
                try:
                    if step == 1:
                        t.add_measurement({"loss": value}, step=step)
                    else:
                        t.complete({"loss": value})
                finally:
                    starter.join()
            self.assertEqual(t.state, "SUCCEEDED")
            again = study.get_trial(t.id)
            self.assertEqual((again.state, again.final_measurement), ("SUCCEEDED", {"loss": 0.25}))
            self.assertEqual(len(again.measurements), 1)
            waits = [x for x in lines if "unreachable" in x and "retrying for up to 1m00s" in x]
            self.assertEqual(len(waits), 2, lines)
            self.assertEqual(len([x for x in lines if " is back after " in x]), 2, lines)
            # a repeat of the last measurement (a retry after a lost answer) adds nothing
            (u,) = study.suggest(1, client_id="w2")
            u.add_measurement({"loss": 0.7}, step=1)
            u.add_measurement({"loss": 0.7}, step=1)
            self.assertEqual(len(u.measurements), 1)
            admin.close()
        finally:
            d.stop()

    def test_503_retry_and_timeout(self):
        hits = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self):
                hits.append(self.command)
                n = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(n)
                if len(hits) <= 2 or self.command == "POST":
                    body = b'{"error":{"code":503,"message":"busy","status":"UNAVAILABLE"}}'
                    self.send_response(503)
                    self.send_header("Retry-After", "0")
                else:
                    body = b'{"ok":true}'
                    self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

            def log_message(self, *a):
                pass

        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        try:
            c = sc.Client("http://127.0.0.1:%d" % srv.server_address[1], "k", backoff=0.01)
            self.assertEqual(c.request("GET", "/x"), {"ok": True})
            self.assertEqual(hits, ["GET"] * 3)
            with self.assertRaises(sc.Unavailable) as cm:
                c.request("POST", "/y", {})
            self.assertEqual((cm.exception.status, cm.exception.message), (503, "busy"))
            self.assertEqual(hits, ["GET"] * 3 + ["POST"])
        finally:
            srv.shutdown()
            srv.server_close()

        # A server that accepts but never answers: the timeout ends the wait.
        lsock = socket.socket()
        lsock.bind(("127.0.0.1", 0))
        lsock.listen(4)
        try:
            c = sc.Client("http://127.0.0.1:%d" % lsock.getsockname()[1], "k", timeout=0.3,
                          retries=0)
            with self.assertRaises(sc.ConnectionFailed):
                c.request("GET", "/v1/owners")
        finally:
            lsock.close()

    def test_proxy_and_rate_limit_answers(self):
        """502 and 504 are retried like 503 for calls safe to repeat; a 429
        with Retry-After (a rate limit) for every call; a 429 without it (a
        quota) for none."""
        answers = []  # (status, retry_after) per request, popped in order
        hits = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self):
                n = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(n)
                status, after = answers.pop(0) if answers else (200, None)
                hits.append((self.command, status))
                body = (b'{"ok":true}' if status == 200 else
                        b'{"error":{"code":%d,"message":"not now","status":"X"}}' % status)
                self.send_response(status)
                if after is not None:
                    self.send_header("Retry-After", str(after))
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

            def log_message(self, *a):
                pass

        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        lines = []
        try:
            c = sc.Client("http://127.0.0.1:%d" % srv.server_address[1], "k", backoff=0.01,
                          on_wait=lines.append)
            answers[:] = [(502, None), (504, None)]
            self.assertEqual(c.request("GET", "/x"), {"ok": True})
            self.assertEqual([h[1] for h in hits], [502, 504, 200])
            self.assertIn("answered 502", lines[0])
            self.assertIn(" is back after ", lines[-1])
            hits.clear()
            answers[:] = [(502, None)]
            with self.assertRaises(sc.SibylError) as cm:
                c.request("POST", "/trials", {})
            self.assertEqual(cm.exception.status, 502)
            self.assertEqual(len(hits), 1)
            hits.clear()
            answers[:] = [(429, 0), (429, 0)]
            self.assertEqual(c.request("POST", "/trials", {}), {"ok": True})
            self.assertEqual([h[1] for h in hits], [429, 429, 200])
            hits.clear()
            answers[:] = [(429, None)]
            with self.assertRaises(sc.ResourceExhausted):
                c.request("GET", "/x")
            self.assertEqual(len(hits), 1)
        finally:
            srv.shutdown()
            srv.server_close()

    def test_bad_url(self):
        with self.assertRaises(ValueError):
            sc.Client("ftp://x", "k")


if __name__ == "__main__":
    unittest.main(verbosity=2)
