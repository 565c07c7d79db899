"""Root-cause ranking on externally labelled fault injections: the fleet's own localization on real metrics.

    healops bench rca --data ../shared/rca --out build/rca

Reads every ``cases/<system>-<id>/`` of a directory in the shared rca layout (``metrics.csv``:
``timestamp,<service>.<metric>,...``; ``case.json``). Per case, each service's columns go through the
metric-to-signal mapping (``healops.detection.metric_map``: the names a real target publishes, onto the detector's
metrics) and ``healops.detection.localize.rank_root_causes`` ranks every candidate service, with the case's call
graph as the dependency graph and, where the case names one, its scenario's fault-free period (``normal/``) as
the detectors' warm-up. The prediction reads metrics, the call graph, the candidate list and the normal period's
path only: no label, fault type or fault time (``fault_start``, ``fault_row``, ``other_fault_starts``) is read
before every case is ranked.

Writes ``<out>/predictions.jsonl`` (``{"case": ..., "ranking": [...]}`` a line) and prints per system AC@1, AC@3,
AC@5 and Avg@5 (``AC@k``: the share of cases whose root cause is among the first k; ``Avg@5``: the mean of AC@1
to AC@5). ``--cv`` also chooses which detected episode is the incident (``LocalizeConfig.incident``) by
leave-one-system-out: per system, the choice with the best Avg@5 on the other systems, scored on it.
"""

from __future__ import annotations

import csv
import itertools
import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.table import Table

from healops.bench.cli import bench_parser
from healops.bench.console import bench_console
from healops.detection.correlate import DependencyGraph
from healops.detection.localize import (
    INCIDENT_CHOICES,
    IncidentChoice,
    LocalizeConfig,
    Tick,
    detect,
    rank,
    warm_up,
)
from healops.detection.metric_map import to_detector_metrics
from healops.detection.service import ServiceDetector, ServiceDetectorConfig

KS = (1, 3, 5)


@dataclass
class Case:
    """What the ranking may read of a case: its metrics, call graph, candidates and fault-free period's path."""

    name: str
    system: str
    step_s: float
    ticks: list[Tick]
    graph: DependencyGraph
    candidates: list[str]
    normal: Path | None  # the scenario's fault-free metrics.csv, learned first
    instances: bool  # each service's columns are one instance's (a pod)


def read_metrics(path: Path, instances: bool) -> tuple[list[Tick], float]:
    """``metrics.csv`` as detector metrics per service per row, and the sampling step in seconds.

    ``instances``: each service's columns are one instance's (a pod): it counts as one replica reporting."""
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = list(reader)
    if not header or header[0] != "timestamp":
        raise ValueError(f"{path}: the first column must be timestamp, got {header[:1]}")
    columns: list[tuple[int, str, str]] = []
    for index, name in enumerate(header[1:], start=1):
        service, dot, metric = name.rpartition(".")
        if not dot:
            raise ValueError(f"{path}: column {name!r} is not <service>.<metric>")
        columns.append((index, service, metric))
    ticks: list[Tick] = []
    for row in rows:
        samples: dict[str, dict[str, float | None]] = {}
        for index, service, metric in columns:
            text = row[index] if index < len(row) else ""
            samples.setdefault(service, {})[metric] = float(text) if text else None
        tick = {}
        for service, sample in samples.items():
            reported = any(v is not None and math.isfinite(v) for v in sample.values())
            mapped = to_detector_metrics(sample, instances_reporting=int(reported) if instances else None)
            if mapped:
                tick[service] = mapped
        ticks.append(tick)
    times = [float(row[0]) for row in rows]
    steps = sorted(b - a for a, b in itertools.pairwise(times))
    return ticks, (steps[len(steps) // 2] if steps else 60.0)


def load_case(folder: Path) -> Case:
    meta = json.loads((folder / "case.json").read_text())
    system = folder.name.split("-", 1)[0]
    instances = system == "ob"  # Kubernetes pods: one row per pod (the source's per-pod files)
    ticks, step = read_metrics(folder / "metrics.csv", instances)
    depends_on: dict[str, list[str]] = {}
    for caller, callee in meta.get("call_graph", []):
        depends_on.setdefault(caller, []).append(callee)
        depends_on.setdefault(callee, [])
    normal = meta.get("normal_reference")  # the scenario's fault-free period's metrics.csv, relative to the case
    normal_path = (folder / normal).resolve() if normal else None
    graph = DependencyGraph(depends_on)
    return Case(folder.name, system, step, ticks, graph, list(meta["services"]), normal_path, instances)


def load_cases(root: Path) -> list[Case]:
    cases_dir = root / "cases"
    if not cases_dir.is_dir():
        raise FileNotFoundError(f"{cases_dir} is missing: --data must hold cases/<system>-<id>/metrics.csv")
    return [load_case(folder) for folder in sorted(cases_dir.iterdir()) if (folder / "metrics.csv").is_file()]


def rank_cases(cases: Sequence[Case], choices: Sequence[IncidentChoice]) -> dict[str, dict[str, list[str]]]:
    """Per incident choice, per case, every candidate ranked. The detectors run once per case (the choice only
    picks among the episodes found); a fault-free period is learned once and its detectors' state copied."""
    warmed: dict[tuple[Path, float, bool], dict[str, Any]] = {}
    rankings: dict[str, dict[str, list[str]]] = {choice: {} for choice in choices}
    for case in cases:
        # without a fault-free period the stretch's own first half is the only reference the detectors get
        warmup_ticks = ServiceDetectorConfig.warmup_ticks if case.normal else min(10, max(1, len(case.ticks) // 2))
        config = LocalizeConfig(detector=ServiceDetectorConfig(tick_seconds=case.step_s, warmup_ticks=warmup_ticks))
        detectors: dict[str, ServiceDetector] = {}
        if case.normal is not None:
            key = (case.normal, case.step_s, case.instances)
            if key not in warmed:
                warmup, _ = read_metrics(case.normal, case.instances)
                warmed[key] = {s: d.to_state() for s, d in warm_up(warmup, config.detector).items()}
            detectors = {s: ServiceDetector.from_state(s, st, config.detector) for s, st in warmed[key].items()}
        detection = detect(case.ticks, case.graph, detectors, config)
        for choice in choices:
            rankings[choice][case.name] = rank(detection, case.graph, case.candidates, choice).services
    return rankings


def accuracy(rankings: Sequence[list[str]], truths: Sequence[str]) -> dict[str, float]:
    """AC@1, AC@3, AC@5 and Avg@5 for one root cause per case."""
    if not rankings:
        return {f"AC@{k}": float("nan") for k in KS} | {"Avg@5": float("nan")}
    hits = [[truth in ranking[:k] for ranking, truth in zip(rankings, truths, strict=True)] for k in range(1, 6)]
    ac = [sum(h) / len(h) for h in hits]
    return {f"AC@{k}": ac[k - 1] for k in KS} | {"Avg@5": sum(ac) / 5}


def read_truth(root: Path, case: str) -> str:
    """The labelled root cause: read only to score, after every case is ranked."""
    return str(json.loads((root / "cases" / case / "case.json").read_text())["root_cause_service"])


def main(argv: list[str] | None = None) -> int:
    parser = bench_parser("rca", __doc__)
    parser.add_argument("--data", type=Path, default=Path("../shared/rca"), help="a directory in the rca layout")
    parser.add_argument("--out", type=Path, required=True, help="where to write predictions.jsonl")
    parser.add_argument(
        "--incident", choices=INCIDENT_CHOICES, default=LocalizeConfig().incident, help="which episode is ranked"
    )
    parser.add_argument("--cv", action="store_true", help="also choose --incident by leave-one-system-out")
    args = parser.parse_args(argv)
    console = bench_console()
    began = time.perf_counter()
    cases = load_cases(args.data)
    choices: tuple[IncidentChoice, ...] = INCIDENT_CHOICES if args.cv else (args.incident,)
    rankings = rank_cases(cases, choices)
    elapsed = time.perf_counter() - began
    args.out.mkdir(parents=True, exist_ok=True)
    with (args.out / "predictions.jsonl").open("w") as handle:
        for case in cases:
            handle.write(json.dumps({"case": case.name, "ranking": rankings[args.incident][case.name]}) + "\n")
    truths = {case.name: read_truth(args.data, case.name) for case in cases}
    systems = sorted({case.system for case in cases})

    def score(choice: str, system: str) -> dict[str, float]:
        names = [case.name for case in cases if case.system == system]
        return accuracy([rankings[choice][n] for n in names], [truths[n] for n in names])

    table = Table(title=f"Root-cause ranking, incident = {args.incident} episode")
    for column in ("system", "cases", "AC@1", "AC@3", "AC@5", "Avg@5"):
        table.add_column(column, justify="left" if column == "system" else "right")
    for system in systems:
        figures = score(args.incident, system)
        count = sum(case.system == system for case in cases)
        table.add_row(system, str(count), *(f"{figures[k]:.3f}" for k in ("AC@1", "AC@3", "AC@5", "Avg@5")))
    console.print(table)
    if args.cv:
        for held_out in systems:
            others = [s for s in systems if s != held_out]
            chosen = max(choices, key=lambda c: sum(score(c, s)["Avg@5"] for s in others))  # ties: listed first
            figures = score(chosen, held_out)
            line = " ".join(f"{k}={v:.3f}" for k, v in figures.items())
            console.print(f"leave-one-system-out: {held_out} held out, incident={chosen} chosen on the others: {line}")
    console.print(f"{len(cases)} cases ranked in {elapsed:.1f} s; predictions: {args.out / 'predictions.jsonl'}")
    return 0
