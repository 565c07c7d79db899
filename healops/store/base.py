"""The rules every DynamoDB repository keeps: typed items, conditional writes, paged key queries, and free
text redacted before it is stored.

Every write redacts every string of the item, however deep (AWS keys, bearer tokens, API keys, private keys,
passwords in URLs, cookies, e-mail addresses: :mod:`healops.redaction`), so no caller can store a secret by
forgetting to redact, nor through a field nobody thought was free text; a repository names the attributes it must
store verbatim (:attr:`DynamoRepository.verbatim`: a task token it must hand back), and nothing else escapes.
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
from healops.redaction import redact_value

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
    """Base of every table's repository: the table name, an injected low-level client and the redactor of what it
    writes (``redactor``: the pattern redactor unless given, e.g. one that also knows the configured keys)."""

    # Attributes stored as given; every other attribute's text (strings, and the strings inside lists and
    # mappings) is redacted on every write.
    verbatim: ClassVar[tuple[str, ...]] = ()
    # False for machine state that no untrusted text reaches (the detector's encoded state, the fleet's validated
    # state): a redaction could only corrupt its encoding.
    redact_writes: ClassVar[bool] = True

    def __init__(self, table_name: str, dynamodb_client: Any | None = None, redactor: Redact | None = None) -> None:
        self.table_name = table_name
        self.client = dynamodb_client if dynamodb_client is not None else boto3.client("dynamodb")
        self.redact: Redact = redactor if redactor is not None else pattern_redact

    def redacted(self, item: Mapping[str, Any]) -> dict[str, Any]:
        """``item`` with every attribute but :attr:`verbatim` redacted (what :meth:`_put` stores)."""
        if not self.redact_writes:
            return dict(item)
        # Each attribute as the value of its name ("password": "hunter2" is a secret that "hunter2" alone is not).
        redacted = redact_value({k: v for k, v in item.items() if k not in self.verbatim}, self.redact)
        return {k: v if k in self.verbatim else redacted[k] for k, v in item.items()}

    def _put(self, item: Mapping[str, Any], condition: str | None = None, **condition_values: Any) -> None:
        """Put ``item`` (its free text redacted); with ``condition``, a failed condition raises
        :class:`ConditionFailedError`."""
        kwargs = self.put_request(item, condition, **condition_values)["Put"]
        try:
            self.client.put_item(**kwargs)
        except self.client.exceptions.ConditionalCheckFailedException as exc:
            raise ConditionFailedError(f"{self.table_name}: condition {condition!r} failed") from exc

    def _update(
        self,
        key: Mapping[str, Any],
        set_fields: Mapping[str, Any],
        condition: str,
        remove: Sequence[str] = (),
        **condition_values: Any,
    ) -> None:
        """Set ``set_fields`` (their free text redacted) and remove ``remove`` on the item at ``key`` in one
        conditional UpdateItem: nothing else of the item is written, so a concurrent writer's fields stay. A failed
        ``condition`` raises :class:`ConditionFailedError`."""
        names = {f"#f{n}": name for n, name in enumerate([*set_fields, *remove])}
        by_name = {name: alias for alias, name in names.items()}
        values = {f":f{n}": value for n, value in enumerate(self.redacted(set_fields).values())}
        clauses = []
        if set_fields:
            clauses.append("SET " + ", ".join(f"{by_name[k]} = :f{n}" for n, k in enumerate(set_fields)))
        if remove:
            clauses.append("REMOVE " + ", ".join(by_name[k] for k in remove))
        names.update({k: v for k, v in condition_values.items() if k.startswith("#")})
        values.update({k: v for k, v in condition_values.items() if k.startswith(":")})
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "Key": serialize(key),
            "UpdateExpression": " ".join(clauses),
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
        }
        if values:
            kwargs["ExpressionAttributeValues"] = serialize(values)
        try:
            self.client.update_item(**kwargs)
        except self.client.exceptions.ConditionalCheckFailedException as exc:
            raise ConditionFailedError(f"{self.table_name}: condition {condition!r} failed") from exc

    def put_request(self, item: Mapping[str, Any], condition: str | None = None, **values: Any) -> dict[str, Any]:
        """``item`` (its free text redacted) as one Put of a TransactWriteItems call (see :func:`transact`)."""
        put: dict[str, Any] = {"TableName": self.table_name, "Item": serialize(self.redacted(item))}
        if condition:
            put["ConditionExpression"] = condition
            names = {k: v for k, v in values.items() if k.startswith("#")}
            plain = {k: v for k, v in values.items() if k.startswith(":")}
            if names:
                put["ExpressionAttributeNames"] = names
            if plain:
                put["ExpressionAttributeValues"] = serialize(plain)
        return {"Put": put}

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


def transact(client: Any, requests: Sequence[Mapping[str, Any]]) -> None:
    """Write ``requests`` (``{"Put": ...}``, ``{"Update": ...}``) all or none, in one TransactWriteItems call; a
    failed condition in any of them raises :class:`ConditionFailedError` and nothing is written."""
    try:
        client.transact_write_items(TransactItems=list(requests))
    except client.exceptions.TransactionCanceledException as exc:
        reasons = [r.get("Code", "None") for r in exc.response.get("CancellationReasons", [])]
        if "ConditionalCheckFailed" in reasons:
            raise ConditionFailedError(f"transaction cancelled: {', '.join(reasons)}") from exc
        raise
