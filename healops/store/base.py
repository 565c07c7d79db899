"""The rules every DynamoDB repository keeps: typed items, conditional writes, paged key queries, and free
text redacted before it is stored.

A repository names its free-text attributes (:attr:`DynamoRepository.free_text`: what a detector, a planner,
an LLM or a human wrote); every write redacts them (AWS keys, bearer tokens, API keys, passwords in URLs,
e-mail addresses: :mod:`healops.redaction`), so no caller can store a secret by forgetting to redact.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar, TypeVar

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from healops.redaction import redact as pattern_redact

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


Redact = Callable[[str], str]
T = TypeVar("T")

BATCH_GET_KEYS = 100  # BatchGetItem's limit per call
BATCH_ATTEMPTS = 8  # calls per chunk before what DynamoDB keeps leaving unprocessed is an error


class UnprocessedKeysError(RuntimeError):
    """A batch call left keys or items unprocessed after every retry (the table is throttled): a read is
    incomplete (a caller must not take the missing items for absent ones), or a write did not happen."""


def collect_pages(
    read: Callable[[str | None], tuple[Sequence[T], str | None]], max_pages: int | None = None
) -> list[T]:
    """The items of ``read(page_token)`` page after page, until it gives no next token (or after ``max_pages``)."""
    items: list[T] = []
    token: str | None = None
    pages = 0
    while max_pages is None or pages < max_pages:
        page, token = read(token)
        items.extend(page)
        pages += 1
        if token is None:
            break
    return items


class ConditionFailedError(RuntimeError):
    """A conditional write found the item not as expected (exists already, or another version)."""


def redact_value(value: Any, redact: Redact) -> Any:
    """``value`` with every string in it redacted, in lists and mappings too (mapping keys are kept)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {k: redact_value(v, redact) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(v, redact) for v in value]
    return value


def _to_dynamo(value: Any) -> Any:
    # DynamoDB numbers are Decimals; floats are converted through str to keep their digits.
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, Mapping):
        return {k: _to_dynamo(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_dynamo(v) for v in value]
    return value


def _from_dynamo(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, Mapping):
        return {k: _from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_dynamo(v) for v in value]
    if isinstance(value, set):
        return {_from_dynamo(v) for v in value}
    return value


def serialize(item: Mapping[str, Any]) -> dict[str, Any]:
    """A plain dict (ints, floats, str, bool, None, lists, dicts) as DynamoDB attribute values."""
    return {k: _serializer.serialize(_to_dynamo(v)) for k, v in item.items()}


def deserialize(item: Mapping[str, Any]) -> dict[str, Any]:
    """DynamoDB attribute values back to plain Python (whole numbers as int, others as float)."""
    return {k: _from_dynamo(_deserializer.deserialize(v)) for k, v in item.items()}


def encode_page_token(key: Mapping[str, Any] | None) -> str | None:
    """A LastEvaluatedKey as an opaque, URL-safe token (for APIs that page)."""
    if not key:
        return None
    return base64.urlsafe_b64encode(json.dumps(key, sort_keys=True).encode()).decode()


def decode_page_token(token: str | None) -> dict[str, Any] | None:
    if not token:
        return None
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token.encode()))
    except ValueError as exc:
        raise ValueError("page token is not one this API issued") from exc
    if not isinstance(decoded, dict):
        raise ValueError("page token is not one this API issued")
    return decoded


@dataclass
class Page:
    items: list[dict[str, Any]] = field(default_factory=list)
    next_token: str | None = None


class DynamoRepository:
    """Base of every table's repository: the table name, an injected low-level client and the redactor of its
    free text (``redactor``: the pattern redactor unless given, e.g. one that also knows the configured keys)."""

    # Attributes whose text (strings, and the strings inside lists and mappings) is redacted on every write.
    free_text: ClassVar[tuple[str, ...]] = ()

    def __init__(self, table_name: str, dynamodb_client: Any | None = None, redactor: Redact | None = None) -> None:
        self.table_name = table_name
        self.client = dynamodb_client if dynamodb_client is not None else boto3.client("dynamodb")
        self.redact: Redact = redactor if redactor is not None else pattern_redact

    def redacted(self, item: Mapping[str, Any]) -> dict[str, Any]:
        """``item`` with its free-text attributes redacted (what :meth:`_put` stores)."""
        return {k: redact_value(v, self.redact) if k in self.free_text else v for k, v in item.items()}

    def _put(self, item: Mapping[str, Any], condition: str | None = None, **condition_values: Any) -> None:
        """Put ``item`` (its free text redacted); with ``condition``, a failed condition raises
        :class:`ConditionFailedError`."""
        kwargs: dict[str, Any] = {"TableName": self.table_name, "Item": serialize(self.redacted(item))}
        if condition:
            kwargs["ConditionExpression"] = condition
            names = {k: v for k, v in condition_values.items() if k.startswith("#")}
            values = {k: v for k, v in condition_values.items() if k.startswith(":")}
            if names:
                kwargs["ExpressionAttributeNames"] = names
            if values:
                kwargs["ExpressionAttributeValues"] = serialize(values)
        try:
            self.client.put_item(**kwargs)
        except self.client.exceptions.ConditionalCheckFailedException as exc:
            raise ConditionFailedError(f"{self.table_name}: condition {condition!r} failed") from exc

    def _get(self, key: Mapping[str, Any], consistent: bool = True) -> dict[str, Any] | None:
        response = self.client.get_item(TableName=self.table_name, Key=serialize(key), ConsistentRead=consistent)
        item = response.get("Item")
        return deserialize(item) if item else None

    # seconds before the first retry of unprocessed keys, doubled per retry (AWS asks for exponential backoff)
    batch_backoff_s: ClassVar[float] = 0.05

    def _batch_get(
        self, keys: Sequence[Mapping[str, Any]], projection: str | None = None, names: Mapping[str, str] | None = None
    ) -> list[dict[str, Any]]:
        """The items of ``keys`` that exist (strongly consistent; ``projection`` limits the attributes read), in
        calls of :data:`BATCH_GET_KEYS`; unprocessed keys are retried with backoff, and
        :class:`UnprocessedKeysError` is raised if some are still left after :data:`BATCH_ATTEMPTS` calls."""
        found: list[dict[str, Any]] = []
        for at in range(0, len(keys), BATCH_GET_KEYS):
            request: dict[str, Any] = {"Keys": [serialize(k) for k in keys[at : at + BATCH_GET_KEYS]]}
            request["ConsistentRead"] = True
            if projection:
                request["ProjectionExpression"] = projection
            if names:
                request["ExpressionAttributeNames"] = dict(names)
            pending: dict[str, Any] = {self.table_name: request}
            for attempt in range(BATCH_ATTEMPTS):
                self._backoff(attempt)
                response = self.client.batch_get_item(RequestItems=pending)
                found.extend(deserialize(i) for i in response["Responses"].get(self.table_name, []))
                pending = response.get("UnprocessedKeys") or {}
                if not pending:
                    break
            else:
                left = len(pending[self.table_name]["Keys"])
                raise UnprocessedKeysError(
                    f"{self.table_name}: {left} keys still unprocessed after {BATCH_ATTEMPTS} BatchGetItem calls"
                )
        return found

    def _backoff(self, attempt: int) -> None:
        """Wait before retry ``attempt`` (0: the first call, no wait) of what a batch call left unprocessed."""
        if attempt:
            time.sleep(min(self.batch_backoff_s * 2 ** (attempt - 1), 1.0))

    def _query(
        self,
        key_condition: str,
        values: Mapping[str, Any],
        names: Mapping[str, str] | None = None,
        index: str | None = None,
        limit: int = 50,
        newest_first: bool = True,
        page_token: str | None = None,
    ) -> Page:
        """One page of a key-condition query (on the table or a GSI); never a scan."""
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": key_condition,
            "ExpressionAttributeValues": serialize(values),
            "ScanIndexForward": not newest_first,
            "Limit": limit,
        }
        if names:
            kwargs["ExpressionAttributeNames"] = dict(names)
        if index:
            kwargs["IndexName"] = index
        start = decode_page_token(page_token)
        if start:
            kwargs["ExclusiveStartKey"] = serialize(start)
        response = self.client.query(**kwargs)
        last = response.get("LastEvaluatedKey")
        return Page(
            items=[deserialize(i) for i in response.get("Items", [])],
            next_token=encode_page_token(deserialize(last)) if last else None,
        )
