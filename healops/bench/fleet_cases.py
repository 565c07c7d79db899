"""The sweep benches' cases (``step-faults``, ``remediation-sweep``, ``closed-loop``): every fault on every service
of the 8-service fleet model, at starts spread over one or more simulated days from the morning tick, run one by
one with the progress shown."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from healops.bench.console import bench_console
from healops.fleet.simulator import MORNING_TICK, Simulator
from healops.remediation.policy import DEFAULT_POLICY_FILE, InvalidLimitsError, RemediationLimits, parse_limits
from healops.remediation.simulated import SimulatedRemediation

SIZE = 8
DAY_TICKS = 1440
DEPLOY_BEFORE_MAX = 120  # minutes: a deploy longer ago is no suspect of the planner's (its window is 30)
Result = TypeVar("Result")


def fleet_cases(faults: Sequence[str], seed: int, every: int, days: int = 1) -> list[tuple[str, str, int]]:
    """(fault, service, start tick) for each start ``every`` ticks over ``days`` days, each fault and service."""
    services = list(Simulator(size=SIZE, seed=seed, tick=MORNING_TICK).states)
    return [
        (fault, service, start)
        for start in range(MORNING_TICK, MORNING_TICK + days * DAY_TICKS, every)
        for fault in faults
        for service in services
    ]


def run_cases(cases: list[tuple[str, str, int]], run: Callable[[str, str, int], Result]) -> list[Result]:
    """``run(fault, service, start)`` for each case, in order, with a progress line."""
    results = []
    with bench_console().status("") as status:
        for i, (fault, service, start) in enumerate(cases, 1):
            status.update(f"case {i} of {len(cases)}: {fault} on {service}")
            results.append(run(fault, service, start))
    return results


def add_deploy_before(parser: argparse.ArgumentParser) -> None:
    """``--deploy-before MIN``: each service deployed this many simulated minutes before its fault, so it has an
    earlier version to roll back to (and a routine deploy makes a bad deploy the first suspect)."""

    def minutes(text: str) -> int:
        value = int(text)
        if not 0 <= value <= DEPLOY_BEFORE_MAX:
            raise argparse.ArgumentTypeError(f"{value}: accepted are 0 to {DEPLOY_BEFORE_MAX} minutes")
        return value

    parser.add_argument(
        "--deploy-before",
        type=minutes,
        metavar="MIN",
        help="deploy each service this many simulated minutes before its fault (default: no deploy)",
    )


def add_policy(parser: argparse.ArgumentParser) -> None:
    """``--policy FILE``: the remediation policy (JSON, the SSM parameter's shape) instead of the deployed default."""
    parser.add_argument(
        "--policy",
        type=Path,
        metavar="FILE",
        help=f"a remediation policy (JSON) instead of the deployed default (healops/remediation/{DEFAULT_POLICY_FILE})",
    )


def bench_limits(parser: argparse.ArgumentParser, path: Path | None) -> tuple[RemediationLimits, str]:
    """The limits a bench runs with and the label its figures carry: the deployed default unless ``path``."""
    if path is None:
        return RemediationLimits(), f"the deployed default policy (healops/remediation/{DEFAULT_POLICY_FILE})"
    try:
        return parse_limits(path.read_text()), f"the policy in {path}, NOT the deployed default"
    except (OSError, InvalidLimitsError) as exc:
        parser.error(f"--policy {path}: {exc}")


def actions_elsewhere(world: SimulatedRemediation, faulted: str) -> int:
    """Fleet actions the remediation carried out on services other than the faulted one."""
    return sum(1 for service, _ in world.fleet.applied if service != faulted)


def add_faults(parser: argparse.ArgumentParser, faults: Sequence[str]) -> None:
    """``--faults FAULT ...``: the faults to run, each one of ``faults`` (default all of them)."""
    parser.add_argument(
        "--faults",
        nargs="+",
        choices=sorted(faults),
        default=list(faults),
        metavar="FAULT",
        help="faults to run (default all: " + ", ".join(sorted(faults)) + ")",
    )
