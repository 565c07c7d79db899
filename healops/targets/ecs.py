"""Actions on an ECS service through its own APIs: restart, scale, roll back, raise the memory limit."""

from __future__ import annotations

import math
from typing import Any

from healops.targets.model import (
    ActionRecord,
    EcsServiceState,
    EcsServiceTarget,
    TargetActionError,
    Verdict,
    VerdictStatus,
)

DESIRED_COUNT_DIMENSION = "ecs:service:DesiredCount"
# What RegisterTaskDefinition takes that DescribeTaskDefinition gives back; the rest is AWS's own bookkeeping.
REGISTER_FIELDS = (
    "family",
    "taskRoleArn",
    "executionRoleArn",
    "networkMode",
    "containerDefinitions",
    "volumes",
    "placementConstraints",
    "requiresCompatibilities",
    "cpu",
    "memory",
    "pidMode",
    "ipcMode",
    "proxyConfiguration",
    "inferenceAccelerators",
    "ephemeralStorage",
    "runtimePlatform",
)


def revision_of(task_definition_arn: str) -> tuple[str, int]:
    """(family, revision) of a task definition ARN or ``family:revision``."""
    family, _, revision = task_definition_arn.rsplit("/", 1)[-1].partition(":")
    if not revision.isdigit():
        raise TargetActionError(f"{task_definition_arn!r} names no revision: expected an ARN or family:revision")
    return family, int(revision)


def registration_of(task_definition: dict[str, Any]) -> dict[str, Any]:
    """RegisterTaskDefinition's arguments for a copy of ``task_definition`` (DescribeTaskDefinition's answer)."""
    return {key: task_definition[key] for key in REGISTER_FIELDS if task_definition.get(key) not in (None, [], {})}


def with_more_memory(task_definition: dict[str, Any], factor: float) -> dict[str, Any]:
    """RegisterTaskDefinition's arguments for a copy of ``task_definition`` with its memory limits times ``factor``.

    The task-level ``memory`` (a string of MiB, as Fargate wants it) and each container's hard ``memory``
    limit are raised; a container's soft ``memoryReservation`` is left as it is.
    """
    if factor <= 1:
        raise TargetActionError(f"a memory factor must be above 1 to raise the limit, got {factor!r}")
    copied = registration_of(task_definition)
    raised = False
    if copied.get("memory"):
        copied["memory"] = str(math.ceil(int(copied["memory"]) * factor))
        raised = True
    containers = []
    for container in copied.get("containerDefinitions", []):
        container = dict(container)
        if container.get("memory"):
            container["memory"] = math.ceil(int(container["memory"]) * factor)
            raised = True
        containers.append(container)
    copied["containerDefinitions"] = containers
    if not raised:
        raise TargetActionError(
            f"task definition {task_definition.get('taskDefinitionArn')} sets no memory limit (task 'memory' or a "
            "container's 'memory'): there is no limit to raise"
        )
    return copied


class EcsServiceActions:
    """The catalog's actions on one ECS service; each returns the record of the state before and after.

    ``ecs`` and ``autoscaling`` are boto3 clients (``ecs``, ``application-autoscaling``), injected.
    """

    def __init__(self, target: EcsServiceTarget, ecs: Any, autoscaling: Any) -> None:
        self.target = target
        self.ecs = ecs
        self.autoscaling = autoscaling

    # ------------------------------------------------------------ reading
    def _service(self) -> dict[str, Any]:
        answer = self.ecs.describe_services(cluster=self.target.cluster, services=[self.target.service])
        services = [s for s in answer.get("services", []) if s.get("status") == "ACTIVE"]
        if not services:
            raise TargetActionError(
                f"ECS service {self.target.service} in cluster {self.target.cluster} was not found (or is not ACTIVE): "
                f"{answer.get('failures')}"
            )
        return services[0]

    def _scalable_target(self) -> dict[str, Any] | None:
        found = self.autoscaling.describe_scalable_targets(
            ServiceNamespace="ecs",
            ResourceIds=[self.target.scalable_resource_id],
            ScalableDimension=DESIRED_COUNT_DIMENSION,
        )["ScalableTargets"]
        return found[0] if found else None

    def state(self) -> EcsServiceState:
        service = self._service()
        primary = next((d for d in service.get("deployments", []) if d.get("status") == "PRIMARY"), {})
        bounds = self._scalable_target() or {}
        return EcsServiceState(
            task_definition=service["taskDefinition"],
            desired_count=int(service["desiredCount"]),
            running_count=int(service["runningCount"]),
            deployment_id=primary.get("id"),
            rollout_state=primary.get("rolloutState"),
            min_capacity=bounds.get("MinCapacity"),
            max_capacity=bounds.get("MaxCapacity"),
        )

    def previous_revision(self, task_definition_arn: str) -> str:
        """The ACTIVE revision of the family just below ``task_definition_arn``: what ran before it."""
        family, current = revision_of(task_definition_arn)
        arns: list[str] = []
        for page in self.ecs.get_paginator("list_task_definitions").paginate(familyPrefix=family, status="ACTIVE"):
            arns.extend(page["taskDefinitionArns"])
        earlier = sorted(
            (revision, arn)
            for arn in arns
            for found_family, revision in [revision_of(arn)]
            if found_family == family and revision < current
        )
        if not earlier:
            raise TargetActionError(
                f"task definition family {family} has no ACTIVE revision before {current}: nothing to roll back to"
            )
        return earlier[-1][1]

    # ------------------------------------------------------------ acting
    def _register_bounds(self, minimum: int, maximum: int) -> None:
        self.autoscaling.register_scalable_target(
            ServiceNamespace="ecs",
            ResourceId=self.target.scalable_resource_id,
            ScalableDimension=DESIRED_COUNT_DIMENSION,
            MinCapacity=minimum,
            MaxCapacity=maximum,
        )

    def _update(self, action: str, expected: dict[str, Any], **update: Any) -> ActionRecord:
        before = self.state()
        self.ecs.update_service(cluster=self.target.cluster, service=self.target.service, **update)
        return ActionRecord(action, self.target, before, self.state(), expected)

    def restart(self) -> ActionRecord:
        """A new deployment of the same task definition (``forceNewDeployment``): every task replaced."""
        before = self.state()
        self.ecs.update_service(cluster=self.target.cluster, service=self.target.service, forceNewDeployment=True)
        after = self.state()
        return ActionRecord(
            "restart",
            self.target,
            before,
            after,
            {"task_definition": before.task_definition, "not_deployment_id": before.deployment_id},
        )

    def scale(self, desired_count: int) -> ActionRecord:
        """Set the desired count; a registered scalable target's bounds move first so its policy keeps it."""
        if desired_count < 0:
            raise TargetActionError(f"a desired count is 0 or more, got {desired_count}")
        before = self.state()
        if before.min_capacity is not None and before.max_capacity is not None:
            # Scaling out raises the floor to the new count, scaling in lowers the ceiling: the policy may
            # still act, but cannot undo this.
            minimum, maximum = before.min_capacity, before.max_capacity
            if desired_count > before.desired_count:
                minimum, maximum = max(minimum, desired_count), max(maximum, desired_count)
            elif desired_count < before.desired_count:
                minimum, maximum = min(minimum, desired_count), min(maximum, desired_count)
            if (minimum, maximum) != (before.min_capacity, before.max_capacity):
                self._register_bounds(minimum, maximum)
        self.ecs.update_service(cluster=self.target.cluster, service=self.target.service, desiredCount=desired_count)
        return ActionRecord("scale", self.target, before, self.state(), {"desired_count": desired_count})

    def rollback(self) -> ActionRecord:
        """Back to the revision of the family that ran before the current one."""
        current = self.state().task_definition
        previous = self.previous_revision(current)
        return self._update("rollback", {"task_definition": previous}, taskDefinition=previous)

    def raise_memory(self, factor: float = 1.5) -> ActionRecord:
        """A new revision copied from the current one with its memory limits times ``factor``, then deployed."""
        current = self.state().task_definition
        described = self.ecs.describe_task_definition(taskDefinition=current, include=["TAGS"])
        arguments = with_more_memory(described["taskDefinition"], factor)
        if described.get("tags"):
            arguments["tags"] = described["tags"]
        registered = self.ecs.register_task_definition(**arguments)["taskDefinition"]["taskDefinitionArn"]
        return self._update("raise_memory", {"task_definition": registered}, taskDefinition=registered)

    def undo(self, record: ActionRecord) -> ActionRecord:
        """Put back the task definition, desired count and scalable-target bounds ``record`` found before it acted."""
        before = record.before
        if not isinstance(before, EcsServiceState):
            raise TargetActionError(f"record of {record.action} on {record.target} is not an ECS service's")
        if before.min_capacity is not None and before.max_capacity is not None:
            self._register_bounds(before.min_capacity, before.max_capacity)
        return self._update(
            f"undo_{record.action}",
            {"task_definition": before.task_definition, "desired_count": before.desired_count},
            taskDefinition=before.task_definition,
            desiredCount=before.desired_count,
        )

    # ------------------------------------------------------------ verifying
    def verify(self, record: ActionRecord) -> Verdict:
        """Read the service back: has what ``record`` asked for rolled out and settled?"""
        service = self._service()
        state = self.state()
        expected = record.expected
        primary = next((d for d in service.get("deployments", []) if d.get("status") == "PRIMARY"), {})
        wanted_definition = expected.get("task_definition")
        if wanted_definition and primary.get("taskDefinition") != wanted_definition:
            return Verdict(
                VerdictStatus.NOT_TAKEN,
                f"the primary deployment runs {primary.get('taskDefinition')}, not {wanted_definition}",
                state,
            )
        if expected.get("not_deployment_id") and primary.get("id") == expected["not_deployment_id"]:
            return Verdict(VerdictStatus.NOT_TAKEN, f"no new deployment: still {primary.get('id')}", state)
        wanted_count = expected.get("desired_count")
        if wanted_count is not None and state.desired_count != wanted_count:
            return Verdict(
                VerdictStatus.NOT_TAKEN, f"desired count is {state.desired_count}, not {wanted_count}", state
            )
        if primary.get("rolloutState") == "FAILED":
            return Verdict(VerdictStatus.NOT_TAKEN, f"deployment {primary.get('id')} failed", state)
        others = [d["id"] for d in service.get("deployments", []) if d is not primary]
        if primary.get("rolloutState") != "COMPLETED" or others or state.running_count != state.desired_count:
            return Verdict(
                VerdictStatus.IN_PROGRESS,
                f"deployment {primary.get('id')} is {primary.get('rolloutState')}: {state.running_count} of "
                f"{state.desired_count} running, {len(others)} older deployment(s) draining",
                state,
            )
        return Verdict(
            VerdictStatus.TAKEN,
            f"deployment {primary.get('id')} of {primary.get('taskDefinition')} completed, "
            f"{state.running_count} running",
            state,
        )
