"""Over HTTP: the extended endpoint answers GSI queries exactly as plain moto does.

Plain moto runs in a subprocess (an EmbeddedCloud with ``extensions=[]``: moto's backends are
process-global, so the two must not share a process). Both endpoints get the same randomized
writes (puts, updates that change or remove GSI keys, deletes, batch writes, transactions,
some failing) and the same queries, compared response by response.
"""

from __future__ import annotations

import random
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from healops.local.context import EmbeddedContext
from healops.local.dynamodb import IndexedGlobalSecondaryIndexes, describe_counts
from healops.local.server import EmbeddedCloud
from tests.conftest import make_client

PLAIN_SERVER = """
import sys, threading
from pathlib import Path
from healops.local.context import EmbeddedContext
from healops.local.server import EmbeddedCloud
cloud = EmbeddedCloud(EmbeddedContext(port=0, state_dir=Path(sys.argv[1])), extensions=[]).start()
print(cloud.endpoint_url, flush=True)
sys.stdin.read()
cloud.stop()
"""

STATUSES = ["open", "acknowledged", "resolved", "closed"]
SERVICES = ["checkout", "payments", "search", "auth", "inventory"]


@pytest.fixture(scope="module")
def plain_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    state = tmp_path_factory.mktemp("plain")
    proc = subprocess.Popen(
        [sys.executable, "-c", PLAIN_SERVER, str(state)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[3],
    )
    assert proc.stdout is not None
    endpoint = proc.stdout.readline().strip()
    assert endpoint.startswith("http://"), f"plain moto did not start: {endpoint!r}"
    yield endpoint
    assert proc.stdin is not None
    proc.stdin.close()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def extended_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    ctx = EmbeddedContext(port=0, state_dir=tmp_path_factory.mktemp("extended"))
    with EmbeddedCloud(ctx, extensions=[IndexedGlobalSecondaryIndexes()]) as cloud:
        yield cloud.endpoint_url


class Pair:
    """The same call on both endpoints; answers (or error codes) must be equal."""

    def __init__(self, plain: str, extended: str) -> None:
        self.plain = make_client(plain, "dynamodb")
        self.extended = make_client(extended, "dynamodb")

    def both(self, operation: str, **kwargs: Any) -> Any:
        """Call both; compare whole answers, except table descriptions (dates and ARNs
        differ between two servers): for those only success or the error code."""
        answers = []
        for client in (self.plain, self.extended):
            try:
                answer = getattr(client, operation)(**kwargs)
                answer.pop("ResponseMetadata", None)
                answers.append(answer)
            except ClientError as exc:
                answers.append(("error", exc.response["Error"]["Code"]))
        if operation.endswith("_table"):
            answers = [a if isinstance(a, tuple) else "ok" for a in answers]
        assert answers[0] == answers[1], f"{operation} {kwargs} differs"
        return answers[1]

    def all_pages(self, **query: Any) -> int:
        pages = 0
        while True:
            answer = self.both("query", **query)
            pages += 1
            if isinstance(answer, tuple) or "LastEvaluatedKey" not in answer:
                return pages
            query["ExclusiveStartKey"] = answer["LastEvaluatedKey"]


@pytest.fixture
def pair(plain_endpoint: str, extended_endpoint: str) -> Pair:
    return Pair(plain_endpoint, extended_endpoint)


def _create_incidents(pair: Pair, name: str, range_type: str | None = None, with_gsis: bool = True) -> None:
    attrs = [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "status", "AttributeType": "S"},
        {"AttributeName": "opened_at", "AttributeType": "S"},
        {"AttributeName": "service", "AttributeType": "S"},
        {"AttributeName": "severity", "AttributeType": "N"},
    ]
    schema = [{"AttributeName": "pk", "KeyType": "HASH"}]
    if range_type:
        attrs.append({"AttributeName": "sk", "AttributeType": range_type})
        schema.append({"AttributeName": "sk", "KeyType": "RANGE"})
    kwargs: dict[str, Any] = {}
    if with_gsis:
        kwargs["GlobalSecondaryIndexes"] = [
            {
                "IndexName": "by_status",
                "KeySchema": [
                    {"AttributeName": "status", "KeyType": "HASH"},
                    {"AttributeName": "opened_at", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            },
            {
                "IndexName": "by_service",
                "KeySchema": [
                    {"AttributeName": "service", "KeyType": "HASH"},
                    {"AttributeName": "severity", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["title"]},
            },
        ]
    pair.both(
        "create_table",
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=attrs,
        KeySchema=schema,
        **kwargs,
    )


def _key(rng: random.Random, range_type: str | None, pool: int = 60) -> dict[str, Any]:
    key: dict[str, Any] = {"pk": {"S": f"inc-{rng.randrange(pool):03d}"}}
    if range_type == "N":
        key["sk"] = {"N": str(rng.randrange(3))}
    elif range_type == "S":
        key["sk"] = {"S": f"v{rng.randrange(3)}"}
    return key


def _item(rng: random.Random, range_type: str | None) -> dict[str, Any]:
    item = _key(rng, range_type)
    if rng.random() < 0.9:
        item["status"] = {"S": rng.choice(STATUSES)}
    if rng.random() < 0.9:
        item["opened_at"] = {"S": f"2024-05-{rng.randrange(1, 29):02d}T{rng.randrange(24):02d}:00:00Z"}
    if rng.random() < 0.85:
        item["service"] = {"S": rng.choice(SERVICES)}
    if rng.random() < 0.85:
        item["severity"] = {"N": str(rng.choice([1, 2, 3, 4, 5, 2.5]))}
    item["title"] = {"S": f"incident {rng.randrange(1000)}"}
    if rng.random() < 0.3:
        item["tags"] = {"SS": ["a", "b"]}
        item["detail"] = {"M": {"n": {"N": "1"}, "l": {"L": [{"S": "x"}, {"BOOL": True}]}}}
    return item


def _write(pair: Pair, name: str, rng: random.Random, range_type: str | None) -> None:
    op = rng.random()
    if op < 0.3:
        pair.both("put_item", TableName=name, Item=_item(rng, range_type))
    elif op < 0.6:
        change = rng.random()
        if change < 0.45:
            update = {
                "UpdateExpression": "SET #s = :s",
                "ExpressionAttributeValues": {":s": {"S": rng.choice(STATUSES)}},
            }
            update["ExpressionAttributeNames"] = {"#s": "status"}
        elif change < 0.7:
            gone = rng.choice(["status", "opened_at", "service", "severity"])
            update = {"UpdateExpression": "REMOVE #a", "ExpressionAttributeNames": {"#a": gone}}
        else:
            update = {
                "UpdateExpression": "SET opened_at = :o, severity = :n",
                "ExpressionAttributeValues": {
                    ":o": {"S": f"2024-06-{rng.randrange(1, 29):02d}T00:00:00Z"},
                    ":n": {"N": str(rng.randrange(1, 6))},
                },
            }
        pair.both("update_item", TableName=name, Key=_key(rng, range_type), **update)
    elif op < 0.75:
        pair.both("delete_item", TableName=name, Key=_key(rng, range_type))
    elif op < 0.9:
        requests, seen = [], set()
        for _ in range(rng.randrange(1, 12)):
            if rng.random() < 0.7:
                item = _item(rng, range_type)
                key = str(sorted((k, str(v)) for k, v in item.items() if k in ("pk", "sk")))
                request: dict[str, Any] = {"PutRequest": {"Item": item}}
            else:
                key_attrs = _key(rng, range_type)
                key = str(sorted((k, str(v)) for k, v in key_attrs.items()))
                request = {"DeleteRequest": {"Key": key_attrs}}
            if key not in seen:
                seen.add(key)
                requests.append(request)
        pair.both("batch_write_item", RequestItems={name: requests})
    else:
        items = [
            {"Put": {"TableName": name, "Item": _item(rng, range_type)}},
            {
                "Update": {
                    "TableName": name,
                    "Key": _key(rng, range_type),
                    "UpdateExpression": "SET #s = :s",
                    "ExpressionAttributeNames": {"#s": "status"},
                    "ExpressionAttributeValues": {":s": {"S": rng.choice(STATUSES)}},
                }
            },
        ]
        if rng.random() < 0.4:  # fails and rolls back on both
            items.append(
                {
                    "ConditionCheck": {
                        "TableName": name,
                        "Key": _key(rng, range_type),
                        "ConditionExpression": "attribute_exists(never_set)",
                    }
                }
            )
        pair.both("transact_write_items", TransactItems=items)


def _queries(name: str, rng: random.Random) -> Iterator[dict[str, Any]]:
    status = rng.choice(STATUSES)
    base = {
        "TableName": name,
        "IndexName": "by_status",
        "KeyConditionExpression": "#s = :s",
        "ExpressionAttributeNames": {"#s": "status"},
        "ExpressionAttributeValues": {":s": {"S": status}},
    }
    yield dict(base)
    yield {**base, "ScanIndexForward": False, "Limit": 50}
    for op, values in [
        ("=", ["2024-05-10T03:00:00Z"]),
        ("<", ["2024-05-15"]),
        ("<=", ["2024-05-15T10:00:00Z"]),
        (">", ["2024-05-20"]),
        (">=", ["2024-05-08"]),
        ("BETWEEN", ["2024-05-05", "2024-05-20"]),
        ("begins_with", ["2024-05-1"]),
    ]:
        if op == "BETWEEN":
            condition = "#s = :s AND opened_at BETWEEN :a AND :b"
            extra = {":a": {"S": values[0]}, ":b": {"S": values[1]}}
        elif op == "begins_with":
            condition = "#s = :s AND begins_with(opened_at, :a)"
            extra = {":a": {"S": values[0]}}
        else:
            condition = f"#s = :s AND opened_at {op} :a"
            extra = {":a": {"S": values[0]}}
        yield {
            **base,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": {":s": {"S": status}, **extra},
            "ScanIndexForward": rng.random() < 0.5,
            "Limit": rng.choice([2, 3, 7]),
        }
    yield {
        **base,
        "FilterExpression": "severity >= :min",
        "ExpressionAttributeValues": {":s": {"S": status}, ":min": {"N": "3"}},
        "Limit": 4,
    }
    yield {**base, "ProjectionExpression": "pk, title, #s", "Limit": 5, "ScanIndexForward": False}
    yield {**base, "Select": "COUNT"}
    yield {**base, "Select": "COUNT", "Limit": 3}
    service = rng.choice(SERVICES)
    yield {
        "TableName": name,
        "IndexName": "by_service",
        "KeyConditionExpression": "service = :v AND severity > :n",
        "ExpressionAttributeValues": {":v": {"S": service}, ":n": {"N": "2"}},
        "Limit": 3,
        "ScanIndexForward": False,
    }
    yield {
        "TableName": name,
        "IndexName": "by_service",
        "KeyConditionExpression": "service = :v",
        "ExpressionAttributeValues": {":v": {"S": service}},
    }


@pytest.mark.parametrize("range_type", [None, "N"])
def test_random_writes_then_gsi_queries_answer_exactly_as_plain_moto(pair: Pair, range_type: str | None) -> None:
    name = f"incidents-{uuid.uuid4().hex[:8]}"
    rng = random.Random(42 if range_type is None else 43)
    _create_incidents(pair, name, range_type)
    before = describe_counts().get("gsi_indexed", 0)
    pages = 0
    for _ in range(6):
        for _ in range(40):
            _write(pair, name, rng, range_type)
        for query in _queries(name, rng):
            pages += pair.all_pages(**query)
    assert pages > 100
    assert describe_counts().get("gsi_indexed", 0) - before >= pages - 10


def test_gsi_added_by_update_table_after_items_exist_is_indexed(pair: Pair) -> None:
    name = f"late-gsi-{uuid.uuid4().hex[:8]}"
    rng = random.Random(5)
    _create_incidents(pair, name, "S", with_gsis=False)
    for _ in range(80):
        _write(pair, name, rng, "S")
    pair.both(
        "update_table",
        TableName=name,
        AttributeDefinitions=[
            {"AttributeName": "status", "AttributeType": "S"},
            {"AttributeName": "opened_at", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexUpdates=[
            {
                "Create": {
                    "IndexName": "by_status",
                    "KeySchema": [
                        {"AttributeName": "status", "KeyType": "HASH"},
                        {"AttributeName": "opened_at", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                }
            }
        ],
    )
    for _ in range(3):
        for status in STATUSES:
            pair.all_pages(
                TableName=name,
                IndexName="by_status",
                KeyConditionExpression="#s = :s",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":s": {"S": status}},
                Limit=4,
                ScanIndexForward=False,
            )
        for _ in range(30):
            _write(pair, name, rng, "S")


def test_table_deleted_and_recreated_with_the_same_name_forgets_old_items(pair: Pair) -> None:
    name = f"recreated-{uuid.uuid4().hex[:8]}"
    rng = random.Random(9)
    for range_type in (None, "S"):
        _create_incidents(pair, name, range_type)
        for _ in range(60):
            _write(pair, name, rng, range_type)
        for query in _queries(name, rng):
            pair.all_pages(**query)
        pair.both("delete_table", TableName=name)


def test_concurrent_writers_and_readers_leave_the_index_exact(extended_endpoint: str) -> None:
    ddb = make_client(extended_endpoint, "dynamodb")
    name = f"concurrent-{uuid.uuid4().hex[:8]}"
    ddb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "status", "AttributeType": "S"},
            {"AttributeName": "opened_at", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by_status",
                "KeySchema": [
                    {"AttributeName": "status", "KeyType": "HASH"},
                    {"AttributeName": "opened_at", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    failures: list[str] = []

    def writer(worker: int) -> None:
        client = make_client(extended_endpoint, "dynamodb")
        rng = random.Random(worker)
        for i in range(60):
            pk = {"S": f"w{worker}-{rng.randrange(15)}"}
            if i % 3 == 2:
                client.delete_item(TableName=name, Key={"pk": pk})
            else:
                client.put_item(
                    TableName=name,
                    Item={"pk": pk, "status": {"S": rng.choice(STATUSES)}, "opened_at": {"S": f"t{i:03d}"}},
                )

    def reader() -> None:
        client = make_client(extended_endpoint, "dynamodb")
        for i in range(60):
            status = STATUSES[i % len(STATUSES)]
            items = client.query(
                TableName=name,
                IndexName="by_status",
                KeyConditionExpression="#s = :s",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":s": {"S": status}},
            )["Items"]
            keys = [(item["opened_at"]["S"], item["pk"]["S"]) for item in items]
            if any(item["status"]["S"] != status for item in items) or keys != sorted(keys):
                failures.append(f"inconsistent page for {status}: {keys}")

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(3)]
    threads += [threading.Thread(target=reader) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not failures
    scanned = ddb.scan(TableName=name)["Items"]
    for status in STATUSES:
        expected = sorted(
            (item["opened_at"]["S"], item["pk"]["S"]) for item in scanned if item["status"]["S"] == status
        )
        items = ddb.query(
            TableName=name,
            IndexName="by_status",
            KeyConditionExpression="#s = :s",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":s": {"S": status}},
        )["Items"]
        assert [(item["opened_at"]["S"], item["pk"]["S"]) for item in items] == expected
