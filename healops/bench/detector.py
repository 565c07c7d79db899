"""``healops bench detector``: one detector tick over a fleet of ``--services`` services x 8 metrics.

Runs the detector Lambda's core (:class:`healops.detection.runner.DetectorRunner`) with real boto3 clients
against an in-process embedded cloud (CloudWatch metric store and indexed DynamoDB extensions) or
``--endpoint``. Setup writes ``--history`` ticks of the simulated fleet's metrics and logs (as the generator
does, with ``--faulty`` services faulty), then times: a cold tick (no detector state: the whole window is read
and learned) and a warm tick (states saved: one new tick). Prints wall time per phase and the API calls made.
"""

from __future__ import annotations

import json
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.table import Table

from healops import aws
from healops.bench.cli import bench_parser
from healops.bench.console import bench_console
from healops.deploy.tables import create_tables
from healops.detection.correlate import DependencyGraph
from healops.detection.runner import DetectorRunner, IncidentSink, RunReport
from healops.fleet.clock import SimClock
from healops.fleet.definition import expand, load_definition
from healops.fleet.faults import FAULTS
from healops.fleet.generator import metric_datums
from healops.fleet.telemetry import fleet_tick
from healops.models.fleet import ActiveFault, ServiceState
from healops.store.agent_decisions import AgentDecisionsRepository
from healops.store.detector_state import DetectorStateRepository
from healops.store.incidents import IncidentsRepository

console = bench_console()
NAMESPACE = "HealOps/Bench"
PREFIX = "/healops-bench/services"


def _client(endpoint: str, service: str) -> Any:
    return aws.client(service, endpoint_url=endpoint, region="us-east-1", max_attempts=2, max_pool_connections=16)


class CallCounter:
    """Counts API calls per operation through botocore's event hooks."""

    def __init__(self, clients: dict[str, Any]) -> None:
        self.calls: dict[str, int] = {}
        for client in clients.values():
            client.meta.events.register("before-call.*.*", self._count)

    def _count(self, model: Any, **_: Any) -> None:
        self.calls[model.name] = self.calls.get(model.name, 0) + 1


def setup(
    c: dict[str, Any], services: int, history: int, faulty: int, clock: SimClock, log_reads: int | None = 100
) -> tuple[list[str], Any]:
    tables = create_tables(
        c["dynamodb"], {k: f"bench-{k}-{services}" for k in ("incidents", "agent_decisions", "detector_state")}
    )
    c["s3"].create_bucket(Bucket="bench-artifacts")
    queue = c["sqs"].create_queue(QueueName=f"bench-incidents-{services}")["QueueUrl"]
    definition = load_definition()
    states = [ServiceState.initial(s, definition.digest, "") for s in expand(definition, services)]
    names = [s.service for s in states]
    existing = {g["logGroupName"] for g in c["logs"].describe_log_groups(logGroupNamePrefix=PREFIX)["logGroups"]}

    def make_group(name: str) -> None:
        group = f"{PREFIX}/{name}"
        if group not in existing:
            c["logs"].create_log_group(logGroupName=group)
            c["logs"].create_log_stream(logGroupName=group, logStreamName="fleet")

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(make_group, names))
    now_tick = clock.now_tick()
    first = now_tick - history
    fault_names = sorted(FAULTS)
    for i in range(faulty):
        state = states[i * max(1, services // max(faulty, 1))]
        fault = ActiveFault(
            injection_id=f"bench-{i}",
            fault=fault_names[i % len(fault_names)],
            started_tick=now_tick - 2,
            anchor_tick=now_tick - 2,
        )
        states[states.index(state)] = state.model_copy(update={"faults": (fault,)})
    for tick in range(first, now_tick):
        at = datetime.fromtimestamp(tick * clock.tick_seconds / clock.time_scale + 0.01, UTC)
        ticks = fleet_tick(states, 1, tick, clock.tick_seconds, at_ms=int(at.timestamp() * 1000))
        datums = metric_datums(ticks, at)
        for i in range(0, len(datums), 1000):
            c["cloudwatch"].put_metric_data(Namespace=NAMESPACE, MetricData=datums[i : i + 1000])

        def ship(t: Any, at: datetime = at) -> None:
            if t.logs:
                events = [{"timestamp": int(at.timestamp() * 1000), "message": json.dumps(r)} for r in t.logs]
                c["logs"].put_log_events(logGroupName=f"{PREFIX}/{t.service}", logStreamName="fleet", logEvents=events)

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(ship, ticks))
    runner = DetectorRunner(
        cloudwatch=c["cloudwatch"],
        logs=c["logs"],
        states=DetectorStateRepository(tables["detector_state"], c["dynamodb"]),
        sink=IncidentSink(
            IncidentsRepository(tables["incidents"], c["dynamodb"]),
            AgentDecisionsRepository(tables["agent_decisions"], c["dynamodb"]),
            c["sqs"],
            queue,
            c["s3"],
            "bench-artifacts",
        ),
        graph=DependencyGraph({s.service: s.spec.depends_on for s in states}),
        clock=clock,
        namespace=NAMESPACE,
        log_group_prefix=PREFIX,
        window_ticks=history + 10,  # setup takes real time, and with it ticks
        log_reads_per_run=log_reads,
    )
    return names, runner


def run(
    endpoint: str, services: int, history: int, faulty: int, log_reads: int | None = 100
) -> list[tuple[str, float, RunReport, dict[str, int]]]:
    c = {n: _client(endpoint, n) for n in ("cloudwatch", "logs", "dynamodb", "sqs", "s3")}
    # a fast clock (1 tick = 10 real seconds): setup of 1,000 services takes several seconds a tick, and the
    # window read must still hold the history it wrote
    clock = SimClock(60.0, 6.0)
    _, runner = setup(c, services, history, faulty, clock, log_reads)
    counter = CallCounter(c)
    results = []
    for label in ("cold (no state)", "warm (one new tick)"):
        if label.startswith("warm"):
            time.sleep(10.0)  # one more tick completes (nothing new is written: its metrics are absent)
        counter.calls.clear()
        started = time.perf_counter()
        report = runner.run_tick(datetime.now(UTC))
        results.append((label, time.perf_counter() - started, report, dict(counter.calls)))
    return results


def render(services: int, results: list[tuple[str, float, RunReport, dict[str, int]]], where: str) -> None:
    table = Table(title=f"detector tick, {services} services x 8 metrics, on {where}")
    for column in ("run", "wall s", "ticks", "phases (s)", "API calls", "log groups read", "signals", "incidents"):
        table.add_column(column)
    for label, wall, report, calls in results:
        phases = ", ".join(f"{k} {v:.2f}" for k, v in report.seconds.items())
        api = ", ".join(f"{k} {v}" for k, v in sorted(calls.items()))
        table.add_row(
            label,
            f"{wall:.2f}",
            str(report.ticks_processed),
            phases,
            api,
            str(report.reads.log_services),
            str(report.signals),
            str(len(report.created)),
        )
    console.print(table)
    for label, wall, _report, calls in results:
        console.print(
            f"{label}: wall={wall:.2f}s api_calls={sum(calls.values())} GetMetricData={calls.get('GetMetricData', 0)}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = bench_parser("detector", __doc__)
    parser.add_argument("--services", type=int, default=1000, help="fleet size (default 1000)")
    parser.add_argument("--history", type=int, default=15, help="ticks written before the run (default 15)")
    parser.add_argument("--faulty", type=int, default=10, help="services with an active fault (default 10)")
    parser.add_argument(
        "--log-reads",
        type=int,
        default=100,
        help="log groups read per run, as deployed (default 100; 0: every service's, every run)",
    )
    parser.add_argument("--endpoint", help="an endpoint already running (default: an in-process embedded cloud)")
    args = parser.parse_args(argv)
    if args.log_reads < 0:
        parser.error(f"--log-reads must be 0 (no bound) or a positive number, got {args.log_reads}")
    log_reads = args.log_reads or None
    if args.endpoint:
        render(args.services, run(args.endpoint, args.services, args.history, args.faulty, log_reads), args.endpoint)
        return 0
    from healops.local import extensions as registry
    from healops.local.context import EmbeddedContext
    from healops.local.server import EmbeddedCloud

    needed = ("healops.local.cloudwatch:CloudWatchExtension", "healops.local.dynamodb:IndexedGlobalSecondaryIndexes")
    state_dir = Path(tempfile.mkdtemp(prefix="healops-bench-detector-"))
    with EmbeddedCloud(EmbeddedContext(port=0, state_dir=state_dir), extensions=registry.load(needed)) as cloud:
        results = run(cloud.endpoint_url, args.services, args.history, args.faulty, log_reads)
        render(args.services, results, f"an in-process embedded cloud ({cloud.endpoint_url})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
