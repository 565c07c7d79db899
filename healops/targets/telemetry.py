"""The least of a telemetry model over real resources: a bad deploy on an ECS target, injected as a real one and
ended by what the service runs, not by a write to the fleet model.

:meth:`EcsBadDeploys.inject` does what a bad deploy is on ECS: it registers a new revision of the service's task
definition (a copy of the current one, tags included) and points the service at it with ``UpdateService``.
:meth:`EcsBadDeploys.follow` is the model's side: while the service's PRIMARY deployment runs the bad revision
the fault stays in the fleet model and its telemetry shows it; once it runs anything else (a rollback by
``UpdateService``, whoever made it) the fault ends in the model, so the metrics recover because the resource
changed.

Left for later (docs/architecture.md): the deployed injector and metrics generator do not use it yet (their roles
hold no ECS rights), Lambda targets (a version published and the alias moved), scale and memory read from the
resource, and the AWS/ECS and AWS/Lambda namespaces instead of the simulated fleet's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from healops.fleet.faults import FaultKind
from healops.fleet.simulator import Simulator
from healops.targets.ecs import EcsServiceActions, registration_of


@dataclass
class EcsBadDeploys:
    """Bad deploys on ECS targets, by the fleet name of the service: the revision each one put in service."""

    actions: dict[str, EcsServiceActions]
    bad_revisions: dict[str, str] = field(default_factory=dict)

    def inject(self, service: str) -> str:
        """Register a copy of ``service``'s current revision and deploy it; returns the new revision's ARN."""
        actions = self.actions[service]
        current = actions.state().task_definition
        described = actions.ecs.describe_task_definition(taskDefinition=current, include=["TAGS"])
        definition: dict[str, Any] = described["taskDefinition"]
        register = registration_of(definition)
        if described.get("tags"):
            register["tags"] = described["tags"]
        new_arn = actions.ecs.register_task_definition(**register)["taskDefinition"]["taskDefinitionArn"]
        actions.ecs.update_service(
            cluster=actions.target.cluster, service=actions.target.service, taskDefinition=new_arn
        )
        self.bad_revisions[service] = new_arn
        return new_arn

    def still_bad(self, service: str) -> bool:
        """Whether the service's PRIMARY deployment still runs the revision the bad deploy put in service."""
        bad = self.bad_revisions.get(service)
        if bad is None:
            return False
        actions = self.actions[service]
        found = actions.ecs.describe_services(cluster=actions.target.cluster, services=[actions.target.service])
        primary = next((d for d in found["services"][0]["deployments"] if d.get("status") == "PRIMARY"), {})
        return primary.get("taskDefinition") == bad

    def follow(self, sim: Simulator) -> list[str]:
        """End in the model the bad deploys whose revision no longer serves; returns the services it ended them on."""
        ended = []
        for service in list(self.bad_revisions):
            if self.still_bad(service):
                continue
            state = sim.states[service]
            sim.states[service] = state.model_copy(
                update={"faults": tuple(f for f in state.faults if f.fault != FaultKind.BAD_DEPLOY)}
            )
            del self.bad_revisions[service]
            ended.append(service)
        return ended
