"""Handing a notification to the notifier function, from the steps that know the events.

The remediation engine (approval waiting, action taken, fix not verified, resolved, escalated) and the
detector (an escalated incident's service recovered) announce; the notifier function
(functions/notifier) delivers to the sinks. The hand-over is an asynchronous invocation (InvocationType
``Event``): Lambda queues it and answers at once, so a sink that is slow or down never holds up a step, and
a failed hand-over is logged, never raised (telling people must not break the loop it reports on).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from healops.notify.models import Notification

logger = logging.getLogger(__name__)


class Announcer(Protocol):
    def __call__(self, notification: Notification) -> None: ...


def no_announcer(notification: Notification) -> None:
    """No notifier configured (unit tests, a stack without one): nothing is sent."""


class LambdaAnnouncer:
    """Invokes the notifier function asynchronously with the notification as its event. ``lambda_client`` is
    a client, or a callable making one on the first announcement (a plan step, with seconds to spare, never
    pays for it)."""

    def __init__(self, function_name: str, lambda_client: Any) -> None:
        self.function_name = function_name
        self._client = lambda_client

    def client(self) -> Any:
        if callable(self._client):
            self._client = self._client()
        return self._client

    def __call__(self, notification: Notification) -> None:
        try:
            self.client().invoke(
                FunctionName=self.function_name,
                InvocationType="Event",
                Payload=notification.model_dump_json().encode(),
            )
        except Exception as exc:  # botocore's ClientError and connection errors alike: logged, never raised
            logger.warning(
                "notification not handed to the notifier",
                extra={
                    "incident_id": notification.incident_id,
                    "event": notification.event,
                    "error": type(exc).__name__,
                },
            )


def announcer_for(function_name: str | None, lambda_client: Callable[[], Any]) -> Announcer:
    """The notifier function when the stack has one (HEALOPS_NOTIFIER_FUNCTION), else nobody is told."""
    if not function_name:
        return no_announcer
    return LambdaAnnouncer(function_name, lambda_client)
