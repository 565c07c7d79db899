"""Schedule rules fire on a scaled clock in a running embedded cloud (time_scale 60)."""

from __future__ import annotations

import itertools
import json
import re
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from healops.local.context import EmbeddedContext
from healops.local.events import EventBridgeDelivery, last_firings
from healops.local.server import EmbeddedCloud
from healops.local.stepfunctions import StepFunctionsExtras
from tests.conftest import make_client
from tests.helpers import make_queue

TIME_SCALE = 60  # a simulated minute per real second
ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedCloud]:
    ctx = EmbeddedContext(port=0, state_dir=tmp_path_factory.mktemp("events-schedule"), time_scale=TIME_SCALE)
    with EmbeddedCloud(ctx, extensions=[StepFunctionsExtras(), EventBridgeDelivery()]) as running:
        yield running


@pytest.fixture
def client(cloud: EmbeddedCloud) -> Callable[[str], Any]:
    return lambda service: make_client(cloud.endpoint_url, service)


@pytest.fixture
def unique() -> str:
    return uuid.uuid4().hex[:8]


def collect(client: Callable[[str], Any], url: str, seconds: float) -> list[tuple[float, dict[str, Any]]]:
    """(arrival monotonic time, body) of every message arriving within ``seconds``."""
    sqs = client("sqs")
    deadline = time.monotonic() + seconds
    received: list[tuple[float, dict[str, Any]]] = []
    while (left := deadline - time.monotonic()) > 0:
        reply = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=min(1, max(int(left), 0)))
        for message in reply.get("Messages", []):
            received.append((time.monotonic(), json.loads(message["Body"])))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        if int(left) == 0:
            time.sleep(min(left, 0.05))
    return received


def delete_rule(client: Callable[[str], Any], name: str) -> None:
    events = client("events")
    targets = events.list_targets_by_rule(Rule=name)["Targets"]
    if targets:
        events.remove_targets(Rule=name, Ids=[target["Id"] for target in targets])
    events.delete_rule(Name=name)


def test_rate_one_minute_fires_an_sqs_target_every_scaled_second_with_the_scheduled_event_shape(
    client: Callable[[str], Any], unique: str, cloud: EmbeddedCloud
) -> None:
    url, queue_arn = make_queue(client, f"sched-rate-{unique}")
    events = client("events")
    name = f"sched-rate-{unique}"
    created = time.monotonic()
    rule_arn = events.put_rule(Name=name, ScheduleExpression="rate(1 minute)")["RuleArn"]
    events.put_targets(Rule=name, Targets=[{"Id": "queue", "Arn": queue_arn}])
    try:
        received = collect(client, url, 4.6)
    finally:
        delete_rule(client, name)

    # First fire one (scaled) period after creation, then one per real second.
    assert 4 <= len(received) <= 5, [round(at - created, 2) for at, _ in received]
    first_at = received[0][0] - created
    assert 0.8 <= first_at <= 1.6, first_at
    gaps = [later - earlier for (earlier, _), (later, _) in itertools.pairwise(received)]
    assert all(0.6 <= gap <= 1.4 for gap in gaps), gaps

    ids = set()
    for _, body in received:
        assert set(body) == {
            "version",
            "id",
            "detail-type",
            "source",
            "account",
            "time",
            "region",
            "resources",
            "detail",
        }
        assert body["version"] == "0"
        assert body["detail-type"] == "Scheduled Event"
        assert body["source"] == "aws.events"
        assert body["account"] == "123456789012"
        assert body["region"] == "us-east-1"
        assert body["resources"] == [rule_arn]
        assert body["detail"] == {}
        assert uuid.UUID(body["id"])
        ids.add(body["id"])
        # Real wall-clock time, not the simulated clock (which runs 60 times ahead).
        assert ISO_Z.match(body["time"])
        fired = datetime.strptime(body["time"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        assert abs((datetime.now(UTC) - fired).total_seconds()) < 10
    assert len(ids) == len(received)

    record = last_firings()[rule_arn]
    assert record["trigger"] == "schedule" and record["outcome"] == "delivered"
    assert record["count"] >= len(received)
    # The status snapshot reaches the state dir for processes outside the server.
    on_disk = last_firings(cloud.ctx.state_dir)
    assert rule_arn in json.dumps(on_disk)


def test_disabled_rule_never_fires_and_disabling_a_firing_rule_stops_it(
    client: Callable[[str], Any], unique: str
) -> None:
    quiet_url, quiet_arn = make_queue(client, f"sched-off-{unique}")
    busy_url, busy_arn = make_queue(client, f"sched-stop-{unique}")
    events = client("events")
    quiet, busy = f"sched-off-{unique}", f"sched-stop-{unique}"
    events.put_rule(Name=quiet, ScheduleExpression="rate(1 minute)", State="DISABLED")
    events.put_targets(Rule=quiet, Targets=[{"Id": "queue", "Arn": quiet_arn}])
    events.put_rule(Name=busy, ScheduleExpression="rate(1 minute)")
    events.put_targets(Rule=busy, Targets=[{"Id": "queue", "Arn": busy_arn}])
    try:
        before = collect(client, busy_url, 2.5)
        events.disable_rule(Name=busy)
        collect(client, busy_url, 0.3)  # a firing already handed to the pool may still land
        after = collect(client, busy_url, 2.2)
        quiet_messages = collect(client, quiet_url, 0.1)
    finally:
        delete_rule(client, quiet)
        delete_rule(client, busy)
    assert len(before) >= 2
    assert after == []
    assert quiet_messages == []


def test_cron_rule_fires_each_simulated_minute(client: Callable[[str], Any], unique: str) -> None:
    url, queue_arn = make_queue(client, f"sched-cron-{unique}")
    events = client("events")
    name = f"sched-cron-{unique}"
    events.put_rule(Name=name, ScheduleExpression="cron(* * * * ? *)")
    events.put_targets(Rule=name, Targets=[{"Id": "queue", "Arn": queue_arn}])
    try:
        received = collect(client, url, 3.3)
    finally:
        delete_rule(client, name)
    assert 2 <= len(received) <= 4
    assert all(body["detail-type"] == "Scheduled Event" for _, body in received)


def test_schedule_rule_starts_step_functions_executions_with_the_scheduled_event(
    client: Callable[[str], Any], unique: str
) -> None:
    sfn = client("stepfunctions")
    machine = sfn.create_state_machine(
        name=f"sched-sm-{unique}",
        definition=json.dumps({"StartAt": "Pass", "States": {"Pass": {"Type": "Pass", "End": True}}}),
        roleArn="arn:aws:iam::123456789012:role/sched-sm",
    )["stateMachineArn"]
    events = client("events")
    name = f"sched-sm-{unique}"
    rule_arn = events.put_rule(Name=name, ScheduleExpression="rate(1 minute)")["RuleArn"]
    events.put_targets(Rule=name, Targets=[{"Id": "machine", "Arn": machine}])
    try:
        deadline = time.monotonic() + 5
        executions: list[dict[str, Any]] = []
        while time.monotonic() < deadline and len(executions) < 2:
            time.sleep(0.2)
            executions = sfn.list_executions(stateMachineArn=machine)["executions"]
    finally:
        delete_rule(client, name)
    assert len(executions) >= 2
    described = sfn.describe_execution(executionArn=executions[0]["executionArn"])
    payload = json.loads(described["input"])
    assert payload["detail-type"] == "Scheduled Event"
    assert payload["resources"] == [rule_arn]
