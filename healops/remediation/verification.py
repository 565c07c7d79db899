"""Verification: are the metrics an action should have fixed back in band, and for long enough?

Pure: the remediator reads per-tick datapoints (oldest first) and asks :func:`verify`. Bands are
fixed limits, the same the offline reasoner diagnoses with, except latency, whose band is a
multiple of the service's own p99 baseline.

The verdict "not recovered" needs evidence: the datapoints of the whole window (``within_ticks``
after the settle), or, when metrics arrive late or not at all, the window plus as long again.
Telemetry that has not arrived yet is not a failed fix (CloudWatch delivers minutes late on AWS,
and a loaded generator falls behind locally); telemetry that never arrives is, in the end.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from healops.remediation.catalog import VerificationRule

Status = Literal["recovered", "not_recovered", "pending"]

UTILISATION_LIMIT_PCT = 85.0
ERROR_RATE_LIMIT_PCT = 5.0
LATENCY_LIMIT_FACTOR = 3.0
DEFAULT_P99_BASELINE_MS = 500.0


@dataclass(frozen=True)
class Band:
    metric: str
    low: float | None = None
    high: float | None = None

    def holds(self, value: float) -> bool:
        return (self.low is None or value >= self.low) and (self.high is None or value < self.high)

    def describe(self) -> str:
        if self.low is not None and self.high is not None:
            return f"{self.low:g} <= {self.metric} < {self.high:g}"
        return f"{self.metric} >= {self.low:g}" if self.low is not None else f"{self.metric} < {self.high:g}"


def band(metric: str, p99_baseline_ms: float | None = None) -> Band:
    """The healthy band of ``metric``; latency relative to the service's p99 baseline."""
    if metric in ("CPUUtilization", "MemoryUtilization", "DiskUtilization"):
        return Band(metric, high=UTILISATION_LIMIT_PCT)
    if metric == "ErrorRate":
        return Band(metric, high=ERROR_RATE_LIMIT_PCT)
    if metric in ("LatencyP99", "LatencyP50"):
        return Band(metric, high=LATENCY_LIMIT_FACTOR * (p99_baseline_ms or DEFAULT_P99_BASELINE_MS))
    if metric == "Heartbeat":
        return Band(metric, low=1.0)
    raise ValueError(
        f"metric: no band for {metric!r}; known: CPU/Memory/DiskUtilization, ErrorRate, Latency*, Heartbeat"
    )


@dataclass(frozen=True)
class VerificationResult:
    status: Status
    detail: str
    last: dict[str, float]


def verify(
    rule: VerificationRule,
    series: Mapping[str, Sequence[float]],
    ticks_since_action: int,
    p99_baseline_ms: float | None = None,
) -> VerificationResult:
    """``series``: per metric, the values of the ticks after the action settled, oldest first;
    ``ticks_since_action``: wall-clock ticks since the action."""
    last = {m: float(v[-1]) for m, v in series.items() if v}
    observed = min((len(series.get(m, ())) for m in rule.metrics), default=0)
    window = max(rule.stable_ticks, rule.within_ticks - rule.settle_ticks)
    bands = [band(m, p99_baseline_ms) for m in rule.metrics]
    failing: list[str] = []
    for b in bands:
        values = list(series.get(b.metric, ()))[-rule.stable_ticks :]
        if len(values) < rule.stable_ticks or not all(b.holds(v) for v in values):
            shown = ", ".join(f"{v:g}" for v in values) or "no data"
            failing.append(f"{b.describe()} not held for {rule.stable_ticks} ticks (last: {shown})")
    if not failing:
        held = "; ".join(b.describe() for b in bands)
        return VerificationResult("recovered", f"in band for {rule.stable_ticks} ticks: {held}", last)
    window_seen = observed >= window and ticks_since_action >= rule.within_ticks
    if window_seen or ticks_since_action >= 2 * rule.within_ticks:
        late = "" if window_seen else f" (only {observed} of {window} ticks of data arrived)"
        return VerificationResult(
            "not_recovered", f"after {ticks_since_action} ticks{late}: " + "; ".join(failing), last
        )
    return VerificationResult("pending", "; ".join(failing), last)
