"""A threaded HTTP server on a free 127.0.0.1 port, served from a daemon thread while its context is open: what the
benches' local stand-ins (the LLM stub, the holding proxy) run on."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self


class LoopbackServer:
    """``with Sub(...) as server:`` serves ``handler`` at ``server.url`` until the block ends."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], thread_name: str) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name=thread_name, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
