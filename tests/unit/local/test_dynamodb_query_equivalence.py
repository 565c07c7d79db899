"""In-process differential: indexed Query answers equal moto's own scan-based answers.

A moto DynamoDBBackend is driven directly (no server): random puts, in-place updates that
change or remove GSI key attributes, deletes, transactions (including rolled-back ones) and
UpdateTable; after every few writes, many random queries are answered both by
``route_query`` (the index) and by moto's original ``Table.query`` and compared exactly.
"""

from __future__ import annotations

import contextlib
import random
from typing import Any

import pytest
from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import MultipleTransactionsException, TransactionCanceledException
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType

from healops.local.context import EmbeddedContext
from healops.local.dynamodb import models

# Thousands of random writes and queries, compared: outside the fast subset (make test-fast).
pytestmark = pytest.mark.slow

STATUSES = ["open", "ack", "resolved", "closed"]
SERVICES = [f"svc-{i}" for i in range(6)]


@pytest.fixture
def backend() -> Any:
    models.install_patches()
    models.activate(EmbeddedContext(port=1))
    yield DynamoDBBackend("us-east-1", "123456789012")
    models.activate(None)


def _create(backend: Any, name: str, range_type: str | None, gsis: list[dict[str, Any]], lsis: Any = None) -> Any:
    schema = [{"AttributeName": "pk", "KeyType": "HASH"}]
    attrs = [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "status", "AttributeType": "S"},
        {"AttributeName": "opened_at", "AttributeType": "S"},
        {"AttributeName": "service", "AttributeType": "S"},
        {"AttributeName": "severity", "AttributeType": "N"},
    ]
    if range_type:
        schema.append({"AttributeName": "sk", "KeyType": "RANGE"})
        attrs.append({"AttributeName": "sk", "AttributeType": range_type})
    return backend.create_table(
        name=name,
        schema=schema,
        throughput=None,
        attr=attrs,
        global_indexes=gsis,
        indexes=lsis,
        streams=None,
        billing_mode="PAY_PER_REQUEST",
        sse_specification=None,
        tags=[],
        deletion_protection_enabled=False,
        warm_throughput=None,
    )


def _gsi(name: str, hash_attr: str, range_attr: str | None, projection: str = "ALL") -> dict[str, Any]:
    schema = [{"AttributeName": hash_attr, "KeyType": "HASH"}]
    if range_attr:
        schema.append({"AttributeName": range_attr, "KeyType": "RANGE"})
    proj: dict[str, Any] = {"ProjectionType": projection}
    if projection == "INCLUDE":
        proj["NonKeyAttributes"] = ["note"]
    return {"IndexName": name, "KeySchema": schema, "Projection": proj}


def _key(table: Any, rng: random.Random, pool: int) -> dict[str, Any]:
    key: dict[str, Any] = {"pk": {"S": f"p{rng.randrange(pool):03d}"}}
    if table.range_key_attr:
        if table.range_key_type == "N":
            key["sk"] = {"N": str(rng.randrange(4))}
        else:
            key["sk"] = {"S": f"s{rng.randrange(4)}"}
    return key


def _item(table: Any, rng: random.Random, pool: int) -> dict[str, Any]:
    item = _key(table, rng, pool)
    if rng.random() < 0.9:
        item["status"] = {"S": rng.choice(STATUSES)}
    if rng.random() < 0.85:
        item["opened_at"] = {"S": f"2024-05-{rng.randrange(1, 29):02d}T{rng.randrange(24):02d}"}
    if rng.random() < 0.8:
        item["service"] = {"S": rng.choice(SERVICES)}
    if rng.random() < 0.8:
        item["severity"] = {"N": str(rng.choice([1, 2, 3, 10, -1, 2.5]))}
    if rng.random() < 0.5:
        item["note"] = {"S": "x" * rng.randrange(1, 40)}
    return item


def _update(backend: Any, table: Any, rng: random.Random, pool: int) -> None:
    key = _key(table, rng, pool)
    choice = rng.random()
    if choice < 0.4:
        expr, values = "SET #s = :v", {":v": {"S": rng.choice(STATUSES)}}
        names = {"#s": "status"}
    elif choice < 0.6:
        expr, values, names = "REMOVE #s", {}, {"#s": rng.choice(["status", "opened_at", "service", "severity"])}
    elif choice < 0.8:
        expr = "SET opened_at = :o, severity = :n"
        values = {":o": {"S": f"2024-06-{rng.randrange(1, 29):02d}T00"}, ":n": {"N": str(rng.randrange(5))}}
        names = {}
    else:
        expr, values, names = "SET note = :n", {":n": {"S": "updated"}}, {}
    backend.update_item(table.name, key, expr, names, values)


def _mutate(backend: Any, table: Any, rng: random.Random, pool: int) -> None:
    op = rng.random()
    if op < 0.45:
        backend.put_item(table.name, _item(table, rng, pool))
    elif op < 0.75:
        _update(backend, table, rng, pool)
    elif op < 0.9:
        backend.delete_item(table.name, _key(table, rng, pool))
    else:
        ops: list[dict[str, Any]] = [
            {"Put": {"TableName": table.name, "Item": _item(table, rng, pool)}},
            {"Delete": {"TableName": table.name, "Key": _key(table, rng, pool)}},
        ]
        if rng.random() < 0.5:  # a failing condition rolls the whole table back
            ops.append(
                {
                    "ConditionCheck": {
                        "TableName": table.name,
                        "Key": _key(table, rng, pool),
                        "ConditionExpression": "attribute_exists(nothing_has_this)",
                    }
                }
            )
        # Cancelled (failed condition) or refused (two operations on one key): both roll back.
        with contextlib.suppress(TransactionCanceledException, MultipleTransactionsException):
            backend.transact_write_items(ops)


def _value_for(attr: str, rng: random.Random) -> dict[str, Any]:
    if attr == "status":
        return {"S": rng.choice(STATUSES)}
    if attr == "service":
        return {"S": rng.choice(SERVICES)}
    if attr == "opened_at":
        return {"S": f"2024-05-{rng.randrange(1, 29):02d}"}
    if attr == "severity":
        return {"N": str(rng.choice([0, 1, 2, 3, 10]))}
    return {"S": f"p{rng.randrange(40):03d}"}


def _random_call(table: Any, index: Any, rng: random.Random) -> models.QueryCall:
    hash_attrs = [k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"]
    range_attrs = [k["AttributeName"] for k in index.schema if k["KeyType"] == "RANGE"]
    hash_conditions = [(a, DynamoType(_value_for(a, rng))) for a in hash_attrs]
    range_conditions: list[tuple[str, str, list[DynamoType]]] = []
    if range_attrs and rng.random() < 0.6:
        attr = range_attrs[0]
        op = rng.choice(["=", "<", "<=", ">", ">=", "BETWEEN", "BEGINS_WITH"])
        if op == "BETWEEN":
            a, b = sorted([_value_for(attr, rng), _value_for(attr, rng)], key=lambda v: DynamoType(v).cast_value)
            values = [DynamoType(a), DynamoType(b)]
        elif op == "BEGINS_WITH":
            if attr == "severity":
                op = ">="
                values = [DynamoType(_value_for(attr, rng))]
            else:
                values = [DynamoType({"S": rng.choice(["2024-05-1", "2024-05-2", "2024-05", "z", "2024-05-0"])})]
        else:
            values = [DynamoType(_value_for(attr, rng))]
        range_conditions.append((attr, op, values))
    filter_expression = None
    if rng.random() < 0.25:
        filter_expression = get_filter_expression("attribute_exists(note)", {}, {})
    elif rng.random() < 0.15:
        filter_expression = get_filter_expression("severity > :n", {}, {":n": {"N": "1"}})
    projection = [["pk"], ["status"]] if rng.random() < 0.2 else None
    last = range_conditions[-1] if range_conditions else None
    return models.QueryCall(
        hash_key=hash_conditions[0][1],
        range_comparison=last[1] if last else None,
        range_objs=last[2] if last else [],
        limit=rng.choice([None, 1, 2, 3, 5, 50]),
        exclusive_start_key=None,
        scan_index_forward=rng.random() < 0.5,
        projection_expressions=projection,
        index_name=index.name,
        consistent_read=False,
        filter_expression=filter_expression,
        hash_key_conditions=hash_conditions,
        range_key_conditions=range_conditions,
        filter_kwargs={},
    )


def _as_json(answer: tuple[list[Any], int, dict[str, Any] | None]) -> Any:
    items, scanned, last_key = answer
    key = {k: (v.to_json() if isinstance(v, DynamoType) else v) for k, v in (last_key or {}).items()}
    return [i.to_json() for i in items], scanned, key if last_key is not None else None


def _compare_all_pages(table: Any, call: models.QueryCall) -> int:
    """Page through both answers with the same ExclusiveStartKeys; return pages compared."""
    pages = 0
    while True:
        indexed = models.route_query(table, call)
        assert indexed is not None, f"index declined {call}"
        expected = call.run(table)
        assert _as_json(indexed) == _as_json(expected), f"differs for {call}"
        pages += 1
        last_key = expected[2]
        if last_key is None or call.limit is None or pages > 200:
            return pages
        call.exclusive_start_key = {k: (v.to_json() if isinstance(v, DynamoType) else v) for k, v in last_key.items()}


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("range_type", [None, "S", "N"])
def test_indexed_gsi_queries_equal_moto_after_random_writes(backend: Any, seed: int, range_type: str | None) -> None:
    rng = random.Random(seed * 100 + (0 if range_type is None else ord(range_type)))
    name = f"eq-{seed}-{range_type}"
    table = _create(
        backend,
        name,
        range_type,
        [
            _gsi("by_status", "status", "opened_at"),
            _gsi("by_service", "service", "severity", projection="INCLUDE"),
            _gsi("by_status_only", "status", None, projection="KEYS_ONLY"),
        ],
    )
    pool = 40
    pages = 0
    for step in range(30):
        for _ in range(15):
            _mutate(backend, table, rng, pool)
        table = backend.get_table(name)  # a rolled-back transaction replaces the table object
        if step == 10:
            backend.update_table(name, [], [{"Create": _gsi("late", "service", "opened_at")}], {}, "", {}, None, None)
        if step == 20:
            backend.update_table(name, [], [{"Delete": {"IndexName": "late"}}], {}, "", {}, None, None)
        for _ in range(12):
            index = rng.choice(table.global_indexes)
            pages += _compare_all_pages(table, _random_call(table, index, rng))
    assert pages > 300
    assert models.query_counts["gsi_indexed"] > 0


def test_table_recreated_with_same_name_starts_a_fresh_index(backend: Any) -> None:
    rng = random.Random(7)
    table = _create(backend, "recreated", None, [_gsi("by_status", "status", "opened_at")])
    for _ in range(60):
        backend.put_item("recreated", _item(table, rng, 30))
    call = _random_call(table, table.global_indexes[0], rng)
    _compare_all_pages(table, call)
    backend.delete_table("recreated")
    table = _create(backend, "recreated", "S", [_gsi("by_status", "status", "opened_at")])
    for _ in range(20):
        backend.put_item("recreated", _item(table, rng, 30))
    for status in STATUSES:
        call = _random_call(table, table.global_indexes[0], rng)
        call.hash_key_conditions = [("status", DynamoType({"S": status}))]
        _compare_all_pages(table, call)


def test_base_table_and_lsi_queries_read_one_partition_and_equal_moto(backend: Any) -> None:
    rng = random.Random(11)
    lsi = [
        {
            "IndexName": "by_opened",
            "KeySchema": [
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "opened_at", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        }
    ]
    table = _create(backend, "lsi-table", "N", [], lsis=lsi)
    for _ in range(300):
        _mutate(backend, table, rng, 8)
    table = backend.get_table("lsi-table")
    before = models.query_counts["table_partition"] + models.query_counts["lsi_partition"]
    for _ in range(80):
        hash_value = DynamoType({"S": f"p{rng.randrange(9):03d}"})
        use_lsi = rng.random() < 0.5
        range_conditions: list[Any] = []
        if rng.random() < 0.5:
            attr = "opened_at" if use_lsi else "sk"
            value = _value_for("opened_at", rng) if use_lsi else {"N": str(rng.randrange(4))}
            range_conditions = [(attr, rng.choice(["<", ">=", "="]), [DynamoType(value)])]
        last = range_conditions[-1] if range_conditions else None
        call = models.QueryCall(
            hash_key=hash_value,
            range_comparison=last[1] if last else None,
            range_objs=last[2] if last else [],
            limit=rng.choice([None, 1, 2]),
            exclusive_start_key=None,
            scan_index_forward=rng.random() < 0.5,
            projection_expressions=None,
            index_name="by_opened" if use_lsi else None,
            consistent_read=False,
            filter_expression=None,
            hash_key_conditions=[("pk", hash_value)],
            range_key_conditions=range_conditions,
            filter_kwargs={},
        )
        _compare_all_pages(table, call)
    assert models.query_counts["table_partition"] + models.query_counts["lsi_partition"] > before


def test_gsi_key_of_the_wrong_type_makes_the_index_step_aside(backend: Any) -> None:
    table = _create(backend, "mistyped", None, [_gsi("by_service", "service", "severity")])
    backend.put_item("mistyped", {"pk": {"S": "a"}, "service": {"S": "x"}, "severity": {"N": "1"}})
    backend.put_item("mistyped", {"pk": {"S": "b"}, "service": {"S": "x"}, "severity": {"S": "high"}})
    call = _random_call(table, table.global_indexes[0], random.Random(1))
    call.hash_key_conditions = [("service", DynamoType({"S": "x"}))]
    assert models.route_query(table, call) is None  # moto answers (and fails as moto does)
    backend.delete_item("mistyped", {"pk": {"S": "b"}})
    assert models.route_query(table, call) is not None
