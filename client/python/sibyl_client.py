"""sibyl_client: a Python client for the sibyl tuning service (API.md, v1).

One file, standard library only. Copy it next to your training script.

A worker in a few lines::

    from sibyl_client import Client
    spec = {"metrics": [{"metricId": "loss", "goal": "MINIMIZE"}],
            "parameters": [{"parameterId": "lr",
                            "doubleValueSpec": {"minValue": 1e-5, "maxValue": 1},
                            "scaleType": "UNIT_LOG_SCALE"}]}
    study = Client("http://127.0.0.1:8080", "KEY").create_study("team", "lr-sweep", spec)
    for trial in study.trials(client_id="w1", max_trials=20):
        trial.complete({"loss": train(**trial.parameters)})
    print(study.best())

Errors: every answer that is not 2xx raises a SibylError subclass named after
the server's status (NotFound, InvalidArgument, FailedPrecondition, ...), with
.status (the HTTP code), .code (the status name, "NOT_FOUND") and .message
(the server's message). A request that never got an answer raises
ConnectionFailed (status 0).

Several servers: Client("http://h1:8080,http://h2:8080", KEY) (or a list)
fails over between daemons sharing one database: a call that finds one down
moves at once to the next (see Client).

Retries: a worker rides out a restart of the server. A call that gets no
answer, or a 502, 503 or 504, is tried again with exponential backoff and
jitter (0.25 s doubling to 10 s) until its retry window runs out (5 minutes
from its first failure by default; retry_window=, or SIBYL_RETRY_WINDOW in
seconds), saying on stderr that it waits. Once a request may have reached
the server, only calls that are safe to repeat are retried: GET, DELETE,
create-or-load study, lookup, measurements (the server drops a repeat of the
last one), complete, stop, the early-stopping check, list optimal trials,
and suggest when it carries a clientId (the server hands a client its own
ACTIVE trial back). A refused connection (the server never saw it) and a
429 with Retry-After (a rate limit) are retried for every call; creating a
trial, an owner or a key, and suggest without a clientId, are otherwise sent
once, so that a retry can never create a second one.

Leases: when the study's spec has a staleTrialTimeout, a trial whose worker
makes no call on it for that long is given up. A worker that trains for a long
time without reporting calls trial.heartbeat() (a GET naming its clientId)
every third of that timeout, and stops training if the trial comes back in
another state than ACTIVE or STOPPING.

Connections: each thread keeps one persistent HTTP/1.1 connection per Client
(http.client from the standard library), so a busy worker does not pay a TCP
handshake per call. A Client may be shared between threads.
"""

import http.client
import json
import os
import random
import socket
import sys
import threading
import time
import urllib.parse

__all__ = [
    "Client", "Study", "Trial", "SibylError", "ConnectionFailed", "InvalidArgument",
    "FailedPrecondition", "OutOfRange", "Unauthenticated", "PermissionDenied", "NotFound",
    "AlreadyExists", "Aborted", "ResourceExhausted", "Internal", "Unimplemented", "Unavailable",
]

__version__ = "0.1.0"


# ---------------------------------------------------------------- errors

class SibylError(Exception):
    """An error answer from sibyld, or a request that got no answer.

    Attributes:
        status:  the HTTP status code (0 when no answer came back)
        code:    the status name of API.md ("NOT_FOUND", "INVALID_ARGUMENT", ...)
        message: the server's message, which says what was wrong and where
        body:    the decoded error body (a dict), or None
    """

    def __init__(self, status, code, message, body=None):
        super().__init__("%s (%d): %s" % (code, status, message))
        self.status = status
        self.code = code
        self.message = message
        self.body = body


class ConnectionFailed(SibylError):
    """No answer: the connection was refused, reset or timed out."""


class InvalidArgument(SibylError):
    """400 INVALID_ARGUMENT: the request is malformed or a value is out of its domain."""


class FailedPrecondition(SibylError):
    """400 FAILED_PRECONDITION: the resource is not in a state for this call
    (a completed trial, a study that reached its budget)."""


class OutOfRange(SibylError):
    """400 OUT_OF_RANGE."""


class Unauthenticated(SibylError):
    """401 UNAUTHENTICATED: no key, or an unknown key."""


class PermissionDenied(SibylError):
    """403 PERMISSION_DENIED: the key may not do this (a READER writing)."""


class NotFound(SibylError):
    """404 NOT_FOUND (also what a key sees for another owner's resources)."""


class AlreadyExists(SibylError):
    """409 ALREADY_EXISTS: e.g. a study of that name with a different spec."""


class Aborted(SibylError):
    """409 ABORTED: a concurrency conflict; the call may be repeated."""


class ResourceExhausted(SibylError):
    """429 RESOURCE_EXHAUSTED: a quota or rate limit."""


class Internal(SibylError):
    """500 INTERNAL."""


class Unimplemented(SibylError):
    """501 UNIMPLEMENTED: the server does not do this (yet)."""


class Unavailable(SibylError):
    """503 UNAVAILABLE: try again later (retried automatically where safe)."""


_BY_NAME = {
    "INVALID_ARGUMENT": InvalidArgument, "FAILED_PRECONDITION": FailedPrecondition,
    "OUT_OF_RANGE": OutOfRange, "UNAUTHENTICATED": Unauthenticated,
    "PERMISSION_DENIED": PermissionDenied, "NOT_FOUND": NotFound,
    "ALREADY_EXISTS": AlreadyExists, "ABORTED": Aborted,
    "RESOURCE_EXHAUSTED": ResourceExhausted, "INTERNAL": Internal,
    "UNIMPLEMENTED": Unimplemented, "UNAVAILABLE": Unavailable,
}
# When a body carries no status name (a proxy's page, say), the HTTP code
# decides; 400 and 409 are ambiguous and take the most common meaning.
_BY_HTTP = {400: InvalidArgument, 401: Unauthenticated, 403: PermissionDenied,
            404: NotFound, 409: AlreadyExists, 429: ResourceExhausted, 500: Internal,
            501: Unimplemented, 503: Unavailable}
_NAME_BY_CLASS = {v.__name__: k for k, v in _BY_NAME.items()}
_HTTP_BY_NAME = {"INVALID_ARGUMENT": 400, "FAILED_PRECONDITION": 400, "OUT_OF_RANGE": 400,
                 "UNAUTHENTICATED": 401, "PERMISSION_DENIED": 403, "NOT_FOUND": 404,
                 "ALREADY_EXISTS": 409, "ABORTED": 409, "RESOURCE_EXHAUSTED": 429,
                 "INTERNAL": 500, "UNIMPLEMENTED": 501, "UNAVAILABLE": 503}


def error_from_operation(op):
    """The SibylError for a failed Operation's "error" (a google.rpc.Status,
    whose code is the RPC code, not the HTTP one: the status name decides)."""
    e = op.get("error") or {}
    name = e.get("status") or "UNKNOWN"
    cls = _BY_NAME.get(name, SibylError)
    return cls(_HTTP_BY_NAME.get(name, 500), name, e.get("message", ""), op)


def error_from_response(status, raw):
    """Builds the SibylError subclass for an HTTP status and raw body bytes."""
    body = None
    code = message = None
    try:
        body = json.loads(raw.decode("utf-8")) if raw else None
        err = body.get("error") if isinstance(body, dict) else None
        if isinstance(err, dict):
            code = err.get("status")
            message = err.get("message")
    except (ValueError, UnicodeDecodeError):
        body = None
    cls = _BY_NAME.get(code) or _BY_HTTP.get(status) or SibylError
    if code is None:
        code = _NAME_BY_CLASS.get(cls.__name__, "UNKNOWN")
    if message is None:
        message = raw.decode("utf-8", "replace")[:500] if raw else "HTTP %d" % status
    return cls(status, code, message, body)


# ---------------------------------------------------------------- helpers

def _quote(segment):
    return urllib.parse.quote(str(segment), safe="")


def _metrics_list(metrics):
    """{"loss": 0.1} or [{"metricId": ..., "value": ...}] -> the API's list."""
    if isinstance(metrics, dict):
        return [{"metricId": k, "value": float(v)} for k, v in metrics.items()]
    return list(metrics)


def _measurement(metrics, step=None, elapsed=None):
    m = {"metrics": _metrics_list(metrics)}
    if step is not None:
        m["stepCount"] = str(int(step))
    if elapsed is not None:
        m["elapsedDuration"] = "%gs" % float(elapsed)
    return m


def _split_name(name, kind):
    """'owners/a/studies/b' -> ('a', 'b'); raises ValueError when malformed."""
    parts = name.split("/")
    if kind == "study" and len(parts) == 4 and parts[0] == "owners" and parts[2] == "studies":
        return parts[1], parts[3]
    if (kind == "trial" and len(parts) == 6 and parts[0] == "owners"
            and parts[2] == "studies" and parts[4] == "trials"):
        return parts[1], parts[3], parts[5]
    raise ValueError("not a %s name: %r" % (kind, name))


# ---------------------------------------------------------------- retries

DEFAULT_RETRY_WINDOW = 300.0
_MAX_RETRY_WINDOW = 7 * 24 * 3600.0
_SAY_EVERY = 30.0
_MAX_SERVERS = 16


def _retry_window(value):
    """The retry window in seconds: value, else $SIBYL_RETRY_WINDOW, else 300."""
    source = "retry_window"
    if value is None:
        value = os.environ.get("SIBYL_RETRY_WINDOW")
        source = "SIBYL_RETRY_WINDOW"
        if value is None or value == "":
            return DEFAULT_RETRY_WINDOW
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = float("nan")
    if not 0 <= seconds <= _MAX_RETRY_WINDOW:
        raise ValueError("%s must be seconds from 0 to %d, not %r"
                         % (source, _MAX_RETRY_WINDOW, value))
    return seconds


def _duration(seconds):
    """4m50s, 12s, 0.3s, 1h02m: as the C client writes it."""
    n = int(seconds + 0.5)
    if seconds < 1:
        return "%.1fs" % seconds
    if n < 60:
        return "%ds" % n
    if n < 3600:
        return "%dm%02ds" % (n // 60, n % 60)
    return "%dh%02dm" % (n // 3600, n // 60 % 60)


def _print_wait(message):
    print("sibyl: " + message, file=sys.stderr, flush=True)


class _Waiter:
    """One call's retries: the backoff, the window, and what is said.

    With several servers, each one's last failure is kept (note) so that the
    waiting lines and the final error name them all."""

    def __init__(self, client):
        self.client = client
        self.first_fail = None
        self.last_said = 0.0
        self.said = False
        self.retries = 0
        self.delay = client.backoff
        self.what = ""
        self.server = client.urls[0]
        self.why = {}

    def _say(self, text):
        if self.client.on_wait is not None:
            self.client.on_wait(text)

    def note(self, server, what):
        """Server failed with what ("unreachable (...)", "answered 503 ...")."""
        if self.first_fail is None and len(self.client.urls) > 1:  # counts from the first failure
            self.first_fail = time.monotonic()
        self.server = server
        self.why[server] = what

    def round_text(self):
        """Each server's last failure: "http://a unreachable (...); http://b ..."."""
        return "; ".join("%s %s" % (u, self.why[u]) for u in self.client.urls if u in self.why)

    def _what(self):
        if len(self.client.urls) > 1:
            return "no server available (%s)" % self.round_text()
        return "server %s %s" % (self.server, self.what)

    def switch(self, server, what, nxt):
        """Moving on from server to nxt at once (said in the first round only)."""
        if not self.said:
            self._say("server %s %s; trying %s" % (server, what, nxt))

    def wait(self, what, retry_after=None):
        """After a failure that may be retried (what: "unreachable (...)" or
        "answered 503 ..."), on every server: sleeps and returns True, or
        returns False when the window or the retries ran out."""
        c = self.client
        now = time.monotonic()
        if self.first_fail is None:
            self.first_fail = now
        self.what = what
        waited = now - self.first_fail
        left = c.retry_window - waited
        if left <= 0 or (c.retries is not None and self.retries >= c.retries):
            self.give_up()
            return False
        delay = min(self.delay, c.max_backoff)
        pause = delay / 2 + random.random() * delay / 2
        if retry_after is not None:
            pause = max(pause, retry_after)
        pause = min(pause, left + 0.001)
        self.delay *= 2
        if not self.said:
            self._say("%s; retrying for up to %s" % (self._what(), _duration(left)))
            self.said, self.last_said = True, now
        elif now - self.last_said >= _SAY_EVERY:
            if len(c.urls) > 1:
                self._say("still no server available after %s (%s); retrying for up to %s more"
                          % (_duration(waited), self.round_text(), _duration(left)))
            else:
                self._say("server %s still %s after %s; retrying for up to %s more"
                          % (self.server, what, _duration(waited), _duration(left)))
            self.last_said = now
        time.sleep(pause)
        self.retries += 1
        return True

    def give_up(self):
        if self.said:
            waited = _duration(time.monotonic() - self.first_fail)
            if len(self.client.urls) > 1:
                self._say("still no server available after %s (%s); giving up"
                          % (waited, self.round_text()))
            else:
                self._say("server %s still %s after %s; giving up"
                          % (self.server, self.what, waited))
            self.said = False

    def back(self, server):
        if self.said:
            self._say("server %s is back after %s"
                      % (server, _duration(time.monotonic() - self.first_fail)))
            self.said = False


def _never_sent(exc):
    """True when the request cannot have reached the server."""
    return isinstance(exc, (ConnectionRefusedError, socket.gaierror))


def _retry_after(headers):
    value = headers.get("Retry-After") if headers is not None else None
    return float(value) if value and value.strip().isdigit() else None


# ---------------------------------------------------------------- client

def _parse_servers(url):
    """The server URLs of url (a list, or one string with commas), each
    checked and without its trailing slashes. Raises ValueError naming the
    bad entry."""
    if isinstance(url, (list, tuple)):
        entries, shown = list(url), repr(list(url))
    elif isinstance(url, str):
        entries, shown = url.split(","), '"%s"' % url
    else:
        raise ValueError("url must be a string or a list of strings, not %r" % (url,))
    if len(entries) > _MAX_SERVERS:
        raise ValueError("server list %s: more than %d servers" % (shown, _MAX_SERVERS))
    servers = []
    for k, entry in enumerate(entries, 1):
        if not isinstance(entry, str):
            raise ValueError("server list %s: entry %d is not a string" % (shown, k))
        u = entry.strip().rstrip("/")
        if not u:
            raise ValueError("server list %s: entry %d is empty" % (shown, k))
        if not u.lower().startswith(("http://", "https://")):
            raise ValueError('server URL "%s" must start with http:// or https://' % u)
        if any(ch in u for ch in " \t\r\n?#,"):
            raise ValueError('server URL "%s" has a character that is not allowed' % u)
        parsed = urllib.parse.urlsplit(u)
        try:
            port = parsed.port
        except ValueError:
            raise ValueError('server URL "%s" is malformed (bad port)' % u) from None
        if not parsed.hostname:
            raise ValueError('server URL "%s" has no host' % u)
        https = parsed.scheme.lower() == "https"
        servers.append(_Server(u, https, parsed.hostname, port or (443 if https else 80),
                               parsed.path.rstrip("/")))
    if not servers:
        raise ValueError("no server URL")
    return servers


class _Server:
    """One server of a Client: its URL and where to connect."""

    def __init__(self, url, https, host, port, prefix):
        self.url, self.https, self.host, self.port, self.prefix = url, https, host, port, prefix


class Client:
    """A connection to sibyld (one server, or several sharing one database)
    with one API key.

    Args:
        url:     the server's base URL, e.g. "http://127.0.0.1:8080"; or
                 several servers (daemons sharing one database), as a list
                 or one string with commas ("http://h1:8080,http://h2:8080").
                 A call goes first to the server that answered last; on no
                 answer or a 502, 503 or 504, when a retry is safe (see
                 Retries), it moves at once to the next server, and waits
                 (within retry_window) only once every server has failed.
                 4xx answers and 500 never move it on.
        key:     an API key (admin, WRITER or READER); None sends no key
        timeout: seconds to wait for each answer (suggest on a large GP study
                 can take a second or more; the default leaves room)
        retry_window: how long, in seconds from its first failure, a call
                 keeps retrying while the server is down or restarting
                 (default: $SIBYL_RETRY_WINDOW, else 300); 0 never retries
        retries: at most this many waits of a call (None: as many as the
                 window allows); with several servers, each wait follows a
                 round of every server
        backoff: the first retry's delay in seconds; it doubles, with jitter,
                 up to max_backoff
        on_wait: called with one line (str) when a call starts waiting for the
                 server, every 30 s while it waits, when it is back and when
                 it gives up; by default the line goes to stderr as
                 "sibyl: <line>". Pass lambda line: None to be silent.
        ssl_context: an ssl.SSLContext for https URLs (default: the system's
                 trusted CAs, certificates verified)
    """

    def __init__(self, url, key=None, timeout=60.0, retries=None, backoff=0.25, ssl_context=None,
                 retry_window=None, max_backoff=10.0, on_wait=_print_wait):
        self._servers = _parse_servers(url)
        self.urls = [srv.url for srv in self._servers]
        self.url = ",".join(self.urls)
        self._current = 0  # the server that answered last: tried first
        self.key = key
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.retry_window = _retry_window(retry_window)
        self.on_wait = on_wait
        self._ssl_context = ssl_context
        self._local = threading.local()

    # -- transport

    def _connection(self, srv):
        conn = getattr(self._local, "conn", None)
        if conn is not None and self._local.server is not srv:
            self._drop_connection()
            conn = None
        if conn is None:
            if srv.https:
                conn = http.client.HTTPSConnection(srv.host, srv.port, timeout=self.timeout,
                                                   context=self._ssl_context)
            else:
                conn = http.client.HTTPConnection(srv.host, srv.port, timeout=self.timeout)
            self._local.conn = conn
            self._local.server = srv
            self._local.used = False
        return conn

    def _drop_connection(self):
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
        self._local.conn = None

    def close(self):
        """Closes this thread's connection (others close when their thread ends)."""
        self._drop_connection()

    def _send_once(self, srv, method, path, data, headers):
        """One exchange with server srv. Returns (status, body bytes, headers) or raises OSError /
        http.client.HTTPException. A connection the server closed while idle is
        reopened once: the request never reached the server then."""
        for attempt in (0, 1):
            conn = self._connection(srv)
            reused = self._local.used
            try:
                conn.request(method, srv.prefix + path, body=data, headers=headers)
                resp = conn.getresponse()
                body = resp.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self._drop_connection()
                if reused and attempt == 0:
                    continue
                raise
            except BaseException:
                self._drop_connection()
                raise
            self._local.used = True
            if resp.will_close:
                self._drop_connection()
            return resp.status, body, resp.headers
        raise AssertionError("unreachable")

    def request(self, method, path, body=None, idempotent=None):
        """Sends one API call and returns the decoded JSON answer (a dict).

        path is everything after the base URL ("/v1/owners/a/studies"), query
        included. idempotent (default: True for GET and DELETE) allows retries
        once the request may have reached the server (see the module's
        Retries). Raises a SibylError subclass."""
        if idempotent is None:
            idempotent = method in ("GET", "DELETE")
        headers = {"Accept": "application/json"}
        if self.key:
            headers["Authorization"] = "Bearer " + self.key
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        waiter = _Waiter(self)
        at, tried = self._current, 0
        while True:
            srv = self._servers[at]
            after = None
            try:
                status, raw, resp_headers = self._send_once(srv, method, path, data, headers)
            except (OSError, http.client.HTTPException, socket.timeout) as e:
                reason = getattr(e, "strerror", None) or str(e) or type(e).__name__
                if idempotent or _never_sent(e):
                    moved = self._move(waiter, at, tried, "unreachable (%s)" % reason)
                    if moved is not None:
                        at, tried = moved
                        continue
                else:
                    waiter.give_up()
                if len(self._servers) > 1 and waiter.why:
                    raise ConnectionFailed(0, "UNAVAILABLE", "%s %s: no server available: %s" % (
                        method, path, waiter.round_text())) from e
                raise ConnectionFailed(0, "UNAVAILABLE", "%s %s%s: %s" % (
                    method, srv.url, path, e or type(e).__name__)) from e
            if 200 <= status < 300:
                self._current = at
                waiter.back(srv.url)
                if not raw:
                    return {}
                try:
                    return json.loads(raw.decode("utf-8"))
                except (ValueError, UnicodeDecodeError) as e:
                    raise SibylError(status, "INTERNAL", "answer is not JSON: %r" % raw[:200]) from e
            err = error_from_response(status, raw)
            if status == 401 and not self.key:
                err = Unauthenticated(401, "UNAUTHENTICATED",
                                      "no API key: pass Client(url, key=...) (for example "
                                      "key=os.environ[\"SIBYL_KEY\"]); the server said: "
                                      + err.message, err.body)
            after = _retry_after(resp_headers)
            what = "answered %d %s: %s" % (status, err.code, err.message[:200])
            if status in (502, 503, 504) and idempotent:
                moved = self._move(waiter, at, tried, what, after)
                if moved is not None:
                    at, tried = moved
                    continue
                raise err
            self._current = at  # it answered
            if status == 429 and after is not None and waiter.wait(what, after):
                continue
            waiter.back(srv.url)
            raise err

    def _move(self, waiter, at, tried, what, retry_after=None):
        """Server at failed with what, and a retry is safe: (next server, servers
        tried this round) to go on with, or None when the window ran out."""
        n = len(self._servers)
        nxt = (at + 1) % n
        waiter.note(self._servers[at].url, what)
        if tried + 1 < n:
            waiter.switch(self._servers[at].url, what, self._servers[nxt].url)
            return nxt, tried + 1
        if waiter.wait(what, retry_after):
            return nxt, 0
        return None

    def _list(self, path, key, page_size=None, extra=None):
        """Follows nextPageToken and returns every item of a list method."""
        items = []
        token = None
        while True:
            query = dict(extra or {})
            if page_size:
                query["pageSize"] = str(page_size)
            if token:
                query["pageToken"] = token
            qs = ("?" + urllib.parse.urlencode(query)) if query else ""
            page = self.request("GET", path + qs)
            items.extend(page.get(key, []))
            token = page.get("nextPageToken")
            if not token:
                return items

    # -- service

    def healthz(self):
        """GET /healthz: {"status": "ok"} when the server and its store answer."""
        return self.request("GET", "/healthz")

    def metrics_text(self):
        """GET /metrics: the Prometheus text, as a str (of the server that
        answered last, when there are several: each has its own)."""
        status, raw, _ = self._send_once(self._servers[self._current], "GET", "/metrics", None, {})
        if status != 200:
            raise error_from_response(status, raw)
        return raw.decode("utf-8")

    # -- owners (admin key)

    def create_owner(self, owner_id, display_name=None):
        """Creates owners/{owner_id} (admin). Returns the owner dict."""
        body = {"ownerId": owner_id}
        if display_name is not None:
            body["displayName"] = display_name
        return self.request("POST", "/v1/owners", body)

    def get_owner(self, owner_id):
        """Returns owners/{owner_id} (admin)."""
        return self.request("GET", "/v1/owners/%s" % _quote(owner_id))

    def list_owners(self, page_size=None):
        """Returns every owner (admin), following pages."""
        return self._list("/v1/owners", "owners", page_size)

    def delete_owner(self, owner_id):
        """Deletes an owner (admin)."""
        return self.request("DELETE", "/v1/owners/%s" % _quote(owner_id))

    # -- API keys (admin, or the owner's WRITER)

    def create_api_key(self, owner_id, role="WRITER", display_name=None):
        """Creates a key; the answer {name, role, key} is the only time the
        secret "key" is shown."""
        body = {"role": role}
        if display_name is not None:
            body["displayName"] = display_name
        return self.request("POST", "/v1/owners/%s/apiKeys" % _quote(owner_id), body)

    def list_api_keys(self, owner_id, page_size=None):
        """Returns the owner's keys (names and roles, never secrets)."""
        return self._list("/v1/owners/%s/apiKeys" % _quote(owner_id), "apiKeys", page_size)

    def delete_api_key(self, owner_id, key_id):
        """Revokes a key; key_id is the last part of its name."""
        return self.request("DELETE", "/v1/owners/%s/apiKeys/%s" % (_quote(owner_id), _quote(key_id)))

    # -- studies

    def _study_path(self, owner_id, study_id):
        return "/v1/owners/%s/studies/%s" % (_quote(owner_id), _quote(study_id))

    def create_study(self, owner_id, display_name, spec, metadata=None):
        """Create-or-load: returns the Study named display_name, creating it from
        spec (a StudySpec dict) when new. Many workers may call this at once;
        the same spec gives the same study, a different one AlreadyExists.
        metadata ({key: value}, strings) is attached to a new study; an
        existing one comes back with its own (see set_study_metadata)."""
        body = {"displayName": display_name, "studySpec": spec}
        if metadata:
            body["metadata"] = dict(metadata)
        data = self.request("POST", "/v1/owners/%s/studies" % _quote(owner_id), body,
                            idempotent=True)
        return Study(self, data)

    def get_study(self, owner_id, study_id):
        """Returns the Study owners/{owner_id}/studies/{study_id}."""
        return Study(self, self.request("GET", self._study_path(owner_id, study_id)))

    def study(self, name):
        """Returns the Study of a full name 'owners/a/studies/b' (one GET)."""
        return self.get_study(*_split_name(name, "study"))

    def list_studies(self, owner_id, page_size=None):
        """Returns every Study of the owner, following pages."""
        items = self._list("/v1/owners/%s/studies" % _quote(owner_id), "studies", page_size)
        return [Study(self, s) for s in items]

    def lookup_study(self, owner_id, display_name):
        """Returns the Study with that displayName, or raises NotFound."""
        data = self.request("POST", "/v1/owners/%s/studies:lookup" % _quote(owner_id),
                            {"displayName": display_name}, idempotent=True)
        return Study(self, data)

    def delete_study(self, owner_id, study_id):
        """Deletes a study and its trials."""
        return self.request("DELETE", self._study_path(owner_id, study_id))

    def _patch_metadata(self, path, metadata):
        # A merge of the same keys gives the same object: safe to retry.
        return self.request("PATCH", path + "?updateMask=metadata",
                            {"metadata": dict(metadata)}, idempotent=True)

    def set_study_metadata(self, owner_id, study_id, metadata):
        """Merges {key: value} into the study's metadata: a string sets the
        key, None deletes it, keys not named stay. Returns the Study. The
        server bounds keys and sizes (InvalidArgument naming the limit); a
        READER key gets PermissionDenied."""
        return Study(self, self._patch_metadata(self._study_path(owner_id, study_id), metadata))

    # -- trials

    def _trial_path(self, owner_id, study_id, trial_id):
        return self._study_path(owner_id, study_id) + "/trials/%s" % _quote(trial_id)

    def suggest_trials(self, owner_id, study_id, count=1, client_id=None, wait=True):
        """Asks for count trials; returns a list of Trial (possibly fewer than
        count, or none when the study is COMPLETED). The server answers with an
        Operation; when it is not done yet and wait is true, it is polled.
        Raises FailedPrecondition once the study's budget is spent."""
        body = {"suggestionCount": int(count)}
        if client_id is not None:
            body["clientId"] = client_id
        op = self.request("POST", self._study_path(owner_id, study_id) + "/trials:suggest", body,
                          idempotent=client_id is not None)
        if wait:
            op = self.wait_operation(op)
        if "error" in op:
            raise error_from_operation(op)
        resp = op.get("response") or {}
        return [Trial(self, t) for t in resp.get("trials", [])]

    def create_trial(self, owner_id, study_id, parameters, final_measurement=None,
                     state=None, metadata=None):
        """Adds a trial by hand. parameters: {parameterId: value}. Without a
        final measurement it is REQUESTED (the next suggest hands it out);
        with final_measurement ({metric: value}) it is imported as SUCCEEDED.
        metadata: {key: value} strings attached to the trial."""
        body = {"parameters": [{"parameterId": k, "value": v} for k, v in parameters.items()]}
        if metadata:
            body["metadata"] = dict(metadata)
        if final_measurement is not None:
            body["state"] = state or "SUCCEEDED"
            body["finalMeasurement"] = _measurement(final_measurement)
        elif state is not None:
            body["state"] = state
        data = self.request("POST", self._study_path(owner_id, study_id) + "/trials", body)
        return Trial(self, data)

    def get_trial(self, owner_id, study_id, trial_id, client_id=None):
        """Returns one Trial.

        With client_id (the worker the trial was suggested to) this is the
        worker's heartbeat: when the study has a staleTrialTimeout it renews
        the trial's lease, so a long training run that reports nothing keeps
        its trial. If the lease had already lapsed the answer is the trial as
        the server settled it (state INFEASIBLE, "given up: ...", or
        SUCCEEDED): the worker should stop and not report. Another client's
        id only reads. An empty or over-long (1024 bytes) id raises
        InvalidArgument."""
        path = self._trial_path(owner_id, study_id, trial_id)
        if client_id is not None:
            path += "?" + urllib.parse.urlencode({"clientId": client_id})
        return Trial(self, self.request("GET", path))

    def set_trial_metadata(self, owner_id, study_id, trial_id, metadata):
        """Merges {key: value} into the trial's metadata (None deletes a key),
        in any state of the trial. Returns the Trial."""
        return Trial(self, self._patch_metadata(
            self._trial_path(owner_id, study_id, trial_id), metadata))

    def list_trials(self, owner_id, study_id, state=None, page_size=None):
        """Returns every Trial of the study (only those in state when given)."""
        extra = {"filter": "state=%s" % state} if state else None
        items = self._list(self._study_path(owner_id, study_id) + "/trials", "trials",
                           page_size, extra)
        return [Trial(self, t) for t in items]

    def list_trials_page(self, owner_id, study_id, page_size=None, page_token=None, state=None):
        """One page of trials: returns (list of Trial, nextPageToken or None)."""
        query = {}
        if page_size:
            query["pageSize"] = str(page_size)
        if page_token:
            query["pageToken"] = page_token
        if state:
            query["filter"] = "state=%s" % state
        qs = ("?" + urllib.parse.urlencode(query)) if query else ""
        page = self.request("GET", self._study_path(owner_id, study_id) + "/trials" + qs)
        return [Trial(self, t) for t in page.get("trials", [])], page.get("nextPageToken")

    def delete_trial(self, owner_id, study_id, trial_id):
        """Deletes one trial."""
        return self.request("DELETE", self._trial_path(owner_id, study_id, trial_id))

    def add_trial_measurement(self, owner_id, study_id, trial_id, metrics, step=None,
                              elapsed=None):
        """Reports an intermediate measurement (metrics: {metric: value});
        step is the training step, elapsed the seconds since the trial began.
        Returns the updated Trial."""
        body = {"measurement": _measurement(metrics, step, elapsed)}
        # Safe to repeat: the server drops a measurement equal to the last one.
        data = self.request("POST", self._trial_path(owner_id, study_id, trial_id)
                            + ":addTrialMeasurement", body, idempotent=True)
        return Trial(self, data)

    def complete_trial(self, owner_id, study_id, trial_id, metrics=None, infeasible=False,
                       reason=None):
        """Completes a trial with its final metrics ({metric: value}), or as
        infeasible (infeasible=True, reason: why). With neither, the server
        takes the last (or best) reported measurement. Returns the Trial."""
        body = {}
        if metrics is not None:
            body["finalMeasurement"] = _measurement(metrics)
        if infeasible:
            body["trialInfeasible"] = True
            if reason is not None:
                body["infeasibleReason"] = str(reason)
        data = self.request("POST", self._trial_path(owner_id, study_id, trial_id) + ":complete",
                            body, idempotent=True)
        return Trial(self, data)

    def check_trial_early_stopping_state(self, owner_id, study_id, trial_id):
        """Returns True when the study's stopping rule says this trial should
        stop (the server then moves it to STOPPING)."""
        op = self.request("POST", self._trial_path(owner_id, study_id, trial_id)
                          + ":checkTrialEarlyStoppingState", {}, idempotent=True)
        op = self.wait_operation(op)
        if "error" in op:
            raise error_from_operation(op)
        return bool((op.get("response") or {}).get("shouldStop", False))

    def stop_trial(self, owner_id, study_id, trial_id):
        """Asks a trial to stop (state STOPPING). Returns the Trial."""
        data = self.request("POST", self._trial_path(owner_id, study_id, trial_id) + ":stop", {},
                            idempotent=True)
        return Trial(self, data)

    def list_optimal_trials(self, owner_id, study_id):
        """The best trial, or the Pareto front with several objectives."""
        data = self.request("POST", self._study_path(owner_id, study_id)
                            + "/trials:listOptimalTrials", {}, idempotent=True)
        return [Trial(self, t) for t in data.get("optimalTrials", [])]

    def study_importance(self, owner_id, study_id, metric_id=None):
        """GET .../studies/{study}:importance: how much each parameter
        explains the objective (metric_id, default the study's first), as
        the server computes it: {"importances": [{"parameterId",
        "importance"}...], "method", "trialCount"}."""
        path = self._study_path(owner_id, study_id) + ":importance"
        if metric_id is not None:
            path += "?" + urllib.parse.urlencode({"metricId": metric_id})
        return self.request("GET", path)

    # -- operations

    def get_operation(self, name):
        """GET /v1/{name} for an operation name returned by suggest."""
        if not name.startswith("owners/"):
            raise ValueError("not an operation name: %r" % name)
        path = "/v1/" + "/".join(_quote(p) for p in name.split("/"))
        return self.request("GET", path)

    def wait_operation(self, op, timeout=None, poll=0.05):
        """Polls an Operation dict until done; returns the final dict."""
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        while not op.get("done"):
            if time.monotonic() > deadline:
                raise SibylError(0, "DEADLINE_EXCEEDED", "operation %s not done" % op.get("name"))
            time.sleep(poll)
            poll = min(poll * 2, 1.0)
            op = self.get_operation(op["name"])
        return op


# ---------------------------------------------------------------- resources

class Study:
    """A study: .name, .owner, .id, .display_name, .spec, .state, .metadata
    ({key: value}), .raw (the JSON dict). Methods act through the client
    that made it."""

    def __init__(self, client, data):
        self.client = client
        self._set(data)

    def _set(self, data):
        self.raw = data
        self.name = data["name"]
        self.owner, self.id = _split_name(self.name, "study")
        self.display_name = data.get("displayName", self.id)
        self.spec = data.get("studySpec", {})
        self.state = data.get("state")
        self.metadata = dict(data.get("metadata", {}))

    def __repr__(self):
        return "<Study %s %s>" % (self.name, self.state)

    def refresh(self):
        """Reloads the study from the server; returns self."""
        self._set(self.client.request("GET", self.client._study_path(self.owner, self.id)))
        return self

    def delete(self):
        """Deletes the study and its trials."""
        return self.client.delete_study(self.owner, self.id)

    def suggest(self, count=1, client_id=None):
        """Returns up to count new (or resumed) Trials; see Client.suggest_trials."""
        return self.client.suggest_trials(self.owner, self.id, count, client_id)

    def trials(self, client_id=None, max_trials=None):
        """The worker loop: yields one Trial at a time from suggest until
        max_trials were handed out, the study is COMPLETED or its budget is
        spent. Complete each trial before asking for the next one: a trial
        left ACTIVE is handed back to the same client_id by the next suggest.
        """
        handed = 0
        while max_trials is None or handed < max_trials:
            try:
                got = self.suggest(1, client_id)
            except FailedPrecondition:
                return  # the study is COMPLETED: its budget or stopping rule was met
            if not got:
                return
            handed += 1
            yield got[0]

    def create_trial(self, parameters, final_measurement=None, state=None, metadata=None):
        """Adds a trial by hand; see Client.create_trial."""
        return self.client.create_trial(self.owner, self.id, parameters, final_measurement, state,
                                        metadata)

    def set_metadata(self, metadata=None, **kv):
        """Merges metadata ({key: value}, or keyword arguments) into the
        study's: None deletes a key. Updates and returns self."""
        self._set(self.client.set_study_metadata(self.owner, self.id,
                                                 dict(metadata or {}, **kv)).raw)
        return self

    def get_trial(self, trial_id, client_id=None):
        """Returns one Trial by id; with client_id, the worker's heartbeat
        (see Client.get_trial)."""
        return self.client.get_trial(self.owner, self.id, trial_id, client_id)

    def list_trials(self, state=None, page_size=None):
        """Returns every Trial (only those in state when given)."""
        return self.client.list_trials(self.owner, self.id, state, page_size)

    def optimal_trials(self):
        """The best Trial, or the Pareto front with several objectives."""
        return self.client.list_optimal_trials(self.owner, self.id)

    def best(self):
        """The best Trial, or None before any completed trial."""
        best = self.optimal_trials()
        return best[0] if best else None

    def importance(self, metric_id=None):
        """How much each parameter explains the objective; see
        Client.study_importance."""
        return self.client.study_importance(self.owner, self.id, metric_id)

    def trials_as_dicts(self, state=None):
        """Every trial (only those in state when given) as a flat dict, one
        per trial, all with the same keys in the same order: "id", "state",
        "client_id", "start_time", "end_time" (RFC 3339 text, or None),
        "infeasible_reason", then "param_<id>" for each parameter and
        "metric_<id>" for each metric of the final measurement, in the
        spec's order (None where a trial has no value: a conditional
        parameter that is not active, a trial not completed)."""
        trials = self.list_trials(state)
        params = [p["parameterId"] for p in _all_parameters(self.spec.get("parameters", []))]
        metrics = [m["metricId"] for m in self.spec.get("metrics", [])]
        for t in trials:
            params += [k for k in t.parameters if k not in params]
            metrics += [k for k in (t.final_measurement or {}) if k not in metrics]
        rows = []
        for t in trials:
            row = {"id": t.id, "state": t.state, "client_id": t.client_id,
                   "start_time": t.start_time, "end_time": t.end_time,
                   "infeasible_reason": t.infeasible_reason}
            for p in params:
                row["param_" + p] = t.parameters.get(p)
            final = t.final_measurement or {}
            for m in metrics:
                row["metric_" + m] = final.get(m)
            rows.append(row)
        return rows

    def to_dataframe(self, state=None):
        """trials_as_dicts() as a pandas DataFrame, one row per trial,
        start_time and end_time as UTC datetimes. Needs pandas."""
        try:
            import pandas
        except ImportError as e:
            raise ImportError(
                "Study.to_dataframe() needs pandas, which is not installed (pip install "
                "pandas, or apt install python3-pandas); Study.trials_as_dicts() gives the "
                "same rows as plain dicts") from e
        rows = self.trials_as_dicts(state)
        columns = list(rows[0]) if rows else ["id", "state", "client_id", "start_time",
                                              "end_time", "infeasible_reason"]
        df = pandas.DataFrame(rows, columns=columns)
        for col in ("start_time", "end_time"):
            df[col] = pandas.to_datetime(df[col], utc=True)
        return df


def _all_parameters(specs):
    """Every ParameterSpec, conditional children after their parent."""
    out = []
    for p in specs:
        out.append(p)
        for child in p.get("conditionalParameterSpecs", []):
            out += _all_parameters([child.get("parameterSpec", {})])
    return [p for p in out if "parameterId" in p]


class Trial:
    """A trial: .name, .id (int), .state, .parameters ({parameterId: value}),
    .final_measurement ({metric: value} or None), .measurements, .client_id,
    .metadata ({key: value}), .raw (the JSON dict)."""

    def __init__(self, client, data):
        self.client = client
        self._set(data)

    def _set(self, data):
        self.raw = data
        self.name = data["name"]
        self.owner, self.study_id, tid = _split_name(self.name, "trial")
        self.id = int(data.get("id", tid))
        self.state = data.get("state")
        self.parameters = {p["parameterId"]: p.get("value") for p in data.get("parameters", [])}
        fm = data.get("finalMeasurement")
        self.final_measurement = (
            {m["metricId"]: m.get("value") for m in fm.get("metrics", [])} if fm else None)
        self.measurements = data.get("measurements", [])
        self.client_id = data.get("clientId")
        self.start_time = data.get("startTime")  # RFC 3339 text, or None
        self.end_time = data.get("endTime")
        self.infeasible_reason = data.get("infeasibleReason")
        self.suggestion_info = data.get("suggestionInfo")
        self.metadata = dict(data.get("metadata", {}))

    def __repr__(self):
        return "<Trial %s %s %r>" % (self.name, self.state, self.parameters)

    def refresh(self):
        """Reloads the trial; returns self."""
        self._set(self.client.request(
            "GET", self.client._trial_path(self.owner, self.study_id, self.id)))
        return self

    def complete(self, metrics=None, infeasible=False, reason=None):
        """Completes the trial with {metric: value}, or infeasible=True (with a
        reason). Updates and returns self."""
        t = self.client.complete_trial(self.owner, self.study_id, self.id, metrics, infeasible,
                                       reason)
        self._set(t.raw)
        return self

    def add_measurement(self, metrics, step=None, elapsed=None):
        """Reports {metric: value} at a training step; returns self."""
        t = self.client.add_trial_measurement(self.owner, self.study_id, self.id, metrics, step,
                                              elapsed)
        self._set(t.raw)
        return self

    def heartbeat(self, client_id=None):
        """Renews the trial's lease as its worker (client_id, by default the
        worker it was suggested to) and reloads it; returns self. Call it
        every staleTrialTimeout/3 or so while training without reporting.
        Afterwards, check .state: anything other than ACTIVE or STOPPING
        means the server gave the trial up (or settled it) and training for
        it should stop; STOPPING means someone asked it to stop."""
        cid = self.client_id if client_id is None else client_id
        if not cid:
            raise ValueError("heartbeat needs a client id: the trial has none")
        self._set(self.client.get_trial(self.owner, self.study_id, self.id, cid).raw)
        return self

    def set_metadata(self, metadata=None, **kv):
        """Merges metadata ({key: value}, or keyword arguments) into the
        trial's, e.g. trial.set_metadata(checkpoint="/ck/7"): None deletes a
        key. Updates and returns self."""
        self._set(self.client.set_trial_metadata(self.owner, self.study_id, self.id,
                                                 dict(metadata or {}, **kv)).raw)
        return self

    def should_stop(self):
        """True when the study's early-stopping rule says to give up on this trial."""
        return self.client.check_trial_early_stopping_state(self.owner, self.study_id, self.id)

    def stop(self):
        """Moves the trial to STOPPING; returns self."""
        self._set(self.client.stop_trial(self.owner, self.study_id, self.id).raw)
        return self

    def delete(self):
        """Deletes the trial."""
        return self.client.delete_trial(self.owner, self.study_id, self.id)
