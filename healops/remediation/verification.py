"""Verification: are the metrics an action should have fixed back in band, and for long enough?

Pure: the remediator reads per-tick datapoints (oldest first) and asks :func:`verify`. Bands are
fixed limits, the same the offline reasoner diagnoses with, except latency, whose band is a
multiple of the service's own p99 baseline.

A predicted exhaustion is not out of any band when it opens (it is a forecast), so the bands of the action's
rule prove nothing about it: an action on one must also give back headroom, the forecast metric ending the
window below where it was when the action ran (a restart empties a leaking heap, clearing frees the disk; a
rollback of a deploy that did not cause a disk fill leaves it climbing). A relief that only buys time passes,
and the detector reopens the incident if the fault comes back.

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
# The detector's predicted incident kinds and the metric each forecasts (its FORECAST_SERIES, inverted).
EXHAUSTION_KINDS = {"memory_exhaustion_predicted": "MemoryUtilization", "disk_exhaustion_predicted": "DiskUtilization"}
HEADROOM_MARGIN_PCT = 1.0  # below the level at the action by at least this much: more than a tick's noise


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
    headroom: Mapping[str, float] | None = None,
) -> VerificationResult:
    """``series``: per metric, the values of the ticks after the action settled, oldest first;
    ``ticks_since_action``: wall-clock ticks since the action; ``headroom``: metric -> its level when the action
    ran, for a predicted exhaustion (it must end below it by :data:`HEADROOM_MARGIN_PCT`)."""
    last = {m: float(v[-1]) for m, v in series.items() if v}
    bands = [band(m, p99_baseline_ms) for m in rule.metrics]
    bands += [Band(m, high=round(level - HEADROOM_MARGIN_PCT, 3)) for m, level in (headroom or {}).items()]
    observed = min((len(series.get(b.metric, ())) for b in bands), default=0)
    window = max(rule.stable_ticks, rule.within_ticks - rule.settle_ticks)
    failing: list[str] = []
    for b in bands:
        values = list(series.get(b.metric, ()))[-rule.stable_ticks :]
        if len(values) < rule.stable_ticks or not all(b.holds(v) for v in values):
            shown = ", ".join(f"{v:g}" for v in values) or "no data"
            gained = " (no headroom gained on the predicted exhaustion)" if b.metric in (headroom or {}) else ""
            failing.append(f"{b.describe()} not held for {rule.stable_ticks} ticks{gained} (last: {shown})")
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
