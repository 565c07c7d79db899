"""ECS additions: service deployments that roll out and finish, running counts that follow desired counts.

moto 5.2.5 sets ``runningCount`` to a new ``desiredCount`` at once, keeps one PRIMARY deployment
of the service's first task definition IN_PROGRESS for ever, and drops CreateService's
``deploymentConfiguration`` (measured in docs/lab-notes.md).

Supported:
- ``UpdateService`` with a new ``taskDefinition`` (family, ``family:revision`` or ARN) or with
  ``forceNewDeployment`` starts a new PRIMARY deployment (a new id, ``rolloutState``
  IN_PROGRESS, no task yet); the deployments it replaces become ACTIVE and keep their running
  tasks until drained. The service's ``taskDefinition`` is the full ARN, as AWS answers.
- Every ``task_start_seconds`` of simulated time (default 30; real seconds are this divided by the
  context's time scale) each service moves one step: tasks launched in the previous step are
  running, ACTIVE deployments are drained down to ``minimumHealthyPercent`` of the desired
  count and dropped when empty, and the PRIMARY launches as many tasks as ``maximumPercent``
  leaves room for (ECS's defaults 200 % / 100 %: a new revision runs after one step, the old one
  is gone after two). When the PRIMARY runs its desired count alone, its ``rolloutState`` is
  COMPLETED and the service's events say "deployment completed" and "has reached a steady
  state.", newest first, at most 100.
- ``desiredCount`` changes are followed the same way: a scale-out is pending for one step and
  then running; a scale-in stops the surplus at the next step. ``runningCount`` and
  ``pendingCount`` of the service (and of its cluster) are the sums over its deployments.
- The deployments and counts live on moto's service objects: a snapshot keeps a rollout in progress,
  and it goes on after the restore.
- ``CreateService`` keeps ``deploymentConfiguration`` (AWS's defaults when none is given), and a
  service without a ``networkConfiguration`` is answered without one (moto's empty object crashes
  Terraform's AWS provider); ``availabilityZoneRebalancing`` is kept (ENABLED when not given).
- Application Auto Scaling ``RegisterScalableTarget`` on ``ecs:service:DesiredCount`` brings the
  service's desired count inside the new [MinCapacity, MaxCapacity], as AWS does.

Limits: tasks never fail, so no rollout FAILED and no circuit breaker; no task objects are created
(``ListTasks`` knows nothing of a service's tasks); services under the CODE_DEPLOY or EXTERNAL
deployment controller are moto's unchanged; scaling policies and scheduled actions are stored,
never run; when ``maximumPercent`` and ``minimumHealthyPercent`` allow neither launching nor
draining (100 / 100), one task at a time is replaced; a reader may see a service's counts
between two assignments of one step (the step's writes are serialised, reads are not).
"""

from __future__ import annotations

from healops.local.ecs.models import ServiceDeployments

__all__ = ["ServiceDeployments"]
