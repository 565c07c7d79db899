"""``healops bench closed-loop``: the detector and the remediation together on the fleet model. Is every fault
detected, fixed, and does it stay fixed?

``bench step-faults`` checks the detector and ``bench remediation-sweep`` the remediation, each on its own: the
sweep hands the engine the incident kind a fault *should* be detected as. Here the detector
(:class:`healops.detection.engine.FleetDetection`, the detector Lambda's core) watches the fleet model as deployed
(:class:`healops.detection.schedule.ScheduledDetection`: a read every ``--read-every`` ticks, 1 by default, that
steps every tick since the last, and the error-rate alarms in between), its changes land through the detector's own
sink (:class:`healops.detection.runner.IncidentSink`: the incidents table, the decisions trace, the incidents
queue), and the remediation engine (:class:`healops.remediation.simulated.SimulatedRemediation`) takes what arrives
on the queue: the root, kind and signals the detector really produced. The detector keeps watching while the engine
acts, so what the fix does to the telemetry, and whether the incident reopens, is the detector's call, as deployed.

For each fault, each of the 8 services and each start ``--every`` ticks over a simulated day: 60 ticks of
learning, optionally a deploy ``--deploy-before`` minutes before the fault (an earlier version to roll back to),
the fault with its default parameters, then up to 8 ticks plus the read period (60 for the slow leak and disk fill)
for an incident to arrive. Every incident that arrives is remediated in turn (at most ``MAX_RUNS`` per case), and
once the queue is quiet the fleet is watched ``AFTER_TICKS`` more ticks (plus the read period: a reopen is seen
at the next read). A case is *fixed* when the incident is rooted
on the faulted service, an action that ends the fault (the model's ground truth, ``FaultType.fixed_by``) ran, the
last incident resolved, and the model's own health of the service is healthy for the last ``SETTLE_TICKS`` ticks
(ticks of a benign traffic burst aside: the model's weather, which degrades a fault-free service too);
*fixed after a reopen* when that took more than one incident (a fix that did not hold, then another). Where the
catalog has no fix (a leak with no earlier version to roll back to) the right end is *handed to humans*, after
the reliefs (a restart, a higher memory limit) stopped holding. The engine runs under the deployed default policy
(``--policy`` for another, and the figures say so) and no human answers: an action that asks for an approval
hands the incident to humans too. Actions on services other than the faulted one are counted: none was at fault.

Tables are moto's, in process (DynamoDB and SQS), written through the same boto3 calls as deployed. Figures are
counts and simulated ticks, the same on any machine.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from rich.markup import escape
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
from healops.bench.prediction import ReadOptions, add_read_options, read_options, scheduled_for
from healops.bench.remediation_sweep import moto_tables
from healops.bench.step_faults import SLOW_FAULTS
from healops.detection.engine import TickInput
from healops.detection.runner import IncidentSink
from healops.detection.schedule import ScheduledDetection
from healops.fleet.faults import FAULTS
from healops.fleet.telemetry import ServiceTick, in_benign_spike
from healops.models.incident import IncidentMessage
from healops.remediation.policy import RemediationLimits
from healops.remediation.simulated import TABLES, SimulatedRemediation
from healops.store.remediations import attempt_result

console = bench_console()
WARMUP_TICKS = 60
WATCH_TICKS = 8  # for an incident after a step fault (the detector's bound is 2)
SLOW_WATCH_TICKS = 60  # for a leak or a disk fill: predicted ahead of exhaustion
AFTER_TICKS = 30  # watched once the queue is quiet: the reopen window of the correlation
SETTLE_TICKS = 10  # the last ticks in which the service must be healthy
MAX_RUNS = 5  # incidents remediated per case: room for the third reopen, which the default reopen limit (2) escalates


@dataclass(frozen=True)
class Handled:
    """One incident from the queue and what its remediation did."""

    root: str
    kind: str
    episode: int
    route: str  # resolved, escalate, or await_approval (handed to a human who never answers)
    tried: tuple[str, ...]  # action: result, per attempt

    def __str__(self) -> str:
        again = f" (reopened {self.episode}x)" if self.episode else ""
        return f"{self.kind} on {self.root}{again} -> {self.route} [{', '.join(self.tried)}]"


@dataclass(frozen=True)
class Case:
    fault: str
    service: str
    start: int  # the injection tick
    opened_after: int | None  # ticks from the injection to the first incident on the queue
    handled: tuple[Handled, ...]
    before: int  # incidents that arrived during the learning ticks (false alarms on a quiet fleet)
    unhealthy_at_end: int  # of the last SETTLE_TICKS ticks, those the service was not healthy (bursts aside)
    fix_applied: bool  # an action that ends the fault (the model's ground truth) ran on the service
    elsewhere: int = 0  # actions carried out on services other than the faulted one

    @property
    def when(self) -> str:
        minute = self.start % DAY_TICKS
        return f"{minute // 60:02d}:{minute % 60:02d}"

    @property
    def detected(self) -> bool:
        return bool(self.handled)

    @property
    def right_root(self) -> bool:
        return bool(self.handled) and self.handled[0].root == self.service

    @property
    def fixed(self) -> bool:
        """The fault's own fix ran, the last incident resolved and the service is healthy at the end."""
        last = self.handled[-1] if self.handled else None
        return (
            self.right_root
            and last is not None
            and last.route == "resolved"
            and self.fix_applied
            and not self.unhealthy_at_end
        )

    @property
    def outcome(self) -> str:
        if not self.detected:
            return "not detected"
        if not self.right_root:
            return "wrong root"
        if self.fixed:
            return "fixed" if len(self.handled) == 1 else "fixed after a reopen"
        if self.handled[-1].route != "resolved":
            # The right end where the catalog has no fix (a leak with no earlier version to roll back to).
            return "handed to humans"
        return "resolved, not fixed"


@dataclass
class DetectorWatch:
    """The detector on the fleet's ticks as they are made, its changes applied through the deployed sink."""

    world: SimulatedRemediation
    sink: IncidentSink
    detection: ScheduledDetection
    service: str
    seed: int
    health: list[str] = field(default_factory=list)  # the watched service's model health, per tick
    bursts: list[bool] = field(default_factory=list)  # per tick: the model's benign traffic burst on the service

    def __call__(self, tick: int, rows: dict[str, ServiceTick]) -> None:
        inputs = {name: TickInput(row.metrics, row.logs) for name, row in rows.items()}
        changes = self.detection.step(tick, inputs, self.sink.hand_back)
        at = datetime.fromtimestamp(self.world.time.now, UTC)
        for change in changes:
            self.sink.apply(change, {}, at)
        self.health.append(rows[self.service].health)
        self.bursts.append(in_benign_spike(self.seed, self.service, tick))

    def unhealthy_at_end(self) -> int:
        """Of the last ``SETTLE_TICKS`` ticks, those the service was not healthy, benign bursts aside: a burst
        pushes a healthy service's CPU to ~90% as well (a 1.4x load), which says nothing of the fault or its fix."""
        ends = zip(self.health[-SETTLE_TICKS:], self.bursts[-SETTLE_TICKS:], strict=True)
        return sum(health != "healthy" and not burst for health, burst in ends)


def _drain(sqs: Any, queue_url: str) -> list[IncidentMessage]:
    """Every message on the queue, oldest first, deleted as read (the remediator's consumer does the same)."""
    messages: list[IncidentMessage] = []
    while True:
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            return messages
        for m in batch:
            messages.append(IncidentMessage.model_validate_json(m["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])


def run_case(
    dynamodb: Any,
    sqs: Any,
    fault: str,
    service: str,
    start: int,
    seed: int,
    deploy_before: int | None = None,
    limits: RemediationLimits | None = None,
    read: ReadOptions | None = None,
) -> Case:
    from healops.deploy.tables import create_tables

    create_tables(dynamodb, TABLES)
    queue_url = sqs.create_queue(QueueName=f"incidents-{uuid.uuid4().hex[:12]}")["QueueUrl"]
    try:
        limits = limits if limits is not None else RemediationLimits()
        world = SimulatedRemediation(dynamodb, limits, tick=start - WARMUP_TICKS, size=SIZE, seed=seed)
        sink = IncidentSink(world.engine.incidents, world.engine.decisions, sqs, queue_url, s3=None, bucket=None)
        detection = scheduled_for(world.sim, read or ReadOptions(), f"{fault} {service} {start}")
        watch = DetectorWatch(world, sink, detection, service, seed)
        world.watchers.append(watch)
        world.tick(WARMUP_TICKS)
        before = len(_drain(sqs, queue_url))
        if deploy_before is not None:
            world.deployed(service, minutes_ago=deploy_before)
        world.inject(service, fault)
        opened_after, queue = None, []
        watch_ticks = SLOW_WATCH_TICKS if fault in SLOW_FAULTS else WATCH_TICKS + detection.schedule.every_ticks
        for waited in range(watch_ticks):
            world.tick()
            queue = _drain(sqs, queue_url)
            if queue:
                opened_after = waited
                break
        handled: list[Handled] = []
        while queue and len(handled) < MAX_RUNS:
            incident = queue.pop(0)
            run = world.run(incident, approve=False)
            # first to last: a reopened incident's earlier episodes' attempts come before this run's
            items = world.engine.remediations.for_incident(incident.incident_id).items[run.first_attempt :]
            tried = tuple(f"{a['action']}: {attempt_result(a)}" for a in items)
            handled.append(Handled(incident.service, incident.kind, incident.episode, run.route, tried))
            queue += _drain(sqs, queue_url)
            for _ in range(AFTER_TICKS + detection.schedule.every_ticks if not queue else 0):
                world.tick()
                queue += _drain(sqs, queue_url)
                if queue:
                    break
        if not handled:
            world.tick(AFTER_TICKS + detection.schedule.every_ticks)
        unhealthy = watch.unhealthy_at_end()
        fix_applied = any((service, action) in world.fleet.applied for action in FAULTS[fault].fixed_by)
        elsewhere = actions_elsewhere(world, service)
        return Case(fault, service, start, opened_after, tuple(handled), before, unhealthy, fix_applied, elsewhere)
    finally:
        sqs.delete_queue(QueueUrl=queue_url)
        for name in TABLES:
            dynamodb.delete_table(TableName=name)


OUTCOMES = (
    "fixed",
    "fixed after a reopen",
    "handed to humans",
    "resolved, not fixed",
    "wrong root",
    "not detected",
)


def render(cases: list[Case], shown: int, policy: str, read: ReadOptions) -> None:
    console.print(f"detector: {read.label}")
    table = Table(title=f"closed loop: detected, remediated, stayed fixed, per fault ({SIZE} services x the day)")
    table.add_column("fault")
    for column in ("cases", "detected in", *OUTCOMES, "acted elsewhere"):
        table.add_column(column, justify="right")
    for fault in FAULTS:
        runs = [c for c in cases if c.fault == fault]
        if not runs:
            continue
        counts = Counter(c.outcome for c in runs)
        waits = [c.opened_after + 1 for c in runs if c.opened_after is not None]
        detected_in = f"{min(waits)}-{max(waits)} ticks (mean {sum(waits) / len(waits):.1f})" if waits else "-"
        elsewhere = str(sum(c.elsewhere for c in runs))
        table.add_row(fault, str(len(runs)), detected_in, *(str(counts[o]) for o in OUTCOMES), elsewhere)
    console.print(f"policy: {policy}; no human answers an approval")
    console.print(table)
    failed = [c for c in cases if c.outcome != "fixed"]
    for c in failed[:shown]:  # everything but a fix at the first attempt, for a reader to judge
        story = "; ".join(str(h) for h in c.handled) or "no incident"
        console.print(
            escape(
                f"{c.outcome}: {c.fault} on {c.service} at {c.when} (tick {c.start}): {story}; "
                f"unhealthy {c.unhealthy_at_end} of the last {SETTLE_TICKS} ticks"
            )
        )
    if len(failed) > shown:
        console.print(f"... and {len(failed) - shown} more not fixed at the first attempt")
    false_alarms = sum(c.before for c in cases)
    console.print(f"incidents during the {WARMUP_TICKS} quiet learning ticks of every case: {false_alarms}")
    fixed = sum(c.fixed for c in cases)
    humans = sum(c.outcome == "handed to humans" for c in cases)
    waiting = sum(c.outcome == "handed to humans" and c.handled[-1].route == "await_approval" for c in cases)
    console.print(f"faults fixed and healthy at the end: {fixed} of {len(cases)}; handed to humans: {humans}")
    console.print(
        f"handed to humans awaiting an approval: {waiting}; actions on services not at fault: "
        f"{sum(c.elsewhere for c in cases)} (in {sum(1 for c in cases if c.elsewhere)} cases)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = bench_parser("closed-loop", __doc__)
    parser.add_argument("--every", type=int, default=97, help="ticks between fault starts over the day (97)")
    parser.add_argument("--seed", type=int, default=7, help="the fleet's noise seed (default 7)")
    add_deploy_before(parser)
    add_policy(parser)
    add_faults(parser, list(FAULTS))
    parser.add_argument("--show", type=int, default=20, help="cases not fixed listed (default 20)")
    add_read_options(parser)
    args = parser.parse_args(argv)
    if not 1 <= args.every <= DAY_TICKS:
        parser.error(f"--every must be 1 to {DAY_TICKS}")
    read = read_options(parser, args)
    limits, policy = bench_limits(parser, args.policy)
    plan = fleet_cases(args.faults, args.seed, args.every)
    with moto_tables() as dynamodb:
        import boto3

        sqs = boto3.client("sqs", region_name="us-east-1")
        cases = run_cases(
            plan,
            lambda fault, service, start: run_case(
                dynamodb, sqs, fault, service, start, args.seed, args.deploy_before, limits, read
            ),
        )
    render(cases, args.show, policy, read)
    return 0
