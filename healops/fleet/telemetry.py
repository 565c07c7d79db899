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
from healops.fleet.faults import FAULTS
from healops.fleet.logtemplates import DEFAULT_PATHS, PATHS, base_name, error_record
from healops.fleet.state import ActiveFault, ServiceState

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
    if not FAULTS[fault.fault].propagates:
        return None
    p = fault.params
    if fault.fault == "service_crash":
        return 100.0, 0.0, 0.5
    if fault.fault == "dependency_failure":
        return float(p.get("severity_pct", 80.0)), 150.0, float(p.get("decay", 0.5))
    if fault.fault == "network_latency":
        return 0.0, float(p.get("added_ms", 400.0)), float(p.get("decay", 0.5))
    return None


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
    """One service's eight metrics and its log records for ``tick``."""
    spec, base = state.spec, state.spec.baseline
    name = state.service
    rng = _rng(seed, name, tick)
    faults = {f.fault: f for f in state.active_faults(tick)}
    inbound = inbound or []
    notes: list[tuple[str, str, dict[str, Any]]] = []  # (level, message, extra) event lines

    # Load: daily cycle x noise x benign burst x surge, less what the throttle sheds.
    load = diurnal(tick, tick_seconds) * (1.0 + rng.gauss(0.0, 0.04))
    spike = in_benign_spike(seed, name, tick)
    if spike:
        load *= 1.4
    if "cpu_saturation" in faults:
        load *= float(faults["cpu_saturation"].params.get("load_multiplier", 4.0))
    load *= 1.0 - state.throttle_pct / 100.0
    load = max(load, 0.05)
    requests = base.rps * tick_seconds * load

    # CPU: load per replica and per core, relative to the spec's operating point.
    per_replica = load * (spec.replicas / state.replicas) * (spec.cpu_cores / state.cpu_cores)
    cpu_demand = base.cpu_pct * per_replica + rng.gauss(0.0, 1.5)
    if spike:
        cpu_demand += 8.0
    if "cpu_spike" in faults:
        cpu_demand += float(faults["cpu_spike"].params.get("extra_cpu_pct", 40.0)) * spec.replicas / state.replicas
    cpu = min(100.0, max(0.5, cpu_demand))

    latency_factor = 1.0 + rng.gauss(0.0, 0.05)
    # Each replica queues its own share: latency follows the load per replica, so replicas added
    # for a surge bring it back, and a scale-in raises it.
    latency_factor *= 1.0 + 0.25 * max(0.0, per_replica - 1.0)
    if cpu_demand > 90.0:
        # Queueing: latency climbs steeply as the CPU nears saturation.
        latency_factor *= 1.0 + (cpu_demand - 90.0) / 8.0
    added_ms = 0.0
    error_pct = base.error_pct * max(0.2, 1.0 + rng.gauss(0.0, 0.3))
    error_causes: list[tuple[str, float, dict[str, str]]] = []  # (template, share %, values)
    if cpu_demand > 100.0:
        timeouts = min(60.0, (cpu_demand - 100.0) / cpu_demand * 100.0)
        error_pct += timeouts
        error_causes.append(("cpu_saturation", timeouts, {}))

    # Memory: resident set per replica against its limit; a leak grows from its anchor tick.
    memory_mb = base.memory_mb * (1.0 + 0.05 * (load - 1.0)) * (1.0 + rng.gauss(0.0, 0.01))
    alive = state.replicas
    if "memory_leak" in faults:
        leak = faults["memory_leak"]
        rate = float(leak.params.get("leak_mb_per_tick", 60.0))
        headroom = max(1.0, state.memory_limit_mb - memory_mb)
        cycle = math.ceil(headroom / rate) + 1  # ticks from a (re)start to the OOM kill, plus the restart
        phase = (tick - leak.anchor_tick) % cycle
        memory_mb = min(state.memory_limit_mb, memory_mb + rate * phase)
        if phase == cycle - 1:
            memory_mb = state.memory_limit_mb * 0.995
            alive = max(0, state.replicas - max(1, state.replicas // 2))
            error_pct += 40.0
            error_causes.append(("memory_leak", 40.0, {}))
            notes.append(
                (
                    "ERROR",
                    f"container {name} OOMKilled: memory usage reached the {state.memory_limit_mb} MiB limit; "
                    "exit code 137, restarting",
                    {"event": "oom_kill", "exit_code": 137, "memory_limit_mb": state.memory_limit_mb},
                )
            )
    memory_pct = min(100.0, 100.0 * memory_mb / state.memory_limit_mb)

    # Disk: the level at rest, plus a fill that runs from the fault's start.
    disk_pct = state.disk_used_pct + rng.gauss(0.0, 0.05)
    if "disk_exhaustion" in faults:
        fill = faults["disk_exhaustion"]
        disk_pct += float(fill.params.get("fill_pct_per_tick", 3.0)) * (tick - fill.started_tick + 1)
    disk_pct = min(100.0, max(0.0, disk_pct))
    if disk_pct >= 99.9:
        error_pct += 45.0
        error_causes.append(("disk_exhaustion", 45.0, {}))

    if "network_latency" in faults:
        p = faults["network_latency"].params
        added_ms += float(p.get("added_ms", 400.0)) * (1.0 + abs(rng.gauss(0.0, 0.1)))
        if added_ms > 1000.0:
            timeouts = min(30.0, (added_ms - 1000.0) / 100.0)
            error_pct += timeouts
            error_causes.append(("network_latency", timeouts, {"ms": f"{added_ms:.0f}"}))
    if "error_storm" in faults:
        share = float(faults["error_storm"].params.get("error_pct", 35.0)) * (1.0 + rng.gauss(0.0, 0.05))
        error_pct += share
        error_causes.append(("error_storm", share, {}))
    if "bad_deploy" in faults:
        p = faults["bad_deploy"].params
        share = float(p.get("error_pct", 25.0)) * (1.0 + rng.gauss(0.0, 0.05))
        error_pct += share
        latency_factor *= float(p.get("latency_factor", 1.6))
        error_causes.append(("bad_deploy", share, {}))
    if "dependency_failure" in faults:
        share = float(faults["dependency_failure"].params.get("severity_pct", 80.0))
        error_pct += share
        error_causes.append(("dependency_failure", share, {}))
    for effect in inbound:
        error_pct += effect.error_pct
        added_ms += effect.added_ms
        if effect.error_pct >= MIN_PROPAGATED_PCT:
            error_causes.append(("upstream", effect.error_pct, {"dep": effect.source}))

    deployed_version = None
    if not faults and benign_deploy_at(seed, name, tick):
        deployed_version = next_version(state.version)
        notes.append(
            (
                "INFO",
                f"deployment started: {state.version} -> {deployed_version} (rolling, {state.replicas} replicas)",
                {"event": "deploy", "from_version": state.version, "to_version": deployed_version},
            )
        )
    if any(benign_deploy_at(seed, name, tick - k) for k in range(1, DEPLOY_EFFECT_TICKS + 1)):
        latency_factor *= 1.3  # replicas warming up after a rolling deploy

    p50 = base.latency_p50_ms * latency_factor + added_ms
    p99 = base.latency_p99_ms * latency_factor * (1.0 + abs(rng.gauss(0.0, 0.08))) + 2.5 * added_ms

    if "service_crash" in faults:
        crash = faults["service_crash"]
        alive, cpu, memory_pct, error_pct = 0, 0.0, 0.0, 100.0
        p50, p99 = 1.5, 4.0  # the load balancer answers 503 at once
        error_causes = [("upstream", 100.0, {"dep": name})]
        if tick == crash.started_tick:
            code = int(crash.params.get("exit_code", 139))
            notes.append(
                (
                    "ERROR",
                    f"process exited with status {code}; all {state.replicas} replicas of {name} are down",
                    {"event": "crash", "exit_code": code},
                )
            )
        notes.append(
            (
                "ERROR",
                f"upstream connect error or disconnect/reset before headers: {name}.internal connection refused",
                {"event": "lb_no_healthy_upstream"},
            )
        )

    error_pct = min(100.0, max(0.0, error_pct))
    metrics = {
        "CPUUtilization": round(cpu, 3),
        "MemoryUtilization": round(memory_pct, 3),
        "DiskUtilization": round(disk_pct, 3),
        "LatencyP50": round(max(0.1, p50), 3),
        "LatencyP99": round(max(0.1, p99, p50), 3),
        "ErrorRate": round(error_pct, 3),
        "RequestCount": float(round(requests)),
        "Heartbeat": float(alive),
    }
    health = _health(metrics, base.latency_p99_ms)
    logs = _logs(state, seed, tick, at_ms, rng, metrics, error_causes, notes)
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
    error_causes: list[tuple[str, float, dict[str, str]]],
    notes: list[tuple[str, str, dict[str, Any]]],
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
            "status": 500 if cause not in {"upstream", "cpu_saturation", "network_latency"} else 503,
            "latency_ms": round(metrics["LatencyP99"] * (0.5 + rng.random()), 1),
        }
        if i == lines - 1 and failed > lines:
            common["similar_errors_not_logged"] = failed - lines
        if cause == "background":
            record("WARNING", f"{method} {route} {common['status']}: client closed request", **common)
            continue
        values = {"service": name, "version": version, "dep": values.get("dep", ""), "ms": values.get("ms", "")}
        exception = error_record(cause, rng.randrange(8), **values)
        summary = f"{method} {route} failed: {exception['type']}: {exception['message']}"
        record("ERROR", summary, exception=exception, **common)
    return records
