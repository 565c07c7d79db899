"""The remediation limits: one JSON SSM parameter (``/<prefix>/remediation/policy``), read on each guard step.

The deployed default is one file, ``default_policy.json`` next to this module: Terraform reads it
(``jsondecode(file(...))``) and writes it, with whatever ``var.remediation_policy`` overrides, to the parameter;
:class:`RemediationLimits` takes its defaults from the same file, so the benches run what a user gets. An
operator may change the parameter at run time (``aws ssm put-parameter --overwrite``): the next guard step
follows. Times are in simulated seconds (the fleet's clock), so they shrink with the embedded cloud's time scale.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from healops.models.errors import describe_validation_error
from healops.remediation.catalog import CATALOG
from healops.remediation.guard import BlastRadius, GuardPolicy, approval_reasons

DEFAULT_POLICY_FILE = "default_policy.json"
# The deployed default policy (terraform/orchestration.tf reads the same file).
DEFAULT_POLICY: dict[str, Any] = json.loads(resources.files(__package__).joinpath(DEFAULT_POLICY_FILE).read_text())


class RemediationLimits(BaseModel):
    model_config = ConfigDict(extra="forbid")

    allowed_actions: dict[str, list[str]] = Field(
        default_factory=lambda: {k: list(v) for k, v in DEFAULT_POLICY["allowed_actions"].items()}
    )
    max_concurrent: int = Field(default=DEFAULT_POLICY["max_concurrent"], ge=1)
    cooldown_s: float = Field(default=DEFAULT_POLICY["cooldown_s"], ge=0)
    breaker_failures: int = Field(default=DEFAULT_POLICY["breaker_failures"], ge=1)
    breaker_window_s: float = Field(default=DEFAULT_POLICY["breaker_window_s"], gt=0)
    approval_blast_radius: str = Field(
        default=DEFAULT_POLICY["approval_blast_radius"], pattern="^(NONE|LOW|MEDIUM|HIGH|CRITICAL)$"
    )
    dry_run: bool = DEFAULT_POLICY["dry_run"]
    max_attempts: int = Field(default=DEFAULT_POLICY["max_attempts"], ge=1, le=10)
    # An incident that keeps coming back after fixes that verified is one the catalog only relieves (a leak
    # restarted): past this many reopens it goes to humans without another plan.
    max_reopens: int = Field(default=DEFAULT_POLICY["max_reopens"], ge=0, le=10)
    # Who approves what (docs/architecture.md, "Who approves what"): an action on another service than the
    # incident's, a scale-in below the floor, and the actions listed here (per service, or "*") wait for a human.
    approve_other_services: bool = DEFAULT_POLICY["approve_other_services"]
    scale_in_floor: int = Field(default=DEFAULT_POLICY["scale_in_floor"], ge=0, le=1000)
    approval_actions: dict[str, list[str]] = Field(
        default_factory=lambda: {k: list(v) for k, v in DEFAULT_POLICY["approval_actions"].items()}
    )

    def guard_policy(self) -> GuardPolicy:
        return GuardPolicy(
            allowed_actions={k: frozenset(v) for k, v in self.allowed_actions.items()},
            max_concurrent=self.max_concurrent,
            cooldown_s=self.cooldown_s,
            breaker_failures=self.breaker_failures,
            breaker_window_s=self.breaker_window_s,
            approval_blast_radius=BlastRadius[self.approval_blast_radius],
            dry_run=self.dry_run,
            approve_other_services=self.approve_other_services,
            scale_in_floor=self.scale_in_floor,
            approval_actions={k: frozenset(v) for k, v in self.approval_actions.items()},
        )


class InvalidLimitsError(ValueError):
    """The policy parameter is not valid JSON or breaks a limit's range."""


def parse_limits(raw: str | dict[str, Any] | None) -> RemediationLimits:
    try:
        data = json.loads(raw) if isinstance(raw, str) else (raw or {})
        return RemediationLimits.model_validate(data)
    except json.JSONDecodeError as exc:
        raise InvalidLimitsError(f"remediation policy: not JSON ({exc.msg})") from None
    except ValidationError as exc:
        raise InvalidLimitsError(f"remediation policy: {describe_validation_error(exc)}") from None


def load_limits(ssm_client: Any, parameter_name: str | None) -> RemediationLimits:
    """The limits in ``parameter_name`` (defaults when unnamed); a bad value is an error, not a silent default."""
    if not parameter_name:
        return RemediationLimits()
    value = ssm_client.get_parameter(Name=parameter_name)["Parameter"]["Value"]
    return parse_limits(value)


@dataclass(frozen=True)
class ApprovalRow:
    """Who approves one catalog action under a policy: ``auto``, ``approval`` (or ``refused``: off the allow-list)
    on the incident's own service and on another, and what else asks a human (a scale-in's floor, services listing
    it)."""

    action: str
    own_service: str
    other_service: str
    also: str


def approval_table(policy: GuardPolicy) -> list[ApprovalRow]:
    """The policy's answer for every catalog action (docs/architecture.md, "Who approves what"), for a service
    with no list of its own in ``approval_actions``; services that list an action are named in ``also``."""
    rows = []
    for name, entry in CATALOG.items():

        def asks(service: str, name: str = name, blast: BlastRadius = entry.blast_radius) -> str:
            if not policy.allows(service, name):
                return "refused"  # off the allow-list
            return "approval" if approval_reasons(policy, service, name, blast, "(own)", None) else "auto"

        also = [f"fewer than {policy.scale_in_floor} replicas left"] if name == "scale_in" else []
        listed = sorted(s for s, names in policy.approval_actions.items() if s != "*" and name in names)
        also += [f"on {', '.join(listed)}"] if listed else []
        rows.append(ApprovalRow(name, asks("(own)"), asks("(another)"), "; ".join(also)))
    return rows
