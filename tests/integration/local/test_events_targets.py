"""PutEvents (over HTTP and in process) delivered to Step Functions, Lambda and SQS targets."""

from __future__ import annotations

import io
import json
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from healops.local.awslambda import LambdaRuntime
from healops.local.context import EmbeddedContext
from healops.local.events import EventBridgeDelivery, last_firings
from healops.local.server import EmbeddedCloud
from healops.local.stepfunctions import StepFunctionsExtras
from tests.conftest import make_client
from tests.helpers import make_queue

ACCOUNT = "123456789012"
REGION = "us-east-1"
PASS_MACHINE = json.dumps({"StartAt": "Pass", "States": {"Pass": {"Type": "Pass", "End": True}}})

# A handler that forwards what it received to a queue, after an optional pause.
FORWARDING_HANDLER = """
import json, os, time
import boto3

def handler(event, context):
    detail = event.get("detail", {}) if isinstance(event, dict) else {}
    time.sleep(detail.get("sleep", 0))
    boto3.client("sqs").send_message(QueueUrl=os.environ["OUT_QUEUE"], MessageBody=json.dumps(event))
    return {"forwarded": True}
"""


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedCloud]:
    ctx = EmbeddedContext(port=0, state_dir=tmp_path_factory.mktemp("events-targets"))
    extensions = [LambdaRuntime(), StepFunctionsExtras(), EventBridgeDelivery()]
    with EmbeddedCloud(ctx, extensions=extensions) as running:
        yield running


@pytest.fixture
def client(cloud: EmbeddedCloud) -> Callable[[str], Any]:
    return lambda service: make_client(cloud.endpoint_url, service)


@pytest.fixture
def unique() -> str:
    return uuid.uuid4().hex[:8]


def make_machine(client: Callable[[str], Any], name: str) -> str:
    return str(
        client("stepfunctions").create_state_machine(
            name=name, definition=PASS_MACHINE, roleArn=f"arn:aws:iam::{ACCOUNT}:role/{name}"
        )["stateMachineArn"]
    )


def pattern_rule(client: Callable[[str], Any], name: str, source: str, targets: list[dict[str, Any]]) -> str:
    events = client("events")
    arn = events.put_rule(Name=name, EventPattern=json.dumps({"source": [source]}))["RuleArn"]
    events.put_targets(Rule=name, Targets=targets)
    return str(arn)


def put_event(client: Callable[[str], Any], source: str, detail: dict[str, Any]) -> str:
    reply = client("events").put_events(
        Entries=[{"Source": source, "DetailType": "Service Health", "Detail": json.dumps(detail)}]
    )
    assert reply["FailedEntryCount"] == 0
    return str(reply["Entries"][0]["EventId"])


def receive(client: Callable[[str], Any], url: str, count: int = 1, timeout: float = 8.0) -> list[dict[str, Any]]:
    sqs = client("sqs")
    messages: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(messages) < count and time.monotonic() < deadline:
        reply = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, MessageAttributeNames=["All"]
        )
        messages.extend(reply.get("Messages", []))
    assert len(messages) >= count, f"{len(messages)} of {count} messages arrived"
    return messages


def finished_executions(client: Callable[[str], Any], machine: str, count: int = 1) -> list[dict[str, Any]]:
    sfn = client("stepfunctions")
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline:
        executions = sfn.list_executions(stateMachineArn=machine)["executions"]
        done = [execution for execution in executions if execution["status"] != "RUNNING"]
        if len(done) >= count:
            return [sfn.describe_execution(executionArn=execution["executionArn"]) for execution in done]
        time.sleep(0.1)
    raise AssertionError(f"fewer than {count} finished executions of {machine}")


def test_pattern_rule_starts_a_step_functions_execution_with_the_event_as_input(
    client: Callable[[str], Any], unique: str
) -> None:
    machine = make_machine(client, f"tgt-sm-{unique}")
    source = f"healops.{unique}"
    pattern_rule(client, f"tgt-sm-{unique}", source, [{"Id": "machine", "Arn": machine}])
    event_id = put_event(client, source, {"service": "checkout", "state": "ALARM"})
    [execution] = finished_executions(client, machine)
    assert execution["status"] == "SUCCEEDED"
    event = json.loads(execution["input"])
    assert event["id"] == event_id
    assert event["source"] == source and event["detail-type"] == "Service Health"
    assert event["detail"] == {"service": "checkout", "state": "ALARM"}
    assert event["account"] == ACCOUNT and event["region"] == REGION
    assert json.loads(execution["output"]) == event  # a Pass state hands its input on


def test_input_input_path_and_input_transformer_are_applied(client: Callable[[str], Any], unique: str) -> None:
    constant_url, constant_arn = make_queue(client, f"tgt-constant-{unique}")
    path_url, path_arn = make_queue(client, f"tgt-path-{unique}")
    transformed_url, transformed_arn = make_queue(client, f"tgt-transformed-{unique}")
    machine = make_machine(client, f"tgt-tx-sm-{unique}")
    source = f"healops.{unique}"
    transformer = {
        "InputPathsMap": {"service": "$.detail.service", "state": "$.detail.state"},
        "InputTemplate": (
            '{"incident": <service>, "summary": "<service> is in <state>", "from": "<aws.events.rule-name>"}'
        ),
    }
    rule = f"tgt-tx-{unique}"
    pattern_rule(
        client,
        rule,
        source,
        [
            {"Id": "constant", "Arn": constant_arn, "Input": '{"action": "scan"}'},
            {"Id": "path", "Arn": path_arn, "InputPath": "$.detail"},
            {"Id": "transformed", "Arn": transformed_arn, "InputTransformer": transformer},
            {"Id": "machine", "Arn": machine, "InputTransformer": transformer},
        ],
    )
    put_event(client, source, {"service": "payments", "state": "ALARM"})
    expected = {"incident": "payments", "summary": "payments is in ALARM", "from": rule}
    assert json.loads(receive(client, constant_url)[0]["Body"]) == {"action": "scan"}
    assert json.loads(receive(client, path_url)[0]["Body"]) == {"service": "payments", "state": "ALARM"}
    assert json.loads(receive(client, transformed_url)[0]["Body"]) == expected
    [execution] = finished_executions(client, machine)
    assert json.loads(execution["input"]) == expected


def test_failed_delivery_lands_in_the_target_dead_letter_queue_and_put_events_still_succeeds(
    client: Callable[[str], Any], unique: str
) -> None:
    dlq_url, dlq_arn = make_queue(client, f"tgt-dlq-{unique}")
    missing_machine = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:tgt-missing-{unique}"
    source = f"healops.{unique}"
    rule_arn = pattern_rule(
        client,
        f"tgt-dlq-{unique}",
        source,
        [{"Id": "gone", "Arn": missing_machine, "DeadLetterConfig": {"Arn": dlq_arn}}],
    )
    event_id = put_event(client, source, {"service": "search"})
    [message] = receive(client, dlq_url)
    assert json.loads(message["Body"])["id"] == event_id
    attributes = {name: value["StringValue"] for name, value in message["MessageAttributes"].items()}
    assert attributes["TARGET_ARN"] == missing_machine
    assert attributes["RULE_ARN"] == rule_arn
    assert "DoesNotExist" in attributes["ERROR_CODE"] or "NotFound" in attributes["ERROR_CODE"]
    assert last_firings()[rule_arn]["targets"][0]["status"] == "dead-lettered"


def test_in_process_put_events_like_the_alarm_evaluator_is_delivered(client: Callable[[str], Any], unique: str) -> None:
    from moto.events.models import events_backends

    url, queue_arn = make_queue(client, f"tgt-alarm-q-{unique}")
    machine = make_machine(client, f"tgt-alarm-sm-{unique}")
    alarm = f"tgt-alarm-{unique}"
    events = client("events")
    rule = f"tgt-alarm-{unique}"
    events.put_rule(
        Name=rule,
        EventPattern=json.dumps(
            {
                "source": ["aws.cloudwatch"],
                "detail-type": ["CloudWatch Alarm State Change"],
                "detail": {"alarmName": [alarm]},
            }
        ),
    )
    events.put_targets(Rule=rule, Targets=[{"Id": "queue", "Arn": queue_arn}, {"Id": "machine", "Arn": machine}])
    detail = {"alarmName": alarm, "state": {"value": "ALARM"}, "previousState": {"value": "OK"}}
    started = time.monotonic()
    entries = events_backends[ACCOUNT][REGION].put_events(
        [{"Source": "aws.cloudwatch", "DetailType": "CloudWatch Alarm State Change", "Detail": json.dumps(detail)}]
    )
    assert time.monotonic() - started < 0.5
    assert "EventId" in entries[0]
    body = json.loads(receive(client, url)[0]["Body"])
    assert body["detail"] == detail and body["source"] == "aws.cloudwatch"
    [execution] = finished_executions(client, machine)
    assert json.loads(execution["input"])["detail"]["alarmName"] == alarm


def _forwarding_function(client: Callable[[str], Any], name: str, out_queue: str) -> str:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as package:
        package.writestr("app.py", FORWARDING_HANDLER)
    role = client("iam").create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    return str(
        client("lambda").create_function(
            FunctionName=name,
            Runtime="python3.11",
            Role=role,
            Handler="app.handler",
            Code={"ZipFile": archive.getvalue()},
            Environment={"Variables": {"OUT_QUEUE": out_queue}},
            Timeout=30,
        )["FunctionArn"]
    )


def test_pattern_rule_invokes_a_real_lambda_handler_with_the_event(client: Callable[[str], Any], unique: str) -> None:
    out_url, _ = make_queue(client, f"tgt-fn-out-{unique}")
    function = _forwarding_function(client, f"tgt-fn-{unique}", out_url)
    source = f"healops.{unique}"
    pattern_rule(client, f"tgt-fn-{unique}", source, [{"Id": "fn", "Arn": function}])
    event_id = put_event(client, source, {"service": "inventory"})
    received = json.loads(receive(client, out_url, timeout=15)[0]["Body"])
    assert received["id"] == event_id
    assert received["detail"] == {"service": "inventory"}


def test_put_events_returns_at_once_while_a_slow_lambda_target_runs(client: Callable[[str], Any], unique: str) -> None:
    out_url, _ = make_queue(client, f"tgt-slow-out-{unique}")
    function = _forwarding_function(client, f"tgt-slow-{unique}", out_url)
    source = f"healops.{unique}"
    pattern_rule(client, f"tgt-slow-{unique}", source, [{"Id": "fn", "Arn": function}])
    started = time.monotonic()
    put_event(client, source, {"sleep": 2})
    returned_after = time.monotonic() - started
    assert returned_after < 0.5, returned_after
    assert client("sqs").receive_message(QueueUrl=out_url, WaitTimeSeconds=0).get("Messages", []) == []
    receive(client, out_url, timeout=15)
    assert time.monotonic() - started >= 2.0
