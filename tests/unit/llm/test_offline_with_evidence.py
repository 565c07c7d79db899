"""The offline reasoner with what the deployed planner now adds (the detector's signals, the service's log lines,
its dependents): on the simulated faults it decides as it does from the metrics alone. The signals and log
lines restate the metrics, so piling them up must not outvote them (a saturated CPU's latency, its latency
signals and its timeout lines once made a surge look like a network fault, and failover replace scale-out)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from healops.bench.remediation import TARGETS
from healops.detection.correlate import Change, DependencyGraph
from healops.detection.engine import FleetDetection, TickInput
from healops.fleet.telemetry import ServiceTick
from healops.llm.providers.offline import OfflineReasoner
from healops.llm.types import IncidentContext, MetricSummary
from healops.models.metrics import SERVICE_METRICS
from healops.remediation.catalog import catalog_specs
from healops.remediation.engine import CONTEXT_TICKS, summarise
from healops.remediation.evidence import MAX_LOG_CHARS, MAX_LOG_LINES, graph_around, incident_signals, pick_excerpts
from healops.store.incidents import IncidentRecord
from tests.unit.fleet.sim import Sim

WARMUP = 60


def opened_incident(fault: str, service: str, params: dict[str, Any], seed: int, ticks_after: int) -> tuple:
    """Drive the fleet model and the detector until the fault's incident opens (and ``ticks_after`` more)."""
    sim = Sim(size=24, seed=seed)
    graph = {name: state.spec.depends_on for name, state in sim.states.items()}
    detection = FleetDetection(DependencyGraph(graph))
    history: list[dict[str, ServiceTick]] = []

    def step() -> list[Change]:
        tick, ticks = sim.tick, sim.step()
        history.append(ticks)
        return detection.step(tick, {name: TickInput(t.metrics, t.logs) for name, t in ticks.items()})

    for _ in range(WARMUP):
        step()
    sim.inject(service, fault, **params)
    opened = None
    for _ in range(30):
        opened = opened or next((c for c in step() if c.action == "open"), None)
        if opened is not None:
            if ticks_after == 0:
                break
            ticks_after -= 1
    assert opened is not None, f"{fault} on {service}: no incident"
    return sim, graph, history, opened.episode


def contexts(sim: Sim, graph: dict, history: list, episode: Any) -> tuple[IncidentContext, IncidentContext]:
    """(metrics only, as the planner saw before; everything the deployed planner sees now)."""
    root = episode.root
    baseline = sim.states[root].spec.baseline.latency_p99_ms
    metrics: list[MetricSummary] = []
    for name in (root, *graph[root]):
        for metric in SERVICE_METRICS:
            values = [ticks[name].metrics[metric] for ticks in history[-CONTEXT_TICKS:]]
            summary = summarise(name, metric, values, baseline if (name, metric) == (root, "LatencyP99") else None)
            assert summary is not None
            metrics.append(summary)
    bare = IncidentContext(
        incident_id="inc-sim",
        service=root,
        kind=episode.kind,
        opened_at="2026-01-01T00:00:00+00:00",
        metrics=metrics,
        graph={root: list(graph[root])},
        catalog=catalog_specs(),
    )
    events = [
        {"timestamp": r["epoch_ms"], "message": json.dumps(r)} for ticks in history[-5:] for r in ticks[root].logs
    ]
    record = IncidentRecord(incident_id="inc-sim", service=root, kind=episode.kind, signals=episode.signals)
    full = bare.model_copy(
        update={
            "signals": incident_signals(record),
            "logs": pick_excerpts(root, events, MAX_LOG_LINES, MAX_LOG_CHARS),
            "graph": graph_around(graph, root),
        }
    )
    return bare, full


@pytest.mark.parametrize("ticks_after", (0, 2))
@pytest.mark.parametrize("seed", (7, 23))
@pytest.mark.parametrize("fault", sorted(TARGETS))
def test_signals_and_log_lines_do_not_outvote_the_metrics(fault: str, seed: int, ticks_after: int) -> None:
    service, params = TARGETS[fault]
    bare, full = contexts(*opened_incident(fault, service, params, seed, ticks_after))
    assert full.signals and full.logs, "the richer context is not richer"
    from_metrics, from_everything = OfflineReasoner().plan(bare), OfflineReasoner().plan(full)
    assert from_everything.diagnosis.fault_kind == from_metrics.diagnosis.fault_kind, from_everything.diagnosis
    assert [a.action for a in from_everything.actions] == [a.action for a in from_metrics.actions]
    if fault in ("cpu_saturation", "cpu_spike"):
        assert from_everything.actions[0].action == "scale_out"
