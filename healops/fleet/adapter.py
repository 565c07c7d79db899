"""The fleet adapter: one interface to read a service's state and act on it.

The remediation side talks only to :class:`FleetAdapter`. :class:`~healops.fleet.simulated.SimulatedFleet`
implements it on the DynamoDB fleet table; a real target (ECS services, Auto Scaling groups, SSM
Automation documents) is a second implementation of the same methods.

:class:`ServiceView` is what an operator could observe on a real platform: replicas, versions,
capacities, throttle, the last action. It deliberately carries no fault list and no ground
truth: detection works from telemetry, as it must on a real fleet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from healops.fleet.actions import FLEET_ACTIONS, ActionOutcome, FleetAction

__all__ = ["FLEET_ACTIONS", "ActionOutcome", "FleetAction", "FleetAdapter", "ServiceView", "UnknownServiceError"]


class UnknownServiceError(LookupError):
    """The service is not in the fleet."""


@dataclass(frozen=True)
class ServiceView:
    service: str
    tier: str
    depends_on: tuple[str, ...]
    replicas: int
    version: str
    previous_version: str | None
    cpu_cores: float
    memory_limit_mb: int
    disk_gb: float
    throttle_pct: float
    record_version: int
    last_action: str | None = None
    last_operation_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class FleetAdapter(Protocol):
    """What remediation needs from a fleet, whatever runs it."""

    def services(self) -> list[str]:
        """Every service's name."""
        ...

    def describe(self, service: str) -> ServiceView:
        """A service's observable state; :class:`UnknownServiceError` if there is none."""
        ...

    def apply(
        self,
        service: str,
        action: FleetAction,
        params: dict[str, Any] | None = None,
        operation_id: str | None = None,
    ) -> ActionOutcome:
        """Carry out ``action`` (races are retried on fresh state). With ``operation_id``, an operation
        already applied (the service's last one has that id) is not applied again."""
        ...
