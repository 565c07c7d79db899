"""How an ECS service's deployments move on in one step of time: pure functions over moto's deployment dicts.

A step is the time a task takes to start (``task_start_seconds`` of the extension). Tasks a
deployment launched in the previous step are running at the start of this one; then old
deployments are drained as far as ``minimumHealthyPercent`` lets them, and the primary launches
as many tasks as ``maximumPercent`` leaves room for. With ECS's defaults (200 %, 100 %) a new
revision is running after one step and the old one gone after two.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

DEFAULT_MAXIMUM_PERCENT = 200
DEFAULT_MINIMUM_HEALTHY_PERCENT = 100

PRIMARY = "PRIMARY"
ACTIVE = "ACTIVE"
IN_PROGRESS = "IN_PROGRESS"
COMPLETED = "COMPLETED"


@dataclass(frozen=True)
class Limits:
    """A service's ``deploymentConfiguration`` percentages."""

    maximum_percent: int = DEFAULT_MAXIMUM_PERCENT
    minimum_healthy_percent: int = DEFAULT_MINIMUM_HEALTHY_PERCENT

    @classmethod
    def of(cls, configuration: dict[str, Any] | None) -> Limits:
        configuration = configuration or {}
        return cls(
            int(configuration.get("maximumPercent", DEFAULT_MAXIMUM_PERCENT)),
            int(configuration.get("minimumHealthyPercent", DEFAULT_MINIMUM_HEALTHY_PERCENT)),
        )


@dataclass(frozen=True)
class StepResult:
    deployments: list[dict[str, Any]]
    # The primary's rollout finished in this step.
    completed: bool


def _count(deployment: dict[str, Any], key: str) -> int:
    return int(deployment.get(key) or 0)


def step(deployments: list[dict[str, Any]], desired: int, limits: Limits, now: Any) -> StepResult:
    """The deployments after one step; new dicts, the given ones are left untouched (readers may hold them)."""
    moved = [dict(d) for d in deployments]
    primary = next((d for d in moved if d.get("status") == PRIMARY), None)
    if primary is None:
        return StepResult(moved, completed=False)
    olds = [d for d in moved if d is not primary]
    before = [(_count(d, "runningCount"), _count(d, "pendingCount")) for d in moved]

    # What was launched one step ago is running now.
    for deployment in moved:
        deployment["runningCount"] = _count(deployment, "runningCount") + _count(deployment, "pendingCount")
        deployment["pendingCount"] = 0
    primary["desiredCount"] = desired
    if primary["runningCount"] > desired:  # scale-in stops the surplus at once
        primary["runningCount"] = desired

    # Drain the old deployments down to what keeps minimumHealthyPercent of desired running.
    healthy_floor = math.ceil(desired * limits.minimum_healthy_percent / 100)
    surplus = primary["runningCount"] + sum(d["runningCount"] for d in olds) - healthy_floor
    for old in olds:
        stopped = min(old["runningCount"], max(surplus, 0))
        old["runningCount"] -= stopped
        old["desiredCount"] = 0
        surplus -= stopped
    olds = [d for d in olds if d["runningCount"] > 0]

    # Launch what maximumPercent leaves room for. When the limits allow neither draining nor launching
    # (100 % / 100 %), one task at a time is replaced rather than the rollout standing still for ever.
    missing = desired - primary["runningCount"]
    if missing > 0:
        ceiling = math.floor(desired * limits.maximum_percent / 100)
        room = ceiling - primary["runningCount"] - sum(d["runningCount"] for d in olds)
        primary["pendingCount"] = min(missing, max(room, 1))

    completed = False
    if primary["runningCount"] == desired and primary["pendingCount"] == 0 and not olds:
        completed = primary.get("rolloutState") != COMPLETED
        primary["rolloutState"] = COMPLETED
        primary["rolloutStateReason"] = f"ECS deployment {primary.get('id')} completed."
    result = [primary, *olds]
    after = [(_count(d, "runningCount"), _count(d, "pendingCount")) for d in result]
    if completed or after != before or len(result) != len(moved):
        primary["updatedAt"] = now
    return StepResult(result, completed)


def start_deployment(
    deployments: list[dict[str, Any]], deployment_id: str, task_definition_arn: str, desired: int, now: Any
) -> list[dict[str, Any]]:
    """A new PRIMARY deployment of ``task_definition_arn``; the previous ones become ACTIVE and are drained later.

    Deployments with no running task are dropped at once (ECS marks them INACTIVE and stops listing them).
    """
    previous = next((d for d in deployments if d.get("status") == PRIMARY), deployments[0] if deployments else {})
    olds = []
    for deployment in deployments:
        if _count(deployment, "runningCount") == 0:
            continue
        # Tasks still starting are stopped: a replaced deployment keeps only what runs.
        olds.append({**deployment, "status": ACTIVE, "pendingCount": 0, "updatedAt": now})
    primary = {
        key: previous.get(key)
        for key in ("launchType", "platformVersion", "platformFamily", "networkConfiguration")
        if key in previous
    }
    primary.update(
        {
            "id": deployment_id,
            "status": PRIMARY,
            "taskDefinition": task_definition_arn,
            "desiredCount": desired,
            "pendingCount": 0,
            "runningCount": 0,
            "failedTasks": 0,
            "rolloutState": IN_PROGRESS,
            "rolloutStateReason": f"ECS deployment {deployment_id} in progress.",
            "createdAt": now,
            "updatedAt": now,
        }
    )
    return [primary, *olds]


def rescale(deployments: list[dict[str, Any]], desired: int, now: Any) -> list[dict[str, Any]]:
    """The deployments after the service's desired count changed: the primary aims at the new count."""
    moved = [dict(d) for d in deployments]
    for deployment in moved:
        if deployment.get("status") == PRIMARY and deployment.get("desiredCount") != desired:
            deployment["desiredCount"] = desired
            deployment["updatedAt"] = now
    return moved


def totals(deployments: list[dict[str, Any]]) -> tuple[int, int]:
    """(running, pending) of the service: the sums over its deployments."""
    return (
        sum(_count(d, "runningCount") for d in deployments),
        sum(_count(d, "pendingCount") for d in deployments),
    )
