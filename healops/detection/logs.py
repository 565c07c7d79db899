"""Log signals: error storms (error lines per tick against a learned baseline) and new exception signatures.

Log lines are untrusted input: they are only normalised and hashed here, never evaluated, and a fingerprint
(not the message) is what the state keeps.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from typing import Any

MAX_MESSAGE_CHARS = 2000  # longer lines are truncated before normalising (bounded work per line)

_NORMALISERS = [
    (re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"), "<uuid>"),
    (re.compile(r"\b0x[0-9a-fA-F]+\b"), "<hex>"),
    # a run of hex digits mixing digits and letters (ids, hashes), not a plain word or number
    (re.compile(r"\b(?=[0-9a-fA-F]*[0-9])(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{6,}\b"), "<hex>"),
    (re.compile(r"(?:[A-Za-z]:)?(?:[/\\][\w.\-]+){2,}[/\\]?"), "<path>"),
    (re.compile(r"\b\d+(?:\.\d+)*\b"), "<n>"),
    (re.compile(r"(['\"]).*?\1"), "<str>"),
    (re.compile(r"\s+"), " "),
]


def normalise_message(message: str) -> str:
    """The message with ids, hex, paths, numbers and quoted strings replaced by placeholders."""
    text = message[:MAX_MESSAGE_CHARS]
    for pattern, replacement in _NORMALISERS:
        text = pattern.sub(replacement, text)
    return text.strip()


def fingerprint(message: str) -> str:
    return hashlib.sha256(normalise_message(message).encode()).hexdigest()[:16]


class ExceptionSignatureTracker:
    """Flags an exception signature never seen before, once the warm-up (in observed lines) is over."""

    def __init__(self, warmup_lines: int = 200, max_signatures: int = 2000) -> None:
        if warmup_lines < 0 or max_signatures < 1:
            raise ValueError("warmup_lines >= 0 and max_signatures >= 1 are required")
        self.warmup_lines = warmup_lines
        self.max_signatures = max_signatures
        self.observed = 0
        self.signatures: dict[str, None] = {}  # insertion-ordered: the oldest is evicted at the bound

    def observe(self, message: str) -> str | None:
        """Learn ``message``; return its fingerprint if it is a new signature after the warm-up, else None."""
        self.observed += 1
        key = fingerprint(message)
        if key in self.signatures:
            return None
        self.signatures[key] = None
        if len(self.signatures) > self.max_signatures:
            del self.signatures[next(iter(self.signatures))]
        return key if self.observed > self.warmup_lines else None

    def to_state(self) -> dict[str, Any]:
        return {"observed": self.observed, "signatures": list(self.signatures)}

    @classmethod
    def from_state(
        cls, state: dict[str, Any], warmup_lines: int = 200, max_signatures: int = 2000
    ) -> ExceptionSignatureTracker:
        tracker = cls(warmup_lines, max_signatures)
        tracker.observed = int(state["observed"])
        tracker.signatures = dict.fromkeys(str(s) for s in state["signatures"][-max_signatures:])
        return tracker


@dataclass(frozen=True)
class StormVerdict:
    storm: bool
    count: float
    baseline: float
    z: float


class ErrorStormDetector:
    """Error lines per tick against an exponentially weighted baseline with a Poisson-floor spread.

    A tick is a storm when its count is ``z_threshold`` spreads above the baseline (the spread is at least the
    Poisson one, sqrt(baseline), so a quiet service does not alarm on a handful of lines) and at least
    ``min_count``. Storm ticks are not learned, so a long storm stays a storm.
    """

    def __init__(
        self, span_ticks: float = 120.0, z_threshold: float = 6.0, min_count: float = 5.0, warmup_ticks: int = 10
    ) -> None:
        self.alpha = 2.0 / (span_ticks + 1.0)
        self.z_threshold = z_threshold
        self.min_count = min_count
        self.warmup_ticks = warmup_ticks
        self.ticks = 0
        self.mean = 0.0
        self.var = 0.0

    def update(self, error_lines: float) -> StormVerdict:
        if error_lines < 0 or not math.isfinite(error_lines):
            raise ValueError(f"error_lines must be a non-negative count, got {error_lines!r}")
        spread = math.sqrt(max(self.var, self.mean, 1.0))
        z = (error_lines - self.mean) / spread
        storm = self.ticks >= self.warmup_ticks and z >= self.z_threshold and error_lines >= self.min_count
        if not storm:
            self.ticks += 1
            alpha = max(self.alpha, 1.0 / self.ticks)
            delta = error_lines - self.mean
            self.mean += alpha * delta
            self.var = (1.0 - alpha) * (self.var + alpha * delta * delta)
        return StormVerdict(storm, float(error_lines), self.mean, z)

    def to_state(self) -> dict[str, Any]:
        return {"ticks": self.ticks, "mean": self.mean, "var": self.var}

    def load_state(self, state: dict[str, Any]) -> None:
        self.ticks, self.mean, self.var = int(state["ticks"]), float(state["mean"]), float(state["var"])
