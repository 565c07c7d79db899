"""The SQS event Lambda receives, and what a function's partial-batch answer means."""

from __future__ import annotations

import base64
import json
from typing import Any, Protocol


class SqsMessage(Protocol):
    """The fields of moto's ``sqs.models.Message`` the event is built from."""

    id: str
    receipt_handle: str | None
    body: str
    body_md5: str
    attribute_md5: str
    message_attributes: dict[str, Any]
    sender_id: str
    sent_timestamp: int | None
    approximate_receive_count: int
    approximate_first_receive_timestamp: int | None
    group_id: str | None
    deduplication_id: str | None
    sequence_number: str | None
    system_attributes: dict[str, Any]


def _binary(value: Any) -> str:
    # The event carries binary values base64-encoded, as ReceiveMessage does.
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode()
    return str(value)


def message_attributes(attributes: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """ReceiveMessage's ``MessageAttributes`` in the event's lower-camel shape."""
    converted: dict[str, dict[str, Any]] = {}
    for name, value in attributes.items():
        entry: dict[str, Any] = {
            "stringValue": value.get("StringValue"),
            "binaryValue": _binary(value["BinaryValue"]) if value.get("BinaryValue") is not None else None,
            "stringListValues": list(value.get("StringListValues") or []),
            "binaryListValues": [_binary(v) for v in value.get("BinaryListValues") or []],
            "dataType": value.get("DataType"),
        }
        converted[name] = {k: v for k, v in entry.items() if v is not None}
    return converted


def sqs_record(message: SqsMessage, queue_arn: str, region: str) -> dict[str, Any]:
    """One ``Records`` entry, with AWS's keys in AWS's order."""
    attributes: dict[str, str] = {
        "ApproximateReceiveCount": str(message.approximate_receive_count),
        "SentTimestamp": str(message.sent_timestamp or 0),
        "SenderId": message.sender_id,
        "ApproximateFirstReceiveTimestamp": str(message.approximate_first_receive_timestamp or 0),
    }
    if queue_arn.endswith(".fifo"):
        if message.sequence_number is not None:
            attributes["SequenceNumber"] = str(message.sequence_number)
        if message.group_id is not None:
            attributes["MessageGroupId"] = message.group_id
        if message.deduplication_id is not None:
            attributes["MessageDeduplicationId"] = message.deduplication_id
    trace_header = (message.system_attributes or {}).get("AWSTraceHeader")
    if trace_header:
        value = trace_header.get("StringValue") if isinstance(trace_header, dict) else trace_header
        attributes["AWSTraceHeader"] = str(value)
    record: dict[str, Any] = {
        "messageId": message.id,
        "receiptHandle": message.receipt_handle,
        "body": message.body,
        "attributes": attributes,
        "messageAttributes": message_attributes(message.message_attributes or {}),
        "md5OfBody": message.body_md5,
    }
    if message.message_attributes:
        record["md5OfMessageAttributes"] = message.attribute_md5
    record.update({"eventSource": "aws:sqs", "eventSourceARN": queue_arn, "awsRegion": region})
    return record


def sqs_event(messages: list[SqsMessage], queue_arn: str, region: str) -> dict[str, Any]:
    return {"Records": [sqs_record(m, queue_arn, region) for m in messages]}


def failed_message_ids(payload: bytes, message_ids: list[str]) -> set[str]:
    """Which messages a ReportBatchItemFailures answer says failed.

    As AWS documents it: no answer, ``null``, an object without ``batchItemFailures`` or with
    an empty or null list is full success; an answer that is not JSON, not an object, or an
    entry whose ``itemIdentifier`` is missing, empty, not a string or not in the batch makes
    the whole batch a failure.
    """
    everything = set(message_ids)
    if not payload.strip():
        return set()
    try:
        answer = json.loads(payload)
    except ValueError:
        return everything
    if answer is None:
        return set()
    if not isinstance(answer, dict):
        return everything
    failures = answer.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return everything
    failed: set[str] = set()
    for entry in failures:
        identifier = entry.get("itemIdentifier") if isinstance(entry, dict) else None
        if not isinstance(identifier, str) or identifier not in everything:
            return everything
        failed.add(identifier)
    return failed
