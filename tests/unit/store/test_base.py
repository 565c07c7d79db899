"""The repository base: typed round trips, conditional writes, paged queries (moto, narrow unit tests)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from healops.store.base import (
    ConditionFailedError,
    DynamoRepository,
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
