"""The shape every embedded-cloud extension has."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from healops.local.context import EmbeddedContext

logger = logging.getLogger(__name__)


class Extension(Protocol):
    """An addition to moto's server.

    ``install`` runs once, before the server accepts requests: it patches moto's backends in
    process. ``start`` begins background work (threads that watch the stop event);
    ``stop`` ends it and releases what it holds (worker processes, files).
    """

    name: str

    def install(self, ctx: EmbeddedContext) -> None: ...

    def start(self, ctx: EmbeddedContext) -> None: ...

    def stop(self) -> None: ...


class BackgroundLoop:
    """A daemon thread calling ``tick`` every ``interval()`` real seconds until stopped.

    A failing tick is logged and the loop goes on: background work never takes the server down.
    """

    def __init__(self, name: str, tick: Callable[[], None], interval: Callable[[], float]) -> None:
        self.name = name
        self._tick = tick
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._tick()
            except Exception:
                logger.exception("%s: tick failed", self.name)
            self._stop.wait(max(self._interval(), 0.001))

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)


def iter_backends(backend_dict: object) -> list[tuple[str, str, object]]:
    """(account, region, backend) for every backend moto has created so far.

    Iterates over copies: request threads may add accounts or regions meanwhile. Reading
    never creates a backend.
    """
    found: list[tuple[str, str, object]] = []
    for account_id, per_region in list(dict.items(backend_dict)):  # type: ignore[arg-type]
        for region, backend in list(dict.items(per_region)):
            found.append((account_id, region, backend))
    return found
