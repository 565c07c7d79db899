"""Pid-file tracking: `healops down` stops exactly what `up` started."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from healops.deploy.errors import DeployError
from healops.deploy.processes import ManagedProcess, port_holder, port_is_free, start_server


def test_port_in_use_is_detected() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        assert not port_is_free("127.0.0.1", port)


def test_a_pid_that_is_not_ours_is_never_stopped(tmp_path: Path) -> None:
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        managed = ManagedProcess("server", tmp_path, "healops.local.server")
        managed.pid_file.write_text(str(other.pid))
        assert managed.running() is None
        assert managed.stop() is False
        assert other.poll() is None
    finally:
        other.kill()
        other.wait()


def test_our_process_is_stopped(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", "marker-xyz"])
    managed = ManagedProcess("thing", tmp_path, "marker-xyz")
    managed.pid_file.write_text(str(proc.pid))
    assert managed.running() is not None
    assert managed.stop(timeout=5) is True
    assert proc.wait(5) is not None
    assert not managed.pid_file.exists()


def test_start_server_refuses_a_taken_port_and_leaves_nothing(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with pytest.raises(DeployError, match=f"port {port} .* already in use"):
            start_server(tmp_path, "127.0.0.1", port, 1.0)
    assert not (tmp_path / "server.pid").exists()


def _time_wait_on(port: int) -> bool:
    return any(
        c.status == psutil.CONN_TIME_WAIT and c.laddr and c.laddr.port == port
        for c in psutil.net_connections(kind="tcp")
    )


def test_our_own_connections_closing_in_time_wait_do_not_hold_the_port() -> None:
    # A server that closes its side first (as an HTTP server does) leaves TIME_WAIT on its own port.
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = listener.accept()
    accepted.close()
    client.recv(1)  # the server's FIN reached the client
    client.close()
    listener.close()
    assert _time_wait_on(port), "the set-up must leave a connection in TIME_WAIT on the port"
    assert port_holder("127.0.0.1", port) is None
    assert port_is_free("127.0.0.1", port)


def test_a_listener_of_another_program_is_named_with_its_pid() -> None:
    code = "import socket, sys, time; s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()\n"
    code += "print(s.getsockname()[1], flush=True); time.sleep(30)"
    other = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout is not None
        port = int(other.stdout.readline())
        holder = port_holder("127.0.0.1", port)
        assert holder is not None and f"pid {other.pid}" in holder and "python" in holder
        with pytest.raises(
            DeployError, match=rf"port {port} on 127.0.0.1 is already in use by python.*pid {other.pid}"
        ):
            start_server(Path("/nonexistent-state"), "127.0.0.1", port, 1.0)
    finally:
        other.kill()
        other.wait()


def test_the_process_tracking_imports_neither_the_embedded_cloud_nor_the_dashboard() -> None:
    # `healops status` reads pid files through it; the embedded cloud needs the local extra (moto), the
    # dashboard flask: the ready lines it waits for live apart (healops/readiness.py).
    probe = (
        "import sys, healops.deploy.processes; "
        "print(sorted(m for m in sys.modules if m.startswith(('healops.local', 'healops.dashboard', 'moto'))))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]", loaded
