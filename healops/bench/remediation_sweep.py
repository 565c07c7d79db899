"""``healops bench remediation-sweep``: does the remediation end resolved for every fault, on every service, at
every time of day?

Runs :class:`healops.remediation.simulated.SimulatedRemediation`: the remediation engine with the offline reasoner
(the default with no model key) on the simulated fleet, driven through the steps the state machine takes, under
the deployed default policy (``--policy`` for another, and the figures say so). No human answers: a run that asks
for an approval is *handed to humans*, as on a deployment nobody watches. For each fault, each service and each
start ``--every`` ticks over ``--days`` simulated days, it runs 5 quiet ticks, optionally deploys the service
``--deploy-before`` minutes before the fault (a routine deploy makes a bad deploy the first suspect), injects the
fault with its default parameters, lets it show (3 ticks, 6 for the slow memory leak and disk fill), and hands the
engine the incident the detector opens for it. A case is *resolved* when an attempt verifies within the
remediator's attempt limit; otherwise it waits for a human's approval or is *escalated*, and the table shows what
was diagnosed and tried. Actions on services other than the faulted one are counted: none of them was at fault.

The daily cycle, benign bursts and deploys change what a fault looks like, so a rule that is right at 07:20 can
be wrong at the 16:00 peak: this is what found a dependency failure taken for a CPU spike during a burst. The
tables are moto's, in process (thousands of cases; a deployed stack takes minutes per incident), written through
the same boto3 calls as deployed. Figures are counts and simulated ticks, the same on any machine.
"""

from __future__ import annotations

import os
import statistics
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from rich.table import Table

from healops.bench.cli import bench_parser
from healops.bench.console import bench_console
from healops.bench.fleet_cases import (
    DAY_TICKS,
    SIZE,
    actions_elsewhere,
    add_deploy_before,
    add_faults,
    add_policy,
    bench_limits,
    fleet_cases,
    run_cases,
)
from healops.bench.step_faults import SLOW_FAULTS
from healops.fleet.faults import FaultKind
from healops.remediation.policy import RemediationLimits
from healops.remediation.simulated import TABLES, SimulatedRemediation, incident_message
from healops.store.remediations import attempt_result

console = bench_console()
QUIET_TICKS = 5
# fault -> the incident kind the detector names it by (its first anomalous metric)
DETECTED_AS = {
    FaultKind.CPU_SATURATION: "latency",
    FaultKind.CPU_SPIKE: "cpu",
    FaultKind.MEMORY_LEAK: "memory",
    FaultKind.DISK_EXHAUSTION: "disk",
    FaultKind.SERVICE_CRASH: "heartbeat",
    FaultKind.NETWORK_LATENCY: "latency",
    FaultKind.ERROR_STORM: "errors",
    FaultKind.BAD_DEPLOY: "errors",
    FaultKind.DEPENDENCY_FAILURE: "errors",
}


@dataclass(frozen=True)
class Case:
    fault: str
    service: str
    start: int  # the injection tick
    route: str  # resolved, escalate, or await_approval (handed to a human who never answers)
    ticks: int  # from the plan to the end of the run (resolved or escalated), in simulated ticks
    diagnosis: str
    tried: tuple[str, ...]  # action: verification, per attempt
    elsewhere: int  # actions carried out on services other than the faulted one

    @property
    def resolved(self) -> bool:
        return self.route == "resolved"

    @property
    def when(self) -> str:
        minute = self.start % DAY_TICKS
        return f"{minute // 60:02d}:{minute % 60:02d}"


@contextmanager
def moto_tables() -> Iterator[Any]:
    """An in-process DynamoDB (moto) with no credentials or endpoint of the caller's leaking in."""
    import boto3
    from moto import mock_aws

    saved = {k: os.environ.get(k) for k in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench")
    try:
        with mock_aws():
            yield boto3.client("dynamodb", region_name="us-east-1")
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run_case(
    dynamodb: Any,
    fault: str,
    service: str,
    start: int,
    seed: int,
    deploy_before: int | None,
    limits: RemediationLimits | None = None,
) -> Case:
    from healops.deploy.tables import create_tables

    create_tables(dynamodb, TABLES)
    try:
        limits = limits if limits is not None else RemediationLimits()
        world = SimulatedRemediation(dynamodb, limits, tick=start - QUIET_TICKS, size=SIZE, seed=seed)
        world.tick(QUIET_TICKS)
        if deploy_before is not None:
            world.deployed(service, minutes_ago=deploy_before)
        world.inject(service, fault)
        world.tick(6 if fault in SLOW_FAULTS else 3)
        kind = DETECTED_AS[fault]
        incident_id = f"sweep-{service}-{kind}"
        planned_at = world.time.now
        run = world.run(incident_message(service, kind, incident_id), approve=False)
        tried = tuple(
            f"{a['action']}: {attempt_result(a)}" for a in world.engine.remediations.for_incident(incident_id).items
        )
        ticks = round(world.time.now - planned_at)
        diagnosis = run.diagnosis.split(":")[0]
        return Case(fault, service, start, run.route, ticks, diagnosis, tried, actions_elsewhere(world, service))
    finally:
        for name in TABLES:
            dynamodb.delete_table(TableName=name)


HANDED = {"await_approval": "awaiting approval", "escalate": "escalated"}


def render(cases: list[Case], shown: int, policy: str) -> None:
    table = Table(title=f"remediation: resolved within the attempt limit, per fault ({SIZE} services x the day)")
    table.add_column("fault")
    columns = ("cases", "resolved", *HANDED.values(), "ticks p50", "ticks max", "first action fixed", "acted elsewhere")
    for column in columns:
        table.add_column(column, justify="right")
    for fault in DETECTED_AS:
        runs = [c for c in cases if c.fault == fault]
        if not runs:
            continue
        resolved = [c for c in runs if c.resolved]
        ticks = [c.ticks for c in resolved]
        first = sum(1 for c in resolved if len(c.tried) == 1)
        routes = Counter(c.route for c in runs)
        table.add_row(
            fault,
            str(len(runs)),
            str(len(resolved)),
            *(str(routes[route]) for route in HANDED),
            f"{statistics.median(ticks):g}" if ticks else "-",
            str(max(ticks)) if ticks else "-",
            f"{first} of {len(runs)}",
            str(sum(c.elsewhere for c in runs)),
        )
    console.print(f"policy: {policy}; no human answers an approval")
    console.print(table)
    failed = [c for c in cases if not c.resolved]
    for c in failed[:shown]:
        console.print(
            f"{HANDED[c.route]}: {c.fault} on {c.service} at {c.when} (tick {c.start}): {c.diagnosis}; {c.tried}"
        )
    if len(failed) > shown:
        console.print(f"... and {len(failed) - shown} more handed to humans")
    diagnosed = Counter(c.diagnosis for c in failed)
    if diagnosed:
        console.print(f"cases handed to humans by diagnosis: {dict(diagnosed)}")
    routes = Counter(c.route for c in failed)
    console.print(f"remediations resolved: {len(cases) - len(failed)} of {len(cases)}")
    console.print(
        f"handed to humans: {len(failed)} ({routes['await_approval']} awaiting approval, {routes['escalate']} "
        f"escalated); actions on services not at fault: {sum(c.elsewhere for c in cases)} "
        f"(in {sum(1 for c in cases if c.elsewhere)} cases)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = bench_parser("remediation-sweep", __doc__)
    parser.add_argument("--every", type=int, default=97, help="ticks between fault starts (default 97)")
    parser.add_argument("--days", type=int, default=2, help="simulated days the starts cover (default 2)")
    parser.add_argument("--seed", type=int, default=7, help="the fleet's noise seed (default 7)")
    add_deploy_before(parser)
    add_policy(parser)
    add_faults(parser, list(DETECTED_AS))
    parser.add_argument("--show", type=int, default=20, help="escalated cases listed (default 20)")
    args = parser.parse_args(argv)
    if not 1 <= args.every <= DAY_TICKS or args.days < 1:
        parser.error(f"--every must be 1 to {DAY_TICKS} and --days at least 1")
    limits, policy = bench_limits(parser, args.policy)
    plan = fleet_cases(args.faults, args.seed, args.every, args.days)
    with moto_tables() as dynamodb:
        cases = run_cases(
            plan,
            lambda fault, service, start: run_case(
                dynamodb, fault, service, start, args.seed, args.deploy_before, limits
            ),
        )
    render(cases, args.show, policy)
    return 0
