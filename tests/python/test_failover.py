"""The Python client fails over between several servers (issue 14, "Clients
fail over"): two real sibyld on ONE SQLite file, and a URL list naming both.

- a list with an empty entry or a malformed URL is a ValueError naming it;
- a dead server first and a live one second: the call succeeds at once
  (one line says it moved on, none says it waits) and later calls go
  straight to the live one;
- every server down: ConnectionFailed naming each server, after the window;
- a 503 moves an idempotent call on; a 500, a 4xx and a 503 to a call that
  is not safe to repeat do not (a small stub server answers those, as in
  test_client.py, since sibyld does not answer 503 on demand);
- workers with both URLs keep going when the first daemon is killed with
  SIGKILL: every trial is SUCCEEDED.
"""
import http.server
import os
import shutil
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
    "parameters": [{"parameterId": "x", "doubleValueSpec": {"minValue": 0, "maxValue": 1}}],
    "algorithm": "RANDOM_SEARCH",
}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class SentTo(sc.Client):
    """Records the server of each exchange."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.sent = []

    def _send_once(self, srv, *a, **kw):
        self.sent.append(srv.url)
        return super()._send_once(srv, *a, **kw)


class Stub:
    """A server that answers every request with status (and records it)."""

    def __init__(self, status):
        hits = self.hits = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self):
                n = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(n)
                hits.append(self.command)
                body = (b'{"error":{"code":%d,"message":"stub","status":"X"}}' % status)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

            def log_message(self, *a):
                pass

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


class TestFailover(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d1 = Daemon()
        cls.d1.start()
        cls.d2 = Daemon(db_path=cls.d1.db_path)
        cls.d2.start()
        sc.Client(cls.d1.url, cls.d1.admin_key).create_owner("team")
        cls.dead = "http://127.0.0.1:%d" % free_port()

    @classmethod
    def tearDownClass(cls):
        cls.d2.stop()
        cls.d1.kill()
        shutil.rmtree(cls.d1.dir, ignore_errors=True)  # (the shared file)

    def client(self, urls, **kw):
        kw.setdefault("on_wait", self.lines.append)
        return SentTo(urls, self.d1.admin_key, **kw)

    def setUp(self):
        self.lines = []

    def test_bad_lists(self):
        u1, u2 = self.d1.url, self.d2.url
        for bad, why in [
            ("%s,,%s" % (u1, u2), "entry 2 is empty"),
            ("%s," % u1, "entry 2 is empty"),
            ([u1, " "], "entry 2 is empty"),
            ([], "no server URL"),
            ("", "entry 1 is empty"),
            ([u1, 8080], "entry 2 is not a string"),
            ("%s,127.0.0.1:2" % u1, '"127.0.0.1:2" must start with http:// or https://'),
            ("ftp://h", '"ftp://h" must start with http://'),
            ("http://:80", '"http://:80" has no host'),
            ("http://h:99999", '"http://h:99999" is malformed (bad port)'),
            ("http://h:1/x?y=1", "has a character that is not allowed"),
            (None, "url must be a string or a list"),
        ]:
            with self.assertRaises(ValueError, msg=repr(bad)) as cm:
                sc.Client(bad, "k")
            self.assertIn(why, str(cm.exception))
        c = sc.Client(" %s/ , %s " % (u1, u2), "k")
        self.assertEqual(c.urls, [u1, u2])
        self.assertEqual(c.url, "%s,%s" % (u1, u2))

    def test_dead_first(self):
        for urls in ([self.dead, self.d2.url], "%s,%s" % (self.dead, self.d2.url)):
            self.lines.clear()
            c = self.client(urls, retry_window=300)
            study = c.create_study("team", "dead-first", SPEC)
            self.assertEqual(c.sent, [self.dead, self.d2.url])
            self.assertEqual(self.lines, [
                "server %s unreachable (Connection refused); trying %s" % (self.dead, self.d2.url)])
            # sticky: straight to the live one
            c.sent.clear()
            study.refresh()
            self.assertEqual(c.sent, [self.d2.url])
            # a 404 is an answer: no other server is asked
            c.sent.clear()
            with self.assertRaises(sc.NotFound):
                c.get_study("team", "none")
            self.assertEqual(c.sent, [self.d2.url])
        # a trial create is sent once, but a refused connection sent nothing
        c = self.client([self.dead, self.d2.url])
        t = c.create_trial("team", "dead-first", {"x": 0.5})
        self.assertEqual(t.state, "REQUESTED")
        self.assertEqual(c.sent, [self.dead, self.d2.url])

    def test_all_down(self):
        dead2 = "http://127.0.0.1:%d" % free_port()
        c = self.client([self.dead, dead2], retry_window=0.5, backoff=0.05, max_backoff=0.1)
        with self.assertRaises(sc.ConnectionFailed) as cm:
            c.get_study("team", "s")
        both = "%s unreachable (Connection refused); %s unreachable (Connection refused)" % (
            self.dead, dead2)
        self.assertEqual(str(cm.exception.message),
                         "GET /v1/owners/team/studies/s: no server available: " + both)
        self.assertGreaterEqual(len(c.sent), 4)
        self.assertEqual(self.lines[0], "server %s unreachable (Connection refused); trying %s"
                         % (self.dead, dead2))
        self.assertEqual(self.lines[1],
                         "no server available (%s); retrying for up to 0.5s" % both)
        self.assertRegex(self.lines[-1], r"^still no server available after \S+ \(.*\); giving up$")
        self.assertEqual(len(self.lines), 3, self.lines)

    def test_which_answers_move_on(self):
        live = self.d2.url
        s503, s500 = Stub(503), Stub(500)
        try:
            c = self.client([s503.url, live])
            self.assertEqual(c.get_owner("team")["name"], "owners/team")
            self.assertEqual(c.sent, [s503.url, live])
            self.assertIn("answered 503 X: stub; trying " + live, self.lines[0])
            # a 503 to a call that is not safe to repeat is its answer
            c = self.client([s503.url, live])
            with self.assertRaises(sc.Unavailable):
                c.create_trial("team", "s", {"x": 0.5})
            self.assertEqual(c.sent, [s503.url])
            # a 500 is an answer too
            c = self.client([s500.url, live])
            with self.assertRaises(sc.Internal):
                c.get_owner("team")
            self.assertEqual(c.sent, [s500.url])
        finally:
            s503.close()
            s500.close()

    def test_workers_survive_a_kill(self):
        n, workers = 12, 2
        sc.Client(self.d2.url, self.d2.admin_key).create_study("team", "kill", SPEC)
        done, errors, said = [], [], []
        lock = threading.Lock()
        first_done = threading.Event()

        def work(i):
            try:
                c = sc.Client([self.d1.url, self.d2.url], self.d1.admin_key, retry_window=30,
                              on_wait=said.append)
                study = c.get_study("team", "kill")
                for trial in study.trials(client_id="w%d" % i, max_trials=n // workers):
                    time.sleep(0.2)  # training
                    trial.complete({"loss": trial.parameters["x"]})
                    with lock:
                        done.append(trial.name)
                        if len(done) >= 3:
                            first_done.set()
            except Exception as e:  # noqa: BLE001 (reported below)
                errors.append(e)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(workers)]
        for t in threads:
            t.start()
        self.assertTrue(first_done.wait(60))
        self.d1.kill()
        with lock:
            self.assertLess(len(done), n)  # the kill came mid-run
        for t in threads:
            t.join(120)
        self.assertEqual(errors, [])
        self.assertIn("; trying %s" % self.d2.url, "\n".join(said))
        self.assertEqual(len(done), n)
        self.assertEqual(len(set(done)), n)
        trials = sc.Client(self.d2.url, self.d2.admin_key).list_trials("team", "kill")
        self.assertEqual(len(trials), n)
        self.assertEqual({t.state for t in trials}, {"SUCCEEDED"})


if __name__ == "__main__":
    unittest.main()
