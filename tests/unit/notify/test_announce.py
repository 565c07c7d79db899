"""Handing notifications over: asynchronously, and never failing the caller; the sinks from SSM's parameters;
``healops up``'s environment as Terraform variables, secrets apart."""

from __future__ import annotations

import json
from typing import Any

import pytest

from healops.notify import Notification, PagerDutySink, SlackSink, SnsEmailSink, WebhookSink
from healops.notify.announce import LambdaAnnouncer, announcer_for, no_announcer
from healops.notify.deploy import split_secrets, terraform_variables_from_env
from healops.notify.wiring import EMAIL_EVENTS, build_sinks

NOTE = Notification(event="escalated", incident_id="inc-1", service="checkout", summary="needs a human")


class RecordingLambda:
    def __init__(self, error: Exception | None = None) -> None:
        self.calls: list[dict[str, Any]] = []
        self.error = error

    def invoke(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        if self.error:
            raise self.error
        return {"StatusCode": 202}


def test_the_notifier_is_invoked_asynchronously_with_the_notification() -> None:
    client = RecordingLambda()
    LambdaAnnouncer("notifier", client)(NOTE)
    [call] = client.calls
    assert call["FunctionName"] == "notifier" and call["InvocationType"] == "Event"
    assert Notification.model_validate(json.loads(call["Payload"])) == NOTE


def test_a_failed_hand_over_is_logged_never_raised(caplog: pytest.LogCaptureFixture) -> None:
    LambdaAnnouncer("notifier", RecordingLambda(error=ConnectionError("endpoint down")))(NOTE)
    assert "not handed to the notifier" in caplog.text


def test_no_notifier_function_means_nobody_is_told_and_a_client_is_made_only_to_tell() -> None:
    assert announcer_for(None, lambda: pytest.fail("no client is made")) is no_announcer
    made: list[RecordingLambda] = []
    announcer = announcer_for("notifier", lambda: made.append(RecordingLambda()) or made[-1])
    assert isinstance(announcer, LambdaAnnouncer) and made == []
    announcer(NOTE)
    announcer(NOTE)
    [client] = made
    assert len(client.calls) == 2


def test_the_sinks_are_the_ones_whose_parameters_are_set() -> None:
    assert build_sinks({}) == []
    sinks = build_sinks(
        {
            "slack_webhook_url": "https://hooks.slack.example/T/B/x",
            "pagerduty_routing_key": "k" * 32,
            "webhook_url": "https://receiver.example/hook",
            "webhook_secret": "s" * 16,
        },
        email_topic_arn="arn:aws:sns:us-east-1:000000000000:healops-escalations",
        sns=object(),
    )
    assert [type(s) for s in sinks] == [SlackSink, PagerDutySink, WebhookSink, SnsEmailSink]
    # The state machine publishes escalations to the topic itself: the notifier's e-mail leaves them out.
    email = sinks[-1]
    assert not email.accepts(NOTE) and all(email.accepts(NOTE.model_copy(update={"event": e})) for e in EMAIL_EVENTS)


def test_a_webhook_without_its_secret_is_left_out() -> None:
    assert build_sinks({"webhook_url": "https://receiver.example/hook"}) == []


def test_up_passes_the_sinks_secrets_apart_from_the_plain_settings() -> None:
    variables = terraform_variables_from_env(
        {
            "HEALOPS_NOTIFY_SLACK_WEBHOOK_URL": "https://hooks.slack.example/T/B/x",
            "HEALOPS_NOTIFY_PAGERDUTY_ROUTING_KEY": "routing-key",
            "HEALOPS_NOTIFY_EMAILS": "oncall@example.com, sre@example.com",
            "HEALOPS_NOTIFY_WEBHOOK_URL": "",
        }
    )
    plain, secret = split_secrets(variables)
    assert plain == {"notify_emails": ["oncall@example.com", "sre@example.com"]}
    assert secret == {
        "notify_slack_webhook_url": "https://hooks.slack.example/T/B/x",
        "notify_pagerduty_routing_key": "routing-key",
    }
