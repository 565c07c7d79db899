"""``healops bench step-faults``: is every step fault detected within 2 ticks, whatever the hour and the service?

Drives :class:`healops.detection.engine.FleetDetection` (the detector Lambda's core, no AWS) with the simulated
fleet (:class:`healops.fleet.simulator.Simulator`, 8 services) tick by tick: for each step fault (every fault but
the slow memory leak and disk fill, which ``healops bench prediction`` covers), each service and each start
``--every`` ticks over one simulated day, it learns ``--warmup`` ticks, injects the fault with its default
parameters, and runs 8 ticks. A case is *detected* when the first incident rooted on that service opens on the
injection tick or the next (the detector issue's bound), *late* when it opens later, *missed* when none does. The
detector runs as deployed (:class:`healops.detection.schedule.ScheduledDetection`): it reads the metrics every
``--read-every`` ticks (1 by default, as deployed; each case at its own phase of the read period) and steps every
tick since its last read, and the error-rate alarms (3 one-minute points above 5%) wake it in between; the watch is
8 ticks plus the read period, and the table gives the ticks to detection per fault (1: the injection tick). The
daily cycle (a trough at 03:00 simulated UTC), benign bursts and deploys change what a fault looks like: the same
fault on a busy service at noon and on a quiet one at night are different detection problems.

Pure Python over the model: figures are counts and ticks, not times, so they do not depend on the machine.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from statistics import mean

from rich.table import Table

from healops.bench.cli import bench_parser
from healops.bench.console import bench_console
from healops.bench.fleet_cases import DAY_TICKS, SIZE, fleet_cases, run_cases
from healops.bench.prediction import ReadOptions, add_read_options, read_options, scheduled_for, step
from healops.fleet.faults import FAULTS, FaultKind
from healops.fleet.simulator import Simulator

console = bench_console()
SLOW_FAULTS = (FaultKind.MEMORY_LEAK, FaultKind.DISK_EXHAUSTION)  # predicted ahead: healops bench prediction
STEP_FAULTS = tuple(f for f in FAULTS if f not in SLOW_FAULTS)
BOUND_TICKS = 1  # opened on the injection tick or the next: within 2 ticks
WATCH_TICKS = 8


@dataclass(frozen=True)
class Case:
    fault: str
    service: str
    start: int  # the injection tick
    opened_after: int | None  # ticks from the injection to the first incident rooted on the service
    kind: str | None  # that incident's kind (the lead signal)

    @property
    def hour(self) -> int:
        return (self.start % DAY_TICKS) // 60

    @property
    def outcome(self) -> str:
        if self.opened_after is None:
            return "missed"
        return "detected" if self.opened_after <= BOUND_TICKS else "late"


def run_case(fault: str, service: str, start: int, warmup: int, seed: int, read: ReadOptions | None = None) -> Case:
    read = read or ReadOptions()
    sim = Simulator(size=SIZE, seed=seed, tick=start - warmup)
    detection = scheduled_for(sim, read, f"{fault} {service} {start}")
    for _ in range(warmup):
        step(sim, detection)
    sim.inject(service, fault)
    for _ in range(WATCH_TICKS + read.every_ticks):
        tick, _, changes = step(sim, detection)
        for change in changes:
            if change.action == "open" and change.episode.root == service:
                return Case(fault, service, start, tick - start, change.episode.kind)
    return Case(fault, service, start, None, None)


def render(cases: list[Case], read: ReadOptions) -> None:
    console.print(f"detector: {read.label}")
    table = Table(title=f"step faults: detected within 2 ticks, per fault (cases over {SIZE} services x the day)")
    table.add_column("fault")
    for column in ("cases", "detected", "late", "missed", "ticks to detection: mean", "max"):
        table.add_column(column, justify="right")
    table.add_column("not detected in time (service @ hour: ticks to the incident)")
    for fault in STEP_FAULTS:
        runs = [c for c in cases if c.fault == fault]
        counts = Counter(c.outcome for c in runs)
        failed = [c for c in runs if c.outcome != "detected"]
        where = ", ".join(
            f"{c.service} @ {c.hour:02d}h: {'-' if c.opened_after is None else c.opened_after}" for c in failed
        )
        waits = [c.opened_after + 1 for c in runs if c.opened_after is not None]
        table.add_row(
            fault,
            str(len(runs)),
            str(counts["detected"]),
            str(counts["late"]),
            str(counts["missed"]),
            f"{mean(waits):.1f}" if waits else "-",
            str(max(waits)) if waits else "-",
            (where or "-") if len(failed) <= 12 else f"{len(failed)} cases",
        )
    console.print(table)
    detected = sum(c.outcome == "detected" for c in cases)
    waits = [c.opened_after + 1 for c in cases if c.opened_after is not None]
    console.print(f"step faults detected within 2 ticks: {detected} of {len(cases)}")
    if waits:
        console.print(f"ticks to detection: mean {mean(waits):.2f}, max {max(waits)}")


def main(argv: list[str] | None = None) -> int:
    parser = bench_parser("step-faults", __doc__)
    parser.add_argument("--every", type=int, default=60, help="ticks between injection times over the day (60)")
    parser.add_argument("--warmup", type=int, default=60, help="ticks learned before the fault (default 60)")
    parser.add_argument("--seed", type=int, default=7, help="the fleet's noise seed (default 7)")
    add_read_options(parser)
    args = parser.parse_args(argv)
    if not 1 <= args.every <= DAY_TICKS or args.warmup < 1:
        parser.error(f"--every must be 1 to {DAY_TICKS} and --warmup at least 1")
    read = read_options(parser, args)
    plan = fleet_cases(STEP_FAULTS, args.seed, args.every)
    render(
        run_cases(plan, lambda fault, service, start: run_case(fault, service, start, args.warmup, args.seed, read)),
        read,
    )
    return 0
