"""The GSI index structure and the query window, without a server."""

from __future__ import annotations

import random
from typing import Any

from moto.dynamodb.models.dynamo_type import DynamoType, Item

from healops.local.dynamodb.gsi_index import GsiIndex, first_false, first_true, query_window


def _index() -> GsiIndex:
    return GsiIndex(
        signature=(("status", "HASH"), ("opened_at", "RANGE")),
        hash_attrs=["status"],
        range_attrs=["opened_at"],
        sort_attrs=["opened_at", "pk"],
        expected_types={"status": "S", "opened_at": "S", "pk": "S"},
    )


def _item(pk: str, **attrs: str) -> tuple[Any, Item]:
    body = {"pk": {"S": pk}, **{k: {"S": v} for k, v in attrs.items()}}
    key = (DynamoType({"S": pk}), None)
    return key, Item(key[0], None, body)


def _pks(index: GsiIndex, status: str) -> list[str]:
    partition = index.partition((DynamoType({"S": status}),))
    return [i.attrs["pk"].value for i in partition.items] if partition else []


def test_items_are_filed_by_hash_value_in_range_then_table_key_order() -> None:
    index = _index()
    for pk, opened in [("c", "2"), ("a", "2"), ("b", "1"), ("d", "3")]:
        index.put(*_item(pk, status="open", opened_at=opened))
    index.put(*_item("e", status="closed", opened_at="1"))
    assert _pks(index, "open") == ["b", "a", "c", "d"]
    assert _pks(index, "closed") == ["e"]


def test_items_without_every_key_attribute_are_left_out() -> None:
    index = _index()
    index.put(*_item("a", status="open"))
    index.put(*_item("b", opened_at="1"))
    assert len(index) == 0
    assert index.usable


def test_changing_or_removing_a_key_attribute_moves_or_drops_the_item() -> None:
    index = _index()
    key, item = _item("a", status="open", opened_at="1")
    index.put(key, item)
    item.attrs["status"] = DynamoType({"S": "closed"})
    index.put(key, item)
    assert _pks(index, "open") == []
    assert _pks(index, "closed") == ["a"]
    del item.attrs["opened_at"]
    index.put(key, item)
    assert len(index) == 0
    index.put(key, None)
    assert len(index) == 0


def test_a_key_value_of_the_wrong_type_marks_the_index_unusable_until_it_is_gone() -> None:
    index = _index()
    key = (DynamoType({"S": "a"}), None)
    odd = Item(key[0], None, {"pk": {"S": "a"}, "status": {"S": "open"}, "opened_at": {"N": "5"}})
    index.put(key, odd)
    assert not index.usable
    index.put(key, None)
    assert index.usable


def test_bulk_load_equals_one_by_one_puts() -> None:
    rng = random.Random(3)
    rows = [_item(f"p{i}", status=rng.choice("xyz"), opened_at=str(rng.randrange(9))) for i in range(200)]
    one_by_one, bulk = _index(), _index()
    for key, item in rows:
        one_by_one.put(key, item)
    bulk.load(rows)
    for status in "xyz":
        assert _pks(one_by_one, status) == _pks(bulk, status)


def test_bisection_helpers_find_the_boundary() -> None:
    values = [1, 1, 2, 3, 3, 3, 7]
    assert first_true(0, len(values), lambda i: values[i] >= 3) == 3
    assert first_false(0, len(values), lambda i: values[i] < 3) == 3
    assert first_true(0, len(values), lambda i: values[i] > 9) == len(values)
    assert first_false(0, 0, lambda i: True) == 0


def test_window_keeps_one_item_after_the_block_for_the_last_evaluated_key() -> None:
    window = query_window(10, forward=True, block=(2, 5), resume_at=None, limit=None)
    assert (window.start, window.stop, window.suffix_trimmed) == (2, 6, True)
    window = query_window(10, forward=False, block=(2, 5), resume_at=None, limit=None)
    assert (window.start, window.stop, window.suffix_trimmed) == (1, 5, True)


def test_window_with_a_limit_hands_moto_limit_plus_one_items() -> None:
    window = query_window(100, forward=True, block=None, resume_at=10, limit=5)
    assert (window.start, window.stop) == (10, 16)
    window = query_window(100, forward=False, block=None, resume_at=40, limit=5)
    assert (window.start, window.stop) == (34, 40)


def test_window_past_the_block_is_empty() -> None:
    window = query_window(10, forward=True, block=(2, 5), resume_at=8, limit=None)
    assert window.start == window.stop
    window = query_window(10, forward=False, block=(6, 9), resume_at=3, limit=None)
    assert window.start == window.stop
