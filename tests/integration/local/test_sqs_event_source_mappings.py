"""SQS event source mappings consumed by the poller, through real boto3 calls."""

from __future__ import annotations

import io
import json
import time
import uuid
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest

from healops.local.awslambda import LambdaRuntime
from healops.local.context import EmbeddedContext
from healops.local.server import EmbeddedCloud
from healops.local.sqs import EventSourceMappingPoller
from tests.conftest import make_client
from tests.helpers import wait_for

pytestmark = pytest.mark.timeout(120)

# Records every record it is given under <bucket>/<body>/<uuid>, then fails as the body says:
# "fail-first" fails on its first receive only, "always-fail" always; with partial batch
# responses those are reported as item failures, otherwise the function raises.
RECORDING_HANDLER = """
import json, os, uuid, boto3

s3 = boto3.client("s3")

def handler(event, context):
    failures = []
    for record in event["Records"]:
        s3.put_object(
            Bucket=os.environ["BUCKET"],
            Key=f"{record['body']}/{uuid.uuid4().hex}",
            Body=json.dumps({"record": record, "batch_size": len(event["Records"])}),
        )
        first = record["attributes"]["ApproximateReceiveCount"] == "1"
        if record["body"] == "always-fail" or (record["body"] == "fail-first" and first):
            failures.append({"itemIdentifier": record["messageId"]})
    if failures and os.environ.get("PARTIAL") == "yes":
        return {"batchItemFailures": failures}
    if failures:
        raise RuntimeError("failed records: " + str(len(failures)))
    return {"batchItemFailures": []}
"""


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


class Setup:
    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.lam = make_client(endpoint, "lambda")
        self.sqs = make_client(endpoint, "sqs")
        self.s3 = make_client(endpoint, "s3")
        self.role = make_client(endpoint, "iam").create_role(RoleName=unique("role"), AssumeRolePolicyDocument="{}")[
            "Role"
        ]["Arn"]

    def queue(self, **attributes: str) -> tuple[str, str]:
        url = self.sqs.create_queue(QueueName=unique("q"), Attributes=attributes)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return url, arn

    def recording_function(self, partial: bool = False) -> tuple[str, str]:
        bucket = unique("records")
        self.s3.create_bucket(Bucket=bucket)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("app.py", RECORDING_HANDLER)
        name = unique("consumer")
        self.lam.create_function(
            FunctionName=name,
            Runtime="python3.11",
            Role=self.role,
            Handler="app.handler",
            Code={"ZipFile": buffer.getvalue()},
            Timeout=10,
            Environment={"Variables": {"BUCKET": bucket, "PARTIAL": "yes" if partial else "no"}},
        )
        return name, bucket

    def records(self, bucket: str, body: str | None = None) -> list[dict[str, Any]]:
        listed = self.s3.list_objects_v2(Bucket=bucket, Prefix=f"{body}/" if body else "").get("Contents", [])
        return [json.loads(self.s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()) for o in listed]

    def counts(self, url: str) -> tuple[int, int]:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    ctx = EmbeddedContext(port=0, state_dir=tmp_path_factory.mktemp("sqs-state"))
    with EmbeddedCloud(ctx, extensions=[LambdaRuntime(), EventSourceMappingPoller()]) as cloud:
        yield Setup(cloud.endpoint_url)


def test_sent_messages_are_consumed_asynchronously_with_the_aws_event_shape(setup: Setup) -> None:
    url, arn = setup.queue()
    name, bucket = setup.recording_function()
    setup.lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name, BatchSize=10)

    started = time.monotonic()
    setup.sqs.send_message(
        QueueUrl=url,
        MessageBody="hello",
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "greeting"}},
    )
    send_took = time.monotonic() - started
    records = wait_for(lambda: setup.records(bucket, "hello"))

    assert send_took < 0.5  # the sender does not wait for the consumer (moto's own hook would)
    record = records[0]["record"]
    assert record["body"] == "hello"
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == arn
    assert record["awsRegion"] == "us-east-1"
    assert record["md5OfBody"] == "5d41402abc4b2a76b9719d911017c592"
    assert record["messageAttributes"]["kind"]["stringValue"] == "greeting"
    assert record["messageAttributes"]["kind"]["dataType"] == "String"
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert int(record["attributes"]["SentTimestamp"]) > 0
    assert set(record) >= {"messageId", "receiptHandle", "attributes", "md5OfBody"}
    wait_for(lambda: setup.counts(url) == (0, 0))


def test_batch_size_is_honoured(setup: Setup) -> None:
    url, arn = setup.queue()
    name, bucket = setup.recording_function()
    mapping = setup.lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name, BatchSize=2, Enabled=False)
    for index in range(5):
        setup.sqs.send_message(QueueUrl=url, MessageBody=f"m{index}")

    setup.lam.update_event_source_mapping(UUID=mapping["UUID"], Enabled=True)
    records = wait_for(lambda: (found := setup.records(bucket)) and len(found) == 5 and found)

    assert sorted(r["record"]["body"] for r in records) == [f"m{i}" for i in range(5)]
    assert sorted(r["batch_size"] for r in records) == [1, 2, 2, 2, 2]
    wait_for(lambda: setup.counts(url) == (0, 0))


def test_partial_batch_failure_deletes_successes_and_redelivers_the_failed_one_after_visibility(
    setup: Setup,
) -> None:
    url, arn = setup.queue(VisibilityTimeout="1")
    name, bucket = setup.recording_function(partial=True)
    mapping = setup.lam.create_event_source_mapping(
        EventSourceArn=arn,
        FunctionName=name,
        BatchSize=10,
        Enabled=False,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )
    for body in ("good-1", "fail-first", "good-2"):
        setup.sqs.send_message(QueueUrl=url, MessageBody=body)

    setup.lam.update_event_source_mapping(UUID=mapping["UUID"], Enabled=True)
    retried = wait_for(lambda: (found := setup.records(bucket, "fail-first")) and len(found) == 2 and found)

    assert len(setup.records(bucket, "good-1")) == 1
    assert len(setup.records(bucket, "good-2")) == 1
    by_count = {r["record"]["attributes"]["ApproximateReceiveCount"]: r["record"] for r in retried}
    assert set(by_count) == {"1", "2"}
    first_receive = int(by_count["1"]["attributes"]["ApproximateFirstReceiveTimestamp"])
    assert by_count["2"]["attributes"]["ApproximateFirstReceiveTimestamp"] == str(first_receive)
    wait_for(lambda: setup.counts(url) == (0, 0))


def test_a_poison_message_ends_in_the_dlq_after_max_receive_count(setup: Setup) -> None:
    dlq_url, dlq_arn = setup.queue()
    url, arn = setup.queue(
        VisibilityTimeout="1",
        RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 3}),
    )
    name, bucket = setup.recording_function()
    setup.lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name, BatchSize=1)

    setup.sqs.send_message(QueueUrl=url, MessageBody="always-fail")
    moved = wait_for(
        lambda: setup.sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=1).get("Messages"), timeout=20
    )

    assert moved[0]["Body"] == "always-fail"
    attempts = setup.records(bucket, "always-fail")
    assert sorted(r["record"]["attributes"]["ApproximateReceiveCount"] for r in attempts) == ["1", "2", "3"]
    assert setup.counts(url) == (0, 0)


def test_disabling_the_mapping_stops_consumption(setup: Setup) -> None:
    url, arn = setup.queue()
    name, bucket = setup.recording_function()
    mapping = setup.lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name)
    setup.sqs.send_message(QueueUrl=url, MessageBody="before")
    wait_for(lambda: setup.records(bucket, "before"))

    setup.lam.update_event_source_mapping(UUID=mapping["UUID"], Enabled=False)
    time.sleep(0.5)
    setup.sqs.send_message(QueueUrl=url, MessageBody="after")
    time.sleep(1.5)

    assert setup.records(bucket, "after") == []
    assert setup.counts(url) == (1, 0)

    setup.lam.update_event_source_mapping(UUID=mapping["UUID"], Enabled=True)
    wait_for(lambda: setup.records(bucket, "after"))


def test_a_slow_function_does_not_hold_up_another_mapping(setup: Setup) -> None:
    slow_url, slow_arn = setup.queue(VisibilityTimeout="30")
    fast_url, fast_arn = setup.queue()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "import time\n\ndef handler(event, context):\n    time.sleep(4)\n")
    slow = unique("slow")
    setup.lam.create_function(
        FunctionName=slow,
        Runtime="python3.11",
        Role=setup.role,
        Handler="app.handler",
        Code={"ZipFile": buffer.getvalue()},
        Timeout=10,
    )
    fast, bucket = setup.recording_function()
    setup.lam.create_event_source_mapping(EventSourceArn=slow_arn, FunctionName=slow)
    setup.lam.create_event_source_mapping(EventSourceArn=fast_arn, FunctionName=fast)

    setup.sqs.send_message(QueueUrl=slow_url, MessageBody="slow")
    wait_for(lambda: setup.counts(slow_url) == (0, 1))  # the slow function has it
    started = time.monotonic()
    setup.sqs.send_message(QueueUrl=fast_url, MessageBody="fast")
    wait_for(lambda: setup.records(bucket, "fast"))

    assert time.monotonic() - started < 3.0
