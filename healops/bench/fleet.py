"""``healops bench fleet``: one metrics_generator tick for a fleet of ``--services`` services.

Runs the generator's core (:class:`healops.fleet.generator.MetricsGenerator`, what the Lambda
handler calls) with real boto3 clients against an embedded cloud: in process by default (the
CloudWatch metric store and indexed DynamoDB extensions, over HTTP on a free port), or the
endpoint given with ``--endpoint``. Sets up what Terraform would: the fleet and injections
tables, the fleet seeded through the injector's core, one log group per service, the archive
buckets, and ``--faulty`` services with an active fault (so error logs are part of the load).
Prints, per tick: wall time and its phases, PutMetricData calls and datapoints, PutLogEvents
calls and log events, archive objects.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.table import Table

from healops import aws
from healops.bench.cli import bench_parser
from healops.bench.console import bench_console
from healops.deploy.tables import create_tables
from healops.fleet.archive import HourlyArchive
from healops.fleet.clock import SimClock
from healops.fleet.definition import load_definition
from healops.fleet.faults import FAULTS
from healops.fleet.generator import MetricsGenerator, TickReport
from healops.fleet.injector import Injector
from healops.store.fleet import FleetRepository
from healops.store.injections import InjectionsRepository

console = bench_console()
PREFIX = "bench-fleet"


def _client(endpoint: str, service: str) -> Any:
    return aws.client(service, endpoint_url=endpoint, region="us-east-1", max_attempts=2, max_pool_connections=16)


def setup(endpoint: str, services: int, faulty: int) -> dict[str, Any]:
    clients = {name: _client(endpoint, name) for name in ("dynamodb", "logs", "s3", "cloudwatch")}
    dynamodb = clients["dynamodb"]
    fleet_table, injections_table = f"{PREFIX}-fleet-{services}", f"{PREFIX}-injections-{services}"
    create_tables(dynamodb, {"fleet": fleet_table, "injections": injections_table})
    fleet = FleetRepository(fleet_table, dynamodb)
    injector = Injector(fleet, InjectionsRepository(injections_table, dynamodb), SimClock())
    started = time.perf_counter()
    seeded = injector.seed_fleet(load_definition().model_dump(mode="json"), services)
    seed_s = time.perf_counter() - started
    names = [s.service for s in fleet.all()]
    log_prefix = f"/{PREFIX}/services"

    def make_group(name: str) -> None:
        try:
            clients["logs"].create_log_group(logGroupName=f"{log_prefix}/{name}")
        except clients["logs"].exceptions.ResourceAlreadyExistsException:
            pass

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(make_group, names))
    faults = sorted(FAULTS)
    for i, name in enumerate(names[:: max(1, len(names) // max(1, faulty))][:faulty]):
        state = fleet.get(name)
        if state is not None and not state.faults:
            injector.inject(name, faults[i % len(faults)], {}, 86_400, "bench")
    for bucket in (f"{PREFIX}-metrics", f"{PREFIX}-logs"):
        try:
            clients["s3"].create_bucket(Bucket=bucket)
        except clients["s3"].exceptions.BucketAlreadyOwnedByYou:
            pass
    generator = MetricsGenerator(
        fleet=fleet,
        cloudwatch=clients["cloudwatch"],
        logs=clients["logs"],
        namespace="HealOps/BenchFleet",
        log_group_prefix=log_prefix,
        clock=SimClock(),
        seed=1,
        metric_archive=HourlyArchive(clients["s3"], f"{PREFIX}-metrics", "metrics"),
        log_archive=HourlyArchive(clients["s3"], f"{PREFIX}-logs", "logs"),
    )
    return {"generator": generator, "seeded": seeded, "seed_s": seed_s}


def run(endpoint: str, services: int, ticks: int, faulty: int) -> tuple[dict[str, Any], list[tuple[float, TickReport]]]:
    prepared = setup(endpoint, services, faulty)
    generator: MetricsGenerator = prepared["generator"]
    start = datetime.now(UTC).replace(second=5, microsecond=0)
    results = []
    for i in range(ticks):
        began = time.perf_counter()
        report = generator.run(start + timedelta(minutes=i))
        results.append((time.perf_counter() - began, report))
    return prepared, results


def render(services: int, prepared: dict[str, Any], results: list[tuple[float, TickReport]], where: str) -> None:
    console.print(
        f"fleet of {services:,} services seeded in {prepared['seed_s']:.2f} s "
        f"({prepared['seeded']['created']} created) on {where}"
    )
    table = Table(title=f"metrics_generator: one tick for {services:,} services")
    for column in (
        "tick",
        "wall s",
        "read fleet",
        "model",
        "PutMetricData",
        "PutLogEvents",
        "archive",
        "metric calls",
        "datapoints",
        "log calls",
        "log events",
        "objects",
    ):
        table.add_column(column, justify="right")
    for i, (wall, r) in enumerate(results):
        s = r.seconds
        table.add_row(
            str(i + 1),
            f"{wall:.2f}",
            f"{s['read_fleet']:.2f}",
            f"{s['model']:.2f}",
            f"{s['put_metric_data']:.2f}",
            f"{s['put_log_events']:.2f}",
            f"{s['archive']:.2f}",
            str(r.put_metric_calls),
            f"{r.datapoints:,}",
            str(r.log_calls),
            f"{r.log_events:,}",
            str(len(r.archived)),
        )
    console.print(table)
    walls = [w for w, _ in results]
    console.print(f"median tick {statistics.median(walls):.2f} s; ticks after the first reuse warm connections")


def main(argv: list[str] | None = None) -> int:
    parser = bench_parser("fleet", __doc__)
    parser.add_argument("--services", type=int, default=1000, help="fleet size (default 1000)")
    parser.add_argument("--ticks", type=int, default=3, help="ticks to run (default 3)")
    parser.add_argument("--faulty", type=int, default=20, help="services with an active fault (default 20)")
    parser.add_argument("--endpoint", help="an endpoint already running (default: an in-process embedded cloud)")
    args = parser.parse_args(argv)
    if args.endpoint:
        prepared, results = run(args.endpoint, args.services, args.ticks, args.faulty)
        render(args.services, prepared, results, args.endpoint)
        return 0
    from healops.local import extensions as registry
    from healops.local.context import EmbeddedContext
    from healops.local.server import EmbeddedCloud

    needed = ("healops.local.cloudwatch:CloudWatchExtension", "healops.local.dynamodb:IndexedGlobalSecondaryIndexes")
    state_dir = Path(tempfile.mkdtemp(prefix="healops-bench-fleet-"))
    with EmbeddedCloud(EmbeddedContext(port=0, state_dir=state_dir), extensions=registry.load(needed)) as cloud:
        prepared, results = run(cloud.endpoint_url, args.services, args.ticks, args.faulty)
        render(args.services, prepared, results, f"an in-process embedded cloud ({cloud.endpoint_url})")
    return 0
