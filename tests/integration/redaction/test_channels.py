"""Secrets from the redaction corpus sent through each channel Heal-Ops writes to, on an in-process embedded cloud
with real boto3 calls: what lands in the queue, the topic, the bucket and the state machine is masked."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from healops import egress
from healops.deploy.tables import create_tables
from healops.detection.correlate import Change, Episode
from healops.detection.runner import IncidentSink
from healops.local.context import EmbeddedContext
from healops.local.server import EmbeddedCloud
from healops.redaction import MASK
from healops.store.agent_decisions import AgentDecisionsRepository
from healops.store.incidents import IncidentsRepository
from tests.conftest import make_client

CORPUS = json.loads((Path(__file__).parents[2] / "data" / "redaction_corpus.json").read_text())
SECRETS = CORPUS["secrets"]
# The kind of an incident is at most 64 characters: the corpus's short texts.
SHORT = [c for c in SECRETS if len(c["text"]) <= 64]


def strings(value: Any) -> list[str]:
    """Every string in a decoded JSON document (a secret JSON-escaped in the raw text would escape a plain search)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


def leaked(texts: list[str]) -> list[str]:
    """The corpus shapes whose secret is in any of ``texts``."""
    return [c["shape"] for c in SECRETS if any(c["secret"] in t for t in texts)]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    ctx = EmbeddedContext(port=0, state_dir=tmp_path_factory.mktemp("redaction-channels"))
    with EmbeddedCloud(ctx) as cloud:
        yield cloud.endpoint_url


@pytest.fixture
def queue(endpoint: str) -> tuple[Any, str]:
    sqs = make_client(endpoint, "sqs")
    return sqs, sqs.create_queue(QueueName=unique("q"))["QueueUrl"]


def received(sqs: Any, url: str, count: int) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    for _ in range(20):
        answer = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, MessageAttributeNames=["All"]
        )
        messages.extend(answer.get("Messages", []))
        if len(messages) >= count:
            break
    assert len(messages) >= count, f"{len(messages)} of {count} messages arrived"
    return messages


def test_a_queue_message_is_masked_in_its_body_and_attributes(endpoint: str, queue: tuple[Any, str]) -> None:
    sqs, url = queue
    client = egress.redacting(make_client(endpoint, "sqs"))
    body = {"incident_id": "inc-1", "evidence": {"lines": [c["text"] for c in SECRETS]}}
    client.send_message(
        QueueUrl=url,
        MessageBody=json.dumps(body),
        MessageAttributes={"note": {"DataType": "String", "StringValue": SHORT[0]["text"]}},
    )
    client.send_message_batch(
        QueueUrl=url, Entries=[{"Id": str(n), "MessageBody": c["text"]} for n, c in enumerate(SECRETS[:10])]
    )
    messages = received(sqs, url, 11)
    [whole] = [m for m in messages if m["Body"].startswith('{"incident_id"')]
    decoded = json.loads(whole["Body"])  # still JSON: redacted value by value
    assert decoded["incident_id"] == "inc-1" and MASK in decoded["evidence"]["lines"][0]
    assert not leaked([*strings(decoded), whole["MessageAttributes"]["note"]["StringValue"]])
    assert not leaked([m["Body"] for m in messages])


def test_a_topic_message_is_masked_in_its_subject_and_text(endpoint: str, queue: tuple[Any, str]) -> None:
    sqs, url = queue
    sns = make_client(endpoint, "sns")
    topic = sns.create_topic(Name=unique("t"))["TopicArn"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    client = egress.redacting(make_client(endpoint, "sns"))
    client.publish(
        TopicArn=topic, Subject=f"escalation: {SHORT[0]['text']}"[:99], Message="\n".join(c["text"] for c in SECRETS)
    )
    [message] = received(sqs, url, 1)
    envelope = json.loads(message["Body"])
    assert MASK in envelope["Message"] and MASK in envelope["Subject"]
    assert not leaked([envelope["Message"], envelope["Subject"]])


def test_a_bucket_object_is_masked_and_stays_json(endpoint: str) -> None:
    s3 = make_client(endpoint, "s3")
    bucket = unique("b")
    s3.create_bucket(Bucket=bucket)
    client = egress.redacting(make_client(endpoint, "s3"))
    document = {"signals": [{"detail": c["text"]} for c in SECRETS]}
    client.put_object(Bucket=bucket, Key="e.json", Body=json.dumps(document).encode(), ContentType="application/json")
    lines = "".join(json.dumps({"line": c["text"]}) + "\n" for c in SECRETS)
    client.put_object(Bucket=bucket, Key="e.jsonl", Body=lines, ContentType="application/x-ndjson")
    client.put_object(
        Bucket=bucket,
        Key="e.txt",
        Body="\n".join(c["text"] for c in SECRETS),
        ContentType="text/plain",
        Metadata={"by": SHORT[0]["text"]},
    )
    stored = json.loads(s3.get_object(Bucket=bucket, Key="e.json")["Body"].read())
    assert len(stored["signals"]) == len(SECRETS) and not leaked(strings(stored))
    rows = [json.loads(row) for row in s3.get_object(Bucket=bucket, Key="e.jsonl")["Body"].read().splitlines()]
    assert len(rows) == len(SECRETS) and not leaked(strings(rows))
    text = s3.get_object(Bucket=bucket, Key="e.txt")
    assert not leaked([text["Body"].read().decode(), *text["Metadata"].values()])


@pytest.mark.parametrize(
    ("content_type", "encoding"), [("application/octet-stream", None), ("", None), ("application/json", "gzip")]
)
def test_a_body_the_client_cannot_read_is_refused_naming_what_is_accepted(
    endpoint: str, content_type: str, encoding: str | None
) -> None:
    s3 = make_client(endpoint, "s3")
    bucket = unique("b")
    s3.create_bucket(Bucket=bucket)
    extra = {"ContentEncoding": encoding} if encoding else {}
    with pytest.raises(egress.UnredactableWriteError, match="accepted are application/json"):
        egress.redacting(make_client(endpoint, "s3")).put_object(
            Bucket=bucket, Key="x", Body=b"\x1f\x8b", ContentType=content_type, **extra
        )
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)


def test_an_execution_input_and_a_task_answer_are_masked(endpoint: str) -> None:
    sfn = make_client(endpoint, "stepfunctions")
    role = make_client(endpoint, "iam").create_role(RoleName=unique("r"), AssumeRolePolicyDocument="{}")["Role"]
    machine = sfn.create_state_machine(
        name=unique("m"),
        definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}),
        roleArn=role["Arn"],
    )["stateMachineArn"]
    client = egress.redacting(make_client(endpoint, "stepfunctions"))
    summary = " ".join(c["text"] for c in SECRETS if "\n" not in c["text"])
    arn = client.start_execution(
        stateMachineArn=machine, name="inc-2", input=json.dumps({"incident": {"summary": summary}})
    )["executionArn"]
    stored = json.loads(sfn.describe_execution(executionArn=arn)["input"])
    assert MASK in stored["incident"]["summary"] and not leaked(strings(stored))


def test_the_detectors_sink_masks_every_field_of_the_message_and_the_evidence(endpoint: str) -> None:
    """The detector's adapter with plain clients, as its handler builds it: a secret in the incident's kind (a
    field nobody thought free text) and in the signals' details leaves neither by the queue nor by the bucket."""
    dynamodb, sqs, s3 = (make_client(endpoint, n) for n in ("dynamodb", "sqs", "s3"))
    names = create_tables(dynamodb, {"incidents": unique("incidents"), "agent_decisions": unique("decisions")})
    url = sqs.create_queue(QueueName=unique("incidents"))["QueueUrl"]
    bucket = unique("artifacts")
    s3.create_bucket(Bucket=bucket)
    sink = IncidentSink(
        IncidentsRepository(names["incidents"], dynamodb),
        AgentDecisionsRepository(names["agent_decisions"], dynamodb),
        make_client(endpoint, "sqs"),
        url,
        make_client(endpoint, "s3"),
        bucket,
    )
    signals = [{"kind": "log_storm", "service": "checkout", "detail": c["text"], "tick": 1} for c in SECRETS]
    episode = Episode("checkout-x-1", "checkout", "x", SHORT[0]["text"], 1, 1, signals=signals)
    assert sink.apply(Change("open", episode), {"signals": signals}, datetime(2026, 1, 1, tzinfo=UTC))

    [message] = received(sqs, url, 1)
    body = json.loads(message["Body"])
    assert body["incident_id"] == "checkout-x-1" and body["kind"] == sink.incidents.redact(SHORT[0]["text"])
    assert not leaked(strings(body))
    evidence = json.loads(s3.get_object(Bucket=bucket, Key="incidents/checkout-x-1/evidence.json")["Body"].read())
    assert len(evidence["signals"]) == len(SECRETS) and not leaked(strings(evidence))
