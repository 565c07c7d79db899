"""``healops bench gsi``: a 50-item GSI page of an incidents table, indexed vs plain moto.

Creates a ``--items`` item incidents table (PAY_PER_REQUEST, string hash key ``pk``; a GSI
``by_status`` on status + opened_at with realistic skew: a few statuses, mostly resolved, over
300 services), then times over HTTP with boto3 (p50/p95 of ``--queries`` calls):

- the dashboard's page: Query on the GSI, ``status = open``, Limit 50, ScanIndexForward false;
- the same with a range condition (``opened_at >= `` the last tenth of the time span);
- a base-table Query on one hash key, and a base-table GetItem (the floor).

Without ``--endpoint``: first plain moto (an in-process EmbeddedCloud with ``extensions=[]``,
run before the extension is ever installed), then the extended endpoint (only the DynamoDB
extension), one after the other in this process. With ``--endpoint``: only that endpoint.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.table import Table

from healops import aws
from healops.bench.cli import bench_parser
from healops.bench.console import bench_console

console = bench_console()

STATUS_WEIGHTS = {"resolved": 70, "closed": 15, "open": 10, "acknowledged": 5}
SERVICE_COUNT = 300
PAGE_SIZE = 50
TARGET_MS = 10.0


@dataclass
class Figures:
    """What one endpoint measured; latencies in milliseconds."""

    label: str
    load_seconds: float = 0.0
    latencies: dict[str, list[float]] = field(default_factory=dict)

    def p50(self, name: str) -> float:
        return statistics.median(self.latencies[name])

    def p95(self, name: str) -> float:
        values = sorted(self.latencies[name])
        return values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]


def _client(endpoint: str) -> Any:
    return aws.client("dynamodb", endpoint_url=endpoint, region="us-east-1", max_attempts=2)


def _incident(rng: random.Random, index: int, start: float) -> dict[str, Any]:
    status = rng.choices(list(STATUS_WEIGHTS), weights=list(STATUS_WEIGHTS.values()))[0]
    opened = start + index * 60 + rng.randrange(60)
    return {
        "pk": {"S": f"inc-{index:06d}-{rng.randrange(16**6):06x}"},
        "status": {"S": status},
        "opened_at": {"S": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(opened))},
        "service": {"S": f"svc-{rng.randrange(SERVICE_COUNT):03d}"},
        "severity": {"N": str(rng.choice([1, 2, 2, 3, 3, 3, 4]))},
        "fault": {"S": rng.choice(["cpu", "memory_leak", "disk", "crash", "latency", "error_storm"])},
        "title": {"S": f"incident {index} on svc-{rng.randrange(SERVICE_COUNT):03d}"},
    }


def create_and_load(client: Any, table: str, items: int, seed: int = 7) -> tuple[float, list[dict[str, Any]]]:
    """Create the incidents table and batch-write ``items`` incidents; (seconds, items)."""
    client.create_table(
        TableName=table,
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
    rng = random.Random(seed)
    start = time.time() - items * 60
    rows = [_incident(rng, i, start) for i in range(items)]
    began = time.perf_counter()
    for at in range(0, len(rows), 25):
        batch = [{"PutRequest": {"Item": row}} for row in rows[at : at + 25]]
        client.batch_write_item(RequestItems={table: batch})
    return time.perf_counter() - began, rows


def _timed(call: Callable[[], Any], runs: int) -> list[float]:
    call()  # warm-up (builds the GSI index on the extended endpoint)
    latencies = []
    for _ in range(runs):
        began = time.perf_counter()
        call()
        latencies.append((time.perf_counter() - began) * 1000)
    return latencies


def measure(endpoint: str, label: str, items: int, queries: int) -> Figures:
    client = _client(endpoint)
    table = f"bench-incidents-{uuid.uuid4().hex[:8]}"
    figures = Figures(label)
    with console.status(f"[{label}] loading {items:,} incidents"):
        figures.load_seconds, rows = create_and_load(client, table, items)
    recent = sorted(row["opened_at"]["S"] for row in rows)[int(len(rows) * 0.9)]
    page = {
        "TableName": table,
        "IndexName": "by_status",
        "KeyConditionExpression": "#s = :s",
        "ExpressionAttributeNames": {"#s": "status"},
        "ExpressionAttributeValues": {":s": {"S": "open"}},
        "Limit": PAGE_SIZE,
        "ScanIndexForward": False,
    }
    recent_page = {
        **page,
        "KeyConditionExpression": "#s = :s AND opened_at >= :t",
        "ExpressionAttributeValues": {":s": {"S": "open"}, ":t": {"S": recent}},
    }
    answer = client.query(**page)
    if answer["Count"] != min(PAGE_SIZE, sum(row["status"]["S"] == "open" for row in rows)):
        raise RuntimeError(f"[{label}] the GSI page returned {answer['Count']} items, expected a full page")
    some_key = rows[len(rows) // 2]["pk"]
    with console.status(f"[{label}] timing {queries} calls of each kind"):
        figures.latencies["gsi_page"] = _timed(lambda: client.query(**page), queries)
        figures.latencies["gsi_recent_page"] = _timed(lambda: client.query(**recent_page), queries)
        figures.latencies["base_query"] = _timed(
            lambda: client.query(
                TableName=table, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": some_key}
            ),
            queries,
        )
        figures.latencies["get_item"] = _timed(lambda: client.get_item(TableName=table, Key={"pk": some_key}), queries)
    client.delete_table(TableName=table)
    return figures


def _run_in_process(extensions: list[Any], label: str, items: int, queries: int) -> Figures:
    from healops.local.context import EmbeddedContext
    from healops.local.server import EmbeddedCloud

    state_dir = Path(tempfile.mkdtemp(prefix="healops-bench-gsi-"))
    with EmbeddedCloud(EmbeddedContext(port=0, state_dir=state_dir), extensions=extensions) as cloud:
        return measure(cloud.endpoint_url, label, items, queries)


def report(results: list[Figures], items: int, queries: int) -> None:
    table = Table(title=f"DynamoDB over HTTP: {items:,}-item table, p50/p95 of {queries} calls (ms)")
    table.add_column("endpoint")
    table.add_column("load s", justify="right")
    columns = {
        "gsi_page": f"GSI {PAGE_SIZE} desc",
        "gsi_recent_page": "GSI recent",
        "base_query": "base Query",
        "get_item": "GetItem",
    }
    for title in columns.values():
        table.add_column(title, justify="right")
    for figures in results:
        table.add_row(
            figures.label,
            f"{figures.load_seconds:.2f}",
            *(f"{figures.p50(name):.1f} / {figures.p95(name):.1f}" for name in columns),
        )
    console.print(table)
    by_label = {f.label: f for f in results}
    for figures in results:
        floor = figures.p50("gsi_page") / figures.p50("get_item")
        console.print(f"{figures.label}: GSI page p50 is {floor:.1f}x its GetItem p50")
    if "plain moto" in by_label and "extended" in by_label:
        plain, extended = by_label["plain moto"], by_label["extended"]
        for name in ("gsi_page", "gsi_recent_page", "base_query"):
            console.print(f"{name}: plain moto / extended p50 = {plain.p50(name) / extended.p50(name):.1f}x")
    if "extended" in by_label:
        p50 = by_label["extended"].p50("gsi_page")
        verdict = "meets" if p50 < TARGET_MS else "misses"
        console.print(f"extended GSI page p50 {p50:.1f} ms {verdict} the {TARGET_MS:.0f} ms target")


def main(argv: list[str] | None = None) -> int:
    parser = bench_parser("gsi", __doc__)
    parser.add_argument("--items", type=int, default=10_000, help="incidents in the table (default 10,000)")
    parser.add_argument("--queries", type=int, default=200, help="timed calls of each kind (default 200)")
    parser.add_argument("--endpoint", help="an already running endpoint (default: plain moto, then extended)")
    args = parser.parse_args(argv)
    if args.items < PAGE_SIZE * 10:
        parser.error(f"--items must be at least {PAGE_SIZE * 10} so that a status has a full page")
    if args.queries < 1:
        parser.error("--queries must be at least 1")
    if args.endpoint:
        results = [measure(args.endpoint, args.endpoint, args.items, args.queries)]
    else:
        # Plain moto first: the extension's patches are not yet installed in this process.
        results = [_run_in_process([], "plain moto", args.items, args.queries)]
        from healops.local.dynamodb import IndexedGlobalSecondaryIndexes, describe_counts

        results.append(_run_in_process([IndexedGlobalSecondaryIndexes()], "extended", args.items, args.queries))
        counts = describe_counts()
        console.print(
            f"extended: {counts.get('gsi_indexed', 0)} GSI queries read the index, "
            f"{counts.get('moto_scan', 0)} fell back to moto's scan"
        )
    report(results, args.items, args.queries)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
