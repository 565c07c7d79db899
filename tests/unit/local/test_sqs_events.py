"""The SQS event Lambda receives and the reading of partial batch responses."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from healops.local.sqs.events import failed_message_ids, sqs_event

QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:incidents"


@dataclass
class FakeMessage:
    id: str
    body: str
    receipt_handle: str | None = "handle"
    body_md5: str = "md5-body"
    attribute_md5: str = "md5-attrs"
    message_attributes: dict[str, Any] = field(default_factory=dict)
    sender_id: str = "AIDAEXAMPLE"
    sent_timestamp: int | None = 1700000000000
    approximate_receive_count: int = 2
    approximate_first_receive_timestamp: int | None = 1700000000100
    group_id: str | None = None
    deduplication_id: str | None = None
    sequence_number: str | None = None
    system_attributes: dict[str, Any] = field(default_factory=dict)


def test_record_has_aws_keys_in_order_and_string_attributes() -> None:
    event = sqs_event([FakeMessage("m1", "hello")], QUEUE_ARN, "us-east-1")

    record = event["Records"][0]
    assert list(record) == [
        "messageId",
        "receiptHandle",
        "body",
        "attributes",
        "messageAttributes",
        "md5OfBody",
        "eventSource",
        "eventSourceARN",
        "awsRegion",
    ]
    assert record["attributes"] == {
        "ApproximateReceiveCount": "2",
        "SentTimestamp": "1700000000000",
        "SenderId": "AIDAEXAMPLE",
        "ApproximateFirstReceiveTimestamp": "1700000000100",
    }
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == QUEUE_ARN


def test_fifo_records_carry_group_dedup_and_sequence() -> None:
    message = FakeMessage("m1", "x", group_id="g", deduplication_id="d", sequence_number="18")

    attributes = sqs_event([message], QUEUE_ARN + ".fifo", "us-east-1")["Records"][0]["attributes"]

    assert attributes["MessageGroupId"] == "g"
    assert attributes["MessageDeduplicationId"] == "d"
    assert attributes["SequenceNumber"] == "18"


def test_message_attributes_use_the_event_casing_and_base64_binaries() -> None:
    message = FakeMessage(
        "m1",
        "x",
        message_attributes={
            "kind": {"DataType": "String", "StringValue": "alarm"},
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        },
    )

    record = sqs_event([message], QUEUE_ARN, "us-east-1")["Records"][0]

    assert record["messageAttributes"] == {
        "kind": {"stringValue": "alarm", "stringListValues": [], "binaryListValues": [], "dataType": "String"},
        "blob": {"binaryValue": "AAE=", "stringListValues": [], "binaryListValues": [], "dataType": "Binary"},
    }
    assert record["md5OfMessageAttributes"] == "md5-attrs"


IDS = ["a", "b", "c"]


def answer(value: Any) -> bytes:
    return json.dumps(value).encode()


def test_batch_item_failures_name_the_failed_messages() -> None:
    assert failed_message_ids(answer({"batchItemFailures": [{"itemIdentifier": "b"}]}), IDS) == {"b"}


def test_empty_or_null_answers_are_full_success() -> None:
    for payload in (b"", b"null", answer({}), answer({"batchItemFailures": []}), answer({"batchItemFailures": None})):
        assert failed_message_ids(payload, IDS) == set(), payload


def test_invalid_answers_fail_the_whole_batch() -> None:
    invalid = [
        b"not json",
        answer("ok"),
        answer({"batchItemFailures": "b"}),
        answer({"batchItemFailures": [{"itemIdentifier": ""}]}),
        answer({"batchItemFailures": [{"itemIdentifier": None}]}),
        answer({"batchItemFailures": [{"id": "b"}]}),
        answer({"batchItemFailures": [{"itemIdentifier": "zzz"}]}),
    ]
    for payload in invalid:
        assert failed_message_ids(payload, IDS) == set(IDS), payload
