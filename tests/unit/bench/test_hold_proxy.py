"""The chaos bench's holding proxy: everything passes through; the first fleet write of a chosen service reaches
the cloud and its answer comes back only after the hold (the remediator's worker is gone by then)."""

from __future__ import annotations

import http.client
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from healops.bench.hold_proxy import HoldingProxy, written_services

FLEET = "healops-fleet"


@pytest.fixture
def upstream() -> Iterator[tuple[str, list[dict]]]:
    """A stand-in for the cloud's endpoint: records each request's target, body and host, answers 200."""
    seen: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            seen.append(
                {"target": self.headers["X-Amz-Target"], "body": json.loads(body), "host": self.headers["Host"]}
            )
            answer = b"{}"
            self.send_response(200)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


def put(service: str, table: str = FLEET) -> tuple[str, dict]:
    return "DynamoDB_20120810.PutItem", {"TableName": table, "Item": {"service": {"S": service}}}


def transact(service: str) -> tuple[str, dict]:
    update = {"Update": {"TableName": "healops-injections", "Key": {"injection_id": {"S": "i-1"}}}}
    return "DynamoDB_20120810.TransactWriteItems", {
        "TransactItems": [{"Put": {"TableName": FLEET, "Item": {"service": {"S": service}}}}, update]
    }


def call(url: str, request: tuple[str, dict], timeout: float) -> int:
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        connection.request("POST", "/", body=json.dumps(request[1]), headers={"X-Amz-Target": request[0]})
        return connection.getresponse().status
    finally:
        connection.close()


def test_written_services_reads_puts_and_transactions_of_the_fleet_table_only():
    assert written_services(*put("checkout-1"), FLEET) == {"checkout-1"}
    assert written_services(*transact("checkout-1"), FLEET) == {"checkout-1"}
    assert written_services(*put("checkout-1", table="healops-incidents"), FLEET) == set()


def test_the_first_fleet_write_of_a_chosen_service_is_made_and_its_answer_held(upstream):
    url, seen = upstream
    with HoldingProxy(url, FLEET, {"checkout-1"}, hold_s=3.0) as proxy:
        assert call(proxy.url, put("search-1"), timeout=2) == 200  # another service: at once
        with pytest.raises(socket.timeout):
            call(proxy.url, transact("checkout-1"), timeout=1)  # the caller gives up first
        assert [s["target"].split(".")[-1] for s in seen] == ["PutItem", "TransactWriteItems"]  # yet it was made
        # The embedded cloud answers only requests addressed to its own host and port.
        assert {s["host"] for s in seen} == {url.removeprefix("http://")}
        assert call(proxy.url, transact("checkout-1"), timeout=2) == 200  # only the first is held
        assert [(h.service, h.operation) for h in proxy.held] == [("checkout-1", "TransactWriteItems")]
