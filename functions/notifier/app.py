"""Notifier: tells people about an incident through the sinks Terraform chose (healops/notify).

Invoked asynchronously with one :class:`healops.notify.Notification` (the remediator and the detector hand
it over: healops/notify/announce.py). Each sink is tried with retries and backoff; every outcome is written
to the notifications table, where the dashboard's incident page shows it, a failure included. The handler
returns normally even when every sink failed: Lambda's own retry of an async event would send the sinks
that did deliver a second time.

The sinks' secrets are read from SSM (decrypted) at most once a minute per execution environment, so a
rotated key is picked up without a redeploy.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from functools import cache
from typing import Any

import boto3

from healops import config
from healops.logs import function_logger, redact_errors
from healops.notify import Dispatcher, Notification
from healops.notify.sinks import PAGERDUTY_EVENTS_URL, Sink
from healops.notify.wiring import build_sinks, read_parameters
from healops.store.notifications import NotificationsRepository

logger = function_logger()
PARAMETERS_MAX_AGE_S = 60.0
_sinks: dict[str, Any] = {}


@cache
def clients() -> dict[str, Any]:
    return {name: boto3.client(name) for name in ("ssm", "sns", "dynamodb")}


def sinks() -> list[Sink]:
    """The configured sinks, rebuilt from SSM when the cached ones are older than a minute."""
    now = time.monotonic()
    if _sinks and now - _sinks["read_at"] < PARAMETERS_MAX_AGE_S:
        return list(_sinks["sinks"])
    settings = config.current()
    parameters = read_parameters(clients()["ssm"], settings.require("notify_parameters_path"))
    built = build_sinks(
        parameters,
        pagerduty_url=settings.pagerduty_events_url or PAGERDUTY_EVENTS_URL,
        email_topic_arn=settings.notify_email_topic_arn,
        sns=clients()["sns"],
    )
    _sinks.update(sinks=built, read_at=now)
    return list(built)


def dashboard_link(incident_id: str) -> str | None:
    base = config.current().dashboard_url
    return f"{base.rstrip('/')}/incidents/{incident_id}" if base else None


def outgoing(notification: Notification) -> Notification:
    """The notification with the incident's dashboard link. Redaction is the dispatcher's (one seam for every
    sink, whoever handed the event over)."""
    if notification.dashboard_url is not None:
        return notification
    return notification.model_copy(update={"dashboard_url": dashboard_link(notification.incident_id)})


@redact_errors
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    notification = outgoing(Notification.model_validate(event))
    logger.append_keys(incident_id=notification.incident_id, event=notification.event)
    deliveries = Dispatcher(sinks()).notify(notification)
    repository = NotificationsRepository(config.current().require("notifications_table"), clients()["dynamodb"])
    repository.record(deliveries, datetime.now(UTC).isoformat())
    outcome = {d.sink: d.status for d in deliveries}
    logger.info("notified", extra={"deliveries": outcome})
    return {"incident_id": notification.incident_id, "event": notification.event, "deliveries": outcome}
