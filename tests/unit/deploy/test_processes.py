"""Pid-file tracking: `healops down` stops exactly what `up` started."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from healops.deploy.errors import DeployError
from healops.deploy.processes import ManagedProcess, port_is_free, start_server


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
