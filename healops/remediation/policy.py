"""The remediation limits: one JSON SSM parameter (``/<prefix>/remediation/policy``), read on each guard step.

Terraform writes it from ``var.remediation_policy``; an operator may change it at run time
(``aws ssm put-parameter --overwrite``): the next guard step follows. Times are in simulated
seconds (the fleet's clock), so they shrink with the embedded cloud's time scale.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from healops.models.errors import describe_validation_error
from healops.remediation.catalog import CATALOG
from healops.remediation.guard import BlastRadius, GuardPolicy


class RemediationLimits(BaseModel):
    model_config = ConfigDict(extra="forbid")

    allowed_actions: dict[str, list[str]] = Field(default_factory=lambda: {"*": list(CATALOG)})
    max_concurrent: int = Field(default=3, ge=1)
    cooldown_s: float = Field(default=300.0, ge=0)
    breaker_failures: int = Field(default=3, ge=1)
    breaker_window_s: float = Field(default=3600.0, gt=0)
    approval_blast_radius: str = Field(default="HIGH", pattern="^(NONE|LOW|MEDIUM|HIGH|CRITICAL)$")
    dry_run: bool = False
    max_attempts: int = Field(default=3, ge=1, le=10)
    # An incident that keeps coming back after fixes that verified is one the catalog only relieves (a leak
    # restarted): past this many reopens it goes to humans without another plan.
    max_reopens: int = Field(default=2, ge=0, le=10)

    def guard_policy(self) -> GuardPolicy:
        return GuardPolicy(
            allowed_actions={k: frozenset(v) for k, v in self.allowed_actions.items()},
            max_concurrent=self.max_concurrent,
            cooldown_s=self.cooldown_s,
            breaker_failures=self.breaker_failures,
            breaker_window_s=self.breaker_window_s,
            approval_blast_radius=BlastRadius[self.approval_blast_radius],
            dry_run=self.dry_run,
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
