"""``healops bench snapshot``: how long saving and restoring the embedded cloud's state takes, and how big it is.

Fills an in-process embedded cloud the way the running stack does (``healops bench fleet``'s set-up:
the fleet and injections tables, a log group per service, the archive buckets, a few faulty
services; then ``metrics_generator``'s core, one tick per simulated minute: eight metrics per
service into the CloudWatch store, the JSON logs into CloudWatch Logs, the hourly archives into
S3), and at every ``--every`` ticks takes a snapshot (what ``healops up`` does every 30 s and at
stop) and restores it (what the next ``healops up`` does before Terraform runs). A day is 1,440
ticks. Prints, per checkpoint: metric points and log events held, the snapshot's size, the save
(pickle, then compress and write with fsync) and the restore (read, checksum, decompress,
unpickle).
"""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.table import Table

from healops.bench.cli import bench_parser
from healops.bench.console import bench_console
from healops.bench.fleet import setup
from healops.fleet.generator import MetricsGenerator
from healops.local.persistence import StatePersistence

console = bench_console()
DAY_TICKS = 1440


def restore_seconds(persistence: StatePersistence) -> float:
    started = time.perf_counter()
    persistence.restore()
    return time.perf_counter() - started


def run(services: int, ticks: int, every: int, faulty: int) -> list[dict[str, Any]]:
    from healops.local import extensions as registry
    from healops.local.context import EmbeddedContext
    from healops.local.server import EmbeddedCloud

    needed = ("healops.local.cloudwatch:CloudWatchExtension", "healops.local.dynamodb:IndexedGlobalSecondaryIndexes")
    state_dir = Path(tempfile.mkdtemp(prefix="healops-bench-snapshot-"))
    persistence = StatePersistence(state_dir / "state", interval=None)
    rows: list[dict[str, Any]] = []
    with EmbeddedCloud(
        EmbeddedContext(port=0, state_dir=state_dir / "cloud"), extensions=registry.load(needed)
    ) as cloud:
        prepared = setup(cloud.endpoint_url, services, faulty)
        generator: MetricsGenerator = prepared["generator"]
        start = datetime.now(UTC).replace(second=5, microsecond=0) - timedelta(minutes=ticks)
        points = events = 0
        fill_s = 0.0
        for i in range(ticks):
            began = time.perf_counter()
            report = generator.run(start + timedelta(minutes=i))
            fill_s += time.perf_counter() - began
            points += report.datapoints
            events += report.log_events
            if (i + 1) % every == 0 or i + 1 == ticks:
                saved = persistence.save()
                rows.append(
                    {
                        "ticks": i + 1,
                        "points": points,
                        "events": events,
                        "fill_s": fill_s,
                        "size": saved.size_bytes,
                        "pickle_s": saved.pickle_s,
                        "write_s": saved.write_s,
                        "restore_s": restore_seconds(persistence),
                    }
                )
                console.print(f"  {i + 1} ticks: {saved.size_bytes / 1e6:.1f} MB, save {saved.total_s:.2f} s")
    return rows


def render(services: int, rows: list[dict[str, Any]]) -> None:
    table = Table(title=f"state snapshot of an embedded cloud running a fleet of {services:,} services")
    for column in (
        "ticks",
        "metric points",
        "log events",
        "snapshot MB",
        "save s",
        "(pickle s",
        "write s)",
        "restore s",
    ):
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(
            f"{row['ticks']:,}",
            f"{row['points']:,}",
            f"{row['events']:,}",
            f"{row['size'] / 1e6:.1f}",
            f"{row['pickle_s'] + row['write_s']:.2f}",
            f"{row['pickle_s']:.2f}",
            f"{row['write_s']:.2f}",
            f"{row['restore_s']:.2f}",
        )
    console.print(table)
    last = rows[-1]
    console.print(
        f"per 1,000 ticks x services: {last['size'] / last['ticks'] / services * 1000:,.0f} bytes, "
        f"save {(last['pickle_s'] + last['write_s']) / last['ticks'] / services * 1e6:.1f} ms, "
        f"restore {last['restore_s'] / last['ticks'] / services * 1e6:.1f} ms; "
        f"filling took {last['fill_s']:.0f} s"
    )


def main(argv: list[str] | None = None) -> int:
    parser = bench_parser("snapshot", __doc__)
    parser.add_argument("--services", type=int, default=8, help="fleet size (default 8, the demo fleet)")
    parser.add_argument("--ticks", type=int, default=DAY_TICKS, help=f"simulated minutes (default {DAY_TICKS}: a day)")
    parser.add_argument("--every", type=int, default=360, help="ticks between checkpoints (default 360)")
    parser.add_argument("--faulty", type=int, default=2, help="services with an active fault (default 2)")
    args = parser.parse_args(argv)
    if min(args.services, args.ticks, args.every) < 1 or args.faulty < 0:
        parser.error("--services, --ticks and --every must be at least 1, --faulty at least 0")
    render(args.services, run(args.services, args.ticks, args.every, args.faulty))
    return 0
