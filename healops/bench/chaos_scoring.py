"""Scoring of ``healops bench chaos``: pure functions from recorded events to per-scenario results and aggregates.

Two sides are kept apart. Ground truth is what the injector recorded (``healops-injections``: which fault, on
which service, when, what ended it) and what the fleet's own telemetry showed; Heal-Ops never reads either.
Outcomes are only what Heal-Ops recorded: incidents, remediation attempts and LLM calls. Times are epoch
seconds of the wall clock; ticks are those seconds divided by the real length of a tick at the run's time scale.

Attribution: an incident belongs to the scenario whose window holds its opening and whose scope (the faulted
services and every service that calls them, directly or not) holds its service or one of its linked services.
An incident that belongs to no scenario with a fault is a false detection; an attempt on a service that had no
fault of its own is a false remediation, wherever it happened (a caller of a faulted service only shows symptoms).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from healops.fleet.faults import FaultKind

Category = Literal["fault", "cascade", "concurrent", "second_candidate", "control", "self"]
# Faults the detector should see coming: how long before exhaustion the incident opened is the prediction lead.
PREDICTED_FAULTS = frozenset({FaultKind.MEMORY_LEAK, FaultKind.DISK_EXHAUSTION})
# Faults that arrive at once (a step): the MTTD goal of 2 ticks is for these.
STEP_FAULTS = frozenset(
    {
        FaultKind.CPU_SPIKE,
        FaultKind.SERVICE_CRASH,
        FaultKind.ERROR_STORM,
        FaultKind.BAD_DEPLOY,
        FaultKind.DEPENDENCY_FAILURE,
    }
)
# The fleet metric that shows each fault (ground truth: the fleet's own telemetry); the timelines plot it.
METRIC = {
    FaultKind.CPU_SATURATION: "CPUUtilization",
    FaultKind.CPU_SPIKE: "CPUUtilization",
    FaultKind.MEMORY_LEAK: "MemoryUtilization",
    FaultKind.DISK_EXHAUSTION: "DiskUtilization",
    FaultKind.SERVICE_CRASH: "Heartbeat",
    FaultKind.NETWORK_LATENCY: "LatencyP99",
    FaultKind.ERROR_STORM: "ErrorRate",
    FaultKind.BAD_DEPLOY: "ErrorRate",
    FaultKind.DEPENDENCY_FAILURE: "ErrorRate",
}


@dataclass(frozen=True)
class Injected:
    """One injection as the injector recorded it (ground truth)."""

    injection_id: str
    service: str
    fault: str
    injected_at: float
    fixed_by: tuple[str, ...]
    status: str = "active"  # active, cleared, fixed, expired
    ended_at: float | None = None
    ended_by: str | None = None
    # Ground truth from the fleet's telemetry: when the exhausted resource would reach 100% had nothing acted.
    exhaustion_at: float | None = None


@dataclass(frozen=True)
class Opened:
    """An incident as Heal-Ops recorded it."""

    incident_id: str
    service: str
    kind: str
    opened_at: float
    status: str
    linked_services: tuple[str, ...] = ()
    predicted: bool = False
    resolved_at: float | None = None


# Outcomes of an attempt whose action was never carried out (healops/models/remediation.py AttemptOutcome): not a
# remediation of the service, healthy or not. One still in flight, waiting for a human or interrupted counts: it may
# have acted, or act yet.
NEVER_ACTED = frozenset({"refused", "refused_at_act", "skipped", "dry_run", "denied", "approval_timed_out"})


@dataclass(frozen=True)
class Tried:
    """A remediation attempt as Heal-Ops recorded it."""

    incident_id: str
    service: str
    action: str
    started_at: float
    ended_at: float | None
    verification: str
    outcome: str
    detail: str = ""  # the verification's reason, as the engine recorded it (verification_detail)


@dataclass(frozen=True)
class ScenarioRun:
    """What the bench did in one scenario: its window, its injections and the services it may touch."""

    name: str
    category: Category
    started_at: float
    ended_at: float
    injections: tuple[Injected, ...]
    scope: frozenset[str]
    condition: str | None = None  # a fault in Heal-Ops' own parts, in force during the scenario


@dataclass
class ScenarioResult:
    name: str
    category: Category
    faults: list[str]
    services: list[str]
    condition: str | None
    detected: bool | None  # None: a control scenario (nothing to detect)
    ttd_ticks: float | None
    prediction_lead_ticks: float | None
    root_right: bool | None
    fixed_verified: bool | None
    ttr_ticks: float | None
    actions_tried: list[str]
    actions_on_healthy: list[str]
    incidents: list[str]
    incident_statuses: list[str]
    llm_calls: int
    llm_fallbacks: int
    # Why a miss is a miss, from the records: each injection's end (ground truth), each failed verification's reason.
    injection_ends: list[str] = field(default_factory=list)
    not_recovered_because: list[str] = field(default_factory=list)


@dataclass
class Aggregates:
    scenarios: int
    fault_scenarios: int
    detection_recall: float | None
    detection_precision: float | None
    localization_accuracy: float | None
    mitigation_success_rate: float | None
    false_remediations: int
    false_remediations_per_control_hour: float | None
    control_hours: float
    control_incidents: int
    unattributed_incidents: int
    mttd_ticks: list[float] = field(default_factory=list)
    mttr_ticks: list[float] = field(default_factory=list)
    mttd_ticks_p50: float | None = None
    mttd_ticks_p90: float | None = None
    mttd_step_ticks_max: float | None = None
    mttr_ticks_p50: float | None = None
    mttr_ticks_p90: float | None = None
    prediction_lead_ticks_min: float | None = None
    llm_calls: int = 0


def percentile(values: Sequence[float], q: float) -> float | None:
    """The nearest-rank percentile (``q`` in 0..1) of ``values``; None for none."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def callers_closure(services: Iterable[str], depends_on: dict[str, list[str]]) -> frozenset[str]:
    """``services`` and every service that calls one of them, directly or through others."""
    found = set(services)
    changed = True
    while changed:
        changed = False
        for caller, deps in depends_on.items():
            if caller not in found and found.intersection(deps):
                found.add(caller)
                changed = True
    return frozenset(found)


def attribute(run: ScenarioRun, incident: Opened) -> bool:
    """Whether ``incident`` belongs to ``run``: opened in its window, on a service in its scope."""
    touched = {incident.service, *incident.linked_services}
    return run.started_at <= incident.opened_at <= run.ended_at and bool(touched & run.scope)


def score_scenario(
    run: ScenarioRun,
    incidents: Sequence[Opened],
    attempts: Sequence[Tried],
    llm_calls: dict[str, tuple[int, int]],
    tick_s: float,
) -> ScenarioResult:
    """One scenario's figures from the incidents attributed to it, their attempts and LLM calls
    (``llm_calls``: incident id -> (calls, fallbacks))."""
    mine = sorted((i for i in incidents if attribute(run, i)), key=lambda i: i.opened_at)
    ids = {i.incident_id for i in mine}
    tried = sorted((a for a in attempts if a.incident_id in ids), key=lambda a: a.started_at)
    faulted = {inj.service for inj in run.injections}
    on_healthy = [f"{a.action}@{a.service}" for a in tried if a.service not in faulted and a.outcome not in NEVER_ACTED]
    calls = sum(llm_calls.get(i, (0, 0))[0] for i in ids)
    fallbacks = sum(llm_calls.get(i, (0, 0))[1] for i in ids)
    common = {
        "name": run.name,
        "category": run.category,
        "faults": [inj.fault for inj in run.injections],
        "services": [inj.service for inj in run.injections],
        "condition": run.condition,
        "actions_tried": [f"{a.action}@{a.service}:{a.verification}" for a in tried],
        "actions_on_healthy": on_healthy,
        "incidents": [i.incident_id for i in mine],
        "incident_statuses": [i.status for i in mine],
        "llm_calls": calls,
        "llm_fallbacks": fallbacks,
        "injection_ends": [
            f"{inj.fault}@{inj.service}: {inj.status} ({inj.ended_by or '-'})" for inj in run.injections
        ],
        "not_recovered_because": [
            f"{a.action}@{a.service}: {a.detail}"[:400] for a in tried if a.verification == "not_recovered"
        ],
    }
    if not run.injections:
        return ScenarioResult(
            **common,
            detected=None,
            ttd_ticks=None,
            prediction_lead_ticks=None,
            root_right=None,
            fixed_verified=None,
            ttr_ticks=None,
        )
    first_injected = min(inj.injected_at for inj in run.injections)
    after = [i for i in mine if i.opened_at >= first_injected]
    detected = bool(after)
    ttd = (after[0].opened_at - first_injected) / tick_s if after else None
    # Root right: each injected service is the root of an incident opened after its injection.
    root_right = detected and all(
        any(i.service == inj.service and i.opened_at >= inj.injected_at for i in after) for inj in run.injections
    )
    leads = [
        (inj.exhaustion_at - _first_opened_on(after, inj)) / tick_s
        for inj in run.injections
        if inj.fault in PREDICTED_FAULTS and inj.exhaustion_at is not None and _first_opened_on(after, inj) is not None
    ]
    verified = [a for a in tried if a.verification == "recovered" and a.ended_at is not None]
    # Fixed: the injector recorded each fault as ended by a fleet action (not cleared by the bench, not expired),
    # and Heal-Ops verified the recovery.
    fixed = all(inj.status == "fixed" for inj in run.injections) and bool(verified)
    ttr = None
    if fixed and after:
        last_fix = max(inj.ended_at or 0.0 for inj in run.injections)
        recovered = min((a.ended_at for a in verified if a.ended_at >= last_fix), default=None)
        ttr = ((recovered or max(a.ended_at for a in verified)) - after[0].opened_at) / tick_s
    return ScenarioResult(
        **common,
        detected=detected,
        ttd_ticks=ttd,
        prediction_lead_ticks=min(leads) if leads else None,
        root_right=root_right,
        fixed_verified=fixed,
        ttr_ticks=ttr,
    )


def _first_opened_on(incidents: Sequence[Opened], inj: Injected) -> float | None:
    return next((i.opened_at for i in incidents if i.service == inj.service and i.opened_at >= inj.injected_at), None)


def _rate(hits: int, total: int) -> float | None:
    return round(hits / total, 4) if total else None


def aggregate(
    results: Sequence[ScenarioResult],
    all_incidents: Sequence[Opened],
    runs: Sequence[ScenarioRun],
    control_hours: float,
) -> Aggregates:
    """The headline figures over every scenario. Precision counts every incident opened in the run: those
    attributed to a scenario with a fault are true; the rest (control, or no scenario's scope) are false."""
    with_fault = [r for r in results if r.detected is not None]
    true_incidents = {
        i.incident_id
        for i in all_incidents
        if any(attribute(run, i) and run.injections and i.opened_at >= _first(run) for run in runs)
    }
    control_incidents = {i for r in results if r.detected is None for i in r.incidents}
    unattributed = [i for i in all_incidents if not any(attribute(run, i) for run in runs)]
    detected = [r for r in with_fault if r.detected]
    mttd = [r.ttd_ticks for r in detected if r.ttd_ticks is not None]
    mttd_step = [
        r.ttd_ticks
        for r in detected
        if r.ttd_ticks is not None and r.condition is None and set(r.faults) <= STEP_FAULTS
    ]
    mttr = [r.ttr_ticks for r in with_fault if r.ttr_ticks is not None]
    leads = [r.prediction_lead_ticks for r in with_fault if r.prediction_lead_ticks is not None]
    false_remediations = sum(len(r.actions_on_healthy) for r in results)
    control_false = sum(len(r.actions_on_healthy) for r in results if r.detected is None)
    return Aggregates(
        scenarios=len(results),
        fault_scenarios=len(with_fault),
        detection_recall=_rate(len(detected), len(with_fault)),
        detection_precision=_rate(len(true_incidents), len(all_incidents)),
        localization_accuracy=_rate(sum(1 for r in detected if r.root_right), len(detected)),
        mitigation_success_rate=_rate(sum(1 for r in with_fault if r.fixed_verified), len(with_fault)),
        false_remediations=false_remediations,
        false_remediations_per_control_hour=round(control_false / control_hours, 3) if control_hours else None,
        control_hours=round(control_hours, 3),
        control_incidents=len(control_incidents),
        unattributed_incidents=len(unattributed),
        mttd_ticks=mttd,
        mttr_ticks=mttr,
        mttd_ticks_p50=percentile(mttd, 0.5),
        mttd_ticks_p90=percentile(mttd, 0.9),
        mttd_step_ticks_max=max(mttd_step) if mttd_step else None,
        mttr_ticks_p50=percentile(mttr, 0.5),
        mttr_ticks_p90=percentile(mttr, 0.9),
        prediction_lead_ticks_min=min(leads) if leads else None,
        llm_calls=sum(r.llm_calls for r in results),
    )


def _first(run: ScenarioRun) -> float:
    return min(inj.injected_at for inj in run.injections)


def exhaustion_at(samples: Sequence[tuple[float, float]], limit: float = 100.0) -> float | None:
    """When a utilization rising linearly would reach ``limit``, from (time, percent) samples taken before
    anything acted on it: the rise from the first sample to the last, extended. None when it does not rise."""
    if len(samples) < 2:
        return None
    (t0, v0), (t1, v1) = samples[0], samples[-1]
    if t1 <= t0 or v1 <= v0:
        return None
    return t0 + (limit - v0) * (t1 - t0) / (v1 - v0)
