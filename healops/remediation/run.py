"""The state one remediation execution carries from step to step (``$.run`` in the state machine).

Each Lambda step takes the run and returns it with ``route`` set; the state machine's Choice
states only follow ``route``, so the decisions live here in Python, unit-tested, and the ASL
stays a thin loop: plan → guard → (approval) → act → wait → verify → resolved | next | escalate.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from healops.models.incident import IncidentMessage
from healops.models.remediation import Route


class Candidate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: str
    service: str
    parameters: dict[str, Any] = Field(default_factory=dict)
    rationale: str = ""


class CurrentAttempt(BaseModel):
    model_config = ConfigDict(extra="forbid")

    attempt_id: str
    action: str
    service: str
    acted_at: float | None = Field(default=None, description="epoch seconds (real) when the action ended")
    acted_tick: int | None = None


class RunState(BaseModel):
    model_config = ConfigDict(extra="forbid")

    incident: IncidentMessage
    planner: str
    diagnosis: str = ""
    candidates: list[Candidate] = Field(default_factory=list)
    index: int = Field(default=0, description="the candidate the guard looks at next")
    attempts: int = 0
    first_attempt: int = Field(default=0, description="attempts of earlier episodes of a reopened incident")
    max_attempts: int = 3
    dry_run: bool = False
    current: CurrentAttempt | None = None
    route: Route = Route.GUARD
    wait_s: int = Field(default=60, description="simulated seconds for the next Wait state")
    tried: list[str] = Field(default_factory=list, description="one line per attempt, for the escalation")
