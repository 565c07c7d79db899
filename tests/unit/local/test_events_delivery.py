"""Delivery of matched events through moto's backends in process (moto's decorator, no server).

moto's Docker-less Lambda backend ``invoke`` is replaced by a recorder here, so these tests
pin what EventBridge hands to Lambda whether or not the embedded Lambda runtime exists; the
integration tests run real handlers.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from healops.local.context import EmbeddedContext
from healops.local.events import EventBridgeDelivery, last_firings
from tests.helpers import make_queue, wait_for

REGION = "us-east-1"
ACCOUNT = "123456789012"


class LambdaRecorder:
    """Stands in for moto's Lambda backend ``invoke``: records calls, can be slow or fail."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.delay = 0.0
        self.failures_left = 0
        self.done = threading.Event()

    def invoke(
        self, backend: Any, function_name: str, qualifier: Any, body: Any, headers: Any, response_headers: Any
    ) -> bytes:
        if self.failures_left > 0:
            self.failures_left -= 1
            raise RuntimeError("simulated throttling")
        time.sleep(self.delay)
        self.calls.append({"function": function_name, "body": json.loads(body), "headers": dict(headers)})
        self.done.set()
        return b""


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> LambdaRecorder:
    from moto.awslambda_simple.models import LambdaSimpleBackend

    recording = LambdaRecorder()

    def invoke(self: Any, function_name: str, qualifier: Any, body: Any, headers: Any, response_headers: Any) -> bytes:
        return recording.invoke(self, function_name, qualifier, body, headers, response_headers)

    monkeypatch.setattr(LambdaSimpleBackend, "invoke", invoke)
    return recording


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[Callable[[str], Any]]:
    with mock_aws(config={"lambda": {"use_docker": False}, "stepfunctions": {"execute_state_machine": False}}):
        ctx = EmbeddedContext(state_dir=tmp_path, time_scale=1.0)
        extension = EventBridgeDelivery()
        extension.install(ctx)
        extension.start(ctx)
        try:
            yield lambda service: boto3.client(service, region_name=REGION)
        finally:
            extension.stop()


def make_function(client_for: Callable[[str], Any], name: str) -> str:
    iam = client_for("iam")
    role = iam.create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    return client_for("lambda").create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
    )["FunctionArn"]


def pattern_rule(client_for: Callable[[str], Any], name: str, targets: list[dict[str, Any]], **extra: Any) -> str:
    events = client_for("events")
    arn = events.put_rule(Name=name, EventPattern=json.dumps({"source": ["healops.test"]}), **extra)["RuleArn"]
    events.put_targets(Rule=name, Targets=targets)
    return str(arn)


def put_event(client_for: Callable[[str], Any], detail: dict[str, Any]) -> dict[str, Any]:
    return dict(
        client_for("events").put_events(
            Entries=[{"Source": "healops.test", "DetailType": "Test Event", "Detail": json.dumps(detail)}]
        )
    )


def receive_all(client_for: Callable[[str], Any], url: str, expected: int) -> list[dict[str, Any]]:
    sqs = client_for("sqs")
    messages: list[dict[str, Any]] = []

    def more() -> bool:
        messages.extend(
            sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]).get("Messages", [])
        )
        return len(messages) >= expected

    wait_for(more)
    return messages


def test_lambda_target_gets_the_event_as_an_event_invocation(
    cloud: Callable[[str], Any], recorder: LambdaRecorder
) -> None:
    function_arn = make_function(cloud, "unit-evt-fn")
    pattern_rule(cloud, "unit-evt-lambda", [{"Id": "fn", "Arn": function_arn}])
    entry = put_event(cloud, {"service": "checkout"})["Entries"][0]
    wait_for(recorder.done.is_set)
    [call] = recorder.calls
    assert call["function"] == function_arn
    assert call["headers"] == {"x-amz-invocation-type": "Event"}
    body = call["body"]
    assert body["id"] == entry["EventId"]
    assert body["detail"] == {"service": "checkout"}
    assert (body["source"], body["detail-type"], body["account"]) == ("healops.test", "Test Event", ACCOUNT)
    assert body["time"].endswith("Z") and "ingestion-time" not in body


def test_put_events_returns_while_a_slow_lambda_target_is_still_running(
    cloud: Callable[[str], Any], recorder: LambdaRecorder
) -> None:
    recorder.delay = 2.0
    function_arn = make_function(cloud, "unit-slow-fn")
    pattern_rule(cloud, "unit-slow-lambda", [{"Id": "fn", "Arn": function_arn}])
    started = time.monotonic()
    put_event(cloud, {"slow": True})
    assert time.monotonic() - started < 0.5
    assert recorder.calls == []
    wait_for(recorder.done.is_set, timeout=5)
    assert recorder.calls[0]["body"]["detail"] == {"slow": True}


def test_input_transformer_shapes_what_the_lambda_receives(
    cloud: Callable[[str], Any], recorder: LambdaRecorder
) -> None:
    function_arn = make_function(cloud, "unit-tx-fn")
    transformer = {
        "InputPathsMap": {"service": "$.detail.service", "level": "$.detail.level"},
        "InputTemplate": '{"service": <service>, "summary": "<service> is <level>", "rule": "<aws.events.rule-name>"}',
    }
    pattern_rule(cloud, "unit-tx-rule", [{"Id": "fn", "Arn": function_arn, "InputTransformer": transformer}])
    put_event(cloud, {"service": "payments", "level": "degraded"})
    wait_for(recorder.done.is_set)
    assert recorder.calls[0]["body"] == {
        "service": "payments",
        "summary": "payments is degraded",
        "rule": "unit-tx-rule",
    }


def test_transient_failures_are_retried_then_delivered(cloud: Callable[[str], Any], recorder: LambdaRecorder) -> None:
    recorder.failures_left = 2
    function_arn = make_function(cloud, "unit-retry-fn")
    rule_arn = pattern_rule(cloud, "unit-retry-rule", [{"Id": "fn", "Arn": function_arn}])
    put_event(cloud, {"n": 1})
    wait_for(recorder.done.is_set)
    outcome = wait_for(
        lambda: last_firings()[rule_arn]["targets"][0]["status"] == "delivered" and last_firings()[rule_arn]
    )
    assert outcome["targets"][0]["attempts"] == 3
    assert outcome["outcome"] == "delivered"


def test_exhausted_retries_send_the_event_to_the_target_dead_letter_queue(
    cloud: Callable[[str], Any], recorder: LambdaRecorder
) -> None:
    recorder.failures_left = 100
    function_arn = make_function(cloud, "unit-dlq-fn")
    dlq_url, dlq_arn = make_queue(cloud, "unit-dlq-queue")
    rule_arn = pattern_rule(
        cloud, "unit-dlq-rule", [{"Id": "fn", "Arn": function_arn, "DeadLetterConfig": {"Arn": dlq_arn}}]
    )
    entry = put_event(cloud, {"n": 2})["Entries"][0]
    [message] = receive_all(cloud, dlq_url, 1)
    body = json.loads(message["Body"])
    assert body["id"] == entry["EventId"] and body["detail"] == {"n": 2}
    attributes = {name: value["StringValue"] for name, value in message["MessageAttributes"].items()}
    assert attributes["RULE_ARN"] == rule_arn
    assert attributes["TARGET_ARN"] == function_arn
    assert attributes["RETRY_ATTEMPTS"] == "2"
    assert "simulated throttling" in attributes["ERROR_MESSAGE"]
    record = last_firings()[rule_arn]
    assert record["targets"][0]["status"] == "dead-lettered"
    assert record["targets"][0]["attempts"] == 3


def test_retry_policy_of_zero_retries_is_honoured(cloud: Callable[[str], Any], recorder: LambdaRecorder) -> None:
    recorder.failures_left = 100
    function_arn = make_function(cloud, "unit-noretry-fn")
    target = {"Id": "fn", "Arn": function_arn, "RetryPolicy": {"MaximumRetryAttempts": 0}}
    rule_arn = pattern_rule(cloud, "unit-noretry-rule", [target])
    put_event(cloud, {"n": 3})
    record = wait_for(lambda: last_firings()[rule_arn]["outcome"] == "failed" and last_firings()[rule_arn])
    assert record["targets"][0]["attempts"] == 1
    assert recorder.failures_left == 99


def test_missing_function_is_not_retried_and_goes_to_the_dead_letter_queue(
    cloud: Callable[[str], Any], recorder: LambdaRecorder
) -> None:
    dlq_url, dlq_arn = make_queue(cloud, "unit-missing-dlq")
    missing = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:unit-no-such-fn"
    pattern_rule(cloud, "unit-missing-rule", [{"Id": "fn", "Arn": missing, "DeadLetterConfig": {"Arn": dlq_arn}}])
    put_event(cloud, {"n": 4})
    [message] = receive_all(cloud, dlq_url, 1)
    assert message["MessageAttributes"]["ERROR_CODE"]["StringValue"] == "ResourceNotFoundException"
    assert message["MessageAttributes"]["RETRY_ATTEMPTS"]["StringValue"] == "0"
    assert recorder.calls == []


def test_disabled_and_schedule_only_rules_receive_no_put_events(
    cloud: Callable[[str], Any], recorder: LambdaRecorder
) -> None:
    url, arn = make_queue(cloud, "unit-quiet-queue")
    events = cloud("events")
    pattern_rule(cloud, "unit-disabled-rule", [{"Id": "q", "Arn": arn}], State="DISABLED")
    events.put_rule(Name="unit-schedule-only", ScheduleExpression="rate(1 hour)")
    events.put_targets(Rule="unit-schedule-only", Targets=[{"Id": "q", "Arn": arn}])
    _, control_arn = make_queue(cloud, "unit-control-queue")
    control_rule = pattern_rule(cloud, "unit-control-rule", [{"Id": "q", "Arn": control_arn}])
    put_event(cloud, {"n": 5})
    wait_for(lambda: last_firings().get(control_rule, {}).get("outcome") == "delivered")
    assert cloud("sqs").receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages", []) == []


def test_sqs_target_gets_the_full_aws_event_shape(cloud: Callable[[str], Any], recorder: LambdaRecorder) -> None:
    url, arn = make_queue(cloud, "unit-shape-queue")
    pattern_rule(cloud, "unit-shape-rule", [{"Id": "q", "Arn": arn}])
    entry = put_event(cloud, {"k": "v"})["Entries"][0]
    [message] = receive_all(cloud, url, 1)
    body = json.loads(message["Body"])
    assert set(body) == {"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"}
    assert body["id"] == entry["EventId"] and body["account"] == ACCOUNT and body["region"] == REGION


def test_unsupported_target_is_recorded_as_failed_and_others_still_delivered(
    cloud: Callable[[str], Any], recorder: LambdaRecorder
) -> None:
    url, arn = make_queue(cloud, "unit-mixed-queue")
    kinesis = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/unit-stream"
    rule_arn = pattern_rule(cloud, "unit-mixed-rule", [{"Id": "k", "Arn": kinesis}, {"Id": "q", "Arn": arn}])
    put_event(cloud, {"n": 6})
    receive_all(cloud, url, 1)
    record = wait_for(lambda: last_firings()[rule_arn]["outcome"] == "partial" and last_firings()[rule_arn])
    by_id = {target["target_id"]: target for target in record["targets"]}
    assert by_id["k"]["status"] == "failed"
    assert "unsupported target type 'kinesis'" in by_id["k"]["error"]
    assert by_id["q"]["status"] == "delivered"


def test_invalid_schedule_expression_is_rejected_at_put_rule(cloud: Callable[[str], Any]) -> None:
    events = cloud("events")
    with pytest.raises(events.exceptions.ClientError) as caught:
        events.put_rule(Name="unit-bad-cron", ScheduleExpression="cron(0 10 * * MON *)")
    assert "exactly one of Day-of-month and Day-of-week must be '?'" in str(caught.value)
    with pytest.raises(events.exceptions.ClientError, match=r"rate\(1 minute\)"):
        events.put_rule(Name="unit-bad-rate", ScheduleExpression="rate(1 minutes)")


def test_after_stop_moto_delivers_as_shipped(tmp_path: Path) -> None:
    with mock_aws():
        ctx = EmbeddedContext(state_dir=tmp_path)
        extension = EventBridgeDelivery()
        extension.install(ctx)
        extension.stop()
        client_for: Callable[[str], Any] = lambda service: boto3.client(service, region_name=REGION)  # noqa: E731
        url, arn = make_queue(client_for, "unit-detached-queue")
        pattern_rule(client_for, "unit-detached-rule", [{"Id": "q", "Arn": arn}])
        put_event(client_for, {"n": 7})
        # moto's own delivery is synchronous and (a moto quirk) leaves "account" out.
        [message] = client_for("sqs").receive_message(QueueUrl=url)["Messages"]
        assert "account" not in json.loads(message["Body"])


def test_stop_fails_queued_deliveries_instead_of_leaving_them_pending(tmp_path: Path, recorder: LambdaRecorder) -> None:
    recorder.delay = 0.5
    with mock_aws(config={"lambda": {"use_docker": False}}):
        ctx = EmbeddedContext(state_dir=tmp_path)
        extension = EventBridgeDelivery()
        extension.install(ctx)
        client_for: Callable[[str], Any] = lambda service: boto3.client(service, region_name=REGION)  # noqa: E731
        function_arn = make_function(client_for, "unit-stop-fn")
        targets = [{"Id": f"fn{index}", "Arn": function_arn} for index in range(10)]
        rule_arn = pattern_rule(client_for, "unit-stop-rule", targets)
        put_event(client_for, {"n": 8})
        time.sleep(0.1)  # the first four (the pool's size) are running, six are queued
        extension.stop()
        statuses = [target["status"] for target in last_firings()[rule_arn]["targets"]]
    assert statuses.count("delivered") == 4
    assert statuses.count("failed") == 6
    assert all(
        target["error"] == "embedded cloud stopped before delivery"
        for target in last_firings()[rule_arn]["targets"]
        if target["status"] == "failed"
    )
