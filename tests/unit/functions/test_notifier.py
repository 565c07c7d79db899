"""The notifier handler: its sinks from SSM SecureStrings, each delivery recorded, a secret in the event
redacted before any sink sees it, a sink that stays down recorded as failed (stub receivers on loopback)."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from moto import mock_aws

from healops import config
from healops.deploy.tables import create_tables
from healops.store.notifications import NotificationsRepository
from tests.notify_support import stub_receiver
from tests.unit.functions.conftest import load_handler

notifier = load_handler("notifier")
SECRET = "AKIAIOSFODNN7EXAMPLE"


def test_each_sink_is_told_once_redacted_and_a_sink_that_stays_down_is_recorded_failed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HEALOPS_NOTIFY_PARAMETERS_PATH", "/unit/notify")
    monkeypatch.setenv("HEALOPS_NOTIFICATIONS_TABLE", "unit-notifications")
    monkeypatch.setenv("HEALOPS_DASHBOARD_URL", "https://healops.example.com/")
    monkeypatch.setattr(notifier, "Dispatcher", lambda sinks: notifier_dispatcher(sinks))
    config.current.cache_clear()
    notifier.clients.cache_clear()
    notifier._sinks.clear()
    with mock_aws(), stub_receiver() as slack, stub_receiver() as webhook:
        webhook.default = 503
        ssm = boto3.client("ssm", region_name="us-east-1")
        for name, value in {
            "slack_webhook_url": slack.url,
            "webhook_url": webhook.url,
            "webhook_secret": "s" * 20,
        }.items():
            ssm.put_parameter(Name=f"/unit/notify/{name}", Value=value, Type="SecureString")
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        create_tables(ddb, {"notifications": "unit-notifications"})
        event = {
            "event": "escalated",
            "incident_id": "inc-1",
            "service": "checkout",
            "summary": f"the fleet refused key {SECRET}",
            "tried": [f"restart_service on checkout: failed ({SECRET})"],
        }
        answer = notifier.handler(event, None)
        assert answer["deliveries"] == {"slack": "delivered", "webhook": "failed"}
        [message] = slack.bodies()
        assert SECRET not in json.dumps(message) and "https://healops.example.com/incidents/inc-1" in message["text"]
        assert len(webhook.requests) == 3 and SECRET not in json.dumps(webhook.bodies())
        records, _ = NotificationsRepository("unit-notifications", ddb).for_incident("inc-1")
        assert [(r.sink, r.status, r.attempts, r.error) for r in records] == [
            ("slack", "delivered", 1, None),
            ("webhook", "failed", 3, "webhook: HTTP 503"),
        ]
    config.current.cache_clear()
    notifier.clients.cache_clear()
    notifier._sinks.clear()


def notifier_dispatcher(sinks: Any) -> Any:
    """The handler's dispatcher without the waits between tries (the retries themselves are the point)."""
    from healops.notify import Dispatcher

    return Dispatcher(sinks, sleep=lambda _: None)
