"""A signal: one detector's finding about one service at one tick, in the words and numbers an incident keeps.

Signals are *strong* (enough on their own to open an incident: an error-rate jump, all replicas down, latency
or CPU per request far above normal without a traffic burst to explain it, a traffic surge beyond a burst that
leaves the CPU near saturation, a resource predicted to run out, a burn-rate alert, a CloudWatch alarm) or
*weak* (they corroborate and keep an open incident alive but never open one: error storms and new exception
signatures in the logs, a partial heartbeat drop, a change explained by load or a deploy). Each kind belongs
to a *family* (errors, latency, availability, saturation, memory, disk), which names the incident.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

FAMILIES: dict[str, str] = {
    "error_rate": "errors",
    "burn_rate": "errors",
    "alarm": "errors",
    "error_storm": "errors",
    "new_exception": "errors",
    "latency": "latency",
    "heartbeat": "availability",
    "cpu_per_request": "saturation",
    "traffic_surge": "saturation",
    "memory_exhaustion_predicted": "memory",
    "disk_exhaustion_predicted": "disk",
}

# Kinds that summarise a past window (the error budget burnt over an hour and its last minutes, an alarm's
# evaluation periods): after a verified fix they go on firing for the length of that window, so they say
# nothing about whether the fix held.
LAGGING_KINDS = frozenset({"burn_rate", "alarm"})


@dataclass(frozen=True)
class Signal:
    service: str
    tick: int
    kind: str  # a key of FAMILIES
    score: float  # robust z-score (levels), burn rate (burn_rate), 1.0 for alarms and log signatures
    strong: bool
    detail: str  # one line in words
    metric: str | None = None
    value: float | None = None
    baseline: float | None = None
    predicted: bool = False
    eta_s: float | None = None
    eta_low_s: float | None = None
    eta_high_s: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in FAMILIES:
            raise ValueError(f"signal kind {self.kind!r} is not one of {', '.join(sorted(FAMILIES))}")

    @property
    def family(self) -> str:
        return FAMILIES[self.kind]

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}
