"""The detection core for a fleet: per-service detectors plus correlation, one tick at a time (pure).

The detector Lambda (through ``healops.detection.runner``) and the tests drive the same object: load states,
``step`` each complete tick in order with every service's metrics and log records, take the changes, save states.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from healops.detection.correlate import Change, CorrelationConfig, CorrelationState, DependencyGraph, correlate
from healops.detection.service import ServiceDetector, ServiceDetectorConfig
from healops.detection.signals import Signal


@dataclass
class TickInput:
    metrics: Mapping[str, float]
    logs: Sequence[Mapping[str, Any]] | None = ()  # None: this tick's logs are not read yet


@dataclass
class FleetDetection:
    graph: DependencyGraph
    config: ServiceDetectorConfig = field(default_factory=ServiceDetectorConfig)
    correlation: CorrelationConfig = field(default_factory=CorrelationConfig)
    detectors: dict[str, ServiceDetector] = field(default_factory=dict)
    state: CorrelationState = field(default_factory=CorrelationState)

    def detector(self, service: str) -> ServiceDetector:
        if service not in self.detectors:
            self.detectors[service] = ServiceDetector(service, self.config)
        return self.detectors[service]

    def signals(self, tick: int, inputs: Mapping[str, TickInput]) -> list[Signal]:
        found: list[Signal] = []
        for service in sorted(inputs):
            found += self.detector(service).observe(tick, inputs[service].metrics, inputs[service].logs)
        return found

    def step(self, tick: int, inputs: Mapping[str, TickInput], extra: Sequence[Signal] = ()) -> list[Change]:
        """Score every service's tick, then correlate its signals (and ``extra`` ones, e.g. alarms)."""
        return correlate(self.state, [*self.signals(tick, inputs), *extra], tick, self.graph, self.correlation)
