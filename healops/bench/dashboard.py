"""``healops bench dashboard``: p50/p95 response time of the dashboard's pages with 10,000 incidents.

Starts the embedded cloud in its own process (``python -m healops.local``, as ``healops up`` does),
creates Terraform's tables, writes ``--incidents`` incidents over ``--days`` days (older than a
day: 99% resolved, 1% escalated; the last day: 80% resolved, 8% open, 8% remediating, 4%
escalated; over the fleet's services), a reasoning trace, LLM call and attempts for the
incidents whose detail is timed, and an hour of metrics for the services. Then serves the
dashboard over HTTP on 127.0.0.1 (in this process) and times, with one keep-alive connection,
``--runs`` requests of each page: the overview (steady state, its 24-hour figures reused for
30 s, and cold, recomputed on every request), the timeline's first page, its fifth page
(following page tokens), the timeline of one service, and an incident's detail.
Target: p95 under 100 ms.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import statistics
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from rich.table import Table

from healops import aws
from healops.bench.cli import bench_parser
from healops.bench.console import bench_console

console = bench_console()
TARGET_P95_MS = 100.0
OLD_WEIGHTS = {"resolved": 99, "escalated": 1}
RECENT_WEIGHTS = {"resolved": 80, "open": 8, "remediating": 8, "escalated": 4}
KINDS = ["error_rate", "latency", "memory_exhaustion_predicted", "disk_exhaustion_predicted", "crash", "error_storm"]


def _make_client(endpoint: str, service: str) -> Any:
    return aws.client(service, endpoint_url=endpoint, region="us-east-1", max_attempts=2)


def _incident_item(rng: random.Random, index: int, now: datetime, days: float, services: list[str]) -> dict[str, Any]:
    opened = now - timedelta(seconds=rng.uniform(0, days * 86400))
    weights = RECENT_WEIGHTS if now - opened < timedelta(days=1) else OLD_WEIGHTS
    status = rng.choices(list(weights), weights=list(weights.values()))[0]
    item: dict[str, Any] = {
        "incident_id": f"inc-{index:06d}-{rng.randrange(16**6):06x}",
        "service": rng.choice(services),
        "kind": rng.choice(KINDS),
        "status": status,
        "severity": rng.choice(["low", "medium", "medium", "high", "critical"]),
        "opened_at": opened.isoformat(),
        "updated_at": opened.isoformat(),
        "summary": "ErrorRate 38% for 3 periods (baseline 0.4%) after deploy",
        "linked_services": [],
        "signals": [
            {
                "metric": "ErrorRate",
                "score": round(rng.random(), 3),
                "onset_at": (opened - timedelta(seconds=rng.uniform(30, 300))).isoformat(),
            }
        ],
        "predicted": False,
        "version": 2,
    }
    if status == "resolved":
        item["resolved_at"] = (opened + timedelta(seconds=rng.uniform(60, 1800))).isoformat()
    return item


def seed(res: Any, endpoint: str, incidents: int, days: float, detailed: int) -> tuple[list[str], list[str], float]:
    """Write the incidents, traces and metrics; (detailed incident ids, services, seconds)."""
    from healops.store.agent_decisions import DecisionStep
    from healops.store.base import serialize
    from healops.store.llm_actions import LlmCallRecord
    from healops.store.remediations import RemediationAttempt

    began = time.perf_counter()
    rng = random.Random(11)
    now = datetime.now(tz=UTC)
    services = res.service_names
    rows = [_incident_item(rng, i, now, days, services) for i in range(incidents)]
    dynamodb = res.client("dynamodb")
    table = res.table("incidents")
    for at in range(0, len(rows), 25):
        batch = [{"PutRequest": {"Item": serialize(row)}} for row in rows[at : at + 25]]
        dynamodb.batch_write_item(RequestItems={table: batch})
    recent = sorted(rows, key=lambda r: r["opened_at"], reverse=True)[:detailed]
    for row in recent:
        steps = [
            DecisionStep(phase="observed", title=f"signal {n}: ErrorRate above baseline", detail="x" * 300)
            for n in range(6)
        ] + [DecisionStep(phase="chosen", title="rollback", data={"action": "rollback"})]
        res.agent_decisions.append(row["incident_id"], steps, at=row["opened_at"])
        res.llm_actions.record(
            LlmCallRecord(
                incident_id=row["incident_id"],
                call_id=f"{row['opened_at']}#{uuid.uuid4().hex[:6]}",
                at=row["opened_at"],
                provider="offline",
                model="rules",
                prompt="p" * 6000,
                response=json.dumps({"diagnosis": "bad deploy", "actions": [{"action": "rollback"}]}),
                validation="valid",
            )
        )
        for n, action in enumerate(["restart", "rollback"], start=1):
            res.remediations.record(
                RemediationAttempt(
                    incident_id=row["incident_id"],
                    attempt_id=f"{n:04d}-{action}",
                    service=row["service"],
                    action=action,
                    planner="offline",
                    guard_decision="allow",
                    guard_reasons=["allowed", "breaker closed"],
                    started_at=row["opened_at"],
                    verification="recovered" if n == 2 else "not_recovered",
                )
            )
    cloudwatch = res.client("cloudwatch")
    for service in services:
        data = [
            {
                "MetricName": name,
                "Dimensions": [{"Name": "Service", "Value": service}],
                "Timestamp": now - timedelta(minutes=m),
                "Value": rng.uniform(0, 100),
            }
            for m in range(60)
            for name in ("CPUUtilization", "MemoryUtilization", "DiskUtilization", "LatencyP99", "ErrorRate")
        ]
        for at in range(0, len(data), 500):
            cloudwatch.put_metric_data(Namespace=res.metrics_namespace, MetricData=data[at : at + 500])
    return [r["incident_id"] for r in recent], services, time.perf_counter() - began


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def time_get(conn: http.client.HTTPConnection, path: str, runs: int) -> list[float]:
    def get() -> bytes:
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"GET {path}: HTTP {response.status}: {body[:300]!r}")
        return body

    get()  # warm-up: templates compiled, indexes built
    latencies = []
    for _ in range(runs):
        began = time.perf_counter()
        get()
        latencies.append((time.perf_counter() - began) * 1000)
    return latencies


def main(argv: list[str] | None = None) -> int:
    parser = bench_parser("dashboard", __doc__)
    parser.add_argument("--incidents", type=int, default=10_000, help="incidents in the table (default 10,000)")
    parser.add_argument("--days", type=float, default=30.0, help="spread over this many days (default 30)")
    parser.add_argument("--runs", type=int, default=50, help="timed requests per page (default 50)")
    args = parser.parse_args(argv)
    if args.incidents < 250 or args.runs < 1 or args.days <= 0:
        parser.error("--incidents must be at least 250, --runs at least 1, --days positive")

    import logging

    from werkzeug.serving import make_server

    from healops.dashboard import create_app
    from healops.dashboard.resources import StackResources
    from healops.deploy.processes import server_process, start_server
    from healops.local.server import free_port

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory() as state:
        port = free_port("127.0.0.1")
        with console.status("starting the embedded cloud"):
            start_server(Path(state), "127.0.0.1", port, 1.0)
        endpoint = f"http://127.0.0.1:{port}"
        try:
            results = _measure(endpoint, args, create_app, StackResources, make_server)
        finally:
            server_process(Path(state)).stop()
    table = Table(title=f"dashboard response time, {args.incidents:,} incidents, {args.runs} requests each (ms)")
    for column in ("page", "p50", "p95", "max", f"p95 < {TARGET_P95_MS:g}"):
        table.add_column(column, justify="left" if column == "page" else "right")
    for name, latencies in results.items():
        p95 = _percentile(latencies, 0.95)
        table.add_row(
            name,
            f"{statistics.median(latencies):.1f}",
            f"{p95:.1f}",
            f"{max(latencies):.1f}",
            "yes" if p95 < TARGET_P95_MS else "no",
        )
    console.print(table)
    return 0


def _measure(endpoint: str, args: argparse.Namespace, create_app: Any, resources_cls: Any, make_server: Any) -> dict:
    from healops.deploy.tables import create_tables, table_specs
    from healops.fleet.definition import load_definition
    from healops.models.fleet import ServiceState

    def client(service: str) -> Any:
        return _make_client(endpoint, service)

    prefix = "bench"
    tables = create_tables(client("dynamodb"), {key: f"{prefix}-{key}" for key in table_specs()})
    dlq = client("sqs").create_queue(QueueName=f"{prefix}-incidents-dlq")["QueueUrl"]
    definition = load_definition()
    discovery = {
        "tables": tables,
        "incidents_dlq_url": dlq,
        "buckets": {},
        "metrics_namespace": "HealOps/Services",
        "service_count": len(definition.services),
        "service_log_group_pattern": f"/{prefix}/services/{{service}}",
    }
    client("ssm").put_parameter(Name=f"/{prefix}/stack", Type="String", Value=json.dumps(discovery))
    res = resources_cls(name_prefix=prefix, endpoint_url=endpoint, client_factory=client)
    stamp = datetime.now(tz=UTC).isoformat()
    for spec in definition.services:
        res.fleet.create(ServiceState.initial(spec, definition.digest, stamp))
    with console.status(f"writing {args.incidents:,} incidents"):
        detailed, services, seconds = seed(res, endpoint, args.incidents, args.days, detailed=5)
    console.print(f"seeded {args.incidents:,} incidents over {args.days:g} days in {seconds:.1f} s")

    results: dict[str, list[float]] = {}
    for label, ttl in (("steady", 30.0), ("cold", 0.0)):
        res.summary_ttl_s = ttl
        app = create_app({"RESOURCES": res, "WRITE_TOKEN": "bench"})
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=60)
        try:
            if label == "cold":
                results["overview, cold (24-hour figures recomputed)"] = time_get(conn, "/", args.runs)
                continue
            # The fifth timeline page: follow four page tokens once, then time that page.
            token = None
            for _ in range(4):
                query = urlencode({"limit": 50, **({"page_token": token} if token else {})})
                conn.request("GET", f"/api/incidents?{query}")
                token = json.loads(conn.getresponse().read())["next_token"]
            pages = {
                "overview (24-hour figures reused 30 s)": "/",
                "timeline, first page (all statuses)": "/incidents/?limit=50",
                "timeline, fifth page (page token)": "/incidents/?" + urlencode({"limit": 50, "page_token": token}),
                "timeline, one service": f"/incidents/?service={services[0]}&limit=50",
                "incident detail (7 steps, 1 LLM call, 2 attempts, 5 charts)": f"/incidents/{detailed[0]}",
                "API overview (JSON)": "/api/overview",
            }
            results.update({name: time_get(conn, path, args.runs) for name, path in pages.items()})
        finally:
            conn.close()
            server.shutdown()
    return results
