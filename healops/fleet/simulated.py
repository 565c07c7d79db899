"""The simulated fleet: :class:`FleetAdapter` on the DynamoDB fleet table."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from healops.fleet.actions import ActionOutcome, FleetAction, apply_action
from healops.fleet.adapter import ServiceView, UnknownServiceError
from healops.fleet.clock import SimClock
from healops.models.fleet import ServiceState
from healops.store.base import ConditionFailedError, transact
from healops.store.fleet import FleetRepository
from healops.store.injections import InjectionsRepository

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5


class ConcurrentUpdateError(RuntimeError):
    """The service kept changing under us: every conditional write lost its race."""


def view_of(state: ServiceState) -> ServiceView:
    return ServiceView(
        service=state.service,
        tier=state.spec.tier,
        depends_on=state.spec.depends_on,
        replicas=state.replicas,
        version=state.version,
        previous_version=state.previous_version,
        cpu_cores=state.cpu_cores,
        memory_limit_mb=state.memory_limit_mb,
        disk_gb=state.disk_gb,
        throttle_pct=state.throttle_pct,
        record_version=state.record_version,
        last_action=state.last_action,
        last_operation_id=state.last_operation_id,
        extra={
            "latency_p99_baseline_ms": state.spec.baseline.latency_p99_ms,
            "deployed_at": state.deployed_at,
            # The capacity plan: the normal operating point a scale-out is sized from.
            "baseline_rps": state.spec.baseline.rps,
            "baseline_cpu_pct": state.spec.baseline.cpu_pct,
            "baseline_replicas": state.spec.replicas,
        },
    )


class SimulatedFleet:
    """Actions change the stored state with conditional writes; faults they end are recorded as fixed."""

    def __init__(
        self, fleet: FleetRepository, injections: InjectionsRepository | None = None, clock: SimClock | None = None
    ) -> None:
        self.fleet = fleet
        self.injections = injections
        self.clock = clock or SimClock()

    def services(self) -> list[str]:
        return [s.service for s in self.fleet.all()]

    def describe(self, service: str) -> ServiceView:
        return view_of(self._state(service))

    def _state(self, service: str) -> ServiceState:
        state = self.fleet.get(service)
        if state is None:
            raise UnknownServiceError(f"service: {service!r} is not in the fleet")
        return state

    def apply(
        self,
        service: str,
        action: FleetAction,
        params: dict[str, Any] | None = None,
        operation_id: str | None = None,
    ) -> ActionOutcome:
        for _ in range(MAX_ATTEMPTS):
            state = self._state(service)
            if operation_id is not None and state.last_operation_id == operation_id:
                return ActionOutcome(
                    action, service, {}, [], f"{action} on {service}: already applied ({operation_id})"
                )
            now = datetime.now(UTC).isoformat()
            tick = self.clock.now_tick()
            new_state, outcome = apply_action(state, action, params, tick, now)
            new_state = new_state.model_copy(update={"last_operation_id": operation_id})
            kept = {f.injection_id for f in new_state.faults}
            ends = []
            if self.injections is not None:
                for fault in state.faults:
                    if fault.injection_id in kept:
                        continue
                    # Removed by the action, or pruned because its duration had run out.
                    fixed = fault.active_at(tick) and fault.fault in outcome.ended_faults
                    status = "fixed" if fixed else "expired"
                    by = f"action:{action}" if fixed else "duration"
                    ends.append(self.injections.end_request(fault.injection_id, status, now, by))
            try:
                # The change and the ends of the faults it removed, both or neither: a remediator that timed out
                # between two writes left a fault gone from the fleet and still active in its record, and the
                # retried act finds the operation already applied and ends nothing.
                transact(self.fleet.client, [self.fleet.replace_request(new_state, state.record_version), *ends])
            except ConditionFailedError:
                continue
            logger.info("fleet action", extra={"service": service, "action": action, "ended": outcome.ended_faults})
            return outcome
        raise ConcurrentUpdateError(f"{service}: state changed on every one of {MAX_ATTEMPTS} attempts")
