"""An in-memory driver of the pure fleet model: inject, tick, act, without AWS.

What the generator Lambda does per tick with the fleet table, kept in a dict instead: the detection tests and
``healops bench prediction`` drive detectors with it tick by tick.
"""

from __future__ import annotations

from typing import Any

from healops.fleet.actions import apply_action, next_version
from healops.fleet.definition import expand, load_definition
from healops.fleet.faults import fault_type
from healops.fleet.telemetry import ServiceTick, fleet_tick
from healops.models.fleet import ActiveFault, ServiceState

# 07:20 simulated UTC on some day (tick % 1440 is the minute of the day): morning load, 0.85 of the daily mean,
# and no benign burst on the fleet's first services then.
MORNING_TICK = 29_000_000 + 600


class Simulator:
    """``size`` services of the fleet definition from ``tick`` on, noise from ``seed``."""

    def __init__(self, size: int, seed: int, tick: int, tick_seconds: float = 60.0) -> None:
        definition = load_definition()
        self.states = {s.name: ServiceState.initial(s, definition.digest, "") for s in expand(definition, size)}
        self.seed, self.tick, self.tick_seconds = seed, tick, tick_seconds

    def inject(self, service: str, fault: str, duration_ticks: int | None = None, **params: Any) -> None:
        state = self.states[service]
        kind = fault_type(fault)
        parsed = kind.parse_params(params).model_dump(mode="json")
        active = ActiveFault(
            injection_id=f"inj-{fault}",
            fault=fault,
            params=parsed,
            started_tick=self.tick,
            until_tick=self.tick + duration_ticks if duration_ticks else None,
            anchor_tick=self.tick,
        )
        update: dict[str, Any] = {"faults": (*state.faults, active)}
        if kind.deploys_version:
            update.update(previous_version=state.version, version=next_version(state.version))
        self.states[service] = state.model_copy(update=update)

    def act(self, service: str, action: str, **params: Any) -> list[str]:
        new_state, outcome = apply_action(self.states[service], action, params, self.tick, "")
        self.states[service] = new_state
        return outcome.ended_faults

    def step(self) -> dict[str, ServiceTick]:
        ticks = {t.service: t for t in fleet_tick(self.states.values(), self.seed, self.tick, self.tick_seconds)}
        self.tick += 1
        return ticks

    def run(self, n: int) -> list[dict[str, ServiceTick]]:
        return [self.step() for _ in range(n)]
