"""``healops bench metrics``: the CloudWatch metric store under a fleet's load.

A fleet of ``--services`` services x 8 metrics, one datapoint a minute each, for ``--hours``
simulated hours (1,000 x 8 x 1,440 = 11.5 M datapoints for a day). Prints:

- PutMetricData throughput over HTTP (boto3, 1,000 datapoints a call, ``--threads`` threads);
- the p50 latency of one 500-query GetMetricData over the last 15 minutes (target < 0.5 s);
- the server's resident memory (target < 1 GB);
- the same GetMetricData against plain moto holding ``--moto-minutes`` of the same fleet;
- a 50-item page of a DynamoDB GSI of a ``--gsi-items`` incidents table (target < 10 ms; ``healops bench gsi``
  has the comparison with plain moto).

Without ``--endpoint`` the server runs in this process (CloudWatch and DynamoDB GSI extensions): the newest
``--http-minutes`` simulated minutes go over HTTP and the older ones are loaded in process
through the store's bulk API (pushing 11.5 M datapoints over HTTP takes far longer than the
figures need); the output says how many went each way. The resident memory is then this whole
process, server plus benchmark client. With ``--endpoint`` everything goes over HTTP and the
memory is that of the process listening on the endpoint's port.
"""

from __future__ import annotations

import math
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from array import array
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import psutil
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from healops import aws
from healops.bench import gsi
from healops.bench.cli import bench_parser
from healops.bench.console import bench_console

console = bench_console()

NAMESPACE = "HealOps/Bench"
# name, unit, typical level, daily swing, noise
METRICS: tuple[tuple[str, str, float, float, float], ...] = (
    ("CPUUtilization", "Percent", 35.0, 20.0, 5.0),
    ("MemoryUtilization", "Percent", 55.0, 8.0, 2.0),
    ("DiskUsedPercent", "Percent", 40.0, 1.0, 0.2),
    ("LatencyP99", "Milliseconds", 180.0, 60.0, 25.0),
    ("RequestCount", "Count", 1200.0, 900.0, 80.0),
    ("ErrorCount", "Count", 3.0, 2.0, 2.0),
    ("HealthyHosts", "Count", 4.0, 0.0, 0.0),
    ("QueueDepth", "Count", 20.0, 15.0, 6.0),
)
DATAPOINTS_PER_CALL = 1000
QUERY_COUNT = 500
GSI_QUERIES = 200  # timed calls of the GSI page


def _client(endpoint: str) -> Any:
    return aws.client(
        "cloudwatch", endpoint_url=endpoint, region="us-east-1", max_attempts=1, read_timeout=900, connect_timeout=10
    )


def _service(index: int) -> str:
    return f"svc-{index:04d}"


def _value(rng: random.Random, service: int, metric: int, minute: int) -> float:
    """A plausible reading: a per-service level, a daily cycle and noise."""
    _name, unit, level, swing, noise = METRICS[metric]
    phase = (service * 0.37) % (2 * math.pi)
    base = level * (0.7 + 0.6 * ((service * 7919) % 100) / 100)
    value = base + swing * math.sin(2 * math.pi * minute / 1440 + phase) + rng.gauss(0, noise)
    value = max(value, 0.0)
    if unit == "Percent":
        value = min(value, 100.0)
    return round(value) if unit == "Count" else round(value, 2)


def _minute_batches(services: int, minute: int, stamp: datetime, rng: random.Random) -> list[list[dict[str, Any]]]:
    members = [
        {
            "MetricName": METRICS[metric][0],
            "Dimensions": [{"Name": "Service", "Value": _service(service)}],
            "Timestamp": stamp,
            "Value": _value(rng, service, metric, minute),
            "Unit": METRICS[metric][1],
        }
        for service in range(services)
        for metric in range(len(METRICS))
    ]
    return [members[i : i + DATAPOINTS_PER_CALL] for i in range(0, len(members), DATAPOINTS_PER_CALL)]


def push_over_http(
    endpoint: str, services: int, minutes: range, end: datetime, threads: int, progress: Progress, label: str
) -> tuple[int, float]:
    """PutMetricData for ``minutes`` (offsets before ``end``); datapoints sent and seconds taken."""
    total_minutes = len(minutes) and (minutes[-1] + 1)
    calls = math.ceil(services * len(METRICS) / DATAPOINTS_PER_CALL) * len(minutes)
    task = progress.add_task(label, total=calls)
    clients = [_client(endpoint) for _ in range(threads)]
    rng = random.Random(1)
    sent = 0

    def send(args: tuple[int, list[dict[str, Any]]]) -> int:
        number, batch = args
        clients[number % threads].put_metric_data(Namespace=NAMESPACE, MetricData=batch)
        progress.advance(task)
        return len(batch)

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        number = 0
        for minute in minutes:
            stamp = end - timedelta(minutes=total_minutes - minute)
            batches = _minute_batches(services, minute, stamp, rng)
            work = []
            for batch in batches:
                work.append((number, batch))
                number += 1
            sent += sum(pool.map(send, work))
    return sent, time.perf_counter() - started


def load_in_process(services: int, minutes: int, total_minutes: int, end: datetime, progress: Progress) -> int:
    """Put the oldest ``minutes`` of the fleet straight into the store (same series, bulk API)."""
    from moto.cloudwatch.models import cloudwatch_backends

    from healops.local.cloudwatch.patches import store_of

    store = store_of(cloudwatch_backends["123456789012"]["us-east-1"])
    first = end.replace(tzinfo=UTC).timestamp() - total_minutes * 60
    stamps = array("d", (first + 60 * minute for minute in range(minutes)))
    rng = random.Random(2)
    task = progress.add_task("loading older minutes in process", total=services * len(METRICS))
    for service in range(services):
        dimensions = [{"Name": "Service", "Value": _service(service)}]
        for metric, (name, unit, *_rest) in enumerate(METRICS):
            values = array("d", (_value(rng, service, metric, minute) for minute in range(minutes)))
            store.bulk_load_plain(NAMESPACE, name, dimensions, unit, stamps, values)
            progress.advance(task)
    return services * len(METRICS) * minutes


def _queries(services: int) -> list[dict[str, Any]]:
    rng = random.Random(3)
    pairs = rng.sample([(s, m) for s in range(services) for m in range(len(METRICS))], QUERY_COUNT)
    return [
        {
            "Id": f"q{index}",
            "MetricStat": {
                "Metric": {
                    "Namespace": NAMESPACE,
                    "MetricName": METRICS[metric][0],
                    "Dimensions": [{"Name": "Service", "Value": _service(service)}],
                },
                "Period": 60,
                "Stat": "Average",
            },
        }
        for index, (service, metric) in enumerate(pairs)
    ]


def time_get_metric_data(endpoint: str, services: int, end: datetime, runs: int) -> tuple[list[float], int]:
    """Latencies of ``runs`` 500-query GetMetricData calls over the 15 minutes before ``end``."""
    client = _client(endpoint)
    queries = _queries(services)
    latencies = []
    points = 0
    for _ in range(runs):
        started = time.perf_counter()
        answer = client.get_metric_data(MetricDataQueries=queries, StartTime=end - timedelta(minutes=15), EndTime=end)
        latencies.append(time.perf_counter() - started)
        points = sum(len(result["Values"]) for result in answer["MetricDataResults"])
    return latencies, points


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {seconds} s")


def _server_rss(endpoint: str | None) -> int:
    if endpoint is None:
        return psutil.Process().memory_info().rss
    port = urlparse(endpoint).port
    for connection in psutil.net_connections(kind="tcp"):
        if connection.status == psutil.CONN_LISTEN and connection.laddr.port == port and connection.pid:
            return psutil.Process(connection.pid).memory_info().rss
    raise RuntimeError(f"cannot find the process listening on port {port} (is it this user's?)")


def plain_moto_comparison(services: int, minutes: int, threads: int, progress: Progress) -> tuple[float, int]:
    """One 500-query GetMetricData against a plain moto server holding ``minutes`` of the fleet."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port, 30)
        endpoint = f"http://127.0.0.1:{port}"
        end = datetime.now(UTC).replace(second=0, microsecond=0, tzinfo=None)
        push_over_http(endpoint, services, range(minutes), end, threads, progress, f"plain moto: {minutes} min")
        task = progress.add_task("plain moto: one 500-query GetMetricData", total=None)
        latencies, points = time_get_metric_data(endpoint, services, end, 1)
        progress.update(task, total=1, completed=1)
        return latencies[0], points
    finally:
        process.terminate()
        process.wait(10)


def main(argv: list[str] | None = None) -> int:
    parser = bench_parser("metrics", __doc__)
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--endpoint", help="an already running endpoint (default: start one in process)")
    parser.add_argument("--http-minutes", type=int, default=30, help="newest simulated minutes sent over HTTP")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--runs", type=int, default=7, help="GetMetricData runs for the p50")
    parser.add_argument("--moto-minutes", type=int, default=5, help="minutes of data for plain moto (0: skip)")
    parser.add_argument(
        "--gsi-items", type=int, default=10_000, help="incidents for the 50-item GSI page timing (0: skip)"
    )
    args = parser.parse_args(argv)
    if args.services * len(METRICS) < QUERY_COUNT:
        parser.error(f"--services must give at least {QUERY_COUNT} series ({QUERY_COUNT // len(METRICS) + 1}+)")
    total_minutes = int(args.hours * 60)
    if total_minutes < 15:
        parser.error("--hours must cover at least the 15 minutes the query reads")
    http_minutes = total_minutes if args.endpoint else min(args.http_minutes, total_minutes)
    end = datetime.now(UTC).replace(second=0, microsecond=0, tzinfo=None)

    cloud = None
    endpoint = args.endpoint
    if endpoint is None:
        from healops.local.cloudwatch import CloudWatchExtension
        from healops.local.context import EmbeddedContext
        from healops.local.dynamodb import IndexedGlobalSecondaryIndexes
        from healops.local.server import EmbeddedCloud

        state_dir = Path(tempfile.mkdtemp(prefix="healops-bench-metrics-"))
        extensions = [CloudWatchExtension(), IndexedGlobalSecondaryIndexes()]
        cloud = EmbeddedCloud(EmbeddedContext(port=0, state_dir=state_dir), extensions=extensions)
        cloud.start()
        endpoint = cloud.endpoint_url
    try:
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console) as progress:
            loaded = 0
            if cloud is not None and total_minutes > http_minutes:
                started = time.perf_counter()
                loaded = load_in_process(args.services, total_minutes - http_minutes, total_minutes, end, progress)
                load_seconds = time.perf_counter() - started
            sent, put_seconds = push_over_http(
                endpoint,
                args.services,
                range(total_minutes - http_minutes, total_minutes),
                end,
                args.threads,
                progress,
                f"PutMetricData over HTTP ({http_minutes} min)",
            )
            task = progress.add_task(f"GetMetricData x {args.runs}", total=None)
            latencies, points = time_get_metric_data(endpoint, args.services, end, args.runs)
            progress.update(task, total=1, completed=1)
            gsi_figures = None
            if args.gsi_items > 0:
                # the dashboard's page on the same endpoint (healops bench gsi compares it with plain moto)
                gsi_figures = gsi.measure(endpoint, "embedded", args.gsi_items, GSI_QUERIES)
            rss = _server_rss(None if cloud is not None else endpoint)
            moto_latency = moto_points = None
            if args.moto_minutes > 0:
                moto_latency, moto_points = plain_moto_comparison(
                    args.services, args.moto_minutes, args.threads, progress
                )
    finally:
        if cloud is not None:
            cloud.stop()

    p50 = statistics.median(latencies)
    table = Table("figure", "value", "target / note", title="CloudWatch metric store")
    table.add_row("fleet", f"{args.services} services x {len(METRICS)} metrics, {total_minutes} min", "1/min each")
    table.add_row("datapoints stored", f"{loaded + sent:,}", "")
    if loaded:
        table.add_row(
            "  loaded in process (bulk API)", f"{loaded:,} in {load_seconds:.1f} s", "older minutes, not over HTTP"
        )
    table.add_row(
        "  sent over HTTP", f"{sent:,} in {put_seconds:.1f} s", f"{DATAPOINTS_PER_CALL}/call, {args.threads} threads"
    )
    table.add_row("PutMetricData throughput", f"{sent / put_seconds:,.0f} datapoints/s", "HTTP, boto3")
    table.add_row(
        f"GetMetricData {QUERY_COUNT} queries, 15 min",
        f"p50 {p50 * 1000:.0f} ms (min {min(latencies) * 1000:.0f}, max {max(latencies) * 1000:.0f})",
        f"< 500 ms; {points:,} values returned",
    )
    if gsi_figures is not None:
        table.add_row(
            f"GSI page: {gsi.PAGE_SIZE} items of a {args.gsi_items:,}-item table",
            f"p50 {gsi_figures.p50('gsi_page'):.1f} ms, p95 {gsi_figures.p95('gsi_page'):.1f} ms",
            f"< {gsi.TARGET_MS:.0f} ms; GetItem p50 {gsi_figures.p50('get_item'):.1f} ms",
        )
    memory_note = "< 1 GB; " + ("this process: server + bench client" if cloud is not None else "server process")
    table.add_row("resident memory", f"{rss / 2**20:,.0f} MiB", memory_note)
    if moto_latency is not None:
        table.add_row(
            f"plain moto, {args.moto_minutes} min of data",
            f"{moto_latency * 1000:,.0f} ms",
            f"{moto_points:,} values; {moto_latency / p50:,.0f}x the store's p50 at {args.hours:g} h",
        )
    console.print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
