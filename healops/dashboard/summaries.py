"""Pure summaries the pages show: a service's colour and why, MTTD/MTTR, guard breakers.

No AWS here: the read model (:mod:`healops.dashboard.queries`) fetches records and these
functions turn them into what a person reads.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Colour = Literal["green", "amber", "red"]
OPEN_STATUSES = ("open", "remediating", "escalated")
# Fields a detector may put on an incident or its signals to say when the trouble began.
ONSET_FIELDS = ("onset_at", "started_at", "first_seen_at", "since")


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


@dataclass(frozen=True)
class ServiceHealth:
    service: str
    colour: Colour
    reasons: tuple[str, ...]
    health: str
    replicas: int | None = None
    version: str | None = None
    last_action: str | None = None


def service_health(service: str, state: Any | None, open_incidents: Sequence[Mapping[str, Any]]) -> ServiceHealth:
    """Red: down, or an open high/critical or escalated incident; amber: degraded or any open incident."""
    reasons: list[str] = []
    colour: Colour = "green"

    def worse(to: Colour) -> None:
        nonlocal colour
        order = ("green", "amber", "red")
        if order.index(to) > order.index(colour):
            colour = to

    health = state.health if state is not None else "unknown"
    if state is None:
        worse("amber")
        reasons.append("no state record in the fleet table")
    elif state.health == "down":
        worse("red")
        reasons.append("health check: down")
    elif state.health == "degraded":
        worse("amber")
        reasons.append("health check: degraded")
    for incident in open_incidents:
        severe = incident.get("severity") in ("high", "critical") or incident.get("status") == "escalated"
        worse("red" if severe else "amber")
        reasons.append(
            f"{incident.get('status')} {incident.get('severity')} incident {incident.get('incident_id')}: "
            f"{incident.get('kind')}"
        )
    if not reasons:
        reasons.append("healthy, no open incident")
    return ServiceHealth(
        service=service,
        colour=colour,
        reasons=tuple(reasons),
        health=health,
        replicas=getattr(state, "replicas", None),
        version=getattr(state, "version", None),
        last_action=getattr(state, "last_action", None),
    )


def onset(incident: Mapping[str, Any]) -> datetime | None:
    """When the trouble began: the incident's own onset field, else the earliest its signals name."""
    candidates = [parse_time(incident.get(name)) for name in ONSET_FIELDS]
    for signal in incident.get("signals") or []:
        if isinstance(signal, Mapping):
            candidates.extend(parse_time(signal.get(name)) for name in ONSET_FIELDS)
    found = [c for c in candidates if c is not None]
    return min(found) if found else None


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass(frozen=True)
class DurationStats:
    """Seconds; ``count`` incidents had what the figure needs, out of ``out_of``."""

    count: int
    out_of: int
    mean_s: float | None = None
    p50_s: float | None = None
    p95_s: float | None = None

    @classmethod
    def of(cls, values: Sequence[float], out_of: int) -> DurationStats:
        if not values:
            return cls(0, out_of)
        return cls(len(values), out_of, statistics.fmean(values), _percentile(values, 0.5), _percentile(values, 0.95))


@dataclass(frozen=True)
class WindowSummary:
    """Incidents opened in a window: counts by status and kind, MTTD and MTTR."""

    total: int
    by_status: dict[str, int]
    by_kind: dict[str, int]
    mttd: DurationStats
    mttr: DurationStats
    per_hour: list[int] = field(default_factory=list)


def summarise_window(incidents: Iterable[Mapping[str, Any]], window_end: datetime, hours: int = 24) -> WindowSummary:
    """MTTD: opened_at minus onset (where the detector recorded one); MTTR: resolved_at minus opened_at."""
    items = list(incidents)
    by_status: dict[str, int] = {}
    by_kind: dict[str, int] = {}
    detect, repair = [], []
    per_hour = [0] * hours
    for item in items:
        by_status[item.get("status", "?")] = by_status.get(item.get("status", "?"), 0) + 1
        by_kind[item.get("kind", "?")] = by_kind.get(item.get("kind", "?"), 0) + 1
        opened = parse_time(item.get("opened_at"))
        if opened is None:
            continue
        began = onset(item)
        if began is not None and began <= opened:
            detect.append((opened - began).total_seconds())
        resolved = parse_time(item.get("resolved_at"))
        if item.get("status") == "resolved" and resolved is not None and resolved >= opened:
            repair.append((resolved - opened).total_seconds())
        age_h = int((window_end - opened).total_seconds() // 3600)
        if 0 <= age_h < hours:
            per_hour[hours - 1 - age_h] += 1
    resolved_count = by_status.get("resolved", 0)
    return WindowSummary(
        total=len(items),
        by_status=dict(sorted(by_status.items())),
        by_kind=dict(sorted(by_kind.items(), key=lambda kv: -kv[1])),
        mttd=DurationStats.of(detect, len(items)),
        mttr=DurationStats.of(repair, resolved_count),
        per_hour=per_hour,
    )


def failed_attempts_by_service(attempts: Iterable[Mapping[str, Any]]) -> dict[str, list[datetime]]:
    """Start times of remediation attempts that failed (acted but not recovered, or errored)."""
    failures: dict[str, list[datetime]] = {}
    for attempt in attempts:
        failed = attempt.get("verification") == "not_recovered" or attempt.get("outcome") == "failed"
        started = parse_time(attempt.get("started_at"))
        if failed and started is not None:
            failures.setdefault(str(attempt.get("service")), []).append(started)
    return failures


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"
