"""Shared by the benchmark scripts: find and start sibyld, get a client."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "client", "python"))
sys.path.insert(0, os.path.join(ROOT, "tests", "python"))

import sibyl_client as sc  # noqa: E402
from harness import Daemon, DaemonFailed  # noqa: E402,F401


def find_sibyld(explicit=None):
    """--sibyld, else $SIBYLD, else build-release/server/sibyld, else
    build/server/sibyld."""
    if explicit:
        return explicit
    if os.environ.get("SIBYLD"):
        return os.environ["SIBYLD"]
    release = os.path.join(ROOT, "build-release", "server", "sibyld")
    if os.access(release, os.X_OK):
        return release
    plain = os.path.join(ROOT, "build", "server", "sibyld")
    if os.access(plain, os.X_OK):
        return plain
    sys.exit("no sibyld found: build it (meson setup build-release -Dbuildtype=release && "
             "ninja -C build-release) or pass --sibyld PATH")


def add_server_args(ap):
    ap.add_argument("--sibyld", help="sibyld binary to start on a fresh database "
                    "(default: build-release/server/sibyld)")
    ap.add_argument("--url", help="use a running sibyld instead of starting one")
    ap.add_argument("--key", help="with --url: an admin key, or a WRITER key of --owner")
    ap.add_argument("--owner", default="bench", help="owner of the benchmark studies")
    ap.add_argument("--daemon-arg", action="append", default=[],
                    help="extra sibyld argument (repeatable), e.g. --daemon-arg=--threads=4")


def open_server(args):
    """Returns (daemon or None, url, key) with a key that may write --owner's
    studies. Starts a daemon on a fresh database unless --url was given."""
    daemon = None
    if args.url:
        if not args.key:
            sys.exit("--url needs --key")
        url, key = args.url, args.key
    else:
        path = find_sibyld(args.sibyld)
        daemon = Daemon(sibyld=path, args=args.daemon_arg).start()
        url, key = daemon.url, daemon.admin_key
        print("# sibyld %s on %s, fresh database %s (ready in %.2f s)"
              % (path, url, daemon.db_path, daemon.startup_seconds), file=sys.stderr)
    admin = sc.Client(url, key)
    try:
        admin.create_owner(args.owner)
    except sc.AlreadyExists:
        pass
    except (sc.PermissionDenied, sc.Unauthenticated):
        pass  # a WRITER key of an existing owner
    except sc.Unimplemented:
        return daemon, url, key  # no owners yet: a study creates its owner
    try:
        key = admin.create_api_key(args.owner, "WRITER", display_name="bench")["key"]
    except sc.SibylError:
        pass  # keep the given key
    return daemon, url, key


def stop_server(daemon):
    if daemon is None:
        return
    try:
        daemon.stop()
    except DaemonFailed as e:
        print("# warning: %s" % e, file=sys.stderr)


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    if n == 0:
        return float("nan")
    return xs[n // 2] if n % 2 else 0.5 * (xs[n // 2 - 1] + xs[n // 2])


def percentile(xs, q):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    i = min(len(xs) - 1, max(0, int(round(q / 100.0 * (len(xs) - 1)))))
    return xs[i]
