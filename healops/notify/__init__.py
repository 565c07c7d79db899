"""Telling people: notification sinks (Slack, PagerDuty, a signed webhook, e-mail through SNS) and the
dispatcher that retries each with backoff and records what failed, never blocking the caller."""

from __future__ import annotations

from healops.notify.dispatch import Delivery, Dispatcher
from healops.notify.models import Notification, NotificationEvent
from healops.notify.sinks import (
    PagerDutySink,
    SinkError,
    SlackSink,
    SnsEmailSink,
    WebhookSink,
    sign_webhook,
)

__all__ = [
    "Delivery",
    "Dispatcher",
    "Notification",
    "NotificationEvent",
    "PagerDutySink",
    "SinkError",
    "SlackSink",
    "SnsEmailSink",
    "WebhookSink",
    "sign_webhook",
]
