"""The repository base: typed round trips, conditional writes, paged queries (moto, narrow unit tests)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from healops.store.base import (
    BATCH_ATTEMPTS,
    ConditionFailedError,
    DynamoRepository,
    UnprocessedKeysError,
    collect_pages,
    decode_page_token,
    deserialize,
    serialize,
)


class Things(DynamoRepository):
    def put_new(self, item: dict[str, Any]) -> None:
        self._put(item, "attribute_not_exists(#pk)", **{"#pk": "pk"})

    def get(self, pk: str, sk: str) -> dict[str, Any] | None:
        return self._get({"pk": pk, "sk": sk})

    def page(self, pk: str, token: str | None = None) -> Any:
        return self._query("pk = :pk", {":pk": pk}, limit=2, page_token=token)

    def many(self, keys: list[tuple[str, str]]) -> list[dict[str, Any]]:
        return self._batch_get([{"pk": pk, "sk": sk} for pk, sk in keys], projection="pk, sk, #v", names={"#v": "v"})


@pytest.fixture
def things() -> Iterator[Things]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="things",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        yield Things("things", dynamodb_client=client)


def test_values_round_trip_with_ints_and_floats_kept_apart() -> None:
    item = {"a": 1, "b": 2.5, "c": "x", "d": None, "e": [1, 0.1, {"f": True}]}
    assert deserialize(serialize(item)) == item


def test_conditional_put_refuses_a_second_write(things: Things) -> None:
    things.put_new({"pk": "p", "sk": "1", "v": 1})
    with pytest.raises(ConditionFailedError, match="attribute_not_exists"):
        things.put_new({"pk": "p", "sk": "1", "v": 2})
    assert things.get("p", "1") == {"pk": "p", "sk": "1", "v": 1}


def test_query_pages_newest_first_until_exhausted(things: Things) -> None:
    for sk in "12345":
        things.put_new({"pk": "p", "sk": sk})
    seen, token = [], None
    while True:
        page = things.page("p", token)
        seen += [i["sk"] for i in page.items]
        token = page.next_token
        if token is None:
            break
    assert seen == ["5", "4", "3", "2", "1"]


def test_foreign_page_token_is_refused() -> None:
    with pytest.raises(ValueError, match="not one this API issued"):
        decode_page_token("not-base64-json")


def test_collect_pages_reads_until_no_next_token_or_the_page_bound() -> None:
    pages = {None: ([1, 2], "a"), "a": ([3], "b"), "b": ([4], None)}
    reads: list[str | None] = []

    def read(token: str | None) -> tuple[list[int], str | None]:
        reads.append(token)
        return pages[token]

    assert collect_pages(read) == [1, 2, 3, 4] and reads == [None, "a", "b"]
    reads.clear()
    assert collect_pages(read, max_pages=2) == [1, 2, 3] and reads == [None, "a"]


def _count_calls(things: Things, operation: str) -> list[int]:
    calls: list[int] = []
    things.client.meta.events.register(f"before-call.dynamodb.{operation}", lambda **_: calls.append(1))
    return calls


def test_batch_get_reads_the_existing_keys_in_calls_of_100_and_only_the_projected_attributes(things: Things) -> None:
    for n in range(250):
        things.put_new({"pk": "p", "sk": f"{n:03}", "v": n, "big": "x" * 100})
    calls = _count_calls(things, "BatchGetItem")
    found = things.many([("p", f"{n:03}") for n in range(260)])  # the last 10 do not exist
    assert sorted(i["v"] for i in found) == list(range(250))
    assert all(set(i) == {"pk", "sk", "v"} for i in found)
    assert len(calls) == 3


class Throttled:
    """A client whose BatchGetItem leaves the last key of every call unprocessed for the first ``throttled`` calls
    (what DynamoDB does under throttling; moto never does)."""

    def __init__(self, client: Any, throttled: int) -> None:
        self.client, self.throttled, self.calls = client, throttled, 0

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        self.calls += 1
        if self.calls > self.throttled:
            return self.client.batch_get_item(RequestItems=RequestItems)
        ((table, request),) = RequestItems.items()
        *served, held = request["Keys"]
        response = self.client.batch_get_item(RequestItems={table: {**request, "Keys": served}} if served else {})
        response.setdefault("Responses", {})
        return {**response, "UnprocessedKeys": {table: {**request, "Keys": [held]}}}


def test_batch_get_retries_unprocessed_keys_and_raises_rather_than_return_a_partial_read(things: Things) -> None:
    for n in range(3):
        things.put_new({"pk": "p", "sk": str(n), "v": n})
    keys = [("p", str(n)) for n in range(3)]
    retried = Things("things", dynamodb_client=Throttled(things.client, throttled=2))
    retried.batch_backoff_s = 0
    assert sorted(i["v"] for i in retried.many(keys)) == [0, 1, 2]
    assert retried.client.calls == 3
    stuck = Things("things", dynamodb_client=Throttled(things.client, throttled=BATCH_ATTEMPTS + 5))
    stuck.batch_backoff_s = 0
    with pytest.raises(UnprocessedKeysError, match=f"things: 1 keys still unprocessed after {BATCH_ATTEMPTS}"):
        stuck.many(keys)
