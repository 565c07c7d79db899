"""A local HTTP receiver for the notification sinks' tests: Slack's, PagerDuty's and a webhook's wire format are
all a JSON POST answered with a status, so one stub serves each (tests/integration/notify, tests/e2e)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Stub:
    """A receiver: records each request, answers what the first rule says (a rule sees the body; None passes it
    on), else the statuses queued, then ``default``. Rules let a test fail one incident's requests only, on a
    receiver other tests' incidents reach too."""

    url: str
    rules: list[Callable[[bytes], int | None]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    default: int = 200
    requests: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def bodies(self) -> list[dict[str, Any]]:
        with self.lock:
            return [json.loads(r["body"]) for r in self.requests]

    def answer(self, request: dict[str, Any]) -> int:
        with self.lock:
            self.requests.append(request)
            for rule in self.rules:
                status = rule(request["body"])
                if status is not None:
                    return status
            return self.statuses.pop(0) if self.statuses else self.default

    def about(self, incident_id: str) -> list[dict[str, Any]]:
        """The requests whose body names ``incident_id``, in order."""
        with self.lock:
            return [r for r in self.requests if incident_id.encode() in r["body"]]


@contextmanager
def stub_receiver(path: str = "/hook") -> Iterator[Stub]:
    holder: list[Stub] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            # HTTP header names are case-insensitive (urllib sends "X-healops-signature"): keep the Message.
            status = holder[0].answer({"path": self.path, "headers": self.headers, "body": body})
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    holder.append(Stub(url=f"http://127.0.0.1:{server.server_address[1]}{path}"))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield holder[0]
    finally:
        server.shutdown()
        server.server_close()
