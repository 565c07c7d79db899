"""The incident message (detector → SQS → remediator) and the plan step's input and output."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# The incident id names the Step Functions execution, so it must be a valid execution name:
# 1 to 80 characters; letters, digits, '-' and '_' keep it valid and safe in logs and URLs.
INCIDENT_ID_PATTERN = r"^[A-Za-z0-9_-]{1,80}$"
# Service names as the fleet and the alarms spell them (lower case, digits, '-').
SERVICE_NAME_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"


class Severity(StrEnum):
    """How bad an incident is, lowest first (the values are the stored and wire strings)."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class IncidentMessage(BaseModel):
    """One incident, as the detector enqueues it and the state machine receives it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    incident_id: str = Field(pattern=INCIDENT_ID_PATTERN, description="Deterministic id; names the execution")
    service: str = Field(pattern=SERVICE_NAME_PATTERN, description="The affected fleet service")
    kind: str = Field(min_length=1, max_length=64, description="What was detected, e.g. error_rate")
    opened_at: datetime = Field(description="When the incident was opened (ISO-8601, with a time zone)")
    severity: Severity = Severity.MEDIUM
    summary: str = Field(default="", max_length=2000, description="One human-readable line")
    episode: int = Field(default=0, ge=0, description="0 when first opened, n after the n-th reopen")

    @property
    def execution_name(self) -> str:
        """The remediation execution's name: one per episode, so a redelivery starts nothing new
        and a reopened incident starts a fresh execution."""
        return self.incident_id if self.episode == 0 else f"{self.incident_id[:72]}-r{self.episode}"


class PlanRequest(BaseModel):
    """The state machine's Plan task input: ``{"step": "plan", "incident": {...}}``."""

    model_config = ConfigDict(extra="forbid")

    step: Literal["plan"]
    incident: IncidentMessage


class PlanResult(BaseModel):
    """What the Plan task returns; an empty ``actions`` list means nothing can be done: escalate."""

    incident_id: str
    actions: list[dict[str, Any]] = Field(default_factory=list)
    reason: str
