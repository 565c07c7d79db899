"""`healops down` then `healops up` at once: the port our own closing connections leave in TIME_WAIT is free."""

from __future__ import annotations

import socket
from pathlib import Path

import psutil

from healops.deploy import health
from healops.deploy.processes import server_process, start_server
from healops.local.server import free_port


def test_the_cloud_restarts_at_once_on_the_port_it_just_left(tmp_path: Path) -> None:
    port = free_port("127.0.0.1")
    endpoint = f"http://127.0.0.1:{port}"
    start_server(tmp_path, "127.0.0.1", port, 1.0)
    # A client still connected when the server stops: the server closes first, so TIME_WAIT is on its port.
    connected = socket.create_connection(("127.0.0.1", port))
    try:
        assert health.endpoint_answers(endpoint)
        assert server_process(tmp_path).stop()
        connected.recv(1)
    finally:
        connected.close()
    assert any(
        c.status == psutil.CONN_TIME_WAIT and c.laddr.port == port for c in psutil.net_connections(kind="tcp")
    ), "the set-up must leave the old server's connections in TIME_WAIT"
    start_server(tmp_path, "127.0.0.1", port, 1.0)
    try:
        assert health.endpoint_answers(endpoint)
    finally:
        server_process(tmp_path).stop()
