"""Heal real AWS workloads through their own APIs: the actions on ECS services and Lambda functions.

Each action reads the resource's state, acts with the service's own API, reads the state again and
returns an :class:`ActionRecord` of both (task definition, desired count, scalable-target bounds,
deployment; alias version and weights, memory, reserved concurrency), which ``undo`` puts back.
``verify`` reads the resource back and answers TAKEN, IN_PROGRESS (a deployment still rolling out)
or NOT_TAKEN with the reason: a rollback that did not take is not a recovery.

ECS service (:class:`EcsServiceActions`, clients ``ecs`` and ``application-autoscaling``):
- restart: ``UpdateService(forceNewDeployment=True)``; taken when a new deployment has completed.
- scale: ``UpdateService(desiredCount=n)``; a service registered with Application Auto Scaling
  first has its bounds moved (the floor raised to n on a scale-out, the ceiling lowered on a
  scale-in) so that its scaling policy does not undo the change.
- rollback: ``UpdateService(taskDefinition=...)`` to the ACTIVE revision of the family just below
  the current one.
- raise_memory: a new revision copied from the current one (tags included) with the task's and
  each container's hard memory limit times a factor (1.5 by default), then ``UpdateService``.

Lambda function and its serving alias (:class:`LambdaFunctionActions`, client ``lambda``):
- rollback: ``UpdateAlias`` to the published version below the one it serves, weights cleared.
- throttle: ``PutFunctionConcurrency``.
- raise_memory: ``UpdateFunctionConfiguration(MemorySize=...)``, ``PublishVersion``, ``UpdateAlias``;
  refused when $LATEST's code is not the served version's.
Alias moves carry the alias's ``RevisionId``: a concurrent move makes the action fail, not undo it.

The engine reaches them through :class:`~healops.targets.fleet.TargetFleet`, the fleet adapter over the configured
targets (every other service stays simulated); :mod:`healops.targets.telemetry` is the least of a telemetry model
over real resources (an ECS bad deploy that lasts while its revision serves).
"""

from __future__ import annotations

from healops.targets.ecs import EcsServiceActions
from healops.targets.lambda_function import LambdaFunctionActions
from healops.targets.model import (
    ActionRecord,
    EcsServiceState,
    EcsServiceTarget,
    LambdaFunctionState,
    LambdaFunctionTarget,
    TargetActionError,
    Verdict,
    VerdictStatus,
)

__all__ = [
    "ActionRecord",
    "EcsServiceActions",
    "EcsServiceState",
    "EcsServiceTarget",
    "LambdaFunctionActions",
    "LambdaFunctionState",
    "LambdaFunctionTarget",
    "TargetActionError",
    "Verdict",
    "VerdictStatus",
]
