"""The ECS extension: service deployments that roll out over time, and scalable targets that hold desired count.

moto answers ``UpdateService`` by setting ``runningCount`` to the new ``desiredCount`` at once and
leaves ``deployments`` at the first task definition, IN_PROGRESS for ever. Here the backend's
``update_service`` starts a new PRIMARY deployment when the task definition changes or
``forceNewDeployment`` is asked, and a background loop moves every service's deployments on one
step (:mod:`healops.local.ecs.rollout`) each ``task_start_seconds`` of simulated time.

All state lives in moto's own service objects (``deployments``, ``runningCount``, ``pendingCount``,
``events``), so a snapshot of the embedded cloud keeps it.
"""

from __future__ import annotations

import logging
import secrets
import threading
import uuid
from typing import TYPE_CHECKING, Any

from healops.local.base import BackgroundLoop, iter_backends
from healops.local.ecs import rollout

if TYPE_CHECKING:
    from collections.abc import Callable

    from healops.local.context import EmbeddedContext

logger = logging.getLogger(__name__)

# Simulated seconds for a task to go from launched to running: one rollout step.
DEFAULT_TASK_START_SECONDS = 30.0
# ECS keeps the latest 100 events of a service.
MAX_SERVICE_EVENTS = 100
ECS_DESIRED_COUNT = "ecs:service:DesiredCount"

# The context the patches serve; None when no embedded cloud with this extension runs, and then
# every patched function behaves exactly as moto's.
_active: EmbeddedContext | None = None
_installed = False
_originals: dict[str, Callable[..., Any]] = {}
# One writer at a time over services' deployments: request threads (UpdateService) and the loop.
_lock = threading.RLock()


def _utcnow() -> Any:
    from moto.core.utils import utcnow

    return utcnow()


def _new_deployment_id() -> str:
    return f"ecs-svc/{secrets.randbelow(10**19):019d}"


def _ecs_controlled(service: Any) -> bool:
    return (service.deployment_controller or {}).get("type", "ECS") == "ECS"


def _task_definition_arn(backend: Any, reference: str | None) -> str | None:
    """The full ARN of ``reference`` (a family, ``family:revision`` or an ARN), as DescribeServices answers."""
    if not reference:
        return reference
    return str(backend.describe_task_definition(reference).arn)


def _set_deployments(backend: Any, service: Any, deployments: list[dict[str, Any]]) -> None:
    """Replace the service's deployments and make its counts (and its cluster's) their sums."""
    running, pending = rollout.totals(deployments)
    cluster = backend.clusters.get(service.cluster_name)
    if cluster is not None:
        backend.update_cluster_resources(cluster, running - service.running_count, task_state="RUNNING")
        backend.update_cluster_resources(cluster, pending - service.pending_count, task_state="PENDING")
    service.deployments = deployments
    service.running_count = running
    service.pending_count = pending


def _add_event(service: Any, message: str, now: Any) -> None:
    event = {"id": str(uuid.uuid4()), "createdAt": now, "message": f"(service {service.name}) {message}"}
    service.events = [event, *service.events][:MAX_SERVICE_EVENTS]


# ---------------------------------------------------------------- patched moto functions
def _create_service_response(self: Any) -> Any:
    """moto's CreateService drops ``deploymentConfiguration``; the rollout needs its percentages."""
    result = _originals["EC2ContainerServiceResponse.create_service"](self)
    if _active is not None:
        service = self.ecs_backend._get_service(self._get_param("cluster", "default"), self._get_param("serviceName"))
        given = self._get_param("deploymentConfiguration") or {}
        service.deployment_configuration = {
            "maximumPercent": rollout.DEFAULT_MAXIMUM_PERCENT,
            "minimumHealthyPercent": rollout.DEFAULT_MINIMUM_HEALTHY_PERCENT,
            **given,
        }
        # moto answers `"networkConfiguration": {}` for a service without one, which AWS never does: Terraform's
        # AWS provider (5.100) then dereferences the missing awsvpcConfiguration and crashes. None is left out.
        if not service.network_configuration:
            service.network_configuration = None
        # moto drops it (Terraform's provider then plans to set it again on every plan); AWS's default on create.
        service.availability_zone_rebalancing = self._get_param("availabilityZoneRebalancing") or "ENABLED"
    return result


def _update_service(self: Any, service_properties: dict[str, Any]) -> Any:
    original = _originals["EC2ContainerServiceBackend.update_service"]
    if _active is None:
        return original(self, service_properties)
    with _lock:
        desired_given = service_properties.get("desired_count")
        force = bool(service_properties.get("force_new_deployment"))
        service = self._get_service(
            service_properties.get("cluster", "default"), str(service_properties.get("service", "")).split("/")[-1]
        )
        if not _ecs_controlled(service):
            return original(self, service_properties)
        # Copies: moto rewrites the first deployment's id in place on forceNewDeployment.
        before = [dict(d) for d in service.deployments]
        before_task_definition = _task_definition_arn(self, service.task_definition)
        running, pending = service.running_count, service.pending_count
        updated = original(self, service_properties)
        # moto took the service's tasks off its cluster and put back desiredCount running ones (or none):
        # put back what actually runs; _set_deployments then applies the change this update makes.
        cluster = self.clusters.get(updated.cluster_name)
        if cluster is not None:
            self.update_cluster_resources(cluster, running - (desired_given or 0), task_state="RUNNING")
            self.update_cluster_resources(cluster, pending, task_state="PENDING")
        updated.running_count, updated.pending_count = running, pending
        updated.task_definition = _task_definition_arn(self, updated.task_definition)
        now = _utcnow()
        if force or updated.task_definition != before_task_definition:
            deployments = rollout.start_deployment(
                before, _new_deployment_id(), updated.task_definition, updated.desired_count, now
            )
        else:
            deployments = rollout.rescale(before, updated.desired_count, now)
        _set_deployments(self, updated, deployments)
        return updated


def _register_scalable_target(self: Any, namespace: str, r_id: str, dimension: str, *args: Any, **kwargs: Any) -> Any:
    target = _originals["ApplicationAutoscalingBackend.register_scalable_target"](
        self, namespace, r_id, dimension, *args, **kwargs
    )
    if _active is not None and namespace == "ecs" and dimension == ECS_DESIRED_COUNT:
        clamp_desired_count(self.ecs_backend, r_id, target.min_capacity, target.max_capacity)
    return target


def clamp_desired_count(backend: Any, resource_id: str, minimum: int | None, maximum: int | None) -> None:
    """Bring a service's desired count inside a scalable target's new [min, max], as Application Auto Scaling does."""
    _, cluster_name, service_name = resource_id.split("/")
    with _lock:
        service = backend._get_service(cluster_name, service_name)
        desired = service.desired_count
        if minimum is not None and desired < minimum:
            desired = minimum
        if maximum is not None and desired > maximum:
            desired = maximum
        if desired != service.desired_count:
            backend.update_service({"cluster": cluster_name, "service": service_name, "desired_count": desired})


def advance(backend: Any, service: Any, now: Any) -> bool:
    """One rollout step of ``service``; True if its primary deployment completed in it."""
    with _lock:
        if service.status != "ACTIVE" or not service.deployments or not _ecs_controlled(service):
            return False
        limits = rollout.Limits.of(getattr(service, "deployment_configuration", None))
        moved = rollout.step(service.deployments, service.desired_count, limits, now)
        _set_deployments(backend, service, moved.deployments)
        if moved.completed:
            _add_event(service, f"(deployment {moved.deployments[0].get('id')}) deployment completed.", now)
            _add_event(service, "has reached a steady state.", now)
        return moved.completed


def _install_patches() -> None:
    from moto.applicationautoscaling.models import ApplicationAutoscalingBackend
    from moto.ecs.models import EC2ContainerServiceBackend
    from moto.ecs.responses import EC2ContainerServiceResponse

    _originals["EC2ContainerServiceResponse.create_service"] = EC2ContainerServiceResponse.create_service
    _originals["EC2ContainerServiceBackend.update_service"] = EC2ContainerServiceBackend.update_service
    _originals["ApplicationAutoscalingBackend.register_scalable_target"] = (
        ApplicationAutoscalingBackend.register_scalable_target
    )
    EC2ContainerServiceResponse.create_service = _create_service_response  # type: ignore[method-assign]
    EC2ContainerServiceBackend.update_service = _update_service  # type: ignore[method-assign]
    ApplicationAutoscalingBackend.register_scalable_target = _register_scalable_target  # type: ignore[method-assign]


class ServiceDeployments:
    """ECS service deployments that roll out over simulated time (see :mod:`healops.local.ecs`).

    ``task_start_seconds``: simulated seconds per rollout step (the time a task takes to start);
    real seconds are this divided by the context's time scale.
    """

    name = "ecs"

    def __init__(self, task_start_seconds: float = DEFAULT_TASK_START_SECONDS) -> None:
        if task_start_seconds <= 0:
            raise ValueError(f"task_start_seconds must be positive seconds, got {task_start_seconds!r}")
        self.task_start_seconds = task_start_seconds
        self._loop: BackgroundLoop | None = None

    def install(self, ctx: EmbeddedContext) -> None:
        global _active, _installed
        _active = ctx
        if not _installed:
            _install_patches()
            _installed = True

    def start(self, ctx: EmbeddedContext) -> None:
        self._loop = BackgroundLoop("ecs-rollouts", self.tick, lambda: ctx.scaled(self.task_start_seconds))
        self._loop.start()

    def stop(self) -> None:
        global _active
        if self._loop is not None:
            self._loop.stop()
            self._loop = None
        _active = None

    def tick(self) -> int:
        """One rollout step of every ECS service; the number of rollouts that completed."""
        from moto.ecs.models import ecs_backends

        now = _utcnow()
        completed = 0
        for account, region, backend in iter_backends(ecs_backends):
            for service in list(backend.services.values()):
                try:
                    completed += advance(backend, service, now)
                except Exception:
                    logger.exception("ECS service %s in %s/%s: rollout step failed", service.name, account, region)
        return completed
