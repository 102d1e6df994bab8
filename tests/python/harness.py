"""Test harness: the real sibyld on a free port with a fresh SQLite file.

    with Daemon() as d:            # starts sibyld, waits for its ready line
        c = Client(d.url, d.admin_key)
        ...
    # leaving the block sends SIGTERM and raises DaemonFailed unless sibyld
    # exited 0 with no sanitizer report in its stderr

The binary comes from the SIBYLD environment variable (tests/python/meson.build
sets it), or the --sibyld path given to the benchmarks.
"""

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

ADMIN_KEY = "test-admin-key-0123456789abcdef"
READY = re.compile(r"sibyld: listening on (\S+):(\d+)")
SANITIZER_MARKS = ("AddressSanitizer", "LeakSanitizer", "runtime error:")


class DaemonFailed(Exception):
    """sibyld did not start, or did not stop cleanly."""


class Daemon:
    """One sibyld process.

    Args:
        sibyld:  the binary (default: $SIBYLD)
        db_path: the database (default: a fresh file in a new temp dir)
        args:    extra command-line arguments
        env:     extra environment variables (a dict)
        port:    0 for a free port, or a fixed one
        admin_key: passed as SIBYL_ADMIN_KEY (None: not set)
    """

    def __init__(self, sibyld=None, db_path=None, args=(), env=None, port=0,
                 admin_key=ADMIN_KEY, keep_dir=False):
        self.sibyld = sibyld or os.environ.get("SIBYLD")
        if not self.sibyld:
            raise DaemonFailed("set SIBYLD to the sibyld binary")
        self.dir = tempfile.mkdtemp(prefix="sibyl-py-")
        self.db_path = db_path or os.path.join(self.dir, "sibyl.db")
        self.args = list(args)
        self.env = dict(env or {})
        self.port = port
        self.admin_key = admin_key
        self.keep_dir = keep_dir
        self.proc = None
        self.url = None
        self.startup_seconds = None
        self._runs = 0

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.stop()
        else:
            self.kill()
        return False

    def start(self, timeout=20.0):
        """Starts sibyld and waits for "sibyld: listening on HOST:PORT"."""
        self._runs += 1
        self.stdout_path = os.path.join(self.dir, "stdout.%d" % self._runs)
        self.stderr_path = os.path.join(self.dir, "stderr.%d" % self._runs)
        env = dict(os.environ)
        env.pop("SIBYL_ADMIN_KEY", None)
        if self.admin_key is not None:
            env["SIBYL_ADMIN_KEY"] = self.admin_key
        env.update(self.env)
        argv = [self.sibyld, "--listen", "127.0.0.1:%d" % self.port, "--db", self.db_path]
        argv += self.args
        t0 = time.monotonic()
        # Files, not pipes: a daemon that logs a lot must never block on a
        # pipe nobody reads.
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                         env=env)
        deadline = t0 + timeout
        while time.monotonic() < deadline:
            with open(self.stdout_path, "r", errors="replace") as f:
                m = READY.search(f.read())
            if m:
                self.startup_seconds = time.monotonic() - t0
                self.port = int(m.group(2))
                self.url = "http://127.0.0.1:%d" % self.port
                return self
            if self.proc.poll() is not None:
                raise DaemonFailed("sibyld exited with %d before its ready line; stderr:\n%s"
                                   % (self.proc.returncode, self.stderr()))
            time.sleep(0.01)
        self.kill()
        raise DaemonFailed("no ready line from sibyld within %.0f s; stderr:\n%s"
                           % (timeout, self.stderr()))

    def stderr(self):
        """Everything sibyld wrote to stderr in its latest run."""
        try:
            with open(self.stderr_path, "r", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def peak_rss_kib(self):
        """VmHWM of the running daemon in KiB, or None."""
        try:
            with open("/proc/%d/status" % self.proc.pid) as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1])
        except OSError:
            pass
        return None

    def db_bytes(self):
        """The database's size on disk, WAL and shared-memory files included."""
        total = 0
        for suffix in ("", "-wal", "-shm"):
            try:
                total += os.path.getsize(self.db_path + suffix)
            except OSError:
                pass
        return total

    def stop(self, timeout=20.0, cleanup=True):
        """SIGTERM and wait. Raises DaemonFailed unless the exit status is 0 and
        stderr holds no sanitizer report. Returns the stderr text."""
        if self.proc is None:
            return ""
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise DaemonFailed("sibyld did not exit within %.0f s of SIGTERM" % timeout)
        text = self.stderr()
        self.proc = None
        marks = [m for m in SANITIZER_MARKS if m in text]
        if rc != 0 or marks:
            raise DaemonFailed("sibyld exit status %d%s; stderr:\n%s"
                               % (rc, (", sanitizer report: %s" % marks) if marks else "", text))
        if cleanup and not self.keep_dir:
            shutil.rmtree(self.dir, ignore_errors=True)
        return text

    def kill(self):
        """SIGKILL and wait; keeps the database (so start() can run again)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
        if self.proc is not None:
            self.proc.wait()
        self.proc = None
