"""What an action on a real resource is told, and what it records: targets, their state, the record, a verdict."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


class TargetActionError(RuntimeError):
    """An action could not be taken on its target; the message says what was found and what is needed."""


@dataclass(frozen=True)
class EcsServiceTarget:
    cluster: str
    service: str

    @property
    def kind(self) -> str:
        return "ecs_service"

    @property
    def scalable_resource_id(self) -> str:
        """The service's Application Auto Scaling resource id."""
        return f"service/{self.cluster}/{self.service}"


@dataclass(frozen=True)
class LambdaFunctionTarget:
    function_name: str
    # The alias that serves traffic: what rollback and raise-memory move.
    alias: str

    @property
    def kind(self) -> str:
        return "lambda_function"


@dataclass(frozen=True)
class EcsServiceState:
    task_definition: str
    desired_count: int
    running_count: int
    # The PRIMARY deployment's id and rollout state.
    deployment_id: str | None
    rollout_state: str | None
    # The registered Application Auto Scaling bounds, or None when the service is not registered.
    min_capacity: int | None = None
    max_capacity: int | None = None


@dataclass(frozen=True)
class LambdaFunctionState:
    alias_version: str
    # {version: weight} of the alias's additional versions; empty when the alias serves one version.
    alias_weights: dict[str, float]
    memory_size_mb: int
    reserved_concurrency: int | None


ResourceState = EcsServiceState | LambdaFunctionState


@dataclass(frozen=True)
class ActionRecord:
    """One action taken: the resource's state read before and after it, and what the action asked for."""

    action: str
    target: EcsServiceTarget | LambdaFunctionTarget
    before: ResourceState
    after: ResourceState
    # What the resource must show once the action has taken (e.g. the task definition ARN, the alias version).
    expected: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "kind": self.target.kind,
            "target": asdict(self.target),
            "before": asdict(self.before),
            "after": asdict(self.after),
            "expected": dict(self.expected),
        }


class VerdictStatus(StrEnum):
    # The resource shows what the action asked for, settled.
    TAKEN = "taken"
    # On its way (a deployment rolling out): read again later.
    IN_PROGRESS = "in_progress"
    # The resource shows something else: the action did not take.
    NOT_TAKEN = "not_taken"


@dataclass(frozen=True)
class Verdict:
    status: VerdictStatus
    reason: str
    state: ResourceState

    @property
    def taken(self) -> bool:
        return self.status is VerdictStatus.TAKEN
