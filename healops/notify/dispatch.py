"""The dispatcher: each sink in turn, retried with backoff, failures recorded and never raised.

What it sends is redacted first (every field, :mod:`healops.redaction`), whatever the sink. A sink that is down
must not hold up the loop: ``notify`` returns once every sink has delivered,
refused for good (a 4xx other than 429), or used its attempts, and reports each outcome as a
:class:`Delivery` (the caller records them where the dashboard reads them). Waits grow
``base_delay_s * 2**n`` and stop at ``max_delay_s``; ``sleep`` is injected so tests do not wait.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from healops.notify.models import Notification
from healops.notify.sinks import Sink, SinkError
from healops.redaction import redact_value

logger = logging.getLogger(__name__)

DeliveryStatus = Literal["delivered", "failed", "skipped"]


@dataclass(frozen=True)
class Delivery:
    """One sink's outcome for one notification; ``error`` names the last failure (never a secret)."""

    sink: str
    event: str
    incident_id: str
    status: DeliveryStatus
    attempts: int
    error: str | None = None


class Dispatcher:
    def __init__(
        self,
        sinks: Sequence[Sink],
        attempts: int = 3,
        base_delay_s: float = 0.5,
        max_delay_s: float = 4.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if attempts < 1:
            raise ValueError(f"attempts: {attempts} is not accepted; at least 1")
        self.sinks = list(sinks)
        self.attempts = attempts
        self.base_delay_s = base_delay_s
        self.max_delay_s = max_delay_s
        self._sleep = sleep

    def notify(self, notification: Notification) -> list[Delivery]:
        # One seam for every sink (chat, pager, webhook, e-mail): every field of what leaves is redacted.
        notification = Notification.model_validate(redact_value(notification.model_dump(mode="json")))
        return [self._deliver(sink, notification) for sink in self.sinks]

    def _deliver(self, sink: Sink, notification: Notification) -> Delivery:
        def outcome(status: DeliveryStatus, attempts: int, error: str | None = None) -> Delivery:
            return Delivery(sink.name, notification.event, notification.incident_id, status, attempts, error)

        if not sink.accepts(notification):
            return outcome("skipped", 0)
        error: SinkError | None = None
        for attempt in range(1, self.attempts + 1):
            try:
                sink.send(notification)
                return outcome("delivered", attempt)
            except SinkError as exc:
                error = exc
                if not exc.retryable or attempt == self.attempts:
                    break
                self._sleep(min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1)))
        assert error is not None
        logger.warning(
            "notification not delivered",
            extra={"sink": sink.name, "incident_id": notification.incident_id, "error": str(error)},
        )
        return outcome("failed", attempt, str(error))
