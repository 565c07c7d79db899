"""Run moto's server with Heal-Ops' extensions, in process or as ``python -m``."""

from __future__ import annotations

import argparse
import errno
import logging
import os
import signal
import socket
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from healops.local import routes
from healops.local.context import EmbeddedContext
from healops.local.local_only import (
    LocalOnly,
    LocalOnlyPolicy,
    check_bind_host,
    is_loopback,
    remote_exposure,
)
from healops.local.persistence import SnapshotError, SnapshotReport, StatePersistence
from healops.readiness import EMBEDDED_CLOUD_NOT_SAVED, EMBEDDED_CLOUD_READY

if TYPE_CHECKING:
    from werkzeug.serving import BaseWSGIServer
    from werkzeug.wrappers import Request, Response

    from healops.local.base import Extension

logger = logging.getLogger(__name__)

READY_LINE = EMBEDDED_CLOUD_READY
HEALTH_PATH = "/_healops/health"
STATE_PATH = "/_healops/state"
RESTORED_LINE = "healops-embedded-cloud restored"


class PortInUseError(RuntimeError):
    """The endpoint's port is taken by another process."""


def _report(report: SnapshotReport | None) -> dict[str, object] | None:
    if report is None:
        return None
    return {
        "path": str(report.path),
        "size_bytes": report.size_bytes,
        "seconds": round(report.total_s, 3),
        "created_at": report.created_at,
    }


def _configure_moto(ctx: EmbeddedContext) -> str | None:
    """Configure moto for this cloud; returns the MOTO_PORT it replaced, for ``stop`` to restore."""
    previous_port = os.environ.get("MOTO_PORT")
    # moto builds callbacks (Step Functions' Lambda tasks among them) to MOTO_PORT.
    os.environ["MOTO_PORT"] = str(ctx.port)
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
    from moto.core.config import default_user_config
    from moto.moto_server import werkzeug_app

    # No CORS headers from moto (read once at import, so set on the module too); LocalOnly refuses cross-origin.
    os.environ["MOTO_DISABLE_GLOBAL_CORS"] = "true"
    werkzeug_app.DISABLE_GLOBAL_CORS = True

    # Step Functions only runs executions (in its ASL parser backend) with this switch on.
    default_user_config["stepfunctions"]["execute_state_machine"] = True
    # Lambda runs through healops.local.awslambda, never Docker.
    default_user_config["lambda"]["use_docker"] = False
    return previous_port


def free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class EmbeddedCloud:
    """moto's threaded server plus the extensions, started and stopped as one.

    ``port=0`` picks a free port (tests). Usable as a context manager.
    """

    def __init__(
        self,
        ctx: EmbeddedContext | None = None,
        extensions: list[Extension] | None = None,
        allow_remote: bool = False,
    ) -> None:
        self.ctx = ctx or EmbeddedContext()
        check_bind_host(self.ctx.host, allow_remote)
        self._policy = LocalOnlyPolicy(port=self.ctx.port or 0, allow_remote=allow_remote)
        if self.ctx.port == 0:
            self.ctx.port = free_port(self.ctx.host)
            self._policy = LocalOnlyPolicy(port=self.ctx.port, allow_remote=allow_remote)
        self._extensions = extensions
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._started: list[Extension] = []
        self._previous_moto_port: str | None = None
        self.persistence: StatePersistence | None = None
        self.restored: SnapshotReport | None = None
        # Why the snapshot at stop could not be written (None: it was, or nothing is kept).
        self.save_error: str | None = None

    @property
    def endpoint_url(self) -> str:
        return self.ctx.endpoint_url

    @property
    def extensions(self) -> list[Extension]:
        return list(self._started)

    def start(self) -> EmbeddedCloud:
        from moto.moto_server.threaded_moto_server import MotoRequestHandler
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
        from werkzeug.serving import make_server

        from healops.local import extensions as registry

        self._previous_moto_port = _configure_moto(self.ctx)
        # werkzeug logs every request at INFO: far too much for a long-running endpoint.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self.ctx.state_dir.mkdir(parents=True, exist_ok=True)
        exts = self._extensions if self._extensions is not None else registry.load()
        for ext in exts:
            ext.install(self.ctx)
        if self.ctx.snapshot_dir is not None:
            # Before the first request: a refused snapshot (SnapshotError) stops the start here, and
            # is never overwritten (no persistence is kept to save at stop).
            persistence = StatePersistence(self.ctx.snapshot_dir, self.ctx.snapshot_interval)
            try:
                self.restored = persistence.restore()
            except BaseException:
                self.stop()
                raise
            self.persistence = persistence
        routes.register_route(HEALTH_PATH, self._health)
        routes.register_route(STATE_PATH, self._state)
        routes.register_route(STATE_PATH, self._save_state, methods=("POST",))
        app = LocalOnly(DomainDispatcherApplication(create_backend_app), self._policy)
        try:
            # werkzeug answers a taken port with a message and sys.exit(1): turn that into our error.
            self._server = make_server(
                self.ctx.host, self.ctx.port, app, threaded=True, request_handler=MotoRequestHandler
            )
        except (OSError, SystemExit) as exc:
            if isinstance(exc, SystemExit) or exc.errno == errno.EADDRINUSE:
                raise PortInUseError(
                    f"port {self.ctx.port} on {self.ctx.host} is already in use: stop what holds it "
                    f"(`healops down` if it is an earlier Heal-Ops, or see `ss -ltnp 'sport = :{self.ctx.port}'`) "
                    "or choose another port with --port"
                ) from exc
            raise
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto-server", daemon=True)
        self._thread.start()
        try:
            for ext in exts:
                ext.start(self.ctx)
                self._started.append(ext)
        except BaseException:
            self.stop()
            raise
        if self.persistence is not None:
            self.persistence.resume()
            self.persistence.start()
        logger.info("embedded cloud listening on %s", self.endpoint_url)
        return self

    def _health(self, _request: Request) -> Response:
        return routes.json_response(
            {
                "status": "running" if self._server is not None else "stopping",
                "time_scale": self.ctx.time_scale,
                "extensions": [getattr(ext, "name", type(ext).__name__) for ext in self._started],
            }
        )

    def _state(self, _request: Request) -> Response:
        """Where the state is kept, and the last snapshot taken or restored."""
        if self.persistence is None:
            return routes.json_response({"persistence": None})
        last = self.persistence.last
        return routes.json_response(
            {
                "persistence": str(self.persistence.directory),
                "interval_s": self.persistence.interval,
                "restored": _report(self.restored),
                "last_snapshot": _report(last),
            }
        )

    def _save_state(self, _request: Request) -> Response:
        """Take a snapshot now (tests, benchmarks, and anyone about to do something risky)."""
        if self.persistence is None:
            return routes.json_response({"error": "this cloud keeps no state (no snapshot directory)"}, status=409)
        return routes.json_response({"last_snapshot": _report(self.persistence.save())})

    def stop(self) -> None:
        self.ctx.stop_event.set()
        if self.persistence is not None:
            self.persistence.stop()
        for ext in reversed(self._started):
            try:
                ext.stop()
            except Exception:
                logger.exception("stopping extension %s failed", getattr(ext, "name", ext))
        self._started.clear()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
        if self.persistence is not None:
            # The last snapshot, once no request and no background loop changes the state any more.
            try:
                report = self.persistence.save()
                logger.info("state saved to %s (%d bytes) in %.2f s", report.path, report.size_bytes, report.total_s)
            except Exception as exc:
                logger.exception("saving the state at stop failed; the previous snapshot is kept")
                self.save_error = f"{type(exc).__name__}: {exc}"
            self.persistence = None
        # Another cloud in this process (tests run several in turn) gets its port back.
        if self._previous_moto_port is None:
            os.environ.pop("MOTO_PORT", None)
        else:
            os.environ["MOTO_PORT"] = self._previous_moto_port

    def __enter__(self) -> EmbeddedCloud:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    """Entry point of the server process that ``healops up`` starts."""
    parser = argparse.ArgumentParser(prog="python -m healops.local")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--allow-remote", action="store_true", help="listen on a non-loopback --host")
    parser.add_argument("--port", type=int, default=4566)
    parser.add_argument("--time-scale", type=float, default=1.0)
    parser.add_argument("--state-dir", type=Path, default=Path(".healops"))
    parser.add_argument("--snapshot-dir", type=Path, default=None, help="keep the state here across restarts")
    parser.add_argument("--snapshot-every", type=float, default=30.0, help="seconds between snapshots (0: at stop)")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=os.environ.get("HEALOPS_LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    from healops.logs import redact_root_log_handlers

    redact_root_log_handlers()  # its own lines may quote what it was sent
    try:
        ctx = EmbeddedContext(
            host=args.host,
            port=args.port,
            time_scale=args.time_scale,
            state_dir=args.state_dir,
            snapshot_dir=args.snapshot_dir,
            snapshot_interval=args.snapshot_every,
        )
        cloud = EmbeddedCloud(ctx, allow_remote=args.allow_remote)
    except ValueError as exc:  # a bad time scale or snapshot interval, or RemoteBindError
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.allow_remote and not is_loopback(args.host):
        print(remote_exposure(args.host, ctx.port), file=sys.stderr, flush=True)
    try:
        cloud.start()
    except PortInUseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    except SnapshotError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 4
    if cloud.restored is not None:
        print(f"{RESTORED_LINE} {cloud.restored.path}", flush=True)
    done = threading.Event()

    def _on_signal(signum: int, _frame: object) -> None:
        done.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    print(f"{READY_LINE} {cloud.endpoint_url}", flush=True)
    done.wait()
    cloud.stop()
    if cloud.save_error is not None:
        print(f"{EMBEDDED_CLOUD_NOT_SAVED} {cloud.save_error}", flush=True)
        return 5
    return 0


if __name__ == "__main__":
    sys.exit(main())
