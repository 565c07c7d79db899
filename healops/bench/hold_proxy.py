"""A pass-through proxy in front of the embedded cloud that makes the remediator time out mid-action.

``healops bench chaos``'s ``remediator_timeout`` scenario points the remediator's DynamoDB client at
:class:`HoldingProxy` (``AWS_ENDPOINT_URL_DYNAMODB``, which boto3 reads before ``AWS_ENDPOINT_URL``). Every
request is forwarded at once and answered as the cloud answered it, but for the first write of the fleet table
that changes one of the chosen services (``PutItem`` or ``TransactWriteItems``, the fleet adapter's act): that
write reaches the table, and its answer is held past the function's timeout. The runtime kills the worker, the
state machine's Act step fails and is retried: the action took effect and the function never learnt it, the
middle of an action. Nothing in Heal-Ops knows of the proxy; the bench reads what Heal-Ops recorded.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

from healops.bench.loopback_server import LoopbackServer

WRITES = ("DynamoDB_20120810.PutItem", "DynamoDB_20120810.TransactWriteItems")
# Hop-by-hop headers: the proxy's own connection to each side, never forwarded.
HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade", "te"})


@dataclass(frozen=True)
class Held:
    service: str
    operation: str
    at: float  # epoch seconds the write's answer came back from the cloud and was held


def written_services(target: str, body: dict[str, Any], table: str) -> set[str]:
    """The services a DynamoDB write of ``table`` changes (the fleet table's key is ``service``)."""
    if target.endswith(".PutItem"):
        puts = [body] if body.get("TableName") == table else []
    else:
        puts = [i["Put"] for i in body.get("TransactItems", []) if i.get("Put", {}).get("TableName") == table]
    return {str(p.get("Item", {}).get("service", {}).get("S", "")) for p in puts} - {""}


class HoldingProxy(LoopbackServer):
    """Forwards to ``upstream``; holds the answer of the first fleet-table write of each of ``services`` for
    ``hold_s`` seconds. ``held`` lists those writes. Use as a context manager (``url`` while running)."""

    def __init__(self, upstream: str, fleet_table: str, services: set[str], hold_s: float) -> None:
        self.upstream = urlsplit(upstream)
        self.fleet_table = fleet_table
        self.hold_s = hold_s
        self.held: list[Held] = []
        self._waiting = set(services)
        self._lock = threading.Lock()
        super().__init__(self._handler(), "hold-proxy")

    def _to_hold(self, target: str, raw: bytes) -> str | None:
        if target not in WRITES:
            return None
        try:
            services = written_services(target, json.loads(raw or b"{}"), self.fleet_table)
        except ValueError:
            return None
        with self._lock:
            chosen = sorted(services & self._waiting)
            if not chosen:
                return None
            self._waiting.discard(chosen[0])
            return chosen[0]

    def _forward(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, list, bytes]:
        connection = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=120)
        try:
            connection.request(method, path, body=raw, headers=headers)
            response = connection.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            connection.close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _relay(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP | {"host"}}
                headers["Host"] = proxy.upstream.netloc  # the embedded cloud answers only its own host and port
                status, answer_headers, answer = proxy._forward(self.command, self.path, headers, raw)
                service = proxy._to_hold(self.headers.get("X-Amz-Target", ""), raw)
                if service is not None:
                    # Written; the answer waits until the function that asked is gone.
                    proxy.held.append(Held(service, self.headers["X-Amz-Target"].split(".")[-1], time.time()))
                    time.sleep(proxy.hold_s)
                try:
                    self.send_response(status)
                    for name, value in answer_headers:
                        if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                            self.send_header(name, value)
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except OSError:
                    self.close_connection = True  # the caller was killed while its answer was held

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _relay

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler
