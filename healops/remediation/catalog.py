"""The action catalog: every remediation Heal-Ops may run, as a typed entry.

Each entry names the fleet action it performs (``no_op_observe`` performs none), its parameters
(a pydantic model: validation here, its JSON schema for the reasoner's catalog description), its
blast radius (the guard asks a human at or above the configured level), its own cooldown (the guard
waits the larger of it and the policy's after the service's last action), the
preconditions the service's observable state must meet, the compensation that undoes it where
one exists (run when the action did not help: healops/remediation/engine.py), and the verification
rule: which metrics must be back in band, how soon.

Pure: no AWS. A reasoner only ever chooses among these entries; :func:`validate_proposal` turns
a proposal into a checked :class:`ActionRequest` or says what was wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from healops.fleet.adapter import ServiceView
from healops.llm.types import ActionSpec, ReasonerBlastRadius
from healops.models.errors import describe_validation_error
from healops.remediation.guard import BlastRadius


class NoParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ScaleOutParams(NoParams):
    replicas: int | None = Field(default=None, ge=1, le=50, description="replicas to add (default: as many again)")


class ScaleInParams(NoParams):
    replicas: int | None = Field(default=None, ge=1, le=50, description="replicas to remove (default: half)")


class ThrottleParams(NoParams):
    percent: float = Field(default=30.0, ge=5.0, le=90.0, description="share of incoming traffic to shed")


class MemoryLimitParams(NoParams):
    factor: float = Field(default=2.0, gt=1.0, le=4.0, description="new memory limit = old limit x factor")


class ObserveParams(NoParams):
    ticks: int = Field(default=3, ge=1, le=30, description="ticks to watch before deciding again")


@dataclass(frozen=True)
class VerificationRule:
    """Recovered when each of ``metrics`` is in band for ``stable_ticks`` consecutive ticks, read
    from ``settle_ticks`` after the action; not recovered if that has not happened ``within_ticks``."""

    metrics: tuple[str, ...]
    settle_ticks: int = 1
    stable_ticks: int = 2
    within_ticks: int = 6


def watch_for_ticks(rule: VerificationRule, params: BaseModel) -> VerificationRule:
    """no_op_observe's rule: verification starts after the ``ticks`` it watches, its window kept as long."""
    ticks = int(getattr(params, "ticks", rule.settle_ticks))
    return replace(rule, settle_ticks=ticks, within_ticks=ticks + rule.within_ticks - rule.settle_ticks)


# A precondition returns None when it holds, or the reason it does not.
Precondition = Callable[[ServiceView, BaseModel], "str | None"]


def has_previous_version(view: ServiceView, _: BaseModel) -> str | None:
    if not view.previous_version:
        return f"{view.service} has no previous version to roll back to (running {view.version})"
    return None


def replicas_left(view: ServiceView, params: BaseModel) -> int:
    """The replicas a scale-in with ``params`` leaves (its default removes half, at least one)."""
    return view.replicas - (getattr(params, "replicas", None) or max(1, view.replicas // 2))


def more_than_one_replica(view: ServiceView, params: BaseModel) -> str | None:
    if replicas_left(view, params) < 1:
        remove = view.replicas - replicas_left(view, params)
        return f"{view.service} runs {view.replicas} replica(s): removing {remove} would leave none"
    return None


def below_max_replicas(view: ServiceView, params: BaseModel) -> str | None:
    add = getattr(params, "replicas", None) or view.replicas
    if view.replicas + add > 1000:
        return f"{view.service} would exceed 1000 replicas ({view.replicas} + {add})"
    return None


@dataclass(frozen=True)
class Compensation:
    """The fleet action that undoes an entry, with its parameters from the service before the entry acted
    (``before``: the fields of :data:`UNDOABLE`) and now; None when nothing is left to undo."""

    fleet_action: str
    params: Callable[[Mapping[str, Any], ServiceView], dict[str, Any] | None]
    note: str


UNDOABLE = ("replicas", "throttle_pct")  # the service's fields a compensation restores


def view_before(view: ServiceView) -> dict[str, Any]:
    """What a compensation needs to know of the service before an action."""
    return {name: getattr(view, name) for name in UNDOABLE}


def _remove_added(before: Mapping[str, Any], now: ServiceView) -> dict[str, Any] | None:
    added = now.replicas - int(before["replicas"])
    return {"replicas": added} if added > 0 else None


def _add_removed(before: Mapping[str, Any], now: ServiceView) -> dict[str, Any] | None:
    removed = int(before["replicas"]) - now.replicas
    return {"replicas": removed} if removed > 0 else None


def _restore_throttle(before: Mapping[str, Any], now: ServiceView) -> dict[str, Any] | None:
    earlier = float(before["throttle_pct"])
    return {"percent": earlier} if now.throttle_pct != earlier else None


@dataclass(frozen=True)
class CatalogEntry:
    name: str
    description: str
    fleet_action: str | None
    params: type[NoParams]
    blast_radius: BlastRadius
    cooldown_s: float
    verification: VerificationRule
    preconditions: tuple[Precondition, ...] = ()
    compensation: Compensation | None = None
    # The rule for the parameters an attempt carries (None: ``verification`` whatever they are).
    verification_by_params: Callable[[VerificationRule, BaseModel], VerificationRule] | None = None

    def verification_for(self, params: BaseModel) -> VerificationRule:
        """The verification rule of one attempt with ``params`` (validated against :attr:`params`)."""
        if self.verification_by_params is None:
            return self.verification
        return self.verification_by_params(self.verification, params)

    def parameters_schema(self) -> dict[str, Any]:
        schema = self.params.model_json_schema()
        schema.pop("title", None)
        schema.setdefault("properties", {})
        schema["additionalProperties"] = False
        return schema

    def spec(self) -> ActionSpec:
        """The entry as the reasoner sees it."""
        return ActionSpec(
            name=self.name,
            description=self.description,
            parameters_schema=self.parameters_schema(),
            blast_radius=REASONER_BLAST_RADIUS[self.blast_radius],
        )

    def fleet_params(self, params: BaseModel) -> dict[str, Any]:
        """The parameters the fleet adapter takes for this action."""
        return params.model_dump()

    def unmet_preconditions(self, view: ServiceView, params: BaseModel) -> list[str]:
        return [reason for check in self.preconditions if (reason := check(view, params)) is not None]


REASONER_BLAST_RADIUS: dict[BlastRadius, ReasonerBlastRadius] = {
    BlastRadius.NONE: "none",
    BlastRadius.LOW: "service",
    BlastRadius.MEDIUM: "service",
    BlastRadius.HIGH: "dependents",
    BlastRadius.CRITICAL: "fleet",
}

AVAILABILITY = ("Heartbeat", "ErrorRate")

CATALOG: dict[str, CatalogEntry] = {
    e.name: e
    for e in (
        CatalogEntry(
            "restart_service",
            "Restart every replica of the service: clears crashed processes, stuck connections, "
            "poisoned caches and leaked memory (a leak resumes afterwards).",
            "restart",
            NoParams,
            BlastRadius.MEDIUM,
            cooldown_s=300,
            verification=VerificationRule((*AVAILABILITY, "MemoryUtilization")),
        ),
        CatalogEntry(
            "scale_out",
            "Add replicas: more capacity for a traffic surge or CPU saturation.",
            "scale_out",
            ScaleOutParams,
            BlastRadius.MEDIUM,
            cooldown_s=300,
            verification=VerificationRule(("CPUUtilization", "ErrorRate", "LatencyP99")),
            preconditions=(below_max_replicas,),
            compensation=Compensation("scale_in", _remove_added, "remove the replicas it added"),
        ),
        CatalogEntry(
            "scale_in",
            "Remove replicas once load has fallen (frees capacity; never below one).",
            "scale_in",
            ScaleInParams,
            BlastRadius.MEDIUM,
            cooldown_s=600,
            verification=VerificationRule(("CPUUtilization", "ErrorRate")),
            preconditions=(more_than_one_replica,),
            compensation=Compensation("scale_out", _add_removed, "add back the replicas it removed"),
        ),
        CatalogEntry(
            "rollback_deploy",
            "Roll the service back to its previous version: undoes a bad deploy, or a leak shipped with it.",
            "rollback",
            NoParams,
            BlastRadius.HIGH,
            cooldown_s=900,
            verification=VerificationRule(("ErrorRate", "LatencyP99", "MemoryUtilization")),
            preconditions=(has_previous_version,),
        ),
        CatalogEntry(
            "clear_disk",
            "Delete what filled the disk (logs, temp files) back to the service's baseline usage.",
            "clear_disk",
            NoParams,
            BlastRadius.MEDIUM,
            cooldown_s=300,
            verification=VerificationRule(("DiskUtilization", "ErrorRate")),
        ),
        CatalogEntry(
            "raise_memory_limit",
            "Raise the memory limit per replica: buys time before an OOM kill; does not stop a leak.",
            "raise_memory_limit",
            MemoryLimitParams,
            BlastRadius.MEDIUM,
            cooldown_s=600,
            verification=VerificationRule(("MemoryUtilization", "ErrorRate")),
        ),
        CatalogEntry(
            "failover",
            "Move the service's traffic to its standby: escapes a failing instance set or network path.",
            "failover",
            NoParams,
            BlastRadius.HIGH,
            cooldown_s=900,
            verification=VerificationRule((*AVAILABILITY, "LatencyP99")),
        ),
        CatalogEntry(
            "throttle_traffic",
            "Shed a share of incoming traffic at the edge: eases saturation and storms while the cause is fixed.",
            "throttle",
            ThrottleParams,
            BlastRadius.MEDIUM,
            cooldown_s=300,
            verification=VerificationRule(("CPUUtilization", "ErrorRate", "LatencyP99")),
            compensation=Compensation("throttle", _restore_throttle, "lift the throttle it set"),
        ),
        CatalogEntry(
            "no_op_observe",
            "Change nothing; watch the service for a few ticks, for signals that may clear by themselves.",
            None,
            ObserveParams,
            BlastRadius.NONE,
            cooldown_s=0,
            verification=VerificationRule(("ErrorRate", "CPUUtilization", "LatencyP99", "Heartbeat"), settle_ticks=3),
            verification_by_params=watch_for_ticks,
        ),
    )
}


class InvalidProposalError(ValueError):
    """A proposal naming an unknown action or carrying parameters off its schema."""


@dataclass(frozen=True)
class ActionRequest:
    entry: CatalogEntry
    service: str
    params: NoParams

    @property
    def name(self) -> str:
        return self.entry.name


def entry(name: str) -> CatalogEntry:
    try:
        return CATALOG[name]
    except KeyError:
        raise InvalidProposalError(f"action: unknown action {name!r}; accepted: {', '.join(CATALOG)}") from None


def validate_proposal(action: str, service: str, parameters: dict[str, Any] | None) -> ActionRequest:
    """A checked request for ``action`` on ``service``; :class:`InvalidProposalError` names what was wrong."""
    found = entry(action)
    try:
        params = found.params.model_validate(parameters or {})
    except ValidationError as exc:
        raise InvalidProposalError(f"parameters of {action}: {describe_validation_error(exc)}") from None
    return ActionRequest(found, service, params)


def catalog_specs() -> list[ActionSpec]:
    """The catalog as the reasoner's incident context describes it."""
    return [e.spec() for e in CATALOG.values()]
