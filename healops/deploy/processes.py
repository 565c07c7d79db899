"""The processes ``healops up`` starts, tracked by pid files so ``down`` stops exactly those."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psutil

from healops.deploy.errors import DeployError
from healops.readiness import DASHBOARD_READY, EMBEDDED_CLOUD_READY

logger = logging.getLogger(__name__)

SERVER_MODULE = "healops.local"
SERVER_MARKER = SERVER_MODULE


@dataclass(frozen=True)
class ManagedProcess:
    """A process of ours: its pid file, its log, and a marker its command line must carry."""

    name: str
    state_dir: Path
    marker: str

    @property
    def pid_file(self) -> Path:
        return self.state_dir / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return self.state_dir / f"{self.name}.log"

    def running(self) -> psutil.Process | None:
        """The live process the pid file names, if it is still ours (pids get reused)."""
        try:
            pid = int(self.pid_file.read_text().strip())
            proc = psutil.Process(pid)
            if proc.status() != psutil.STATUS_ZOMBIE and self.marker in " ".join(proc.cmdline()):
                return proc
        except (FileNotFoundError, ValueError, psutil.Error):
            pass
        return None

    def stop(self, timeout: float = 60.0) -> bool:
        """SIGTERM (the cloud saves its state then), SIGKILL after ``timeout``; True if something was stopped."""
        proc = self.running()
        stopped = False
        if proc is not None:
            with contextlib.suppress(psutil.Error):
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout)
                except psutil.TimeoutExpired:
                    logger.warning("%s (pid %s) did not stop in %ss: killing it", self.name, proc.pid, timeout)
                    proc.kill()
                    proc.wait(5)
                stopped = True
        self.pid_file.unlink(missing_ok=True)
        return stopped

    def launch(self, args: list[str], ready: Callable[[str], str | None], timeout: float, what: str) -> str:
        """Start ``python -m <args>`` in its own session, logging to :attr:`log_file`; wait until
        ``ready`` finds its ready line in the log and return what ``ready`` returned. On exit or
        timeout nothing is left running and the error shows the log's tail."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("w") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", *args],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        self.pid_file.write_text(str(proc.pid))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.log_file.read_text(errors="replace").splitlines():
                found = ready(line)
                if found is not None:
                    return found
            if proc.poll() is not None:
                break
            time.sleep(0.1)
        self.stop()
        lines = self.log_file.read_text(errors="replace").splitlines()
        # A refusal the process explained itself (a taken port, a snapshot it will not load) is that one line.
        refusal = next((line for line in reversed(lines) if line.startswith("error: ")), None)
        if refusal is not None:
            raise DeployError(f"{what} did not start: {refusal.removeprefix('error: ')}")
        tail = "\n".join(lines[-20:])
        raise DeployError(f"{what} did not start (log: {self.log_file}):\n{tail}")


def port_is_free(host: str, port: int) -> bool:
    return port_holder(host, port) is None


def port_holder(host: str, port: int) -> str | None:
    """None when a server could listen on ``host:port`` now; otherwise who holds it, in words.

    The check binds as our servers do, with ``SO_REUSEADDR`` (werkzeug's servers set it): our own
    connections closing in TIME_WAIT after ``healops down`` do not stop them listening, so they must
    not stop the check either (without it, ``down`` then ``up`` failed for about a minute).
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return listener_of(port) or f"another program (`ss -ltnp 'sport = :{port}'` shows which)"
    return None


def listener_of(port: int) -> str | None:
    """The program listening on TCP ``port`` on any address (``name (pid N)``), if it can be seen."""
    try:
        connections = psutil.net_connections(kind="tcp")
    except (psutil.Error, OSError):  # another user's sockets may be hidden from us
        return None
    for conn in connections:
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port:
            if conn.pid is None:
                return None
            try:
                proc = psutil.Process(conn.pid)
                command = " ".join(proc.cmdline())[:120] or proc.name()
            except psutil.Error:
                return f"pid {conn.pid}"
            return f"{proc.name()} (pid {conn.pid}: {command})"
    return None


def port_taken_message(host: str, port: int, holder: str, option: str) -> str:
    return f"port {port} on {host} is already in use by {holder}: stop it, or choose another port with {option}"


def server_process(state_dir: Path) -> ManagedProcess:
    return ManagedProcess("server", state_dir, SERVER_MARKER)


def snapshot_dir(state_dir: Path) -> Path:
    """Where the embedded cloud keeps its state across restarts (healops.local.persistence)."""
    return state_dir / "state"


def start_server(
    state_dir: Path,
    host: str,
    port: int,
    time_scale: float,
    timeout: float = 60.0,
    allow_remote: bool = False,
    snapshot_every: float | None = None,
) -> int:
    """Start the embedded cloud in its own session (Ctrl-C in the terminal is ours to forward).

    ``snapshot_every``: keep the state in :func:`snapshot_dir` (restored at start, saved every so
    many seconds and at stop; 0: at stop only); None keeps nothing. Returns its pid once it prints
    its ready line; on failure (a snapshot it refuses among them) nothing is left running.
    """
    managed = server_process(state_dir)
    if managed.running() is not None:
        raise DeployError(
            f"an embedded cloud started by Heal-Ops is already running (pid {managed.running().pid}); "  # type: ignore[union-attr]
            "run `healops down` first, or `healops status` to see it"
        )
    holder = port_holder(host, port)
    if holder is not None:
        raise DeployError(port_taken_message(host, port, holder, "--port"))
    args = [SERVER_MODULE, "--host", host, "--port", str(port), "--time-scale", str(time_scale)]
    args += ["--state-dir", str(state_dir / "cloud")] + (["--allow-remote"] if allow_remote else [])
    if snapshot_every is not None:
        args += ["--snapshot-dir", str(snapshot_dir(state_dir)), "--snapshot-every", repr(snapshot_every)]
    managed.launch(args, lambda line: line if EMBEDDED_CLOUD_READY in line else None, timeout, "the embedded cloud")
    return int(managed.pid_file.read_text())


DASHBOARD_MODULE = "healops.dashboard"


def dashboard_process(state_dir: Path) -> ManagedProcess:
    return ManagedProcess("dashboard", state_dir, DASHBOARD_MODULE)


def dashboard_token_file(state_dir: Path) -> Path:
    return state_dir / "dashboard.token"


def start_dashboard(
    state_dir: Path, port: int, endpoint_url: str, timeout: float = 30.0, time_scale: float = 1.0
) -> str:
    """Start the dashboard on 127.0.0.1:``port`` (0: a free port); returns its URL once it listens."""
    managed = dashboard_process(state_dir)
    if managed.running() is not None:
        raise DeployError("a dashboard started by Heal-Ops is already running: run `healops down` first")
    holder = port_holder("127.0.0.1", port) if port else None
    if holder is not None:
        raise DeployError(port_taken_message("127.0.0.1", port, holder, "--dashboard-port"))
    args = [DASHBOARD_MODULE, "--port", str(port), "--endpoint", endpoint_url]
    args += ["--token-file", str(dashboard_token_file(state_dir)), "--time-scale", repr(time_scale)]

    def listening_url(line: str) -> str | None:
        return line[len(DASHBOARD_READY) :].strip() if line.startswith(DASHBOARD_READY) else None

    return managed.launch(args, listening_url, timeout, "the dashboard")
