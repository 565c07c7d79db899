"""The telemetry model: a service's metrics and log records for one tick, as a pure function.

``fleet_tick(states, seed, tick, tick_seconds)`` depends only on its arguments (the states carry
each service's spec from the definition): the same inputs give the same numbers and the same
log lines, so tests replay ticks and the generator can be re-run safely.

The normal band has what makes naive thresholds fire falsely: a daily cycle (peak at 15:00,
trough at 03:00 simulated UTC), Gaussian noise, short benign bursts of traffic (about two a day
per service) and occasional deploys (a version change with a brief latency bump and no errors).
Faults add their signatures on top; a fault on one service reaches its callers (and theirs),
weaker with every hop, when it is one that propagates.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from healops.fleet.actions import next_version
from healops.fleet.faults import (
    FAULTS,
    ErrorCause,
    EventLine,
    FaultKind,
    TickDraft,
    fault_type,
    status_of,
    templates_of,
)
from healops.fleet.logtemplates import DEFAULT_PATHS, PATHS, base_name, error_record
from healops.models.fleet import ActiveFault, ServiceState

DAY_S = 86_400
DIURNAL_AMPLITUDE = 0.35
SPIKE_BLOCK_TICKS = 4  # a benign burst lasts one block
SPIKE_PROBABILITY = 0.006  # per block
DEPLOY_PROBABILITY = 1 / 2000  # per tick
DEPLOY_EFFECT_TICKS = 2
REQUEST_SAMPLES = 2  # INFO request lines per service per tick
MAX_ERROR_LINES = 12  # ERROR lines per service per tick (the rest are counted in the last one)
BACKGROUND_ERROR_LINES = 1  # WARNING lines of a healthy service per tick
MIN_PROPAGATED_PCT = 0.5  # effects weaker than this stop spreading


@dataclass(frozen=True)
class Inbound:
    """What a failing dependency does to a caller ``distance`` hops away."""

    source: str
    fault: str
    distance: int
    error_pct: float
    added_ms: float


@dataclass
class ServiceTick:
    service: str
    tick: int
    version: str
    health: str
    metrics: dict[str, float]
    logs: list[dict[str, Any]] = field(default_factory=list)
    deployed_version: str | None = None  # a benign deploy starts at this tick


def _rng(seed: int, *parts: object) -> random.Random:
    digest = hashlib.blake2b(":".join(map(str, (seed, *parts))).encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big"))


def chance(seed: int, *parts: object) -> float:
    digest = hashlib.blake2b(":".join(map(str, (seed, *parts))).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def diurnal(tick: int, tick_seconds: float) -> float:
    """Load factor of the daily cycle: 1 ± DIURNAL_AMPLITUDE, highest at 15:00 simulated UTC."""
    day_fraction = (tick * tick_seconds % DAY_S) / DAY_S
    return 1.0 + DIURNAL_AMPLITUDE * math.sin(2 * math.pi * (day_fraction - 0.375))


def in_benign_spike(seed: int, service: str, tick: int) -> bool:
    return chance(seed, service, "spike", tick // SPIKE_BLOCK_TICKS) < SPIKE_PROBABILITY


def benign_deploy_at(seed: int, service: str, tick: int) -> bool:
    return chance(seed, service, "deploy", tick) < DEPLOY_PROBABILITY


def outbound_effect(fault: ActiveFault) -> tuple[float, float, float] | None:
    """(error %, added ms, decay per hop) that a fault inflicts on callers, if it propagates."""
    outbound = fault_type(fault.fault).outbound(fault)
    return None if outbound is None else (outbound.error_pct, outbound.added_ms, outbound.decay)


def propagated_effects(states: Mapping[str, ServiceState], tick: int) -> dict[str, list[Inbound]]:
    """For each service, the effects reaching it from failing dependencies (shortest path, decayed)."""
    callers: dict[str, list[str]] = {}
    for state in states.values():
        for dep in state.spec.depends_on:
            callers.setdefault(dep, []).append(state.service)
    effects: dict[str, list[Inbound]] = {}
    for state in states.values():
        for fault in state.active_faults(tick):
            outbound = outbound_effect(fault)
            if outbound is None:
                continue
            error_pct, added_ms, decay = outbound
            seen = {state.service}
            queue = deque([(state.service, 0)])
            while queue:
                name, distance = queue.popleft()
                factor = decay ** (distance + 1)
                if max(error_pct, added_ms / 10) * factor < MIN_PROPAGATED_PCT:
                    continue
                for caller in callers.get(name, ()):
                    if caller in seen:
                        continue
                    seen.add(caller)
                    effects.setdefault(caller, []).append(
                        Inbound(state.service, fault.fault, distance + 1, error_pct * factor, added_ms * factor)
                    )
                    queue.append((caller, distance + 1))
    return effects


def fleet_tick(
    states: Iterable[ServiceState], seed: int, tick: int, tick_seconds: float, at_ms: int | None = None
) -> list[ServiceTick]:
    """Every service's telemetry for ``tick``; ``at_ms`` stamps the log records (default: the tick's instant)."""
    by_name = {s.service: s for s in states}
    effects = propagated_effects(by_name, tick)
    stamp = at_ms if at_ms is not None else int(tick * tick_seconds * 1000)
    return [
        service_tick(state, seed, tick, tick_seconds, effects.get(name, []), stamp) for name, state in by_name.items()
    ]


def service_tick(
    state: ServiceState,
    seed: int,
    tick: int,
    tick_seconds: float,
    inbound: list[Inbound] | None = None,
    at_ms: int = 0,
) -> ServiceTick:
    """One service's eight metrics and its log records for ``tick``.

    The normal band is computed here; each active fault's type shapes it in the phases it acts in
    (:class:`healops.fleet.faults.FaultType`), the faults taken in the catalog's order.
    """
    spec, base = state.spec, state.spec.baseline
    name = state.service
    rng = _rng(seed, name, tick)
    by_kind = {f.fault: f for f in state.active_faults(tick)}
    faults = [(kind, by_kind[name]) for name, kind in FAULTS.items() if name in by_kind]
    inbound = inbound or []
    draft = TickDraft(state, tick, rng)

    # Load: daily cycle x noise x benign burst x surge, less what the throttle sheds.
    draft.load = diurnal(tick, tick_seconds) * (1.0 + rng.gauss(0.0, 0.04))
    spike = in_benign_spike(seed, name, tick)
    if spike:
        draft.load *= 1.4
    for kind, active in faults:
        kind.shape_load(draft, active)
    load = draft.load * (1.0 - state.throttle_pct / 100.0)
    load = max(load, 0.05)
    requests = base.rps * tick_seconds * load

    # CPU: load per replica and per core, relative to the spec's operating point.
    per_replica = load * (spec.replicas / state.replicas) * (spec.cpu_cores / state.cpu_cores)
    draft.cpu_demand = base.cpu_pct * per_replica + rng.gauss(0.0, 1.5)
    if spike:
        draft.cpu_demand += 8.0
    for kind, active in faults:
        kind.shape_cpu(draft, active)
    cpu_demand = draft.cpu_demand
    draft.cpu = min(100.0, max(0.5, cpu_demand))

    draft.latency_factor = 1.0 + rng.gauss(0.0, 0.05)
    # Each replica queues its own share: latency follows the load per replica, so replicas added
    # for a surge bring it back, and a scale-in raises it.
    draft.latency_factor *= 1.0 + 0.25 * max(0.0, per_replica - 1.0)
    if cpu_demand > 90.0:
        # Queueing: latency climbs steeply as the CPU nears saturation.
        draft.latency_factor *= 1.0 + (cpu_demand - 90.0) / 8.0
    draft.error_pct = base.error_pct * max(0.2, 1.0 + rng.gauss(0.0, 0.3))
    if cpu_demand > 100.0:
        timeouts = min(60.0, (cpu_demand - 100.0) / cpu_demand * 100.0)
        draft.error_pct += timeouts
        draft.error_causes.append((FaultKind.CPU_SATURATION, timeouts, {}))

    # Memory: resident set per replica against its limit.
    draft.memory_mb = base.memory_mb * (1.0 + 0.05 * (load - 1.0)) * (1.0 + rng.gauss(0.0, 0.01))
    draft.alive = state.replicas
    for kind, active in faults:
        kind.shape_memory(draft, active)
    draft.memory_pct = min(100.0, 100.0 * draft.memory_mb / state.memory_limit_mb)

    # Disk: the level at rest, plus what the faults fill.
    draft.disk_pct = state.disk_used_pct + rng.gauss(0.0, 0.05)
    for kind, active in faults:
        kind.shape_disk(draft, active)
    draft.disk_pct = min(100.0, max(0.0, draft.disk_pct))
    if draft.disk_pct >= 99.9:
        draft.error_pct += 45.0
        draft.error_causes.append((FaultKind.DISK_EXHAUSTION, 45.0, {}))

    for kind, active in faults:
        kind.shape_errors(draft, active)
    for effect in inbound:
        draft.error_pct += effect.error_pct
        draft.added_ms += effect.added_ms
        if effect.error_pct >= MIN_PROPAGATED_PCT:
            draft.error_causes.append(("upstream", effect.error_pct, {"dep": effect.source}))

    deployed_version = None
    if not faults and benign_deploy_at(seed, name, tick):
        deployed_version = next_version(state.version)
        draft.notes.append(
            (
                "INFO",
                f"deployment started: {state.version} -> {deployed_version} (rolling, {state.replicas} replicas)",
                {"event": "deploy", "from_version": state.version, "to_version": deployed_version},
            )
        )
    if any(benign_deploy_at(seed, name, tick - k) for k in range(1, DEPLOY_EFFECT_TICKS + 1)):
        draft.latency_factor *= 1.3  # replicas warming up after a rolling deploy

    draft.p50 = base.latency_p50_ms * draft.latency_factor + draft.added_ms
    draft.p99 = base.latency_p99_ms * draft.latency_factor * (1.0 + abs(rng.gauss(0.0, 0.08))) + 2.5 * draft.added_ms
    for kind, active in faults:
        kind.shape_outcome(draft, active)

    error_pct = min(100.0, max(0.0, draft.error_pct))
    metrics = {
        "CPUUtilization": round(draft.cpu, 3),
        "MemoryUtilization": round(draft.memory_pct, 3),
        "DiskUtilization": round(draft.disk_pct, 3),
        "LatencyP50": round(max(0.1, draft.p50), 3),
        "LatencyP99": round(max(0.1, draft.p99, draft.p50), 3),
        "ErrorRate": round(error_pct, 3),
        "RequestCount": float(round(requests)),
        "Heartbeat": float(draft.alive),
    }
    health = _health(metrics, base.latency_p99_ms)
    logs = _logs(state, seed, tick, at_ms, rng, metrics, draft.error_causes, draft.notes)
    return ServiceTick(name, tick, state.version, health, metrics, logs, deployed_version)


def _health(metrics: Mapping[str, float], base_p99: float) -> str:
    if metrics["Heartbeat"] == 0 or metrics["ErrorRate"] >= 50.0:
        return "down"
    stressed = (
        metrics["ErrorRate"] >= 5.0
        or metrics["LatencyP99"] > 3 * base_p99
        or max(metrics["CPUUtilization"], metrics["MemoryUtilization"], metrics["DiskUtilization"]) >= 90.0
    )
    return "degraded" if stressed else "healthy"


def _logs(
    state: ServiceState,
    seed: int,
    tick: int,
    at_ms: int,
    rng: random.Random,
    metrics: Mapping[str, float],
    error_causes: list[ErrorCause],
    notes: list[EventLine],
) -> list[dict[str, Any]]:
    """Structured JSON-ready records: a few request samples, the tick's errors (bounded), events."""
    name, version = state.service, state.version
    paths = PATHS.get(base_name(name), DEFAULT_PATHS)
    records: list[dict[str, Any]] = []

    def record(level: str, message: str, **extra: Any) -> dict[str, Any]:
        stamp = at_ms + len(records)  # distinct, ordered timestamps within the tick
        entry = {
            "timestamp": datetime.fromtimestamp(stamp / 1000, UTC).isoformat(timespec="milliseconds"),
            "epoch_ms": stamp,
            "level": level,
            "service": name,
            "version": version,
            "tick": tick,
            "message": message,
            **extra,
        }
        records.append(entry)
        return entry

    for level, message, extra in notes:
        record(level, message, **extra)
    serving = metrics["Heartbeat"] > 0
    for i in range(REQUEST_SAMPLES if serving else 0):
        path = paths[rng.randrange(len(paths))]
        latency = metrics["LatencyP50"] * (0.6 + 0.8 * rng.random()) if i == 0 else metrics["LatencyP99"] * 0.9
        method, _, route = path.partition(" ")
        record(
            "INFO",
            f"{method} {route} 200",
            request_id=f"{rng.getrandbits(64):016x}",
            method=method,
            path=route,
            status=200,
            latency_ms=round(latency, 1),
        )
    failed = round(metrics["RequestCount"] * metrics["ErrorRate"] / 100.0)
    if not error_causes:
        # The background error rate of a healthy service: a line, the rest counted.
        error_causes = [("background", 1.0, {})]
        lines = min(failed, BACKGROUND_ERROR_LINES)
    else:
        lines = min(failed, MAX_ERROR_LINES)
    total_share = sum(share for _, share, _ in error_causes) or 1.0
    for i in range(lines):
        # Pick a cause in proportion to its share, deterministically.
        pick, target = 0, rng.random() * total_share
        for pick, (_, share, _) in enumerate(error_causes):  # noqa: B007
            target -= share
            if target <= 0:
                break
        cause, _, values = error_causes[pick]
        path = paths[rng.randrange(len(paths))]
        method, _, route = path.partition(" ")
        common = {
            "request_id": f"{rng.getrandbits(64):016x}",
            "method": method,
            "path": route,
            "status": status_of(cause),
            "latency_ms": round(metrics["LatencyP99"] * (0.5 + rng.random()), 1),
        }
        if i == lines - 1 and failed > lines:
            common["similar_errors_not_logged"] = failed - lines
        if cause == "background":
            record("WARNING", f"{method} {route} {common['status']}: client closed request", **common)
            continue
        values = {"service": name, "version": version, "dep": values.get("dep", ""), "ms": values.get("ms", "")}
        exception = error_record(templates_of(cause), rng.randrange(8), **values)
        summary = f"{method} {route} failed: {exception['type']}: {exception['message']}"
        record("ERROR", summary, exception=exception, **common)
    return records
