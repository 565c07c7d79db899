"""The embedded cloud keeps its state across restarts: a clean stop, a SIGKILL, and a snapshot it must refuse.

Each test runs the cloud as `healops up` does (its own process, `python -m healops.local`), so SIGTERM and
SIGKILL are real and moto's process-wide backends are not shared with other tests.
"""

from __future__ import annotations

import json
import signal
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from healops.deploy.errors import DeployError
from healops.deploy.processes import server_process, snapshot_dir, start_server
from healops.local.persistence.format import PREVIOUS_FILE, SNAPSHOT_FILE
from healops.local.server import free_port
from tests.conftest import make_client

PASS_THEN_WAIT = {
    "StartAt": "First",
    "States": {"First": {"Type": "Pass", "Next": "Hold"}, "Hold": {"Type": "Wait", "Seconds": 3, "End": True}},
}
ROLE = "arn:aws:iam::123456789012:role/sfn"


def waits_for_a_human(queue_url: str) -> dict[str, Any]:
    """A machine that hands its task token to a queue and waits for it, as the remediator's approval step does."""
    return {
        "StartAt": "Ask",
        "States": {
            "Ask": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {"QueueUrl": queue_url, "MessageBody": {"token.$": "$$.Task.Token"}},
                "End": True,
            }
        },
    }


BLOB = bytes(range(256)) * 400


class Cloud:
    """A cloud process on one port and state directory, started and stopped as the test says."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.port = free_port("127.0.0.1")
        self.endpoint = f"http://127.0.0.1:{self.port}"

    def start(self, snapshot_every: float = 0.0) -> None:
        start_server(self.state_dir, "127.0.0.1", self.port, 1.0, snapshot_every=snapshot_every)

    def client(self, service: str) -> Any:
        return make_client(self.endpoint, service)

    def state(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.endpoint}/_healops/state", timeout=10) as response:
            return json.loads(response.read())


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[Cloud]:
    made = Cloud(tmp_path)
    yield made
    server_process(tmp_path).stop()


def fill(cloud: Cloud) -> dict[str, Any]:
    """One of everything the stack keeps; returns what to look for after the restart."""
    ddb = cloud.client("dynamodb")
    ddb.create_table(
        TableName="kept",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "g", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by_g",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    for i in range(5):
        ddb.put_item(TableName="kept", Item={"pk": {"S": f"item-{i}"}, "g": {"S": "even" if i % 2 == 0 else "odd"}})
    s3 = cloud.client("s3")
    s3.create_bucket(Bucket="kept-bucket")
    s3.put_object(Bucket="kept-bucket", Key="archive/blob.bin", Body=BLOB)
    sqs = cloud.client("sqs")
    queue = sqs.create_queue(QueueName="kept-queue")["QueueUrl"]
    for i in range(3):
        sqs.send_message(QueueUrl=queue, MessageBody=f"message-{i}")
    in_flight = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=1, VisibilityTimeout=4)["Messages"][0]
    cw = cloud.client("cloudwatch")
    now = time.time()
    cw.put_metric_data(
        Namespace="Kept",
        MetricData=[
            {
                "MetricName": "Load",
                "Value": float(i),
                "Timestamp": now - 60 + i,
                "Dimensions": [{"Name": "S", "Value": "a"}],
            }
            for i in range(20)
        ],
    )
    cw.put_metric_alarm(
        AlarmName="kept-alarm",
        Namespace="Kept",
        MetricName="Load",
        Statistic="Maximum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1e9,
        ComparisonOperator="GreaterThanThreshold",
    )
    cw.set_alarm_state(AlarmName="kept-alarm", StateValue="ALARM", StateReason="set by the test")
    logs = cloud.client("logs")
    logs.create_log_group(logGroupName="/kept")
    logs.create_log_stream(logGroupName="/kept", logStreamName="s")
    logs.put_log_events(
        logGroupName="/kept",
        logStreamName="s",
        logEvents=[{"timestamp": int(now * 1000) + i, "message": f"line {i}"} for i in range(4)],
    )
    cloud.client("ssm").put_parameter(Name="/kept/p", Value="v", Type="String")
    # KMS keys hold cryptography's key objects, which pickle cannot take as they are (the stack has one).
    kms = cloud.client("kms")
    symmetric = kms.create_key(Description="kept")["KeyMetadata"]["KeyId"]
    sealed = kms.encrypt(KeyId=symmetric, Plaintext=b"kept secret")["CiphertextBlob"]
    signing = kms.create_key(KeyUsage="SIGN_VERIFY", KeySpec="ECC_NIST_P256")["KeyMetadata"]["KeyId"]
    signed = kms.sign(KeyId=signing, Message=b"kept", SigningAlgorithm="ECDSA_SHA_256")["Signature"]
    sfn = cloud.client("stepfunctions")
    machine = sfn.create_state_machine(name="kept", definition=json.dumps(PASS_THEN_WAIT), roleArn=ROLE)[
        "stateMachineArn"
    ]
    finished = sfn.start_execution(stateMachineArn=machine, name="finished", input='{"n": 1}')["executionArn"]
    wait_for(lambda: sfn.describe_execution(executionArn=finished)["status"] == "SUCCEEDED", 20)
    running = sfn.start_execution(stateMachineArn=machine, name="running", input='{"n": 2}')["executionArn"]
    tokens = sqs.create_queue(QueueName="kept-tokens")["QueueUrl"]
    asking = sfn.create_state_machine(name="asking", definition=json.dumps(waits_for_a_human(tokens)), roleArn=ROLE)[
        "stateMachineArn"
    ]
    waiting = sfn.start_execution(stateMachineArn=asking, name="waiting")["executionArn"]
    wait_for(
        lambda: (
            int(
                sqs.get_queue_attributes(QueueUrl=tokens, AttributeNames=["All"])["Attributes"][
                    "ApproximateNumberOfMessages"
                ]
            )
            > 0
        ),
        20,
    )
    return {
        "sealed": sealed,
        "signing": signing,
        "signed": signed,
        "queue": queue,
        "in_flight": in_flight["Body"],
        "finished": finished,
        "running": running,
        "tokens": tokens,
        "waiting": waiting,
    }


def wait_for(condition: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def check(cloud: Cloud, filled: dict[str, Any]) -> None:
    ddb = cloud.client("dynamodb")
    keys = {item["pk"]["S"] for item in ddb.scan(TableName="kept")["Items"]}
    assert keys == {f"item-{i}" for i in range(5)}
    even = ddb.query(
        TableName="kept",
        IndexName="by_g",
        KeyConditionExpression="g = :g",
        ExpressionAttributeValues={":g": {"S": "even"}},
    )["Items"]
    assert {item["pk"]["S"] for item in even} == {"item-0", "item-2", "item-4"}
    assert cloud.client("s3").get_object(Bucket="kept-bucket", Key="archive/blob.bin")["Body"].read() == BLOB
    sqs = cloud.client("sqs")
    bodies: list[str] = []
    # The message in flight comes back once its visibility timeout ends: retried, not dropped.
    deadline = time.monotonic() + 15
    while len(bodies) < 3 and time.monotonic() < deadline:
        got = sqs.receive_message(QueueUrl=filled["queue"], MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for message in got.get("Messages", []):
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=filled["queue"], ReceiptHandle=message["ReceiptHandle"])
    assert sorted(bodies) == ["message-0", "message-1", "message-2"]
    cw = cloud.client("cloudwatch")
    points = cw.get_metric_statistics(
        Namespace="Kept",
        MetricName="Load",
        Dimensions=[{"Name": "S", "Value": "a"}],
        StartTime=time.time() - 600,
        EndTime=time.time() + 60,
        Period=600,
        Statistics=["SampleCount", "Sum"],
    )["Datapoints"]
    assert [(p["SampleCount"], p["Sum"]) for p in points] == [(20.0, float(sum(range(20))))]
    # The alarm and its history (kept by the project's CloudWatch extension); its state is the evaluator's again.
    assert cw.describe_alarms(AlarmNames=["kept-alarm"])["MetricAlarms"]
    history = cw.describe_alarm_history(AlarmName="kept-alarm", HistoryItemType="StateUpdate")["AlarmHistoryItems"]
    assert any("set by the test" in item["HistoryData"] for item in history)
    events = cloud.client("logs").get_log_events(logGroupName="/kept", logStreamName="s", startFromHead=True)["events"]
    assert [e["message"] for e in events] == [f"line {i}" for i in range(4)]
    assert cloud.client("ssm").get_parameter(Name="/kept/p")["Parameter"]["Value"] == "v"
    kms = cloud.client("kms")
    assert kms.decrypt(CiphertextBlob=filled["sealed"])["Plaintext"] == b"kept secret"
    verified = kms.verify(
        KeyId=filled["signing"], Message=b"kept", Signature=filled["signed"], SigningAlgorithm="ECDSA_SHA_256"
    )
    assert verified["SignatureValid"]
    sfn = cloud.client("stepfunctions")
    history = sfn.get_execution_history(executionArn=filled["finished"])["events"]
    assert history[0]["type"] == "ExecutionStarted" and history[-1]["type"] == "ExecutionSucceeded"
    # The execution that was running is started again with its input and finishes.
    wait_for(lambda: sfn.describe_execution(executionArn=filled["running"])["status"] == "SUCCEEDED", 20)
    assert json.loads(sfn.describe_execution(executionArn=filled["running"])["input"]) == {"n": 2}
    # The execution waiting for a human asks again (a new token; the old one died with its interpreter), and
    # the answer to the new question completes it.
    answered = 0
    deadline = time.monotonic() + 20
    while sfn.describe_execution(executionArn=filled["waiting"])["status"] == "RUNNING":
        assert time.monotonic() < deadline, "the waiting execution was never answered"
        for message in sqs.receive_message(QueueUrl=filled["tokens"], MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
            "Messages", []
        ):
            try:
                sfn.send_task_success(taskToken=json.loads(message["Body"])["token"], output='{"approved_by": "test"}')
                answered += 1
            except sfn.exceptions.ClientError:
                pass  # the token of the interpreter that did not survive
    assert answered == 1
    assert sfn.describe_execution(executionArn=filled["waiting"])["status"] == "SUCCEEDED"


def test_a_clean_stop_and_start_keeps_every_record_message_metric_and_execution(cloud: Cloud) -> None:
    cloud.start()
    filled = fill(cloud)
    assert server_process(cloud.state_dir).stop()  # SIGTERM: the cloud saves its state as it stops
    assert (snapshot_dir(cloud.state_dir) / SNAPSHOT_FILE).exists()
    cloud.start()
    assert cloud.state()["restored"]["path"] == str(snapshot_dir(cloud.state_dir) / SNAPSHOT_FILE)
    check(cloud, filled)


def test_a_killed_cloud_comes_back_from_its_last_periodic_snapshot(cloud: Cloud) -> None:
    cloud.start(snapshot_every=1.0)
    filled = fill(cloud)
    filled_at = time.time()
    wait_for(lambda: (cloud.state()["last_snapshot"] or {}).get("created_at", 0) > filled_at, 20)
    running = server_process(cloud.state_dir).running()
    assert running is not None
    running.send_signal(signal.SIGKILL)
    running.wait(10)
    cloud.start()
    check(cloud, filled)


def test_a_corrupt_snapshot_is_refused_with_its_message_and_kept(cloud: Cloud) -> None:
    cloud.start()
    cloud.client("ssm").put_parameter(Name="/kept/p", Value="v", Type="String")
    assert server_process(cloud.state_dir).stop()
    cloud.start()
    assert server_process(cloud.state_dir).stop()  # a second snapshot: the first is kept as the previous one
    snapshot = snapshot_dir(cloud.state_dir) / SNAPSHOT_FILE
    damaged = bytearray(snapshot.read_bytes())
    damaged[-3] ^= 0xFF
    snapshot.write_bytes(bytes(damaged))
    with pytest.raises(DeployError) as refused:
        cloud.start()
    message = str(refused.value)
    assert message.startswith("the embedded cloud did not start: ") and "\n" not in message
    assert "does not match its sha256 checksum" in message and "healops up --fresh" in message
    assert f"mv {snapshot.parent / PREVIOUS_FILE} {snapshot}" in message
    assert snapshot.read_bytes() == bytes(damaged), "a refused snapshot is never overwritten"
    assert server_process(cloud.state_dir).running() is None


def test_healops_down_says_when_the_cloud_could_not_save_its_state(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from healops.cli import main

    cloud.start()
    cloud.client("ssm").put_parameter(Name="/kept/p", Value="v", Type="String")
    # The save at stop fails for real: its temporary file's name is taken by a folder.
    (snapshot_dir(cloud.state_dir) / "snapshot.tmp").mkdir(parents=True)
    monkeypatch.setenv("HEALOPS_STATE_DIR", str(cloud.state_dir))
    assert main(["down"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: the embedded cloud stopped but could not save its state (") and "Traceback" not in err
    assert "the next `healops up` starts from an empty cloud (no snapshot was ever saved)" in err
    assert server_process(cloud.state_dir).running() is None
