"""What every extension of the embedded cloud is told about the place it runs in."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class EmbeddedContext:
    """Shared settings and the stop signal for the embedded cloud and its extensions.

    ``time_scale`` compresses time: schedules fire, alarm periods elapse and Step Functions
    ``Wait`` states end ``time_scale`` times sooner. Metric and log timestamps stay real
    wall-clock time; only the intervals between them shrink.
    """

    host: str = "127.0.0.1"
    port: int = 4566
    time_scale: float = 1.0
    state_dir: Path = field(default_factory=lambda: Path(".healops"))
    stop_event: threading.Event = field(default_factory=threading.Event)
    # Where snapshots of the cloud's state live (healops.local.persistence); None keeps nothing.
    snapshot_dir: Path | None = None
    # Real seconds between periodic snapshots; 0 saves only at stop.
    snapshot_interval: float = 30.0

    def __post_init__(self) -> None:
        if self.time_scale <= 0:
            raise ValueError(f"time_scale must be a positive number, got {self.time_scale!r}")
        if self.snapshot_interval < 0:
            raise ValueError(f"snapshot_interval must be 0 (only at stop) or positive, got {self.snapshot_interval!r}")

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def scaled(self, seconds: float) -> float:
        """Real seconds that stand for ``seconds`` of simulated time."""
        return seconds / self.time_scale
