"""What each fleet action does to a service's state: pure functions, no I/O.

The simulated adapter (:mod:`healops.store.fleet`) reads a state, calls :func:`apply_action`
and writes the result conditionally; a real target would implement the same actions on ECS,
Auto Scaling or SSM instead.

Semantics (each fault type in :mod:`healops.fleet.faults` says which actions end it, ``ended_by``):

- ``restart``: every replica restarts: clears service_crash and error_storm, and a memory leak's
  accumulated memory (the leak itself goes on); a bad deploy is still deployed.
- ``scale_out`` / ``scale_in``: change the replica count; load per replica follows, so enough
  replicas absorb cpu_saturation; scale_out also ends a cpu_spike (new replicas take the burst).
- ``rollback``: back to the previous version: ends bad_deploy and a memory leak (shipped with
  the current version). Refused when there is no previous version.
- ``clear_disk``: deletes what filled the disk: ends disk_exhaustion, disk back to its baseline.
- ``failover``: traffic moves to a standby: ends dependency_failure, network_latency and
  service_crash on this service.
- ``throttle``: sheds a share of incoming traffic (0 lifts it): eases saturation and storms.
- ``raise_memory_limit``: a higher limit per replica, so a leak takes longer to reach OOM.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from healops.fleet.faults import FAULTS, fault_type
from healops.models.errors import describe_validation_error
from healops.models.fleet import ServiceState

FleetAction = Literal[
    "restart", "scale_out", "scale_in", "rollback", "clear_disk", "failover", "throttle", "raise_memory_limit"
]
FLEET_ACTIONS: tuple[str, ...] = get_args(FleetAction)
MAX_REPLICAS = 1000


class ActionParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ScaleParams(ActionParams):
    replicas: int | None = Field(default=None, ge=1, le=MAX_REPLICAS, description="replicas to add/remove")


class FleetThrottleParams(ActionParams):
    percent: float = Field(default=30.0, ge=0.0, le=90.0, description="share of incoming traffic to shed")


class FleetMemoryLimitParams(ActionParams):
    factor: float = Field(default=2.0, gt=1.0, le=8.0, description="new limit = old limit x factor")


ACTION_PARAMS: dict[str, type[ActionParams]] = {
    "scale_out": ScaleParams,
    "scale_in": ScaleParams,
    "throttle": FleetThrottleParams,
    "raise_memory_limit": FleetMemoryLimitParams,
}

# Which faults each action takes off a service's state: the fault types' own ``ended_by``.
ENDED_BY: dict[str, frozenset[str]] = {
    action: frozenset(kind for kind, fault in FAULTS.items() if action in fault.ended_by) for action in FLEET_ACTIONS
}


class InvalidActionError(ValueError):
    """An unknown action, bad parameters, or an action the service's state does not allow."""


@dataclass(frozen=True)
class ActionOutcome:
    action: str
    service: str
    changed: dict[str, Any]
    ended_faults: list[str]
    message: str


def parse_action_params(action: str, raw: dict[str, Any] | None) -> ActionParams:
    if action not in FLEET_ACTIONS:
        raise InvalidActionError(f"action: unknown fleet action {action!r}; accepted: {', '.join(FLEET_ACTIONS)}")
    model = ACTION_PARAMS.get(action, ActionParams)
    try:
        return model.model_validate(raw or {})
    except ValidationError as exc:
        raise InvalidActionError(f"params of {action}: {describe_validation_error(exc)}") from None


def apply_action(
    state: ServiceState, action: str, raw_params: dict[str, Any] | None, tick: int, now: str
) -> tuple[ServiceState, ActionOutcome]:
    """The state after ``action`` at ``tick`` (``record_version`` untouched: the store bumps it)."""
    params = parse_action_params(action, raw_params)
    update: dict[str, Any] = {}
    faults = list(state.faults)
    if action == "restart":
        faults = [fault_type(f.fault).after_restart(f, tick) for f in faults]
    elif action == "scale_out":
        assert isinstance(params, ScaleParams)
        update["replicas"] = min(MAX_REPLICAS, state.replicas + (params.replicas or state.replicas))
    elif action == "scale_in":
        assert isinstance(params, ScaleParams)
        if state.replicas <= 1:
            raise InvalidActionError(f"scale_in: {state.service} already runs a single replica")
        update["replicas"] = max(1, state.replicas - (params.replicas or max(1, state.replicas // 2)))
    elif action == "rollback":
        if not state.previous_version:
            raise InvalidActionError(f"rollback: {state.service} has no previous version to roll back to")
        update["version"], update["previous_version"] = state.previous_version, state.version
        update["deployed_at"] = now
    elif action == "clear_disk":
        update["disk_used_pct"] = state.spec.baseline.disk_pct
    elif action == "throttle":
        assert isinstance(params, FleetThrottleParams)
        update["throttle_pct"] = params.percent
    elif action == "raise_memory_limit":
        assert isinstance(params, FleetMemoryLimitParams)
        update["memory_limit_mb"] = int(state.memory_limit_mb * params.factor)
    ended_names = ENDED_BY.get(action, frozenset())
    ended = [f.fault for f in faults if f.fault in ended_names and f.active_at(tick)]
    faults = [f for f in faults if f.fault not in ended_names and (f.until_tick is None or f.until_tick > tick)]
    update.update(faults=tuple(faults), updated_at=now, last_action=action)
    update["health"] = "healthy" if not faults else state.health
    new_state = state.model_copy(update=update)
    changed = {k: v for k, v in update.items() if k not in {"faults", "updated_at", "last_action", "health"}}
    message = f"{action} on {state.service}" + (f": ended {', '.join(ended)}" if ended else "")
    return new_state, ActionOutcome(action, state.service, changed, ended, message)


def next_version(version: str) -> str:
    """The next patch version (``v2.8.0`` → ``v2.8.1``), or ``<version>-next`` when it is not dotted."""
    head, _, last = version.rpartition(".")
    if head and last.isdigit():
        return f"{head}.{int(last) + 1}"
    return f"{version}-next"
