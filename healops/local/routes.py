"""Extra HTTP routes on the embedded endpoint, ahead of moto's host-based dispatch.

moto's server is one WSGI callable, ``DomainDispatcherApplication``, that picks a backend
app from the Host header, the signature or the path. :func:`register_route` wraps its
``__call__`` once (at class level, so it applies to every server built afterwards, in any
EmbeddedCloud of this process) and answers registered ``(method, path)`` pairs itself;
every other request goes to moto unchanged. Any extension can register its own paths; use
the ``/_healops/<area>/...`` prefix, which no AWS API uses.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.wrappers import Request, Response

RouteHandler = Callable[[Request], Response]

_routes: dict[tuple[str, str], RouteHandler] = {}
_lock = threading.Lock()
_original_call: Callable[..., Any] | None = None


def json_response(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data, default=str), status=status, mimetype="application/json")


def register_route(path: str, handler: RouteHandler, methods: Iterable[str] = ("GET",)) -> None:
    """Answer ``methods`` on exactly ``path`` with ``handler``; registering again replaces it."""
    _install_dispatch_hook()
    with _lock:
        for method in methods:
            _routes[(method.upper(), path)] = handler


def _dispatch_with_routes(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
    handler = _routes.get((environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", "")))
    if handler is None:
        assert _original_call is not None
        return _original_call(self, environ, start_response)
    try:
        response = handler(Request(environ))
    except Exception as exc:  # a broken route answers 500, never takes the server down
        response = json_response({"error": f"{type(exc).__name__}: {exc}"}, status=500)
    return response(environ, start_response)


def _install_dispatch_hook() -> None:
    global _original_call
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    with _lock:
        if _original_call is not None:
            return
        _original_call = DomainDispatcherApplication.__call__
        DomainDispatcherApplication.__call__ = _dispatch_with_routes  # type: ignore[method-assign]
