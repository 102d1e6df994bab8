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

Retries: calls that are safe to repeat (GET, DELETE, create-or-load study,
lookup, complete, early-stopping check, list optimal trials, and suggest when
it carries a clientId, since the server hands a client its own ACTIVE trial
back) are retried with exponential backoff on connection errors and on 503
UNAVAILABLE. Other calls (create trial, measurements, suggest without a
clientId) are sent once, so that a retry can never create a second trial.

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
import random
import socket
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


# ---------------------------------------------------------------- client

class Client:
    """A connection to one sibyld with one API key.

    Args:
        url:     the server's base URL, e.g. "http://127.0.0.1:8080"
        key:     an API key (admin, WRITER or READER); None sends no key
        timeout: seconds to wait for each answer (suggest on a large GP study
                 can take a second or more; the default leaves room)
        retries: how many times a call that is safe to repeat is retried
        backoff: the first retry's delay in seconds; it doubles, with jitter
        ssl_context: an ssl.SSLContext for https URLs (default: the system's
                 trusted CAs, certificates verified)
    """

    def __init__(self, url, key=None, timeout=60.0, retries=5, backoff=0.1, ssl_context=None):
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError("url must be http://HOST:PORT or https://HOST:PORT, not %r" % url)
        self.url = url.rstrip("/")
        self.key = key
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self._https = parsed.scheme == "https"
        self._host = parsed.hostname
        self._port = parsed.port or (443 if self._https else 80)
        self._prefix = parsed.path.rstrip("/")
        self._ssl_context = ssl_context
        self._local = threading.local()

    # -- transport

    def _connection(self):
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if self._https:
                conn = http.client.HTTPSConnection(self._host, self._port, timeout=self.timeout,
                                                   context=self._ssl_context)
            else:
                conn = http.client.HTTPConnection(self._host, self._port, timeout=self.timeout)
            self._local.conn = conn
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

    def _send_once(self, method, path, data, headers):
        """One exchange. Returns (status, body bytes, headers) or raises OSError /
        http.client.HTTPException. A connection the server closed while idle is
        reopened once: the request never reached the server then."""
        for attempt in (0, 1):
            conn = self._connection()
            reused = self._local.used
            try:
                conn.request(method, self._prefix + path, body=data, headers=headers)
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
        on connection errors and 503. Raises a SibylError subclass."""
        if idempotent is None:
            idempotent = method in ("GET", "DELETE")
        headers = {"Accept": "application/json"}
        if self.key:
            headers["Authorization"] = "Bearer " + self.key
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        attempts = 1 + (self.retries if idempotent else 0)
        delay = self.backoff
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                status, raw, resp_headers = self._send_once(method, path, data, headers)
            except (OSError, http.client.HTTPException, socket.timeout) as e:
                if last:
                    raise ConnectionFailed(0, "UNAVAILABLE", "%s %s%s: %s" % (
                        method, self.url, path, e or type(e).__name__)) from e
                time.sleep(delay * (0.5 + random.random()))
                delay *= 2
                continue
            if 200 <= status < 300:
                if not raw:
                    return {}
                try:
                    return json.loads(raw.decode("utf-8"))
                except (ValueError, UnicodeDecodeError) as e:
                    raise SibylError(status, "INTERNAL", "answer is not JSON: %r" % raw[:200]) from e
            if status == 503 and not last:
                wait = delay * (0.5 + random.random())
                after = resp_headers.get("Retry-After")
                if after and after.isdigit():
                    wait = max(wait, min(float(after), 30.0))
                time.sleep(wait)
                delay *= 2
                continue
            raise error_from_response(status, raw)
        raise AssertionError("unreachable")

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
        """GET /metrics: the Prometheus text, as a str."""
        status, raw, _ = self._send_once("GET", "/metrics", None, {})
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
        data = self.request("POST", self._trial_path(owner_id, study_id, trial_id)
                            + ":addTrialMeasurement", body)
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
        data = self.request("POST", self._trial_path(owner_id, study_id, trial_id) + ":stop", {})
        return Trial(self, data)

    def list_optimal_trials(self, owner_id, study_id):
        """The best trial, or the Pareto front with several objectives."""
        data = self.request("POST", self._study_path(owner_id, study_id)
                            + "/trials:listOptimalTrials", {}, idempotent=True)
        return [Trial(self, t) for t in data.get("optimalTrials", [])]

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
