"""Metadata of studies and trials from the Python client, against the real
sibyld: set on create, merged by set_metadata (None deletes a key), read
back by get and list, and the server's refusals (limits, a READER key)."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from test_client import SPEC, DaemonCase, sc  # noqa: E402


class TestMetadata(DaemonCase):
    def test_study_metadata(self):
        c = self.owner("md-s")
        s = c.create_study("md-s", "s", SPEC, metadata={"git": "abc123", "host": "m1"})
        self.assertEqual(s.metadata, {"git": "abc123", "host": "m1"})
        # create-or-load does not touch the stored metadata
        again = c.create_study("md-s", "s", SPEC, metadata={"other": "x"})
        self.assertEqual(again.metadata, {"git": "abc123", "host": "m1"})
        s.set_metadata({"host": None}, ckpt="/c/1")
        self.assertEqual(s.metadata, {"git": "abc123", "ckpt": "/c/1"})
        self.assertEqual(c.get_study("md-s", "s").metadata, s.metadata)
        self.assertEqual([x.metadata for x in c.list_studies("md-s")], [s.metadata])
        self.assertEqual(c.create_study("md-s", "plain", SPEC).metadata, {})

    def test_trial_metadata(self):
        c = self.owner("md-t")
        s = c.create_study("md-t", "s", SPEC)
        made = s.create_trial({"lr": 0.01, "layers": 3, "opt": "adam"}, metadata={"src": "hand"})
        self.assertEqual(made.metadata, {"src": "hand"})
        (t,) = s.suggest(1, client_id="w")
        self.assertEqual(t.id, made.id)
        t.complete({"loss": 0.5})
        t.set_metadata(checkpoint="/ck/1")
        self.assertEqual(t.metadata, {"src": "hand", "checkpoint": "/ck/1"})
        self.assertEqual(t.state, "SUCCEEDED")
        self.assertEqual(s.get_trial(t.id).metadata, t.metadata)
        self.assertEqual([x.metadata for x in s.list_trials()], [t.metadata])
        t = c.set_trial_metadata("md-t", "s", t.id, {"src": None})
        self.assertEqual(t.metadata, {"checkpoint": "/ck/1"})

    def test_refusals_change_nothing(self):
        c = self.owner("md-r")
        s = c.create_study("md-r", "s", SPEC, metadata={"k": "v"})
        with self.assertRaises(sc.InvalidArgument) as cm:
            s.set_metadata(big="v" * 5000)
        self.assertIn("max_metadata_value_bytes", cm.exception.message)
        with self.assertRaises(sc.InvalidArgument) as cm:
            s.set_metadata({"k%d" % i: "v" for i in range(64)})
        self.assertIn("max_metadata_keys", cm.exception.message)
        with self.assertRaises(sc.InvalidArgument) as cm:
            s.set_metadata(n=5)
        self.assertIn('metadata["n"] must be a string', cm.exception.message)
        with self.assertRaises(sc.InvalidArgument):
            c.create_study("md-r", "s2", SPEC, metadata={"a": None})
        reader_key = c.create_api_key("md-r", "READER")["key"]
        reader = self.track(sc.Client(self.daemon.url, reader_key))
        with self.assertRaises(sc.PermissionDenied):
            reader.set_study_metadata("md-r", "s", {"k": "w"})
        self.assertEqual(reader.get_study("md-r", "s").metadata, {"k": "v"})
        self.assertEqual([x.id for x in c.list_studies("md-r")], ["s"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
