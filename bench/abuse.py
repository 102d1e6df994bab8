#!/usr/bin/env python3
"""Abuse of the HTTP front at full size (issue 11 items 1, 2 and 4), on
loopback only, bounded in time. Starts sibyld on a fresh database and, in
three phases, measures what a well-behaved client sees (/healthz latency
p50/p99 from a fresh connection every 100 ms, and how many of the probes
were served within 2 s) and the daemon's resident memory:

  slowloris  N connections (default 1,100) spread over 11 loopback
             addresses, each sending one header line every 10 s and never
             finishing; a connection the server closes is opened again.
  bodies     N unauthenticated connections (default 400) each sending
             1 MB minus one byte of a 1 MB body and then waiting.
  biglists   N concurrent trials?pageSize=1000 requests (default 60, about
             5 MB each) by one READER key, read slowly; meanwhile another
             key completes trials. RSS is also read 3 s after the burst.

  python3 bench/abuse.py --sibyld build-rel/server/sibyld
  python3 bench/abuse.py --sibyld build-rel/server/sibyld --phase slowloris

Only the standard library; the daemon's own settings stay at their
defaults unless --daemon-arg is given."""

import argparse
import http.client
import json
import os
import shutil
import socket
import statistics
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "python"))
from harness import Daemon  # noqa: E402


def rss_mib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return -1.0


class Prober(threading.Thread):
    """GET /healthz on a fresh connection every 100 ms until stopped."""

    def __init__(self, port, path="/healthz", headers=None):
        super().__init__(daemon=True)
        self.port, self.path, self.headers = port, path, headers or {}
        self.lat, self.failed, self.stop = [], 0, threading.Event()

    def run(self):
        while not self.stop.is_set():
            t0 = time.monotonic()
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                c.request("GET", self.path, headers=self.headers)
                r = c.getresponse()
                r.read()
                c.close()
                if r.status == 200:
                    self.lat.append(time.monotonic() - t0)
                else:
                    self.failed += 1
            except (OSError, http.client.HTTPException):
                self.failed += 1
            time.sleep(max(0.0, 0.1 - (time.monotonic() - t0)))

    def report(self):
        n = len(self.lat) + self.failed
        if not self.lat:
            return "served 0/%d probes" % n
        lat = sorted(self.lat)
        p99 = lat[min(len(lat) - 1, int(0.99 * len(lat)))]
        return "served %d/%d probes within 2 s, p50 %.1f ms, p99 %.1f ms, max %.0f ms" % (
            len(lat), n, statistics.median(lat) * 1e3, p99 * 1e3, lat[-1] * 1e3)


def call(port, method, path, key, body=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    data = json.dumps(body) if body is not None else None
    c.request(method, path, body=data, headers={"Authorization": "Bearer " + key})
    r = c.getresponse()
    out = r.read()
    c.close()
    return r.status, out


def slow_conn(port, src):
    s = socket.socket()
    s.setblocking(True)
    s.settimeout(1)
    try:
        s.bind((src, 0))
        s.connect(("127.0.0.1", port))
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        return s
    except OSError:
        s.close()
        return None


def phase_slowloris(d, n, seconds):
    srcs = ["127.0.0.%d" % (2 + i % 11) for i in range(n)]
    conns = [slow_conn(d.port, srcs[i]) for i in range(n)]
    print("slowloris: %d of %d connections opened" % (sum(c is not None for c in conns), n))
    p = Prober(d.port)
    p.start()
    end, reopened = time.monotonic() + seconds, 0
    while time.monotonic() < end:
        for i in range(n):
            ok = False
            if conns[i] is not None:
                try:
                    conns[i].sendall(b"X-Slow: 1\r\n")
                    ok = True
                except OSError:
                    conns[i].close()
            if not ok:
                conns[i] = slow_conn(d.port, srcs[i])
                reopened += 1
        time.sleep(min(10, max(0, end - time.monotonic())))
    p.stop.set()
    p.join()
    rss = rss_mib(d.proc.pid)
    for c in conns:
        if c is not None:
            c.close()
    print("slowloris: %d connections x %d s (one header line / 10 s, %d reopened): "
          "/healthz %s; RSS %.0f MiB" % (n, seconds, reopened, p.report(), rss))


def phase_bodies(d, n, seconds):
    head = (b"POST /v1/owners/bench/studies HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\nContent-Length: 1000000\r\n\r\n")
    chunk = b" " * (1000000 - 1)
    rss0 = rss_mib(d.proc.pid)
    p = Prober(d.port)
    p.start()
    conns, refused = [], 0
    for i in range(n):
        s = socket.socket()
        s.settimeout(2)
        try:
            s.connect(("127.0.0.1", d.port))
            s.sendall(head)
            s.sendall(chunk)
        except OSError:
            refused += 1
        conns.append(s)
    time.sleep(seconds)
    rss = rss_mib(d.proc.pid)
    p.stop.set()
    p.join()
    early = 0
    for s in conns:
        try:
            s.settimeout(0.05)
            if s.recv(64).startswith(b"HTTP/1.1 4"):
                early += 1
        except OSError:
            pass
        s.close()
    print("bodies: %d unauthenticated 1 MB bodies left unfinished for %d s: %d answered "
          "4xx early, %d cut while sending; /healthz %s; RSS %.0f -> %.0f MiB"
          % (n, seconds, early, refused, p.report(), rss0, rss))


def make_big_study(port, key, trials):
    params = [{"parameterId": "parameter_%d" % i,
               "doubleValueSpec": {"minValue": 0, "maxValue": 1}} for i in range(100)]
    spec = {"algorithm": "RANDOM_SEARCH",
            "metrics": [{"metricId": "acc", "goal": "MAXIMIZE"}], "parameters": params}
    call(port, "POST", "/v1/owners/bench/studies", key, {"displayName": "big", "studySpec": spec})
    call(port, "POST", "/v1/owners/bench/studies", key, {"displayName": "small", "studySpec": {
        "algorithm": "RANDOM_SEARCH", "metrics": [{"metricId": "acc", "goal": "MAXIMIZE"}],
        "parameters": params[:1]}})
    t = {"state": "SUCCEEDED",
         "parameters": [{"parameterId": "parameter_%d" % i, "value": 0.00123456789 * i}
                        for i in range(100)],
         "finalMeasurement": {"metrics": [{"metricId": "acc", "value": 0.5}]}}
    for _ in range(trials):
        call(port, "POST", "/v1/owners/bench/studies/big/trials", key, t)


def phase_biglists(d, n):
    admin = d.admin_key
    make_big_study(d.port, admin, 1000)
    st, out = call(d.port, "POST", "/v1/owners/bench/apiKeys", admin, {"role": "READER"})
    reader = json.loads(out)["key"]
    st, out = call(d.port, "POST", "/v1/owners/bench/apiKeys", admin, {"role": "WRITER"})
    writer = json.loads(out)["key"]
    rss0 = rss_mib(d.proc.pid)
    req = ("GET /v1/owners/bench/studies/big/trials?pageSize=1000 HTTP/1.1\r\nHost: x\r\n"
           "Authorization: Bearer %s\r\n\r\n" % reader).encode()
    conns = []
    for _ in range(n):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect(("127.0.0.1", d.port))
        s.sendall(req)
        conns.append(s)
    p = Prober(d.port)
    p.start()
    lat, failed = [], 0
    for i in range(30):  # another key: suggest + complete, 30 times
        t0 = time.monotonic()
        st, out = call(d.port, "POST", "/v1/owners/bench/studies/small/trials:suggest", writer,
                       {"suggestionCount": 1, "clientId": "w"})
        ok = st == 200
        if ok:
            tid = json.loads(out)["response"]["trials"][0]["id"]
            st, _ = call(d.port, "POST", "/v1/owners/bench/studies/small/trials/%s:complete"
                         % tid, writer,
                         {"finalMeasurement": {"metrics": [{"metricId": "acc", "value": 1}]}})
            ok = st == 200
        if ok:
            lat.append(time.monotonic() - t0)
        else:
            failed += 1
    time.sleep(2)
    rss_peak = rss_mib(d.proc.pid)
    codes = {}
    for s in conns:  # read slowly: one after the other
        s.settimeout(60)
        buf = b""
        try:
            while True:
                b = s.recv(1 << 20)
                if not b:
                    break
                buf += b
                h, _, body = buf.partition(b"\r\n\r\n")
                if _ and b"Content-Length:" in h:
                    cl = int(h.split(b"Content-Length:")[1].split(b"\r\n")[0])
                    if len(body) >= cl:
                        break
        except OSError:
            pass
        code = buf[9:12].decode() or "none"
        codes[code] = codes.get(code, 0) + 1
        s.close()
    p.stop.set()
    p.join()
    time.sleep(3)
    rss_after = rss_mib(d.proc.pid)
    lat.sort()
    other = ("%d/%d suggest+complete pairs, p50 %.1f ms, max %.1f ms" % (
        len(lat), len(lat) + failed, statistics.median(lat) * 1e3, lat[-1] * 1e3)
        if lat else "0 pairs served")
    print("biglists: %d x pageSize=1000 (~5 MB) by one READER key: answers %s; other key %s; "
          "/healthz %s; RSS %.0f -> %.0f MiB, 3 s after %.0f MiB"
          % (n, codes, other, p.report(), rss0, rss_peak, rss_after))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sibyld", required=True)
    ap.add_argument("--phase", action="append", choices=["slowloris", "bodies", "biglists"])
    ap.add_argument("--slowloris", type=int, default=1100)
    ap.add_argument("--slowloris-seconds", type=int, default=40)
    ap.add_argument("--bodies", type=int, default=400)
    ap.add_argument("--bodies-seconds", type=int, default=10)
    ap.add_argument("--biglists", type=int, default=60)
    ap.add_argument("--daemon-arg", action="append", default=[])
    a = ap.parse_args()
    phases = a.phase or ["slowloris", "bodies", "biglists"]
    for ph in phases:
        d = Daemon(sibyld=a.sibyld, args=a.daemon_arg + ["--log-level", "error"]).start()
        try:
            call(d.port, "POST", "/v1/owners", d.admin_key, {"ownerId": "bench"})
            p = Prober(d.port)
            p.start()
            time.sleep(2)
            p.stop.set()
            p.join()
            print("%s: idle first: /healthz %s; RSS %.0f MiB"
                  % (ph, p.report(), rss_mib(d.proc.pid)))
            if ph == "slowloris":
                phase_slowloris(d, a.slowloris, a.slowloris_seconds)
            elif ph == "bodies":
                phase_bodies(d, a.bodies, a.bodies_seconds)
            else:
                phase_biglists(d, a.biglists)
            sys.stdout.flush()
        finally:
            d.kill()
            shutil.rmtree(d.dir, ignore_errors=True)


if __name__ == "__main__":
    main()
