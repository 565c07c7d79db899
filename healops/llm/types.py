"""The reasoner's input (an incident context) and output (a diagnosis and a ranked plan), as pydantic models.

Two output shapes: :class:`WireAnswer` is what a model is asked to return (parameters as a JSON
string, so the schema stays strict and the same for Gemini and OpenAI's structured outputs);
:class:`ReasonerPlan` is what leaves the reasoner once validated against the catalog.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from healops.models.incident import INCIDENT_ID_PATTERN, SERVICE_NAME_PATTERN, Severity

ACTION_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,47}$"
ReasonerBlastRadius = Literal["none", "service", "dependents", "fleet"]
MAX_PLAN_ACTIONS = 5


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ActionSpec(_Model):
    """One catalog entry as the reasoner sees it (the catalog itself belongs to healops.remediation)."""

    name: str = Field(pattern=ACTION_NAME_PATTERN)
    description: str = Field(max_length=300)
    parameters_schema: dict[str, Any] = Field(
        default_factory=lambda: {"type": "object", "properties": {}, "additionalProperties": False},
        description="JSON schema of the action's parameters (the target service is separate)",
    )
    blast_radius: ReasonerBlastRadius = "service"


class SignalSummary(_Model):
    """A signal that opened (or joined) the incident, with its detector's score."""

    name: str = Field(max_length=64, description="metric or detector name, e.g. ErrorRate")
    service: str = Field(pattern=SERVICE_NAME_PATTERN)
    score: float = Field(description="anomaly score or threshold ratio; higher is more anomalous")
    value: float | None = None
    detail: str = Field(default="", max_length=500, description="untrusted: may quote labels")


class MetricSummary(_Model):
    """A compact summary of one recent metric series."""

    service: str = Field(pattern=SERVICE_NAME_PATTERN)
    metric: str = Field(max_length=64)
    last: float
    mean: float
    max: float
    baseline: float | None = Field(default=None, description="typical value before the incident")
    slope_per_min: float | None = Field(default=None, description="trend; positive means rising")


class LogExcerpt(_Model):
    """One log line quoted from a service (untrusted)."""

    service: str = Field(pattern=SERVICE_NAME_PATTERN)
    line: str
    at: str | None = None


class PastRemediation(_Model):
    """What was done for a similar incident before, and how it ended."""

    kind: str = Field(max_length=64)
    service: str = Field(pattern=SERVICE_NAME_PATTERN)
    action: str = Field(pattern=ACTION_NAME_PATTERN)
    outcome: Literal["resolved", "failed", "escalated"]
    this_incident: bool = Field(
        default=False,
        description="tried on this incident before it reopened: whatever it did then did not hold",
    )


class RecentDeploy(_Model):
    """A version change on a service shortly before the incident (from the fleet's state)."""

    service: str = Field(pattern=SERVICE_NAME_PATTERN)
    version: str = Field(max_length=64)
    previous_version: str | None = Field(default=None, max_length=64)
    minutes_before: float = Field(ge=0, description="minutes between the deploy and the incident")


class IncidentContext(_Model):
    """Everything the reasoner may look at for one incident."""

    incident_id: str = Field(pattern=INCIDENT_ID_PATTERN)
    episode: int = Field(default=0, ge=0, description="0, or n after the incident's n-th reopen (not in the prompt)")
    service: str = Field(pattern=SERVICE_NAME_PATTERN, description="the root: the detector localized the fault here")
    root_reason: str = Field(default="", max_length=500, description="why the detector rooted the incident here")
    linked: list[str] = Field(
        default_factory=list,
        description="services the detector linked to this incident (their symptoms are this root's fault)",
    )
    kind: str = Field(max_length=64, description="what the detector saw, e.g. error_rate, disk_exhaustion")
    severity: Severity = Severity.MEDIUM
    opened_at: str
    summary: str = Field(default="", max_length=2000)
    signals: list[SignalSummary] = Field(default_factory=list)
    metrics: list[MetricSummary] = Field(default_factory=list)
    logs: list[LogExcerpt] = Field(default_factory=list)
    graph: dict[str, list[str]] = Field(
        default_factory=dict,
        description="service -> services it depends on: the incident's service, its dependencies and its dependents",
    )
    catalog: list[ActionSpec] = Field(min_length=1)
    history: list[PastRemediation] = Field(default_factory=list)
    deploys: list[RecentDeploy] = Field(default_factory=list)

    def actionable_services(self) -> set[str]:
        """Where a plan may act: the root, and the services the detector linked to this incident. A fault on
        any other neighbour is that neighbour's own incident's business."""
        return {self.service, *self.linked}

    def known_services(self) -> set[str]:
        known = {self.service, *self.graph}
        for deps in self.graph.values():
            known.update(deps)
        return known

    def action(self, name: str) -> ActionSpec | None:
        return next((spec for spec in self.catalog if spec.name == name), None)


# ---- What a model returns (strict schema: every field required, no extra keys) -------------------


class WireDiagnosis(_Model):
    root_cause: str = Field(description="one or two sentences")
    fault_kind: str = Field(description="e.g. cpu_saturation, memory_leak, disk_exhaustion, bad_deploy")
    affected_services: list[str]
    confidence: float = Field(description="0 to 1")
    evidence: list[str] = Field(description="short facts from the context that support the diagnosis")


class WireAction(_Model):
    action: str = Field(description="a catalog action name, exactly")
    service: str = Field(description="the service to act on")
    parameters: str = Field(description="a JSON object with the action's parameters, per its schema")
    rationale: str = Field(description="why this action, in one sentence")


class WireAnswer(_Model):
    diagnosis: WireDiagnosis
    plan: list[WireAction] = Field(description="ranked, best first; at most 5")


# ---- What leaves the reasoner ----------------------------------------------------------------------


class Diagnosis(_Model):
    root_cause: str = Field(max_length=600)
    fault_kind: str = Field(max_length=64)
    affected_services: list[str]
    confidence: float = Field(ge=0.0, le=1.0)
    evidence: list[str] = Field(default_factory=list, max_length=10)


class ProposedAction(_Model):
    """A catalog action proposal, validated against the catalog; the guard still decides whether it runs."""

    action: str = Field(pattern=ACTION_NAME_PATTERN)
    service: str = Field(pattern=SERVICE_NAME_PATTERN)
    parameters: dict[str, Any] = Field(default_factory=dict)
    rationale: str = Field(default="", max_length=400)
    blast_radius: ReasonerBlastRadius = "service"


class ReasonerPlan(_Model):
    diagnosis: Diagnosis
    actions: list[ProposedAction] = Field(max_length=MAX_PLAN_ACTIONS)


class PlanOutcome(_Model):
    """The plan and how it was reached: which provider, whether the offline reasoner stepped in and why."""

    incident_id: str
    plan: ReasonerPlan
    provider: str = Field(description="the provider whose plan this is (offline after a fallback)")
    requested_provider: str
    model: str
    fallback_reason: str | None = None
    llm_calls: int = 0
    prompt_tokens: int = 0
    latency_ms: float = 0.0
    reused_call: str | None = Field(
        default=None, description="call_id of the recorded plan a repeated plan step reused (no model call)"
    )
