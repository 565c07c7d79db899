"""Records of rule firings: what fired, when, to which targets, and how each delivery ended."""

from __future__ import annotations

import copy
import json
import logging
import os
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

logger = logging.getLogger(__name__)

TargetStatus = Literal["pending", "delivered", "dead-lettered", "failed"]
Trigger = Literal["schedule", "event"]

FIRINGS_FILE_NAME = "eventbridge-firings.json"


@dataclass
class TargetOutcome:
    """One target's delivery for one firing."""

    target_id: str
    arn: str
    status: TargetStatus = "pending"
    attempts: int = 0
    error: str | None = None
    # What the target made of it: an execution ARN, a message id, "function error: ...".
    detail: str | None = None


@dataclass
class FiringRecord:
    """One firing of a rule: a schedule tick or a matched PutEvents event."""

    rule_arn: str
    rule_name: str
    trigger: Trigger
    event_id: str
    time: str  # ISO 8601, real wall-clock time of the firing
    targets: list[TargetOutcome] = field(default_factory=list)

    @property
    def outcome(self) -> str:
        """``no targets``, ``pending``, ``delivered``, ``failed`` or ``partial``."""
        if not self.targets:
            return "no targets"
        statuses = {target.status for target in self.targets}
        if "pending" in statuses:
            return "pending"
        if statuses == {"delivered"}:
            return "delivered"
        if "delivered" not in statuses:
            return "failed"
        return "partial"

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule_arn,
            "rule_name": self.rule_name,
            "trigger": self.trigger,
            "event_id": self.event_id,
            "time": self.time,
            "outcome": self.outcome,
            "targets": [asdict(target) for target in self.targets],
        }


class FiringLog:
    """The last firing of every rule and a count of firings, safe across threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: dict[str, FiringRecord] = {}
        self._counts: dict[str, int] = {}
        self._version = 0

    def add(self, record: FiringRecord) -> None:
        with self._lock:
            self._last[record.rule_arn] = record
            self._counts[record.rule_arn] = self._counts.get(record.rule_arn, 0) + 1
            self._version += 1

    def update(self, outcome: TargetOutcome, **changes: Any) -> None:
        """Change a target's outcome under the lock (delivery threads report here)."""
        with self._lock:
            for name, value in changes.items():
                setattr(outcome, name, value)
            self._version += 1

    @property
    def version(self) -> int:
        """Grows on every change: lets a writer skip unchanged snapshots."""
        return self._version

    def snapshot(self) -> dict[str, dict[str, Any]]:
        """``{rule ARN: last firing as a dict, with "count" of firings so far}``."""
        with self._lock:
            return {
                arn: {**record.to_dict(), "count": self._counts[arn]}
                for arn, record in copy.deepcopy(self._last).items()
            }

    def write(self, state_dir: Path) -> None:
        """Write the snapshot to ``state_dir`` (atomically) for processes outside the server."""
        path = state_dir / FIRINGS_FILE_NAME
        scratch = path.with_suffix(f".{os.getpid()}.tmp")
        scratch.write_text(json.dumps(self.snapshot(), indent=1, sort_keys=True))
        os.replace(scratch, path)


def read_firings(state_dir: Path) -> dict[str, dict[str, Any]]:
    """The snapshot a server process wrote to ``state_dir``; empty if there is none yet."""
    path = state_dir / FIRINGS_FILE_NAME
    try:
        return dict(json.loads(path.read_text()))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        logger.warning("cannot read %s: %s", path, exc)
        return {}
