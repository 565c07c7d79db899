"""The embedded cloud's own errors: a taken port, a bad time scale."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from healops.local import EmbeddedCloud, EmbeddedContext, PortInUseError
from healops.local.server import main


def test_taken_port_raises_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        cloud = EmbeddedCloud(EmbeddedContext(port=port, state_dir=tmp_path), extensions=[])
        with pytest.raises(PortInUseError, match="already in use"):
            cloud.start()


def test_non_positive_time_scale_is_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        EmbeddedContext(time_scale=0)


def test_server_main_exits_non_zero_on_bad_time_scale(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--time-scale", "-1", "--port", "1"]) == 2
    assert "time_scale must be a positive number" in capsys.readouterr().err
