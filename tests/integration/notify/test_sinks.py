"""Each sink against a local stub server speaking its receiver's wire format (real HTTP on loopback)."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from healops.notify import (
    Dispatcher,
    Notification,
    PagerDutySink,
    SinkError,
    SlackSink,
    SnsEmailSink,
    WebhookSink,
)
from healops.notify.sinks import SIGNATURE_HEADER, TIMESTAMP_HEADER
from tests.notify_support import Stub, stub_receiver

SECRET = "s3cret-hmac-key"


@pytest.fixture
def stub() -> Iterator[Stub]:
    with stub_receiver() as receiver:
        yield receiver


def incident(event: str = "escalated", **changes: Any) -> Notification:
    fields = {
        "event": event,
        "incident_id": "inc-checkout-42",
        "service": "checkout",
        "summary": "error rate 38% for 6 ticks; restart and rollback did not bring it back under 5%",
        "tried": ("restart_service", "rollback_deploy"),
        "dashboard_url": "http://127.0.0.1:8050/incidents/inc-checkout-42",
    }
    return Notification(**{**fields, **changes})


def test_slack_gets_a_message_with_the_incident_what_was_tried_and_the_dashboard_link(stub: Stub) -> None:
    SlackSink(stub.url).send(incident())
    [message] = stub.bodies()
    assert message["text"].startswith("[Heal-Ops] checkout: needs a human (inc-checkout-42)")
    blocks = json.dumps(message["blocks"])
    assert "restart_service, rollback_deploy" in blocks
    assert "<http://127.0.0.1:8050/incidents/inc-checkout-42|Open on the Heal-Ops dashboard>" in blocks
    assert stub.requests[0]["headers"]["Content-Type"] == "application/json"


def test_pagerduty_triggers_on_escalation_and_resolves_on_recovery_under_the_incident_id(stub: Stub) -> None:
    sink = PagerDutySink("R0UTINGKEY", url=stub.url)
    dispatcher = Dispatcher([sink])
    dispatcher.notify(incident("escalated"))
    dispatcher.notify(incident("action_taken"))  # not a PagerDuty event: skipped, nothing sent
    dispatcher.notify(incident("resolved"))
    trigger, resolve = stub.bodies()
    assert trigger["event_action"] == "trigger" and resolve["event_action"] == "resolve"
    assert trigger["dedup_key"] == resolve["dedup_key"] == "inc-checkout-42"
    assert trigger["routing_key"] == resolve["routing_key"] == "R0UTINGKEY"
    assert trigger["payload"]["source"] == "checkout" and trigger["payload"]["severity"] == "critical"
    assert trigger["links"] == [
        {"href": "http://127.0.0.1:8050/incidents/inc-checkout-42", "text": "Heal-Ops incident"}
    ]
    assert "payload" not in resolve


def test_the_webhook_body_is_the_notification_signed_with_an_hmac_of_timestamp_and_body(stub: Stub) -> None:
    WebhookSink(stub.url, SECRET, clock=lambda: 1_764_000_000.7).send(incident())
    [request] = stub.requests
    headers = request["headers"]
    assert headers[TIMESTAMP_HEADER] == "1764000000"
    expected = hmac.new(SECRET.encode(), b"1764000000." + request["body"], hashlib.sha256).hexdigest()
    assert headers[SIGNATURE_HEADER] == f"sha256={expected}"
    assert json.loads(request["body"])["incident_id"] == "inc-checkout-42"
    # A receiver checking with another secret, or a body changed on the way, does not match.
    forged = hmac.new(b"other", b"1764000000." + request["body"], hashlib.sha256).hexdigest()
    assert headers[SIGNATURE_HEADER] != f"sha256={forged}"


def test_a_sink_answering_500_then_200_is_retried_with_backoff_and_delivered(stub: Stub) -> None:
    stub.statuses = [500, 503]
    delays: list[float] = []
    dispatcher = Dispatcher([SlackSink(stub.url)], attempts=3, base_delay_s=0.5, sleep=delays.append)
    [delivery] = dispatcher.notify(incident())
    assert (delivery.status, delivery.attempts, delivery.error) == ("delivered", 3, None)
    assert delays == [0.5, 1.0]
    assert len(stub.requests) == 3


def test_a_sink_that_stays_down_is_recorded_as_failed_and_the_others_still_deliver(stub: Stub) -> None:
    stub.default = 500
    down = WebhookSink(stub.url, SECRET)
    unreachable = SlackSink("http://127.0.0.1:9/nothing-listens-here")
    delays: list[float] = []
    dispatcher = Dispatcher([down, unreachable, PagerDutySink("KEY", url=stub.url)], attempts=2, sleep=delays.append)
    stub.statuses = [500, 500, 202]  # the webhook's two attempts, then PagerDuty's one
    deliveries = dispatcher.notify(incident())
    assert [(d.sink, d.status, d.attempts) for d in deliveries] == [
        ("webhook", "failed", 2),
        ("slack", "failed", 2),
        ("pagerduty", "delivered", 1),
    ]
    assert deliveries[0].error == "webhook: HTTP 500"
    assert deliveries[1].error is not None and "nothing-listens-here" not in deliveries[1].error


def test_a_refusal_that_retrying_cannot_fix_is_not_retried(stub: Stub) -> None:
    stub.default = 400
    delays: list[float] = []
    [delivery] = Dispatcher([PagerDutySink("BAD", url=stub.url)], attempts=3, sleep=delays.append).notify(incident())
    assert (delivery.status, delivery.attempts, delivery.error) == ("failed", 1, "pagerduty: HTTP 400")
    assert delays == [] and len(stub.requests) == 1


def test_secrets_stay_out_of_reprs_and_errors(stub: Stub) -> None:
    stub.default = 500
    sinks = [
        SlackSink(stub.url + "/T000/B000/XXXX"),
        PagerDutySink("R0UTINGKEY", url=stub.url),
        WebhookSink(stub.url, SECRET),
    ]
    for sink in sinks:
        with pytest.raises(SinkError) as failed:
            sink.send(incident())
        shown = repr(sink) + str(failed.value)
        assert "XXXX" not in shown and "R0UTINGKEY" not in shown and SECRET not in shown and "127.0.0.1" not in shown


def test_a_webhook_without_a_signing_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="signing secret is required"):
        WebhookSink("http://127.0.0.1:1/", "")


def test_a_sink_url_that_is_not_http_is_refused_without_opening_it(tmp_path: Any) -> None:
    target = tmp_path / "not-a-receiver"
    [delivery] = Dispatcher([SlackSink(f"file://{target}")], sleep=lambda _: None).notify(incident())
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert delivery.error is not None and "only https://" in delivery.error


@mock_aws
def test_email_goes_out_through_the_topic_with_the_headline_as_subject() -> None:
    sns, sqs = boto3.client("sns", region_name="us-east-1"), boto3.client("sqs", region_name="us-east-1")
    topic = sns.create_topic(Name="healops-notify")["TopicArn"]
    # An SQS subscription stands in for the e-mail one: SNS hands both the same Subject and Message.
    queue = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    [delivery] = Dispatcher([SnsEmailSink(topic, sns)]).notify(incident())
    assert delivery.status == "delivered"
    [message] = sqs.receive_message(QueueUrl=queue)["Messages"]
    envelope = json.loads(message["Body"])
    assert envelope["Subject"] == "[Heal-Ops] checkout: needs a human (inc-checkout-42)"
    assert "Tried: restart_service, rollback_deploy" in envelope["Message"]


def test_the_dispatcher_masks_every_field_of_what_any_sink_sends(stub: Stub) -> None:
    """Secrets of the redaction corpus in the summary, what was tried and the link reach no receiver."""
    corpus = json.loads((Path(__file__).parents[2] / "data" / "redaction_corpus.json").read_text())
    cases = [c for c in corpus["secrets"] if "\n" not in c["text"] and len(c["text"]) < 60][:12]
    summary = " | ".join(c["text"] for c in cases)[:1024]
    leaky = incident(
        summary=summary,
        tried=tuple(c["text"] for c in cases),
        dashboard_url="https://ops:hunter2-horse@dash.example.com/incidents/inc-checkout-42",
    )
    sinks = [SlackSink(stub.url), PagerDutySink("R0UTINGKEY", url=stub.url), WebhookSink(stub.url, SECRET)]
    deliveries = Dispatcher(sinks).notify(leaky)
    assert [d.status for d in deliveries] == ["delivered"] * 3
    bodies = [r["body"].decode() for r in stub.requests]
    assert all("[REDACTED]" in body for body in bodies)
    received = [s for body in bodies for s in strings(json.loads(body))]  # decoded: no secret hides in an escape
    leaked = [c["shape"] for c in cases if any(c["secret"] in s for s in received)]
    assert leaked == [] and not [b for b in bodies if "hunter2-horse" in b]


def strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return [value] if isinstance(value, str) else []
