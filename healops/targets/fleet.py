"""The fleet adapter over real targets: a configured ECS service or Lambda function is described and acted on
through its own API (healops/targets), every other service through the simulated fleet, unchanged.

The targets are Terraform's ``targets`` variable, read from the SSM document ``/<name_prefix>/targets``
(:func:`load_targets`). For a target, :meth:`TargetFleet.describe` reads the resource (task definition and its
revision before, desired count and memory; alias version and memory) over what the simulated fleet knows of a
service of that name (its baselines, for a demo fleet service), and :meth:`TargetFleet.apply` maps the catalog's
fleet action onto the kind's action:

=====================  ==========================================  =========================================
fleet action           ECS service                                 Lambda function
=====================  ==========================================  =========================================
restart                UpdateService(forceNewDeployment)           no meaning
scale_out / scale_in   UpdateService(desiredCount +/- replicas)    no meaning
rollback               UpdateService(the revision before)          UpdateAlias(the version before)
raise_memory_limit     a copied revision with more memory          UpdateFunctionConfiguration, publish, alias
throttle               no meaning                                  PutFunctionConcurrency (reserved x share)
clear_disk, failover   no meaning                                  no meaning
=====================  ==========================================  =========================================

An action with no meaning for the kind is refused before anything is called (:meth:`TargetFleet.refuses`, which
the guard asks). What the action asked for is returned in the outcome's ``changed`` (the :class:`ActionRecord`),
kept on the attempt, and :meth:`TargetFleet.confirm` reads the resource back against it.

Not yet: an act retried after a crash repeats the action (the simulated fleet's operation id has no home on the
resource), and the telemetry of a target is still the simulated fleet's (healops/targets/telemetry.py follows an
ECS target's rollback for the bad_deploy it injected).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, runtime_checkable

from healops.fleet.actions import ActionOutcome, InvalidActionError, parse_action_params
from healops.fleet.adapter import FleetAdapter, ServiceView, UnknownServiceError
from healops.targets.ecs import EcsServiceActions, revision_of
from healops.targets.lambda_function import LambdaFunctionActions
from healops.targets.model import (
    ActionRecord,
    EcsServiceState,
    EcsServiceTarget,
    LambdaFunctionState,
    LambdaFunctionTarget,
    TargetActionError,
    Verdict,
)

ECS_ACTIONS = frozenset({"restart", "scale_out", "scale_in", "rollback", "raise_memory_limit"})
LAMBDA_ACTIONS = frozenset({"rollback", "raise_memory_limit", "throttle"})
KIND_NAMES = {"ecs_service": "an ECS service", "lambda_function": "a Lambda function"}


@dataclass(frozen=True)
class ConfiguredTarget:
    """One entry of the targets document: the name incidents use, the resource, its dependencies."""

    name: str
    resource: EcsServiceTarget | LambdaFunctionTarget
    depends_on: tuple[str, ...] = ()
    target_group_arn: str | None = None

    @property
    def kind(self) -> str:
        return self.resource.kind


def parse_targets(document: dict[str, Any]) -> dict[str, ConfiguredTarget]:
    """The targets document (terraform/targets.tf) by name; a malformed entry is an error naming it."""
    found: dict[str, ConfiguredTarget] = {}
    try:
        for entry in document.get("ecs_services") or []:
            found[entry["name"]] = ConfiguredTarget(
                entry["name"],
                EcsServiceTarget(entry["cluster"], entry["service"]),
                tuple(entry.get("depends_on") or ()),
                entry.get("target_group_arn"),
            )
        for entry in document.get("lambda_functions") or []:
            found[entry["name"]] = ConfiguredTarget(
                entry["name"],
                LambdaFunctionTarget(entry["function_name"], entry["alias"]),
                tuple(entry.get("depends_on") or ()),
            )
    except (KeyError, TypeError) as exc:
        raise ValueError(
            f"targets document entry lacks {exc}: ecs_services need name, cluster, service; lambda_functions need "
            "name, function_name, alias"
        ) from None
    return found


def load_targets(ssm: Any, parameter: str | None) -> dict[str, ConfiguredTarget]:
    """The targets written by Terraform to ``parameter``; none when no parameter is configured."""
    if not parameter:
        return {}
    value = ssm.get_parameter(Name=parameter)["Parameter"]["Value"]
    return parse_targets(json.loads(value))


def record_from_dict(data: dict[str, Any]) -> ActionRecord:
    """An :class:`ActionRecord` back from :meth:`ActionRecord.to_dict` (as the attempt keeps it)."""
    if data["kind"] == "ecs_service":
        target: EcsServiceTarget | LambdaFunctionTarget = EcsServiceTarget(**data["target"])
        before: Any = EcsServiceState(**data["before"])
        after: Any = EcsServiceState(**data["after"])
    else:
        target = LambdaFunctionTarget(**data["target"])
        before, after = LambdaFunctionState(**data["before"]), LambdaFunctionState(**data["after"])
    return ActionRecord(data["action"], target, before, after, dict(data["expected"]))


@runtime_checkable
class KindAwareFleet(Protocol):
    """A fleet some of whose services are real resources of a kind: the guard asks it what has no meaning."""

    def refuses(self, service: str, action: str) -> str | None: ...

    def confirm(self, service: str, record: dict[str, Any]) -> Verdict | None: ...


@dataclass
class TargetFleet:
    """:class:`FleetAdapter` over the configured targets, the simulated fleet for every other service."""

    simulated: FleetAdapter
    targets: dict[str, ConfiguredTarget]
    ecs: Any = None
    autoscaling: Any = None
    lambda_client: Any = None
    _actions: dict[str, Any] = field(default_factory=dict, repr=False)

    def actions_for(self, name: str) -> EcsServiceActions | LambdaFunctionActions:
        if name not in self._actions:
            resource = self.targets[name].resource
            self._actions[name] = (
                EcsServiceActions(resource, self.ecs, self.autoscaling)
                if isinstance(resource, EcsServiceTarget)
                else LambdaFunctionActions(resource, self.lambda_client)
            )
        return self._actions[name]

    # ---- FleetAdapter ----------------------------------------------------------------------------

    def services(self) -> list[str]:
        simulated = self.simulated.services()
        return simulated + sorted(set(self.targets) - set(simulated))

    def describe(self, service: str) -> ServiceView:
        if service not in self.targets:
            return self.simulated.describe(service)
        try:
            modelled: ServiceView | None = self.simulated.describe(service)
        except UnknownServiceError:
            modelled = None
        try:
            return self._describe_target(self.targets[service], modelled)
        except TargetActionError as exc:
            raise UnknownServiceError(f"target {service}: {exc}") from None

    def apply(
        self, service: str, action: Any, params: dict[str, Any] | None = None, operation_id: str | None = None
    ) -> ActionOutcome:
        if service not in self.targets:
            return self.simulated.apply(service, action, params, operation_id)
        refused = self.refuses(service, action)
        if refused:
            raise InvalidActionError(refused)
        parsed = parse_action_params(action, params)
        actions = self.actions_for(service)
        try:
            record = self._act(actions, action, parsed)
        except TargetActionError as exc:
            raise InvalidActionError(f"{action} on {service}: {exc}") from None
        expected = ", ".join(f"{k} {v}" for k, v in record.expected.items())
        message = f"{action} on {service} ({record.target.kind}): {expected}"
        return ActionOutcome(action, service, record.to_dict(), [], message)

    # ---- what the guard and verify ask -----------------------------------------------------------

    def refuses(self, service: str, action: str) -> str | None:
        """Why ``action`` has no meaning for ``service``'s kind, or None (also for a simulated service)."""
        target = self.targets.get(service)
        if target is None or action is None:
            return None
        allowed = ECS_ACTIONS if isinstance(target.resource, EcsServiceTarget) else LAMBDA_ACTIONS
        if action in allowed:
            return None
        accepted = ", ".join(sorted(allowed))
        return f"{action} has no meaning for {service}, {KIND_NAMES[target.kind]}: it accepts {accepted}"

    def confirm(self, service: str, record: dict[str, Any]) -> Verdict | None:
        """The resource read back against what the action asked for; None for a simulated service."""
        if service not in self.targets or not record:
            return None
        return self.actions_for(service).verify(record_from_dict(record))

    # ---- the targets' own APIs -------------------------------------------------------------------

    def _describe_target(self, target: ConfiguredTarget, modelled: ServiceView | None) -> ServiceView:
        actions = self.actions_for(target.name)
        base = modelled or ServiceView(
            service=target.name,
            tier="app",
            depends_on=target.depends_on,
            replicas=0,
            version="",
            previous_version=None,
            cpu_cores=0.0,
            memory_limit_mb=0,
            disk_gb=0.0,
            throttle_pct=0.0,
            record_version=0,
        )
        extra = {**base.extra, "kind": target.kind}
        if isinstance(actions, EcsServiceActions):
            state = actions.state()
            definition = actions.ecs.describe_task_definition(taskDefinition=state.task_definition)["taskDefinition"]
            try:
                previous: str | None = _short(actions.previous_revision(state.task_definition))
            except TargetActionError:
                previous = None
            return replace(
                base,
                depends_on=target.depends_on or base.depends_on,
                replicas=state.desired_count,
                version=_short(state.task_definition),
                previous_version=previous,
                memory_limit_mb=int(definition.get("memory") or _containers_memory(definition)),
                extra={**extra, "task_definition": state.task_definition, "rollout_state": state.rollout_state},
            )
        state_fn = actions.state()
        versions = actions._published_versions()  # the same reading rollback makes
        earlier = [v for v in versions if v.isdigit() and int(v) < int(state_fn.alias_version or 0)]
        return replace(
            base,
            depends_on=target.depends_on or base.depends_on,
            version=state_fn.alias_version,
            previous_version=max(earlier, key=int) if earlier else None,
            memory_limit_mb=state_fn.memory_size_mb,
            extra={**extra, "reserved_concurrency": state_fn.reserved_concurrency},
        )

    @staticmethod
    def _act(actions: EcsServiceActions | LambdaFunctionActions, action: str, params: Any) -> ActionRecord:
        if isinstance(actions, EcsServiceActions):
            if action == "restart":
                return actions.restart()
            if action in ("scale_out", "scale_in"):
                current = actions.state().desired_count
                step = params.replicas or max(1, current)  # unsized: double, or halve
                return actions.scale(current + step if action == "scale_out" else max(0, current - step))
            if action == "rollback":
                return actions.rollback()
            return actions.raise_memory(params.factor)
        if action == "rollback":
            return actions.rollback()
        if action == "raise_memory_limit":
            return actions.raise_memory(params.factor)
        reserved = actions.state().reserved_concurrency
        if reserved is None:
            raise TargetActionError(
                "throttle sheds a share of the function's reserved concurrency, and it has none set: "
                "PutFunctionConcurrency needs a figure a human chooses"
            )
        return actions.throttle(int(reserved * (1 - params.percent / 100)))


def _short(task_definition_arn: str) -> str:
    """``family:revision`` of a task definition ARN: the version a person reads (and a planner is shown)."""
    family, revision = revision_of(task_definition_arn)
    return f"{family}:{revision}"


def _containers_memory(definition: dict[str, Any]) -> int:
    return sum(int(c.get("memory") or 0) for c in definition.get("containerDefinitions", []))
