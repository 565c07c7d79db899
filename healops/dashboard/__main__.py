"""``python -m healops.dashboard``: serve the dashboard on 127.0.0.1 and print where it is.

Started by ``healops up`` (a managed process, stopped by ``healops down``). The write token is
taken from ``--token-file`` when that file exists, otherwise generated and written there (0600); the
session secret likewise from the file beside it (``dashboard.secret``), so a restart keeps users signed in.
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import signal
import sys
from pathlib import Path

from healops.readiness import DASHBOARD_READY

READY_LINE = DASHBOARD_READY
# The dashboard serves one person's machine: loopback only, whatever the caller asks.
ALLOWED_HOSTS = ("127.0.0.1", "localhost", "::1")


def ensure_secret(path: Path, nbytes: int = 24) -> str:
    """The secret kept in ``path``; a new random one written there first (0600) when there is none."""
    if path.is_file() and path.read_text().strip():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(nbytes)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fp:
        fp.write(value + "\n")
    return value


def session_secret_file(token_file: Path) -> Path:
    """Where the session-signing secret is kept: beside the write token."""
    return token_file.with_suffix(".secret")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m healops.dashboard", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", choices=ALLOWED_HOSTS, help="loopback address to bind")
    parser.add_argument("--port", type=int, default=8050, help="port (0: a free one); default 8050")
    parser.add_argument("--endpoint", default=os.environ.get("AWS_ENDPOINT_URL"), help="AWS endpoint (local stack)")
    parser.add_argument("--name-prefix", default="healops", help="the stack's name_prefix")
    parser.add_argument("--token-file", type=Path, required=True, help="where the write token is kept")
    parser.add_argument("--time-scale", type=float, default=1.0, help="the stack's time scale (charts: a point a tick)")
    args = parser.parse_args(argv)

    from werkzeug.serving import make_server

    from healops.dashboard import create_app

    token = ensure_secret(args.token_file)
    if args.time_scale <= 0:
        parser.error(f"--time-scale must be a positive number, got {args.time_scale:g}")
    session_secret = ensure_secret(session_secret_file(args.token_file), nbytes=32)
    config = {"ENDPOINT_URL": args.endpoint, "NAME_PREFIX": args.name_prefix, "WRITE_TOKEN": token}
    config["SECRET_KEY"] = session_secret
    app = create_app({**config, "TIME_SCALE": args.time_scale})
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    from healops.logs import redact_root_log_handlers

    redact_root_log_handlers()  # what it logs may quote a request or a table
    server = make_server(args.host, args.port, app, threaded=True)

    def stop(_signum: int, _frame: object) -> None:
        # serve_forever runs in this thread: leave it through SystemExit, then close the socket.
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    print(f"{READY_LINE} http://{args.host}:{server.server_port}/", flush=True)
    try:
        server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
