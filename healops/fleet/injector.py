"""The injector's core: inject, clear, list, status, chaos and seed, on injected repositories.

Validation comes first and writes nothing: an unknown service or fault, parameters out of range
or of the wrong type, or a conflicting active fault each raise an :class:`InjectorError` whose
message names the field and what is accepted. Every write to a service is conditional on its
``record_version``; two injections racing on one service cannot both land, and the loser
re-reads and reports the conflict.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from healops.fleet.actions import FLEET_ACTIONS, next_version
from healops.fleet.clock import SimClock
from healops.fleet.definition import expand, parse_definition
from healops.fleet.faults import FAULTS, InvalidFaultParamsError, UnknownFaultError, conflicting, fault_type
from healops.fleet.telemetry import chance, fleet_tick
from healops.models.fleet import ActiveFault, ServiceState
from healops.models.injector import INJECTOR_ACTIONS, InjectorRequest
from healops.store.base import ConditionFailedError, transact
from healops.store.fleet import FleetRepository
from healops.store.injections import GroundTruth, InjectionRecord, InjectionsRepository

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
STATUS_LIST_LIMIT = 50  # a fleet status lists services one by one up to this size
LIST_SERVICES_LIMIT = 100


class InjectorError(ValueError):
    """A request the injector refuses; nothing was changed."""


class InjectorUnknownServiceError(InjectorError):
    pass


class FaultConflictError(InjectorError):
    pass


def _now() -> str:
    return datetime.now(UTC).isoformat()


class Injector:
    def __init__(
        self,
        fleet: FleetRepository,
        injections: InjectionsRepository,
        clock: SimClock | None = None,
        seed: int = 1,
        chaos_rate: float = 0.5,
    ) -> None:
        self.fleet = fleet
        self.injections = injections
        self.clock = clock or SimClock()
        self.seed = seed
        self.chaos_rate = chaos_rate

    def handle(self, request: InjectorRequest) -> dict[str, Any]:
        if request.action == "list":
            return self.list()
        if request.action == "status":
            return self.status(request.service)
        if request.action == "inject":
            assert request.service and request.fault
            return self.inject(request.service, request.fault, request.params, request.duration_s, request.requested_by)
        if request.action == "clear":
            assert request.service
            return self.clear(request.service, request.fault, request.requested_by)
        if request.action == "chaos":
            return self.chaos(request.time or datetime.now(UTC), request.rate)
        assert request.definition is not None and request.fleet_size is not None
        return self.seed_fleet(request.definition, request.fleet_size)

    # -- reading -----------------------------------------------------------------------------

    def _state(self, service: str) -> ServiceState:
        state = self.fleet.get(service)
        if state is None:
            names = [s.service for s in self.fleet.all()]
            shown = ", ".join(names[:12]) + (f" and {len(names) - 12} more" if len(names) > 12 else "")
            raise InjectorUnknownServiceError(
                f"service: {service!r} is not in the fleet; accepted: {shown or 'none (the fleet is not seeded)'}"
            )
        return state

    def list(self) -> dict[str, Any]:
        names = [s.service for s in self.fleet.all()]
        return {
            "actions": list(INJECTOR_ACTIONS),
            "faults": {name: fault.schema() for name, fault in FAULTS.items()},
            "fleet_actions": list(FLEET_ACTIONS),
            "services": names[:LIST_SERVICES_LIMIT],
            "service_count": len(names),
        }

    def status(self, service: str | None) -> dict[str, Any]:
        states = self.fleet.all()
        tick = self.clock.now_tick()
        telemetry = {t.service: t for t in fleet_tick(states, self.seed, tick, self.clock.tick_seconds)}
        if service is not None:
            state = next((s for s in states if s.service == service), None)
            if state is None:
                self._state(service)  # raises with the accepted names
                raise InjectorUnknownServiceError(f"service: {service!r} is not in the fleet")
            return {"tick": tick, **self._describe(state, tick, telemetry[state.service])}
        health = Counter(t.health for t in telemetry.values())
        with_faults = [
            {"service": s.service, "faults": [f.fault for f in s.active_faults(tick)]}
            for s in states
            if s.active_faults(tick)
        ]
        answer: dict[str, Any] = {
            "tick": tick,
            "service_count": len(states),
            "health": dict(sorted(health.items())),
            "services_with_faults": with_faults,
        }
        if len(states) <= STATUS_LIST_LIMIT:
            answer["services"] = [self._describe(s, tick, telemetry[s.service]) for s in states]
        return answer

    @staticmethod
    def _describe(state: ServiceState, tick: int, telemetry: Any) -> dict[str, Any]:
        return {
            "service": state.service,
            "health": telemetry.health,
            "replicas": state.replicas,
            "version": state.version,
            "previous_version": state.previous_version,
            "cpu_cores": state.cpu_cores,
            "memory_limit_mb": state.memory_limit_mb,
            "disk_gb": state.disk_gb,
            "throttle_pct": state.throttle_pct,
            "depends_on": list(state.spec.depends_on),
            "record_version": state.record_version,
            "metrics": telemetry.metrics,
            "active_faults": [
                {
                    "injection_id": f.injection_id,
                    "fault": f.fault,
                    "params": f.params,
                    "started_tick": f.started_tick,
                    "until_tick": f.until_tick,
                }
                for f in state.active_faults(tick)
            ],
        }

    # -- writing -----------------------------------------------------------------------------

    def inject(
        self,
        service: str,
        fault: str,
        raw_params: dict[str, Any],
        duration_s: int | None = None,
        requested_by: str = "manual",
    ) -> dict[str, Any]:
        try:
            kind = fault_type(fault)
            params = kind.parse_params(raw_params).model_dump(mode="json")
        except (UnknownFaultError, InvalidFaultParamsError) as exc:
            raise InjectorError(str(exc)) from None
        duration = duration_s if duration_s is not None else kind.default_duration_s
        for _ in range(MAX_ATTEMPTS):
            state = self._state(service)
            tick = self.clock.now_tick()
            active = state.active_faults(tick)
            clash = conflicting(fault, [f.fault for f in active])
            if clash:
                holder = next(f for f in active if f.fault in clash)
                raise FaultConflictError(
                    f"fault: {service} already has an active {holder.fault} (injection {holder.injection_id}); "
                    f'clear it first: {{"action": "clear", "service": "{service}", "fault": "{holder.fault}"}}'
                )
            injection_id = f"inj-{tick}-{uuid.uuid4().hex[:10]}"
            until = tick + self.clock.ticks_for(duration) if duration is not None else None
            new_fault = ActiveFault(
                injection_id=injection_id,
                fault=fault,
                params=params,
                started_tick=tick,
                until_tick=until,
                anchor_tick=tick,
            )
            update: dict[str, Any] = {
                "faults": (*active, new_fault),
                "health": "degraded",
                "updated_at": _now(),
            }
            if kind.deploys_version:
                # The fault is a deploy: the bad version goes out, the old one becomes the rollback target.
                update["previous_version"] = state.version
                update["version"] = params.get("version") or next_version(state.version)
                update["deployed_at"] = update["updated_at"]
                params = {**params, "version": update["version"], "replaced_version": state.version}
                update["faults"] = (*active, new_fault.model_copy(update={"params": params}))
            record = InjectionRecord(
                injection_id=injection_id,
                service=service,
                fault=fault,
                params=params,
                injected_at=_now(),
                requested_by=requested_by,
                started_tick=tick,
                until_tick=until,
                duration_s=duration,
                ground_truth=GroundTruth(fixed_by=list(kind.fixed_by), relieved_by=list(kind.relieved_by)),
            )
            try:
                # The fleet change and its record, both or neither (a failure between two writes left a fault
                # nobody had recorded, or a record of one never injected).
                transact(
                    self.fleet.client,
                    [
                        self.fleet.replace_request(state.model_copy(update=update), state.record_version),
                        self.injections.record_request(record),
                    ],
                )
            except ConditionFailedError:
                continue  # someone else wrote first: re-read, re-check the conflict
            logger.info(
                "fault injected",
                extra={"injection_id": injection_id, "service": service, "fault": fault, "by": requested_by},
            )
            return {"injected": record.model_dump(mode="json")}
        raise FaultConflictError(f"service: {service} changed on every one of {MAX_ATTEMPTS} attempts; try again")

    def clear(self, service: str, fault: str | None, requested_by: str = "manual") -> dict[str, Any]:
        if fault is not None and fault not in FAULTS:
            raise InjectorError(f"fault: unknown fault {fault!r}; accepted: {', '.join(sorted(FAULTS))}")
        for _ in range(MAX_ATTEMPTS):
            state = self._state(service)
            tick = self.clock.now_tick()
            active = state.active_faults(tick)
            removed = [f for f in active if fault is None or f.fault == fault]
            if fault is not None and not removed:
                names = ", ".join(f.fault for f in active) or "none"
                raise InjectorError(f"fault: {service} has no active {fault}; active faults: {names}")
            kept = tuple(f for f in active if f not in removed)
            update: dict[str, Any] = {"faults": kept, "updated_at": _now(), "health": "healthy" if not kept else None}
            if update["health"] is None:
                del update["health"]
            if any(fault_type(f.fault).deploys_version for f in removed) and state.previous_version:
                update["version"], update["previous_version"] = state.previous_version, state.version
            now = _now()
            try:
                transact(
                    self.fleet.client,
                    [
                        self.fleet.replace_request(state.model_copy(update=update), state.record_version),
                        *(self.injections.end_request(f.injection_id, "cleared", now, requested_by) for f in removed),
                    ],
                )
            except ConditionFailedError:
                continue
            logger.info("faults cleared", extra={"service": service, "cleared": [f.fault for f in removed]})
            return {
                "service": service,
                "cleared": [{"injection_id": f.injection_id, "fault": f.fault} for f in removed],
            }
        raise FaultConflictError(f"service: {service} changed on every one of {MAX_ATTEMPTS} attempts; try again")

    def chaos(self, at: datetime, rate: float | None = None) -> dict[str, Any]:
        """Maybe inject one random fault: deterministic given the seed and the event time."""
        probability = self.chaos_rate if rate is None else rate
        instant = int(at.timestamp())
        if chance(self.seed, "chaos", instant) >= probability:
            return {"injected": None, "reason": f"no fault this time (rate {probability:g})"}
        states = self.fleet.all()
        if not states:
            return {"injected": None, "reason": "the fleet is empty"}
        tick = self.clock.now_tick()
        faults = sorted(FAULTS)
        state = states[int(chance(self.seed, "chaos-service", instant) * len(states))]
        start = int(chance(self.seed, "chaos-fault", instant) * len(faults))
        active = [f.fault for f in state.active_faults(tick)]
        for offset in range(len(faults)):
            fault = faults[(start + offset) % len(faults)]
            if not conflicting(fault, active):
                return self.inject(state.service, fault, {}, None, "chaos")
        return {"injected": None, "reason": f"{state.service} already has every fault"}

    def seed_fleet(self, raw_definition: dict[str, Any], size: int, allow_removal: bool = False) -> dict[str, Any]:
        """Make the table hold the definition's first ``size`` services (idempotent).

        A seed that would remove services is refused unless ``allow_removal`` (an operator's tool with
        its own credentials, never the deployed injector: its role has no DeleteItem).
        """
        try:
            definition = parse_definition(raw_definition)
            specs = expand(definition, size)
        except ValueError as exc:
            raise InjectorError(f"definition: {exc}") from None
        existing = {s.service: s for s in self.fleet.all()}
        # The injector's role cannot delete services (least privilege): shrinking is an operator's act.
        beyond = sorted(set(existing) - {spec.name for spec in specs})
        if beyond and not allow_removal:
            shown = ", ".join(beyond[:5]) + (f" and {len(beyond) - 5} more" if len(beyond) > 5 else "")
            raise InjectorError(
                f"fleet_size: {size} would remove {len(beyond)} service(s) of the fleet ({shown}); the injector "
                f"never deletes services. Accepted: a fleet_size of at least {len(existing)}, or delete them first "
                "with an operator's credentials (docs/operations.md, 'The simulated fleet')"
            )
        now = _now()
        counts = Counter[str]()
        for spec in specs:
            current = existing.pop(spec.name, None)
            if current is None:
                self.fleet.create(ServiceState.initial(spec, definition.digest, now))
                counts["created"] += 1
            elif current.spec != spec or current.definition_digest != definition.digest:
                # The run-time state (replicas, faults, ...) stays; only what the file says changes.
                self.fleet.replace(
                    current.model_copy(
                        update={"spec": spec, "definition_digest": definition.digest, "updated_at": now}
                    ),
                    current.record_version,
                )
                counts["updated"] += 1
            else:
                counts["unchanged"] += 1
        for gone in existing.values():
            self.fleet.delete(gone.service, gone.record_version)
            counts["removed"] += 1
        logger.info("fleet seeded", extra={"digest": definition.digest, "size": size, **counts})
        return {
            "definition_version": definition.version,
            "digest": definition.digest,
            "fleet_size": size,
            **{k: counts[k] for k in ("created", "updated", "unchanged", "removed")},
        }
