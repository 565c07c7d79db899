"""``healops bench prediction``: how far ahead the fleet detector predicts resource exhaustion, and how well.

Drives :class:`healops.detection.engine.FleetDetection` (the detector Lambda's core, no AWS) with the simulated
fleet (:class:`healops.fleet.simulator.Simulator`) tick by tick: for each fault, rate and service, it learns
``--warmup`` ticks, injects the fault, and runs until the resource is exhausted (99.4% or more). A case is
*predicted* when a predicted incident opened on that service at least 10 ticks before the exhaustion with an ETA
within 25% of the real time left (the detector issue's bound). A fault that exhausts the resource in fewer than
``MIN_FEASIBLE_TICKS`` ticks is counted apart: the short forecast window needs 8 consecutive ticks, so no
forecast of that window can warn 10 ticks ahead of it. Then ``--days`` fault-free simulated days (16 services,
benign bursts and deploys) count the predicted incidents opened, which should be none.

The detector runs as deployed (:class:`healops.detection.schedule.ScheduledDetection`): it reads the metrics every
``--read-every`` ticks (1 by default, as deployed) and steps every tick since its last read, and the error-rate
alarms wake it in between; a case's lead counts from the tick its incident really opens.

Pure Python over the model: figures are counts and ticks, not times, so they do not depend on the machine.
"""

from __future__ import annotations

import argparse
import zlib
from dataclasses import dataclass

from rich.table import Table

from healops.bench.cli import bench_parser
from healops.bench.console import bench_console
from healops.detection.correlate import DependencyGraph
from healops.detection.engine import FleetDetection, TickInput
from healops.detection.schedule import (
    ALARM_DATAPOINTS,
    DEFAULT_READ_EVERY_TICKS,
    MAX_READ_EVERY_TICKS,
    ReadSchedule,
    ScheduledDetection,
)
from healops.detection.service import ServiceDetectorConfig
from healops.fleet.faults import FaultKind
from healops.fleet.simulator import MORNING_TICK, Simulator

console = bench_console()
SERVICES = ("checkout", "search", "ledger-db", "auth")
RATES = {
    FaultKind.MEMORY_LEAK: ("leak_mb_per_tick", (15.0, 25.0, 40.0, 60.0, 120.0, 250.0)),
    FaultKind.DISK_EXHAUSTION: ("fill_pct_per_tick", (0.5, 1.0, 1.5, 3.0, 4.0, 5.0)),
}
METRIC = {FaultKind.MEMORY_LEAK: "MemoryUtilization", FaultKind.DISK_EXHAUSTION: "DiskUtilization"}
MIN_LEAD_TICKS = 10
MAX_ETA_ERROR = 0.25
MIN_FEASIBLE_TICKS = 8 + MIN_LEAD_TICKS  # a full short window of the fill, then the lead
MAX_TICKS = 400  # a fill not exhausted by then is reported as such


@dataclass(frozen=True)
class Case:
    fault: str
    service: str
    rate: float
    start: int
    exhausted_after: int | None  # ticks from the injection
    predicted_after: int | None  # ticks from the injection to the first predicted incident on the service
    eta_s: float | None
    tick_s: float  # simulated seconds per tick: the ETA is in seconds, the lead in ticks

    @property
    def lead(self) -> int | None:
        if self.exhausted_after is None or self.predicted_after is None:
            return None
        return self.exhausted_after - self.predicted_after

    @property
    def eta_error(self) -> float | None:
        lead = self.lead
        if lead is None or lead <= 0 or self.eta_s is None:
            return None
        return abs(self.eta_s - lead * self.tick_s) / (lead * self.tick_s)

    @property
    def feasible(self) -> bool:
        return self.exhausted_after is not None and self.exhausted_after >= MIN_FEASIBLE_TICKS

    @property
    def ok(self) -> bool:
        lead, error = self.lead, self.eta_error
        return lead is not None and lead >= MIN_LEAD_TICKS and error is not None and error < MAX_ETA_ERROR


def detection_for(sim: Simulator) -> FleetDetection:
    graph = DependencyGraph({name: state.spec.depends_on for name, state in sim.states.items()})
    # The detector's tick is the simulator's: its ETAs are in seconds, counted in those ticks.
    return FleetDetection(graph, ServiceDetectorConfig(tick_seconds=sim.tick_seconds))


@dataclass(frozen=True)
class ReadOptions:
    """How the benched detector reads: every ``every_ticks`` ticks (the deployed default unless told), with or
    without the error-rate alarms' fast path."""

    every_ticks: int = DEFAULT_READ_EVERY_TICKS
    alarms: bool = True
    alarm_datapoints: int = ALARM_DATAPOINTS

    @property
    def label(self) -> str:
        deployed = self.every_ticks == DEFAULT_READ_EVERY_TICKS and self.alarms
        deployed = deployed and self.alarm_datapoints == ALARM_DATAPOINTS
        alarms = f"with the error-rate alarms ({self.alarm_datapoints} of {self.alarm_datapoints} points)"
        alarms = alarms if self.alarms else "WITHOUT the error-rate alarms"
        every = f"{self.every_ticks} tick{'s' * (self.every_ticks > 1)}"
        return f"metrics read every {every}, {alarms}{' (the deployed default)' if deployed else ''}"


def add_read_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--read-every",
        type=int,
        default=DEFAULT_READ_EVERY_TICKS,
        metavar="N",
        help=f"the detector reads the metrics every N ticks (1 to {MAX_READ_EVERY_TICKS}; "
        f"default {DEFAULT_READ_EVERY_TICKS}, as deployed)",
    )
    parser.add_argument("--no-alarms", action="store_true", help="without the error-rate alarms' fast path")
    parser.add_argument(
        "--alarm-datapoints",
        type=int,
        default=ALARM_DATAPOINTS,
        metavar="M",
        help=f"the alarm fires after M breaching one-minute points in a row (1 to 5; default {ALARM_DATAPOINTS}, "
        "as deployed)",
    )


def read_options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> ReadOptions:
    if not 1 <= args.read_every <= MAX_READ_EVERY_TICKS:
        parser.error(f"--read-every must be 1 to {MAX_READ_EVERY_TICKS}, got {args.read_every}")
    if not 1 <= args.alarm_datapoints <= 5:
        parser.error(f"--alarm-datapoints must be 1 to 5, got {args.alarm_datapoints}")
    return ReadOptions(args.read_every, not args.no_alarms, args.alarm_datapoints)


def scheduled_for(sim: Simulator, read: ReadOptions, case_key: str = "") -> ScheduledDetection:
    """The detector as deployed: reads every ``read.every_ticks`` ticks, the alarms in between. The read phase is
    a function of ``case_key``, so a bench's fault starts fall evenly over the read period."""
    phase = zlib.crc32(case_key.encode()) % read.every_ticks
    return ScheduledDetection(
        detection_for(sim), ReadSchedule(read.every_ticks, phase), read.alarms, read.alarm_datapoints
    )


def step(sim: Simulator, detection: FleetDetection | ScheduledDetection) -> tuple[int, dict, list]:
    tick = sim.tick
    rows = sim.step()
    changes = detection.step(tick, {name: TickInput(row.metrics, row.logs) for name, row in rows.items()})
    return tick, rows, changes


def run_case(
    fault: str, service: str, rate: float, start: int, warmup: int, seed: int, read: ReadOptions | None = None
) -> Case:
    sim = Simulator(size=8, seed=seed, tick=start)
    detection = scheduled_for(sim, read or ReadOptions(), f"{fault} {service} {rate} {start}")
    for _ in range(warmup):
        step(sim, detection)
    param = RATES[fault][0]
    sim.inject(service, fault, **{param: rate})
    injected = sim.tick
    predicted = eta = exhausted = None
    while exhausted is None and sim.tick - injected < MAX_TICKS:
        tick, rows, changes = step(sim, detection)
        if rows[service].metrics[METRIC[fault]] >= 99.4:
            exhausted = tick - injected
        for change in changes:
            episode = change.episode
            if predicted is None and change.action == "open" and episode.predicted and episode.root == service:
                predicted, eta = tick - injected, episode.eta_s
    return Case(fault, service, rate, start, exhausted, predicted, eta, sim.tick_seconds)


def fault_free_days(days: int, seed: int, read: ReadOptions | None = None) -> list[tuple[int, int, str, bool]]:
    """(day, tick, root, predicted) of every incident opened over ``days`` fault-free days of 16 services."""
    opened = []
    for day in range(days):
        sim = Simulator(size=16, seed=seed + day, tick=MORNING_TICK + day * (3 * 1440 + 700))
        detection = scheduled_for(sim, read or ReadOptions(), f"day {day}")
        for _ in range(1440 + 60):
            tick, _, changes = step(sim, detection)
            opened += [(day, tick, c.episode.root, c.episode.predicted) for c in changes if c.action == "open"]
    return opened


def render(cases: list[Case], opened: list[tuple[int, int, str, bool]], days: int, read: ReadOptions) -> None:
    console.print(f"detector: {read.label}")
    table = Table(title="Predicted exhaustion: lead (ticks) / ETA error, per injection start")
    for column in ("fault", "rate", *SERVICES):
        table.add_column(column, justify="right")
    for fault, (param, rates) in RATES.items():
        for rate in rates:
            cells = []
            for service in SERVICES:
                runs = [c for c in cases if (c.fault, c.rate, c.service) == (fault, rate, service)]
                cells.append(" ".join(_cell(c) for c in runs))
            table.add_row(fault, f"{rate:g} {param.split('_')[1]}/tick", *cells)
    console.print(table)
    feasible = [c for c in cases if c.feasible]
    ok = [c for c in feasible if c.ok]
    leads = [c.lead for c in ok if c.lead is not None]
    errors = [c.eta_error for c in ok if c.eta_error is not None]
    console.print(
        f"feasible cases (exhausted {MIN_FEASIBLE_TICKS}+ ticks after the fault): {len(feasible)} of {len(cases)}; "
        f"predicted {MIN_LEAD_TICKS}+ ticks ahead with the ETA within {MAX_ETA_ERROR:.0%}: {len(ok)} of {len(feasible)}"
    )
    if ok:
        console.print(
            f"lead: mean {sum(leads) / len(leads):.1f} ticks (min {min(leads)}); "
            f"ETA error: mean {sum(errors) / len(errors):.1%} (max {max(errors):.1%})"
        )
    predicted = [o for o in opened if o[3]]
    console.print(
        f"fault-free days: {days}; incidents opened: {len(opened)}, of them predicted: {len(predicted)}"
        + "".join(f"\n  day {d} tick {t}: {root}{' (predicted)' if p else ''}" for d, t, root, p in opened)
    )


def _cell(case: Case) -> str:
    if case.exhausted_after is None:
        return "not full"
    if not case.feasible:
        return f"full@{case.exhausted_after}"
    if case.predicted_after is None:
        return "MISSED"
    error = case.eta_error
    text = f"{case.lead}/{error:.0%}" if error is not None else f"{case.lead}/-"
    return text if case.ok else f"[{text}]"


def main(argv: list[str] | None = None) -> int:
    parser = bench_parser("prediction", __doc__)
    parser.add_argument("--starts", type=int, default=3, help="injection times per case, 500 ticks apart (default 3)")
    parser.add_argument("--warmup", type=int, default=60, help="ticks learned before the fault (default 60)")
    parser.add_argument("--days", type=int, default=4, help="fault-free simulated days to check (default 4)")
    parser.add_argument("--seed", type=int, default=7, help="the fleet's noise seed (default 7)")
    add_read_options(parser)
    args = parser.parse_args(argv)
    if args.starts < 1 or args.warmup < 1 or args.days < 0:
        parser.error("--starts and --warmup must be at least 1, --days at least 0")
    read = read_options(parser, args)
    starts = [MORNING_TICK + 500 * i for i in range(args.starts)]
    plan = [
        (fault, service, rate, start)
        for fault, (_, rates) in RATES.items()
        for rate in rates
        for service in SERVICES
        for start in starts
    ]
    cases = []
    with console.status("") as status:
        for i, (fault, service, rate, start) in enumerate(plan, 1):
            status.update(f"case {i} of {len(plan)}: {fault} {rate:g} on {service}")
            cases.append(run_case(fault, service, rate, start, args.warmup, args.seed, read))
        status.update(f"{args.days} fault-free days")
        opened = fault_free_days(args.days, args.seed, read)
    render(cases, opened, args.days, read)
    return 0
